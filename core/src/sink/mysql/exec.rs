//! [`MySqlSinkExec`]: the [`PartitionSinkExec`] that loads its input into MySQL, one task per
//! input partition, each on the executor that runs it; its [`MySqlWriter`] is what a task does.
//!
//! Each task writes its own plain tables, named from the run, the table and what the task owns —
//! see [`super::names`] — dropping and re-creating them first, so a task Ballista retries starts
//! over instead of duplicating rows. For a table partitioned by year (or month) the operator asks
//! the planner for its input hash-partitioned on `date_part('year', col)` — or, once the client
//! counted the rows of each year, on the label of the task each year was given so that the tasks
//! load about as many rows ([`YearTasks`](super::YearTasks)) — so one task owns each year and its
//! months; it writes one table per year (month) it sees, and the client exchanges them into the
//! partitioned staging table. Other tables ask for a single input partition (they are the
//! small aggregates). Each task's input is sorted by period, then primary key ([`KeyOrder`]), so
//! whatever the order of the lake every table is filled in key order, one period table at a time
//! per task, and a period table is finished (loaded, indexed) as soon as the next period starts.
//! Each loaded table records its row count in its comment, which the client checks against the
//! tasks' totals; each task emits one row, `count: UInt64`, the rows it wrote. The metric
//! `rows_out_of_key_order` counts rows that still reached a table after a greater key.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, UInt64Array};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Date64Type, Field, Schema, SchemaRef, TimeUnit, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
};
use datafusion::common::SchemaExt;
use datafusion::common::runtime::SpawnedTask;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::physical_expr::OrderingRequirements;
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::metrics::{Count, ExecutionPlanMetricsSet, MetricBuilder};
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::sorts::sort_preserving_merge::SortPreservingMergeExec;
use datafusion::physical_plan::{
    Distribution, ExecutionPlan, ExecutionPlanProperties, PhysicalExpr,
};
use futures::StreamExt;
use futures::future::{BoxFuture, try_join_all};
use prost::Message;

use super::ddl::{PeriodGrain, TableDdl};
use super::key_order::{KeyOrder, KeyOrderCheck};
use super::load::{TableLoad, encoding_failed};
use super::names::TaskPart;
use super::plain_strings::with_plain_strings;
use super::target::SinkTarget;
use super::tsv::{RowEncoder, RowFormat, civil_from_days, days_of_timestamp};
use crate::sink::partition_sink::{PartitionSinkExec, PartitionWriter};

/// The schema of the operator's output: one `count` column.
pub fn count_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new(
        "count",
        DataType::UInt64,
        false,
    )]))
}

/// Loads each input partition into MySQL task tables; emits one `count` row per partition.
pub type MySqlSinkExec = PartitionSinkExec<MySqlWriter>;

impl MySqlSinkExec {
    /// Loads `input` into `target`'s task tables, created from `table_schema`; `input`'s string
    /// views are cast to plain strings first ([`with_plain_strings`]: the sort under the operator
    /// then counts its memory right).
    pub fn try_new(
        target: Arc<SinkTarget>,
        table_schema: SchemaRef,
        input: Arc<dyn ExecutionPlan>,
    ) -> Result<Self> {
        let input = with_plain_strings(input)?;
        let writer = MySqlWriter::try_new(target, table_schema, &input.schema())?;
        Ok(Self::with_writer(writer, input))
    }

    /// Where the rows go.
    pub fn target(&self) -> &SinkTarget {
        &self.writer().target
    }

    /// The shared target.
    pub fn target_arc(&self) -> Arc<SinkTarget> {
        Arc::clone(&self.writer().target)
    }

    /// The Gold table's schema.
    pub fn table_schema(&self) -> &SchemaRef {
        &self.writer().table_schema
    }

