//! What a shared process lets its clients read: the lake, and nothing else.
//!
//! A scheduler serving Flight SQL plans the SQL of any client that reaches its port, and its
//! executors read whatever files the plans name. Left open, `CREATE EXTERNAL TABLE pw STORED AS
//! CSV LOCATION '/etc/passwd'` followed by `SELECT * FROM pw` reads the executors' files (on
//! Kubernetes: every mounted Secret). [`ReadRoots`] closes that: a list of folder URLs (the lake
//! catalog's root and table folders, plus any granted explicitly) and three checks built on it:
//!
//! - [`ReadRoots::guard_session`] wraps the session's table factories, so `CREATE EXTERNAL TABLE`
//!   over a location outside the roots is refused before anything is listed or read, and adds a
//!   physical optimizer rule that refuses any plan scanning a file outside the roots (a view over
//!   such a table, a plan sent by a Ballista client);
//! - [`ReadRoots::check_plan`], which executors run on every task's plan before it starts.
//!
//! Locations are compared as normalized URLs (`/data/lake/../etc` is `file:///data/etc`); a local
//! path is made absolute first. A root covers its folder and everything below it.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider, TableProviderFactory};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::datasource::listing::ListingTableUrl;
use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::context::SQLOptions;
use datafusion::execution::{SessionState, SessionStateBuilder};
use datafusion::logical_expr::{CreateExternalTable, LogicalPlan};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;

use crate::catalog::LakeCatalog;
use crate::error::{Error, Result};

/// The folders (as normalized URLs ending in `/`) a session or an executor may read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadRoots {
    roots: Vec<String>,
}

impl ReadRoots {
    /// The roots `locations` name: local paths (made absolute), `file://`, `s3://bucket/prefix`
    /// or `hdfs://namenode:port/path` URLs.
    pub fn new<S: AsRef<str>>(locations: impl IntoIterator<Item = S>) -> Result<Self> {
        let mut roots = Vec::new();
        for location in locations {
            let location = location.as_ref();
            let root = normalize_folder(location)
                .map_err(|message| Error::invalid("read root", format!("{location}: {message}")))?;
            if !roots.contains(&root) {
                roots.push(root);
            }
        }
        Ok(Self { roots })
    }

    /// The lake root and every table folder of `catalog`, plus `extra`.
    pub fn from_catalog<S: AsRef<str>>(
        catalog: &LakeCatalog,
        extra: impl IntoIterator<Item = S>,
    ) -> Result<Self> {
        let mut locations: Vec<String> = catalog.lake.iter().cloned().collect();
        locations.extend(catalog.entries.iter().map(|entry| entry.url.clone()));
        locations.extend(extra.into_iter().map(|s| s.as_ref().to_string()));
        Self::new(locations)
    }

    /// The roots, as normalized URLs.
    pub fn roots(&self) -> &[String] {
        &self.roots
    }

    /// Whether no root is set (nothing may be read).
    pub fn is_empty(&self) -> bool {
        self.roots.is_empty()
    }

    /// Whether the file or folder at `url` (a normalized URL) lies under a root.
    fn covers(&self, url: &str) -> bool {
        self.roots
            .iter()
            .any(|root| url.starts_with(root.as_str()) || root.strip_suffix('/') == Some(url))
    }

    /// Refuses `location` (as written in `CREATE EXTERNAL TABLE ... LOCATION`) unless it lies
    /// under a root.
    pub fn check_location(&self, location: &str) -> DfResult<()> {
        let url = normalize(location).map_err(|message| {
            DataFusionError::Plan(format!("location '{location}': {message}"))
        })?;
        if self.covers(&url) {
            Ok(())
        } else {
            Err(self.refusal(&format!("location '{location}'")))
        }
    }

