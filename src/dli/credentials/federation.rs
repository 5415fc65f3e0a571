//! OIDC federation, the SDKs' way (`FederalAccessor`): an ID token from a file is exchanged at
//! IAM for an unscoped token (`POST /v3.0/OS-AUTH/id-token/tokens`, header `X-Idp-Id`, the
//! token comes back in `X-Subject-Token`), and that for temporary keys
//! (`POST /v3.0/OS-CREDENTIAL/securitytokens`, six hours, as the SDKs ask). The ID token file
//! is read again for every exchange, so a file its issuer keeps fresh keeps working.

use super::{Issue, Remember, Temporary, exchange, malformed, refusal, sendable_keys};
use crate::dli::client::{USER_AGENT, is_loopback};
use crate::dli::fault::{Check, Fault, FaultKind};
use serde_json::json;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;
use url::Url;

/// `CREATE_TOKEN_BY_ID_TOKEN_URI` of the SDKs.
pub const ID_TOKEN_PATH: &str = "/v3.0/OS-AUTH/id-token/tokens";
/// `CREATE_TEMPORARY_ACCESS_KEY_BY_TOKEN_URI` of the SDKs.
pub const SECURITY_TOKENS_PATH: &str = "/v3.0/OS-CREDENTIAL/securitytokens";
/// How long the temporary keys are asked for (the SDKs' `_DEFAULT_DURATION_SECONDS`).
pub const DURATION_SECONDS: u64 = 6 * 60 * 60;

/// What the exchange needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Federation {
    /// The identity provider's id in IAM (`HUAWEICLOUD_SDK_IDP_ID`), sent as `X-Idp-Id`.
    pub idp_id: String,
    /// Where the ID token is (`HUAWEICLOUD_SDK_ID_TOKEN_FILE`).
    pub id_token_file: PathBuf,
    /// IAM's base URL.
    pub iam_endpoint: Url,
}

impl Federation {
    fn url(&self, path: &str) -> Url {
        let mut url = self.iam_endpoint.clone();
        let base = url.path().trim_end_matches('/').to_string();
        url.set_path(&format!("{base}{path}"));
        url
    }

    /// The ID token, read afresh. An unreadable or empty file is configuration.
    fn id_token(&self) -> Result<String, Fault> {
        let file = self.id_token_file.display();
        let text =
            crate::dli::bounded::read_string(&self.id_token_file, crate::dli::bounded::ID_TOKEN)
                .map_err(|e| {
                    Fault::config(
                        FaultKind::Unsendable,
                        format!("cannot read the ID token file {file}: {e}"),
                    )
                    .checking(Check::Federation)
                })?;
        let token = text.trim().to_string();
        if token.is_empty() {
            return Err(Fault::config(
                FaultKind::Unsendable,
                format!("the ID token file {file} is empty"),
            )
            .checking(Check::Federation));
        }
        Ok(token)
    }

    /// The issuer of these keys, each request to IAM within `timeout`. Proxies apply, but
    /// never to a loopback IAM.
    pub fn issuer(self, timeout: Duration) -> Result<Exchange, reqwest::Error> {
        let b = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout.min(Duration::from_secs(10)));
        let http = if is_loopback(&self.iam_endpoint) {
            b.no_proxy()
        } else {
            b
        }
        .build()?;
        Ok(Exchange {
            federation: self,
            http,
            timeout,
        })
    }

    /// Exchange the ID token for temporary keys. `remember` gets every secret (the ID token,
    /// IAM's token, the keys) as soon as it is known.
    async fn issue(
        &self,
        http: &reqwest::Client,
        timeout: Duration,
        remember: Remember<'_>,
    ) -> Result<Temporary, Fault> {
        // Read on a thread of its own: a FIFO or a slow disk must not hold the runtime (the
        // deadline, the signals, the other jobs' polls) while it is read; a plain thread, so
        // that the runtime's end never waits for it either.
        let (tx, rx) = tokio::sync::oneshot::channel();
        let this = self.clone();
        std::thread::Builder::new()
            .name("dli-wait-id-token".into())
            .spawn(move || {
                let _ = tx.send(this.id_token());
            })
            .map_err(|e| {
                Fault::config(
                    FaultKind::Unsendable,
                    format!("cannot start a thread to read the ID token file: {e}"),
                )
            })?;
        let id_token = rx.await.map_err(|_| {
            Fault::config(FaultKind::Unsendable, "the ID token file could not be read")
        })??;
        remember(&[&id_token]);
        let who = format!("IAM ({})", self.iam_endpoint.as_str().trim_end_matches('/'));
        let body = json!({"auth": {"id_token": {"id": id_token}}});
        let request = http
            .post(self.url(ID_TOKEN_PATH))
            .header("X-Idp-Id", &self.idp_id)
            .header("Content-Type", "application/json;charset=UTF-8")
            .body(body.to_string());
        let answer = exchange(request, timeout, Check::Federation).await?;
        if !(200..300).contains(&answer.status) {
            return Err(refusal(
                &format!(
                    "{who}, asked for a token for the ID token (identity provider {:?})",
                    self.idp_id
                ),
                &answer,
                Check::Federation,
            ));
        }
        let token = answer
            .headers
            .get("X-Subject-Token")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .ok_or_else(|| {
                malformed(
                    &who,
                    "the answer to the ID token has no X-Subject-Token",
                    Check::Federation,
                )
            })?;
        remember(&[&token]);
        let body = json!({"auth": {"identity": {
            "methods": ["token"],
            "token": {"id": token, "duration_seconds": DURATION_SECONDS},
        }}});
        let request = http
            .post(self.url(SECURITY_TOKENS_PATH))
            .header("Content-Type", "application/json;charset=UTF-8")
            .body(body.to_string());
        let answer = exchange(request, timeout, Check::Federation).await?;
        if !(200..300).contains(&answer.status) {
            return Err(refusal(
                &format!("{who}, asked for temporary keys"),
                &answer,
                Check::Federation,
            ));
        }
        let keys = sendable_keys(&who, &answer.body, Check::Federation)?;
        remember(&keys.secrets());
        Ok(keys)
    }
}

/// Federation with its HTTP client: an [`Issue`]r of temporary keys.
pub struct Exchange {
    federation: Federation,
    http: reqwest::Client,
    timeout: Duration,
}

impl Issue for Exchange {
    fn issue<'a>(
        &'a self,
        remember: Remember<'a>,
    ) -> Pin<Box<dyn Future<Output = Result<Temporary, Fault>> + Send + 'a>> {
        Box::pin(self.federation.issue(&self.http, self.timeout, remember))
    }
}
