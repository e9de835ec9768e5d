//! The lake catalog of ad-hoc SQL: which lake tables exist, where their files are and how they are
//! laid out.
//!
//! Tables come from two places, merged by name (an explicit entry wins):
//!
//! - a catalog file (`medallion.toml`), mapping table names to a folder URL, an optional format and
//!   optional partition columns;
//! - discovery under a lake root: every immediate subfolder holding `.parquet` or `.orc` files is a
//!   table named after the folder (lowercased, other characters than letters, digits and `_`
//!   replaced by `_`). The root is listed through the context's object store, so `s3://` and
//!   `hdfs://` roots work like local folders.
//!
//! ```toml
//! lake = "./lake"                       # optional: discover the tables under this root too
//!
//! [tables.accidents]
//! url = "s3://silver/accidents/"        # a folder URL, or a path relative to this file
//! format = "parquet"                    # optional: parquet | orc (detected from the files)
//! partition_columns = ["year:int"]      # optional: Hive folders key=value (Parquet tables)
//! ```
//!
//! Every table is opened with [`crate::lake::open_table`] (all files listed, every footer read), so
//! a corrupt file or a format mismatch is found before a query runs. Such a table is set aside
//! with the reason (naming the file): statements naming it fail with that reason, the rest of the
//! lake is served as usual. Parquet tables laid out in
//! Hive folders (`year=2021/part-0.parquet`) get their partition columns automatically unless the
//! catalog file lists them (an empty list turns that off).
//!
//! A long-lived process (a scheduler serving Flight SQL) opens the catalog once as [`LakeTables`]
//! and installs it in each new session's default schema ([`LakeTables::install`]): every session
//! sees the lake tables, and the views it creates stay its own.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::catalog::TableProvider;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::lake::{self, LakeFormat, LakeTable};
pub use crate::lake_tables::LakeTables;
use crate::object_stores;
use crate::orc::OrcTable;

/// The catalog file looked for in the current folder when no `--catalog` is given.
pub const CATALOG_FILE: &str = "medallion.toml";

/// A partition column: a `key=value` folder level of a table's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionColumn {
    /// The column's name (the folder key).
    pub name: String,
    /// The type the folder values are parsed as.
    pub data_type: DataType,
}

impl PartitionColumn {
    /// Parses `name` or `name:type` with type `string`, `int`, `bigint` or `date`
    /// (`string` when left out).
    pub fn parse(spec: &str) -> Result<Self> {
        let (name, kind) = match spec.split_once(':') {
            Some((name, kind)) => (name.trim(), kind.trim()),
            None => (spec.trim(), "string"),
        };
        check_name(name, "partition column")?;
        let data_type = match kind.to_ascii_lowercase().as_str() {
            "string" | "utf8" | "varchar" => DataType::Utf8,
            "int" | "integer" | "int32" => DataType::Int32,
            "bigint" | "long" | "int64" => DataType::Int64,
            "date" => DataType::Date32,
            other => {
                return Err(Error::invalid(
                    "partition column",
                    format!("{name}: unknown type '{other}' (use string, int, bigint or date)"),
                ));
            }
        };
        Ok(Self {
            name: name.to_string(),
            data_type,
        })
    }

    /// The column as an Arrow field (partition values are never NULL).
    pub fn field(&self) -> Field {
        Field::new(&self.name, self.data_type.clone(), false)
    }
}

/// One table of the catalog, before it is opened.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogEntry {
    /// The table's SQL name.
    pub name: String,
    /// The table folder's URL or path.
    pub url: String,
    /// The declared format; `None` detects it from the files.
    pub format: Option<LakeFormat>,
    /// The declared partition columns; `None` infers them from Hive folders (Parquet tables).
    pub partition_columns: Option<Vec<PartitionColumn>>,
}

