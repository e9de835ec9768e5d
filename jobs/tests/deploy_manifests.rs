//! The deployment files — `Dockerfile`, `.dockerignore`, `docker-compose.yml`, `k8s/*.yaml`,
//! `deploy/keda/` and `config/*.yaml` — parse, agree with each other, and call the binaries with
//! subcommands and flags those binaries accept.
//!
//! Nothing here needs Docker or a cluster: the files are parsed and cross-checked, and the command
//! lines are checked against the `--help` of the real binaries (`medallion` is built for this test;
//! `medallion-scheduler` and `medallion-executor` are looked up next to it, so build them first:
//! `cargo build -p medallion-scheduler -p medallion-executor`). `kubectl kustomize` is run on the
//! kustomizations when kubectl is installed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use serde::Deserialize;
use yaml_serde::Value;

// ---------------------------------------------------------------------------------------------
// The contract these files are written against.

/// The job plans that are scheduled, each a CronJob and an entry of config/batch_schedules.yaml.
const SCHEDULED_JOBS: [&str; 11] = [
    "accidents-datamart",
    "daily-aggregations",
    "weekly-reports",
    "monthly-analytics",
    "research-export",
    "archive",
    "optimize",
    "patient-profiles",
    "historical-trends",
    "dashboard-cache",
    "quality-audit",
];
/// The seed's triggers (seed 000): daily 02:00, weekly Sunday 01:00, monthly 1st 00:00.
const SEED_SCHEDULES: [(&str, &str); 3] = [
    ("daily-aggregations", "0 2 * * *"),
    ("weekly-reports", "0 1 * * 0"),
    ("monthly-analytics", "0 0 1 * *"),
];
const NAMESPACE: &str = "medallion";
const IMAGE_NAME: &str = "medallion";
const BINARIES: [&str; 3] = ["medallion", "medallion-scheduler", "medallion-executor"];
/// The uid of the image's user (Dockerfile `USER`).
const UID: u64 = 10001;
/// Ballista 55 defaults of the flags that choose ports.
const SCHEDULER_PORT: u16 = 50050;
const EXECUTOR_FLIGHT_PORT: u16 = 50051;
const EXECUTOR_GRPC_PORT: u16 = 50052;
const EXECUTOR_HEALTH_PORT: u16 = 50053;

// ---------------------------------------------------------------------------------------------
// Files.

/// The repository root (`MEDALLION_DEPLOY_ROOT` points the tests at another checkout, e.g. a copy
/// with a deliberately broken manifest).
fn root() -> PathBuf {
    if let Some(dir) = std::env::var_os("MEDALLION_DEPLOY_ROOT") {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("jobs/ has a parent")
        .to_path_buf()
}

fn read(rel: &str) -> String {
    let path = root().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Every YAML document of `text` (empty documents left out).
fn parse_docs(origin: &str, text: &str) -> Vec<Value> {
    yaml_serde::Deserializer::from_str(text)
        .map(|doc| {
            Value::deserialize(doc).unwrap_or_else(|e| panic!("{origin}: invalid YAML: {e}"))
        })
        .filter(|v| !v.is_null())
        .collect()
}

fn parse_file(rel: &str) -> Vec<Value> {
    parse_docs(rel, &read(rel))
}

fn parse_one(rel: &str) -> Value {
    let mut docs = parse_file(rel);
    assert_eq!(docs.len(), 1, "{rel}: expected one YAML document");
    docs.remove(0)
}

/// The YAML files of `k8s/`, sorted, without the kustomization.
fn k8s_manifest_files() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(root().join("k8s"))
        .expect("k8s/ exists")
        .map(|e| e.expect("readable k8s/ entry").path())
        .filter(|p| p.is_file())
        .filter_map(|p| p.file_name().and_then(|n| n.to_str()).map(str::to_string))
        .filter(|n| n.ends_with(".yaml") || n.ends_with(".yml"))
        .filter(|n| n != "kustomization.yaml" && n != "kustomization.yml")
        .collect();
    files.sort();
    files
}

struct Manifest {
    file: String,
    doc: Value,
}

impl Manifest {
    fn kind(&self) -> &str {
        s(&self.doc, "kind").unwrap_or("")
    }
    fn name(&self) -> &str {
        s(&self.doc, "metadata.name").unwrap_or("")
    }
    fn id(&self) -> String {
        format!("{} {}/{}", self.file, self.kind(), self.name())
    }
}

fn k8s_manifests() -> Vec<Manifest> {
    let mut out = Vec::new();
    for file in k8s_manifest_files() {
        for doc in parse_file(&format!("k8s/{file}")) {
            out.push(Manifest {
                file: format!("k8s/{file}"),
                doc,
            });
        }
    }
    out
}

fn find<'a>(manifests: &'a [Manifest], kind: &str, name: &str) -> Option<&'a Manifest> {
    manifests
        .iter()
        .find(|m| m.kind() == kind && m.name() == name)
}

fn of_kind<'a>(manifests: &'a [Manifest], kind: &str) -> Vec<&'a Manifest> {
    manifests.iter().filter(|m| m.kind() == kind).collect()
}

// ---------------------------------------------------------------------------------------------
// Value helpers.

/// The value at a dot-separated path of mapping keys.
fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |v, key| v.get(key))
}

fn s<'a>(v: &'a Value, path: &str) -> Option<&'a str> {
    at(v, path).and_then(Value::as_str)
}

fn u(v: &Value, path: &str) -> Option<u64> {
    at(v, path).and_then(Value::as_u64)
}

fn seq<'a>(v: &'a Value, path: &str) -> Vec<&'a Value> {
    at(v, path)
        .and_then(Value::as_sequence)
        .map(|items| items.iter().collect())
        .unwrap_or_default()
}

/// A scalar as text: strings as they are, numbers and booleans printed.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(text) => Some(text.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_mapping)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((scalar(k)?, scalar(v)?)))
                .collect()
        })
        .unwrap_or_default()
}

fn keys(v: Option<&Value>) -> BTreeSet<String> {
    v.and_then(Value::as_mapping)
        .map(|m| m.keys().filter_map(scalar).collect())
        .unwrap_or_default()
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_sequence)
        .map(|items| items.iter().filter_map(scalar).collect())
        .unwrap_or_default()
}

/// Collects failures so that one test run reports all of them.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn check(&mut self, ok: bool, message: impl FnOnce() -> String) {
        if !ok {
            self.0.push(message());
        }
    }
    fn push(&mut self, message: String) {
        self.0.push(message);
    }
    fn assert_none(self, what: &str) {
        assert!(
            self.0.is_empty(),
            "{what}: {} problem(s):\n  - {}",
            self.0.len(),
            self.0.join("\n  - ")
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Kubernetes object helpers.

/// The pod spec of a workload (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod).
fn pod_spec(doc: &Value) -> Option<&Value> {
    match s(doc, "kind")? {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
            at(doc, "spec.template.spec")
        }
        "CronJob" => at(doc, "spec.jobTemplate.spec.template.spec"),
        "Pod" => at(doc, "spec"),
        _ => None,
    }
}

fn pod_template_labels(doc: &Value) -> BTreeMap<String, String> {
    match s(doc, "kind") {
        Some("CronJob") => string_map(at(doc, "spec.jobTemplate.spec.template.metadata.labels")),
        Some("Pod") => string_map(at(doc, "metadata.labels")),
        _ => string_map(at(doc, "spec.template.metadata.labels")),
    }
}

fn containers(pod: &Value) -> Vec<&Value> {
    let mut all = seq(pod, "initContainers");
    all.extend(seq(pod, "containers"));
    all
}

fn selects(selector: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> bool {
    !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// Workloads whose pod template `selector` matches.
fn selected_workloads<'a>(
    manifests: &'a [Manifest],
    selector: &BTreeMap<String, String>,
) -> Vec<&'a Manifest> {
    manifests
        .iter()
        .filter(|m| pod_spec(&m.doc).is_some() && m.kind() != "CronJob")
        .filter(|m| selects(selector, &pod_template_labels(&m.doc)))
        .collect()
}

/// The container port a probe or Service target refers to: a number, or a port name.
fn resolve_port(port: &Value, container: &Value) -> Option<u16> {
    if let Some(n) = port.as_u64() {
        return u16::try_from(n).ok();
    }
    let name = port.as_str()?;
    if let Ok(n) = name.parse::<u16>() {
        return Some(n);
    }
    seq(container, "ports")
        .into_iter()
        .find(|p| s(p, "name") == Some(name))
        .and_then(|p| u(p, "containerPort"))
        .and_then(|n| u16::try_from(n).ok())
}

fn container_ports(container: &Value) -> BTreeSet<u16> {
    seq(container, "ports")
        .into_iter()
        .filter_map(|p| u(p, "containerPort"))
        .filter_map(|n| u16::try_from(n).ok())
        .collect()
}

/// A container's argument vector: `command` followed by `args`.
fn container_argv(container: &Value) -> Vec<String> {
    let mut argv = strings(container.get("command"));
    argv.extend(strings(container.get("args")));
    argv
}

// ---------------------------------------------------------------------------------------------
// Command lines.

/// One call of one of our binaries, found in a manifest.
#[derive(Debug, Clone)]
struct Invocation {
    origin: String,
    argv: Vec<String>,
}

impl Invocation {
    fn binary(&self) -> &str {
        self.argv[0].rsplit('/').next().unwrap_or(&self.argv[0])
    }
    /// The value following `--flag` (or given as `--flag=value`), the last one when repeated.
    fn flag(&self, flag: &str) -> Option<String> {
        let mut found = None;
        let mut iter = self.argv.iter();
        while let Some(arg) = iter.next() {
            if arg == flag {
                found = iter.next().cloned();
            } else if let Some(value) = arg.strip_prefix(&format!("{flag}=")) {
                found = Some(value.to_string());
            }
        }
        found
    }
    fn flags(&self) -> Vec<String> {
        self.argv
            .iter()
            .filter(|a| a.starts_with("--") && a.len() > 2)
            .map(|a| a.split('=').next().unwrap_or(a).to_string())
            .collect()
    }
    /// The words between the binary and the first flag: subcommands and positional arguments.
    fn words(&self) -> Vec<String> {
        self.argv[1..]
            .iter()
            .take_while(|a| !a.starts_with('-'))
            .cloned()
            .collect()
    }
    fn port_flag(&self, flag: &str, default: u16) -> Result<u16, String> {
        match self.flag(flag) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("{}: {flag} '{v}' is not a port number", self.origin)),
        }
    }
}

/// Splits a POSIX shell script into words and the operators `;`, `&&`, `||`, `|` (quotes and
/// backslashes understood; expansions are kept as text).
fn shell_words(script: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = script.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    word.push(c);
                }
            }
            '"' => {
                in_word = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => {
                            if let Some(&next) = chars.peek() {
                                if matches!(next, '"' | '\\' | '$' | '`') {
                                    word.push(next);
                                    chars.next();
                                } else {
                                    word.push('\\');
                                }
                            }
                        }
                        c => word.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(next) = chars.next()
                    && next != '\n'
                {
                    word.push(next);
                }
            }
            ';' | '&' | '|' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
                let mut op = c.to_string();
                if (c == '&' || c == '|') && chars.peek() == Some(&c) {
                    op.push(c);
                    chars.next();
                }
                words.push(op);
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

fn is_shell(program: &str) -> bool {
    matches!(
        program.rsplit('/').next(),
        Some("sh" | "bash" | "dash" | "ash")
    )
}

/// The calls of our binaries in an argument vector: directly, behind tini, or inside `sh -c`.
fn invocations(origin: &str, argv: &[String]) -> Vec<Invocation> {
    let mut argv: Vec<String> = argv.to_vec();
    if argv
        .first()
        .is_some_and(|a| a.rsplit('/').next() == Some("tini"))
    {
        argv.remove(0);
        if argv.first().is_some_and(|a| a == "--") {
            argv.remove(0);
        }
    }
    let Some(program) = argv.first() else {
        return Vec::new();
    };
    if is_shell(program) {
        let Some(pos) = argv
            .iter()
            .position(|a| a == "-c" || a == "-ec" || a == "-ceu")
        else {
            return Vec::new();
        };
        let Some(script) = argv.get(pos + 1) else {
            return Vec::new();
        };
        let mut found = Vec::new();
        for segment in
            shell_words(script).split(|w| matches!(w.as_str(), ";" | "&&" | "||" | "|" | "&"))
        {
            let mut segment: Vec<String> = segment.to_vec();
            while segment
                .first()
                .is_some_and(|w| matches!(w.as_str(), "exec" | "then" | "else" | "do"))
            {
                segment.remove(0);
            }
            if segment
                .first()
                .is_some_and(|w| BINARIES.contains(&w.rsplit('/').next().unwrap_or(w)))
            {
                found.push(Invocation {
                    origin: format!("{origin} (sh -c)"),
                    argv: segment,
                });
            }
        }
        return found;
    }
    if BINARIES.contains(&program.rsplit('/').next().unwrap_or(program)) {
        return vec![Invocation {
            origin: origin.to_string(),
            argv,
        }];
    }
    Vec::new()
}

