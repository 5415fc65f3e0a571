//! User stories about cancelling: "when my pipeline gives up on a job (timeout, stall), it
//! cancels the job in DLI if and only if I asked it to, so I do not pay for an orphan".

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{Sim, id, run};

#[test]
fn cancel_on_timeout_sends_the_delete_and_exits_124() {
    let sim = Sim::start("endings.json");
    let r = run(sim.dli_wait().args([
        "--timeout",
        "1s",
        "--cancel-on",
        "timeout",
        id("job-never-ends"),
    ]));
    r.expect_code(124)
        .stderr_has(&["TIMED_OUT", "--timeout", "cancelled"]);
    assert!(
        sim.was_cancelled(id("job-never-ends")),
        "{:?}",
        sim.requests()
    );
    // It was cancelled: the message does not claim the job may still be running.
    assert!(!r.stderr.contains("may still be running"), "{}", r.all());
}

#[test]
fn without_cancel_on_a_timeout_sends_no_delete() {
    let sim = Sim::start("endings.json");
    let r = run(sim
        .dli_wait()
        .args(["--timeout", "1s", id("job-never-ends")]));
    r.expect_code(124).stderr_has(&["may still be running"]);
    assert!(
        !sim.was_cancelled(id("job-never-ends")),
        "{:?}",
        sim.requests()
    );
    assert!(
        sim.requests().iter().all(|q| q.method == "GET"),
        "{:?}",
        sim.requests()
    );
}

/// `--cancel-on stall` cancels a stalled job, but not one that merely timed out.
#[test]
fn cancel_on_stall_cancels_only_on_a_stall() {
    let sim = Sim::start("endings.json");
    let r = run(sim.dli_wait().args([
        "--stall-timeout",
        "1s",
        "--cancel-on",
        "stall",
        id("job-stalls"),
    ]));
    r.expect_code(4).stderr_has(&["STALLED", "cancelled"]);
    assert!(sim.was_cancelled(id("job-stalls")), "{:?}", sim.requests());

    let r = run(sim.dli_wait().args([
        "--timeout",
        "1s",
        "--cancel-on",
        "stall",
        id("job-never-ends"),
    ]));
    r.expect_code(124);
    assert!(
        !sim.was_cancelled(id("job-never-ends")),
        "{:?}",
        sim.requests()
    );
}

/// The JSON summary records the cancel.
#[test]
fn cancel_is_in_the_json_summary() {
    let sim = Sim::start("endings.json");
    let r = run(sim.dli_wait().args([
        "--output",
        "json",
        "--timeout",
        "1s",
        "--cancel-on",
        "timeout,stall",
        id("job-never-ends"),
    ]));
    r.expect_code(124);
    let summary = r.summary();
    let job = &summary["jobs"][0];
    assert_eq!(job["status"], "TIMED_OUT", "{summary}");
    assert_eq!(job["cancel"]["accepted"], true, "{summary}");
    assert!(
        r.json_lines().iter().any(|l| l["event"] == "cancel"),
        "{}",
        r.all()
    );
}
