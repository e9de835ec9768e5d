//! How often the executor tells the scheduler it is alive: medallion's default for Ballista's
//! `--executor-heartbeat-interval-seconds` (60 in Ballista).
//!
//! `medallion-scheduler` removes an executor 10 s after its last heartbeat (its
//! `--executor-timeout-seconds`), so a dead executor is noticed within about 12 s and its tasks
//! re-run elsewhere; a 3 s heartbeat leaves three beats within that timeout, so a busy executor is
//! not taken for dead. The flag still overrides it (keep it well below the scheduler's timeout).

/// Seconds between two heartbeats.
pub const HEARTBEAT_INTERVAL_SECONDS: &str = "3";

/// `command` with medallion's default heartbeat interval.
pub fn with_fast_heartbeat(command: clap::Command) -> clap::Command {
    command.mut_arg("executor_heartbeat_interval_seconds", |arg| {
        arg.default_value(HEARTBEAT_INTERVAL_SECONDS)
    })
}

#[cfg(test)]
mod tests {
    use crate::ExecutorArgs;

    #[test]
    fn heartbeats_every_3_seconds_unless_overridden() {
        let args = ExecutorArgs::parse_with_env(["medallion-executor"]);
        assert_eq!(args.ballista.executor_heartbeat_interval_seconds, 3);
        let args = ExecutorArgs::parse_with_env([
            "medallion-executor",
            "--executor-heartbeat-interval-seconds",
            "5",
        ]);
        assert_eq!(args.ballista.executor_heartbeat_interval_seconds, 5);
    }
}
