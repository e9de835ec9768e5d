//! Issue 9 (1): bad inputs, table-driven. Every case runs the real `medallion` binary against a Gold
//! folder that already holds a published run, and asserts the contract of SPEC section 6: the exit
//! code (2 bad usage or input, 3 unreachable infrastructure), exactly one `error: ` line naming what
//! is wrong, no panic, the published Gold tables byte for byte unchanged, no staging folder left,
//! and any `pipeline_runs` record of the failed run saying `failed` with its reason.
//!
//! Odd but valid data (severity 0/5/NULL, all-NULL columns, dates in 1900 and 2100, very long
//! strings, duplicate ids, extra columns, empty files, non-UTF-8 Bronze CSV) is not an error: SPEC
//! section 2 says such rows are rejected *and counted*, or processed; those cases assert the counts
//! and values instead.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use common::*;
use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use medallion_jobs::accidents::schema::accidents_schema;

/// A valid Silver row.
fn row(id: &'static str, severity: Option<i32>, ts: Option<&'static str>) -> Accident {
    Accident {
        severity,
        start_time: ts,
        ..Accident::clear_day_in_la(id, 0, "2021-01-01 00:00:00")
    }
}

/// The three-row lake every case starts from (all in one 0.1° cell).
fn valid_rows() -> Vec<Accident> {
    vec![
        row("a1", Some(2), Some("2021-03-05 08:15:00")),
        row("a2", Some(3), Some("2021-04-05 09:15:00")),
        row("a3", Some(1), Some("2022-01-05 10:15:00")),
    ]
}

/// With a threshold of 1 every Gold table of the three-row lake has rows.
const SETTINGS: [&str; 2] = ["--set", "hotspot_min_accidents=1"];

/// Copies folder `from` to `to` (files and folders only).
fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap().flatten() {
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            fs::copy(&path, &target).unwrap();
        }
    }
}

/// The bytes of a valid Parquet file of `batch`.
fn parquet_bytes(batch: &RecordBatch) -> Vec<u8> {
    let mut out = Vec::new();
    let mut writer =
        datafusion::parquet::arrow::ArrowWriter::try_new(&mut out, batch.schema(), None).unwrap();
    writer.write(batch).unwrap();
    writer.close().unwrap();
    out
}

/// The bytes of a valid ORC file of `batch`.
fn orc_bytes(batch: &RecordBatch) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.orc");
    write_file(&path, batch, Format::Orc);
    fs::read(&path).unwrap()
}

/// The Silver batch of `rows` with column `column` cast to `to` (a wrong column type).
fn with_column_type(rows: &[Accident], column: &str, to: DataType) -> RecordBatch {
    let batch = silver_batch(rows);
    let fields: Vec<Field> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| {
            if f.name() == column {
                Field::new(column, to.clone(), true)
            } else {
                f.as_ref().clone()
            }
        })
        .collect();
    let columns: Vec<ArrayRef> = batch
        .schema()
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(f, c)| {
            if f.name() == column {
                cast(c, &to).unwrap()
            } else {
                c.clone()
            }
        })
        .collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap()
}

/// One bad-input case's surroundings: a valid lake and a Gold folder holding a published run.
struct Ctx {
    root: PathBuf,
    lake: PathBuf,
    gold: PathBuf,
}

impl Ctx {
    fn lake_str(&self) -> String {
        self.lake.display().to_string()
    }
    fn sink(&self) -> String {
        format!("file://{}", self.gold.display())
    }
    /// `run accidents-datamart --lake LAKE --sink file://GOLD` plus `extra`.
    fn run_args(&self, extra: &[&str]) -> Vec<String> {
        let mut args: Vec<String> = vec![
            "run".into(),
            "accidents-datamart".into(),
            "--lake".into(),
            self.lake_str(),
            "--sink".into(),
            self.sink(),
            "--no-progress".into(),
        ];
        args.extend(SETTINGS.iter().map(|s| s.to_string()));
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    }
    /// Adds `bytes` as a file of the Silver accidents table.
    fn add_lake_file(&self, rel: &str, bytes: &[u8]) {
        let path = self.lake.join("accidents").join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    }
}

