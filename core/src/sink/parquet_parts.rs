//! [`ParquetPartsTable`] and [`ParquetPartsSinkExec`]: a Gold table written as one Parquet file per
//! input partition, each by the task that computes the partition, on the executor that runs it —
//! Spark's `part-NNNNN` files. DataFusion's own writer (`DataSinkExec`) takes a single input
//! partition, so one task would encode a whole table while the other executors wait.
//!
//! Each task writes one uniquely named `DIR/part-….parquet` through a temporary file renamed into
//! place (a partition with no rows writes none) and emits one row: `count: UInt64`, the rows it
//! wrote, and `file: Utf8`, the file's name. The client keeps exactly the files the collected result
//! names ([`keep_only_parts`]): the file of an attempt Ballista retried or whose output it lost (and
//! re-ran) is removed, so no row is written twice. (Under Ballista a task sees its plan restricted to
//! its own partitions, numbered from 0, so the partition number cannot name the file.)

use std::collections::BTreeSet;
use std::fmt;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use datafusion::arrow::array::{Array, ArrayRef, RecordBatch, StringArray, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::Expr;
use datafusion::logical_expr::dml::InsertOp;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use futures::StreamExt;
use futures::future::BoxFuture;

use super::partition_sink::{PartitionSinkExec, PartitionWriter};

/// The schema of the operator's output: `count`, the rows a task wrote, and `file`, the name of the
/// part file it wrote (NULL when it had no rows).
pub fn parts_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("count", DataType::UInt64, false),
        Field::new("file", DataType::Utf8, true),
    ]))
}

/// The part file names a collected [`ParquetPartsSinkExec`] result reports.
pub fn reported_parts(batches: &[RecordBatch]) -> BTreeSet<String> {
    batches
        .iter()
        .filter_map(|b| b.column(1).as_any().downcast_ref::<StringArray>())
        .flat_map(|files| {
            (0..files.len())
                .filter(|&i| files.is_valid(i))
                .map(move |i| files.value(i).to_string())
        })
        .collect()
}

/// Removes every file of `dir` but the parts in `keep`: what attempts that did not count left.
pub fn keep_only_parts(dir: &Path, keep: &BTreeSet<String>) -> std::io::Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().to_string();
        if !keep.contains(&name) && entry.file_type()?.is_file() {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// A part file name no other task or attempt uses: `part-<pid>-<nanos>-<n>.parquet`.
fn unique_part_name() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("part-{}-{nanos:x}-{n}.parquet", std::process::id())
}

/// A Gold table's staging folder as a write-only table: `INSERT INTO` it plans a
/// [`ParquetPartsSinkExec`] (on the scheduler, after the plan went through
/// [`crate::codec::MedallionLogicalCodec`]).
#[derive(Debug)]
pub struct ParquetPartsTable {
    dir: String,
    schema: SchemaRef,
}

impl ParquetPartsTable {
    /// The folder `dir` (a local or shared path every executor sees) for rows of `schema`.
    pub fn new(dir: impl Into<String>, schema: SchemaRef) -> Self {
        Self {
            dir: dir.into(),
            schema,
        }
    }

    /// The folder the parts go to.
    pub fn dir(&self) -> &str {
        &self.dir
    }
}

#[async_trait]
impl TableProvider for ParquetPartsTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        _projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Err(super::write_only(&format!(
            "Gold staging folder {}",
            self.dir
        )))
    }

    async fn insert_into(
        &self,
        _state: &dyn Session,
        input: Arc<dyn ExecutionPlan>,
        insert_op: InsertOp,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        super::append_only("Gold staging folders", insert_op)?;
        Ok(Arc::new(ParquetPartsSinkExec::new(self.dir.clone(), input)))
    }
}

/// Writes each input partition as one part file of `DIR`; emits one `count, file` row per
/// partition.
pub type ParquetPartsSinkExec = PartitionSinkExec<ParquetPartWriter>;

impl ParquetPartsSinkExec {
    /// Writes `input`'s partitions into folder `dir`.
    pub fn new(dir: String, input: Arc<dyn ExecutionPlan>) -> Self {
        Self::with_writer(ParquetPartWriter { dir }, input)
    }

    /// The folder the parts go to.
    pub fn dir(&self) -> &str {
        &self.writer().dir
    }
}

/// The [`PartitionWriter`] of [`ParquetPartsSinkExec`]: one part file per task in `dir`.
#[derive(Debug, Clone)]
pub struct ParquetPartWriter {
    dir: String,
}

impl PartitionWriter for ParquetPartWriter {
    const NAME: &'static str = "ParquetPartsSinkExec";

    fn output_schema(&self) -> SchemaRef {
        parts_schema()
    }

    fn for_input(&self, _input: &Arc<dyn ExecutionPlan>) -> Result<Self> {
        Ok(self.clone())
    }

