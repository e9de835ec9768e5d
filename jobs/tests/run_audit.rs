//! The audit trail of `pipeline_runs`: each run records who or what started it (`started_by`:
//! `$MEDALLION_STARTED_BY`, as the CronJobs set it, else `cli/<user>`), the `host` it ran on and
//! the exact job plan version (`plan_hash`, the SHA-256 of the job's files), in both sinks; a
//! `pipeline_runs` written by an older medallion, without these columns, keeps working (the
//! MySQL table gets the columns, the Parquet folder mixes old and new files) and `medallion runs`
//! still lists every run. MySQL tests use the shared MariaDB (127.0.0.1:3306, root).

mod common;

use std::fs::File;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use chrono::Utc;
use common::mysql_db::TestDb;
use common::mysql_rows::mysql_rows;
use common::*;
use datafusion::parquet::arrow::ArrowWriter;
use medallion_core::run_audit::RunAudit;
use medallion_core::run_record::{RunRecord, RunStatus};
use mysql_async::prelude::Queryable;

/// Two accepted accidents.
fn lake(dir: &Path) -> std::path::PathBuf {
    let rows = vec![
        Accident::clear_day_in_la("r1", 2, "2021-03-05 08:15:00"),
        Accident::clear_day_in_la("r2", 3, "2021-04-05 09:15:00"),
    ];
    write_lake(&dir.join("lake"), &rows, Format::Parquet)
}

/// `medallion run accidents-datamart` into `sink`, `MEDALLION_STARTED_BY` set to `started_by`
/// (or unset).
fn run(lake: &Path, sink: &str, started_by: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_medallion"));
    command
        .args(["run", "accidents-datamart", "--no-progress", "--lake"])
        .arg(lake)
        .args(["--sink", sink])
        .env_remove("RUST_LOG")
        .env_remove("MEDALLION_PUSHGATEWAY");
    match started_by {
        Some(who) => command.env("MEDALLION_STARTED_BY", who),
        None => command.env_remove("MEDALLION_STARTED_BY"),
    };
    command.output().expect("run medallion")
}

