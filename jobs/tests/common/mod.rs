//! Shared helpers of the `medallion` integration tests: Silver lake writers (Parquet and ORC), running
//! the real `medallion` binary, and reading its Gold output back with plain DataFusion.
//!
//! Nothing here computes an expected value: the tests work those out by hand from SPEC.md.

#![allow(dead_code)]

pub mod adbc;
pub mod cluster;
pub mod medical_lake;
#[path = "../../../core/tests/common/mysql_db.rs"]
pub mod mysql_db;
pub mod mysql_rows;
pub mod private_mariadb;
pub mod tls;

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int32Array, RecordBatch, StringArray,
    TimestampMicrosecondArray, new_null_array,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Schema, SchemaRef};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::prelude::{ParquetReadOptions, SessionContext};

use medallion_jobs::accidents::schema::{INFRASTRUCTURE_FLAGS, accidents_schema};

/// The nine Gold tables of the accidents datamart (SPEC sections 3 and 3b), without `pipeline_runs`.
pub const GOLD_TABLES: [&str; 9] = [
    "accidents_summary",
    "kpis_security",
    "kpis_temporal",
    "hotspots",
    "kpis_weather",
    "kpis_infrastructure",
    "kpis_anomalies",
    "kpis_correlations",
    "insights",
];

/// One Silver `accidents` row, with only the columns the Gold tables use; every other column is NULL.
#[derive(Clone, Debug)]
pub struct Accident {
    pub id: &'static str,
    pub state: Option<&'static str>,
    pub city: Option<&'static str>,
    pub severity: Option<i32>,
    /// `YYYY-MM-DD HH:MM:SS`, a wall-clock time (Timestamp(Microsecond, None)).
    pub start_time: Option<&'static str>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub distance_mi: Option<f64>,
    pub temperature_f: Option<f64>,
    pub visibility_mi: Option<f64>,
    pub weather_condition: Option<&'static str>,
    /// Flags that are `true`.
    pub flags_true: &'static [&'static str],
    /// Flags that are NULL (the rest are `false`).
    pub flags_null: &'static [&'static str],
}

impl Accident {
    /// The base row tests vary: accident `id` in Los Angeles (CA) at `start_time`, clear weather,
    /// 60 °F, 10 mi visibility, 0.5 mi long, every flag `false`.
    pub fn clear_day_in_la(id: &'static str, severity: i32, start_time: &'static str) -> Self {
        Self {
            id,
            state: Some("CA"),
            city: Some("Los Angeles"),
            severity: Some(severity),
            start_time: Some(start_time),
            lat: Some(34.03),
            lng: Some(-118.22),
            distance_mi: Some(0.5),
            temperature_f: Some(60.0),
            visibility_mi: Some(10.0),
            weather_condition: Some("Clear"),
            flags_true: &[],
            flags_null: &[],
        }
    }

    /// A row of CA with only the required columns: city, coordinates, distance, temperature,
    /// visibility, weather and every infrastructure flag are NULL.
    pub fn optional_columns_null(
        id: &'static str,
        severity: i32,
        start_time: &'static str,
    ) -> Self {
        Self {
            city: None,
            lat: None,
            lng: None,
            distance_mi: None,
            temperature_f: None,
            visibility_mi: None,
            weather_condition: None,
            flags_null: &INFRASTRUCTURE_FLAGS,
            ..Self::clear_day_in_la(id, severity, start_time)
        }
    }

    /// Folder of the row in the lake: `year=YYYY/` of `start_time`, like the ingest job lays Silver out.
    /// A row without `start_time` (a reject the Gold job must count) goes with the 2021 rows.
    pub fn year(&self) -> String {
        match self.start_time {
            Some(ts) => format!("year={}", &ts[..4]),
            None => "year=2021".to_string(),
        }
    }
}

fn micros(ts: &str) -> i64 {
    chrono::NaiveDateTime::parse_from_str(ts, "%Y-%m-%d %H:%M:%S")
        .unwrap_or_else(|e| panic!("bad test timestamp {ts}: {e}"))
        .and_utc()
        .timestamp_micros()
}

