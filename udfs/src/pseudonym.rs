//! `pseudonym(value, key)`: keyed, deterministic pseudonymisation
//! (lowercase hex HMAC-SHA256).

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, LargeStringArray, StringArray, StringBuilder, StringViewArray,
    new_null_array,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::types::logical_string;
use datafusion::common::utils::take_function_args;
use datafusion::common::{exec_datafusion_err, exec_err, internal_datafusion_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    Coercion, ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    TypeSignatureClass, Volatility,
};
use datafusion_macros::user_doc;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::util::{all_scalar, row_count, to_columnar};

type HmacSha256 = Hmac<Sha256>;

/// Length of a pseudonym: 32 bytes of HMAC-SHA256 as lowercase hex.
pub const PSEUDONYM_LEN: usize = 64;

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// `pseudonym(value UTF8, key UTF8) -> UTF8`.
///
/// Returns the 64-character lowercase hex encoding of
/// `HMAC-SHA256(key, value)`: `key` is the HMAC key and the UTF-8 bytes of
/// `value` are the message. The same value and key always give the same
/// pseudonym, so pseudonymised columns can still be joined and grouped, but
/// the value cannot be recovered or brute-forced without the key.
///
/// Both arguments accept `Utf8`, `LargeUtf8` and `Utf8View` (as produced by
/// the Parquet reader); the result is always `Utf8`. NULL if either argument
/// is NULL. With a constant key (the normal case) the HMAC key schedule is
/// computed once per batch and cloned for every row.
#[user_doc(
    doc_section(label = "Hashing Functions"),
    description = "Returns the lowercase hexadecimal HMAC-SHA256 of `value` keyed with `key`: a deterministic 64-character pseudonym that cannot be reversed without the key. Returns NULL if either argument is NULL.",
    syntax_example = "pseudonym(value, key)",
    sql_example = r#"```sql
