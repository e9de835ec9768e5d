//! The scheduler's metrics: Ballista's own (its `prometheus-metrics` feature), served in the
//! Prometheus text format by its REST API on the scheduler port, next to gRPC and the other
//! `/api/...` routes (jobs, executors, cancel by `PATCH /api/job/{id}`). Nothing of medallion's is
//! added: these names are the contract the alert rules and the Grafana dashboard may query.

/// The path of the Prometheus endpoint on the scheduler port.
pub const METRICS_PATH: &str = "/api/metrics";

/// The job metrics Ballista's scheduler exposes (besides the `process_*` ones of the process).
pub const SCHEDULER_METRICS: [&str; 7] = [
    // jobs submitted, completed, failed, cancelled since the scheduler started
    "job_submitted_total",
    "job_completed_total",
    "job_failed_total",
    "job_cancelled_total",
    // histogram of successful jobs' run time, seconds
    "job_exec_time_seconds",
    // histogram of the jobs' planning time, milliseconds
    "planning_time_ms",
    // tasks ready to run that wait for a free executor slot
    "pending_task_queue_size",
];