/// The rows as one RecordBatch of the full 46-column Silver schema.
pub fn silver_batch(rows: &[Accident]) -> RecordBatch {
    silver_batch_with_schema(rows, accidents_schema())
}

/// The rows as a RecordBatch of `schema` (a subset of the Silver columns, e.g. without `severity`).
pub fn silver_batch_with_schema(rows: &[Accident], schema: SchemaRef) -> RecordBatch {
    silver_batch_full(rows, schema, false)
}

/// The rows as a RecordBatch of `schema`; the columns the helper struct does not carry are NULL, or,
/// with `fill_others`, a constant non-NULL value ("x", 1.0, 'Day', the row's start_time) so that no
/// column is entirely NULL.
pub fn silver_batch_full(rows: &[Accident], schema: SchemaRef, fill_others: bool) -> RecordBatch {
    let n = rows.len();
    let columns: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .map(|field| -> ArrayRef {
            let name = field.name().as_str();
            let text = |f: &dyn Fn(&Accident) -> Option<&'static str>| -> ArrayRef {
                Arc::new(StringArray::from(rows.iter().map(f).collect::<Vec<_>>()))
            };
            let float = |f: &dyn Fn(&Accident) -> Option<f64>| -> ArrayRef {
                Arc::new(Float64Array::from(rows.iter().map(f).collect::<Vec<_>>()))
            };
            match name {
                "id" => Arc::new(StringArray::from(
                    rows.iter().map(|r| r.id).collect::<Vec<_>>(),
                )),
                "state" => text(&|r| r.state),
                "city" => text(&|r| r.city),
                "weather_condition" => text(&|r| r.weather_condition),
                "severity" => Arc::new(Int32Array::from(
                    rows.iter().map(|r| r.severity).collect::<Vec<_>>(),
                )),
                "start_time" => Arc::new(TimestampMicrosecondArray::from(
                    rows.iter()
                        .map(|r| r.start_time.map(micros))
                        .collect::<Vec<_>>(),
                )),
                "start_lat" => float(&|r| r.lat),
                "start_lng" => float(&|r| r.lng),
                "distance_mi" => float(&|r| r.distance_mi),
                "temperature_f" => float(&|r| r.temperature_f),
                "visibility_mi" => float(&|r| r.visibility_mi),
                flag if INFRASTRUCTURE_FLAGS.contains(&flag) => Arc::new(BooleanArray::from(
                    rows.iter()
                        .map(|r| {
                            if r.flags_null.contains(&flag) {
                                None
                            } else {
                                Some(r.flags_true.contains(&flag))
                            }
                        })
                        .collect::<Vec<_>>(),
                )),
                _ if !fill_others => new_null_array(field.data_type(), n),
                "sunrise_sunset"
                | "civil_twilight"
                | "nautical_twilight"
                | "astronomical_twilight" => text(&|_| Some("Day")),
                _ => match field.data_type() {
                    DataType::Utf8 => text(&|_| Some("x")),
                    DataType::Float64 => float(&|_| Some(1.0)),
                    DataType::Timestamp(_, None) => Arc::new(TimestampMicrosecondArray::from(
                        rows.iter()
                            .map(|r| Some(micros(r.start_time.unwrap_or("2021-01-01 00:00:00"))))
                            .collect::<Vec<_>>(),
                    )),
                    other => panic!("no filler for {name} {other}"),
                },
            }
        })
        .collect();
    RecordBatch::try_new(schema, columns).expect("test batch matches its schema")
}

/// Lake file format of a test lake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Parquet,
    Orc,
}

/// Writes one RecordBatch as one file (Parquet or ORC by `format`).
pub fn write_file(path: &Path, batch: &RecordBatch, format: Format) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let file = File::create(path).unwrap();
    match format {
        Format::Parquet => {
            let mut writer = ArrowWriter::try_new(file, batch.schema(), None).unwrap();
            writer.write(batch).unwrap();
            writer.close().unwrap();
        }
        Format::Orc => {
            let mut writer = orc_rust::ArrowWriterBuilder::new(file, batch.schema())
                .try_build()
                .unwrap();
            writer.write(batch).unwrap();
            writer.close().unwrap();
            // The fixture itself must be a valid ORC file with the same content.
            assert!(
                read_orc_file(path, batch.schema()) == *batch,
                "ORC round trip of {} changed the data",
                path.display()
            );
        }
    }
}

