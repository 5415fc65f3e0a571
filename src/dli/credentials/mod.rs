//! Where the credentials come from, and keeping temporary ones fresh.
//!
//! One chain, in the official SDKs' order ([`chain`]): the environment (an OIDC identity
//! provider and ID token file, an access key pair, or an IAM token), the credentials file
//! ([`file`]), then the ECS metadata service ([`metadata`]), asked only where it can exist.
//! Federation ([`federation`]) and the metadata service issue temporary keys, which the
//! [`Provider`] renews ahead of their expiry and, at most once per request, after a 401.
//! Every secret a source hands over goes to the provider's secret sink as soon as it is known,
//! before anything could print it.

pub mod chain;
pub mod federation;
pub mod file;
pub mod keys;
pub mod metadata;
pub mod provider;

pub use keys::{Temporary, parse_time, read_credential, renew_margin, rfc3339};
pub use provider::{Current, Issue, Provider, Remember, SecretSink};

use super::client::{CappedBody, header_safe, transport_fault};
use super::fault::{Check, Fault, FaultClass, FaultKind};
use std::time::Duration;

/// What the credential services may answer at most (they answer a few hundred bytes).
const MAX_ANSWER: usize = 64 * 1024;

/// One answer of IAM or the metadata service.
pub(crate) struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

/// Send a request to a credential service and read its (small) answer. Faults say `what`
/// was asked and never hold a header or a body value of ours.
pub(crate) async fn exchange(
    builder: reqwest::RequestBuilder,
    timeout: Duration,
    check: Check,
) -> Result<Answer, Fault> {
    let run = async {
        let mut resp = builder
            .send()
            .await
            .map_err(|e| transport_fault(&e, timeout))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let mut body = CappedBody::new(MAX_ANSWER, resp.content_length())?;
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| transport_fault(&e, timeout))?
        {
            body.push(&chunk)?;
        }
        Ok(Answer {
            status,
            headers,
            body: body.into_inner(),
        })
    };
    match tokio::time::timeout(timeout, run).await {
        Ok(r) => r.map_err(|f: Fault| f.checking(check)),
        Err(_) => Err(Fault::transport(
            FaultKind::Timeout,
            format!("no answer within {}", super::human::duration(timeout)),
        )
        .checking(check)),
    }
}

/// A credential service's refusal or error answer as a fault: 4xx refusals are for good
/// (the identity provider, the ID token, the agency: configuration to fix), 429 and 5xx pass.
pub(crate) fn refusal(who: &str, answer: &Answer, check: Check) -> Fault {
    let facts = super::model::BodyFacts::read(&answer.body).ok();
    let code = facts.as_ref().and_then(|f| f.error.code.clone());
    let said = facts
        .and_then(|f| f.error.message)
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| {
            let text = String::from_utf8_lossy(&answer.body);
            let t: String = text.trim().chars().take(200).collect();
            if t.is_empty() {
                "no message".to_string()
            } else {
                t
            }
        });
    let status = answer.status;
    let (class, kind) = match status {
        429 => (FaultClass::Transient, FaultKind::Throttled),
        500..=599 => (FaultClass::Transient, FaultKind::ServerError),
        401 => (FaultClass::Permanent, FaultKind::Unauthorized),
        403 => (FaultClass::Permanent, FaultKind::Forbidden),
        _ => (FaultClass::Permanent, FaultKind::Rejected),
    };
    let mut f = Fault::transport(kind, format!("{who} answered: {said}")).checking(check);
    f.class = class;
    f.http_status = Some(status);
    f.code = code;
    f
}

/// An answer that is not what the SDKs read: transient (a proxy in the way, a hiccup).
pub(crate) fn malformed(who: &str, why: &str, check: Check) -> Fault {
    Fault::transport(FaultKind::MalformedBody, format!("{who}: {why}")).checking(check)
}

/// Temporary keys from `body` whose key and token can go into headers.
pub(crate) fn sendable_keys(who: &str, body: &[u8], check: Check) -> Result<Temporary, Fault> {
    let keys = read_credential(body).map_err(|why| malformed(who, &why, check))?;
    for (what, value) in [
        ("access", keys.ak.expose()),
        ("securitytoken", keys.security_token.expose()),
    ] {
        if header_safe(value).is_err() {
            return Err(malformed(
                who,
                &format!("the answer's {what} has characters an HTTP header cannot carry"),
                check,
            ));
        }
    }
    Ok(keys)
}
