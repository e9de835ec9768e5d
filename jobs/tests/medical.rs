//! The medical IoT jobs (SPEC section 5) through the real `medallion` binary, on small hand-made
//! Silver lakes, with every expected value worked out by hand in the test.

mod common;

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Date32Array, Float64Array, Int32Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use medallion_jobs::medical::schema::{
    crises_schema, patients_schema, treatments_schema, vitals_schema,
};

use common::{Gold, Val, assert_success, f, i, s};

const KEY: &str = "research-key-for-the-tests-0001";

// ---------------------------------------------------------------------------------------------
// Hand-made Silver tables
// ---------------------------------------------------------------------------------------------

/// One reading: patient, `YYYY-MM-DD HH:MM`, SpO2, heart rate, temperature, respiratory rate.
type Reading = (
    &'static str,
    String,
    Option<f64>,
    Option<i32>,
    Option<f64>,
    Option<i32>,
);

/// Microseconds since the epoch of a wall-clock time `YYYY-MM-DD HH:MM` or a day `YYYY-MM-DD`.
fn micros(ts: &str) -> i64 {
    let text = if ts.len() == 10 {
        format!("{ts} 00:00")
    } else {
        ts.to_string()
    };
    chrono::NaiveDateTime::parse_from_str(&text, "%Y-%m-%d %H:%M")
        .unwrap_or_else(|e| panic!("bad test time {ts}: {e}"))
        .and_utc()
        .timestamp_micros()
}

fn days(date: &str) -> i32 {
    (micros(date) / 86_400_000_000) as i32
}

fn write(lake: &Path, table: &str, schema: SchemaRef, columns: Vec<ArrayRef>) {
    let batch = RecordBatch::try_new(schema, columns).expect("test batch");
    let dir = lake.join(table);
    fs::create_dir_all(&dir).unwrap();
    let file = File::create(dir.join("part-00000.parquet")).unwrap();
    let mut writer = ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

fn write_vitals(lake: &Path, rows: &[Reading]) {
    write(
        lake,
        "vitals",
        vitals_schema(),
        vec![
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                rows.iter()
                    .map(|r| format!("D-{}", r.0))
                    .collect::<Vec<_>>(),
            )),
            Arc::new(TimestampMicrosecondArray::from(
                rows.iter().map(|r| micros(&r.1)).collect::<Vec<_>>(),
            )),
            Arc::new(Float64Array::from(
                rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            )),
            Arc::new(Int32Array::from(
                rows.iter().map(|r| r.3).collect::<Vec<_>>(),
            )),
            Arc::new(Float64Array::from(
                rows.iter().map(|r| r.4).collect::<Vec<_>>(),
            )),
            Arc::new(Int32Array::from(
                rows.iter().map(|r| r.5).collect::<Vec<_>>(),
            )),
            Arc::new(Int32Array::from(vec![Some(10); rows.len()])),
            Arc::new(Float64Array::from(vec![Some(0.9); rows.len()])),
        ],
    );
}

/// (patient, start, end or None, severity, pain)
type CrisisRow = (&'static str, &'static str, Option<&'static str>, i32, i32);

fn write_crises(lake: &Path, rows: &[CrisisRow]) {
    write(
        lake,
        "crises",
        crises_schema(),
        vec![
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            )),
            Arc::new(TimestampMicrosecondArray::from(
                rows.iter().map(|r| micros(r.1)).collect::<Vec<_>>(),
            )),
            Arc::new(TimestampMicrosecondArray::from(
                rows.iter().map(|r| r.2.map(micros)).collect::<Vec<_>>(),
            )),
            Arc::new(Int32Array::from(
                rows.iter().map(|r| r.3).collect::<Vec<_>>(),
            )),
            Arc::new(Int32Array::from(
                rows.iter().map(|r| Some(r.4)).collect::<Vec<_>>(),
            )),
        ],
    );
}

/// (patient, drug, start, end or None)
type TreatmentRow = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
);

fn write_treatments(lake: &Path, rows: &[TreatmentRow]) {
    write(
        lake,
        "treatments",
        treatments_schema(),
        vec![
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            )),
            Arc::new(Date32Array::from(
                rows.iter().map(|r| days(r.2)).collect::<Vec<_>>(),
            )),
            Arc::new(Date32Array::from(
                rows.iter().map(|r| r.3.map(days)).collect::<Vec<_>>(),
            )),
            Arc::new(Float64Array::from(vec![Some(500.0); rows.len()])),
        ],
    );
}

/// (patient, birth year, sex, genotype, region)
type PatientRow = (&'static str, i32, &'static str, &'static str, &'static str);

fn write_patients(lake: &Path, rows: &[PatientRow]) {
    write(
        lake,
        "patients",
        patients_schema(),
        vec![
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            )),
            Arc::new(Int32Array::from(
                rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.3).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.4).collect::<Vec<_>>(),
            )),
        ],
    );
}

/// A reading with the given SpO2 and temperature, heart rate 80 and breathing 16.
fn reading(patient: &'static str, at: &str, spo2: f64, temp: f64) -> Reading {
    (
        patient,
        at.to_string(),
        Some(spo2),
        Some(80),
        Some(temp),
        Some(16),
    )
}

// ---------------------------------------------------------------------------------------------
// Running the binary and reading Gold back
// ---------------------------------------------------------------------------------------------

/// `medallion run JOB --lake LAKE --sink file://OUT --no-progress [extra...]`, without any
/// pseudonymisation key in the environment.
fn run(job: &str, lake: &Path, out: &Path, extra: &[&str]) -> Output {
    let sink = format!("file://{}", out.display());
    Command::new(env!("CARGO_BIN_EXE_medallion"))
        .args(["run", job, "--lake"])
        .arg(lake)
        .args(["--sink", &sink, "--no-progress", "--parallelism", "2"])
        .args(extra)
        .env_remove("RUST_LOG")
        .env_remove("MEDALLION_PSEUDONYM_KEY")
        .output()
        .expect("start the medallion binary")
}

