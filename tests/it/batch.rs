//! User stories of the cron wrapper: "at 02:00 submit the SQL, wait, and leave a summary file
//! my alerting reads, whatever happened; never leave a runaway job behind".

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{Sim, TempDir, bare, id, job, run, wait_bounded};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A fresh path for a summary file, in a directory removed when the first value drops.
fn summary_path(name: &str) -> (TempDir, PathBuf) {
    let dir = TempDir::new(&format!("batch-{name}"));
    let p = dir.path().join("summary.json");
    (dir, p)
}

/// The summary file parses as one JSON object with the given exit code; returns it.
fn read_summary(path: &Path, exit_code: i64) -> serde_json::Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("no summary file at {}: {e}", path.display()));
    let v: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("summary file is not JSON ({e}): {text}"));
    assert_eq!(v["exit_code"], exit_code, "{v}");
    // Written atomically: no temporary file is left beside it.
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    v
}

#[test]
fn submit_then_wait_exits_0_and_leaves_a_summary() {
    let sim = Sim::start("submit.json");
    let (_dir, path) = summary_path("submit-ok");
    let r = run(sim.dli_wait_sub("run").args([
        "--sql",
        "INSERT INTO sales.daily SELECT * FROM sales.raw",
        "--summary-file",
        path.to_str().unwrap(),
    ]));
    r.expect_code(0);
    let s = read_summary(&path, 0);
    assert_eq!(s["jobs"][0]["status"], "FINISHED", "{s}");
}

#[test]
fn a_run_that_cannot_start_still_leaves_a_summary() {
    // No credentials at all: exit 2 before any request, and the alerting script still finds
    // this run's summary (not last night's) saying why.
    let (_dir, path) = summary_path("no-config");
    std::fs::write(&path, "{\"exit_code\": 0, \"jobs\": []}").unwrap();
    let r = run(bare().args([
        "run",
        "--sql",
        "SELECT 1",
        "--summary-file",
        path.to_str().unwrap(),
    ]));
    r.expect_code(2).stderr_has(&["HUAWEICLOUD_SDK_AK"]);
    let s = read_summary(&path, 2);
    assert!(
        s["error"].as_str().unwrap().contains("HUAWEICLOUD_SDK_AK"),
        "{s}"
    );
}

#[test]
fn bad_sql_exits_1_with_dlis_reason_in_the_summary() {
    let sim = Sim::start("submit.json");
    let (_dir, path) = summary_path("bad-sql");
    let r = run(sim.dli_wait_sub("run").args([
        "--sql",
        "SELEC 1",
        "--summary-file",
        path.to_str().unwrap(),
    ]));
    r.expect_code(1).stderr_has(&["DLI.0005"]);
    let s = read_summary(&path, 1);
    assert!(s["error"].as_str().unwrap().contains("DLI.0005"), "{s}");
}

#[test]
fn timeout_with_cancel_exits_124_cancels_and_says_so_in_the_summary() {
    let sim = Sim::start("endings.json");
    let (_dir, path) = summary_path("timeout");
    let r = run(sim.dli_wait().args([
        "--timeout",
        "1s",
        "--cancel-on",
        "timeout",
        "--summary-file",
        path.to_str().unwrap(),
        id("job-never-ends"),
    ]));
    r.expect_code(124);
    assert!(
        sim.was_cancelled(id("job-never-ends")),
        "{:?}",
        sim.requests()
    );
    let s = read_summary(&path, 124);
    let j = job(&s, id("job-never-ends"));
    assert_eq!(j["status"], "TIMED_OUT", "{s}");
    assert_eq!(j["cancel"]["accepted"], true, "{s}");
}

#[test]
fn one_failure_of_two_exits_1_and_both_are_in_the_summary() {
    let sim = Sim::start("endings.json");
    let (_dir, path) = summary_path("two");
    let r = run(sim.dli_wait().args([
        "--summary-file",
        path.to_str().unwrap(),
        id("job-finishes"),
        id("job-fails"),
    ]));
    r.expect_code(1);
    let s = read_summary(&path, 1);
    assert_eq!(job(&s, id("job-finishes"))["status"], "FINISHED", "{s}");
    assert_eq!(job(&s, id("job-fails"))["status"], "FAILED", "{s}");
}

