//! Golden tests of the datamart's advanced analytics (SPEC section 3b): `kpis_anomalies`,
//! `kpis_correlations` and `insights`, run by the real `medallion run accidents-datamart` binary
//! (embedded mode) over three small hand-made Silver lakes, read back with plain DataFusion, and
//! once into the real MariaDB (127.0.0.1:3306, root; a database of its own) to check that MySQL holds
//! the same rows and the indexes SPEC 3b names.
//!
//! - lake T ("temporal"): four states over the twelve months of 2021, every severity 2: planted
//!   monthly spikes (high and low), a state with 11 months, a state with a flat series, fewer than
//!   5 states for the geographic rule, a severity stddev of 0 for the weather rule.
//! - lake C ("correlations"): one state (CA), 8 accidents with a perfect, a zero, a strong negative
//!   and a moderate correlation, a constant, an all-NULL and a too-sparse variable; `min_rows=4`.
//! - lake G ("geography"): 12 states, one with an outlying accident rate and one without a
//!   population, a weather category with a shifted severity, ties for the peak hour, for the best
//!   flag and for percent_rank; `min_rows=3`, `anomaly_z=2`; run again with `min_rows=5`.
//!
//! Every expected value is worked out by hand from SPEC.md, with the arithmetic next to it; where a
//! value is a square root or a logarithm it is written as the expression.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, RecordBatch};
use mysql_async::prelude::Queryable;

use common::mysql_db::TestDb;
use common::*;
use medallion_jobs::accidents::schema::accidents_schema;

fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

/// The Silver columns the `Accident` helper does not carry, used by kpis_correlations.
#[derive(Clone, Copy, Default)]
struct Weather {
    humidity_pct: Option<f64>,
    wind_speed_mph: Option<f64>,
    precipitation_in: Option<f64>,
    pressure_in: Option<f64>,
}

/// One accepted accident with only state, severity, start time and weather condition set (no city,
/// coordinates, distance, temperature, visibility; every flag but `flags` false).
fn accident(
    id: String,
    state: &'static str,
    severity: i32,
    start_time: String,
    weather_condition: Option<&'static str>,
    flags: &'static [&'static str],
) -> Accident {
    Accident {
        id: leak(id),
        state: Some(state),
        city: None,
        severity: Some(severity),
        start_time: Some(leak(start_time)),
        lat: None,
        lng: None,
        distance_mi: None,
        temperature_f: None,
        visibility_mi: None,
        weather_condition,
        flags_true: flags,
        flags_null: &[],
    }
}

/// Writes the rows as one Parquet file of `LAKE/accidents/year=2021/` (every row is of 2021), with
/// the `Weather` columns set.
fn write_analytics_lake(lake: &Path, rows: &[(Accident, Weather)]) -> PathBuf {
    let accidents: Vec<Accident> = rows.iter().map(|(a, _)| a.clone()).collect();
    let batch = silver_batch(&accidents);
    let schema = accidents_schema();
    let extra = |f: fn(&Weather) -> Option<f64>| -> ArrayRef {
        Arc::new(Float64Array::from(
            rows.iter().map(|(_, w)| f(w)).collect::<Vec<_>>(),
        ))
    };
    let columns: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(n, field)| match field.name().as_str() {
            "humidity_pct" => extra(|w| w.humidity_pct),
            "wind_speed_mph" => extra(|w| w.wind_speed_mph),
            "precipitation_in" => extra(|w| w.precipitation_in),
            "pressure_in" => extra(|w| w.pressure_in),
            _ => batch.column(n).clone(),
        })
        .collect();
    let batch = RecordBatch::try_new(schema, columns).unwrap();
    write_file(
        &lake.join("accidents/year=2021/part-00000.parquet"),
        &batch,
        Format::Parquet,
    );
    lake.to_path_buf()
}

/// Runs the datamart over `rows` into a Parquet sink with `settings`; returns the sink folder.
fn run_lake(root: &Path, rows: &[(Accident, Weather)], settings: &[&str]) -> PathBuf {
    let lake = write_analytics_lake(&root.join("lake"), rows);
    let out = root.join("gold");
    let output = run_datamart(&lake, &out, settings);
    assert_success(&output, "run accidents-datamart");
    out
}

