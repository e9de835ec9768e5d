//! The `medallion` command line: argument definitions and what each command does.

use std::path::Path;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use medallion_core::sink::open_sink;
use medallion_core::{Error, Result, cluster, session};

use crate::accidents::generate::{GenerateAccidentsArgs, generate_accidents};
use crate::accidents::ingest::{IngestAccidentsArgs, ingest_accidents};
use crate::embedded::embedded_engine;
use crate::logging::LogFormat;
use crate::medical::generate::{GenerateMedicalArgs, generate_medical};
use crate::plan::find_job;
use crate::run::{RunRequest, run_job_waiting};
use crate::run_options::{RunOptions, write_outputs};

const EXAMPLES: &str = "\
Examples:
  medallion run accidents-datamart                       # embedded; generates ./lake if missing, Gold to ./gold
  medallion run accidents-datamart --lake /data/silver --sink file:///data/gold
  medallion submit accidents-datamart --scheduler df://sched:50050 --lake s3://bucket/silver --sink file:///shared/gold
  medallion status 3f9aZk1 --scheduler df://sched:50050
  medallion generate accidents --rows 1000000 --format orc --out /data/silver
  medallion ingest accidents --input US_Accidents_March23.csv --out /data/silver
  medallion jobs
  medallion sql \"SELECT state, COUNT(*) FROM accidents GROUP BY state\" --lake ./lake
  medallion tables --lake ./lake
  medallion explain accidents-datamart
  medallion runs --sink file://gold

Exit codes: 0 ok, 1 job failed, 2 bad usage or input, 3 infrastructure unreachable.";

/// medallion: Spark-style batch jobs from a Silver lake (Parquet/ORC) to Gold tables, on DataFusion
/// Ballista.
#[derive(Debug, Parser)]
#[command(name = "medallion", version, after_help = EXAMPLES)]
pub struct Cli {
    /// Log line format (logs go to stderr).
    #[arg(long, value_enum, default_value = "human", global = true)]
    pub log_format: LogFormat,
    /// More detailed logs.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a job embedded: an in-process Ballista scheduler and executor, no setup.
    #[command(after_help = "Examples:
  medallion run accidents-datamart
  medallion run accidents-datamart --lake ./lake --sink file://./gold --set hotspot_min_accidents=20")]
    Run(RunArgs),
    /// Run a job on a Ballista cluster (a medallion-scheduler and medallion-executor processes).
    #[command(after_help = "Examples:
  medallion submit accidents-datamart --scheduler df://127.0.0.1:50050 --lake /shared/silver --sink file:///shared/gold
  medallion submit accidents-datamart --scheduler df://sched:50050 --lake s3://bucket/silver --sink mysql://u:p@db:3306/gold

The lake and a file:// sink must be reachable at the same path or URL from every executor. Each Gold
table is one Ballista job; their ids are logged as they start and listed at the end (see `medallion
status`). An unreachable scheduler ends the command within seconds with exit code 3.")]
    Submit(SubmitArgs),
    /// Show the state of a Ballista job: queued, running, succeeded or failed (exit 1), unknown (exit 2).
    #[command(after_help = "Example:
  medallion status Zk3f9aQ --scheduler df://sched:50050")]
    Status(StatusArgs),
    /// Generate deterministic synthetic Silver data.
    #[command(
        subcommand,
        after_help = "Examples:
  medallion generate accidents --rows 100000 --format parquet --out ./lake
  medallion generate medical --patients 100 --days 30 --out ./lake"
    )]
    Generate(GenerateCommand),
    /// Turn a Bronze file into Silver tables.
    #[command(
        subcommand,
        after_help = "Example:
  medallion ingest accidents --input US_Accidents_March23.csv --out ./lake"
    )]
    Ingest(IngestCommand),
    /// List the job plans with their descriptions and parameters.
    #[command(after_help = "Example:
  medallion jobs")]
    Jobs,
    /// Move Silver day partitions older than the retention policy to the archive (zstd Parquet,
    /// row counts verified before the source is deleted).
    #[command(after_help = "Examples:
  medallion archive --lake ./lake --table vitals --retention-months 6 --dry-run
  medallion archive --lake /data/silver --archive /data/archive --as-of 2024-07-01")]
    Archive(crate::medical::archive::ArchiveArgs),
    /// Maintain a MySQL sink: drop stale staging tables of unfinished runs, OPTIMIZE and ANALYZE
    /// every published Gold table.
    #[command(after_help = "Examples:
  medallion optimize --sink mysql://root:secret@127.0.0.1:3306/gold --dry-run
  medallion optimize --sink mysql://root:secret@127.0.0.1:3306/gold --max-staging-age-hours 6")]
    Optimize(crate::medical::optimize::OptimizeArgs),
    /// Run ad-hoc SQL over the lake tables, with medallion's UDFs; an interactive shell without SQL.
    #[command(after_help = crate::commands::sql::EXAMPLES)]
    Sql(crate::commands::sql::SqlArgs),
    /// List the lake tables: name, format, files, bytes, columns.
    #[command(after_help = "Examples:
  medallion tables                                   # ./medallion.toml, else ./lake
  medallion tables --lake s3://bucket/silver
  medallion tables --catalog medallion.toml --format csv")]
    Tables(crate::commands::catalog::TablesArgs),
    /// Show a lake table's columns: name, type, nullable.
    #[command(after_help = "Examples:
  medallion describe accidents
  medallion describe accidents --lake /data/silver --format json")]
    Describe(crate::commands::catalog::DescribeArgs),
    /// Show the logical, physical and distributed (stage) plans of a job's Gold tables or of SQL.
    #[command(after_help = "Examples:
  medallion explain accidents-datamart --lake ./lake
  medallion explain accidents-datamart --table hotspots --set hotspot_min_accidents=20
  medallion explain \"SELECT state, COUNT(*) FROM accidents GROUP BY state\"")]
    Explain(crate::commands::explain::ExplainArgs),
    /// Show the latest runs recorded in a sink's pipeline_runs, newest first.
    #[command(after_help = "Examples:
  medallion runs                                     # file://gold
  medallion runs --sink mysql://root:secret@127.0.0.1:3306/gold --limit 5
  medallion runs --job accidents-datamart --format json")]
    Runs(crate::commands::runs::RunsArgs),
}

