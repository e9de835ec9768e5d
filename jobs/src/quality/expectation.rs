//! An expectation, the unit of the data quality gate: what is checked (its [`Check`]), on which
//! relation, and how bad a failure is ([`Severity`]). The kinds are those dbt tests and Great
//! Expectations users know.

use std::fmt;

/// How a failed expectation affects the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Recorded and logged; the run publishes.
    Warn,
    /// Stops the run before publishing.
    Error,
}

impl Severity {
    /// `warn` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warn => "warn",
            Severity::Error => "error",
        }
    }

    /// Parses `warn` or `error`.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "warn" => Ok(Severity::Warn),
            "error" => Ok(Severity::Error),
            other => Err(format!("severity '{other}' is not 'error' or 'warn'")),
        }
    }
}

/// What an expectation checks on its relation.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// No NULL in `column`.
    NotNull {
        /// The column.
        column: String,
    },
    /// No two rows share the values of `columns`.
    Unique {
        /// The key columns.
        columns: Vec<String>,
    },
    /// Every non-NULL value of `column` is one of `values`.
    AcceptedValues {
        /// The column.
        column: String,
        /// The accepted values, as SQL literals' text (compared as text).
        values: Vec<String>,
    },
    /// Every non-NULL value of `column` lies in `[min, max]` (a missing bound is open).
    Range {
        /// The column.
        column: String,
        /// Smallest accepted value.
        min: Option<f64>,
        /// Largest accepted value.
        max: Option<f64>,
    },
    /// The relation's row count lies in `[min, max]`.
    RowCount {
        /// Fewest rows.
        min: Option<f64>,
        /// Most rows.
        max: Option<f64>,
    },
    /// The row count changed by at most `max_pct` % against the last successful run's.
    RowCountChange {
        /// Largest accepted change, in percent of the previous count, either way.
        max_pct: f64,
    },
    /// The newest value of timestamp `column` is at most `max_age_hours` old.
    Freshness {
        /// The timestamp column.
        column: String,
        /// Largest accepted age, in hours.
        max_age_hours: f64,
    },
    /// At least `min_pct` % of the rows have a non-NULL `column`; without a column, the run's
    /// quality score (the completeness of the `[quality]` input's cells) is at least `min_pct`.
    Completeness {
        /// The column (`None`: the run's quality score).
        column: Option<String>,
        /// Smallest accepted share of non-NULL values, in percent.
        min_pct: f64,
    },
    /// A query returning the failing rows: it passes when it returns none.
    Sql {
        /// The query.
        sql: String,
    },
    /// The distribution of `column` moved by a population stability index of at most `max_psi`
    /// against the last successful run's.
    Drift {
        /// The column profiled.
        column: String,
        /// Largest accepted PSI (0.1: small shift, 0.25: large).
        max_psi: f64,
        /// How the values are binned.
        bins: Bins,
        /// A count column weighting each row (e.g. `accident_count` of an aggregate table).
        weight: Option<String>,
    },
}

/// How a drift expectation bins its column's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bins {
    /// One bin per distinct value (categories, small integers); text columns.
    Values,
    /// Ten bins between the deciles of the first run profiled, kept for later runs; numbers.
    Quantiles,
    /// `values` for text columns, `quantiles` for numbers.
    Auto,
}

impl Check {
    /// The kind's name, as written in `kind = ...`.
    pub fn kind(&self) -> &'static str {
        match self {
            Check::NotNull { .. } => "not_null",
            Check::Unique { .. } => "unique",
            Check::AcceptedValues { .. } => "accepted_values",
            Check::Range { .. } => "range",
            Check::RowCount { .. } => "row_count",
            Check::RowCountChange { .. } => "row_count_change",
            Check::Freshness { .. } => "freshness",
            Check::Completeness { .. } => "completeness",
            Check::Sql { .. } => "sql",
            Check::Drift { .. } => "drift",
        }
    }

    /// The columns of the relation the check reads.
    pub fn columns(&self) -> Vec<&str> {
        match self {
            Check::NotNull { column }
            | Check::AcceptedValues { column, .. }
            | Check::Range { column, .. }
            | Check::Freshness { column, .. } => vec![column.as_str()],
            Check::Completeness { column, .. } => column.iter().map(String::as_str).collect(),
            Check::Drift { column, weight, .. } => std::iter::once(column.as_str())
                .chain(weight.as_deref())
                .collect(),
            Check::Unique { columns } => columns.iter().map(String::as_str).collect(),
            Check::RowCount { .. } | Check::RowCountChange { .. } | Check::Sql { .. } => vec![],
        }
    }

    /// The threshold, in words (`>= 90 %`, `[1, 4]`, `0 failing rows`).
    pub fn threshold(&self) -> String {
        let bound = |b: &Option<f64>| b.map_or("…".to_string(), format_number);
        match self {
            Check::NotNull { .. }
            | Check::Unique { .. }
            | Check::AcceptedValues { .. }
            | Check::Range { .. }
            | Check::Sql { .. } => "0 failing rows".to_string(),
            Check::RowCount { min, max } => format!("[{}, {}]", bound(min), bound(max)),
            Check::RowCountChange { max_pct } => format!("±{} %", format_number(*max_pct)),
            Check::Freshness { max_age_hours, .. } => {
                format!("<= {} h", format_number(*max_age_hours))
            }
            Check::Completeness { min_pct, .. } => format!(">= {} %", format_number(*min_pct)),
            Check::Drift { max_psi, .. } => format!("PSI <= {}", format_number(*max_psi)),
        }
    }
}

/// `v` without a trailing `.0`, at most 4 decimals.
pub fn format_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        let text = format!("{v:.4}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// One expectation of a job.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    /// Unique name within the job (default: `table.kind[.columns]`).
    pub name: String,
    /// The relation checked: a Silver input, a view or a Gold table of the job (none for `sql`).
    pub table: Option<String>,
    /// What is checked.
    pub check: Check,
    /// What a failure does.
    pub severity: Severity,
    /// Where it was declared (`job.toml`, `gold/t.sql`, an `--expect` file), for messages.
    pub origin: String,
}

impl fmt::Display for Expectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name, self.origin)
    }
}
