//! "This machine's limits are not the service's faults": under `ulimit -n 40`, 300 jobs whose
//! polls the service answers (slowly) throughout. Connections that cannot be opened (EMFILE)
//! are a local fault, said as one and retried; and since the service answered, no job ends as
//! "no answer from the service at all" (exit 2).

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::hostile::{Behaviour, Hostile};
use std::process::Stdio;
use std::time::Duration;

#[test]
fn out_of_file_descriptors_with_300_jobs_is_a_local_fault_not_an_unreachable_service() {
    let h = Hostile::start(Behaviour::script(|_| {
        std::thread::sleep(Duration::from_millis(300));
        let body = r#"{"is_success":true,"message":"","status":"RUNNING","sub_jobs":[]}"#;
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }));
    let jobs: Vec<String> = (0..300)
        .map(|n| format!("{n:08x}-1b2c-4d5e-8f90-0a1b2c3d4e5f"))
        .collect();
    let base = h.dli_wait_std_with(&[("--request-timeout", "5s")]);
    let mut cmd = std::process::Command::new("sh");
    for (k, v) in base.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let child = cmd
        .arg("-c")
        .arg(r#"ulimit -n 40 && exec "$0" "$@""#)
        .arg(base.get_program())
        .args(base.get_args())
        .args([
            "--max-requests-per-second",
            "1000",
            "--unreachable-timeout",
            "3s",
        ])
        .args(["--timeout", "8s", "--output", "json", "--"])
        .args(&jobs)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start dli-wait under ulimit -n 40");
    let out = common::wait_output_bounded(child, Duration::from_secs(30));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let summary: serde_json::Value = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("no summary: {stderr}"));
    let statuses: Vec<&str> = summary["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["status"].as_str().unwrap_or_default())
        .collect();
    let errors = statuses.iter().filter(|s| **s == "ERROR").count();
    assert_eq!(errors, 0, "{errors} jobs ended ERROR: {summary}");
    assert_eq!(out.status.code(), Some(124), "{summary}");
    assert!(statuses.iter().all(|s| *s == "TIMED_OUT"), "{summary}");
    // The local fault was met, and named as local.
    assert!(
        stdout.contains("local_resource") && stdout.contains("file descriptors"),
        "no local fault seen: {}",
        &stdout[..stdout.len().min(4000)]
    );
}
