//! The MySQL run lock: at most one run of a job publishes into a database at a time.
//!
//! A run takes the server's named lock `GET_LOCK('medallion:<db>:<job>', wait)` on a connection of
//! its own, held from before `prepare` until the run is published or aborted and recorded. A second
//! run of the same job waits up to `wait` (logging which connection holds the lock) and then fails;
//! when the holder dies, the server drops its connection and the lock with it, so a crashed run
//! never blocks the next one.

use std::time::Duration;

use mysql_async::Conn;
use mysql_async::prelude::Queryable;
use tracing::{info, warn};

use super::connection::{connect, server_error};
use super::url::MySqlUrl;
use crate::error::{Error, Result};

/// MySQL caps lock names at 64 characters.
const MAX_LOCK_NAME: usize = 64;

/// The named lock of `job`'s runs into database `db`: `medallion:<db>:<job>`, or, when that is too
/// long for MySQL, its first 47 characters plus a 16-digit hash of the whole name.
pub fn lock_name(db: &str, job: &str) -> String {
    let name = format!("medallion:{db}:{job}");
    if name.len() <= MAX_LOCK_NAME {
        return name;
    }
    // FNV-1a: stable across processes and versions.
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let mut cut = MAX_LOCK_NAME - 17;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}:{hash:016x}", &name[..cut])
}

/// A held run lock: the connection that owns `GET_LOCK`. Dropping it without [`release`]
/// (a crash) closes the connection, which releases the lock too.
///
/// [`release`]: MySqlRunLock::release
#[derive(Debug)]
pub struct MySqlRunLock {
    conn: Conn,
    name: String,
}

/// Who holds lock `name`: its connection id and client host, from the server's process list.
async fn holder(conn: &mut Conn, name: &str) -> Option<String> {
    let id: u64 = conn
        .exec_first::<Option<u64>, _, _>("SELECT IS_USED_LOCK(?)", (name,))
        .await
        .ok()
        .flatten()
        .flatten()?;
    let host: Option<String> = conn
        .exec_first(
            "SELECT HOST FROM information_schema.PROCESSLIST WHERE ID = ?",
            (id,),
        )
        .await
        .ok()
        .flatten();
    Some(match host {
        Some(host) => format!("on MySQL connection {id} from {host}"),
        None => format!("on MySQL connection {id}"),
    })
}

impl MySqlRunLock {
    /// Takes the run lock of `job` in `url`'s database for run `run_id`, waiting up to `wait` for a
    /// run of the same job to finish. A lock still held after `wait` is [`Error::JobFailed`].
    pub async fn acquire(url: &MySqlUrl, job: &str, run_id: &str, wait: Duration) -> Result<Self> {
        let mut conn = connect(url, false).await?;
        let name = lock_name(&url.database, job);
        let got: Option<i64> = conn
            .exec_first("SELECT GET_LOCK(?, 0)", (name.as_str(),))
            .await
            .map_err(|e| server_error("taking the MySQL run lock", e))?;
        let mut got = got == Some(1);
        let mut who = None;
        if !got && !wait.is_zero() {
            let holder_text = holder(&mut conn, &name)
                .await
                .unwrap_or_else(|| "(holder unknown)".to_string());
            info!(
                job,
                run_id,
                lock = %name,
                wait_seconds = wait.as_secs(),
                "waiting for run {holder_text} of {job} to finish"
            );
            let waited: Option<i64> = conn
                .exec_first("SELECT GET_LOCK(?, ?)", (name.as_str(), wait.as_secs()))
                .await
                .map_err(|e| server_error("waiting for the MySQL run lock", e))?;
            got = waited == Some(1);
            who = Some(holder_text);
        }
        if !got {
            let who = match who {
                Some(w) => w,
                None => holder(&mut conn, &name)
                    .await
                    .unwrap_or_else(|| "(holder unknown)".to_string()),
            };
            let _ = conn.disconnect().await;
            return Err(Error::JobFailed {
                job: job.to_string(),
                message: format!(
                    "another run of {job} is in progress {who} in {} (lock '{name}' still held after {} s); \
                     nothing was written — retry later or pass --lock-wait SECONDS",
                    url.masked(),
                    wait.as_secs()
                ),
            });
        }
        info!(job, run_id, lock = %name, "run lock taken");
        Ok(Self { conn, name })
    }

    /// Releases the lock and closes its connection.
    pub async fn release(mut self) {
        let released: std::result::Result<Option<i64>, _> = self
            .conn
            .exec_first("SELECT RELEASE_LOCK(?)", (self.name.as_str(),))
            .await;
        if let Err(e) = released {
            warn!(lock = %self.name, error = %e, "could not release the run lock (closing its connection releases it)");
        }
        let _ = self.conn.disconnect().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_names_fit_mysql() {
        assert_eq!(
            lock_name("gold", "accidents-datamart"),
            "medallion:gold:accidents-datamart"
        );
        let long = lock_name(&"d".repeat(64), "accidents-datamart");
        assert_eq!(long.len(), MAX_LOCK_NAME);
        assert!(long.starts_with("medallion:ddd"));
        // two long names that differ only at the end stay distinct
        assert_ne!(
            lock_name(&"d".repeat(64), "job-a"),
            lock_name(&"d".repeat(64), "job-b")
        );
    }
}
