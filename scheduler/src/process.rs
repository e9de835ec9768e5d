//! The `medallion-scheduler` process from its command line to its exit code: parse the flags, set
//! up logging, run the scheduler (see [`run_service`]). Called by this crate's binary and by the
//! `medallion` multi-call binary when it is started as `medallion-scheduler`.

use std::ffi::OsString;
use std::process::ExitCode;

use medallion_core::service_process::run_service;

use crate::{SchedulerArgs, init_logging, run};

/// Runs the scheduler with the command line `args` (the program name first) until it stops.
pub fn main_with_args(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let args = SchedulerArgs::parse_with_env(args);
    init_logging(&args);
    run_service(run(args), |e| e.exit_code())
}
