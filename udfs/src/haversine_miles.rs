//! `haversine_miles(lat1, lng1, lat2, lng2)`: great-circle distance in miles.

use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::types::{NativeType, logical_float64};
use datafusion::common::utils::take_function_args;
use datafusion::error::Result;
use datafusion::logical_expr::{
    Coercion, ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    TypeSignatureClass, Volatility,
};
use datafusion_macros::user_doc;

use crate::util::{PrimitiveArg, all_scalar, nary_f64, row_count, to_columnar};

/// Mean earth radius used by [`HaversineMilesFunc`], in statute miles.
pub const EARTH_RADIUS_MILES: f64 = 3958.8;

/// `haversine_miles(lat1, lng1, lat2, lng2 DOUBLE) -> DOUBLE`.
///
/// Great-circle distance between two points given in decimal degrees, on a
/// sphere of radius [`EARTH_RADIUS_MILES`]:
///
/// ```text
/// a = sin²(Δφ/2) + cos φ1 · cos φ2 · sin²(Δλ/2)
/// d = 2R · asin(√a)
/// ```
///
/// `a` is clamped to `[0, 1]` so that rounding can never produce NaN for
/// (near-)antipodal points. NULL if any argument is NULL; any numeric
/// argument is coerced to DOUBLE.
#[user_doc(
    doc_section(label = "Math Functions"),
    description = "Returns the great-circle (haversine) distance in miles between two points given as latitude/longitude in decimal degrees, using an earth radius of 3958.8 miles. Returns NULL if any argument is NULL.",
    syntax_example = "haversine_miles(lat1, lng1, lat2, lng2)",
    sql_example = r#"```sql
