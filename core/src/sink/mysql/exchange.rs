//! [`PartitionedStaging`]: the staging table of a Gold table partitioned by year (month), filled
//! with its tasks' period tables by `EXCHANGE PARTITION`, and [`stage_while_loading`], which does
//! so while the Gold table's query still runs.
//!
//! A task loads and indexes one plain table per period it owns and marks each one finished by
//! recording its rows in the table's comment, in the same `ALTER` that adds the indexes (see
//! [`super::load`]). A task finishes its periods together when its input ends, and the other tasks
//! finish theirs later: at 7.7M rows the first task's years were ready 17 s before the last
//! task's. Each `EXCHANGE PARTITION` re-reads the rows of the table it moves in (MariaDB before
//! 11.4 cannot skip that validation), one table after the other, 5.5 s at 7.7M. Exchanging each
//! period table as soon as it is finished does that work while the other tasks still load and
//! index, instead of after the last one.
//!
//! The staging table is created when the first period table is finished, with a partition for every
//! period table present then; a later period after the last one is split off the empty
//! `p_future`. A period that would need rows moved between partitions (one before the last, or
//! NULL dates, appearing late) waits for the final pass, which re-partitions the table once. A
//! task that Ballista retries re-creates its tables; exchanging a re-created table again swaps the
//! earlier rows out of the partition, and a table caught half-made (not yet indexed) differs from
//! the staging table, so the server refuses the exchange and it is tried again later. A table
//! without secondary indexes has no such difference: should a retry re-create it between a pass's
//! listing and its `EXCHANGE`, the exchange would wait for the retry's load and take its table
//! before the row count is recorded (every date-partitioned Gold table of the jobs has indexes).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use datafusion::arrow::datatypes::Schema;
use mysql_async::Conn;
use mysql_async::prelude::Queryable;
use tokio::sync::oneshot;
use tracing::{debug, info};

use super::connection::{connect, run, server_error};
use super::ddl::{PeriodGrain, PeriodPartitions, TableDdl};
use super::load::SESSION_SETUP;
use super::names::{TaskPart, qualified};
use super::target::SinkTarget;
use super::task_tables::{analyze, check_rows, listed_task_tables, task_tables};
use super::url::MySqlUrl;
use crate::error::{Error, Result};

/// How often the task tables are looked at while the Gold table's query runs.
const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// The partitioned staging table of one Gold table being filled with its period tables.
pub struct PartitionedStaging<'c> {
    conn: &'c mut Conn,
    target: &'c SinkTarget,
    ddl: TableDdl,
    grain: PeriodGrain,
    /// The staging table, qualified.
    staging: String,
    /// Its partitions, once it is created.
    partitions: Option<PeriodPartitions>,
    /// The rows of each period exchanged in so far.
    filled: BTreeMap<Option<i32>, u64>,
    /// Whether `EXCHANGE ... WITHOUT VALIDATION` may still be tried (MySQL 8, MariaDB 11.4+).
    without_validation: bool,
    /// Set when a table exchanged in could not be dropped: it holds what it swapped out under its
    /// finished table's comment, so nothing more may be exchanged.
    broken: bool,
}

impl<'c> PartitionedStaging<'c> {
    /// Starts `target`'s staging table over on `conn`: drops any left from an earlier attempt.
    pub async fn open(conn: &'c mut Conn, target: &'c SinkTarget, schema: &Schema) -> Result<Self> {
        let Some((_, grain)) = target.layout.period_partitioning() else {
            return Err(Error::invalid(
                "MySQL staging",
                format!("Gold table {} is not partitioned by date", target.table),
            ));
        };
        let ddl = TableDdl::new(schema, &target.layout)?;
        let staging = qualified(&target.url.database, &target.names().staging(&target.table))?;
        let mut staging = Self {
            conn,
            target,
            ddl,
            grain,
            staging,
            partitions: None,
            filled: BTreeMap::new(),
            without_validation: true,
            broken: false,
        };
        staging.run(SESSION_SETUP.to_string()).await?;
        let drop = format!("DROP TABLE IF EXISTS {}", staging.staging);
        staging.run(drop).await?;
        Ok(staging)
    }

    /// What a failed statement was doing.
    fn context(&self) -> String {
        format!("staging Gold table {} in MySQL", self.target.table)
    }

