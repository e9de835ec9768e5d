//! The `medallion` command line: argument definitions and what each command does.

use std::path::Path;

use clap::{Args, Parser, Subcommand};
use medallion_core::sink::open_sink;
use medallion_core::{Error, Result, session};

use crate::accidents::generate::{GenerateAccidentsArgs, generate_accidents};
use crate::accidents::ingest::{IngestAccidentsArgs, ingest_accidents};
use crate::logging::LogFormat;
use crate::plan::{all_jobs, find_job};
use crate::run::{RunRequest, run_job};

const EXAMPLES: &str = "\
Examples:
  medallion run accidents-datamart                       # embedded; generates ./lake if missing, Gold to ./gold
  medallion run accidents-datamart --lake /data/silver --sink file:///data/gold
  medallion generate accidents --rows 1000000 --format orc --out /data/silver
  medallion ingest accidents --input US_Accidents_March23.csv --out /data/silver
  medallion jobs

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
    /// Generate deterministic synthetic Silver data.
    #[command(subcommand)]
    Generate(GenerateCommand),
    /// Turn a Bronze file into Silver tables.
    #[command(subcommand)]
    Ingest(IngestCommand),
    /// List the job plans with their descriptions and parameters.
    Jobs,
}

/// What `medallion generate` can generate.
#[derive(Debug, Subcommand)]
pub enum GenerateCommand {
    /// Synthetic US-Accidents Silver data, partitioned by year.
    #[command(after_help = "Example:
  medallion generate accidents --rows 1000000 --seed 7 --format orc --out ./lake --bronze-csv bronze.csv")]
    Accidents(GenerateAccidentsArgs),
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
    /// Task slots of the embedded executor [default: the machine's cores].
    #[arg(long)]
    pub parallelism: Option<usize>,
    /// Hide the progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

/// Rows of generated sample data when `run` finds no lake.
const SAMPLE_ROWS: &str = "100000";
/// The lake folder `run` uses, and fills with sample data, when `--lake` is not given.
const DEFAULT_LAKE: &str = "lake";

impl Command {
    /// Runs the command.
    pub async fn execute(self) -> Result<()> {
        match self {
            Command::Run(args) => run(args).await,
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
            Command::Jobs => {
                for job in all_jobs()? {
                    println!("{:<24} {}", job.name, job.description);
                    println!("{:<24} parameters: {}", "", job.params.describe());
                }
                Ok(())
            }
        }
    }
}

/// Generates the sample lake when `run` was given no `--lake` and `./lake` has no accidents table.
fn ensure_sample_lake(progress: bool) -> Result<()> {
    if Path::new(DEFAULT_LAKE).join("accidents").exists() {
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

async fn run(args: RunArgs) -> Result<()> {
    let job = find_job(&args.job)?;
    let mut params = job.params.clone();
    for assignment in &args.set {
        params
            .set(assignment)
            .map_err(|message| Error::invalid("--set", message))?;
    }
    let mut sink = open_sink(&args.sink)?;
    let progress = !args.no_progress;
    let lake = match args.lake {
        Some(lake) => lake,
        None => {
            ensure_sample_lake(progress)?;
            DEFAULT_LAKE.to_string()
        }
    };
    let parallelism = args
        .parallelism
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let ctx = session::embedded_context(parallelism).await?;
    let request = RunRequest {
        lake,
        params,
        mode: "full".to_string(),
        progress,
    };
    let record = run_job(&ctx, &job, &request, sink.as_mut()).await?;
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
    Ok(())
}
