//! The simulator speaks DLI's wire format, as judged by an independent client: Huawei Cloud's
//! official Python SDK (`huaweicloudsdkcore` + `huaweicloudsdkdli` 3.1.219). Starts
//! `dli-wait simulate` on tests/fidelity/scenario.json and runs tests/fidelity/sdk_fidelity.py
//! against it: typed progress/status/preview/submit/cancel answers checked field by field against the
//! SDK's models, and the errors (DLI.0005, DLI.0002, APIGW.0301) as the SDK raises them; the
//! same for Spark batches (state, details, log, create, cancel) and Flink jobs (ShowFlinkJob;
//! BatchStopFlinkJobs, whose answer is a JSON list, with a savepoint); and the job lists
//! (`ListSqlJobs` by tag, status and page; `ListSparkJobs` by name and state), a submit's
//! tags in `/status`, and a job CANCELLED by its own `dli.sql.job.timeout`.
//!
//! The same SDK's own credential code judges the simulator's IAM and ECS metadata service:
//! tests/fidelity/sdk_credentials.py runs its federation (`FederalAccessor`, via the default
//! chain's environment provider) and metadata code (`MetadataAccessor`, pointed at the
//! simulator) on tests/fidelity/credentials.json, and signs DLI calls with the keys it got.
//!
//! The Python is `$DLI_WAIT_ORACLE_PYTHON`, else `.venv/bin/python` in the crate root, the
//! first of them that has the SDK. Without one the test fails when `DLI_WAIT_ORACLE_PYTHON` is
//! set (scripts/test.sh); otherwise, or with `DLI_WAIT_SKIP_ORACLE=1`, it says so and passes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::oracle::{KillOnDrop, SETUP, crate_root, python_with, run_bounded, skip_allowed};

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Bounds on every child process.
const SIM_START: Duration = Duration::from_secs(15);
const SCRIPT: Duration = Duration::from_secs(90);

/// `dli-wait simulate` on the fidelity scenario, and its first stdout line.
fn start_simulator() -> (KillOnDrop, String) {
    start_simulator_on("tests/fidelity/scenario.json")
}

/// `dli-wait simulate` on `scenario` (relative to the crate root), and its first stdout line.
fn start_simulator_on(scenario: &str) -> (KillOnDrop, String) {
    let scenario = crate_root().join(scenario);
    let child = Command::new(env!("CARGO_BIN_EXE_dli-wait"))
        .arg("simulate")
        .args(["--listen", "127.0.0.1:0", "--output", "json", "--scenario"])
        .arg(&scenario)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start dli-wait simulate");
    let mut sim = KillOnDrop(child);
    let stdout = sim.0.stdout.take().expect("simulator stdout");
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let _ = tx.send(reader.read_line(&mut line).map(|_| line));
        // Keep draining until the simulator dies, so that it can never block on stdout.
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });
    let line = match rx.recv_timeout(SIM_START) {
        Ok(Ok(line)) if !line.trim().is_empty() => line,
        Ok(Ok(_)) => panic!(
            "dli-wait simulate printed nothing (exit status {:?})",
            sim.0.try_wait()
        ),
        Ok(Err(e)) => panic!("reading the simulator's stdout: {e}"),
        Err(_) => panic!("dli-wait simulate printed no line within {SIM_START:?}"),
    };
    (sim, line)
}

