//! `medallion run --metrics-push URL` against a real Pushgateway (Debian's
//! `prometheus-pushgateway`, started by the test on a free loopback port): the series a
//! successful and then a failed run pushed are read back from the Pushgateway's `/metrics`, with
//! the labels job and mode; a run the data quality gate stopped pushes its expectations by status;
//! a Pushgateway that is down costs a warning, not the run, and its URL's password never shows.
//!
//! Fails with the install line when `prometheus-pushgateway` is not on the PATH (.ci/run installs
//! it).

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use common::cluster::{Proc, free_ports, http, wait_until};
use common::*;

const PUSHGATEWAY: &str = "prometheus-pushgateway";

/// A Pushgateway on a free loopback port, its data in `dir`, killed when dropped.
fn start_pushgateway(dir: &Path) -> (Proc, u16) {
    let found = Command::new(PUSHGATEWAY).arg("--version").output();
    assert!(
        found.is_ok(),
        "{PUSHGATEWAY} is not installed: apt-get install -y prometheus-pushgateway (as .ci/run does)"
    );
    let port = free_ports(1)[0];
    let mut command = Command::new(PUSHGATEWAY);
    command
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg(format!(
            "--persistence.file={}",
            dir.join("pushgateway.data").display()
        ));
    let mut proc = Proc::spawn(PUSHGATEWAY, command, dir.join("pushgateway.log"));
    wait_until(
        "the Pushgateway to be ready",
        Duration::from_secs(30),
        &mut [&mut proc],
        || matches!(http(port, "GET", "/-/ready", b""), Ok((200, _))),
    );
    (proc, port)
}

/// The body of `GET path` over HTTP/1.0 (the Pushgateway answers HTTP/1.1 clients in chunks).
fn get(port: u16, path: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("read the answer");
    let (head, body) = response.split_once("\r\n\r\n").expect("headers and body");
    assert!(
        head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
        "{head}"
    );
    body.to_string()
}

/// The samples of the Pushgateway's `/metrics` whose name starts with `medallion_`: by name and
/// sorted `label=value` pairs.
fn pushed(port: u16) -> BTreeMap<(String, String), f64> {
    let body = get(port, "/metrics");
    body.lines()
        .filter(|l| l.starts_with("medallion_"))
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("name and value");
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            let mut pairs: Vec<String> = labels
                .split("\",")
                .filter(|p| !p.is_empty())
                .map(|p| p.trim_end_matches('"').replacen("=\"", "=", 1))
                .filter(|p| !p.ends_with('='))
                .collect();
            pairs.sort();
            let value: f64 = value.parse().unwrap_or_else(|_| panic!("{line}"));
            ((name.to_string(), pairs.join(",")), value)
        })
        .collect()
}

/// The value of `name` pushed for the group `job`, `mode` with `extra` labels (`table=x`).
fn value(
    samples: &BTreeMap<(String, String), f64>,
    name: &str,
    job: &str,
    extra: &str,
) -> Option<f64> {
    let mut labels = vec![format!("job={job}"), "mode=full".to_string()];
    if !extra.is_empty() {
        labels.push(extra.to_string());
    }
    labels.sort();
    samples.get(&(name.to_string(), labels.join(","))).copied()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).to_string()
}

fn now_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Two accepted accidents and one without a severity (rejected).
fn rows() -> Vec<Accident> {
    vec![
        Accident::clear_day_in_la("p1", 2, "2021-03-05 08:15:00"),
        Accident::clear_day_in_la("p2", 3, "2021-04-05 09:15:00"),
        Accident {
            severity: None,
            ..Accident::clear_day_in_la("p3", 1, "2022-01-05 10:15:00")
        },
    ]
}