    fn fmt_settings(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "dir={}", self.dir)
    }

    fn write(
        &self,
        _partition: usize,
        _input: &Arc<dyn ExecutionPlan>,
        rows: SendableRecordBatchStream,
        _metrics: &ExecutionPlanMetricsSet,
    ) -> Result<BoxFuture<'static, Result<RecordBatch>>> {
        let name = unique_part_name();
        let path = Path::new(&self.dir).join(&name);
        Ok(Box::pin(async move {
            let written = write_part(&path, rows).await?;
            let file = (written > 0).then_some(name);
            RecordBatch::try_new(
                parts_schema(),
                vec![
                    Arc::new(UInt64Array::from(vec![written])) as ArrayRef,
                    Arc::new(StringArray::from(vec![file])) as ArrayRef,
                ],
            )
            .map_err(DataFusionError::from)
        }))
    }
}

/// An open part file: written under a temporary name, renamed to its path when committed; dropped
/// uncommitted (a failed task), the temporary file is removed.
struct PartFile {
    path: PathBuf,
    tmp: PathBuf,
    writer: Option<ArrowWriter<File>>,
}

impl PartFile {
    fn create(path: &Path, schema: SchemaRef) -> Result<Self> {
        let io = |e: std::io::Error| DataFusionError::Execution(format!("{}: {e}", path.display()));
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(io)?;
        }
        let tmp = path.with_extension(format!("parquet.tmp-{}", std::process::id()));
        let file = File::create(&tmp).map_err(io)?;
        let mut part = Self {
            path: path.to_path_buf(),
            tmp,
            writer: None,
        };
        let level = ZstdLevel::try_new(1)?;
        let properties = WriterProperties::builder()
            .set_compression(Compression::ZSTD(level))
            .build();
        part.writer = Some(ArrowWriter::try_new(file, schema, Some(properties))?);
        Ok(part)
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        match self.writer.as_mut() {
            Some(writer) => Ok(writer.write(batch)?),
            None => Err(DataFusionError::Internal("part file already closed".into())),
        }
    }

    fn commit(mut self) -> Result<()> {
        let writer = self.writer.take();
        let closed = writer.map(|w| w.close()).transpose();
        let renamed = closed.map_err(DataFusionError::from).and_then(|_| {
            fs::rename(&self.tmp, &self.path).map_err(|e| {
                DataFusionError::Execution(format!("renaming {}: {e}", self.tmp.display()))
            })
        });
        if renamed.is_err() {
            let _ = fs::remove_file(&self.tmp);
        }
        renamed
    }
}

impl Drop for PartFile {
    fn drop(&mut self) {
        if self.writer.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Writes one input partition to `path` (no file when it has no rows); returns the rows written.
async fn write_part(path: &Path, mut input: SendableRecordBatchStream) -> Result<u64> {
    let mut part: Option<PartFile> = None;
    let mut rows = 0u64;
    while let Some(batch) = input.next().await {
        let batch = batch?;
        if batch.num_rows() == 0 {
            continue;
        }
        let file = match part.as_mut() {
            Some(file) => file,
            None => part.insert(PartFile::create(path, batch.schema())?),
        };
        file.write(&batch)?;
        rows += batch.num_rows() as u64;
    }
    if let Some(file) = part {
        file.commit()?;
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Int32Array;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::datasource::memory::MemorySourceConfig;
    use datafusion::physical_plan::collect;
    use datafusion::prelude::{ParquetReadOptions, SessionContext};

    fn batch(values: &[i32]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int32, false)]));
        RecordBatch::try_new(schema, vec![Arc::new(Int32Array::from(values.to_vec()))]).unwrap()
    }

    #[tokio::test]
    async fn each_partition_writes_its_own_part_and_only_the_reported_parts_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("t");
        let schema = batch(&[]).schema();
        // three partitions: two with rows, one empty (no file)
        let partitions = vec![
            vec![batch(&[1, 2]), batch(&[3])],
            vec![],
            vec![batch(&[10, 20])],
        ];
        let input = MemorySourceConfig::try_new_exec(&partitions, schema, None).unwrap();
        let sink = Arc::new(ParquetPartsSinkExec::new(
            out.display().to_string(),
            input as Arc<dyn ExecutionPlan>,
        ));
        let ctx = SessionContext::new();
        // a first attempt whose result is lost (as when Ballista re-runs a task), then the one
        // whose result counts
        let lost = collect(sink.clone(), ctx.task_ctx()).await.unwrap();
        assert_eq!(reported_parts(&lost).len(), 2);
        let counts = collect(sink.clone(), ctx.task_ctx()).await.unwrap();
        assert_eq!(super::super::rows_in(&counts), 5);
        let reported = reported_parts(&counts);
        // two parts: the empty partition wrote none
        assert_eq!(reported.len(), 2);
        assert!(reported.is_disjoint(&reported_parts(&lost)));
        assert_eq!(fs::read_dir(&out).unwrap().count(), 4);
        keep_only_parts(&out, &reported).unwrap();
        let mut files: Vec<String> = fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        files.sort();
        assert_eq!(files, reported.into_iter().collect::<Vec<_>>());
        let read = ctx
            .read_parquet(out.display().to_string(), ParquetReadOptions::default())
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let mut values: Vec<i32> = read
            .iter()
            .flat_map(|b| {
                b.column(0)
                    .as_any()
                    .downcast_ref::<Int32Array>()
                    .unwrap()
                    .values()
                    .to_vec()
            })
            .collect();
        values.sort();
        // the lost attempt's files are gone: no duplicated rows
        assert_eq!(values, [1, 2, 3, 10, 20]);
    }
}
