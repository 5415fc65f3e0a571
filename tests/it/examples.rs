//! Examples are code: each runs as written in the environment it targets. The cron script
//! under `env -i` with only what cron gives a job; the GitHub workflows' time limits against
//! the 360-minute cap of GitHub-hosted runners; GitLab and Jenkins pass job ids after `--`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{BIN, Sim, TempDir};
use serde_yaml_ng::Value;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A GitHub-hosted runner stops any job after this long, whatever `timeout-minutes` says.
const HOSTED_RUNNER_CAP: Duration = Duration::from_secs(360 * 60);
/// What a wait may take past its `--timeout` (the cancel grace), plus room for the steps
/// before it (checkout, installing dli-wait).
const AFTER_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// Run the crontab's command line the way cron does: `/bin/sh -c`, with an environment of
/// HOME, LOGNAME, SHELL, cron's PATH, and the variables the crontab sets.
fn run_cron(sim: &Sim, sql: &str) -> (Option<i32>, String, serde_json::Value) {
    let dir = TempDir::new("cron");
    let home = dir.path().join("home");
    // Where `cargo install` puts dli-wait.
    std::fs::create_dir_all(home.join(".cargo/bin")).unwrap();
    std::os::unix::fs::symlink(BIN, home.join(".cargo/bin/dli-wait")).unwrap();
    let sql_file = dir.path().join("nightly.sql");
    std::fs::write(&sql_file, sql).unwrap();
    let state = dir.path().join("state");
    // As people write env files: plain KEY=value lines, nothing exported.
    let env_file = dir.path().join("nightly.env");
    std::fs::write(
        &env_file,
        format!(
            "DLI_ENDPOINT={}\nHUAWEICLOUD_SDK_PROJECT_ID={}\nHUAWEICLOUD_SDK_AK={}\nHUAWEICLOUD_SDK_SK={}\nSQL_FILE={}\nSTATE_DIR={}\n",
            sim.endpoint,
            sim.project_id,
            sim.ak,
            sim.sk,
            sql_file.display(),
            state.display()
        ),
    )
    .unwrap();

    let crontab = std::fs::read_to_string(Path::new(ROOT).join("examples/cron/crontab")).unwrap();
    let mut vars = vec![];
    let mut command = None;
    for line in crontab.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_once('=') {
            Some((k, v)) if !k.contains(' ') => vars.push((k.to_string(), v.to_string())),
            _ => {
                command = Some(
                    line.split_whitespace()
                        .skip(5)
                        .collect::<Vec<_>>()
                        .join(" "),
                )
            }
        }
    }
    let command = command.expect("the crontab has a job line");
    // The paths the example installs to, pointed at this checkout and this test's files.
    let command = command
        .replace(
            "/usr/local/bin/nightly-dli.sh",
            &format!("{ROOT}/examples/cron/nightly-dli.sh"),
        )
        .replace("/var/lock/", &format!("{}/", dir.path().display()));
    let mut cmd = Command::new("/usr/bin/env");
    cmd.arg("-i")
        .arg(format!("HOME={}", home.display()))
        .arg("LOGNAME=nightly")
        .arg("SHELL=/bin/sh")
        .arg("PATH=/usr/bin:/bin");
    for (k, v) in vars {
        let v = if k == "DLI_WAIT_ENV_FILE" {
            env_file.display().to_string()
        } else {
            v
        };
        cmd.arg(format!("{k}={v}"));
    }
    let out = cmd
        .args(["/bin/sh", "-c", &command])
        .output()
        .expect("run the cron line");
    let summary = std::fs::read_to_string(state.join("nightly-summary.json"))
        .map(|t| serde_json::from_str(&t).expect("the summary is JSON"))
        .unwrap_or(serde_json::Value::Null);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        summary,
    )
}

#[test]
fn the_cron_example_runs_as_cron_runs_it() {
    let sim = Sim::start("submit.json");
    let (code, stderr, summary) = run_cron(&sim, "INSERT INTO sales.daily SELECT * FROM sales.raw");
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(summary["exit_code"], 0, "{summary}\n{stderr}");
    assert!(stderr.contains("FINISHED"), "{stderr}");
}

