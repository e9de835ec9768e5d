//! `medallion status`: the state of one Ballista job.

use clap::Args;
use medallion_core::cluster::{self, DEFAULT_SCHEDULER};
use medallion_core::{Error, Result};

/// Arguments of `medallion status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The Ballista job id (printed by `medallion submit`).
    pub job_id: String,
    /// The Ballista scheduler, df://HOST:PORT.
    #[arg(long, env = "MEDALLION_SCHEDULER", default_value = DEFAULT_SCHEDULER)]
    pub scheduler: String,
}

/// Prints the state of the job; failed jobs end with exit code 1, unknown ids with 2.
pub async fn execute(args: &StatusArgs) -> Result<()> {
    let scheduler = cluster::SchedulerUrl::parse(&args.scheduler)?;
    match cluster::job_status(&scheduler, &args.job_id).await? {
        None => Err(Error::invalid(
            "JOB_ID",
            format!(
                "the scheduler at {scheduler} knows no job '{}' (finished jobs are forgotten after its --finished-job-state-clean-up-interval-seconds)",
                args.job_id
            ),
        )),
        Some(report) => match report.state {
            cluster::JobState::Failed { error } => Err(Error::JobFailed {
                job: report.job_id,
                message: error.lines().next().unwrap_or_default().to_string(),
            }),
            state => {
                println!("{} {state}", report.job_id);
                Ok(())
            }
        },
    }
}
