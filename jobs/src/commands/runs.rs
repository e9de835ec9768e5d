//! `medallion runs`: the latest rows of `pipeline_runs` from a sink, newest first — read with
//! DataFusion from `DIR/pipeline_runs/*.parquet` for the file sink, or selected from the MySQL
//! `pipeline_runs` table.

use std::sync::Arc;

use clap::Args;
use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::prelude::ParquetReadOptions;
use medallion_core::sink::MySqlUrl;
use medallion_core::{Error, Result};
use mysql_async::prelude::Queryable;

use super::local_context;
use super::output::{OutputArgs, ResultWriter};
use super::sink_check::{SinkUrl, mysql_connect};

/// Arguments of `medallion runs`.
#[derive(Debug, Args)]
pub struct RunsArgs {
    /// The sink whose runs to show: file://DIR or mysql://user:pass@host:port/db.
    #[arg(long, env = "MEDALLION_SINK", default_value = "file://gold")]
    pub sink: String,
    /// How many runs, newest first.
    #[arg(long, default_value_t = 20)]
    pub limit: u32,
    /// Only the runs of this job.
    #[arg(long)]
    pub job: Option<String>,
    /// Output options.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The columns shown, the same for both sinks.
fn runs_schema() -> SchemaRef {
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

/// Runs of the file sink under `dir`.
async fn file_runs(dir: &std::path::Path, args: &RunsArgs) -> Result<Vec<RecordBatch>> {
    if !dir.is_dir() {
        return Err(Error::invalid(
            "--sink",
            format!("{}: no such folder", dir.display()),
        ));
    }
    let runs = dir.join("pipeline_runs");
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
    let ctx = local_context()?;
    let location = format!("{}/", runs.display());
    ctx.register_parquet("pipeline_runs", &location, ParquetReadOptions::default())
        .await
        .map_err(|e| Error::CorruptFile {
            location: location.clone(),
            message: medallion_core::error::first_line(&e.to_string()),
        })?;
    let filter = match &args.job {
        Some(job) => format!("WHERE job = '{}'", job.replace('\'', "''")),
        None => String::new(),
    };
    let sql = format!(
        "SELECT run_id, job, mode, status, \
           to_char(started_at, '%Y-%m-%d %H:%M:%S') AS started_at, \
           CAST(CAST(finished_at AS BIGINT) - CAST(started_at AS BIGINT) AS DOUBLE) / 1000000.0 \
             AS duration_s, \
           rows_read, rows_rejected, rows_written, data_quality_score, error \
         FROM pipeline_runs {filter} ORDER BY started_at DESC, run_id DESC LIMIT {}",
        args.limit
    );
    let what = format!("reading {location}");
    let batches = ctx
        .sql(&sql)
        .await
        .map_err(|e| Error::engine(what.clone(), e))?
        .collect()
        .await
        .map_err(|e| Error::engine(what.clone(), e))?;
    // Same column types whatever the files hold (e.g. Utf8View).
    batches
        .iter()
        .map(|batch| {
            let columns = runs_schema()
                .fields()
                .iter()
                .zip(batch.columns())
                .map(|(field, column)| {
                    datafusion::arrow::compute::cast(column, field.data_type())
                        .map_err(|e| Error::engine(what.clone(), e.into()))
                })
                .collect::<Result<Vec<_>>>()?;
            RecordBatch::try_new(runs_schema(), columns)
                .map_err(|e| Error::engine(what.clone(), e.into()))
        })
        .collect()
}

/// One row of the MySQL `pipeline_runs` table, as selected by [`mysql_runs`].
type MySqlRun = (
    String,
    String,
    String,
    String,
    String,
    Option<f64>,
    i64,
    i64,
    String,
    Option<f64>,
    Option<String>,
);

/// Runs of the MySQL sink at `url`.
async fn mysql_runs(url: &MySqlUrl, args: &RunsArgs) -> Result<Vec<RecordBatch>> {
    let mut conn = mysql_connect(url, false).await?;
    let server = |e: mysql_async::Error| Error::Unreachable {
        what: "MySQL",
        location: url.masked(),
        message: e.to_string(),
    };
    let exists: Option<String> = conn
        .exec_first(
            "SELECT TABLE_NAME FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'pipeline_runs'",
            (url.database.as_str(),),
        )
        .await
        .map_err(server)?;
    if exists.is_none() {
        let _ = conn.disconnect().await;
        return Ok(Vec::new());
    }
    let db = format!("`{}`", url.database.replace('`', "``"));
    let sql = format!(
        "SELECT run_id, job, mode, status, \
           DATE_FORMAT(started_at, '%Y-%m-%d %H:%i:%s'), duration_s, \
           CAST(rows_read AS SIGNED), CAST(rows_rejected AS SIGNED), \
           CAST(rows_written AS CHAR), data_quality_score, error \
         FROM {db}.pipeline_runs WHERE (? IS NULL OR job = ?) \
         ORDER BY started_at DESC, run_id DESC LIMIT ?"
    );
    let rows: Vec<MySqlRun> = conn
        .exec(sql, (args.job.as_deref(), args.job.as_deref(), args.limit))
        .await
        .map_err(|e| {
            Error::engine(
                "reading pipeline_runs",
                datafusion::error::DataFusionError::External(Box::new(e)),
            )
        })?;
    let _ = conn.disconnect().await;
    let text = |f: &dyn Fn(&MySqlRun) -> String| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(rows.iter().map(f)))
    };
    let columns: Vec<ArrayRef> = vec![
        text(&|r| r.0.clone()),
        text(&|r| r.1.clone()),
        text(&|r| r.2.clone()),
        text(&|r| r.3.clone()),
        text(&|r| r.4.clone()),
        Arc::new(Float64Array::from_iter(rows.iter().map(|r| r.5))),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.6))),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.7))),
        text(&|r| r.8.clone()),
        Arc::new(Float64Array::from_iter(rows.iter().map(|r| r.9))),
        Arc::new(StringArray::from_iter(rows.iter().map(|r| r.10.clone()))),
    ];
    let batch = RecordBatch::try_new(runs_schema(), columns)
        .map_err(|e| Error::engine("reading pipeline_runs", e.into()))?;
    Ok(vec![batch])
}

/// `medallion runs`.
pub async fn execute(args: RunsArgs) -> Result<()> {
    if args.limit == 0 {
        return Err(Error::invalid("--limit", "must be at least 1"));
    }
    let mut writer = ResultWriter::new(&args.output)?;
    let sink = SinkUrl::parse(&args.sink)?;
    let batches = match &sink {
        SinkUrl::File(dir) => file_runs(dir, &args).await?,
        SinkUrl::MySql(url) => mysql_runs(url, &args).await?,
    };
    if batches.iter().all(|b| b.num_rows() == 0) {
        eprintln!("no runs recorded in {}", sink.describe());
    }
    writer.write_batches(runs_schema(), &batches).await?;
    writer.finish()
}
