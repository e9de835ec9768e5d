//! `medallion-executor`: Ballista's executor with medallion's session, runtime, UDFs and codecs
//! (see the `medallion_executor` library).

use std::process::ExitCode;

fn main() -> ExitCode {
    medallion_executor::process::main_with_args(std::env::args_os())
}
