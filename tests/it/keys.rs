//! User stories about a job that outlives its waiter (issue 21): "the pipeline ran again: do
//! not submit my INSERT twice" (`run --idempotency-key`), and "the waiter was killed: DLI ends
//! the job itself at the wait's deadline" (`dli.sql.job.timeout`). Against the simulator's
//! past jobs (tests/scenarios/keys.json) and its job lists.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{Sim, id, run};
use dli_wait::dli::auth::{Credentials, Secret};
use dli_wait::dli::client::{ClientConfig, DliClient};
use dli_wait::dli::model::{JobStatus, JobStatusInfo};
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The submits the simulator received (SQL jobs and Spark batches).
fn submits(sim: &Sim) -> usize {
    sim.requests()
        .iter()
        .filter(|q| {
            q.method == "POST"
                && (q.path.ends_with("/jobs/submit-job") || q.path.ends_with("/batches"))
        })
        .count()
}

/// Start `cmd` with stdout piped and return it with the first line it prints (the job id),
/// within 15 s.
fn spawn_until_id(mut cmd: std::process::Command) -> (Child, String) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start dli-wait run");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let _ = tx.send(reader.read_line(&mut line).map(|_| line));
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });
    match rx.recv_timeout(Duration::from_secs(15)) {
        Ok(Ok(line)) if !line.trim().is_empty() => (child, line.trim().to_string()),
        other => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("dli-wait run printed no job id: {other:?}");
        }
    }
}

/// `kill -9`: no handler, no cancel, no goodbye.
fn kill_9(mut child: Child) {
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
}

/// What DLI's `/status` says of `job_id` now (the test's own signed request).
pub(crate) fn status(sim: &Sim, job_id: &str) -> JobStatusInfo {
    let client = DliClient::new(ClientConfig {
        endpoint: url::Url::parse(&sim.endpoint).unwrap(),
        project_id: sim.project_id.clone(),
        credentials: Credentials::AkSk {
            ak: Secret::new(sim.ak.clone()),
            sk: Secret::new(sim.sk.clone()),
            security_token: None,
        }
        .into(),
        request_timeout: Duration::from_secs(5),
    })
    .unwrap();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(client.status(job_id, Duration::from_secs(5)))
        .unwrap()
}

