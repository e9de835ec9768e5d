//! Cluster mode with real processes: one `medallion-scheduler` and two `medallion-executor`s on free
//! loopback ports, the `medallion` CLI submitting to them, and the Gold tables compared with an
//! embedded `medallion run` of the same lake (every column but `last_updated`, rows sorted, doubles
//! to 10 significant digits since the cluster sums in another order).
//!
//! The scheduler and executor binaries are taken from the folder of the `medallion` binary; when they
//! are missing they are built there with `cargo build -p medallion-scheduler -p medallion-executor`
//! (CI builds them before the tests, so this is for `cargo test -p medallion-jobs --test cluster`).
//!
//! The S3 test starts `moto_server` (PyPI `moto[server]`) on loopback; it fails with the install
//! line when `moto_server` is not on the PATH.

use std::collections::BTreeMap;
use std::fs;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Float32Type, Float64Type};
use datafusion::arrow::util::display::array_value_to_string;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use tempfile::TempDir;

mod common;

use common::cluster::{Cluster, Proc, free_ports, http, medallion_bin, wait_until};
use common::{Accident, Format, GOLD_TABLES, write_lake};

/// How long one `medallion` command may take before the test gives up on it.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(300);

/// Held by each test that starts a cluster, so that a 2-core machine runs one cluster at a time.
static ONE_CLUSTER_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

// ---------------------------------------------------------------------------------------------
// The medallion CLI

/// What a finished `medallion` command left.
struct Finished {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Finished {
    fn assert_ok(&self, what: &str) {
        assert_eq!(
            self.code,
            Some(0),
            "{what} failed\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
    }

    /// Exit `code`, no panic, and exactly one stderr line starting with `error: `, the last one,
    /// which starts with `error: {start}`.
    fn assert_one_error_line(&self, code: i32, start: &str) {
        assert_eq!(self.code, Some(code), "exit code\n{}", self.stderr);
        assert!(!self.stderr.contains("panicked"), "panic\n{}", self.stderr);
        let errors: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| l.starts_with("error: "))
            .collect();
        assert_eq!(errors.len(), 1, "one error line\n{}", self.stderr);
        assert_eq!(
            self.stderr.lines().rfind(|l| !l.trim().is_empty()),
            Some(errors[0]),
            "the error line ends stderr\n{}",
            self.stderr
        );
        assert!(
            errors[0].starts_with(&format!("error: {start}")),
            "expected `error: {start}…`, got\n{}",
            self.stderr
        );
    }
}

/// A `medallion` command with its output in files under `dir`, started in the background.
struct Running {
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Running {
    fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        static COUNTER: OnceLock<Mutex<u32>> = OnceLock::new();
        let n = {
            let mut c = COUNTER
                .get_or_init(|| Mutex::new(0))
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            *c += 1;
            *c
        };
        let stdout = dir.join(format!("medallion-{n}.out"));
        let stderr = dir.join(format!("medallion-{n}.err"));
        let child = Command::new(medallion_bin())
            .args(args)
            .envs(env.iter().copied())
            .env_remove("RUST_LOG")
            .stdout(Stdio::from(fs::File::create(&stdout).expect("stdout file")))
            .stderr(Stdio::from(fs::File::create(&stderr).expect("stderr file")))
            .spawn()
            .expect("start medallion");
        Self {
            child,
            stdout,
            stderr,
        }
    }

