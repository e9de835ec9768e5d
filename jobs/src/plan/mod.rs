//! Job plans are data: each job is a folder under `jobs/sql/` with a `job.toml` (inputs, reference
//! data, quality rules, parameters), `views/*.sql` (shared intermediate views) and `gold/*.sql` (one
//! file per Gold table, with its table options in `-- medallion:` comment lines). Adding a Gold table
//! means adding a file. The folders are compiled into the binary, so every process has the same plans.

mod params;
mod spec;

use std::collections::BTreeMap;

use include_dir::{Dir, include_dir};
use medallion_core::lake::ColumnKind;
use medallion_core::table_options::TableOptions;
use medallion_core::{Error, Result};

pub use params::Params;
use spec::JobSpec;

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
}

/// A named SQL query (a view or a Gold table).
#[derive(Debug, Clone)]
pub struct SqlQuery {
    /// The view's or table's name (the file name without `.sql` and any `NN_` ordering prefix).
    pub name: String,
    /// The query text, with `${param}` placeholders.
    pub sql: &'static str,
}

/// A Gold table: its query and its database layout.
#[derive(Debug, Clone)]
pub struct GoldQuery {
    /// The query.
    pub query: SqlQuery,
    /// Keys, partitioning, indexes and column types.
    pub options: TableOptions,
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
}

/// Every job plan compiled into this binary, sorted by name.
pub fn all_jobs() -> Result<Vec<JobPlan>> {
    let mut jobs = JOB_FOLDERS
        .dirs()
        .map(load_job)
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

fn plan_error(folder: &Dir<'_>, message: impl std::fmt::Display) -> Error {
    Error::invalid(
        "job plan",
        format!("jobs/sql/{}: {message}", folder.path().display()),
    )
}

fn load_job(folder: &Dir<'static>) -> Result<JobPlan> {
    let spec_text = folder
        .get_file(folder.path().join("job.toml"))
        .and_then(|f| f.contents_utf8())
        .ok_or_else(|| plan_error(folder, "missing job.toml"))?;
    let spec: JobSpec = toml::from_str(spec_text).map_err(|e| plan_error(folder, e))?;
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
    Ok(JobPlan {
        name: spec.name,
        description: spec.description,
        inputs,
        references,
        quality: spec.quality.map(|q| QualityRule {
            input: q.input,
            accepted: q.accepted,
        }),
        params: Params::from_toml(&spec.params).map_err(|e| plan_error(folder, e))?,
        views: sql_files(folder, "views")?,
        gold,
    })
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
            SqlQuery {
                name: strip_order_prefix(stem).to_string(),
                sql,
            },
        );
    }
    Ok(files.into_values().collect())
}

/// `10_accidents_classified` → `accidents_classified`.
fn strip_order_prefix(stem: &str) -> &str {
    match stem.split_once('_') {
        Some((prefix, rest)) if !prefix.is_empty() && prefix.chars().all(|c| c.is_ascii_digit()) => {
            rest
        }
        _ => stem,
    }
}

/// The table options in the `-- medallion: key = value` lines of a Gold SQL file.
fn table_options(sql: &str) -> std::result::Result<TableOptions, String> {
    let mut options = TableOptions::default();
    for line in sql.lines() {
        if let Some(directive) = line.trim().strip_prefix("-- medallion:") {
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