/// The arguments and extra environment variables of one `medallion` command.
type Invocation = (Vec<String>, Vec<(String, String)>);

/// A bad input: how to set it up (returns the arguments and environment), the exit code and a
/// fragment the one `error: ` line must contain.
struct Case {
    name: &'static str,
    setup: fn(&Ctx) -> Invocation,
    code: i32,
    needle: &'static str,
}

fn args(ctx: &Ctx, extra: &[&str]) -> Invocation {
    (ctx.run_args(extra), Vec::new())
}

fn raw(list: &[&str]) -> Invocation {
    (list.iter().map(|s| s.to_string()).collect(), Vec::new())
}

/// The cases. `ctx.lake` is a valid three-row lake each case may spoil; `ctx.gold` holds a
/// published run of it.
fn cases() -> Vec<Case> {
    vec![
        // ---- command line
        Case {
            name: "unknown job",
            setup: |c| {
                let mut a = c.run_args(&[]);
                a[1] = "no-such-job".into();
                (a, vec![])
            },
            code: 2,
            needle: "no-such-job",
        },
        Case {
            name: "unknown flag",
            setup: |c| args(c, &["--no-such-flag"]),
            code: 2,
            needle: "--no-such-flag",
        },
        Case {
            name: "--set of an unknown parameter",
            setup: |c| args(c, &["--set", "no_such_param=3"]),
            code: 2,
            needle: "no_such_param",
        },
        Case {
            name: "--set with a non-numeric value",
            setup: |c| args(c, &["--set", "hotspot_top=abc"]),
            code: 2,
            needle: "hotspot_top",
        },
        Case {
            name: "--set without '='",
            setup: |c| args(c, &["--set", "hotspot_top"]),
            code: 2,
            needle: "--set",
        },
        Case {
            name: "--parallelism not a number",
            setup: |c| args(c, &["--parallelism", "many"]),
            code: 2,
            needle: "--parallelism",
        },
        Case {
            name: "--log-format unknown",
            setup: |c| args(c, &["--log-format", "xml"]),
            code: 2,
            needle: "xml",
        },
        Case {
            name: "--date that is no date",
            setup: |c| args(c, &["--date", "2021-13-45"]),
            code: 2,
            needle: "--date",
        },
        Case {
            name: "--reports for a job without reports",
            setup: |c| {
                let dir = c.root.join("reports");
                let dir = dir.display().to_string();
                (c.run_args(&["--reports", &dir]), vec![])
            },
            code: 2,
            needle: "--reports",
        },
        Case {
            name: "--key-file for a job without a key",
            setup: |c| {
                let key = c.root.join("key");
                fs::write(&key, "0123456789abcdef0123456789abcdef").unwrap();
                let key = key.display().to_string();
                (c.run_args(&["--key-file", &key]), vec![])
            },
            code: 2,
            needle: "--key-file",
        },
        Case {
            name: "--lock-wait not a number",
            setup: |c| args(c, &["--lock-wait", "soon"]),
            code: 2,
            needle: "--lock-wait",
        },
        // ---- lake files
        Case {
            name: "lake path missing",
            setup: |c| {
                let mut a = c.run_args(&[]);
                a[3] = "/nonexistent/medallion-lake".into();
                (a, vec![])
            },
            code: 2,
            needle: "/nonexistent/medallion-lake",
        },
        Case {
            name: "lake path is a file",
            setup: |c| {
                let file = c.root.join("lake-file");
                fs::write(&file, b"not a folder").unwrap();
                let mut a = c.run_args(&[]);
                a[3] = file.display().to_string();
                (a, vec![])
            },
            code: 2,
            needle: "lake-file",
        },
        Case {
            name: "truncated Parquet file",
            setup: |c| {
                let bytes = parquet_bytes(&silver_batch(&valid_rows()));
                c.add_lake_file("year=2021/part-trunc.parquet", &bytes[..bytes.len() / 2]);
                args(c, &[])
            },
            code: 2,
            needle: "part-trunc.parquet",
        },
        Case {
            name: "Parquet file cut just before its footer magic",
            setup: |c| {
                let bytes = parquet_bytes(&silver_batch(&valid_rows()));
                c.add_lake_file("year=2021/part-cut.parquet", &bytes[..bytes.len() - 1]);
                args(c, &[])
            },
            code: 2,
            needle: "part-cut.parquet",
        },
        Case {
            name: "empty (0-byte) Parquet file",
            setup: |c| {
                c.add_lake_file("year=2021/part-empty.parquet", b"");
                args(c, &[])
            },
            code: 2,
            needle: "part-empty.parquet",
        },
        Case {
            name: "random bytes named .parquet",
            setup: |c| {
                let bytes: Vec<u8> = (0..4096u32)
                    .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                    .collect();
                c.add_lake_file("year=2021/part-noise.parquet", &bytes);
                args(c, &[])
            },
            code: 2,
            needle: "part-noise.parquet",
        },
        Case {
            name: "truncated ORC file",
            setup: |c| {
                fs::remove_dir_all(c.lake.join("accidents")).unwrap();
                let good = orc_bytes(&silver_batch(&valid_rows()));
                c.add_lake_file("year=2021/part-good.orc", &good);
                c.add_lake_file("year=2022/part-trunc.orc", &good[..good.len() / 2]);
                args(c, &[])
            },
            code: 2,
            needle: "part-trunc.orc",
        },
        Case {
            name: "empty (0-byte) ORC file",
            setup: |c| {
                fs::remove_dir_all(c.lake.join("accidents")).unwrap();
                let good = orc_bytes(&silver_batch(&valid_rows()));
                c.add_lake_file("year=2021/part-good.orc", &good);
                c.add_lake_file("year=2022/part-empty.orc", b"");
                args(c, &[])
            },
            code: 2,
            needle: "part-empty.orc",
        },
        Case {
            name: "required column missing",
            setup: |c| {
                let batch = silver_batch_with_schema(&valid_rows(), schema_without(&["severity"]));
                c.add_lake_file("year=2021/part-nosev.parquet", &parquet_bytes(&batch));
                args(c, &[])
            },
            code: 2,
            needle: "severity",
        },
        Case {
            name: "every file without the id column",
            setup: |c| {
                fs::remove_dir_all(c.lake.join("accidents")).unwrap();
                let batch = silver_batch_with_schema(&valid_rows(), schema_without(&["id"]));
                c.add_lake_file("year=2021/part-0.parquet", &parquet_bytes(&batch));
                args(c, &[])
            },
            code: 2,
            needle: "id",
        },
        Case {
            name: "severity as text",
            setup: |c| {
                fs::remove_dir_all(c.lake.join("accidents")).unwrap();
                let batch = with_column_type(&valid_rows(), "severity", DataType::Utf8);
                c.add_lake_file("year=2021/part-0.parquet", &parquet_bytes(&batch));
                args(c, &[])
            },
            code: 2,
            needle: "severity",
        },
        Case {
            name: "start_time as text",
            setup: |c| {
                fs::remove_dir_all(c.lake.join("accidents")).unwrap();
                let batch = with_column_type(&valid_rows(), "start_time", DataType::Utf8);
                c.add_lake_file("year=2021/part-0.parquet", &parquet_bytes(&batch));
                args(c, &[])
            },
            code: 2,
            needle: "start_time",
        },
        Case {
            name: "start_lat as text",
            setup: |c| {
                fs::remove_dir_all(c.lake.join("accidents")).unwrap();
                let batch = with_column_type(&valid_rows(), "start_lat", DataType::Utf8);
                c.add_lake_file("year=2021/part-0.parquet", &parquet_bytes(&batch));
                args(c, &[])
            },
            code: 2,
            needle: "start_lat",
        },
        Case {
            name: "one file with severity as text among good files",
            setup: |c| {
                let batch = with_column_type(&valid_rows(), "severity", DataType::Utf8);
                c.add_lake_file("year=2023/part-text.parquet", &parquet_bytes(&batch));
                args(c, &[])
            },
            code: 2,
            needle: "severity",
        },
        Case {
            name: "lake without the accidents table",
            setup: |c| {
                fs::remove_dir_all(c.lake.join("accidents")).unwrap();
                args(c, &[])
            },
            code: 2,
            needle: "accidents",
        },
        Case {
            name: "accidents folder without data files",
            setup: |c| {
                fs::remove_dir_all(c.lake.join("accidents")).unwrap();
                c.add_lake_file("README.txt", b"nothing here");
                args(c, &[])
            },
            code: 2,
            needle: "accidents",
        },
        // ---- configuration
        Case {
            name: "malformed catalog TOML",
            setup: |c| {
                let catalog = c.root.join("medallion.toml");
                fs::write(&catalog, "[tables.accidents\nformat = ").unwrap();
                let catalog = catalog.display().to_string();
                raw(&["tables", "--catalog", &catalog])
            },
            code: 2,
            needle: "medallion.toml",
        },
        Case {
            name: "catalog TOML with an unknown format",
            setup: |c| {
                let catalog = c.root.join("medallion.toml");
                let lake = c.lake.join("accidents").display().to_string();
                fs::write(
                    &catalog,
                    format!("[tables.accidents]\nurl = \"{lake}\"\nformat = \"csv-ish\"\n"),
                )
                .unwrap();
                let catalog = catalog.display().to_string();
                raw(&["tables", "--catalog", &catalog])
            },
            code: 2,
            needle: "csv-ish",
        },
        Case {
            name: "catalog file missing",
            setup: |c| {
                let catalog = c.root.join("nope.toml").display().to_string();
                raw(&["tables", "--catalog", &catalog])
            },
            code: 2,
            needle: "nope.toml",
        },
        // ---- URLs
        Case {
            name: "sink with an unsupported scheme",
            setup: |c| {
                let mut a = c.run_args(&[]);
                a[5] = "ftp://gold".into();
                (a, vec![])
            },
            code: 2,
            needle: "ftp",
        },
        Case {
            name: "lake with an unsupported scheme",
            setup: |c| {
                let mut a = c.run_args(&[]);
                a[3] = "gopher://host/lake".into();
                (a, vec![])
            },
            code: 2,
            needle: "gopher",
        },
        Case {
            name: "MySQL URL with a bad port",
            setup: |c| {
                let mut a = c.run_args(&[]);
                a[5] = "mysql://root@127.0.0.1:port/gold".into();
                (a, vec![])
            },
            code: 2,
            needle: "port",
        },
        Case {
            name: "MySQL URL without a database",
            setup: |c| {
                let mut a = c.run_args(&[]);
                a[5] = "mysql://root@127.0.0.1:3306".into();
                (a, vec![])
            },
            code: 2,
            needle: "database",
        },
        Case {
            name: "MySQL database name with a quote",
            setup: |c| {
                let mut a = c.run_args(&[]);
                a[5] = "mysql://root@127.0.0.1:3306/gold`;drop".into();
                (a, vec![])
            },
            code: 2,
            needle: "gold`;drop",
        },
        Case {
            name: "unreachable MySQL",
            setup: |c| {
                let mut a = c.run_args(&[]);
                a[5] = "mysql://root:x@127.0.0.1:1/gold".into();
                (a, vec![])
            },
            code: 3,
            needle: "127.0.0.1:1",
        },
        Case {
            name: "unreachable S3 endpoint",
            setup: |c| {
                let mut a = c.run_args(&[]);
                a[3] = "s3://bucket/silver".into();
                (
                    a,
                    vec![
                        ("AWS_ENDPOINT_URL".into(), "http://127.0.0.1:1".into()),
                        ("AWS_ACCESS_KEY_ID".into(), "test".into()),
                        ("AWS_SECRET_ACCESS_KEY".into(), "test".into()),
                        ("AWS_REGION".into(), "us-east-1".into()),
                        ("AWS_ALLOW_HTTP".into(), "true".into()),
                    ],
                )
            },
            code: 3,
            needle: "127.0.0.1:1",
        },
        Case {
            name: "unreachable scheduler",
            setup: |c| {
                let mut a = c.run_args(&[]);
                a[0] = "submit".into();
                a.extend(["--scheduler".to_string(), "df://127.0.0.1:1".to_string()]);
                (a, vec![])
            },
            code: 3,
            needle: "127.0.0.1:1",
        },
        Case {
            name: "scheduler URL with a bad scheme",
            setup: |c| {
                let mut a = c.run_args(&[]);
                a[0] = "submit".into();
                a.extend([
                    "--scheduler".to_string(),
                    "ftp://127.0.0.1:50050".to_string(),
                ]);
                (a, vec![])
            },
            code: 2,
            needle: "ftp://127.0.0.1:50050",
        },
    ]
}

