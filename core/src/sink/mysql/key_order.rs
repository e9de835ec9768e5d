//! The order in which a task's rows reach MySQL: by period (year or month), then by primary key.
//!
//! InnoDB stores a table in its primary key's B-tree. Rows inserted in key order append to the
//! rightmost leaf; rows inserted in random key order touch pages all over the tree, and once the
//! tree outgrows the buffer pool (128 MB by default) every insert may read and write a page from
//! disk. A lake written in time order (as Spark jobs and streaming ingests write Silver) reaches the
//! sink in random `id` order, which made a year table's `LOAD DATA` several times slower than the
//! same rows in key order (issue 23).
//!
//! So [`MySqlSinkExec`](super::MySqlSinkExec) sorts its input on one column, [`ORDER_KEY_COLUMN`]:
//! the `order_key` UDF (medallion_udfs) of the period expressions first (so a task fills one
//! period table at a time and can finish it, index it and hand it to the client's
//! `EXCHANGE PARTITION` while the next period loads), then the primary key columns.
//! [`KeyOrder::with_order_key`] appends that column to the operator's input and
//! [`KeyOrder::requirement`] asks for it sorted; DataFusion's planner puts a `SortExec` under the
//! sink to meet it, in every task on every executor. One byte string per row lets the sort take
//! its single-column paths (one comparison per pair of rows, the key computed once even when the
//! sort spills and merges its runs), and that sort spills to disk when the memory pool is full, so
//! the memory it takes stays bounded. [`KeyOrderCheck`] compares the same bytes to count the rows
//! that still arrive out of key order, for the operator's metrics and its log line; the sink does
//! not load the column.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::compute::SortOptions;
use datafusion::arrow::datatypes::{DataType, Schema, SchemaRef};
use datafusion::common::ScalarValue;
use datafusion::common::config::ConfigOptions;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::ScalarUDF;
use datafusion::physical_expr::{LexRequirement, PhysicalSortRequirement, ScalarFunctionExpr};
use datafusion::physical_plan::expressions::{Column, Literal};
use datafusion::physical_plan::projection::{ProjectionExec, ProjectionExpr};
use datafusion::physical_plan::{ExecutionPlan, PhysicalExpr};
use medallion_udfs::OrderKeyFunc;

use super::ddl::{PeriodGrain, TableLayout};
use super::names::TaskPart;

/// The name of the column [`KeyOrder::with_order_key`] appends to the sink's input: the rows'
/// `order_key(period..., primary key...)`.
pub const ORDER_KEY_COLUMN: &str = "__medallion_order_key";

/// Ascending: `order_key`'s bytes are already ordered with NULLs first, as MySQL's indexes put
/// them ([`TaskPart::Period`]`(None)` sorts first too).
const ASCENDING: SortOptions = SortOptions {
    descending: false,
    nulls_first: true,
};

/// The order a table's rows are loaded in, from its layout and the sink's input schema.
#[derive(Debug, Clone)]
pub struct KeyOrder {
    /// `date_part('year', col)` (and `date_part('month', col)` for monthly tables), if the table
    /// is partitioned by a period.
    period: Vec<Arc<dyn PhysicalExpr>>,
    /// The primary key columns present in the input, in key order.
    key_columns: Vec<Arc<dyn PhysicalExpr>>,
    /// The index of [`ORDER_KEY_COLUMN`] in the input, if the input has it.
    order_key: Option<usize>,
}

impl KeyOrder {
    /// The order for `layout` over rows of `schema` (with or without [`ORDER_KEY_COLUMN`]). The
    /// primary key is used up to its first column missing from the input (a surrogate `auto_id`
    /// key is numbered by the server in load order and needs no sort).
    pub fn new(layout: &TableLayout, schema: &Schema) -> Result<Self> {
        let period = match layout.period_partitioning() {
            None => Vec::new(),
            Some((column, grain)) => {
                let parts: &[&str] = match grain {
                    PeriodGrain::Year => &["year"],
                    PeriodGrain::Month => &["year", "month"],
                };
                parts
                    .iter()
                    .map(|part| date_part(part, column, schema))
                    .collect::<Result<_>>()?
            }
        };
        let mut key_columns = Vec::new();
        for name in &layout.primary_key {
            let Ok(index) = schema.index_of(name) else {
                break;
            };
            key_columns.push(Arc::new(Column::new(name, index)) as Arc<dyn PhysicalExpr>);
        }
        Ok(Self {
            period,
            key_columns,
            order_key: order_key_index(schema),
        })
    }

