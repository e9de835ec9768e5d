//! The runs `medallion ui` shows: the rows of a sink's `pipeline_runs` as
//! [`GoldSink::recent_runs`](medallion_core::sink::GoldSink::recent_runs) returns them, typed, and
//! grouped by job.

use std::collections::BTreeMap;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use medallion_core::sink::GoldSink;
use medallion_core::{Error, Result};

/// One recorded run.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// The run id.
    pub run_id: String,
    /// The job's name.
    pub job: String,
    /// `full` or `incremental`.
    pub mode: String,
    /// `succeeded`, `failed` or `cancelled`.
    pub status: String,
    /// When it started, `YYYY-MM-DD HH:MM:SS` UTC.
    pub started_at: String,
    /// How long it took, in seconds.
    pub duration_s: Option<f64>,
    /// Silver rows read.
    pub rows_read: i64,
    /// Silver rows rejected.
    pub rows_rejected: i64,
    /// Rows written per Gold table.
    pub rows_written: BTreeMap<String, u64>,
    /// The data quality score, in percent.
    pub quality: Option<f64>,
    /// Why it failed.
    pub error: Option<String>,
}

impl Run {
    /// The first line of the error, if any.
    pub fn error_line(&self) -> Option<&str> {
        self.error.as_deref().and_then(|e| e.lines().next())
    }

    /// Rows written over every Gold table.
    pub fn total_rows_written(&self) -> u64 {
        self.rows_written.values().sum()
    }
}

/// The latest `limit` runs of `sink`, newest first.
pub async fn recent_runs(sink: &dyn GoldSink, limit: u32) -> Result<Vec<Run>> {
    let batches = sink.recent_runs(None, limit).await?;
    let mut runs = Vec::new();
    for batch in &batches {
        runs.extend(runs_of(batch)?);
    }
    Ok(runs)
}

/// The runs of one batch of [`medallion_core::sink::runs_schema`] (columns read by name, so that
/// columns added later do not matter).
fn runs_of(batch: &RecordBatch) -> Result<Vec<Run>> {
    let column = |name: &str, to: &DataType| {
        let array = batch.column_by_name(name).ok_or_else(|| {
            Error::engine(
                "reading pipeline_runs",
                datafusion::error::DataFusionError::Plan(format!("no column {name}")),
            )
        })?;
        cast(array, to).map_err(|e| Error::engine("reading pipeline_runs", e.into()))
    };
    let text = |name: &str| column(name, &DataType::Utf8);
    let (run_id, job, mode, status, started, written, error) = (
        text("run_id")?,
        text("job")?,
        text("mode")?,
        text("status")?,
        text("started_at")?,
        text("rows_written")?,
        text("error")?,
    );
    let duration = column("duration_s", &DataType::Float64)?;
    let quality = column("data_quality_score", &DataType::Float64)?;
    let read = column("rows_read", &DataType::Int64)?;
    let rejected = column("rows_rejected", &DataType::Int64)?;
    let s = |a: &dyn Array, i: usize| -> Option<String> {
        let a = a.as_string::<i32>();
        (!a.is_null(i)).then(|| a.value(i).to_string())
    };
    let f = |a: &dyn Array, i: usize| -> Option<f64> {
        let a = a.as_primitive::<Float64Type>();
        (!a.is_null(i))
            .then(|| a.value(i))
            .filter(|v| v.is_finite())
    };
    let n = |a: &dyn Array, i: usize| -> i64 {
        let a = a.as_primitive::<Int64Type>();
        if a.is_null(i) { 0 } else { a.value(i) }
    };
    Ok((0..batch.num_rows())
        .map(|i| Run {
            run_id: s(&run_id, i).unwrap_or_default(),
            job: s(&job, i).unwrap_or_default(),
            mode: s(&mode, i).unwrap_or_default(),
            status: s(&status, i).unwrap_or_default(),
            started_at: s(&started, i).unwrap_or_default(),
            duration_s: f(&duration, i),
            rows_read: n(&read, i),
            rows_rejected: n(&rejected, i),
            rows_written: s(&written, i)
                .and_then(|json| serde_json::from_str(&json).ok())
                .unwrap_or_default(),
            quality: f(&quality, i),
            error: s(&error, i),
        })
        .collect())
}

/// `runs` (newest first) grouped by job, jobs by name, each job's newest `per_job` runs, newest
/// first.
pub fn by_job(runs: &[Run], per_job: usize) -> BTreeMap<String, Vec<Run>> {
    let mut jobs: BTreeMap<String, Vec<Run>> = BTreeMap::new();
    for run in runs {
        let list = jobs.entry(run.job.clone()).or_default();
        if list.len() < per_job {
            list.push(run.clone());
        }
    }
    jobs
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
    use medallion_core::sink::runs_schema;

    use super::*;

    fn batch() -> RecordBatch {
        let text = |v: Vec<Option<&str>>| Arc::new(StringArray::from(v)) as ArrayRef;
        RecordBatch::try_new(
            runs_schema(),
            vec![
                text(vec![Some("r2"), Some("r1"), Some("m1")]),
                text(vec![Some("a"), Some("a"), Some("b")]),
                text(vec![Some("full"); 3]),
                text(vec![Some("failed"), Some("succeeded"), Some("cancelled")]),
                text(vec![
                    Some("2026-12-06 10:00:00"),
                    Some("2026-12-05 10:00:00"),
                    Some("2026-12-04 10:00:00"),
                ]),
                Arc::new(Float64Array::from(vec![Some(1.5), Some(2.0), None])),
                Arc::new(Int64Array::from(vec![10, 10, 0])),
                Arc::new(Int64Array::from(vec![0, 1, 0])),
                text(vec![Some("{}"), Some(r#"{"t1":7,"t2":3}"#), Some("{}")]),
                Arc::new(Float64Array::from(vec![None, Some(99.5), None])),
                text(vec![Some("planning Gold table t: boom\nmore"), None, None]),
            ],
        )
        .expect("batch")
    }

    #[test]
    fn runs_are_read_by_column_and_grouped_by_job() {
        let runs = runs_of(&batch()).expect("runs");
        assert_eq!(runs.len(), 3);
        assert_eq!(runs[1].rows_written.get("t1"), Some(&7));
        assert_eq!(runs[1].total_rows_written(), 10);
        assert_eq!(runs[0].error_line(), Some("planning Gold table t: boom"));
        assert_eq!(runs[1].quality, Some(99.5));
        let jobs = by_job(&runs, 1);
        assert_eq!(jobs.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(jobs["a"].len(), 1);
        assert_eq!(jobs["a"][0].run_id, "r2", "newest first");
    }
}
