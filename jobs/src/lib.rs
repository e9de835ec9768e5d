//! medallion's job plans (SQL files + Rust glue), the job runner, data generators, Bronze ingest and
//! the `medallion` command line.

pub mod accidents;
pub mod cli;
pub mod commands;
pub mod dashboard_export;
pub mod embedded;
pub mod logging;
pub mod medical;
pub mod pending_file;
pub mod plan;
pub mod reference;
pub mod resubmit;
pub mod run;
pub mod run_options;