    /// Waits for the command, killing it after `timeout`.
    fn wait(mut self, timeout: Duration) -> Finished {
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("poll medallion") {
                break Some(status);
            }
            if started.elapsed() > timeout {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let finished = Finished {
            code: status.and_then(|s| s.code()),
            stdout: fs::read_to_string(&self.stdout).unwrap_or_default(),
            stderr: fs::read_to_string(&self.stderr).unwrap_or_default(),
        };
        assert!(
            status.is_some(),
            "medallion did not finish within {timeout:?}\nstderr:\n{}",
            finished.stderr
        );
        finished
    }
}

/// Runs `medallion ARGS` to completion.
fn medallion(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Finished {
    Running::start(dir, args, env).wait(COMMAND_TIMEOUT)
}

/// Generates a lake of `rows` accidents in `format` under `dir`.
fn generate_lake(work: &Path, dir: &Path, rows: u64, format: &str) {
    let dir = dir.to_str().expect("utf-8 path");
    medallion(
        work,
        &[
            "generate",
            "accidents",
            "--rows",
            &rows.to_string(),
            "--format",
            format,
            "--out",
            dir,
        ],
        &[],
    )
    .assert_ok("generate");
}

/// `medallion run` of the datamart: embedded, 2 task slots.
fn run_embedded(work: &Path, lake: &str, gold: &Path, env: &[(&str, &str)]) -> Finished {
    let sink = format!("file://{}", gold.display());
    medallion(
        work,
        &[
            "run",
            "accidents-datamart",
            "--lake",
            lake,
            "--sink",
            &sink,
            "--no-progress",
            "--parallelism",
            "2",
        ],
        env,
    )
}

/// The arguments of `medallion submit` of the datamart.
fn submit_args(cluster: &Cluster, lake: &str, gold: &Path) -> Vec<String> {
    [
        "submit",
        "accidents-datamart",
        "--scheduler",
        &cluster.url(),
        "--lake",
        lake,
        "--sink",
        &format!("file://{}", gold.display()),
        "--no-progress",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn submit(cluster: &Cluster, work: &Path, lake: &str, gold: &Path) -> Finished {
    let args = submit_args(cluster, lake, gold);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    medallion(work, &args, &[])
}

/// The Ballista job ids a successful submit printed.
fn job_ids(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("Ballista jobs:"))
        .map(|ids| ids.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Gold tables

/// One Gold table as comparable text: the column names, then every row (without `last_updated`)
/// with doubles to 10 significant digits, sorted.
async fn gold_table(gold: &Path, table: &str) -> (Vec<String>, Vec<String>) {
    let ctx = SessionContext::new();
    let dir = gold.join(table);
    let df = ctx
        .read_parquet(format!("{}/", dir.display()), ParquetReadOptions::default())
        .await
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()));
    let batches = df.collect().await.expect("collect the Gold table");
    let mut names = Vec::new();
    let mut rows = Vec::new();
    for batch in &batches {
        let keep: Vec<usize> = (0..batch.num_columns())
            .filter(|&c| batch.schema().field(c).name() != "last_updated")
            .collect();
        if names.is_empty() {
            names = keep
                .iter()
                .map(|&c| batch.schema().field(c).name().clone())
                .collect();
        }
        for row in 0..batch.num_rows() {
            let cells: Vec<String> = keep
                .iter()
                .map(|&c| cell(batch.column(c).as_ref(), row))
                .collect();
            rows.push(cells.join(" | "));
        }
    }
    rows.sort();
    (names, rows)
}

fn cell(column: &dyn Array, row: usize) -> String {
    if column.is_null(row) {
        return "NULL".to_string();
    }
    match column.data_type() {
        DataType::Float64 => format!("{:.9e}", column.as_primitive::<Float64Type>().value(row)),
        DataType::Float32 => format!("{:.6e}", column.as_primitive::<Float32Type>().value(row)),
        _ => array_value_to_string(column, row).unwrap_or_else(|e| format!("<{e}>")),
    }
}

/// Whether two printed rows are equal, numbers within 1e-6 relative (a sum or a correlation
/// combined in another order on the cluster can differ in its last printed digit).
fn same_row(expected: &str, actual: &str) -> bool {
    let (e, a): (Vec<&str>, Vec<&str>) = (
        expected.split(" | ").collect(),
        actual.split(" | ").collect(),
    );
    e.len() == a.len()
        && e.iter().zip(&a).all(|(x, y)| {
            x == y
                || matches!((x.parse::<f64>(), y.parse::<f64>()), (Ok(x), Ok(y))
                    if (x - y).abs() <= 1e-6 * x.abs().max(y.abs()))
        })
}

/// The Gold tables of SPEC 3b (anomalies, correlations, insights), which may be empty here.
const SPEC_3B_TABLES: [&str; 3] = ["kpis_anomalies", "kpis_correlations", "insights"];

/// Asserts that both sinks hold the same Gold tables, each with rows (but see
/// [`SPEC_3B_TABLES`]).
async fn assert_same_gold(expected: &Path, actual: &Path) {
    assert_same_gold_except_empty(expected, actual, &[]).await;
}

/// [`assert_same_gold`], where the tables named in `empty` must have no rows in either sink.
async fn assert_same_gold_except_empty(expected: &Path, actual: &Path, empty: &[&str]) {
    for table in GOLD_TABLES {
        let (names_e, rows_e) = gold_table(expected, table).await;
        let (names_a, rows_a) = gold_table(actual, table).await;
        assert_eq!(names_e, names_a, "{table}: columns differ");
        // the SPEC 3b tables find nothing on lakes this small (min_rows = 30): compared, maybe empty
        if !SPEC_3B_TABLES.contains(&table) {
            assert_eq!(
                rows_e.is_empty(),
                empty.contains(&table),
                "{table}: the embedded run wrote {} rows",
                rows_e.len()
            );
        }
        assert_eq!(rows_e.len(), rows_a.len(), "{table}: row counts differ");
        if let Some((e, a)) = rows_e.iter().zip(&rows_a).find(|(e, a)| !same_row(e, a)) {
            panic!("{table}: first differing row\nembedded: {e}\ncluster:  {a}");
        }
    }
}

/// Every file under the Gold tables of `gold` (not `pipeline_runs`, which records each run), with
/// its bytes.
fn snapshot(gold: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if let Ok(bytes) = fs::read(&path) {
                let relative = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
                out.insert(relative, bytes);
            }
        }
    }
    let mut files = BTreeMap::new();
    for table in GOLD_TABLES {
        walk(&gold.join(table), gold, &mut files);
    }
    files
}

// ---------------------------------------------------------------------------------------------
// Tests

/// A cluster run gives the same Gold as an embedded run, for a Parquet and an ORC lake (the ORC run
/// with three Gold tables' jobs at once, `--concurrency 3`); the job ids it prints are known to
/// `medallion status`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_gives_the_embedded_gold_for_parquet_and_orc_lakes() {
    let _one = ONE_CLUSTER_AT_A_TIME.lock().await;
    let work = tempfile::tempdir().expect("temp dir");
    let cluster = Cluster::start_with(2, &[], &[]);
    for format in ["parquet", "orc"] {
        let lake = work.path().join(format!("lake-{format}"));
        generate_lake(work.path(), &lake, 20_000, format);
        let lake = lake.to_str().expect("utf-8 path");
        let embedded = work.path().join(format!("gold-embedded-{format}"));
        run_embedded(work.path(), lake, &embedded, &[]).assert_ok("embedded run");
        let clustered = work.path().join(format!("gold-cluster-{format}"));
        let mut args = submit_args(&cluster, lake, &clustered);
        if format == "orc" {
            args.extend(["--concurrency".to_string(), "3".to_string()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let submitted = medallion(work.path(), &args, &[]);
        if submitted.code != Some(0) {
            panic!(
                "submit ({format}) failed\nstderr:\n{}\n{}",
                submitted.stderr,
                cluster.logs()
            );
        }
        assert_same_gold(&embedded, &clustered).await;

        let ids = job_ids(&submitted.stdout);
        assert!(
            ids.len() >= GOLD_TABLES.len(),
            "one Ballista job per Gold table at least, got {ids:?}\n{}",
            submitted.stdout
        );
        let status = medallion(
            work.path(),
            &["status", &ids[0], "--scheduler", &cluster.url()],
            &[],
        );
        status.assert_ok("status of a finished job");
        assert!(
            status.stdout.contains(&ids[0]) && status.stdout.contains("succeeded"),
            "{}",
            status.stdout
        );
    }
    let unknown = medallion(
        work.path(),
        &["status", "no-such-job", "--scheduler", &cluster.url()],
        &[],
    );
    unknown.assert_one_error_line(2, "invalid JOB_ID: the scheduler at");
    assert!(unknown.stderr.contains("knows no job 'no-such-job'"));
}

/// Optional columns that are NULL in every row (city, coordinates, weather, temperature, flags):
/// the cluster's Gold equals the embedded run's. Ballista 55's scheduler hangs on this lake
/// without medallion-executor's work-around (`stable_metrics`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_null_optional_columns_give_the_embedded_gold() {
    let _one = ONE_CLUSTER_AT_A_TIME.lock().await;
    let work = tempfile::tempdir().expect("temp dir");
    let cluster = Cluster::start_with(2, &[], &[]);
    let blank = Accident::optional_columns_null;
    let rows = [
        blank("n1", 1, "2021-03-05 08:15:00"),
        blank("n2", 3, "2021-03-06 09:15:00"),
        blank("n3", 4, "2022-07-01 18:00:00"),
    ];
    let lake = write_lake(&work.path().join("lake"), &rows, Format::Parquet);
    let lake = lake.to_str().expect("utf-8 path");
    let embedded = work.path().join("gold-embedded");
    run_embedded(work.path(), lake, &embedded, &[]).assert_ok("embedded run");
    let clustered = work.path().join("gold-cluster");
    let submitted = submit(&cluster, work.path(), lake, &clustered);
    if submitted.code != Some(0) {
        panic!(
            "submit failed\nstderr:\n{}\n{}",
            submitted.stderr,
            cluster.logs()
        );
    }
    // no coordinates, no hotspot
    assert_same_gold_except_empty(&embedded, &clustered, &["hotspots"]).await;
}

/// No scheduler at the address: exit code 3 and one line, at once.
#[test]
fn an_unreachable_scheduler_is_exit_code_3_and_one_line() {
    let work = tempfile::tempdir().expect("temp dir");
    let started = Instant::now();
    let gold = work.path().join("gold");
    let sink = format!("file://{}", gold.display());
    let submitted = medallion(
        work.path(),
        &[
            "submit",
            "accidents-datamart",
            "--scheduler",
            "df://127.0.0.1:1",
            "--lake",
            "/nonexistent/lake",
            "--sink",
            &sink,
            "--no-progress",
        ],
        &[],
    );
    submitted.assert_one_error_line(3, "cannot reach Ballista scheduler at df://127.0.0.1:1");
    let status = medallion(
        work.path(),
        &["status", "abc", "--scheduler", "df://127.0.0.1:1"],
        &[],
    );
    status.assert_one_error_line(3, "cannot reach Ballista scheduler at df://127.0.0.1:1");
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(
        !gold.exists(),
        "nothing is written for a run that cannot start"
    );
}

// An executor killed mid-run: `executor_loss.rs`.

// ---------------------------------------------------------------------------------------------
// S3 (moto_server on loopback)

/// A `moto_server` S3 endpoint on a free loopback port.
struct Moto {
    port: u16,
    _proc: Proc,
    _dir: TempDir,
}

/// An S3 access key moto enforces, made through its IAM API.
struct S3Key {
    id: String,
    secret: String,
}

impl S3Key {
    /// A key for a moto_server that does not check signatures.
    fn any() -> Self {
        Self {
            id: "test".into(),
            secret: "test".into(),
        }
    }
}

impl Moto {
    fn start() -> Self {
        Self::start_with_env(&[])
    }

    /// A moto_server that checks request signatures: its first requests (unsigned) make an IAM user
    /// with full access and an access key, returned; then unsigned requests use up the rest of the
    /// unchecked ones, so that every later request must be signed with the key.
    fn start_enforcing_credentials() -> (Self, S3Key) {
        let moto = Self::start_with_env(&[("INITIAL_NO_AUTH_ACTION_COUNT", "10")]);
        let script = r#"
import sys, boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="setup", aws_secret_access_key="setup")
iam.create_user(UserName="lake")
iam.put_user_policy(UserName="lake", PolicyName="all", PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}')
key = iam.create_access_key(UserName="lake")["AccessKey"]
for _ in range(20):
    try:
        iam.list_users()
    except Exception:
        break
else:
    sys.exit("moto never started checking signatures")
print(key["AccessKeyId"], key["SecretAccessKey"])
"#;
        let output = Command::new("python3")
            .args(["-c", script, &moto.endpoint()])
            .output()
            .expect("run python3 with boto3 (installed with moto)");
        assert!(
            output.status.success(),
            "IAM setup failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        let mut words = stdout.split_whitespace();
        let (Some(id), Some(secret)) = (words.next(), words.next()) else {
            panic!("IAM setup printed no key: {stdout}");
        };
        let key = S3Key {
            id: id.to_string(),
            secret: secret.to_string(),
        };
        (moto, key)
    }

    fn start_with_env(env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_ports(1)[0];
        if let Err(e) = Command::new("moto_server").arg("--help").output() {
            panic!(
                "moto_server cannot be started ({e}): install it with `pip install 'moto[server]'`"
            );
        }
        let mut command = Command::new("moto_server");
        command
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .envs(env.iter().copied());
        let mut proc = Proc::spawn("moto_server", command, dir.path().join("moto.log"));
        wait_until(
            "moto_server",
            Duration::from_secs(60),
            &mut [&mut proc],
            || http(port, "GET", "/", b"").is_ok(),
        );
        Self {
            port,
            _proc: proc,
            _dir: dir,
        }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        self.env_with_key(&S3Key::any())
    }

    /// The environment of a medallion process that signs its S3 requests with `key`.
    fn env_with_key(&self, key: &S3Key) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", key.id.clone()),
            ("AWS_SECRET_ACCESS_KEY", key.secret.clone()),
            ("AWS_REGION", "us-east-1".to_string()),
        ]
    }

