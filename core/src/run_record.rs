//! The `pipeline_runs` record of one run (SPEC section 3).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use datafusion::arrow::array::{
    ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

use crate::error::{Error, Result};
use crate::run_audit::RunAudit;

/// Whether a run published its Gold tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// Every Gold table was written and published.
    Succeeded,
    /// The run stopped; the published tables are as they were before it.
    Failed,
    /// One of the run's Ballista jobs was cancelled from outside the run (`medallion cancel`, the
    /// scheduler's REST API): the run stopped and published nothing, as a failed one.
    Cancelled,
}

impl RunStatus {
    /// `succeeded`, `failed` or `cancelled`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
        }
    }
}

/// One row of `pipeline_runs`.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// Unique id of the run (also names its staging tables).
    pub run_id: String,
    /// The job's name.
    pub job: String,
    /// `full` or `incremental`.
    pub mode: String,
    /// When the run started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: DateTime<Utc>,
    /// How it ended.
    pub status: RunStatus,
    /// Silver rows read.
    pub rows_read: u64,
    /// Silver rows rejected by the acceptance rules.
    pub rows_rejected: u64,
    /// Rows written per Gold table.
    pub rows_written: BTreeMap<String, u64>,
    /// Completeness of the Silver columns, in percent.
    pub data_quality_score: Option<f64>,
    /// Why the run failed.
    pub error: Option<String>,
    /// Who or what started it, where, and the job plan's version.
    pub audit: RunAudit,
}

impl RunRecord {
    /// The record of a run of `job` that started at `started_at` and has not ended yet: nothing
    /// read or written, `finished_at` = `started_at`, and `Failed` until it is set otherwise, so
    /// that a run that stops early is recorded as failed.
    pub fn started(
        run_id: impl Into<String>,
        job: impl Into<String>,
        mode: impl Into<String>,
        started_at: DateTime<Utc>,
        audit: RunAudit,
    ) -> Self {
        Self {
            run_id: run_id.into(),
            job: job.into(),
            mode: mode.into(),
            started_at,
            finished_at: started_at,
            status: RunStatus::Failed,
            rows_read: 0,
            rows_rejected: 0,
            rows_written: BTreeMap::new(),
            data_quality_score: None,
            error: None,
            audit,
        }
    }

    /// The Arrow schema of `pipeline_runs`.
    pub fn schema() -> SchemaRef {
        let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        let fields = vec![
            Field::new("run_id", DataType::Utf8, false),
            Field::new("job", DataType::Utf8, false),
            Field::new("mode", DataType::Utf8, false),
            Field::new("started_at", ts.clone(), false),
            Field::new("finished_at", ts, false),
            Field::new("status", DataType::Utf8, false),
            Field::new("rows_read", DataType::Int64, false),
            Field::new("rows_rejected", DataType::Int64, false),
            Field::new("rows_written", DataType::Utf8, false),
            Field::new("data_quality_score", DataType::Float64, true),
            Field::new("error", DataType::Utf8, true),
        ];
        Arc::new(Schema::new([fields, RunAudit::fields()].concat()))
    }

    /// `rows_written` as a JSON object `{"table": rows, ...}`.
    pub fn rows_written_json(&self) -> String {
        serde_json::to_string(&self.rows_written).unwrap_or_else(|_| "{}".to_string())
    }

    /// The record as a one-row batch of [`RunRecord::schema`].
    pub fn to_batch(&self) -> Result<RecordBatch> {
        let text = |s: &str| Arc::new(StringArray::from(vec![s])) as ArrayRef;
        let ts = |t: &DateTime<Utc>| {
            Arc::new(
                TimestampMicrosecondArray::from(vec![t.timestamp_micros()]).with_timezone("UTC"),
            ) as ArrayRef
        };
        let count = |n: u64| Arc::new(Int64Array::from(vec![n as i64])) as ArrayRef;
        let mut columns = vec![
            text(&self.run_id),
            text(&self.job),
            text(&self.mode),
            ts(&self.started_at),
            ts(&self.finished_at),
            text(self.status.as_str()),
            count(self.rows_read),
            count(self.rows_rejected),
            text(&self.rows_written_json()),
            Arc::new(Float64Array::from(vec![self.data_quality_score])) as ArrayRef,
            Arc::new(StringArray::from(vec![self.error.as_deref()])) as ArrayRef,
        ];
        columns.extend(self.audit.columns());
        RecordBatch::try_new(Self::schema(), columns)
            .map_err(|e| Error::engine("building the pipeline_runs row", e.into()))
    }

    /// Seconds between start and end.
    pub fn duration_secs(&self) -> f64 {
        (self.finished_at - self.started_at).num_milliseconds() as f64 / 1000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_becomes_one_row() {
        let started = Utc::now();
        let record = RunRecord {
            run_id: "r1".into(),
            job: "j".into(),
            mode: "full".into(),
            started_at: started,
            finished_at: started,
            status: RunStatus::Succeeded,
            rows_read: 10,
            rows_rejected: 2,
            rows_written: BTreeMap::from([("a".to_string(), 8)]),
            data_quality_score: Some(99.5),
            error: None,
            audit: RunAudit::default(),
        };
        let batch = record.to_batch().unwrap();
        assert_eq!(batch.num_rows(), 1);
        assert_eq!(record.rows_written_json(), r#"{"a":8}"#);
    }
}
