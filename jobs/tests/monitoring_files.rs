//! The monitoring files: the alert rules (`deploy/prometheus/medallion-rules.yml`) pass
//! `promtool check rules` and their unit tests (`promtool test rules
//! deploy/prometheus/medallion-rules.test.yml`), the PrometheusRule of `k8s/monitoring/` holds the
//! same groups, and every metric the rules and the Grafana dashboard
//! (`deploy/grafana/medallion-dashboard.json`) query is one medallion pushes (runs), or its
//! executors or scheduler expose.
//!
//! Fails with the install line when `promtool` (Debian's `prometheus` package) is not on the PATH
//! (.ci/run installs it).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value as Json;
use yaml_serde::Value;

const RULES: &str = "deploy/prometheus/medallion-rules.yml";
const RULE_TESTS: &str = "deploy/prometheus/medallion-rules.test.yml";
const PROMETHEUS_RULE: &str = "k8s/monitoring/prometheusrule.yaml";
const MONITORING_KUSTOMIZATION: &str = "k8s/monitoring/kustomization.yaml";
const DASHBOARD: &str = "deploy/grafana/medallion-dashboard.json";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("jobs/ has a parent")
        .to_path_buf()
}

fn read(rel: &str) -> String {
    let path = root().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn yaml(rel: &str) -> Value {
    yaml_serde::from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel}: invalid YAML: {e}"))
}

/// Runs `promtool ARGS` in the repository root; panics with its output unless it succeeds.
fn promtool(args: &[&str]) -> String {
    let output = Command::new("promtool")
        .args(args)
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| {
            panic!("promtool cannot be run ({e}): apt-get install -y prometheus (as .ci/run does)")
        });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "promtool {args:?}:\n{text}");
    text
}

/// Every metric name medallion pushes or exposes, histogram series included.
fn known_metrics() -> BTreeSet<String> {
    let mut names: BTreeSet<String> = medallion_jobs::run_metrics::PUSHED_METRICS
        .iter()
        .map(|(name, _)| name.to_string())
        .collect();
    names.extend(
        medallion_executor::metrics::EXECUTOR_METRICS
            .iter()
            .map(|n| n.to_string()),
    );
    names.extend(
        medallion_scheduler::metrics::SCHEDULER_METRICS
            .iter()
            .map(|n| n.to_string()),
    );
    // the process collector of the scheduler and the executors
    for process in [
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_virtual_memory_bytes",
        "process_open_fds",
        "process_max_fds",
        "process_start_time_seconds",
        "process_threads",
    ] {
        names.insert(process.to_string());
    }
    let histograms: Vec<String> = names.iter().cloned().collect();
    for name in histograms {
        for suffix in ["_bucket", "_sum", "_count"] {
            names.insert(format!("{name}{suffix}"));
        }
    }
    names
}

/// `text` without its quoted strings and the contents of `{...}` (label matchers) and `[...]`
/// (ranges).
fn without_strings_and_matchers(text: &str) -> String {
    let mut out = String::new();
    let mut quote = None;
    let mut depth = 0;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'' | '`') => quote = Some(c),
            (None, '{' | '[') => depth += 1,
            (None, '}' | ']') => depth -= 1,
            (None, c) if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// The metric names a PromQL expression reads: its identifiers that are not functions (followed
