//! The UDFs' SQL behaviour (SPEC section 4) as sqllogictest files, `tests/slt/*.slt`, run against a
//! DataFusion session with medallion's UDFs registered. Each file is a list of statements and
//! queries with their expected results; column types are checked too (`R` DOUBLE, `I` integer,
//! `T` text, any other letter: another type), and NULL prints as `NULL`.

use std::path::{Path, PathBuf};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;
use medallion_udfs::register_all;
use sqllogictest::{AsyncDB, DBOutput, DefaultColumnType, Runner, strict_column_validator};

/// A session with the UDFs, as sqllogictest's database.
struct UdfSession {
    ctx: SessionContext,
}

/// The sqllogictest type letter of an Arrow type.
fn column_type(data_type: &DataType) -> DefaultColumnType {
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
fn rows_of(batches: &[RecordBatch]) -> Result<Vec<Vec<String>>, DataFusionError> {
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

#[async_trait::async_trait]
impl AsyncDB for UdfSession {
    type Error = DataFusionError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, DataFusionError> {
        let df = self.ctx.sql(sql).await?;
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

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "datafusion"
    }
}

/// The `.slt` files, sorted.
fn slt_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slt");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|x| x == "slt"))
        .collect();
    files.sort();
    files
}

#[tokio::test]
async fn udf_semantics_hold_in_every_slt_file() {
    let files = slt_files();
    assert!(
        files.len() >= 5,
        "expected one .slt file per UDF: {files:?}"
    );
    let mut failures = Vec::new();
    for file in &files {
        let mut runner = Runner::new(|| async {
            let mut ctx = SessionContext::new();
            register_all(&mut ctx)?;
            Ok(UdfSession { ctx })
        });
        runner.with_column_validator(strict_column_validator);
        if let Err(e) = runner.run_file_async(file).await {
            failures.push(format!("{}:\n{e}", file.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
