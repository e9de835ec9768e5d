//! `seasonal_factor(x, base)`: ratio of a period's value to its baseline.

use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::types::{NativeType, logical_float64};
use datafusion::common::utils::take_function_args;
use datafusion::error::Result;
use datafusion::logical_expr::{
    Coercion, ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    TypeSignatureClass, Volatility,
};
use datafusion_macros::user_doc;

use crate::util::{PrimitiveArg, all_scalar, binary_masked, row_count, to_columnar};

/// `seasonal_factor(x DOUBLE, base DOUBLE) -> DOUBLE`.
///
/// Computes `x / base`, e.g. a month's accident count over the monthly
/// average. The result is NULL when an argument is NULL or `base` is 0
/// (either sign), instead of ±infinity or NaN. Any numeric argument is
/// coerced to DOUBLE.
#[user_doc(
    doc_section(label = "Math Functions"),
    description = "Returns `x / base`, the seasonal factor of a value relative to its baseline. Returns NULL if an argument is NULL or `base` is 0.",
    syntax_example = "seasonal_factor(x, base)",
    sql_example = r#"```sql
> SELECT seasonal_factor(150, 120);
+----------------------------------------+
| seasonal_factor(Int64(150),Int64(120)) |
+----------------------------------------+
| 1.25                                   |
+----------------------------------------+
```"#,
    argument(
        name = "x",
        description = "Value for the period (for example a month's count). Any numeric expression; cast to DOUBLE."
    ),
    argument(
        name = "base",
        description = "Baseline to compare against (for example the average over all periods). Any numeric expression; cast to DOUBLE."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SeasonalFactorFunc {
    signature: Signature,
}

impl Default for SeasonalFactorFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl SeasonalFactorFunc {
    /// Creates the function with its coercing `(DOUBLE, DOUBLE)` signature.
    pub fn new() -> Self {
        let float = Coercion::new_implicit(
            TypeSignatureClass::Native(logical_float64()),
            vec![TypeSignatureClass::Numeric],
            NativeType::Float64,
        );
        Self {
            signature: Signature::coercible(vec![float; 2], Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for SeasonalFactorFunc {
    fn name(&self) -> &str {
        "seasonal_factor"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn is_strict(&self) -> bool {
        true
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let len = row_count(self.name(), &args.args)?;
        let scalar = all_scalar(&args.args);
        let [x, base] = take_function_args(self.name(), &args.args)?;
        let x = PrimitiveArg::<Float64Type>::try_new(self.name(), x)?;
        let base = PrimitiveArg::<Float64Type>::try_new(self.name(), base)?;
        let result = binary_masked(len, &x, &base, |x, base| x / base, |_, base| base != 0.0);
        to_columnar(result, scalar)
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Array, AsArray, Float64Array};
    use datafusion::arrow::datatypes::Field;
    use datafusion::common::ScalarValue;
    use datafusion::common::config::ConfigOptions;

    use super::*;

    fn invoke(args: Vec<ColumnarValue>) -> ColumnarValue {
        let number_rows = args
            .iter()
            .find_map(|a| match a {
                ColumnarValue::Array(a) => Some(a.len()),
                ColumnarValue::Scalar(_) => None,
            })
            .unwrap_or(1);
        let arg_fields = args
            .iter()
            .map(|a| Field::new("a", a.data_type(), true).into())
            .collect();
        SeasonalFactorFunc::new()
            .invoke_with_args(ScalarFunctionArgs {
                args,
                arg_fields,
                number_rows,
                return_field: Field::new("f", DataType::Float64, true).into(),
                config_options: Arc::new(ConfigOptions::default()),
            })
            .unwrap()
    }

    fn invoke_arrays(x: Vec<Option<f64>>, base: Vec<Option<f64>>) -> Float64Array {
        match invoke(vec![
            ColumnarValue::Array(Arc::new(Float64Array::from(x))),
            ColumnarValue::Array(Arc::new(Float64Array::from(base))),
        ]) {
            ColumnarValue::Array(a) => a.as_primitive::<Float64Type>().clone(),
            ColumnarValue::Scalar(s) => panic!("expected an array, got {s:?}"),
        }
    }

    #[test]
    fn golden_values() {
        // 150 / 120 = 1.25; 90 / 120 = 0.75; -3 / 4 = -0.75; 0 / 5 = 0
        let out = invoke_arrays(
            vec![Some(150.0), Some(90.0), Some(-3.0), Some(0.0)],
            vec![Some(120.0), Some(120.0), Some(4.0), Some(5.0)],
        );
        assert_eq!(out.null_count(), 0);
        assert_eq!(out.values().as_ref(), &[1.25, 0.75, -0.75, 0.0]);
    }

    #[test]
    fn zero_base_is_null() {
        let out = invoke_arrays(
            vec![Some(1.0), Some(0.0), Some(1.0), Some(2.0)],
            vec![Some(0.0), Some(0.0), Some(-0.0), Some(4.0)],
        );
        assert!(out.is_null(0));
        assert!(out.is_null(1));
        assert!(out.is_null(2));
        assert_eq!(out.value(3), 0.5);
    }

    #[test]
    fn nulls_propagate() {
        let out = invoke_arrays(vec![None, Some(1.0), None], vec![Some(1.0), None, None]);
        assert_eq!(out.len(), 3);
        assert_eq!(out.null_count(), 3);
    }

    #[test]
    fn empty_input() {
        assert_eq!(invoke_arrays(vec![], vec![]).len(), 0);
    }

    #[test]
    fn large_array() {
        let n = 100_000;
        let x: Vec<Option<f64>> = (0..n).map(|i| Some(i as f64)).collect();
        // base cycles 0, 1, 2, 3, 4 → every fifth row is NULL
        let base: Vec<Option<f64>> = (0..n).map(|i| Some((i % 5) as f64)).collect();
        let out = invoke_arrays(x, base);
        assert_eq!(out.len(), n);
        assert_eq!(out.null_count(), n / 5);
        assert!(out.is_null(0));
        assert_eq!(out.value(1), 1.0); // 1 / 1
        assert_eq!(out.value(12_347), 12_347.0 / 2.0); // 12_347 % 5 = 2
        assert_eq!(out.value(99_999), 99_999.0 / 4.0); // 99_999 % 5 = 4
    }

    #[test]
    fn scalar_arguments() {
        let out = invoke(vec![
            ColumnarValue::Scalar(ScalarValue::Float64(Some(150.0))),
            ColumnarValue::Scalar(ScalarValue::Float64(Some(120.0))),
        ]);
        assert_eq!(out.data_type(), DataType::Float64);
        assert!(matches!(out, ColumnarValue::Scalar(ScalarValue::Float64(Some(v))) if v == 1.25));

        let out = invoke(vec![
            ColumnarValue::Scalar(ScalarValue::Float64(Some(150.0))),
            ColumnarValue::Scalar(ScalarValue::Float64(Some(0.0))),
        ]);
        assert!(matches!(
            out,
            ColumnarValue::Scalar(ScalarValue::Float64(None))
        ));

        // column divided by a constant
        let out = invoke(vec![
            ColumnarValue::Array(Arc::new(Float64Array::from(vec![Some(3.0), None]))),
            ColumnarValue::Scalar(ScalarValue::Float64(Some(2.0))),
        ]);
        let ColumnarValue::Array(out) = out else {
            panic!("expected an array")
        };
        let out = out.as_primitive::<Float64Type>();
        assert_eq!(out.value(0), 1.5);
        assert!(out.is_null(1));

        // a constant zero base nulls every row
        let out = invoke(vec![
            ColumnarValue::Array(Arc::new(Float64Array::from(vec![3.0, 4.0]))),
            ColumnarValue::Scalar(ScalarValue::Float64(Some(0.0))),
        ]);
        let ColumnarValue::Array(out) = out else {
            panic!("expected an array")
        };
        assert_eq!(out.null_count(), 2);
    }

    #[test]
    fn has_documentation() {
        assert!(SeasonalFactorFunc::new().documentation().is_some());
    }
}
