//! Reading expectations: `[[expect]]` tables of `job.toml` (or of an `--expect FILE`), and
//! `-- medallion: expect key=value ...` lines of a Gold SQL file. Both become the same key/value
//! pairs, checked here: an unknown kind or key, a missing or bad threshold is an error naming the
//! expectation and where it was written, before anything runs.

use std::collections::BTreeMap;

use super::expectation::{Bins, Check, Expectation, Severity};

/// The kinds an expectation may have.
pub const KINDS: [&str; 10] = [
    "not_null",
    "unique",
    "accepted_values",
    "range",
    "row_count",
    "row_count_change",
    "freshness",
    "completeness",
    "sql",
    "drift",
];

/// Keys any expectation may have besides those of its kind.
const COMMON_KEYS: [&str; 5] = ["name", "kind", "table", "severity", "description"];

/// An expectation's keys and their values (a list for `columns` and `values`).
pub type Pairs = BTreeMap<String, Vec<String>>;

/// The expectation `pairs` describe, declared at `origin`; `default_table` is the table of the
/// Gold SQL file it was written in, if any.
pub fn expectation(
    pairs: &Pairs,
    origin: &str,
    default_table: Option<&str>,
) -> Result<Expectation, String> {
    let one = |key: &str| -> Option<&str> {
        pairs
            .get(key)
            .and_then(|v| v.first())
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    };
    let kind = one("kind").ok_or("an expectation needs a kind")?;
    let label = one("name").map_or_else(|| kind.to_string(), str::to_string);
    let bad = |message: String| format!("expectation '{label}': {message}");
    let number = |key: &str| -> Result<Option<f64>, String> {
        match one(key) {
            None => Ok(None),
            Some(text) => match text.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(Some(v)),
                _ => Err(bad(format!("{key} = '{text}' is not a number"))),
            },
        }
    };
    let required = |key: &str| -> Result<f64, String> {
        number(key)?.ok_or_else(|| bad(format!("{kind} needs {key}")))
    };
    let percent = |key: &str| -> Result<f64, String> {
        let v = required(key)?;
        if (0.0..=100.0).contains(&v) {
            Ok(v)
        } else {
            Err(bad(format!("{key} = {v} is not a percentage in [0, 100]")))
        }
    };
    let column = || -> Result<String, String> {
        one("column")
            .map(str::to_string)
            .ok_or_else(|| bad(format!("{kind} needs a column")))
    };
    let bounds = || -> Result<(Option<f64>, Option<f64>), String> {
        let (min, max) = (number("min")?, number("max")?);
        match (min, max) {
            (None, None) => Err(bad(format!("{kind} needs min and/or max"))),
            (Some(lo), Some(hi)) if lo > hi => Err(bad(format!("min {lo} is above max {hi}"))),
            _ => Ok((min, max)),
        }
    };
    let (check, keys): (Check, &[&str]) = match kind {
        "not_null" => (Check::NotNull { column: column()? }, &["column"]),
        "unique" => {
            let mut columns: Vec<String> = pairs.get("columns").cloned().unwrap_or_default();
            columns.extend(one("column").map(str::to_string));
            columns.retain(|c| !c.trim().is_empty());
            if columns.is_empty() {
                return Err(bad("unique needs column or columns".into()));
            }
            (Check::Unique { columns }, &["column", "columns"])
        }
        "accepted_values" => {
            let values = pairs.get("values").cloned().unwrap_or_default();
            if values.is_empty() {
                return Err(bad("accepted_values needs values".into()));
            }
            let check = Check::AcceptedValues {
                column: column()?,
                values,
            };
            (check, &["column", "values"])
        }
        "range" => {
            let (min, max) = bounds()?;
            let check = Check::Range {
                column: column()?,
                min,
                max,
            };
            (check, &["column", "min", "max"])
        }
        "row_count" => {
            let (min, max) = bounds()?;
            if min.is_some_and(|v| v < 0.0) {
                return Err(bad("min is negative".into()));
            }
            (Check::RowCount { min, max }, &["min", "max"])
        }
        "row_count_change" => {
            let max_pct = required("max_pct")?;
            if max_pct < 0.0 {
                return Err(bad(format!("max_pct = {max_pct} is negative")));
            }
            (Check::RowCountChange { max_pct }, &["max_pct"])
        }
        "freshness" => {
            let max_age_hours = required("max_age_hours")?;
            if max_age_hours <= 0.0 {
                return Err(bad(format!(
                    "max_age_hours = {max_age_hours} is not positive"
                )));
            }
            let check = Check::Freshness {
                column: column()?,
                max_age_hours,
            };
            (check, &["column", "max_age_hours"])
        }
        "completeness" => {
            let check = Check::Completeness {
                column: one("column").map(str::to_string),
                min_pct: percent("min_pct")?,
            };
            (check, &["column", "min_pct"])
        }
        "sql" => {
            let sql = pairs
                .get("sql")
                .map(|v| v.join(","))
                .filter(|s| !s.trim().is_empty())
                .ok_or_else(|| bad("sql needs sql (a query returning the failing rows)".into()))?;
            (Check::Sql { sql }, &["sql"])
        }
        "drift" => {
            let max_psi = required("max_psi")?;
            if max_psi <= 0.0 {
                return Err(bad(format!("max_psi = {max_psi} is not positive")));
            }
            let bins = match one("bins") {
                None => Bins::Auto,
                Some("values") => Bins::Values,
                Some("quantiles") => Bins::Quantiles,
                Some(other) => {
                    return Err(bad(format!(
                        "bins = '{other}' is not 'values' or 'quantiles'"
                    )));
                }
            };
            let check = Check::Drift {
                column: column()?,
                max_psi,
                bins,
                weight: one("weight").map(str::to_string),
            };
            (check, &["column", "max_psi", "bins", "weight"])
        }
        other => {
            return Err(bad(format!(
                "unknown kind '{other}' (kinds: {})",
                KINDS.join(", ")
            )));
        }
    };
    if let Some(key) = pairs
        .keys()
        .find(|k| !COMMON_KEYS.contains(&k.as_str()) && !keys.contains(&k.as_str()))
    {
        return Err(bad(format!(
            "unknown key '{key}' for {kind} (keys: {})",
            keys.join(", ")
        )));
    }
    let severity = match one("severity") {
        None => Severity::Error,
        Some(text) => Severity::parse(text).map_err(bad)?,
    };
    let table = one("table").or(default_table).map(str::to_string);
    if table.is_none() && !matches!(check, Check::Sql { .. }) {
        return Err(bad(format!("{kind} needs a table")));
    }
    let name = match one("name") {
        Some(name) => name.to_string(),
        None => {
            let mut parts: Vec<&str> = table.iter().map(String::as_str).collect();
            parts.push(kind);
            parts.extend(check.columns());
            parts.join(".")
        }
    };
    Ok(Expectation {
        name,
        table,
        check,
        severity,
        origin: origin.to_string(),
    })
}

