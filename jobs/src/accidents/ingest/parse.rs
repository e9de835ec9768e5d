//! Turns a Bronze CSV record into a Silver row: header mapping, field parsers and the row rules
//! (SPEC section 2) that decide whether a record is rejected.

use chrono::{DateTime, Datelike, NaiveDate};
use csv::ByteRecord;
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use medallion_core::{Error, Result};

use crate::accidents::schema::{accidents_schema, bronze_header};
use crate::accidents::silver_writer::row::{COLUMN_COUNT, Row, Value};

/// Bronze headers without which no row could be accepted.
pub const REQUIRED_HEADERS: [&str; 4] = ["ID", "Severity", "Start_Time", "State"];

/// Why a record was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// The reason's category, used to count rejects (`missing id`, `severity out of range`, ...).
    pub kind: &'static str,
    /// The full reason written to the rejects file (`severity out of range: 5`, ...).
    pub message: String,
}

impl Reject {
    fn new(kind: &'static str) -> Self {
        Self {
            kind,
            message: kind.to_string(),
        }
    }

    fn with(kind: &'static str, message: String) -> Self {
        Self { kind, message }
    }
}

/// How a Silver column is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Parser {
    Text,
    Int,
    Float,
    Timestamp,
    Bool,
}

/// Parses records of one Bronze CSV, whose header was mapped to the Silver columns.
#[derive(Debug, Clone)]
pub struct RecordParser {
    /// Position in the record of each Silver column, `None` when the file lacks it (all NULL).
    positions: [Option<usize>; COLUMN_COUNT],
    parsers: [Parser; COLUMN_COUNT],
    id: usize,
    severity: usize,
    start_time: usize,
    state: usize,
    fields: usize,
}

impl RecordParser {
    /// Maps `header` (the Bronze header record of `location`) to the Silver columns by name, in
    /// any order; extra columns are ignored, missing optional ones read as NULL. A UTF-8 byte order
    /// mark before the first header is ignored.
    pub fn new(header: &ByteRecord, location: &str) -> Result<Self> {
        let names: Vec<String> = header
            .iter()
            .map(|h| {
                let name = String::from_utf8_lossy(h);
                name.trim_start_matches('\u{feff}').trim().to_string()
            })
            .collect();
        let find = |wanted: &str| {
            names
                .iter()
                .position(|n| n == wanted)
                .or_else(|| names.iter().position(|n| n.eq_ignore_ascii_case(wanted)))
        };
        let schema = accidents_schema();
        let mut positions = [None; COLUMN_COUNT];
        let mut parsers = [Parser::Text; COLUMN_COUNT];
        let index_of = |name: &str| schema.index_of(name).ok();
        for (i, field) in schema.fields().iter().enumerate().take(COLUMN_COUNT) {
            positions[i] = find(&bronze_header(field.name()));
            parsers[i] = match field.data_type() {
                DataType::Utf8 => Parser::Text,
                DataType::Int32 => Parser::Int,
                DataType::Float64 => Parser::Float,
                DataType::Timestamp(TimeUnit::Microsecond, None) => Parser::Timestamp,
                DataType::Boolean => Parser::Bool,
                other => {
                    return Err(Error::SchemaMismatch {
                        location: location.to_string(),
                        message: format!("unsupported Silver column type {other}"),
                    });
                }
            };
        }
        for header in REQUIRED_HEADERS {
            if find(header).is_none() {
                return Err(Error::SchemaMismatch {
                    location: location.to_string(),
                    message: format!("missing required column '{header}' in the CSV header"),
                });
            }
        }
        let required = |name: &str| {
            index_of(name).ok_or_else(|| Error::SchemaMismatch {
                location: "accidents schema".into(),
                message: format!("no column '{name}'"),
            })
        };
        let (id, severity, start_time, state) = (
            required("id")?,
            required("severity")?,
            required("start_time")?,
            required("state")?,
        );
        Ok(Self {
            positions,
            parsers,
            id,
            severity,
            start_time,
            state,
            fields: names.len(),
        })
    }

