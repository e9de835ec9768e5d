//! Flight SQL as a BI tool reaches it: the real ADBC Python driver (`adbc-driver-flightsql`, run by
//! `tests/adbc/probe.py`) against the real `medallion-scheduler` and `medallion-executor`.
//!
//! - Authenticated queries answer like the embedded `medallion sql`; a prepared statement without
//!   parameters works; the schema announced by GetFlightInfo equals the data's.
//! - A wrong password, an unknown user and a client without credentials are refused.
//! - Nothing outside the lake can be read, in any form tried: external tables over `/etc/passwd`,
//!   `file://` folders, a `..` path out of the lake, another bucket's `s3://` URL, views over them,
//!   file-reading table functions. An external table inside the lake is allowed.
//! - An executor with `--allow-read` refuses a task that scans outside it even when the scheduler
//!   lets the plan through.
//!
//! The Python interpreter is `MEDALLION_TEST_PYTHON` (set by `.ci/run`, which installs the driver
//! into a venv), else the venv `.ci/run` makes, else `python3`.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::adbc;
use common::cluster::{Cluster, cluster_bin};
use common::*;
use serde_json::{Value, json};

/// Four accidents: two in CA (2021), one in TX and one in NY (2022).
fn rows() -> Vec<Accident> {
    ["CA", "CA", "TX", "NY"]
        .iter()
        .zip(["a1", "a2", "a3", "a4"])
        .zip([2, 3, 1, 4])
        .zip([
            "2021-03-05 08:15:00",
            "2021-04-05 09:15:00",
            "2022-01-05 10:15:00",
            "2022-06-01 11:15:00",
        ])
        .map(|(((state, id), severity), ts)| Accident {
            state: Some(state),
            ..Accident::clear_day_in_la(id, severity, ts)
        })
        .collect()
}

/// The statements' results of the probe named `name`.
fn statements<'a>(results: &'a [Value], name: &str) -> &'a [Value] {
    let probe = results
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no probe {name}"));
    assert_eq!(probe["connected"], true, "{name}: {probe}");
    probe["statements"].as_array().expect("statements")
}

/// `sql` run by the embedded `medallion sql --catalog FILE --format json`.
fn embedded(catalog: &Path, sql: &str) -> Vec<Value> {
    embedded_sql(catalog.to_str().expect("utf-8"), sql)
}

/// An htpasswd file with the user `analyst`, password `s3cret` (bcrypt, as `htpasswd -B` writes).
fn users_file(dir: &Path) -> PathBuf {
    let hash = bcrypt::hash("s3cret", 5)
        .expect("bcrypt")
        .replacen("$2b$", "$2y$", 1);
    let path = dir.join("users.htpasswd");
    fs::write(&path, format!("analyst:{hash}\n")).expect("write the users file");
    path
}

