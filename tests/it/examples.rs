//! Examples are code: each runs as written in the environment it targets. The cron script
//! under `env -i` with only what cron gives a job and a PATH of only the tools it names (its
//! lock, QUIET=1, its limits from the environment, a SIGTERM passed on); the GitHub workflows'
//! time limits against the 360-minute cap of GitHub-hosted runners; GitLab's download step
//! against an archive packed by release.yml's own step; GitLab's allowed exit codes against
//! their cancels; GitLab and Jenkins pass job ids after `--` and cancel on SIGTERM.

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

/// The tools examples/cron/nightly-dli.sh says it needs (but dli-wait, which is in
/// ~/.cargo/bin): the cron tests' PATH holds these and nothing else, so a tool it uses without
/// saying (python3) is not found.
const CRON_TOOLS: &[&str] = &["bash", "jq", "flock", "mkdir", "rm", "cat", "curl"];

/// The crontab's job line, with the paths the example installs to pointed at this checkout.
fn cron_command() -> (Vec<(String, String)>, String) {
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
    let command = command.expect("the crontab has a job line").replace(
        "/usr/local/bin/nightly-dli.sh",
        &format!("{ROOT}/examples/cron/nightly-dli.sh"),
    );
    (vars, command)
}

/// One night of the cron example: a home with dli-wait in ~/.cargo/bin, an env file as people
/// write them, a state directory, and a PATH of [`CRON_TOOLS`] (less any left out).
struct Cron {
    dir: TempDir,
    env_file: std::path::PathBuf,
    state: std::path::PathBuf,
    path: std::path::PathBuf,
}

impl Cron {
    fn new(sim: &Sim, sql: &str, extra_env: &str, without: &[&str]) -> Cron {
        let dir = TempDir::new("cron");
        let home = dir.path().join("home");
        // Where `cargo install` puts dli-wait.
        std::fs::create_dir_all(home.join(".cargo/bin")).unwrap();
        std::os::unix::fs::symlink(BIN, home.join(".cargo/bin/dli-wait")).unwrap();
        let path = dir.path().join("bin");
        std::fs::create_dir_all(&path).unwrap();
        for tool in CRON_TOOLS.iter().filter(|t| !without.contains(t)) {
            let found = ["/usr/bin", "/bin"]
                .iter()
                .map(|d| Path::new(d).join(tool))
                .find(|p| p.is_file())
                .unwrap_or_else(|| panic!("the cron tests need {tool} in /usr/bin or /bin"));
            std::os::unix::fs::symlink(found, path.join(tool)).unwrap();
        }
        let sql_file = dir.path().join("nightly.sql");
        std::fs::write(&sql_file, sql).unwrap();
        let state = dir.path().join("state");
        // As people write env files: plain KEY=value lines, nothing exported.
        let env_file = dir.path().join("nightly.env");
        std::fs::write(
            &env_file,
            format!(
                "DLI_ENDPOINT={}\nHUAWEICLOUD_SDK_PROJECT_ID={}\nHUAWEICLOUD_SDK_AK={}\nHUAWEICLOUD_SDK_SK={}\nSQL_FILE={}\nSTATE_DIR={}\n{extra_env}",
                sim.endpoint,
                sim.project_id,
                sim.ak,
                sim.sk,
                sql_file.display(),
                state.display()
            ),
        )
        .unwrap();
        Cron {
            dir,
            env_file,
            state,
            path,
        }
    }

    /// The crontab's command line as cron runs it: `/bin/sh -c`, under [`Cron::env`].
    fn command(&self) -> Command {
        let mut cmd = self.env();
        cmd.args(["/bin/sh", "-c", &cron_command().1]);
        cmd
    }

    /// `env -i` with what cron gives a job: HOME, LOGNAME, SHELL, the PATH of this night and
    /// the variables the crontab sets.
    fn env(&self) -> Command {
        let vars = cron_command().0;
        let mut cmd = Command::new("/usr/bin/env");
        cmd.arg("-i")
            .arg(format!("HOME={}", self.dir.path().join("home").display()))
            .arg("LOGNAME=nightly")
            .arg("SHELL=/bin/sh")
            .arg(format!("PATH={}", self.path.display()));
        for (k, v) in vars {
            let v = if k == "DLI_WAIT_ENV_FILE" {
                self.env_file.display().to_string()
            } else {
                v
            };
            cmd.arg(format!("{k}={v}"));
        }
        cmd
    }

