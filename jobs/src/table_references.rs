//! The tables and views a SQL text reads, as DataFusion resolves them before planning.

use datafusion::error::Result;
use datafusion::prelude::SessionContext;

/// The names of the tables and views `sql` reads in `ctx`'s dialect, its common table expressions
/// excluded; an error when it does not parse.
pub fn tables_read(ctx: &SessionContext, sql: &str) -> Result<Vec<String>> {
    let state = ctx.state();
    let dialect = state.config().options().sql_parser.dialect;
    let statement = state.sql_to_statement(sql, &dialect)?;
    let references = state.resolve_table_references(&statement)?;
    Ok(references.iter().map(|r| r.table().to_string()).collect())
}
