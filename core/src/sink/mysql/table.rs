//! [`MySqlTable`]: the staging target of one Gold table as a DataFusion table provider, so that
//! `INSERT INTO` it plans a [`MySqlSinkExec`] — on the scheduler, after the plan went through
//! [`crate::codec::MedallionLogicalCodec`].

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use datafusion::logical_expr::dml::InsertOp;
use datafusion::physical_plan::ExecutionPlan;

use super::ddl::TableDdl;
use super::exec::MySqlSinkExec;
use super::target::SinkTarget;

/// A Gold table's staging target in MySQL; writable only (`INSERT INTO` appends through
/// [`MySqlSinkExec`]).
#[derive(Debug)]
pub struct MySqlTable {
    target: Arc<SinkTarget>,
    schema: SchemaRef,
}

impl MySqlTable {
    /// The staging target `target` for rows of `schema`; checks the layout against the schema.
    pub fn try_new(target: SinkTarget, schema: SchemaRef) -> crate::Result<Self> {
        TableDdl::new(&schema, &target.layout)?;
        target.names().check_fits(&target.table)?;
        Ok(Self {
            target: Arc::new(target),
            schema,
        })
    }

    /// The target.
    pub fn target(&self) -> &SinkTarget {
        &self.target
    }

    /// The shared target.
    pub fn target_arc(&self) -> Arc<SinkTarget> {
        Arc::clone(&self.target)
    }

    /// The payload for [`crate::codec::MedallionLogicalCodec`]: the target as JSON (the schema
    /// travels beside it).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        serde_json::to_vec(self.target.as_ref())
            .map_err(|e| DataFusionError::Internal(format!("encoding MySqlTable: {e}")))
    }

    /// The table back from [`MySqlTable::to_bytes`] and its schema.
    pub fn from_bytes(bytes: &[u8], schema: SchemaRef) -> Result<Self> {
        let target: SinkTarget = serde_json::from_slice(bytes)
            .map_err(|e| DataFusionError::Internal(format!("decoding MySqlTable: {e}")))?;
        Self::try_new(target, schema).map_err(|e| DataFusionError::Plan(e.to_string()))
    }
}

#[async_trait]
impl TableProvider for MySqlTable {
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
        Err(crate::sink::write_only(&format!(
            "MySQL staging table {}",
            self.target.table
        )))
    }

    async fn insert_into(
        &self,
        _state: &dyn Session,
        input: Arc<dyn ExecutionPlan>,
        insert_op: InsertOp,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        crate::sink::append_only("MySQL staging tables", insert_op)?;
        Ok(Arc::new(MySqlSinkExec::try_new(
            self.target_arc(),
            Arc::clone(&self.schema),
            input,
        )?))
    }
}
