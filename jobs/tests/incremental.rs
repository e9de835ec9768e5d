//! Incremental and per-period publishing through the real `medallion` binary, into the Parquet sink
//! and the real MariaDB (127.0.0.1:3306, root; each test its own database):
//!
//! - `run accidents-datamart --since T` after a full run over an older lake gives exactly the Gold
//!   tables of a full run over the new lake, table for table, value for value; running the same
//!   `--since` again changes nothing; `pipeline_runs` says `full`/`incremental`; new years get
//!   their MySQL partition.
//! - `run daily-aggregations` for day 1, day 2, then day 1 again gives exactly one run over
//!   `[day 1, day 3)`; MySQL shows one partition per month.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use datafusion::prelude::{ParquetReadOptions, SessionContext};
use mysql_async::prelude::Queryable;
use mysql_async::{Row, Value};

use common::medical_lake::{Reading, reading, write_vitals};
use common::mysql_db::TestDb;
use common::{Accident, Format, GOLD_TABLES, Gold, Val, assert_success, write_lake};

/// Columns that differ between any two runs by design: `now()` stamps and MySQL surrogate ids.
fn volatile(table: &str, column: &str) -> bool {
    column == "last_updated" || (column == "id" && table != "accidents_summary")
}

/// `medallion run JOB --lake LAKE --sink SINK --no-progress [extra...]`.
fn run(job: &str, lake: &Path, sink: &str, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_medallion"))
        .args(["run", job, "--lake"])
        .arg(lake)
        .args(["--sink", sink, "--no-progress", "--parallelism", "2"])
        .args(extra)
        .args(if job == "accidents-datamart" {
            // small hotspot groups, so hotspots has rows to compare; correlations, weather
            // anomalies and best infrastructure from 3 rows, so the SPEC 3b tables have rows too
            &["--set", "hotspot_min_accidents=2", "--set", "min_rows=3"][..]
        } else {
            &[]
        })
        .env_remove("RUST_LOG")
        .env_remove("MEDALLION_CONFIG_DIR")
        .output()
        .expect("start the medallion binary")
}

fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

/// Accident `n` at `start_time` with `severity`; the other values vary with `n`.
fn accident(n: usize, start_time: String, severity: i32) -> Accident {
    let states = [("CA", "Los Angeles"), ("TX", "Houston"), ("NY", "New York")];
    let (state, city) = states[n % 3];
    Accident {
        id: leak(format!("A-{n}")),
        state: Some(state),
        city: Some(city),
        severity: Some(severity),
        start_time: Some(leak(start_time)),
        lat: Some(34.0 + (n % 5) as f64 * 0.001),
        lng: Some(-118.0 - (n % 7) as f64 * 0.001),
        distance_mi: Some(0.25 * (n % 9) as f64),
        temperature_f: Some(20.0 + (n % 6) as f64 * 10.0),
        visibility_mi: Some(if n.is_multiple_of(4) { 0.5 } else { 10.0 }),
        weather_condition: Some(["Clear", "Light Rain", "Snow", "Fog", "Thunderstorm"][n % 5]),
        flags_true: if n.is_multiple_of(2) {
            &["crossing"]
        } else {
            &[]
        },
        flags_null: &[],
    }
}

/// The older lake: 30 accidents in 2020, the last 6 in December (at or after `SINCE`).
fn old_rows() -> Vec<Accident> {
    (0..30)
        .map(|n| {
            let start = if n < 24 {
                format!(
                    "2020-{:02}-{:02} {:02}:15:00",
                    1 + n % 11,
                    1 + n % 27,
                    n % 24
                )
            } else {
                format!("2020-12-{:02} {:02}:30:00", n - 20, n % 24)
            };
            accident(n, start, 1 + (n % 4) as i32)
        })
        .collect()
}

/// The newer lake: the December accidents re-graded (severity changed) and 20 new ones in 2021.
fn new_rows() -> Vec<Accident> {
    let mut rows = old_rows();
    for row in rows.iter_mut().skip(24) {
        row.severity = Some(5 - row.severity.unwrap_or(1));
    }
    rows.extend((30..50).map(|n| {
        accident(
            n,
            format!(
                "2021-{:02}-{:02} {:02}:45:00",
                1 + n % 12,
                1 + n % 28,
                n % 24
            ),
            1 + (n % 4) as i32,
        )
    }));
    rows
}

/// Accidents at or after this time are recomputed by the incremental run.
const SINCE: &str = "2020-12-01T00:00:00";

/// One cell as comparable text (floats to 9 significant digits: aggregation order may differ).
fn val_text(v: &Val) -> String {
    match v {
        Val::Float(x) => format!("{x:.8e}"),
        other => format!("{other:?}"),
    }
}

