//! One bad file stays one bad file: a lake with a truncated Parquet file in table `a` and garbage
//! inside a data page of table `c` (its footer intact) still answers `SELECT 1` and queries on the
//! good table `b`; a query on `a` or `c` fails with exit 2 and one line naming the file. The same
//! through the scheduler's Flight SQL port (real `medallion-scheduler` and `medallion-executor`).

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use arrow_flight::sql::client::FlightSqlServiceClient;
use common::cluster::Cluster;
use common::medallion;
use datafusion::arrow::array::{Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::file::properties::WriterProperties;
use futures::TryStreamExt;
use tonic::transport::Channel;

/// Writes values `v` as one Int64 column `v`, uncompressed and without dictionary (so the bytes
/// after the leading magic are the first data page's header).
fn write_parquet(path: &Path, values: impl Iterator<Item = i64>) {
    fs::create_dir_all(path.parent().expect("parent")).expect("table folder");
    let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Int64, false)]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(Int64Array::from_iter_values(values))],
    )
    .expect("batch");
    let props = WriterProperties::builder()
        .set_dictionary_enabled(false)
        .build();
    let file = fs::File::create(path).expect("create");
    let mut writer = ArrowWriter::try_new(file, schema, Some(props)).expect("writer");
    writer.write(&batch).expect("write");
    writer.close().expect("close");
}

/// The lake: `a` with a good file and a truncated one, `b` good, `c` with garbage in its data
/// page. Returns the lake root, the truncated file and the garbled file.
fn bad_lake(root: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let lake = root.join("lake");
    write_parquet(&lake.join("a/part-0.parquet"), 1..=3);
    let truncated = lake.join("a/part-1.parquet");
    write_parquet(&truncated, 4..=6);
    let bytes = fs::read(&truncated).expect("read");
    fs::write(&truncated, &bytes[..bytes.len() / 2]).expect("truncate");
    // b: 1 + 2 + ... + 10 = 55
    write_parquet(&lake.join("b/part-0.parquet"), 1..=10);
    let garbled = lake.join("c/part-0.parquet");
    write_parquet(&garbled, 0..1000);
    let mut bytes = fs::read(&garbled).expect("read");
    // the page header starts right after "PAR1"; overwrite it and some values
    for b in &mut bytes[4..64] {
        *b = 0xEE;
    }
    fs::write(&garbled, bytes).expect("garble");
    (lake, truncated, garbled)
}

fn sql(lake: &Path, query: &str) -> std::process::Output {
    medallion(&[
        "sql",
        "--lake",
        lake.to_str().expect("utf-8"),
        "--format",
        "csv",
        query,
    ])
}

/// Panics unless `output` failed with exit 2 and one stderr line naming `file`.
fn assert_fails_naming(output: &std::process::Output, file: &Path, what: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{what}: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(lines.len(), 1, "{what}: one error line: {stderr}");
    let name = file.to_str().expect("utf-8");
    assert!(lines[0].contains(name), "{what}: names {name}: {stderr}");
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
}

#[test]
fn a_corrupt_file_fails_its_own_table_only() {
    let root = tempfile::tempdir().expect("temp dir");
    let (lake, truncated, garbled) = bad_lake(root.path());

    let output = sql(&lake, "SELECT 1 AS one");
    assert!(output.status.success(), "{output:?}");
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "one\n1");

    let output = sql(&lake, "SELECT sum(v) AS s FROM b");
    assert!(output.status.success(), "{output:?}");
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "s\n55");

    let output = sql(&lake, "SELECT count(*) FROM a");
    assert_fails_naming(&output, &truncated, "truncated file");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("lake table 'a'"), "{stderr}");

    let output = sql(&lake, "SELECT sum(v) FROM c");
    assert_fails_naming(&output, &garbled, "garbage in a data page");
}

/// A handshaken anonymous Flight SQL client of the scheduler on `port`.
async fn client(port: u16) -> FlightSqlServiceClient<Channel> {
    let channel = Channel::from_shared(format!("http://127.0.0.1:{port}"))
        .expect("endpoint URL")
        .connect_timeout(Duration::from_secs(10))
        .connect()
        .await
        .expect("connect");
    let mut client = FlightSqlServiceClient::new(channel);
    client.handshake("anonymous", "").await.expect("handshake");
    client
}

/// Runs `sql` to the end: its rows, or the error's message.
async fn run(client: &mut FlightSqlServiceClient<Channel>, sql: &str) -> Result<usize, String> {
    let info = client
        .execute(sql.to_string(), None)
        .await
        .map_err(|e| e.to_string())?;
    let mut rows = 0;
    for endpoint in info.endpoint {
        let ticket = endpoint.ticket.expect("ticket");
        let stream = client.do_get(ticket).await.map_err(|e| e.to_string())?;
        let batches: Vec<RecordBatch> = stream.try_collect().await.map_err(|e| e.to_string())?;
        rows += batches.iter().map(RecordBatch::num_rows).sum::<usize>();
    }
    Ok(rows)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_flight_sql_a_corrupt_file_fails_its_own_table_only() {
    let root = tempfile::tempdir().expect("temp dir");
    let (lake, truncated, garbled) = bad_lake(root.path());
    let lake_arg = lake.to_str().expect("utf-8");
    let cluster = Cluster::start_with(1, &["--lake", lake_arg, "--flight-sql-anonymous"], &[]);
    let mut client = client(cluster.port).await;
    let logs = || cluster.logs();

    assert_eq!(run(&mut client, "SELECT 1").await, Ok(1), "{}", logs());
    assert_eq!(
        run(&mut client, "SELECT v FROM b").await,
        Ok(10),
        "{}",
        logs()
    );
    let err = run(&mut client, "SELECT count(*) FROM a")
        .await
        .expect_err("table a is unreadable");
    assert!(
        err.contains("lake table 'a'") && err.contains(truncated.to_str().expect("utf-8")),
        "{err}"
    );
    let err = run(&mut client, "SELECT sum(v) FROM c")
        .await
        .expect_err("table c has a garbled page");
    assert!(err.contains(garbled.to_str().expect("utf-8")), "{err}");
    // the session still works afterwards
    assert_eq!(
        run(&mut client, "SELECT v FROM b").await,
        Ok(10),
        "{}",
        logs()
    );
}
