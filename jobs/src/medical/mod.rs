//! The medical IoT batch jobs (seed 000, SPEC section 5): the Silver schema of the sickle-cell
//! monitoring lake, its synthetic data generator, the readable weekly reports and the maintenance
//! jobs: archiving old Silver partitions (`medallion archive`) and maintaining the MySQL Gold
//! tables (`medallion optimize`). The other
//! jobs are SQL under `jobs/sql/`: `daily-aggregations`, `weekly-reports`, `monthly-analytics`,
//! `research-export`.

pub mod archive;
pub mod archive_plan;
pub mod archive_store;
pub mod generate;
pub mod maintenance;
pub mod optimize;
pub mod reports;
pub mod schema;

#[cfg(test)]
mod tests;
