//! The ad-hoc side of the real `medallion` binary: `tables`, `describe`, `sql` (output formats,
//! several statements, stdin, the UDFs, a catalog file with an ORC table), `explain`,
//! `run --dry-run`, `runs`, and the JSON end-of-run log event.
//!
//! Expected values are worked out by hand from the four rows below.

mod common;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::*;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use serde_json::{Value, json};

/// Four accepted accidents: two in CA (2021), one in TX (2022), one in NY without a city (2022).
fn rows() -> Vec<Accident> {
    let row = |id: &'static str,
               state: &'static str,
               city: Option<&'static str>,
               severity: i32,
               ts: &'static str| Accident {
        state: Some(state),
        city,
        ..Accident::clear_day_in_la(id, severity, ts)
    };
    vec![
        row("a1", "CA", Some("Los Angeles"), 2, "2021-03-05 08:15:00"),
        row("a2", "CA", Some("San Diego"), 3, "2021-04-05 09:15:00"),
        row("a3", "TX", Some("Austin"), 1, "2022-01-05 10:15:00"),
        row("a4", "NY", None, 4, "2022-06-01 11:15:00"),
    ]
}

struct Lake {
    root: tempfile::TempDir,
    lake: PathBuf,
}

impl Lake {
    fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        let lake = write_lake(&root.path().join("lake"), &rows(), Format::Parquet);
        Self { root, lake }
    }

    fn lake(&self) -> &str {
        self.lake.to_str().unwrap()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.root.path().join(name)
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The JSON objects of JSON-lines text.
fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// `medallion ARGS` in folder `dir` with `stdin` piped in.
fn medallion_in(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_medallion"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .env_remove("MEDALLION_LAKE")
        .env_remove("MEDALLION_CATALOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the medallion binary");
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn data_bytes(dir: &Path) -> u64 {
    parquet_files(dir)
        .iter()
        .map(|f| fs::metadata(f).unwrap().len())
        .sum()
}

#[test]
fn tables_lists_the_lake_with_hive_partitions() {
    let lake = Lake::new();
    let output = medallion(&["tables", "--lake", lake.lake(), "--format", "json"]);
    assert_success(&output, "tables");
    let tables = json_lines(&stdout(&output));
    assert_eq!(tables.len(), 1, "{tables:?}");
    let t = &tables[0];
    assert_eq!(t["table"], "accidents");
    assert_eq!(t["format"], "parquet");
    // one file per year folder: 2021 and 2022
    assert_eq!(t["files"], 2);
    assert_eq!(t["bytes"], data_bytes(&lake.lake.join("accidents")));
    // the 46 Silver columns plus the `year` partition column
    assert_eq!(t["columns"], 47);
    assert_eq!(t["partitioned_by"], "year");
}

#[test]
fn describe_shows_column_type_nullable() {
    let lake = Lake::new();
    let output = medallion(&[
        "describe",
        "accidents",
        "--lake",
        lake.lake(),
        "--format",
        "csv",
    ]);
    assert_success(&output, "describe");
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "column,type,nullable");
    assert!(lines.contains(&"severity,Int32,true"), "{text}");
    assert!(lines.contains(&"year,Int32,false"), "{text}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("id,Utf8") && l.ends_with(",false")),
        "{text}"
    );
    // 46 Silver columns + year, and the header
    assert_eq!(lines.len(), 48, "{text}");

    let unknown = medallion(&["describe", "nope", "--lake", lake.lake()]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no table 'nope'"));
}

#[test]
fn sql_runs_statements_in_order_with_the_udfs() {
    let lake = Lake::new();
    let sql = "CREATE VIEW ca AS SELECT * FROM accidents WHERE state = 'CA';
               SELECT id, severity, year FROM ca ORDER BY id;
               SELECT danger_index(2.0, 3) AS d, seasonal_factor(3.0, 0.0) AS z,
                      haversine_miles(0.0, 0.0, 0.0, 1.0) AS h, trend_direction([1.0, 2.0, 3.0], 0.05) AS t";
    let output = medallion(&["sql", "--lake", lake.lake(), "--format", "json", sql]);
    assert_success(&output, "sql");
    let lines = json_lines(&stdout(&output));
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0], json!({"id": "a1", "severity": 2, "year": 2021}));
    assert_eq!(lines[1], json!({"id": "a2", "severity": 3, "year": 2021}));
    let udfs = &lines[2];
    // danger_index = 2 · ln(1 + 3)
    let d = udfs["d"].as_f64().unwrap();
    assert!((d - 2.0 * 4f64.ln()).abs() < 1e-12, "{udfs}");
    // seasonal_factor with a zero base is NULL
    assert_eq!(udfs["z"], Value::Null);
    // one degree of longitude on the equator = 3958.8 · π / 180 miles
    let h = udfs["h"].as_f64().unwrap();
    assert!(
        (h - 3958.8 * std::f64::consts::PI / 180.0).abs() < 1e-9,
        "{udfs}"
    );
    // slope 1 over a mean of 2 = 0.5 > 0.05
    assert_eq!(udfs["t"], "up");
}

