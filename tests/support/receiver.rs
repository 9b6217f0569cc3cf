//! The CloudFormation response receiver: a local HTTP server standing in for the pre-signed S3
//! URL a custom resource answers to, recording every request.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use super::policy_docs::percent_decode;
use super::random_u64;

/// One HTTP request the receiver got.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    /// Path and query, exactly as sent.
    pub path: String,
    pub headers: Vec<(String, String)>,
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
/// the test's runtime is doing), recording every request.
pub struct Receiver {
    addr: SocketAddr,
    state: Arc<Mutex<ReceiverState>>,
    notify: Arc<Notify>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind receiver");
        listener
            .set_nonblocking(true)
            .expect("nonblocking receiver");
        let addr = listener.local_addr().expect("receiver address");
        let state = Arc::new(Mutex::new(ReceiverState::default()));
        let notify = Arc::new(Notify::new());
        let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
        let (thread_state, thread_notify) = (state.clone(), notify.clone());
        let thread = std::thread::Builder::new()
            .name("cfn-receiver".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("receiver runtime");
                rt.block_on(async move {
                    let listener = TcpListener::from_std(listener).expect("receiver listener");
                    loop {
                        tokio::select! {
                            _ = &mut rx => break,
                            accepted = listener.accept() => {
                                if let Ok((stream, _)) = accepted {
                                    let (s, n) = (thread_state.clone(), thread_notify.clone());
                                    tokio::spawn(async move {
                                        let _ = serve_connection(stream, s, n).await;
                                    });
                                }
                            }
                        }
                    }
                });
            })
            .expect("spawn receiver thread");
        Receiver {
            addr,
            state,
            notify,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
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
            self.addr.port()
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

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

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

async fn serve_connection(
    stream: TcpStream,
    state: Arc<Mutex<ReceiverState>>,
    notify: Arc<Notify>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut line = String::new();
    // request line (skip stray empty lines)
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        if !line.trim().is_empty() {
            break;
        }
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).await? == 0 {
            break;
        }
        let h = h.trim_end_matches(['\r', '\n']);
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    if header("Expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
        write.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
    }
    let mut body = Vec::new();
    if header("Transfer-Encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
        loop {
            let mut size_line = String::new();
            reader.read_line(&mut size_line).await?;
            let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)
                .unwrap_or(0);
            if size == 0 {
                // trailers until the empty line
                loop {
                    let mut t = String::new();
                    if reader.read_line(&mut t).await? == 0 || t.trim().is_empty() {
                        break;
                    }
                }
                break;
            }
            let mut chunk = vec![0; size];
            reader.read_exact(&mut chunk).await?;
            body.extend_from_slice(&chunk);
            let mut crlf = String::new();
            reader.read_line(&mut crlf).await?;
        }
    } else if let Some(len) = header("Content-Length").and_then(|v| v.parse::<usize>().ok()) {
        body = vec![0; len];
        reader.read_exact(&mut body).await?;
    }
    let status = {
        let mut st = state.lock().unwrap();
        let status = st.scripted.pop_front().unwrap_or(200);
        st.requests.push(RecordedRequest {
            method,
            path,
            headers,
            body,
            status,
        });
        status
    };
    notify.notify_waiters();
    let payload: &[u8] = if status < 400 {
        b""
    } else {
        b"<Error><Code>InternalError</Code></Error>"
    };
    let head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reason(status),
        payload.len()
    );
    write.write_all(head.as_bytes()).await?;
    write.write_all(payload).await?;
    write.shutdown().await?;
    Ok(())
}
