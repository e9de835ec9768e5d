//! The ad-hoc side of `medallion`: SQL over the lake catalog (`sql`, with an interactive shell),
//! `tables`, `describe`, `explain`, `runs`, `jobs`, `status`, `cancel`, and the checks of
//! `run --dry-run`.
//!
//! Every command here reads, but `cancel`, which asks the scheduler to cancel a job; none writes to
//! the lake or a sink.

pub mod cancel;
pub mod catalog;
pub mod dry_run;
pub mod explain;
pub mod jobs;
pub mod output;
pub mod runs;
pub mod shell;
pub mod sql;
pub mod statements;
pub mod status;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use clap::Args;
use datafusion::error::DataFusionError;
use datafusion::prelude::{DataFrame, SessionContext};
use datafusion::sql::parser::{DFParserBuilder, Statement};
use datafusion::sql::sqlparser::dialect::dialect_from_str;
use medallion_core::catalog::{CATALOG_FILE, CatalogTable, LakeCatalog};
use medallion_core::{Error, Result, session};

/// The lake folder used when neither `--lake` nor `--catalog` is given and it exists (the one
/// `medallion run` fills with sample data).
pub use crate::run_config::DEFAULT_LAKE;

/// Where the lake tables come from.
#[derive(Debug, Clone, Default, Args)]
pub struct LakeArgs {
    /// Lake root: every immediate subfolder holding .parquet or .orc files is a table named after
    /// it (a local folder, file://, s3://bucket/prefix or hdfs://namenode:port/path)
    /// [default: ./lake when it exists].
    #[arg(long, env = "MEDALLION_LAKE", value_name = "DIR|URL")]
    pub lake: Option<String>,
    /// Catalog file mapping table names to folders, formats and partition columns
    /// [default: ./medallion.toml when it exists].
    #[arg(long, env = "MEDALLION_CATALOG", value_name = "FILE")]
    pub catalog: Option<PathBuf>,
}

impl LakeArgs {
    /// The catalog the options name: the catalog file (given, or `./medallion.toml`), with its
    /// lake root replaced by `--lake`; or the lake root alone; or `./lake` when it exists.
    pub fn catalog(&self) -> Result<LakeCatalog> {
        let mut catalog = match &self.catalog {
            Some(path) => LakeCatalog::from_file(path)?,
            None if Path::new(CATALOG_FILE).is_file() => {
                LakeCatalog::from_file(Path::new(CATALOG_FILE))?
            }
            None => LakeCatalog::default(),
        };
        match &self.lake {
            Some(lake) if lake.is_empty() => return Err(Error::invalid("--lake", "empty")),
            Some(lake) => catalog.lake = Some(lake.clone()),
            None if catalog.lake.is_none()
                && catalog.entries.is_empty()
                && Path::new(DEFAULT_LAKE).is_dir() =>
            {
                catalog.lake = Some(DEFAULT_LAKE.to_string());
            }
            None => {}
        }
        Ok(catalog)
    }

    /// Opens every table of the catalog and registers it in `ctx`.
    pub async fn register(&self, ctx: &SessionContext) -> Result<Vec<CatalogTable>> {
        let tables = self.catalog()?.register(ctx).await?;
        tracing::debug!(tables = tables.len(), "lake catalog registered");
        Ok(tables)
    }
}

/// A context that plans and runs in this process without a Ballista cluster (for listing,
/// describing and planning), with medallion's UDFs and object stores.
pub fn local_context() -> Result<SessionContext> {
    Ok(SessionContext::new_with_state(session::session_state()?))
}

/// An error of the SQL text or its plan (syntax, unknown table or column, type mismatch) is bad
/// input (exit 2); anything else is an engine failure (exit 1). Either way the message is the root
/// cause, on one line.
pub fn sql_error(context: &str, error: DataFusionError) -> Error {
    if let Some(bad) = Error::bad_lake_data_in(&error) {
        return bad;
    }
    let root = into_root(error);
    let message = one_line(&match &root {
        DataFusionError::SQL(parser, _) => parser.to_string(),
        other => other.to_string(),
    });
    match root {
        DataFusionError::SQL(..)
        | DataFusionError::Plan(..)
        | DataFusionError::SchemaError(..)
        | DataFusionError::NotImplemented(..) => Error::invalid("SQL", message),
        root if root.to_string().contains('\n') => {
            Error::engine(context.to_string(), DataFusionError::Execution(message))
        }
        root => Error::engine(context.to_string(), root),
    }
}

/// The innermost error of `error`'s context and diagnostic wrappers.
fn into_root(error: DataFusionError) -> DataFusionError {
    match error {
        DataFusionError::Context(_, inner) | DataFusionError::Diagnostic(_, inner) => {
            into_root(*inner)
        }
        DataFusionError::External(boxed) => match boxed.downcast::<DataFusionError>() {
            Ok(inner) => into_root(*inner),
            Err(boxed) => DataFusionError::External(boxed),
        },
        other => other,
    }
}

/// `text` on one line: its non-empty lines joined by spaces.
pub fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Parses `sql` into its statements (separated by `;`) with the context's SQL dialect.
pub fn parse_statements(ctx: &SessionContext, sql: &str) -> Result<VecDeque<Statement>> {
    let state = ctx.state();
    let options = state.config().options();
    let dialect_name = options.sql_parser.dialect.to_string();
    let dialect = dialect_from_str(&dialect_name)
        .ok_or_else(|| Error::invalid("SQL dialect", dialect_name.clone()))?;
    DFParserBuilder::new(sql)
        .with_dialect(dialect.as_ref())
        .with_recursion_limit(options.sql_parser.recursion_limit.get())
        .build()
        .and_then(|mut parser| parser.parse_statements())
        .map_err(|e| sql_error("parsing SQL", e))
}

/// Plans `statement` and runs it if it is DDL (`CREATE VIEW`, `SET`, ...); a query is returned as
/// a DataFrame, not run yet.
pub async fn plan_statement(ctx: &SessionContext, statement: Statement) -> Result<DataFrame> {
    let state = ctx.state();
    let plan = state
        .statement_to_plan(statement)
        .await
        .map_err(|e| sql_error("planning SQL", e))?;
    medallion_core::read_guard::check_writes(&state, &plan)
        .map_err(|e| sql_error("planning SQL", e))?;
    ctx.execute_logical_plan(plan)
        .await
        .map_err(|e| sql_error("planning SQL", e))
}