#[test]
fn a_successful_then_a_failed_run_push_their_outcome() {
    let work = tempfile::tempdir().expect("temp dir");
    let (_gateway, port) = start_pushgateway(work.path());
    let url = format!("http://127.0.0.1:{port}");
    let lake = write_lake(&work.path().join("lake"), &rows(), Format::Parquet);
    let gold = work.path().join("gold");

    let before = now_secs();
    let output = run_datamart(&lake, &gold, &["--no-progress", "--metrics-push", &url]);
    assert_success(&output, "run with --metrics-push");
    let samples = pushed(port);
    let job = "accidents-datamart";
    let get = |name: &str, extra: &str| {
        value(&samples, name, job, extra)
            .unwrap_or_else(|| panic!("{name}{{{extra}}} not pushed: {samples:?}"))
    };
    assert_eq!(get("medallion_run_success", ""), 1.0);
    let duration = get("medallion_run_duration_seconds", "");
    assert!(duration > 0.0 && duration < 300.0, "{duration}");
    let success_at = get("medallion_last_success_timestamp_seconds", "");
    assert!(
        success_at >= before && success_at <= now_secs(),
        "{success_at}"
    );
    assert_eq!(
        get("medallion_run_finished_timestamp_seconds", ""),
        success_at
    );
    assert_eq!(get("medallion_run_rows_read", ""), 3.0);
    assert_eq!(get("medallion_run_rows_rejected", ""), 1.0);
    // accidents_summary: one row per accepted accident
    assert_eq!(
        get("medallion_run_rows_written", "table=accidents_summary"),
        2.0
    );
    for table in GOLD_TABLES {
        get("medallion_run_rows_written", &format!("table={table}"));
    }
    // the data quality gate's expectations: none failed (the run published), some passed
    assert!(get("medallion_quality_expectations", "status=pass") > 0.0);
    assert!(
        value(
            &samples,
            "medallion_quality_expectations",
            job,
            "status=fail"
        )
        .is_none()
    );
    let quality = get("medallion_data_quality_score", "");
    assert!(quality > 0.0 && quality <= 100.0, "{quality}");
    // accidents-datamart is scheduled daily with a 120 min starting deadline and a 180 min
    // timeout (config/batch_schedules.yaml)
    assert_eq!(get("medallion_schedule_interval_seconds", ""), 86_400.0);
    assert_eq!(get("medallion_schedule_grace_seconds", ""), 18_000.0);
    assert_eq!(
        value(
            &samples,
            "medallion_last_failure_timestamp_seconds",
            job,
            ""
        ),
        None
    );

    // A failed run (the lake is gone), the Pushgateway given by MEDALLION_PUSHGATEWAY: same exit
    // code as without a push; its failure is pushed, the last success stays.
    let empty = work.path().join("empty-lake");
    std::fs::create_dir_all(&empty).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_medallion"))
        .args(["run", "accidents-datamart", "--no-progress", "--lake"])
        .arg(&empty)
        .arg("--sink")
        .arg(format!("file://{}", gold.display()))
        .env("MEDALLION_PUSHGATEWAY", &url)
        .env_remove("RUST_LOG")
        .output()
        .expect("run medallion");
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let samples = pushed(port);
    let get = |name: &str, extra: &str| {
        value(&samples, name, job, extra)
            .unwrap_or_else(|| panic!("{name}{{{extra}}} not pushed: {samples:?}"))
    };
    assert_eq!(get("medallion_run_success", ""), 0.0);
    let failed_at = get("medallion_last_failure_timestamp_seconds", "");
    assert!(failed_at >= success_at, "{failed_at} < {success_at}");
    assert_eq!(
        get("medallion_run_finished_timestamp_seconds", ""),
        failed_at
    );
    assert_eq!(
        get("medallion_last_success_timestamp_seconds", ""),
        success_at
    );
    // the rows and quality of the last successful run stay
    assert_eq!(
        get("medallion_run_rows_written", "table=accidents_summary"),
        2.0
    );
    assert_eq!(get("medallion_data_quality_score", ""), quality);
}

#[test]
fn a_pushgateway_that_is_down_is_a_warning_not_a_failure() {
    let work = tempfile::tempdir().expect("temp dir");
    let lake = write_lake(&work.path().join("lake"), &rows(), Format::Parquet);
    let closed = free_ports(1)[0];
    let url = format!("http://ops:hunter2secret@127.0.0.1:{closed}");
    let output = run_datamart(
        &lake,
        &work.path().join("gold"),
        &["--no-progress", "--metrics-push", &url],
    );
    assert_success(&output, "run with a Pushgateway that is down");
    let err = stderr(&output);
    assert!(err.contains("could not push"), "{err}");
    assert!(err.contains("WARN"), "{err}");
    assert!(!err.contains("hunter2secret"), "{err}");
}

#[test]
fn a_run_the_quality_gate_stops_pushes_its_failed_expectations() {
    let work = tempfile::tempdir().expect("temp dir");
    let (_gateway, port) = start_pushgateway(work.path());
    let url = format!("http://127.0.0.1:{port}");
    let lake = write_lake(&work.path().join("lake"), &rows(), Format::Parquet);
    let gold = work.path().join("gold");
    // an error-level expectation the two accepted rows cannot meet
    let expect = work.path().join("expect.toml");
    std::fs::write(
        &expect,
        "[[expect]]\nname = \"a_thousand_accidents\"\nkind = \"row_count\"\n\
         table = \"accidents_summary\"\nmin = 1000\n",
    )
    .unwrap();
    let output = run_datamart(
        &lake,
        &gold,
        &[
            "--no-progress",
            "--metrics-push",
            &url,
            "--expect",
            expect.to_str().unwrap(),
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("a_thousand_accidents"),
        "{}",
        stderr(&output)
    );
    assert!(
        !gold.join("accidents_summary").exists(),
        "nothing published"
    );
    let samples = pushed(port);
    let job = "accidents-datamart";
    let get = |name: &str, extra: &str| {
        value(&samples, name, job, extra)
            .unwrap_or_else(|| panic!("{name}{{{extra}}} not pushed: {samples:?}"))
    };
    assert_eq!(get("medallion_run_success", ""), 0.0);
    get("medallion_last_failure_timestamp_seconds", "");
    // the stopped run's expectations, by status: the planted one failed, the built-in ones ran
    assert_eq!(get("medallion_quality_expectations", "status=fail"), 1.0);
    assert!(get("medallion_quality_expectations", "status=pass") > 0.0);
    // a stopped run published no rows
    assert_eq!(
        value(
            &samples,
            "medallion_run_rows_written",
            job,
            "table=accidents_summary"
        ),
        None
    );
}
