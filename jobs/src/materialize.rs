//! Materialized views: the views a run shares between its queries (those marked
//! `-- medallion: materialize` that two or more of them read, see [`crate::shared_views`]) are
//! computed once per run, before its Gold tables, and kept in memory as [`MaterializedTable`]s, so
//! the Gold tables that share a small aggregate read the lake once for it instead of once each.
//!
//! DataFusion binds a view to the tables it reads when it is created, so after a view is
//! materialized every later view of the job is created again: it then reads the materialized rows.
//! A query that reads none of those views ([`ViewDependencies`]) does not wait for them: it may run
//! while they are computed (e.g. a big table loading into MySQL while the aggregates are computed).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use datafusion::prelude::SessionContext;
use medallion_core::materialized::MaterializedTable;
use medallion_core::{Error, Result};
use tracing::info;

use crate::plan::{Params, SqlQuery};
use crate::shared_views::reads_of;

/// Computes the views of `views` (in order) named in `shared` and registers their rows in `ctx`
/// under their names; re-creates the other views after the first one so they read those rows.
/// Does nothing when `shared` names none of them.
pub async fn materialize_views(
    ctx: &SessionContext,
    views: &[SqlQuery],
    shared: &HashSet<String>,
    params: &Params,
) -> Result<()> {
    let Some(first) = views.iter().position(|v| shared.contains(&v.name)) else {
        return Ok(());
    };
    for view in &views[first..] {
        let sql = params
            .substitute(view.sql)
            .map_err(|e| Error::invalid(format!("view {}", view.name), e))?;
        if shared.contains(&view.name) {
            materialize(ctx, &view.name, &sql).await?;
        } else {
            ctx.sql(&format!("CREATE OR REPLACE VIEW {} AS {sql}", view.name))
                .await
                .map_err(|e| Error::engine(format!("creating view {}", view.name), e))?;
        }
    }
    Ok(())
}

/// Which of a run's queries must wait for its materialized views: those that read, directly or
/// through the plain views before them, a materialized view or a view created again after one.
#[derive(Debug, Default)]
pub struct ViewDependencies {
    /// The views from the first materialized one on: computed or created again by
    /// [`materialize_views`].
    late: HashSet<String>,
    /// The plain views before the first materialized one, with the tables and views each reads;
    /// `None` when its SQL could not be read (it then counts as reading a late view).
    early: HashMap<String, Option<Vec<String>>>,
}

impl ViewDependencies {
    /// The dependencies of `views` (in order) of which those in `shared` are materialized, their
    /// SQL with `params` substituted.
    pub fn new(
        ctx: &SessionContext,
        views: &[SqlQuery],
        shared: &HashSet<String>,
        params: &Params,
    ) -> Self {
        let Some(first) = views.iter().position(|v| shared.contains(&v.name)) else {
            return Self::default();
        };
        let early = views[..first]
            .iter()
            .map(|view| (view.name.clone(), reads_of(ctx, view, params)))
            .collect();
        let late = views[first..].iter().map(|v| v.name.clone()).collect();
        Self { late, early }
    }

    /// Whether a query reading the tables and views `reads` must wait for the materialized views.
    pub fn waits_for(&self, reads: &[String]) -> bool {
        let mut seen = HashSet::new();
        let mut pending: Vec<&str> = reads.iter().map(String::as_str).collect();
        while let Some(name) = pending.pop() {
            if self.late.contains(name) {
                return true;
            }
            if !seen.insert(name) {
                continue;
            }
            match self.early.get(name) {
                Some(Some(inner)) => pending.extend(inner.iter().map(String::as_str)),
                Some(None) => return true,
                None => {}
            }
        }
        false
    }

    /// Whether query `sql` must wait for the materialized views (the tests' shorthand for
    /// [`Self::reads_wait`] of what [`tables_read`](crate::table_references::tables_read) finds
    /// in it).
    #[cfg(test)]
    fn sql_waits(&self, ctx: &SessionContext, sql: &str) -> bool {
        self.reads_wait(
            crate::table_references::tables_read(ctx, sql)
                .ok()
                .as_deref(),
        )
    }

    /// Whether a query reading `reads` (as
    /// [`tables_read`](crate::table_references::tables_read) found them; `None` when its SQL could
    /// not be read) must wait for the materialized views: an unreadable query waits when any view
    /// is materialized (its planning then reports what is wrong with it).
    pub fn reads_wait(&self, reads: Option<&[String]>) -> bool {
        if self.late.is_empty() {
            return false;
        }
        reads.is_none_or(|reads| self.waits_for(reads))
    }
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

