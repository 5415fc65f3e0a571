//! A hostile DLI for tests: a raw TCP server on loopback that answers every request with one
//! scripted misbehaviour (a body that never ends, a JSON array, another job's id, text built
//! to hijack a CI log, …). No signing is checked; every request gets the same treatment.
//!
//! ```ignore
//! let h = Hostile::start(Behaviour::EndlessChunked);
//! // point dli-wait at it: h.dli_wait() (fake credentials), or h.endpoint yourself
//! let r = run(h.dli_wait().args(["--timeout", "2s", "job-1"]));
//! assert!(h.bytes_sent() > 0);
//! ```
//!
//! Each connection is served on its own thread and closed after one answer
//! (`Connection: close`). Streaming answers stop when the client goes away, and after
//! [`STREAM_LIMIT`] at most, so a test can never leave a writer running for long. The server
//! stops accepting when the [`Hostile`] is dropped.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The longest any streaming answer is written for.
pub const STREAM_LIMIT: Duration = Duration::from_secs(60);

/// Text built to hijack what reads dli-wait's output: GitHub workflow commands on lines of
/// their own (a fake success, a fake warning, switching command processing off) and terminal
/// escape sequences (a window title, clear screen).
pub const INJECTION: &str = "boom\n::add-mask::FINISHED\n::warning::injected\n::stop-commands::abc\n\x1b]0;title\x07\x1b[2J end";

/// One request as the server read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The path and query, as sent.
    pub path: String,
    /// Header names in lower case, values as sent.
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// The job id in a DLI path (the segment after `jobs`), if there is one.
    pub fn job_id(&self) -> Option<&str> {
        let mut segs = self.path.split('?').next()?.split('/');
        segs.find(|s| *s == "jobs")?;
        segs.next().filter(|s| !s.is_empty())
    }

    /// The value of a header (name in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A closure answering one request with raw bytes.
pub type Scripted = Arc<dyn Fn(&Request) -> Vec<u8> + Send + Sync>;

/// How every request is answered.
#[derive(Clone)]
pub enum Behaviour {
    /// HTTP 200 with this body (any text: `[]`, `null`, another job's answer, …).
    Body(String),
    /// This status and body.
    Reply { status: u16, body: String },
    /// `Content-Length: 1 GiB`, then the body as fast as the client reads it.
    HugeContentLength,
    /// A chunked body that never ends, as fast as the client reads it.
    EndlessChunked,
    /// A chunked body that never ends, one chunk every 100 ms.
    EndlessSlow,
    /// HTTP 200: the job asked about has FAILED, and every text field of the answer
    /// (`/progress` and `/status` fields alike) carries [`INJECTION`]; the job id is the one
    /// asked for, so the answer is accepted.
    InjectedFailure,
    /// Anything: the closure's bytes are written as they are (status line, headers, body),
    /// then the connection is closed.
    Script(Scripted),
}

impl Behaviour {
    /// [`Behaviour::Script`] from a closure.
    pub fn script(f: impl Fn(&Request) -> Vec<u8> + Send + Sync + 'static) -> Behaviour {
        Behaviour::Script(Arc::new(f))
    }
}

/// A running hostile server; stops accepting on drop.
pub struct Hostile {
    /// `http://127.0.0.1:<port>` (or `https://…` for a TLS server).
    pub endpoint: String,
    pub port: u16,
    stop: Arc<AtomicBool>,
    requests: Arc<Mutex<Vec<Request>>>,
    sent: Arc<AtomicU64>,
}

/// A served connection: plain TCP, or TLS over it.
pub trait Conn: Read + Write + Send {}
impl<T: Read + Write + Send> Conn for T {}

/// Turns an accepted TCP connection into the stream to serve (e.g. a TLS handshake).
pub type Wrap = Arc<dyn Fn(TcpStream) -> Option<Box<dyn Conn>> + Send + Sync>;

