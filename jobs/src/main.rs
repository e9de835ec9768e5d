//! `medallion`: run Spark-style batch jobs from a Silver lake to Gold tables, embedded or on a
//! Ballista cluster. The commands live in the `medallion_jobs::cli` module.

use std::process::ExitCode;

use clap::Parser;
use medallion_jobs::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
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
