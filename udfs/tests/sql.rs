//! End-to-end tests: the UDFs registered in a DataFusion `SessionContext` and
//! called from SQL, so planning, type coercion and execution are all covered.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, Float64Array, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Schema};
use datafusion::assert_batches_eq;
use datafusion::error::Result;
use datafusion::execution::FunctionRegistry;
use datafusion::prelude::SessionContext;
use medallion_udfs::{all_udfs, register_all};

fn context() -> SessionContext {
    let mut ctx = SessionContext::new();
    register_all(&mut ctx).expect("register UDFs");
    ctx
}

async fn query(ctx: &SessionContext, sql: &str) -> Result<Vec<RecordBatch>> {
    ctx.sql(sql).await?.collect().await
}

/// Single Float64 value of a one-row, one-column result.
async fn query_f64(ctx: &SessionContext, sql: &str) -> Option<f64> {
    let batches = query(ctx, sql).await.unwrap();
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    assert_eq!(rows, 1, "{sql}");
    let batch = batches.iter().find(|b| b.num_rows() == 1).unwrap();
    let column = batch.column(0);
    assert_eq!(column.data_type(), &DataType::Float64, "{sql}");
    let column = column.as_primitive::<Float64Type>();
    column.is_valid(0).then(|| column.value(0))
}

fn assert_close(actual: Option<f64>, expected: f64) {
    let actual = actual.expect("expected a value, got NULL");
    let tol = 1e-9 * expected.abs().max(1.0);
    assert!((actual - expected).abs() <= tol, "{actual} != {expected}");
}

