//! The `medallion-executor` process from its command line to its exit code: parse the flags, set
//! up logging, run the executor (see [`run_service`]). Called by this crate's binary and by the
//! `medallion` multi-call binary when it is started as `medallion-executor`.

use std::ffi::OsString;
use std::process::ExitCode;

use medallion_core::service_process::{SERVICE_THREAD_STACK_BYTES, run_service};

use crate::{ExecutorArgs, init_logging, run};

/// Runs the executor with the command line `args` (the program name first) until it stops.
pub fn main_with_args(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    // Ballista's executor runs tasks on runtimes of its own (its task runner), whose threads take
    // std's default stack size: give them the service's stack too, before any thread starts.
    if std::env::var_os("RUST_MIN_STACK").is_none() {
        // SAFETY: called first thing in the process's main thread, before any other thread exists
        // to read the environment concurrently.
        unsafe { std::env::set_var("RUST_MIN_STACK", SERVICE_THREAD_STACK_BYTES.to_string()) };
    }
    let args = ExecutorArgs::parse_with_env(args);
    init_logging(&args);
    run_service(run(args), |_| 1)
}
