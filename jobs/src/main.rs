//! `medallion`: run Spark-style batch jobs from a Silver lake to Gold tables, embedded or on a
//! Ballista cluster. The commands live in the `medallion_jobs::cli` module.
//!
//! It is also a multi-call binary: started under the name `medallion-scheduler` or
//! `medallion-executor` (a link to it, as the container image installs), it is that service, so
//! the image carries one binary instead of three.

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;

use clap::Parser;
use medallion_jobs::cli::Cli;

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let invoked_as = args
        .first()
        .and_then(|program| Path::new(program).file_stem())
        .and_then(|name| name.to_str())
        .unwrap_or_default();
    match invoked_as {
        "medallion-scheduler" => medallion_scheduler::process::main_with_args(args),
        "medallion-executor" => medallion_executor::process::main_with_args(args),
        _ => cli_main(Cli::parse_from(args)),
    }
}

/// The `medallion` command line.
fn cli_main(cli: Cli) -> ExitCode {
    medallion_jobs::logging::init(cli.log_format, cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(cli.command.execute()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
        }
    }
}
