//! A deliberately small HTTP/1.1 server for the simulator: enough to serve DLI's JSON API, and
//! to misbehave on purpose (reset a connection, answer slowly). Knows nothing of DLI.

use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const MAX_HEAD: usize = 64 * 1024;
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

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// Serve `listener` until the task is dropped; each request goes to `handler`.
pub async fn serve<H>(listener: TcpListener, handler: Arc<H>)
where
    H: Fn(Request) -> Response + Send + Sync + 'static,
{
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let handler = Arc::clone(&handler);
        tokio::spawn(async move {
            let _ = connection(stream, handler).await;
        });
    }
}

async fn connection<H>(mut stream: TcpStream, handler: Arc<H>) -> std::io::Result<()>
where
    H: Fn(Request) -> Response,
{
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    loop {
        let req = match read_request(&mut stream, &mut buf).await? {
            Parsed::Request(r) => r,
            Parsed::Closed => return Ok(()),
            Parsed::Bad(status, msg) => {
                write_reply(&mut stream, status, &[], msg.as_bytes(), true).await?;
                return Ok(());
            }
        };
        let close = req
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        match handler(req) {
            Response::Reset => {
                let _ = stream.set_zero_linger();
                return Ok(());
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
                write_reply(&mut stream, status, &headers, &body, close).await?;
                if close {
                    return Ok(());
                }
            }
        }
    }
}

enum Parsed {
    Request(Request),
    Closed,
    Bad(u16, String),
}

async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<Parsed> {
    loop {
        match parse_request(buf) {
            Err((status, why)) => return Ok(Parsed::Bad(status, why)),
            Ok(Some((req, used))) => {
                buf.drain(..used);
                return Ok(Parsed::Request(req));
            }
            Ok(None) => {}
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(Parsed::Closed);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Parse one whole request (head, then a `Content-Length` body) from the front of `buf`:
/// `Ok(None)` while more bytes are needed, `Ok(Some((request, bytes used)))`, or the status
/// and reason to refuse it with. Pure, so it can be fuzzed.
pub fn parse_request(buf: &[u8]) -> Result<Option<(Request, usize)>, (u16, String)> {
    match parse_head(buf) {
        Err(e) => Err((400, format!("bad request: {e}"))),
        Ok(None) if buf.len() > MAX_HEAD => Err((413, "request head too large".into())),
        Ok(None) => Ok(None),
        Ok(Some(Head::Bad(status, why))) => Err((status, why)),
        Ok(Some(Head::Complete(head_len, mut req, content_length))) => {
            if content_length > MAX_BODY {
                return Err((413, "body too large".into()));
            }
            let end = head_len + content_length;
            if buf.len() < end {
                return Ok(None);
            }
            req.body = buf[head_len..end].to_vec();
            Ok(Some((req, end)))
        }
    }
}

enum Head {
    Complete(usize, Request, usize),
    Bad(u16, String),
}

/// Parse a request head from `buf`; `None` while it is incomplete.
fn parse_head(buf: &[u8]) -> std::io::Result<Option<Head>> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut parsed = httparse::Request::new(&mut headers);
    let n = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Ok(Some(Head::Bad(400, format!("bad request: {e}")))),
    };
    let method = parsed.method.unwrap_or("GET").to_string();
    let target = parsed.path.unwrap_or("/");
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (target.to_string(), None),
    };
    let mut hs = Vec::new();
    let mut content_length = 0usize;
    for h in parsed.headers.iter() {
        let value = String::from_utf8_lossy(h.value).to_string();
        if h.name.eq_ignore_ascii_case("content-length") {
            match value.trim().parse() {
                Ok(n) => content_length = n,
                Err(_) => return Ok(Some(Head::Bad(400, "bad Content-Length".into()))),
            }
        }
        if h.name.eq_ignore_ascii_case("transfer-encoding") {
            return Ok(Some(Head::Bad(
                411,
                "chunked bodies are not supported".into(),
            )));
        }
        hs.push((h.name.to_string(), value));
    }
    let req = Request {
        method,
        path,
        query,
        headers: hs,
        body: Vec::new(),
    };
    Ok(Some(Head::Complete(n, req, content_length)))
}

async fn write_reply(
    stream: &mut TcpStream,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
    close: bool,
) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    if close {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_parse_with_query_and_length() {
        let raw =
            b"POST /v1.0/p/jobs/submit-job?a=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}";
        let Some(Head::Complete(n, req, cl)) = parse_head(raw).unwrap() else {
            panic!("not complete")
        };
        assert_eq!(
            (req.method.as_str(), req.path.as_str()),
            ("POST", "/v1.0/p/jobs/submit-job")
        );
        assert_eq!(req.query.as_deref(), Some("a=1"));
        assert_eq!((cl, raw.len() - n), (2, 2));
        assert!(parse_head(b"GET / HTTP/1.1\r\nHost:").unwrap().is_none());
        assert!(matches!(
            parse_head(b"\x00\x01 nonsense\r\n\r\n").unwrap(),
            Some(Head::Bad(..))
        ));
    }
}
