//! User-defined functions (UDFs) for the medallion batch engine: scalar functions and one
//! aggregate.
//!
//! Every function here is an Apache DataFusion [`ScalarUDFImpl`] written in the
//! same style as DataFusion's own built-in functions: a type-coercing
//! [`Signature`], vectorised kernels over whole Arrow arrays, scalar
//! fast paths, and `#[user_doc]` documentation.
//!
//! | SQL name           | Arguments                                    | Returns  |
//! |--------------------|----------------------------------------------|----------|
//! | `danger_index`     | `severity_avg DOUBLE, accident_count BIGINT` | `DOUBLE` |
//! | `seasonal_factor`  | `x DOUBLE, base DOUBLE`                      | `DOUBLE` |
//! | `trend_direction`  | `values LIST<DOUBLE>, threshold DOUBLE`      | `UTF8`   |
//! | `haversine_miles`  | `lat1, lng1, lat2, lng2 DOUBLE` (degrees)    | `DOUBLE` |
//! | `pseudonym`        | `value UTF8, key UTF8`                       | `UTF8`   |
//! | `weather_category` | `weather_condition UTF8`                     | `UTF8`   |
//! | `count_true`       | `flag BOOLEAN, ...`                          | `INT`    |
//!
//! and the aggregate `moments(x DOUBLE)` → `STRUCT<n, sum, sum_sq, min, max>` (a
//! measure's COUNT, SUM, sum of squares, MIN and MAX in one pass).
//!
//! All functions but `weather_category` and `count_true` are NULL-propagating
//! (a NULL argument gives a NULL result; a NULL condition is `'unknown'`, a
//! NULL flag counts as false); see each module for out-of-domain behaviour.
//!
//! Register them all with [`register_all`] (works for a `SessionContext`, a
//! `SessionState` or any other [`FunctionRegistry`]), or take the lists from
//! [`all_udfs`] and [`all_udafs`].
//!
//! [`ScalarUDFImpl`]: datafusion::logical_expr::ScalarUDFImpl
//! [`Signature`]: datafusion::logical_expr::Signature

#![warn(missing_docs)]

use std::sync::Arc;

use datafusion::error::Result;
use datafusion::execution::FunctionRegistry;
use datafusion::logical_expr::{AggregateUDF, ScalarUDF};

pub mod count_true;
pub mod danger_index;
pub mod haversine_miles;
pub mod moments;
pub mod pseudonym;
pub mod seasonal_factor;
pub mod trend_direction;
pub mod weather_category;

mod util;

pub use count_true::CountTrueFunc;
pub use danger_index::DangerIndexFunc;
pub use haversine_miles::HaversineMilesFunc;
pub use moments::MomentsFunc;
pub use pseudonym::PseudonymFunc;
pub use seasonal_factor::SeasonalFactorFunc;
pub use trend_direction::TrendDirectionFunc;
pub use weather_category::WeatherCategoryFunc;

/// Returns all of medallion's scalar UDFs, ready to be registered.
pub fn all_udfs() -> Vec<Arc<ScalarUDF>> {
    vec![
        Arc::new(ScalarUDF::from(DangerIndexFunc::new())),
        Arc::new(ScalarUDF::from(SeasonalFactorFunc::new())),
        Arc::new(ScalarUDF::from(TrendDirectionFunc::new())),
        Arc::new(ScalarUDF::from(HaversineMilesFunc::new())),
        Arc::new(ScalarUDF::from(PseudonymFunc::new())),
        Arc::new(ScalarUDF::from(WeatherCategoryFunc::new())),
        Arc::new(ScalarUDF::from(CountTrueFunc::new())),
    ]
}

/// Returns medallion's aggregate UDFs, ready to be registered.
pub fn all_udafs() -> Vec<Arc<AggregateUDF>> {
    vec![Arc::new(AggregateUDF::from(MomentsFunc::new()))]
}

/// Registers every function from [`all_udfs`] and [`all_udafs`] with
/// `registry` (for example a `SessionContext` or `SessionState`), replacing
/// any function of the same name.
pub fn register_all(registry: &mut dyn FunctionRegistry) -> Result<()> {
    for udf in all_udfs() {
        registry.register_udf(udf)?;
    }
    for udaf in all_udafs() {
        registry.register_udaf(udaf)?;
    }
    Ok(())
}
