//! [`YearTasks`]: which task of the sink loads each year of a table partitioned by date, chosen so
//! that every task loads about as many rows.
//!
//! One task owns each year (it writes the year's table, which the client exchanges into the
//! staging table). Hashing the year spreads years, not rows: on US-Accidents the eight years
//! 2016–2023 hash into 2.5M rows for one task and 5.2M for the other, so the last third of the
//! load ran as one stream while the other task's connection sat idle (issue 23). The sink
//! therefore counts the rows of each year first (one aggregate over the table's query, which reads
//! only the columns it needs), gives whole years to the tasks largest first, each to the task with
//! the fewest rows so far (MariaDB's own procedure hands years to its workers the same way), and
//! asks the planner to distribute the rows on a label per task instead of on the year.
//!
//! The label of a task is an `Int64` value that DataFusion's own hash repartition (the same
//! [`BatchPartitioner`] runs inside Ballista's shuffle stages) sends to that task's partition.
//! Should the plan end up with another number of partitions, each year still goes to exactly one
//! task: only the balance is lost, never correctness.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{AsArray, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema};
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::physical_expr::expressions::{CaseExpr, Column, Literal};
use datafusion::physical_plan::metrics::Time;
use datafusion::physical_plan::repartition::BatchPartitioner;
use datafusion::physical_plan::{Partitioning, PhysicalExpr};
use serde::{Deserialize, Serialize};

/// How many candidate labels are tried per task before giving up (a hash that misses one of
/// `tasks` partitions for this many values in a row does not happen with a working hash).
const CANDIDATES_PER_TASK: i64 = 64;

/// The task that loads each year, and the rows it was given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct YearTasks {
    /// The task of each year that has rows.
    pub years: BTreeMap<i32, usize>,
    /// The task of the rows without a date (and of any year not counted).
    pub other: usize,
    /// The rows each task was given, one entry per task the years were spread over (the plan's
    /// partition count).
    pub rows: Vec<u64>,
}

impl YearTasks {
    /// Spreads the years of `counts` (year or `None` for rows without a date, and rows) over
    /// `tasks` tasks: largest year first, each to the task with the fewest rows so far (ties to
    /// the lower task). `None` when there is nothing to balance (one task, or at most one year).
    pub fn balance(counts: &[(Option<i32>, u64)], tasks: usize) -> Option<Self> {
        if tasks < 2 || counts.len() < 2 {
            return None;
        }
        let mut by_size: Vec<(Option<i32>, u64)> = counts.to_vec();
        // largest first; equal sizes in year order, so the assignment is repeatable
        by_size.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut assigned = Self {
            years: BTreeMap::new(),
            other: 0,
            rows: vec![0; tasks],
        };
        for (year, rows) in by_size {
            let task = (0..tasks)
                .min_by_key(|&task| (assigned.rows[task], task))
                .unwrap_or(0);
            assigned.rows[task] += rows;
            match year {
                Some(year) => {
                    assigned.years.insert(year, task);
                }
                None => assigned.other = task,
            }
        }
        Some(assigned)
    }