/// Reads an ORC file back with orc-rust's synchronous reader, cast to `schema` (the reader may widen
/// timestamps to nanoseconds): a self-check that the test's ORC files are valid.
pub fn read_orc_file(path: &Path, schema: SchemaRef) -> RecordBatch {
    let file = File::open(path).unwrap();
    let reader = orc_rust::ArrowReaderBuilder::try_new(file)
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()))
        .build();
    let batches: Vec<RecordBatch> = reader
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let batch = datafusion::arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap();
    let columns = schema
        .fields()
        .iter()
        .map(|f| {
            let column = batch
                .column_by_name(f.name())
                .unwrap_or_else(|| panic!("{} lost", f.name()));
            cast(column, f.data_type()).unwrap()
        })
        .collect();
    RecordBatch::try_new(schema, columns).unwrap()
}

/// Writes `rows` as the Silver table `LAKE/accidents/`, one file per `year=YYYY/` folder, and returns
/// the lake folder. Columns the rows do not carry are NULL.
pub fn write_lake(lake: &Path, rows: &[Accident], format: Format) -> PathBuf {
    write_lake_full(lake, rows, format, false)
}

/// [`write_lake`], optionally with the other columns filled (see [`silver_batch_full`]).
pub fn write_lake_full(
    lake: &Path,
    rows: &[Accident],
    format: Format,
    fill_others: bool,
) -> PathBuf {
    let mut by_year: BTreeMap<String, Vec<Accident>> = BTreeMap::new();
    for row in rows {
        by_year.entry(row.year()).or_default().push(row.clone());
    }
    let ext = match format {
        Format::Parquet => "parquet",
        Format::Orc => "orc",
    };
    for (year, rows) in by_year {
        let path = lake
            .join("accidents")
            .join(year)
            .join(format!("part-00000.{ext}"));
        write_file(
            &path,
            &silver_batch_full(&rows, accidents_schema(), fill_others),
            format,
        );
    }
    lake.to_path_buf()
}

/// Schema of Silver without some columns (for the wrong-schema tests).
pub fn schema_without(columns: &[&str]) -> SchemaRef {
    let full = accidents_schema();
    Arc::new(Schema::new(
        full.fields()
            .iter()
            .filter(|f| !columns.contains(&f.name().as_str()))
            .cloned()
            .collect::<Vec<_>>(),
    ))
}

/// Runs the real `medallion` binary with `args`.
pub fn medallion(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_medallion"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("start the medallion binary")
}

/// `medallion run accidents-datamart --lake LAKE --sink file://OUT [extra...]`.
pub fn run_datamart(lake: &Path, out: &Path, extra: &[&str]) -> Output {
    let lake = lake.to_str().unwrap().to_string();
    let sink = format!("file://{}", out.to_str().unwrap());
    let mut args = vec![
        "run",
        "accidents-datamart",
        "--lake",
        lake.as_str(),
        "--sink",
        sink.as_str(),
    ];
    args.extend_from_slice(extra);
    medallion(&args)
}

/// `sql` run by the embedded `medallion sql --catalog CATALOG --format json`: its JSON rows.
pub fn embedded_sql(catalog: &str, sql: &str) -> Vec<serde_json::Value> {
    let output = medallion(&["sql", "--catalog", catalog, "--format", "json", sql]);
    assert_success(&output, "embedded medallion sql");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// Panics with the process' output unless it exited 0.
pub fn assert_success(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what}: medallion exited with {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// 2020-census population of `state`, read from the reference file shipped in the binary
/// (`data/state_population.csv`, header `state,population`).
pub fn population(state: &str) -> f64 {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/state_population.csv");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "read {}: {e} (the reference file is missing)",
            path.display()
        )
    });
    let mut lines = text.lines();
    assert_eq!(
        lines.next().map(str::trim),
        Some("state,population"),
        "header of {}",
        path.display()
    );
    for line in lines {
        let mut parts = line.split(',');
        if parts.next().map(str::trim) == Some(state) {
            return parts
                .next()
                .and_then(|p| p.trim().parse::<f64>().ok())
                .unwrap_or_else(|| panic!("bad population line {line:?}"));
        }
    }
    panic!("{state} missing from {}", path.display())
}

