//! The `job.toml` format.

use std::collections::BTreeMap;

use serde::Deserialize;

/// A job's `job.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct JobSpec {
    pub name: String,
    pub description: String,
    /// Jobs whose inputs, references, parameters and views come first (shared SQL).
    #[serde(default)]
    pub include: Vec<String>,
    #[serde(default)]
    pub inputs: Vec<InputSpec>,
    #[serde(default)]
    pub references: Vec<ReferenceSpec>,
    pub quality: Option<QualitySpec>,
    #[serde(default)]
    pub params: toml::Table,
    /// `[secrets]`: parameter name = the environment variable holding it.
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
    /// `[outputs]`: files written besides the Gold tables.
    #[serde(default)]
    pub outputs: OutputsSpec,
    /// `[[expect]]`: data quality expectations (see [`crate::quality`]).
    #[serde(default)]
    pub expect: Vec<toml::Table>,
}

/// `[outputs]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct OutputsSpec {
    /// The report renderer `--reports DIR` runs.
    pub reports: Option<String>,
    /// File formats `--export DIR` writes every Gold table in (`parquet`, `csv`).
    #[serde(default)]
    pub export: Vec<String>,
}

/// `[[inputs]]`: a Silver table and the columns the job needs (`name = "kind"`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct InputSpec {
    pub name: String,
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
}

/// `[[references]]`: a reference table from `data/`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ReferenceSpec {
    pub name: String,
    pub file: String,
}

/// `[quality]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct QualitySpec {
    pub input: String,
    pub accepted: String,
    /// A view with one numeric row and column: the quality score in percent.
    pub score: Option<String>,
    /// The fewest input rows the completeness and row count change expectations judge.
    pub min_rows: Option<u64>,
}
