//! The client's phases around the tasks: turning a Gold table's task tables into its staging table,
//! publishing every staged table at once, and dropping what a run left behind.
//!
//! Publishing is one `RENAME TABLE` statement, which MySQL and MariaDB apply atomically: each
//! published Gold table `t` becomes `old_<run>__t` and each staging table `stg_<run>__t` becomes
//! `t`, all or none. **The replaced tables are then dropped**: once the rename succeeded they are
//! no longer needed; should that drop fail, they stay as `old_<run>__<table>` (logged) for an
//! operator to drop, and readers are not affected.

use std::collections::BTreeSet;
use std::time::Instant;

use datafusion::arrow::datatypes::Schema;
use mysql_async::Conn;
use mysql_async::prelude::Queryable;
use tracing::{info, warn};

use super::connection::{run, tables_with_prefix};
use super::ddl::{RESTORE_STATISTICS, TableDdl};
use super::exchange::PartitionedStaging;
use super::load::SESSION_SETUP;
use super::names::{RunNames, qualified};
use super::target::SinkTarget;
use super::task_tables::{analyze, check_rows, task_tables};
use crate::error::{Error, Result};

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
