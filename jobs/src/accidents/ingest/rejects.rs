//! The rejects file of an ingest: `line,reason,raw` for every rejected record, written to a
//! temporary file and renamed into place when the ingest succeeds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use medallion_core::{Error, Result};

use super::parse::Reject;
use crate::pending_file::PendingFile;

/// Writes rejected records and counts them per reason.
pub struct RejectsWriter {
    tmp: PathBuf,
    csv: csv::Writer<PendingFile>,
    by_reason: BTreeMap<String, u64>,
    count: u64,
}

impl RejectsWriter {
    /// Starts the rejects file `path` (written to `path.tmp-<pid>` until [`commit`](Self::commit);
    /// dropped uncommitted, the previous rejects file stays).
    pub fn create(path: &Path) -> Result<Self> {
        let file = PendingFile::create(path, "--rejects")?;
        let tmp = file.tmp_path().to_path_buf();
        let mut csv = csv::Writer::from_writer(file);
        csv.write_record(["line", "reason", "raw"])
            .map_err(|e| csv_error(e, &tmp))?;
        Ok(Self {
            tmp,
            csv,
            by_reason: BTreeMap::new(),
            count: 0,
        })
    }

    /// Records that the record starting on `line` (raw bytes `raw`, line terminator excluded) was
    /// rejected for `reject`. Invalid UTF-8 in `raw` is written as U+FFFD.
    pub fn reject(&mut self, line: u64, reject: &Reject, raw: &[u8]) -> Result<()> {
        *self.by_reason.entry(reject.kind.to_string()).or_default() += 1;
        self.count += 1;
        let (line, raw) = (line.to_string(), String::from_utf8_lossy(raw));
        self.csv
            .write_record([line.as_str(), reject.message.as_str(), raw.as_ref()])
            .map_err(|e| csv_error(e, &self.tmp))
    }

    /// Rejected records so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Flushes the file, moves it to its final path and returns the counts per reason.
    pub fn commit(self) -> Result<(PathBuf, BTreeMap<String, u64>)> {
        let file = self.csv.into_inner().map_err(|e| {
            Error::io(
                "writing",
                &self.tmp,
                std::io::Error::other(e.error().to_string()),
            )
        })?;
        Ok((file.commit()?, self.by_reason))
    }
}

fn csv_error(e: csv::Error, path: &Path) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io("writing", path, io),
        other => Error::io("writing", path, std::io::Error::other(format!("{other:?}"))),
    }
}
