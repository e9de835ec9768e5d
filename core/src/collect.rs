//! Running a SQL statement to its batches, with errors that name what was being done.

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::prelude::SessionContext;

use crate::error::{Error, Result};

/// Runs `sql` in `ctx` and collects its batches; an error is an [`Error::Engine`] of `what`.
pub async fn collect_sql(ctx: &SessionContext, sql: &str, what: &str) -> Result<Vec<RecordBatch>> {
    ctx.sql(sql)
        .await
        .map_err(|e| Error::engine(what, e))?
        .collect()
        .await
        .map_err(|e| Error::engine(what, e))
}
