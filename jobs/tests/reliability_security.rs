//! Issue 9 (4): secrets never reach the output, identifiers are validated before any SQL, and the
//! research export refuses to run without its key.
//!
//! Needs the MariaDB server on 127.0.0.1:3306 (root, no password); each test creates its own
//! database and user and drops them.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::mysql_db::{TestDb, unique_name};
use common::*;
use datafusion::prelude::SessionContext;
use medallion_core::sink::{GoldTable, open_sink};
use medallion_core::table_options::TableOptions;

/// A password no log line could contain by chance.
const PASSWORD: &str = "Zq7-Secr3t_pw-Xk42vB";

fn lake(root: &Path) -> std::path::PathBuf {
    let row = |id, severity| Accident::clear_day_in_la(id, severity, "2021-03-05 08:15:00");
    write_lake(
        &root.join("lake"),
        &[row("a1", 2), row("a2", 3)],
        Format::Parquet,
    )
}

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_medallion"));
    command.args(args).env_remove("RUST_LOG");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("start medallion")
}

/// Fails when `secret` appears in stdout or stderr of `output` (`what` names the run).
fn assert_not_leaked(output: &Output, secret: &str, what: &str) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stdout.contains(secret) && !stderr.contains(secret),
        "{what}: the secret appears in the output\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
}

