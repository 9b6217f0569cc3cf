//! The CloudFormation response receiver: a local HTTP server standing in for the pre-signed S3
//! URL a custom resource answers to, recording every request.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::ext::ReasonPhrase;
use hyper::{Request, Response, StatusCode};
use serde_json::Value;
use tokio::sync::Notify;

use super::http_server::{read_body, Answer, LocalServer};
use super::policy_docs::percent_decode;
use super::random_u64;

/// One HTTP request the receiver got.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    /// Path and query, exactly as sent.
    pub path: String,
    /// Names in lower case (as hyper reads them; [`Self::header`] ignores case), values trimmed.
    pub headers: Vec<(String, String)>,
    /// Decoded (a chunked body is de-chunked).
    pub body: Vec<u8>,
    /// The status the receiver answered.
    pub status: u16,
}

impl RecordedRequest {
    /// First header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn body_str(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The `<id>` of `/cfn-response/<id>?...` (percent-decoded).
    pub fn response_id(&self) -> String {
        let path = self.path.split('?').next().unwrap_or("");
        percent_decode(path.rsplit('/').next().unwrap_or(""))
    }

    pub fn query(&self) -> BTreeMap<String, String> {
        self.path
            .split_once('?')
            .map(|(_, q)| q)
            .unwrap_or("")
            .split('&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (percent_decode(k), percent_decode(v))
            })
            .collect()
    }
}

#[derive(Default)]
struct ReceiverState {
    requests: Vec<RecordedRequest>,
    scripted: VecDeque<u16>,
}

/// A tiny HTTP/1.1 server on its own thread (so it keeps answering whatever
/// the test's runtime is doing), recording every request; stopped when dropped.
pub struct Receiver {
    server: LocalServer,
    state: Arc<Mutex<ReceiverState>>,
    notify: Arc<Notify>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let state = Arc::new(Mutex::new(ReceiverState::default()));
        let notify = Arc::new(Notify::new());
        let (s, n) = (state.clone(), notify.clone());
        let server =
            LocalServer::start("cfn-receiver", move |req| record(req, s.clone(), n.clone()));
        Receiver {
            server,
            state,
            notify,
        }
    }

    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// A ResponseURL for `id` that looks like CloudFormation's pre-signed S3 URL:
    /// `http://127.0.0.1:PORT/cfn-response/<id>?X-Amz-Algorithm=AWS4-HMAC-SHA256&...&X-Amz-Signature=<hex>`.
    /// `id` is used as given (it may contain percent-escapes, like real ones).
    pub fn url(&self, id: &str) -> String {
        let signature = format!(
            "{:016x}{:016x}{:016x}{:016x}",
            random_u64(),
            random_u64(),
            random_u64(),
            random_u64()
        );
        format!(
            "http://127.0.0.1:{}/cfn-response/{id}?X-Amz-Algorithm=AWS4-HMAC-SHA256\
             &X-Amz-Date=20260101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Expires=7200\
             &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20260101%2Fus-east-1%2Fs3%2Faws4_request\
             &X-Amz-Signature={signature}",
            self.server.port()
        )
    }

    /// Answer `status` to the next `count` requests (then 200 again).
    pub fn fail_first(&self, count: usize, status: u16) {
        let mut st = self.state.lock().unwrap();
        st.scripted.extend(std::iter::repeat_n(status, count));
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Parsed JSON bodies of every PUT (non-JSON bodies are skipped).
    pub fn responses(&self) -> Vec<Value> {
        self.requests()
            .iter()
            .filter(|r| r.method == "PUT")
            .filter_map(RecordedRequest::json)
            .collect()
    }

    /// Parsed JSON bodies of the PUTs to `url(id)`.
    pub fn responses_for(&self, id: &str) -> Vec<Value> {
        let id = percent_decode(id);
        self.requests()
            .iter()
            .filter(|r| r.method == "PUT" && r.response_id() == id)
            .filter_map(RecordedRequest::json)
            .collect()
    }

    /// Wait until at least `count` requests arrived (or `timeout` passed); returns all so far.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<RecordedRequest> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let got = self.requests();
            if got.len() >= count {
                return got;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.requests();
            }
        }
    }
}

/// The reason phrase of a status the receiver answers.
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// Records one request (the answer is the next scripted status, else 200) and wakes waiters.
async fn record(
    req: Request<Incoming>,
    state: Arc<Mutex<ReceiverState>>,
    notify: Arc<Notify>,
) -> Answer {
    let (parts, body) = req.into_parts();
    // hyper answers `Expect: 100-continue` when the body is read, and decodes a chunked body.
    let body = read_body(body).await?.to_vec();
    let headers = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let status = {
        let mut st = state.lock().unwrap();
        let status = st.scripted.pop_front().unwrap_or(200);
        st.requests.push(RecordedRequest {
            method: parts.method.to_string(),
            path: parts.uri.to_string(),
            headers,
            body,
            status,
        });
        status
    };
    notify.notify_waiters();
    let payload: &'static [u8] = if status < 400 {
        b""
    } else {
        b"<Error><Code>InternalError</Code></Error>"
    };
    let mut response = Response::new(Full::new(Bytes::from_static(payload)));
    *response.status_mut() = StatusCode::from_u16(status).expect("a scripted HTTP status");
    response
        .extensions_mut()
        .insert(ReasonPhrase::from_static(reason(status).as_bytes()));
    Ok(response)
}