/// The waiter is killed with `kill -9` mid-wait (no cancel can go out): DLI itself cancels
/// the job at the deadline `run` gave it, `--timeout` plus `--request-timeout` (3 s + 2 s),
/// within a second of it; and the user's other `--conf` settings (here from DLI_WAIT_CONF)
/// went with the submit.
#[test]
fn a_killed_waiters_job_is_cancelled_by_dli_at_its_own_deadline() {
    let sim = Sim::start("keys.json");
    let mut cmd = sim.dli_wait_sub_std("run");
    cmd.args(["--sql", "INSERT INTO sales.history SELECT * FROM backfill"])
        .args(["--timeout", "3s", "--cancel-on", "timeout"])
        .env("DLI_WAIT_CONF", "spark.sql.shuffle.partitions=10\n");
    let (child, job_id) = spawn_until_id(cmd);
    kill_9(child);
    let give_up = Instant::now() + Duration::from_secs(20);
    let ended = loop {
        let s = status(&sim, &job_id);
        if s.status.is_terminal() {
            break s;
        }
        assert!(Instant::now() < give_up, "still {} after 20 s", s.status);
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(ended.status, JobStatus::Cancelled, "{ended:?}");
    assert!(
        ended.envelope.message.contains("dli.sql.job.timeout=5"),
        "{ended:?}"
    );
    // Cancelled by its deadline (5 s after the submit), within a second of it.
    let ran = ended.duration.unwrap();
    assert!((5000..6000).contains(&ran), "ran {ran} ms: {ended:?}");
    let conf = ended.user_conf.unwrap_or_default();
    assert!(
        conf.contains("spark.sql.shuffle.partitions=10") && conf.contains("dli.sql.job.timeout=5"),
        "{conf}"
    );
    assert!(!sim.was_cancelled(&job_id), "the killed waiter cancelled?");
}

/// Without `--cancel-on timeout` nobody asked for the job to end with the wait: no DLI
/// deadline goes with the submit. With the user's own `dli.sql.job.timeout`, theirs goes,
/// and run says so.
#[test]
fn dlis_deadline_only_with_cancel_on_timeout_and_the_users_own_wins() {
    let sim = Sim::start("keys.json");
    let r =
        run(sim
            .dli_wait_sub("run")
            .args(["--sql", "INSERT INTO t SELECT 1", "--timeout", "20s"]));
    r.expect_code(0);
    let plain = status(&sim, r.stdout.lines().next().unwrap());
    assert!(plain.user_conf.is_none(), "{plain:?}");
    let r = run(sim.dli_wait_sub("run").args([
        "--sql",
        "INSERT INTO t SELECT 1",
        "--timeout",
        "20s",
        "--cancel-on",
        "timeout",
        "--conf",
        "dli.sql.job.timeout=7200",
    ]));
    r.expect_code(0).stderr_has(&[
        "note: DLI's own deadline for the job is your --conf dli.sql.job.timeout=7200",
        "dli.sql.job.timeout=22",
    ]);
    let own = status(&sim, r.stdout.lines().next().unwrap());
    assert_eq!(own.user_conf.as_deref(), Some("dli.sql.job.timeout=7200"));
}

/// `run --idempotency-key K` killed mid-wait, then run again with K (a "re-run failed jobs"):
/// exactly one submit over both processes; the second prints the first's job id first on
/// stdout, waits for it and exits with its ending.
#[test]
fn a_rerun_with_the_key_reattaches_instead_of_submitting_again() {
    let sim = Sim::start("keys.json");
    let key = ["--idempotency-key", "4242-load"];
    let sql = ["--sql", "INSERT INTO sales.daily SELECT * FROM medium_load"];
    let mut first = sim.dli_wait_sub_std("run");
    first.args(sql).args(key);
    let (child, job_id) = spawn_until_id(first);
    kill_9(child);
    let r = run(sim.dli_wait_sub("run").args(sql).args(key));
    r.expect_code(0).stderr_has(&[
        &format!("re-attaching to job {job_id}"),
        "not submitting again",
        &format!("job {job_id} FINISHED"),
    ]);
    assert_eq!(
        r.stdout.lines().next(),
        Some(job_id.as_str()),
        "{}",
        r.all()
    );
    assert_eq!(submits(&sim), 1, "{:?}", sim.requests());
}

/// K whose job FINISHED: nothing submitted, exit 0, its id on stdout, and when it finished.
#[test]
fn a_key_whose_job_finished_submits_nothing_and_exits_0() {
    let sim = Sim::start("keys.json");
    let r = run(sim.dli_wait_sub("run").args([
        "--sql",
        "INSERT INTO sales.daily SELECT * FROM sales.raw",
        "--idempotency-key",
        "nightly-2026-12-01",
    ]));
    let done = id("key-finished");
    r.expect_code(0).stderr_has(&[
        &format!("job {done} of --idempotency-key \"nightly-2026-12-01\" already FINISHED at "),
        "1h50m ago",
        "nothing to submit",
    ]);
    assert_eq!(r.stdout.lines().next(), Some(done), "{}", r.all());
    assert_eq!(submits(&sim), 0, "{:?}", sim.requests());
    // The same for a Spark batch named by its key.
    let dir = common::TempDir::new("keys");
    let batch = dir.path().join("batch.json");
    std::fs::write(
        &batch,
        r#"{"file": "a.jar", "className": "A", "queue": "default"}"#,
    )
    .unwrap();
    let r = run(sim
        .dli_wait_sub("run")
        .arg("--spark-file")
        .arg(&batch)
        .args(["--idempotency-key", "batch-2026-12-01"]));
    r.expect_code(0)
        .stderr_has(&["already FINISHED", "nothing to submit"]);
    assert_eq!(r.stdout.lines().next(), Some(id("batch-success")));
    assert_eq!(submits(&sim), 0, "{:?}", sim.requests());
}

/// K whose job FAILED: it is submitted anew, once, and that job is waited for.
#[test]
fn a_key_whose_job_failed_submits_once_more() {
    let sim = Sim::start("keys.json");
    let r = run(sim.dli_wait_sub("run").args([
        "--sql",
        "INSERT INTO sales.daily SELECT * FROM sales.raw",
        "--idempotency-key",
        "retry-me",
    ]));
    r.expect_code(0).stderr_has(&[
        &format!(
            "the last job of --idempotency-key \"retry-me\", {}, ended FAILED: submitting it anew",
            id("key-failed")
        ),
        "submitted job",
    ]);
    let new = r.stdout.lines().next().unwrap().to_string();
    assert_ne!(new, id("key-failed"));
    assert_eq!(submits(&sim), 1, "{:?}", sim.requests());
    // The new job carries the key: the next run finds it FINISHED.
    let again = run(sim.dli_wait_sub("run").args([
        "--sql",
        "INSERT INTO sales.daily SELECT * FROM sales.raw",
        "--idempotency-key",
        "retry-me",
    ]));
    again.expect_code(0).stderr_has(&["already FINISHED"]);
    assert_eq!(again.stdout.lines().next(), Some(new.as_str()));
    assert_eq!(submits(&sim), 1, "{:?}", sim.requests());
}

/// A lookup DLI refuses (HTTP 403): exit 5, saying so, and nothing is submitted ("to be
/// safe" would be a second INSERT).
#[test]
fn a_refused_lookup_exits_5_and_submits_nothing() {
    let sim = Sim::start("keys-refused.json");
    let r = run(sim.dli_wait_sub("run").args([
        "--sql",
        "INSERT INTO t SELECT 1",
        "--idempotency-key",
        "k1",
    ]));
    r.expect_code(5).stderr_has(&[
        "the lookup of the jobs submitted with --idempotency-key \"k1\" failed",
        "403",
        "--idempotency-key needs the permission to list the project's DLI jobs",
        "nothing was submitted",
    ]);
    assert_eq!(submits(&sim), 0, "{:?}", sim.requests());
}

/// A lookup that fails for now (a 503, a DLI.0999) is retried; then exactly one submit.
#[test]
fn a_lookup_that_fails_for_now_is_retried() {
    let sim = Sim::start("keys-flaky.json");
    let r = run(sim.dli_wait_sub("run").args([
        "--sql",
        "INSERT INTO t SELECT 1",
        "--idempotency-key",
        "k1",
    ]));
    r.expect_code(0).stderr_has(&["submitted job", "FINISHED"]);
    let lists = sim
        .requests()
        .iter()
        .filter(|q| q.method == "GET" && q.path.ends_with("/jobs"))
        .count();
    assert_eq!(lists, 3, "{:?}", sim.requests());
    assert_eq!(submits(&sim), 1, "{:?}", sim.requests());
}

/// A key DLI's tag rules refuse, or a batch file that names its batch otherwise: exit 2
/// before any request.
#[test]
fn a_key_dli_would_refuse_is_a_usage_error_before_any_request() {
    let sim = Sim::start("keys.json");
    for bad in ["nightly/2026-12-01", "", "k=v", &"k".repeat(256)] {
        let r = run(sim.dli_wait_sub("run").args([
            "--sql",
            "INSERT INTO t SELECT 1",
            "--idempotency-key",
            bad,
        ]));
        r.expect_code(2).stderr_has(&["bad --idempotency-key"]);
    }
    let r = run(sim
        .dli_wait_sub("run")
        .args(["--sql", "INSERT INTO t SELECT 1"])
        .env("DLI_WAIT_IDEMPOTENCY_KEY", "a|b"));
    r.expect_code(2)
        .stderr_has(&["bad --idempotency-key \"a|b\""]);
    let dir = common::TempDir::new("keys");
    let batch = dir.path().join("named.json");
    std::fs::write(
        &batch,
        r#"{"file": "a.jar", "className": "A", "name": "load"}"#,
    )
    .unwrap();
    let r = run(sim
        .dli_wait_sub("run")
        .arg("--spark-file")
        .arg(&batch)
        .args(["--idempotency-key", "k1"]));
    r.expect_code(2)
        .stderr_has(&["names its batch \"load\"", "remove \"name\""]);
    assert!(sim.requests().is_empty(), "{:?}", sim.requests());
}

/// A lookup that keeps failing for now never becomes a submit "to be safe": at --timeout the
/// run ends with 124, naming the fault, and nothing was submitted.
#[test]
fn a_lookup_that_never_succeeds_ends_at_the_timeout_without_a_submit() {
    let sim = Sim::start("keys-down.json");
    let r = run(sim.dli_wait_sub("run").args([
        "--sql",
        "INSERT INTO t SELECT 1",
        "--idempotency-key",
        "k1",
        "--timeout",
        "2s",
    ]));
    r.expect_code(124).stderr_has(&[
        "--timeout passed during the lookup of the jobs submitted with --idempotency-key \"k1\"",
        "503",
        "nothing was submitted",
    ]);
    assert_eq!(submits(&sim), 0, "{:?}", sim.requests());
}

/// SIGTERM while the key's jobs are being looked up (a slow list): the run ends at once with
/// 143, saying nothing was submitted, and nothing was.
#[test]
fn a_signal_during_the_lookup_submits_nothing() {
    let sim = Sim::start("keys-slow.json");
    let mut cmd = sim.dli_wait_sub_std("run");
    cmd.args(["--sql", "INSERT INTO t SELECT 1", "--idempotency-key", "k1"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let child = cmd.spawn().expect("start dli-wait run");
    let asked = Instant::now() + Duration::from_secs(15);
    while !sim
        .requests()
        .iter()
        .any(|q| q.method == "GET" && q.path.ends_with("/jobs"))
    {
        assert!(Instant::now() < asked, "no lookup within 15 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    common::send_signal(&child, "TERM");
    let out = common::wait_output_bounded(child, Duration::from_secs(10));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(common::shell_status(out.status), Some(143), "{stderr}");
    assert!(
        stderr.contains("while looking up the jobs of --idempotency-key k1: nothing was submitted"),
        "{stderr}"
    );
    assert_eq!(submits(&sim), 0, "{:?}", sim.requests());
}

/// A DLI whose job lists ignore the key's filter (the simulator's `lists_ignore_filters`):
/// the listed jobs without the key could be the key's, so the lookup cannot decide. It ends
/// with exit 5, saying it cannot tell and that nothing was submitted, and submits nothing
/// (a second INSERT "because none was found" is what the key is there to prevent). The same
/// for a Spark batch list that shows a batch without a name.
#[test]
fn a_list_that_ignores_the_keys_filter_submits_nothing() {
    let sim = Sim::start("keys-unfiltered.json");
    let r = run(sim.dli_wait_sub("run").args([
        "--sql",
        "INSERT INTO sales.daily SELECT * FROM sales.raw",
        "--idempotency-key",
        "nightly-2026-12-02",
    ]));
    r.expect_code(5).stderr_has(&[
        "cannot tell whether a job with this key exists; nothing was submitted",
        "without the key",
    ]);
    // Not a permission problem: no word of one.
    assert!(!r.all().contains("permission"), "{}", r.all());
    assert_eq!(submits(&sim), 0, "{:?}", sim.requests());
    let dir = common::TempDir::new("keys");
    let batch = dir.path().join("batch.json");
    std::fs::write(&batch, r#"{"file": "a.jar", "className": "A"}"#).unwrap();
    let r = run(sim
        .dli_wait_sub("run")
        .arg("--spark-file")
        .arg(&batch)
        .args(["--idempotency-key", "batch-2026-12-02"]));
    r.expect_code(5)
        .stderr_has(&["cannot tell whether a job with this key exists; nothing was submitted"]);
    assert_eq!(submits(&sim), 0, "{:?}", sim.requests());
}

/// One deadline for the whole run: a lookup that fails for 6 s (503s) of an 8 s `--timeout`
/// leaves the wait the 2 s that are left, not a fresh 8 s. The run ends with 124 within
/// T plus the 5 s grace README promises (a lookup and a wait with a timeout each would end
/// at about 14 s), the job submitted once and cancelled by dli-wait at the wait's deadline,
/// before DLI's own (`dli.sql.job.timeout`, which counts from the later submit).
#[test]
fn the_lookup_and_the_wait_share_one_timeout() {
    let sim = Sim::start("keys-late-list.json");
    let started = Instant::now();
    let r = run(sim.dli_wait_sub("run").args([
        "--sql",
        "INSERT INTO t SELECT 1",
        "--idempotency-key",
        "k1",
        "--timeout",
        "8s",
        "--cancel-on",
        "timeout",
    ]));
    let took = started.elapsed();
    r.expect_code(124);
    assert!(took < Duration::from_secs(13), "took {took:?}: {}", r.all());
    assert_eq!(submits(&sim), 1, "{:?}", sim.requests());
    let job = r.stdout.lines().next().unwrap().to_string();
    assert!(sim.was_cancelled(&job), "{}", r.all());
}

/// A re-run that re-attaches to a job whose first submit gave DLI a deadline (`--timeout 3s
/// --cancel-on timeout`: `dli.sql.job.timeout=5`) says that deadline and, as it comes before
/// the re-run's own 60 s, that the run will end with 3; it then does, CANCELLED by DLI.
#[test]
fn a_reattached_job_keeps_its_first_submits_deadline_and_says_so() {
    let sim = Sim::start("keys.json");
    let sql = ["--sql", "INSERT INTO sales.history SELECT * FROM backfill"];
    let key = ["--idempotency-key", "deadline-kept"];
    let mut first = sim.dli_wait_sub_std("run");
    first
        .args(sql)
        .args(key)
        .args(["--timeout", "3s", "--cancel-on", "timeout"]);
    let (child, job_id) = spawn_until_id(first);
    kill_9(child);
    let r = run(sim
        .dli_wait_sub("run")
        .args(sql)
        .args(key)
        .args(["--timeout", "60s"]));
    r.expect_code(3).stderr_has(&[
        &format!("re-attaching to job {job_id}"),
        &format!("note: job {job_id} keeps the deadline of its first submit (dli.sql.job.timeout=5): DLI cancels it at "),
        "before this run's --timeout: the run then ends with 3 (CANCELLED by DLI)",
    ]);
    assert_eq!(submits(&sim), 1, "{:?}", sim.requests());
}
