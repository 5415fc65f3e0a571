//! The current credentials, shared by every request of a run: fixed ones (the environment,
//! the credentials file), or temporary keys an [`Issuer`] hands out and the provider renews.
//!
//! Requests read the current credentials under a lock ([`Provider::snapshot`], which `prepare`
//! signs with); before a request, [`Provider::current`] renews them when they are due (less
//! than five minutes, or a fifth of their lifetime, left: [`super::renew_margin`]), and after a
//! 401, [`Provider::renew_after_rejection`] renews them unless another request already did.
//! One renewal at a time, however many jobs wait: the others wait for it and use its keys.

use super::keys::{Temporary, renew_margin, rfc3339};
use crate::dli::auth::Credentials;
use crate::dli::fault::Fault;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

/// Where every secret goes as soon as it is known (the output scrubber).
pub type SecretSink = Arc<dyn Fn(&[&str]) + Send + Sync>;

/// What an issuer tells every secret it learns, at once.
pub type Remember<'a> = &'a (dyn Fn(&[&str]) + Send + Sync);

/// Who hands out temporary keys (OIDC federation at IAM, the ECS metadata service).
pub trait Issue: Send + Sync {
    /// New temporary keys; every secret on the way goes to `remember` as soon as it is known.
    fn issue<'a>(
        &'a self,
        remember: Remember<'a>,
    ) -> Pin<Box<dyn Future<Output = Result<Temporary, Fault>> + Send + 'a>>;
}

/// The credentials to sign one request with, and which issue of them they are.
#[derive(Debug, Clone)]
pub struct Current {
    pub credentials: Credentials,
    pub generation: u64,
}

/// The run's credentials. Clones share them.
#[derive(Clone)]
pub struct Provider(Arc<Inner>);

struct Inner {
    /// The source, for logs and messages (no secret).
    source: String,
    /// Why each source before it in the chain was passed over.
    passed_over: Vec<String>,
    /// Something about the choice to warn of.
    warning: Option<String>,
    issuer: Option<Arc<dyn Issue>>,
    state: RwLock<State>,
    /// Held while keys are being issued: one renewal at a time.
    renewal: tokio::sync::Mutex<()>,
    sink: RwLock<Option<SecretSink>>,
    /// Every secret seen, for a sink set later and for masking.
    known: RwLock<Vec<String>>,
}

#[derive(Default)]
struct State {
    held: Option<Held>,
    generation: u64,
    /// After a failed renewal while the keys still hold: not again before this.
    retry_at: Option<SystemTime>,
    /// The held keys were issued after a 401 and no answer has accepted them yet: a 401 for
    /// them says the renewal did not cure it.
    after_401: bool,
    /// A 401 a renewal did not cure: every request of the run ends with it, at once, and no
    /// more keys are asked for.
    refused: Option<Fault>,
}

/// What [`Provider::renew_after_rejection`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Rejection {
    /// Fresh keys are held (issued now, or by another request since): send again with them.
    Renewed,
    /// The keys refused were already fresh ones issued after a 401 (or another request found
    /// so): renewing again cannot cure it. The run's requests end with this refusal.
    Uncured(Fault),
}

struct Held {
    credentials: Credentials,
    expires_at: Option<SystemTime>,
    lifetime: Option<Duration>,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("source", &self.0.source)
            .field("renews", &self.renews())
            .finish_non_exhaustive()
    }
}

impl From<Credentials> for Provider {
    fn from(c: Credentials) -> Self {
        Provider::fixed(c, "the given credentials")
    }
}

impl Provider {
    fn with(source: String, issuer: Option<Arc<dyn Issue>>, held: Option<Held>) -> Self {
        let known = held
            .as_ref()
            .map(|h| {
                h.credentials
                    .secrets()
                    .iter()
                    .map(|s| s.to_string())
                    .collect()
            })
            .unwrap_or_default();
        Provider(Arc::new(Inner {
            source,
            passed_over: Vec::new(),
            warning: None,
            issuer,
            state: RwLock::new(State {
                held,
                generation: 1,
                ..State::default()
            }),
            renewal: tokio::sync::Mutex::new(()),
            sink: RwLock::new(None),
            known: RwLock::new(known),
        }))
    }

