//! The configuration: the command line's flags plus the environment, resolved into the
//! [`Settings`] a wait needs, or one [`ConfigError`]. The environment is read once per run,
//! into an [`Env`] snapshot (`Env::from_process`, in `cmd::run`): resolution, GitHub mode
//! and logging all read that snapshot, never the process.

use crate::cli::{CancelWhen, PollPolicy, TargetArgs, TimingArgs, flag};
use crate::dli::auth::CredentialsError;
use crate::dli::bounded::TRUST_FILE;
use crate::dli::client::ClientConfig;
use crate::dli::credentials::chain::{self, ChainError};
use crate::wait::machine::{CancelOn, DEFAULT_FALLBACK_AFTER, WaitConfig};
use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::time::Duration;
use url::Url;

/// One snapshot of the process's environment: the one reader of it is [`Env::from_process`],
/// called once per run by `cmd::run`; the run hands the snapshot (`cmd::Context::env`) to
/// whatever needs a variable. Tests build one from pairs: `Env::from([("HUAWEICLOUD_SDK_AK",
/// "…")])`. Its `Debug` shows the names only: values may be secrets.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Env {
    vars: BTreeMap<OsString, OsString>,
}

impl Env {
    /// The process's environment, now.
    pub fn from_process() -> Self {
        std::env::vars_os().collect()
    }

    /// `name`'s value when it is set and is Unicode (a value that is not reads as unset).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(OsStr::new(name))?.to_str()
    }

    /// A variable naming a file (`GITHUB_OUTPUT`): its value as a path, when set and not empty.
    pub fn path(&self, name: &str) -> Option<PathBuf> {
        self.vars
            .get(OsStr::new(name))
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    }
}

impl<K: Into<OsString>, V: Into<OsString>> FromIterator<(K, V)> for Env {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> Self {
        Env {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }
}

impl<K: Into<OsString>, V: Into<OsString>, const N: usize> From<[(K, V); N]> for Env {
    fn from(pairs: [(K, V); N]) -> Self {
        pairs.into_iter().collect()
    }
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.vars.keys()).finish()
    }
}

/// A configuration problem: exit 2 with this one line.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[cfg_attr(
        feature = "simulator",
        error(
            "no job id given: run `dli-wait [OPTIONS] <JOB_ID>...` (see --help), or `dli-wait demo` to try it without a cloud account"
        )
    )]
    #[cfg_attr(
        not(feature = "simulator"),
        error("no job id given: run `dli-wait [OPTIONS] <JOB_ID>...` (see --help)")
    )]
    NoJobs,
    #[error("missing configuration: {0}")]
    Missing(String),
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    /// A bad endpoint, named where it came from (`--endpoint`, or `DLI_ENDPOINT`).
    #[error("bad {from} {shown:?}: {why}")]
    Endpoint {
        from: &'static str,
        shown: String,
        why: String,
    },
    /// A bad region, named where it came from (`--region`, or `HUAWEICLOUD_SDK_REGION`).
    #[error("bad {from} {region:?}: expected a region id such as cn-north-4")]
    Region { from: &'static str, region: String },
    #[error(
        "--max-poll-interval ({max}) is shorter than --poll-interval ({first}): make it at least as long"
    )]
    Intervals { first: String, max: String },
    #[error(
        "{what} has a character an HTTP header cannot carry (a control character or non-ASCII text, character {position}): set it again without it"
    )]
    Unsendable { what: String, position: usize },
    /// A credential source set up wrongly (half a pair, an unreadable file, a bad URL).
    #[error("{0}")]
    CredentialSource(String),
    #[error("{0}")]
    Trust(String),
    /// A project id that is not one (it would not be one path segment of the requests).
    #[error(
        "bad project id from {from}: {why}; set it to the project id of the job's region (32 hex digits, on the console's My Credentials page)"
    )]
    ProjectId { from: &'static str, why: String },
    /// `--settle` without `--until running`: there is nothing for it to settle.
    #[error(
        "--settle is how long a job must stay running for --until running: add --until running (or drop --settle)"
    )]
    SettleWithoutUntil,
}

