//! The one place that decides what an API answer means: ok, a transient fault (retry), or a
//! permanent one (stop). Pure: it sees status, headers and body bytes, never a socket.

use super::model::{BodyFacts, DliBody, ErrorBody, JobStatus, extract_code, lossy_json};
use std::fmt;
use std::time::{Duration, SystemTime};

/// Retry, or stop for good: because the service said no (permanent), or because this
/// machine's configuration can never work (config: nothing was, or could be, asked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultClass {
    Transient,
    Permanent,
    /// A deterministic local problem (a certificate nobody here trusts, a request that
    /// cannot be built): retrying cannot help; the user must change the configuration.
    Config,
}

/// What went wrong, as precisely as the answer allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// `DLI.0999`: the queue is busy, or its backend is too old for `/progress`.
    QueueBusy,
    /// HTTP 429 or the gateway's `APIGW.0308` throttling.
    Throttled,
    /// HTTP 5xx (or the gateway's backend timeout `APIGW.0201`).
    ServerError,
    /// An HTML (or other non-JSON) error page from a proxy or gateway.
    GatewayPage,
    /// A 2xx answer whose body is not the JSON we expect.
    MalformedBody,
    /// An answer body larger than the client reads (`client::MAX_BODY_BYTES`).
    TooLarge,
    /// Could not connect, or the connection broke.
    Connection,
    /// This machine ran out of a resource a connection needs (file descriptors: `ulimit -n`;
    /// memory, network buffers): a local fault, never "the service did not answer".
    LocalResource,
    /// The server's TLS certificate is not trusted here (unknown issuer, wrong name,
    /// expired): configuration, not a passing fault.
    Tls,
    /// The request cannot be built or sent at all (a header value with a control character,
    /// a URL the HTTP stack refuses).
    Unsendable,
    /// The request took longer than `--request-timeout`.
    Timeout,
    /// 401: signature, key or token rejected (also a clock more than 15 minutes off).
    Unauthorized,
    /// 403: the credentials may not do this.
    Forbidden,
    /// The job or project does not exist (`DLI.0002`, `DLI.0023`, 404).
    NotFound,
    /// Any other request DLI refuses (`DLI.0001`, …).
    Rejected,
}

/// A classified fault: what, how to treat it, and what the server said.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    pub class: FaultClass,
    pub kind: FaultKind,
    pub http_status: Option<u16>,
    pub code: Option<String>,
    pub message: String,
    pub request_id: Option<String>,
    /// The server's `Retry-After`, already turned into a delay.
    pub retry_after: Option<Duration>,
    /// What to check, where the kind alone does not say (see [`Fault::check`]).
    pub check: Option<Check>,
    /// Whether the request may have reached the service: a submit that was [`Delivery::NotSent`]
    /// cannot have created anything.
    pub delivery: Delivery,
}

/// Whether a fault's request may have reached the service, decided from the transport
/// error's kind: a connection that was never made (the host did not resolve, the connection
/// was refused or timed out, TLS was not trusted in the handshake) or a request that could
/// not be built carried nothing; anything later (a broken connection, a lost or slow answer,
/// any HTTP answer) may have been read by the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Delivery {
    /// The request may have been read by the service (and a submit may have created a job).
    #[default]
    MaybeSent,
    /// No byte of the request was written to the service.
    NotSent,
}

impl FaultClass {
    pub fn as_str(self) -> &'static str {
        match self {
            FaultClass::Transient => "transient",
            FaultClass::Permanent => "permanent",
            FaultClass::Config => "config",
        }
    }
}

impl FaultKind {
    /// The kind's name in machine-readable output.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::QueueBusy => "queue_busy",
            FaultKind::Throttled => "throttled",
            FaultKind::ServerError => "server_error",
            FaultKind::GatewayPage => "gateway_page",
            FaultKind::MalformedBody => "malformed_body",
            FaultKind::TooLarge => "too_large",
            FaultKind::Connection => "connection",
            FaultKind::LocalResource => "local_resource",
            FaultKind::Tls => "tls",
            FaultKind::Unsendable => "unsendable",
            FaultKind::Timeout => "timeout",
            FaultKind::Unauthorized => "unauthorized",
            FaultKind::Forbidden => "forbidden",
            FaultKind::NotFound => "not_found",
            FaultKind::Rejected => "rejected",
        }
    }
}

impl Fault {
    pub fn is_transient(&self) -> bool {
        self.class == FaultClass::Transient
    }

    fn new(class: FaultClass, kind: FaultKind, message: impl Into<String>) -> Self {
        Fault {
            class,
            kind,
            http_status: None,
            code: None,
            // A server's message is kept to a bound (a 3 MB `error_msg` would be walked by
            // every output, and held by every job).
            message: super::model::cut_text(message.into()),
            request_id: None,
            retry_after: None,
            check: None,
            delivery: Delivery::MaybeSent,
        }
    }

    /// The same fault, known never to have reached the service ([`Delivery::NotSent`]).
    pub fn not_sent(mut self) -> Self {
        self.delivery = Delivery::NotSent;
        self
    }

    /// A transport failure: no HTTP answer at all.
    pub fn transport(kind: FaultKind, message: impl Into<String>) -> Self {
        Fault::new(FaultClass::Transient, kind, message)
    }

