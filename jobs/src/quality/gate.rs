//! [`Gate`]: a run's expectations checked against what the job reads — every table named, every
//! column there, every custom query planned — before anything is written; and the Gold tables the
//! gate must see, kept in memory as the run writes them.
//!
//! Expectations on a Silver input or a view run as SQL in the run's own session (on the cluster
//! when the run is submitted). Expectations on a Gold table run in a small client-side session
//! over the rows the run wrote for it (captured once, at write time: meant for the aggregate KPI
//! tables), except `row_count` and `row_count_change`, which use the rows the sink reports. A
//! custom `sql` expectation reading Gold tables also sees `run_rows(table_name, rows_, run_mode)`:
//! the rows written per Gold table, the `[quality]` input's rows read and its accepted rows (under
//! the accepted view's name).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use medallion_core::{Error, Result, session};

use super::expectation::{Bins, Check, Expectation};
use crate::plan::{JobPlan, Params};
use crate::table_references::tables_read;

/// The table of run facts custom `sql` expectations over Gold tables may read.
pub const RUN_ROWS: &str = "run_rows";

/// Silver inputs with fewer rows than this are not judged by completeness and row count change
/// expectations (too few rows to say anything), unless `[quality] min_rows` says otherwise.
pub const DEFAULT_MIN_ROWS: u64 = 1000;

/// Where an expectation's queries run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// In the run's session, over a Silver input, a view or a reference table.
    Silver,
    /// In the gate's client-side session, over captured Gold tables and `run_rows`.
    Gold,
    /// No query: facts the run already has (quality score, rows read or written).
    Facts,
}

/// A run's data quality gate.
pub struct Gate {
    /// The expectations, with where each runs and, for custom SQL, its text with parameters set.
    pub(super) checks: Vec<(Expectation, Place, Option<String>)>,
    /// The client-side session of the expectations on Gold tables.
    pub(super) local: SessionContext,
    /// The Gold tables to capture, with their planned schemas.
    pub(super) gold: BTreeMap<String, SchemaRef>,
    /// Captured Gold rows.
    captured: Mutex<BTreeMap<String, Vec<RecordBatch>>>,
    /// The `[quality]` input, its accepted view and `min_rows`.
    pub(super) quality: Option<(String, String)>,
    /// The smallest Silver input judged by the statistical expectations.
    pub(super) min_rows: u64,
    /// The drift expectations binned by quantiles (numeric columns).
    pub(super) quantiles: BTreeSet<String>,
}

/// The error of expectation `e`.
fn invalid(e: &Expectation, message: impl std::fmt::Display) -> Error {
    Error::invalid(format!("expectation {e}"), message.to_string())
}

/// The schema of `run_rows`.
pub fn run_rows_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("table_name", DataType::Utf8, false),
        Field::new("rows_", DataType::Int64, false),
        Field::new("run_mode", DataType::Utf8, false),
    ]))
}

/// Registers (or replaces) `name` in `ctx` as an in-memory table of `batches`.
pub(super) fn register_memory(
    ctx: &SessionContext,
    name: &str,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
) -> Result<()> {
    let schema = batches.first().map_or(schema, |b| b.schema());
    let table = MemTable::try_new(schema, vec![batches])
        .map_err(|e| Error::engine(format!("holding {name} for the quality gate"), e))?;
    let _ = ctx.deregister_table(name);
    ctx.register_table(name, Arc::new(table))
        .map_err(|e| Error::engine(format!("holding {name} for the quality gate"), e))?;
    Ok(())
}

impl Gate {
    /// Checks `expectations` of `job` against `ctx`, where the run registered its inputs and
    /// views; `params` are the run's (set into custom SQL). Any mistake is an
    /// [`Error::InvalidArgument`] naming the expectation, raised before the run writes anything.
    pub async fn plan(
        ctx: &SessionContext,
        job: &JobPlan,
        params: &Params,
        expectations: &[Expectation],
    ) -> Result<Gate> {
        let local = session::embedded_context(1, None)?;
        session::register_udfs(&local);
        let quality = job
            .quality
            .as_ref()
            .map(|q| (q.input.clone(), q.accepted.clone()));
        let mut gate = Gate {
            checks: Vec::new(),
            local,
            gold: BTreeMap::new(),
            captured: Mutex::new(BTreeMap::new()),
            quality,
            min_rows: job
                .quality
                .as_ref()
                .map_or(DEFAULT_MIN_ROWS, |q| q.min_rows),
            quantiles: BTreeSet::new(),
        };
        register_memory(&gate.local, RUN_ROWS, run_rows_schema(), vec![])?;
        let mut names = BTreeSet::new();
        for e in expectations {
            if !names.insert(e.name.as_str()) {
                return Err(invalid(e, "another expectation has the same name"));
            }
            let checked = gate.plan_one(ctx, job, params, e).await?;
            gate.checks.push(checked);
        }
        Ok(gate)
    }