/// Every call of our binaries in the k8s manifests, with the manifest and container it is in.
fn k8s_invocations(manifests: &[Manifest]) -> Vec<(Invocation, String, String)> {
    let mut out = Vec::new();
    for m in manifests {
        let Some(pod) = pod_spec(&m.doc) else {
            continue;
        };
        for c in containers(pod) {
            let cname = s(c, "name").unwrap_or("?").to_string();
            let origin = format!("{} container {cname}", m.id());
            for inv in invocations(&origin, &container_argv(c)) {
                out.push((inv, m.name().to_string(), cname.clone()));
            }
        }
    }
    out
}

/// The path of one of our binaries: `medallion` is built for this test, the others are expected
/// next to it.
fn binary_path(name: &str) -> Result<PathBuf, String> {
    let medallion = PathBuf::from(env!("CARGO_BIN_EXE_medallion"));
    if name == "medallion" {
        return Ok(medallion);
    }
    let path = medallion.with_file_name(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "{} not found next to the medallion binary: build it first with \
             `cargo build -p medallion-scheduler -p medallion-executor` (same profile and \
             CARGO_TARGET_DIR as this test)",
            path.display()
        ))
    }
}

type HelpCache = Mutex<HashMap<(String, Vec<String>), Result<String, String>>>;

/// `<binary> <words...> --help`: its output when it exits 0, else why not.
fn help(binary: &str, words: &[String]) -> Result<String, String> {
    static CACHE: OnceLock<HelpCache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = (binary.to_string(), words.to_vec());
    if let Some(hit) = cache.lock().expect("help cache").get(&key) {
        return hit.clone();
    }
    let result = binary_path(binary).and_then(|path| {
        let output = Command::new(&path)
            .args(words)
            .arg("--help")
            .env_remove("RUST_LOG")
            .output()
            .map_err(|e| format!("cannot run {}: {e}", path.display()))?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        if output.status.success() {
            Ok(text)
        } else {
            let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            Err(format!(
                "`{binary} {} --help` exited with {} ({first})",
                words.join(" "),
                output.status
            ))
        }
    });
    cache
        .lock()
        .expect("help cache")
        .insert(key, result.clone());
    result
}

/// Whether the help text documents `--flag` (as a whole word).
fn documents_flag(help: &str, flag: &str) -> bool {
    help.match_indices(flag).any(|(i, _)| {
        let before_ok = i == 0 || !help[..i].ends_with(|c: char| c.is_alphanumeric() || c == '-');
        let after = &help[i + flag.len()..];
        let after_ok = !after.starts_with(|c: char| c.is_alphanumeric() || c == '-' || c == '_');
        before_ok && after_ok
    })
}

/// Checks one call against the binary's `--help`: the subcommand exists and takes every flag.
fn check_invocation(inv: &Invocation, problems: &mut Problems) {
    let binary = inv.binary().to_string();
    // `medallion`: the words before the first flag are subcommands and positional arguments;
    // clap prints the innermost subcommand's help for `medallion generate accidents --help` and
    // for `medallion submit JOB --help` alike. The server binaries have no subcommands.
    let words = if binary == "medallion" {
        inv.words()
    } else {
        Vec::new()
    };
    if binary != "medallion" && !inv.words().is_empty() {
        problems.push(format!(
            "{}: {binary} takes no positional arguments, got {:?}",
            inv.origin,
            inv.words()
        ));
    }
    match help(&binary, &words) {
        Err(e) => problems.push(format!("{}: {e}", inv.origin)),
        Ok(text) => {
            for flag in inv.flags() {
                problems.check(documents_flag(&text, &flag), || {
                    format!(
                        "{}: `{binary} {}` has no flag {flag} (not in its --help)",
                        inv.origin,
                        words.join(" ")
                    )
                });
            }
        }
    }
}

