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
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Float32Type, Float64Type};
use datafusion::arrow::util::display::array_value_to_string;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use tempfile::TempDir;

/// The Gold tables of the accidents datamart.
const GOLD_TABLES: [&str; 6] = [
    "accidents_summary",
    "kpis_security",
    "kpis_temporal",
    "hotspots",
    "kpis_weather",
    "kpis_infrastructure",
];

/// How long one `medallion` command may take before the test gives up on it.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(300);

// ---------------------------------------------------------------------------------------------
// Binaries and processes

/// The `medallion` binary under test.
fn medallion_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_medallion"))
}

/// `medallion-scheduler` or `medallion-executor`, next to the `medallion` binary; built once when
/// missing.
fn cluster_bin(name: &str) -> PathBuf {
    static BUILD: Mutex<bool> = Mutex::new(false);
    let medallion = medallion_bin();
    let dir = medallion.parent().expect("the binary has a folder");
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let mut built = BUILD.lock().unwrap_or_else(|p| p.into_inner());
    if !path.exists() && !*built {
        let target_dir = dir.parent().expect("the profile folder has a parent");
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("the jobs crate is in the workspace");
        let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cargo
            .current_dir(workspace)
            .args([
                "build",
                "-p",
                "medallion-scheduler",
                "-p",
                "medallion-executor",
            ])
            .arg("--target-dir")
            .arg(target_dir);
        if dir.file_name().is_some_and(|n| n == "release") {
            cargo.arg("--release");
        }
        let status = cargo.status().expect("run cargo build");
        assert!(status.success(), "building the cluster binaries failed");
        *built = true;
    }
    assert!(
        path.exists(),
        "{} is missing: run `cargo build -p medallion-scheduler -p medallion-executor`",
        path.display()
    );
    path
}

/// `n` distinct free loopback ports.
fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind a free port"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().expect("local address").port())
        .collect()
}

/// A child process killed (SIGKILL) and reaped when dropped; its output goes to `log`.
struct Proc {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Proc {
    fn spawn(name: &str, mut command: Command, log: PathBuf) -> Self {
        let file = fs::File::create(&log).expect("create the log file");
        let err = file.try_clone().expect("clone the log file");
        command.stdout(Stdio::from(file)).stderr(Stdio::from(err));
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
        Self {
            name: name.to_string(),
            child,
            log,
        }
    }

    /// Panics with the log when the process has exited.
    fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "{} exited early ({status}):\n{}",
                self.name,
                tail(&self.log, 40)
            );
        }
    }

    /// SIGKILL, as when a machine dies.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The last `lines` lines of a log file.
fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A minimal HTTP/1.1 request to a loopback server; returns the status code and the body.
fn http(port: u16, method: &str, path: &str, body: &[u8]) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let text = String::from_utf8_lossy(&response).to_string();
    let code = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((code, body))
}

