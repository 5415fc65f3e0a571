//! The credential chain, in the official SDKs' order (`CredentialProviderChain`: environment,
//! credentials file, ECS metadata), resolved from what the caller reads for it: the
//! environment (`get`) and files (`read`). Pure apart from those two.
//!
//! 1. **The environment.** `HUAWEICLOUD_SDK_IDP_ID` with `HUAWEICLOUD_SDK_ID_TOKEN_FILE`: OIDC
//!    federation (first, as in the SDKs' `EnvCredentialProvider`); else `HUAWEICLOUD_SDK_AK`
//!    with `HUAWEICLOUD_SDK_SK` (and `HUAWEICLOUD_SDK_SECURITY_TOKEN` for temporary keys); else
//!    `HUAWEICLOUD_SDK_AUTH_TOKEN`, an IAM token.
//! 2. **The credentials file**, `HUAWEICLOUD_SDK_CREDENTIALS_FILE` or
//!    `~/.huaweicloud/credentials`, section `[basic]`: `idp_id` with `id_token_file`
//!    (federation, `iam_endpoint` too), else `ak` with `sk` (and `security_token`); its
//!    `project_id` fills in a project id given nowhere else.
//! 3. **The ECS metadata service**, only where it can exist: when `DLI_WAIT_ECS_METADATA=1`, or
//!    when it is unset and the machine says it is a Huawei Cloud ECS (DMI, under
//!    `DLI_WAIT_DMI_DIR`, by default `/sys/class/dmi/id`). `DLI_WAIT_ECS_METADATA=0` never asks.
//!
//! Half a pair (a key without its secret, an identity provider without its token file) is an
//! error, not a reason to look further: a typo must not silently pick other credentials.
//! Federation asks IAM at `iam_endpoint` (the file's), `HUAWEICLOUD_SDK_IAM_ENDPOINT`, or
//! `https://iam.<region>.myhuaweicloud.com` (IAM's global endpoint without a region).

use super::federation::Federation;
use super::metadata::{self, Metadata};
use super::provider::Provider;
use crate::dli::auth::{
    Credentials, CredentialsError, ENV_AK, ENV_AUTH_TOKEN, ENV_SECURITY_TOKEN, ENV_SK,
};
use crate::dli::client::{header_safe, is_loopback};
use std::path::{Path, PathBuf};
use url::Url;

pub const ENV_IDP_ID: &str = "HUAWEICLOUD_SDK_IDP_ID";
pub const ENV_ID_TOKEN_FILE: &str = "HUAWEICLOUD_SDK_ID_TOKEN_FILE";
pub const ENV_IAM_ENDPOINT: &str = "HUAWEICLOUD_SDK_IAM_ENDPOINT";
pub const ENV_CREDENTIALS_FILE: &str = "HUAWEICLOUD_SDK_CREDENTIALS_FILE";
pub const ENV_ECS_METADATA: &str = "DLI_WAIT_ECS_METADATA";
pub const ENV_METADATA_ENDPOINT: &str = "DLI_WAIT_METADATA_ENDPOINT";
pub const ENV_DMI_DIR: &str = "DLI_WAIT_DMI_DIR";
pub const DEFAULT_DMI_DIR: &str = "/sys/class/dmi/id";
/// IAM's global endpoint, the SDKs' default without a region.
pub const GLOBAL_IAM_ENDPOINT: &str = "https://iam.myhuaweicloud.com";
/// What a Huawei Cloud ECS says in its DMI (cloud-init's `DMI_ASSET_TAG_HUAWEICLOUD`).
const ECS_DMI_TAG: &str = "HUAWEICLOUD";
const ECS_DMI_FILES: [&str; 3] = ["chassis_asset_tag", "sys_vendor", "product_name"];

/// What gives the credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Keys or a token as they are.
    Fixed(Credentials),
    Federation(Federation),
    Metadata(Metadata),
}

