//! Options of `medallion run` shared by every job: the reporting period (`--date`, `--week`,
//! `--month`, `--from/--to`), secrets (`--key-file` or the environment variable named in
//! `job.toml`), and where the files a job writes besides its Gold tables go (`--reports DIR`,
//! `--export DIR`; written by [`run_outputs`](crate::run_outputs)).

use std::fs;
use std::path::{Path, PathBuf};

use clap::Args;
use medallion_core::{Error, Result};

use crate::plan::period::{PERIOD_END, PERIOD_START, Period};
use crate::plan::{JobPlan, Params};

/// The timestamp parameter `--since` sets.
pub const SINCE: &str = "since";

/// Shortest secret accepted (a pseudonymisation key shorter than this is too easy to guess).
pub const MIN_SECRET_LEN: usize = 16;

/// The period and output options of `medallion run`.
#[derive(Debug, Clone, Default, Args)]
pub struct RunOptions {
    /// Process one day (sets the job's period_start/period_end).
    #[arg(long, value_name = "YYYY-MM-DD", conflicts_with_all = ["week", "month", "from"])]
    pub date: Option<String>,
    /// Process one ISO week, Monday to Sunday.
    #[arg(long, value_name = "YYYY-Www", conflicts_with_all = ["month", "from"])]
    pub week: Option<String>,
    /// Process one calendar month.
    #[arg(long, value_name = "YYYY-MM", conflicts_with = "from")]
    pub month: Option<String>,
    /// Backfill: process the periods from this day, week or month up to --to, in one atomic run.
    #[arg(long, value_name = "PERIOD", requires = "to")]
    pub from: Option<String>,
    /// Last period (included) of a --from backfill, of the same kind.
    #[arg(long, value_name = "PERIOD", requires = "from")]
    pub to: Option<String>,
    /// Incremental run: the Gold tables marked `incremental = upsert` get only the rows computed
    /// from source rows at or after this UTC time (the job's `since` parameter), upserted into the
    /// published table; the other tables are recomputed in full and replaced.
    #[arg(long, value_name = "TIMESTAMP", conflicts_with_all = ["date", "week", "month", "from"])]
    pub since: Option<String>,
    /// File holding the job's secret (e.g. the pseudonymisation key); overrides the environment
    /// variable named in job.toml.
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// Write the job's readable reports (e.g. one HTML file per patient-week) under DIR.
    #[arg(long, value_name = "DIR")]
    pub reports: Option<PathBuf>,
    /// Also write every Gold table as files (Parquet and/or CSV, per job.toml) under DIR.
    #[arg(long, value_name = "DIR")]
    pub export: Option<PathBuf>,
}

impl RunOptions {
    /// The period the options select, if any.
    pub fn period(&self) -> Result<Option<Period>> {
        fn bad(flag: &'static str) -> impl Fn(String) -> Error {
            move |message| Error::invalid(flag, message)
        }
        Ok(
            match (&self.date, &self.week, &self.month, &self.from, &self.to) {
                (Some(day), ..) => Some(Period::day(day).map_err(bad("--date"))?),
                (_, Some(week), ..) => Some(Period::week(week).map_err(bad("--week"))?),
                (_, _, Some(month), ..) => Some(Period::month(month).map_err(bad("--month"))?),
                (_, _, _, Some(from), Some(to)) => {
                    Some(Period::range(from, to).map_err(bad("--from/--to"))?)
                }
                _ => None,
            },
        )
    }

