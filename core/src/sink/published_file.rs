//! Reading rows of a table published by the Parquet folder sink back, as text (see
//! [`GoldSink::published_rows`](super::GoldSink::published_rows)), with DataFusion.

use std::path::Path;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::prelude::{ParquetReadOptions, SessionContext};

use crate::error::{Error, Result, first_line};

/// `columns` (as text; NULL as `None`) of the rows of the table folder `root/table` whose column
/// `key.0` equals `key.1`; none when the folder holds no Parquet file.
pub(crate) async fn published_rows(
    root: &Path,
    table: &str,
    columns: &[&str],
    key: (&str, &str),
) -> Result<Vec<Vec<Option<String>>>> {
    let dir = root.join(table);
    let has_files = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .flatten()
                .any(|e| e.path().extension().is_some_and(|x| x == "parquet"))
        })
        .unwrap_or(false);
    if !has_files {
        return Ok(Vec::new());
    }
    let location = format!("{}/", dir.display());
    let ctx = SessionContext::new();
    ctx.register_parquet("published", &location, ParquetReadOptions::default())
        .await
        .map_err(|e| Error::CorruptFile {
            location: location.clone(),
            message: first_line(&e.to_string()),
        })?;
    let quote = |c: &str| format!("\"{}\"", c.replace('"', "\"\""));
    let selected: Vec<String> = columns.iter().map(|c| quote(c)).collect();
    let sql = format!(
        "SELECT {} FROM published WHERE CAST({} AS VARCHAR) = '{}'",
        selected.join(", "),
        quote(key.0),
        key.1.replace('\'', "''")
    );
    let what = format!("reading {location}");
    let batches = crate::collect::collect_sql(&ctx, &sql, &what).await?;
    let mut rows = Vec::new();
    for batch in &batches {
        let texts = batch
            .columns()
            .iter()
            .map(|c| cast(c, &DataType::Utf8).map_err(|e| Error::engine(what.clone(), e.into())))
            .collect::<Result<Vec<_>>>()?;
        for row in 0..batch.num_rows() {
            rows.push(
                texts
                    .iter()
                    .map(|c| {
                        let c = c.as_string::<i32>();
                        (!c.is_null(row)).then(|| c.value(row).to_string())
                    })
                    .collect(),
            );
        }
    }
    Ok(rows)
}