/// Waits until `ready` is true, checking `procs` are alive; panics after `timeout`.
fn wait_until(what: &str, timeout: Duration, procs: &mut [&mut Proc], ready: impl Fn() -> bool) {
    let started = Instant::now();
    while !ready() {
        for proc in procs.iter_mut() {
            proc.assert_running();
        }
        assert!(started.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A scheduler and its executors on loopback ports, stopped when dropped.
struct Cluster {
    dir: TempDir,
    port: u16,
    scheduler: Proc,
    executors: Vec<Proc>,
}

impl Cluster {
    /// Starts a scheduler and `executors` executors with 2 task slots each, with `env` set for all,
    /// and waits until every executor has registered.
    fn start(executors: usize, env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let ports = free_ports(1 + 3 * executors);
        let port = ports[0];
        let mut command = Command::new(cluster_bin("medallion-scheduler"));
        command
            .args(["--bind-host", "127.0.0.1", "--external-host", "127.0.0.1"])
            .args(["--bind-port", &port.to_string()])
            .args(["--min-ready-executors", &executors.to_string()])
            // Notice a dead executor within seconds rather than minutes.
            .args(["--executor-timeout-seconds", "10"])
            .args(["--expire-dead-executor-interval-seconds", "2"])
            .args(["--log-level-setting", "info"])
            .envs(env.iter().copied())
            .env_remove("RUST_LOG");
        let scheduler = Proc::spawn("scheduler", command, dir.path().join("scheduler.log"));
        let mut cluster = Self {
            port,
            scheduler,
            executors: Vec::new(),
            dir,
        };
        for i in 0..executors {
            let work = cluster.dir.path().join(format!("executor-{i}"));
            fs::create_dir_all(&work).expect("work dir");
            let p = &ports[1 + 3 * i..4 + 3 * i];
            let mut command = Command::new(cluster_bin("medallion-executor"));
            command
                .args(["--scheduler-host", "127.0.0.1"])
                .args(["--scheduler-port", &port.to_string()])
                .args(["--bind-host", "127.0.0.1", "--external-host", "127.0.0.1"])
                .args(["--bind-port", &p[0].to_string()])
                .args(["--bind-grpc-port", &p[1].to_string()])
                .args(["--bind-health-port", &p[2].to_string()])
                .args(["--vcores", "2", "--memory-pool-size", "1GiB"])
                .arg("--work-dir")
                .arg(&work)
                .args(["--scheduler-connect-timeout-seconds", "30"])
                .args(["--executor-heartbeat-interval-seconds", "2"])
                .args(["--log-level-setting", "info"])
                .envs(env.iter().copied())
                .env_remove("RUST_LOG");
            let log = cluster.dir.path().join(format!("executor-{i}.log"));
            cluster
                .executors
                .push(Proc::spawn(&format!("executor {i}"), command, log));
        }
        let Cluster {
            scheduler,
            executors: procs,
            ..
        } = &mut cluster;
        let mut all: Vec<&mut Proc> = vec![scheduler];
        all.extend(procs.iter_mut());
        wait_until(
            "the executors to register",
            Duration::from_secs(60),
            &mut all,
            || matches!(http(port, "GET", "/readyz", b""), Ok((200, _))),
        );
        cluster
    }

    /// The `--scheduler` URL.
    fn url(&self) -> String {
        format!("df://127.0.0.1:{}", self.port)
    }

    /// The end of every process's log, for assertion messages.
    fn logs(&self) -> String {
        let mut text = format!("--- scheduler\n{}\n", tail(&self.scheduler.log, 30));
        for e in &self.executors {
            text.push_str(&format!("--- {}\n{}\n", e.name, tail(&e.log, 30)));
        }
        text
    }
}

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

/// Asserts that both sinks hold the same Gold tables.
async fn assert_same_gold(expected: &Path, actual: &Path) {
    for table in GOLD_TABLES {
        let (names_e, rows_e) = gold_table(expected, table).await;
        let (names_a, rows_a) = gold_table(actual, table).await;
        assert_eq!(names_e, names_a, "{table}: columns differ");
        assert!(
            !rows_e.is_empty(),
            "{table}: the embedded run wrote no rows"
        );
        assert_eq!(rows_e.len(), rows_a.len(), "{table}: row counts differ");
        if let Some((e, a)) = rows_e.iter().zip(&rows_a).find(|(e, a)| e != a) {
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

/// A cluster run gives the same Gold as an embedded run, for a Parquet and an ORC lake; the job ids
/// it prints are known to `medallion status`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_gives_the_embedded_gold_for_parquet_and_orc_lakes() {
    let work = tempfile::tempdir().expect("temp dir");
    let cluster = Cluster::start(2, &[]);
    for format in ["parquet", "orc"] {
        let lake = work.path().join(format!("lake-{format}"));
        generate_lake(work.path(), &lake, 20_000, format);
        let lake = lake.to_str().expect("utf-8 path");
        let embedded = work.path().join(format!("gold-embedded-{format}"));
        run_embedded(work.path(), lake, &embedded, &[]).assert_ok("embedded run");
        let clustered = work.path().join(format!("gold-cluster-{format}"));
        let submitted = submit(&cluster, work.path(), lake, &clustered);
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

/// An executor killed with SIGKILL while a job runs: the run either completes with the embedded
/// Gold, or fails with one clear error line and leaves the previously published Gold untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_executor_never_leaves_half_published_gold() {
    let work = tempfile::tempdir().expect("temp dir");
    let lake = work.path().join("lake");
    generate_lake(work.path(), &lake, 300_000, "parquet");
    let lake = lake.to_str().expect("utf-8 path");
    let mut cluster = Cluster::start(2, &[]);
    let gold = work.path().join("gold");
    let first = submit(&cluster, work.path(), lake, &gold);
    if first.code != Some(0) {
        panic!(
            "first submit failed\nstderr:\n{}\n{}",
            first.stderr,
            cluster.logs()
        );
    }
    let published = snapshot(&gold);
    assert!(!published.is_empty());

    let args = submit_args(&cluster, lake, &gold);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let second = Running::start(work.path(), &args, &[]);
    // Kill an executor once the run's first Ballista job is under way.
    let started = Instant::now();
    while !fs::read_to_string(&second.stderr)
        .unwrap_or_default()
        .contains("Ballista job submitted")
    {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the second run submitted no job"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(1500));
    cluster.executors[0].kill();
    let second = second.wait(COMMAND_TIMEOUT);

    eprintln!(
        "the run that lost an executor ended with {:?}: {}",
        second.code,
        second.stderr.lines().last().unwrap_or_default()
    );
    if second.code == Some(0) {
        let embedded = work.path().join("gold-embedded");
        run_embedded(work.path(), lake, &embedded, &[]).assert_ok("embedded run");
        assert_same_gold(&embedded, &gold).await;
    } else {
        second.assert_one_error_line(1, "job 'accidents-datamart' failed");
        assert_eq!(
            snapshot(&gold),
            published,
            "a failed run changed the published Gold\n{}",
            second.stderr
        );
    }
    let leftovers: Vec<String> = fs::read_dir(&gold)
        .expect("gold folder")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(".staging") || n.starts_with(".replaced"))
        .collect();
    assert!(leftovers.is_empty(), "staging left behind: {leftovers:?}");
}

// ---------------------------------------------------------------------------------------------
// S3 (moto_server on loopback)

/// A `moto_server` S3 endpoint on a free loopback port.
struct Moto {
    port: u16,
    _proc: Proc,
    _dir: TempDir,
}

impl Moto {
    fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_ports(1)[0];
        if let Err(e) = Command::new("moto_server").arg("--help").output() {
            panic!(
                "moto_server cannot be started ({e}): install it with `pip install 'moto[server]'`"
            );
        }
        let mut command = Command::new("moto_server");
        command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
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
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", "test".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "test".to_string()),
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
        use datafusion::object_store::{ObjectStoreExt, PutPayload, path::Path as StorePath};
        let settings = medallion_core::object_stores::S3Settings {
            endpoint: Some(self.endpoint()),
            region: Some("us-east-1".into()),
            access_key_id: Some("test".into()),
            secret_access_key: Some("test".into()),
            allow_http: true,
            ..Default::default()
        };
        let store = settings.builder(bucket).build().expect("S3 client");
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
                let key = format!("{prefix}/{}", relative.display());
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
}

/// A lake in an S3 bucket (moto_server) gives the same Gold as the same lake on disk, embedded and
/// on a cluster whose executors read S3 themselves; a missing bucket and an unreachable endpoint are
/// one-line errors with exit code 3. (moto accepts any credentials, so wrong credentials cannot be
/// shown here; they map to the same one-line "access denied" error, see `object_stores`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_s3_lake_gives_the_local_gold_and_clear_errors() {
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

    let cluster = Cluster::start(2, &env);
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
