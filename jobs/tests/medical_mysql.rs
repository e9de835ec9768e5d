//! The medical IoT jobs (SPEC section 5) into the real MariaDB (127.0.0.1:3306, root; each test
//! in its own database, see common/mysql_db.rs), on the hand-made lakes of
//! common/medical_lake.rs: Gold values read back from MySQL, backfills and period replacements
//! (`--date`, `--week`, `--month`), the quality metrics in `pipeline_runs`, and `optimize`.

mod common;

use mysql_async::Conn;
use mysql_async::prelude::Queryable;

use common::medical_lake::*;
use common::mysql_db::TestDb;
use common::mysql_rows::mysql_rows;
use common::{Val, assert_rows, assert_success, f, i, s};

// ---------------------------------------------------------------------------------------------
// Reading MySQL back
// ---------------------------------------------------------------------------------------------

/// A value as text, for scanning every cell of a table.
fn text(value: &Val) -> String {
    match value {
        Val::Str(s) => s.clone(),
        Val::Int(n) => n.to_string(),
        Val::Float(x) => x.to_string(),
        Val::Bool(b) => b.to_string(),
        Val::Null => String::new(),
    }
}

/// `pipeline_runs` of `job`, oldest first: job, status, mode, rows_read, rows_rejected,
/// rows_written (JSON text) and data_quality_score.
async fn runs_of(conn: &mut Conn, job: &str) -> Vec<Vec<Val>> {
    mysql_rows(
        conn,
        &format!(
            "SELECT job, status, mode, rows_read, rows_rejected, rows_written, data_quality_score
             FROM pipeline_runs WHERE job = '{job}' ORDER BY started_at"
        ),
    )
    .await
}

/// The `pipeline_runs` row of a successful full run of `job`.
fn succeeded(job: &str, read: i64, rejected: i64, written: &str, quality: f64) -> Vec<Val> {
    vec![
        s(job),
        s("succeeded"),
        s("full"),
        i(read),
        i(rejected),
        s(written),
        f(quality),
    ]
}

