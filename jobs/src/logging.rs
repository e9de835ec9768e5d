//! Logging: human-readable by default, one flat JSON object per line with `--log-format json`.
//! `RUST_LOG` overrides the level filter.
//!
//! A JSON line holds `timestamp`, `level`, `target`, `message`, the event's fields and the fields
//! of every span it happened in, at the top level (a run's span gives each of its lines `run_id`
//! and `job`). The end-of-run event adds the fields of the datamart's log example (seed 002):
//! `application`, `pipeline_duration_seconds`, `tables_exported`, `total_rows_exported`,
//! `data_quality_score`.

use std::fmt;
use std::io::{IsTerminal, Write};
use std::sync::RwLock;

use chrono::{SecondsFormat, Utc};
use serde_json::{Map, Number, Value};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

/// The log line format (`--log-format`); in JSON, a line also holds its spans' fields.
pub use medallion_core::service_logging::LogFormat;

/// Installs the global subscriber, writing to stderr. `verbose` lowers the default level to debug
/// and shows the Ballista client's logs; those of an in-process scheduler and executor are off by
/// default because the client reports every job failure itself.
pub fn init(format: LogFormat, verbose: bool) {
    let default = if verbose {
        "info,medallion=debug,medallion_core=debug,medallion_jobs=debug"
    } else {
        "warn,ballista_scheduler=off,ballista_executor=off,medallion=info,medallion_core=info,medallion_jobs=info"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = match format {
        LogFormat::Human => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(|| MaskingStderr)
            .with_ansi(std::io::stderr().is_terminal())
            .with_target(false)
            .try_init()
            .ok(),
        LogFormat::Json => tracing_subscriber::registry()
            .with(filter)
            .with(FlatJsonLayer)
            .try_init()
            .ok(),
    };
}

/// Secret values (e.g. a pseudonymisation key) that no log line may show.
static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Masks `secret` as `***` in every log line written from now on, whoever logs it (a plan or SQL
/// text logged by DataFusion or Ballista at debug level carries the literal).
pub fn mask_in_logs(secret: &str) {
    if secret.is_empty() {
        return;
    }
    if let Ok(mut secrets) = SECRETS.write()
        && !secrets.iter().any(|s| s == secret)
    {
        secrets.push(secret.to_string());
    }
}

/// `text` with every registered secret replaced by `***`.
fn mask_secrets(text: &str) -> String {
    let mut out = text.to_string();
    if let Ok(secrets) = SECRETS.read() {
        for secret in secrets.iter() {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), "***");
            }
        }
    }
    out
}

/// stderr, with secrets masked; the human format writes each formatted event in one call.
struct MaskingStderr;

impl Write for MaskingStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().write_all(mask_secrets(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// Writes each event as one JSON object on stderr, span fields flattened in (see the module doc).
#[derive(Debug, Clone, Copy, Default)]
pub struct FlatJsonLayer;

/// The fields recorded on a span, kept in its extensions.
struct SpanFields(Map<String, Value>);

/// The name of the span a job run is in (see `run::run_job_waiting`).
const RUN_SPAN: &str = "run";

/// The fields of the open run span, given to events outside any span while the run lasts: the
/// tasks Ballista spawns (shuffle readers, the embedded executor) log without the run's span, and
/// a `medallion` process runs one job at a time.
static OPEN_RUN: std::sync::Mutex<Option<(Id, Map<String, Value>)>> = std::sync::Mutex::new(None);

impl<S> Layer<S> for FlatJsonLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Map::new();
        attrs.record(&mut JsonVisitor(&mut fields));
        if attrs.metadata().name() == RUN_SPAN
            && let Ok(mut open) = OPEN_RUN.lock()
        {
            *open = Some((id.clone(), fields.clone()));
        }
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(fields));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            let mut extensions = span.extensions_mut();
            if let Some(SpanFields(fields)) = extensions.get_mut::<SpanFields>() {
                values.record(&mut JsonVisitor(fields));
            }
        }
    }

    fn on_close(&self, id: Id, _ctx: Context<'_, S>) {
        if let Ok(mut open) = OPEN_RUN.lock()
            && open.as_ref().is_some_and(|(run, _)| *run == id)
        {
            *open = None;
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let line = event_line(event, &ctx).to_string();
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(stderr, "{}", mask_secrets(&line));
    }
}

