//! `archive` on a lake in an object store (`s3://bucket/prefix`, `hdfs://...`): the same phases as
//! on a local lake (see `medallion archive`) with objects instead of files. Each old
//! `date=YYYY-MM-DD/` partition is rewritten as one zstd Parquet object under the archive prefix of
//! the same store; the object is read back and its footer's row count compared with the source's
//! before the source objects are deleted. An archive object already holding the right row count (a
//! run interrupted after writing it) is kept, so a retried run only deletes the source.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{Months, NaiveDate};
use datafusion::execution::object_store::ObjectStoreRegistry;
use datafusion::object_store::path::Path as StorePath;
use datafusion::object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
use medallion_core::object_stores::{lake_error, shared_stores};
use medallion_core::{Error, Result};

use super::archive_plan::{ArchivePlan, ArchivedPartition};
use crate::plan::parse_date;

/// An old partition of a store lake: its day, source objects, target object and rows.
struct StorePartition {
    day: NaiveDate,
    sources: Vec<StorePath>,
    target: StorePath,
    rows: u64,
    bytes: u64,
}

/// Where a lake URL lives: its store and its root path in the store.
struct StoreLake {
    url: String,
    store: Arc<dyn ObjectStore>,
    root: String,
}

impl StoreLake {
    fn open(lake: &str) -> Result<Self> {
        let url = url::Url::parse(lake).map_err(|e| Error::invalid("--lake", e.to_string()))?;
        let store = shared_stores()
            .get_store(&url)
            .map_err(|e| Error::invalid("--lake", e.to_string()))?;
        Ok(Self {
            url: lake.trim_end_matches('/').to_string(),
            store,
            root: url.path().trim_matches('/').to_string(),
        })
    }

    /// The store path of `relative` under the lake root.
    fn path(&self, relative: &str) -> StorePath {
        let relative = relative.trim_matches('/');
        if self.root.is_empty() {
            StorePath::from(relative)
        } else {
            StorePath::from(format!("{}/{relative}", self.root))
        }
    }

    /// The URL of store path `path`, for messages.
    fn display(&self, path: &StorePath) -> PathBuf {
        let relative = path
            .as_ref()
            .strip_prefix(&self.root)
            .unwrap_or(path.as_ref())
            .trim_start_matches('/');
        PathBuf::from(format!("{}/{relative}", self.url))
    }

    fn error(&self, table: &str, e: &datafusion::object_store::Error) -> Error {
        lake_error(table, &self.url, e)
    }

    /// Rows in the footer of the Parquet object `path`.
    async fn footer_rows(&self, table: &str, path: &StorePath) -> Result<u64> {
        let bytes = self.get(table, path).await?;
        let reader =
            SerializedFileReader::new(bytes).map_err(|e| corrupt(&self.display(path), e))?;
        Ok(u64::try_from(reader.metadata().file_metadata().num_rows()).unwrap_or(0))
    }

    async fn get(&self, table: &str, path: &StorePath) -> Result<bytes::Bytes> {
        let result = self
            .store
            .get(path)
            .await
            .map_err(|e| self.error(table, &e))?;
        result.bytes().await.map_err(|e| self.error(table, &e))
    }
}

fn corrupt(location: &std::path::Path, e: impl std::fmt::Display) -> Error {
    Error::CorruptFile {
        location: location.display().to_string(),
        message: e.to_string(),
    }
}

/// The `date=YYYY-MM-DD` partitions of the table older than the plan's retention before `as_of`,
/// oldest first; `archive_prefix` is the archive folder relative to the lake root.
async fn plan_store(
    lake: &StoreLake,
    plan: &ArchivePlan,
    archive_prefix: &str,
    as_of: NaiveDate,
) -> Result<Vec<StorePartition>> {
    let table = plan.table.as_str();
    let cutoff = as_of
        .checked_sub_months(Months::new(plan.retention_months))
        .ok_or_else(|| Error::invalid("--retention-months", "too large"))?;
    let table_dir = lake.path(table);
    let listing = lake
        .store
        .list_with_delimiter(Some(&table_dir))
        .await
        .map_err(|e| lake.error(table, &e))?;
    if listing.common_prefixes.is_empty() && listing.objects.is_empty() {
        return Err(Error::LakeNotFound {
            table: table.to_string(),
            location: lake.display(&table_dir).display().to_string(),
        });
    }
    let mut partitions = Vec::new();
    for dir in listing.common_prefixes {
        let Some(day) = dir
            .filename()
            .and_then(|n| n.strip_prefix("date="))
            .and_then(parse_date)
        else {
            continue;
        };
        if day >= cutoff {
            continue;
        }
        let objects = lake
            .store
            .list_with_delimiter(Some(&dir))
            .await
            .map_err(|e| lake.error(table, &e))?
            .objects;
        let mut sources = Vec::new();
        let (mut rows, mut bytes) = (0, 0);
        for object in objects {
            let name = object.location.filename().unwrap_or_default();
            if name.starts_with('.') || name.starts_with('_') || !name.ends_with(".parquet") {
                continue;
            }
            rows += lake.footer_rows(table, &object.location).await?;
            bytes += object.size;
            sources.push(object.location);
        }
        sources.sort();
        let target = lake.path(&format!(
            "{}/date={day}/part-00000.parquet",
            archive_prefix.trim_matches('/')
        ));
        partitions.push(StorePartition {
            day,
            sources,
            target,
            rows,
            bytes,
        });
    }
    partitions.sort_by_key(|p| p.day);
    Ok(partitions)
}

