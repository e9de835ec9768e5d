//! The Gold table `data_quality_results`: one row per expectation and run, kept across runs (the
//! run's rows are upserted by `(run_id, expectation)`), published with the run's tables or, when
//! the gate stopped the run, alone — so the audit trail holds the failed runs too.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use datafusion::arrow::array::{
    ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use medallion_core::table_options::TableOptions;
use medallion_core::{Error, Result};

use super::outcome::Outcome;

/// The table's name.
pub const DATA_QUALITY_RESULTS: &str = "data_quality_results";

/// Its layout: keyed by run and expectation, indexed for "the latest results of a job".
pub fn table_options() -> TableOptions {
    let mut options = TableOptions::default();
    for directive in [
        "primary_key = run_id, expectation",
        "index idx_job_checked = job, checked_at",
        "index idx_status = status",
    ] {
        // the directives are constants, checked by the unit test below
        let _ = options.apply_directive(directive);
    }
    options
}

/// Its columns.
pub fn schema() -> SchemaRef {
    let text = |name: &str, nullable| Field::new(name, DataType::Utf8, nullable);
    Arc::new(Schema::new(vec![
        text("run_id", false),
        text("job", false),
        Field::new(
            "checked_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        text("expectation", false),
        text("kind", false),
        text("table_name", true),
        text("severity", false),
        text("status", false),
        Field::new("observed", DataType::Float64, true),
        text("threshold", false),
        Field::new("failing_rows", DataType::Int64, true),
        text("sample", true),
        text("detail", false),
        text("profile", true),
    ]))
}

/// The rows of `outcomes`, gathered by run `run_id` of `job` at `at`.
pub fn batch(
    run_id: &str,
    job: &str,
    at: DateTime<Utc>,
    outcomes: &[Outcome],
) -> Result<RecordBatch> {
    let n = outcomes.len();
    let same = |v: &str| Arc::new(StringArray::from(vec![v; n])) as ArrayRef;
    let text = |f: &dyn Fn(&Outcome) -> String| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(outcomes.iter().map(f)))
    };
    let columns = vec![
        same(run_id),
        same(job),
        Arc::new(
            TimestampMicrosecondArray::from(vec![at.timestamp_micros(); n]).with_timezone("UTC"),
        ) as ArrayRef,
        text(&|o| o.expectation.name.clone()),
        text(&|o| o.expectation.check.kind().to_string()),
        Arc::new(StringArray::from_iter(
            outcomes.iter().map(|o| o.expectation.table.clone()),
        )),
        text(&|o| o.expectation.severity.as_str().to_string()),
        text(&|o| o.status.as_str().to_string()),
        Arc::new(Float64Array::from_iter(
            outcomes
                .iter()
                .map(|o| o.observed.filter(|v| v.is_finite())),
        )),
        text(&|o| o.expectation.check.threshold()),
        Arc::new(Int64Array::from_iter(
            outcomes.iter().map(|o| o.failing_rows.map(|r| r as i64)),
        )),
        Arc::new(StringArray::from_iter(
            outcomes.iter().map(|o| o.sample.clone()),
        )),
        text(&|o| o.detail.clone()),
        Arc::new(StringArray::from_iter(
            outcomes.iter().map(|o| o.profile.clone()),
        )),
    ];
    RecordBatch::try_new(schema(), columns)
        .map_err(|e| Error::engine("building the data_quality_results rows", e.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quality::expectation::{Check, Expectation, Severity};

    #[test]
    fn one_row_per_outcome_keyed_by_run_and_expectation() {
        let options = table_options();
        assert_eq!(options.primary_key, ["run_id", "expectation"]);
        assert_eq!(options.indexes.len(), 2);
        let expectation = Expectation {
            name: "e".into(),
            table: Some("t".into()),
            check: Check::NotNull { column: "c".into() },
            severity: Severity::Error,
            origin: "job.toml".into(),
        };
        let outcomes = [Outcome::from_failing_rows(&expectation, 3)];
        let batch = batch("r1", "j", Utc::now(), &outcomes).unwrap();
        assert_eq!(batch.num_rows(), 1);
        assert_eq!(batch.num_columns(), schema().fields().len());
    }
}
