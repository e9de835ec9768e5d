//! The maintenance jobs `archive` and `optimize`: not SQL plans but Rust commands
//! ([`archive`](super::archive), [`optimize`](super::optimize)), also runnable as
//! `medallion run|submit <job> --lake LAKE --sink SINK`, which is how their CronJobs start them.
//! They work from the client (file moves, MySQL statements): a `--scheduler` is accepted and not
//! needed.

use medallion_core::{Error, Result};

use super::archive::{ArchiveArgs, archive};
use super::archive_plan::ArchivedPartition;
use super::optimize::{OptimizeArgs, optimize};
use crate::plan::MaintenanceJob;

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
pub async fn run_as_job(
    job: MaintenanceJob,
    lake: Option<&str>,
    sink: &str,
    dry_run: bool,
) -> Result<()> {
    tracing::info!(
        job = job.name(),
        "maintenance job: runs from this client, not on the executors"
    );
    match job {
        MaintenanceJob::Archive => {
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
        MaintenanceJob::Optimize => {
            run_optimize(&OptimizeArgs {
                dry_run,
                ..OptimizeArgs::new(sink)
            })
            .await
        }
    }
}
