//! The MySQL sink over TLS, against a private MariaDB started here with a certificate signed by a
//! certificate authority made here with openssl (`mariadbd --ssl-cert --ssl-key --ssl-ca`).
//!
//! - `ssl-mode=REQUIRED` connects encrypted (`Ssl_cipher` is set) and a run publishes as a user
//!   the server only admits over TLS (`REQUIRE SSL`); without `ssl-mode` the same run is refused
//!   by the server, as before TLS was supported (the default stays plaintext).
//! - `ssl-mode=VERIFY_CA&ssl-ca=` with the right authority publishes; with another authority the
//!   run fails with exit 3 and one line that masks the password.
//!
//! Skipped (with a message) when the MariaDB binaries are missing.

mod common;

use std::fs;
use std::path::Path;
use std::process::Output;

use common::private_mariadb::PrivateMariaDb;
use common::tls::{authority, server_certificate};
use common::*;
use medallion_core::sink::MySqlUrl;
use mysql_async::prelude::Queryable;

const PASSWORD: &str = "tls-s3cret";

/// Authorities `ca` and `other-ca`, and `server.pem`/`server.key` for 127.0.0.1 signed by `ca`.
fn certificates(dir: &Path) {
    authority(dir, "ca");
    authority(dir, "other-ca");
    server_certificate(dir, "ca");
}

/// A private MariaDB serving TLS with the certificates in `certs`; `None` without the binaries.
fn tls_mariadb(dir: &Path, certs: &Path) -> Option<PrivateMariaDb> {
    let cert = |name: &str| certs.join(name).display().to_string();
    PrivateMariaDb::start(
        dir,
        &[
            format!("--ssl-cert={}", cert("server.pem")),
            format!("--ssl-key={}", cert("server.key")),
            format!("--ssl-ca={}", cert("ca.pem")),
        ],
    )
}

/// The URL of database `gold` as `user` (password [`PASSWORD`]) on `server`, with `options`.
fn tls_url(server: &PrivateMariaDb, user: &str, options: &str) -> String {
    format!(
        "mysql://{user}:{PASSWORD}@127.0.0.1:{}/gold{options}",
        server.port
    )
}

fn run(lake: &Path, sink: &str) -> Output {
    medallion(&[
        "run",
        "accidents-datamart",
        "--lake",
        lake.to_str().expect("utf-8"),
        "--sink",
        sink,
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mysql_sink_speaks_tls_when_asked() {
    let root = tempfile::tempdir().expect("temp dir");
    let certs = root.path().join("certs");
    fs::create_dir_all(&certs).expect("certs");
    certificates(&certs);
    let Some(server) = tls_mariadb(&root.path().join("mariadb"), &certs) else {
        eprintln!("SKIPPED the_mysql_sink_speaks_tls_when_asked: no mariadb-install-db");
        return;
    };
    let admin = format!("mysql://root@127.0.0.1:{}/mysql", server.port);
    let mut conn = mysql_async::Conn::new(mysql_async::Opts::from_url(&admin).expect("url"))
        .await
        .expect("connect as root");
    for sql in [
        "CREATE DATABASE gold".to_string(),
        format!("CREATE USER 'tls'@'%' IDENTIFIED BY '{PASSWORD}' REQUIRE SSL"),
        "GRANT ALL ON *.* TO 'tls'@'%'".to_string(),
    ] {
        conn.query_drop(sql).await.expect("set up the server");
    }
    let _ = conn.disconnect().await;

    // REQUIRED: the connection medallion opens is encrypted.
    let url = MySqlUrl::parse(&tls_url(&server, "tls", "?ssl-mode=REQUIRED")).expect("url");
    let mut conn = mysql_async::Conn::new(url.opts(true))
        .await
        .expect("TLS connection");
    let cipher: Option<(String, String)> = conn
        .query_first("SHOW STATUS LIKE 'Ssl_cipher'")
        .await
        .expect("Ssl_cipher");
    let cipher = cipher.map(|(_, value)| value).unwrap_or_default();
    assert!(!cipher.is_empty(), "no TLS cipher in use");
    let _ = conn.disconnect().await;

    let lake = root.path().join("lake");
    write_lake(
        &lake,
        &[
            Accident::clear_day_in_la("a1", 2, "2021-03-05 08:15:00"),
            Accident::clear_day_in_la("a2", 3, "2021-04-05 09:15:00"),
        ],
        Format::Parquet,
    );

    let output = run(&lake, &tls_url(&server, "tls", "?ssl-mode=REQUIRED"));
    assert_success(&output, "REQUIRED, as a user admitted over TLS only");

    // The default is plaintext, as before: the server refuses that user without TLS.
    let output = run(&lake, &tls_url(&server, "tls", ""));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "plaintext: {stderr}");
    assert!(!stderr.contains(PASSWORD), "password leaked: {stderr}");

    let ca = |name: &str| certs.join(name).display().to_string();
    let output = run(
        &lake,
        &tls_url(
            &server,
            "tls",
            &format!("?ssl-mode=VERIFY_CA&ssl-ca={}", ca("ca.pem")),
        ),
    );
    assert_success(&output, "VERIFY_CA with the server's authority");

    let output = run(
        &lake,
        &tls_url(
            &server,
            "tls",
            &format!("?ssl-mode=VERIFY_CA&ssl-ca={}", ca("other-ca.pem")),
        ),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "another authority: {stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(errors.len(), 1, "one error line: {stderr}");
    assert!(errors[0].contains("tls:***@127.0.0.1"), "{stderr}");
    assert!(!stderr.contains(PASSWORD), "password leaked: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