/// The `[[expect]]` tables of a TOML document (`job.toml`, an `--expect` file), declared at
/// `origin`.
pub fn from_toml(expect: &[toml::Table], origin: &str) -> Result<Vec<Expectation>, String> {
    expect
        .iter()
        .map(|table| {
            let pairs = table
                .iter()
                .map(|(key, value)| Ok((key.clone(), toml_values(key, value)?)))
                .collect::<Result<Pairs, String>>()?;
            expectation(&pairs, origin, None)
        })
        .collect()
}

/// A TOML value as text values (an array gives one per element).
fn toml_values(key: &str, value: &toml::Value) -> Result<Vec<String>, String> {
    match value {
        toml::Value::String(s) => Ok(vec![s.clone()]),
        toml::Value::Integer(i) => Ok(vec![i.to_string()]),
        toml::Value::Float(f) => Ok(vec![f.to_string()]),
        toml::Value::Boolean(b) => Ok(vec![b.to_string()]),
        toml::Value::Array(items) => items
            .iter()
            .map(|item| toml_values(key, item).map(|mut v| v.remove(0)))
            .collect(),
        other => Err(format!("expect.{key}: unsupported value {other}")),
    }
}

/// The `-- medallion: expect key=value ...` lines of Gold table `table`'s SQL, declared in
/// `origin` (e.g. `gold/kpis_weather.sql`). Values are separated by spaces; `columns` and `values`
/// are comma lists; `sql=` takes the rest of the line.
pub fn from_sql_lines(sql: &str, table: &str, origin: &str) -> Result<Vec<Expectation>, String> {
    let mut found = Vec::new();
    for (number, line) in sql.lines().enumerate() {
        let Some(directive) = line.trim().strip_prefix("-- medallion:") else {
            continue;
        };
        let Some(rest) = directive.trim().strip_prefix("expect ") else {
            continue;
        };
        let at = format!("{origin}:{}", number + 1);
        found.push(
            expectation(
                &line_pairs(rest).map_err(|e| format!("{at}: {e}"))?,
                &at,
                Some(table),
            )
            .map_err(|e| format!("{at}: {e}"))?,
        );
    }
    Ok(found)
}

/// Whether a `-- medallion:` directive is an expectation (not a table option).
pub fn is_expect_directive(directive: &str) -> bool {
    directive.trim_start().starts_with("expect ")
}

