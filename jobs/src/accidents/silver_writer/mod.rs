//! Writes Silver table files, shared by the accidents generator and Bronze ingest
//! (`LAKE/accidents/year=YYYY/part-NNNNN.parquet`, or `.orc`) and the medical generator
//! (`LAKE/vitals/date=YYYY-MM-DD/...`, unpartitioned `LAKE/patients/part-00000.parquet`, ...).
//!
//! Files are written into a temporary folder next to the table (`LAKE/.<table>.tmp-<pid>`) and the
//! table folder is replaced only by [`SilverTableWriter::commit`], so a failed run leaves the previous
//! table untouched. Partitions are keyed by an `i32` (a year, a day number, ...) that a
//! [`PartitionNaming`] turns into a folder name.

pub mod row;
#[cfg(test)]
pub mod test_support;

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::parquet::arrow::ArrowWriter as ParquetWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use medallion_core::{Error, Result};
use orc_rust::ArrowWriter as OrcWriter;
use orc_rust::ArrowWriterBuilder as OrcWriterBuilder;
use orc_rust::compression::CompressionType;

use crate::accidents::schema::accidents_schema;

/// The lake file formats, re-exported for the writers' `--format` flags.
pub use medallion_core::lake::LakeFormat;

/// Name of the Silver table folder under the lake root.
pub const TABLE: &str = "accidents";

/// Rows per Parquet row group.
pub const PARQUET_ROW_GROUP_ROWS: usize = 128 * 1024;

/// Rows ORC encodes at a time.
pub const ORC_BATCH_ROWS: usize = 8192;

/// Rows per data file before a year rolls over to its next `part-NNNNN` file.
pub const DEFAULT_ROWS_PER_FILE: u64 = 1_000_000;

/// Turns a partition key into the partition's folder name (`year=2021`); an empty name writes the
/// files directly into the table folder (an unpartitioned table).
pub type PartitionNaming = fn(i32) -> String;

/// `year=YYYY` folders, the accidents layout.
pub fn year_partition(year: i32) -> String {
    format!("year={year}")
}

/// No partition folders: every key writes into the table folder itself.
pub fn unpartitioned(_key: i32) -> String {
    String::new()
}

/// What a committed Silver table holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SilverFiles {
    /// The data files, at their final location, sorted.
    pub files: Vec<PathBuf>,
    /// Rows written per partition key (the year, for `accidents`).
    pub rows_per_year: BTreeMap<i32, u64>,
}

/// One open data file.
enum FileWriter {
    Parquet(Box<ParquetWriter<File>>),
    Orc(Box<OrcWriter<File>>),
}

impl FileWriter {
    fn create(path: &Path, format: LakeFormat, schema: SchemaRef) -> Result<Self> {
        let file = File::create(path).map_err(|e| Error::io("creating", path, e))?;
        let corrupt = |message: String| Error::CorruptFile {
            location: path.display().to_string(),
            message,
        };
        Ok(match format {
            LakeFormat::Parquet => {
                let level = ZstdLevel::try_new(1).map_err(|e| corrupt(e.to_string()))?;
                let props = WriterProperties::builder()
                    .set_compression(Compression::ZSTD(level))
                    .set_max_row_group_row_count(Some(PARQUET_ROW_GROUP_ROWS))
                    .build();
                let writer = ParquetWriter::try_new(file, schema, Some(props))
                    .map_err(|e| corrupt(e.to_string()))?;
                FileWriter::Parquet(Box::new(writer))
            }
            LakeFormat::Orc => {
                let writer = OrcWriterBuilder::new(file, schema)
                    .with_batch_size(ORC_BATCH_ROWS)
                    .with_compression(CompressionType::Snappy)
                    .try_build()
                    .map_err(|e| corrupt(e.to_string()))?;
                FileWriter::Orc(Box::new(writer))
            }
        })
    }

    fn write(&mut self, batch: &RecordBatch) -> std::result::Result<(), String> {
        match self {
            FileWriter::Parquet(w) => w.write(batch).map_err(|e| e.to_string()),
            FileWriter::Orc(w) => w.write(batch).map_err(|e| e.to_string()),
        }
    }

    fn close(self) -> std::result::Result<(), String> {
        match self {
            FileWriter::Parquet(w) => w.close().map(|_| ()).map_err(|e| e.to_string()),
            FileWriter::Orc(w) => w.close().map_err(|e| e.to_string()),
        }
    }
}

struct OpenFile {
    path: PathBuf,
    writer: FileWriter,
    rows: u64,
}

