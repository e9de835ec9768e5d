//! Hash joins where the build side fits the memory pool, sort-merge joins where it may not: the
//! embedded engine's join choice, made per join from the plan's statistics.
//!
//! Ballista sets `datafusion.optimizer.prefer_hash_join = false` because a hash join cannot spill:
//! its build side must fit in memory, while a sort-merge join sorts (and spills) both sides. On a
//! cluster Ballista's adaptive planner picks per join from the stage sizes it has measured. The
//! embedded engine (`medallion run`, `medallion sql` without a scheduler) has no such measurements,
//! so [`HashJoinWhenBuildFits`] decides before execution from the inputs' statistics (Parquet and
//! ORC footers, propagated through filters and projections): a sort-merge join whose smaller side
//! is known to fit the remaining budget becomes a hash join on that side; an unknown or too large
//! side keeps the sort-merge join, which finishes whatever the pool.
//!
//! The budget is a share of the memory pool ([`BUILD_SHARE_OF_POOL`], a sixteenth): build sides
//! become hash tables several times the size their statistics give, and all the joins of one query run at
//! once, so each join chosen takes its build side out of the budget of the joins above it.

use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::stats::Precision;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::error::Result;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::joins::{HashJoinExec, PartitionMode, SortMergeJoinExec};
use datafusion::physical_plan::statistics::{StatisticsArgs, StatisticsContext};

/// The share of the memory pool the build sides of one query's hash joins may take, by their
/// statistics' byte size. Measured: a 1.6M-row build side of an id and a description, estimated at
/// ~60 MB from its Parquet footers, needed ~280 MB of pool as a hash join (Arrow batches holding
/// whole pages, the hash table, two partitions), so a sixteenth keeps a margin of about 3.5x.
pub const BUILD_SHARE_OF_POOL: f64 = 1.0 / 16.0;

/// Bytes assumed per value of a column when the statistics give rows but no byte size.
const BYTES_PER_VALUE: usize = 16;

/// Physical optimizer rule (run before DataFusion's `JoinSelection`): turns a sort-merge join
/// into a hash join when its smaller input is known, from statistics, to fit the remaining build
/// budget. See the module documentation.
#[derive(Debug)]
pub struct HashJoinWhenBuildFits {
    budget_bytes: usize,
}

impl HashJoinWhenBuildFits {
    /// A rule whose hash joins' build sides may take `budget_bytes` in all per query.
    pub fn new(budget_bytes: usize) -> Self {
        Self { budget_bytes }
    }

    /// The rule for a memory pool of `pool_bytes` ([`BUILD_SHARE_OF_POOL`] of it).
    pub fn for_pool(pool_bytes: usize) -> Self {
        Self::new((pool_bytes as f64 * BUILD_SHARE_OF_POOL) as usize)
    }
}

/// The estimated bytes of `plan`'s output, when its statistics say.
fn estimated_bytes(plan: &Arc<dyn ExecutionPlan>) -> Option<usize> {
    let statistics = StatisticsContext::new()
        .compute(plan.as_ref(), &StatisticsArgs::new())
        .ok()?;
    let known = |p: &Precision<usize>| match p {
        Precision::Exact(v) | Precision::Inexact(v) => Some(*v),
        Precision::Absent => None,
    };
    known(&statistics.total_byte_size).or_else(|| {
        let rows = known(&statistics.num_rows)?;
        Some(rows.saturating_mul(plan.schema().fields().len().max(1) * BYTES_PER_VALUE))
    })
}

impl PhysicalOptimizerRule for HashJoinWhenBuildFits {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let mut remaining = self.budget_bytes;
        plan.transform_up(|node| {
            let Some(join) = node.downcast_ref::<SortMergeJoinExec>() else {
                return Ok(Transformed::no(node));
            };
            let sides = (estimated_bytes(join.left()), estimated_bytes(join.right()));
            let build = match sides {
                (Some(left), Some(right)) => left.min(right),
                // one side unknown: it could be the larger; the known one is the build side
                // only if JoinSelection would put it there, which it cannot tell either
                _ => return Ok(Transformed::no(node)),
            };
            if build > remaining {
                return Ok(Transformed::no(node));
            }
            remaining -= build;
            // PartitionMode::Auto: JoinSelection (next) puts the smaller side on the build side
            // and picks CollectLeft or Partitioned from the same statistics
            let hash = HashJoinExec::try_new(
                Arc::clone(join.left()),
                Arc::clone(join.right()),
                join.on().to_vec(),
                join.filter().clone(),
                &join.join_type(),
                None,
                PartitionMode::Auto,
                join.null_equality(),
                false,
            )?;
            Ok(Transformed::yes(Arc::new(hash) as Arc<dyn ExecutionPlan>))
        })
        .data()
    }

    fn name(&self) -> &str {
        "medallion_hash_join_when_build_fits"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Int64Array;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::arrow::record_batch::RecordBatch;
    use datafusion::datasource::MemTable;
    use datafusion::physical_plan::displayable;
    use datafusion::prelude::{SessionConfig, SessionContext};

    use crate::session;

    fn table(rows: i64) -> Arc<MemTable> {
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Int64, false),
            Field::new("v", DataType::Int64, false),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from_iter_values(0..rows)),
                Arc::new(Int64Array::from_iter_values((0..rows).map(|i| i * 2))),
            ],
        )
        .unwrap();
        Arc::new(MemTable::try_new(schema, vec![vec![batch]]).unwrap())
    }

    /// The embedded engine's context with a pool of `pool` bytes, with a 10-row table and a
    /// 100 000-row one.
    async fn context(pool: usize) -> SessionContext {
        let config = SessionConfig::new()
            .with_target_partitions(4)
            .set_bool("datafusion.optimizer.prefer_hash_join", false);
        let state = session::embedded_state(config, pool).unwrap();
        let ctx = SessionContext::new_with_state(state);
        ctx.register_table("small", table(10)).unwrap();
        ctx.register_table("big", table(100_000)).unwrap();
        ctx
    }

    const JOIN: &str = "SELECT COUNT(*) FROM big JOIN small ON big.k = small.k";

    async fn plan_of_join(pool: usize) -> String {
        let df = context(pool).await.sql(JOIN).await.unwrap();
        let plan = df.create_physical_plan().await.unwrap();
        displayable(plan.as_ref()).indent(false).to_string()
    }

    #[tokio::test]
    async fn a_build_side_that_fits_makes_a_hash_join_with_the_same_answer() {
        let plan = plan_of_join(64 << 20).await;
        assert!(plan.contains("HashJoinExec"), "{plan}");
        assert!(!plan.contains("SortMergeJoin"), "{plan}");
        let rows = context(64 << 20)
            .await
            .sql(JOIN)
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let count = rows[0]
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap()
            .value(0);
        assert_eq!(count, 10);
    }

    #[tokio::test]
    async fn a_build_side_over_the_budget_keeps_the_sort_merge_join() {
        // 10 rows of two Int64 columns are 160 bytes: a 1600-byte pool's budget is 100
        let plan = plan_of_join(1600).await;
        assert!(plan.contains("SortMergeJoin"), "{plan}");
        assert!(!plan.contains("HashJoinExec"), "{plan}");
    }

    #[test]
    fn the_budget_is_a_share_of_the_pool() {
        assert_eq!(HashJoinWhenBuildFits::for_pool(1600).budget_bytes, 100);
    }
}
