//! The medical longitudinal jobs (SPEC section 5b: patient-profiles, historical-trends,
//! dashboard-cache, quality-audit) through the real `medallion` binary on small hand-made Silver
//! lakes, every expected value worked out by hand in the comments; then the same runs into the real
//! MariaDB (127.0.0.1:3306, root, a database of its own per test), whose tables must hold exactly
//! the Parquet sink's rows.
//!
//! Calendar used below (2024 is a leap year; day n of 2024 = Jan 1 + n - 1):
//! D = Wednesday 2024-06-26 = day 178; D - 89 = 2024-03-29; D - 179 = 2023-12-30; D's ISO week
//! starts Monday 2024-06-24; its 13-week window starts 2024-04-01, its 26-week window 2024-01-01.

mod common;

use std::fs::{self, File};
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Float64Array, Int32Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use datafusion::parquet::arrow::ArrowWriter;

use common::medical_lake::{
    CrisisRow, PatientRow, Reading, TreatmentRow, micros, reading, run_job, run_job_into,
    write_crises, write_patients, write_treatments, write_vitals,
};
use common::mysql_db::TestDb;
use common::mysql_rows::mysql_rows;
use common::{Gold, NULL, Val, assert_rows, assert_success, f, files_under, i, s};
use medallion_jobs::medical::schema::vitals_schema;

/// The as-of day of the profile and trend tests.
const D: &str = "2024-06-26";

// ---------------------------------------------------------------------------------------------
// Running the binary and reading Gold back
// ---------------------------------------------------------------------------------------------

