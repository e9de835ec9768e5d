//! Publishing merged Gold tables (see [`Merge`]) into their live MySQL tables.
//!
//! The staging table of a merged table is built exactly like a replaced one's; at publish, instead
//! of being renamed over the live table, its rows go into it:
//! 1. DDL, before any data changes: a live table that does not exist yet is simply published by the
//!    `RENAME TABLE` (the staging table is the whole table); a live table partitioned by year or
//!    month gets a partition for each new period after its last one (`REORGANIZE PARTITION
//!    p_future`; earlier periods already fall in an existing partition).
//! 2. One transaction over every merged table: `DELETE` the replaced period window
//!    ([`Merge::ReplaceRange`]), then `INSERT INTO live SELECT * FROM staging ON DUPLICATE KEY
//!    UPDATE` every non-key column. InnoDB commits all of it or none of it, so readers see the
//!    old or the new rows, and the same run repeated changes nothing.
//! 3. The staging tables are dropped.

use std::collections::BTreeSet;

use mysql_async::Conn;
use mysql_async::prelude::Queryable;
use tracing::{info, warn};

use super::connection::{server_error, tables_with_prefix};
use super::ddl::{PeriodPartitions, TableLayout, sql_string};
use super::names::{RunNames, qualified, quote};
use crate::error::Result;
use crate::sink::Merge;

/// The session the merge runs in: strict, UTC (unlike the bulk load, unique checks stay on).
const MERGE_SESSION: &str =
    "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION', time_zone = '+00:00'";

/// A staged Gold table to merge into its live table.
#[derive(Debug, Clone)]
pub struct MergedTable {
    /// The Gold table.
    pub table: String,
    /// How its rows combine with the live ones.
    pub merge: Merge,
    /// Its layout (primary key and partitioning).
    pub layout: TableLayout,
}

/// The partition names of `db.table` (empty when it is not partitioned).
async fn partitions(conn: &mut Conn, db: &str, table: &str) -> Result<Vec<String>> {
    let names: Vec<Option<String>> = conn
        .exec(
            "SELECT PARTITION_NAME FROM information_schema.PARTITIONS \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY PARTITION_ORDINAL_POSITION",
            (db, table),
        )
        .await
        .map_err(|e| server_error(format!("listing the partitions of {db}.{table}"), e))?;
    Ok(names.into_iter().flatten().collect())
}

/// The period key of partition `p<key>`.
fn partition_key(name: &str) -> Option<i32> {
    name.strip_prefix('p')?.parse().ok()
}

/// Adds to the live partitioned table `live` a partition for each period of the staging table
/// after the live table's last one, by splitting `p_future`.
async fn add_periods(
    conn: &mut Conn,
    db: &str,
    table: &str,
    staging: &str,
    layout: &TableLayout,
) -> Result<()> {
    let Some((_, grain)) = layout.period_partitioning() else {
        return Ok(());
    };
    let live = partitions(conn, db, table).await?;
    if !live.iter().any(|p| p == "p_future") {
        return Ok(());
    }
    let last = live.iter().filter_map(|p| partition_key(p)).max();
    let keys: Vec<i32> = partitions(conn, db, staging)
        .await?
        .iter()
        .filter_map(|p| partition_key(p))
        .filter(|key| last.is_none_or(|last| *key > last))
        .collect();
    if keys.is_empty() {
        return Ok(());
    }
    let added = PeriodPartitions {
        grain,
        keys,
        has_null: false,
    };
    conn.query_drop(added.split_off_future(&qualified(db, table)?))
        .await
        .map_err(|e| server_error(format!("adding partitions to {db}.{table}"), e))?;
    info!(
        table,
        partitions = added.keys.len(),
        "MySQL period partitions added"
    );
    Ok(())
}

/// The columns of `db.table`, in order, quoted.
async fn columns(conn: &mut Conn, db: &str, table: &str) -> Result<Vec<String>> {
    let names: Vec<String> = conn
        .exec(
            "SELECT COLUMN_NAME FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
            (db, table),
        )
        .await
        .map_err(|e| server_error(format!("listing the columns of {db}.{table}"), e))?;
    names.iter().map(|n| quote(n)).collect()
}

/// The statements merging `staging` into `live` (both qualified) for `merged`.
fn merge_statements(
    merged: &MergedTable,
    live: &str,
    staging: &str,
    columns: &[String],
) -> Result<Vec<String>> {
    let mut statements = Vec::with_capacity(2);
    if let Merge::ReplaceRange { column, start, end } = &merged.merge {
        let column = quote(column)?;
        statements.push(format!(
            "DELETE FROM {live} WHERE {column} >= {} AND {column} < {}",
            sql_string(&start.to_string()),
            sql_string(&end.to_string())
        ));
    }
    let list = columns.join(",");
    let mut insert = format!("INSERT INTO {live} ({list}) SELECT {list} FROM {staging}");
    let key: Vec<String> = merged
        .layout
        .primary_key
        .iter()
        .map(|k| quote(k))
        .collect::<Result<_>>()?;
    if !key.is_empty() {
        let mut updates: Vec<String> = columns
            .iter()
            .filter(|c| !key.contains(c))
            .map(|c| format!("{c} = VALUES({c})"))
            .collect();
        if updates.is_empty() {
            updates.push(format!("{0} = {0}", key[0]));
        }
        insert.push_str(&format!(" ON DUPLICATE KEY UPDATE {}", updates.join(", ")));
    }
    statements.push(insert);
    Ok(statements)
}