/// The tables of a lake: explicit entries and a lake root to discover more under.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LakeCatalog {
    /// A lake root whose immediate subfolders are tables.
    pub lake: Option<String>,
    /// Explicit tables; they win over discovered tables of the same name.
    pub entries: Vec<CatalogEntry>,
}

/// A catalog table whose files have all been opened.
#[derive(Debug, Clone)]
pub struct CatalogTable {
    /// The lake table (files, format, schema of the files).
    pub table: LakeTable,
    /// Partition columns, appended after the files' columns.
    pub partition_columns: Vec<PartitionColumn>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    lake: Option<String>,
    #[serde(default)]
    tables: BTreeMap<String, TableSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TableSpec {
    url: String,
    format: Option<String>,
    partition_columns: Option<Vec<String>>,
}

/// Checks that `name` is a plain SQL identifier (letters, digits, `_`; not starting with a digit).
fn check_name(name: &str, what: &str) -> Result<()> {
    let mut chars = name.chars();
    let plain = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        Ok(())
    } else {
        Err(Error::invalid(
            what,
            format!("'{name}' is not a plain SQL name (letters, digits and _)"),
        ))
    }
}

/// The SQL name of a discovered table folder: lowercased, characters other than letters, digits
/// and `_` replaced by `_`, prefixed with `t_` when it starts with a digit.
pub fn table_name_of_folder(folder: &str) -> String {
    let name: String = folder
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("t_{name}")
    } else {
        name
    }
}

/// Whether `location` is a URL (`scheme://...`) rather than a path.
fn is_url(location: &str) -> bool {
    location
        .split_once("://")
        .is_some_and(|(scheme, _)| !scheme.is_empty() && scheme.chars().all(char::is_alphanumeric))
}

/// `location` resolved against `base` when it is a relative path.
fn resolve(location: &str, base: &Path) -> String {
    if is_url(location) || Path::new(location).is_absolute() {
        location.to_string()
    } else {
        base.join(location).display().to_string()
    }
}

fn parse_format(name: &str, table: &str) -> Result<LakeFormat> {
    match name.to_ascii_lowercase().as_str() {
        "parquet" => Ok(LakeFormat::Parquet),
        "orc" => Ok(LakeFormat::Orc),
        other => Err(Error::invalid(
            format!("catalog table {table}"),
            format!("unknown format '{other}' (use parquet or orc)"),
        )),
    }
}

impl LakeCatalog {
    /// A catalog that discovers the tables under `root`.
    pub fn of_lake(root: impl Into<String>) -> Self {
        Self {
            lake: Some(root.into()),
            entries: Vec::new(),
        }
    }

