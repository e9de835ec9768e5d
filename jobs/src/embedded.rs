//! The embedded engine of `medallion run` and `medallion sql` without `--scheduler`: DataFusion in
//! this process, on `--parallelism` partitions (the machine's cores by default), with the memory
//! pool of one executor of `resource_limits.yaml` or of `--memory` (spilling to `TMPDIR` beyond it).

use datafusion::prelude::SessionContext;
use medallion_core::Result;
use medallion_core::session;

use crate::config::BatchConfig;

/// The partitions an embedded query works on: `requested`, or the machine's cores.
fn parallelism(requested: Option<usize>) -> usize {
    requested.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
}

/// The embedded engine on `parallelism(requested)` partitions, its memory pool sized by `limits`
/// for `memory` (a quantity such as `1Gi`; `None`: one executor's memory limit).
pub fn embedded_engine(
    requested: Option<usize>,
    memory: Option<&str>,
    limits: &BatchConfig,
) -> Result<SessionContext> {
    let partitions = parallelism(requested);
    let memory = limits.embedded_memory_pool_bytes(memory)?;
    // debug: every info line of a run carries the run's id, which is not known yet
    tracing::debug!(
        partitions,
        memory_pool_mib = memory.map(|b| b >> 20),
        "embedded engine"
    );
    session::embedded_context(partitions, memory)
}
