//! The cluster's Prometheus endpoints, on real processes: the `medallion-scheduler` serves
//! Ballista's job metrics on its gRPC port at `/api/metrics` (the REST API shares the port), and a
//! `medallion-executor` started with `--metrics-port` (here `MEDALLION_EXECUTOR_METRICS_PORT`)
//! serves its task metrics at `/metrics`. A submitted run moves both: jobs completed on the
//! scheduler, tasks succeeded and shuffle bytes written on the executor.
//!
//! Build the binaries first (`cargo build --workspace --bins`), as for jobs/tests/cluster.rs.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::cluster::{Cluster, free_ports, http};
use common::*;
use medallion_executor::metrics::EXECUTOR_METRICS;
use medallion_scheduler::metrics::{METRICS_PATH, SCHEDULER_METRICS};

/// The unlabelled samples and the samples with labels, as `name{labels}` → value, of a
/// Prometheus text page.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            Some((series.to_string(), value.parse().ok()?))
        })
        .collect()
}

/// GET `path` on `port`: the page, which must be 200 in the Prometheus text format.
fn scrape(port: u16, path: &str) -> String {
    let (code, body) = http(port, "GET", path, b"").unwrap_or_else(|e| panic!("GET {path}: {e}"));
    assert_eq!(code, 200, "GET {path}:\n{body}");
    assert!(body.contains("# TYPE "), "not the text format:\n{body}");
    body
}

#[test]
fn scheduler_and_executor_expose_prometheus_metrics_that_a_run_moves() {
    let metrics_port = free_ports(1)[0].to_string();
    let mut cluster = Cluster::start_with(
        1,
        &[],
        &[("MEDALLION_EXECUTOR_METRICS_PORT", metrics_port.as_str())],
    );
    let metrics_port: u16 = metrics_port.parse().unwrap();

    // Before any job: every name is there, at zero.
    let scheduler = scrape(cluster.port, METRICS_PATH);
    for name in SCHEDULER_METRICS {
        assert!(
            scheduler.contains(&format!("# TYPE {name} ")),
            "{name} missing from the scheduler's {METRICS_PATH}:\n{scheduler}"
        );
    }
    assert!(
        scheduler.contains("process_resident_memory_bytes"),
        "{scheduler}"
    );
    let executor = scrape(metrics_port, "/metrics");
    for name in EXECUTOR_METRICS {
        assert!(
            executor.contains(&format!("# TYPE {name} ")),
            "{name} missing from the executor's /metrics:\n{executor}"
        );
    }
    assert!(
        executor.contains("process_resident_memory_bytes"),
        "{executor}"
    );
    // the REST API answers on the same port as gRPC
    let (code, executors) = http(cluster.port, "GET", "/api/executors", b"").unwrap();
    assert_eq!(code, 200, "{executors}");

    // A submitted run.
    let work = tempfile::tempdir().expect("temp dir");
    let rows = vec![
        Accident::clear_day_in_la("m1", 2, "2021-03-05 08:15:00"),
        Accident::clear_day_in_la("m2", 3, "2021-04-05 09:15:00"),
        Accident::clear_day_in_la("m3", 1, "2022-01-05 10:15:00"),
    ];
    let lake = write_lake(&work.path().join("lake"), &rows, Format::Parquet);
    let gold = work.path().join("gold");
    let output = Command::new(env!("CARGO_BIN_EXE_medallion"))
        .args(["submit", "accidents-datamart", "--no-progress"])
        .args(["--scheduler", &cluster.url()])
        .arg("--lake")
        .arg(&lake)
        .arg("--sink")
        .arg(format!("file://{}", gold.display()))
        .env_remove("RUST_LOG")
        .env_remove("MEDALLION_PUSHGATEWAY")
        .output()
        .expect("run medallion submit");
    assert!(
        output.status.success(),
        "submit failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stderr),
        cluster.logs()
    );
    cluster.scheduler.assert_running();

    let scheduler = samples(&scrape(cluster.port, METRICS_PATH));
    let at = |samples: &BTreeMap<String, f64>, series: &str| {
        samples
            .get(series)
            .copied()
            .unwrap_or_else(|| panic!("no sample {series} in {samples:?}"))
    };
    // one Ballista job per Gold table and the quality measure, all completed
    let submitted = at(&scheduler, "job_submitted_total");
    assert!(submitted >= GOLD_TABLES.len() as f64, "{submitted}");
    assert_eq!(at(&scheduler, "job_completed_total"), submitted);
    assert_eq!(at(&scheduler, "job_failed_total"), 0.0);
    assert_eq!(at(&scheduler, "job_exec_time_seconds_count"), submitted);

    let executor = samples(&scrape(metrics_port, "/metrics"));
    let succeeded = at(
        &executor,
        "medallion_executor_tasks_total{outcome=\"succeeded\"}",
    );
    assert!(
        succeeded >= submitted,
        "{succeeded} tasks for {submitted} jobs"
    );
    assert_eq!(
        at(
            &executor,
            "medallion_executor_tasks_total{outcome=\"failed\"}"
        ),
        0.0
    );
    assert_eq!(at(&executor, "medallion_executor_tasks_running"), 0.0);
    assert_eq!(
        at(&executor, "medallion_executor_task_duration_seconds_count"),
        succeeded
    );
    assert!(at(&executor, "medallion_executor_shuffle_written_bytes_total") > 0.0);
    assert!(at(&executor, "medallion_executor_shuffle_written_rows_total") > 0.0);
    // nothing holds memory once the tasks ended
    assert_eq!(
        at(&executor, "medallion_executor_memory_reserved_bytes"),
        0.0
    );
}