/// `n` readings of `patient` on `day` from 12:00, 5 minutes apart, at the given SpO2, 36.6 °C.
fn readings(patient: &'static str, day: &str, n: u32, spo2: f64) -> Vec<Reading> {
    (0..n)
        .map(|k| {
            let at = format!("{day} {:02}:{:02}", 12 + k / 12, (k % 12) * 5);
            reading(patient, &at, spo2, 36.6)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The longitudinal lake: patient-profiles and historical-trends as of D = 2024-06-26
// ---------------------------------------------------------------------------------------------

/// One reading a day at noon (SpO2 as given, heart rate 80, 36.6 °C) unless said otherwise.
/// A: 2024-01-05 (first day), 2024-03-28 (D-90, outside the 90 days: SpO2 50 would pull the
///    median down), 06-20 (97), 06-21 (98), 06-22 (96), and 06-27 after D (ignored).
/// B: 06-10 (91), 06-11 (93): median of an even count = (91 + 93) / 2 = 92.
/// C: 06-17 (91.5); 06-18 one reading of SpO2 127 (out of range: the day counts for
///    completeness, its averages are NULL and left out of the medians).
/// E: 2023-12-01 (first day), 2024-06-01 (95). F: 2023-11-01, 2024-06-05 (97).
/// G: only 2024-06-27, after D. H: only 2023-10-01 (no day in the 90 days). K: only 2023-06-01.
/// W: 04-01 (98), 04-08 (97), 04-15 three readings of 97 and 04-16 one of 93 (the week's value is
///    the mean of the daily averages, (97 + 93) / 2 = 95, not the mean of the 4 readings, 96),
///    04-29 (94).
fn longitudinal_vitals() -> Vec<Reading> {
    let mut rows = Vec::new();
    for (patient, day, spo2) in [
        ("A", "2024-01-05", 96.0),
        ("A", "2024-03-28", 50.0),
        ("A", "2024-06-20", 97.0),
        ("A", "2024-06-21", 98.0),
        ("A", "2024-06-22", 96.0),
        ("A", "2024-06-27", 99.0),
        ("B", "2024-06-10", 91.0),
        ("B", "2024-06-11", 93.0),
        ("C", "2024-06-17", 91.5),
        ("C", "2024-06-18", 127.0),
        ("E", "2023-12-01", 95.0),
        ("E", "2024-06-01", 95.0),
        ("F", "2023-11-01", 97.0),
        ("F", "2024-06-05", 97.0),
        ("G", "2024-06-27", 96.0),
        ("H", "2023-10-01", 96.0),
        ("K", "2023-06-01", 96.0),
        ("W", "2024-04-01", 98.0),
        ("W", "2024-04-08", 97.0),
        ("W", "2024-04-16", 93.0),
        ("W", "2024-04-29", 94.0),
    ] {
        rows.extend(readings(patient, day, 1, spo2));
    }
    rows.extend(readings("W", "2024-04-15", 3, 97.0));
    rows
}

/// Crises (start day counts; end, severity, pain as given).
const LONGITUDINAL_CRISES: [CrisisRow; 25] = [
    // A: D-180 and D-179 (in the 180 days, not the 6 months), D-90 (severity 4, not in the 90
    // days), D-89, May 10, D itself at 23:00, and one after D (ignored).
    ("A", "2023-12-29 10:00", Some("2023-12-30 10:00"), 4, 9),
    ("A", "2023-12-30 10:00", Some("2023-12-31 10:00"), 4, 9),
    ("A", "2024-03-28 10:00", Some("2024-03-29 08:00"), 4, 10),
    ("A", "2024-03-29 10:00", Some("2024-03-30 10:00"), 2, 4),
    ("A", "2024-05-10 10:00", Some("2024-05-11 10:00"), 3, 6),
    ("A", "2024-06-26 23:00", None, 1, 8),
    ("A", "2024-06-27 10:00", None, 4, 10),
    // E: D-90 only.
    ("E", "2024-03-28 10:00", Some("2024-03-29 10:00"), 2, 5),
    // F: two in January, one in February (before both treatments), one on D-89 (during both).
    ("F", "2024-01-10 10:00", Some("2024-01-11 10:00"), 2, 6),
    ("F", "2024-01-20 10:00", Some("2024-01-21 10:00"), 2, 6),
    ("F", "2024-02-15 10:00", Some("2024-02-16 10:00"), 2, 6),
    ("F", "2024-03-29 10:00", Some("2024-03-30 10:00"), 1, 5),
    // K: placed around its treatments (see treatment_response_by_hand).
    ("K", "2024-01-05 10:00", Some("2024-01-06 10:00"), 2, 5),
    ("K", "2024-01-15 10:00", Some("2024-01-16 10:00"), 2, 5),
    ("K", "2024-01-25 10:00", Some("2024-01-26 10:00"), 2, 5),
    ("K", "2024-03-10 10:00", Some("2024-03-11 10:00"), 2, 5),
    ("K", "2024-04-15 10:00", Some("2024-04-16 10:00"), 2, 5),
    ("K", "2024-04-20 10:00", Some("2024-04-21 10:00"), 2, 5),
    ("K", "2024-05-10 10:00", Some("2024-05-11 10:00"), 2, 5),
    ("K", "2024-06-10 10:00", Some("2024-06-11 10:00"), 2, 5),
    // W: a rising weekly count: 1 in the week of June 10, 2 in the week of June 17, 3 in D's
    // week (Monday to D), and one after D (ignored).
    ("W", "2024-06-10 12:00", Some("2024-06-10 18:00"), 1, 3),
    ("W", "2024-06-17 12:00", Some("2024-06-17 18:00"), 1, 3),
    ("W", "2024-06-18 12:00", Some("2024-06-18 18:00"), 1, 3),
    ("W", "2024-06-24 12:00", Some("2024-06-24 18:00"), 1, 3),
    ("W", "2024-06-25 12:00", Some("2024-06-25 18:00"), 1, 3),
];

/// W's third crisis of D's week, and the one after D.
const W_LATE_CRISES: [CrisisRow; 2] = [
    ("W", "2024-06-26 12:00", Some("2024-06-26 18:00"), 1, 3),
    ("W", "2024-06-27 12:00", Some("2024-06-27 18:00"), 1, 3),
];

const LONGITUDINAL_TREATMENTS: [TreatmentRow; 14] = [
    // A (first day 2024-01-05: only treatments from 2024-02-04 are assessed, none here).
    // Active on D: hydroxyurea (twice: listed once), folic_acid (ends on D). Not: paracetamol
    // (ended the day before), ibuprofen (starts after D).
    ("A", "hydroxyurea", "2024-01-01", None),
    ("A", "hydroxyurea", "2024-02-01", None),
    ("A", "folic_acid", "2023-06-01", Some("2024-06-26")),
    ("A", "paracetamol", "2024-01-20", Some("2024-06-25")),
    ("A", "ibuprofen", "2024-06-27", None),
    // E: a 10-day treatment with no crisis before it (rate_before 0 -> unknown).
    ("E", "folic_acid", "2024-02-01", Some("2024-02-10")),
    // F: an open-ended treatment and a 7-day one.
    ("F", "hydroxyurea", "2024-03-01", None),
    ("F", "paracetamol", "2024-03-25", Some("2024-03-31")),
    // K (first day 2023-06-01): vitamin_d starts on first_day + 29 (not assessed), zinc on
    // first_day + 30 (assessed); the others land exactly on -25 % and +25 %, and in between.
    ("K", "vitamin_d", "2023-06-30", Some("2023-07-20")),
    ("K", "zinc", "2023-07-01", Some("2023-07-10")),
    ("K", "hydroxyurea", "2024-03-01", Some("2024-04-09")),
    ("K", "folic_acid", "2024-05-01", Some("2024-05-24")),
    ("K", "paracetamol", "2024-06-01", Some("2024-12-31")),
    // after D: not assessed
    ("K", "ibuprofen", "2024-06-27", None),
];

const LONGITUDINAL_PATIENTS: [PatientRow; 8] = [
    ("A", 2012, "F", "SS", "Centre"),
    ("B", 2014, "M", "SC", "Nord"),
    ("C", 2015, "F", "SS", "Centre"),
    ("E", 1990, "M", "SS", "Littoral"),
    ("F", 2024, "F", "SC", "Nord"),
    ("G", 2000, "M", "SS", "Centre"),
    ("K", 2000, "F", "SS", "Nord"),
    ("W", 2010, "M", "SS", "Centre"),
    // H has no row in `patients`.
];

fn write_longitudinal_lake(lake: &Path) {
    write_vitals(lake, &longitudinal_vitals());
    let mut crises = LONGITUDINAL_CRISES.to_vec();
    crises.extend(W_LATE_CRISES);
    write_crises(lake, &crises);
    write_treatments(lake, &LONGITUDINAL_TREATMENTS);
    write_patients(lake, &LONGITUDINAL_PATIENTS);
}

/// The columns [`profiles_expected`] lists.
const PROFILE_COLUMNS: &str = "patient_id, sex, genotype, region, age_band, \
     CAST(first_reading AS VARCHAR), CAST(last_reading AS VARCHAR), spo2_median, hr_median, \
     temp_median, completeness_90d, crises_90d, crises_180d, pain_avg_90d, worst_severity_90d, \
     active_drugs, crisis_trend, risk_level";

/// `patient_profiles` as of D, by patient.
fn profiles_expected() -> Vec<Vec<Val>> {
    // One reading = 1/288 of a day's completeness.
    let day = 1.0 / 288.0;
    vec![
        // Age 2024 - 2012 = 12 -> 5 * floor(12 / 5) = 10 -> '10-14'. Medians of 97, 98, 96 (D-90
        // is out) = 97. Completeness: 3 days of 1/288 over 90 days. Crises in the 90 days:
        // D-89 (2, pain 4), May 10 (3, pain 6), D 23:00 (1, pain 8) = 3 -> high; in the 180:
        // those and D-90, D-179 = 5. Pain (4 + 6 + 8) / 3 = 6; worst 3 (D-90's 4 is out).
        // Months Jan..Jun: 0, 0, 2, 0, 1, 1: slope 3 / 17.5 = 0.1714, / mean 0.667 = 0.257 > 0.05
        // -> up. Drugs on D: folic_acid (ends on D), hydroxyurea (listed twice).
        vec![
            s("A"),
            s("F"),
            s("SS"),
            s("Centre"),
            s("10-14"),
            s("2024-01-05T12:00:00"),
            s("2024-06-22T12:00:00"),
            f(97.0),
            f(80.0),
            f(36.6),
            f(3.0 * day / 90.0),
            i(3),
            i(5),
            f(6.0),
            i(3),
            s("folic_acid,hydroxyurea"),
            s("up"),
            s("high"),
        ],
        // 10 -> '10-14'. Median (91 + 93) / 2 = 92: not < 92, < 95 -> medium. First day 06-10:
        // 17 days to D. No crisis: counts 0, pain and severity NULL, trend stable.
        vec![
            s("B"),
            s("M"),
            s("SC"),
            s("Nord"),
            s("10-14"),
            s("2024-06-10T12:00:00"),
            s("2024-06-11T12:00:00"),
            f(92.0),
            f(80.0),
            f(36.6),
            f(2.0 * day / 17.0),
            i(0),
            i(0),
            NULL,
            NULL,
            NULL,
            s("stable"),
            s("medium"),
        ],
        // 9 -> '5-9'. Median 91.5 < 92 -> high. Two days (one all out of range) over 10 days.
        vec![
            s("C"),
            s("F"),
            s("SS"),
            s("Centre"),
            s("5-9"),
            s("2024-06-17T12:00:00"),
            s("2024-06-18T12:00:00"),
            f(91.5),
            f(80.0),
            f(36.6),
            f(2.0 * day / 10.0),
            i(0),
            i(0),
            NULL,
            NULL,
            NULL,
            s("stable"),
            s("high"),
        ],
        // 34 -> '30-34'. Median 95: not < 95 -> low. D-90's crisis: 0 in 90 days, 1 in 180, NULL
        // pain and severity; months 0, 0, 1, 0, 0, 0: slope -0.5 / 17.5, / mean 1/6 = -0.171
        // -> down. folic_acid ended in February.
        vec![
            s("E"),
            s("M"),
            s("SS"),
            s("Littoral"),
            s("30-34"),
            s("2023-12-01T12:00:00"),
            s("2024-06-01T12:00:00"),
            f(95.0),
            f(80.0),
            f(36.6),
            f(day / 90.0),
            i(0),
            i(1),
            NULL,
            NULL,
            NULL,
            s("down"),
            s("low"),
        ],
        // 0 -> '0-4'. One crisis in 90 days (D-89) -> medium; 4 in 180. Months 2, 1, 1, 0, 0, 0:
        // slope -7 / 17.5 = -0.4, / mean 0.667 = -0.6 -> down. Paracetamol ended in March.
        vec![
            s("F"),
            s("F"),
            s("SC"),
            s("Nord"),
            s("0-4"),
            s("2023-11-01T12:00:00"),
            s("2024-06-05T12:00:00"),
            f(97.0),
            f(80.0),
            f(36.6),
            f(day / 90.0),
            i(1),
            i(4),
            f(5.0),
            i(1),
            s("hydroxyurea"),
            s("down"),
            s("medium"),
        ],
        // Not in `patients`: no attributes. No day in the 90 days: NULL medians, completeness 0.
        vec![
            s("H"),
            NULL,
            NULL,
            NULL,
            NULL,
            s("2023-10-01T12:00:00"),
            s("2023-10-01T12:00:00"),
            NULL,
            NULL,
            NULL,
            f(0.0),
            i(0),
            i(0),
            NULL,
            NULL,
            NULL,
            s("stable"),
            s("low"),
        ],
        // 24 -> '20-24'. Crises from D-89: Apr 15, Apr 20, May 10, Jun 10 = 4 -> high; all 8 are
        // in the 180 days. Months 3, 0, 1, 2, 1, 1: slope (-7.5 - 0.5 + 1 + 1.5 + 2.5) / 17.5 =
        // -3 / 17.5, / mean 8/6 = -0.129 -> down. Paracetamol runs to 2024-12-31.
        vec![
            s("K"),
            s("F"),
            s("SS"),
            s("Nord"),
            s("20-24"),
            s("2023-06-01T12:00:00"),
            s("2023-06-01T12:00:00"),
            NULL,
            NULL,
            NULL,
            f(0.0),
            i(4),
            i(8),
            f(5.0),
            i(2),
            s("paracetamol"),
            s("down"),
            s("high"),
        ],
        // 14 -> '10-14'. Daily SpO2 98, 97, 97, 93, 94 -> median 97. 7 readings from 04-01:
        // 87 days to D. Crises Jun 10, 17, 18, 24, 25, 26 = 6 (high); months 0, 0, 0, 0, 0, 6:
        // slope 15 / 17.5, / mean 1 -> up.
        vec![
            s("W"),
            s("M"),
            s("SS"),
            s("Centre"),
            s("10-14"),
            s("2024-04-01T12:00:00"),
            s("2024-04-29T12:00:00"),
            f(97.0),
            f(80.0),
            f(36.6),
            f(7.0 * day / 87.0),
            i(6),
            i(6),
            f(3.0),
            i(1),
            NULL,
            s("up"),
            s("high"),
        ],
    ]
}

/// Floats of 36.6 averaged may come back as 36.599999999999994: compare within 1e-9.
fn assert_rows_near(what: &str, actual: &[Vec<Val>], expected: &[Vec<Val>]) {
    let rounded = |rows: &[Vec<Val>]| -> Vec<Vec<Val>> {
        rows.iter()
            .map(|row| {
                row.iter()
                    .map(|v| match v {
                        Val::Float(x) => Val::Float((x * 1e9).round() / 1e9),
                        other => other.clone(),
                    })
                    .collect()
            })
            .collect()
    };
    assert_rows(what, &rounded(actual), &rounded(expected));
}

#[tokio::test]
async fn patient_profiles_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let (lake, out) = (dir.path().join("lake"), dir.path().join("gold"));
    write_longitudinal_lake(&lake);

    let output = run_job_into("patient-profiles", &lake, &out, &["--date", D]);
    assert_success(&output, "patient-profiles --date 2024-06-26");
    let g = Gold::open_tables(&out, &["patient_profiles"]).await;
    let rows = g
        .rows(&format!(
            "SELECT {PROFILE_COLUMNS} FROM patient_profiles ORDER BY patient_id"
        ))
        .await;
    // G's only reading is after D: no profile.
    assert_rows_near("patient_profiles", &rows, &profiles_expected());

    // As of the day before, the 90 days are 03-28 .. 06-25: A's crisis of D 23:00 is not there
    // yet but D-90's (03-28) now is: still 3 -> high; W loses its crisis of D: 5.
    let output = run_job_into("patient-profiles", &lake, &out, &["--date", "2024-06-25"]);
    assert_success(&output, "patient-profiles --date 2024-06-25");
    let g = Gold::open_tables(&out, &["patient_profiles"]).await;
    let rows = g
        .rows(
            "SELECT patient_id, crises_90d, risk_level FROM patient_profiles
             WHERE patient_id IN ('A', 'W') ORDER BY patient_id",
        )
        .await;
    assert_rows(
        "patient_profiles as of 2024-06-25",
        &rows,
        &[vec![s("A"), i(3), s("high")], vec![s("W"), i(5), s("high")]],
    );
}

/// The columns of `patient_trends` the trend tests read.
const TREND_COLUMNS: &str = "patient_id, \"window\", metric, \"values\", slope, n_weeks, \
     trend_direction";

fn nulls(n: usize) -> Vec<&'static str> {
    vec!["null"; n]
}

fn json(values: &[&str]) -> Val {
    s(&format!("[{}]", values.join(",")))
}

#[tokio::test]
async fn historical_trends_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let (lake, out) = (dir.path().join("lake"), dir.path().join("gold"));
    write_longitudinal_lake(&lake);

    let output = run_job_into("historical-trends", &lake, &out, &["--date", D]);
    assert_success(&output, "historical-trends --date 2024-06-26");
    let g = Gold::open_tables(&out, &["patient_trends", "treatment_response"]).await;

    // Patients with a reading in the windows (2024-01-01 / 2024-04-01 .. D): A, B, C, E, F, W
    // in both; not G (after D), H, K (2023 only). 6 x 2 windows x 4 metrics.
    let patients = g
        .rows(
            "SELECT patient_id, CAST(COUNT(*) AS BIGINT) FROM patient_trends
             GROUP BY patient_id ORDER BY patient_id",
        )
        .await;
    assert_rows(
        "patients in the windows",
        &patients,
        &["A", "B", "C", "E", "F", "W"]
            .iter()
            .map(|p| vec![s(p), i(8)])
            .collect::<Vec<_>>(),
    );

    // W, 3m (positions 0..12 = the weeks of 04-01 .. 06-24):
    //   spo2: 98 (04-01), 97 (04-08), 95 (mean of the daily averages 97 and 93), NULL (04-22),
    //   94 (04-29), then NULL: x = 0, 1, 2, 4, mean 1.75; y - 96 = 2, 1, -1, -2;
    //   slope = (-3.5 - 0.75 - 0.25 - 4.5) / (3.0625 + 0.5625 + 0.0625 + 5.0625) = -9 / 8.75;
    //   / mean 96 = -0.0107: stable.
    //   heart_rate: 80 in the same 4 weeks: slope 0.
    //   crises: 0 x 10, then 1, 2, 3: slope sum((x - 6) y) / sum((x - 6)^2) = 32 / 182, / mean
    //   6/13 = 0.381 -> up; all 13 weeks count.
    // W, 6m: the same weeks at positions 13.. (the slope does not move); crises at 23, 24, 25:
    //   slope (10.5 + 23 + 37.5) / 1462.5 = 71 / 1462.5, / mean 6/26 = 0.21 -> up.
    let mut spo2_3m = vec!["98.0", "97.0", "95.0", "null", "94.0"];
    spo2_3m.extend(nulls(8));
    let mut spo2_6m = nulls(13);
    spo2_6m.extend(&spo2_3m);
    let mut hr_3m = vec!["80.0", "80.0", "80.0", "null", "80.0"];
    hr_3m.extend(nulls(8));
    let mut crises_3m = vec!["0.0"; 10];
    crises_3m.extend(["1.0", "2.0", "3.0"]);
    let mut crises_6m = vec!["0.0"; 13];
    crises_6m.extend(&crises_3m);
    let rows = g
        .rows(&format!(
            "SELECT {TREND_COLUMNS} FROM patient_trends
             WHERE patient_id = 'W' AND metric <> 'temperature' ORDER BY \"window\", metric"
        ))
        .await;
    assert_rows(
        "patient_trends of W",
        &rows,
        &[
            vec![
                s("W"),
                s("3m"),
                s("crises"),
                json(&crises_3m),
                f(32.0 / 182.0),
                i(13),
                s("up"),
            ],
            vec![
                s("W"),
                s("3m"),
                s("heart_rate"),
                json(&hr_3m),
                f(0.0),
                i(4),
                s("stable"),
            ],
            vec![
                s("W"),
                s("3m"),
                s("spo2"),
                json(&spo2_3m),
                f(-9.0 / 8.75),
                i(4),
                s("stable"),
            ],
            vec![
                s("W"),
                s("6m"),
                s("crises"),
                json(&crises_6m),
                f(71.0 / 1462.5),
                i(26),
                s("up"),
            ],
            vec![
                s("W"),
                s("6m"),
                s("heart_rate"),
                json(&{
                    let mut v = nulls(13);
                    v.extend(&hr_3m);
                    v
                }),
                f(0.0),
                i(4),
                s("stable"),
            ],
            vec![
                s("W"),
                s("6m"),
                s("spo2"),
                json(&spo2_6m),
                f(-9.0 / 8.75),
                i(4),
                s("stable"),
            ],
        ],
    );

    // A single week with values: slope NULL (fewer than 2), trend stable. B, 3m spo2: one week
    // (06-10: mean of 91 and 93 = 92) at position 10. A, 3m crises: May 10 at position 5 and D
    // at 12: slope (-1 + 6) / 182, / mean 2/13 = 0.18 -> up. A, 6m crises: D-90 and D-89 in the
    // week of 03-25 (position 12): 2.
    let rows = g
        .rows(
            "SELECT patient_id, \"window\", metric, slope, n_weeks, trend_direction,
                    \"values\"
             FROM patient_trends
             WHERE (patient_id = 'B' AND \"window\" = '3m' AND metric = 'spo2')
                OR (patient_id = 'A' AND metric = 'crises')
             ORDER BY patient_id, \"window\"",
        )
        .await;
    let mut b_spo2 = nulls(10);
    b_spo2.extend(["92.0", "null", "null"]);
    let mut a_3m = vec!["0.0"; 13];
    a_3m[5] = "1.0";
    a_3m[12] = "1.0";
    let mut a_6m = vec!["0.0"; 26];
    a_6m[12] = "2.0";
    a_6m[18] = "1.0";
    a_6m[25] = "1.0";
    // A 6m: x = 12 (2), 18 (1), 25 (1); sum((x - 12.5) y) = -1 + 5.5 + 12.5 = 17.
    assert_rows(
        "single-week and zero-week series",
        &rows,
        &[
            vec![
                s("A"),
                s("3m"),
                s("crises"),
                f(5.0 / 182.0),
                i(13),
                s("up"),
                json(&a_3m),
            ],
            vec![
                s("A"),
                s("6m"),
                s("crises"),
                f(17.0 / 1462.5),
                i(26),
                s("up"),
                json(&a_6m),
            ],
            vec![
                s("B"),
                s("3m"),
                s("spo2"),
                NULL,
                i(1),
                s("stable"),
                json(&b_spo2),
            ],
        ],
    );

    treatment_response_by_hand(&g).await;
}

/// The columns [`treatment_response_expected`] lists.
const RESPONSE_COLUMNS: &str = "patient_id, drug, CAST(start_date AS VARCHAR) AS s, \
     CAST(end_date AS VARCHAR) AS e, CAST(before_start AS VARCHAR) AS bs, \
     CAST(before_end AS VARCHAR) AS be, CAST(during_start AS VARCHAR) AS ds, \
     CAST(during_end AS VARCHAR) AS de, crises_before, crises_during, rate_before, rate_during, \
     change_pct, response";

#[allow(clippy::too_many_arguments)]
fn response(
    patient: &str,
    drug: &str,
    dates: [Option<&str>; 6],
    crises: (i64, i64),
    rates: (f64, f64),
    change: Option<f64>,
    verdict: &str,
) -> Vec<Val> {
    let mut row = vec![s(patient), s(drug)];
    row.extend(dates.iter().map(|d| d.map(s).unwrap_or(NULL)));
    row.extend([
        i(crises.0),
        i(crises.1),
        f(rates.0),
        f(rates.1),
        change.map(f).unwrap_or(NULL),
        s(verdict),
    ]);
    row
}

/// `treatment_response` as of D, by patient, drug and start.
fn treatment_response_expected() -> Vec<Vec<Val>> {
    vec![
        // E (first day 2023-12-01): before = [max(02-01 - 90 = 2023-11-03, 2023-12-01),
        // 01-31] = 62 days without crisis: rate 0 -> change NULL -> unknown. During: the 10
        // days of the treatment, no crisis.
        response(
            "E",
            "folic_acid",
            [
                Some("2024-02-01"),
                Some("2024-02-10"),
                Some("2023-12-01"),
                Some("2024-01-31"),
                Some("2024-02-01"),
                Some("2024-02-10"),
            ],
            (0, 0),
            (0.0, 0.0),
            None,
            "unknown",
        ),
        // F (first day 2023-11-01), hydroxyurea from 03-01 (day 61), open: before = [day -29 =
        // 2023-12-02, 02-29] (90 days): Jan 10, Jan 20, Feb 15 -> 3 x 30 / 90 = 1; during =
        // [03-01, D] = 118 days: D-89 -> 30 / 118; change 100 (30/118 - 1) = -74.6 -> improved.
        response(
            "F",
            "hydroxyurea",
            [
                Some("2024-03-01"),
                None,
                Some("2023-12-02"),
                Some("2024-02-29"),
                Some("2024-03-01"),
                Some(D),
            ],
            (3, 1),
            (1.0, 30.0 / 118.0),
            Some(100.0 * (30.0 / 118.0 - 1.0)),
            "improved",
        ),
        // F, paracetamol 03-25 .. 03-31 (7 days, shorter than the window): before = [12-26,
        // 03-24] (90 days, 3 crises) = 1; during: D-89 -> 30 / 7; change +328.6 -> worse.
        response(
            "F",
            "paracetamol",
            [
                Some("2024-03-25"),
                Some("2024-03-31"),
                Some("2023-12-26"),
                Some("2024-03-24"),
                Some("2024-03-25"),
                Some("2024-03-31"),
            ],
            (3, 1),
            (1.0, 30.0 / 7.0),
            Some(100.0 * (30.0 / 7.0 - 1.0)),
            "worse",
        ),
        // K, folic_acid 05-01 .. 05-24 (24 days): before = [02-01, 04-30] (90 days: Mar 10,
        // Apr 15, Apr 20) = 1; during: May 10 -> 30 / 24 = 1.25; change exactly +25 -> worse.
        response(
            "K",
            "folic_acid",
            [
                Some("2024-05-01"),
                Some("2024-05-24"),
                Some("2024-02-01"),
                Some("2024-04-30"),
                Some("2024-05-01"),
                Some("2024-05-24"),
            ],
            (3, 1),
            (1.0, 1.25),
            Some(25.0),
            "worse",
        ),
        // K, hydroxyurea 03-01 .. 04-09 (40 days): before = [12-02, 02-29] (Jan 5, 15, 25) = 1;
        // during: Mar 10 -> 30 / 40 = 0.75; change exactly -25 -> improved.
        response(
            "K",
            "hydroxyurea",
            [
                Some("2024-03-01"),
                Some("2024-04-09"),
                Some("2023-12-02"),
                Some("2024-02-29"),
                Some("2024-03-01"),
                Some("2024-04-09"),
            ],
            (3, 1),
            (1.0, 0.75),
            Some(-25.0),
            "improved",
        ),
        // K, paracetamol 06-01 .. 12-31 (ends after D: during stops at D, 26 days): before =
        // [03-03, 05-31] (Mar 10, Apr 15, Apr 20, May 10) = 4 x 30 / 90 = 4/3; during: Jun 10
        // -> 30 / 26; change 100 (30/26 - 4/3) / (4/3) = -13.5 -> unchanged.
        response(
            "K",
            "paracetamol",
            [
                Some("2024-06-01"),
                Some("2024-12-31"),
                Some("2024-03-03"),
                Some("2024-05-31"),
                Some("2024-06-01"),
                Some(D),
            ],
            (4, 1),
            (4.0 / 3.0, 30.0 / 26.0),
            Some(100.0 * (30.0 / 26.0 - 4.0 / 3.0) / (4.0 / 3.0)),
            "unchanged",
        ),
        // K, zinc from first_day + 30: before = [first_day, 06-30] (30 days), no crisis ->
        // unknown. vitamin_d (first_day + 29) and ibuprofen (after D) are not assessed.
        response(
            "K",
            "zinc",
            [
                Some("2023-07-01"),
                Some("2023-07-10"),
                Some("2023-06-01"),
                Some("2023-06-30"),
                Some("2023-07-01"),
                Some("2023-07-10"),
            ],
            (0, 0),
            (0.0, 0.0),
            None,
            "unknown",
        ),
    ]
}

async fn treatment_response_by_hand(g: &Gold) {
    let rows = g
        .rows(&format!(
            "SELECT {RESPONSE_COLUMNS} FROM treatment_response
             ORDER BY patient_id, drug, start_date"
        ))
        .await;
    assert_rows("treatment_response", &rows, &treatment_response_expected());
}

// ---------------------------------------------------------------------------------------------
// dashboard-cache
// ---------------------------------------------------------------------------------------------

/// The dashboard lake, as of Wednesday 2024-03-13 (ISO week 11 = 03-11 .. 03-17):
/// R1, R2 in Centre, R3 in Nord, R4 missing from `patients`.
/// Week of 01-29: R3 one reading (SpO2 96).
/// Week of 03-04: R1 Monday 2 readings at SpO2 88 (10 minutes < 90), Tuesday 12 at 85 (60
/// minutes: a low day); R2 Wednesday 1 at 96; R3 Thursday 3 at 89 (15 minutes); R4 Friday 1 at 97.
/// Week of 03-11: R1 Monday 1 at 95; R3 Thursday 03-14 (after D: ignored).
/// Crises: R1 03-05, R2 03-06 and 03-07, R3 03-12 (a week in which Nord has no reading up to D),
/// R1 03-14 (after D).
fn write_dashboard_lake(lake: &Path) {
    let mut rows = readings("R3", "2024-01-29", 1, 96.0);
    rows.extend(readings("R1", "2024-03-04", 2, 88.0));
    rows.extend(readings("R1", "2024-03-05", 12, 85.0));
    rows.extend(readings("R2", "2024-03-06", 1, 96.0));
    rows.extend(readings("R3", "2024-03-07", 3, 89.0));
    rows.extend(readings("R4", "2024-03-08", 1, 97.0));
    rows.extend(readings("R1", "2024-03-11", 1, 95.0));
    rows.extend(readings("R3", "2024-03-14", 1, 80.0));
    write_vitals(lake, &rows);
    write_crises(
        lake,
        &[
            ("R1", "2024-03-05 10:00", Some("2024-03-06 10:00"), 2, 5),
            ("R2", "2024-03-06 10:00", Some("2024-03-06 20:00"), 1, 3),
            ("R2", "2024-03-07 10:00", Some("2024-03-07 20:00"), 1, 3),
            ("R3", "2024-03-12 10:00", None, 3, 8),
            ("R1", "2024-03-14 10:00", None, 3, 8),
        ],
    );
    write_treatments(lake, &[]);
    write_patients(
        lake,
        &[
            ("R1", 2010, "F", "SS", "Centre"),
            ("R2", 2011, "M", "SC", "Centre"),
            ("R3", 2012, "F", "SS", "Nord"),
        ],
    );
}

const DASHBOARD_COLUMNS: &str = "region, CAST(week_start AS VARCHAR) AS w, active_patients, crises, \
     patients_with_crisis, completeness_avg, spo2_low_minutes_per_day, patients_spo2_low";

fn dashboard_expected() -> Vec<Vec<Val>> {
    let day = 1.0 / 288.0;
    vec![
        // Week of 01-29: Nord (R3 alone) and all regions; no crisis: 0 and 0, not NULL.
        vec![
            s("Nord"),
            s("2024-01-29"),
            i(1),
            i(0),
            i(0),
            f(day),
            f(0.0),
            i(0),
        ],
        vec![
            NULL,
            s("2024-01-29"),
            i(1),
            i(0),
            i(0),
            f(day),
            f(0.0),
            i(0),
        ],
        // Week of 03-04, Centre: R1 (2 days) and R2; crises 1 + 2 = 3 of 2 patients;
        // patient-days 2/288, 12/288, 1/288 -> mean 5/288; minutes (10 + 60 + 0) / 3; R1's
        // Tuesday has 60 minutes -> 1 patient.
        vec![
            s("Centre"),
            s("2024-03-04"),
            i(2),
            i(3),
            i(2),
            f(5.0 * day),
            f(70.0 / 3.0),
            i(1),
        ],
        // Nord: R3's 3 readings (15 minutes); its crisis is the next week.
        vec![
            s("Nord"),
            s("2024-03-04"),
            i(1),
            i(0),
            i(0),
            f(3.0 * day),
            f(15.0),
            i(0),
        ],
        // All regions: R1..R4; 5 patient-days of 2, 12, 1, 3, 1 readings; 85 minutes / 5.
        vec![
            NULL,
            s("2024-03-04"),
            i(4),
            i(3),
            i(2),
            f(19.0 / 5.0 * day),
            f(17.0),
            i(1),
        ],
        // Week of 03-11 up to D: Centre (R1 Monday) without crisis (R1's is after D); all
        // regions also count R3's crisis of 03-12, though Nord has no row that week.
        vec![
            s("Centre"),
            s("2024-03-11"),
            i(1),
            i(0),
            i(0),
            f(day),
            f(0.0),
            i(0),
        ],
        vec![
            NULL,
            s("2024-03-11"),
            i(1),
            i(1),
            i(1),
            f(day),
            f(0.0),
            i(0),
        ],
    ]
}

#[tokio::test]
async fn dashboard_cache_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let (lake, out) = (dir.path().join("lake"), dir.path().join("gold"));
    write_dashboard_lake(&lake);

    let export = dir.path().join("export");
    let export_arg = export.to_str().unwrap();
    let output = run_job_into(
        "dashboard-cache",
        &lake,
        &out,
        &["--date", "2024-03-13", "--export", export_arg],
    );
    assert_success(&output, "dashboard-cache --date 2024-03-13");
    let g = Gold::open_tables(&out, &["dashboard_weekly"]).await;
    let rows = g
        .rows(&format!(
            "SELECT {DASHBOARD_COLUMNS} FROM dashboard_weekly
             ORDER BY week_start, region IS NULL, region"
        ))
        .await;
    assert_rows("dashboard_weekly", &rows, &dashboard_expected());

    // One JSON document per row: dashboard/<region or all>/<week_start>.json, the row's fields;
    // no temporary file left.
    let mut files: Vec<String> = files_under(&export.join("dashboard"))
        .iter()
        .map(|p| {
            p.strip_prefix(&export)
                .unwrap()
                .to_string_lossy()
                .to_string()
        })
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "dashboard/Centre/2024-03-04.json",
            "dashboard/Centre/2024-03-11.json",
            "dashboard/Nord/2024-01-29.json",
            "dashboard/Nord/2024-03-04.json",
            "dashboard/all/2024-01-29.json",
            "dashboard/all/2024-03-04.json",
            "dashboard/all/2024-03-11.json",
        ]
    );
    let doc: serde_json::Value =
        serde_json::from_slice(&fs::read(export.join("dashboard/Centre/2024-03-04.json")).unwrap())
            .unwrap();
    assert_eq!(doc["region"], "Centre");
    assert_eq!(doc["week_start"], "2024-03-04");
    assert_eq!(doc["active_patients"], 2);
    assert_eq!(doc["crises"], 3);
    assert_eq!(doc["patients_with_crisis"], 2);
    assert_eq!(doc["patients_spo2_low"], 1);
    assert!((doc["spo2_low_minutes_per_day"].as_f64().unwrap() - 70.0 / 3.0).abs() < 1e-9);
    assert!((doc["completeness_avg"].as_f64().unwrap() - 5.0 / 288.0).abs() < 1e-12);
    let all: serde_json::Value =
        serde_json::from_slice(&fs::read(export.join("dashboard/all/2024-03-11.json")).unwrap())
            .unwrap();
    assert_eq!(all["region"], serde_json::Value::Null);
    assert_eq!(all["crises"], 1);

    // A run that does not publish writes no document: the lake loses `patients`.
    let failed_export = dir.path().join("export-of-a-failed-run");
    fs::remove_dir_all(lake.join("patients")).unwrap();
    let output = run_job_into(
        "dashboard-cache",
        &lake,
        &out,
        &[
            "--date",
            "2024-03-13",
            "--export",
            failed_export.to_str().unwrap(),
        ],
    );
    assert!(!output.status.success(), "{output:?}");
    assert!(
        files_under(&failed_export).is_empty(),
        "documents of a failed run"
    );
}

