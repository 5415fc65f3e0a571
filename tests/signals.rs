//! User stories about being stopped: "when my CI cancels the step (SIGTERM) or I press
//! Ctrl-C, dli-wait stops at once with 143 / 130, and cancels the job only if I asked".

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Sim, id, wait_bounded};
use std::io::Read;
use std::process::{Child, Stdio};
use std::time::Duration;

/// Start waiting for a job that never ends, as a child we can signal.
fn start_waiting(sim: &Sim, extra: &[&str]) -> Child {
    sim.dli_wait_std()
        .args(extra)
        .arg(id("job-never-ends"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start dli-wait")
}

/// Let it poll for a second, send `signal`, and return (exit code, stderr).
fn signal_after_a_second(mut child: Child, signal: &str) -> (Option<i32>, String) {
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        child.try_wait().expect("poll the child").is_none(),
        "dli-wait ended before it was signalled"
    );
    common::send_signal(&child, signal);
    let status = wait_bounded(&mut child, Duration::from_secs(10));
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    (status.code(), stderr)
}

#[test]
fn sigterm_exits_143_and_leaves_the_job_running() {
    let sim = Sim::start("endings.json");
    let (code, stderr) = signal_after_a_second(start_waiting(&sim, &[]), "TERM");
    assert_eq!(code, Some(143), "{stderr}");
    assert!(stderr.contains("SIGTERM"), "{stderr}");
    assert!(stderr.contains("may still be running"), "{stderr}");
    assert!(
        !sim.was_cancelled(id("job-never-ends")),
        "{:?}",
        sim.requests()
    );
}

#[test]
fn sigterm_with_cancel_on_signal_sends_the_delete() {
    let sim = Sim::start("endings.json");
    let child = start_waiting(&sim, &["--cancel-on", "signal"]);
    let (code, stderr) = signal_after_a_second(child, "TERM");
    assert_eq!(code, Some(143), "{stderr}");
    assert!(
        sim.was_cancelled(id("job-never-ends")),
        "{:?}",
        sim.requests()
    );
    assert!(stderr.contains("cancel"), "{stderr}");
}

#[test]
fn sigint_exits_130() {
    let sim = Sim::start("endings.json");
    let (code, stderr) = signal_after_a_second(start_waiting(&sim, &[]), "INT");
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("SIGINT"), "{stderr}");
}

#[test]
fn sighup_exits_129() {
    let sim = Sim::start("endings.json");
    let (code, stderr) = signal_after_a_second(start_waiting(&sim, &[]), "HUP");
    assert_eq!(code, Some(129), "{stderr}");
}

/// With `--output json`, an interrupted wait still ends with the summary line.
#[test]
fn sigterm_in_json_mode_still_prints_the_summary() {
    let sim = Sim::start("endings.json");
    let mut child = start_waiting(&sim, &["--output", "json"]);
    let stdout = child.stdout.take().expect("stdout");
    // Read stdout on a thread while waiting, so the child can never block on it.
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let mut stdout = stdout;
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let (code, stderr) = signal_after_a_second(child, "TERM");
    assert_eq!(code, Some(143), "{stderr}");
    let out = reader.join().expect("stdout reader");
    let last = out.lines().last().unwrap_or_default();
    let summary: serde_json::Value =
        serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(summary["exit_code"], 143, "{out}");
    assert_eq!(summary["jobs"][0]["status"], "INTERRUPTED", "{out}");
}

/// With several jobs, a signal's code wins over every other ending (contract).
#[test]
fn with_several_jobs_a_signal_wins_over_a_failure() {
    let sim = Sim::start("endings.json");
    let child = sim
        .dli_wait_std()
        .args([id("job-fails"), id("job-never-ends")])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start dli-wait");
    let (code, stderr) = signal_after_a_second(child, "TERM");
    assert_eq!(code, Some(143), "{stderr}");
    assert!(
        stderr.contains(&format!("job {} FAILED", id("job-fails"))),
        "{stderr}"
    );
}
