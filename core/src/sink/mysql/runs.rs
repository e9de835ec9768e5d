//! The `pipeline_runs` table: one row per run, succeeded or failed.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Params, Value};

use super::added_columns::add_missing_columns;
use super::connection::{connect, server_error, unreachable};
use super::names::qualified;
use super::url::MySqlUrl;
use crate::error::{Error, Result};
use crate::run_record::RunRecord;
use crate::sink::recent_runs::runs_schema;

/// The table's name.
pub const PIPELINE_RUNS: &str = "pipeline_runs";

/// The audit columns ([`RunAudit`](crate::run_audit::RunAudit)), added to a `pipeline_runs`
/// created before them.
const AUDIT_COLUMNS: [(&str, &str); 3] = [
    ("started_by", "VARCHAR(255) NULL"),
    ("host", "VARCHAR(255) NULL"),
    ("plan_hash", "CHAR(64) NULL"),
];

/// `CREATE TABLE IF NOT EXISTS pipeline_runs` in database `db`.
pub fn create_sql(db: &str) -> Result<String> {
    Ok(format!(
        "CREATE TABLE IF NOT EXISTS {} (
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
  started_by VARCHAR(255) NULL,
  host VARCHAR(255) NULL,
  plan_hash CHAR(64) NULL,
  PRIMARY KEY (run_id),
  INDEX idx_job_started (job, started_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
        qualified(db, PIPELINE_RUNS)?
    ))
}

/// Inserts (or, for a run recorded twice, replaces) `record`'s row; times are UTC.
pub async fn record(conn: &mut Conn, db: &str, record: &RunRecord) -> Result<()> {
    conn.query_drop(create_sql(db)?)
        .await
        .map_err(|e| server_error("creating pipeline_runs", e))?;
    add_missing_columns(conn, db, PIPELINE_RUNS, &AUDIT_COLUMNS).await?;
    let time = |t: &chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M:%S%.6f").to_string();
    let params = Params::Positional(vec![
        Value::from(record.run_id.as_str()),
        Value::from(record.job.as_str()),
        Value::from(record.mode.as_str()),
        Value::from(time(&record.started_at)),
        Value::from(time(&record.finished_at)),
        Value::from(record.status.as_str()),
        Value::from(record.rows_read),
        Value::from(record.rows_rejected),
        Value::from(record.rows_written_json()),
        Value::from(record.data_quality_score.filter(|q| q.is_finite())),
        Value::from(record.error.as_deref()),
        Value::from(record.duration_secs()),
        Value::from(record.audit.started_by.as_str()),
        Value::from(record.audit.host.as_str()),
        Value::from(record.audit.plan_hash.as_deref()),
    ]);
    let sql = format!(
        "INSERT INTO {} (run_id, job, mode, started_at, finished_at, status, rows_read, \
         rows_rejected, rows_written, data_quality_score, error, duration_s, started_by, host, \
         plan_hash) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON DUPLICATE KEY UPDATE job = VALUES(job), mode = VALUES(mode), \
         started_at = VALUES(started_at), finished_at = VALUES(finished_at), \
         status = VALUES(status), rows_read = VALUES(rows_read), \
         rows_rejected = VALUES(rows_rejected), rows_written = VALUES(rows_written), \
         data_quality_score = VALUES(data_quality_score), error = VALUES(error), \
         duration_s = VALUES(duration_s), started_by = VALUES(started_by), \
         host = VALUES(host), plan_hash = VALUES(plan_hash)",
        qualified(db, PIPELINE_RUNS)?
    );
    conn.exec_drop(sql, params)
        .await
        .map_err(|e| server_error("recording the run in pipeline_runs", e))
}

/// One row of `pipeline_runs`, as [`recent_runs`] selects it.
type RecentRun = (
    String,
    String,
    String,
    String,
    String,
    Option<f64>,
    i64,
    i64,
    String,
    Option<f64>,
    Option<String>,
);

/// The latest `limit` runs (of `job` only, when given) recorded in the database of `url`, newest
/// first, in the columns of [`runs_schema`]; none when it has no `pipeline_runs` table yet.
pub async fn recent_runs(
    url: &MySqlUrl,
    job: Option<&str>,
    limit: u32,
) -> Result<Vec<RecordBatch>> {
    let mut conn = connect(url, false).await?;
    let exists: Option<String> = conn
        .exec_first(
            "SELECT TABLE_NAME FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
            (url.database.as_str(), PIPELINE_RUNS),
        )
        .await
        .map_err(|e| unreachable(url, e.to_string()))?;
    if exists.is_none() {
        let _ = conn.disconnect().await;
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT run_id, job, mode, status, \
           DATE_FORMAT(started_at, '%Y-%m-%d %H:%i:%s'), duration_s, \
           CAST(rows_read AS SIGNED), CAST(rows_rejected AS SIGNED), \
           CAST(rows_written AS CHAR), data_quality_score, error \
         FROM {} WHERE (? IS NULL OR job = ?) \
         ORDER BY started_at DESC, run_id DESC LIMIT ?",
        qualified(&url.database, PIPELINE_RUNS)?
    );
    let rows: Vec<RecentRun> = conn
        .exec(sql, (job, job, limit))
        .await
        .map_err(|e| server_error("reading pipeline_runs", e))?;
    let _ = conn.disconnect().await;
    let text = |f: &dyn Fn(&RecentRun) -> String| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(rows.iter().map(f)))
    };
    let columns: Vec<ArrayRef> = vec![
        text(&|r| r.0.clone()),
        text(&|r| r.1.clone()),
        text(&|r| r.2.clone()),
        text(&|r| r.3.clone()),
        text(&|r| r.4.clone()),
        Arc::new(Float64Array::from_iter(rows.iter().map(|r| r.5))),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.6))),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.7))),
        text(&|r| r.8.clone()),
        Arc::new(Float64Array::from_iter(rows.iter().map(|r| r.9))),
        Arc::new(StringArray::from_iter(rows.iter().map(|r| r.10.clone()))),
    ];
    let batch = RecordBatch::try_new(runs_schema(), columns)
        .map_err(|e| Error::engine("reading pipeline_runs", e.into()))?;
    Ok(vec![batch])
}
