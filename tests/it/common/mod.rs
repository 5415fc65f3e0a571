//! End-to-end test support: the real `dli-wait simulate` as a child process, and the real
//! `dli-wait` binary pointed at it with a clean environment and fast timing.
//!
//! Every child is bounded in time: the simulator is killed when its [`Sim`] is dropped, and
//! every `dli-wait` run has an `assert_cmd` timeout.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod hostile;
pub mod oracle;
pub mod tls;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_dli-wait");

/// The longest any single `dli-wait` run may take before the test fails.
pub const RUN_LIMIT: Duration = Duration::from_secs(30);

/// Environment variables that would change what `dli-wait` does; removed from every run.
const CONFIG_VARS: &[&str] = &[
    "HUAWEICLOUD_SDK_AK",
    "HUAWEICLOUD_SDK_SK",
    "HUAWEICLOUD_SDK_SECURITY_TOKEN",
    "HUAWEICLOUD_SDK_AUTH_TOKEN",
    "HUAWEICLOUD_SDK_PROJECT_ID",
    "HUAWEICLOUD_SDK_REGION",
    "DLI_ENDPOINT",
    "RUST_LOG",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
];

/// The timing flags of every run against the simulator: fast, so the suite is.
pub const FAST_TIMING: &[(&str, &str)] = &[
    ("--poll-interval", "100ms"),
    ("--max-poll-interval", "300ms"),
    ("--request-timeout", "2s"),
];

/// The job id the simulator serves for a scenario job named `name` (`"id": "job-fails"` in a
/// scenario file): DLI's job ids are UUIDs, so the simulator derives one from the name.
pub fn id(name: &str) -> &'static str {
    Box::leak(dli_wait::sim::scenario::job_uuid(name).into_boxed_str())
}

