//! Where and how query results go: an aligned table (Arrow's pretty printer), CSV with a header,
//! JSON lines or Parquet, to stdout or to `--output FILE`.
//!
//! A file is written under a temporary name next to it and renamed when every result is written,
//! so a failed query never leaves a half-written file behind.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Args, ValueEnum};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::csv::WriterBuilder as CsvWriterBuilder;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::json::WriterBuilder as JsonWriterBuilder;
use datafusion::arrow::json::writer::LineDelimited;
use datafusion::arrow::util::pretty::pretty_format_batches_with_schema;
use datafusion::error::DataFusionError;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::physical_plan::SendableRecordBatchStream;
use futures::StreamExt;
use medallion_core::{Error, Result};

/// How results are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum OutputFormat {
    /// An aligned text table.
    #[default]
    Table,
    /// CSV with a header line.
    Csv,
    /// One JSON object per row and line (NULLs written as null).
    Json,
    /// A Parquet file (needs --output).
    Parquet,
}

/// The `--format` and `--output` options.
#[derive(Debug, Clone, Default, Args)]
pub struct OutputArgs {
    /// Result format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutputFormat,
    /// Write the results to FILE instead of stdout (required for parquet).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// The destination of the results.
enum Sink {
    Stdout,
    File {
        path: PathBuf,
        tmp: PathBuf,
        writer: Option<BufWriter<File>>,
    },
}

/// Writes query results one after the other in one format.
pub struct ResultWriter {
    format: OutputFormat,
    sink: Sink,
    /// Results with columns written so far.
    results: usize,
    /// Print "N rows in T s" to stderr after each result.
    pub report_rows: bool,
}

fn write_error(what: &Path, e: impl std::fmt::Display) -> Error {
    Error::io("writing", what, io::Error::other(e.to_string()))
}

impl ResultWriter {
    /// A writer for `args`; a Parquet result needs a file.
    pub fn new(args: &OutputArgs) -> Result<Self> {
        let sink = match &args.output {
            None if args.format == OutputFormat::Parquet => {
                return Err(Error::invalid(
                    "--format parquet",
                    "needs --output FILE (Parquet is not written to a terminal)",
                ));
            }
            None => Sink::Stdout,
            Some(path) => {
                let name = path
                    .file_name()
                    .ok_or_else(|| Error::invalid("--output", "not a file name"))?
                    .to_string_lossy()
                    .into_owned();
                let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
                let file = File::create(&tmp).map_err(|e| Error::io("creating", &tmp, e))?;
                Sink::File {
                    path: path.clone(),
                    tmp,
                    writer: Some(BufWriter::new(file)),
                }
            }
        };
        Ok(Self {
            format: args.format,
            sink,
            results: 0,
            report_rows: false,
        })
    }

    /// A writer of `format` to stdout.
    pub fn stdout(format: OutputFormat) -> Self {
        Self {
            format,
            sink: Sink::Stdout,
            results: 0,
            report_rows: false,
        }
    }

    fn target(&self) -> PathBuf {
        match &self.sink {
            Sink::Stdout => PathBuf::from("stdout"),
            Sink::File { path, .. } => path.clone(),
        }
    }

    fn out(&mut self) -> Box<dyn Write + Send + '_> {
        match &mut self.sink {
            Sink::File {
                writer: Some(w), ..
            } => Box::new(w),
            _ => Box::new(io::stdout()),
        }
    }

    /// Writes a whole result held in memory.
    pub async fn write_batches(
        &mut self,
        schema: SchemaRef,
        batches: &[RecordBatch],
    ) -> Result<u64> {
        let owned: Vec<RecordBatch> = batches.to_vec();
        let stream = futures::stream::iter(owned.into_iter().map(Ok));
        let stream: SendableRecordBatchStream = Box::pin(
            datafusion::physical_plan::stream::RecordBatchStreamAdapter::new(schema, stream),
        );
        self.write_stream(stream, "writing the result").await
    }