/// `kind=range column=x min=0` as pairs.
fn line_pairs(text: &str) -> Result<Pairs, String> {
    let mut pairs = Pairs::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let (key, after) = rest
            .split_once('=')
            .ok_or_else(|| format!("expected key=value, found '{rest}'"))?;
        let key = key.trim().to_string();
        if key.contains(char::is_whitespace) || key.is_empty() {
            return Err(format!("expected key=value, found '{rest}'"));
        }
        let (value, next) = if key == "sql" {
            (after.trim(), "")
        } else {
            match after.split_once(char::is_whitespace) {
                Some((value, next)) => (value, next.trim_start()),
                None => (after, ""),
            }
        };
        let values = match key.as_str() {
            "columns" | "values" => value.split(',').map(|v| v.trim().to_string()).collect(),
            _ => vec![value.to_string()],
        };
        pairs.insert(key, values);
        rest = next;
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toml_expect(text: &str) -> Result<Vec<Expectation>, String> {
        #[derive(serde::Deserialize)]
        struct File {
            expect: Vec<toml::Table>,
        }
        let file: File = toml::from_str(text).unwrap();
        from_toml(&file.expect, "job.toml")
    }

    #[test]
    fn toml_tables_become_expectations() {
        let found = toml_expect(
            r#"
            [[expect]]
            kind = "completeness"
            table = "accidents"
            column = "weather_condition"
            min_pct = 90
            [[expect]]
            name = "ids"
            kind = "unique"
            table = "accidents"
            columns = ["id", "state"]
            severity = "warn"
            "#,
        )
        .unwrap();
        assert_eq!(found[0].name, "accidents.completeness.weather_condition");
        assert_eq!(
            found[0].check,
            Check::Completeness {
                column: Some("weather_condition".into()),
                min_pct: 90.0
            }
        );
        assert_eq!(found[0].severity, Severity::Error);
        assert_eq!(found[1].name, "ids");
        assert_eq!(found[1].check.columns(), ["id", "state"]);
        assert_eq!(found[1].severity, Severity::Warn);
    }

    #[test]
    fn mistakes_are_named() {
        let err = |text: &str| toml_expect(text).unwrap_err();
        let e = err("[[expect]]\nkind = \"completeness\"\ntable = \"a\"\nmin_pct = 120");
        assert!(e.contains("min_pct = 120 is not a percentage"), "{e}");
        let e =
            err("[[expect]]\nkind = \"range\"\ntable = \"a\"\ncolumn = \"x\"\nmin = 5\nmax = 1");
        assert!(e.contains("min 5 is above max 1"), "{e}");
        let e = err("[[expect]]\nkind = \"range\"\ntable = \"a\"\ncolumn = \"x\"\nmin = \"low\"");
        assert!(e.contains("min = 'low' is not a number"), "{e}");
        let e = err("[[expect]]\nkind = \"nonsense\"\ntable = \"a\"");
        assert!(e.contains("unknown kind 'nonsense'"), "{e}");
        let e = err("[[expect]]\nkind = \"not_null\"\ntable = \"a\"\ncolum = \"x\"");
        assert!(e.contains("not_null needs a column"), "{e}");
        let e = err("[[expect]]\nkind = \"not_null\"\ntable = \"a\"\ncolumn = \"x\"\nmin = 1");
        assert!(e.contains("unknown key 'min'"), "{e}");
        let e = err("[[expect]]\nkind = \"not_null\"\ncolumn = \"x\"\nseverity = \"fatal\"");
        assert!(e.contains("severity 'fatal'"), "{e}");
    }

    #[test]
    fn sql_lines_default_to_their_table() {
        let sql = "-- medallion: primary_key = a\n\
                   -- medallion: expect kind=range column=share_pct min=0 max=100 severity=warn\n\
                   -- medallion: expect kind=accepted_values column=c values=x,y\n\
                   -- medallion: expect name=none kind=sql sql=SELECT * FROM t WHERE a = 1\n\
                   SELECT 1";
        let found = from_sql_lines(sql, "t", "gold/t.sql").unwrap();
        assert_eq!(found.len(), 3);
        assert_eq!(found[0].table.as_deref(), Some("t"));
        assert_eq!(found[0].origin, "gold/t.sql:2");
        assert_eq!(
            found[0].check,
            Check::Range {
                column: "share_pct".into(),
                min: Some(0.0),
                max: Some(100.0)
            }
        );
        assert_eq!(
            found[1].check,
            Check::AcceptedValues {
                column: "c".into(),
                values: vec!["x".into(), "y".into()]
            }
        );
        assert_eq!(
            found[2].check,
            Check::Sql {
                sql: "SELECT * FROM t WHERE a = 1".into()
            }
        );
        let err = from_sql_lines(
            "-- medallion: expect kind=range column\n",
            "t",
            "gold/t.sql",
        )
        .unwrap_err();
        assert!(err.starts_with("gold/t.sql:1: "), "{err}");
        assert!(is_expect_directive(" expect kind=x") && !is_expect_directive("primary_key = a"));
    }
}
