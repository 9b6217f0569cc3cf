//! A fake Lambda Runtime API: hands one event to the function's first poll, records every
//! request with the moment it arrived, and holds later polls open.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::support::{self, harness::HOME_REGION};
use crate::SRC;

pub(crate) struct Hit {
    pub(crate) run: u64,
    pub(crate) at: Instant,
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) body: Vec<u8>,
}

#[derive(Default)]
pub(crate) struct RtState {
    pub(crate) run: u64,
    /// (request id, event) to hand out on the run's first `next`.
    pub(crate) event: Option<(String, String)>,
    pub(crate) hits: Vec<Hit>,
}

pub(crate) struct FakeRuntime {
    pub(crate) port: u16,
    pub(crate) state: Arc<Mutex<RtState>>,
}

impl FakeRuntime {
    pub(crate) fn start() -> FakeRuntime {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind fake runtime API");
        let port = listener.local_addr().expect("runtime API address").port();
        let state: Arc<Mutex<RtState>> = Arc::default();
        let s = state.clone();
        std::thread::Builder::new()
            .name("fake-runtime-api".into())
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    let s = s.clone();
                    let _ = std::thread::Builder::new()
                        .name("fake-runtime-conn".into())
                        .spawn(move || {
                            let _ = serve_runtime(stream, &s);
                        });
                }
            })
            .expect("spawn fake runtime API");
        FakeRuntime { port, state }
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

pub(crate) fn serve_runtime(stream: TcpStream, state: &Mutex<RtState>) -> std::io::Result<()> {
    let mut write = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        if line.trim().is_empty() {
            continue;
        }
        let at = Instant::now();
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_owned();
        let path = parts.next().unwrap_or_default().to_owned();
        let mut len = 0usize;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.trim().eq_ignore_ascii_case("content-length") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; len];
        reader.read_exact(&mut body)?;
        let serve = {
            let mut st = state.lock().unwrap();
            let run = st.run;
            st.hits.push(Hit {
                run,
                at,
                method: method.clone(),
                path: path.clone(),
                body,
            });
            if method == "GET" && path.ends_with("/invocation/next") {
                st.event.take()
            } else {
                None
            }
        };
        if method == "GET" && path.ends_with("/invocation/next") {
            let Some((id, event)) = serve else {
                // Later polls are held open until the process is killed.
                let mut sink = [0u8; 256];
                while reader.get_mut().read(&mut sink)? > 0 {}
                return Ok(());
            };
            let deadline = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis()
                + 60_000;
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: {id}\r\nLambda-Runtime-Deadline-Ms: {deadline}\r\nLambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:{HOME_REGION}:{SRC}:function:s3-replication-provider\r\nLambda-Runtime-Trace-Id: Root=1-00000000-000000000000000000000000;Sampled=0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                event.len()
            );
            write.write_all(head.as_bytes())?;
            write.write_all(event.as_bytes())?;
        } else {
            let body = br#"{"status":"OK"}"#;
            let head = format!(
                "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            write.write_all(head.as_bytes())?;
            write.write_all(body)?;
        }
        write.flush()?;
        return Ok(());
    }
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
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .chain([(
        "AWS_LAMBDA_RUNTIME_API".to_owned(),
        format!("127.0.0.1:{runtime_port}"),
    )])
    .collect()
}
