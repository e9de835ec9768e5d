//! The MySQL sink against the real MariaDB on 127.0.0.1:3306 (root, no password): every test works
//! in its own database and drops it at the end.
//!
//! The Gold DataFrames are read from small Parquet files written here, through an embedded Ballista
//! cluster (scheduler and executor in this process), so the plans go through medallion's codecs
//! exactly as on a cluster.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Date32Array, Float64Array, Int32Array, RecordBatch, StringArray, UInt64Array,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::TableProvider;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::dml::InsertOp;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};
use datafusion::physical_plan::{ExecutionPlan, collect, displayable};
use datafusion::prelude::{DataFrame, ParquetReadOptions, SessionContext};
use futures::StreamExt;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row};

use medallion_core::error::Error;
use medallion_core::run_record::{RunRecord, RunStatus};
use medallion_core::session::in_process_cluster_context;
use medallion_core::sink::{GoldSink, GoldTable, MySqlSink, MySqlSinkExec, MySqlUrl, SinkTarget};
use medallion_core::table_options::TableOptions;

mod common;
use common::mysql_db::TestDb;

fn options(directives: &[&str]) -> TableOptions {
    let mut options = TableOptions::default();
    for d in directives {
        options.apply_directive(d).unwrap();
    }
    options
}

/// accidents_summary's options (jobs/sql/accidents-datamart/gold/accidents_summary.sql).
fn summary_options() -> TableOptions {
    options(&[
        "primary_key = id, accident_date",
        "partition_by_year = accident_date",
        "index idx_state_date = state, accident_date",
        "index idx_severity_weather = severity, weather_category",
        "index idx_location = state, city",
        "index idx_temporal = accident_date, accident_hour",
    ])
}

/// One accidents_summary-like row.
#[derive(Clone, Debug)]
struct SummaryRow {
    id: String,
    state: String,
    city: Option<String>,
    severity: i32,
    /// days since 1970-01-01
    accident_date: i32,
    accident_hour: i32,
    weather_category: String,
    safety_score: f64,
    distance_miles: Option<f64>,
}

/// 2019-01-01, 2020-01-01, 2021-01-01 as days since the epoch.
const YEAR_STARTS: [(i32, i32); 3] = [(2019, 17_897), (2020, 18_262), (2021, 18_628)];

/// `n` rows over three years, with awkward strings and floats.
fn summary_rows(n: usize) -> Vec<SummaryRow> {
    let cities = [
        Some("Los Angeles"),
        Some("tab\there"),
        Some("new\nline"),
        Some("back\\slash \\N"),
        Some("O'Brien \"quoted\""),
        Some("Zürich – 東京"),
        None,
        Some(""),
    ];
    let weather = ["clear", "rain", "snow", "storm"];
    (0..n)
        .map(|i| {
            let (_, start) = YEAR_STARTS[i % 3];
            SummaryRow {
                id: format!("A-{i}"),
                state: ["CA", "TX", "NY"][i % 3].to_string(),
                city: cities[i % cities.len()].map(str::to_string),
                severity: (i % 4) as i32 + 1,
                accident_date: start + (i as i32 * 7) % 365,
                accident_hour: (i % 24) as i32,
                weather_category: weather[i % 4].to_string(),
                safety_score: 100.0 / (i as f64 + 3.0) + 0.1,
                distance_miles: if i % 5 == 0 {
                    None
                } else {
                    Some(i as f64 * 0.01 + 1e-9)
                },
            }
        })
        .collect()
}

fn summary_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("state", DataType::Utf8, false),
        Field::new("city", DataType::Utf8, true),
        Field::new("severity", DataType::Int32, false),
        Field::new("accident_date", DataType::Date32, false),
        Field::new("accident_hour", DataType::Int32, false),
        Field::new("weather_category", DataType::Utf8, false),
        Field::new("safety_score", DataType::Float64, false),
        Field::new("distance_miles", DataType::Float64, true),
    ]))
}

fn summary_batch(rows: &[SummaryRow]) -> RecordBatch {
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.id.as_str()),
        )),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.state.as_str()),
        )),
        Arc::new(StringArray::from(
            rows.iter().map(|r| r.city.as_deref()).collect::<Vec<_>>(),
        )),
        Arc::new(Int32Array::from_iter_values(
            rows.iter().map(|r| r.severity),
        )),
        Arc::new(Date32Array::from_iter_values(
            rows.iter().map(|r| r.accident_date),
        )),
        Arc::new(Int32Array::from_iter_values(
            rows.iter().map(|r| r.accident_hour),
        )),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.weather_category.as_str()),
        )),
        Arc::new(Float64Array::from_iter_values(
            rows.iter().map(|r| r.safety_score),
        )),
        Arc::new(Float64Array::from(
            rows.iter().map(|r| r.distance_miles).collect::<Vec<_>>(),
        )),
    ];
    RecordBatch::try_new(summary_schema(), columns).unwrap()
}

/// Writes `rows` as `files` Parquet files under `dir`, so a scan has `files` partitions.
fn write_parquet(dir: &Path, rows: &[SummaryRow], files: usize) {
    std::fs::create_dir_all(dir).unwrap();
    for (i, chunk) in rows.chunks(rows.len().div_ceil(files)).enumerate() {
        let file = std::fs::File::create(dir.join(format!("part-{i}.parquet"))).unwrap();
        let batch = summary_batch(chunk);
        let mut writer = ArrowWriter::try_new(file, batch.schema(), None).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
    }
}