    /// A permanent fault found here, not said by the service (an answer that cannot be
    /// trusted for what it was asked): retrying cannot help.
    pub fn permanent(kind: FaultKind, message: impl Into<String>) -> Self {
        Fault::new(FaultClass::Permanent, kind, message)
    }

    /// A configuration fault: nothing to retry, the user must fix something here.
    pub fn config(kind: FaultKind, message: impl Into<String>) -> Self {
        Fault::new(FaultClass::Config, kind, message)
    }

    /// The same fault, with what to check about it.
    pub fn checking(mut self, check: Check) -> Self {
        self.check = Some(check);
        self
    }

    /// What the user would check about this fault, if anything they control could cause it.
    pub fn check(&self) -> Option<Check> {
        self.check.or(match self.kind {
            FaultKind::Unauthorized => Some(Check::Credentials),
            FaultKind::Forbidden => Some(Check::Permissions),
            FaultKind::NotFound => Some(Check::JobAndProject),
            FaultKind::Tls => Some(Check::TlsTrust),
            FaultKind::Unsendable => Some(Check::RequestValues),
            _ => None,
        })
    }
}

/// What to check about a fault, named abstractly: the command line says it in its own words
/// (flag and variable names), see `cli::hint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// The key pair or token, their expiry, and the clock.
    Credentials,
    /// The IAM permissions of the credentials.
    Permissions,
    /// The job id, the project and the region.
    JobAndProject,
    /// What a submit names (the queue, the database, the tables of the SQL), the project and
    /// the region: a refused submit has no job id to check.
    Submission,
    /// The region or endpoint's host name, and DNS.
    HostName,
    /// The endpoint's address, and that the service is up.
    Address,
    /// The limit for one request.
    RequestTimeout,
    /// The request rate shared by all jobs.
    RequestRate,
    /// Which certificate authorities this machine trusts (the system store, the trust
    /// file and directory variables).
    TlsTrust,
    /// The values that go into a request (endpoint, project id, job id, credentials) for
    /// characters HTTP cannot carry.
    RequestValues,
    /// OIDC federation: the identity provider, the ID token, its mapping in IAM, IAM's address.
    Federation,
    /// The ECS metadata service: the ECS's agency, and the service's address.
    Metadata,
    /// The queue a job runs on: DLI gives no query results of jobs on its `default` queue.
    OwnQueue,
}

impl fmt::Display for Fault {
    /// `DLI.0999 (HTTP 400): The queue is busy.`; the request id is left to final messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.code, self.http_status) {
            (Some(c), Some(s)) => write!(f, "{c} (HTTP {s})")?,
            (Some(c), None) => write!(f, "{c}")?,
            (None, Some(s)) => write!(f, "HTTP {s}")?,
            (None, None) => {}
        }
        if !self.message.is_empty() {
            if self.code.is_some() || self.http_status.is_some() {
                f.write_str(": ")?;
            }
            // DLI often repeats its code at the start of the message: say it once.
            let message = match &self.code {
                Some(c) => self
                    .message
                    .strip_prefix(c.as_str())
                    .map_or(self.message.as_str(), |m| m.trim_start_matches([':', ' '])),
                None => &self.message,
            };
            f.write_str(message)?;
        }
        Ok(())
    }
}

/// One HTTP answer, reduced to what classification needs.
#[derive(Debug, Clone, Default)]
pub struct Reply {
    pub status: u16,
    pub retry_after: Option<String>,
    /// The server's clock (`Date`), for `check`'s clock comparison.
    pub date: Option<String>,
    pub request_id: Option<String>,
    pub body: Vec<u8>,
}

const QUEUE_BUSY: &str = "DLI.0999";

