//! User stories about a hostile or broken wire: "nothing a server, a proxy or the network
//! sends can crash dli-wait, flood its memory, pass for an answer about my job, or make it
//! retry for hours what can never work".

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::hostile::{Behaviour, Hostile, INJECTION};
use common::{Ran, run};
use std::time::{Duration, Instant};

fn get(url: &str) -> (u16, String) {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(5))
        .no_proxy()
        .build()
        .unwrap();
    let resp = client.get(url).send().unwrap();
    let status = resp.status().as_u16();
    (status, resp.text().unwrap())
}

/// The hostile server itself: it answers as scripted, and records what it was asked.
#[test]
fn the_hostile_server_answers_as_scripted() {
    let h = Hostile::start(Behaviour::Reply {
        status: 418,
        body: "[]".into(),
    });
    assert_eq!(
        get(&format!("{}/v1/p/jobs/j1/progress", h.endpoint)),
        (418, "[]".into())
    );
    let reqs = h.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].job_id(), Some("j1"));

    let h = Hostile::start(Behaviour::InjectedFailure);
    let (status, body) = get(&format!("{}/v1.0/p/jobs/j2/status", h.endpoint));
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (v["job_id"].as_str(), v["status"].as_str()),
        (Some("j2"), Some("FAILED"))
    );
    assert_eq!(v["message"].as_str(), Some(INJECTION));

    let h = Hostile::start(Behaviour::script(|r| {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{}",
            r.path.len(),
            r.path
        )
        .into_bytes()
    }));
    assert_eq!(get(&format!("{}/x/y", h.endpoint)).1, "/x/y");
}

/// A run of `cmd` with its peak resident memory: `VmHWM` (the kernel's high-water mark) from
/// `/proc/<pid>/status`, read every 20 ms while the child lives. The mark only grows, so the
/// last reading before the exit is a lower bound of the true peak, and the peak of a body
/// being read comes long before the exit.
fn run_measuring_memory(mut cmd: std::process::Command, limit: Duration) -> (Ran, u64, Duration) {
    use std::io::Read;
    use std::process::Stdio;
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start dli-wait");
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kb = 0u64;
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&status_file)
            && let Some(kb) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak_kb = peak_kb.max(kb);
        }
        if let Some(status) = child.try_wait().expect("poll the child") {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("dli-wait did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let ran = Ran {
        code: status.code(),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    };
    (ran, peak_kb, start.elapsed())
}

/// The memory bound a wait keeps whatever the server sends.
const PEAK_RSS_LIMIT_KB: u64 = 32 * 1024;

fn body_flood(behaviour: Behaviour) {
    let h = Hostile::start(behaviour);
    let mut cmd = h.dli_wait_std();
    cmd.args(["--timeout", "2s", "job-1"]);
    let (r, peak_kb, took) = run_measuring_memory(cmd, Duration::from_secs(30));
    eprintln!(
        "peak RSS {peak_kb} kB, {:.1} s, {} MB sent",
        took.as_secs_f64(),
        h.bytes_sent() / 1_000_000
    );
    assert!(
        peak_kb > 0 && peak_kb < PEAK_RSS_LIMIT_KB,
        "peak RSS {peak_kb} kB is not under {PEAK_RSS_LIMIT_KB} kB\n{}",
        r.all()
    );
    r.expect_code(124)
        .stderr_has(&["answer larger than 4 MiB", "--timeout"]);
    assert!(took < Duration::from_secs(10), "took {took:?}\n{}", r.all());
}

/// An endless body sent as fast as loopback carries it: cut at 4 MiB each time, so two
/// seconds of retrying stay under 32 MB (before the cap, two seconds grew past 1 GB).
#[test]
fn an_endless_body_is_cut_at_the_cap_and_memory_stays_small() {
    body_flood(Behaviour::EndlessChunked);
}

/// A body announced as 1 GiB is refused from its Content-Length, before it is read.
#[test]
fn a_1_gib_body_is_refused_from_its_length_and_memory_stays_small() {
    body_flood(Behaviour::HugeContentLength);
}

/// A body trickling for ever cannot outlive --request-timeout: each request ends at its
/// limit, and the wait at --timeout plus at most a second.
#[test]
fn an_endless_slow_body_ends_at_the_request_timeout() {
    let h = Hostile::start(Behaviour::EndlessSlow);
    let start = Instant::now();
    let r = run(h
        .dli_wait_with(&[("--request-timeout", "1s")])
        .args(["--timeout", "3s", "job-1"]));
    let took = start.elapsed();
    r.expect_code(124)
        .stderr_has(&["no answer within 1s", "--request-timeout"]);
    assert!(took < Duration::from_secs(6), "took {took:?}\n{}", r.all());
    assert!(h.requests().len() >= 2, "{:?}", h.requests());
}

