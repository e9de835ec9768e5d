//! The data quality gate (issue 28), through the real `medallion` binary on real lakes, with the
//! Parquet folder sink and the shared MariaDB server: a failed error-level expectation publishes
//! nothing and is named in the one error line; a row count that halves against the last successful
//! run trips the change expectation; `medallion test` exits 0 on a good lake and 1 on a bad one,
//! publishing nothing; a failed warn-level expectation publishes and is recorded; drift is measured
//! against the last run's profile, kept in the Parquet folder or in MariaDB; mistakes in an
//! expectation file are one-line usage errors before anything is written.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::mysql_db::{TestDb, root_conn};
use common::mysql_rows::mysql_rows;
use common::*;

/// `n` accepted accidents in Los Angeles over 2021 (all other Silver columns filled, so the
/// Silver cells are complete); every `null_weather_every`-th row has a NULL weather_condition.
fn rows(n: usize, null_weather_every: Option<usize>) -> Vec<Accident> {
    (0..n)
        .map(|i| {
            let id: &'static str = Box::leak(format!("a{i:06}").into_boxed_str());
            let start: &'static str = Box::leak(
                format!(
                    "2021-{:02}-{:02} {:02}:15:00",
                    1 + i % 12,
                    1 + i % 28,
                    i % 24
                )
                .into_boxed_str(),
            );
            let mut row = Accident::clear_day_in_la(id, 1 + (i % 4) as i32, start);
            if null_weather_every.is_some_and(|k| i % k == 0) {
                row.weather_condition = None;
            }
            row
        })
        .collect()
}

/// The accidents of `rows(n, None)`, every other one in Texas instead of California.
fn half_in_texas(n: usize) -> Vec<Accident> {
    let mut shifted = rows(n, None);
    for row in shifted.iter_mut().step_by(2) {
        row.state = Some("TX");
    }
    shifted
}

/// A Parquet lake of `rows` under `root/name`.
fn lake(root: &Path, name: &str, rows: &[Accident]) -> PathBuf {
    write_lake_full(&root.join(name), rows, Format::Parquet, true)
}

/// The stderr lines starting with `error: `.
fn error_lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|l| l.starts_with("error: "))
        .map(str::to_string)
        .collect()
}

/// Exit `code` with exactly one `error: ` line, which contains every one of `needles`.
fn assert_one_error(output: &Output, code: i32, needles: &[&str]) {
    let context = format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.status.code(), Some(code), "{context}");
    let errors = error_lines(output);
    assert_eq!(errors.len(), 1, "one error line; {context}");
    for needle in needles {
        assert!(errors[0].contains(needle), "{needle:?}; {context}");
    }
    assert!(!context.contains("panicked"), "{context}");
}