    /// Reads a catalog file; relative paths in it are relative to the file's folder.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("reading", path, e))?;
        let base = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        Self::parse(&text, &base).map_err(|e| match e {
            Error::InvalidArgument { what, message } => Error::invalid(
                format!("catalog {}", path.display()),
                format!("{what}: {message}"),
            ),
            other => other,
        })
    }

    /// Parses the text of a catalog file; relative paths are resolved against `base`.
    pub fn parse(text: &str, base: &Path) -> Result<Self> {
        let file: CatalogFile = toml::from_str(text).map_err(|e| {
            Error::invalid(
                "catalog",
                e.to_string().lines().collect::<Vec<_>>().join(" "),
            )
        })?;
        let entries = file
            .tables
            .into_iter()
            .map(|(name, spec)| {
                check_name(&name, "catalog table name")?;
                let format = spec
                    .format
                    .as_deref()
                    .map(|f| parse_format(f, &name))
                    .transpose()?;
                let partition_columns = spec
                    .partition_columns
                    .map(|columns| {
                        columns
                            .iter()
                            .map(|c| PartitionColumn::parse(c))
                            .collect::<Result<Vec<_>>>()
                    })
                    .transpose()?;
                if format == Some(LakeFormat::Orc)
                    && partition_columns.as_ref().is_some_and(|c| !c.is_empty())
                {
                    return Err(Error::invalid(
                        format!("catalog table {name}"),
                        "partition columns are supported for Parquet tables only",
                    ));
                }
                Ok(CatalogEntry {
                    url: resolve(&spec.url, base),
                    name,
                    format,
                    partition_columns,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            lake: file.lake.map(|root| resolve(&root, base)),
            entries,
        })
    }

    /// Every entry: the tables discovered under the lake root (if any), then the explicit entries,
    /// an explicit entry replacing a discovered one of the same name. Sorted by name.
    pub async fn entries(&self, ctx: &SessionContext) -> Result<Vec<CatalogEntry>> {
        let mut by_name = BTreeMap::new();
        if let Some(root) = &self.lake {
            for entry in discover(ctx, root).await? {
                by_name.insert(entry.name.clone(), entry);
            }
        }
        for entry in &self.entries {
            by_name.insert(entry.name.clone(), entry.clone());
        }
        Ok(by_name.into_values().collect())
    }

    /// Opens every table (see [`open_entry`]), sorted by name. A table that cannot be opened (a
    /// corrupt file, files disagreeing on the schema, an unreachable folder) is set aside with
    /// the reason instead of failing the lake; only an unusable lake root fails it.
    pub async fn open(&self, ctx: &SessionContext) -> Result<OpenedCatalog> {
        let mut opened = OpenedCatalog::default();
        for entry in self.entries(ctx).await? {
            match open_entry(ctx, &entry).await {
                Ok(table) => opened.tables.push(table),
                Err(error) => {
                    tracing::warn!(
                        table = %entry.name,
                        error = %error,
                        "lake table cannot be read: statements naming it fail, the others run"
                    );
                    opened.unreadable.push((entry.name, error));
                }
            }
        }
        Ok(opened)
    }

    /// Opens every table and installs them in `ctx`'s default schema (see
    /// [`LakeTables::install`]); returns the readable tables. Statements naming a table that
    /// could not be opened fail with the reason.
    pub async fn register(&self, ctx: &SessionContext) -> Result<Vec<CatalogTable>> {
        let opened = self.open(ctx).await?;
        let tables = opened.tables.clone();
        Arc::new(opened.lake_tables()?).install(&ctx.state())?;
        Ok(tables)
    }
}

/// The tables of a catalog once opened: those that could be, and those that could not with the
/// reason.
#[derive(Debug, Default)]
pub struct OpenedCatalog {
    /// The readable tables, sorted by name.
    pub tables: Vec<CatalogTable>,
    /// The tables that could not be opened: name and error.
    pub unreadable: Vec<(String, Error)>,
}

impl OpenedCatalog {
    /// The tables as the providers sessions read them through.
    pub fn lake_tables(self) -> Result<LakeTables> {
        let providers = self
            .tables
            .iter()
            .map(|t| Ok((t.name().to_string(), t.provider()?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(LakeTables::new(providers, self.unreadable))
    }
}

/// The tables under lake root `root`: one per immediate subfolder that holds `.parquet` or `.orc`
/// files (hidden `.x` and `_x` folders are skipped). A local root that does not exist is an error.
pub async fn discover(ctx: &SessionContext, root: &str) -> Result<Vec<CatalogEntry>> {
    let bad_root = |message: String| Error::invalid("lake root", format!("{root}: {message}"));
    if !is_url(root) || root.starts_with("file://") {
        let path = Path::new(root.strip_prefix("file://").unwrap_or(root));
        if !path.is_dir() {
            return Err(bad_root(if path.exists() {
                "not a folder".to_string()
            } else {
                "no such folder".to_string()
            }));
        }
    }
    let with_slash = format!("{}/", root.trim_end_matches('/'));
    let url = ListingTableUrl::parse(&with_slash).map_err(|e| bad_root(e.to_string()))?;
    let store = ctx
        .runtime_env()
        .object_store(url.object_store())
        .map_err(|e| bad_root(e.to_string()))?;
    let listing = store
        .list_with_delimiter(Some(url.prefix()))
        .await
        .map_err(|e| object_stores::lake_error("(lake root)", url.as_str(), &e))?;
    let mut entries = Vec::new();
    for prefix in listing.common_prefixes {
        let Some(folder) = prefix.filename().map(str::to_string) else {
            continue;
        };
        let folder = folder.as_str();
        if folder.starts_with('.') || folder.starts_with('_') {
            continue;
        }
        // A folder without data files is not a table; anything wrong with its files is reported
        // when the table is opened.
        let mut files = store.list(Some(&prefix));
        let mut has_data = false;
        while let Some(meta) = files.next().await {
            let meta = meta.map_err(|e| object_stores::lake_error(folder, url.as_str(), &e))?;
            let relative = meta
                .location
                .prefix_match(&prefix)
                .map(|parts| parts.map(|p| p.as_ref().to_string()).collect::<Vec<_>>())
                .unwrap_or_default();
            let hidden = relative
                .iter()
                .any(|p| p.starts_with('.') || p.starts_with('_'));
            let location = meta.location.as_ref();
            if !hidden && (location.ends_with(".parquet") || location.ends_with(".orc")) {
                has_data = true;
                break;
            }
        }
        if !has_data {
            tracing::debug!(folder, "no data files: not a table");
            continue;
        }
        entries.push(CatalogEntry {
            name: table_name_of_folder(folder),
            url: lake::table_url(root, folder),
            format: None,
            partition_columns: None,
        });
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(entries)
}

/// Opens the table of `entry`: every file's footer is read, the declared format (if any) is
/// checked, and partition columns are taken from the entry or inferred from Hive folders.
pub async fn open_entry(ctx: &SessionContext, entry: &CatalogEntry) -> Result<CatalogTable> {
    let url = format!("{}/", entry.url.trim_end_matches('/'));
    let table = lake::open_table(ctx, &entry.name, &url).await?;
    if let Some(format) = entry.format
        && format != table.format
    {
        return Err(Error::SchemaMismatch {
            location: table.url.clone(),
            message: format!(
                "table '{}' is declared {format} but its files are {}",
                entry.name, table.format
            ),
        });
    }
    let partition_columns = match &entry.partition_columns {
        Some(columns) => columns.clone(),
        None if table.format == LakeFormat::Parquet => infer_partition_columns(&table),
        None => Vec::new(),
    };
    if !partition_columns.is_empty() && table.format != LakeFormat::Parquet {
        return Err(Error::invalid(
            format!("catalog table {}", entry.name),
            "partition columns are supported for Parquet tables only",
        ));
    }
    for column in &partition_columns {
        if table.schema.field_with_name(&column.name).is_ok() {
            return Err(Error::SchemaMismatch {
                location: table.url.clone(),
                message: format!(
                    "partition column '{}' is also a column of the files",
                    column.name
                ),
            });
        }
    }
    Ok(CatalogTable {
        table,
        partition_columns,
    })
}

/// The leading `key=value` folder levels of `relative` (a file path relative to its table folder),
/// the levels DataFusion reads partition values from.
fn hive_levels(relative: &str) -> Vec<(&str, &str)> {
    let mut segments: Vec<&str> = relative.split('/').collect();
    segments.pop();
    segments
        .into_iter()
        .map_while(|segment| segment.split_once('='))
        .collect()
}

/// The partition columns of a table whose every file sits under the same `key=value` folder
/// levels (none otherwise, so no file is ever left out). A key whose values are all integers is an
/// `int` (or `bigint`), otherwise a `string`; a key that is also a column of the files is ignored.
fn infer_partition_columns(table: &LakeTable) -> Vec<PartitionColumn> {
    let mut keys: Option<Vec<String>> = None;
    let mut values: Vec<Vec<String>> = Vec::new();
    // File URLs and the table URL may spell the scheme differently (`file:/x` and `file:///x`):
    // the file's path relative to the table is what follows the table folder's path.
    let Ok(table_url) = ListingTableUrl::parse(&table.url) else {
        return Vec::new();
    };
    let folder = format!("/{}/", table_url.prefix().as_ref());
    for file in &table.files {
        let Some(relative) = file
            .url
            .find(folder.as_str())
            .map(|at| &file.url[at + folder.len()..])
        else {
            return Vec::new();
        };
        let levels = hive_levels(relative);
        let file_keys: Vec<String> = levels.iter().map(|(k, _)| (*k).to_string()).collect();
        match &keys {
            None => {
                values = vec![Vec::new(); file_keys.len()];
                keys = Some(file_keys);
            }
            Some(known) if *known != file_keys => return Vec::new(),
            Some(_) => {}
        }
        for (slot, (_, value)) in values.iter_mut().zip(&levels) {
            slot.push((*value).to_string());
        }
    }
    let Some(keys) = keys else {
        return Vec::new();
    };
    if keys
        .iter()
        .any(|k| check_name(k, "").is_err() || table.schema.field_with_name(k).is_ok())
    {
        return Vec::new();
    }
    keys.into_iter()
        .zip(values)
        .map(|(name, values)| {
            let ints: Option<Vec<i64>> = values.iter().map(|v| v.parse().ok()).collect();
            let data_type = match ints {
                Some(ints) if ints.iter().all(|v| i32::try_from(*v).is_ok()) => DataType::Int32,
                Some(_) => DataType::Int64,
                None => DataType::Utf8,
            };
            PartitionColumn { name, data_type }
        })
        .collect()
}

impl CatalogTable {
    /// The table's SQL name.
    pub fn name(&self) -> &str {
        &self.table.name
    }

    /// Every column as SQL sees it: the files' columns, then the partition columns.
    pub fn columns(&self) -> Vec<FieldRef> {
        let mut columns: Vec<FieldRef> = self.table.schema.fields().iter().cloned().collect();
        columns.extend(self.partition_columns.iter().map(|c| Arc::new(c.field())));
        columns
    }

    /// The table provider SQL reads the table through: a listing table of the Parquet files (with
    /// the partition columns), or medallion's ORC table.
    pub fn provider(&self) -> Result<Arc<dyn TableProvider>> {
        let opening = |e| Error::engine(format!("opening {}", self.table.url), e);
        match self.table.format {
            LakeFormat::Parquet => {
                let url = ListingTableUrl::parse(&self.table.url)
                    .map_err(|e| Error::invalid("lake URL", format!("{}: {e}", self.table.url)))?;
                let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
                    .with_file_extension(".parquet")
                    .with_table_partition_cols(
                        self.partition_columns
                            .iter()
                            .map(|c| (c.name.clone(), c.data_type.clone()))
                            .collect(),
                    );
                let config = ListingTableConfig::new(url)
                    .with_listing_options(options)
                    .with_schema(self.table.schema.clone());
                Ok(Arc::new(ListingTable::try_new(config).map_err(opening)?))
            }
            LakeFormat::Orc => Ok(Arc::new(
                OrcTable::try_new(vec![self.table.url.clone()], self.table.schema.clone())
                    .map_err(opening)?,
            )),
        }
    }

    /// Registers the table in `ctx` under its name.
    pub fn register(&self, ctx: &SessionContext) -> Result<()> {
        ctx.register_table(self.name(), self.provider()?)
            .map_err(|e| Error::engine(format!("registering table {}", self.name()), e))?;
        Ok(())
    }
}

impl LakeTables {
    /// Opens every table of `catalog` (see [`LakeCatalog::open`]) for sessions to share; a table
    /// that cannot be opened is kept with its reason.
    pub async fn open(catalog: &LakeCatalog) -> Result<Self> {
        let ctx = SessionContext::new_with_state(crate::session::session_state()?);
        catalog.open(&ctx).await?.lake_tables()
    }
}

impl fmt::Display for PartitionColumn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name, self.data_type)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_catalog_file_maps_names_to_folders() {
        let catalog = LakeCatalog::parse(
            r#"
lake = "silver"
[tables.accidents]
url = "s3://bucket/silver/accidents/"
format = "ORC"
[tables.runs]
url = "gold/pipeline_runs"
partition_columns = ["year:int", "region"]
"#,
            Path::new("/etc/medallion"),
        )
        .unwrap();
        assert_eq!(catalog.lake.as_deref(), Some("/etc/medallion/silver"));
        assert_eq!(catalog.entries.len(), 2);
        let accidents = &catalog.entries[0];
        assert_eq!(accidents.url, "s3://bucket/silver/accidents/");
        assert_eq!(accidents.format, Some(LakeFormat::Orc));
        assert_eq!(accidents.partition_columns, None);
        let runs = &catalog.entries[1];
        assert_eq!(runs.url, "/etc/medallion/gold/pipeline_runs");
        assert_eq!(
            runs.partition_columns,
            Some(vec![
                PartitionColumn {
                    name: "year".into(),
                    data_type: DataType::Int32
                },
                PartitionColumn {
                    name: "region".into(),
                    data_type: DataType::Utf8
                },
            ])
        );
    }

    #[test]
    fn bad_catalog_files_say_what_is_wrong() {
        let base = Path::new(".");
        let err = LakeCatalog::parse("[tables.t]\nurl = 'x'\nformat = 'csv'", base).unwrap_err();
        assert!(err.to_string().contains("unknown format 'csv'"), "{err}");
        let err = LakeCatalog::parse("[tables.\"a-b\"]\nurl = 'x'", base).unwrap_err();
        assert!(err.to_string().contains("not a plain SQL name"), "{err}");
        let err = LakeCatalog::parse("[tables.t]\nurl = 'x'\nfoo = 1", base).unwrap_err();
        assert!(err.to_string().contains("foo"), "{err}");
        let err = LakeCatalog::parse(
            "[tables.t]\nurl = 'x'\nformat = 'orc'\npartition_columns = ['y']",
            base,
        )
        .unwrap_err();
        assert!(err.to_string().contains("Parquet tables only"), "{err}");
        let err = PartitionColumn::parse("y:float").unwrap_err();
        assert!(err.to_string().contains("unknown type 'float'"), "{err}");
    }

    #[test]
    fn folder_names_become_sql_names() {
        assert_eq!(table_name_of_folder("accidents"), "accidents");
        assert_eq!(table_name_of_folder("State-Population"), "state_population");
        assert_eq!(table_name_of_folder("2024 runs"), "t_2024_runs");
    }

    #[test]
    fn hive_levels_are_the_key_value_folders() {
        assert_eq!(
            hive_levels("year=2021/month=3/part-0.parquet"),
            vec![("year", "2021"), ("month", "3")]
        );
        assert!(hive_levels("part-0.parquet").is_empty());
        assert!(hive_levels("x/year=2021/p.parquet").is_empty());
    }
}

#[cfg(test)]
mod lake_tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, RecordBatch};
    use datafusion::arrow::datatypes::Schema;
    use datafusion::parquet::arrow::ArrowWriter;

    fn write_parquet(path: &Path, values: &[i64]) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Int64, false)]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(Int64Array::from(values.to_vec()))],
        )
        .unwrap();
        let mut writer =
            ArrowWriter::try_new(std::fs::File::create(path).unwrap(), schema, None).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
    }

    #[tokio::test]
    async fn discovered_tables_get_their_hive_partitions() {
        let lake = tempfile::tempdir().unwrap();
        write_parquet(&lake.path().join("t/year=2021/part-0.parquet"), &[1, 2]);
        write_parquet(&lake.path().join("t/year=2022/part-0.parquet"), &[3]);
        write_parquet(&lake.path().join("Flat-Table/part-0.parquet"), &[4]);
        std::fs::create_dir_all(lake.path().join("empty")).unwrap();
        write_parquet(&lake.path().join("_hidden/part-0.parquet"), &[5]);
        let ctx = SessionContext::new();
        let root = lake.path().display().to_string();
        let tables = LakeCatalog::of_lake(root).register(&ctx).await.unwrap();
        let names: Vec<_> = tables.iter().map(|t| t.name().to_string()).collect();
        assert_eq!(names, ["flat_table", "t"]);
        assert_eq!(
            tables[1].partition_columns,
            [PartitionColumn {
                name: "year".into(),
                data_type: DataType::Int32
            }]
        );
        let batches = ctx
            .sql("SELECT CAST(SUM(v * year) AS BIGINT) FROM t")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        // 1·2021 + 2·2021 + 3·2022 = 6063 + 6066
        let total = batches[0]
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap()
            .value(0);
        assert_eq!(total, 12129);
    }

    #[tokio::test]
    async fn lake_tables_are_shared_and_session_tables_are_not() {
        let lake = tempfile::tempdir().unwrap();
        write_parquet(&lake.path().join("t/year=2021/part-0.parquet"), &[1, 2]);
        let root = lake.path().display().to_string();
        let shared = Arc::new(LakeTables::open(&LakeCatalog::of_lake(root)).await.unwrap());
        assert_eq!(shared.names(), ["t"]);
        let session = || {
            let state = crate::session::session_state().unwrap();
            shared.install(&state).unwrap();
            SessionContext::new_with_state(state)
        };
        let (a, b) = (session(), session());
        a.sql("CREATE VIEW v AS SELECT v * 10 AS w FROM t")
            .await
            .unwrap();
        let rows = a
            .sql("SELECT CAST(SUM(w) AS BIGINT) FROM v")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        // (1 + 2) · 10
        let sum = rows[0]
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap()
            .value(0);
        assert_eq!(sum, 30);
        assert!(b.sql("SELECT * FROM v").await.is_err(), "a view leaked");
        assert!(b.sql("SELECT * FROM t").await.is_ok());
        // A session cannot drop or replace a lake table (DataFusion reports the refused drop as
        // "doesn't exist").
        assert!(a.sql("DROP TABLE t").await.is_err());
        assert!(a.sql("CREATE VIEW t AS SELECT 1").await.is_err());
        assert!(b.sql("SELECT * FROM t").await.is_ok());
    }

    #[tokio::test]
    async fn a_truncated_file_fails_its_table_only() {
        let lake = tempfile::tempdir().unwrap();
        write_parquet(&lake.path().join("a/part-0.parquet"), &[1, 2]);
        write_parquet(&lake.path().join("b/part-0.parquet"), &[3]);
        let bad = lake.path().join("a/part-1.parquet");
        write_parquet(&bad, &[4, 5]);
        let bytes = std::fs::read(&bad).unwrap();
        std::fs::write(&bad, &bytes[..bytes.len() / 2]).unwrap();
        let ctx = SessionContext::new();
        let root = lake.path().display().to_string();
        let tables = LakeCatalog::of_lake(root).register(&ctx).await.unwrap();
        let names: Vec<_> = tables.iter().map(|t| t.name().to_string()).collect();
        assert_eq!(names, ["b"]);
        assert!(ctx.sql("SELECT 1").await.is_ok());
        let rows = ctx
            .sql("SELECT v FROM b")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        assert_eq!(rows[0].num_rows(), 1);
        let err = ctx.sql("SELECT count(*) FROM a").await.unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("lake table 'a' cannot be read"),
            "{message}"
        );
        assert!(message.contains("a/part-1.parquet"), "{message}");
    }

    #[tokio::test]
    async fn a_missing_lake_root_is_bad_input() {
        let ctx = SessionContext::new();
        let err = discover(&ctx, "/no/such/lake").await.unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("no such folder"), "{err}");
    }
}