/// Success and failure paths, human and JSON logs, verbose and RUST_LOG=debug: the MySQL password
/// never appears; the URL is shown masked.
#[tokio::test]
async fn the_mysql_password_never_appears_in_the_output() {
    let mut db = TestDb::create("med_sec").await;
    let user = unique_name("u");
    // MySQL user names are at most 80 characters; keep it short
    let user: String = user.chars().take(24).collect();
    db.create_user(&user, PASSWORD).await;
    let root = tempfile::tempdir().unwrap();
    let lake = lake(root.path());
    let lake = lake.to_str().unwrap();
    let good = format!("mysql://{user}:{PASSWORD}@127.0.0.1:3306/{}", db.name);
    let wrong = format!("mysql://{user}:{PASSWORD}-wrong@127.0.0.1:3306/{}", db.name);
    let other_db = format!(
        "mysql://{user}:{PASSWORD}@127.0.0.1:3306/not_granted_{}",
        db.name
    );
    let corrupt = root.path().join("corrupt");
    std::fs::create_dir_all(corrupt.join("accidents")).unwrap();
    std::fs::write(corrupt.join("accidents/part-0.parquet"), b"PAR1 junk PAR1").unwrap();
    let corrupt = corrupt.to_str().unwrap();

    let base = |sink: &str, lake: &str, format: &str| -> Vec<String> {
        [
            "--log-format",
            format,
            "run",
            "accidents-datamart",
            "--lake",
            lake,
            "--sink",
            sink,
            "--no-progress",
            "--set",
            "hotspot_min_accidents=1",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    for format in ["human", "json"] {
        // success, also with debug logs of every crate
        for env in [vec![], vec![("RUST_LOG", "debug")]] {
            let args = base(&good, lake, format);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let output = run(&args, &env);
            assert_success(&output, &format!("{format} {env:?}"));
            assert_not_leaked(&output, PASSWORD, &format!("success {format} {env:?}"));
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert!(
                stdout.contains(&format!("mysql://{user}:***@127.0.0.1:3306/{}", db.name)),
                "masked URL in the summary: {stdout}"
            );
        }
        // wrong password: unreachable (exit 3), the masked URL named
        let args = base(&wrong, lake, format);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = run(&args, &[]);
        assert_eq!(output.status.code(), Some(3), "wrong password {format}");
        assert_not_leaked(&output, PASSWORD, &format!("wrong password {format}"));
        assert!(String::from_utf8_lossy(&output.stderr).contains(":***@127.0.0.1"));
        // a database the user may not create: the run fails on the server
        let args = base(&other_db, lake, format);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = run(&args, &[]);
        assert_ne!(output.status.code(), Some(0), "not granted {format}");
        assert_not_leaked(&output, PASSWORD, &format!("not granted {format}"));
        // a corrupt lake file with the MySQL sink
        let args = base(&good, corrupt, format);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = run(&args, &[("RUST_LOG", "debug")]);
        assert_eq!(output.status.code(), Some(2), "corrupt lake {format}");
        assert_not_leaked(&output, PASSWORD, &format!("corrupt lake {format}"));
    }
    // `runs` and a bad URL with the password in it
    let output = run(&["runs", "--sink", &good], &[]);
    assert_success(&output, "runs");
    assert_not_leaked(&output, PASSWORD, "runs");
    let bad_port = format!("mysql://{user}:{PASSWORD}@127.0.0.1:notaport/{}", db.name);
    let output = run(&["runs", "--sink", &bad_port], &[]);
    assert_eq!(output.status.code(), Some(2), "bad port");
    assert_not_leaked(&output, PASSWORD, "bad port");
    // nothing the runs recorded holds it either
    for (status, error) in db.runs().await {
        assert!(
            !error.as_deref().unwrap_or("").contains(PASSWORD),
            "pipeline_runs error of a {status} run holds the password"
        );
    }
}

/// Column and table names with a backtick, a quote or a semicolon are refused by the MySQL sink
/// with a clear message before any SQL runs: nothing is created in the database.
#[tokio::test]
async fn hostile_identifiers_are_refused_before_any_sql() {
    let db = TestDb::create("med_ident").await;
    let ctx = SessionContext::new();
    let options = TableOptions::default();
    for (table, column) in [
        ("kpis_ok", "a`; DROP TABLE pipeline_runs; -- "),
        ("kpis_ok", "it's"),
        ("kpis_ok", "x;y"),
        ("t`x", "a"),
        ("t'; DROP DATABASE mysql; --", "a"),
        ("t;x", "a"),
    ] {
        let mut sink = open_sink(&db.root_url()).unwrap();
        sink.prepare(&format!("run-{}", table.len() + column.len()))
            .await
            .unwrap();
        let before = db.tables().await;
        let sql = format!("SELECT 1 AS \"{}\"", column.replace('"', "\"\""));
        let df = ctx.sql(&sql).await.unwrap();
        let err = sink
            .write_table(
                GoldTable {
                    name: table,
                    options: &options,
                },
                df,
            )
            .await
            .expect_err("a hostile identifier must be refused");
        let text = err.to_string();
        let bad = if table == "kpis_ok" { column } else { table };
        assert!(
            (text.contains("identifier") || text.contains("table name"))
                && text.contains(bad.trim()),
            "{table}/{column}: {text}"
        );
        assert_eq!(err.exit_code(), 2, "{text}");
        sink.abort().await.unwrap();
        assert_eq!(
            db.tables().await,
            before,
            "{table}/{column} created a table"
        );
        assert_eq!(before, vec!["pipeline_runs".to_string()]);
    }
}

/// The research export needs its pseudonymisation key: without one it refuses to run (exit 2,
/// naming the variable) and writes nothing; with one, the key never appears in the output.
#[test]
fn research_export_refuses_to_run_without_a_key() {
    let root = tempfile::tempdir().unwrap();
    let lake = root.path().join("lake");
    let out = lake.to_str().unwrap();
    let generated = medallion(&[
        "generate",
        "medical",
        "--patients",
        "30",
        "--days",
        "10",
        "--out",
        out,
        "--start-date",
        "2024-01-01",
    ]);
    assert_success(&generated, "generate medical");
    let gold = root.path().join("gold");
    let sink = format!("file://{}", gold.display());
    let args = [
        "run",
        "research-export",
        "--lake",
        out,
        "--sink",
        &sink,
        "--no-progress",
        "--from",
        "2024-01-01",
        "--to",
        "2024-01-10",
    ];
    let mut command = Command::new(env!("CARGO_BIN_EXE_medallion"));
    let output = command
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("MEDALLION_PSEUDONYM_KEY")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    let error: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(error.len(), 1, "{stderr}");
    assert!(error[0].contains("MEDALLION_PSEUDONYM_KEY"), "{stderr}");
    assert!(!gold.exists(), "a refused run wrote {}", gold.display());
    // a key shorter than 16 characters is refused too
    let short = Command::new(env!("CARGO_BIN_EXE_medallion"))
        .args(args)
        .env_remove("RUST_LOG")
        .env("MEDALLION_PSEUDONYM_KEY", "short")
        .output()
        .unwrap();
    assert_eq!(short.status.code(), Some(2));
    // with a key: it runs and the key is never printed, human or JSON, with the default logs,
    // --verbose, or RUST_LOG=debug (where the engines log plans and SQL tokens holding the literal)
    let key = "k3y-0f-th3-r3s3arch-3xp0rt-Zz91";
    for (format, extra, rust_log) in [
        ("json", None, None),
        ("human", Some("--verbose"), None),
        ("json", None, Some("debug")),
        ("human", None, Some("debug")),
    ] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_medallion"));
        command
            .args(["--log-format", format])
            .args(extra)
            .args(args)
            .env_remove("RUST_LOG")
            .env("MEDALLION_PSEUDONYM_KEY", key);
        if let Some(level) = rust_log {
            command.env("RUST_LOG", level);
        }
        let ok = command.output().unwrap();
        let what = format!("research export, {format} logs, {extra:?}, RUST_LOG={rust_log:?}");
        assert_success(&ok, &what);
        assert_not_leaked(&ok, key, &what);
    }
}
