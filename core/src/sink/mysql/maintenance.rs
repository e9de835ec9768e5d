//! Maintenance of a MySQL sink's database (`medallion optimize`): `ANALYZE TABLE` and
//! `OPTIMIZE TABLE` on every published table, and removal of the tables that runs killed before
//! they cleaned up left behind (`stg_<run>__*` staging and task tables, `old_<run>__*` replaced
//! tables, see [`names`](super::names)).
//!
//! A leftover is dropped only when it is older than the given age and no run of the job owning
//! its Gold table holds that job's run lock ([`lock_name`]): a running run's tables are never
//! touched. A leftover whose Gold table no job owns is judged by its age alone.

use std::time::Duration;

use mysql_async::Conn;
use mysql_async::prelude::Queryable;
use tracing::{info, warn};

use super::connection::{connect, server_error, tables_with_prefix};
use super::names::{qualified, validate_identifier};
use super::run_lock::lock_name;
use super::url::MySqlUrl;
use crate::error::{Error, Result};

/// Prefix of staging and task tables.
const STAGING_PREFIX: &str = "stg_";
/// Prefix of replaced tables awaiting their drop.
const REPLACED_PREFIX: &str = "old_";

/// What `ANALYZE TABLE` and `OPTIMIZE TABLE` said about one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableMaintenance {
    /// The table.
    pub table: String,
    /// The last message of `ANALYZE TABLE` (`OK`, `Table is already up to date`, ...).
    pub analyze: String,
    /// The last message of `OPTIMIZE TABLE` (InnoDB: `OK` after "recreate + analyze").
    pub optimize: String,
}

/// A table a run left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftoverTable {
    /// Its name.
    pub name: String,
    /// The run key it was named after.
    pub run_key: String,
    /// The Gold table it belongs to.
    pub gold_table: String,
    /// Seconds since it was created (`None`: the server does not say).
    pub age_secs: Option<u64>,
}

/// Why a leftover table was kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeptBecause {
    /// Younger than the age limit (or of unknown age).
    TooRecent,
    /// A run of this job is in progress.
    RunInProgress(String),
}

/// What a maintenance pass did (or, dry, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MaintenanceReport {
    /// The published tables analysed and optimised, by name.
    pub tables: Vec<TableMaintenance>,
    /// The leftover tables dropped.
    pub dropped: Vec<LeftoverTable>,
    /// The leftover tables kept, and why.
    pub kept: Vec<(LeftoverTable, KeptBecause)>,
}

/// The run key and Gold table of a leftover table name: `stg_<key>__<table>[__<part>]` or
/// `old_<key>__<table>`; `None` for any other name.
pub fn parse_leftover(name: &str) -> Option<(String, String)> {
    let rest = name
        .strip_prefix(STAGING_PREFIX)
        .or_else(|| name.strip_prefix(REPLACED_PREFIX))?;
    let (key, table) = rest.split_once("__")?;
    let table = table.split_once("__").map_or(table, |(t, _)| t);
    let key_ok = !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric());
    (key_ok && !table.is_empty()).then(|| (key.to_string(), table.to_string()))
}

/// The published tables of `db`: its base tables that are not run leftovers, by name.
pub async fn published_tables(conn: &mut Conn, db: &str) -> Result<Vec<String>> {
    let names: Vec<String> = conn
        .exec(
            "SELECT TABLE_NAME FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
            (db,),
        )
        .await
        .map_err(|e| server_error("listing MySQL tables", e))?;
    Ok(names
        .into_iter()
        .filter(|n| parse_leftover(n).is_none() && validate_identifier(n).is_ok())
        .collect())
}

/// The leftover tables of `db` (see [`parse_leftover`]) with their age, by name.
pub async fn leftover_tables(conn: &mut Conn, db: &str) -> Result<Vec<LeftoverTable>> {
    let mut names = tables_with_prefix(conn, db, STAGING_PREFIX).await?;
    names.extend(tables_with_prefix(conn, db, REPLACED_PREFIX).await?);
    let mut leftovers = Vec::new();
    for name in names {
        let Some((run_key, gold_table)) = parse_leftover(&name) else {
            continue;
        };
        let age: Option<Option<i64>> = conn
            .exec_first(
                "SELECT TIMESTAMPDIFF(SECOND, CREATE_TIME, NOW()) FROM information_schema.TABLES \
                 WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
                (db, name.as_str()),
            )
            .await
            .map_err(|e| server_error("reading the age of MySQL tables", e))?;
        leftovers.push(LeftoverTable {
            name,
            run_key,
            gold_table,
            age_secs: age.flatten().map(|s| u64::try_from(s).unwrap_or(0)),
        });
    }
    leftovers.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(leftovers)
}

