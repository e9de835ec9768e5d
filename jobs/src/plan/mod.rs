//! Job plans are data: each job is a folder under `jobs/sql/` with a `job.toml` (inputs, reference
//! data, quality rules, parameters), `views/*.sql` (shared intermediate views) and `gold/*.sql` (one
//! file per Gold table, with its table options in `-- medallion:` comment lines). Adding a Gold table
//! means adding a file. The folders are compiled into the binary, so every process has the same plans.
//!
//! A job may `include` other jobs: their inputs, reference tables, parameters and views come first,
//! so SQL shared by several jobs (e.g. the medical jobs' cleaned vitals) is written once.

mod exclude;
mod hash;
mod maintenance;
mod params;
pub mod period;
mod spec;

use std::collections::BTreeMap;

use include_dir::{Dir, include_dir};
use medallion_core::lake::ColumnKind;
use medallion_core::table_options::TableOptions;
use medallion_core::{Error, Result};

pub use hash::plan_hash;
pub use maintenance::MaintenanceJob;
pub use params::{Params, parse_date, parse_timestamp};
use spec::JobSpec;

use crate::quality::{self, Expectation};

static JOB_FOLDERS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/sql");
static REFERENCE_DATA: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../data");

/// A Silver table the job reads from the lake, with the columns its SQL needs.
#[derive(Debug, Clone)]
pub struct LakeInput {
    /// The table's folder name under the lake root, and its SQL name.
    pub name: String,
    /// Required columns and the kind of values each must hold.
    pub columns: Vec<(String, ColumnKind)>,
}

/// A reference table shipped with medallion (`data/`).
#[derive(Debug, Clone)]
pub struct Reference {
    /// The SQL name.
    pub name: String,
    /// The file name under `data/`.
    pub file: String,
    /// The CSV text.
    pub csv: &'static str,
}

/// How a run's data quality is measured.
#[derive(Debug, Clone)]
pub struct QualityRule {
    /// The Silver table whose rows are read and whose completeness is scored.
    pub input: String,
    /// The view holding the accepted rows.
    pub accepted: String,
    /// A view whose one row and column is the run's quality score in percent; without it the
    /// score is the completeness (share of non-NULL cells) of `input`.
    pub score: Option<String>,
    /// The fewest rows of `input` the statistical expectations (completeness, row count change)
    /// judge; below, they are skipped.
    pub min_rows: u64,
}

/// A secret parameter (e.g. a pseudonymisation key): never in `job.toml` or on the command line,
/// read from an environment variable or a `--key-file`.
#[derive(Debug, Clone)]
pub struct SecretParam {
    /// The parameter's name in the SQL (`${name}`).
    pub name: String,
    /// The environment variable holding it.
    pub env: String,
}

/// Files a job writes besides its Gold tables (`[outputs]` of `job.toml`).
#[derive(Debug, Clone, Default)]
pub struct Outputs {
    /// The report renderer run by `--reports DIR`.
    pub reports: Option<String>,
    /// What `--export DIR` writes, of [`EXPORT_FORMATS`]: every Gold table as Parquet and/or CSV
    /// files, and the dashboard JSON documents ([`DASHBOARD_JSON`]).
    pub export: Vec<String>,
}

/// The `[outputs] export` format of job.toml that selects the dashboard JSON documents
/// (see [`crate::dashboard_export`]).
pub const DASHBOARD_JSON: &str = "dashboard-json";

/// Every `[outputs] export` format job.toml may name.
pub const EXPORT_FORMATS: [&str; 3] = ["parquet", "csv", DASHBOARD_JSON];

/// A named SQL query (a view or a Gold table).
#[derive(Debug, Clone)]
pub struct SqlQuery {
    /// The view's or table's name (the file name without `.sql` and any `NN_` ordering prefix).
    pub name: String,
    /// The query text, with `${param}` placeholders.
    pub sql: &'static str,
}

