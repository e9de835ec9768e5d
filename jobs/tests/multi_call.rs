//! The `medallion` binary is also the scheduler and the executor when started under their names,
//! as the container image links it (one binary instead of three).

use std::path::Path;
use std::process::Command;

/// `--help` of the `medallion` binary started through a link called `name`.
fn help_as(name: &str, dir: &Path) -> String {
    let link = dir.join(name);
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_medallion"), &link).unwrap();
    let out = Command::new(&link).arg("--help").output().unwrap();
    assert!(
        out.status.success(),
        "{name} --help failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn started_as_a_service_the_binary_is_that_service() {
    let dir = tempfile::tempdir().unwrap();
    let scheduler = help_as("medallion-scheduler", dir.path());
    assert!(
        scheduler.contains("--flight-sql-users") && !scheduler.contains("Commands:"),
        "not the scheduler's help:\n{scheduler}"
    );
    let executor = help_as("medallion-executor", dir.path());
    assert!(
        executor.contains("--scheduler-host") && !executor.contains("Commands:"),
        "not the executor's help:\n{executor}"
    );
    let cli = help_as("medallion", dir.path());
    assert!(
        cli.contains("Commands:") && cli.contains("submit"),
        "not the CLI's help:\n{cli}"
    );
}
