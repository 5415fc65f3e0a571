//! The official Huawei Python SDK as an independent oracle: finding a Python that has it,
//! and running a script under a time limit.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How to get one: what a failing test tells the developer.
pub const SETUP: &str = "python3 -m venv .venv && .venv/bin/pip install huaweicloudsdkcore==3.1.219 \
                         huaweicloudsdkdli==3.1.219 (or run scripts/test.sh, which does it), or \
                         point DLI_WAIT_ORACLE_PYTHON at a python that has them";

/// Whether an oracle test may go without the oracle, and why: `DLI_WAIT_SKIP_ORACLE=1`, or no
/// `DLI_WAIT_ORACLE_PYTHON` (a plain `cargo test` on a machine without the SDK; the test says
/// so loudly, and passes). scripts/test.sh, the README's test command, sets
/// `DLI_WAIT_ORACLE_PYTHON`: with it set, an oracle that is missing or broken fails the test.
pub fn skip_allowed() -> Option<&'static str> {
    if std::env::var("DLI_WAIT_SKIP_ORACLE").is_ok_and(|v| v == "1") {
        Some("DLI_WAIT_SKIP_ORACLE=1 is set")
    } else if std::env::var_os("DLI_WAIT_ORACLE_PYTHON").is_none_or(|p| p.is_empty()) {
        Some("DLI_WAIT_ORACLE_PYTHON is not set (scripts/test.sh sets it)")
    } else {
        None
    }
}

pub fn crate_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Kills and reaps the child when dropped, so that a failing test leaves nothing behind.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub struct Finished {
    /// `None`: killed at the time limit.
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
}

/// Run `cmd` with `input` on stdin, for at most `limit`; output is read while it runs.
pub fn run_bounded(mut cmd: Command, input: &str, limit: Duration) -> std::io::Result<Finished> {
    let child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut child = KillOnDrop(child);
    let drain = |r: Option<Box<dyn Read + Send>>| {
        thread::spawn(move || {
            let mut s = String::new();
            if let Some(mut r) = r {
                let _ = r.read_to_string(&mut s);
            }
            s
        })
    };
    let out = drain(
        child
            .0
            .stdout
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .0
            .stderr
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
    );
    if let Some(mut stdin) = child.0.stdin.take() {
        let _ = stdin.write_all(input.as_bytes());
    }
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(s) = child.0.try_wait()? {
            break Some(s);
        }
        if Instant::now() >= deadline {
            let _ = child.0.kill();
            let _ = child.0.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(20));
    };
    drop(child);
    Ok(Finished {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    })
}

/// Does `python` import `modules`? `Err` says why not.
fn imports(python: &Path, modules: &[&str]) -> Result<(), String> {
    let mut cmd = Command::new(python);
    cmd.args(["-c", &format!("import {}", modules.join(", "))]);
    match run_bounded(cmd, "", Duration::from_secs(30)) {
        Err(e) => Err(format!("{}: cannot run it: {e}", python.display())),
        Ok(f) if f.status.is_some_and(|s| s.success()) => Ok(()),
        Ok(f) if f.status.is_none() => Err(format!("{}: import timed out", python.display())),
        Ok(f) => Err(format!(
            "{}: {}",
            python.display(),
            f.stderr.trim().lines().last().unwrap_or("import failed")
        )),
    }
}

/// The first of `$DLI_WAIT_ORACLE_PYTHON` and the crate's `.venv` Python that imports
/// `modules`, or why there is none.
pub fn python_with(modules: &[&str]) -> Result<PathBuf, String> {
    let mut candidates = Vec::new();
    if let Some(p) = std::env::var_os("DLI_WAIT_ORACLE_PYTHON").filter(|p| !p.is_empty()) {
        candidates.push(PathBuf::from(p));
    }
    let venv = crate_root().join(".venv");
    candidates.extend(
        [venv.join("bin/python"), venv.join("Scripts/python.exe")]
            .into_iter()
            .filter(|p| p.exists()),
    );
    if candidates.is_empty() {
        return Err(
            "DLI_WAIT_ORACLE_PYTHON is not set and there is no .venv in the crate root".into(),
        );
    }
    let mut why = Vec::new();
    for p in candidates {
        match imports(&p, modules) {
            Ok(()) => return Ok(p),
            Err(e) => why.push(e),
        }
    }
    Err(why.join("; "))
}