/// The source chosen, and what was learnt on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    pub source: Source,
    /// The source in words, for `-v` and messages (no secret).
    pub description: String,
    /// The credentials file's `project_id`, when the file is the source.
    pub project_id: Option<String>,
    /// Why each source before it was passed over.
    pub passed_over: Vec<String>,
    /// Something to warn about (credentials of a lower priority set too).
    pub warning: Option<String>,
    /// The values that go into request headers, and what to call them in an error.
    pub header_values: Vec<(String, String)>,
}

/// Why there are no credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainError {
    /// No source has any: each source and what it lacked, in one line.
    Nothing(String),
    /// A source is set up wrongly (half a pair, an unreadable file, a bad URL).
    Invalid(String),
}

type Get<'a> = &'a dyn Fn(&str) -> Option<String>;
type Read<'a> = &'a dyn Fn(&Path) -> std::io::Result<String>;

/// Walk the chain. `region` derives IAM's endpoint for federation.
pub fn choose(get: Get, read: Read, region: Option<&str>) -> Result<Chosen, ChainError> {
    let val = |k: &str| {
        get(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let mut passed_over = Vec::new();

    // 1. The environment.
    if let Some(mut chosen) = from_environment(&val, region)? {
        chosen.passed_over = passed_over;
        return Ok(chosen);
    }
    passed_over.push(format!(
        "environment: none of {ENV_AK}/{ENV_SK}, {ENV_AUTH_TOKEN}, {ENV_IDP_ID}/{ENV_ID_TOKEN_FILE} is set"
    ));

    // 2. The credentials file.
    match from_file(&val, read, region)? {
        Found::Yes(mut chosen) => {
            chosen.passed_over = passed_over;
            return Ok(*chosen);
        }
        Found::No(why) => passed_over.push(why),
    }

    // 3. The ECS metadata service, where it can exist.
    match from_metadata(&val, read)? {
        Found::Yes(mut chosen) => {
            chosen.passed_over = passed_over;
            Ok(*chosen)
        }
        Found::No(why) => {
            passed_over.push(why);
            Err(ChainError::Nothing(format!(
                "no credentials: {}",
                passed_over.join("; ")
            )))
        }
    }
}

enum Found {
    Yes(Box<Chosen>),
    No(String),
}

fn chosen(source: Source, description: String) -> Chosen {
    Chosen {
        source,
        description,
        project_id: None,
        passed_over: Vec::new(),
        warning: None,
        header_values: Vec::new(),
    }
}

fn from_environment(
    val: &dyn Fn(&str) -> Option<String>,
    region: Option<&str>,
) -> Result<Option<Chosen>, ChainError> {
    match (val(ENV_IDP_ID), val(ENV_ID_TOKEN_FILE)) {
        (Some(idp_id), Some(file)) => {
            let iam_endpoint = iam_endpoint(None, val, region)?;
            let mut c = federation(idp_id, PathBuf::from(file), iam_endpoint, "the environment");
            c.header_values
                .push((ENV_IDP_ID.to_string(), c.idp_id_value()));
            if val(ENV_AK).is_some() || val(ENV_AUTH_TOKEN).is_some() {
                c.warning = Some(format!(
                    "{ENV_IDP_ID} and {ENV_ID_TOKEN_FILE} are set, and so are other credentials ({ENV_AK}/{ENV_SK} or {ENV_AUTH_TOKEN}): OIDC federation comes first, as in the SDKs"
                ));
            }
            return Ok(Some(c));
        }
        (Some(_), None) => return Err(half(ENV_IDP_ID, ENV_ID_TOKEN_FILE, "OIDC federation")),
        (None, Some(_)) => return Err(half(ENV_ID_TOKEN_FILE, ENV_IDP_ID, "OIDC federation")),
        (None, None) => {}
    }
    match Credentials::from_lookup(val) {
        Ok(creds) => {
            let (description, values) = match &creds {
                Credentials::AkSk {
                    ak, security_token, ..
                } => {
                    let mut values = vec![(ENV_AK.to_string(), ak.expose().to_string())];
                    let what = match security_token {
                        Some(t) => {
                            values.push((ENV_SECURITY_TOKEN.to_string(), t.expose().to_string()));
                            format!("{ENV_AK}/{ENV_SK} with {ENV_SECURITY_TOKEN}")
                        }
                        None => format!("{ENV_AK}/{ENV_SK}"),
                    };
                    (format!("the environment ({what})"), values)
                }
                Credentials::Token(t) => (
                    format!("the environment ({ENV_AUTH_TOKEN})"),
                    vec![(ENV_AUTH_TOKEN.to_string(), t.expose().to_string())],
                ),
            };
            let mut c = chosen(Source::Fixed(creds), description);
            c.header_values = values;
            Ok(Some(c))
        }
        Err(CredentialsError::Missing) => Ok(None),
        Err(e) => Err(ChainError::Invalid(e.to_string())),
    }
}

fn half(set: &str, unset: &str, what: &str) -> ChainError {
    ChainError::Invalid(format!(
        "{set} is set but {unset} is not: set both for {what}"
    ))
}

fn federation(idp_id: String, id_token_file: PathBuf, iam_endpoint: Url, from: &str) -> Chosen {
    let description = format!(
        "OIDC federation (identity provider {idp_id:?}, ID token file {}, IAM {}) from {from}",
        id_token_file.display(),
        iam_endpoint.as_str().trim_end_matches('/'),
    );
    chosen(
        Source::Federation(Federation {
            idp_id,
            id_token_file,
            iam_endpoint,
        }),
        description,
    )
}

impl Chosen {
    /// The provider of these credentials; IAM's requests each within `request_timeout`.
    pub fn into_provider(self, request_timeout: std::time::Duration) -> Result<Provider, String> {
        let Chosen {
            source,
            description,
            passed_over,
            warning,
            ..
        } = self;
        let http =
            |e: reqwest::Error| format!("cannot set up the HTTP client for the credentials: {e}");
        let provider = match source {
            Source::Fixed(c) => Provider::fixed(c, description),
            Source::Federation(f) => Provider::issued(
                std::sync::Arc::new(f.issuer(request_timeout).map_err(http)?),
                description,
            ),
            Source::Metadata(m) => {
                Provider::issued(std::sync::Arc::new(m.issuer().map_err(http)?), description)
            }
        };
        Ok(provider.explained(passed_over, warning))
    }

    fn idp_id_value(&self) -> String {
        match &self.source {
            Source::Federation(f) => f.idp_id.clone(),
            _ => String::new(),
        }
    }
}

/// IAM's endpoint: the file's `iam_endpoint`, `HUAWEICLOUD_SDK_IAM_ENDPOINT`, the region's, or
/// the global one.
fn iam_endpoint(
    from_file: Option<(&str, &Path)>,
    val: &dyn Fn(&str) -> Option<String>,
    region: Option<&str>,
) -> Result<Url, ChainError> {
    if let Some((raw, path)) = from_file {
        return service_url(raw, true).map_err(|why| {
            ChainError::Invalid(format!("bad iam_endpoint in {}: {why}", path.display()))
        });
    }
    if let Some(raw) = val(ENV_IAM_ENDPOINT) {
        return service_url(&raw, true)
            .map_err(|why| ChainError::Invalid(format!("bad {ENV_IAM_ENDPOINT}: {why}")));
    }
    let raw = match region.map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) if r == "eu-west-101" => format!("https://iam.{r}.myhuaweicloud.eu"),
        Some(r) => format!("https://iam.{r}.myhuaweicloud.com"),
        None => GLOBAL_IAM_ENDPOINT.to_string(),
    };
    service_url(&raw, true).map_err(|why| ChainError::Invalid(format!("bad region for IAM: {why}")))
}

