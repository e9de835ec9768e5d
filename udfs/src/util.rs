//! Helpers shared by the kernels: argument normalisation, row counting,
//! null-mask arithmetic and result packaging.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, PrimitiveArray, new_null_array,
};
use datafusion::arrow::buffer::{BooleanBuffer, NullBuffer, ScalarBuffer};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{ArrowPrimitiveType, DataType, Float64Type};
use datafusion::common::{Result, ScalarValue, exec_err, internal_err};
use datafusion::logical_expr::ColumnarValue;

/// The rows of `flags` that are true and not NULL, as bits.
pub(crate) fn true_bits(flags: &BooleanArray) -> BooleanBuffer {
    match flags.nulls() {
        Some(nulls) => flags.values() & nulls.inner(),
        None => flags.values().clone(),
    }
}

/// Number of rows to produce for `args`: the common length of the array
/// arguments, or 1 when every argument is a scalar.
///
/// Errors (instead of panicking later) if array arguments disagree in length.
pub(crate) fn row_count(name: &str, args: &[ColumnarValue]) -> Result<usize> {
    let mut len = None;
    for arg in args {
        if let ColumnarValue::Array(array) = arg {
            match len {
                None => len = Some(array.len()),
                Some(n) if n == array.len() => {}
                Some(n) => {
                    return internal_err!(
                        "{name}: array arguments have different lengths ({n} and {})",
                        array.len()
                    );
                }
            }
        }
    }
    Ok(len.unwrap_or(1))
}

/// True when no argument is an array, i.e. the call must produce a scalar.
pub(crate) fn all_scalar(args: &[ColumnarValue]) -> bool {
    args.iter()
        .all(|arg| matches!(arg, ColumnarValue::Scalar(_)))
}

/// Wraps a kernel result: a scalar when every input was a scalar (the kernel
/// then ran over exactly one row), otherwise the array itself.
pub(crate) fn to_columnar(result: ArrayRef, all_scalar: bool) -> Result<ColumnarValue> {
    if all_scalar {
        Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
            &result, 0,
        )?))
    } else {
        Ok(ColumnarValue::Array(result))
    }
}

/// Drops a validity buffer that marks nothing as NULL.
pub(crate) fn normalize_nulls(nulls: Option<NullBuffer>) -> Option<NullBuffer> {
    nulls.filter(|n| n.null_count() > 0)
}

/// Returns `array` as a `PrimitiveArray<T>`: a cheap (reference-counted)
/// clone when it already has type `T`, otherwise a cast.
///
/// After planning, DataFusion has already coerced the arguments, so the cast
/// only runs when a function is invoked directly with other numeric types.
/// Non-numeric input is rejected rather than silently turned into NULLs.
pub(crate) fn coerce_primitive<T: ArrowPrimitiveType>(
    name: &str,
    array: &ArrayRef,
) -> Result<PrimitiveArray<T>> {
    if let Some(typed) = array.as_primitive_opt::<T>() {
        return Ok(typed.clone());
    }
    let data_type = array.data_type();
    if !(data_type.is_numeric() || data_type.is_null()) {
        return exec_err!("{name}: unsupported argument type {data_type}, expected a number");
    }
    let casted = cast(array, &T::DATA_TYPE)?;
    match casted.as_primitive_opt::<T>() {
        Some(typed) => Ok(typed.clone()),
        None => internal_err!("{name}: cast to {} failed", T::DATA_TYPE),
    }
}

/// One primitive argument of a function call: either a column, or a constant
/// held as a one-element array and broadcast to every row.
pub(crate) struct PrimitiveArg<T: ArrowPrimitiveType> {
    array: PrimitiveArray<T>,
    scalar: bool,
}

impl<T: ArrowPrimitiveType> PrimitiveArg<T> {
    /// Normalises `value` to `T` (see [`coerce_primitive`]).
    pub(crate) fn try_new(name: &str, value: &ColumnarValue) -> Result<Self> {
        match value {
            ColumnarValue::Array(array) => Ok(Self {
                array: coerce_primitive(name, array)?,
                scalar: false,
            }),
            ColumnarValue::Scalar(scalar) => Ok(Self {
                array: coerce_primitive(name, &scalar.to_array_of_size(1)?)?,
                scalar: true,
            }),
        }
    }