const ANOMALIES: &str = "SELECT anomaly_type, state, subject, metric, value, baseline, z_score, direction \
     FROM kpis_anomalies ORDER BY anomaly_type, state NULLS FIRST, subject";
const CORRELATIONS: &str = "SELECT state, variable, n, pearson_r, t_stat, significant, strength \
     FROM kpis_correlations ORDER BY state NULLS FIRST, variable";
const INSIGHTS: &str = "SELECT insight_type, state, subject, value, rank, recommendation \
     FROM insights ORDER BY insight_type, state NULLS FIRST, rank, subject";

/// `x · √((n − 2) / (1 − x²))`, SPEC 3b's t statistic.
fn t_stat(r: f64, n: f64) -> f64 {
    r * ((n - 2.0) / (1.0 - r * r)).sqrt()
}

// -------------------------------------------------------------------------------------------------
// lake T: temporal anomalies
// -------------------------------------------------------------------------------------------------

/// Monthly counts of 2021 (January first) per state; every accident severity 2, weather Clear:
///   NV: 1 a month, July 5 (a spike)          12 months
///   UT: 1 a month, July 10, no December       11 months: fewer than 12, never an anomaly
///   ID: 2 every month                          stddev 0: never an anomaly
///   WY: 5 a month, March 1 (a dip)            12 months
fn temporal_rows() -> Vec<(Accident, Weather)> {
    let series: [(&str, [u32; 12]); 4] = [
        ("NV", [1, 1, 1, 1, 1, 1, 5, 1, 1, 1, 1, 1]),
        ("UT", [1, 1, 1, 1, 1, 1, 10, 1, 1, 1, 1, 0]),
        ("ID", [2; 12]),
        ("WY", [5, 5, 1, 5, 5, 5, 5, 5, 5, 5, 5, 5]),
    ];
    let mut rows = Vec::new();
    for (state, counts) in series {
        for (month, count) in counts.iter().enumerate() {
            for k in 0..*count {
                rows.push((
                    accident(
                        format!("{state}-{}-{k}", month + 1),
                        state,
                        2,
                        format!("2021-{:02}-10 {:02}:30:00", month + 1, k % 24),
                        Some("Clear"),
                        &[],
                    ),
                    Weather::default(),
                ));
            }
        }
    }
    rows
}

#[tokio::test]
async fn temporal_anomalies_golden() {
    let root = tempfile::tempdir().unwrap();
    let out = run_lake(root.path(), &temporal_rows(), &[]);
    let gold = Gold::open(&out).await;
    // A scope with one month b among eleven months a: mean (11a + b)/12, sample variance
    // (b − a)²/12 (deviations 11(b − a)/12 once and (a − b)/12 eleven times: (121 + 11)/144 · (b − a)²
    // / 11), so z = (11(b − a)/12) / ((b − a)/√12) = 11/√12 = 3.175 ≥ 3 whatever the spike.
    //   NV July: value 5, baseline 16/12; WY March: value 1, baseline 56/12, z = −11/√12 ('low').
    // Nationwide, per month: 1+1+2+5 = 9, except March 1+1+2+1 = 5, July 5+10+2+5 = 22, December
    // 1+0+2+5 = 8: sum 9·9 + 5 + 22 + 8 = 116, mean 116/12; squared deviations (9·(2/3)² + (14/3)²
    // + (37/3)² + (5/3)²) = 1626/9, variance 1626/99; July z = (37/3)/√(1626/99) = 3.043 ≥ 3, March
    // −1.15, December −0.41.
    // Not rows: UT (11 months), ID (stddev 0); no geographic row (4 states < 5); no weather row
    // (every severity 2: σ = 0).
    let z = 11.0 / 12f64.sqrt();
    let expected = vec![
        vec![
            s("temporal"),
            NULL,
            s("2021-07"),
            s("accident_count"),
            f(22.0),
            f(116.0 / 12.0),
            f((37.0 / 3.0) / (1626.0f64 / 99.0).sqrt()),
            s("high"),
        ],
        vec![
            s("temporal"),
            s("NV"),
            s("2021-07"),
            s("accident_count"),
            f(5.0),
            f(16.0 / 12.0),
            f(z),
            s("high"),
        ],
        vec![
            s("temporal"),
            s("WY"),
            s("2021-03"),
            s("accident_count"),
            f(1.0),
            f(56.0 / 12.0),
            f(-z),
            s("low"),
        ],
    ];
    assert_rows(
        "kpis_anomalies (lake T)",
        &gold.rows(ANOMALIES).await,
        &expected,
    );

    // Every severity is 2: no correlation is defined anywhere (variance of severity 0), though
    // infrastructure_count has n = all rows: NV 16, UT 20, ID 24, WY 56, all 116.
    let rows = gold
        .rows("SELECT state, n FROM kpis_correlations WHERE variable = 'infrastructure_count' ORDER BY state NULLS FIRST")
        .await;
    assert_rows(
        "kpis_correlations n (lake T)",
        &rows,
        &[
            vec![NULL, i(116)],
            vec![s("ID"), i(24)],
            vec![s("NV"), i(16)],
            vec![s("UT"), i(20)],
            vec![s("WY"), i(56)],
        ],
    );
    let defined = gold
        .rows("SELECT CAST(COUNT(*) AS BIGINT) FROM kpis_correlations WHERE pearson_r IS NOT NULL OR t_stat IS NOT NULL OR significant OR strength <> 'none'")
        .await;
    assert_eq!(defined[0][0], i(0), "no correlation without a variance");
    // 5 scopes × 8 variables
    assert_eq!(gold.count("kpis_correlations").await, 40);
}

