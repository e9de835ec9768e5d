//! [`Merge`]: how a run's rows of a Gold table combine with the published table — replace it, upsert
//! by primary key (`--since` runs), or replace one window of periods (`--date`/`--week`/... runs).

use chrono::NaiveDate;

use super::GoldTable;
use crate::error::{Error, Result};

/// How the rows a run writes for a Gold table are combined with the published table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Merge {
    /// The run's rows become the whole table.
    Replace,
    /// The run's rows replace the published rows with the same primary key; the other published
    /// rows stay. Idempotent: upserting the same rows twice changes nothing.
    Upsert,
    /// The published rows whose DATE `column` lies in `[start, end)` are deleted and the run's rows
    /// inserted (replacing any published row with the same primary key); rows of other periods stay.
    ReplaceRange {
        /// The period column.
        column: String,
        /// The first day of the window.
        start: NaiveDate,
        /// The day after the window.
        end: NaiveDate,
    },
}

impl Merge {
    /// What the merge does, for messages: `replace`, `upsert`, `replace [start, end) of`.
    pub fn describe(&self) -> String {
        match self {
            Merge::Replace => "replace".into(),
            Merge::Upsert => "upsert".into(),
            Merge::ReplaceRange { column, start, end } => {
                format!("replace {column} in [{start}, {end}) of")
            }
        }
    }

    /// Checks that `table`'s layout allows this merge: an upsert needs a primary key (and no
    /// surrogate `auto_id`), a range replacement a period column and no `auto_id`.
    pub fn check(&self, table: GoldTable<'_>) -> Result<()> {
        let invalid =
            |message: String| Error::invalid(format!("Gold table {}", table.name), message);
        let options = table.options;
        match self {
            Merge::Replace => Ok(()),
            _ if options.auto_id.is_some() => Err(invalid(format!(
                "cannot {} a table with an auto_id (its rows have no stable key)",
                self.describe()
            ))),
            Merge::Upsert if options.primary_key.is_empty() => {
                Err(invalid("incremental = upsert needs a primary_key".into()))
            }
            Merge::ReplaceRange { start, end, .. } if start >= end => {
                Err(invalid(format!("empty period window [{start}, {end})")))
            }
            _ => Ok(()),
        }
    }

    /// The primary key the merge matches rows on (empty: none, rows are only added).
    pub fn key<'a>(&self, table: GoldTable<'a>) -> &'a [String] {
        match self {
            Merge::Replace => &[],
            _ => &table.options.primary_key,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table_options::TableOptions;

    #[test]
    fn merges_need_a_stable_key() {
        let mut keyed = TableOptions::default();
        keyed.apply_directive("primary_key = id, day").unwrap();
        let mut auto = TableOptions::default();
        auto.apply_directive("auto_id = id").unwrap();
        let table = |options| GoldTable { name: "t", options };
        let day = |d| NaiveDate::from_ymd_opt(2024, 1, d).unwrap();
        let range = Merge::ReplaceRange {
            column: "day".into(),
            start: day(1),
            end: day(2),
        };
        assert!(Merge::Upsert.check(table(&keyed)).is_ok());
        assert!(range.check(table(&keyed)).is_ok());
        assert_eq!(Merge::Upsert.key(table(&keyed)), ["id", "day"]);
        assert!(Merge::Replace.key(table(&keyed)).is_empty());
        let err = Merge::Upsert.check(table(&auto)).unwrap_err().to_string();
        assert!(
            err.contains("Gold table t") && err.contains("auto_id"),
            "{err}"
        );
        let unkeyed = TableOptions::default();
        assert!(Merge::Upsert.check(table(&unkeyed)).is_err());
        assert!(range.check(table(&unkeyed)).is_ok());
        let empty = Merge::ReplaceRange {
            column: "day".into(),
            start: day(2),
            end: day(2),
        };
        assert!(empty.check(table(&keyed)).is_err());
        assert!(Merge::Replace.check(table(&auto)).is_ok());
    }
}
