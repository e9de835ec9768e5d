//! `--help` of every `medallion` command and subcommand ends with examples, and the top-level help
//! documents the exit codes; checked on clap's command tree and on the real binary's output.

mod common;

use clap::CommandFactory;
use common::*;
use medallion_jobs::cli::Cli;

/// Every command of the tree under `command`, with its path (`medallion generate accidents`).
fn walk(command: &clap::Command, path: &str, out: &mut Vec<(String, clap::Command)>) {
    let path = if path.is_empty() {
        command.get_name().to_string()
    } else {
        format!("{path} {}", command.get_name())
    };
    out.push((path.clone(), command.clone()));
    // clap's own `help` subcommands print help, they have nothing to exemplify
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        walk(sub, &path, out);
    }
}

#[test]
fn every_command_and_subcommand_has_examples() {
    let mut commands = Vec::new();
    let mut root = Cli::command();
    root.build();
    walk(&root, "", &mut commands);
    assert!(commands.len() > 15, "{}", commands.len());
    let mut missing = Vec::new();
    for (path, command) in &commands {
        let after = command
            .get_after_long_help()
            .or(command.get_after_help())
            .map(|h| h.to_string())
            .unwrap_or_default();
        let name = path.split(' ').skip(1).collect::<Vec<_>>().join(" ");
        let shows_itself = after.contains(&format!("medallion {name}"));
        if !after.contains("Example") || !shows_itself {
            missing.push(path.clone());
        }
    }
    assert!(
        missing.is_empty(),
        "commands without an Examples section showing them: {missing:?}"
    );
}

#[test]
fn the_binary_help_shows_examples_and_exit_codes() {
    let output = medallion(&["--help"]);
    assert_success(&output, "medallion --help");
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("Examples:"), "{help}");
    assert!(
        help.contains(
            "Exit codes: 0 ok, 1 job failed, 2 bad usage or input, 3 infrastructure unreachable"
        ),
        "{help}"
    );
    for args in [
        &["run", "--help"][..],
        &["submit", "--help"],
        &["generate", "accidents", "--help"],
        &["ingest", "accidents", "--help"],
        &["sql", "--help"],
    ] {
        let output = medallion(args);
        assert_success(&output, &args.join(" "));
        let help = String::from_utf8_lossy(&output.stdout);
        assert!(help.contains("Example"), "{args:?}\n{help}");
        assert!(help.contains(&format!("medallion {}", args[0])), "{help}");
    }
    // Bad usage is exit code 2 with clap's message.
    let output = medallion(&["run", "--no-such-flag"]);
    assert_eq!(output.status.code(), Some(2));
}
