//! `medallion explain JOB|SQL`: the plans of a job's Gold tables, or of SQL statements — the
//! optimized logical plan, the physical plan, and the stages Ballista's distributed planner splits
//! the physical plan into (each stage ends in a shuffle writer; `UnresolvedShuffleExec` leaves read
//! the output of earlier stages). Everything is planned in this process: nothing runs.
//!
//! On a cluster the scheduler plans again from the logical plan with its own configuration, so the
//! partition counts there follow the scheduler's settings.

use std::sync::Arc;

use ballista_core::JobId;
use ballista_scheduler::planner::{DefaultDistributedPlanner, DistributedPlanner};
use clap::Args;
use datafusion::error::DataFusionError;
use datafusion::physical_plan::{ExecutionPlan, displayable};
use datafusion::prelude::{DataFrame, SessionContext};
use medallion_core::{Error, Result};

use super::{LakeArgs, local_context, parse_statements, plan_statement, sql_error};
use crate::plan::{JobPlan, find_job};
use crate::run::prepare_inputs;
use crate::run_request::RunRequest;

/// Arguments of `medallion explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A job name (see `medallion jobs`) or SQL statements.
    pub target: String,
    /// Where the tables are (a job reads its inputs under --lake, default ./lake).
    #[command(flatten)]
    pub lake: LakeArgs,
    /// Override a job parameter, e.g. --set hotspot_min_accidents=20 (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Only this Gold table of the job.
    #[arg(long, value_name = "NAME")]
    pub table: Option<String>,
    /// Also print the logical plan before optimization.
    #[arg(long)]
    pub unoptimized: bool,
}

/// What a secret parameter stands for in a plan that is only shown, never run.
const SECRET_PLACEHOLDER: &str = "<secret>";

/// The plans of `df`, printed under `title`.
pub async fn print_plans(
    ctx: &SessionContext,
    title: &str,
    df: DataFrame,
    unoptimized: bool,
) -> Result<()> {
    let planning = |e: DataFusionError| sql_error(&format!("planning {title}"), e);
    println!("=== {title} ===");
    if unoptimized {
        println!("--- logical plan\n{}\n", df.logical_plan().display_indent());
    }
    let optimized = df.clone().into_optimized_plan().map_err(planning)?;
    println!(
        "--- optimized logical plan\n{}\n",
        optimized.display_indent()
    );
    let physical = df.create_physical_plan().await.map_err(planning)?;
    println!(
        "--- physical plan\n{}",
        displayable(physical.as_ref()).indent(true)
    );
    let state = ctx.state();
    let stages = DefaultDistributedPlanner::new()
        .plan_query_stages(
            &JobId::from("explain"),
            physical,
            state.config_options().as_ref(),
        )
        .map_err(|e| {
            Error::engine(
                format!("splitting {title} into stages"),
                DataFusionError::External(Box::new(e)),
            )
        })?;
    println!("--- distributed stages (Ballista): {}", stages.len());
    for stage in &stages {
        println!(
            "stage {} ({} input partition(s)):",
            stage.stage_id(),
            stage.input_partition_count()
        );
        let plan: Arc<dyn ExecutionPlan> = stage.clone();
        println!("{}", displayable(plan.as_ref()).indent(true));
    }
    Ok(())
}

/// Explains each Gold table of `job` (or only `table`).
async fn explain_job(args: &ExplainArgs, job: JobPlan) -> Result<()> {
    let mut params = job.params.clone();
    for assignment in &args.set {
        params
            .set(assignment)
            .map_err(|message| Error::invalid("--set", message))?;
    }
    for secret in &job.secrets {
        params.set_secret(&secret.name, SECRET_PLACEHOLDER);
    }
    if let Some(table) = &args.table
        && !job.gold.iter().any(|g| &g.query.name == table)
    {
        let known = job
            .gold
            .iter()
            .map(|g| g.query.name.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        return Err(Error::invalid(
            "--table",
            format!(
                "job {} has no Gold table '{table}' (tables: {known})",
                job.name
            ),
        ));
    }
    let lake = args
        .lake
        .lake
        .clone()
        .unwrap_or_else(|| super::DEFAULT_LAKE.to_string());
    let ctx = local_context()?;
    let request = RunRequest {
        lake,
        params: params.clone(),
        mode: "full".to_string(),
        progress: false,
        concurrency: 1,
        query_timeout: None,
        attempts: 1,
        jobs: None,
    };
    prepare_inputs(&ctx, &job, &request).await?;
    for gold in &job.gold {
        if args.table.as_ref().is_some_and(|t| t != &gold.query.name) {
            continue;
        }
        let name = &gold.query.name;
        let sql = gold.sql_with(&params)?;
        let df = ctx
            .sql(&sql)
            .await
            .map_err(|e| sql_error(&format!("planning Gold table {name}"), e))?;
        print_plans(
            &ctx,
            &format!("{} / {name}", job.name),
            df,
            args.unoptimized,
        )
        .await?;
        println!();
    }
    Ok(())
}

/// Explains each query of `sql` (DDL statements such as CREATE VIEW are run, not explained).
async fn explain_sql(args: &ExplainArgs, sql: &str) -> Result<()> {
    let ctx = local_context()?;
    args.lake.register(&ctx).await?;
    let statements = parse_statements(&ctx, sql)?;
    for (n, statement) in statements.into_iter().enumerate() {
        let df = plan_statement(&ctx, statement).await?;
        if df.schema().fields().is_empty() {
            continue;
        }
        print_plans(&ctx, &format!("statement {}", n + 1), df, args.unoptimized).await?;
        println!();
    }
    Ok(())
}

/// `medallion explain`.
pub async fn execute(args: ExplainArgs) -> Result<()> {
    let target = args.target.trim().to_string();
    match find_job(&target) {
        Ok(job) => explain_job(&args, job).await,
        // A single word that is not a job is a mistyped job name, not SQL.
        Err(e) if !target.contains(char::is_whitespace) => Err(e),
        Err(_) => explain_sql(&args, &target).await,
    }
}