    /// Where `e` runs, after checking its table, columns and query.
    async fn plan_one(
        &mut self,
        ctx: &SessionContext,
        job: &JobPlan,
        params: &Params,
        e: &Expectation,
    ) -> Result<(Expectation, Place, Option<String>)> {
        if let Check::Sql { sql } = &e.check {
            let sql = params.substitute(sql).map_err(|m| invalid(e, m))?;
            let place = self.plan_sql(ctx, job, params, e, &sql).await?;
            return Ok((e.clone(), place, Some(sql)));
        }
        let Some(table) = e.table.as_deref() else {
            return Err(invalid(e, "no table"));
        };
        let gold = job.gold.iter().find(|g| g.query.name == table);
        let is_quality_input = self
            .quality
            .as_ref()
            .is_some_and(|(input, _)| input == table);
        let place = match (&e.check, gold) {
            (Check::RowCount { .. } | Check::RowCountChange { .. }, Some(_)) => Place::Facts,
            (Check::RowCountChange { .. }, None) if is_quality_input => Place::Facts,
            (Check::RowCountChange { .. }, None) => {
                return Err(invalid(
                    e,
                    format!(
                        "row_count_change compares with the last run's pipeline_runs: its table \
                         must be a Gold table or the [quality] input{}",
                        self.quality
                            .as_ref()
                            .map_or(String::new(), |(i, _)| format!(" ({i})"))
                    ),
                ));
            }
            (Check::Completeness { column: None, .. }, _) if is_quality_input => Place::Facts,
            (Check::Completeness { column: None, .. }, _) => {
                return Err(invalid(
                    e,
                    "completeness without a column is the run's quality score: its table must \
                     be the [quality] input",
                ));
            }
            (_, Some(_)) => Place::Gold,
            (_, None) => Place::Silver,
        };
        let schema = match gold {
            Some(gold) => {
                self.gold_schema(ctx, params, &gold.query.name, gold)
                    .await?
            }
            None => ctx
                .table(table)
                .await
                .map(|df| Arc::new(df.schema().as_arrow().clone()))
                .map_err(|_| {
                    invalid(
                        e,
                        format!(
                            "table '{table}' is not a Silver input, view or Gold table of job {}",
                            job.name
                        ),
                    )
                })?,
        };
        for column in e.check.columns() {
            if schema.field_with_name(column).is_err() {
                let known: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                return Err(invalid(
                    e,
                    format!(
                        "table {table} has no column '{column}' (columns: {})",
                        known.join(", ")
                    ),
                ));
            }
        }
        if let Check::Drift { column, bins, .. } = &e.check {
            let numeric = schema
                .field_with_name(column)
                .is_ok_and(|f| f.data_type().is_numeric());
            match bins {
                Bins::Quantiles if !numeric => {
                    return Err(invalid(
                        e,
                        format!("bins = quantiles needs a numeric column, {column} is not"),
                    ));
                }
                Bins::Quantiles | Bins::Auto if numeric => {
                    self.quantiles.insert(e.name.clone());
                }
                _ => {}
            }
        }
        if place == Place::Gold {
            self.gold.insert(table.to_string(), schema);
        }
        Ok((e.clone(), place, None))
    }

    /// The schema of Gold table `name`, planned (not run) in `ctx`.
    async fn gold_schema(
        &mut self,
        ctx: &SessionContext,
        params: &Params,
        name: &str,
        gold: &crate::plan::GoldQuery,
    ) -> Result<SchemaRef> {
        if let Some(schema) = self.gold.get(name) {
            return Ok(Arc::clone(schema));
        }
        let df = ctx
            .sql(&gold.sql_with(params)?)
            .await
            .map_err(|e| Error::engine(format!("planning Gold table {name}"), e))?;
        Ok(Arc::new(df.schema().as_arrow().clone()))
    }

    /// Where custom query `sql` of `e` runs: with the Gold tables (and `run_rows`) it reads, or
    /// in the run's session; planned there now.
    async fn plan_sql(
        &mut self,
        ctx: &SessionContext,
        job: &JobPlan,
        params: &Params,
        e: &Expectation,
        sql: &str,
    ) -> Result<Place> {
        let tables =
            tables_read(ctx, sql).map_err(|err| invalid(e, crate::quality::first_line(&err)))?;
        let is_gold = |t: &str| t == RUN_ROWS || job.gold.iter().any(|g| g.query.name == t);
        let place = match (
            tables.iter().any(|t| is_gold(t)),
            tables.iter().all(|t| is_gold(t)),
        ) {
            (false, _) => Place::Silver,
            (true, true) => Place::Gold,
            (true, false) => {
                return Err(invalid(
                    e,
                    "a sql expectation reads Gold tables (and run_rows) or Silver tables and \
                     views, not both",
                ));
            }
        };
        if place == Place::Gold {
            for table in tables.iter().filter(|t| *t != RUN_ROWS) {
                if let Some(gold) = job.gold.iter().find(|g| g.query.name == *table) {
                    let schema = self.gold_schema(ctx, params, table, gold).await?;
                    register_memory(&self.local, table, Arc::clone(&schema), vec![])?;
                    self.gold.insert(table.clone(), schema);
                }
            }
        }
        let planner = if place == Place::Gold {
            &self.local
        } else {
            ctx
        };
        planner
            .sql(sql)
            .await
            .map_err(|err| invalid(e, crate::quality::first_line(&err)))?;
        Ok(place)
    }

    /// Whether the run must keep Gold table `table`'s rows for the gate.
    pub fn captures(&self, table: &str) -> bool {
        self.gold.contains_key(table)
    }

    /// Keeps `batches`, the rows the run wrote for Gold table `table`.
    pub fn capture(&self, table: &str, batches: Vec<RecordBatch>) {
        self.captured
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(table.to_string(), batches);
    }

    /// The captured rows of `table` (none when it was not written).
    pub(super) fn captured(&self, table: &str) -> Vec<RecordBatch> {
        self.captured
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(table)
            .cloned()
            .unwrap_or_default()
    }

    /// How many expectations the gate checks.
    pub fn len(&self) -> usize {
        self.checks.len()
    }

    /// Whether it checks none.
    pub fn is_empty(&self) -> bool {
        self.checks.is_empty()
    }
}
