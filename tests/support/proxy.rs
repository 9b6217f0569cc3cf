//! A fault-injecting HTTP proxy between the handler and moto: every request is forwarded
//! unless a rule matches it, in which case the rule's canned answer is returned instead
//! (an AWS error, a 500, or a dropped connection). Runs on its own thread and runtime so it
//! keeps serving while a test's runtime is blocked ([`LocalServer`]); stopped when dropped.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::ext::ReasonPhrase;
use hyper::header::{HeaderValue, CONNECTION, CONTENT_TYPE};
use hyper::http::request::Parts;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::http_server::{read_body, Answer as Reply, Hangup, LocalServer};

/// One request as the proxy saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub target: String,
    pub head: String,
    pub body: String,
}

impl Seen {
    pub fn contains(&self, needle: &str) -> bool {
        self.target.contains(needle) || self.body.contains(needle) || self.head.contains(needle)
    }
}

/// What a matching rule answers.
#[derive(Debug, Clone)]
pub enum Answer {
    /// An HTTP status with a body (e.g. an AWS error document).
    Status(u16, String),
    /// Close the connection without answering.
    Drop,
    /// A fault, answered in the protocol of the request's service.
    Inject(Fault),
    /// Hold the request for [`HANG`], then close without answering.
    Hang,
}

pub struct Rule {
    pub matches: Box<dyn Fn(&Seen) -> bool + Send + Sync>,
    pub answer: Answer,
    /// How many more times the rule fires; `None`: always.
    pub remaining: Option<usize>,
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    seen: Vec<Seen>,
}

pub struct FaultProxy {
    server: LocalServer,
    state: Arc<Mutex<State>>,
}

impl FaultProxy {
    /// Starts a proxy on a free 127.0.0.1 port forwarding to `upstream_port`.
    pub fn start(upstream_port: u16) -> FaultProxy {
        let state: Arc<Mutex<State>> = Arc::default();
        let s = state.clone();
        let server = LocalServer::start("fault-proxy", move |req| {
            serve(req, upstream_port, s.clone())
        });
        FaultProxy { server, state }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.server.port())
    }

    pub fn add_rule(&self, rule: Rule) {
        self.state.lock().unwrap().rules.push(rule);
    }

    /// Answers `status` with an AWS query-protocol error for requests containing `needle`.
    pub fn fail_matching(&self, needle: &'static str, status: u16, code: &str, message: &str) {
        let body = format!(
            "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>fault</RequestId></ErrorResponse>"
        );
        self.add_rule(Rule {
            matches: Box::new(move |s| s.contains(needle)),
            answer: Answer::Status(status, body),
            remaining: None,
        });
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }
}

async fn serve(req: Request<Incoming>, upstream_port: u16, state: Arc<Mutex<State>>) -> Reply {
    let (parts, body) = req.into_parts();
    let body = read_body(body).await?;
    let seen = Seen {
        method: parts.method.to_string(),
        target: parts.uri.to_string(),
        head: head_text(&parts),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let answer = {
        let mut st = state.lock().unwrap();
        st.seen.push(seen.clone());
        let hit = st
            .rules
            .iter_mut()
            .find(|r| r.remaining != Some(0) && (r.matches)(&seen));
        hit.map(|r| {
            if let Some(n) = r.remaining.as_mut() {
                *n -= 1;
            }
            r.answer.clone()
        })
    };
    let answer = match answer {
        Some(Answer::Inject(fault)) => Some(fault.answer(&seen)),
        other => other,
    };
    match answer {
        Some(Answer::Drop) | Some(Answer::Inject(_)) => Err(Hangup),
        Some(Answer::Hang) => {
            tokio::time::sleep(HANG).await;
            Err(Hangup)
        }
        Some(Answer::Status(status, body)) => {
            let mut response = Response::new(Full::new(Bytes::from(body)));
            *response.status_mut() = StatusCode::from_u16(status).expect("a rule's HTTP status");
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("text/xml"));
            response
                .extensions_mut()
                .insert(ReasonPhrase::from_static(b"Fault"));
            Ok(response)
        }
        None => forward(parts, body, upstream_port).await,
    }
}

