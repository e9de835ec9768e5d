//! Loading one task table inside an executor task: connect, drop and re-create the table (so a
//! retried task starts over), stream rows into it, then add its secondary indexes.
//!
//! Rows go in with `LOAD DATA LOCAL INFILE` fed from memory: the task encodes batches to TSV chunks
//! of a few MB and sends them over a small channel to a spawned loader whose connection's
//! local-infile handler streams the channel to the server — no temporary file. Where the server
//! refuses LOCAL INFILE (probed with an empty load before any row is sent), or with `?load=insert`,
//! the loader runs multi-row `INSERT`s sized under the server's `max_allowed_packet` instead.
//!
//! With LOCAL, the server turns bad values and duplicate keys into warnings instead of errors, so
//! every load checks the warning count and the number of rows the server took; any difference
//! fails the task. The count is then written into the table's comment (with the index `ALTER`), so
//! the client can check that no rows went missing between tasks.

use bytes::Bytes;
use datafusion::arrow::error::ArrowError;
use datafusion::common::runtime::SpawnedTask;
use datafusion::error::DataFusionError;
use futures::StreamExt;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use super::connection::connect;
use super::ddl::TableDdl;
use super::names::qualified;
use super::tsv::{RowEncoder, RowFormat};
use super::url::{LoadMethod, MySqlUrl};

/// Prefix of the comment a loaded task table carries: `medallion:rows=<rows loaded>`.
pub const ROWS_COMMENT: &str = "medallion:rows=";

/// The row count recorded in a task table's comment by [`TableLoad::finish`].
pub fn rows_from_comment(comment: &str) -> Option<u64> {
    comment.strip_prefix(ROWS_COMMENT)?.parse().ok()
}

/// Size of the chunks sent to the server (and the most an `INSERT` statement may be).
pub const CHUNK_BYTES: usize = 4 << 20;

/// Settings of every loading session: no per-row unique or foreign key checks (each table is new
/// and filled by one task), strict values, UTC timestamps, and a long `net_read_timeout`.
///
/// A task streams all its years (months) at once, each as one `LOAD DATA LOCAL INFILE` that stays
/// open until the task's input ends; a year whose rows stop coming for a while (they are elsewhere
/// in the lake, or the task waits on another year's load) leaves its statement idle. The server's
/// default `net_read_timeout` (30 s) then aborts the connection mid-load ("Got timeout reading
/// communication packets"), which failed whole runs on a busy machine. An hour still ends the
/// session of a client that vanished without closing its connection.
pub const SESSION_SETUP: &str = "SET SESSION unique_checks = 0, foreign_key_checks = 0, \
     sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION', time_zone = '+00:00', \
     net_read_timeout = 3600";

/// Whether `error` is the server refusing `LOAD DATA LOCAL INFILE` (MySQL 5.x/MariaDB 1148 "not
/// allowed with this version", MySQL 8 3948 "loading local data is disabled").
pub fn refuses_local_infile(error: &mysql_async::Error) -> bool {
    matches!(error, mysql_async::Error::Server(e) if e.code == 1148 || e.code == 3948)
}

/// An execution error naming the table and what was being done.
fn failed(table: &str, doing: &str, error: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Execution(format!("MySQL sink, {doing} `{table}`: {error}"))
}

/// Fails when the last statement left warnings, quoting the first few.
async fn check_warnings(conn: &mut Conn, table: &str) -> Result<(), DataFusionError> {
    let count = conn.get_warnings();
    if count == 0 {
        return Ok(());
    }
    let rows: Vec<Row> = conn
        .query("SHOW WARNINGS LIMIT 3")
        .await
        .map_err(|e| failed(table, "reading the warnings of", e))?;
    let messages: Vec<String> = rows
        .into_iter()
        .filter_map(|row| row.get_opt::<String, _>(2).and_then(|m| m.ok()))
        .collect();
    Err(failed(
        table,
        "loading",
        format!(
            "the server reported {count} warning(s): {}",
            messages.join("; ")
        ),
    ))
}

/// One table being loaded by the current task.
pub struct TableLoad {
    table: String,
    format: RowFormat,
    sender: Option<mpsc::Sender<Bytes>>,
    loader: Option<SpawnedTask<Result<u64, DataFusionError>>>,
    buffer: Vec<u8>,
    row: Vec<u8>,
    ready: Vec<Bytes>,
    rows_sent: u64,
    rows_in_statement: usize,
    statement_limit: usize,
    insert_prefix: Vec<u8>,
}