/// `--fail-fast --cancel-on timeout A B` where A fails: B's wait stops (ABANDONED), but B (a
/// backfill) is not cancelled: `timeout` says nothing about abandoned jobs.
#[test]
fn fail_fast_with_other_cancel_reasons_leaves_the_rest_running() {
    let sim = Sim::start("endings.json");
    let (_dir, path) = summary_path("fail-fast-timeout");
    let r = run(sim.dli_wait().args([
        "--fail-fast",
        "--cancel-on",
        "timeout,stall,signal",
        "--summary-file",
        path.to_str().unwrap(),
        id("job-fails"),
        id("job-never-ends"),
    ]));
    r.expect_code(1)
        .stderr_has(&["--fail-fast", "may still be running"]);
    assert!(
        !sim.was_cancelled(id("job-never-ends")),
        "{:?}",
        sim.requests()
    );
    let s = read_summary(&path, 1);
    assert_eq!(job(&s, id("job-never-ends"))["status"], "ABANDONED", "{s}");
    // The simulator still runs it: another wait sees it RUNNING.
    let r = run(sim.dli_wait_with(&[]).args([
        "--timeout",
        "1s",
        "--stall-timeout",
        "off",
        id("job-never-ends"),
    ]));
    r.expect_code(124).stderr_has(&["RUNNING"]);
}

/// `--cancel-on abandoned`: the jobs `--fail-fast` stopped waiting for are cancelled.
#[test]
fn fail_fast_stops_at_the_first_failure_and_cancels_the_rest() {
    let sim = Sim::start("endings.json");
    let (_dir, path) = summary_path("fail-fast");
    let r = run(sim.dli_wait().args([
        "--fail-fast",
        "--cancel-on",
        "abandoned",
        "--summary-file",
        path.to_str().unwrap(),
        id("job-fails"),
        id("job-never-ends"),
    ]));
    r.expect_code(1).stderr_has(&["--fail-fast"]);
    assert!(
        sim.was_cancelled(id("job-never-ends")),
        "{:?}",
        sim.requests()
    );
    assert!(!sim.was_cancelled(id("job-fails")), "{:?}", sim.requests());
    let s = read_summary(&path, 1);
    assert_eq!(job(&s, id("job-never-ends"))["status"], "ABANDONED", "{s}");
}

#[test]
fn fail_fast_without_cancel_on_leaves_the_rest_running() {
    let sim = Sim::start("endings.json");
    let r = run(sim
        .dli_wait()
        .args(["--fail-fast", id("job-fails"), id("job-never-ends")]));
    r.expect_code(1).stderr_has(&["may still be running"]);
    assert!(
        !sim.was_cancelled(id("job-never-ends")),
        "{:?}",
        sim.requests()
    );
}

/// Start a wait on the never-ending job, signal it after a second, return its status as a
/// shell shows it (`$?`: 128 + the signal's number when it died of one).
#[cfg(unix)]
fn signalled(sim: &Sim, signal: &str, extra: &[&str]) -> Option<i32> {
    let mut child = sim
        .dli_wait_std()
        .args(extra)
        .arg(id("job-never-ends"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(1));
    common::send_signal(&child, signal);
    common::shell_status(wait_bounded(&mut child, Duration::from_secs(10)))
}

#[cfg(unix)]
#[test]
fn sigterm_with_cancel_on_signal_exits_143_cancels_and_leaves_a_summary() {
    let sim = Sim::start("endings.json");
    let (_dir, path) = summary_path("sigterm");
    let code = signalled(
        &sim,
        "TERM",
        &[
            "--cancel-on",
            "signal",
            "--summary-file",
            path.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(143));
    assert!(
        sim.was_cancelled(id("job-never-ends")),
        "{:?}",
        sim.requests()
    );
    let s = read_summary(&path, 143);
    assert_eq!(
        job(&s, id("job-never-ends"))["status"],
        "INTERRUPTED",
        "{s}"
    );
}

#[cfg(unix)]
#[test]
fn sigint_without_cancel_on_exits_130_leaves_the_job_and_a_summary() {
    let sim = Sim::start("endings.json");
    let (_dir, path) = summary_path("sigint");
    let code = signalled(&sim, "INT", &["--summary-file", path.to_str().unwrap()]);
    assert_eq!(code, Some(130));
    assert!(
        !sim.was_cancelled(id("job-never-ends")),
        "{:?}",
        sim.requests()
    );
    read_summary(&path, 130);
}

/// Wait for ten busy jobs under `--max-requests-per-second rate` with `--cancel-on signal`
/// and JSON output, SIGTERM after a second; returns how long the run took after the signal,
/// its status and its JSON summary.
#[cfg(unix)]
fn ten_jobs_signalled(sim: &Sim, rate: &str) -> (Duration, Option<i32>, serde_json::Value) {
    let ids: Vec<String> = (0..10)
        .map(|i| id(&format!("busy-{i}")).to_string())
        .collect();
    let mut child = sim
        .dli_wait_std()
        .args(["--max-requests-per-second", rate, "--cancel-on", "signal"])
        .args(["--output", "json"])
        .args(&ids)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut s);
        s
    });
    std::thread::sleep(Duration::from_secs(1));
    common::send_signal(&child, "TERM");
    let signalled = std::time::Instant::now();
    let status = common::shell_status(wait_bounded(&mut child, Duration::from_secs(30)));
    let took = signalled.elapsed();
    let out = reader.join().unwrap();
    let last = out.lines().last().unwrap_or_default();
    let summary = serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {out}"));
    (took, status, summary)
}

