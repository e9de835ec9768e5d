//! `medallion-scheduler`: Ballista's scheduler with medallion's session (UDFs, object stores) and
//! plan codecs (ORC, MySQL sink), so the plans a `medallion submit` sends can be planned here.
//!
//! The command line is Ballista's own scheduler `Config` (every `ballista-scheduler` flag works the
//! same) plus `--log-format`, `--lake` and `--catalog`; the main binary only parses it, sets up
//! logging and calls [`run`].
//!
//! With `--flight-sql` (implied by `--lake`/`--catalog`) the scheduler port also serves Arrow
//! Flight SQL: each client session is built by [`session_builder_with_lake`], so it has medallion's
//! UDFs and object stores and sees the lake catalog's tables (opened once at start-up and shared).
//! Sessions read the lake and nothing else ([`ReadRoots`]: the catalog's folders plus
//! `--allow-read`), and clients authenticate against `--flight-sql-users` (an htpasswd file, see
//! [`users`]) unless `--flight-sql-anonymous` says otherwise.

pub mod flight_sql_tls;
pub mod history;
pub mod tls;
pub mod users;

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;

use ballista_core::error::BallistaError;
use ballista_core::extension::SessionConfigExt;
use ballista_scheduler::SessionBuilder;
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::{Config, SchedulerConfig};
use ballista_scheduler::scheduler_process::start_server;
use clap::{CommandFactory, FromArgMatches, Parser};
use datafusion::error::DataFusionError;
use datafusion::execution::SessionState;
use datafusion::prelude::SessionConfig;
use medallion_core::catalog::{LakeCatalog, LakeTables};
use medallion_core::codec::{MedallionLogicalCodec, MedallionPhysicalCodec};
use medallion_core::read_guard::ReadRoots;
pub use medallion_core::service_logging::LogFormat;
use medallion_core::service_logging::ServiceLogging;
use medallion_core::session;
use tls::{TlsFileError, TlsFlags};
use users::{HtpasswdUsers, UsersFileError};

pub mod liveness;
pub mod metrics;
pub mod process;

const ABOUT: &str = "medallion's Ballista scheduler: plans the jobs `medallion submit` sends and hands \
their tasks to `medallion-executor` processes. Carries medallion's UDFs, ORC/MySQL plan codecs and \
lake object stores (file://, s3://, hdfs://).";

const EXAMPLES: &str = "\
Examples:
  medallion-scheduler                                   # gRPC on 0.0.0.0:50050
  medallion-scheduler --bind-host 127.0.0.1 --bind-port 50050 --log-format json
  MEDALLION_SCHEDULER_PORT=6000 medallion-scheduler --executor-timeout-seconds 60

  medallion-scheduler --lake s3://bucket/silver           # + Arrow Flight SQL on the same port
  medallion-scheduler --catalog /etc/medallion/medallion.toml --flight-sql
  medallion-scheduler --event-log-dir /var/lib/medallion/events   # + job history on :50060

The same port serves Ballista's REST API (/api/jobs, /api/executors, PATCH /api/job/ID cancels)
and its Prometheus metrics: curl http://sched.example:50050/api/metrics

Then start executors and submit:
  medallion-executor --scheduler-host sched.example --scheduler-port 50050 --vcores 4
  medallion submit accidents-datamart --scheduler df://sched.example:50050 --lake s3://bucket/silver

