//! The `pipeline_runs` table: one row per run, succeeded or failed.

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Params, Value};

use super::names::qualified;
use super::publish::server_error;
use crate::error::Result;
use crate::run_record::RunRecord;

/// The table's name.
pub const PIPELINE_RUNS: &str = "pipeline_runs";

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
    ]);
    let sql = format!(
        "INSERT INTO {} (run_id, job, mode, started_at, finished_at, status, rows_read, \
         rows_rejected, rows_written, data_quality_score, error, duration_s) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON DUPLICATE KEY UPDATE job = VALUES(job), mode = VALUES(mode), \
         started_at = VALUES(started_at), finished_at = VALUES(finished_at), \
         status = VALUES(status), rows_read = VALUES(rows_read), \
         rows_rejected = VALUES(rows_rejected), rows_written = VALUES(rows_written), \
         data_quality_score = VALUES(data_quality_score), error = VALUES(error), \
         duration_s = VALUES(duration_s)",
        qualified(db, PIPELINE_RUNS)?
    );
    conn.exec_drop(sql, params)
        .await
        .map_err(|e| server_error("recording the run in pipeline_runs", e))
}
