//! The `job.toml` format.

use std::collections::BTreeMap;

use serde::Deserialize;

/// A job's `job.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct JobSpec {
    pub name: String,
    pub description: String,
    #[serde(default)]
    pub inputs: Vec<InputSpec>,
    #[serde(default)]
    pub references: Vec<ReferenceSpec>,
    pub quality: Option<QualitySpec>,
    #[serde(default)]
    pub params: toml::Table,
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
}
