//! Arrow rows as bytes MySQL reads: tab-separated lines for `LOAD DATA` or `(...)` tuples for
//! `INSERT ... VALUES`, written straight into a caller's buffer (no allocation per value).
//!
//! TSV matches `FIELDS TERMINATED BY '\t' ESCAPED BY '\\' LINES TERMINATED BY '\n'`: NULL is `\N`;
//! backslash, tab, newline, carriage return and NUL are backslash-escaped. Both formats write
//! dates `YYYY-MM-DD`, timestamps `YYYY-MM-DD HH:MM:SS[.fff[fff]]` (UTC wall clock; nanoseconds
//! truncated to microseconds), booleans `0`/`1`, integers in decimal, floats as the shortest text
//! that parses back to the same value (integral ones as integers, others by `ryu`), and non-finite
//! floats (NaN, ±inf, which MySQL cannot store) as NULL. Decimals and dictionary-encoded strings are rendered through Arrow's cast to text.

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Date32Array, Date64Array, Float32Array, Float64Array,
    Int8Array, Int16Array, Int32Array, Int64Array, LargeStringArray, PrimitiveArray, RecordBatch,
    StringArray, StringViewArray, UInt8Array, UInt16Array, UInt32Array, UInt64Array,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, Int64Type, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};
use datafusion::arrow::error::ArrowError;

/// Which text the encoder writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowFormat {
    /// One `LOAD DATA` line per row: tab-separated fields, `\n` at the end.
    Tsv,
    /// One `(v1,v2,...)` tuple per row for `INSERT ... VALUES`.
    SqlValues,
}

/// How [`RowFormat::Tsv`] escapes each byte: the letter after the backslash, or 0 to copy it.
const TSV_ESCAPES: [u8; 256] = escape_table(&[
    (b'\\', b'\\'),
    (b'\t', b't'),
    (b'\n', b'n'),
    (b'\r', b'r'),
    (0, b'0'),
]);

/// How [`RowFormat::SqlValues`] escapes each byte inside a `'...'` literal.
const SQL_ESCAPES: [u8; 256] = escape_table(&[
    (b'\\', b'\\'),
    (b'\'', b'\''),
    (b'\n', b'n'),
    (b'\r', b'r'),
    (0, b'0'),
    (0x1a, b'Z'),
]);

const fn escape_table(pairs: &[(u8, u8)]) -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < pairs.len() {
        table[pairs[i].0 as usize] = pairs[i].1;
        i += 1;
    }
    table
}

/// One column of a batch, downcast once per batch.
enum Column {
    Bool(BooleanArray),
    I8(Int8Array),
    I16(Int16Array),
    I32(Int32Array),
    I64(Int64Array),
    U8(UInt8Array),
    U16(UInt16Array),
    U32(UInt32Array),
    U64(UInt64Array),
    F32(Float32Array),
    F64(Float64Array),
    Utf8(StringArray),
    LargeUtf8(LargeStringArray),
    View(StringViewArray),
    Date32(Date32Array),
    Date64(Date64Array),
    /// Timestamp values and how many of them make a second, plus the fraction digits to write.
    Timestamp(PrimitiveArray<Int64Type>, i64, usize),
}

