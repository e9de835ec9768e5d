//! The executor's own Prometheus metrics (served on `--metrics-port` at `/metrics`): tasks run
//! and failed, their durations, shuffle output written, spills, and the memory the running
//! tasks' pools hold, plus the process's CPU, memory and file descriptors. The
//! [`MeteredEngine`](crate::metered_engine::MeteredEngine) records them around every task.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use datafusion::execution::memory_pool::{MemoryLimit, MemoryPool};
use prometheus::{
    Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

/// Every metric name the executor exposes besides the `process_*` ones.
pub const EXECUTOR_METRICS: [&str; 9] = [
    "medallion_executor_tasks_total",
    "medallion_executor_tasks_running",
    "medallion_executor_task_duration_seconds",
    "medallion_executor_shuffle_written_bytes_total",
    "medallion_executor_shuffle_written_rows_total",
    "medallion_executor_spills_total",
    "medallion_executor_spilled_bytes_total",
    "medallion_executor_memory_reserved_bytes",
    "medallion_executor_memory_limit_bytes",
];

/// How a task ended, the `outcome` label of `medallion_executor_tasks_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskOutcome {
    /// It wrote its shuffle output.
    Succeeded,
    /// It failed (or was refused before it started).
    Failed,
    /// It was stopped before it ended (its job was cancelled or failed elsewhere).
    Cancelled,
}

impl TaskOutcome {
    fn label(self) -> &'static str {
        match self {
            TaskOutcome::Succeeded => "succeeded",
            TaskOutcome::Failed => "failed",
            TaskOutcome::Cancelled => "cancelled",
        }
    }
}

/// What one finished task adds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TaskTotals {
    /// Bytes of shuffle output written.
    pub shuffle_bytes: u64,
    /// Rows of shuffle output written.
    pub shuffle_rows: u64,
    /// Times its operators spilled to disk.
    pub spills: u64,
    /// Bytes they spilled.
    pub spilled_bytes: u64,
}

/// The registry and the metrics in it.
pub struct ExecutorMetrics {
    registry: Registry,
    tasks: IntCounterVec,
    running: IntGauge,
    task_seconds: Histogram,
    shuffle_bytes: IntCounter,
    shuffle_rows: IntCounter,
    spills: IntCounter,
    spilled_bytes: IntCounter,
    memory_reserved: IntGauge,
    memory_limit: IntGauge,
    /// The memory pools of the running tasks, by task number.
    pools: Mutex<HashMap<u64, Arc<dyn MemoryPool>>>,
    next_task: AtomicU64,
}

/// A running task, from [`ExecutorMetrics::task_started`] to [`ExecutorMetrics::task_ended`].
#[derive(Debug)]
pub struct RunningTask(u64);