// ---------------------------------------------------------------------------------------------
// Reading Gold output back
// ---------------------------------------------------------------------------------------------

/// One cell read back from a Gold table, normalised so that tests do not depend on integer widths or
/// on Utf8 vs Utf8View.
#[derive(Clone, Debug)]
pub enum Val {
    Null,
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
}

/// Expected-value constructors.
pub fn s(v: &str) -> Val {
    Val::Str(v.to_string())
}
pub fn i(v: i64) -> Val {
    Val::Int(v)
}
pub fn f(v: f64) -> Val {
    Val::Float(v)
}
pub fn opt_s(v: Option<&str>) -> Val {
    v.map(s).unwrap_or(Val::Null)
}
pub const NULL: Val = Val::Null;

/// Floats equal within 1e-9 relative (absolute 1e-12 around zero).
pub fn close(a: f64, b: f64) -> bool {
    if a == b {
        return true;
    }
    let scale = a.abs().max(b.abs());
    (a - b).abs() <= 1e-9 * scale || (a - b).abs() <= 1e-12
}

impl PartialEq for Val {
    fn eq(&self, other: &Val) -> bool {
        match (self, other) {
            (Val::Null, Val::Null) => true,
            (Val::Int(a), Val::Int(b)) => a == b,
            (Val::Float(a), Val::Float(b)) => close(*a, *b),
            // An integral column compared with an expected float (or back) still compares by value.
            (Val::Int(a), Val::Float(b)) | (Val::Float(b), Val::Int(a)) => close(*a as f64, *b),
            (Val::Str(a), Val::Str(b)) => a == b,
            (Val::Bool(a), Val::Bool(b)) => a == b,
            _ => false,
        }
    }
}

impl Val {
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Val::Int(v) => Some(*v as f64),
            Val::Float(v) => Some(*v),
            _ => None,
        }
    }
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Val::Int(v) => Some(*v),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(v) => Some(v),
            _ => None,
        }
    }
    pub fn is_null(&self) -> bool {
        matches!(self, Val::Null)
    }
}

fn cell(column: &ArrayRef, row: usize) -> Val {
    if column.is_null(row) {
        return Val::Null;
    }
    match column.data_type() {
        DataType::Utf8 => Val::Str(column.as_string::<i32>().value(row).to_string()),
        DataType::LargeUtf8 => Val::Str(column.as_string::<i64>().value(row).to_string()),
        DataType::Utf8View => Val::Str(column.as_string_view().value(row).to_string()),
        DataType::Boolean => Val::Bool(column.as_boolean().value(row)),
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => {
            let one = column.slice(row, 1);
            let as_i64 = cast(&one, &DataType::Int64).unwrap();
            Val::Int(
                as_i64
                    .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
                    .value(0),
            )
        }
        DataType::Float16 | DataType::Float32 | DataType::Float64 | DataType::Decimal128(_, _) => {
            let one = column.slice(row, 1);
            let as_f64 = cast(&one, &DataType::Float64).unwrap();
            Val::Float(
                as_f64
                    .as_primitive::<datafusion::arrow::datatypes::Float64Type>()
                    .value(0),
            )
        }
        _ => {
            let one = column.slice(row, 1);
            let text = cast(&one, &DataType::Utf8).unwrap();
            Val::Str(text.as_string::<i32>().value(0).to_string())
        }
    }
}

/// The Gold output folder of one run, read with plain DataFusion.
pub struct Gold {
    pub out: PathBuf,
    pub ctx: SessionContext,
}