impl Column {
    fn new(array: &ArrayRef) -> Result<Self, ArrowError> {
        Ok(match array.data_type() {
            DataType::Boolean => Column::Bool(array.as_boolean().clone()),
            DataType::Int8 => Column::I8(array.as_primitive().clone()),
            DataType::Int16 => Column::I16(array.as_primitive().clone()),
            DataType::Int32 => Column::I32(array.as_primitive().clone()),
            DataType::Int64 => Column::I64(array.as_primitive().clone()),
            DataType::UInt8 => Column::U8(array.as_primitive().clone()),
            DataType::UInt16 => Column::U16(array.as_primitive().clone()),
            DataType::UInt32 => Column::U32(array.as_primitive().clone()),
            DataType::UInt64 => Column::U64(array.as_primitive().clone()),
            DataType::Float16 => {
                Column::F32(cast(array, &DataType::Float32)?.as_primitive().clone())
            }
            DataType::Float32 => Column::F32(array.as_primitive().clone()),
            DataType::Float64 => Column::F64(array.as_primitive().clone()),
            DataType::Utf8 => Column::Utf8(array.as_string().clone()),
            DataType::LargeUtf8 => Column::LargeUtf8(array.as_string().clone()),
            DataType::Utf8View => Column::View(array.as_string_view().clone()),
            DataType::Date32 => Column::Date32(array.as_primitive().clone()),
            DataType::Date64 => Column::Date64(array.as_primitive().clone()),
            DataType::Timestamp(unit, _) => {
                let (per_second, digits) = match unit {
                    TimeUnit::Second => (1, 0),
                    TimeUnit::Millisecond => (1_000, 3),
                    TimeUnit::Microsecond => (1_000_000, 6),
                    TimeUnit::Nanosecond => (1_000_000_000, 6),
                };
                let values = match unit {
                    TimeUnit::Second => array
                        .as_primitive::<TimestampSecondType>()
                        .reinterpret_cast::<Int64Type>(),
                    TimeUnit::Millisecond => array
                        .as_primitive::<TimestampMillisecondType>()
                        .reinterpret_cast::<Int64Type>(),
                    TimeUnit::Microsecond => array
                        .as_primitive::<TimestampMicrosecondType>()
                        .reinterpret_cast::<Int64Type>(),
                    TimeUnit::Nanosecond => array
                        .as_primitive::<TimestampNanosecondType>()
                        .reinterpret_cast::<Int64Type>(),
                };
                Column::Timestamp(values, per_second, digits)
            }
            DataType::Decimal32(_, _)
            | DataType::Decimal64(_, _)
            | DataType::Decimal128(_, _)
            | DataType::Decimal256(_, _)
            | DataType::Dictionary(_, _) => {
                Column::Utf8(cast(array, &DataType::Utf8)?.as_string().clone())
            }
            other => {
                return Err(ArrowError::NotYetImplemented(format!(
                    "the MySQL sink cannot write {other} values"
                )));
            }
        })
    }

    fn array(&self) -> &dyn Array {
        match self {
            Column::Bool(a) => a,
            Column::I8(a) => a,
            Column::I16(a) => a,
            Column::I32(a) => a,
            Column::I64(a) => a,
            Column::U8(a) => a,
            Column::U16(a) => a,
            Column::U32(a) => a,
            Column::U64(a) => a,
            Column::F32(a) => a,
            Column::F64(a) => a,
            Column::Utf8(a) => a,
            Column::LargeUtf8(a) => a,
            Column::View(a) => a,
            Column::Date32(a) => a,
            Column::Date64(a) => a,
            Column::Timestamp(a, _, _) => a,
        }
    }
}

/// Writes the rows of one batch in one [`RowFormat`].
pub struct RowEncoder {
    columns: Vec<Column>,
    format: RowFormat,
}

impl RowEncoder {
    /// An encoder for `batch`'s rows.
    pub fn new(batch: &RecordBatch, format: RowFormat) -> Result<Self, ArrowError> {
        let columns = batch
            .columns()
            .iter()
            .map(Column::new)
            .collect::<Result<_, _>>()?;
        Ok(Self { columns, format })
    }

    /// Appends row `row` to `out`: a TSV line, or a `(...)` tuple.
    pub fn encode_row(&self, row: usize, out: &mut Vec<u8>) {
        let (open, separator, close) = match self.format {
            RowFormat::Tsv => (None, b'\t', b'\n'),
            RowFormat::SqlValues => (Some(b'('), b',', b')'),
        };
        if let Some(open) = open {
            out.push(open);
        }
        for (i, column) in self.columns.iter().enumerate() {
            if i > 0 {
                out.push(separator);
            }
            self.encode_value(column, row, out);
        }
        out.push(close);
    }

    fn null(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(match self.format {
            RowFormat::Tsv => b"\\N",
            RowFormat::SqlValues => b"NULL",
        });
    }

    fn text(&self, bytes: &[u8], out: &mut Vec<u8>) {
        match self.format {
            RowFormat::Tsv => escape(bytes, &TSV_ESCAPES, out),
            RowFormat::SqlValues => {
                out.push(b'\'');
                escape(bytes, &SQL_ESCAPES, out);
                out.push(b'\'');
            }
        }
    }