    /// The node's payload for [`crate::codec::MedallionPhysicalCodec`]: the target as JSON and the
    /// table schema as protobuf (the input travels as the node's child).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let target = serde_json::to_vec(self.target())
            .map_err(|e| DataFusionError::Internal(format!("encoding MySqlSinkExec: {e}")))?;
        let schema = datafusion_proto::protobuf::Schema::try_from(self.table_schema().as_ref())?;
        let length = u32::try_from(target.len())
            .map_err(|_| DataFusionError::Internal("MySqlSinkExec target too large".into()))?;
        let mut bytes = length.to_be_bytes().to_vec();
        bytes.extend_from_slice(&target);
        bytes.extend_from_slice(&schema.encode_to_vec());
        Ok(bytes)
    }

    /// The node back from [`MySqlSinkExec::to_bytes`] and its decoded input.
    pub fn from_bytes(bytes: &[u8], input: Arc<dyn ExecutionPlan>) -> Result<Self> {
        let bad = |what: &str| DataFusionError::Internal(format!("decoding MySqlSinkExec: {what}"));
        let (length, rest) = bytes
            .split_first_chunk::<4>()
            .ok_or_else(|| bad("truncated"))?;
        let length = u32::from_be_bytes(*length) as usize;
        if rest.len() < length {
            return Err(bad("truncated"));
        }
        let (target, schema) = rest.split_at(length);
        let target: SinkTarget = serde_json::from_slice(target).map_err(|e| bad(&e.to_string()))?;
        let schema =
            datafusion_proto::protobuf::Schema::decode(schema).map_err(|e| bad(&e.to_string()))?;
        let schema = Schema::try_from(&schema)?;
        Self::try_new(Arc::new(target), Arc::new(schema), input)
    }
}

/// The [`PartitionWriter`] of [`MySqlSinkExec`]: each task loads its partition into its own
/// task tables, in key order.
#[derive(Debug)]
pub struct MySqlWriter {
    target: Arc<SinkTarget>,
    /// The Gold table's schema (the DDL's source, identical on every task and on the client).
    table_schema: SchemaRef,
    /// The order rows are loaded in.
    order: KeyOrder,
    /// What the rows are distributed on, for a table partitioned by date: the year, or the
    /// label of the task each year was given ([`YearTasks`](super::YearTasks)).
    distribution_key: Option<Arc<dyn PhysicalExpr>>,
}

impl MySqlWriter {
    /// The writer of `target` for an input of `input_schema`, checked against `table_schema`.
    fn try_new(
        target: Arc<SinkTarget>,
        table_schema: SchemaRef,
        input_schema: &SchemaRef,
    ) -> Result<Self> {
        table_schema.logically_equivalent_names_and_types(input_schema)?;
        TableDdl::new(&table_schema, &target.layout)
            .map_err(|e| DataFusionError::Plan(e.to_string()))?;
        let order = KeyOrder::new(&target.layout, input_schema)?;
        let distribution_key = match (order.year_expr(), &target.year_tasks) {
            (Some(year), Some(tasks)) => Some(tasks.distribution_key(year, input_schema)?),
            (year, _) => year.cloned(),
        };
        Ok(Self {
            target,
            table_schema,
            order,
            distribution_key,
        })
    }

    /// Whether `input` is known to be empty: an `EmptyExec`, or the sort (projection, filter,
    /// exchange, merge) the planner put over one.
    ///
    /// Ballista's adaptive planner replaces an exchange that produced no rows with an `EmptyExec`
    /// keeping its partition count; a requirement that it does not meet would plan a new exchange
    /// (and a new sort over it), and so on forever, so an empty input is required nothing.
    fn input_is_empty(input: &Arc<dyn ExecutionPlan>) -> bool {
        let mut node = Arc::clone(input);
        loop {
            if node.is::<EmptyExec>() {
                return true;
            }
            let passes_rows_through = node.is::<SortExec>()
                || node.is::<SortPreservingMergeExec>()
                || node.is::<ProjectionExec>()
                || node.is::<FilterExec>()
                || node.is::<RepartitionExec>()
                || node.is::<CoalescePartitionsExec>();
            let children = node.children();
            if !passes_rows_through || children.len() != 1 {
                return false;
            }
            let child = Arc::clone(children[0]);
            node = child;
        }
    }

