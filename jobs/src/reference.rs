//! Reference tables (small CSV files shipped in `data/`) registered as SQL views over `VALUES`, so
//! they travel inside the plan to every executor with no file to mount.

use datafusion::prelude::SessionContext;
use medallion_core::{Error, Result};

/// The SQL type of a CSV column: BIGINT if every value is an integer, DOUBLE if every value is a
/// number, VARCHAR otherwise.
fn column_type(values: &[&str]) -> &'static str {
    if values.iter().all(|v| v.parse::<i64>().is_ok()) {
        "BIGINT"
    } else if values.iter().all(|v| v.parse::<f64>().is_ok()) {
        "DOUBLE"
    } else {
        "VARCHAR"
    }
}

fn is_identifier(name: &str) -> bool {
    !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
}

/// `SELECT` over a `VALUES` list holding the rows of `csv` (a header line, then plain
/// comma-separated values without quotes).
pub fn values_sql(name: &str, csv: &str) -> Result<String> {
    let bad = |message: String| Error::invalid(format!("reference table {name}"), message);
    let mut lines = csv.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines
        .next()
        .ok_or_else(|| bad("empty file".into()))?
        .split(',')
        .map(str::trim)
        .collect();
    if let Some(column) = header.iter().find(|c| !is_identifier(c)) {
        return Err(bad(format!("bad column name '{column}'")));
    }
    let rows: Vec<Vec<&str>> = lines
        .map(|l| l.split(',').map(str::trim).collect())
        .collect();
    if rows.is_empty() {
        return Err(bad("no rows".into()));
    }
    if let Some((i, row)) = rows
        .iter()
        .enumerate()
        .find(|(_, r)| r.len() != header.len())
    {
        return Err(bad(format!(
            "line {}: {} values for {} columns",
            i + 2,
            row.len(),
            header.len()
        )));
    }
    let types: Vec<&str> = (0..header.len())
        .map(|c| column_type(&rows.iter().map(|r| r[c]).collect::<Vec<_>>()))
        .collect();
    let literal = |value: &str, sql_type: &str| match sql_type {
        "VARCHAR" => format!("'{}'", value.replace('\'', "''")),
        _ => value.to_string(),
    };
    let values = rows
        .iter()
        .map(|row| {
            let cells: Vec<String> = row.iter().zip(&types).map(|(v, t)| literal(v, t)).collect();
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(",\n");
    let columns = header
        .iter()
        .enumerate()
        .zip(&types)
        .map(|((i, name), t)| format!("CAST(column{} AS {t}) AS {name}", i + 1))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(format!("SELECT {columns} FROM (VALUES {values})"))
}

/// Registers the reference table `name` from `csv` as a view in `ctx`.
pub async fn register_reference(ctx: &SessionContext, name: &str, csv: &str) -> Result<()> {
    let sql = format!(
        "CREATE OR REPLACE VIEW {name} AS {}",
        values_sql(name, csv)?
    );
    ctx.sql(&sql)
        .await
        .map_err(|e| Error::engine(format!("registering reference table {name}"), e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_csv_becomes_a_typed_view() {
        let ctx = SessionContext::new();
        register_reference(&ctx, "pop", "state,population\nCA,39538223\nTX,29145505\n")
            .await
            .unwrap();
        let batches = ctx
            .sql("SELECT state, population * 2 AS p FROM pop ORDER BY state")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
            .unwrap()
            .to_string();
        assert!(text.contains("| CA    | 79076446 |"), "{text}");
        assert!(text.contains("| TX    | 58291010 |"), "{text}");
    }

    #[test]
    fn malformed_csv_is_refused() {
        assert!(values_sql("t", "").is_err());
        assert!(values_sql("t", "a,b\n1\n").is_err());
        assert!(values_sql("t", "a;drop,b\n1,2\n").is_err());
    }
}
