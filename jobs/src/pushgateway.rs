//! Pushing a run's metrics to a Prometheus Pushgateway (`--metrics-push URL`,
//! `MEDALLION_PUSHGATEWAY`): one HTTP POST of the text exposition format to
//! `URL/metrics/job/<job>/mode/<mode>`, with a short timeout. A Pushgateway that is down or
//! refuses the push costs the run a warning, never its success. The URL may carry credentials
//! (`https://user:password@host`, sent as basic authentication): they are never logged.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE;
use url::Url;

use crate::run_metrics::RunMetrics;

/// The environment variable standing for `--metrics-push`.
pub const PUSHGATEWAY_ENV: &str = "MEDALLION_PUSHGATEWAY";

/// How long a push may take, connection included.
const PUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a push failed.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The URL is not an http(s) URL.
    #[error("{url} is not an http:// or https:// URL")]
    InvalidUrl {
        /// The URL, credentials masked.
        url: String,
    },
    /// No answer, or a broken connection.
    #[error("pushing to {url}: {source}")]
    Unreachable {
        /// The group's URL, credentials masked.
        url: String,
        /// The client's error (without its URL).
        #[source]
        source: reqwest::Error,
    },
    /// The Pushgateway answered with an error status.
    #[error("pushing to {url}: HTTP {status}: {body}")]
    Refused {
        /// The group's URL, credentials masked.
        url: String,
        /// The status.
        status: u16,
        /// The start of its answer.
        body: String,
    },
}

/// `url` with its user name and password replaced by `***`, for logs.
pub fn redacted(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) => {
            if !parsed.username().is_empty() || parsed.password().is_some() {
                let _ = parsed.set_username("***");
                let _ = parsed.set_password(None);
            }
            parsed.to_string()
        }
        // not a URL: show none of it but its scheme-like start
        Err(_) => "(an invalid URL)".to_string(),
    }
}

/// One path segment pair `/<name>/<value>` of a grouping key; a value the path cannot carry as
/// it is (empty, or with characters other than letters, digits, `-`, `_`, `.`) is sent in
/// base64, as the Pushgateway allows (`/<name>@base64/<value>`).
fn key_segment(name: &str, value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if plain {
        format!("/{name}/{value}")
    } else {
        let encoded = URL_SAFE.encode(value.as_bytes());
        let encoded = if encoded.is_empty() {
            "=".to_string()
        } else {
            encoded
        };
        format!("/{name}@base64/{encoded}")
    }
}

/// The URL of the group `job`, `mode` under the Pushgateway at `base`.
pub fn group_url(base: &str, job: &str, mode: &str) -> Result<Url, PushError> {
    let invalid = || PushError::InvalidUrl {
        url: redacted(base),
    };
    let parsed = Url::parse(base).map_err(|_| invalid())?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(invalid());
    }
    let mut text = parsed.to_string();
    if let Some(start) = text.find(['?', '#']) {
        text.truncate(start);
    }
    let text = format!(
        "{}/metrics{}{}",
        text.trim_end_matches('/'),
        key_segment("job", job),
        key_segment("mode", mode)
    );
    Url::parse(&text).map_err(|_| invalid())
}

/// Pushes `metrics` to the Pushgateway at `base`, replacing the metrics of the same names in the
/// group of its job and mode (POST).
pub async fn push(base: &str, metrics: &RunMetrics) -> Result<(), PushError> {
    let url = group_url(base, &metrics.job, &metrics.mode)?;
    let shown = redacted(url.as_str());
    let unreachable = |e: reqwest::Error| PushError::Unreachable {
        url: shown.clone(),
        source: e.without_url(),
    };
    let client = reqwest::Client::builder()
        .timeout(PUSH_TIMEOUT)
        .connect_timeout(PUSH_TIMEOUT)
        .build()
        .map_err(unreachable)?;
    let response = client
        .post(url)
        .header("Content-Type", "text/plain; version=0.0.4")
        .body(metrics.exposition())
        .send()
        .await
        .map_err(unreachable)?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let body = response.text().await.unwrap_or_default();
    Err(PushError::Refused {
        url: shown,
        status: status.as_u16(),
        body: body.chars().take(200).collect(),
    })
}

/// [`push`], logging the outcome: a failure is a warning, whatever it is.
pub async fn push_or_warn(base: &str, metrics: &RunMetrics) {
    match push(base, metrics).await {
        Ok(()) => tracing::info!(
            pushgateway = %redacted(base),
            job = %metrics.job,
            mode = %metrics.mode,
            "run metrics pushed"
        ),
        Err(e) => tracing::warn!(
            error = %e,
            "could not push the run's metrics to the Pushgateway; the run's outcome is unchanged"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_show() {
        let shown = redacted("https://ops:s3cret@push.example:9091/base");
        assert!(
            !shown.contains("s3cret") && !shown.contains("ops"),
            "{shown}"
        );
        assert_eq!(shown, "https://***@push.example:9091/base");
        assert_eq!(redacted("http://h:9091"), "http://h:9091/");
        assert_eq!(redacted("not a url s3cret"), "(an invalid URL)");
        let err = group_url("ftp://u:s3cret@h/", "j", "full").unwrap_err();
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }

    #[test]
    fn the_group_is_job_and_mode() {
        let url = group_url("http://127.0.0.1:9091", "accidents-datamart", "full").unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9091/metrics/job/accidents-datamart/mode/full"
        );
        let url = group_url("http://h:9091/prefix/?x=1", "a/b", "").unwrap();
        assert_eq!(
            url.as_str(),
            "http://h:9091/prefix/metrics/job@base64/YS9i/mode@base64/="
        );
        assert!(group_url("127.0.0.1:9091", "j", "full").is_err());
    }

    #[tokio::test]
    async fn a_closed_port_is_an_error_not_a_hang() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let metrics = RunMetrics {
            job: "j".into(),
            mode: "full".into(),
            succeeded: true,
            duration_secs: 1.0,
            finished_at: chrono::Utc::now(),
            rows: None,
            expectations: Default::default(),
            schedule: None,
        };
        let started = std::time::Instant::now();
        let err = push(&format!("http://u:pw@127.0.0.1:{port}"), &metrics)
            .await
            .unwrap_err();
        assert!(matches!(err, PushError::Unreachable { .. }), "{err}");
        assert!(!err.to_string().contains("pw"), "{err}");
        assert!(started.elapsed() < PUSH_TIMEOUT * 2);
    }
}