async fn summary_df(ctx: &SessionContext, dir: &Path) -> DataFrame {
    let table = format!("summary_{}", dir.file_name().unwrap().to_string_lossy());
    ctx.register_parquet(&table, dir.to_str().unwrap(), ParquetReadOptions::default())
        .await
        .unwrap();
    ctx.table(table.as_str()).await.unwrap()
}

/// Writes the accidents_summary of the Parquet files in `dir` into `sink`'s staging; returns the
/// rows written.
async fn write_summary(sink: &MySqlSink, ctx: &SessionContext, dir: &Path) -> u64 {
    let summary = summary_df(ctx, dir).await;
    let options = summary_options();
    let table = GoldTable {
        name: "accidents_summary",
        options: &options,
    };
    sink.write_table(table, summary).await.unwrap()
}

/// A small aggregate, like kpis_weather: per weather category.
async fn weather_df(ctx: &SessionContext, summary: &str) -> DataFrame {
    ctx.sql(&format!(
        "SELECT weather_category, CAST(COUNT(*) AS BIGINT) AS accident_count, \
         AVG(CAST(severity AS DOUBLE)) AS severity_avg \
         FROM {summary} GROUP BY weather_category ORDER BY weather_category"
    ))
    .await
    .unwrap()
}

async fn query_one<T: mysql_async::prelude::FromValue + Send + 'static>(
    conn: &mut Conn,
    sql: &str,
) -> T {
    let row: Option<T> = conn.query_first(sql).await.unwrap();
    row.unwrap()
}

async fn table_names(conn: &mut Conn, db: &str) -> Vec<String> {
    conn.exec(
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY 1",
        (db,),
    )
    .await
    .unwrap()
}

fn record(run_id: &str, status: RunStatus, rows: &[(&str, u64)], error: Option<&str>) -> RunRecord {
    let now = chrono::Utc::now();
    RunRecord {
        run_id: run_id.into(),
        job: "test".into(),
        mode: "full".into(),
        started_at: now - chrono::Duration::milliseconds(1500),
        finished_at: now,
        status,
        rows_read: 300,
        rows_rejected: 2,
        rows_written: rows.iter().map(|(t, n)| (t.to_string(), *n)).collect(),
        data_quality_score: Some(97.25),
        error: error.map(str::to_string),
        audit: medallion_core::run_audit::RunAudit::default(),
    }
}

/// Checksums and row counts of the two published tables.
async fn snapshot(conn: &mut Conn) -> (Vec<(String, Option<u64>)>, (u64, u64)) {
    let checksums: Vec<(String, Option<u64>)> = conn
        .query("CHECKSUM TABLE accidents_summary, kpis_weather")
        .await
        .unwrap();
    let counts: (u64, u64) = conn
        .query_first(
            "SELECT (SELECT COUNT(*) FROM accidents_summary), (SELECT COUNT(*) FROM kpis_weather)",
        )
        .await
        .unwrap()
        .unwrap();
    (checksums, counts)
}

