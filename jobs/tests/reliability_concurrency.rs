//! Issue 9 (3): two runs of the same job never publish at once — the sink's run lock (a `flock`ed
//! file in the Parquet sink's folder, `GET_LOCK` for MySQL) makes the second refuse (exit 1, nothing
//! written) or, with `--lock-wait`, wait with a message; different jobs run side by side.

mod common;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::mysql_db::TestDb;
use common::*;
use mysql_async::prelude::Queryable;

fn rows() -> Vec<Accident> {
    let row = |id, severity| Accident::clear_day_in_la(id, severity, "2021-03-05 08:15:00");
    vec![row("a1", 2), row("a2", 3)]
}

fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_medallion"));
    command
        .args(args)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn datamart_args<'a>(lake: &'a str, sink: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "run",
        "accidents-datamart",
        "--lake",
        lake,
        "--sink",
        sink,
        "--no-progress",
    ];
    args.extend_from_slice(extra);
    args
}

fn text(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Takes the Parquet sink's run lock of `job` as another run would: the file, flocked, holding
/// `run_id`.
fn hold_file_lock(gold: &Path, job: &str, run_id: &str) -> File {
    std::fs::create_dir_all(gold).unwrap();
    let path = gold.join(format!(".medallion-lock-{job}"));
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .unwrap();
    file.lock().unwrap();
    file.write_all(run_id.as_bytes()).unwrap();
    file
}

/// Asserts `output` is the refusal of a second run: exit 1, one error line saying another run of
/// the job is in progress.
fn assert_refused(output: &Output, job: &str, holder: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{}", text(output));
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "{}", text(output));
    assert!(
        errors[0].contains(&format!("another run of {job} is in progress"))
            && errors[0].contains(holder),
        "{}",
        text(output)
    );
}

#[test]
fn a_second_run_of_a_job_is_refused_or_waits_parquet_sink() {
    let root = tempfile::tempdir().unwrap();
    let lake = write_lake(&root.path().join("lake"), &rows(), Format::Parquet);
    let lake = lake.to_str().unwrap();
    let gold = root.path().join("gold");
    let sink = format!("file://{}", gold.display());

    // refused at once (the default --lock-wait 0), nothing written
    let held = hold_file_lock(&gold, "accidents-datamart", "20260101T000000Z-feedbeef");
    let output = command(&datamart_args(lake, &sink, &[])).output().unwrap();
    assert_refused(&output, "accidents-datamart", "20260101T000000Z-feedbeef");
    for table in GOLD_TABLES {
        assert!(!gold.join(table).exists(), "a refused run wrote {table}");
    }
    assert!(
        parquet_files(&gold.join("pipeline_runs")).is_empty(),
        "a refused run recorded itself"
    );

    // --lock-wait: waits with a message, runs once the holder is done
    let child = command(&datamart_args(lake, &sink, &["--lock-wait", "60"]))
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    drop(held);
    let output = child.wait_with_output().unwrap();
    assert_success(&output, "run after waiting");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr
            .contains("waiting for run 20260101T000000Z-feedbeef of accidents-datamart to finish"),
        "{}",
        text(&output)
    );
    assert!(gold.join("accidents_summary").exists());

    // --lock-wait that runs out: exit 1 after about that long
    let _held = hold_file_lock(&gold, "accidents-datamart", "20260101T000000Z-0badf00d");
    let started = std::time::Instant::now();
    let output = command(&datamart_args(lake, &sink, &["--lock-wait", "2"]))
        .output()
        .unwrap();
    assert_refused(&output, "accidents-datamart", "20260101T000000Z-0badf00d");
    assert!(started.elapsed() >= Duration::from_secs(2));
}

/// Two runs of the same job started together: never both in the publishing phase — either the
/// second is refused with the lock message, or (when the first was done before the second took
/// the lock) both succeed one after the other. The published tables are whole either way.
#[tokio::test]
async fn two_simultaneous_runs_never_both_publish() {
    let root = tempfile::tempdir().unwrap();
    let lake = root.path().join("lake");
    let generated = medallion(&[
        "generate",
        "accidents",
        "--rows",
        "60000",
        "--seed",
        "3",
        "--out",
        lake.to_str().unwrap(),
    ]);
    assert_success(&generated, "generate");
    let gold = root.path().join("gold");
    let sink = format!("file://{}", gold.display());
    let lake = lake.to_str().unwrap();
    let a = command(&datamart_args(lake, &sink, &[])).spawn().unwrap();
    let b = command(&datamart_args(lake, &sink, &[])).spawn().unwrap();
    let outputs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
    let ok = outputs.iter().filter(|o| o.status.success()).count();
    assert!(ok >= 1, "{}\n{}", text(&outputs[0]), text(&outputs[1]));
    for output in outputs.iter().filter(|o| !o.status.success()) {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("another run of accidents-datamart is in progress"),
            "{}",
            text(output)
        );
    }
    let gold = Gold::open(&gold).await;
    assert_eq!(gold.count("accidents_summary").await, 60_000);
    let runs = gold
        .rows("SELECT status FROM pipeline_runs WHERE status = 'succeeded'")
        .await;
    assert_eq!(runs.len(), ok, "one pipeline_runs row per published run");
}