// -------------------------------------------------------------------------------------------------
// lake C: correlations, one state only
// -------------------------------------------------------------------------------------------------

/// Eight CA accidents, severities y = 1, 1, 2, 2, 3, 3, 4, 4 (mean 2.5, Σ(y − ȳ)² = 10), each with:
///   precipitation_in = 2y + 1           a perfect correlation
///   pressure_in = 29.92                  a variance of 0
///   humidity_pct = 40, 60, 40, 60, ...   no correlation: every severity has one 40 and one 60
///   wind_speed_mph NULL                  n = 0
///   temperature_f = 10, 20, 30 on rows 1, 3, 5 only: n = 3 < min_rows = 4 (perfectly correlated)
///   visibility_mi = 10, 9, 10, 6, 7, 3, 5, 2
///   distance_mi = 1, 3, 2, 1, 2, 3, 3, 2
/// no flag (infrastructure_count 0: a variance of 0); weather Clear; hours 08, 17, 08, 17, 08, 17,
/// 03, 23 (08 and 17 tie with 3 accidents).
fn correlation_rows() -> Vec<(Accident, Weather)> {
    let severity = [1, 1, 2, 2, 3, 3, 4, 4];
    let visibility = [10.0, 9.0, 10.0, 6.0, 7.0, 3.0, 5.0, 2.0];
    let distance = [1.0, 3.0, 2.0, 1.0, 2.0, 3.0, 3.0, 2.0];
    let temperature = [
        Some(10.0),
        None,
        Some(20.0),
        None,
        Some(30.0),
        None,
        None,
        None,
    ];
    let hours = [8, 17, 8, 17, 8, 17, 3, 23];
    (0..8)
        .map(|n| {
            let mut a = accident(
                format!("C{n}"),
                "CA",
                severity[n],
                format!("2021-05-{:02} {:02}:15:00", n + 1, hours[n]),
                Some("Clear"),
                &[],
            );
            a.visibility_mi = Some(visibility[n]);
            a.distance_mi = Some(distance[n]);
            a.temperature_f = temperature[n];
            let weather = Weather {
                humidity_pct: Some(if n % 2 == 0 { 40.0 } else { 60.0 }),
                wind_speed_mph: None,
                precipitation_in: Some(2.0 * severity[n] as f64 + 1.0),
                pressure_in: Some(29.92),
            };
            (a, weather)
        })
        .collect()
}

