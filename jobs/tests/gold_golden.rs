//! Golden test of the accidents datamart's Gold tables (SPEC sections 2-4).
//!
//! A hand-made Silver lake of 35 rows (31 accepted, 4 rejected) over CA, TX and NY is run through the
//! real `medallion run accidents-datamart` binary (embedded mode) and every Gold table is read back
//! with plain DataFusion. Every expected value below is worked out by hand from SPEC.md, with the
//! arithmetic in a comment next to it; nothing is computed by re-implementing the job.
//!
//! Severities of the 31 accepted rows, used all over the arithmetic:
//!   CA (13): c01 3, c02 2, c03 4, c04 1, c05 3, c06 2, c07 2, c08 3, c09 1, c10 2, c11 2, c12 3, c13 4
//!            sum 32
//!   TX  (6): t01 2, t02 3, t03 2, t04 2, t05 4, t06 1                                  sum 14
//!   NY (12): n01 2, n02 2, n03 3, n04 1, n05 2, n06 3, n07 4, n08 2, n09 1, n10 3, n11 4, n12 4
//!            sum 31
//!   all 31 accepted rows: sum 32 + 14 + 31 = 77.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::*;
use medallion_jobs::accidents::schema::INFRASTRUCTURE_FLAGS;

/// Settings of the golden run: hotspot groups need only 3 accidents, keep the top 50.
const GOLDEN_SETTINGS: [&str; 4] = [
    "--set",
    "hotspot_min_accidents=3",
    "--set",
    "hotspot_top=50",
];

#[allow(clippy::too_many_arguments)]
fn a(
    id: &'static str,
    state: Option<&'static str>,
    city: Option<&'static str>,
    severity: Option<i32>,
    start_time: Option<&'static str>,
    (lat, lng): (Option<f64>, Option<f64>),
    distance_mi: Option<f64>,
    temperature_f: Option<f64>,
    visibility_mi: Option<f64>,
    weather_condition: Option<&'static str>,
    flags_true: &'static [&'static str],
    flags_null: &'static [&'static str],
) -> Accident {
    Accident {
        id,
        state,
        city,
        severity,
        start_time,
        lat,
        lng,
        distance_mi,
        temperature_f,
        visibility_mi,
        weather_condition,
        flags_true,
        flags_null,
    }
}

const LA: Option<&str> = Some("Los Angeles");
const SF: Option<&str> = Some("San Francisco");
const GLENDALE: Option<&str> = Some("Glendale");
const HOUSTON: Option<&str> = Some("Houston");
const NYC: Option<&str> = Some("New York");
const CA: Option<&str> = Some("CA");
const TX: Option<&str> = Some("TX");
const NY: Option<&str> = Some("NY");

fn at(lat: f64, lng: f64) -> (Option<f64>, Option<f64>) {
    (Some(lat), Some(lng))
}

/// The Silver rows. Coordinates are chosen away from 0.1° cell edges (lat·10 and lng·10 never close to
/// an integer), so the cell of each point is unambiguous:
///   Los Angeles cell (floor(340.x), floor(-1182.x)) = (340, -1183), centre (34.05, -118.25)
///   San Francisco cell (377, -1225), centre (37.75, -122.45)
///   Houston cell (297, -954), centre (29.75, -95.35)
///   New York cell (407, -740), centre (40.75, -73.95)
#[rustfmt::skip]
fn golden_rows() -> Vec<Accident> {
    vec![
        // ---- CA
        a("c01", CA, LA, Some(3), Some("2021-03-05 08:15:00"), at(34.03, -118.22), Some(0.5), Some(39.9), Some(0.5), Some("Light Rain with Thunder"), &["traffic_signal", "crossing"], &[]),
        a("c02", CA, LA, Some(2), Some("2021-03-12 17:40:00"), at(34.06, -118.27), Some(1.2), Some(40.0), Some(10.0), Some("Light Freezing Rain"), &[], &["stop", "bump"]),
        a("c03", CA, LA, Some(4), Some("2021-03-20 08:05:00"), at(34.07, -118.24), Some(0.0), Some(85.0), None, Some("Heavy T-Storm"), &["junction"], &[]),
        a("c04", CA, LA, Some(1), Some("2021-02-14 23:59:59"), at(34.04, -118.21), Some(2.5), Some(85.1), Some(1.0), Some("Fair / Windy"), &["traffic_signal"], &[]),
        // city NULL, in the Los Angeles cell: in the CA state rows, in no city row, in no hotspot.
        a("c05", CA, None, Some(3), Some("2021-02-03 08:30:00"), at(34.02, -118.26), Some(0.8), None, Some(3.0), Some("Haze"), &[], &[]),
        // no coordinates: in the Los Angeles city row, in no hotspot.
        a("c06", CA, LA, Some(2), Some("2021-04-01 12:00:00"), (None, None), None, Some(60.0), Some(0.9), Some("Overcast"), &["crossing"], &[]),
        // Los Angeles but cell (341, -1184): a group of 1.
        a("c07", CA, LA, Some(2), Some("2021-01-10 07:00:00"), at(34.15, -118.31), Some(0.3), Some(70.0), Some(10.0), Some("Mostly Cloudy"), &[], &[]),
        // Glendale, in the Los Angeles cell: a group (CA, Glendale, cell) of 1.
        a("c08", CA, GLENDALE, Some(3), Some("2021-06-15 08:45:00"), at(34.04, -118.23), Some(1.0), Some(55.0), Some(10.0), Some("Drizzle and Fog"), &["stop"], &[]),
        a("c09", CA, SF, Some(1), Some("2020-11-26 14:20:00"), at(37.77, -122.42), Some(0.1), Some(50.0), Some(10.0), Some("Clear"), &[], &[]),
        a("c10", CA, SF, Some(2), Some("2022-01-05 09:10:00"), at(37.78, -122.41), Some(0.2), Some(33.0), Some(2.0), Some("Light Snow Shower"), &[], &[]),
        a("c11", CA, SF, Some(2), Some("2022-01-19 18:30:00"), at(37.76, -122.43), Some(0.4), Some(45.0), Some(0.5), Some("Showers in the Vicinity"), &["traffic_signal", "crossing"], &[]),
        a("c12", CA, LA, Some(3), Some("2022-01-28 08:20:00"), at(34.03, -118.26), Some(0.6), Some(92.0), Some(10.0), Some("N/A Precipitation"), &[], &[]),
        a("c13", CA, GLENDALE, Some(4), Some("2021-01-22 03:15:00"), at(34.14, -118.28), Some(1.5), Some(48.0), Some(10.0), Some("Squalls"), &[], &[]),
        // ---- TX
        a("t01", TX, HOUSTON, Some(2), Some("2019-05-06 16:30:00"), at(29.76, -95.37), Some(0.7), Some(88.0), Some(5.0), Some("Thunderstorms and Rain"), &["traffic_signal"], &[]),
        a("t02", TX, HOUSTON, Some(3), Some("2019-05-20 08:10:00"), at(29.72, -95.33), Some(1.1), Some(75.0), Some(10.0), Some("Rain"), &[], &[]),
        a("t03", TX, HOUSTON, Some(2), Some("2019-07-04 22:00:00"), at(29.78, -95.39), Some(0.9), None, Some(0.2), Some("Patches of Fog"), &["crossing"], &[]),
        // every flag NULL: counts as no flag.
        a("t04", TX, Some("Austin"), Some(2), Some("2020-02-10 08:00:00"), at(30.27, -97.74), Some(0.0), Some(40.0), Some(10.0), Some("Partly Cloudy"), &[], &INFRASTRUCTURE_FLAGS),
        a("t05", TX, Some("Dallas"), Some(4), Some("2020-12-24 19:45:00"), at(32.78, -96.80), Some(3.2), Some(30.0), Some(0.8), Some("Wintry Mix"), &[], &[]),
        // Houston but cell (299, -955).
        a("t06", TX, HOUSTON, Some(1), Some("2021-08-15 13:00:00"), at(29.95, -95.48), Some(0.5), Some(95.0), Some(10.0), Some("Fair"), &["traffic_signal", "stop"], &[]),
        // ---- NY
        a("n01", NY, Some("Buffalo"), Some(2), Some("2021-12-10 07:45:00"), at(42.88, -78.87), Some(0.3), Some(20.0), Some(0.25), Some("Heavy Snow"), &[], &[]),
        a("n02", NY, Some("Albany"), Some(2), Some("2022-03-01 17:05:00"), at(42.65, -73.75), Some(0.4), Some(35.0), Some(10.0), Some(""), &["traffic_signal"], &[]),
        // n03, n04: a New York group of 2 in cell (407, -741), below the 3-accident threshold.
        a("n03", NY, NYC, Some(3), Some("2021-07-04 21:30:00"), at(40.71, -74.01), Some(0.2), Some(86.0), Some(10.0), None, &["crossing", "traffic_signal", "junction"], &[]),
        a("n04", NY, NYC, Some(1), Some("2022-03-15 08:55:00"), at(40.75, -74.02), Some(0.1), Some(65.0), Some(10.0), Some("Smoke"), &["amenity"], &[]),
        // n05, n06, n08: the New York hotspot, cell (407, -740).
        a("n05", NY, NYC, Some(2), Some("2021-07-18 14:10:00"), at(40.73, -73.99), None, Some(78.0), Some(10.0), Some("Funnel Cloud"), &[], &[]),
        a("n06", NY, NYC, Some(3), Some("2021-11-02 06:30:00"), at(40.76, -73.98), Some(0.6), Some(45.0), Some(0.5), Some("light DRIZZLE"), &["stop"], &[]),
        // n07, n09: a New York group of 2 in cell (406, -740).
        a("n07", NY, NYC, Some(4), Some("2022-03-20 02:10:00"), at(40.65, -73.94), Some(1.3), Some(28.0), Some(0.4), Some("Light Freezing Fog"), &[], &[]),
        a("n08", NY, NYC, Some(2), Some("2021-05-05 16:00:00"), at(40.72, -73.95), Some(0.5), Some(60.0), Some(10.0), Some("Mist"), &[], &[]),
        a("n09", NY, NYC, Some(1), Some("2021-09-09 10:00:00"), at(40.68, -73.97), Some(0.7), Some(72.0), Some(10.0), Some("CLEAR"), &["junction"], &[]),
        a("n10", NY, NYC, Some(3), Some("2022-06-01 11:11:00"), at(40.84, -73.87), Some(0.8), Some(80.0), Some(10.0), Some("Hail"), &[], &[]),
        a("n11", NY, NYC, Some(4), Some("2022-06-02 15:45:00"), at(40.61, -74.08), Some(0.9), Some(31.0), Some(10.0), Some("Sleet"), &[], &[]),
        a("n12", NY, NYC, Some(4), Some("2021-10-10 20:20:00"), at(40.58, -74.15), Some(0.2), Some(55.0), Some(10.0), Some("Tornado"), &[], &[]),
        // ---- rejected (SPEC 2: no state or start_time, or severity outside 1..4), all placed where they
        // would change the Los Angeles / Houston numbers if they were counted.
        a("r01", CA, LA, Some(5), Some("2021-03-05 08:40:00"), at(34.06, -118.23), Some(0.1), Some(60.0), Some(10.0), Some("Clear"), &["traffic_signal"], &[]),
        a("r02", TX, HOUSTON, Some(0), Some("2019-05-06 09:00:00"), at(29.75, -95.36), Some(0.1), Some(60.0), Some(10.0), Some("Rain"), &[], &[]),
        a("r03", None, LA, Some(2), Some("2021-03-06 08:00:00"), at(34.03, -118.23), Some(0.1), Some(60.0), Some(10.0), Some("Fog"), &[], &[]),
        a("r04", CA, LA, Some(2), None, at(34.04, -118.22), Some(0.1), Some(60.0), Some(10.0), Some("Fog"), &["crossing"], &[]),
    ]
}

