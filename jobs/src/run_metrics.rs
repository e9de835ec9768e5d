//! What a run pushes to the Pushgateway at its end, in the Prometheus text exposition format
//! (the batch-job metrics Prometheus recommends: last success time, duration, records
//! processed). The grouping key (`job`, `mode`) labels every series; the names are listed in the
//! README's "Monitoring" section and are what `deploy/prometheus/medallion-rules.yml` and
//! `deploy/grafana/medallion-dashboard.json` query.
//!
//! A success pushes `medallion_last_success_timestamp_seconds`, a failure
//! `medallion_last_failure_timestamp_seconds`; the pushes replace only the metrics they carry
//! (HTTP POST), so each timestamp keeps the last run of its kind, and the rows and quality stay
//! those of the last successful run.

use std::collections::BTreeMap;
use std::fmt::Write;

use chrono::{DateTime, Utc};
use medallion_core::run_record::RunRecord;

use crate::config::JobSchedule;

/// Every metric name a run pushes, with its help text.
pub const PUSHED_METRICS: [(&str, &str); 12] = [
    (
        EXPECTATIONS,
        "Data quality expectations of that run, per status (pass, warn, fail, skipped).",
    ),
    (DURATION, "Seconds the job's last run took."),
    (
        SUCCESS,
        "1 when the job's last run succeeded, 0 when it failed.",
    ),
    (FINISHED, "When the job's last run ended (Unix seconds)."),
    (LAST_SUCCESS, "When the job last succeeded (Unix seconds)."),
    (LAST_FAILURE, "When the job last failed (Unix seconds)."),
    (
        ROWS_READ,
        "Silver rows read by the job's last successful run.",
    ),
    (
        ROWS_REJECTED,
        "Silver rows rejected by the acceptance rules in that run.",
    ),
    (ROWS_WRITTEN, "Rows that run published, per Gold table."),
    (
        QUALITY,
        "Data quality score (completeness, percent) of that run.",
    ),
    (
        INTERVAL,
        "Seconds between two scheduled runs of the job (batch_schedules.yaml).",
    ),
    (
        GRACE,
        "Seconds a scheduled run may start late and run (deadline + timeout).",
    ),
];

const DURATION: &str = "medallion_run_duration_seconds";
const SUCCESS: &str = "medallion_run_success";
const FINISHED: &str = "medallion_run_finished_timestamp_seconds";
const LAST_SUCCESS: &str = "medallion_last_success_timestamp_seconds";
const LAST_FAILURE: &str = "medallion_last_failure_timestamp_seconds";
const ROWS_READ: &str = "medallion_run_rows_read";
const ROWS_REJECTED: &str = "medallion_run_rows_rejected";
const ROWS_WRITTEN: &str = "medallion_run_rows_written";
const QUALITY: &str = "medallion_data_quality_score";
const INTERVAL: &str = "medallion_schedule_interval_seconds";
const GRACE: &str = "medallion_schedule_grace_seconds";
const EXPECTATIONS: &str = "medallion_quality_expectations";

/// What a finished run pushes.
#[derive(Debug, Clone, PartialEq)]
pub struct RunMetrics {
    /// The job (grouping key `job`).
    pub job: String,
    /// `full` or `incremental` (grouping key `mode`).
    pub mode: String,
    /// Whether it succeeded.
    pub succeeded: bool,
    /// How long it took.
    pub duration_secs: f64,
    /// When it ended.
    pub finished_at: DateTime<Utc>,
    /// Rows and quality, known for a published run.
    pub rows: Option<RunRows>,
    /// How many of the run's data quality expectations came out with each status (pass, warn,
    /// fail, skipped), whenever the gate ran: also for a run it stopped. Empty when it did not run.
    pub expectations: BTreeMap<String, u64>,
    /// The job's schedule (interval, grace) in seconds, pushed by the scheduled (full) runs.
    pub schedule: Option<(u64, u64)>,
}

/// The rows a published run read, rejected and wrote, and its quality score.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRows {
    /// Silver rows read.
    pub read: u64,
    /// Silver rows rejected.
    pub rejected: u64,
    /// Rows written per Gold table.
    pub written: BTreeMap<String, u64>,
    /// Quality score in percent, when measured.
    pub quality: Option<f64>,
}

impl RunRows {
    /// The rows and quality of a published run's record.
    pub fn of(record: &RunRecord) -> Self {
        Self {
            read: record.rows_read,
            rejected: record.rows_rejected,
            written: record.rows_written.clone(),
            quality: record.data_quality_score.filter(|q| q.is_finite()),
        }
    }
}

/// Seconds between two runs of a `cadence` (daily, weekly, monthly: its longest month).
fn cadence_seconds(cadence: &str) -> Option<u64> {
    const DAY: u64 = 86_400;
    match cadence {
        "hourly" => Some(3_600),
        "daily" => Some(DAY),
        "weekly" => Some(7 * DAY),
        "monthly" => Some(31 * DAY),
        _ => None,
    }
}

/// A scheduled job's interval and grace in seconds: the interval of its cadence; the grace, its
/// starting deadline plus its timeout.
pub fn schedule_seconds(schedule: &JobSchedule) -> Option<(u64, u64)> {
    let interval = cadence_seconds(&schedule.cadence)?;
    let minutes = schedule.starting_deadline_minutes.unwrap_or(0) + schedule.timeout_minutes?;
    Some((interval, minutes * 60))
}

