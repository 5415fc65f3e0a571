//! Output files and streams under attack (issue 25, items 2, 3, 6, 12): what is at an output
//! path that is not a regular file is never replaced, a FIFO nobody reads never holds the
//! deadline or a signal, the static key is never printed for masking, and a reason of
//! megabytes is cut everywhere it is shown. Every run is bounded in time (`wait_bounded`, or
//! assert_cmd's timeout), so a regression fails rather than hangs.

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{Sim, TempDir, id, run, send_signal, shell_status, wait_bounded};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

fn mkfifo(path: &Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("run mkfifo")
        .success();
    assert!(ok, "mkfifo {}", path.display());
}

fn file_type(path: &Path) -> std::fs::FileType {
    std::fs::symlink_metadata(path)
        .expect("stat the output path")
        .file_type()
}

/// Item 2: a FIFO given as `--summary-file` stays a FIFO (it was renamed over, becoming a
/// regular file); nobody reads it, so the run says so, and ends as the job did.
#[test]
fn a_fifo_summary_file_is_never_replaced() {
    let sim = Sim::start("endings.json");
    let dir = TempDir::new("fifo-summary");
    let fifo = dir.path().join("summary.fifo");
    mkfifo(&fifo);
    let r = run(sim
        .dli_wait()
        .args(["--summary-file", fifo.to_str().unwrap()])
        .arg(id("job-finishes")));
    r.expect_code(0)
        .stderr_has(&["--summary-file", "FIFO that nobody is reading"]);
    assert!(file_type(&fifo).is_fifo(), "the FIFO was replaced");
}