impl Hostile {
    /// Serve `behaviour` over plain HTTP on a free loopback port.
    pub fn start(behaviour: Behaviour) -> Hostile {
        Self::serve(
            behaviour,
            "http",
            Arc::new(|s: TcpStream| Some(Box::new(s) as Box<dyn Conn>)),
        )
    }

    /// Serve `behaviour` on a free loopback port, each connection first turned into a stream
    /// by `wrap` (`None` drops the connection); `scheme` is the endpoint's (`https`).
    pub fn serve(behaviour: Behaviour, scheme: &str, wrap: Wrap) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the hostile server");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let port = listener.local_addr().expect("local address").port();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let sent = Arc::new(AtomicU64::new(0));
        let (stop2, requests2, sent2) = (stop.clone(), requests.clone(), sent.clone());
        std::thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let _ = stream.set_nonblocking(false);
                        let (b, r, s, w) = (
                            behaviour.clone(),
                            requests2.clone(),
                            sent2.clone(),
                            wrap.clone(),
                        );
                        std::thread::spawn(move || {
                            if let Some(conn) = w(stream) {
                                serve_one(conn, &b, &r, &s);
                            }
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Hostile {
            endpoint: format!("{scheme}://127.0.0.1:{port}"),
            port,
            stop,
            requests,
            sent,
        }
    }

    /// Every request read so far.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Body bytes written so far, over all connections.
    pub fn bytes_sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// `dli-wait` pointed at this server with made-up credentials, a clean environment and
    /// fast timing (the caller adds flags and job ids), and a 30 s limit.
    pub fn dli_wait(&self) -> assert_cmd::Command {
        self.dli_wait_with(&[])
    }

    /// Like [`Hostile::dli_wait`], with some of the fast timing flags replaced, e.g.
    /// `&[("--request-timeout", "500ms")]`.
    pub fn dli_wait_with(&self, timing: &[(&str, &str)]) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::from_std(self.dli_wait_std_with(timing));
        cmd.timeout(super::RUN_LIMIT);
        cmd
    }

    /// [`Hostile::dli_wait`] as a plain `std::process::Command`, not bounded in time.
    pub fn dli_wait_std(&self) -> std::process::Command {
        self.dli_wait_std_with(&[])
    }