impl Gold {
    /// Registers every table folder of `out` that holds at least one `*.parquet` file.
    pub async fn open(out: &Path) -> Gold {
        let mut tables: Vec<&str> = GOLD_TABLES.to_vec();
        tables.push("pipeline_runs");
        tables.retain(|table| !parquet_files(&out.join(table)).is_empty());
        Gold::open_tables(out, &tables).await
    }

    /// Registers the table folders `tables` of `out`, which must hold Parquet files.
    pub async fn open_tables(out: &Path, tables: &[&str]) -> Gold {
        let ctx = SessionContext::new();
        for table in tables {
            let dir = out.join(table);
            ctx.register_parquet(
                *table,
                format!("{}/", dir.to_str().unwrap()),
                ParquetReadOptions::default(),
            )
            .await
            .unwrap_or_else(|e| panic!("register {}: {e}", dir.display()));
        }
        Gold {
            out: out.to_path_buf(),
            ctx,
        }
    }

    /// Runs `sql` and returns its rows.
    pub async fn rows(&self, sql: &str) -> Vec<Vec<Val>> {
        let batches = self
            .ctx
            .sql(sql)
            .await
            .unwrap_or_else(|e| panic!("plan {sql}: {e}"))
            .collect()
            .await
            .unwrap_or_else(|e| panic!("run {sql}: {e}"));
        let mut rows = Vec::new();
        for batch in batches {
            for r in 0..batch.num_rows() {
                rows.push(batch.columns().iter().map(|c| cell(c, r)).collect());
            }
        }
        rows
    }

    /// Arrow type of `column` in `table`.
    pub async fn column_type(&self, table: &str, column: &str) -> DataType {
        let df = self.ctx.table(table).await.unwrap();
        df.schema()
            .field_with_unqualified_name(column)
            .unwrap_or_else(|_| panic!("{table} has no column {column}"))
            .data_type()
            .clone()
    }

    /// Column names of `table`, in order.
    pub async fn columns(&self, table: &str) -> Vec<String> {
        let df = self.ctx.table(table).await.unwrap();
        df.schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    pub async fn count(&self, table: &str) -> i64 {
        self.rows(&format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {table}"))
            .await[0][0]
            .as_i64()
            .unwrap()
    }
}

/// `*.parquet` files directly in `dir` or below (empty when `dir` is missing), sorted.
pub fn parquet_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = files_under(dir);
    found.retain(|path| path.extension().is_some_and(|e| e == "parquet"));
    found
}

/// Every file directly in `dir` or below (empty when `dir` is missing), sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Asserts `actual` equals `expected` row by row (floats within 1e-9 relative), printing both tables on
/// failure.
pub fn assert_rows(what: &str, actual: &[Vec<Val>], expected: &[Vec<Val>]) {
    let render = |rows: &[Vec<Val>]| {
        rows.iter()
            .map(|r| format!("  {r:?}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    if actual.len() != expected.len() {
        panic!(
            "{what}: {} rows, expected {}\n--- actual\n{}\n--- expected\n{}",
            actual.len(),
            expected.len(),
            render(actual),
            render(expected)
        );
    }
    for (n, (a, e)) in actual.iter().zip(expected).enumerate() {
        if a != e {
            panic!(
                "{what}: row {n} differs\n  actual:   {a:?}\n  expected: {e:?}\n--- actual\n{}\n--- expected\n{}",
                render(actual),
                render(expected)
            );
        }
    }
}

/// The great-circle distance in miles (haversine, earth radius 3958.8 miles), written out here
/// independently of the program's UDF, to check `hotspots.radius_miles`.
pub fn haversine_miles(lat1: f64, lng1: f64, lat2: f64, lng2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lng2 - lng1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 3958.8 * a.sqrt().asin()
}

/// Every file under `dir` (recursively) but the `pipeline_runs` records and run lock files, with
/// its bytes: what "the published Gold tables did not change" compares.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let rel = path.strip_prefix(root).unwrap().to_path_buf();
            let name = rel.to_string_lossy().to_string();
            if name.starts_with("pipeline_runs") || name.starts_with(".medallion-lock-") {
                continue;
            }
            if path.is_dir() {
                walk(&path, root, out);
            } else {
                out.insert(rel, fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}