/// Classify an answer: a parsed body, or the fault it stands for. `now` turns an HTTP-date
/// `Retry-After` into a delay.
pub fn classify<T: DliBody>(reply: &Reply, now: SystemTime) -> Result<T, Fault> {
    let status_code = reply.status;
    let retry_after = reply
        .retry_after
        .as_deref()
        .and_then(|v| parse_retry_after(v, now));
    let with_context = |mut f: Fault| {
        f.http_status = Some(status_code);
        f.request_id = reply.request_id.clone();
        f.retry_after = retry_after;
        f
    };
    let text = String::from_utf8_lossy(&reply.body);
    // Text fields decoded lossily: bytes that are not UTF-8 (GBK) and escapes of lone
    // surrogates (Java cutting an emoji in half) become U+FFFD, not a body that never parses.
    let json = lossy_json(&reply.body);
    // The error fields, read the same way from every body (2xx or not); `Err` when the body
    // is not one JSON object.
    let facts = if T::LIST {
        BodyFacts::read_list(&json)
    } else {
        BodyFacts::read(&json)
    };

    if (200..300).contains(&status_code) {
        let malformed = |why: String| {
            let kind = if looks_like_html(&text) {
                FaultKind::GatewayPage
            } else {
                FaultKind::MalformedBody
            };
            with_context(Fault::new(
                FaultClass::Transient,
                kind,
                format!(
                    "answer is not the expected JSON object ({why}): {}",
                    snippet(&text)
                ),
            ))
        };
        // Not one JSON object (an array, a string, null, a page): not an answer, whatever
        // the typed body would make of it.
        let facts = facts.map_err(|e| malformed(e.to_string()))?;
        let body: T = serde_json::from_slice(&json).map_err(|e| malformed(e.to_string()))?;
        // Whether the answer says the request failed: `is_success: false` (in the envelope
        // of a SQL body or in any body), or an error code not overruled by an explicit
        // `is_success: true`.
        let error = &facts.error;
        let refused = body.envelope().is_some_and(|e| !e.is_success)
            || facts.is_success == Some(false)
            || (error.code.is_some() && facts.is_success != Some(true));
        let status = body.job_status();
        // A job that FAILED is an answer whatever else its body says: DLI puts "DLI.0999: …"
        // into the messages of jobs that failed, and a refusal is no better news than a
        // failure. Nothing else bypasses the refusal: a success (or a cancel) is believed
        // only from an answer that says nothing of an error.
        if status.is_some_and(JobStatus::is_failure) {
            return Ok(body);
        }
        let message = || {
            error
                .message
                .clone()
                .filter(|m| !m.is_empty())
                .or_else(|| body.envelope().map(|e| e.message.clone()))
                .unwrap_or_default()
        };
        // A final status next to an error code (even one that says `is_success: true`, even
        // one only in the message) or an error's own message field is a contradiction: not
        // an ending.
        let contradicts = body.contradicts_itself()
            || (body.claims_an_ending()
                && (error.code.is_some()
                    || facts.says_failed
                    || extract_code(&message()).is_some()));
        if refused || contradicts {
            let message = message();
            let code = error.code.clone().or_else(|| extract_code(&message));
            let (class, kind) = kind_of(status_code, code.as_deref(), false);
            let mut f = with_context(Fault::new(class, kind, message));
            f.code = code;
            if let Some(id) = &error.request_id {
                f.request_id = Some(id.clone());
            }
            return Err(f);
        }
        if body.status_missing(&facts) {
            return Err(malformed("no job status in it".to_string()));
        }
        return Ok(body);
    }

    let error: Option<ErrorBody> = facts
        .ok()
        .map(|f| f.error)
        .filter(|e| e.code.is_some() || e.message.as_ref().is_some_and(|m| !m.is_empty()));
    let html = error.is_none() && looks_like_html(&text);
    let code = error.as_ref().and_then(|e| e.code.clone());
    let message = match error.as_ref().and_then(|e| e.message.clone()) {
        Some(m) if !m.is_empty() => m,
        _ if html => format!("an HTML error page: {}", html_title(&text)),
        _ => snippet(&text),
    };
    let request_id = error
        .as_ref()
        .and_then(|e| e.request_id.clone())
        .or_else(|| reply.request_id.clone());
    let (class, kind) = kind_of(status_code, code.as_deref(), html);
    let mut f = with_context(Fault::new(class, kind, message));
    f.code = code;
    f.request_id = request_id;
    Err(f)
}

/// What an answer's HTTP status and error code (from the body, either branch) stand for;
/// `html`: the body is an HTML page with no error fields.
fn kind_of(status: u16, code: Option<&str>, html: bool) -> (FaultClass, FaultKind) {
    match (status, code) {
        (_, Some(QUEUE_BUSY)) => (FaultClass::Transient, FaultKind::QueueBusy),
        (_, Some("APIGW.0308" | "APIG.0308")) | (429, _) => {
            (FaultClass::Transient, FaultKind::Throttled)
        }
        (_, Some("APIGW.0201" | "APIG.0201")) => (FaultClass::Transient, FaultKind::ServerError),
        (401, _) | (_, Some("APIGW.0301" | "APIGW.0303" | "DLI.0013" | "DLI.0014")) => {
            (FaultClass::Permanent, FaultKind::Unauthorized)
        }
        (403, _) | (_, Some("DLI.0003" | "DLI.0016")) => {
            (FaultClass::Permanent, FaultKind::Forbidden)
        }
        (404, _) | (_, Some("DLI.0002" | "DLI.0023" | "DLI.12004")) => {
            (FaultClass::Permanent, FaultKind::NotFound)
        }
        (408, _) => (FaultClass::Transient, FaultKind::Timeout),
        (500..=599, _) if html => (FaultClass::Transient, FaultKind::GatewayPage),
        (500..=599, _) => (FaultClass::Transient, FaultKind::ServerError),
        (_, None) if html => (FaultClass::Transient, FaultKind::GatewayPage),
        _ => (FaultClass::Permanent, FaultKind::Rejected),
    }
}

/// The longest `Retry-After` honoured: a broken proxy asking for a week must not park a
/// wait that has no deadline.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// `Retry-After: 7` or `Retry-After: Wed, 21 Oct 2026 07:28:00 GMT`, at most an hour.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    let wait = match v.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => {
            let at = httpdate::parse_http_date(v).ok()?;
            at.duration_since(now).unwrap_or(Duration::ZERO)
        }
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// How much of a body is looked at to describe it (a snippet, an HTML title): the rest of a
/// large body is never walked.
const LOOK_AT: usize = 16 * 1024;

