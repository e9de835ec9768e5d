//! `medallion ui`: a read-only web page to watch the batch jobs, served by a small axum server.
//! Runs come from a sink's `pipeline_runs` (through
//! [`GoldSink::recent_runs`](medallion_core::sink::GoldSink::recent_runs)), running jobs from the
//! scheduler's REST API ([`crate::scheduler_api`]). Plain server-rendered HTML with inline CSS,
//! inline SVG charts and a few lines of inline script: nothing is fetched from the internet.
//!
//! Routes: `/` (the overview), `/run/{run_id}` (one run and its Gold tables' row counts),
//! `/api/running` (the running jobs as JSON, which the overview's script polls), `/healthz`.

mod args;
mod charts;
mod html;
mod pages;
mod runs;
mod server;

pub use args::{EXAMPLES, UiArgs};
pub use server::serve;