impl TableLoad {
    /// Connects, re-creates `table` in `url`'s database from `ddl` (without secondary indexes) and
    /// starts its loader.
    pub async fn open(
        url: &MySqlUrl,
        ddl: &TableDdl,
        table: &str,
    ) -> Result<Self, DataFusionError> {
        let name = qualified(&url.database, table).map_err(|e| failed(table, "naming", e))?;
        let mut conn = connect(url, true)
            .await
            .map_err(|e| failed(table, "connecting for", e))?;
        conn.query_drop(SESSION_SETUP)
            .await
            .map_err(|e| failed(table, "setting up the session for", e))?;
        conn.query_drop(format!("DROP TABLE IF EXISTS {name}"))
            .await
            .map_err(|e| failed(table, "dropping", e))?;
        conn.query_drop(ddl.create(&name, false, None))
            .await
            .map_err(|e| failed(table, "creating", e))?;

        let columns = ddl.loaded_columns().join(",");
        let load_sql = format!(
            "LOAD DATA LOCAL INFILE 'medallion-{table}' INTO TABLE {name} CHARACTER SET utf8mb4 \
             FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' ({columns})"
        );
        let mut method = url.load;
        if method == LoadMethod::LocalInfile {
            conn.set_infile_handler(async { Ok(futures::stream::empty().boxed()) });
            match conn.query_drop(load_sql.as_str()).await {
                Ok(()) => {}
                Err(e) if refuses_local_infile(&e) => {
                    warn!(table, error = %e, "the server refuses LOAD DATA LOCAL INFILE; loading with INSERT");
                    method = LoadMethod::Insert;
                }
                Err(e) => return Err(failed(table, "probing LOAD DATA LOCAL INFILE into", e)),
            }
        }
        let mut statement_limit = CHUNK_BYTES;
        if method == LoadMethod::Insert {
            let max_packet: Option<u64> = conn
                .query_first("SELECT @@max_allowed_packet")
                .await
                .map_err(|e| failed(table, "reading max_allowed_packet for", e))?;
            let max_packet = usize::try_from(max_packet.unwrap_or(1 << 20)).unwrap_or(usize::MAX);
            statement_limit = CHUNK_BYTES.min(max_packet.saturating_sub(1024)).max(1024);
        }
        let path = match method {
            LoadMethod::LocalInfile => "LOAD DATA LOCAL INFILE",
            LoadMethod::Insert => "INSERT",
        };
        info!(table, path, "loading MySQL table");

        let (sender, receiver) = mpsc::channel::<Bytes>(2);
        let finish = Finish {
            table: table.to_string(),
            name: name.clone(),
            add_indexes: ddl.add_indexes(&name),
        };
        let loader = match method {
            LoadMethod::LocalInfile => {
                SpawnedTask::spawn(load_infile(conn, receiver, load_sql, finish))
            }
            LoadMethod::Insert => SpawnedTask::spawn(load_inserts(conn, receiver, finish)),
        };
        let format = match method {
            LoadMethod::LocalInfile => RowFormat::Tsv,
            LoadMethod::Insert => RowFormat::SqlValues,
        };
        Ok(Self {
            table: table.to_string(),
            format,
            sender: Some(sender),
            loader: Some(loader),
            buffer: Vec::with_capacity(CHUNK_BYTES + (CHUNK_BYTES >> 2)),
            row: Vec::new(),
            ready: Vec::new(),
            rows_sent: 0,
            rows_in_statement: 0,
            statement_limit,
            insert_prefix: format!("INSERT INTO {name} ({columns}) VALUES ").into_bytes(),
        })
    }

    /// The format [`TableLoad::push_rows`] expects its encoder to write.
    pub fn format(&self) -> RowFormat {
        self.format
    }

    /// Encodes `rows` of the encoder's batch into the pending chunk; full chunks are queued for
    /// [`TableLoad::send_ready`].
    pub fn push_rows(
        &mut self,
        encoder: &RowEncoder,
        rows: impl IntoIterator<Item = usize>,
    ) -> Result<(), DataFusionError> {
        match self.format {
            RowFormat::Tsv => {
                for row in rows {
                    encoder.encode_row(row, &mut self.buffer);
                    self.rows_sent += 1;
                }
                if self.buffer.len() >= CHUNK_BYTES {
                    self.seal();
                }
            }
            RowFormat::SqlValues => {
                for row in rows {
                    self.row.clear();
                    encoder.encode_row(row, &mut self.row);
                    if self.insert_prefix.len() + self.row.len() > self.statement_limit {
                        return Err(failed(
                            &self.table,
                            "inserting into",
                            format!(
                                "a row of {} bytes does not fit in max_allowed_packet",
                                self.row.len()
                            ),
                        ));
                    }
                    if self.rows_in_statement > 0
                        && self.buffer.len() + 1 + self.row.len() > self.statement_limit
                    {
                        self.seal();
                    }
                    if self.rows_in_statement == 0 {
                        self.buffer.extend_from_slice(&self.insert_prefix);
                    } else {
                        self.buffer.push(b',');
                    }
                    self.buffer.extend_from_slice(&self.row);
                    self.rows_in_statement += 1;
                    self.rows_sent += 1;
                }
            }
        }
        Ok(())
    }

