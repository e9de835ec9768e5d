//! Arrow Flight SQL on the real `medallion-scheduler` (with one `medallion-executor`), queried with
//! arrow-flight's standard `FlightSqlServiceClient`: the lake catalog's tables (a Hive-partitioned
//! Parquet folder found under `lake = ...`, an ORC table named in the catalog file) and medallion's
//! UDFs, run as distributed Ballista jobs.
//!
//! Expected values are worked out by hand from the four rows below, and every result is also
//! compared with the embedded `medallion sql` output of the same query.

mod common;

use std::fs;
use std::time::Duration;

use arrow_flight::FlightInfo;
use arrow_flight::sql::CommandGetTables;
use arrow_flight::sql::client::FlightSqlServiceClient;
use common::cluster::{Cluster, Proc, cluster_bin, free_ports, tail};
use common::*;
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int32Type, Int64Type, UInt64Type};
use futures::TryStreamExt;
use serde_json::{Map, Value};
use tonic::transport::Channel;

/// Four accidents: two in CA (2021), one in TX and one in NY (2022), at different places.
fn rows() -> Vec<Accident> {
    let row = |id: &'static str,
               state: &'static str,
               severity: i32,
               ts: &'static str,
               lat: f64,
               lng: f64| Accident {
        state: Some(state),
        city: Some("Somewhere"),
        lat: Some(lat),
        lng: Some(lng),
        ..Accident::clear_day_in_la(id, severity, ts)
    };
    vec![
        row("a1", "CA", 2, "2021-03-05 08:15:00", 34.05, -118.25),
        row("a2", "CA", 3, "2021-04-05 09:15:00", 32.72, -117.16),
        row("a3", "TX", 1, "2022-01-05 10:15:00", 30.27, -97.74),
        row("a4", "NY", 4, "2022-06-01 11:15:00", 40.71, -74.01),
    ]
}

/// One result cell as JSON, the way `medallion sql --format json` writes it.
fn cell(column: &dyn Array, row: usize) -> Value {
    if column.is_null(row) {
        return Value::Null;
    }
    match column.data_type() {
        DataType::Utf8 => column.as_string::<i32>().value(row).into(),
        DataType::Utf8View => column.as_string_view().value(row).into(),
        DataType::Int32 => column.as_primitive::<Int32Type>().value(row).into(),
        DataType::Int64 => column.as_primitive::<Int64Type>().value(row).into(),
        DataType::UInt64 => column.as_primitive::<UInt64Type>().value(row).into(),
        DataType::Float64 => column.as_primitive::<Float64Type>().value(row).into(),
        DataType::Dictionary(_, _) => {
            let cast = datafusion::arrow::compute::cast(column, &DataType::Utf8)
                .expect("cast a dictionary to text");
            cell(cast.as_ref(), row)
        }
        other => panic!("unexpected column type {other}"),
    }
}

/// The rows of `batches` as JSON objects.
fn json_rows(batches: &[RecordBatch]) -> Vec<Value> {
    let mut rows = Vec::new();
    for batch in batches {
        for row in 0..batch.num_rows() {
            let mut object = Map::new();
            for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
                object.insert(field.name().clone(), cell(column.as_ref(), row));
            }
            rows.push(Value::Object(object));
        }
    }
    rows
}

/// Equal JSON values, numbers to 12 significant digits (the cluster may add in another order).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x == y || (x - y).abs() <= 1e-12 * x.abs().max(y.abs()),
            _ => x == y,
        },
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same(v, w))
        }
        _ => a == b,
    }
}

fn assert_same_rows(what: &str, actual: &[Value], expected: &[Value]) {
    assert!(
        actual.len() == expected.len() && actual.iter().zip(expected).all(|(a, e)| same(a, e)),
        "{what}\nactual:   {actual:?}\nexpected: {expected:?}"
    );
}

/// A connected, handshaken Flight SQL client of the scheduler on `port`.
async fn client(port: u16) -> FlightSqlServiceClient<Channel> {
    let channel = Channel::from_shared(format!("http://127.0.0.1:{port}"))
        .expect("endpoint URL")
        .connect_timeout(Duration::from_secs(10))
        .connect()
        .await
        .expect("connect to the scheduler's Flight SQL port");
    let mut client = FlightSqlServiceClient::new(channel);
    client
        .handshake("anonymous", "")
        .await
        .expect("Flight SQL handshake");
    client
}

