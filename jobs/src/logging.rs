//! Logging: human-readable by default, one JSON object per line with `--log-format json`.
//! `RUST_LOG` overrides the level filter.

use std::io::IsTerminal;

use clap::ValueEnum;
use tracing_subscriber::EnvFilter;

/// The log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Plain text lines.
    Human,
    /// One JSON object per line (timestamp, level, message and fields).
    Json,
}

/// Installs the global subscriber, writing to stderr. `verbose` lowers the default level to debug
/// and shows the embedded scheduler's and executor's own logs, which are off by default because the
/// client reports every job failure itself.
pub fn init(format: LogFormat, verbose: bool) {
    let default = if verbose {
        "info,medallion=debug,medallion_core=debug,medallion_jobs=debug"
    } else {
        "warn,ballista_scheduler=off,ballista_executor=off,medallion=info,medallion_core=info,medallion_jobs=info"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false);
    let _ = match format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
