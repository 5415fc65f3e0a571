//! The simulator's IAM and ECS metadata service, on the simulator's own listener (other paths
//! than DLI's): OIDC federation (an ID token for an unscoped token, that for temporary keys)
//! and the ECS agency's keys, in the shapes the official SDKs read (checked against
//! huaweicloudsdkcore by tests/fidelity/sdk_credentials.py). The keys it issues expire on the
//! scenario's schedule (`credentials` in a scenario), and the simulated gateway accepts them
//! until then, signatures checked with the issued secret key.

use super::http::{Request, Response};
use super::scenario::{CredentialSpec, Span};
use crate::dli::credentials::{federation, metadata, rfc3339};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

/// Temporary keys the simulator issued.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Issued {
    /// 1 for the first keys issued, 2 for the next…
    pub serial: u64,
    pub ak: String,
    pub sk: String,
    pub security_token: String,
    /// `federation` or `metadata`.
    pub by: &'static str,
    pub expires_at: String,
    #[serde(skip)]
    valid_until: Instant,
    #[serde(skip)]
    revoked_at: Option<Instant>,
}

/// Why the gateway refuses temporary keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Their time is up (or they were revoked).
    Expired,
    /// `X-Security-Token` is missing or is not the one issued with the key.
    WrongToken,
}

#[derive(Default)]
struct State {
    issued: Vec<Issued>,
    /// Unscoped tokens from federation → until when they hold.
    tokens: HashMap<String, Instant>,
    /// Metadata session tokens.
    sessions: Vec<String>,
}

/// The simulated IAM and metadata service.
pub struct Iam {
    spec: CredentialSpec,
    speed: f64,
    state: Mutex<State>,
}

fn iam_error(status: u16, title: &str, message: &str) -> Response {
    // Keystone's error shape, as IAM's v3 APIs answer.
    Response::json(
        status,
        &json!({"error": {"code": status, "title": title, "message": message}}),
    )
}

/// A fresh random string of `n` characters from `alphabet`.
fn random(n: usize, alphabet: &[u8]) -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..n)
        .map(|_| char::from(alphabet[rng.gen_range(0..alphabet.len())]))
        .collect()
}

const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const MIXED: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const TOKEN: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

impl Iam {
    pub fn new(spec: CredentialSpec, speed: f64) -> Self {
        Iam {
            spec,
            speed: if speed > 0.0 { speed } else { 1.0 },
            state: Mutex::new(State::default()),
        }
    }

    pub fn idp_id(&self) -> &str {
        &self.spec.idp_id
    }

