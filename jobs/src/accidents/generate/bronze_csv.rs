//! Writes rows as the public Kaggle CSV does: original headers, `2016-02-08 05:46:00` timestamps
//! (sometimes with `.000000000`), `True`/`False`, empty fields for NULL, floats like pandas (`10.0`).

use std::fmt::Write as _;
use std::io::Write;

use chrono::{DateTime, Datelike, Timelike};

use crate::accidents::schema::{accidents_schema, bronze_header};
use crate::accidents::silver_writer::row::Value;

/// The Bronze header row: the Kaggle name of every Silver column, in schema order.
pub fn header() -> Vec<String> {
    accidents_schema()
        .fields()
        .iter()
        .map(|f| bronze_header(f.name()))
        .collect()
}

/// Formats `micros` (since 1970-01-01, wall clock) as `YYYY-MM-DD HH:MM:SS`, followed by nine
/// fractional digits when `fractional` is set or the time has a fraction of a second.
pub fn format_timestamp(micros: i64, fractional: bool, out: &mut String) {
    match DateTime::from_timestamp_micros(micros) {
        Some(t) => {
            let t = t.naive_utc();
            let _ = write!(
                out,
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                t.year(),
                t.month(),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            );
            let nanos = t.nanosecond();
            if fractional || nanos != 0 {
                let _ = write!(out, ".{nanos:09}");
            }
        }
        // Out of chrono's range: cannot happen for generated rows; keep the raw number.
        None => {
            let _ = write!(out, "{micros}");
        }
    }
}

/// Formats a float like pandas' CSV writer: shortest round-trip digits, `.0` on whole numbers.
pub fn format_float(value: f64, out: &mut String) {
    let start = out.len();
    let _ = write!(out, "{value}");
    if value.is_finite() && !out[start..].contains(['.', 'e']) {
        out.push_str(".0");
    }
}

/// Encodes rows into CSV bytes with reusable buffers.
pub struct BronzeRowWriter<W: Write> {
    csv: csv::Writer<W>,
    field: String,
}

impl<W: Write> BronzeRowWriter<W> {
    /// A writer of records (no header) into `out`.
    pub fn new(out: W) -> Self {
        Self {
            csv: csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(out),
            field: String::with_capacity(64),
        }
    }

    /// Writes the header row.
    pub fn write_header(&mut self) -> csv::Result<()> {
        self.csv.write_record(header())
    }

    /// Writes one row; `fractional_seconds` adds `.000000000` to its timestamps.
    pub fn write_row(&mut self, row: &[Value<'_>], fractional_seconds: bool) -> csv::Result<()> {
        for value in row {
            self.field.clear();
            match value {
                Value::Str(Some(s)) => self.field.push_str(s),
                Value::Int(Some(i)) => {
                    let _ = write!(self.field, "{i}");
                }
                Value::Float(Some(f)) => format_float(*f, &mut self.field),
                Value::Timestamp(Some(t)) => {
                    format_timestamp(*t, fractional_seconds, &mut self.field)
                }
                Value::Bool(Some(b)) => self.field.push_str(if *b { "True" } else { "False" }),
                Value::Str(None)
                | Value::Int(None)
                | Value::Float(None)
                | Value::Timestamp(None)
                | Value::Bool(None) => {}
            }
            self.csv.write_field(&self.field)?;
        }
        self.csv.write_record(None::<&[u8]>)
    }

    /// Flushes and returns the underlying writer.
    pub fn into_inner(self) -> csv::Result<W> {
        self.csv
            .into_inner()
            .map_err(|e| csv::Error::from(std::io::Error::other(e.error().to_string())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_and_floats_look_like_the_kaggle_file() {
        let mut s = String::new();
        // 2016-02-08 05:46:00
        format_timestamp(1_454_910_360_000_000, false, &mut s);
        assert_eq!(s, "2016-02-08 05:46:00");
        s.clear();
        format_timestamp(1_454_910_360_000_000, true, &mut s);
        assert_eq!(s, "2016-02-08 05:46:00.000000000");
        s.clear();
        format_timestamp(1_454_910_360_123_456, false, &mut s);
        assert_eq!(s, "2016-02-08 05:46:00.123456000");
        s.clear();
        format_float(10.0, &mut s);
        format_float(29.92, &mut s);
        format_float(-0.5, &mut s);
        assert_eq!(s, "10.029.92-0.5");
    }

    #[test]
    fn rows_are_quoted_where_needed() {
        let mut w = BronzeRowWriter::new(Vec::new());
        let row = [
            Value::Str(Some("A-1")),
            Value::Str(Some("Crash on I-5 N, near \"Main St\"")),
            Value::Int(Some(2)),
            Value::Float(None),
            Value::Bool(Some(true)),
        ];
        w.write_row(&row, false).expect("write");
        let bytes = w.into_inner().expect("flush");
        assert_eq!(
            String::from_utf8(bytes).expect("utf8"),
            "A-1,\"Crash on I-5 N, near \"\"Main St\"\"\",2,,True\n"
        );
    }
}
