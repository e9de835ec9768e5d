//! Writing a run's Gold tables into the sink's staging area: the materialized views, every Gold
//! table and the Silver quality measure, up to the run's concurrency at once (a query that reads
//! the views waits for them), each resubmitted when its Ballista job was lost and stopped when the
//! run is cancelled.

use std::time::{Duration, Instant};

use datafusion::prelude::SessionContext;
use futures::future::BoxFuture;
use indicatif::{ProgressBar, ProgressStyle};
use medallion_core::run_record::RunRecord;
use medallion_core::sink::{GoldSink, GoldTable, Merge};
use medallion_core::table_options::{Incremental, TableOptions};
use medallion_core::{Error, Result};
use tokio::sync::watch;
use tracing::{info, warn};

use crate::materialize::{ViewDependencies, materialize_views};
use crate::plan::{GoldQuery, JobPlan, QualityRule};
use crate::quality::Gate;
use crate::resubmit::{RESUBMIT_PAUSE, with_resubmission};
use crate::run_request::RunRequest;
use crate::run_tasks::{run_limited, within};
use crate::shared_views::shared_views;
use crate::silver_quality::{Quality, measure_quality};
use crate::table_references::tables_read;

/// A progress bar of `len` steps, hidden unless `show`.
fn progress_bar(show: bool, len: usize) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len as u64);
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
    {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

/// How the run's rows of a table with `options` combine with its published rows: upserted in an
/// incremental run (`--since`) for `incremental = upsert` tables; for `replace_range = col` tables,
/// only the run's period window `[period_start, period_end)` is replaced when the run has one (the
/// parameters differ from the job's defaults); otherwise the table is replaced.
pub fn merge_for(options: &TableOptions, job: &JobPlan, request: &RunRequest) -> Merge {
    use crate::plan::period::{PERIOD_END, PERIOD_START};
    if request.mode == "incremental" && options.incremental == Some(Incremental::Upsert) {
        return Merge::Upsert;
    }
    if let Some(column) = &options.replace_range {
        let window = (
            request.params.date(PERIOD_START),
            request.params.date(PERIOD_END),
        );
        let defaults = (job.params.date(PERIOD_START), job.params.date(PERIOD_END));
        if let (Some(start), Some(end)) = window
            && window != defaults
        {
            return Merge::ReplaceRange {
                column: column.clone(),
                start,
                end,
            };
        }
    }
    Merge::Replace
}

/// What one unit of a run's work produced.
enum Staged {
    /// The materialized views, computed.
    Views,
    /// The Silver input's quality.
    Quality(Quality),
    /// A Gold table written into staging, with its rows.
    Table(String, u64),
}

/// Whether the run's materialized views are computed: `None` while they are being computed,
/// then whether they succeeded.
type ViewsReady = watch::Receiver<Option<bool>>;

/// Waits until the materialized views are computed, for a query (`what`) of `job` that reads
/// them; fails when they failed (the views' own error, returned first, is the run's).
async fn views_computed(mut ready: ViewsReady, job: &str, what: &str) -> Result<()> {
    match ready.wait_for(Option::is_some).await.map(|done| *done) {
        Ok(Some(true)) => Ok(()),
        _ => Err(Error::JobFailed {
            job: job.to_string(),
            message: format!("{what} not run: the materialized views it reads failed"),
        }),
    }
}

/// Writes Gold table `gold` into the sink's staging area; returns its rows.
async fn write_table(
    ctx: &SessionContext,
    job: &JobPlan,
    request: &RunRequest,
    sink: &dyn GoldSink,
    gold: &GoldQuery,
    gate: Option<&Gate>,
) -> Result<u64> {
    let started = Instant::now();
    let sql = gold.sql_with(&request.params)?;
    let mut df = ctx
        .sql(&sql)
        .await
        .map_err(|e| Error::engine(format!("planning Gold table {}", gold.query.name), e))?;
    if let Some(gate) = gate.filter(|g| g.captures(&gold.query.name)) {
        // computed once, kept for the gate and written from memory
        df = gate.capture_and_replay(&gold.query.name, df).await?;
    }
    let table = GoldTable {
        name: &gold.query.name,
        options: &gold.options,
    };
    let merge = merge_for(&gold.options, job, request);
    let rows = sink.write_merged(table, df, &merge).await?;
    info!(
        table = %gold.query.name,
        rows,
        seconds = started.elapsed().as_secs_f64(),
        "Gold table staged"
    );
    Ok(rows)
}

/// `outcome`, after cancelling the run's other unfinished Ballista jobs when it failed because one
/// of its jobs was cancelled from outside the run: the run stops now, without waiting for them.
async fn stop_when_cancelled<T>(request: &RunRequest, outcome: Result<T>) -> Result<T> {
    if let (Err(e), Some(jobs)) = (&outcome, &request.jobs)
        && let Some(id) = jobs.external_cancellation(e)
    {
        warn!(job_id = %id, "Ballista job cancelled: stopping the run");
        jobs.cancel_unfinished().await;
    }
    outcome
}

/// The tables and views the quality measure of `rule` reads.
fn quality_reads(rule: &QualityRule) -> Vec<String> {
    [Some(&rule.input), Some(&rule.accepted), rule.score.as_ref()]
        .into_iter()
        .flatten()
        .cloned()
        .collect()
}

/// Writes every Gold table of `job` into the sink's staging area and measures quality, running
/// up to `request.concurrency` of these queries at once. The materialized views start first; a
/// query that does not read them starts without waiting for them (Gold tables first, in the job's
/// order, then the quality measure), so with two at once the first Gold table (e.g. a big table
/// loading into MySQL) runs while the views are computed.
pub async fn write_gold(
    ctx: &SessionContext,
    job: &JobPlan,
    request: &RunRequest,
    sink: &dyn GoldSink,
    record: &mut RunRecord,
    gate: Option<&Gate>,
) -> Result<()> {
    let bar = progress_bar(request.progress, job.gold.len());
    // the tables and views each of the run's queries reads (a Gold table whose SQL cannot be
    // read reads nothing here; its planning reports the error)
    // per Gold table: `None` when its parameters cannot be substituted, `Some(None)` when its
    // SQL cannot be read (read once here, for the shared views and for what waits for them)
    let gold_reads: Vec<Option<Option<Vec<String>>>> = job
        .gold
        .iter()
        .map(|gold| {
            gold.sql_with(&request.params)
                .ok()
                .map(|sql| tables_read(ctx, &sql).ok())
        })
        .collect();
    let mut reads: Vec<Vec<String>> = gold_reads
        .iter()
        .map(|read| read.clone().flatten().unwrap_or_default())
        .collect();
    if let Some(rule) = &job.quality {
        reads.push(quality_reads(rule));
    }
    let shared = shared_views(ctx, &job.views, &reads, &request.params);
    let dependencies = ViewDependencies::new(ctx, &job.views, &shared, &request.params);
    let (views_done, views_ready) = watch::channel(None);
    // each query within the run's query timeout, if any
    let overdue = |what: String| {
        move |limit: Duration| Error::JobFailed {
            job: job.name.clone(),
            message: format!("{what} did not finish within {limit:?}"),
        }
    };
    // a query whose Ballista job was lost with an executor is resubmitted (bounded)
    let views: BoxFuture<'_, Result<Staged>> = Box::pin(async move {
        // the views several Gold tables share, computed once (see crate::materialize)
        let outcome = with_resubmission(
            "materialized views",
            request.attempts,
            RESUBMIT_PAUSE,
            |_| {
                let overdue = overdue("the materialized views".to_string());
                within(
                    request.query_timeout,
                    materialize_views(ctx, &job.views, &shared, &request.params),
                    overdue,
                )
            },
        )
        .await;
        let outcome = stop_when_cancelled(request, outcome).await;
        views_done.send_replace(Some(outcome.is_ok()));
        outcome.map(|()| Staged::Views)
    });
    // (waits for the views, the query)
    let mut queries: Vec<(bool, BoxFuture<'_, Result<Staged>>)> = Vec::new();
    for (gold, read) in job.gold.iter().zip(&gold_reads) {
        let bar = bar.clone();
        // a table whose parameters cannot be substituted waits (its planning reports it)
        let waits = read
            .as_ref()
            .is_none_or(|reads| dependencies.reads_wait(reads.as_deref()));
        let ready = views_ready.clone();
        queries.push((
            waits,
            Box::pin(async move {
                let name = gold.query.name.as_str();
                if waits {
                    views_computed(ready, &job.name, &format!("Gold table {name}")).await?;
                }
                bar.set_message(name.to_string());
                info!(table = %name, "Gold table started");
                let outcome = with_resubmission(name, request.attempts, RESUBMIT_PAUSE, |_| {
                    let overdue = overdue(format!("Gold table {name}"));
                    within(
                        request.query_timeout,
                        write_table(ctx, job, request, sink, gold, gate),
                        overdue,
                    )
                })
                .await;
                let rows = stop_when_cancelled(request, outcome).await?;
                bar.inc(1);
                Ok(Staged::Table(name.to_string(), rows))
            }),
        ));
    }
    if let Some(rule) = &job.quality {
        let waits = dependencies.waits_for(&quality_reads(rule));
        let ready = views_ready.clone();
        queries.push((
            waits,
            Box::pin(async move {
                if waits {
                    views_computed(ready, &job.name, "the quality measure").await?;
                }
                let outcome =
                    with_resubmission("quality measure", request.attempts, RESUBMIT_PAUSE, |_| {
                        let overdue = overdue("the quality measure".to_string());
                        within(request.query_timeout, measure_quality(ctx, rule), overdue)
                    })
                    .await;
                stop_when_cancelled(request, outcome)
                    .await
                    .map(Staged::Quality)
            }),
        ));
    }
    // the views first; then what does not wait for them, then what does (each in its own order):
    // a waiting query never holds a place while one that could run waits behind it
    let (waiting, free): (Vec<_>, Vec<_>) = queries.into_iter().partition(|(waits, _)| *waits);
    let tasks: Vec<BoxFuture<'_, Result<Staged>>> = std::iter::once(views)
        .chain(free.into_iter().map(|(_, task)| task))
        .chain(waiting.into_iter().map(|(_, task)| task))
        .collect();
    // a job the run cancelled itself because another was cancelled is not the run's cause
    let stopped_by_run = |e: &Error| {
        request
            .jobs
            .as_ref()
            .is_some_and(|jobs| jobs.stopped_by_run(e))
    };
    let outcome = run_limited(tasks, request.concurrency, stopped_by_run).await;
    bar.finish_and_clear();
    for staged in outcome? {
        match staged {
            Staged::Views => {}
            Staged::Table(name, rows) => {
                record.rows_written.insert(name, rows);
            }
            Staged::Quality(quality) => {
                record.rows_read = quality.rows_read;
                record.rows_rejected = quality.rows_rejected;
                record.data_quality_score = quality.completeness_pct;
                if quality.rows_rejected > 0 {
                    warn!(
                        rejected = quality.rows_rejected,
                        read = quality.rows_read,
                        "Silver rows rejected by the acceptance rules"
                    );
                }
            }
        }
    }
    Ok(())
}
