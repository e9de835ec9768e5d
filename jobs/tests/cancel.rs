//! Cancelling a submitted run (issue 27): a `medallion submit` of the datamart on a real local
//! cluster, one of its Ballista jobs found with `medallion jobs --running` and cancelled with
//! `medallion cancel` from another process. The run must end with exit code 4 and its one error
//! line, publish nothing (the Gold tables of an earlier run stay as they were) and record
//! `cancelled` in `pipeline_runs` — into a Parquet folder and into MariaDB.
//!
//! Every wait is bounded: a run that does not end within [`RUN_LIMIT`] after the cancellation fails
//! the test as a hang (`--job-timeout` is far above it, so the timeout is not what ends the run).

use std::collections::BTreeMap;
use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::cluster::{Cluster, medallion_bin, tail};
use common::mysql_db::TestDb;

/// Rows of the lake the cancelled run reads: enough that its Ballista jobs (one per Gold table,
/// one at a time) keep the cluster busy for many seconds.
const BIG_ROWS: u64 = 1_000_000;

/// Rows of the lake of the earlier, published run.
const SMALL_ROWS: u64 = 2_000;

/// How long the cancelled run may take to end after the cancellation.
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// How long the test looks for a running job of the run.
const FIND_LIMIT: Duration = Duration::from_secs(180);

/// The exit code of a cancelled run (README, Exit codes).
const CANCELLED: i32 = 4;