/// Merges the staged tables `merged` of run `names` into their live tables (see the module
/// documentation); returns those that have no live table yet, to be published by `RENAME TABLE`.
pub async fn merge_into_live(
    conn: &mut Conn,
    db: &str,
    names: &RunNames,
    merged: &[MergedTable],
) -> Result<Vec<String>> {
    if merged.is_empty() {
        return Ok(Vec::new());
    }
    let existing: BTreeSet<String> = tables_with_prefix(conn, db, "")
        .await?
        .into_iter()
        .collect();
    let (live, new): (Vec<&MergedTable>, Vec<&MergedTable>) =
        merged.iter().partition(|m| existing.contains(&m.table));
    let context = "merging the Gold tables in MySQL";
    conn.query_drop(MERGE_SESSION)
        .await
        .map_err(|e| server_error(context, e))?;
    let mut statements = Vec::new();
    for m in &live {
        let staging = names.staging(&m.table);
        add_periods(conn, db, &m.table, &staging, &m.layout).await?;
        let columns = columns(conn, db, &staging).await?;
        statements.extend(merge_statements(
            m,
            &qualified(db, &m.table)?,
            &qualified(db, &staging)?,
            &columns,
        )?);
    }
    if !live.is_empty() {
        conn.query_drop("START TRANSACTION")
            .await
            .map_err(|e| server_error(context, e))?;
        for sql in &statements {
            if let Err(e) = conn.query_drop(sql.as_str()).await {
                let _ = conn.query_drop("ROLLBACK").await;
                return Err(server_error(context, e));
            }
        }
        conn.query_drop("COMMIT")
            .await
            .map_err(|e| server_error(context, e))?;
        info!(
            tables = live.len(),
            "MySQL Gold tables merged in one transaction"
        );
        let staged: Vec<String> = live
            .iter()
            .map(|m| qualified(db, &names.staging(&m.table)))
            .collect::<Result<_>>()?;
        if let Err(e) = conn
            .query_drop(format!("DROP TABLE IF EXISTS {}", staged.join(", ")))
            .await
        {
            warn!(error = %e, tables = %staged.join(", "), "could not drop merged staging tables; drop them by hand");
        }
    }
    Ok(new.into_iter().map(|m| m.table.clone()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table_options::TableOptions;
    use chrono::NaiveDate;

    fn layout(directives: &[&str]) -> TableLayout {
        let mut options = TableOptions::default();
        for d in directives {
            options.apply_directive(d).unwrap();
        }
        TableLayout::from(&options)
    }

    #[test]
    fn upserts_update_every_non_key_column() {
        let merged = MergedTable {
            table: "t".into(),
            merge: Merge::Upsert,
            layout: layout(&["primary_key = id, day"]),
        };
        let columns = ["`id`", "`day`", "`v`", "`w`"].map(String::from);
        let sql = merge_statements(&merged, "`db`.`t`", "`db`.`s`", &columns).unwrap();
        assert_eq!(
            sql,
            vec![
                "INSERT INTO `db`.`t` (`id`,`day`,`v`,`w`) SELECT `id`,`day`,`v`,`w` FROM `db`.`s` \
                 ON DUPLICATE KEY UPDATE `v` = VALUES(`v`), `w` = VALUES(`w`)"
            ]
        );
    }

    #[test]
    fn range_replacements_delete_the_window_first() {
        let day = |d| NaiveDate::from_ymd_opt(2024, 3, d).unwrap();
        let merged = MergedTable {
            table: "t".into(),
            merge: Merge::ReplaceRange {
                column: "day".into(),
                start: day(1),
                end: day(2),
            },
            layout: layout(&["primary_key = id, day"]),
        };
        let columns = ["`id`", "`day`"].map(String::from);
        let sql = merge_statements(&merged, "`db`.`t`", "`db`.`s`", &columns).unwrap();
        assert_eq!(
            sql[0],
            "DELETE FROM `db`.`t` WHERE `day` >= '2024-03-01' AND `day` < '2024-03-02'"
        );
        assert!(
            sql[1].ends_with("ON DUPLICATE KEY UPDATE `id` = `id`"),
            "{}",
            sql[1]
        );
        assert_eq!(partition_key("p202403"), Some(202403));
        assert_eq!(partition_key("p_future"), None);
    }
}
