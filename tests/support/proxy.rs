//! A fault-injecting HTTP proxy between the handler and moto: every request is forwarded
//! unless a rule matches it, in which case the rule's canned answer is returned instead
//! (an AWS error, a 500, or a dropped connection). Runs on its own thread and runtime so it
//! keeps serving while a test's runtime is blocked.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

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
    port: u16,
    state: Arc<Mutex<State>>,
}

impl FaultProxy {
    /// Starts a proxy on a free 127.0.0.1 port forwarding to `upstream_port`.
    pub fn start(upstream_port: u16) -> FaultProxy {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        listener.set_nonblocking(true).expect("nonblocking proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let state: Arc<Mutex<State>> = Arc::default();
        let thread_state = state.clone();
        std::thread::Builder::new()
            .name("fault-proxy".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("proxy runtime");
                rt.block_on(async move {
                    let listener = TcpListener::from_std(listener).expect("proxy listener");
                    while let Ok((stream, _)) = listener.accept().await {
                        let s = thread_state.clone();
                        tokio::spawn(async move {
                            let _ = serve(stream, upstream_port, s).await;
                        });
                    }
                });
            })
            .expect("spawn proxy thread");
        FaultProxy { port, state }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
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

async fn serve(
    mut client: TcpStream,
    upstream_port: u16,
    state: Arc<Mutex<State>>,
) -> std::io::Result<()> {
    let Some(raw) = read_request(&mut client).await? else {
        return Ok(());
    };
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let body = String::from_utf8_lossy(raw.get(split + 4..).unwrap_or_default()).to_string();
    let mut first = head.lines().next().unwrap_or_default().split_whitespace();
    let seen = Seen {
        method: first.next().unwrap_or_default().to_owned(),
        target: first.next().unwrap_or_default().to_owned(),
        head: head.clone(),
        body,
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
        Some(Answer::Drop) | Some(Answer::Inject(_)) => Ok(()),
        Some(Answer::Hang) => {
            tokio::time::sleep(HANG).await;
            Ok(())
        }
        Some(Answer::Status(status, body)) => {
            let resp = format!(
                "HTTP/1.1 {status} Fault\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            client.write_all(resp.as_bytes()).await
        }
        None => {
            let mut upstream = TcpStream::connect(("127.0.0.1", upstream_port)).await?;
            // One request per connection: ask moto to close, so its answer ends at EOF.
            let head = head
                .lines()
                .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
                .collect::<Vec<_>>()
                .join("\r\n");
            upstream
                .write_all(format!("{head}\r\nConnection: close\r\n\r\n").as_bytes())
                .await?;
            upstream
                .write_all(raw.get(split + 4..).unwrap_or_default())
                .await?;
            let mut resp = Vec::new();
            upstream.read_to_end(&mut resp).await?;
            client.write_all(&resp).await
        }
    }
}

/// Reads one request (headers and a Content-Length body); `None` on an empty connection.
async fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok((!buf.is_empty()).then_some(buf));
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(split) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..split]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| {
                    l.strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if buf.len() >= split + 4 + len {
                return Ok(Some(buf));
            }
        }
    }
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
