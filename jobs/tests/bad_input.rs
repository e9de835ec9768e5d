//! Bad input ends with one clear `error: ` line, the contract's exit code, no panic, and no Gold table
//! written (SPEC section 6: "a clear one-line error and a non-zero exit, never a panic or a
//! half-written table"; exit 2 bad usage/input, 1 job failed while running, 3 unreachable
//! infrastructure).

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;

/// A valid three-row Silver lake.
fn small_rows() -> Vec<Accident> {
    let row = Accident::clear_day_in_la;
    vec![
        row("a1", 2, "2021-03-05 08:15:00"),
        row("a2", 3, "2021-04-05 09:15:00"),
        row("a3", 1, "2022-01-05 10:15:00"),
    ]
}

/// 4 KiB of fixed pseudo-random bytes (xorshift): not a Parquet file (no PAR1 magic).
fn random_bytes() -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

struct Case {
    _root: tempfile::TempDir,
    lake: PathBuf,
    out: PathBuf,
}

fn case_with_lake() -> Case {
    let root = tempfile::tempdir().unwrap();
    let lake = write_lake(&root.path().join("lake"), &small_rows(), Format::Parquet);
    let out = root.path().join("gold");
    Case {
        lake,
        out,
        _root: root,
    }
}

/// Exit `code`; exactly one stderr line starts with `error: ` and it names `needle`; no panic text.
/// The error ends the output (SPEC 6: "ends with a clear one-line error"): log lines of the run may come
/// before it, nothing after it — except, when `usage_hint_allowed`, clap's `Usage:` hint after a usage
/// error.
fn assert_error(output: &Output, code: i32, needle: &str, usage_hint_allowed: bool) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let context = format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        stderr
    );
    assert_eq!(output.status.code(), Some(code), "exit code; {context}");
    assert!(!stderr.contains("panicked"), "panic on stderr; {context}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "exactly one `error: ` line; {context}");
    assert!(
        errors[0].contains(needle),
        "the error line names {needle:?}; {context}"
    );
    if !usage_hint_allowed {
        let last = stderr.lines().rfind(|l| !l.trim().is_empty());
        assert_eq!(
            last,
            Some(errors[0]),
            "the error line ends stderr; {context}"
        );
    }
}

/// No Gold table folder under the sink. A `pipeline_runs` record of the failed run is allowed, but
/// then it says `failed` with an error text.
async fn assert_no_gold_written(out: &Path) {
    for table in GOLD_TABLES {
        let dir = out.join(table);
        assert!(
            !dir.exists(),
            "a failed run wrote {} ({:?})",
            dir.display(),
            parquet_files(&dir)
        );
    }
    if !parquet_files(&out.join("pipeline_runs")).is_empty() {
        let gold = Gold::open(out).await;
        for row in gold.rows("SELECT status, error FROM pipeline_runs").await {
            assert_eq!(
                row[0],
                s("failed"),
                "pipeline_runs of a failed run: {row:?}"
            );
            assert!(
                !row[1].is_null(),
                "pipeline_runs.error of a failed run: {row:?}"
            );
        }
    }
}

#[tokio::test]
async fn missing_lake_path() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("gold");
    let lake = "/nonexistent/medallion-test-lake";
    let sink = format!("file://{}", out.display());
    let output = medallion(&["run", "accidents-datamart", "--lake", lake, "--sink", &sink]);
    assert_error(&output, 2, lake, false);
    assert_no_gold_written(&out).await;
}

#[tokio::test]
async fn lake_without_accidents_table() {
    let root = tempfile::tempdir().unwrap();
    let lake = root.path().join("lake");
    fs::create_dir_all(&lake).unwrap();
    let out = root.path().join("gold");
    let output = run_datamart(&lake, &out, &[]);
    assert_error(&output, 2, "accidents", false);
    assert_no_gold_written(&out).await;
}

#[tokio::test]
async fn parquet_file_missing_a_required_column() {
    let root = tempfile::tempdir().unwrap();
    let lake = root.path().join("lake");
    let batch = silver_batch_with_schema(&small_rows(), schema_without(&["severity"]));
    write_file(
        &lake.join("accidents/year=2021/part-00000.parquet"),
        &batch,
        Format::Parquet,
    );
    let out = root.path().join("gold");
    let output = run_datamart(&lake, &out, &[]);
    assert_error(&output, 2, "severity", false);
    assert_no_gold_written(&out).await;
}

