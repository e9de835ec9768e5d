//! Logging of the long-running services (medallion-scheduler, medallion-executor): `RUST_LOG`,
//! else Ballista's `--log-level-setting`; plain text or one JSON object per line; to stderr, or to
//! a rolling file under Ballista's `--log-dir`.

use ballista_core::config::LogRotationPolicy;
use tracing_appender::rolling;
use tracing_subscriber::EnvFilter;

/// The log line format (`--log-format`) of every medallion process.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Plain text lines.
    Human,
    /// One JSON object per line (timestamp, level, message and the event's fields).
    Json,
}

/// Where and how a service logs: its Ballista logging flags plus `--log-format`.
#[derive(Debug, Clone)]
pub struct ServiceLogging<'a> {
    /// The default level filter (`--log-level-setting`), when `RUST_LOG` is not set.
    pub level: &'a str,
    /// Show thread names and ids (`--print-thread-info`).
    pub thread_info: bool,
    /// Write to rolling files in this folder (`--log-dir`) instead of stderr.
    pub log_dir: Option<&'a str>,
    /// How often a new log file starts (`--log-rotation-policy`).
    pub rotation: LogRotationPolicy,
    /// The log files' name prefix, e.g. `executor_HOST_PORT`.
    pub file_prefix: String,
    /// Line format.
    pub format: LogFormat,
}

impl ServiceLogging<'_> {
    /// Installs the global log subscriber; warns on stderr when one is already installed.
    pub fn init(self) {
        let filter =
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(self.level));
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(false)
            .with_thread_names(self.thread_info)
            .with_thread_ids(self.thread_info);
        let json = self.format == LogFormat::Json;
        let result = match self.log_dir {
            Some(dir) => {
                let prefix = self.file_prefix;
                let file = match self.rotation {
                    LogRotationPolicy::Minutely => rolling::minutely(dir, prefix),
                    LogRotationPolicy::Hourly => rolling::hourly(dir, prefix),
                    LogRotationPolicy::Daily => rolling::daily(dir, prefix),
                    LogRotationPolicy::Never => rolling::never(dir, prefix),
                };
                let builder = builder.with_writer(file);
                if json {
                    builder.json().flatten_event(true).try_init()
                } else {
                    builder.try_init()
                }
            }
            None => {
                let builder = builder.with_writer(std::io::stderr);
                if json {
                    builder.json().flatten_event(true).try_init()
                } else {
                    builder.try_init()
                }
            }
        };
        if let Err(e) = result {
            eprintln!("warning: logging not set up: {e}");
        }
    }
}
