//! The client side of a Ballista cluster: the scheduler's address, a fast reachability probe, job
//! status queries, and a query planner that records the Ballista job id of every query a client
//! context submits.

use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use ballista_core::config::BallistaConfig;
use ballista_core::execution_plans::DistributedQueryExec;
use ballista_core::planner::BallistaQueryPlanner;
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
use ballista_core::serde::protobuf::{CancelJobParams, GetJobStatusParams, job_status};
use datafusion::catalog::Session;
use datafusion::error::Result as DfResult;
use datafusion::execution::context::QueryPlanner;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::protobuf::LogicalPlanNode;
use url::Url;

use crate::error::{Error, Result, first_line};

/// The scheduler's default gRPC port.
pub const DEFAULT_SCHEDULER_PORT: u16 = 50050;

/// The scheduler a client talks to when it is not told which.
pub const DEFAULT_SCHEDULER: &str = "df://localhost:50050";

/// How long [`probe_scheduler`] waits for the scheduler to answer.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// A scheduler address given as `df://host[:port]` (the port defaults to 50050).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulerUrl {
    /// The host name or IP address.
    pub host: String,
    /// The gRPC port.
    pub port: u16,
}

impl SchedulerUrl {
    /// Parses `df://host[:port]` (also accepts `http://host:port` and a bare `host:port`).
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |message: &str| Error::invalid("scheduler URL", format!("{text}: {message}"));
        let with_scheme = if text.contains("://") {
            text.to_string()
        } else {
            format!("df://{text}")
        };
        let url = Url::parse(&with_scheme).map_err(|e| bad(&e.to_string()))?;
        if !matches!(url.scheme(), "df" | "http") {
            return Err(bad("expected df://HOST:PORT"));
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad("no host (expected df://HOST:PORT)"))?;
        Ok(Self {
            host: host.trim_matches(['[', ']']).to_string(),
            port: url.port().unwrap_or(DEFAULT_SCHEDULER_PORT),
        })
    }

    /// The `df://host:port` form Ballista's client takes.
    pub fn df_url(&self) -> String {
        format!("df://{}:{}", self.host, self.port)
    }

    /// The `http://host:port` gRPC endpoint.
    pub fn grpc_url(&self) -> String {
        format!("http://{}:{}", self.host, self.port)
    }
}

impl std::fmt::Display for SchedulerUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.df_url())
    }
}

fn unreachable(url: &SchedulerUrl, message: impl Into<String>) -> Error {
    Error::Unreachable {
        what: "Ballista scheduler",
        location: url.df_url(),
        message: message.into(),
    }
}

/// A gRPC client to the scheduler, or [`Error::Unreachable`] within `timeout`.
async fn connect(
    url: &SchedulerUrl,
    timeout: Duration,
) -> Result<SchedulerGrpcClient<tonic::transport::Channel>> {
    match tokio::time::timeout(timeout, SchedulerGrpcClient::connect(url.grpc_url())).await {
        Ok(Ok(client)) => Ok(client),
        Ok(Err(e)) => Err(unreachable(url, first_line(&e.to_string()))),
        Err(_) => Err(unreachable(
            url,
            format!("no answer within {} s", timeout.as_secs()),
        )),
    }
}

/// What Ballista 55 says when an executor cannot decode or start a task.
const TASK_REJECTED: &str = "task could not be prepared or was rejected by executor";

/// `message` (an engine error's first line), with what to do about it when it is a Ballista
/// failure whose usual cause medallion knows: a task every executor rejected is one it cannot
/// decode, which means it is not a `medallion-executor` (no medallion codecs or UDFs) or a
/// different medallion version.
pub fn with_hint(message: &str) -> String {
    if message.contains(TASK_REJECTED) {
        format!(
            "{message} (every executor must be a medallion-executor of the same version as this \
             client: a stock Ballista executor lacks medallion's plan codecs and UDFs)"
        )
    } else {
        message.to_string()
    }
}

/// Checks that a Ballista scheduler answers at `url` within `timeout`: Ballista's client only
/// connects at the first query, so without this an unreachable cluster is reported late.
pub async fn probe_scheduler(url: &SchedulerUrl, timeout: Duration) -> Result<()> {
    let mut client = connect(url, timeout).await?;
    let probe = GetJobStatusParams {
        job_id: "medallion-probe".to_string(),
    };
    match tokio::time::timeout(timeout, client.get_job_status(probe)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(status)) => Err(unreachable(
            url,
            format!("not a Ballista scheduler? {}", first_line(status.message())),
        )),
        Err(_) => Err(unreachable(
            url,
            format!("no answer within {} s", timeout.as_secs()),
        )),
    }
}

