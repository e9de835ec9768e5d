//! The MySQL sink whatever the order of the lake (issue 23): lakes written in time order (as Silver
//! usually is) and shuffled, loaded by the real `medallion` into the real MariaDB.
//!
//! Every task of the sink reports, in its log line, how many rows reached their table after a row
//! with a greater primary key; the sink sorts each task's rows by year, then key, so that count must
//! be 0 for every task, whatever the lake's order. The published `accidents_summary` must hold the
//! same rows as the Parquet sink's, in the same year partitions, and the two tasks must have loaded
//! balanced shares of the years.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::mysql_db::TestDb;
use common::*;
use mysql_async::prelude::Queryable;
use serde_json::Value;

/// `medallion generate accidents` of `rows` rows in `order` into `lake`.
fn generate(lake: &Path, rows: u64, order: &str) {
    let output = medallion(&[
        "generate",
        "accidents",
        "--rows",
        &rows.to_string(),
        "--seed",
        "11",
        "--order",
        order,
        "--out",
        lake.to_str().expect("utf-8"),
    ]);
    assert_success(&output, "generate");
}

/// The sink's per-task log events of `table` in a JSON log: (rows, rows out of key order).
fn sink_tasks(stderr: &str, table: &str) -> Vec<(u64, u64)> {
    stderr
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .map(|event| event.get("fields").cloned().unwrap_or(event))
        .filter(|f| {
            f["table"] == table
                && f["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("MySQL sink task loaded"))
        })
        .map(|f| {
            (
                f["rows"].as_u64().expect("rows"),
                f["rows_out_of_key_order"].as_u64().expect("count"),
            )
        })
        .collect()
}

/// The position in a JSON log of each event whose message starts with `message`, with its
/// `table` or `view` field.
fn events(stderr: &str, message: &str) -> Vec<(usize, String)> {
    stderr
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .map(|event| event.get("fields").cloned().unwrap_or(event))
        .enumerate()
        .filter(|(_, f)| {
            f["message"]
                .as_str()
                .is_some_and(|m| m.starts_with(message))
        })
        .map(|(at, f)| {
            let name = f["table"].as_str().or(f["view"].as_str()).unwrap_or("");
            (at, name.to_string())
        })
        .collect()
}

/// (id, accident_date, severity) of every row, sorted by id, from MySQL.
async fn mysql_rows(db: &TestDb) -> Vec<(String, String, i64)> {
    let mut conn = db.conn().await;
    conn.query_map(
        "SELECT id, CAST(accident_date AS CHAR), severity FROM accidents_summary ORDER BY id",
        |(id, date, severity): (String, String, i64)| (id, date, severity),
    )
    .await
    .expect("read accidents_summary")
}

/// The same from the Parquet Gold.
async fn parquet_rows(gold: &Path) -> Vec<(String, String, i64)> {
    let gold = Gold::open(gold).await;
    gold.rows(
        "SELECT id, CAST(accident_date AS VARCHAR), CAST(severity AS BIGINT) \
         FROM accidents_summary ORDER BY id",
    )
    .await
    .into_iter()
    .map(|row| {
        let text = |v: &Val| match v {
            Val::Str(s) => s.clone(),
            other => panic!("not text: {other:?}"),
        };
        (
            text(&row[0]),
            text(&row[1]),
            row[2].as_i64().expect("severity"),
        )
    })
    .collect()
}

/// Rows per partition of the published table, from the server's statistics of each partition.
async fn partition_rows(db: &TestDb) -> BTreeMap<String, u64> {
    let mut conn = db.conn().await;
    let names: Vec<String> = conn
        .query(format!(
            "SELECT PARTITION_NAME FROM information_schema.PARTITIONS \
             WHERE TABLE_SCHEMA = '{}' AND TABLE_NAME = 'accidents_summary' \
             ORDER BY PARTITION_ORDINAL_POSITION",
            db.name
        ))
        .await
        .expect("partitions");
    let mut rows = BTreeMap::new();
    for name in names {
        let count: Option<u64> = conn
            .query_first(format!(
                "SELECT COUNT(*) FROM accidents_summary PARTITION (`{name}`)"
            ))
            .await
            .expect("count a partition");
        rows.insert(name, count.unwrap_or(0));
    }
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_ordered_and_shuffled_lakes_reach_each_year_table_in_key_order() {
    for order in ["time", "random"] {
        let work = tempfile::tempdir().expect("temp dir");
        let lake = work.path().join("lake");
        generate(&lake, 60_000, order);
        let db = TestDb::create("sink_order").await;
        let output = medallion(&[
            "--log-format",
            "json",
            "run",
            "accidents-datamart",
            "--lake",
            lake.to_str().expect("utf-8"),
            "--sink",
            &db.root_url(),
            "--no-progress",
            "--parallelism",
            "2",
        ]);
        assert_success(&output, "run into MySQL");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tasks = sink_tasks(&stderr, "accidents_summary");
        assert!(
            !tasks.is_empty(),
            "{order}: no sink task reported its key order\n{stderr}"
        );
        assert_eq!(
            tasks.iter().map(|(rows, _)| rows).sum::<u64>(),
            60_000,
            "{order}: {tasks:?}"
        );
        for (rows, out_of_order) in &tasks {
            assert_eq!(
                *out_of_order, 0,
                "{order}: a task sent {out_of_order} of its {rows} rows out of key order"
            );
        }
        assert!(
            !stderr.contains("out of primary key order"),
            "{order}: {stderr}"
        );
        // two queries at once by default with MySQL: accidents_summary loads while the views are
        // computed; the Gold tables that read the views start only after the last one
        let views = events(&stderr, "view materialized");
        let started = events(&stderr, "Gold table started");
        let start_of = |table: &str| {
            started
                .iter()
                .find(|(_, t)| t == table)
                .unwrap_or_else(|| panic!("{order}: {table} never started\n{stderr}"))
                .0
        };
        assert_eq!(views.len(), 5, "{order}: {views:?}");
        let (first_view, last_view) = (views[0].0, views[views.len() - 1].0);
        assert!(
            start_of("accidents_summary") < first_view,
            "{order}: accidents_summary waited for the views: {started:?} {views:?}"
        );
        for table in [
            "insights",
            "kpis_anomalies",
            "kpis_correlations",
            "kpis_temporal",
            "kpis_weather",
        ] {
            assert!(
                start_of(table) > last_view,
                "{order}: {table} started before the views it reads: {started:?} {views:?}"
            );
        }

        let gold = work.path().join("gold");
        assert_success(
            &run_datamart(&lake, &gold, &["--no-progress"]),
            "run into Parquet",
        );
        let expected = parquet_rows(&gold).await;
        assert_eq!(expected.len(), 60_000);
        let actual = mysql_rows(&db).await;
        assert!(actual == expected, "{order}: MySQL and Parquet Gold differ");
        let mut per_year: BTreeMap<String, u64> = BTreeMap::new();
        for (_, date, _) in &expected {
            *per_year.entry(format!("p{}", &date[..4])).or_default() += 1;
        }
        // the sink counted each year's rows first and gave whole years to its two tasks, largest
        // first: their loads differ by at most one year's rows (hashing the year gave one task
        // twice the rows of the other, and the load ended as one stream)
        let largest_year = per_year.values().copied().max().expect("years");
        let loaded: Vec<u64> = tasks.iter().map(|(rows, _)| *rows).collect();
        let (most, least) = (
            loaded.iter().copied().max().unwrap_or(0),
            loaded.iter().copied().min().unwrap_or(0),
        );
        assert_eq!(loaded.len(), 2, "{order}: {loaded:?}");
        assert!(
            most - least <= largest_year,
            "{order}: tasks loaded {loaded:?}, years {per_year:?}"
        );
        let spread = events(&stderr, "Gold table years spread over the sink's tasks");
        assert_eq!(
            spread.iter().map(|(_, t)| t.as_str()).collect::<Vec<_>>(),
            vec!["accidents_summary"],
            "{order}"
        );
        per_year.insert("p_future".into(), 0);
        assert_eq!(partition_rows(&db).await, per_year, "{order}");
    }
}
