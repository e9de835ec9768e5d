//! The client's phases around the tasks: turning a Gold table's task tables into its staging table,
//! publishing every staged table at once, and dropping what a run left behind.
//!
//! Publishing is one `RENAME TABLE` statement, which MySQL and MariaDB apply atomically: each
//! published Gold table `t` becomes `old_<run>__t` and each staging table `stg_<run>__t` becomes
//! `t`, all or none. **The replaced tables are then dropped**: once the rename succeeded they are
//! no longer needed; should that drop fail, they stay as `old_<run>__<table>` (logged) for an
//! operator to drop, and readers are not affected.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use datafusion::arrow::datatypes::Schema;
use datafusion::error::DataFusionError;
use mysql_async::Conn;
use mysql_async::prelude::Queryable;
use tracing::{debug, info, warn};

use super::ddl::{RESTORE_STATISTICS, TableDdl};
use super::exchange::PartitionedStaging;
use super::load::{SESSION_SETUP, rows_from_comment};
use super::names::{RunNames, TaskPart, qualified};
use super::target::SinkTarget;
use super::url::MySqlUrl;
use crate::error::{Error, Result};

/// How long the client waits for the server to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// A client connection; any failure is [`Error::Unreachable`] with the password masked.
pub async fn connect(url: &MySqlUrl, with_database: bool) -> Result<Conn> {
    let unreachable = |message: String| Error::Unreachable {
        what: "MySQL",
        location: url.masked(),
        message,
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, Conn::new(url.opts(with_database))).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(unreachable(e.to_string())),
        Err(_) => Err(unreachable(format!(
            "no answer within {} s",
            CONNECT_TIMEOUT.as_secs()
        ))),
    }
}

/// A server error while doing `context`.
pub fn server_error(context: impl Into<String>, error: mysql_async::Error) -> Error {
    Error::engine(context, DataFusionError::External(Box::new(error)))
}

/// Runs `sql`, naming `context` on failure.
pub async fn run(conn: &mut Conn, sql: String, context: &str) -> Result<()> {
    conn.query_drop(sql)
        .await
        .map_err(|e| server_error(context, e))
}

