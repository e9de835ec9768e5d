//! The one place that builds the DataFusion/Ballista session every medallion process uses: the
//! client, the in-process (embedded) cluster, the scheduler and the executors.

use std::sync::Arc;
use std::time::Duration;

use ballista::prelude::{SessionConfigExt, SessionContextExt};
use datafusion::execution::SessionState;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_optimizer::optimizer::PhysicalOptimizer;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::cluster::{self, JobTracker, SchedulerUrl, TrackingQueryPlanner};
use crate::codec::{MedallionLogicalCodec, MedallionPhysicalCodec};
pub use crate::collect::collect_sql;
use crate::compact_sort_input::CompactSortInputs;
use crate::error::{Error, Result};
use crate::join_choice::HashJoinWhenBuildFits;
use crate::named_scan::NameFilesInErrors;
use crate::object_stores;

/// The session configuration: Ballista's defaults plus medallion's plan codecs.
pub fn session_config() -> SessionConfig {
    SessionConfig::new_with_ballista()
        .with_information_schema(true)
        .with_ballista_logical_extension_codec(Arc::new(MedallionLogicalCodec::default()))
        .with_ballista_physical_extension_codec(Arc::new(MedallionPhysicalCodec::default()))
}

/// A runtime environment builder with the object stores of the lake (local files, S3 buckets and
/// HDFS namenodes, see [`crate::object_stores`]); callers add a memory pool or spill folder.
pub fn runtime_env_builder() -> RuntimeEnvBuilder {
    RuntimeEnvBuilder::new().with_object_store_registry(object_stores::shared_stores())
}

/// The runtime environment: memory pool, disk manager and the object stores of the lake.
pub fn runtime_env() -> Result<Arc<RuntimeEnv>> {
    runtime_env_builder()
        .build_arc()
        .map_err(|e| Error::engine("building the runtime environment", e))
}

/// A session state with medallion's UDFs, codecs and object stores, from `config`.
pub fn session_state_with_config(config: SessionConfig) -> Result<SessionState> {
    session_state_with(config, runtime_env()?)
}

/// A physical optimizer rule, as DataFusion's session builder takes them.
type PhysicalRule = Arc<dyn PhysicalOptimizerRule + Send + Sync>;

/// A session state with medallion's UDFs, codecs and object stores, from `config` and `runtime`.
fn session_state_with(config: SessionConfig, runtime: Arc<RuntimeEnv>) -> Result<SessionState> {
    session_state_with_rules(config, runtime, Vec::new(), Vec::new())
}

/// [`session_state_with`], with `first_rules` run before DataFusion's physical optimizer rules and
/// `last_rules` after them.
fn session_state_with_rules(
    config: SessionConfig,
    runtime: Arc<RuntimeEnv>,
    first_rules: Vec<PhysicalRule>,
    last_rules: Vec<PhysicalRule>,
) -> Result<SessionState> {
    let mut builder = SessionStateBuilder::new()
        .with_config(config)
        .with_runtime_env(runtime)
        .with_default_features();
    if !first_rules.is_empty() {
        let mut rules = first_rules;
        rules.extend(PhysicalOptimizer::new().rules);
        builder = builder.with_physical_optimizer_rules(rules);
    }
    for rule in last_rules {
        builder = builder.with_physical_optimizer_rule(rule);
    }
    let mut state = builder
        .with_physical_optimizer_rule(Arc::new(NameFilesInErrors))
        .build();
    medallion_udfs::register_all(&mut state).map_err(|e| Error::engine("registering UDFs", e))?;
    Ok(state)
}

/// The session state shared by client, scheduler and executors (see [`session_state_with_config`]).
pub fn session_state() -> Result<SessionState> {
    session_state_with_config(session_config())
}

