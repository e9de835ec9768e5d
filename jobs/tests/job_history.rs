//! The scheduler's job history (issue 27): `medallion-scheduler --event-log-dir DIR` writes every
//! Ballista job to `DIR/<job_id>.eventlog` and serves Ballista's history API over them on
//! `--history-port`. A run's jobs are listed there once they finish, and still after the scheduler
//! is restarted, when the live REST API (`/api/jobs` on the scheduler port) no longer knows them.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

mod common;

use common::cluster::{Cluster, free_ports, http, medallion_bin, wait_until};

/// `medallion ARGS`.
fn medallion(args: &[&str]) -> Output {
    Command::new(medallion_bin())
        .args(args)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("run medallion")
}

/// The job ids `GET /api/jobs` lists on `port`.
fn listed_jobs(port: u16) -> Vec<String> {
    match http(port, "GET", "/api/jobs", b"") {
        Ok((200, body)) => {
            // a chunked body: the JSON array is between the first '[' and the last ']'
            let (Some(start), Some(end)) = (body.find('['), body.rfind(']')) else {
                return Vec::new();
            };
            serde_json::from_str::<Vec<serde_json::Value>>(&body[start..=end])
                .unwrap_or_default()
                .iter()
                .filter_map(|job| job["job_id"].as_str().map(str::to_string))
                .collect()
        }
        _ => Vec::new(),
    }
}

#[test]
fn finished_jobs_stay_listed_after_a_scheduler_restart() {
    let work = tempfile::tempdir().expect("temp dir");
    let lake = work.path().join("lake");
    let lake = lake.to_str().expect("utf-8").to_string();
    let output = medallion(&["generate", "accidents", "--rows", "2000", "--out", &lake]);
    assert!(output.status.success(), "generate");
    let events = work.path().join("events");
    let history_port = free_ports(1)[0].to_string();
    let args = [
        "--event-log-dir",
        events.to_str().expect("utf-8"),
        "--history-port",
        &history_port,
        "--history-refresh-seconds",
        "1",
    ];
    let history_port: u16 = history_port.parse().expect("port");
    let mut cluster = Cluster::start_with(1, &args, &[]);
    let sink = format!("file://{}", work.path().join("gold").display());
    let output = medallion(&[
        "submit",
        "accidents-datamart",
        "--scheduler",
        &cluster.url(),
        "--lake",
        &lake,
        "--sink",
        &sink,
        "--no-progress",
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "submit\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let jobs: Vec<String> = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("Ballista jobs: "))
        .expect("the run lists its Ballista jobs")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    assert!(jobs.len() >= 9, "one job per Gold table: {jobs:?}");
    let all_listed = |port: u16| {
        let listed = listed_jobs(port);
        jobs.iter().all(|id| listed.contains(id))
    };
    wait_until(
        "the history to list the run's jobs",
        Duration::from_secs(30),
        &mut [&mut cluster.scheduler],
        || all_listed(history_port),
    );
    let logs = std::fs::read_dir(&events).expect("event logs").count();
    assert!(logs >= jobs.len(), "{logs} event logs");
    assert!(
        Path::new(&events)
            .join(format!("{}.eventlog", jobs[0]))
            .is_file()
    );

    cluster.restart_scheduler(&args, &[]);
    assert!(
        !listed_jobs(cluster.port).contains(&jobs[0]),
        "the restarted scheduler's live API forgot the jobs"
    );
    wait_until(
        "the restarted scheduler's history to list the jobs",
        Duration::from_secs(30),
        &mut [&mut cluster.scheduler],
        || all_listed(history_port),
    );
    // a job's stages are served from its log
    let (code, body) = http(
        history_port,
        "GET",
        &format!("/api/job/{}/stages", jobs[0]),
        b"",
    )
    .expect("stages");
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("stage_id"), "{body}");
}