#[tokio::test]
async fn correlations_and_one_state_golden() {
    let root = tempfile::tempdir().unwrap();
    let out = run_lake(root.path(), &correlation_rows(), &["--set", "min_rows=4"]);
    let gold = Gold::open(&out).await;

    // visibility: mean 52/8 = 6.5, deviations 3.5, 2.5, 3.5, −0.5, 0.5, −3.5, −1.5, −4.5 against
    // severity deviations −1.5, −1.5, −0.5, −0.5, 0.5, 0.5, 1.5, 1.5: Σ products = −21,
    // Σ squares = 66, r = −21/√(66·10) = −0.817, t = −3.48: significant, strong.
    let r_vis = -21.0 / (660.0f64).sqrt();
    // distance: mean 17/8 = 2.125, deviations −1.125, 0.875, −0.125, −1.125, −0.125, 0.875, 0.875,
    // −0.125: Σ products 2.5, Σ squares 4.875, r = 2.5/√48.75 = 0.358 (moderate), t = 0.94: not
    // significant.
    let r_dist = 2.5 / (48.75f64).sqrt();
    let scope = |state: Val| {
        vec![
            vec![
                state.clone(),
                s("distance_mi"),
                i(8),
                f(r_dist),
                f(t_stat(r_dist, 8.0)),
                Val::Bool(false),
                s("moderate"),
            ],
            // Σ products (−1.5 − 0.5 + 0.5 + 1.5)·(−10 + 10) = 0: r = 0, t = 0
            vec![
                state.clone(),
                s("humidity_pct"),
                i(8),
                f(0.0),
                f(0.0),
                Val::Bool(false),
                s("none"),
            ],
            // every infrastructure_count is 0: variance 0
            vec![
                state.clone(),
                s("infrastructure_count"),
                i(8),
                NULL,
                NULL,
                Val::Bool(false),
                s("none"),
            ],
            // r = 1: t is NULL, so not significant, though strong
            vec![
                state.clone(),
                s("precipitation_in"),
                i(8),
                f(1.0),
                NULL,
                Val::Bool(false),
                s("strong"),
            ],
            vec![
                state.clone(),
                s("pressure_in"),
                i(8),
                NULL,
                NULL,
                Val::Bool(false),
                s("none"),
            ],
            // n = 3 < min_rows = 4
            vec![
                state.clone(),
                s("temperature_f"),
                i(3),
                NULL,
                NULL,
                Val::Bool(false),
                s("none"),
            ],
            vec![
                state.clone(),
                s("visibility_mi"),
                i(8),
                f(r_vis),
                f(t_stat(r_vis, 8.0)),
                Val::Bool(true),
                s("strong"),
            ],
            vec![
                state,
                s("wind_speed_mph"),
                i(0),
                NULL,
                NULL,
                Val::Bool(false),
                s("none"),
            ],
        ]
    };
    let mut expected = scope(NULL);
    expected.extend(scope(s("CA")));
    assert_rows(
        "kpis_correlations (lake C)",
        &gold.rows(CORRELATIONS).await,
        &expected,
    );

    // One state only: it is the most dangerous (rank 1) and its percent_rank is 0 (N = 1).
    // danger_index = 2.5·ln(1 + 8); peak hour 08 (08 and 17 tie with 3, the earliest wins):
    // 100·3/8 = 37.5; no flag has min_rows accidents with it; the one significant moderate-or-strong
    // nationwide correlation is visibility (precipitation's r = 1 has no t, distance is not
    // significant).
    let expected = vec![
        vec![
            s("dangerous_state"),
            s("CA"),
            s("CA"),
            f(2.5 * 9f64.ln()),
            i(1),
            s("Prioritise enforcement and prevention in CA"),
        ],
        vec![
            s("peak_hour"),
            NULL,
            s("08"),
            f(37.5),
            i(1),
            s("Reinforce patrols around 08:00"),
        ],
        vec![
            s("peak_hour"),
            s("CA"),
            s("08"),
            f(37.5),
            i(1),
            s("Reinforce patrols around 08:00 in CA"),
        ],
        vec![
            s("safety_improvement_score"),
            s("CA"),
            s("CA"),
            f(0.0),
            i(1),
            s("Low improvement potential"),
        ],
        vec![
            s("significant_correlation"),
            NULL,
            s("visibility_mi"),
            f(r_vis),
            i(1),
            s("Severity falls as visibility_mi rises"),
        ],
    ];
    assert_rows("insights (lake C)", &gold.rows(INSIGHTS).await, &expected);

    // The only weather category (clear) has the mean severity: z = 0; one month; one state.
    assert_eq!(
        gold.count("kpis_anomalies").await,
        0,
        "no anomaly in lake C"
    );
}

// -------------------------------------------------------------------------------------------------
// lake G: geographic and weather anomalies, insights with ties
// -------------------------------------------------------------------------------------------------

