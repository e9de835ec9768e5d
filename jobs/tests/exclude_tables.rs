//! `medallion run --exclude`: the real binary over a small lake. Excluded Gold tables are neither
//! computed nor published (their published copies keep the previous run's bytes), the others are
//! published as a whole run would; the materialized views only they read are not computed, and a
//! shared view with one reader left is planned inside it (what makes bench/run's six-table run
//! cost what the datamart without SPEC 3b costs); an unknown table is bad input (exit 2).

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

const ANALYTICS: [&str; 3] = ["kpis_anomalies", "kpis_correlations", "insights"];

/// Accidents in three states over two years, with flags and severities that differ, `extra` more
/// in TX (to tell two runs' Gold apart).
fn rows(extra: usize) -> Vec<Accident> {
    let ids: Vec<&'static str> = (0..40 + extra)
        .map(|n| &*Box::leak(format!("a{n}").into_boxed_str()))
        .collect();
    let times = [
        "2021-03-05 08:15:00",
        "2021-07-15 17:40:00",
        "2022-01-05 10:15:00",
        "2022-11-20 23:05:00",
    ];
    ids.iter()
        .enumerate()
        .map(|(n, id)| {
            let state = if n >= 40 {
                "TX"
            } else {
                ["CA", "TX", "NY"][n % 3]
            };
            let mut row = Accident::clear_day_in_la(id, 1 + (n % 4) as i32, times[n % 4]);
            row.state = Some(state);
            row.temperature_f = Some(30.0 + (n * 7 % 60) as f64);
            row.visibility_mi = Some((n % 10) as f64);
            row.flags_true = match n % 5 {
                0 => &["crossing"],
                1 => &["crossing", "traffic_signal"],
                2 => &["junction"],
                _ => &[],
            };
            row
        })
        .collect()
}

/// The run's JSON log lines.
fn events(stderr: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The views the run logged as materialized.
fn materialized(events: &[Value]) -> BTreeSet<String> {
    events
        .iter()
        .filter(|e| e["message"] == "view materialized")
        .filter_map(|e| e["view"].as_str().map(str::to_string))
        .collect()
}

fn run(lake: &Path, gold: &Path, exclude: Option<&str>) -> Vec<Value> {
    let mut extra = vec!["--log-format", "json", "--no-progress"];
    if let Some(tables) = exclude {
        extra.extend(["--exclude", tables]);
    }
    let output = run_datamart(lake, gold, &extra);
    assert_success(&output, "medallion run");
    events(&output.stderr)
}

fn lake(dir: &Path, name: &str, extra: usize) -> PathBuf {
    write_lake(&dir.join(name), &rows(extra), Format::Parquet)
}

#[tokio::test]
async fn excluded_tables_keep_their_published_copy_and_the_rest_is_the_whole_runs() {
    let work = tempfile::tempdir().expect("temp dir");
    let first = lake(work.path(), "first", 0);
    let second = lake(work.path(), "second", 5);
    let gold = work.path().join("gold");
    let whole = work.path().join("whole");

    // the whole run shares state_sums between kpis_infrastructure, state_profiles and
    // severity_correlations, and the last between kpis_correlations and insights
    let logged = run(&first, &gold, None);
    assert_eq!(
        materialized(&logged),
        BTreeSet::from(
            [
                "period_counts",
                "severity_correlations",
                "state_profiles",
                "state_sums",
                "weather_groups"
            ]
            .map(str::to_string)
        )
    );
    let before = snapshot(&gold);

    // the six-table run over more rows: SPEC 3b's tables and the views only they read stay out
    let logged = run(&second, &gold, Some(&ANALYTICS.join(",")));
    let views = materialized(&logged);
    assert!(
        !views.contains("state_profiles")
            && !views.contains("state_sums")
            && !views.contains("severity_correlations"),
        "{views:?}"
    );
    // a view with one reader left is planned inside it: kpis_weather's weather_groups,
    // kpis_temporal's period_counts
    assert!(views.is_empty(), "{views:?}");
    let excluded = logged
        .iter()
        .find(|e| e["message"] == "Gold tables excluded from the run")
        .expect("the exclusion is logged");
    assert_eq!(excluded["tables"], ANALYTICS.join(","));
    let staged: BTreeSet<&str> = logged
        .iter()
        .filter(|e| e["message"] == "Gold table staged")
        .filter_map(|e| e["table"].as_str())
        .collect();
    assert_eq!(staged.len(), 6, "{staged:?}");
    assert!(ANALYTICS.iter().all(|t| !staged.contains(t)), "{staged:?}");

    // the excluded tables' published files are byte for byte the first run's; the others changed
    let after = snapshot(&gold);
    for (path, bytes) in &before {
        let table = path.iter().next().unwrap().to_string_lossy().to_string();
        if ANALYTICS.contains(&table.as_str()) {
            assert_eq!(after.get(path), Some(bytes), "{} changed", path.display());
        }
    }
    let six = Gold::open(&gold).await;
    assert_eq!(
        six.rows("SELECT SUM(accident_count) FROM kpis_security WHERE city IS NULL")
            .await[0][0]
            .as_i64(),
        Some(45)
    );

    // the six tables equal those of a whole run over the same rows (kpis_infrastructure reads
    // state_sums inlined here, materialized there)
    run(&second, &whole, None);
    let nine = Gold::open(&whole).await;
    for (table, order) in [
        ("kpis_infrastructure", "flag"),
        ("kpis_weather", "weather_category, temperature_category"),
        ("kpis_temporal", "period_type, period_value, state"),
        ("kpis_security", "state, city NULLS FIRST"),
    ] {
        let columns: Vec<String> = nine
            .columns(table)
            .await
            .into_iter()
            .filter(|c| c != "last_updated")
            .collect();
        let sql = format!(
            "SELECT {} FROM {table} ORDER BY {order}",
            columns.join(", ")
        );
        let expected = nine.rows(&sql).await;
        assert!(!expected.is_empty(), "{table}");
        assert_rows(table, &six.rows(&sql).await, &expected);
    }
}

#[test]
fn an_unknown_table_exits_2_naming_it_and_publishes_nothing() {
    let work = tempfile::tempdir().expect("temp dir");
    let lake = lake(work.path(), "lake", 0);
    let gold = work.path().join("gold");
    let output = run_datamart(&lake, &gold, &["--exclude", "kpis_security,kpis_nothing"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("'kpis_nothing'"), "{stderr}");
    assert!(stderr.contains("accidents_summary"), "{stderr}");
    assert!(snapshot(&gold).is_empty(), "{:?}", snapshot(&gold).keys());
}

#[test]
fn exclude_with_export_is_refused() {
    let work = tempfile::tempdir().expect("temp dir");
    let lake = lake(work.path(), "lake", 0);
    let gold = work.path().join("gold");
    let export = work.path().join("export");
    let output = run_datamart(
        &lake,
        &gold,
        &[
            "--exclude",
            "insights",
            "--export",
            export.to_str().unwrap(),
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--exclude") && stderr.contains("--export"),
        "{stderr}"
    );
}
