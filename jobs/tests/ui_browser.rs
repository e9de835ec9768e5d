//! `medallion ui` in a real headless Chromium (issue 27). Real runs of the datamart go into a
//! MariaDB database (two that publish, one that fails with a bad parameter), a run submitted to a
//! scheduler without executors stays queued there, and `medallion ui` serves both. Debian's
//! `chromium` is driven through `chromedriver`'s W3C WebDriver HTTP API (a minimal client below):
//! the test loads the overview and asserts the job, the statuses, the failure's error line, the
//! charts and the running job filled in by the page's script; then follows a run's link to its
//! Gold tables' row counts. Nothing on the page may come from the internet.
//!
//! The overview's screenshot is written to the test's temp folder, and to the path in
//! `MEDALLION_UI_SCREENSHOT` when set (the README's `docs/ui.png` is made that way). The test
//! fails, with the install line, when `chromium` or `chromedriver` is missing (`.ci/run` installs
//! them).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

mod common;

use common::cluster::{Cluster, Proc, free_ports, medallion_bin};
use common::mysql_db::TestDb;

/// How long the browser may take to show something.
const BROWSER_WAIT: Duration = Duration::from_secs(30);

/// The Chromium binary: Debian's, without its launcher script when possible.
fn chromium() -> PathBuf {
    for candidate in ["/usr/lib/chromium/chromium", "/usr/bin/chromium"] {
        if Path::new(candidate).is_file() {
            return PathBuf::from(candidate);
        }
    }
    panic!("chromium is missing: apt-get install -y chromium chromium-driver (as .ci/run does)");
}

/// `medallion ARGS` to its end.
fn medallion(args: &[&str]) -> std::process::Output {
    Command::new(medallion_bin())
        .args(args)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("run medallion")
}

/// A child process killed when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A minimal W3C WebDriver client of one browser session.
struct Browser {
    http: reqwest::Client,
    session: String,
    _driver: Killed,
}

