//! Delivering the response: an HTTP PUT of the JSON body to the pre-signed `ResponseURL`, with
//! an empty `Content-Type` (anything else breaks the URL's signature), retried on failure until
//! the answer deadline.

use std::time::{Duration, Instant};

use crate::redact::{loggable, redact};

#[derive(Debug, thiserror::Error)]
#[error("could not deliver the response to {url} after {attempts} attempt(s): {last}")]
pub struct DeliveryError {
    /// The URL without its query string (which holds the signature).
    pub url: String,
    pub attempts: u32,
    pub last: String,
}

/// PUTs `body` to `url`, retrying connection errors and non-2xx answers with backoff until
/// `until`; at most 8 attempts.
pub async fn deliver(
    client: &reqwest::Client,
    url: &str,
    body: String,
    until: Instant,
) -> Result<(), DeliveryError> {
    let mut attempts = 0;
    let mut last;
    loop {
        attempts += 1;
        let left = until.saturating_duration_since(Instant::now());
        let request = client
            .put(url)
            .header("Content-Type", "")
            .header("Content-Length", body.len())
            .timeout(left.clamp(Duration::from_millis(100), Duration::from_secs(10)))
            .body(body.clone());
        match request.send().await {
            Ok(resp) if resp.status().is_success() => {
                tracing::info!(url = %loggable(url), attempts, "response delivered");
                return Ok(());
            }
            Ok(resp) => last = format!("HTTP {}", resp.status()),
            Err(e) => last = redact(&format!("{e}")),
        }
        let wait = crate::time::backoff(attempts).min(Duration::from_secs(2));
        if attempts >= 8 || Instant::now() + wait >= until {
            let err = DeliveryError {
                url: loggable(url),
                attempts,
                last,
            };
            tracing::error!(error = %err, "response not delivered");
            return Err(err);
        }
        tracing::warn!(url = %loggable(url), attempts, error = %last, "response delivery failed; retrying");
        tokio::time::sleep(wait).await;
    }
}