/// The first `max` bytes of `text`, cut at a character boundary.
fn head(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn looks_like_html(text: &str) -> bool {
    let t = head(head(text, LOOK_AT).trim_start(), 256);
    let lower = t.to_ascii_lowercase();
    lower.starts_with("<!doctype html") || lower.starts_with("<html") || lower.contains("<body")
}

fn html_title(text: &str) -> String {
    let text = head(text, LOOK_AT);
    let lower = text.to_ascii_lowercase();
    if let (Some(a), Some(b)) = (lower.find("<title>"), lower.find("</title>"))
        && a + 7 <= b
    {
        return snippet(&text[a + 7..b]);
    }
    snippet(text)
}

/// At most 200 characters of a body on one line: enough to recognise, never a flood. Only
/// the body's first [`LOOK_AT`] bytes are looked at.
fn snippet(text: &str) -> String {
    let one_line: String = head(text, LOOK_AT)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if one_line.is_empty() {
        return if text.len() > LOOK_AT {
            "(blank for its first 16 KiB)".to_string()
        } else {
            "(empty body)".to_string()
        };
    }
    match one_line.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &one_line[..i]),
        None => one_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dli::model::{JobProgress, JobStatus, JobStatusInfo};

    fn reply(status: u16, body: &str) -> Reply {
        Reply {
            status,
            body: body.as_bytes().to_vec(),
            ..Reply::default()
        }
    }

    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
    }

    fn fault(r: &Reply) -> Fault {
        classify::<JobProgress>(r, now()).unwrap_err()
    }

    #[test]
    fn ok_progress_is_ok() {
        let p: JobProgress = classify(
            &reply(200, r#"{"is_success":true,"status":"RUNNING"}"#),
            now(),
        )
        .unwrap();
        assert_eq!(p.status, JobStatus::Running);
    }

    #[test]
    fn queue_busy_with_http_400_is_transient() {
        let f = fault(&reply(
            400,
            r#"{"error_code":"DLI.0999","error_msg":"The queue backend version is too old or the queue is busy."}"#,
        ));
        assert_eq!(
            (f.class, f.kind),
            (FaultClass::Transient, FaultKind::QueueBusy)
        );
        assert_eq!(f.code.as_deref(), Some("DLI.0999"));
    }

    #[test]
    fn queue_busy_inside_http_200_is_transient() {
        let f = fault(&reply(
            200,
            r#"{"is_success":false,"message":"DLI.0999: The queue is busy.","status":"RUNNING"}"#,
        ));
        assert_eq!(
            (f.class, f.kind),
            (FaultClass::Transient, FaultKind::QueueBusy)
        );
    }

    #[test]
    fn failed_job_with_queue_busy_message_stays_failed() {
        let p: JobProgress = classify(
            &reply(
                200,
                r#"{"is_success":false,"message":"DLI.0999: SparkException: Job aborted","status":"FAILED"}"#,
            ),
            now(),
        )
        .unwrap();
        assert_eq!(p.status, JobStatus::Failed);
    }

    #[test]
    fn throttling_honours_retry_after_in_seconds() {
        let mut r = reply(
            429,
            r#"{"error_code":"APIGW.0308","error_msg":"The throttling threshold has been reached"}"#,
        );
        r.retry_after = Some("7".into());
        let f = fault(&r);
        assert_eq!(
            (f.class, f.kind),
            (FaultClass::Transient, FaultKind::Throttled)
        );
        assert_eq!(f.retry_after, Some(Duration::from_secs(7)));
    }

    #[test]
    fn retry_after_as_http_date() {
        let at = now() + Duration::from_secs(30);
        let mut r = reply(503, "");
        r.retry_after = Some(httpdate::fmt_http_date(at));
        let f = fault(&r);
        assert_eq!(
            (f.class, f.kind),
            (FaultClass::Transient, FaultKind::ServerError)
        );
        assert_eq!(f.retry_after, Some(Duration::from_secs(30)));
        // A date in the past means "now", not a panic or a huge wait.
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", now()),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now()), None);
    }

    #[test]
    fn server_errors_are_transient() {
        for s in [500, 502, 503, 504] {
            assert_eq!(fault(&reply(s, "{}")).class, FaultClass::Transient, "{s}");
        }
    }

    #[test]
    fn html_gateway_page_is_transient() {
        let f = fault(&reply(
            502,
            "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
        ));
        assert_eq!(
            (f.class, f.kind),
            (FaultClass::Transient, FaultKind::GatewayPage)
        );
        assert!(f.message.contains("502 Bad Gateway"));
    }

    #[test]
    fn malformed_json_is_transient() {
        let f = fault(&reply(200, r#"{"is_success": tru"#));
        assert_eq!(
            (f.class, f.kind),
            (FaultClass::Transient, FaultKind::MalformedBody)
        );
    }

    #[test]
    fn unauthorized_is_permanent_and_mentions_the_clock() {
        let f = fault(&reply(
            401,
            r#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information","request_id":"r1"}"#,
        ));
        assert_eq!(
            (f.class, f.kind),
            (FaultClass::Permanent, FaultKind::Unauthorized)
        );
        assert_eq!(f.check(), Some(Check::Credentials));
        assert_eq!(f.request_id.as_deref(), Some("r1"));
    }

    #[test]
    fn forbidden_unknown_job_and_other_client_errors_are_permanent() {
        assert_eq!(fault(&reply(403, "{}")).kind, FaultKind::Forbidden);
        let f = fault(&reply(
            400,
            r#"{"error_code":"DLI.0002","error_msg":"The job does not exist"}"#,
        ));
        assert_eq!(
            (f.class, f.kind),
            (FaultClass::Permanent, FaultKind::NotFound)
        );
        let f = fault(&reply(
            400,
            r#"{"error_code":"DLI.0001","error_msg":"bad"}"#,
        ));
        assert_eq!(
            (f.class, f.kind),
            (FaultClass::Permanent, FaultKind::Rejected)
        );
    }

    #[test]
    fn not_success_without_queue_busy_is_permanent() {
        let f = fault(&reply(
            200,
            r#"{"is_success":false,"message":"DLI.0001: nope"}"#,
        ));
        assert_eq!(f.class, FaultClass::Permanent);
        assert_eq!(f.code.as_deref(), Some("DLI.0001"));
    }

    fn kind(r: &Reply) -> (FaultClass, FaultKind, Option<String>) {
        let f = fault(r);
        (f.class, f.kind, f.code)
    }

    fn busy() -> (FaultClass, FaultKind, Option<String>) {
        (
            FaultClass::Transient,
            FaultKind::QueueBusy,
            Some("DLI.0999".into()),
        )
    }

    /// The code of a 2xx answer is found where an error answer's is, the SDKs' way.
    #[test]
    fn an_error_code_in_a_2xx_body_is_read_as_in_an_error_body() {
        let f = fault(&reply(
            200,
            r#"{"is_success": false, "error_code": "DLI.0999", "message": "The queue backend version is too old or the queue is busy."}"#,
        ));
        assert_eq!(
            (f.class, f.kind),
            (FaultClass::Transient, FaultKind::QueueBusy)
        );
        assert_eq!(f.code.as_deref(), Some("DLI.0999"));
        assert_eq!(
            f.message,
            "The queue backend version is too old or the queue is busy."
        );
        assert_eq!(
            kind(&reply(
                200,
                r#"{"is_success":false,"code":"DLI.0999","message":"busy"}"#
            )),
            busy()
        );
        assert_eq!(
            kind(&reply(200, r#"{"errorCode":"DLI.0999","errorMsg":"busy"}"#)),
            busy()
        );
        // No is_success at all (the SDKs take that for success): the code still counts.
        assert_eq!(
            kind(&reply(
                200,
                r#"{"error_code":"DLI.0002","error_msg":"no such job"}"#
            )),
            (
                FaultClass::Permanent,
                FaultKind::NotFound,
                Some("DLI.0002".into())
            )
        );
        assert_eq!(
            kind(&reply(
                200,
                r#"{"error_code":"APIGW.0308","error_msg":"throttled"}"#
            ))
            .1,
            FaultKind::Throttled
        );
        // A number for a code.
        let f = fault(&reply(
            200,
            r#"{"is_success":false,"code":1234,"message":"odd"}"#,
        ));
        assert_eq!(
            (f.code.as_deref(), f.message.as_str()),
            (Some("1234"), "odd")
        );
        // An explicit success with a code is a success.
        let p: JobProgress = classify(
            &reply(
                200,
                r#"{"is_success":true,"error_code":"DLI.0999","status":"RUNNING"}"#,
            ),
            now(),
        )
        .unwrap();
        assert_eq!(p.status, JobStatus::Running);
    }

    #[test]
    fn error_bodies_take_the_first_pair_the_sdks_take() {
        assert_eq!(
            kind(&reply(400, r#"{"errorCode":"DLI.0999","errorMsg":"busy"}"#)),
            busy()
        );
        assert_eq!(
            kind(&reply(400, r#"{"code":"DLI.0002","message":"gone"}"#)).1,
            FaultKind::NotFound
        );
        // error_code/error_msg before code/message, whatever their order in the body.
        let f = fault(&reply(
            400,
            r#"{"code":"DLI.0001","message":"a","error_code":"DLI.0999","error_msg":"b"}"#,
        ));
        assert_eq!(
            (f.code.as_deref(), f.message.as_str()),
            (Some("DLI.0999"), "b")
        );
        // Nested, as the SDKs look.
        assert_eq!(
            kind(&reply(
                500,
                r#"{"error":{"error_code":"DLI.0999","error_msg":"nested"}}"#
            )),
            busy()
        );
        assert_eq!(
            kind(&reply(400, r#"{"code":400,"message":"bad"}"#)),
            (
                FaultClass::Permanent,
                FaultKind::Rejected,
                Some("400".into())
            )
        );
    }

    #[test]
    fn a_failed_job_stays_failed_whatever_code_its_answer_carries() {
        let p: JobProgress = classify(
            &reply(
                200,
                r#"{"is_success":false,"error_code":"DLI.0999","message":"DLI.0999: Job aborted","status":"FAILED"}"#,
            ),
            now(),
        )
        .unwrap();
        assert_eq!(p.status, JobStatus::Failed);
    }

    /// Anything but one JSON object is no answer, on /progress and /status alike.
    #[test]
    fn json_that_is_not_an_object_is_a_malformed_answer() {
        for body in ["[]", "[1,2]", "\"x\"", "null", "1", "[{}]", "true"] {
            for f in [
                classify::<JobProgress>(&reply(200, body), now()).unwrap_err(),
                classify::<JobStatusInfo>(&reply(200, body), now()).unwrap_err(),
            ] {
                assert_eq!(
                    (f.class, f.kind),
                    (FaultClass::Transient, FaultKind::MalformedBody),
                    "{body}"
                );
                assert!(f.message.contains("not the expected JSON object"), "{f}");
            }
        }
    }

    #[test]
    fn a_job_answer_without_a_status_is_a_malformed_answer() {
        for body in [
            "{}",
            r#"{"is_success":true,"message":""}"#,
            r#"{"status":null}"#,
        ] {
            assert_eq!(
                fault(&reply(200, body)).kind,
                FaultKind::MalformedBody,
                "{body}"
            );
            assert_eq!(
                classify::<JobStatusInfo>(&reply(200, body), now())
                    .unwrap_err()
                    .kind,
                FaultKind::MalformedBody
            );
        }
        // A cancel's answer carries no status.
        assert!(classify::<crate::dli::model::CancelJobResponse>(&reply(200, "{}"), now()).is_ok());
    }

    /// Spark bodies have no envelope; they are classified the same way all the same.
    #[test]
    fn spark_bodies_are_classified_like_sql_bodies() {
        use crate::dli::spark::{BatchDetails, BatchState, CancelBatchResponse};
        let state = |status: u16, body: &str| classify::<BatchState>(&reply(status, body), now());
        let s = state(200, r#"{"id":"b","state":"Success"}"#).unwrap();
        assert_eq!(s.state, JobStatus::Success);
        // No state string: no answer about the batch.
        for body in [
            "{}",
            r#"{"id":"b"}"#,
            r#"{"id":"b","state":null}"#,
            r#"{"state":3}"#,
        ] {
            let f = state(200, body).unwrap_err();
            assert_eq!(f.kind, FaultKind::MalformedBody, "{body}");
        }
        // An error code, or is_success false, in a 2xx body is a fault, found the SDKs' way.
        let f = state(200, r#"{"error_code":"DLI.0999","error_msg":"busy"}"#).unwrap_err();
        assert_eq!(
            (f.class, f.kind),
            (FaultClass::Transient, FaultKind::QueueBusy)
        );
        let f = state(200, r#"{"is_success":false,"message":"DLI.0999: busy"}"#).unwrap_err();
        assert_eq!(f.kind, FaultKind::QueueBusy);
        let f = state(
            200,
            r#"{"is_success":false,"message":"DLI.0001: nope","state":"running"}"#,
        )
        .unwrap_err();
        assert_eq!(
            (f.class, f.code.as_deref()),
            (FaultClass::Permanent, Some("DLI.0001"))
        );
        // A batch that ended is an answer, whatever else its body says.
        let s = state(200, r#"{"state":"dead","error_code":"DLI.0999"}"#).unwrap();
        assert_eq!(s.state, JobStatus::Dead);
        // Error answers, as for SQL.
        let f = state(
            400,
            r#"{"error_code":"DLI.0002","error_msg":"no such batch"}"#,
        )
        .unwrap_err();
        assert_eq!(
            (f.class, f.kind),
            (FaultClass::Permanent, FaultKind::NotFound)
        );
        let f = state(502, "<html><title>502 Bad Gateway</title></html>").unwrap_err();
        assert_eq!(f.kind, FaultKind::GatewayPage);
        for body in ["[]", "null", "\"dead\""] {
            assert_eq!(state(200, body).unwrap_err().kind, FaultKind::MalformedBody);
        }
        let d: BatchDetails = classify(
            &reply(
                200,
                r#"{"id":"b","state":"dead","log":["ValueError: x"],"appId":null}"#,
            ),
            now(),
        )
        .unwrap();
        assert_eq!(d.reason().as_deref(), Some("ValueError: x"));
        let c: CancelBatchResponse = classify(&reply(200, r#"{"msg":"deleted"}"#), now()).unwrap();
        assert_eq!(c.msg, "deleted");
    }

    #[test]
    fn snippets_look_only_at_the_start_of_a_body() {
        let long = "word ".repeat(1_000_000);
        let s = snippet(&long);
        assert!(s.ends_with('…') && s.chars().count() == 201, "{s}");
        let blank_then_text = format!("{}text", " ".repeat(LOOK_AT + 1));
        assert_eq!(snippet(&blank_then_text), "(blank for its first 16 KiB)");
        assert_eq!(snippet(""), "(empty body)");
        // A cut never splits a character.
        let wide = "é".repeat(LOOK_AT);
        assert!(snippet(&wide).starts_with('é'));
        let page = format!("<html><title>{}</title>", "x".repeat(1000));
        assert!(html_title(&page).chars().count() <= 201);
    }

    /// Issue 25: an answer that says the request failed is never a success, whatever final
    /// status it also carries.
    #[test]
    fn a_refusal_with_a_final_status_is_no_success() {
        use crate::dli::spark::BatchState;
        for body in [
            r#"{"is_success":false,"message":"DLI.0002: The job does not exist","status":"FINISHED"}"#,
            r#"{"error_code":"DLI.0002","error_msg":"The job does not exist","status":"FINISHED"}"#,
            r#"{"is_success":true,"error_code":"DLI.0002","status":"FINISHED"}"#,
            r#"{"is_success":true,"message":"DLI.0002: The job does not exist","status":"FINISHED"}"#,
            r#"{"status":"FINISHED","error":{"error_code":"DLI.0002","error_msg":"gone"}}"#,
            r#"{"is_success":false,"message":"","status":"CANCELLED"}"#,
            r#"{"status":"FINISHED","error_msg":"The job does not exist"}"#,
            r#"{"status":"FINISHED","errorMsg":"failed"}"#,
            // A name given twice does not take an error back.
            r#"{"error_code":"DLI.0002","error_code":null,"status":"FINISHED"}"#,
            r#"{"error_msg":"x","error_msg":"","status":"FINISHED"}"#,
            // Errors inside, in halves or other shapes; codes in any case.
            r#"{"is_success":true,"status":"FINISHED","data":{"error_code":"DLI.0002"}}"#,
            r#"{"is_success":true,"status":"FINISHED","data":{"is_success":false}}"#,
            r#"{"code":{"error_code":"DLI.0002"},"status":"FINISHED"}"#,
            r#"{"status":"FINISHED","error":"DLI.0002 job does not exist"}"#,
            r#"{"status":"FINISHED","message":"dli.0002: x"}"#,
            r#"{"status":"FINISHED","message":"APIGW.0101 x"}"#,
        ] {
            let r = classify::<JobProgress>(&reply(200, body), now());
            assert!(r.is_err(), "{body}: {r:?}");
            let r = classify::<JobStatusInfo>(&reply(200, body), now());
            assert!(r.is_err(), "{body}: {r:?}");
        }
        let f = fault(&reply(
            200,
            r#"{"is_success":false,"message":"DLI.0002: The job does not exist","status":"FINISHED"}"#,
        ));
        assert_eq!(
            (f.class, f.kind),
            (FaultClass::Permanent, FaultKind::NotFound)
        );
        for body in [
            r#"{"is_success":false,"error_code":"DLI.0002","state":"success"}"#,
            r#"{"error_code":"DLI.0002","state":"success"}"#,
            r#"{"is_success":false,"state":"Success"}"#,
        ] {
            let r = classify::<BatchState>(&reply(200, body), now());
            assert!(r.is_err(), "{body}: {r:?}");
        }
        // A table named DLI.something is no error code.
        let p: JobProgress = classify(
            &reply(
                200,
                r#"{"is_success":true,"message":"wrote DLI.orders","status":"FINISHED"}"#,
            ),
            now(),
        )
        .unwrap();
        assert_eq!(p.status, JobStatus::Finished);
        assert_eq!(
            extract_code("x DLI.orders then DLI.0999: busy"),
            Some("DLI.0999".into())
        );
        assert_eq!(extract_code("DLI.12"), None);
    }

    /// A `sync` submit says its job FINISHED: believed only from an answer that says
    /// nothing failed.
    #[test]
    fn a_sync_submit_that_says_it_failed_is_no_success() {
        use crate::dli::model::SubmitJobResponse;
        let id = "85798b38-ae44-48eb-bb90-7cf0dcdafe7b";
        for body in [
            format!(
                r#"{{"is_success":true,"job_id":"{id}","job_mode":"sync","error_code":"DLI.0005","error_msg":"syntax error"}}"#
            ),
            format!(
                r#"{{"is_success":true,"job_id":"{id}","job_mode":"sync","message":"DLI.0005: syntax error"}}"#
            ),
            format!(r#"{{"is_success":true,"job_id":"{id}","job_mode":"sync","status":"FAILED"}}"#),
        ] {
            let r = classify::<SubmitJobResponse>(&reply(200, &body), now());
            assert!(r.is_err(), "{body}: {r:?}");
        }
        let ok = format!(r#"{{"is_success":true,"message":"","job_id":"{id}","job_mode":"sync"}}"#);
        let a: SubmitJobResponse = classify(&reply(200, &ok), now()).unwrap();
        assert!(a.is_sync());
        // An async submit's answer claims no ending: its code is judged as before.
        let later = format!(
            r#"{{"is_success":true,"job_id":"{id}","job_mode":"async","error_code":"DLI.0005"}}"#
        );
        assert!(classify::<SubmitJobResponse>(&reply(200, &later), now()).is_ok());
        assert_eq!(extract_code("dli.0002: x").as_deref(), Some("DLI.0002"));
        assert_eq!(
            extract_code("APIGW.0101 then DLI.0999").as_deref(),
            Some("APIGW.0101")
        );
    }

    /// Issue 25: a FAILED answer whose text is not clean UTF-8 is still the failure, with a
    /// lossy reason, not a malformed answer forever.
    #[test]
    fn a_failure_with_broken_text_is_still_a_failure() {
        let lone = br#"{"is_success":true,"message":"boom \ud83d","status":"FAILED"}"#;
        let p: JobProgress = classify(
            &Reply {
                status: 200,
                body: lone.to_vec(),
                ..Reply::default()
            },
            now(),
        )
        .unwrap();
        assert_eq!(p.status, JobStatus::Failed);
        assert_eq!(p.envelope.message, "boom \u{fffd}");
        let mut gbk = br#"{"message":"\xd6\xd0\xce\xc4","status":"FAILED"}"#.to_vec();
        // Real GBK bytes (中文), not UTF-8.
        let at = gbk.windows(4).position(|w| w == br"\xd6").unwrap();
        gbk.splice(at..at + 16, [0xd6, 0xd0, 0xce, 0xc4]);
        let info: JobStatusInfo = classify(
            &Reply {
                status: 200,
                body: gbk,
                ..Reply::default()
            },
            now(),
        )
        .unwrap();
        assert_eq!(info.status, JobStatus::Failed);
        assert!(info.envelope.message.contains('\u{fffd}'));
    }

    mod properties {
        use super::*;
        use crate::dli::spark::BatchState;
        use proptest::prelude::*;

        /// One member of a generated answer body, and whether it says the request failed.
        fn member() -> impl Strategy<Value = (String, bool)> {
            let code = prop_oneof![
                Just("\"DLI.0002\"".to_string()),
                Just("\"DLI.0999\"".to_string()),
                Just("\"APIGW.0308\"".to_string()),
                Just("404".to_string()),
            ];
            prop_oneof![
                Just(("\"is_success\":false".to_string(), true)),
                Just(("\"is_success\":true".to_string(), false)),
                Just(("\"is_success\":null".to_string(), false)),
                Just(("\"is_success\":\"false\"".to_string(), false)),
                code.clone()
                    .prop_map(|c| (format!("\"error_code\":{c}"), true)),
                code.clone()
                    .prop_map(|c| (format!("\"errorCode\":{c}"), true)),
                code.clone().prop_map(|c| (format!("\"code\":{c}"), true)),
                code.prop_map(|c| (
                    format!("\"error\":{{\"error_code\":{c},\"error_msg\":\"x\"}}"),
                    true
                )),
                Just((
                    "\"message\":\"DLI.0002: The job does not exist\"".to_string(),
                    true
                )),
                Just(("\"message\":\"\"".to_string(), false)),
                Just(("\"error_msg\":\"nope\"".to_string(), true)),
                Just(("\"errorMsg\":\"\"".to_string(), false)),
                Just(("\"error_code\":null".to_string(), false)),
                Just(("\"error_msg\":\"\"".to_string(), false)),
                Just(("\"data\":{\"error_code\":\"DLI.0002\"}".to_string(), true)),
                Just(("\"data\":{\"is_success\":false}".to_string(), true)),
                Just(("\"data\":{\"x\":{\"errorMsg\":\"no\"}}".to_string(), true)),
                Just(("\"error\":\"DLI.0002 gone\"".to_string(), true)),
                Just(("\"message\":\"dli.0002: gone\"".to_string(), true)),
                Just(("\"message\":\"APIGW.0101 refused\"".to_string(), true)),
                Just(("\"message\":\"wrote DLI.orders\"".to_string(), false)),
                Just(("\"data\":{\"message\":\"ok\"}".to_string(), false)),
                Just((
                    "\"job_id\":\"85798b38-ae44-48eb-bb90-7cf0dcdafe7b\"".to_string(),
                    false
                )),
                "[a-z_]{1,8}".prop_map(|k| (format!("\"x_{k}\":1"), false)),
            ]
        }

        fn status_word() -> impl Strategy<Value = String> {
            prop_oneof![
                Just("FINISHED"),
                Just("finished"),
                Just(" FINISHED "),
                Just("\\u3000FINISHED"),
                Just("FAILED"),
                Just("CANCELLED"),
                Just("RUNNING"),
                Just("success"),
                Just("Success"),
                Just("dead"),
                Just("running"),
                Just("SUCCESS\\u00a0"),
            ]
            .prop_map(str::to_string)
        }

        proptest! {
            /// For any answer, a success comes only from a 2xx answer with a final-success
            /// status and nothing in the same answer saying the request failed.
            #[test]
            fn a_success_only_from_an_answer_that_says_nothing_failed(
                http in prop_oneof![Just(200u16), Just(201), Just(204), Just(400), Just(404), Just(500), 100u16..600],
                members in proptest::collection::vec(member(), 0..5),
                status in proptest::option::of(status_word()),
                field in prop_oneof![Just("status"), Just("state")],
            ) {
                let mut parts: Vec<String> = members.iter().map(|(m, _)| m.clone()).collect();
                if let Some(s) = &status {
                    parts.push(format!("\"{field}\":\"{s}\""));
                }
                let body = format!("{{{}}}", parts.join(","));
                let says_failed = members.iter().any(|(_, f)| *f);
                let r = reply(http, &body);
                if let Ok(p) = classify::<JobProgress>(&r, now())
                    && p.status == JobStatus::Finished
                {
                        prop_assert!((200..300).contains(&http) && !says_failed, "{http} {body}");
                        prop_assert_eq!(status.as_deref().map(str::trim_ascii), Some("FINISHED"));
                }
                if let Ok(i) = classify::<JobStatusInfo>(&r, now())
                    && i.status == JobStatus::Finished
                {
                        prop_assert!((200..300).contains(&http) && !says_failed, "{http} {body}");
                }
                if let Ok(b) = classify::<BatchState>(&r, now())
                    && b.state == JobStatus::Success
                {
                        prop_assert!((200..300).contains(&http) && !says_failed, "{http} {body}");
                        prop_assert_eq!(
                            status.as_deref().map(|s| s.trim_ascii().to_ascii_lowercase()),
                            Some("success".to_string())
                        );
                }
            }

            /// Any bytes at all: an answer or a fault, never a panic; and lossy decoding
            /// keeps every body that already parsed exactly as it was.
            #[test]
            fn any_bytes_classify_without_panic(body in proptest::collection::vec(any::<u8>(), 0..200), http in 100u16..600) {
                let r = Reply { status: http, body: body.clone(), ..Reply::default() };
                let _ = classify::<JobProgress>(&r, now());
                let _ = classify::<BatchState>(&r, now());
                if serde_json::from_slice::<serde_json::Value>(&body).is_ok() {
                    prop_assert_eq!(&*crate::dli::model::lossy_json(&body), &body[..]);
                }
            }
        }
    }

    #[test]
    fn transport_faults_are_transient() {
        assert!(Fault::transport(FaultKind::Connection, "reset").is_transient());
        assert!(Fault::transport(FaultKind::Timeout, "slow").is_transient());
    }
}
