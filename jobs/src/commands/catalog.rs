//! `medallion tables` (the lake catalog: name, format, files, bytes, columns) and
//! `medallion describe TABLE` (column, type, nullable).

use std::sync::Arc;

use clap::Args;
use datafusion::arrow::array::{ArrayRef, BooleanArray, RecordBatch, StringArray, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};
use datafusion::prelude::SessionContext;
use medallion_core::catalog::CatalogTable;
use medallion_core::{Error, Result};

use super::output::{OutputArgs, ResultWriter};
use super::{LakeArgs, local_context};

/// Arguments of `medallion tables`.
#[derive(Debug, Args)]
pub struct TablesArgs {
    /// Where the tables are.
    #[command(flatten)]
    pub lake: LakeArgs,
    /// Output options.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Arguments of `medallion describe`.
#[derive(Debug, Args)]
pub struct DescribeArgs {
    /// The table to describe (see `medallion tables`).
    pub table: String,
    /// Where the tables are.
    #[command(flatten)]
    pub lake: LakeArgs,
    /// Output options.
    #[command(flatten)]
    pub output: OutputArgs,
}

fn batch(schema: SchemaRef, columns: Vec<ArrayRef>) -> Result<RecordBatch> {
    RecordBatch::try_new(schema, columns)
        .map_err(|e| Error::engine("building the listing", e.into()))
}

/// One row per table: name, format, files, bytes, columns, partition columns, location.
pub fn tables_batch(tables: &[CatalogTable]) -> Result<RecordBatch> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("table", DataType::Utf8, false),
        Field::new("format", DataType::Utf8, false),
        Field::new("files", DataType::UInt64, false),
        Field::new("bytes", DataType::UInt64, false),
        Field::new("columns", DataType::UInt64, false),
        Field::new("partitioned_by", DataType::Utf8, true),
        Field::new("location", DataType::Utf8, false),
    ]));
    let text = |f: &dyn Fn(&CatalogTable) -> String| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(tables.iter().map(f)))
    };
    let count = |f: &dyn Fn(&CatalogTable) -> u64| -> ArrayRef {
        Arc::new(UInt64Array::from_iter_values(tables.iter().map(f)))
    };
    let partitioned: ArrayRef = Arc::new(StringArray::from_iter(tables.iter().map(|t| {
        (!t.partition_columns.is_empty()).then(|| {
            t.partition_columns
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        })
    })));
    batch(
        schema,
        vec![
            text(&|t| t.name().to_string()),
            text(&|t| t.table.format.to_string()),
            count(&|t| t.table.files.len() as u64),
            count(&|t| t.table.total_bytes()),
            count(&|t| t.columns().len() as u64),
            partitioned,
            text(&|t| medallion_core::object_stores::mask_url(&t.table.url)),
        ],
    )
}

/// One row per column: column, type, nullable.
pub fn columns_batch(columns: &[FieldRef]) -> Result<RecordBatch> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("column", DataType::Utf8, false),
        Field::new("type", DataType::Utf8, false),
        Field::new("nullable", DataType::Boolean, false),
    ]));
    batch(
        schema,
        vec![
            Arc::new(StringArray::from_iter_values(
                columns.iter().map(|f| f.name().clone()),
            )),
            Arc::new(StringArray::from_iter_values(
                columns.iter().map(|f| f.data_type().to_string()),
            )),
            Arc::new(BooleanArray::from(
                columns.iter().map(|f| f.is_nullable()).collect::<Vec<_>>(),
            )),
        ],
    )
}

/// The columns of `name` as SQL sees it: a catalog table's columns (partition columns last), or
/// the schema of another table or view registered in `ctx`.
pub async fn table_columns(
    ctx: &SessionContext,
    tables: &[CatalogTable],
    name: &str,
) -> Result<Vec<FieldRef>> {
    if let Some(table) = tables.iter().find(|t| t.name() == name) {
        return Ok(table.columns());
    }
    match ctx.table(name).await {
        Ok(df) => Ok(df.schema().fields().iter().cloned().collect()),
        Err(_) => {
            let known = tables
                .iter()
                .map(CatalogTable::name)
                .collect::<Vec<_>>()
                .join(", ");
            Err(Error::invalid(
                "table",
                format!(
                    "no table '{name}' in the lake catalog (tables: {})",
                    if known.is_empty() { "none" } else { &known }
                ),
            ))
        }
    }
}

/// `medallion tables`.
pub async fn tables(args: TablesArgs) -> Result<()> {
    let ctx = local_context()?;
    let opened = args.lake.catalog()?.open(&ctx).await?;
    let tables = opened.tables;
    if tables.is_empty() && opened.unreadable.is_empty() {
        eprintln!("no lake tables (give --lake DIR or --catalog FILE)");
    }
    let batch = tables_batch(&tables)?;
    let mut writer = ResultWriter::new(&args.output)?;
    writer.write_batches(batch.schema(), &[batch]).await?;
    writer.finish()?;
    // The readable tables are listed; a table that cannot be read is the command's error.
    match opened.unreadable.into_iter().next() {
        Some((_, error)) => Err(error),
        None => Ok(()),
    }
}

/// `medallion describe TABLE`.
pub async fn describe(args: DescribeArgs) -> Result<()> {
    let ctx = local_context()?;
    let tables = args.lake.register(&ctx).await?;
    let columns = table_columns(&ctx, &tables, &args.table).await?;
    let batch = columns_batch(&columns)?;
    let mut writer = ResultWriter::new(&args.output)?;
    writer.write_batches(batch.schema(), &[batch]).await?;
    writer.finish()
}
