//! The task tables of a Gold table: the tables its tasks loaded (one per task, or per task and period),
//! the rows each recorded, and the statistics of the staging table built from them.

use std::time::Instant;

use mysql_async::Conn;
use mysql_async::prelude::Queryable;
use tracing::{debug, warn};

use super::connection::{like_prefix, server_error};
use super::load::rows_from_comment;
use super::names::TaskPart;
use super::target::SinkTarget;
use crate::error::{Error, Result};

/// One task table of a Gold table.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TaskTable {
    /// What it holds.
    pub part: TaskPart,
    /// Its name (unqualified).
    pub name: String,
    /// The rows its comment records: `None` while its task has not finished it.
    pub rows: Option<u64>,
}

/// The task tables of `target` found in its database, finished or not, in task order.
pub async fn listed_task_tables(conn: &mut Conn, target: &SinkTarget) -> Result<Vec<TaskTable>> {
    let db = target.url.database.as_str();
    let table = target.table.as_str();
    let names = target.names();
    let prefix = format!("{}__", names.staging(table));
    let listed: Vec<(String, String)> = conn
        .exec(
            "SELECT TABLE_NAME, TABLE_COMMENT FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME LIKE ?",
            (db, like_prefix(&prefix)),
        )
        .await
        .map_err(|e| server_error("listing MySQL tables", e))?;
    let mut tasks: Vec<TaskTable> = listed
        .into_iter()
        .filter_map(|(name, comment)| {
            let part = names.parse_task(table, &name)?;
            Some(TaskTable {
                part,
                rows: rows_from_comment(&comment),
                name,
            })
        })
        .collect();
    tasks.sort();
    Ok(tasks)
}

/// The task tables of `target`, every one finished by its task, in task order.
pub async fn task_tables(conn: &mut Conn, target: &SinkTarget) -> Result<Vec<(TaskTable, u64)>> {
    let db = target.url.database.as_str();
    listed_task_tables(conn, target)
        .await?
        .into_iter()
        .map(|task| match task.rows {
            Some(rows) => Ok((task, rows)),
            None => Err(Error::JobFailed {
                job: format!("Gold table {}", target.table),
                message: format!("task table {db}.{} was not completely loaded", task.name),
            }),
        })
        .collect()
}

/// Fails unless the rows the task tables recorded, `recorded`, are what the tasks reported,
/// `expected` (when known): two tasks overwriting each other's table would fail here rather than
/// lose rows.
pub fn check_rows(table: &str, expected: Option<u64>, recorded: u64) -> Result<()> {
    match expected {
        Some(expected) if expected != recorded => Err(Error::JobFailed {
            job: format!("Gold table {table}"),
            message: format!(
                "the tasks wrote {expected} rows but their MySQL tables hold {recorded}"
            ),
        }),
        _ => Ok(()),
    }
}

/// Computes the statistics of the staging table `staging` (qualified) of Gold table `table`, which
/// its task tables did not keep up to date while they were loaded (see [`TableDdl::create`]), so
/// that queries on the published table are planned from its real contents. A table left without
/// them is still correct, so a failure is logged, not raised.
pub async fn analyze(conn: &mut Conn, staging: &str, table: &str) {
    let started = Instant::now();
    match conn
        .query::<(String, String, String, String), _>(format!("ANALYZE TABLE {staging}"))
        .await
    {
        Ok(rows) => {
            for (_, _, kind, text) in rows {
                if kind.eq_ignore_ascii_case("error") {
                    warn!(table, message = %text, "ANALYZE TABLE of the MySQL staging table failed");
                }
            }
            debug!(
                table,
                seconds = started.elapsed().as_secs_f64(),
                "MySQL staging table analysed"
            );
        }
        Err(e) => {
            warn!(table, error = %e, "ANALYZE TABLE of the MySQL staging table failed")
        }
    }
}
