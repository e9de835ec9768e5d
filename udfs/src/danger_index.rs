//! `danger_index(severity_avg, accident_count)`: severity-weighted,
//! log-damped accident count.

use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::common::types::{NativeType, logical_float64, logical_int64};
use datafusion::common::utils::take_function_args;
use datafusion::error::Result;
use datafusion::logical_expr::{
    Coercion, ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    TypeSignatureClass, Volatility,
};
use datafusion_macros::user_doc;

use crate::util::{PrimitiveArg, all_scalar, binary_masked, row_count, to_columnar};

/// Lowest valid average severity (inclusive).
pub const MIN_SEVERITY: f64 = 1.0;
/// Highest valid average severity (inclusive).
pub const MAX_SEVERITY: f64 = 4.0;

/// `danger_index(severity_avg DOUBLE, accident_count BIGINT) -> DOUBLE`.
///
/// Computes `severity_avg * ln(1 + accident_count)`. The result is NULL when
/// an argument is NULL, when `severity_avg` is outside `[1, 4]` (including
/// NaN), or when `accident_count` is negative.
///
/// Any numeric `severity_avg` is coerced to DOUBLE and any integer
/// `accident_count` (signed or unsigned) to BIGINT, so
/// `danger_index(AVG(severity), COUNT(*))` and `danger_index(2.5, 10)` plan.
#[user_doc(
    doc_section(label = "Math Functions"),
    description = "Returns the danger index `severity_avg * ln(1 + accident_count)`. Returns NULL if an argument is NULL, if `severity_avg` is outside [1, 4], or if `accident_count` is negative.",
    syntax_example = "danger_index(severity_avg, accident_count)",
    sql_example = r#"```sql