    /// Whether `input`'s known ordering meets [`KeyOrder::requirement`] (the planner put a sort
    /// under the operator, or the rows were already sorted).
    fn input_is_sorted(&self, input: &Arc<dyn ExecutionPlan>) -> Result<bool> {
        match self.order.requirement() {
            Some(requirement) => input
                .equivalence_properties()
                .ordering_satisfy_requirement(requirement),
            None => Ok(true),
        }
    }
}

impl PartitionWriter for MySqlWriter {
    const NAME: &'static str = "MySqlSinkExec";

    fn output_schema(&self) -> SchemaRef {
        count_schema()
    }

    fn for_input(&self, input: &Arc<dyn ExecutionPlan>) -> Result<Self> {
        Self::try_new(
            Arc::clone(&self.target),
            Arc::clone(&self.table_schema),
            &input.schema(),
        )
    }

    /// Whole years per partition (as [`YearTasks`](super::YearTasks) gave them, if counted), or
    /// one partition (nothing for an empty input, see [`MySqlWriter::input_is_empty`]).
    fn distribution(&self, input: &Arc<dyn ExecutionPlan>) -> Distribution {
        if Self::input_is_empty(input) {
            return Distribution::UnspecifiedDistribution;
        }
        match &self.distribution_key {
            Some(key) => Distribution::KeyPartitioned(vec![Arc::clone(key)]),
            None => Distribution::SinglePartition,
        }
    }

    /// Period, then primary key (none for an input known to be empty).
    fn ordering(&self, input: &Arc<dyn ExecutionPlan>) -> Option<OrderingRequirements> {
        if Self::input_is_empty(input) {
            return None;
        }
        self.order.requirement().map(OrderingRequirements::new)
    }

    fn benefits_from_input_partitioning(&self) -> bool {
        self.distribution_key.is_some()
    }

    fn fmt_settings(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "table={}, target={}, run={}",
            self.target.table, self.target.url, self.target.run_key
        )?;
        if let Some(column) = &self.target.layout.partition_by_year {
            write!(f, ", partition_by_year={column}")?;
        }
        if let Some(column) = &self.target.layout.partition_by_month {
            write!(f, ", partition_by_month={column}")?;
        }
        if let Some(tasks) = &self.target.year_tasks {
            write!(f, ", task_rows={:?}", tasks.rows)?;
        }
        Ok(())
    }

    fn write(
        &self,
        partition: usize,
        input: &Arc<dyn ExecutionPlan>,
        rows: SendableRecordBatchStream,
        metrics: &ExecutionPlanMetricsSet,
    ) -> Result<BoxFuture<'static, Result<RecordBatch>>> {
        let target = Arc::clone(&self.target);
        let schema = Arc::clone(&self.table_schema);
        let task = PartitionTask {
            partition,
            check: self.order.check(&input.schema())?,
            finish_periods_early: self.order.by_period() && self.input_is_sorted(input)?,
            out_of_order: MetricBuilder::new(metrics).counter("rows_out_of_key_order", partition),
        };
        Ok(Box::pin(async move {
            let written = write_partition(&target, &schema, task, rows).await?;
            RecordBatch::try_new(
                count_schema(),
                vec![Arc::new(UInt64Array::from(vec![written])) as ArrayRef],
            )
            .map_err(DataFusionError::from)
        }))
    }
}

/// What one task of the operator needs besides its input.
struct PartitionTask {
    /// The input partition.
    partition: usize,
    /// Counts rows reaching their table out of key order.
    check: KeyOrderCheck,
    /// The input is sorted by period first: a period's table is complete, and is finished (its
    /// last rows sent, its indexes added) in the background, as soon as a later period starts.
    finish_periods_early: bool,
    /// The `rows_out_of_key_order` metric.
    out_of_order: Count,
}

