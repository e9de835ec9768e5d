//! Property tests of the Bronze CSV ingest (issue 9, 5): arbitrary headers, records and files
//! never panic, every record is either accepted or rejected with a known reason, and valid rows
//! round-trip into the same Silver values. `PROPTEST_CASES` sets the number of cases (64 by
//! default).

use chrono::NaiveDate;
use csv::ByteRecord;
use proptest::prelude::*;

use super::parse::{RecordParser, parse_timestamp};
use super::{IngestAccidentsArgs, ingest_accidents};
use crate::accidents::schema::{accidents_schema, bronze_header};
use crate::accidents::silver_writer::row::Value;

fn config(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

/// The reject reasons the parser may give.
const KINDS: [&str; 8] = [
    "malformed row",
    "invalid UTF-8",
    "missing id",
    "missing severity",
    "severity out of range",
    "invalid severity",
    "missing start_time",
    "invalid start_time",
];

/// Bronze header names, as the real file spells them, plus some noise names.
fn header_names() -> Vec<String> {
    let mut names: Vec<String> = accidents_schema()
        .fields()
        .iter()
        .map(|f| bronze_header(f.name()))
        .collect();
    names.extend(["Number".to_string(), "Extra".to_string()]);
    names
}

/// A field: arbitrary bytes, or text that looks like one of the Bronze values.
fn field() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..24),
        "[ -~]{0,20}".prop_map(String::into_bytes),
        Just(b"".to_vec()),
        (-10i64..10).prop_map(|n| n.to_string().into_bytes()),
        "(19|20|21)[0-9]{2}-[01][0-9]-[0-3][0-9][ T][0-2][0-9]:[0-5][0-9]:[0-6][0-9](\\.[0-9]{1,12})?"
            .prop_map(String::into_bytes),
        prop_oneof![Just("True"), Just("false"), Just("TRUE"), Just("nope")]
            .prop_map(|s| s.as_bytes().to_vec()),
        any::<f64>().prop_map(|f| f.to_string().into_bytes()),
    ]
}

/// A valid Bronze row: its CSV fields and the Silver values expected from them.
#[derive(Debug, Clone)]
struct ValidRow {
    id: String,
    severity: i32,
    /// Seconds since 1970 (wall clock) and microseconds.
    start: (i64, u32),
    fraction_digits: usize,
    separator: char,
    state: String,
    city: Option<String>,
    distance: Option<f64>,
    signal: Option<bool>,
}

fn valid_row() -> impl Strategy<Value = ValidRow> {
    (
        "[A-Za-z0-9-]{1,12}",
        1i32..=4,
        // 1900-01-01 .. 2100-12-31
        (-2_208_988_800i64..4_133_894_400, 0u32..1_000_000),
        0usize..=9,
        prop_oneof![Just(' '), Just('T')],
        "[A-Z]{2}",
        prop::option::of("[A-Za-z ,\"'é]{0,20}"),
        prop::option::of(-1e9f64..1e9),
        prop::option::of(any::<bool>()),
    )
        .prop_map(
            |(id, severity, start, fraction_digits, separator, state, city, distance, signal)| {
                ValidRow {
                    id,
                    severity,
                    start,
                    fraction_digits,
                    separator,
                    state,
                    city: city.filter(|c| !c.trim().is_empty()),
                    distance,
                    signal,
                }
            },
        )
}

impl ValidRow {
    fn start_text(&self) -> String {
        let base = chrono::DateTime::from_timestamp(self.start.0, 0)
            .map(|t| t.naive_utc())
            .unwrap_or_else(|| {
                NaiveDate::from_ymd_opt(2000, 1, 1)
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .unwrap_or_default()
            });
        let mut text = base
            .format(&format!("%Y-%m-%d{}%H:%M:%S", self.separator))
            .to_string();
        if self.fraction_digits > 0 {
            let digits = format!("{:06}000", self.start.1);
            text.push('.');
            text.push_str(&digits[..self.fraction_digits]);
        }
        text
    }

    /// The microseconds the parser must give: the fraction truncated to its digits, then to µs.
    fn start_micros(&self) -> i64 {
        let kept = self.fraction_digits.min(6);
        let scale = 10u32.pow(6 - kept as u32);
        let micros = (self.start.1 / scale) * scale;
        self.start.0 * 1_000_000 + i64::from(micros)
    }
}

const ROUND_TRIP_HEADER: [&str; 7] = [
    "ID",
    "Severity",
    "Start_Time",
    "State",
    "City",
    "Distance(mi)",
    "Traffic_Signal",
];