/// A `LIKE` pattern matching the names that start with `prefix`.
fn like_prefix(prefix: &str) -> String {
    let mut pattern = String::with_capacity(prefix.len() + 8);
    for c in prefix.chars() {
        if matches!(c, '\\' | '_' | '%') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The tables of database `db` whose names start with `prefix`.
pub async fn tables_with_prefix(conn: &mut Conn, db: &str, prefix: &str) -> Result<Vec<String>> {
    let names: Vec<String> = conn
        .exec(
            "SELECT TABLE_NAME FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME LIKE ? ORDER BY TABLE_NAME",
            (db, like_prefix(prefix)),
        )
        .await
        .map_err(|e| server_error("listing MySQL tables", e))?;
    // LIKE may be case-insensitive; keep exact matches only
    Ok(names
        .into_iter()
        .filter(|n| n.starts_with(prefix))
        .collect())
}

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

/// Builds `target`'s staging table from the task tables the run's tasks left: renames the only
/// one, or merges several, for a plain table; for a table partitioned by year (month), see
/// [`PartitionedStaging`]. Rebuilding from the task tables is idempotent. When `expected_rows`
/// (what the tasks reported) is given, the rows the task tables recorded must add up to it (see
/// [`check_rows`]).
pub async fn assemble(
    conn: &mut Conn,
    target: &SinkTarget,
    schema: &Schema,
    expected_rows: Option<u64>,
) -> Result<()> {
    if target.layout.period_partitioning().is_some() {
        return PartitionedStaging::open(conn, target, schema)
            .await?
            .finish(expected_rows)
            .await;
    }
    let started = Instant::now();
    let db = target.url.database.as_str();
    let table = target.table.as_str();
    let ddl = TableDdl::new(schema, &target.layout)?;
    let staging = qualified(db, &target.names().staging(table))?;
    let context = format!("staging Gold table {table} in MySQL");

    let tasks = task_tables(conn, target).await?;
    check_rows(
        table,
        expected_rows,
        tasks.iter().map(|(_, rows)| rows).sum(),
    )?;
    run(conn, SESSION_SETUP.to_string(), &context).await?;
    run(conn, format!("DROP TABLE IF EXISTS {staging}"), &context).await?;
    let columns = ddl.loaded_columns().join(",");
    let mut tasks = tasks.into_iter().map(|(task, _)| task.name);
    match tasks.next() {
        None => run(conn, ddl.create(&staging, true, None), &context).await?,
        Some(first) => {
            let first = qualified(db, &first)?;
            run(conn, format!("RENAME TABLE {first} TO {staging}"), &context).await?;
            for other in tasks {
                let other = qualified(db, &other)?;
                merge(conn, &staging, &other, &columns, &context).await?;
            }
            let restore = format!("ALTER TABLE {staging} {RESTORE_STATISTICS}");
            run(conn, restore, &context).await?;
        }
    }
    analyze(conn, &staging, table).await;
    info!(
        table,
        seconds = started.elapsed().as_secs_f64(),
        "MySQL staging table ready"
    );
    Ok(())
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

/// Moves the rows of `from` into `into` and drops `from`.
async fn merge(
    conn: &mut Conn,
    into: &str,
    from: &str,
    columns: &str,
    context: &str,
) -> Result<()> {
    run(
        conn,
        format!("INSERT INTO {into} ({columns}) SELECT {columns} FROM {from}"),
        context,
    )
    .await?;
    run(conn, format!("DROP TABLE {from}"), context).await
}

/// Publishes the staged tables `staged` of the run `names` in one atomic `RENAME TABLE`, then
/// drops the tables they replaced.
pub async fn publish(conn: &mut Conn, db: &str, names: &RunNames, staged: &[String]) -> Result<()> {
    if staged.is_empty() {
        return Ok(());
    }
    let existing: BTreeSet<String> = tables_with_prefix(conn, db, "")
        .await?
        .into_iter()
        .collect();
    let mut renames = Vec::with_capacity(staged.len() * 2);
    let mut replaced = Vec::new();
    for table in staged {
        let staging = names.staging(table);
        if !existing.contains(&staging) {
            return Err(Error::JobFailed {
                job: "publish".into(),
                message: format!("staging table {db}.{staging} is missing"),
            });
        }
        if existing.contains(table) {
            let old = qualified(db, &names.replaced(table))?;
            renames.push(format!("{} TO {old}", qualified(db, table)?));
            replaced.push(old);
        }
        renames.push(format!(
            "{} TO {}",
            qualified(db, &staging)?,
            qualified(db, table)?
        ));
    }
    run(
        conn,
        format!("RENAME TABLE {}", renames.join(", ")),
        "publishing the Gold tables in MySQL",
    )
    .await?;
    info!(
        tables = staged.len(),
        replaced = replaced.len(),
        "MySQL Gold tables published"
    );
    if !replaced.is_empty() {
        let drop = format!("DROP TABLE IF EXISTS {}", replaced.join(", "));
        if let Err(e) = conn.query_drop(drop).await {
            warn!(error = %e, tables = %replaced.join(", "), "could not drop the replaced Gold tables; drop them by hand");
        }
    }
    Ok(())
}

/// Drops every staging, task and replaced table of the run `names`; returns how many.
pub async fn drop_run_tables(conn: &mut Conn, db: &str, names: &RunNames) -> Result<usize> {
    let mut tables = tables_with_prefix(conn, db, &names.staging_prefix()).await?;
    tables.extend(tables_with_prefix(conn, db, &names.replaced_prefix()).await?);
    for chunk in tables.chunks(100) {
        let list = chunk
            .iter()
            .map(|t| qualified(db, t))
            .collect::<Result<Vec<_>>>()?;
        run(
            conn,
            format!("DROP TABLE IF EXISTS {}", list.join(", ")),
            "dropping the MySQL staging tables",
        )
        .await?;
    }
    Ok(tables.len())
}
