//! Test helpers: read Silver files back.

use std::fs::File;
use std::path::{Path, PathBuf};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::concat_batches;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::accidents::schema::accidents_schema;

/// Every batch of the Parquet files `files`, concatenated into one batch in file order (schema of
/// the first file; `accidents` when there is none).
pub fn read_parquet(files: &[PathBuf]) -> RecordBatch {
    let mut batches = Vec::new();
    for path in files {
        let file = File::open(path).expect("open parquet");
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .expect("parquet metadata")
            .build()
            .expect("parquet reader");
        for batch in reader {
            batches.push(batch.expect("parquet batch"));
        }
    }
    let schema = batches
        .first()
        .map_or_else(accidents_schema, |b| b.schema());
    concat_batches(&schema, &batches).expect("concat")
}

/// Row count of one ORC file, read with orc-rust's reader.
pub fn orc_row_count(path: &Path) -> usize {
    let file = File::open(path).expect("open orc");
    let reader = orc_rust::ArrowReaderBuilder::try_new(file)
        .expect("orc metadata")
        .build();
    reader
        .map(|batch| batch.expect("orc batch").num_rows())
        .sum()
}