/// The request line and header lines as a client sent them (header names as hyper reads them:
/// lower case), without the blank line that ends them.
fn head_text(parts: &Parts) -> String {
    let mut head = format!("{} {} {:?}", parts.method, parts.uri, parts.version);
    for (name, value) in &parts.headers {
        head.push_str(&format!(
            "\r\n{name}: {}",
            String::from_utf8_lossy(value.as_bytes())
        ));
    }
    head
}

/// Sends the request to moto on its own connection (asking moto to close it: one request per
/// connection) and relays moto's answer.
async fn forward(parts: Parts, body: Bytes, upstream_port: u16) -> Reply {
    let upstream = TcpStream::connect(("127.0.0.1", upstream_port))
        .await
        .map_err(|_| Hangup)?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(upstream))
        .await
        .map_err(|_| Hangup)?;
    tokio::spawn(connection);
    let mut request = Request::new(Full::new(body));
    *request.method_mut() = parts.method;
    *request.uri_mut() = parts.uri;
    *request.version_mut() = parts.version;
    *request.headers_mut() = parts.headers;
    request.headers_mut().remove(CONNECTION);
    request
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    let response = sender.send_request(request).await.map_err(|_| Hangup)?;
    let (parts, body) = response.into_parts();
    let body = read_body(body).await?;
    Ok(Response::from_parts(parts, Full::new(body)))
}

/// A class of failure to inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 503 Slow Down / throttling: transient, retried by the SDK.
    Throttle,
    /// 500 Internal Error: transient, retried by the SDK.
    ServerError,
    /// 403 AccessDenied in the service's own error format: permanent.
    AccessDenied,
    /// The connection is closed without an answer: transient.
    Reset,
    /// No answer for [`HANG`]: the SDK's attempt timeout fires and it retries (transient).
    Timeout,
}

/// How long a [`Fault::Timeout`] holds a request unanswered.
pub const HANG: std::time::Duration = std::time::Duration::from_secs(3);

impl Fault {
    pub const ALL: [Fault; 4] = [
        Fault::Throttle,
        Fault::ServerError,
        Fault::AccessDenied,
        Fault::Reset,
    ];

    pub fn transient(self) -> bool {
        self != Fault::AccessDenied
    }

    /// The answer for `seen`, in the protocol of the service it was sent to.
    pub fn answer(self, seen: &Seen) -> Answer {
        let (status, code) = match self {
            Fault::Reset => return Answer::Drop,
            Fault::Timeout => return Answer::Hang,
            Fault::Throttle => (503, "SlowDown"),
            Fault::ServerError => (500, "InternalError"),
            Fault::AccessDenied => (403, "AccessDenied"),
        };
        let message = "injected fault";
        let body = if seen
            .head
            .to_ascii_lowercase()
            .contains("x-amz-target: trentservice")
        {
            let code = if code == "AccessDenied" {
                "AccessDeniedException"
            } else {
                code
            };
            format!(r#"{{"__type":"{code}","message":"{message}"}}"#)
        } else if seen.body.contains("Action=") {
            format!("<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>fault</RequestId></ErrorResponse>")
        } else {
            format!("<Error><Code>{code}</Code><Message>{message}</Message><RequestId>fault</RequestId></Error>")
        };
        Answer::Status(status, body)
    }
}

impl FaultProxy {
    /// Fails the `n`-th request (1-based) the proxy sees from now on with `fault`, once.
    pub fn fail_nth(&self, n: usize, fault: Fault) {
        let counter = std::sync::atomic::AtomicUsize::new(0);
        self.add_rule(Rule {
            matches: Box::new(move |_| {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1 == n
            }),
            answer: Answer::Inject(fault),
            remaining: Some(1),
        });
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.state.lock().unwrap().rules.clear();
    }
}

fn parse_fault(name: &str) -> Fault {
    Fault::ALL
        .into_iter()
        .find(|f| format!("{f:?}") == name)
        .unwrap_or(Fault::ServerError)
}
