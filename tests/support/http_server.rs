//! Local HTTP/1.1 servers on hyper, for the tests' and the bench's stand-ins (the
//! CloudFormation ResponseURL, the fault proxy, the Lambda Runtime API).
//!
//! Each server runs on its own thread with its own current-thread runtime, so it keeps answering
//! whatever the caller's runtime is doing (a test blocked in a synchronous call, a
//! current-thread runtime busy elsewhere), and stops when its [`LocalServer`] is dropped. It
//! answers one request per connection (`connection: close`), as a short-lived stand-in should:
//! nothing is left in a client's pool between tests' steps.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// A whole response body.
pub type Body = Full<Bytes>;

/// A handler's answer: a response, or [`Hangup`].
pub type Answer = Result<Response<Body>, Hangup>;

/// Close the connection without answering: hyper drops a connection whose handler fails,
/// writing nothing.
#[derive(Debug)]
pub struct Hangup;

impl std::fmt::Display for Hangup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection closed without an answer")
    }
}

impl std::error::Error for Hangup {}

/// A server on 127.0.0.1 (a free port) calling one handler per request; stopped on drop.
pub struct LocalServer {
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LocalServer {
    /// Starts serving `handler` on a thread named `name`.
    pub fn start<H, F>(name: &str, handler: H) -> LocalServer
    where
        H: Fn(Request<Incoming>) -> F + Send + Sync + 'static,
        F: Future<Output = Answer> + Send + 'static,
    {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind local server");
        listener
            .set_nonblocking(true)
            .expect("nonblocking local server");
        let addr = listener.local_addr().expect("local server address");
        let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
        let handler = Arc::new(handler);
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("local server runtime");
                rt.block_on(async move {
                    let listener = TcpListener::from_std(listener).expect("local server listener");
                    loop {
                        tokio::select! {
                            _ = &mut rx => break,
                            accepted = listener.accept() => {
                                if let Ok((stream, _)) = accepted {
                                    tokio::spawn(serve(stream, handler.clone()));
                                }
                            }
                        }
                    }
                });
            })
            .expect("spawn local server thread");
        LocalServer {
            addr,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

/// Serves one connection: one request, then close.
async fn serve<H, F>(stream: tokio::net::TcpStream, handler: Arc<H>)
where
    H: Fn(Request<Incoming>) -> F + Send + Sync + 'static,
    F: Future<Output = Answer> + Send + 'static,
{
    let service = service_fn(move |req| handler(req));
    // An error is the client going away or a Hangup: either way the connection is done.
    let _ = http1::Builder::new()
        .keep_alive(false)
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The whole body of a request (or of an upstream response); [`Hangup`] if it cannot be read.
pub async fn read_body(body: Incoming) -> Result<Bytes, Hangup> {
    Ok(body.collect().await.map_err(|_| Hangup)?.to_bytes())
}