async fn gold(out: &Path, tables: &[&str]) -> Gold {
    let ctx = SessionContext::new();
    for table in tables {
        ctx.register_parquet(
            *table,
            format!("{}/", out.join(table).display()),
            ParquetReadOptions::default(),
        )
        .await
        .unwrap_or_else(|e| panic!("register {table}: {e}"));
    }
    Gold {
        out: out.to_path_buf(),
        ctx,
    }
}

fn assert_near(what: &str, actual: &Val, expected: f64, tolerance: f64) {
    let value = actual
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: {actual:?} is not a number"));
    assert!(
        (value - expected).abs() <= tolerance,
        "{what}: {value} != {expected}"
    );
}

// ---------------------------------------------------------------------------------------------
// daily-aggregations
// ---------------------------------------------------------------------------------------------

/// P1 on Monday 2024-03-04, ten readings 00:00..00:45, two of them out of physical range.
fn p1_monday() -> Vec<Reading> {
    let spo2 = [95.0, 96.0, 97.0, 88.0, 89.0, 127.0, 94.0, 93.0, 92.0, 91.0];
    let hr = [80, 82, 84, 86, 88, 90, 300, 78, 76, 74];
    let temp = [
        Some(36.5),
        Some(36.7),
        Some(38.0),
        Some(38.4),
        Some(37.0),
        Some(36.9),
        Some(36.8),
        None,
        Some(36.6),
        Some(36.5),
    ];
    (0..10)
        .map(|n| {
            (
                "P1",
                format!("2024-03-04 00:{:02}", n * 5),
                Some(spo2[n]),
                Some(hr[n]),
                temp[n],
                Some(16),
            )
        })
        .collect()
}

/// P1 on Tuesday 2024-03-05: all 288 readings, SpO2 96, 36.6 °C.
fn p1_tuesday() -> Vec<Reading> {
    (0..288)
        .map(|n| {
            reading(
                "P1",
                &format!("2024-03-05 {:02}:{:02}", n / 12, (n % 12) * 5),
                96.0,
                36.6,
            )
        })
        .collect()
}

#[tokio::test]
async fn daily_aggregations_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let (lake, out) = (dir.path().join("lake"), dir.path().join("gold"));
    let mut rows = p1_monday();
    rows.extend(p1_tuesday());
    rows.push(reading("P2", "2024-03-04 12:00", 98.0, 36.9));
    write_vitals(&lake, &rows);

    let output = run("daily-aggregations", &lake, &out, &[]);
    assert_success(&output, "daily-aggregations");
    let g = gold(&out, &["patient_daily_vitals", "pipeline_runs"]).await;

    let monday = g
        .rows(
            "SELECT readings, valid_readings, completeness, out_of_range_share,
                    spo2_min, spo2_avg, spo2_max, spo2_p05, spo2_p50, spo2_p95,
                    hr_min, hr_avg, hr_max,
                    temp_min, temp_avg, temp_max,
                    minutes_spo2_below_90, minutes_fever
             FROM patient_daily_vitals
             WHERE patient_id = 'P1' AND day = DATE '2024-03-04'",
        )
        .await;
    assert_eq!(monday.len(), 1, "{monday:?}");
    let r = &monday[0];
    // 10 readings received; #5 (SpO2 127) and #6 (heart rate 300) are out of range: 8 valid.
    assert_eq!(r[0], i(10));
    assert_eq!(r[1], i(8));
    assert_eq!(r[2], f(10.0 / 288.0));
    assert_eq!(r[3], f(2.0 / 10.0));
    // Valid SpO2: 95 96 97 88 89 93 92 91 -> min 88, max 97, mean 741 / 8.
    assert_eq!(r[4], f(88.0));
    assert_eq!(r[5], f(741.0 / 8.0));
    assert_eq!(r[6], f(97.0));
    // Sorted 88 89 91 92 93 95 96 97; percentile p sits at rank p * (8 - 1), interpolated:
    // p05 = 88 + 0.35 * 1, p50 = 92 + 0.5 * 1, p95 = 96 + 0.65 * 1. DataFusion quantises the
    // interpolation weight to 1e-6 (0.95 * 7 = 6.6499999... gives 0.649999), hence the tolerance.
    assert_near("spo2_p05", &r[7], 88.35, 2e-6);
    assert_near("spo2_p50", &r[8], 92.5, 2e-6);
    assert_near("spo2_p95", &r[9], 96.65, 2e-6);
    // Valid heart rates: 80 82 84 86 88 78 76 74 -> min 74, mean 648 / 8 = 81, max 88.
    assert_eq!(r[10], f(74.0));
    assert_eq!(r[11], f(81.0));
    assert_eq!(r[12], f(88.0));
    // Valid temperatures (one NULL skipped): 36.5 36.7 38.0 38.4 37.0 36.6 36.5 -> mean 259.7 / 7.
    assert_eq!(r[13], f(36.5));
    assert_near("temp_avg", &r[14], 259.7 / 7.0, 1e-9);
    assert_eq!(r[15], f(38.4));
    // SpO2 < 90: 88 and 89 (the 127 is excluded) -> 2 readings x 5 minutes; >= 38 °C: 38.0, 38.4.
    assert_eq!(r[16], i(10));
    assert_eq!(r[17], i(10));

    let others = g
        .rows(
            "SELECT patient_id, CAST(day AS VARCHAR) AS d, readings, completeness, out_of_range_share,
                    spo2_p05, minutes_spo2_below_90
             FROM patient_daily_vitals
             WHERE NOT (patient_id = 'P1' AND day = DATE '2024-03-04')
             ORDER BY patient_id, day",
        )
        .await;
    common::assert_rows(
        "other patient-days",
        &others,
        &[
            // 288 of 288 readings, all 96: every percentile is 96.
            vec![
                s("P1"),
                s("2024-03-05"),
                i(288),
                f(1.0),
                f(0.0),
                f(96.0),
                i(0),
            ],
            vec![
                s("P2"),
                s("2024-03-04"),
                i(1),
                f(1.0 / 288.0),
                f(0.0),
                f(98.0),
                i(0),
            ],
        ],
    );

    // pipeline_runs: 299 readings read, 2 rejected; quality = received / expected readings:
    // P1 spans 2 days (576 expected), P2 one day (288): 100 * 299 / 864.
    let runs = g
        .rows("SELECT job, status, rows_read, rows_rejected, data_quality_score FROM pipeline_runs")
        .await;
    assert_eq!(runs.len(), 1);
    assert_eq!(
        runs[0][..4],
        [s("daily-aggregations"), s("succeeded"), i(299), i(2)]
    );
    assert_near("quality", &runs[0][4], 100.0 * 299.0 / 864.0, 1e-9);

    // One day only: --date selects [2024-03-05, 2024-03-06).
    let out_day = dir.path().join("gold-day");
    let output = run(
        "daily-aggregations",
        &lake,
        &out_day,
        &["--date", "2024-03-05"],
    );
    assert_success(&output, "daily-aggregations --date");
    let g = gold(&out_day, &["patient_daily_vitals"]).await;
    let rows = g
        .rows("SELECT patient_id, CAST(day AS VARCHAR) AS d, readings FROM patient_daily_vitals")
        .await;
    common::assert_rows("--date", &rows, &[vec![s("P1"), s("2024-03-05"), i(288)]]);

    // A bad period is a usage error before anything runs.
    let output = run(
        "daily-aggregations",
        &lake,
        &out_day,
        &["--date", "2024-02-30"],
    );
    assert_eq!(output.status.code(), Some(2));
    let output = run(
        "daily-aggregations",
        &lake,
        &out_day,
        &["--week", "2024-03"],
    );
    assert_eq!(output.status.code(), Some(2));
}