    /// Creates `bucket` (moto accepts an unsigned CreateBucket).
    fn create_bucket(&self, bucket: &str) {
        let (code, body) =
            http(self.port, "PUT", &format!("/{bucket}"), b"").expect("create the bucket");
        assert_eq!(code, 200, "CreateBucket: {body}");
    }

    /// Uploads every file under `local` to `s3://bucket/prefix/` with medallion's own S3 client.
    async fn upload(&self, local: &Path, bucket: &str, prefix: &str) {
        let key = S3Key::any();
        let settings = medallion_core::object_stores::S3Settings {
            endpoint: Some(self.endpoint()),
            region: Some("us-east-1".into()),
            access_key_id: Some(key.id.clone()),
            secret_access_key: Some(key.secret.clone()),
            allow_http: true,
            ..Default::default()
        };
        let store = settings.builder(bucket).build().expect("S3 client");
        upload_tree(&store, local, prefix).await;
    }
}

/// A lake in an S3 bucket (moto_server) gives the same Gold as the same lake on disk, embedded and
/// on a cluster whose executors read S3 themselves; a missing bucket and an unreachable endpoint are
/// one-line errors with exit code 3. (moto accepts any credentials, so wrong credentials cannot be
/// shown here; they map to the same one-line "access denied" error, see `object_stores`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_s3_lake_gives_the_local_gold_and_clear_errors() {
    let _one = ONE_CLUSTER_AT_A_TIME.lock().await;
    let work = tempfile::tempdir().expect("temp dir");
    let local = work.path().join("lake");
    generate_lake(work.path(), &local, 20_000, "parquet");
    let moto = Moto::start();
    moto.create_bucket("medallion-lake");
    moto.upload(&local, "medallion-lake", "silver").await;
    let env_owned = moto.env();
    let env: Vec<(&str, &str)> = env_owned.iter().map(|(k, v)| (*k, v.as_str())).collect();