/// A service's base URL: https, or plain http only on loopback when `tls_unless_loopback`
/// (IAM; the metadata service is plain http by nature). Never echoes userinfo.
fn service_url(raw: &str, tls_unless_loopback: bool) -> Result<Url, String> {
    let url = Url::parse(raw.trim()).map_err(|e| {
        format!("{e}; write a URL such as https://iam.cn-north-4.myhuaweicloud.com")
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("credentials do not belong in the URL".into());
    }
    if url.host().is_none() {
        return Err("no host".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("a base URL takes no query or fragment".into());
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if !tls_unless_loopback || is_loopback(&url) => Ok(url),
        "http" => Err("plain http:// is only allowed for loopback hosts; use https://".into()),
        other => Err(format!("unsupported scheme {other}://")),
    }
}

/// Where the credentials file is: `HUAWEICLOUD_SDK_CREDENTIALS_FILE`, or under the home
/// directory; `true` when named explicitly.
fn file_path(val: &dyn Fn(&str) -> Option<String>) -> Option<(PathBuf, bool)> {
    if let Some(p) = val(ENV_CREDENTIALS_FILE) {
        return Some((PathBuf::from(p), true));
    }
    let home = val("HOME").or_else(|| val("USERPROFILE"))?;
    Some((
        Path::new(&home).join(".huaweicloud").join("credentials"),
        false,
    ))
}

fn from_file(
    val: &dyn Fn(&str) -> Option<String>,
    read: Read,
    region: Option<&str>,
) -> Result<Found, ChainError> {
    let Some((path, named)) = file_path(val) else {
        return Ok(Found::No(format!(
            "credentials file: {ENV_CREDENTIALS_FILE} is not set and there is no home directory"
        )));
    };
    let shown = path.display().to_string();
    let text = match read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !named => {
            return Ok(Found::No(format!("credentials file {shown}: not found")));
        }
        Err(e) => {
            let how = if named {
                format!(" ({ENV_CREDENTIALS_FILE})")
            } else {
                String::new()
            };
            return Err(ChainError::Invalid(format!(
                "cannot read the credentials file {shown}{how}: {e}"
            )));
        }
    };
    let ini = super::file::Ini::parse(&text).map_err(|e| {
        ChainError::Invalid(format!("the credentials file {shown} is not INI: {e}"))
    })?;
    if !ini.has_section("basic") {
        return Ok(Found::No(format!(
            "credentials file {shown}: no [basic] section"
        )));
    }
    let key = |k: &str| ini.get("basic", k).map(str::to_string);
    let in_file = |k: &str| format!("{k} in {shown}");
    let project_id = key("project_id");
    let mut c = match (key("idp_id"), key("id_token_file")) {
        (Some(idp_id), Some(token_file)) => {
            let iam = iam_endpoint(
                key("iam_endpoint").as_deref().map(|e| (e, path.as_path())),
                val,
                region,
            )?;
            let mut c = federation(
                idp_id,
                PathBuf::from(token_file),
                iam,
                &format!("the credentials file {shown}"),
            );
            c.header_values.push((in_file("idp_id"), c.idp_id_value()));
            c
        }
        (Some(_), None) => {
            return Err(half(&in_file("idp_id"), "id_token_file", "OIDC federation"));
        }
        (None, Some(_)) => {
            return Err(half(&in_file("id_token_file"), "idp_id", "OIDC federation"));
        }
        (None, None) => match (key("ak"), key("sk")) {
            (Some(ak), Some(sk)) => {
                let security_token = key("security_token");
                let mut values = vec![(in_file("ak"), ak.clone())];
                if let Some(t) = &security_token {
                    values.push((in_file("security_token"), t.clone()));
                }
                let with = if security_token.is_some() {
                    "ak/sk with security_token"
                } else {
                    "ak/sk"
                };
                let creds = Credentials::AkSk {
                    ak: crate::dli::auth::Secret::new(ak),
                    sk: crate::dli::auth::Secret::new(sk),
                    security_token: security_token.map(crate::dli::auth::Secret::new),
                };
                let mut c = chosen(
                    Source::Fixed(creds),
                    format!("the credentials file {shown} ({with})"),
                );
                c.header_values = values;
                c
            }
            (Some(_), None) => return Err(half(&in_file("ak"), "sk", "an access key pair")),
            (None, Some(_)) => return Err(half(&in_file("sk"), "ak", "an access key pair")),
            (None, None) => {
                return Ok(Found::No(format!(
                    "credentials file {shown}: [basic] has neither ak/sk nor idp_id/id_token_file"
                )));
            }
        },
    };
    c.project_id = project_id;
    Ok(Found::Yes(Box::new(c)))
}

fn from_metadata(val: &dyn Fn(&str) -> Option<String>, read: Read) -> Result<Found, ChainError> {
    let enabled = match val(ENV_ECS_METADATA).map(|v| v.to_ascii_lowercase()) {
        Some(v) if matches!(v.as_str(), "1" | "true" | "yes" | "on") => {
            Some(format!("{ENV_ECS_METADATA}={v}"))
        }
        Some(v) if matches!(v.as_str(), "0" | "false" | "no" | "off") => {
            return Ok(Found::No(format!(
                "ECS metadata: not asked ({ENV_ECS_METADATA}={v})"
            )));
        }
        Some(_) => {
            return Err(ChainError::Invalid(format!(
                "{ENV_ECS_METADATA} must be 1 (ask the ECS metadata service) or 0 (never ask it)"
            )));
        }
        None => None,
    };
    let why = match enabled {
        Some(why) => why,
        None => {
            let dir = val(ENV_DMI_DIR).unwrap_or_else(|| DEFAULT_DMI_DIR.to_string());
            match ecs_dmi(read, Path::new(&dir)) {
                Some(file) => {
                    format!("this machine is a Huawei Cloud ECS: {dir}/{file} says {ECS_DMI_TAG}")
                }
                None => {
                    return Ok(Found::No(format!(
                        "ECS metadata: not asked ({ENV_ECS_METADATA} is not set and this machine is not a Huawei Cloud ECS; {ENV_ECS_METADATA}=1 asks it)"
                    )));
                }
            }
        }
    };
    let raw = val(ENV_METADATA_ENDPOINT).unwrap_or_else(|| metadata::DEFAULT_ENDPOINT.to_string());
    let endpoint = service_url(&raw, false)
        .map_err(|e| ChainError::Invalid(format!("bad {ENV_METADATA_ENDPOINT}: {e}")))?;
    let description = format!(
        "the ECS metadata service ({}; {why})",
        endpoint.as_str().trim_end_matches('/')
    );
    Ok(Found::Yes(Box::new(chosen(
        Source::Metadata(Metadata { endpoint }),
        description,
    ))))
}

/// The DMI file that says this machine is a Huawei Cloud ECS, if one does.
fn ecs_dmi(read: Read, dir: &Path) -> Option<&'static str> {
    ECS_DMI_FILES
        .into_iter()
        .find(|f| read(&dir.join(f)).is_ok_and(|v| v.trim().eq_ignore_ascii_case(ECS_DMI_TAG)))
}

