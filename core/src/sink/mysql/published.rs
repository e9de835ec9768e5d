//! Reading rows of a published Gold table back, as text: what the data quality gate compares a
//! run with (the last successful run's drift profiles in `data_quality_results`).

use mysql_async::prelude::Queryable;

use super::connection::{connect, server_error, unreachable};
use super::names::{qualified, quote};
use super::url::MySqlUrl;
use crate::error::Result;

/// `columns` (as text; NULL as `None`) of the rows of published table `table` in the database of
/// `url` whose column `key.0` equals `key.1`; none when the table does not exist.
pub async fn published_rows(
    url: &MySqlUrl,
    table: &str,
    columns: &[&str],
    key: (&str, &str),
) -> Result<Vec<Vec<Option<String>>>> {
    let mut conn = connect(url, false).await?;
    let exists: Option<String> = conn
        .exec_first(
            "SELECT TABLE_NAME FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
            (url.database.as_str(), table),
        )
        .await
        .map_err(|e| unreachable(url, e.to_string()))?;
    if exists.is_none() {
        let _ = conn.disconnect().await;
        return Ok(Vec::new());
    }
    let selected = columns
        .iter()
        .map(|c| quote(c).map(|q| format!("CAST({q} AS CHAR)")))
        .collect::<Result<Vec<_>>>()?;
    let sql = format!(
        "SELECT {} FROM {} WHERE {} = ?",
        selected.join(", "),
        qualified(&url.database, table)?,
        quote(key.0)?
    );
    let rows: Vec<mysql_async::Row> = conn
        .exec(sql, (key.1,))
        .await
        .map_err(|e| server_error(format!("reading {table}"), e))?;
    let _ = conn.disconnect().await;
    Ok(rows
        .iter()
        .map(|row| {
            (0..columns.len())
                .map(|i| row.get::<Option<String>, usize>(i).flatten())
                .collect()
        })
        .collect())
}