/// "When CI cancels a step that waits for many jobs, every job is cancelled in time": the
/// cancels go ahead of the polls queued behind the rate limit (a runner kills 7.5 s after
/// its signal), and keep to it.
#[cfg(unix)]
#[test]
fn a_signal_cancels_every_job_ahead_of_the_polls_queued_behind_the_rate_limit() {
    let sim = Sim::start("many.json");
    // Ten jobs polling every 100 ms want 100 requests a second: the queue is long.
    let (took, status, summary) = ten_jobs_signalled(&sim, "4");
    assert_eq!(status, Some(143));
    // Ten DELETEs at four a second: 2.25 s; well inside the grace.
    assert!(took < Duration::from_secs(7), "{took:?}");
    for i in 0..10 {
        let id = id(&format!("busy-{i}"));
        assert!(
            sim.was_cancelled(id),
            "{id} not cancelled: {:?}",
            sim.requests()
        );
        assert_eq!(job(&summary, id)["cancel"]["accepted"], true, "{summary}");
    }
}

/// Behind a rate limit too tight for every cancel to fit in the grace (one request per two
/// seconds), the run still ends within it, and says which cancels were not sent.
#[cfg(unix)]
#[test]
fn behind_a_rate_limit_too_tight_for_every_cancel_the_run_still_ends_within_the_grace() {
    let sim = Sim::start("many.json");
    let (took, status, summary) = ten_jobs_signalled(&sim, "0.5");
    assert_eq!(status, Some(143));
    assert!(took < Duration::from_secs(7), "{took:?}");
    let jobs = summary["jobs"].as_array().unwrap();
    let sent = jobs
        .iter()
        .filter(|j| j["cancel"]["accepted"] == true)
        .count();
    assert!((1..10).contains(&sent), "{summary}");
    for j in jobs.iter().filter(|j| j["cancel"]["accepted"] != true) {
        let message = j["cancel"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("not sent"), "{j}");
        assert!(!sim.was_cancelled(j["job_id"].as_str().unwrap()));
    }
}

