//! User stories about a flaky DLI: "a busy queue, a throttling gateway, a proxy's error page
//! or a dropped connection must not fail my nightly job, nor hang it; but a refusal for good
//! must stop it at once". Every transient fault class of the contract, then success.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{Ran, Sim, id, run};

/// Wait for `job` (whose first two polls fail with a transient fault) with human output and
/// check it still ends FINISHED (exit 0) with at least two retries reported on stderr, each
/// naming the fault by `words`.
fn retried_then_finished(job: &str, timing: &[(&str, &str)], words: &[&str]) -> Ran {
    let sim = Sim::start("faults.json");
    let r = run(sim.dli_wait_with(timing).arg(job));
    r.expect_code(0).stderr_has(&["retrying", "FINISHED"]);
    r.stderr_has(words);
    let retries = r.stderr.lines().filter(|l| l.contains("retrying")).count();
    assert!(retries >= 2, "expected two retries reported\n{}", r.all());
    assert!(
        r.stderr.contains(&format!("job {job} FINISHED")),
        "no closing line\n{}",
        r.all()
    );
    // The faults really happened on the wire (the first two polls), and polling went on.
    let polls = sim.requests_for(job);
    assert!(polls.len() >= 3, "{polls:?}");
    r
}

#[test]
fn queue_busy_http_400_dli_0999_is_retried() {
    retried_then_finished(id("fault-queue-busy"), &[], &["DLI.0999", "HTTP 400"]);
}

#[test]
fn queue_busy_inside_http_200_is_retried() {
    retried_then_finished(id("fault-queue-busy-ok"), &[], &["DLI.0999"]);
}

/// HTTP 429 from the gateway: retried, no sooner than its `Retry-After: 1` says.
#[test]
fn throttled_429_is_retried_after_retry_after() {
    let r = retried_then_finished(id("fault-throttled"), &[], &["429", "retrying in 1s"]);
    // Without Retry-After the next poll would come after 100–300 ms.
    for line in r.stderr.lines().filter(|l| l.contains("retrying")) {
        assert!(line.contains("retrying in 1s"), "{line}\n{}", r.all());
    }
}

#[test]
fn server_error_500_is_retried() {
    retried_then_finished(id("fault-500"), &[], &["HTTP 500"]);
}

#[test]
fn server_error_503_is_retried() {
    retried_then_finished(id("fault-503"), &[], &["HTTP 503"]);
}

#[test]
fn gateway_html_502_page_is_retried() {
    retried_then_finished(id("fault-html"), &[], &["HTTP 502", "Bad Gateway"]);
}

#[test]
fn connection_reset_is_retried() {
    retried_then_finished(id("fault-reset"), &[], &["connection"]);
}

#[test]
fn slow_answer_past_request_timeout_is_retried() {
    retried_then_finished(
        id("fault-slow"),
        &[("--request-timeout", "500ms")],
        &["--request-timeout"],
    );
}

#[test]
fn malformed_json_is_retried() {
    retried_then_finished(id("fault-malformed"), &[], &["JSON"]);
}

/// On a queue whose backend is too old, /progress answers DLI.0999 for ever: dli-wait says so,
/// falls back to /status, and still sees the job finish.
#[test]
fn persistent_dli_0999_on_progress_falls_back_to_status() {
    let sim = Sim::start("faults.json");
    let r = run(sim.dli_wait().arg(id("progress-never-works")));
    r.expect_code(0)
        .stderr_has(&["DLI.0999", "/status", "FINISHED"]);
    let log = sim.requests_for(id("progress-never-works"));
    let status_polls = log
        .iter()
        .filter(|q| q.method == "GET" && q.path.ends_with("/status"))
        .count();
    assert!(status_polls >= 1, "no /status polls: {log:?}");
    // The fallback is in the JSON summary too.
    let sim = Sim::start("faults.json");
    let j = run(sim
        .dli_wait()
        .args(["--output", "json", id("progress-never-works")]));
    j.expect_code(0);
    let job = &j.summary()["jobs"][0];
    assert_eq!(job["status"], "FINISHED", "{}", j.all());
    assert_eq!(job["polled_status_endpoint"], true, "{}", j.all());
}

/// After the fallback, the job's reason is the one /status already gave: shown, with DLI's
/// detail, and not fetched again.
#[test]
fn a_failure_seen_on_status_after_the_fallback_keeps_its_reason_without_another_request() {
    let sim = Sim::start("faults.json");
    let r = run(sim.dli_wait().arg(id("progress-never-works-fails")));
    r.expect_code(1).stderr_has(&[
        "/status",
        "Table or view not found: sales.orders_tmp",
        "AnalysisException",
    ]);
    // Every request was a poll: none was spent fetching the reason again.
    let sim = Sim::start("faults.json");
    let j = run(sim
        .dli_wait()
        .args(["--output", "json", id("progress-never-works-fails")]));
    j.expect_code(1);
    let job = &j.summary()["jobs"][0];
    assert_eq!(job["polled_status_endpoint"], true, "{}", j.all());
    let sent = sim.requests_for(id("progress-never-works-fails")).len();
    assert_eq!(job["polls"].as_u64(), Some(sent as u64), "{}", j.all());
}

/// Credentials that expire in the middle of a long wait: exit 5, and the message says the
/// authentication failed after a while of polling, with the last known state.
#[test]
fn credentials_expiring_mid_wait_exit_5_with_the_last_state() {
    let sim = Sim::start("faults.json");
    let r = run(sim.dli_wait().arg(id("credentials-expire")));
    r.expect_code(5).stderr_has(&[
        id("credentials-expire"),
        "401",
        "authentication failed after",
        "of polling",
        "last seen RUNNING",
    ]);
    // Refused for good: no poll after the 401.
    let log = sim.requests_for(id("credentials-expire"));
    assert_eq!(log.last().map(|q| q.status), Some(401), "{log:?}");
    assert_eq!(log.iter().filter(|q| q.status == 401).count(), 1, "{log:?}");
}