    /// Writes one result, batch by batch as it arrives; returns its rows. A result without
    /// columns (what DDL statements return) writes nothing. Errors of the stream are engine
    /// errors (`context` says what ran).
    pub async fn write_stream(
        &mut self,
        mut stream: SendableRecordBatchStream,
        context: &str,
    ) -> Result<u64> {
        let started = Instant::now();
        let schema = stream.schema();
        let engine = |e: DataFusionError| super::sql_error(context, e);
        if schema.fields().is_empty() {
            while let Some(batch) = stream.next().await {
                batch.map_err(engine)?;
            }
            return Ok(0);
        }
        let target = self.target();
        let mut rows = 0u64;
        match self.format {
            OutputFormat::Table => {
                let mut batches = Vec::new();
                while let Some(batch) = stream.next().await {
                    let batch = batch.map_err(engine)?;
                    rows += batch.num_rows() as u64;
                    batches.push(batch);
                }
                let table = pretty_format_batches_with_schema(schema, &batches)
                    .map_err(|e| write_error(&target, e))?;
                let mut out = self.out();
                writeln!(out, "{table}").map_err(|e| write_error(&target, e))?;
            }
            OutputFormat::Csv => {
                let mut out = self.out();
                let mut writer = CsvWriterBuilder::new().with_header(true).build(&mut out);
                let mut wrote = false;
                while let Some(batch) = stream.next().await {
                    let batch = batch.map_err(engine)?;
                    rows += batch.num_rows() as u64;
                    writer.write(&batch).map_err(|e| write_error(&target, e))?;
                    wrote = true;
                }
                if !wrote {
                    // No batch: the header alone.
                    writer
                        .write(&RecordBatch::new_empty(schema))
                        .map_err(|e| write_error(&target, e))?;
                }
            }
            OutputFormat::Json => {
                let mut out = self.out();
                let mut writer = JsonWriterBuilder::new()
                    .with_explicit_nulls(true)
                    .build::<_, LineDelimited>(&mut out);
                while let Some(batch) = stream.next().await {
                    let batch = batch.map_err(engine)?;
                    rows += batch.num_rows() as u64;
                    writer.write(&batch).map_err(|e| write_error(&target, e))?;
                }
                writer.finish().map_err(|e| write_error(&target, e))?;
            }
            OutputFormat::Parquet => {
                if self.results > 0 {
                    return Err(Error::invalid(
                        "--format parquet",
                        "writes one result: the SQL has more than one query returning rows",
                    ));
                }
                let mut out = self.out();
                let mut writer = ArrowWriter::try_new(&mut out, schema, None)
                    .map_err(|e| write_error(&target, e))?;
                while let Some(batch) = stream.next().await {
                    let batch = batch.map_err(engine)?;
                    rows += batch.num_rows() as u64;
                    writer.write(&batch).map_err(|e| write_error(&target, e))?;
                }
                writer.close().map_err(|e| write_error(&target, e))?;
            }
        }
        self.out().flush().map_err(|e| write_error(&target, e))?;
        self.results += 1;
        if self.report_rows {
            eprintln!(
                "{rows} row{} in {:.3} s",
                if rows == 1 { "" } else { "s" },
                started.elapsed().as_secs_f64()
            );
        }
        Ok(rows)
    }

    /// Moves the output file into place (nothing to do for stdout).
    pub fn finish(mut self) -> Result<()> {
        if let Sink::File { path, tmp, writer } = &mut self.sink
            && let Some(mut w) = writer.take()
        {
            w.flush()
                .map_err(|e| Error::io("writing", tmp.as_path(), e))?;
            drop(w);
            fs::rename(&*tmp, &*path)
                .map_err(|e| Error::io("moving into place", tmp.as_path(), e))?;
        }
        Ok(())
    }
}

impl Drop for ResultWriter {
    fn drop(&mut self) {
        if let Sink::File {
            tmp,
            writer: Some(_),
            ..
        } = &mut self.sink
        {
            let _ = fs::remove_file(&*tmp);
        }
    }
}
