//! Merged publishing in the MySQL sink (see `Merge`), against the real MariaDB on 127.0.0.1:3306
//! (root, no password), in a database of its own: a period window replaced in one transaction, a
//! failed merge rolled back with the live table untouched, an upsert adding a month partition.

use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDate;
use datafusion::arrow::array::{Date32Array, Float64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::prelude::{DataFrame, ParquetReadOptions, SessionContext};
use mysql_async::Conn;
use mysql_async::prelude::Queryable;

use medallion_core::session::embedded_context;
use medallion_core::sink::{GoldSink, GoldTable, Merge, MySqlSink};
use medallion_core::table_options::TableOptions;

mod common;
use common::mysql_db::TestDb;

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// Days since 1970-01-01.
fn days(text: &str) -> i32 {
    (day(text) - day("1970-01-01")).num_days() as i32
}

/// (patient, day, value) rows as a DataFrame read from a Parquet file under `dir/name/`.
async fn frame(
    ctx: &SessionContext,
    dir: &Path,
    name: &str,
    rows: &[(&str, &str, f64)],
) -> DataFrame {
    let schema = Arc::new(Schema::new(vec![
        Field::new("patient_id", DataType::Utf8, false),
        Field::new("day", DataType::Date32, false),
        Field::new("v", DataType::Float64, true),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            )),
            Arc::new(Date32Array::from(
                rows.iter().map(|r| days(r.1)).collect::<Vec<_>>(),
            )),
            Arc::new(Float64Array::from(
                rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            )),
        ],
    )
    .unwrap();
    let folder = dir.join(name);
    std::fs::create_dir_all(&folder).unwrap();
    let file = std::fs::File::create(folder.join("part-0.parquet")).unwrap();
    let mut writer = ArrowWriter::try_new(file, schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    ctx.read_parquet(
        format!("{}/", folder.display()),
        ParquetReadOptions::default(),
    )
    .await
    .unwrap()
}

/// The live table's rows, ordered.
async fn rows(conn: &mut Conn) -> Vec<(String, String, f64)> {
    conn.query("SELECT patient_id, CAST(day AS CHAR), v FROM daily ORDER BY patient_id, day")
        .await
        .unwrap()
}

async fn partitions(conn: &mut Conn, db: &str) -> Vec<String> {
    conn.exec(
        "SELECT PARTITION_NAME FROM information_schema.PARTITIONS
         WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'daily' ORDER BY PARTITION_ORDINAL_POSITION",
        (db,),
    )
    .await
    .unwrap()
}

/// Runs one sink run writing `df` as `daily` with `merge`; returns the publish outcome.
async fn run(
    sink: &mut MySqlSink,
    run_id: &str,
    options: &TableOptions,
    df: DataFrame,
    merge: Merge,
) -> medallion_core::Result<()> {
    sink.prepare(run_id).await.unwrap();
    let table = GoldTable {
        name: "daily",
        options,
    };
    sink.write_merged(table, df, &merge).await.unwrap();
    let outcome = sink.publish().await;
    if outcome.is_err() {
        sink.abort().await.unwrap();
    }
    outcome
}

#[tokio::test]
async fn period_windows_and_upserts_merge_in_one_transaction() {
    let db = TestDb::reserve("medallion_test_merge");
    let dir = tempfile::tempdir().unwrap();
    let ctx = embedded_context(2, None).unwrap();
    let mut options = TableOptions::default();
    for d in [
        "primary_key = patient_id, day",
        "partition_by_month = day",
        "replace_range = day",
    ] {
        options.apply_directive(d).unwrap();
    }
    let mut sink = MySqlSink::open(&db.root_url()).unwrap();
    let window = |start, end| Merge::ReplaceRange {
        column: "day".into(),
        start: day(start),
        end: day(end),
    };

    // 1. two days, two patients; the table does not exist yet, so the merge creates it
    let first = [
        ("P1", "2024-03-04", 1.0),
        ("P2", "2024-03-04", 2.0),
        ("P1", "2024-03-05", 3.0),
        ("P2", "2024-03-05", 4.0),
    ];
    let df = frame(&ctx, dir.path(), "r1", &first).await;
    run(
        &mut sink,
        "r1",
        &options,
        df,
        window("2024-03-04", "2024-03-06"),
    )
    .await
    .unwrap();
    let mut conn = db.conn().await;
    assert_eq!(rows(&mut conn).await.len(), 4);
    assert_eq!(
        partitions(&mut conn, &db.name).await,
        ["p202403", "p_future"]
    );

    // 2. re-run 2024-03-04 with only P1 (new value): P2's row of that day goes, 03-05 stays
    let df = frame(&ctx, dir.path(), "r2", &[("P1", "2024-03-04", 10.0)]).await;
    run(
        &mut sink,
        "r2",
        &options,
        df,
        window("2024-03-04", "2024-03-05"),
    )
    .await
    .unwrap();
    let after_window = vec![
        ("P1".to_string(), "2024-03-04".to_string(), 10.0),
        ("P1".to_string(), "2024-03-05".to_string(), 3.0),
        ("P2".to_string(), "2024-03-05".to_string(), 4.0),
    ];
    assert_eq!(rows(&mut conn).await, after_window);

    // 3. a merge that fails after its DELETE (the live table gained a NOT NULL column the run
    //    does not fill) is rolled back: the live rows are exactly as before
    conn.query_drop("ALTER TABLE daily ADD COLUMN extra INT NOT NULL")
        .await
        .unwrap();
    let df = frame(&ctx, dir.path(), "r3", &[("P9", "2024-03-05", 99.0)]).await;
    let err = run(
        &mut sink,
        "r3",
        &options,
        df,
        window("2024-03-05", "2024-03-06"),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("merging the Gold tables"), "{err}");
    assert_eq!(rows(&mut conn).await, after_window);
    conn.query_drop("ALTER TABLE daily DROP COLUMN extra")
        .await
        .unwrap();

    // 4. an upsert of a new month: its partition is split from p_future; twice = once
    for attempt in ["r4", "r5"] {
        let df = frame(
            &ctx,
            dir.path(),
            attempt,
            &[("P1", "2024-05-02", 5.0), ("P2", "2024-03-05", 40.0)],
        )
        .await;
        run(&mut sink, attempt, &options, df, Merge::Upsert)
            .await
            .unwrap();
        let mut expected = after_window.clone();
        expected.insert(2, ("P1".into(), "2024-05-02".into(), 5.0));
        expected[3].2 = 40.0;
        assert_eq!(rows(&mut conn).await, expected, "{attempt}");
        // every month between the first and the last has its partition (April's is empty): a
        // month that turns up late between two others is then exchanged without re-partitioning
        assert_eq!(
            partitions(&mut conn, &db.name).await,
            ["p202403", "p202404", "p202405", "p_future"]
        );
    }
    // no staging table left behind
    let left: Vec<String> = conn
        .exec(
            "SELECT TABLE_NAME FROM information_schema.TABLES
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME <> 'daily' AND TABLE_NAME <> 'pipeline_runs'",
            (db.name.as_str(),),
        )
        .await
        .unwrap();
    assert!(left.is_empty(), "{left:?}");
    let _ = conn.disconnect().await;
}
