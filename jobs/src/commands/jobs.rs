//! `medallion jobs`: every job with its description, parameters, schedule and sizing; with
//! `--running`, the Ballista jobs a scheduler is running, with their stage progress.

use clap::Args;
use medallion_core::Result;
use medallion_core::cluster::DEFAULT_SCHEDULER;

use crate::config::BatchConfig;
use crate::plan::{MaintenanceJob, all_jobs};
use crate::scheduler_api::{JobResponse, SchedulerApi};

/// Arguments of `medallion jobs`.
#[derive(Debug, Args)]
pub struct JobsArgs {
    /// List the Ballista jobs queued or running on the scheduler instead (one per Gold table of a
    /// submitted run; cancel one with `medallion cancel JOB_ID`).
    #[arg(long)]
    pub running: bool,
    /// The Ballista scheduler of --running, df://HOST:PORT (its REST API shares the port).
    #[arg(long, env = "MEDALLION_SCHEDULER", default_value = DEFAULT_SCHEDULER)]
    pub scheduler: String,
}

/// `medallion jobs [--running]`.
pub async fn execute(args: &JobsArgs) -> Result<()> {
    if args.running {
        return print_running(&args.scheduler).await;
    }
    print_plans()
}

/// Prints the scheduler's queued and running jobs: id, state, stages done, name.
async fn print_running(scheduler: &str) -> Result<()> {
    let api = SchedulerApi::new(scheduler)?;
    let jobs = api.running_jobs().await?;
    if jobs.is_empty() {
        eprintln!("no job queued or running on {}", api.scheduler());
        return Ok(());
    }
    println!(
        "{:<12} {:<8} {:>7} {:>5}  NAME",
        "JOB_ID", "STATE", "STAGES", "DONE"
    );
    for job in &jobs {
        println!("{}", running_line(job));
    }
    Ok(())
}

/// One line of `medallion jobs --running`.
fn running_line(job: &JobResponse) -> String {
    let stages = format!("{}/{}", job.completed_stages, job.num_stages);
    format!(
        "{:<14} {:<8} {:>7} {:>4}%  {}",
        job.job_id, job.status, stages, job.percent_complete, job.job_name
    )
}

/// Prints every SQL job plan with its parameters, then the maintenance jobs, each with its
/// schedule (`batch_schedules.yaml`) and sizing (`resource_limits.yaml`) when the configuration
/// lists it.
fn print_plans() -> Result<()> {
    let config = BatchConfig::load(None)?;
    let schedule = |job: &str| {
        if let Some(s) = config.schedule(job) {
            println!(
                "{:<24} schedule: {} ({}, {})",
                "", s.schedule, s.timezone, s.cadence
            );
        }
        if let Some(r) = config.resources(job) {
            let text = |v: Option<String>| v.unwrap_or_else(|| "-".to_string());
            println!(
                "{:<24} resources: {} executor slots, client pod limits {} CPU, {}",
                "",
                r.executor_slots.map_or("-".to_string(), |n| n.to_string()),
                text(r.client_cpu),
                text(r.client_memory)
            );
        }
    };
    for job in all_jobs()? {
        println!("{:<24} {}", job.name, job.description);
        println!("{:<24} parameters: {}", "", job.params.describe());
        schedule(&job.name);
    }
    for job in MaintenanceJob::ALL {
        println!("{:<24} {}", job.name(), job.description());
        schedule(job.name());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_job_shows_its_stage_progress() {
        let job: JobResponse = serde_json::from_value(serde_json::json!({
            "job_id": "Zk3f9aQ", "job_name": "accidents-datamart", "job_status": "Running",
            "status": "Running", "num_stages": 4, "completed_stages": 1,
            "percent_complete": 25, "start_time": 1, "end_time": 0
        }))
        .expect("job");
        assert_eq!(
            running_line(&job),
            "Zk3f9aQ        Running      1/4   25%  accidents-datamart"
        );
    }
}
