//! Property tests of the UDFs (issue 9, 5), called from SQL over arbitrary input columns —
//! NULLs, NaN, ±inf, huge and negative values: never a panic or an error, and every output within
//! the ranges of SPEC section 4. `PROPTEST_CASES` sets the number of cases (64 by default, so CI
//! stays fast).

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array, ListArray, RecordBatch,
    StringArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Int64Type, Schema};
use datafusion::prelude::SessionContext;
use medallion_udfs::register_all;
use proptest::prelude::*;

/// Earth radius of SPEC 4, in miles.
const EARTH_RADIUS_MILES: f64 = 3958.8;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

/// Any f64 or NULL, with the awkward values much more likely than by chance.
fn any_f64() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        1 => Just(None),
        1 => Just(Some(f64::NAN)),
        1 => Just(Some(f64::INFINITY)),
        1 => Just(Some(f64::NEG_INFINITY)),
        1 => Just(Some(0.0)),
        1 => Just(Some(-0.0)),
        1 => Just(Some(f64::MAX)),
        1 => Just(Some(f64::MIN_POSITIVE)),
        4 => (-1e6f64..1e6).prop_map(Some),
        4 => any::<f64>().prop_map(Some),
    ]
}

fn any_i64() -> impl Strategy<Value = Option<i64>> {
    prop_oneof![
        1 => Just(None),
        1 => Just(Some(i64::MIN)),
        1 => Just(Some(i64::MAX)),
        1 => Just(Some(0)),
        4 => (-1000i64..1_000_000).prop_map(Some),
        2 => any::<i64>().prop_map(Some),
    ]
}

/// Runs `sql` over table `t` holding `columns`; the first output column.
fn run(columns: Vec<(&str, ArrayRef)>, sql: &str) -> ArrayRef {
    run_batch(columns, sql).column(0).clone()
}

/// The weather category as the datamart's view computed it before the UDF (SPEC section 3).
const WEATHER_CASE: &str = "CASE \
    WHEN lower(v) ~ 'thunder|storm|hail|tornado|squall' THEN 'storm' \
    WHEN lower(v) ~ 'snow|sleet|ice|wintry|freezing' THEN 'snow' \
    WHEN lower(v) ~ 'rain|drizzle|shower' THEN 'rain' \
    WHEN lower(v) ~ 'fog|mist|haze|smoke|dust|sand' THEN 'fog' \
    WHEN lower(v) ~ 'cloud|overcast' THEN 'cloudy' \
    WHEN lower(v) ~ 'fair|clear' THEN 'clear' \
    WHEN v IS NULL OR v = '' THEN 'unknown' \
    ELSE 'other' END";

/// A weather text: pieces that are the rules' words in any case, words that almost match
/// ("clou", "stor"), spaces and punctuation, or arbitrary characters.
fn weather_text() -> impl Strategy<Value = String> {
    let words = [
        "thunder", "storm", "hail", "tornado", "squall", "snow", "sleet", "ice", "wintry",
        "freezing", "rain", "drizzle", "shower", "fog", "mist", "haze", "smoke", "dust", "sand",
        "cloud", "overcast", "fair", "clear", "clou", "stor", "sno", "T-", " / ", " ", "windy",
    ];
    let piece = prop_oneof![
        3 => (prop::sample::select(words.to_vec()), any::<u64>()).prop_map(|(word, case)| {
            word.chars()
                .enumerate()
                .map(|(i, c)| if case >> (i % 64) & 1 == 1 { c.to_ascii_uppercase() } else { c })
                .collect::<String>()
        }),
        1 => ".{0,6}",
    ];
    prop::collection::vec(piece, 0..5).prop_map(|pieces| pieces.concat())
}

