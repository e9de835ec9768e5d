//! What the two sqllogictest suites share: a query's result as sqllogictest's output (column types
//! as sqllogictest letters, rows as text with NULL as `NULL`) and the `.slt` files of a folder. Used
//! by the UDFs' suite (`udfs/tests/sqllogictests.rs`) and, by path, by the Gold SQL suite
//! (`jobs/tests/gold_sqllogictests.rs`), so that both check types and print values alike.

use std::path::{Path, PathBuf};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;
use sqllogictest::{DBOutput, DefaultColumnType};

/// The sqllogictest type letter of an Arrow type: `R` floating point and decimal, `I` integer,
/// `T` text, `?` anything else.
pub fn column_type(data_type: &DataType) -> DefaultColumnType {
    match data_type {
        DataType::Float16 | DataType::Float32 | DataType::Float64 => {
            DefaultColumnType::FloatingPoint
        }
        DataType::Decimal128(_, _) | DataType::Decimal256(_, _) => DefaultColumnType::FloatingPoint,
        t if t.is_integer() => DefaultColumnType::Integer,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => DefaultColumnType::Text,
        _ => DefaultColumnType::Any,
    }
}

/// The rows of `batches` as text, NULL as `NULL`.
pub fn rows_of(batches: &[RecordBatch]) -> Result<Vec<Vec<String>>, DataFusionError> {
    let options = FormatOptions::default().with_null("NULL");
    let mut rows = Vec::new();
    for batch in batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|column| ArrayFormatter::try_new(column.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()?;
        for row in 0..batch.num_rows() {
            rows.push(
                formatters
                    .iter()
                    .map(|f| f.value(row).to_string())
                    .collect(),
            );
        }
    }
    Ok(rows)
}

/// Runs `sql` in `ctx`: its rows and column types, or a completed statement when it has no
/// columns.
pub async fn query(
    ctx: &SessionContext,
    sql: &str,
) -> Result<DBOutput<DefaultColumnType>, DataFusionError> {
    let df = ctx.sql(sql).await?;
    let types = df
        .schema()
        .fields()
        .iter()
        .map(|f| column_type(f.data_type()))
        .collect::<Vec<_>>();
    let batches = df.collect().await?;
    if types.is_empty() {
        return Ok(DBOutput::StatementComplete(0));
    }
    Ok(DBOutput::Rows {
        types,
        rows: rows_of(&batches)?,
    })
}

/// The `.slt` files of `dir`, sorted.
pub fn slt_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|x| x == "slt"))
        .collect();
    files.sort();
    files
}
