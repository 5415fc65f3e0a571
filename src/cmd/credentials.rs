//! The credentials at the start of a run: every secret goes to the output scrubber (and, on a
//! real runner, each one learnt at run time is masked) as soon as it is known; `-v` says which source gives them (and why
//! the sources before it did not); temporary keys are fetched before the wait starts, so a
//! source that cannot give any ends the run at once, naming it. Then the reporter.

use super::context::Context;
use super::failure::Failure;
use crate::cli::hint;
use crate::config::Settings;
use crate::dli::credentials::Provider;
use crate::dli::fault::{Check, Fault, FaultClass, FaultKind};
use crate::report::{Reporter, github};
use crate::wait::outcome::Outcome;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often a source that fails in passing (IAM busy, no answer) is asked before the run
/// gives up.
const ATTEMPTS: u32 = 3;

/// Every secret `provider` learns goes to the run's `Secrets` from now on.
pub fn sink_secrets(ctx: &Context, provider: &Provider) {
    let secrets = ctx.secrets.clone();
    provider.set_secret_sink(Arc::new(move |s: &[&str]| secrets.remember(s)));
}

/// Make the credentials of `settings` ready and the reporter that knows their secrets.
pub async fn ready(ctx: &Context, settings: &Settings) -> Result<Arc<dyn Reporter>, Failure> {
    let provider = &settings.client.credentials;
    sink_secrets(ctx, provider);
    if let Some(w) = provider.warning() {
        tracing::warn!("credentials: {w}");
    }
    tracing::debug!("credentials: from {}", provider.source());
    for p in provider.passed_over() {
        tracing::debug!("credentials: passed over {p}");
    }
    if provider.renews() {
        // A signal is honoured here too: the keys may take IAM's time (and its retries).
        tokio::select! {
            primed = prime(provider) => primed?,
            sig = super::signals::interrupted(&ctx.stop) => {
                return Err(Failure::interrupted(
                    sig,
                    &format!(
                        "while getting temporary keys from {}, before any request to DLI (nothing was submitted or waited for)",
                        provider.label()
                    ),
                ));
            }
        }
    }
    let known = provider.known_secrets();
    let refs: Vec<&str> = known.iter().map(String::as_str).collect();
    // Masked on a runner: only what was learnt at run time (temporary keys and the tokens on
    // the way). Fixed credentials come from the workflow (its environment, or a file it
    // wrote), whose secrets GitHub masks already; `::add-mask::` would print them in clear to
    // every captured copy of stderr.
    let learnt: &[&str] = if provider.renews() { &refs } else { &[] };
    let reporter = ctx.reporter(&refs, learnt);
    if ctx.on_runner && provider.renews() {
        // The reporter masked what is known now; renewed keys are masked as they come.
        let masked = Mutex::new(known.into_iter().collect::<HashSet<String>>());
        let secrets = ctx.secrets.clone();
        let stderr = ctx.stderr.clone();
        provider.set_secret_sink(Arc::new(move |s: &[&str]| {
            secrets.remember(s);
            let fresh: Vec<&str> = match masked.lock() {
                Ok(mut m) => s
                    .iter()
                    .copied()
                    .filter(|v| m.insert(v.to_string()))
                    .collect(),
                Err(_) => s.to_vec(),
            };
            github::add_mask(&stderr, &fresh);
        }));
    }
    Ok(reporter)
}

/// Fetch the first temporary keys, asking again after passing faults.
async fn prime(provider: &Provider) -> Result<(), Failure> {
    let mut attempt = 1;
    loop {
        match provider.prime().await {
            Ok(()) => return Ok(()),
            Err(f) if again(&f) && attempt < ATTEMPTS => {
                tracing::warn!("credentials: {}; asking again", f.message);
                tokio::time::sleep(Duration::from_secs(u64::from(attempt))).await;
                attempt += 1;
            }
            Err(f) => return Err(failure(&f)),
        }
    }
}

/// Whether to ask again after `f`: a passing fault, but not a metadata service that does not
/// answer at all (off an ECS it never will: the start of a wait is not held for it).
fn again(f: &Fault) -> bool {
    let silent = matches!(f.kind, FaultKind::Connection | FaultKind::Timeout);
    f.is_transient() && !(silent && f.check == Some(Check::Metadata))
}

/// The run's ending when no keys came: refused for good (5), or not to be had here (2).
fn failure(f: &Fault) -> Failure {
    let mut said = match (f.http_status, &f.code) {
        (Some(s), Some(c)) => format!("credentials: {} (HTTP {s}, {c})", f.message),
        (Some(s), None) => format!("credentials: {} (HTTP {s})", f.message),
        _ => format!("credentials: {}", f.message),
    };
    if let Some(c) = f.check() {
        said.push_str(&format!(" — {}", hint(c)));
    }
    match f.class {
        FaultClass::Permanent => Failure::ended(Outcome::Refused(f.clone()), said),
        FaultClass::Transient | FaultClass::Config => Failure::usage(said),
    }
}
