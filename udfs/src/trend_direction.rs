//! `trend_direction(values, threshold)`: classifies a series as rising,
//! falling or flat from its relative least-squares slope.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder, new_null_array};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::{DataType, Field, Float64Type};
use datafusion::common::utils::coerced_type_with_base_type_only;
use datafusion::common::utils::take_function_args;
use datafusion::common::{exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use datafusion_macros::user_doc;

use crate::util::{PrimitiveArg, all_scalar, coerce_primitive, row_count, to_columnar};

/// Minimum number of non-NULL values needed to call a trend.
pub const MIN_POINTS: usize = 3;

/// The three possible results of [`TrendDirectionFunc`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trend {
    /// Relative slope above the threshold.
    Up,
    /// Relative slope below minus the threshold.
    Down,
    /// Anything else, including too few points and a zero mean.
    Stable,
}

impl Trend {
    /// The SQL string for this trend: `'up'`, `'down'` or `'stable'`.
    pub fn as_str(self) -> &'static str {
        match self {
            Trend::Up => "up",
            Trend::Down => "down",
            Trend::Stable => "stable",
        }
    }
}

/// `trend_direction(values LIST<DOUBLE>, threshold DOUBLE) -> UTF8`.
///
/// Fits a least-squares line to `values[i]` against its position `i`
/// (`0..n-1`; NULL elements are skipped but keep their position) and divides
/// the slope by the mean of the non-NULL values. The result is `'up'` if that
/// relative slope is greater than `threshold`, `'down'` if it is less than
/// `-threshold` and `'stable'` otherwise — and also `'stable'` when there are
/// fewer than [`MIN_POINTS`] non-NULL values or the mean is 0. A NULL list or
/// NULL threshold gives NULL.
///
/// `values` may be a `List`, `LargeList` or `FixedSizeList` of any numeric
/// type (elements are coerced to DOUBLE), e.g. `make_array(1, 2, 3)` or an
/// `array_agg(...) OVER (...)` window. Any numeric `threshold` is coerced to
/// DOUBLE.
#[user_doc(
    doc_section(label = "Array Functions"),
    description = "Returns 'up', 'down' or 'stable': the least-squares slope of the array's values against their positions 0..n-1 (NULL elements skipped, positions kept), divided by the mean of the non-NULL values, is compared with `threshold` and `-threshold`. Fewer than 3 non-NULL values or a mean of 0 give 'stable'; a NULL array or threshold gives NULL.",
    syntax_example = "trend_direction(array, threshold)",
    sql_example = r#"```sql
