//! The quality of a run's Silver input, measured with the Gold tables: rows read, rows the
//! acceptance rules rejected, and the quality score (the job's score view, or else the completeness
//! of the input's cells).

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::Int64Type;
use datafusion::prelude::SessionContext;
use medallion_core::session::collect_sql;
use medallion_core::{Error, Result};

use crate::plan::QualityRule;

/// Silver row counts and completeness measured during a run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quality {
    /// Rows of the Silver input.
    pub rows_read: u64,
    /// Rows the acceptance rules rejected.
    pub rows_rejected: u64,
    /// The quality score in percent, when it could be measured.
    pub completeness_pct: Option<f64>,
}

/// The columns of the first row of `sql`, as 64-bit integers.
async fn single_i64(ctx: &SessionContext, sql: &str, what: &str) -> Result<Vec<Option<i64>>> {
    let batches = collect_sql(ctx, sql, what).await?;
    let batch = batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .ok_or_else(|| Error::JobFailed {
            job: String::new(),
            message: format!("{what}: the query returned no row"),
        })?;
    Ok((0..batch.num_columns())
        .map(|c| {
            let column = batch.column(c).as_primitive::<Int64Type>();
            (!column.is_null(0)).then(|| column.value(0))
        })
        .collect())
}

/// The first column of the first row of `sql`, as a float.
async fn single_f64(ctx: &SessionContext, sql: &str, what: &str) -> Result<Option<f64>> {
    let batches = collect_sql(ctx, sql, what).await?;
    let Some(batch) = batches.iter().find(|b| b.num_rows() > 0) else {
        return Ok(None);
    };
    let column = datafusion::arrow::compute::cast(
        batch.column(0),
        &datafusion::arrow::datatypes::DataType::Float64,
    )
    .map_err(|e| Error::engine(what.to_string(), e.into()))?;
    let column = column.as_primitive::<datafusion::arrow::datatypes::Float64Type>();
    Ok((!column.is_null(0)).then(|| column.value(0)))
}

/// Rows read, rows rejected and the quality score of the Silver input named by `rule` (a lake
/// table or a view): the `score` view's value, or else the completeness of the input's columns.
pub async fn measure_quality(ctx: &SessionContext, rule: &QualityRule) -> Result<Quality> {
    let input = ctx
        .table(rule.input.as_str())
        .await
        .map_err(|e| Error::engine(format!("opening quality input {}", rule.input), e))?;
    let columns = input.schema().fields().clone();
    let non_null = columns
        .iter()
        .map(|f| {
            format!(
                "CAST(COUNT(\"{}\") AS BIGINT)",
                f.name().replace('"', "\"\"")
            )
        })
        .collect::<Vec<_>>()
        .join(" + ");
    // one query (one Ballista job on a cluster) for both counts
    let counts = single_i64(
        ctx,
        &format!(
            "SELECT * FROM (SELECT CAST(COUNT(*) AS BIGINT) AS rows_read, {non_null} AS non_null \
             FROM {}) CROSS JOIN (SELECT CAST(COUNT(*) AS BIGINT) AS accepted FROM {})",
            rule.input, rule.accepted
        ),
        "measuring Silver completeness and counting accepted rows",
    )
    .await?;
    let count = |i: usize| counts.get(i).copied().flatten().unwrap_or(0).max(0);
    let rows_read = count(0) as u64;
    let non_null = count(1) as f64;
    let accepted = count(2) as u64;
    let cells = rows_read as f64 * columns.len() as f64;
    let score = match &rule.score {
        Some(view) => {
            single_f64(
                ctx,
                &format!("SELECT * FROM {view}"),
                "measuring the quality score",
            )
            .await?
        }
        None => (cells > 0.0).then(|| 100.0 * non_null / cells),
    };
    Ok(Quality {
        rows_read,
        rows_rejected: rows_read.saturating_sub(accepted),
        completeness_pct: score,
    })
}