/// Every row of every Gold table under `out`, without the volatile columns, sorted.
async fn file_tables(out: &Path, tables: &[&str]) -> Vec<(String, Vec<String>)> {
    let ctx = SessionContext::new();
    for table in tables {
        ctx.register_parquet(
            *table,
            format!("{}/", out.join(table).display()),
            ParquetReadOptions::default(),
        )
        .await
        .unwrap_or_else(|e| panic!("register {table}: {e}"));
    }
    let gold = Gold {
        out: out.to_path_buf(),
        ctx,
    };
    let mut all = Vec::new();
    for table in tables {
        let columns: Vec<String> = gold
            .columns(table)
            .await
            .into_iter()
            .filter(|c| !volatile(table, c))
            .map(|c| format!("\"{c}\""))
            .collect();
        let rows = gold
            .rows(&format!("SELECT {} FROM {table}", columns.join(", ")))
            .await;
        let mut rows: Vec<String> = rows
            .iter()
            .map(|r| r.iter().map(val_text).collect::<Vec<_>>().join(" | "))
            .collect();
        rows.sort();
        all.push((table.to_string(), rows));
    }
    all
}

/// Every row of every Gold table in MySQL database `db`, without the volatile columns, sorted.
async fn mysql_tables(db: &TestDb, tables: &[&str]) -> Vec<(String, Vec<String>)> {
    let mut conn = db.conn().await;
    let mut all = Vec::new();
    for table in tables {
        let rows: Vec<Row> = conn
            .query(format!("SELECT * FROM `{table}`"))
            .await
            .unwrap_or_else(|e| panic!("read {table}: {e}"));
        let mut texts: Vec<String> = rows
            .into_iter()
            .map(|row| {
                let names: Vec<String> = row
                    .columns_ref()
                    .iter()
                    .map(|c| c.name_str().to_string())
                    .collect();
                let values = row.unwrap();
                names
                    .iter()
                    .zip(values)
                    .filter(|(name, _)| !volatile(table, name))
                    .map(|(_, value)| match value {
                        Value::Double(x) => format!("{x:.8e}"),
                        Value::Float(x) => format!("{x:.8e}"),
                        other => format!("{other:?}"),
                    })
                    .collect::<Vec<_>>()
                    .join(" | ")
            })
            .collect();
        texts.sort();
        all.push((table.to_string(), texts));
    }
    let _ = conn.disconnect().await;
    all
}

/// Panics naming the first table that differs.
fn assert_same(what: &str, actual: &[(String, Vec<String>)], expected: &[(String, Vec<String>)]) {
    for ((table, a), (_, e)) in actual.iter().zip(expected) {
        assert_eq!(
            a.len(),
            e.len(),
            "{what}: {table} has {} rows, expected {}",
            a.len(),
            e.len()
        );
        for (x, y) in a.iter().zip(e) {
            assert_eq!(x, y, "{what}: {table} differs");
        }
    }
}

/// The partition names of `db.table`.
async fn partitions(db: &TestDb, table: &str) -> Vec<String> {
    let mut conn = db.conn().await;
    let names: Vec<String> = conn
        .exec(
            "SELECT PARTITION_NAME FROM information_schema.PARTITIONS
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND PARTITION_NAME IS NOT NULL
             ORDER BY PARTITION_ORDINAL_POSITION",
            (db.name.as_str(), table),
        )
        .await
        .unwrap();
    let _ = conn.disconnect().await;
    names
}

/// The columns of index `index` on `db.table`, in order, each with `A` (ascending) or `D`
/// (descending).
async fn index_columns(db: &TestDb, table: &str, index: &str) -> Vec<(String, String)> {
    let mut conn = db.conn().await;
    let columns = conn
        .exec(
            "SELECT COLUMN_NAME, COLLATION FROM information_schema.STATISTICS
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = ?
             ORDER BY SEQ_IN_INDEX",
            (db.name.as_str(), table, index),
        )
        .await
        .unwrap();
    let _ = conn.disconnect().await;
    columns
}