// ---------------------------------------------------------------------------------------------
// daily-aggregations and optimize
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn daily_aggregations_into_mysql_backfill_day_by_day_with_quality_in_pipeline_runs() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    write_daily_lake(&lake);
    let db = TestDb::create("medical_daily").await;
    let url = db.root_url();

    // Backfill one day at a time: the second run replaces 2024-03-05 only, 2024-03-04 stays.
    for day in ["2024-03-04", "2024-03-05"] {
        let output = run_job("daily-aggregations", &lake, &url, &["--date", day]);
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
    // P1 Monday (see daily_aggregations_by_hand in medical.rs): 10 readings, 8 valid, completeness 10/288,
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
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    write_vitals(&lake, &p1_tuesday());
    let db = TestDb::create("medical_optimize").await;
    let url = db.root_url();
    assert_success(
        &run_job("daily-aggregations", &lake, &url, &[]),
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
    let output = medallion_clean(&["optimize", "--sink", &url]);
    assert_success(&output, "optimize");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("0 stale table(s) dropped"), "{stdout}");
    // patient_daily_vitals, data_quality_results, pipeline_runs and the three leftovers
    assert_eq!(db.tables().await.len(), 6);

    // A dry run with no age limit says what it would drop, and drops nothing.
    let output = medallion_clean(&[
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
    assert_eq!(db.tables().await.len(), 6);

    // As the CronJob runs it (`submit optimize`; no scheduler is contacted), with no age limit.
    let output = medallion_clean(&[
        "submit",
        "optimize",
        "--scheduler",
        "df://127.0.0.1:1",
        "--sink",
        &url,
        "--dry-run",
    ]);
    assert_success(&output, "submit optimize --dry-run");
    let output = medallion_clean(&["optimize", "--sink", &url, "--max-staging-age-hours", "0"]);
    assert_success(&output, "optimize --max-staging-age-hours 0");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("optimised patient_daily_vitals: OK"),
        "{stdout}"
    );
    assert!(stdout.contains("optimised pipeline_runs: OK"), "{stdout}");
    assert!(
        stdout.contains("optimised data_quality_results: OK"),
        "{stdout}"
    );
    assert!(
        stdout.contains("3 table(s) optimised, 2 stale table(s) dropped"),
        "{stdout}"
    );
    assert_eq!(
        db.tables().await,
        [
            "data_quality_results",
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
        medallion_clean(&["optimize", "--sink", "file://gold"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        medallion_clean(&["optimize", "--sink", "mysql://root@127.0.0.1:1/x"])
            .status
            .code(),
        Some(3)
    );
}

// ---------------------------------------------------------------------------------------------
// weekly-reports
// ---------------------------------------------------------------------------------------------

/// `patient_id, week_start, last_updated` of every `patient_weekly_report` row.
const WEEKLY_STAMPS: &str = "SELECT patient_id, week_start, last_updated FROM patient_weekly_report
     ORDER BY week_start, patient_id";

#[tokio::test]
async fn weekly_reports_into_mysql_week_by_week_and_one_week_replaced_alone() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    // Week 2024-W10 of W1 and W2 (weekly_w10_vitals), plus W1 on Monday 2024-03-11 and Tuesday
    // 03-12 of week 11 at SpO2 95.
    let week_11 =
        || ["2024-03-11 12:00", "2024-03-12 12:00"].map(|at| reading("W1", at, 95.0, 36.8));
    let mut vitals = weekly_w10_vitals(true);
    vitals.extend(week_11());
    write_weekly_lake(&lake, &vitals);
    let db = TestDb::create("medical_weekly").await;
    let url = db.root_url();

    // Backfill week by week.
    for week in ["2024-W10", "2024-W11"] {
        let output = run_job("weekly-reports", &lake, &url, &["--week", week]);
        assert_success(&output, &format!("weekly-reports --week {week} into MySQL"));
    }
    let mut conn = db.conn().await;
    let select = |week: &str| {
        format!(
            "SELECT {WEEKLY_COLUMNS} FROM patient_weekly_report WHERE week_start = '{week}'
             ORDER BY patient_id"
        )
    };
    // Week 10: the same rows as the Parquet sink (medical.rs).
    let w10 = mysql_rows(&mut conn, &select("2024-03-04")).await;
    assert_rows("2024-W10", &w10, &weekly_w10_expected());
    // Week 11: W1 only, 2 days at SpO2 95 (2 readings of 7 x 288; under 3 values: every trend
    // stable); the crisis (severity 2) goes on from Monday 00:00 to Tuesday 10:00: 34 hours;
    // paracetamol ends on Tuesday 03-12, hydroxyurea goes on.
    let w11_expected = vec![vec![
        s("W1"),
        s("2024-03-11"),
        s("2024-W11"),
        i(2),
        s("stable"),
        s("stable"),
        s("stable"),
        i(1),
        i(2),
        f(34.0),
        s("hydroxyurea, paracetamol"),
        Val::Bool(true),
        f(95.0),
        f(2.0 / (7.0 * 288.0)),
    ]];
    let w11 = mysql_rows(&mut conn, &select("2024-03-11")).await;
    assert_rows("2024-W11", &w11, &w11_expected);
    let before = mysql_rows(&mut conn, WEEKLY_STAMPS).await;
    assert_eq!(before.len(), 3, "{before:?}");

    // W2's week-10 readings were wrong and are withdrawn from the lake: re-running week 10
    // replaces that week only. W2's row goes, W1's is rewritten, week 11 is not touched.
    let mut vitals = weekly_w10_vitals(false);
    vitals.extend(week_11());
    write_vitals(&lake, &vitals);
    let output = run_job("weekly-reports", &lake, &url, &["--week", "2024-W10"]);
    assert_success(&output, "weekly-reports --week 2024-W10 again");
    let w10 = mysql_rows(&mut conn, &select("2024-03-04")).await;
    assert_rows("2024-W10 replaced", &w10, &weekly_w10_expected()[..1]);
    let w11 = mysql_rows(&mut conn, &select("2024-03-11")).await;
    assert_rows("2024-W11 untouched", &w11, &w11_expected);
    let after = mysql_rows(&mut conn, WEEKLY_STAMPS).await;
    assert_eq!(after.len(), 2, "{after:?}");
    assert_eq!(after[0][..2], [s("W1"), s("2024-03-04")]);
    assert_ne!(after[0][2], before[0][2], "W1's week 10 was rewritten");
    assert_eq!(
        after[1], before[2],
        "week 11 kept its row, last_updated included"
    );

    // pipeline_runs: one row per run with the quality of its week. Week 10: W1 7 + W2 6
    // readings, none out of range; each patient expected from Monday to Sunday: 100 * 13 /
    // (2 x 7 x 288). Week 11: 2 readings over 2 days: 100 * 2 / (2 x 288). Week 10 again: W1's 7
    // of 7 x 288.
    let runs = runs_of(&mut conn, "weekly-reports").await;
    let _ = conn.disconnect().await;
    assert_rows(
        "pipeline_runs",
        &runs,
        &[
            succeeded(
                "weekly-reports",
                13,
                0,
                r#"{"patient_weekly_report":2}"#,
                100.0 * 13.0 / 4032.0,
            ),
            succeeded(
                "weekly-reports",
                2,
                0,
                r#"{"patient_weekly_report":1}"#,
                100.0 * 2.0 / 576.0,
            ),
            succeeded(
                "weekly-reports",
                7,
                0,
                r#"{"patient_weekly_report":1}"#,
                100.0 * 7.0 / 2016.0,
            ),
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// monthly-analytics
// ---------------------------------------------------------------------------------------------

/// The `cohort_monthly` rows of `month` ([`COHORT_COLUMNS`]), in the order of
/// [`cohort_month_expected`] (the ENUM dimension sorted as text).
async fn cohorts(conn: &mut Conn, month: &str) -> Vec<Vec<Val>> {
    mysql_rows(
        conn,
        &format!(
            "SELECT {COHORT_COLUMNS} FROM cohort_monthly WHERE month = '{month}'
             ORDER BY CAST(cohort_dimension AS CHAR), cohort_value"
        ),
    )
    .await
}

/// `month, cohort_dimension, cohort_value, last_updated` of every `cohort_monthly` row.
const COHORT_STAMPS: &str =
    "SELECT month, CAST(cohort_dimension AS CHAR) AS d, cohort_value, last_updated
     FROM cohort_monthly ORDER BY month, d, cohort_value";

#[tokio::test]
async fn monthly_analytics_into_mysql_month_by_month_and_one_month_replaced_alone() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    write_monthly_lake(&lake, &MONTHLY_CRISES);
    let db = TestDb::create("medical_monthly").await;
    let url = db.root_url();

    // Backfill month by month.
    let months = ["2023-01", "2023-02", "2024-01", "2024-02"];
    for month in months {
        let output = run_job("monthly-analytics", &lake, &url, &["--month", month]);
        assert_success(
            &output,
            &format!("monthly-analytics --month {month} into MySQL"),
        );
    }
    let mut conn = db.conn().await;
    // Cohorts of each month as with the Parquet sink (medical.rs): (M1's crises, M1 on
    // hydroxyurea (since 2023-12-15), M2's crises).
    let by_hand = [
        ("2023-01-01", 1, false, 1),
        ("2023-02-01", 0, false, 0),
        ("2024-01-01", 3, true, 1),
        ("2024-02-01", 1, true, 1),
    ];
    for (month, m1, hydroxyurea, m2) in by_hand {
        assert_rows(
            &format!("cohort_monthly {month}"),
            &cohorts(&mut conn, month).await,
            &cohort_month_expected(m1, hydroxyurea, m2),
        );
    }
    // crisis_seasonality covers the whole history up to the end of the last run's month.
    let seasonality =
        format!("SELECT {SEASONALITY_COLUMNS} FROM crisis_seasonality ORDER BY month");
    assert_rows(
        "crisis_seasonality",
        &mysql_rows(&mut conn, &seasonality).await,
        &crisis_seasonality_expected(),
    );
    let before = mysql_rows(&mut conn, COHORT_STAMPS).await;
    assert_eq!(before.len(), 28, "{before:?}");

    // Two crises come in late: M1 on 2024-02-20 and M2 on 2024-01-15. Re-running February
    // replaces February's cohorts only: January keeps its 4 crises (it was not re-run).
    let mut crises = MONTHLY_CRISES.to_vec();
    crises.push(("M1", "2024-02-20 10:00", Some("2024-02-21 10:00"), 2, 5));
    crises.push(("M2", "2024-01-15 10:00", Some("2024-01-16 10:00"), 1, 2));
    write_crises(&lake, &crises);
    let output = run_job("monthly-analytics", &lake, &url, &["--month", "2024-02"]);
    assert_success(&output, "monthly-analytics --month 2024-02 again");
    for (month, m1, hydroxyurea, m2) in by_hand {
        let m1 = if month == "2024-02-01" { 2 } else { m1 };
        assert_rows(
            &format!("cohort_monthly {month} after re-running 2024-02"),
            &cohorts(&mut conn, month).await,
            &cohort_month_expected(m1, hydroxyurea, m2),
        );
    }
    let after = mysql_rows(&mut conn, COHORT_STAMPS).await;
    assert_eq!(after.len(), 28);
    for (old, new) in before.iter().zip(&after) {
        assert_eq!(old[..3], new[..3]);
        if old[0] == s("2024-02-01") {
            assert_ne!(old[3], new[3], "{new:?} rewritten");
        } else {
            assert_eq!(old[3], new[3], "{new:?} untouched");
        }
    }
    // crisis_seasonality is recomputed from all crises: rates 100, 0, 250 (5 of 2 patients),
    // 150 (3); mean 125. January: mean(100, 250) / 125 = 1.4; February: mean(0, 150) / 125 =
    // 0.6. Trend of 2024-01 over (100, 0, 250): slope 75 / mean 116.67 = 0.64 -> up; of 2024-02
    // over (100, 0, 250, 150): slope 40 / mean 125 = 0.32 -> up.
    assert_rows(
        "crisis_seasonality after the late crises",
        &mysql_rows(&mut conn, &seasonality).await,
        &[
            vec![
                s("2023-01-01"),
                i(1),
                i(2),
                i(2),
                f(100.0),
                f(1.4),
                s("stable"),
            ],
            vec![
                s("2023-02-01"),
                i(2),
                i(0),
                i(2),
                f(0.0),
                f(0.6),
                s("stable"),
            ],
            vec![s("2024-01-01"), i(1), i(5), i(2), f(250.0), f(1.4), s("up")],
            vec![s("2024-02-01"), i(2), i(3), i(2), f(150.0), f(0.6), s("up")],
        ],
    );

    // pipeline_runs: each month reads 2 readings (one per patient, each expected 288 on its one
    // day): quality 100 * 2 / 576; 7 cohort rows; crisis_seasonality has the months up to the
    // run's: 1, 2, 3, 4, then 4.
    let runs = runs_of(&mut conn, "monthly-analytics").await;
    let _ = conn.disconnect().await;
    let expected: Vec<Vec<Val>> = [1, 2, 3, 4, 4]
        .iter()
        .map(|n| {
            succeeded(
                "monthly-analytics",
                2,
                0,
                &format!(r#"{{"cohort_monthly":7,"crisis_seasonality":{n}}}"#),
                100.0 * 2.0 / 576.0,
            )
        })
        .collect();
    assert_rows("pipeline_runs", &runs, &expected);
}

// ---------------------------------------------------------------------------------------------
// research-export
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn research_export_into_mysql_is_pseudonymised_and_replaced_by_each_run() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    write_research_lake(&lake);
    let db = TestDb::create("medical_research").await;
    let url = db.root_url();

    // No key: a usage error before MySQL is touched.
    let output = run_job("research-export", &lake, &url, &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("MEDALLION_PSEUDONYM_KEY"),
        "{output:?}"
    );
    assert!(db.tables().await.is_empty(), "{:?}", db.tables().await);

    let key_file = dir.path().join("key");
    std::fs::write(&key_file, format!("{KEY}\n")).unwrap();
    let key_arg = key_file.to_str().unwrap().to_string();
    let output = run_job("research-export", &lake, &url, &["--key-file", &key_arg]);
    assert_success(&output, "research-export into MySQL");
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains(KEY),
        "key logged"
    );

    // What lands in MySQL: the four research tables (the job's gold/ folder; the included
    // daily-aggregations contributes views, not its Gold table) and the run's record.
    let mut expected_tables = RESEARCH_TABLES.map(str::to_string).to_vec();
    expected_tables.push("pipeline_runs".to_string());
    expected_tables.sort();
    assert_eq!(db.tables().await, expected_tables);
    // No identifying column ...
    let mut conn = db.conn().await;
    let identifying = mysql_rows(
        &mut conn,
        &format!(
            "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS
             WHERE TABLE_SCHEMA = '{}'
               AND COLUMN_NAME IN ('patient_id', 'birth_year', 'device_id', 'ts', 'day')",
            db.name
        ),
    )
    .await;
    assert!(identifying.is_empty(), "{identifying:?}");
    // ... and no raw patient id, exact birth year or key in any cell of any table.
    let mut cells = Vec::new();
    for table in db.tables().await {
        for row in mysql_rows(&mut conn, &format!("SELECT * FROM `{table}`")).await {
            cells.extend(row.iter().map(text));
        }
    }
    assert!(cells.len() > 100, "the tables have data: {}", cells.len());
    assert_no_identifiers("MySQL", &cells);

    // The same values as with the Parquet sink (medical.rs).
    let patients = mysql_rows(
        &mut conn,
        "SELECT research_id, birth_year_band, sex, genotype, region FROM research_patients
         ORDER BY birth_year_band IS NULL, birth_year_band, research_id",
    )
    .await;
    assert_research_patients(&patients, &pseudonym_of("PATIENT-0007").await);
    let shifts = mysql_rows(
        &mut conn,
        "SELECT research_id, DATEDIFF(MIN(day_shifted), '2024-03-04'),
                DATEDIFF(MAX(day_shifted), MIN(day_shifted))
         FROM research_daily_vitals GROUP BY research_id",
    )
    .await;
    assert_research_shifts(&shifts);
    // The crisis moves with its patient's days, and keeps its duration (30 hours).
    let crisis = mysql_rows(
        &mut conn,
        "SELECT DATE(c.start_shifted) = d.day_shifted, c.duration_hours
         FROM research_crises c
         JOIN research_daily_vitals d ON d.research_id = c.research_id
         WHERE d.readings = 1 AND d.spo2_avg = 95",
    )
    .await;
    assert_eq!(crisis, vec![vec![i(1), f(30.0)]]);
    let cells_sql = "SELECT genotype, birth_year_band, sex, patients, patient_days, crises
                     FROM research_cohort_cells";
    assert_rows(
        "research_cohort_cells",
        &mysql_rows(&mut conn, cells_sql).await,
        &research_cells_expected(),
    );
    let second_days = mysql_rows(
        &mut conn,
        "SELECT research_id, MAX(day_shifted) FROM research_daily_vitals
         GROUP BY research_id ORDER BY research_id",
    )
    .await;

    // A run over one day replaces every research table (none is merged): 2024-03-05 only, so 7
    // patient-days, no crisis started that day, and each patient's day lands where it did in the
    // first run (the shift depends on the key and the patient only).
    let output = run_job(
        "research-export",
        &lake,
        &url,
        &["--key-file", &key_arg, "--date", "2024-03-05"],
    );
    assert_success(&output, "research-export --date 2024-03-05 into MySQL");
    let days = mysql_rows(
        &mut conn,
        "SELECT research_id, day_shifted FROM research_daily_vitals ORDER BY research_id",
    )
    .await;
    assert_eq!(days, second_days);
    let crises: Option<u64> = conn
        .query_first("SELECT COUNT(*) FROM research_crises")
        .await
        .unwrap();
    assert_eq!(crises, Some(0));
    assert_rows(
        "research_cohort_cells of 2024-03-05",
        &mysql_rows(&mut conn, cells_sql).await,
        &[vec![s("SS"), s("1985-1989"), s("F"), i(6), i(6), i(0)]],
    );
    let patients = mysql_rows(&mut conn, "SELECT research_id FROM research_patients").await;
    assert_eq!(patients.len(), 7);

    // pipeline_runs: 14 readings (2 per patient over 2 days: 576 expected each) then 7 (one day).
    let runs = runs_of(&mut conn, "research-export").await;
    let _ = conn.disconnect().await;
    assert_rows(
        "pipeline_runs",
        &runs,
        &[
            succeeded(
                "research-export",
                14,
                0,
                r#"{"research_cohort_cells":1,"research_crises":1,"research_daily_vitals":14,"research_patients":7}"#,
                100.0 * 14.0 / 4032.0,
            ),
            succeeded(
                "research-export",
                7,
                0,
                r#"{"research_cohort_cells":1,"research_crises":0,"research_daily_vitals":7,"research_patients":7}"#,
                100.0 * 7.0 / 2016.0,
            ),
        ],
    );
}
