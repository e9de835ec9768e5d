//! Whether a MySQL sink could take a run, found without writing anything: the server answers with
//! these credentials, and its database exists or would be created by `prepare`.

use mysql_async::prelude::Queryable;

use super::connection::{connect, unreachable};
use super::url::MySqlUrl;
use crate::error::Result;

/// Checks the server and database of `url`; returns what was found, in words.
pub async fn check_server(url: &MySqlUrl) -> Result<String> {
    let mut conn = connect(url, false).await?;
    let version = conn.server_version();
    let exists: Option<String> = conn
        .exec_first(
            "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
            (url.database.as_str(),),
        )
        .await
        .map_err(|e| unreachable(url, e.to_string()))?;
    let _ = conn.disconnect().await;
    Ok(format!(
        "MySQL {}.{}.{} answers at {}; database {} {}",
        version.0,
        version.1,
        version.2,
        url.masked(),
        url.database,
        if exists.is_some() {
            "exists"
        } else {
            "would be created"
        }
    ))
}
