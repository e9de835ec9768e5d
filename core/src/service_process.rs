//! The process of a medallion service (scheduler, executor): its async runtime and exit code, the
//! same for both.

use std::fmt::Display;
use std::process::ExitCode;

/// The stack of a service's worker threads: planning a deep plan (scheduler) or decoding one
/// (executor) recurses over its depth, beyond tokio's 2 MiB default.
pub const SERVICE_THREAD_STACK_BYTES: usize = 32 * 1024 * 1024;

/// Runs `service` to its end on a multi-threaded runtime whose worker threads have
/// [`SERVICE_THREAD_STACK_BYTES`] of stack. Success is exit code 0; an error is printed as
/// `error: ...` and ends with `exit_code(&error)`; a runtime that cannot start, with 1.
pub fn run_service<E: Display>(
    service: impl Future<Output = Result<(), E>>,
    exit_code: impl FnOnce(&E) -> u8,
) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(SERVICE_THREAD_STACK_BYTES)
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(service) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(exit_code(&e))
        }
    }
}