// ---------------------------------------------------------------------------------------------
// quality-audit
// ---------------------------------------------------------------------------------------------

/// (patient, device, `YYYY-MM-DD HH:MM`, SpO2, signal quality)
type DeviceReading = (&'static str, &'static str, String, f64, f64);

/// Writes `rows` as the whole `vitals` table, heart rate 80, 36.6 °C, breathing 16.
fn write_device_vitals(lake: &Path, rows: &[DeviceReading]) {
    let n = rows.len();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.1))),
        Arc::new(TimestampMicrosecondArray::from_iter_values(
            rows.iter().map(|r| micros(&r.2)),
        )),
        Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.3))),
        Arc::new(Int32Array::from(vec![80; n])),
        Arc::new(Float64Array::from(vec![36.6; n])),
        Arc::new(Int32Array::from(vec![16; n])),
        Arc::new(Int32Array::from(vec![10; n])),
        Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.4))),
    ];
    let batch = RecordBatch::try_new(vitals_schema(), columns).unwrap();
    let folder = lake.join("vitals");
    fs::create_dir_all(&folder).unwrap();
    let file = File::create(folder.join("part-00000.parquet")).unwrap();
    let mut writer = ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

/// The quality lake, as of 2024-03-10:
/// Q1's device D-Q1 (signal 0.8): February 27 (2 readings) and 29 (1, SpO2 127: out of range);
/// March 1, 5, 10 (1 each) and 11 (after D: ignored).
/// Q2's device D-Q2 (signal 0.5): March 2, all 288 readings.
/// Q1's second device D-Q3 (signal 1.0): March 3, 1 reading.
fn write_quality_lake(lake: &Path) {
    let at = |day: &str, k: u32| format!("{day} {:02}:{:02}", k / 12, (k % 12) * 5);
    let mut rows: Vec<DeviceReading> = vec![
        ("Q1", "D-Q1", at("2024-02-27", 0), 96.0, 0.8),
        ("Q1", "D-Q1", at("2024-02-27", 1), 96.0, 0.8),
        ("Q1", "D-Q1", at("2024-02-29", 0), 127.0, 0.8),
        ("Q1", "D-Q1", at("2024-03-01", 0), 96.0, 0.8),
        ("Q1", "D-Q1", at("2024-03-05", 0), 96.0, 0.8),
        ("Q1", "D-Q1", at("2024-03-10", 0), 96.0, 0.8),
        ("Q1", "D-Q1", at("2024-03-11", 0), 96.0, 0.8),
        ("Q1", "D-Q3", at("2024-03-03", 0), 96.0, 1.0),
    ];
    rows.extend((0..288).map(|k| ("Q2", "D-Q2", at("2024-03-02", k), 96.0, 0.5)));
    write_device_vitals(lake, &rows);
    // (the job needs the table; crises play no part in the audit)
    write_crises(
        lake,
        &[("Q1", "2024-03-05 10:00", Some("2024-03-06 10:00"), 1, 3)],
    );
    write_treatments(lake, &[]);
    write_patients(
        lake,
        &[
            ("Q1", 2001, "F", "SS", "Centre"),
            ("Q2", 2002, "M", "SC", "Nord"),
        ],
    );
}

