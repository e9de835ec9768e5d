//! The `medallion-executor` process from its command line to its exit code: parse the flags, set
//! up logging, run the executor on a runtime. Called by this crate's binary and by the `medallion`
//! multi-call binary when it is started as `medallion-executor`.

use std::ffi::OsString;
use std::process::ExitCode;

use crate::{ExecutorArgs, init_logging, run};

/// The stack of every thread the executor starts: decoding a task's plan recurses over its depth,
/// and a Gold query with many views and window functions overflows the 2 MiB default.
const THREAD_STACK_BYTES: usize = 32 * 1024 * 1024;

/// Runs the executor with the command line `args` (the program name first) until it stops.
pub fn main_with_args(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    // Ballista's executor runs tasks on runtimes of its own (its task runner), whose threads take
    // std's default stack size: raise that default before any thread starts.
    if std::env::var_os("RUST_MIN_STACK").is_none() {
        // SAFETY: called first thing in the process's main thread, before any other thread exists
        // to read the environment concurrently.
        unsafe { std::env::set_var("RUST_MIN_STACK", THREAD_STACK_BYTES.to_string()) };
    }
    let args = ExecutorArgs::parse_with_env(args);
    init_logging(&args);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(THREAD_STACK_BYTES)
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
