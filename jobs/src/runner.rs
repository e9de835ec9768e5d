//! The application layer of `medallion run|submit`: from a [`RunConfig`] to a published run. It
//! finds the job (a maintenance job or a job plan), applies the parameters and the period, checks
//! only when asked to (`--dry-run`), opens the sink, generates the sample lake when none is given,
//! picks the engine (embedded, or the cluster sized by `resource_limits.yaml`), runs the job and
//! writes its extra files. Printing is the command line's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ballista::prelude::SessionConfigExt;
use clap::Parser;
use datafusion::prelude::SessionContext;
use medallion_core::run_record::RunRecord;
use medallion_core::sink::open_sink;
use medallion_core::{Error, Result, session};

use crate::accidents::generate::{GenerateAccidentsArgs, generate_accidents};
use crate::config::BatchConfig;
use crate::embedded::embedded_engine;
use crate::medical::generate::{GenerateMedicalArgs, generate_medical};
use crate::plan::{Job, JobPlan};
use crate::pushgateway::push_or_warn;
use crate::quality::Outcome;
use crate::run::run_gated;
use crate::run_config::{DEFAULT_LAKE, RunConfig};
use crate::run_metrics::{RunMetrics, RunRows, schedule_seconds};
use crate::run_outputs::write_outputs;
use crate::run_request::RunRequest;

/// How much longer than the job timeout the client waits for each query of a run (the run
/// request's `query_timeout`).
const QUERY_TIMEOUT_GRACE: Duration = Duration::from_secs(30);

/// Rows of generated sample data when a run finds no lake.
const SAMPLE_ROWS: &str = "100000";

/// How a run ended, for the command line to print.
#[derive(Debug)]
pub enum RunOutcome {
    /// The Gold tables were published.
    Published(Box<PublishedRun>),
    /// A dry run or a maintenance job, which reported what it did itself.
    Done,
    /// `medallion test`: the data quality gate's outcomes; nothing was published.
    Tested(Vec<Outcome>),
}

/// A published run.
#[derive(Debug)]
pub struct PublishedRun {
    /// The run's record, as `pipeline_runs` holds it.
    pub record: RunRecord,
    /// The sink, in words.
    pub sink: String,
    /// The Ballista jobs of the run (one per query), when it ran on a cluster.
    pub ballista_jobs: Vec<String>,
    /// The extra files written (reports, exports).
    pub extra_files: Vec<PathBuf>,
    /// The data quality gate's outcomes (none when the job has no expectations).
    pub quality: Vec<Outcome>,
}

/// Runs the job `config` names, embedded or on its cluster; then, when `config` names a
/// Pushgateway, pushes the run's metrics there, whether it succeeded or failed (a failed push is
/// a warning).
pub async fn run(config: RunConfig) -> Result<RunOutcome> {
    let started = Instant::now();
    let mut quality = Vec::new();
    let outcome = run_job_of(&config, &mut quality).await;
    if let Some(url) = &config.metrics_push
        && !config.dry_run
    {
        let metrics = pushed_metrics(&config, &outcome, &quality, started.elapsed());
        push_or_warn(url, &metrics).await;
    }
    outcome
}

/// What the run of `config` that ended with `outcome` after `elapsed` pushes; `quality`, the data
/// quality gate's outcomes, also of a run the gate stopped.
fn pushed_metrics(
    config: &RunConfig,
    outcome: &Result<RunOutcome>,
    quality: &[Outcome],
    elapsed: Duration,
) -> RunMetrics {
    let mode = config.options.mode();
    // the scheduled runs are the full ones
    let schedule = (mode == "full")
        .then(|| BatchConfig::load(None).ok()?.schedule(&config.job))
        .flatten()
        .and_then(|s| schedule_seconds(&s));
    RunMetrics {
        job: config.job.clone(),
        mode: mode.to_string(),
        succeeded: outcome.is_ok(),
        duration_secs: elapsed.as_secs_f64(),
        finished_at: chrono::Utc::now(),
        rows: match outcome {
            Ok(RunOutcome::Published(run)) => Some(RunRows::of(&run.record)),
            _ => None,
        },
        expectations: quality.iter().fold(BTreeMap::new(), |mut counts, outcome| {
            *counts
                .entry(outcome.status.as_str().to_string())
                .or_default() += 1;
            counts
        }),
        schedule,
    }
}