/// Runs the binary with `args` and extra environment.
fn run(args: &[String], env: &[(String, String)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_medallion"));
    command.args(args).env_remove("RUST_LOG");
    for name in [
        "MEDALLION_LAKE",
        "MEDALLION_SINK",
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    ] {
        command.env_remove(name);
    }
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("start the medallion binary")
}

/// What is wrong with `output` for the expected `code` and `needle`, if anything.
fn check_error(output: &Output, code: i32, needle: &str) -> Option<String> {
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() != Some(code) {
        return Some(format!("exit {:?}, expected {code}", output.status.code()));
    }
    if stderr.contains("panicked") {
        return Some("panicked".into());
    }
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    if errors.len() != 1 {
        return Some(format!("{} `error: ` lines", errors.len()));
    }
    if !errors[0].contains(needle) {
        return Some(format!("the error line does not name {needle:?}"));
    }
    // one line, readable: no engine dump or backtrace after it
    if errors[0].len() > 600 {
        return Some(format!("error line of {} characters", errors[0].len()));
    }
    None
}

/// What is wrong with the Gold folder after a failed run, if anything.
async fn check_gold(gold: &Path, before: &BTreeMap<PathBuf, Vec<u8>>) -> Option<String> {
    let after = snapshot(gold);
    if &after != before {
        let changed: Vec<_> = before
            .keys()
            .chain(after.keys())
            .filter(|k| before.get(*k) != after.get(*k))
            .collect();
        return Some(format!("published Gold changed: {changed:?}"));
    }
    let leftovers: Vec<_> = fs::read_dir(gold)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(".staging-") || n.starts_with(".replaced-"))
        .collect();
    if !leftovers.is_empty() {
        return Some(format!("staging left behind: {leftovers:?}"));
    }
    let runs = Gold::open(gold).await;
    for r in runs
        .rows("SELECT status, error FROM pipeline_runs WHERE status <> 'succeeded'")
        .await
    {
        if r[0] != s("failed") || r[1].is_null() {
            return Some(format!("pipeline_runs of a failed run: {r:?}"));
        }
    }
    None
}