/// Asserts a statement was refused with a message containing `expected`, and returned nothing.
fn assert_refused(what: &str, result: &Value, expected: &[&str]) {
    assert_eq!(result["ok"], false, "{what} was not refused: {result}");
    let error = result["error"].as_str().unwrap_or_default();
    assert!(
        expected.iter().any(|e| error.contains(e)),
        "{what}: unexpected error {error}"
    );
    assert!(!error.contains("root:x:0:0"), "{what} leaked: {error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adbc_clients_authenticate_and_read_the_lake_only() {
    let work = tempfile::tempdir().expect("temp dir");
    let lake = work.path().join("lake");
    write_lake(&lake, &rows(), Format::Parquet);
    // a Parquet table and a CSV file beside the lake, which no client may read
    let outside = work.path().join("outside");
    write_lake(&outside, &rows(), Format::Parquet);
    fs::write(outside.join("secret.csv"), "secret\ntop\n").expect("write");
    let catalog = work.path().join("medallion.toml");
    fs::write(&catalog, "lake = \"lake\"\n").expect("write the catalog");
    let users = users_file(work.path());
    let lake_str = lake.to_str().expect("utf-8").to_string();
    let cluster = Cluster::start_with(
        1,
        &[
            "--catalog",
            catalog.to_str().expect("utf-8"),
            "--flight-sql-users",
            users.to_str().expect("utf-8"),
        ],
        &[("MEDALLION_EXECUTOR_ALLOW_READ", &lake_str)],
    );

    let queries = [
        "SELECT id, state, severity FROM accidents ORDER BY id",
        "SELECT state, COUNT(*) AS n, AVG(severity) AS s FROM accidents GROUP BY state ORDER BY state",
        "SELECT id, danger_index(CAST(severity AS DOUBLE), CAST(2 AS BIGINT)) AS d FROM accidents \
         ORDER BY id",
    ];
    let escape = |name: &str, sql: String| format!("CREATE EXTERNAL TABLE {name} {sql}");
    let outside_dir = outside.display().to_string();
    let traversal = format!("{}/../outside/accidents/", lake.display());
    let escapes = vec![
        escape(
            "pw",
            "(line VARCHAR) STORED AS CSV LOCATION '/etc/passwd' \
             OPTIONS ('format.delimiter' '~', 'format.has_header' 'false')"
                .into(),
        ),
        escape(
            "etc",
            "(line VARCHAR) STORED AS CSV LOCATION 'file:///etc/' \
             OPTIONS ('format.delimiter' '~', 'format.has_header' 'false')"
                .into(),
        ),
        escape(
            "beside",
            format!("STORED AS PARQUET LOCATION '{outside_dir}/accidents/'"),
        ),
        escape("dots", format!("STORED AS PARQUET LOCATION '{traversal}'")),
        escape(
            "secret",
            format!(
                "STORED AS CSV LOCATION 'file://{outside_dir}/secret.csv' \
                 OPTIONS ('format.has_header' 'true')"
            ),
        ),
        escape(
            "bucket",
            "STORED AS PARQUET LOCATION 's3://another-bucket/silver/'".into(),
        ),
        "SELECT * FROM pw".into(),
        "CREATE VIEW v AS SELECT * FROM pw".into(),
        "SELECT * FROM read_csv('/etc/passwd')".into(),
        "SELECT * FROM parquet_metadata('/etc/passwd')".into(),
        // inside the lake: allowed
        escape(
            "again",
            format!("STORED AS PARQUET LOCATION '{lake_str}/accidents/'"),
        ),
        "SELECT COUNT(*) AS n FROM again".into(),
    ];
    let probes = json!([
        {"name": "analyst", "user": "analyst", "password": "s3cret", "sql": queries},
        {"name": "prepared", "user": "analyst", "password": "s3cret", "prepare": true,
         "sql": ["SELECT COUNT(*) AS n FROM accidents"]},
        {"name": "wrong password", "user": "analyst", "password": "wrong", "sql": ["SELECT 1 AS x"]},
        {"name": "unknown user", "user": "mallory", "password": "s3cret", "sql": ["SELECT 1 AS x"]},
        {"name": "anonymous", "user": null, "sql": ["SELECT 1 AS x"]},
        {"name": "escapes", "user": "analyst", "password": "s3cret", "sql": escapes},
    ]);
    let results = adbc::probe(
        &format!("grpc://127.0.0.1:{}", cluster.port),
        &probes,
        work.path(),
    );

    // authenticated: the embedded engine's answers, with the announced schema
    for (sql, result) in queries.iter().zip(statements(&results, "analyst")) {
        assert_eq!(result["ok"], true, "{sql}: {result}\n{}", cluster.logs());
        assert_eq!(result["schema_equal"], true, "{sql}: {result}");
        let expected = embedded(&catalog, sql);
        let actual = result["rows"].as_array().expect("rows");
        assert_eq!(actual.len(), expected.len(), "{sql}: {result}");
        for (a, e) in actual.iter().zip(&expected) {
            for (key, value) in e.as_object().expect("object") {
                let same = match (value.as_f64(), a[key].as_f64()) {
                    (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(1.0),
                    _ => a[key] == *value,
                };
                assert!(same, "{sql}: {key} {a} vs {e}");
            }
        }
    }
    let prepared = &statements(&results, "prepared")[0];
    assert_eq!(prepared["ok"], true, "{prepared}");
    assert_eq!(prepared["rows"], json!([{"n": 4}]), "{prepared}");

    // refused clients: at connect time or at their first statement, never with data
    for name in ["wrong password", "unknown user", "anonymous"] {
        let probe = results.iter().find(|r| r["name"] == name).expect("probe");
        let refused = probe["connected"] == false
            || probe["statements"]
                .as_array()
                .is_some_and(|s| s.iter().all(|r| r["ok"] == false));
        assert!(refused, "{name} was let in: {probe}");
        let text = probe.to_string();
        assert!(
            text.contains("Unauthenticated")
                || text.contains("UNAUTHENTICATED")
                || text.contains("invalid user name or password")
                || text.contains("authenticate"),
            "{name}: {probe}"
        );
    }

    // nothing outside the lake, in any form; inside it, an external table works
    let escapes = statements(&results, "escapes");
    let not_allowed = ["is not allowed"];
    for (i, what) in [
        "/etc/passwd",
        "file:///etc/",
        "a Parquet folder beside the lake",
        "a .. path out of the lake",
        "a CSV file beside the lake",
        "another bucket",
    ]
    .iter()
    .enumerate()
    {
        assert_refused(what, &escapes[i], &not_allowed);
    }
    assert_refused(
        "a scan of the refused table",
        &escapes[6],
        &["pw", "not found"],
    );
    assert_refused("a view over it", &escapes[7], &["pw", "not found"]);
    assert_refused(
        "read_csv",
        &escapes[8],
        &["read_csv", "not found", "not allowed"],
    );
    assert_refused(
        "parquet_metadata",
        &escapes[9],
        &["parquet_metadata", "not found", "not allowed"],
    );
    assert_eq!(escapes[10]["ok"], true, "inside the lake: {}", escapes[10]);
    assert_eq!(escapes[11]["rows"], json!([{"n": 4}]), "{}", escapes[11]);
    let logs = cluster.logs();
    assert!(!logs.contains("s3cret"), "a password reached the logs");
}

/// A scheduler without a lake plans whatever a `medallion submit` client sends; an executor with
/// `--allow-read` still refuses the tasks that scan outside its folders, and runs the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executors_refuse_tasks_that_read_outside_their_folders() {
    let work = tempfile::tempdir().expect("temp dir");
    let lake = work.path().join("lake");
    write_lake(&lake, &rows(), Format::Parquet);
    let outside = work.path().join("outside");
    write_lake(&outside, &rows(), Format::Parquet);
    let lake_str = lake.to_str().expect("utf-8").to_string();
    let cluster = Cluster::start_with(1, &[], &[("MEDALLION_EXECUTOR_ALLOW_READ", &lake_str)]);
    assert!(cluster_bin("medallion-executor").exists());
    let submit = |lake: &Path, gold: &Path| {
        medallion(&[
            "submit",
            "accidents-datamart",
            "--scheduler",
            &cluster.url(),
            "--lake",
            lake.to_str().expect("utf-8"),
            "--sink",
            &format!("file://{}", gold.display()),
            "--no-progress",
        ])
    };
    let gold = work.path().join("gold");
    let refused = submit(&outside, &gold);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success(),
        "a run outside the folders succeeded"
    );
    assert!(
        stderr.contains("is not allowed"),
        "{stderr}\n{}",
        cluster.logs()
    );
    assert!(
        !gold.join("accidents_summary").exists(),
        "a refused run published Gold"
    );
    let allowed = submit(&lake, &gold);
    assert_success(&allowed, "a run inside the executor's folders");
    assert!(gold.join("accidents_summary").exists());
}

