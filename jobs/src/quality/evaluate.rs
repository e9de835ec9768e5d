//! Evaluating a [`Gate`] once the run's Gold tables are staged: one aggregate query per relation
//! for its column checks, one query per `unique` and custom `sql` expectation, the facts the run
//! already has for the rest, and a sample of the failing rows of each failed row-by-row check.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::prelude::SessionContext;
use medallion_core::{Error, Result, session};

use super::drift::{Profile, psi, quantile_profile, value_profile};
use super::expectation::{Check, Expectation};
use super::gate::{Gate, Place, RUN_ROWS, register_memory, run_rows_schema};
use super::history::PreviousRun;
use super::outcome::{Outcome, Status, change_pct, within};
use super::relation_sql::{aggregate_query, duplicates_query, sample_query};

/// Failing rows shown per failed expectation.
const SAMPLE_ROWS: usize = 5;

/// Most rows of a custom query counted.
const SQL_ROWS_COUNTED: usize = 10_000;

/// What the run knows when the gate runs.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// `full` or `incremental`.
    pub mode: String,
    /// Rows of the `[quality]` input.
    pub rows_read: u64,
    /// Its accepted rows.
    pub accepted: u64,
    /// The run's quality score (percent).
    pub quality_score: Option<f64>,
    /// Rows written per Gold table.
    pub rows_written: BTreeMap<String, u64>,
    /// The job's last successful run, if any.
    pub previous: Option<PreviousRun>,
}

/// The first column of the first row of `batches`, as a float.
fn first_value(batches: &[RecordBatch], column: usize) -> Result<Option<f64>> {
    let Some(batch) = batches.iter().find(|b| b.num_rows() > 0) else {
        return Ok(None);
    };
    let values = cast(batch.column(column), &DataType::Float64)
        .map_err(|e| Error::engine("reading a quality measure", e.into()))?;
    let values = values.as_primitive::<Float64Type>();
    Ok((!values.is_null(0)).then(|| values.value(0)))
}

/// `batches` as JSON lines.
fn json_lines(batches: &[RecordBatch]) -> Option<String> {
    let mut writer = datafusion::arrow::json::LineDelimitedWriter::new(Vec::new());
    for batch in batches {
        writer.write(batch).ok()?;
    }
    writer.finish().ok()?;
    let text = String::from_utf8(writer.into_inner()).ok()?;
    let text = text.trim_end().to_string();
    (!text.is_empty()).then_some(text)
}

impl Gate {
    /// Checks every expectation against the run: `ctx` is the run's session, `facts` what it
    /// measured and wrote. Returns one outcome per expectation, in declaration order.
    pub async fn evaluate(&self, ctx: &SessionContext, facts: &Facts) -> Result<Vec<Outcome>> {
        for (table, schema) in &self.gold {
            register_memory(&self.local, table, Arc::clone(schema), self.captured(table))?;
        }
        register_memory(
            &self.local,
            RUN_ROWS,
            run_rows_schema(),
            vec![self.run_rows(facts)?],
        )?;
        let mut outcomes: Vec<Option<Outcome>> = vec![None; self.checks.len()];
        // one aggregate query per relation for its column checks
        let mut by_relation: BTreeMap<(String, bool), Vec<usize>> = BTreeMap::new();
        for (i, (e, place, _)) in self.checks.iter().enumerate() {
            let aggregated = matches!(
                e.check,
                Check::NotNull { .. }
                    | Check::AcceptedValues { .. }
                    | Check::Range { .. }
                    | Check::RowCount { .. }
                    | Check::Freshness { .. }
                    | Check::Completeness {
                        column: Some(_),
                        ..
                    }
            );
            if aggregated && *place != Place::Facts {
                let table = e.table.clone().unwrap_or_default();
                by_relation
                    .entry((table, *place == Place::Gold))
                    .or_default()
                    .push(i);
            }
        }
        for ((table, gold), indexes) in &by_relation {
            let session = if *gold { &self.local } else { ctx };
            let checks: Vec<&Check> = indexes.iter().map(|&i| &self.checks[i].0.check).collect();
            let (sql, slots) = aggregate_query(table, &checks);
            let batches = session::collect_sql(
                session,
                &sql,
                &format!("data quality gate: measuring {table}"),
            )
            .await?;
            let rows = first_value(&batches, 0)?.unwrap_or(0.0);
            for (&i, slot) in indexes.iter().zip(slots) {
                let value = match slot {
                    Some(column) => first_value(&batches, column)?,
                    None => None,
                };
                let e = &self.checks[i].0;
                outcomes[i] = Some(self.judge_measured(e, !*gold, rows, value));
            }
        }
        for (i, (e, place, sql)) in self.checks.iter().enumerate() {
            if outcomes[i].is_some() {
                continue;
            }
            let session = if *place == Place::Gold {
                &self.local
            } else {
                ctx
            };
            outcomes[i] = Some(match (&e.check, sql) {
                (Check::Sql { .. }, Some(sql)) => custom_sql(session, e, sql).await?,
                (Check::Drift { .. }, _) => {
                    self.drift(session, e, *place == Place::Silver, facts)
                        .await?
                }
                (Check::Unique { columns }, _) => {
                    let table = e.table.as_deref().unwrap_or_default();
                    let what = format!("data quality gate: duplicates in {table}");
                    let batches =
                        session::collect_sql(session, &duplicates_query(table, columns), &what)
                            .await?;
                    let failing = first_value(&batches, 0)?.unwrap_or(0.0) as u64;
                    Outcome::from_failing_rows(e, failing)
                }
                _ => self.judge_facts(e, facts),
            });
        }
        let mut done = Vec::with_capacity(outcomes.len());
        for (i, outcome) in outcomes.into_iter().enumerate() {
            let Some(mut outcome) = outcome else { continue };
            let failed = matches!(outcome.status, Status::Warn | Status::Fail);
            if failed && outcome.failing_rows.is_some_and(|n| n > 0) && outcome.sample.is_none() {
                let place = self.checks[i].1;
                let session = if place == Place::Gold {
                    &self.local
                } else {
                    ctx
                };
                outcome.sample = sample(session, &outcome.expectation).await;
            }
            done.push(outcome);
        }
        Ok(done)
    }

