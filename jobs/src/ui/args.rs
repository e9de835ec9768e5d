//! The command line of `medallion ui`.

use std::net::IpAddr;

use clap::Args;

/// The examples of `medallion ui --help`.
pub const EXAMPLES: &str = "Examples:
  medallion ui                                              # file://gold on http://127.0.0.1:8080
  medallion ui --sink mysql://reader:secret@db:3306/gold --scheduler df://sched:50050
  medallion ui --sink file:///shared/gold --bind 0.0.0.0 --port 9090

Read-only: the page reads pipeline_runs and the scheduler's REST API, and writes nothing. It binds to
127.0.0.1 unless --bind says otherwise; it has no authentication, so keep it on a trusted network or
behind a proxy that has.";

/// Arguments of `medallion ui`.
#[derive(Debug, Clone, Args)]
pub struct UiArgs {
    /// The sink whose runs to show: file://DIR or mysql://user:pass@host:port/db.
    #[arg(long, env = "MEDALLION_SINK", default_value = "file://gold")]
    pub sink: String,
    /// The Ballista scheduler whose running jobs to show, df://HOST:PORT (its REST API shares the
    /// port); without it the page shows recorded runs only.
    #[arg(long, env = "MEDALLION_SCHEDULER")]
    pub scheduler: Option<String>,
    /// The address to listen on.
    #[arg(long, env = "MEDALLION_UI_BIND", default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// The port to listen on (0 picks a free one, printed at start).
    #[arg(long, env = "MEDALLION_UI_PORT", default_value_t = 8080)]
    pub port: u16,
    /// How many of each job's latest runs the charts show.
    #[arg(long, default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub runs_per_job: u32,
}
