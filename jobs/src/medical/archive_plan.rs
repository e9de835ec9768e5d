//! What `archive` moves: the resolved policy of each table and the partitions older than it, shared
//! by the local-lake and the object-store paths.

use std::path::PathBuf;

use chrono::NaiveDate;

/// What to archive of one table: the resolved retention and archive folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivePlan {
    /// The Silver table.
    pub table: String,
    /// Months kept in the lake.
    pub retention_months: u32,
    /// The archive folder relative to the lake root (`archive/vitals`), from the policy.
    pub archive_prefix: String,
    /// The local folder receiving its `date=.../` partitions (`LAKE/<archive_prefix>` or
    /// `ARCHIVE/<table>`); unused for object-store lakes.
    pub target_dir: PathBuf,
}

/// One partition older than the retention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivedPartition {
    /// Its day.
    pub day: NaiveDate,
    /// The source folder.
    pub source: PathBuf,
    /// The archive file.
    pub target: PathBuf,
    /// Rows in the partition.
    pub rows: u64,
    /// Bytes of the source files.
    pub bytes: u64,
}
