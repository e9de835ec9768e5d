//! Drift: a column's distribution in this run (its [`Profile`]) against the last successful run's,
//! by population stability index, PSI = Σ (aᵢ − eᵢ) · ln(aᵢ / eᵢ) over the bins' shares (e the
//! earlier run's, a this run's; a share of 0 counts as 0.0001). Text columns (and `bins =
//! "values"`) get one bin per value; numbers get ten bins between the deciles of the first run
//! profiled (of its first 100 000 values), kept in the profile so every later run is binned the
//! same way.

use std::collections::BTreeMap;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::prelude::SessionContext;
use medallion_core::{Error, Result, session};
use serde::{Deserialize, Serialize};

use super::relation_sql::ident;

/// The share a bin without rows counts as.
const EMPTY_SHARE: f64 = 1e-4;

/// Values the first run's bin edges are computed from.
const EDGE_SAMPLE: usize = 100_000;

/// The deciles bounding a numeric column's bins.
const DECILES: [f64; 9] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/// A column's distribution in one run, stored as JSON in `data_quality_results.profile`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// The bins' values (text columns).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    /// The upper bounds of the bins but the last (numeric columns); bin i holds
    /// `edges[i-1] < v <= edges[i]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edges: Vec<f64>,
    /// Each bin's share of the rows (or of the weight).
    pub shares: Vec<f64>,
    /// Rows (or weight) profiled.
    pub total: f64,
}

impl Profile {
    /// The profile as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A profile from JSON (`None` when it is not one).
    pub fn from_json(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }

    /// The share of bin `value` (text profiles).
    fn share_of(&self, value: &str) -> f64 {
        self.values
            .iter()
            .position(|v| v == value)
            .map_or(0.0, |i| self.shares[i])
    }
}

/// The PSI of `actual` against `expected` (same kind of bins).
pub fn psi(expected: &Profile, actual: &Profile) -> f64 {
    let term = |e: f64, a: f64| {
        let (e, a) = (e.max(EMPTY_SHARE), a.max(EMPTY_SHARE));
        (a - e) * (a / e).ln()
    };
    if expected.values.is_empty() && actual.values.is_empty() {
        return expected
            .shares
            .iter()
            .zip(&actual.shares)
            .map(|(&e, &a)| term(e, a))
            .sum();
    }
    let mut values: Vec<&String> = expected.values.iter().chain(&actual.values).collect();
    values.sort();
    values.dedup();
    values
        .into_iter()
        .map(|v| term(expected.share_of(v), actual.share_of(v)))
        .sum()
}

/// `(label, amount)` bins as a profile of shares.
fn shares(bins: Vec<(String, f64)>) -> Profile {
    let total: f64 = bins.iter().map(|b| b.1).sum();
    let (values, amounts): (Vec<String>, Vec<f64>) = bins.into_iter().unzip();
    Profile {
        values,
        edges: Vec::new(),
        shares: amounts
            .iter()
            .map(|a| if total > 0.0 { a / total } else { 0.0 })
            .collect(),
        total,
    }
}

/// The column `i` of `batches` as floats.
fn floats(batches: &[RecordBatch], i: usize) -> Result<Vec<Option<f64>>> {
    let mut out = Vec::new();
    for batch in batches {
        let values = cast(batch.column(i), &DataType::Float64)
            .map_err(|e| Error::engine("reading a drift profile", e.into()))?;
        let values = values.as_primitive::<Float64Type>();
        out.extend((0..values.len()).map(|r| (!values.is_null(r)).then(|| values.value(r))));
    }
    Ok(out)
}

/// The amount each row counts for: 1, or its `weight`.
fn amount(weight: Option<&str>) -> String {
    match weight {
        Some(w) => format!("COALESCE(SUM(CAST({} AS DOUBLE)), 0)", ident(w)),
        None => "CAST(COUNT(*) AS DOUBLE)".to_string(),
    }
}

