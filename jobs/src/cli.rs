//! The `medallion` command line: the commands, their arguments, and what each prints. The work is
//! done by the [runner](crate::runner) and the [commands](crate::commands).

use clap::{Parser, Subcommand};
use medallion_core::Result;

use crate::commands::status::StatusArgs;
use crate::lake_commands::{GenerateCommand, IngestCommand};
use crate::logging::LogFormat;
use crate::quality::Status;
use crate::run_args::{RunArgs, SubmitArgs};
use crate::runner::{self, PublishedRun, RunOutcome};

const EXAMPLES: &str = "\
Examples:
  medallion run accidents-datamart                       # embedded; generates ./lake if missing, Gold to ./gold
  medallion run accidents-datamart --lake /data/silver --sink file:///data/gold
  medallion submit accidents-datamart --scheduler df://sched:50050 --lake s3://bucket/silver --sink file:///shared/gold
  medallion status 3f9aZk1 --scheduler df://sched:50050
  medallion jobs --running --scheduler df://sched:50050
  medallion cancel 3f9aZk1 --scheduler df://sched:50050
  medallion ui --sink mysql://root:secret@db:3306/gold --scheduler df://sched:50050
  medallion generate accidents --rows 1000000 --format orc --out /data/silver
  medallion ingest accidents --input US_Accidents_March23.csv --out /data/silver
  medallion jobs
  medallion sql \"SELECT state, COUNT(*) FROM accidents GROUP BY state\" --lake ./lake
  medallion tables --lake ./lake
  medallion explain accidents-datamart
  medallion runs --sink file://gold
  medallion test accidents-datamart --lake ./lake        # check the data quality expectations, publish nothing

Exit codes: 0 ok, 1 job failed, 2 bad usage or input, 3 infrastructure unreachable, 4 run cancelled.
A run stopped by the data quality gate, or `medallion test` with a failed error expectation, is exit 1.";

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
    /// Check a job's data quality expectations, like `dbt test`: stage every Gold table, evaluate
    /// the expectations (job.toml, Gold SQL, --expect), print them, publish nothing; exit 1 when an
    /// error-level expectation fails.
    #[command(after_help = "Examples:
  medallion test accidents-datamart --lake ./lake
  medallion test accidents-datamart --lake ./lake --sink mysql://u:p@db:3306/gold --expect extra.toml

Row count changes are compared with the last successful run recorded in the sink's pipeline_runs.")]
    Test(RunArgs),
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
    /// List the job plans with their descriptions and parameters; with --running, the Ballista
    /// jobs queued or running on a scheduler, with their stage progress.
    #[command(after_help = "Examples:
  medallion jobs
  medallion jobs --running --scheduler df://sched:50050")]
    Jobs(crate::commands::jobs::JobsArgs),
    /// Cancel a Ballista job: its `medallion submit` run stops, publishes nothing, records
    /// `cancelled` in pipeline_runs and exits with code 4.
    #[command(after_help = "Example:
  medallion jobs --running --scheduler df://sched:50050     # the job ids
  medallion cancel Zk3f9aQ --scheduler df://sched:50050

Exit code 2 when the job has already ended or the scheduler does not know it.")]
    Cancel(crate::commands::cancel::CancelArgs),
    /// Serve a read-only web page of the batch jobs: each job's last runs (status, duration and
    /// quality over time), failures with their error line, running Ballista jobs with their stage
    /// progress, and each run's Gold tables with their row counts.
    #[command(after_help = crate::ui::EXAMPLES)]
    Ui(crate::ui::UiArgs),
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

impl Command {
    /// Runs the command.
    pub async fn execute(self) -> Result<()> {
        match self {
            Command::Run(args) => print_outcome(runner::run(args.into_config(None)).await?),
            Command::Submit(args) => print_outcome(runner::run(args.into_config()).await?),
            Command::Test(args) => {
                let mut config = args.into_config(None);
                config.check_only = true;
                let job = config.job.clone();
                let RunOutcome::Tested(outcomes) = runner::run(config).await? else {
                    return Ok(());
                };
                println!("{}", crate::quality::report::table(&outcomes));
                match crate::quality::gate_error(&job, &outcomes) {
                    Some(e) => Err(e),
                    None => Ok(()),
                }
            }
            Command::Status(args) => crate::commands::status::execute(&args).await,
            Command::Generate(command) => command.execute(),
            Command::Ingest(command) => command.execute(),
            Command::Archive(args) => {
                let partitions = crate::medical::archive::archive(&args).await?;
                crate::medical::maintenance::print_archived(&partitions, args.dry_run);
                Ok(())
            }
            Command::Optimize(args) => crate::medical::maintenance::run_optimize(&args).await,
            Command::Jobs(args) => crate::commands::jobs::execute(&args).await,
            Command::Cancel(args) => crate::commands::cancel::execute(&args).await,
            Command::Ui(args) => crate::ui::serve(args).await,
            Command::Sql(args) => crate::commands::sql::execute(args).await,
            Command::Tables(args) => crate::commands::catalog::tables(args).await,
            Command::Describe(args) => crate::commands::catalog::describe(args).await,
            Command::Explain(args) => crate::commands::explain::execute(args).await,
            Command::Runs(args) => crate::commands::runs::execute(args).await,
        }
    }
}

/// Prints what a run did: its published tables and rows, its Ballista jobs and extra files.
fn print_outcome(outcome: RunOutcome) -> Result<()> {
    let RunOutcome::Published(run) = outcome else {
        return Ok(());
    };
    let PublishedRun {
        record,
        sink,
        ballista_jobs: job_ids,
        extra_files,
        quality,
    } = *run;
    println!(
        "run {} of {} published to {} in {:.1} s",
        record.run_id,
        record.job,
        sink,
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
    if !quality.is_empty() {
        let count = |s: Status| quality.iter().filter(|o| o.status == s).count();
        println!(
            "  data quality: {} expectations, {} pass, {} warn, {} skipped",
            quality.len(),
            count(Status::Pass),
            count(Status::Warn),
            count(Status::Skipped)
        );
        for warned in quality.iter().filter(|o| o.status == Status::Warn) {
            println!("  warning: {}", warned.summary());
        }
    }
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
