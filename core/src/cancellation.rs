//! Telling a query that failed because its Ballista job was cancelled from the other failures.
//!
//! Ballista 55 fails a cancelled job with the reason `Cancelled` (the scheduler's `JobCancel`
//! event, posted by a gRPC `CancelJob` or a REST `PATCH /api/job/{id}`), and the client's query
//! fails with `Job {id} failed: Cancelled`. That text, anywhere in an error's chain, names the
//! cancelled job.

/// What Ballista's client says after the job id when the job was cancelled.
const CANCELLED_SUFFIX: &str = " failed: Cancelled";

/// The id of the Ballista job whose cancellation failed `error` (`Job {id} failed: Cancelled`
/// somewhere in its chain of causes), or `None` when it failed otherwise.
pub fn cancelled_job_id(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if let Some(id) = job_id_in(&e.to_string()) {
            return Some(id);
        }
        cause = e.source();
    }
    None
}

/// The `{id}` of the first `Job {id} failed: Cancelled` in `text`.
fn job_id_in(text: &str) -> Option<String> {
    let end = text.find(CANCELLED_SUFFIX)?;
    let rest = text.get(end + CANCELLED_SUFFIX.len()..).unwrap_or_default();
    // `Cancelled` as the whole reason, not the start of a longer word
    if rest.chars().next().is_some_and(char::is_alphanumeric) {
        return None;
    }
    let before = &text[..end];
    let start = before.rfind("Job ")? + "Job ".len();
    let id = &before[start..];
    (!id.is_empty() && !id.contains(char::is_whitespace)).then(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use datafusion::error::DataFusionError;

    use super::*;
    use crate::Error;

    #[test]
    fn the_cancelled_job_is_found_in_the_chain() {
        let e = Error::engine(
            "writing Gold table hotspots",
            DataFusionError::Execution("Job Zk3f9aQ failed: Cancelled".into()),
        );
        assert_eq!(cancelled_job_id(&e).as_deref(), Some("Zk3f9aQ"));
        let wrapped = DataFusionError::External(Box::new(e));
        assert_eq!(cancelled_job_id(&wrapped).as_deref(), Some("Zk3f9aQ"));
    }

    #[test]
    fn other_failures_are_not_cancellations() {
        for text in [
            "Job abc failed: Execution error: division by zero",
            "Job abc failed: Executor lost",
            "Job abc failed: CancelledByUser",
            "the run failed: Cancelled",
        ] {
            let e = Error::engine("q", DataFusionError::Execution(text.into()));
            assert_eq!(cancelled_job_id(&e), None, "{text}");
        }
    }
}
