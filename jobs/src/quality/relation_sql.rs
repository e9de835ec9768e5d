//! The SQL the gate runs over one relation: every column check of the relation folded into one
//! aggregate query (one scan, however many expectations), the duplicate-key query of a `unique`
//! check, and the query sampling a failed check's rows (run only when it failed).

use super::expectation::Check;

/// `name` as a quoted SQL identifier.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `text` as a SQL string literal.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The condition a failing row of `check` meets, for the checks judged row by row (and, for a
/// column's completeness, the rows without a value).
pub fn failing_rows(check: &Check) -> Option<String> {
    match check {
        Check::NotNull { column }
        | Check::Completeness {
            column: Some(column),
            ..
        } => Some(format!("{} IS NULL", ident(column))),
        Check::AcceptedValues { column, values } => Some(format!(
            "{c} IS NOT NULL AND CAST({c} AS VARCHAR) NOT IN ({})",
            values
                .iter()
                .map(|v| literal(v))
                .collect::<Vec<_>>()
                .join(", "),
            c = ident(column)
        )),
        Check::Range { column, min, max } => {
            let c = ident(column);
            let mut out = Vec::new();
            if let Some(min) = min {
                out.push(format!("{c} < {min:?}"));
            }
            if let Some(max) = max {
                out.push(format!("{c} > {max:?}"));
            }
            Some(format!("({})", out.join(" OR ")))
        }
        _ => None,
    }
}

/// The aggregate `check` needs from its relation, as a DOUBLE expression; `None` when it needs
/// none besides the row count (or another query).
pub fn aggregate(check: &Check) -> Option<String> {
    let count = |condition: String| format!("CAST(COUNT(*) FILTER (WHERE {condition}) AS DOUBLE)");
    match check {
        Check::NotNull { .. } | Check::AcceptedValues { .. } | Check::Range { .. } => {
            failing_rows(check).map(count)
        }
        Check::Completeness {
            column: Some(column),
            ..
        } => Some(format!("CAST(COUNT({}) AS DOUBLE)", ident(column))),
        Check::Freshness { column, .. } => Some(format!(
            "CAST(date_part('epoch', MAX({})) AS DOUBLE)",
            ident(column)
        )),
        _ => None,
    }
}

/// One query over `relation` computing its row count (first column) and then the aggregate of
/// each of `checks` that has one, in order; returns it with, per check, its column's position.
pub fn aggregate_query(relation: &str, checks: &[&Check]) -> (String, Vec<Option<usize>>) {
    let mut columns = vec!["CAST(COUNT(*) AS DOUBLE) AS rows_".to_string()];
    let mut slots = Vec::with_capacity(checks.len());
    for check in checks {
        match aggregate(check) {
            Some(expr) => {
                slots.push(Some(columns.len()));
                columns.push(format!("{expr} AS m{}", columns.len()));
            }
            None => slots.push(None),
        }
    }
    let sql = format!("SELECT {} FROM {}", columns.join(", "), ident(relation));
    (sql, slots)
}

/// The number of key values of `columns` held by more than one row of `relation`.
pub fn duplicates_query(relation: &str, columns: &[String]) -> String {
    let key = columns
        .iter()
        .map(|c| ident(c))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT CAST(COUNT(*) AS DOUBLE) FROM (SELECT {key} FROM {} GROUP BY {key} \
         HAVING COUNT(*) > 1)",
        ident(relation)
    )
}

/// Up to `limit` failing rows of `check` on `relation` (its columns, after `lead` — e.g. the
/// relation's first column, which identifies the row); `None` for checks without failing rows.
pub fn sample_query(relation: &str, check: &Check, lead: &str, limit: usize) -> Option<String> {
    let table = ident(relation);
    if let Check::Unique { columns } = check {
        let key = columns
            .iter()
            .map(|c| ident(c))
            .collect::<Vec<_>>()
            .join(", ");
        return Some(format!(
            "SELECT {key}, COUNT(*) AS rows_ FROM {table} GROUP BY {key} HAVING COUNT(*) > 1 \
             ORDER BY rows_ DESC LIMIT {limit}"
        ));
    }
    let condition = failing_rows(check)?;
    let mut shown = vec![ident(lead)];
    for column in check.columns() {
        if column != lead {
            shown.push(ident(column));
        }
    }
    Some(format!(
        "SELECT {} FROM {table} WHERE {condition} LIMIT {limit}",
        shown.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_column_check_of_a_relation_is_one_scan() {
        let not_null = Check::NotNull {
            column: "state".into(),
        };
        let count = Check::RowCount {
            min: Some(1.0),
            max: None,
        };
        let range = Check::Range {
            column: "severity".into(),
            min: Some(1.0),
            max: Some(4.0),
        };
        let (sql, slots) = aggregate_query("accidents", &[&not_null, &count, &range]);
        assert_eq!(
            sql,
            "SELECT CAST(COUNT(*) AS DOUBLE) AS rows_, \
             CAST(COUNT(*) FILTER (WHERE \"state\" IS NULL) AS DOUBLE) AS m1, \
             CAST(COUNT(*) FILTER (WHERE (\"severity\" < 1.0 OR \"severity\" > 4.0)) AS DOUBLE) AS m2 \
             FROM \"accidents\""
        );
        assert_eq!(slots, [Some(1), None, Some(2)]);
    }

    #[test]
    fn accepted_values_compare_as_text_and_samples_lead_with_the_key() {
        let check = Check::AcceptedValues {
            column: "w".into(),
            values: vec!["rain".into(), "o'clock".into()],
        };
        assert_eq!(
            failing_rows(&check).unwrap(),
            "\"w\" IS NOT NULL AND CAST(\"w\" AS VARCHAR) NOT IN ('rain', 'o''clock')"
        );
        assert_eq!(
            sample_query("t", &check, "id", 5).unwrap(),
            format!(
                "SELECT \"id\", \"w\" FROM \"t\" WHERE {} LIMIT 5",
                failing_rows(&check).unwrap()
            )
        );
        let unique = Check::Unique {
            columns: vec!["a".into(), "b".into()],
        };
        assert_eq!(
            duplicates_query("t", &["a".into(), "b".into()]),
            "SELECT CAST(COUNT(*) AS DOUBLE) FROM (SELECT \"a\", \"b\" FROM \"t\" GROUP BY \"a\", \"b\" HAVING COUNT(*) > 1)"
        );
        assert!(
            sample_query("t", &unique, "a", 3)
                .unwrap()
                .ends_with("LIMIT 3")
        );
    }
}
