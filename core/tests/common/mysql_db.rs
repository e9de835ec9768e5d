//! A uniquely named database (and optionally a user) on the shared MariaDB server on
//! 127.0.0.1:3306 (root, no password), dropped when the value is dropped. Shared by core's and
//! (through a `#[path]` module) jobs' integration tests.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts};

/// The shared server, as root.
pub const MYSQL_ROOT: &str = "mysql://root@127.0.0.1:3306";

/// A unique name `prefix_<pid>_<nanos>_<n>` (letters, digits and `_`).
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}_{}_{nanos}_{n}", std::process::id())
}

/// A root connection to the shared server.
pub async fn root_conn() -> Conn {
    Conn::new(Opts::from_url(MYSQL_ROOT).unwrap())
        .await
        .expect("MariaDB on 127.0.0.1:3306 (root, no password): start it as .ci/run does")
}

/// A database created for one test; dropped (with the users created through it) on drop.
pub struct TestDb {
    /// The database name.
    pub name: String,
    users: Vec<String>,
}

impl TestDb {
    /// Creates a new, empty database named after `prefix`.
    pub async fn create(prefix: &str) -> TestDb {
        let db = TestDb::reserve(prefix);
        let mut conn = root_conn().await;
        conn.query_drop(format!("CREATE DATABASE `{}`", db.name))
            .await
            .unwrap();
        let _ = conn.disconnect().await;
        db
    }

    /// A unique database name after `prefix`, not created (for code that creates its database
    /// itself); dropped like a created one if it then exists.
    pub fn reserve(prefix: &str) -> TestDb {
        TestDb {
            name: unique_name(prefix),
            users: Vec::new(),
        }
    }

    /// `mysql://root@127.0.0.1:3306/<db>`.
    pub fn root_url(&self) -> String {
        format!("{MYSQL_ROOT}/{}", self.name)
    }

    /// Creates user `user` with `password`, with every privilege on this database only.
    pub async fn create_user(&mut self, user: &str, password: &str) {
        let mut conn = root_conn().await;
        for host in ["%", "localhost", "127.0.0.1"] {
            conn.query_drop(format!(
                "CREATE USER '{user}'@'{host}' IDENTIFIED BY '{password}'"
            ))
            .await
            .unwrap();
            conn.query_drop(format!(
                "GRANT ALL PRIVILEGES ON `{}`.* TO '{user}'@'{host}'",
                self.name
            ))
            .await
            .unwrap();
        }
        let _ = conn.disconnect().await;
        self.users.push(user.to_string());
    }

    /// A root connection with this database selected.
    pub async fn conn(&self) -> Conn {
        Conn::new(Opts::from_url(&self.root_url()).unwrap())
            .await
            .unwrap()
    }

    /// The tables of the database, sorted.
    pub async fn tables(&self) -> Vec<String> {
        let mut conn = root_conn().await;
        let names: Vec<String> = conn
            .exec(
                "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY 1",
                (self.name.as_str(),),
            )
            .await
            .unwrap();
        let _ = conn.disconnect().await;
        names
    }

    /// `CHECKSUM TABLE` and row count of every table but `pipeline_runs`: what "the published Gold
    /// tables did not change" compares.
    pub async fn snapshot(&self) -> Vec<(String, Option<u64>, u64)> {
        let mut conn = self.conn().await;
        let mut out = Vec::new();
        for table in self.tables().await {
            if table == "pipeline_runs" {
                continue;
            }
            let sum: Option<(String, Option<u64>)> = conn
                .query_first(format!("CHECKSUM TABLE `{}`.`{table}`", self.name))
                .await
                .unwrap();
            let count: Option<u64> = conn
                .query_first(format!("SELECT COUNT(*) FROM `{}`.`{table}`", self.name))
                .await
                .unwrap();
            out.push((table, sum.and_then(|s| s.1), count.unwrap_or(0)));
        }
        let _ = conn.disconnect().await;
        out
    }

    /// `(status, error)` of every `pipeline_runs` row, oldest first.
    pub async fn runs(&self) -> Vec<(String, Option<String>)> {
        if !self.tables().await.iter().any(|t| t == "pipeline_runs") {
            return Vec::new();
        }
        let mut conn = self.conn().await;
        let rows: Vec<(String, Option<String>)> = conn
            .query("SELECT status, error FROM pipeline_runs ORDER BY started_at")
            .await
            .unwrap();
        let _ = conn.disconnect().await;
        rows
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let users = std::mem::take(&mut self.users);
        // Drop runs outside any async context: a thread with its own runtime.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                let Ok(opts) = Opts::from_url(MYSQL_ROOT) else {
                    return;
                };
                let Ok(mut conn) = Conn::new(opts).await else {
                    return;
                };
                let _ = conn
                    .query_drop(format!("DROP DATABASE IF EXISTS `{name}`"))
                    .await;
                for user in users {
                    for host in ["%", "localhost", "127.0.0.1"] {
                        let _ = conn
                            .query_drop(format!("DROP USER IF EXISTS '{user}'@'{host}'"))
                            .await;
                    }
                }
                let _ = conn.disconnect().await;
            });
        })
        .join();
    }
}
