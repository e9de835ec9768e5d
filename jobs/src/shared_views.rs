//! Which of a job's views a run materializes: a view marked `-- medallion: materialize` is computed
//! once per run when two or more of the run's queries read it (as a cache shared by them). Read by
//! one, it is planned inside that query like a plain view, so DataFusion keeps only the columns
//! that query uses (a run with `--exclude` does not compute what only the excluded tables need);
//! read by none, it is not computed at all.

use std::collections::{HashMap, HashSet};

use datafusion::prelude::SessionContext;

use crate::plan::{Params, SqlQuery};
use crate::table_references::tables_read;

/// The names of the views of `views` (in order) that the run computes once, given the tables and
/// views each of the run's other queries reads (`queries`: its Gold tables, its quality measure).
/// A view is read by the queries that name it and by the views that name it and are themselves
/// read. A marked view whose readers cannot be told (a view's SQL that does not parse) is
/// materialized, as marked.
pub fn shared_views(
    ctx: &SessionContext,
    views: &[SqlQuery],
    queries: &[Vec<String>],
    params: &Params,
) -> HashSet<String> {
    let marked: Vec<&SqlQuery> = views.iter().filter(|v| v.is_materialized()).collect();
    if marked.is_empty() {
        return HashSet::new();
    }
    let view_reads: HashMap<&str, Option<Vec<String>>> = views
        .iter()
        .map(|view| (view.name.as_str(), reads_of(ctx, view, params)))
        .collect();
    if view_reads.values().any(Option::is_none) {
        return marked.iter().map(|v| v.name.clone()).collect();
    }
    // the views the run needs: those its queries read, directly or through other views
    let mut needed: HashSet<&str> = HashSet::new();
    let mut pending: Vec<&str> = queries.iter().flatten().map(String::as_str).collect();
    while let Some(name) = pending.pop() {
        if let Some(Some(reads)) = view_reads.get(name)
            && needed.insert(name)
        {
            pending.extend(reads.iter().map(String::as_str));
        }
    }
    // each needed view's readers: the queries and the needed views naming it (once each)
    let readers = |name: &str| {
        let by_queries = queries
            .iter()
            .filter(|reads| reads.iter().any(|r| r == name))
            .count();
        let by_views = needed
            .iter()
            .filter(|view| {
                view_reads[**view]
                    .as_ref()
                    .is_some_and(|reads| reads.iter().any(|r| r == name))
            })
            .count();
        by_queries + by_views
    };
    marked
        .into_iter()
        .filter(|view| needed.contains(view.name.as_str()) && readers(&view.name) >= 2)
        .map(|view| view.name.clone())
        .collect()
}

/// The tables and views `view` reads, its SQL with `params` substituted; `None` when that SQL
/// cannot be read.
pub fn reads_of(ctx: &SessionContext, view: &SqlQuery, params: &Params) -> Option<Vec<String>> {
    params
        .substitute(view.sql)
        .ok()
        .and_then(|sql| tables_read(ctx, &sql).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    fn sorted(set: HashSet<String>) -> Vec<String> {
        let mut names: Vec<String> = set.into_iter().collect();
        names.sort();
        names
    }

    /// The datamart's shape: `sums` is read by a Gold table and by a materialized view that two
    /// more Gold tables read; `counts` by one Gold table.
    fn datamart_views() -> Vec<SqlQuery> {
        vec![
            SqlQuery::new("clean", "SELECT * FROM source"),
            SqlQuery::new(
                "sums",
                "-- medallion: materialize\nSELECT k, SUM(x) AS s, SUM(y) AS t FROM clean GROUP BY k",
            ),
            SqlQuery::new(
                "counts",
                "-- medallion: materialize\nSELECT k, COUNT(*) AS n FROM clean GROUP BY k",
            ),
            SqlQuery::new(
                "profiles",
                "-- medallion: materialize\nSELECT k, s / t AS ratio FROM sums",
            ),
        ]
    }

    #[test]
    fn a_marked_view_read_by_two_queries_or_views_is_materialized() {
        let ctx = SessionContext::new();
        let queries = vec![
            reads(&["sums"]),
            reads(&["profiles"]),
            reads(&["profiles", "counts"]),
            reads(&["clean"]),
        ];
        let shared = shared_views(&ctx, &datamart_views(), &queries, &Params::default());
        // sums: a Gold table and the needed view profiles; profiles: two Gold tables
        assert_eq!(sorted(shared), ["profiles", "sums"]);
    }

    #[test]
    fn without_the_tables_that_share_it_a_marked_view_is_inlined_or_not_computed() {
        let ctx = SessionContext::new();
        // the run without the two tables reading profiles: sums has one reader left
        let queries = vec![reads(&["sums"]), reads(&["clean", "counts"])];
        let shared = shared_views(&ctx, &datamart_views(), &queries, &Params::default());
        assert!(shared.is_empty(), "{shared:?}");
        // nothing reads the marked views at all
        let shared = shared_views(
            &ctx,
            &datamart_views(),
            &[reads(&["clean"])],
            &Params::default(),
        );
        assert!(shared.is_empty(), "{shared:?}");
    }

    #[test]
    fn a_view_read_twice_through_plain_views_counts_each_reader() {
        let ctx = SessionContext::new();
        let views = vec![
            SqlQuery::new(
                "totals",
                "-- medallion: materialize\nSELECT SUM(x) AS t FROM source",
            ),
            SqlQuery::new("left_", "SELECT t FROM totals"),
            SqlQuery::new("right_", "SELECT t * 2 AS t FROM totals"),
        ];
        let shared = shared_views(
            &ctx,
            &views,
            &[reads(&["left_", "right_"])],
            &Params::default(),
        );
        assert_eq!(sorted(shared), ["totals"]);
    }

    #[test]
    fn views_that_cannot_be_read_keep_every_marked_view_materialized() {
        let ctx = SessionContext::new();
        let views = vec![
            SqlQuery::new("broken", "SELECT x FROM source WHERE ${undefined}"),
            SqlQuery::new(
                "totals",
                "-- medallion: materialize\nSELECT SUM(x) AS t FROM source",
            ),
        ];
        let shared = shared_views(&ctx, &views, &[reads(&["totals"])], &Params::default());
        assert_eq!(sorted(shared), ["totals"]);
    }
}
