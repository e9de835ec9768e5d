//! `medallion-executor`: Ballista's executor with medallion's session configuration, runtime
//! (lake object stores, spill folder), UDFs and plan codecs, so every task of a `medallion submit`
//! job runs here exactly as it would embedded.
//!
//! The command line is Ballista's own executor `Config` (every `ballista-executor` flag works the
//! same) plus `--log-format`; the main binary only parses it, sets up logging and calls [`run`].

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ballista_core::RuntimeProducer;
use ballista_core::error::BallistaError;
use ballista_core::registry::BallistaFunctionRegistry;
use ballista_executor::config::Config;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_executor::health::spawn_health_server;
use clap::{CommandFactory, FromArgMatches, Parser};
use medallion_core::codec::{MedallionLogicalCodec, MedallionPhysicalCodec};
use medallion_core::read_guard::ReadRoots;
pub use medallion_core::service_logging::LogFormat;
use medallion_core::service_logging::ServiceLogging;
use medallion_core::session;

mod client_pool;
pub mod liveness;
mod metered_engine;
pub mod metrics;
mod metrics_server;
pub mod process;
mod stable_metrics;

use client_pool::IdleClientPool;
use metered_engine::MeteredEngine;
use metrics::ExecutorMetrics;
use stable_metrics::StableMetricsEngine;

const ABOUT: &str = "medallion's Ballista executor: runs the tasks of `medallion submit` jobs for a \
`medallion-scheduler`. Carries medallion's UDFs, ORC/MySQL plan codecs and lake object stores \
(file://, s3://, hdfs://).";

const EXAMPLES: &str = "\
Examples:
  medallion-executor --scheduler-host sched.example                 # flight 50051, gRPC 50052, health 50053
  medallion-executor --scheduler-host sched.example --metrics-port 50054   # Prometheus /metrics
  medallion-executor --scheduler-host 127.0.0.1 --scheduler-port 50050 \\
      --bind-host 127.0.0.1 --bind-port 50061 --bind-grpc-port 50062 --bind-health-port 50063 \\
      --vcores 4 --work-dir /var/lib/medallion/work --memory-pool-size 8GiB
  MEDALLION_SCHEDULER_HOST=sched MEDALLION_EXECUTOR_VCORES=8 medallion-executor --log-format json

Environment:
  MEDALLION_SCHEDULER_HOST, MEDALLION_SCHEDULER_PORT, MEDALLION_EXECUTOR_BIND_HOST,
  MEDALLION_EXECUTOR_EXTERNAL_HOST, MEDALLION_EXECUTOR_PORT, MEDALLION_EXECUTOR_GRPC_PORT,
  MEDALLION_EXECUTOR_HEALTH_PORT, MEDALLION_EXECUTOR_VCORES, MEDALLION_EXECUTOR_WORK_DIR,
  MEDALLION_EXECUTOR_MEMORY, MEDALLION_EXECUTOR_ALLOW_READ (comma-separated),
  MEDALLION_EXECUTOR_METRICS_PORT stand for the flags of the same meaning. RUST_LOG overrides --log-level-setting.
  S3: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL or MEDALLION_S3_ENDPOINT.
  HDFS: HADOOP_CONF_DIR for name services.
  Every executor must see the lake and a file:// Gold folder at the same paths as the client.";

/// Environment variables standing for Ballista flags: (argument id, variable).
const ENV_FLAGS: [(&str, &str); 10] = [
    ("scheduler_host", "MEDALLION_SCHEDULER_HOST"),
    ("scheduler_port", "MEDALLION_SCHEDULER_PORT"),
    ("bind_host", "MEDALLION_EXECUTOR_BIND_HOST"),
    ("external_host", "MEDALLION_EXECUTOR_EXTERNAL_HOST"),
    ("bind_port", "MEDALLION_EXECUTOR_PORT"),
    ("bind_grpc_port", "MEDALLION_EXECUTOR_GRPC_PORT"),
    ("bind_health_port", "MEDALLION_EXECUTOR_HEALTH_PORT"),
    ("vcores", "MEDALLION_EXECUTOR_VCORES"),
    ("work_dir", "MEDALLION_EXECUTOR_WORK_DIR"),
    ("memory_pool_size", "MEDALLION_EXECUTOR_MEMORY"),
];

