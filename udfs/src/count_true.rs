//! `count_true(flag, ...)`: how many of its boolean arguments are true, NULL
//! counting as false — the datamart's infrastructure count of a row.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, Int32Array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{ScalarValue, exec_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    Volatility,
};
use datafusion_macros::user_doc;

use crate::util::true_bits;

/// `count_true(flag BOOLEAN, ...) -> INT`, never NULL.
///
/// The number of arguments that are true; a NULL argument counts as false.
/// The same as `CAST(coalesce(a, false) AS INT) + CAST(coalesce(b, false) AS
/// INT) + ...`, in one pass over the arguments' bitmaps instead of a coalesce,
/// a cast and an addition per argument, each allocating an array.
#[user_doc(
    doc_section(label = "Other Functions"),
    description = "Returns how many of its boolean arguments are true; a NULL argument counts as false. Never NULL.",
    syntax_example = "count_true(flag1[, ..., flagN])",
    sql_example = r#"```sql
> SELECT count_true(true, NULL, false, true);
+-------------------------------------------------------------+
| count_true(Boolean(true),NULL,Boolean(false),Boolean(true)) |
+-------------------------------------------------------------+
| 2                                                           |
+-------------------------------------------------------------+
```"#,
    argument(
        name = "flag1, ..., flagN",
        description = "Boolean values, for example a row's road-infrastructure flags."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CountTrueFunc {
    signature: Signature,
}

impl Default for CountTrueFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl CountTrueFunc {
    /// Creates the function: one or more arguments, each coerced to `Boolean`
    /// (an untyped NULL too).
    pub fn new() -> Self {
        Self {
            signature: Signature::variadic(vec![DataType::Boolean], Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for CountTrueFunc {
    fn name(&self) -> &str {
        "count_true"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int32)
    }

    /// Never NULL: a NULL argument counts as false.
    fn return_field_from_args(&self, _args: ReturnFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(Field::new(self.name(), DataType::Int32, false)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        // the arguments that are the same for every row add to every count
        let mut constant = 0;
        let mut arrays = Vec::new();
        for arg in &args.args {
            match arg {
                ColumnarValue::Scalar(ScalarValue::Boolean(value)) => {
                    constant += i32::from(value.unwrap_or(false));
                }
                ColumnarValue::Scalar(ScalarValue::Null) => {}
                ColumnarValue::Scalar(other) => {
                    return exec_err!(
                        "{} expects booleans, got {}",
                        self.name(),
                        other.data_type()
                    );
                }
                ColumnarValue::Array(array) => match array.as_boolean_opt() {
                    Some(flags) => arrays.push(flags),
                    None => {
                        return exec_err!(
                            "{} expects booleans, got {}",
                            self.name(),
                            array.data_type()
                        );
                    }
                },
            }
        }
        if arrays.is_empty() {
            return Ok(ColumnarValue::Scalar(ScalarValue::Int32(Some(constant))));
        }
        let mut counts = vec![constant; args.number_rows];
        for flags in arrays {
            for row in true_bits(flags).set_indices() {
                counts[row] += 1;
            }
        }
        Ok(ColumnarValue::Array(Arc::new(Int32Array::from(counts))))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{ArrayRef, BooleanArray};
    use datafusion::config::ConfigOptions;

    fn invoke(args: Vec<ColumnarValue>, rows: usize) -> ColumnarValue {
        let arg_fields = args
            .iter()
            .map(|a| Arc::new(Field::new("f", a.data_type(), true)))
            .collect();
        CountTrueFunc::new()
            .invoke_with_args(ScalarFunctionArgs {
                args,
                arg_fields,
                number_rows: rows,
                return_field: Arc::new(Field::new("count_true", DataType::Int32, false)),
                config_options: Arc::new(ConfigOptions::default()),
            })
            .unwrap()
    }

    fn flags(values: &[Option<bool>]) -> ColumnarValue {
        ColumnarValue::Array(Arc::new(BooleanArray::from(values.to_vec())) as ArrayRef)
    }

    #[test]
    fn counts_the_trues_of_each_row_with_null_as_false() {
        let result = invoke(
            vec![
                flags(&[Some(true), Some(false), None, Some(true)]),
                flags(&[Some(true), None, None, Some(false)]),
                ColumnarValue::Scalar(ScalarValue::Boolean(Some(true))),
                ColumnarValue::Scalar(ScalarValue::Boolean(None)),
            ],
            4,
        );
        let ColumnarValue::Array(array) = result else {
            panic!("an array for array arguments");
        };
        let counts = array.as_primitive::<datafusion::arrow::datatypes::Int32Type>();
        assert_eq!(counts.values().to_vec(), vec![3, 1, 1, 2]);
        assert_eq!(counts.null_count(), 0);
    }

    #[test]
    fn a_sliced_array_counts_its_own_rows() {
        let whole = BooleanArray::from(vec![Some(true), None, Some(true), Some(false), Some(true)]);
        let sliced: ArrayRef = Arc::new(whole.slice(1, 3));
        let ColumnarValue::Array(array) = invoke(vec![ColumnarValue::Array(sliced)], 3) else {
            panic!("an array");
        };
        let counts = array.as_primitive::<datafusion::arrow::datatypes::Int32Type>();
        assert_eq!(counts.values().to_vec(), vec![0, 1, 0]);
    }

    #[test]
    fn scalar_arguments_give_a_scalar() {
        let result = invoke(
            vec![
                ColumnarValue::Scalar(ScalarValue::Boolean(Some(true))),
                ColumnarValue::Scalar(ScalarValue::Null),
                ColumnarValue::Scalar(ScalarValue::Boolean(Some(true))),
            ],
            1,
        );
        let ColumnarValue::Scalar(ScalarValue::Int32(Some(2))) = result else {
            panic!("expected the scalar 2, got {result:?}");
        };
    }
}