#[test]
fn the_cron_example_alerts_with_dlis_reason_when_the_job_fails() {
    let sim = Sim::start("submit.json");
    let (code, stderr, summary) = run_cron(&sim, "INSERT INTO t SELECT * FROM sales.orders_tmp");
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(summary["exit_code"], 1, "{summary}");
    assert!(
        stderr.contains("nightly DLI job did not finish (exit 1): FAILED")
            && stderr.contains("Table or view not found"),
        "{stderr}"
    );
}

fn yaml(path: &Path) -> Value {
    serde_yaml_ng::from_str(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn duration(s: &str) -> Duration {
    humantime::parse_duration(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

/// Every job of every example workflow that runs dli-wait ends its wait, cancel included,
/// before the job's `timeout-minutes` and before the runner's own 360-minute stop.
#[test]
fn every_workflow_ends_its_wait_before_the_job_is_stopped() {
    let action = yaml(&Path::new(ROOT).join("action.yml"));
    let default_timeout = duration(action["inputs"]["timeout"]["default"].as_str().unwrap());
    assert!(
        default_timeout + AFTER_TIMEOUT <= HOSTED_RUNNER_CAP,
        "the Action's default timeout must end before a hosted runner's 6 h"
    );
    let mut checked = 0;
    for entry in std::fs::read_dir(Path::new(ROOT).join("examples/workflows")).unwrap() {
        let path = entry.unwrap().path();
        let wf = yaml(&path);
        for (name, job) in wf["jobs"].as_mapping().unwrap() {
            let name = format!("{}: job {}", path.display(), name.as_str().unwrap());
            let hosted = job["runs-on"].as_str().is_some_and(|r| {
                ["ubuntu-", "windows-", "macos-"]
                    .iter()
                    .any(|p| r.starts_with(p))
            });
            let limit = job["timeout-minutes"]
                .as_u64()
                .map_or(HOSTED_RUNNER_CAP, |m| Duration::from_secs(m * 60));
            if hosted {
                assert!(
                    limit <= HOSTED_RUNNER_CAP,
                    "{name}: timeout-minutes above 360 has no effect on a hosted runner"
                );
            }
            let limit = if hosted {
                limit.min(HOSTED_RUNNER_CAP)
            } else {
                limit
            };
            for step in job["steps"].as_sequence().into_iter().flatten() {
                let uses_action = step["uses"]
                    .as_str()
                    .is_some_and(|u| u.contains("/dli-wait@"));
                let wait = if uses_action {
                    Some(
                        step["with"]["timeout"]
                            .as_str()
                            .map_or(default_timeout, duration),
                    )
                } else {
                    step["run"]
                        .as_str()
                        .filter(|r| r.contains("dli-wait "))
                        .map(|r| {
                            let t = r
                                .split("--timeout")
                                .nth(1)
                                .and_then(|rest| rest.split_whitespace().next());
                            t.map_or(Duration::from_secs(6 * 3600), duration)
                        })
                };
                if let Some(wait) = wait {
                    checked += 1;
                    assert!(
                        wait + AFTER_TIMEOUT <= limit,
                        "{name}: the wait's timeout {wait:?} plus {AFTER_TIMEOUT:?} does not end before the job's limit {limit:?}"
                    );
                }
            }
        }
    }
    assert!(
        checked >= 2,
        "found {checked} waits in the example workflows"
    );
}

/// A job id from a variable is passed after `--`, so an id like `--version` or `-h` is a job
/// id (and a usage error), never a flag that exits 0 without a request.
#[test]
fn gitlab_and_jenkins_pass_job_ids_after_a_double_dash() {
    for file in ["examples/gitlab-ci.yml", "examples/Jenkinsfile"] {
        let text = std::fs::read_to_string(Path::new(ROOT).join(file)).unwrap();
        let mut uses = 0;
        for (i, _) in text.match_indices("\"$DLI_JOB_ID\"") {
            // The command the variable belongs to: back to the `dli-wait` that starts it.
            let start = text[..i].rfind("dli-wait").unwrap();
            let command = &text[start..i];
            if command.contains("--timeout") || command.contains("--cancel-on") {
                uses += 1;
                assert!(command.trim_end().ends_with("--"), "{file}: {command}");
            }
        }
        assert!(uses > 0, "{file} passes no job id");
    }
    // And that is what `--` buys: a flag-like id is a usage error, not `--version`.
    let out = Command::new(BIN)
        .args(["--", "--version"])
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

/// `simulate --help`'s example `dli-wait simulate --output json | head -n1` returns: the
/// simulator ends when the reader of its stdout has gone.
#[test]
fn simulate_piped_into_head_returns() {
    let mut child = Command::new("bash")
        .args(["-c", &format!("'{BIN}' simulate --output json | head -n1")])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status = common::wait_bounded(&mut child, Duration::from_secs(20));
    assert!(status.success(), "{status:?}");
    let mut line = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut line).unwrap();
    let details: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    assert!(
        details["endpoint"]
            .as_str()
            .is_some_and(|e| e.starts_with("http://127.0.0.1:"))
    );
}

/// `simulate --listen` on all interfaces (or on an IPv4-mapped loopback address) prints an
/// endpoint dli-wait takes, the loopback address of the same family, and says where it listens;
/// a mapped loopback address is loopback (no warning that other hosts can reach it).
#[test]
fn simulate_prints_an_endpoint_dli_wait_takes_for_any_listen_address() {
    for (listen, endpoint_prefix, exposed) in [
        ("0.0.0.0:0", "http://127.0.0.1:", true),
        ("[::]:0", "http://[::1]:", true),
        ("[::ffff:127.0.0.1]:0", "http://127.0.0.1:", false),
        ("127.0.0.1:0", "http://127.0.0.1:", false),
    ] {
        let mut sim = Command::new(BIN);
        common::clean_env(&mut sim);
        let mut sim = sim
            .args(["simulate", "--output", "json", "--listen", listen])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Kept until the end: the simulator stops when the reader of its stdout has gone.
        let mut reader = std::io::BufReader::new(sim.stdout.take().unwrap());
        let mut first = String::new();
        let read = std::io::BufRead::read_line(&mut reader, &mut first);
        let details: Option<serde_json::Value> = read
            .ok()
            .and_then(|_| serde_json::from_str(first.trim()).ok());
        let checked = details.as_ref().map(|details| {
            let endpoint = details["endpoint"].as_str().unwrap_or_default().to_string();
            let mut check = Command::new(BIN);
            common::clean_env(&mut check);
            check
                .arg("check")
                .env("DLI_ENDPOINT", &endpoint)
                .env(
                    "HUAWEICLOUD_SDK_PROJECT_ID",
                    details["project_id"].as_str().unwrap(),
                )
                .env("HUAWEICLOUD_SDK_AK", details["ak"].as_str().unwrap())
                .env("HUAWEICLOUD_SDK_SK", details["sk"].as_str().unwrap());
            let mut check = assert_cmd::Command::from_std(check);
            let out = check.timeout(Duration::from_secs(20)).output().unwrap();
            (endpoint, out)
        });
        common::send_signal(&sim, "TERM");
        common::wait_bounded(&mut sim, Duration::from_secs(20));
        drop(reader);
        let mut stderr = String::new();
        std::io::Read::read_to_string(sim.stderr.as_mut().unwrap(), &mut stderr).unwrap();
        let (endpoint, out) =
            checked.unwrap_or_else(|| panic!("{listen}: no details: {first:?}\n{stderr}"));
        assert!(
            endpoint.starts_with(endpoint_prefix),
            "{listen}: {endpoint}"
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{listen}: dli-wait check against {endpoint}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            stderr.contains("reachable from other hosts"),
            exposed,
            "{listen}: {stderr}"
        );
        let listening = details.unwrap()["listen"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            listening.ends_with(endpoint.rsplit(':').next().unwrap()),
            "{listen}: {listening} vs {endpoint}"
        );
    }
}