> SELECT round(haversine_miles(40.7128, -74.0060, 34.0522, -118.2437), 1) AS nyc_to_la;
+-----------+
| nyc_to_la |
+-----------+
| 2445.6    |
+-----------+
```"#,
    argument(
        name = "lat1",
        description = "Latitude of the first point, in degrees. Any numeric expression; cast to DOUBLE."
    ),
    argument(
        name = "lng1",
        description = "Longitude of the first point, in degrees. Any numeric expression; cast to DOUBLE."
    ),
    argument(
        name = "lat2",
        description = "Latitude of the second point, in degrees. Any numeric expression; cast to DOUBLE."
    ),
    argument(
        name = "lng2",
        description = "Longitude of the second point, in degrees. Any numeric expression; cast to DOUBLE."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct HaversineMilesFunc {
    signature: Signature,
}

impl Default for HaversineMilesFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl HaversineMilesFunc {
    /// Creates the function with its coercing `(DOUBLE, DOUBLE, DOUBLE, DOUBLE)`
    /// signature.
    pub fn new() -> Self {
        let float = Coercion::new_implicit(
            TypeSignatureClass::Native(logical_float64()),
            vec![TypeSignatureClass::Numeric],
            NativeType::Float64,
        );
        Self {
            signature: Signature::coercible(vec![float; 4], Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for HaversineMilesFunc {
    fn name(&self) -> &str {
        "haversine_miles"
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
        let [lat1, lng1, lat2, lng2] = take_function_args(self.name(), &args.args)?;
        let lat1 = PrimitiveArg::<Float64Type>::try_new(self.name(), lat1)?;
        let lng1 = PrimitiveArg::<Float64Type>::try_new(self.name(), lng1)?;
        let lat2 = PrimitiveArg::<Float64Type>::try_new(self.name(), lat2)?;
        let lng2 = PrimitiveArg::<Float64Type>::try_new(self.name(), lng2)?;
        let result = nary_f64(len, [&lat1, &lng1, &lat2, &lng2], |[a, b, c, d]| {
            haversine_miles(a, b, c, d)
        });
        to_columnar(result, scalar)
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

/// Haversine distance in miles between `(lat1, lng1)` and `(lat2, lng2)`,
/// all in degrees.
#[inline]
pub fn haversine_miles(lat1: f64, lng1: f64, lat2: f64, lng2: f64) -> f64 {
    let phi1 = lat1.to_radians();
    let phi2 = lat2.to_radians();
    let half_dphi = (phi2 - phi1) / 2.0;
    let half_dlambda = (lng2 - lng1).to_radians() / 2.0;
    let a = half_dphi.sin().powi(2) + phi1.cos() * phi2.cos() * half_dlambda.sin().powi(2);
    2.0 * EARTH_RADIUS_MILES * a.clamp(0.0, 1.0).sqrt().asin()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Array, AsArray, Float64Array};
    use datafusion::arrow::datatypes::Field;
    use datafusion::common::ScalarValue;
    use datafusion::common::config::ConfigOptions;

    use super::*;

    // NYC (40.7128, -74.0060) → LA (34.0522, -118.2437), by hand (radians):
    //   φ1 = 0.7105724077, φ2 = 0.5943230075, Δφ = -0.1162494002, Δλ = -0.7720935185
    //   sin²(Δφ/2)                   = 0.0033746778
    //   cos φ1 · cos φ2 · sin²(Δλ/2) = 0.7579886371 · 0.8285277692 · 0.1417741373 = 0.0890362330
    //   a = 0.0924109108, √a = 0.3039916295, asin(√a) = 0.3088797877
    //   d = 2 · 3958.8 · 0.3088797877 = 2445.5866069 miles
    const NYC_TO_LA: f64 = 2_445.586_606_929_677_6;

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
        HaversineMilesFunc::new()
            .invoke_with_args(ScalarFunctionArgs {
                args,
                arg_fields,
                number_rows,
                return_field: Field::new("f", DataType::Float64, true).into(),
                config_options: Arc::new(ConfigOptions::default()),
            })
            .unwrap()
    }

    fn col(values: Vec<Option<f64>>) -> ColumnarValue {
        ColumnarValue::Array(Arc::new(Float64Array::from(values)))
    }

    fn lit(value: f64) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Float64(Some(value)))
    }

    fn as_f64(out: ColumnarValue) -> Float64Array {
        match out {
            ColumnarValue::Array(a) => a.as_primitive::<Float64Type>().clone(),
            ColumnarValue::Scalar(s) => panic!("expected an array, got {s:?}"),
        }
    }

    fn assert_rel(actual: f64, expected: f64) {
        let rel = ((actual - expected) / expected).abs();
        assert!(rel < 1e-6, "{actual} vs {expected} (relative error {rel})");
    }

    #[test]
    fn golden_values() {
        // Row 1: one degree of latitude along a meridian = 2πR/360 = 69.094094… miles.
        // Row 2: same point → 0.
        // Row 3: antipodes (0,0)→(0,180) = πR = 12436.937… miles.
        let out = as_f64(invoke(vec![
            col(vec![Some(40.7128), Some(0.0), Some(10.0), Some(0.0)]),
            col(vec![Some(-74.0060), Some(0.0), Some(20.0), Some(0.0)]),
            col(vec![Some(34.0522), Some(1.0), Some(10.0), Some(0.0)]),
            col(vec![Some(-118.2437), Some(0.0), Some(20.0), Some(180.0)]),
        ]));
        assert_eq!(out.null_count(), 0);
        assert_rel(out.value(0), NYC_TO_LA);
        assert_rel(
            out.value(1),
            2.0 * std::f64::consts::PI * EARTH_RADIUS_MILES / 360.0,
        );
        assert_eq!(out.value(2), 0.0);
        assert_rel(out.value(3), std::f64::consts::PI * EARTH_RADIUS_MILES);
        assert!((out.value(0) - 2445.6).abs() < 0.05);
    }

    #[test]
    fn symmetric() {
        let there = haversine_miles(40.7128, -74.0060, 34.0522, -118.2437);
        let back = haversine_miles(34.0522, -118.2437, 40.7128, -74.0060);
        assert_rel(there, back);
    }

    #[test]
    fn nulls_propagate() {
        let out = as_f64(invoke(vec![
            col(vec![None, Some(1.0), Some(1.0), Some(1.0), Some(1.0)]),
            col(vec![Some(1.0), None, Some(1.0), Some(1.0), Some(1.0)]),
            col(vec![Some(1.0), Some(1.0), None, Some(1.0), Some(1.0)]),
            col(vec![Some(1.0), Some(1.0), Some(1.0), None, Some(1.0)]),
        ]));
        assert_eq!(out.len(), 5);
        assert_eq!(out.null_count(), 4);
        assert_eq!(out.value(4), 0.0);
    }

    #[test]
    fn empty_input() {
        let out = as_f64(invoke(vec![
            col(vec![]),
            col(vec![]),
            col(vec![]),
            col(vec![]),
        ]));
        assert_eq!(out.len(), 0);
    }

    #[test]
    fn large_array() {
        // Distance from (0, 0) to (0, i / 1000 degrees) = R · (i / 1000)·π/180.
        let n = 100_000;
        let lng2: Vec<Option<f64>> = (0..n).map(|i| Some(i as f64 / 1000.0)).collect();
        let out = as_f64(invoke(vec![lit(0.0), lit(0.0), lit(0.0), col(lng2)]));
        assert_eq!(out.len(), n);
        assert_eq!(out.null_count(), 0);
        assert_eq!(out.value(0), 0.0);
        for i in [1, 4_242, 99_999] {
            let expected = EARTH_RADIUS_MILES * (i as f64 / 1000.0).to_radians();
            assert_rel(out.value(i), expected);
        }
    }

    #[test]
    fn scalar_arguments() {
        let out = invoke(vec![
            lit(40.7128),
            lit(-74.0060),
            lit(34.0522),
            lit(-118.2437),
        ]);
        match out {
            ColumnarValue::Scalar(ScalarValue::Float64(Some(v))) => assert_rel(v, NYC_TO_LA),
            other => panic!("expected a Float64 scalar, got {other:?}"),
        }

        let out = invoke(vec![
            lit(40.7128),
            ColumnarValue::Scalar(ScalarValue::Float64(None)),
            lit(34.0522),
            lit(-118.2437),
        ]);
        assert!(matches!(
            out,
            ColumnarValue::Scalar(ScalarValue::Float64(None))
        ));

        // integer scalars (as when invoked directly without coercion)
        let out = invoke(vec![
            ColumnarValue::Scalar(ScalarValue::Int64(Some(0))),
            ColumnarValue::Scalar(ScalarValue::Int32(Some(0))),
            ColumnarValue::Scalar(ScalarValue::Int64(Some(1))),
            ColumnarValue::Scalar(ScalarValue::Int64(Some(0))),
        ]);
        match out {
            ColumnarValue::Scalar(ScalarValue::Float64(Some(v))) => {
                assert_rel(v, EARTH_RADIUS_MILES.to_radians())
            }
            other => panic!("expected a Float64 scalar, got {other:?}"),
        }
    }

    #[test]
    fn has_documentation() {
        let func = HaversineMilesFunc::new();
        let doc = func.documentation().unwrap();
        assert_eq!(doc.arguments.as_ref().map(Vec::len), Some(4));
    }
}
