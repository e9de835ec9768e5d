//! Lake tables: find a table's files under a lake root (local path, `file://`, `s3://`, `hdfs://`),
//! check every file's schema against what a job needs, and register the table for SQL.
//!
//! Every file is opened here, on the client, before anything runs: a missing folder, a corrupt footer
//! or a missing column is reported with the file's name instead of failing deep inside a task.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Schema, SchemaRef};
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::prelude::SessionContext;
use futures::TryStreamExt;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};

use crate::error::{Error, Result, first_line};
use crate::object_stores;
use crate::orc::{OrcFileFormat, OrcTable};

/// The file format of a lake table (a `--format` value of the commands that write one).
#[derive(clap::ValueEnum, Debug, Default, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LakeFormat {
    /// Apache Parquet (`.parquet`; medallion writes it ZSTD-compressed).
    #[default]
    Parquet,
    /// Apache ORC (`.orc`; medallion writes it Snappy-compressed).
    Orc,
}

impl LakeFormat {
    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            LakeFormat::Parquet => "parquet",
            LakeFormat::Orc => "orc",
        }
    }

    fn of_file(location: &str) -> Option<Self> {
        if location.ends_with(".parquet") {
            Some(LakeFormat::Parquet)
        } else if location.ends_with(".orc") {
            Some(LakeFormat::Orc)
        } else {
            None
        }
    }

    fn file_format(self) -> Arc<dyn FileFormat> {
        match self {
            LakeFormat::Parquet => Arc::new(ParquetFormat::default()),
            LakeFormat::Orc => Arc::new(OrcFileFormat),
        }
    }
}

impl fmt::Display for LakeFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

/// The kind of values a job needs in a column; any Arrow type of that kind is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Utf8, LargeUtf8 or Utf8View.
    String,
    /// Any signed or unsigned integer.
    Integer,
    /// Any integer or floating-point number.
    Number,
    /// A timestamp of any unit, with or without a time zone.
    Timestamp,
    /// A boolean.
    Boolean,
}

impl ColumnKind {
    fn accepts(self, data_type: &DataType) -> bool {
        match self {
            ColumnKind::String => matches!(
                data_type,
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            ),
            ColumnKind::Integer => data_type.is_integer(),
            ColumnKind::Number => data_type.is_integer() || data_type.is_floating(),
            ColumnKind::Timestamp => matches!(data_type, DataType::Timestamp(_, _)),
            ColumnKind::Boolean => matches!(data_type, DataType::Boolean),
        }
    }

    /// Parses `string`, `integer`, `number`, `timestamp` or `boolean`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "string" => Some(ColumnKind::String),
            "integer" => Some(ColumnKind::Integer),
            "number" => Some(ColumnKind::Number),
            "timestamp" => Some(ColumnKind::Timestamp),
            "boolean" => Some(ColumnKind::Boolean),
            _ => None,
        }
    }
}

impl fmt::Display for ColumnKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            ColumnKind::String => "string",
            ColumnKind::Integer => "integer",
            ColumnKind::Number => "number",
            ColumnKind::Timestamp => "timestamp",
            ColumnKind::Boolean => "boolean",
        };
        f.write_str(name)
    }
}

/// One data file of a lake table with the schema in its footer.
#[derive(Debug, Clone)]
pub struct LakeFile {
    /// The file's URL.
    pub url: String,
    /// Its size in bytes.
    pub size: u64,
    /// The schema read from the file.
    pub schema: SchemaRef,
}

/// A lake table whose files have all been opened.
#[derive(Debug, Clone)]
pub struct LakeTable {
    /// The table's name in SQL.
    pub name: String,
    /// The table folder's URL, with a trailing slash.
    pub url: String,
    /// Parquet or ORC.
    pub format: LakeFormat,
    /// Every data file.
    pub files: Vec<LakeFile>,
    /// The merged schema of all files.
    pub schema: SchemaRef,
}

/// The URL of table `table` under lake root `root` (a local path or a URL), with a trailing slash.
pub fn table_url(root: &str, table: &str) -> String {
    format!("{}/{}/", root.trim_end_matches('/'), table)
}

/// Whether `path` (relative to the table folder) is a data file rather than a hidden or marker file
/// (`_SUCCESS`, `.crc`, a staging folder).
fn is_data_path(relative: &str) -> bool {
    !relative
        .split('/')
        .any(|segment| segment.starts_with('.') || segment.starts_with('_'))
}

