//! The order in which a task's rows reach MySQL: by period (year or month), then by primary key.
//!
//! InnoDB stores a table in its primary key's B-tree. Rows inserted in key order append to the
//! rightmost leaf; rows inserted in random key order touch pages all over the tree, and once the
//! tree outgrows the buffer pool (128 MB by default) every insert may read and write a page from
//! disk. A lake written in time order (as Spark jobs and streaming ingests write Silver) reaches the
//! sink in random `id` order, which made a year table's `LOAD DATA` several times slower than the
//! same rows in key order (issue 23).
//!
//! So [`MySqlSinkExec`](super::MySqlSinkExec) requires its input sorted on
//! [`KeyOrder::requirement`]: the period expressions first (so a task fills one period table at a
//! time and can finish it, index it and hand it to the client's `EXCHANGE PARTITION` while the next
//! period loads), then the primary key columns. DataFusion's planner puts a `SortExec` under the
//! sink to meet it, in every task on every executor; that sort spills to disk when the memory pool
//! is full, so the memory it takes stays bounded. [`KeyOrderCheck`] counts the rows that still
//! arrive out of key order, for the operator's metrics and its log line.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::arrow::compute::SortOptions;
use datafusion::arrow::datatypes::Schema;
use datafusion::arrow::row::{OwnedRow, RowConverter, SortField};
use datafusion::common::ScalarValue;
use datafusion::common::config::ConfigOptions;
use datafusion::error::Result;
use datafusion::physical_expr::{LexRequirement, PhysicalSortRequirement, ScalarFunctionExpr};
use datafusion::physical_plan::PhysicalExpr;
use datafusion::physical_plan::expressions::{Column, Literal};

use super::ddl::{PeriodGrain, TableLayout};
use super::names::TaskPart;

/// Ascending, NULLs first: NULL dates form the first period ([`TaskPart::Period`]`(None)` sorts
/// first too), and MySQL's indexes put NULLs first.
const ASCENDING: SortOptions = SortOptions {
    descending: false,
    nulls_first: true,
};

/// The order a table's rows are loaded in, from its layout and schema.
#[derive(Debug, Clone)]
pub struct KeyOrder {
    /// `date_part('year', col)` (and `date_part('month', col)` for monthly tables), if the table
    /// is partitioned by a period.
    period: Vec<Arc<dyn PhysicalExpr>>,
    /// The primary key columns present in the input, in key order, with their input indexes.
    key_columns: Vec<(usize, Arc<dyn PhysicalExpr>)>,
}

impl KeyOrder {
    /// The order for `layout` over rows of `schema`. The primary key is used up to its first
    /// column missing from the input (a surrogate `auto_id` key is numbered by the server in load
    /// order and needs no sort).
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
            key_columns.push((
                index,
                Arc::new(Column::new(name, index)) as Arc<dyn PhysicalExpr>,
            ));
        }
        Ok(Self {
            period,
            key_columns,
        })
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

    /// The sort the operator requires of its input: periods, then the primary key; `None` when
    /// there is nothing to sort by.
    pub fn requirement(&self) -> Option<LexRequirement> {
        LexRequirement::new(
            self.period
                .iter()
                .chain(self.key_columns.iter().map(|(_, column)| column))
                .map(|expr| PhysicalSortRequirement::new(Arc::clone(expr), Some(ASCENDING))),
        )
    }

    /// A checker of the key order of the rows each task table receives.
    pub fn check(&self, schema: &Schema) -> Result<KeyOrderCheck> {
        let fields = self
            .key_columns
            .iter()
            .map(|(index, _)| {
                SortField::new_with_options(schema.field(*index).data_type().clone(), ASCENDING)
            })
            .collect::<Vec<_>>();
        let converter = if fields.is_empty() {
            None
        } else {
            Some(RowConverter::new(fields)?)
        };
        Ok(KeyOrderCheck {
            columns: self.key_columns.iter().map(|(index, _)| *index).collect(),
            converter,
            last: HashMap::new(),
            out_of_order: 0,
        })
    }
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

/// Counts the rows that reach a task table before a row with a greater primary key.
#[derive(Debug)]
pub struct KeyOrderCheck {
    columns: Vec<usize>,
    converter: Option<RowConverter>,
    /// The last key each task table received.
    last: HashMap<TaskPart, OwnedRow>,
    out_of_order: u64,
}

impl KeyOrderCheck {
    /// Checks `rows` of `batch`, in the order they are sent to `part`'s table.
    pub fn observe(&mut self, batch: &RecordBatch, part: TaskPart, rows: &[usize]) -> Result<()> {
        let Some(converter) = &self.converter else {
            return Ok(());
        };
        if rows.is_empty() {
            return Ok(());
        }
        let columns: Vec<ArrayRef> = self
            .columns
            .iter()
            .map(|i| Arc::clone(batch.column(*i)))
            .collect();
        let keys = converter.convert_columns(&columns)?;
        let mut previous = self.last.get(&part).map(|row| row.row());
        let mut out_of_order = 0;
        for &row in rows {
            let key = keys.row(row);
            if previous.is_some_and(|p| p > key) {
                out_of_order += 1;
            }
            previous = Some(key);
        }
        if let Some(last) = previous {
            self.last.insert(part, last.owned());
        }
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
    use datafusion::arrow::array::{Date32Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field};

    fn layout() -> TableLayout {
        TableLayout {
            primary_key: vec!["id".into(), "day".into()],
            partition_by_year: Some("day".into()),
            ..TableLayout::default()
        }
    }

    fn schema() -> Schema {
        Schema::new(vec![
            Field::new("id", DataType::Utf8, false),
            Field::new("day", DataType::Date32, true),
        ])
    }

    #[test]
    fn the_requirement_is_periods_then_the_key() {
        let order = KeyOrder::new(&layout(), &schema()).unwrap();
        let requirement = order.requirement().expect("a requirement");
        let shown: Vec<String> = requirement.iter().map(|r| r.expr.to_string()).collect();
        assert_eq!(shown.len(), 3, "{shown:?}");
        assert!(shown[0].contains("date_part"), "{shown:?}");
        assert_eq!(shown[1], "id@0");
        assert_eq!(shown[2], "day@1");
        assert!(order.by_period());

        let monthly = TableLayout {
            partition_by_year: None,
            partition_by_month: Some("day".into()),
            ..layout()
        };
        let order = KeyOrder::new(&monthly, &schema()).unwrap();
        assert_eq!(order.requirement().unwrap().len(), 4);

        // a surrogate key the input does not have: nothing to sort by
        let auto = TableLayout {
            primary_key: vec!["row_id".into()],
            auto_id: Some("row_id".into()),
            ..TableLayout::default()
        };
        let order = KeyOrder::new(&auto, &schema()).unwrap();
        assert!(order.requirement().is_none());
        assert!(!order.by_period());
    }

    #[test]
    fn rows_out_of_key_order_are_counted_per_table() {
        let order = KeyOrder::new(&layout(), &schema()).unwrap();
        let mut check = order.check(&schema()).unwrap();
        let batch = RecordBatch::try_new(
            Arc::new(schema()),
            vec![
                Arc::new(StringArray::from(vec!["A-1", "A-2", "A-10", "A-3"])),
                Arc::new(Date32Array::from(vec![Some(1), Some(1), Some(1), None])),
            ],
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