#[tokio::test]
async fn registers_all_five_with_documentation() {
    let ctx = context();
    let names = [
        "danger_index",
        "seasonal_factor",
        "trend_direction",
        "haversine_miles",
        "pseudonym",
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
}

/// Every function's documented `sql_example` runs and prints exactly the
/// table shown in its documentation.
#[tokio::test]
async fn documentation_examples_are_accurate() {
    let ctx = context();
    for udf in all_udfs() {
        let doc = udf.documentation().unwrap();
        let example = doc.sql_example.as_deref().unwrap();
        let mut lines = example
            .lines()
            .filter(|l| !l.starts_with("```"))
            .map(str::trim_end);
        let sql = lines
            .next()
            .and_then(|l| l.strip_prefix("> "))
            .unwrap_or_else(|| panic!("{}: example must start with '> '", udf.name()));
        let expected: Vec<&str> = lines.collect();
        let batches = query(&ctx, sql).await.unwrap();
        let actual = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
            .unwrap()
            .to_string();
        let actual: Vec<&str> = actual.lines().collect();
        assert_eq!(actual, expected, "{}", udf.name());
    }
}

#[tokio::test]
async fn danger_index_literals() {
    let ctx = context();
    // 2·ln(10) = 4.605170185988092
    let batches = query(&ctx, "SELECT danger_index(2.0, 9)").await.unwrap();
    assert_batches_eq!(
        [
            "+-----------------------------------+",
            "| danger_index(Float64(2),Int64(9)) |",
            "+-----------------------------------+",
            "| 4.605170185988092                 |",
            "+-----------------------------------+",
        ],
        &batches
    );
    // integer severity is coerced to DOUBLE: 2.5·ln(11) = 5.994738181995927
    assert_close(
        query_f64(&ctx, "SELECT danger_index(2.5, 10)").await,
        5.994738181995927,
    );
    assert_close(
        query_f64(&ctx, "SELECT danger_index(2, CAST(9 AS INT))").await,
        4.605170185988092,
    );
    assert_close(
        query_f64(&ctx, "SELECT danger_index(2, CAST(9 AS BIGINT UNSIGNED))").await,
        4.605170185988092,
    );
    assert_close(
        query_f64(&ctx, "SELECT danger_index(CAST(2 AS DECIMAL(5,2)), 9)").await,
        4.605170185988092,
    );
    assert_eq!(query_f64(&ctx, "SELECT danger_index(0.5, 3)").await, None);
    assert_eq!(query_f64(&ctx, "SELECT danger_index(4.5, 3)").await, None);
    assert_eq!(query_f64(&ctx, "SELECT danger_index(2.0, -1)").await, None);
    assert_eq!(query_f64(&ctx, "SELECT danger_index(NULL, 3)").await, None);
    assert_eq!(
        query_f64(&ctx, "SELECT danger_index(2.0, NULL)").await,
        None
    );
}

#[tokio::test]
async fn danger_index_rejects_fractional_counts() {
    let ctx = context();
    assert!(query(&ctx, "SELECT danger_index(2.0, 9.5)").await.is_err());
    assert!(query(&ctx, "SELECT danger_index('a', 9)").await.is_err());
}

#[tokio::test]
async fn danger_index_over_values_with_nulls() {
    let ctx = context();
    let batches = query(
        &ctx,
        "SELECT id, danger_index(sev, cnt) AS di
         FROM (VALUES (1, 2.0, 9), (2, NULL, 9), (3, 2.0, NULL), (4, 0.5, 9), (5, 4.0, 0), (6, 3.0, -2))
              AS t(id, sev, cnt)
         ORDER BY id",
    )
    .await
    .unwrap();
    assert_batches_eq!(
        [
            "+----+-------------------+",
            "| id | di                |",
            "+----+-------------------+",
            "| 1  | 4.605170185988092 |",
            "| 2  |                   |",
            "| 3  |                   |",
            "| 4  |                   |",
            "| 5  | 0.0               |",
            "| 6  |                   |",
            "+----+-------------------+",
        ],
        &batches
    );
}

#[tokio::test]
async fn danger_index_of_aggregates() {
    // AVG is Float64 and COUNT(*) is Int64: the Gold job's shape.
    // zone a: avg(1, 3) = 2, count 2 → 2·ln(3) = 2.1972245773362196
    // zone b: avg(4) = 4, count 1 → 4·ln(2) = 2.772588722239781
    let ctx = context();
    let batches = query(
        &ctx,
        "SELECT zone, danger_index(AVG(severity), COUNT(*)) AS di
         FROM (VALUES ('a', 1), ('a', 3), ('b', 4)) AS t(zone, severity)
         GROUP BY zone ORDER BY zone",
    )
    .await
    .unwrap();
    assert_batches_eq!(
        [
            "+------+--------------------+",
            "| zone | di                 |",
            "+------+--------------------+",
            "| a    | 2.1972245773362196 |",
            "| b    | 2.772588722239781  |",
            "+------+--------------------+",
        ],
        &batches
    );
}

#[tokio::test]
async fn seasonal_factor_sql() {
    let ctx = context();
    assert_close(
        query_f64(&ctx, "SELECT seasonal_factor(150, 120)").await,
        1.25,
    );
    assert_close(
        query_f64(&ctx, "SELECT seasonal_factor(3.0, 4)").await,
        0.75,
    );
    assert_eq!(
        query_f64(&ctx, "SELECT seasonal_factor(3.0, 0)").await,
        None
    );
    assert_eq!(
        query_f64(&ctx, "SELECT seasonal_factor(NULL, 1)").await,
        None
    );

    // month count / average monthly count over the whole table
    let batches = query(
        &ctx,
        "SELECT m, seasonal_factor(n, AVG(n) OVER ()) AS f
         FROM (VALUES (1, 90), (2, 120), (3, 150), (4, NULL)) AS t(m, n)
         ORDER BY m",
    )
    .await
    .unwrap();
    assert_batches_eq!(
        [
            "+---+------+",
            "| m | f    |",
            "+---+------+",
            "| 1 | 0.75 |",
            "| 2 | 1.0  |",
            "| 3 | 1.25 |",
            "| 4 |      |",
            "+---+------+",
        ],
        &batches
    );
}

#[tokio::test]
async fn haversine_miles_sql() {
    let ctx = context();
    // NYC → LA, see the unit tests for the arithmetic
    assert_close(
        query_f64(
            &ctx,
            "SELECT haversine_miles(40.7128, -74.0060, 34.0522, -118.2437)",
        )
        .await,
        2445.5866069296776,
    );
    // integer literals plan: (40, -74) → (40.5, -74.5) = 43.45945235682269 miles
    assert_close(
        query_f64(&ctx, "SELECT haversine_miles(40, -74, 40.5, -74.5)").await,
        43.45945235682269,
    );
    assert_eq!(
        query_f64(&ctx, "SELECT haversine_miles(40, NULL, 40.5, -74.5)").await,
        None
    );

    let batches = query(
        &ctx,
        "SELECT id, round(haversine_miles(lat, lng, 34.0522, -118.2437), 1) AS miles
         FROM (VALUES (1, 40.7128, -74.0060), (2, 34.0522, -118.2437), (3, NULL, 0.0)) AS t(id, lat, lng)
         ORDER BY id",
    )
    .await
    .unwrap();
    assert_batches_eq!(
        [
            "+----+--------+",
            "| id | miles  |",
            "+----+--------+",
            "| 1  | 2445.6 |",
            "| 2  | 0.0    |",
            "| 3  |        |",
            "+----+--------+",
        ],
        &batches
    );
}

#[tokio::test]
async fn pseudonym_sql() {
    let ctx = context();
    // RFC 4231 test case 2, with Utf8, Utf8View and LargeUtf8 inputs
    let batches = query(
        &ctx,
        "SELECT pseudonym(v, 'Jefe') AS p,
                pseudonym(arrow_cast(v, 'Utf8View'), 'Jefe') AS p_view,
                pseudonym(arrow_cast(v, 'LargeUtf8'), arrow_cast('Jefe', 'Utf8View')) AS p_large
         FROM (VALUES ('what do ya want for nothing?'), (NULL)) AS t(v)",
    )
    .await
    .unwrap();
    let expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
    let batch = &batches[0];
    for c in 0..3 {
        let col = batch.column(c);
        assert_eq!(col.data_type(), &DataType::Utf8);
        let col = col.as_string::<i32>();
        assert_eq!(col.len(), 2);
        assert_eq!(col.value(0), expected);
        assert!(col.is_null(1));
    }

    let batches = query(
        &ctx,
        "SELECT pseudonym('what do ya want for nothing?', 'Jefe') AS p",
    )
    .await
    .unwrap();
    assert_batches_eq!(
        [
            "+------------------------------------------------------------------+",
            "| p                                                                |",
            "+------------------------------------------------------------------+",
            "| 5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843 |",
            "+------------------------------------------------------------------+",
        ],
        &batches
    );
}

#[tokio::test]
async fn trend_direction_literals() {
    let ctx = context();
    let batches = query(
        &ctx,
        "SELECT trend_direction(make_array(1.0, 2.0, 3.0), 0.05) AS a,
                trend_direction(make_array(1, 2, 3), 0.05) AS b,
                trend_direction(make_array(3, 2, 1), 0) AS c,
                trend_direction(make_array(10, NULL, 12, 13), 0.05) AS d,
                trend_direction(make_array(10, NULL, 12, 13), 0.1) AS e,
                trend_direction(make_array(1, 2), 0.05) AS f,
                trend_direction(make_array(-1, 0, 1), 0.05) AS g,
                trend_direction(NULL, 0.05) AS h,
                trend_direction(make_array(1, 2, 3), NULL) AS i,
                trend_direction(arrow_cast(make_array(1, 2, 3), 'LargeList(Int64)'), 0.05) AS j,
                trend_direction(arrow_cast(make_array(1, 2, 3), 'FixedSizeList(3, Int64)'), 0.05) AS k",
    )
    .await
    .unwrap();
    assert_batches_eq!(
        [
            "+----+----+------+----+--------+--------+--------+---+---+----+----+",
            "| a  | b  | c    | d  | e      | f      | g      | h | i | j  | k  |",
            "+----+----+------+----+--------+--------+--------+---+---+----+----+",
            "| up | up | down | up | stable | stable | stable |   |   | up | up |",
            "+----+----+------+----+--------+--------+--------+---+---+----+----+",
        ],
        &batches
    );
}

#[tokio::test]
async fn trend_direction_rejects_non_arrays() {
    let ctx = context();
    assert!(
        query(&ctx, "SELECT trend_direction(1.0, 0.05)")
            .await
            .is_err()
    );
    assert!(
        query(&ctx, "SELECT trend_direction(make_array('a', 'b'), 0.05)")
            .await
            .is_err()
    );
    assert!(
        query(&ctx, "SELECT trend_direction(make_array(1, 2, 3), 'x')")
            .await
            .is_err()
    );
}

/// The Gold job's shape: trend over a sliding `array_agg` window.
#[tokio::test]
async fn trend_direction_over_sliding_array_agg_window() {
    let ctx = context();
    // zone a rises 1..8, zone b falls 8..1 with a NULL at t = 4, zone c is flat.
    let mut zone = Vec::new();
    let mut t = Vec::new();
    let mut x = Vec::new();
    for (z, values) in [
        ("a", [1, 2, 3, 4, 5, 6, 7, 8].map(Some)),
        (
            "b",
            [
                Some(8),
                Some(7),
                Some(6),
                None,
                Some(4),
                Some(3),
                Some(2),
                Some(1),
            ],
        ),
        ("c", [5; 8].map(Some)),
    ] {
        for (i, v) in values.into_iter().enumerate() {
            zone.push(z);
            t.push(i as i64);
            x.push(v);
        }
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("zone", DataType::Utf8, false),
        Field::new("t", DataType::Int64, false),
        Field::new("x", DataType::Int64, true),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(datafusion::arrow::array::StringArray::from(zone)),
            Arc::new(Int64Array::from(t)),
            Arc::new(Int64Array::from(x)),
        ],
    )
    .unwrap();
    ctx.register_batch("counts", batch).unwrap();

    // Expected, window = up to 6 rows ending at the current one:
    //   a, t=0..1: < 3 values → stable
    //   a, t=2: [1,2,3] slope 1 / mean 2 = 0.5 → up
    //   a, t=7: [3..8] slope 1 / mean 5.5 = 0.18 → up
    //   b, t=2: [8,7,6] → -1/7 → down
    //   b, t=4: [8,7,6,NULL,4] positions 0,1,2,4: x̄=7/4, ȳ=25/4,
    //           Σdx·dy = (-7/4)(7/4)+(-3/4)(3/4)+(1/4)(-1/4)+(9/4)(-9/4) = -140/16, Σdx² = 140/16
    //           → slope -1, relative -4/25 → down
    //   c: slope 0 → stable
    let expected = [
        "+------+---+--------+---+",
        "| zone | t | trend  | n |",
        "+------+---+--------+---+",
        "| a    | 0 | stable | 1 |",
        "| a    | 1 | stable | 2 |",
        "| a    | 2 | up     | 3 |",
        "| a    | 3 | up     | 4 |",
        "| a    | 4 | up     | 5 |",
        "| a    | 5 | up     | 6 |",
        "| a    | 6 | up     | 6 |",
        "| a    | 7 | up     | 6 |",
        "| b    | 0 | stable | 1 |",
        "| b    | 1 | stable | 2 |",
        "| b    | 2 | down   | 3 |",
        "| b    | 3 | down   | 4 |",
        "| b    | 4 | down   | 5 |",
        "| b    | 5 | down   | 6 |",
        "| b    | 6 | down   | 6 |",
        "| b    | 7 | down   | 6 |",
        "| c    | 0 | stable | 1 |",
        "| c    | 1 | stable | 2 |",
        "| c    | 2 | stable | 3 |",
        "| c    | 3 | stable | 4 |",
        "| c    | 4 | stable | 5 |",
        "| c    | 5 | stable | 6 |",
        "| c    | 6 | stable | 6 |",
        "| c    | 7 | stable | 6 |",
        "+------+---+--------+---+",
    ];
    // Both the explicit DOUBLE cast and a plain BIGINT column (List<Int64>,
    // coerced by trend_direction) must work. (They have to be separate
    // queries: DataFusion names `array_agg(CAST(x AS DOUBLE)) OVER w` and
    // `array_agg(x) OVER w` identically and rejects both in one SELECT.)
    for agg in ["array_agg(CAST(x AS DOUBLE))", "array_agg(x)"] {
        let window = format!(
            "{agg} OVER (PARTITION BY zone ORDER BY t ROWS BETWEEN 5 PRECEDING AND CURRENT ROW)"
        );
        let sql = format!(
            "SELECT zone, t, trend_direction({window}, 0.05) AS trend, cardinality({window}) AS n
             FROM counts ORDER BY zone, t"
        );
        let batches = query(&ctx, &sql).await.unwrap();
        assert_batches_eq!(expected, &batches);
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