impl Browser {
    /// Starts `chromedriver` on a free port and a headless Chromium session with no network
    /// access beyond loopback needed.
    async fn start() -> Self {
        let port = free_ports(1)[0];
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "chromedriver cannot start ({e}): apt-get install -y chromium chromium-driver \
                     (as .ci/run does)"
                )
            });
        let driver = Killed(driver);
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client");
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while http.get(format!("{base}/status")).send().await.is_err() {
            assert!(
                started.elapsed() < BROWSER_WAIT,
                "chromedriver did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium(),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1280,1500",
                         "--hide-scrollbars"]
            }
        }}});
        let response = json_of(
            http.post(format!("{base}/session"))
                .body(capabilities.to_string())
                .send()
                .await
                .expect("new session"),
        )
        .await;
        let session = response["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {response}"))
            .to_string();
        Self {
            http,
            session: format!("{base}/session/{session}"),
            _driver: driver,
        }
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let response = json_of(
            self.http
                .post(format!("{}{path}", self.session))
                .body(body.to_string())
                .send()
                .await
                .unwrap_or_else(|e| panic!("WebDriver {path}: {e}")),
        )
        .await;
        if response["value"]["error"].is_string() {
            panic!("WebDriver {path}: {response}");
        }
        response["value"].clone()
    }

    async fn get(&self, path: &str) -> Value {
        let response = json_of(
            self.http
                .get(format!("{}{path}", self.session))
                .send()
                .await
                .unwrap_or_else(|e| panic!("WebDriver {path}: {e}")),
        )
        .await;
        response["value"].clone()
    }

    async fn open(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    /// The value of `script` (a function body) in the page.
    async fn eval(&self, script: &str) -> Value {
        self.post("/execute/sync", json!({ "script": script, "args": [] }))
            .await
    }

    /// Waits until `script` returns true in the page.
    async fn wait_for(&self, what: &str, script: &str) {
        let started = Instant::now();
        while self.eval(script).await != Value::Bool(true) {
            if started.elapsed() > BROWSER_WAIT {
                let text = self.eval("return document.body.innerText").await;
                panic!(
                    "the page never showed {what}; it shows:\n{}",
                    text.as_str().unwrap_or("")
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn screenshot(&self) -> Vec<u8> {
        let png = self.get("/screenshot").await;
        base64::engine::general_purpose::STANDARD
            .decode(png.as_str().expect("base64 PNG"))
            .expect("decode the screenshot")
    }

    async fn close(&self) {
        let _ = self.http.delete(&self.session).send().await;
    }
}

/// A WebDriver answer's JSON (reqwest is built without its `json` feature).
async fn json_of(response: reqwest::Response) -> Value {
    let bytes = response.bytes().await.expect("a WebDriver answer");
    serde_json::from_slice(&bytes).expect("WebDriver answers JSON")
}

/// Starts `medallion ui` on a free port and returns it with its URL.
fn start_ui(sink: &str, scheduler: &str, log: &Path) -> (Killed, String) {
    let mut child = Command::new(medallion_bin())
        .args([
            "ui",
            "--sink",
            sink,
            "--scheduler",
            scheduler,
            "--port",
            "0",
        ])
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(std::fs::File::create(log).expect("log")))
        .spawn()
        .expect("start medallion ui");
    let stdout = child.stdout.take().expect("stdout");
    let child = Killed(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("the address line");
    let url = line
        .trim()
        .strip_prefix("medallion ui on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    (child, url)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_page_shows_runs_failures_charts_and_running_jobs_in_chromium() {
    let db = TestDb::create("ui").await;
    let sink = db.root_url();
    let work = tempfile::tempdir().expect("temp dir");
    let lake = work.path().join("lake").display().to_string();
    let output = medallion(&["generate", "accidents", "--rows", "3000", "--out", &lake]);
    assert!(output.status.success(), "generate");
    // two published runs, then one that fails after the sink was prepared (LIMIT -1)
    for extra in [&[][..], &[], &["--set", "hotspot_top=-1"]] {
        let mut args = vec![
            "run",
            "accidents-datamart",
            "--lake",
            &lake,
            "--sink",
            &sink,
        ];
        args.extend(["--no-progress"]);
        args.extend(extra);
        let output = medallion(&args);
        assert_eq!(
            output.status.success(),
            extra.is_empty(),
            "{args:?}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let runs = db.runs().await;
    assert_eq!(runs.len(), 3, "{runs:?}");
    let error = runs[2].1.clone().expect("the failure's error");
    let error_line = error.lines().next().expect("a line").to_string();

    // a scheduler without executors: a submitted run's first job stays queued there
    let mut scheduler = Cluster::start_scheduler_only(0);
    scheduler.wait_ready();
    let queued_gold = work.path().join("queued-gold");
    let submit = Proc::spawn(
        "queued submit",
        {
            let mut c = Command::new(medallion_bin());
            c.args([
                "submit",
                "accidents-datamart",
                "--scheduler",
                &scheduler.url(),
            ])
            .args(["--lake", &lake, "--no-progress", "--sink"])
            .arg(format!("file://{}", queued_gold.display()))
            .env_remove("RUST_LOG");
            c
        },
        work.path().join("submit.log"),
    );

    let (_ui, url) = start_ui(&sink, &scheduler.url(), &work.path().join("ui.log"));
    let browser = Browser::start().await;
    browser.open(&url).await;
    browser
        .wait_for(
            "the queued job in the running table",
            "return document.querySelectorAll('#running-jobs tr.running-job').length > 0",
        )
        .await;
    let text = browser.eval("return document.body.innerText").await;
    let text = text.as_str().expect("text").to_string();
    assert!(text.contains("accidents-datamart"), "{text}");
    assert!(
        text.contains("succeeded") && text.contains("failed"),
        "{text}"
    );
    assert!(
        text.contains(&error_line),
        "the failure's error line {error_line:?}\n{text}"
    );
    let running = browser
        .eval(
            "var r = document.querySelector('#running-jobs tr.running-job'); \
             return [r.getAttribute('data-job-id'), r.innerText];",
        )
        .await;
    let running_text = running[1].as_str().unwrap_or_default();
    assert!(running_text.contains("accidents-datamart"), "{running}");
    assert!(
        running_text.contains("Queued") || running_text.contains("Running"),
        "{running}"
    );
    assert!(running_text.contains('/'), "stage progress: {running}");
    // the charts: a duration and a quality sparkline for the job, one dot per run with a value
    let charts = browser
        .eval(
            "return ['duration', 'quality'].map(function (k) { \
               var svg = document.querySelector('[data-job=\"accidents-datamart\"] svg.chart-' + k); \
               return svg ? svg.querySelectorAll('circle').length : -1; })",
        )
        .await;
    assert_eq!(
        charts,
        json!([3, 2]),
        "dots of the duration and quality charts"
    );
    let failed_dots = browser
        .eval("return document.querySelectorAll('svg.chart-duration circle.failed').length")
        .await;
    assert_eq!(failed_dots, json!(1));
    // nothing is loaded from anywhere but the page's own server
    let external = browser
        .eval(
            "return performance.getEntriesByType('resource').map(function (e) { return e.name; }) \
               .filter(function (n) { return n.indexOf(location.origin) !== 0; })",
        )
        .await;
    assert_eq!(external, json!([]), "resources from elsewhere");

    let png = browser.screenshot().await;
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    std::fs::write(work.path().join("ui.png"), &png).expect("write the screenshot");
    if let Ok(path) = std::env::var("MEDALLION_UI_SCREENSHOT") {
        std::fs::write(&path, &png).expect("write MEDALLION_UI_SCREENSHOT");
    }

    // a run's link leads to its Gold tables' row counts
    browser
        .eval(
            "Array.from(document.querySelectorAll('tr.run')) \
               .find(function (r) { return r.querySelector('.status.succeeded'); }) \
               .querySelector('a[href^=\"/run/\"]').click(); return true;",
        )
        .await;
    browser
        .wait_for(
            "the run's Gold tables",
            "return document.querySelectorAll('tr.gold-table').length > 0",
        )
        .await;
    let tables = browser
        .eval(
            "return Array.from(document.querySelectorAll('tr.gold-table')).map(function (r) { \
               return [r.getAttribute('data-table'), r.cells[1].innerText]; })",
        )
        .await;
    let tables = tables.as_array().expect("rows").clone();
    assert_eq!(tables.len(), 9, "nine Gold tables: {tables:?}");
    let summary = tables
        .iter()
        .find(|t| t[0] == "accidents_summary")
        .expect("accidents_summary");
    let rows: u64 = summary[1].as_str().unwrap_or("0").parse().expect("a count");
    assert!(rows > 2000, "accidents_summary rows: {rows}");
    browser.close().await;
    drop(submit);
}
