//! How a Gold table is laid out in a database: keys, partitioning, indexes and column types that
//! the Arrow schema alone does not say.

use serde::{Deserialize, Serialize};

/// A secondary index of a Gold table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexSpec {
    /// The index name, e.g. `idx_state_date`.
    pub name: String,
    /// Its columns, in order.
    pub columns: Vec<IndexColumn>,
}

/// One column of a secondary index: `danger_score` or `danger_score DESC`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexColumn {
    /// The column.
    pub name: String,
    /// Whether the index keeps it in descending order (an API reading the top rows first).
    pub descending: bool,
}

impl IndexColumn {
    /// Parses `column`, `column ASC` or `column DESC` (case-insensitive order word).
    fn parse(item: &str) -> Result<Self, String> {
        let mut words = item.split_whitespace();
        let (Some(name), order, None) = (words.next(), words.next(), words.next()) else {
            return Err(format!("expected 'column [ASC|DESC]', found '{item}'"));
        };
        let descending = match order.map(str::to_ascii_uppercase).as_deref() {
            None | Some("ASC") => false,
            Some("DESC") => true,
            Some(other) => return Err(format!("index order is ASC or DESC, found '{other}'")),
        };
        Ok(Self {
            name: name.to_string(),
            descending,
        })
    }
}

/// An ENUM column and its allowed values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumSpec {
    /// The column.
    pub column: String,
    /// The allowed values, in order.
    pub values: Vec<String>,
}

/// Table options of one Gold table (parsed from `-- medallion:` lines of its SQL file).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableOptions {
    /// Columns of the primary key; empty when the table has none or an auto id.
    pub primary_key: Vec<String>,
    /// A surrogate `AUTO_INCREMENT` key column added in front of the data columns.
    pub auto_id: Option<String>,
    /// `PARTITION BY RANGE (YEAR(column))` with one partition per year present plus `p_future`.
    pub partition_by_year: Option<String>,
    /// Secondary indexes, created after the bulk load.
    pub indexes: Vec<IndexSpec>,
    /// Columns stored as JSON.
    pub json_columns: Vec<String>,
    /// Columns stored as ENUMs.
    pub enums: Vec<EnumSpec>,
    /// `PARTITION BY RANGE (TO_DAYS(column))` with one partition per month present plus
    /// `p_future`.
    pub partition_by_month: Option<String>,
    /// How an incremental run (`--since`) merges the table (`incremental = upsert`); `None`: the
    /// table is replaced by every run.
    pub incremental: Option<Incremental>,
    /// The DATE column holding each row's period (`replace_range = col`): a run over a period window
    /// replaces only the rows whose `col` falls in the window.
    pub replace_range: Option<String>,
}

/// How an incremental run merges a table into its published version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Incremental {
    /// The run's rows replace the published rows with the same primary key; other rows stay.
    Upsert,
}

impl TableOptions {
    /// Applies one `key = value` directive; returns an error message for an unknown or malformed
    /// one.
    pub fn apply_directive(&mut self, directive: &str) -> Result<(), String> {
        let (key, value) = directive
            .split_once('=')
            .ok_or_else(|| format!("expected 'key = value', found '{directive}'"))?;
        let key = key.trim();
        let list = || -> Vec<String> {
            value
                .split(',')
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .collect()
        };
        let single = || -> Result<String, String> {
            match list().as_slice() {
                [one] => Ok(one.clone()),
                _ => Err(format!(
                    "'{key}' takes one column, found '{}'",
                    value.trim()
                )),
            }
        };
        let mut words = key.split_whitespace();
        match (words.next(), words.next(), words.next()) {
            (Some("primary_key"), None, _) => self.primary_key = list(),
            (Some("auto_id"), None, _) => self.auto_id = Some(single()?),
            (Some("partition_by_year"), None, _) => self.partition_by_year = Some(single()?),
            (Some("partition_by_month"), None, _) => self.partition_by_month = Some(single()?),
            (Some("replace_range"), None, _) => self.replace_range = Some(single()?),
            (Some("incremental"), None, _) => match value.trim() {
                "upsert" => self.incremental = Some(Incremental::Upsert),
                other => {
                    return Err(format!("'incremental' takes 'upsert', found '{other}'"));
                }
            },
            (Some("json"), None, _) => self.json_columns.extend(list()),
            (Some("index"), Some(name), None) => self.indexes.push(IndexSpec {
                name: name.to_string(),
                columns: list()
                    .iter()
                    .map(|item| IndexColumn::parse(item))
                    .collect::<Result<_, _>>()?,
            }),
            (Some("enum"), Some(column), None) => self.enums.push(EnumSpec {
                column: column.to_string(),
                values: list(),
            }),
            _ => return Err(format!("unknown table option '{key}'")),
        }
        Ok(())
    }