    async fn run(&mut self, sql: String) -> Result<()> {
        let context = self.context();
        run(self.conn, sql, &context).await
    }

    /// Exchanges every finished period table that has its partition, or whose period comes after
    /// the last one; the others wait for [`finish`](Self::finish). Creates the staging table with
    /// the first finished one.
    pub async fn exchange_finished(&mut self) -> Result<()> {
        self.check_not_broken()?;
        let tables = listed_task_tables(self.conn, self.target).await?;
        if !tables.iter().any(|t| t.rows.is_some()) {
            return Ok(());
        }
        if self.partitions.is_none() {
            self.create(tables.iter().map(|t| t.part)).await?;
        }
        for table in tables {
            let (TaskPart::Period(key), Some(rows)) = (table.part, table.rows) else {
                continue;
            };
            if !self.ensure_partition(key).await? {
                continue;
            }
            // a table re-created by a retried task may be caught before it has its indexes: the
            // server refuses to exchange it, and the next pass tries again
            if let Err(e) = self.exchange(key, &table.name, rows).await {
                self.check_not_broken()?;
                debug!(table = %table.name, error = %e, "period table not exchanged yet");
            }
        }
        Ok(())
    }

    /// After the Gold table's query ended: exchanges the remaining period tables (every one must be
    /// finished), re-partitioning the staging table if one has no partition, checks the rows
    /// against `expected_rows` (what the tasks reported, when known) and analyses the table.
    pub async fn finish(mut self, expected_rows: Option<u64>) -> Result<()> {
        self.check_not_broken()?;
        let started = Instant::now();
        let exchanged_early = self.filled.len();
        let tables = task_tables(self.conn, self.target).await?;
        let parts = || tables.iter().map(|(t, _)| t.part);
        if self.partitions.is_none() {
            self.create(parts()).await?;
        } else {
            // in period order, so that each later period is split off p_future in turn
            let mut missing = false;
            for part in parts() {
                if let TaskPart::Period(key) = part {
                    missing |= !self.ensure_partition(key).await?;
                }
            }
            if missing {
                self.repartition(parts()).await?;
            }
        }
        for (table, rows) in tables {
            if let TaskPart::Period(key) = table.part {
                self.exchange(key, &table.name, rows).await?;
            }
        }
        check_rows(
            &self.target.table,
            expected_rows,
            self.filled.values().sum(),
        )?;
        analyze(self.conn, &self.staging, &self.target.table).await;
        info!(
            table = %self.target.table,
            partitions = self.filled.len(),
            exchanged_early,
            seconds = started.elapsed().as_secs_f64(),
            "MySQL partitioned staging table ready"
        );
        Ok(())
    }

    /// The partitions for the task tables holding `parts` and the periods already exchanged, and
    /// the periods between them ([`PeriodPartitions::contiguous`]).
    fn partitions_for(&self, parts: impl IntoIterator<Item = TaskPart>) -> PeriodPartitions {
        let mut keys: BTreeSet<i32> = self.filled.keys().flatten().copied().collect();
        let mut has_null = self.filled.contains_key(&None);
        for part in parts {
            match part {
                TaskPart::Period(Some(key)) => {
                    keys.insert(key);
                }
                TaskPart::Period(None) => has_null = true,
                TaskPart::Partition(_) => {}
            }
        }
        PeriodPartitions::contiguous(self.grain, &keys, has_null)
    }

    /// Creates the staging table with a partition for each period of `parts`.
    async fn create(&mut self, parts: impl IntoIterator<Item = TaskPart>) -> Result<()> {
        let partitions = self.partitions_for(parts);
        let create = self.ddl.create(&self.staging, true, Some(&partitions));
        self.run(create).await?;
        self.partitions = Some(partitions);
        Ok(())
    }

    /// Re-partitions the staging table for the periods of `parts`, moving the rows already in it.
    async fn repartition(&mut self, parts: impl IntoIterator<Item = TaskPart>) -> Result<()> {
        let partitions = self.partitions_for(parts);
        if let Some(clause) = self.ddl.partition_by(&partitions) {
            self.run(format!("ALTER TABLE {} {clause}", self.staging))
                .await?;
        }
        self.partitions = Some(partitions);
        Ok(())
    }

