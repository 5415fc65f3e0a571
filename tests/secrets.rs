//! User stories about secrets: "however verbose I make it, and whatever goes wrong, my access
//! keys and tokens never end up in a CI log".
//!
//! The simulator's keys come from `tests/scenarios/secrets.json`: unusual markers that cannot
//! appear in output by accident.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Ran, Sim, id, run};

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
