//! User stories about secrets: "however verbose I make it, and whatever goes wrong, my access
//! keys and tokens never end up in a CI log".
//!
//! The simulator's keys come from `tests/scenarios/secrets.json`: unusual markers that cannot
//! appear in output by accident.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{Ran, Sim, TempDir, id, run};

const AK: &str = "AKSECRETMARKER123";
const SK: &str = "SKSECRETMARKER456";
const TOKEN: &str = "TOKENSECRETMARKER789";
const WRONG_SK: &str = "SKWRONGMARKER000";
const WRONG_TOKEN: &str = "TOKENWRONGMARKER000";
const SECURITY_TOKEN: &str = "STSSECRETMARKER321";

fn shows_no_secret(r: &Ran) {
    for s in [AK, SK, TOKEN, WRONG_SK, WRONG_TOKEN, SECURITY_TOKEN] {
        r.never_shows(s);
    }
}

fn start() -> Sim {
    let sim = Sim::start("secrets.json");
    assert_eq!((sim.ak.as_str(), sim.sk.as_str()), (AK, SK));
    sim
}

#[test]
fn keys_never_appear_at_vv_on_success() {
    let sim = start();
    let r = run(sim.dli_wait().args(["-vv", id("secret-job")]));
    r.expect_code(0);
    // -vv really is verbose (requests are logged), so the check means something.
    assert!(r.stderr.contains("/progress"), "{}", r.all());
    shows_no_secret(&r);
    let r = run(sim
        .dli_wait()
        .args(["-vv", "--output", "json", id("secret-job")]));
    r.expect_code(0);
    shows_no_secret(&r);
}

#[test]
fn keys_never_appear_at_vv_when_the_signature_is_refused() {
    let sim = start();
    let r = run(sim
        .dli_wait()
        .env("HUAWEICLOUD_SDK_SK", WRONG_SK)
        .args(["-vv", id("secret-job")]));
    r.expect_code(5).stderr_has(&["401"]);
    shows_no_secret(&r);
    let r = run(sim.dli_wait().env("HUAWEICLOUD_SDK_SK", WRONG_SK).args([
        "-vv",
        "--output",
        "json",
        id("secret-job"),
    ]));
    r.expect_code(5);
    shows_no_secret(&r);
}

/// `RUST_LOG` also works (contract); even at trace for every crate, nothing leaks.
#[test]
fn keys_never_appear_with_rust_log_trace() {
    let sim = start();
    let r = run(sim
        .dli_wait()
        .env("RUST_LOG", "trace")
        .arg(id("secret-job")));
    r.expect_code(0);
    // Trace really is on (requests are logged), so the check means something.
    assert!(r.stderr.contains("/progress"), "{}", r.all());
    shows_no_secret(&r);
    let r = run(sim
        .dli_wait()
        .env("RUST_LOG", "trace")
        .env("HUAWEICLOUD_SDK_SK", WRONG_SK)
        .arg(id("secret-job")));
    r.expect_code(5);
    shows_no_secret(&r);
}

/// An IAM token instead of a key pair (`X-Auth-Token`): it works, and never shows.
#[test]
fn auth_token_works_and_never_appears() {
    let sim = start();
    let r = run(sim
        .dli_wait()
        .env_remove("HUAWEICLOUD_SDK_AK")
        .env_remove("HUAWEICLOUD_SDK_SK")
        .env("HUAWEICLOUD_SDK_AUTH_TOKEN", TOKEN)
        .args(["-vv", id("secret-job")]));
    r.expect_code(0).stderr_has(&["FINISHED"]);
    shows_no_secret(&r);
}

#[test]
fn wrong_auth_token_exits_5_and_never_appears() {
    let sim = start();
    let r = run(sim
        .dli_wait()
        .env_remove("HUAWEICLOUD_SDK_AK")
        .env_remove("HUAWEICLOUD_SDK_SK")
        .env("HUAWEICLOUD_SDK_AUTH_TOKEN", WRONG_TOKEN)
        .args(["-vv", id("secret-job")]));
    r.expect_code(5)
        .stderr_has(&["401", "HUAWEICLOUD_SDK_AUTH_TOKEN"]);
    shows_no_secret(&r);
}

/// Temporary keys: the security token goes along (`X-Security-Token`) and never shows.
#[test]
fn security_token_never_appears() {
    let sim = start();
    let r = run(sim
        .dli_wait()
        .env("HUAWEICLOUD_SDK_SECURITY_TOKEN", SECURITY_TOKEN)
        .args(["-vv", id("secret-job")]));
    r.expect_code(0);
    // The token really went along with every request, so the check means something.
    let sent = sim.requests();
    assert!(
        !sent.is_empty() && sent.iter().all(|l| l.security_token),
        "{sent:?}"
    );
    shows_no_secret(&r);
}