/// Checks the published accidents_summary against `rows`, value for value.
async fn check_summary(conn: &mut Conn, db: &str, rows: &[SummaryRow]) {
    let count: u64 = query_one(conn, "SELECT COUNT(*) FROM accidents_summary").await;
    assert_eq!(count, rows.len() as u64);
    let severity: i64 = query_one(
        conn,
        "SELECT CAST(SUM(severity) AS SIGNED) FROM accidents_summary",
    )
    .await;
    assert_eq!(
        severity,
        rows.iter().map(|r| i64::from(r.severity)).sum::<i64>()
    );

    // every row, exactly: strings byte for byte, doubles bit for bit, dates and NULLs
    let stored: Vec<Row> = conn
        .query(
            "SELECT id, state, city, severity, DATEDIFF(accident_date, '1970-01-01'), \
             accident_hour, weather_category, safety_score, distance_miles FROM accidents_summary",
        )
        .await
        .unwrap();
    let by_id: BTreeMap<String, &SummaryRow> = rows.iter().map(|r| (r.id.clone(), r)).collect();
    assert_eq!(stored.len(), rows.len());
    for row in stored {
        let id: String = row.get(0).unwrap();
        let expected = by_id[&id];
        assert_eq!(row.get::<String, _>(1).unwrap(), expected.state);
        assert_eq!(
            row.get::<Option<String>, _>(2).unwrap(),
            expected.city,
            "{id}"
        );
        assert_eq!(row.get::<i32, _>(3).unwrap(), expected.severity);
        assert_eq!(
            row.get::<i32, _>(4).unwrap(),
            expected.accident_date,
            "{id}"
        );
        assert_eq!(row.get::<i32, _>(5).unwrap(), expected.accident_hour);
        assert_eq!(row.get::<String, _>(6).unwrap(), expected.weather_category);
        let score: f64 = row.get(7).unwrap();
        assert_eq!(score.to_bits(), expected.safety_score.to_bits(), "{id}");
        let distance: Option<f64> = row.get(8).unwrap();
        assert_eq!(
            distance.map(f64::to_bits),
            expected.distance_miles.map(f64::to_bits)
        );
    }

    // one partition per year present, plus p_future, each holding its year's rows
    let partitions: Vec<(String, String)> = conn
        .exec(
            "SELECT PARTITION_NAME, PARTITION_DESCRIPTION FROM information_schema.PARTITIONS \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'accidents_summary' \
             ORDER BY PARTITION_ORDINAL_POSITION",
            (db,),
        )
        .await
        .unwrap();
    assert_eq!(
        partitions,
        vec![
            ("p2019".to_string(), "2020".to_string()),
            ("p2020".to_string(), "2021".to_string()),
            ("p2021".to_string(), "2022".to_string()),
            ("p_future".to_string(), "MAXVALUE".to_string()),
        ]
    );
    for (year, _) in YEAR_STARTS {
        let in_partition: u64 = query_one(
            conn,
            &format!("SELECT COUNT(*) FROM accidents_summary PARTITION (p{year})"),
        )
        .await;
        let expected = rows
            .iter()
            .filter(|r| {
                let start = YEAR_STARTS.iter().find(|(y, _)| *y == year).unwrap().1;
                r.accident_date >= start && r.accident_date < start + 366
            })
            .count() as u64;
        assert_eq!(in_partition, expected, "p{year}");
    }

    // the primary key and the seed's four secondary indexes
    let mut indexes: Vec<(String, String)> = conn
        .exec(
            "SELECT INDEX_NAME, GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX) \
             FROM information_schema.STATISTICS \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'accidents_summary' \
             GROUP BY INDEX_NAME ORDER BY INDEX_NAME",
            (db,),
        )
        .await
        .unwrap();
    indexes.sort();
    assert_eq!(
        indexes,
        vec![
            ("PRIMARY".to_string(), "id,accident_date".to_string()),
            ("idx_location".to_string(), "state,city".to_string()),
            (
                "idx_severity_weather".to_string(),
                "severity,weather_category".to_string()
            ),
            (
                "idx_state_date".to_string(),
                "state,accident_date".to_string()
            ),
            (
                "idx_temporal".to_string(),
                "accident_date,accident_hour".to_string()
            ),
        ]
    );
}

