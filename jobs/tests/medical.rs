//! The medical IoT jobs (SPEC section 5) through the real `medallion` binary, on small hand-made
//! Silver lakes (jobs/tests/common/medical_lake.rs), with every expected value worked out by hand.
//! The same jobs into the real MariaDB: medical_mysql.rs.

mod common;

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Command;

use datafusion::prelude::{ParquetReadOptions, SessionContext};

use common::medical_lake::*;
use common::{Gold, Val, assert_success, f, i, s};

// ---------------------------------------------------------------------------------------------
// Running the binary and reading Gold back
// ---------------------------------------------------------------------------------------------

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

#[tokio::test]
async fn daily_aggregations_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let (lake, out) = (dir.path().join("lake"), dir.path().join("gold"));
    write_daily_lake(&lake);

    let output = run_job_into("daily-aggregations", &lake, &out, &[]);
    assert_success(&output, "daily-aggregations");
    let g = Gold::open_tables(&out, &["patient_daily_vitals", "pipeline_runs"]).await;

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
    let output = run_job_into(
        "daily-aggregations",
        &lake,
        &out_day,
        &["--date", "2024-03-05"],
    );
    assert_success(&output, "daily-aggregations --date");
    let g = Gold::open_tables(&out_day, &["patient_daily_vitals"]).await;
    let rows = g
        .rows("SELECT patient_id, CAST(day AS VARCHAR) AS d, readings FROM patient_daily_vitals")
        .await;
    common::assert_rows("--date", &rows, &[vec![s("P1"), s("2024-03-05"), i(288)]]);

    // A bad period is a usage error before anything runs.
    let output = run_job_into(
        "daily-aggregations",
        &lake,
        &out_day,
        &["--date", "2024-02-30"],
    );
    assert_eq!(output.status.code(), Some(2));
    let output = run_job_into(
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
    // Week 2024-W10 of W1 and W2 (see weekly_w10_vitals).
    write_weekly_lake(&lake, &weekly_w10_vitals(true));
    let reports_arg = reports.to_str().unwrap().to_string();
    let output = run_job_into(
        "weekly-reports",
        &lake,
        &out,
        &["--week", "2024-W10", "--reports", &reports_arg],
    );
    assert_success(&output, "weekly-reports");
    let g = Gold::open_tables(&out, &["patient_weekly_report"]).await;
    let rows = g
        .rows(&format!(
            "SELECT {} FROM patient_weekly_report ORDER BY patient_id",
            WEEKLY_COLUMNS.replace("week_start", "CAST(week_start AS VARCHAR) AS w")
        ))
        .await;
    common::assert_rows("patient_weekly_report", &rows, &weekly_w10_expected());

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
    // See write_monthly_lake and MONTHLY_CRISES.
    write_monthly_lake(&lake, &MONTHLY_CRISES);
    let output = run_job_into("monthly-analytics", &lake, &out, &[]);
    assert_success(&output, "monthly-analytics");
    let g = Gold::open_tables(&out, &["crisis_seasonality", "cohort_monthly"]).await;
    let rows = g
        .rows(&format!(
            "SELECT {} FROM crisis_seasonality ORDER BY month",
            SEASONALITY_COLUMNS.replacen("month,", "CAST(month AS VARCHAR) AS m,", 1)
        ))
        .await;
    common::assert_rows("crisis_seasonality", &rows, &crisis_seasonality_expected());
    // Cohorts of each month: (M1's crises, M1 on hydroxyurea (since 2023-12-15), M2's crises).
    for (month, m1, hydroxyurea, m2) in [
        ("2023-01-01", 1, false, 1),
        ("2023-02-01", 0, false, 0),
        ("2024-01-01", 3, true, 1),
        ("2024-02-01", 1, true, 1),
    ] {
        let rows = g
            .rows(&format!(
                "SELECT {COHORT_COLUMNS} FROM cohort_monthly WHERE month = DATE '{month}'
                 ORDER BY cohort_dimension, cohort_value"
            ))
            .await;
        common::assert_rows(
            &format!("cohort_monthly {month}"),
            &rows,
            &cohort_month_expected(m1, hydroxyurea, m2),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// research-export
// ---------------------------------------------------------------------------------------------

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
    write_research_lake(&lake);

    // No key: a one-line usage error, exit code 2, nothing written.
    let output = run_job_into("research-export", &lake, &out, &[]);
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
    let output = run_job_into(
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

    // No raw patient id, no exact birth year and no key anywhere in the export (Parquet and CSV)
    // nor in the Gold tables.
    let cells = all_cells(&export).await;
    assert!(cells.len() > 100, "the export has data");
    assert_no_identifiers("the export", &cells);
    for gold_table in RESEARCH_TABLES {
        let gold_cells = all_cells(&out.join(gold_table)).await;
        assert!(!gold_cells.is_empty(), "{gold_table}");
        assert_no_identifiers(gold_table, &gold_cells);
    }
    assert!(export.join("research_patients.csv").exists());
    assert!(export.join("research_daily_vitals.parquet").exists());

    // Pseudonyms are HMAC-SHA256(key, patient id), checked with the pseudonym UDF on its own.
    let g = Gold::open_tables(&out, &RESEARCH_TABLES).await;
    let patients = g
        .rows(
            "SELECT research_id, birth_year_band, sex, genotype, region FROM research_patients
             ORDER BY birth_year_band NULLS LAST",
        )
        .await;
    assert_research_patients(&patients, &pseudonym_of("PATIENT-0007").await);

    // Dates move by the same offset, within -30..+30 days, for all of a patient's rows.
    let shifts = g
        .rows(
            "SELECT research_id,
                    MIN(CAST(day_shifted AS INT)) - CAST(DATE '2024-03-04' AS INT),
                    MAX(CAST(day_shifted AS INT)) - MIN(CAST(day_shifted AS INT))
             FROM research_daily_vitals GROUP BY research_id",
        )
        .await;
    assert_research_shifts(&shifts);
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
    let cells = g
        .rows("SELECT genotype, birth_year_band, sex, patients, patient_days, crises FROM research_cohort_cells")
        .await;
    common::assert_rows("research_cohort_cells", &cells, &research_cells_expected());
}

#[test]
fn archive_runs_as_the_cronjob_calls_it_with_the_configured_retention() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    // Three days of vitals long before today: all older than the 6 months of the policy.
    for day in ["2024-01-01", "2024-01-02", "2024-01-03"] {
        write_vitals_day(&lake, day);
    }
    // Crises (partitioned by start day, as `generate medical` writes them) are kept 24 months:
    // one that started 25 months ago moves, one of today stays. Treatments are one unpartitioned
    // file: nothing of them moves.
    let today = chrono::Utc::now().date_naive();
    let old_crisis = today
        .checked_sub_months(chrono::Months::new(25))
        .unwrap()
        .to_string();
    let new_crisis = today.to_string();
    write_crisis_day(&lake, &old_crisis);
    write_crisis_day(&lake, &new_crisis);
    write_treatments(&lake, &[("P1", "hydroxyurea", "2020-01-01", None)]);
    let lake_arg = lake.to_str().unwrap();
    let output = medallion_clean(&[
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
    assert!(stdout.contains("4 partition(s) would move"), "{stdout}");
    assert!(lake.join("vitals/date=2024-01-01").exists());
    assert!(lake.join(format!("crises/date={old_crisis}")).exists());

    let output = medallion_clean(&[
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
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("4 partition(s) moved"), "{stdout}");
    let moved = ["2024-01-01", "2024-01-02", "2024-01-03"]
        .map(|day| ("vitals", day.to_string()))
        .into_iter()
        .chain([("crises", old_crisis.clone())]);
    for (table, day) in moved {
        assert!(!lake.join(format!("{table}/date={day}")).exists());
        // LAKE/<archive_prefix>/: archive/vitals/ and archive/crises/ in
        // config/retention_policies.yaml
        let file = lake.join(format!("archive/{table}/date={day}/part-00000.parquet"));
        let reader = datafusion::parquet::file::reader::SerializedFileReader::new(
            File::open(&file).expect("archived file"),
        )
        .unwrap();
        use datafusion::parquet::file::reader::FileReader;
        // one reading (or crisis) per day was written; the archive is zstd-compressed
        assert_eq!(reader.metadata().file_metadata().num_rows(), 1);
        let column = reader.metadata().row_group(0).column(0);
        assert!(
            format!("{:?}", column.compression()).starts_with("ZSTD"),
            "{:?}",
            column.compression()
        );
    }
    assert!(lake.join(format!("crises/date={new_crisis}")).exists());
    assert!(
        !lake
            .join(format!("archive/crises/date={new_crisis}"))
            .exists()
    );
    assert!(lake.join("treatments/part-00000.parquet").exists());
    assert!(!lake.join("archive/treatments").exists());

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
