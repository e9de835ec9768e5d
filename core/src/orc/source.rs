//! The ORC [`FileSource`]: holds the projection DataFusion pushes into the scan.

use std::sync::Arc;

use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::physical_plan::{FileOpener, FileScanConfig, FileSource};
use datafusion::datasource::table_schema::TableSchema;
use datafusion::error::Result;
use datafusion::physical_expr::projection::ProjectionExprs;
use datafusion::physical_plan::PhysicalExpr;
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use object_store::ObjectStore;

use super::opener::OrcOpener;

/// Default rows per batch when the scan configuration does not say.
const DEFAULT_BATCH_SIZE: usize = 8192;

/// Scans ORC files, evaluating any pushed-down projection itself.
#[derive(Debug, Clone)]
pub struct OrcScanSource {
    table_schema: TableSchema,
    projection: ProjectionExprs,
    batch_size: usize,
    metrics: ExecutionPlanMetricsSet,
}

impl OrcScanSource {
    /// A scan of every column of `table_schema`.
    pub fn new(table_schema: TableSchema) -> Self {
        let schema = table_schema.table_schema().clone();
        let all: Vec<usize> = (0..schema.fields().len()).collect();
        Self {
            projection: ProjectionExprs::from_indices(&all, &schema),
            table_schema,
            batch_size: DEFAULT_BATCH_SIZE,
            metrics: ExecutionPlanMetricsSet::new(),
        }
    }
}

impl FileSource for OrcScanSource {
    fn create_file_opener(
        &self,
        object_store: Arc<dyn ObjectStore>,
        config: &FileScanConfig,
        _partition: usize,
    ) -> Result<Arc<dyn FileOpener>> {
        let opener = OrcOpener::try_new(
            object_store,
            self.table_schema.table_schema().clone(),
            &self.projection,
            config.batch_size.unwrap_or(self.batch_size),
        )?;
        Ok(Arc::new(opener))
    }

    fn table_schema(&self) -> &TableSchema {
        &self.table_schema
    }

    fn with_batch_size(&self, batch_size: usize) -> Arc<dyn FileSource> {
        Arc::new(Self {
            batch_size,
            ..self.clone()
        })
    }

    fn projection(&self) -> Option<&ProjectionExprs> {
        Some(&self.projection)
    }

    fn metrics(&self) -> &ExecutionPlanMetricsSet {
        &self.metrics
    }

    fn file_type(&self) -> &str {
        "orc"
    }

    fn try_pushdown_projection(
        &self,
        projection: &ProjectionExprs,
    ) -> Result<Option<Arc<dyn FileSource>>> {
        Ok(Some(Arc::new(Self {
            projection: self.projection.try_merge(projection)?,
            ..self.clone()
        })))
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        datafusion::physical_plan::apply_expression_roots(self.projection.iter(), f)
    }
}
