//! Opens one ORC file (or byte range of it) and yields batches of the projection.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, new_null_array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{FileOpenFuture, FileOpener};
use datafusion::error::{DataFusionError, Result};
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::projection::{ProjectionExprs, Projector};
use futures::{StreamExt, TryStreamExt};
use object_store::ObjectStore;
use orc_rust::ArrowReaderBuilder;
use orc_rust::projection::ProjectionMask;

use super::reader::ObjectChunkReader;

/// Reads the columns a projection needs and evaluates it.
pub(super) struct OrcOpener {
    store: Arc<dyn ObjectStore>,
    /// The table columns the projection reads, in table order.
    read_schema: SchemaRef,
    /// The projection, rewritten to refer to `read_schema`.
    projector: Arc<Projector>,
    batch_size: usize,
}

impl OrcOpener {
    pub(super) fn try_new(
        store: Arc<dyn ObjectStore>,
        table_schema: SchemaRef,
        projection: &ProjectionExprs,
        batch_size: usize,
    ) -> Result<Self> {
        let indices = projection.column_indices();
        let mut position = vec![usize::MAX; table_schema.fields().len()];
        for (new, old) in indices.iter().enumerate() {
            if let Some(slot) = position.get_mut(*old) {
                *slot = new;
            }
        }
        let read_schema = Arc::new(table_schema.project(&indices)?);
        let remapped = projection.clone().try_map_exprs(|expr| {
            expr.transform(|node| match node.downcast_ref::<Column>() {
                Some(column) => {
                    let index = position
                        .get(column.index())
                        .copied()
                        .filter(|i| *i != usize::MAX)
                        .ok_or_else(|| {
                            DataFusionError::Internal(format!(
                                "ORC scan: column {} outside the table",
                                column.name()
                            ))
                        })?;
                    Ok(Transformed::yes(
                        Arc::new(Column::new(column.name(), index)) as _,
                    ))
                }
                None => Ok(Transformed::no(node)),
            })
            .map(|t| t.data)
        })?;
        let projector = Arc::new(remapped.make_projector(&read_schema)?);
        Ok(Self {
            store,
            read_schema,
            projector,
            batch_size,
        })
    }
}

/// `batch` (the file's columns, in file order) aligned by name with `target`: columns cast to the
/// table's types, NULL where the file lacks a column.
fn align(batch: &RecordBatch, target: &SchemaRef) -> Result<RecordBatch> {
    let columns = target
        .fields()
        .iter()
        .map(|field| match batch.column_by_name(field.name()) {
            Some(column) if column.data_type() == field.data_type() => Ok(column.clone()),
            Some(column) => Ok(cast(column, field.data_type())?),
            None => Ok(new_null_array(field.data_type(), batch.num_rows())),
        })
        .collect::<Result<Vec<ArrayRef>>>()?;
    let options =
        datafusion::arrow::array::RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    Ok(RecordBatch::try_new_with_options(
        Arc::new(Schema::new(target.fields().clone())),
        columns,
        &options,
    )?)
}

impl FileOpener for OrcOpener {
    fn open(&self, file: PartitionedFile) -> Result<FileOpenFuture> {
        let reader = ObjectChunkReader::new(self.store.clone(), file.object_meta.clone());
        let read_schema = self.read_schema.clone();
        let projector = self.projector.clone();
        let batch_size = self.batch_size;
        let range = file.range.clone();
        Ok(Box::pin(async move {
            let mut builder = ArrowReaderBuilder::try_new_async(reader)
                .await
                .map_err(|e| DataFusionError::External(Box::new(e)))?;
            let root = builder.file_metadata().root_data_type();
            let wanted: Vec<&str> = read_schema
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect();
            let roots: Vec<usize> = root
                .children()
                .iter()
                .filter(|c| wanted.contains(&c.name()))
                .map(|c| c.data_type().column_index())
                .collect();
            let mask = ProjectionMask::roots(root, roots);
            if let Some(range) = range {
                builder = builder.with_file_byte_range(range.start as usize..range.end as usize);
            }
            let stream = builder
                .with_batch_size(batch_size)
                .with_projection(mask)
                .build_async()
                .map_err(|e| DataFusionError::External(Box::new(e)))
                .and_then(move |batch| {
                    let projected =
                        align(&batch, &read_schema).and_then(|b| projector.project_batch(&b));
                    futures::future::ready(projected)
                });
            Ok(stream.boxed())
        }))
    }
}