const ID_TOKEN: &str = "IDTOKENSECRETMARKER555";

/// Every secret the simulated IAM and metadata service handed out: the temporary keys (each
/// half), the federation tokens, the metadata session tokens.
fn issued_secrets(sim: &Sim) -> Vec<String> {
    let v = sim.issued_credentials();
    let mut out: Vec<String> = Vec::new();
    for k in v["issued"].as_array().expect("issued") {
        for field in ["ak", "sk", "security_token"] {
            out.push(k[field].as_str().expect("a key field").to_string());
        }
    }
    for list in ["tokens", "sessions"] {
        for t in v[list].as_array().expect("a list") {
            out.push(t.as_str().expect("a token").to_string());
        }
    }
    out
}

fn shows_none_of(r: &Ran, secrets: &[String]) {
    shows_no_secret(r);
    r.never_shows(ID_TOKEN);
    for s in secrets {
        r.never_shows(s);
    }
}

/// Federation at every verbosity, with keys that last 600 ms so they are renewed on the way:
/// the ID token, IAM's token and every key issued never show.
#[test]
fn federation_secrets_never_appear_at_any_verbosity() {
    let sim = start();
    let dir = TempDir::new("secrets-oidc");
    let token_file = dir.path().join("id-token");
    std::fs::write(&token_file, ID_TOKEN).unwrap();
    let federated = || {
        let mut cmd = sim.dli_wait_without_credentials();
        cmd.env("HUAWEICLOUD_SDK_IDP_ID", "simulator-idp")
            .env("HUAWEICLOUD_SDK_ID_TOKEN_FILE", &token_file)
            .env("HUAWEICLOUD_SDK_IAM_ENDPOINT", &sim.endpoint);
        cmd
    };
    let mut runs = vec![
        // A job that outlasts the keys whenever this run starts (a loaded machine starts it
        // late in the job's time), so they are renewed on the way.
        run(federated().args(["-vv", id("secret-long-job")])),
        run(federated().args(["-vv", "--output", "json", id("secret-job")])),
        run(federated().args(["-vv", "--github", id("secret-job")])),
        run(federated().env("RUST_LOG", "trace").arg(id("secret-job"))),
    ];
    for r in &runs {
        r.expect_code(0);
    }
    assert!(
        runs[0].stderr.contains("refreshed ahead of expiry"),
        "the keys were renewed on the way, so the check covers renewed keys\n{}",
        runs[0].all()
    );
    // IAM refusing the ID token (a wrong identity provider): the error names it, not the token.
    runs.push(run(federated()
        .env("HUAWEICLOUD_SDK_IDP_ID", "not-the-idp")
        .args(["-vv", id("secret-job")])));
    runs.last().unwrap().expect_code(5);
    let secrets = issued_secrets(&sim);
    assert!(secrets.len() >= 4 * 3, "{secrets:?}");
    for r in &runs {
        shows_none_of(r, &secrets);
    }
}

/// The metadata service's session token and keys never show either.
#[test]
fn metadata_secrets_never_appear_at_any_verbosity() {
    let sim = start();
    let metadata = || {
        let mut cmd = sim.dli_wait_without_credentials();
        cmd.env("DLI_WAIT_ECS_METADATA", "1")
            .env("DLI_WAIT_METADATA_ENDPOINT", &sim.endpoint);
        cmd
    };
    let runs = [
        run(metadata().args(["-vv", id("secret-job")])),
        run(metadata().args(["-vv", "--output", "json", id("secret-job")])),
        run(metadata().env("RUST_LOG", "trace").arg(id("secret-job"))),
    ];
    let secrets = issued_secrets(&sim);
    assert!(!secrets.is_empty());
    for r in &runs {
        r.expect_code(0);
        shows_none_of(r, &secrets);
    }
}

/// Keys from the credentials file are secrets like any others.
#[test]
fn credentials_file_keys_never_appear() {
    let sim = start();
    let dir = TempDir::new("secrets-file");
    let file = dir.path().join("credentials");
    std::fs::write(
        &file,
        format!(
            "[basic]\nak = {}\nsk = {WRONG_SK}\nsecurity_token = {SECURITY_TOKEN}\n",
            sim.ak
        ),
    )
    .unwrap();
    let r = run(sim
        .dli_wait_without_credentials()
        .env("HUAWEICLOUD_SDK_CREDENTIALS_FILE", &file)
        .args(["-vv", id("secret-job")]));
    r.expect_code(5).stderr_has(&["401"]);
    shows_no_secret(&r);
}
