//! The MySQL sink's connection URL: `mysql://user:pass@host:port/db[?load=insert]`.
//!
//! Whatever the URL leaves out is taken from the environment — `MYSQL_HOST`, `MYSQL_PORT`,
//! `MYSQL_DATABASE`, `MYSQL_USER`, `MYSQL_PASSWORD` — and then from the defaults (`127.0.0.1`,
//! `3306`, user `root`, no password). The URL always wins over the environment. The database is
//! required (from the URL path or `MYSQL_DATABASE`). User, password and database are
//! percent-decoded, so a password with `@` or `/` is written `%40` / `%2F`.
//!
//! The password never leaves this type in text form: [`Display`](std::fmt::Display) and
//! [`Debug`] print `mysql://user:***@host:port/db`.

use std::fmt;
use std::time::Duration;

use mysql_async::{Opts, OptsBuilder};
use percent_encoding::percent_decode_str;
use serde::{Deserialize, Serialize};

use super::names::validate_identifier;
use crate::error::{Error, Result};

/// How rows reach MySQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LoadMethod {
    /// `LOAD DATA LOCAL INFILE` fed from memory, falling back to [`LoadMethod::Insert`] where the
    /// server refuses LOCAL INFILE (the default).
    LocalInfile,
    /// Multi-row `INSERT` statements sized under `max_allowed_packet` (`?load=insert`).
    Insert,
}

/// A parsed `mysql://` sink URL.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MySqlUrl {
    /// Host name or IP address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// User name.
    pub user: String,
    /// Password, if any (never printed).
    pub password: Option<String>,
    /// Database holding the Gold tables and `pipeline_runs`.
    pub database: String,
    /// How rows are loaded.
    pub load: LoadMethod,
}

impl MySqlUrl {
    /// Parses `url`, filling what it lacks from the process environment.
    pub fn parse(url: &str) -> Result<Self> {
        Self::parse_with_env(url, |name| std::env::var(name).ok())
    }

    /// Parses `url`, filling what it lacks from `env` (`MYSQL_HOST`, `MYSQL_PORT`,
    /// `MYSQL_DATABASE`, `MYSQL_USER`, `MYSQL_PASSWORD`).
    pub fn parse_with_env(url: &str, env: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let invalid = |message: String| Error::invalid("sink URL", message);
        let rest = url
            .strip_prefix("mysql://")
            .ok_or_else(|| invalid("a MySQL sink URL starts with mysql://".into()))?;
        let (rest, query) = match rest.split_once('?') {
            Some((rest, query)) => (rest, Some(query)),
            None => (rest, None),
        };
        let (authority, path) = match rest.split_once('/') {
            Some((authority, path)) => (authority, path),
            None => (rest, ""),
        };
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((userinfo, hostport)) => (Some(userinfo), hostport),
            None => (None, authority),
        };
        let (user, password) = match userinfo {
            Some(info) => match info.split_once(':') {
                Some((user, password)) => (decode(user)?, Some(decode(password)?)),
                None => (decode(info)?, None),
            },
            None => (String::new(), None),
        };
        let (host, port) = split_host_port(hostport).map_err(invalid)?;
        let database = decode(path.trim_end_matches('/'))?;

        let non_empty = |s: String| if s.is_empty() { None } else { Some(s) };
        let host = non_empty(host)
            .or_else(|| env("MYSQL_HOST").and_then(non_empty))
            .unwrap_or_else(|| "127.0.0.1".to_string());
        let port = match port {
            Some(port) => port,
            None => match env("MYSQL_PORT").and_then(non_empty) {
                Some(text) => text
                    .parse()
                    .map_err(|_| invalid(format!("MYSQL_PORT '{text}' is not a port number")))?,
                None => 3306,
            },
        };
        let user = non_empty(user)
            .or_else(|| env("MYSQL_USER").and_then(non_empty))
            .unwrap_or_else(|| "root".to_string());
        let password = password.or_else(|| env("MYSQL_PASSWORD"));
        let database = non_empty(database)
            .or_else(|| env("MYSQL_DATABASE").and_then(non_empty))
            .ok_or_else(|| {
                invalid("no database: use mysql://user:pass@host:port/DB or MYSQL_DATABASE".into())
            })?;
        validate_identifier(&database).map_err(|e| invalid(format!("database name: {e}")))?;

