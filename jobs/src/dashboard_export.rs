//! dashboard-cache's JSON documents (SPEC section 5b): after a run has published
//! `dashboard_weekly`, `--export DIR` writes one JSON object per row, the row's fields, as
//! `DIR/dashboard/<region>/<week_start>.json` (the all-regions rows, region NULL, under
//! `DIR/dashboard/all/`). DIR is a local folder or an `s3://` / `hdfs://` URL, opened like the
//! lake (see [`medallion_core::object_stores`]). Each document is written under a temporary name
//! in its folder, then renamed, so a reader never sees half a document; nothing is written when the
//! run did not publish, since this only runs after [`crate::run::run_job`] returned the published
//! run.

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::execution::object_store::ObjectStoreRegistry;
use datafusion::object_store::path::{Path as StorePath, PathPart};
use datafusion::object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use datafusion::prelude::SessionContext;
use medallion_core::object_stores::shared_stores;
use medallion_core::session;
use medallion_core::{Error, Result};
use serde_json::{Map, Value};

use crate::plan::{JobPlan, Params};

/// The Gold table the documents are written from.
const TABLE: &str = "dashboard_weekly";

/// The folder name of the rows whose region is NULL (all regions).
const ALL_REGIONS: &str = "all";

/// Where the documents go: a store and the path of `DIR` in it.
struct ExportDir {
    store: Arc<dyn ObjectStore>,
    root: Vec<String>,
    display: String,
}

impl ExportDir {
    /// `location`: a local folder (made absolute) or a `file://`, `s3://`, `hdfs://` URL.
    fn open(location: &str) -> Result<Self> {
        let bad = |message: String| Error::invalid("--export", message);
        let url = match location.split_once("://") {
            Some(_) => url::Url::parse(location).map_err(|e| bad(format!("{location}: {e}")))?,
            None => {
                let path = Path::new(location);
                let absolute = if path.is_absolute() {
                    path.to_path_buf()
                } else {
                    std::env::current_dir()
                        .map_err(|e| Error::io("reading", ".", e))?
                        .join(path)
                };
                url::Url::from_directory_path(&absolute)
                    .map_err(|()| bad(format!("{location} is not a usable folder")))?
            }
        };
        let store = shared_stores()
            .get_store(&url)
            .map_err(|e| bad(format!("{location}: {e}")))?;
        let root = url
            .path_segments()
            .map(|parts| {
                parts
                    .filter(|p| !p.is_empty())
                    .map(|p| percent_decode(p).map_err(|()| bad(format!("{location}: bad escape"))))
                    .collect::<Result<Vec<_>>>()
            })
            .transpose()?
            .unwrap_or_default();
        Ok(Self {
            store,
            root,
            display: location.trim_end_matches('/').to_string(),
        })
    }

    /// The store path of `parts` under DIR; each part is escaped by the store's rules (a region
    /// called `a/b` or `..` stays one folder inside `dashboard/`).
    fn path(&self, parts: &[&str]) -> StorePath {
        self.root
            .iter()
            .map(|p| PathPart::from(p.as_str()))
            .chain(parts.iter().map(|p| PathPart::from(*p)))
            .collect()
    }

    fn error(&self, path: &StorePath, e: impl std::fmt::Display) -> Error {
        Error::invalid(
            "--export",
            format!("writing {}/{path} failed: {e}", self.display),
        )
    }
}

/// `%XX` escapes of a URL path segment decoded.
fn percent_decode(segment: &str) -> std::result::Result<String, ()> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = segment.get(i + 1..i + 3).ok_or(())?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| ())?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| ())
}

/// One cell as JSON: numbers, text (dates as `YYYY-MM-DD`), `null`.
fn json_value(column: &ArrayRef, row: usize) -> Result<Value> {
    if column.is_null(row) {
        return Ok(Value::Null);
    }
    let one = column.slice(row, 1);
    let as_text = |array: &ArrayRef| -> Result<Value> {
        let text = cast(array, &DataType::Utf8)
            .map_err(|e| Error::engine("writing dashboard JSON", e.into()))?;
        Ok(Value::String(text.as_string::<i32>().value(0).to_string()))
    };
    Ok(match column.data_type() {
        DataType::Boolean => Value::Bool(one.as_boolean().value(0)),
        t if t.is_integer() => {
            let ints = cast(&one, &DataType::Int64)
                .map_err(|e| Error::engine("writing dashboard JSON", e.into()))?;
            Value::from(ints.as_primitive::<Int64Type>().value(0))
        }
        t if t.is_floating() => {
            let floats = cast(&one, &DataType::Float64)
                .map_err(|e| Error::engine("writing dashboard JSON", e.into()))?;
            serde_json::Number::from_f64(floats.as_primitive::<Float64Type>().value(0))
                .map_or(Value::Null, Value::Number)
        }
        _ => as_text(&one)?,
    })
}

