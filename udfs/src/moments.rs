//! `moments(x)`: an aggregate giving a measure's count, sum, sum of squares,
//! smallest and largest value in one pass — what a mean, a variance and (grouped
//! by a second variable) a correlation are computed from.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array, StructArray,
};
use datafusion::arrow::buffer::{BooleanBuffer, NullBuffer};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields, Float64Type, Int64Type};
use datafusion::common::{ScalarValue, exec_err};
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, EmitTo, GroupsAccumulator, Signature, Volatility,
};
use datafusion_macros::user_doc;

use crate::util::true_bits;

/// The names of the fields of `moments`' result (and of its state), in order.
const FIELDS: [&str; 5] = ["n", "sum", "sum_sq", "min", "max"];

/// The key of `x` in IEEE 754 total order (as `f64::total_cmp` orders): keys compare as
/// integers in the order of their values, so a running minimum or maximum is an integer `min` or
/// `max`, without a branch per row. The mapping is its own inverse.
#[inline]
fn total_order_key(bits: i64) -> i64 {
    bits ^ ((((bits >> 63) as u64) >> 1) as i64)
}

/// `x` as its [`total_order_key`].
#[inline]
fn key_of(x: f64) -> i64 {
    total_order_key(x.to_bits() as i64)
}

/// The value whose [`total_order_key`] is `key`.
#[inline]
fn value_of(key: i64) -> f64 {
    f64::from_bits(total_order_key(key) as u64)
}

/// `moments(x DOUBLE) -> STRUCT<n BIGINT, sum DOUBLE, sum_sq DOUBLE, min DOUBLE, max DOUBLE>`.
///
/// The same values as `COUNT(x)`, `SUM(x)`, `SUM(x * x)`, `MIN(x)` and
/// `MAX(x)` (NULL values skipped; `n` is 0 and the others NULL when there are
/// none), each value added in the same order, but in one aggregate: one visit
/// of each row instead of five, and no array of squares. Never NULL itself.
/// Minimum and maximum follow IEEE 754 total order (`f64::total_cmp`, as
/// DataFusion's MIN and MAX compare), from the first value: DataFusion 55's
/// grouped MIN and MAX start from ±`f64::MAX` instead, so a group holding only
/// `+inf` and NaN gets `f64::MAX` as its MIN there and `+inf` here.
#[user_doc(
    doc_section(label = "General Functions"),
    description = "Returns the count, sum, sum of squares, minimum and maximum of the non-NULL values of a numeric expression, as a struct with fields n, sum, sum_sq, min and max (n is 0 and the others NULL when there is no value). The same as COUNT, SUM, SUM of the squares, MIN and MAX in one pass.",
    syntax_example = "moments(expression)",
    sql_example = r#"```sql