    /// The outcome of a check measured by its relation's aggregate query: `rows` rows, `value`
    /// its measure; `silver` says whether the relation is Silver (judged by `min_rows`).
    fn judge_measured(
        &self,
        e: &Expectation,
        silver: bool,
        rows: f64,
        value: Option<f64>,
    ) -> Outcome {
        match &e.check {
            Check::RowCount { min, max } => {
                Outcome::judged(e, within(rows, *min, *max), Some(rows))
            }
            Check::Completeness { min_pct, .. } => {
                if silver && rows < self.min_rows as f64 {
                    return Outcome::skipped(e, None, &self.too_few(rows));
                }
                if rows == 0.0 {
                    return Outcome::skipped(e, None, "no rows");
                }
                let present = value.unwrap_or(0.0);
                let mut outcome = Outcome::judged(
                    e,
                    100.0 * present / rows >= *min_pct,
                    Some(100.0 * present / rows),
                );
                outcome.failing_rows = Some((rows - present).max(0.0) as u64);
                outcome
            }
            Check::Freshness { max_age_hours, .. } => match value {
                None => Outcome::judged(e, false, None),
                Some(epoch) => {
                    let now = chrono::Utc::now().timestamp_micros() as f64 / 1e6;
                    let age = (now - epoch) / 3600.0;
                    Outcome::judged(e, age <= *max_age_hours, Some(age))
                }
            },
            _ => Outcome::from_failing_rows(e, value.unwrap_or(0.0).max(0.0) as u64),
        }
    }

    /// Why a statistical expectation was not judged on `rows` rows.
    fn too_few(&self, rows: f64) -> String {
        format!(
            "skipped: {rows} rows, fewer than [quality] min_rows = {}",
            self.min_rows
        )
    }

    /// The outcome of an expectation judged on what the run already knows.
    fn judge_facts(&self, e: &Expectation, facts: &Facts) -> Outcome {
        let table = e.table.as_deref().unwrap_or_default();
        let gold = facts.rows_written.get(table).copied();
        let current = gold.unwrap_or(facts.rows_read) as f64;
        match &e.check {
            Check::RowCount { min, max } => {
                Outcome::judged(e, within(current, *min, *max), Some(current))
            }
            Check::Completeness { min_pct, .. } => {
                if (facts.rows_read as f64) < self.min_rows as f64 {
                    return Outcome::skipped(
                        e,
                        facts.quality_score,
                        &self.too_few(facts.rows_read as f64),
                    );
                }
                match facts.quality_score {
                    Some(score) => Outcome::judged(e, score >= *min_pct, Some(score)),
                    None => Outcome::skipped(e, None, "no quality score measured"),
                }
            }
            Check::RowCountChange { max_pct } => {
                let Some(previous) = &facts.previous else {
                    return Outcome::skipped(e, None, "no earlier successful run to compare with");
                };
                let before = match gold {
                    Some(_) => previous.rows_written.get(table).copied(),
                    None => Some(previous.rows_read),
                };
                let Some(before) = before else {
                    return Outcome::skipped(e, None, "the last successful run did not write it");
                };
                if gold.is_none() && (before.max(facts.rows_read)) < self.min_rows {
                    return Outcome::skipped(e, None, &self.too_few(before as f64));
                }
                match change_pct(before as f64, current) {
                    None => Outcome::skipped(e, None, "the last successful run had no rows"),
                    Some(change) => {
                        let mut outcome =
                            Outcome::judged(e, change.abs() <= *max_pct, Some(change));
                        outcome.detail = format!(
                            "{} rows against {before} in run {}: {change:+.1} %, expected within ±{max_pct} %",
                            current as u64, previous.run_id
                        );
                        outcome
                    }
                }
            }
            _ => Outcome::skipped(e, None, "not measured"),
        }
    }

