//! The DLI HTTP client: builds, signs and sends the SQL calls dli-wait makes (the Spark batch
//! calls are in `spark`), and hands every answer to `fault::classify`. Knows nothing of
//! waiting or retrying: callers decide that.

use super::auth::Credentials;
use super::credentials::provider::{Provider, Rejection};
use super::fault::{Check, Fault, FaultKind, Reply, classify};
use super::model::DliBody;
use super::model::{
    CancelJobResponse, JobProgress, JobStatusInfo, PreviewResult, SubmitJob, SubmitJobResponse,
};
use super::pacer::{Lane, Pacer};
use super::sign::{SignableRequest, encode_component, sdk_date, sign};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use url::Url;

/// `User-Agent` of every request.
pub const USER_AGENT: &str = concat!("dli-wait/", env!("CARGO_PKG_VERSION"));

/// Where DLI is and who we are there.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub endpoint: Url,
    pub project_id: String,
    /// The current credentials (fixed, or temporary keys renewed as they expire); clones of
    /// the config share them.
    pub credentials: Provider,
    pub request_timeout: Duration,
}

/// A DLI client for one project. Clones share the connection pool and the rate limit.
#[derive(Debug, Clone)]
pub struct DliClient {
    http: reqwest::Client,
    cfg: ClientConfig,
    pacer: Option<std::sync::Arc<Pacer>>,
    /// The budget for answer bodies being read, shared by every clone: by every job.
    budget: std::sync::Arc<BodyBudget>,
}

/// A request ready to send: what was signed is exactly what goes on the wire.
#[derive(Debug, Clone)]
pub struct PreparedRequest {
    pub method: &'static str,
    pub url: Url,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl DliClient {
    /// A client for `cfg`. TLS trusts webpki's roots and the system's (or, when set,
    /// `SSL_CERT_FILE` / `SSL_CERT_DIR` instead of the system's). The proxy variables
    /// (`HTTPS_PROXY`, `ALL_PROXY`, … with `NO_PROXY`) apply, but never to a loopback
    /// endpoint: signed requests and tokens for a local service must not go to a proxy.
    pub fn new(cfg: ClientConfig) -> Result<Self, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(cfg.request_timeout.min(Duration::from_secs(10)))
            .pool_idle_timeout(Duration::from_secs(50));
        if is_loopback(&cfg.endpoint) {
            builder = builder.no_proxy();
        }
        let http = builder.build()?;
        Ok(DliClient {
            http,
            cfg,
            pacer: None,
            budget: std::sync::Arc::new(BodyBudget::new(BODY_BUDGET_BYTES)),
        })
    }

    /// Limit all requests of this client and its clones to `per_second`.
    pub fn with_rate_limit(mut self, per_second: f64) -> Self {
        self.pacer = Some(std::sync::Arc::new(Pacer::per_second(per_second)));
        self
    }

    pub fn config(&self) -> &ClientConfig {
        &self.cfg
    }

    pub(super) fn path(&self, version: &str, rest: &str) -> String {
        format!(
            "/{version}/{}/{rest}",
            encode_component(&self.cfg.project_id)
        )
    }

    /// `GET /v1/{project_id}/jobs/{job_id}/progress`; an answer about another job is a fault.
    pub async fn progress(&self, job_id: &str, timeout: Duration) -> Result<JobProgress, Fault> {
        let path = self.path("v1", &format!("jobs/{}/progress", encode_component(job_id)));
        let answer: JobProgress = self.call("GET", &path, None, timeout).await?;
        about(job_id, answer.job_id.as_deref())?;
        Ok(answer)
    }

    /// `GET /v1.0/{project_id}/jobs/{job_id}/status`; an answer about another job is a fault.
    pub async fn status(&self, job_id: &str, timeout: Duration) -> Result<JobStatusInfo, Fault> {
        let path = self.path("v1.0", &format!("jobs/{}/status", encode_component(job_id)));
        let answer: JobStatusInfo = self.call("GET", &path, None, timeout).await?;
        about(job_id, answer.job_id.as_deref())?;
        Ok(answer)
    }

    /// `GET /v1.0/{project_id}/jobs/{job_id}/preview`: a query's first rows (at most 1000).
    pub async fn preview(&self, job_id: &str, timeout: Duration) -> Result<PreviewResult, Fault> {
        let path = self.path(
            "v1.0",
            &format!("jobs/{}/preview", encode_component(job_id)),
        );
        let answer: PreviewResult = self.call("GET", &path, None, timeout).await?;
        about(job_id, answer.job_id.as_deref())?;
        Ok(answer)
    }

    /// `DELETE /v1.0/{project_id}/jobs/{job_id}`.
    pub async fn cancel(
        &self,
        job_id: &str,
        timeout: Duration,
    ) -> Result<CancelJobResponse, Fault> {
        let path = self.path("v1.0", &format!("jobs/{}", encode_component(job_id)));
        self.call("DELETE", &path, None, timeout).await
    }