> SELECT moments(x)['n'] AS n, moments(x)['sum_sq'] AS sum_sq FROM (VALUES (1.0), (NULL), (3.0)) AS t(x);
+---+--------+
| n | sum_sq |
+---+--------+
| 2 | 10.0   |
+---+--------+
```"#,
    argument(
        name = "expression",
        description = "A numeric expression (cast to DOUBLE), for example a weather measure."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct MomentsFunc {
    signature: Signature,
}

impl Default for MomentsFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl MomentsFunc {
    /// Creates the function: one argument, coerced to `Float64`.
    pub fn new() -> Self {
        Self {
            signature: Signature::uniform(1, vec![DataType::Float64], Volatility::Immutable),
        }
    }
}

/// The fields of the result: `n` never NULL, the others NULL without values.
fn result_fields() -> Fields {
    FIELDS
        .iter()
        .map(|name| match *name {
            "n" => Field::new(*name, DataType::Int64, false),
            _ => Field::new(*name, DataType::Float64, true),
        })
        .collect()
}

impl AggregateUDFImpl for MomentsFunc {
    fn name(&self) -> &str {
        "moments"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Struct(result_fields()))
    }

    fn is_nullable(&self) -> bool {
        false
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(result_fields()
            .iter()
            .map(|field| {
                Arc::new(
                    field
                        .as_ref()
                        .clone()
                        .with_name(format_state_name(args.name, field.name())),
                )
            })
            .collect())
    }

    fn accumulator(&self, _acc_args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(MomentsAccumulator(Moments::default())))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        _args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(MomentsGroups::default()))
    }

    fn default_value(&self, _data_type: &DataType) -> Result<ScalarValue> {
        Ok(Moments::default().to_scalar())
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

/// The moments of one group; the bounds as [`total_order_key`]s.
#[derive(Debug, Clone, Copy)]
struct Moments {
    n: i64,
    sum: f64,
    sum_sq: f64,
    min_key: i64,
    max_key: i64,
}

impl Default for Moments {
    fn default() -> Self {
        Self {
            n: 0,
            sum: 0.0,
            sum_sq: 0.0,
            min_key: i64::MAX,
            max_key: i64::MIN,
        }
    }
}

impl Moments {
    /// Adds value `x`.
    #[inline]
    fn add(&mut self, x: f64) {
        let key = key_of(x);
        self.n += 1;
        self.sum += x;
        self.sum_sq += x * x;
        self.min_key = self.min_key.min(key);
        self.max_key = self.max_key.max(key);
    }

    /// Adds the moments `other` of other values (n of them).
    #[inline]
    fn merge(&mut self, other: Moments) {
        if other.n == 0 {
            return;
        }
        self.n += other.n;
        self.sum += other.sum;
        self.sum_sq += other.sum_sq;
        self.min_key = self.min_key.min(other.min_key);
        self.max_key = self.max_key.max(other.max_key);
    }

    /// The smallest value added.
    fn min(&self) -> f64 {
        value_of(self.min_key)
    }

    /// The largest value added.
    fn max(&self) -> f64 {
        value_of(self.max_key)
    }

    /// The result as a struct scalar.
    fn to_scalar(self) -> ScalarValue {
        let array = to_struct(&[self]);
        ScalarValue::Struct(Arc::new(array))
    }
}

/// The struct array of `moments` (one row each), NULL sum, min and max where n is 0.
fn to_struct(moments: &[Moments]) -> StructArray {
    let valid = NullBuffer::new(BooleanBuffer::collect_bool(moments.len(), |i| {
        moments[i].n > 0
    }));
    let valid = (valid.null_count() > 0).then_some(valid);
    let float = |value: fn(&Moments) -> f64| -> ArrayRef {
        Arc::new(Float64Array::new(
            moments.iter().map(value).collect(),
            valid.clone(),
        ))
    };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(moments.iter().map(|m| m.n))),
        float(|m| m.sum),
        float(|m| m.sum_sq),
        float(Moments::min),
        float(Moments::max),
    ];
    StructArray::new(result_fields(), columns, None)
}

/// The state columns of `moments`: the struct's fields.
fn to_state(moments: &[Moments]) -> Vec<ArrayRef> {
    to_struct(moments).columns().to_vec()
}

/// Calls `add(row, x)` for each value `x` of `values` that is not NULL and that `filter` keeps
/// (true, not NULL), in row order.
fn for_each_kept(
    values: &Float64Array,
    filter: Option<&BooleanArray>,
    mut add: impl FnMut(usize, f64),
) {
    let data = values.values();
    let nulls = values.logical_nulls().map(|nulls| nulls.into_inner());
    let kept = match (nulls, filter.map(true_bits)) {
        (None, None) => {
            data.iter().enumerate().for_each(|(row, &x)| add(row, x));
            return;
        }
        (Some(valid), None) => valid,
        (None, Some(passes)) => passes,
        (Some(valid), Some(passes)) => &valid & &passes,
    };
    kept.set_indices().for_each(|row| add(row, data[row]));
}

/// The `Float64` values of an argument.
fn float_values(values: &[ArrayRef]) -> Result<&Float64Array> {
    match values
        .first()
        .and_then(|v| v.as_primitive_opt::<Float64Type>())
    {
        Some(values) => Ok(values),
        None => exec_err!("moments expects one DOUBLE argument"),
    }
}

/// The state columns (n, sum, sum_sq, min, max) as one [`Moments`] per row.
fn state_rows(states: &[ArrayRef]) -> Result<Vec<Moments>> {
    let [n, sum, sum_sq, min, max] = states else {
        return exec_err!("moments' state has five columns, got {}", states.len());
    };
    let Some(n) = n.as_primitive_opt::<Int64Type>() else {
        return exec_err!("moments' state n is not BIGINT");
    };
    let floats = [sum, sum_sq, min, max]
        .map(|column| column.as_primitive_opt::<Float64Type>().map(|c| c.values()));
    let [Some(sum), Some(sum_sq), Some(min), Some(max)] = floats else {
        return exec_err!("moments' state sums and bounds are not DOUBLE");
    };
    Ok((0..n.len())
        .map(|row| Moments {
            n: if n.is_valid(row) { n.value(row) } else { 0 },
            sum: sum[row],
            sum_sq: sum_sq[row],
            min_key: key_of(min[row]),
            max_key: key_of(max[row]),
        })
        .collect())
}

/// `moments` of one group (an aggregate without GROUP BY, or a window).
#[derive(Debug)]
struct MomentsAccumulator(Moments);

impl Accumulator for MomentsAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        for_each_kept(float_values(values)?, None, |_, x| self.0.add(x));
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        for other in state_rows(states)? {
            self.0.merge(other);
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        to_state(&[self.0])
            .iter()
            .map(|column| ScalarValue::try_from_array(column, 0))
            .collect()
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(self.0.to_scalar())
    }

    fn size(&self) -> usize {
        size_of_val(self)
    }
}

/// `moments` of every group of a GROUP BY.
#[derive(Debug, Default)]
struct MomentsGroups {
    groups: Vec<Moments>,
}

impl MomentsGroups {
    /// The moments of groups `emit_to`, taken out of the accumulator.
    fn take(&mut self, emit_to: EmitTo) -> Vec<Moments> {
        emit_to.take_needed(&mut self.groups)
    }
}

impl GroupsAccumulator for MomentsGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        let values = float_values(values)?;
        self.groups.resize(total_num_groups, Moments::default());
        let groups = &mut self.groups;
        for_each_kept(values, opt_filter, |row, x| {
            groups[group_indices[row]].add(x)
        });
        Ok(())
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.groups.resize(total_num_groups, Moments::default());
        for (&group, other) in group_indices.iter().zip(state_rows(values)?) {
            self.groups[group].merge(other);
        }
        Ok(())
    }

    /// Each row as its own group: the moments of its one value (none when it is NULL or
    /// filtered out).
    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let values = float_values(values)?;
        let mut rows = vec![Moments::default(); values.len()];
        for_each_kept(values, opt_filter, |row, x| rows[row].add(x));
        Ok(to_state(&rows))
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        Ok(Arc::new(to_struct(&self.take(emit_to))))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        Ok(to_state(&self.take(emit_to)))
    }

    fn size(&self) -> usize {
        self.groups.capacity() * size_of::<Moments>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn floats(values: &[Option<f64>]) -> ArrayRef {
        Arc::new(Float64Array::from(values.to_vec()))
    }

    fn field(array: &StructArray, name: &str) -> ArrayRef {
        array.column_by_name(name).expect(name).clone()
    }

    #[test]
    fn groups_skip_nulls_and_filtered_rows_and_merge_their_states() {
        let mut partial = MomentsGroups::default();
        let values = floats(&[Some(1.0), None, Some(3.0), Some(-2.0), Some(5.0)]);
        let filter =
            BooleanArray::from(vec![Some(true), Some(true), Some(true), None, Some(false)]);
        partial
            .update_batch(&[values], &[0, 0, 0, 1, 1], Some(&filter), 3)
            .unwrap();
        let state = partial.state(EmitTo::All).unwrap();
        let mut total = MomentsGroups::default();
        total.merge_batch(&state, &[1, 0, 2], 3).unwrap();
        total
            .update_batch(&[floats(&[Some(2.0)])], &[1], None, 3)
            .unwrap();
        let result = total.evaluate(EmitTo::All).unwrap();
        let result = result.as_struct();
        let n = field(result, "n");
        assert_eq!(n.as_primitive::<Int64Type>().values().to_vec(), [0, 3, 0]);
        let sums = field(result, "sum");
        let sums = sums.as_primitive::<Float64Type>();
        assert!(sums.is_null(0) && sums.is_null(2));
        assert_eq!(sums.value(1), 6.0);
        let sum_sq = field(result, "sum_sq");
        assert_eq!(sum_sq.as_primitive::<Float64Type>().value(1), 14.0);
        let min = field(result, "min");
        let max = field(result, "max");
        assert_eq!(min.as_primitive::<Float64Type>().value(1), 1.0);
        assert_eq!(max.as_primitive::<Float64Type>().value(1), 3.0);
        assert!(min.is_null(0) && max.is_null(2));
    }

    #[test]
    fn min_and_max_follow_total_order_from_the_first_value() {
        let mut one = Moments::default();
        one.add(f64::INFINITY);
        assert_eq!((one.min(), one.max()), (f64::INFINITY, f64::INFINITY));
        let mut signed = Moments::default();
        signed.add(0.0);
        signed.add(-0.0);
        assert!(signed.min().is_sign_negative() && signed.max().is_sign_positive());
        let mut mixed = Moments::default();
        for x in [3.5, f64::NAN, -7.25, f64::NEG_INFINITY, 1e300] {
            mixed.add(x);
        }
        assert_eq!(mixed.min(), f64::NEG_INFINITY);
        assert!(mixed.max().is_nan());
        for x in [-0.0, 1.5, -2.0, f64::MAX, f64::MIN_POSITIVE, -f64::NAN] {
            assert_eq!(value_of(key_of(x)).to_bits(), x.to_bits(), "{x}");
        }
    }

    #[test]
    fn an_accumulator_without_values_gives_zero_and_nulls() {
        let mut accumulator = MomentsAccumulator(Moments::default());
        accumulator.update_batch(&[floats(&[None, None])]).unwrap();
        let ScalarValue::Struct(result) = accumulator.evaluate().unwrap() else {
            panic!("a struct");
        };
        assert_eq!(field(&result, "n").as_primitive::<Int64Type>().value(0), 0);
        for name in ["sum", "sum_sq", "min", "max"] {
            assert!(field(&result, name).is_null(0), "{name}");
        }
    }
}
