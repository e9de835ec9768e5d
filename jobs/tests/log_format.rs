//! The log lines of a real `medallion run`: with `--log-format json` every stderr line is a JSON
//! object carrying the run's `run_id` and `job` (from the run's span), a level and a message, and
//! the end-of-run event has the duration and row counts of the datamart's log example (seed 002);
//! the human format has no JSON, and no progress bar is drawn when stderr is not a terminal.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::*;
use serde_json::Value;

/// Three accepted accidents (two in CA, one in TX) and one without a severity (rejected).
fn rows() -> Vec<Accident> {
    let row =
        |id: &'static str, state: &'static str, severity: Option<i32>, ts: &'static str| Accident {
            id,
            state: Some(state),
            city: Some("Austin"),
            severity,
            start_time: Some(ts),
            lat: Some(30.27),
            lng: Some(-97.74),
            distance_mi: Some(0.5),
            temperature_f: Some(60.0),
            visibility_mi: Some(10.0),
            weather_condition: Some("Clear"),
            flags_true: &[],
            flags_null: &[],
        };
    vec![
        row("a1", "CA", Some(2), "2021-03-05 08:15:00"),
        row("a2", "CA", Some(3), "2021-04-05 09:15:00"),
        row("a3", "TX", Some(1), "2022-01-05 10:15:00"),
        row("a4", "TX", None, "2022-02-05 10:15:00"),
    ]
}

fn lake(dir: &Path) -> std::path::PathBuf {
    write_lake(&dir.join("lake"), &rows(), Format::Parquet)
}

#[test]
fn json_logs_carry_run_id_and_job_on_every_line_and_the_run_totals() {
    let work = tempfile::tempdir().expect("temp dir");
    let lake = lake(work.path());
    let gold = work.path().join("gold");
    let output = run_datamart(&lake, &gold, &["--log-format", "json"]);
    assert_success(&output, "run");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<Value> = stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.len() >= 8, "{stderr}");

    let run_ids: BTreeSet<&str> = lines.iter().filter_map(|l| l["run_id"].as_str()).collect();
    assert_eq!(run_ids.len(), 1, "one run id: {stderr}");
    let run_id = *run_ids.first().expect("a run id");
    // the id printed on stdout is the one of the logs
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.starts_with(&format!("run {run_id} of accidents-datamart")),
        "{stdout}"
    );
    for line in &lines {
        assert_eq!(line["run_id"], run_id, "{line}");
        assert_eq!(line["job"], "accidents-datamart", "{line}");
        assert!(
            ["INFO", "WARN", "ERROR"].contains(&line["level"].as_str().unwrap_or_default()),
            "{line}"
        );
        assert!(
            line["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{line}"
        );
        assert!(
            line["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')),
            "{line}"
        );
        // span fields are flattened, not nested
        assert!(
            line.get("span").is_none() && line.get("fields").is_none(),
            "{line}"
        );
    }

    let messages: Vec<&str> = lines.iter().filter_map(|l| l["message"].as_str()).collect();
    assert_eq!(messages.first(), Some(&"run started"), "{messages:?}");
    // nine Gold tables staged, each with its row count and seconds
    let staged: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"] == "Gold table staged")
        .collect();
    assert_eq!(staged.len(), 9, "{stderr}");
    for line in &staged {
        assert!(line["rows"].as_u64().is_some(), "{line}");
        assert!(line["seconds"].as_f64().is_some_and(|s| s >= 0.0), "{line}");
    }
    let summary = staged
        .iter()
        .find(|l| l["table"] == "accidents_summary")
        .expect("accidents_summary staged");
    assert_eq!(
        summary["rows"], 3,
        "one row per accepted accident: {summary}"
    );
    let rejected = lines
        .iter()
        .find(|l| l["message"] == "Silver rows rejected by the acceptance rules")
        .expect("the rejection warning");
    assert_eq!(rejected["level"], "WARN");
    assert_eq!(rejected["rejected"], 1);
    assert_eq!(rejected["read"], 4);

    let end = lines.last().expect("an end-of-run event");
    assert_eq!(end["message"], "run published", "{end}");
    assert_eq!(end["level"], "INFO");
    assert_eq!(end["application"], "medallion");
    assert_eq!(end["status"], "succeeded");
    assert_eq!(end["tables_exported"], 9);
    assert_eq!(end["rows_read"], 4);
    assert_eq!(end["rows_rejected"], 1);
    let total: u64 = staged.iter().map(|l| l["rows"].as_u64().unwrap_or(0)).sum();
    assert_eq!(end["total_rows_exported"], total, "{end}");
    let duration = end["pipeline_duration_seconds"].as_f64().expect("duration");
    assert!(duration > 0.0 && duration < 300.0, "{end}");
    let quality = end["data_quality_score"].as_f64().expect("quality score");
    assert!(quality > 0.0 && quality <= 100.0, "{end}");
}

#[test]
fn human_logs_have_no_json_and_no_progress_bar_off_a_terminal() {
    let work = tempfile::tempdir().expect("temp dir");
    let lake = lake(work.path());
    let gold = work.path().join("gold");
    // progress is on (no --no-progress), but stderr is a pipe
    let output = run_datamart(&lake, &gold, &[]);
    assert_success(&output, "run");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("run published"), "{stderr}");
    for line in stderr.lines().filter(|l| !l.trim().is_empty()) {
        assert!(
            !line.trim_start().starts_with('{'),
            "JSON in human logs: {line}"
        );
        // the run's span names the run on every line of medallion's own (Ballista's spawned
        // tasks may log an ERROR outside it)
        if line.contains(" ERROR ") {
            continue;
        }
        assert!(line.contains(" INFO ") || line.contains(" WARN "), "{line}");
        assert!(
            line.contains("run{run_id=") && line.contains("job=accidents-datamart"),
            "{line}"
        );
    }
    assert!(
        !stderr.contains('\r') && !stderr.contains('\u{1b}'),
        "{stderr:?}"
    );
    assert!(
        !stderr.contains("6/6"),
        "a progress bar was drawn: {stderr}"
    );
}
