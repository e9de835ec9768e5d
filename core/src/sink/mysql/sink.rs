//! [`MySqlSink`]: the [`GoldSink`] state machine for MySQL — prepare, write tables into staging
//! (loaded in parallel by the executors), publish all of them in one `RENAME TABLE`, or abort.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use async_trait::async_trait;
use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::compute::cast as cast_to;
use datafusion::arrow::datatypes::{DataType, Int32Type, SchemaRef, UInt64Type};
use datafusion::common::TableReference;
use datafusion::datasource::provider_as_source;
use datafusion::functions::expr_fn::date_part;
use datafusion::functions_aggregate::expr_fn::count;
use datafusion::logical_expr::LogicalPlanBuilder;
use datafusion::logical_expr::dml::InsertOp;
use datafusion::logical_expr::{cast, ident, lit};
use datafusion::prelude::DataFrame;
use mysql_async::prelude::Queryable;
use tokio::sync::oneshot;
use tracing::{debug, info};

use super::background::{BackgroundStaging, BuildId};
use super::connection::{connect, server_error};
use super::ddl::TableLayout;
use super::exchange::{query_failed, stage_while_loading};
use super::merge::{MergedTable, merge_into_live};
use super::names::{RunNames, quote, run_key};
use super::publish::{assemble, drop_run_tables, publish};
use super::runs;
use super::table::MySqlTable;
use super::target::SinkTarget;
use super::url::MySqlUrl;
use super::year_tasks::YearTasks;
use crate::error::{Error, Result};
use crate::run_record::RunRecord;
use crate::sink::staged::StagedTables;
use crate::sink::{GoldSink, GoldTable, Merge};

/// Writes Gold tables into a MySQL database.
///
/// - [`prepare`](GoldSink::prepare) connects (an unreachable server or refused login is
///   [`Error::Unreachable`]), creates the database and `pipeline_runs` if missing.
/// - [`write_table`](GoldSink::write_table) plans `INSERT INTO` a [`MySqlTable`]: on the cluster,
///   every task of the Gold table's plan loads its partition into its own task tables, and the
///   client builds the table's staging table `stg_<run>__<table>` from them in the background
///   (see [`start_staging`](Self::start_staging), [`BackgroundStaging`]): a table partitioned by
///   date while its tasks still load, any other once they are done; the run goes on with its next
///   Gold table meanwhile.
/// - [`write_merged`](GoldSink::write_merged) stages a table the same way, to be merged (see
///   [`Merge`]) into its live table at publish.
/// - [`publish`](GoldSink::publish) waits for the staging tables being built (a build that failed
///   fails the publish: nothing is published), then merges the merged tables into their live
///   tables in one transaction (see [`super::merge`]), then renames every other staging table over
///   its Gold table in one atomic `RENAME TABLE`, and drops the replaced tables.
/// - [`abort`](GoldSink::abort) waits for the staging tables being built, then drops every table
///   of the run; published tables are untouched.
#[derive(Debug)]
pub struct MySqlSink {
    url: MySqlUrl,
    run: Option<RunNames>,
    staged: StagedTables,
    building: BackgroundStaging,
    merged: Mutex<Vec<MergedTable>>,
}

impl MySqlSink {
    /// A sink for `url`.
    pub fn new(url: MySqlUrl) -> Self {
        Self {
            url,
            run: None,
            staged: StagedTables::default(),
            building: BackgroundStaging::default(),
            merged: Mutex::new(Vec::new()),
        }
    }

    /// A sink for the `mysql://` URL `url` (see [`MySqlUrl::parse`]).
    pub fn open(url: &str) -> Result<Self> {
        MySqlUrl::parse(url).map(Self::new)
    }

    /// The server and database.
    pub fn url(&self) -> &MySqlUrl {
        &self.url
    }

    /// The names of the current run's tables.
    pub fn run_names(&self) -> Result<&RunNames> {
        self.run
            .as_ref()
            .ok_or_else(|| Error::invalid("sink", "prepare() was not called"))
    }

    /// The Gold tables staged so far in this run.
    pub fn staged(&self) -> Vec<String> {
        self.staged.list()
    }