#[test]
fn sql_table_output_is_aligned() {
    let lake = Lake::new();
    let output = medallion(&[
        "sql",
        "--lake",
        lake.lake(),
        "SELECT state, COUNT(*) AS n FROM accidents GROUP BY state ORDER BY state",
    ]);
    assert_success(&output, "sql table");
    let text = stdout(&output);
    let expected = "\
+-------+---+
| state | n |
+-------+---+
| CA    | 2 |
| NY    | 1 |
| TX    | 1 |
+-------+---+
";
    assert_eq!(text, expected);
}

#[test]
fn sql_reads_statements_from_stdin() {
    let lake = Lake::new();
    let output = medallion_in(
        lake.root.path(),
        &["sql", "--lake", lake.lake(), "--format", "csv"],
        Some(
            "SELECT COUNT(*) AS n FROM accidents;\nSELECT state FROM accidents WHERE severity = 4;\n",
        ),
    );
    assert_success(&output, "sql from stdin");
    assert_eq!(stdout(&output), "n\n4\nstate\nNY\n");
}

#[tokio::test]
async fn sql_writes_parquet_and_csv_files() {
    let lake = Lake::new();
    let no_file = medallion(&[
        "sql",
        "--lake",
        lake.lake(),
        "--format",
        "parquet",
        "SELECT 1",
    ]);
    assert_eq!(no_file.status.code(), Some(2), "parquet needs --output");

    let parquet = lake.path("ca.parquet");
    let output = medallion(&[
        "sql",
        "--lake",
        lake.lake(),
        "--format",
        "parquet",
        "--output",
        parquet.to_str().unwrap(),
        "SELECT id, city FROM accidents WHERE state = 'CA' ORDER BY id",
    ]);
    assert_success(&output, "sql to parquet");
    let ctx = SessionContext::new();
    let batches = ctx
        .read_parquet(parquet.to_str().unwrap(), ParquetReadOptions::default())
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 2);

    let csv = lake.path("out.csv");
    let output = medallion(&[
        "sql",
        "--lake",
        lake.lake(),
        "--format",
        "csv",
        "-o",
        csv.to_str().unwrap(),
        "SELECT id FROM accidents WHERE city IS NULL",
    ]);
    assert_success(&output, "sql to csv");
    assert_eq!(fs::read_to_string(&csv).unwrap(), "id\na4\n");

    // A query failing at run time leaves no file, not even a temporary one.
    let failed = lake.path("failed.csv");
    let output = medallion(&[
        "sql",
        "--format",
        "csv",
        "--output",
        failed.to_str().unwrap(),
        "SELECT CAST('x' AS INT)",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let leftovers: Vec<_> = fs::read_dir(lake.root.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("failed"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_catalog_file_names_tables_and_formats() {
    let lake = Lake::new();
    write_file(
        &lake.path("silver_orc/acc/part-0.orc"),
        &silver_batch(&rows()),
        Format::Orc,
    );
    fs::write(
        lake.path("medallion.toml"),
        "[tables.acc]\nurl = \"silver_orc/acc\"\nformat = \"orc\"\n",
    )
    .unwrap();
    // ./medallion.toml is read when no --catalog is given; relative URLs are relative to it.
    let output = medallion_in(
        lake.root.path(),
        &[
            "sql",
            "--format",
            "csv",
            "SELECT COUNT(*) AS n, SUM(severity) AS s FROM acc",
        ],
        None,
    );
    assert_success(&output, "sql over the catalog");
    // 2 + 3 + 1 + 4
    assert_eq!(stdout(&output), "n,s\n4,10\n");

    let wrong = lake.path("wrong.toml");
    fs::write(
        &wrong,
        "[tables.acc]\nurl = \"silver_orc/acc\"\nformat = \"parquet\"\n",
    )
    .unwrap();
    let output = medallion(&["tables", "--catalog", wrong.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("declared parquet but its files are orc"),
        "{stderr}"
    );
}

#[test]
fn explain_shows_logical_physical_and_stage_plans() {
    let lake = Lake::new();
    let output = medallion(&[
        "explain",
        "accidents-datamart",
        "--lake",
        lake.lake(),
        "--table",
        "kpis_weather",
    ]);
    assert_success(&output, "explain job");
    let text = stdout(&output);
    for needle in [
        "=== accidents-datamart / kpis_weather ===",
        "--- optimized logical plan",
        "--- physical plan",
        "--- distributed stages (Ballista):",
        "ShuffleWriterExec",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
    assert!(!text.contains("/ accidents_summary ==="), "{text}");

    let output = medallion(&[
        "explain",
        "--lake",
        lake.lake(),
        "SELECT state, COUNT(*) FROM accidents GROUP BY state",
    ]);
    assert_success(&output, "explain SQL");
    let text = stdout(&output);
    let stages: usize = text
        .lines()
        .find_map(|l| l.strip_prefix("--- distributed stages (Ballista): "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no stage count in:\n{text}"));
    // a GROUP BY repartitions by the key: partial aggregates, then final aggregates
    assert!(stages >= 2, "{text}");
    assert!(text.contains("UnresolvedShuffleExec"), "{text}");
}

#[test]
fn dry_run_checks_everything_and_writes_nothing() {
    let lake = Lake::new();
    let gold = lake.path("gold");
    let sink = format!("file://{}", gold.display());
    let before = parquet_files(&lake.lake).len();
    let output = medallion(&[
        "run",
        "accidents-datamart",
        "--lake",
        lake.lake(),
        "--sink",
        &sink,
        "--dry-run",
    ]);
    assert_success(&output, "dry run");
    let text = stdout(&output);
    assert!(text.contains("would write 9 Gold table(s)"), "{text}");
    for table in GOLD_TABLES {
        assert!(text.contains(table), "{table} missing from:\n{text}");
    }
    assert!(text.contains("would be created"), "{text}");
    assert!(!gold.exists(), "a dry run created {}", gold.display());
    assert_eq!(parquet_files(&lake.lake).len(), before);

    // An input problem is found by the dry run, with the run's exit code.
    let missing = medallion(&[
        "run",
        "accidents-datamart",
        "--lake",
        lake.path("nope").to_str().unwrap(),
        "--sink",
        &sink,
        "--dry-run",
    ]);
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn json_logs_and_runs_report_the_run() {
    let lake = Lake::new();
    let gold = lake.path("gold");
    let output = run_datamart(
        &lake.lake,
        &gold,
        &["--no-progress", "--log-format", "json"],
    );
    assert_success(&output, "run");
    let events = json_lines(&String::from_utf8_lossy(&output.stderr));
    let end = events
        .iter()
        .find(|e| e["message"] == "run published")
        .unwrap_or_else(|| panic!("no end-of-run event in {events:?}"));
    for field in ["timestamp", "level", "message", "run_id", "job"] {
        assert!(end.get(field).is_some(), "{field} missing from {end}");
    }
    assert_eq!(end["application"], "medallion");
    assert_eq!(end["level"], "INFO");
    assert_eq!(end["job"], "accidents-datamart");
    assert!(end["pipeline_duration_seconds"].as_f64().unwrap() >= 0.0);
    assert_eq!(end["tables_exported"], 9);
    assert_eq!(end["rows_read"], 4);
    assert_eq!(end["rows_rejected"], 0);
    // every Silver cell of the test rows that the helper fills: checked to be a percentage
    let quality = end["data_quality_score"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&quality), "{end}");

    let sink = format!("file://{}", gold.display());
    let output = medallion(&["runs", "--sink", &sink, "--format", "json"]);
    assert_success(&output, "runs");
    let runs = json_lines(&stdout(&output));
    assert_eq!(runs.len(), 1, "{runs:?}");
    let run = &runs[0];
    assert_eq!(run["run_id"], end["run_id"]);
    assert_eq!(run["status"], "succeeded");
    assert_eq!(run["job"], "accidents-datamart");
    assert_eq!(run["rows_read"], 4);
    let written: Value = serde_json::from_str(run["rows_written"].as_str().unwrap()).unwrap();
    let total: u64 = written
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(end["total_rows_exported"], total);
    // accidents_summary has one row per accepted accident
    assert_eq!(written["accidents_summary"], 4);
}

#[test]
fn runs_reads_pipeline_runs_from_mysql() {
    let lake = Lake::new();
    let db = mysql_db::TestDb::reserve("medallion_test_cli_runs");
    let sink = db.root_url();

    // Before any run: the dry run reaches the server and finds no database yet; no runs.
    let output = medallion(&[
        "run",
        "accidents-datamart",
        "--lake",
        lake.lake(),
        "--sink",
        &sink,
        "--dry-run",
    ]);
    assert_success(&output, "dry run against MySQL");
    assert!(
        stdout(&output).contains("would be created"),
        "{}",
        stdout(&output)
    );
    let output = medallion(&["runs", "--sink", &sink, "--format", "json"]);
    assert_success(&output, "runs before any run");
    assert_eq!(stdout(&output), "");

    let output = medallion(&[
        "run",
        "accidents-datamart",
        "--lake",
        lake.lake(),
        "--sink",
        &sink,
        "--no-progress",
    ]);
    assert_success(&output, "run into MySQL");
    let output = medallion(&["runs", "--sink", &sink, "--format", "json", "--limit", "5"]);
    assert_success(&output, "runs from MySQL");
    let runs = json_lines(&stdout(&output));
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["status"], "succeeded");
    assert_eq!(runs[0]["job"], "accidents-datamart");
    assert_eq!(runs[0]["rows_read"], 4);
    let written: Value = serde_json::from_str(runs[0]["rows_written"].as_str().unwrap()).unwrap();
    assert_eq!(written["accidents_summary"], 4);

    let other = medallion(&["runs", "--sink", &sink, "--job", "weekly-reports"]);
    assert_success(&other, "runs of another job");
    assert!(!stdout(&other).contains("accidents-datamart"));
}

/// `--read-only` reads the lake and nothing else, and writes nothing; without it, `medallion sql`
/// reads and writes what its user can (as DuckDB does).
#[test]
fn read_only_sql_reads_the_lake_and_nothing_else() {
    let lake = Lake::new();
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.csv");
    fs::write(&secret, "secret\ntop\n").unwrap();
    let copy_to = outside.path().join("copy.csv");
    let external = format!(
        "CREATE EXTERNAL TABLE s STORED AS CSV LOCATION '{}' OPTIONS ('format.has_header' 'true'); \
         SELECT secret FROM s",
        secret.display()
    );
    let copy = format!("COPY (SELECT 1 AS x) TO '{}'", copy_to.display());
    let sql = |read_only: bool, statement: &str| {
        let mut args = vec!["sql", "--lake", lake.lake(), "--format", "json"];
        if read_only {
            args.push("--read-only");
        }
        args.push(statement);
        medallion(&args)
    };

    // the user's own freedom
    let output = sql(false, &external);
    assert_success(&output, "external table without --read-only");
    assert!(stdout(&output).contains("top"));
    assert_success(&sql(false, &copy), "COPY without --read-only");
    assert!(copy_to.exists());
    fs::remove_file(&copy_to).unwrap();

    // read-only: the lake's tables answer, nothing else is read or written
    let output = sql(true, "SELECT COUNT(*) AS n FROM accidents");
    assert_success(&output, "a lake query with --read-only");
    let inside = format!(
        "CREATE EXTERNAL TABLE again STORED AS PARQUET LOCATION '{}/accidents/'; \
         SELECT COUNT(*) AS n FROM again",
        lake.lake()
    );
    assert_eq!(
        json_lines(&stdout(&sql(true, &inside))),
        json_lines(&stdout(&output)),
        "an external table inside the lake is allowed"
    );
    for (what, statement) in [
        ("an external table outside the lake", external.as_str()),
        (
            "/etc/passwd",
            "CREATE EXTERNAL TABLE pw (line VARCHAR) STORED AS CSV LOCATION '/etc/passwd'",
        ),
        ("COPY", copy.as_str()),
    ] {
        let output = sql(true, statement);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{what}: {stderr}");
        assert!(
            stderr.contains("not allowed") || stderr.contains("read-only"),
            "{what}: {stderr}"
        );
        assert!(!stdout(&output).contains("top"), "{what} leaked");
    }
    assert!(!copy_to.exists(), "COPY wrote under --read-only");
}