Flight SQL clients (ADBC, JDBC, DBeaver...) connect to grpc://sched.example:50050 with a user
of --flight-sql-users (an htpasswd file: `htpasswd -B -c users.htpasswd analyst`) and query the lake
tables with every medallion UDF, e.g. in Python with adbc_driver_flightsql:
  import adbc_driver_flightsql.dbapi as flight_sql
  with flight_sql.connect(\"grpc://sched.example:50050\",
          db_kwargs={\"username\": \"analyst\", \"password\": \"...\"}) as conn, conn.cursor() as cur:
      cur.execute(\"SELECT danger_index(3, 10) AS d, count(*) FROM accidents\")
      print(cur.fetch_arrow_table())
The REST API (GET /api/jobs, /api/job/{id}/stages, PATCH /api/job/{id} to cancel: `medallion jobs
--running`, `medallion cancel`, `medallion ui`) is served on the scheduler port. With --event-log-dir
every job is also written to DIR/<job_id>.eventlog and Ballista's history API (the same GET routes,
finished jobs only) is served on --history-port (default 50060): it survives scheduler restarts.

Sessions read the lake's folders only (plus --allow-read): CREATE EXTERNAL TABLE elsewhere, or a plan
scanning a file elsewhere, is refused. With --tls-cert/--tls-key Flight SQL is served over TLS only,
on --flight-sql-port (default 32010; clients connect to grpc+tls://sched.example:32010), and the
scheduler port serves executors and `medallion submit` only (plaintext: keep it on the cluster network).

Environment:
  MEDALLION_SCHEDULER_BIND_HOST, MEDALLION_SCHEDULER_PORT, MEDALLION_SCHEDULER_EXTERNAL_HOST,
  MEDALLION_SCHEDULER_LAKE, MEDALLION_SCHEDULER_CATALOG, MEDALLION_SCHEDULER_ALLOW_READ (comma-
  separated), MEDALLION_FLIGHT_SQL_USERS, MEDALLION_SCHEDULER_TLS_CERT, MEDALLION_SCHEDULER_TLS_KEY,
  MEDALLION_FLIGHT_SQL_PORT, MEDALLION_SCHEDULER_EVENT_LOG_DIR, MEDALLION_HISTORY_PORT stand for
  --bind-host, --bind-port, --external-host, --lake, --catalog, --allow-read, --flight-sql-users,
  --tls-cert, --tls-key, --flight-sql-port, --event-log-dir, --history-port. RUST_LOG overrides
  --log-level-setting.
  S3: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL or MEDALLION_S3_ENDPOINT.
  HDFS: HADOOP_CONF_DIR for name services.";

/// Environment variables standing for Ballista flags: (argument id, variable).
const ENV_FLAGS: [(&str, &str); 4] = [
    ("bind_host", "MEDALLION_SCHEDULER_BIND_HOST"),
    ("bind_port", "MEDALLION_SCHEDULER_PORT"),
    ("external_host", "MEDALLION_SCHEDULER_EXTERNAL_HOST"),
    ("event_log_dir", "MEDALLION_SCHEDULER_EVENT_LOG_DIR"),
];

/// What can stop the scheduler.
#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    /// `--bind-host`/`--bind-port` do not name an address to listen on.
    #[error("cannot listen on {address}: {message}")]
    InvalidAddress {
        /// The address given.
        address: String,
        /// Why it is unusable.
        message: String,
    },
    /// Ballista refused the configuration or the server stopped with an error.
    #[error("scheduler: {0}")]
    Ballista(#[from] BallistaError),
    /// The lake catalog (`--lake`, `--catalog`) could not be read or opened.
    #[error("lake catalog: {0}")]
    Lake(#[from] medallion_core::Error),
    /// The Flight SQL users file (`--flight-sql-users`) cannot be used.
    #[error("--flight-sql-users {0}")]
    Users(#[from] UsersFileError),
    /// The `--tls-cert`/`--tls-key` files cannot be used.
    #[error("TLS {0}")]
    Tls(#[from] TlsFileError),
    /// The job history of `--event-log-dir` cannot be served.
    #[error("{0}")]
    History(#[from] history::HistoryError),
    /// Flight SQL is served without a users file and without `--flight-sql-anonymous`.
    #[error(
        "Flight SQL needs --flight-sql-users FILE (an htpasswd file of bcrypt hashes), or \
         --flight-sql-anonymous to let any client in"
    )]
    NoUsers,
}

impl SchedulerError {
    /// The process exit code: 2 for bad flags or catalog, 3 for an unreachable lake store, 1
    /// otherwise (the medallion CLI's convention).
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::InvalidAddress { .. }
            | Self::Users(_)
            | Self::Tls(_)
            | Self::NoUsers
            | Self::History(_) => 2,
            Self::Lake(e) => u8::try_from(e.exit_code()).unwrap_or(1),
            Self::Ballista(_) => 1,
        }
    }
}

/// Where the lake tables that Flight SQL clients query come from. Either flag turns on
/// `--flight-sql`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LakeFlags {
    /// Lake root served over Flight SQL: every immediate subfolder holding .parquet or .orc files
    /// is a table named after it (a local folder, file://, s3://bucket/prefix or
    /// hdfs://namenode:port/path). Implies --flight-sql.
    #[arg(long, env = "MEDALLION_SCHEDULER_LAKE", value_name = "DIR|URL")]
    pub lake: Option<String>,
    /// Catalog file (medallion.toml) mapping table names to folders, formats and partition
    /// columns, served over Flight SQL; --lake replaces its lake root. Implies --flight-sql.
    #[arg(long, env = "MEDALLION_SCHEDULER_CATALOG", value_name = "FILE")]
    pub catalog: Option<PathBuf>,
    /// A further folder sessions may read besides the lake's (repeatable; e.g. a Gold folder
    /// that `medallion submit` jobs read back). Everything else is refused.
    #[arg(
        long,
        env = "MEDALLION_SCHEDULER_ALLOW_READ",
        value_name = "DIR|URL",
        value_delimiter = ','
    )]
    pub allow_read: Vec<String>,
    /// Flight SQL users: an htpasswd file of bcrypt hashes (`htpasswd -B`). Clients send a user
    /// name and password in the Flight handshake and get a session of their own.
    #[arg(long, env = "MEDALLION_FLIGHT_SQL_USERS", value_name = "FILE")]
    pub flight_sql_users: Option<PathBuf>,
    /// Serve Flight SQL without authentication: any client that reaches the port may query the
    /// lake, all in one shared session. Only for a trusted network.
    #[arg(long, conflicts_with = "flight_sql_users")]
    pub flight_sql_anonymous: bool,
    /// How many seconds a Flight SQL session (its bearer token) may sit idle before it expires;
    /// the client then gets `Unauthenticated` and must handshake again.
    #[arg(
        long,
        env = "MEDALLION_FLIGHT_SQL_SESSION_TTL",
        value_name = "SECONDS",
        default_value_t = 1800,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub flight_sql_session_ttl: u64,
}

