//! User stories about being stopped: "when my CI cancels the step (SIGTERM) or I press
//! Ctrl-C, dli-wait stops at once, dies of that signal after its cleanup (so `$?` is 143 /
//! 130 and a shell loop stops), and cancels the job only if I asked".

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{Sim, id, shell_status, wait_bounded};
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ExitStatus, Stdio};
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

/// Let it poll for a second, send `signal`, and return (exit status, stderr).
fn signal_after_a_second(mut child: Child, signal: &str) -> (ExitStatus, String) {
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
    (status, stderr)
}

#[test]
fn sigterm_dies_of_sigterm_143_and_leaves_the_job_running() {
    let sim = Sim::start("endings.json");
    let (status, stderr) = signal_after_a_second(start_waiting(&sim, &[]), "TERM");
    assert_eq!(shell_status(status), Some(143), "{stderr}");
    assert_eq!(status.signal(), Some(15), "{stderr}");
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
    let (status, stderr) = signal_after_a_second(child, "TERM");
    assert_eq!(shell_status(status), Some(143), "{stderr}");
    assert_eq!(status.signal(), Some(15), "{stderr}");
    assert!(
        sim.was_cancelled(id("job-never-ends")),
        "{:?}",
        sim.requests()
    );
    assert!(stderr.contains("cancel"), "{stderr}");
}

#[test]
fn sigint_dies_of_sigint_130() {
    let sim = Sim::start("endings.json");
    let (status, stderr) = signal_after_a_second(start_waiting(&sim, &[]), "INT");
    assert_eq!(shell_status(status), Some(130), "{stderr}");
    assert_eq!(status.signal(), Some(2), "{stderr}");
    assert!(stderr.contains("SIGINT"), "{stderr}");
}

#[test]
fn sighup_dies_of_sighup_129() {
    let sim = Sim::start("endings.json");
    let (status, stderr) = signal_after_a_second(start_waiting(&sim, &[]), "HUP");
    assert_eq!(shell_status(status), Some(129), "{stderr}");
    assert_eq!(status.signal(), Some(1), "{stderr}");
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
    let (status, stderr) = signal_after_a_second(child, "TERM");
    assert_eq!(shell_status(status), Some(143), "{stderr}");
    assert_eq!(status.signal(), Some(15), "{stderr}");
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
    let (status, stderr) = signal_after_a_second(child, "TERM");
    assert_eq!(shell_status(status), Some(143), "{stderr}");
    assert_eq!(status.signal(), Some(15), "{stderr}");
    assert!(
        stderr.contains(&format!("job {} FAILED", id("job-fails"))),
        "{stderr}"
    );
}