/// The state of a Ballista job as the scheduler reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum JobState {
    /// Accepted, waiting for executors.
    Queued,
    /// Tasks are running.
    Running,
    /// Finished; `seconds` from start to end.
    Succeeded {
        /// Run time in seconds.
        seconds: f64,
    },
    /// Failed with `error`.
    Failed {
        /// The scheduler's error text.
        error: String,
    },
}

impl std::fmt::Display for JobState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JobState::Queued => f.write_str("queued"),
            JobState::Running => f.write_str("running"),
            JobState::Succeeded { seconds } => write!(f, "succeeded in {seconds:.2} s"),
            JobState::Failed { error } => write!(f, "failed: {}", first_line(error)),
        }
    }
}

/// A job's name and state.
#[derive(Debug, Clone, PartialEq)]
pub struct JobReport {
    /// The Ballista job id.
    pub job_id: String,
    /// The job name (Ballista's `ballista.job.name`, often empty).
    pub job_name: String,
    /// Its state.
    pub state: JobState,
}

/// The state of job `job_id` on the scheduler at `url`; `None` when the scheduler does not know
/// it (never submitted, or cleaned up after `--finished-job-state-clean-up-interval-seconds`).
pub async fn job_status(url: &SchedulerUrl, job_id: &str) -> Result<Option<JobReport>> {
    let mut client = connect(url, PROBE_TIMEOUT).await?;
    let params = GetJobStatusParams {
        job_id: job_id.to_string(),
    };
    let result = tokio::time::timeout(PROBE_TIMEOUT, client.get_job_status(params))
        .await
        .map_err(|_| unreachable(url, "no answer to GetJobStatus"))?
        .map_err(|status| unreachable(url, first_line(status.message())))?
        .into_inner();
    let Some(status) = result.status else {
        return Ok(None);
    };
    let state = match status.status {
        None | Some(job_status::Status::Queued(_)) => JobState::Queued,
        Some(job_status::Status::Running(_)) => JobState::Running,
        Some(job_status::Status::Successful(done)) => JobState::Succeeded {
            seconds: done.ended_at.saturating_sub(done.started_at) as f64 / 1000.0,
        },
        Some(job_status::Status::Failed(failed)) => JobState::Failed {
            error: failed.error,
        },
    };
    Ok(Some(JobReport {
        job_id: status.job_id,
        job_name: status.job_name,
        state,
    }))
}

/// Cancels job `job_id` on the scheduler at `url`.
pub async fn cancel_job(url: &SchedulerUrl, job_id: &str) -> Result<()> {
    let mut client = connect(url, PROBE_TIMEOUT).await?;
    let params = CancelJobParams {
        job_id: job_id.to_string(),
    };
    tokio::time::timeout(PROBE_TIMEOUT, client.cancel_job(params))
        .await
        .map_err(|_| unreachable(url, "no answer to CancelJob"))?
        .map_err(|status| unreachable(url, first_line(status.message())))?;
    Ok(())
}

/// The Ballista job ids of the queries a client context submitted, in submission order; with a
/// job timeout, a job still unfinished after it is cancelled, so that the query fails instead of
/// waiting forever (Ballista 55 can leave a job waiting for good after losing an executor).
#[derive(Debug)]
pub struct JobTracker {
    scheduler: SchedulerUrl,
    job_timeout: Option<Duration>,
    inner: Mutex<TrackerState>,
}

#[derive(Debug, Default)]
struct TrackerState {
    /// Submitted plans whose job id is not known yet.
    pending: Vec<Arc<dyn ExecutionPlan>>,
    /// Jobs seen so far, in order.
    jobs: Vec<TrackedJob>,
    /// Jobs this tracker cancelled because they ran past the job timeout.
    timed_out: Vec<String>,
    /// Jobs this tracker cancelled because another job of the run was cancelled.
    stopped: Vec<String>,
}

#[derive(Debug)]
struct TrackedJob {
    id: String,
    seen: Instant,
    done: bool,
}

/// How often the watcher asks the scheduler about jobs past their timeout.
const DEADLINE_CHECK: Duration = Duration::from_secs(2);

