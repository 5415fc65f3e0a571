//! The simulator's HTTP/1.1 server, on hyper: serves a handler's answers, and misbehaves on
//! purpose when told to (resets a connection, answers slowly). Knows nothing of DLI.

use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Body, Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinSet;

/// The largest request body accepted; a longer one is answered 413.
const MAX_BODY: usize = 4 * 1024 * 1024;

/// One request as received: `path` and `query` exactly as on the wire (still %-escaped).
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What to send back.
#[derive(Debug, Clone)]
pub enum Response {
    Reply {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        /// Wait this long before answering (a slow backend).
        delay: Duration,
    },
    /// Close the connection without an answer (RST).
    Reset,
}

impl Response {
    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Response::Reply {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: value.to_string().into_bytes(),
            delay: Duration::ZERO,
        }
    }

    pub fn raw(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Response::Reply {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        if let Response::Reply { headers, .. } = &mut self {
            headers.push((name.into(), value.into()));
        }
        self
    }

    pub fn delayed(mut self, by: Duration) -> Self {
        if let Response::Reply { delay, .. } = &mut self {
            *delay = by;
        }
        self
    }
}

type HyperResponse = hyper::Response<Full<Bytes>>;

/// Serve `listener` until this future is dropped; each request goes to `handler`.
///
/// The connections are tasks of a `JoinSet` owned here, so dropping (or aborting) this future
/// ends every connection it accepted, keep-alive ones included.
pub async fn serve<H>(listener: TcpListener, handler: Arc<H>)
where
    H: Fn(Request) -> Response + Send + Sync + 'static,
{
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(connection(stream, Arc::clone(&handler)));
                }
                // E.g. out of file descriptors: give the open connections a moment.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            // Reap finished connections, so the set does not grow without bound.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// Serve one connection until the client closes it, or until the handler asks for a reset.
async fn connection<H>(stream: TcpStream, handler: Arc<H>)
where
    H: Fn(Request) -> Response + Send + Sync + 'static,
{
    // A second handle on the same socket, kept out of hyper's hands, to set a zero linger on
    // before a reset: then the last close sends a RST instead of a FIN.
    let Ok((stream, twin)) = twin_handles(stream) else {
        return;
    };
    let reset = Arc::new(Notify::new());
    let service = {
        let reset = Arc::clone(&reset);
        service_fn(move |req: hyper::Request<Incoming>| {
            let handler = Arc::clone(&handler);
            let reset = Arc::clone(&reset);
            async move {
                let answer = match receive(req).await {
                    Ok(req) => handler(req),
                    Err(refusal) => refusal,
                };
                match answer {
                    Response::Reset => {
                        // Never answer: the connection is dropped (below) as soon as it is
                        // told to.
                        reset.notify_one();
                        std::future::pending::<Result<HyperResponse, Infallible>>().await
                    }
                    Response::Reply {
                        status,
                        headers,
                        body,
                        delay,
                    } => {
                        if !delay.is_zero() {
                            tokio::time::sleep(delay).await;
                        }
                        Ok(to_hyper(status, &headers, body))
                    }
                }
            }
        })
    };
    let mut builder = http1::Builder::new();
    // No timer, so no header read timeout (hyper's default of 30 s would also close idle
    // keep-alive connections): a connection stays open for as long as the client keeps it,
    // and the waiter's pooled connections are never closed under it mid-test.
    builder.header_read_timeout(None);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        // The client closed the connection, or it broke: nothing more to do.
        _ = conn => {}
        () = reset.notified() => {
            if let Ok(twin) = TcpStream::from_std(twin) {
                let _ = twin.set_zero_linger();
            }
            // Both handles are closed on the way out (hyper's with the connection), the last
            // one with the zero linger set: a RST, and no HTTP answer.
        }
    }
}

/// The stream, and a duplicate handle on its socket.
fn twin_handles(stream: TcpStream) -> std::io::Result<(TcpStream, std::net::TcpStream)> {
    let stream = stream.into_std()?;
    let twin = stream.try_clone()?;
    Ok((TcpStream::from_std(stream)?, twin))
}

/// A hyper request as the handler's [`Request`], its body read whole (up to [`MAX_BODY`],
/// chunked or not); or the answer refusing it.
async fn receive(req: hyper::Request<Incoming>) -> Result<Request, Response> {
    let (parts, body) = req.into_parts();
    let target = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (target.to_string(), None),
    };
    let too_large = || Response::raw(413, "text/plain", "request body too large");
    // A Content-Length over the limit is refused before any of the body is read.
    if !usize::try_from(body.size_hint().lower()).is_ok_and(|n| n <= MAX_BODY) {
        return Err(too_large());
    }
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes().to_vec(),
        Err(e) if e.is::<LengthLimitError>() => return Err(too_large()),
        Err(_) => {
            return Err(Response::raw(
                400,
                "text/plain",
                "could not read the request body",
            ));
        }
    };
    let headers = parts
        .headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    Ok(Request {
        method: parts.method.as_str().to_string(),
        path,
        query,
        headers,
        body,
    })
}