/// Loads one input partition; returns the rows written.
async fn write_partition(
    target: &SinkTarget,
    schema: &SchemaRef,
    mut task: PartitionTask,
    mut input: SendableRecordBatchStream,
) -> Result<u64> {
    let ddl = TableDdl::new(schema, &target.layout)
        .map_err(|e| DataFusionError::Execution(e.to_string()))?;
    let names = target.names();
    let period_column = match target.layout.period_partitioning() {
        Some((column, grain)) => Some((schema.index_of(column)?, grain)),
        None => None,
    };
    // tables are created with their first rows: a task with no rows leaves nothing (the client
    // creates the staging table of an empty Gold table itself)
    let mut loads: BTreeMap<TaskPart, TableLoad> = BTreeMap::new();
    let mut finishing: Vec<SpawnedTask<Result<u64>>> = Vec::new();
    let mut finished: BTreeSet<TaskPart> = BTreeSet::new();
    let mut encoders: Vec<(RowFormat, RowEncoder)> = Vec::with_capacity(2);
    while let Some(batch) = input.next().await {
        let batch = batch?;
        if batch.num_rows() == 0 {
            continue;
        }
        encoders.clear();
        let groups: Vec<(TaskPart, Vec<usize>)> = match period_column {
            None => vec![(
                TaskPart::Partition(task.partition),
                (0..batch.num_rows()).collect(),
            )],
            Some((column, grain)) => group_by_period(batch.column(column), grain)?
                .into_iter()
                .map(|(key, rows)| (TaskPart::Period(key), rows))
                .collect(),
        };
        let latest = groups.last().map(|(part, _)| *part);
        for (part, rows) in groups {
            let table = names.task(&target.table, part);
            if finished.contains(&part) {
                return Err(DataFusionError::Internal(format!(
                    "MySQL sink: rows for `{table}` arrived after its period was finished \
                     (the input is not sorted by period)"
                )));
            }
            task.check.observe(&batch, part, &rows)?;
            let load = match loads.entry(part) {
                Entry::Occupied(entry) => entry.into_mut(),
                Entry::Vacant(entry) => {
                    entry.insert(TableLoad::open(&target.url, &ddl, &table).await?)
                }
            };
            let format = load.format();
            if !encoders.iter().any(|(f, _)| *f == format) {
                let encoder =
                    RowEncoder::new(&batch, format).map_err(|e| encoding_failed(&table, e))?;
                encoders.push((format, encoder));
            }
            if let Some((_, encoder)) = encoders.iter().find(|(f, _)| *f == format) {
                load.push_rows(encoder, rows)?;
            }
            load.send_ready().await?;
        }
        if let (true, Some(latest)) = (task.finish_periods_early, latest) {
            let complete: Vec<TaskPart> = loads.range(..latest).map(|(part, _)| *part).collect();
            for part in complete {
                if let Some(load) = loads.remove(&part) {
                    task.check.finish(part);
                    finished.insert(part);
                    finishing.push(SpawnedTask::spawn(load.finish()));
                }
            }
        }
    }
    let mut rows: u64 = try_join_all(loads.into_values().map(TableLoad::finish))
        .await?
        .into_iter()
        .sum();
    for load in finishing {
        rows += load
            .join_unwind()
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))??;
    }
    let out_of_order = task.check.out_of_order();
    task.out_of_order
        .add(usize::try_from(out_of_order).unwrap_or(usize::MAX));
    if out_of_order > 0 {
        tracing::warn!(
            table = %target.table,
            partition = task.partition,
            rows,
            rows_out_of_key_order = out_of_order,
            "MySQL sink task loaded rows out of primary key order (a slower load)"
        );
    } else {
        tracing::info!(
            table = %target.table,
            partition = task.partition,
            rows,
            rows_out_of_key_order = 0,
            "MySQL sink task loaded its rows in primary key order"
        );
    }
    Ok(rows)
}

