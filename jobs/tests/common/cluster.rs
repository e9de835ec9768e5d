//! Real cluster processes for the integration tests: a `medallion-scheduler` and
//! `medallion-executor`s on free loopback ports, killed when dropped.
//!
//! The scheduler and executor binaries are taken from the folder of the `medallion` binary; when
//! they are missing they are built there with `cargo build -p medallion-scheduler -p
//! medallion-executor` (CI builds them before the tests).

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// The `medallion` binary under test.
pub fn medallion_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_medallion"))
}

/// `medallion-scheduler` or `medallion-executor`, next to the `medallion` binary (or in
/// `MEDALLION_TEST_CLUSTER_BIN_DIR` when set, e.g. a copy safe from a shared target folder's other
/// builds); built once when missing.
pub fn cluster_bin(name: &str) -> PathBuf {
    if let Ok(dir) = std::env::var("MEDALLION_TEST_CLUSTER_BIN_DIR") {
        return Path::new(&dir).join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    }
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
pub fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind a free port"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().expect("local address").port())
        .collect()
}

/// A child process killed (SIGKILL) and reaped when dropped; its output goes to `log`.
pub struct Proc {
    /// What the process is, for messages.
    pub name: String,
    /// The process.
    pub child: Child,
    /// Its stdout and stderr.
    pub log: PathBuf,
}

impl Proc {
    /// Starts `command` with its output in `log`.
    pub fn spawn(name: &str, mut command: Command, log: PathBuf) -> Self {
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
    pub fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "{} exited early ({status}):\n{}",
                self.name,
                tail(&self.log, 40)
            );
        }
    }

    /// SIGKILL, as when a machine dies.
    pub fn kill(&mut self) {
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
pub fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A minimal HTTP/1.1 request to a loopback server; returns the status code and the body.
pub fn http(port: u16, method: &str, path: &str, body: &[u8]) -> std::io::Result<(u16, String)> {
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
pub fn wait_until(
    what: &str,
    timeout: Duration,
    procs: &mut [&mut Proc],
    ready: impl Fn() -> bool,
) {
    let started = Instant::now();
    while !ready() {
        for proc in procs.iter_mut() {
            proc.assert_running();
        }
        assert!(started.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The command line of a test scheduler on `port` that is ready with `min_ready` executors.
fn scheduler_command(
    port: u16,
    min_ready: usize,
    scheduler_args: &[&str],
    env: &[(&str, &str)],
) -> Command {
    let mut command = Command::new(cluster_bin("medallion-scheduler"));
    command
        .args(["--bind-host", "127.0.0.1", "--external-host", "127.0.0.1"])
        .args(["--bind-port", &port.to_string()])
        .args(["--min-ready-executors", &min_ready.to_string()])
        // medallion-scheduler's own defaults notice a dead executor within ~12 s (README,
        // Reliability): the tests run with them.
        .args(["--log-level-setting", "info"])
        .args(scheduler_args)
        .envs(env.iter().copied())
        .env_remove("RUST_LOG");
    command
}

/// A scheduler and its executors on loopback ports, stopped when dropped.
pub struct Cluster {
    /// Logs and executor work folders.
    pub dir: TempDir,
    /// The scheduler's port (gRPC, REST, and Flight SQL when enabled).
    pub port: u16,
    /// The scheduler process.
    pub scheduler: Proc,
    /// The executor processes.
    pub executors: Vec<Proc>,
}

impl Cluster {
    /// Starts a scheduler (with `scheduler_args` added to its command line) and `executors`
    /// executors with 2 task slots each, with `env` set for all, and waits until every executor
    /// has registered.
    pub fn start_with(executors: usize, scheduler_args: &[&str], env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let ports = free_ports(1 + 3 * executors);
        let port = ports[0];
        let command = scheduler_command(port, executors, scheduler_args, env);
        let scheduler = Proc::spawn("scheduler", command, dir.path().join("scheduler.log"));
        let mut cluster = Self {
            port,
            scheduler,
            executors: Vec::new(),
            dir,
        };
        for i in 0..executors {
            let work = cluster.work_dir(i);
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
                .args(["--log-level-setting", "info"])
                .envs(env.iter().copied())
                .env_remove("RUST_LOG");
            let log = cluster.dir.path().join(format!("executor-{i}.log"));
            cluster
                .executors
                .push(Proc::spawn(&format!("executor {i}"), command, log));
        }
        cluster.wait_ready();
        cluster
    }

    /// Kills the scheduler and starts a new one on the same port with the same command line (the
    /// executors stay up and register again by their heartbeats), then waits until it is ready.
    pub fn restart_scheduler(&mut self, scheduler_args: &[&str], env: &[(&str, &str)]) {
        self.scheduler.kill();
        let command = scheduler_command(self.port, self.executors.len(), scheduler_args, env);
        let log = self.dir.path().join("scheduler-restarted.log");
        self.scheduler = Proc::spawn("restarted scheduler", command, log);
        self.wait_ready();
    }

    /// Starts a scheduler only, ready once `min_ready` executors (started by the caller) registered.
    pub fn start_scheduler_only(min_ready: usize) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_ports(1)[0];
        let command = scheduler_command(port, min_ready, &[], &[]);
        let scheduler = Proc::spawn("scheduler", command, dir.path().join("scheduler.log"));
        Self {
            port,
            scheduler,
            executors: Vec::new(),
            dir,
        }
    }

    /// Waits until the scheduler has its minimum of ready executors, checking every process is
    /// alive.
    pub fn wait_ready(&mut self) {
        let port = self.port;
        let Cluster {
            scheduler,
            executors,
            ..
        } = self;
        let mut all: Vec<&mut Proc> = vec![scheduler];
        all.extend(executors.iter_mut());
        wait_until(
            "the executors to register",
            Duration::from_secs(60),
            &mut all,
            || matches!(http(port, "GET", "/readyz", b""), Ok((200, _))),
        );
    }

    /// The work folder (shuffle files) of executor `i`.
    pub fn work_dir(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("executor-{i}"))
    }

    /// The `--scheduler` URL.
    pub fn url(&self) -> String {
        format!("df://127.0.0.1:{}", self.port)
    }

    /// The end of every process's log, for assertion messages.
    pub fn logs(&self) -> String {
        let mut text = format!("--- scheduler\n{}\n", tail(&self.scheduler.log, 30));
        for e in &self.executors {
            text.push_str(&format!("--- {}\n{}\n", e.name, tail(&e.log, 30)));
        }
        text
    }
}
