//! AK/SK request signing (`SDK-HMAC-SHA256`), exactly as Huawei Cloud's official SDKs sign.
//! Pure functions over strings and bytes: no clock, no HTTP client, no environment.

use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha2::{Digest, Sha256};

/// The algorithm name that starts every `Authorization` header.
pub const ALGORITHM: &str = "SDK-HMAC-SHA256";

/// `hex(sha256(""))`: the payload hash of a request without a body.
pub const EMPTY_BODY_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Everything but `A-Z a-z 0-9 - _ . ~` is %-escaped (Python's `quote(s, safe='~')`).
const ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// One request as the signer sees it. `path` is the path as it goes on the wire (it may hold
/// %-escapes); `query` holds the decoded key/value pairs; `headers` are exactly the headers
/// that are sent, `X-Sdk-Date` and `Host` included.
#[derive(Debug, Clone, Copy)]
pub struct SignableRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a [(String, String)],
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// The pieces of a signature, kept so that a simulator can explain a mismatch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub canonical_request: String,
    pub signed_headers: String,
    pub signature: String,
}

impl Signature {
    /// The value of the `Authorization` header.
    pub fn authorization(&self, ak: &str) -> String {
        format!(
            "{ALGORITHM} Access={ak}, SignedHeaders={}, Signature={}",
            self.signed_headers, self.signature
        )
    }
}

/// %-encode one path segment or query component the way the SDK signer does.
pub fn encode_component(s: &str) -> String {
    utf8_percent_encode(s, ENCODE).to_string()
}