#[tokio::test]
async fn bad_inputs_fail_cleanly_and_leave_gold_untouched() {
    let cases = cases();
    assert!(cases.len() >= 30, "issue 9 asks for at least 30 cases");
    // one published run, copied under every case
    let template = tempfile::tempdir().unwrap();
    let lake = write_lake(
        &template.path().join("lake"),
        &valid_rows(),
        Format::Parquet,
    );
    let gold = template.path().join("gold");
    let first = run_datamart(&lake, &gold, &SETTINGS);
    assert_success(&first, "publishing the first run");
    let published = snapshot(&gold);
    for table in GOLD_TABLES {
        assert!(
            published.keys().any(|p| p.starts_with(table)),
            "first run published {table}"
        );
    }
    let mut failures = Vec::new();
    for case in &cases {
        let root = tempfile::tempdir().unwrap();
        let ctx = Ctx {
            root: root.path().to_path_buf(),
            lake: root.path().join("lake"),
            gold: root.path().join("gold"),
        };
        copy_dir(&lake, &ctx.lake);
        copy_dir(&gold, &ctx.gold);
        let (args, env) = (case.setup)(&ctx);
        let output = run(&args, &env);
        let mut problems: Vec<String> = Vec::new();
        problems.extend(check_error(&output, case.code, case.needle));
        problems.extend(check_gold(&ctx.gold, &published).await);
        if !problems.is_empty() {
            failures.push(format!(
                "[{}] {}\n  args: {}\n  stderr:\n{}",
                case.name,
                problems.join("; "),
                args.join(" "),
                String::from_utf8_lossy(&output.stderr)
                    .lines()
                    .map(|l| format!("    {l}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} bad-input cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// Odd but valid data: processed, or rejected with a count (SPEC section 2)
// ---------------------------------------------------------------------------------------------

/// Runs the datamart on `rows` (Parquet) and returns the Gold folder, asserting success.
async fn run_rows(root: &Path, rows: &[Accident], fill_others: bool) -> Gold {
    let lake = write_lake_full(&root.join("lake"), rows, Format::Parquet, fill_others);
    let gold = root.join("gold");
    let output = run_datamart(&lake, &gold, &SETTINGS);
    assert_success(&output, "run");
    Gold::open(&gold).await
}

async fn run_record(gold: &Gold) -> (i64, i64) {
    let rows = gold
        .rows("SELECT CAST(rows_read AS BIGINT), CAST(rows_rejected AS BIGINT) FROM pipeline_runs")
        .await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    (rows[0][0].as_i64().unwrap(), rows[0][1].as_i64().unwrap())
}

/// Severity 0, 5 and NULL are rejected and counted (SPEC 2: "severity outside 1..4 is rejected,
/// counted and reported"), and so are rows without id... state or start_time; the rest is processed.
#[tokio::test]
async fn out_of_range_severities_are_rejected_and_counted() {
    let root = tempfile::tempdir().unwrap();
    let mut rows = valid_rows();
    rows.push(row("s0", Some(0), Some("2021-03-05 08:15:00")));
    rows.push(row("s5", Some(5), Some("2021-03-05 08:15:00")));
    rows.push(row("snull", None, Some("2021-03-05 08:15:00")));
    rows.push(row("tnull", Some(2), None));
    rows.push(Accident {
        state: None,
        ..row("nostate", Some(2), Some("2021-03-05 08:15:00"))
    });
    let gold = run_rows(root.path(), &rows, false).await;
    // 8 read, 5 rejected: s0, s5, snull, tnull, nostate
    assert_eq!(run_record(&gold).await, (8, 5));
    let ids = gold
        .rows("SELECT id FROM accidents_summary ORDER BY id")
        .await;
    assert_rows(
        "accepted ids",
        &ids,
        &[vec![s("a1")], vec![s("a2")], vec![s("a3")]],
    );
    // kpis_weather shares are over accepted accidents only: 3 clear/mild = 100 %
    let weather = gold
        .rows("SELECT weather_category, accident_count, share_pct FROM kpis_weather")
        .await;
    assert_rows(
        "kpis_weather",
        &weather,
        &[vec![s("clear"), i(3), f(100.0)]],
    );
}

/// Dates in 1900 and 2100 are valid timestamps: processed, with their years in kpis_temporal.
#[tokio::test]
async fn dates_in_1900_and_2100_are_processed() {
    let root = tempfile::tempdir().unwrap();
    let rows = vec![
        row("old", Some(2), Some("1900-01-01 00:00:00")),
        row("new", Some(4), Some("2100-12-31 23:59:59")),
    ];
    let gold = run_rows(root.path(), &rows, false).await;
    assert_eq!(run_record(&gold).await, (2, 0));
    let dates = gold
        .rows(
            "SELECT id, CAST(accident_date AS VARCHAR), CAST(accident_hour AS BIGINT) \
             FROM accidents_summary ORDER BY id",
        )
        .await;
    assert_rows(
        "accident dates",
        &dates,
        &[
            vec![s("new"), s("2100-12-31"), i(23)],
            vec![s("old"), s("1900-01-01"), i(0)],
        ],
    );
    let years = gold
        .rows(
            "SELECT period_value, accident_count FROM kpis_temporal \
             WHERE period_type = 'yearly' AND state IS NULL ORDER BY period_value",
        )
        .await;
    assert_rows(
        "yearly rows",
        &years,
        &[vec![s("1900"), i(1)], vec![s("2100"), i(1)]],
    );
}

/// Columns that are NULL in every row (weather, temperature, city, coordinates, flags) are valid:
/// categories `unknown`, no city rows, no hotspots, flags counted as false.
#[tokio::test]
async fn all_null_columns_are_processed() {
    let root = tempfile::tempdir().unwrap();
    let blank = |id, severity| Accident::optional_columns_null(id, severity, "2021-03-05 08:15:00");
    let gold = run_rows(root.path(), &[blank("n1", 1), blank("n2", 3)], false).await;
    assert_eq!(run_record(&gold).await, (2, 0));
    let weather = gold
        .rows(
            "SELECT weather_category, temperature_category, accident_count, severity_avg, share_pct \
             FROM kpis_weather",
        )
        .await;
    // avg(1, 3) = 2; both rows = 100 %
    assert_rows(
        "kpis_weather",
        &weather,
        &[vec![s("unknown"), s("unknown"), i(2), f(2.0), f(100.0)]],
    );
    assert_eq!(
        gold.count("hotspots").await,
        0,
        "no coordinates, no hotspot"
    );
    let security = gold
        .rows("SELECT state, city, accident_count FROM kpis_security")
        .await;
    assert_rows(
        "kpis_security: the state row only",
        &security,
        &[vec![s("CA"), NULL, i(2)]],
    );
    let infra = gold
        .rows(
            "SELECT CAST(accidents_with AS BIGINT), CAST(accidents_without AS BIGINT) \
             FROM kpis_infrastructure WHERE flag = 'traffic_signal'",
        )
        .await;
    assert_rows("NULL flags count as false", &infra, &[vec![i(0), i(2)]]);
}

/// A 100 000-character city and weather condition go through unchanged.
#[tokio::test]
async fn very_long_strings_are_processed() {
    let root = tempfile::tempdir().unwrap();
    let city: &'static str = Box::leak("Q".repeat(100_000).into_boxed_str());
    let weather: &'static str = Box::leak(format!("{} Rain", "x".repeat(100_000)).into_boxed_str());
    let rows = vec![Accident {
        city: Some(city),
        weather_condition: Some(weather),
        ..row("long", Some(2), Some("2021-03-05 08:15:00"))
    }];
    let gold = run_rows(root.path(), &rows, false).await;
    let got = gold
        .rows("SELECT CAST(length(city) AS BIGINT), weather_category FROM accidents_summary")
        .await;
    assert_rows("long strings", &got, &[vec![i(100_000), s("rain")]]);
}

/// Extra columns besides the Silver schema are ignored: the Gold tables are those of the same
/// rows without them.
#[tokio::test]
async fn extra_columns_are_ignored() {
    let root = tempfile::tempdir().unwrap();
    let plain = run_rows(&root.path().join("plain"), &valid_rows(), false).await;
    let batch = silver_batch(&valid_rows());
    let mut fields: Vec<Field> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(Field::new("comment_extra", DataType::Utf8, true));
    let mut columns = batch.columns().to_vec();
    columns.push(Arc::new(StringArray::from(vec!["x", "y", "z"])));
    let wide = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
    let lake = root.path().join("wide/lake");
    write_file(
        &lake.join("accidents/year=2021/part-0.parquet"),
        &wide,
        Format::Parquet,
    );
    let gold_dir = root.path().join("wide/gold");
    assert_success(&run_datamart(&lake, &gold_dir, &SETTINGS), "wide run");
    let wide = Gold::open(&gold_dir).await;
    for table in GOLD_TABLES {
        // every column but last_updated, which differs between runs
        let columns: Vec<String> = plain
            .columns(table)
            .await
            .into_iter()
            .filter(|c| c != "last_updated")
            .map(|c| format!("\"{c}\""))
            .collect();
        let list = columns.join(", ");
        let sql = format!("SELECT {list} FROM {table} ORDER BY {list}");
        let (a, b) = (plain.rows(&sql).await, wide.rows(&sql).await);
        assert_rows(table, &b, &a);
    }
}

/// A valid Parquet file with no row next to the others changes nothing.
#[tokio::test]
async fn an_empty_parquet_file_is_an_empty_part() {
    let root = tempfile::tempdir().unwrap();
    let lake = write_lake(&root.path().join("lake"), &valid_rows(), Format::Parquet);
    write_file(
        &lake.join("accidents/year=2023/part-0.parquet"),
        &RecordBatch::new_empty(accidents_schema()),
        Format::Parquet,
    );
    let gold_dir = root.path().join("gold");
    assert_success(&run_datamart(&lake, &gold_dir, &SETTINGS), "run");
    let gold = Gold::open(&gold_dir).await;
    assert_eq!(run_record(&gold).await, (3, 0));
    assert_eq!(gold.count("accidents_summary").await, 3);
}

/// Duplicate ids (SPEC 2 calls `id` unique but gives no rule for a repeated one): each row is an
/// accident of its own — processed, not rejected, not merged — so nothing is silently dropped.
/// (A MySQL sink refuses two rows with the same id *and* date through its primary key; see the
/// README's Reliability section.)
#[tokio::test]
async fn duplicate_ids_are_processed_as_rows_of_their_own() {
    let root = tempfile::tempdir().unwrap();
    let mut rows = valid_rows();
    rows.push(row("a1", Some(4), Some("2021-06-05 08:15:00")));
    let gold = run_rows(root.path(), &rows, false).await;
    // 4 read, none rejected
    assert_eq!(run_record(&gold).await, (4, 0));
    let ids = gold
        .rows("SELECT id, severity FROM accidents_summary ORDER BY id, severity")
        .await;
    assert_rows(
        "both a1 rows kept",
        &ids,
        &[
            vec![s("a1"), i(2)],
            vec![s("a1"), i(4)],
            vec![s("a2"), i(3)],
            vec![s("a3"), i(1)],
        ],
    );
    // the state row counts 4 accidents: avg severity (2 + 3 + 1 + 4) / 4 = 2.5
    let state = gold
        .rows("SELECT accident_count, severity_avg FROM kpis_security WHERE city IS NULL")
        .await;
    assert_rows("CA", &state, &[vec![i(4), f(2.5)]]);
}

// ---------------------------------------------------------------------------------------------
// Bronze CSV ingest
// ---------------------------------------------------------------------------------------------

const BRONZE_HEADER: &str = "ID,Severity,Start_Time,State,City";

fn ingest(root: &Path, csv: &[u8]) -> (Output, PathBuf) {
    let input = root.join("bronze.csv");
    fs::write(&input, csv).unwrap();
    let out = root.join("silver");
    let output = medallion(&[
        "ingest",
        "accidents",
        "--input",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    (output, out)
}

/// Non-UTF-8 bytes in a Bronze row: that row is rejected with reason `invalid UTF-8`, counted,
/// and the others are ingested.
#[test]
fn non_utf8_bronze_rows_are_rejected_and_counted() {
    let root = tempfile::tempdir().unwrap();
    let mut csv = format!("{BRONZE_HEADER}\nA-1,2,2021-01-02 03:04:05,CA,Reno\n").into_bytes();
    csv.extend_from_slice(b"A-2,2,2021-01-02 03:04:05,CA,S\xe3o \xff Paulo\n");
    csv.extend_from_slice(b"A-3,3,2021-01-02 03:04:05,NV,Reno\n");
    let (output, _) = ingest(root.path(), &csv);
    assert_success(&output, "ingest");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("read 3 rows: 2 accepted, 1 rejected"),
        "{stdout}"
    );
    assert!(stdout.contains("invalid UTF-8"), "{stdout}");
}

/// Bronze files that cannot be ingested at all: exit 2 and the file named.
#[test]
fn unusable_bronze_files_are_exit_2() {
    let root = tempfile::tempdir().unwrap();
    for (name, csv, needle) in [
        (
            "no State column",
            &b"ID,Severity,Start_Time\nA,1,2021-01-01 00:00:00\n"[..],
            "State",
        ),
        ("empty file", &b""[..], "bronze.csv"),
        (
            "binary noise",
            &b"\x00\x01\x02PAR1\xff\xfe"[..],
            "bronze.csv",
        ),
    ] {
        let (output, _) = ingest(root.path(), csv);
        if let Some(problem) = check_error(&output, 2, needle) {
            panic!(
                "{name}: {problem}\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
    let missing = medallion(&[
        "ingest",
        "accidents",
        "--input",
        "/nonexistent/bronze.csv",
        "--out",
        root.path().join("x").to_str().unwrap(),
    ]);
    assert_eq!(check_error(&missing, 2, "/nonexistent/bronze.csv"), None);
}
