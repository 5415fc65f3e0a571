//! The DLI HTTP client: builds, signs and sends the four calls dli-wait makes, and hands every
//! answer to `fault::classify`. Knows nothing of waiting or retrying: callers decide that.

use super::auth::Credentials;
use super::fault::{Check, Fault, FaultKind, Reply, classify};
use super::model::DliBody;
use super::model::{CancelJobResponse, JobProgress, JobStatusInfo, SubmitJob, SubmitJobResponse};
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
    pub credentials: Credentials,
    pub request_timeout: Duration,
}

/// A DLI client for one project. Clones share the connection pool and the rate limit.
#[derive(Debug, Clone)]
pub struct DliClient {
    http: reqwest::Client,
    cfg: ClientConfig,
    pacer: Option<std::sync::Arc<Pacer>>,
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
    pub fn new(cfg: ClientConfig) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(cfg.request_timeout.min(Duration::from_secs(10)))
            .pool_idle_timeout(Duration::from_secs(50))
            .build()?;
        Ok(DliClient {
            http,
            cfg,
            pacer: None,
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

    fn path(&self, version: &str, rest: &str) -> String {
        format!(
            "/{version}/{}/{rest}",
            encode_component(&self.cfg.project_id)
        )
    }

    /// `GET /v1/{project_id}/jobs/{job_id}/progress`.
    pub async fn progress(&self, job_id: &str, timeout: Duration) -> Result<JobProgress, Fault> {
        let path = self.path("v1", &format!("jobs/{}/progress", encode_component(job_id)));
        self.call("GET", &path, None, timeout).await
    }

    /// `GET /v1.0/{project_id}/jobs/{job_id}/status`.
    pub async fn status(&self, job_id: &str, timeout: Duration) -> Result<JobStatusInfo, Fault> {
        let path = self.path("v1.0", &format!("jobs/{}/status", encode_component(job_id)));
        self.call("GET", &path, None, timeout).await
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
    pub async fn submit(
        &self,
        job: &SubmitJob,
        timeout: Duration,
    ) -> Result<SubmitJobResponse, Fault> {
        let body = serde_json::to_vec(job).unwrap_or_default();
        let path = self.path("v1.0", "jobs/submit-job");
        self.call("POST", &path, Some(body), timeout).await
    }

    /// Build and sign a request at Unix time `now_unix` (pure apart from the clock value).
    pub fn prepare(
        &self,
        method: &'static str,
        path: &str,
        body: Option<Vec<u8>>,
        now_unix: i64,
    ) -> PreparedRequest {
        let mut url = self.cfg.endpoint.clone();
        let base = url.path().trim_end_matches('/').to_string();
        url.set_path(&format!("{base}{path}"));
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
        match &self.cfg.credentials {
            Credentials::Token(token) => {
                headers.push(("X-Auth-Token".to_string(), token.expose().to_string()));
            }
            Credentials::AkSk {
                ak,
                sk,
                security_token,
            } => {
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
        let Some(p) = &self.pacer else { return Ok(()) };
        match within {
            None => {
                p.wait_in(lane).await;
                Ok(())
            }
            Some(left) => tokio::time::timeout(left, p.wait_in(lane))
                .await
                .map_err(|_| {
                    Fault::transport(
                        FaultKind::Timeout,
                        "no turn to send a request before the deadline",
                    )
                    .checking(Check::RequestRate)
                }),
        }
    }

    /// Sign, send and classify one request.
    async fn call<T: DliBody>(
        &self,
        method: &'static str,
        path: &str,
        body: Option<Vec<u8>>,
        timeout: Duration,
    ) -> Result<T, Fault> {
        let now = SystemTime::now();
        let unix = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let prepared = self.prepare(method, path, body, unix);
        tracing::debug!(method, path, "request");
        let reply = self.send(prepared, timeout).await?;
        tracing::debug!(method, path, status = reply.status, "reply");
        tracing::trace!(body = %String::from_utf8_lossy(&reply.body), "reply body");
        classify(&reply, SystemTime::now())
    }

    async fn send(&self, req: PreparedRequest, timeout: Duration) -> Result<Reply, Fault> {
        let method =
            reqwest::Method::from_bytes(req.method.as_bytes()).unwrap_or(reqwest::Method::GET);
        let mut builder = self.http.request(method, req.url).timeout(timeout);
        for (k, v) in &req.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        if !req.body.is_empty() {
            builder = builder.body(req.body);
        }
        let resp = builder
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
        let body = resp
            .bytes()
            .await
            .map_err(|e| transport_fault(&e, timeout))?
            .to_vec();
        Ok(Reply {
            status,
            retry_after,
            request_id,
            body,
        })
    }
}

/// A reqwest error as a transient fault, described without URLs' secrets (there are none in
/// our URLs) and without headers.
fn transport_fault(e: &reqwest::Error, timeout: Duration) -> Fault {
    if e.is_timeout() {
        return Fault::transport(
            FaultKind::Timeout,
            format!("no answer within {}", humantime::format_duration(timeout)),
        )
        .checking(Check::RequestTimeout);
    }
    let mut chain = vec![e.to_string()];
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        chain.push(s.to_string());
        src = s.source();
    }
    let host = e.url().and_then(|u| {
        let host = u.host_str()?;
        Some(u.port().map_or(host.to_string(), |p| format!("{host}:{p}")))
    });
    let (message, check) = connection_message(&chain, host.as_deref());
    let fault = Fault::transport(FaultKind::Connection, message);
    match check {
        Some(c) => fault.checking(c),
        None => fault,
    }
}

/// A connection failure in a few words: the two a user can act on (a host that does not
/// resolve, which is usually a mistyped region, and a refused connection) said plainly with
/// what to check, anything else as the error chain.
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
    } else {
        (chain.join(": "), None)
    }
}

#[cfg(test)]
mod tests {
    use super::{Check, connection_message};

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
