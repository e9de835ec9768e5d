//! The data quality gate: expectations declared next to a job (`[[expect]]` in `job.toml`,
//! `-- medallion: expect ...` lines in a Gold SQL file, `--expect FILE`), evaluated once the run's
//! Gold tables are staged and before they are published. A failed `error` expectation stops the
//! run (nothing published); a failed `warn` one is recorded and logged. Results go to the Gold
//! table `data_quality_results`; `medallion test JOB` evaluates them without publishing.

pub mod drift;
mod evaluate;
pub mod expectation;
mod gate;
pub mod history;
pub mod outcome;
pub mod parse;
mod publish;
pub mod relation_sql;
pub mod report;
pub mod results;

pub use evaluate::Facts;
pub use expectation::{Check, Expectation, Severity};
pub use gate::{DEFAULT_MIN_ROWS, Gate, RUN_ROWS};
pub use outcome::{Outcome, Status};

use medallion_core::{Error, Result};

/// The first line of `error`'s message.
pub(crate) fn first_line(error: &impl std::fmt::Display) -> String {
    medallion_core::error::first_line(&error.to_string()).to_string()
}

/// The expectations of the TOML file at `path` (`[[expect]]` tables, as in `job.toml`).
pub fn read_expect_file(path: &std::path::Path) -> Result<Vec<Expectation>> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ExpectFile {
        #[serde(default)]
        expect: Vec<toml::Table>,
    }
    let what = format!("--expect {}", path.display());
    let text = std::fs::read_to_string(path).map_err(|e| Error::io("reading", path, e))?;
    let file: ExpectFile =
        toml::from_str(&text).map_err(|e| Error::invalid(&what, first_line(&e)))?;
    parse::from_toml(&file.expect, &path.display().to_string())
        .map_err(|message| Error::invalid(&what, message))
}

/// The error stopping a run whose `error` expectations in `outcomes` failed, naming them; `None`
/// when none did.
pub fn gate_error(job: &str, outcomes: &[Outcome]) -> Option<Error> {
    let failed: Vec<String> = outcomes
        .iter()
        .filter(|o| o.status == Status::Fail)
        .map(Outcome::summary)
        .collect();
    if failed.is_empty() {
        return None;
    }
    Some(Error::JobFailed {
        job: job.to_string(),
        message: format!(
            "data quality gate: {} error expectation(s) failed, nothing published: {}",
            failed.len(),
            failed.join("; ")
        ),
    })
}