> SELECT danger_index(2.0, 9);
+-----------------------------------+
| danger_index(Float64(2),Int64(9)) |
+-----------------------------------+
| 4.605170185988092                 |
+-----------------------------------+
```"#,
    argument(
        name = "severity_avg",
        description = "Average accident severity on the 1 to 4 scale. Any numeric expression; cast to DOUBLE."
    ),
    argument(
        name = "accident_count",
        description = "Number of accidents. Any integer expression; cast to BIGINT."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct DangerIndexFunc {
    signature: Signature,
}

impl Default for DangerIndexFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl DangerIndexFunc {
    /// Creates the function with its coercing `(DOUBLE, BIGINT)` signature.
    pub fn new() -> Self {
        let severity = Coercion::new_implicit(
            TypeSignatureClass::Native(logical_float64()),
            vec![TypeSignatureClass::Numeric],
            NativeType::Float64,
        );
        let count = Coercion::new_implicit(
            TypeSignatureClass::Native(logical_int64()),
            vec![TypeSignatureClass::Integer],
            NativeType::Int64,
        );
        Self {
            signature: Signature::coercible(vec![severity, count], Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for DangerIndexFunc {
    fn name(&self) -> &str {
        "danger_index"
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
        let [severity, count] = take_function_args(self.name(), &args.args)?;
        let severity = PrimitiveArg::<Float64Type>::try_new(self.name(), severity)?;
        let count = PrimitiveArg::<Int64Type>::try_new(self.name(), count)?;
        let result = binary_masked(len, &severity, &count, danger_index, in_domain);
        to_columnar(result, scalar)
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

/// `severity * ln(1 + count)`; only meaningful where [`in_domain`] holds.
///
/// Written literally as `ln(1 + count)` (exact for counts below 2^53) rather
/// than `ln_1p(count)`, which can differ in the last bit (e.g. for count 2),
/// so results match the reference formula `severity * log(1 + count)`.
#[inline]
fn danger_index(severity: f64, count: i64) -> f64 {
    severity * (1.0 + count as f64).ln()
}

/// `severity ∈ [1, 4]` (false for NaN) and `count ≥ 0`.
#[inline]
fn in_domain(severity: f64, count: i64) -> bool {
    (MIN_SEVERITY..=MAX_SEVERITY).contains(&severity) && count >= 0
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array};
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
        DangerIndexFunc::new()
            .invoke_with_args(ScalarFunctionArgs {
                args,
                arg_fields,
                number_rows,
                return_field: Field::new("f", DataType::Float64, true).into(),
                config_options: Arc::new(ConfigOptions::default()),
            })
            .unwrap()
    }

    fn invoke_arrays(severity: Vec<Option<f64>>, count: Vec<Option<i64>>) -> Float64Array {
        let out = invoke(vec![
            ColumnarValue::Array(Arc::new(Float64Array::from(severity)) as ArrayRef),
            ColumnarValue::Array(Arc::new(Int64Array::from(count)) as ArrayRef),
        ]);
        match out {
            ColumnarValue::Array(a) => a.as_primitive::<Float64Type>().clone(),
            ColumnarValue::Scalar(s) => panic!("expected an array, got {s:?}"),
        }
    }

    fn assert_close(actual: f64, expected: f64) {
        let tol = 1e-12 * expected.abs().max(1.0);
        assert!((actual - expected).abs() <= tol, "{actual} != {expected}");
    }

    #[test]
    fn golden_values() {
        // danger_index(2.0, 9) = 2·ln(1 + 9) = 2·ln(10) = 2·2.302585092994046 = 4.605170185988092
        // danger_index(1.0, 0) = 1·ln(1)  = 0
        // danger_index(4.0, 1) = 4·ln(2)  = 4·0.6931471805599453 = 2.772588722239781
        // danger_index(2.5, 10) = 2.5·ln(11) = 2.5·2.3978952727983707 = 5.994738181995927
        let out = invoke_arrays(
            vec![Some(2.0), Some(1.0), Some(4.0), Some(2.5)],
            vec![Some(9), Some(0), Some(1), Some(10)],
        );
        assert_eq!(out.null_count(), 0);
        assert_close(out.value(0), 4.605170185988092);
        assert_close(out.value(1), 0.0);
        assert_close(out.value(2), 2.772588722239781);
        assert_close(out.value(3), 5.994738181995927);
    }

    #[test]
    fn nulls_propagate() {
        let out = invoke_arrays(vec![None, Some(2.0), None], vec![Some(9), None, None]);
        assert_eq!(out.len(), 3);
        assert_eq!(out.null_count(), 3);
    }

    #[test]
    fn out_of_domain_is_null() {
        let out = invoke_arrays(
            vec![
                Some(0.5),
                Some(4.5),
                Some(2.0),
                Some(f64::NAN),
                Some(1.0),
                Some(4.0),
            ],
            vec![Some(3), Some(3), Some(-1), Some(3), Some(3), Some(3)],
        );
        assert!(out.is_null(0), "severity 0.5");
        assert!(out.is_null(1), "severity 4.5");
        assert!(out.is_null(2), "count -1");
        assert!(out.is_null(3), "severity NaN");
        // boundaries are inclusive: 1·ln(4) and 4·ln(4)
        assert_close(out.value(4), 4f64.ln());
        assert_close(out.value(5), 4.0 * 4f64.ln());
    }

    #[test]
    fn empty_input() {
        let out = invoke_arrays(vec![], vec![]);
        assert_eq!(out.len(), 0);
    }

    #[test]
    fn large_array() {
        let n = 100_000;
        let severity: Vec<Option<f64>> = (0..n)
            .map(|i| {
                if i % 7 == 0 {
                    None
                } else {
                    Some(1.0 + (i % 4) as f64)
                }
            })
            .collect();
        let count: Vec<Option<i64>> = (0..n as i64).map(Some).collect();
        let out = invoke_arrays(severity, count);
        assert_eq!(out.len(), n);
        assert_eq!(out.null_count(), n.div_ceil(7));
        assert!(out.is_null(0));
        // row 1: 2·ln(2); row 99_999: (1 + 99_999 % 4 = 4)·ln(100_000) = 4·11.512925464970229
        assert_close(out.value(1), 2.0 * 2f64.ln());
        assert_close(out.value(99_999), 4.0 * 11.512925464970229);
    }

    #[test]
    fn scalar_arguments() {
        let out = invoke(vec![
            ColumnarValue::Scalar(ScalarValue::Float64(Some(2.0))),
            ColumnarValue::Scalar(ScalarValue::Int64(Some(9))),
        ]);
        match out {
            ColumnarValue::Scalar(ScalarValue::Float64(Some(v))) => {
                assert_close(v, 4.605170185988092)
            }
            other => panic!("expected a Float64 scalar, got {other:?}"),
        }

        let out = invoke(vec![
            ColumnarValue::Scalar(ScalarValue::Float64(Some(4.5))),
            ColumnarValue::Scalar(ScalarValue::Int64(Some(9))),
        ]);
        assert!(matches!(
            out,
            ColumnarValue::Scalar(ScalarValue::Float64(None))
        ));

        let out = invoke(vec![
            ColumnarValue::Scalar(ScalarValue::Float64(None)),
            ColumnarValue::Scalar(ScalarValue::Int64(Some(9))),
        ]);
        assert!(matches!(
            out,
            ColumnarValue::Scalar(ScalarValue::Float64(None))
        ));
    }

    #[test]
    fn mixed_scalar_and_array() {
        let out = invoke(vec![
            ColumnarValue::Scalar(ScalarValue::Float64(Some(2.0))),
            ColumnarValue::Array(Arc::new(Int64Array::from(vec![Some(9), None, Some(-1)]))),
        ]);
        let ColumnarValue::Array(out) = out else {
            panic!("expected an array")
        };
        let out = out.as_primitive::<Float64Type>();
        assert_close(out.value(0), 4.605170185988092);
        assert!(out.is_null(1));
        assert!(out.is_null(2));

        // a NULL constant nulls every row
        let out = invoke(vec![
            ColumnarValue::Array(Arc::new(Float64Array::from(vec![2.0, 3.0]))),
            ColumnarValue::Scalar(ScalarValue::Int64(None)),
        ]);
        let ColumnarValue::Array(out) = out else {
            panic!("expected an array")
        };
        assert_eq!(out.len(), 2);
        assert_eq!(out.null_count(), 2);
    }

    #[test]
    fn other_integer_types_are_accepted_when_invoked_directly() {
        let out = invoke(vec![
            ColumnarValue::Scalar(ScalarValue::Int32(Some(2))),
            ColumnarValue::Scalar(ScalarValue::UInt64(Some(9))),
        ]);
        assert!(
            matches!(out, ColumnarValue::Scalar(ScalarValue::Float64(Some(v))) if (v - 4.605170185988092).abs() < 1e-12)
        );
    }

    #[test]
    fn has_documentation() {
        let func = DangerIndexFunc::new();
        let doc = func.documentation().unwrap();
        assert_eq!(doc.arguments.as_ref().map(Vec::len), Some(2));
    }
}
