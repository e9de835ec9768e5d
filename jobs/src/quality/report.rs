//! The gate's outcomes as a text table, like `dbt test` prints them: expectation, severity,
//! status, observed value, threshold, failing rows.

use super::expectation::format_number;
use super::outcome::{Outcome, Status};

/// `outcomes` as an aligned table, one line per expectation, then a count per status.
pub fn table(outcomes: &[Outcome]) -> String {
    let header = [
        "expectation",
        "severity",
        "status",
        "observed",
        "threshold",
        "failing rows",
    ];
    let rows: Vec<[String; 6]> = outcomes
        .iter()
        .map(|o| {
            [
                o.expectation.name.clone(),
                o.expectation.severity.as_str().to_string(),
                o.status.as_str().to_uppercase(),
                o.observed.map_or("-".to_string(), format_number),
                o.expectation.check.threshold(),
                o.failing_rows.map_or("-".to_string(), |n| n.to_string()),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let mut out = vec![line(&header.map(str::to_string))];
    out.extend(rows.iter().map(|r| line(r)));
    for o in outcomes.iter().filter(|o| o.sample.is_some()) {
        out.push(format!("failing rows of {}:", o.expectation.name));
        out.extend(
            o.sample
                .iter()
                .flat_map(|s| s.lines())
                .map(|l| format!("  {l}")),
        );
    }
    let count = |status: Status| outcomes.iter().filter(|o| o.status == status).count();
    out.push(format!(
        "{} expectations: {} pass, {} warn, {} fail, {} skipped",
        outcomes.len(),
        count(Status::Pass),
        count(Status::Warn),
        count(Status::Fail),
        count(Status::Skipped)
    ));
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quality::expectation::{Check, Expectation, Severity};

    #[test]
    fn one_aligned_line_per_expectation_and_a_count() {
        let e = |name: &str, severity| Expectation {
            name: name.into(),
            table: Some("t".into()),
            check: Check::NotNull { column: "c".into() },
            severity,
            origin: "job.toml".into(),
        };
        let mut failed = Outcome::from_failing_rows(&e("t.not_null.c", Severity::Error), 2);
        failed.sample = Some("{\"c\":null}".into());
        let outcomes = [
            Outcome::from_failing_rows(&e("short", Severity::Warn), 0),
            failed,
        ];
        let text = table(&outcomes);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "expectation   severity  status  observed  threshold       failing rows"
        );
        assert_eq!(
            lines[2],
            "t.not_null.c  error     FAIL    2         0 failing rows  2"
        );
        assert_eq!(lines[3], "failing rows of t.not_null.c:");
        assert_eq!(
            lines[5],
            "2 expectations: 1 pass, 0 warn, 1 fail, 0 skipped"
        );
    }
}
