//! `medallion-scheduler`: parse Ballista's scheduler flags, set up logging, run the scheduler with
//! medallion's session, codecs and object stores (see the `medallion_scheduler` library).

use std::process::ExitCode;

use medallion_scheduler::{SchedulerArgs, init_logging, run};

fn main() -> ExitCode {
    let args = SchedulerArgs::parse_with_env(std::env::args_os());
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
