//! `medallion generate` and `medallion ingest`: the commands that write Silver data (synthetic, or
//! from a Bronze file), and what they print.

use std::path::Path;

use clap::Subcommand;
use medallion_core::Result;

use crate::accidents::generate::{GenerateAccidentsArgs, generate_accidents};
use crate::accidents::ingest::{IngestAccidentsArgs, ingest_accidents};
use crate::medical::generate::{GenerateMedicalArgs, generate_medical};

/// What `medallion generate` can generate.
#[derive(Debug, Subcommand)]
pub enum GenerateCommand {
    /// Synthetic US-Accidents Silver data, partitioned by year.
    #[command(after_help = "Example:
  medallion generate accidents --rows 1000000 --seed 7 --format orc --out ./lake --bronze-csv bronze.csv")]
    Accidents(GenerateAccidentsArgs),
    /// Synthetic medical IoT Silver data (vitals every 5 minutes, crises, treatments, patients).
    #[command(after_help = "Example:
  medallion generate medical --patients 100 --days 30 --seed 7 --out ./lake --start-date 2024-01-01")]
    Medical(GenerateMedicalArgs),
}

/// What `medallion ingest` can ingest.
#[derive(Debug, Subcommand)]
pub enum IngestCommand {
    /// The US-Accidents Bronze CSV (original Kaggle headers) into Silver, with a rejects file.
    #[command(after_help = "Example:
  medallion ingest accidents --input US_Accidents_March23.csv --out ./lake")]
    Accidents(IngestAccidentsArgs),
}

impl GenerateCommand {
    /// Generates the data and prints what was written.
    pub fn execute(self) -> Result<()> {
        match self {
            GenerateCommand::Accidents(args) => {
                let report = generate_accidents(&args, true)?;
                println!(
                    "generated {} rows in {} files under {}",
                    report.rows,
                    report.files.len(),
                    Path::new(&args.out).display()
                );
                Ok(())
            }
            GenerateCommand::Medical(args) => {
                let report = generate_medical(&args, true)?;
                println!(
                    "generated {} patients, {} vitals, {} crises, {} treatments under {}",
                    report.patients,
                    report.vitals,
                    report.crises,
                    report.treatments,
                    Path::new(&args.out).display()
                );
                Ok(())
            }
        }
    }
}

impl IngestCommand {
    /// Ingests the file and prints what was accepted and rejected.
    pub fn execute(self) -> Result<()> {
        match self {
            IngestCommand::Accidents(args) => {
                let report = ingest_accidents(&args, true)?;
                println!(
                    "read {} rows: {} accepted, {} rejected (see {})",
                    report.rows_read,
                    report.rows_accepted,
                    report.rows_rejected,
                    report.rejects_file.display()
                );
                for (reason, count) in &report.rejects_by_reason {
                    println!("  {count:>10}  {reason}");
                }
                Ok(())
            }
        }
    }
}