impl ConfigError {
    /// The same error, naming `from` (a variable, or a flag) as where the value came from.
    fn naming(self, from: &'static str) -> Self {
        match self {
            ConfigError::Endpoint { shown, why, .. } => ConfigError::Endpoint { from, shown, why },
            ConfigError::Region { region, .. } => ConfigError::Region { from, region },
            other => other,
        }
    }
}

/// Where `value` of an option came from: its variable `var` when that holds it (the flag was
/// not given, or repeats it), otherwise the flag.
fn source_of(env: &Env, var: &'static str, flag: &'static str, value: &str) -> &'static str {
    if env.get(var).map(str::trim) == Some(value.trim()) {
        var
    } else {
        flag
    }
}

/// The variables the contract gives `--endpoint` and `--region` (clap reads them; messages
/// name them).
const ENV_ENDPOINT: &str = "DLI_ENDPOINT";
const ENV_REGION: &str = "HUAWEICLOUD_SDK_REGION";

/// The trust file variable of rustls-native-certs (and OpenSSL).
pub const ENV_SSL_CERT_FILE: &str = "SSL_CERT_FILE";
/// Its directory variable: every regular file in it is read (`:`-separated on Unix).
pub const ENV_SSL_CERT_DIR: &str = "SSL_CERT_DIR";
/// Check `SSL_CERT_DIR` when it is set: the TLS library reads every regular file of each
/// directory whole, so their sizes together must stay within the trust file's limit.
fn check_trust_dir(env: &Env) -> Result<(), ConfigError> {
    let Some(dirs) = env.get(ENV_SSL_CERT_DIR) else {
        return Ok(());
    };
    let var = ENV_SSL_CERT_DIR;
    let mut total: u64 = 0;
    for dir in std::env::split_paths(&dirs).filter(|p| !p.as_os_str().is_empty()) {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            // Not there or unreadable: the TLS library says so on the first request.
            continue;
        };
        for entry in entries.flatten() {
            // As the library does: symbolic links followed, regular files only.
            if let Ok(m) = std::fs::metadata(entry.path())
                && m.is_file()
            {
                total = total.saturating_add(m.len());
            }
        }
        if total > TRUST_FILE.bytes {
            return Err(ConfigError::Trust(format!(
                "{var} {dir:?}: its files are larger than {} together, the most dli-wait reads as {}: set it to a directory of the certificate authorities to trust only, or unset it",
                crate::dli::bounded::size(TRUST_FILE.bytes),
                TRUST_FILE.of
            )));
        }
    }
    Ok(())
}

/// Check `SSL_CERT_FILE` when it is set: a file that cannot be read or holds no certificate
/// would otherwise silently replace the system's trust store with nothing.
fn check_trust_file(env: &Env) -> Result<(), ConfigError> {
    let Some(path) = env.get(ENV_SSL_CERT_FILE) else {
        return Ok(());
    };
    let var = ENV_SSL_CERT_FILE;
    if path.trim().is_empty() {
        return Err(ConfigError::Trust(format!(
            "{var} is set but empty: unset it, or set it to a PEM file of the certificate authorities to trust"
        )));
    }
    // The TLS library (rustls-native-certs) reads the file again, whole and blocking: only
    // a regular file within the limit is handed over.
    let pem = crate::dli::bounded::read(std::path::Path::new(path), TRUST_FILE).map_err(|e| {
        ConfigError::Trust(format!(
            "cannot read {var} {path:?}: {e}; set it to a readable PEM file of the certificate authorities to trust, or unset it"
        ))
    })?;
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return Err(ConfigError::Trust(format!(
            "{var} {path:?} is not a regular file (a FIFO or a device cannot be read twice): set it to a PEM file of the certificate authorities to trust, or unset it"
        )));
    }
    crate::dli::client::trust_file_certificates(&pem).map_err(|why| {
        ConfigError::Trust(format!(
            "{var} {path:?} cannot be used: {why}; set it to a PEM file of the certificate authorities to trust, or unset it"
        ))
    })?;
    Ok(())
}

