//! The `medallion-executor` process from its command line to its exit code: parse the flags, set
//! up logging, run the executor on a runtime. Called by this crate's binary and by the `medallion`
//! multi-call binary when it is started as `medallion-executor`.

use std::ffi::OsString;
use std::process::ExitCode;

use crate::{ExecutorArgs, init_logging, run};

/// Runs the executor with the command line `args` (the program name first) until it stops.
pub fn main_with_args(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let args = ExecutorArgs::parse_with_env(args);
    init_logging(&args);
    // Decoding a task's plan recurses over its depth (a Gold query with many views and window
    // functions overflows tokio's 2 MiB worker stacks): give worker threads a large stack, as the
    // scheduler's.
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
            ExitCode::FAILURE
        }
    }
}