> SELECT pseudonym('what do ya want for nothing?', 'Jefe');
+------------------------------------------------------------------+
| pseudonym(Utf8("what do ya want for nothing?"),Utf8("Jefe"))     |
+------------------------------------------------------------------+
| 5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843 |
+------------------------------------------------------------------+
```"#,
    argument(
        name = "value",
        description = "String to pseudonymise (the HMAC message)."
    ),
    argument(
        name = "key",
        description = "Secret key (the HMAC key). Usually a constant supplied by the job configuration."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PseudonymFunc {
    signature: Signature,
}

impl Default for PseudonymFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl PseudonymFunc {
    /// Creates the function with its `(string, string)` signature.
    pub fn new() -> Self {
        let string = Coercion::new_exact(TypeSignatureClass::Native(logical_string()));
        Self {
            signature: Signature::coercible(vec![string.clone(), string], Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for PseudonymFunc {
    fn name(&self) -> &str {
        "pseudonym"
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

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let len = row_count(self.name(), &args.args)?;
        let scalar = all_scalar(&args.args);
        let [value, key] = take_function_args(self.name(), &args.args)?;
        let value = StringArg::try_new(value)?;
        let key = StringArg::try_new(key)?;
        let result = pseudonym(len, &value, &key)?;
        to_columnar(result, scalar)
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

/// The string representations accepted without copying.
enum Strings {
    Utf8(StringArray),
    LargeUtf8(LargeStringArray),
    Utf8View(StringViewArray),
}

/// A string argument: a column, or a constant broadcast to every row.
struct StringArg {
    strings: Strings,
    scalar: bool,
}

impl StringArg {
    fn try_new(value: &ColumnarValue) -> Result<Self> {
        let (array, scalar) = match value {
            ColumnarValue::Array(array) => (Arc::clone(array), false),
            ColumnarValue::Scalar(scalar) => (scalar.to_array_of_size(1)?, true),
        };
        let strings = match array.data_type() {
            DataType::Utf8 => Strings::Utf8(array.as_string::<i32>().clone()),
            DataType::LargeUtf8 => Strings::LargeUtf8(array.as_string::<i64>().clone()),
            DataType::Utf8View => Strings::Utf8View(array.as_string_view().clone()),
            // NULL literals and dictionary-encoded strings (only reachable when
            // the function is invoked without planner coercion)
            DataType::Null | DataType::Dictionary(..) => {
                let casted = cast(&array, &DataType::Utf8)?;
                Strings::Utf8(casted.as_string::<i32>().clone())
            }
            other => return exec_err!("pseudonym: unsupported argument type {other}"),
        };
        Ok(Self { strings, scalar })
    }

    /// Row `i`'s string, `None` if NULL. `i` must be below the row count.
    #[inline]
    fn get(&self, i: usize) -> Option<&str> {
        let i = if self.scalar { 0 } else { i };
        match &self.strings {
            Strings::Utf8(a) => a.is_valid(i).then(|| a.value(i)),
            Strings::LargeUtf8(a) => a.is_valid(i).then(|| a.value(i)),
            Strings::Utf8View(a) => a.is_valid(i).then(|| a.value(i)),
        }
    }

    fn is_null_scalar(&self) -> bool {
        self.scalar && self.get(0).is_none()
    }
}

fn keyed(key: &str) -> Result<HmacSha256> {
    HmacSha256::new_from_slice(key.as_bytes())
        .map_err(|e| exec_datafusion_err!("pseudonym: invalid HMAC key: {e}"))
}

/// HMAC every row into a pre-sized builder. Per row this clones the keyed
/// HMAC state (plain stack memory) and hex-encodes the tag into a stack
/// buffer, so the hot loop performs no heap allocation.
fn pseudonym(len: usize, value: &StringArg, key: &StringArg) -> Result<ArrayRef> {
    if value.is_null_scalar() || key.is_null_scalar() {
        return Ok(new_null_array(&DataType::Utf8, len));
    }
    // a constant key: run the key schedule once
    let constant_key = match (key.scalar, key.get(0)) {
        (true, Some(k)) => Some(keyed(k)?),
        _ => None,
    };
    let mut builder = StringBuilder::with_capacity(len, len * PSEUDONYM_LEN);
    let mut hex = [0u8; PSEUDONYM_LEN];
    for i in 0..len {
        let (Some(v), Some(k)) = (value.get(i), key.get(i)) else {
            builder.append_null();
            continue;
        };
        let mut mac = match &constant_key {
            Some(mac) => mac.clone(),
            None => keyed(k)?,
        };
        mac.update(v.as_bytes());
        let tag = mac.finalize().into_bytes();
        for (pair, byte) in hex.chunks_exact_mut(2).zip(tag.iter()) {
            pair[0] = HEX_DIGITS[usize::from(byte >> 4)];
            pair[1] = HEX_DIGITS[usize::from(byte & 0x0f)];
        }
        let hex = std::str::from_utf8(&hex)
            .map_err(|e| internal_datafusion_err!("pseudonym: hex encoding: {e}"))?;
        builder.append_value(hex);
    }
    Ok(Arc::new(builder.finish()))
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::datatypes::Field;
    use datafusion::common::ScalarValue;
    use datafusion::common::config::ConfigOptions;

    use super::*;

    // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?"
    const RFC4231_2: &str = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
    // RFC 4231 test case 1: key = 0x0b × 20 (valid UTF-8), data "Hi There"
    const RFC4231_1: &str = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7";
    // HMAC-SHA256 with an empty key and empty message
    // (checked with Python: hmac.new(b"", b"", hashlib.sha256).hexdigest())
    const EMPTY_EMPTY: &str = "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad";

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
        PseudonymFunc::new().invoke_with_args(ScalarFunctionArgs {
            args,
            arg_fields,
            number_rows,
            return_field: Field::new("f", DataType::Utf8, true).into(),
            config_options: Arc::new(ConfigOptions::default()),
        })
    }

    fn utf8(v: &str) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Utf8(Some(v.to_owned())))
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

    #[test]
    fn rfc4231_vectors() {
        let values: ArrayRef = Arc::new(StringArray::from(vec![
            Some("what do ya want for nothing?"),
            None,
        ]));
        let out = invoke(vec![ColumnarValue::Array(values), utf8("Jefe")]).unwrap();
        assert_eq!(strings(out), vec![Some(RFC4231_2.to_owned()), None]);

        let key = "\u{0b}".repeat(20);
        let out = invoke(vec![utf8("Hi There"), utf8(&key)]).unwrap();
        assert!(
            matches!(&out, ColumnarValue::Scalar(ScalarValue::Utf8(Some(v))) if v == RFC4231_1),
            "{out:?}"
        );

        let out = invoke(vec![utf8(""), utf8("")]).unwrap();
        assert!(
            matches!(&out, ColumnarValue::Scalar(ScalarValue::Utf8(Some(v))) if v == EMPTY_EMPTY),
            "{out:?}"
        );
    }

    #[test]
    fn all_string_representations() {
        let large: ArrayRef =
            Arc::new(LargeStringArray::from(vec!["what do ya want for nothing?"]));
        let view: ArrayRef = Arc::new(StringViewArray::from(vec!["what do ya want for nothing?"]));
        for values in [large, view] {
            let out = invoke(vec![
                ColumnarValue::Array(values),
                ColumnarValue::Scalar(ScalarValue::Utf8View(Some("Jefe".into()))),
            ])
            .unwrap();
            assert_eq!(strings(out), vec![Some(RFC4231_2.to_owned())]);
        }
    }

    #[test]
    fn per_row_keys() {
        let values: ArrayRef = Arc::new(StringArray::from(vec![
            "what do ya want for nothing?",
            "Hi There",
            "x",
        ]));
        let keys: ArrayRef = Arc::new(LargeStringArray::from(vec![
            Some("Jefe".to_owned()),
            Some("\u{0b}".repeat(20)),
            None,
        ]));
        let out = invoke(vec![
            ColumnarValue::Array(values),
            ColumnarValue::Array(keys),
        ])
        .unwrap();
        assert_eq!(
            strings(out),
            vec![Some(RFC4231_2.to_owned()), Some(RFC4231_1.to_owned()), None]
        );
    }

    #[test]
    fn nulls() {
        let out = invoke(vec![
            ColumnarValue::Scalar(ScalarValue::Utf8(None)),
            utf8("k"),
        ])
        .unwrap();
        assert!(
            matches!(out, ColumnarValue::Scalar(ScalarValue::Utf8(None))),
            "{out:?}"
        );

        let values: ArrayRef = Arc::new(StringArray::from(vec!["a", "b"]));
        let out = invoke(vec![
            ColumnarValue::Array(values),
            ColumnarValue::Scalar(ScalarValue::Utf8(None)),
        ])
        .unwrap();
        assert_eq!(strings(out), vec![None, None]);

        let out = invoke(vec![ColumnarValue::Scalar(ScalarValue::Null), utf8("k")]).unwrap();
        assert!(
            matches!(out, ColumnarValue::Scalar(ScalarValue::Utf8(None))),
            "{out:?}"
        );
    }

    #[test]
    fn empty_input() {
        let values: ArrayRef = Arc::new(StringArray::from(Vec::<&str>::new()));
        let out = invoke(vec![ColumnarValue::Array(values), utf8("Jefe")]).unwrap();
        assert!(strings(out).is_empty());
    }

    #[test]
    fn deterministic_and_key_dependent() {
        let values: ArrayRef = Arc::new(StringArray::from(vec![
            "driver-17",
            "driver-17",
            "driver-18",
        ]));
        let a =
            strings(invoke(vec![ColumnarValue::Array(Arc::clone(&values)), utf8("k1")]).unwrap());
        let b = strings(invoke(vec![ColumnarValue::Array(values), utf8("k2")]).unwrap());
        assert_eq!(a[0], a[1]);
        assert_ne!(a[0], a[2]);
        assert_ne!(a[0], b[0]);
        for v in a.iter().chain(&b).flatten() {
            assert_eq!(v.len(), PSEUDONYM_LEN);
            assert!(
                v.bytes()
                    .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
            );
        }
    }

    #[test]
    fn large_array() {
        let n = 100_000;
        let values: StringArray = (0..n)
            .map(|i| match i {
                7 => Some("what do ya want for nothing?".to_owned()),
                i if i % 10 == 3 => None,
                i => Some(format!("user-{i}")),
            })
            .collect();
        let out = invoke(vec![ColumnarValue::Array(Arc::new(values)), utf8("Jefe")]).unwrap();
        let out = strings(out);
        assert_eq!(out.len(), n);
        assert_eq!(out.iter().filter(|v| v.is_none()).count(), n / 10);
        assert_eq!(out[7].as_deref(), Some(RFC4231_2));
        assert_eq!(out[3], None);
        // the last row agrees with the same HMAC computed on its own
        let mut mac = HmacSha256::new_from_slice(b"Jefe").unwrap();
        mac.update(b"user-99999");
        let expected: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(out[99_999].as_deref(), Some(expected.as_str()));
    }

    #[test]
    fn rejects_non_strings_when_invoked_directly() {
        let values: ArrayRef = Arc::new(datafusion::arrow::array::Int64Array::from(vec![1]));
        assert!(invoke(vec![ColumnarValue::Array(values), utf8("k")]).is_err());
    }

    #[test]
    fn has_documentation() {
        assert!(PseudonymFunc::new().documentation().is_some());
    }
}
