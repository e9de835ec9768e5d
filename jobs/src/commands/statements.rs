//! Running the statements of a SQL text one after the other and writing each result, for
//! `medallion sql` and its shell.

use datafusion::prelude::SessionContext;
use medallion_core::{Error, Result};

use super::output::ResultWriter;
use super::{parse_statements, plan_statement, sql_error};

/// Runs every statement of `sql` in order, writing each query's result to `writer`; stops at the
/// first failing statement. Returns the rows of all results.
pub async fn run_sql(ctx: &SessionContext, sql: &str, writer: &mut ResultWriter) -> Result<u64> {
    let statements = parse_statements(ctx, sql)?;
    if statements.is_empty() {
        return Err(Error::invalid("SQL", "no statement"));
    }
    let mut rows = 0;
    for statement in statements {
        let df = plan_statement(ctx, statement).await?;
        let stream = df
            .execute_stream()
            .await
            .map_err(|e| sql_error("query failed", e))?;
        rows += writer.write_stream(stream, "query failed").await?;
    }
    Ok(rows)
}