/// "A run that dies (OOM killer, `kill -9`, a reboot) never leaves last night's success in
/// place": while waiting, the summary file says the run is in progress, with no exit code.
#[cfg(unix)]
#[test]
fn a_wait_killed_with_sigkill_leaves_a_summary_that_says_in_progress() {
    let sim = Sim::start("endings.json");
    let (_dir, path) = summary_path("sigkill");
    std::fs::write(&path, "{\"exit_code\": 0, \"jobs\": []}").unwrap();
    let mut child = sim
        .dli_wait_std()
        .args([
            "--summary-file",
            path.to_str().unwrap(),
            id("job-never-ends"),
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait (bounded) until the wait has started and marked the file.
    let until = std::time::Instant::now() + Duration::from_secs(10);
    let marked = loop {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        if v["status"] == "IN_PROGRESS" || std::time::Instant::now() >= until {
            break v;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    child.kill().unwrap(); // SIGKILL: no handler runs, nothing more is written
    let status = wait_bounded(&mut child, Duration::from_secs(10));
    assert!(!status.success());
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(v, marked, "the file changed after the kill");
    assert_eq!(v["status"], "IN_PROGRESS", "{v}");
    assert!(
        v["exit_code"].is_null(),
        "an alert must not read success: {v}"
    );
    assert_eq!(v["pid"], child.id(), "{v}");
    assert_eq!(
        job(&v, id("job-never-ends"))["status"],
        "IN_PROGRESS",
        "{v}"
    );
}

/// "Nobody can make the nightly job overwrite another file": symlinks planted where the
/// summary's temporary file used to go (`.NAME.PID.tmp`, predictable) and at other likely
/// names are never followed; the victim is unchanged and the summary is written.
#[cfg(unix)]
#[test]
fn planted_symlinks_beside_the_summary_file_are_never_followed() {
    let sim = Sim::start("endings.json");
    let (dir, path) = summary_path("symlink");
    let victim_dir = TempDir::new("batch-symlink-victim");
    let victim = victim_dir.path().join("victim");
    std::fs::write(&victim, "precious").unwrap();
    let mut child = sim
        .dli_wait_std()
        .args(["--timeout", "2s", "--summary-file", path.to_str().unwrap()])
        .arg(id("job-never-ends"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let planted: Vec<PathBuf> = [
        format!(".summary.json.{}.tmp", child.id()),
        ".summary.json.tmp".into(),
        "summary.json.tmp".into(),
    ]
    .iter()
    .map(|n| dir.path().join(n))
    .collect();
    for p in &planted {
        std::os::unix::fs::symlink(&victim, p).unwrap();
    }
    let status = wait_bounded(&mut child, Duration::from_secs(20));
    assert_eq!(status.code(), Some(124));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    for p in &planted {
        let meta = std::fs::symlink_metadata(p).unwrap();
        assert!(
            meta.file_type().is_symlink(),
            "{} was replaced",
            p.display()
        );
        std::fs::remove_file(p).unwrap();
    }
    let s = read_summary(&path, 124);
    assert_eq!(job(&s, id("job-never-ends"))["status"], "TIMED_OUT", "{s}");
}

/// `--record` of Spark batches: each is written as a batch (`"type": "spark"`, its states),
/// and replays to the same endings: one succeeds, one dies with the reason the wait read.
#[test]
fn a_recorded_spark_wait_replays_as_batches_to_the_same_endings() {
    let sim = Sim::start("spark.json");
    let dir = TempDir::new("record-spark");
    let file = dir.path().join("recorded.json");
    let ids = [id("batch-succeeds"), id("batch-dies")];
    let r = run(sim
        .dli_wait()
        .args(["--job-type", "spark", "--record", file.to_str().unwrap()])
        .args(ids));
    r.expect_code(1);
    let recorded = std::fs::read_to_string(&file).expect("the record was written");
    let scenario: serde_json::Value = serde_json::from_str(&recorded).unwrap();
    let jobs = scenario["jobs"].as_array().expect("jobs");
    assert!(
        jobs.iter().all(|j| j["type"] == "spark"
            && j.get("sub_jobs")
                .is_none_or(|s| s.as_array().is_some_and(Vec::is_empty))),
        "{recorded}"
    );

    let replay = Sim::start_file(file.to_str().unwrap());
    let again = run(replay
        .dli_wait()
        .args(["--job-type", "spark", "--output", "json"])
        .args(ids));
    again.expect_code(1);
    let summary = again.summary();
    let ok = job(&summary, ids[0]);
    assert_eq!(
        (&ok["status"], &ok["last_status"]),
        (&"FINISHED".into(), &"SUCCESS".into()),
        "{summary}"
    );
    let dead = job(&summary, ids[1]);
    assert_eq!(
        (&dead["status"], &dead["last_status"]),
        (&"FAILED".into(), &"DEAD".into()),
        "{summary}"
    );
    assert!(
        dead["message"]
            .as_str()
            .is_some_and(|m| m.contains("does not exist")),
        "{summary}"
    );
}

/// `--record`: what a wait saw is a scenario; the simulator replays it to the same endings
/// (a job that finishes, one that fails with DLI's reason), so a user can benchmark polling
/// on their own jobs.
#[test]
fn a_recorded_wait_replays_to_the_same_ending() {
    let sim = Sim::start("endings.json");
    let dir = TempDir::new("record");
    let file = dir.path().join("recorded.json");
    let r = run(sim
        .dli_wait()
        .args(["--record", file.to_str().unwrap()])
        .args([id("job-finishes"), id("job-fails")]));
    r.expect_code(1);
    let recorded = std::fs::read_to_string(&file).expect("the record was written");
    let scenario: serde_json::Value = serde_json::from_str(&recorded).unwrap();
    assert_eq!(
        scenario["jobs"].as_array().map(Vec::len),
        Some(2),
        "{recorded}"
    );

    let replay = Sim::start_file(file.to_str().unwrap());
    let again =
        run(replay
            .dli_wait()
            .args(["--output", "json", id("job-finishes"), id("job-fails")]));
    again.expect_code(1);
    let summary = again.summary();
    assert_eq!(
        job(&summary, id("job-finishes"))["status"],
        "FINISHED",
        "{summary}"
    );
    let failed = job(&summary, id("job-fails"));
    assert_eq!(failed["status"], "FAILED", "{summary}");
    assert!(
        failed["message"]
            .as_str()
            .is_some_and(|m| m.contains("Table or view not found")),
        "{summary}"
    );
    // The sub-jobs it saw are in the replay too.
    assert!(
        scenario["jobs"][0]["sub_jobs"]
            .as_array()
            .is_some_and(|s| !s.is_empty()),
        "{recorded}"
    );
}
