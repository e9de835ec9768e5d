//! `medallion archive` (also `medallion run|submit archive`, as the CronJob calls it): moves the
//! Silver partitions older than the retention policy (seed 000, "Archivage données > 6 mois";
//! `lake.<table>` of `retention_policies.yaml`, see [`config`](crate::config)) from
//! `LAKE/<table>/date=YYYY-MM-DD/` to `LAKE/<archive_prefix>/date=YYYY-MM-DD/part-00000.parquet`
//! (or `ARCHIVE/<table>/...` with `--archive`), rewritten as one zstd-compressed Parquet file.
//!
//! Each partition goes through explicit phases: *write* the archive file under a temporary name,
//! *verify* that its footer holds as many rows as the source files, *publish* it by renaming, then
//! *delete* the source partition. A partition whose archive already exists with the right row count
//! (a run interrupted after publishing) only has its source deleted, so a retried run is
//! idempotent; a mismatch stops the run with the source untouched. `--dry-run` only lists what
//! would move. Lakes in an object store (`s3://`, `hdfs://`) go through the same phases in
//! [`archive_store`](super::archive_store), under the archive prefix of the same store.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use chrono::{Months, NaiveDate};
use datafusion::arrow::array::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
use medallion_core::{Error, Result};

use super::archive_plan::{ArchivePlan, ArchivedPartition};
use crate::config::BatchConfig;
use crate::plan::parse_date;

/// Arguments of `medallion archive`.
#[derive(clap::Args, Debug, Clone)]
pub struct ArchiveArgs {
    /// Lake root (a local folder or file:// URL).
    #[arg(long, env = "MEDALLION_LAKE")]
    pub lake: String,
    /// The Silver table whose day partitions (`date=YYYY-MM-DD/`) are archived [default: every
    /// table whose retention policy is `archive` and that the lake holds].
    #[arg(long)]
    pub table: Option<String>,
    /// Keep this many months of partitions in the lake [default: the table's
    /// hot_retention_months in retention_policies.yaml].
    #[arg(long)]
    pub retention_months: Option<u32>,
    /// Where archived partitions go: ARCHIVE/<table>/date=.../ [default: LAKE/<archive_prefix of
    /// retention_policies.yaml>, e.g. LAKE/archive/vitals/].
    #[arg(long)]
    pub archive: Option<String>,
    /// The day the retention is counted back from [default: today].
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_day)]
    pub as_of: Option<NaiveDate>,
    /// List the partitions that would move, move nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Folder holding retention_policies.yaml [default: $MEDALLION_CONFIG_DIR, else ./config,
    /// else the built-in policies].
    #[arg(long, value_name = "DIR")]
    pub config_dir: Option<PathBuf>,
}

impl ArchiveArgs {
    /// The arguments for archiving `lake` with the configured policies.
    pub fn new(lake: impl Into<String>) -> Self {
        Self {
            lake: lake.into(),
            table: None,
            retention_months: None,
            archive: None,
            as_of: None,
            dry_run: false,
            config_dir: None,
        }
    }
}

/// Whether `lake` is in an object store (a URL other than `file://`).
fn is_store_lake(lake: &str) -> bool {
    lake.split_once("://")
        .is_some_and(|(scheme, _)| scheme != "file")
}

fn parse_day(text: &str) -> std::result::Result<NaiveDate, String> {
    parse_date(text).ok_or_else(|| format!("'{text}' is not a date YYYY-MM-DD"))
}

fn local_path(location: &str) -> Result<PathBuf> {
    match location.split_once("://") {
        None => Ok(PathBuf::from(location)),
        Some(("file", path)) => Ok(PathBuf::from(path)),
        Some((scheme, _)) => Err(Error::invalid(
            "--lake/--archive",
            format!("archive works on local lakes only, not {scheme}://"),
        )),
    }
}