    /// Run the night to its end: exit code, stdout, stderr (what cron would mail).
    fn run(&self) -> (Option<i32>, String, String) {
        let child = self
            .command()
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run the cron line");
        let out = common::wait_output_bounded(child, Duration::from_secs(60));
        (
            common::shell_status(out.status),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn summary(&self) -> serde_json::Value {
        std::fs::read_to_string(self.state.join("nightly-summary.json"))
            .map(|t| serde_json::from_str(&t).expect("the summary is JSON"))
            .unwrap_or(serde_json::Value::Null)
    }
}

/// Run the crontab's command line the way cron does, with every tool the script names.
fn run_cron(sim: &Sim, sql: &str) -> (Option<i32>, String, serde_json::Value) {
    let cron = Cron::new(sim, sql, "", &[]);
    let (code, _, stderr) = cron.run();
    (code, stderr, cron.summary())
}

/// A webhook on loopback that answers 200 and keeps the bodies it was posted.
struct Webhook {
    url: String,
    bodies: std::sync::mpsc::Receiver<String>,
}

impl Webhook {
    fn start() -> Webhook {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let (tx, bodies) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // A few posts at most; the thread ends with the test process.
            for stream in listener.incoming().take(4) {
                let Ok(mut stream) = stream else { return };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                        break;
                    }
                    if let Some((k, v)) = line.split_once(':')
                        && k.eq_ignore_ascii_case("content-length")
                    {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
                let _ = tx.send(String::from_utf8_lossy(&body).into_owned());
            }
        });
        Webhook { url, bodies }
    }

    /// The text of the one alert posted, as JSON `{"text": ...}`.
    fn alert(&self) -> String {
        let body = self
            .bodies
            .recv_timeout(Duration::from_secs(10))
            .expect("an alert was posted");
        let v: serde_json::Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("the alert is not JSON ({e}): {body:?}"));
        v["text"].as_str().expect("a text field").to_string()
    }
}

#[test]
fn the_cron_example_runs_as_cron_runs_it() {
    let sim = Sim::start("submit.json");
    let (code, stderr, summary) = run_cron(&sim, "INSERT INTO sales.daily SELECT * FROM sales.raw");
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(summary["exit_code"], 0, "{summary}\n{stderr}");
    assert!(stderr.contains("FINISHED"), "{stderr}");
}

/// The same night run twice (a retry by hand after a reboot, say) loads once: the second run
/// finds the night's job by its key, FINISHED, submits nothing and exits 0.
#[test]
fn the_cron_example_run_twice_in_one_night_submits_once() {
    let sim = Sim::start("submit.json");
    let sql = "INSERT INTO sales.daily SELECT * FROM sales.raw";
    let first = Cron::new(&sim, sql, "", &[]);
    let (code, stdout, stderr) = first.run();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.lines().next().is_some_and(|id| id.len() == 36),
        "the job id first on stdout: {stdout:?}"
    );
    let again = Cron::new(&sim, sql, "", &[]);
    let (code, again_stdout, stderr) = again.run();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("already FINISHED"), "{stderr}");
    assert_eq!(
        again_stdout.lines().next(),
        stdout.lines().next(),
        "the same job's id first on stdout"
    );
    let submits = sim
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/jobs/submit-job"))
        .count();
    assert_eq!(submits, 1, "{:?}", sim.requests());
}

/// Without python3 on PATH (the cron tests' PATH has only the tools the script names), a
/// failed job's alert carries DLI's reason, on stderr and in the webhook's JSON.
#[test]
fn the_cron_example_alerts_with_dlis_reason_when_the_job_fails() {
    let sim = Sim::start("submit.json");
    let hook = Webhook::start();
    let cron = Cron::new(
        &sim,
        "INSERT INTO t SELECT * FROM sales.orders_tmp",
        &format!("ALERT_WEBHOOK={}\n", hook.url),
        &[],
    );
    assert!(!cron.path.join("python3").exists());
    let (code, _, stderr) = cron.run();
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(cron.summary()["exit_code"], 1, "{}", cron.summary());
    let job = cron.summary()["jobs"][0]["job_id"]
        .as_str()
        .unwrap()
        .to_string();
    let line = format!("nightly DLI job did not finish (exit 1): job {job} FAILED: ");
    assert!(
        stderr.contains(&line) && stderr.contains("Table or view not found"),
        "{stderr}"
    );
    let alert = hook.alert();
    assert!(
        alert.starts_with(&line) && alert.contains("Table or view not found"),
        "{alert}"
    );
}