/// The line that makes a view materialized: computed once per run, its rows kept in memory for the
/// queries that read it (see [`SqlQuery::is_materialized`]).
pub const MATERIALIZE_LINE: &str = "-- medallion: materialize";

impl SqlQuery {
    /// The query `name` with text `sql`.
    pub fn new(name: impl Into<String>, sql: &'static str) -> Self {
        Self {
            name: name.into(),
            sql,
        }
    }

    /// Whether this view is computed once per run and kept in memory (a line
    /// `-- medallion: materialize` in its SQL) rather than inlined into every query that reads it.
    /// Meant for small aggregates that several Gold tables share.
    pub fn is_materialized(&self) -> bool {
        self.sql.lines().any(|line| line.trim() == MATERIALIZE_LINE)
    }
}

/// A Gold table: its query and its database layout.
#[derive(Debug, Clone)]
pub struct GoldQuery {
    /// The query.
    pub query: SqlQuery,
    /// Keys, partitioning, indexes and column types.
    pub options: TableOptions,
}

impl GoldQuery {
    /// The table's SQL with `params` substituted; a parameter it lacks is bad input naming the
    /// table.
    pub fn sql_with(&self, params: &Params) -> Result<String> {
        params
            .substitute(self.query.sql)
            .map_err(|e| Error::invalid(format!("Gold table {}", self.query.name), e))
    }
}

/// A whole job plan.
#[derive(Debug, Clone)]
pub struct JobPlan {
    /// The job's name, as given to `medallion run`.
    pub name: String,
    /// One line saying what it produces.
    pub description: String,
    /// Silver tables read from the lake.
    pub inputs: Vec<LakeInput>,
    /// Reference tables.
    pub references: Vec<Reference>,
    /// The data quality rule, if the job has one.
    pub quality: Option<QualityRule>,
    /// Default parameters.
    pub params: Params,
    /// Views, in the order they are created.
    pub views: Vec<SqlQuery>,
    /// Gold tables, in the order they are written.
    pub gold: Vec<GoldQuery>,
    /// Secret parameters the run must be given.
    pub secrets: Vec<SecretParam>,
    /// Files written besides the Gold tables.
    pub outputs: Outputs,
    /// The data quality gate's expectations: `[[expect]]` of `job.toml`, then the
    /// `-- medallion: expect` lines of the Gold SQL files (an included job's are not inherited).
    pub expectations: Vec<Expectation>,
}

/// Every job plan compiled into this binary, sorted by name.
pub fn all_jobs() -> Result<Vec<JobPlan>> {
    let mut jobs = JOB_FOLDERS
        .dirs()
        .map(|folder| load_job(folder, 0))
        .collect::<Result<Vec<_>>>()?;
    jobs.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(jobs)
}

