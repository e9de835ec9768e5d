//! A pool of idle shuffle-fetch connections to other executors, like Ballista's own (which its
//! crate keeps private, and which [`crate::stable_metrics`] must replace along with the engine).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use ballista_core::client::BallistaClient;
use ballista_core::client_pool::{BallistaClientPool, PooledClient};
use ballista_core::error::Result;
use ballista_core::extension::BallistaConfigGrpcEndpoint;
use ballista_core::utils::GrpcClientConfig;

/// Which executor a connection goes to, and with which client settings.
type Key = (String, u16, GrpcClientConfig);

/// Idle connections per key, oldest first, with the time each became idle.
type Idle = Mutex<HashMap<Key, Vec<(BallistaClient, Instant)>>>;

/// Keeps connections returned by finished shuffle reads for reuse, and closes those idle for
/// longer than the time to live (`--client-ttl`), so that a shuffle-heavy stage does not open one
/// connection per fetch.
pub struct IdleClientPool {
    idle: Arc<Idle>,
    ttl: Duration,
}

impl fmt::Debug for IdleClientPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdleClientPool")
            .field("ttl", &self.ttl)
            .finish()
    }
}

impl IdleClientPool {
    /// A pool whose connections close after `ttl` unused; a background task sweeps them (must be
    /// called inside a Tokio runtime).
    pub fn with_sweeper(ttl: Duration) -> Self {
        let idle: Arc<Idle> = Arc::default();
        let weak: Weak<Idle> = Arc::downgrade(&idle);
        let every = (ttl / 3).max(Duration::from_secs(15));
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(every);
            loop {
                ticker.tick().await;
                match weak.upgrade() {
                    Some(idle) => close_expired(&idle, ttl),
                    None => break,
                }
            }
        });
        Self { idle, ttl }
    }
}

/// Drops the connections idle for longer than `ttl`.
fn close_expired(idle: &Idle, ttl: Duration) {
    let Some(deadline) = Instant::now().checked_sub(ttl) else {
        return;
    };
    if let Ok(mut idle) = idle.lock() {
        idle.retain(|_, clients| {
            clients.retain(|(_, since)| *since >= deadline);
            !clients.is_empty()
        });
    }
}

#[async_trait::async_trait]
impl BallistaClientPool for IdleClientPool {
    async fn acquire(
        &self,
        host: &str,
        port: u16,
        config: &GrpcClientConfig,
        customize_endpoint: Option<Arc<BallistaConfigGrpcEndpoint>>,
    ) -> Result<PooledClient> {
        let key: Key = (host.to_string(), port, config.clone());
        let reused = self
            .idle
            .lock()
            .ok()
            .and_then(|mut idle| idle.get_mut(&key).and_then(Vec::pop))
            .map(|(client, _)| client);
        let client = match reused {
            Some(client) => client,
            None => {
                BallistaClient::try_new(
                    host,
                    port,
                    config.max_message_size,
                    config.use_tls,
                    customize_endpoint,
                    config.io_retries_times,
                    config.io_retry_wait_time_ms,
                    config.initial_connection_window_size,
                    config.initial_stream_window_size,
                )
                .await?
            }
        };
        let idle = Arc::clone(&self.idle);
        Ok(PooledClient::new(
            client,
            Box::new(move |client| {
                if let Ok(mut idle) = idle.lock() {
                    idle.entry(key).or_default().push((client, Instant::now()));
                }
            }),
        ))
    }

    async fn evict_idle(&self) {
        close_expired(&self.idle, self.ttl);
    }
}