> SELECT trend_direction(make_array(1.0, 2.0, 3.0), 0.05);
+-----------------------------------------------------------------------------+
| trend_direction(make_array(Float64(1),Float64(2),Float64(3)),Float64(0.05)) |
+-----------------------------------------------------------------------------+
| up                                                                          |
+-----------------------------------------------------------------------------+
```"#,
    argument(
        name = "array",
        description = "Array of numbers in time order (List, LargeList or FixedSizeList); elements are cast to DOUBLE. Typically `array_agg(x) OVER (ORDER BY t ROWS BETWEEN n PRECEDING AND CURRENT ROW)`."
    ),
    argument(
        name = "threshold",
        description = "Relative slope (slope / mean) beyond which the series counts as rising or falling, e.g. 0.05. Any numeric expression; cast to DOUBLE."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct TrendDirectionFunc {
    signature: Signature,
}

impl Default for TrendDirectionFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl TrendDirectionFunc {
    /// Creates the function. Its signature is user-defined: see
    /// [`ScalarUDFImpl::coerce_types`] for the accepted argument types.
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for TrendDirectionFunc {
    fn name(&self) -> &str {
        "trend_direction"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn is_strict(&self) -> bool {
        true
    }

    /// `List`/`LargeList`/`FixedSizeList` of any numeric (or NULL) element
    /// type becomes the same list kind of DOUBLE; an untyped NULL becomes
    /// `List<DOUBLE>`. The threshold may be any numeric (or NULL) type and
    /// becomes DOUBLE.
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [list_type, threshold_type] = take_function_args(self.name(), arg_types)?;
        let list_type = match list_type {
            DataType::Null => {
                DataType::List(Arc::new(Field::new_list_field(DataType::Float64, true)))
            }
            DataType::List(field)
            | DataType::LargeList(field)
            | DataType::FixedSizeList(field, _) => {
                let element = field.data_type();
                if !(element.is_numeric() || element.is_null()) {
                    return plan_err!(
                        "{} expects an array of numbers as first argument, got {list_type}",
                        self.name()
                    );
                }
                // keeps the list kind (FixedSizeList stays FixedSizeList)
                coerced_type_with_base_type_only(list_type, &DataType::Float64, None)
            }
            other => {
                return plan_err!(
                    "{} expects an array (List, LargeList or FixedSizeList) as first argument, got {other}",
                    self.name()
                );
            }
        };
        if !(threshold_type.is_numeric() || threshold_type.is_null()) {
            return plan_err!(
                "{} expects a numeric threshold as second argument, got {threshold_type}",
                self.name()
            );
        }
        Ok(vec![list_type, DataType::Float64])
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let len = row_count(self.name(), &args.args)?;
        let scalar = all_scalar(&args.args);
        let [lists, threshold] = take_function_args(self.name(), &args.args)?;
        let threshold = PrimitiveArg::<Float64Type>::try_new(self.name(), threshold)?;
        let lists = lists.to_array(len)?;
        let result = trend_direction(&lists, &threshold, len)?;
        to_columnar(result, scalar)
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

/// Classifies every row of `lists`, reading the offsets and the flat child
/// values directly (no per-row array slicing or allocation).
fn trend_direction(
    lists: &ArrayRef,
    threshold: &PrimitiveArg<Float64Type>,
    len: usize,
) -> Result<ArrayRef> {
    if threshold.is_null_scalar() {
        return Ok(new_null_array(&DataType::Utf8, len));
    }
    match lists.data_type() {
        DataType::Null => Ok(new_null_array(&DataType::Utf8, len)),
        DataType::List(_) => {
            let lists = lists.as_list::<i32>();
            let offsets = lists.value_offsets();
            classify_rows(len, lists.nulls(), lists.values(), threshold, |i| {
                (offsets[i] as usize, offsets[i + 1] as usize)
            })
        }
        DataType::LargeList(_) => {
            let lists = lists.as_list::<i64>();
            let offsets = lists.value_offsets();
            classify_rows(len, lists.nulls(), lists.values(), threshold, |i| {
                (offsets[i] as usize, offsets[i + 1] as usize)
            })
        }
        DataType::FixedSizeList(_, size) => {
            let lists = lists.as_fixed_size_list();
            let size = usize::try_from(*size).unwrap_or(0);
            classify_rows(len, lists.nulls(), lists.values(), threshold, |i| {
                (i * size, (i + 1) * size)
            })
        }
        other => exec_err!("trend_direction: unsupported argument type {other}"),
    }
}

/// The shared per-row loop; `bounds(i)` gives row `i`'s `[start, end)` range
/// in `values`.
fn classify_rows(
    len: usize,
    list_nulls: Option<&NullBuffer>,
    values: &ArrayRef,
    threshold: &PrimitiveArg<Float64Type>,
    bounds: impl Fn(usize) -> (usize, usize),
) -> Result<ArrayRef> {
    let values = coerce_primitive::<Float64Type>("trend_direction", values)?;
    let data = values.values().as_ref();
    let value_nulls = values.nulls();
    // "stable" is the longest result: 6 bytes per row is an upper bound.
    let mut builder = StringBuilder::with_capacity(len, len * 6);
    for i in 0..len {
        if list_nulls.is_some_and(|n| n.is_null(i)) || threshold.is_null(i) {
            builder.append_null();
            continue;
        }
        let (start, end) = bounds(i);
        let Some(row) = data.get(start..end) else {
            return exec_err!(
                "trend_direction: list offsets {start}..{end} out of bounds for {} values",
                data.len()
            );
        };
        let trend = match value_nulls {
            None => classify(row, |_| true, threshold.value(i)),
            Some(nulls) => classify(row, |j| nulls.is_valid(start + j), threshold.value(i)),
        };
        builder.append_value(trend.as_str());
    }
    Ok(Arc::new(builder.finish()))
}

/// Classifies one series; `is_valid(j)` tells whether element `j` is non-NULL.
///
/// Uses the two-pass (centred) least-squares formulas, which stay accurate
/// for large values where the one-pass `n·Σxy − Σx·Σy` form cancels:
///
/// ```text
/// slope = Σ (x − x̄)(y − ȳ) / Σ (x − x̄)²      relative slope = slope / ȳ
/// ```
#[inline]
pub fn classify(values: &[f64], is_valid: impl Fn(usize) -> bool, threshold: f64) -> Trend {
    let (mut n, mut sum_x, mut sum_y) = (0usize, 0.0f64, 0.0f64);
    for (j, &y) in values.iter().enumerate() {
        if is_valid(j) {
            n += 1;
            sum_x += j as f64;
            sum_y += y;
        }
    }
    if n < MIN_POINTS {
        return Trend::Stable;
    }
    let mean_x = sum_x / n as f64;
    let mean_y = sum_y / n as f64;
    if mean_y == 0.0 {
        return Trend::Stable;
    }
    let (mut sxy, mut sxx) = (0.0f64, 0.0f64);
    for (j, &y) in values.iter().enumerate() {
        if is_valid(j) {
            let dx = j as f64 - mean_x;
            sxy += dx * (y - mean_y);
            sxx += dx * dx;
        }
    }
    // n ≥ 3 distinct positions, so sxx > 0
    let relative_slope = (sxy / sxx) / mean_y;
    if relative_slope > threshold {
        Trend::Up
    } else if relative_slope < -threshold {
        Trend::Down
    } else {
        Trend::Stable
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{
        FixedSizeListArray, Float64Array, LargeListArray, ListArray, StringArray,
    };
    use datafusion::arrow::datatypes::Int64Type;
    use datafusion::common::ScalarValue;
    use datafusion::common::config::ConfigOptions;

    use super::*;

    fn invoke(args: Vec<ColumnarValue>) -> Result<ColumnarValue> {
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
        TrendDirectionFunc::new().invoke_with_args(ScalarFunctionArgs {
            args,
            arg_fields,
            number_rows,
            return_field: Field::new("f", DataType::Utf8, true).into(),
            config_options: Arc::new(ConfigOptions::default()),
        })
    }

    fn list(rows: Vec<Option<Vec<Option<f64>>>>) -> ArrayRef {
        Arc::new(ListArray::from_iter_primitive::<Float64Type, _, _>(rows))
    }

    fn lit(threshold: f64) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Float64(Some(threshold)))
    }

    fn strings(out: ColumnarValue) -> Vec<Option<String>> {
        match out {
            ColumnarValue::Array(a) => a
                .as_string::<i32>()
                .iter()
                .map(|s| s.map(str::to_owned))
                .collect(),
            ColumnarValue::Scalar(s) => panic!("expected an array, got {s:?}"),
        }
    }

    fn run(rows: Vec<Option<Vec<Option<f64>>>>, threshold: f64) -> Vec<Option<String>> {
        strings(invoke(vec![ColumnarValue::Array(list(rows)), lit(threshold)]).unwrap())
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_owned())
    }

    #[test]
    fn golden_values() {
        // [1, 2, 3]: x̄ = 1, ȳ = 2, Σdx·dy = (-1)(-1) + 0 + 1·1 = 2, Σdx² = 2
        //   → slope 1, relative 1/2 = 0.5 > 0.05 → up
        // [3, 2, 1]: slope -1, relative -0.5 → down
        // [5, 5.1, 5]: slope 0 → stable
        // [100, 101, 102]: slope 1, relative 1/101 ≈ 0.0099 < 0.05 → stable
        let out = run(
            vec![
                Some(vec![Some(1.0), Some(2.0), Some(3.0)]),
                Some(vec![Some(3.0), Some(2.0), Some(1.0)]),
                Some(vec![Some(5.0), Some(5.1), Some(5.0)]),
                Some(vec![Some(100.0), Some(101.0), Some(102.0)]),
            ],
            0.05,
        );
        assert_eq!(out, vec![s("up"), s("down"), s("stable"), s("stable")]);
    }

    #[test]
    fn null_elements_are_skipped_but_keep_their_positions() {
        // [10, NULL, 12, 13] → points (0,10), (2,12), (3,13):
        //   x̄ = 5/3, ȳ = 35/3
        //   dx = -5/3, 1/3, 4/3; dy = -5/3, 1/3, 4/3
        //   Σdx·dy = (25 + 1 + 16)/9 = 42/9, Σdx² = 42/9 → slope 1
        //   relative = 1 / (35/3) = 3/35 = 0.0857…
        //   threshold 0.05 → up; threshold 0.1 → stable
        // (Dropping the NULL and renumbering, [10, 12, 13] would have slope 1.5.)
        let row = || Some(vec![Some(10.0), None, Some(12.0), Some(13.0)]);
        assert_eq!(run(vec![row()], 0.05), vec![s("up")]);
        assert_eq!(run(vec![row()], 0.1), vec![s("stable")]);
        // 3/35 = 0.08571… lies between 0.0857 and 0.0858
        assert_eq!(run(vec![row()], 0.0857), vec![s("up")]);
        assert_eq!(run(vec![row()], 0.0858), vec![s("stable")]);

        // mirror image [13, 12, NULL, 10] → points (0,13), (1,12), (3,10):
        //   x̄ = 4/3, ȳ = 35/3, Σdx·dy = (-16 - 1 - 25)/9 = -42/9, Σdx² = 42/9
        //   → slope -1, relative -3/35 → down
        let out = run(
            vec![Some(vec![Some(13.0), Some(12.0), None, Some(10.0)])],
            0.05,
        );
        assert_eq!(out, vec![s("down")]);
    }

    #[test]
    fn too_few_points_or_zero_mean_is_stable() {
        let out = run(
            vec![
                Some(vec![]),
                Some(vec![Some(1.0)]),
                Some(vec![Some(1.0), Some(100.0)]),
                Some(vec![Some(1.0), None, Some(100.0), None]),
                Some(vec![None, None, None]),
                // mean 0 although the slope is 1
                Some(vec![Some(-1.0), Some(0.0), Some(1.0)]),
            ],
            0.05,
        );
        assert_eq!(out, vec![s("stable"); 6]);
    }

    #[test]
    fn null_list_or_threshold_is_null() {
        let out = run(
            vec![None, Some(vec![Some(1.0), Some(2.0), Some(3.0)])],
            0.05,
        );
        assert_eq!(out, vec![None, s("up")]);

        let rows = list(vec![Some(vec![Some(1.0), Some(2.0), Some(3.0)])]);
        let out = invoke(vec![
            ColumnarValue::Array(Arc::clone(&rows)),
            ColumnarValue::Scalar(ScalarValue::Float64(None)),
        ])
        .unwrap();
        assert_eq!(strings(out), vec![None]);

        // per-row thresholds, one of them NULL
        let rows = list(vec![
            Some(vec![Some(1.0), Some(2.0), Some(3.0)]),
            Some(vec![Some(1.0), Some(2.0), Some(3.0)]),
            Some(vec![Some(1.0), Some(2.0), Some(3.0)]),
        ]);
        let thresholds = Float64Array::from(vec![Some(0.4), None, Some(0.6)]);
        let out = invoke(vec![
            ColumnarValue::Array(rows),
            ColumnarValue::Array(Arc::new(thresholds)),
        ])
        .unwrap();
        assert_eq!(strings(out), vec![s("up"), None, s("stable")]);
    }

    #[test]
    fn negative_and_zero_thresholds() {
        // threshold 0: any positive relative slope is up, exactly 0 is stable
        let out = run(
            vec![
                Some(vec![Some(1.0), Some(2.0), Some(3.0)]),
                Some(vec![Some(2.0), Some(2.0), Some(2.0)]),
            ],
            0.0,
        );
        assert_eq!(out, vec![s("up"), s("stable")]);
    }

    #[test]
    fn empty_input() {
        assert!(run(vec![], 0.05).is_empty());
    }

    #[test]
    fn large_array() {
        // 100_000 rows of 6-element windows; row i is [i, i+1, …, i+5] (slope 1,
        // mean i + 2.5), negated for odd i; every 1000th row is NULL.
        //   row 0:      relative 1/2.5 = 0.4       > 0.05 → up
        //   row 1:      relative -1/-3.5 = +0.2857 > 0.05 → up  (negative mean flips the sign)
        //   row 10:     relative 1/12.5 = 0.08     > 0.05 → up
        //   row 20:     relative 1/22.5 = 0.0444   ≤ 0.05 → stable
        let n = 100_000;
        let rows: Vec<Option<Vec<Option<f64>>>> = (0..n)
            .map(|i| {
                (i % 1000 != 999).then(|| {
                    let sign = if i % 2 == 0 { 1.0 } else { -1.0 };
                    (0..6).map(|k| Some(sign * (i + k) as f64)).collect()
                })
            })
            .collect();
        let out = run(rows, 0.05);
        assert_eq!(out.len(), n);
        assert_eq!(out.iter().filter(|v| v.is_none()).count(), n / 1000);
        assert_eq!(out[0], s("up"));
        assert_eq!(out[1], s("up"));
        assert_eq!(out[10], s("up"));
        assert_eq!(out[20], s("stable"));
        assert_eq!(out[999], None);
        assert_eq!(out[99_998], s("stable"));
    }

    #[test]
    fn scalar_arguments() {
        let list = ScalarValue::List(Arc::new(
            ListArray::from_iter_primitive::<Float64Type, _, _>(vec![Some(vec![
                Some(1.0),
                Some(2.0),
                Some(3.0),
            ])]),
        ));
        let out = invoke(vec![ColumnarValue::Scalar(list.clone()), lit(0.05)]).unwrap();
        assert!(
            matches!(&out, ColumnarValue::Scalar(ScalarValue::Utf8(Some(v))) if v == "up"),
            "{out:?}"
        );

        let out = invoke(vec![
            ColumnarValue::Scalar(list.clone()),
            ColumnarValue::Scalar(ScalarValue::Float64(None)),
        ])
        .unwrap();
        assert!(
            matches!(out, ColumnarValue::Scalar(ScalarValue::Utf8(None))),
            "{out:?}"
        );

        let out = invoke(vec![ColumnarValue::Scalar(ScalarValue::Null), lit(0.05)]).unwrap();
        assert!(
            matches!(out, ColumnarValue::Scalar(ScalarValue::Utf8(None))),
            "{out:?}"
        );

        // constant list, per-row thresholds
        let out = invoke(vec![
            ColumnarValue::Scalar(list),
            ColumnarValue::Array(Arc::new(Float64Array::from(vec![0.1, 0.9]))),
        ])
        .unwrap();
        assert_eq!(strings(out), vec![s("up"), s("stable")]);
    }

    #[test]
    fn large_list_and_fixed_size_list() {
        let large = LargeListArray::from_iter_primitive::<Float64Type, _, _>(vec![
            Some(vec![Some(3.0), Some(2.0), Some(1.0)]),
            None,
        ]);
        let out = invoke(vec![ColumnarValue::Array(Arc::new(large)), lit(0.05)]).unwrap();
        assert_eq!(strings(out), vec![s("down"), None]);

        let fixed = FixedSizeListArray::from_iter_primitive::<Float64Type, _, _>(
            vec![
                Some(vec![Some(1.0), Some(2.0), Some(3.0)]),
                None,
                Some(vec![Some(10.0), None, Some(12.0)]),
                Some(vec![Some(3.0), Some(2.0), Some(1.0)]),
            ],
            3,
        );
        // slice off the first row to exercise offsets
        let fixed = fixed.slice(1, 3);
        let out = invoke(vec![ColumnarValue::Array(Arc::new(fixed)), lit(0.05)]).unwrap();
        assert_eq!(strings(out), vec![None, s("stable"), s("down")]);
    }

    #[test]
    fn sliced_list_array() {
        let rows = ListArray::from_iter_primitive::<Float64Type, _, _>(vec![
            Some(vec![Some(3.0), Some(2.0), Some(1.0)]),
            Some(vec![Some(1.0), Some(2.0), Some(3.0)]),
            Some(vec![Some(1.0), Some(1.0), Some(1.0)]),
        ]);
        let out = invoke(vec![
            ColumnarValue::Array(Arc::new(rows.slice(1, 2))),
            lit(0.05),
        ])
        .unwrap();
        assert_eq!(strings(out), vec![s("up"), s("stable")]);
    }

    #[test]
    fn integer_elements_when_invoked_directly() {
        let rows = ListArray::from_iter_primitive::<Int64Type, _, _>(vec![Some(vec![
            Some(1),
            Some(2),
            Some(3),
        ])]);
        let out = invoke(vec![ColumnarValue::Array(Arc::new(rows)), lit(0.05)]).unwrap();
        assert_eq!(strings(out), vec![s("up")]);

        let bad: ArrayRef = Arc::new(StringArray::from(vec!["x"]));
        assert!(invoke(vec![ColumnarValue::Array(bad), lit(0.05)]).is_err());
    }

    #[test]
    fn coerce_types() {
        let f = TrendDirectionFunc::new();
        let item = |t: DataType| Arc::new(Field::new_list_field(t, true));
        assert_eq!(
            f.coerce_types(&[DataType::List(item(DataType::Int64)), DataType::Int64])
                .unwrap(),
            vec![DataType::List(item(DataType::Float64)), DataType::Float64]
        );
        assert_eq!(
            f.coerce_types(&[DataType::LargeList(item(DataType::Float32)), DataType::Null])
                .unwrap(),
            vec![
                DataType::LargeList(item(DataType::Float64)),
                DataType::Float64
            ]
        );
        assert_eq!(
            f.coerce_types(&[
                DataType::FixedSizeList(item(DataType::Int32), 4),
                DataType::Float64
            ])
            .unwrap(),
            vec![
                DataType::FixedSizeList(item(DataType::Float64), 4),
                DataType::Float64
            ]
        );
        assert!(
            f.coerce_types(&[DataType::Utf8, DataType::Float64])
                .is_err()
        );
        assert!(
            f.coerce_types(&[DataType::List(item(DataType::Utf8)), DataType::Float64])
                .is_err()
        );
        assert!(
            f.coerce_types(&[DataType::List(item(DataType::Float64)), DataType::Utf8])
                .is_err()
        );
    }

    #[test]
    fn has_documentation() {
        assert!(TrendDirectionFunc::new().documentation().is_some());
    }
}
