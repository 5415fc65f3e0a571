//! Credentials: AK/SK (optionally temporary, with a security token) or an IAM token, as a
//! source hands them out (the SDKs' environment variables through [`Credentials::from_lookup`],
//! or the credentials file, OIDC federation and ECS metadata of `dli::credentials`). Their
//! `Debug` never shows a secret.

use std::fmt;

/// A secret string: usable, never printable.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How requests are authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// `SDK-HMAC-SHA256` signing; `security_token` for temporary keys (`X-Security-Token`).
    AkSk {
        ak: Secret,
        sk: Secret,
        security_token: Option<Secret>,
    },
    /// An IAM token sent as `X-Auth-Token`.
    Token(Secret),
}

pub const ENV_AK: &str = "HUAWEICLOUD_SDK_AK";
pub const ENV_SK: &str = "HUAWEICLOUD_SDK_SK";
pub const ENV_SECURITY_TOKEN: &str = "HUAWEICLOUD_SDK_SECURITY_TOKEN";
pub const ENV_AUTH_TOKEN: &str = "HUAWEICLOUD_SDK_AUTH_TOKEN";

/// What is missing or inconsistent in the credential variables.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialsError {
    #[error(
        "no credentials: set {ENV_AK} and {ENV_SK} (an access key pair), or {ENV_AUTH_TOKEN} (an IAM token)"
    )]
    Missing,
    #[error("{0} is set but {1} is not: set both halves of the access key pair")]
    HalfPair(&'static str, &'static str),
}

impl Credentials {
    /// Read the credentials from `get` (the process environment in production). An IAM token
    /// is used only when no access key pair is set.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, CredentialsError> {
        let val = |k: &str| {
            get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        match (val(ENV_AK), val(ENV_SK)) {
            (Some(ak), Some(sk)) => Ok(Credentials::AkSk {
                ak: Secret(ak),
                sk: Secret(sk),
                security_token: val(ENV_SECURITY_TOKEN).map(Secret),
            }),
            (Some(_), None) => Err(CredentialsError::HalfPair(ENV_AK, ENV_SK)),
            (None, Some(_)) => Err(CredentialsError::HalfPair(ENV_SK, ENV_AK)),
            (None, None) => val(ENV_AUTH_TOKEN)
                .map(|t| Credentials::Token(Secret(t)))
                .ok_or(CredentialsError::Missing),
        }
    }

    /// Every secret value, so output can be checked (and scrubbed) against them.
    pub fn secrets(&self) -> Vec<&str> {
        match self {
            Credentials::AkSk {
                ak,
                sk,
                security_token,
            } => {
                let mut v = vec![ak.expose(), sk.expose()];
                if let Some(t) = security_token {
                    v.push(t.expose());
                }
                v
            }
            Credentials::Token(t) => vec![t.expose()],
        }
    }

    /// Whether these are short-lived (a temporary key pair or a token): an authentication
    /// failure late in a wait is then most likely an expiry.
    pub fn expire(&self) -> bool {
        matches!(
            self,
            Credentials::Token(_)
                | Credentials::AkSk {
                    security_token: Some(_),
                    ..
                }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn aksk_wins_over_token() {
        let c = Credentials::from_lookup(lookup(&[
            (ENV_AK, "AK"),
            (ENV_SK, "SK"),
            (ENV_AUTH_TOKEN, "T"),
        ]))
        .unwrap();
        assert!(matches!(c, Credentials::AkSk { .. }));
    }

    #[test]
    fn missing_and_half_pairs_say_what_to_set() {
        let e = Credentials::from_lookup(lookup(&[])).unwrap_err();
        assert!(e.to_string().contains("HUAWEICLOUD_SDK_AK"));
        let e = Credentials::from_lookup(lookup(&[(ENV_AK, "AK")])).unwrap_err();
        assert!(e.to_string().contains("HUAWEICLOUD_SDK_SK is not"));
    }

    #[test]
    fn debug_never_shows_secrets() {
        let c = Credentials::from_lookup(lookup(&[
            (ENV_AK, "MYAKVALUE"),
            (ENV_SK, "MYSKVALUE"),
            (ENV_SECURITY_TOKEN, "MYTOKEN"),
        ]))
        .unwrap();
        let s = format!("{c:?}");
        assert!(!s.contains("MYAKVALUE") && !s.contains("MYSKVALUE") && !s.contains("MYTOKEN"));
        assert!(c.expire());
    }
}