impl LakeFlags {
    /// The catalog the flags name (the file, its lake root replaced by `--lake`), or `None`
    /// when neither is given.
    pub fn catalog(&self) -> Result<Option<LakeCatalog>, SchedulerError> {
        let mut catalog = match &self.catalog {
            Some(path) => LakeCatalog::from_file(path)?,
            None if self.lake.is_none() => return Ok(None),
            None => LakeCatalog::default(),
        };
        match self.lake.as_deref() {
            Some("") => {
                return Err(medallion_core::Error::invalid("--lake", "empty").into());
            }
            Some(lake) => catalog.lake = Some(lake.to_string()),
            None => {}
        }
        Ok(Some(catalog))
    }

    /// The folders sessions may read: the catalog's (lake root and table folders) and
    /// `--allow-read`.
    pub fn read_roots(&self, catalog: &LakeCatalog) -> Result<ReadRoots, SchedulerError> {
        Ok(ReadRoots::from_catalog(catalog, &self.allow_read)?)
    }

    /// Who may query over Flight SQL: the users of `--flight-sql-users`, or `None` (anyone) with
    /// `--flight-sql-anonymous`; neither is an error.
    pub fn users(&self) -> Result<Option<HtpasswdUsers>, SchedulerError> {
        match (&self.flight_sql_users, self.flight_sql_anonymous) {
            (Some(path), _) => Ok(Some(HtpasswdUsers::from_file(path)?)),
            (None, true) => Ok(None),
            (None, false) => Err(SchedulerError::NoUsers),
        }
    }
}

/// What the scheduler serves over Flight SQL: the lake's tables, the folders sessions may read,
/// and who may connect.
#[derive(Debug, Clone)]
pub struct ServedLake {
    /// The catalog's tables, opened once.
    pub tables: Arc<LakeTables>,
    /// The folders a session may read.
    pub roots: Arc<ReadRoots>,
    /// The users; `None` lets any client in (`--flight-sql-anonymous`).
    pub users: Option<HtpasswdUsers>,
    /// How long a session may sit idle before its token expires.
    pub session_ttl: std::time::Duration,
}

/// The scheduler's command line: Ballista's scheduler flags plus medallion's.
#[derive(Debug, Parser)]
#[command(name = "medallion-scheduler")]
pub struct SchedulerArgs {
    /// Log line format.
    #[arg(long, value_enum, default_value = "human")]
    pub log_format: LogFormat,
    /// The lake catalog served over Flight SQL.
    #[command(flatten)]
    pub lake: LakeFlags,
    /// Flight SQL over TLS.
    #[command(flatten)]
    pub tls: TlsFlags,
    /// The job history of --event-log-dir.
    #[command(flatten)]
    pub history: history::HistoryFlags,
    /// Ballista's scheduler flags.
    #[command(flatten)]
    pub ballista: Config,
}

