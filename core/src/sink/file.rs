//! The Parquet folder sink: each Gold table is a folder of Parquet files under the sink folder.
//!
//! A run writes into `DIR/.staging-<run_id>/` (a merged table — see [`Merge`] — is staged with the
//! published rows it keeps, see [`super::file_merge`]); publishing renames each staged table folder over the
//! published one (the replaced folder is kept aside until every rename succeeded, then deleted), so
//! readers see either the old or the new table folders and a failed run changes nothing.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::TableReference;
use datafusion::datasource::provider_as_source;
use datafusion::logical_expr::LogicalPlanBuilder;
use datafusion::logical_expr::dml::InsertOp;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::prelude::DataFrame;

use super::file_merge::add_kept_rows;
use super::parquet_parts::{ParquetPartsTable, keep_only_parts, reported_parts};
use super::staged::StagedTables;
use super::{GoldSink, GoldTable, Merge};
use crate::error::{Error, Result};
use crate::run_record::RunRecord;

/// Writes Gold tables as Parquet folders under a local (or shared) folder.
#[derive(Debug)]
pub struct FileSink {
    root: PathBuf,
    run_id: Option<String>,
    staged: StagedTables,
}

impl FileSink {
    /// A sink writing under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            run_id: None,
            staged: StagedTables::default(),
        }
    }

    fn staging_dir(&self) -> Result<PathBuf> {
        match &self.run_id {
            Some(run_id) => Ok(self.root.join(format!(".staging-{run_id}"))),
            None => Err(Error::invalid("sink", "prepare() was not called")),
        }
    }

    fn replaced_dir(&self) -> Result<PathBuf> {
        match &self.run_id {
            Some(run_id) => Ok(self.root.join(format!(".replaced-{run_id}"))),
            None => Err(Error::invalid("sink", "prepare() was not called")),
        }
    }

    /// Moves the published tables of `done` back from `replaced` after a failed publish.
    fn roll_back(&self, done: &[String], replaced: &Path) {
        for table in done {
            let published = self.root.join(table);
            let _ = fs::remove_dir_all(&published);
            let old = replaced.join(table);
            if old.exists() {
                let _ = fs::rename(&old, &published);
            }
        }
    }
}

/// Writes `batch` as one Parquet file at `path`.
fn write_parquet_file(path: &Path, batch: &RecordBatch) -> Result<()> {
    let file = fs::File::create(path).map_err(|e| Error::io("creating", path, e))?;
    let write = || -> datafusion::parquet::errors::Result<()> {
        let mut writer = ArrowWriter::try_new(file, batch.schema(), None)?;
        writer.write(batch)?;
        writer.close()?;
        Ok(())
    };
    write().map_err(|e| Error::io("writing", path, std::io::Error::other(e)))
}

#[async_trait]
impl GoldSink for FileSink {
    fn describe(&self) -> String {
        format!("file://{}", self.root.display())
    }

    async fn prepare(&mut self, run_id: &str) -> Result<()> {
        self.run_id = Some(run_id.to_string());
        self.staged.clear();
        let staging = self.staging_dir()?;
        fs::create_dir_all(&staging).map_err(|e| Error::io("creating", &staging, e))
    }

    async fn write_table(&self, table: GoldTable<'_>, df: DataFrame) -> Result<u64> {
        let dir = self.staging_dir()?.join(table.name);
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        // one part file per partition, written by the task that computes it
        let parts = ParquetPartsTable::new(dir.display().to_string(), Arc::clone(&schema));
        let context = format!("writing Gold table {}", table.name);
        let (state, plan) = df.into_parts();
        let plan = LogicalPlanBuilder::insert_into(
            plan,
            TableReference::bare(format!("gold_{}", table.name)),
            provider_as_source(Arc::new(parts)),
            InsertOp::Append,
        )
        .and_then(|builder| builder.build())
        .map_err(|e| Error::engine(context.clone(), e))?;
        let batches = DataFrame::new(state, plan)
            .collect()
            .await
            .map_err(|e| Error::engine(context, e))?;
        // only the parts of the attempts the result counts
        keep_only_parts(&dir, &reported_parts(&batches))
            .map_err(|e| Error::io("cleaning", &dir, e))?;
        let rows = super::rows_in(&batches);
        if rows == 0 {
            // An empty result writes no file: write one with the schema, so readers see an empty
            // table rather than a missing one.
            fs::create_dir_all(&dir).map_err(|e| Error::io("creating", &dir, e))?;
            write_parquet_file(&dir.join("part-0.parquet"), &RecordBatch::new_empty(schema))?;
        }
        self.staged.add(table.name);
        Ok(rows)
    }