proptest! {
    #![proptest_config(config(64))]

    /// Any header: a parser or a schema error naming the file, never a panic.
    #[test]
    fn any_header_is_accepted_or_refused(
        picks in prop::collection::vec((any::<prop::sample::Index>(), any::<bool>()), 0..12),
        noise in prop::collection::vec(field(), 0..4),
    ) {
        let names = header_names();
        let mut header: Vec<Vec<u8>> = picks
            .iter()
            .map(|(i, upper)| {
                let name = i.get(&names);
                if *upper { name.to_uppercase().into_bytes() } else { name.clone().into_bytes() }
            })
            .collect();
        header.extend(noise);
        let record = ByteRecord::from(header);
        if let Err(e) = RecordParser::new(&record, "bronze.csv") {
            prop_assert!(e.to_string().contains("bronze.csv"), "{}", e);
        }
    }

    /// Any record against the full header: accepted with a year of its start time, or rejected
    /// with one of the known reasons; never a panic.
    #[test]
    fn any_record_is_accepted_or_rejected(
        fields in prop::collection::vec(field(), 0..60),
    ) {
        let names = header_names();
        let header = ByteRecord::from(names.iter().map(String::as_str).collect::<Vec<_>>());
        let parser = RecordParser::new(&header, "bronze.csv").expect("full header");
        let record = ByteRecord::from(fields);
        match parser.parse(&record) {
            Ok((year, _row)) => prop_assert!((0..=9999).contains(&year)),
            Err(reject) => prop_assert!(KINDS.contains(&reject.kind), "{:?}", reject),
        }
    }

    /// parse_timestamp never panics on any text.
    #[test]
    fn timestamps_never_panic(text in ".{0,40}") {
        let _ = parse_timestamp(&text);
    }

    /// Valid rows written as CSV (quoting included) and read back give the same Silver values.
    #[test]
    fn valid_rows_round_trip(rows in prop::collection::vec(valid_row(), 1..20)) {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(ROUND_TRIP_HEADER).expect("header");
        for r in &rows {
            writer
                .write_record([
                    r.id.clone(),
                    r.severity.to_string(),
                    r.start_text(),
                    r.state.clone(),
                    r.city.clone().unwrap_or_default(),
                    r.distance.map(|d| d.to_string()).unwrap_or_default(),
                    r.signal.map(|b| if b { "True" } else { "False" }.to_string()).unwrap_or_default(),
                ])
                .expect("row");
        }
        let bytes = writer.into_inner().expect("csv bytes");
        let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(bytes.as_slice());
        let header = reader.byte_headers().expect("header").clone();
        let parser = RecordParser::new(&header, "bronze.csv").expect("parser");
        let schema = accidents_schema();
        let at = |name: &str| schema.index_of(name).expect("column");
        let mut record = ByteRecord::new();
        for r in &rows {
            prop_assert!(reader.read_byte_record(&mut record).expect("read"));
            let (year, row) = parser.parse(&record).map_err(|e| TestCaseError::fail(format!("{e:?} for {r:?}")))?;
            let expected_year = chrono::DateTime::from_timestamp(r.start.0, 0).map(|t| chrono::Datelike::year(&t));
            prop_assert_eq!(Some(year), expected_year);
            prop_assert_eq!(row[at("id")], Value::Str(Some(r.id.as_str())));
            prop_assert_eq!(row[at("severity")], Value::Int(Some(r.severity)));
            prop_assert_eq!(row[at("start_time")], Value::Timestamp(Some(r.start_micros())), "{}", r.start_text());
            prop_assert_eq!(row[at("state")], Value::Str(Some(r.state.as_str())));
            prop_assert_eq!(row[at("city")], Value::Str(r.city.as_deref()));
            prop_assert_eq!(row[at("distance_mi")], Value::Float(r.distance));
            prop_assert_eq!(row[at("traffic_signal")], Value::Bool(r.signal));
            prop_assert_eq!(row[at("county")], Value::Str(None));
        }
    }
}

proptest! {
    #![proptest_config(config(16))]

    /// A whole Bronze file of arbitrary bytes after a valid header: the ingest finishes (rows
    /// accepted + rejected = rows read) or fails with an error naming the file; never a panic.
    #[test]
    fn any_bronze_file_ingests_or_fails_cleanly(
        body in prop::collection::vec(prop_oneof![
            3 => field(),
            1 => Just(b",".to_vec()),
            1 => Just(b"\n".to_vec()),
            1 => Just(b"\"".to_vec()),
            1 => Just(b"\r\n".to_vec()),
        ], 0..80),
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = dir.path().join("bronze.csv");
        let mut bytes = ROUND_TRIP_HEADER.join(",").into_bytes();
        bytes.push(b'\n');
        bytes.extend(body.concat());
        std::fs::write(&input, &bytes).expect("write");
        let args = IngestAccidentsArgs::new(&input, dir.path().join("silver"));
        match ingest_accidents(&args, false) {
            Ok(report) => {
                prop_assert_eq!(report.rows_accepted + report.rows_rejected, report.rows_read);
                let counted: u64 = report.rejects_by_reason.values().sum();
                prop_assert_eq!(counted, report.rows_rejected);
            }
            Err(e) => prop_assert!(e.to_string().contains("bronze.csv"), "{}", e),
        }
    }
}
