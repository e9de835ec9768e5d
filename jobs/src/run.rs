//! Running a job plan: open and check its lake inputs, register reference data and views, write
//! every Gold table into the sink's staging area, then publish them all at once — or abort and leave
//! the published tables untouched — and record the run in `pipeline_runs`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::Int64Type;
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use indicatif::{ProgressBar, ProgressStyle};
use medallion_core::cluster::JobTracker;
use medallion_core::error::first_line;
use medallion_core::lake::{self, LakeTable};
use medallion_core::run_audit::RunAudit;
use medallion_core::run_record::{RunRecord, RunStatus};
use medallion_core::sink::{GoldSink, GoldTable, Merge};
use medallion_core::table_options::{Incremental, TableOptions};
use medallion_core::{Error, Result};
use tracing::{Instrument, info, warn};

use crate::materialize::materialize_views;
use crate::plan::{GoldQuery, JobPlan, Params, QualityRule};
use crate::quality::{Facts, Gate, Outcome};
use crate::reference::register_reference;
use crate::resubmit::{RESUBMIT_PAUSE, with_resubmission};

/// What to run and where.
#[derive(Debug, Clone)]
pub struct RunRequest {
    /// The lake root (local path or URL).
    pub lake: String,
    /// The parameters, defaults already overridden.
    pub params: Params,
    /// `full` or `incremental`.
    pub mode: String,
    /// Show a progress bar.
    pub progress: bool,
    /// How many of the run's queries (Gold tables, the quality measure) run at once.
    pub concurrency: usize,
    /// How long the client waits for each query (a Gold table, the quality measure) before failing
    /// the run: a cluster run's last resort when a Ballista job that lost an executor never
    /// reports its end (`None`: forever).
    pub query_timeout: Option<Duration>,
    /// How many times a query runs at most when its Ballista job fails because an executor was
    /// lost (see [`crate::resubmit`]); 1 never resubmits (embedded runs).
    pub attempts: u32,
    /// The run's Ballista jobs, on a cluster: a job cancelled from outside the run (`medallion
    /// cancel`) stops the run, which cancels its other jobs, publishes nothing and is recorded
    /// `cancelled`. `None` for an embedded run.
    pub jobs: Option<Arc<JobTracker>>,
}

/// Silver row counts and completeness measured during a run.
#[derive(Debug, Clone, Copy, Default)]
struct Quality {
    rows_read: u64,
    rows_rejected: u64,
    completeness_pct: Option<f64>,
}

/// A new run id: UTC start time plus random bits, e.g. `20261126T140512Z-3f9a1c2e`.
pub fn new_run_id() -> String {
    format!(
        "{}-{:08x}",
        Utc::now().format("%Y%m%dT%H%M%SZ"),
        rand::random::<u32>()
    )
}

/// Opens, checks and registers the job's lake inputs, reference tables and views in `ctx`.
/// Returns the opened lake tables. Nothing is written.
pub async fn prepare_inputs(
    ctx: &SessionContext,
    job: &JobPlan,
    request: &RunRequest,
) -> Result<Vec<LakeTable>> {
    let mut tables = Vec::with_capacity(job.inputs.len());
    for input in &job.inputs {
        let url = lake::table_url(&request.lake, &input.name);
        let table = lake::open_table(ctx, &input.name, &url).await?;
        table.check_columns(&input.columns)?;
        table.register(ctx)?;
        info!(
            table = %table.name,
            format = %table.format,
            files = table.files.len(),
            bytes = table.total_bytes(),
            "lake table opened"
        );
        tables.push(table);
    }
    for reference in &job.references {
        register_reference(ctx, &reference.name, reference.csv).await?;
    }
    for view in &job.views {
        let sql = request
            .params
            .substitute(view.sql)
            .map_err(|e| Error::invalid(format!("view {}", view.name), e))?;
        ctx.sql(&format!("CREATE OR REPLACE VIEW {} AS {sql}", view.name))
            .await
            .map_err(|e| Error::engine(format!("creating view {}", view.name), e))?;
    }
    Ok(tables)
}

