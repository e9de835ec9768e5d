//! `medallion generate accidents`: a deterministic synthetic US-Accidents dataset, written as Silver
//! year partitions (Parquet or ORC) and optionally as a Bronze CSV in the original Kaggle format.
//!
//! Rows are generated in fixed-size chunks, each with its own ChaCha8 stream derived from
//! (`--seed`, chunk index), on a few worker threads; the main thread writes the chunks in order, so
//! the output depends only on the arguments.

mod bronze_csv;
pub(crate) mod distributions;
mod order;
mod places;
mod rows;
mod weather;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, sync_channel};

use datafusion::arrow::array::RecordBatch;
use indicatif::{ProgressBar, ProgressStyle};
use medallion_core::{Error, Result};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

pub use crate::accidents::silver_writer::LakeFormat;
use crate::accidents::silver_writer::SilverTableWriter;
use crate::accidents::silver_writer::row::SilverBatchBuilder;
use crate::pending_file::PendingFile;

use self::bronze_csv::BronzeRowWriter;
pub use self::order::RowOrder;
use self::order::YearBuffer;
use self::rows::{GeneratedRow, Patterns, RowGenerator, Tables};

/// Rows per generated chunk (one RNG stream and one Arrow batch each).
pub const CHUNK_ROWS: u64 = 32_768;

/// Most worker threads used to generate chunks.
const MAX_WORKERS: usize = 8;

/// Chunks a worker may have generated ahead of the writer.
const CHANNEL_DEPTH: usize = 2;

/// Arguments of `medallion generate accidents`.
#[derive(clap::Args, Debug, Clone)]
pub struct GenerateAccidentsArgs {
    /// Number of accidents to generate.
    #[arg(long, default_value_t = 100_000)]
    pub rows: u64,
    /// Random seed: the same arguments always produce the same data.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// File format of the Silver table.
    #[arg(long, value_enum, default_value_t = LakeFormat::Parquet)]
    pub format: LakeFormat,
    /// Lake root: the table is written to OUT/accidents/year=YYYY/ (replacing it).
    #[arg(long)]
    pub out: PathBuf,
    /// Also write the same rows as a Bronze CSV with the original Kaggle headers.
    #[arg(long, value_name = "FILE")]
    pub bronze_csv: Option<PathBuf>,
    /// First year of accident start times.
    #[arg(long, default_value_t = 2016)]
    pub start_year: i32,
    /// Last year of accident start times (inclusive).
    #[arg(long, default_value_t = 2023)]
    pub end_year: i32,
    /// Order of the rows inside each year's files: by start_time (as Silver lakes written by
    /// time are), shuffled, or by id (generation order). The rows themselves are the same.
    #[arg(long, value_enum, default_value_t = RowOrder::Time)]
    pub order: RowOrder,
    /// How many times its usual share of the year's accidents one month of every odd year gets
    /// (a monthly spike for kpis_anomalies to find); 1 turns the spikes off.
    #[arg(long, default_value_t = 3.0)]
    pub spike_factor: f64,
    /// Miles each severity level above 1 adds to a non-zero distance_mi (severity leaning on
    /// distance: a moderate correlation for kpis_correlations); 0 makes them independent.
    #[arg(long, default_value_t = 1.2)]
    pub severity_distance_mi: f64,
    /// Share of the severity-2 accidents in snow, ice or thunderstorm weather that are severity 3
    /// instead (weather categories with a shifted severity); 0 turns it off.
    #[arg(long, default_value_t = 0.1)]
    pub storm_severity_share: f64,
}

impl GenerateAccidentsArgs {
    /// Arguments with the CLI defaults, writing to the lake `out`.
    pub fn new(out: impl Into<PathBuf>) -> Self {
        Self {
            rows: 100_000,
            seed: 42,
            format: LakeFormat::Parquet,
            out: out.into(),
            bronze_csv: None,
            start_year: 2016,
            end_year: 2023,
            order: RowOrder::Time,
            spike_factor: 3.0,
            severity_distance_mi: 1.2,
            storm_severity_share: 0.1,
        }
    }

