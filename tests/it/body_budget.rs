//! "Memory stays bounded however many jobs wait": the 4 MiB cap is per answer, and one
//! process-wide budget (`dli::client::BODY_BUDGET_BYTES`, 64 MiB) bounds the answer bodies
//! being read at once, whatever the job count. Measured here: many jobs against a loopback
//! server that trickles a large (3.8 MB, chunked) answer to every poll, the child's peak RSS
//! read from `/proc`.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How large each answer is: under the 4 MiB cap, so each is read whole.
const BODY_BYTES: usize = 3_800_000;
/// How the server trickles it: this much, then a pause.
const PIECE: usize = 64 * 1024;
const PAUSE: Duration = Duration::from_millis(4);

/// A server answering every request with a FINISHED job whose answer is [`BODY_BYTES`] long
/// (JSON padded with spaces), chunked, in pieces; stops when dropped.
struct Trickler {
    endpoint: String,
    stop: Arc<AtomicBool>,
    answers: Arc<AtomicU64>,
}

impl Drop for Trickler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Trickler {
    fn start() -> Trickler {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let answers = Arc::new(AtomicU64::new(0));
        let (s, a) = (stop.clone(), answers.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let (s, a) = (s.clone(), a.clone());
                        std::thread::spawn(move || serve(conn, &s, &a));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        Trickler {
            endpoint,
            stop,
            answers,
        }
    }
}

fn serve(mut conn: TcpStream, stop: &AtomicBool, answers: &AtomicU64) {
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_write_timeout(Some(Duration::from_secs(60)));
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 64 * 1024 || !matches!(conn.read(&mut byte), Ok(1)) {
            return;
        }
        head.push(byte[0]);
    }
    let start = br#"{"is_success":true,"message":"","status":"FINISHED","#;
    let end = br#""sub_jobs":[]}"#;
    let mut body = Vec::with_capacity(BODY_BYTES);
    body.extend_from_slice(start);
    body.resize(BODY_BYTES - end.len(), b' ');
    body.extend_from_slice(end);
    let h = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    if conn.write_all(h.as_bytes()).is_err() {
        return;
    }
    for piece in body.chunks(PIECE) {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let ok = conn
            .write_all(format!("{:x}\r\n", piece.len()).as_bytes())
            .and_then(|()| conn.write_all(piece))
            .and_then(|()| conn.write_all(b"\r\n"));
        if ok.is_err() {
            return;
        }
        std::thread::sleep(PAUSE);
    }
    if conn.write_all(b"0\r\n\r\n").is_ok() {
        answers.fetch_add(1, Ordering::Relaxed);
    }
}

/// The peak the run must stay under: the 64 MiB budget, plus the process itself and what a
/// parsed answer costs beside its body (about 10 MiB each way). Without the budget the same
/// run peaks at about a job count times the answer size (120 jobs: some 450 MB).
const PEAK_LIMIT_KB: u64 = 112 * 1024;

/// 120 jobs polled at once (BUDGET_JOBS: another count), each answered 3.8 MB trickled in 64 KiB pieces: every job
/// FINISHES (exit 0), and the process never holds more than the budget of bodies.
#[test]
fn many_jobs_of_large_trickled_answers_stay_under_the_process_wide_body_budget() {
    let server = Trickler::start();
    // BUDGET_JOBS=300 tries another count (the peak stays where it is).
    let count: u32 = std::env::var("BUDGET_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(120);
    let jobs: Vec<String> = (0..count)
        .map(|n| format!("{n:08x}-2a52-4a57-9d38-1c3b8f6a0e11"))
        .collect();
    let mut cmd = std::process::Command::new(common::BIN);
    common::clean_env(&mut cmd);
    cmd.env("DLI_ENDPOINT", &server.endpoint)
        .env("HUAWEICLOUD_SDK_PROJECT_ID", "budgetproject")
        .env("HUAWEICLOUD_SDK_AK", "BUDGETAK")
        .env("HUAWEICLOUD_SDK_SK", "BUDGETSK")
        .args([
            "--max-requests-per-second",
            "1000",
            "--request-timeout",
            "60s",
        ])
        .args(["--timeout", "2m", "-q", "--"])
        .args(&jobs);
    let started = Instant::now();
    let (r, peak_kb, _) = common::run_measuring_memory(cmd, Duration::from_secs(150));
    eprintln!(
        "{count} jobs x {BODY_BYTES} B trickled: peak RSS {peak_kb} kB ({:.1} MiB), {:.1} s, {} answers",
        peak_kb as f64 / 1024.0,
        started.elapsed().as_secs_f64(),
        server.answers.load(Ordering::Relaxed)
    );
    r.expect_code(0);
    assert!(
        peak_kb > 0 && peak_kb < PEAK_LIMIT_KB,
        "peak RSS {peak_kb} kB is not under {PEAK_LIMIT_KB} kB\n{}",
        r.all()
    );
}