fn parquet_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| Error::io("listing", dir, e))? {
        let path = entry.map_err(|e| Error::io("listing", dir, e))?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') || name.starts_with('_') {
            continue;
        }
        if path.extension().is_some_and(|e| e == "parquet") {
            files.push(path);
        } else if path.extension().is_some_and(|e| e == "orc") {
            return Err(Error::invalid(
                "archive",
                format!(
                    "{} is ORC: only Parquet partitions are archived",
                    path.display()
                ),
            ));
        }
    }
    files.sort();
    Ok(files)
}

fn corrupt(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::CorruptFile {
        location: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Rows in the footer of the Parquet file `path`.
fn footer_rows(path: &Path) -> Result<u64> {
    let file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
    let reader = SerializedFileReader::new(file).map_err(|e| corrupt(path, e))?;
    Ok(u64::try_from(reader.metadata().file_metadata().num_rows()).unwrap_or(0))
}

/// The tables to archive, with their retention and archive folder, from the arguments and the
/// retention policies of `config`.
pub fn resolve_tables(args: &ArchiveArgs, config: &BatchConfig) -> Result<Vec<ArchivePlan>> {
    let store = is_store_lake(&args.lake);
    if store && args.archive.is_some() {
        return Err(Error::invalid(
            "--archive",
            "an object-store lake is archived under its own archive prefix (retention_policies.yaml); --archive is for local lakes",
        ));
    }
    let lake = if store {
        PathBuf::new()
    } else {
        local_path(&args.lake)?
    };
    let tables = match &args.table {
        Some(table) => vec![table.clone()],
        // An object-store lake's tables are listed when planned; absent ones are skipped there.
        None if store => config.archived_tables(),
        None => {
            let present: Vec<String> = config
                .archived_tables()
                .into_iter()
                .filter(|t| lake.join(t).is_dir())
                .collect();
            if present.is_empty() {
                return Err(Error::LakeNotFound {
                    table: config.archived_tables().join(", "),
                    location: lake.display().to_string(),
                });
            }
            present
        }
    };
    tables
        .into_iter()
        .map(|table| {
            let policy = config.lake_retention(&table);
            let retention_months = args
                .retention_months
                .or(policy.as_ref().map(|p| p.hot_retention_months))
                .ok_or_else(|| {
                    Error::invalid(
                        "--retention-months",
                        format!("table {table} has no archive policy in retention_policies.yaml: give --retention-months"),
                    )
                })?;
            let prefix = policy.map_or_else(|| format!("archive/{table}/"), |p| p.archive_prefix);
            let prefix = prefix.trim_matches('/').to_string();
            if prefix.is_empty() || prefix.split('/').any(|c| c == ".." || c.is_empty()) {
                return Err(Error::invalid(
                    "retention_policies.yaml",
                    format!("lake.{table}.archive_prefix '{prefix}' is not a folder under the lake"),
                ));
            }
            let target_dir = match &args.archive {
                Some(a) => local_path(a)?.join(&table),
                None => lake.join(&prefix),
            };
            Ok(ArchivePlan {
                table,
                retention_months,
                archive_prefix: prefix,
                target_dir,
            })
        })
        .collect()
}

/// The `date=YYYY-MM-DD` partitions of `LAKE/<table>` older than the plan's retention before
/// `as_of`, oldest first.
pub fn plan_archive(
    lake: &str,
    plan: &ArchivePlan,
    as_of: NaiveDate,
) -> Result<Vec<ArchivedPartition>> {
    let lake = local_path(lake)?;
    let table_dir = lake.join(&plan.table);
    if !table_dir.is_dir() {
        return Err(Error::LakeNotFound {
            table: plan.table.clone(),
            location: table_dir.display().to_string(),
        });
    }
    let cutoff = as_of
        .checked_sub_months(Months::new(plan.retention_months))
        .ok_or_else(|| Error::invalid("--retention-months", "too large"))?;
    let mut partitions = Vec::new();
    for entry in fs::read_dir(&table_dir).map_err(|e| Error::io("listing", &table_dir, e))? {
        let source = entry
            .map_err(|e| Error::io("listing", &table_dir, e))?
            .path();
        let Some(day) = source
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("date="))
            .and_then(parse_date)
        else {
            continue;
        };
        if day >= cutoff || !source.is_dir() {
            continue;
        }
        let mut rows = 0;
        let mut bytes = 0;
        for file in parquet_files(&source)? {
            rows += footer_rows(&file)?;
            bytes += fs::metadata(&file).map_or(0, |m| m.len());
        }
        let target = plan
            .target_dir
            .join(format!("date={day}"))
            .join("part-00000.parquet");
        partitions.push(ArchivedPartition {
            day,
            source,
            target,
            rows,
            bytes,
        });
    }
    partitions.sort_by_key(|p| p.day);
    Ok(partitions)
}

/// Phase 1: writes every row of the source partition into `tmp`, zstd-compressed.
fn write_archive_file(partition: &ArchivedPartition, tmp: &Path) -> Result<()> {
    let files = parquet_files(&partition.source)?;
    let mut writer: Option<ArrowWriter<File>> = None;
    for path in &files {
        let file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .and_then(|b| b.build())
            .map_err(|e| corrupt(path, e))?;
        for batch in reader {
            let batch: RecordBatch = batch.map_err(|e| corrupt(path, e))?;
            if writer.is_none() {
                let out = File::create(tmp).map_err(|e| Error::io("creating", tmp, e))?;
                let level = ZstdLevel::try_new(9).map_err(|e| corrupt(tmp, e))?;
                let props = WriterProperties::builder()
                    .set_compression(Compression::ZSTD(level))
                    .build();
                writer = Some(
                    ArrowWriter::try_new(out, batch.schema(), Some(props))
                        .map_err(|e| corrupt(tmp, e))?,
                );
            }
            if let Some(w) = writer.as_mut() {
                w.write(&batch).map_err(|e| corrupt(tmp, e))?;
            }
        }
    }
    match writer {
        Some(w) => {
            let file = w.into_inner().map_err(|e| corrupt(tmp, e))?;
            file.sync_all().map_err(|e| Error::io("writing", tmp, e))
        }
        None => Err(Error::invalid(
            "archive",
            format!("{} holds no rows", partition.source.display()),
        )),
    }
}

/// Archives one partition (write, verify, publish, delete the source); safe to run again after
/// an interruption at any phase.
pub fn archive_partition(partition: &ArchivedPartition) -> Result<()> {
    let published_ok =
        partition.target.exists() && footer_rows(&partition.target)? == partition.rows;
    if !published_ok {
        let dir = partition
            .target
            .parent()
            .ok_or_else(|| Error::invalid("archive", "bad archive path"))?;
        fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
        let tmp = dir.join(format!(".part-00000.parquet.tmp-{}", std::process::id()));
        let written = write_archive_file(partition, &tmp).and_then(|()| {
            let rows = footer_rows(&tmp)?;
            if rows == partition.rows {
                Ok(())
            } else {
                Err(Error::JobFailed {
                    job: "archive".to_string(),
                    message: format!(
                        "{}: archived {rows} rows but the source has {}; source kept",
                        partition.source.display(),
                        partition.rows
                    ),
                })
            }
        });
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        fs::rename(&tmp, &partition.target).map_err(|e| Error::io("publishing", &tmp, e))?;
    }
    fs::remove_dir_all(&partition.source).map_err(|e| Error::io("removing", &partition.source, e))
}

/// Runs `medallion archive`: the partitions that moved (or, with `--dry-run`, would move), of
/// every table archived. Local lakes are archived here, object-store lakes by
/// [`archive_store`](super::archive_store).
pub async fn archive(args: &ArchiveArgs) -> Result<Vec<ArchivedPartition>> {
    let config = BatchConfig::load(args.config_dir.as_deref())?;
    let as_of = args
        .as_of
        .unwrap_or_else(|| chrono::Utc::now().date_naive());
    let store = is_store_lake(&args.lake);
    let mut all = Vec::new();
    for plan in resolve_tables(args, &config)? {
        tracing::info!(
            table = %plan.table,
            retention_months = plan.retention_months,
            archive_prefix = %plan.archive_prefix,
            as_of = %as_of,
            "archiving partitions older than the retention"
        );
        if store {
            let moved = super::archive_store::archive_store(
                &args.lake,
                &plan,
                &plan.archive_prefix,
                as_of,
                args.dry_run,
            )
            .await;
            match moved {
                Ok(moved) => all.extend(moved),
                // Without --table, tables the lake does not hold are skipped.
                Err(Error::LakeNotFound { .. }) if args.table.is_none() => {
                    tracing::info!(table = %plan.table, "not in the lake: nothing to archive");
                }
                Err(e) => return Err(e),
            }
            continue;
        }
        let partitions = plan_archive(&args.lake, &plan, as_of)?;
        if !args.dry_run {
            for partition in &partitions {
                archive_partition(partition)?;
                tracing::info!(
                    day = %partition.day,
                    rows = partition.rows,
                    target = %partition.target.display(),
                    "partition archived"
                );
            }
        }
        all.extend(partitions);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accidents::silver_writer::test_support::read_parquet;
    use crate::medical::generate::{GenerateMedicalArgs, generate_medical};

    #[tokio::test]
    async fn old_partitions_move_verified_and_a_retry_is_harmless() {
        let dir = tempfile::tempdir().unwrap();
        let lake = dir.path().join("lake");
        let gen_args = GenerateMedicalArgs {
            patients: 3,
            days: 5,
            start_date: parse_day("2024-01-01").unwrap(),
            ..GenerateMedicalArgs::new(&lake)
        };
        generate_medical(&gen_args, false).unwrap();
        // The built-in policy keeps 6 months of vitals and 24 of crises (none of which moves;
        // treatments are unpartitioned). 6 months before 2024-07-03 is 2024-01-03: 01-01 and
        // 01-02 are older.
        let config_dir = dir.path().join("no-config");
        std::fs::create_dir_all(&config_dir).unwrap();
        let args = ArchiveArgs {
            as_of: parse_date("2024-07-03"),
            dry_run: true,
            config_dir: Some(config_dir),
            ..ArchiveArgs::new(lake.display().to_string())
        };
        let planned = archive(&args).await.unwrap();
        let days: Vec<String> = planned.iter().map(|p| p.day.to_string()).collect();
        assert_eq!(days, ["2024-01-01", "2024-01-02"]);
        assert!(
            lake.join("vitals/date=2024-01-01").exists(),
            "dry run moves nothing"
        );

        let source_rows =
            read_parquet(&parquet_files(&lake.join("vitals/date=2024-01-01")).unwrap()).num_rows();
        let moved = archive(&ArchiveArgs {
            dry_run: false,
            ..args.clone()
        })
        .await
        .unwrap();
        assert_eq!(moved.len(), 2);
        assert!(!lake.join("vitals/date=2024-01-01").exists());
        assert!(lake.join("vitals/date=2024-01-03").exists());
        let archived = lake.join("archive/vitals/date=2024-01-01/part-00000.parquet");
        assert_eq!(
            read_parquet(std::slice::from_ref(&archived)).num_rows(),
            source_rows
        );
        assert_eq!(footer_rows(&archived).unwrap(), moved[0].rows);
        // a second run finds nothing more to move
        assert!(
            archive(&ArchiveArgs {
                dry_run: false,
                ..args
            })
            .await
            .unwrap()
            .is_empty()
        );
    }

    #[test]
    fn remote_lakes_are_refused() {
        assert_eq!(local_path("s3://b/lake").unwrap_err().exit_code(), 2);
        assert_eq!(local_path("file:///x").unwrap(), PathBuf::from("/x"));
    }
}
