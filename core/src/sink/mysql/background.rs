//! [`BackgroundStaging`]: the staging tables the client builds from their task tables while the
//! run computes its next Gold tables.
//!
//! Building a partitioned staging table is server work on one connection (one `EXCHANGE
//! PARTITION` after the other, then `ANALYZE TABLE`) that leaves a core of the database server
//! idle; the next Gold table's query has no reason to wait for it. A build starts with its Gold
//! table's query (see [`super::exchange`]). Publishing waits for every build first, and a run that
//! fails waits for them before dropping its tables.

use std::future::Future;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::task::JoinHandle;

use crate::error::{Error, Result};

/// Staging-table builds running in the background, each giving the name of the Gold table it
/// staged.
#[derive(Debug, Default)]
pub struct BackgroundStaging(Mutex<Builds>);

/// The builds started and not yet collected, each with its [`BuildId`], and the next id.
#[derive(Debug, Default)]
struct Builds {
    running: Vec<(BuildId, JoinHandle<Result<String>>)>,
    next: u64,
}

/// Names one build started by [`BackgroundStaging::start`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuildId(u64);

impl BackgroundStaging {
    fn builds(&self) -> MutexGuard<'_, Builds> {
        // every change is one push or one take: a panic cannot leave the list half-changed
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts `build` on the runtime; its outcome is collected by [`finish`](Self::finish).
    pub fn start(&self, build: impl Future<Output = Result<String>> + Send + 'static) -> BuildId {
        let mut builds = self.builds();
        let id = BuildId(builds.next);
        builds.next += 1;
        builds.running.push((id, tokio::spawn(build)));
        id
    }

    /// Waits for build `id` to end and forgets its outcome: the build of a Gold table whose query
    /// failed (its failure is the query's), so that a resubmitted query's build replaces it.
    pub async fn discard(&self, id: BuildId) {
        let build = {
            let mut builds = self.builds();
            let at = builds.running.iter().position(|(b, _)| *b == id);
            at.map(|at| builds.running.remove(at).1)
        };
        if let Some(build) = build {
            let _ = build.await;
        }
    }

    /// Waits for every build started so far; returns the tables they staged, in the order they
    /// were started, or the first failure once all of them have ended (none is left running on
    /// the server, so the run's tables can be dropped safely).
    pub async fn finish(&self) -> Result<Vec<String>> {
        let builds = std::mem::take(&mut self.builds().running);
        let mut staged = Vec::with_capacity(builds.len());
        let mut failure = None;
        for (_, build) in builds {
            match build.await {
                Ok(Ok(table)) => staged.push(table),
                Ok(Err(e)) => {
                    failure.get_or_insert(e);
                }
                Err(e) => {
                    failure.get_or_insert(Error::JobFailed {
                        job: "MySQL staging".into(),
                        message: format!("building a staging table stopped: {e}"),
                    });
                }
            }
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(staged),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn finish_returns_the_staged_tables_in_start_order() {
        let staging = BackgroundStaging::default();
        staging.start(async {
            tokio::time::sleep(std::time::Duration::from_millis(30)).await;
            Ok("slow".to_string())
        });
        staging.start(async { Ok("fast".to_string()) });
        assert_eq!(staging.finish().await.unwrap(), vec!["slow", "fast"]);
        // nothing left for the next run
        assert!(staging.finish().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_failure_is_returned_after_every_build_ended() {
        let staging = BackgroundStaging::default();
        let (sender, mut receiver) = tokio::sync::oneshot::channel();
        staging.start(async { Err(Error::invalid("table a", "broken")) });
        staging.start(async move {
            tokio::time::sleep(std::time::Duration::from_millis(30)).await;
            let _ = sender.send(());
            Ok("b".to_string())
        });
        let err = staging.finish().await.unwrap_err();
        assert!(err.to_string().contains("broken"), "{err}");
        // the slower build had ended: it was awaited, not left running
        assert!(receiver.try_recv().is_ok());
    }

    #[tokio::test]
    async fn a_discarded_build_is_awaited_and_forgotten() {
        let staging = BackgroundStaging::default();
        let (sender, mut receiver) = tokio::sync::oneshot::channel();
        let failed = staging.start(async move {
            tokio::time::sleep(std::time::Duration::from_millis(30)).await;
            let _ = sender.send(());
            Err(Error::invalid("table a", "its query failed"))
        });
        staging.start(async { Ok("a".to_string()) });
        staging.discard(failed).await;
        // the discarded build had ended
        assert!(receiver.try_recv().is_ok());
        assert_eq!(staging.finish().await.unwrap(), vec!["a"]);
    }

    #[tokio::test]
    async fn a_panicking_build_is_a_failure() {
        let staging = BackgroundStaging::default();
        staging.start(async { panic!("boom") });
        let err = staging.finish().await.unwrap_err();
        assert!(err.to_string().contains("stopped"), "{err}");
    }
}
