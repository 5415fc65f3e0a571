//! User stories about `dli-wait check`: "before a six-hour wait, tell me in one step whether
//! the endpoint, TLS, the clock and the credentials will work: one line per check".

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::hostile::{Behaviour, Hostile};
use common::{Sim, bare, run};

fn check(sim: &Sim) -> assert_cmd::Command {
    let mut cmd = bare();
    cmd.env("DLI_ENDPOINT", &sim.endpoint)
        .env("HUAWEICLOUD_SDK_PROJECT_ID", &sim.project_id)
        .env("HUAWEICLOUD_SDK_AK", &sim.ak)
        .env("HUAWEICLOUD_SDK_SK", &sim.sk)
        .arg("check");
    cmd
}

#[test]
fn a_working_configuration_passes_every_check() {
    let sim = Sim::start("endings.json");
    let r = run(&mut check(&sim));
    r.expect_code(0);
    for name in ["configuration", "DNS", "endpoint", "clock", "credentials"] {
        assert!(
            r.stdout
                .lines()
                .any(|l| l.starts_with(&format!("ok   {name}:"))),
            "{name}: {}",
            r.all()
        );
    }
    // One signed read, nothing else.
    assert_eq!(sim.requests().len(), 1, "{:?}", sim.requests());
    assert!(!r.all().contains(&sim.sk), "{}", r.all());
}

#[test]
fn refused_credentials_or_project_exit_5_naming_what_to_check() {
    let sim = Sim::start("endings.json");
    let r = run(check(&sim).env("HUAWEICLOUD_SDK_SK", "wrong-secret"));
    r.expect_code(5);
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("FAIL credentials:") && l.contains("401")),
        "{}",
        r.all()
    );
    let r = run(check(&sim).env(
        "HUAWEICLOUD_SDK_PROJECT_ID",
        "ffffffffffffffffffffffffffffffff",
    ));
    r.expect_code(5);
    assert!(r.stdout.contains("FAIL credentials:"), "{}", r.all());
}

#[test]
fn configuration_problems_exit_2_one_line_each() {
    let r = run(bare().arg("check"));
    r.expect_code(2);
    assert!(
        r.stdout
            .starts_with("FAIL configuration: missing configuration"),
        "{}",
        r.all()
    );
    let r = run(bare()
        .env("DLI_ENDPOINT", "https://nonexistent.invalid")
        .env("HUAWEICLOUD_SDK_PROJECT_ID", "p")
        .env("HUAWEICLOUD_SDK_AK", "AK")
        .env("HUAWEICLOUD_SDK_SK", "SK")
        .arg("check"));
    r.expect_code(2);
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("FAIL DNS: cannot resolve nonexistent.invalid")),
        "{}",
        r.all()
    );
}

/// DLI refuses signatures dated more than 15 minutes off its clock: a server whose `Date` is
/// an hour away is a clock to fix (exit 2), said before the refusal it causes.
#[test]
fn a_clock_an_hour_off_is_a_configuration_error() {
    let h = Hostile::start(Behaviour::script(|_| {
        let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        let body = r#"{"error_code":"APIGW.0303","error_msg":"Incorrect app authentication information: signature expired"}"#;
        format!(
            "HTTP/1.1 401 Unauthorized\r\nDate: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            httpdate::fmt_http_date(an_hour_ago),
            body.len()
        )
        .into_bytes()
    }));
    let r = run(bare()
        .env("DLI_ENDPOINT", &h.endpoint)
        .env("HUAWEICLOUD_SDK_PROJECT_ID", "p")
        .env("HUAWEICLOUD_SDK_AK", "AK")
        .env("HUAWEICLOUD_SDK_SK", "SK")
        .args(["check", "--output", "json"]));
    r.expect_code(2);
    let v: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    let clock = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "clock")
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(clock["ok"], false, "{v}");
    assert!(clock["detail"].as_str().unwrap().contains("1h"), "{v}");
    assert_eq!(v["exit_code"], 2, "{v}");
}
