//! A fake Lambda Runtime API: hands one event to the function's first poll, records every
//! request with the moment it arrived, and holds later polls open. Served by
//! [`LocalServer`] (hyper) on its own thread.

use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};
use serde_json::Value;

use crate::support;
use crate::support::harness::HOME_REGION;
use crate::support::http_server::{read_body, Answer, Body, LocalServer};
use crate::SRC;

struct Hit {
    run: u64,
    at: Instant,
    method: String,
    path: String,
    body: Vec<u8>,
}

#[derive(Default)]
struct RtState {
    run: u64,
    /// (request id, event) to hand out on the run's first `next`.
    event: Option<(String, String)>,
    hits: Vec<Hit>,
}

pub(crate) struct FakeRuntime {
    server: LocalServer,
    state: Arc<Mutex<RtState>>,
}

impl FakeRuntime {
    pub(crate) fn start() -> FakeRuntime {
        let state: Arc<Mutex<RtState>> = Arc::default();
        let s = state.clone();
        let server =
            LocalServer::start("fake-runtime-api", move |req| serve_runtime(req, s.clone()));
        FakeRuntime { server, state }
    }

    pub(crate) fn port(&self) -> u16 {
        self.server.port()
    }

    pub(crate) fn arm(&self, run: u64, request_id: &str, event: &Value) {
        let mut st = self.state.lock().unwrap();
        st.run = run;
        st.event = Some((request_id.to_owned(), event.to_string()));
    }

    /// How far run `run` got.
    pub(crate) fn progress(&self, run: u64) -> Progress {
        let st = self.state.lock().unwrap();
        let mine: Vec<&Hit> = st.hits.iter().filter(|h| h.run == run).collect();
        let nexts: Vec<&&Hit> = mine
            .iter()
            .filter(|h| h.method == "GET" && h.path.ends_with("/invocation/next"))
            .collect();
        let response = mine
            .iter()
            .find(|h| h.method == "POST" && h.path.contains("/invocation/"))
            .map(|h| (h.at, h.body.clone()));
        Progress {
            first_poll: nexts.first().map(|h| h.at),
            response,
            polling_again: nexts.len() >= 2,
        }
    }
}

/// What the fake Runtime API saw of one run.
pub(crate) struct Progress {
    /// When the first `GET …/invocation/next` was read.
    pub(crate) first_poll: Option<Instant>,
    /// When the function's result was POSTed, and its body.
    pub(crate) response: Option<(Instant, Vec<u8>)>,
    /// A second `next` arrived: the loop went back to polling.
    pub(crate) polling_again: bool,
}

/// Records one request; the run's first `next` gets the armed event, later ones are held open
/// (until the process is killed), anything else (the function's result) is accepted.
async fn serve_runtime(req: Request<Incoming>, state: Arc<Mutex<RtState>>) -> Answer {
    let at = Instant::now();
    let (parts, body) = req.into_parts();
    let body = read_body(body).await?.to_vec();
    let method = parts.method.to_string();
    let path = parts.uri.to_string();
    let next = method == "GET" && path.ends_with("/invocation/next");
    let serve = {
        let mut st = state.lock().unwrap();
        let run = st.run;
        st.hits.push(Hit {
            run,
            at,
            method,
            path,
            body,
        });
        if next {
            st.event.take()
        } else {
            None
        }
    };
    if !next {
        return Ok(json_response(
            StatusCode::ACCEPTED,
            Bytes::from_static(br#"{"status":"OK"}"#),
        ));
    }
    let Some((id, event)) = serve else {
        // Later polls are held open until the process is killed.
        return std::future::pending().await;
    };
    let deadline = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
        + 60_000;
    let mut response = json_response(StatusCode::OK, Bytes::from(event));
    let headers = response.headers_mut();
    let mut set = |name: &'static str, value: String| {
        headers.insert(name, HeaderValue::from_str(&value).expect("header value"));
    };
    set("lambda-runtime-aws-request-id", id);
    set("lambda-runtime-deadline-ms", deadline.to_string());
    set(
        "lambda-runtime-invoked-function-arn",
        format!("arn:aws:lambda:{HOME_REGION}:{SRC}:function:s3-replication-provider"),
    );
    set(
        "lambda-runtime-trace-id",
        "Root=1-00000000-000000000000000000000000;Sampled=0".to_owned(),
    );
    Ok(response)
}

fn json_response(status: StatusCode, body: Bytes) -> Response<Body> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// The environment Lambda gives a `provided.al2023` function (nothing else is inherited).
pub(crate) fn lambda_env(runtime_port: u16) -> Vec<(String, String)> {
    [
        ("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin"),
        ("LANG", "en_US.UTF-8"),
        ("TZ", ":UTC"),
        ("LAMBDA_TASK_ROOT", "/var/task"),
        ("LAMBDA_RUNTIME_DIR", "/var/runtime"),
        ("_HANDLER", "bootstrap"),
        ("AWS_REGION", HOME_REGION),
        ("AWS_DEFAULT_REGION", HOME_REGION),
        ("AWS_LAMBDA_FUNCTION_NAME", "s3-replication-provider"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME",
            "/aws/lambda/s3-replication-provider",
        ),
        (
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "2026/01/01/[$LATEST]0123456789abcdef",
        ),
        ("AWS_ACCESS_KEY_ID", "ASIAEXAMPLEEXAMPLE00"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_SESSION_TOKEN", "testing"),
        // The answer goes to the harness's local receiver.
        (
            "PROVIDER_ALLOWED_RESPONSE_URL_PREFIXES",
            support::LOCAL_RESPONSE_URLS,
        ),
        // Its events name stacks no CloudFormation runs.
        ("PROVIDER_VERIFY_STACK_EVENTS", "false"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .chain([(
        "AWS_LAMBDA_RUNTIME_API".to_owned(),
        format!("127.0.0.1:{runtime_port}"),
    )])
    .collect()
}