    /// The views of `views` marked materialized (as if each had two readers).
    fn marked(views: &[SqlQuery]) -> HashSet<String> {
        views
            .iter()
            .filter(|v| v.is_materialized())
            .map(|v| v.name.clone())
            .collect()
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
            SqlQuery::new(
                "totals",
                "-- medallion: materialize\nSELECT SUM(x) AS total FROM source",
            ),
            SqlQuery::new("doubled", "SELECT total * 2 AS doubled FROM totals"),
        ];
        for v in &views {
            ctx.sql(&format!("CREATE VIEW {} AS {}", v.name, v.sql))
                .await
                .unwrap();
        }
        materialize_views(&ctx, &views, &marked(&views), &Params::default())
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

    #[test]
    fn only_queries_reading_a_materialized_view_or_a_later_view_wait() {
        let ctx = SessionContext::new();
        let views = vec![
            SqlQuery::new("clean", "SELECT x FROM source WHERE x > ${floor}"),
            SqlQuery::new("tagged", "SELECT x, x % 2 AS odd FROM clean"),
            SqlQuery::new(
                "totals",
                "-- medallion: materialize\nSELECT SUM(x) AS total FROM clean",
            ),
            SqlQuery::new("doubled", "SELECT total * 2 AS doubled FROM totals"),
            SqlQuery::new("recreated", "SELECT x FROM clean"),
        ];
        let params = Params::from_toml(&"floor = 0".parse().unwrap()).unwrap();
        let deps = ViewDependencies::new(&ctx, &views, &marked(&views), &params);
        // the Silver table and the plain views before the first materialized one: no wait
        assert!(!deps.sql_waits(&ctx, "SELECT * FROM source"));
        assert!(!deps.sql_waits(&ctx, "SELECT odd, COUNT(*) FROM tagged GROUP BY odd"));
        // a common table expression named like a late view is not that view
        assert!(!deps.sql_waits(
            &ctx,
            "WITH totals AS (SELECT 1 AS t) SELECT t FROM totals JOIN clean ON true"
        ));
        // the materialized view, a plain view after it, or any view created again after it
        assert!(deps.sql_waits(&ctx, "SELECT total FROM totals"));
        assert!(deps.sql_waits(&ctx, "SELECT doubled FROM doubled"));
        assert!(deps.sql_waits(&ctx, "SELECT x FROM recreated"));
        assert!(deps.sql_waits(
            &ctx,
            "SELECT x FROM tagged WHERE x IN (SELECT total FROM totals)"
        ));
        // what cannot be read waits: its planning reports the error after the views
        assert!(deps.sql_waits(&ctx, "SELEC nonsense"));
    }

    #[test]
    fn an_early_view_whose_sql_cannot_be_read_makes_its_readers_wait() {
        let ctx = SessionContext::new();
        let views = vec![
            SqlQuery::new("broken", "SELECT x FROM source WHERE ${undefined}"),
            SqlQuery::new("totals", "-- medallion: materialize\nSELECT 1 AS t"),
        ];
        let deps = ViewDependencies::new(&ctx, &views, &marked(&views), &Params::default());
        assert!(deps.sql_waits(&ctx, "SELECT x FROM broken"));
        assert!(!deps.sql_waits(&ctx, "SELECT x FROM source"));
    }

    #[test]
    fn without_materialized_views_nothing_waits() {
        let ctx = SessionContext::new();
        let views = vec![SqlQuery::new("v", "SELECT 1 AS one")];
        let deps = ViewDependencies::new(&ctx, &views, &marked(&views), &Params::default());
        assert!(!deps.sql_waits(&ctx, "SELECT one FROM v"));
        assert!(!deps.sql_waits(&ctx, "not even SQL"));
    }

    #[tokio::test]
    async fn a_marked_view_the_run_does_not_share_is_not_computed() {
        let ctx = SessionContext::new();
        let views = vec![SqlQuery::new(
            "totals",
            "-- medallion: materialize\nSELECT SUM(x) AS t FROM nowhere",
        )];
        // not even planned: the missing table would fail it
        materialize_views(&ctx, &views, &HashSet::new(), &Params::default())
            .await
            .unwrap();
        let deps = ViewDependencies::new(&ctx, &views, &HashSet::new(), &Params::default());
        assert!(!deps.sql_waits(&ctx, "SELECT t FROM totals"));
    }

    #[tokio::test]
    async fn a_job_without_materialized_views_is_left_alone() {
        let ctx = SessionContext::new();
        let views = vec![SqlQuery::new("v", "SELECT 1 AS one FROM nowhere")];
        // not even planned: the missing table would fail it
        materialize_views(&ctx, &views, &marked(&views), &Params::default())
            .await
            .unwrap();
    }
}