impl SchedulerArgs {
    /// The clap command: Ballista's flags with medallion's help text and environment variables.
    pub fn command_with_env() -> clap::Command {
        ENV_FLAGS.iter().fold(
            liveness::with_fast_detection(Self::command())
                .name("medallion-scheduler")
                .version(env!("CARGO_PKG_VERSION"))
                .about(ABOUT)
                .after_help(EXAMPLES),
            |command, (id, var)| command.mut_arg(*id, |arg| arg.env(*var)),
        )
    }

    /// Parses `args` (the program name first), exiting with clap's message on bad usage.
    pub fn parse_with_env<I, T>(args: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let matches = Self::command_with_env().get_matches_from(args);
        match Self::from_arg_matches(&matches) {
            Ok(parsed) => parsed,
            Err(e) => e.exit(),
        }
    }

    /// The socket address to listen on (`--bind-host`, `--bind-port`; a host name is resolved).
    pub fn listen_address(&self) -> Result<SocketAddr, SchedulerError> {
        let address = format!("{}:{}", self.ballista.bind_host, self.ballista.bind_port);
        let invalid = |message: String| SchedulerError::InvalidAddress {
            address: address.clone(),
            message,
        };
        (self.ballista.bind_host.as_str(), self.ballista.bind_port)
            .to_socket_addrs()
            .map_err(|e| invalid(e.to_string()))?
            .next()
            .ok_or_else(|| invalid("the host resolves to no address".to_string()))
    }
}

/// Builds each client session's state on the scheduler: medallion's UDFs and object stores over
/// the configuration the client sent.
pub fn session_builder(config: SessionConfig) -> datafusion::error::Result<SessionState> {
    session::session_state_with_config(config).map_err(|e| DataFusionError::External(Box::new(e)))
}

/// The session builder of a scheduler: [`session_builder`], plus, when there is a lake, its
/// tables installed in each session's default schema (what Flight SQL clients query) and the
/// guard that refuses reading outside its folders ([`ReadRoots::guard_session`]).
pub fn session_builder_with_lake(lake: Option<ServedLake>) -> SessionBuilder {
    match lake {
        None => Arc::new(session_builder),
        Some(lake) => Arc::new(move |config| {
            let state = lake.roots.guard_session(session_builder(config)?);
            lake.tables
                .install(&state)
                .map_err(|e| DataFusionError::External(Box::new(e)))?;
            Ok(state)
        }),
    }
}

/// Ballista's scheduler configuration from the flags, with medallion's session configuration,
/// session builder and plan codecs installed.
pub fn scheduler_config(flags: Config) -> Result<SchedulerConfig, SchedulerError> {
    scheduler_config_with_lake(flags, None)
}

/// [`scheduler_config`] whose sessions see the tables of `lake` and read nothing else; with a
/// lake, Flight SQL is on, for its users.
pub fn scheduler_config_with_lake(
    flags: Config,
    lake: Option<ServedLake>,
) -> Result<SchedulerConfig, SchedulerError> {
    let mut config: SchedulerConfig = flags.try_into()?;
    if let Some(lake) = &lake {
        config = config.with_flight_sql(true);
        if let Some(users) = &lake.users {
            config = config.with_flight_sql_authenticator(Arc::new(users.clone()));
        }
        config = config.with_flight_sql_session_ttl(lake.session_ttl);
    }
    // Flight SQL sessions take the producer's configuration as it is (a `medallion submit`
    // client's settings override it). Ballista 55's Flight SQL frontend reads a result's schema
    // from "the stage without output links", which an adaptively planned job does not mark: it
    // would pick any stage (e.g. a partial aggregate's) and strict clients (ADBC) reject the
    // result. So Flight SQL sessions are planned with the static planner.
    let producer: ballista_core::ConfigProducer = if config.flight_sql_enabled() {
        Arc::new(|| session::session_config().with_ballista_adaptive_query_planner(false))
    } else {
        Arc::new(session::session_config)
    };
    config = config
        .with_override_config_producer(producer)
        .with_override_session_builder(session_builder_with_lake(lake));
    config.override_logical_codec = Some(Arc::new(MedallionLogicalCodec::default()));
    config.override_physical_codec = Some(Arc::new(MedallionPhysicalCodec::default()));
    Ok(config)
}