// ---------------------------------------------------------------------------------------------
// weekly-reports
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn weekly_reports_trends_crises_treatments_and_report_files() {
    let dir = tempfile::tempdir().unwrap();
    let (lake, out, reports) = (
        dir.path().join("lake"),
        dir.path().join("gold"),
        dir.path().join("reports"),
    );
    // ISO week 2024-W10 is Monday 2024-03-04 .. Sunday 2024-03-10. One reading a day at noon.
    // W1: SpO2 97, 96, ..., 91 (slope -1 a day, mean 94: -1/94 = -0.0106 < -0.003 -> down);
    //     temperature 36.5, 36.7, ..., 37.7 (slope 0.2, mean 37.1: 0.0054 > 0.002 -> up);
    //     heart rate 80 every day (slope 0 -> stable).
    // W2: SpO2 96 every day but Wednesday (no data: a NULL that keeps the positions) -> stable.
    let mut rows = Vec::new();
    for d in 0..7 {
        let at = format!("2024-03-{:02} 12:00", 4 + d);
        rows.push(reading("W1", &at, 97.0 - d as f64, 36.5 + 0.2 * d as f64));
        if d != 2 {
            rows.push(reading("W2", &at, 96.0, 36.6));
        }
    }
    write_vitals(&lake, &rows);
    // W1's crisis runs from Friday 10:00 past the end of the week (Monday 00:00): 62 hours in it.
    // W2's crisis ended the week before.
    write_crises(
        &lake,
        &[
            ("W1", "2024-03-08 10:00", Some("2024-03-12 10:00"), 2, 7),
            ("W2", "2024-02-20 10:00", Some("2024-02-22 10:00"), 3, 9),
        ],
    );
    write_treatments(
        &lake,
        &[
            ("W1", "hydroxyurea", "2023-01-01", None),
            ("W1", "paracetamol", "2024-03-08", Some("2024-03-12")),
            ("W1", "folic_acid", "2023-01-01", Some("2024-02-01")),
            ("W2", "folic_acid", "2023-06-01", None),
        ],
    );
    write_patients(
        &lake,
        &[
            ("W1", 2012, "F", "SS", "Centre"),
            ("W2", 1995, "M", "SC", "Littoral"),
        ],
    );
    let reports_arg = reports.to_str().unwrap().to_string();
    let output = run(
        "weekly-reports",
        &lake,
        &out,
        &["--week", "2024-W10", "--reports", &reports_arg],
    );
    assert_success(&output, "weekly-reports");
    let g = gold(&out, &["patient_weekly_report"]).await;
    let rows = g
        .rows(
            "SELECT patient_id, CAST(week_start AS VARCHAR) AS w, iso_week, days_with_data,
                    spo2_trend, hr_trend, temp_trend, crisis_count, crisis_max_severity,
                    crisis_hours, active_treatments, on_hydroxyurea, spo2_avg, completeness
             FROM patient_weekly_report ORDER BY patient_id",
        )
        .await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(
        rows[0][..12],
        [
            s("W1"),
            s("2024-03-04"),
            s("2024-W10"),
            i(7),
            s("down"),
            s("stable"),
            s("up"),
            i(1),
            i(2),
            f(62.0),
            s("hydroxyurea, paracetamol"),
            Val::Bool(true),
        ]
    );
    // mean of the daily means 97..91 = 94; 7 readings of 7 x 288 expected.
    assert_eq!(rows[0][12], f(94.0));
    assert_eq!(rows[0][13], f(7.0 / (7.0 * 288.0)));
    assert_eq!(
        rows[1][..12],
        [
            s("W2"),
            s("2024-03-04"),
            s("2024-W10"),
            i(6),
            s("stable"),
            s("stable"),
            s("stable"),
            i(0),
            Val::Null,
            f(0.0),
            s("folic_acid"),
            Val::Bool(false),
        ]
    );

    // One readable report per patient-week, with the chart inline, plus an index.
    let page = fs::read_to_string(reports.join("2024-W10/W1.html")).expect("W1's report");
    assert!(page.contains("<svg"), "inline chart");
    assert!(page.contains("↓ falling"), "SpO2 trend shown");
    assert!(page.contains("hydroxyurea, paracetamol"));
    assert!(page.contains("moderate"), "the crisis is listed");
    assert!(reports.join("2024-W10/W2.html").exists());
    assert!(reports.join("index.html").exists());

    // ... and its PDF, written directly: a valid PDF whose text names the patient and the week.
    let pdf = fs::read(reports.join("2024-W10/W1.pdf")).expect("W1's PDF report");
    assert!(pdf.starts_with(b"%PDF-1."), "PDF header");
    assert!(pdf.ends_with(b"%%EOF\n"), "PDF trailer");
    let text = String::from_utf8_lossy(&pdf);
    assert!(
        text.contains("(Weekly report W1 \\227 2024-W10) Tj"),
        "title"
    );
    assert!(text.contains("hydroxyurea, paracetamol"));
    assert!(text.contains(" l S Q"), "chart lines");
    // startxref points at the cross-reference table
    let xref: usize = text
        .rsplit("startxref\n")
        .next()
        .and_then(|t| t.lines().next())
        .and_then(|n| n.parse().ok())
        .expect("startxref");
    assert!(pdf[xref..].starts_with(b"xref\n"));
    assert!(reports.join("2024-W10/W2.pdf").exists());
    // pdftotext, where installed, extracts the same text
    if let Ok(out) = Command::new("pdftotext")
        .arg(reports.join("2024-W10/W1.pdf"))
        .arg("-")
        .output()
    {
        let extracted = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "pdftotext: {extracted}");
        assert!(
            extracted.contains("W1") && extracted.contains("2024-W10"),
            "{extracted}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// monthly-analytics
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn monthly_analytics_seasonal_factor_and_cohorts() {
    let dir = tempfile::tempdir().unwrap();
    let (lake, out) = (dir.path().join("lake"), dir.path().join("gold"));
    // Two patients monitored (one reading each) in January and February of 2023 and 2024.
    let months = ["2023-01", "2023-02", "2024-01", "2024-02"];
    let mut rows = Vec::new();
    for month in months {
        for patient in ["M1", "M2"] {
            rows.push(reading(patient, &format!("{month}-10 08:00"), 96.0, 36.6));
        }
    }
    write_vitals(&lake, &rows);
    // Crises started: 2023-01: 2, 2023-02: 0, 2024-01: 4 (M1 3, M2 1), 2024-02: 2.
    write_crises(
        &lake,
        &[
            ("M1", "2023-01-05 10:00", Some("2023-01-07 10:00"), 2, 6),
            ("M2", "2023-01-20 10:00", Some("2023-01-22 10:00"), 1, 4),
            ("M1", "2024-01-03 10:00", Some("2024-01-04 10:00"), 3, 9),
            ("M1", "2024-01-12 10:00", Some("2024-01-13 10:00"), 2, 7),
            ("M1", "2024-01-25 10:00", Some("2024-01-26 10:00"), 2, 5),
            ("M2", "2024-01-28 10:00", Some("2024-01-29 10:00"), 1, 3),
            ("M1", "2024-02-02 10:00", Some("2024-02-03 10:00"), 1, 4),
            ("M2", "2024-02-14 10:00", None, 2, 6),
        ],
    );
    write_treatments(&lake, &[("M1", "hydroxyurea", "2023-12-15", None)]);
    write_patients(
        &lake,
        &[
            ("M1", 2010, "F", "SS", "Centre"),
            ("M2", 1990, "M", "SC", "Nord"),
        ],
    );
    let output = run("monthly-analytics", &lake, &out, &[]);
    assert_success(&output, "monthly-analytics");
    let g = gold(&out, &["crisis_seasonality", "cohort_monthly"]).await;
    // Rates per 100 monitored patients: 100, 0, 200, 100; their mean is 100.
    // January: mean(100, 200) / 100 = 1.5; February: mean(0, 100) / 100 = 0.5.
    // Trend of 2024-01 over (100, 0, 200): slope 50 / mean 100 = 0.5 -> up; of 2024-02 over
    // (100, 0, 200, 100): slope 20 / mean 100 = 0.2 -> up; fewer than 3 values -> stable.
    let rows = g
        .rows(
            "SELECT CAST(month AS VARCHAR) AS m, calendar_month, crisis_count, patients_monitored,
                    crises_per_100_patients, seasonal_factor, crisis_trend
             FROM crisis_seasonality ORDER BY month",
        )
        .await;
    common::assert_rows(
        "crisis_seasonality",
        &rows,
        &[
            vec![
                s("2023-01-01"),
                i(1),
                i(2),
                i(2),
                f(100.0),
                f(1.5),
                s("stable"),
            ],
            vec![
                s("2023-02-01"),
                i(2),
                i(0),
                i(2),
                f(0.0),
                f(0.5),
                s("stable"),
            ],
            vec![s("2024-01-01"), i(1), i(4), i(2), f(200.0), f(1.5), s("up")],
            vec![s("2024-02-01"), i(2), i(2), i(2), f(100.0), f(0.5), s("up")],
        ],
    );
    // January 2024 cohorts: M1 (SS, Centre, born 2010: 14 -> 12-17, on hydroxyurea since
    // 2023-12-15) with 3 crises, M2 (SC, Nord, born 1990: 34 -> 30-44) with 1.
    let rows = g
        .rows(
            "SELECT cohort_dimension, cohort_value, patients, crisis_count, crises_per_patient,
                    hydroxyurea_share
             FROM cohort_monthly WHERE month = DATE '2024-01-01'
             ORDER BY cohort_dimension, cohort_value",
        )
        .await;
    common::assert_rows(
        "cohort_monthly 2024-01",
        &rows,
        &[
            vec![s("age_band"), s("12-17"), i(1), i(3), f(3.0), f(1.0)],
            vec![s("age_band"), s("30-44"), i(1), i(1), f(1.0), f(0.0)],
            vec![s("all"), s("all"), i(2), i(4), f(2.0), f(0.5)],
            vec![s("genotype"), s("SC"), i(1), i(1), f(1.0), f(0.0)],
            vec![s("genotype"), s("SS"), i(1), i(3), f(3.0), f(1.0)],
            vec![s("region"), s("Centre"), i(1), i(3), f(3.0), f(1.0)],
            vec![s("region"), s("Nord"), i(1), i(1), f(1.0), f(0.0)],
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// research-export
// ---------------------------------------------------------------------------------------------

const RESEARCH_PATIENTS: [PatientRow; 7] = [
    ("PATIENT-0001", 1986, "F", "SS", "Centre"),
    ("PATIENT-0002", 1987, "F", "SS", "Centre"),
    ("PATIENT-0003", 1988, "F", "SS", "Centre"),
    ("PATIENT-0004", 1986, "F", "SS", "Centre"),
    ("PATIENT-0005", 1987, "F", "SS", "Centre"),
    // six of the same group (band 1985-1989, F, SS, Centre) are published as they are;
    ("PATIENT-0006", 1988, "F", "SS", "Centre"),
    // the only one of its kind has every quasi-identifier suppressed.
    ("PATIENT-0007", 1951, "M", "SC", "Nord"),
];

/// Every cell of every Parquet file and every field of every CSV file under `dir`, as text.
async fn all_cells(dir: &Path) -> Vec<String> {
    let mut cells = Vec::new();
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for file in files {
        match file.extension().and_then(|e| e.to_str()) {
            Some("csv") => {
                let text = fs::read_to_string(&file).unwrap();
                cells.extend(
                    text.lines()
                        .flat_map(|l| l.split(',').map(str::to_string).collect::<Vec<_>>()),
                );
            }
            Some("parquet") => {
                let ctx = SessionContext::new();
                ctx.register_parquet("t", file.to_str().unwrap(), ParquetReadOptions::default())
                    .await
                    .unwrap();
                let g = Gold {
                    out: dir.to_path_buf(),
                    ctx,
                };
                for row in g.rows("SELECT * FROM t").await {
                    cells.extend(row.iter().map(|v| match v {
                        Val::Str(s) => s.clone(),
                        Val::Int(n) => n.to_string(),
                        Val::Float(x) => x.to_string(),
                        Val::Bool(b) => b.to_string(),
                        Val::Null => String::new(),
                    }));
                }
            }
            _ => {}
        }
    }
    cells
}

#[tokio::test]
async fn research_export_pseudonymises_and_refuses_without_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let (lake, out, export) = (
        dir.path().join("lake"),
        dir.path().join("gold"),
        dir.path().join("export"),
    );
    let mut rows = Vec::new();
    for (id, ..) in RESEARCH_PATIENTS {
        rows.push(reading(id, "2024-03-04 08:00", 95.0, 36.6));
        rows.push(reading(id, "2024-03-05 08:00", 96.0, 36.8));
    }
    write_vitals(&lake, &rows);
    write_crises(
        &lake,
        &[(
            "PATIENT-0001",
            "2024-03-04 10:00",
            Some("2024-03-05 16:00"),
            2,
            6,
        )],
    );
    write_patients(&lake, &RESEARCH_PATIENTS);

    // No key: a one-line usage error, exit code 2, nothing written.
    let output = run("research-export", &lake, &out, &[]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains("MEDALLION_PSEUDONYM_KEY"), "{stderr}");
    assert!(!out.join("research_patients").exists());

    let key_file = dir.path().join("key");
    fs::write(&key_file, format!("{KEY}\n")).unwrap();
    let key_arg = key_file.to_str().unwrap().to_string();
    let export_arg = export.to_str().unwrap().to_string();
    let output = run(
        "research-export",
        &lake,
        &out,
        &["--key-file", &key_arg, "--export", &export_arg],
    );
    assert_success(&output, "research-export");
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains(KEY),
        "key logged"
    );

    // No raw patient id and no exact birth year anywhere in the export (Parquet and CSV) nor in
    // the Gold tables.
    let cells = all_cells(&export).await;
    assert!(cells.len() > 100, "the export has data");
    for gold_table in [
        "research_patients",
        "research_daily_vitals",
        "research_crises",
    ] {
        let g = gold(&out, &[gold_table]).await;
        for row in g.rows(&format!("SELECT * FROM {gold_table}")).await {
            for v in row {
                assert!(
                    !matches!(&v, Val::Str(s) if s.contains("PATIENT")),
                    "{gold_table}: {v:?}"
                );
            }
        }
    }
    for cell in &cells {
        assert!(!cell.contains("PATIENT"), "raw id in the export: {cell}");
        for (_, year, ..) in RESEARCH_PATIENTS {
            assert_ne!(cell, &year.to_string(), "exact birth year in the export");
        }
    }
    assert!(export.join("research_patients.csv").exists());
    assert!(export.join("research_daily_vitals.parquet").exists());

    // Pseudonyms are HMAC-SHA256(key, patient id), checked with the pseudonym UDF on its own.
    let mut check = SessionContext::new();
    medallion_udfs::register_all(&mut check).unwrap();
    let g = gold(
        &out,
        &[
            "research_patients",
            "research_daily_vitals",
            "research_crises",
        ],
    )
    .await;
    let expected = Gold {
        out: out.clone(),
        ctx: check,
    }
    .rows(&format!("SELECT pseudonym('PATIENT-0007', '{KEY}')"))
    .await[0][0]
        .clone();
    let patients = g
        .rows(
            "SELECT research_id, birth_year_band, sex, genotype, region FROM research_patients
             ORDER BY birth_year_band NULLS LAST",
        )
        .await;
    assert_eq!(patients.len(), 7);
    for row in &patients[..6] {
        assert_eq!(row[1..], [s("1985-1989"), s("F"), s("SS"), s("Centre")]);
    }
    assert_eq!(
        patients[6],
        vec![expected, Val::Null, Val::Null, Val::Null, Val::Null]
    );

    // Dates move by the same offset, within -30..+30 days, for all of a patient's rows.
    let shifts = g
        .rows(
            "SELECT research_id,
                    MIN(CAST(day_shifted AS INT)) - CAST(DATE '2024-03-04' AS INT),
                    MAX(CAST(day_shifted AS INT)) - MIN(CAST(day_shifted AS INT))
             FROM research_daily_vitals GROUP BY research_id",
        )
        .await;
    assert_eq!(shifts.len(), 7);
    for row in &shifts {
        let shift = row[1].as_i64().unwrap();
        assert!((-30..=30).contains(&shift), "{row:?}");
        assert_eq!(row[2], i(1), "two consecutive days stay consecutive");
    }
    assert!(shifts.iter().any(|r| r[1] != i(0)), "dates are shifted");
    // The crisis moves with its patient's days, and keeps its duration (30 hours).
    let crisis = g
        .rows(
            "SELECT CAST(c.start_shifted AS DATE) = d.day_shifted, c.duration_hours
             FROM research_crises c
             JOIN research_daily_vitals d ON d.research_id = c.research_id
             WHERE d.readings = 1 AND d.spo2_avg = 95",
        )
        .await;
    assert_eq!(crisis, vec![vec![Val::Bool(true), f(30.0)]]);
    // Cohort cells: the six (SS, 1985-1989, F) patients form a cell; the lone SC patient's cell
    // is suppressed.
    let g = gold(&out, &["research_cohort_cells"]).await;
    let cells = g
        .rows("SELECT genotype, birth_year_band, sex, patients, patient_days, crises FROM research_cohort_cells")
        .await;
    common::assert_rows(
        "research_cohort_cells",
        &cells,
        &[vec![s("SS"), s("1985-1989"), s("F"), i(6), i(12), i(1)]],
    );
}

// ---------------------------------------------------------------------------------------------
// Into the real MariaDB (127.0.0.1:3306, root): Gold values, backfills, pipeline_runs quality
// ---------------------------------------------------------------------------------------------

/// `medallion run JOB --lake LAKE --sink URL --no-progress [extra...]`.
fn run_into(job: &str, lake: &Path, sink: &str, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_medallion"))
        .args(["run", job, "--lake"])
        .arg(lake)
        .args(["--sink", sink, "--no-progress", "--parallelism", "2"])
        .args(extra)
        .env_remove("RUST_LOG")
        .env_remove("MEDALLION_PSEUDONYM_KEY")
        .env_remove("MEDALLION_CONFIG_DIR")
        .output()
        .expect("start the medallion binary")
}

/// `medallion ARGS...` with no configuration folder from the environment.
fn medallion(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_medallion"))
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("MEDALLION_CONFIG_DIR")
        .env_remove("MEDALLION_SINK")
        .env_remove("MEDALLION_LAKE")
        .output()
        .expect("start the medallion binary")
}

#[tokio::test]
async fn daily_aggregations_into_mysql_backfill_day_by_day_with_quality_in_pipeline_runs() {
    use mysql_async::prelude::Queryable;
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let mut rows = p1_monday();
    rows.extend(p1_tuesday());
    rows.push(reading("P2", "2024-03-04 12:00", 98.0, 36.9));
    write_vitals(&lake, &rows);
    let db = common::mysql_db::TestDb::create("medical_daily").await;
    let url = db.root_url();

    // Backfill one day at a time: the second run replaces 2024-03-05 only, 2024-03-04 stays.
    for day in ["2024-03-04", "2024-03-05"] {
        let output = run_into("daily-aggregations", &lake, &url, &["--date", day]);
        assert_success(
            &output,
            &format!("daily-aggregations --date {day} into MySQL"),
        );
    }
    let mut conn = db.conn().await;
    type DayRow = (String, String, u64, u64, f64, f64, f64, u64, u64);
    let days: Vec<DayRow> = conn
        .query(
            "SELECT patient_id, CAST(day AS CHAR), readings, valid_readings, completeness,
                    out_of_range_share, spo2_avg, minutes_spo2_below_90, minutes_fever
             FROM patient_daily_vitals ORDER BY patient_id, day",
        )
        .await
        .unwrap();
    assert_eq!(days.len(), 3, "{days:?}");
    // P1 Monday (see daily_aggregations_by_hand): 10 readings, 8 valid, completeness 10/288,
    // 2/10 out of range, SpO2 mean 741/8, 2 readings < 90 % and 2 >= 38 °C, 5 minutes each.
    let monday = &days[0];
    assert_eq!((monday.0.as_str(), monday.1.as_str()), ("P1", "2024-03-04"));
    assert_eq!((monday.2, monday.3), (10, 8));
    assert!((monday.4 - 10.0 / 288.0).abs() < 1e-9, "{monday:?}");
    assert!((monday.5 - 0.2).abs() < 1e-9, "{monday:?}");
    assert!((monday.6 - 741.0 / 8.0).abs() < 1e-9, "{monday:?}");
    assert_eq!((monday.7, monday.8), (10, 10));
    // P1 Tuesday: all 288 readings at SpO2 96.
    let tuesday = &days[1];
    assert_eq!(
        (tuesday.1.as_str(), tuesday.2, tuesday.4),
        ("2024-03-05", 288, 1.0)
    );
    assert_eq!(tuesday.6, 96.0);
    // P2 Monday: one reading.
    assert_eq!(
        (days[2].0.as_str(), days[2].1.as_str(), days[2].2),
        ("P2", "2024-03-04", 1)
    );

    // The table is partitioned by month (partition_by_month = day).
    let partitions: Vec<String> = conn
        .exec(
            "SELECT PARTITION_NAME FROM information_schema.PARTITIONS
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'patient_daily_vitals'
               AND PARTITION_NAME IS NOT NULL ORDER BY PARTITION_ORDINAL_POSITION",
            (db.name.as_str(),),
        )
        .await
        .unwrap();
    assert!(partitions.iter().any(|p| p == "p202403"), "{partitions:?}");

    // pipeline_runs: one row per run with the quality metrics of its period.
    // Monday: 10 + 1 readings read, 2 out of range; quality = received / expected =
    // 100 * 11 / (2 patient-days * 288). Tuesday: 288 read, none rejected, 100 * 288 / 288.
    let runs: Vec<(String, String, u64, u64, Option<f64>)> = conn
        .query(
            "SELECT job, status, rows_read, rows_rejected, data_quality_score
             FROM pipeline_runs ORDER BY started_at",
        )
        .await
        .unwrap();
    let _ = conn.disconnect().await;
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert_eq!(
        (runs[0].0.as_str(), runs[0].1.as_str(), runs[0].2, runs[0].3),
        ("daily-aggregations", "succeeded", 11, 2)
    );
    let q0 = runs[0].4.expect("quality score");
    assert!((q0 - 100.0 * 11.0 / 576.0).abs() < 1e-9, "{q0}");
    assert_eq!((runs[1].2, runs[1].3), (288, 0));
    assert!((runs[1].4.expect("quality score") - 100.0).abs() < 1e-9);
}

#[tokio::test]
async fn optimize_drops_stale_run_tables_but_not_a_running_job_s_and_optimises_gold() {
    use mysql_async::prelude::Queryable;
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    write_vitals(&lake, &p1_tuesday());
    let db = common::mysql_db::TestDb::create("medical_optimize").await;
    let url = db.root_url();
    assert_success(
        &run_into("daily-aggregations", &lake, &url, &[]),
        "daily-aggregations into MySQL",
    );
    let mut conn = db.conn().await;
    // What killed runs leave behind: a staging table of daily-aggregations (no run of it is in
    // progress), a task table of monthly-analytics (whose run lock this test holds: a run is in
    // progress) and a replaced table of a job that no longer exists.
    for table in [
        "stg_deadrun1__patient_daily_vitals",
        "stg_liverun1__cohort_monthly__p0",
        "old_gone1__retired_table",
    ] {
        conn.query_drop(format!("CREATE TABLE `{table}` (x INT)"))
            .await
            .unwrap();
    }
    let mut lock = db.conn().await;
    let lock_name = format!("medallion:{}:monthly-analytics", db.name);
    let got: Option<i64> = lock
        .exec_first("SELECT GET_LOCK(?, 0)", (lock_name.as_str(),))
        .await
        .unwrap();
    assert_eq!(got, Some(1));

    // With the default age limit (24 h of retention_policies.yaml) the fresh leftovers stay.
    let output = medallion(&["optimize", "--sink", &url]);
    assert_success(&output, "optimize");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("0 stale table(s) dropped"), "{stdout}");
    assert_eq!(db.tables().await.len(), 5);

    // A dry run with no age limit says what it would drop, and drops nothing.
    let output = medallion(&[
        "optimize",
        "--sink",
        &url,
        "--max-staging-age-hours",
        "0",
        "--dry-run",
    ]);
    assert_success(&output, "optimize --dry-run");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("would drop stg_deadrun1__patient_daily_vitals"),
        "{stdout}"
    );
    assert!(
        stdout.contains("would drop old_gone1__retired_table"),
        "{stdout}"
    );
    assert_eq!(db.tables().await.len(), 5);

    // As the CronJob runs it (`submit optimize`; no scheduler is contacted), with no age limit.
    let output = medallion(&[
        "submit",
        "optimize",
        "--scheduler",
        "df://127.0.0.1:1",
        "--sink",
        &url,
        "--dry-run",
    ]);
    assert_success(&output, "submit optimize --dry-run");
    let output = medallion(&["optimize", "--sink", &url, "--max-staging-age-hours", "0"]);
    assert_success(&output, "optimize --max-staging-age-hours 0");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("optimised patient_daily_vitals: OK"),
        "{stdout}"
    );
    assert!(stdout.contains("optimised pipeline_runs: OK"), "{stdout}");
    assert!(
        stdout.contains("2 table(s) optimised, 2 stale table(s) dropped"),
        "{stdout}"
    );
    assert_eq!(
        db.tables().await,
        [
            "patient_daily_vitals",
            "pipeline_runs",
            "stg_liverun1__cohort_monthly__p0"
        ]
    );
    let _: Option<i64> = lock
        .exec_first("SELECT RELEASE_LOCK(?)", (lock_name.as_str(),))
        .await
        .unwrap();
    let _ = lock.disconnect().await;
    // The Gold table is intact and each maintenance pass is in pipeline_runs.
    let count: Option<u64> = conn
        .query_first("SELECT COUNT(*) FROM patient_daily_vitals")
        .await
        .unwrap();
    assert_eq!(count, Some(1));
    let runs: Vec<(String, String)> = conn
        .query("SELECT job, status FROM pipeline_runs WHERE job = 'optimize'")
        .await
        .unwrap();
    let _ = conn.disconnect().await;
    assert_eq!(
        runs,
        [
            ("optimize".to_string(), "succeeded".to_string()),
            ("optimize".to_string(), "succeeded".to_string())
        ]
    );

    // Not a MySQL sink: a usage error; an unreachable server: exit code 3.
    assert_eq!(
        medallion(&["optimize", "--sink", "file://gold"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        medallion(&["optimize", "--sink", "mysql://root@127.0.0.1:1/x"])
            .status
            .code(),
        Some(3)
    );
}

#[test]
fn archive_runs_as_the_cronjob_calls_it_with_the_configured_retention() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    // Three days of vitals long before today: all older than the 6 months of the policy.
    for day in ["2024-01-01", "2024-01-02", "2024-01-03"] {
        write_vitals_day(&lake, day);
    }
    let lake_arg = lake.to_str().unwrap();
    let output = medallion(&[
        "submit",
        "archive",
        "--scheduler",
        "df://127.0.0.1:1",
        "--lake",
        lake_arg,
        "--sink",
        "file:///nonexistent",
        "--dry-run",
    ]);
    assert_success(&output, "submit archive --dry-run");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("3 partition(s) would move"), "{stdout}");
    assert!(lake.join("vitals/date=2024-01-01").exists());

    let output = medallion(&[
        "submit",
        "archive",
        "--scheduler",
        "df://127.0.0.1:1",
        "--lake",
        lake_arg,
        "--sink",
        "file:///nonexistent",
    ]);
    assert_success(&output, "submit archive");
    for day in ["2024-01-01", "2024-01-02", "2024-01-03"] {
        assert!(!lake.join(format!("vitals/date={day}")).exists());
        // LAKE/<archive_prefix>/: archive/vitals/ in config/retention_policies.yaml
        let file = lake.join(format!("archive/vitals/date={day}/part-00000.parquet"));
        let reader = datafusion::parquet::file::reader::SerializedFileReader::new(
            File::open(&file).expect("archived file"),
        )
        .unwrap();
        use datafusion::parquet::file::reader::FileReader;
        // one reading per day was written; the archive is zstd-compressed
        assert_eq!(reader.metadata().file_metadata().num_rows(), 1);
        let column = reader.metadata().row_group(0).column(0);
        assert!(
            format!("{:?}", column.compression()).starts_with("ZSTD"),
            "{:?}",
            column.compression()
        );
    }

    // A configuration folder with a longer retention keeps everything.
    let config = dir.path().join("config");
    fs::create_dir_all(&config).unwrap();
    fs::write(
        config.join("retention_policies.yaml"),
        "lake:\n  vitals: { action: archive, hot_retention_months: 1200, archive_prefix: cold/vitals/ }\n",
    )
    .unwrap();
    write_vitals_day(&lake, "2024-02-01");
    let output = Command::new(env!("CARGO_BIN_EXE_medallion"))
        .args(["archive", "--lake", lake_arg])
        .env("MEDALLION_CONFIG_DIR", &config)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert_success(&output, "archive with MEDALLION_CONFIG_DIR");
    assert!(String::from_utf8_lossy(&output.stdout).contains("0 partition(s) moved"));
    assert!(lake.join("vitals/date=2024-02-01").exists());
}