/// Checks a Parquet file's framing (magic bytes, footer length) before any decoder reads it: the
/// parquet crate overflows on a footer length larger than the file instead of returning an error.
async fn check_parquet_framing(
    store: &Arc<dyn ObjectStore>,
    meta: &ObjectMeta,
) -> std::result::Result<(), String> {
    const MAGIC: &[u8] = b"PAR1";
    if meta.size < 12 {
        return Err(format!(
            "{} bytes is too small for a Parquet file",
            meta.size
        ));
    }
    let head = store
        .get_range(&meta.location, 0..4)
        .await
        .map_err(|e| e.to_string())?;
    let tail = store
        .get_range(&meta.location, meta.size - 8..meta.size)
        .await
        .map_err(|e| e.to_string())?;
    if head.as_ref() != MAGIC || tail.get(4..) != Some(MAGIC) {
        return Err("not a Parquet file (no PAR1 magic bytes)".to_string());
    }
    let footer = tail
        .get(..4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_le_bytes)
        .unwrap_or(u32::MAX);
    if u64::from(footer) + 12 > meta.size {
        return Err(format!(
            "truncated: footer of {footer} bytes in a file of {} bytes",
            meta.size
        ));
    }
    Ok(())
}

async fn list_files(
    store: &Arc<dyn ObjectStore>,
    url: &ListingTableUrl,
    table: &str,
) -> Result<Vec<ObjectMeta>> {
    let unreachable = |e: object_store::Error| object_stores::lake_error(table, url.as_str(), &e);
    let mut files: Vec<ObjectMeta> = store
        .list(Some(url.prefix()))
        .try_collect()
        .await
        .map_err(unreachable)?;
    let prefix = url.prefix().as_ref().to_string();
    files.retain(|meta| {
        let location = meta.location.as_ref();
        let relative = location
            .strip_prefix(prefix.as_str())
            .unwrap_or(location)
            .trim_start_matches('/');
        is_data_path(relative) && LakeFormat::of_file(location).is_some()
    });
    files.sort_by(|a, b| a.location.cmp(&b.location));
    Ok(files)
}

/// Opens the lake table `name` at `url`: lists its files, decides its format and reads every
/// file's schema.
pub async fn open_table(ctx: &SessionContext, name: &str, url: &str) -> Result<LakeTable> {
    let listing_url = ListingTableUrl::parse(url)
        .map_err(|e| Error::invalid("lake URL", format!("{url}: {e}")))?;
    let store = ctx
        .runtime_env()
        .object_store(listing_url.object_store())
        .map_err(|e| Error::invalid("lake URL", format!("{url}: {e}")))?;
    let metas = list_files(&store, &listing_url, name).await?;
    let Some(first) = metas.first() else {
        return Err(Error::LakeNotFound {
            table: name.to_string(),
            location: listing_url.to_string(),
        });
    };
    let format = LakeFormat::of_file(first.location.as_ref()).unwrap_or(LakeFormat::Parquet);
    let file_format = format.file_format();
    let state = ctx.state();
    let store_url = listing_url.object_store();
    let mut files = Vec::with_capacity(metas.len());
    for meta in metas {
        let file_url = format!("{}{}", store_url.as_str().trim_end_matches('/'), {
            let location = meta.location.as_ref();
            format!("/{location}")
        });
        if LakeFormat::of_file(meta.location.as_ref()) != Some(format) {
            return Err(Error::SchemaMismatch {
                location: listing_url.to_string(),
                message: format!(
                    "mixes {format} and other files ({file_url}); a table has one format"
                ),
            });
        }
        if format == LakeFormat::Parquet {
            check_parquet_framing(&store, &meta)
                .await
                .map_err(|message| Error::CorruptFile {
                    location: file_url.clone(),
                    message,
                })?;
        }
        let schema = file_format
            .infer_schema(&state, &store, std::slice::from_ref(&meta))
            .await
            .map_err(|e| Error::CorruptFile {
                location: file_url.clone(),
                message: first_line(&e.to_string()),
            })?;
        files.push(LakeFile {
            url: file_url,
            size: meta.size,
            schema,
        });
    }
    let schema =
        Schema::try_merge(files.iter().map(|f| f.schema.as_ref().clone())).map_err(|e| {
            Error::SchemaMismatch {
                location: listing_url.to_string(),
                message: format!("files disagree on the schema: {e}"),
            }
        })?;
    Ok(LakeTable {
        name: name.to_string(),
        url: listing_url.to_string(),
        format,
        files,
        schema: Arc::new(schema),
    })
}

