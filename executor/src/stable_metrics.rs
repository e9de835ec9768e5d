//! Ballista's execution engine, with a work-around for a scheduler hang in Ballista 55.
//!
//! When a stage reads an input that turned out empty, the adaptive planner replaces that input
//! with an empty operator, but not always the same one: some tasks of the stage get an
//! `EmptyExec` (no metrics), others an empty in-memory source (an empty metrics set). Their
//! operator metrics then have different lengths, the scheduler refuses the later tasks' status
//! ("task metrics array size 10 does not equal with the stage metrics array size 9") and the job
//! never finishes. Tasks of such stages therefore report no operator metrics (which the scheduler
//! accepts); every other stage reports them as usual.
//!
//! With read roots (`--allow-read`), the engine also refuses, before it starts, a task whose plan
//! scans a file outside them ([`ReadRoots::check_plan`]): a scheduler that lets a client name any
//! file cannot make this executor read it.

use std::fmt;
use std::sync::Arc;

use ballista_core::JobId;
use ballista_core::client_pool::BallistaClientPool;
use ballista_core::serde::protobuf::{
    RuntimeStatsReport, ShuffleWritePartition, TaskColumnStats, WindowStateReport,
};
use ballista_executor::execution_engine::{
    DefaultExecutionEngine, ExecutionEngine, QueryStageExecutor,
};
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::error::Result;
use datafusion::execution::TaskContext;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::metrics::MetricsSet;
use datafusion::prelude::SessionConfig;
use medallion_core::read_guard::ReadRoots;

/// [`DefaultExecutionEngine`] whose stages with an adaptively emptied input report no operator
/// metrics (see the module documentation).
pub struct StableMetricsEngine {
    inner: DefaultExecutionEngine,
    read_roots: Option<Arc<ReadRoots>>,
}

impl StableMetricsEngine {
    /// The engine, fetching shuffle partitions through `client_pool`, or over a new connection
    /// each time without one.
    pub fn new(client_pool: Option<Arc<dyn BallistaClientPool>>) -> Self {
        let inner = match client_pool {
            Some(pool) => DefaultExecutionEngine::with_client_pool(pool),
            None => DefaultExecutionEngine::new(),
        };
        Self {
            inner,
            read_roots: None,
        }
    }

    /// The engine refusing tasks that scan files outside `roots`.
    pub fn with_read_roots(mut self, roots: Arc<ReadRoots>) -> Self {
        self.read_roots = Some(roots);
        self
    }
}

/// Whether `plan` holds an input the adaptive planner replaced because it was empty: an
/// `EmptyExec`, or a source with no partitions at all.
pub fn has_emptied_input(plan: &Arc<dyn ExecutionPlan>) -> bool {
    let mut found = false;
    let _ = plan.apply(|node| {
        let emptied = node.is::<EmptyExec>()
            || (node.children().is_empty()
                && node.properties().output_partitioning().partition_count() == 0);
        if emptied {
            found = true;
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    });
    found
}

impl ExecutionEngine for StableMetricsEngine {
    fn create_query_stage_exec(
        &self,
        job_id: JobId,
        stage_id: usize,
        task_id: usize,
        global_output_partition_ids: Vec<usize>,
        plan: Arc<dyn ExecutionPlan>,
        work_dir: &str,
        config: &SessionConfig,
    ) -> Result<Arc<dyn QueryStageExecutor>> {
        if let Some(roots) = &self.read_roots
            && let Err(e) = roots.check_plan(&plan)
        {
            tracing::warn!(%job_id, stage_id, error = %e, "task refused");
            return Err(e);
        }
        let report_metrics = !has_emptied_input(&plan);
        let inner = self.inner.create_query_stage_exec(
            job_id,
            stage_id,
            task_id,
            global_output_partition_ids,
            plan,
            work_dir,
            config,
        )?;
        Ok(if report_metrics {
            inner
        } else {
            Arc::new(WithoutOperatorMetrics { inner })
        })
    }
}

/// A query stage that runs as `inner` but reports no operator metrics.
struct WithoutOperatorMetrics {
    inner: Arc<dyn QueryStageExecutor>,
}

impl fmt::Debug for WithoutOperatorMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

impl fmt::Display for WithoutOperatorMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner, f)
    }
}

#[async_trait::async_trait]
impl QueryStageExecutor for WithoutOperatorMetrics {
    async fn execute_query_stage(
        &self,
        task_id: usize,
        context: Arc<TaskContext>,
    ) -> Result<Vec<ShuffleWritePartition>> {
        self.inner.execute_query_stage(task_id, context).await
    }

    fn collect_plan_metrics(&self) -> Vec<MetricsSet> {
        Vec::new()
    }

    fn collect_runtime_stats_reports(&self) -> Vec<RuntimeStatsReport> {
        self.inner.collect_runtime_stats_reports()
    }

    fn collect_window_state_reports(&self) -> Result<Vec<WindowStateReport>> {
        self.inner.collect_window_state_reports()
    }

    fn collect_column_stats(&self) -> Vec<TaskColumnStats> {
        self.inner.collect_column_stats()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::datasource::memory::MemorySourceConfig;
    use datafusion::physical_plan::union::UnionExec;

    fn schema() -> Arc<Schema> {
        Arc::new(Schema::new(vec![Field::new("a", DataType::Int32, true)]))
    }

    #[test]
    fn an_empty_exec_or_a_source_without_partitions_is_an_emptied_input() {
        let empty: Arc<dyn ExecutionPlan> = Arc::new(EmptyExec::new(schema()));
        assert!(has_emptied_input(&empty));
        let no_partitions = MemorySourceConfig::try_new_exec(&[], schema(), None).unwrap();
        assert!(has_emptied_input(
            &(no_partitions as Arc<dyn ExecutionPlan>)
        ));
    }

    #[test]
    fn a_source_with_partitions_is_not() {
        let one = MemorySourceConfig::try_new_exec(&[vec![]], schema(), None).unwrap();
        let two = MemorySourceConfig::try_new_exec(&[vec![]], schema(), None).unwrap();
        let union = UnionExec::try_new(vec![one, two]).unwrap();
        assert!(!has_emptied_input(&union));
    }
}