/// Writes the partitions of a Silver table into a temporary folder, then swaps it in.
pub struct SilverTableWriter {
    table: String,
    partition_naming: PartitionNaming,
    schema: SchemaRef,
    format: LakeFormat,
    rows_per_file: u64,
    table_dir: PathBuf,
    tmp_dir: PathBuf,
    open: BTreeMap<i32, OpenFile>,
    next_part: BTreeMap<i32, u32>,
    files: Vec<PathBuf>,
    rows_per_year: BTreeMap<i32, u64>,
    committed: bool,
}

impl SilverTableWriter {
    /// Starts a new version of `LAKE/accidents`, creating the lake root if needed.
    pub fn create(lake: &Path, format: LakeFormat) -> Result<Self> {
        Self::with_rows_per_file(lake, format, DEFAULT_ROWS_PER_FILE)
    }

    /// Like [`create`](Self::create), rolling to a new file every `rows_per_file` rows of a year.
    pub fn with_rows_per_file(lake: &Path, format: LakeFormat, rows_per_file: u64) -> Result<Self> {
        Self::for_table(
            lake,
            TABLE,
            accidents_schema(),
            year_partition,
            format,
            rows_per_file,
        )
    }

    /// Starts a new version of the Silver table `LAKE/<table>` with `schema`, its partitions named
    /// by `partition_naming`, rolling to a new file every `rows_per_file` rows of a partition.
    pub fn for_table(
        lake: &Path,
        table: &str,
        schema: SchemaRef,
        partition_naming: PartitionNaming,
        format: LakeFormat,
        rows_per_file: u64,
    ) -> Result<Self> {
        if rows_per_file == 0 {
            return Err(Error::invalid("rows per file", "must be at least 1"));
        }
        fs::create_dir_all(lake).map_err(|e| Error::io("creating", lake, e))?;
        let tmp_dir = lake.join(format!(".{table}.tmp-{}", std::process::id()));
        if tmp_dir.exists() {
            fs::remove_dir_all(&tmp_dir).map_err(|e| Error::io("removing", &tmp_dir, e))?;
        }
        fs::create_dir(&tmp_dir).map_err(|e| Error::io("creating", &tmp_dir, e))?;
        Ok(Self {
            table: table.to_string(),
            partition_naming,
            schema,
            format,
            rows_per_file,
            table_dir: lake.join(table),
            tmp_dir,
            open: BTreeMap::new(),
            next_part: BTreeMap::new(),
            files: Vec::new(),
            rows_per_year: BTreeMap::new(),
            committed: false,
        })
    }

    /// The table folder this writer replaces on commit.
    pub fn table_dir(&self) -> &Path {
        &self.table_dir
    }

    /// Appends `batch`, whose rows all belong to the year partition `year`.
    pub fn write(&mut self, year: i32, batch: &RecordBatch) -> Result<()> {
        let rows_per_file = self.rows_per_file;
        let mut offset = 0;
        while offset < batch.num_rows() {
            let file = self.file_for(year)?;
            let room = room_left(file.rows, rows_per_file).min(batch.num_rows() - offset);
            file.writer
                .write(&batch.slice(offset, room))
                .map_err(|message| Error::CorruptFile {
                    location: file.path.display().to_string(),
                    message,
                })?;
            file.rows += room as u64;
            let full = file.rows >= rows_per_file;
            *self.rows_per_year.entry(year).or_default() += room as u64;
            offset += room;
            if full {
                self.close_year(year)?;
            }
        }
        Ok(())
    }

    /// Closes the open file of `year`, if any; later rows of `year` go to a new file.
    pub fn close_year(&mut self, year: i32) -> Result<()> {
        if let Some(file) = self.open.remove(&year) {
            file.writer.close().map_err(|message| Error::CorruptFile {
                location: file.path.display().to_string(),
                message,
            })?;
            self.files.push(file.path);
        }
        Ok(())
    }

    /// Closes every file and replaces `LAKE/<table>` with what was written.
    pub fn commit(mut self) -> Result<SilverFiles> {
        let years: Vec<i32> = self.open.keys().copied().collect();
        for year in years {
            self.close_year(year)?;
        }
        let old =
            self.tmp_dir
                .with_file_name(format!(".{}.old-{}", self.table, std::process::id()));
        let had_table = self.table_dir.exists();
        if had_table {
            if old.exists() {
                fs::remove_dir_all(&old).map_err(|e| Error::io("removing", &old, e))?;
            }
            fs::rename(&self.table_dir, &old)
                .map_err(|e| Error::io("moving aside", &self.table_dir, e))?;
        }
        if let Err(e) = fs::rename(&self.tmp_dir, &self.table_dir) {
            if had_table {
                // Best effort: put the previous table back.
                let _ = fs::rename(&old, &self.table_dir);
            }
            return Err(Error::io("renaming", &self.tmp_dir, e));
        }
        self.committed = true;
        if had_table {
            fs::remove_dir_all(&old).map_err(|e| Error::io("removing", &old, e))?;
        }
        let mut files: Vec<PathBuf> = self
            .files
            .iter()
            .filter_map(|path| path.strip_prefix(&self.tmp_dir).ok())
            .map(|relative| self.table_dir.join(relative))
            .collect();
        files.sort();
        Ok(SilverFiles {
            files,
            rows_per_year: std::mem::take(&mut self.rows_per_year),
        })
    }