/// Registers medallion's UDFs on a client context (Ballista needs them on the client as well as in
/// the state handed to the scheduler and executors).
pub fn register_udfs(ctx: &SessionContext) {
    for udf in medallion_udfs::all_udfs() {
        ctx.register_udf(udf.as_ref().clone());
    }
    for udaf in medallion_udfs::all_udafs() {
        ctx.register_udaf(udaf.as_ref().clone());
    }
}

/// The embedded engine of `medallion run` and `medallion sql` without a scheduler: DataFusion
/// executes the plans in this process on `parallelism` partitions, with the same UDFs, table
/// formats and configuration as the cluster but no scheduler, no task serialisation and no
/// shuffle files (the way Spark's `local[N]` needs no cluster manager). Dynamic filters and
/// round-robin repartitioning, which Ballista turns off because they cannot cross its stages, are
/// on. `memory_limit` (bytes)
/// bounds the memory pool with a fair spill pool, whose spilling operators share it evenly and
/// write what does not fit to the temporary directory; `None` leaves it unbounded.
///
/// Each equi-join is a hash join when its smaller side is known to fit a share of the pool, a
/// sort-merge join (which spills) otherwise ([`HashJoinWhenBuildFits`]); each sort takes its
/// input in compact batches it can reserve memory for ([`CompactSortInputs`]).
pub fn embedded_context(parallelism: usize, memory_limit: Option<usize>) -> Result<SessionContext> {
    let config = in_process(session_config()).with_target_partitions(parallelism.max(1));
    let state = match memory_limit {
        Some(bytes) => embedded_state(config, bytes)?,
        None => session_state_with_rules(
            config,
            runtime_env()?,
            vec![Arc::new(HashJoinWhenBuildFits::new(usize::MAX))],
            vec![Arc::new(CompactSortInputs)],
        )?,
    };
    Ok(SessionContext::new_with_state(state))
}

/// `config` with the DataFusion defaults Ballista turns off because a distributed plan cannot
/// carry them across its stages, turned back on for plans that run in this process: dynamic
/// filters (a hash join's build side, a TopK heap or a partial aggregate prunes the scans that feed
/// it; in Ballista the producer and the scan can land in different stages, so the filter would
/// never be filled) and round-robin repartitioning (which spreads a single file's batches over
/// every partition).
fn in_process(config: SessionConfig) -> SessionConfig {
    config
        .with_round_robin_repartition(true)
        .set_bool("datafusion.optimizer.enable_dynamic_filter_pushdown", true)
}

/// The share of the embedded pool each spilling sort reserves for its merge: 1/128 of it...
const SORT_MERGE_RESERVATION_DIVISOR: usize = 128;
/// ...but at least 1 MiB...
const MIN_SORT_MERGE_RESERVATION: usize = 1 << 20;
/// ...and at most DataFusion's default, 10 MiB.
const MAX_SORT_MERGE_RESERVATION: usize = 10 << 20;

/// The embedded engine's session state for `config`: a fair spill pool of `pool_bytes`, sorts whose
/// merge reservation suits that pool and whose inputs come in compact batches
/// ([`CompactSortInputs`]), and hash joins where their build side fits a share of that pool
/// ([`HashJoinWhenBuildFits`]).
pub fn embedded_state(config: SessionConfig, pool_bytes: usize) -> Result<SessionState> {
    // each spilling sort reserves this much for its merge up front: DataFusion's 10 MiB default,
    // times every sort of a sort-merge join on every partition, leaves a small pool no room for
    // the sorts' own batches
    let merge_reservation = (pool_bytes / SORT_MERGE_RESERVATION_DIVISOR)
        .clamp(MIN_SORT_MERGE_RESERVATION, MAX_SORT_MERGE_RESERVATION);
    let config = config.set_usize(
        "datafusion.execution.sort_spill_reservation_bytes",
        merge_reservation,
    );
    let runtime = runtime_env_builder()
        .with_memory_pool(Arc::new(FairSpillPool::new(pool_bytes)))
        .build_arc()
        .map_err(|e| Error::engine("building the runtime environment", e))?;
    session_state_with_rules(
        config,
        runtime,
        vec![Arc::new(HashJoinWhenBuildFits::for_pool(pool_bytes))],
        vec![Arc::new(CompactSortInputs)],
    )
}

