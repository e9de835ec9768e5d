//! The UDFs registered in a DataFusion `SessionContext`: their documentation and its examples, and
//! a long sliding window checked against the Rust classification. Their SQL semantics (SPEC 4) are
//! in `tests/slt/*.slt` (see `sqllogictests.rs`).

use std::sync::Arc;

use datafusion::arrow::array::{AsArray, Float64Array, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::error::Result;
use datafusion::execution::FunctionRegistry;
use datafusion::prelude::SessionContext;
use medallion_udfs::{all_udafs, all_udfs, register_all};

fn context() -> SessionContext {
    let mut ctx = SessionContext::new();
    register_all(&mut ctx).expect("register UDFs");
    ctx
}

async fn query(ctx: &SessionContext, sql: &str) -> Result<Vec<RecordBatch>> {
    ctx.sql(sql).await?.collect().await
}

#[tokio::test]
async fn registers_all_seven_with_documentation() {
    let ctx = context();
    let names = [
        "danger_index",
        "seasonal_factor",
        "trend_direction",
        "haversine_miles",
        "pseudonym",
        "weather_category",
        "count_true",
    ];
    for name in names {
        let udf = ctx.udf(name).unwrap();
        let doc = udf
            .documentation()
            .unwrap_or_else(|| panic!("{name} has no docs"));
        assert!(!doc.description.is_empty());
        assert!(doc.syntax_example.starts_with(name));
        assert!(
            doc.sql_example
                .as_deref()
                .is_some_and(|ex| ex.contains(name))
        );
    }
    assert_eq!(all_udfs().len(), names.len());
    let moments = ctx.udaf("moments").unwrap();
    let doc = moments.documentation().expect("moments has docs");
    assert!(doc.syntax_example.starts_with("moments"));
    assert_eq!(all_udafs().len(), 1);
}

/// Every function's documented `sql_example` runs and prints exactly the
/// table shown in its documentation.
#[tokio::test]
async fn documentation_examples_are_accurate() {
    let ctx = context();
    let documented = all_udfs()
        .iter()
        .map(|udf| (udf.name().to_string(), udf.documentation().cloned()))
        .chain(
            all_udafs()
                .iter()
                .map(|udaf| (udaf.name().to_string(), udaf.documentation().cloned())),
        )
        .collect::<Vec<_>>();
    for (name, doc) in documented {
        let doc = doc.unwrap_or_else(|| panic!("{name} has no docs"));
        let example = doc.sql_example.as_deref().unwrap();
        let mut lines = example
            .lines()
            .filter(|l| !l.starts_with("```"))
            .map(str::trim_end);
        let sql = lines
            .next()
            .and_then(|l| l.strip_prefix("> "))
            .unwrap_or_else(|| panic!("{name}: example must start with '> '"));
        let expected: Vec<&str> = lines.collect();
        let batches = query(&ctx, sql).await.unwrap();
        let actual = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
            .unwrap()
            .to_string();
        let actual: Vec<&str> = actual.lines().collect();
        assert_eq!(actual, expected, "{name}");
    }
}

/// A long sliding window over many rows and several input batches, checked
/// against the same classification computed directly in Rust.
#[tokio::test]
async fn trend_direction_sliding_window_many_rows() {
    let ctx = context();
    let n = 20_000usize;
    // a noisy seasonal series with some NULLs
    let x: Vec<Option<f64>> = (0..n)
        .map(|i| (i % 97 != 13).then(|| 100.0 + 30.0 * ((i as f64) / 40.0).sin() + (i % 7) as f64))
        .collect();
    let t: Vec<i64> = (0..n as i64).collect();
    let schema = Arc::new(Schema::new(vec![
        Field::new("t", DataType::Int64, false),
        Field::new("x", DataType::Float64, true),
    ]));
    let batches: Vec<RecordBatch> = (0..n)
        .step_by(4096)
        .map(|start| {
            let end = (start + 4096).min(n);
            RecordBatch::try_new(
                Arc::clone(&schema),
                vec![
                    Arc::new(Int64Array::from(t[start..end].to_vec())),
                    Arc::new(Float64Array::from(x[start..end].to_vec())),
                ],
            )
            .unwrap()
        })
        .collect();
    let table =
        datafusion::datasource::MemTable::try_new(Arc::clone(&schema), vec![batches]).unwrap();
    ctx.register_table("series", Arc::new(table)).unwrap();

    let result = query(
        &ctx,
        "SELECT t, trend_direction(array_agg(x) OVER (ORDER BY t ROWS BETWEEN 5 PRECEDING AND CURRENT ROW), 0.01) AS trend
         FROM series ORDER BY t",
    )
    .await
    .unwrap();
    let mut got = Vec::with_capacity(n);
    for batch in &result {
        let trend = batch.column(1).as_string::<i32>();
        got.extend(trend.iter().map(|s| s.map(str::to_owned)));
    }
    assert_eq!(got.len(), n);
    for (i, actual) in got.iter().enumerate() {
        let window = &x[i.saturating_sub(5)..=i];
        let values: Vec<f64> = window.iter().map(|v| v.unwrap_or(0.0)).collect();
        let expected =
            medallion_udfs::trend_direction::classify(&values, |j| window[j].is_some(), 0.01);
        assert_eq!(actual.as_deref(), Some(expected.as_str()), "row {i}");
    }
}