async fn single_i64(ctx: &SessionContext, sql: &str, what: &str) -> Result<Vec<Option<i64>>> {
    let batches = ctx
        .sql(sql)
        .await
        .map_err(|e| Error::engine(what.to_string(), e))?
        .collect()
        .await
        .map_err(|e| Error::engine(what.to_string(), e))?;
    let batch = batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .ok_or_else(|| Error::JobFailed {
            job: String::new(),
            message: format!("{what}: the query returned no row"),
        })?;
    Ok((0..batch.num_columns())
        .map(|c| {
            let column = batch.column(c).as_primitive::<Int64Type>();
            (!column.is_null(0)).then(|| column.value(0))
        })
        .collect())
}

/// The first column of the first row of `sql`, as a float.
async fn single_f64(ctx: &SessionContext, sql: &str, what: &str) -> Result<Option<f64>> {
    let batches = ctx
        .sql(sql)
        .await
        .map_err(|e| Error::engine(what.to_string(), e))?
        .collect()
        .await
        .map_err(|e| Error::engine(what.to_string(), e))?;
    let Some(batch) = batches.iter().find(|b| b.num_rows() > 0) else {
        return Ok(None);
    };
    let column = datafusion::arrow::compute::cast(
        batch.column(0),
        &datafusion::arrow::datatypes::DataType::Float64,
    )
    .map_err(|e| Error::engine(what.to_string(), e.into()))?;
    let column = column.as_primitive::<datafusion::arrow::datatypes::Float64Type>();
    Ok((!column.is_null(0)).then(|| column.value(0)))
}

/// Rows read, rows rejected and the quality score of the Silver input named by `rule` (a lake
/// table or a view): the `score` view's value, or else the completeness of the input's columns.
async fn measure_quality(ctx: &SessionContext, rule: &QualityRule) -> Result<Quality> {
    let input = ctx
        .table(rule.input.as_str())
        .await
        .map_err(|e| Error::engine(format!("opening quality input {}", rule.input), e))?;
    let columns = input.schema().fields().clone();
    let non_null = columns
        .iter()
        .map(|f| {
            format!(
                "CAST(COUNT(\"{}\") AS BIGINT)",
                f.name().replace('"', "\"\"")
            )
        })
        .collect::<Vec<_>>()
        .join(" + ");
    // one query (one Ballista job on a cluster) for both counts
    let counts = single_i64(
        ctx,
        &format!(
            "SELECT * FROM (SELECT CAST(COUNT(*) AS BIGINT) AS rows_read, {non_null} AS non_null \
             FROM {}) CROSS JOIN (SELECT CAST(COUNT(*) AS BIGINT) AS accepted FROM {})",
            rule.input, rule.accepted
        ),
        "measuring Silver completeness and counting accepted rows",
    )
    .await?;
    let count = |i: usize| counts.get(i).copied().flatten().unwrap_or(0).max(0);
    let rows_read = count(0) as u64;
    let non_null = count(1) as f64;
    let accepted = count(2) as u64;
    let cells = rows_read as f64 * columns.len() as f64;
    let score = match &rule.score {
        Some(view) => {
            single_f64(
                ctx,
                &format!("SELECT * FROM {view}"),
                "measuring the quality score",
            )
            .await?
        }
        None => (cells > 0.0).then(|| 100.0 * non_null / cells),
    };
    Ok(Quality {
        rows_read,
        rows_rejected: rows_read.saturating_sub(accepted),
        completeness_pct: score,
    })
}

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
    /// The Silver input's quality.
    Quality(Quality),
    /// A Gold table written into staging, with its rows.
    Table(String, u64),
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

/// `work`'s result, or `overdue(limit)` when `limit` passes first.
async fn within<T>(
    limit: Option<Duration>,
    work: impl Future<Output = Result<T>>,
    overdue: impl FnOnce(Duration) -> Error,
) -> Result<T> {
    let Some(limit) = limit else {
        return work.await;
    };
    tokio::time::timeout(limit, work)
        .await
        .unwrap_or_else(|_| Err(overdue(limit)))
}

