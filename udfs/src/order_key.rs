//! `order_key(v1, ..., vN)`: one byte string per row whose byte order is the
//! rows' order by `v1, ..., vN` (each ascending, NULLs first).
//!
//! Sorting on one `BINARY` column instead of N expressions lets DataFusion's
//! sort take its single-column paths: one comparison of two byte strings per
//! pair of rows instead of one dynamic comparator per column, a merge that
//! reads the column as it is instead of converting every batch's sort columns
//! to Arrow's row format again, and the key computed once, below the sort, even
//! when the sort spills and merges its runs back. The MySQL sink sorts its
//! input on such a key (period, then primary key).

use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::compute::SortOptions;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::common::plan_err;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    Volatility,
};
use datafusion_macros::user_doc;

/// Ascending, NULLs first, as MySQL's indexes order a key.
const ASCENDING_NULLS_FIRST: SortOptions = SortOptions {
    descending: false,
    nulls_first: true,
};

/// `order_key(v1 ANY, ..., vN ANY) -> BINARY`, never NULL.
///
/// Arrow's row format of the arguments (each ascending, NULLs first): comparing
/// two keys byte by byte gives the order of the rows by `v1`, then `v2`, and so
/// on. The bytes are an ordering device of one build of medallion (Arrow's row
/// format may change between versions), not something to store.
#[user_doc(
    doc_section(label = "Other Functions"),
    description = "Returns a byte string per row whose byte order is the order of the rows by the arguments, each ascending with NULLs first. Sorting on it sorts on all the arguments with one column. Never NULL; meant for ordering within one run, not for storing.",
    syntax_example = "order_key(expression1[, ..., expressionN])",
    sql_example = r#"```sql
> SELECT id FROM (VALUES ('b', 1), ('a', 2), ('a', NULL)) t(id, n) ORDER BY order_key(id, n);
+----+
| id |
+----+
| a  |
| a  |
| b  |
+----+
```"#,
    argument(
        name = "expression1, ..., expressionN",
        description = "The values to order by, most significant first, of any type Arrow's row format encodes."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct OrderKeyFunc {
    signature: Signature,
}

impl Default for OrderKeyFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl OrderKeyFunc {
    /// Creates the function: one or more arguments of any type.
    pub fn new() -> Self {
        Self {
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for OrderKeyFunc {
    fn name(&self) -> &str {
        "order_key"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        if arg_types.is_empty() {
            return plan_err!("{} takes at least one argument", self.name());
        }
        Ok(DataType::Binary)
    }

    /// Never NULL: a NULL argument has its own bytes, before every value.
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        if args.arg_fields.is_empty() {
            return plan_err!("{} takes at least one argument", self.name());
        }
        Ok(Arc::new(Field::new(self.name(), DataType::Binary, false)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let columns: Vec<ArrayRef> = ColumnarValue::values_to_arrays(&args.args)?;
        let fields = columns
            .iter()
            .map(|column| {
                SortField::new_with_options(column.data_type().clone(), ASCENDING_NULLS_FIRST)
            })
            .collect();
        let rows = RowConverter::new(fields)?.convert_columns(&columns)?;
        Ok(ColumnarValue::Array(Arc::new(rows.try_into_binary()?)))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, AsArray, Date32Array, Int32Array, StringArray};
    use datafusion::common::ScalarValue;
    use datafusion::config::ConfigOptions;

    fn keys(args: Vec<ColumnarValue>, rows: usize) -> Vec<Vec<u8>> {
        let arg_fields = args
            .iter()
            .map(|a| Arc::new(Field::new("f", a.data_type(), true)))
            .collect();
        let result = OrderKeyFunc::new()
            .invoke_with_args(ScalarFunctionArgs {
                args,
                arg_fields,
                number_rows: rows,
                return_field: Arc::new(Field::new("order_key", DataType::Binary, false)),
                config_options: Arc::new(ConfigOptions::default()),
            })
            .unwrap()
            .into_array(rows)
            .unwrap();
        assert_eq!(result.null_count(), 0);
        result
            .as_binary::<i32>()
            .iter()
            .map(|key| key.unwrap().to_vec())
            .collect()
    }

    #[test]
    fn byte_order_is_the_order_by_each_argument_in_turn() {
        // (year, id, day) as the MySQL sink sorts: NULLs first, then by year, id, day
        let year = Int32Array::from(vec![Some(2017), Some(2016), None, Some(2016), Some(2016)]);
        let id = StringArray::from(vec!["A-1", "A-2", "A-9", "A-10", "A-2"]);
        let day = Date32Array::from(vec![Some(17_200), Some(17_000), None, Some(16_900), None]);
        let keys = keys(
            vec![
                ColumnarValue::Array(Arc::new(year)),
                ColumnarValue::Array(Arc::new(id)),
                ColumnarValue::Array(Arc::new(day)),
            ],
            5,
        );
        let mut order: Vec<usize> = (0..keys.len()).collect();
        order.sort_by(|a, b| keys[*a].cmp(&keys[*b]));
        // NULL year first; in 2016 "A-10" < "A-2" (bytes), and (A-2, NULL) < (A-2, 17000)
        assert_eq!(order, vec![2, 3, 4, 1, 0]);
    }

    #[test]
    fn a_constant_argument_keeps_the_order_of_the_others() {
        let id = StringArray::from(vec!["b", "a"]);
        let keys = keys(
            vec![
                ColumnarValue::Scalar(ScalarValue::Int32(Some(7))),
                ColumnarValue::Array(Arc::new(id)),
            ],
            2,
        );
        assert!(keys[1] < keys[0]);
    }

    #[test]
    fn no_argument_is_a_planning_error() {
        let err = OrderKeyFunc::new().return_type(&[]).unwrap_err();
        assert!(err.to_string().contains("at least one argument"), "{err}");
    }
}