/// A session's bearer token expires after `--flight-sql-session-ttl` idle seconds: the next
/// statement is refused as unauthenticated, while a client active more often keeps its session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_session_token_expires() {
    let work = tempfile::tempdir().expect("temp dir");
    let lake = work.path().join("lake");
    write_lake(&lake, &rows(), Format::Parquet);
    let users = users_file(work.path());
    let lake_str = lake.to_str().expect("utf-8").to_string();
    let cluster = Cluster::start_with(
        1,
        &[
            "--lake",
            &lake_str,
            "--flight-sql-users",
            users.to_str().expect("utf-8"),
            "--flight-sql-session-ttl",
            "2",
        ],
        &[("MEDALLION_EXECUTOR_ALLOW_READ", &lake_str)],
    );
    let count = "SELECT COUNT(*) AS n FROM accidents";
    let probes = json!([
        // active every second for 4 s: the idle time never reaches 2 s
        {"name": "active", "user": "analyst", "password": "s3cret",
         "sql": [count, "-- sleep 1", count, "-- sleep 1", count, "-- sleep 1", count,
                 "-- sleep 1", count]},
        // idle for 3.5 s after its first statement
        {"name": "idle", "user": "analyst", "password": "s3cret",
         "sql": [count, "-- sleep 3.5", count]},
    ]);
    let results = adbc::probe(
        &format!("grpc://127.0.0.1:{}", cluster.port),
        &probes,
        work.path(),
    );
    for result in statements(&results, "active") {
        assert_eq!(result["ok"], true, "active: {result}\n{}", cluster.logs());
    }
    let idle = statements(&results, "idle");
    assert_eq!(idle[0]["ok"], true, "idle, first statement: {}", idle[0]);
    assert_eq!(idle[0]["rows"], json!([{"n": 4}]), "{}", idle[0]);
    assert_eq!(
        idle[2]["ok"], false,
        "an expired token was accepted: {}",
        idle[2]
    );
    let error = idle[2]["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("expired") && error.to_lowercase().contains("unauthenticated"),
        "idle: {error}"
    );
    assert!(!error.contains("s3cret"), "the password leaked: {error}");
}