    /// The patterns planted in the data (monthly spikes, severity leaning on distance and weather).
    fn patterns(&self) -> Patterns {
        Patterns {
            spike_factor: self.spike_factor,
            severity_distance_mi: self.severity_distance_mi,
            storm_severity_share: self.storm_severity_share,
        }
    }

    fn validate(&self) -> Result<()> {
        if self.rows == 0 {
            return Err(Error::invalid("--rows", "must be at least 1"));
        }
        for (flag, year) in [
            ("--start-year", self.start_year),
            ("--end-year", self.end_year),
        ] {
            if !(1970..=2200).contains(&year) {
                return Err(Error::invalid(
                    flag,
                    format!("{year} is not within 1970..=2200"),
                ));
            }
        }
        for (flag, value, range) in [
            ("--spike-factor", self.spike_factor, 1.0..=100.0),
            (
                "--severity-distance-mi",
                self.severity_distance_mi,
                0.0..=100.0,
            ),
            (
                "--storm-severity-share",
                self.storm_severity_share,
                0.0..=1.0,
            ),
        ] {
            if !range.contains(&value) {
                return Err(Error::invalid(
                    flag,
                    format!("{value} is not within {}..={}", range.start(), range.end()),
                ));
            }
        }
        if self.end_year < self.start_year {
            return Err(Error::invalid(
                "--end-year",
                format!(
                    "{} is before --start-year {}",
                    self.end_year, self.start_year
                ),
            ));
        }
        Ok(())
    }
}

/// What `generate accidents` wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenerateReport {
    /// Rows generated.
    pub rows: u64,
    /// Silver data files written, sorted (the Bronze CSV is not listed).
    pub files: Vec<PathBuf>,
    /// Rows per start-time year.
    pub rows_per_year: BTreeMap<i32, u64>,
}

/// One chunk of rows: all in one year, numbered from `first_number`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Chunk {
    index: u64,
    year: i32,
    first_number: u64,
    rows: u64,
}

/// The chunks of a run: years in order, each split into [`CHUNK_ROWS`]-row chunks.
fn plan_chunks(rows: u64, start_year: i32, end_year: i32) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut number = 1;
    for (year, year_rows) in distributions::rows_per_year(rows, start_year, end_year) {
        let mut left = year_rows;
        while left > 0 {
            let n = left.min(CHUNK_ROWS);
            chunks.push(Chunk {
                index: chunks.len() as u64,
                year,
                first_number: number,
                rows: n,
            });
            number += n;
            left -= n;
        }
    }
    chunks
}

/// A generated chunk: its Silver batch and, if asked, its Bronze CSV lines.
struct ChunkOutput {
    year: i32,
    batch: RecordBatch,
    csv: Option<Vec<u8>>,
}

/// Generates `chunk` with the RNG stream `chunk.index` of `seed`.
fn generate_chunk(tables: &Tables, seed: u64, chunk: Chunk, with_csv: bool) -> Result<ChunkOutput> {
    let generator = RowGenerator::new(tables, chunk.year)
        .ok_or_else(|| Error::invalid("year", format!("{} is out of range", chunk.year)))?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(chunk.index);
    let mut builder = SilverBatchBuilder::new(chunk.rows as usize)?;
    let mut csv =
        with_csv.then(|| BronzeRowWriter::new(Vec::with_capacity(chunk.rows as usize * 400)));
    let mut row = GeneratedRow::default();
    for number in chunk.first_number..chunk.first_number + chunk.rows {
        generator.fill(&mut rng, number, &mut row);
        let values = row.values();
        builder.append(&values)?;
        if let Some(csv) = csv.as_mut() {
            csv.write_row(&values, row.fractional_seconds)
                .map_err(|e| Error::invalid("generated row", e.to_string()))?;
        }
    }
    let csv = match csv {
        Some(w) => Some(
            w.into_inner()
                .map_err(|e| Error::invalid("generated row", e.to_string()))?,
        ),
        None => None,
    };
    Ok(ChunkOutput {
        year: chunk.year,
        batch: builder.finish()?,
        csv,
    })
}