#[tokio::test]
async fn half_null_weather_fails_the_datamart_in_mariadb_with_nothing_published() {
    let root = tempfile::tempdir().unwrap();
    let db = TestDb::create("quality_gate").await;
    let url = db.root_url();
    let lake_path = |p: &Path| p.to_str().unwrap().to_string();
    // a good run first: 2000 accidents published
    let good = lake(root.path(), "good", &rows(2000, None));
    let output = medallion(&[
        "run",
        "accidents-datamart",
        "--lake",
        &lake_path(&good),
        "--sink",
        &url,
        "--no-progress",
    ]);
    assert_success(&output, "good run");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("data quality: "), "{stdout}");

    // every other row without weather: 50 % complete, below the 90 % of the error expectation
    let bad = lake(root.path(), "bad", &rows(2000, Some(2)));
    let output = medallion(&[
        "run",
        "accidents-datamart",
        "--lake",
        &lake_path(&bad),
        "--sink",
        &url,
        "--no-progress",
    ]);
    assert_one_error(
        &output,
        1,
        &[
            "data quality gate",
            "weather_condition_complete",
            "completeness 50 %, expected >= 90 %",
        ],
    );

    let mut conn = root_conn().await;
    let q = |sql: &str| sql.replace("DB", &db.name);
    // nothing published: the good run's tables are as they were (1000 rows had weather 'Clear';
    // in the bad lake they would be 'unknown')
    let weather = mysql_rows(
        &mut conn,
        &q("SELECT weather_category, accident_count FROM DB.kpis_weather"),
    )
    .await;
    assert_eq!(weather.len(), 1, "{weather:?}");
    assert_eq!(weather[0][0].as_str(), Some("clear"));
    assert_eq!(weather[0][1].as_i64(), Some(2000));
    let summary = mysql_rows(&mut conn, &q("SELECT COUNT(*) FROM DB.accidents_summary")).await;
    assert_eq!(summary[0][0].as_i64(), Some(2000));
    // no staging table left behind
    let staging = mysql_rows(
        &mut conn,
        &q(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'DB' \
            AND TABLE_NAME LIKE '%stg%'",
        ),
    )
    .await;
    assert!(staging.is_empty(), "{staging:?}");

    // pipeline_runs: the failed run, naming the expectation and a failing row
    let runs = mysql_rows(
        &mut conn,
        &q("SELECT run_id, status, error FROM DB.pipeline_runs ORDER BY started_at"),
    )
    .await;
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert_eq!(runs[0][1].as_str(), Some("succeeded"));
    assert_eq!(runs[1][1].as_str(), Some("failed"));
    let error = runs[1][2].as_str().unwrap();
    assert!(error.contains("weather_condition_complete"), "{error}");
    let failed_run = runs[1][0].as_str().unwrap().to_string();

    // data_quality_results: both runs, the failed one too
    let results = mysql_rows(
        &mut conn,
        &q(
            "SELECT run_id, expectation, status, observed, threshold FROM DB.data_quality_results \
            WHERE expectation = 'weather_condition_complete' ORDER BY checked_at",
        ),
    )
    .await;
    assert_eq!(results.len(), 2, "{results:?}");
    assert_eq!(results[0][2].as_str(), Some("pass"));
    assert_eq!(results[0][3].as_f64(), Some(100.0));
    assert_eq!(results[1][0].as_str(), Some(failed_run.as_str()));
    assert_eq!(results[1][2].as_str(), Some("fail"));
    // 1000 of 2000 rows with a weather_condition
    assert_eq!(results[1][3].as_f64(), Some(50.0));
    assert_eq!(results[1][4].as_str(), Some(">= 90 %"));
    // the KPI coherence expectations held in the good run
    let coherence = mysql_rows(
        &mut conn,
        &q("SELECT expectation, status FROM DB.data_quality_results \
            WHERE expectation LIKE 'kpis_%' AND status <> 'pass'"),
    )
    .await;
    assert!(coherence.is_empty(), "{coherence:?}");
    let _ = conn.disconnect().await;
}

#[test]
fn a_row_count_that_halves_trips_the_change_expectation() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("gold");
    let full = lake(root.path(), "full", &rows(4000, None));
    assert_success(&run_datamart(&full, &out, &["--no-progress"]), "first run");
    let half = lake(root.path(), "half", &rows(2000, None));
    let output = run_datamart(&half, &out, &["--no-progress"]);
    // 2000 rows against 4000: -50 %, beyond ±30 %
    assert_one_error(
        &output,
        1,
        &[
            "silver_row_count_change",
            "2000 rows against 4000",
            "-50.0 %",
        ],
    );
    // a looser threshold given for this run lets it through: the change is judged against the
    // last *successful* run (4000), not the failed one
    let looser = root.path().join("looser.toml");
    fs::write(
        &looser,
        "[[expect]]\nname = \"halving_allowed\"\nkind = \"row_count_change\"\n\
         table = \"accidents_summary\"\nmax_pct = 60\nseverity = \"warn\"\n",
    )
    .unwrap();
    let output = run_datamart(
        &half,
        &out,
        &["--no-progress", "--expect", looser.to_str().unwrap()],
    );
    assert_one_error(
        &output,
        1,
        &["silver_row_count_change", "2000 rows against 4000"],
    );
    assert!(!error_lines(&output)[0].contains("halving_allowed"));
}

