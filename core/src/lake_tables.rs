//! The opened tables of a lake as the default schema of a session: the readable tables, and the
//! tables that could not be opened (a corrupt or truncated file, files that disagree on the
//! schema, an unreachable folder), each with the error that says why.
//!
//! One bad table stays one bad table: the lake and its other tables are served as usual, and only
//! a statement naming the bad table fails, with the error naming the file at fault. Bad tables
//! are left out of the table list (`SHOW TABLES`, a Flight SQL client's `GetTables`), which would
//! otherwise fail as a whole.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::{MemorySchemaProvider, SchemaProvider, TableProvider};
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::SessionState;

use crate::error::{Error, Result};

/// The lake's tables as table providers, opened once and shared by every session of a
/// long-lived process (a scheduler serving Flight SQL) or installed in one `medallion sql`
/// context.
#[derive(Debug, Default)]
pub struct LakeTables {
    tables: BTreeMap<String, Arc<dyn TableProvider>>,
    unreadable: BTreeMap<String, Arc<Error>>,
}

impl LakeTables {
    /// The lake of `tables` (name and provider) and of the tables that could not be opened (name
    /// and why).
    pub fn new(
        tables: impl IntoIterator<Item = (String, Arc<dyn TableProvider>)>,
        unreadable: impl IntoIterator<Item = (String, Error)>,
    ) -> Self {
        Self {
            tables: tables.into_iter().collect(),
            unreadable: unreadable
                .into_iter()
                .map(|(name, error)| (name, Arc::new(error)))
                .collect(),
        }
    }

    /// The readable tables' names, sorted.
    pub fn names(&self) -> Vec<String> {
        self.tables.keys().cloned().collect()
    }

    /// The names of the tables that could not be opened, sorted.
    pub fn unreadable_names(&self) -> Vec<String> {
        self.unreadable.keys().cloned().collect()
    }

    /// The error a statement naming table `name` fails with when that table could not be opened.
    pub fn unreadable(&self, name: &str) -> Option<Error> {
        self.unreadable
            .get(name)
            .map(|cause| Error::TableUnreadable {
                table: name.to_string(),
                cause: Arc::clone(cause),
            })
    }

    /// Makes the lake tables visible in the default schema of `state`: a [`LakeSchemaProvider`]
    /// over the schema that was there (so the tables and views a session creates stay in that
    /// session, and tables registered before are kept).
    pub fn install(self: &Arc<Self>, state: &SessionState) -> Result<()> {
        let options = &state.config().options().catalog;
        let catalog = state
            .catalog_list()
            .catalog(&options.default_catalog)
            .ok_or_else(|| {
                Error::invalid(
                    "session",
                    format!("no catalog '{}'", options.default_catalog),
                )
            })?;
        let own = catalog
            .schema(&options.default_schema)
            .unwrap_or_else(|| Arc::new(MemorySchemaProvider::new()));
        catalog
            .register_schema(
                &options.default_schema,
                Arc::new(LakeSchemaProvider::new(self.clone(), own)),
            )
            .map_err(|e| Error::engine("installing the lake catalog", e))?;
        Ok(())
    }

    fn is_lake_table(&self, name: &str) -> bool {
        self.tables.contains_key(name) || self.unreadable.contains_key(name)
    }
}

/// A schema holding the lake tables (shared, read-only) and the session's own tables and views.
/// A session cannot register or drop a table under a lake table's name; naming a table that could
/// not be opened fails with the reason.
#[derive(Debug)]
pub struct LakeSchemaProvider {
    lake: Arc<LakeTables>,
    own: Arc<dyn SchemaProvider>,
}

impl LakeSchemaProvider {
    /// A schema over `lake` whose own tables are those of `own`.
    pub fn new(lake: Arc<LakeTables>, own: Arc<dyn SchemaProvider>) -> Self {
        Self { lake, own }
    }
}

#[async_trait]
impl SchemaProvider for LakeSchemaProvider {
    fn table_names(&self) -> Vec<String> {
        let mut names = self.lake.names();
        names.extend(self.own.table_names());
        names.sort();
        names
    }

    async fn table(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        if let Some(table) = self.lake.tables.get(name) {
            return Ok(Some(table.clone()));
        }
        if let Some(error) = self.lake.unreadable(name) {
            return Err(DataFusionError::External(Box::new(error)));
        }
        self.own.table(name).await
    }

    fn register_table(
        &self,
        name: String,
        table: Arc<dyn TableProvider>,
    ) -> DfResult<Option<Arc<dyn TableProvider>>> {
        if self.lake.is_lake_table(&name) {
            return Err(DataFusionError::Plan(format!(
                "'{name}' is a lake table and cannot be replaced"
            )));
        }
        self.own.register_table(name, table)
    }

    fn deregister_table(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        if self.lake.is_lake_table(name) {
            return Err(DataFusionError::Plan(format!(
                "'{name}' is a lake table and cannot be dropped"
            )));
        }
        self.own.deregister_table(name)
    }

    fn table_exist(&self, name: &str) -> bool {
        self.lake.is_lake_table(name) || self.own.table_exist(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::{SessionConfig, SessionContext};

    #[tokio::test]
    async fn an_unreadable_table_fails_alone_naming_its_file() {
        let lake = Arc::new(LakeTables::new(
            [],
            [(
                "a".to_string(),
                Error::CorruptFile {
                    location: "file:///lake/a/part-0.parquet".into(),
                    message: "truncated".into(),
                },
            )],
        ));
        let ctx =
            SessionContext::new_with_config(SessionConfig::new().with_information_schema(true));
        lake.install(&ctx.state()).unwrap();
        assert!(ctx.sql("SELECT 1").await.is_ok());
        let err = ctx.sql("SELECT * FROM a").await.unwrap_err();
        assert!(
            err.to_string()
                .contains("lake table 'a' cannot be read: corrupt or unreadable file file:///lake/a/part-0.parquet: truncated"),
            "{err}"
        );
        let tables = ctx
            .sql("SHOW TABLES")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        assert!(!tables.is_empty(), "SHOW TABLES works");
        assert!(ctx.sql("CREATE VIEW a AS SELECT 1").await.is_err());
    }
}
