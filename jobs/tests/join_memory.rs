//! Joins in the embedded engine (`medallion sql` without a scheduler): a hash join where the
//! build side fits the memory pool, a sort-merge join (which spills) where it does not — and a join
//! larger than the pool still finishes, with the same answer.
//!
//! The lake: 1.6M generated accidents; the query joins them with themselves on `id`, carrying
//! `description` on both sides. With `--memory 384Mi` (a 268 MB pool) a hash join over it runs out
//! of memory — the test checks that first, so it cannot pass on a join that would have fit.

use std::path::Path;
use std::process::{Command, Output};

const ROWS: u64 = 1_600_000;
const QUERY: &str = "SELECT COUNT(*) AS n, SUM(length(a.description) + length(b.description)) \
                     AS chars FROM accidents a JOIN accidents b ON a.id = b.id";

fn medallion(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_medallion"))
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("MEDALLION_MEMORY")
        .env_remove("MEDALLION_SCHEDULER")
        .output()
        .expect("medallion runs")
}

/// `medallion sql` on `lake` with `--memory memory` and two partitions.
fn sql(lake: &Path, memory: &str, statements: &str) -> Output {
    medallion(&[
        "sql",
        "--lake",
        lake.to_str().unwrap(),
        "--memory",
        memory,
        "--parallelism",
        "2",
        "--format",
        "csv",
        statements,
    ])
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The answer's CSV data row, after the command succeeded.
fn answer(output: &Output, what: &str) -> String {
    assert!(
        output.status.success(),
        "{what} failed: {}",
        text(&output.stderr)
    );
    let stdout = text(&output.stdout);
    stdout
        .lines()
        .nth(1)
        .unwrap_or_else(|| panic!("{what}: no data row in {stdout}"))
        .to_string()
}

fn join_kind(lake: &Path, memory: &str) -> &'static str {
    let output = sql(lake, memory, &format!("EXPLAIN {QUERY}"));
    let plan = text(&output.stdout);
    assert!(output.status.success(), "EXPLAIN: {}", text(&output.stderr));
    match (
        plan.contains("HashJoinExec"),
        plan.contains("SortMergeJoin"),
    ) {
        (true, false) => "hash",
        (false, true) => "sort-merge",
        _ => panic!("expected one join in the plan:\n{plan}"),
    }
}

#[test]
fn a_join_larger_than_the_pool_finishes_and_one_that_fits_is_a_hash_join() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let generated = medallion(&[
        "generate",
        "accidents",
        "--rows",
        &ROWS.to_string(),
        "--out",
        lake.to_str().unwrap(),
    ]);
    assert!(generated.status.success(), "{}", text(&generated.stderr));

    // the adversarial case is real: a hash join over this build side does not fit 384Mi
    let forced_hash = sql(
        &lake,
        "384Mi",
        &format!("SET datafusion.optimizer.prefer_hash_join = true; {QUERY}"),
    );
    assert!(
        !forced_hash.status.success() && text(&forced_hash.stderr).contains("Resources exhausted"),
        "a hash join was expected to run out of a 384Mi pool: {}{}",
        text(&forced_hash.stdout),
        text(&forced_hash.stderr)
    );

    // plenty of memory: a hash join
    assert_eq!(join_kind(&lake, "4Gi"), "hash");
    let with_hash = answer(&sql(&lake, "4Gi", QUERY), "the join with 4Gi");
    assert!(
        with_hash.starts_with(&format!("{ROWS},")),
        "every id joins itself once: {with_hash}"
    );

    // the same join in 384Mi: a sort-merge join, which spills, and the same answer
    assert_eq!(join_kind(&lake, "384Mi"), "sort-merge");
    let with_sort_merge = answer(&sql(&lake, "384Mi", QUERY), "the join with 384Mi");
    assert_eq!(with_sort_merge, with_hash);
}