/// What `medallion generate` can generate.
#[derive(Debug, Subcommand)]
pub enum GenerateCommand {
    /// Synthetic US-Accidents Silver data, partitioned by year.
    #[command(after_help = "Example:
  medallion generate accidents --rows 1000000 --seed 7 --format orc --out ./lake --bronze-csv bronze.csv")]
    Accidents(GenerateAccidentsArgs),
    /// Synthetic medical IoT Silver data (vitals every 5 minutes, crises, treatments, patients).
    #[command(after_help = "Example:
  medallion generate medical --patients 100 --days 30 --seed 7 --out ./lake --start-date 2024-01-01")]
    Medical(GenerateMedicalArgs),
}

/// What `medallion ingest` can ingest.
#[derive(Debug, Subcommand)]
pub enum IngestCommand {
    /// The US-Accidents Bronze CSV (original Kaggle headers) into Silver, with a rejects file.
    #[command(after_help = "Example:
  medallion ingest accidents --input US_Accidents_March23.csv --out ./lake")]
    Accidents(IngestAccidentsArgs),
}

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
    /// How many of the run's queries (its Gold tables and the quality measure, which are
    /// independent) run at once, like dbt's threads. One query at a time already keeps every core
    /// busy embedded and on a cluster whose task slots match `--parallelism`; more helps a cluster
    /// with more slots than a query's partitions.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
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
    /// Period, secret and extra-output options.
    #[command(flatten)]
    pub options: Box<RunOptions>,
}

/// The scheduler `submit` and `status` use when `--scheduler` is not given.
const DEFAULT_SCHEDULER: &str = "df://localhost:50050";

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

