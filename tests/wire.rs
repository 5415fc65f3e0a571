//! User stories about a hostile or broken wire: "nothing a server, a proxy or the network
//! sends can crash dli-wait, flood its memory, pass for an answer about my job, or make it
//! retry for hours what can never work".

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::hostile::{Behaviour, Hostile, INJECTION};
use std::time::Duration;

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
