//! User stories about a hostile or broken wire: "nothing a server, a proxy or the network
//! sends can crash dli-wait, flood its memory, pass for an answer about my job, or make it
//! retry for hours what can never work".

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::hostile::{Behaviour, Hostile, INJECTION};
use common::tls::{PrivateCa, self_signed, serve_tls};
use common::{TempDir, id, run};
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

/// The memory bound a wait keeps whatever the server sends.
const PEAK_RSS_LIMIT_KB: u64 = 32 * 1024;

fn body_flood(behaviour: Behaviour) {
    let h = Hostile::start(behaviour);
    let mut cmd = h.dli_wait_std();
    cmd.args(["--timeout", "2s", id("job-1")]);
    let (r, peak_kb, took) = common::run_measuring_memory(cmd, Duration::from_secs(30));
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
    let r =
        run(h
            .dli_wait_with(&[("--request-timeout", "1s")])
            .args(["--timeout", "3s", id("job-1")]));
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
    let r = run(h.dli_wait().arg(id("job-1")));
    r.expect_code(0).stderr_has(&[
        "DLI.0999",
        "retrying",
        &format!("job {} FINISHED", id("job-1")),
    ]);
    // Three polls, then the ending's one read of DLI's figures (`/status`).
    let asked = h.requests();
    assert_eq!(asked.len(), 4, "{asked:?}");
    assert!(asked[3].path.ends_with("/status"), "{asked:?}");
}

/// The same with the SDKs' other names, and without is_success (which reads as success).
#[test]
fn error_codes_under_any_sdk_name_count_in_2xx_bodies() {
    let h = Hostile::start(first_then(
        1,
        r#"{"errorCode": "DLI.0002", "errorMsg": "The job does not exist"}"#,
        r#"{"status": "FINISHED"}"#,
    ));
    let r = run(h.dli_wait().arg(id("job-1")));
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
    let r = run(h.dli_wait().arg(id("job-1")));
    r.expect_code(1)
        .stderr_has(&[&format!("job {} FAILED", id("job-1")), "Job aborted"]);
}