/// Check that what goes into request headers can be sent: the project id (`X-Project-Id`),
/// and what the credential source puts there (the access key in `Authorization`, the tokens
/// in `X-Auth-Token` and `X-Security-Token`, an identity provider in `X-Idp-Id`). Says which
/// variable or file key, never its value.
fn check_header_values(project_id: &str, source: &[(String, String)]) -> Result<(), ConfigError> {
    let mut values = vec![(
        "HUAWEICLOUD_SDK_PROJECT_ID (or --project-id)".to_string(),
        project_id.to_string(),
    )];
    values.extend_from_slice(source);
    match chain::unsendable(&values) {
        Some((what, position)) => Err(ConfigError::Unsendable { what, position }),
        None => Ok(()),
    }
}

/// The region, for IAM's endpoint: `--region`, or the one in a DLI endpoint's host name
/// (`dli.<region>.myhuaweicloud.com`).
fn region_of(target: &TargetArgs) -> Option<String> {
    if let Some(r) = target
        .region
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        return Some(r.to_string());
    }
    let url = Url::parse(target.endpoint.as_deref()?.trim()).ok()?;
    let host = url.host_str()?;
    let rest = host.strip_prefix("dli.")?;
    let (region, domain) = rest.split_once('.')?;
    matches!(domain, "myhuaweicloud.com" | "myhuaweicloud.eu").then(|| region.to_string())
}

/// Everything a wait needs, resolved and checked.
#[derive(Debug, Clone)]
pub struct Settings {
    pub client: ClientConfig,
    pub wait: WaitConfig,
    pub poll_interval: Duration,
    pub max_poll_interval: Duration,
    pub poll_policy: PollPolicy,
    pub fail_fast: bool,
    pub max_requests_per_second: f64,
    /// `--history`: list the job's past runs at the start of a wait.
    pub history: crate::cli::History,
    /// `--expect`: the prior given by hand.
    pub expect: Option<Duration>,
    /// `--savepoint`: a Flink job's stop takes a savepoint first.
    pub savepoint: bool,
}

impl Settings {
    /// A fresh delay policy for one job's wait.
    pub fn policy(&self) -> Box<dyn crate::wait::policy::DelayPolicy> {
        self.policy_with(None)
    }

    /// [`Settings::policy`], knowing where the job's past runs ended (`eta` only).
    pub fn policy_with(
        &self,
        prior: Option<crate::wait::history::Prior>,
    ) -> Box<dyn crate::wait::policy::DelayPolicy> {
        use crate::wait::policy::{Eta, Exponential};
        match self.poll_policy {
            PollPolicy::Eta => {
                Box::new(Eta::new(self.poll_interval, self.max_poll_interval).with_prior(prior))
            }
            PollPolicy::Exponential => {
                Box::new(Exponential::new(self.poll_interval, self.max_poll_interval))
            }
        }
    }
}

/// The DLI endpoint for a region (the SDK's region table has one exception).
pub fn region_endpoint(region: &str) -> Result<Url, ConfigError> {
    let r = region.trim();
    let valid = !r.is_empty()
        && r.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid {
        return Err(ConfigError::Region {
            from: crate::cli::flag::REGION,
            region: region.to_string(),
        });
    }
    let domain = if r == "eu-west-101" {
        "myhuaweicloud.eu"
    } else {
        "myhuaweicloud.com"
    };
    Url::parse(&format!("https://dli.{r}.{domain}")).map_err(|e| ConfigError::Region {
        from: crate::cli::flag::REGION,
        region: format!("{region} ({e})"),
    })
}