    fn file_for(&mut self, year: i32) -> Result<&mut OpenFile> {
        if !self.open.contains_key(&year) {
            let dir = self.tmp_dir.join((self.partition_naming)(year));
            fs::create_dir_all(&dir).map_err(|e| Error::io("creating", &dir, e))?;
            let part = self.next_part.entry(year).or_default();
            let path = dir.join(format!("part-{part:05}.{}", self.format.extension()));
            *part += 1;
            let writer = FileWriter::create(&path, self.format, self.schema.clone())?;
            self.open.insert(
                year,
                OpenFile {
                    path,
                    writer,
                    rows: 0,
                },
            );
        }
        self.open.get_mut(&year).ok_or_else(|| {
            Error::invalid("year partition", format!("no open file for year {year}"))
        })
    }
}

/// Rows that still fit in a file holding `rows_in_file` rows.
fn room_left(rows_in_file: u64, rows_per_file: u64) -> usize {
    usize::try_from(rows_per_file.saturating_sub(rows_in_file)).unwrap_or(usize::MAX)
}

impl Drop for SilverTableWriter {
    fn drop(&mut self) {
        if !self.committed {
            // An aborted run: drop the half-written files, keep the previous table.
            let _ = fs::remove_dir_all(&self.tmp_dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::row::{SilverBatchBuilder, Value};
    use super::test_support::read_parquet;
    use super::*;

    fn batch(ids: &[&str]) -> RecordBatch {
        use datafusion::arrow::datatypes::DataType;
        let mut builder = SilverBatchBuilder::new(ids.len()).expect("builder");
        for id in ids {
            let mut cells = [Value::Str(None); row::COLUMN_COUNT];
            for (cell, field) in cells.iter_mut().zip(accidents_schema().fields()) {
                *cell = match field.data_type() {
                    DataType::Float64 => Value::Float(None),
                    DataType::Boolean => Value::Bool(None),
                    DataType::Int32 => Value::Int(Some(2)),
                    DataType::Timestamp(..) => Value::Timestamp(Some(0)),
                    _ => Value::Str(Some(id)),
                };
            }
            builder.append(&cells).expect("append");
        }
        builder.finish().expect("finish")
    }

    #[test]
    fn years_roll_over_to_new_files_and_commit_replaces_the_table() {
        let lake = tempfile::tempdir().expect("tempdir");
        let stale = lake.path().join(TABLE).join("year=1999");
        fs::create_dir_all(&stale).expect("stale");
        let mut writer = SilverTableWriter::with_rows_per_file(lake.path(), LakeFormat::Parquet, 3)
            .expect("create");
        writer.write(2020, &batch(&["a", "b"])).expect("write");
        writer.write(2021, &batch(&["c"])).expect("write");
        writer
            .write(2020, &batch(&["d", "e", "f", "g"]))
            .expect("write");
        assert!(stale.exists(), "the old table stays until commit");
        let silver = writer.commit().expect("commit");
        assert!(!stale.exists());
        let names: Vec<String> = silver
            .files
            .iter()
            .map(|p| {
                p.strip_prefix(lake.path())
                    .expect("in lake")
                    .display()
                    .to_string()
            })
            .collect();
        assert_eq!(
            names,
            [
                "accidents/year=2020/part-00000.parquet",
                "accidents/year=2020/part-00001.parquet",
                "accidents/year=2021/part-00000.parquet",
            ]
        );
        assert_eq!(silver.rows_per_year, BTreeMap::from([(2020, 6), (2021, 1)]));
        assert_eq!(read_parquet(&silver.files[..1]).num_rows(), 3);
        // Only the table folder is left in the lake: no temporary folder.
        let entries: Vec<_> = fs::read_dir(lake.path()).expect("ls").collect();
        assert_eq!(entries.len(), 1);
    }

    #[test]
    fn a_dropped_writer_leaves_the_previous_table() {
        let lake = tempfile::tempdir().expect("tempdir");
        let old = lake.path().join(TABLE).join("year=1999");
        fs::create_dir_all(&old).expect("old");
        let mut writer = SilverTableWriter::create(lake.path(), LakeFormat::Orc).expect("create");
        writer.write(2020, &batch(&["a"])).expect("write");
        drop(writer);
        assert!(old.exists());
        assert_eq!(fs::read_dir(lake.path()).expect("ls").count(), 1);
    }
}
