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