    /// The tables to merge into their live tables at publish (see [`Merge`]).
    fn merged(&self) -> std::sync::MutexGuard<'_, Vec<MergedTable>> {
        self.merged.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The staging target of Gold table `table` with rows of `schema`, for `INSERT INTO`.
    pub fn staging_table(&self, table: GoldTable<'_>, schema: SchemaRef) -> Result<MySqlTable> {
        self.staging_table_with(table, schema, None)
    }

    /// [`MySqlSink::staging_table`] whose years are loaded by the tasks `year_tasks` gives them.
    fn staging_table_with(
        &self,
        table: GoldTable<'_>,
        schema: SchemaRef,
        year_tasks: Option<YearTasks>,
    ) -> Result<MySqlTable> {
        let target = SinkTarget {
            url: self.url.clone(),
            table: table.name.to_string(),
            run_key: self.run_names()?.key().to_string(),
            layout: TableLayout::from(table.options),
            year_tasks,
        };
        MySqlTable::try_new(target, schema)
    }

    /// For a table partitioned by date, loaded by several tasks: the tasks' balanced shares of the
    /// years of `df` (see [`YearTasks`]), from one aggregate over `df` that counts each year's
    /// rows.
    async fn year_tasks(&self, table: GoldTable<'_>, df: &DataFrame) -> Result<Option<YearTasks>> {
        let layout = TableLayout::from(table.options);
        let Some((column, _)) = layout.period_partitioning() else {
            return Ok(None);
        };
        let tasks = df.task_ctx().session_config().target_partitions();
        if tasks < 2 {
            return Ok(None);
        }
        let started = Instant::now();
        let counts = rows_per_year(df, column).await.map_err(|e| {
            Error::engine(
                format!(
                    "counting the rows of each year of Gold table {}",
                    table.name
                ),
                e,
            )
        })?;
        let assigned = YearTasks::balance(&counts, tasks);
        if let Some(assigned) = &assigned {
            info!(
                table = table.name,
                years = counts.len(),
                task_rows = ?assigned.rows,
                seconds = started.elapsed().as_secs_f64(),
                "Gold table years spread over the sink's tasks"
            );
        }
        Ok(assigned)
    }

    /// `error` naming this sink's server (credentials masked), so that a connection lost in the
    /// middle of a statement says where.
    fn at_server(&self, error: Error) -> Error {
        at_server(&self.url, error)
    }

    /// Builds `table`'s staging table from the task tables its tasks wrote, and marks it staged.
    /// `expected_rows`, the rows the tasks reported, is checked against what their tables hold.
    pub async fn stage(&self, table: &MySqlTable, expected_rows: Option<u64>) -> Result<()> {
        build_staging(self.url.clone(), table, expected_rows).await?;
        self.staged.add(&table.target().table);
        Ok(())
    }

    /// Starts building `table`'s staging table in the background, before its query runs: a table
    /// partitioned by date is filled while the tasks still load (see [`stage_while_loading`]), any
    /// other once they are done. Send the rows the query reported to the returned sender when it
    /// succeeded; dropping it fails the build, which the returned id can then discard. `started`:
    /// when the table's write began (logged).
    pub fn start_staging(
        &self,
        table: Arc<MySqlTable>,
        started: Instant,
    ) -> (oneshot::Sender<u64>, BuildId) {
        let (loaded, query) = oneshot::channel::<u64>();
        let url = self.url.clone();
        let build = self.building.start(async move {
            let target = table.target();
            if target.layout.period_partitioning().is_some() {
                let schema = datafusion::catalog::TableProvider::schema(table.as_ref());
                stage_while_loading(&url, target, &schema, query)
                    .await
                    .map_err(|e| at_server(&url, e))?;
            } else {
                let rows = query.await.map_err(|_| query_failed(target))?;
                build_staging(url, &table, Some(rows)).await?;
            }
            info!(
                table = %target.table,
                seconds = started.elapsed().as_secs_f64(),
                "Gold table staged in MySQL"
            );
            Ok(target.table.clone())
        });
        (loaded, build)
    }