    /// Refuses `plan` if it scans a file outside the roots.
    pub fn check_plan(&self, plan: &Arc<dyn ExecutionPlan>) -> DfResult<()> {
        let mut refused = None;
        plan.apply(|node| {
            if let Some(url) = self.first_outside(node.as_ref()) {
                refused = Some(url);
                return Ok(TreeNodeRecursion::Stop);
            }
            Ok(TreeNodeRecursion::Continue)
        })?;
        match refused {
            Some(url) => Err(self.refusal(&format!("file '{url}'"))),
            None => Ok(()),
        }
    }

    /// The first file `node` scans outside the roots, if it scans one.
    fn first_outside(&self, node: &dyn ExecutionPlan) -> Option<String> {
        let scan = node.downcast_ref::<DataSourceExec>()?;
        let config = scan.data_source().downcast_ref::<FileScanConfig>()?;
        // `file:///` or `s3://bucket/`, then the file's path inside the store
        let store = config.object_store_url.as_str();
        let separator = if store.ends_with('/') { "" } else { "/" };
        config
            .file_groups
            .iter()
            .flat_map(|group| group.files())
            .map(|file| format!("{store}{separator}{}", file.object_meta.location))
            .find(|url| !self.covers(url))
    }

    fn refusal(&self, what: &str) -> DataFusionError {
        DataFusionError::Plan(format!(
            "reading {what} is not allowed: only the lake ({}) may be read here",
            if self.roots.is_empty() {
                "no folder granted".to_string()
            } else {
                self.roots.join(", ")
            }
        ))
    }

    /// `state` with every table factory refusing locations outside the roots and a last
    /// physical optimizer rule refusing plans that scan outside them.
    pub fn guard_session(self: &Arc<Self>, state: SessionState) -> SessionState {
        let factories: HashMap<String, Arc<dyn TableProviderFactory>> = state
            .table_factories()
            .iter()
            .map(|(name, inner)| {
                let guarded: Arc<dyn TableProviderFactory> = Arc::new(GuardedTableFactory {
                    inner: Arc::clone(inner),
                    roots: Arc::clone(self),
                });
                (name.clone(), guarded)
            })
            .collect();
        SessionStateBuilder::new_from_existing(state)
            .with_table_factories(factories)
            .with_physical_optimizer_rule(Arc::new(ReadGuardRule {
                roots: Arc::clone(self),
            }))
            .build()
    }
}

/// Marks a session whose statements may not write (`INSERT`, `COPY`), see [`read_only`].
#[derive(Debug)]
pub struct ReadOnly;

/// `state` guarded by `roots` (see [`ReadRoots::guard_session`]) and marked [`ReadOnly`]: what
/// `medallion sql --read-only` runs in.
pub fn read_only(roots: &Arc<ReadRoots>, state: SessionState) -> SessionState {
    let state = roots.guard_session(state);
    let config = state.config().clone().with_extension(Arc::new(ReadOnly));
    SessionStateBuilder::new_from_existing(state)
        .with_config(config)
        .build()
}

/// Refuses `plan` if it writes (`INSERT`, `COPY`) in a [`ReadOnly`] session.
pub fn check_writes(state: &SessionState, plan: &LogicalPlan) -> DfResult<()> {
    if state.config().get_extension::<ReadOnly>().is_none() {
        return Ok(());
    }
    SQLOptions::new()
        .with_allow_dml(false)
        .verify_plan(plan)
        .map_err(|e| DataFusionError::Plan(format!("read-only session: {e}")))
}

/// `location` as a normalized URL (dot segments resolved, local paths absolute).
fn normalize(location: &str) -> std::result::Result<String, String> {
    if location.trim().is_empty() {
        return Err("empty".into());
    }
    let url = ListingTableUrl::parse(location).map_err(|e| e.to_string())?;
    // ListingTableUrl keeps `..` of a local path as written; a URL parse resolves them
    let url = url::Url::parse(url.as_str()).map_err(|e| e.to_string())?;
    Ok(url.to_string())
}

/// `location` as a normalized folder URL ending in `/`.
fn normalize_folder(location: &str) -> std::result::Result<String, String> {
    let mut url = normalize(location)?;
    if !url.ends_with('/') {
        url.push('/');
    }
    Ok(url)
}

