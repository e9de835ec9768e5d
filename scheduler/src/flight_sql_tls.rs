//! The scheduler with Flight SQL over TLS: Ballista's scheduler service on the scheduler port
//! (plaintext, for executors and `medallion submit`, without Flight SQL) and Ballista's Flight SQL
//! frontend over the same scheduler on a TLS-only port of its own.
//!
//! Ballista 55 cannot terminate TLS on its scheduler port (see [`crate::tls`]); medallion builds
//! the scheduler once with Ballista's `create_scheduler` and serves both itself, the Flight SQL
//! frontend with tonic over [`crate::tls::incoming`].

use std::net::SocketAddr;
use std::sync::Arc;

use arrow_flight::flight_service_server::FlightServiceServer;
use ballista_core::error::BallistaError;
use ballista_core::extension::BallistaConfigGrpcEndpoint;
use ballista_core::flight_proxy_service::BallistaFlightProxyService;
use ballista_flight_sql::{Authenticator, BallistaFlightSqlService};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::{create_scheduler, start_grpc_service};
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};
use rustls::ServerConfig;
use tokio::net::TcpListener;

use crate::SchedulerError;
use crate::tls;

/// Serves the scheduler on `address` and Flight SQL over TLS on `flight_sql_address` until
/// either stops. `config` must have Ballista's own Flight SQL turned off (it would be served on
/// the plaintext port); `authenticator` is who may use Flight SQL (`None`: anyone).
pub async fn serve(
    cluster: BallistaCluster,
    address: SocketAddr,
    flight_sql_address: SocketAddr,
    config: Arc<SchedulerConfig>,
    authenticator: Option<Arc<dyn Authenticator>>,
    tls_config: Arc<ServerConfig>,
) -> Result<(), SchedulerError> {
    config.validate()?;
    let listener = TcpListener::bind(flight_sql_address).await.map_err(|e| {
        SchedulerError::InvalidAddress {
            address: flight_sql_address.to_string(),
            message: e.to_string(),
        }
    })?;
    let scheduler =
        create_scheduler::<LogicalPlanNode, PhysicalPlanNode>(cluster, config.clone()).await?;
    let max_decoding = config.grpc_server_max_decoding_message_size as usize;
    let max_encoding = config.grpc_server_max_encoding_message_size as usize;
    let proxy = BallistaFlightProxyService::new(
        max_decoding,
        max_encoding,
        config.use_tls,
        config
            .override_create_grpc_client_endpoint
            .clone()
            .map(|f| Arc::new(BallistaConfigGrpcEndpoint::new(f))),
    );
    let mut flight_sql = BallistaFlightSqlService::new(Arc::new(scheduler.clone()), proxy);
    if let Some(authenticator) = authenticator {
        flight_sql = flight_sql.with_authenticator(authenticator);
    }
    if let Some(ttl) = config.flight_sql_session_ttl {
        flight_sql = flight_sql.with_session_ttl(ttl);
    }
    if flight_sql.allows_anonymous() {
        tracing::warn!("Flight SQL over TLS lets any client in (--flight-sql-anonymous)");
    }
    tracing::info!(%flight_sql_address, "Flight SQL served over TLS only");
    let flight_sql = tonic::transport::Server::builder()
        .add_service(
            FlightServiceServer::new(flight_sql)
                .max_decoding_message_size(max_decoding)
                .max_encoding_message_size(max_encoding),
        )
        .serve_with_incoming(tls::incoming(listener, tls_config));
    tokio::select! {
        served = start_grpc_service(address, scheduler) => served?,
        served = flight_sql => served.map_err(|e| BallistaError::General(format!(
            "Flight SQL over TLS: {e}"
        )))?,
    }
    Ok(())
}
