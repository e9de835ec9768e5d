//! The maintenance jobs: jobs without SQL, done by the client (file moves on the lake, statements on
//! the MySQL sink), which `medallion run|submit <job>` runs like any other job and their CronJobs
//! start that way. What each does lives with the command of the same name (`medallion archive`,
//! `medallion optimize`).

/// A maintenance job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaintenanceJob {
    /// Moves Silver day partitions older than the retention policy to the archive.
    Archive,
    /// Maintains the Gold tables of a MySQL sink.
    Optimize,
}

impl MaintenanceJob {
    /// Every maintenance job, in the order `medallion jobs` lists them.
    pub const ALL: [MaintenanceJob; 2] = [MaintenanceJob::Archive, MaintenanceJob::Optimize];

    /// The job's name, as `medallion run` takes it.
    pub fn name(self) -> &'static str {
        match self {
            MaintenanceJob::Archive => "archive",
            MaintenanceJob::Optimize => "optimize",
        }
    }

    /// What the job does, as `medallion jobs` lists it.
    pub fn description(self) -> &'static str {
        match self {
            MaintenanceJob::Archive => {
                "Moves Silver day partitions older than the retention policy to the archive prefix (zstd Parquet, row counts verified)"
            }
            MaintenanceJob::Optimize => {
                "OPTIMIZE/ANALYZE of the Gold MySQL tables; drops stale staging tables of unfinished runs"
            }
        }
    }

    /// The maintenance job called `name`, if there is one.
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|job| job.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_maintenance_job_is_found_by_its_name() {
        for job in MaintenanceJob::ALL {
            assert_eq!(MaintenanceJob::named(job.name()), Some(job));
        }
        assert_eq!(MaintenanceJob::named("accidents-datamart"), None);
    }
}