/// The profile of text (or `values`-binned) `column` of `relation` in `ctx`: one bin per value's
/// text, NULL first (as `(null)`), then by text.
///
/// The query groups by the column itself and the few groups are turned into text here: grouping
/// by `CAST(column AS VARCHAR)` would first write every row's value as text (7.7M integers for
/// `severity`, a copy of every `state`), which cost more than the grouping. Two values with the
/// same text (which SQL's cast would have put in one group) are added up.
pub async fn value_profile(
    ctx: &SessionContext,
    relation: &str,
    column: &str,
    weight: Option<&str>,
) -> Result<Profile> {
    let sql = format!(
        "SELECT {c} AS v, {} AS n FROM {} GROUP BY {c}",
        amount(weight),
        ident(relation),
        c = ident(column)
    );
    let what = format!("data quality gate: profiling {relation}.{column}");
    let batches = session::collect_sql(ctx, &sql, &what).await?;
    // None (NULL) sorts before every text
    let mut bins: BTreeMap<Option<String>, f64> = BTreeMap::new();
    for batch in &batches {
        let labels = cast(batch.column(0), &DataType::Utf8)
            .map_err(|e| Error::engine(what.clone(), e.into()))?;
        let labels = labels.as_string::<i32>();
        let amounts = floats(std::slice::from_ref(batch), 1)?;
        for (r, n) in amounts.into_iter().enumerate() {
            let label = labels.is_valid(r).then(|| labels.value(r).to_string());
            *bins.entry(label).or_default() += n.unwrap_or(0.0);
        }
    }
    Ok(shares(
        bins.into_iter()
            .map(|(label, n)| (label.unwrap_or_else(|| "(null)".to_string()), n))
            .collect(),
    ))
}