    let local_gold = work.path().join("gold-local");
    run_embedded(
        work.path(),
        local.to_str().expect("utf-8"),
        &local_gold,
        &[],
    )
    .assert_ok("local run");
    let s3_gold = work.path().join("gold-s3");
    run_embedded(work.path(), "s3://medallion-lake/silver", &s3_gold, &env).assert_ok("S3 run");
    assert_same_gold(&local_gold, &s3_gold).await;

    let cluster = Cluster::start_with(2, &[], &env);
    let cluster_gold = work.path().join("gold-s3-cluster");
    let args = submit_args(&cluster, "s3://medallion-lake/silver", &cluster_gold);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let submitted = medallion(work.path(), &args, &env);
    if submitted.code != Some(0) {
        panic!(
            "submit of the S3 lake failed\nstderr:\n{}\n{}",
            submitted.stderr,
            cluster.logs()
        );
    }
    assert_same_gold(&local_gold, &cluster_gold).await;

    let missing = run_embedded(
        work.path(),
        "s3://no-such-bucket/silver",
        &work.path().join("gold-missing"),
        &env,
    );
    missing.assert_one_error_line(
        3,
        "cannot reach S3 at s3://no-such-bucket/silver/accidents/: bucket 'no-such-bucket' does not exist",
    );