/// `medallion runs --sink SINK --format json`: the rows listed.
fn listed_runs(sink: &str) -> Vec<serde_json::Value> {
    let output = medallion(&["runs", "--sink", sink, "--format", "json"]);
    assert_success(&output, "medallion runs");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// An old run: a record of an older medallion, without the audit columns.
fn old_record() -> RunRecord {
    let at = Utc::now() - chrono::Duration::days(1);
    RunRecord {
        run_id: "oldrun".into(),
        job: "accidents-datamart".into(),
        mode: "full".into(),
        started_at: at,
        finished_at: at,
        status: RunStatus::Succeeded,
        rows_read: 1,
        rows_rejected: 0,
        rows_written: Default::default(),
        data_quality_score: None,
        error: None,
        audit: RunAudit::default(),
    }
}

fn is_plan_hash(value: &Val) -> bool {
    value
        .as_str()
        .is_some_and(|h| h.len() == 64 && h.chars().all(|c| c.is_ascii_hexdigit()))
}

#[tokio::test]
async fn the_parquet_sink_records_the_audit_next_to_older_runs() {
    let work = tempfile::tempdir().expect("temp dir");
    let lake = lake(work.path());
    let gold = work.path().join("gold");
    // a pipeline_runs file of an older medallion: the columns before the audit ones
    let runs_dir = gold.join("pipeline_runs");
    std::fs::create_dir_all(&runs_dir).unwrap();
    let batch = old_record().to_batch().unwrap();
    let old_columns: Vec<usize> = (0..batch.num_columns() - RunAudit::fields().len()).collect();
    let batch = batch.project(&old_columns).unwrap();
    let file = File::create(runs_dir.join("run-oldrun.parquet")).unwrap();
    let mut writer = ArrowWriter::try_new(file, Arc::clone(&batch.schema()), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();

    let sink = format!("file://{}", gold.display());
    let who = "cronjob/medallion-accidents-datamart";
    assert_success(&run(&lake, &sink, Some(who)), "first run");
    assert_success(&run(&lake, &sink, None), "second run");

    let runs = Gold::open_tables(&gold, &["pipeline_runs"]).await;
    let rows = runs
        .rows(
            "SELECT run_id, started_by, host, plan_hash FROM pipeline_runs \
             ORDER BY started_at",
        )
        .await;
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(rows[0], vec![s("oldrun"), Val::Null, Val::Null, Val::Null]);
    assert_eq!(rows[1][1], s(who));
    let user = &rows[2][1];
    assert!(
        user.as_str()
            .is_some_and(|u| u.starts_with("cli/") && u.len() > 4),
        "{user:?}"
    );
    for row in &rows[1..] {
        assert!(row[2].as_str().is_some_and(|h| !h.is_empty()), "{row:?}");
        assert!(is_plan_hash(&row[3]), "{row:?}");
    }
    // the same plan, the same hash
    assert_eq!(rows[1][3], rows[2][3]);
    // medallion runs lists the old run with the new ones
    assert_eq!(listed_runs(&sink).len(), 3);
}

/// `pipeline_runs` as medallion created it before the audit columns.
const OLD_PIPELINE_RUNS: &str = "CREATE TABLE pipeline_runs (
  run_id VARCHAR(64) NOT NULL,
  job VARCHAR(255) NOT NULL,
  mode VARCHAR(32) NOT NULL,
  started_at DATETIME(6) NOT NULL,
  finished_at DATETIME(6) NOT NULL,
  status VARCHAR(16) NOT NULL,
  rows_read BIGINT UNSIGNED NOT NULL,
  rows_rejected BIGINT UNSIGNED NOT NULL,
  rows_written JSON NOT NULL,
  data_quality_score DOUBLE NULL,
  error TEXT NULL,
  duration_s DOUBLE NOT NULL,
  PRIMARY KEY (run_id),
  INDEX idx_job_started (job, started_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";

#[tokio::test]
async fn an_older_mysql_pipeline_runs_gets_the_audit_columns() {
    let work = tempfile::tempdir().expect("temp dir");
    let lake = lake(work.path());
    let db = TestDb::create("audit").await;
    let mut conn = db.conn().await;
    conn.query_drop(OLD_PIPELINE_RUNS).await.unwrap();
    conn.query_drop(
        "INSERT INTO pipeline_runs VALUES ('oldrun', 'accidents-datamart', 'full', \
         '2024-01-01 00:00:00', '2024-01-01 00:01:00', 'succeeded', 1, 0, '{}', NULL, NULL, 60)",
    )
    .await
    .unwrap();

    let sink = db.root_url();
    let who = "cronjob/medallion-accidents-datamart";
    assert_success(&run(&lake, &sink, Some(who)), "run into the older table");
    assert_success(&run(&lake, &sink, None), "second run");

    let rows = mysql_rows(
        &mut conn,
        "SELECT run_id, status, started_by, host, plan_hash FROM pipeline_runs \
         ORDER BY started_at",
    )
    .await;
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(
        rows[0],
        vec![s("oldrun"), s("succeeded"), Val::Null, Val::Null, Val::Null]
    );
    assert_eq!(rows[1][1], s("succeeded"));
    assert_eq!(rows[1][2], s(who));
    assert!(
        rows[2][2].as_str().is_some_and(|u| u.starts_with("cli/")),
        "{rows:?}"
    );
    for row in &rows[1..] {
        assert!(row[3].as_str().is_some_and(|h| !h.is_empty()), "{row:?}");
        assert!(is_plan_hash(&row[4]), "{row:?}");
    }
    assert_eq!(rows[1][4], rows[2][4]);
    // the hash is the plan's, whatever the sink: a Parquet run records the same
    let gold = work.path().join("gold");
    let file_sink = format!("file://{}", gold.display());
    assert_success(&run(&lake, &file_sink, None), "file run");
    let file_rows = Gold::open_tables(&gold, &["pipeline_runs"])
        .await
        .rows("SELECT plan_hash FROM pipeline_runs")
        .await;
    assert_eq!(file_rows, vec![vec![rows[1][4].clone()]]);
    assert_eq!(listed_runs(&sink).len(), 3);
    let _ = conn.disconnect().await;
}