#[tokio::test]
async fn corrupt_parquet_file() {
    let root = tempfile::tempdir().unwrap();
    let lake = root.path().join("lake");
    fs::create_dir_all(lake.join("accidents")).unwrap();
    fs::write(lake.join("accidents/part-0.parquet"), random_bytes()).unwrap();
    let out = root.path().join("gold");
    let output = run_datamart(&lake, &out, &[]);
    assert_error(&output, 2, "part-0.parquet", false);
    assert_no_gold_written(&out).await;
}

/// A truncated file that still has the `PAR1` magic at both ends (what an interrupted copy can leave).
#[tokio::test]
async fn truncated_parquet_file_with_magic() {
    let case = case_with_lake();
    fs::write(
        case.lake.join("accidents/year=2021/part-00001.parquet"),
        b"PAR1 this is not a parquet file PAR1",
    )
    .unwrap();
    let output = run_datamart(&case.lake, &case.out, &[]);
    assert_error(&output, 2, "part-00001.parquet", false);
    assert_no_gold_written(&case.out).await;
}

#[tokio::test]
async fn unknown_job() {
    let case = case_with_lake();
    let sink = format!("file://{}", case.out.display());
    let output = medallion(&[
        "run",
        "no-such-job",
        "--lake",
        case.lake.to_str().unwrap(),
        "--sink",
        &sink,
    ]);
    assert_error(&output, 2, "no-such-job", true);
    assert_no_gold_written(&case.out).await;
}

#[tokio::test]
async fn bad_sink_scheme() {
    let case = case_with_lake();
    let output = medallion(&[
        "run",
        "accidents-datamart",
        "--lake",
        case.lake.to_str().unwrap(),
        "--sink",
        "ftp://x",
    ]);
    assert_error(&output, 2, "ftp", false);
    // Not taken for a relative local path either (integration tests run in the package folder).
    assert!(!Path::new("ftp:").exists(), "wrote a local folder ftp:");
}

#[tokio::test]
async fn unknown_flag() {
    let case = case_with_lake();
    let sink = format!("file://{}", case.out.display());
    let output = medallion(&[
        "run",
        "accidents-datamart",
        "--lake",
        case.lake.to_str().unwrap(),
        "--sink",
        &sink,
        "--no-such-flag",
    ]);
    assert_error(&output, 2, "--no-such-flag", true);
    assert_no_gold_written(&case.out).await;
}

/// Nothing listens on 127.0.0.1:1: an unreachable MySQL sink is exit 3, naming the host.
#[tokio::test]
async fn unreachable_mysql_sink() {
    let case = case_with_lake();
    let output = medallion(&[
        "run",
        "accidents-datamart",
        "--lake",
        case.lake.to_str().unwrap(),
        "--sink",
        "mysql://medallion:medallion@127.0.0.1:1/gold",
    ]);
    assert_error(&output, 3, "127.0.0.1", false);
}

/// All-or-nothing: a run that fails (a corrupt file added to the lake) leaves the previously
/// published Gold tables byte for byte as they were.
#[tokio::test]
async fn failed_run_keeps_the_previous_gold_tables() {
    let case = case_with_lake();
    // The three rows share one 0.1° cell: with a threshold of 1, every Gold table has rows.
    let settings = ["--set", "hotspot_min_accidents=1"];
    let first = run_datamart(&case.lake, &case.out, &settings);
    assert_success(&first, "first run");
    let snapshot = |out: &Path| -> BTreeMap<PathBuf, Vec<u8>> {
        GOLD_TABLES
            .iter()
            .flat_map(|t| parquet_files(&out.join(t)))
            .map(|p| {
                let bytes = fs::read(&p).unwrap();
                (p, bytes)
            })
            .collect()
    };
    let before = snapshot(&case.out);
    for table in GOLD_TABLES {
        assert!(
            before.keys().any(|p| p.starts_with(case.out.join(table))),
            "first run published {table}"
        );
    }
    fs::write(
        case.lake.join("accidents/year=2021/part-99999.parquet"),
        random_bytes(),
    )
    .unwrap();
    let second = run_datamart(&case.lake, &case.out, &settings);
    assert_error(&second, 2, "part-99999.parquet", false);
    assert!(
        before == snapshot(&case.out),
        "the failed run changed the published Gold tables"
    );
    let gold = Gold::open(&case.out).await;
    assert_eq!(gold.count("accidents_summary").await, 3);
}
