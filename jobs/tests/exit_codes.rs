//! The documented exit codes of the real `medallion` binary, each reached in a real way:
//! 0 ok, 1 job (or query) failed while running, 2 bad usage or input, 3 infrastructure unreachable.
//! Every failure prints exactly one `error: ` line on stderr and no panic.

mod common;

use std::path::PathBuf;
use std::process::Output;

use common::*;

/// A MySQL URL where nothing listens (port 1).
const DEAD_MYSQL: &str = "mysql://root:x@127.0.0.1:1/db";
/// A Ballista scheduler URL where nothing listens.
const DEAD_SCHEDULER: &str = "df://127.0.0.1:1";

fn small_lake() -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let row = Accident::clear_day_in_la("a1", 2, "2021-03-05 08:15:00");
    let lake = write_lake(&root.path().join("lake"), &[row], Format::Parquet);
    (root, lake)
}

/// Exit `code`, one `error: ` line naming `needle`, no panic.
fn assert_exit(output: &Output, code: i32, needle: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let context = format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{stderr}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout)
    );
    assert_eq!(output.status.code(), Some(code), "exit code; {context}");
    assert!(!stderr.contains("panicked"), "panic; {context}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "one `error: ` line; {context}");
    assert!(errors[0].contains(needle), "{needle:?}; {context}");
}

#[test]
fn exit_0_ok_and_every_help_has_examples() {
    let output = medallion(&["jobs"]);
    assert_success(&output, "jobs");
    assert!(String::from_utf8_lossy(&output.stdout).contains("accidents-datamart"));
    let output = medallion(&["sql", "--format", "csv", "SELECT 1 + 1 AS two"]);
    assert_success(&output, "sql");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "two\n2\n");
    for command in [
        vec!["--help"],
        vec!["run", "--help"],
        vec!["test", "--help"],
        vec!["submit", "--help"],
        vec!["status", "--help"],
        vec!["jobs", "--help"],
        vec!["sql", "--help"],
        vec!["tables", "--help"],
        vec!["describe", "--help"],
        vec!["explain", "--help"],
        vec!["runs", "--help"],
        vec!["generate", "accidents", "--help"],
        vec!["ingest", "accidents", "--help"],
    ] {
        let output = medallion(&command);
        assert_success(&output, &command.join(" "));
        let help = String::from_utf8_lossy(&output.stdout);
        assert!(
            help.contains("Example"),
            "{command:?} has no examples:\n{help}"
        );
    }
    let help = medallion(&["--help"]);
    assert!(String::from_utf8_lossy(&help.stdout).contains("Exit codes: 0 ok, 1 job failed"));
}

#[test]
fn exit_1_when_a_query_fails_while_running() {
    // The text parses and plans; the cast fails on the executor.
    let output = medallion(&["sql", "SELECT CAST('x' AS INT)"]);
    assert_exit(&output, 1, "Cannot cast");
}

#[test]
fn exit_1_when_an_error_expectation_fails_and_2_when_one_is_malformed() {
    let (root, lake) = small_lake();
    let lake = lake.to_str().unwrap();
    let sink = format!("file://{}", root.path().join("gold").display());
    let expect = root.path().join("expect.toml");
    // the one accident is in CA
    std::fs::write(
        &expect,
        "[[expect]]\nname = \"texas_only\"\nkind = \"accepted_values\"\ntable = \"accidents\"\n\
         column = \"state\"\nvalues = [\"TX\"]\n",
    )
    .unwrap();
    let expect = expect.to_str().unwrap();
    for command in ["run", "test"] {
        let output = medallion(&[
            command,
            "accidents-datamart",
            "--lake",
            lake,
            "--sink",
            &sink,
            "--expect",
            expect,
        ]);
        assert_exit(
            &output,
            1,
            "data quality gate: 1 error expectation(s) failed",
        );
    }
    let bad = root.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[expect]]\nkind = \"row_count\"\ntable = \"accidents\"\n",
    )
    .unwrap();
    let output = medallion(&[
        "run",
        "accidents-datamart",
        "--lake",
        lake,
        "--sink",
        &sink,
        "--expect",
        bad.to_str().unwrap(),
    ]);
    assert_exit(&output, 2, "row_count needs min and/or max");
}

#[test]
fn exit_2_unknown_job() {
    for command in ["run", "explain"] {
        let output = medallion(&[command, "no-such-job"]);
        assert_exit(&output, 2, "unknown job 'no-such-job'");
    }
}

#[test]
fn exit_2_bad_flag() {
    for args in [
        vec!["run", "accidents-datamart", "--no-such-flag"],
        vec!["sql", "--format", "xml", "SELECT 1"],
        vec!["runs", "--limit", "many"],
        vec!["run", "accidents-datamart", "--concurrency", "0"],
    ] {
        let output = medallion(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    }
}

#[test]
fn exit_2_missing_lake() {
    let missing = "/nonexistent/medallion-exit-codes-lake";
    for args in [
        vec!["run", "accidents-datamart", "--lake", missing, "--dry-run"],
        vec!["tables", "--lake", missing],
        vec!["sql", "--lake", missing, "SELECT 1"],
        vec!["explain", "accidents-datamart", "--lake", missing],
    ] {
        let output = medallion(&args);
        assert_exit(&output, 2, missing);
    }
}

#[test]
fn exit_2_bad_sql() {
    let (_root, lake) = small_lake();
    let lake = lake.to_str().unwrap();
    let output = medallion(&["sql", "--lake", lake, "SELEC 1"]);
    assert_exit(&output, 2, "invalid SQL");
    let output = medallion(&["sql", "--lake", lake, "SELECT nope FROM accidents"]);
    assert_exit(&output, 2, "nope");
    let output = medallion(&["sql", "--lake", lake, "SELECT * FROM no_table"]);
    assert_exit(&output, 2, "no_table");
}

#[test]
fn exit_3_mysql_unreachable() {
    let (_root, lake) = small_lake();
    let lake = lake.to_str().unwrap();
    for args in [
        vec![
            "run",
            "accidents-datamart",
            "--lake",
            lake,
            "--sink",
            DEAD_MYSQL,
        ],
        vec![
            "run",
            "accidents-datamart",
            "--lake",
            lake,
            "--sink",
            DEAD_MYSQL,
            "--dry-run",
        ],
        vec!["runs", "--sink", DEAD_MYSQL],
    ] {
        let output = medallion(&args);
        assert_exit(&output, 3, "cannot reach MySQL");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("root:x@"), "password shown: {stderr}");
    }
}

#[test]
fn exit_3_scheduler_unreachable() {
    let output = medallion(&["sql", "--scheduler", DEAD_SCHEDULER, "SELECT 1"]);
    assert_exit(&output, 3, "127.0.0.1:1");
    let (_root, lake) = small_lake();
    let output = medallion(&[
        "submit",
        "accidents-datamart",
        "--scheduler",
        DEAD_SCHEDULER,
        "--lake",
        lake.to_str().unwrap(),
        "--dry-run",
    ]);
    assert_exit(&output, 3, "127.0.0.1:1");
}