impl JobTracker {
    /// A tracker for the scheduler at `scheduler` whose job ids are logged as they appear (checked
    /// every `interval`); jobs running longer than `job_timeout` are cancelled.
    pub fn watched(
        scheduler: SchedulerUrl,
        interval: Duration,
        job_timeout: Option<Duration>,
    ) -> Arc<Self> {
        let tracker = Arc::new(Self {
            scheduler,
            job_timeout,
            inner: Mutex::new(TrackerState::default()),
        });
        let weak: Weak<Self> = Arc::downgrade(&tracker);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let mut last_check = Instant::now();
                loop {
                    tokio::time::sleep(interval).await;
                    let Some(tracker) = weak.upgrade() else {
                        break;
                    };
                    tracker.poll();
                    if last_check.elapsed() >= DEADLINE_CHECK {
                        last_check = Instant::now();
                        tracker.enforce_timeout().await;
                    }
                }
            });
        }
        tracker
    }

    fn track(&self, plan: &Arc<dyn ExecutionPlan>) {
        if plan.is::<DistributedQueryExec<LogicalPlanNode>>()
            && let Ok(mut state) = self.inner.lock()
        {
            state.pending.push(plan.clone());
        }
    }

    /// Moves plans whose job id became known to the list, logging each new id.
    fn poll(&self) {
        let Ok(mut state) = self.inner.lock() else {
            return;
        };
        let mut found = Vec::new();
        state.pending.retain(|plan| {
            match plan
                .downcast_ref::<DistributedQueryExec<LogicalPlanNode>>()
                .and_then(|exec| exec.job_id())
            {
                Some(id) => {
                    found.push(id.into_inner());
                    false
                }
                None => true,
            }
        });
        for id in found {
            tracing::info!(job_id = %id, "Ballista job submitted");
            state.jobs.push(TrackedJob {
                id,
                seen: Instant::now(),
                done: false,
            });
        }
    }

    /// Cancels the jobs still running past the job timeout.
    async fn enforce_timeout(&self) {
        let Some(timeout) = self.job_timeout else {
            return;
        };
        let overdue: Vec<String> = match self.inner.lock() {
            Ok(state) => state
                .jobs
                .iter()
                .filter(|job| !job.done && job.seen.elapsed() > timeout)
                .map(|job| job.id.clone())
                .collect(),
            Err(_) => return,
        };
        for id in overdue {
            let finished = match job_status(&self.scheduler, &id).await {
                Ok(Some(report)) => matches!(
                    report.state,
                    JobState::Succeeded { .. } | JobState::Failed { .. }
                ),
                Ok(None) => true,
                Err(_) => false,
            };
            if !finished {
                tracing::warn!(
                    job_id = %id,
                    timeout_seconds = timeout.as_secs(),
                    "Ballista job still unfinished after the job timeout (an executor may have been lost): cancelling it"
                );
                if let Err(e) = cancel_job(&self.scheduler, &id).await {
                    tracing::warn!(job_id = %id, error = %e, "could not cancel the job");
                    continue;
                }
                if let Ok(mut state) = self.inner.lock() {
                    state.timed_out.push(id.clone());
                }
            }
            if let Ok(mut state) = self.inner.lock()
                && let Some(job) = state.jobs.iter_mut().find(|job| job.id == id)
            {
                job.done = true;
            }
        }
    }

    /// The Ballista job whose cancellation `error` reports (see
    /// [`crate::cancellation::cancelled_job_id`]) when this tracker did not cancel it itself for
    /// the job timeout: a job cancelled from outside the run (`medallion cancel`, the scheduler's
    /// REST API). `None` for any other error.
    pub fn external_cancellation(
        &self,
        error: &(dyn std::error::Error + 'static),
    ) -> Option<String> {
        let id = crate::cancellation::cancelled_job_id(error)?;
        let ours = self
            .inner
            .lock()
            .map(|state| state.timed_out.contains(&id) || state.stopped.contains(&id))
            .unwrap_or(false);
        (!ours).then_some(id)
    }

    /// Whether `error` reports the cancellation of a job that [`Self::cancel_unfinished`]
    /// cancelled: a consequence of another job's cancellation, not a cause of its own.
    pub fn stopped_by_run(&self, error: &(dyn std::error::Error + 'static)) -> bool {
        crate::cancellation::cancelled_job_id(error).is_some_and(|id| {
            self.inner
                .lock()
                .map(|state| state.stopped.contains(&id))
                .unwrap_or(false)
        })
    }

    /// Cancels every job of this tracker that is still queued or running (a run stopping because
    /// one of its jobs was cancelled does not wait for the others to finish); their cancellations
    /// are then neither external ([`Self::external_cancellation`]) nor the run's cause of failure
    /// ([`Self::stopped_by_run`]).
    pub async fn cancel_unfinished(&self) {
        for id in self.job_ids() {
            let unfinished = matches!(
                job_status(&self.scheduler, &id).await,
                Ok(Some(JobReport {
                    state: JobState::Queued | JobState::Running,
                    ..
                }))
            );
            if unfinished {
                tracing::info!(job_id = %id, "cancelling the run's unfinished Ballista job");
                // known as the run's own before its query can see the cancellation
                if let Ok(mut state) = self.inner.lock() {
                    state.stopped.push(id.clone());
                }
                if let Err(e) = cancel_job(&self.scheduler, &id).await {
                    tracing::warn!(job_id = %id, error = %e, "could not cancel the job");
                }
            }
        }
    }

    /// The job ids known so far.
    pub fn job_ids(&self) -> Vec<String> {
        self.poll();
        self.inner
            .lock()
            .map(|state| state.jobs.iter().map(|job| job.id.clone()).collect())
            .unwrap_or_default()
    }
}

/// Ballista's distributed query planner, recording every submitted plan in a [`JobTracker`].
#[derive(Debug)]
pub struct TrackingQueryPlanner {
    inner: BallistaQueryPlanner<LogicalPlanNode>,
    tracker: Arc<JobTracker>,
}

impl TrackingQueryPlanner {
    /// A planner sending queries to `url` with Ballista settings `config` and plan codec `codec`.
    pub fn new(
        url: &SchedulerUrl,
        config: BallistaConfig,
        codec: Arc<dyn LogicalExtensionCodec>,
        tracker: Arc<JobTracker>,
    ) -> Self {
        Self {
            inner: BallistaQueryPlanner::with_extension(url.grpc_url(), config, codec),
            tracker,
        }
    }
}

#[async_trait]
impl QueryPlanner for TrackingQueryPlanner {
    async fn create_physical_plan(
        &self,
        logical_plan: &LogicalPlan,
        session: &dyn Session,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let plan = self
            .inner
            .create_physical_plan(logical_plan, session)
            .await?;
        self.tracker.track(&plan);
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheduler_urls_default_the_port() {
        let url = SchedulerUrl::parse("df://sched.example").expect("url");
        assert_eq!(url.port, 50050);
        assert_eq!(url.grpc_url(), "http://sched.example:50050");
        let url = SchedulerUrl::parse("127.0.0.1:6000").expect("url");
        assert_eq!(url.df_url(), "df://127.0.0.1:6000");
        assert!(SchedulerUrl::parse("mysql://x:1").is_err());
        assert!(SchedulerUrl::parse("df://").is_err());
    }

    #[tokio::test]
    async fn a_closed_port_is_unreachable_at_once() {
        let url = SchedulerUrl::parse("df://127.0.0.1:1").expect("url");
        let started = std::time::Instant::now();
        let err = probe_scheduler(&url, PROBE_TIMEOUT)
            .await
            .expect_err("nothing listens on port 1");
        assert_eq!(err.exit_code(), 3);
        assert!(
            err.to_string()
                .starts_with("cannot reach Ballista scheduler at df://127.0.0.1:1"),
            "{err}"
        );
        assert!(started.elapsed() < PROBE_TIMEOUT + Duration::from_secs(1));
    }

    #[test]
    fn job_states_read_as_words() {
        assert_eq!(
            JobState::Succeeded { seconds: 2.25 }.to_string(),
            "succeeded in 2.25 s"
        );
        assert_eq!(
            JobState::Failed {
                error: "boom\ntrace".into()
            }
            .to_string(),
            "failed: boom"
        );
    }

    #[test]
    fn rejected_tasks_name_the_executor_to_run() {
        let hinted =
            with_hint("Job 1 failed: task could not be prepared or was rejected by executor");
        assert!(hinted.contains("medallion-executor"), "{hinted}");
        assert_eq!(with_hint("Parquet error: EOF"), "Parquet error: EOF");
    }
}
