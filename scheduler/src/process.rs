//! The `medallion-scheduler` process from its command line to its exit code: parse the flags, set
//! up logging, run the scheduler on a runtime whose worker threads have deep stacks. Called by this
//! crate's binary and by the `medallion` multi-call binary when it is started as
//! `medallion-scheduler`.

use std::ffi::OsString;
use std::process::ExitCode;

use crate::{SchedulerArgs, init_logging, run};

/// Runs the scheduler with the command line `args` (the program name first) until it stops.
pub fn main_with_args(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let args = SchedulerArgs::parse_with_env(args);
    init_logging(&args);
    // Ballista's planner recurses over deep plans: give worker threads a large stack.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(32 * 1024 * 1024)
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