    /// `input` with [`ORDER_KEY_COLUMN`] appended, computed from its columns for `layout`; `input`
    /// itself when it has the column already (a plan decoded on an executor) or when there is
    /// nothing to sort by.
    pub fn with_order_key(
        input: Arc<dyn ExecutionPlan>,
        layout: &TableLayout,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let schema = input.schema();
        if order_key_index(&schema).is_some() {
            return Ok(input);
        }
        let order = Self::new(layout, &schema)?;
        let arguments: Vec<Arc<dyn PhysicalExpr>> = order
            .period
            .iter()
            .chain(&order.key_columns)
            .cloned()
            .collect();
        if arguments.is_empty() {
            return Ok(input);
        }
        let key = ScalarFunctionExpr::try_new(
            Arc::new(ScalarUDF::from(OrderKeyFunc::new())),
            arguments,
            &schema,
            Arc::new(ConfigOptions::default()),
        )?;
        let expressions = schema
            .fields()
            .iter()
            .enumerate()
            .map(|(index, field)| {
                ProjectionExpr::new(
                    Arc::new(Column::new(field.name(), index)) as Arc<dyn PhysicalExpr>,
                    field.name().clone(),
                )
            })
            .chain([ProjectionExpr::new(
                Arc::new(key) as Arc<dyn PhysicalExpr>,
                ORDER_KEY_COLUMN.to_string(),
            )]);
        Ok(Arc::new(ProjectionExec::try_new(expressions, input)?))
    }

    /// `schema` without [`ORDER_KEY_COLUMN`]: the columns that are loaded.
    pub fn loaded_schema(schema: &SchemaRef) -> Result<SchemaRef> {
        match order_key_index(schema) {
            None => Ok(Arc::clone(schema)),
            Some(index) => {
                let columns: Vec<usize> = (0..index).collect();
                Ok(Arc::new(schema.project(&columns)?))
            }
        }
    }

    /// `batch` without [`ORDER_KEY_COLUMN`], if it has it.
    pub fn loaded_columns(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        match self.order_key {
            None => Ok(batch.clone()),
            Some(index) => {
                let columns: Vec<usize> = (0..index).collect();
                Ok(batch.project(&columns)?)
            }
        }
    }

    /// The year expression rows are distributed on (one task owns each year), if any.
    pub fn year_expr(&self) -> Option<&Arc<dyn PhysicalExpr>> {
        self.period.first()
    }

    /// Whether the input is sorted by period before the key (so a task's period tables can be
    /// finished one after the other).
    pub fn by_period(&self) -> bool {
        !self.period.is_empty()
    }

    /// The sort the operator requires of its input: [`ORDER_KEY_COLUMN`] ascending; `None` when
    /// there is nothing to sort by (the input has no key column).
    pub fn requirement(&self) -> Option<LexRequirement> {
        let index = self.order_key?;
        LexRequirement::new([PhysicalSortRequirement::new(
            Arc::new(Column::new(ORDER_KEY_COLUMN, index)) as Arc<dyn PhysicalExpr>,
            Some(ASCENDING),
        )])
    }

    /// A checker of the key order of the rows each task table receives.
    pub fn check(&self) -> KeyOrderCheck {
        KeyOrderCheck {
            order_key: self.order_key,
            last: HashMap::new(),
            out_of_order: 0,
        }
    }
}

/// The index of [`ORDER_KEY_COLUMN`] in `schema`: its last column, a byte string.
fn order_key_index(schema: &Schema) -> Option<usize> {
    let index = schema.fields().len().checked_sub(1)?;
    let field = schema.field(index);
    (field.name() == ORDER_KEY_COLUMN && field.data_type() == &DataType::Binary).then_some(index)
}