/// Runs the scheduler until it is stopped.
pub async fn run(args: SchedulerArgs) -> Result<(), SchedulerError> {
    let address = args.listen_address()?;
    let tls = args.tls.server_config()?;
    let lake = match args.lake.catalog()? {
        Some(catalog) => {
            let users = args.lake.users()?;
            let roots = args.lake.read_roots(&catalog)?;
            let tables = LakeTables::open(&catalog).await?;
            tracing::info!(
                tables = ?tables.names(),
                unreadable = ?tables.unreadable_names(),
                readable = ?roots.roots(),
                users = users.as_ref().map_or(0, HtpasswdUsers::len),
                anonymous = users.is_none(),
                "lake catalog opened for Flight SQL"
            );
            Some(ServedLake {
                tables: Arc::new(tables),
                roots: Arc::new(roots),
                users,
                session_ttl: std::time::Duration::from_secs(args.lake.flight_sql_session_ttl),
            })
        }
        None => None,
    };
    let authenticator = lake
        .as_ref()
        .and_then(|lake| lake.users.clone())
        .map(|users| Arc::new(users) as Arc<dyn ballista_flight_sql::Authenticator>);
    let flight_sql_tls = match (&tls, &lake) {
        (Some(tls), Some(_)) => Some(tls.clone()),
        _ => None,
    };
    if let Some(dir) = &args.ballista.event_log_dir {
        let history_address = SocketAddr::new(address.ip(), args.history.history_port);
        let refresh = std::time::Duration::from_secs(args.history.history_refresh_seconds);
        history::serve(PathBuf::from(dir), history_address, refresh).await?;
    }
    let mut config = scheduler_config_with_lake(args.ballista, lake)?;
    tracing::info!(
        %address,
        scheduler_id = %config.scheduler_id,
        policy = ?config.scheduling_policy,
        flight_sql = config.flight_sql_enabled(),
        flight_sql_tls = flight_sql_tls.is_some(),
        "medallion scheduler starting"
    );
    let cluster = BallistaCluster::new_from_config(&config).await?;
    match flight_sql_tls {
        Some(tls) => {
            let flight_sql_address = SocketAddr::new(address.ip(), args.tls.flight_sql_port);
            // Ballista's own Flight SQL would be served on the plaintext port
            config = config.with_flight_sql(false);
            flight_sql_tls::serve(
                cluster,
                address,
                flight_sql_address,
                Arc::new(config),
                authenticator,
                tls,
            )
            .await
        }
        None => {
            if tls.is_some() {
                tracing::warn!("--tls-cert/--tls-key ignored: no --lake or --catalog to serve");
            }
            start_server(cluster, address, Arc::new(config)).await?;
            Ok(())
        }
    }
}

