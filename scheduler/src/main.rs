//! `medallion-scheduler`: Ballista's scheduler with medallion's session, codecs and object stores
//! (see the `medallion_scheduler` library).

use std::process::ExitCode;

fn main() -> ExitCode {
    medallion_scheduler::process::main_with_args(std::env::args_os())
}