    /// Waits for the staging tables being built in the background and marks them staged.
    async fn finish_staging(&self) -> Result<()> {
        for table in self.building.finish().await? {
            self.staged.add(&table);
        }
        Ok(())
    }
}

/// `error` naming the server at `url` (credentials masked), so that a connection lost in the
/// middle of a statement says where.
fn at_server(url: &MySqlUrl, error: Error) -> Error {
    match error {
        Error::Engine { context, source } => Error::Engine {
            context: format!("MySQL at {}: {context}", url.masked()),
            source,
        },
        Error::MySql { context, source } => Error::MySql {
            context: format!("MySQL at {}: {context}", url.masked()),
            source,
        },
        other => other,
    }
}

/// The rows of each year of `df`'s date or timestamp `column` (`None`: the rows without one).
async fn rows_per_year(
    df: &DataFrame,
    column: &str,
) -> datafusion::error::Result<Vec<(Option<i32>, u64)>> {
    let year = cast(date_part(lit("year"), ident(column)), DataType::Int32).alias("year");
    let batches = df
        .clone()
        .aggregate(vec![year], vec![count(lit(1)).alias("rows")])?
        .collect()
        .await?;
    let mut counts = Vec::new();
    for batch in &batches {
        let years = cast_to(batch.column(0), &DataType::Int32)?;
        let rows = cast_to(batch.column(1), &DataType::UInt64)?;
        let years = years.as_primitive::<Int32Type>();
        let rows = rows.as_primitive::<UInt64Type>();
        for (year, rows) in years.iter().zip(rows.iter()) {
            counts.push((year, rows.unwrap_or(0)));
        }
    }
    Ok(counts)
}

/// Builds `table`'s staging table at `url` from its task tables (see [`assemble`]); returns the
/// Gold table's name.
async fn build_staging(
    url: MySqlUrl,
    table: &MySqlTable,
    expected_rows: Option<u64>,
) -> Result<String> {
    let mut conn = connect(&url, true).await?;
    let schema = datafusion::catalog::TableProvider::schema(table);
    assemble(&mut conn, table.target(), &schema, expected_rows)
        .await
        .map_err(|e| at_server(&url, e))?;
    let _ = conn.disconnect().await;
    Ok(table.target().table.clone())
}

#[async_trait]
impl GoldSink for MySqlSink {
    fn describe(&self) -> String {
        self.url.masked()
    }

    /// 2: a partitioned table's load is bound by the server building its indexes (medallion's own
    /// share is a fraction of it), so the run's views and other tables are computed meanwhile.
    fn default_concurrency(&self) -> usize {
        2
    }

    async fn prepare(&mut self, run_id: &str) -> Result<()> {
        let mut conn = connect(&self.url, false).await?;
        let db = self.url.database.as_str();
        let exists: Option<String> = conn
            .exec_first(
                "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
                (db,),
            )
            .await
            .map_err(|e| server_error("looking up the MySQL database", e))?;
        if exists.is_none() {
            conn.query_drop(format!(
                "CREATE DATABASE IF NOT EXISTS {} CHARACTER SET utf8mb4",
                quote(db)?
            ))
            .await
            .map_err(|e| server_error(format!("creating MySQL database {db}"), e))?;
        }
        conn.query_drop(runs::create_sql(db)?)
            .await
            .map_err(|e| server_error("creating pipeline_runs", e))?;
        let _ = conn.disconnect().await;
        self.run = Some(RunNames::new(run_key(run_id)));
        self.staged.clear();
        self.merged().clear();
        Ok(())
    }