    let mut unreachable_env = env.clone();
    unreachable_env.retain(|(k, _)| *k != "AWS_ENDPOINT_URL");
    unreachable_env.push(("AWS_ENDPOINT_URL", "http://127.0.0.1:1"));
    let unreachable = run_embedded(
        work.path(),
        "s3://medallion-lake/silver",
        &work.path().join("gold-unreachable"),
        &unreachable_env,
    );
    unreachable.assert_one_error_line(
        3,
        "cannot reach S3 at s3://medallion-lake/silver/accidents/",
    );
}

/// Uploads every file under `local` to `prefix/` of `store`.
async fn upload_tree(
    store: &dyn datafusion::object_store::ObjectStore,
    local: &Path,
    prefix: &str,
) {
    use datafusion::object_store::{ObjectStoreExt, PutPayload, path::Path as StorePath};
    let mut stack = vec![local.to_path_buf()];
    let mut uploaded = 0;
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).expect("read the lake").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let relative = path.strip_prefix(local).expect("under the lake");
            let key = format!("{}/{}", prefix.trim_matches('/'), relative.display());
            let bytes = fs::read(&path).expect("read a lake file");
            store
                .put(&StorePath::from(key.as_str()), PutPayload::from(bytes))
                .await
                .unwrap_or_else(|e| panic!("upload {key}: {e}"));
            uploaded += 1;
        }
    }
    assert!(uploaded > 0, "no lake file uploaded");
}