/// The rows of `batches` as JSON objects (keys in alphabetical order).
fn documents(batches: &[RecordBatch]) -> Result<Vec<Map<String, Value>>> {
    let mut out = Vec::new();
    for batch in batches {
        let schema = batch.schema();
        for row in 0..batch.num_rows() {
            let mut object = Map::new();
            for (field, column) in schema.fields().iter().zip(batch.columns()) {
                object.insert(field.name().clone(), json_value(column, row)?);
            }
            out.push(object);
        }
    }
    Ok(out)
}

/// The folder and file name of a document: `<region or all>`, `<week_start>.json`.
fn document_name(object: &Map<String, Value>) -> Result<(String, String)> {
    let region = match object.get("region") {
        Some(Value::String(region)) => region.clone(),
        _ => ALL_REGIONS.to_string(),
    };
    let week = match object.get("week_start") {
        Some(Value::String(week)) => week.clone(),
        _ => {
            return Err(Error::JobFailed {
                job: "dashboard-cache".into(),
                message: format!("{TABLE} has a row without week_start"),
            });
        }
    };
    Ok((region, format!("{week}.json")))
}

/// Writes the JSON documents of `job`'s `dashboard_weekly` under `location`, recomputing the
/// table's query in `ctx` (the run's views are still registered); returns the documents written
/// (`location/dashboard/<region>/<week_start>.json`).
pub async fn export_dashboard_json(
    ctx: &SessionContext,
    job: &JobPlan,
    params: &Params,
    location: &str,
) -> Result<Vec<String>> {
    let gold = job
        .gold
        .iter()
        .find(|g| g.query.name == TABLE)
        .ok_or_else(|| Error::invalid("--export", format!("job {} has no {TABLE}", job.name)))?;
    let dir = ExportDir::open(location)?;
    let sql = gold.sql_with(params)?;
    let batches = session::collect_sql(ctx, &sql, &format!("exporting {TABLE} as JSON")).await?;
    let temp_suffix = format!(".tmp-{}", std::process::id());
    let mut written = Vec::new();
    for object in documents(&batches)? {
        let (region, file) = document_name(&object)?;
        let body = serde_json::to_vec_pretty(&Value::Object(object))
            .map_err(|e| Error::invalid("--export", e.to_string()))?;
        let target = dir.path(&["dashboard", &region, &file]);
        let temp = dir.path(&["dashboard", &region, &format!(".{file}{temp_suffix}")]);
        dir.store
            .put(&temp, PutPayload::from(body))
            .await
            .map_err(|e| dir.error(&temp, e))?;
        if let Err(e) = dir.store.rename(&temp, &target).await {
            let _ = dir.store.delete(&temp).await;
            return Err(dir.error(&target, e));
        }
        written.push(format!("{}/dashboard/{region}/{file}", dir.display));
    }
    tracing::info!(documents = written.len(), export = %dir.display, "dashboard JSON written");
    Ok(written)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Date32Array, Float64Array, Int64Array, StringArray};
    use datafusion::arrow::datatypes::{Field, Schema};

    use super::*;

    fn batch() -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("region", DataType::Utf8, true),
            Field::new("week_start", DataType::Date32, false),
            Field::new("crises", DataType::Int64, false),
            Field::new("completeness_avg", DataType::Float64, true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec![Some("Centre"), None, Some("a/..")])),
                // 2024-03-04 = day 19786
                Arc::new(Date32Array::from(vec![19786, 19786, 19786])),
                Arc::new(Int64Array::from(vec![3, 0, 1])),
                Arc::new(Float64Array::from(vec![Some(0.5), None, Some(f64::NAN)])),
            ],
        )
        .unwrap()
    }

    #[test]
    fn rows_become_objects_named_by_region_and_week() {
        let docs = documents(&[batch()]).unwrap();
        assert_eq!(
            serde_json::to_string(&docs[0]).unwrap(),
            r#"{"completeness_avg":0.5,"crises":3,"region":"Centre","week_start":"2024-03-04"}"#
        );
        assert_eq!(
            document_name(&docs[0]).unwrap(),
            ("Centre".into(), "2024-03-04.json".into())
        );
        // region NULL: the all-regions folder; NULL and NaN numbers are null
        assert_eq!(docs[1]["region"], Value::Null);
        assert_eq!(document_name(&docs[1]).unwrap().0, "all");
        assert_eq!(docs[2]["completeness_avg"], Value::Null);
    }

    #[tokio::test]
    async fn documents_land_under_dir_and_odd_regions_stay_inside_it() {
        let dir = tempfile::tempdir().unwrap();
        let export = ExportDir::open(dir.path().to_str().unwrap()).unwrap();
        let path = export.path(&["dashboard", "a/..", "2024-03-04.json"]);
        export
            .store
            .put(&path, PutPayload::from(b"{}".to_vec()))
            .await
            .unwrap();
        let region_dirs: Vec<_> = std::fs::read_dir(dir.path().join("dashboard"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(region_dirs.len(), 1, "{region_dirs:?}");
        assert!(region_dirs[0].starts_with('a'), "{region_dirs:?}");
        assert_eq!(percent_decode("a%20b").unwrap(), "a b");
        assert!(percent_decode("a%2").is_err());
    }
}