/// Runs `tasks`, at most `limit` at a time, and returns their results in completion order.
/// After the first failure no other task starts and the running ones are awaited, not dropped:
/// a dropped query's Ballista job would go on writing into the staging area after the run has
/// cleaned it up. The first error is returned.
async fn run_limited<'a, T>(tasks: Vec<BoxFuture<'a, Result<T>>>, limit: usize) -> Result<Vec<T>> {
    let mut waiting = tasks.into_iter();
    let mut running = FuturesUnordered::new();
    let mut done = Vec::new();
    let mut failure = None;
    loop {
        while failure.is_none() && running.len() < limit.max(1) {
            match waiting.next() {
                Some(task) => running.push(task),
                None => break,
            }
        }
        match running.next().await {
            Some(Ok(value)) => done.push(value),
            Some(Err(e)) => {
                failure.get_or_insert(e);
            }
            None => break,
        }
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(done),
    }
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

/// Writes every Gold table of `job` into the sink's staging area and measures quality, running
/// up to `request.concurrency` of these queries at once.
async fn write_gold(
    ctx: &SessionContext,
    job: &JobPlan,
    request: &RunRequest,
    sink: &dyn GoldSink,
    record: &mut RunRecord,
    gate: Option<&Gate>,
) -> Result<()> {
    let bar = progress_bar(request.progress, job.gold.len());
    let mut tasks: Vec<BoxFuture<'_, Result<Staged>>> = Vec::with_capacity(job.gold.len() + 1);
    // each query within the run's query timeout, if any
    let overdue = |what: String| {
        move |limit: Duration| Error::JobFailed {
            job: job.name.clone(),
            message: format!("{what} did not finish within {limit:?}"),
        }
    };
    // the views several Gold tables share, computed once before them (see crate::materialize)
    with_resubmission(
        "materialized views",
        request.attempts,
        RESUBMIT_PAUSE,
        |_| {
            let overdue = overdue("the materialized views".to_string());
            within(
                request.query_timeout,
                materialize_views(ctx, &job.views, &request.params),
                overdue,
            )
        },
    )
    .await?;
    // a query whose Ballista job was lost with an executor is resubmitted (bounded)
    if let Some(rule) = &job.quality {
        tasks.push(Box::pin(async move {
            let outcome =
                with_resubmission("quality measure", request.attempts, RESUBMIT_PAUSE, |_| {
                    let overdue = overdue("the quality measure".to_string());
                    within(request.query_timeout, measure_quality(ctx, rule), overdue)
                })
                .await;
            stop_when_cancelled(request, outcome)
                .await
                .map(Staged::Quality)
        }));
    }
    for gold in &job.gold {
        let bar = bar.clone();
        tasks.push(Box::pin(async move {
            let name = gold.query.name.as_str();
            bar.set_message(name.to_string());
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
        }));
    }
    let outcome = run_limited(tasks, request.concurrency).await;
    bar.finish_and_clear();
    for staged in outcome? {
        match staged {
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

/// Runs `job` into `sink`: all Gold tables published, or none. Input problems are reported before
/// the sink is touched; a failure after that aborts the sink and records a failed run.
pub async fn run_job(
    ctx: &SessionContext,
    job: &JobPlan,
    request: &RunRequest,
    sink: &mut dyn GoldSink,
) -> Result<RunRecord> {
    run_job_waiting(ctx, job, request, sink, Duration::ZERO).await
}

/// [`run_job`], first taking the sink's run lock of the job (see
/// [`RunLock`](medallion_core::sink::RunLock)): while another run of the same job holds it, waits
/// up to `lock_wait`, then fails (exit code 1) without writing anything.
pub async fn run_job_waiting(
    ctx: &SessionContext,
    job: &JobPlan,
    request: &RunRequest,
    sink: &mut dyn GoldSink,
    lock_wait: Duration,
) -> Result<RunRecord> {
    run_gated(ctx, job, request, sink, lock_wait, true)
        .await
        .map(|(record, _)| record)
}

/// [`run_job_waiting`], returning the data quality gate's outcomes too (see [`crate::quality`]);
/// with `publish` false (`medallion test`), everything is staged and checked, then the staging
/// area is dropped: nothing is published or recorded, whatever the outcomes.
pub async fn run_gated(
    ctx: &SessionContext,
    job: &JobPlan,
    request: &RunRequest,
    sink: &mut dyn GoldSink,
    lock_wait: Duration,
    publish: bool,
) -> Result<(RunRecord, Vec<Outcome>)> {
    let started_at = Utc::now();
    let run_id = new_run_id();
    // Every log line of the run carries its run id and job (flattened into JSON lines).
    let span = tracing::info_span!("run", run_id = %run_id, job = %job.name);
    async move {
        info!(sink = %sink.describe(), "run started");
        let inputs = prepare_inputs(ctx, job, request).await?;
        let gate = match job.expectations.is_empty() {
            true => None,
            false => Some(Gate::plan(ctx, job, &request.params, &job.expectations).await?),
        };
        let lock = sink.lock_run(&job.name, &run_id, lock_wait).await?;
        let run = Run {
            inputs: &inputs,
            run_id,
            started_at,
            gate: gate.as_ref(),
            publish,
        };
        let outcome = run_locked(ctx, job, request, sink, run).await;
        lock.release().await;
        outcome
    }
    .instrument(span)
    .await
}

/// Fails the run when a lake file it opened is gone or changed: the Gold tables would not be
/// what the checked inputs give.
async fn inputs_unchanged(ctx: &SessionContext, job: &JobPlan, inputs: &[LakeTable]) -> Result<()> {
    for table in inputs {
        if let Some(change) = table.changed_file(ctx).await? {
            return Err(Error::JobFailed {
                job: job.name.clone(),
                message: change,
            });
        }
    }
    Ok(())
}

/// A run under way: its opened inputs, id, start, gate, and whether it publishes.
struct Run<'a> {
    inputs: &'a [LakeTable],
    run_id: String,
    started_at: chrono::DateTime<Utc>,
    gate: Option<&'a Gate>,
    publish: bool,
}

/// Evaluates `gate` on the staged run of `record`, logging its cost and what failed; `previous`
/// is the job's last successful run.
async fn check_gate(
    ctx: &SessionContext,
    gate: &Gate,
    record: &RunRecord,
    previous: Option<crate::quality::history::PreviousRun>,
) -> Result<Vec<Outcome>> {
    let started = Instant::now();
    let facts = Facts {
        mode: record.mode.clone(),
        rows_read: record.rows_read,
        accepted: record.rows_read.saturating_sub(record.rows_rejected),
        quality_score: record.data_quality_score,
        rows_written: record.rows_written.clone(),
        previous,
    };
    let outcomes = gate.evaluate(ctx, &facts).await?;
    let count = |s: crate::quality::Status| outcomes.iter().filter(|o| o.status == s).count();
    for o in &outcomes {
        match o.status {
            crate::quality::Status::Warn => {
                warn!(expectation = %o.expectation.name, detail = %o.detail, "data quality warning")
            }
            crate::quality::Status::Fail => {
                warn!(expectation = %o.expectation.name, detail = %o.detail, sample = o.sample.as_deref(), "data quality expectation failed")
            }
            _ => {}
        }
    }
    info!(
        expectations = outcomes.len(),
        passed = count(crate::quality::Status::Pass),
        warned = count(crate::quality::Status::Warn),
        failed = count(crate::quality::Status::Fail),
        skipped = count(crate::quality::Status::Skipped),
        gate_seconds = started.elapsed().as_secs_f64(),
        "data quality gate"
    );
    Ok(outcomes)
}

/// The part of a run done under its run lock: prepare, stage, check the gate, publish or abort,
/// record.
async fn run_locked(
    ctx: &SessionContext,
    job: &JobPlan,
    request: &RunRequest,
    sink: &mut dyn GoldSink,
    run: Run<'_>,
) -> Result<(RunRecord, Vec<Outcome>)> {
    let Run {
        inputs,
        run_id,
        started_at,
        gate,
        publish,
    } = run;
    let previous = match gate {
        Some(_) => crate::quality::history::previous_run(&*sink, &job.name).await?,
        None => None,
    };
    let mut outcomes = Vec::new();
    let mut record = RunRecord {
        run_id: run_id.clone(),
        job: job.name.clone(),
        mode: request.mode.clone(),
        started_at,
        finished_at: started_at,
        status: RunStatus::Failed,
        rows_read: 0,
        rows_rejected: 0,
        rows_written: BTreeMap::new(),
        data_quality_score: None,
        error: None,
        audit: RunAudit::of_this_process(crate::plan::plan_hash(&job.name)),
    };
    sink.prepare(&run_id).await?;
    let staged = async {
        write_gold(ctx, job, request, &*sink, &mut record, gate).await?;
        inputs_unchanged(ctx, job, inputs).await?;
        let Some(gate) = gate else { return Ok(()) };
        outcomes = check_gate(ctx, gate, &record, previous).await?;
        if !publish {
            return Ok(());
        }
        gate.write_results(&*sink, &run_id, &job.name, &outcomes)
            .await?;
        match crate::quality::gate_error(&job.name, &outcomes) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
    .await;
    if !publish {
        // `medallion test`: checked, never published nor recorded
        if let Err(e) = sink.abort().await {
            warn!(error = %e, "could not drop the staging area");
        }
        record.finished_at = Utc::now();
        return staged.map(|()| (record, outcomes));
    }
    let outcome = match staged {
        Ok(()) => sink.publish().await,
        Err(e) => Err(e),
    };
    record.finished_at = Utc::now();
    match outcome {
        Ok(()) => {
            record.status = RunStatus::Succeeded;
            sink.record_run(&record).await?;
            // The end-of-run event, with the field names of the datamart's log example (seed 002).
            info!(
                application = "medallion",
                run_id = %run_id,
                job = %job.name,
                status = record.status.as_str(),
                pipeline_duration_seconds = record.duration_secs(),
                tables_exported = record.rows_written.len(),
                total_rows_exported = record.rows_written.values().sum::<u64>(),
                rows_read = record.rows_read,
                rows_rejected = record.rows_rejected,
                data_quality_score = record.data_quality_score,
                "run published"
            );
            Ok((record, outcomes))
        }
        Err(e) => {
            let cancelled = request
                .jobs
                .as_ref()
                .and_then(|jobs| jobs.external_cancellation(&e));
            if cancelled.is_some() {
                record.status = RunStatus::Cancelled;
            }
            record.error = Some(request.params.redact(&e.to_string()));
            clean_up_failed_run(sink, &record).await;
            if let Some(id) = cancelled {
                warn!(
                    application = "medallion",
                    run_id = %run_id,
                    job = %job.name,
                    status = record.status.as_str(),
                    ballista_job = %id,
                    pipeline_duration_seconds = record.duration_secs(),
                    "run cancelled: nothing published"
                );
                return Err(Error::JobCancelled {
                    job: job.name.clone(),
                    message: format!(
                        "Ballista job {id} was cancelled; run {run_id} published nothing"
                    ),
                });
            }
            if let Some(gate) = gate.filter(|_| !outcomes.is_empty()) {
                // the audit trail keeps the outcomes of the runs the gate stopped
                gate.publish_results_alone(sink, &run_id, &job.name, &outcomes)
                    .await;
            }
            warn!(
                application = "medallion",
                run_id = %run_id,
                job = %job.name,
                status = record.status.as_str(),
                pipeline_duration_seconds = record.duration_secs(),
                tables_exported = 0,
                total_rows_exported = 0,
                rows_read = record.rows_read,
                rows_rejected = record.rows_rejected,
                data_quality_score = record.data_quality_score,
                "run failed: nothing published"
            );
            Err(match e {
                Error::Engine { context, source } => Error::JobFailed {
                    job: job.name.clone(),
                    message: request.params.redact(&format!(
                        "{context}: {}",
                        medallion_core::cluster::with_hint(&first_line(&source.to_string()))
                    )),
                },
                Error::MySql { context, source } => Error::JobFailed {
                    job: job.name.clone(),
                    message: request
                        .params
                        .redact(&format!("{context}: {}", first_line(&source.to_string()))),
                },
                other => other,
            })
        }
    }
}

/// How long a failed run keeps retrying its cleanup while the sink's server is unreachable (e.g.
/// a MySQL server restarting after a crash).
const CLEANUP_RETRY: Duration = Duration::from_secs(60);

/// Drops the failed run's staging area and records it in `pipeline_runs`. Each step that fails
/// because the sink's server is unreachable is retried for up to [`CLEANUP_RETRY`], so a server
/// that comes back (restarted after a crash) is left with no staging tables and the failure
/// recorded; other failures are logged once.
async fn clean_up_failed_run(sink: &mut dyn GoldSink, record: &RunRecord) {
    let deadline = Instant::now() + CLEANUP_RETRY;
    let mut aborted = false;
    let mut recorded = false;
    loop {
        if !aborted {
            match sink.abort().await {
                Ok(()) => aborted = true,
                Err(e @ Error::Unreachable { .. }) if Instant::now() < deadline => {
                    warn!(error = %e, "cannot drop the staging area yet: retrying");
                }
                Err(e) => {
                    warn!(error = %e, "could not drop the staging area");
                    aborted = true;
                }
            }
        }
        if aborted && !recorded {
            match sink.record_run(record).await {
                Ok(()) => recorded = true,
                Err(e @ Error::Unreachable { .. }) if Instant::now() < deadline => {
                    warn!(error = %e, "cannot record the failed run yet: retrying");
                }
                Err(e) => {
                    warn!(error = %e, "could not record the failed run");
                    recorded = true;
                }
            }
        }
        if aborted && recorded {
            return;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Tasks that sleep `millis[i]`, fail where `fails[i]`, and count how many run at once.
    fn tasks<'a>(
        millis: &'a [u64],
        fails: &'a [bool],
        running: &'a Arc<AtomicUsize>,
        peak: &'a Arc<AtomicUsize>,
        started: &'a Arc<AtomicUsize>,
    ) -> Vec<BoxFuture<'a, Result<usize>>> {
        millis
            .iter()
            .zip(fails)
            .enumerate()
            .map(|(i, (&ms, &fail))| {
                Box::pin(async move {
                    started.fetch_add(1, Ordering::SeqCst);
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    running.fetch_sub(1, Ordering::SeqCst);
                    match fail {
                        true => Err(Error::invalid(format!("task {i}"), "failed")),
                        false => Ok(i),
                    }
                }) as BoxFuture<'a, Result<usize>>
            })
            .collect()
    }

    #[tokio::test]
    async fn at_most_limit_tasks_run_at_once_and_all_results_come_back() {
        let (running, peak, started) = Default::default();
        let millis = [30, 10, 20, 10, 5];
        let fails = [false; 5];
        let mut done = run_limited(tasks(&millis, &fails, &running, &peak, &started), 2)
            .await
            .unwrap();
        done.sort();
        assert_eq!(done, [0, 1, 2, 3, 4]);
        assert_eq!(peak.load(Ordering::SeqCst), 2);

        let (running, peak, started) = Default::default();
        run_limited(tasks(&millis, &fails, &running, &peak, &started), 1)
            .await
            .unwrap();
        assert_eq!(peak.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn work_past_its_time_limit_fails_the_run() {
        let overdue = |limit| Error::JobFailed {
            job: "j".into(),
            message: format!("Gold table t did not finish within {limit:?}"),
        };
        let slow = async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok(1)
        };
        let err = within(Some(Duration::from_millis(20)), slow, overdue)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "job 'j' failed: Gold table t did not finish within 20ms"
        );
        let quick = async { Ok(2) };
        assert_eq!(
            within(Some(Duration::from_secs(5)), quick, overdue)
                .await
                .unwrap(),
            2
        );
        let unlimited = async { Ok(3) };
        assert_eq!(within(None, unlimited, overdue).await.unwrap(), 3);
    }

    #[tokio::test]
    async fn after_a_failure_nothing_starts_and_the_running_tasks_finish() {
        let (running, peak, started) = Default::default();
        // task 0 fails at once while task 1 (slow) runs; tasks 2 and 3 never start
        let millis = [1, 50, 1, 1];
        let fails = [true, false, false, true];
        let err = run_limited(tasks(&millis, &fails, &running, &peak, &started), 2)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("task 0"), "{err}");
        assert_eq!(started.load(Ordering::SeqCst), 2);
        assert_eq!(running.load(Ordering::SeqCst), 0, "task 1 ran to its end");
    }
}