/// Redeems every endpoint of `info`, as a standard client does.
async fn fetch(client: &mut FlightSqlServiceClient<Channel>, info: FlightInfo) -> Vec<RecordBatch> {
    let mut batches = Vec::new();
    for endpoint in info.endpoint {
        let ticket = endpoint.ticket.expect("every endpoint has a ticket");
        let stream = client.do_get(ticket).await.expect("do_get");
        let mut part: Vec<RecordBatch> = stream.try_collect().await.expect("read the stream");
        batches.append(&mut part);
    }
    batches
}

/// `sql` over Flight SQL, as JSON rows.
async fn query(client: &mut FlightSqlServiceClient<Channel>, sql: &str) -> Vec<Value> {
    let info = client
        .execute(sql.to_string(), None)
        .await
        .unwrap_or_else(|e| panic!("Flight SQL execute {sql}: {e}"));
    // Strict clients (ADBC) reject data whose schema is not the one the FlightInfo promised.
    let promised = info
        .clone()
        .try_decode_schema()
        .expect("the FlightInfo schema");
    let batches = fetch(client, info).await;
    for batch in &batches {
        let names = |s: &datafusion::arrow::datatypes::Schema| -> Vec<String> {
            s.fields().iter().map(|f| f.name().clone()).collect()
        };
        assert_eq!(names(&batch.schema()), names(&promised), "{sql}");
    }
    json_rows(&batches)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flight_sql_serves_the_lake_catalog_and_the_udfs() {
    let work = tempfile::tempdir().expect("temp dir");
    write_lake(&work.path().join("lake"), &rows(), Format::Parquet);
    write_lake(&work.path().join("orc"), &rows()[..3], Format::Orc);
    let catalog = work.path().join("medallion.toml");
    fs::write(
        &catalog,
        "lake = \"lake\"\n[tables.accidents_orc]\nurl = \"orc/accidents\"\nformat = \"orc\"\n",
    )
    .expect("write the catalog");
    let catalog = catalog.to_str().expect("utf-8 path").to_string();

    let cluster = Cluster::start_with(1, &["--catalog", &catalog, "--flight-sql-anonymous"], &[]);
    let logs = || cluster.logs();
    let mut client = client(cluster.port).await;

    // The catalog, as a client's table browser sees it.
    let info = client
        .get_tables(CommandGetTables {
            catalog: None,
            db_schema_filter_pattern: Some("public".to_string()),
            table_name_filter_pattern: None,
            table_types: vec![],
            include_schema: false,
        })
        .await
        .expect("GetTables");
    let mut tables: Vec<String> = json_rows(&fetch(&mut client, info).await)
        .iter()
        .filter_map(|t| t["table_name"].as_str().map(str::to_string))
        .collect();
    tables.sort();
    assert_eq!(tables, ["accidents", "accidents_orc"], "{}", logs());

    // A plain scan of the Parquet table, with its Hive partition column.
    let sql = "SELECT id, state, severity, year FROM accidents ORDER BY id";
    let actual = query(&mut client, sql).await;
    let expected: Vec<Value> = [
        ("a1", "CA", 2, 2021),
        ("a2", "CA", 3, 2021),
        ("a3", "TX", 1, 2022),
        ("a4", "NY", 4, 2022),
    ]
    .iter()
    .map(|(id, state, severity, year)| {
        serde_json::json!({"id": id, "state": state, "severity": severity, "year": year})
    })
    .collect();
    assert_same_rows(sql, &actual, &expected);
    assert_same_rows(sql, &actual, &embedded_sql(&catalog, sql));

    // The UDFs, row by row: danger_index(severity, 2) = severity · ln 3, and the distance to
    // Times Square.
    let sql = "SELECT id, danger_index(CAST(severity AS DOUBLE), CAST(2 AS BIGINT)) AS d, \
               haversine_miles(start_lat, start_lng, 40.758, -73.9855) AS miles \
               FROM accidents ORDER BY id";
    let actual = query(&mut client, sql).await;
    let expected: Vec<Value> = rows()
        .iter()
        .map(|r| {
            let severity = f64::from(r.severity.expect("severity"));
            let (lat, lng) = (r.lat.expect("lat"), r.lng.expect("lng"));
            serde_json::json!({
                "id": r.id,
                "d": severity * 3f64.ln(),
                "miles": haversine_miles(lat, lng, 40.758, -73.9855),
            })
        })
        .collect();
    assert_same_rows(sql, &actual, &expected);
    assert_same_rows(sql, &actual, &embedded_sql(&catalog, sql));
    // NY is a few miles from Times Square, LA about 2,450.
    let ny = actual[3]["miles"].as_f64().expect("miles");
    assert!((3.0..4.0).contains(&ny), "{ny}");

    // A UDF over an aggregate: a shuffle between two stages, the UDF in the final one.
    let sql = "SELECT state, COUNT(*) AS n, danger_index(AVG(severity), COUNT(*)) AS danger \
               FROM accidents GROUP BY state ORDER BY state";
    let actual = query(&mut client, sql).await;
    let expected = vec![
        serde_json::json!({"state": "CA", "n": 2, "danger": 2.5 * 3f64.ln()}),
        serde_json::json!({"state": "NY", "n": 1, "danger": 4.0 * 2f64.ln()}),
        serde_json::json!({"state": "TX", "n": 1, "danger": 2f64.ln()}),
    ];
    assert_same_rows(sql, &actual, &expected);
    assert_same_rows(sql, &actual, &embedded_sql(&catalog, sql));

    // The ORC table of the catalog file.
    let sql = "SELECT COUNT(*) AS n, SUM(severity) AS s FROM accidents_orc";
    let actual = query(&mut client, sql).await;
    assert_same_rows(sql, &actual, &[serde_json::json!({"n": 3, "s": 6})]);
    assert_same_rows(sql, &actual, &embedded_sql(&catalog, sql));

    // The session's own view sits beside the lake tables; a lake table cannot be replaced.
    query(
        &mut client,
        "CREATE VIEW severe AS SELECT id FROM accidents WHERE severity >= 3",
    )
    .await;
    let actual = query(&mut client, "SELECT id FROM severe ORDER BY id").await;
    assert_same_rows(
        "view",
        &actual,
        &[
            serde_json::json!({"id": "a2"}),
            serde_json::json!({"id": "a4"}),
        ],
    );
    let err = client
        .execute(
            "CREATE OR REPLACE VIEW accidents AS SELECT 1 AS x".to_string(),
            None,
        )
        .await
        .expect_err("a lake table cannot be replaced");
    assert!(err.to_string().contains("lake table"), "{err}");

    // A bad query is a clear error, and the scheduler keeps serving.
    let err = client
        .execute("SELECT nope FROM accidents".to_string(), None)
        .await
        .expect_err("unknown column");
    assert!(err.to_string().contains("nope"), "{err}");
    let actual = query(&mut client, "SELECT COUNT(*) AS n FROM accidents").await;
    assert_same_rows("count", &actual, &[serde_json::json!({"n": 4})]);
}

#[test]
fn a_bad_catalog_stops_the_scheduler_with_one_clear_line() {
    let work = tempfile::tempdir().expect("temp dir");
    let port = free_ports(1)[0].to_string();
    let run = |args: &[&str]| {
        let log = work.path().join("scheduler.log");
        let mut command = std::process::Command::new(cluster_bin("medallion-scheduler"));
        command
            .args(["--bind-host", "127.0.0.1", "--bind-port", &port])
            .args(args)
            .env_remove("RUST_LOG");
        let mut proc = Proc::spawn("scheduler", command, log.clone());
        let status = {
            let started = std::time::Instant::now();
            loop {
                if let Some(status) = proc.child.try_wait().expect("poll the scheduler") {
                    break status;
                }
                assert!(
                    started.elapsed() < Duration::from_secs(30),
                    "the scheduler did not stop:\n{}",
                    tail(&log, 20)
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        };
        (status.code(), fs::read_to_string(&log).unwrap_or_default())
    };

    let missing = work.path().join("missing.toml");
    let (code, log) = run(&["--catalog", missing.to_str().expect("utf-8")]);
    assert_eq!(code, Some(2), "{log}");
    let errors: Vec<&str> = log.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "{log}");
    assert!(errors[0].contains("missing.toml"), "{log}");
    assert!(!log.contains("panicked"), "{log}");

    let bad = work.path().join("bad.toml");
    fs::write(&bad, "[tables.x]\nurl = \"somewhere\"\nformat = \"csv\"\n").expect("write");
    let (code, log) = run(&["--catalog", bad.to_str().expect("utf-8")]);
    assert_eq!(code, Some(2), "{log}");
    assert!(log.contains("unknown format 'csv'"), "{log}");

    let (code, log) = run(&[
        "--lake",
        work.path().join("no-lake").to_str().expect("utf-8"),
        "--flight-sql-anonymous",
    ]);
    assert_eq!(code, Some(2), "{log}");
    assert!(log.contains("no-lake"), "{log}");
}
