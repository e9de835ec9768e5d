//! Tests of `ingest accidents`.

use std::fs;

use chrono::NaiveDate;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::TimestampMicrosecondType;

use super::*;
use crate::accidents::silver_writer::test_support::{orc_row_count, read_parquet};

const HEADER: &[u8] = b"Number,State,ID,Severity,Start_Time,End_Time,Description,Temperature(F),Traffic_Signal,Weather_Timestamp\n";

/// The hand-written Bronze file: 11 records (one spanning two lines, then a blank line), 3 good.
fn bronze() -> Vec<u8> {
    let mut csv = HEADER.to_vec();
    let lines: [&[u8]; 11] = [
        b"1,CA,A-1,2,2016-02-08 05:46:00,2016-02-08 11:00:00,\"Crash on I-5, near Main St\",36.9,True,2016-02-08 05:53:00\n",
        b"2,FL,A-2,3,2016-02-08 06:07:59.123456789,2016-02-08 06:37:59.000000000,Accident,abc,false,\n",
        b"3,TX,A-3,5,2017-01-01 00:00:00,,x,,,\n",
        b"4,TX,A-4,0,2017-01-01 00:00:00,,x,,,\n",
        b"5,NY,,2,2017-01-01 00:00:00,,x,,,\n",
        b"6,,A-6,2,2017-01-01 00:00:00,,x,,,\n",
        b"7,OH,A-7,2,2017-13-01 00:00:00,,x,,,\n",
        b"8,OH,A-8,2\n",
        b"9,OH,A-9,2,2018-05-05 10:00:00,,caf\xe9,,,\n",
        b"10,WA,A-10,4,2018-05-05 10:00:00,,\"two\nlines\",,TRUE,\r\n\n",
        b"11,WA,A-11,two,2018-05-05 10:00:00,,x,,,\n",
    ];
    for line in lines {
        csv.extend_from_slice(line);
    }
    csv
}

fn micros(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
    NaiveDate::from_ymd_opt(y, mo, d)
        .and_then(|d| d.and_hms_opt(h, mi, s))
        .expect("valid")
        .and_utc()
        .timestamp_micros()
}

#[test]
fn accepts_good_rows_and_rejects_the_others_with_reasons() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("bronze.csv");
    fs::write(&input, bronze()).expect("write");
    let lake = dir.path().join("lake");
    let report = ingest_accidents(&IngestAccidentsArgs::new(&input, &lake), false).expect("ingest");

    assert_eq!(report.rows_read, 11);
    assert_eq!(report.rows_accepted, 3);
    assert_eq!(report.rows_rejected, 8);
    let expected: BTreeMap<String, u64> = [
        ("invalid UTF-8", 1),
        ("invalid severity", 1),
        ("invalid start_time", 1),
        ("malformed row", 1),
        ("missing id", 1),
        ("missing state", 1),
        ("severity out of range", 2),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(report.rejects_by_reason, expected);

    // The rejects file: line number, full reason, raw line.
    assert_eq!(
        report.rejects_file,
        lake.join("_rejects").join("accidents-rejects.csv")
    );
    let mut rejects = csv::Reader::from_path(&report.rejects_file).expect("rejects");
    let rows: Vec<(String, String, String)> = rejects
        .records()
        .map(|r| {
            let r = r.expect("record");
            (r[0].to_string(), r[1].to_string(), r[2].to_string())
        })
        .collect();
    let reasons: Vec<(&str, &str)> = rows.iter().map(|r| (r.0.as_str(), r.1.as_str())).collect();
    assert_eq!(
        reasons,
        [
            ("4", "severity out of range: 5"),
            ("5", "severity out of range: 0"),
            ("6", "missing id"),
            ("7", "missing state"),
            ("8", "invalid start_time '2017-13-01 00:00:00'"),
            ("9", "malformed row: expected 10 fields, found 4"),
            ("10", "invalid UTF-8"),
            ("14", "invalid severity 'two'"),
        ]
    );
    assert_eq!(rows[0].2, "3,TX,A-3,5,2017-01-01 00:00:00,,x,,,");
    assert_eq!(rows[5].2, "8,OH,A-8,2");
    assert_eq!(rows[6].2, "9,OH,A-9,2,2018-05-05 10:00:00,,caf\u{fffd},,,");

    // Silver: 2016 and 2018 partitions, values parsed.
    assert_eq!(report.files.len(), 2);
    assert!(report.files[0].ends_with("accidents/year=2016/part-00000.parquet"));
    assert!(report.files[1].ends_with("accidents/year=2018/part-00000.parquet"));
    let batch = read_parquet(&report.files);
    let ids: Vec<_> = batch
        .column_by_name("id")
        .expect("id")
        .as_string::<i32>()
        .iter()
        .collect();
    assert_eq!(ids, [Some("A-1"), Some("A-2"), Some("A-10")]);
    let start = batch
        .column_by_name("start_time")
        .expect("start_time")
        .as_primitive::<TimestampMicrosecondType>();
    assert_eq!(start.value(0), micros(2016, 2, 8, 5, 46, 0));
    assert_eq!(start.value(1), micros(2016, 2, 8, 6, 7, 59) + 123_456);
    let end = batch
        .column_by_name("end_time")
        .expect("end_time")
        .as_primitive::<TimestampMicrosecondType>();
    assert_eq!(end.value(1), micros(2016, 2, 8, 6, 37, 59));
    assert!(end.is_null(2));
    let weather = batch.column_by_name("weather_timestamp").expect("wt");
    assert!(weather.is_valid(0) && weather.is_null(1));
    let temperature = batch
        .column_by_name("temperature_f")
        .expect("temperature_f")
        .as_primitive::<datafusion::arrow::datatypes::Float64Type>();
    assert_eq!(
        temperature.iter().collect::<Vec<_>>(),
        [Some(36.9), None, None]
    );
    let signal = batch
        .column_by_name("traffic_signal")
        .expect("traffic_signal")
        .as_boolean();
    assert_eq!(
        signal.iter().collect::<Vec<_>>(),
        [Some(true), Some(false), Some(true)]
    );
    let description = batch
        .column_by_name("description")
        .expect("description")
        .as_string::<i32>();
    assert_eq!(description.value(0), "Crash on I-5, near Main St");
    assert_eq!(description.value(2), "two\nlines");
    // Columns absent from the file are NULL.
    assert_eq!(batch.column_by_name("city").expect("city").null_count(), 3);
}

