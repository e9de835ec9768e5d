//! The rejects file of an ingest: `line,reason,raw` for every rejected record, written to a
//! temporary file and renamed into place when the ingest succeeds.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use medallion_core::{Error, Result};

use super::parse::Reject;

/// Writes rejected records and counts them per reason.
pub struct RejectsWriter {
    path: PathBuf,
    tmp: PathBuf,
    csv: Option<csv::Writer<BufWriter<File>>>,
    by_reason: BTreeMap<String, u64>,
    count: u64,
}

impl RejectsWriter {
    /// Starts the rejects file `path` (written to `path.tmp-<pid>` until [`commit`](Self::commit)).
    pub fn create(path: &Path) -> Result<Self> {
        if path.is_dir() {
            return Err(Error::invalid(
                "--rejects",
                format!("{} is a directory, not a file", path.display()),
            ));
        }
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent).map_err(|e| Error::io("creating", parent, e))?;
        }
        let mut name = path
            .file_name()
            .ok_or_else(|| {
                Error::invalid(
                    "--rejects",
                    format!("{} is not a file path", path.display()),
                )
            })?
            .to_os_string();
        name.push(format!(".tmp-{}", std::process::id()));
        let tmp = path.with_file_name(name);
        let file = File::create(&tmp).map_err(|e| Error::io("creating", &tmp, e))?;
        let mut csv = csv::Writer::from_writer(BufWriter::new(file));
        csv.write_record(["line", "reason", "raw"])
            .map_err(|e| csv_error(e, &tmp))?;
        Ok(Self {
            path: path.to_path_buf(),
            tmp,
            csv: Some(csv),
            by_reason: BTreeMap::new(),
            count: 0,
        })
    }

    /// Records that the record starting on `line` (raw bytes `raw`, line terminator excluded) was
    /// rejected for `reject`. Invalid UTF-8 in `raw` is written as U+FFFD.
    pub fn reject(&mut self, line: u64, reject: &Reject, raw: &[u8]) -> Result<()> {
        *self.by_reason.entry(reject.kind.to_string()).or_default() += 1;
        self.count += 1;
        if let Some(csv) = self.csv.as_mut() {
            let (line, raw) = (line.to_string(), String::from_utf8_lossy(raw));
            csv.write_record([line.as_str(), reject.message.as_str(), raw.as_ref()])
                .map_err(|e| csv_error(e, &self.tmp))?;
        }
        Ok(())
    }

    /// Rejected records so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Flushes the file, moves it to its final path and returns the counts per reason.
    pub fn commit(mut self) -> Result<(PathBuf, BTreeMap<String, u64>)> {
        if let Some(csv) = self.csv.take() {
            let buffered = csv.into_inner().map_err(|e| {
                Error::io(
                    "writing",
                    &self.tmp,
                    std::io::Error::other(e.error().to_string()),
                )
            })?;
            buffered
                .into_inner()
                .map_err(|e| Error::io("writing", &self.tmp, e.into_error()))?;
        }
        fs::rename(&self.tmp, &self.path).map_err(|e| Error::io("renaming", &self.tmp, e))?;
        Ok((self.path.clone(), std::mem::take(&mut self.by_reason)))
    }
}

impl Drop for RejectsWriter {
    fn drop(&mut self) {
        if self.csv.take().is_some() {
            // Not committed: the ingest failed, keep the previous rejects file.
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

fn csv_error(e: csv::Error, path: &Path) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io("writing", path, io),
        other => Error::io("writing", path, std::io::Error::other(format!("{other:?}"))),
    }
}
