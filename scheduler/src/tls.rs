//! TLS for Flight SQL: the certificate and key flags, the rustls server configuration they make,
//! and a listener whose connections are TLS streams tonic can serve.
//!
//! Ballista 55 serves its scheduler port with `axum::serve` over a plain TCP listener and offers
//! no hook to put TLS in front, and the tonic it is built with has no TLS support compiled in.
//! So with `--tls-cert`/`--tls-key` medallion-scheduler serves Flight SQL itself, over TLS only,
//! on `--flight-sql-port` (see [`crate::flight_sql_tls`]); the scheduler port keeps Ballista's
//! plaintext gRPC for executors and `medallion submit`, without Flight SQL.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tonic::transport::server::{Connected, TcpConnectInfo};

/// Port Flight SQL is served on over TLS unless `--flight-sql-port` says otherwise (the port
/// Arrow Flight services commonly use).
pub const DEFAULT_FLIGHT_SQL_TLS_PORT: u16 = 32010;

/// How long a client may take to complete the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The TLS flags of medallion-scheduler.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TlsFlags {
    /// PEM certificate (chain) for Flight SQL over TLS. With --tls-key, Flight SQL is served over
    /// TLS only, on --flight-sql-port; the scheduler port then serves executors and `medallion
    /// submit` (plaintext Ballista gRPC) and no Flight SQL.
    #[arg(
        long,
        env = "MEDALLION_SCHEDULER_TLS_CERT",
        value_name = "FILE",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert (PKCS#8, PKCS#1 or SEC1).
    #[arg(
        long,
        env = "MEDALLION_SCHEDULER_TLS_KEY",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,
    /// Port of Flight SQL over TLS (on --bind-host); used with --tls-cert/--tls-key.
    #[arg(
        long,
        env = "MEDALLION_FLIGHT_SQL_PORT",
        value_name = "PORT",
        default_value_t = DEFAULT_FLIGHT_SQL_TLS_PORT
    )]
    pub flight_sql_port: u16,
}

/// A certificate or key file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct TlsFileError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong with it.
    pub message: String,
}

impl TlsFlags {
    /// The server configuration of the certificate and key, or `None` without TLS flags.
    pub fn server_config(&self) -> Result<Option<Arc<ServerConfig>>, TlsFileError> {
        let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) else {
            return Ok(None);
        };
        server_config(cert, key).map(Some)
    }
}

fn file_error(path: &Path, message: impl Into<String>) -> TlsFileError {
    TlsFileError {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// A TLS server configuration (HTTP/2 only, as gRPC needs) from PEM files.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsFileError> {
    let cert_pem = fs::read(cert).map_err(|e| file_error(cert, e.to_string()))?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_error(cert, format!("not a PEM certificate: {e}")))?;
    if chain.is_empty() {
        return Err(file_error(cert, "no PEM certificate in the file"));
    }
    let key_pem = fs::read(key).map_err(|e| file_error(key, e.to_string()))?;
    let private = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| file_error(key, format!("not a PEM private key: {e}")))?;
    let mut config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|e| file_error(key, format!("does not go with {}: {e}", cert.display())))?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

/// One client connection after its TLS handshake.
pub struct TlsConnection(TlsStream<TcpStream>);

impl Connected for TlsConnection {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.0.get_ref().0.connect_info()
    }
}

impl AsyncRead for TlsConnection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsConnection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }
}

/// The connections of `listener` that complete a TLS handshake with `config`. Handshakes run
/// concurrently (a slow client holds up no other); a failed one (a plaintext client, an unknown
/// certificate authority on the client's side) is logged and dropped.
pub fn incoming(
    listener: TcpListener,
    config: Arc<ServerConfig>,
) -> impl Stream<Item = io::Result<TlsConnection>> {
    let acceptor = TlsAcceptor::from(config);
    let (tx, rx) = tokio::sync::mpsc::channel::<TlsConnection>(64);
    tokio::spawn(async move {
        loop {
            let (tcp, peer) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "Flight SQL TLS port: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            if tx.is_closed() {
                break;
            }
            let (acceptor, tx) = (acceptor.clone(), tx.clone());
            tokio::spawn(async move {
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                    Ok(Ok(stream)) => {
                        let _ = tx.send(TlsConnection(stream)).await;
                    }
                    Ok(Err(e)) => {
                        tracing::info!(%peer, error = %e, "Flight SQL: TLS handshake refused");
                    }
                    Err(_) => {
                        tracing::info!(%peer, "Flight SQL: TLS handshake timed out");
                    }
                }
            });
        }
    });
    futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|connection| (Ok(connection), rx))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_or_bad_files_name_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        let err = server_config(&cert, &key).expect_err("missing");
        assert!(err.to_string().contains("cert.pem"), "{err}");
        fs::write(&cert, "not a certificate").expect("write");
        let err = server_config(&cert, &key).expect_err("no PEM");
        assert!(err.to_string().contains("no PEM certificate"), "{err}");
    }
}