    /// Writes a value that is quoted in SQL but not in TSV (dates and timestamps).
    fn quoted(&self, out: &mut Vec<u8>, write: impl FnOnce(&mut Vec<u8>)) {
        let quote = self.format == RowFormat::SqlValues;
        if quote {
            out.push(b'\'');
        }
        write(out);
        if quote {
            out.push(b'\'');
        }
    }

    fn encode_value(&self, column: &Column, row: usize, out: &mut Vec<u8>) {
        if column.array().is_null(row) {
            return self.null(out);
        }
        let mut ints = itoa::Buffer::new();
        let mut floats = ryu::Buffer::new();
        match column {
            Column::Bool(a) => out.push(if a.value(row) { b'1' } else { b'0' }),
            Column::I8(a) => out.extend_from_slice(ints.format(a.value(row)).as_bytes()),
            Column::I16(a) => out.extend_from_slice(ints.format(a.value(row)).as_bytes()),
            Column::I32(a) => out.extend_from_slice(ints.format(a.value(row)).as_bytes()),
            Column::I64(a) => out.extend_from_slice(ints.format(a.value(row)).as_bytes()),
            Column::U8(a) => out.extend_from_slice(ints.format(a.value(row)).as_bytes()),
            Column::U16(a) => out.extend_from_slice(ints.format(a.value(row)).as_bytes()),
            Column::U32(a) => out.extend_from_slice(ints.format(a.value(row)).as_bytes()),
            Column::U64(a) => out.extend_from_slice(ints.format(a.value(row)).as_bytes()),
            Column::F32(a) => {
                let v = a.value(row);
                if v.is_finite() {
                    out.extend_from_slice(floats.format_finite(v).as_bytes());
                } else {
                    self.null(out);
                }
            }
            Column::F64(a) => {
                let v = a.value(row);
                if let Some(integral) = exact_integer(v) {
                    out.extend_from_slice(ints.format(integral).as_bytes());
                } else if v.is_finite() {
                    out.extend_from_slice(floats.format_finite(v).as_bytes());
                } else {
                    self.null(out);
                }
            }
            Column::Utf8(a) => self.text(a.value(row).as_bytes(), out),
            Column::LargeUtf8(a) => self.text(a.value(row).as_bytes(), out),
            Column::View(a) => self.text(a.value(row).as_bytes(), out),
            Column::Date32(a) => {
                let days = i64::from(a.value(row));
                self.quoted(out, |out| write_date(days, out));
            }
            Column::Date64(a) => {
                let days = a.value(row).div_euclid(86_400_000);
                self.quoted(out, |out| write_date(days, out));
            }
            Column::Timestamp(a, per_second, digits) => {
                let (value, per_second, digits) = (a.value(row), *per_second, *digits);
                self.quoted(out, |out| write_timestamp(value, per_second, digits, out));
            }
        }
    }
}

/// `v` as an integer when it is one that parses back to the same double (nonzero, below 2^53 in
/// magnitude): written with `itoa`, several times cheaper than the shortest float text (scores and
/// counts held as doubles are integral). Zero keeps `ryu`'s `0.0` / `-0.0`, which keep the sign.
fn exact_integer(v: f64) -> Option<i64> {
    const LIMIT: f64 = 9_007_199_254_740_992.0; // 2^53
    (v != 0.0 && v.abs() < LIMIT && v.trunc() == v).then_some(v as i64)
}

/// Copies `bytes` to `out`, backslash-escaping the bytes `table` names.
fn escape(bytes: &[u8], table: &[u8; 256], out: &mut Vec<u8>) {
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escaped = table[usize::from(b)];
        if escaped != 0 {
            out.extend_from_slice(&bytes[start..i]);
            out.push(b'\\');
            out.push(escaped);
            start = i + 1;
        }
    }
    out.extend_from_slice(&bytes[start..]);
}