/// `date_part(part, column)` over `schema`.
fn date_part(part: &str, column: &str, schema: &Schema) -> Result<Arc<dyn PhysicalExpr>> {
    let column: Arc<dyn PhysicalExpr> = Arc::new(Column::new_with_schema(column, schema)?);
    let part: Arc<dyn PhysicalExpr> =
        Arc::new(Literal::new(ScalarValue::Utf8(Some(part.to_string()))));
    Ok(Arc::new(ScalarFunctionExpr::try_new(
        datafusion::functions::datetime::date_part(),
        vec![part, column],
        schema,
        Arc::new(ConfigOptions::default()),
    )?))
}

/// Counts the rows that reach a task table before a row with a greater key (period, then primary
/// key: the bytes of [`ORDER_KEY_COLUMN`]).
#[derive(Debug)]
pub struct KeyOrderCheck {
    order_key: Option<usize>,
    /// The last key each task table received.
    last: HashMap<TaskPart, Vec<u8>>,
    out_of_order: u64,
}

impl KeyOrderCheck {
    /// Checks `rows` of `batch`, in the order they are sent to `part`'s table.
    pub fn observe(&mut self, batch: &RecordBatch, part: TaskPart, rows: &[usize]) -> Result<()> {
        let Some(index) = self.order_key else {
            return Ok(());
        };
        let (Some(&first), Some(&end)) = (rows.first(), rows.last()) else {
            return Ok(());
        };
        let keys = batch.column(index).as_binary_opt::<i32>().ok_or_else(|| {
            DataFusionError::Internal(format!("{ORDER_KEY_COLUMN} is not a byte string"))
        })?;
        let mut out_of_order = 0;
        if self
            .last
            .get(&part)
            .is_some_and(|previous| previous.as_slice() > keys.value(first))
        {
            out_of_order += 1;
        }
        for pair in rows.windows(2) {
            if keys.value(pair[0]) > keys.value(pair[1]) {
                out_of_order += 1;
            }
        }
        let last = self.last.entry(part).or_default();
        last.clear();
        last.extend_from_slice(keys.value(end));
        self.out_of_order += out_of_order;
        Ok(())
    }

    /// Rows that arrived after a row with a greater key of the same table, so far.
    pub fn out_of_order(&self) -> u64 {
        self.out_of_order
    }

