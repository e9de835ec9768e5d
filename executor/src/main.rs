//! `medallion-executor`: parse Ballista's executor flags, set up logging, run the executor with
//! medallion's session, runtime, UDFs and codecs (see the `medallion_executor` library).

use std::process::ExitCode;

use medallion_executor::{ExecutorArgs, init_logging, run};

fn main() -> ExitCode {
    let args = ExecutorArgs::parse_with_env(std::env::args_os());
    init_logging(&args);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
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