/// The canonical URI: decode, re-encode each segment, always end in `/`.
pub fn canonical_uri(path: &str) -> String {
    let decoded = percent_decode_str(path).decode_utf8_lossy();
    let mut uri = decoded
        .split('/')
        .map(encode_component)
        .collect::<Vec<_>>()
        .join("/");
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// The canonical query: pairs sorted by key then value (raw), each side encoded, `&`-joined.
pub fn canonical_query(query: &[(String, String)]) -> String {
    let mut pairs: Vec<&(String, String)> = query.iter().collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The payload hash line. The SDK skips hashing (`UNSIGNED-PAYLOAD`) for non-JSON content
/// types through the `X-Sdk-Content-Sha256` header; when that header is present it wins.
fn payload_hash(req: &SignableRequest<'_>) -> String {
    if req.body.is_empty() {
        return EMPTY_BODY_SHA256.to_string();
    }
    if let Some(v) = header(req.headers, "x-sdk-content-sha256") {
        return v.to_string();
    }
    hex::encode(Sha256::digest(req.body))
}

fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Which headers get signed: every header whose name holds no `_` (the Python SDK's rule),
/// lowercased and sorted, `Authorization` never.
pub fn signed_header_names(headers: &[(String, String)]) -> Vec<String> {
    let mut names: Vec<String> = headers
        .iter()
        .map(|(k, _)| k.to_ascii_lowercase())
        .filter(|k| !k.contains('_') && k != "authorization")
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Sign `req` over the headers named in `signed` (lowercase, sorted), with the secret key `sk`.
/// The client signs over [`signed_header_names`]; a server verifies over the names the
/// client listed in its `SignedHeaders`.
pub fn sign_with(req: &SignableRequest<'_>, signed: &[String], sk: &str) -> Signature {
    let sdk_date = header(req.headers, "x-sdk-date").unwrap_or_default();
    let mut canonical_headers = String::new();
    for name in signed {
        let value = header(req.headers, name).unwrap_or_default().trim();
        canonical_headers.push_str(name);
        canonical_headers.push(':');
        canonical_headers.push_str(value);
        canonical_headers.push('\n');
    }
    let signed_headers = signed.join(";");
    let canonical_request = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method.to_ascii_uppercase(),
        canonical_uri(req.path),
        canonical_query(req.query),
        canonical_headers,
        signed_headers,
        payload_hash(req)
    );
    let string_to_sign = format!(
        "{ALGORITHM}\n{sdk_date}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let signature = hex::encode(hmac_sha256(sk.as_bytes(), string_to_sign.as_bytes()));
    Signature {
        canonical_request,
        signed_headers,
        signature,
    }
}

/// Sign `req` as the official SDK does: over every header it carries.
pub fn sign(req: &SignableRequest<'_>, sk: &str) -> Signature {
    sign_with(req, &signed_header_names(req.headers), sk)
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

/// A parsed `Authorization: SDK-HMAC-SHA256 Access=…, SignedHeaders=…, Signature=…` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationHeader {
    pub access: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

impl AuthorizationHeader {
    /// Parse the header value; `None` when it is not an `SDK-HMAC-SHA256` header.
    pub fn parse(value: &str) -> Option<Self> {
        let rest = value.strip_prefix(ALGORITHM)?.trim_start();
        let (mut access, mut signed, mut signature) = (None, None, None);
        for part in rest.split(',') {
            let (k, v) = part.trim().split_once('=')?;
            match k {
                "Access" => access = Some(v.to_string()),
                "SignedHeaders" => {
                    signed = Some(v.split(';').map(str::to_string).collect::<Vec<_>>())
                }
                "Signature" => signature = Some(v.to_string()),
                _ => return None,
            }
        }
        Some(Self {
            access: access?,
            signed_headers: signed?,
            signature: signature?,
        })
    }
}

/// `X-Sdk-Date` for a Unix time: `YYYYMMDDTHHMMSSZ`, UTC.
pub fn sdk_date(unix_seconds: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(unix_seconds)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(time::macros::format_description!(
        "[year][month][day]T[hour][minute][second]Z"
    ))
    .unwrap_or_default()
}

/// Parse an `X-Sdk-Date` back into Unix seconds (the gateway checks the 15-minute window).
pub fn parse_sdk_date(s: &str) -> Option<i64> {
    let fmt = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    time::PrimitiveDateTime::parse(s, fmt)
        .ok()
        .map(|t| t.assume_utc().unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// The published vector from Huawei's API signing guide.
    #[test]
    fn doc_vector() {
        let query = h(&[
            ("limit", "2"),
            ("marker", "13551d6b-755d-4757-b956-536f674975c0"),
        ]);
        let headers = h(&[
            ("Content-Type", "application/json"),
            ("Host", "service.region.example.com"),
            ("X-Sdk-Date", "20191115T033655Z"),
        ]);
        let req = SignableRequest {
            method: "GET",
            path: "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs",
            query: &query,
            headers: &headers,
            body: b"",
        };
        let sig = sign(&req, "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc");
        assert_eq!(
            sig.authorization("QTWAOYTTINDUT2QVKYUC"),
            "SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders=content-type;host;x-sdk-date, Signature=7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe"
        );
    }

    /// Go SDK unit test: no Host, an underscore header that is not signed.
    #[test]
    fn go_sdk_vector() {
        let query = h(&[("limit", "1")]);
        let headers = h(&[
            ("X-Sdk-Date", "20060102T150405Z"),
            ("TEST_UNDERSCORE", "TEST_VALUE"),
        ]);
        let req = SignableRequest {
            method: "GET",
            path: "/path",
            query: &query,
            headers: &headers,
            body: b"",
        };
        let sig = sign(&req, "SecretKey");
        assert_eq!(sig.signed_headers, "x-sdk-date");
        assert_eq!(
            sig.signature,
            "5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624"
        );
    }

    /// The SDKs' shared canonical-query vector: repeated keys, reserved and non-ASCII text.
    #[test]
    fn canonical_query_vector() {
        let q = h(&[
            ("limit", "1"),
            ("enable", "true"),
            ("test", "一 (&=?!#%.*)"),
            ("path", "/tmp/123"),
            ("multi", "3"),
            ("multi", "1"),
            ("multi", "2"),
        ]);
        assert_eq!(
            canonical_query(&q),
            "enable=true&limit=1&multi=1&multi=2&multi=3&path=%2Ftmp%2F123&test=%E4%B8%80%20%28%26%3D%3F%21%23%25.%2A%29"
        );
    }

    #[test]
    fn canonical_uri_always_ends_in_slash_and_reencodes() {
        assert_eq!(
            canonical_uri("/v1.0/p/jobs/j/status"),
            "/v1.0/p/jobs/j/status/"
        );
        assert_eq!(canonical_uri("/"), "/");
        assert_eq!(canonical_uri("/a%20b/"), "/a%20b/");
        assert_eq!(canonical_uri("/j 1"), "/j%201/");
    }

    #[test]
    fn authorization_header_round_trips() {
        let v = "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date, Signature=abc";
        let parsed = AuthorizationHeader::parse(v).unwrap();
        assert_eq!(parsed.access, "AK");
        assert_eq!(parsed.signed_headers, vec!["host", "x-sdk-date"]);
        assert_eq!(parsed.signature, "abc");
        assert!(AuthorizationHeader::parse("Bearer x").is_none());
    }

    #[test]
    fn sdk_date_formats_and_parses() {
        assert_eq!(sdk_date(1_704_067_200), "20240101T000000Z");
        assert_eq!(parse_sdk_date("20240101T000000Z"), Some(1_704_067_200));
        assert_eq!(parse_sdk_date("nonsense"), None);
    }
}