    /// Credentials that never change (an access key pair, a token given as they are).
    pub fn fixed(credentials: Credentials, source: impl Into<String>) -> Self {
        let held = Held {
            credentials,
            expires_at: None,
            lifetime: None,
        };
        Provider::with(source.into(), None, Some(held))
    }

    /// Temporary keys from `issuer`, asked for on first use.
    pub fn issued(issuer: Arc<dyn Issue>, source: impl Into<String>) -> Self {
        Provider::with(source.into(), Some(issuer), None)
    }

    /// The same provider, with why the chain passed over the sources before it and what to
    /// warn of (only on a provider not yet shared).
    pub fn explained(mut self, passed_over: Vec<String>, warning: Option<String>) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.0) {
            inner.passed_over = passed_over;
            inner.warning = warning;
        }
        self
    }

    /// Where the credentials come from, in words (no secret).
    pub fn source(&self) -> &str {
        &self.0.source
    }

    /// The source in a few words (`OIDC federation`, `the ECS metadata service`).
    pub fn label(&self) -> &str {
        self.0.source.split(" (").next().unwrap_or(&self.0.source)
    }

    /// Why each source before this one was passed over.
    pub fn passed_over(&self) -> &[String] {
        &self.0.passed_over
    }

    /// Something about the choice of source to warn of.
    pub fn warning(&self) -> Option<&str> {
        self.0.warning.as_deref()
    }

    /// Whether the credentials are temporary keys this provider renews.
    pub fn renews(&self) -> bool {
        self.0.issuer.is_some()
    }

    /// Whether the credentials expire (issued keys, a token, keys with a security token): a
    /// late 401 is then most likely an expiry.
    pub fn expire(&self) -> bool {
        self.renews()
            || self
                .read()
                .held
                .as_ref()
                .is_some_and(|h| h.credentials.expire())
    }

    /// Send every secret known so far, and each one learnt from now on, to `sink`.
    pub fn set_secret_sink(&self, sink: SecretSink) {
        let known = self.known_secrets();
        let refs: Vec<&str> = known.iter().map(String::as_str).collect();
        sink(&refs);
        *self.0.sink.write().unwrap_or_else(|e| e.into_inner()) = Some(sink);
    }

    /// Every secret seen so far: keys, tokens, the ID token.
    pub fn known_secrets(&self) -> Vec<String> {
        self.0
            .known
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn remember(&self, secrets: &[&str]) {
        {
            let mut known = self.0.known.write().unwrap_or_else(|e| e.into_inner());
            for s in secrets {
                if !s.is_empty() && !known.iter().any(|k| k == s) {
                    known.push((*s).to_string());
                }
            }
        }
        let sink = self
            .0
            .sink
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(sink) = sink {
            sink(secrets);
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.0.state.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The credentials held now, if any (none before temporary keys were first issued).
    pub fn snapshot(&self) -> Option<Current> {
        let s = self.read();
        s.held.as_ref().map(|h| Current {
            credentials: h.credentials.clone(),
            generation: s.generation,
        })
    }

    /// The held credentials when they need no renewal at `now`.
    fn fresh(&self, now: SystemTime) -> Option<Current> {
        let s = self.read();
        let h = s.held.as_ref()?;
        let current = Current {
            credentials: h.credentials.clone(),
            generation: s.generation,
        };
        let Some(expires_at) = h.expires_at else {
            return Some(current);
        };
        let left = expires_at.duration_since(now).unwrap_or(Duration::ZERO);
        let margin = renew_margin(h.lifetime.unwrap_or(Duration::ZERO));
        let waiting = s.retry_at.is_some_and(|t| now < t) && !left.is_zero();
        (left > margin || waiting).then_some(current)
    }

    /// Get the credentials held now (or issued first) ready for a request: renewed first
    /// when due. A failed renewal while the old keys still hold is a warning, retried a little
    /// later; once they have expired, it is the request's fault.
    pub async fn current(&self) -> Result<Current, Fault> {
        if let Some(f) = self.refusal() {
            return Err(f);
        }
        if let Some(c) = self.fresh(SystemTime::now()) {
            return Ok(c);
        }
        let _turn = self.0.renewal.lock().await;
        let now = SystemTime::now();
        if let Some(c) = self.fresh(now) {
            // Renewed by another request while this one waited for its turn.
            return Ok(c);
        }
        let first = self.read().held.is_none();
        match self.issue().await {
            Ok(keys) => Ok(self.install(keys, if first { None } else { Some("ahead of expiry") })),
            Err(f) => {
                let mut s = self.0.state.write().unwrap_or_else(|e| e.into_inner());
                let held = s
                    .held
                    .as_ref()
                    .map(|h| (h.credentials.clone(), h.expires_at));
                let left = held
                    .as_ref()
                    .and_then(|(_, e)| *e)
                    .and_then(|e| e.duration_since(now).ok())
                    .filter(|l| !l.is_zero());
                match (left, held) {
                    (Some(left), Some((credentials, _))) => {
                        let again = (left / 2).min(Duration::from_secs(30));
                        s.retry_at = Some(now + again);
                        tracing::warn!(
                            "credentials: cannot renew the temporary keys from {} ({f}); the current ones hold for {}, trying again in {}",
                            self.label(),
                            crate::dli::human::duration(left),
                            crate::dli::human::duration(again),
                        );
                        Ok(Current {
                            credentials,
                            generation: s.generation,
                        })
                    }
                    _ => Err(f),
                }
            }
        }
    }

    /// Issue (or, before the first request, first issue) the keys now; for `prime`.
    pub async fn prime(&self) -> Result<(), Fault> {
        self.current().await.map(drop)
    }

    /// The service refused the keys of issue `used` with `refusal` (HTTP 401): renew them,
    /// unless another request has already done so since; one renewal for every request
    /// that saw the same keys refused. When `used` were themselves issued after a 401 and
    /// never accepted, renewing again cannot cure it: [`Rejection::Uncured`], and from then
    /// on every request of the run ends with that refusal (no more keys are asked for).
    /// `Err` when they cannot be renewed (fixed credentials, or the issuer failed).
    pub async fn renew_after_rejection(
        &self,
        used: u64,
        refusal: &Fault,
    ) -> Result<Rejection, Fault> {
        if !self.renews() {
            return Err(Fault::transport(
                crate::dli::fault::FaultKind::Unauthorized,
                "fixed credentials cannot be renewed",
            ));
        }
        let _turn = self.0.renewal.lock().await;
        if let Some(f) = self.refusal() {
            return Ok(Rejection::Uncured(f));
        }
        {
            let s = self.read();
            if s.generation != used {
                return Ok(Rejection::Renewed);
            }
            if s.after_401 {
                drop(s);
                return Ok(Rejection::Uncured(self.refuse(used, refusal)));
            }
        }
        let keys = self.issue().await?;
        self.install(keys, Some("after the service refused them (HTTP 401)"));
        self.0
            .state
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .after_401 = true;
        Ok(Rejection::Renewed)
    }

    /// The keys of issue `used` were refused after a renewal that should have cured it:
    /// every request from now on ends with `refusal` (the first such refusal is kept).
    /// Returns the refusal the run ends with.
    pub fn refuse(&self, used: u64, refusal: &Fault) -> Fault {
        let mut s = self.0.state.write().unwrap_or_else(|e| e.into_inner());
        if s.refused.is_none() && s.generation == used {
            tracing::warn!(
                "credentials: the service refused fresh temporary keys from {}: ending every wait",
                self.label()
            );
            s.refused = Some(refusal.clone());
        }
        s.refused.clone().unwrap_or_else(|| refusal.clone())
    }

    /// An answer other than a 401 came for keys of issue `used`: they work.
    pub fn accepted(&self, used: u64) {
        if !self.read().after_401 {
            return;
        }
        let mut s = self.0.state.write().unwrap_or_else(|e| e.into_inner());
        if s.generation == used {
            s.after_401 = false;
        }
    }

    /// The refusal every request ends with, once a renewal did not cure a 401.
    pub fn refusal(&self) -> Option<Fault> {
        self.read().refused.clone()
    }

    async fn issue(&self) -> Result<Temporary, Fault> {
        let Some(issuer) = &self.0.issuer else {
            return Err(Fault::transport(
                crate::dli::fault::FaultKind::Unauthorized,
                "no credentials",
            ));
        };
        let remember = |s: &[&str]| self.remember(s);
        issuer.issue(&remember).await.map_err(|mut f| {
            f.message = format!(
                "cannot get temporary keys from {}: {}",
                self.0.source, f.message
            );
            // A refusal in a number (Keystone's `"code": 401`) says no more than the status.
            if f.code.is_some()
                && f.code.as_deref() == f.http_status.map(|s| s.to_string()).as_deref()
            {
                f.code = None;
            }
            f
        })
    }

    fn install(&self, keys: Temporary, renewal: Option<&str>) -> Current {
        let now = SystemTime::now();
        let lifetime = keys
            .expires_at
            .duration_since(now)
            .unwrap_or(Duration::ZERO);
        let mut s = self.0.state.write().unwrap_or_else(|e| e.into_inner());
        s.generation += 1;
        s.retry_at = None;
        s.after_401 = false;
        s.held = Some(Held {
            credentials: keys.credentials(),
            expires_at: Some(keys.expires_at),
            lifetime: Some(lifetime),
        });
        let valid = format!(
            "valid for {}, until {}",
            crate::dli::human::duration(lifetime),
            rfc3339(keys.expires_at)
        );
        match renewal {
            None => tracing::info!(
                "credentials: temporary keys from {} ({valid})",
                self.label()
            ),
            Some(why) => tracing::info!(
                "credentials: temporary keys from {} refreshed {why} ({valid})",
                self.label()
            ),
        }
        if lifetime.is_zero() {
            tracing::warn!(
                "credentials: the temporary keys from {} had expired when they came (check this machine's clock)",
                self.label()
            );
        }
        Current {
            credentials: keys.credentials(),
            generation: s.generation,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dli::auth::Secret;
    use crate::dli::fault::FaultKind;
    use std::sync::atomic::{AtomicU64, Ordering};

    fn keys(n: u64, lifetime: Duration) -> Temporary {
        Temporary {
            ak: Secret::new(format!("AK{n}")),
            sk: Secret::new(format!("SK{n}")),
            security_token: Secret::new(format!("ST{n}")),
            expires_at: SystemTime::now() + lifetime,
        }
    }

    /// Keys from a function, after a delay.
    struct Scripted(
        Box<dyn Fn() -> Result<Temporary, Fault> + Send + Sync>,
        Duration,
    );

    impl Issue for Scripted {
        fn issue<'a>(
            &'a self,
            remember: Remember<'a>,
        ) -> Pin<Box<dyn Future<Output = Result<Temporary, Fault>> + Send + 'a>> {
            Box::pin(async move {
                tokio::time::sleep(self.1).await;
                (self.0)().inspect(|k| remember(&k.secrets()))
            })
        }
    }

    /// A provider whose issuer hands out keys valid `lifetime` after `delay`, counting calls.
    fn scripted(lifetime: Duration, delay: Duration) -> (Provider, Arc<AtomicU64>) {
        let calls = Arc::new(AtomicU64::new(0));
        let c = Arc::clone(&calls);
        let issuer = Scripted(
            Box::new(move || Ok(keys(c.fetch_add(1, Ordering::SeqCst) + 1, lifetime))),
            delay,
        );
        (Provider::issued(Arc::new(issuer), "a test issuer"), calls)
    }

    fn refused() -> Fault {
        Fault::transport(FaultKind::Unauthorized, "refused (HTTP 401)")
    }

    /// A 401 for keys issued after a 401, before any answer accepted them: the renewal did
    /// not cure it. No more keys are asked for, whoever saw which keys refused, and every
    /// request from then on ends with the refusal; keys an answer accepted are renewed
    /// again after a later 401.
    #[tokio::test]
    async fn a_401_a_renewal_did_not_cure_ends_every_request_without_more_keys() {
        let (p, calls) = scripted(Duration::from_secs(3600), Duration::from_millis(5));
        let first = p.current().await.unwrap();
        assert_eq!(
            p.renew_after_rejection(first.generation, &refused())
                .await
                .unwrap(),
            Rejection::Renewed
        );
        let second = p.current().await.unwrap();
        // Accepted once: a later 401 is a new one, renewed again.
        p.accepted(second.generation);
        assert_eq!(
            p.renew_after_rejection(second.generation, &refused())
                .await
                .unwrap(),
            Rejection::Renewed
        );
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        // Refused again before any answer accepted them: 50 requests, no more keys.
        let third = p.current().await.unwrap();
        let mut tasks = Vec::new();
        for n in 0..50 {
            let p = p.clone();
            let used = if n % 2 == 0 {
                third.generation
            } else {
                second.generation
            };
            tasks.push(tokio::spawn(async move {
                p.renew_after_rejection(used, &refused()).await
            }));
        }
        for t in tasks {
            let r = t.await.unwrap().unwrap();
            assert!(
                matches!(r, Rejection::Uncured(_) | Rejection::Renewed),
                "{r:?}"
            );
        }
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        let f = p.current().await.unwrap_err();
        assert_eq!(f.kind, FaultKind::Unauthorized);
        assert!(p.refusal().is_some());
    }

    fn ak(c: &Current) -> String {
        match &c.credentials {
            Credentials::AkSk { ak, .. } => ak.expose().to_string(),
            Credentials::Token(_) => String::new(),
        }
    }

    #[tokio::test]
    async fn fixed_credentials_are_never_renewed() {
        let p = Provider::fixed(Credentials::Token(Secret::new("T")), "env");
        assert!(!p.renews() && p.expire());
        assert!(p.current().await.is_ok());
        assert!(p.renew_after_rejection(1, &refused()).await.is_err());
        assert_eq!(p.known_secrets(), ["T"]);
    }

    #[tokio::test]
    async fn many_requests_at_once_share_one_issue() {
        let (p, calls) = scripted(Duration::from_secs(3600), Duration::from_millis(50));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let p = p.clone();
            tasks.push(tokio::spawn(async move { p.current().await }));
        }
        for t in tasks {
            assert_eq!(ak(&t.await.unwrap().unwrap()), "AK1");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // Fresh for an hour: no renewal.
        p.current().await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn keys_are_renewed_within_a_fifth_of_their_lifetime() {
        // 1 s keys: renewed once less than 200 ms are left.
        let (p, calls) = scripted(Duration::from_secs(1), Duration::ZERO);
        assert_eq!(ak(&p.current().await.unwrap()), "AK1");
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(ak(&p.current().await.unwrap()), "AK1");
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(ak(&p.current().await.unwrap()), "AK2");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_401_renews_once_for_all_requests_that_saw_it() {
        let (p, calls) = scripted(Duration::from_secs(3600), Duration::from_millis(20));
        let first = p.current().await.unwrap();
        let mut tasks = Vec::new();
        for _ in 0..10 {
            let p = p.clone();
            let used = first.generation;
            tasks.push(tokio::spawn(async move {
                p.renew_after_rejection(used, &refused()).await
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap(), Rejection::Renewed);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert_eq!(ak(&p.current().await.unwrap()), "AK2");
    }

    #[tokio::test]
    async fn a_failed_renewal_keeps_keys_that_still_hold_and_fails_once_they_do_not() {
        let calls = Arc::new(AtomicU64::new(0));
        let c = Arc::clone(&calls);
        let issuer = Scripted(
            Box::new(move || match c.fetch_add(1, Ordering::SeqCst) {
                // Keys on the wall clock: 3 s, so that a loaded machine's pauses (hundreds of
                // milliseconds) cannot move a step across the renewal window or the expiry.
                0 => Ok(keys(1, Duration::from_millis(3000))),
                _ => Err(Fault::transport(FaultKind::Connection, "IAM is down")),
            }),
            Duration::ZERO,
        );
        let p = Provider::issued(Arc::new(issuer), "a test issuer");
        assert_eq!(ak(&p.current().await.unwrap()), "AK1");
        tokio::time::sleep(Duration::from_millis(2600)).await;
        // Due (under 600 ms left), the renewal fails: the old keys still serve.
        assert_eq!(ak(&p.current().await.unwrap()), "AK1");
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let f = p.current().await.unwrap_err();
        assert!(f.message.contains("a test issuer") && f.message.contains("IAM is down"));
    }

    #[tokio::test]
    async fn every_secret_reaches_the_sink_even_one_set_later() {
        let (p, _) = scripted(Duration::from_secs(3600), Duration::ZERO);
        p.current().await.unwrap();
        let seen = Arc::new(RwLock::new(Vec::<String>::new()));
        let s = Arc::clone(&seen);
        p.set_secret_sink(Arc::new(move |x: &[&str]| {
            s.write().unwrap().extend(x.iter().map(|v| v.to_string()))
        }));
        assert_eq!(*seen.read().unwrap(), ["AK1", "SK1", "ST1"]);
        p.renew_after_rejection(p.snapshot().unwrap().generation, &refused())
            .await
            .unwrap();
        assert!(seen.read().unwrap().iter().any(|v| v == "ST2"));
    }
}