/// Where an endpoint's userinfo (`user:password@`) is, if it has one: from after `scheme://`
/// (or the start) to the last `@` of the authority.
fn userinfo_span(raw: &str) -> Option<(usize, usize)> {
    let start = raw.find("://").map_or(0, |i| i + 3);
    let authority_end = raw[start..]
        .find(['/', '?', '#'])
        .map_or(raw.len(), |i| start + i);
    let at = raw[start..authority_end].rfind('@')? + start;
    Some((start, at))
}

/// An endpoint as messages may show it: any userinfo replaced by `***`.
pub fn redact_endpoint(raw: &str) -> String {
    match userinfo_span(raw) {
        Some((start, at)) => format!("{}***{}", &raw[..start], &raw[at..]),
        None => raw.to_string(),
    }
}

/// The secrets an endpoint carries in its userinfo (the whole of it, and the password or a
/// lone user name, decoded too), to scrub from every output. Such an endpoint is refused, but
/// its parts must not show anywhere meanwhile.
pub fn endpoint_secrets(raw: &str) -> Vec<String> {
    let Some((start, at)) = userinfo_span(raw) else {
        return Vec::new();
    };
    let userinfo = &raw[start..at];
    let part = match userinfo.split_once(':') {
        Some((_, password)) => password,
        None => userinfo,
    };
    let mut out = vec![userinfo.to_string(), part.to_string()];
    for s in [userinfo, part] {
        let decoded = percent_encoding::percent_decode_str(s).decode_utf8_lossy();
        out.push(decoded.into_owned());
    }
    out.retain(|s| !s.is_empty());
    out
}

/// Check an `--endpoint`: https anywhere, plain http only on loopback. Messages never echo
/// the endpoint's userinfo.
pub fn parse_endpoint(raw: &str) -> Result<Url, ConfigError> {
    let bad = |why: &str| ConfigError::Endpoint {
        from: crate::cli::flag::ENDPOINT,
        shown: redact_endpoint(raw),
        why: why.to_string(),
    };
    let url = Url::parse(raw.trim()).map_err(|e| {
        bad(&format!(
            "{e}; write a URL such as https://dli.cn-north-4.myhuaweicloud.com"
        ))
    })?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("a base URL takes no query or fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "credentials do not belong in the URL; use the HUAWEICLOUD_SDK_* variables",
        ));
    }
    if url.host().is_none() {
        return Err(bad("no host"));
    }
    let loopback = crate::dli::client::is_loopback(&url);
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        "http" => Err(bad(
            "plain http:// is only allowed for loopback hosts (127.0.0.1, ::1, localhost); use https://",
        )),
        other => Err(bad(&format!(
            "unsupported scheme {other}:// (use https://)"
        ))),
    }
}

impl TimingArgs {
    fn wait_config(&self) -> WaitConfig {
        let on = |w| self.cancel_on.contains(&w);
        WaitConfig {
            timeout: self.timeout.get(),
            stall_timeout: self.stall_timeout.get(),
            cancel_on: CancelOn {
                timeout: on(CancelWhen::Timeout),
                stall: on(CancelWhen::Stall),
                signal: on(CancelWhen::Signal),
                abandoned: on(CancelWhen::Abandoned),
            },
            fallback_after: DEFAULT_FALLBACK_AFTER,
            unreachable_after: self.unreachable_timeout.get(),
            until_running: self.until == crate::cli::args::Until::Running,
            settle: self.settle,
            max_restarts: self.max_restarts,
            results: Default::default(),
            lookup_calls: 0,
        }
    }
}