/// Runs `sql` over table `t` holding `columns`; every output column, concatenated.
fn run_batch(columns: Vec<(&str, ArrayRef)>, sql: &str) -> RecordBatch {
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    let batch = RecordBatch::try_new(schema, columns.into_iter().map(|(_, a)| a).collect())
        .expect("test batch");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut ctx = SessionContext::new();
        register_all(&mut ctx).expect("register");
        ctx.register_batch("t", batch).expect("register batch");
        let frame = ctx
            .sql(sql)
            .await
            .unwrap_or_else(|e| panic!("plan {sql}: {e}"));
        let schema = frame.schema().inner().clone();
        let batches = frame
            .collect()
            .await
            .unwrap_or_else(|e| panic!("run {sql}: {e}"));
        datafusion::arrow::compute::concat_batches(&schema, &batches).expect("concat")
    })
}

/// Four coordinates: lat1, lng1, lat2, lng2.
type Points = (f64, f64, f64, f64);

fn floats(values: &[Option<f64>]) -> ArrayRef {
    Arc::new(Float64Array::from(values.to_vec()))
}

/// Bit-for-bit float equality, NaN equal to NaN.
fn same(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

proptest! {
    #![proptest_config(config())]

    /// danger_index(s, c) = s·ln(1 + c) for s ∈ [1, 4] and c ≥ 0, else NULL; so it lies in
    /// [0, 4·ln(1 + c)].
    #[test]
    fn danger_index_is_in_range(rows in prop::collection::vec((any_f64(), any_i64()), 1..40)) {
        let (s, c): (Vec<_>, Vec<_>) = rows.iter().cloned().unzip();
        let out = run(
            vec![("s", floats(&s)), ("c", Arc::new(Int64Array::from(c.clone())))],
            "SELECT danger_index(s, c) FROM t",
        );
        let out = out.as_primitive::<Float64Type>();
        prop_assert_eq!(out.len(), rows.len());
        for (j, (s, c)) in rows.iter().enumerate() {
            match (s, c) {
                (Some(s), Some(c)) if (1.0..=4.0).contains(s) && *c >= 0 => {
                    prop_assert!(out.is_valid(j), "row {}: NULL for {} {}", j, s, c);
                    let v = out.value(j);
                    let expected = s * (1.0 + *c as f64).ln();
                    prop_assert!(same(v, expected), "row {}: {} != {}", j, v, expected);
                    prop_assert!(v >= 0.0 && v <= 4.0 * (1.0 + *c as f64).ln() + 1e-9);
                }
                _ => prop_assert!(out.is_null(j), "row {}: {:?} {:?} gave {}", j, s, c, out.value(j)),
            }
        }
    }

    /// seasonal_factor(x, base) = x / base; NULL when either is NULL or base is 0.
    #[test]
    fn seasonal_factor_divides(rows in prop::collection::vec((any_f64(), any_f64()), 1..40)) {
        let (x, base): (Vec<_>, Vec<_>) = rows.iter().cloned().unzip();
        let out = run(
            vec![("x", floats(&x)), ("b", floats(&base))],
            "SELECT seasonal_factor(x, b) FROM t",
        );
        let out = out.as_primitive::<Float64Type>();
        for (j, (x, b)) in rows.iter().enumerate() {
            match (x, b) {
                (Some(x), Some(b)) if *b != 0.0 => {
                    prop_assert!(out.is_valid(j));
                    prop_assert!(same(out.value(j), x / b), "row {}: {} / {} gave {}", j, x, b, out.value(j));
                }
                _ => prop_assert!(out.is_null(j), "row {}: {:?} / {:?}", j, x, b),
            }
        }
    }

    /// haversine_miles: NULL iff an argument is NULL; for coordinates in range, a distance in
    /// [0, π·R] that is symmetric and zero from a point to itself.
    #[test]
    fn haversine_is_a_distance(
        points in prop::collection::vec(((-90.0f64..=90.0), (-180.0f64..=180.0), (-90.0f64..=90.0), (-180.0f64..=180.0)), 1..30),
        odd in prop::collection::vec((any_f64(), any_f64(), any_f64(), any_f64()), 1..30),
    ) {
        let col = |f: &dyn Fn(&Points) -> f64| -> ArrayRef {
            Arc::new(Float64Array::from(points.iter().map(|p| Some(f(p))).collect::<Vec<_>>()))
        };
        let out = run(
            vec![("a", col(&|p| p.0)), ("b", col(&|p| p.1)), ("c", col(&|p| p.2)), ("d", col(&|p| p.3))],
            "SELECT haversine_miles(a, b, c, d) FROM t \
             UNION ALL SELECT haversine_miles(c, d, a, b) FROM t \
             UNION ALL SELECT haversine_miles(a, b, a, b) FROM t",
        );
        let out = out.as_primitive::<Float64Type>();
        let n = points.len();
        prop_assert_eq!(out.len(), 3 * n);
        // UNION ALL keeps each branch's rows together but not the branches' order: sort within
        let mut forward = Vec::new();
        for j in 0..3 * n {
            prop_assert!(out.is_valid(j));
            let v = out.value(j);
            prop_assert!((0.0..=std::f64::consts::PI * EARTH_RADIUS_MILES + 1e-6).contains(&v), "{}", v);
            forward.push(v);
        }
        let zeros = forward.iter().filter(|v| **v < 1e-6).count();
        prop_assert!(zeros >= n, "a point is at distance 0 from itself");

        let (a, b, c, d): (Vec<_>, Vec<_>, Vec<_>, Vec<_>) = odd.iter().fold(
            (vec![], vec![], vec![], vec![]),
            |mut acc, r| { acc.0.push(r.0); acc.1.push(r.1); acc.2.push(r.2); acc.3.push(r.3); acc },
        );
        let out = run(
            vec![("a", floats(&a)), ("b", floats(&b)), ("c", floats(&c)), ("d", floats(&d))],
            "SELECT haversine_miles(a, b, c, d) FROM t",
        );
        let out = out.as_primitive::<Float64Type>();
        for (j, r) in odd.iter().enumerate() {
            let any_null = r.0.is_none() || r.1.is_none() || r.2.is_none() || r.3.is_none();
            prop_assert_eq!(out.is_null(j), any_null, "row {}: {:?}", j, r);
            if !any_null {
                let v = out.value(j);
                // NaN/inf in, NaN out is acceptable; a number must still be a distance
                prop_assert!(v.is_nan() || (0.0..=std::f64::consts::PI * EARTH_RADIUS_MILES + 1e-6).contains(&v), "row {}: {}", j, v);
            }
        }
    }

    /// trend_direction: 'up', 'down' or 'stable' for any list (NULL elements, NaN, inf), NULL
    /// only for a NULL list or threshold; fewer than 3 non-NULL values is 'stable'; a strictly
    /// increasing positive series with a small threshold is 'up'.
    #[test]
    fn trend_direction_is_one_of_three(
        lists in prop::collection::vec(prop::option::of(prop::collection::vec(any_f64(), 0..10)), 1..20),
        threshold in any_f64(),
        start in 1.0f64..1000.0,
        step in 1.0f64..100.0,
        len in 3usize..12,
    ) {
        let list = ListArray::from_iter_primitive::<Float64Type, _, _>(lists.clone());
        let out = run(
            vec![("v", Arc::new(list)), ("th", floats(&vec![threshold; lists.len()]))],
            "SELECT trend_direction(v, th) FROM t",
        );
        let out = out.as_string::<i32>();
        for (j, l) in lists.iter().enumerate() {
            match (l, threshold) {
                (Some(values), Some(_)) => {
                    prop_assert!(out.is_valid(j));
                    let v = out.value(j);
                    prop_assert!(["up", "down", "stable"].contains(&v), "{}", v);
                    if values.iter().flatten().count() < 3 {
                        prop_assert_eq!(v, "stable");
                    }
                }
                _ => prop_assert!(out.is_null(j)),
            }
        }
        let rising: Vec<Option<f64>> = (0..len).map(|k| Some(start + step * k as f64)).collect();
        let list = ListArray::from_iter_primitive::<Float64Type, _, _>(vec![Some(rising.clone())]);
        let reversed: Vec<Option<f64>> = rising.iter().rev().cloned().collect();
        let list_down = ListArray::from_iter_primitive::<Float64Type, _, _>(vec![Some(reversed)]);
        // slope/mean ≥ step / (start + step·len) ≥ 1 / 1012 > 1e-4
        let up = run(vec![("v", Arc::new(list))], "SELECT trend_direction(v, 0.0001) FROM t");
        prop_assert_eq!(up.as_string::<i32>().value(0), "up");
        let down = run(vec![("v", Arc::new(list_down))], "SELECT trend_direction(v, 0.0001) FROM t");
        prop_assert_eq!(down.as_string::<i32>().value(0), "down");
    }

    /// pseudonym: 64 lowercase hex digits, the same for the same value and key, different for
    /// different values; NULL iff an argument is NULL.
    #[test]
    fn pseudonym_is_keyed_hex(
        values in prop::collection::vec(prop::option::of(".{0,40}"), 1..20),
        key in prop::option::of(".{0,40}"),
    ) {
        let n = values.len();
        let value_array: ArrayRef = Arc::new(StringArray::from(values.clone()));
        let key_array: ArrayRef = Arc::new(StringArray::from(vec![key.clone(); n]));
        let out = run(
            vec![("v", value_array), ("k", key_array)],
            "SELECT pseudonym(v, k) FROM t",
        );
        let out = out.as_string::<i32>();
        let mut seen = std::collections::HashMap::new();
        for (j, v) in values.iter().enumerate() {
            match (v, &key) {
                (Some(v), Some(_)) => {
                    prop_assert!(out.is_valid(j));
                    let p = out.value(j);
                    prop_assert_eq!(p.len(), 64);
                    prop_assert!(p.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "{}", p);
                    if let Some(previous) = seen.insert(v.clone(), p.to_string()) {
                        prop_assert_eq!(previous, p.to_string(), "same value, same pseudonym");
                    }
                }
                _ => prop_assert!(out.is_null(j)),
            }
        }
        let distinct_values = seen.len();
        let distinct_pseudonyms: std::collections::HashSet<_> = seen.values().collect();
        prop_assert_eq!(distinct_pseudonyms.len(), distinct_values);
    }

    /// weather_category gives, row for row, what the CASE of six case-insensitive regular
    /// expressions it replaced in the datamart's view gives (SPEC section 3), on texts mixing the
    /// rules' words in any case with arbitrary characters, empty texts and NULLs.
    #[test]
    fn weather_category_is_the_spec_case(
        values in prop::collection::vec(prop::option::of(weather_text()), 1..40),
    ) {
        let array: ArrayRef = Arc::new(StringArray::from(values.clone()));
        let sql = format!("SELECT weather_category(v) = ({WEATHER_CASE}), v, weather_category(v) FROM t");
        let batches = run_batch(vec![("v", array)], &sql);
        let agrees = batches.column(0).as_boolean();
        for (j, value) in values.iter().enumerate() {
            prop_assert!(
                agrees.is_valid(j) && agrees.value(j),
                "{:?}: {:?}",
                value,
                batches.column(2).as_string::<i32>().value(j)
            );
        }
    }

    /// count_true gives, row for row, the sum of coalesced casts it replaced in the datamart's
    /// view (SPEC section 3's infrastructure count), over columns mixing true, false and NULL.
    #[test]
    fn count_true_is_the_sum_of_coalesced_casts(
        rows in prop::collection::vec(prop::collection::vec(prop::option::of(any::<bool>()), 4), 1..60),
    ) {
        let column = |k: usize| -> ArrayRef {
            Arc::new(BooleanArray::from(rows.iter().map(|r| r[k]).collect::<Vec<_>>()))
        };
        let sum = (0..4)
            .map(|k| format!("CAST(coalesce(f{k}, false) AS INT)"))
            .collect::<Vec<_>>()
            .join(" + ");
        let sql = format!("SELECT count_true(f0, f1, f2, f3) = ({sum}), count_true(f0, f1, f2, f3) FROM t");
        let batch = run_batch(
            vec![("f0", column(0)), ("f1", column(1)), ("f2", column(2)), ("f3", column(3))],
            &sql,
        );
        let agrees = batch.column(0).as_boolean();
        for (j, row) in rows.iter().enumerate() {
            prop_assert!(agrees.is_valid(j) && agrees.value(j), "{:?}", row);
        }
    }

    /// moments(x) gives, per group, exactly COUNT(x), SUM(x) and SUM(x * x) (the aggregates of
    /// the datamart's state_sums it replaced), bit for bit, and the smallest and largest value in
    /// IEEE 754 total order, over values with NULL, NaN, infinities and both zeros. (DataFusion
    /// 55's grouped MIN and MAX start from ±f64::MAX, so for a group of only NaN and +inf its MIN
    /// is f64::MAX: the bounds are checked against a fold of `f64::total_cmp` instead.)
    #[test]
    fn moments_are_the_five_aggregates(
        rows in prop::collection::vec((0i64..3, any_f64()), 1..80),
    ) {
        let keys: ArrayRef = Arc::new(Int64Array::from(rows.iter().map(|r| r.0).collect::<Vec<_>>()));
        let values = floats(&rows.iter().map(|r| r.1).collect::<Vec<_>>());
        let batch = run_batch(
            vec![("g", keys), ("x", values)],
            "SELECT g, moments(x)['n'], COUNT(x), moments(x)['sum'], SUM(x), \
                    moments(x)['sum_sq'], SUM(x * x), moments(x)['min'], moments(x)['max'] \
             FROM t GROUP BY g",
        );
        let groups = batch.column(0).as_primitive::<Int64Type>();
        let n = batch.column(1).as_primitive::<Int64Type>();
        let count = batch.column(2).as_primitive::<Int64Type>();
        prop_assert_eq!(n.values(), count.values());
        for pair in [3, 5] {
            let ours = batch.column(pair).as_primitive::<Float64Type>();
            let theirs = batch.column(pair + 1).as_primitive::<Float64Type>();
            for j in 0..batch.num_rows() {
                prop_assert_eq!(ours.is_null(j), theirs.is_null(j), "column {} row {}", pair, j);
                if ours.is_valid(j) {
                    prop_assert!(
                        same(ours.value(j), theirs.value(j)),
                        "column {} row {}: {} vs {}", pair, j, ours.value(j), theirs.value(j)
                    );
                }
            }
        }
        let min = batch.column(7).as_primitive::<Float64Type>();
        let max = batch.column(8).as_primitive::<Float64Type>();
        for j in 0..batch.num_rows() {
            let group: Vec<f64> = rows
                .iter()
                .filter(|r| r.0 == groups.value(j))
                .filter_map(|r| r.1)
                .collect();
            let lowest = group.iter().copied().reduce(|a, b| if b.total_cmp(&a).is_lt() { b } else { a });
            let highest = group.iter().copied().reduce(|a, b| if b.total_cmp(&a).is_gt() { b } else { a });
            prop_assert_eq!(min.is_valid(j).then(|| min.value(j).to_bits()), lowest.map(f64::to_bits));
            prop_assert_eq!(max.is_valid(j).then(|| max.value(j).to_bits()), highest.map(f64::to_bits));
        }
    }
}

/// The type SQL sees for each UDF does not depend on the data: a guard that the property tests
/// above check the real functions.
#[test]
fn the_properties_cover_the_registered_functions() {
    let out = run(
        vec![("x", floats(&[Some(2.0)]))],
        "SELECT danger_index(x, 3) FROM t",
    );
    assert_eq!(out.data_type(), &DataType::Float64);
    let v = out.as_primitive::<Float64Type>().value(0);
    // 2·ln(4)
    assert!((v - 2.0 * 4f64.ln()).abs() < 1e-12);
}