        let mut load = LoadMethod::LocalInfile;
        for pair in query
            .unwrap_or_default()
            .split('&')
            .filter(|p| !p.is_empty())
        {
            match pair.split_once('=') {
                Some(("load", "insert")) => load = LoadMethod::Insert,
                Some(("load", "infile")) => load = LoadMethod::LocalInfile,
                _ => {
                    return Err(invalid(format!(
                        "unknown option '{pair}' (known: load=infile, load=insert)"
                    )));
                }
            }
        }
        Ok(Self {
            host,
            port,
            user,
            password,
            database,
            load,
        })
    }

    /// Where the server is, with the password masked: `mysql://user:***@host:port/db`.
    pub fn masked(&self) -> String {
        self.to_string()
    }

    /// Connection options for `mysql_async`; `with_database` selects the sink's database.
    pub fn opts(&self, with_database: bool) -> Opts {
        OptsBuilder::default()
            .ip_or_hostname(self.host.clone())
            .tcp_port(self.port)
            .user(Some(self.user.clone()))
            .pass(self.password.clone())
            .db_name(with_database.then(|| self.database.clone()))
            .tcp_keepalive(Some(Duration::from_secs(60)))
            .into()
    }
}

impl fmt::Display for MySqlUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let secret = if self.password.is_some() { ":***" } else { "" };
        write!(
            f,
            "mysql://{}{secret}@{host}:{}/{}",
            self.user, self.port, self.database
        )?;
        if self.load == LoadMethod::Insert {
            f.write_str("?load=insert")?;
        }
        Ok(())
    }
}

impl fmt::Debug for MySqlUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MySqlUrl({self})")
    }
}

fn decode(text: &str) -> Result<String> {
    percent_decode_str(text)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| Error::invalid("sink URL", "percent-encoded text is not UTF-8"))
}

/// Splits `host:port`, `[v6]:port`, `host` or an empty string.
fn split_host_port(text: &str) -> std::result::Result<(String, Option<u16>), String> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("unclosed '[' in host '{text}'"))?;
        (host, after.strip_prefix(':'))
    } else {
        match text.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        }
    };
    let port = match port {
        Some("") | None => None,
        Some(port) => Some(
            port.parse::<u16>()
                .map_err(|_| format!("'{port}' is not a port number"))?,
        ),
    };
    Ok((host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn a_full_url_parses_and_decodes() {
        let url =
            MySqlUrl::parse_with_env("mysql://gold%40x:p%40ss%2Fw@db.local:3307/gold", no_env)
                .unwrap();
        assert_eq!(url.user, "gold@x");
        assert_eq!(url.password.as_deref(), Some("p@ss/w"));
        assert_eq!(url.host, "db.local");
        assert_eq!(url.port, 3307);
        assert_eq!(url.database, "gold");
        assert_eq!(url.load, LoadMethod::LocalInfile);
    }

    #[test]
    fn the_password_is_masked_everywhere() {
        let url = MySqlUrl::parse_with_env("mysql://u:s3cret@h:1/db?load=insert", no_env).unwrap();
        assert_eq!(url.to_string(), "mysql://u:***@h:1/db?load=insert");
        assert!(!format!("{url:?}").contains("s3cret"));
        assert_eq!(url.load, LoadMethod::Insert);
    }

    #[test]
    fn the_environment_fills_what_the_url_lacks_and_the_url_wins() {
        let env = |name: &str| {
            Some(
                match name {
                    "MYSQL_HOST" => "envhost",
                    "MYSQL_PORT" => "3310",
                    "MYSQL_DATABASE" => "envdb",
                    "MYSQL_USER" => "envuser",
                    "MYSQL_PASSWORD" => "envpass",
                    _ => return None,
                }
                .to_string(),
            )
        };
        let url = MySqlUrl::parse_with_env("mysql://", env).unwrap();
        assert_eq!(
            (
                url.host.as_str(),
                url.port,
                url.user.as_str(),
                url.database.as_str()
            ),
            ("envhost", 3310, "envuser", "envdb")
        );
        assert_eq!(url.password.as_deref(), Some("envpass"));
        let url = MySqlUrl::parse_with_env("mysql://me:mine@here:3306/mydb", env).unwrap();
        assert_eq!(
            (
                url.host.as_str(),
                url.port,
                url.user.as_str(),
                url.database.as_str()
            ),
            ("here", 3306, "me", "mydb")
        );
        assert_eq!(url.password.as_deref(), Some("mine"));
    }

    #[test]
    fn bad_urls_are_refused() {
        for bad in [
            "mysql://u@h:notaport/db",
            "mysql://u@h:3306/",
            "mysql://u@h/bad-name",
            "mysql://u@h/db?colour=blue",
            "postgres://u@h/db",
        ] {
            assert!(MySqlUrl::parse_with_env(bad, no_env).is_err(), "{bad}");
        }
    }

    #[test]
    fn defaults_apply_without_url_parts_or_environment() {
        let url = MySqlUrl::parse_with_env("mysql:///gold", no_env).unwrap();
        assert_eq!(
            (url.host.as_str(), url.port, url.user.as_str()),
            ("127.0.0.1", 3306, "root")
        );
        assert_eq!(url.password, None);
        assert_eq!(url.to_string(), "mysql://root@127.0.0.1:3306/gold");
    }
}