/// A table factory that refuses locations outside the roots, then asks the factory it wraps.
struct GuardedTableFactory {
    inner: Arc<dyn TableProviderFactory>,
    roots: Arc<ReadRoots>,
}

impl fmt::Debug for GuardedTableFactory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GuardedTableFactory")
            .field("roots", &self.roots)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl TableProviderFactory for GuardedTableFactory {
    async fn create(
        &self,
        state: &dyn Session,
        cmd: &CreateExternalTable,
    ) -> DfResult<Arc<dyn TableProvider>> {
        for location in &cmd.locations {
            self.roots.check_location(location)?;
        }
        self.inner.create(state, cmd).await
    }
}

/// The physical optimizer rule that refuses plans scanning outside the roots.
#[derive(Debug)]
struct ReadGuardRule {
    roots: Arc<ReadRoots>,
}

impl PhysicalOptimizerRule for ReadGuardRule {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        self.roots.check_plan(&plan)?;
        Ok(plan)
    }

    fn name(&self) -> &str {
        "medallion_read_guard"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::SessionContext;

    fn roots() -> Arc<ReadRoots> {
        Arc::new(ReadRoots::new(["/data/lake", "s3://silver/tables/"]).unwrap())
    }

    #[test]
    fn locations_under_a_root_only() {
        let roots = roots();
        assert_eq!(roots.roots(), ["file:///data/lake/", "s3://silver/tables/"]);
        for allowed in [
            "/data/lake/accidents/",
            "/data/lake",
            "file:///data/lake/x/part-0.parquet",
            "s3://silver/tables/accidents/",
        ] {
            roots.check_location(allowed).expect(allowed);
        }
        for refused in [
            "/etc/passwd",
            "/data/lake/../../etc/passwd",
            "file:///data/lake/../secrets/",
            "/data/lakehouse/",
            "s3://silver/other/",
            "s3://another-bucket/tables/",
            "hdfs://namenode:8020/data/lake/",
            "",
        ] {
            let err = roots.check_location(refused).expect_err(refused);
            assert!(
                err.to_string().contains("not allowed") || refused.is_empty(),
                "{err}"
            );
        }
    }

    #[tokio::test]
    async fn a_guarded_session_refuses_external_tables_and_scans_outside_the_lake() {
        let lake = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        for dir in [lake.path(), outside.path()] {
            std::fs::write(dir.join("t.csv"), "a\n1\n2\n").unwrap();
        }
        let roots = Arc::new(ReadRoots::new([lake.path().to_str().unwrap()]).unwrap());
        let ctx =
            SessionContext::new_with_state(roots.guard_session(SessionContext::new().state()));
        let create = |name: &str, dir: &std::path::Path| {
            format!(
                "CREATE EXTERNAL TABLE {name} STORED AS CSV LOCATION '{}' \
                 OPTIONS ('format.has_header' 'true')",
                dir.join("t.csv").display()
            )
        };
        ctx.sql(&create("inside", lake.path())).await.unwrap();
        let rows = ctx
            .sql("SELECT count(*) FROM inside")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        assert_eq!(rows[0].num_rows(), 1);
        let err = ctx
            .sql(&create("pw", outside.path()))
            .await
            .expect_err("outside the lake");
        assert!(err.to_string().contains("is not allowed"), "{err}");
        let err = ctx
            .sql("CREATE EXTERNAL TABLE pw (line VARCHAR) STORED AS CSV LOCATION '/etc/passwd'")
            .await
            .expect_err("/etc/passwd");
        assert!(err.to_string().contains("/etc/passwd"), "{err}");

        // a table registered around the factories is still refused when it is scanned
        let open = SessionContext::new();
        open.sql(&create("pw", outside.path())).await.unwrap();
        let table = open.table_provider("pw").await.unwrap();
        ctx.register_table("pw", table).unwrap();
        let err = ctx
            .sql("SELECT * FROM pw")
            .await
            .unwrap()
            .collect()
            .await
            .expect_err("scan outside");
        assert!(err.to_string().contains("is not allowed"), "{err}");
    }
}