/// A held lock of one job does not stop another job, and two different jobs run at the same time
/// into one sink both publish.
#[tokio::test]
async fn different_jobs_run_side_by_side() {
    let root = tempfile::tempdir().unwrap();
    let lake = write_lake(&root.path().join("lake"), &rows(), Format::Parquet);
    let medical = medallion(&[
        "generate",
        "medical",
        "--patients",
        "4",
        "--days",
        "2",
        "--out",
        lake.to_str().unwrap(),
        "--start-date",
        "2024-01-01",
    ]);
    assert_success(&medical, "generate medical");
    let lake = lake.to_str().unwrap();
    let gold = root.path().join("gold");
    let sink = format!("file://{}", gold.display());
    let held = hold_file_lock(&gold, "accidents-datamart", "someone-else");
    let daily = [
        "run",
        "daily-aggregations",
        "--lake",
        lake,
        "--sink",
        &sink,
        "--no-progress",
        "--from",
        "2024-01-01",
        "--to",
        "2024-01-02",
    ];
    let output = command(&daily).output().unwrap();
    assert_success(
        &output,
        "daily-aggregations while the datamart's lock is held",
    );
    drop(held);
    // both at once
    let a = command(&datamart_args(lake, &sink, &[])).spawn().unwrap();
    let b = command(&daily).spawn().unwrap();
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert_success(&a, "datamart side by side");
    assert_success(&b, "daily-aggregations side by side");
    let gold = Gold::open(&gold).await;
    let runs = gold
        .rows("SELECT job FROM pipeline_runs WHERE status = 'succeeded' ORDER BY job")
        .await;
    assert_eq!(runs.len(), 3, "{runs:?}");
}

/// The MySQL sink's lock is `GET_LOCK('medallion:<db>:<job>')`: held by another connection, the run
/// is refused (nothing created, nothing recorded) or waits with `--lock-wait`; another job is not
/// blocked.
#[tokio::test]
async fn a_second_run_of_a_job_is_refused_or_waits_mysql_sink() {
    let db = TestDb::create("med_lock").await;
    let root = tempfile::tempdir().unwrap();
    let lake: PathBuf = write_lake(&root.path().join("lake"), &rows(), Format::Parquet);
    let lake = lake.to_str().unwrap().to_string();
    let sink = db.root_url();
    let name = format!("medallion:{}:accidents-datamart", db.name);
    let mut holder = common::mysql_db::root_conn().await;
    let got: Option<i64> = holder
        .exec_first("SELECT GET_LOCK(?, 0)", (name.as_str(),))
        .await
        .unwrap();
    assert_eq!(got, Some(1));
    let holder_id: Option<u64> = holder.query_first("SELECT CONNECTION_ID()").await.unwrap();
    let holder_text = format!("MySQL connection {}", holder_id.unwrap());

    let args: Vec<String> = datamart_args(&lake, &sink, &[])
        .iter()
        .map(|s| s.to_string())
        .collect();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_medallion"))
            .args(&args)
            .env_remove("RUST_LOG")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_refused(&output, "accidents-datamart", &holder_text);
    let tables = db.tables().await;
    assert!(
        tables.iter().all(|t| t == "pipeline_runs"),
        "a refused run created {tables:?}"
    );
    assert!(db.runs().await.is_empty(), "a refused run recorded itself");

    // waits, then runs once the lock is released
    let (lake2, sink2) = (lake.clone(), sink.clone());
    let waiting = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_medallion"))
            .args(datamart_args(&lake2, &sink2, &["--lock-wait", "60"]))
            .env_remove("RUST_LOG")
            .output()
            .unwrap()
    });
    tokio::time::sleep(Duration::from_secs(3)).await;
    let _: Option<i64> = holder
        .exec_first("SELECT RELEASE_LOCK(?)", (name.as_str(),))
        .await
        .unwrap();
    let output = waiting.await.unwrap();
    assert_success(&output, "MySQL run after waiting");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("waiting for run") && stderr.contains("of accidents-datamart to finish"),
        "{}",
        text(&output)
    );
    assert!(db.tables().await.contains(&"accidents_summary".to_string()));
    let runs = db.runs().await;
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].0, "succeeded");
    // the lock is released after the run: it can be taken again at once
    let again: Option<i64> = holder
        .exec_first("SELECT GET_LOCK(?, 0)", (name.as_str(),))
        .await
        .unwrap();
    assert_eq!(again, Some(1), "the run released its lock");
    let _ = holder.disconnect().await;
}
