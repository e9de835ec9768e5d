use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::provider_as_source;
use datafusion::logical_expr::{LogicalPlanBuilder, dml::InsertOp};
use datafusion::physical_plan::displayable;
use datafusion::prelude::*;
use medallion_core::sink::{MySqlTable, MySqlUrl, SinkTarget};
use medallion_core::table_options::TableOptions;
use std::sync::Arc;

#[tokio::test]
async fn show_plan() {
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(4));
    let dir = tempfile::tempdir().unwrap();
    for i in 0..3 {
        ctx.sql(&format!("COPY (SELECT 'a{i}' AS id, CAST('2020-01-0{}' AS DATE) AS d, 1.5 AS x) TO '{}/f{i}.parquet'", i+1, dir.path().display())).await.unwrap().collect().await.unwrap();
    }
    ctx.register_parquet(
        "t",
        dir.path().to_str().unwrap(),
        ParquetReadOptions::default(),
    )
    .await
    .unwrap();
    let df = ctx.table("t").await.unwrap();
    let schema = Arc::new(df.schema().as_arrow().clone());
    let mut o = TableOptions::default();
    o.apply_directive("partition_by_year = d").unwrap();
    o.apply_directive("primary_key = id, d").unwrap();
    let target = SinkTarget {
        url: MySqlUrl::parse("mysql://u:pw@h/db").unwrap(),
        table: "t".into(),
        run_key: "k".into(),
        layout: (&o).into(),
    };
    let table = Arc::new(MySqlTable::try_new(target, schema).unwrap());
    let (state, plan) = df.into_parts();
    let plan =
        LogicalPlanBuilder::insert_into(plan, "x", provider_as_source(table), InsertOp::Append)
            .unwrap()
            .build()
            .unwrap();
    let physical = DataFrame::new(state, plan)
        .create_physical_plan()
        .await
        .unwrap();
    println!("{}", displayable(physical.as_ref()).indent(true));
    let _ = DataType::Utf8;
    let _ = Field::new("a", DataType::Utf8, true);
    let _ = Schema::empty();
}
