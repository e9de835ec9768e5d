//! `medallion ingest accidents`: streams a Bronze US-Accidents CSV (original Kaggle headers) into
//! Silver year partitions, rejecting the rows the SPEC's row rules refuse into a rejects CSV.
//!
//! The previous `LAKE/accidents` is replaced only once the whole input was read and written, so a
//! failed ingest leaves it untouched.

mod parse;
mod raw_reader;
mod rejects;

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use csv::ByteRecord;
use indicatif::{ProgressBar, ProgressStyle};
use medallion_core::{Error, Result};

use self::parse::RecordParser;
pub use self::parse::{REQUIRED_HEADERS, parse_bool, parse_timestamp};
use self::raw_reader::RawTee;
use self::rejects::RejectsWriter;
use crate::accidents::silver_writer::row::SilverBatchBuilder;
use crate::accidents::silver_writer::{LakeFormat, SilverTableWriter};

/// Rows buffered per year before they are handed to the file writer as one batch.
const BATCH_ROWS: usize = 16 * 1024;

/// Records between two progress bar updates.
const PROGRESS_EVERY: u64 = 8192;

/// Arguments of `medallion ingest accidents`.
#[derive(clap::Args, Debug, Clone)]
pub struct IngestAccidentsArgs {
    /// Bronze CSV to ingest (the Kaggle US-Accidents layout).
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// Lake root: Silver is written to LAKE/accidents/year=YYYY/ (replacing it).
    #[arg(long, value_name = "LAKE")]
    pub out: PathBuf,
    /// File format of the Silver table.
    #[arg(long, value_enum, default_value_t = LakeFormat::Parquet)]
    pub format: LakeFormat,
    /// Where to write rejected rows [default: LAKE/_rejects/accidents-rejects.csv].
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,
}

impl IngestAccidentsArgs {
    /// Arguments ingesting `input` into the lake `out` as Parquet, with the default rejects file.
    pub fn new(input: impl Into<PathBuf>, out: impl Into<PathBuf>) -> Self {
        Self {
            input: input.into(),
            out: out.into(),
            format: LakeFormat::Parquet,
            rejects: None,
        }
    }

    /// The rejects file: `--rejects`, or `LAKE/_rejects/accidents-rejects.csv`.
    pub fn rejects_path(&self) -> PathBuf {
        self.rejects
            .clone()
            .unwrap_or_else(|| self.out.join("_rejects").join("accidents-rejects.csv"))
    }
}

/// What `ingest accidents` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestReport {
    /// Data records read (the header excluded).
    pub rows_read: u64,
    /// Rows written to Silver.
    pub rows_accepted: u64,
    /// Rows written to the rejects file.
    pub rows_rejected: u64,
    /// Rejected rows per reason category (`missing id`, `severity out of range`, ...).
    pub rejects_by_reason: BTreeMap<String, u64>,
    /// Silver data files written, sorted.
    pub files: Vec<PathBuf>,
    /// The rejects file (written even when empty, with its header).
    pub rejects_file: PathBuf,
}

fn progress_bar(total: u64, progress: bool) -> ProgressBar {
    if !progress {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} ingesting accidents [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Number of line feeds in `bytes`.
fn newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|b| **b == b'\n').count() as u64
}

/// Maps a CSV reader error to a medallion error about `path`.
fn read_error(e: csv::Error, path: &Path) -> Error {
    let location = path.display().to_string();
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io("reading", path, io),
        other => Error::CorruptFile {
            location,
            message: format!("{other:?}"),
        },
    }
}

/// Ingests the Bronze CSV `args.input` into Silver `args.out/accidents`, writing rejected rows to the
/// rejects file. Shows a progress bar of bytes read when `progress` is set.
pub fn ingest_accidents(args: &IngestAccidentsArgs, progress: bool) -> Result<IngestReport> {
    let input = &args.input;
    let location = input.display().to_string();
    let file = File::open(input).map_err(|e| Error::io("opening", input, e))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_reader(RawTee::new(file));
    let header = reader
        .byte_headers()
        .map_err(|e| read_error(e, input))?
        .clone();
    let parser = RecordParser::new(&header, &location)?;
    // Physical line numbers: the CSV reader does not count newlines inside quoted fields, so count
    // the line feeds of each record's raw bytes. `next_line` is the line of the byte that follows
    // the last record read.
    let header_end = reader.position().byte();
    let mut next_line = 1 + newlines(reader.get_ref().raw(0, header_end).unwrap_or_default());

    let mut table = SilverTableWriter::create(&args.out, args.format)?;
    let mut rejects = RejectsWriter::create(&args.rejects_path())?;
    let mut buffers: BTreeMap<i32, SilverBatchBuilder> = BTreeMap::new();
    let bar = progress_bar(size, progress);
    let mut record = ByteRecord::new();
    let (mut rows_read, mut rows_accepted) = (0u64, 0u64);

    while reader
        .read_byte_record(&mut record)
        .map_err(|e| read_error(e, input))?
    {
        rows_read += 1;
        let end = reader.position().byte();
        let start = record.position().map_or(end, |p| p.byte());
        // The bytes of the record, after the end of the previous one: they may start with the
        // previous line's terminator and with blank lines, which the reader skips.
        let raw = reader.get_ref().raw(start, end).unwrap_or_default();
        let (skipped, raw) = raw.split_at(
            raw.iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count(),
        );
        let line = next_line + newlines(skipped);
        next_line = line + newlines(raw);
        match parser.parse(&record) {
            Ok((year, row)) => {
                let buffer = match buffers.entry(year) {
                    std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::btree_map::Entry::Vacant(e) => {
                        e.insert(SilverBatchBuilder::new(BATCH_ROWS)?)
                    }
                };
                buffer.append(&row)?;
                rows_accepted += 1;
                if buffer.len() >= BATCH_ROWS {
                    let batch = buffer.finish()?;
                    table.write(year, &batch)?;
                }
            }
            Err(reject) => {
                let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
                let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
                rejects.reject(line, &reject, raw)?;
            }
        }
        reader.get_mut().consumed_up_to(end);
        if rows_read % PROGRESS_EVERY == 0 {
            bar.set_position(reader.get_ref().bytes_read());
        }
    }
    for (year, buffer) in buffers.iter_mut() {
        if !buffer.is_empty() {
            let batch = buffer.finish()?;
            table.write(*year, &batch)?;
        }
    }
    let rows_rejected = rejects.count();
    let silver = table.commit()?;
    let (rejects_file, rejects_by_reason) = rejects.commit()?;
    bar.finish_and_clear();
    tracing::info!(
        input = %location,
        rows_read,
        rows_accepted,
        rows_rejected,
        "ingested accidents"
    );
    Ok(IngestReport {
        rows_read,
        rows_accepted,
        rows_rejected,
        rejects_by_reason,
        files: silver.files,
        rejects_file,
    })
}