const ACCEPTED: i64 = 31;
const REJECTED: i64 = 4;

/// Runs the job once over the Parquet lake (shared by the tests of this file) and returns its sink.
fn golden_out() -> &'static Path {
    static GOLDEN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let result = GOLDEN.get_or_init(|| {
        // The output stays for inspection after the run; outputs of runs older than an hour go.
        if let Ok(entries) = std::fs::read_dir(env!("CARGO_TARGET_TMPDIR")) {
            for entry in entries.flatten() {
                let old = entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|m| m.elapsed().ok())
                    .is_some_and(|age| age.as_secs() > 3600);
                if old
                    && entry
                        .file_name()
                        .to_string_lossy()
                        .starts_with("gold-golden-")
                {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
        let root = tempfile::Builder::new()
            .prefix("gold-golden-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap()
            .keep();
        let lake = write_lake(&root.join("lake"), &golden_rows(), Format::Parquet);
        let out = root.join("gold");
        let output = run_datamart(&lake, &out, &GOLDEN_SETTINGS);
        if output.status.success() {
            Ok(out)
        } else {
            Err(format!(
                "golden run over {} exited with {:?}\n--- stdout\n{}\n--- stderr\n{}",
                lake.display(),
                output.status.code(),
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    });
    match result {
        Ok(out) => out,
        Err(e) => panic!("{e}"),
    }
}

async fn golden() -> Gold {
    Gold::open(golden_out()).await
}

// -------------------------------------------------------------------------------------------------
// accidents_summary
// -------------------------------------------------------------------------------------------------

#[tokio::test]
async fn accidents_summary_golden() {
    let gold = golden().await;
    assert!(
        matches!(
            gold.column_type("accidents_summary", "accident_date").await,
            datafusion::arrow::datatypes::DataType::Date32
                | datafusion::arrow::datatypes::DataType::Date64
        ),
        "accident_date is a DATE"
    );
    assert_eq!(
        gold.column_type("accidents_summary", "safety_score").await,
        datafusion::arrow::datatypes::DataType::Float64,
        "safety_score is DOUBLE"
    );
    let rows = gold
        .rows(
            "SELECT id, state, city, CAST(severity AS BIGINT) AS severity_c, CAST(accident_date AS VARCHAR) AS accident_date_c, \
             CAST(accident_hour AS BIGINT) AS accident_hour_c, weather_category, temperature_category, \
             CAST(infrastructure_count AS BIGINT) AS infrastructure_count_c, safety_score, distance_miles \
             FROM accidents_summary ORDER BY id",
        )
        .await;
    // One row per accepted accident: 35 Silver rows - 4 rejected (r01 severity 5, r02 severity 0,
    // r03 no state, r04 no start_time) = 31; no r* id.
    //
    // weather_category: first matching rule, case-insensitive (storm > snow > rain > fog > cloudy >
    // clear; NULL/'' unknown; else other). temperature_category: < 40 cold, > 85 hot, else mild, NULL
    // unknown. safety_score = clamp(100 - 20(sev-1) - w + 2·flags - v, 0, 100) with w = storm 15,
    // snow 12, fog 10, rain 6, else 0; v = 10 when visibility < 1 (NULL visibility: not < 1 -> 0).
    #[rustfmt::skip]
    let expected = vec![
        // "Light Rain with Thunder": thunder -> storm before rain. 39.9 < 40 cold. 2 flags, vis 0.5:
        // 100 - 40 - 15 + 4 - 10 = 39
        vec![s("c01"), s("CA"), s("Los Angeles"), i(3), s("2021-03-05"), i(8), s("storm"), s("cold"), i(2), f(39.0), f(0.5)],
        // "Light Freezing Rain": freezing -> snow before rain. 40.0 is not < 40: mild. stop/bump NULL -> 0
        // flags: 100 - 20 - 12 = 68
        vec![s("c02"), s("CA"), s("Los Angeles"), i(2), s("2021-03-12"), i(17), s("snow"), s("mild"), i(0), f(68.0), f(1.2)],
        // "Heavy T-Storm": storm. 85.0 is not > 85: mild. vis NULL -> v 0: 100 - 60 - 15 + 2 = 27
        vec![s("c03"), s("CA"), s("Los Angeles"), i(4), s("2021-03-20"), i(8), s("storm"), s("mild"), i(1), f(27.0), f(0.0)],
        // "Fair / Windy": clear. 85.1 hot. vis 1.0 is not < 1: 100 - 0 - 0 + 2 - 0 = 102 -> clamped 100.
        // 23:59:59 stays on 2021-02-14, hour 23.
        vec![s("c04"), s("CA"), s("Los Angeles"), i(1), s("2021-02-14"), i(23), s("clear"), s("hot"), i(1), f(100.0), f(2.5)],
        // "Haze": fog. temp NULL: unknown. city NULL kept. 100 - 40 - 10 = 50
        vec![s("c05"), s("CA"), NULL, i(3), s("2021-02-03"), i(8), s("fog"), s("unknown"), i(0), f(50.0), f(0.8)],
        // "Overcast": cloudy. vis 0.9 < 1: 100 - 20 - 0 + 2 - 10 = 72. distance NULL.
        vec![s("c06"), s("CA"), s("Los Angeles"), i(2), s("2021-04-01"), i(12), s("cloudy"), s("mild"), i(1), f(72.0), NULL],
        // "Mostly Cloudy": cloudy. 100 - 20 = 80
        vec![s("c07"), s("CA"), s("Los Angeles"), i(2), s("2021-01-10"), i(7), s("cloudy"), s("mild"), i(0), f(80.0), f(0.3)],
        // "Drizzle and Fog": drizzle -> rain before fog. 100 - 40 - 6 + 2 = 56
        vec![s("c08"), s("CA"), s("Glendale"), i(3), s("2021-06-15"), i(8), s("rain"), s("mild"), i(1), f(56.0), f(1.0)],
        // "Clear": clear. 100 - 0 = 100 (no clamp needed)
        vec![s("c09"), s("CA"), s("San Francisco"), i(1), s("2020-11-26"), i(14), s("clear"), s("mild"), i(0), f(100.0), f(0.1)],
        // "Light Snow Shower": snow before shower/rain. 33 cold. vis 2: 100 - 20 - 12 = 68
        vec![s("c10"), s("CA"), s("San Francisco"), i(2), s("2022-01-05"), i(9), s("snow"), s("cold"), i(0), f(68.0), f(0.2)],
        // "Showers in the Vicinity": shower -> rain. vis 0.5: 100 - 20 - 6 + 4 - 10 = 68
        vec![s("c11"), s("CA"), s("San Francisco"), i(2), s("2022-01-19"), i(18), s("rain"), s("mild"), i(2), f(68.0), f(0.4)],
        // "N/A Precipitation": no rule matches -> other (w 0). 92 hot. 100 - 40 = 60
        vec![s("c12"), s("CA"), s("Los Angeles"), i(3), s("2022-01-28"), i(8), s("other"), s("hot"), i(0), f(60.0), f(0.6)],
        // "Squalls": squall -> storm. 100 - 60 - 15 = 25
        vec![s("c13"), s("CA"), s("Glendale"), i(4), s("2021-01-22"), i(3), s("storm"), s("mild"), i(0), f(25.0), f(1.5)],
        // "Heavy Snow": snow. 20 cold. vis 0.25: 100 - 20 - 12 - 10 = 58
        vec![s("n01"), s("NY"), s("Buffalo"), i(2), s("2021-12-10"), i(7), s("snow"), s("cold"), i(0), f(58.0), f(0.3)],
        // "" -> unknown (w 0). 35 cold. 100 - 20 + 2 = 82
        vec![s("n02"), s("NY"), s("Albany"), i(2), s("2022-03-01"), i(17), s("unknown"), s("cold"), i(1), f(82.0), f(0.4)],
        // NULL weather -> unknown. 86 hot. 3 flags: 100 - 40 + 6 = 66
        vec![s("n03"), s("NY"), s("New York"), i(3), s("2021-07-04"), i(21), s("unknown"), s("hot"), i(3), f(66.0), f(0.2)],
        // "Smoke": fog. 100 - 0 - 10 + 2 = 92
        vec![s("n04"), s("NY"), s("New York"), i(1), s("2022-03-15"), i(8), s("fog"), s("mild"), i(1), f(92.0), f(0.1)],
        // "Funnel Cloud": cloud -> cloudy. distance NULL. 100 - 20 = 80
        vec![s("n05"), s("NY"), s("New York"), i(2), s("2021-07-18"), i(14), s("cloudy"), s("mild"), i(0), f(80.0), NULL],
        // "light DRIZZLE": case-insensitive rain. vis 0.5: 100 - 40 - 6 + 2 - 10 = 46
        vec![s("n06"), s("NY"), s("New York"), i(3), s("2021-11-02"), i(6), s("rain"), s("mild"), i(1), f(46.0), f(0.6)],
        // "Light Freezing Fog": freezing -> snow before fog. 28 cold. vis 0.4: 100 - 60 - 12 - 10 = 18
        vec![s("n07"), s("NY"), s("New York"), i(4), s("2022-03-20"), i(2), s("snow"), s("cold"), i(0), f(18.0), f(1.3)],
        // "Mist": fog. 100 - 20 - 10 = 70
        vec![s("n08"), s("NY"), s("New York"), i(2), s("2021-05-05"), i(16), s("fog"), s("mild"), i(0), f(70.0), f(0.5)],
        // "CLEAR": clear. 100 + 2 = 102 -> clamped 100
        vec![s("n09"), s("NY"), s("New York"), i(1), s("2021-09-09"), i(10), s("clear"), s("mild"), i(1), f(100.0), f(0.7)],
        // "Hail": storm. 100 - 40 - 15 = 45
        vec![s("n10"), s("NY"), s("New York"), i(3), s("2022-06-01"), i(11), s("storm"), s("mild"), i(0), f(45.0), f(0.8)],
        // "Sleet": snow. 31 cold. 100 - 60 - 12 = 28
        vec![s("n11"), s("NY"), s("New York"), i(4), s("2022-06-02"), i(15), s("snow"), s("cold"), i(0), f(28.0), f(0.9)],
        // "Tornado": storm. 100 - 60 - 15 = 25
        vec![s("n12"), s("NY"), s("New York"), i(4), s("2021-10-10"), i(20), s("storm"), s("mild"), i(0), f(25.0), f(0.2)],
        // "Thunderstorms and Rain": storm. 88 hot. 100 - 20 - 15 + 2 = 67
        vec![s("t01"), s("TX"), s("Houston"), i(2), s("2019-05-06"), i(16), s("storm"), s("hot"), i(1), f(67.0), f(0.7)],
        // "Rain": rain. 100 - 40 - 6 = 54
        vec![s("t02"), s("TX"), s("Houston"), i(3), s("2019-05-20"), i(8), s("rain"), s("mild"), i(0), f(54.0), f(1.1)],
        // "Patches of Fog": fog. temp NULL unknown. vis 0.2: 100 - 20 - 10 + 2 - 10 = 62
        vec![s("t03"), s("TX"), s("Houston"), i(2), s("2019-07-04"), i(22), s("fog"), s("unknown"), i(1), f(62.0), f(0.9)],
        // "Partly Cloudy": cloudy. 40.0 mild. all 13 flags NULL -> 0. 100 - 20 = 80
        vec![s("t04"), s("TX"), s("Austin"), i(2), s("2020-02-10"), i(8), s("cloudy"), s("mild"), i(0), f(80.0), f(0.0)],
        // "Wintry Mix": snow. 30 cold. vis 0.8: 100 - 60 - 12 - 10 = 18
        vec![s("t05"), s("TX"), s("Dallas"), i(4), s("2020-12-24"), i(19), s("snow"), s("cold"), i(0), f(18.0), f(3.2)],
        // "Fair": clear. 95 hot. 100 + 4 = 104 -> clamped 100
        vec![s("t06"), s("TX"), s("Houston"), i(1), s("2021-08-15"), i(13), s("clear"), s("hot"), i(2), f(100.0), f(0.5)],
    ];
    assert_eq!(expected.len() as i64, ACCEPTED);
    assert_rows("accidents_summary", &rows, &expected);
}

// -------------------------------------------------------------------------------------------------
// kpis_security
// -------------------------------------------------------------------------------------------------

#[tokio::test]
async fn kpis_security_golden() {
    let gold = golden().await;
    let ln = f64::ln;
    let select = "SELECT state, city, CAST(accident_count AS BIGINT) AS accident_count_c, severity_avg, accident_rate_per_100k, \
                  danger_index, CAST(hotspot_rank AS BIGINT) AS hotspot_rank_c FROM kpis_security";

    // City rows (city NOT NULL), ranked by danger_index = severity_avg · ln(1 + count) desc, count desc,
    // state asc, city asc. rate is NULL on city rows.
    let cities = gold
        .rows(&format!(
            "{select} WHERE city IS NOT NULL ORDER BY hotspot_rank"
        ))
        .await;
    #[rustfmt::skip]
    let expected_cities = vec![
        // New York n03..n12: 3+1+2+3+4+2+1+3+4+4 = 27 / 10 = 2.7; 2.7·ln 11 = 6.4743
        vec![s("NY"), s("New York"), i(10), f(2.7), NULL, f(2.7 * ln(11.0)), i(1)],
        // Los Angeles c01,c02,c03,c04,c06,c07,c12: 3+2+4+1+2+2+3 = 17 / 7; (17/7)·ln 8 = 5.0501
        vec![s("CA"), s("Los Angeles"), i(7), f(17.0 / 7.0), NULL, f(17.0 / 7.0 * ln(8.0)), i(2)],
        // Glendale c08, c13: (3+4)/2 = 3.5; 3.5·ln 3 = 3.8451
        vec![s("CA"), s("Glendale"), i(2), f(3.5), NULL, f(3.5 * ln(3.0)), i(3)],
        // Houston t01,t02,t03,t06: (2+3+2+1)/4 = 2.0; 2·ln 5 = 3.2189
        vec![s("TX"), s("Houston"), i(4), f(2.0), NULL, f(2.0 * ln(5.0)), i(4)],
        // Dallas t05: 4·ln 2 = 2.7726
        vec![s("TX"), s("Dallas"), i(1), f(4.0), NULL, f(4.0 * ln(2.0)), i(5)],
        // San Francisco c09,c10,c11: (1+2+2)/3 = 5/3; (5/3)·ln 4 = 2.3105
        vec![s("CA"), s("San Francisco"), i(3), f(5.0 / 3.0), NULL, f(5.0 / 3.0 * ln(4.0)), i(6)],
        // Albany, Buffalo, Austin: 1 accident of severity 2 each -> 2·ln 2 = 1.3863, same count:
        // state asc (NY < TX), then city asc (Albany < Buffalo).
        vec![s("NY"), s("Albany"), i(1), f(2.0), NULL, f(2.0 * ln(2.0)), i(7)],
        vec![s("NY"), s("Buffalo"), i(1), f(2.0), NULL, f(2.0 * ln(2.0)), i(8)],
        vec![s("TX"), s("Austin"), i(1), f(2.0), NULL, f(2.0 * ln(2.0)), i(9)],
    ];
    assert_rows("kpis_security city rows", &cities, &expected_cities);

    // State rows (city NULL): all of the state's accepted accidents, including CA's NULL-city c05.
    // rate = count · 100000 / population (data/state_population.csv).
    let states = gold
        .rows(&format!(
            "{select} WHERE city IS NULL ORDER BY hotspot_rank"
        ))
        .await;
    #[rustfmt::skip]
    let expected_states = vec![
        // NY: 12 accidents, 31/12 = 2.5833; (31/12)·ln 13 = 6.6261
        vec![s("NY"), NULL, i(12), f(31.0 / 12.0), f(12.0 * 100000.0 / population("NY")), f(31.0 / 12.0 * ln(13.0)), i(1)],
        // CA: 13 accidents (Los Angeles 17 + Glendale 7 + San Francisco 5 + c05 3 = 32), 32/13 = 2.4615;
        // (32/13)·ln 14 = 6.4961
        vec![s("CA"), NULL, i(13), f(32.0 / 13.0), f(13.0 * 100000.0 / population("CA")), f(32.0 / 13.0 * ln(14.0)), i(2)],
        // TX: 6 accidents, 14/6 = 2.3333; (7/3)·ln 7 = 4.5405
        vec![s("TX"), NULL, i(6), f(14.0 / 6.0), f(6.0 * 100000.0 / population("TX")), f(7.0 / 3.0 * ln(7.0)), i(3)],
    ];
    assert_rows("kpis_security state rows", &states, &expected_states);

    // severity_distribution: a JSON object with all four keys "1".."4".
    let dists = gold
        .rows(
            "SELECT state, city, severity_distribution FROM kpis_security \
             ORDER BY state, city NULLS FIRST",
        )
        .await;
    let expected_dists: Vec<(&str, Option<&str>, [u64; 4])> = vec![
        // CA state: sev 1 c04,c09; 2 c02,c06,c07,c10,c11; 3 c01,c05,c08,c12; 4 c03,c13
        ("CA", None, [2, 5, 4, 2]),
        ("CA", Some("Glendale"), [0, 0, 1, 1]), // c08 3, c13 4
        ("CA", Some("Los Angeles"), [1, 3, 2, 1]), // c04 | c02,c06,c07 | c01,c12 | c03
        ("CA", Some("San Francisco"), [1, 2, 0, 0]), // c09 | c10,c11
        // NY state: 1 n04,n09; 2 n01,n02,n05,n08; 3 n03,n06,n10; 4 n07,n11,n12
        ("NY", None, [2, 4, 3, 3]),
        ("NY", Some("Albany"), [0, 1, 0, 0]),
        ("NY", Some("Buffalo"), [0, 1, 0, 0]),
        ("NY", Some("New York"), [2, 2, 3, 3]),
        // TX state: 1 t06; 2 t01,t03,t04; 3 t02; 4 t05
        ("TX", None, [1, 3, 1, 1]),
        ("TX", Some("Austin"), [0, 1, 0, 0]),
        ("TX", Some("Dallas"), [0, 0, 0, 1]),
        ("TX", Some("Houston"), [1, 2, 1, 0]), // t06 | t01,t03 | t02
    ];
    assert_eq!(
        dists.len(),
        expected_dists.len(),
        "kpis_security rows: {dists:?}"
    );
    for (row, (state, city, counts)) in dists.iter().zip(&expected_dists) {
        assert_eq!(row[0], s(state), "{row:?}");
        assert_eq!(row[1], opt_s(*city), "{row:?}");
        let text = row[2]
            .as_str()
            .unwrap_or_else(|| panic!("severity_distribution is text: {row:?}"));
        let json: serde_json::Value = serde_json::from_str(text)
            .unwrap_or_else(|e| panic!("severity_distribution {text:?} is not JSON: {e}"));
        let object = json
            .as_object()
            .unwrap_or_else(|| panic!("severity_distribution {text:?} is not an object"));
        let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["1", "2", "3", "4"], "{state} {city:?}: {text}");
        for (k, expected) in counts.iter().enumerate() {
            let got = object[&(k + 1).to_string()].as_f64();
            assert_eq!(
                got,
                Some(*expected as f64),
                "{state} {city:?} severity {}: {text}",
                k + 1
            );
        }
    }

    // last_updated is set on every row.
    let nulls = gold
        .rows("SELECT CAST(COUNT(*) AS BIGINT) FROM kpis_security WHERE last_updated IS NULL")
        .await;
    assert_eq!(nulls[0][0], i(0), "kpis_security.last_updated NULL");
}

// -------------------------------------------------------------------------------------------------
// kpis_temporal
// -------------------------------------------------------------------------------------------------

fn up() -> Val {
    s("up")
}
fn down() -> Val {
    s("down")
}
fn stable() -> Val {
    s("stable")
}

const TEMPORAL_SELECT: &str = "SELECT period_type, period_value, CAST(accident_count AS BIGINT) AS accident_count_c, severity_avg, \
                               trend_direction, seasonal_factor FROM kpis_temporal";

#[tokio::test]
async fn kpis_temporal_golden_california() {
    let gold = golden().await;
    let rows = gold
        .rows(&format!(
            "{TEMPORAL_SELECT} WHERE state = 'CA' ORDER BY period_type, period_value"
        ))
        .await;
    // CA accidents (id: start_time weekday, severity):
    //   c01 2021-03-05 08h Fri 3 | c02 2021-03-12 17h Fri 2 | c03 2021-03-20 08h Sat 4
    //   c04 2021-02-14 23h Sun 1 | c05 2021-02-03 08h Wed 3 | c06 2021-04-01 12h Thu 2
    //   c07 2021-01-10 07h Sun 2 | c08 2021-06-15 08h Tue 3 | c09 2020-11-26 14h Thu 1
    //   c10 2022-01-05 09h Wed 2 | c11 2022-01-19 18h Wed 2 | c12 2022-01-28 08h Fri 3
    //   c13 2021-01-22 03h Fri 4
    // trend_direction(values, 0.05): slope of values against 0..n-1, divided by their mean.
    #[rustfmt::skip]
    let expected = vec![
        // daily: 6 rows, 13 accidents: base 13/6; factor = count / (13/6) = 6·count/13. trend NULL.
        vec![s("daily"), s("Fri"), i(4), f(12.0 / 4.0), NULL, f(24.0 / 13.0)], // c01 3,c02 2,c12 3,c13 4
        vec![s("daily"), s("Sat"), i(1), f(4.0), NULL, f(6.0 / 13.0)],        // c03
        vec![s("daily"), s("Sun"), i(2), f(1.5), NULL, f(12.0 / 13.0)],       // c04 1, c07 2
        vec![s("daily"), s("Thu"), i(2), f(1.5), NULL, f(12.0 / 13.0)],       // c06 2, c09 1
        vec![s("daily"), s("Tue"), i(1), f(3.0), NULL, f(6.0 / 13.0)],        // c08
        vec![s("daily"), s("Wed"), i(3), f(7.0 / 3.0), NULL, f(18.0 / 13.0)], // c05 3,c10 2,c11 2
        // hourly: 9 rows, base 13/9; factor = 9·count/13. trend NULL.
        vec![s("hourly"), s("03"), i(1), f(4.0), NULL, f(9.0 / 13.0)],
        vec![s("hourly"), s("07"), i(1), f(2.0), NULL, f(9.0 / 13.0)],
        // 08h: c01 3, c03 4, c05 3, c08 3, c12 3 = 16/5 = 3.2; 5·9/13 = 45/13
        vec![s("hourly"), s("08"), i(5), f(3.2), NULL, f(45.0 / 13.0)],
        vec![s("hourly"), s("09"), i(1), f(2.0), NULL, f(9.0 / 13.0)],
        vec![s("hourly"), s("12"), i(1), f(2.0), NULL, f(9.0 / 13.0)],
        vec![s("hourly"), s("14"), i(1), f(1.0), NULL, f(9.0 / 13.0)],
        vec![s("hourly"), s("17"), i(1), f(2.0), NULL, f(9.0 / 13.0)],
        vec![s("hourly"), s("18"), i(1), f(2.0), NULL, f(9.0 / 13.0)],
        vec![s("hourly"), s("23"), i(1), f(1.0), NULL, f(9.0 / 13.0)],
        // monthly counts in order: 2020-11 1, 2021-01 2, 2021-02 2, 2021-03 3, 2021-04 1, 2021-06 1,
        // 2022-01 3 (7 rows, 13 accidents, mean 13/7). factor = mean of the same calendar month / (13/7):
        // January (2021-01 2, 2022-01 3) -> 2.5 / (13/7) = 17.5/13; the others appear once -> 7·count/13.
        // 2020-11 [1]: fewer than 3 values -> stable
        vec![s("monthly"), s("2020-11"), i(1), f(1.0), stable(), f(7.0 / 13.0)],
        // 2021-01 [1,2]: stable. c07 2, c13 4 -> avg 3
        vec![s("monthly"), s("2021-01"), i(2), f(3.0), stable(), f(17.5 / 13.0)],
        // 2021-02 [1,2,2]: x̄=1, slope = (-1·1 + 0·2 + 1·2)/2 = 0.5, mean 5/3 -> 0.3 > 0.05 up
        vec![s("monthly"), s("2021-02"), i(2), f(2.0), up(), f(14.0 / 13.0)],
        // 2021-03 [1,2,2,3]: x̄=1.5, Σ(x-x̄)y = -1.5-1+1+4.5 = 3, /Σ(x-x̄)²=5 -> 0.6, mean 2 -> 0.3 up
        vec![s("monthly"), s("2021-03"), i(3), f(3.0), up(), f(21.0 / 13.0)],
        // 2021-04 [1,2,2,3,1]: x̄=2, Σ = -2-2+0+3+2 = 1, /10 = 0.1, mean 1.8 -> 0.0556 > 0.05 up
        vec![s("monthly"), s("2021-04"), i(1), f(2.0), up(), f(7.0 / 13.0)],
        // 2021-06 [1,2,2,3,1,1]: x̄=2.5, Σ = -2.5-3-1+1.5+1.5+2.5 = -1, /17.5 = -0.0571, mean 10/6
        // -> -0.0343, within ±0.05: stable
        vec![s("monthly"), s("2021-06"), i(1), f(3.0), stable(), f(7.0 / 13.0)],
        // 2022-01: this row and the 5 preceding = [2,2,3,1,1,3] (2020-11 falls out of the window):
        // x̄=2.5, Σ = -5-3-1.5+0.5+1.5+7.5 = 0 -> stable. (All 7 rows [1,2,2,3,1,1,3] would give
        // Σ(x-3)y = -3-4-2+0+1+2+9 = 3, /28 = 0.107, /(13/7) = 0.058 -> 'up'.) c10 2,c11 2,c12 3 -> 7/3
        vec![s("monthly"), s("2022-01"), i(3), f(7.0 / 3.0), stable(), f(17.5 / 13.0)],
        // yearly: 2020 1, 2021 9, 2022 3 (mean 13/3); factor = 3·count/13.
        vec![s("yearly"), s("2020"), i(1), f(1.0), stable(), f(3.0 / 13.0)],
        // 2021: c01..c08, c13 = 3+2+4+1+3+2+2+3+4 = 24 / 9; [1,9] stable
        vec![s("yearly"), s("2021"), i(9), f(24.0 / 9.0), stable(), f(27.0 / 13.0)],
        // 2022: [1,9,3]: slope = (-1·1 + 1·3)/2 = 1, mean 13/3 -> 3/13 = 0.23 up
        vec![s("yearly"), s("2022"), i(3), f(7.0 / 3.0), up(), f(9.0 / 13.0)],
    ];
    assert_rows("kpis_temporal CA", &rows, &expected);
}

#[tokio::test]
async fn kpis_temporal_golden_texas_trends_down() {
    let gold = golden().await;
    let rows = gold
        .rows(&format!(
            "{TEMPORAL_SELECT} WHERE state = 'TX' AND period_type IN ('monthly', 'yearly') \
             ORDER BY period_type, period_value"
        ))
        .await;
    // TX: t01 2019-05 sev 2, t02 2019-05 3, t03 2019-07 2, t04 2020-02 2, t05 2020-12 4, t06 2021-08 1.
    #[rustfmt::skip]
    let expected = vec![
        // monthly counts 2, 1, 1, 1, 1 (5 rows, mean 6/5 = 1.2); each calendar month once -> count/1.2
        vec![s("monthly"), s("2019-05"), i(2), f(2.5), stable(), f(2.0 / 1.2)],
        vec![s("monthly"), s("2019-07"), i(1), f(2.0), stable(), f(1.0 / 1.2)],
        // [2,1,1]: slope (-2 + 1)/2 = -0.5, mean 4/3 -> -0.375 down
        vec![s("monthly"), s("2020-02"), i(1), f(2.0), down(), f(1.0 / 1.2)],
        // [2,1,1,1]: Σ(x-1.5)y = -3-0.5+0.5+1.5 = -1.5, /5 = -0.3, mean 1.25 -> -0.24 down
        vec![s("monthly"), s("2020-12"), i(1), f(4.0), down(), f(1.0 / 1.2)],
        // [2,1,1,1,1]: Σ(x-2)y = -4-1+0+1+2 = -2, /10 = -0.2, mean 1.2 -> -0.167 down
        vec![s("monthly"), s("2021-08"), i(1), f(1.0), down(), f(1.0 / 1.2)],
        // yearly 3, 2, 1 (mean 2): factor count/2
        vec![s("yearly"), s("2019"), i(3), f(7.0 / 3.0), stable(), f(1.5)],
        vec![s("yearly"), s("2020"), i(2), f(3.0), stable(), f(1.0)],
        // [3,2,1]: slope -1, mean 2 -> -0.5 down
        vec![s("yearly"), s("2021"), i(1), f(1.0), down(), f(0.5)],
    ];
    assert_rows("kpis_temporal TX monthly/yearly", &rows, &expected);
}

#[tokio::test]
async fn kpis_temporal_golden_all_states() {
    let gold = golden().await;

    // Rows per (period_type, state); state NULL = all states.
    //   CA: daily 6 (Fri Sat Sun Thu Tue Wed), hourly 9, monthly 7, yearly 3
    //   TX: daily 3 (Mon Thu Sun), hourly 5 (08 13 16 19 22), monthly 5, yearly 3
    //   NY: daily 5 (Fri Sun Thu Tue Wed), hourly 12 (02 06 07 08 10 11 14 15 16 17 20 21),
    //       monthly 8 (2021-05 07 09 10 11 12, 2022-03 06), yearly 2
    //   all: daily 7, hourly 20 (every hour but 00 01 04 05), monthly 20, yearly 4 (2019..2022)
    let counts = gold
        .rows(
            "SELECT period_type, state, CAST(COUNT(*) AS BIGINT) FROM kpis_temporal \
             GROUP BY period_type, state ORDER BY period_type, state NULLS LAST",
        )
        .await;
    #[rustfmt::skip]
    let expected_counts = vec![
        vec![s("daily"), s("CA"), i(6)], vec![s("daily"), s("NY"), i(5)], vec![s("daily"), s("TX"), i(3)], vec![s("daily"), NULL, i(7)],
        vec![s("hourly"), s("CA"), i(9)], vec![s("hourly"), s("NY"), i(12)], vec![s("hourly"), s("TX"), i(5)], vec![s("hourly"), NULL, i(20)],
        vec![s("monthly"), s("CA"), i(7)], vec![s("monthly"), s("NY"), i(8)], vec![s("monthly"), s("TX"), i(5)], vec![s("monthly"), NULL, i(20)],
        vec![s("yearly"), s("CA"), i(3)], vec![s("yearly"), s("NY"), i(2)], vec![s("yearly"), s("TX"), i(3)], vec![s("yearly"), NULL, i(4)],
    ];
    assert_rows(
        "kpis_temporal rows per (period_type, state)",
        &counts,
        &expected_counts,
    );

    // trend_direction is NULL on every hourly and daily row, set on every monthly and yearly row.
    let trends = gold
        .rows(
            "SELECT period_type, CAST(COUNT(trend_direction) AS BIGINT), CAST(COUNT(*) AS BIGINT) \
             FROM kpis_temporal GROUP BY period_type ORDER BY period_type",
        )
        .await;
    #[rustfmt::skip]
    let expected_trends = vec![
        vec![s("daily"), i(0), i(21)],   // 6 + 5 + 3 + 7
        vec![s("hourly"), i(0), i(46)],  // 9 + 12 + 5 + 20
        vec![s("monthly"), i(40), i(40)], // 7 + 8 + 5 + 20
        vec![s("yearly"), i(12), i(12)],  // 3 + 2 + 3 + 4
    ];
    assert_rows(
        "kpis_temporal trend_direction set",
        &trends,
        &expected_trends,
    );

    // Period value formats: hourly '00'..'23', daily 'Mon'..'Sun', monthly 'YYYY-MM', yearly 'YYYY'.
    let values = gold
        .rows("SELECT DISTINCT period_type, period_value FROM kpis_temporal")
        .await;
    for row in &values {
        let (kind, value) = (row[0].as_str().unwrap(), row[1].as_str().unwrap());
        let ok = match kind {
            "hourly" => value.len() == 2 && value.parse::<u32>().is_ok_and(|h| h < 24),
            "daily" => ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].contains(&value),
            "monthly" => {
                value.len() == 7
                    && value.as_bytes()[4] == b'-'
                    && value[..4].parse::<u32>().is_ok()
                    && value[5..]
                        .parse::<u32>()
                        .is_ok_and(|m| (1..=12).contains(&m))
            }
            "yearly" => value.len() == 4 && value.parse::<u32>().is_ok(),
            _ => false,
        };
        assert!(ok, "bad period_value {value:?} for period_type {kind:?}");
    }

    // All-states rows (state NULL): 31 accidents.
    let rows = gold
        .rows(&format!(
            "{TEMPORAL_SELECT} WHERE state IS NULL AND (period_type IN ('daily', 'yearly') \
             OR (period_type = 'hourly' AND period_value = '08') \
             OR (period_type = 'monthly' AND period_value IN ('2021-03', '2021-06', '2021-09', '2022-06'))) \
             ORDER BY period_type, period_value"
        ))
        .await;
    // Monthly counts of all states, in order (20 rows, 31 accidents, mean 31/20 = 1.55):
    //   2019-05 2, 2019-07 1, 2020-02 1, 2020-11 1, 2020-12 1, 2021-01 2, 2021-02 2, 2021-03 3,
    //   2021-04 1, 2021-05 1, 2021-06 1, 2021-07 2, 2021-08 1, 2021-09 1, 2021-10 1, 2021-11 1,
    //   2021-12 1, 2022-01 3, 2022-03 3, 2022-06 2
    #[rustfmt::skip]
    let expected = vec![
        // daily: 7 rows, base 31/7, factor 7·count/31.
        vec![s("daily"), s("Fri"), i(5), f(14.0 / 5.0), NULL, f(35.0 / 31.0)],  // c01 3,c02 2,c12 3,c13 4,n01 2
        vec![s("daily"), s("Mon"), i(3), f(7.0 / 3.0), NULL, f(21.0 / 31.0)],   // t01 2,t02 3,t04 2
        vec![s("daily"), s("Sat"), i(1), f(4.0), NULL, f(7.0 / 31.0)],          // c03 4
        vec![s("daily"), s("Sun"), i(7), f(17.0 / 7.0), NULL, f(49.0 / 31.0)],  // c04 1,c07 2,t06 1,n03 3,n05 2,n07 4,n12 4
        vec![s("daily"), s("Thu"), i(6), f(14.0 / 6.0), NULL, f(42.0 / 31.0)],  // c06 2,c09 1,t03 2,t05 4,n09 1,n11 4
        vec![s("daily"), s("Tue"), i(4), f(9.0 / 4.0), NULL, f(28.0 / 31.0)],   // c08 3,n02 2,n04 1,n06 3
        vec![s("daily"), s("Wed"), i(5), f(12.0 / 5.0), NULL, f(35.0 / 31.0)],  // c05 3,c10 2,c11 2,n08 2,n10 3
        // 08h: c01 3,c03 4,c05 3,c08 3,c12 3,t02 3,t04 2,n04 1 = 22/8 = 2.75; 20 hourly rows, base 31/20
        // = 1.55 -> 8/1.55
        vec![s("hourly"), s("08"), i(8), f(2.75), NULL, f(8.0 / 1.55)],
        // 2021-03: window 2020-02..2021-03 = [1,1,1,2,2,3]: Σ(x-2.5)y = -2.5-1.5-0.5+1+3+7.5 = 7, /17.5
        // = 0.4, mean 10/6 -> 0.24 up. March: (2021-03 3 + 2022-03 3)/2 = 3 -> 3/1.55
        vec![s("monthly"), s("2021-03"), i(3), f(3.0), up(), f(3.0 / 1.55)],
        // 2021-06 (c08 3): window 2021-01..2021-06 = [2,2,3,1,1,1]: Σ = -5-3-1.5+0.5+1.5+2.5 = -5,
        // /17.5 = -0.286, mean 10/6 -> -0.171 down. June: (1 + 2)/2 = 1.5 -> 1.5/1.55
        vec![s("monthly"), s("2021-06"), i(1), f(3.0), down(), f(1.5 / 1.55)],
        // 2021-09 (n09 1): window 2021-04..2021-09 = [1,1,1,2,1,1]: Σ = -2.5-1.5-0.5+1+1.5+2.5 = 0.5,
        // /17.5 = 0.0286, mean 7/6 -> 0.0245 stable. September once: 1/1.55
        vec![s("monthly"), s("2021-09"), i(1), f(1.0), stable(), f(1.0 / 1.55)],
        // 2022-06 (n10 3, n11 4): window 2021-10..2022-06 = [1,1,1,3,3,2]: Σ = -2.5-1.5-0.5+1.5+4.5+5
        // = 6.5, /17.5 = 0.371, mean 11/6 -> 0.203 up. June 1.5/1.55
        vec![s("monthly"), s("2022-06"), i(2), f(3.5), up(), f(1.5 / 1.55)],
        // yearly 3, 3, 17, 8 (mean 31/4 = 7.75), factor count/7.75
        // 2019: t01 2,t02 3,t03 2
        vec![s("yearly"), s("2019"), i(3), f(7.0 / 3.0), stable(), f(3.0 / 7.75)],
        // 2020: c09 1,t04 2,t05 4; [3,3] stable
        vec![s("yearly"), s("2020"), i(3), f(7.0 / 3.0), stable(), f(3.0 / 7.75)],
        // 2021: CA 24 (9 rows) + t06 1 + NY n01 2,n03 3,n05 2,n06 3,n08 2,n09 1,n12 4 = 17 -> 42/17;
        // [3,3,17]: slope (-3 + 17)/2 = 7, mean 23/3 -> 0.913 up
        vec![s("yearly"), s("2021"), i(17), f(42.0 / 17.0), up(), f(17.0 / 7.75)],
        // 2022: c10 2,c11 2,c12 3,n02 2,n04 1,n07 4,n10 3,n11 4 = 21/8; [3,17,8] (this + 2 preceding):
        // slope (-3 + 8)/2 = 2.5, mean 28/3 -> 0.268 up
        vec![s("yearly"), s("2022"), i(8), f(21.0 / 8.0), up(), f(8.0 / 7.75)],
    ];
    assert_rows("kpis_temporal all states", &rows, &expected);

    let nulls = gold
        .rows("SELECT CAST(COUNT(*) AS BIGINT) FROM kpis_temporal WHERE last_updated IS NULL")
        .await;
    assert_eq!(nulls[0][0], i(0), "kpis_temporal.last_updated NULL");
}

// -------------------------------------------------------------------------------------------------
// hotspots
// -------------------------------------------------------------------------------------------------

/// The hotspot rows expected with hotspot_min_accidents=3, in SPEC order (danger_score desc,
/// accident_count desc, state, city, latitude, longitude).
fn expected_hotspots() -> Vec<Vec<Val>> {
    let ln = f64::ln;
    let radius = |centre: (f64, f64), points: &[(f64, f64)]| {
        points
            .iter()
            .map(|p| haversine_miles(centre.0, centre.1, p.0, p.1))
            .fold(0.0, f64::max)
    };
    // Groups (state, city, cell) with at least 3 accidents that have a city and coordinates:
    //  - (CA, Los Angeles, 340, -1183): c01 3, c02 2, c03 4, c04 1, c12 3 -> 5, 13/5 = 2.6,
    //    2.6·ln 6 = 4.6586. Not in it: c05 (city NULL), c06 (no coordinates), c07 (cell 341/-1184),
    //    c08 (Glendale), rejected r01/r03/r04. Centre ((340+0.5)/10, (-1183+0.5)/10) = (34.05, -118.25);
    //    the farthest point is c04 (34.04, -118.21), about 2.392 miles.
    //  - (NY, New York, 407, -740): n05 2, n06 3, n08 2 -> 3, 7/3, (7/3)·ln 4 = 3.2347, centre (40.75, -73.95)
    //  - (TX, Houston, 297, -954): t01 2, t02 3, t03 2 -> 3, 7/3, (7/3)·ln 4 = 3.2347: same danger and count
    //    as New York, so state asc puts NY first. Centre (29.75, -95.35). (t06 is in cell 299/-955;
    //    rejected r02 is not counted.)
    //  - (CA, San Francisco, 377, -1225): c09 1, c10 2, c11 2 -> 3, 5/3, (5/3)·ln 4 = 2.3105, centre (37.75, -122.45)
    //  Left out with 2 accidents: New York (407, -741) n03+n04 and (406, -740) n07+n09.
    #[rustfmt::skip]
    let rows = vec![
        vec![s("CA"), s("Los Angeles"), f(34.05), f(-118.25), i(5), f(2.6), f(2.6 * ln(6.0)),
             f(radius((34.05, -118.25), &[(34.03, -118.22), (34.06, -118.27), (34.07, -118.24), (34.04, -118.21), (34.03, -118.26)]))],
        vec![s("NY"), s("New York"), f(40.75), f(-73.95), i(3), f(7.0 / 3.0), f(7.0 / 3.0 * ln(4.0)),
             f(radius((40.75, -73.95), &[(40.73, -73.99), (40.76, -73.98), (40.72, -73.95)]))],
        vec![s("TX"), s("Houston"), f(29.75), f(-95.35), i(3), f(7.0 / 3.0), f(7.0 / 3.0 * ln(4.0)),
             f(radius((29.75, -95.35), &[(29.76, -95.37), (29.72, -95.33), (29.78, -95.39)]))],
        vec![s("CA"), s("San Francisco"), f(37.75), f(-122.45), i(3), f(5.0 / 3.0), f(5.0 / 3.0 * ln(4.0)),
             f(radius((37.75, -122.45), &[(37.77, -122.42), (37.78, -122.41), (37.76, -122.43)]))],
    ];
    rows
}

const HOTSPOT_SELECT: &str = "SELECT state, city, latitude, longitude, CAST(accident_count AS BIGINT) AS accident_count_c, \
                              severity_avg, danger_score, radius_miles FROM hotspots \
                              ORDER BY danger_score DESC, accident_count DESC, state, city, latitude, longitude";

#[tokio::test]
async fn hotspots_golden() {
    let gold = golden().await;
    // The hand-coded haversine gives c04 about 2.39 miles from the Los Angeles centre: a sanity check
    // of the expected value itself (0.01° of longitude at 34° N ≈ 0.573 mi; c04 is 0.04° east and
    // 0.01° south: √((4·0.5727)² + 0.691²) ≈ 2.392).
    let la = haversine_miles(34.05, -118.25, 34.04, -118.21);
    assert!((la - 2.392).abs() < 0.001, "haversine self-check {la}");

    let rows = gold.rows(HOTSPOT_SELECT).await;
    assert_rows("hotspots", &rows, &expected_hotspots());

    let nulls = gold
        .rows("SELECT CAST(COUNT(*) AS BIGINT) FROM hotspots WHERE last_updated IS NULL OR city IS NULL")
        .await;
    assert_eq!(nulls[0][0], i(0), "hotspots with NULL last_updated or city");
}

/// hotspot_top keeps the first N in SPEC order: with 2, Los Angeles and New York (New York wins the tie
/// with Houston on state). hotspot_min_accidents=3 as in the golden run.
#[tokio::test]
async fn hotspots_top_n_cuts_after_the_tie_break() {
    let root = tempfile::tempdir().unwrap();
    let lake = write_lake(&root.path().join("lake"), &golden_rows(), Format::Parquet);
    let out = root.path().join("gold");
    let output = run_datamart(
        &lake,
        &out,
        &["--set", "hotspot_min_accidents=3", "--set", "hotspot_top=2"],
    );
    assert_success(&output, "run with hotspot_top=2");
    let gold = Gold::open(&out).await;
    let rows = gold.rows(HOTSPOT_SELECT).await;
    assert_rows("hotspots top 2", &rows, &expected_hotspots()[..2]);
}

/// Without --set, groups need 50 accidents (SPEC default): none of this lake's groups qualifies, and the
/// table is still published (empty).
#[tokio::test]
async fn hotspots_default_threshold_is_50() {
    let root = tempfile::tempdir().unwrap();
    let lake = write_lake(&root.path().join("lake"), &golden_rows(), Format::Parquet);
    let out = root.path().join("gold");
    let output = run_datamart(&lake, &out, &[]);
    assert_success(&output, "run with default settings");
    assert!(
        !parquet_files(&out.join("hotspots")).is_empty(),
        "hotspots is published even when empty: no *.parquet under {}",
        out.join("hotspots").display()
    );
    let gold = Gold::open(&out).await;
    assert_eq!(
        gold.count("hotspots").await,
        0,
        "no group reaches 50 accidents"
    );
    assert_eq!(gold.count("accidents_summary").await, ACCEPTED);
}

// -------------------------------------------------------------------------------------------------
// kpis_weather
// -------------------------------------------------------------------------------------------------

#[tokio::test]
async fn kpis_weather_golden() {
    let gold = golden().await;
    let rows = gold
        .rows(
            "SELECT weather_category, temperature_category, CAST(accident_count AS BIGINT) AS accident_count_c, \
             severity_avg, share_pct FROM kpis_weather ORDER BY weather_category, temperature_category",
        )
        .await;
    // share_pct = 100 · count / 31 accepted accidents.
    #[rustfmt::skip]
    let expected = vec![
        vec![s("clear"), s("hot"), i(2), f(1.0), f(200.0 / 31.0)],      // c04 1, t06 1
        vec![s("clear"), s("mild"), i(2), f(1.0), f(200.0 / 31.0)],     // c09 1, n09 1
        vec![s("cloudy"), s("mild"), i(4), f(2.0), f(400.0 / 31.0)],    // c06 2, c07 2, t04 2, n05 2
        vec![s("fog"), s("mild"), i(2), f(1.5), f(200.0 / 31.0)],       // n04 1, n08 2
        vec![s("fog"), s("unknown"), i(2), f(2.5), f(200.0 / 31.0)],    // c05 3, t03 2
        vec![s("other"), s("hot"), i(1), f(3.0), f(100.0 / 31.0)],      // c12 3
        vec![s("rain"), s("mild"), i(4), f(11.0 / 4.0), f(400.0 / 31.0)], // c08 3, c11 2, t02 3, n06 3
        vec![s("snow"), s("cold"), i(5), f(16.0 / 5.0), f(500.0 / 31.0)], // c10 2, t05 4, n01 2, n07 4, n11 4
        vec![s("snow"), s("mild"), i(1), f(2.0), f(100.0 / 31.0)],      // c02 2
        vec![s("storm"), s("cold"), i(1), f(3.0), f(100.0 / 31.0)],     // c01 3
        vec![s("storm"), s("hot"), i(1), f(2.0), f(100.0 / 31.0)],      // t01 2
        vec![s("storm"), s("mild"), i(4), f(15.0 / 4.0), f(400.0 / 31.0)], // c03 4, c13 4, n10 3, n12 4
        vec![s("unknown"), s("cold"), i(1), f(2.0), f(100.0 / 31.0)],   // n02 2 ('')
        vec![s("unknown"), s("hot"), i(1), f(3.0), f(100.0 / 31.0)],    // n03 3 (NULL)
    ];
    assert_rows("kpis_weather", &rows, &expected);
}

// -------------------------------------------------------------------------------------------------
// kpis_infrastructure
// -------------------------------------------------------------------------------------------------

#[tokio::test]
async fn kpis_infrastructure_golden() {
    let gold = golden().await;
    let rows = gold
        .rows(
            "SELECT flag, CAST(accidents_with AS BIGINT) AS accidents_with_c, CAST(accidents_without AS BIGINT) AS accidents_without_c, \
             severity_avg_with, severity_avg_without, severity_reduction_pct \
             FROM kpis_infrastructure ORDER BY flag",
        )
        .await;
    // Severity sum of all 31 accepted accidents: 77. NULL flags count as false (c02 stop/bump, t04 all).
    // A flag that is never true has no "with" accidents: its average and reduction are NULL (the mean
    // of no values).
    let never = |flag: &str| vec![s(flag), i(0), i(31), NULL, f(77.0 / 31.0), NULL];
    #[rustfmt::skip]
    let expected = vec![
        // amenity: n04 (1) -> 1/1 = 1.0; without 76/30; 100·(76/30 - 1)/(76/30) = 100·46/76 = 60.53
        vec![s("amenity"), i(1), i(30), f(1.0), f(76.0 / 30.0), f(100.0 * 46.0 / 76.0)],
        never("bump"),
        // crossing: c01 3, c06 2, c11 2, t03 2, n03 3 = 12/5 = 2.4; without 65/26 = 2.5;
        // 100·(2.5 - 2.4)/2.5 = 4
        vec![s("crossing"), i(5), i(26), f(2.4), f(2.5), f(4.0)],
        never("give_way"),
        // junction: c03 4, n03 3, n09 1 = 8/3; without 69/28; 100·(69/28 - 8/3)/(69/28)
        // = 100·(1 - 224/207) = -1700/207 = -8.21 (a negative reduction)
        vec![s("junction"), i(3), i(28), f(8.0 / 3.0), f(69.0 / 28.0), f(-1700.0 / 207.0)],
        never("no_exit"),
        never("railway"),
        never("roundabout"),
        never("station"),
        // stop: c08 3, t06 1, n06 3 = 7/3 (c02's NULL stop is false); without 70/28 = 2.5;
        // 100·(2.5 - 7/3)/2.5 = 100·(1/6)/2.5 = 20/3
        vec![s("stop"), i(3), i(28), f(7.0 / 3.0), f(2.5), f(20.0 / 3.0)],
        never("traffic_calming"),
        // traffic_signal: c01 3, c04 1, c11 2, t01 2, t06 1, n02 2, n03 3 = 14/7 = 2.0; without 63/24 =
        // 2.625; 100·0.625/2.625 = 500/21 = 23.81
        vec![s("traffic_signal"), i(7), i(24), f(2.0), f(2.625), f(500.0 / 21.0)],
        never("turning_loop"),
    ];
    assert_eq!(expected.len(), INFRASTRUCTURE_FLAGS.len());
    assert_rows("kpis_infrastructure", &rows, &expected);
}

// -------------------------------------------------------------------------------------------------
// pipeline_runs
// -------------------------------------------------------------------------------------------------

#[tokio::test]
async fn pipeline_runs_golden() {
    let gold = golden().await;
    let rows = gold
        .rows(
            "SELECT CAST(run_id AS VARCHAR) AS run_id_c, job, mode, status, CAST(rows_read AS BIGINT) AS rows_read_c, \
             CAST(rows_rejected AS BIGINT) AS rows_rejected_c, rows_written, data_quality_score, error, \
             started_at <= finished_at FROM pipeline_runs",
        )
        .await;
    assert_eq!(rows.len(), 1, "one pipeline_runs row per run: {rows:?}");
    let row = &rows[0];
    assert!(
        row[0].as_str().is_some_and(|id| !id.is_empty()),
        "run_id: {row:?}"
    );
    assert_eq!(row[1], s("accidents-datamart"), "job: {row:?}");
    assert_eq!(
        row[2],
        s("full"),
        "mode (no incremental option given): {row:?}"
    );
    assert_eq!(row[3], s("succeeded"), "status: {row:?}");
    // 31 accepted + 4 rejected Silver rows.
    assert_eq!(row[4], i(ACCEPTED + REJECTED), "rows_read: {row:?}");
    assert_eq!(row[5], i(REJECTED), "rows_rejected: {row:?}");
    let score = row[7]
        .as_f64()
        .unwrap_or_else(|| panic!("data_quality_score is a number: {row:?}"));
    assert!((0.0..=100.0).contains(&score), "data_quality_score {score}");
    assert!(row[8].is_null(), "error is NULL on success: {row:?}");
    assert_eq!(
        row[9],
        Val::Bool(true),
        "started_at <= finished_at: {row:?}"
    );

    // rows_written: {"table": rows, ...} for each Gold table, equal to what is in the table.
    let text = row[6]
        .as_str()
        .unwrap_or_else(|| panic!("rows_written is text: {row:?}"));
    let written: serde_json::Value = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("rows_written {text:?} is not JSON: {e}"));
    #[rustfmt::skip]
    let expected = [
        ("accidents_summary", ACCEPTED), // 31
        ("kpis_security", 12),           // 9 cities + 3 states
        ("kpis_temporal", 119),          // daily 21 + hourly 46 + monthly 40 + yearly 12
        ("hotspots", 4),
        ("kpis_weather", 14),
        ("kpis_infrastructure", 13),
    ];
    for (table, n) in expected {
        assert_eq!(
            written.get(table).and_then(|v| v.as_f64()),
            Some(n as f64),
            "rows_written[{table}] in {text}"
        );
        assert_eq!(gold.count(table).await, n, "rows in {table}");
    }
}

// -------------------------------------------------------------------------------------------------
// ORC lake
// -------------------------------------------------------------------------------------------------

/// Runs the job over the golden rows written as ORC (`fill_others`: see `write_lake_full`), with
/// `extra` arguments, and compares its Gold tables and its run record with the Parquet golden
/// run: every column but last_updated, rows sorted.
async fn assert_orc_lake_matches_parquet(fill_others: bool, extra: &[&str]) {
    let root = tempfile::tempdir().unwrap();
    let lake = write_lake_full(
        &root.path().join("lake"),
        &golden_rows(),
        Format::Orc,
        fill_others,
    );
    let out = root.path().join("gold");
    let settings: Vec<&str> = GOLDEN_SETTINGS.iter().chain(extra).copied().collect();
    let output = run_datamart(&lake, &out, &settings);
    assert_success(&output, "run over the ORC lake");

    let orc = Gold::open(&out).await;
    let parquet = golden().await;
    for table in GOLD_TABLES {
        // kpis_correlations reads humidity, wind, precipitation and pressure: filled with a
        // constant, they have n = 31 where the Parquet lake's NULLs have n = 0
        if fill_others && table == "kpis_correlations" {
            continue;
        }
        let columns: Vec<String> = parquet
            .columns(table)
            .await
            .into_iter()
            .filter(|c| c != "last_updated")
            .collect();
        assert_eq!(
            orc.columns(table)
                .await
                .into_iter()
                .filter(|c| c != "last_updated")
                .collect::<Vec<_>>(),
            columns,
            "{table} columns"
        );
        let list = columns
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let order = (1..=columns.len())
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("SELECT {list} FROM {table} ORDER BY {order}");
        let expected = parquet.rows(&sql).await;
        let actual = orc.rows(&sql).await;
        assert_rows(
            &format!("{table} (ORC lake vs Parquet lake)"),
            &actual,
            &expected,
        );
    }
    let runs = orc
        .rows("SELECT status, CAST(rows_read AS BIGINT) AS rows_read_c, CAST(rows_rejected AS BIGINT) AS rows_rejected_c FROM pipeline_runs")
        .await;
    assert_rows(
        "pipeline_runs (ORC lake)",
        &runs,
        &[vec![s("succeeded"), i(ACCEPTED + REJECTED), i(REJECTED)]],
    );
}

/// The golden rows as ORC files, every Silver column the Gold tables do not use filled with a constant
/// (so no column is entirely NULL), give the same Gold tables as the Parquet lake; this run computes
/// all six SPEC 3 tables and the quality measure at once (`--concurrency 7`).
#[tokio::test]
async fn orc_lake_gives_identical_gold_tables() {
    assert_orc_lake_matches_parquet(true, &["--concurrency", "7"]).await;
}

/// The same, with the unused columns NULL exactly as in the Parquet lake: an ORC file whose column is
/// entirely NULL (common in real Silver years, e.g. precipitation_in before 2017) must read too.
#[tokio::test]
async fn orc_lake_with_all_null_columns_gives_identical_gold_tables() {
    assert_orc_lake_matches_parquet(false, &[]).await;
}
