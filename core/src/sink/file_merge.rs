//! Merging for the Parquet folder sink: the staged table of a merged Gold table is the run's rows
//! plus the published rows the [`Merge`] keeps — those outside the replaced period window and whose
//! primary key the run did not write. DataFusion reads the published folder and the freshly staged
//! rows back, and writes the kept rows next to the staged ones; publishing then renames the folder
//! as for a replaced table.

use std::fs;
use std::path::Path;

use chrono::NaiveDate;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::{Column, JoinType, ScalarValue};
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::execution::SessionState;
use datafusion::logical_expr::{Expr, cast, lit};
use datafusion::prelude::{DataFrame, ParquetReadOptions, SessionContext};

use super::GoldTable;
use super::merge::Merge;
use crate::error::{Error, Result};

/// `name` as an unqualified column (names are never parsed for a qualifier).
fn column(name: &str) -> Expr {
    Expr::Column(Column::new_unqualified(name))
}

/// A DATE literal.
fn date(day: NaiveDate) -> Expr {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    let days = i32::try_from((day - epoch).num_days()).unwrap_or(i32::MAX);
    lit(ScalarValue::Date32(Some(days)))
}

/// The Parquet files of folder `dir`, read as one table with its columns cast to `schema`.
async fn read_as(
    ctx: &SessionContext,
    dir: &Path,
    schema: &SchemaRef,
    what: &str,
) -> Result<DataFrame> {
    let engine = |e| Error::engine(format!("reading {what} {}", dir.display()), e);
    let df = ctx
        .read_parquet(format!("{}/", dir.display()), ParquetReadOptions::default())
        .await
        .map_err(engine)?;
    for field in schema.fields() {
        if df
            .schema()
            .field_with_unqualified_name(field.name())
            .is_err()
        {
            return Err(Error::invalid(
                format!("{what} {}", dir.display()),
                format!(
                    "has no column '{}': the table's columns changed, run without --since or a period to replace it",
                    field.name()
                ),
            ));
        }
    }
    let columns: Vec<Expr> = schema
        .fields()
        .iter()
        .map(|f| cast(column(f.name()), f.data_type().clone()).alias(f.name()))
        .collect();
    df.select(columns).map_err(engine)
}

/// Adds to the staged folder `staged` (the run's rows of `table`, already written) the rows of the
/// published folder `published` that `merge` keeps, as `kept-*.parquet` files; returns how many.
/// Nothing is added for [`Merge::Replace`] or when nothing is published yet.
pub async fn add_kept_rows(
    state: SessionState,
    table: GoldTable<'_>,
    merge: &Merge,
    published: &Path,
    staged: &Path,
    schema: &SchemaRef,
) -> Result<u64> {
    if *merge == Merge::Replace || !published.is_dir() {
        return Ok(0);
    }
    let engine = |e| Error::engine(format!("merging Gold table {}", table.name), e);
    let ctx = SessionContext::new_with_state(state);
    let mut kept = read_as(&ctx, published, schema, "published Gold table").await?;
    if let Merge::ReplaceRange {
        column: col,
        start,
        end,
    } = merge
    {
        let outside = column(col)
            .is_null()
            .or(column(col).lt(date(*start)))
            .or(column(col).gt_eq(date(*end)));
        kept = kept.filter(outside).map_err(engine)?;
    }
    let key = merge.key(table);
    if !key.is_empty() {
        let fields: Vec<_> = key
            .iter()
            .map(|k| schema.field_with_name(k).map_err(|e| engine(e.into())))
            .collect::<Result<_>>()?;
        let aliased: Vec<String> = key.iter().map(|k| format!("__run_{k}")).collect();
        let written = read_as(&ctx, staged, schema, "staged Gold table")
            .await?
            .select(
                fields
                    .iter()
                    .zip(&aliased)
                    .map(|(f, a)| cast(column(f.name()), f.data_type().clone()).alias(a))
                    .collect::<Vec<_>>(),
            )
            .map_err(engine)?;
        let left: Vec<&str> = key.iter().map(String::as_str).collect();
        let right: Vec<&str> = aliased.iter().map(String::as_str).collect();
        kept = kept
            .join(written, JoinType::LeftAnti, &left, &right, None)
            .map_err(engine)?;
    }
    let parent = staged
        .parent()
        .ok_or_else(|| Error::invalid("sink", "staged table folder has no parent"))?;
    let tmp = parent.join(format!(".kept-{}", table.name));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(|e| Error::io("removing", &tmp, e))?;
    }
    let counts = kept
        .write_parquet(
            &format!("{}/", tmp.display()),
            DataFrameWriteOptions::new(),
            None,
        )
        .await
        .map_err(engine)?;
    let rows = super::rows_in(&counts);
    if tmp.is_dir() {
        for entry in fs::read_dir(&tmp).map_err(|e| Error::io("listing", &tmp, e))? {
            let entry = entry.map_err(|e| Error::io("listing", &tmp, e))?;
            let target = staged.join(format!("kept-{}", entry.file_name().to_string_lossy()));
            fs::rename(entry.path(), &target).map_err(|e| Error::io("moving", &target, e))?;
        }
        fs::remove_dir_all(&tmp).map_err(|e| Error::io("removing", &tmp, e))?;
    }
    Ok(rows)
}