/// `n` answers `first`, then `then` for ever (per request, whatever the path).
fn first_then(n: usize, first: &'static str, then: &'static str) -> Behaviour {
    let count = std::sync::atomic::AtomicUsize::new(0);
    Behaviour::script(move |_| {
        let i = count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let (status, body) = if i < n { (200, first) } else { (200, then) };
        format!(
            "HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    })
}

/// DLI.0999 in a 2xx answer's `error_code` (not in its message) is the busy queue it is:
/// retried, then the job finishes. (Before, exit 5: the code was only looked for in
/// `message`'s text.)
#[test]
fn a_queue_busy_code_in_a_2xx_body_is_retried() {
    let h = Hostile::start(first_then(
        2,
        r#"{"is_success": false, "error_code": "DLI.0999", "message": "The queue backend version is too old or the queue is busy."}"#,
        r#"{"is_success": true, "message": "", "status": "FINISHED"}"#,
    ));
    let r = run(h.dli_wait().arg("job-1"));
    r.expect_code(0)
        .stderr_has(&["DLI.0999", "retrying", "job job-1 FINISHED"]);
    assert_eq!(h.requests().len(), 3, "{:?}", h.requests());
}

/// The same with the SDKs' other names, and without is_success (which reads as success).
#[test]
fn error_codes_under_any_sdk_name_count_in_2xx_bodies() {
    let h = Hostile::start(first_then(
        1,
        r#"{"errorCode": "DLI.0002", "errorMsg": "The job does not exist"}"#,
        r#"{"status": "FINISHED"}"#,
    ));
    let r = run(h.dli_wait().arg("job-1"));
    // Refused for good at the first answer (before: taken for a LAUNCHING job).
    r.expect_code(5)
        .stderr_has(&["DLI.0002", "The job does not exist"]);
    assert_eq!(h.requests().len(), 1);
}

/// A job that FAILED stays FAILED even with DLI.0999 in its answer's error fields.
#[test]
fn a_failed_job_with_dli_0999_in_its_answer_stays_failed() {
    let h = Hostile::start(Behaviour::Body(
        r#"{"is_success": false, "error_code": "DLI.0999", "message": "DLI.0999: SparkException: Job aborted", "status": "FAILED"}"#.into(),
    ));
    let r = run(h.dli_wait().arg("job-1"));
    r.expect_code(1)
        .stderr_has(&["job job-1 FAILED", "Job aborted"]);
}

/// Arrays, strings, null and numbers where an answer object belongs are no answer: retried
/// as malformed until --timeout.
#[test]
fn json_that_is_not_an_object_is_no_answer() {
    for body in ["[]", "[1,2]", "\"x\"", "null", "1"] {
        let h = Hostile::start(Behaviour::Body(body.into()));
        let r = run(h
            .dli_wait()
            .args(["--timeout", "1s", "--output", "json", "job-1"]));
        r.expect_code(124);
        let job = &r.summary()["jobs"][0];
        assert_eq!(job["status"], "TIMED_OUT", "{body}: {}", r.all());
        assert_eq!(
            job["last_fault"]["kind"],
            "malformed_body",
            "{body}: {}",
            r.all()
        );
        assert_eq!(
            job["last_fault"]["class"],
            "transient",
            "{body}: {}",
            r.all()
        );
        assert!(h.requests().len() >= 2, "{body}: not retried");
    }
}

/// An answer naming another job is not an answer about this one: a finished job-2 must
/// not end the wait for job-1 (before: exit 0).
#[test]
fn an_answer_about_another_job_is_no_answer() {
    let h = Hostile::start(Behaviour::Body(
        r#"{"is_success": true, "job_id": "job-2", "status": "FINISHED"}"#.into(),
    ));
    let r = run(h.dli_wait().args(["--timeout", "1s", "job-1"]));
    r.expect_code(124)
        .stderr_has(&["about job job-2, not about job job-1"]);
    // Without a job id the answer is taken as it is.
    let h = Hostile::start(Behaviour::Body(
        r#"{"is_success": true, "status": "FINISHED"}"#.into(),
    ));
    run(h.dli_wait().arg("job-1")).expect_code(0);
}

/// A 2xx answer with no job status (`{}` from a confused proxy) is no answer either.
#[test]
fn an_answer_without_a_job_status_is_no_answer() {
    let h = Hostile::start(Behaviour::Body("{}".into()));
    let r = run(h
        .dli_wait()
        .args(["--timeout", "1s", "--output", "json", "job-1"]));
    r.expect_code(124);
    let job = &r.summary()["jobs"][0];
    assert_eq!(job["last_fault"]["kind"], "malformed_body", "{}", r.all());
    assert_eq!(job["last_status"], serde_json::Value::Null, "{}", r.all());
}
