//! `medallion sql`: ad-hoc SQL over the lake catalog, with medallion's UDFs, on the embedded
//! cluster or on a Ballista scheduler. Statements separated by `;` run in order; results go to
//! stdout or a file as a table, CSV, JSON lines or Parquet. Without SQL, an interactive shell on a
//! terminal, or the statements read from stdin.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use datafusion::prelude::SessionContext;
use medallion_core::read_guard::{self, ReadRoots};
use medallion_core::{Error, Result, session};

use super::output::{OutputArgs, OutputFormat, ResultWriter};
use super::statements::run_sql;
use super::{LakeArgs, shell};
use crate::config::BatchConfig;
use crate::embedded::embedded_engine;

/// The examples of `medallion sql --help`.
pub const EXAMPLES: &str = "\
Examples:
  medallion sql \"SELECT state, COUNT(*) AS n FROM accidents GROUP BY state ORDER BY n DESC LIMIT 5\"
  medallion sql \"SELECT danger_index(2.5, 120), haversine_miles(40.7, -74.0, 34.05, -118.24)\"
  medallion sql --lake s3://bucket/silver --format csv \"SELECT * FROM accidents LIMIT 10\" > sample.csv
  medallion sql --format parquet --output ca.parquet \"SELECT * FROM accidents WHERE state = 'CA'\"
  medallion sql --scheduler df://sched:50050 \"CREATE VIEW ca AS SELECT * FROM accidents WHERE state = 'CA'; SELECT COUNT(*) FROM ca\"
  medallion sql < report.sql                          # statements from stdin
  medallion sql                                       # interactive shell (\\d lists tables, \\q quits)

Tables: every subfolder of --lake (default ./lake) holding .parquet/.orc files, and the tables of
--catalog (default ./medallion.toml). The same tables and UDFs are served to Flight SQL clients
(ADBC, JDBC) by `medallion-scheduler --lake DIR|URL` or `--catalog FILE`. Exit codes: 0 ok, 1 query failed while running, 2 bad SQL,
table or option, 3 scheduler or storage unreachable.";

/// Arguments of `medallion sql`.
#[derive(Debug, Args)]
pub struct SqlArgs {
    /// The SQL to run; statements separated by `;` run in order. Without it: an interactive shell
    /// when stdin is a terminal, else the statements read from stdin.
    pub sql: Option<String>,
    /// Read the SQL from FILE.
    #[arg(long, short = 'f', value_name = "FILE", conflicts_with = "sql")]
    pub file: Option<PathBuf>,
    /// Where the tables are.
    #[command(flatten)]
    pub lake: LakeArgs,
    /// Run on the Ballista scheduler at df://HOST:PORT (lake URLs must then be reachable from the
    /// executors, e.g. s3://); without it, the embedded engine runs the query in this process.
    #[arg(long, env = "MEDALLION_SCHEDULER", value_name = "df://HOST:PORT")]
    pub scheduler: Option<String>,
    /// Partitions the embedded engine works on in parallel [default: the machine's cores].
    #[arg(long)]
    pub parallelism: Option<usize>,
    /// Memory of the embedded engine (e.g. 1Gi), as for `medallion run --memory`: its pool is
    /// `memory_pool_fraction` of it [default: one executor's memory limit].
    #[arg(long, env = "MEDALLION_MEMORY", value_name = "QUANTITY")]
    pub memory: Option<String>,
    /// Read the lake's folders and nothing else, and write nothing: CREATE EXTERNAL TABLE
    /// elsewhere, scans of other files, INSERT and COPY are refused (as for Flight SQL clients of
    /// a scheduler). Without it, `medallion sql` reads and writes what its user can.
    #[arg(long)]
    pub read_only: bool,
    /// Output options.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// A client context: connected to `scheduler`, or the embedded engine with `parallelism`
/// partitions and the memory pool of `memory` or of one executor (resource_limits.yaml), as
/// `medallion run` has.
pub async fn connect(
    scheduler: Option<&str>,
    parallelism: Option<usize>,
    memory: Option<&str>,
) -> Result<SessionContext> {
    match scheduler {
        Some(url) => session::remote_context(url).await,
        None => embedded_engine(parallelism, memory, &BatchConfig::load(None)?),
    }
}

/// `medallion sql`.
pub async fn execute(args: SqlArgs) -> Result<()> {
    let sql = match (&args.sql, &args.file) {
        (Some(sql), _) => Some(sql.clone()),
        (None, Some(path)) => {
            Some(std::fs::read_to_string(path).map_err(|e| Error::io("reading", path, e))?)
        }
        (None, None) if std::io::stdin().is_terminal() => None,
        (None, None) => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| Error::io("reading", "stdin", e))?;
            Some(text)
        }
    };
    if sql.is_none() && args.output.output.is_some() {
        return Err(Error::invalid(
            "--output",
            "needs SQL (an argument, --file or stdin), not the interactive shell",
        ));
    }
    if sql.is_none() && args.output.format == OutputFormat::Parquet {
        return Err(Error::invalid(
            "--format parquet",
            "needs SQL and --output FILE",
        ));
    }
    // Check the output options before starting anything.
    let mut writer = match &sql {
        Some(_) => Some(ResultWriter::new(&args.output)?),
        None => None,
    };
    let mut ctx = connect(
        args.scheduler.as_deref(),
        args.parallelism,
        args.memory.as_deref(),
    )
    .await?;
    if args.read_only {
        let roots = Arc::new(ReadRoots::from_catalog(
            &args.lake.catalog()?,
            None::<&str>,
        )?);
        ctx = SessionContext::new_with_state(read_guard::read_only(&roots, ctx.state()));
    }
    let tables = args.lake.register(&ctx).await?;
    match (sql, writer.take()) {
        (Some(sql), Some(mut writer)) => {
            writer.report_rows =
                std::io::stderr().is_terminal() && args.output.format == OutputFormat::Table;
            run_sql(&ctx, &sql, &mut writer).await?;
            writer.finish()
        }
        _ => shell::run(&ctx, &tables, args.output.format).await,
    }
}
