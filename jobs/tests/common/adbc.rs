//! The real ADBC Flight SQL driver, driven through `tests/adbc/probe.py`.
//!
//! The Python interpreter is `MEDALLION_TEST_PYTHON` (set by `.ci/run`), else the venv `.ci/run`
//! makes, else `python3`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The Python that has the ADBC driver.
pub fn python() -> PathBuf {
    if let Ok(python) = std::env::var("MEDALLION_TEST_PYTHON") {
        return PathBuf::from(python);
    }
    let venv = std::env::var("HOME")
        .map(|home| PathBuf::from(home).join(".cache/medallion-venv/ci/bin/python"))
        .ok();
    venv.filter(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("python3"))
}

/// Runs `probes` with ADBC against the Flight SQL server at `uri` (`grpc://…`, `grpc+tls://…`);
/// one result per probe.
pub fn probe(uri: &str, probes: &Value, work: &Path) -> Vec<Value> {
    let file = work.join("probes.json");
    fs::write(&file, probes.to_string()).expect("write the probes");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/adbc/probe.py");
    let output = Command::new(python())
        .arg(script)
        .arg(uri)
        .arg(&file)
        .output()
        .expect("start python");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "probe.py failed (needs adbc-driver-flightsql and pyarrow: `bash .ci/run` installs them; \
         or set MEDALLION_TEST_PYTHON):\n{stderr}"
    );
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("probe.py printed no JSON ({e}):\n{stderr}"))
}