/// Arrays, strings, null and numbers where an answer object belongs are no answer: retried
/// as malformed until --timeout.
#[test]
fn json_that_is_not_an_object_is_no_answer() {
    for body in ["[]", "[1,2]", "\"x\"", "null", "1"] {
        let h = Hostile::start(Behaviour::Body(body.into()));
        let r = run(h
            .dli_wait()
            .args(["--timeout", "1s", "--output", "json", id("job-1")]));
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
    let r = run(h.dli_wait().args(["--timeout", "1s", id("job-1")]));
    r.expect_code(124)
        .stderr_has(&[&format!("about job job-2, not about job {}", id("job-1"))]);
    // Without a job id the answer is taken as it is.
    let h = Hostile::start(Behaviour::Body(
        r#"{"is_success": true, "status": "FINISHED"}"#.into(),
    ));
    run(h.dli_wait().arg(id("job-1"))).expect_code(0);
}

/// A 2xx answer with no job status (`{}` from a confused proxy) is no answer either.
#[test]
fn an_answer_without_a_job_status_is_no_answer() {
    let h = Hostile::start(Behaviour::Body("{}".into()));
    let r = run(h
        .dli_wait()
        .args(["--timeout", "1s", "--output", "json", id("job-1")]));
    r.expect_code(124);
    let job = &r.summary()["jobs"][0];
    assert_eq!(job["last_fault"]["kind"], "malformed_body", "{}", r.all());
    assert_eq!(job["last_status"], serde_json::Value::Null, "{}", r.all());
}

/// Issue 25: an answer that says the request failed is never a success, whatever final status
/// it also carries (before: exit 0). A refusal that cannot clear ends the wait at once.
#[test]
fn a_refusal_that_also_says_finished_never_exits_0() {
    for (job_type, body) in [
        (
            "sql",
            r#"{"is_success":false,"message":"DLI.0002: The job does not exist","status":"FINISHED"}"#,
        ),
        (
            "sql",
            r#"{"error_code":"DLI.0002","error_msg":"The job does not exist","status":"FINISHED"}"#,
        ),
        (
            "spark",
            r#"{"is_success":false,"error_code":"DLI.0002","state":"success"}"#,
        ),
    ] {
        let h = Hostile::start(Behaviour::Body(body.into()));
        let r = run(h
            .dli_wait()
            .args(["--timeout", "5s", "--job-type", job_type, id("job-1")]));
        r.expect_code(5).stderr_has(&["DLI.0002"]);
    }
}

/// Issue 25: a FAILED answer with a lone surrogate escape (Java cutting an emoji) or GBK
/// bytes is the failure it reports, with a lossy reason (before: malformed until --timeout).
#[test]
fn a_failure_whose_text_does_not_decode_is_still_a_failure() {
    let lone = r#"{"is_success":true,"message":"Job aborted \ud83d","status":"FAILED"}"#;
    let h = Hostile::start(Behaviour::Body(lone.into()));
    run(h.dli_wait().args(["--timeout", "5s", id("job-1")]))
        .expect_code(1)
        .stderr_has(&["FAILED", "Job aborted"]);
    let gbk = Behaviour::script(|_| {
        let mut body = br#"{"status":"FAILED","message":"bad "#.to_vec();
        body.extend_from_slice(&[0xd6, 0xd0, 0xce, 0xc4]);
        body.extend_from_slice(br#" row"}"#);
        let mut out = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        out.extend_from_slice(&body);
        out
    });
    let h = Hostile::start(gbk);
    run(h.dli_wait().args(["--timeout", "5s", id("job-1")]))
        .expect_code(1)
        .stderr_has(&["FAILED", "row"]);
}

/// Issue 25: an id asked about in upper case and DLI's lower-case echo are one job (before:
/// "the answer is about another job" until --timeout).
#[test]
fn an_upper_case_job_id_matches_its_lower_case_echo() {
    let lower = id("job-1");
    let body = format!(r#"{{"is_success":true,"job_id":"{lower}","status":"FINISHED"}}"#);
    let h = Hostile::start(Behaviour::Body(body));
    run(h
        .dli_wait()
        .args(["--timeout", "5s", &lower.to_ascii_uppercase()]))
    .expect_code(0);
}

/// Issue 25: status words are DLI's exactly, after an ASCII trim only: Unicode spaces and
/// lower case make no FINISHED (before: exit 0).
#[test]
fn a_status_in_disguise_is_no_ending() {
    let h = Hostile::start(Behaviour::Body(
        r#"{"is_success":true,"status":"\u3000finished\u00a0"}"#.into(),
    ));
    run(h.dli_wait().args(["--timeout", "1s", id("job-1")])).expect_code(124);
}

const FINISHED: &str = r#"{"is_success": true, "message": "", "status": "FINISHED"}"#;

/// A certificate from an issuer nobody here trusts cannot become trusted by retrying: exit 2
/// at once, naming TLS trust and how to trust a private CA.
#[test]
fn a_certificate_from_an_unknown_issuer_is_a_configuration_error() {
    let h = serve_tls(Behaviour::Body(FINISHED.into()), self_signed());
    let start = Instant::now();
    let r = run(h.dli_wait().arg(id("job-1")));
    eprintln!("{}", r.all());
    r.expect_code(2)
        .stderr_has(&["not trusted", "SSL_CERT_FILE"]);
    assert!(start.elapsed() < Duration::from_secs(10));
}

/// A private CA in SSL_CERT_FILE is trusted: the wait succeeds against a server it signed.
/// Without it the same wait is a configuration error at once, naming TLS trust and
/// SSL_CERT_FILE.
#[test]
fn ssl_cert_file_trusts_a_private_ca() {
    let ca = PrivateCa::new();
    let h = serve_tls(Behaviour::Body(FINISHED.into()), ca.server_config());
    let dir = TempDir::new("private-ca");
    let pem = ca.write_pem(dir.path());
    let r = run(h.dli_wait().env("SSL_CERT_FILE", &pem).arg(id("job-1")));
    r.expect_code(0)
        .stderr_has(&[&format!("job {} FINISHED", id("job-1"))]);
    // localhost is in the certificate too.
    let r = run(h
        .dli_wait()
        .env("SSL_CERT_FILE", &pem)
        .env("DLI_ENDPOINT", format!("https://localhost:{}", h.port))
        .arg(id("job-1")));
    r.expect_code(0);

    let start = Instant::now();
    let r = run(h.dli_wait().arg(id("job-1")));
    r.expect_code(2).stderr_has(&[
        &format!("job {} ERROR", id("job-1")),
        "not trusted",
        "SSL_CERT_FILE",
    ]);
    assert!(start.elapsed() < Duration::from_secs(10));
}

/// SSL_CERT_FILE naming a file that cannot be read, holds no certificate or is empty: exit 2
/// before any request, naming the variable and the file.
#[test]
fn an_unusable_ssl_cert_file_is_a_configuration_error() {
    let h = Hostile::start(Behaviour::Body(FINISHED.into()));
    let dir = TempDir::new("bad-ca");
    let not_pem = dir.path().join("not.pem");
    std::fs::write(&not_pem, "just text, no certificate\n").unwrap();
    let missing = dir.path().join("missing.pem");
    for (value, words) in [
        (
            missing.to_string_lossy().into_owned(),
            "cannot read SSL_CERT_FILE",
        ),
        (
            not_pem.to_string_lossy().into_owned(),
            "holds no certificate",
        ),
        (String::new(), "SSL_CERT_FILE is set but empty"),
    ] {
        let r = run(h.dli_wait().env("SSL_CERT_FILE", &value).arg(id("job-1")));
        r.expect_code(2).stderr_has(&["error:", words]);
        assert!(
            r.stderr.contains(&value),
            "the file is not named\n{}",
            r.all()
        );
    }
    assert!(h.requests().is_empty(), "{:?}", h.requests());
}

/// A fake proxy: records whether anyone connected, and answers nothing useful.
struct FakeProxy {
    url: String,
    connections: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl FakeProxy {
    fn start() -> FakeProxy {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = connections.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                drop(stream);
            }
        });
        FakeProxy { url, connections }
    }

    fn connections(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Proxy variables never apply to a loopback endpoint: the wait against the simulator
/// succeeds and the proxy sees nothing (before, signed requests went to the proxy in
/// cleartext, and the wait never finished).
#[test]
fn proxy_variables_never_apply_to_loopback() {
    let proxy = FakeProxy::start();
    let sim = common::Sim::start("endings.json");
    let job = id("job-finishes");
    let mut cmd = sim.dli_wait();
    for var in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        cmd.env(var, &proxy.url);
    }
    cmd.env_remove("NO_PROXY").env_remove("no_proxy");
    let r = run(cmd.args(["--timeout", "10s"]).arg(job));
    r.expect_code(0);
    assert_eq!(proxy.connections(), 0, "the proxy was used\n{}", r.all());
}

/// The same for `dli-wait demo`, which waits on its own loopback simulator.
#[test]
fn the_demo_finishes_with_a_proxy_set() {
    let proxy = FakeProxy::start();
    let mut cmd = common::bare();
    for var in ["HTTP_PROXY", "http_proxy", "ALL_PROXY"] {
        cmd.env(var, &proxy.url);
    }
    cmd.timeout(Duration::from_secs(60));
    let r = run(cmd.args(["demo", "--output", "json"]));
    r.expect_code(0);
    assert_eq!(proxy.connections(), 0, "the proxy was used\n{}", r.all());
}

/// A project id or token with a control character cannot go into a header: exit 2 at once,
/// naming the variable, never its value (before: retried as a connection fault until
/// --timeout).
#[test]
fn a_value_no_header_can_carry_is_a_configuration_error() {
    let h = Hostile::start(Behaviour::Body(FINISHED.into()));
    let r = run(h
        .dli_wait()
        .env("HUAWEICLOUD_SDK_PROJECT_ID", "proj\u{1}ect")
        .args(["--timeout", "10s", id("job-1")]));
    r.expect_code(2)
        .stderr_has(&["error:", "HUAWEICLOUD_SDK_PROJECT_ID", "character 5"])
        .never_shows("proj\u{1}ect");
    let r = run(h
        .dli_wait()
        .env_remove("HUAWEICLOUD_SDK_AK")
        .env_remove("HUAWEICLOUD_SDK_SK")
        .env("HUAWEICLOUD_SDK_AUTH_TOKEN", "TOKENSECRET\u{7}TOKENSECRET")
        .args(["--timeout", "10s", id("job-1")]));
    r.expect_code(2)
        .stderr_has(&["HUAWEICLOUD_SDK_AUTH_TOKEN"])
        .never_shows("TOKENSECRET");
    assert!(h.requests().is_empty(), "{:?}", h.requests());
}

/// A request whose URL the HTTP stack cannot build (here a job id far beyond any URI's
/// length) is a configuration error at once, not a connection fault retried for hours.
#[test]
fn a_url_that_cannot_be_built_is_a_configuration_error() {
    let h = Hostile::start(Behaviour::Body(FINISHED.into()));
    let job = "j".repeat(70_000);
    let start = Instant::now();
    let r = run(h.dli_wait().args(["--timeout", "10s", &job]));
    // A job id is a UUID: a 70,000-character one is refused before any URL is built.
    r.expect_code(2)
        .stderr_has(&["not a job id", "longer than a job id"]);
    assert!(r.stderr.len() < 1000, "the id is not echoed whole");
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(h.requests().is_empty());
}

/// A host that never resolves (`.invalid` never does) is retried only for
/// --unreachable-timeout while nothing has answered, then exit 2 naming DNS and the flag.
#[test]
fn a_host_that_never_resolves_is_a_configuration_error_after_the_window() {
    let start = Instant::now();
    let r = run(common::bare()
        .env("DLI_ENDPOINT", "https://nonexistent.invalid")
        .env("HUAWEICLOUD_SDK_PROJECT_ID", "p")
        .env("HUAWEICLOUD_SDK_AK", "AK")
        .env("HUAWEICLOUD_SDK_SK", "SK")
        .args(["--poll-interval", "100ms", "--max-poll-interval", "300ms"])
        .args(["--unreachable-timeout", "2s", id("job-1")]));
    let took = start.elapsed();
    r.expect_code(2).stderr_has(&[
        &format!("job {} ERROR", id("job-1")),
        "cannot resolve nonexistent.invalid (DNS)",
        "--unreachable-timeout",
        "--region or --endpoint",
    ]);
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

/// The same under the default settings: exit 2 within a minute (30 s of retrying), not after
/// the 6-hour --timeout.
#[test]
fn a_host_that_never_resolves_ends_within_a_minute_by_default() {
    let mut cmd = std::process::Command::new(common::BIN);
    common::clean_env(&mut cmd);
    cmd.env("DLI_ENDPOINT", "https://nonexistent.invalid")
        .env("HUAWEICLOUD_SDK_PROJECT_ID", "p")
        .env("HUAWEICLOUD_SDK_AK", "AK")
        .env("HUAWEICLOUD_SDK_SK", "SK")
        .arg(id("job-1"));
    let (r, _, took) = common::run_measuring_memory(cmd, Duration::from_secs(60));
    r.expect_code(2)
        .stderr_has(&["cannot resolve nonexistent.invalid (DNS)"]);
    assert!(
        took >= Duration::from_secs(30) && took < Duration::from_secs(60),
        "took {took:?}"
    );
}

/// Once the service has answered, connection faults are transient again: a service that
/// answers RUNNING and then goes away is retried until --timeout (124), not exit 2.
#[test]
fn after_an_answer_connection_faults_are_retried_until_the_timeout() {
    let count = std::sync::atomic::AtomicUsize::new(0);
    let h = Hostile::start(Behaviour::script(move |_| {
        if count.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            let body = r#"{"is_success": true, "status": "RUNNING"}"#;
            format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .into_bytes()
        } else {
            Vec::new() // closed without an answer
        }
    }));
    let r = run(h.dli_wait().args([
        "--unreachable-timeout",
        "1s",
        "--timeout",
        "3s",
        id("job-1"),
    ]));
    r.expect_code(124)
        .stderr_has(&["TIMED_OUT", "last seen RUNNING"]);
}

/// The same on /status: after /progress kept answering DLI.0999 and the wait fell back to
/// /status, a non-object there is no answer either.
#[test]
fn json_that_is_not_an_object_is_no_answer_on_status_either() {
    let runs: Vec<_> = ["[]", "[1,2]", "\"x\"", "null", "1"]
        .into_iter()
        .map(|body| {
            std::thread::spawn(move || {
                let h = Hostile::start(Behaviour::script(move |req| {
                    let (status, text) = if req.path.ends_with("/progress") {
                        (400, r#"{"error_code":"DLI.0999","error_msg":"The queue is busy."}"#)
                    } else {
                        (200, body)
                    };
                    format!(
                        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                        text.len()
                    )
                    .into_bytes()
                }));
                let r = run(h.dli_wait().args(["--timeout", "3s", "--output", "json", id("job-1")]));
                let on_status = h.requests().iter().any(|q| q.path.ends_with("/status"));
                (body, r, on_status)
            })
        })
        .collect();
    for handle in runs {
        let (body, r, on_status) = handle.join().unwrap();
        r.expect_code(124);
        assert!(on_status, "{body}: /status was never polled\n{}", r.all());
        let job = &r.summary()["jobs"][0];
        assert_eq!(job["polled_status_endpoint"], true, "{body}: {}", r.all());
        assert_eq!(
            job["last_fault"]["kind"],
            "malformed_body",
            "{body}: {}",
            r.all()
        );
    }
}

/// The hostile FAILED answer (injections in every text field) is accepted as an answer about
/// the job asked for: the wait ends FAILED. (How its text is printed is for the escaping
/// tests.)
#[test]
fn the_injected_failure_is_an_answer_about_the_job() {
    let h = Hostile::start(Behaviour::InjectedFailure);
    let r = run(h.dli_wait().args(["--output", "json", id("job-1")]));
    r.expect_code(1);
    assert_eq!(r.summary()["jobs"][0]["status"], "FAILED", "{}", r.all());
}
