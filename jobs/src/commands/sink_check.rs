//! Checks that a Gold sink is usable without writing anything (for `run --dry-run`), and the
//! MySQL connection helper of the read-only commands.
//!
//! - `file://DIR`: DIR is a writable folder, or would be created under a writable folder.
//! - `mysql://...`: the server answers with these credentials; says whether the database exists
//!   (`prepare` creates it otherwise).

use std::path::{Path, PathBuf};
use std::time::Duration;

use medallion_core::sink::MySqlUrl;
use medallion_core::{Error, Result};
use mysql_async::Conn;
use mysql_async::prelude::Queryable;

/// How long the read-only commands wait for MySQL to accept a connection.
pub const MYSQL_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A sink URL, parsed as `open_sink` does.
#[derive(Debug, Clone)]
pub enum SinkUrl {
    /// A folder of Parquet table folders.
    File(PathBuf),
    /// A MySQL database.
    MySql(Box<MySqlUrl>),
}

impl SinkUrl {
    /// Parses `file://DIR`, a plain folder path or `mysql://user:pass@host:port/db`.
    pub fn parse(url: &str) -> Result<Self> {
        match url.split_once("://") {
            Some(("file", path)) if !path.is_empty() => Ok(SinkUrl::File(PathBuf::from(path))),
            Some(("mysql", _)) => Ok(SinkUrl::MySql(Box::new(MySqlUrl::parse(url)?))),
            Some((scheme, _)) => Err(Error::invalid(
                "--sink",
                format!(
                    "unsupported scheme '{scheme}://' (use file://DIR or mysql://user:pass@host:port/db)"
                ),
            )),
            None if url.is_empty() => Err(Error::invalid("--sink", "empty")),
            None => Ok(SinkUrl::File(PathBuf::from(url))),
        }
    }

    /// The sink in words, with the password masked.
    pub fn describe(&self) -> String {
        match self {
            SinkUrl::File(dir) => format!("file://{}", dir.display()),
            SinkUrl::MySql(url) => url.masked(),
        }
    }
}

/// A connection to the sink's MySQL server (`with_database` selects its database); a failure is
/// [`Error::Unreachable`] with the password masked.
pub async fn mysql_connect(url: &MySqlUrl, with_database: bool) -> Result<Conn> {
    let unreachable = |message: String| Error::Unreachable {
        what: "MySQL",
        location: url.masked(),
        message,
    };
    match tokio::time::timeout(MYSQL_CONNECT_TIMEOUT, Conn::new(url.opts(with_database))).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(unreachable(e.to_string())),
        Err(_) => Err(unreachable(format!(
            "no answer within {} s",
            MYSQL_CONNECT_TIMEOUT.as_secs()
        ))),
    }
}

/// The nearest existing ancestor of `path` (itself included).
fn existing_ancestor(path: &Path) -> Option<&Path> {
    path.ancestors()
        .find(|p| !p.as_os_str().is_empty() && p.exists())
        .or_else(|| path.is_relative().then_some(Path::new(".")))
}

fn check_folder(dir: &Path) -> Result<String> {
    let not_writable = |message: String| Error::invalid("--sink", message);
    let Some(existing) = existing_ancestor(dir) else {
        return Err(not_writable(format!(
            "{}: no existing parent folder",
            dir.display()
        )));
    };
    let meta = std::fs::metadata(existing).map_err(|e| Error::io("checking", existing, e))?;
    if !meta.is_dir() {
        return Err(not_writable(format!(
            "{} is a file, not a folder",
            existing.display()
        )));
    }
    if meta.permissions().readonly() {
        return Err(not_writable(format!("{} is read-only", existing.display())));
    }
    Ok(if existing == dir {
        format!("folder {} exists and is writable", dir.display())
    } else {
        format!(
            "folder {} would be created under {}",
            dir.display(),
            existing.display()
        )
    })
}

/// Checks the sink at `url` without writing; returns what was found, in words.
pub async fn check(url: &str) -> Result<String> {
    match SinkUrl::parse(url)? {
        SinkUrl::File(dir) => check_folder(&dir),
        SinkUrl::MySql(url) => {
            let mut conn = mysql_connect(&url, false).await?;
            let version = conn.server_version();
            let exists: Option<String> = conn
                .exec_first(
                    "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
                    (url.database.as_str(),),
                )
                .await
                .map_err(|e| Error::Unreachable {
                    what: "MySQL",
                    location: url.masked(),
                    message: e.to_string(),
                })?;
            let _ = conn.disconnect().await;
            Ok(format!(
                "MySQL {}.{}.{} answers at {}; database {} {}",
                version.0,
                version.1,
                version.2,
                url.masked(),
                url.database,
                if exists.is_some() {
                    "exists"
                } else {
                    "would be created"
                }
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sink_urls_parse_like_open_sink() {
        assert!(
            matches!(SinkUrl::parse("file:///tmp/g").unwrap(), SinkUrl::File(p) if p == Path::new("/tmp/g"))
        );
        assert!(matches!(SinkUrl::parse("gold").unwrap(), SinkUrl::File(_)));
        assert!(matches!(
            SinkUrl::parse("mysql://u:p@h:3306/db").unwrap(),
            SinkUrl::MySql(_)
        ));
        assert!(SinkUrl::parse("ftp://x").is_err());
        assert!(SinkUrl::parse("").is_err());
    }

    #[test]
    fn a_folder_sink_is_checked_without_being_created() {
        let root = tempfile::tempdir().unwrap();
        let missing = root.path().join("a/b/gold");
        let said = check_folder(&missing).unwrap();
        assert!(said.contains("would be created"), "{said}");
        assert!(!missing.exists());
        let said = check_folder(root.path()).unwrap();
        assert!(said.contains("exists"), "{said}");
        let file = root.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        let err = check_folder(&file.join("gold")).unwrap_err();
        assert!(err.to_string().contains("not a folder"), "{err}");
    }
}