impl LakeTable {
    /// Checks that every file has each `(column, kind)` of `required`, naming the first file and
    /// column at fault.
    pub fn check_columns(&self, required: &[(String, ColumnKind)]) -> Result<()> {
        for file in &self.files {
            for (column, kind) in required {
                match file.schema.field_with_name(column) {
                    Err(_) => {
                        return Err(Error::SchemaMismatch {
                            location: file.url.clone(),
                            message: format!(
                                "missing column '{column}' ({kind}) needed by table '{}'",
                                self.name
                            ),
                        });
                    }
                    Ok(field) if !kind.accepts(field.data_type()) => {
                        return Err(Error::SchemaMismatch {
                            location: file.url.clone(),
                            message: format!(
                                "column '{column}' is {} but table '{}' needs a {kind}",
                                field.data_type(),
                                self.name
                            ),
                        });
                    }
                    Ok(_) => {}
                }
            }
        }
        Ok(())
    }

    /// The first of the table's files that is gone or changed size since the table was opened, as
    /// a sentence naming it; `None` when every file is as it was. A run checks this before it
    /// publishes: the engine lists the table folder again when it reads it, so a file deleted in
    /// between would otherwise be skipped without a word and its rows missing from the Gold tables.
    pub async fn changed_file(&self, ctx: &SessionContext) -> Result<Option<String>> {
        let listing_url = ListingTableUrl::parse(&self.url)
            .map_err(|e| Error::invalid("lake URL", format!("{}: {e}", self.url)))?;
        let store = ctx
            .runtime_env()
            .object_store(listing_url.object_store())
            .map_err(|e| Error::invalid("lake URL", format!("{}: {e}", self.url)))?;
        for file in &self.files {
            let path = url::Url::parse(&file.url)
                .ok()
                .and_then(|u| object_store::path::Path::from_url_path(u.path()).ok());
            let Some(path) = path else {
                continue;
            };
            match store.head(&path).await {
                Ok(meta) if meta.size == file.size => {}
                Ok(meta) => {
                    return Ok(Some(format!(
                        "lake file {} changed during the run ({} bytes, now {})",
                        file.url, file.size, meta.size
                    )));
                }
                Err(object_store::Error::NotFound { .. }) => {
                    return Ok(Some(format!(
                        "lake file {} disappeared during the run: its rows would be missing",
                        file.url
                    )));
                }
                Err(e) => {
                    return Err(object_stores::lake_error(&self.name, &self.url, &e));
                }
            }
        }
        Ok(None)
    }

    /// Registers the table in `ctx` under its name.
    pub fn register(&self, ctx: &SessionContext) -> Result<()> {
        let provider: Arc<dyn datafusion::catalog::TableProvider> = match self.format {
            LakeFormat::Parquet => {
                let options =
                    ListingOptions::new(self.format.file_format()).with_file_extension(".parquet");
                let url = ListingTableUrl::parse(&self.url)
                    .map_err(|e| Error::invalid("lake URL", format!("{}: {e}", self.url)))?;
                let config = ListingTableConfig::new(url)
                    .with_listing_options(options)
                    .with_schema(self.schema.clone());
                Arc::new(
                    ListingTable::try_new(config)
                        .map_err(|e| Error::engine(format!("opening {}", self.url), e))?,
                )
            }
            LakeFormat::Orc => Arc::new(
                OrcTable::try_new(vec![self.url.clone()], self.schema.clone())
                    .map_err(|e| Error::engine(format!("opening {}", self.url), e))?,
            ),
        };
        ctx.register_table(self.name.as_str(), provider)
            .map_err(|e| Error::engine(format!("registering table {}", self.name), e))?;
        Ok(())
    }

    /// Total size of the table's files in bytes.
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_and_marker_files_are_not_data() {
        assert!(is_data_path("year=2021/part-00000.parquet"));
        assert!(!is_data_path("_SUCCESS"));
        assert!(!is_data_path(".staging/part-0.parquet"));
        assert!(!is_data_path("year=2021/_tmp/part-0.parquet"));
    }

    #[test]
    fn column_kinds_accept_every_width() {
        assert!(ColumnKind::Integer.accepts(&DataType::Int64));
        assert!(ColumnKind::Number.accepts(&DataType::Int32));
        assert!(ColumnKind::Number.accepts(&DataType::Float32));
        assert!(!ColumnKind::Integer.accepts(&DataType::Utf8));
        assert!(ColumnKind::String.accepts(&DataType::Utf8View));
    }

    #[test]
    fn table_urls_join_root_and_name() {
        assert_eq!(table_url("/lake/", "accidents"), "/lake/accidents/");
        assert_eq!(
            table_url("s3://bucket/silver", "accidents"),
            "s3://bucket/silver/accidents/"
        );
    }
}
