//! The flags of `medallion run` and `medallion submit`, and the [`RunConfig`] they stand for.

use std::time::Duration;

use clap::Args;
use medallion_core::cluster::DEFAULT_SCHEDULER;

use crate::run_config::{ClusterConfig, RunConfig};
use crate::run_options::RunOptions;

/// Arguments of `medallion run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The job to run (see `medallion jobs`).
    pub job: String,
    /// Lake root: a folder or a URL holding one folder per Silver table
    /// [default: ./lake, generated with sample data when missing].
    #[arg(long, env = "MEDALLION_LAKE")]
    pub lake: Option<String>,
    /// Where Gold tables go: file://DIR (Parquet folders).
    #[arg(long, env = "MEDALLION_SINK", default_value = "file://gold")]
    pub sink: String,
    /// Override a job parameter, e.g. --set hotspot_min_accidents=20 (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Partitions the work is split into: embedded, run in parallel [default: the machine's
    /// cores]; with `submit`, the partitions of each shuffle [default: the job's `executor_slots`
    /// in resource_limits.yaml, else 16].
    #[arg(long)]
    pub parallelism: Option<usize>,
    /// Memory of an embedded run, as a Kubernetes quantity (e.g. 1Gi, 512Mi): its DataFusion
    /// memory pool is `memory_pool_fraction` of it (resource_limits.yaml) and sorts, joins and
    /// aggregations spill to TMPDIR beyond it, like Spark's driver memory in local mode
    /// [default: one executor's memory limit in resource_limits.yaml]. Ignored by `submit`,
    /// whose executors have their own.
    #[arg(long, env = "MEDALLION_MEMORY", value_name = "QUANTITY")]
    pub memory: Option<String>,
    /// How many of the run's queries (its materialized views, its Gold tables and the quality
    /// measure; a query reading the views waits for them) run at once, like dbt's threads
    /// [default: 2 with a MySQL sink, whose big loads wait on the server, so the other queries are
    /// computed meanwhile; 1 otherwise]. One query at a time already keeps every core busy
    /// embedded and on a cluster whose task slots match `--parallelism`; more helps a cluster with
    /// more slots than a query's partitions.
    #[arg(long, value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: Option<u16>,
    /// Hide the progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// While another run of the same job holds the sink's run lock, wait up to this many seconds
    /// for it to finish (logging "waiting for run ..."), then fail with exit code 1; 0 refuses at
    /// once.
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub lock_wait: u64,
    /// Check without writing anything: open and check every input, plan every Gold table, check
    /// the sink (and scheduler) answer, and print what a run would write.
    #[arg(long)]
    pub dry_run: bool,
    /// At the end of the run, succeeded or failed, push its metrics (duration, status, rows,
    /// quality, last success time; labels job and mode) to this Prometheus Pushgateway, e.g.
    /// http://pushgateway:9091. A Pushgateway that does not answer within 5 s is a warning, never a
    /// failed run.
    #[arg(long, env = crate::pushgateway::PUSHGATEWAY_ENV, value_name = "URL")]
    pub metrics_push: Option<String>,
    /// More data quality expectations: a TOML file of `[[expect]]` tables, as in job.toml
    /// (repeatable); checked with the job's own before the run publishes.
    #[arg(long = "expect", value_name = "FILE")]
    pub expect: Vec<std::path::PathBuf>,
    /// Leave these Gold tables out of the run, like dbt's --exclude (repeatable, or
    /// comma-separated): they are neither computed nor published (their published copies stay as
    /// they are), and the expectations that check them are skipped. Not with --export or
    /// --reports, which write every Gold table.
    #[arg(long, value_name = "TABLE", value_delimiter = ',')]
    pub exclude: Vec<String>,
    /// Period, secret and extra-output options.
    #[command(flatten)]
    pub options: Box<RunOptions>,
}

/// Arguments of `medallion submit`: those of `run` plus the scheduler.
#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// The Ballista scheduler, df://HOST:PORT.
    #[arg(long, env = "MEDALLION_SCHEDULER", default_value = DEFAULT_SCHEDULER)]
    pub scheduler: String,
    /// Cancel a Ballista job (one per Gold table) still unfinished after this many seconds, which
    /// fails the run and leaves the published Gold as it was; the client stops waiting for the
    /// query 30 s later in any case (a job that lost an executor may never report its end); 0
    /// waits forever.
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    pub job_timeout: u64,
    /// How many times a Gold table's query (one Ballista job) runs at most when its job fails
    /// because an executor was lost; each resubmission is logged. 1 never resubmits.
    #[arg(long, value_name = "N", default_value_t = crate::resubmit::DEFAULT_ATTEMPTS,
          value_parser = clap::value_parser!(u32).range(1..=10))]
    pub job_attempts: u32,
    /// The job, lake, sink and parameters, as for `run`.
    #[command(flatten)]
    pub run: RunArgs,
}

impl RunArgs {
    /// The run these flags ask for, on `cluster` (`None`: embedded).
    pub fn into_config(self, cluster: Option<ClusterConfig>) -> RunConfig {
        RunConfig {
            job: self.job,
            lake: self.lake,
            sink: self.sink,
            set: self.set,
            parallelism: self.parallelism,
            memory: self.memory,
            concurrency: self.concurrency.map(usize::from),
            progress: !self.no_progress,
            lock_wait: Duration::from_secs(self.lock_wait),
            dry_run: self.dry_run,
            expect: self.expect,
            exclude: self.exclude,
            check_only: false,
            options: *self.options,
            cluster,
            metrics_push: self.metrics_push.filter(|url| !url.trim().is_empty()),
        }
    }
}

impl SubmitArgs {
    /// The run these flags ask for, on the cluster of `--scheduler`.
    pub fn into_config(self) -> RunConfig {
        let cluster = ClusterConfig {
            scheduler: self.scheduler,
            job_timeout: (self.job_timeout > 0).then(|| Duration::from_secs(self.job_timeout)),
            attempts: self.job_attempts,
        };
        self.run.into_config(Some(cluster))
    }
}