/// Held by each test that starts a cluster, so that the tests of this file run one at a time.
static ONE_CLUSTER_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// `medallion ARGS` to its end (at most 5 minutes).
fn medallion(args: &[&str]) -> Output {
    let mut child = Command::new(medallion_bin())
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("MEDALLION_SCHEDULER")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start medallion");
    let started = Instant::now();
    while child.try_wait().expect("poll").is_none() {
        if started.elapsed() > Duration::from_secs(300) {
            let _ = child.kill();
            panic!("medallion {args:?} hung");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("output")
}

fn assert_ok(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A generated lake of `rows` accidents at `dir`.
fn generate(dir: &Path, rows: u64) -> String {
    let lake = dir.to_str().expect("utf-8 path").to_string();
    let output = medallion(&[
        "generate",
        "accidents",
        "--rows",
        &rows.to_string(),
        "--out",
        &lake,
    ]);
    assert_ok(&output, "medallion generate");
    lake
}

/// Every Gold file under `gold` (not `pipeline_runs`, nor the run lock) with a hash of its bytes.
fn gold_files(gold: &Path) -> BTreeMap<String, u64> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, u64>) {
        for entry in fs::read_dir(dir).expect("read the Gold folder").flatten() {
            let path = entry.path();
            let name = path
                .strip_prefix(root)
                .expect("under root")
                .display()
                .to_string();
            if name.starts_with("pipeline_runs") || name.starts_with(".medallion-lock") {
                continue;
            }
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let mut hasher = DefaultHasher::new();
                fs::read(&path).expect("read a Gold file").hash(&mut hasher);
                out.insert(name, hasher.finish());
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(gold, gold, &mut files);
    files
}

/// `(status, error, "started_at run_id")` of the sink's runs, newest first, as `medallion runs`
/// shows them (the third member only tells a failure's reader when each run started).
fn runs(sink: &str) -> Vec<(String, Option<String>, String)> {
    let output = medallion(&["runs", "--sink", sink, "--format", "json"]);
    assert_ok(&output, "medallion runs");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| {
            let row: serde_json::Value = serde_json::from_str(line).expect("a JSON row");
            (
                row["status"].as_str().unwrap_or_default().to_string(),
                row["error"].as_str().map(str::to_string),
                format!(
                    "{} {}",
                    row["started_at"].as_str().unwrap_or_default(),
                    row["run_id"].as_str().unwrap_or_default()
                ),
            )
        })
        .collect()
}

/// The ids of the jobs named `job` that `medallion jobs --running` lists.
fn running_jobs(url: &str, job: &str) -> Vec<String> {
    let output = medallion(&["jobs", "--running", "--scheduler", url]);
    assert_ok(&output, "medallion jobs --running");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .skip(1)
        .filter(|line| line.ends_with(job))
        .filter_map(|line| line.split_whitespace().next().map(str::to_string))
        .collect()
}

/// Submits the datamart over `lake` into `sink`, cancels one of its running Ballista jobs with
/// `medallion cancel` and returns the submit's exit code and log, and the cancelled job's id.
fn submit_and_cancel(
    cluster: &Cluster,
    work: &Path,
    lake: &str,
    sink: &str,
) -> (i32, String, String) {
    let url = cluster.url();
    let log = work.join("submit.log");
    let file = fs::File::create(&log).expect("log file");
    let mut run: Child = Command::new(medallion_bin())
        .args(["submit", "accidents-datamart", "--scheduler", &url])
        .args(["--lake", lake, "--sink", sink, "--no-progress"])
        .args(["--job-timeout", "3600"])
        .env_remove("RUST_LOG")
        .stdout(Stdio::from(file.try_clone().expect("clone log")))
        .stderr(Stdio::from(file))
        .spawn()
        .expect("start medallion submit");
    let started = Instant::now();
    let cancelled = loop {
        if let Some(status) = run.try_wait().expect("poll the run") {
            panic!(
                "the run ended ({status}) before one of its jobs could be cancelled: make the \
                 lake bigger\n{}\n{}",
                tail(&log, 20),
                cluster.logs()
            );
        }
        if started.elapsed() > FIND_LIMIT {
            let _ = run.kill();
            panic!(
                "no running job of the run found\n{}\n{}",
                tail(&log, 20),
                cluster.logs()
            );
        }
        // a job listed may have finished by the time it is cancelled: then take the next one
        let done = running_jobs(&url, "accidents-datamart")
            .into_iter()
            .find(|id| {
                let output = medallion(&["cancel", id, "--scheduler", &url]);
                let stdout = String::from_utf8_lossy(&output.stdout).to_string();
                if output.status.code() == Some(0) {
                    assert_eq!(stdout.trim(), format!("{id} cancelled"));
                    return true;
                }
                assert_eq!(
                    output.status.code(),
                    Some(2),
                    "cancelling a job that ended is bad input\n{}",
                    String::from_utf8_lossy(&output.stderr)
                );
                false
            });
        if let Some(id) = done {
            break id;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let cancelled_at = Instant::now();
    let code = loop {
        if let Some(status) = run.try_wait().expect("poll the run") {
            break status.code().unwrap_or(-1);
        }
        if cancelled_at.elapsed() > RUN_LIMIT {
            let _ = run.kill();
            let _ = run.wait();
            panic!(
                "the run did not end within {RUN_LIMIT:?} of the cancellation of {cancelled}\n{}\n{}",
                tail(&log, 30),
                cluster.logs()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    eprintln!(
        "job {cancelled} cancelled {:.1} s into the run; the run ended {:.1} s later",
        (cancelled_at - started).as_secs_f64(),
        cancelled_at.elapsed().as_secs_f64()
    );
    (
        code,
        fs::read_to_string(&log).unwrap_or_default(),
        cancelled,
    )
}

/// The run's exit code, and its last stderr line: the one error line naming the cancelled job.
fn assert_cancelled_exit(code: i32, log: &str, job_id: &str) {
    assert_eq!(code, CANCELLED, "exit code of a cancelled run\n{log}");
    assert!(!log.contains("panicked"), "{log}");
    let last = log
        .lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or_default();
    let expected = format!(
        "error: job 'accidents-datamart' cancelled: Ballista job {job_id} was cancelled; run "
    );
    assert!(
        last.starts_with(&expected),
        "expected `{expected}…`, got\n{log}"
    );
    assert!(last.ends_with(" published nothing"), "{last}");
}

#[test]
fn a_cancelled_submit_publishes_nothing_and_records_cancelled_in_parquet() {
    let _one = ONE_CLUSTER_AT_A_TIME.blocking_lock();
    let work = tempfile::tempdir().expect("temp dir");
    let small = generate(&work.path().join("small"), SMALL_ROWS);
    let big = generate(&work.path().join("big"), BIG_ROWS);
    let gold = work.path().join("gold");
    let sink = format!("file://{}", gold.display());
    // an earlier run published Gold tables
    let published = medallion(&[
        "run",
        "accidents-datamart",
        "--lake",
        &small,
        "--sink",
        &sink,
        "--no-progress",
    ]);
    assert_ok(&published, "the first, embedded run");
    let before = gold_files(&gold);
    assert!(
        before.keys().any(|f| f.starts_with("hotspots")),
        "{before:?}"
    );

    let cluster = Cluster::start_with(1, &[], &[]);
    let (code, log, job_id) = submit_and_cancel(&cluster, work.path(), &big, &sink);
    assert_cancelled_exit(code, &log, &job_id);

    assert_eq!(
        gold_files(&gold),
        before,
        "the published Gold tables changed"
    );
    let leftovers: Vec<String> = fs::read_dir(&gold)
        .expect("gold")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(".staging-") || n.starts_with(".replaced-"))
        .collect();
    assert!(leftovers.is_empty(), "staging left behind: {leftovers:?}");
    let runs = runs(&sink);
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert_eq!(runs[0].0, "cancelled", "{runs:?}");
    let error = runs[0].1.clone().unwrap_or_default();
    assert!(
        error.contains(&format!("Job {job_id} failed: Cancelled")),
        "{error}"
    );
    assert_eq!(runs[1].0, "succeeded", "{runs:?}");
    // no job of the cancelled run is left running
    assert!(running_jobs(&cluster.url(), "accidents-datamart").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancelled_submit_publishes_nothing_and_records_cancelled_in_mariadb() {
    let _one = ONE_CLUSTER_AT_A_TIME.lock().await;
    let db = TestDb::create("cancel").await;
    let sink = db.root_url();
    let work = tempfile::tempdir().expect("temp dir");
    let (small, big) = (work.path().join("small"), work.path().join("big"));
    let (small, big) = tokio::task::spawn_blocking(move || {
        (generate(&small, SMALL_ROWS), generate(&big, BIG_ROWS))
    })
    .await
    .expect("lakes");
    let (first_sink, first_lake) = (sink.clone(), small.clone());
    let published = tokio::task::spawn_blocking(move || {
        medallion(&[
            "run",
            "accidents-datamart",
            "--lake",
            &first_lake,
            "--sink",
            &first_sink,
            "--no-progress",
        ])
    })
    .await
    .expect("run");
    assert_ok(&published, "the first, embedded run");
    let before = db.snapshot().await;
    assert!(
        before
            .iter()
            .any(|(t, _, rows)| t == "accidents_summary" && *rows == SMALL_ROWS),
        "{before:?}"
    );

    let work_dir = work.path().to_path_buf();
    let submit_sink = sink.clone();
    let (code, log, job_id, running_after) = tokio::task::spawn_blocking(move || {
        let cluster = Cluster::start_with(1, &[], &[]);
        let (code, log, job_id) = submit_and_cancel(&cluster, &work_dir, &big, &submit_sink);
        let running_after = running_jobs(&cluster.url(), "accidents-datamart");
        (code, log, job_id, running_after)
    })
    .await
    .expect("submit");
    assert_cancelled_exit(code, &log, &job_id);
    assert!(running_after.is_empty(), "{running_after:?}");

    assert_eq!(
        db.snapshot().await,
        before,
        "the published Gold tables changed"
    );
    let runs = db.runs().await;
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert_eq!(runs[0].0, "succeeded", "{runs:?}");
    assert_eq!(runs[1].0, "cancelled", "{runs:?}");
    let error = runs[1].1.clone().unwrap_or_default();
    assert!(
        error.contains(&format!("Job {job_id} failed: Cancelled")),
        "{error}"
    );
}