    /// The value for row `i`; meaningless (but harmless) for NULL rows.
    ///
    /// `i` must be below the row count checked by [`row_count`].
    #[inline]
    pub(crate) fn value(&self, i: usize) -> T::Native {
        self.array.values()[if self.scalar { 0 } else { i }]
    }

    /// True when row `i` is NULL.
    #[inline]
    pub(crate) fn is_null(&self, i: usize) -> bool {
        self.array.is_null(if self.scalar { 0 } else { i })
    }

    /// True for a NULL constant, which makes the whole result NULL.
    pub(crate) fn is_null_scalar(&self) -> bool {
        self.scalar && self.array.is_null(0)
    }

    /// The validity of a column argument (`None` for constants and columns
    /// without NULLs).
    pub(crate) fn nulls(&self) -> Option<&NullBuffer> {
        if self.scalar {
            None
        } else {
            self.array.nulls()
        }
    }
}

/// Element-wise `f(a, b)` over `len` rows, NULL where either input is NULL or
/// where `in_domain(a, b)` is false.
///
/// Values and the domain mask are computed in two tight, branch-free passes;
/// the validity buffers of the inputs are combined with bitwise AND.
pub(crate) fn binary_masked<A, B, F, D>(
    len: usize,
    a: &PrimitiveArg<A>,
    b: &PrimitiveArg<B>,
    f: F,
    in_domain: D,
) -> ArrayRef
where
    A: ArrowPrimitiveType,
    B: ArrowPrimitiveType,
    F: Fn(A::Native, B::Native) -> f64,
    D: Fn(A::Native, B::Native) -> bool,
{
    if a.is_null_scalar() || b.is_null_scalar() {
        return new_null_array(&DataType::Float64, len);
    }
    let values: ScalarBuffer<f64> = (0..len).map(|i| f(a.value(i), b.value(i))).collect();
    let domain = NullBuffer::new(BooleanBuffer::collect_bool(len, |i| {
        in_domain(a.value(i), b.value(i))
    }));
    let nulls = NullBuffer::union(
        NullBuffer::union(a.nulls(), b.nulls()).as_ref(),
        Some(&domain),
    );
    Arc::new(Float64Array::new(values, normalize_nulls(nulls)))
}

/// Element-wise `f([a0, a1, …])` over `N` DOUBLE arguments and `len` rows,
/// NULL where any input is NULL.
pub(crate) fn nary_f64<const N: usize, F>(
    len: usize,
    args: [&PrimitiveArg<Float64Type>; N],
    f: F,
) -> ArrayRef
where
    F: Fn([f64; N]) -> f64,
{
    if args.iter().any(|arg| arg.is_null_scalar()) {
        return new_null_array(&DataType::Float64, len);
    }
    let values: ScalarBuffer<f64> = (0..len)
        .map(|i| f(std::array::from_fn(|k| args[k].value(i))))
        .collect();
    let nulls = args.iter().fold(None, |acc: Option<NullBuffer>, arg| {
        NullBuffer::union(acc.as_ref(), arg.nulls())
    });
    Arc::new(Float64Array::new(values, normalize_nulls(nulls)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Int64Array;
    use datafusion::arrow::datatypes::Int64Type;

    #[test]
    fn row_count_rejects_mismatched_arrays() {
        let a = ColumnarValue::Array(Arc::new(Int64Array::from(vec![1, 2])));
        let b = ColumnarValue::Array(Arc::new(Int64Array::from(vec![1])));
        assert!(row_count("f", &[a, b]).is_err());
    }

    #[test]
    fn row_count_of_scalars_is_one() {
        let a = ColumnarValue::Scalar(ScalarValue::Int64(Some(1)));
        assert_eq!(row_count("f", &[a]).unwrap(), 1);
    }

    #[test]
    fn coerce_rejects_strings() {
        let a: ArrayRef = Arc::new(datafusion::arrow::array::StringArray::from(vec!["x"]));
        assert!(coerce_primitive::<Int64Type>("f", &a).is_err());
    }

    #[test]
    fn coerce_casts_numbers_and_nulls() {
        let a: ArrayRef = Arc::new(Int64Array::from(vec![Some(3), None]));
        let f = coerce_primitive::<Float64Type>("f", &a).unwrap();
        assert_eq!(f.value(0), 3.0);
        assert!(f.is_null(1));
        let n = new_null_array(&DataType::Null, 2);
        assert_eq!(
            coerce_primitive::<Float64Type>("f", &n)
                .unwrap()
                .null_count(),
            2
        );
    }
}
