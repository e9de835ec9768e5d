//! [`SinkTarget`]: where one Gold table's rows go, shared by the table provider, the operator
//! that loads them and the client's staging builds.

use serde::{Deserialize, Serialize};

use super::ddl::TableLayout;
use super::names::RunNames;
use super::url::MySqlUrl;
use super::year_tasks::YearTasks;

/// Everything a task needs to load its share of a Gold table: the server, the table and its layout,
/// and the run (whose key names the staging tables). It travels inside the serialised plans —
/// password included, as a JDBC URL would — but its `Debug` masks the password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SinkTarget {
    /// Where to load.
    pub url: MySqlUrl,
    /// The Gold table's name.
    pub table: String,
    /// The run key (see [`super::names::run_key`]).
    pub run_key: String,
    /// Keys, partitioning, indexes and column types.
    pub layout: TableLayout,
    /// For a table partitioned by date: the task that loads each year, balanced on the rows
    /// counted before the load; `None` distributes on the year's hash.
    #[serde(default)]
    pub year_tasks: Option<YearTasks>,
}

impl SinkTarget {
    /// The names of the run's tables.
    pub fn names(&self) -> RunNames {
        RunNames::new(self.run_key.clone())
    }
}