/// by `(`), keywords, or labels of a `by`/`without`/`on`/`ignoring`/`group_*` clause.
fn metrics_in(expr: &str) -> BTreeSet<String> {
    // operators, and the aggregations, which may take their `by (...)` before their argument
    const KEYWORDS: [&str; 20] = [
        "and",
        "or",
        "unless",
        "bool",
        "offset",
        "by",
        "without",
        "on",
        "sum",
        "min",
        "max",
        "avg",
        "group",
        "stddev",
        "stdvar",
        "count",
        "count_values",
        "bottomk",
        "topk",
        "quantile",
    ];
    let text = without_strings_and_matchers(expr);
    // drop label lists: by (a, b), without (...), on (...), ignoring (...), group_left (...)
    let mut cleaned = String::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find(|c: char| c.is_ascii_alphabetic() || c == '_') {
        cleaned.push_str(&rest[..start]);
        let word_len = rest[start..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(rest.len() - start);
        let word = &rest[start..start + word_len];
        let after = rest[start + word_len..].trim_start();
        let label_list = matches!(
            word,
            "by" | "without" | "on" | "ignoring" | "group_left" | "group_right"
        );
        if label_list && after.starts_with('(') {
            let close = after.find(')').expect("a closed label list");
            rest = &after[close + 1..];
            continue;
        }
        if !after.starts_with('(') && !KEYWORDS.contains(&word) {
            cleaned.push_str(word);
            cleaned.push(' ');
        }
        rest = &rest[start + word_len..];
    }
    cleaned
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .filter(|w| w.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_'))
        // durations like 5m, 7d are digits first; numbers are digits: both filtered above
        .map(str::to_string)
        .collect()
}

/// Panics unless every metric `expr` reads is known; returns how many it reads.
fn check_expr(origin: &str, expr: &str, known: &BTreeSet<String>) -> usize {
    let metrics = metrics_in(expr);
    for metric in &metrics {
        assert!(
            known.contains(metric),
            "{origin}: {metric} is not a metric medallion pushes or exposes (in `{expr}`)"
        );
    }
    metrics.len()
}

#[test]
fn the_metric_name_parser_keeps_metrics_only() {
    let expr = "sum by (le, job) (rate(job_exec_time_seconds_bucket{job=~\"$job\"}[5m])) \
                + count without (mode) (medallion_run_duration_seconds) \
                / on (job) group_left (mode) medallion_run_success > bool 0 or vector(0)";
    assert_eq!(
        metrics_in(expr),
        BTreeSet::from([
            "job_exec_time_seconds_bucket".to_string(),
            "medallion_run_duration_seconds".to_string(),
            "medallion_run_success".to_string()
        ])
    );
}

#[test]
fn promtool_checks_the_rules_and_their_unit_tests_pass() {
    let checked = promtool(&["check", "rules", RULES]);
    assert!(checked.contains("SUCCESS"), "{checked}");
    let tested = promtool(&["test", "rules", RULE_TESTS]);
    assert!(tested.contains("SUCCESS"), "{tested}");
}

#[test]
fn the_prometheus_rule_holds_the_same_groups_as_the_rules_file() {
    let plain = yaml(RULES);
    let operator = yaml(PROMETHEUS_RULE);
    assert_eq!(
        operator.get("apiVersion").and_then(Value::as_str),
        Some("monitoring.coreos.com/v1")
    );
    assert_eq!(
        operator.get("kind").and_then(Value::as_str),
        Some("PrometheusRule")
    );
    let metadata = operator.get("metadata").expect("metadata");
    assert_eq!(
        metadata.get("namespace").and_then(Value::as_str),
        Some("medallion")
    );
    let groups = plain.get("groups").expect("groups in the rules file");
    let spec_groups = operator
        .get("spec")
        .and_then(|s| s.get("groups"))
        .expect("spec.groups in the PrometheusRule");
    assert_eq!(
        groups, spec_groups,
        "{PROMETHEUS_RULE} must hold the groups of {RULES}, unchanged"
    );
    // its kustomization lists it
    let kustomization = yaml(MONITORING_KUSTOMIZATION);
    let resources = kustomization
        .get("resources")
        .and_then(Value::as_sequence)
        .expect("resources");
    assert!(
        resources
            .iter()
            .any(|r| r.as_str() == Some("prometheusrule.yaml")),
        "{MONITORING_KUSTOMIZATION} must list prometheusrule.yaml"
    );
}

#[test]
fn the_rules_cover_the_seed_thresholds_over_known_metrics() {
    let known = known_metrics();
    let rules = yaml(RULES);
    let mut alerts = BTreeSet::new();
    for group in rules["groups"].as_sequence().expect("groups") {
        for rule in group["rules"].as_sequence().expect("rules") {
            let name = rule["alert"].as_str().expect("alert rules only");
            let expr = rule["expr"].as_str().expect("expr");
            assert!(check_expr(name, expr, &known) > 0, "{name} reads no metric");
            assert!(rule["labels"]["severity"].as_str().is_some(), "{name}");
            assert!(rule["annotations"]["summary"].as_str().is_some(), "{name}");
            alerts.insert((name.to_string(), expr.to_string()));
        }
    }
    let expr_of = |alert: &str| {
        alerts
            .iter()
            .find(|(name, _)| name == alert)
            .map(|(_, expr)| expr.clone())
            .unwrap_or_else(|| panic!("no alert {alert}"))
    };
    // seed 002: > 10 minutes, > 5 %, completeness < 90 %; seed 000: alert on failure; the
    // schedule + grace of scheduled jobs
    assert!(expr_of("MedallionRunTooLong").contains("> 600"));
    assert!(expr_of("MedallionFailureRatioHigh").contains("> 0.05"));
    assert!(expr_of("MedallionFailureRatioHigh").contains("[7d]"));
    assert!(expr_of("MedallionDataQualityLow").contains("< 90"));
    assert!(expr_of("MedallionRunFailed").contains("medallion_run_success == 0"));
    // issue 28: the data quality gate's stopped runs and warnings
    assert!(expr_of("MedallionQualityGateFailed").contains("status=\"fail\""));
    assert!(expr_of("MedallionQualityWarnings").contains("status=\"warn\""));
    assert!(
        expr_of("MedallionScheduledRunMissing").contains("medallion_schedule_interval_seconds")
    );
}

#[test]
fn the_dashboard_queries_only_metrics_medallion_exposes() {
    let known = known_metrics();
    let dashboard: Json = serde_json::from_str(&read(DASHBOARD)).expect("the dashboard is JSON");
    assert!(dashboard["title"].as_str().is_some());
    assert!(dashboard["uid"].as_str().is_some());
    let mut queried = BTreeSet::new();
    let mut targets = 0;
    let mut stack: Vec<&Json> = dashboard["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .collect();
    while let Some(panel) = stack.pop() {
        if let Some(inner) = panel["panels"].as_array() {
            stack.extend(inner);
        }
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().expect("a PromQL expr");
            let title = panel["title"].as_str().unwrap_or("?");
            assert!(check_expr(title, expr, &known) > 0, "{title}: no metric");
            queried.extend(metrics_in(expr));
            targets += 1;
        }
    }
    assert!(targets >= 10, "{targets} queries");
    // the job variable lists the jobs that pushed
    for variable in dashboard["templating"]["list"]
        .as_array()
        .expect("templating")
    {
        if let Some(definition) = variable["definition"].as_str() {
            let metric = definition
                .trim_start_matches("label_values(")
                .split(',')
                .next()
                .unwrap()
                .trim();
            assert!(known.contains(metric), "variable on {metric}");
        }
    }
    // it shows the runs, the scheduler and the executors
    for metric in [
        "medallion_run_success",
        "medallion_run_duration_seconds",
        "medallion_data_quality_score",
        "medallion_run_rows_written",
        "job_submitted_total",
        "medallion_executor_tasks_total",
        "medallion_executor_memory_reserved_bytes",
    ] {
        assert!(
            queried.contains(metric),
            "the dashboard does not show {metric}"
        );
    }
}
