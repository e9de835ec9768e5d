//! Running a job plan: open and check its lake inputs, register reference data and views, write
//! every Gold table into the sink's staging area (see [`crate::gold_writer`]), then publish them all
//! at once — or abort and leave the published tables untouched — and record the run in
//! `pipeline_runs`.

use std::time::{Duration, Instant};

use chrono::Utc;
use datafusion::prelude::SessionContext;
use medallion_core::error::first_line;
use medallion_core::lake::{self, LakeTable};
use medallion_core::run_audit::RunAudit;
use medallion_core::run_record::{RunRecord, RunStatus};
use medallion_core::sink::GoldSink;
use medallion_core::{Error, Result};
use tracing::{Instrument, info, warn};

use crate::gold_writer::write_gold;
use crate::plan::JobPlan;
use crate::quality::{Facts, Gate, Outcome};
use crate::reference::register_reference;
use crate::run_request::RunRequest;

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
        .result
}

/// How a gated run ended: its record (published, or only checked), or why it failed; and the data
/// quality gate's outcomes whenever the gate ran, also when they stopped the run.
#[derive(Debug)]
pub struct GatedRun {
    /// The run's record, or its error.
    pub result: Result<RunRecord>,
    /// The data quality gate's outcomes (none when the gate did not run).
    pub quality: Vec<Outcome>,
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
) -> GatedRun {
    let started_at = Utc::now();
    let run_id = new_run_id();
    let mut quality = Vec::new();
    // Every log line of the run carries its run id and job (flattened into JSON lines).
    let span = tracing::info_span!("run", run_id = %run_id, job = %job.name);
    let outcomes = &mut quality;
    let result = async move {
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
        let outcome = run_locked(ctx, job, request, sink, run, outcomes).await;
        lock.release().await;
        outcome
    }
    .instrument(span)
    .await;
    GatedRun { result, quality }
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
    outcomes: &mut Vec<Outcome>,
) -> Result<RunRecord> {
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
    let mut record = RunRecord::started(
        run_id.clone(),
        job.name.clone(),
        request.mode.clone(),
        started_at,
        RunAudit::of_this_process(crate::plan::plan_hash(&job.name)),
    );
    sink.prepare(&run_id).await?;
    let staged = async {
        write_gold(ctx, job, request, &*sink, &mut record, gate).await?;
        inputs_unchanged(ctx, job, inputs).await?;
        let Some(gate) = gate else { return Ok(()) };
        *outcomes = check_gate(ctx, gate, &record, previous).await?;
        if !publish {
            return Ok(());
        }
        gate.write_results(&*sink, &run_id, &job.name, outcomes)
            .await?;
        match crate::quality::gate_error(&job.name, outcomes) {
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
        return staged.map(|()| record);
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
            Ok(record)
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
                gate.publish_results_alone(sink, &run_id, &job.name, outcomes)
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