/// Starts the Bronze CSV `path` with its header line; it appears at `path` when committed.
fn create_bronze_csv(path: &Path) -> Result<PendingFile> {
    let mut header = BronzeRowWriter::new(Vec::new());
    header
        .write_header()
        .map_err(|e| Error::invalid("--bronze-csv", e.to_string()))?;
    let header = header
        .into_inner()
        .map_err(|e| Error::invalid("--bronze-csv", e.to_string()))?;
    let mut file = PendingFile::create(path, "--bronze-csv")?;
    file.append(&header)?;
    Ok(file)
}

fn progress_bar(total: u64, progress: bool) -> ProgressBar {
    if !progress {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} generating accidents [{bar:40}] {human_pos}/{human_len} rows ({per_sec}, {eta})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Number of generator threads for `chunks` chunks.
fn worker_count(chunks: usize) -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, MAX_WORKERS)
        .min(chunks.max(1))
}

/// Generates the dataset described by `args`: Silver files under `OUT/accidents/` (replacing the
/// previous table) and, with `--bronze-csv`, the same rows as a Kaggle-format CSV. Shows a progress
/// bar of generated rows when `progress` is set.
pub fn generate_accidents(args: &GenerateAccidentsArgs, progress: bool) -> Result<GenerateReport> {
    args.validate()?;
    let tables = Tables::new(args.patterns())
        .ok_or_else(|| Error::invalid("generator tables", "a built-in table is empty"))?;
    let chunks = plan_chunks(args.rows, args.start_year, args.end_year);
    let mut table = SilverTableWriter::create(&args.out, args.format)?;
    let mut bronze = args
        .bronze_csv
        .as_deref()
        .map(create_bronze_csv)
        .transpose()?;
    let bar = progress_bar(args.rows, progress);
    let with_csv = bronze.is_some();
    let workers = worker_count(chunks.len());

    std::thread::scope(|scope| -> Result<()> {
        let mut receivers: Vec<Receiver<Result<ChunkOutput>>> = Vec::with_capacity(workers);
        for worker in 0..workers {
            let (sender, receiver) = sync_channel(CHANNEL_DEPTH);
            receivers.push(receiver);
            let (tables, chunks) = (&tables, &chunks);
            let seed = args.seed;
            scope.spawn(move || {
                for chunk in chunks.iter().skip(worker).step_by(workers) {
                    let output = generate_chunk(tables, seed, *chunk, with_csv);
                    let failed = output.is_err();
                    if sender.send(output).is_err() || failed {
                        // The writer stopped (or this chunk failed): nothing more to do.
                        return;
                    }
                }
            });
        }
        let mut current_year = None;
        // with --order time or random, a year's rows are written once the year is complete
        let mut year_rows = YearBuffer::default();
        let close_year = |table: &mut SilverTableWriter, year_rows: &mut YearBuffer, year| {
            let ordered =
                year_rows.take_ordered(args.order, args.seed, year, CHUNK_ROWS as usize)?;
            for batch in &ordered {
                table.write(year, batch)?;
            }
            table.close_year(year)
        };
        for (i, chunk) in chunks.iter().enumerate() {
            let output = receivers[i % workers].recv().map_err(|_| {
                Error::invalid("generator", "a worker thread stopped unexpectedly")
            })??;
            if let Some(previous) = current_year.filter(|y| *y != output.year) {
                // Years come in order: the previous one is complete.
                close_year(&mut table, &mut year_rows, previous)?;
            }
            current_year = Some(output.year);
            if args.order == RowOrder::Id {
                table.write(output.year, &output.batch)?;
            } else {
                year_rows.push(output.batch);
            }
            if let (Some(bronze), Some(csv)) = (bronze.as_mut(), output.csv.as_deref()) {
                bronze.append(csv)?;
            }
            bar.inc(chunk.rows);
        }
        if let Some(last) = current_year {
            close_year(&mut table, &mut year_rows, last)?;
        }
        Ok(())
    })?;

    let silver = table.commit()?;
    if let Some(bronze) = bronze.take() {
        bronze.commit()?;
    }
    bar.finish_and_clear();
    tracing::info!(
        rows = args.rows,
        files = silver.files.len(),
        out = %args.out.display(),
        "generated accidents"
    );
    Ok(GenerateReport {
        rows: args.rows,
        files: silver.files,
        rows_per_year: silver.rows_per_year,
    })
}