/// The JSON object of one event: its metadata, the fields of its spans (outermost first), then
/// its own fields (which win over a span's of the same name).
fn event_line<S>(event: &Event<'_>, ctx: &Context<'_, S>) -> Value
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let metadata = event.metadata();
    let mut object = Map::new();
    object.insert(
        "timestamp".into(),
        Utc::now()
            .to_rfc3339_opts(SecondsFormat::Micros, true)
            .into(),
    );
    object.insert("level".into(), metadata.level().as_str().into());
    object.insert("target".into(), metadata.target().into());
    match ctx.event_scope(event) {
        Some(scope) => {
            for span in scope.from_root() {
                if let Some(SpanFields(fields)) = span.extensions().get::<SpanFields>() {
                    object.extend(fields.clone());
                }
            }
        }
        None => {
            if let Ok(open) = OPEN_RUN.lock()
                && let Some((_, fields)) = open.as_ref()
            {
                object.extend(fields.clone());
            }
        }
    }
    event.record(&mut JsonVisitor(&mut object));
    // Records of the `log` crate arrive with their origin as `log.*` fields.
    if let Some(target) = object.remove("log.target") {
        object.insert("target".into(), target);
    }
    object.retain(|key, _| !key.starts_with("log."));
    Value::Object(object)
}

/// Records tracing fields into a JSON map: numbers and booleans as such, the rest as strings.
struct JsonVisitor<'a>(&'a mut Map<String, Value>);

impl Visit for JsonVisitor<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        let value = Number::from_f64(value).map_or(Value::Null, Value::Number);
        self.0.insert(field.name().into(), value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0.insert(field.name().into(), value.to_string().into());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().into(), format!("{value:?}").into());
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A layer capturing the JSON lines of [`FlatJsonLayer`] instead of writing them.
    struct Capture(Arc<Mutex<Vec<Value>>>);

    impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
        fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
            if let Ok(mut lines) = self.0.lock() {
                lines.push(event_line(event, &ctx));
            }
        }
    }

    #[test]
    fn registered_secrets_are_masked() {
        mask_in_logs("k3y-that-must-not-show");
        mask_in_logs("");
        assert_eq!(
            mask_secrets("SELECT pseudonym(id, 'k3y-that-must-not-show')"),
            "SELECT pseudonym(id, '***')"
        );
        assert_eq!(mask_secrets("nothing here"), "nothing here");
    }

    #[test]
    fn span_fields_are_flattened_into_each_line() {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let subscriber = tracing_subscriber::registry()
            .with(FlatJsonLayer)
            .with(Capture(lines.clone()));
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("run", run_id = "r-1", job = "j");
            let _entered = span.enter();
            tracing::info!(rows = 12u64, seconds = 1.5, ok = true, name = %"x", "done");
            tracing::warn!(job = "override", "inner");
        });
        let lines = lines.lock().expect("lines").clone();
        assert_eq!(lines.len(), 2, "{lines:?}");
        let first = &lines[0];
        assert_eq!(first["run_id"], "r-1");
        assert_eq!(first["job"], "j");
        assert_eq!(first["level"], "INFO");
        assert_eq!(first["message"], "done");
        assert_eq!(first["rows"], 12);
        assert_eq!(first["seconds"], 1.5);
        assert_eq!(first["ok"], true);
        assert_eq!(first["name"], "x");
        assert!(
            first["timestamp"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z'))
        );
        assert_eq!(lines[1]["job"], "override");
        assert_eq!(lines[1]["level"], "WARN");

        // an event outside any span (a task Ballista spawned) while a run is open gets its fields
        let lines = Arc::new(Mutex::new(Vec::new()));
        let subscriber = tracing_subscriber::registry()
            .with(FlatJsonLayer)
            .with(Capture(lines.clone()));
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("run", run_id = "r-2", job = "k");
            tracing::error!("from a spawned task");
            drop(span);
            tracing::info!("after the run");
        });
        let lines = lines.lock().expect("lines").clone();
        assert_eq!(lines[0]["run_id"], "r-2", "{lines:?}");
        assert_eq!(lines[0]["job"], "k");
        assert!(lines[1].get("run_id").is_none(), "{lines:?}");
    }
}
