//! The job history of a scheduler that writes event logs (Ballista's `--event-log-dir DIR`): the
//! scheduler records every job in `DIR/<job_id>.eventlog`, and this serves Ballista's history API
//! (`GET /api/jobs`, `/api/job/{id}`, `/api/job/{id}/stages`, ..., the same JSON as the live REST
//! API) over those logs on `--history-port`, rescanning the folder as jobs finish. The logs
//! outlive the scheduler process, so a restarted scheduler still lists the jobs of the previous
//! one there (the live `/api/jobs` forgets them).
//!
//! This is Ballista's own history server (`ballista_scheduler::history`), run inside the
//! scheduler process instead of as the separate `ballista-history-server` binary.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ballista_scheduler::history::{HistoryStore, history_router, spawn_refresh_task};

/// The history server's default port.
pub const DEFAULT_HISTORY_PORT: u16 = 50060;

/// Where the job history is served.
#[derive(Debug, Clone, clap::Args)]
pub struct HistoryFlags {
    /// Port of the job history API (Ballista's history server: GET /api/jobs, /api/job/{id}, ...
    /// over the --event-log-dir logs), on --bind-host; served only with --event-log-dir.
    #[arg(long, env = "MEDALLION_HISTORY_PORT", default_value_t = DEFAULT_HISTORY_PORT)]
    pub history_port: u16,
    /// How often the history rescans --event-log-dir for jobs that finished, in seconds.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    pub history_refresh_seconds: u64,
}

/// Why the history cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The `--event-log-dir` folder cannot be created or read.
    #[error("--event-log-dir {}: {source}", dir.display())]
    EventLogDir {
        /// The folder.
        dir: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// `--bind-host`/`--history-port` cannot be listened on.
    #[error("cannot serve the job history on {address}: {source}")]
    Listen {
        /// The address.
        address: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Indexes the event logs under `dir` (creating the folder) and serves their history on
/// `address` in the background, rescanning every `refresh`. Fails when the folder cannot be
/// created or read, or the address cannot be listened on.
pub async fn serve(
    dir: PathBuf,
    address: SocketAddr,
    refresh: Duration,
) -> Result<(), HistoryError> {
    let unreadable = |source: std::io::Error| HistoryError::EventLogDir {
        dir: dir.clone(),
        source,
    };
    std::fs::create_dir_all(&dir).map_err(unreadable)?;
    let load_dir = dir.clone();
    let store = tokio::task::spawn_blocking(move || HistoryStore::load(&load_dir))
        .await
        .map_err(|e| unreadable(std::io::Error::other(e)))?
        .map_err(unreadable)?;
    let store = Arc::new(store);
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|source| HistoryError::Listen { address, source })?;
    tracing::info!(
        %address,
        event_log_dir = %dir.display(),
        jobs = store.len(),
        "job history served"
    );
    spawn_refresh_task(Arc::clone(&store), refresh);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, history_router(store)).await {
            tracing::error!(error = %e, "the job history server stopped");
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_empty_folder_is_served_as_no_job() {
        let dir = tempfile::tempdir().expect("dir");
        let logs = dir.path().join("events");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port")
            .port();
        let address: SocketAddr = ([127, 0, 0, 1], port).into();
        serve(logs.clone(), address, Duration::from_secs(1))
            .await
            .expect("served");
        assert!(logs.is_dir(), "the folder is created");
        let mut stream = tokio::net::TcpStream::connect(address)
            .await
            .expect("connect");
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        stream
            .write_all(b"GET /api/jobs HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .expect("request");
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .await
            .expect("response");
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(response.ends_with("[]"), "{response}");
    }
}
