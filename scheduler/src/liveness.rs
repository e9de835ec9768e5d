//! How fast the scheduler notices a dead executor: medallion's defaults for Ballista's
//! `--executor-timeout-seconds` (180 in Ballista) and `--expire-dead-executor-interval-seconds`
//! (15).
//!
//! An executor that stops heartbeating (killed, out of memory, its machine gone) is removed after
//! the timeout, found by a check every interval, so within 10 + 2 = 12 s with these defaults and
//! `medallion-executor`'s 3 s heartbeat; its tasks are then re-run on the other executors (or, when
//! the output of a finished stage was lost with it, the job fails at once and `medallion submit`
//! resubmits it). With Ballista's defaults a job that lost an executor waited 3 minutes before
//! anything happened. The timeout stays above three heartbeats, so a busy executor is not taken
//! for dead. Both flags still override these.

/// The timeout, in seconds, after an executor's last heartbeat before it is removed.
pub const EXECUTOR_TIMEOUT_SECONDS: &str = "10";

/// How often, in seconds, the scheduler looks for executors past the timeout.
pub const EXPIRE_INTERVAL_SECONDS: &str = "2";

/// `command` with medallion's defaults for the dead-executor detection flags.
pub fn with_fast_detection(command: clap::Command) -> clap::Command {
    command
        .mut_arg("executor_timeout_seconds", |arg| {
            arg.default_value(EXECUTOR_TIMEOUT_SECONDS)
        })
        .mut_arg("expire_dead_executor_interval_seconds", |arg| {
            arg.default_value(EXPIRE_INTERVAL_SECONDS)
        })
}

#[cfg(test)]
mod tests {
    use crate::SchedulerArgs;

    #[test]
    fn a_dead_executor_is_noticed_within_seconds_unless_overridden() {
        let args = SchedulerArgs::parse_with_env(["medallion-scheduler"]);
        assert_eq!(args.ballista.executor_timeout_seconds, 10);
        assert_eq!(args.ballista.expire_dead_executor_interval_seconds, 2);
        let config = crate::scheduler_config(args.ballista).expect("Ballista accepts them");
        assert_eq!(config.no_executors_grace_period_seconds, 10);
        let args = SchedulerArgs::parse_with_env([
            "medallion-scheduler",
            "--executor-timeout-seconds",
            "60",
        ]);
        assert_eq!(args.ballista.executor_timeout_seconds, 60);
    }
}
