//! How a run's queries are run: at most so many at once, each within a time limit.

use std::time::Duration;

use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use medallion_core::{Error, Result};

/// `work`'s result, or `overdue(limit)` when `limit` passes first.
pub async fn within<T>(
    limit: Option<Duration>,
    work: impl Future<Output = Result<T>>,
    overdue: impl FnOnce(Duration) -> Error,
) -> Result<T> {
    let Some(limit) = limit else {
        return work.await;
    };
    tokio::time::timeout(limit, work)
        .await
        .unwrap_or_else(|_| Err(overdue(limit)))
}

/// Runs `tasks`, at most `limit` at a time, and returns their results in completion order.
/// After the first failure no other task starts and the running ones are awaited, not dropped:
/// a dropped query's Ballista job would go on writing into the staging area after the run has
/// cleaned it up. The first error is returned, unless `consequence` says it only follows from
/// another task's failure (e.g. a job the run cancelled because another one was cancelled) and a
/// later error does not: then the first of those.
pub async fn run_limited<'a, T>(
    tasks: Vec<BoxFuture<'a, Result<T>>>,
    limit: usize,
    consequence: impl Fn(&Error) -> bool,
) -> Result<Vec<T>> {
    let mut waiting = tasks.into_iter();
    let mut running = FuturesUnordered::new();
    let mut done = Vec::new();
    let mut failure: Option<Error> = None;
    loop {
        while failure.is_none() && running.len() < limit.max(1) {
            match waiting.next() {
                Some(task) => running.push(task),
                None => break,
            }
        }
        match running.next().await {
            Some(Ok(value)) => done.push(value),
            Some(Err(e)) => match &failure {
                None => failure = Some(e),
                Some(first) if consequence(first) && !consequence(&e) => failure = Some(e),
                Some(_) => {}
            },
            None => break,
        }
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(done),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Tasks that sleep `millis[i]`, fail where `fails[i]`, and count how many run at once.
    fn tasks<'a>(
        millis: &'a [u64],
        fails: &'a [bool],
        running: &'a Arc<AtomicUsize>,
        peak: &'a Arc<AtomicUsize>,
        started: &'a Arc<AtomicUsize>,
    ) -> Vec<BoxFuture<'a, Result<usize>>> {
        millis
            .iter()
            .zip(fails)
            .enumerate()
            .map(|(i, (&ms, &fail))| {
                Box::pin(async move {
                    started.fetch_add(1, Ordering::SeqCst);
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    running.fetch_sub(1, Ordering::SeqCst);
                    match fail {
                        true => Err(Error::invalid(format!("task {i}"), "failed")),
                        false => Ok(i),
                    }
                }) as BoxFuture<'a, Result<usize>>
            })
            .collect()
    }

    #[tokio::test]
    async fn at_most_limit_tasks_run_at_once_and_all_results_come_back() {
        let (running, peak, started) = Default::default();
        let millis = [30, 10, 20, 10, 5];
        let fails = [false; 5];
        let mut done = run_limited(tasks(&millis, &fails, &running, &peak, &started), 2, |_| {
            false
        })
        .await
        .unwrap();
        done.sort();
        assert_eq!(done, [0, 1, 2, 3, 4]);
        assert_eq!(peak.load(Ordering::SeqCst), 2);

        let (running, peak, started) = Default::default();
        run_limited(tasks(&millis, &fails, &running, &peak, &started), 1, |_| {
            false
        })
        .await
        .unwrap();
        assert_eq!(peak.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn work_past_its_time_limit_fails_the_run() {
        let overdue = |limit| Error::JobFailed {
            job: "j".into(),
            message: format!("Gold table t did not finish within {limit:?}"),
        };
        let slow = async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok(1)
        };
        let err = within(Some(Duration::from_millis(20)), slow, overdue)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "job 'j' failed: Gold table t did not finish within 20ms"
        );
        let quick = async { Ok(2) };
        assert_eq!(
            within(Some(Duration::from_secs(5)), quick, overdue)
                .await
                .unwrap(),
            2
        );
        let unlimited = async { Ok(3) };
        assert_eq!(within(None, unlimited, overdue).await.unwrap(), 3);
    }

    #[tokio::test]
    async fn after_a_failure_nothing_starts_and_the_running_tasks_finish() {
        let (running, peak, started) = Default::default();
        // task 0 fails at once while task 1 (slow) runs; tasks 2 and 3 never start
        let millis = [1, 50, 1, 1];
        let fails = [true, false, false, true];
        let err = run_limited(tasks(&millis, &fails, &running, &peak, &started), 2, |_| {
            false
        })
        .await
        .unwrap_err();
        assert!(err.to_string().contains("task 0"), "{err}");
        assert_eq!(started.load(Ordering::SeqCst), 2);
        assert_eq!(running.load(Ordering::SeqCst), 0, "task 1 ran to its end");
    }

    /// The error of two tasks taking `millis` and failing where `fails`, of which `consequence`
    /// marks task `consequence`'s error as following from another.
    async fn error_of_two(millis: [u64; 2], fails: [bool; 2], consequence: usize) -> String {
        let (running, peak, started) = Default::default();
        let marked = format!("task {consequence}");
        run_limited(tasks(&millis, &fails, &running, &peak, &started), 2, |e| {
            e.to_string().contains(&marked)
        })
        .await
        .unwrap_err()
        .to_string()
    }

    #[tokio::test]
    async fn an_error_that_follows_from_another_gives_way_to_its_cause() {
        // task 0 fails first, as a consequence; task 1 fails later with the cause
        let err = error_of_two([1, 30], [true, true], 0).await;
        assert!(err.contains("task 1"), "{err}");
        // a consequence alone is still the run's error
        let err = error_of_two([1, 30], [true, false], 0).await;
        assert!(err.contains("task 0"), "{err}");
        // the first cause stays the error when a consequence follows it
        let err = error_of_two([30, 1], [true, true], 0).await;
        assert!(err.contains("task 1"), "{err}");
        let err = error_of_two([1, 30], [true, true], 1).await;
        assert!(err.contains("task 0"), "{err}");
    }
}
