//! The one error type of medallion: each variant names what the user did or what failed, and maps to
//! the CLI's exit code.

use std::path::PathBuf;

use datafusion::error::DataFusionError;

/// Result alias used across medallion.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can end a medallion command, in words a data engineer can act on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A command-line argument or configuration value is wrong.
    #[error("invalid {what}: {message}")]
    InvalidArgument {
        /// The flag, setting or argument at fault (e.g. `--rows`).
        what: String,
        /// What is wrong with it.
        message: String,
    },
    /// A job name that no job plan has.
    #[error("unknown job '{name}' (known jobs: {known})")]
    UnknownJob {
        /// The name given.
        name: String,
        /// The names that exist, comma-separated.
        known: String,
    },
    /// The lake root or one of its tables does not exist.
    #[error("lake table '{table}' not found at {location}")]
    LakeNotFound {
        /// The table looked for.
        table: String,
        /// Where it was looked for.
        location: String,
    },
    /// A lake table lacks a column the job needs, or has it with the wrong type.
    #[error("{location}: {message}")]
    SchemaMismatch {
        /// The file or table at fault.
        location: String,
        /// What is missing or mistyped.
        message: String,
    },
    /// A data file could not be read or decoded.
    #[error("corrupt or unreadable file {location}: {message}")]
    CorruptFile {
        /// The file at fault.
        location: String,
        /// The decoder's message.
        message: String,
    },
    /// A lake table could not be opened (a corrupt file, files disagreeing on the schema, an
    /// unreachable folder): a statement naming it fails with the reason, the rest of the lake is
    /// served as usual.
    #[error("lake table '{table}' cannot be read: {cause}")]
    TableUnreadable {
        /// The table's SQL name.
        table: String,
        /// Why it could not be opened (shared by every statement that names it).
        #[source]
        cause: std::sync::Arc<Error>,
    },
    /// A local file or folder could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done (`reading`, `writing`, `creating`, ...).
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A server (MySQL, S3, scheduler) could not be reached.
    #[error("cannot reach {what} at {location}: {message}")]
    Unreachable {
        /// The kind of server.
        what: &'static str,
        /// Where it was expected (credentials masked).
        location: String,
        /// The client's message.
        message: String,
    },
    /// A query or plan failed inside the engine.
    #[error("{context}: {source}")]
    Engine {
        /// What medallion was doing.
        context: String,
        /// The engine's error.
        #[source]
        source: Box<DataFusionError>,
    },
    /// A statement on a MySQL server failed (the server's error kept as the source).
    #[error("{context}: {source}")]
    MySql {
        /// What medallion was doing.
        context: String,
        /// The server's (or the client library's) error.
        #[source]
        source: Box<mysql_async::Error>,
    },
    /// A job ran but failed.
    #[error("job '{job}' failed: {message}")]
    JobFailed {
        /// The job name.
        job: String,
        /// Why.
        message: String,
    },
    /// A run stopped because one of its Ballista jobs was cancelled from outside the run
    /// (`medallion cancel`); nothing was published.
    #[error("job '{job}' cancelled: {message}")]
    JobCancelled {
        /// The job name.
        job: String,
        /// Which Ballista job was cancelled, and what the run did.
        message: String,
    },
}

impl Error {
    /// The process exit code for this error: 1 job failed, 2 bad usage or input, 3 infrastructure
    /// unreachable, 4 run cancelled.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::InvalidArgument { .. }
            | Error::UnknownJob { .. }
            | Error::LakeNotFound { .. }
            | Error::SchemaMismatch { .. }
            | Error::CorruptFile { .. }
            | Error::Io { .. } => 2,
            Error::Unreachable { .. } => 3,
            Error::TableUnreadable { cause, .. } => cause.exit_code(),
            Error::Engine { .. } | Error::MySql { .. } | Error::JobFailed { .. } => 1,
            Error::JobCancelled { .. } => 4,
        }
    }

    /// Wraps an engine error with what medallion was doing when it happened.
    pub fn engine(context: impl Into<String>, source: DataFusionError) -> Self {
        Error::Engine {
            context: context.into(),
            source: Box::new(source),
        }
    }

    /// An [`Error::Io`] for `path`.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// The unreadable lake table or corrupt lake file somewhere in `error`'s chain of causes (as
    /// [`crate::lake_tables`] and [`crate::named_scan`] raise them inside the engine), so that a
    /// failed query reports it as bad input naming the table or file.
    pub fn bad_lake_data_in(error: &(dyn std::error::Error + 'static)) -> Option<Self> {
        let mut cause = Some(error);
        while let Some(e) = cause {
            match e.downcast_ref::<Error>() {
                Some(Error::CorruptFile { location, message }) => {
                    return Some(Error::CorruptFile {
                        location: location.clone(),
                        message: message.clone(),
                    });
                }
                Some(Error::TableUnreadable { table, cause }) => {
                    return Some(Error::TableUnreadable {
                        table: table.clone(),
                        cause: std::sync::Arc::clone(cause),
                    });
                }
                _ => cause = e.source(),
            }
        }
        None
    }

    /// An [`Error::InvalidArgument`].
    pub fn invalid(what: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidArgument {
            what: what.into(),
            message: message.into(),
        }
    }
}

/// The first line of `text`: the one-line form of an error message that a library spreads over
/// several lines (a backtrace, a remote status's details), for messages that must fit one line.
pub fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_documented_table() {
        assert_eq!(Error::invalid("--rows", "must be > 0").exit_code(), 2);
        let unreachable = Error::Unreachable {
            what: "MySQL",
            location: "127.0.0.1:1".into(),
            message: "refused".into(),
        };
        assert_eq!(unreachable.exit_code(), 3);
        let failed = Error::JobFailed {
            job: "j".into(),
            message: "m".into(),
        };
        assert_eq!(failed.exit_code(), 1);
        let cancelled = Error::JobCancelled {
            job: "j".into(),
            message: "m".into(),
        };
        assert_eq!(cancelled.exit_code(), 4);
    }

    #[test]
    fn messages_name_what_is_wrong() {
        let e = Error::LakeNotFound {
            table: "accidents".into(),
            location: "/nope/accidents".into(),
        };
        assert_eq!(
            e.to_string(),
            "lake table 'accidents' not found at /nope/accidents"
        );
    }
}
