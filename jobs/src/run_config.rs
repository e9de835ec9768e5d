//! What a run is asked to do, typed: built from the flags of `medallion run|submit` (or by a
//! program), taken by the [runner](crate::runner).

use std::time::Duration;

use crate::run_options::RunOptions;

/// The lake folder a run uses, and fills with sample data, when it is given no lake.
pub const DEFAULT_LAKE: &str = "lake";

/// Where a run's queries execute when it is submitted to a Ballista cluster.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// The scheduler, `df://HOST:PORT`.
    pub scheduler: String,
    /// Cancel a Ballista job still unfinished after this long; `None` waits forever.
    pub job_timeout: Option<Duration>,
    /// How many times a query runs at most when its Ballista job is lost with an executor.
    pub attempts: u32,
}

/// One run of a job.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The job's name.
    pub job: String,
    /// The lake root; `None` uses [`DEFAULT_LAKE`], generating sample data there when missing.
    pub lake: Option<String>,
    /// Where Gold tables go (`file://DIR`, `mysql://...`).
    pub sink: String,
    /// Parameter overrides, `NAME=VALUE`.
    pub set: Vec<String>,
    /// Partitions of the work (embedded) or of each shuffle (cluster); `None` picks.
    pub parallelism: Option<usize>,
    /// Memory of an embedded run (a Kubernetes quantity); `None`: one executor's.
    pub memory: Option<String>,
    /// How many of the run's queries run at once; `None`: the sink's default.
    pub concurrency: Option<usize>,
    /// Whether to show a progress bar.
    pub progress: bool,
    /// How long to wait for another run of the same job holding the sink's run lock.
    pub lock_wait: Duration,
    /// Check everything and write nothing.
    pub dry_run: bool,
    /// Files of more data quality expectations (`--expect`).
    pub expect: Vec<std::path::PathBuf>,
    /// Gold tables left out of the run (`--exclude`).
    pub exclude: Vec<String>,
    /// `medallion test`: stage every Gold table and check the expectations, publish nothing.
    pub check_only: bool,
    /// Period, secret and extra-output options.
    pub options: RunOptions,
    /// The cluster to submit to; `None` runs embedded.
    pub cluster: Option<ClusterConfig>,
    /// The Pushgateway the run pushes its metrics to at its end (`http[s]://[user:pass@]host:port`).
    pub metrics_push: Option<String>,
}