/// `job` without the Gold tables of `config.exclude` (and the expectations checking them), which
/// it logs; bad input when a name is not one of the job's tables or with `--export`/`--reports`.
fn without_excluded(job: JobPlan, config: &RunConfig) -> Result<JobPlan> {
    if config.exclude.is_empty() {
        return Ok(job);
    }
    if config.options.export.is_some() || config.options.reports.is_some() {
        return Err(Error::invalid(
            "--exclude",
            "cannot be combined with --export or --reports, which write every Gold table",
        ));
    }
    let (job, skipped) = job.excluding(&config.exclude)?;
    let skipped: Vec<&str> = skipped.iter().map(|e| e.name.as_str()).collect();
    tracing::info!(
        tables = %config.exclude.join(","),
        skipped_expectations = %skipped.join(","),
        "Gold tables excluded from the run"
    );
    Ok(job)
}

/// The run of [`run`], without the push; the data quality gate's outcomes, when it ran, are left
/// in `quality` whether the run published or not.
async fn run_job_of(config: &RunConfig, quality: &mut Vec<Outcome>) -> Result<RunOutcome> {
    let job = match crate::plan::find(&config.job)? {
        Job::Maintenance(job) => {
            let lake = config.lake.as_deref();
            crate::medical::maintenance::run_as_job(job, lake, &config.sink, config.dry_run)
                .await?;
            return Ok(RunOutcome::Done);
        }
        Job::Sql(job) => *job,
    };
    let mut job = job;
    for path in &config.expect {
        job.expectations
            .extend(crate::quality::read_expect_file(path)?);
    }
    let job = without_excluded(job, config)?;
    let mut params = job.params.clone();
    for assignment in &config.set {
        params
            .set(assignment)
            .map_err(|message| Error::invalid("--set", message))?;
    }
    let period = config.options.apply(&job, &mut params)?;
    if let Some(period) = period {
        tracing::info!(period = %period, periods = period.periods(), "period selected");
    }
    if config.dry_run {
        crate::commands::dry_run::execute_run(&job, &params, config).await?;
        return Ok(RunOutcome::Done);
    }
    let cluster = config.cluster.as_ref();
    let mut sink = match cluster {
        Some(_) => open_sink(&absolute_location(&config.sink)?)?,
        None => open_sink(&config.sink)?,
    };
    let lake = match &config.lake {
        Some(lake) => lake.clone(),
        None => {
            ensure_sample_lake(&job, config.progress)?;
            DEFAULT_LAKE.to_string()
        }
    };
    // resource_limits.yaml: an embedded run gets one executor's memory pool; a submitted job's
    // shuffles get as many partitions as the task slots it is sized for.
    let limits = BatchConfig::load(None)?;
    let job_timeout = cluster.and_then(|c| c.job_timeout);
    let (ctx, tracker, lake) = match cluster {
        None => {
            let ctx = embedded_engine(config.parallelism, config.memory.as_deref(), &limits)?;
            (ctx, None, lake)
        }
        Some(cluster) => {
            let partitions = config.parallelism.or_else(|| {
                limits
                    .resources(&job.name)
                    .and_then(|r| r.executor_slots)
                    .and_then(|n| usize::try_from(n).ok())
            });
            tracing::debug!(partitions, "shuffle partitions of the job's queries");
            let (ctx, tracker) =
                session::tracked_remote_context(&cluster.scheduler, job_timeout, partitions)
                    .await?;
            name_ballista_jobs(&ctx, &job.name);
            (ctx, Some(tracker), absolute_location(&lake)?)
        }
    };
    let request = RunRequest {
        lake,
        params,
        mode: config.options.mode().to_string(),
        progress: config.progress,
        concurrency: config
            .concurrency
            .unwrap_or_else(|| sink.default_concurrency()),
        // past the job timeout the tracker cancels the job, which then fails the query; the
        // client stops waiting a little later in any case
        query_timeout: job_timeout.map(|limit| limit + QUERY_TIMEOUT_GRACE),
        attempts: cluster.map_or(1, |c| c.attempts),
        jobs: tracker.clone(),
    };
    let publish = !config.check_only;
    let gated = run_gated(
        &ctx,
        &job,
        &request,
        sink.as_mut(),
        config.lock_wait,
        publish,
    )
    .await;
    *quality = gated.quality;
    let ballista_jobs = tracker.map(|t| t.job_ids()).unwrap_or_default();
    if gated.result.is_err() && !ballista_jobs.is_empty() {
        tracing::info!(jobs = %ballista_jobs.join(" "), "Ballista jobs of the failed run");
    }
    let record = gated.result?;
    if !publish {
        return Ok(RunOutcome::Tested(quality.clone()));
    }
    let extra_files = write_outputs(&ctx, &job, &request.params, &config.options).await?;
    Ok(RunOutcome::Published(Box::new(PublishedRun {
        record,
        sink: sink.describe(),
        ballista_jobs,
        extra_files,
        quality: quality.clone(),
    })))
}

