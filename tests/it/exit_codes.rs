//! User stories, one per exit status of the contract: "my pipeline step must fail (or pass)
//! the right way, and tell me why". The real binary against the real simulator.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{Sim, id, run};

/// As a pipeline author, a job that FINISHES passes the step (exit 0).
#[test]
fn finished_job_exits_0() {
    let sim = Sim::start("endings.json");
    let r = run(sim.dli_wait().arg(id("job-finishes")));
    r.expect_code(0)
        .stderr_has(&[id("job-finishes"), "FINISHED", "RUNNING"]);
}

/// A job that FAILED exits 1, and DLI's own reason (from /status) is printed.
#[test]
fn failed_job_exits_1_with_dlis_reason() {
    let sim = Sim::start("endings.json");
    let r = run(sim.dli_wait().arg(id("job-fails")));
    r.expect_code(1).stderr_has(&[
        id("job-fails"),
        "FAILED",
        "Table or view not found: sales.orders_tmp",
        "AnalysisException",
    ]);
}

/// DLI also writes "DLI.0999" into the messages of jobs that FAILED: that is the job's end,
/// not a queue-busy fault to retry.
#[test]
fn failed_job_whose_reason_says_dli_0999_exits_1_without_retrying() {
    let sim = Sim::start("endings.json");
    let r = run(sim
        .dli_wait()
        .args(["--output", "json", id("job-fails-0999")]));
    r.expect_code(1);
    let job = &r.summary()["jobs"][0];
    assert_eq!(job["status"], "FAILED", "{}", r.all());
    assert_eq!(job["retries"], 0, "{}", r.all());
    let message = job["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("DLI.0999") && message.contains("Job aborted due to stage failure"),
        "{}",
        r.all()
    );
    // And the human output says the same.
    let r = run(sim.dli_wait().arg(id("job-fails-0999")));
    r.expect_code(1)
        .stderr_has(&["FAILED", "DLI.0999: SparkException: Job aborted"]);
    assert!(!r.stderr.contains("retrying"), "{}", r.all());
}

/// A job someone else cancelled exits 3.
#[test]
fn cancelled_job_exits_3() {
    let sim = Sim::start("endings.json");
    let r = run(sim.dli_wait().arg(id("job-cancelled")));
    r.expect_code(3)
        .stderr_has(&[id("job-cancelled"), "CANCELLED"]);
}

/// A RUNNING job whose counts freeze is reported as stalled (exit 4), naming the last state,
/// and warning that it may still be running.
#[test]
fn stalled_job_exits_4_naming_the_last_state() {
    let sim = Sim::start("endings.json");
    let r = run(sim
        .dli_wait()
        .args(["--stall-timeout", "1s", id("job-stalls")]));
    r.expect_code(4).stderr_has(&[
        id("job-stalls"),
        "STALLED",
        "--stall-timeout",
        "RUNNING",
        "tasks 37/100",
        "may still be running",
    ]);
}

/// A job id DLI does not know is refused for good (exit 5) at once, with a hint.
#[test]
fn unknown_job_exits_5() {
    let sim = Sim::start("endings.json");
    let r = run(sim.dli_wait().arg(id("no-such-job")));
    r.expect_code(5)
        .stderr_has(&[id("no-such-job"), "DLI.0002", "does not exist", "job id"]);
    // Refused means not retried: one poll, no backoff loop.
    let polls = sim.requests_for(id("no-such-job"));
    assert_eq!(polls.len(), 1, "{polls:?}");
}

/// The wrong project is refused for good too (exit 5).
#[test]
fn unknown_project_exits_5() {
    let sim = Sim::start("endings.json");
    let r = run(sim.dli_wait().args([
        "--project-id",
        "ffffffffffffffffffffffffffffffff",
        id("job-finishes"),
    ]));
    r.expect_code(5)
        .stderr_has(&["DLI.0002", "ffffffffffffffffffffffffffffffff"]);
}

/// A wrong secret key is an authentication failure (exit 5); the message points at the keys
/// and at the clock (DLI refuses signatures more than 15 minutes off).
#[test]
fn wrong_secret_key_exits_5_and_mentions_the_clock() {
    let sim = Sim::start("endings.json");
    let r = run(sim
        .dli_wait()
        .env("HUAWEICLOUD_SDK_SK", "not-the-right-secret-key")
        .arg(id("job-finishes")));
    r.expect_code(5)
        .stderr_has(&["401", "HUAWEICLOUD_SDK_SK", "clock", "15 minutes"]);
}

/// `--timeout` passing first exits 124; the message names the last state, the number of
/// polls, and says the job may still be running.
#[test]
fn timeout_exits_124_naming_state_polls_and_may_still_be_running() {
    let sim = Sim::start("endings.json");
    let r = run(sim
        .dli_wait()
        .args(["--timeout", "1s", id("job-never-ends")]));
    r.expect_code(124).stderr_has(&[
        id("job-never-ends"),
        "TIMED_OUT",
        "gave up after 1s",
        "--timeout",
        "RUNNING",
        "polls",
        "may still be running",
    ]);
    assert!(
        !sim.was_cancelled(id("job-never-ends")),
        "{:?}",
        sim.requests()
    );
}

/// A transient fault that lasts past the deadline is a timeout (124), never a success or a
/// hang, and the message names the last fault.
#[test]
fn transient_fault_past_the_deadline_exits_124_naming_the_fault() {
    let sim = Sim::start("faults.json");
    let r = run(sim
        .dli_wait()
        .args(["--timeout", "1s", id("busy-for-ever")]));
    r.expect_code(124)
        .stderr_has(&["TIMED_OUT", "503", "may still be running"]);
}