    /// The expression the sink's input is distributed on: `CASE year WHEN y THEN label(task of
    /// y) ... ELSE label(other) END`, where `year` is an `Int32`-compatible year expression over
    /// `schema`.
    pub fn distribution_key(
        &self,
        year: &Arc<dyn PhysicalExpr>,
        schema: &Schema,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        let tasks = self.rows.len();
        let labels = task_labels(tasks)?;
        let year_type = year.data_type(schema)?;
        let label = |task: usize| -> Result<Arc<dyn PhysicalExpr>> {
            let value = labels.get(task).copied().ok_or_else(|| {
                DataFusionError::Internal(format!(
                    "year task {task} is not below the {tasks} tasks"
                ))
            })?;
            Ok(Arc::new(Literal::new(ScalarValue::Int64(Some(value)))))
        };
        let when_then = self
            .years
            .iter()
            .map(|(&year, &task)| {
                let value = ScalarValue::Int32(Some(year)).cast_to(&year_type)?;
                Ok((
                    Arc::new(Literal::new(value)) as Arc<dyn PhysicalExpr>,
                    label(task)?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Arc::new(CaseExpr::try_new(
            Some(Arc::clone(year)),
            when_then,
            Some(label(self.other)?),
        )?))
    }
}

/// For each of `tasks` partitions, the smallest non-negative `Int64` that DataFusion's hash
/// repartition into `tasks` partitions sends there.
pub fn task_labels(tasks: usize) -> Result<Vec<i64>> {
    let schema = Arc::new(Schema::new(vec![Field::new(
        "label",
        DataType::Int64,
        false,
    )]));
    let candidates = CANDIDATES_PER_TASK * i64::try_from(tasks).unwrap_or(i64::MAX / 128);
    let batch = RecordBatch::try_new(
        schema,
        vec![Arc::new(Int64Array::from_iter_values(0..candidates))],
    )?;
    let partitioning = Partitioning::Hash(vec![Arc::new(Column::new("label", 0))], tasks);
    let mut partitioner = BatchPartitioner::try_new(partitioning, Time::new(), 0, 1)?;
    let mut labels: Vec<Option<i64>> = vec![None; tasks];
    partitioner.partition(batch, |partition, rows| {
        let values = rows.column(0).as_primitive::<Int64Type>();
        if let (Some(slot), Some(smallest)) = (
            labels.get_mut(partition),
            values.values().iter().min().copied(),
        ) {
            *slot = Some(slot.map_or(smallest, |s| s.min(smallest)));
        }
        Ok(())
    })?;
    labels
        .into_iter()
        .enumerate()
        .map(|(task, label)| {
            label.ok_or_else(|| {
                DataFusionError::Internal(format!(
                    "no label among {candidates} hashes to partition {task} of {tasks}"
                ))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    use datafusion::arrow::array::Int32Array;

    /// Rows per year of the 7.7M US-Accidents sample (2016–2023).
    const ACCIDENTS: [(Option<i32>, u64); 8] = [
        (Some(2016), 410_000),
        (Some(2017), 560_000),
        (Some(2018), 690_000),
        (Some(2019), 840_000),
        (Some(2020), 1_100_000),
        (Some(2021), 1_300_000),
        (Some(2022), 1_450_000),
        (Some(2023), 1_340_000),
    ];

    #[test]
    fn years_are_given_largest_first_to_the_task_with_fewest_rows() {
        let tasks = YearTasks::balance(&ACCIDENTS, 2).unwrap();
        // 2022 → 0, 2023 → 1, 2021 → 1, 2020 → 0, 2019 → 0, 2018 → 1, 2017 → 1, 2016 → 0
        assert_eq!(tasks.rows, vec![3_800_000, 3_890_000]);
        assert_eq!(tasks.years[&2022], 0);
        assert_eq!(tasks.years[&2023], 1);
        assert_eq!(tasks.years[&2021], 1);
        assert_eq!(tasks.years[&2016], 0);
        let total: u64 = ACCIDENTS.iter().map(|(_, rows)| rows).sum();
        assert_eq!(tasks.rows.iter().sum::<u64>(), total);
    }

    #[test]
    fn rows_without_a_date_are_a_year_of_their_own() {
        let tasks = YearTasks::balance(&[(Some(2020), 10), (None, 7), (Some(2021), 5)], 2).unwrap();
        assert_eq!(tasks.years[&2020], 0);
        assert_eq!(tasks.other, 1);
        assert_eq!(tasks.years[&2021], 1);
        assert_eq!(tasks.rows, vec![10, 12]);
    }

    #[test]
    fn nothing_to_balance_with_one_task_or_one_year() {
        assert_eq!(YearTasks::balance(&ACCIDENTS, 1), None);
        assert_eq!(YearTasks::balance(&[(Some(2020), 10)], 4), None);
        assert_eq!(YearTasks::balance(&[], 4), None);
    }

    #[test]
    fn more_tasks_than_years_leaves_tasks_empty() {
        let tasks = YearTasks::balance(&[(Some(2020), 10), (Some(2021), 5)], 4).unwrap();
        assert_eq!(tasks.rows, vec![10, 5, 0, 0]);
    }

    /// The CASE routes every year's rows, through DataFusion's own hash repartition, to the
    /// partition of the task it was given, for several partition counts.
    #[test]
    fn each_year_reaches_its_tasks_partition() {
        for partitions in [2, 3, 4, 8, 16] {
            let counts: Vec<(Option<i32>, u64)> = ACCIDENTS
                .iter()
                .copied()
                .chain(std::iter::once((None, 1000)))
                .collect();
            let tasks = YearTasks::balance(&counts, partitions).unwrap();
            let schema = Arc::new(Schema::new(vec![Field::new("year", DataType::Int32, true)]));
            let year: Arc<dyn PhysicalExpr> = Arc::new(Column::new("year", 0));
            let key = tasks.distribution_key(&year, &schema).unwrap();
            let years: Int32Array = (2016..=2023).map(Some).chain([None, Some(2031)]).collect();
            let batch = RecordBatch::try_new(schema, vec![Arc::new(years)]).unwrap();
            let mut partitioner = BatchPartitioner::try_new(
                Partitioning::Hash(vec![key], partitions),
                Time::new(),
                0,
                1,
            )
            .unwrap();
            let mut seen = 0;
            partitioner
                .partition(batch, |partition, rows| {
                    let years = rows
                        .column(0)
                        .as_primitive::<datafusion::arrow::datatypes::Int32Type>();
                    for year in years.iter() {
                        let expected = year
                            .and_then(|y| tasks.years.get(&y).copied())
                            .unwrap_or(tasks.other);
                        assert_eq!(
                            partition, expected,
                            "{partitions} partitions, year {year:?}"
                        );
                        seen += 1;
                    }
                    Ok(())
                })
                .unwrap();
            assert_eq!(seen, 10);
        }
    }

    #[test]
    fn labels_hash_to_their_own_partition() {
        for tasks in 1..=32 {
            let labels = task_labels(tasks).unwrap();
            assert_eq!(labels.len(), tasks);
            let mut unique = labels.clone();
            unique.sort_unstable();
            unique.dedup();
            assert_eq!(unique.len(), tasks, "{tasks}: {labels:?}");
        }
    }
}