#[tokio::test]
async fn medallion_test_exits_0_on_a_good_lake_and_1_on_a_bad_one_publishing_nothing() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("gold");
    let sink = format!("file://{}", out.display());
    let good = lake(root.path(), "good", &rows(1500, None));
    let output = medallion(&[
        "test",
        "accidents-datamart",
        "--lake",
        good.to_str().unwrap(),
        "--sink",
        &sink,
        "--no-progress",
    ]);
    assert_success(&output, "medallion test on a good lake");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let header = stdout.lines().next().unwrap_or_default();
    for column in [
        "expectation",
        "severity",
        "status",
        "observed",
        "threshold",
        "failing rows",
    ] {
        assert!(header.contains(column), "{stdout}");
    }
    let line = |name: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} in\n{stdout}"))
            .to_string()
    };
    assert!(
        line("weather_condition_complete ").contains("PASS"),
        "{stdout}"
    );
    assert!(
        line("kpis_weather_shares_sum_to_100 ").contains("PASS"),
        "{stdout}"
    );
    // no earlier run: nothing to compare the row count with
    assert!(
        line("silver_row_count_change ").contains("SKIPPED"),
        "{stdout}"
    );
    assert!(stdout.contains("0 fail"), "{stdout}");
    // nothing published, nothing recorded, no staging left
    let left: Vec<_> = fs::read_dir(&out)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        left.iter()
            .all(|name| name.to_string_lossy().starts_with(".medallion-lock")),
        "{left:?}"
    );

    let bad = lake(root.path(), "bad", &rows(1500, Some(2)));
    let output = medallion(&[
        "test",
        "accidents-datamart",
        "--lake",
        bad.to_str().unwrap(),
        "--sink",
        &sink,
        "--no-progress",
    ]);
    assert_one_error(&output, 1, &["weather_condition_complete"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let failed = stdout
        .lines()
        .find(|l| l.starts_with("weather_condition_complete "))
        .unwrap_or_default();
    assert!(failed.contains("FAIL") && failed.contains("50"), "{stdout}");
    assert!(!out.join("accidents_summary").exists());
    assert!(!out.join("pipeline_runs").exists());
}

#[tokio::test]
async fn a_failed_warning_publishes_and_is_recorded() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("gold");
    let good = lake(root.path(), "good", &rows(1200, None));
    let extra = root.path().join("extra.toml");
    fs::write(
        &extra,
        r#"
[[expect]]
name = "only_texas"
kind = "accepted_values"
table = "accidents"
column = "state"
values = ["TX"]
severity = "warn"

[[expect]]
name = "severity_in_range"
kind = "range"
table = "accidents_classified"
column = "severity"
min = 1
max = 4
"#,
    )
    .unwrap();
    let output = run_datamart(
        &good,
        &out,
        &["--no-progress", "--expect", extra.to_str().unwrap()],
    );
    assert_success(&output, "run with a failed warning");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("warning: only_texas (1200 failing rows"),
        "{stdout}"
    );
    assert!(out.join("accidents_summary").exists());
    let gold = Gold::open_tables(&out, &["data_quality_results", "pipeline_runs"]).await;
    let rows = gold
        .rows(
            "SELECT status, failing_rows, severity, sample FROM data_quality_results \
             WHERE expectation = 'only_texas'",
        )
        .await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][0].as_str(), Some("warn"));
    assert_eq!(rows[0][1].as_i64(), Some(1200));
    assert_eq!(rows[0][2].as_str(), Some("warn"));
    // a sample of failing rows, led by the row's first column (id)
    let sample = rows[0][3].as_str().unwrap();
    assert!(
        sample.contains(r#""id":"a"#) && sample.contains(r#""state":"CA""#),
        "{sample}"
    );
    assert_eq!(sample.lines().count(), 5, "{sample}");
    let passed = gold
        .rows(
            "SELECT status, failing_rows FROM data_quality_results \
             WHERE expectation = 'severity_in_range'",
        )
        .await;
    assert_eq!(passed[0][0].as_str(), Some("pass"));
    assert_eq!(passed[0][1].as_i64(), Some(0));
    let runs = gold.rows("SELECT status FROM pipeline_runs").await;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0][0].as_str(), Some("succeeded"));
}

#[tokio::test]
async fn a_shifted_state_distribution_is_a_drift_warning_and_profiles_are_kept() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("gold");
    let before = lake(root.path(), "before", &rows(1200, None));
    assert_success(
        &run_datamart(&before, &out, &["--no-progress"]),
        "first run",
    );
    let after = lake(root.path(), "after", &half_in_texas(1200));
    let output = run_datamart(&after, &out, &["--no-progress"]);
    assert_success(&output, "a drift warning publishes");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("warning: state_drift (PSI "), "{stdout}");
    let gold = Gold::open_tables(&out, &["data_quality_results"]).await;
    let rows = gold
        .rows(
            "SELECT status, observed, profile FROM data_quality_results \
             WHERE expectation = 'state_drift' ORDER BY checked_at",
        )
        .await;
    assert_state_drift_rows(&rows);
    // the severities did not move
    let severity = gold
        .rows(
            "SELECT status, observed FROM data_quality_results \
             WHERE expectation = 'severity_drift' AND status <> 'skipped'",
        )
        .await;
    assert_eq!(severity[0][0].as_str(), Some("pass"));
    assert_eq!(severity[0][1].as_f64(), Some(0.0));
}