/// States with one accident each (weather Clear, 12:00, no flag), by severity:
/// AK 4, VT 4, DE 3, ND 3, SD 3, MT 2, PR 2 (not in state_population: no rate), RI 2, ME 1, NH 1.
const SINGLES: [(&str, i32); 10] = [
    ("AK", 4),
    ("VT", 4),
    ("DE", 3),
    ("ND", 3),
    ("SD", 3),
    ("MT", 2),
    ("PR", 2),
    ("RI", 2),
    ("ME", 1),
    ("NH", 1),
];

/// All on 2021-05-10:
///   CA (12): c1-c4 severity 4 "Light Snow" at 08, c1-c3 with crossing;
///            c5-c7 severity 4, weather NULL ('unknown') at 17;
///            c8-c12 severity 1 Clear at 17, 09, 10, 11, 12; amenity and traffic_signal on c8-c11,
///            stop on c8-c10.                                     sum 7·4 + 5·1 = 33
///   WY (6):  severity 2, Clear, at 07, 07, 19, 19, 03, 22; crossing on the first three.  sum 12
///   SINGLES (10):                                                                        sum 25
/// All 28: Σy = 70 (μ = 2.5), Σy² = 7·16 + 5·1 + 6·4 + (16+16+9+9+9+4+4+4+1+1) = 214,
/// Σ(y − μ)² = 214 − 70²/28 = 39, σ = √(39/27).
fn geography_rows() -> Vec<(Accident, Weather)> {
    let mut rows = Vec::new();
    let mut push = |a: Accident| rows.push((a, Weather::default()));
    let at = |hour: u32| format!("2021-05-10 {hour:02}:20:00");
    for n in 1..=12 {
        let (severity, weather, hour) = match n {
            1..=4 => (4, Some("Light Snow"), 8),
            5..=7 => (4, None, 17),
            8 => (1, Some("Clear"), 17),
            _ => (1, Some("Clear"), n as u32),
        };
        let flags: &'static [&'static str] = match n {
            1..=3 => &["crossing"],
            8..=10 => &["amenity", "traffic_signal", "stop"],
            11 => &["amenity", "traffic_signal"],
            _ => &[],
        };
        push(accident(
            format!("c{n}"),
            "CA",
            severity,
            at(hour),
            weather,
            flags,
        ));
    }
    for (n, hour) in [7, 7, 19, 19, 3, 22].into_iter().enumerate() {
        let flags: &'static [&'static str] = if n < 3 { &["crossing"] } else { &[] };
        push(accident(
            format!("w{n}"),
            "WY",
            2,
            at(hour),
            Some("Clear"),
            flags,
        ));
    }
    for (state, severity) in SINGLES {
        push(accident(
            format!("s-{state}"),
            state,
            severity,
            at(12),
            Some("Clear"),
            &[],
        ));
    }
    rows
}

/// Lake G's settings: weather anomalies from |z| ≥ 2, groups from 3 rows.
const GEOGRAPHY_SETTINGS: [&str; 4] = ["--set", "min_rows=3", "--set", "anomaly_z=2"];

