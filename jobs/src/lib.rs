//! medallion's job plans (SQL files + Rust glue), the job runner, data generators, Bronze ingest and
//! the `medallion` command line.

pub mod accidents;
pub mod cli;
pub mod commands;
pub mod config;
pub mod dashboard_export;
pub mod embedded;
pub mod gold_writer;
pub mod html_text;
pub mod lake_commands;
pub mod logging;
pub mod materialize;
pub mod medical;
pub mod pending_file;
pub mod plan;
pub mod pushgateway;
pub mod quality;
pub mod reference;
pub mod resubmit;
pub mod run;
pub mod run_args;
pub mod run_config;
pub mod run_metrics;
pub mod run_options;
pub mod run_outputs;
pub mod run_request;
pub mod run_tasks;
pub mod runner;
pub mod scheduler_api;
pub mod shared_views;
pub mod silver_quality;
pub mod staged_dir;
pub mod table_references;
pub mod ui;