/// What can stop the executor.
#[derive(Debug, thiserror::Error)]
pub enum ExecutorError {
    /// `--bind-host` and a port do not name an address to listen on.
    #[error("cannot listen on {address}: {message}")]
    InvalidAddress {
        /// The address given.
        address: String,
        /// Why it is unusable.
        message: String,
    },
    /// medallion's session state could not be built.
    #[error("executor session: {0}")]
    Session(#[from] medallion_core::Error),
    /// The metrics registry could not be built.
    #[error("executor metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    /// The metrics port could not be listened on.
    #[error("cannot listen on {address} for /metrics: {source}")]
    MetricsPort {
        /// The address.
        address: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Ballista refused the configuration, could not reach the scheduler, or stopped with an error.
    #[error("executor: {0}")]
    Ballista(#[from] BallistaError),
}

/// The executor's command line: Ballista's executor flags plus medallion's.
#[derive(Debug, Parser)]
#[command(name = "medallion-executor")]
pub struct ExecutorArgs {
    /// Log line format.
    #[arg(long, value_enum, default_value = "human")]
    pub log_format: LogFormat,
    /// A folder tasks may read (repeatable): the lake, and the Gold folder of incremental runs.
    /// A task whose plan scans a file elsewhere is refused before it starts. Without it, tasks
    /// read whatever their plan names.
    #[arg(
        long,
        env = "MEDALLION_EXECUTOR_ALLOW_READ",
        value_name = "DIR|URL",
        value_delimiter = ','
    )]
    pub allow_read: Vec<String>,
    /// Serve the executor's Prometheus metrics (tasks run and failed, shuffle bytes written,
    /// spills, memory pool use, process CPU and memory) at http://BIND_HOST:PORT/metrics.
    /// Without it, no metrics port is opened.
    #[arg(long, env = "MEDALLION_EXECUTOR_METRICS_PORT", value_name = "PORT")]
    pub metrics_port: Option<u16>,
    /// Ballista's executor flags.
    #[command(flatten)]
    pub ballista: Config,
}

impl ExecutorArgs {
    /// The clap command: Ballista's flags with medallion's help text and environment variables.
    pub fn command_with_env() -> clap::Command {
        ENV_FLAGS.iter().fold(
            liveness::with_fast_heartbeat(Self::command())
                .name("medallion-executor")
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

    /// The health server's address (`--bind-host`, `--bind-health-port`).
    pub fn health_address(&self) -> Result<SocketAddr, ExecutorError> {
        self.bind_address(self.ballista.bind_health_port)
    }

    /// `--bind-host` with `port`.
    fn bind_address(&self, port: u16) -> Result<SocketAddr, ExecutorError> {
        let host = self.ballista.bind_host.as_str();
        let invalid = |message: String| ExecutorError::InvalidAddress {
            address: format!("{host}:{port}"),
            message,
        };
        (host, port)
            .to_socket_addrs()
            .map_err(|e| invalid(e.to_string()))?
            .next()
            .ok_or_else(|| invalid("the host resolves to no address".to_string()))
    }
}

/// The runtime each task session gets: medallion's lake object stores, spilling under `work_dir`
/// (Ballista adds the memory pool sized by `--memory-pool-size`).
pub fn runtime_producer(work_dir: Option<PathBuf>) -> RuntimeProducer {
    Arc::new(move |_config| {
        let builder = session::runtime_env_builder();
        let builder = match &work_dir {
            Some(dir) => builder.with_temp_file_path(dir.clone()),
            None => builder,
        };
        builder.build_arc()
    })
}

/// Ballista's executor process configuration from the flags, with medallion's session
/// configuration, runtime, UDFs and plan codecs installed.
pub fn executor_config(flags: Config) -> Result<ExecutorProcessConfig, ExecutorError> {
    let mut config: ExecutorProcessConfig = flags.try_into()?;
    let functions = BallistaFunctionRegistry::from(&session::session_state()?);
    config.override_config_producer = Some(Arc::new(session::session_config));
    config.override_runtime_producer =
        Some(runtime_producer(config.work_dir.clone().map(PathBuf::from)));
    config.override_function_registry = Some(Arc::new(functions));
    config.override_logical_codec = Some(Arc::new(MedallionLogicalCodec::default()));
    config.override_physical_codec = Some(Arc::new(MedallionPhysicalCodec::default()));
    Ok(config)
}

/// Runs the executor (and its `/healthz` `/readyz` server) until it is stopped or its scheduler
/// tells it to stop.
pub async fn run(args: ExecutorArgs) -> Result<(), ExecutorError> {
    let health_address = args.health_address()?;
    let metrics = Arc::new(ExecutorMetrics::new()?);
    if let Some(port) = args.metrics_port {
        let address = args.bind_address(port)?;
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .map_err(|source| ExecutorError::MetricsPort { address, source })?;
        tracing::info!(%address, "executor metrics at /metrics");
        let metrics = Arc::clone(&metrics);
        tokio::spawn(async move {
            if let Err(e) = metrics_server::serve_metrics(listener, metrics).await {
                tracing::warn!(error = %e, "metrics server stopped");
            }
        });
    }
    let read_roots = if args.allow_read.is_empty() {
        tracing::warn!(
            "no --allow-read: tasks may read any file their plan names; give the lake's folders \
             on a shared cluster"
        );
        None
    } else {
        Some(Arc::new(ReadRoots::new(&args.allow_read)?))
    };
    let mut config = executor_config(args.ballista)?;
    // Ballista's own engine, with its connection pool unless --client-ttl 0 turns pooling off.
    let client_pool = (config.client_ttl > 0).then(|| {
        Arc::new(IdleClientPool::with_sweeper(Duration::from_secs(
            config.client_ttl,
        ))) as Arc<dyn ballista_core::client_pool::BallistaClientPool>
    });
    let mut engine = StableMetricsEngine::new(client_pool);
    if let Some(roots) = &read_roots {
        engine = engine.with_read_roots(Arc::clone(roots));
    }
    config.override_execution_engine = Some(Arc::new(MeteredEngine::new(
        Arc::new(engine),
        Arc::clone(&metrics),
    )));
    tracing::info!(
        executor_id = %config.executor_id,
        scheduler = %format!("{}:{}", config.scheduler_host, config.scheduler_port),
        flight_port = config.port,
        grpc_port = config.grpc_port,
        %health_address,
        vcores = config.vcores,
        work_dir = config.work_dir.as_deref().unwrap_or("(temporary)"),
        readable = ?read_roots.as_ref().map(|r| r.roots().to_vec()),
        "medallion executor starting"
    );
    let (stop_health, health_stopped) = tokio::sync::oneshot::channel();
    let health = spawn_health_server(health_address, config.health.clone(), health_stopped);
    let result = start_executor_process(Arc::new(config)).await;
    let _ = stop_health.send(());
    match health.await {
        Ok(Err(e)) => tracing::warn!(error = %e, "health server failed"),
        Err(e) => tracing::warn!(error = %e, "health server task failed"),
        Ok(Ok(())) => {}
    }
    Ok(result?)
}

/// Installs the global log subscriber: `RUST_LOG`, else `--log-level-setting`; to stderr, or to a
/// rolling file under `--log-dir`.
pub fn init_logging(args: &ExecutorArgs) {
    let flags = &args.ballista;
    ServiceLogging {
        level: flags.log_level_setting.as_str(),
        thread_info: flags.print_thread_info,
        log_dir: flags.log_dir.as_deref(),
        rotation: flags.log_rotation_policy,
        file_prefix: format!(
            "executor_{}_{}",
            flags.external_host.as_deref().unwrap_or(&flags.bind_host),
            flags.bind_port
        ),
        format: args.log_format,
    }
    .init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ballista_flags_parse_with_their_defaults() {
        let args = ExecutorArgs::parse_with_env(["medallion-executor"]);
        assert_eq!(args.ballista.bind_port, 50051);
        assert_eq!(args.ballista.bind_grpc_port, 50052);
        assert_eq!(args.ballista.scheduler_port, 50050);
        let args = ExecutorArgs::parse_with_env([
            "medallion-executor",
            "--scheduler-host",
            "sched",
            "--vcores",
            "3",
            "--memory-pool-size",
            "512MiB",
            "--work-dir",
            "/tmp/w",
        ]);
        assert_eq!(args.ballista.scheduler_host, "sched");
        assert_eq!(args.ballista.vcores, 3);
        assert_eq!(args.ballista.memory_pool_size, Some(512 * 1024 * 1024));
    }

    #[test]
    fn help_names_the_environment_and_examples() {
        let help = ExecutorArgs::command_with_env()
            .render_long_help()
            .to_string();
        assert!(help.contains("MEDALLION_EXECUTOR_VCORES"), "{help}");
        assert!(help.contains("--scheduler-host"), "{help}");
        assert!(help.contains("--memory-pool-size"), "{help}");
    }

    #[test]
    fn the_config_carries_medallion_udfs_codecs_and_stores() {
        let args = ExecutorArgs::parse_with_env(["medallion-executor", "--work-dir", "/tmp"]);
        let config = executor_config(args.ballista).expect("config");
        let functions = config.override_function_registry.expect("registry");
        for udf in [
            "danger_index",
            "seasonal_factor",
            "trend_direction",
            "haversine_miles",
            "pseudonym",
            "weather_category",
            "count_true",
        ] {
            assert!(functions.scalar_functions.contains_key(udf), "{udf}");
        }
        assert!(functions.aggregate_functions.contains_key("moments"));
        assert!(config.override_logical_codec.is_some());
        assert!(config.override_physical_codec.is_some());
        let producer = config.override_runtime_producer.expect("runtime");
        let runtime = producer(&session::session_config()).expect("runtime env");
        let s3 = datafusion::execution::object_store::ObjectStoreUrl::parse("s3://some-bucket")
            .expect("url");
        assert!(
            runtime.object_store(&s3).is_ok(),
            "S3 stores resolve lazily"
        );
    }
}