    /// Every column these options name, for checking them against the table's schema.
    pub fn referenced_columns(&self) -> impl Iterator<Item = &str> {
        self.primary_key
            .iter()
            .chain(self.partition_by_year.iter())
            .chain(self.partition_by_month.iter())
            .chain(self.replace_range.iter())
            .chain(
                self.indexes
                    .iter()
                    .flat_map(|i| i.columns.iter().map(|c| &c.name)),
            )
            .chain(self.json_columns.iter())
            .chain(self.enums.iter().map(|e| &e.column))
            .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_build_the_options() {
        let mut options = TableOptions::default();
        for d in [
            "primary_key = id, accident_date",
            "partition_by_year = accident_date",
            "index idx_state_date = state, accident_date",
            "index idx_api = danger_score DESC, state asc",
            "enum period_type = hourly, daily",
            "json = severity_distribution",
            "auto_id = id",
        ] {
            options.apply_directive(d).unwrap();
        }
        assert_eq!(options.primary_key, vec!["id", "accident_date"]);
        assert_eq!(options.partition_by_year.as_deref(), Some("accident_date"));
        assert_eq!(options.indexes[0].name, "idx_state_date");
        let columns = |i: usize| -> Vec<(&str, bool)> {
            options.indexes[i]
                .columns
                .iter()
                .map(|c| (c.name.as_str(), c.descending))
                .collect()
        };
        assert_eq!(columns(0), vec![("state", false), ("accident_date", false)]);
        assert_eq!(columns(1), vec![("danger_score", true), ("state", false)]);
        assert_eq!(options.enums[0].values, vec!["hourly", "daily"]);
        assert_eq!(options.json_columns, vec!["severity_distribution"]);
        assert_eq!(options.auto_id.as_deref(), Some("id"));
        // primary key 2 + partition 1 + indexes 2 + 2 + json 1 + enum 1 (the auto id is not a data
        // column)
        assert_eq!(options.referenced_columns().count(), 9);
    }

    #[test]
    fn bad_directives_are_refused() {
        let mut options = TableOptions::default();
        assert!(options.apply_directive("colour = blue").is_err());
        assert!(options.apply_directive("primary_key").is_err());
        assert!(options.apply_directive("partition_by_year = a, b").is_err());
        assert!(options.apply_directive("incremental = merge").is_err());
        assert!(options.apply_directive("replace_range = a, b").is_err());
        assert!(options.apply_directive("index i = a DOWN").is_err());
        assert!(options.apply_directive("index i = a DESC b").is_err());
    }

    #[test]
    fn incremental_and_period_directives() {
        let mut options = TableOptions::default();
        for d in [
            "primary_key = patient_id, day",
            "partition_by_month = day",
            "replace_range = day",
            "incremental = upsert",
        ] {
            options.apply_directive(d).unwrap();
        }
        assert_eq!(options.partition_by_month.as_deref(), Some("day"));
        assert_eq!(options.replace_range.as_deref(), Some("day"));
        assert_eq!(options.incremental, Some(Incremental::Upsert));
        assert_eq!(options.referenced_columns().count(), 4);
    }
}