    /// The Silver row of `record` and the year of its start time, or why it is rejected.
    pub fn parse<'r>(&self, record: &'r ByteRecord) -> std::result::Result<(i32, Row<'r>), Reject> {
        if record.len() != self.fields {
            return Err(Reject::with(
                "malformed row",
                format!(
                    "malformed row: expected {} fields, found {}",
                    self.fields,
                    record.len()
                ),
            ));
        }
        if std::str::from_utf8(record.as_slice()).is_err() {
            return Err(Reject::new("invalid UTF-8"));
        }
        let mut row: Row<'r> = [Value::Str(None); COLUMN_COUNT];
        for (i, cell) in row.iter_mut().enumerate() {
            let text = match self.positions[i].and_then(|p| record.get(p)) {
                Some(bytes) => {
                    std::str::from_utf8(bytes).map_err(|_| Reject::new("invalid UTF-8"))?
                }
                None => "",
            };
            let trimmed = text.trim();
            let present = !trimmed.is_empty();
            *cell = match self.parsers[i] {
                Parser::Text => Value::Str(present.then_some(text)),
                Parser::Int => Value::Int(trimmed.parse().ok()),
                Parser::Float => {
                    Value::Float(trimmed.parse::<f64>().ok().filter(|f| f.is_finite()))
                }
                Parser::Timestamp => Value::Timestamp(parse_timestamp(trimmed)),
                Parser::Bool => Value::Bool(parse_bool(trimmed)),
            };
        }
        let text_of = |column: usize| {
            self.positions[column]
                .and_then(|p| record.get(p))
                .and_then(|b| std::str::from_utf8(b).ok())
                .map(str::trim)
                .unwrap_or("")
        };
        if row[self.id].is_null() {
            return Err(Reject::new("missing id"));
        }
        let severity_text = text_of(self.severity);
        match row[self.severity] {
            _ if severity_text.is_empty() => return Err(Reject::new("missing severity")),
            Value::Int(Some(s)) if !(1..=4).contains(&s) => {
                return Err(Reject::with(
                    "severity out of range",
                    format!("severity out of range: {s}"),
                ));
            }
            Value::Int(Some(_)) => {}
            _ => {
                return Err(Reject::with(
                    "invalid severity",
                    format!("invalid severity '{severity_text}'"),
                ));
            }
        }
        let start_text = text_of(self.start_time);
        let year = match row[self.start_time] {
            _ if start_text.is_empty() => return Err(Reject::new("missing start_time")),
            Value::Timestamp(Some(t)) => DateTime::from_timestamp_micros(t).map(|t| t.year()),
            _ => None,
        }
        .ok_or_else(|| {
            Reject::with(
                "invalid start_time",
                format!("invalid start_time '{start_text}'"),
            )
        })?;
        if row[self.state].is_null() {
            return Err(Reject::new("missing state"));
        }
        Ok((year, row))
    }
}

/// `True`/`False` in any case; anything else is `None`.
pub fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// `YYYY-MM-DD HH:MM:SS` (or with a `T`), with optional fractional seconds of any length
/// (truncated to microseconds), as microseconds since 1970-01-01 00:00:00 on the same wall clock.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b' ' | b'T') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = b.get(range)?;
        digits.iter().try_fold(0u32, |acc, d| {
            d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
        })
    };
    let year = i32::try_from(number(0..4)?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, number(5..7)?, number(8..10)?)?;
    let time = date.and_hms_opt(number(11..13)?, number(14..16)?, number(17..19)?)?;
    let mut micros = time.and_utc().timestamp_micros();
    match b.get(19..) {
        None | Some([]) => {}
        Some([b'.', fraction @ ..]) if !fraction.is_empty() => {
            let mut scale = 100_000i64;
            for d in fraction {
                if !d.is_ascii_digit() {
                    return None;
                }
                micros += i64::from(d - b'0') * scale;
                scale /= 10;
            }
        }
        Some(_) => return None,
    }
    Some(micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_with_and_without_fractions() {
        let base = 1_454_910_360_000_000; // 2016-02-08 05:46:00
        assert_eq!(parse_timestamp("2016-02-08 05:46:00"), Some(base));
        assert_eq!(parse_timestamp("2016-02-08T05:46:00"), Some(base));
        assert_eq!(parse_timestamp("2016-02-08 05:46:00.000000000"), Some(base));
        assert_eq!(
            parse_timestamp("2016-02-08 05:46:00.5"),
            Some(base + 500_000)
        );
        assert_eq!(
            parse_timestamp("2016-02-08 05:46:00.123456789"),
            Some(base + 123_456)
        );
        for bad in [
            "",
            "2016-02-08",
            "2016-02-30 05:46:00",
            "2016-02-08 25:46:00",
            "2016/02/08 05:46:00",
            "2016-02-08 05:46:00.",
            "2016-02-08 05:46:00.12x",
            "2016-02-08 05:46:00Z",
            "+016-02-08 05:46:00",
            "２０16-02-08 05:46:00",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn booleans_ignore_case() {
        assert_eq!(parse_bool("True"), Some(true));
        assert_eq!(parse_bool("FALSE"), Some(false));
        assert_eq!(parse_bool("yes"), None);
    }

    #[test]
    fn headers_match_in_any_order_case_and_after_a_byte_order_mark() {
        let header = ByteRecord::from(vec![
            "\u{feff}ID",
            "Number",
            "state",
            "Start_Time",
            "Severity",
        ]);
        let parser = RecordParser::new(&header, "in.csv").expect("header");
        let record = ByteRecord::from(vec!["A-1", "7", "CA", "2020-01-02 03:04:05", "3"]);
        let (year, row) = parser.parse(&record).expect("accepted");
        assert_eq!(year, 2020);
        assert_eq!(row[0], Value::Str(Some("A-1")));
        assert_eq!(row[2], Value::Int(Some(3)));
        assert_eq!(row[14], Value::Str(Some("CA")));
        assert_eq!(row[12], Value::Str(None), "no City column: NULL");
    }

    #[test]
    fn a_header_without_state_is_a_schema_mismatch() {
        let header = ByteRecord::from(vec!["ID", "Severity", "Start_Time"]);
        let err = RecordParser::new(&header, "in.csv").expect_err("no State");
        assert!(matches!(err, Error::SchemaMismatch { .. }));
        assert!(err.to_string().contains("in.csv") && err.to_string().contains("State"));
    }
}
