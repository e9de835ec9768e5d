//! The scheduler's per-task plan restriction (vendor/ballista-scheduler, `task_builder.rs`,
//! patched) over a union whose first child ends in a sort-preserving merge: the shape Ballista's
//! adaptive planner gives a global window (`ROW_NUMBER() OVER (ORDER BY ...)`) united with a
//! partitioned query, as in the datamart's `insights`. Whatever the tasks' partition slices, the
//! tasks together must produce every row of the union exactly once.

use std::sync::Arc;

use ballista_scheduler::state::task_builder::restrict_plan_to_partitions;
use datafusion::arrow::array::Int64Array;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::execution::TaskContext;
use datafusion::physical_expr::expressions::col;
use datafusion::physical_expr::{LexOrdering, PhysicalSortExpr};
use datafusion::physical_plan::sorts::sort_preserving_merge::SortPreservingMergeExec;
use datafusion::physical_plan::union::UnionExec;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties, collect_partitioned};

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, false)]))
}

/// An in-memory source of `partitions` partitions, each one batch of the values `first..first+3`.
fn source(partitions: usize, first: i64) -> Arc<dyn ExecutionPlan> {
    let batches: Vec<Vec<RecordBatch>> = (0..partitions as i64)
        .map(|p| {
            let start = first + 3 * p;
            let values = Int64Array::from_iter_values(start..start + 3);
            vec![RecordBatch::try_new(schema(), vec![Arc::new(values)]).expect("batch")]
        })
        .collect();
    let config = MemorySourceConfig::try_new(&batches, schema(), None).expect("source");
    DataSourceExec::from_data_source(config)
}

/// UNION ALL of a merge of 4 sorted partitions (one partition, values 0..12) and a 4-partition
/// source (values 100..112): 5 partitions, 24 rows.
fn merge_union_scan() -> Arc<dyn ExecutionPlan> {
    let ordering = LexOrdering::new(vec![PhysicalSortExpr::new_default(
        col("a", &schema()).expect("column"),
    )])
    .expect("ordering");
    let merge = Arc::new(SortPreservingMergeExec::new(ordering, source(4, 0)));
    UnionExec::try_new(vec![merge, source(4, 100)]).expect("union")
}

/// The values every task produces, each task running its restricted plan's partitions.
async fn values_of_tasks(plan: &Arc<dyn ExecutionPlan>, tasks: &[Vec<usize>]) -> Vec<i64> {
    let mut values = Vec::new();
    for slice in tasks {
        let restricted = restrict_plan_to_partitions(plan.clone(), slice).expect("restrict");
        assert_eq!(
            restricted.output_partitioning().partition_count(),
            slice.len(),
            "the task of partitions {slice:?} runs as many partitions as it owns"
        );
        let ctx = Arc::new(TaskContext::default());
        for batches in collect_partitioned(restricted, ctx).await.expect("run") {
            for batch in batches {
                let column = batch
                    .column(0)
                    .as_any()
                    .downcast_ref::<Int64Array>()
                    .unwrap();
                values.extend(column.values().iter().copied());
            }
        }
    }
    values.sort_unstable();
    values
}

#[tokio::test]
async fn every_row_of_the_union_comes_once_whatever_the_task_slices() {
    let plan = merge_union_scan();
    assert_eq!(plan.output_partitioning().partition_count(), 5);
    let expected: Vec<i64> = (0..12).chain(100..112).collect();
    for tasks in [
        vec![vec![0], vec![1], vec![2], vec![3], vec![4]],
        vec![vec![0, 1], vec![2, 3], vec![4]],
        vec![vec![0], vec![1, 2, 3, 4]],
        vec![vec![3, 4], vec![0, 1, 2]],
        vec![vec![0, 1, 2, 3, 4]],
    ] {
        assert_eq!(
            values_of_tasks(&plan, &tasks).await,
            expected,
            "tasks {tasks:?}"
        );
    }
}

#[test]
fn a_task_that_does_not_own_the_merge_does_not_run_it() {
    let restricted = restrict_plan_to_partitions(merge_union_scan(), &[3, 4]).expect("restrict");
    let children = restricted.children();
    assert_eq!(children[0].output_partitioning().partition_count(), 0);
    assert_eq!(children[1].output_partitioning().partition_count(), 2);
}