/// A tool the script needs and cannot find stops it before anything runs, naming the tool.
#[test]
fn the_cron_example_names_a_missing_tool_before_it_starts() {
    let sim = Sim::start("submit.json");
    let cron = Cron::new(&sim, "INSERT INTO sales.daily SELECT 1", "", &["jq"]);
    let (code, _, stderr) = cron.run();
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("nightly DLI job not started: jq not found on PATH"),
        "{stderr}"
    );
    assert!(sim.requests().is_empty(), "{:?}", sim.requests());
}

/// An error before any submit is said as dli-wait said it, not as a job `? - ...`.
#[test]
fn the_cron_example_says_an_error_before_the_submit() {
    let sim = Sim::start("submit.json");
    let cron = Cron::new(
        &sim,
        "INSERT INTO sales.daily SELECT 1",
        "HUAWEICLOUD_SDK_PROJECT_ID=\n",
        &[],
    );
    let (code, _, stderr) = cron.run();
    assert_eq!(code, Some(2), "{stderr}");
    let reason = stderr
        .lines()
        .find_map(|l| l.strip_prefix("nightly DLI job did not finish (exit 2): "))
        .unwrap_or_else(|| panic!("no alert line: {stderr}"));
    assert!(
        reason.starts_with("missing configuration: ")
            && reason.contains("HUAWEICLOUD_SDK_PROJECT_ID"),
        "{reason}"
    );
}

/// A night that finds the last one still holding the lock alerts and exits 75; nothing is
/// submitted.
#[test]
fn the_cron_example_reports_a_held_lock() {
    let sim = Sim::start("submit.json");
    let hook = Webhook::start();
    let cron = Cron::new(
        &sim,
        "INSERT INTO sales.daily SELECT 1",
        &format!("ALERT_WEBHOOK={}\n", hook.url),
        &[],
    );
    std::fs::create_dir_all(&cron.state).unwrap();
    let lock = cron.state.join("nightly.lock");
    // Last night's run, still going: it holds the lock (and says so) until this test ends it.
    let mut holder = Command::new("flock")
        .arg(&lock)
        .args(["sh", "-c", "echo locked; exec sleep 60"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut locked = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(holder.stdout.as_mut().unwrap()),
        &mut locked,
    )
    .unwrap();
    assert_eq!(locked.trim(), "locked");
    let (code, _, stderr) = cron.run();
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(code, Some(75), "{stderr}");
    assert!(
        stderr.contains("nightly DLI job not started: another run still holds"),
        "{stderr}"
    );
    assert!(hook.alert().contains("another run still holds"));
    assert!(sim.requests().is_empty(), "{:?}", sim.requests());
}

/// QUIET=1: a night that finishes prints nothing (cron sends no mail); one that fails prints
/// dli-wait's progress and the alert.
#[test]
fn the_cron_example_is_quiet_unless_it_fails() {
    let sim = Sim::start("submit.json");
    let good = Cron::new(&sim, "INSERT INTO sales.daily SELECT 1", "QUIET=1\n", &[]);
    let (code, stdout, stderr) = good.run();
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!((stdout.as_str(), stderr.as_str()), ("", ""));
    assert_eq!(good.summary()["exit_code"], 0);
    // Another night (its own key): tonight's FINISHED job would be re-attached to otherwise.
    let bad = Cron::new(
        &sim,
        "INSERT INTO t SELECT * FROM sales.orders_tmp",
        "QUIET=1\nKEY_PREFIX=the-next-night\n",
        &[],
    );
    let (code, _, stderr) = bad.run();
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("submitted job ")
            && stderr.contains("nightly DLI job did not finish (exit 1)"),
        "{stderr}"
    );
}

