//! Materialized views: a job's views marked `-- medallion: materialize` are computed once per run,
//! before its Gold tables, and kept in memory as [`MaterializedTable`]s, so the Gold tables that
//! share a small aggregate read the lake once for it instead of once each.
//!
//! DataFusion binds a view to the tables it reads when it is created, so after a view is
//! materialized every later view of the job is created again: it then reads the materialized rows.

use std::sync::Arc;
use std::time::Instant;

use datafusion::prelude::SessionContext;
use medallion_core::materialized::MaterializedTable;
use medallion_core::{Error, Result};
use tracing::info;

use crate::plan::{Params, SqlQuery};

/// Computes the materialized views among `views` (in order) and registers their rows in `ctx` under
/// their names; re-creates the plain views after the first one so they read those rows. Does
/// nothing when no view is materialized.
pub async fn materialize_views(
    ctx: &SessionContext,
    views: &[SqlQuery],
    params: &Params,
) -> Result<()> {
    let Some(first) = views.iter().position(SqlQuery::is_materialized) else {
        return Ok(());
    };
    for view in &views[first..] {
        let sql = params
            .substitute(view.sql)
            .map_err(|e| Error::invalid(format!("view {}", view.name), e))?;
        if view.is_materialized() {
            materialize(ctx, &view.name, &sql).await?;
        } else {
            ctx.sql(&format!("CREATE OR REPLACE VIEW {} AS {sql}", view.name))
                .await
                .map_err(|e| Error::engine(format!("creating view {}", view.name), e))?;
        }
    }
    Ok(())
}

/// Runs `sql` and registers its rows as table `name` in place of the view of that name.
async fn materialize(ctx: &SessionContext, name: &str, sql: &str) -> Result<()> {
    let started = Instant::now();
    let what = || format!("materializing view {name}");
    let df = ctx.sql(sql).await.map_err(|e| Error::engine(what(), e))?;
    let schema = Arc::new(df.schema().as_arrow().clone());
    let batches = df.collect().await.map_err(|e| Error::engine(what(), e))?;
    let table = MaterializedTable::new(schema, batches);
    let rows = table.num_rows();
    ctx.deregister_table(name)
        .map_err(|e| Error::engine(what(), e))?;
    ctx.register_table(name, Arc::new(table))
        .map_err(|e| Error::engine(what(), e))?;
    info!(
        view = %name,
        rows,
        seconds = started.elapsed().as_secs_f64(),
        "view materialized"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{AsArray, RecordBatch};
    use datafusion::arrow::datatypes::Int64Type;

    fn view(name: &str, sql: &'static str) -> SqlQuery {
        SqlQuery {
            name: name.to_string(),
            sql,
        }
    }

    async fn single(ctx: &SessionContext, sql: &str) -> i64 {
        let batches: Vec<RecordBatch> = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        batches[0].column(0).as_primitive::<Int64Type>().value(0)
    }

    #[tokio::test]
    async fn later_views_read_the_materialized_rows_not_the_source() {
        let ctx = SessionContext::new();
        ctx.sql("CREATE TABLE source (x BIGINT) AS VALUES (1), (2), (3)")
            .await
            .unwrap();
        let views = vec![
            view(
                "totals",
                "-- medallion: materialize\nSELECT SUM(x) AS total FROM source",
            ),
            view("doubled", "SELECT total * 2 AS doubled FROM totals"),
        ];
        for v in &views {
            ctx.sql(&format!("CREATE VIEW {} AS {}", v.name, v.sql))
                .await
                .unwrap();
        }
        materialize_views(&ctx, &views, &Params::default())
            .await
            .unwrap();
        // the source changes after materialization: the views keep the run's computed rows
        ctx.sql("INSERT INTO source VALUES (100)")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        assert_eq!(single(&ctx, "SELECT total FROM totals").await, 6);
        assert_eq!(single(&ctx, "SELECT doubled FROM doubled").await, 12);
        let provider = ctx.table_provider("totals").await.unwrap();
        assert!(provider.downcast_ref::<MaterializedTable>().is_some());
    }

    #[tokio::test]
    async fn a_job_without_materialized_views_is_left_alone() {
        let ctx = SessionContext::new();
        let views = vec![view("v", "SELECT 1 AS one FROM nowhere")];
        // not even planned: the missing table would fail it
        materialize_views(&ctx, &views, &Params::default())
            .await
            .unwrap();
    }
}
