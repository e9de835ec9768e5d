//! Client connections to the MySQL server and the few statements every phase of the sink runs:
//! connecting with one timeout, running a statement with its context, listing tables by prefix.

use std::time::Duration;

use mysql_async::Conn;
use mysql_async::prelude::Queryable;

use super::url::{MySqlUrl, SslMode};
use crate::error::{Error, Result};

/// How long the client waits for the server to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// The server at `url` could not be reached, or answered a check with an error: `message`,
/// with the password masked.
pub fn unreachable(url: &MySqlUrl, message: String) -> Error {
    Error::Unreachable {
        what: "MySQL",
        location: url.masked(),
        message,
    }
}

/// A connection, from the client or a task; any failure is [`Error::Unreachable`] with the
/// password masked.
pub async fn connect(url: &MySqlUrl, with_database: bool) -> Result<Conn> {
    let attempt = |tls: bool| {
        tokio::time::timeout(
            CONNECT_TIMEOUT,
            Conn::new(url.opts_with_tls(with_database, tls)),
        )
    };
    let mut connected = attempt(true).await;
    // ssl-mode=PREFERRED: plaintext when the server has no TLS
    if url.ssl_mode == SslMode::Preferred
        && matches!(
            connected,
            Ok(Err(mysql_async::Error::Driver(
                mysql_async::DriverError::NoClientSslFlagFromServer
            )))
        )
    {
        connected = attempt(false).await;
    }
    match connected {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(unreachable(url, e.to_string())),
        Err(_) => Err(unreachable(
            url,
            format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()),
        )),
    }
}

/// A server error while doing `context`.
pub fn server_error(context: impl Into<String>, error: mysql_async::Error) -> Error {
    Error::MySql {
        context: context.into(),
        source: Box::new(error),
    }
}

/// Runs `sql`, naming `context` on failure.
pub async fn run(conn: &mut Conn, sql: String, context: &str) -> Result<()> {
    conn.query_drop(sql)
        .await
        .map_err(|e| server_error(context, e))
}

/// A `LIKE` pattern matching the names that start with `prefix`.
pub(super) fn like_prefix(prefix: &str) -> String {
    let mut pattern = String::with_capacity(prefix.len() + 8);
    for c in prefix.chars() {
        if matches!(c, '\\' | '_' | '%') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The tables of database `db` whose names start with `prefix`.
pub async fn tables_with_prefix(conn: &mut Conn, db: &str, prefix: &str) -> Result<Vec<String>> {
    let names: Vec<String> = conn
        .exec(
            "SELECT TABLE_NAME FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME LIKE ? ORDER BY TABLE_NAME",
            (db, like_prefix(prefix)),
        )
        .await
        .map_err(|e| server_error("listing MySQL tables", e))?;
    // LIKE may be case-insensitive; keep exact matches only
    Ok(names
        .into_iter()
        .filter(|n| n.starts_with(prefix))
        .collect())
}