    /// `POST /v1.0/{project_id}/jobs/submit-job`. Never retried here or by callers once it
    /// may have reached DLI: a double-submitted job is worse than a failed one.
    /// `sent` records when the request went out, for a caller that gives up on it (a
    /// signal): before that, nothing can have been created.
    pub async fn submit(
        &self,
        job: &SubmitJob,
        timeout: Duration,
        sent: &Sent,
    ) -> Result<SubmitJobResponse, Fault> {
        let body = serde_json::to_vec(job).unwrap_or_default();
        let path = self.path("v1.0", "jobs/submit-job");
        self.call_marking("POST", &path, Some(body), timeout, sent)
            .await
    }

    /// `GET /v1.0/{project_id}/jobs?page-size=1`: one signed read that needs nothing but
    /// valid credentials and project (ListSqlJobs). Also returns the server's clock (`Date`),
    /// when it sent one, for a skew check.
    pub async fn probe(&self, timeout: Duration) -> (Result<(), Fault>, Option<SystemTime>) {
        let path = self.path("v1.0", "jobs?page-size=1&current-page=1");
        let current = match self.cfg.credentials.current().await {
            Ok(c) => c,
            Err(f) => return (Err(f), None),
        };
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let prepared = self.prepare_with(Some(&current.credentials), "GET", &path, None, unix);
        match self.send(prepared, timeout, &Sent::default()).await {
            Err(f) => (Err(f), None),
            Ok((reply, _allowance)) => {
                let date = reply
                    .date
                    .as_deref()
                    .and_then(|d| httpdate::parse_http_date(d).ok());
                let result = classify::<super::model::ListJobsResponse>(&reply, SystemTime::now())
                    .map(|_| ());
                (result, date)
            }
        }
    }

    /// Build and sign a request at Unix time `now_unix` with the credentials held now (pure
    /// apart from the clock value and that read).
    pub fn prepare(
        &self,
        method: &'static str,
        path: &str,
        body: Option<Vec<u8>>,
        now_unix: i64,
    ) -> PreparedRequest {
        let credentials = self.cfg.credentials.snapshot().map(|c| c.credentials);
        self.prepare_with(credentials.as_ref(), method, path, body, now_unix)
    }