    async fn write_merged(
        &self,
        table: GoldTable<'_>,
        df: DataFrame,
        merge: &Merge,
    ) -> Result<u64> {
        merge.check(table)?;
        let schema = Arc::new(df.schema().as_arrow().clone());
        let state = df.clone().into_parts().0;
        let rows = self.write_table(table, df).await?;
        let published = self.root.join(table.name);
        let staged = self.staging_dir()?.join(table.name);
        let kept = add_kept_rows(state, table, merge, &published, &staged, &schema).await?;
        if *merge != Merge::Replace {
            tracing::info!(
                table = table.name,
                rows,
                kept,
                merge = %merge.describe(),
                "Gold table merged with its published rows"
            );
        }
        Ok(rows)
    }

    async fn publish(&mut self) -> Result<()> {
        let staging = self.staging_dir()?;
        let replaced = self.replaced_dir()?;
        fs::create_dir_all(&replaced).map_err(|e| Error::io("creating", &replaced, e))?;
        let mut done = Vec::new();
        for table in &self.staged.list() {
            let published = self.root.join(table);
            let outcome = (|| {
                if published.exists() {
                    fs::rename(&published, replaced.join(table))
                        .map_err(|e| Error::io("moving aside", &published, e))?;
                }
                fs::rename(staging.join(table), &published)
                    .map_err(|e| Error::io("publishing", &published, e))
            })();
            if let Err(e) = outcome {
                self.roll_back(&done, &replaced);
                return Err(e);
            }
            done.push(table.clone());
        }
        let _ = fs::remove_dir_all(&replaced);
        let _ = fs::remove_dir_all(&staging);
        Ok(())
    }

    async fn abort(&mut self) -> Result<()> {
        let staging = self.staging_dir()?;
        if staging.exists() {
            fs::remove_dir_all(&staging).map_err(|e| Error::io("removing", &staging, e))?;
        }
        self.staged.clear();
        Ok(())
    }

    async fn check(&self) -> Result<String> {
        super::folder_check::check_folder(&self.root)
    }

    async fn recent_runs(&self, job: Option<&str>, limit: u32) -> Result<Vec<RecordBatch>> {
        super::recent_runs::file_runs(&self.root, job, limit).await
    }

    async fn published_rows(
        &self,
        table: &str,
        columns: &[&str],
        key: (&str, &str),
    ) -> Result<Vec<Vec<Option<String>>>> {
        super::published_file::published_rows(&self.root, table, columns, key).await
    }

    async fn lock_run(
        &mut self,
        job: &str,
        run_id: &str,
        wait: std::time::Duration,
    ) -> Result<super::RunLock> {
        super::lock_file(&self.root, job, run_id, wait).await
    }

    async fn record_run(&mut self, record: &RunRecord) -> Result<()> {
        let dir = self.root.join("pipeline_runs");
        fs::create_dir_all(&dir).map_err(|e| Error::io("creating", &dir, e))?;
        let path = dir.join(format!("run-{}.parquet", record.run_id));
        write_parquet_file(&path, &record.to_batch()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn publish_replaces_tables_and_abort_leaves_them() {
        let root = tempfile::tempdir().unwrap();
        let mut sink = FileSink::new(root.path());
        // a previously published table
        fs::create_dir_all(root.path().join("t/")).unwrap();
        fs::write(root.path().join("t/old.parquet"), b"old").unwrap();

        // an aborted run: nothing changes
        sink.prepare("r1").await.unwrap();
        fs::create_dir_all(root.path().join(".staging-r1/t")).unwrap();
        fs::write(root.path().join(".staging-r1/t/new.parquet"), b"new").unwrap();
        sink.staged.add("t");
        sink.abort().await.unwrap();
        assert!(root.path().join("t/old.parquet").exists());
        assert!(!root.path().join(".staging-r1").exists());

        // a published run: the new folder replaces the old one, staging is gone
        sink.prepare("r2").await.unwrap();
        fs::create_dir_all(root.path().join(".staging-r2/t")).unwrap();
        fs::write(root.path().join(".staging-r2/t/new.parquet"), b"new").unwrap();
        sink.staged.add("t");
        sink.publish().await.unwrap();
        assert!(root.path().join("t/new.parquet").exists());
        assert!(!root.path().join("t/old.parquet").exists());
        assert!(!root.path().join(".staging-r2").exists());
        assert!(!root.path().join(".replaced-r2").exists());
    }
}