/// "Ctrl-C stops my `for j in ...; do dli-wait "$j"; done` loop": bash stops a loop only
/// when the child died of SIGINT (a child that exits 130 looks like it handled Ctrl-C). The
/// terminal sends SIGINT to the whole foreground process group; so does this test.
#[test]
fn ctrl_c_stops_a_shell_loop_after_the_first_wait() {
    use std::os::unix::process::CommandExt;
    let sim = Sim::start("endings.json");
    let base = sim.dli_wait_std();
    let mut cmd = std::process::Command::new("bash");
    for (k, v) in base.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let mut child = cmd
        .arg("-c")
        .arg(r#"for j in one two; do "$0" "$@" -- "$JOB"; echo "after $j: $?"; done; echo "loop done""#)
        .arg(base.get_program())
        .args(base.get_args())
        .env("JOB", id("job-never-ends"))
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start bash");
    let group = child.id();
    std::thread::sleep(Duration::from_secs(1));
    let kill_group = |sig: &str| {
        let _ = std::process::Command::new("kill")
            .args([&format!("-{sig}"), "--", &format!("-{group}")])
            .status();
    };
    kill_group("INT");
    let until = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().expect("poll bash") {
            break Some(s);
        }
        if std::time::Instant::now() >= until {
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // Whatever happened, nothing of the group outlives the test.
    kill_group("KILL");
    let _ = child.wait();
    let mut out = String::new();
    if let Some(mut o) = child.stdout.take() {
        let _ = o.read_to_string(&mut out);
    }
    let status = status.unwrap_or_else(|| panic!("the loop went on after Ctrl-C: {out}"));
    assert!(!out.contains("after"), "the loop went on: {out}");
    assert_eq!(
        status.signal(),
        Some(2),
        "bash did not stop of SIGINT: {out}"
    );
}

/// A job id for the hostile servers below (any UUID).
const HELD_JOB: &str = "5f0c4e8a-2a52-4a57-9d38-1c3b8f6a0e11";

/// An HTTP answer of `status` with a JSON `body`.
fn answer(status: u16, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Wait until the server has received a request whose path contains `part` (the phase to
/// interrupt has begun), send SIGTERM, and return (exit status, stderr, time from the signal
/// to the exit).
fn terminate_once(
    h: &common::hostile::Hostile,
    mut child: Child,
    part: &str,
) -> (ExitStatus, String, Duration) {
    let until = std::time::Instant::now() + Duration::from_secs(15);
    while !h.requests().iter().any(|r| r.path.contains(part)) {
        assert!(
            std::time::Instant::now() < until,
            "no request for {part}: {:?}",
            h.requests()
        );
        assert!(
            child.try_wait().expect("poll the child").is_none(),
            "dli-wait ended before {part} was asked for"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Well inside the phase: the request is out and held.
    std::thread::sleep(Duration::from_millis(300));
    let signalled = std::time::Instant::now();
    common::send_signal(&child, "TERM");
    let status = wait_bounded(&mut child, Duration::from_secs(15));
    let took = signalled.elapsed();
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    (status, stderr, took)
}

/// How soon after SIGTERM dli-wait must be gone, in every phase: the documented grace is 5 s
/// (inside the 7.5 s a cancelled GitHub run allows); nothing here needs more than a moment.
const SIGNAL_BOUND: Duration = Duration::from_secs(5);

/// "A SIGTERM while DLI's reason for a failure is fetched is honoured at once": the job
/// FAILED, `/status` (its reason) is held, SIGTERM: death by SIGTERM (143) well inside the
/// grace, not exit 1 ten seconds later.
#[test]
fn sigterm_while_the_failure_reason_is_fetched_dies_of_sigterm_at_once() {
    let h = common::hostile::Hostile::start(common::hostile::Behaviour::script(|r| {
        if r.path.contains("/status") {
            std::thread::sleep(Duration::from_secs(20));
        }
        answer(
            200,
            &format!(
                r#"{{"is_success":true,"message":"boom","job_id":"{HELD_JOB}","status":"FAILED","sub_jobs":[]}}"#
            ),
        )
    }));
    let child = h
        .dli_wait_std_with(&[("--request-timeout", "30s")])
        .args(["--", HELD_JOB])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start dli-wait");
    let (status, stderr, took) = terminate_once(&h, child, "/status");
    assert_eq!(shell_status(status), Some(143), "{stderr}");
    assert_eq!(status.signal(), Some(15), "{stderr}");
    assert!(took < SIGNAL_BOUND, "took {took:?}: {stderr}");
    assert!(stderr.contains("FAILED"), "{stderr}");
}

/// "A SIGTERM during a slow submit is honoured at once, and I am told the job may exist":
/// the submit's answer is held (`--request-timeout 30s`), SIGTERM: 143 within the grace, and
/// the message says the job may or may not have been created.
#[test]
fn sigterm_during_a_held_submit_dies_of_sigterm_and_says_the_job_may_exist() {
    let h = common::hostile::Hostile::start(common::hostile::Behaviour::script(|r| {
        if r.method == "POST" {
            std::thread::sleep(Duration::from_secs(20));
        }
        answer(
            200,
            &format!(
                r#"{{"is_success":true,"message":"","job_id":"{HELD_JOB}","job_mode":"async"}}"#
            ),
        )
    }));
    let mut cmd = std::process::Command::new(common::BIN);
    common::clean_env(&mut cmd);
    let child = cmd
        .env("DLI_ENDPOINT", &h.endpoint)
        .env("HUAWEICLOUD_SDK_PROJECT_ID", "hostileproject")
        .env("HUAWEICLOUD_SDK_AK", "HOSTILEAK")
        .env("HUAWEICLOUD_SDK_SK", "HOSTILESK")
        .args([
            "run",
            "--request-timeout",
            "30s",
            "--sql",
            "INSERT INTO t SELECT 1",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start dli-wait run");
    let (status, stderr, took) = terminate_once(&h, child, "submit-job");
    assert_eq!(shell_status(status), Some(143), "{stderr}");
    assert_eq!(status.signal(), Some(15), "{stderr}");
    assert!(took < SIGNAL_BOUND, "took {took:?}: {stderr}");
    assert!(
        stderr.contains("SIGTERM") && stderr.contains("may or may not have been created"),
        "{stderr}"
    );
    assert_eq!(
        h.requests().iter().filter(|r| r.method == "POST").count(),
        1
    );
}

/// "A SIGTERM while the first temporary keys are fetched (before the wait) is honoured at
/// once": IAM holds the OIDC exchange; 143 within the grace, and no request reaches DLI.
#[test]
fn sigterm_while_the_first_keys_are_fetched_dies_of_sigterm_at_once() {
    let h = common::hostile::Hostile::start(common::hostile::Behaviour::script(|_| {
        std::thread::sleep(Duration::from_secs(20));
        answer(500, "{}")
    }));
    let dir = common::TempDir::new("signal-iam");
    let token = dir.path().join("id-token");
    std::fs::write(&token, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln\n").unwrap();
    let mut cmd = std::process::Command::new(common::BIN);
    common::clean_env(&mut cmd);
    let child = cmd
        .env("DLI_ENDPOINT", &h.endpoint)
        .env("HUAWEICLOUD_SDK_PROJECT_ID", "hostileproject")
        .env("HUAWEICLOUD_SDK_IDP_ID", "github-actions")
        .env("HUAWEICLOUD_SDK_ID_TOKEN_FILE", &token)
        .env("HUAWEICLOUD_SDK_IAM_ENDPOINT", &h.endpoint)
        .args(["--request-timeout", "30s", "--", HELD_JOB])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start dli-wait");
    let (status, stderr, took) = terminate_once(&h, child, "/v3");
    assert_eq!(shell_status(status), Some(143), "{stderr}");
    assert!(took < SIGNAL_BOUND, "took {took:?}: {stderr}");
    assert!(stderr.contains("SIGTERM"), "{stderr}");
    assert!(
        h.requests().iter().all(|r| !r.path.contains(HELD_JOB)),
        "{:?}",
        h.requests()
    );
}

/// "SQL from a stdin that never ends does not hold a signal": `run --sql-file -` with a stdin
/// kept open and silent, SIGTERM: 143 within the grace, saying nothing was submitted (before:
/// the signal waited for stdin to close).
#[test]
fn sigterm_while_the_sql_is_read_from_stdin_dies_of_sigterm_and_submits_nothing() {
    let h = common::hostile::Hostile::start(common::hostile::Behaviour::Body("{}".into()));
    let mut cmd = std::process::Command::new(common::BIN);
    common::clean_env(&mut cmd);
    let mut child = cmd
        .env("DLI_ENDPOINT", &h.endpoint)
        .env("HUAWEICLOUD_SDK_PROJECT_ID", "hostileproject")
        .env("HUAWEICLOUD_SDK_AK", "HOSTILEAK")
        .env("HUAWEICLOUD_SDK_SK", "HOSTILESK")
        .args(["run", "--sql-file", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start dli-wait run");
    // Our end of its stdin stays open, and silent, until the child is gone.
    let _stdin = child.stdin.take();
    std::thread::sleep(Duration::from_millis(700));
    let signalled = std::time::Instant::now();
    common::send_signal(&child, "TERM");
    let status = wait_bounded(&mut child, Duration::from_secs(15));
    let took = signalled.elapsed();
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    assert_eq!(shell_status(status), Some(143), "{stderr}");
    assert!(took < SIGNAL_BOUND, "took {took:?}: {stderr}");
    assert!(stderr.contains("no job was created"), "{stderr}");
    assert!(h.requests().is_empty(), "{:?}", h.requests());
}