#[tokio::test]
async fn quality_audit_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let (lake, out) = (dir.path().join("lake"), dir.path().join("gold"));
    write_quality_lake(&lake);

    let output = run_job_into("quality-audit", &lake, &out, &["--date", "2024-03-10"]);
    assert_success(&output, "quality-audit --date 2024-03-10");
    let g = Gold::open_tables(&out, &["device_quality_monthly", "quality_audit"]).await;
    let rows = g
        .rows(
            "SELECT device_id, CAST(month AS VARCHAR) AS m, readings, expected, completeness,
                    out_of_range_share, signal_quality_avg, gap_days
             FROM device_quality_monthly ORDER BY month, device_id",
        )
        .await;
    assert_rows(
        "device_quality_monthly",
        &rows,
        &[
            // February: 2 days with readings -> 576 expected; 1 of 3 out of range; the 28th is
            // missing between the 27th and the 29th: 1 gap day.
            vec![
                s("D-Q1"),
                s("2024-02-01"),
                i(3),
                i(576),
                f(3.0 / 576.0),
                f(1.0 / 3.0),
                f(0.8),
                i(1),
            ],
            // March up to D: the 1st, 5th and 10th -> 864 expected; days 2-4 and 6-9 missing.
            vec![
                s("D-Q1"),
                s("2024-03-01"),
                i(3),
                i(864),
                f(3.0 / 864.0),
                f(0.0),
                f(0.8),
                i(7),
            ],
            vec![
                s("D-Q2"),
                s("2024-03-01"),
                i(288),
                i(288),
                f(1.0),
                f(0.0),
                f(0.5),
                i(0),
            ],
            vec![
                s("D-Q3"),
                s("2024-03-01"),
                i(1),
                i(288),
                f(1.0 / 288.0),
                f(0.0),
                f(1.0),
                i(0),
            ],
        ],
    );
    let rows = g
        .rows(
            "SELECT CAST(month AS VARCHAR) AS m, readings, expected, completeness, out_of_range_share,
                    signal_quality_avg, gap_days, devices, devices_below_90
             FROM quality_audit ORDER BY month",
        )
        .await;
    assert_rows(
        "quality_audit",
        &rows,
        &[
            vec![
                s("2024-02-01"),
                i(3),
                i(576),
                f(3.0 / 576.0),
                f(1.0 / 3.0),
                f(0.8),
                i(1),
                i(1),
                i(1),
            ],
            // March: 3 + 288 + 1 = 292 readings of 864 + 288 + 288 = 1440; signal (3 x 0.8 +
            // 288 x 0.5 + 1.0) / 292; gap days 7; D-Q1 and D-Q3 below 0.9.
            vec![
                s("2024-03-01"),
                i(292),
                i(1440),
                f(292.0 / 1440.0),
                f(0.0),
                f((3.0 * 0.8 + 288.0 * 0.5 + 1.0) / 292.0),
                i(7),
                i(3),
                i(2),
            ],
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------------------------

#[test]
fn a_missing_silver_table_fails_in_one_line_and_publishes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (lake, out) = (dir.path().join("lake"), dir.path().join("gold"));
    write_longitudinal_lake(&lake);
    fs::remove_dir_all(lake.join("crises")).unwrap();
    for job in ["patient-profiles", "historical-trends", "dashboard-cache"] {
        let output = run_job_into(job, &lake, &out, &["--date", D]);
        assert_eq!(output.status.code(), Some(2), "{job}: {output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(errors.len(), 1, "{job}: {stderr}");
        assert!(errors[0].contains("crises"), "{job}: {stderr}");
    }
    for table in [
        "patient_profiles",
        "patient_trends",
        "treatment_response",
        "dashboard_weekly",
    ] {
        assert!(!out.join(table).exists(), "{table} was published");
    }
}

// ---------------------------------------------------------------------------------------------
// MariaDB: the same rows as the Parquet sink
// ---------------------------------------------------------------------------------------------

/// For each table: its columns (timestamps as text in both engines) and its order.
const COMPARED: [(&str, &str, &str, &str); 6] = [
    (
        "patient_profiles",
        "patient_id, sex, genotype, region, age_band, spo2_median, hr_median, temp_median, \
         completeness_90d, crises_90d, crises_180d, pain_avg_90d, worst_severity_90d, \
         active_drugs, crisis_trend, risk_level",
        "CAST(first_reading AS VARCHAR), CAST(last_reading AS VARCHAR)",
        "patient_id",
    ),
    (
        "patient_trends",
        "patient_id, `window`, metric, `values`, slope, n_weeks, trend_direction",
        "",
        "patient_id, `window`, metric",
    ),
    (
        "treatment_response",
        "patient_id, drug, start_date, end_date, before_start, before_end, during_start, \
         during_end, crises_before, crises_during, rate_before, rate_during, change_pct, response",
        "",
        "patient_id, drug, start_date",
    ),
    (
        "dashboard_weekly",
        "region, week_start, active_patients, crises, patients_with_crisis, completeness_avg, \
         spo2_low_minutes_per_day, patients_spo2_low",
        "",
        "week_start, region IS NULL, region",
    ),
    (
        "device_quality_monthly",
        "device_id, month, readings, expected, completeness, out_of_range_share, \
         signal_quality_avg, gap_days",
        "",
        "device_id, month",
    ),
    (
        "quality_audit",
        "month, readings, expected, completeness, out_of_range_share, signal_quality_avg, \
         gap_days, devices, devices_below_90",
        "",
        "month",
    ),
];

#[tokio::test]
async fn mysql_holds_the_parquet_rows() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::create("longitudinal").await;
    let url = db.root_url();
    let runs = [
        ("patient-profiles", "longitudinal", D),
        ("historical-trends", "longitudinal", D),
        ("dashboard-cache", "dashboard", "2024-03-13"),
        ("quality-audit", "quality", "2024-03-10"),
    ];
    for (lake_name, write) in [
        ("longitudinal", write_longitudinal_lake as fn(&Path)),
        ("dashboard", write_dashboard_lake),
        ("quality", write_quality_lake),
    ] {
        write(&dir.path().join(lake_name));
    }
    let out = dir.path().join("gold");
    for (job, lake_name, day) in runs {
        let lake = dir.path().join(lake_name);
        assert_success(
            &run_job_into(job, &lake, &out, &["--date", day]),
            &format!("{job} into Parquet"),
        );
        assert_success(
            &run_job(job, &lake, &url, &["--date", day]),
            &format!("{job} into MariaDB"),
        );
    }
    let tables: Vec<&str> = COMPARED.iter().map(|c| c.0).collect();
    let g = Gold::open_tables(&out, &tables).await;
    let mut conn = db.conn().await;
    for (table, columns, timestamps, order) in COMPARED {
        let df_columns = columns.replace('`', "\"");
        let df_order = order.replace('`', "\"");
        let (df_extra, my_extra) = if timestamps.is_empty() {
            (String::new(), String::new())
        } else {
            (
                format!(", {timestamps}"),
                format!(
                    ", {}",
                    timestamps
                        .replace("CAST(", "DATE_FORMAT(")
                        .replace(" AS VARCHAR)", ", '%Y-%m-%dT%H:%i:%s')")
                ),
            )
        };
        // dates come back as YYYY-MM-DD text from both
        let parquet = g
            .rows(&format!(
                "SELECT {df_columns}{df_extra} FROM {table} ORDER BY {df_order}"
            ))
            .await;
        // MariaDB sorts ENUM columns by their position in the type: order by their text
        let my_order = order
            .replace("`window`", "CAST(`window` AS CHAR)")
            .replace("metric", "CAST(metric AS CHAR)");
        let mysql = mysql_rows(
            &mut conn,
            &format!("SELECT {columns}{my_extra} FROM {table} ORDER BY {my_order}"),
        )
        .await;
        assert!(!parquet.is_empty(), "{table} is empty");
        assert_rows(&format!("{table} in MariaDB"), &mysql, &parquet);
    }
}

// ---------------------------------------------------------------------------------------------
// On a cluster: the embedded rows
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn submitted_runs_give_the_embedded_rows() {
    let dir = tempfile::tempdir().unwrap();
    let (longitudinal, dashboard, quality) = (
        dir.path().join("longitudinal"),
        dir.path().join("dashboard"),
        dir.path().join("quality"),
    );
    write_longitudinal_lake(&longitudinal);
    write_dashboard_lake(&dashboard);
    write_quality_lake(&quality);
    let (embedded, submitted) = (dir.path().join("embedded"), dir.path().join("submitted"));
    let cluster = common::cluster::Cluster::start_with(2, &[], &[]);
    for (job, lake, day) in [
        ("patient-profiles", &longitudinal, D),
        ("historical-trends", &longitudinal, D),
        ("dashboard-cache", &dashboard, "2024-03-13"),
        ("quality-audit", &quality, "2024-03-10"),
    ] {
        assert_success(
            &run_job_into(job, lake, &embedded, &["--date", day]),
            &format!("{job} embedded"),
        );
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_medallion"))
            .args(["submit", job, "--scheduler", &cluster.url(), "--lake"])
            .arg(lake)
            .args(["--sink", &format!("file://{}", submitted.display())])
            .args(["--no-progress", "--date", day])
            .env_remove("RUST_LOG")
            .env_remove("MEDALLION_CONFIG_DIR")
            .output()
            .expect("start medallion");
        assert_success(&output, &format!("{job} submitted"));
    }
    let tables: Vec<&str> = COMPARED.iter().map(|c| c.0).collect();
    let (e, s) = (
        Gold::open_tables(&embedded, &tables).await,
        Gold::open_tables(&submitted, &tables).await,
    );
    for (table, columns, timestamps, order) in COMPARED {
        let columns = columns.replace('`', "\"");
        let order = order.replace('`', "\"");
        let extra = if timestamps.is_empty() {
            String::new()
        } else {
            format!(", {timestamps}")
        };
        let sql = format!("SELECT {columns}{extra} FROM {table} ORDER BY {order}");
        let expected = e.rows(&sql).await;
        assert!(!expected.is_empty(), "{table} is empty");
        assert_rows(
            &format!("{table} on the cluster"),
            &s.rows(&sql).await,
            &expected,
        );
    }
}