/// The job plan called `name`.
pub fn find_job(name: &str) -> Result<JobPlan> {
    let jobs = all_jobs()?;
    let known = jobs
        .iter()
        .map(|j| j.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    jobs.iter()
        .find(|j| j.name == name)
        .cloned()
        .ok_or_else(|| Error::UnknownJob {
            name: name.to_string(),
            known,
        })
}

/// A job `medallion run|submit` can run.
#[derive(Debug, Clone)]
pub enum Job {
    /// A job plan of SQL files, run by the engine.
    Sql(Box<JobPlan>),
    /// A maintenance job, done by the client.
    Maintenance(MaintenanceJob),
}

/// The job called `name`: a maintenance job, or a job plan.
pub fn find(name: &str) -> Result<Job> {
    if let Some(job) = MaintenanceJob::named(name) {
        return Ok(Job::Maintenance(job));
    }
    find_job(name).map(|plan| Job::Sql(Box::new(plan)))
}

fn plan_error(folder: &Dir<'_>, message: impl std::fmt::Display) -> Error {
    Error::invalid(
        "job plan",
        format!("jobs/sql/{}: {message}", folder.path().display()),
    )
}

/// How deep `include`s may nest.
const MAX_INCLUDE_DEPTH: usize = 3;

fn load_job(folder: &Dir<'static>, depth: usize) -> Result<JobPlan> {
    let spec_text = folder
        .get_file(folder.path().join("job.toml"))
        .and_then(|f| f.contents_utf8())
        .ok_or_else(|| plan_error(folder, "missing job.toml"))?;
    let spec: JobSpec = toml::from_str(spec_text).map_err(|e| plan_error(folder, e))?;
    let included = spec
        .include
        .iter()
        .map(|name| {
            if depth >= MAX_INCLUDE_DEPTH {
                return Err(plan_error(
                    folder,
                    format!("include {name}: nested too deep"),
                ));
            }
            let dir = JOB_FOLDERS
                .get_dir(name)
                .ok_or_else(|| plan_error(folder, format!("include {name}: no such job folder")))?;
            load_job(dir, depth + 1)
        })
        .collect::<Result<Vec<_>>>()?;
    let inputs = spec
        .inputs
        .into_iter()
        .map(|input| {
            let columns = input
                .columns
                .into_iter()
                .map(|(column, kind)| {
                    ColumnKind::parse(&kind)
                        .map(|k| (column.clone(), k))
                        .ok_or_else(|| {
                            plan_error(folder, format!("column {column}: unknown kind '{kind}'"))
                        })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(LakeInput {
                name: input.name,
                columns,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let references = spec
        .references
        .into_iter()
        .map(|r| {
            let csv = REFERENCE_DATA
                .get_file(&r.file)
                .and_then(|f| f.contents_utf8())
                .ok_or_else(|| plan_error(folder, format!("no reference file data/{}", r.file)))?;
            Ok(Reference {
                name: r.name,
                file: r.file,
                csv,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let gold = sql_files(folder, "gold")?
        .into_iter()
        .map(|query| {
            let options = table_options(query.sql)
                .map_err(|e| plan_error(folder, format!("gold/{}.sql: {e}", query.name)))?;
            Ok(GoldQuery { query, options })
        })
        .collect::<Result<Vec<_>>>()?;
    let mut expectations =
        quality::parse::from_toml(&spec.expect, "job.toml").map_err(|e| plan_error(folder, e))?;
    for gold in &gold {
        let origin = format!("gold/{}.sql", gold.query.name);
        expectations.extend(
            quality::parse::from_sql_lines(gold.query.sql, &gold.query.name, &origin)
                .map_err(|e| plan_error(folder, e))?,
        );
    }
    for format in &spec.outputs.export {
        if !EXPORT_FORMATS.contains(&format.as_str()) {
            return Err(plan_error(
                folder,
                format!(
                    "outputs.export: unknown format '{format}' ({})",
                    EXPORT_FORMATS.join(", ")
                ),
            ));
        }
    }
    let own = JobPlan {
        name: spec.name,
        description: spec.description,
        inputs,
        references,
        quality: spec.quality.map(|q| QualityRule {
            input: q.input,
            accepted: q.accepted,
            score: q.score,
            min_rows: q.min_rows.unwrap_or(quality::DEFAULT_MIN_ROWS),
        }),
        params: Params::from_toml(&spec.params).map_err(|e| plan_error(folder, e))?,
        views: sql_files(folder, "views")?,
        gold,
        secrets: spec
            .secrets
            .into_iter()
            .map(|(name, env)| SecretParam { name, env })
            .collect(),
        outputs: Outputs {
            reports: spec.outputs.reports,
            export: spec.outputs.export,
        },
        expectations,
    };
    Ok(included
        .into_iter()
        .rev()
        .fold(own, |own, base| own.on_top_of(base)))
}

impl JobPlan {
    /// This plan with the inputs, references, parameters and views of `base` (an included job)
    /// added first; where both have one of the same name, this plan's wins (input columns are
    /// merged).
    fn on_top_of(mut self, base: JobPlan) -> JobPlan {
        let mut inputs = base.inputs;
        for input in self.inputs {
            match inputs.iter_mut().find(|i| i.name == input.name) {
                Some(existing) => {
                    for column in input.columns {
                        if !existing.columns.iter().any(|(c, _)| *c == column.0) {
                            existing.columns.push(column);
                        }
                    }
                }
                None => inputs.push(input),
            }
        }
        self.inputs = inputs;
        let mut references = base.references;
        references.retain(|r| !self.references.iter().any(|own| own.name == r.name));
        references.append(&mut self.references);
        self.references = references;
        let mut params = base.params;
        params.extend(&self.params);
        self.params = params;
        for secret in base.secrets {
            if !self.secrets.iter().any(|own| own.name == secret.name) {
                self.secrets.push(secret);
            }
        }
        // A view of the same name replaces the base's in place, so the base views built on it
        // (created after it) use the replacement; the other views come after the base's.
        let mut views = base.views;
        for view in self.views {
            match views.iter_mut().find(|v| v.name == view.name) {
                Some(existing) => *existing = view,
                None => views.push(view),
            }
        }
        self.views = views;
        self
    }
}

/// The `.sql` files of `folder/sub`, sorted by file name.
fn sql_files(folder: &Dir<'static>, sub: &str) -> Result<Vec<SqlQuery>> {
    let Some(dir) = folder.get_dir(folder.path().join(sub)) else {
        return Ok(Vec::new());
    };
    let mut files: BTreeMap<String, SqlQuery> = BTreeMap::new();
    for file in dir.files() {
        let path = file.path();
        if path.extension().and_then(|e| e.to_str()) != Some("sql") {
            continue;
        }
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .ok_or_else(|| plan_error(folder, format!("bad file name {}", path.display())))?;
        let sql = file
            .contents_utf8()
            .ok_or_else(|| plan_error(folder, format!("{} is not UTF-8", path.display())))?;
        files.insert(
            stem.to_string(),
            SqlQuery::new(strip_order_prefix(stem), sql),
        );
    }
    Ok(files.into_values().collect())
}

/// `10_accidents_classified` → `accidents_classified`.
fn strip_order_prefix(stem: &str) -> &str {
    match stem.split_once('_') {
        Some((prefix, rest))
            if !prefix.is_empty() && prefix.chars().all(|c| c.is_ascii_digit()) =>
        {
            rest
        }
        _ => stem,
    }
}

/// The table options in the `-- medallion: key = value` lines of a Gold SQL file.
fn table_options(sql: &str) -> std::result::Result<TableOptions, String> {
    let mut options = TableOptions::default();
    for line in sql.lines() {
        if let Some(directive) = line.trim().strip_prefix("-- medallion:")
            && !quality::parse::is_expect_directive(directive)
        {
            options.apply_directive(directive.trim())?;
        }
    }
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_datamart_plan_loads() {
        let job = find_job("accidents-datamart").unwrap();
        let names: Vec<_> = job.gold.iter().map(|g| g.query.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "accidents_summary",
                "hotspots",
                "insights",
                "kpis_anomalies",
                "kpis_correlations",
                "kpis_infrastructure",
                "kpis_security",
                "kpis_temporal",
                "kpis_weather"
            ]
        );
        let summary = &job.gold[0].options;
        assert_eq!(summary.primary_key, ["id", "accident_date"]);
        assert_eq!(summary.partition_by_year.as_deref(), Some("accident_date"));
        assert_eq!(summary.indexes.len(), 4);
        assert_eq!(job.views[0].name, "accidents_classified");
        assert_eq!(job.references[0].name, "state_population");
        assert!(job.inputs[0].columns.len() >= 20);
    }

    #[test]
    fn unknown_jobs_name_the_known_ones() {
        let err = find_job("no-such-job").unwrap_err();
        assert!(err.to_string().contains("accidents-datamart"), "{err}");
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn order_prefixes_are_stripped() {
        assert_eq!(strip_order_prefix("10_accidents"), "accidents");
        assert_eq!(strip_order_prefix("kpis_weather"), "kpis_weather");
    }
}