/// Arguments of `medallion status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The Ballista job id (printed by `medallion submit`).
    pub job_id: String,
    /// The Ballista scheduler, df://HOST:PORT.
    #[arg(long, env = "MEDALLION_SCHEDULER", default_value = DEFAULT_SCHEDULER)]
    pub scheduler: String,
}

/// How much longer than `--job-timeout` the client waits for each query of a run (the run
/// request's `query_timeout`).
const QUERY_TIMEOUT_GRACE: Duration = Duration::from_secs(30);

/// Rows of generated sample data when `run` finds no lake.
const SAMPLE_ROWS: &str = "100000";
/// The lake folder `run` uses, and fills with sample data, when `--lake` is not given.
const DEFAULT_LAKE: &str = "lake";

impl Command {
    /// Runs the command.
    pub async fn execute(self) -> Result<()> {
        match self {
            Command::Run(args) => run(args, None, None, 1).await,
            Command::Submit(args) => {
                let timeout = (args.job_timeout > 0).then(|| Duration::from_secs(args.job_timeout));
                run(args.run, Some(&args.scheduler), timeout, args.job_attempts).await
            }
            Command::Status(args) => status(&args).await,
            Command::Generate(GenerateCommand::Accidents(args)) => {
                let report = generate_accidents(&args, true)?;
                println!(
                    "generated {} rows in {} files under {}",
                    report.rows,
                    report.files.len(),
                    Path::new(&args.out).display()
                );
                Ok(())
            }
            Command::Generate(GenerateCommand::Medical(args)) => {
                let report = generate_medical(&args, true)?;
                println!(
                    "generated {} patients, {} vitals, {} crises, {} treatments under {}",
                    report.patients,
                    report.vitals,
                    report.crises,
                    report.treatments,
                    Path::new(&args.out).display()
                );
                Ok(())
            }
            Command::Ingest(IngestCommand::Accidents(args)) => {
                let report = ingest_accidents(&args, true)?;
                println!(
                    "read {} rows: {} accepted, {} rejected (see {})",
                    report.rows_read,
                    report.rows_accepted,
                    report.rows_rejected,
                    report.rejects_file.display()
                );
                for (reason, count) in &report.rejects_by_reason {
                    println!("  {count:>10}  {reason}");
                }
                Ok(())
            }
            Command::Archive(args) => {
                let partitions = crate::medical::archive::archive(&args).await?;
                crate::medical::maintenance::print_archived(&partitions, args.dry_run);
                Ok(())
            }
            Command::Optimize(args) => crate::medical::maintenance::run_optimize(&args).await,
            Command::Jobs => crate::medical::maintenance::print_jobs(),
            Command::Sql(args) => crate::commands::sql::execute(args).await,
            Command::Tables(args) => crate::commands::catalog::tables(args).await,
            Command::Describe(args) => crate::commands::catalog::describe(args).await,
            Command::Explain(args) => crate::commands::explain::execute(args).await,
            Command::Runs(args) => crate::commands::runs::execute(args).await,
        }
    }
}