/// Whether a run of `job` into `db` holds its run lock.
pub async fn run_in_progress(conn: &mut Conn, db: &str, job: &str) -> Result<bool> {
    let holder: Option<Option<u64>> = conn
        .exec_first("SELECT IS_USED_LOCK(?)", (lock_name(db, job),))
        .await
        .map_err(|e| server_error("checking the MySQL run locks", e))?;
    Ok(holder.flatten().is_some())
}

/// A row of `ANALYZE TABLE`/`OPTIMIZE TABLE`: Table, Op, Msg_type, Msg_text.
type CheckRow = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Runs `ANALYZE TABLE` or `OPTIMIZE TABLE` (`op`) on `table`; its last message, or an error when
/// the server reports one.
async fn table_statement(conn: &mut Conn, db: &str, table: &str, op: &str) -> Result<String> {
    let rows: Vec<CheckRow> = conn
        .query(format!("{op} TABLE {}", qualified(db, table)?))
        .await
        .map_err(|e| server_error(format!("{op} TABLE {db}.{table}"), e))?;
    if let Some((_, _, _, text)) = rows.iter().find(|(_, _, kind, _)| {
        kind.as_deref()
            .is_some_and(|k| k.eq_ignore_ascii_case("error"))
    }) {
        return Err(Error::JobFailed {
            job: "optimize".to_string(),
            message: format!(
                "{op} TABLE {db}.{table}: {}",
                text.as_deref().unwrap_or("error")
            ),
        });
    }
    Ok(rows.last().and_then(|r| r.3.clone()).unwrap_or_default())
}

/// One maintenance pass over `url`'s database: drops the leftovers older than `max_age` whose
/// job (`job_of` their Gold table) has no run in progress, then analyses and optimises every
/// published table. With `dry_run`, only reports what it would do.
pub async fn maintain(
    url: &MySqlUrl,
    job_of: &dyn Fn(&str) -> Option<String>,
    max_age: Duration,
    dry_run: bool,
) -> Result<MaintenanceReport> {
    let db = url.database.as_str();
    let mut conn = connect(url, true).await?;
    let outcome = maintain_on(&mut conn, db, job_of, max_age, dry_run).await;
    let _ = conn.disconnect().await;
    outcome
}

async fn maintain_on(
    conn: &mut Conn,
    db: &str,
    job_of: &dyn Fn(&str) -> Option<String>,
    max_age: Duration,
    dry_run: bool,
) -> Result<MaintenanceReport> {
    let mut report = MaintenanceReport::default();
    for leftover in leftover_tables(conn, db).await? {
        if leftover.age_secs.is_none_or(|age| age < max_age.as_secs()) {
            report.kept.push((leftover, KeptBecause::TooRecent));
            continue;
        }
        if let Some(job) = job_of(&leftover.gold_table)
            && run_in_progress(conn, db, &job).await?
        {
            report
                .kept
                .push((leftover, KeptBecause::RunInProgress(job)));
            continue;
        }
        if !dry_run {
            conn.query_drop(format!(
                "DROP TABLE IF EXISTS {}",
                qualified(db, &leftover.name)?
            ))
            .await
            .map_err(|e| server_error(format!("dropping {db}.{}", leftover.name), e))?;
            info!(table = %leftover.name, age_secs = leftover.age_secs, "stale run table dropped");
        }
        report.dropped.push(leftover);
    }
    for table in published_tables(conn, db).await? {
        if dry_run {
            report.tables.push(TableMaintenance {
                table,
                analyze: String::new(),
                optimize: String::new(),
            });
            continue;
        }
        let optimize = table_statement(conn, db, &table, "OPTIMIZE").await?;
        let analyze = table_statement(conn, db, &table, "ANALYZE").await?;
        if !optimize.eq_ignore_ascii_case("ok") && !optimize.contains("up to date") {
            warn!(table = %table, message = %optimize, "OPTIMIZE TABLE");
        }
        info!(table = %table, analyze = %analyze, optimize = %optimize, "table analysed and optimised");
        report.tables.push(TableMaintenance {
            table,
            analyze,
            optimize,
        });
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leftover_names_give_their_run_and_table() {
        let parse = |n: &str| parse_leftover(n);
        assert_eq!(
            parse("stg_k1__patient_daily_vitals"),
            Some(("k1".into(), "patient_daily_vitals".into()))
        );
        assert_eq!(
            parse("stg_20240102ab12cd34__cohort_monthly__y202401"),
            Some(("20240102ab12cd34".into(), "cohort_monthly".into()))
        );
        assert_eq!(
            parse("old_k1__hotspots"),
            Some(("k1".into(), "hotspots".into()))
        );
        assert_eq!(parse("hotspots"), None);
        assert_eq!(parse("stg_only"), None);
        assert_eq!(parse("stg_a_b__t"), None);
        assert_eq!(parse("stg_k1__"), None);
        assert_eq!(parse("pipeline_runs"), None);
    }
}
