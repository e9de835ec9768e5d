//! `medallion cancel`: cancel a Ballista job through the scheduler's REST API. The `medallion
//! submit` run it belongs to stops, cancels its other jobs, publishes nothing, records the run
//! `cancelled` in `pipeline_runs` and exits with code 4.

use clap::Args;
use medallion_core::cluster::DEFAULT_SCHEDULER;
use medallion_core::{Error, Result};

use crate::scheduler_api::{CancelOutcome, SchedulerApi};

/// Arguments of `medallion cancel`.
#[derive(Debug, Args)]
pub struct CancelArgs {
    /// The Ballista job id (logged by `medallion submit`, listed by `medallion jobs --running`).
    pub job_id: String,
    /// The Ballista scheduler, df://HOST:PORT (its REST API shares the port).
    #[arg(long, env = "MEDALLION_SCHEDULER", default_value = DEFAULT_SCHEDULER)]
    pub scheduler: String,
}

/// Cancels the job; a job that already ended or that the scheduler does not know is bad input
/// (exit 2).
pub async fn execute(args: &CancelArgs) -> Result<()> {
    let api = SchedulerApi::new(&args.scheduler)?;
    match api.cancel(&args.job_id).await? {
        CancelOutcome::Cancelled => {
            println!("{} cancelled", args.job_id);
            Ok(())
        }
        CancelOutcome::AlreadyEnded(reason) => Err(Error::invalid(
            "JOB_ID",
            format!("{} cannot be cancelled: {reason}", args.job_id),
        )),
        CancelOutcome::Unknown => Err(Error::invalid(
            "JOB_ID",
            format!(
                "the scheduler at {} knows no job '{}'",
                api.scheduler(),
                args.job_id
            ),
        )),
    }
}
