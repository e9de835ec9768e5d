//! The MySQL sink: Gold tables bulk-loaded from the executors, in parallel, into partitioned MySQL
//! tables, and published atomically.
//!
//! How a run goes (see [`MySqlSink`]):
//! 1. `prepare` checks the server and creates the database and `pipeline_runs`.
//! 2. `write_table` plans `INSERT INTO` a [`MySqlTable`]; the scheduler turns it into a
//!    [`MySqlSinkExec`] whose tasks each stream their partition into their own task table with
//!    `LOAD DATA LOCAL INFILE` fed from memory (or multi-row `INSERT`s where LOCAL INFILE is
//!    refused), secondary indexes added after the load, InnoDB's automatic statistics off while
//!    they fill. The client builds the table's staging table in the background ([`background`]):
//!    for `partition_by_year` (`partition_by_month`) tables, one partition per year (month) present
//!    plus `p_future`, each filled by `EXCHANGE PARTITION` with a task's period table as soon as
//!    its task finished it ([`exchange`]); for other tables, from their task tables once the query
//!    ended. Then `ANALYZE TABLE`. The run computes its next Gold table meanwhile.
//! 3. `publish` waits for those builds, merges the tables written with a
//!    [`Merge`](crate::sink::Merge) (upsert, period window) into their live tables in one
//!    transaction ([`merge`]), then renames all other staging tables over the Gold tables in one
//!    `RENAME TABLE` and drops the replaced tables; `abort` waits for the builds too and drops
//!    everything the run created.
//!
//! Names are derived from the run id ([`names`]), so a retried task replaces its own table.

mod added_columns;
mod background;
mod check;
mod connection;
mod ddl;
mod exchange;
mod exec;
mod key_order;
mod load;
pub mod maintenance;
mod merge;
mod names;
mod plain_strings;
mod publish;
mod published;
mod run_lock;
mod runs;
mod sink;
mod table;
mod target;
mod task_tables;
mod tsv;
mod url;
mod year_tasks;

pub use ddl::{PeriodGrain, PeriodPartitions, TableDdl, TableLayout};
pub use exec::{MySqlSinkExec, MySqlWriter, count_schema};
pub use load::refuses_local_infile;
pub use names::{RunNames, TaskPart, run_key};
pub use run_lock::MySqlRunLock;
pub use sink::MySqlSink;
pub use table::MySqlTable;
pub use target::SinkTarget;
pub use tsv::{RowEncoder, RowFormat};
pub use url::{LoadMethod, MySqlUrl};
pub use year_tasks::YearTasks;