    /// The outcome of drift expectation `e`: this run's profile (kept in the outcome) against
    /// the last successful run's; `silver` says whether `min_rows` applies.
    async fn drift(
        &self,
        session: &SessionContext,
        e: &Expectation,
        silver: bool,
        facts: &Facts,
    ) -> Result<Outcome> {
        let Check::Drift {
            column,
            max_psi,
            weight,
            ..
        } = &e.check
        else {
            return Ok(Outcome::skipped(e, None, "not a drift expectation"));
        };
        let table = e.table.as_deref().unwrap_or_default();
        let previous = facts
            .previous
            .as_ref()
            .and_then(|p| p.profiles.get(&e.name))
            .and_then(|json| Profile::from_json(json));
        let profile = match self.quantiles.contains(&e.name) {
            true => {
                let edges = previous
                    .as_ref()
                    .filter(|p| !p.edges.is_empty())
                    .map(|p| p.edges.as_slice());
                quantile_profile(session, table, column, weight.as_deref(), edges).await?
            }
            false => value_profile(session, table, column, weight.as_deref()).await?,
        };
        let mut outcome = match &previous {
            _ if silver && profile.total < self.min_rows as f64 => {
                Outcome::skipped(e, None, &self.too_few(profile.total))
            }
            None => Outcome::skipped(e, None, "first profile recorded: nothing to compare with"),
            Some(before) => {
                let index = psi(before, &profile);
                let mut outcome = Outcome::judged(e, index <= *max_psi, Some(index));
                outcome.detail = format!(
                    "PSI {index:.4} against run {}, expected <= {max_psi}",
                    facts.previous.as_ref().map_or("?", |p| p.run_id.as_str())
                );
                outcome
            }
        };
        outcome.profile = Some(profile.to_json());
        Ok(outcome)
    }

    /// `run_rows`: rows written per Gold table, the `[quality]` input's rows read and accepted.
    fn run_rows(&self, facts: &Facts) -> Result<RecordBatch> {
        let mut rows: Vec<(String, i64)> = facts
            .rows_written
            .iter()
            .map(|(t, n)| (t.clone(), *n as i64))
            .collect();
        if let Some((input, accepted)) = &self.quality {
            rows.push((input.clone(), facts.rows_read as i64));
            rows.push((accepted.clone(), facts.accepted as i64));
        }
        RecordBatch::try_new(
            run_rows_schema(),
            vec![
                Arc::new(StringArray::from_iter_values(
                    rows.iter().map(|r| r.0.as_str()),
                )),
                Arc::new(datafusion::arrow::array::Int64Array::from_iter_values(
                    rows.iter().map(|r| r.1),
                )),
                Arc::new(StringArray::from(vec![facts.mode.as_str(); rows.len()])),
            ],
        )
        .map_err(|e| Error::engine("building run_rows", e.into()))
    }
}

/// A custom query's outcome: its rows are the failing ones.
async fn custom_sql(ctx: &SessionContext, e: &Expectation, sql: &str) -> Result<Outcome> {
    let what = format!("data quality gate: expectation {}", e.name);
    let batches = session::collect_sql(
        ctx,
        &format!("SELECT * FROM ({sql}) LIMIT {SQL_ROWS_COUNTED}"),
        &what,
    )
    .await?;
    let failing: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let mut outcome = Outcome::from_failing_rows(e, failing as u64);
    if failing > 0 {
        let mut shown = Vec::new();
        let mut left = SAMPLE_ROWS;
        for batch in &batches {
            let take = left.min(batch.num_rows());
            shown.push(batch.slice(0, take));
            left -= take;
        }
        outcome.sample = json_lines(&shown);
    }
    Ok(outcome)
}

/// A few failing rows of a failed row-by-row expectation, as JSON lines (`None` when they
/// cannot be read: the sample is a help, never a reason to fail the gate).
async fn sample(ctx: &SessionContext, e: &Expectation) -> Option<String> {
    let table = e.table.as_deref()?;
    let lead = ctx
        .table(table)
        .await
        .ok()?
        .schema()
        .field(0)
        .name()
        .clone();
    let sql = sample_query(table, &e.check, &lead, SAMPLE_ROWS)?;
    let batches = session::collect_sql(ctx, &sql, "sampling failing rows")
        .await
        .ok()?;
    json_lines(&batches)
}
