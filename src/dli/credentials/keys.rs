//! Temporary keys and their times: what the sources hand out, read the way the SDKs read it.

use crate::dli::auth::{Credentials, Secret};
use std::time::{Duration, SystemTime};

/// Temporary keys as a source issued them.
#[derive(Clone)]
pub struct Temporary {
    pub ak: Secret,
    pub sk: Secret,
    pub security_token: Secret,
    pub expires_at: SystemTime,
}

impl std::fmt::Debug for Temporary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Temporary")
            .field("expires_at", &rfc3339(self.expires_at))
            .finish_non_exhaustive()
    }
}

impl Temporary {
    pub fn credentials(&self) -> Credentials {
        Credentials::AkSk {
            ak: self.ak.clone(),
            sk: self.sk.clone(),
            security_token: Some(self.security_token.clone()),
        }
    }

    pub fn secrets(&self) -> [&str; 3] {
        [
            self.ak.expose(),
            self.sk.expose(),
            self.security_token.expose(),
        ]
    }
}

/// Read temporary keys from an answer the way the SDKs do (`StsAccessor._process_credential`):
/// the object under `credential` (or `credentials`, or the body itself); the key under
/// `access`, `accessKeyId` or `access_key_id`; the secret under `secret`, `secretAccessKey` or
/// `secret_access_key`; the token under `securitytoken`, `securityToken` or `security_token`;
/// the expiry under `expires_at` or `expiration`, an RFC 3339 time
/// (`2024-01-01T06:00:00.000000Z`). Errors never quote a value.
pub fn read_credential(body: &[u8]) -> Result<Temporary, String> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("the answer is not JSON ({e})"))?;
    let map = v
        .get("credential")
        .or_else(|| v.get("credentials"))
        .unwrap_or(&v);
    if !map.is_object() {
        return Err("the answer holds no credential object".into());
    }
    let first = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| map.get(*n).and_then(|x| x.as_str()))
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let missing = |what: &str| format!("the answer's credential has no {what}");
    let ak = first(&["access", "accessKeyId", "access_key_id"]).ok_or_else(|| missing("access"))?;
    let sk = first(&["secret", "secretAccessKey", "secret_access_key"])
        .ok_or_else(|| missing("secret"))?;
    let token = first(&["securitytoken", "securityToken", "security_token"])
        .ok_or_else(|| missing("securitytoken"))?;
    let expires = first(&["expires_at", "expiration"]).ok_or_else(|| missing("expires_at"))?;
    let expires_at = parse_time(expires).ok_or_else(|| {
        "the answer's expires_at is not an RFC 3339 time such as 2024-01-01T06:00:00.000000Z"
            .to_string()
    })?;
    Ok(Temporary {
        ak: Secret::new(ak),
        sk: Secret::new(sk),
        security_token: Secret::new(token),
        expires_at,
    })
}

/// An RFC 3339 time (`2024-01-01T06:00:00.000000Z`, `2024-01-01T06:00:00Z`, with an offset).
pub fn parse_time(s: &str) -> Option<SystemTime> {
    let t = time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339)
        .ok()?;
    Some(SystemTime::from(t))
}

/// A time as IAM writes it: `2024-01-01T06:00:00.000000Z` (UTC, microseconds).
pub fn rfc3339(t: SystemTime) -> String {
    let t = time::OffsetDateTime::from(t);
    let micros = t.microsecond();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// When temporary keys are renewed: once less than five minutes, or a fifth of their
/// lifetime, whichever is shorter, is left.
pub fn renew_margin(lifetime: Duration) -> Duration {
    (lifetime / 5).min(Duration::from_secs(5 * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_read_the_sdks_way() {
        let t = read_credential(
            br#"{"credential":{"access":"AK1","secret":"SK1","securitytoken":"ST1","expires_at":"2030-01-01T06:00:00.123456Z"}}"#,
        )
        .unwrap();
        assert_eq!(t.secrets(), ["AK1", "SK1", "ST1"]);
        assert_eq!(rfc3339(t.expires_at), "2030-01-01T06:00:00.123456Z");
        // Other spellings, no wrapper, no fraction.
        let t = read_credential(
            br#"{"accessKeyId":"A","secretAccessKey":"S","securityToken":"T","expiration":"2030-01-01T06:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!(t.secrets(), ["A", "S", "T"]);
        let t = read_credential(
            br#"{"credentials":{"access_key_id":"A","secret_access_key":"S","security_token":"T","expires_at":"2030-01-01T06:00:00+08:00"}}"#,
        )
        .unwrap();
        assert_eq!(rfc3339(t.expires_at), "2029-12-31T22:00:00.000000Z");
    }

    #[test]
    fn a_bad_credential_answer_says_what_is_missing_and_never_quotes_a_value() {
        let e = read_credential(br#"{"credential":{"access":"AKVALUE","secret":"SKVALUE"}}"#)
            .unwrap_err();
        assert!(e.contains("securitytoken"), "{e}");
        let e = read_credential(
            br#"{"credential":{"access":"AKVALUE","secret":"SKVALUE","securitytoken":"T","expires_at":"tomorrow"}}"#,
        )
        .unwrap_err();
        assert!(e.contains("expires_at") && !e.contains("VALUE"), "{e}");
        assert!(read_credential(b"[]").is_err());
        assert!(read_credential(b"<html>").is_err());
    }

    #[test]
    fn keys_are_renewed_with_a_fifth_or_five_minutes_left() {
        assert_eq!(
            renew_margin(Duration::from_secs(30)),
            Duration::from_secs(6)
        );
        assert_eq!(
            renew_margin(Duration::from_secs(6 * 3600)),
            Duration::from_secs(300)
        );
        assert_eq!(
            renew_margin(Duration::from_secs(900)),
            Duration::from_secs(180)
        );
    }
}
