//! Gold sinks: where a run's tables go. A sink is a small state machine — prepare, write tables
//! into staging, then publish all of them at once or abort — so a failed or retried run never
//! leaves half-written Gold tables.

mod file;
mod file_merge;
mod folder_check;
mod merge;
mod mysql;
mod parquet_parts;
mod partition_sink;
mod published_file;
mod recent_runs;
mod run_lock;
mod staged;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, RecordBatch, UInt64Array};
use datafusion::error::DataFusionError;
use datafusion::logical_expr::dml::InsertOp;
use datafusion::prelude::DataFrame;

pub use file::FileSink;
pub use merge::Merge;
pub use mysql::maintenance;
pub use mysql::{
    LoadMethod, MySqlSink, MySqlSinkExec, MySqlTable, MySqlUrl, MySqlWriter, PeriodGrain,
    PeriodPartitions, RowEncoder, RowFormat, RunNames, SinkTarget, TableDdl, TableLayout, TaskPart,
    YearTasks, count_schema, refuses_local_infile, run_key,
};
pub use parquet_parts::{ParquetPartWriter, ParquetPartsSinkExec, ParquetPartsTable};
pub use partition_sink::{PartitionSinkExec, PartitionWriter};
pub use recent_runs::runs_schema;
pub use run_lock::{RunLock, lock_file, lock_file_path};

use crate::error::{Error, Result};
use crate::run_record::RunRecord;
use crate::table_options::TableOptions;

/// A Gold table to write: its name and layout.
#[derive(Debug, Clone, Copy)]
pub struct GoldTable<'a> {
    /// The table's name.
    pub name: &'a str,
    /// Keys, partitioning and indexes.
    pub options: &'a TableOptions,
}

/// A destination for Gold tables.
#[async_trait]
pub trait GoldSink: Send + Sync {
    /// Where the sink writes, with credentials masked.
    fn describe(&self) -> String;

    /// How many of a run's queries run at once unless the run says otherwise: 1 here (one query
    /// already keeps every core busy); a sink whose big loads wait on a database server says 2, so
    /// that the run's other queries are computed while such a table loads.
    fn default_concurrency(&self) -> usize {
        1
    }

    /// Checks the destination and creates the run's staging area.
    async fn prepare(&mut self, run_id: &str) -> Result<()>;

    /// Writes `df` as Gold table `table` into staging; returns the rows written. Several tables
    /// may be written at once (a run computes independent Gold tables concurrently).
    async fn write_table(&self, table: GoldTable<'_>, df: DataFrame) -> Result<u64>;

    /// Writes `df` as Gold table `table` into staging, to be combined with the published table as
    /// `merge` says when the run is published (see [`Merge`]); returns the rows the run wrote. The
    /// default handles [`Merge::Replace`] only.
    async fn write_merged(
        &self,
        table: GoldTable<'_>,
        df: DataFrame,
        merge: &Merge,
    ) -> Result<u64> {
        match merge {
            Merge::Replace => self.write_table(table, df).await,
            other => Err(Error::invalid(
                "sink URL",
                format!(
                    "{} cannot {} Gold table {}",
                    self.describe(),
                    other.describe(),
                    table.name
                ),
            )),
        }
    }

    /// Makes every staged table visible at once, replacing the published ones (merging those
    /// written with a [`Merge`] other than `Replace`).
    async fn publish(&mut self) -> Result<()>;

    /// Drops the staging area; the published tables stay as they were.
    async fn abort(&mut self) -> Result<()>;

    /// Appends `record` to `pipeline_runs`.
    async fn record_run(&mut self, record: &RunRecord) -> Result<()>;

    /// Checks, writing nothing, that the sink could take a run; says what it found, in words.
    async fn check(&self) -> Result<String>;

    /// The latest `limit` runs recorded in `pipeline_runs` (of `job` only, when given), newest
    /// first, in the columns of [`runs_schema`]; none when no run was recorded yet.
    async fn recent_runs(&self, job: Option<&str>, limit: u32) -> Result<Vec<RecordBatch>>;

    /// `columns` (as text; NULL as `None`) of the rows of published Gold table `table` whose
    /// column `key.0` equals `key.1`; none when the table is not published. The data quality gate
    /// reads the last successful run's drift profiles with it. The default reads nothing.
    async fn published_rows(
        &self,
        table: &str,
        columns: &[&str],
        key: (&str, &str),
    ) -> Result<Vec<Vec<Option<String>>>> {
        let _ = (table, columns, key);
        Ok(Vec::new())
    }

    /// Takes the run lock of `job` for run `run_id` (see [`RunLock`]), waiting up to `wait` for
    /// another run of the same job to finish; the default takes no lock.
    async fn lock_run(
        &mut self,
        job: &str,
        run_id: &str,
        wait: std::time::Duration,
    ) -> Result<RunLock> {
        let _ = (job, run_id, wait);
        Ok(RunLock::None)
    }
}

/// Opens the sink named by `url`: `file://DIR` or a plain folder path (Parquet), or
/// `mysql://user:pass@host:port/db` (see [`MySqlUrl`]; nothing is contacted before `prepare`,
/// `check` or `recent_runs`).
pub fn open_sink(url: &str) -> Result<Box<dyn GoldSink>> {
    match url.split_once("://") {
        Some(("file", path)) => Ok(Box::new(FileSink::new(path))),
        Some(("mysql", _)) => Ok(Box::new(MySqlSink::open(url)?)),
        Some((scheme, _)) => Err(Error::invalid(
            "sink URL",
            format!(
                "unsupported scheme '{scheme}://' (use file://DIR or mysql://user:pass@host:port/db)"
            ),
        )),
        None if url.is_empty() => Err(Error::invalid("sink URL", "empty")),
        None => Ok(Box::new(FileSink::new(url))),
    }
}

/// The error of reading a sink's write-only staging table, `what` (e.g. "MySQL staging table t").
fn write_only(what: &str) -> DataFusionError {
    DataFusionError::NotImplemented(format!("{what} can only be written"))
}

/// Refuses any `INSERT` but an append into a sink's staging tables, `what` (e.g. "MySQL staging
/// tables").
fn append_only(what: &str, insert_op: InsertOp) -> Result<(), DataFusionError> {
    if insert_op == InsertOp::Append {
        return Ok(());
    }
    Err(DataFusionError::NotImplemented(format!(
        "{what} only support INSERT (append), not {insert_op}"
    )))
}

/// Rows written, from the `count` column of a DataFusion writer's (or the MySQL sink operator's)
/// output.
fn rows_in(batches: &[RecordBatch]) -> u64 {
    batches
        .iter()
        .filter_map(|b| b.column(0).as_any().downcast_ref::<UInt64Array>())
        .flat_map(|counts| (0..counts.len()).map(move |i| counts.value(i)))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sinks_open_by_scheme() {
        assert!(open_sink("file:///tmp/gold").is_ok());
        assert!(open_sink("gold").is_ok());
        let mysql = open_sink("mysql://u:secret@h:3306/gold").unwrap();
        assert_eq!(mysql.describe(), "mysql://u:***@h:3306/gold");
        assert!(open_sink("mysql://u@h:x/gold").is_err());
        let err = open_sink("ftp://x").err().unwrap();
        assert!(err.to_string().contains("unsupported scheme 'ftp://'"));
    }
}