    /// Moves the pending chunk (or statement) to the send queue.
    fn seal(&mut self) {
        if self.buffer.is_empty() {
            return;
        }
        let capacity = self.buffer.capacity();
        let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(capacity));
        self.ready.push(Bytes::from(chunk));
        self.rows_in_statement = 0;
    }

    /// Sends the queued chunks to the loader, waiting while it is busy.
    pub async fn send_ready(&mut self) -> Result<(), DataFusionError> {
        for chunk in std::mem::take(&mut self.ready) {
            let sent = match &self.sender {
                Some(sender) => sender.send(chunk).await.is_ok(),
                None => false,
            };
            if !sent {
                // the loader stopped early: its own error says why
                return Err(self.join().await.err().unwrap_or_else(|| {
                    failed(&self.table, "loading", "the loader stopped before the end")
                }));
            }
        }
        Ok(())
    }

    async fn join(&mut self) -> Result<u64, DataFusionError> {
        self.sender = None;
        match self.loader.take() {
            Some(loader) => loader
                .join()
                .await
                .map_err(|e| failed(&self.table, "loading", e))?,
            None => Err(failed(&self.table, "loading", "the loader already ended")),
        }
    }

    /// Sends the rest, waits for the load and the indexes, and returns the rows loaded.
    pub async fn finish(mut self) -> Result<u64, DataFusionError> {
        self.seal();
        self.send_ready().await?;
        let loaded = self.join().await?;
        if loaded != self.rows_sent {
            return Err(failed(
                &self.table,
                "loading",
                format!("the server took {loaded} of {} rows", self.rows_sent),
            ));
        }
        debug!(table = %self.table, rows = loaded, "MySQL table loaded");
        Ok(loaded)
    }
}

/// The channel as the stream a local-infile handler returns.
fn channel_stream(receiver: mpsc::Receiver<Bytes>) -> mysql_async::InfileData {
    futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (Ok(chunk), receiver))
    })
    .boxed()
}

/// What a loader does after the rows are in.
struct Finish {
    /// The table, for messages.
    table: String,
    /// Its qualified, quoted name.
    name: String,
    /// `ALTER TABLE ... ADD INDEX ...`, if the table has secondary indexes.
    add_indexes: Option<String>,
}

impl Finish {
    /// Adds the secondary indexes and records `rows` in the table comment, in one `ALTER`;
    /// `loading` is how long the rows took to go in, for the log.
    async fn run(
        self,
        mut conn: Conn,
        rows: u64,
        loading: std::time::Duration,
    ) -> Result<u64, DataFusionError> {
        let indexing = std::time::Instant::now();
        let comment = format!("COMMENT = '{ROWS_COMMENT}{rows}'");
        let sql = match self.add_indexes {
            Some(add) => format!("{add}, {comment}"),
            None => format!("ALTER TABLE {} {comment}", self.name),
        };
        conn.query_drop(sql)
            .await
            .map_err(|e| failed(&self.table, "indexing", e))?;
        info!(
            table = %self.table,
            rows,
            load_seconds = loading.as_secs_f64(),
            index_seconds = indexing.elapsed().as_secs_f64(),
            "MySQL table loaded and indexed"
        );
        if let Err(e) = conn.disconnect().await {
            debug!(table = %self.table, error = %e, "closing the MySQL connection");
        }
        Ok(rows)
    }
}

async fn load_infile(
    mut conn: Conn,
    receiver: mpsc::Receiver<Bytes>,
    sql: String,
    finish: Finish,
) -> Result<u64, DataFusionError> {
    let started = std::time::Instant::now();
    conn.set_infile_handler(async move { Ok(channel_stream(receiver)) });
    conn.query_drop(sql)
        .await
        .map_err(|e| failed(&finish.table, "loading", e))?;
    let rows = conn.affected_rows();
    check_warnings(&mut conn, &finish.table).await?;
    finish.run(conn, rows, started.elapsed()).await
}

async fn load_inserts(
    mut conn: Conn,
    mut receiver: mpsc::Receiver<Bytes>,
    finish: Finish,
) -> Result<u64, DataFusionError> {
    let started = std::time::Instant::now();
    let mut rows = 0;
    while let Some(statement) = receiver.recv().await {
        conn.query_drop(statement.as_ref())
            .await
            .map_err(|e| failed(&finish.table, "inserting into", e))?;
        rows += conn.affected_rows();
        check_warnings(&mut conn, &finish.table).await?;
    }
    finish.run(conn, rows, started.elapsed()).await
}

/// Converts an encoder error into the sink's error for `table`.
pub fn encoding_failed(table: &str, error: ArrowError) -> DataFusionError {
    failed(table, "encoding rows for", error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mysql_async::ServerError;

    fn server(code: u16) -> mysql_async::Error {
        mysql_async::Error::Server(ServerError {
            code,
            message: "refused".into(),
            state: "42000".into(),
        })
    }

    #[test]
    fn row_counts_round_trip_through_the_comment() {
        assert_eq!(
            rows_from_comment(&format!("{ROWS_COMMENT}1234")),
            Some(1234)
        );
        assert_eq!(rows_from_comment("something else"), None);
    }

    #[test]
    fn local_infile_refusals_trigger_the_insert_fallback() {
        assert!(refuses_local_infile(&server(1148)));
        assert!(refuses_local_infile(&server(3948)));
        assert!(!refuses_local_infile(&server(1045)));
        assert!(!refuses_local_infile(&server(1062)));
    }
}
