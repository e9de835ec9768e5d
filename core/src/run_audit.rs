//! Who or what started a run, where, and which version of its job plan: the audit columns of
//! `pipeline_runs` (`started_by`, `host`, `plan_hash`), the same in every sink.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringArray};
use datafusion::arrow::datatypes::{DataType, Field};

/// The environment variable naming what started a run (a CronJob sets it to
/// `cronjob/<name>`); without it, the run was started by hand: `cli/<user>`.
pub const STARTED_BY_ENV: &str = "MEDALLION_STARTED_BY";

/// Longest `started_by` or `host` kept (the MySQL columns are `VARCHAR(255)`).
const MAX_TEXT: usize = 255;

/// The audit trail of one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunAudit {
    /// What started the run: `$MEDALLION_STARTED_BY`, else `cli/<user>`.
    pub started_by: String,
    /// The machine (or pod) the client ran on.
    pub host: String,
    /// The SHA-256 of the job plan's files (hex), when the job is a plan of files.
    pub plan_hash: Option<String>,
}

impl RunAudit {
    /// The audit of a run started in this process, of the plan whose files hash to `plan_hash`.
    pub fn of_this_process(plan_hash: Option<String>) -> Self {
        let started_by = std::env::var(STARTED_BY_ENV)
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| {
                let user = whoami::fallible::username().unwrap_or_else(|_| "unknown".into());
                format!("cli/{user}")
            });
        let host = whoami::fallible::hostname().unwrap_or_else(|_| "unknown".into());
        Self {
            started_by: shorten(started_by),
            host: shorten(host),
            plan_hash,
        }
    }

    /// The audit columns of `pipeline_runs`, after its other columns.
    pub fn fields() -> Vec<Field> {
        vec![
            Field::new("started_by", DataType::Utf8, true),
            Field::new("host", DataType::Utf8, true),
            Field::new("plan_hash", DataType::Utf8, true),
        ]
    }

    /// This audit as one-row columns of [`RunAudit::fields`].
    pub fn columns(&self) -> Vec<ArrayRef> {
        let text = |s: Option<&str>| Arc::new(StringArray::from(vec![s])) as ArrayRef;
        vec![
            text(Some(&self.started_by)),
            text(Some(&self.host)),
            text(self.plan_hash.as_deref()),
        ]
    }
}

/// `text` cut to [`MAX_TEXT`] characters.
fn shorten(text: String) -> String {
    match text.char_indices().nth(MAX_TEXT) {
        Some((end, _)) => text[..end].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_match_fields() {
        let audit = RunAudit {
            started_by: "cronjob/medallion-accidents-datamart".into(),
            host: "pod-1".into(),
            plan_hash: None,
        };
        let columns = audit.columns();
        assert_eq!(columns.len(), RunAudit::fields().len());
        assert!(columns.iter().all(|c| c.len() == 1));
        assert_eq!(columns[2].null_count(), 1);
    }

    #[test]
    fn long_texts_are_cut() {
        assert_eq!(shorten("é".repeat(300)).chars().count(), MAX_TEXT);
        assert_eq!(shorten("short".into()), "short");
    }

    #[test]
    fn this_process_has_a_starter_and_a_host() {
        let audit = RunAudit::of_this_process(Some("ab".into()));
        assert!(!audit.started_by.is_empty());
        assert!(!audit.host.is_empty());
        assert_eq!(audit.plan_hash.as_deref(), Some("ab"));
    }
}