/// A Ballista cluster in this process: a scheduler and an executor with `parallelism` task
/// slots, and a client context connected to them. Plans go through the same serialisation
/// (medallion's codecs) and shuffle files as on a real cluster; tests use it to exercise that
/// path without starting processes.
pub async fn in_process_cluster_context(parallelism: usize) -> Result<SessionContext> {
    let config = session_config().with_ballista_standalone_parallelism(parallelism.max(1));
    let state = session_state_with_config(config)?;
    let ctx = SessionContext::standalone_with_state(state)
        .await
        .map_err(|e| Error::engine("starting the in-process Ballista cluster", e))?;
    register_udfs(&ctx);
    Ok(ctx)
}

/// A client context for the Ballista scheduler at `url` (`df://host:port`); fails with
/// [`Error::Unreachable`] within seconds when no scheduler answers there.
pub async fn remote_context(url: &str) -> Result<SessionContext> {
    Ok(tracked_remote_context(url, None, None).await?.0)
}

/// Like [`remote_context`], plus a [`JobTracker`] that records (and logs) the Ballista job id of
/// every query the context submits, and cancels a job still running after `job_timeout` so that
/// its query fails rather than waits forever. `partitions` sets how many partitions each shuffle
/// of the context's queries has (DataFusion's target partitions; Ballista's default is 16).
pub async fn tracked_remote_context(
    url: &str,
    job_timeout: Option<Duration>,
    partitions: Option<usize>,
) -> Result<(SessionContext, Arc<JobTracker>)> {
    let scheduler = SchedulerUrl::parse(url)?;
    cluster::probe_scheduler(&scheduler, cluster::PROBE_TIMEOUT).await?;
    let tracker = JobTracker::watched(scheduler.clone(), Duration::from_millis(250), job_timeout);
    let mut config = session_config();
    if let Some(partitions) = partitions {
        config = config.with_target_partitions(partitions.max(1));
    }
    let planner = TrackingQueryPlanner::new(
        &scheduler,
        config.ballista_config(),
        config.ballista_logical_extension_codec(),
        tracker.clone(),
    );
    let state = session_state_with_config(config.with_ballista_query_planner(Arc::new(planner)))?;
    let ctx = SessionContext::remote_with_state(&scheduler.df_url(), state)
        .await
        .map_err(|e| Error::Unreachable {
            what: "Ballista scheduler",
            location: scheduler.df_url(),
            message: e.to_string(),
        })?;
    register_udfs(&ctx);
    Ok((ctx, tracker))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_engine_turns_the_in_process_optimisations_back_on() {
        let options = |ctx: &SessionContext| {
            let options = ctx.copied_config().options().clone();
            (
                options.optimizer.enable_dynamic_filter_pushdown,
                options.optimizer.enable_round_robin_repartition,
            )
        };
        // Ballista's defaults, which the cluster keeps
        let cluster = SessionContext::new_with_config(session_config());
        assert_eq!(options(&cluster), (false, false));
        for memory in [None, Some(256 << 20)] {
            let embedded = embedded_context(2, memory).expect("embedded context");
            assert_eq!(options(&embedded), (true, true), "{memory:?}");
        }
    }

    #[test]
    fn the_state_has_every_udf() {
        let state = session_state().expect("state");
        for name in [
            "danger_index",
            "seasonal_factor",
            "trend_direction",
            "haversine_miles",
            "pseudonym",
            "weather_category",
            "count_true",
        ] {
            assert!(state.scalar_functions().contains_key(name), "{name}");
        }
        assert!(state.aggregate_functions().contains_key("moments"));
    }
}
