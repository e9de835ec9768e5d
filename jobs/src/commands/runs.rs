//! `medallion runs`: the latest rows of `pipeline_runs` from a sink, newest first, as the sink
//! reads them ([`GoldSink::recent_runs`](medallion_core::sink::GoldSink::recent_runs)).

use clap::Args;
use medallion_core::sink::{open_sink, runs_schema};
use medallion_core::{Error, Result};

use super::output::{OutputArgs, ResultWriter};

/// Arguments of `medallion runs`.
#[derive(Debug, Args)]
pub struct RunsArgs {
    /// The sink whose runs to show: file://DIR or mysql://user:pass@host:port/db.
    #[arg(long, env = "MEDALLION_SINK", default_value = "file://gold")]
    pub sink: String,
    /// How many runs, newest first.
    #[arg(long, default_value_t = 20)]
    pub limit: u32,
    /// Only the runs of this job.
    #[arg(long)]
    pub job: Option<String>,
    /// Output options.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `medallion runs`.
pub async fn execute(args: RunsArgs) -> Result<()> {
    if args.limit == 0 {
        return Err(Error::invalid("--limit", "must be at least 1"));
    }
    let mut writer = ResultWriter::new(&args.output)?;
    let sink = open_sink(&args.sink)?;
    let batches = sink.recent_runs(args.job.as_deref(), args.limit).await?;
    if batches.iter().all(|b| b.num_rows() == 0) {
        eprintln!("no runs recorded in {}", sink.describe());
    }
    writer.write_batches(runs_schema(), &batches).await?;
    writer.finish()
}