/// The (year, month, day) of a day count since 1970-01-01 (proleptic Gregorian).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Howard Hinnant's days_from_civil inverse.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The day (since 1970-01-01) of a timestamp of `per_second` units per second.
pub fn days_of_timestamp(value: i64, per_second: i64) -> i64 {
    value.div_euclid(per_second * 86_400)
}

fn two_digits(value: u32, out: &mut Vec<u8>) {
    out.push(b'0' + (value / 10 % 10) as u8);
    out.push(b'0' + (value % 10) as u8);
}

fn write_date(days: i64, out: &mut Vec<u8>) {
    let (year, month, day) = civil_from_days(days);
    if (0..=9999).contains(&year) {
        let year = year as u32;
        two_digits(year / 100, out);
        two_digits(year % 100, out);
    } else {
        // out of MySQL's range: the server rejects it and the load fails with its warning
        out.extend_from_slice(itoa::Buffer::new().format(year).as_bytes());
    }
    out.push(b'-');
    two_digits(month, out);
    out.push(b'-');
    two_digits(day, out);
}

fn write_timestamp(value: i64, per_second: i64, digits: usize, out: &mut Vec<u8>) {
    let seconds = value.div_euclid(per_second);
    let fraction = value.rem_euclid(per_second);
    write_date(seconds.div_euclid(86_400), out);
    let in_day = seconds.rem_euclid(86_400) as u32;
    out.push(b' ');
    two_digits(in_day / 3_600, out);
    out.push(b':');
    two_digits(in_day / 60 % 60, out);
    out.push(b':');
    two_digits(in_day % 60, out);
    if digits > 0 {
        // scale the fraction to `digits` digits (nanoseconds are truncated to microseconds)
        let mut scaled = fraction;
        let mut units = per_second;
        while units > 10_i64.pow(digits as u32) {
            scaled /= 10;
            units /= 10;
        }
        out.push(b'.');
        let mut buffer = itoa::Buffer::new();
        let text = buffer.format(scaled);
        out.extend(std::iter::repeat_n(b'0', digits.saturating_sub(text.len())));
        out.extend_from_slice(text.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use datafusion::arrow::array::{
        Decimal128Array, TimestampMicrosecondArray, TimestampMillisecondArray,
        TimestampNanosecondArray, TimestampSecondArray,
    };
    use datafusion::arrow::datatypes::{Field, Schema};

    fn encode(columns: Vec<ArrayRef>, format: RowFormat) -> String {
        let fields: Vec<Field> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| Field::new(format!("c{i}"), c.data_type().clone(), true))
            .collect();
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
        let encoder = RowEncoder::new(&batch, format).unwrap();
        let mut out = Vec::new();
        for row in 0..batch.num_rows() {
            encoder.encode_row(row, &mut out);
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn strings_are_escaped_and_nulls_are_backslash_n() {
        let text: ArrayRef = Arc::new(StringArray::from(vec![
            Some("plain"),
            Some("tab\there"),
            Some("line\nbreak\r"),
            Some("back\\slash \\N"),
            Some("nul\0"),
            Some(""),
            None,
        ]));
        let view: ArrayRef = Arc::new(StringViewArray::from(vec![
            Some("a view string longer than twelve bytes\t!"),
            Some("short"),
            None,
            Some("x"),
            Some("y"),
            Some("z"),
            Some("é"),
        ]));
        assert_eq!(
            encode(vec![text, view], RowFormat::Tsv),
            "plain\ta view string longer than twelve bytes\\t!\n\
             tab\\there\tshort\n\
             line\\nbreak\\r\t\\N\n\
             back\\\\slash \\\\N\tx\n\
             nul\\0\ty\n\
             \tz\n\
             \\N\té\n"
        );
    }

    #[test]
    fn sql_values_quote_and_escape() {
        let text: ArrayRef = Arc::new(StringArray::from(vec![Some("it's \\ ok"), None]));
        let ints: ArrayRef = Arc::new(Int32Array::from(vec![Some(-7), Some(8)]));
        let dates: ArrayRef = Arc::new(Date32Array::from(vec![Some(0), None]));
        assert_eq!(
            encode(vec![text, ints, dates], RowFormat::SqlValues),
            "('it\\'s \\\\ ok',-7,'1970-01-01')(NULL,8,NULL)"
        );
    }

    #[test]
    fn numbers_dates_and_booleans() {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(vec![i64::MIN, 0])),
            Arc::new(UInt64Array::from(vec![u64::MAX, 1])),
            Arc::new(Int8Array::from(vec![-128, 127])),
            Arc::new(BooleanArray::from(vec![Some(true), Some(false)])),
            // 2016-02-29 is day 16860; -1 is 1969-12-31
            Arc::new(Date32Array::from(vec![16_860, -1])),
            Arc::new(Date64Array::from(vec![16_860 * 86_400_000, 0])),
            Arc::new(
                Decimal128Array::from(vec![12_345, -5])
                    .with_precision_and_scale(10, 2)
                    .unwrap(),
            ),
        ];
        assert_eq!(
            encode(columns, RowFormat::Tsv),
            "-9223372036854775808\t18446744073709551615\t-128\t1\t2016-02-29\t2016-02-29\t123.45\n\
             0\t1\t127\t0\t1969-12-31\t1970-01-01\t-0.05\n"
        );
    }

    #[test]
    fn timestamps_keep_their_precision() {
        // 2023-07-04 12:34:56 UTC is 1688474096 s
        let s = 1_688_474_096_i64;
        let columns: Vec<ArrayRef> = vec![
            Arc::new(TimestampSecondArray::from(vec![s])),
            Arc::new(TimestampMillisecondArray::from(vec![s * 1_000 + 7])),
            Arc::new(
                TimestampMicrosecondArray::from(vec![s * 1_000_000 + 123_456]).with_timezone("UTC"),
            ),
            Arc::new(TimestampNanosecondArray::from(vec![
                s * 1_000_000_000 + 987_654_321,
            ])),
            // one microsecond before the epoch
            Arc::new(TimestampMicrosecondArray::from(vec![-1])),
        ];
        assert_eq!(
            encode(columns, RowFormat::Tsv),
            "2023-07-04 12:34:56\t2023-07-04 12:34:56.007\t2023-07-04 12:34:56.123456\t\
             2023-07-04 12:34:56.987654\t1969-12-31 23:59:59.999999\n"
        );
    }

    #[test]
    fn floats_round_trip_exactly_and_non_finite_is_null() {
        let values = vec![
            0.1,
            1.0 / 3.0,
            -2.5e-300,
            1e300,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            -0.0,
            123_456_789.012_345_67,
            85.0,
            -3.0,
            9_007_199_254_740_991.0,
            9_007_199_254_740_992.0,
            1e17,
        ];
        let column: ArrayRef = Arc::new(Float64Array::from(values.clone()));
        let text = encode(vec![column], RowFormat::Tsv);
        let parsed: Vec<f64> = text.lines().map(|l| l.parse().unwrap()).collect();
        assert_eq!(parsed.len(), values.len());
        for (a, b) in parsed.iter().zip(&values) {
            assert_eq!(a.to_bits(), b.to_bits(), "{a} vs {b}");
        }
        // integral values as integers, zero keeps its sign
        assert!(text.starts_with("0.1\n"), "{text}");
        assert!(
            text.contains("\n85\n-3\n9007199254740991\n9007199254740992.0\n1e17\n"),
            "{text}"
        );
        assert!(text.contains("\n-0.0\n"), "{text}");
        let odd: ArrayRef = Arc::new(Float64Array::from(vec![f64::NAN, f64::INFINITY, 1.5]));
        assert_eq!(encode(vec![odd], RowFormat::Tsv), "\\N\n\\N\n1.5\n");
        let single: ArrayRef = Arc::new(Float32Array::from(vec![0.1_f32]));
        assert_eq!(encode(vec![single], RowFormat::SqlValues), "(0.1)");
    }

    #[test]
    fn civil_dates_match_chrono() {
        for days in [-719_468_i64, -1, 0, 59, 16_860, 19_723, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            let expected =
                chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Duration::days(days);
            assert_eq!(
                format!("{y:04}-{m:02}-{d:02}"),
                expected.format("%Y-%m-%d").to_string()
            );
        }
        assert_eq!(days_of_timestamp(-1, 1_000_000), -1);
    }
}