/// The path of a scenario file under `tests/scenarios/`.
pub fn scenario_path(name: &str) -> String {
    format!("{}/tests/scenarios/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A home directory that does not exist: no `~/.huaweicloud/credentials` of the developer's
/// is ever read by a test run.
pub const NO_HOME: &str = "/nonexistent/dli-wait-test-home";

/// A DMI directory that does not exist: a test run never takes this machine for a Huawei
/// Cloud ECS, so never asks a metadata service by itself (and never 169.254.169.254).
pub const NO_DMI: &str = "/nonexistent/dli-wait-test-dmi";

/// Remove every variable that configures dli-wait (all `HUAWEICLOUD_*` and `DLI_WAIT_*`,
/// `DLI_ENDPOINT`, `RUST_LOG`, the TLS trust variables) from a command's environment; and all
/// `GITHUB_*` and `ACTIONS_*`, so that a test run inside GitHub Actions neither behaves
/// differently nor writes into the real step's outputs and summary. `HOME` and the DMI
/// directory point nowhere: no credentials file and no ECS metadata unless a test asks.
pub fn clean_env(cmd: &mut std::process::Command) {
    for v in CONFIG_VARS {
        cmd.env_remove(v);
    }
    for (k, _) in std::env::vars_os() {
        let name = k.to_string_lossy();
        if ["HUAWEICLOUD_", "GITHUB_", "DLI_WAIT_", "ACTIONS_"]
            .iter()
            .any(|p| name.starts_with(p))
        {
            cmd.env_remove(k);
        }
    }
    cmd.env("HOME", NO_HOME).env("DLI_WAIT_DMI_DIR", NO_DMI);
    // No lookup of past runs unless a test asks (tests/it/history.rs): the other tests'
    // request counts are those of the wait itself.
    cmd.env("DLI_WAIT_HISTORY", "off");
}

/// `dli-wait` with nothing configured at all (no simulator): for usage and config errors.
pub fn bare() -> assert_cmd::Command {
    let mut std_cmd = std::process::Command::new(BIN);
    clean_env(&mut std_cmd);
    let mut cmd = assert_cmd::Command::from_std(std_cmd);
    cmd.timeout(RUN_LIMIT);
    cmd
}

/// A job as `simulate --output json` lists it.
#[derive(Debug, Clone)]
pub struct SimJob {
    pub id: String,
}

/// One request the simulator received (`GET /_sim/requests`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    pub method: String,
    pub path: String,
    pub status: u16,
    /// It carried `X-Security-Token`.
    pub security_token: bool,
    /// The serial number of the simulator-issued temporary key it was signed with.
    pub temporary_key: Option<u64>,
}

/// A running `dli-wait simulate`; killed on drop.
pub struct Sim {
    child: Child,
    /// Kept open so the simulator never sees a closed stdout.
    _stdout: Option<ChildStdout>,
    pub endpoint: String,
    pub project_id: String,
    pub ak: String,
    pub sk: String,
    pub jobs: Vec<SimJob>,
}

impl Sim {
    /// Start the simulator on a free loopback port with `tests/scenarios/<scenario>`.
    pub fn start(scenario: &str) -> Sim {
        Sim::start_file(&scenario_path(scenario))
    }

    /// Start the simulator on a free loopback port with the scenario file at `path`.
    pub fn start_file(path: &str) -> Sim {
        let path = path.to_string();
        let mut cmd = std::process::Command::new(BIN);
        clean_env(&mut cmd);
        let mut child = cmd
            .args(["simulate", "--listen", "127.0.0.1:0", "--output", "json"])
            .args(["--scenario", &path])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start dli-wait simulate");
        let stdout = child.stdout.take().expect("simulator stdout");
        // Drain stderr on a thread, so a chatty simulator never blocks on a full pipe; what
        // it said is kept for the failure message if it does not start.
        let mut stderr = child.stderr.take().expect("simulator stderr");
        let stderr_text = std::thread::spawn(move || {
            let mut err = String::new();
            let _ = stderr.read_to_string(&mut err);
            err
        });
        // Read the first line on a thread, so a simulator that never speaks cannot hang us.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let read = reader.read_line(&mut line);
            let _ = tx.send((read.map(|_| line), reader.into_inner()));
        });
        let (line, stdout) = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok((Ok(line), stdout)) if !line.trim().is_empty() => (line, stdout),
            other => {
                let _ = child.kill();
                let _ = child.wait();
                let err = stderr_text.join().unwrap_or_default();
                panic!(
                    "the simulator did not print its JSON line for {path} ({:?}); stderr: {err}",
                    other.map(|(l, _)| l)
                );
            }
        };
        let v: serde_json::Value = serde_json::from_str(line.trim())
            .unwrap_or_else(|e| panic!("simulator line is not JSON ({e}): {line}"));
        let s = |k: &str| {
            v[k].as_str()
                .unwrap_or_else(|| panic!("no {k} in the simulator line: {line}"))
                .to_string()
        };
        let jobs = v["jobs"]
            .as_array()
            .expect("jobs in the simulator line")
            .iter()
            .map(|j| SimJob {
                id: j["id"].as_str().expect("job id").to_string(),
            })
            .collect();
        Sim {
            endpoint: s("endpoint"),
            project_id: s("project_id"),
            ak: s("ak"),
            sk: s("sk"),
            jobs,
            child,
            _stdout: Some(stdout),
        }
    }

    /// `dli-wait` as a plain `std::process::Command` (for tests that need a `Child`, e.g. to
    /// signal it), configured for this simulator. The caller bounds its run time.
    pub fn dli_wait_std(&self) -> std::process::Command {
        self.dli_wait_std_with(&[])
    }

    /// Like [`Sim::dli_wait_std`], with some of the fast timing flags replaced, e.g.
    /// `&[("--request-timeout", "500ms")]` (clap refuses a flag given twice).
    pub fn dli_wait_std_with(&self, timing: &[(&str, &str)]) -> std::process::Command {
        self.command(None, timing)
    }

    /// `dli-wait <subcommand>` (e.g. `run`), configured for this simulator, with fast timing
    /// flags after the subcommand (where it takes them) and a 30 s limit.
    pub fn dli_wait_sub(&self, subcommand: &str) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::from_std(self.command(Some(subcommand), &[]));
        cmd.timeout(RUN_LIMIT);
        cmd
    }

    /// [`Sim::dli_wait_sub`] as a plain `std::process::Command` (to redirect its streams);
    /// the caller bounds its run time.
    pub fn dli_wait_sub_std(&self, subcommand: &str) -> std::process::Command {
        self.command(Some(subcommand), &[])
    }

    fn command(&self, subcommand: Option<&str>, timing: &[(&str, &str)]) -> std::process::Command {
        let mut cmd = std::process::Command::new(BIN);
        clean_env(&mut cmd);
        cmd.env("DLI_ENDPOINT", &self.endpoint)
            .env("HUAWEICLOUD_SDK_PROJECT_ID", &self.project_id)
            .env("HUAWEICLOUD_SDK_AK", &self.ak)
            .env("HUAWEICLOUD_SDK_SK", &self.sk);
        cmd.args(subcommand);
        for (flag, default) in FAST_TIMING {
            let value = timing
                .iter()
                .find(|(f, _)| f == flag)
                .map_or(*default, |(_, v)| *v);
            cmd.args([flag, value]);
        }
        cmd
    }

    /// `dli-wait`, configured for this simulator, with fast polling and a 30 s limit.
    pub fn dli_wait(&self) -> assert_cmd::Command {
        self.dli_wait_with(&[])
    }

    /// Like [`Sim::dli_wait`], with some of the fast timing flags replaced.
    pub fn dli_wait_with(&self, timing: &[(&str, &str)]) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::from_std(self.dli_wait_std_with(timing));
        cmd.timeout(RUN_LIMIT);
        cmd
    }

    /// Every request the simulator has received so far (but those to `/_sim/`).
    pub fn requests(&self) -> Vec<Logged> {
        let body = self.get("/_sim/requests");
        let v: serde_json::Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("/_sim/requests is not JSON ({e}): {body}"));
        v.as_array()
            .expect("/_sim/requests is a list")
            .iter()
            .map(|r| Logged {
                method: r["method"].as_str().unwrap_or_default().to_string(),
                path: r["path"].as_str().unwrap_or_default().to_string(),
                status: r["status"]
                    .as_u64()
                    .and_then(|s| u16::try_from(s).ok())
                    .unwrap_or(0),
                security_token: r["security_token"].as_bool().unwrap_or(false),
                temporary_key: r["temporary_key"].as_u64(),
            })
            .filter(|r| !r.path.starts_with("/_sim/"))
            .collect()
    }

    /// Every request's method and path with when it came (`at_ms`: milliseconds since the
    /// simulator started), but those to `/_sim/`.
    pub fn requests_at(&self) -> Vec<(u64, String, String)> {
        let body = self.get("/_sim/requests");
        let v: serde_json::Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("/_sim/requests is not JSON ({e}): {body}"));
        v.as_array()
            .expect("/_sim/requests is a list")
            .iter()
            .map(|r| {
                let text = |k: &str| r[k].as_str().unwrap_or_default().to_string();
                (
                    r["at_ms"].as_u64().unwrap_or(0),
                    text("method"),
                    text("path"),
                )
            })
            .filter(|(_, _, path)| !path.starts_with("/_sim/"))
            .collect()
    }

    /// What the simulated IAM and metadata service issued (`GET /_sim/credentials`): every
    /// temporary key (`issued`: serial, ak, sk, security_token, by, expires_at), the
    /// federation tokens (`tokens`) and the metadata session tokens (`sessions`).
    pub fn issued_credentials(&self) -> serde_json::Value {
        let body = self.get("/_sim/credentials");
        serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("/_sim/credentials is not JSON ({e}): {body}"))
    }

    /// `dli-wait` against this simulator with no credentials at all in its environment (the
    /// endpoint and project only), fast polling and a 30 s limit: each test adds the source
    /// it is about.
    pub fn dli_wait_without_credentials(&self) -> assert_cmd::Command {
        let mut cmd = self.dli_wait();
        cmd.env_remove("HUAWEICLOUD_SDK_AK")
            .env_remove("HUAWEICLOUD_SDK_SK");
        cmd
    }

    /// The requests for one job (its id appears in the path), without `/_sim/` ones.
    pub fn requests_for(&self, job_id: &str) -> Vec<Logged> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.split('/').any(|seg| seg == job_id))
            .collect()
    }

    /// Whether the simulator received a cancel (`DELETE .../jobs/<id>`) for `job_id`.
    pub fn was_cancelled(&self, job_id: &str) -> bool {
        self.requests()
            .iter()
            .any(|r| r.method == "DELETE" && r.path.ends_with(&format!("/jobs/{job_id}")))
    }

    /// A GET against the simulator (5 s at most) that must answer 200; returns the body.
    fn get(&self, path: &str) -> String {
        let url = format!("{}{path}", self.endpoint.trim_end_matches('/'));
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(5))
            .no_proxy()
            .build()
            .expect("build an HTTP client");
        let resp = client
            .get(&url)
            .header("Accept", "application/json")
            .send()
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        let status = resp.status();
        let body = resp
            .text()
            .unwrap_or_else(|e| panic!("GET {url}: reading the answer: {e}"));
        assert_eq!(status, 200, "GET {path} answered {status}: {body}");
        body
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// stdout and stderr of a finished run, as text.
pub struct Ran {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    /// Both streams, for "does not appear anywhere" checks and failure messages.
    pub fn all(&self) -> String {
        format!(
            "--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout, self.stderr
        )
    }