#[test]
fn the_official_python_sdk_accepts_the_simulators_answers() {
    let began = Instant::now();
    let python = match python_with(&["huaweicloudsdkcore", "huaweicloudsdkdli"]) {
        Ok(p) => p,
        Err(why) if skip_allowed().is_some() => {
            let skip = skip_allowed().unwrap_or_default();
            eprintln!(
                "\n!!!!! NOTE: simulator wire format NOT checked against the official SDK ({why}); \
                 {skip}. Set up: {SETUP} !!!!!\n"
            );
            return;
        }
        Err(why) => panic!(
            "no Python with the Huawei Cloud SDK ({why}); set up: {SETUP}; or set \
             DLI_WAIT_SKIP_ORACLE=1 to go without"
        ),
    };

    let (sim, line) = start_simulator();
    let info: serde_json::Value = serde_json::from_str(line.trim())
        .unwrap_or_else(|e| panic!("the simulator's first line is not JSON ({e}): {line}"));
    for key in ["endpoint", "project_id", "ak", "sk"] {
        assert!(
            info[key].as_str().is_some_and(|s| !s.is_empty()),
            "the simulator's first line has no {key}: {line}"
        );
    }
    // tests/fidelity/scenario.json: the running job, the finished one, the failed one; then
    // the Spark batches: running, success, dead; the Flink jobs: running, finishing.
    let ids: Vec<&str> = info["jobs"]
        .as_array()
        .expect("jobs in the simulator's first line")
        .iter()
        .map(|j| j["id"].as_str().expect("job id"))
        .collect();
    let [
        running,
        finished,
        failed,
        batch_running,
        batch_success,
        batch_dead,
        flink_running,
        flink_finishing,
    ] = ids[..]
    else {
        panic!("tests/fidelity/scenario.json should hold 8 jobs, the simulator lists {ids:?}");
    };

    let mut cmd = Command::new(&python);
    cmd.arg(crate_root().join("tests/fidelity/sdk_fidelity.py"))
        .args(["--sim-line", "-"])
        .args(["--running-job", running])
        .args(["--finished-job", finished])
        .args(["--failed-job", failed])
        .args(["--running-batch", batch_running])
        .args(["--success-batch", batch_success])
        .args(["--dead-batch", batch_dead])
        .args(["--running-flink", flink_running])
        .args(["--finishing-flink", flink_finishing])
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    let out = run_bounded(cmd, &line, SCRIPT).expect("run tests/fidelity/sdk_fidelity.py");
    drop(sim);

    let shown = format!(
        "--- {} tests/fidelity/sdk_fidelity.py: stdout ---\n{}--- stderr ---\n{}",
        python.display(),
        out.stdout,
        out.stderr
    );
    match out.status {
        None => panic!("sdk_fidelity.py did not finish within {SCRIPT:?}\n{shown}"),
        Some(s) if !s.success() => {
            let first = out
                .stdout
                .lines()
                .find(|l| l.starts_with("FAIL"))
                .unwrap_or("(no FAIL line; see below)");
            panic!("the official SDK rejects the simulator's wire format ({s}): {first}\n{shown}")
        }
        Some(_) => {}
    }
    assert!(
        out.stdout.contains("all checks passed"),
        "sdk_fidelity.py exited 0 without finishing its checks\n{shown}"
    );
    println!("{shown}(took {:.1?})", began.elapsed());
}

/// The official SDK's federation and metadata code accepts the simulator's IAM and metadata
/// answers, and the simulated gateway the temporary keys the SDK got and signed with.
#[test]
fn the_official_sdks_federation_and_metadata_code_accepts_the_simulator() {
    let python = match python_with(&["huaweicloudsdkcore", "huaweicloudsdkdli"]) {
        Ok(p) => p,
        Err(why) if skip_allowed().is_some() => {
            let skip = skip_allowed().unwrap_or_default();
            eprintln!(
                "\n!!!!! NOTE: the simulated IAM and metadata service NOT checked against the official SDK ({why}); \
                 {skip}. Set up: {SETUP} !!!!!\n"
            );
            return;
        }
        Err(why) => panic!(
            "no Python with the Huawei Cloud SDK ({why}); set up: {SETUP}; or set \
             DLI_WAIT_SKIP_ORACLE=1 to go without"
        ),
    };
    let (sim, line) = start_simulator_on("tests/fidelity/credentials.json");
    let mut cmd = Command::new(&python);
    cmd.arg(crate_root().join("tests/fidelity/sdk_credentials.py"))
        .args(["--sim-line", "-"])
        // The SDK reads expires_at (UTC) as local time.
        .env("TZ", "UTC")
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    // Whatever the developer's environment holds, the SDK's chain must see only the script's.
    for (k, _) in std::env::vars_os() {
        let name = k.to_string_lossy();
        if name.starts_with("HUAWEICLOUD_") || name.starts_with("HC_") {
            cmd.env_remove(k);
        }
    }
    let out = run_bounded(cmd, &line, SCRIPT).expect("run tests/fidelity/sdk_credentials.py");
    drop(sim);
    let shown = format!(
        "--- {} tests/fidelity/sdk_credentials.py: stdout ---\n{}--- stderr ---\n{}",
        python.display(),
        out.stdout,
        out.stderr
    );
    match out.status {
        None => panic!("sdk_credentials.py did not finish within {SCRIPT:?}\n{shown}"),
        Some(s) if !s.success() => {
            let first = out
                .stdout
                .lines()
                .find(|l| l.starts_with("FAIL"))
                .unwrap_or("(no FAIL line; see below)");
            panic!(
                "the official SDK rejects the simulator's IAM or metadata answers ({s}): {first}\n{shown}"
            )
        }
        Some(_) => {}
    }
    assert!(
        out.stdout.contains("all checks passed"),
        "sdk_credentials.py exited 0 without finishing its checks\n{shown}"
    );
    println!("{shown}");
}