    /// Adds the partition of `key`, after the last one, split off the empty `p_future`.
    async fn split_off_future(&mut self, key: i32) -> Result<()> {
        let added = PeriodPartitions {
            grain: self.grain,
            keys: vec![key],
            has_null: false,
        };
        self.run(added.split_off_future(&self.staging)).await?;
        if let Some(partitions) = self.partitions.as_mut() {
            partitions.keys.push(key);
        }
        Ok(())
    }

    fn last_key(&self) -> Option<i32> {
        self.partitions.as_ref()?.keys.last().copied()
    }

    fn has_partition(&self, key: Option<i32>) -> bool {
        self.partitions.as_ref().is_some_and(|p| match key {
            Some(key) => p.keys.contains(&key),
            None => p.has_null,
        })
    }

    /// Whether period `key` has its partition, split off `p_future` first when it comes after
    /// the last one; any other missing period needs rows moved (see [`repartition`]).
    ///
    /// [`repartition`]: Self::repartition
    async fn ensure_partition(&mut self, key: Option<i32>) -> Result<bool> {
        if self.has_partition(key) {
            return Ok(true);
        }
        match key {
            Some(key) if self.last_key().is_none_or(|last| key > last) => {
                self.split_off_future(key).await?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Exchanges the period table `name` (holding `rows` rows of period `key`) into its partition,
    /// then drops it (it then holds what the partition held: nothing, or a retried task's earlier
    /// rows).
    async fn exchange(&mut self, key: Option<i32>, name: &str, rows: u64) -> Result<()> {
        let period_table = qualified(&self.target.url.database, name)?;
        let exchange = format!(
            "ALTER TABLE {} EXCHANGE PARTITION {} WITH TABLE {period_table}",
            self.staging,
            PeriodPartitions::partition_name(key)
        );
        let mut exchanged = false;
        if self.without_validation {
            // MySQL 8 and MariaDB 11.4+ can skip re-checking rows the tasks already split by period
            match self
                .conn
                .query_drop(format!("{exchange} WITHOUT VALIDATION"))
                .await
            {
                Ok(()) => exchanged = true,
                Err(mysql_async::Error::Server(e)) if e.code == 1064 => {
                    self.without_validation = false
                }
                Err(e) => return Err(server_error(self.context(), e)),
            }
        }
        if !exchanged {
            self.run(exchange).await?;
        }
        self.filled.insert(key, rows);
        // IF EXISTS: a retried task may have dropped it already, to re-create it
        let dropped = self
            .run(format!("DROP TABLE IF EXISTS {period_table}"))
            .await;
        self.broken = dropped.is_err();
        dropped
    }

    fn check_not_broken(&self) -> Result<()> {
        if self.broken {
            return Err(Error::JobFailed {
                job: format!("Gold table {}", self.target.table),
                message:
                    "a period table exchanged into the MySQL staging table could not be dropped"
                        .into(),
            });
        }
        Ok(())
    }
}

/// The failure of a staging build whose Gold table's query failed.
pub fn query_failed(target: &SinkTarget) -> Error {
    Error::JobFailed {
        job: format!("Gold table {}", target.table),
        message: "its query failed: staging table not built".into(),
    }
}

/// Builds `target`'s partitioned staging table at `url` while the Gold table's query runs: every
/// [`POLL_INTERVAL`] exchanges the period tables its tasks finished, until `query` gives the rows
/// the query wrote; then finishes the table (see [`PartitionedStaging::finish`]). A query that
/// failed (`query` dropped) fails this too, leaving the run's tables to the abort.
pub async fn stage_while_loading(
    url: &MySqlUrl,
    target: &SinkTarget,
    schema: &Schema,
    mut query: oneshot::Receiver<u64>,
) -> Result<()> {
    let mut conn = connect(url, true).await?;
    let mut staging = PartitionedStaging::open(&mut conn, target, schema).await?;
    let mut ticks = tokio::time::interval(POLL_INTERVAL);
    let mut early = true;
    let outcome = loop {
        tokio::select! {
            outcome = &mut query => break outcome,
            _ = ticks.tick(), if early => {}
        }
        // after a failure, the rest waits for the final pass, which reports what still fails
        if let Err(e) = staging.exchange_finished().await {
            debug!(table = %target.table, error = %e, "exchanging finished period tables");
            early = false;
        }
    };
    let finished = match outcome {
        Ok(rows) => staging.finish(Some(rows)).await,
        Err(_) => Err(query_failed(target)),
    };
    let _ = conn.disconnect().await;
    finished
}