/// The first header value that cannot be sent, as (what, 1-based position).
pub fn unsendable(values: &[(String, String)]) -> Option<(String, usize)> {
    values
        .iter()
        .find_map(|(what, v)| header_safe(v).err().map(|p| (what.clone(), p)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct World {
        env: HashMap<String, String>,
        files: HashMap<PathBuf, String>,
    }

    impl World {
        fn new(env: &[(&str, &str)]) -> World {
            World {
                env: env
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                files: HashMap::new(),
            }
        }
        fn file(mut self, path: &str, text: &str) -> World {
            self.files.insert(PathBuf::from(path), text.to_string());
            self
        }
        fn choose(&self, region: Option<&str>) -> Result<Chosen, ChainError> {
            let get = |k: &str| self.env.get(k).cloned();
            let read = |p: &Path| {
                self.files
                    .get(p)
                    .cloned()
                    .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))
            };
            choose(&get, &read, region)
        }
    }

    const HOME: (&str, &str) = ("HOME", "/home/u");
    const FILE: &str = "/home/u/.huaweicloud/credentials";

    #[test]
    fn nothing_anywhere_names_every_source_in_one_line() {
        let e = World::new(&[HOME]).choose(None).unwrap_err();
        let ChainError::Nothing(m) = e else {
            panic!("{e:?}")
        };
        assert!(!m.contains('\n'));
        for w in [
            "HUAWEICLOUD_SDK_AK",
            "HUAWEICLOUD_SDK_IDP_ID",
            FILE,
            "not found",
            "ECS metadata: not asked",
            "DLI_WAIT_ECS_METADATA=1",
        ] {
            assert!(m.contains(w), "{w}: {m}");
        }
    }

    #[test]
    fn the_environment_comes_before_the_file() {
        let w = World::new(&[HOME, (ENV_AK, "EAK"), (ENV_SK, "ESK")])
            .file(FILE, "[basic]\nak = FAK\nsk = FSK\nproject_id = p\n");
        let c = w.choose(None).unwrap();
        assert!(c.description.contains("environment"), "{}", c.description);
        assert_eq!(c.project_id, None);
        let Source::Fixed(Credentials::AkSk { ak, .. }) = c.source else {
            panic!()
        };
        assert_eq!(ak.expose(), "EAK");
    }

    #[test]
    fn federation_in_the_environment_comes_first_as_in_the_sdks() {
        let w = World::new(&[
            (ENV_AK, "EAK"),
            (ENV_SK, "ESK"),
            (ENV_IDP_ID, "github"),
            (ENV_ID_TOKEN_FILE, "/tmp/t"),
        ]);
        let c = w.choose(Some("cn-north-4")).unwrap();
        let Source::Federation(f) = &c.source else {
            panic!("{c:?}")
        };
        assert_eq!(f.idp_id, "github");
        assert_eq!(
            f.iam_endpoint.as_str(),
            "https://iam.cn-north-4.myhuaweicloud.com/"
        );
        assert!(c.warning.is_some());
        // The IAM endpoint: the variable over the region; the global one without either.
        let mut w = w;
        w.env
            .insert(ENV_IAM_ENDPOINT.into(), "http://127.0.0.1:9".into());
        let Source::Federation(f) = w.choose(Some("cn-north-4")).unwrap().source else {
            panic!()
        };
        assert_eq!(f.iam_endpoint.as_str(), "http://127.0.0.1:9/");
        w.env.remove(ENV_IAM_ENDPOINT);
        let Source::Federation(f) = w.choose(None).unwrap().source else {
            panic!()
        };
        assert_eq!(f.iam_endpoint.as_str(), "https://iam.myhuaweicloud.com/");
        w.env
            .insert(ENV_IAM_ENDPOINT.into(), "http://iam.example.com".into());
        assert!(matches!(w.choose(None), Err(ChainError::Invalid(_))));
    }

    #[test]
    fn half_pairs_are_errors_not_a_reason_to_look_further() {
        for env in [
            vec![(ENV_IDP_ID, "x")],
            vec![(ENV_ID_TOKEN_FILE, "x")],
            vec![(ENV_AK, "x")],
        ] {
            let w = World::new(&env).file(FILE, "[basic]\nak = A\nsk = S\n");
            assert!(
                matches!(w.choose(None), Err(ChainError::Invalid(_))),
                "{env:?}"
            );
        }
        let w = World::new(&[HOME]).file(FILE, "[basic]\nak = SECRETAK\n");
        let Err(ChainError::Invalid(m)) = w.choose(None) else {
            panic!()
        };
        assert!(m.contains("ak in") && !m.contains("SECRETAK"), "{m}");
    }

    #[test]
    fn the_file_gives_keys_a_project_and_federation() {
        let w = World::new(&[HOME]).file(
            FILE,
            "[basic]\nak = FAK\nsk = FSK\nsecurity_token = FST\nproject_id = p1\n",
        );
        let c = w.choose(None).unwrap();
        assert_eq!(c.project_id.as_deref(), Some("p1"));
        assert!(c.description.contains(FILE), "{}", c.description);
        assert_eq!(c.passed_over.len(), 1);
        let Source::Fixed(creds) = &c.source else {
            panic!()
        };
        assert!(creds.expire());

        let w = World::new(&[(ENV_CREDENTIALS_FILE, "/etc/hc")]).file(
            "/etc/hc",
            "[basic]\nidp_id = gh\nid_token_file = /t\niam_endpoint = http://localhost:1\n",
        );
        let Source::Federation(f) = w.choose(Some("cn-north-4")).unwrap().source else {
            panic!()
        };
        assert_eq!(f.iam_endpoint.as_str(), "http://localhost:1/");
        // A file named explicitly must exist.
        let w = World::new(&[(ENV_CREDENTIALS_FILE, "/nope")]);
        assert!(matches!(w.choose(None), Err(ChainError::Invalid(_))));
        // A broken file is an error; a file without [basic] is passed over.
        let w = World::new(&[HOME]).file(FILE, "ak = x\n");
        assert!(matches!(w.choose(None), Err(ChainError::Invalid(_))));
        let w = World::new(&[HOME]).file(FILE, "[global]\nak = x\nsk = y\n");
        assert!(matches!(w.choose(None), Err(ChainError::Nothing(_))));
    }

    #[test]
    fn metadata_only_when_enabled_or_on_an_ecs() {
        // Not enabled, not an ECS: never chosen.
        assert!(matches!(
            World::new(&[]).choose(None),
            Err(ChainError::Nothing(_))
        ));
        // Enabled.
        let c = World::new(&[(ENV_ECS_METADATA, "1")]).choose(None).unwrap();
        let Source::Metadata(m) = &c.source else {
            panic!()
        };
        assert_eq!(m.endpoint.as_str(), "http://169.254.169.254/");
        // On an ECS, by its DMI; but not when switched off.
        let ecs = |env: &[(&str, &str)]| {
            World::new(env)
                .file("/dmi/chassis_asset_tag", "HUAWEICLOUD\n")
                .choose(None)
        };
        let c = ecs(&[
            (ENV_DMI_DIR, "/dmi"),
            (ENV_METADATA_ENDPOINT, "http://127.0.0.1:5"),
        ])
        .unwrap();
        assert!(
            c.description.contains("Huawei Cloud ECS"),
            "{}",
            c.description
        );
        let Source::Metadata(m) = &c.source else {
            panic!()
        };
        assert_eq!(m.endpoint.as_str(), "http://127.0.0.1:5/");
        assert!(matches!(
            ecs(&[(ENV_DMI_DIR, "/dmi"), (ENV_ECS_METADATA, "0")]),
            Err(ChainError::Nothing(_))
        ));
        // A Huawei server that is not a cloud ECS is not one.
        let w = World::new(&[(ENV_DMI_DIR, "/dmi")])
            .file("/dmi/sys_vendor", "Huawei Technologies Co., Ltd.\n");
        assert!(matches!(w.choose(None), Err(ChainError::Nothing(_))));
        assert!(matches!(
            World::new(&[(ENV_ECS_METADATA, "maybe")]).choose(None),
            Err(ChainError::Invalid(_))
        ));
    }

    #[test]
    fn the_file_comes_before_the_metadata_service() {
        let w = World::new(&[HOME, (ENV_ECS_METADATA, "1")])
            .file(FILE, "[basic]\nak = FAK\nsk = FSK\n");
        assert!(matches!(w.choose(None).unwrap().source, Source::Fixed(_)));
    }
}
