//! "Whatever a server or a file throws at it, dli-wait answers with a classified fault or a
//! clear error, never a panic": seeded random and mutated inputs through every parser of
//! untrusted text (response bodies, headers, dates, scenario files).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use dli_wait::dli::fault::{Reply, classify, parse_retry_after};
use dli_wait::dli::model::{JobProgress, JobStatusInfo, SubmitJobResponse};
use dli_wait::dli::sign::{AuthorizationHeader, parse_sdk_date};
use dli_wait::sim::scenario::Scenario;
use rand::{Rng, SeedableRng, rngs::StdRng};
use std::time::{Duration, SystemTime};

const SEEDS: &[&str] = &[
    r#"{"is_success":true,"message":"","job_id":"j","status":"RUNNING","sub_job_id":0,"progress":0.5,"sub_jobs":[{"id":0,"num_tasks":10,"num_completed_tasks":5,"stage_ids":[0,1],"killed_tasks_summary":{"x":1}}]}"#,
    r#"{"is_success":false,"message":"DLI.0999: busy","status":"FAILED"}"#,
    r#"{"error_code":"DLI.0999","error_msg":"The queue is busy.","request_id":"r"}"#,
    r#"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"#,
    r#"{"is_success":true,"status":"FINISHED","duration":2523,"start_time":1509335108918,"detail":"{}"}"#,
];

/// Flip, drop, duplicate and insert bytes of a seed.
fn mutate(rng: &mut StdRng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..rng.gen_range(1..8) {
        let pos = if v.is_empty() {
            0
        } else {
            rng.gen_range(0..v.len())
        };
        match rng.gen_range(0..5) {
            0 if !v.is_empty() => v[pos] = rng.r#gen(),
            1 if !v.is_empty() => {
                v.remove(pos);
            }
            2 => v.insert(
                pos,
                b"{}[]\":,-0123456789eE.nulltruefalse\\"[rng.gen_range(0..34)],
            ),
            3 if pos < v.len() => {
                let end = rng.gen_range(pos..v.len());
                let chunk = v[pos..end].to_vec();
                v.splice(pos..pos, chunk);
            }
            _ => v.truncate(pos),
        }
    }
    v
}

#[test]
fn no_response_body_or_status_makes_classification_panic() {
    let mut rng = StdRng::seed_from_u64(0xD11);
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let statuses = [
        200u16, 201, 204, 301, 400, 401, 403, 404, 408, 429, 500, 502, 503, 504, 599,
    ];
    for i in 0..20_000 {
        let seed = SEEDS[i % SEEDS.len()].as_bytes();
        let body = if i % 10 == 0 {
            (0..rng.gen_range(0..64)).map(|_| rng.r#gen()).collect()
        } else {
            mutate(&mut rng, seed)
        };
        let reply = Reply {
            status: statuses[rng.gen_range(0..statuses.len())],
            retry_after: (i % 7 == 0)
                .then(|| String::from_utf8_lossy(&body[..body.len().min(12)]).into_owned()),
            request_id: None,
            date: None,
            body,
        };
        // Each answer is either a parsed body or a fault with a message: never a panic.
        if let Err(f) = classify::<JobProgress>(&reply, now) {
            assert!(!f.to_string().is_empty());
        }
        let _ = classify::<JobStatusInfo>(&reply, now);
        let _ = classify::<SubmitJobResponse>(&reply, now);
    }
}

#[test]
fn odd_headers_and_dates_are_refused_not_fatal() {
    let mut rng = StdRng::seed_from_u64(7);
    let now = SystemTime::now();
    let auth =
        "SDK-HMAC-SHA256 Access=AK, SignedHeaders=content-type;host;x-sdk-date, Signature=abc";
    for _ in 0..20_000 {
        let text = String::from_utf8_lossy(&mutate(&mut rng, auth.as_bytes())).into_owned();
        let _ = AuthorizationHeader::parse(&text);
        let _ = parse_sdk_date(&text);
        let _ = parse_retry_after(&text, now);
    }
    assert_eq!(parse_retry_after("99999999999999999999", now), None);
    assert_eq!(
        parse_retry_after("604800", now),
        Some(Duration::from_secs(3600)),
        "a week is capped at an hour"
    );
    assert!(parse_sdk_date("99999999T999999Z").is_none());
}

#[test]
fn absurd_durations_in_scenarios_are_errors() {
    for d in ["1e300", "-1", "\"100000000000000000000000h\""] {
        let text = format!(r#"{{"jobs": [{{"launching": {d}}}]}}"#);
        assert!(Scenario::parse(&text).is_err(), "{text}");
    }
}

#[test]
fn broken_scenario_files_get_an_error_message() {
    let text = dli_wait::sim::DEFAULT_SCENARIO;
    let mut rng = StdRng::seed_from_u64(11);
    let mut refused = 0;
    for _ in 0..3_000 {
        let mutated = String::from_utf8_lossy(&mutate(&mut rng, text.as_bytes())).into_owned();
        match Scenario::parse(&mutated) {
            Ok(s) => {
                // Whatever parsed must also play without panicking.
                for job in &s.jobs {
                    for t in [0.0, 1.0, 10.0, 1e6] {
                        let _ = job.at(t, "j");
                    }
                }
            }
            Err(e) => {
                assert!(!e.is_empty());
                refused += 1;
            }
        }
    }
    assert!(
        refused > 100,
        "the mutations should break most files: {refused}"
    );
}

/// Credentials files and IAM or metadata answers, mutated: keys or a clear error that names a
/// line or a missing field, never a panic, and never the input's text (it may hold secrets).
#[test]
fn no_credentials_file_or_credential_answer_makes_the_parsers_panic() {
    use dli_wait::dli::credentials::file::Ini;
    use dli_wait::dli::credentials::read_credential;
    let files = [
        "[basic]\nak = AKMARKER\nsk = SKMARKER\nproject_id = p\n",
        "# c\n[basic]\nidp_id: gh\nid_token_file = /t\n  more\n[global]\nak=x\n",
    ];
    let answers = [
        r#"{"credential":{"access":"AKMARKER","secret":"SKMARKER","securitytoken":"STMARKER","expires_at":"2030-01-01T06:00:00.000000Z"}}"#,
        r#"{"accessKeyId":"AKMARKER","secretAccessKey":"SKMARKER","securityToken":"STMARKER","expiration":"2030-01-01T06:00:00Z"}"#,
    ];
    let mut rng = StdRng::seed_from_u64(0xC8ED);
    for i in 0..20_000 {
        let file = mutate(&mut rng, files[i % files.len()].as_bytes());
        if let Ok(text) = std::str::from_utf8(&file)
            && let Err(e) = Ini::parse(text)
        {
            assert!(e.starts_with("line ") && !e.contains("MARKER"), "{e}");
        }
        let answer = mutate(&mut rng, answers[i % answers.len()].as_bytes());
        if let Err(e) = read_credential(&answer) {
            assert!(!e.contains("MARKER"), "{e}");
        }
    }
}
