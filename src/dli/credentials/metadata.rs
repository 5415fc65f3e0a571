//! The ECS metadata service, the SDKs' way (`MetadataAccessor`): a session token from
//! `PUT /meta-data/latest/api/token` (`X-Metadata-Token-Ttl-Seconds`), then the agency's
//! temporary keys from `GET /openstack/latest/securitykey` (`X-Metadata-Token`). A service
//! without sessions (404, 405 or 503 to the PUT) is asked without one. Every request is
//! bounded (1 s to connect, 2 s in all) and never goes through a proxy.

use super::{Issue, Remember, Temporary, exchange, refusal, sendable_keys};
use crate::dli::client::USER_AGENT;
use crate::dli::fault::{Check, Fault, FaultClass};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use url::Url;

/// Where the metadata service is on every ECS.
pub const DEFAULT_ENDPOINT: &str = "http://169.254.169.254";
pub const TOKEN_PATH: &str = "/meta-data/latest/api/token";
pub const SECURITY_KEY_PATH: &str = "/openstack/latest/securitykey";
/// How long a session token is asked for (the SDKs' six hours).
pub const TOKEN_TTL_SECONDS: u64 = 6 * 60 * 60;
/// The metadata service answers at once or not at all: a machine that is not an ECS must not
/// hold the start of a wait for long.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
pub const TIMEOUT: Duration = Duration::from_secs(2);
/// What the service says (in a 401) on an ECS without an agency.
const NO_AGENCY: &str = "Please configure Cloud Service Agency first";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    pub endpoint: Url,
}

impl Metadata {
    fn url(&self, path: &str) -> Url {
        let mut url = self.endpoint.clone();
        let base = url.path().trim_end_matches('/').to_string();
        url.set_path(&format!("{base}{path}"));
        url
    }

    fn who(&self) -> String {
        format!(
            "the ECS metadata service ({})",
            self.endpoint.as_str().trim_end_matches('/')
        )
    }

    /// The issuer of the agency's keys: never through a proxy, never for long.
    pub fn issuer(self) -> Result<Agency, reqwest::Error> {
        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(TIMEOUT)
            .build()?;
        Ok(Agency {
            metadata: self,
            http,
        })
    }

    /// A session token, or `None` where the service has no sessions.
    async fn session(
        &self,
        http: &reqwest::Client,
        remember: Remember<'_>,
    ) -> Result<Option<String>, Fault> {
        let request = http.put(self.url(TOKEN_PATH)).header(
            "X-Metadata-Token-Ttl-Seconds",
            TOKEN_TTL_SECONDS.to_string(),
        );
        let answer = exchange(request, TIMEOUT, Check::Metadata).await?;
        match answer.status {
            200 => {
                let token = String::from_utf8_lossy(&answer.body).trim().to_string();
                if token.is_empty() {
                    return Ok(None);
                }
                remember(&[&token]);
                Ok(Some(token))
            }
            404 | 405 | 503 => Ok(None),
            _ => Err(refusal(
                &format!("{}, asked for a session token", self.who()),
                &answer,
                Check::Metadata,
            )),
        }
    }

    /// The agency's temporary keys. `remember` gets every secret as soon as it is known.
    async fn issue(
        &self,
        http: &reqwest::Client,
        remember: Remember<'_>,
    ) -> Result<Temporary, Fault> {
        let mut session = self.session(http, remember).await?;
        let mut renewed = false;
        loop {
            let mut request = http.get(self.url(SECURITY_KEY_PATH));
            if let Some(t) = &session {
                request = request.header("X-Metadata-Token", t);
            }
            let answer = exchange(request, TIMEOUT, Check::Metadata).await?;
            let text = String::from_utf8_lossy(&answer.body);
            if answer.status == 401 && !text.contains(NO_AGENCY) && !renewed {
                // The session ended (or there was none): once more with a new one.
                renewed = true;
                session = self.session(http, remember).await?;
                continue;
            }
            if !(200..300).contains(&answer.status) {
                let mut f = refusal(
                    &format!("{}, asked for the agency's keys", self.who()),
                    &answer,
                    Check::Metadata,
                );
                if answer.status == 404 {
                    // No such service here: not an ECS's metadata service, or not at this address.
                    f.class = FaultClass::Config;
                }
                if text.contains(NO_AGENCY) {
                    f.class = FaultClass::Permanent;
                    f.message = format!("{}: this ECS has no agency ({NO_AGENCY})", self.who());
                }
                return Err(f);
            }
            let keys = sendable_keys(&self.who(), &answer.body, Check::Metadata)?;
            remember(&keys.secrets());
            return Ok(keys);
        }
    }
}

/// The metadata service with its HTTP client: an [`Issue`]r of the ECS agency's keys.
pub struct Agency {
    metadata: Metadata,
    http: reqwest::Client,
}

impl Issue for Agency {
    fn issue<'a>(
        &'a self,
        remember: Remember<'a>,
    ) -> Pin<Box<dyn Future<Output = Result<Temporary, Fault>> + Send + 'a>> {
        Box::pin(self.metadata.issue(&self.http, remember))
    }
}