#[tokio::test]
async fn incremental_runs_equal_a_full_run_in_parquet_and_mysql() {
    let dir = tempfile::tempdir().unwrap();
    let old_lake = write_lake(&dir.path().join("old"), &old_rows(), Format::Parquet);
    let new_lake = write_lake(&dir.path().join("new"), &new_rows(), Format::Parquet);

    // --- Parquet sink
    let full = dir.path().join("full");
    let incremental = dir.path().join("incremental");
    let full_sink = format!("file://{}", full.display());
    let inc_sink = format!("file://{}", incremental.display());
    let job = "accidents-datamart";
    assert_success(&run(job, &new_lake, &full_sink, &[]), "full run, new lake");
    assert_success(&run(job, &old_lake, &inc_sink, &[]), "full run, old lake");
    let before = file_tables(&incremental, &GOLD_TABLES).await;
    let expected = file_tables(&full, &GOLD_TABLES).await;
    // the older lake's summary: 30 rows, the newer 50; they differ before the incremental run
    assert_eq!(before[0].1.len(), 30);
    assert_eq!(expected[0].1.len(), 50);
    assert_ne!(before, expected);
    for attempt in ["first", "second"] {
        let output = run(job, &new_lake, &inc_sink, &["--since", SINCE]);
        assert_success(&output, &format!("{attempt} incremental run (Parquet)"));
        // 6 re-graded December accidents + 20 new ones upserted
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stdout
                .lines()
                .any(|l| l.contains("accidents_summary") && l.trim_end().ends_with("26 rows")),
            "{stdout}"
        );
        let actual = file_tables(&incremental, &GOLD_TABLES).await;
        assert_same(
            &format!("Parquet, {attempt} --since run"),
            &actual,
            &expected,
        );
    }
    let runs = file_tables(&incremental, &["pipeline_runs"]).await;
    let gold = Gold::open(&incremental).await;
    let modes = gold
        .rows("SELECT mode FROM pipeline_runs ORDER BY started_at")
        .await;
    let modes: Vec<String> = modes.iter().map(|r| val_text(&r[0])).collect();
    assert_eq!(
        modes,
        [
            "Str(\"full\")",
            "Str(\"incremental\")",
            "Str(\"incremental\")"
        ],
        "{runs:?}"
    );

    // --- MySQL sink
    let full_db = TestDb::create("incr_full").await;
    let inc_db = TestDb::create("incr_upsert").await;
    assert_success(
        &run(job, &new_lake, &full_db.root_url(), &[]),
        "full run into MySQL",
    );
    assert_success(
        &run(job, &old_lake, &inc_db.root_url(), &[]),
        "full run of the old lake into MySQL",
    );
    assert_eq!(
        partitions(&inc_db, "accidents_summary").await,
        ["p2020", "p_future"]
    );
    let expected = mysql_tables(&full_db, &GOLD_TABLES).await;
    assert_eq!(expected[0].1.len(), 50);
    for attempt in ["first", "second"] {
        assert_success(
            &run(job, &new_lake, &inc_db.root_url(), &["--since", SINCE]),
            &format!("{attempt} incremental run into MySQL"),
        );
        let actual = mysql_tables(&inc_db, &GOLD_TABLES).await;
        assert_same(&format!("MySQL, {attempt} --since run"), &actual, &expected);
        // the 2021 rows got their own partition, split from p_future
        assert_eq!(
            partitions(&inc_db, "accidents_summary").await,
            ["p2020", "p2021", "p_future"]
        );
    }
    let mut conn = inc_db.conn().await;
    let modes: Vec<(String, String)> = conn
        .query("SELECT mode, status FROM pipeline_runs ORDER BY started_at")
        .await
        .unwrap();
    let _ = conn.disconnect().await;
    let modes: Vec<&str> = modes.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(modes, ["full", "incremental", "incremental"]);
    // the republished aggregate tables keep seed 002's API indexes, descending where it says so
    let pairs = |cols: &[(&str, &str)]| -> Vec<(String, String)> {
        cols.iter()
            .map(|(c, o)| (c.to_string(), o.to_string()))
            .collect()
    };
    assert_eq!(
        index_columns(&inc_db, "hotspots", "idx_hotspots_api").await,
        pairs(&[
            ("danger_score", "D"),
            ("state", "A"),
            ("city", "A"),
            ("latitude", "A"),
            ("longitude", "A"),
            ("accident_count", "A"),
            ("severity_avg", "A"),
            ("radius_miles", "A"),
        ])
    );
    assert_eq!(
        index_columns(&inc_db, "kpis_security", "idx_security_api").await,
        pairs(&[("danger_index", "D"), ("state", "A")])
    );
    assert_eq!(
        index_columns(&inc_db, "kpis_security", "idx_security_ranking").await,
        pairs(&[("city", "A"), ("hotspot_rank", "A")])
    );
    assert_eq!(
        index_columns(&inc_db, "kpis_temporal", "idx_temporal_api").await,
        pairs(&[("period_type", "A"), ("state", "A"), ("period_value", "A")])
    );
    // no staging table is left behind
    let mut conn = inc_db.conn().await;
    let left: Vec<String> = conn
        .exec(
            "SELECT TABLE_NAME FROM information_schema.TABLES
             WHERE TABLE_SCHEMA = ? AND (TABLE_NAME LIKE 'stg\\_%' OR TABLE_NAME LIKE 'old\\_%')",
            (inc_db.name.as_str(),),
        )
        .await
        .unwrap();
    let _ = conn.disconnect().await;
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn since_is_refused_for_a_job_without_incremental_tables_and_when_malformed() {
    let dir = tempfile::tempdir().unwrap();
    let sink = format!("file://{}", dir.path().join("gold").display());
    let output = run(
        "daily-aggregations",
        dir.path(),
        &sink,
        &["--since", "2024-01-01T00:00:00"],
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--since") && stderr.contains("no incremental"),
        "{stderr}"
    );
    let output = run(
        "accidents-datamart",
        dir.path(),
        &sink,
        &["--since", "yesterday"],
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("'yesterday' is not a timestamp"),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------------------------
// Per-period runs of daily-aggregations
// ---------------------------------------------------------------------------------------------

/// Readings of two patients on 2024-03-04, 05 and 06 and 2024-04-01: every hour, SpO2 and
/// temperature varying with the hour and the day.
fn vitals_rows() -> Vec<Reading> {
    let mut rows = Vec::new();
    for (d, day) in ["2024-03-04", "2024-03-05", "2024-03-06", "2024-04-01"]
        .iter()
        .enumerate()
    {
        for (p, patient) in ["P1", "P2"].iter().enumerate() {
            for hour in 0..24 {
                let spo2 = 85.0 + ((hour + d * 3 + p * 5) % 14) as f64;
                let temp = 36.5 + ((hour + d + p) % 4) as f64 * 0.6;
                rows.push(reading(patient, &format!("{day} {hour:02}:00"), spo2, temp));
            }
        }
    }
    rows
}

#[tokio::test]
async fn daily_runs_replace_only_their_day_in_parquet_and_mysql() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    write_vitals(&lake, &vitals_rows());
    let job = "daily-aggregations";
    let day_by_day = [
        ["--date", "2024-03-04"],
        ["--date", "2024-03-05"],
        ["--date", "2024-03-04"],
    ];
    let backfill = ["--from", "2024-03-04", "--to", "2024-03-05"];
    let tables = ["patient_daily_vitals"];

    // Parquet
    let once = dir.path().join("once");
    let daily = dir.path().join("daily");
    let once_sink = format!("file://{}", once.display());
    let daily_sink = format!("file://{}", daily.display());
    assert_success(
        &run(job, &lake, &once_sink, &backfill),
        "backfill [03-04, 03-06)",
    );
    for args in &day_by_day {
        assert_success(&run(job, &lake, &daily_sink, args), &args.join(" "));
    }
    let expected = file_tables(&once, &tables).await;
    // 2 patients x 2 days
    assert_eq!(expected[0].1.len(), 4, "{expected:?}");
    let actual = file_tables(&daily, &tables).await;
    assert_same("Parquet, day by day", &actual, &expected);
    // a run without a period replaces the whole table: all 4 days
    assert_success(&run(job, &lake, &daily_sink, &[]), "full run");
    assert_eq!(file_tables(&daily, &tables).await[0].1.len(), 8);

    // MySQL
    let once_db = TestDb::create("period_once").await;
    let daily_db = TestDb::create("period_daily").await;
    assert_success(
        &run(job, &lake, &once_db.root_url(), &backfill),
        "backfill into MySQL",
    );
    for args in &day_by_day {
        assert_success(
            &run(job, &lake, &daily_db.root_url(), args),
            &format!("{} into MySQL", args.join(" ")),
        );
    }
    let expected = mysql_tables(&once_db, &tables).await;
    assert_eq!(expected[0].1.len(), 4, "{expected:?}");
    let actual = mysql_tables(&daily_db, &tables).await;
    assert_same("MySQL, day by day", &actual, &expected);
    assert_eq!(
        partitions(&daily_db, "patient_daily_vitals").await,
        ["p202403", "p_future"]
    );
    // a day of a new month gets its partition; March stays
    assert_success(
        &run(job, &lake, &daily_db.root_url(), &["--date", "2024-04-01"]),
        "--date 2024-04-01 into MySQL",
    );
    assert_eq!(
        partitions(&daily_db, "patient_daily_vitals").await,
        ["p202403", "p202404", "p_future"]
    );
    assert_eq!(mysql_tables(&daily_db, &tables).await[0].1.len(), 6);
}
