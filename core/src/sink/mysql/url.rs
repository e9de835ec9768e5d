//! The MySQL sink's connection URL:
//! `mysql://user:pass@host:port/db[?load=insert][&ssl-mode=MODE][&ssl-ca=FILE]`.
//!
//! Whatever the URL leaves out is taken from the environment — `MYSQL_HOST`, `MYSQL_PORT`,
//! `MYSQL_DATABASE`, `MYSQL_USER`, `MYSQL_PASSWORD` — and then from the defaults (`127.0.0.1`,
//! `3306`, user `root`, no password). The URL always wins over the environment. The database is
//! required (from the URL path or `MYSQL_DATABASE`). User, password and database are
//! percent-decoded, so a password with `@` or `/` is written `%40` / `%2F`.
//!
//! `ssl-mode` takes MySQL's client names: `DISABLED` (the default: no TLS, as before TLS was
//! supported), `PREFERRED` (TLS when the server offers it, the certificate not checked),
//! `REQUIRED` (TLS or no connection, the certificate not checked), `VERIFY_CA` (TLS with a
//! certificate signed by `ssl-ca`, or by a public authority without it) and `VERIFY_IDENTITY`
//! (`VERIFY_CA` and the certificate names the host). `ssl-ca` alone means `VERIFY_CA`. The CA file
//! is read by every process that connects (the client and, on a cluster, the executors): give a
//! path that exists on all of them.
//!
//! The password never leaves this type in text form: [`Display`](std::fmt::Display) and
//! [`Debug`] print `mysql://user:***@host:port/db`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mysql_async::{Opts, OptsBuilder, SslOpts};
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

/// How the connection to the server is encrypted (`?ssl-mode=`, MySQL's client names).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SslMode {
    /// No TLS (the default).
    #[default]
    Disabled,
    /// TLS when the server offers it, plaintext otherwise; the certificate is not checked.
    Preferred,
    /// TLS or no connection; the certificate is not checked.
    Required,
    /// TLS with a certificate signed by the `ssl-ca` authority (or a public one without it).
    VerifyCa,
    /// [`SslMode::VerifyCa`], and the certificate names the host connected to.
    VerifyIdentity,
}

