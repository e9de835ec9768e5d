//! A view computed once per run and kept in memory: the small shared aggregate several Gold tables
//! read, so the lake is not scanned once per table (Spark's `cache()` of a small DataFrame, dbt's
//! ephemeral model turned into a table).
//!
//! [`MaterializedTable`] holds the view's batches. On a cluster it travels inside the logical plans
//! the client sends to the scheduler as an Arrow IPC stream (see [`crate::codec`]); the scheduler
//! plans it as DataFusion's in-memory scan, whose batches the physical codec already carries to the
//! executors. It is meant for results of a few thousand rows, not for lake-sized data.

use std::io::Cursor;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::ipc::writer::StreamWriter;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;

/// The rows of a view, computed once and read by any number of queries.
#[derive(Debug, Clone)]
pub struct MaterializedTable {
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
}

impl MaterializedTable {
    /// A table of `batches`, all of `schema` (empty batches are dropped).
    pub fn new(schema: SchemaRef, batches: Vec<RecordBatch>) -> Self {
        let batches = batches.into_iter().filter(|b| b.num_rows() > 0).collect();
        Self { schema, batches }
    }

    /// How many rows it holds.
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// Its rows as one Arrow IPC stream (schema first).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        let mut writer = StreamWriter::try_new(&mut bytes, &self.schema)?;
        for batch in &self.batches {
            writer.write(batch)?;
        }
        writer.finish()?;
        drop(writer);
        Ok(bytes)
    }

    /// The table [`Self::to_bytes`] wrote; `schema` is the one the plan expects and must match.
    pub fn from_bytes(bytes: &[u8], schema: SchemaRef) -> Result<Self> {
        let reader = StreamReader::try_new(Cursor::new(bytes), None)?;
        let columns = |s: &SchemaRef| {
            s.fields()
                .iter()
                .map(|f| (f.name().clone(), f.data_type().clone()))
                .collect::<Vec<_>>()
        };
        if columns(&reader.schema()) != columns(&schema) {
            return Err(DataFusionError::Internal(format!(
                "decoding a materialized view: its rows have columns {:?}, the plan expects {:?}",
                reader.schema().fields(),
                schema.fields()
            )));
        }
        let batches = reader.collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(Self::new(schema, batches))
    }
}

#[async_trait]
impl TableProvider for MaterializedTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        // one partition: the rows are few, and one partition keeps window and sort plans simple
        let exec = MemorySourceConfig::try_new_exec(
            std::slice::from_ref(&self.batches),
            self.schema.clone(),
            projection.cloned(),
        )?;
        Ok(exec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Float64Array, Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::prelude::SessionContext;

    fn table() -> MaterializedTable {
        let schema = Arc::new(Schema::new(vec![
            Field::new("state", DataType::Utf8, true),
            Field::new("n", DataType::Int64, false),
            Field::new("r", DataType::Float64, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec![Some("CA"), None])),
                Arc::new(Int64Array::from(vec![3, 5])),
                Arc::new(Float64Array::from(vec![Some(0.25), None])),
            ],
        )
        .unwrap();
        let empty = RecordBatch::new_empty(schema.clone());
        MaterializedTable::new(schema, vec![batch, empty])
    }

    #[test]
    fn round_trips_through_bytes_with_nulls() {
        let original = table();
        let decoded =
            MaterializedTable::from_bytes(&original.to_bytes().unwrap(), original.schema())
                .unwrap();
        assert_eq!(decoded.num_rows(), 2);
        assert_eq!(decoded.batches, original.batches);
    }

    #[test]
    fn refuses_bytes_of_another_schema() {
        let original = table();
        let other = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, false)]));
        let err = MaterializedTable::from_bytes(&original.to_bytes().unwrap(), other).unwrap_err();
        assert!(err.to_string().contains("materialized view"), "{err}");
    }

    #[tokio::test]
    async fn is_queried_like_a_table() {
        let ctx = SessionContext::new();
        ctx.register_table("profiles", Arc::new(table())).unwrap();
        let rows = ctx
            .sql("SELECT SUM(n) AS n FROM profiles WHERE state IS NOT NULL")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let n = rows[0]
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap()
            .value(0);
        assert_eq!(n, 3);
    }
}