/// Every row of the partition's sources as one zstd Parquet file, in memory.
async fn rewrite(lake: &StoreLake, table: &str, partition: &StorePartition) -> Result<Vec<u8>> {
    let mut writer: Option<ArrowWriter<Vec<u8>>> = None;
    for source in &partition.sources {
        let location = lake.display(source);
        let bytes = lake.get(table, source).await?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
            .and_then(|b| b.build())
            .map_err(|e| corrupt(&location, e))?;
        for batch in reader {
            let batch = batch.map_err(|e| corrupt(&location, e))?;
            if writer.is_none() {
                let level = ZstdLevel::try_new(9).map_err(|e| corrupt(&location, e))?;
                let props = WriterProperties::builder()
                    .set_compression(Compression::ZSTD(level))
                    .build();
                writer = Some(
                    ArrowWriter::try_new(Vec::new(), batch.schema(), Some(props))
                        .map_err(|e| corrupt(&location, e))?,
                );
            }
            if let Some(w) = writer.as_mut() {
                w.write(&batch).map_err(|e| corrupt(&location, e))?;
            }
        }
    }
    let target = lake.display(&partition.target);
    match writer {
        Some(w) => w.into_inner().map_err(|e| corrupt(&target, e)),
        None => Err(Error::invalid(
            "archive",
            format!(
                "{} holds no rows",
                lake.display(&partition.target).display()
            ),
        )),
    }
}

/// Archives one partition: write the archive object unless it already holds the right rows,
/// read it back and compare row counts, then delete the sources.
async fn move_partition(lake: &StoreLake, table: &str, partition: &StorePartition) -> Result<()> {
    let existing = match lake.store.head(&partition.target).await {
        Ok(_) => Some(lake.footer_rows(table, &partition.target).await?),
        Err(datafusion::object_store::Error::NotFound { .. }) => None,
        Err(e) => return Err(lake.error(table, &e)),
    };
    if existing != Some(partition.rows) {
        let data = rewrite(lake, table, partition).await?;
        lake.store
            .put(&partition.target, PutPayload::from(data))
            .await
            .map_err(|e| lake.error(table, &e))?;
        let written = lake.footer_rows(table, &partition.target).await?;
        if written != partition.rows {
            let _ = lake.store.delete(&partition.target).await;
            return Err(Error::JobFailed {
                job: "archive".to_string(),
                message: format!(
                    "{}: archived {written} rows but the source has {}; source kept",
                    lake.display(&partition.target).display(),
                    partition.rows
                ),
            });
        }
    }
    for source in &partition.sources {
        lake.store
            .delete(source)
            .await
            .map_err(|e| lake.error(table, &e))?;
    }
    Ok(())
}

/// Archives the old partitions of `plan.table` of the object-store lake `lake` under
/// `archive_prefix` (relative to the lake root); with `dry_run`, only lists them.
pub async fn archive_store(
    lake: &str,
    plan: &ArchivePlan,
    archive_prefix: &str,
    as_of: NaiveDate,
    dry_run: bool,
) -> Result<Vec<ArchivedPartition>> {
    let store_lake = StoreLake::open(lake)?;
    let partitions = plan_store(&store_lake, plan, archive_prefix, as_of).await?;
    let mut out = Vec::with_capacity(partitions.len());
    for partition in &partitions {
        if !dry_run {
            move_partition(&store_lake, &plan.table, partition).await?;
            tracing::info!(
                day = %partition.day,
                rows = partition.rows,
                target = %store_lake.display(&partition.target).display(),
                "partition archived"
            );
        }
        let source_dir = store_lake.path(&format!("{}/date={}", plan.table, partition.day));
        out.push(ArchivedPartition {
            day: partition.day,
            source: store_lake.display(&source_dir),
            target: store_lake.display(&partition.target),
            rows: partition.rows,
            bytes: partition.bytes,
        });
    }
    Ok(out)
}
