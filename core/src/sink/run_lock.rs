//! Run locks: two runs of the same job never publish into one sink at once.
//!
//! A run takes its job's lock before the sink's `prepare` and keeps it until it has published or
//! aborted and recorded itself. The second run of a job waits up to `--lock-wait` seconds (logging
//! "waiting for run ... of JOB to finish") and otherwise fails with exit code 1, having written
//! nothing. Runs of different jobs do not wait for each other.
//!
//! - Parquet sink: an exclusive `flock` on `DIR/.medallion-lock-<job>` (the file holds the holder's
//!   run id, for the waiting message); the OS releases it when the holder exits, even on a crash.
//! - MySQL sink: `GET_LOCK` on a dedicated connection ([`MySqlRunLock`](super::mysql::MySqlRunLock)).

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tracing::info;

use super::mysql::MySqlRunLock;
use crate::error::{Error, Result};

/// How often a waiting run retries a held lock file.
const POLL: Duration = Duration::from_millis(200);

/// A held run lock; [`RunLock::release`] it when the run is over (dropping it releases it too).
#[derive(Debug)]
pub enum RunLock {
    /// The sink takes no lock.
    None,
    /// An exclusive lock on a file of the Parquet sink's folder.
    File {
        /// The open, locked file.
        file: File,
        /// Its path.
        path: PathBuf,
    },
    /// A MySQL `GET_LOCK` on its own connection.
    MySql(MySqlRunLock),
}

impl RunLock {
    /// Releases the lock.
    pub async fn release(self) {
        match self {
            RunLock::None => {}
            RunLock::File { file, path } => {
                if let Err(e) = file.unlock() {
                    tracing::warn!(path = %path.display(), error = %e, "could not unlock the run lock file (closing it does)");
                }
            }
            RunLock::MySql(lock) => lock.release().await,
        }
    }
}

/// The lock file of `job` under the Parquet sink folder `root`.
pub fn lock_file_path(root: &Path, job: &str) -> PathBuf {
    let safe: String = job
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    root.join(format!(".medallion-lock-{safe}"))
}

/// The run id written in a lock file by its holder.
fn holder_of(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.seek(SeekFrom::Start(0));
    let _ = file.read_to_string(&mut text);
    let text = text.trim();
    if text.is_empty() {
        "(unknown)".to_string()
    } else {
        text.chars().take(80).collect()
    }
}

/// Takes the lock file of `job` under `root` for `run_id`, waiting up to `wait`.
pub async fn lock_file(root: &Path, job: &str, run_id: &str, wait: Duration) -> Result<RunLock> {
    fs::create_dir_all(root).map_err(|e| Error::io("creating", root, e))?;
    let path = lock_file_path(root, job);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| Error::io("opening", &path, e))?;
    let deadline = Instant::now() + wait;
    let mut logged = false;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(TryLockError::Error(e)) => return Err(Error::io("locking", &path, e)),
            Err(TryLockError::WouldBlock) => {
                let holder = holder_of(&mut file);
                if Instant::now() >= deadline {
                    return Err(Error::JobFailed {
                        job: job.to_string(),
                        message: format!(
                            "another run of {job} is in progress (run {holder}, lock {} still held after {} s); \
                             nothing was written — retry later or pass --lock-wait SECONDS",
                            path.display(),
                            wait.as_secs()
                        ),
                    });
                }
                if !logged {
                    info!(
                        job,
                        run_id,
                        lock = %path.display(),
                        wait_seconds = wait.as_secs(),
                        "waiting for run {holder} of {job} to finish"
                    );
                    logged = true;
                }
                tokio::time::sleep(POLL).await;
            }
        }
    }
    let written = file
        .set_len(0)
        .and_then(|()| file.seek(SeekFrom::Start(0)))
        .and_then(|_| file.write_all(run_id.as_bytes()))
        .and_then(|()| file.flush());
    written.map_err(|e| Error::io("writing", &path, e))?;
    info!(job, run_id, lock = %path.display(), "run lock taken");
    Ok(RunLock::File { file, path })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_held_lock_file_refuses_the_same_job_and_not_another() {
        let root = tempfile::tempdir().unwrap();
        let first = lock_file(root.path(), "job-a", "run-1", Duration::ZERO)
            .await
            .unwrap();
        let err = lock_file(root.path(), "job-a", "run-2", Duration::from_millis(300))
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("run run-1"), "{text}");
        assert_eq!(err.exit_code(), 1);
        let other = lock_file(root.path(), "job-b", "run-3", Duration::ZERO)
            .await
            .unwrap();
        drop(other);
        first.release().await;
        let again = lock_file(root.path(), "job-a", "run-4", Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(
            fs::read_to_string(lock_file_path(root.path(), "job-a")).unwrap(),
            "run-4"
        );
        drop(again);
    }
}