    /// Forgets a finished table's last key.
    pub fn finish(&mut self, part: TaskPart) {
        self.last.remove(&part);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{ArrayRef, BinaryArray, Date32Array, StringArray};
    use datafusion::arrow::datatypes::Field;
    use datafusion::datasource::memory::MemorySourceConfig;
    use datafusion::physical_plan::collect;
    use datafusion::prelude::SessionContext;

    fn layout() -> TableLayout {
        TableLayout {
            primary_key: vec!["id".into(), "day".into()],
            partition_by_year: Some("day".into()),
            ..TableLayout::default()
        }
    }

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Utf8, false),
            Field::new("day", DataType::Date32, true),
        ]))
    }

    fn input(ids: Vec<&str>, days: Vec<Option<i32>>) -> Arc<dyn ExecutionPlan> {
        let batch = RecordBatch::try_new(
            schema(),
            vec![
                Arc::new(StringArray::from(ids)) as ArrayRef,
                Arc::new(Date32Array::from(days)),
            ],
        )
        .unwrap();
        MemorySourceConfig::try_new_exec(&[vec![batch]], schema(), None).unwrap()
    }

    #[test]
    fn the_requirement_is_the_order_key_column() {
        let keyed = KeyOrder::with_order_key(input(vec![], vec![]), &layout()).unwrap();
        let keyed_schema = keyed.schema();
        assert_eq!(keyed_schema.fields().len(), 3);
        assert_eq!(keyed_schema.field(2).name(), ORDER_KEY_COLUMN);
        // idempotent: a decoded plan that has the column keeps it once
        let again = KeyOrder::with_order_key(Arc::clone(&keyed), &layout()).unwrap();
        assert!(Arc::ptr_eq(&again, &keyed));
        assert_eq!(
            KeyOrder::loaded_schema(&keyed_schema).unwrap().as_ref(),
            schema().as_ref()
        );

        let order = KeyOrder::new(&layout(), &keyed_schema).unwrap();
        let requirement = order.requirement().expect("a requirement");
        let shown: Vec<String> = requirement.iter().map(|r| r.expr.to_string()).collect();
        assert_eq!(shown, vec![format!("{ORDER_KEY_COLUMN}@2")]);
        assert!(order.by_period());
        assert!(
            order
                .year_expr()
                .is_some_and(|year| year.to_string().contains("date_part"))
        );

        // without the column (an input the sink did not build), nothing is required
        assert!(
            KeyOrder::new(&layout(), &schema())
                .unwrap()
                .requirement()
                .is_none()
        );

        // a surrogate key the input does not have: no column, nothing to sort by
        let auto = TableLayout {
            primary_key: vec!["row_id".into()],
            auto_id: Some("row_id".into()),
            ..TableLayout::default()
        };
        let plain = KeyOrder::with_order_key(input(vec![], vec![]), &auto).unwrap();
        assert_eq!(plain.schema().fields().len(), 2);
        let order = KeyOrder::new(&auto, &plain.schema()).unwrap();
        assert!(order.requirement().is_none());
        assert!(!order.by_period());
    }

    /// The key's byte order is the order by year, then id, then day, NULLs first (a monthly table
    /// adds the month after the year).
    #[tokio::test]
    async fn the_order_key_orders_by_period_then_primary_key() {
        // 16801 = 2016-01-01, 16832 = 2016-02-01, 17167 = 2017-01-01
        let ids = vec!["b", "a", "c", "a", "a", "b"];
        let days = vec![
            Some(17_167),
            Some(17_167),
            None,
            Some(16_832),
            Some(16_801),
            Some(16_801),
        ];
        let sorted = |layout: TableLayout| {
            let plan = KeyOrder::with_order_key(input(ids.clone(), days.clone()), &layout);
            async move {
                let batches = collect(plan.unwrap(), SessionContext::new().task_ctx())
                    .await
                    .unwrap();
                let batch = &batches[0];
                let keys = batch.column(2).as_binary::<i32>();
                let mut rows: Vec<usize> = (0..batch.num_rows()).collect();
                rows.sort_by(|a, b| keys.value(*a).cmp(keys.value(*b)));
                rows
            }
        };
        // NULL year; 2016: (a, Jan), (a, Feb), (b, Jan); 2017: a, b
        assert_eq!(sorted(layout()).await, vec![2, 4, 3, 5, 1, 0]);
        let monthly = TableLayout {
            partition_by_year: None,
            partition_by_month: Some("day".into()),
            ..layout()
        };
        // NULL; 2016-01: a, b; 2016-02: a; 2017-01: a, b
        assert_eq!(sorted(monthly).await, vec![2, 4, 5, 3, 1, 0]);
    }

    #[test]
    fn rows_out_of_key_order_are_counted_per_table() {
        let keyed = Arc::new(Schema::new(vec![Field::new(
            ORDER_KEY_COLUMN,
            DataType::Binary,
            false,
        )]));
        let order = KeyOrder::new(&TableLayout::default(), &keyed).unwrap();
        let mut check = order.check();
        let batch = RecordBatch::try_new(
            keyed,
            vec![Arc::new(BinaryArray::from(vec![
                b"A-1".as_slice(),
                b"A-2",
                b"A-10",
                b"A-3",
            ]))],
        )
        .unwrap();
        let y2016 = TaskPart::Period(Some(2016));
        // "A-1" < "A-10" < "A-2" in byte order: "A-10" after "A-2" is out of order
        check.observe(&batch, y2016, &[0, 1, 2]).unwrap();
        assert_eq!(check.out_of_order(), 1);
        // another table keeps its own last key
        check
            .observe(&batch, TaskPart::Period(Some(2017)), &[0])
            .unwrap();
        assert_eq!(check.out_of_order(), 1);
        // across batches: "A-3" after "A-10" is in order, then "A-1" is not
        check.observe(&batch, y2016, &[3, 0]).unwrap();
        assert_eq!(check.out_of_order(), 2);
        check.finish(y2016);
        check.observe(&batch, y2016, &[0]).unwrap();
        assert_eq!(check.out_of_order(), 2);
    }
}