/// A reply as hyper's response (which adds `Content-Length`). A status or header hyper cannot
/// send (a scenario's typo) becomes a 500 that says so, rather than a panic.
fn to_hyper(status: u16, headers: &[(String, String)], body: Vec<u8>) -> HyperResponse {
    let mut builder = hyper::Response::builder().status(status);
    for (name, value) in headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    builder
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|e| {
            let mut resp = hyper::Response::new(Full::new(Bytes::from(format!(
                "the simulator cannot send this answer: {e}"
            ))));
            *resp.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
            resp
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;
    use std::time::Instant;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Serve `handler` on a free loopback port; the server stops when the handle is dropped.
    async fn server<H>(handler: H) -> (SocketAddr, AbortOnDrop)
    where
        H: Fn(Request) -> Response + Send + Sync + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(serve(listener, Arc::new(handler)));
        (addr, AbortOnDrop(task))
    }

    struct AbortOnDrop(tokio::task::JoinHandle<()>);

    impl Drop for AbortOnDrop {
        fn drop(&mut self) {
            self.0.abort();
        }
    }

    /// Send `raw` on a fresh connection and read until the server closes it (5 s at most).
    async fn exchange(addr: SocketAddr, raw: &[u8]) -> std::io::Result<String> {
        let mut conn = TcpStream::connect(addr).await?;
        conn.write_all(raw).await?;
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), conn.read_to_end(&mut answer))
            .await
            .expect("the server closes the connection within 5 s")?;
        Ok(String::from_utf8_lossy(&answer).into_owned())
    }

    fn echo(req: Request) -> Response {
        Response::raw(
            200,
            "text/plain",
            format!(
                "{} {} {:?} {}",
                req.method,
                req.path,
                req.query,
                String::from_utf8_lossy(&req.body)
            ),
        )
    }

    #[tokio::test]
    async fn path_and_query_stay_as_on_the_wire() {
        let (addr, _server) = server(echo).await;
        let answer = exchange(
            addr,
            b"GET /v1.0/a%2Fb/jobs?x=%20y&z HTTP/1.1\r\nHost: sim\r\nConnection: close\r\n\r\n",
        )
        .await
        .unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(
            answer.ends_with("GET /v1.0/a%2Fb/jobs Some(\"x=%20y&z\") "),
            "{answer}"
        );
    }

    #[tokio::test]
    async fn chunked_bodies_are_read() {
        let (addr, _server) = server(echo).await;
        let answer = exchange(
            addr,
            b"POST /submit HTTP/1.1\r\nHost: sim\r\nConnection: close\r\n\
              Transfer-Encoding: chunked\r\n\r\n3\r\n{\"a\r\n5\r\n\":1}\n\r\n0\r\n\r\n",
        )
        .await
        .unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(
            answer.ends_with("POST /submit None {\"a\":1}\n"),
            "{answer}"
        );
    }

    #[tokio::test]
    async fn bodies_over_the_limit_are_refused_unread() {
        let (addr, _server) = server(|_| panic!("the handler must not see it")).await;
        let raw = format!(
            "POST /submit HTTP/1.1\r\nHost: sim\r\nContent-Length: {}\r\n\r\n",
            MAX_BODY + 1
        );
        let answer = exchange(addr, raw.as_bytes()).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    }

    #[tokio::test]
    async fn a_reset_sends_rst_and_no_answer() {
        let (addr, _server) = server(|req: Request| {
            if req.path == "/reset" {
                Response::Reset
            } else {
                echo(req)
            }
        })
        .await;
        let got = exchange(addr, b"GET /reset HTTP/1.1\r\nHost: sim\r\n\r\n").await;
        match got {
            Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
            Ok(answer) => panic!("expected a connection reset, got {answer:?}"),
        }
        // The same through an HTTP client: an error, no status, and not a timeout.
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        let err = client
            .get(format!("http://{addr}/reset"))
            .send()
            .await
            .expect_err("a reset is no answer");
        assert!(!err.is_timeout() && err.status().is_none(), "{err:?}");
        // The server goes on serving other connections.
        let answer = exchange(
            addr,
            b"GET /fine HTTP/1.1\r\nHost: sim\r\nConnection: close\r\n\r\n",
        )
        .await
        .unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }

    #[tokio::test]
    async fn delayed_replies_come_late() {
        let (addr, _server) = server(|_| {
            Response::raw(200, "text/plain", "slow").delayed(Duration::from_millis(300))
        })
        .await;
        let started = Instant::now();
        let answer = exchange(
            addr,
            b"GET / HTTP/1.1\r\nHost: sim\r\nConnection: close\r\n\r\n",
        )
        .await
        .unwrap();
        assert!(started.elapsed() >= Duration::from_millis(300));
        assert!(
            answer.starts_with("HTTP/1.1 200") && answer.ends_with("slow"),
            "{answer}"
        );
    }

    #[tokio::test]
    async fn unsendable_replies_become_500() {
        let (addr, _server) = server(|req: Request| {
            if req.path == "/status" {
                Response::raw(42, "text/plain", "no such status")
            } else {
                Response::raw(200, "text/plain", "bad header").with_header("X-Bad", "a\nb")
            }
        })
        .await;
        for path in ["/status", "/header"] {
            let raw = format!("GET {path} HTTP/1.1\r\nHost: sim\r\nConnection: close\r\n\r\n");
            let answer = exchange(addr, raw.as_bytes()).await.unwrap();
            assert!(answer.starts_with("HTTP/1.1 500"), "{path}: {answer}");
        }
    }
}