/// The published `tables` (name, rows) keep the server's automatic statistics (their task tables
/// were loaded without), and their persistent statistics count their rows (all partitions).
async fn check_statistics(conn: &mut Conn, db: &str, tables: &[(&str, u64)]) {
    for (table, rows) in tables {
        let options: Option<String> = conn
            .exec_first(
                "SELECT CREATE_OPTIONS FROM information_schema.TABLES \
                 WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
                (db, *table),
            )
            .await
            .unwrap()
            .unwrap();
        let options = options.unwrap_or_default();
        assert!(
            !options.to_lowercase().contains("stats_auto_recalc"),
            "{table}: {options}"
        );
        let counted: Option<u64> = conn
            .exec_first(
                "SELECT CAST(SUM(n_rows) AS UNSIGNED) FROM mysql.innodb_table_stats \
                 WHERE database_name = ? AND (table_name = ? OR table_name LIKE ?)",
                (db, *table, format!("{table}#P#%")),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(counted, Some(*rows), "{table}");
    }
}

/// Writes accidents_summary (partitioned, 3 years, 2 input files) and a small aggregate through an
/// embedded cluster, publishes, and checks both plus pipeline_runs.
async fn publish_through_the_cluster(url_suffix: &str, tag: &str) {
    let db = TestDb::reserve(&format!("medallion_test_{tag}"));
    let lake = tempfile::tempdir().unwrap();
    let rows = summary_rows(300);
    write_parquet(&lake.path().join("a"), &rows, 3);
    let ctx = in_process_cluster_context(2).await.unwrap();
    let summary = summary_df(&ctx, &lake.path().join("a")).await;
    let weather = weather_df(&ctx, "summary_a").await;

    let mut sink = MySqlSink::open(&format!("{}{url_suffix}", db.root_url())).unwrap();
    sink.prepare("20260102T030405Z-0a1b2c3d").await.unwrap();
    let summary_options = summary_options();
    let written = sink
        .write_table(
            GoldTable {
                name: "accidents_summary",
                options: &summary_options,
            },
            summary,
        )
        .await
        .unwrap();
    assert_eq!(written, 300);
    let weather_options = options(&["primary_key = weather_category"]);
    let written = sink
        .write_table(
            GoldTable {
                name: "kpis_weather",
                options: &weather_options,
            },
            weather,
        )
        .await
        .unwrap();
    assert_eq!(written, 4);
    sink.publish().await.unwrap();
    sink.record_run(&record(
        "20260102T030405Z-0a1b2c3d",
        RunStatus::Succeeded,
        &[("accidents_summary", 300), ("kpis_weather", 4)],
        None,
    ))
    .await
    .unwrap();

    let mut conn = db.conn().await;
    check_summary(&mut conn, &db.name, &rows).await;
    check_statistics(
        &mut conn,
        &db.name,
        &[("accidents_summary", 300), ("kpis_weather", 4)],
    )
    .await;
    // kpis_weather: 300 rows over 4 categories, i % 4 -> 75 each; severity = i % 4 + 1
    let weather: Vec<(String, i64, f64)> = conn
        .query("SELECT weather_category, accident_count, severity_avg FROM kpis_weather ORDER BY 1")
        .await
        .unwrap();
    assert_eq!(
        weather,
        vec![
            ("clear".to_string(), 75, 1.0),
            ("rain".to_string(), 75, 2.0),
            ("snow".to_string(), 75, 3.0),
            ("storm".to_string(), 75, 4.0),
        ]
    );
    // nothing but the Gold tables and pipeline_runs is left
    assert_eq!(
        table_names(&mut conn, &db.name).await,
        vec!["accidents_summary", "kpis_weather", "pipeline_runs"]
    );
    let run: (String, String, String, u64, Option<f64>, f64) = conn
        .query_first(
            "SELECT run_id, status, rows_written, rows_read, data_quality_score, duration_s \
             FROM pipeline_runs",
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.0, "20260102T030405Z-0a1b2c3d");
    assert_eq!(run.1, "succeeded");
    assert_eq!(run.2, r#"{"accidents_summary":300,"kpis_weather":4}"#);
    assert_eq!((run.3, run.4, run.5), (300, Some(97.25), 1.5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn load_data_publishes_partitioned_tables_through_the_cluster() {
    publish_through_the_cluster("", "infile").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn insert_fallback_publishes_the_same_tables() {
    publish_through_the_cluster("?load=insert", "insert").await;
}

/// Other Gold layouts on the real server: an auto id with ENUMs, and JSON.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn auto_id_enum_and_json_tables() {
    let db = TestDb::reserve("medallion_test_layouts");
    let ctx = in_process_cluster_context(2).await.unwrap();
    let temporal = ctx
        .sql(
            "SELECT * FROM (VALUES ('hourly', '00', 'CA', CAST(3 AS BIGINT), CAST(NULL AS VARCHAR)), \
             ('monthly', '2020-01', NULL, CAST(5 AS BIGINT), 'up'), \
             ('yearly', '2020', 'TX', CAST(7 AS BIGINT), 'stable')) \
             AS t(period_type, period_value, state, accident_count, trend_direction) \
             ORDER BY accident_count",
        )
        .await
        .unwrap();
    let security = ctx
        .sql(
            "SELECT * FROM (VALUES ('CA', '{\"1\":1,\"2\":0,\"3\":2,\"4\":0}')) \
             AS t(state, severity_distribution)",
        )
        .await
        .unwrap();
    let mut sink = MySqlSink::open(&db.root_url()).unwrap();
    sink.prepare("layouts").await.unwrap();
    let temporal_options = options(&[
        "auto_id = id",
        "enum period_type = hourly, daily, monthly, yearly",
        "enum trend_direction = up, down, stable",
        "index idx_period = period_type, period_value",
        "index idx_state_period = state, period_type",
    ]);
    let security_options = options(&["auto_id = id", "json = severity_distribution"]);
    let n = sink
        .write_table(
            GoldTable {
                name: "kpis_temporal",
                options: &temporal_options,
            },
            temporal,
        )
        .await
        .unwrap();
    assert_eq!(n, 3);
    let n = sink
        .write_table(
            GoldTable {
                name: "kpis_security",
                options: &security_options,
            },
            security,
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    sink.publish().await.unwrap();

    let mut conn = db.conn().await;
    let rows: Vec<(i32, String, Option<String>, Option<String>)> = conn
        .query("SELECT id, period_type, state, trend_direction FROM kpis_temporal ORDER BY id")
        .await
        .unwrap();
    assert_eq!(
        rows,
        vec![
            (1, "hourly".to_string(), Some("CA".to_string()), None),
            (2, "monthly".to_string(), None, Some("up".to_string())),
            (
                3,
                "yearly".to_string(),
                Some("TX".to_string()),
                Some("stable".to_string())
            ),
        ]
    );
    let column_type: String = conn
        .exec_first(
            "SELECT COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? \
             AND TABLE_NAME = 'kpis_temporal' AND COLUMN_NAME = 'period_type'",
            (db.name.as_str(),),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(column_type, "enum('hourly','daily','monthly','yearly')");
    let three: i64 = query_one(
        &mut conn,
        "SELECT JSON_EXTRACT(severity_distribution, '$.\"3\"') FROM kpis_security WHERE id = 1",
    )
    .await;
    assert_eq!(three, 2);
    // an empty year-partitioned table: only p_future
    let mut sink = MySqlSink::open(&db.root_url()).unwrap();
    sink.prepare("empty").await.unwrap();
    let lake = tempfile::tempdir().unwrap();
    write_parquet(&lake.path().join("e"), &summary_rows(10), 2);
    let empty = summary_df(&ctx, &lake.path().join("e"))
        .await
        .filter(datafusion::prelude::col("severity").gt(datafusion::prelude::lit(100)))
        .unwrap();
    let summary_options = summary_options();
    let n = sink
        .write_table(
            GoldTable {
                name: "accidents_summary",
                options: &summary_options,
            },
            empty,
        )
        .await
        .unwrap();
    assert_eq!(n, 0);
    sink.publish().await.unwrap();
    let partitions: Vec<String> = conn
        .exec(
            "SELECT PARTITION_NAME FROM information_schema.PARTITIONS \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'accidents_summary'",
            (db.name.as_str(),),
        )
        .await
        .unwrap();
    assert_eq!(partitions, vec!["p_future"]);
    let count: u64 = query_one(&mut conn, "SELECT COUNT(*) FROM accidents_summary").await;
    assert_eq!(count, 0);
}

/// Sums the `count` column of the sink operator's output.
fn count(batches: Vec<RecordBatch>) -> u64 {
    batches
        .iter()
        .map(|b| {
            b.column(0)
                .as_any()
                .downcast_ref::<UInt64Array>()
                .unwrap()
                .value(0)
        })
        .sum()
}

/// Runs the sink operator's task for `partition` by hand, as an executor would.
async fn run_task(exec: &MySqlSinkExec, ctx: &SessionContext, partition: usize) -> u64 {
    let stream = exec.execute(partition, ctx.task_ctx()).unwrap();
    count(
        datafusion::physical_plan::common::collect(stream)
            .await
            .unwrap(),
    )
}

/// The sink operator over `partitions` (one batch each), as the scheduler plans it.
async fn sink_exec(
    sink: &MySqlSink,
    ctx: &SessionContext,
    options: &TableOptions,
    partitions: Vec<Vec<SummaryRow>>,
) -> (medallion_core::sink::MySqlTable, Arc<dyn ExecutionPlan>) {
    let table = sink
        .staging_table(
            GoldTable {
                name: "accidents_summary",
                options,
            },
            summary_schema(),
        )
        .unwrap();
    let batches: Vec<Vec<RecordBatch>> =
        partitions.iter().map(|p| vec![summary_batch(p)]).collect();
    let input = MemorySourceConfig::try_new_exec(&batches, summary_schema(), None).unwrap();
    let plan = table
        .insert_into(&ctx.state(), input, InsertOp::Append)
        .await
        .unwrap();
    (table, plan)
}

/// The rows of `rows` dated in `years`.
fn rows_of_years(rows: &[SummaryRow], years: &[i32]) -> Vec<SummaryRow> {
    let year_of = |r: &SummaryRow| {
        YEAR_STARTS
            .iter()
            .rev()
            .find(|(_, s)| r.accident_date >= *s)
            .map(|(year, _)| *year)
    };
    rows.iter()
        .filter(|r| year_of(r).is_some_and(|y| years.contains(&y)))
        .cloned()
        .collect()
}

/// The partition names of `db.table`, in order.
async fn partition_names(conn: &mut Conn, db: &str, table: &str) -> Vec<String> {
    conn.exec(
        "SELECT PARTITION_NAME FROM information_schema.PARTITIONS \
         WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY PARTITION_ORDINAL_POSITION",
        (db, table),
    )
    .await
    .unwrap()
}

/// Waits until the table `table` exists and holds `rows` rows.
async fn wait_for_rows(conn: &mut Conn, table: &str, rows: u64) {
    let count = format!("SELECT COUNT(*) FROM `{table}`");
    for _ in 0..400 {
        if let Ok(Some(n)) = conn.query_first::<u64, _>(count.as_str()).await
            && n == rows
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{table} never held {rows} rows");
}

/// The staging table of a table partitioned by year is filled with each year as soon as its task
/// finished it, while other tasks have not even started: a later year gets its partition split
/// off `p_future`, an earlier one waits for the query's end, which re-partitions the table; a task
/// retried after its year was exchanged replaces it. The published table is what a build after
/// the query gives.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn year_tables_are_exchanged_while_other_tasks_still_load() {
    let db = TestDb::reserve("medallion_test_early_exchange");
    let rows = summary_rows(120);
    let ctx = SessionContext::new();
    let options = summary_options();
    let mut sink = MySqlSink::open(&db.root_url()).unwrap();
    sink.prepare("early-run").await.unwrap();
    let mut conn = db.conn().await;
    let staging = sink.run_names().unwrap().staging("accidents_summary");
    let partitions = vec![
        rows_of_years(&rows, &[2020]),
        rows_of_years(&rows, &[2021]),
        rows_of_years(&rows, &[2019]),
    ];
    let (table, plan) = sink_exec(&sink, &ctx, &options, partitions).await;
    let exec = plan.downcast_ref::<MySqlSinkExec>().unwrap();
    let (loaded, _build) = sink.start_staging(Arc::new(table), std::time::Instant::now());

    let in_2020 = run_task(exec, &ctx, 0).await;
    wait_for_rows(&mut conn, &staging, in_2020).await;
    assert_eq!(
        partition_names(&mut conn, &db.name, &staging).await,
        vec!["p2020", "p_future"]
    );
    assert_eq!(run_task(exec, &ctx, 0).await, in_2020, "the retried task");
    let in_2021 = run_task(exec, &ctx, 1).await;
    wait_for_rows(&mut conn, &staging, in_2020 + in_2021).await;
    assert_eq!(
        partition_names(&mut conn, &db.name, &staging).await,
        vec!["p2020", "p2021", "p_future"]
    );
    let in_2019 = run_task(exec, &ctx, 2).await;
    assert_eq!(in_2019 + in_2020 + in_2021, 120);
    loaded.send(120).unwrap();
    sink.publish().await.unwrap();

    check_summary(&mut conn, &db.name, &rows).await;
    assert_eq!(
        partition_names(&mut conn, &db.name, "accidents_summary").await,
        vec!["p2019", "p2020", "p2021", "p_future"]
    );
    assert_eq!(
        table_names(&mut conn, &db.name).await,
        vec!["accidents_summary", "pipeline_runs"]
    );
}

/// A task Ballista retries starts over: running the same partition twice leaves its rows once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_retried_task_does_not_duplicate_rows() {
    let db = TestDb::reserve("medallion_test_retry");
    let rows = summary_rows(120);
    // two input partitions owning whole years, as the hash repartition by year delivers them:
    // 2019 and 2020 (80 rows), and 2021 (40 rows); a plain (non-Ballista) context runs the tasks
    let partitions = vec![
        rows_of_years(&rows, &[2019, 2020]),
        rows_of_years(&rows, &[2021]),
    ];
    let ctx = SessionContext::new();
    let options = summary_options();
    let mut sink = MySqlSink::open(&db.root_url()).unwrap();

    sink.prepare("retry-run").await.unwrap();
    let (table, plan) = sink_exec(&sink, &ctx, &options, partitions.clone()).await;
    let exec = plan.downcast_ref::<MySqlSinkExec>().unwrap();
    assert_eq!(run_task(exec, &ctx, 0).await, 80);
    assert_eq!(run_task(exec, &ctx, 0).await, 80, "the retried task");
    assert_eq!(run_task(exec, &ctx, 1).await, 40);
    sink.stage(&table, Some(120)).await.unwrap();
    sink.publish().await.unwrap();
    let mut conn = db.conn().await;
    check_summary(&mut conn, &db.name, &rows).await;

    // the same through `collect`, which runs every partition once more, into a new run
    sink.prepare("retry-run-2").await.unwrap();
    let (table, plan) = sink_exec(&sink, &ctx, &options, partitions).await;
    assert_eq!(count(collect(plan, ctx.task_ctx()).await.unwrap()), 120);
    sink.stage(&table, Some(120)).await.unwrap();
    sink.publish().await.unwrap();
    check_summary(&mut conn, &db.name, &rows).await;

    // two tasks that both hold 2019 rows (which the hash repartition by year rules out) would
    // overwrite each other's year table: staging refuses instead of losing rows
    sink.prepare("retry-run-3").await.unwrap();
    let (table, plan) = sink_exec(
        &sink,
        &ctx,
        &options,
        vec![rows[..60].to_vec(), rows[60..].to_vec()],
    )
    .await;
    let exec = plan.downcast_ref::<MySqlSinkExec>().unwrap();
    let reported = run_task(exec, &ctx, 0).await + run_task(exec, &ctx, 1).await;
    assert_eq!(reported, 120);
    let err = sink.stage(&table, Some(reported)).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("the tasks wrote 120 rows but their MySQL tables hold 60"),
        "{err}"
    );
    sink.abort().await.unwrap();
    check_summary(&mut conn, &db.name, &rows).await;
}

/// A run that fails after staging one table leaves the published tables exactly as they were and no
/// staging table behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_run_leaves_the_published_tables_untouched() {
    let db = TestDb::reserve("medallion_test_failure");
    let lake = tempfile::tempdir().unwrap();
    let rows = summary_rows(200);
    write_parquet(&lake.path().join("f"), &rows, 2);
    let ctx = in_process_cluster_context(2).await.unwrap();
    let weather_options = options(&["primary_key = weather_category"]);

    // run 1 publishes
    let mut sink = MySqlSink::open(&db.root_url()).unwrap();
    sink.prepare("run-1").await.unwrap();
    write_summary(&sink, &ctx, &lake.path().join("f")).await;
    let weather = weather_df(&ctx, "summary_f").await;
    sink.write_table(
        GoldTable {
            name: "kpis_weather",
            options: &weather_options,
        },
        weather,
    )
    .await
    .unwrap();
    sink.publish().await.unwrap();
    let mut conn = db.conn().await;
    let before = snapshot(&mut conn).await;
    assert_eq!(before.1, (200, 4));

    // run 2: the new summary is staged (different rows), then a table fails while being written
    sink.prepare("run-2").await.unwrap();
    let other_rows = summary_rows(90);
    write_parquet(&lake.path().join("g"), &other_rows, 2);
    write_summary(&sink, &ctx, &lake.path().join("g")).await;
    assert!(
        table_names(&mut conn, &db.name)
            .await
            .iter()
            .any(|t| t.starts_with("stg_run2__"))
    );
    // a table whose task fails half-way: its first row group loads, its second does not cast
    // (one file is one partition, so the cast runs in the sink's own task, after it created and
    // started loading its table)
    let numbers = lake.path().join("n");
    std::fs::create_dir_all(&numbers).unwrap();
    let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Utf8, false)]));
    let properties = datafusion::parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(50))
        .build();
    let file = std::fs::File::create(numbers.join("n.parquet")).unwrap();
    let mut writer = ArrowWriter::try_new(file, schema.clone(), Some(properties)).unwrap();
    for text in ["1", "x"] {
        let column: ArrayRef = Arc::new(StringArray::from(vec![text; 50]));
        writer
            .write(&RecordBatch::try_new(schema.clone(), vec![column]).unwrap())
            .unwrap();
    }
    writer.close().unwrap();
    ctx.register_parquet(
        "numbers",
        numbers.to_str().unwrap(),
        ParquetReadOptions::default(),
    )
    .await
    .unwrap();
    let failing = ctx
        .sql("SELECT CAST(n AS INT) AS n FROM numbers")
        .await
        .unwrap();
    let err = sink
        .write_table(
            GoldTable {
                name: "kpis_weather",
                options: &TableOptions::default(),
            },
            failing,
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("kpis_weather"), "{err}");
    let left = table_names(&mut conn, &db.name).await;
    assert!(
        left.contains(&"stg_run2__kpis_weather__p0".to_string()),
        "{left:?}"
    );
    sink.abort().await.unwrap();

    assert_eq!(snapshot(&mut conn).await, before);
    assert_eq!(
        table_names(&mut conn, &db.name).await,
        vec!["accidents_summary", "kpis_weather", "pipeline_runs"]
    );
    check_summary(&mut conn, &db.name, &rows).await;
}

