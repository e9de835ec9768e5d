//! The latest runs a sink's `pipeline_runs` recorded, newest first, in one shape whatever the sink
//! (see [`GoldSink::recent_runs`](super::GoldSink::recent_runs)); here, the file sink's, read with
//! DataFusion from `DIR/pipeline_runs/*.parquet`.

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::prelude::{ParquetReadOptions, SessionContext};

use crate::error::{Error, Result, first_line};

/// The columns of a sink's recent runs, the same for every sink.
pub fn runs_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("run_id", DataType::Utf8, false),
        Field::new("job", DataType::Utf8, false),
        Field::new("mode", DataType::Utf8, false),
        Field::new("status", DataType::Utf8, false),
        Field::new("started_at", DataType::Utf8, false),
        Field::new("duration_s", DataType::Float64, true),
        Field::new("rows_read", DataType::Int64, false),
        Field::new("rows_rejected", DataType::Int64, false),
        Field::new("rows_written", DataType::Utf8, false),
        Field::new("data_quality_score", DataType::Float64, true),
        Field::new("error", DataType::Utf8, true),
    ]))
}

/// The latest `limit` runs (of `job` only, when given) recorded under the file sink folder `root`,
/// newest first; none when it holds no `pipeline_runs` yet.
pub(crate) async fn file_runs(
    root: &Path,
    job: Option<&str>,
    limit: u32,
) -> Result<Vec<RecordBatch>> {
    if !root.is_dir() {
        return Err(Error::invalid(
            "sink URL",
            format!("{}: no such folder", root.display()),
        ));
    }
    let runs = root.join("pipeline_runs");
    let has_runs = std::fs::read_dir(&runs)
        .map(|entries| {
            entries
                .flatten()
                .any(|e| e.path().extension().is_some_and(|x| x == "parquet"))
        })
        .unwrap_or(false);
    if !has_runs {
        return Ok(Vec::new());
    }
    let ctx = SessionContext::new();
    let location = format!("{}/", runs.display());
    ctx.register_parquet("pipeline_runs", &location, ParquetReadOptions::default())
        .await
        .map_err(|e| Error::CorruptFile {
            location: location.clone(),
            message: first_line(&e.to_string()),
        })?;
    let filter = match job {
        Some(job) => format!("WHERE job = '{}'", job.replace('\'', "''")),
        None => String::new(),
    };
    // Newest first by the recorded instant (microseconds), not by the second-precision text shown
    // (named started_text here so that ORDER BY sees the column; runs_schema names it started_at).
    let sql = format!(
        "SELECT run_id, job, mode, status, \
           to_char(started_at, '%Y-%m-%d %H:%M:%S') AS started_text, \
           CAST(CAST(finished_at AS BIGINT) - CAST(started_at AS BIGINT) AS DOUBLE) / 1000000.0 \
             AS duration_s, \
           rows_read, rows_rejected, rows_written, data_quality_score, error \
         FROM pipeline_runs {filter} \
         ORDER BY started_at DESC, run_id DESC LIMIT {limit}"
    );
    let what = format!("reading {location}");
    let batches = crate::collect::collect_sql(&ctx, &sql, &what).await?;
    // Same column types whatever the files hold (e.g. Utf8View).
    let schema = runs_schema();
    batches
        .iter()
        .map(|batch| {
            let columns = schema
                .fields()
                .iter()
                .zip(batch.columns())
                .map(|(field, column)| {
                    datafusion::arrow::compute::cast(column, field.data_type())
                        .map_err(|e| Error::engine(what.clone(), e.into()))
                })
                .collect::<Result<Vec<_>>>()?;
            RecordBatch::try_new(schema.clone(), columns)
                .map_err(|e| Error::engine(what.clone(), e.into()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeDelta, Utc};
    use datafusion::arrow::array::{Array, StringArray};

    use crate::run_audit::RunAudit;
    use crate::run_record::RunRecord;
    use crate::sink::GoldSink;
    use crate::sink::file::FileSink;

    use super::*;

    fn record(run_id: &str, started_at: DateTime<Utc>) -> RunRecord {
        RunRecord::started(run_id, "j", "full", started_at, RunAudit::default())
    }

    #[tokio::test]
    async fn runs_started_in_the_same_second_come_newest_first() {
        let root = tempfile::tempdir().unwrap();
        let mut sink = FileSink::new(root.path());
        // the later run's id sorts first, so only the start instant can order them
        let first = DateTime::from_timestamp(1_796_731_200, 100_000).unwrap();
        sink.record_run(&record("20261208T120000Z-ffffffff", first))
            .await
            .unwrap();
        sink.record_run(&record(
            "20261208T120000Z-00000000",
            first + TimeDelta::microseconds(300),
        ))
        .await
        .unwrap();
        let batches = file_runs(root.path(), None, 10).await.unwrap();
        let ids: Vec<String> = batches
            .iter()
            .flat_map(|b| {
                let ids = b.column(0).as_any().downcast_ref::<StringArray>().unwrap();
                (0..ids.len())
                    .map(|i| ids.value(i).to_string())
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(
            ids,
            ["20261208T120000Z-00000000", "20261208T120000Z-ffffffff"]
        );
    }
}