    /// Job time → wall time.
    fn wall(&self, span: Span) -> Duration {
        Duration::try_from_secs_f64(span.get() / self.speed).unwrap_or(Duration::MAX)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every key issued so far, and the tokens (for tests, `GET /_sim/credentials`).
    pub fn details(&self) -> serde_json::Value {
        let s = self.lock();
        json!({
            "issued": s.issued,
            "tokens": s.tokens.keys().collect::<Vec<_>>(),
            "sessions": s.sessions,
        })
    }

    /// The serial number of the temporary key `ak`, if the simulator issued it.
    pub fn serial(&self, ak: &str) -> Option<u64> {
        self.lock()
            .issued
            .iter()
            .find(|i| i.ak == ak)
            .map(|i| i.serial)
    }

    /// What the gateway makes of temporary key `ak` presented with `security_token`: `None`
    /// when the simulator never issued it; otherwise its secret key, or why it is refused.
    pub fn check(&self, ak: &str, security_token: Option<&str>) -> Option<Result<String, Refusal>> {
        let s = self.lock();
        let key = s.issued.iter().find(|i| i.ak == ak)?;
        let now = Instant::now();
        if now >= key.valid_until || key.revoked_at.is_some_and(|r| now >= r) {
            return Some(Err(Refusal::Expired));
        }
        if security_token != Some(key.security_token.as_str()) {
            return Some(Err(Refusal::WrongToken));
        }
        Some(Ok(key.sk.clone()))
    }

    /// Issue keys for `asked` (federation's `duration_seconds`, or none).
    fn issue(&self, by: &'static str, asked: Option<Duration>) -> Issued {
        let lifetime = match self.spec.lifetime {
            Some(l) => self.wall(l),
            None => asked.unwrap_or(Duration::from_secs(6 * 3600)),
        };
        let now = Instant::now();
        let mut s = self.lock();
        let serial = s.issued.len() as u64 + 1;
        let issued = Issued {
            serial,
            ak: format!("SIMTMP{}", random(14, UPPER)),
            sk: random(40, MIXED),
            security_token: format!("gQpzaW11bGF0b3I{}", random(120, TOKEN)),
            by,
            expires_at: rfc3339(SystemTime::now() + lifetime),
            valid_until: now + lifetime,
            revoked_at: self.spec.revoked_after.map(|r| now + self.wall(r)),
        };
        s.issued.push(issued.clone());
        issued
    }

    fn credential(issued: &Issued) -> serde_json::Value {
        json!({"credential": {
            "access": issued.ak,
            "secret": issued.sk,
            "securitytoken": issued.security_token,
            "expires_at": issued.expires_at,
        }})
    }

    /// The answer to an IAM or metadata request; `None` for any other path.
    pub fn route(&self, req: &Request) -> Option<Response> {
        let path = req.path.trim_end_matches('/');
        let method = req.method.as_str();
        let answer = match path {
            federation::ID_TOKEN_PATH => match method {
                "POST" => self.id_token(req),
                _ => iam_error(405, "Method Not Allowed", "The method is not allowed."),
            },
            federation::SECURITY_TOKENS_PATH => match method {
                "POST" => self.security_tokens(req),
                _ => iam_error(405, "Method Not Allowed", "The method is not allowed."),
            },
            metadata::TOKEN_PATH => match method {
                "PUT" => self.session(req),
                _ => Response::raw(405, "text/plain", "Method Not Allowed"),
            },
            metadata::SECURITY_KEY_PATH => match method {
                "GET" => self.security_key(req),
                _ => Response::raw(405, "text/plain", "Method Not Allowed"),
            },
            _ => return None,
        };
        Some(answer)
    }

    /// `POST /v3.0/OS-AUTH/id-token/tokens`: an unscoped token for an ID token.
    fn id_token(&self, req: &Request) -> Response {
        match req.header("X-Idp-Id").map(str::trim) {
            Some(idp) if idp == self.spec.idp_id => {}
            Some(idp) => {
                return iam_error(
                    404,
                    "Not Found",
                    &format!("Could not find Identity Provider: {idp}."),
                );
            }
            None => return iam_error(400, "Bad Request", "X-Idp-Id is required."),
        }
        let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
        let Some(id_token) = body["auth"]["id_token"]["id"]
            .as_str()
            .filter(|t| !t.is_empty())
        else {
            return iam_error(400, "Bad Request", "auth.id_token.id is required.");
        };
        if self.spec.id_token.as_deref().is_some_and(|t| t != id_token) {
            return iam_error(
                401,
                "Unauthorized",
                "The id_token is invalid or has expired.",
            );
        }
        let token = format!("MIIsimulator{}", random(160, TOKEN));
        let lasts = Duration::from_secs(24 * 3600);
        self.lock()
            .tokens
            .insert(token.clone(), Instant::now() + lasts);
        let now = SystemTime::now();
        Response::json(
            201,
            &json!({"token": {
                "methods": ["mapped"],
                "issued_at": rfc3339(now),
                "expires_at": rfc3339(now + lasts),
                "user": {
                    "domain": {"id": "0000000000000000000000000000d011", "name": "simulator"},
                    "id": "0000000000000000000000000000a5e7",
                    "name": "FederationUser",
                    "OS-FEDERATION": {
                        "identity_provider": {"id": self.spec.idp_id},
                        "protocol": {"id": "oidc"},
                        "groups": [],
                    },
                },
            }}),
        )
        .with_header("X-Subject-Token", &token)
    }

    /// `POST /v3.0/OS-CREDENTIAL/securitytokens`: temporary keys for a token.
    fn security_tokens(&self, req: &Request) -> Response {
        let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
        let identity = &body["auth"]["identity"];
        let by_token = identity["methods"]
            .as_array()
            .is_some_and(|m| m.iter().any(|x| x == "token"));
        if !by_token {
            return iam_error(
                400,
                "Bad Request",
                "auth.identity.methods must be [\"token\"].",
            );
        }
        let token = identity["token"]["id"]
            .as_str()
            .or_else(|| req.header("X-Auth-Token"))
            .unwrap_or_default();
        let valid = self
            .lock()
            .tokens
            .get(token)
            .is_some_and(|until| Instant::now() < *until);
        if !valid {
            return iam_error(401, "Unauthorized", "The token is invalid or has expired.");
        }
        let asked = match &identity["token"]["duration_seconds"] {
            serde_json::Value::Null => None,
            v => match v.as_u64() {
                Some(s) if (900..=86400).contains(&s) => Some(Duration::from_secs(s)),
                _ => {
                    return iam_error(
                        400,
                        "Bad Request",
                        "duration_seconds must be from 900 to 86400.",
                    );
                }
            },
        };
        let issued = self.issue("federation", asked);
        Response::json(201, &Iam::credential(&issued))
    }

    /// `PUT /meta-data/latest/api/token`: a session token.
    fn session(&self, req: &Request) -> Response {
        if !self.spec.sessions {
            return Response::raw(404, "text/plain", "Not Found");
        }
        if req.header("X-Metadata-Token-Ttl-Seconds").is_none() {
            return Response::raw(
                400,
                "text/plain",
                "X-Metadata-Token-Ttl-Seconds is required",
            );
        }
        let token = random(48, TOKEN);
        self.lock().sessions.push(token.clone());
        Response::raw(200, "text/plain", token)
    }

    /// `GET /openstack/latest/securitykey`: the agency's temporary keys.
    fn security_key(&self, req: &Request) -> Response {
        if self.spec.sessions {
            let session = req.header("X-Metadata-Token").unwrap_or_default();
            if !self.lock().sessions.iter().any(|s| s == session) {
                return Response::raw(401, "text/plain", "Unauthorized");
            }
        }
        if !self.spec.agency {
            return Response::json(
                401,
                &json!({"error": "Please configure Cloud Service Agency first"}),
            );
        }
        let issued = self.issue("metadata", None);
        Response::json(200, &Iam::credential(&issued))
    }
}