/// The profile of numeric `column` of `relation` in `ctx`, binned by `edges` (those of the
/// earlier profile) or, without, by this run's deciles (one more query).
pub async fn quantile_profile(
    ctx: &SessionContext,
    relation: &str,
    column: &str,
    weight: Option<&str>,
    edges: Option<&[f64]>,
) -> Result<Profile> {
    let what = format!("data quality gate: profiling {relation}.{column}");
    let value = format!("CAST({} AS DOUBLE)", ident(column));
    let edges = match edges {
        Some(edges) => edges.to_vec(),
        None => {
            let deciles: Vec<String> = DECILES
                .iter()
                .map(|q| format!("approx_percentile_cont({q}) WITHIN GROUP (ORDER BY {value})"))
                .collect();
            // the bins only need to be the same from run to run, not exact deciles: taken from
            // the first rows read, they cost a fraction of a pass
            let sql = format!(
                "SELECT {} FROM (SELECT {} FROM {} WHERE {} IS NOT NULL LIMIT {EDGE_SAMPLE})",
                deciles.join(", "),
                ident(column),
                ident(relation),
                ident(column)
            );
            let batches = session::collect_sql(ctx, &sql, &what).await?;
            let mut edges: Vec<f64> = (0..DECILES.len())
                .map(|i| floats(&batches, i).map(|v| v.first().copied().flatten()))
                .collect::<Result<Vec<_>>>()?
                .into_iter()
                .flatten()
                .collect();
            edges.dedup();
            edges
        }
    };
    let mut conditions = Vec::new();
    for (i, edge) in edges.iter().enumerate() {
        match i {
            0 => conditions.push(format!("v <= {edge:?}")),
            _ => conditions.push(format!("v > {:?} AND v <= {edge:?}", edges[i - 1])),
        }
    }
    conditions.push(match edges.last() {
        Some(last) => format!("v > {last:?}"),
        None => "true".to_string(),
    });
    let weight_expr = weight.map_or("1.0".to_string(), |w| {
        format!("CAST({} AS DOUBLE)", ident(w))
    });
    let sums: Vec<String> = conditions
        .iter()
        .map(|c| format!("COALESCE(SUM(w) FILTER (WHERE {c}), 0)"))
        .collect();
    let sql = format!(
        "SELECT {} FROM (SELECT {value} AS v, {weight_expr} AS w FROM {} WHERE {} IS NOT NULL)",
        sums.join(", "),
        ident(relation),
        ident(column)
    );
    let batches = session::collect_sql(ctx, &sql, &what).await?;
    let amounts = (0..conditions.len())
        .map(|i| floats(&batches, i).map(|v| v.first().copied().flatten().unwrap_or(0.0)))
        .collect::<Result<Vec<_>>>()?;
    let mut profile = shares(amounts.into_iter().map(|a| (String::new(), a)).collect());
    profile.values.clear();
    profile.edges = edges;
    Ok(profile)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(values: &[(&str, f64)]) -> Profile {
        shares(values.iter().map(|(v, n)| (v.to_string(), *n)).collect())
    }

    #[test]
    fn psi_of_shares() {
        let before = text(&[("CA", 50.0), ("TX", 50.0)]);
        assert_eq!(psi(&before, &before), 0.0);
        // 50/50 -> 80/20: (0.8-0.5)·ln(0.8/0.5) + (0.2-0.5)·ln(0.2/0.5) = 0.1410 + 0.2749 = 0.4159
        let after = text(&[("CA", 80.0), ("TX", 20.0)]);
        assert!(
            (psi(&before, &after) - 0.415_888).abs() < 1e-5,
            "{}",
            psi(&before, &after)
        );
        // a new value counts against an empty share of 0.0001
        let new = text(&[("CA", 50.0), ("TX", 50.0), ("NY", 0.0)]);
        assert_eq!(psi(&before, &new), 0.0);
        let numeric = |shares: Vec<f64>| Profile {
            edges: vec![1.0],
            shares,
            ..Profile::default()
        };
        assert!((psi(&numeric(vec![0.5, 0.5]), &numeric(vec![0.8, 0.2])) - 0.415_888).abs() < 1e-5);
    }

    /// One bin per value's text, as SQL's `CAST(... AS VARCHAR)` writes it, NULL first then in
    /// text order (so "10" before "9"), weighted or counted.
    #[tokio::test]
    async fn value_profiles_label_values_as_text() {
        use std::sync::Arc;

        use datafusion::arrow::array::{Float64Array, Int64Array};
        use datafusion::arrow::datatypes::{Field, Schema};

        let schema = Arc::new(Schema::new(vec![
            Field::new("severity", DataType::Int64, true),
            Field::new("weight", DataType::Float64, true),
        ]));
        let severities = [
            Some(9),
            Some(10),
            None,
            Some(9),
            Some(2),
            Some(10),
            Some(10),
        ];
        let weights = [1.0, 2.0, 4.0, 1.0, 8.0, 2.0, 2.0];
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from(severities.to_vec())),
                Arc::new(Float64Array::from(weights.to_vec())),
            ],
        )
        .unwrap();
        let ctx = SessionContext::new();
        ctx.register_batch("t", batch).unwrap();

        let counted = value_profile(&ctx, "t", "severity", None).await.unwrap();
        assert_eq!(counted.values, ["(null)", "10", "2", "9"]);
        assert_eq!(counted.total, 7.0);
        let expected = [1.0 / 7.0, 3.0 / 7.0, 1.0 / 7.0, 2.0 / 7.0];
        for (share, expected) in counted.shares.iter().zip(expected) {
            assert!((share - expected).abs() < 1e-12, "{:?}", counted.shares);
        }

        let weighted = value_profile(&ctx, "t", "severity", Some("weight"))
            .await
            .unwrap();
        assert_eq!(weighted.values, counted.values);
        assert_eq!(weighted.total, 20.0);
        assert_eq!(weighted.shares, [0.2, 0.3, 0.4, 0.1]);
    }

    #[test]
    fn profiles_round_trip_as_json() {
        let p = text(&[("a", 1.0), ("b", 3.0)]);
        assert_eq!(p.shares, [0.25, 0.75]);
        assert_eq!(Profile::from_json(&p.to_json()), Some(p));
        assert_eq!(Profile::from_json("nonsense"), None);
    }
}