/// Names the Ballista jobs `ctx` submits after the medallion job (`ballista.job.name`), so that
/// `medallion jobs --running`, `medallion ui` and the scheduler's REST API say which run a Ballista
/// job belongs to.
fn name_ballista_jobs(ctx: &SessionContext, job: &str) {
    let state = ctx.state_ref();
    let mut state = state.write();
    let config = state.config().clone().with_ballista_job_name(job);
    *state.config_mut() = config;
}

/// Generates the sample tables the job reads (accidents, or the medical lake) when the run was
/// given no lake and `./lake` lacks them.
fn ensure_sample_lake(job: &JobPlan, progress: bool) -> Result<()> {
    let missing = |table: &str| {
        job.inputs.iter().any(|i| i.name == table) && !Path::new(DEFAULT_LAKE).join(table).exists()
    };
    if missing("vitals") {
        tracing::info!(
            lake = DEFAULT_LAKE,
            "no medical lake found: generating sample data"
        );
        generate_medical(&GenerateMedicalArgs::new(DEFAULT_LAKE), progress)?;
    }
    if !missing("accidents") {
        return Ok(());
    }
    tracing::info!(
        lake = DEFAULT_LAKE,
        rows = SAMPLE_ROWS,
        "no lake found: generating sample data"
    );
    #[derive(Parser)]
    struct Sample {
        #[command(flatten)]
        args: GenerateAccidentsArgs,
    }
    let sample = Sample::try_parse_from(["generate", "--out", DEFAULT_LAKE, "--rows", SAMPLE_ROWS])
        .map_err(|e| Error::invalid("sample generation", e.to_string()))?;
    generate_accidents(&sample.args, progress)?;
    Ok(())
}

/// `path` made absolute against the current folder when it is a relative local path (executors
/// of a cluster do not share the client's current folder); URLs are returned as they are.
fn absolute_location(path: &str) -> Result<String> {
    let local = match path.split_once("://") {
        Some(("file", rest)) => rest,
        Some(_) => return Ok(path.to_string()),
        None => path,
    };
    if Path::new(local).is_absolute() {
        return Ok(path.to_string());
    }
    let cwd = std::env::current_dir().map_err(|e| Error::io("reading", ".", e))?;
    let absolute = cwd.join(local.trim_start_matches("./"));
    Ok(match path.split_once("://") {
        Some(_) => format!("file://{}", absolute.display()),
        None => absolute.display().to_string(),
    })
}
