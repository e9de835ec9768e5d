//! The HTTP server of `medallion ui`: its routes, each reading the sink or the scheduler when
//! asked, and nothing else (no cache, no write).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Json, Response};
use axum::routing::get;
use medallion_core::sink::{GoldSink, open_sink};
use medallion_core::{Error, Result};

use super::args::UiArgs;
use super::pages::{self, Sources};
use super::runs::{by_job, recent_runs};
use crate::scheduler_api::SchedulerApi;

/// How many runs the overview reads at most (the charts' runs of every job come from these).
const RUNS_READ: u32 = 2000;

/// What every request reads from.
#[derive(Clone)]
struct UiState {
    sink: Arc<dyn GoldSink>,
    scheduler: Option<SchedulerApi>,
    sources: Sources,
    runs_per_job: usize,
}

/// Serves the page until the process is stopped.
pub async fn serve(args: UiArgs) -> Result<()> {
    let sink: Arc<dyn GoldSink> = Arc::from(open_sink(&args.sink)?);
    let scheduler = args
        .scheduler
        .as_deref()
        .map(SchedulerApi::new)
        .transpose()?;
    let state = UiState {
        sources: Sources {
            sink: sink.describe(),
            scheduler: scheduler.as_ref().map(|s| s.scheduler().to_string()),
        },
        sink,
        scheduler,
        runs_per_job: args.runs_per_job as usize,
    };
    let address = SocketAddr::new(args.bind, args.port);
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| Error::invalid("--bind/--port", format!("cannot listen on {address}: {e}")))?;
    let bound = listener
        .local_addr()
        .map_err(|e| Error::invalid("--bind/--port", e.to_string()))?;
    tracing::info!(address = %bound, sink = %state.sources.sink, "medallion ui listening");
    println!("medallion ui on http://{bound}/");
    axum::serve(listener, router(state))
        .await
        .map_err(|e| Error::io("serving", address.to_string(), e))
}

fn router(state: UiState) -> Router {
    Router::new()
        .route("/", get(overview))
        .route("/run/{run_id}", get(run_page))
        .route("/api/running", get(running))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(state)
}

/// An error page, for a sink that cannot be read.
fn error_page(sources: &Sources, error: &Error) -> Response {
    let body = format!(
        "<section><h2>Cannot read the runs</h2><p class=\"error-line\">{}</p></section>",
        super::html::escape(&error.to_string())
    );
    let html = super::html::page("error", &sources.subtitle(), &body, "");
    (StatusCode::BAD_GATEWAY, Html(html)).into_response()
}

async fn overview(State(state): State<UiState>) -> Response {
    match recent_runs(state.sink.as_ref(), RUNS_READ).await {
        Ok(runs) => {
            let jobs = by_job(&runs, state.runs_per_job);
            Html(pages::overview(&state.sources, &jobs, &runs)).into_response()
        }
        Err(e) => error_page(&state.sources, &e),
    }
}

async fn run_page(State(state): State<UiState>, Path(run_id): Path<String>) -> Response {
    match recent_runs(state.sink.as_ref(), RUNS_READ).await {
        Ok(runs) => match runs.iter().find(|r| r.run_id == run_id) {
            Some(run) => Html(pages::run_page(&state.sources, run)).into_response(),
            None => (
                StatusCode::NOT_FOUND,
                Html(pages::not_found(&state.sources, &run_id)),
            )
                .into_response(),
        },
        Err(e) => error_page(&state.sources, &e),
    }
}

/// `{"jobs": [...], "error": null}`: the scheduler's queued and running jobs, or why they are
/// unknown.
async fn running(State(state): State<UiState>) -> Json<serde_json::Value> {
    let Some(api) = &state.scheduler else {
        return Json(serde_json::json!({
            "jobs": [],
            "error": "no scheduler given (medallion ui --scheduler df://HOST:PORT)"
        }));
    };
    match api.running_jobs().await {
        Ok(jobs) => Json(serde_json::json!({ "jobs": jobs, "error": null })),
        Err(e) => Json(serde_json::json!({ "jobs": [], "error": e.to_string() })),
    }
}