/// The environment variable naming a real HDFS folder for [`a_real_hdfs_lake_gives_the_local_gold`].
const HDFS_TEST_ENV: &str = "MEDALLION_TEST_HDFS";

/// Against a real namenode (`MEDALLION_TEST_HDFS=hdfs://namenode:8020/tmp/medallion-test`, see the
/// README): a lake uploaded there gives the same Gold as on disk, embedded and on a cluster.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a real HDFS namenode: set MEDALLION_TEST_HDFS=hdfs://HOST:PORT/PATH (README, 'HDFS')"]
async fn a_real_hdfs_lake_gives_the_local_gold() {
    let Ok(root) = std::env::var(HDFS_TEST_ENV) else {
        panic!("set {HDFS_TEST_ENV}=hdfs://HOST:PORT/PATH to run this test");
    };
    let _one = ONE_CLUSTER_AT_A_TIME.lock().await;
    let url = url::Url::parse(&root).unwrap_or_else(|e| panic!("{HDFS_TEST_ENV}={root}: {e}"));
    let work = tempfile::tempdir().expect("temp dir");
    let local = work.path().join("lake");
    generate_lake(work.path(), &local, 20_000, "parquet");
    let stores = medallion_core::object_stores::LakeStores::new(Default::default());
    let store = datafusion::execution::object_store::ObjectStoreRegistry::get_store(&stores, &url)
        .unwrap_or_else(|e| panic!("HDFS store for {root}: {e}"));
    let run = format!(
        "{}/run-{}",
        url.path().trim_end_matches('/'),
        std::process::id()
    );
    upload_tree(store.as_ref(), &local, &run).await;
    let lake = format!("{}{}", root.trim_end_matches(url.path()), run);

    let local_gold = work.path().join("gold-local");
    run_embedded(
        work.path(),
        local.to_str().expect("utf-8"),
        &local_gold,
        &[],
    )
    .assert_ok("local run");
    let hdfs_gold = work.path().join("gold-hdfs");
    run_embedded(work.path(), &lake, &hdfs_gold, &[]).assert_ok("HDFS run");
    assert_same_gold(&local_gold, &hdfs_gold).await;
    let cluster = Cluster::start_with(2, &[], &[]);
    let cluster_gold = work.path().join("gold-hdfs-cluster");
    let args = submit_args(&cluster, &lake, &cluster_gold);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    medallion(work.path(), &args, &[]).assert_ok("submit of the HDFS lake");
    assert_same_gold(&local_gold, &cluster_gold).await;
}