    /// `incremental` for a `--since` run, else `full` (recorded in `pipeline_runs`).
    pub fn mode(&self) -> &'static str {
        if self.since.is_some() {
            "incremental"
        } else {
            "full"
        }
    }

    /// Applies the period, `--since`, the secrets and the output checks to `params` of `job`:
    /// everything that can be wrong with the options is reported here, before anything runs.
    pub fn apply(&self, job: &JobPlan, params: &mut Params) -> Result<Option<Period>> {
        let period = self.period()?;
        if let Some(since) = &self.since {
            let stamp = crate::plan::parse_timestamp(since).ok_or_else(|| {
                Error::invalid(
                    "--since",
                    format!("'{since}' is not a timestamp YYYY-MM-DDTHH:MM:SS (UTC) or a date"),
                )
            })?;
            params.set_timestamp(SINCE, stamp).map_err(|_| {
                Error::invalid(
                    "--since",
                    format!(
                        "job {} has no incremental tables (no {SINCE} parameter)",
                        job.name
                    ),
                )
            })?;
        }
        if let Some(period) = period {
            for (name, date) in [(PERIOD_START, period.start), (PERIOD_END, period.end)] {
                params.set_date(name, date).map_err(|_| {
                    Error::invalid(
                        "period",
                        format!(
                            "job {} has no {PERIOD_START}/{PERIOD_END} date parameters",
                            job.name
                        ),
                    )
                })?;
            }
        }
        resolve_secrets(job, params, self.key_file.as_deref())?;
        if self.reports.is_some() && job.outputs.reports.is_none() {
            return Err(Error::invalid(
                "--reports",
                format!("job {} writes no reports", job.name),
            ));
        }
        if self.export.is_some() && job.outputs.export.is_empty() {
            return Err(Error::invalid(
                "--export",
                format!("job {} has no file export", job.name),
            ));
        }
        Ok(period)
    }
}

/// Sets every secret of `job` from `key_file` or its environment variable; a missing or too short
/// secret is a usage error (exit code 2), and nothing runs.
pub fn resolve_secrets(job: &JobPlan, params: &mut Params, key_file: Option<&Path>) -> Result<()> {
    if key_file.is_some() && job.secrets.len() != 1 {
        return Err(Error::invalid(
            "--key-file",
            format!("job {} takes no key", job.name),
        ));
    }
    for secret in &job.secrets {
        let what = secret.name.replace('_', " ");
        let value = match key_file {
            Some(path) => fs::read_to_string(path)
                .map_err(|e| Error::io("reading", path, e))?
                .trim()
                .to_string(),
            None => std::env::var(&secret.env)
                .unwrap_or_default()
                .trim()
                .to_string(),
        };
        if value.is_empty() {
            return Err(Error::invalid(
                what,
                format!(
                    "job {} needs one: set {} or pass --key-file FILE",
                    job.name, secret.env
                ),
            ));
        }
        if value.chars().count() < MIN_SECRET_LEN {
            return Err(Error::invalid(
                what,
                format!("must be at least {MIN_SECRET_LEN} characters"),
            ));
        }
        crate::logging::mask_in_logs(&value);
        params.set_secret(&secret.name, &value);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::find_job;

    #[test]
    fn a_period_sets_the_period_parameters() {
        let job = find_job("daily-aggregations").unwrap();
        let mut params = job.params.clone();
        let options = RunOptions {
            week: Some("2024-W10".into()),
            ..RunOptions::default()
        };
        let period = options.apply(&job, &mut params).unwrap().unwrap();
        assert_eq!(period.to_string(), "2024-W10");
        assert_eq!(
            params.substitute("${period_start} ${period_end}").unwrap(),
            "DATE '2024-03-04' DATE '2024-03-11'"
        );
        let datamart = find_job("accidents-datamart").unwrap();
        let mut params = datamart.params.clone();
        let err = options.apply(&datamart, &mut params).unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn secrets_come_from_a_key_file_and_must_be_long_enough() {
        let job = find_job("research-export").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key");
        std::fs::write(&key, "short\n").unwrap();
        let mut params = job.params.clone();
        let err = resolve_secrets(&job, &mut params, Some(&key)).unwrap_err();
        assert!(err.to_string().contains("at least 16"), "{err}");
        std::fs::write(&key, "a key that is long enough\n").unwrap();
        resolve_secrets(&job, &mut params, Some(&key)).unwrap();
        assert_eq!(
            params.substitute("${pseudonym_key}").unwrap(),
            "'a key that is long enough'"
        );
        let datamart = find_job("accidents-datamart").unwrap();
        assert!(resolve_secrets(&datamart, &mut params, Some(&key)).is_err());
    }

    #[test]
    fn outputs_must_exist_for_the_job() {
        let job = find_job("daily-aggregations").unwrap();
        let mut params = job.params.clone();
        let options = RunOptions {
            reports: Some("r".into()),
            ..RunOptions::default()
        };
        assert!(options.apply(&job, &mut params).is_err());
    }
}