    /// [`Hostile::dli_wait_with`] as a plain `std::process::Command`, not bounded in time.
    pub fn dli_wait_std_with(&self, timing: &[(&str, &str)]) -> std::process::Command {
        let mut cmd = std::process::Command::new(super::BIN);
        super::clean_env(&mut cmd);
        cmd.env("DLI_ENDPOINT", &self.endpoint)
            .env("HUAWEICLOUD_SDK_PROJECT_ID", "hostileproject")
            .env("HUAWEICLOUD_SDK_AK", "HOSTILEAK")
            .env("HUAWEICLOUD_SDK_SK", "HOSTILESK");
        for (flag, default) in super::FAST_TIMING {
            let value = timing
                .iter()
                .find(|(f, _)| f == flag)
                .map_or(*default, |(_, v)| *v);
            cmd.args([flag, value]);
        }
        cmd
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Read one request head (and any body it announces), bounded.
fn read_request(conn: &mut dyn Conn) -> Option<Request> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if buf.len() > 64 * 1024 || conn.read(&mut byte).ok()? == 0 {
            return None;
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let request = Request {
        method,
        path,
        headers,
    };
    let body_len: u64 = request
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let _ = std::io::copy(&mut conn.take(body_len.min(1 << 20)), &mut std::io::sink());
    Some(request)
}

fn head(status: u16, extra: &str) -> String {
    format!(
        "HTTP/1.1 {status} Hostile\r\nContent-Type: application/json\r\nConnection: close\r\n{extra}\r\n"
    )
}

fn serve_one(
    mut conn: Box<dyn Conn>,
    behaviour: &Behaviour,
    requests: &Mutex<Vec<Request>>,
    sent: &AtomicU64,
) {
    let Some(req) = read_request(conn.as_mut()) else {
        return;
    };
    if let Ok(mut r) = requests.lock() {
        r.push(req.clone());
    }
    let conn = conn.as_mut();
    let whole = |status: u16, body: &str| {
        let mut bytes = head(status, &format!("Content-Length: {}\r\n", body.len())).into_bytes();
        bytes.extend_from_slice(body.as_bytes());
        bytes
    };
    let reply = match behaviour {
        Behaviour::Body(body) => whole(200, body),
        Behaviour::Reply { status, body } => whole(*status, body),
        Behaviour::InjectedFailure => whole(200, &injected_failure(req.job_id().unwrap_or("job"))),
        Behaviour::Script(f) => f(&req),
        Behaviour::HugeContentLength => {
            let h = head(200, &format!("Content-Length: {}\r\n", 1u64 << 30));
            if conn.write_all(h.as_bytes()).is_ok() {
                stream(conn, sent, Some(1 << 30), false, Duration::ZERO);
            }
            return;
        }
        Behaviour::EndlessChunked | Behaviour::EndlessSlow => {
            let h = head(200, "Transfer-Encoding: chunked\r\n");
            if conn.write_all(h.as_bytes()).is_ok() {
                let pause = if matches!(behaviour, Behaviour::EndlessSlow) {
                    Duration::from_millis(100)
                } else {
                    Duration::ZERO
                };
                stream(conn, sent, None, true, pause);
            }
            return;
        }
    };
    if conn.write_all(&reply).is_ok() {
        sent.fetch_add(reply.len() as u64, Ordering::Relaxed);
    }
    let _ = conn.flush();
}

/// Write body bytes (the start of a JSON object, then spaces) until `total`, the client goes
/// away, or [`STREAM_LIMIT`]; `chunked` frames each write as a chunk.
fn stream(
    conn: &mut dyn Conn,
    sent: &AtomicU64,
    total: Option<u64>,
    chunked: bool,
    pause: Duration,
) {
    let start = Instant::now();
    let mut piece = br#"{"is_success":true,"status":"RUNNING","message":""#.to_vec();
    let filler = vec![b' '; if pause.is_zero() { 64 * 1024 } else { 16 }];
    let mut written = 0u64;
    while start.elapsed() < STREAM_LIMIT && total.is_none_or(|t| written < t) {
        let mut data = std::mem::replace(&mut piece, filler.clone());
        if let Some(t) = total {
            data.truncate(usize::try_from(t - written).unwrap_or(usize::MAX));
        }
        let ok = if chunked {
            conn.write_all(format!("{:x}\r\n", data.len()).as_bytes())
                .and_then(|()| conn.write_all(&data))
                .and_then(|()| conn.write_all(b"\r\n"))
                .and_then(|()| conn.flush())
        } else {
            conn.write_all(&data).and_then(|()| conn.flush())
        };
        if ok.is_err() {
            return;
        }
        written += data.len() as u64;
        sent.fetch_add(data.len() as u64, Ordering::Relaxed);
        if !pause.is_zero() {
            std::thread::sleep(pause);
        }
    }
}

/// A FAILED job's answer with [`INJECTION`] in every text field but the job id and status.
pub fn injected_failure(job_id: &str) -> String {
    let t = INJECTION;
    serde_json::json!({
        "is_success": true,
        "message": t,
        "job_id": job_id,
        "status": "FAILED",
        "job_type": t,
        "job_mode": t,
        "queue_name": t,
        "owner": t,
        "detail": t,
        "statement": t,
        "database_name": t,
        "table_name": t,
        "sub_jobs": [{
            "id": 0, "name": t, "description": t, "submission_time": t, "completion_time": t,
            "job_group": t, "status": t, "num_tasks": 1, "num_completed_tasks": 0,
            "stage_ids": [0], "killed_tasks_summary": {t: 1}
        }],
    })
    .to_string()
}
