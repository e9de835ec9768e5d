//! `medallion jobs`: every job with its description, parameters, schedule and sizing.

use medallion_core::Result;

use crate::config::BatchConfig;
use crate::plan::{MaintenanceJob, all_jobs};

/// Prints `medallion jobs`: every SQL job plan with its parameters, then the maintenance jobs,
/// each with its schedule (`batch_schedules.yaml`) and sizing (`resource_limits.yaml`) when the
/// configuration lists it.
pub fn execute() -> Result<()> {
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