/// The geographic anomaly of lake G: WY's rate among the 11 states with a population (PR has none),
/// z = (rate − mean) / sample stddev. The rates are count · 100000 / population (2020 census, the
/// shipped reference file): WY 6·10⁵/576851 = 1.040, CA 12·10⁵/39538223 = 0.030, the others 10⁵ /
/// population, 0.07 to 0.16. Mean 0.1849, stddev 0.2857, WY's z = 2.99 ≥ 2; every other state is
/// below the mean.
fn wy_geographic() -> (f64, f64, f64) {
    let mut rates = vec![
        6.0 * 100000.0 / population("WY"),
        12.0 * 100000.0 / population("CA"),
    ];
    for (state, _) in SINGLES {
        if state != "PR" {
            rates.push(100000.0 / population(state));
        }
    }
    assert_eq!(rates.len(), 11);
    let n = rates.len() as f64;
    let mean = rates.iter().sum::<f64>() / n;
    let sd = (rates.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let z = (rates[0] - mean) / sd;
    assert!(
        z > 2.9 && z < 3.1,
        "the lake plants WY's z near 2.99, got {z}"
    );
    (rates[0], mean, z)
}

async fn geography_gold(root: &Path, extra: &[&str]) -> Gold {
    let settings: Vec<&str> = GEOGRAPHY_SETTINGS.iter().chain(extra).copied().collect();
    let out = run_lake(root, &geography_rows(), &settings);
    Gold::open(&out).await
}

#[tokio::test]
async fn geographic_and_weather_anomalies_golden() {
    let root = tempfile::tempdir().unwrap();
    let gold = geography_gold(root.path(), &[]).await;
    let (rate, baseline, z) = wy_geographic();
    // weather (μ = 2.5, σ = √(39/27) = 1.2019), z = (avg − μ) / (σ/√n):
    //   snow    n 4,  avg 4:             1.5/(σ/2)   = 2.496 ≥ 2 → a row
    //   unknown n 3,  avg 4:             1.5/(σ/√3)  = 2.162, but 'unknown' is never a row
    //   clear   n 21, avg 42/21 = 2:    −0.5/(σ/√21) = −1.906, |z| < 2
    let sigma = (39.0f64 / 27.0).sqrt();
    let expected = vec![
        vec![
            s("geographic"),
            s("WY"),
            s("WY"),
            s("accident_rate_per_100k"),
            f(rate),
            f(baseline),
            f(z),
            s("high"),
        ],
        vec![
            s("weather"),
            NULL,
            s("snow"),
            s("severity_avg"),
            f(4.0),
            f(2.5),
            f(1.5 / (sigma / 2.0)),
            s("high"),
        ],
    ];
    assert_rows(
        "kpis_anomalies (lake G)",
        &gold.rows(ANOMALIES).await,
        &expected,
    );

    // min_rows = 5: snow (n 4) is too small; the geographic rule has no min_rows.
    let root5 = tempfile::tempdir().unwrap();
    let gold5 = geography_gold(root5.path(), &["--set", "min_rows=5"]).await;
    assert_rows(
        "kpis_anomalies (lake G, min_rows=5)",
        &gold5.rows(ANOMALIES).await,
        &expected[..1],
    );
    // ... and no flag has 5 accidents with it in any scope (amenity and traffic_signal 4, crossing
    // 3 in CA; nationwide crossing has 6 but its reduction is negative): no best_infrastructure.
    let best = gold5
        .rows("SELECT state, subject FROM insights WHERE insight_type = 'best_infrastructure'")
        .await;
    assert_rows("best_infrastructure (min_rows=5)", &best, &[]);
}

#[tokio::test]
async fn insights_golden() {
    let root = tempfile::tempdir().unwrap();
    let gold = geography_gold(root.path(), &[]).await;
    let ln2 = 2f64.ln();
    let prioritise = |state: &str| s(&format!("Prioritise enforcement and prevention in {state}"));
    let patrols =
        |hour: &str, state: &str| s(&format!("Reinforce patrols around {hour}:00 in {state}"));
    let mut expected = vec![
        // best_infrastructure (min_rows 3). Nationwide: amenity and traffic_signal are on the same 4
        // accidents (severity 1): with 1, without (70 − 4)/24 = 2.75, 100·1.75/2.75 = 63.64 — a
        // tie, amenity first by name; stop (3 with): 100·(67/25 − 1)/(67/25) = 62.69; crossing
        // (c1-c3 severity 4, three WY severity 2: with 3) is negative.
        vec![
            s("best_infrastructure"),
            NULL,
            s("amenity"),
            f(100.0 * 1.75 / 2.75),
            i(1),
            s("Extend amenity equipment"),
        ],
        // CA: amenity / traffic_signal: without (33 − 4)/8 = 3.625, 100·2.625/3.625 = 72.41; stop
        // 100·(30/9 − 1)/(30/9) = 70. WY: crossing has 3 with and 3 without, all severity 2: 0, not
        // > 0, so no row; the singles have no flag.
        vec![
            s("best_infrastructure"),
            s("CA"),
            s("amenity"),
            f(100.0 * 2.625 / 3.625),
            i(1),
            s("Extend amenity equipment in CA"),
        ],
    ];
    // dangerous_state: danger_index = avg · ln(1 + n): CA 2.75·ln 13 = 7.05, WY 2·ln 7 = 3.89,
    // AK = VT = 4·ln 2, DE = ND = SD = 3·ln 2, MT = PR = RI = 2·ln 2, ME = NH = ln 2; ties (same
    // danger, same count) by state; ME and NH rank 11 and 12 (> 10): no row.
    for (state, danger, rank) in [
        ("AK", 4.0 * ln2, 3),
        ("CA", 2.75 * 13f64.ln(), 1),
        ("DE", 3.0 * ln2, 5),
        ("MT", 2.0 * ln2, 8),
        ("ND", 3.0 * ln2, 6),
        ("PR", 2.0 * ln2, 9),
        ("RI", 2.0 * ln2, 10),
        ("SD", 3.0 * ln2, 7),
        ("VT", 4.0 * ln2, 4),
        ("WY", 2.0 * 7f64.ln(), 2),
    ] {
        expected.push(vec![
            s("dangerous_state"),
            s(state),
            s(state),
            f(danger),
            i(rank),
            prioritise(state),
        ]);
    }
    // peak_hour. Nationwide: 12:00 has c12 and the 10 singles = 11 of 28 (08 and 17 have 4):
    // 100·11/28. CA: 08 (c1-c4) and 17 (c5-c8) tie with 4 of 12: 08, the earliest, 33.33. WY: 07
    // and 19 tie with 2 of 6: 07. Each single: its one accident at 12: 100.
    expected.push(vec![
        s("peak_hour"),
        NULL,
        s("12"),
        f(1100.0 / 28.0),
        i(1),
        s("Reinforce patrols around 12:00"),
    ]);
    for state in [
        "AK", "CA", "DE", "ME", "MT", "ND", "NH", "PR", "RI", "SD", "VT", "WY",
    ] {
        let (hour, value) = match state {
            "CA" => ("08", 100.0 * 4.0 / 12.0),
            "WY" => ("07", 100.0 * 2.0 / 6.0),
            _ => ("12", 100.0),
        };
        expected.push(vec![
            s("peak_hour"),
            s(state),
            s(hour),
            f(value),
            i(1),
            patrols(hour, state),
        ]);
    }
    // safety_improvement_score: 100·percent_rank of danger ascending over the N = 12 states, ties
    // sharing the lowest rank r, value 100·(r − 1)/11: ME, NH r 1 → 0; MT, PR, RI r 3 → 18.18;
    // DE, ND, SD r 6 → 45.45; AK, VT r 9 → 72.73 (< 75: moderate); WY r 11 → 90.91; CA r 12 → 100.
    // rank: value desc, then state.
    for (state, r, rank) in [
        ("AK", 9.0, 3),
        ("CA", 12.0, 1),
        ("DE", 6.0, 5),
        ("ME", 1.0, 11),
        ("MT", 3.0, 8),
        ("ND", 6.0, 6),
        ("NH", 1.0, 12),
        ("PR", 3.0, 9),
        ("RI", 3.0, 10),
        ("SD", 6.0, 7),
        ("VT", 9.0, 4),
        ("WY", 11.0, 2),
    ] {
        let value = 100.0 * (r - 1.0) / 11.0;
        let text = if value >= 75.0 {
            "High improvement potential"
        } else if value >= 25.0 {
            "Moderate improvement potential"
        } else {
            "Low improvement potential"
        };
        expected.push(vec![
            s("safety_improvement_score"),
            s(state),
            s(state),
            f(value),
            i(rank),
            s(text),
        ]);
    }
    // significant_correlation: only infrastructure_count has values nationwide (x = 1 on c1-c3 and
    // three WY rows, 3 on c8-c10, 2 on c11, else 0): Σx = 17, Σx² = 37, Σxy = 12 + 9 + 2 + 6 = 29;
    // Sxy = 29 − 17·70/28 = −13.5, Sxx = 37 − 17²/28, Syy = 39: r = −0.419 (moderate), t = −2.35
    // (significant). CA's own correlation is not nationwide: no row.
    let r = -13.5 / ((37.0 - 289.0 / 28.0) * 39.0f64).sqrt();
    assert!((t_stat(r, 28.0)).abs() >= 1.96 && r.abs() >= 0.3 && r.abs() < 0.5);
    expected.push(vec![
        s("significant_correlation"),
        NULL,
        s("infrastructure_count"),
        f(r),
        i(1),
        s("Severity falls as infrastructure_count rises"),
    ]);
    assert_rows("insights (lake G)", &gold.rows(INSIGHTS).await, &expected);

    // kpis_correlations has a row per variable for each of the 12 states and nationwide.
    assert_eq!(gold.count("kpis_correlations").await, 13 * 8);
}

// -------------------------------------------------------------------------------------------------
// MySQL holds the same rows, with the indexes of SPEC 3b
// -------------------------------------------------------------------------------------------------

/// A MySQL value in the normal form of [`Val`] (TINYINT(1) booleans read as integers).
fn mysql_val(value: mysql_async::Value) -> Val {
    use mysql_async::Value;
    match value {
        Value::NULL => Val::Null,
        Value::Int(v) => Val::Int(v),
        Value::UInt(v) => Val::Int(v as i64),
        Value::Double(v) => Val::Float(v),
        Value::Float(v) => Val::Float(v as f64),
        Value::Bytes(b) => Val::Str(String::from_utf8_lossy(&b).to_string()),
        other => Val::Str(format!("{other:?}")),
    }
}

#[tokio::test]
async fn mysql_gets_the_same_analytics_with_their_indexes() {
    let root = tempfile::tempdir().unwrap();
    let parquet = geography_gold(root.path(), &[]).await;
    let db = TestDb::create("analytics").await;
    let lake = root.path().join("lake");
    let settings: Vec<&str> = GEOGRAPHY_SETTINGS.to_vec();
    let url = db.root_url();
    let mut args = vec![
        "run",
        "accidents-datamart",
        "--lake",
        lake.to_str().unwrap(),
        "--sink",
        url.as_str(),
    ];
    args.extend(settings);
    assert_success(&medallion(&args), "run into MySQL");

    let mut conn = db.conn().await;
    for (table, order, columns) in [
        ("kpis_anomalies", "anomaly_type, state, subject", ANOMALIES),
        ("kpis_correlations", "state, variable", CORRELATIONS),
        ("insights", "insight_type, state, `rank`, subject", INSIGHTS),
    ] {
        // the column list of the Parquet query, MySQL's NULLs sort first like NULLS FIRST
        let list = columns
            .trim_start_matches("SELECT ")
            .split(" FROM ")
            .next()
            .unwrap()
            .replace("rank", "`rank`");
        // a prepared statement: the binary protocol returns typed values (the text protocol's
        // are all bytes)
        let rows: Vec<mysql_async::Row> = conn
            .exec(format!("SELECT {list} FROM `{table}` ORDER BY {order}"), ())
            .await
            .unwrap_or_else(|e| panic!("read {table}: {e}"));
        let actual: Vec<Vec<Val>> = rows
            .into_iter()
            .map(|row| row.unwrap().into_iter().map(mysql_val).collect())
            .collect();
        // booleans arrive as TINYINT(1)
        let expected: Vec<Vec<Val>> = parquet
            .rows(columns)
            .await
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .map(|v| match v {
                        Val::Bool(b) => Val::Int(b as i64),
                        other => other,
                    })
                    .collect()
            })
            .collect();
        assert!(!expected.is_empty(), "{table} has rows in lake G");
        assert_rows(&format!("{table}: MySQL vs Parquet"), &actual, &expected);
    }

    let indexes: Vec<(String, String, String)> = conn
        .exec(
            "SELECT TABLE_NAME, INDEX_NAME, GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX) \
             FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? \
             AND TABLE_NAME IN ('kpis_anomalies', 'kpis_correlations', 'insights') \
             AND INDEX_NAME <> 'PRIMARY' GROUP BY TABLE_NAME, INDEX_NAME ORDER BY 1, 2",
            (db.name.as_str(),),
        )
        .await
        .unwrap();
    let expected: Vec<(String, String, String)> = [
        ("insights", "idx_insight", "insight_type,state"),
        ("kpis_anomalies", "idx_anomaly", "anomaly_type,state"),
        ("kpis_correlations", "idx_corr", "state,variable"),
    ]
    .iter()
    .map(|(t, i, c)| (t.to_string(), i.to_string(), c.to_string()))
    .collect();
    assert_eq!(indexes, expected, "SPEC 3b's indexes");
    let _ = conn.disconnect().await;
}