/// Item 2: a character device (a `/dev/null` of our own: `mknod` needs root, so the test is
/// skipped without it) is written into, never replaced; `--record` likewise.
#[test]
fn a_device_summary_file_and_record_stay_devices() {
    let dir = TempDir::new("device-summary");
    let null = dir.path().join("null");
    let made = std::process::Command::new("mknod")
        .arg(&null)
        .args(["c", "1", "3"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !made {
        eprintln!("skipped: mknod needs root");
        return;
    }
    let sim = Sim::start("endings.json");
    let r = run(sim
        .dli_wait()
        .args(["--summary-file", null.to_str().unwrap()])
        .args(["--record", null.to_str().unwrap()])
        .arg(id("job-finishes")));
    r.expect_code(0);
    assert!(
        file_type(&null).is_char_device(),
        "the device was replaced\n{}",
        r.all()
    );
    assert!(!r.stderr.contains("cannot write"), "{}", r.all());
}

/// A run with the GitHub files at `output` and `summary` (FIFOs nobody reads), waiting for a
/// job that never ends.
fn github_run(sim: &Sim, output: &Path, summary: &Path, extra: &[&str]) -> std::process::Child {
    sim.dli_wait_std()
        .env("GITHUB_OUTPUT", output)
        .env("GITHUB_STEP_SUMMARY", summary)
        .arg("--github")
        .args(extra)
        .arg(id("job-never-ends"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start dli-wait")
}

fn fifos(dir: &TempDir) -> (PathBuf, PathBuf) {
    let (o, s) = (dir.path().join("output"), dir.path().join("summary.md"));
    mkfifo(&o);
    mkfifo(&s);
    (o, s)
}

fn stderr_of(child: &mut std::process::Child) -> String {
    use std::io::Read;
    let mut text = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut text);
    }
    text
}

/// Item 3: `GITHUB_OUTPUT` and `GITHUB_STEP_SUMMARY` FIFOs that nobody reads: `open()` blocked
/// the single-threaded runtime for ever, so `--timeout 2s` never fired. Now the run ends by its
/// deadline (plus the grace), saying what it could not write, and the FIFOs stay FIFOs.
#[test]
fn github_fifos_nobody_reads_do_not_hold_the_deadline() {
    let sim = Sim::start("endings.json");
    let dir = TempDir::new("fifo-github");
    let (output, summary) = fifos(&dir);
    let started = Instant::now();
    let mut child = github_run(&sim, &output, &summary, &["--timeout", "2s"]);
    let status = wait_bounded(&mut child, Duration::from_secs(20));
    let err = stderr_of(&mut child);
    assert_eq!(status.code(), Some(124), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(2 + 5 + 4),
        "{:?}",
        started.elapsed()
    );
    assert!(err.contains("FIFO that nobody is reading"), "{err}");
    assert!(file_type(&output).is_fifo() && file_type(&summary).is_fifo());
}

/// Item 3: the same FIFOs, and SIGTERM: it was ignored (the runtime blocked in `open()` at the
/// summary); now dli-wait dies of it within the grace.
#[test]
fn sigterm_wins_over_github_fifos_nobody_reads() {
    let sim = Sim::start("endings.json");
    let dir = TempDir::new("fifo-github-term");
    let (output, summary) = fifos(&dir);
    let mut child = github_run(&sim, &output, &summary, &[]);
    std::thread::sleep(Duration::from_millis(1500));
    send_signal(&child, "TERM");
    let sent = Instant::now();
    let status = wait_bounded(&mut child, Duration::from_secs(20));
    let err = stderr_of(&mut child);
    assert_eq!(shell_status(status), Some(143), "{err}");
    assert!(
        sent.elapsed() < Duration::from_secs(5 + 4),
        "{:?}",
        sent.elapsed()
    );
}

/// Item 6: with `GITHUB_ACTIONS=true`, the static key from the environment was printed as
/// `::add-mask::<SK>` on stderr, so every captured copy of stderr held it. It is the
/// workflow's own secret, masked by GitHub already: never printed.
#[test]
fn the_static_key_from_the_environment_is_never_printed_for_masking() {
    let sim = Sim::start("endings.json");
    let dir = TempDir::new("no-add-mask");
    let (output, summary) = (dir.path().join("output"), dir.path().join("summary.md"));
    let r = run(sim
        .dli_wait()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .arg(id("job-fails")));
    r.expect_code(1).never_shows(&sim.sk);
    assert!(!r.stderr.contains("::add-mask::"), "{}", r.all());
    // Still a GitHub run: the annotation is there.
    assert!(r.stderr.contains("::error "), "{}", r.all());
}

/// Item 12: a FAILED job whose reason is 1.9 MB gave a 3.7 MB step summary (GitHub refuses
/// over 1 MiB), as big an output file and summary file, and 7.4 MB of stderr. Every one of
/// them is now bounded, the reason cut with how much was left out.
#[test]
fn a_huge_reason_is_bounded_everywhere_it_is_shown() {
    let dir = TempDir::new("huge-reason");
    let scenario = dir.path().join("huge.json");
    let reason = format!("DLI.0005: {}", "table not found | <x> ".repeat(87_000));
    assert!(reason.len() > 1_900_000);
    let text = serde_json::json!({
        "speed": 1,
        "jobs": [{
            "id": "job-huge-reason",
            "launching": "100ms",
            "sub_jobs": [{"tasks": 10, "duration": "200ms"}],
            "end": {"status": "FAILED", "message": reason, "detail": "at line 1"}
        }]
    });
    std::fs::write(&scenario, text.to_string()).unwrap();
    let sim = Sim::start_file(scenario.to_str().unwrap());
    let (output, summary, json) = (
        dir.path().join("output"),
        dir.path().join("summary.md"),
        dir.path().join("summary.json"),
    );
    let r = run(sim
        .dli_wait()
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["--github", "--summary-file", json.to_str().unwrap()])
        .arg(id("job-huge-reason")));
    r.expect_code(1);
    let limit = 64 * 1024;
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    for (what, len) in [
        ("stderr", r.stderr.len() as u64),
        ("the step outputs", size(&output)),
        ("the step summary", size(&summary)),
        ("the summary file", size(&json)),
    ] {
        assert!(len > 0, "{what} is empty\n{}", r.stderr.len());
        assert!(len < limit, "{what} is {len} bytes");
    }
    assert!(
        r.stderr.contains(" more characters)"),
        "{}",
        &r.stderr[..2000]
    );
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let kept = s["jobs"][0]["reason"]["message"].as_str().unwrap();
    assert!(kept.starts_with("DLI.0005: table not found"), "{kept}");
    assert!(kept.ends_with(" more characters)"), "{kept}");
}

/// Item 3: a stderr pipe nobody reads (a `tee` that hung): once its buffer (64 KiB) was full,
/// the next line blocked the single-threaded runtime, so `--timeout` never fired. Here every
/// poll brings a new 3,900-character status (two lines of about 4 KB each): the run still
/// ends by its deadline, plus the grace and the 2 s it waits for stderr at the end.
#[test]
fn a_stderr_nobody_reads_does_not_hold_the_deadline() {
    let dir = TempDir::new("stuck-stderr");
    let scenario = dir.path().join("chatty.json");
    let job = id("job-chatty");
    let faults: Vec<serde_json::Value> = (1..=200)
        .map(|k| {
            serde_json::json!({
                "kind": "custom",
                "endpoint": "progress",
                "requests": [k, k],
                "body": {
                    "is_success": true,
                    "message": "",
                    "job_id": job,
                    "status": format!("S{k}-{}", "x".repeat(3_900)),
                    "sub_job_id": 0,
                    "progress": 0.5,
                    "sub_jobs": [{"id": 0, "num_tasks": 10, "num_completed_tasks": 5, "stage_ids": [0]}]
                }
            })
        })
        .collect();
    let text = serde_json::json!({
        "speed": 1,
        "jobs": [{
            "id": "job-chatty",
            "launching": "100ms",
            "sub_jobs": [{"tasks": 10, "duration": "1000h"}],
            "faults": faults
        }]
    });
    std::fs::write(&scenario, text.to_string()).unwrap();
    let sim = Sim::start_file(scenario.to_str().unwrap());
    let started = Instant::now();
    let mut child = sim
        .dli_wait_std()
        .args(["--timeout", "4s"])
        .arg(job)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start dli-wait");
    // Held open and never read.
    let stderr = child.stderr.take();
    let status = wait_bounded(&mut child, Duration::from_secs(25));
    drop(stderr);
    assert_eq!(status.code(), Some(124));
    assert!(
        started.elapsed() < Duration::from_secs(4 + 5 + 2 + 4),
        "{:?}",
        started.elapsed()
    );
}

/// `--record` writes what DLI said (a failure's reason) as every output does: a secret the
/// server echoes is scrubbed, and the text is cut (before: the whole key, uncut).
#[test]
fn the_recording_scrubs_secrets_and_cuts_reasons() {
    let sk = "SKSECRETSKSECRETSKSECRET0123456789abcdef";
    let reason = format!("boom {} {sk}", "x".repeat(5_000));
    let body = format!(r#"{{"is_success":true,"status":"FAILED","message":"{reason}"}}"#);
    let h = common::hostile::Hostile::start(common::hostile::Behaviour::Body(body));
    let dir = common::TempDir::new("record-scrub");
    let path = dir.path().join("rec.json");
    let r = common::run(
        h.dli_wait()
            .env("HUAWEICLOUD_SDK_SK", sk)
            .args(["--record", path.to_str().unwrap(), "--timeout", "5s"])
            .arg(common::id("job-1")),
    );
    r.expect_code(1);
    let text = std::fs::read_to_string(&path).expect("the recording");
    assert!(!text.contains("SKSECRETSKSECRET"), "{text}");
    assert!(text.len() < 6_000, "{} bytes", text.len());
}
