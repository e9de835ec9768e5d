//! A run without some of its job's Gold tables (`medallion run --exclude`, as dbt's `--exclude`):
//! they are neither computed nor published (their published copies stay as they are), and the
//! expectations that check them are left out with them.

use datafusion::prelude::SessionContext;
use medallion_core::{Error, Result};

use super::JobPlan;
use crate::quality::{Check, Expectation};
use crate::table_references::tables_read;

impl JobPlan {
    /// This plan without the Gold tables named in `tables`, and without the expectations that check
    /// one of them (on it, declared in its SQL file, or a `sql` expectation reading it); those
    /// expectations are returned beside the plan. A name that is not one of the job's Gold tables
    /// is bad input naming the job's tables.
    pub fn excluding(mut self, tables: &[String]) -> Result<(JobPlan, Vec<Expectation>)> {
        if let Some(unknown) = tables
            .iter()
            .find(|name| !self.gold.iter().any(|g| &g.query.name == *name))
        {
            let known: Vec<&str> = self.gold.iter().map(|g| g.query.name.as_str()).collect();
            return Err(Error::invalid(
                "--exclude",
                format!(
                    "job {} has no Gold table '{unknown}' (its Gold tables: {})",
                    self.name,
                    known.join(", ")
                ),
            ));
        }
        self.gold.retain(|g| !tables.contains(&g.query.name));
        let parser = SessionContext::new();
        let (dropped, kept): (Vec<Expectation>, Vec<Expectation>) = self
            .expectations
            .into_iter()
            .partition(|e| checks_any(&parser, e, tables));
        self.expectations = kept;
        Ok((self, dropped))
    }
}

/// Whether `expectation` checks one of `tables`.
fn checks_any(parser: &SessionContext, expectation: &Expectation, tables: &[String]) -> bool {
    let on_table = expectation
        .table
        .as_ref()
        .is_some_and(|table| tables.contains(table));
    let in_its_file = tables
        .iter()
        .any(|table| expectation.origin == format!("gold/{table}.sql"));
    let reads_one = match &expectation.check {
        Check::Sql { sql } => tables_read(parser, sql)
            .is_ok_and(|reads| reads.iter().any(|read| tables.contains(read))),
        _ => false,
    };
    on_table || in_its_file || reads_one
}

#[cfg(test)]
mod tests {
    use crate::plan::find_job;

    fn names(tables: &[&str]) -> Vec<String> {
        tables.iter().map(|t| t.to_string()).collect()
    }

    #[test]
    fn excluded_tables_leave_the_plan_with_the_expectations_checking_them() {
        let job = find_job("accidents-datamart").unwrap();
        let before = job.expectations.len();
        let (job, dropped) = job
            .excluding(&names(&["kpis_weather", "insights"]))
            .unwrap();
        let gold: Vec<&str> = job.gold.iter().map(|g| g.query.name.as_str()).collect();
        assert!(!gold.contains(&"kpis_weather") && !gold.contains(&"insights"));
        assert_eq!(gold.len(), 7, "{gold:?}");
        let dropped_names: Vec<&str> = dropped.iter().map(|e| e.name.as_str()).collect();
        // job.toml's drift on kpis_weather, and the two of gold/kpis_weather.sql
        for name in [
            "weather_category_drift",
            "kpis_weather_counts_sum_to_accidents",
            "kpis_weather_shares_sum_to_100",
        ] {
            assert!(dropped_names.contains(&name), "{dropped_names:?}");
        }
        assert_eq!(job.expectations.len() + dropped.len(), before);
        assert!(
            job.expectations
                .iter()
                .all(|e| e.table.as_deref() != Some("kpis_weather"))
        );
        // the Silver input's expectations stay
        assert!(
            job.expectations
                .iter()
                .any(|e| e.name == "silver_completeness_error")
        );
    }

    #[test]
    fn an_unknown_table_is_bad_input_listing_the_jobs_tables() {
        let job = find_job("accidents-datamart").unwrap();
        let message = job
            .excluding(&names(&["kpis_nothing"]))
            .unwrap_err()
            .to_string();
        assert!(message.contains("--exclude"), "{message}");
        assert!(message.contains("'kpis_nothing'"), "{message}");
        assert!(message.contains("kpis_security"), "{message}");
    }

    #[test]
    fn excluding_nothing_keeps_the_plan() {
        let job = find_job("accidents-datamart").unwrap();
        let (gold, expectations) = (job.gold.len(), job.expectations.len());
        let (job, dropped) = job.excluding(&[]).unwrap();
        assert_eq!(
            (job.gold.len(), job.expectations.len()),
            (gold, expectations)
        );
        assert!(dropped.is_empty());
    }
}