    /// Build and sign a request with `credentials` (none: unsigned, which DLI refuses).
    fn prepare_with(
        &self,
        credentials: Option<&Credentials>,
        method: &'static str,
        path: &str,
        body: Option<Vec<u8>>,
        now_unix: i64,
    ) -> PreparedRequest {
        let mut url = self.cfg.endpoint.clone();
        let base = url.path().trim_end_matches('/').to_string();
        let (path, query) = match path.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path, None),
        };
        url.set_path(&format!("{base}{path}"));
        url.set_query(query);
        let host = match url.port() {
            Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_string(),
        };
        let mut headers = vec![
            ("Content-Type".to_string(), "application/json".to_string()),
            ("Host".to_string(), host),
            ("User-Agent".to_string(), USER_AGENT.to_string()),
            ("X-Project-Id".to_string(), self.cfg.project_id.clone()),
        ];
        let body = body.unwrap_or_default();
        match credentials {
            None => {}
            Some(Credentials::Token(token)) => {
                headers.push(("X-Auth-Token".to_string(), token.expose().to_string()));
            }
            Some(Credentials::AkSk {
                ak,
                sk,
                security_token,
            }) => {
                headers.push(("X-Sdk-Date".to_string(), sdk_date(now_unix)));
                if let Some(t) = security_token {
                    headers.push(("X-Security-Token".to_string(), t.expose().to_string()));
                }
                let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
                let req = SignableRequest {
                    method,
                    path: url.path(),
                    query: &query,
                    headers: &headers,
                    body: &body,
                };
                let auth = sign(&req, sk.expose()).authorization(ak.expose());
                headers.push(("Authorization".to_string(), auth));
            }
        }
        PreparedRequest {
            method,
            url,
            headers,
            body,
        }
    }

    /// Wait for a turn in `lane` under the rate limit shared by all clones of this client
    /// (polls and cancels take one before each request, cancels ahead of polls; a submit does
    /// not). `within` bounds the wait: a queue longer than the time left is a timeout fault,
    /// so a deadline holds however many jobs share the limit.
    pub async fn turn(&self, lane: Lane, within: Option<Duration>) -> Result<(), Fault> {
        super::pacer::turn(self.pacer(), lane, within).await
    }

    /// The rate limit all clones of this client share, if it has one.
    pub fn pacer(&self) -> Option<&Pacer> {
        self.pacer.as_deref()
    }

    /// Sign, send and classify one request, with the current credentials (renewed first when
    /// due). Temporary keys the service refuses (401) are renewed and the request sent once
    /// more (unless another request renewed them meanwhile: then with those); a second 401
    /// is the answer. The gateway refuses before DLI sees a request, so even a submit may go
    /// again.
    pub(super) async fn call<T: DliBody>(
        &self,
        method: &'static str,
        path: &str,
        body: Option<Vec<u8>>,
        timeout: Duration,
    ) -> Result<T, Fault> {
        self.call_marking(method, path, body, timeout, &Sent::default())
            .await
    }

    /// [`DliClient::call`], recording on `sent` the moment the request is handed to the
    /// connection (from then on it may have reached the service).
    pub(super) async fn call_marking<T: DliBody>(
        &self,
        method: &'static str,
        path: &str,
        body: Option<Vec<u8>>,
        timeout: Duration,
        sent: &Sent,
    ) -> Result<T, Fault> {
        let provider = &self.cfg.credentials;
        let current = provider.current().await?;
        let first = self
            .attempt(
                &current.credentials,
                method,
                path,
                body.clone(),
                timeout,
                sent,
            )
            .await;
        match first {
            Err(f) if f.kind == FaultKind::Unauthorized && provider.renews() => {
                tracing::info!(
                    method,
                    path,
                    "credentials: the service refused the temporary keys (HTTP 401); renewing them"
                );
                let again = note(
                    f.clone(),
                    format!(
                        "refused again with fresh temporary keys from {}",
                        provider.label()
                    ),
                );
                match provider
                    .renew_after_rejection(current.generation, &again)
                    .await
                {
                    Err(why) => {
                        // Refused, and no keys to replace them: so for every request.
                        let f = note(f, format!("renewing the keys failed: {why}"));
                        return Err(provider.refuse(current.generation, &f));
                    }
                    Ok(Rejection::Uncured(refusal)) => return Err(refusal),
                    Ok(Rejection::Renewed) => {}
                }
                let renewed = provider.current().await?;
                let second = self
                    .attempt(&renewed.credentials, method, path, body, timeout, sent)
                    .await;
                match second {
                    Err(f) if f.kind == FaultKind::Unauthorized => {
                        let f = note(
                            f,
                            format!(
                                "refused again with fresh temporary keys from {}",
                                provider.label()
                            ),
                        );
                        Err(provider.refuse(renewed.generation, &f))
                    }
                    other => {
                        accepted(provider, renewed.generation, &other);
                        other
                    }
                }
            }
            // Keys that are not renewed, refused: the message names their source, so the
            // hint need not list every source there is.
            Err(f) if f.kind == FaultKind::Unauthorized => Err(note_refused(f, provider)),
            other => {
                accepted(provider, current.generation, &other);
                other
            }
        }
    }

    /// Sign with `credentials`, send and classify one request.
    async fn attempt<T: DliBody>(
        &self,
        credentials: &Credentials,
        method: &'static str,
        path: &str,
        body: Option<Vec<u8>>,
        timeout: Duration,
        sent: &Sent,
    ) -> Result<T, Fault> {
        let now = SystemTime::now();
        let unix = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let prepared = self.prepare_with(Some(credentials), method, path, body, unix);
        tracing::debug!(method, path, "request");
        // The body's share of the budget is held until it has been classified.
        let (reply, _allowance) = self.send(prepared, timeout, sent).await?;
        tracing::debug!(method, path, status = reply.status, "reply");
        tracing::trace!(body = %String::from_utf8_lossy(&reply.body), "reply body");
        classify(&reply, SystemTime::now())
    }

    /// Send a request and read its answer, all of it within `timeout` (reqwest's own timeout
    /// covers the body too; the outer one makes that a property of this function), the
    /// answer's body under the process-wide budget (see [`BODY_BUDGET_BYTES`]): returned
    /// with its share of it, held until the caller is done with the body.
    async fn send(
        &self,
        req: PreparedRequest,
        timeout: Duration,
        sent: &Sent,
    ) -> Result<(Reply, Allowance), Fault> {
        let waiting = std::sync::atomic::AtomicBool::new(false);
        match tokio::time::timeout(timeout, self.exchange(req, timeout, sent, &waiting)).await {
            Ok(reply) => reply,
            Err(_) if waiting.load(std::sync::atomic::Ordering::Relaxed) => {
                Err(no_budget_within(timeout))
            }
            Err(_) => Err(no_answer_within(timeout)),
        }
    }

    async fn exchange(
        &self,
        req: PreparedRequest,
        timeout: Duration,
        sent: &Sent,
        waiting: &std::sync::atomic::AtomicBool,
    ) -> Result<(Reply, Allowance), Fault> {
        let method =
            reqwest::Method::from_bytes(req.method.as_bytes()).unwrap_or(reqwest::Method::GET);
        let mut builder = self.http.request(method, req.url).timeout(timeout);
        for (k, v) in &req.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        if !req.body.is_empty() {
            builder = builder.body(req.body);
        }
        sent.mark();
        let mut resp = builder
            .send()
            .await
            .map_err(|e| transport_fault(&e, timeout))?;
        let status = resp.status().as_u16();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let retry_after = header("retry-after");
        let request_id = header("x-request-id");
        let date = header("date");
        let with_status = |mut f: Fault| {
            f.http_status = Some(status);
            f
        };
        let announced = resp.content_length();
        let mut body = CappedBody::new(MAX_BODY_BYTES, announced).map_err(with_status)?;
        let mut allowance = self.budget.start(announced, waiting).await;
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| transport_fault(&e, timeout))?
        {
            if body.len() + chunk.len() > allowance.bytes() {
                self.budget.enlarge(&mut allowance, waiting).await;
            }
            body.push(&chunk).map_err(with_status)?;
        }
        let reply = Reply {
            status,
            retry_after,
            date,
            request_id,
            body: body.into_inner(),
        };
        Ok((reply, allowance))
    }
}