/// Writes one reading of P1 at noon of `day` into `LAKE/vitals/date=DAY/`.
fn write_vitals_day(lake: &Path, day: &str) {
    let tmp = tempfile::tempdir().unwrap();
    write_vitals(
        tmp.path(),
        &[reading("P1", &format!("{day} 12:00"), 96.0, 36.6)],
    );
    let target = lake.join("vitals").join(format!("date={day}"));
    fs::create_dir_all(&target).unwrap();
    for entry in fs::read_dir(tmp.path().join("vitals")).unwrap() {
        let path = entry.unwrap().path();
        fs::copy(&path, target.join(path.file_name().unwrap())).unwrap();
    }
}

/// Runs a python3/boto3 `script` against the S3 endpoint (argv[1]); its stdout.
fn boto3(endpoint: &str, script: &str, args: &[&str]) -> String {
    let output = Command::new("python3")
        .args(["-c", script, endpoint])
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .expect("python3 with boto3 (installed with moto)");
    assert!(
        output.status.success(),
        "boto3: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).to_string()
}

#[test]
fn archive_moves_partitions_within_an_s3_lake() {
    // moto_server (PyPI moto[server]) on a free loopback port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut moto = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("moto_server: pip install 'moto[server]'");
    let endpoint = format!("http://127.0.0.1:{port}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "moto_server did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // Two old days and one recent day of vitals uploaded to s3://lake/silver/vitals/date=.../
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("lake");
    let today = chrono::Utc::now().date_naive();
    let recent = today.to_string();
    for day in ["2024-01-01", "2024-01-02", recent.as_str()] {
        write_vitals_day(&local, day);
    }
    boto3(
        &endpoint,
        r#"
import os, sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1])
s3.create_bucket(Bucket="lake")
root = sys.argv[2]
for folder, _, files in os.walk(root):
    for f in files:
        path = os.path.join(folder, f)
        s3.upload_file(path, "lake", "silver/" + os.path.relpath(path, root))
"#,
        &[local.to_str().unwrap()],
    );
    let output = Command::new(env!("CARGO_BIN_EXE_medallion"))
        .args([
            "submit",
            "archive",
            "--scheduler",
            "df://127.0.0.1:1",
            "--lake",
            "s3://lake/silver",
            "--sink",
            "file:///nonexistent",
        ])
        .env("AWS_ENDPOINT_URL", &endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env_remove("MEDALLION_CONFIG_DIR")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let keys = boto3(
        &endpoint,
        r#"
import sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1])
for o in s3.list_objects_v2(Bucket="lake").get("Contents", []):
    print(o["Key"])
"#,
        &[],
    );
    let _ = moto.kill();
    let _ = moto.wait();
    assert_success(&output, "submit archive on s3://");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("2 partition(s) moved"), "{stdout}");
    let keys: Vec<&str> = keys.lines().collect();
    // The two old days moved to the archive prefix of config/retention_policies.yaml, the recent
    // day stayed.
    assert!(
        keys.contains(&"silver/archive/vitals/date=2024-01-01/part-00000.parquet"),
        "{keys:?}"
    );
    assert!(
        keys.contains(&"silver/archive/vitals/date=2024-01-02/part-00000.parquet"),
        "{keys:?}"
    );
    assert!(
        !keys
            .iter()
            .any(|k| k.starts_with("silver/vitals/date=2024-01-0")),
        "{keys:?}"
    );
    assert!(
        keys.iter()
            .any(|k| k.starts_with(&format!("silver/vitals/date={recent}/"))),
        "{keys:?}"
    );
}
