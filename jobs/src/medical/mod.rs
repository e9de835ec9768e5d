//! The medical IoT batch jobs (seed 000, SPEC section 5): the Silver schema of the sickle-cell
//! monitoring lake, its synthetic data generator, the readable weekly reports and the archiving of
//! old Silver partitions (`medallion archive`). The jobs
//! themselves are SQL under `jobs/sql/`: `daily-aggregations`, `weekly-reports`,
//! `monthly-analytics`, `research-export`.

pub mod archive;
pub mod generate;
pub mod reports;
pub mod schema;

#[cfg(test)]
mod tests;
