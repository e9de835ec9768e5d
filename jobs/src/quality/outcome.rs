//! What the gate found for one expectation: its status, the value observed, the failing rows and
//! a sample of them; and the rules turning an observation into a status.

use super::expectation::{Check, Expectation, Severity, format_number};

/// How an expectation came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The data meets it.
    Pass,
    /// A `warn` expectation the data does not meet: recorded, the run publishes.
    Warn,
    /// An `error` expectation the data does not meet: the run stops before publishing.
    Fail,
    /// Nothing to compare with (e.g. the first run of a row count change), or no rows to judge.
    Skipped,
}

impl Status {
    /// `pass`, `warn`, `fail` or `skipped`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skipped => "skipped",
        }
    }
}

/// The result of one expectation in one run.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The expectation.
    pub expectation: Expectation,
    /// How it came out.
    pub status: Status,
    /// The value observed (failing rows, a percentage, a row count, an age in hours).
    pub observed: Option<f64>,
    /// Rows that fail it, for the row-by-row kinds.
    pub failing_rows: Option<u64>,
    /// Up to a few failing rows, as JSON objects (one per line).
    pub sample: Option<String>,
    /// What was observed against what was expected, in words.
    pub detail: String,
    /// The drift profile of this run (JSON), for the next run to compare with.
    pub profile: Option<String>,
}

impl Outcome {
    /// The outcome of `expectation` given whether the data `meets` it.
    pub fn judged(expectation: &Expectation, meets: bool, observed: Option<f64>) -> Self {
        let status = match (meets, expectation.severity) {
            (true, _) => Status::Pass,
            (false, Severity::Warn) => Status::Warn,
            (false, Severity::Error) => Status::Fail,
        };
        let detail = format!(
            "{} {}, expected {}",
            expectation.check.kind(),
            observed.map_or("n/a".to_string(), |v| format!(
                "{}{}",
                format_number(v),
                unit(&expectation.check)
            )),
            expectation.check.threshold()
        );
        Outcome {
            expectation: expectation.clone(),
            status,
            observed,
            failing_rows: None,
            sample: None,
            detail,
            profile: None,
        }
    }

    /// The outcome of a row-by-row check with `failing` rows.
    pub fn from_failing_rows(expectation: &Expectation, failing: u64) -> Self {
        let mut outcome = Self::judged(expectation, failing == 0, Some(failing as f64));
        outcome.failing_rows = Some(failing);
        outcome.detail = format!("{failing} failing rows");
        outcome
    }

    /// A skipped expectation, and why.
    pub fn skipped(expectation: &Expectation, observed: Option<f64>, why: &str) -> Self {
        Outcome {
            expectation: expectation.clone(),
            status: Status::Skipped,
            observed,
            failing_rows: None,
            sample: None,
            detail: why.to_string(),
            profile: None,
        }
    }

    /// `name (detail)`, for the run's error line and logs.
    pub fn summary(&self) -> String {
        let sample = self
            .sample
            .as_deref()
            .and_then(|s| s.lines().next())
            .map_or(String::new(), |first| format!("; e.g. {first}"));
        format!("{} ({}{sample})", self.expectation.name, self.detail)
    }
}

/// The unit of a check's observed value.
fn unit(check: &Check) -> &'static str {
    match check {
        Check::Completeness { .. } => " %",
        Check::RowCountChange { .. } => " %",
        Check::Freshness { .. } => " h",
        Check::RowCount { .. } => " rows",
        Check::Drift { .. } => " PSI",
        _ => "",
    }
}

/// Whether `count` lies in `[min, max]`.
pub fn within(count: f64, min: Option<f64>, max: Option<f64>) -> bool {
    min.is_none_or(|m| count >= m) && max.is_none_or(|m| count <= m)
}

/// The change from `previous` to `current`, in percent of `previous` (`None` when it was 0).
pub fn change_pct(previous: f64, current: f64) -> Option<f64> {
    (previous > 0.0).then(|| 100.0 * (current - previous) / previous)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expectation(check: Check, severity: Severity) -> Expectation {
        Expectation {
            name: "e".into(),
            table: Some("t".into()),
            check,
            severity,
            origin: "job.toml".into(),
        }
    }

    #[test]
    fn a_failed_warning_warns_and_a_failed_error_fails() {
        let check = Check::Completeness {
            column: Some("c".into()),
            min_pct: 90.0,
        };
        let warn = Outcome::judged(
            &expectation(check.clone(), Severity::Warn),
            false,
            Some(50.0),
        );
        assert_eq!(warn.status, Status::Warn);
        assert_eq!(warn.detail, "completeness 50 %, expected >= 90 %");
        let fail = Outcome::judged(&expectation(check, Severity::Error), false, Some(50.0));
        assert_eq!(fail.status, Status::Fail);
        assert_eq!(fail.summary(), "e (completeness 50 %, expected >= 90 %)");
        let rows = Outcome::from_failing_rows(
            &expectation(Check::NotNull { column: "c".into() }, Severity::Error),
            0,
        );
        assert_eq!((rows.status, rows.failing_rows), (Status::Pass, Some(0)));
    }

    #[test]
    fn bounds_and_changes() {
        assert!(within(5.0, Some(5.0), Some(5.0)));
        assert!(!within(4.0, Some(5.0), None));
        assert!(within(1e9, Some(5.0), None));
        // 1000 rows last run, 500 now: -50 %
        assert_eq!(change_pct(1000.0, 500.0), Some(-50.0));
        assert_eq!(change_pct(0.0, 5.0), None);
    }
}