/// The `state_drift` rows (status, observed, profile) of a run over an all-CA lake followed by
/// one over half_in_texas: the first skipped with an all-CA profile, the second a warning with the
/// PSI worked out here.
fn assert_state_drift_rows(rows: &[Vec<Val>]) {
    assert_eq!(rows.len(), 2, "{rows:?}");
    // the first run has nothing to compare with; its profile is all CA
    assert_eq!(rows[0][0].as_str(), Some("skipped"));
    assert!(rows[0][2].as_str().unwrap().contains(r#""values":["CA"]"#));
    // CA 1 -> 0.5, TX 0 (counted 0.0001) -> 0.5:
    // (0.5 - 1)·ln(0.5/1) + (0.5 - 0.0001)·ln(0.5/0.0001) = 0.34657 + 4.25773 = 4.60430
    assert_eq!(rows[1][0].as_str(), Some("warn"));
    let psi = rows[1][1].as_f64().unwrap();
    assert!((psi - 4.604_30).abs() < 1e-4, "{psi}");
}

#[tokio::test]
async fn drift_is_measured_against_the_profile_kept_in_mariadb() {
    let root = tempfile::tempdir().unwrap();
    let db = TestDb::create("quality_drift").await;
    let url = db.root_url();
    let run = |lake: &Path| {
        medallion(&[
            "run",
            "accidents-datamart",
            "--lake",
            lake.to_str().unwrap(),
            "--sink",
            &url,
            "--no-progress",
        ])
    };
    let before = lake(root.path(), "before", &rows(1200, None));
    assert_success(&run(&before), "first run into MariaDB");
    // the second run reads the first run's state profile back from the MySQL sink's
    // data_quality_results
    let after = lake(root.path(), "after", &half_in_texas(1200));
    let output = run(&after);
    assert_success(&output, "a drift warning publishes into MariaDB");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("warning: state_drift (PSI "), "{stdout}");

    let mut conn = root_conn().await;
    let rows = mysql_rows(
        &mut conn,
        &format!(
            "SELECT status, observed, profile FROM {}.data_quality_results \
             WHERE expectation = 'state_drift' ORDER BY checked_at, status <> 'skipped'",
            db.name
        ),
    )
    .await;
    assert_state_drift_rows(&rows);
    assert!(rows[1][2].as_str().unwrap().contains(r#""TX""#), "{rows:?}");
    let _ = conn.disconnect().await;
}

#[test]
fn mistakes_in_expectation_files_are_one_line_usage_errors_before_anything_runs() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("gold");
    let good = lake(root.path(), "good", &rows(10, None));
    let cases = [
        (
            "[[expect]]\nkind = \"not_null\"\ntable = \"accidents\"\ncolumn = \"wether\"\n",
            "table accidents has no column 'wether'",
        ),
        (
            "[[expect]]\nkind = \"completeness\"\ntable = \"accidents\"\ncolumn = \"city\"\nmin_pct = 150\n",
            "min_pct = 150 is not a percentage",
        ),
        (
            "[[expect]]\nkind = \"range\"\ntable = \"kpis_weather\"\ncolumn = \"share_pct\"\nmin = \"low\"\n",
            "min = 'low' is not a number",
        ),
        (
            "[[expect]]\nkind = \"not_null\"\ntable = \"no_such_table\"\ncolumn = \"x\"\n",
            "'no_such_table' is not a Silver input, view or Gold table",
        ),
        (
            "[[expect]]\nkind = \"sql\"\nsql = \"SELECT * FROM kpis_weather WHERE nope > 1\"\n",
            "nope",
        ),
    ];
    for (i, (text, needle)) in cases.iter().enumerate() {
        let file = root.path().join(format!("expect-{i}.toml"));
        fs::write(&file, text).unwrap();
        let output = run_datamart(
            &good,
            &out,
            &["--no-progress", "--expect", file.to_str().unwrap()],
        );
        assert_one_error(&output, 2, &[needle]);
        let test = medallion(&[
            "test",
            "accidents-datamart",
            "--lake",
            good.to_str().unwrap(),
            "--sink",
            &format!("file://{}", out.display()),
            "--expect",
            file.to_str().unwrap(),
        ]);
        assert_one_error(&test, 2, &[needle]);
        // nothing written: no staging area, no run recorded
        assert!(!out.join("pipeline_runs").exists(), "case {i}");
        let staging = fs::read_dir(&out)
            .map(|d| {
                d.flatten()
                    .any(|e| e.file_name().to_string_lossy().starts_with(".staging"))
            })
            .unwrap_or(false);
        assert!(!staging, "case {i}");
    }
}
