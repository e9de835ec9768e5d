//! Ballista's execution engine hook (`ExecutorProcessConfig::override_execution_engine`) used to
//! meter every task into [`ExecutorMetrics`]: the task's outcome and duration, the shuffle output
//! it wrote (from the partitions it reports) and its operators' spills (from its plan metrics),
//! and, while it runs, its memory pool. Ballista 55's own `ExecutorMetricsCollector` cannot be
//! replaced (the executor process hard-wires its logging collector), and the engine sees the same
//! things.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use ballista_core::JobId;
use ballista_core::serde::protobuf::{
    RuntimeStatsReport, ShuffleWritePartition, TaskColumnStats, WindowStateReport,
};
use ballista_executor::execution_engine::{ExecutionEngine, QueryStageExecutor};
use datafusion::error::Result;
use datafusion::execution::TaskContext;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::metrics::MetricsSet;
use datafusion::prelude::SessionConfig;

use crate::metrics::{ExecutorMetrics, RunningTask, TaskOutcome, TaskTotals};

/// An engine whose tasks run as `inner`'s, metered.
pub struct MeteredEngine {
    inner: Arc<dyn ExecutionEngine>,
    metrics: Arc<ExecutorMetrics>,
}

impl MeteredEngine {
    /// `inner`, recording into `metrics`.
    pub fn new(inner: Arc<dyn ExecutionEngine>, metrics: Arc<ExecutorMetrics>) -> Self {
        Self { inner, metrics }
    }
}

impl ExecutionEngine for MeteredEngine {
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
        let created = self.inner.create_query_stage_exec(
            job_id,
            stage_id,
            task_id,
            global_output_partition_ids,
            plan,
            work_dir,
            config,
        );
        match created {
            Ok(inner) => Ok(Arc::new(MeteredStage {
                inner,
                metrics: Arc::clone(&self.metrics),
            })),
            Err(e) => {
                self.metrics.task_refused();
                Err(e)
            }
        }
    }
}

/// Spill counts and bytes over the operators of a task's plan.
fn spill_totals(sets: &[MetricsSet]) -> (u64, u64) {
    sets.iter().fold((0, 0), |(count, bytes), set| {
        (
            count + set.spill_count().unwrap_or(0) as u64,
            bytes + set.spilled_bytes().unwrap_or(0) as u64,
        )
    })
}

/// A task's stage, metered.
struct MeteredStage {
    inner: Arc<dyn QueryStageExecutor>,
    metrics: Arc<ExecutorMetrics>,
}

/// A running task's record: ended as cancelled when dropped before [`TaskGuard::end`] (the task
/// runner dropped the task's future).
struct TaskGuard<'a> {
    metrics: &'a ExecutorMetrics,
    task: Option<RunningTask>,
    started: Instant,
}

impl TaskGuard<'_> {
    fn end(mut self, outcome: TaskOutcome, totals: TaskTotals) {
        if let Some(task) = self.task.take() {
            self.metrics
                .task_ended(task, self.started.elapsed(), outcome, totals);
        }
    }
}

impl Drop for TaskGuard<'_> {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            self.metrics.task_ended(
                task,
                self.started.elapsed(),
                TaskOutcome::Cancelled,
                TaskTotals::default(),
            );
        }
    }
}

impl fmt::Debug for MeteredStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

impl fmt::Display for MeteredStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner, f)
    }
}

#[async_trait::async_trait]
impl QueryStageExecutor for MeteredStage {
    async fn execute_query_stage(
        &self,
        task_id: usize,
        context: Arc<TaskContext>,
    ) -> Result<Vec<ShuffleWritePartition>> {
        let guard = TaskGuard {
            metrics: &self.metrics,
            task: Some(self.metrics.task_started(Arc::clone(context.memory_pool()))),
            started: Instant::now(),
        };
        let result = self.inner.execute_query_stage(task_id, context).await;
        let (spills, spilled_bytes) = spill_totals(&self.inner.collect_plan_metrics());
        match &result {
            Ok(partitions) => guard.end(
                TaskOutcome::Succeeded,
                TaskTotals {
                    shuffle_bytes: partitions.iter().map(|p| p.num_bytes).sum(),
                    shuffle_rows: partitions.iter().map(|p| p.num_rows).sum(),
                    spills,
                    spilled_bytes,
                },
            ),
            Err(_) => guard.end(
                TaskOutcome::Failed,
                TaskTotals {
                    spills,
                    spilled_bytes,
                    ..TaskTotals::default()
                },
            ),
        }
        result
    }

    fn collect_plan_metrics(&self) -> Vec<MetricsSet> {
        self.inner.collect_plan_metrics()
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
    use datafusion::physical_plan::metrics::{ExecutionPlanMetricsSet, MetricBuilder};

    #[test]
    fn spills_are_summed_over_operators() {
        let make = |count: usize, bytes: usize| {
            let set = ExecutionPlanMetricsSet::new();
            MetricBuilder::new(&set).spill_count(0).add(count);
            MetricBuilder::new(&set).spilled_bytes(0).add(bytes);
            set.clone_inner()
        };
        assert_eq!(spill_totals(&[make(1, 100), make(2, 50)]), (3, 150));
        assert_eq!(spill_totals(&[MetricsSet::new()]), (0, 0));
    }
}
