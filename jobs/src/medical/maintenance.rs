//! The maintenance jobs `archive` and `optimize`: not SQL plans but Rust commands
//! ([`archive`](super::archive), [`optimize`](super::optimize)), also runnable as
//! `medallion run|submit <job> --lake LAKE --sink SINK`, which is how their CronJobs start them.
//! They work from the client (file moves, MySQL statements): a `--scheduler` is accepted and not
//! needed.

use medallion_core::{Error, Result};

use super::archive::{ArchiveArgs, ArchivedPartition, archive};
use super::optimize::{OptimizeArgs, optimize};

/// The maintenance jobs and what each does, as `medallion jobs` lists them.
pub const MAINTENANCE_JOBS: [(&str, &str); 2] = [
    (
        "archive",
        "Moves Silver day partitions older than the retention policy to the archive prefix (zstd Parquet, row counts verified)",
    ),
    (
        "optimize",
        "OPTIMIZE/ANALYZE of the Gold MySQL tables; drops stale staging tables of unfinished runs",
    ),
];

/// Whether `job` is a maintenance job.
pub fn is_maintenance_job(job: &str) -> bool {
    MAINTENANCE_JOBS.iter().any(|(name, _)| *name == job)
}

/// Prints what `archive` moved (or would move).
pub fn print_archived(partitions: &[ArchivedPartition], dry_run: bool) {
    let verb = if dry_run { "would move" } else { "moved" };
    for p in partitions {
        println!(
            "{verb} {} ({} rows, {} bytes) -> {}",
            p.source.display(),
            p.rows,
            p.bytes,
            p.target.display()
        );
    }
    println!("{} partition(s) {verb}", partitions.len());
}

/// Runs `medallion optimize` and prints what it did.
pub async fn run_optimize(args: &OptimizeArgs) -> Result<()> {
    let report = optimize(args).await?;
    let (drop_verb, table_verb) = if args.dry_run {
        ("would drop", "would optimise")
    } else {
        ("dropped", "optimised")
    };
    for table in &report.dropped {
        println!("{drop_verb} {}", table.name);
    }
    for (table, why) in &report.kept {
        println!("kept {} ({why:?})", table.name);
    }
    for t in &report.tables {
        if args.dry_run {
            println!("{table_verb} {}", t.table);
        } else {
            println!("{table_verb} {}: {} / {}", t.table, t.optimize, t.analyze);
        }
    }
    println!(
        "{} table(s) {table_verb}, {} stale table(s) {drop_verb}",
        report.tables.len(),
        report.dropped.len()
    );
    Ok(())
}

/// Runs maintenance job `job` as `medallion run|submit` does: `archive` on `lake`, `optimize` on
/// `sink`, with the configured policies.
pub async fn run_as_job(job: &str, lake: Option<&str>, sink: &str, dry_run: bool) -> Result<()> {
    tracing::info!(
        job,
        "maintenance job: runs from this client, not on the executors"
    );
    match job {
        "archive" => {
            let lake = lake.ok_or_else(|| {
                Error::invalid(
                    "--lake",
                    "the archive job needs the lake (--lake or MEDALLION_LAKE)",
                )
            })?;
            let args = ArchiveArgs {
                dry_run,
                ..ArchiveArgs::new(lake)
            };
            let partitions = archive(&args).await?;
            print_archived(&partitions, dry_run);
            Ok(())
        }
        "optimize" => {
            run_optimize(&OptimizeArgs {
                dry_run,
                ..OptimizeArgs::new(sink)
            })
            .await
        }
        other => Err(Error::invalid(
            "JOB",
            format!("'{other}' is not a maintenance job"),
        )),
    }
}

/// Prints `medallion jobs`: every SQL job plan with its parameters, then the maintenance jobs,
/// each with its schedule (`batch_schedules.yaml`) and sizing (`resource_limits.yaml`) when the
/// configuration lists it.
pub fn print_jobs() -> Result<()> {
    let config = super::config::BatchConfig::load(None)?;
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
    for job in crate::plan::all_jobs()? {
        println!("{:<24} {}", job.name, job.description);
        println!("{:<24} parameters: {}", "", job.params.describe());
        schedule(&job.name);
    }
    for (name, description) in MAINTENANCE_JOBS {
        println!("{name:<24} {description}");
        schedule(name);
    }
    Ok(())
}
