//! The last successful run of a job, as the sink's `pipeline_runs` recorded it: what a
//! `row_count_change` expectation compares with.

use std::collections::BTreeMap;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::Int64Type;
use medallion_core::Result;
use medallion_core::sink::GoldSink;

use super::results::DATA_QUALITY_RESULTS;

/// How many recorded runs are searched for the last successful one.
const RUNS_SEARCHED: u32 = 50;

/// The row counts of a job's last successful run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PreviousRun {
    /// Its run id.
    pub run_id: String,
    /// Silver rows it read (of the `[quality]` input).
    pub rows_read: u64,
    /// Rows it wrote per Gold table.
    pub rows_written: BTreeMap<String, u64>,
    /// Its drift profiles (JSON) per expectation, from `data_quality_results`.
    pub profiles: BTreeMap<String, String>,
}

/// The last successful run of `job` recorded by `sink`, if any.
pub async fn previous_run(sink: &dyn GoldSink, job: &str) -> Result<Option<PreviousRun>> {
    let batches = sink.recent_runs(Some(job), RUNS_SEARCHED).await?;
    let Some(mut previous) = first_succeeded(&batches) else {
        return Ok(None);
    };
    let rows = sink
        .published_rows(
            DATA_QUALITY_RESULTS,
            &["expectation", "profile"],
            ("run_id", &previous.run_id),
        )
        .await?;
    for row in rows {
        if let [Some(expectation), Some(profile)] = row.as_slice() {
            previous
                .profiles
                .insert(expectation.clone(), profile.clone());
        }
    }
    Ok(Some(previous))
}

/// The first (newest) succeeded run of `batches`, in the columns of
/// [`runs_schema`](medallion_core::sink::runs_schema).
fn first_succeeded(batches: &[RecordBatch]) -> Option<PreviousRun> {
    for batch in batches {
        let text = |name: &str| {
            batch
                .column_by_name(name)
                .and_then(|c| c.as_string_opt::<i32>())
                .cloned()
        };
        let (Some(run_id), Some(status), Some(written)) =
            (text("run_id"), text("status"), text("rows_written"))
        else {
            continue;
        };
        let Some(read) = batch
            .column_by_name("rows_read")
            .and_then(|c| c.as_primitive_opt::<Int64Type>())
        else {
            continue;
        };
        for row in 0..batch.num_rows() {
            if status.is_null(row) || status.value(row) != "succeeded" {
                continue;
            }
            return Some(PreviousRun {
                run_id: run_id.value(row).to_string(),
                rows_read: read.value(row).max(0) as u64,
                rows_written: serde_json::from_str(written.value(row)).unwrap_or_default(),
                profiles: BTreeMap::new(),
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
    use medallion_core::sink::runs_schema;

    use super::*;

    #[test]
    fn the_newest_succeeded_run_is_taken() {
        let text = |v: [&str; 2]| Arc::new(StringArray::from(v.to_vec())) as ArrayRef;
        let batch = RecordBatch::try_new(
            runs_schema(),
            vec![
                text(["r2", "r1"]),
                text(["j", "j"]),
                text(["full", "full"]),
                text(["failed", "succeeded"]),
                text(["2026-01-02 00:00:00", "2026-01-01 00:00:00"]),
                Arc::new(Float64Array::from(vec![1.0, 2.0])),
                Arc::new(Int64Array::from(vec![10, 1000])),
                Arc::new(Int64Array::from(vec![0, 3])),
                text(["{}", r#"{"t":997}"#]),
                Arc::new(Float64Array::from(vec![None, Some(99.0)])),
                Arc::new(StringArray::from(vec![Some("boom"), None])),
            ],
        )
        .unwrap();
        let previous = first_succeeded(&[batch]).unwrap();
        assert_eq!(previous.run_id, "r1");
        assert_eq!(previous.rows_read, 1000);
        assert_eq!(previous.rows_written["t"], 997);
        assert_eq!(first_succeeded(&[]), None);
    }
}
