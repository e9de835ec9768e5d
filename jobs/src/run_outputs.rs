//! The files a published run writes besides its Gold tables: the job's readable reports
//! (`--reports DIR`) and the Gold tables as Parquet/CSV files (`--export DIR`).

use std::fs::File;
use std::path::{Path, PathBuf};

use datafusion::arrow::csv::WriterBuilder as CsvWriterBuilder;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use medallion_core::{Error, Result};

use crate::dashboard_export::export_dashboard_json;
use crate::plan::{DASHBOARD_JSON, JobPlan, Params};
use crate::run_options::RunOptions;
use crate::staged_dir::StagedDir;

/// Writes the job's extra outputs after a published run: reports (`--reports`) and file exports
/// (`--export`). Returns the files written.
pub async fn write_outputs(
    ctx: &SessionContext,
    job: &JobPlan,
    params: &Params,
    options: &RunOptions,
) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    if let (Some(dir), Some(renderer)) = (&options.reports, &job.outputs.reports) {
        written.extend(crate::medical::reports::render(renderer, ctx, params, dir).await?);
    }
    if let Some(dir) = &options.export {
        if job.outputs.export.iter().any(|f| f == DASHBOARD_JSON) {
            let location = dir.to_string_lossy();
            let documents = export_dashboard_json(ctx, job, params, &location).await?;
            written.extend(documents.into_iter().map(PathBuf::from));
        } else {
            written.extend(export_gold(ctx, job, params, dir).await?);
        }
    }
    Ok(written)
}

/// Writes every Gold table of `job` as `DIR/<table>.parquet` (zstd) and/or `DIR/<table>.csv`
/// (with a header), per `[outputs] export` of its `job.toml`. All files appear at once at the end.
pub async fn export_gold(
    ctx: &SessionContext,
    job: &JobPlan,
    params: &Params,
    dir: &Path,
) -> Result<Vec<PathBuf>> {
    let staged = StagedDir::create(dir)?;
    let parquet = job.outputs.export.iter().any(|f| f == "parquet");
    let csv = job.outputs.export.iter().any(|f| f == "csv");
    for gold in &job.gold {
        let name = &gold.query.name;
        let what = format!("exporting {name}");
        let sql = gold.sql_with(params)?;
        let df = ctx
            .sql(&sql)
            .await
            .map_err(|e| Error::engine(what.clone(), e))?;
        let schema = std::sync::Arc::new(df.schema().as_arrow().clone());
        let mut stream = df
            .execute_stream()
            .await
            .map_err(|e| Error::engine(what.clone(), e))?;
        let parquet_path = staged.path(&format!("{name}.parquet"))?;
        let csv_path = staged.path(&format!("{name}.csv"))?;
        let mut parquet_writer = if parquet {
            let file =
                File::create(&parquet_path).map_err(|e| Error::io("creating", &parquet_path, e))?;
            let level = ZstdLevel::try_new(3).map_err(|e| Error::engine(what.clone(), e.into()))?;
            let props = WriterProperties::builder()
                .set_compression(Compression::ZSTD(level))
                .build();
            Some(
                ArrowWriter::try_new(file, schema.clone(), Some(props))
                    .map_err(|e| Error::engine(what.clone(), e.into()))?,
            )
        } else {
            None
        };
        let mut csv_writer = if csv {
            let file = File::create(&csv_path).map_err(|e| Error::io("creating", &csv_path, e))?;
            Some(CsvWriterBuilder::new().with_header(true).build(file))
        } else {
            None
        };
        while let Some(batch) = stream.next().await {
            let batch = batch.map_err(|e| Error::engine(what.clone(), e))?;
            if let Some(w) = parquet_writer.as_mut() {
                w.write(&batch)
                    .map_err(|e| Error::engine(what.clone(), e.into()))?;
            }
            if let Some(w) = csv_writer.as_mut() {
                w.write(&batch)
                    .map_err(|e| Error::engine(what.clone(), e.into()))?;
            }
        }
        if let Some(w) = parquet_writer {
            w.close()
                .map_err(|e| Error::engine(what.clone(), e.into()))?;
        }
        drop(csv_writer);
    }
    staged.commit()
}