    async fn write_table(&self, table: GoldTable<'_>, df: DataFrame) -> Result<u64> {
        let started = Instant::now();
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        let year_tasks = self.year_tasks(table, &df).await?;
        let provider = Arc::new(self.staging_table_with(table, schema, year_tasks)?);
        let context = format!("writing Gold table {} to {}", table.name, self.url.masked());
        let (state, plan) = df.into_parts();
        let plan = LogicalPlanBuilder::insert_into(
            plan,
            TableReference::bare(format!("mysql_{}", table.name)),
            provider_as_source(provider.clone()),
            InsertOp::Append,
        )
        .and_then(|builder| builder.build())
        .map_err(|e| Error::engine(context.clone(), e))?;
        let (loaded, build) = self.start_staging(Arc::clone(&provider), started);
        let batches = match DataFrame::new(state, plan).collect().await {
            Ok(batches) => batches,
            Err(e) => {
                // the build ends as the query did; a resubmitted query starts its own
                drop(loaded);
                self.building.discard(build).await;
                return Err(Error::engine(context, e));
            }
        };
        let rows = crate::sink::rows_in(&batches);
        info!(
            table = table.name,
            rows, "Gold table loaded into MySQL task tables"
        );
        // the build ends on its own if it already failed
        let _ = loaded.send(rows);
        Ok(rows)
    }

    async fn write_merged(
        &self,
        table: GoldTable<'_>,
        df: DataFrame,
        merge: &Merge,
    ) -> Result<u64> {
        merge.check(table)?;
        let rows = self.write_table(table, df).await?;
        let mut merged = self.merged();
        merged.retain(|m| m.table != table.name);
        if *merge != Merge::Replace {
            merged.push(MergedTable {
                table: table.name.to_string(),
                merge: merge.clone(),
                layout: TableLayout::from(table.options),
            });
        }
        Ok(rows)
    }

    async fn publish(&mut self) -> Result<()> {
        self.finish_staging().await?;
        let names = self.run_names()?.clone();
        let mut conn = connect(&self.url, true).await?;
        let db = self.url.database.clone();
        let merged: Vec<MergedTable> = self
            .merged()
            .iter()
            .filter(|m| self.staged.contains(&m.table))
            .cloned()
            .collect();
        // the merges first (one transaction), then every other table in one RENAME
        let unpublished = merge_into_live(&mut conn, &db, &names, &merged)
            .await
            .map_err(|e| self.at_server(e))?;
        let renamed: Vec<String> = self
            .staged
            .list()
            .into_iter()
            .filter(|t| !merged.iter().any(|m| &m.table == t) || unpublished.contains(t))
            .collect();
        publish(&mut conn, &db, &names, &renamed)
            .await
            .map_err(|e| self.at_server(e))?;
        let _ = conn.disconnect().await;
        self.staged.clear();
        self.merged().clear();
        Ok(())
    }

    async fn abort(&mut self) -> Result<()> {
        // no build may go on creating tables after they are dropped; its failure is the run's
        // failure, already being reported
        if let Err(e) = self.building.finish().await {
            debug!(error = %e, "a MySQL staging table of the aborted run was not built");
        }
        let names = self.run_names()?.clone();
        let mut conn = connect(&self.url, true).await?;
        let dropped = drop_run_tables(&mut conn, &self.url.database, &names)
            .await
            .map_err(|e| self.at_server(e))?;
        let _ = conn.disconnect().await;
        info!(
            run = names.key(),
            tables = dropped,
            "MySQL staging tables dropped"
        );
        self.staged.clear();
        self.merged().clear();
        Ok(())
    }

    async fn check(&self) -> Result<String> {
        super::check::check_server(&self.url).await
    }

    async fn recent_runs(&self, job: Option<&str>, limit: u32) -> Result<Vec<RecordBatch>> {
        super::runs::recent_runs(&self.url, job, limit).await
    }

    async fn published_rows(
        &self,
        table: &str,
        columns: &[&str],
        key: (&str, &str),
    ) -> Result<Vec<Vec<Option<String>>>> {
        super::published::published_rows(&self.url, table, columns, key).await
    }

    async fn lock_run(
        &mut self,
        job: &str,
        run_id: &str,
        wait: std::time::Duration,
    ) -> Result<crate::sink::RunLock> {
        let lock = super::run_lock::MySqlRunLock::acquire(&self.url, job, run_id, wait).await?;
        Ok(crate::sink::RunLock::MySql(lock))
    }

    async fn record_run(&mut self, record: &RunRecord) -> Result<()> {
        let mut conn = connect(&self.url, true).await?;
        runs::record(&mut conn, &self.url.database, record)
            .await
            .map_err(|e| self.at_server(e))?;
        let _ = conn.disconnect().await;
        Ok(())
    }
}