#[test]
fn orc_output_and_a_custom_rejects_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("bronze.csv");
    fs::write(&input, bronze()).expect("write");
    let mut args = IngestAccidentsArgs::new(&input, dir.path().join("lake"));
    args.format = LakeFormat::Orc;
    args.rejects = Some(dir.path().join("out").join("rej.csv"));
    let report = ingest_accidents(&args, false).expect("ingest");
    assert_eq!(report.rejects_file, dir.path().join("out").join("rej.csv"));
    assert!(report.rejects_file.exists());
    let rows: usize = report.files.iter().map(|f| orc_row_count(f)).sum();
    assert_eq!(rows, 3);
}

#[test]
fn a_missing_input_or_required_header_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nope.csv");
    let err = ingest_accidents(&IngestAccidentsArgs::new(&missing, dir.path()), false)
        .expect_err("missing file");
    assert!(matches!(err, Error::Io { .. }), "{err}");
    assert!(err.to_string().contains("nope.csv"), "{err}");

    let input = dir.path().join("no-state.csv");
    fs::write(
        &input,
        b"ID,Severity,Start_Time\nA-1,2,2016-01-01 00:00:00\n",
    )
    .expect("write");
    let err = ingest_accidents(&IngestAccidentsArgs::new(&input, dir.path()), false)
        .expect_err("no State");
    assert!(matches!(err, Error::SchemaMismatch { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("no-state.csv") && message.contains("'State'"),
        "{message}"
    );

    let empty = dir.path().join("empty.csv");
    fs::write(&empty, b"").expect("write");
    let err =
        ingest_accidents(&IngestAccidentsArgs::new(&empty, dir.path()), false).expect_err("empty");
    assert!(matches!(err, Error::SchemaMismatch { .. }), "{err}");
}

#[test]
fn a_failed_ingest_leaves_the_previous_silver_untouched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("bronze.csv");
    fs::write(&input, bronze()).expect("write");
    let lake = dir.path().join("lake");
    let first = ingest_accidents(&IngestAccidentsArgs::new(&input, &lake), false).expect("first");

    // The rejects file cannot be created: the run fails after Silver writing started.
    let blocker = dir.path().join("blocker");
    fs::write(&blocker, b"x").expect("write");
    let mut args = IngestAccidentsArgs::new(&input, &lake);
    args.rejects = Some(blocker.join("rejects.csv"));
    let err = ingest_accidents(&args, false).expect_err("rejects under a file");
    assert!(matches!(err, Error::Io { .. }), "{err}");
    for file in &first.files {
        assert!(file.exists(), "{}", file.display());
    }
    let names: Vec<_> = fs::read_dir(&lake)
        .expect("ls")
        .map(|e| e.expect("entry").file_name().to_string_lossy().to_string())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(names, ["_rejects", "accidents"], "no temporary folder left");
}