/// `value` as a label value of the text format (backslash, quote and newline escaped).
fn label_value(value: &str) -> String {
    value
        .replace('\\', r"\\")
        .replace('"', r#"\""#)
        .replace('\n', r"\n")
}

impl RunMetrics {
    /// The metrics in the Prometheus text exposition format (version 0.0.4), without the
    /// grouping key's labels, which the Pushgateway adds.
    pub fn exposition(&self) -> String {
        let mut samples: Vec<(&str, String, f64)> = Vec::new();
        let mut gauge = |name: &'static str, labels: String, value: f64| {
            samples.push((name, labels, value));
        };
        let finished = self.finished_at.timestamp_millis() as f64 / 1000.0;
        gauge(DURATION, String::new(), self.duration_secs);
        gauge(SUCCESS, String::new(), f64::from(u8::from(self.succeeded)));
        gauge(FINISHED, String::new(), finished);
        let last = if self.succeeded {
            LAST_SUCCESS
        } else {
            LAST_FAILURE
        };
        gauge(last, String::new(), finished);
        if let Some(rows) = &self.rows {
            gauge(ROWS_READ, String::new(), rows.read as f64);
            gauge(ROWS_REJECTED, String::new(), rows.rejected as f64);
            for (table, n) in &rows.written {
                let labels = format!("{{table=\"{}\"}}", label_value(table));
                gauge(ROWS_WRITTEN, labels, *n as f64);
            }
            if let Some(quality) = rows.quality {
                gauge(QUALITY, String::new(), quality);
            }
        }
        for (status, n) in &self.expectations {
            let labels = format!("{{status=\"{}\"}}", label_value(status));
            gauge(EXPECTATIONS, labels, *n as f64);
        }
        if let Some((interval, grace)) = self.schedule {
            gauge(INTERVAL, String::new(), interval as f64);
            gauge(GRACE, String::new(), grace as f64);
        }
        let mut text = String::new();
        let mut described = None;
        for (name, labels, value) in samples {
            if described != Some(name) {
                let help = PUSHED_METRICS
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map_or("", |(_, h)| h);
                let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} gauge");
                described = Some(name);
            }
            let _ = writeln!(text, "{name}{labels} {value}");
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(succeeded: bool) -> RunMetrics {
        RunMetrics {
            job: "accidents-datamart".into(),
            mode: "full".into(),
            succeeded,
            duration_secs: 12.5,
            finished_at: DateTime::from_timestamp(1_700_000_000, 250_000_000).unwrap(),
            rows: succeeded.then(|| RunRows {
                read: 1000,
                rejected: 3,
                written: BTreeMap::from([("hotspots".into(), 50), ("a\"b".into(), 1)]),
                quality: Some(96.8),
            }),
            expectations: match succeeded {
                true => BTreeMap::from([("pass".into(), 14), ("warn".into(), 1)]),
                false => BTreeMap::from([("pass".into(), 13), ("fail".into(), 2)]),
            },
            schedule: Some((86_400, 18_000)),
        }
    }

    #[test]
    fn a_success_pushes_its_rows_quality_and_success_time() {
        let text = metrics(true).exposition();
        for line in [
            "# TYPE medallion_run_duration_seconds gauge",
            "medallion_run_duration_seconds 12.5",
            "medallion_run_success 1",
            "medallion_run_finished_timestamp_seconds 1700000000.25",
            "medallion_last_success_timestamp_seconds 1700000000.25",
            "medallion_run_rows_read 1000",
            "medallion_run_rows_rejected 3",
            "medallion_run_rows_written{table=\"hotspots\"} 50",
            "medallion_run_rows_written{table=\"a\\\"b\"} 1",
            "medallion_data_quality_score 96.8",
            "medallion_quality_expectations{status=\"pass\"} 14",
            "medallion_quality_expectations{status=\"warn\"} 1",
            "medallion_schedule_interval_seconds 86400",
            "medallion_schedule_grace_seconds 18000",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
        assert!(!text.contains("failure"), "{text}");
        // one TYPE line per metric
        assert_eq!(
            text.matches("# TYPE medallion_run_rows_written gauge")
                .count(),
            1
        );
    }

    #[test]
    fn a_failure_pushes_its_failure_time_and_expectations_and_no_rows() {
        let text = metrics(false).exposition();
        assert!(text.contains("\nmedallion_run_success 0\n"), "{text}");
        assert!(text.contains("\nmedallion_last_failure_timestamp_seconds 1700000000.25\n"));
        assert!(!text.contains("last_success"), "{text}");
        assert!(!text.contains("rows"), "{text}");
        // the expectations of a run the data quality gate stopped are pushed
        assert!(
            text.contains("\nmedallion_quality_expectations{status=\"fail\"} 2\n"),
            "{text}"
        );
    }

    #[test]
    fn every_pushed_name_is_listed() {
        let text = metrics(true).exposition() + &metrics(false).exposition();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let name = line.split(['{', ' ']).next().unwrap();
            assert!(PUSHED_METRICS.iter().any(|(n, _)| *n == name), "{name}");
        }
    }

    #[test]
    fn a_schedule_gives_its_interval_and_grace() {
        let schedule = |cadence: &str| JobSchedule {
            schedule: "0 2 * * *".into(),
            timezone: "Etc/UTC".into(),
            cadence: cadence.into(),
            timeout_minutes: Some(180),
            starting_deadline_minutes: Some(120),
        };
        assert_eq!(schedule_seconds(&schedule("daily")), Some((86_400, 18_000)));
        assert_eq!(
            schedule_seconds(&schedule("monthly")),
            Some((2_678_400, 18_000))
        );
        assert_eq!(schedule_seconds(&schedule("sometimes")), None);
    }
}