/// Wrong S3 credentials (a server that checks signatures): exit code 3, one line, no secret shown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_s3_credentials_are_exit_code_3_and_one_line() {
    let work = tempfile::tempdir().expect("temp dir");
    let (moto, key) = Moto::start_enforcing_credentials();
    // the bucket, made with the key
    let create = Command::new("python3")
        .args([
            "-c",
            "import sys, boto3; boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', \
             aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3]).create_bucket(Bucket='locked-lake')",
            &moto.endpoint(),
            &key.id,
            &key.secret,
        ])
        .output()
        .expect("python3");
    assert!(
        create.status.success(),
        "CreateBucket: {}",
        String::from_utf8_lossy(&create.stderr)
    );
    // (no control run with the right key: moto's signature check also rejects object_store's
    // listing requests, whose prefix is percent-encoded; the S3 lake test covers reading a lake)
    let wrong_secret = "wrong-secret-Zq81";
    let bad_env = moto.env_with_key(&S3Key {
        id: key.id.clone(),
        secret: wrong_secret.to_string(),
    });
    let bad: Vec<(&str, &str)> = bad_env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let gold = work.path().join("gold-denied");
    let denied = run_embedded(work.path(), "s3://locked-lake/silver", &gold, &bad);
    denied.assert_one_error_line(3, "cannot reach S3 at s3://locked-lake/silver/accidents/");
    assert!(
        denied.stderr.contains("access denied"),
        "the error says why\n{}",
        denied.stderr
    );
    assert!(
        !denied.stderr.contains(wrong_secret) && !denied.stdout.contains(wrong_secret),
        "the secret was shown: {}",
        denied.stderr
    );
    assert!(
        !gold.join("accidents_summary").exists(),
        "nothing is published"
    );
}

