//! Names of the tables a run creates, all derived from the run id so that a retried task finds
//! (and replaces) its own table, and `abort()` finds everything the run left behind.
//!
//! For run key `K` and Gold table `t`:
//! - `stg_K__t` — the staging table, renamed to `t` at publish;
//! - `stg_K__t__p<n>` — what the task of input partition `n` wrote, for an unpartitioned table
//!   (whose input is one partition);
//! - `stg_K__t__y<key>` — the rows of one period, for a table partitioned by year (key `2016`) or
//!   by month (key `201603`) (`ynull` for rows whose date is NULL); the input is hash-partitioned
//!   by year, so one task owns each year and its months (a Ballista task only knows its task-local
//!   partition index, so the period is the stable key); exchanged into partition `p<key>` of the
//!   staging table;
//! - `old_K__t` — the replaced Gold table, between the publishing `RENAME` and its `DROP`.

use std::fmt::Write as _;

use crate::error::{Error, Result};

/// MySQL's limit on identifier length.
const MAX_IDENTIFIER: usize = 64;

/// Checks that `name` is a plain identifier: 1 to 64 characters of `[A-Za-z0-9_]`.
pub fn validate_identifier(name: &str) -> std::result::Result<(), String> {
    if name.is_empty() {
        return Err("empty name".into());
    }
    if name.len() > MAX_IDENTIFIER {
        return Err(format!(
            "'{name}' is longer than {MAX_IDENTIFIER} characters"
        ));
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(format!("'{name}' may only contain letters, digits and '_'"));
    }
    Ok(())
}

/// `name` validated and back-quoted.
pub fn quote(name: &str) -> Result<String> {
    validate_identifier(name).map_err(|e| Error::invalid("MySQL identifier", e))?;
    Ok(format!("`{name}`"))
}

/// `` `db`.`table` ``, both validated.
pub fn qualified(db: &str, table: &str) -> Result<String> {
    Ok(format!("{}.{}", quote(db)?, quote(table)?))
}

/// The short, identifier-safe key of a run id: its letters and digits, lower-cased; or, when that
/// is longer than 16 characters, its first 8 plus an 8-digit hash of the whole id (so
/// `20240102T030405Z-0a1b2c3d` keeps its date: `20240102` + hash).
pub fn run_key(run_id: &str) -> String {
    let clean: String = run_id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if !clean.is_empty() && clean.len() <= 16 {
        return clean;
    }
    // FNV-1a: stable across processes and versions, unlike std's hasher.
    let hash = run_id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let mut key: String = clean.chars().take(8).collect();
    let _ = write!(key, "{:08x}", (hash >> 32) ^ (hash & 0xffff_ffff));
    key
}

/// Which rows a task table holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TaskPart {
    /// All rows of input partition `n`.
    Partition(usize),
    /// The rows whose date falls in the period `key`, a year or `year * 100 + month` (`None`: NULL
    /// dates).
    Period(Option<i32>),
}

/// The names of one run's tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunNames {
    key: String,
}

impl RunNames {
    /// The names for a run with key `key` (see [`run_key`]).
    pub fn new(key: impl Into<String>) -> Self {
        Self { key: key.into() }
    }

    /// The run key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Prefix of every staging and task table of the run.
    pub fn staging_prefix(&self) -> String {
        format!("stg_{}__", self.key)
    }

    /// Prefix of the replaced tables of the run.
    pub fn replaced_prefix(&self) -> String {
        format!("old_{}__", self.key)
    }

    /// The staging table of Gold table `table`.
    pub fn staging(&self, table: &str) -> String {
        format!("{}{table}", self.staging_prefix())
    }

    /// Where the published `table` goes while the run's version replaces it.
    pub fn replaced(&self, table: &str) -> String {
        format!("{}{table}", self.replaced_prefix())
    }

    /// The table a task writes.
    pub fn task(&self, table: &str, part: TaskPart) -> String {
        match part {
            TaskPart::Partition(n) => format!("{}__p{n}", self.staging(table)),
            TaskPart::Period(Some(key)) => format!("{}__y{key}", self.staging(table)),
            TaskPart::Period(None) => format!("{}__ynull", self.staging(table)),
        }
    }

    /// Which task table of `table` `name` is, if it is one.
    pub fn parse_task(&self, table: &str, name: &str) -> Option<TaskPart> {
        let suffix = name
            .strip_prefix(&self.staging(table))?
            .strip_prefix("__")?;
        if let Some(n) = suffix.strip_prefix('p') {
            return parse_number(n).map(TaskPart::Partition);
        }
        match suffix.strip_prefix('y')? {
            "null" => Some(TaskPart::Period(None)),
            digits => Some(TaskPart::Period(Some(
                i32::try_from(parse_number(digits)?).ok()?,
            ))),
        }
    }

    /// Checks that every name the run would give Gold table `table` is a valid identifier.
    pub fn check_fits(&self, table: &str) -> Result<()> {
        validate_identifier(table).map_err(|e| Error::invalid("Gold table name", e))?;
        let longest = self.task(table, TaskPart::Partition(99_999));
        validate_identifier(&longest).map_err(|_| {
            Error::invalid(
                "Gold table name",
                format!(
                    "'{table}' is too long for its staging tables ({} > {MAX_IDENTIFIER} characters)",
                    longest.len()
                ),
            )
        })
    }
}

fn parse_number(digits: &str) -> Option<usize> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_keys_are_short_identifiers() {
        assert_eq!(run_key("Run-42"), "run42");
        let key = run_key("20240102T030405Z-0a1b2c3d");
        assert_eq!(key.len(), 16);
        assert!(key.starts_with("20240102"));
        assert_ne!(key, run_key("20240102T030405Z-0a1b2c3e"));
        assert_eq!(run_key("---").len(), 8);
        validate_identifier(&run_key("é!")).unwrap();
    }

    #[test]
    fn task_names_round_trip() {
        let names = RunNames::new("k1");
        for part in [
            TaskPart::Partition(0),
            TaskPart::Partition(12),
            TaskPart::Period(Some(2016)),
            TaskPart::Period(None),
        ] {
            let name = names.task("accidents_summary", part);
            assert!(name.starts_with("stg_k1__accidents_summary__"));
            assert_eq!(names.parse_task("accidents_summary", &name), Some(part));
        }
        assert_eq!(
            names.parse_task("accidents_summary", "stg_k1__accidents_summary"),
            None
        );
        assert_eq!(
            names.parse_task("accidents", "stg_k1__accidents_summary__p1"),
            None
        );
        assert_eq!(names.parse_task("t", "stg_k1__t__y20x"), None);
        assert_eq!(names.parse_task("t", "stg_k1__t__y2016_p1"), None);
        assert_eq!(names.replaced("t"), "old_k1__t");
    }

    #[test]
    fn identifiers_are_validated() {
        assert_eq!(quote("kpis_2").unwrap(), "`kpis_2`");
        assert!(quote("a`b").is_err());
        assert!(quote("a b").is_err());
        assert!(quote("").is_err());
        assert!(quote(&"x".repeat(65)).is_err());
        assert!(
            RunNames::new(run_key("20240102T030405Z-0a1b2c3d"))
                .check_fits("kpis_infrastructure")
                .is_ok()
        );
        assert!(RunNames::new("k").check_fits(&"t".repeat(50)).is_err());
    }
}