/// Installs the global log subscriber: `RUST_LOG`, else `--log-level-setting`; to stderr, or to a
/// rolling file under `--log-dir`. Returns nothing to keep: the file appender is synchronous.
pub fn init_logging(args: &SchedulerArgs) {
    let flags = &args.ballista;
    ServiceLogging {
        level: flags.log_level_setting.as_str(),
        thread_info: flags.print_thread_info,
        log_dir: flags.log_dir.as_deref(),
        rotation: flags.log_rotation_policy,
        file_prefix: format!(
            "scheduler_{}_{}_{}",
            flags.namespace, flags.external_host, flags.bind_port
        ),
        format: args.log_format,
    }
    .init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ballista_flags_parse_with_medallion_defaults() {
        let args = SchedulerArgs::parse_with_env(["medallion-scheduler"]);
        assert_eq!(args.ballista.bind_port, 50050);
        assert_eq!(args.log_format, LogFormat::Human);
        let args = SchedulerArgs::parse_with_env([
            "medallion-scheduler",
            "--bind-host",
            "127.0.0.1",
            "--bind-port",
            "6123",
            "--log-format",
            "json",
        ]);
        assert_eq!(
            args.listen_address().expect("address"),
            "127.0.0.1:6123".parse::<SocketAddr>().expect("addr")
        );
        assert_eq!(args.log_format, LogFormat::Json);
    }

    #[test]
    fn help_names_the_environment_and_examples() {
        let help = SchedulerArgs::command_with_env()
            .render_long_help()
            .to_string();
        assert!(help.contains("MEDALLION_SCHEDULER_PORT"), "{help}");
        assert!(
            help.contains("medallion submit accidents-datamart"),
            "{help}"
        );
        assert!(help.contains("--bind-port"), "{help}");
    }

    #[test]
    fn the_config_carries_medallion_codecs_and_session() {
        let args = SchedulerArgs::parse_with_env(["medallion-scheduler"]);
        let config = scheduler_config(args.ballista).expect("config");
        assert!(config.override_logical_codec.is_some());
        assert!(config.override_physical_codec.is_some());
        let builder = config.override_session_builder.expect("session builder");
        let producer = config.override_config_producer.expect("config producer");
        assert!(producer().ballista_adaptive_query_planner_enabled());
        let state = builder(producer()).expect("state");
        assert!(state.scalar_functions().contains_key("danger_index"));
    }

    #[test]
    fn a_lake_turns_flight_sql_on_and_reaches_every_session() {
        let args = SchedulerArgs::parse_with_env(["medallion-scheduler"]);
        assert_eq!(args.lake.catalog().expect("no catalog").map(|_| ()), None);
        let config = scheduler_config(args.ballista).expect("config");
        assert!(!config.flight_sql_enabled());

        let args = SchedulerArgs::parse_with_env(["medallion-scheduler", "--lake", "/data/silver"]);
        let catalog = args.lake.catalog().expect("catalog").expect("a lake");
        assert_eq!(catalog.lake.as_deref(), Some("/data/silver"));
        let lake = ServedLake {
            tables: Arc::new(LakeTables::default()),
            roots: Arc::new(args.lake.read_roots(&catalog).expect("roots")),
            users: None,
            session_ttl: std::time::Duration::from_secs(args.lake.flight_sql_session_ttl),
        };
        assert_eq!(lake.roots.roots(), ["file:///data/silver/"]);
        let config = scheduler_config_with_lake(args.ballista, Some(lake)).expect("config");
        assert!(config.flight_sql_enabled());
        // tokens expire after 30 idle minutes unless --flight-sql-session-ttl says otherwise
        assert_eq!(
            config.flight_sql_session_ttl,
            Some(std::time::Duration::from_secs(1800))
        );
        let builder = config.override_session_builder.expect("session builder");
        let producer = config.override_config_producer.expect("config producer");
        // Flight SQL sessions are planned statically (see scheduler_config_with_lake)
        assert!(!producer().ballista_adaptive_query_planner_enabled());
        let state = builder(producer()).expect("state");
        assert!(state.scalar_functions().contains_key("haversine_miles"));
    }

    #[test]
    fn flight_sql_needs_users_or_an_explicit_anonymous_flag() {
        let args = SchedulerArgs::parse_with_env(["medallion-scheduler", "--lake", "/data/silver"]);
        let err = args.lake.users().expect_err("no users");
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("--flight-sql-users"), "{err}");
        let args = SchedulerArgs::parse_with_env([
            "medallion-scheduler",
            "--lake",
            "/data/silver",
            "--flight-sql-anonymous",
            "--allow-read",
            "/data/gold,s3://reports/",
        ]);
        assert!(args.lake.users().expect("anonymous").is_none());
        let catalog = args.lake.catalog().expect("catalog").expect("a lake");
        let roots = args.lake.read_roots(&catalog).expect("roots");
        assert_eq!(
            roots.roots(),
            [
                "file:///data/silver/",
                "file:///data/gold/",
                "s3://reports/"
            ]
        );
        let args = SchedulerArgs::parse_with_env([
            "medallion-scheduler",
            "--lake",
            "/data/silver",
            "--flight-sql-users",
            "/no/such/users.htpasswd",
        ]);
        let err = args.lake.users().expect_err("missing file");
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("/no/such/users.htpasswd"), "{err}");
    }

    #[test]
    fn a_missing_catalog_file_is_bad_input() {
        let args = SchedulerArgs::parse_with_env([
            "medallion-scheduler",
            "--catalog",
            "/no/such/medallion.toml",
        ]);
        let err = args.lake.catalog().expect_err("missing file");
        assert!(err.to_string().contains("/no/such/medallion.toml"), "{err}");
        assert_eq!(err.exit_code(), 2, "{err}");
        let args = SchedulerArgs::parse_with_env(["medallion-scheduler", "--lake", ""]);
        assert_eq!(args.lake.catalog().expect_err("empty").exit_code(), 2);
    }

    #[test]
    fn an_unresolvable_host_is_a_clear_error() {
        let args =
            SchedulerArgs::parse_with_env(["medallion-scheduler", "--bind-host", "no such host"]);
        let err = args.listen_address().expect_err("invalid host");
        assert!(
            err.to_string()
                .starts_with("cannot listen on no such host:50050"),
            "{err}"
        );
    }
}
