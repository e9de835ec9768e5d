//! Resubmitting a query whose Ballista job was lost with an executor.
//!
//! Ballista re-runs the tasks of a lost executor while the job's stages still run, but it cannot
//! recompute the shuffle output of a stage that already finished: the patched scheduler
//! (`vendor/ballista-scheduler/PATCH.md`) then fails the job at once, naming the lost executor,
//! where stock Ballista 55 would leave it waiting for good. A Gold table is one query (one
//! Ballista job) whose rows go to the run's own staging area, and a sink replaces what an earlier
//! attempt of the same table staged, so the client resubmits that query, up to a bounded number of
//! attempts, each logged. Any other failure (bad data, a failing UDF, the job timeout's
//! cancellation) is not retried: it would fail the same way again.

use std::future::Future;
use std::time::Duration;

use medallion_core::error::first_line;
use medallion_core::{Error, Result};
use tracing::warn;

/// How many times a query runs at most on a cluster when its job is lost with an executor.
pub const DEFAULT_ATTEMPTS: u32 = 3;

/// The pause before a resubmission: the failed job's cancelled tasks on the surviving executors
/// wind down first, so none of them is still writing when the next attempt stages the table.
pub const RESUBMIT_PAUSE: Duration = Duration::from_secs(2);

/// Words of the engine's errors that mean the job lost an executor (or the output it held), in
/// lower case: the patched scheduler's and Ballista's own job failures (`Executor lost`, a
/// reading task's `FetchPartitionError`, Ballista's shuffle fetch error), and the client's failure
/// to reach an executor for a result (Ballista's `GrpcConnectionError`, displayed or debugged), and
/// a shuffle read whose Arrow Flight stream (HTTP/2) broke when the executor serving it died
/// mid-stream ("h2 protocol error: error reading a body from connection ... broken pipe").
/// A MySQL server's refused connection says none of these.
const EXECUTOR_LOSS: [&str; 6] = [
    "executor lost",
    "fetchpartitionerror",
    "shuffle fetch partition error",
    "grpcconnectionerror",
    "grpc connection error",
    "h2 protocol error",
];

/// Whether `error` says the query's Ballista job failed because an executor was lost, so that
/// running it again can succeed. Losing every executor is not such a failure.
pub fn is_executor_loss(error: &Error) -> bool {
    let Error::Engine { .. } = error else {
        return false;
    };
    let text = error_chain(error).to_lowercase();
    !text.contains("all executors were lost") && EXECUTOR_LOSS.iter().any(|w| text.contains(w))
}

/// `error` and every source below it, on one line.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Runs `attempt` (given the attempt number, from 1) until it succeeds, fails with an error that
/// is not an executor loss, or `attempts` attempts have failed; each resubmission is logged with
/// `what` and the error, after `pause`.
pub async fn with_resubmission<T, F, Fut>(
    what: &str,
    attempts: u32,
    pause: Duration,
    mut attempt: F,
) -> Result<T>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let attempts = attempts.max(1);
    let mut number = 1;
    loop {
        match attempt(number).await {
            Err(e) if number < attempts && is_executor_loss(&e) => {
                warn!(
                    query = what,
                    attempt = number,
                    attempts,
                    error = %first_line(&e.to_string()),
                    "Ballista job lost with an executor: resubmitting the query"
                );
                tokio::time::sleep(pause).await;
                number += 1;
            }
            outcome => return outcome,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use datafusion::error::DataFusionError;

    use super::*;

    fn engine(message: &str) -> Error {
        Error::engine(
            "writing Gold table t",
            DataFusionError::Execution(message.to_string()),
        )
    }

    #[test]
    fn executor_losses_are_told_from_other_failures() {
        for lost in [
            "Job abc failed: Job abc lost the shuffle output of its finished stage 2 with executor e1 (Executor lost)",
            "Job abc failed: Stage 3 could not fetch the output of finished stage 1 (FetchPartitionError, task 2)",
            "GrpcConnectionError(\"Error connecting to Ballista scheduler or executor at http://e1:1: transport error\")",
            "Shuffle fetch partition error from Executor e1, map_stage 1, map_partition 0, error desc: gone",
            // seen when the executor serving a shuffle read was killed mid-stream
            "Job abc failed: Job failed due to stage 1 failed: Task failed due to runtime execution error: DataFusionError(Shared(External(ArrowError(IpcError(\"Arrow error: Ipc error: code: 'Unknown error', message: \\\"h2 protocol error: error reading a body from connection\\\", source: hyper::Error(Body, Error { kind: Io(Custom { kind: BrokenPipe, error: \\\"stream closed because of a broken pipe\\\" }) })\")))))",
        ] {
            assert!(is_executor_loss(&engine(lost)), "{lost}");
        }
        for other in [
            "Job abc failed: Execution error: division by zero",
            "Job abc failed: Cancelled",
            "Job abc failed: all executors were lost and no executor re-registered within 10s",
            "MySQL at mysql://u:***@db:3306/gold: Input/output error: Connection refused (os error 111)",
        ] {
            assert!(!is_executor_loss(&engine(other)), "{other}");
        }
        let timeout = Error::JobFailed {
            job: "j".into(),
            message: "Gold table t did not finish within 60s (executor lost?)".into(),
        };
        assert!(!is_executor_loss(&timeout));
    }

    #[tokio::test]
    async fn a_lost_job_is_resubmitted_up_to_the_limit() {
        let calls = AtomicU32::new(0);
        let outcome: Result<u32> = with_resubmission("t", 3, Duration::ZERO, |n| {
            calls.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < 3 {
                    Err(engine("Job x failed: Executor lost"))
                } else {
                    Ok(n)
                }
            }
        })
        .await;
        assert_eq!(outcome.expect("third attempt"), 3);
        assert_eq!(calls.load(Ordering::SeqCst), 3);

        let calls = AtomicU32::new(0);
        let outcome: Result<u32> = with_resubmission("t", 2, Duration::ZERO, |_| {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err(engine("Job x failed: Executor lost")) }
        })
        .await;
        assert!(outcome.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 2, "bounded");
    }

    #[tokio::test]
    async fn other_failures_are_not_resubmitted() {
        let calls = AtomicU32::new(0);
        let outcome: Result<()> = with_resubmission("t", 3, Duration::ZERO, |_| {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err(engine("Job x failed: Execution error: bad cast")) }
        })
        .await;
        assert!(outcome.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