/// Turn flags plus the environment (`env`, the run's snapshot) into settings, or one clear
/// error.
pub fn resolve(
    target: &TargetArgs,
    timing: &TimingArgs,
    env: &Env,
) -> Result<Settings, ConfigError> {
    if timing.settle.is_some() && timing.until != crate::cli::args::Until::Running {
        return Err(ConfigError::SettleWithoutUntil);
    }
    let mut missing = Vec::new();
    // The credential chain (docs: dli::credentials::chain), read from `env` and files.
    let read = |p: &std::path::Path| {
        crate::dli::bounded::read_string(p, crate::dli::bounded::CREDENTIALS_FILE)
            .map_err(std::io::Error::from)
    };
    let mut nothing = None;
    let get = |k: &str| env.get(k).map(str::to_string);
    let chosen = match chain::choose(&get, &read, region_of(target).as_deref()) {
        Ok(c) => Some(c),
        Err(ChainError::Nothing(why)) => {
            nothing = Some(why);
            None
        }
        Err(ChainError::Invalid(why)) => return Err(ConfigError::CredentialSource(why)),
    };
    let given = target
        .project_id
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            (
                p.to_string(),
                "HUAWEICLOUD_SDK_PROJECT_ID (or --project-id)",
            )
        });
    let project_id = given.or_else(|| {
        let p = chosen.as_ref()?.project_id.clone()?;
        Some((p, "the credentials file's project_id"))
    });
    // One check for every source: the id is one segment of every request's path.
    if let Some((p, from)) = &project_id
        && let Some(why) = crate::dli::job_id::project_id_problem(p)
    {
        return Err(ConfigError::ProjectId { from, why });
    }
    let project_id = project_id.map(|(p, _)| p);
    if project_id.is_none() {
        missing.push("HUAWEICLOUD_SDK_PROJECT_ID (or --project-id)");
    }
    let endpoint = match (&target.endpoint, &target.region) {
        (Some(e), _) if !e.trim().is_empty() => Some(
            parse_endpoint(e)
                .map_err(|err| err.naming(source_of(env, ENV_ENDPOINT, flag::ENDPOINT, e)))?,
        ),
        (_, Some(r)) if !r.trim().is_empty() => Some(
            region_endpoint(r)
                .map_err(|err| err.naming(source_of(env, ENV_REGION, flag::REGION, r)))?,
        ),
        _ => {
            missing.push("HUAWEICLOUD_SDK_REGION (or --region, or --endpoint)");
            None
        }
    };
    let (Some(chosen), Some(project_id), Some(endpoint)) = (chosen, project_id, endpoint) else {
        let mut parts: Vec<String> = nothing.into_iter().collect();
        if !missing.is_empty() {
            parts.push(format!("set {}", missing.join(", ")));
        }
        return Err(ConfigError::Missing(parts.join("; ")));
    };
    check_header_values(&project_id, &chosen.header_values)?;
    check_trust_file(env)?;
    check_trust_dir(env)?;
    if timing.max_poll_interval < timing.poll_interval {
        return Err(ConfigError::Intervals {
            first: crate::dli::human::duration(timing.poll_interval),
            max: crate::dli::human::duration(timing.max_poll_interval),
        });
    }
    let credentials = chosen
        .into_provider(timing.request_timeout)
        .map_err(ConfigError::CredentialSource)?;
    Ok(Settings {
        client: ClientConfig {
            endpoint,
            project_id,
            credentials,
            request_timeout: timing.request_timeout,
        },
        wait: timing.wait_config(),
        poll_interval: timing.poll_interval,
        max_poll_interval: timing.max_poll_interval,
        poll_policy: timing.poll_policy,
        fail_fast: timing.fail_fast,
        max_requests_per_second: timing.max_requests_per_second,
        history: timing.history,
        expect: timing.expect,
        savepoint: timing.savepoint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_http_only_on_loopback() {
        assert!(parse_endpoint("http://127.0.0.1:8080").is_ok());
        assert!(parse_endpoint("http://[::1]:8080").is_ok());
        assert!(parse_endpoint("http://localhost:1").is_ok());
        assert!(parse_endpoint("https://dli.cn-north-4.myhuaweicloud.com").is_ok());
        let e = parse_endpoint("http://dli.example.com")
            .unwrap_err()
            .to_string();
        assert!(e.contains("loopback"), "{e}");
        assert!(parse_endpoint("not a url").is_err());
        assert!(parse_endpoint("ftp://x").is_err());
    }

    #[test]
    fn endpoint_userinfo_is_never_echoed() {
        for raw in [
            "https://user:hunter2@dli.example.com",
            "https://user:hunter2@127.0.0.1:1/path",
            "https://user:hunter2@",
            "user:hunter2@dli.example.com",
            "https://us%40er:hunter2@x@dli.example.com",
        ] {
            let e = parse_endpoint(raw).unwrap_err().to_string();
            assert!(!e.contains("hunter2") && !e.contains("user"), "{raw}: {e}");
            assert!(e.contains("***"), "{raw}: {e}");
        }
        assert_eq!(
            redact_endpoint("https://a:b@h/p@q"),
            "https://***@h/p@q".to_string()
        );
        assert_eq!(redact_endpoint("https://h/p@q"), "https://h/p@q");
        assert_eq!(
            endpoint_secrets("https://user:hunt%65r2@h"),
            ["user:hunt%65r2", "hunt%65r2", "user:hunter2", "hunter2"]
        );
        assert_eq!(
            endpoint_secrets("https://TOKEN@h"),
            ["TOKEN", "TOKEN", "TOKEN", "TOKEN"]
        );
        assert!(endpoint_secrets("https://h").is_empty());
    }

    #[test]
    fn regions_map_to_endpoints() {
        assert_eq!(
            region_endpoint("cn-north-4").unwrap().as_str(),
            "https://dli.cn-north-4.myhuaweicloud.com/"
        );
        assert_eq!(
            region_endpoint("eu-west-101").unwrap().host_str(),
            Some("dli.eu-west-101.myhuaweicloud.eu")
        );
        assert!(region_endpoint("cn north").is_err());
    }

    const PROJECT: &str = "0123456789abcdef0123456789abcdef";

    /// A complete configuration but for what a test changes: loopback endpoint, project id.
    fn target() -> TargetArgs {
        TargetArgs {
            region: None,
            endpoint: Some("http://127.0.0.1:9".into()),
            project_id: Some(PROJECT.into()),
        }
    }

    /// A key pair in the environment.
    fn keys() -> Vec<(&'static str, &'static str)> {
        vec![
            ("HUAWEICLOUD_SDK_AK", "SOMEAK"),
            ("HUAWEICLOUD_SDK_SK", "SOMESK"),
        ]
    }

    fn refused(target: &TargetArgs, timing: &TimingArgs, env: &Env) -> String {
        resolve(target, timing, env).unwrap_err().to_string()
    }

    #[test]
    fn the_snapshot_is_what_it_was_given_and_debug_shows_no_value() {
        let env = Env::from([("A", "1"), ("EMPTY", ""), ("SECRET_KEY", "hunter2")]);
        assert_eq!(env.get("A"), Some("1"));
        assert_eq!(env.get("B"), None);
        assert_eq!(env.path("EMPTY"), None);
        assert_eq!(env.path("A"), Some(PathBuf::from("1")));
        let shown = format!("{env:?}");
        assert!(
            shown.contains("SECRET_KEY") && !shown.contains("hunter2"),
            "{shown}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStringExt;
            let env: Env = [(OsString::from("X"), OsString::from_vec(vec![0xff]))]
                .into_iter()
                .collect();
            // Not Unicode: read as unset (as the standard library has it), yet a path all the same.
            assert_eq!(env.get("X"), None);
            assert!(env.path("X").is_some());
        }
    }

    #[test]
    fn a_complete_configuration_resolves_from_the_snapshot() {
        let s = resolve(&target(), &TimingArgs::default(), &Env::from_iter(keys())).unwrap();
        assert_eq!(s.client.endpoint.as_str(), "http://127.0.0.1:9/");
        assert_eq!(s.client.project_id, PROJECT);
        assert!(!s.client.credentials.renews());
        assert_eq!(s.client.request_timeout, Duration::from_secs(30));
        let region = TargetArgs {
            region: Some("cn-north-4".into()),
            endpoint: None,
            ..target()
        };
        let s = resolve(&region, &TimingArgs::default(), &Env::from_iter(keys())).unwrap();
        assert_eq!(
            s.client.endpoint.host_str(),
            Some("dli.cn-north-4.myhuaweicloud.com")
        );
    }

    /// tests/it/config.rs checks the same through the binary (exit 2, one line).
    #[test]
    fn half_a_key_pair_names_the_missing_half() {
        let env = Env::from([("HUAWEICLOUD_SDK_AK", "SOMEAK")]);
        let e = refused(&target(), &TimingArgs::default(), &env);
        assert!(
            e.contains("HUAWEICLOUD_SDK_SK") && !e.contains("SOMEAK"),
            "{e}"
        );
    }

    #[test]
    fn max_poll_interval_below_poll_interval_is_refused_naming_both() {
        let timing = TimingArgs {
            poll_interval: Duration::from_secs(10),
            max_poll_interval: Duration::from_secs(1),
            ..TimingArgs::default()
        };
        let e = refused(&target(), &timing, &Env::from_iter(keys()));
        assert!(
            e.contains("--max-poll-interval (1s)") && e.contains("--poll-interval (10s)"),
            "{e}"
        );
    }

    #[test]
    fn a_bad_region_or_a_plain_http_endpoint_is_refused() {
        let bad_region = TargetArgs {
            region: Some("cn north 4".into()),
            endpoint: None,
            ..target()
        };
        let e = refused(&bad_region, &TimingArgs::default(), &Env::from_iter(keys()));
        assert!(e.contains("--region") && e.contains("cn-north-4"), "{e}");
        let http = TargetArgs {
            endpoint: Some("http://example.com".into()),
            ..target()
        };
        let e = refused(&http, &TimingArgs::default(), &Env::from_iter(keys()));
        assert!(e.contains("loopback") && e.contains("https://"), "{e}");
    }

    #[test]
    fn a_trust_file_set_but_empty_is_refused() {
        let mut env = keys();
        env.push((ENV_SSL_CERT_FILE, " "));
        let e = refused(&target(), &TimingArgs::default(), &Env::from_iter(env));
        assert!(e.contains("SSL_CERT_FILE is set but empty"), "{e}");
    }

    /// The credentials file the snapshot names gives the project id when no flag or variable
    /// does, and its id is checked as theirs is (tests/it/config.rs: through the binary).
    #[test]
    fn the_credentials_file_named_in_the_snapshot_gives_the_project_id() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("credentials");
        let no_project = TargetArgs {
            project_id: None,
            ..target()
        };
        for (id, ok) in [(PROJECT, true), ("../v2.0", false)] {
            std::fs::write(
                &file,
                format!("[basic]\nak = A\nsk = S\nproject_id = {id}\n"),
            )
            .unwrap();
            let env = Env::from([(
                "HUAWEICLOUD_SDK_CREDENTIALS_FILE",
                file.as_os_str().to_owned(),
            )]);
            let got = resolve(&no_project, &TimingArgs::default(), &env);
            if ok {
                assert_eq!(got.unwrap().client.project_id, PROJECT);
            } else {
                let e = got.unwrap_err().to_string();
                assert!(
                    e.contains("bad project id from the credentials file's project_id"),
                    "{e}"
                );
            }
        }
    }

    #[test]
    fn nothing_set_names_everything_to_set_in_one_line() {
        let e = resolve(
            &TargetArgs::default(),
            &TimingArgs::default(),
            &Env::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(!e.contains('\n'));
        for v in [
            "HUAWEICLOUD_SDK_AK",
            "HUAWEICLOUD_SDK_PROJECT_ID",
            "HUAWEICLOUD_SDK_REGION",
        ] {
            assert!(e.contains(v), "{e}");
        }
    }
}