impl SslMode {
    fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_uppercase().replace('-', "_").as_str() {
            "DISABLED" => Some(Self::Disabled),
            "PREFERRED" => Some(Self::Preferred),
            "REQUIRED" => Some(Self::Required),
            "VERIFY_CA" => Some(Self::VerifyCa),
            "VERIFY_IDENTITY" => Some(Self::VerifyIdentity),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Disabled => "DISABLED",
            Self::Preferred => "PREFERRED",
            Self::Required => "REQUIRED",
            Self::VerifyCa => "VERIFY_CA",
            Self::VerifyIdentity => "VERIFY_IDENTITY",
        }
    }
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
    /// How the connection is encrypted.
    #[serde(default)]
    pub ssl_mode: SslMode,
    /// The certificate authority (PEM) the server's certificate must be signed by.
    #[serde(default)]
    pub ssl_ca: Option<PathBuf>,
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
        let mut ssl_mode = None;
        let mut ssl_ca = None;
        for pair in query
            .unwrap_or_default()
            .split('&')
            .filter(|p| !p.is_empty())
        {
            match pair.split_once('=') {
                Some(("load", "insert")) => load = LoadMethod::Insert,
                Some(("load", "infile")) => load = LoadMethod::LocalInfile,
                Some(("ssl-mode" | "ssl_mode", mode)) => {
                    ssl_mode = Some(SslMode::parse(mode).ok_or_else(|| {
                        invalid(format!(
                            "ssl-mode '{mode}' (use DISABLED, PREFERRED, REQUIRED, VERIFY_CA or \
                             VERIFY_IDENTITY)"
                        ))
                    })?);
                }
                Some(("ssl-ca" | "ssl_ca", file)) => {
                    let file = PathBuf::from(decode(file)?);
                    if !file.is_file() {
                        return Err(invalid(format!("ssl-ca {}: no such file", file.display())));
                    }
                    ssl_ca = Some(file);
                }
                _ => {
                    return Err(invalid(format!(
                        "unknown option '{pair}' (known: load=infile, load=insert, \
                         ssl-mode=MODE, ssl-ca=FILE)"
                    )));
                }
            }
        }
        // As MySQL's client: a CA alone asks for its verification.
        let ssl_mode = ssl_mode.unwrap_or(if ssl_ca.is_some() {
            SslMode::VerifyCa
        } else {
            SslMode::Disabled
        });
        if ssl_mode == SslMode::Disabled && ssl_ca.is_some() {
            return Err(invalid("ssl-ca with ssl-mode=DISABLED".into()));
        }
        Ok(Self {
            host,
            port,
            user,
            password,
            database,
            load,
            ssl_mode,
            ssl_ca,
        })
    }

    /// Where the server is, with the password masked: `mysql://user:***@host:port/db`.
    pub fn masked(&self) -> String {
        self.to_string()
    }

    /// The TLS options of [`Self::ssl_mode`]; `None` for a plaintext connection.
    pub fn ssl_opts(&self) -> Option<SslOpts> {
        let unchecked = || {
            SslOpts::default()
                .with_danger_accept_invalid_certs(true)
                .with_danger_skip_domain_validation(true)
        };
        let verified = |ca: Option<&Path>| {
            let opts = SslOpts::default();
            match ca {
                Some(ca) => opts
                    .with_root_certs(vec![ca.to_path_buf().into()])
                    .with_disable_built_in_roots(true),
                None => opts,
            }
        };
        match self.ssl_mode {
            SslMode::Disabled => None,
            SslMode::Preferred | SslMode::Required => Some(unchecked()),
            SslMode::VerifyCa => {
                Some(verified(self.ssl_ca.as_deref()).with_danger_skip_domain_validation(true))
            }
            SslMode::VerifyIdentity => Some(verified(self.ssl_ca.as_deref())),
        }
    }

    /// Connection options for `mysql_async`; `with_database` selects the sink's database.
    pub fn opts(&self, with_database: bool) -> Opts {
        self.opts_with_tls(with_database, true)
    }

    /// [`Self::opts`], without TLS when `tls` is false (the plaintext retry of
    /// `ssl-mode=PREFERRED` against a server without TLS).
    pub fn opts_with_tls(&self, with_database: bool, tls: bool) -> Opts {
        OptsBuilder::default()
            .ssl_opts(if tls { self.ssl_opts() } else { None })
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
        let mut options = Vec::new();
        if self.load == LoadMethod::Insert {
            options.push("load=insert".to_string());
        }
        if self.ssl_mode != SslMode::Disabled {
            options.push(format!("ssl-mode={}", self.ssl_mode.name()));
        }
        if let Some(ca) = &self.ssl_ca {
            options.push(format!("ssl-ca={}", ca.display()));
        }
        if !options.is_empty() {
            write!(f, "?{}", options.join("&"))?;
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
    fn ssl_modes_parse_and_tls_stays_off_by_default() {
        let url = MySqlUrl::parse_with_env("mysql://u@h/db", no_env).unwrap();
        assert_eq!(url.ssl_mode, SslMode::Disabled);
        assert!(url.ssl_opts().is_none());
        let url = MySqlUrl::parse_with_env("mysql://u@h/db?ssl-mode=required", no_env).unwrap();
        assert_eq!(url.ssl_mode, SslMode::Required);
        let opts = url.ssl_opts().unwrap();
        assert!(opts.accept_invalid_certs() && opts.skip_domain_validation());
        assert_eq!(url.to_string(), "mysql://u@h:3306/db?ssl-mode=REQUIRED");
        let ca = std::env::temp_dir().join("medallion-url-test-ca.pem");
        std::fs::write(&ca, "not checked here").unwrap();
        let text = format!("mysql://u@h/db?load=insert&ssl-ca={}", ca.display());
        let url = MySqlUrl::parse_with_env(&text, no_env).unwrap();
        assert_eq!(url.ssl_mode, SslMode::VerifyCa, "a CA alone verifies");
        let opts = url.ssl_opts().unwrap();
        assert!(!opts.accept_invalid_certs() && opts.skip_domain_validation());
        assert!(opts.disable_built_in_roots());
        let text = format!(
            "mysql://u@h/db?ssl-mode=VERIFY_IDENTITY&ssl-ca={}",
            ca.display()
        );
        let url = MySqlUrl::parse_with_env(&text, no_env).unwrap();
        let opts = url.ssl_opts().unwrap();
        assert!(!opts.accept_invalid_certs() && !opts.skip_domain_validation());
        for bad in [
            "mysql://u@h/db?ssl-mode=MAYBE".to_string(),
            "mysql://u@h/db?ssl-ca=/no/such/ca.pem".to_string(),
            format!("mysql://u@h/db?ssl-mode=DISABLED&ssl-ca={}", ca.display()),
        ] {
            let err = MySqlUrl::parse_with_env(&bad, no_env).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{bad}: {err}");
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