impl ExecutorMetrics {
    /// A new registry with the executor's metrics (and the process's, on Linux).
    pub fn new() -> prometheus::Result<Self> {
        let registry = Registry::new();
        let tasks = IntCounterVec::new(
            Opts::new(
                "medallion_executor_tasks_total",
                "Tasks this executor ran, by outcome (succeeded, failed, cancelled).",
            ),
            &["outcome"],
        )?;
        let running = IntGauge::new(
            "medallion_executor_tasks_running",
            "Tasks running on this executor.",
        )?;
        let task_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "medallion_executor_task_duration_seconds",
                "Seconds each task ran.",
            )
            .buckets(vec![0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 1800.0]),
        )?;
        let counter = |name: &str, help: &str| IntCounter::new(name, help);
        let shuffle_bytes = counter(
            "medallion_executor_shuffle_written_bytes_total",
            "Bytes of shuffle output the tasks wrote.",
        )?;
        let shuffle_rows = counter(
            "medallion_executor_shuffle_written_rows_total",
            "Rows of shuffle output the tasks wrote.",
        )?;
        let spills = counter(
            "medallion_executor_spills_total",
            "Times the tasks' operators spilled to disk (sorts, joins, aggregations past the memory pool).",
        )?;
        let spilled_bytes = counter(
            "medallion_executor_spilled_bytes_total",
            "Bytes the tasks' operators spilled to disk.",
        )?;
        let memory_reserved = IntGauge::new(
            "medallion_executor_memory_reserved_bytes",
            "Bytes the running tasks hold in their memory pools.",
        )?;
        let memory_limit = IntGauge::new(
            "medallion_executor_memory_limit_bytes",
            "Sum of the running tasks' memory pool limits (bounded pools only).",
        )?;
        registry.register(Box::new(tasks.clone()))?;
        registry.register(Box::new(running.clone()))?;
        registry.register(Box::new(task_seconds.clone()))?;
        for c in [&shuffle_bytes, &shuffle_rows, &spills, &spilled_bytes] {
            registry.register(Box::new(c.clone()))?;
        }
        registry.register(Box::new(memory_reserved.clone()))?;
        registry.register(Box::new(memory_limit.clone()))?;
        #[cfg(target_os = "linux")]
        registry.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ))?;
        for outcome in [
            TaskOutcome::Succeeded,
            TaskOutcome::Failed,
            TaskOutcome::Cancelled,
        ] {
            tasks.with_label_values(&[outcome.label()]);
        }
        Ok(Self {
            registry,
            tasks,
            running,
            task_seconds,
            shuffle_bytes,
            shuffle_rows,
            spills,
            spilled_bytes,
            memory_reserved,
            memory_limit,
            pools: Mutex::new(HashMap::new()),
            next_task: AtomicU64::new(0),
        })
    }

    fn pools(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<dyn MemoryPool>>> {
        self.pools.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A task started, with its memory pool.
    pub fn task_started(&self, pool: Arc<dyn MemoryPool>) -> RunningTask {
        let id = self.next_task.fetch_add(1, Ordering::Relaxed);
        self.pools().insert(id, pool);
        self.running.inc();
        RunningTask(id)
    }

    /// The task `task` ended after `elapsed`, as `outcome`, adding `totals`.
    pub fn task_ended(
        &self,
        task: RunningTask,
        elapsed: Duration,
        outcome: TaskOutcome,
        totals: TaskTotals,
    ) {
        self.pools().remove(&task.0);
        self.running.dec();
        self.count(outcome);
        self.task_seconds.observe(elapsed.as_secs_f64());
        self.shuffle_bytes.inc_by(totals.shuffle_bytes);
        self.shuffle_rows.inc_by(totals.shuffle_rows);
        self.spills.inc_by(totals.spills);
        self.spilled_bytes.inc_by(totals.spilled_bytes);
    }

    /// A task failed without running (refused when its plan was received).
    pub fn task_refused(&self) {
        self.count(TaskOutcome::Failed);
    }

    fn count(&self, outcome: TaskOutcome) {
        self.tasks.with_label_values(&[outcome.label()]).inc();
    }

    /// The metrics in the Prometheus text format, the memory gauges read from the running
    /// tasks' pools now.
    pub fn encode(&self) -> prometheus::Result<String> {
        let (reserved, limit) = self.pools().values().fold((0, 0), |(r, l), pool| {
            let limit = match pool.memory_limit() {
                MemoryLimit::Finite(n) => n,
                MemoryLimit::Infinite | MemoryLimit::Unknown => 0,
            };
            (r + pool.reserved(), l + limit)
        });
        self.memory_reserved
            .set(i64::try_from(reserved).unwrap_or(i64::MAX));
        self.memory_limit
            .set(i64::try_from(limit).unwrap_or(i64::MAX));
        TextEncoder::new().encode_to_string(&self.registry.gather())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::execution::memory_pool::{GreedyMemoryPool, MemoryConsumer};

    #[test]
    fn tasks_and_their_pools_are_counted() {
        let metrics = ExecutorMetrics::new().unwrap();
        let pool: Arc<dyn MemoryPool> = Arc::new(GreedyMemoryPool::new(1000));
        let reservation = MemoryConsumer::new("test").register(&pool);
        reservation.grow(300);
        let task = metrics.task_started(Arc::clone(&pool));
        let text = metrics.encode().unwrap();
        assert!(
            text.contains("medallion_executor_tasks_running 1"),
            "{text}"
        );
        assert!(
            text.contains("medallion_executor_memory_reserved_bytes 300"),
            "{text}"
        );
        assert!(
            text.contains("medallion_executor_memory_limit_bytes 1000"),
            "{text}"
        );
        let totals = TaskTotals {
            shuffle_bytes: 4096,
            shuffle_rows: 10,
            spills: 2,
            spilled_bytes: 512,
        };
        metrics.task_ended(
            task,
            Duration::from_millis(20),
            TaskOutcome::Succeeded,
            totals,
        );
        metrics.task_refused();
        let text = metrics.encode().unwrap();
        for line in [
            "medallion_executor_tasks_total{outcome=\"succeeded\"} 1",
            "medallion_executor_tasks_total{outcome=\"failed\"} 1",
            "medallion_executor_tasks_total{outcome=\"cancelled\"} 0",
            "medallion_executor_tasks_running 0",
            "medallion_executor_task_duration_seconds_count 1",
            "medallion_executor_shuffle_written_bytes_total 4096",
            "medallion_executor_shuffle_written_rows_total 10",
            "medallion_executor_spills_total 2",
            "medallion_executor_spilled_bytes_total 512",
            "medallion_executor_memory_reserved_bytes 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
        for name in EXECUTOR_METRICS {
            assert!(text.contains(&format!("# TYPE {name} ")), "{name}");
        }
    }
}
