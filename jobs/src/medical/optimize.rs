//! `medallion optimize` (also `medallion run|submit optimize`, as the CronJob calls it): the weekly
//! maintenance of a MySQL sink ("Optimisation index database", seed 000). It drops the tables of
//! runs killed before they cleaned up (`stg_*`, `old_*`) once they are older than
//! `staging.mysql_max_age_hours` of `retention_policies.yaml` and their job has no run in
//! progress, then runs `OPTIMIZE TABLE` and `ANALYZE TABLE` on every published Gold table and
//! `pipeline_runs`, and records itself in `pipeline_runs` (job `optimize`). The statements are in
//! [`medallion_core::sink::maintenance`].

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use chrono::Utc;
use medallion_core::run_audit::RunAudit;
use medallion_core::run_record::{RunRecord, RunStatus};
use medallion_core::sink::maintenance::{KeptBecause, MaintenanceReport, maintain};
use medallion_core::sink::{MySqlUrl, open_sink};
use medallion_core::{Error, Result};

use crate::config::BatchConfig;
use crate::plan::all_jobs;
use crate::run::new_run_id;

/// The job name recorded in `pipeline_runs`.
pub const OPTIMIZE_JOB: &str = "optimize";

/// Arguments of `medallion optimize`.
#[derive(clap::Args, Debug, Clone)]
pub struct OptimizeArgs {
    /// The MySQL sink whose database is maintained: mysql://user:pass@host:3306/db.
    #[arg(long, env = "MEDALLION_SINK")]
    pub sink: String,
    /// Drop staging tables of unfinished runs older than this many hours [default:
    /// staging.mysql_max_age_hours of retention_policies.yaml, 24].
    #[arg(long, value_name = "HOURS")]
    pub max_staging_age_hours: Option<u64>,
    /// Say what would be dropped and optimised, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Folder holding retention_policies.yaml [default: $MEDALLION_CONFIG_DIR, else ./config,
    /// else the built-in policies].
    #[arg(long, value_name = "DIR")]
    pub config_dir: Option<PathBuf>,
}

impl OptimizeArgs {
    /// The arguments for maintaining `sink` with the configured policies.
    pub fn new(sink: impl Into<String>) -> Self {
        Self {
            sink: sink.into(),
            max_staging_age_hours: None,
            dry_run: false,
            config_dir: None,
        }
    }
}

/// Which job writes each Gold table, from the job plans.
fn gold_owners() -> Result<BTreeMap<String, String>> {
    let mut owners = BTreeMap::new();
    for job in all_jobs()? {
        for gold in &job.gold {
            owners.insert(gold.query.name.clone(), job.name.clone());
        }
    }
    Ok(owners)
}

/// Runs `medallion optimize`; a MySQL sink only (a Parquet sink has nothing to optimise).
pub async fn optimize(args: &OptimizeArgs) -> Result<MaintenanceReport> {
    if !args.sink.starts_with("mysql://") {
        return Err(Error::invalid(
            "--sink",
            "optimize maintains a MySQL sink: give --sink mysql://user:pass@host:3306/db",
        ));
    }
    let url = MySqlUrl::parse(&args.sink)?;
    let config = BatchConfig::load(args.config_dir.as_deref())?;
    let hours = args
        .max_staging_age_hours
        .unwrap_or_else(|| config.mysql_staging_max_age_hours());
    let owners = gold_owners()?;
    let job_of = |table: &str| owners.get(table).cloned();
    let started_at = Utc::now();
    tracing::info!(sink = %url.masked(), max_staging_age_hours = hours, dry_run = args.dry_run, "optimize");
    let outcome = maintain(
        &url,
        &job_of,
        Duration::from_secs(hours.saturating_mul(3600)),
        args.dry_run,
    )
    .await;
    if let Ok(report) = &outcome {
        for (table, why) in &report.kept {
            match why {
                KeptBecause::TooRecent => {
                    tracing::info!(table = %table.name, age_secs = table.age_secs, "kept: younger than the limit");
                }
                KeptBecause::RunInProgress(job) => {
                    tracing::info!(table = %table.name, job = %job, "kept: a run of its job is in progress");
                }
            }
        }
    }
    if args.dry_run {
        return outcome;
    }
    // The audit trail: one pipeline_runs row per maintenance pass (not for an unreachable server).
    if !matches!(outcome, Err(Error::Unreachable { .. })) {
        let mut record = RunRecord::started(
            new_run_id(),
            OPTIMIZE_JOB,
            "full",
            started_at,
            RunAudit::of_this_process(None),
        );
        record.finished_at = Utc::now();
        match &outcome {
            Ok(_) => record.status = RunStatus::Succeeded,
            Err(e) => record.error = Some(e.to_string()),
        }
        let mut sink = open_sink(&args.sink)?;
        if let Err(e) = sink.record_run(&record).await {
            tracing::warn!(error = %e, "could not record the optimize run in pipeline_runs");
        }
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_gold_table_has_one_owner() {
        let owners = gold_owners().unwrap();
        assert_eq!(owners["patient_daily_vitals"], "daily-aggregations");
        assert_eq!(owners["hotspots"], "accidents-datamart");
        assert_eq!(owners["cohort_monthly"], "monthly-analytics");
    }

    #[tokio::test]
    async fn only_mysql_sinks_are_optimised() {
        let err = optimize(&OptimizeArgs::new("file://gold"))
            .await
            .unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("--sink"), "{err}");
    }
}
