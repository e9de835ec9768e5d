//! [`PartitionSinkExec`]: the physical operator of the sinks that write where the rows are
//! computed — one task per input partition, each on the executor that runs it, each emitting one
//! row that says what it wrote. What a task does with its rows, and what the operator needs of its
//! input (distribution, order), is its [`PartitionWriter`]'s: Parquet part files
//! ([`ParquetPartWriter`](super::parquet_parts::ParquetPartWriter)) or MySQL task tables
//! ([`MySqlWriter`](super::mysql::MySqlWriter)).

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, OrderingRequirements};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::metrics::{ExecutionPlanMetricsSet, MetricsSet};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    ChildrenPropertiesMode, DisplayAs, DisplayFormatType, Distribution, ExecutionPlan,
    ExecutionPlanProperties, InputDistributionRequirements, Partitioning, PhysicalExpr,
    PlanProperties, ReplaceChildrenOptions,
};
use futures::future::BoxFuture;

/// What one task of a [`PartitionSinkExec`] does with its input partition.
pub trait PartitionWriter: fmt::Debug + Send + Sync + Sized + 'static {
    /// The operator's name in plans and errors (e.g. `MySqlSinkExec`).
    const NAME: &'static str;

    /// The schema of the one row each task emits.
    fn output_schema(&self) -> SchemaRef;

    /// The same writer for a new `input`: checks its schema and derives what depends on it.
    fn for_input(&self, input: &Arc<dyn ExecutionPlan>) -> Result<Self>;

    /// What the writer needs of how `input` is partitioned.
    fn distribution(&self, input: &Arc<dyn ExecutionPlan>) -> Distribution {
        let _ = input;
        Distribution::UnspecifiedDistribution
    }

    /// The order the writer needs of each partition of `input`, if any.
    fn ordering(&self, input: &Arc<dyn ExecutionPlan>) -> Option<OrderingRequirements> {
        let _ = input;
        None
    }

    /// Whether more input partitions (more tasks writing at once) help.
    fn benefits_from_input_partitioning(&self) -> bool {
        false
    }

    /// The writer's settings, on one line, after the operator's name in plans.
    fn fmt_settings(&self, f: &mut fmt::Formatter) -> fmt::Result;

    /// Writes the rows of `partition` of `input` (the operator's child, as planned), read from
    /// `rows`; the future yields the task's output row. `metrics` is the operator's.
    fn write(
        &self,
        partition: usize,
        input: &Arc<dyn ExecutionPlan>,
        rows: SendableRecordBatchStream,
        metrics: &ExecutionPlanMetricsSet,
    ) -> Result<BoxFuture<'static, Result<RecordBatch>>>;
}

/// Writes each input partition with a [`PartitionWriter`]; emits one row per partition.
pub struct PartitionSinkExec<W: PartitionWriter> {
    writer: Arc<W>,
    input: Arc<dyn ExecutionPlan>,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

impl<W: PartitionWriter> fmt::Debug for PartitionSinkExec<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(W::NAME)
            .field("writer", &self.writer)
            .finish_non_exhaustive()
    }
}

impl<W: PartitionWriter> PartitionSinkExec<W> {
    /// Writes `input`'s partitions with `writer` (made for this input, see
    /// [`PartitionWriter::for_input`]).
    pub fn with_writer(writer: W, input: Arc<dyn ExecutionPlan>) -> Self {
        let properties = PlanProperties::new(
            EquivalenceProperties::new(writer.output_schema()),
            Partitioning::UnknownPartitioning(input.output_partitioning().partition_count()),
            EmissionType::Final,
            Boundedness::Bounded,
        );
        Self {
            writer: Arc::new(writer),
            input,
            properties: Arc::new(properties),
            metrics: ExecutionPlanMetricsSet::new(),
        }
    }

    /// The writer.
    pub fn writer(&self) -> &W {
        &self.writer
    }

    /// The plan producing the rows.
    pub fn input(&self) -> &Arc<dyn ExecutionPlan> {
        &self.input
    }
}

impl<W: PartitionWriter> DisplayAs for PartitionSinkExec<W> {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}: ", W::NAME)?;
        self.writer.fmt_settings(f)
    }
}

impl<W: PartitionWriter> ExecutionPlan for PartitionSinkExec<W> {
    fn name(&self) -> &'static str {
        W::NAME
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn required_input_distribution(&self) -> Vec<Distribution> {
        vec![self.writer.distribution(&self.input)]
    }

    fn input_distribution_requirements(&self) -> InputDistributionRequirements {
        InputDistributionRequirements::new(vec![self.writer.distribution(&self.input)])
    }

    fn required_input_ordering(&self) -> Vec<Option<OrderingRequirements>> {
        vec![self.writer.ordering(&self.input)]
    }

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![self.writer.benefits_from_input_partitioning()]
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn replace_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if children.len() != 1 {
            return Err(DataFusionError::Internal(format!(
                "{} takes one input",
                W::NAME
            )));
        }
        let input = children.swap_remove(0);
        let writer = self.writer.for_input(&input)?;
        Ok(Arc::new(Self::with_writer(writer, input)))
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.replace_children(
            children,
            ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute),
        )
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        // a writer's expressions only describe the input it needs; nothing is evaluated
        Ok(TreeNodeRecursion::Continue)
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let rows = self.input.execute(partition, context)?;
        let written = self
            .writer
            .write(partition, &self.input, rows, &self.metrics)?;
        let schema = self.writer.output_schema();
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            schema,
            futures::stream::once(written),
        )))
    }
}