/// The scheduler restarted between two jobs: the executors register with the new one and the next
/// submit publishes the same Gold; a submit while no scheduler runs is exit 3 and leaves the
/// published Gold untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduler_restarted_between_jobs_serves_the_next_one() {
    let _one = ONE_CLUSTER_AT_A_TIME.lock().await;
    let work = tempfile::tempdir().expect("temp dir");
    let lake = work.path().join("lake");
    generate_lake(work.path(), &lake, 20_000, "parquet");
    let lake = lake.to_str().expect("utf-8");
    let expected = work.path().join("gold-embedded");
    run_embedded(work.path(), lake, &expected, &[]).assert_ok("embedded run");

    let mut cluster = Cluster::start_with(2, &[], &[]);
    let gold = work.path().join("gold");
    submit(&cluster, work.path(), lake, &gold).assert_ok("first submit");
    let published = snapshot(&gold);

    cluster.scheduler.kill();
    let down = submit(&cluster, work.path(), lake, &gold);
    down.assert_one_error_line(3, "cannot reach Ballista scheduler at");
    assert_eq!(
        snapshot(&gold),
        published,
        "a refused submit changed the Gold"
    );

    cluster.restart_scheduler(&[], &[]);
    let again = submit(&cluster, work.path(), lake, &gold);
    if again.code != Some(0) {
        panic!(
            "submit after the restart failed\nstderr:\n{}\n{}",
            again.stderr,
            cluster.logs()
        );
    }
    assert_same_gold(&expected, &gold).await;
}

/// A stock Ballista executor (no medallion codecs or UDFs) cannot run medallion's tasks: the run
/// fails with one clear error line and a non-zero exit, and nothing is published.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_executor_without_medallion_codecs_fails_the_run_clearly() {
    let _one = ONE_CLUSTER_AT_A_TIME.lock().await;
    let work = tempfile::tempdir().expect("temp dir");
    let lake = work.path().join("lake");
    generate_lake(work.path(), &lake, 2_000, "orc");
    let mut cluster = Cluster::start_scheduler_only(1);
    let scheduler_port = cluster.port;
    wait_until(
        "the scheduler to listen",
        Duration::from_secs(60),
        &mut [&mut cluster.scheduler],
        || TcpStream::connect(("127.0.0.1", scheduler_port)).is_ok(),
    );
    let ports = free_ports(2);
    let plain = ballista_executor::executor_process::ExecutorProcessConfig {
        bind_host: "127.0.0.1".into(),
        external_host: Some("127.0.0.1".into()),
        port: ports[0],
        grpc_port: ports[1],
        scheduler_host: "127.0.0.1".into(),
        scheduler_port: cluster.port,
        vcores: 1,
        work_dir: Some(work.path().join("plain-work").display().to_string()),
        ..Default::default()
    };
    let executor = tokio::spawn(ballista_executor::executor_process::start_executor_process(
        Arc::new(plain),
    ));
    tokio::time::sleep(Duration::from_secs(3)).await;
    if executor.is_finished() {
        panic!("the stock executor stopped: {:?}", executor.await);
    }
    cluster.wait_ready();
    let gold = work.path().join("gold");
    let args = submit_args(&cluster, lake.to_str().expect("utf-8"), &gold);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let finished = medallion(work.path(), &args, &[]);
    executor.abort();
    finished.assert_one_error_line(1, "");
    assert!(
        finished.stderr.contains("medallion-executor"),
        "the error says which executor is needed\n{}",
        finished.stderr
    );
    assert!(
        !gold.join("accidents_summary").exists(),
        "nothing is published"
    );
}

/// An HDFS lake whose namenode does not answer: exit code 3 and one line naming HDFS.
#[test]
fn an_unreachable_namenode_is_exit_code_3_and_one_line() {
    let work = tempfile::tempdir().expect("temp dir");
    let finished = run_embedded(
        work.path(),
        "hdfs://127.0.0.1:1/lake",
        &work.path().join("gold"),
        &[],
    );
    finished.assert_one_error_line(3, "cannot reach HDFS at hdfs://127.0.0.1:1/lake/accidents/");
}
