//! Columns added to a sink table after its first release: a table created by an older medallion
//! gets them, as nullable columns, the first time a newer one uses it. Plain
//! `information_schema` + `ALTER TABLE ... ADD COLUMN`, which MySQL and MariaDB both accept
//! (MySQL has no `ADD COLUMN IF NOT EXISTS`).

use mysql_async::Conn;
use mysql_async::prelude::Queryable;

use super::connection::server_error;
use super::names::{qualified, quote};
use crate::error::Result;

/// The names among `wanted` that table `db`.`table` lacks (compared case-insensitively, as MySQL
/// names columns).
async fn missing<'a>(
    conn: &mut Conn,
    db: &str,
    table: &str,
    wanted: &[(&'a str, &'a str)],
) -> Result<Vec<(&'a str, &'a str)>> {
    let existing: Vec<String> = conn
        .exec(
            "SELECT COLUMN_NAME FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
            (db, table),
        )
        .await
        .map_err(|e| server_error(format!("reading the columns of {table}"), e))?;
    Ok(wanted
        .iter()
        .filter(|(name, _)| !existing.iter().any(|e| e.eq_ignore_ascii_case(name)))
        .copied()
        .collect())
}

/// Adds to table `db`.`table` each of `columns` (name, type and constraints) it lacks, in one
/// `ALTER TABLE`. Another client adding them at the same time is fine: the statement's failure
/// is an error only when a column is still missing afterwards.
pub async fn add_missing_columns(
    conn: &mut Conn,
    db: &str,
    table: &str,
    columns: &[(&str, &str)],
) -> Result<()> {
    let to_add = missing(conn, db, table, columns).await?;
    if to_add.is_empty() {
        return Ok(());
    }
    let clauses = to_add
        .iter()
        .map(|(name, ddl)| Ok(format!("ADD COLUMN {} {ddl}", quote(name)?)))
        .collect::<Result<Vec<_>>>()?;
    let sql = format!(
        "ALTER TABLE {} {}",
        qualified(db, table)?,
        clauses.join(", ")
    );
    let context = format!("adding columns to {table}");
    let altered = conn.query_drop(sql).await;
    if let Err(e) = altered
        && !missing(conn, db, table, columns).await?.is_empty()
    {
        return Err(server_error(context, e));
    }
    tracing::info!(table, added = ?to_add.iter().map(|c| c.0).collect::<Vec<_>>(), "table columns added");
    Ok(())
}
