//! A `mariadbd` of the test's own (data folder, socket, free loopback port), for tests that kill
//! the server or start it with settings of their own (TLS); killed when dropped.

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A private MariaDB server.
pub struct PrivateMariaDb {
    dir: PathBuf,
    /// Its loopback port.
    pub port: u16,
    extra_args: Vec<String>,
    child: Option<Child>,
}

impl PrivateMariaDb {
    /// Initialises a data folder under `dir` and starts the server with `extra_args` besides the
    /// usual ones; `None` (the test then says it is skipped) when the MariaDB binaries are missing.
    pub fn start(dir: &Path, extra_args: &[String]) -> Option<Self> {
        let data = dir.join("data");
        fs::create_dir_all(&data).expect("data folder");
        let installed = Command::new("mariadb-install-db")
            .arg(format!("--datadir={}", data.display()))
            .args(["--user=root", "--auth-root-authentication-method=normal"])
            .args(["--skip-test-db", "--no-defaults"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .ok()?;
        if !installed.success() {
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let mut server = Self {
            dir: dir.to_path_buf(),
            port,
            extra_args: extra_args.to_vec(),
            child: None,
        };
        server.launch();
        Some(server)
    }

    /// Starts (or restarts) the server and waits until it accepts connections.
    pub fn launch(&mut self) {
        let log = self.dir.join("mariadbd.log");
        let child = Command::new("mariadbd")
            .arg("--no-defaults")
            .arg(format!("--datadir={}", self.dir.join("data").display()))
            .arg(format!("--socket={}", self.dir.join("sock").display()))
            .arg(format!("--pid-file={}", self.dir.join("pid").display()))
            .arg(format!("--port={}", self.port))
            .args([
                "--bind-address=127.0.0.1",
                "--user=root",
                "--skip-name-resolve",
                "--local-infile=1",
                "--innodb-buffer-pool-size=32M",
                "--skip-log-bin",
            ])
            .args(&self.extra_args)
            .stdout(Stdio::null())
            .stderr(Stdio::from(fs::File::create(&log).expect("log")))
            .spawn()
            .expect("start mariadbd");
        self.child = Some(child);
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "private mariadbd did not start:\n{}",
                fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGKILL, as when the server's machine dies.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The URL of database `db` as root (no password).
    pub fn url(&self, db: &str) -> String {
        format!("mysql://root@127.0.0.1:{}/{db}", self.port)
    }
}

impl Drop for PrivateMariaDb {
    fn drop(&mut self) {
        self.kill();
    }
}