    /// Fail unless the exit code is `code`, showing everything printed.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "expected exit {code}, got {:?}\n{}",
            self.code,
            self.all()
        );
        self
    }

    /// Fail unless stderr contains every one of `words` (case-sensitive).
    pub fn stderr_has(&self, words: &[&str]) -> &Self {
        for w in words {
            assert!(
                self.stderr.contains(w),
                "stderr lacks {w:?}\n{}",
                self.all()
            );
        }
        self
    }

    /// Fail if `word` appears on stdout or stderr.
    pub fn never_shows(&self, word: &str) -> &Self {
        assert!(
            !self.stdout.contains(word) && !self.stderr.contains(word),
            "{word:?} appears in the output\n{}",
            self.all()
        );
        self
    }

    /// The stdout lines parsed as JSON (each must be valid).
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| {
                    panic!("stdout line is not JSON ({e}): {l}\n{}", self.all())
                })
            })
            .collect()
    }

    /// The summary line (the last stdout line) of `--output json`.
    pub fn summary(&self) -> serde_json::Value {
        self.json_lines()
            .pop()
            .unwrap_or_else(|| panic!("no JSON on stdout\n{}", self.all()))
    }
}

/// Run a command to its end (within its timeout) and capture everything.
pub fn run(cmd: &mut assert_cmd::Command) -> Ran {
    let out = cmd.output().expect("run dli-wait");
    Ran {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Wait for `child` to exit within `limit`; kill it (and fail) otherwise.
pub fn wait_bounded(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let until = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("poll the child") {
            return status;
        }
        if Instant::now() >= until {
            let _ = child.kill();
            let _ = child.wait();
            panic!("dli-wait did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Wait for `child` within `limit` (killed, and the test failed, otherwise) and collect
/// what it wrote to the streams that were piped.
pub fn wait_output_bounded(mut child: Child, limit: Duration) -> std::process::Output {
    let mut out = child.stdout.take();
    let mut err = child.stderr.take();
    let read_out = std::thread::spawn(move || {
        let mut b = Vec::new();
        if let Some(o) = out.as_mut() {
            let _ = o.read_to_end(&mut b);
        }
        b
    });
    let read_err = std::thread::spawn(move || {
        let mut b = Vec::new();
        if let Some(e) = err.as_mut() {
            let _ = e.read_to_end(&mut b);
        }
        b
    });
    let status = wait_bounded(&mut child, limit);
    std::process::Output {
        status,
        stdout: read_out.join().unwrap_or_default(),
        stderr: read_err.join().unwrap_or_default(),
    }
}

/// Send `signal` (e.g. "TERM", "INT") to a child, as CI runners and systemd do.
#[cfg(unix)]
#[allow(dead_code)] // not every test file signals
pub fn send_signal(child: &Child, signal: &str) {
    let sent = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(sent.success(), "kill -{signal} failed");
}

/// The status a shell shows for a process (`$?`): its exit code, or 128 + the number of the
/// signal it died of.
#[cfg(unix)]
#[allow(dead_code)] // not every test file signals
pub fn shell_status(status: std::process::ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    status.code().or_else(|| status.signal().map(|s| 128 + s))
}

/// The entry for `job_id` in a summary's `jobs`.
pub fn job<'a>(summary: &'a serde_json::Value, job_id: &str) -> &'a serde_json::Value {
    summary["jobs"]
        .as_array()
        .expect("jobs is a list")
        .iter()
        .find(|j| j["job_id"] == job_id)
        .unwrap_or_else(|| panic!("no {job_id} in the summary: {summary}"))
}

/// A fresh directory under the system's temporary one, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "dli-wait-test-{label}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a temporary directory");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A run of `cmd` with its peak resident memory: `VmHWM` (the kernel's high-water mark) from
/// `/proc/<pid>/status`, read every 20 ms while the child lives. The mark only grows, so the
/// last reading before the exit is a lower bound of the true peak, and the peak of a body
/// being read comes long before the exit.
pub fn run_measuring_memory(
    mut cmd: std::process::Command,
    limit: Duration,
) -> (Ran, u64, Duration) {
    let start = Instant::now();
    // Until the child has exec'd, /proc shows the test process's own memory (a vfork child
    // shares it: the whole suite's, tens of MiB): only readings under the program's own name
    // (the kernel's, cut to 15 bytes) are the program's.
    let name: String = std::path::Path::new(cmd.get_program())
        .file_name()
        .map(|n| n.to_string_lossy().chars().take(15).collect())
        .unwrap_or_default();
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
            && text
                .lines()
                .find_map(|l| l.strip_prefix("Name:"))
                .is_some_and(|n| n.trim() == name)
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