/// The job names `medallion jobs` lists.
fn listed_jobs() -> Result<BTreeSet<String>, String> {
    let path = binary_path("medallion")?;
    let output = Command::new(&path)
        .arg("jobs")
        .env_remove("RUST_LOG")
        .output()
        .map_err(|e| format!("cannot run medallion jobs: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`medallion jobs` exited with {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| !l.starts_with(char::is_whitespace))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect())
}

// ---------------------------------------------------------------------------------------------
// docker-compose.yml: variable interpolation as compose does it (with every variable unset, so
// the defaults written in the file are what is checked).

fn interpolate(text: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(tail) = after.strip_prefix('{') {
            let mut depth = 1;
            let mut end = None;
            for (j, c) in tail.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            end = Some(j);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let end = end.ok_or_else(|| format!("unclosed '${{' in {text:?}"))?;
            let expr = &tail[..end];
            let name_end = expr
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(expr.len());
            let (name, op) = expr.split_at(name_end);
            if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
                return Err(format!("invalid interpolation '${{{expr}}}' in {text:?}"));
            }
            if op.is_empty() {
                // unset -> empty
            } else if let Some(default) = op.strip_prefix(":-").or_else(|| op.strip_prefix('-')) {
                out.push_str(&interpolate(default)?);
            } else if op.starts_with(":?") || op.starts_with('?') {
                return Err(format!(
                    "{text:?} requires the variable {name} (no default)"
                ));
            } else if op.starts_with(":+") || op.starts_with('+') {
                // unset -> empty
            } else {
                return Err(format!("invalid interpolation '${{{expr}}}' in {text:?}"));
            }
            rest = &tail[end + 1..];
        } else if after.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            rest = &after[end..];
        } else {
            return Err(format!(
                "invalid interpolation format in {text:?}: write $$ for a literal $"
            ));
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn interpolate_value(v: &Value, problems: &mut Problems) -> Value {
    match v {
        Value::String(text) => match interpolate(text) {
            Ok(t) => Value::String(t),
            Err(e) => {
                problems.push(format!("docker-compose.yml: {e}"));
                v.clone()
            }
        },
        Value::Sequence(items) => Value::Sequence(
            items
                .iter()
                .map(|i| interpolate_value(i, problems))
                .collect(),
        ),
        Value::Mapping(map) => Value::Mapping(
            map.iter()
                .map(|(k, v)| (k.clone(), interpolate_value(v, problems)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// docker-compose.yml, interpolated; panics on interpolation errors.
fn compose() -> Value {
    let raw = parse_one("docker-compose.yml");
    let mut problems = Problems::default();
    let doc = interpolate_value(&raw, &mut problems);
    problems.assert_none("docker-compose.yml interpolation");
    doc
}

fn compose_services(doc: &Value) -> BTreeMap<String, Value> {
    doc.get("services")
        .and_then(Value::as_mapping)
        .expect("docker-compose.yml has services")
        .iter()
        .map(|(k, v)| (scalar(k).expect("service name"), v.clone()))
        .collect()
}

/// A compose `command`/`entrypoint`: a list, or a string split like a shell would.
fn compose_words(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(text)) => shell_words(text),
        Some(v) => strings(Some(v)),
        None => Vec::new(),
    }
}

fn is_medallion_image(service: &Value) -> bool {
    s(service, "image").is_some_and(|i| i.split(':').next() == Some(IMAGE_NAME))
}

fn compose_invocations(services: &BTreeMap<String, Value>) -> Vec<(String, Invocation)> {
    let mut out = Vec::new();
    for (name, svc) in services {
        let mut argv = compose_words(svc.get("entrypoint"));
        argv.extend(compose_words(svc.get("command")));
        for inv in invocations(&format!("docker-compose.yml service {name}"), &argv) {
            out.push((name.clone(), inv));
        }
    }
    out
}

/// (source, target) of a service's volumes; source is None for anonymous volumes.
fn compose_volumes(svc: &Value) -> Vec<(Option<String>, String)> {
    seq(svc, "volumes")
        .into_iter()
        .filter_map(|v| match v {
            Value::String(text) => {
                let parts: Vec<&str> = text.split(':').collect();
                match parts.as_slice() {
                    [target] => Some((None, (*target).to_string())),
                    [source, target, ..] => {
                        Some((Some((*source).to_string()), (*target).to_string()))
                    }
                    [] => None,
                }
            }
            other => Some((
                s(other, "source").map(str::to_string),
                s(other, "target")?.to_string(),
            )),
        })
        .collect()
}

fn is_named_volume(source: &str) -> bool {
    !(source.starts_with('/') || source.starts_with('.') || source.starts_with('~'))
}

/// depends_on as (service, condition), list or map syntax.
fn compose_depends_on(svc: &Value) -> Vec<(String, String)> {
    match svc.get("depends_on") {
        Some(Value::Sequence(items)) => items
            .iter()
            .filter_map(scalar)
            .map(|n| (n, "service_started".to_string()))
            .collect(),
        Some(Value::Mapping(map)) => map
            .iter()
            .filter_map(|(k, v)| {
                Some((
                    scalar(k)?,
                    s(v, "condition").unwrap_or("service_started").to_string(),
                ))
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The port of the first http://127.0.0.1:PORT/PATH (or localhost) in a healthcheck's test.
fn healthcheck_url(svc: &Value) -> Option<(u16, String)> {
    let test = match at(svc, "healthcheck.test")? {
        Value::String(t) => t.clone(),
        v => strings(Some(v)).join(" "),
    };
    for host in ["http://127.0.0.1:", "http://localhost:"] {
        if let Some(i) = test.find(host) {
            let rest = &test[i + host.len()..];
            let port_end = rest.find(|c: char| !c.is_ascii_digit())?;
            let port = rest[..port_end].parse().ok()?;
            let path: String = rest[port_end..]
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '"' && *c != '\'')
                .collect();
            return Some((port, path));
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// Small parsers.

/// Kubernetes quantity in milli-units (cpu) or bytes (memory); compose memory sizes too.
fn quantity(text: &str) -> Option<f64> {
    let text = text.trim();
    let units: [(&str, f64); 14] = [
        ("Ki", 1024.0),
        ("Mi", 1024.0 * 1024.0),
        ("Gi", 1024.0 * 1024.0 * 1024.0),
        ("Ti", 1024.0 * 1024.0 * 1024.0 * 1024.0),
        ("k", 1e3),
        ("K", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("m", 1e-3),
        ("kb", 1024.0),
        ("mb", 1024.0 * 1024.0),
        ("gb", 1024.0 * 1024.0 * 1024.0),
        ("g", 1024.0 * 1024.0 * 1024.0),
    ];
    for (suffix, factor) in units {
        if let Some(n) = text.strip_suffix(suffix) {
            return n.parse::<f64>().ok().map(|n| n * factor);
        }
    }
    text.parse().ok()
}

/// A five-field cron expression with valid ranges.
fn valid_cron(expr: &str) -> Result<(), String> {
    let fields: Vec<&str> = expr.split_whitespace().collect();
    let ranges = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)];
    if fields.len() != 5 {
        return Err(format!("'{expr}' has {} fields, not 5", fields.len()));
    }
    for (field, (lo, hi)) in fields.iter().zip(ranges) {
        for part in field.split(',') {
            let (range, step) = match part.split_once('/') {
                Some((r, step)) => (r, Some(step)),
                None => (part, None),
            };
            if let Some(step) = step
                && step.parse::<u32>().map_or(true, |n| n == 0)
            {
                return Err(format!("'{expr}': bad step in '{part}'"));
            }
            if range == "*" {
                continue;
            }
            let bounds: Vec<&str> = range.split('-').collect();
            if bounds.is_empty() || bounds.len() > 2 {
                return Err(format!("'{expr}': bad range '{part}'"));
            }
            for b in &bounds {
                match b.parse::<u32>() {
                    Ok(n) if (lo..=hi).contains(&n) => {}
                    _ => return Err(format!("'{expr}': '{b}' is outside {lo}..{hi}")),
                }
            }
        }
    }
    Ok(())
}

/// `[workspace.package] key = "value"` of the root Cargo.toml.
fn workspace_package(key: &str) -> String {
    let text = read("Cargo.toml");
    let mut in_section = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_section = line == "[workspace.package]";
        } else if in_section
            && let Some((k, v)) = line.split_once('=')
            && k.trim() == key
        {
            return v.trim().trim_matches('"').to_string();
        }
    }
    panic!("Cargo.toml: no [workspace.package] {key}")
}

fn version_tuple(v: &str) -> Vec<u64> {
    v.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

fn batch_schedules() -> Value {
    parse_one("config/batch_schedules.yaml")
}

fn resource_limits() -> Value {
    parse_one("config/resource_limits.yaml")
}

fn retention_policies() -> Value {
    parse_one("config/retention_policies.yaml")
}

/// `resources` of a container as {"requests.cpu": "2", ...}.
fn resources_of(v: Option<&Value>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for part in ["requests", "limits"] {
        for (k, val) in string_map(v.and_then(|v| v.get(part))) {
            out.insert(format!("{part}.{k}"), val);
        }
    }
    out
}

fn check_requests_within_limits(origin: &str, res: &BTreeMap<String, String>, p: &mut Problems) {
    for r in ["cpu", "memory"] {
        let req = res.get(&format!("requests.{r}")).and_then(|q| quantity(q));
        let lim = res.get(&format!("limits.{r}")).and_then(|q| quantity(q));
        match (req, lim) {
            (Some(req), Some(lim)) => {
                p.check(req <= lim, || {
                    format!("{origin}: {r} request above its limit")
                });
            }
            _ => p.push(format!("{origin}: {r} request and limit must both be set")),
        }
    }
}

fn the_workload<'a>(manifests: &'a [Manifest], binary: &str) -> (&'a Manifest, &'a Value) {
    for m in manifests {
        if m.kind() == "CronJob" {
            continue;
        }
        let Some(pod) = pod_spec(&m.doc) else {
            continue;
        };
        for c in containers(pod) {
            if invocations("", &container_argv(c))
                .iter()
                .any(|i| i.binary() == binary)
            {
                return (m, c);
            }
        }
    }
    panic!("no k8s workload runs {binary}")
}

fn k8s_invocation_of(manifests: &[Manifest], binary: &str) -> Invocation {
    let (m, c) = the_workload(manifests, binary);
    invocations(&m.id(), &container_argv(c))
        .into_iter()
        .find(|i| i.binary() == binary)
        .expect("invocation found above")
}

// =============================================================================================
// Tests: Kubernetes.

#[test]
fn k8s_objects_have_api_version_kind_name_and_namespace() {
    let manifests = k8s_manifests();
    let mut p = Problems::default();
    assert!(!manifests.is_empty(), "k8s/ has no manifests");
    let mut seen = BTreeSet::new();
    for m in &manifests {
        let api = s(&m.doc, "apiVersion").unwrap_or("");
        p.check(!api.is_empty(), || format!("{}: no apiVersion", m.id()));
        p.check(!m.kind().is_empty(), || format!("{}: no kind", m.file));
        let name = m.name();
        let dns_label = !name.is_empty()
            && name.len() <= 63
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
            && !name.starts_with('-')
            && !name.ends_with('-');
        p.check(dns_label, || {
            format!("{}: metadata.name '{name}' is not a DNS-1123 name", m.file)
        });
        // A CronJob's Jobs get an 11-character suffix; longer names are rejected.
        if m.kind() == "CronJob" {
            p.check(name.len() <= 52, || {
                format!("{}: CronJob name longer than 52 characters", m.id())
            });
        }
        if m.kind() == "Namespace" {
            p.check(name == NAMESPACE, || {
                format!("{}: the namespace is {NAMESPACE}", m.id())
            });
        } else {
            p.check(s(&m.doc, "metadata.namespace") == Some(NAMESPACE), || {
                format!("{}: metadata.namespace must be {NAMESPACE}", m.id())
            });
        }
        p.check(
            seen.insert((api.to_string(), m.kind().to_string(), name.to_string())),
            || format!("{}: defined twice", m.id()),
        );
        let expected_api = match m.kind() {
            "Deployment" | "StatefulSet" | "DaemonSet" => Some("apps/v1"),
            "CronJob" | "Job" => Some("batch/v1"),
            "HorizontalPodAutoscaler" => Some("autoscaling/v2"),
            "PodDisruptionBudget" => Some("policy/v1"),
            "Service" | "ConfigMap" | "Secret" | "Namespace" | "ServiceAccount" => Some("v1"),
            _ => None,
        };
        if let Some(expected) = expected_api {
            p.check(api == expected, || {
                format!("{}: apiVersion {api}, expected {expected}", m.id())
            });
        }
    }
    p.check(find(&manifests, "Namespace", NAMESPACE).is_some(), || {
        format!("no Namespace {NAMESPACE} in k8s/")
    });
    let kustomization = parse_one("k8s/kustomization.yaml");
    p.check(s(&kustomization, "namespace") == Some(NAMESPACE), || {
        format!("k8s/kustomization.yaml: namespace must be {NAMESPACE}")
    });
    p.assert_none("k8s objects");
}

#[test]
fn kustomization_lists_every_manifest() {
    let kustomization = parse_one("k8s/kustomization.yaml");
    let mut p = Problems::default();
    p.check(
        s(&kustomization, "apiVersion") == Some("kustomize.config.k8s.io/v1beta1")
            && s(&kustomization, "kind") == Some("Kustomization"),
        || "k8s/kustomization.yaml: not a kustomize.config.k8s.io/v1beta1 Kustomization".into(),
    );
    let listed = strings(kustomization.get("resources"));
    let listed_set: BTreeSet<String> = listed.iter().cloned().collect();
    p.check(listed.len() == listed_set.len(), || {
        "k8s/kustomization.yaml: a resource is listed twice".into()
    });
    let files: BTreeSet<String> = k8s_manifest_files().into_iter().collect();
    for missing in files.difference(&listed_set) {
        p.push(format!(
            "k8s/{missing} is not listed in k8s/kustomization.yaml resources"
        ));
    }
    for extra in listed_set.difference(&files) {
        p.push(format!(
            "k8s/kustomization.yaml lists {extra}, which is not a file of k8s/"
        ));
    }

    // The KEDA overlay: its resources exist and it deletes the base's HPA.
    let overlay = parse_one("deploy/keda/kustomization.yaml");
    for r in strings(overlay.get("resources")) {
        p.check(root().join("deploy/keda").join(&r).exists(), || {
            format!("deploy/keda/kustomization.yaml lists {r}, which does not exist")
        });
    }
    let manifests = k8s_manifests();
    for hpa in of_kind(&manifests, "HorizontalPodAutoscaler") {
        let deleted = seq(&overlay, "patches").into_iter().any(|patch| {
            s(patch, "patch").is_some_and(|text| {
                parse_docs("deploy/keda patch", text).iter().any(|d| {
                    s(d, "$patch") == Some("delete")
                        && s(d, "kind") == Some("HorizontalPodAutoscaler")
                        && s(d, "metadata.name") == Some(hpa.name())
                })
            })
        });
        p.check(deleted, || {
            format!(
                "deploy/keda/kustomization.yaml must delete HPA {} (KEDA creates its own)",
                hpa.name()
            )
        });
    }
    p.assert_none("kustomization");

    // kubectl's own kustomize, when kubectl is installed: the kustomizations build.
    for dir in ["k8s", "deploy/keda"] {
        match Command::new("kubectl")
            .args(["kustomize", dir])
            .current_dir(root())
            .output()
        {
            Ok(out) => assert!(
                out.status.success(),
                "kubectl kustomize {dir} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(_) => eprintln!("kubectl not installed: `kubectl kustomize {dir}` skipped"),
        }
    }
}

#[test]
fn images_are_medallion_with_one_tag() {
    let manifests = k8s_manifests();
    let version = workspace_package("version");
    let mut p = Problems::default();
    let mut tags = BTreeSet::new();
    for m in &manifests {
        let Some(pod) = pod_spec(&m.doc) else {
            continue;
        };
        for c in containers(pod) {
            let image = s(c, "image").unwrap_or("");
            match image.split_once(':') {
                Some((IMAGE_NAME, tag)) if !tag.is_empty() && tag != "latest" => {
                    tags.insert(tag.to_string());
                }
                _ => p.push(format!(
                    "{}: image '{image}' is not {IMAGE_NAME}:<version tag>",
                    m.id()
                )),
            }
        }
    }
    let kustomization = parse_one("k8s/kustomization.yaml");
    let entry = seq(&kustomization, "images")
        .into_iter()
        .find(|i| s(i, "name") == Some(IMAGE_NAME));
    match entry.and_then(|e| e.get("newTag")).and_then(scalar) {
        Some(tag) => {
            tags.insert(tag);
        }
        None => p.push(format!(
            "k8s/kustomization.yaml: no images entry for {IMAGE_NAME} with a newTag"
        )),
    }
    for (name, svc) in compose_services(&compose()) {
        let image = s(&svc, "image").unwrap_or("");
        if svc.get("build").is_some() || is_medallion_image(&svc) {
            match image.split_once(':') {
                Some((IMAGE_NAME, tag)) => {
                    tags.insert(tag.to_string());
                }
                _ => p.push(format!(
                    "docker-compose.yml service {name}: builds the Dockerfile but its image is \
                     '{image}', not {IMAGE_NAME}:<tag>"
                )),
            }
        }
    }
    p.check(tags.len() == 1, || {
        format!("the medallion image has several tags: {tags:?}")
    });
    p.check(tags.iter().all(|t| *t == version), || {
        format!("image tag(s) {tags:?} differ from the workspace version {version}")
    });
    p.assert_none("images");
}

#[test]
fn workloads_are_wired_ports_probes_and_selectors() {
    let manifests = k8s_manifests();
    let mut p = Problems::default();

    // Selectors match their pods.
    for m in &manifests {
        if matches!(m.kind(), "Deployment" | "StatefulSet" | "DaemonSet") {
            let selector = string_map(at(&m.doc, "spec.selector.matchLabels"));
            p.check(selects(&selector, &pod_template_labels(&m.doc)), || {
                format!(
                    "{}: spec.selector does not match the pod template labels",
                    m.id()
                )
            });
        }
        if m.kind() == "PodDisruptionBudget" {
            let selector = string_map(at(&m.doc, "spec.selector.matchLabels"));
            p.check(
                !selected_workloads(&manifests, &selector).is_empty(),
                || format!("{}: selects no pods", m.id()),
            );
        }
        if m.kind() == "HorizontalPodAutoscaler" {
            let target_kind = s(&m.doc, "spec.scaleTargetRef.kind").unwrap_or("");
            let target = s(&m.doc, "spec.scaleTargetRef.name").unwrap_or("");
            p.check(find(&manifests, target_kind, target).is_some(), || {
                format!(
                    "{}: scale target {target_kind}/{target} does not exist",
                    m.id()
                )
            });
        }
    }

    // Every Service routes to a container port of the pods it selects.
    for svc in of_kind(&manifests, "Service") {
        let selector = string_map(at(&svc.doc, "spec.selector"));
        let pods = selected_workloads(&manifests, &selector);
        p.check(!pods.is_empty(), || {
            format!("{}: selects no pods", svc.id())
        });
        for port in seq(&svc.doc, "spec.ports") {
            let target = port.get("targetPort").or_else(|| port.get("port"));
            let Some(target) = target else {
                p.push(format!("{}: a port without port", svc.id()));
                continue;
            };
            for w in &pods {
                let pod = pod_spec(&w.doc).expect("selected workloads have pods");
                let ok = containers(pod).iter().any(|c| {
                    resolve_port(target, c).is_some_and(|n| container_ports(c).contains(&n))
                });
                p.check(ok, || {
                    format!(
                        "{}: targetPort {target:?} is no container port of {}",
                        svc.id(),
                        w.id()
                    )
                });
            }
        }
    }

    // The scheduler: container port = --bind-port (default 50050), probes on it, and a Service
    // exposing it under the name the executors and clients use.
    let (sched_w, sched_c) = the_workload(&manifests, "medallion-scheduler");
    let sched = k8s_invocation_of(&manifests, "medallion-scheduler");
    let sched_port = sched.port_flag("--bind-port", SCHEDULER_PORT);
    match &sched_port {
        Ok(port) => {
            p.check(*port == SCHEDULER_PORT, || {
                format!(
                    "{}: the scheduler must listen on {SCHEDULER_PORT}",
                    sched.origin
                )
            });
            p.check(container_ports(sched_c).contains(port), || {
                format!("{}: containerPort {port} missing", sched_w.id())
            });
        }
        Err(e) => p.push(e.clone()),
    }
    for probe in ["livenessProbe", "readinessProbe"] {
        let Some(pr) = sched_c.get(probe) else {
            p.push(format!("{}: scheduler has no {probe}", sched_w.id()));
            continue;
        };
        let port = at(pr, "httpGet.port").or_else(|| at(pr, "tcpSocket.port"));
        let resolved = port.and_then(|pt| resolve_port(pt, sched_c));
        p.check(
            resolved.is_some() && sched_port.as_ref().ok() == resolved.as_ref(),
            || {
                format!(
                    "{}: scheduler {probe} is not on its port {SCHEDULER_PORT}",
                    sched_w.id()
                )
            },
        );
        if let Some(path) = s(pr, "httpGet.path") {
            p.check(matches!(path, "/healthz" | "/readyz"), || {
                format!(
                    "{}: scheduler {probe} path {path} is not /healthz or /readyz",
                    sched_w.id()
                )
            });
        }
    }
    let sched_labels = pod_template_labels(&sched_w.doc);
    let sched_services: Vec<&Manifest> = of_kind(&manifests, "Service")
        .into_iter()
        .filter(|svc| selects(&string_map(at(&svc.doc, "spec.selector")), &sched_labels))
        .collect();
    p.check(sched_services.len() == 1, || {
        "exactly one Service must select the scheduler".into()
    });
    let (svc_name, svc_port) = sched_services
        .first()
        .map(|svc| {
            let port = seq(&svc.doc, "spec.ports")
                .first()
                .and_then(|pt| u(pt, "port"))
                .unwrap_or(0);
            (svc.name().to_string(), port)
        })
        .unwrap_or_default();

    // The executors: flight, gRPC and health ports declared, probes on the health endpoints,
    // registered under the pod IP, pointed at the scheduler Service.
    let (exec_w, exec_c) = the_workload(&manifests, "medallion-executor");
    let exec = k8s_invocation_of(&manifests, "medallion-executor");
    let declared = container_ports(exec_c);
    let mut health_port = None;
    for (flag, default) in [
        ("--bind-port", EXECUTOR_FLIGHT_PORT),
        ("--bind-grpc-port", EXECUTOR_GRPC_PORT),
        ("--bind-health-port", EXECUTOR_HEALTH_PORT),
    ] {
        match exec.port_flag(flag, default) {
            Ok(port) => {
                p.check(port == default, || {
                    format!(
                        "{}: {flag} should stay at ballista's {default}",
                        exec.origin
                    )
                });
                p.check(declared.contains(&port), || {
                    format!("{}: containerPort {port} ({flag}) missing", exec_w.id())
                });
                if flag == "--bind-health-port" {
                    health_port = Some(port);
                }
            }
            Err(e) => p.push(e),
        }
    }
    for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
        let port =
            at(exec_c, &format!("{probe}.httpGet.port")).and_then(|pt| resolve_port(pt, exec_c));
        p.check(port.is_some() && port == health_port, || {
            format!(
                "{}: executor {probe} must be an httpGet on the health port",
                exec_w.id()
            )
        });
        p.check(
            s(exec_c, &format!("{probe}.httpGet.path")) == Some(path),
            || format!("{}: executor {probe} path must be {path}", exec_w.id()),
        );
    }
    p.check(
        exec.flag("--external-host").as_deref() == Some("$(POD_IP)"),
        || format!("{}: --external-host must be $(POD_IP)", exec.origin),
    );
    let pod_ip = seq(exec_c, "env")
        .into_iter()
        .find(|e| s(e, "name") == Some("POD_IP"));
    p.check(
        pod_ip.and_then(|e| s(e, "valueFrom.fieldRef.fieldPath")) == Some("status.podIP"),
        || {
            format!(
                "{}: env POD_IP must come from fieldRef status.podIP",
                exec_w.id()
            )
        },
    );
    p.check(
        exec.flag("--scheduler-host").as_deref() == Some(svc_name.as_str()),
        || {
            format!(
                "{}: --scheduler-host must be the scheduler Service '{svc_name}'",
                exec.origin
            )
        },
    );
    let sched_port_flag = exec
        .port_flag("--scheduler-port", SCHEDULER_PORT)
        .unwrap_or(0);
    p.check(u64::from(sched_port_flag) == svc_port, || {
        format!(
            "{}: --scheduler-port is not the Service port {svc_port}",
            exec.origin
        )
    });
    if let Some(work_dir) = exec.flag("--work-dir") {
        p.check(
            seq(exec_c, "volumeMounts")
                .iter()
                .any(|vm| s(vm, "mountPath") == Some(work_dir.as_str())),
            || {
                format!(
                    "{}: --work-dir {work_dir} is not a mounted volume",
                    exec_w.id()
                )
            },
        );
    }

    // Clients reach the scheduler at df://<Service>:<port>.
    let expected = format!("df://{svc_name}:{svc_port}");
    let config = find(&manifests, "ConfigMap", "medallion-config");
    let env_scheduler = config.and_then(|c| s(&c.doc, "data.MEDALLION_SCHEDULER"));
    for (inv, _, _) in k8s_invocations(&manifests) {
        if inv.binary() != "medallion" {
            continue;
        }
        if let Some(value) = inv.flag("--scheduler") {
            let value = if value == "$(MEDALLION_SCHEDULER)" {
                env_scheduler.unwrap_or("").to_string()
            } else {
                value
            };
            p.check(value == expected, || {
                format!(
                    "{}: --scheduler {value}, the Service is {expected}",
                    inv.origin
                )
            });
        }
    }
    p.assert_none("ports, probes and selectors");
}

#[test]
fn pods_meet_the_restricted_pod_security_standard() {
    // namespace.yaml enforces `restricted`: a pod that does not comply is rejected.
    let manifests = k8s_manifests();
    let mut p = Problems::default();
    for m in &manifests {
        let Some(pod) = pod_spec(&m.doc) else {
            continue;
        };
        let id = m.id();
        p.check(
            at(pod, "securityContext.runAsNonRoot") == Some(&Value::Bool(true)),
            || format!("{id}: securityContext.runAsNonRoot must be true"),
        );
        p.check(u(pod, "securityContext.runAsUser") == Some(UID), || {
            format!("{id}: securityContext.runAsUser must be the image's uid {UID}")
        });
        let pod_seccomp = s(pod, "securityContext.seccompProfile.type");
        p.check(
            s(pod, "serviceAccountName")
                .is_some_and(|sa| find(&manifests, "ServiceAccount", sa).is_some()),
            || format!("{id}: serviceAccountName must name a ServiceAccount of k8s/"),
        );
        for v in seq(pod, "volumes") {
            p.check(v.get("hostPath").is_none(), || {
                format!("{id}: hostPath volumes are not allowed")
            });
        }
        for c in containers(pod) {
            let cid = format!("{id} container {}", s(c, "name").unwrap_or("?"));
            p.check(
                at(c, "securityContext.allowPrivilegeEscalation") == Some(&Value::Bool(false)),
                || format!("{cid}: allowPrivilegeEscalation must be false"),
            );
            p.check(
                strings(at(c, "securityContext.capabilities.drop")).contains(&"ALL".to_string()),
                || format!("{cid}: capabilities.drop must contain ALL"),
            );
            let seccomp = s(c, "securityContext.seccompProfile.type").or(pod_seccomp);
            p.check(
                matches!(seccomp, Some("RuntimeDefault" | "Localhost")),
                || format!("{cid}: seccompProfile must be RuntimeDefault"),
            );
            if at(c, "securityContext.readOnlyRootFilesystem") == Some(&Value::Bool(true)) {
                p.check(
                    seq(c, "volumeMounts")
                        .iter()
                        .any(|vm| s(vm, "mountPath") == Some("/tmp")),
                    || format!("{cid}: a read-only root filesystem needs a volume at /tmp"),
                );
            }
            let mounts = seq(c, "volumeMounts");
            for vm in mounts {
                let name = s(vm, "name").unwrap_or("");
                p.check(
                    seq(pod, "volumes")
                        .iter()
                        .any(|v| s(v, "name") == Some(name)),
                    || format!("{cid}: volumeMount {name} has no volume"),
                );
            }
        }
    }
    p.assert_none("pod security");
}

#[test]
fn env_and_volume_references_exist() {
    let manifests = k8s_manifests();
    let mut p = Problems::default();
    let data_keys = |kind: &str, name: &str| -> Option<BTreeSet<String>> {
        let m = find(&manifests, kind, name)?;
        let mut k = keys(m.doc.get("data"));
        k.extend(keys(m.doc.get("stringData")));
        k.extend(keys(m.doc.get("binaryData")));
        Some(k)
    };
    for m in &manifests {
        let Some(pod) = pod_spec(&m.doc) else {
            continue;
        };
        for v in seq(pod, "volumes") {
            if let Some(name) = s(v, "configMap.name") {
                p.check(data_keys("ConfigMap", name).is_some(), || {
                    format!(
                        "{}: volume from ConfigMap {name}, which does not exist",
                        m.id()
                    )
                });
            }
            if let Some(name) = s(v, "secret.secretName") {
                p.check(data_keys("Secret", name).is_some(), || {
                    format!(
                        "{}: volume from Secret {name}, which does not exist",
                        m.id()
                    )
                });
            }
            if let Some(claim) = s(v, "persistentVolumeClaim.claimName") {
                p.check(
                    find(&manifests, "PersistentVolumeClaim", claim).is_some(),
                    || {
                        format!(
                            "{}: volume from PersistentVolumeClaim {claim}, which is not in k8s/",
                            m.id()
                        )
                    },
                );
            }
        }
        for c in containers(pod) {
            let cid = format!("{} container {}", m.id(), s(c, "name").unwrap_or("?"));
            let mut defined: BTreeSet<String> = BTreeSet::new();
            for source in seq(c, "envFrom") {
                let prefix = s(source, "prefix").unwrap_or("");
                for (field, kind) in [("configMapRef", "ConfigMap"), ("secretRef", "Secret")] {
                    if let Some(name) = s(source, &format!("{field}.name")) {
                        match data_keys(kind, name) {
                            Some(k) => {
                                defined.extend(k.iter().map(|k| format!("{prefix}{k}")));
                            }
                            None => p.push(format!(
                                "{cid}: envFrom {kind} {name}, which is not in k8s/"
                            )),
                        }
                    }
                }
            }
            for e in seq(c, "env") {
                let name = s(e, "name").unwrap_or("");
                defined.insert(name.to_string());
                for (field, kind) in [("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")]
                {
                    let Some(r) = at(e, &format!("valueFrom.{field}")) else {
                        continue;
                    };
                    let ref_name = s(r, "name").unwrap_or("");
                    let key = s(r, "key").unwrap_or("");
                    match data_keys(kind, ref_name) {
                        Some(k) => p.check(k.contains(key), || {
                            format!("{cid}: env {name}: {kind} {ref_name} has no key {key}")
                        }),
                        None => p.push(format!(
                            "{cid}: env {name}: {kind} {ref_name} is not in k8s/"
                        )),
                    }
                }
            }
            // Kubernetes leaves an undefined $(VAR) in command/args as it is.
            for arg in container_argv(c) {
                let mut rest = arg.as_str();
                while let Some(i) = rest.find("$(") {
                    if rest[..i].ends_with('$') {
                        rest = &rest[i + 2..];
                        continue;
                    }
                    let tail = &rest[i + 2..];
                    let Some(end) = tail.find(')') else { break };
                    let var = &tail[..end];
                    p.check(defined.contains(var), || {
                        format!("{cid}: $({var}) in its arguments is not an env variable of the container")
                    });
                    rest = &tail[end..];
                }
            }
        }
    }
    // ConfigMap keys used as environment variables are valid names.
    for m in of_kind(&manifests, "ConfigMap")
        .into_iter()
        .chain(of_kind(&manifests, "Secret"))
    {
        let used_as_env = manifests.iter().any(|w| {
            pod_spec(&w.doc).is_some_and(|pod| {
                containers(pod).iter().any(|c| {
                    seq(c, "envFrom").iter().any(|src| {
                        s(src, "configMapRef.name") == Some(m.name())
                            || s(src, "secretRef.name") == Some(m.name())
                    })
                })
            })
        });
        if used_as_env {
            let mut all = keys(m.doc.get("data"));
            all.extend(keys(m.doc.get("stringData")));
            for k in all {
                p.check(
                    !k.is_empty()
                        && !k.starts_with(|c: char| c.is_ascii_digit())
                        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                    || format!("{}: key {k} is not an environment variable name", m.id()),
                );
            }
        }
    }
    // Secrets carry placeholders only, and say so.
    let secret_text = read("k8s/secret.yaml");
    p.check(secret_text.contains("REPLACE"), || {
        "k8s/secret.yaml must tell to replace its placeholder values".into()
    });
    for m in of_kind(&manifests, "Secret") {
        for (k, v) in string_map(m.doc.get("stringData")) {
            p.check(v.contains("CHANGE-ME") || k == "MYSQL_USER", || {
                format!("{}: {k} is not a CHANGE-ME placeholder", m.id())
            });
        }
    }
    // The non-secret configuration is complete.
    if let Some(config) = find(&manifests, "ConfigMap", "medallion-config") {
        let k = keys(config.doc.get("data"));
        for required in [
            "MEDALLION_LAKE",
            "MYSQL_HOST",
            "MYSQL_PORT",
            "MYSQL_DATABASE",
            "AWS_ENDPOINT_URL",
            "AWS_REGION",
        ] {
            p.check(k.contains(required), || {
                format!("ConfigMap medallion-config has no {required}")
            });
        }
    } else {
        p.push("no ConfigMap medallion-config".into());
    }
    if let Some(secret) = find(&manifests, "Secret", "medallion-secrets") {
        let k = keys(secret.doc.get("stringData"));
        for required in [
            "MYSQL_USER",
            "MYSQL_PASSWORD",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
        ] {
            p.check(k.contains(required), || {
                format!("Secret medallion-secrets has no {required}")
            });
        }
    } else {
        p.push("no Secret medallion-secrets".into());
    }
    let pseudonym = manifests
        .iter()
        .filter(|m| m.kind() == "Secret")
        .any(|m| keys(m.doc.get("stringData")).contains("MEDALLION_PSEUDONYM_KEY"));
    p.check(pseudonym, || {
        "no Secret holds MEDALLION_PSEUDONYM_KEY".into()
    });
    p.assert_none("env and volume references");
}

#[test]
fn cronjobs_match_batch_schedules() {
    let manifests = k8s_manifests();
    let schedules = batch_schedules();
    let limits = resource_limits();
    let mut p = Problems::default();
    let jobs = at(&schedules, "jobs")
        .and_then(Value::as_mapping)
        .expect("config/batch_schedules.yaml has jobs");
    let configured: BTreeSet<String> = jobs.keys().filter_map(scalar).collect();
    let expected: BTreeSet<String> = SCHEDULED_JOBS.iter().map(|j| j.to_string()).collect();
    p.check(configured == expected, || {
        format!("config/batch_schedules.yaml jobs are {configured:?}, expected {expected:?}")
    });
    for (job, cron) in SEED_SCHEDULES {
        p.check(
            s(&schedules, &format!("jobs.{job}.schedule")) == Some(cron),
            || format!("config/batch_schedules.yaml: {job} must run at the seed's '{cron}'"),
        );
    }

    let cronjobs = of_kind(&manifests, "CronJob");
    let mut covered = BTreeSet::new();
    for cj in &cronjobs {
        let id = cj.id();
        let pod = pod_spec(&cj.doc).expect("CronJob pod spec");
        let submits: Vec<Invocation> = containers(pod)
            .iter()
            .flat_map(|c| invocations(&id, &container_argv(c)))
            .filter(|i| i.binary() == "medallion")
            .collect();
        let Some(inv) = submits.first() else {
            p.push(format!("{id}: runs no medallion command"));
            continue;
        };
        let words = inv.words();
        if words.first().map(String::as_str) != Some("submit") || words.len() != 2 {
            p.push(format!(
                "{id}: the command must be `medallion submit <job> --scheduler df://...`, is {:?}",
                inv.argv
            ));
            continue;
        }
        let job = words[1].clone();
        p.check(inv.flag("--scheduler").is_some(), || {
            format!("{id}: no --scheduler")
        });
        p.check(cj.name() == format!("medallion-{job}"), || {
            format!("{id}: name it medallion-{job}")
        });
        p.check(covered.insert(job.clone()), || {
            format!("{id}: a second CronJob for {job}")
        });
        let Some(entry) = jobs.get(job.as_str()) else {
            p.push(format!(
                "{id}: job {job} has no entry in config/batch_schedules.yaml"
            ));
            continue;
        };
        let spec = cj.doc.get("spec").expect("CronJob spec");
        let schedule = s(spec, "schedule").unwrap_or("");
        p.check(Some(schedule) == s(entry, "schedule"), || {
            format!(
                "{id}: schedule '{schedule}' differs from config/batch_schedules.yaml '{}'",
                s(entry, "schedule").unwrap_or("")
            )
        });
        if let Err(e) = valid_cron(schedule) {
            p.push(format!("{id}: {e}"));
        }
        p.check(s(spec, "timeZone") == s(entry, "timezone"), || {
            format!("{id}: timeZone differs from config/batch_schedules.yaml")
        });
        p.check(s(spec, "concurrencyPolicy") == Some("Forbid"), || {
            format!("{id}: concurrencyPolicy must be Forbid")
        });
        let minutes = |key: &str| u(entry, key).map(|m| m * 60);
        p.check(
            u(spec, "startingDeadlineSeconds").is_some()
                && u(spec, "startingDeadlineSeconds") == minutes("starting_deadline_minutes"),
            || format!("{id}: startingDeadlineSeconds != starting_deadline_minutes * 60"),
        );
        for key in ["successfulJobsHistoryLimit", "failedJobsHistoryLimit"] {
            p.check(u(spec, key).is_some(), || format!("{id}: no {key}"));
        }
        p.check(
            u(spec, "jobTemplate.spec.backoffLimit").is_some()
                && u(spec, "jobTemplate.spec.backoffLimit") == u(entry, "retries"),
            || format!("{id}: backoffLimit != retries of config/batch_schedules.yaml"),
        );
        p.check(
            u(spec, "jobTemplate.spec.activeDeadlineSeconds").is_some()
                && u(spec, "jobTemplate.spec.activeDeadlineSeconds") == minutes("timeout_minutes"),
            || format!("{id}: activeDeadlineSeconds != timeout_minutes * 60"),
        );
        p.check(
            matches!(s(pod, "restartPolicy"), Some("Never" | "OnFailure")),
            || format!("{id}: restartPolicy must be Never or OnFailure"),
        );
        // Client pod resources from config/resource_limits.yaml.
        let expected = resources_of(at(&limits, &format!("jobs.{job}.client")));
        p.check(!expected.is_empty(), || {
            format!("config/resource_limits.yaml: no jobs.{job}.client")
        });
        for c in containers(pod) {
            let actual = resources_of(c.get("resources"));
            p.check(actual == expected, || {
                format!(
                    "{id}: resources {actual:?} differ from config/resource_limits.yaml {expected:?}"
                )
            });
        }
    }
    for job in configured.difference(&covered) {
        p.push(format!(
            "config/batch_schedules.yaml: {job} has no CronJob in k8s/"
        ));
    }
    p.assert_none("CronJobs");
}

/// `key = value` lines of one `[section]` of a job plan's job.toml (empty when there is none).
fn job_toml_section(job: &str, section: &str) -> BTreeMap<String, String> {
    let Ok(text) = std::fs::read_to_string(root().join("jobs/sql").join(job).join("job.toml"))
    else {
        return BTreeMap::new();
    };
    let mut out = BTreeMap::new();
    let mut inside = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            inside = line == format!("[{section}]");
        } else if inside
            && !line.starts_with('#')
            && let Some((k, v)) = line.split_once('=')
        {
            out.insert(k.trim().to_string(), v.trim().trim_matches('"').to_string());
        }
    }
    out
}

/// The environment variables a container defines: `env` and the keys of its `envFrom` sources.
fn defined_env(manifests: &[Manifest], container: &Value) -> BTreeSet<String> {
    let mut defined: BTreeSet<String> = seq(container, "env")
        .into_iter()
        .filter_map(|e| s(e, "name").map(str::to_string))
        .collect();
    for source in seq(container, "envFrom") {
        let prefix = s(source, "prefix").unwrap_or("");
        for (field, kind) in [("configMapRef", "ConfigMap"), ("secretRef", "Secret")] {
            if let Some(m) =
                s(source, &format!("{field}.name")).and_then(|n| find(manifests, kind, n))
            {
                let mut k = keys(m.doc.get("data"));
                k.extend(keys(m.doc.get("stringData")));
                defined.extend(k.into_iter().map(|k| format!("{prefix}{k}")));
            }
        }
    }
    defined
}

#[test]
fn cronjobs_give_jobs_their_secrets_and_output_dirs() {
    let manifests = k8s_manifests();
    let mut p = Problems::default();
    for cj in of_kind(&manifests, "CronJob") {
        let pod = pod_spec(&cj.doc).expect("CronJob pod spec");
        for c in containers(pod) {
            let defined = defined_env(&manifests, c);
            let mounts: Vec<(String, bool)> = seq(c, "volumeMounts")
                .into_iter()
                .filter_map(|vm| {
                    Some((
                        s(vm, "mountPath")?.to_string(),
                        at(vm, "readOnly") == Some(&Value::Bool(true)),
                    ))
                })
                .collect();
            for inv in invocations(&cj.id(), &container_argv(c)) {
                let words = inv.words();
                if inv.binary() != "medallion"
                    || words.first().map(String::as_str) != Some("submit")
                {
                    continue;
                }
                let Some(job) = words.get(1) else { continue };
                // The secrets job.toml reads from the environment (unless --key-file is given).
                if inv.flag("--key-file").is_none() {
                    for (secret, var) in job_toml_section(job, "secrets") {
                        p.check(defined.contains(&var), || {
                            format!(
                                "{}: job {job} reads its {secret} from ${var}, which the container does not define",
                                inv.origin
                            )
                        });
                    }
                }
                // Files go to a mounted, writable volume (the root file system is read-only), and
                // only for jobs that write them.
                let outputs = job_toml_section(job, "outputs");
                for (flag, output, writable) in [
                    ("--reports", "reports", true),
                    ("--export", "export", true),
                    ("--key-file", "", false),
                ] {
                    let Some(path) = inv.flag(flag) else { continue };
                    let mounted = mounts.iter().any(|(m, read_only)| {
                        Path::new(&path).starts_with(m) && !(writable && *read_only)
                    });
                    p.check(mounted, || {
                        format!(
                            "{}: {flag} {path} is not on a {}mounted volume",
                            inv.origin,
                            if writable { "writable " } else { "" }
                        )
                    });
                    if !output.is_empty() {
                        p.check(outputs.contains_key(output), || {
                            format!("{}: {flag} given but job {job} has no [outputs] {output} in its job.toml", inv.origin)
                        });
                    }
                }
            }
        }
    }
    p.assert_none("CronJob secrets and output directories");
}

// =============================================================================================
// Tests: config/.

#[test]
fn batch_schedules_are_consistent() {
    let schedules = batch_schedules();
    let mut p = Problems::default();
    let jobs = at(&schedules, "jobs")
        .and_then(Value::as_mapping)
        .expect("config/batch_schedules.yaml has jobs");
    for (name, entry) in jobs {
        let name = scalar(name).unwrap_or_default();
        let schedule = s(entry, "schedule").unwrap_or("");
        if let Err(e) = valid_cron(schedule) {
            p.push(format!("config/batch_schedules.yaml {name}: {e}"));
        }
        let f: Vec<&str> = schedule.split_whitespace().collect();
        let shape_ok = match s(entry, "cadence") {
            Some("daily") => f.len() == 5 && f[2] == "*" && f[3] == "*" && f[4] == "*",
            Some("weekly") => f.len() == 5 && f[2] == "*" && f[3] == "*" && f[4] != "*",
            Some("monthly") => f.len() == 5 && f[2] != "*" && f[3] == "*" && f[4] == "*",
            _ => false,
        };
        p.check(shape_ok, || {
            format!("config/batch_schedules.yaml {name}: cadence (daily|weekly|monthly) does not match '{schedule}'")
        });
        p.check(
            s(entry, "timezone").is_some_and(|tz| tz == "UTC" || tz.contains('/')),
            || format!("config/batch_schedules.yaml {name}: timezone must be an IANA name"),
        );
        p.check(
            s(entry, "description").is_some_and(|d| !d.is_empty()),
            || format!("config/batch_schedules.yaml {name}: no description"),
        );
        for key in ["timeout_minutes", "retries", "starting_deadline_minutes"] {
            p.check(u(entry, key).is_some(), || {
                format!("config/batch_schedules.yaml {name}: no {key}")
            });
        }
    }
    // The cadences the seed names.
    for (job, cadence) in [
        ("research-export", "monthly"),
        ("archive", "monthly"),
        ("optimize", "weekly"),
    ] {
        p.check(
            s(&schedules, &format!("jobs.{job}.cadence")) == Some(cadence),
            || format!("config/batch_schedules.yaml: {job} runs {cadence}"),
        );
    }
    p.assert_none("batch schedules");
}

#[test]
fn batch_config_map_holds_the_config_files() {
    let manifests = k8s_manifests();
    let cm = find(&manifests, "ConfigMap", "medallion-batch-config")
        .expect("k8s: ConfigMap medallion-batch-config");
    let mut p = Problems::default();
    for file in [
        "batch_schedules.yaml",
        "resource_limits.yaml",
        "retention_policies.yaml",
    ] {
        // (not `at`: the key contains a dot)
        let in_cm = cm
            .doc
            .get("data")
            .and_then(|d| d.get(file))
            .and_then(Value::as_str);
        match in_cm {
            None => p.push(format!("ConfigMap medallion-batch-config has no {file}")),
            Some(text) => {
                let embedded = parse_docs(&format!("medallion-batch-config {file}"), text);
                let original = parse_file(&format!("config/{file}"));
                p.check(embedded == original, || {
                    format!(
                        "k8s/configmap.yaml medallion-batch-config/{file} differs from config/{file}: \
                         run deploy/sync-configmap.sh"
                    )
                });
            }
        }
    }
    p.assert_none("batch ConfigMap");
}

#[test]
fn resource_limits_are_applied() {
    let manifests = k8s_manifests();
    let limits = resource_limits();
    let mut p = Problems::default();

    for (component, binary) in [
        ("scheduler", "medallion-scheduler"),
        ("executor", "medallion-executor"),
    ] {
        let (w, c) = the_workload(&manifests, binary);
        let expected = resources_of(at(&limits, &format!("components.{component}")));
        let actual = resources_of(c.get("resources"));
        p.check(!expected.is_empty() && actual == expected, || {
            format!(
                "{}: resources {actual:?} differ from config/resource_limits.yaml components.{component} {expected:?}",
                w.id()
            )
        });
        check_requests_within_limits(&w.id(), &actual, &mut p);
    }
    for cj in of_kind(&manifests, "CronJob") {
        let pod = pod_spec(&cj.doc).expect("pod");
        for c in containers(pod) {
            check_requests_within_limits(&cj.id(), &resources_of(c.get("resources")), &mut p);
        }
    }

    let ex = at(&limits, "components.executor").expect("components.executor");
    let slots = u(ex, "task_slots").expect("components.executor.task_slots");
    let min = u(ex, "min_executors").expect("components.executor.min_executors");
    let max = u(ex, "max_executors").expect("components.executor.max_executors");
    let target = u(ex, "cpu_target_percent").expect("components.executor.cpu_target_percent");
    p.check(min >= 1 && min <= max, || {
        "config/resource_limits.yaml: need 1 <= min_executors <= max_executors".into()
    });
    let exec = k8s_invocation_of(&manifests, "medallion-executor");
    p.check(exec.flag("--vcores") == Some(slots.to_string()), || {
        format!("{}: --vcores must be task_slots ({slots})", exec.origin)
    });
    let cpu_limit = at(ex, "limits.cpu")
        .and_then(scalar)
        .and_then(|q| quantity(&q));
    p.check(cpu_limit == Some(slots as f64), || {
        "config/resource_limits.yaml: executor task_slots must equal its CPU limit (one slot per core)"
            .into()
    });
    if let Some(fraction) = at(ex, "memory_pool_fraction").and_then(scalar) {
        p.check(
            exec.flag("--memory-pool-fraction") == Some(fraction.clone()),
            || format!("{}: --memory-pool-fraction must be {fraction}", exec.origin),
        );
    }
    let (exec_w, _) = the_workload(&manifests, "medallion-executor");
    let pod = pod_spec(&exec_w.doc).expect("executor pod");
    let work_dir_limit = s(ex, "work_dir_size_limit");
    let work_dir = exec.flag("--work-dir").unwrap_or_default();
    let work_volume = containers(pod)
        .iter()
        .flat_map(|c| seq(c, "volumeMounts"))
        .find(|vm| s(vm, "mountPath") == Some(work_dir.as_str()))
        .and_then(|vm| s(vm, "name"))
        .and_then(|name| {
            seq(pod, "volumes")
                .into_iter()
                .find(|v| s(v, "name") == Some(name))
        });
    p.check(
        work_volume
            .and_then(|v| at(v, "emptyDir.sizeLimit"))
            .and_then(scalar)
            .as_deref()
            == work_dir_limit,
        || {
            format!(
                "{}: work-dir emptyDir sizeLimit must be {work_dir_limit:?}",
                exec_w.id()
            )
        },
    );
    p.check(
        exec_w
            .doc
            .get("spec")
            .and_then(|sp| sp.get("replicas"))
            .is_none(),
        || {
            format!(
                "{}: leave replicas to the HorizontalPodAutoscaler",
                exec_w.id()
            )
        },
    );

    let hpas = of_kind(&manifests, "HorizontalPodAutoscaler");
    p.check(hpas.len() == 1, || {
        "one HorizontalPodAutoscaler for the executors".into()
    });
    for hpa in hpas {
        p.check(
            s(&hpa.doc, "spec.scaleTargetRef.name") == Some(exec_w.name()),
            || format!("{}: must scale {}", hpa.id(), exec_w.name()),
        );
        p.check(u(&hpa.doc, "spec.minReplicas") == Some(min), || {
            format!("{}: minReplicas must be min_executors {min}", hpa.id())
        });
        p.check(u(&hpa.doc, "spec.maxReplicas") == Some(max), || {
            format!("{}: maxReplicas must be max_executors {max}", hpa.id())
        });
        let cpu = seq(&hpa.doc, "spec.metrics")
            .into_iter()
            .find(|m| s(m, "resource.name") == Some("cpu"));
        p.check(
            cpu.and_then(|m| u(m, "resource.target.averageUtilization")) == Some(target),
            || format!("{}: CPU target must be {target}%", hpa.id()),
        );
    }
    let keda = parse_file("deploy/keda/scaledobject.yaml");
    let so = keda
        .iter()
        .find(|d| s(d, "kind") == Some("ScaledObject"))
        .expect("deploy/keda/scaledobject.yaml has a ScaledObject");
    p.check(s(so, "apiVersion") == Some("keda.sh/v1alpha1"), || {
        "ScaledObject apiVersion must be keda.sh/v1alpha1".into()
    });
    p.check(s(so, "metadata.namespace") == Some(NAMESPACE), || {
        format!("ScaledObject namespace must be {NAMESPACE}")
    });
    p.check(
        s(so, "spec.scaleTargetRef.name") == Some(exec_w.name()),
        || format!("ScaledObject must scale {}", exec_w.name()),
    );
    p.check(
        u(so, "spec.minReplicaCount") == Some(min) && u(so, "spec.maxReplicaCount") == Some(max),
        || format!("ScaledObject replicas must be {min}..{max}"),
    );
    let cpu_trigger = seq(so, "spec.triggers")
        .into_iter()
        .find(|t| s(t, "type") == Some("cpu"));
    p.check(
        cpu_trigger.and_then(|t| s(t, "metadata.value")) == Some(target.to_string().as_str()),
        || format!("ScaledObject cpu trigger value must be \"{target}\""),
    );

    // Every scheduled job is sized, and fits in the cluster at its largest.
    let schedules = batch_schedules();
    let scheduled = keys(at(&schedules, "jobs"));
    let sized = keys(at(&limits, "jobs"));
    p.check(scheduled == sized, || {
        format!("config/resource_limits.yaml jobs {sized:?} != config/batch_schedules.yaml jobs {scheduled:?}")
    });
    for job in &sized {
        let need = u(&limits, &format!("jobs.{job}.executor_slots"));
        p.check(need.is_some_and(|n| n >= 1 && n <= max * slots), || {
            format!(
                "config/resource_limits.yaml {job}: executor_slots must be 1..={} (max_executors * task_slots)",
                max * slots
            )
        });
    }
    p.assert_none("resource limits");
}

#[test]
fn retention_policies_match_the_seed_and_the_executors() {
    let policies = retention_policies();
    let mut p = Problems::default();
    let vitals = at(&policies, "lake.vitals").expect("retention: lake.vitals");
    p.check(u(vitals, "hot_retention_months") == Some(6), || {
        "retention: raw vitals stay 6 months (seed: archivage données > 6 mois)".into()
    });
    p.check(s(vitals, "action") == Some("archive"), || {
        "retention: vitals action must be archive".into()
    });
    let schedules = batch_schedules();
    if let Some(lake) = at(&policies, "lake").and_then(Value::as_mapping) {
        for (table, policy) in lake {
            let table = scalar(table).unwrap_or_default();
            let action = s(policy, "action").unwrap_or("");
            p.check(matches!(action, "archive" | "keep" | "delete"), || {
                format!("retention: lake.{table}.action '{action}' is not archive|keep|delete")
            });
            if action == "archive" {
                let source = s(policy, "source_prefix").unwrap_or("");
                let archive = s(policy, "archive_prefix").unwrap_or("");
                p.check(
                    !archive.is_empty()
                        && !source.is_empty()
                        && !archive.starts_with(source)
                        && !source.starts_with(archive),
                    || format!("retention: lake.{table}: archive_prefix must be set and apart from source_prefix"),
                );
                p.check(
                    u(policy, "hot_retention_months").is_some_and(|m| m > 0),
                    || format!("retention: lake.{table}: hot_retention_months > 0"),
                );
                let job = s(policy, "job").unwrap_or("");
                p.check(at(&schedules, &format!("jobs.{job}")).is_some(), || {
                    format!("retention: lake.{table}: job '{job}' is not scheduled")
                });
            }
        }
    }
    p.check(
        at(&policies, "gold")
            .and_then(Value::as_mapping)
            .is_some_and(|g| !g.is_empty()),
        || "retention: no gold section".into(),
    );
    // One retention entry per Gold table of the job plans.
    let mut gold_tables = BTreeSet::new();
    for job in std::fs::read_dir(root().join("jobs/sql")).expect("jobs/sql") {
        let gold = job.expect("jobs/sql entry").path().join("gold");
        for file in std::fs::read_dir(&gold).into_iter().flatten().flatten() {
            let name = file.file_name().to_string_lossy().to_string();
            if let Some(table) = name.strip_suffix(".sql") {
                gold_tables.insert(table.to_string());
            }
        }
    }
    let with_policy = keys(at(&policies, "gold"));
    for table in gold_tables.difference(&with_policy) {
        p.push(format!(
            "config/retention_policies.yaml: Gold table {table} has no gold.{table} entry"
        ));
    }
    for table in with_policy.difference(&gold_tables) {
        p.push(format!(
            "config/retention_policies.yaml: gold.{table} is no Gold table of jobs/sql/*/gold/"
        ));
    }
    p.check(
        u(&policies, "pipeline_runs.months").is_some_and(|m| m > 0),
        || "retention: pipeline_runs.months".into(),
    );
    for key in ["file_sink_max_age_hours", "mysql_max_age_hours"] {
        p.check(u(&policies, &format!("staging.{key}")).is_some(), || {
            format!("retention: staging.{key}")
        });
    }

    // The executors sweep their job data as the policy says, in k8s and in compose.
    let ttl = u(&policies, "staging.executor_job_data.ttl_hours").map(|h| h * 3600);
    let interval = u(
        &policies,
        "staging.executor_job_data.clean_up_interval_minutes",
    )
    .map(|m| m * 60);
    let manifests = k8s_manifests();
    let mut executors = vec![k8s_invocation_of(&manifests, "medallion-executor")];
    executors.extend(
        compose_invocations(&compose_services(&compose()))
            .into_iter()
            .map(|(_, i)| i)
            .filter(|i| i.binary() == "medallion-executor"),
    );
    for inv in executors {
        p.check(
            ttl.is_some() && inv.flag("--job-data-ttl-seconds") == ttl.map(|t| t.to_string()),
            || {
                format!(
                    "{}: --job-data-ttl-seconds must be ttl_hours * 3600 = {ttl:?}",
                    inv.origin
                )
            },
        );
        p.check(
            interval.is_some()
                && inv.flag("--job-data-clean-up-interval-seconds")
                    == interval.map(|t| t.to_string()),
            || {
                format!(
                    "{}: --job-data-clean-up-interval-seconds must be clean_up_interval_minutes * 60 = {interval:?}",
                    inv.origin
                )
            },
        );
    }
    p.assert_none("retention policies");
}

// =============================================================================================
// Tests: docker-compose.yml.

#[test]
fn compose_services_are_wired() {
    let doc = compose();
    let services = compose_services(&doc);
    let mut p = Problems::default();
    for required in [
        "scheduler",
        "executor",
        "mysql",
        "minio",
        "minio-init",
        "generate",
        "submit",
    ] {
        p.check(services.contains_key(required), || {
            format!("docker-compose.yml: no service {required}")
        });
    }
    for (name, svc) in &services {
        for (target, condition) in compose_depends_on(svc) {
            match services.get(&target) {
                None => p.push(format!(
                    "docker-compose.yml {name}: depends_on {target}, which is no service"
                )),
                Some(t) => {
                    p.check(
                        matches!(
                            condition.as_str(),
                            "service_started"
                                | "service_healthy"
                                | "service_completed_successfully"
                        ),
                        || format!("docker-compose.yml {name}: unknown condition {condition}"),
                    );
                    if condition == "service_healthy" {
                        p.check(t.get("healthcheck").is_some(), || {
                            format!("docker-compose.yml {name}: waits for {target} to be healthy, but {target} has no healthcheck")
                        });
                    }
                    if condition == "service_completed_successfully" {
                        p.check(s(t, "restart").unwrap_or("no") == "no", || {
                            format!("docker-compose.yml {name}: waits for {target} to complete, but {target} restarts")
                        });
                    }
                }
            }
        }
    }
    for name in ["scheduler", "executor", "mysql", "minio"] {
        if let Some(svc) = services.get(name) {
            p.check(at(svc, "healthcheck.test").is_some(), || {
                format!("docker-compose.yml {name}: no healthcheck")
            });
        }
    }
    for (name, wants) in [
        ("submit", vec!["scheduler", "executor", "mysql", "generate"]),
        ("executor", vec!["scheduler"]),
        ("minio-init", vec!["minio"]),
    ] {
        let deps: BTreeMap<String, String> = services
            .get(name)
            .map(compose_depends_on)
            .unwrap_or_default()
            .into_iter()
            .collect();
        for w in wants {
            let ok = deps
                .get(w)
                .is_some_and(|c| c == "service_healthy" || c == "service_completed_successfully");
            p.check(ok, || {
                format!("docker-compose.yml {name}: must wait for {w} (service_healthy / service_completed_successfully)")
            });
        }
    }

    // Executors scale: no fixed name, hostname or host port.
    if let Some(ex) = services.get("executor") {
        for key in ["container_name", "hostname", "ports"] {
            p.check(ex.get(key).is_none(), || {
                format!("docker-compose.yml executor: `{key}` prevents --scale executor=N")
            });
        }
    }

    // MySQL: LOAD DATA LOCAL INFILE enabled, root password and database from env with defaults.
    if let Some(mysql) = services.get("mysql") {
        let command = compose_words(mysql.get("command")).join(" ");
        p.check(
            command.contains("--local-infile=1")
                || command.contains("--local_infile=1")
                || command.contains("--local-infile=ON")
                || command.contains("--local_infile=ON"),
            || "docker-compose.yml mysql: command must enable --local-infile=1".into(),
        );
        let env = string_map(mysql.get("environment"));
        for key in ["MYSQL_ROOT_PASSWORD", "MYSQL_DATABASE"] {
            p.check(env.get(key).is_some_and(|v| !v.is_empty()), || {
                format!("docker-compose.yml mysql: {key} needs a default")
            });
        }
        p.check(env.get("MYSQL_USER").is_none_or(|u| u != "root"), || {
            "docker-compose.yml mysql: MYSQL_USER cannot be root".into()
        });
    }

    // Named volumes are declared; the lake is one volume at one path for everyone who reads it.
    let declared = keys(doc.get("volumes"));
    let mut used = BTreeSet::new();
    let mut lake_mounts = BTreeMap::new();
    for (name, svc) in &services {
        for (source, target) in compose_volumes(svc) {
            if let Some(source) = source.filter(|s| is_named_volume(s)) {
                p.check(declared.contains(&source), || {
                    format!(
                        "docker-compose.yml {name}: volume {source} is not declared under volumes:"
                    )
                });
                if source == "lake" {
                    lake_mounts.insert(name.clone(), target);
                }
                used.insert(source);
            }
        }
    }
    for unused in declared.difference(&used) {
        p.push(format!(
            "docker-compose.yml: volume {unused} is declared but unused"
        ));
    }
    p.check(declared.contains("lake"), || {
        "docker-compose.yml: no `lake` volume".into()
    });
    p.check(
        services.get("mysql").is_some_and(|m| {
            compose_volumes(m)
                .iter()
                .any(|(s, t)| s.as_deref().is_some_and(is_named_volume) && t == "/var/lib/mysql")
        }),
        || "docker-compose.yml mysql: /var/lib/mysql must be a named volume".into(),
    );
    let lake_paths: BTreeSet<&String> = lake_mounts.values().collect();
    for name in ["scheduler", "executor", "generate", "submit"] {
        p.check(lake_mounts.contains_key(name), || {
            format!("docker-compose.yml {name}: the lake volume is not mounted")
        });
    }
    p.check(lake_paths.len() == 1, || {
        format!("docker-compose.yml: the lake volume is mounted at different paths {lake_paths:?}")
    });
    p.assert_none("docker-compose.yml");
}

#[test]
fn compose_commands_reach_each_other() {
    let services = compose_services(&compose());
    let invs = compose_invocations(&services);
    let mut p = Problems::default();
    let by_binary = |b: &str| -> Vec<&(String, Invocation)> {
        invs.iter().filter(|(_, i)| i.binary() == b).collect()
    };
    let scheds = by_binary("medallion-scheduler");
    let execs = by_binary("medallion-executor");
    p.check(scheds.len() == 1 && scheds[0].0 == "scheduler", || {
        "docker-compose.yml: service scheduler must run medallion-scheduler".into()
    });
    p.check(execs.len() == 1 && execs[0].0 == "executor", || {
        "docker-compose.yml: service executor must run medallion-executor".into()
    });
    let sched_port = scheds
        .first()
        .and_then(|(_, i)| i.port_flag("--bind-port", SCHEDULER_PORT).ok())
        .unwrap_or(SCHEDULER_PORT);
    if let Some((_, ex)) = execs.first() {
        p.check(
            ex.flag("--scheduler-host")
                .is_some_and(|h| services.contains_key(&h)),
            || "docker-compose.yml executor: --scheduler-host must be the scheduler service".into(),
        );
        p.check(
            ex.port_flag("--scheduler-port", SCHEDULER_PORT).ok() == Some(sched_port),
            || "docker-compose.yml executor: --scheduler-port is not the scheduler's port".into(),
        );
        // Each replica registers under an address computed inside its container.
        p.check(
            ex.flag("--external-host").is_some_and(|h| h.contains('$')),
            || "docker-compose.yml executor: --external-host must be computed per container (e.g. \"$$(hostname -i)\")".into(),
        );
        let limits = resource_limits();
        let slots = u(&limits, "compose.executor.task_slots");
        p.check(
            slots.is_some() && ex.flag("--vcores") == slots.map(|n| n.to_string()),
            || format!("docker-compose.yml executor: --vcores must be compose.executor.task_slots {slots:?}"),
        );
        let svc = &services["executor"];
        for (key, field) in [("cpus", "cpus"), ("memory", "memory")] {
            let want = at(&limits, &format!("compose.executor.{field}")).and_then(scalar);
            let have = at(svc, &format!("deploy.resources.limits.{key}")).and_then(scalar);
            p.check(want.is_some() && want == have, || {
                format!("docker-compose.yml executor: deploy.resources.limits.{key} {have:?} != config/resource_limits.yaml compose.executor.{field} {want:?}")
            });
        }
        let health = ex
            .port_flag("--bind-health-port", EXECUTOR_HEALTH_PORT)
            .unwrap_or(0);
        p.check(
            healthcheck_url(svc)
                .is_some_and(|(port, path)| port == health && path.starts_with("/readyz")),
            || format!("docker-compose.yml executor: healthcheck must GET /readyz on {health}"),
        );
    }
    if let Some(svc) = services.get("scheduler") {
        p.check(
            healthcheck_url(svc).is_some_and(|(port, path)| {
                port == sched_port && (path == "/healthz" || path == "/readyz")
            }),
            || {
                format!(
                    "docker-compose.yml scheduler: healthcheck must GET /healthz on {sched_port}"
                )
            },
        );
    }
    let submits: Vec<&(String, Invocation)> = by_binary("medallion")
        .into_iter()
        .filter(|(_, i)| i.words().first().map(String::as_str) == Some("submit"))
        .collect();
    p.check(submits.iter().any(|(svc, _)| svc == "submit"), || {
        "docker-compose.yml: service submit must run `medallion submit`".into()
    });
    for (svc, inv) in submits {
        let expected = format!("df://scheduler:{sched_port}");
        p.check(
            inv.flag("--scheduler").as_deref() == Some(expected.as_str()),
            || format!("docker-compose.yml {svc}: --scheduler must be {expected}"),
        );
        let sink = inv.flag("--sink").unwrap_or_default();
        let host = sink
            .strip_prefix("mysql://")
            .map(|rest| rest.split('/').next().unwrap_or(""))
            .map(|auth| auth.rsplit('@').next().unwrap_or(""))
            .map(|hp| hp.split(':').next().unwrap_or("").to_string());
        p.check(host.as_deref().is_some_and(|h| services.contains_key(h)), || {
            format!("docker-compose.yml {svc}: --sink must be mysql://...@<mysql service>:3306/<db>, is '{sink}'")
        });
        let lake = inv.flag("--lake").unwrap_or_default();
        let mounted = compose_volumes(&services[svc])
            .iter()
            .any(|(s, t)| s.as_deref() == Some("lake") && lake.starts_with(t.as_str()));
        p.check(mounted, || {
            format!("docker-compose.yml {svc}: --lake {lake} is not on the lake volume")
        });
    }
    let generates: Vec<&(String, Invocation)> = by_binary("medallion")
        .into_iter()
        .filter(|(_, i)| i.words().first().map(String::as_str) == Some("generate"))
        .collect();
    p.check(generates.iter().any(|(svc, _)| svc == "generate"), || {
        "docker-compose.yml: service generate must run `medallion generate accidents`".into()
    });
    p.assert_none("compose commands");
}

// =============================================================================================
// Tests: the image.

#[test]
fn dockerfile_builds_and_ships_one_multi_call_binary() {
    let text = read("Dockerfile");
    let ignore = read(".dockerignore");
    let mut p = Problems::default();
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .collect();
    let joined = text.replace("\\\n", " ");

    // Toolchain new enough for the workspace.
    let rust_version = workspace_package("rust-version");
    let arg = lines
        .iter()
        .find_map(|l| l.strip_prefix("ARG RUST_VERSION="))
        .map(str::trim);
    match arg {
        Some(v) => p.check(version_tuple(v) >= version_tuple(&rust_version), || {
            format!("Dockerfile: RUST_VERSION {v} is older than the workspace rust-version {rust_version}")
        }),
        None => p.push("Dockerfile: no ARG RUST_VERSION=".into()),
    }
    let froms: Vec<&str> = lines
        .iter()
        .filter(|l| l.starts_with("FROM "))
        .copied()
        .collect();
    p.check(froms.iter().any(|f| f.contains("rust:")), || {
        "Dockerfile: no rust builder stage".into()
    });
    p.check(
        froms
            .last()
            .is_some_and(|f| f.contains("debian:bookworm-slim")),
        || "Dockerfile: the runtime stage must be debian:bookworm-slim".into(),
    );
    p.check(
        joined.contains("cargo chef cook") || joined.contains("dummy"),
        || "Dockerfile: no dependency-caching layer".into(),
    );

    // One multi-call binary, built without debug info (the image profile), shipped once and
    // linked under the two service names; the three packages exist in the workspace.
    let members_text = read("Cargo.toml");
    p.check(
        joined.contains("--profile image") && joined.contains("-p medallion-jobs --bin medallion"),
        || {
            "Dockerfile: cargo build must build -p medallion-jobs --bin medallion --profile image"
                .into()
        },
    );
    p.check(
        members_text.contains("[profile.image]")
            && members_text.contains("strip = \"symbols\"")
            && members_text.contains("debug = false"),
        || "Cargo.toml: [profile.image] must drop debug info and symbols".into(),
    );
    // fat LTO is what brings the binary to 121.5 MB and the image under 250 MB (BENCHMARKS.md)
    let image_profile = members_text
        .split("[profile.image]")
        .nth(1)
        .and_then(|rest| rest.split("\n[").next())
        .unwrap_or("");
    p.check(
        image_profile.contains("lto = \"fat\"") && image_profile.contains("codegen-units = 1"),
        || "Cargo.toml: [profile.image] must link with fat LTO in one codegen unit".into(),
    );
    p.check(joined.contains("target/image/medallion"), || {
        "Dockerfile: target/image/medallion is not collected".into()
    });
    for service in ["medallion-scheduler", "medallion-executor"] {
        p.check(
            joined.contains(&format!("ln -s medallion /usr/local/bin/{service}")),
            || format!("Dockerfile: {service} is not linked to the medallion binary"),
        );
    }
    for package in [
        "medallion-jobs",
        "medallion-scheduler",
        "medallion-executor",
    ] {
        let found = ["udfs", "core", "scheduler", "executor", "jobs"]
            .iter()
            .filter(|m| members_text.contains(&format!("\"{m}\"")))
            .any(|m| {
                std::fs::read_to_string(root().join(m).join("Cargo.toml"))
                    .is_ok_and(|t| t.contains(&format!("name = \"{package}\"")))
            });
        p.check(found, || format!("no workspace package {package}"));
    }
    p.check(joined.contains("/usr/local/bin/"), || {
        "Dockerfile: the binaries must go to /usr/local/bin".into()
    });
    p.check(
        lines
            .iter()
            .any(|l| l.starts_with("USER ") && l.contains(&UID.to_string())),
        || format!("Dockerfile: USER {UID}"),
    );
    let exposed: BTreeSet<u16> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("EXPOSE "))
        .flat_map(|l| l.split_whitespace())
        .filter_map(|port| port.split('/').next()?.parse().ok())
        .collect();
    for port in [
        SCHEDULER_PORT,
        EXECUTOR_FLIGHT_PORT,
        EXECUTOR_GRPC_PORT,
        EXECUTOR_HEALTH_PORT,
    ] {
        p.check(exposed.contains(&port), || {
            format!("Dockerfile: EXPOSE {port}")
        });
    }
    p.check(
        lines
            .iter()
            .any(|l| l.replace(' ', "") == "CMD[\"medallion\",\"--help\"]"),
        || "Dockerfile: CMD [\"medallion\", \"--help\"]".into(),
    );
    p.check(
        lines
            .iter()
            .any(|l| l.starts_with("COPY") && l.contains("data/") && !l.contains("--from")),
        || "Dockerfile: data/ is not shipped".into(),
    );
    // Tools the manifests run inside the image are installed.
    let installs = |tool: &str| {
        joined.split("apt-get install").skip(1).any(|rest| {
            rest.split("&&")
                .next()
                .is_some_and(|cmd| cmd.split_whitespace().any(|w| w == tool))
        })
    };
    let compose_text = read("docker-compose.yml");
    if compose_text.contains("\"curl\"") || compose_text.contains("curl ") {
        p.check(installs("curl"), || {
            "Dockerfile: docker-compose.yml healthchecks use curl: install it".into()
        });
    }
    if joined.contains("tini") {
        p.check(installs("tini"), || {
            "Dockerfile: ENTRYPOINT tini: install it".into()
        });
    }

    // COPY sources exist and are in the build context.
    let ignored: Vec<String> = ignore
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.trim_end_matches('/').to_string())
        .collect();
    for l in &lines {
        let Some(rest) = l.strip_prefix("COPY ") else {
            continue;
        };
        if rest.contains("--from") {
            continue;
        }
        let words: Vec<&str> = rest
            .split_whitespace()
            .filter(|w| !w.starts_with("--"))
            .collect();
        for src in &words[..words.len().saturating_sub(1)] {
            let src = src.trim_end_matches('/');
            p.check(src == "." || root().join(src).exists(), || {
                format!("Dockerfile: COPY {src}: no such file")
            });
            p.check(!ignored.iter().any(|i| i == src), || {
                format!("Dockerfile: COPY {src}, which .dockerignore excludes")
            });
        }
    }
    for required in ["target", "lake", "gold"] {
        p.check(
            ignored
                .iter()
                .any(|i| i == required || i == &format!("/{required}")),
            || format!(".dockerignore must exclude {required}/"),
        );
    }
    for needed in [
        "Cargo.toml",
        "Cargo.lock",
        "data",
        "udfs",
        "core",
        "scheduler",
        "executor",
        "jobs",
    ] {
        p.check(!ignored.iter().any(|i| i == needed), || {
            format!(".dockerignore excludes {needed}, which the build needs")
        });
    }
    p.assert_none("Dockerfile");
}

// =============================================================================================
// Tests: every command line is one the binaries accept.

#[test]
fn medallion_commands_in_manifests_are_valid() {
    let manifests = k8s_manifests();
    let services = compose_services(&compose());
    let mut p = Problems::default();
    let mut all: Vec<Invocation> = k8s_invocations(&manifests)
        .into_iter()
        .map(|(i, _, _)| i)
        .collect();
    all.extend(compose_invocations(&services).into_iter().map(|(_, i)| i));
    // Containers of our image run one of our binaries.
    for m in &manifests {
        let Some(pod) = pod_spec(&m.doc) else {
            continue;
        };
        for c in containers(pod) {
            p.check(!invocations("", &container_argv(c)).is_empty(), || {
                format!(
                    "{} container {}: runs none of {BINARIES:?}",
                    m.id(),
                    s(c, "name").unwrap_or("?")
                )
            });
        }
    }
    for (name, svc) in &services {
        if is_medallion_image(svc) {
            let mut argv = compose_words(svc.get("entrypoint"));
            argv.extend(compose_words(svc.get("command")));
            p.check(!invocations("", &argv).is_empty(), || {
                format!("docker-compose.yml {name}: runs none of {BINARIES:?}")
            });
        }
    }
    let medallion: Vec<&Invocation> = all.iter().filter(|i| i.binary() == "medallion").collect();
    assert!(
        !medallion.is_empty(),
        "no medallion command in k8s/ or docker-compose.yml"
    );
    for inv in medallion {
        check_invocation(inv, &mut p);
    }
    p.assert_none("medallion command lines");
}

#[test]
fn scheduled_and_submitted_jobs_exist() {
    let manifests = k8s_manifests();
    let services = compose_services(&compose());
    let mut jobs: Vec<(String, String)> = k8s_invocations(&manifests)
        .into_iter()
        .map(|(i, _, _)| i)
        .chain(compose_invocations(&services).into_iter().map(|(_, i)| i))
        .filter(|i| i.binary() == "medallion")
        .filter_map(|i| {
            let words = i.words();
            match words.first().map(String::as_str) {
                Some("submit" | "run") => words.get(1).map(|j| (i.origin.clone(), j.clone())),
                _ => None,
            }
        })
        .collect();
    jobs.extend(
        SCHEDULED_JOBS
            .iter()
            .map(|j| ("config/batch_schedules.yaml".to_string(), j.to_string())),
    );
    let listed = listed_jobs().unwrap_or_else(|e| panic!("{e}"));
    let mut p = Problems::default();
    for (origin, job) in jobs {
        p.check(listed.contains(&job), || {
            format!("{origin}: job {job} is not a job plan (`medallion jobs` lists {listed:?})")
        });
    }
    p.assert_none("job plans");
}

#[test]
fn scheduler_and_executor_commands_are_valid() {
    let manifests = k8s_manifests();
    let services = compose_services(&compose());
    let mut p = Problems::default();
    let mut all: Vec<Invocation> = k8s_invocations(&manifests)
        .into_iter()
        .map(|(i, _, _)| i)
        .collect();
    all.extend(compose_invocations(&services).into_iter().map(|(_, i)| i));
    let servers: Vec<&Invocation> = all.iter().filter(|i| i.binary() != "medallion").collect();
    for binary in ["medallion-scheduler", "medallion-executor"] {
        p.check(servers.iter().any(|i| i.binary() == binary), || {
            format!("no manifest runs {binary}")
        });
    }
    for inv in servers {
        check_invocation(inv, &mut p);
        // Numeric flags get numbers.
        for flag in inv.flags() {
            let numeric = flag.ends_with("-port")
                || flag.ends_with("-seconds")
                || flag == "--vcores"
                || flag == "--memory-pool-fraction";
            if numeric {
                let value = inv.flag(&flag).unwrap_or_default();
                p.check(value.parse::<f64>().is_ok(), || {
                    format!("{}: {flag} '{value}' is not a number", inv.origin)
                });
            }
        }
    }
    p.assert_none("scheduler and executor command lines");
}

/// The value of `flag` in `inv`, else the binary's default as its `--help` prints it.
fn flag_or_default(inv: &Invocation, flag: &str) -> Option<u64> {
    if let Some(value) = inv.flag(flag) {
        return value.parse().ok();
    }
    let help = help(inv.binary(), &[]).ok()?;
    let after = &help[help.find(flag)?..];
    let default = &after[after.find("[default: ")? + "[default: ".len()..];
    default[..default.find(']')?].trim().parse().ok()
}

/// README "Reliability": a dead executor is noticed within ~15 s in every deployment, and the
/// scheduler's timeout leaves an executor three heartbeats (a busy one is not taken for dead).
#[test]
fn dead_executors_are_noticed_within_15_seconds() {
    let manifests = k8s_manifests();
    let compose: Vec<Invocation> = compose_invocations(&compose_services(&compose()))
        .into_iter()
        .map(|(_, i)| i)
        .collect();
    let of = |binary: &str| {
        compose
            .iter()
            .find(|i| i.binary() == binary)
            .cloned()
            .unwrap_or_else(|| panic!("docker-compose.yml runs no {binary}"))
    };
    let deployments = [
        (
            "k8s",
            k8s_invocation_of(&manifests, "medallion-scheduler"),
            k8s_invocation_of(&manifests, "medallion-executor"),
        ),
        (
            "docker-compose.yml",
            of("medallion-scheduler"),
            of("medallion-executor"),
        ),
    ];
    let mut p = Problems::default();
    for (name, scheduler, executor) in deployments {
        let timeout = flag_or_default(&scheduler, "--executor-timeout-seconds");
        let interval = flag_or_default(&scheduler, "--expire-dead-executor-interval-seconds");
        let heartbeat = flag_or_default(&executor, "--executor-heartbeat-interval-seconds");
        let (Some(timeout), Some(interval), Some(heartbeat)) = (timeout, interval, heartbeat)
        else {
            p.push(format!(
                "{name}: cannot tell the executor timeout ({timeout:?}), expiry interval \
                 ({interval:?}) or heartbeat ({heartbeat:?})"
            ));
            continue;
        };
        p.check(timeout + interval <= 15, || {
            format!("{name}: a dead executor is noticed after up to {timeout} + {interval} s")
        });
        p.check(heartbeat * 3 <= timeout, || {
            format!(
                "{name}: {heartbeat} s heartbeats leave fewer than 3 within the {timeout} s timeout"
            )
        });
    }
    p.assert_none("dead-executor detection");
}

// =============================================================================================
// The helpers themselves.

#[test]
fn helpers_behave() {
    assert_eq!(
        shell_words(r#"exec a --x "$(hostname -i | cut -d ' ' -f 1)" && b 'c d';e"#),
        vec![
            "exec",
            "a",
            "--x",
            "$(hostname -i | cut -d ' ' -f 1)",
            "&&",
            "b",
            "c d",
            ";",
            "e"
        ]
    );
    assert_eq!(interpolate("a${X:-b}c$$d").unwrap(), "abc$d");
    assert_eq!(interpolate("${X:-${Y:-z}}").unwrap(), "z");
    assert!(interpolate("$(hostname)").is_err());
    assert!(interpolate("${X:?need X}").is_err());
    assert!(valid_cron("0 2 * * *").is_ok());
    assert!(valid_cron("*/15 1-3 1,15 * 0").is_ok());
    assert!(valid_cron("0 24 * * *").is_err());
    assert!(valid_cron("0 2 * *").is_err());
    assert_eq!(quantity("250m"), Some(0.25));
    assert_eq!(quantity("1Gi"), Some(1024.0 * 1024.0 * 1024.0));
    assert!(documents_flag("  --bind-port <PORT>", "--bind-port"));
    assert!(!documents_flag("  --bind-port-x <PORT>", "--bind-port"));
    let inv = Invocation {
        origin: "t".into(),
        argv: vec![
            "medallion".into(),
            "submit".into(),
            "job".into(),
            "--lake=/l".into(),
            "--sink".into(),
            "s".into(),
        ],
    };
    assert_eq!(inv.words(), vec!["submit", "job"]);
    assert_eq!(inv.flag("--lake").as_deref(), Some("/l"));
    assert_eq!(inv.flags(), vec!["--lake", "--sink"]);
}

#[test]
fn metrics_ports_are_declared_annotated_and_runs_name_their_cronjob() {
    // README "Monitoring": the scheduler's Prometheus metrics on its gRPC port at /api/metrics,
    // the executors' on --metrics-port at /metrics; Prometheus finds both by the pod annotations.
    let manifests = k8s_manifests();
    let mut p = Problems::default();
    let annotations = |m: &Manifest| string_map(at(&m.doc, "spec.template.metadata.annotations"));

    let (sched_w, sched_c) = the_workload(&manifests, "medallion-scheduler");
    let sched = k8s_invocation_of(&manifests, "medallion-scheduler");
    let sched_port = sched.port_flag("--bind-port", SCHEDULER_PORT);
    let a = annotations(sched_w);
    p.check(
        a.get("prometheus.io/scrape").map(String::as_str) == Some("true"),
        || format!("{}: prometheus.io/scrape must be \"true\"", sched_w.id()),
    );
    p.check(
        a.get("prometheus.io/path").map(String::as_str) == Some("/api/metrics"),
        || format!("{}: prometheus.io/path must be /api/metrics", sched_w.id()),
    );
    match sched_port {
        Ok(port) => {
            p.check(
                a.get("prometheus.io/port") == Some(&port.to_string()),
                || {
                    format!(
                        "{}: prometheus.io/port must be --bind-port {port}",
                        sched_w.id()
                    )
                },
            );
            p.check(container_ports(sched_c).contains(&port), || {
                format!("{}: containerPort {port} missing", sched_w.id())
            });
        }
        Err(e) => p.push(e),
    }

    let (exec_w, exec_c) = the_workload(&manifests, "medallion-executor");
    let exec = k8s_invocation_of(&manifests, "medallion-executor");
    let a = annotations(exec_w);
    match exec.flag("--metrics-port").map(|v| v.parse::<u16>()) {
        Some(Ok(port)) => {
            for taken in [
                EXECUTOR_FLIGHT_PORT,
                EXECUTOR_GRPC_PORT,
                EXECUTOR_HEALTH_PORT,
            ] {
                p.check(port != taken, || {
                    format!("{}: --metrics-port {port} is taken", exec.origin)
                });
            }
            p.check(container_ports(exec_c).contains(&port), || {
                format!(
                    "{}: containerPort {port} (--metrics-port) missing",
                    exec_w.id()
                )
            });
            p.check(
                a.get("prometheus.io/port") == Some(&port.to_string()),
                || {
                    format!(
                        "{}: prometheus.io/port must be --metrics-port {port}",
                        exec_w.id()
                    )
                },
            );
        }
        _ => p.push(format!("{}: --metrics-port PORT missing", exec.origin)),
    }
    p.check(
        a.get("prometheus.io/scrape").map(String::as_str) == Some("true"),
        || format!("{}: prometheus.io/scrape must be \"true\"", exec_w.id()),
    );
    p.check(
        a.get("prometheus.io/path").map(String::as_str) == Some("/metrics"),
        || format!("{}: prometheus.io/path must be /metrics", exec_w.id()),
    );

    // Runs push to the Pushgateway of the ConfigMap, and each CronJob's runs record its name in
    // pipeline_runs.started_by.
    let config = find(&manifests, "ConfigMap", "medallion-config");
    let pushgateway = config.and_then(|c| s(&c.doc, "data.MEDALLION_PUSHGATEWAY"));
    p.check(
        pushgateway.is_some_and(|url| url.starts_with("http://") || url.starts_with("https://")),
        || "medallion-config: MEDALLION_PUSHGATEWAY must be an http(s) URL".into(),
    );
    for cronjob in of_kind(&manifests, "CronJob") {
        let expected = format!("cronjob/{}", cronjob.name());
        let pod = pod_spec(&cronjob.doc).expect("a CronJob has a pod");
        for c in containers(pod) {
            let started_by = seq(c, "env")
                .into_iter()
                .find(|e| s(e, "name") == Some("MEDALLION_STARTED_BY"))
                .and_then(|e| s(e, "value"));
            p.check(started_by == Some(expected.as_str()), || {
                format!(
                    "{}: env MEDALLION_STARTED_BY must be {expected}",
                    cronjob.id()
                )
            });
        }
    }
    p.assert_none("metrics ports and run audit");
}
