//! k8s/scheduler-networkpolicy.yaml: only the executors and the CronJob pods of the namespace
//! reach the scheduler's Ballista port, and only namespaces labelled
//! `medallion.io/flight-sql-client=true` reach its Flight SQL (TLS) port. Checked against the
//! labels of the pods the other manifests of k8s/ actually create (a label renamed in a
//! Deployment and not here would silently cut the executors off).

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use serde::Deserialize;
use yaml_serde::Value;

const POLICY: &str = "k8s/scheduler-networkpolicy.yaml";
const BI_LABEL: (&str, &str) = ("medallion.io/flight-sql-client", "true");
const BALLISTA_PORT: u64 = 50050;
const FLIGHT_SQL_TLS_PORT: u64 = 32010;

type Labels = BTreeMap<String, String>;

fn repo(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(rel)
}

fn docs(rel: &str) -> Vec<Value> {
    let text = fs::read_to_string(repo(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    yaml_serde::Deserializer::from_str(&text)
        .map(|doc| Value::deserialize(doc).unwrap_or_else(|e| panic!("{rel}: invalid YAML: {e}")))
        .filter(|v| !v.is_null())
        .collect()
}

fn at<'a>(value: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(value, |v, key| &v[key])
}

fn labels(value: &Value) -> Labels {
    value
        .as_mapping()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let text = |x: &Value| x.as_str().map(str::to_string).expect("string label");
                    (text(k), text(v))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A label selector of `matchLabels` only (anything else would need a real matcher).
fn selector(value: &Value) -> Labels {
    assert!(
        value.get("matchExpressions").is_none(),
        "{POLICY}: matchExpressions are not checked here"
    );
    labels(&value["matchLabels"])
}

fn selects(selector: &Labels, labels: &Labels) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// The pod template labels of every Deployment and CronJob listed in k8s/kustomization.yaml, by
/// `kind/name`.
fn pods() -> BTreeMap<String, Labels> {
    let kustomization = &docs("k8s/kustomization.yaml")[0];
    let mut pods = BTreeMap::new();
    for file in kustomization["resources"].as_sequence().expect("resources") {
        let file = file.as_str().expect("resource file");
        for doc in docs(&format!("k8s/{file}")) {
            let template = match doc["kind"].as_str() {
                Some("Deployment") => at(&doc, "spec.template.metadata.labels"),
                Some("CronJob") => at(&doc, "spec.jobTemplate.spec.template.metadata.labels"),
                _ => continue,
            };
            let id = format!(
                "{}/{}",
                doc["kind"].as_str().unwrap_or_default(),
                at(&doc, "metadata.name").as_str().unwrap_or_default()
            );
            pods.insert(id, labels(template));
        }
    }
    pods
}

/// The policy's ingress rules as (pod selectors, namespace selectors, TCP ports).
fn rules(policy: &Value) -> Vec<(Vec<Labels>, Vec<Labels>, Vec<u64>)> {
    at(policy, "spec.ingress")
        .as_sequence()
        .expect("ingress rules")
        .iter()
        .map(|rule| {
            let mut pod_selectors = Vec::new();
            let mut namespace_selectors = Vec::new();
            for peer in rule["from"]
                .as_sequence()
                .expect("every rule names its peers")
            {
                assert!(peer.get("ipBlock").is_none(), "{POLICY}: no ipBlock peers");
                match (peer.get("podSelector"), peer.get("namespaceSelector")) {
                    (Some(pods), None) => pod_selectors.push(selector(pods)),
                    (None, Some(namespaces)) => namespace_selectors.push(selector(namespaces)),
                    other => panic!("{POLICY}: a peer is a pod or a namespace selector: {other:?}"),
                }
            }
            let ports = rule["ports"]
                .as_sequence()
                .expect("every rule names its ports")
                .iter()
                .map(|p| {
                    assert_eq!(p["protocol"].as_str(), Some("TCP"), "{POLICY}");
                    p["port"].as_u64().expect("numeric port")
                })
                .collect();
            (pod_selectors, namespace_selectors, ports)
        })
        .collect()
}

#[test]
fn only_executors_cronjobs_and_bi_namespaces_reach_the_scheduler() {
    let policies = docs(POLICY);
    assert_eq!(policies.len(), 1, "{POLICY}: one document");
    let policy = &policies[0];
    assert_eq!(policy["apiVersion"].as_str(), Some("networking.k8s.io/v1"));
    assert_eq!(policy["kind"].as_str(), Some("NetworkPolicy"));
    assert_eq!(at(policy, "metadata.namespace").as_str(), Some("medallion"));
    let types: Vec<&str> = at(policy, "spec.policyTypes")
        .as_sequence()
        .expect("policyTypes")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(types, ["Ingress"], "{POLICY}");

    let pods = pods();
    let kinds = |prefix: &str| pods.keys().filter(|k| k.starts_with(prefix)).count();
    assert!(kinds("CronJob/") >= 5, "the CronJobs were found: {pods:?}");
    assert_eq!(kinds("Deployment/"), 2, "scheduler and executor: {pods:?}");

    // The policy applies to the scheduler pods and to nothing else.
    let target = selector(at(policy, "spec.podSelector"));
    let selected: Vec<&String> = pods
        .iter()
        .filter(|(_, labels)| selects(&target, labels))
        .map(|(id, _)| id)
        .collect();
    assert_eq!(selected, ["Deployment/medallion-scheduler"], "{POLICY}");

    let rules = rules(policy);
    // Who reaches each port from inside the namespace (pod selectors), and which namespace
    // labels open it to other namespaces.
    let reaching = |port: u64| -> Vec<&String> {
        pods.iter()
            .filter(|(_, labels)| {
                rules.iter().any(|(selectors, _, ports)| {
                    ports.contains(&port) && selectors.iter().any(|s| selects(s, labels))
                })
            })
            .map(|(id, _)| id)
            .collect()
    };
    let ballista = reaching(BALLISTA_PORT);
    for (id, _) in pods.iter() {
        let expected = id.starts_with("CronJob/") || id == "Deployment/medallion-executor";
        assert_eq!(
            ballista.contains(&id),
            expected,
            "{id} reaching port {BALLISTA_PORT}"
        );
    }
    assert!(
        reaching(FLIGHT_SQL_TLS_PORT).is_empty(),
        "no pod of the namespace needs Flight SQL"
    );

    let bi_namespace: Labels = [(BI_LABEL.0.to_string(), BI_LABEL.1.to_string())].into();
    let other_namespace: Labels = [("kubernetes.io/metadata.name".into(), "default".into())].into();
    let opened_to = |namespace: &Labels| -> Vec<u64> {
        rules
            .iter()
            .filter(|(_, selectors, _)| selectors.iter().any(|s| selects(s, namespace)))
            .flat_map(|(_, _, ports)| ports.clone())
            .collect()
    };
    assert_eq!(opened_to(&bi_namespace), [FLIGHT_SQL_TLS_PORT], "{POLICY}");
    assert!(opened_to(&other_namespace).is_empty(), "{POLICY}");
    // An empty namespace selector would open the port to every namespace.
    assert!(
        rules
            .iter()
            .all(|(_, selectors, _)| selectors.iter().all(|s| !s.is_empty())),
        "{POLICY}"
    );
}

#[test]
fn the_flight_sql_tls_port_is_the_schedulers_default() {
    let lib = fs::read_to_string(repo("scheduler/src/tls.rs")).expect("scheduler/src/tls.rs");
    assert!(
        lib.contains(&format!(
            "DEFAULT_FLIGHT_SQL_TLS_PORT: u16 = {FLIGHT_SQL_TLS_PORT};"
        )),
        "the policy's Flight SQL port is medallion-scheduler's default"
    );
}
