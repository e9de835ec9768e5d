//! What a run is asked to do: its lake, parameters and mode, and how its queries run (at once,
//! within a time limit, resubmitted, cancelled from outside).

use std::sync::Arc;
use std::time::Duration;

use medallion_core::cluster::JobTracker;

use crate::plan::Params;

/// What to run and where.
#[derive(Debug, Clone)]
pub struct RunRequest {
    /// The lake root (local path or URL).
    pub lake: String,
    /// The parameters, defaults already overridden.
    pub params: Params,
    /// `full` or `incremental`.
    pub mode: String,
    /// Show a progress bar.
    pub progress: bool,
    /// How many of the run's queries (Gold tables, the quality measure) run at once.
    pub concurrency: usize,
    /// How long the client waits for each query (a Gold table, the quality measure) before failing
    /// the run: a cluster run's last resort when a Ballista job that lost an executor never
    /// reports its end (`None`: forever).
    pub query_timeout: Option<Duration>,
    /// How many times a query runs at most when its Ballista job fails because an executor was
    /// lost (see [`crate::resubmit`]); 1 never resubmits (embedded runs).
    pub attempts: u32,
    /// The run's Ballista jobs, on a cluster: a job cancelled from outside the run (`medallion
    /// cancel`) stops the run, which cancels its other jobs, publishes nothing and is recorded
    /// `cancelled`. `None` for an embedded run.
    pub jobs: Option<Arc<JobTracker>>,
}
