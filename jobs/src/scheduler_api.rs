//! The client of the Ballista scheduler's REST API (served on its gRPC port by
//! `medallion-scheduler`): the jobs it knows with their stage progress, and cancelling one
//! (`PATCH /api/job/{id}`). Used by `medallion jobs --running`, `medallion cancel` and
//! `medallion ui`.

use std::time::Duration;

pub use ballista_api_types::dto::JobResponse;
use medallion_core::cluster::SchedulerUrl;
use medallion_core::error::first_line;
use medallion_core::{Error, Result};

/// How long a request to the scheduler may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What the scheduler answered to a cancellation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelOutcome {
    /// The job was queued or running; the scheduler is cancelling it.
    Cancelled,
    /// The job had already ended (the scheduler's reason, e.g. "The job is already completed").
    AlreadyEnded(String),
    /// The scheduler knows no such job.
    Unknown,
}

/// The REST API of one scheduler.
#[derive(Debug, Clone)]
pub struct SchedulerApi {
    url: SchedulerUrl,
    client: reqwest::Client,
}

impl SchedulerApi {
    /// The API of the scheduler at `url` (`df://host:port`: the REST API shares the gRPC port).
    pub fn new(url: &str) -> Result<Self> {
        let url = SchedulerUrl::parse(url)?;
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .no_proxy()
            .build()
            .map_err(|e| unreachable(&url, e))?;
        Ok(Self { url, client })
    }

    /// The scheduler, `df://host:port`.
    pub fn scheduler(&self) -> &SchedulerUrl {
        &self.url
    }

    fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.url.grpc_url())
    }

    /// Sends `request` and reads the whole answer: its status and body (the scheduler is
    /// unreachable when either fails).
    async fn exchange(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<(reqwest::StatusCode, bytes::Bytes)> {
        let response = request
            .send()
            .await
            .map_err(|e| unreachable(&self.url, e))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| unreachable(&self.url, e))?;
        Ok((status, body))
    }

    /// Every job the scheduler knows (running ones, and finished ones until its
    /// `--finished-job-state-clean-up-interval-seconds`), newest first.
    pub async fn jobs(&self) -> Result<Vec<JobResponse>> {
        let (status, body) = self
            .exchange(self.client.get(self.endpoint("/api/jobs")))
            .await?;
        if !status.is_success() {
            return Err(unexpected(&self.url, status, &body));
        }
        let mut jobs: Vec<JobResponse> = serde_json::from_slice(&body).map_err(|e| {
            unreachable(
                &self.url,
                format!("GET /api/jobs did not return Ballista jobs: {e}"),
            )
        })?;
        jobs.sort_by(|a, b| {
            b.start_time
                .cmp(&a.start_time)
                .then(a.job_id.cmp(&b.job_id))
        });
        Ok(jobs)
    }

    /// The jobs still queued or running, newest first.
    pub async fn running_jobs(&self) -> Result<Vec<JobResponse>> {
        let mut jobs = self.jobs().await?;
        jobs.retain(is_unfinished);
        Ok(jobs)
    }

    /// Asks the scheduler to cancel job `job_id`.
    pub async fn cancel(&self, job_id: &str) -> Result<CancelOutcome> {
        let path = format!("/api/job/{}", encode_segment(job_id));
        let (status, body) = self
            .exchange(self.client.patch(self.endpoint(&path)))
            .await?;
        match status.as_u16() {
            200 => Ok(CancelOutcome::Cancelled),
            404 => Ok(CancelOutcome::Unknown),
            409 => {
                let reason = serde_json::from_slice::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v.get("reason").and_then(|r| r.as_str()).map(str::to_string))
                    .unwrap_or_else(|| "the job has ended".to_string());
                Ok(CancelOutcome::AlreadyEnded(reason))
            }
            _ => Err(unexpected(&self.url, status, &body)),
        }
    }
}

/// Whether the scheduler reports `job` queued or running.
pub fn is_unfinished(job: &JobResponse) -> bool {
    matches!(job.status.as_str(), "Queued" | "Running")
}

/// `text` with every byte but unreserved URL characters percent-encoded, for one path segment.
fn encode_segment(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn unreachable(url: &SchedulerUrl, message: impl std::fmt::Display) -> Error {
    Error::Unreachable {
        what: "Ballista scheduler REST API",
        location: url.grpc_url(),
        message: first_line(&message.to_string()),
    }
}

/// An answer the API does not give (a scheduler built without Ballista's `rest-api` feature
/// answers 404 to every `/api` path).
fn unexpected(url: &SchedulerUrl, status: reqwest::StatusCode, body: &[u8]) -> Error {
    let text = String::from_utf8_lossy(body);
    unreachable(
        url,
        format!(
            "HTTP {status}: {} (is it a medallion-scheduler with the REST API?)",
            first_line(text.trim())
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: &str, status: &str) -> JobResponse {
        serde_json::from_value(serde_json::json!({
            "job_id": id, "job_name": "accidents-datamart", "job_status": status,
            "status": status, "num_stages": 4, "completed_stages": 1,
            "percent_complete": 25, "start_time": 1, "end_time": 0
        }))
        .expect("a JobResponse")
    }

    #[test]
    fn queued_and_running_jobs_are_unfinished() {
        assert!(is_unfinished(&job("a", "Running")));
        assert!(is_unfinished(&job("b", "Queued")));
        assert!(!is_unfinished(&job("c", "Completed")));
        assert!(!is_unfinished(&job("d", "Failed")));
    }

    #[test]
    fn job_ids_are_one_path_segment() {
        assert_eq!(encode_segment("Zk3f9aQ"), "Zk3f9aQ");
        assert_eq!(encode_segment("a/b c"), "a%2Fb%20c");
    }

    #[test]
    fn the_api_is_on_the_scheduler_port() {
        let api = SchedulerApi::new("df://sched:6000").expect("api");
        assert_eq!(api.endpoint("/api/jobs"), "http://sched:6000/api/jobs");
        assert!(SchedulerApi::new("ftp://x").is_err());
    }
}
