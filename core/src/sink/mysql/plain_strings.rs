//! The MySQL sink's input with its string views as plain strings, so that the sort under the sink
//! counts the memory its rows take (issue 23).
//!
//! DataFusion reads Parquet strings as `Utf8View`. The sort under
//! [`MySqlSinkExec`](super::MySqlSinkExec) sorts each input batch and cuts the sorted rows into
//! `batch_size`-row chunks; each chunk's string views still point into the whole batch's data
//! buffers, and a batch's memory size counts every buffer it points into, so the sort's reservation
//! counts a 65536-row batch's strings once per chunk — eight times. It then spills rows that fit:
//! measured on the 7.7M time-ordered lake (accidents_summary sorted as the sink sorts it,
//! `medallion sql`, 2 GiB pool), the sort counted 2.1 GB for ~0.6 GB of rows and spilled 4 times,
//! 8.3 s of CPU (user + sys); with plain `Utf8` strings it counted 0.6 GB, did not spill, and took
//! 5.7 s, with a lower peak RSS (1.16 GB instead of 1.41 GB). Casting a view to a plain string
//! copies its bytes once, and the sink's TSV encoder reads both alike.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::error::Result;
use datafusion::physical_plan::expressions::{CastExpr, Column};
use datafusion::physical_plan::projection::{ProjectionExec, ProjectionExpr};
use datafusion::physical_plan::{ExecutionPlan, PhysicalExpr};

/// `input` with each `Utf8View` column cast to `Utf8` and each `BinaryView` column to `Binary`
/// (names, nullability and order kept); `input` itself when it has none (a plan decoded on an
/// executor has the casts already).
pub fn with_plain_strings(input: Arc<dyn ExecutionPlan>) -> Result<Arc<dyn ExecutionPlan>> {
    let schema = input.schema();
    let plain = |data_type: &DataType| match data_type {
        DataType::Utf8View => Some(DataType::Utf8),
        DataType::BinaryView => Some(DataType::Binary),
        _ => None,
    };
    if !schema
        .fields()
        .iter()
        .any(|f| plain(f.data_type()).is_some())
    {
        return Ok(input);
    }
    let expressions = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(index, field)| {
            let column: Arc<dyn PhysicalExpr> = Arc::new(Column::new(field.name(), index));
            let expr = match plain(field.data_type()) {
                Some(to) => Arc::new(CastExpr::new(column, to, None)) as Arc<dyn PhysicalExpr>,
                None => column,
            };
            ProjectionExpr::new(expr, field.name().clone())
        })
        .collect::<Vec<_>>();
    Ok(Arc::new(ProjectionExec::try_new(expressions, input)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{ArrayRef, Int32Array, RecordBatch, StringViewArray};
    use datafusion::arrow::datatypes::{Field, Schema};
    use datafusion::datasource::memory::MemorySourceConfig;
    use datafusion::physical_plan::collect;
    use datafusion::prelude::SessionContext;

    #[tokio::test]
    async fn views_become_plain_strings_with_the_same_values() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Utf8View, false),
            Field::new("n", DataType::Int32, true),
            Field::new("city", DataType::Utf8View, true),
        ]));
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(StringViewArray::from(vec![
                    "A-1",
                    "a longer id than twelve bytes",
                ])) as ArrayRef,
                Arc::new(Int32Array::from(vec![Some(1), None])),
                Arc::new(StringViewArray::from(vec![Some("Paris"), None])),
            ],
        )
        .unwrap();
        let input =
            MemorySourceConfig::try_new_exec(&[vec![batch]], Arc::clone(&schema), None).unwrap();
        let plain = with_plain_strings(input).unwrap();
        let plain_schema = plain.schema();
        let types: Vec<(&str, &DataType, bool)> = plain_schema
            .fields()
            .iter()
            .map(|f| (f.name().as_str(), f.data_type(), f.is_nullable()))
            .collect();
        assert_eq!(
            types,
            vec![
                ("id", &DataType::Utf8, false),
                ("n", &DataType::Int32, true),
                ("city", &DataType::Utf8, true),
            ]
        );
        let rows = collect(Arc::clone(&plain), SessionContext::new().task_ctx())
            .await
            .unwrap();
        let shown = datafusion::arrow::util::pretty::pretty_format_batches(&rows)
            .unwrap()
            .to_string();
        assert!(
            shown.contains("| a longer id than twelve bytes |"),
            "{shown}"
        );
        assert!(shown.contains("| Paris "), "{shown}");

        // nothing to cast: the same plan
        let again = with_plain_strings(Arc::clone(&plain)).unwrap();
        assert!(Arc::ptr_eq(&again, &plain));
    }
}