/// An env file cannot make one key for every night: DLI_WAIT_IDEMPOTENCY_KEY there is not
/// used, the date is always added (KEY_PREFIX-YYYY-MM-DD). Two loads with other prefixes and
/// the same constant variable are two submits, not one and a silent "already FINISHED".
#[test]
fn the_cron_examples_key_always_carries_the_date() {
    let sim = Sim::start("submit.json");
    for prefix in ["sales", "stock"] {
        let cron = Cron::new(
            &sim,
            "INSERT INTO sales.daily SELECT 1",
            &format!("DLI_WAIT_IDEMPOTENCY_KEY=every-night\nKEY_PREFIX={prefix}\n"),
            &[],
        );
        let (code, _, stderr) = cron.run();
        assert_eq!(code, Some(0), "{stderr}");
        assert!(!stderr.contains("already FINISHED"), "{stderr}");
    }
    let submits = sim
        .requests()
        .iter()
        .filter(|q| q.method == "POST" && q.path.ends_with("/jobs/submit-job"))
        .count();
    assert_eq!(submits, 2, "{:?}", sim.requests());
}

/// The limits come from the env file (DLI_WAIT_TIMEOUT), without editing the script: a
/// 2-second timeout on a long job ends the night with 124, the job cancelled.
#[test]
fn the_cron_example_takes_its_timeout_from_the_environment() {
    let sim = Sim::start("examples.json");
    let cron = Cron::new(
        &sim,
        "INSERT INTO backfill SELECT * FROM history",
        "DLI_WAIT_TIMEOUT=2s\n",
        &[],
    );
    let (code, _, stderr) = cron.run();
    assert_eq!(code, Some(124), "{stderr}");
    let job = cron.summary()["jobs"][0]["job_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(sim.was_cancelled(&job), "{stderr}");
    assert!(
        stderr.contains("nightly DLI job did not finish (exit 124)"),
        "{stderr}"
    );
}

/// `kill -TERM <wrapper pid>`: the wrapper passes it on, dli-wait cancels the job in DLI and
/// exits 143, and the alert goes out; no dli-wait is left running (its stderr, the
/// wrapper's, closes before the test reads it to the end).
#[test]
fn the_cron_example_killed_with_sigterm_cancels_the_job_and_alerts() {
    use std::io::BufRead;
    let sim = Sim::start("examples.json");
    let hook = Webhook::start();
    let cron = Cron::new(
        &sim,
        "INSERT INTO backfill SELECT * FROM history",
        &format!("ALERT_WEBHOOK={}\n", hook.url),
        &[],
    );
    // The script itself (env execs it), so the signal goes to the wrapper's own pid.
    let mut child = cron
        .env()
        .arg(format!("{ROOT}/examples/cron/nightly-dli.sh"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The job id is the first line of stdout once DLI accepted the submit (read on a thread:
    // a wrapper that never says it cannot hang the test).
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let job = rx
        .recv_timeout(Duration::from_secs(20))
        .unwrap_or_default()
        .trim()
        .to_string();
    if job.is_empty() {
        let _ = child.kill();
        panic!("no job id on stdout within 20 s");
    }
    common::send_signal(&child, "TERM");
    let out = common::wait_output_bounded(child, Duration::from_secs(30));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(common::shell_status(out.status), Some(143), "{stderr}");
    assert!(sim.was_cancelled(&job), "no cancel for {job}: {stderr}");
    let alert = hook.alert();
    assert!(
        alert.starts_with(&format!(
            "nightly DLI job did not finish (exit 143): job {job}"
        )),
        "{alert}"
    );
    // DLI says CANCELLED when asked afterwards.
    let after = sim.dli_wait().arg("--").arg(&job).output().unwrap();
    assert_eq!(after.status.code(), Some(3), "{after:?}");
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

// --- GitLab and Jenkins, as they would run ---------------------------------------------------

/// `examples/gitlab-ci.yml` and `examples/Jenkinsfile`, and release.yml's packing step.
fn file(path: &str) -> String {
    std::fs::read_to_string(Path::new(ROOT).join(path)).unwrap()
}

/// A YAML list of script lines (GitLab's `script:` / `before_script:`) as one shell script.
fn script_lines(v: &Value) -> String {
    v.as_sequence()
        .expect("a list of script lines")
        .iter()
        .map(|l| l.as_str().expect("a script line").to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The shell of the Jenkinsfile's `sh` step (between its `'''`s).
fn jenkins_script() -> String {
    let text = file("examples/Jenkinsfile");
    let start = text
        .find("script: '''")
        .expect("an sh step with a ''' script")
        + 11;
    let len = text[start..].find("'''").expect("the script ends");
    text[start..start + len].to_string()
}

/// Build a release archive the way .github/workflows/release.yml does: its `Package` step,
/// run as written, over the freshly built binary as the x86_64 musl target.
fn release_archive(dir: &Path) -> std::path::PathBuf {
    let wf = yaml(&Path::new(ROOT).join(".github/workflows/release.yml"));
    let package = wf["jobs"]["build"]["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Package")
        .and_then(|s| s["run"].as_str())
        .expect("release.yml has a Package step")
        .to_string();
    let target = "x86_64-unknown-linux-musl";
    let built = dir.join("target").join(target).join("dist");
    std::fs::create_dir_all(&built).unwrap();
    std::fs::copy(BIN, built.join("dli-wait")).unwrap();
    std::fs::copy(Path::new(ROOT).join("README.md"), dir.join("README.md")).unwrap();
    let out = Command::new("bash")
        .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", &package])
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("TARGET", target)
        .env("ARCHIVE", "tar.gz")
        .env("RUNS_HERE", "true")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "release.yml's Package step: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir.join("dist")
}

/// GitLab's download step (`.dli-wait`'s before_script, as written) against a release archive
/// packed as release.yml packs it: the checksum holds, the member it extracts is in the
/// archive, and the installed dli-wait runs.
#[test]
fn gitlab_installs_dli_wait_from_a_release_archive_built_like_releases() {
    let dir = TempDir::new("gitlab-release");
    let dist = release_archive(&dir.path().join("build"));
    let ci = yaml(&Path::new(ROOT).join("examples/gitlab-ci.yml"));
    let version = ci["variables"]["DLI_WAIT_VERSION"].as_str().unwrap();
    // The releases page: <base>/<tag>/<asset>, served from files.
    let releases = dir.path().join("releases");
    std::fs::create_dir_all(releases.join(version)).unwrap();
    for entry in std::fs::read_dir(&dist).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, releases.join(version).join(p.file_name().unwrap())).unwrap();
    }
    // alpine's apk is not here: a stand-in that has nothing to do (curl is installed).
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::write(bin.join("apk"), "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(
        bin.join("apk"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let install_dir = dir.path().join("usr-local-bin");
    std::fs::create_dir_all(&install_dir).unwrap();
    let script = script_lines(&ci[".dli-wait"]["before_script"])
        .replace("/usr/local/bin/", &format!("{}/", install_dir.display()));
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let out = Command::new("/bin/sh")
        .args(["-e", "-c", &script])
        .current_dir(&work)
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("DLI_WAIT_VERSION", version)
        .env(
            "DLI_WAIT_RELEASES",
            format!("file://{}", releases.display()),
        )
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let installed = Command::new(install_dir.join("dli-wait"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&installed.stdout).starts_with("dli-wait "),
        "{installed:?}"
    );
    // The archive also ships what release.yml generates: completions, a page per command.
    let listing = Command::new("tar")
        .arg("-tzf")
        .arg(dist.join("dli-wait-x86_64-unknown-linux-musl.tar.gz"))
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    for member in [
        "./dli-wait",
        "./dli-wait.1",
        "./dli-wait-run.1",
        "./completions/dli-wait.bash",
    ] {
        assert!(listing.lines().any(|l| l == member), "{member}:\n{listing}");
    }
}

/// The `--cancel-on` cases end in a cancelled job (timeout: 124, stall: 4): a code GitLab is
/// told to allow must not be one of them, and a message that says the job "may still" finish
/// must not follow a wait that cancels it on timeout.
#[test]
fn gitlab_and_jenkins_allowed_exit_codes_agree_with_their_cancels() {
    let cancels = |command: &str| -> Vec<String> {
        command
            .split("--cancel-on")
            .skip(1)
            .filter_map(|rest| rest.split_whitespace().next())
            .flat_map(|v| v.split(',').map(str::to_string).collect::<Vec<_>>())
            .collect()
    };
    let codes = |cancel: &[String]| -> Vec<u64> {
        cancel
            .iter()
            .filter_map(|c| match c.as_str() {
                "timeout" => Some(124),
                "stall" => Some(4),
                _ => None,
            })
            .collect()
    };
    let ci = yaml(&Path::new(ROOT).join("examples/gitlab-ci.yml"));
    let mut waits = 0;
    for (name, job) in ci.as_mapping().unwrap() {
        let Some(script) = job.get("script") else {
            continue;
        };
        let script = script_lines(script);
        if !script.contains("dli-wait") {
            continue;
        }
        waits += 1;
        let cancelled = codes(&cancels(&script));
        let allowed: Vec<u64> = job["allow_failure"]["exit_codes"]
            .as_sequence()
            .into_iter()
            .flatten()
            .filter_map(Value::as_u64)
            .collect();
        for code in &allowed {
            assert!(
                !cancelled.contains(code),
                "gitlab-ci.yml job {name:?} allows exit {code}, which its --cancel-on makes a cancelled job"
            );
        }
    }
    assert!(waits >= 2, "{waits} dli-wait jobs in gitlab-ci.yml");

    let jenkins = file("examples/Jenkinsfile");
    let cancelled = codes(&cancels(&jenkins_script()));
    let on_timeout = &jenkins[jenkins.find("case 124:").expect("a case for 124")..];
    let on_timeout = &on_timeout[..on_timeout.find("break").unwrap()];
    assert!(
        !(cancelled.contains(&124) && on_timeout.contains("may still")),
        "the Jenkinsfile says a cancelled job may still finish: {on_timeout}"
    );
}

/// Start `script` as a CI runner starts a job's shell: its own process group, dli-wait on
/// PATH, the simulator's keys in the environment, the job id in DLI_JOB_ID. Once dli-wait
/// has polled the job, SIGTERM goes to the whole group, as GitLab's Docker and Kubernetes
/// executors do on a cancel and Jenkins does on an abort. Returns what the script said on
/// stderr, once dli-wait too has exited.
fn sigterm_a_ci_script(sim: &Sim, shell: &[&str], script: &str, job: &str) -> String {
    use std::os::unix::process::CommandExt;
    let dir = TempDir::new("ci-sigterm");
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(BIN, bin.join("dli-wait")).unwrap();
    let child = Command::new(shell[0])
        .args(&shell[1..])
        .arg(script)
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("DLI_ENDPOINT", &sim.endpoint)
        .env("HUAWEICLOUD_SDK_PROJECT_ID", &sim.project_id)
        .env("HUAWEICLOUD_SDK_AK", &sim.ak)
        .env("HUAWEICLOUD_SDK_SK", &sim.sk)
        .env("DLI_JOB_ID", job)
        .process_group(0)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let until = std::time::Instant::now() + Duration::from_secs(20);
    while sim.requests_for(job).iter().all(|r| r.method != "GET") {
        assert!(
            std::time::Instant::now() < until,
            "dli-wait never polled {job}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let sent = Command::new("kill")
        .args(["-TERM", "--", &format!("-{}", child.id())])
        .status()
        .unwrap();
    assert!(sent.success());
    // The streams close when dli-wait, not only the shell, has exited.
    let out = common::wait_output_bounded(child, Duration::from_secs(30));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// What the comments of both examples say of a cancelled pipeline or an aborted build:
/// SIGTERM to the job's processes cancels the DLI job, which DLI then reports CANCELLED.
#[test]
fn gitlab_and_jenkins_cancel_the_dli_job_when_their_job_gets_sigterm() {
    let sim = Sim::start("examples.json");
    let ci = yaml(&Path::new(ROOT).join("examples/gitlab-ci.yml"));
    let gitlab = script_lines(&ci["wait-for-dli"]["script"]);
    let jenkins = jenkins_script();
    for (what, shell, script) in [
        (
            "gitlab-ci.yml wait-for-dli",
            vec!["/bin/sh", "-e", "-c"],
            gitlab,
        ),
        ("Jenkinsfile", vec!["/bin/sh", "-xe", "-c"], jenkins),
    ] {
        let submitted = sim
            .dli_wait_sub("run")
            .args([
                "--no-wait",
                "--sql",
                "INSERT INTO backfill SELECT * FROM history",
            ])
            .output()
            .unwrap();
        let job = String::from_utf8_lossy(&submitted.stdout)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
        assert!(!job.is_empty(), "{submitted:?}");
        let stderr = sigterm_a_ci_script(&sim, &shell, &script, &job);
        assert!(
            sim.was_cancelled(&job),
            "{what}: no cancel for {job}:\n{stderr}"
        );
        let after = sim.dli_wait().arg("--").arg(&job).output().unwrap();
        assert_eq!(after.status.code(), Some(3), "{what}: {after:?}\n{stderr}");
    }
}