/// The rows of `dates` grouped by period key (year or month, see [`PeriodGrain::key`]; `None`:
/// NULL), in period order.
fn group_by_period(
    dates: &ArrayRef,
    grain: PeriodGrain,
) -> Result<BTreeMap<Option<i32>, Vec<usize>>> {
    let days: Vec<Option<i64>> = match dates.data_type() {
        DataType::Date32 => dates
            .as_primitive::<Date32Type>()
            .iter()
            .map(|d| d.map(i64::from))
            .collect(),
        DataType::Date64 => dates
            .as_primitive::<Date64Type>()
            .iter()
            .map(|d| d.map(|ms| ms.div_euclid(86_400_000)))
            .collect(),
        DataType::Timestamp(unit, _) => {
            let values: Vec<Option<i64>> = match unit {
                TimeUnit::Second => dates.as_primitive::<TimestampSecondType>().iter().collect(),
                TimeUnit::Millisecond => dates
                    .as_primitive::<TimestampMillisecondType>()
                    .iter()
                    .collect(),
                TimeUnit::Microsecond => dates
                    .as_primitive::<TimestampMicrosecondType>()
                    .iter()
                    .collect(),
                TimeUnit::Nanosecond => dates
                    .as_primitive::<TimestampNanosecondType>()
                    .iter()
                    .collect(),
            };
            let per_second = match unit {
                TimeUnit::Second => 1,
                TimeUnit::Millisecond => 1_000,
                TimeUnit::Microsecond => 1_000_000,
                TimeUnit::Nanosecond => 1_000_000_000,
            };
            values
                .into_iter()
                .map(|v| v.map(|v| days_of_timestamp(v, per_second)))
                .collect()
        }
        other => {
            return Err(DataFusionError::Execution(format!(
                "MySQL sink: cannot partition by date on a {other} column"
            )));
        }
    };
    let mut groups: BTreeMap<Option<i32>, Vec<usize>> = BTreeMap::new();
    let mut last: Option<(i64, i32)> = None;
    for (row, day) in days.into_iter().enumerate() {
        let year = match day {
            None => None,
            Some(day) => Some(match last {
                Some((d, y)) if d == day => y,
                _ => {
                    let (year, month, _) = civil_from_days(day);
                    let year = i32::try_from(year)
                        .ok()
                        .filter(|y| (1..=9999).contains(y))
                        .ok_or_else(|| {
                            DataFusionError::Execution(format!(
                                "MySQL sink: year {year} is outside MySQL's DATE range"
                            ))
                        })?;
                    let key = grain.key(year, month);
                    last = Some((day, key));
                    key
                }
            }),
        };
        groups.entry(year).or_default().push(row);
    }
    debug_assert!(dates.len() == groups.values().map(Vec::len).sum::<usize>());
    Ok(groups)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Date32Array, TimestampMicrosecondArray};

    #[test]
    fn rows_are_grouped_by_year() {
        // 16801 = 2016-01-01, 17166 = 2016-12-31, 17167 = 2017-01-01
        let dates: ArrayRef = Arc::new(Date32Array::from(vec![
            Some(16_801),
            Some(17_167),
            None,
            Some(17_166),
        ]));
        let groups = group_by_period(&dates, PeriodGrain::Year).unwrap();
        assert_eq!(groups[&Some(2016)], vec![0, 3]);
        assert_eq!(groups[&Some(2017)], vec![1]);
        assert_eq!(groups[&None], vec![2]);
        let micros: ArrayRef = Arc::new(TimestampMicrosecondArray::from(vec![
            17_167 * 86_400_000_000 - 1,
        ]));
        assert_eq!(
            group_by_period(&micros, PeriodGrain::Year).unwrap()[&Some(2016)],
            vec![0]
        );
        let months = group_by_period(&dates, PeriodGrain::Month).unwrap();
        assert_eq!(months[&Some(201601)], vec![0]);
        assert_eq!(months[&Some(201612)], vec![3]);
        assert_eq!(months[&Some(201701)], vec![1]);
    }
}