/// The client builds a staging table in the background once the tasks loaded their tables, while
/// the run goes on: an abort waits for that build, so that nothing of the run is left behind.
///
/// The test holds the staging table's name (a table of its own, read in an open transaction), so
/// the build waits on its metadata lock; the abort starts meanwhile. Were the abort not to wait,
/// its `DROP` would run first and the build would then re-create the staging table after it.
#[tokio::test]
async fn an_abort_waits_for_the_staging_table_being_built() {
    let db = TestDb::reserve("medallion_test_abort_building");
    let lake = tempfile::tempdir().unwrap();
    write_parquet(&lake.path().join("f"), &summary_rows(300), 3);
    let ctx = in_process_cluster_context(2).await.unwrap();
    let mut sink = MySqlSink::open(&db.root_url()).unwrap();
    sink.prepare("run-1").await.unwrap();
    let staging = sink.run_names().unwrap().staging("accidents_summary");
    let mut holder = db.conn().await;
    holder
        .query_drop(format!("CREATE TABLE `{staging}` (x INT)"))
        .await
        .unwrap();
    holder.query_drop("BEGIN").await.unwrap();
    holder
        .query_drop(format!("SELECT COUNT(*) FROM `{staging}`"))
        .await
        .unwrap();

    write_summary(&sink, &ctx, &lake.path().join("f")).await;
    // the build is now waiting to drop the held table
    let mut conn = db.conn().await;
    let waiting = "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
                   WHERE STATE = 'Waiting for table metadata lock' AND INFO LIKE 'DROP TABLE%'";
    let mut tries = 0;
    while query_one::<u64>(&mut conn, waiting).await == 0 {
        tries += 1;
        assert!(
            tries < 200,
            "the staging table build never reached its DROP"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let abort = tokio::spawn(async move {
        let outcome = sink.abort().await;
        (sink, outcome)
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    holder.query_drop("COMMIT").await.unwrap();
    let (_sink, outcome) = abort.await.unwrap();
    outcome.unwrap();
    // whatever a build still running would do has had time to happen
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        table_names(&mut conn, &db.name).await,
        vec!["pipeline_runs"]
    );
}

/// The published kpis_weather's accident counts per category.
async fn weather_counts(conn: &mut Conn) -> Vec<(String, u64)> {
    conn.query("SELECT weather_category, accident_count FROM kpis_weather ORDER BY 1")
        .await
        .unwrap()
}

/// A staging table built in the background that cannot be built fails the publish, which then
/// publishes nothing.
#[tokio::test]
async fn a_staging_table_that_cannot_be_built_fails_the_publish() {
    let db = TestDb::reserve("medallion_test_build_fails");
    let lake = tempfile::tempdir().unwrap();
    write_parquet(&lake.path().join("f"), &summary_rows(120), 2);
    write_parquet(&lake.path().join("g"), &summary_rows(90), 2);
    let ctx = in_process_cluster_context(2).await.unwrap();
    let weather_options = options(&["primary_key = weather_category"]);
    let table = GoldTable {
        name: "kpis_weather",
        options: &weather_options,
    };
    let mut sink = MySqlSink::open(&db.root_url()).unwrap();
    sink.prepare("run-1").await.unwrap();
    summary_df(&ctx, &lake.path().join("f")).await;
    let weather = weather_df(&ctx, "summary_f").await;
    sink.write_table(table, weather).await.unwrap();
    sink.publish().await.unwrap();
    let mut conn = db.conn().await;
    let before = weather_counts(&mut conn).await;
    assert_eq!(before.iter().map(|(_, n)| n).sum::<u64>(), 120);

    // run 2 (other rows): a view squats the name of the staging table, so building it fails
    // after the tasks loaded their tables
    sink.prepare("run-2").await.unwrap();
    let squatter = sink.run_names().unwrap().staging("kpis_weather");
    conn.query_drop(format!("CREATE VIEW `{squatter}` AS SELECT 1 AS x"))
        .await
        .unwrap();
    summary_df(&ctx, &lake.path().join("g")).await;
    let weather = weather_df(&ctx, "summary_g").await;
    assert_eq!(sink.write_table(table, weather).await.unwrap(), 4);
    let err = sink.publish().await.unwrap_err();
    assert!(err.to_string().contains("kpis_weather"), "{err}");
    assert_eq!(weather_counts(&mut conn).await, before);
    conn.query_drop(format!("DROP VIEW `{squatter}`"))
        .await
        .unwrap();
    sink.abort().await.unwrap();
    assert_eq!(
        table_names(&mut conn, &db.name).await,
        vec!["kpis_weather", "pipeline_runs"]
    );
}

#[tokio::test]
async fn an_unreachable_server_is_reported_without_the_password() {
    let mut sink = MySqlSink::open("mysql://root:topsecret@127.0.0.1:1/gold").unwrap();
    let err = sink.prepare("r").await.unwrap_err();
    assert!(matches!(err, Error::Unreachable { .. }), "{err:?}");
    assert_eq!(err.exit_code(), 3);
    let text = format!("{err} {err:?}");
    assert!(text.contains("127.0.0.1:1"), "{text}");
    assert!(!text.contains("topsecret"), "{text}");
    assert!(text.contains("root:***@"), "{text}");
}

#[tokio::test]
async fn a_wrong_password_is_reported_without_the_password() {
    let mut sink = MySqlSink::open("mysql://root:wrong-pass-xyz@127.0.0.1:3306/gold").unwrap();
    let err = sink.prepare("r").await.unwrap_err();
    assert!(matches!(err, Error::Unreachable { .. }), "{err:?}");
    let text = format!("{err} {err:?}");
    assert!(text.contains("Access denied"), "{text}");
    assert!(!text.contains("wrong-pass-xyz"), "{text}");
}

/// EXPLAIN and debug output of the plan nodes never show the password.
#[tokio::test]
async fn plans_mask_the_password() {
    let ctx = SessionContext::new();
    let lake = tempfile::tempdir().unwrap();
    write_parquet(&lake.path().join("m"), &summary_rows(3), 1);
    let input = summary_df(&ctx, &lake.path().join("m"))
        .await
        .create_physical_plan()
        .await
        .unwrap();
    let url = MySqlUrl::parse("mysql://u:hunter2@127.0.0.1:1/gold").unwrap();
    let target = SinkTarget {
        url,
        table: "accidents_summary".into(),
        run_key: "r".into(),
        layout: (&summary_options()).into(),
        year_tasks: None,
    };
    let exec = MySqlSinkExec::try_new(Arc::new(target), summary_schema(), input).unwrap();
    let shown = format!("{} {:?}", displayable(&exec).indent(true), exec);
    assert!(shown.contains("mysql://u:***@127.0.0.1:1/gold"), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
}

/// A task input that yields its first batch, stays silent for `pause`, then yields the second: a
/// year whose rows are far apart in the lake, or a task waiting on another year's load.
#[derive(Debug)]
struct PausingInput {
    batches: [RecordBatch; 2],
    pause: std::time::Duration,
}

impl PartitionStream for PausingInput {
    fn schema(&self) -> &SchemaRef {
        self.batches[0].schema_ref()
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let [first, second] = self.batches.clone();
        let pause = self.pause;
        let stream = futures::stream::iter([Ok(first)]).chain(futures::stream::once(async move {
            tokio::time::sleep(pause).await;
            Ok(second)
        }));
        Box::pin(RecordBatchStreamAdapter::new(summary_schema(), stream))
    }
}

/// A year table's `LOAD DATA` left idle longer than the server's `net_read_timeout` (the task's
/// rows for it stopped coming for a while) still completes: the loading session raises the
/// timeout, where the server's default of 30 s used to abort the connection mid-load.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_load_idle_longer_than_net_read_timeout_completes() {
    let db = TestDb::reserve("medallion_test_idle");
    let mut conn = common::mysql_db::root_conn().await;
    let server_timeout: u64 = query_one(&mut conn, "SELECT @@GLOBAL.net_read_timeout").await;
    assert!(
        server_timeout <= 120,
        "the server's net_read_timeout is {server_timeout} s: this test would wait past it"
    );
    let rows = summary_rows(90);
    let ctx = SessionContext::new();
    let options = summary_options();
    let mut sink = MySqlSink::open(&db.root_url()).unwrap();
    sink.prepare("idle-run").await.unwrap();
    let (table, plan) = sink_exec(&sink, &ctx, &options, vec![rows.clone()]).await;
    let exec = plan.downcast_ref::<MySqlSinkExec>().unwrap();
    let input = PausingInput {
        batches: [summary_batch(&rows[..30]), summary_batch(&rows[30..])],
        pause: std::time::Duration::from_secs(server_timeout + 3),
    };
    let input = StreamingTableExec::try_new(
        summary_schema(),
        vec![Arc::new(input) as Arc<dyn PartitionStream>],
        None,
        [],
        false,
        None,
    )
    .unwrap();
    let paused = MySqlSinkExec::try_new(
        exec.target_arc(),
        Arc::clone(exec.table_schema()),
        Arc::new(input),
    )
    .unwrap();
    assert_eq!(run_task(&paused, &ctx, 0).await, 90);
    sink.stage(&table, Some(90)).await.unwrap();
    sink.publish().await.unwrap();
    let mut conn = db.conn().await;
    check_summary(&mut conn, &db.name, &rows).await;
}