/// Generates the sample tables the job reads (accidents, or the medical lake) when `run` was given
/// no `--lake` and `./lake` lacks them.
fn ensure_sample_lake(job: &crate::plan::JobPlan, progress: bool) -> Result<()> {
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

/// The state of a Ballista job; failed jobs end with exit code 1, unknown ids with 2.
async fn status(args: &StatusArgs) -> Result<()> {
    let scheduler = cluster::SchedulerUrl::parse(&args.scheduler)?;
    match cluster::job_status(&scheduler, &args.job_id).await? {
        None => Err(Error::invalid(
            "JOB_ID",
            format!(
                "the scheduler at {scheduler} knows no job '{}' (finished jobs are forgotten after its --finished-job-state-clean-up-interval-seconds)",
                args.job_id
            ),
        )),
        Some(report) => match report.state {
            cluster::JobState::Failed { error } => Err(Error::JobFailed {
                job: report.job_id,
                message: error.lines().next().unwrap_or_default().to_string(),
            }),
            state => {
                println!("{} {state}", report.job_id);
                Ok(())
            }
        },
    }
}

/// Runs a job embedded (`scheduler` is `None`) or on the cluster of `scheduler`, cancelling its
/// Ballista jobs after `job_timeout` and running a query at most `attempts` times when its job
/// is lost with an executor.
async fn run(
    args: RunArgs,
    scheduler: Option<&str>,
    job_timeout: Option<Duration>,
    attempts: u32,
) -> Result<()> {
    if crate::medical::maintenance::is_maintenance_job(&args.job) {
        let lake = args.lake.as_deref();
        return crate::medical::maintenance::run_as_job(&args.job, lake, &args.sink, args.dry_run)
            .await;
    }
    let job = find_job(&args.job)?;
    let mut params = job.params.clone();
    for assignment in &args.set {
        params
            .set(assignment)
            .map_err(|message| Error::invalid("--set", message))?;
    }
    let period = args.options.apply(&job, &mut params)?;
    if let Some(period) = period {
        tracing::info!(period = %period, periods = period.periods(), "period selected");
    }
    if args.dry_run {
        return crate::commands::dry_run::execute_run(&job, &params, &args, scheduler).await;
    }
    let mut sink = match scheduler {
        Some(_) => open_sink(&absolute_location(&args.sink)?)?,
        None => open_sink(&args.sink)?,
    };
    let progress = !args.no_progress;
    let lake = match args.lake {
        Some(lake) => lake,
        None => {
            ensure_sample_lake(&job, progress)?;
            DEFAULT_LAKE.to_string()
        }
    };
    // resource_limits.yaml: an embedded run gets one executor's memory pool; a submitted job's
    // shuffles get as many partitions as the task slots it is sized for.
    let limits = crate::medical::config::BatchConfig::load(None)?;
    let (ctx, tracker, lake) = match scheduler {
        None => {
            let ctx = embedded_engine(args.parallelism, &limits)?;
            (ctx, None, lake)
        }
        Some(url) => {
            let partitions = args.parallelism.or_else(|| {
                limits
                    .resources(&job.name)
                    .and_then(|r| r.executor_slots)
                    .and_then(|n| usize::try_from(n).ok())
            });
            tracing::debug!(partitions, "shuffle partitions of the job's queries");
            let (ctx, tracker) =
                session::tracked_remote_context(url, job_timeout, partitions).await?;
            (ctx, Some(tracker), absolute_location(&lake)?)
        }
    };
    let request = RunRequest {
        lake,
        params,
        mode: args.options.mode().to_string(),
        progress,
        concurrency: usize::from(args.concurrency),
        // past the job timeout the tracker cancels the job, which then fails the query; the
        // client stops waiting a little later in any case
        query_timeout: job_timeout.map(|limit| limit + QUERY_TIMEOUT_GRACE),
        attempts,
    };
    let lock_wait = Duration::from_secs(args.lock_wait);
    let outcome = run_job_waiting(&ctx, &job, &request, sink.as_mut(), lock_wait).await;
    let job_ids = tracker.map(|t| t.job_ids()).unwrap_or_default();
    if outcome.is_err() && !job_ids.is_empty() {
        tracing::info!(jobs = %job_ids.join(" "), "Ballista jobs of the failed run");
    }
    let record = outcome?;
    let extra_files = write_outputs(&ctx, &job, &request.params, &args.options).await?;
    println!(
        "run {} of {} published to {} in {:.1} s",
        record.run_id,
        record.job,
        sink.describe(),
        record.duration_secs()
    );
    for (table, rows) in &record.rows_written {
        println!("  {table:<24} {rows:>12} rows");
    }
    println!(
        "  Silver rows read {}, rejected {}, completeness {}",
        record.rows_read,
        record.rows_rejected,
        record
            .data_quality_score
            .map_or("n/a".to_string(), |q| format!("{q:.2}%"))
    );
    if !job_ids.is_empty() {
        println!("  Ballista jobs: {}", job_ids.join(" "));
    }
    if let Some(first) = extra_files.first() {
        println!(
            "  {} report/export files written (first: {})",
            extra_files.len(),
            first.display()
        );
    }
    Ok(())
}