/// Whether a request has been handed to the connection: until then it cannot have reached
/// the service (a submit given up before cannot have created anything).
#[derive(Debug, Default)]
pub struct Sent(std::sync::atomic::AtomicBool);

impl Sent {
    fn mark(&self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether the request may have reached the service.
    pub fn maybe(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// The most of an answer's body that is read. DLI's answers are small: a `/progress` answer
/// is about 600 bytes per sub-job, and the largest field of any answer is `/status`'s
/// `statement`, the job's own SQL echoed back (DLI documents no limit on it). 4 MiB holds
/// thousands of sub-jobs and any SQL a person or a generator writes, and keeps a wait's peak
/// memory far below 32 MB whatever a server or proxy sends (a 1 GB or endless body is cut
/// here, as soon as the cap is passed or announced).
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// How much memory the answers' bodies being read may take at once, in the whole process,
/// whatever the job count: 64 MiB (the per-answer cap, [`MAX_BODY_BYTES`], alone let 600
/// jobs of trickled 4 MB answers hold 2.4 GB). A quarter serves bodies' first
/// [`SMALL_BODY_BYTES`] (so DLI's answers of a few KiB never wait behind large ones), the
/// rest whole caps for bodies larger than that. Each body is charged what it may hold,
/// [`READ_AHEAD_BYTES`] of the HTTP stack's buffer included. A body that cannot get its
/// share waits, within its request's timeout: a transient fault then, retried like a slow
/// answer.
pub const BODY_BUDGET_BYTES: usize = 64 * 1024 * 1024;

/// The share every body is given when its reading starts (or less, when its length is
/// announced): DLI's answers fit in it.
pub const SMALL_BODY_BYTES: usize = 64 * 1024;

/// What the HTTP stack may hold of a body beside what is read of it (hyper's read buffer
/// grows to about 400 KiB on a fast connection), charged to each body whose length is not
/// announced small.
pub const READ_AHEAD_BYTES: usize = 512 * 1024;

/// The buffer of a body announced small: what the stack reads it with.
const ANNOUNCED_SLACK_BYTES: usize = 16 * 1024;

/// The process-wide budget for answer bodies being read: bytes for bodies' first part, and
/// whole caps for the large ones. A body holds at most one share of each, and a body holding
/// a whole cap never waits again, so whoever waits, someone reads on: no deadlock, however
/// many bodies trickle in at once.
#[derive(Debug)]
pub struct BodyBudget {
    /// Bytes, for bodies' first [`SMALL_BODY_BYTES`].
    small: std::sync::Arc<tokio::sync::Semaphore>,
    /// Whole caps ([`MAX_BODY_BYTES`] and the read-ahead each), for larger bodies.
    large: std::sync::Arc<tokio::sync::Semaphore>,
}

/// A body's share of the [`BodyBudget`], given back when dropped.
#[derive(Debug)]
pub struct Allowance {
    small: Option<tokio::sync::OwnedSemaphorePermit>,
    /// How much of the body the small share covers.
    small_bytes: usize,
    large: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl Allowance {
    /// How many bytes of the body it covers.
    pub fn bytes(&self) -> usize {
        if self.large.is_some() {
            MAX_BODY_BYTES
        } else {
            self.small_bytes
        }
    }
}

impl BodyBudget {
    /// A budget of `total` bytes: a quarter for bodies' first parts (at least one), the
    /// rest in whole caps (at least one).
    pub fn new(total: usize) -> Self {
        let small = (total / 4).max(SMALL_BODY_BYTES + READ_AHEAD_BYTES);
        let large = (total.saturating_sub(small) / (MAX_BODY_BYTES + READ_AHEAD_BYTES)).max(1);
        BodyBudget {
            small: std::sync::Arc::new(tokio::sync::Semaphore::new(small)),
            large: std::sync::Arc::new(tokio::sync::Semaphore::new(large)),
        }
    }

    /// How many bodies larger than [`SMALL_BODY_BYTES`] may be read at once.
    pub fn large_at_once(&self) -> usize {
        self.large.available_permits()
    }

    /// The share of a body whose reading starts (`announced`: its Content-Length): a whole
    /// cap for one announced larger than [`SMALL_BODY_BYTES`], otherwise its length or that
    /// much. Waits for it (`waiting` says so meanwhile).
    pub async fn start(
        &self,
        announced: Option<u64>,
        waiting: &std::sync::atomic::AtomicBool,
    ) -> Allowance {
        let mut a = Allowance {
            small: None,
            small_bytes: 0,
            large: None,
        };
        let (covers, charge) = match announced.map(|n| usize::try_from(n).unwrap_or(usize::MAX)) {
            Some(n) if n > SMALL_BODY_BYTES => {
                self.enlarge(&mut a, waiting).await;
                return a;
            }
            Some(n) => (n, n + ANNOUNCED_SLACK_BYTES),
            None => (SMALL_BODY_BYTES, SMALL_BODY_BYTES + READ_AHEAD_BYTES),
        };
        // At most SMALL_BODY_BYTES and the read-ahead: fits in u32.
        let n = u32::try_from(charge).unwrap_or(u32::MAX);
        waiting.store(true, std::sync::atomic::Ordering::Relaxed);
        a.small = self.small.clone().acquire_many_owned(n).await.ok();
        waiting.store(false, std::sync::atomic::Ordering::Relaxed);
        a.small_bytes = if a.small.is_some() { covers } else { 0 };
        a
    }

    /// The body outgrew its share: a whole cap (waited for; `waiting` says so meanwhile).
    pub async fn enlarge(&self, a: &mut Allowance, waiting: &std::sync::atomic::AtomicBool) {
        if a.large.is_some() {
            return;
        }
        waiting.store(true, std::sync::atomic::Ordering::Relaxed);
        a.large = self.large.clone().acquire_owned().await.ok();
        waiting.store(false, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A body being read, refused as soon as it passes its cap.
#[derive(Debug)]
pub struct CappedBody {
    bytes: Vec<u8>,
    cap: usize,
}

impl CappedBody {
    /// A body of at most `cap` bytes; `announced` (Content-Length) beyond it is refused now.
    pub fn new(cap: usize, announced: Option<u64>) -> Result<Self, Fault> {
        if announced.is_some_and(|n| n > cap as u64) {
            return Err(too_large(cap));
        }
        Ok(CappedBody {
            bytes: Vec::new(),
            cap,
        })
    }

    /// Add a chunk; an error (and nothing kept of the chunk) once the body passes the cap.
    /// The buffer never grows past the cap (doubling, but no further).
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), Fault> {
        let len = self.bytes.len();
        if chunk.len() > self.cap - len {
            return Err(too_large(self.cap));
        }
        let need = len + chunk.len();
        if need > self.bytes.capacity() {
            let grown = (2 * len).max(need).min(self.cap);
            self.bytes.reserve_exact(grown - len);
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    /// The bytes read so far.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub fn into_inner(self) -> Vec<u8> {
        self.bytes
    }
}

fn too_large(cap: usize) -> Fault {
    let size = if cap.is_multiple_of(1024 * 1024) {
        format!("{} MiB", cap / (1024 * 1024))
    } else {
        format!("{cap} bytes")
    };
    Fault::transport(
        FaultKind::TooLarge,
        format!(
            "answer larger than {size}; not read further (DLI's answers are a few KiB: a proxy or server in the way is misbehaving)"
        ),
    )
}

/// Tell the provider the keys of issue `used` work when the service answered anything but a
/// 401 (a fault without an HTTP answer says nothing about them).
fn accepted<T>(provider: &Provider, used: u64, result: &Result<T, Fault>) {
    let answered = match result {
        Ok(_) => true,
        Err(f) => f.http_status.is_some() && f.kind != FaultKind::Unauthorized,
    };
    if answered {
        provider.accepted(used);
    }
}

/// What a 401 refused, in words naming the source: `refused the credentials from the
/// environment (HUAWEICLOUD_SDK_AK/HUAWEICLOUD_SDK_SK)`.
fn refused_from(provider: &Provider) -> String {
    format!("refused the credentials from {}", provider.source())
}

/// A 401 `fault`, its message naming the source of the credentials refused.
pub fn note_refused(fault: Fault, provider: &Provider) -> Fault {
    note(fault, refused_from(provider))
}

/// `fault` with `what` added to its message.
fn note(mut fault: Fault, what: String) -> Fault {
    fault.message = if fault.message.is_empty() {
        what
    } else {
        format!("{} ({what})", fault.message.trim_end_matches('.'))
    };
    fault
}

/// An answer naming another job than the one asked about is no answer about this job (a
/// confused proxy or cache): a transient malformed answer. One without a job id is fine.
pub fn about(asked: &str, answered: Option<&str>) -> Result<(), Fault> {
    let same = |other: &str| {
        // Job ids are UUIDs: `85798B38-…` and `85798b38-…` are one job.
        other == asked
            || (super::job_id::is_job_id(other)
                && super::job_id::is_job_id(asked)
                && other.eq_ignore_ascii_case(asked))
    };
    match answered.map(str::trim_ascii).filter(|a| !a.is_empty()) {
        Some(other) if !same(other) => Err(Fault::transport(
            FaultKind::MalformedBody,
            format!("the answer is about job {other}, not about job {asked} that was asked about"),
        )),
        _ => Ok(()),
    }
}

/// The answer came, but its body found no room in the process-wide budget in time: other
/// jobs' answers held it (large answers arriving slowly). Transient, as a slow answer.
fn no_budget_within(timeout: Duration) -> Fault {
    Fault::transport(
        FaultKind::Timeout,
        format!(
            "the answer could not be read within {}: the {} MiB this process reads of answers at once were held by other jobs' large answers",
            super::human::duration(timeout),
            BODY_BUDGET_BYTES / (1024 * 1024)
        ),
    )
    .checking(Check::RequestTimeout)
}

fn no_answer_within(timeout: Duration) -> Fault {
    Fault::transport(
        FaultKind::Timeout,
        format!("no answer within {}", super::human::duration(timeout)),
    )
    .checking(Check::RequestTimeout)
}

/// Whether a URL's host is this machine: `localhost` or a loopback address.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => super::net::is_loopback_ip(ip.into()),
        Some(url::Host::Ipv6(ip)) => super::net::is_loopback_ip(ip.into()),
        None => false,
    }
}

/// Whether `value` can be sent as an HTTP header value; `Err` holds the 1-based position of
/// the first character that cannot: a control character, or anything beyond ASCII (which
/// HTTP passes as raw bytes in no defined encoding, and no signature would survive).
pub fn header_safe(value: &str) -> Result<(), usize> {
    match value
        .chars()
        .position(|c| !(c == '\t' || (' '..='~').contains(&c)))
    {
        Some(i) => Err(i + 1),
        None => Ok(()),
    }
}

/// How many certificates a PEM trust file (`SSL_CERT_FILE`) holds; an error says why it
/// cannot be used (no certificate at all, or a broken one).
pub fn trust_file_certificates(pem: &[u8]) -> Result<usize, String> {
    match reqwest::Certificate::from_pem_bundle(pem) {
        Ok(certs) if certs.is_empty() => {
            Err("it holds no certificate (expected PEM: -----BEGIN CERTIFICATE-----)".into())
        }
        Ok(certs) => Ok(certs.len()),
        Err(e) => Err(format!("it holds a broken certificate ({e})")),
    }
}

/// A reqwest error as a fault, described without headers (so without secrets) and without
/// URLs' secrets (there are none in our URLs): transient, but for what no retry can mend (a
/// certificate not trusted here, a request that cannot be built), which is configuration.
/// Its [`Fault::delivery`] is [`crate::dli::fault::Delivery::NotSent`] when the connection was
/// never made (`is_connect`: DNS, refused, connect timeout, the TLS handshake) or the request
/// could not be built.
pub(crate) fn transport_fault(e: &reqwest::Error, timeout: Duration) -> Fault {
    let fault = classify_transport(e, timeout);
    if e.is_connect() || e.is_builder() {
        fault.not_sent()
    } else {
        fault
    }
}

fn classify_transport(e: &reqwest::Error, timeout: Duration) -> Fault {
    let mut chain = vec![e.to_string()];
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        chain.push(s.to_string());
        src = s.source();
    }
    if e.is_builder() {
        // The causes only: the top error repeats the whole URL, however long.
        let causes = match chain.get(1..) {
            Some(c) if !c.is_empty() => c.join(": "),
            _ => "builder error".to_string(),
        };
        return Fault::config(
            FaultKind::Unsendable,
            format!("the request cannot be built ({causes})"),
        );
    }
    let host = e.url().and_then(|u| {
        let host = u.host_str()?;
        Some(u.port().map_or(host.to_string(), |p| format!("{host}:{p}")))
    });
    if let Some(why) = chain
        .iter()
        .find(|m| m.to_ascii_lowercase().contains("invalid peer certificate"))
    {
        return Fault::config(
            FaultKind::Tls,
            format!(
                "the TLS certificate of {} is not trusted here ({why})",
                host.as_deref().unwrap_or("the endpoint")
            ),
        );
    }
    if e.is_timeout() && !e.is_connect() {
        return no_answer_within(timeout);
    }
    if let Some(short) = local_shortage(&chain) {
        return Fault::transport(
            FaultKind::LocalResource,
            format!(
                "cannot connect to {}: {short}",
                host.as_deref().unwrap_or("the endpoint")
            ),
        );
    }
    let (message, check) = connection_message(&chain, host.as_deref());
    let fault = Fault::transport(FaultKind::Connection, message);
    match check {
        Some(c) => fault.checking(c),
        None => fault,
    }
}

/// What this machine ran out of, if that is why a connection failed (EMFILE, ENFILE, ENOMEM,
/// ENOBUFS): a local fault, said as one, with what to do.
fn local_shortage(chain: &[String]) -> Option<&'static str> {
    let has = |needles: &[&str]| {
        chain.iter().any(|m| {
            let m = m.to_ascii_lowercase();
            needles.iter().any(|n| m.contains(n))
        })
    };
    if has(&["too many open files in system", "os error 23)"]) {
        Some(
            "this machine ran out of file descriptors system-wide (too many open files in system); fewer jobs in one process, or a larger fs.file-max",
        )
    } else if has(&["too many open files", "os error 24)"]) {
        Some(
            "this machine ran out of file descriptors (too many open files: raise `ulimit -n`, or wait for fewer jobs in one process)",
        )
    } else if has(&["no buffer space available", "os error 105)"]) {
        Some("this machine ran out of network buffers (no buffer space available)")
    } else if has(&["cannot allocate memory", "out of memory", "os error 12)"]) {
        Some("this machine ran out of memory (cannot allocate memory)")
    } else {
        None
    }
}

/// A connection failure in a few words: the three a user can act on (a host that does not
/// resolve, which is usually a mistyped region; a refused connection; no connection within
/// the connect timeout) said plainly with what to check, anything else as the error chain.
fn connection_message(chain: &[String], host: Option<&str>) -> (String, Option<Check>) {
    let host = host.unwrap_or("the endpoint");
    let has = |needle: &str| {
        chain
            .iter()
            .any(|m| m.to_ascii_lowercase().contains(needle))
    };
    if has("dns error") || has("failed to lookup address") {
        (
            format!("cannot resolve {host} (DNS)"),
            Some(Check::HostName),
        )
    } else if has("connection refused") {
        (
            format!("{host} refused the connection"),
            Some(Check::Address),
        )
    } else if has("timed out") || has("timeout") {
        (
            format!("no connection to {host} (timed out)"),
            Some(Check::Address),
        )
    } else {
        (chain.join(": "), None)
    }
}

#[cfg(test)]
mod tests {
    use super::{
        CappedBody, Check, FaultKind, Url, about, connection_message, header_safe, is_loopback,
        local_shortage,
    };

    /// For any mix of answers (sizes up to the cap, length announced or not, arriving in
    /// pieces of any size), read at once by many jobs: every body is read whole (no
    /// deadlock, whoever waits), and the bytes held, each body charged as the budget charges
    /// it, never pass the budget.
    #[tokio::test]
    async fn the_body_budget_bounds_what_is_held_and_every_body_is_read() {
        use rand::{Rng, SeedableRng};
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        for seed in 0..8u64 {
            let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
            let total = rng.gen_range(12..40) * 1024 * 1024;
            let budget = Arc::new(super::BodyBudget::new(total));
            let held = Arc::new(AtomicUsize::new(0));
            let peak = Arc::new(AtomicUsize::new(0));
            let mut tasks = tokio::task::JoinSet::new();
            for _ in 0..150 {
                let size: usize = if rng.gen_bool(0.5) {
                    rng.gen_range(0..2048)
                } else {
                    rng.gen_range(0..=super::MAX_BODY_BYTES)
                };
                let announced = rng.gen_bool(0.5).then_some(size as u64);
                let piece = rng.gen_range(1..300_000);
                let (budget, held, peak) = (budget.clone(), held.clone(), peak.clone());
                tasks.spawn(async move {
                    let waiting = AtomicBool::new(false);
                    let mut a = budget.start(announced, &waiting).await;
                    let charge = |a: &super::Allowance| {
                        let small = a.small.as_ref().map_or(0, |p| p.num_permits());
                        let large = a
                            .large
                            .as_ref()
                            .map_or(0, |_| super::MAX_BODY_BYTES + super::READ_AHEAD_BYTES);
                        small + large
                    };
                    let mut counted = charge(&a);
                    let now = held.fetch_add(counted, Ordering::SeqCst) + counted;
                    peak.fetch_max(now, Ordering::SeqCst);
                    let mut len = 0;
                    while len < size {
                        let n = piece.min(size - len);
                        if len + n > a.bytes() {
                            budget.enlarge(&mut a, &waiting).await;
                            let more = charge(&a) - counted;
                            counted += more;
                            let now = held.fetch_add(more, Ordering::SeqCst) + more;
                            peak.fetch_max(now, Ordering::SeqCst);
                        }
                        assert!(len + n <= a.bytes());
                        len += n;
                        tokio::task::yield_now().await;
                    }
                    held.fetch_sub(counted, Ordering::SeqCst);
                    drop(a);
                    len
                });
            }
            let all = tokio::time::timeout(std::time::Duration::from_secs(60), async {
                let mut n = 0;
                while let Some(r) = tasks.join_next().await {
                    r.unwrap();
                    n += 1;
                }
                n
            })
            .await
            .expect("every body is read: no deadlock");
            assert_eq!(all, 150);
            let peak = peak.load(Ordering::SeqCst);
            assert!(
                peak <= total,
                "seed {seed}: held {peak} of a budget of {total}"
            );
        }
    }

    #[test]
    fn a_buffer_never_grows_past_its_cap() {
        let mut b = CappedBody::new(1000, None).unwrap();
        for _ in 0..9 {
            b.push(&[b'x'; 111]).unwrap();
        }
        b.push(&[b'x'; 1]).unwrap();
        let bytes = b.into_inner();
        assert_eq!(bytes.len(), 1000);
        assert!(bytes.capacity() <= 1000, "{}", bytes.capacity());
    }

    #[test]
    fn a_machine_out_of_descriptors_is_a_local_fault_not_an_unreachable_service() {
        let emfile = chain(&[
            "error sending request for url (http://127.0.0.1:8090/v1/p/jobs/j/progress)",
            "client error (Connect)",
            "tcp open error",
            "Too many open files (os error 24)",
        ]);
        let why = local_shortage(&emfile).unwrap();
        assert!(
            why.contains("file descriptors") && why.contains("ulimit -n"),
            "{why}"
        );
        assert!(
            local_shortage(&chain(&["Too many open files in system (os error 23)"]))
                .unwrap()
                .contains("system-wide")
        );
        assert!(local_shortage(&chain(&["No buffer space available (os error 105)"])).is_some());
        assert!(local_shortage(&chain(&["Cannot allocate memory (os error 12)"])).is_some());
        // Not the service's faults: those stay connection faults.
        for other in [
            "Connection refused (os error 111)",
            "connection reset by peer",
            "dns error",
            "os error 1234)",
        ] {
            assert_eq!(local_shortage(&chain(&[other])), None, "{other}");
        }
    }

    #[test]
    fn header_values_are_printable_ascii() {
        assert_eq!(header_safe("0123456789abcdef"), Ok(()));
        assert_eq!(header_safe("a b\tc~!"), Ok(()));
        assert_eq!(header_safe("ab\u{1}c"), Err(3));
        assert_eq!(header_safe("x\n"), Err(2));
        assert_eq!(header_safe("\u{7f}"), Err(1));
        assert_eq!(header_safe("projé"), Err(5));
        // The HTTP stack's verdict, but stricter on non-ASCII (which it passes as raw bytes
        // and a signature would not survive).
        for v in ["ok", "ab\u{1}c", "x\n", "\u{7f}", "a\tb"] {
            assert_eq!(
                header_safe(v).is_ok(),
                reqwest::header::HeaderValue::from_str(v).is_ok(),
                "{v:?}"
            );
        }
    }

    #[test]
    fn an_answer_about_another_job_is_a_malformed_answer() {
        assert!(about("job-1", Some("job-1")).is_ok());
        assert!(about("job-1", None).is_ok());
        assert!(about("job-1", Some("")).is_ok());
        let f = about("job-1", Some("job-2")).unwrap_err();
        assert_eq!(f.kind, FaultKind::MalformedBody);
        assert!(f.is_transient());
        assert!(
            f.message.contains("job-2") && f.message.contains("job-1"),
            "{f}"
        );
    }

    /// Issue 25: ids are compared as UUIDs, so an upper-case id asked about and DLI's
    /// lower-case echo are one job; other text is compared as it is.
    #[test]
    fn job_ids_are_compared_as_uuids() {
        let upper = "85798B38-AE44-48EB-BB90-7CF0DCDAFE7B";
        let lower = "85798b38-ae44-48eb-bb90-7cf0dcdafe7b";
        assert!(about(upper, Some(lower)).is_ok());
        assert!(about(lower, Some(upper)).is_ok());
        assert!(about(lower, Some(&format!(" {lower}\n"))).is_ok());
        assert!(about(lower, Some("85798b38-ae44-48eb-bb90-7cf0dcdafe7c")).is_err());
        assert!(about("JOB-1", Some("job-1")).is_err());
        // An echo padded with Unicode spaces is another text, not this job.
        assert!(about(lower, Some(&format!("\u{3000}{lower}"))).is_err());
    }

    #[test]
    fn a_timeout_reads_as_people_write_it() {
        let f = super::no_answer_within(std::time::Duration::from_nanos(1_996_339_464));
        assert_eq!(f.message, "no answer within 2s");
    }

    #[test]
    fn ipv4_mapped_loopback_is_loopback() {
        for (u, want) in [
            ("http://[::ffff:127.0.0.1]:8080", true),
            ("http://[::1]:1", true),
            ("http://127.0.0.2", true),
            ("http://[::ffff:10.0.0.1]", false),
            ("http://0.0.0.0:1", false),
            ("http://[::]:1", false),
        ] {
            assert_eq!(is_loopback(&Url::parse(u).unwrap()), want, "{u}");
        }
    }

    #[test]
    fn a_body_is_refused_as_soon_as_it_passes_its_cap() {
        let mut b = CappedBody::new(10, None).unwrap();
        b.push(b"012345").unwrap();
        b.push(b"6789").unwrap();
        let f = b.push(b"x").unwrap_err();
        assert_eq!(f.kind, FaultKind::TooLarge);
        assert!(f.is_transient());
        assert!(f.message.starts_with("answer larger than 10 bytes"), "{f}");
        assert_eq!(b.into_inner(), b"0123456789");
        // Announced too long: refused before a byte is read.
        assert!(CappedBody::new(10, Some(11)).is_err());
        assert!(CappedBody::new(10, Some(10)).is_ok());
        let f = CappedBody::new(super::MAX_BODY_BYTES, Some(1 << 30)).unwrap_err();
        assert!(f.message.starts_with("answer larger than 4 MiB;"), "{f}");
    }

    fn chain(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_host_that_does_not_resolve_points_at_the_region() {
        let msg = connection_message(
            &chain(&[
                "error sending request for url (https://dli.cn-nort-4.myhuaweicloud.com/v1/p/jobs/j/progress)",
                "client error (Connect)",
                "dns error",
                "failed to lookup address information: Name or service not known",
            ]),
            Some("dli.cn-nort-4.myhuaweicloud.com"),
        );
        assert_eq!(
            msg,
            (
                "cannot resolve dli.cn-nort-4.myhuaweicloud.com (DNS)".to_string(),
                Some(Check::HostName)
            )
        );
    }

    #[test]
    fn a_refused_connection_names_the_endpoint_and_other_errors_keep_their_chain() {
        let refused = chain(&[
            "error sending request",
            "client error (Connect)",
            "tcp connect error",
            "Connection refused (os error 111)",
        ]);
        assert_eq!(
            connection_message(&refused, Some("127.0.0.1:9")),
            (
                "127.0.0.1:9 refused the connection".to_string(),
                Some(Check::Address)
            )
        );
        let reset = chain(&["error sending request", "connection reset by peer"]);
        assert_eq!(
            connection_message(&reset, None),
            (
                "error sending request: connection reset by peer".to_string(),
                None
            )
        );
    }
}
