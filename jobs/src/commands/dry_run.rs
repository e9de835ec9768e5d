//! `medallion run JOB --dry-run`: everything a run checks before it writes, and nothing else.
//!
//! Every lake input is opened and its columns checked (the run's own `prepare_inputs`), reference
//! tables and views are registered, every Gold table's SQL is planned down to a physical plan, and
//! the sink is checked ([`GoldSink::check`](medallion_core::sink::GoldSink::check)). Then it prints what a run would write. No cluster
//! is started and nothing is written: not the lake, not the sink, not `pipeline_runs`.

use datafusion::prelude::SessionContext;
use medallion_core::sink::open_sink;
use medallion_core::{Result, cluster};

use super::{local_context, sql_error};
use crate::plan::{JobPlan, Params};
use crate::run::prepare_inputs;
use crate::run_config::RunConfig;
use crate::run_request::RunRequest;

/// What a dry run found.
#[derive(Debug, Clone)]
pub struct DryRunReport {
    /// One line per lake input: name, format, files, bytes.
    pub inputs: Vec<String>,
    /// Each Gold table with its columns.
    pub gold: Vec<(String, Vec<String>)>,
    /// What the sink check found.
    pub sink: String,
}

fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Plans every Gold table of `job` in `ctx` (inputs already registered); returns each table's
/// columns.
pub async fn plan_gold(
    ctx: &SessionContext,
    job: &JobPlan,
    params: &Params,
) -> Result<Vec<(String, Vec<String>)>> {
    let mut planned = Vec::with_capacity(job.gold.len());
    for gold in &job.gold {
        let name = &gold.query.name;
        let context = format!("planning Gold table {name}");
        let sql = gold.sql_with(params)?;
        let df = ctx.sql(&sql).await.map_err(|e| sql_error(&context, e))?;
        let columns = df
            .schema()
            .fields()
            .iter()
            .map(|f| format!("{} {}", f.name(), f.data_type()))
            .collect();
        df.create_physical_plan()
            .await
            .map_err(|e| sql_error(&context, e))?;
        planned.push((name.clone(), columns));
    }
    Ok(planned)
}

/// Checks inputs, plans and sink of `job` without writing anything.
pub async fn dry_run(
    job: &JobPlan,
    params: &Params,
    lake: &str,
    sink: &str,
) -> Result<DryRunReport> {
    // The sink URL is checked for syntax before anything is opened.
    let sink = open_sink(sink)?;
    let ctx = local_context()?;
    let request = RunRequest {
        lake: lake.to_string(),
        params: params.clone(),
        mode: "full".to_string(),
        progress: false,
        concurrency: 1,
        query_timeout: None,
        attempts: 1,
        jobs: None,
    };
    let tables = prepare_inputs(&ctx, job, &request).await?;
    let inputs = tables
        .iter()
        .map(|t| {
            format!(
                "{:<24} {:<8} {:>6} files {:>12}  {}",
                t.name,
                t.format.to_string(),
                t.files.len(),
                human_bytes(t.total_bytes()),
                medallion_core::object_stores::mask_url(&t.url)
            )
        })
        .collect();
    let gold = plan_gold(&ctx, job, params).await?;
    // the data quality expectations name existing tables and columns, and their queries plan
    crate::quality::Gate::plan(&ctx, job, params, &job.expectations).await?;
    let sink = sink.check().await?;
    Ok(DryRunReport { inputs, gold, sink })
}

/// `medallion run JOB --dry-run`: runs [`dry_run`] and prints its report; `outputs` are the extra
/// files the run would write (reports, exports), in words.
pub async fn execute(
    job: &JobPlan,
    params: &Params,
    lake: &str,
    sink: &str,
    outputs: &[String],
) -> Result<()> {
    let report = dry_run(job, params, lake, sink).await?;
    println!(
        "dry run of {}: inputs checked, plans built, nothing written",
        job.name
    );
    println!("lake inputs ({lake}):");
    for line in &report.inputs {
        println!("  {line}");
    }
    println!("sink: {}", report.sink);
    println!(
        "would write {} Gold table(s) and one pipeline_runs row to {}:",
        report.gold.len(),
        open_sink(sink)?.describe()
    );
    for (table, columns) in &report.gold {
        println!(
            "  {table:<24} {} columns: {}",
            columns.len(),
            columns.join(", ")
        );
    }
    for output in outputs {
        println!("would also write {output}");
    }
    Ok(())
}

/// `medallion run|submit JOB --dry-run` as `config` asks: the lake defaults to `./lake` (never
/// generated), and the cluster's scheduler must answer.
pub async fn execute_run(job: &JobPlan, params: &Params, config: &RunConfig) -> Result<()> {
    if let Some(target) = &config.cluster {
        let url = cluster::SchedulerUrl::parse(&target.scheduler)?;
        cluster::probe_scheduler(&url, cluster::PROBE_TIMEOUT).await?;
        println!("scheduler {url} answers");
    }
    let lake = config
        .lake
        .clone()
        .unwrap_or_else(|| super::DEFAULT_LAKE.to_string());
    let mut outputs = Vec::new();
    if let Some(dir) = &config.options.reports {
        outputs.push(format!("the job's reports under {}", dir.display()));
    }
    if let Some(dir) = &config.options.export {
        outputs.push(format!("the Gold tables as files under {}", dir.display()));
    }
    execute(job, params, &lake, &config.sink, &outputs).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_human() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024), "3.0 MiB");
    }
}
