//! User stories about `dli-wait run`: "submit my SQL, tell me the job id at once, then wait
//! for it like any other job; and never submit it twice".

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{Ran, Sim, run};

/// The job id from the `submitted job <id>` line.
fn submitted_id(r: &Ran) -> String {
    r.stderr
        .lines()
        .find_map(|l| l.split("submitted job ").nth(1))
        .map(|id| id.trim().to_string())
        .unwrap_or_else(|| panic!("no 'submitted job' line\n{}", r.all()))
}

/// The submits the simulator received.
fn submits(sim: &Sim) -> usize {
    sim.requests()
        .iter()
        .filter(|q| q.method == "POST" && q.path.ends_with("/jobs/submit-job"))
        .count()
}

#[test]
fn run_submits_once_prints_the_id_and_waits_until_finished() {
    let sim = Sim::start("submit.json");
    let r = run(sim
        .dli_wait_sub("run")
        .args(["--sql", "INSERT INTO sales.daily SELECT * FROM sales.raw"]));
    r.expect_code(0).stderr_has(&["submitted job", "FINISHED"]);
    let id = submitted_id(&r);
    assert!(
        r.stderr.contains(&format!("job {id} FINISHED")),
        "{}",
        r.all()
    );
    assert_eq!(submits(&sim), 1, "{:?}", sim.requests());
    assert!(!sim.requests_for(&id).is_empty(), "{:?}", sim.requests());
}

/// SQL that starts with a comment (`-- nightly load`) is SQL, not an unknown flag.
#[test]
fn sql_that_starts_with_a_comment_is_submitted() {
    let sim = Sim::start("submit.json");
    let r = run(sim.dli_wait_sub("run").args([
        "--sql",
        "-- nightly load\nINSERT INTO sales.daily SELECT * FROM sales.raw",
    ]));
    r.expect_code(0).stderr_has(&["submitted job", "FINISHED"]);
    assert_eq!(submits(&sim), 1, "{:?}", sim.requests());
}

#[test]
fn run_reads_the_sql_from_stdin() {
    let sim = Sim::start("submit.json");
    let r = run(sim
        .dli_wait_sub("run")
        .args(["--sql-file", "-"])
        .write_stdin("INSERT INTO sales.daily SELECT * FROM sales.raw\n"));
    r.expect_code(0).stderr_has(&["submitted job", "FINISHED"]);
}

/// Human mode: the job id is the first line of stdout. JSON mode (`run --output json | jq`):
/// every stdout line is JSON, the id is the `submitted` event's field, the summary last; also
/// with `--no-wait`.
#[test]
fn run_prints_the_id_first_in_human_mode_and_only_json_in_json_mode() {
    let sim = Sim::start("submit.json");
    let r = run(sim.dli_wait_sub("run").args(["--sql", "SELECT 1"]));
    r.expect_code(0);
    let first = r.stdout.lines().next().unwrap_or_default();
    assert!(dli_wait::dli::job_id::is_job_id(first), "{}", r.all());
    assert_eq!(first, submitted_id(&r));

    let r = run(sim
        .dli_wait_sub("run")
        .args(["--output", "json", "--sql", "SELECT 1"]));
    r.expect_code(0);
    // Every line parses (`json_lines` fails on the first that does not).
    let events = r.json_lines();
    assert_eq!(events[0]["event"], "submitted", "{}", r.all());
    let id = events[0]["job_id"].as_str().unwrap().to_string();
    assert!(dli_wait::dli::job_id::is_job_id(&id), "{}", r.all());
    let summary = events.last().unwrap();
    assert_eq!(summary["exit_code"], 0, "{summary}");
    assert_eq!(summary["jobs"][0]["job_id"], id.as_str(), "{summary}");
    assert_eq!(summary["jobs"][0]["status"], "FINISHED", "{summary}");

    let r =
        run(sim
            .dli_wait_sub("run")
            .args(["--output", "json", "--no-wait", "--sql", "SELECT 1"]));
    r.expect_code(0);
    let events = r.json_lines();
    assert_eq!(events[0]["event"], "submitted", "{}", r.all());
    assert!(
        dli_wait::dli::job_id::is_job_id(events[0]["job_id"].as_str().unwrap()),
        "{}",
        r.all()
    );
}

/// `--no-wait`: submit, print the id, exit 0 at once; the job is then waited for by id, so
/// several can be fanned out and waited for together.
#[test]
fn no_wait_submits_prints_the_id_and_exits_0() {
    let sim = Sim::start("submit.json");
    let r = run(sim
        .dli_wait_sub("run")
        .args(["--no-wait", "--sql", "INSERT INTO a SELECT 1"]));
    r.expect_code(0);
    let a = r.stdout.trim().to_string();
    assert!(
        dli_wait::dli::job_id::is_job_id(&a),
        "stdout is the id alone: {}",
        r.all()
    );
    assert_eq!(submits(&sim), 1);
    assert!(
        sim.requests_for(&a).is_empty(),
        "no poll: {:?}",
        sim.requests()
    );
    let b = run(sim
        .dli_wait_sub("run")
        .args(["--no-wait", "--sql", "INSERT INTO b SELECT 1"]))
    .stdout
    .trim()
    .to_string();
    let r = run(sim.dli_wait().args(["--", &a, &b]));
    r.expect_code(0).stderr_has(&["2 jobs"]);
    // A refused submit is still a failure, with nothing on stdout.
    let r = run(sim
        .dli_wait_sub("run")
        .args(["--no-wait", "--sql", "SELEC 1"]));
    r.expect_code(1);
    assert_eq!(r.stdout, "", "{}", r.all());
}

/// A DDL is answered synchronously: done at once, nothing to poll.
#[test]
fn run_sync_ddl_exits_0_without_polling() {
    let sim = Sim::start("submit.json");
    let r = run(sim
        .dli_wait_sub("run")
        .args(["--sql", "CREATE TABLE t (id INT)"]));
    r.expect_code(0).stderr_has(&["submitted job", "FINISHED"]);
    assert!(
        sim.requests().iter().all(|q| q.method == "POST"),
        "{:?}",
        sim.requests()
    );
}

#[test]
fn run_job_that_fails_exits_1_with_dlis_reason() {
    let sim = Sim::start("submit.json");
    let r = run(sim
        .dli_wait_sub("run")
        .args(["--sql", "INSERT INTO sales.orders_tmp SELECT 1"]));
    r.expect_code(1)
        .stderr_has(&["FAILED", "Table or view not found: sales.orders_tmp"]);
}

/// SQL that DLI refuses at submit time is the job failing (exit 1, DLI's reason), not DLI
/// refusing the request for good: a pipeline treats it like a FAILED job. It is never
/// submitted again.
#[test]
fn run_refused_sql_exits_1_with_dlis_message_and_is_not_resubmitted() {
    let sim = Sim::start("submit.json");
    let r = run(sim.dli_wait_sub("run").args(["--sql", "SELEC 1"]));
    assert_eq!(submits(&sim), 1, "{:?}", sim.requests());
    r.stderr_has(&["DLI.0005", "SQL syntax error"]);
    r.expect_code(1);
}

#[test]
fn run_without_sql_exits_2() {
    let sim = Sim::start("submit.json");
    run(&mut sim.dli_wait_sub("run")).expect_code(2);
    run(sim.dli_wait_sub("run").args(["--sql", "   "])).expect_code(2);
    assert_eq!(submits(&sim), 0, "{:?}", sim.requests());
}

/// "A run that cannot tell me the id of the job it created must not exit 0": with stdout on
/// `/dev/full` (no space: every write fails), `run --no-wait` exits 2, and its stderr still
/// names the job it created, in JSON mode and plain. Submitted once each, never again.
#[cfg(target_os = "linux")]
#[test]
fn no_wait_with_an_unwritable_stdout_fails_and_names_the_id_on_stderr() {
    let sim = Sim::start("submit.json");
    for output in ["json", "human"] {
        let before = submits(&sim);
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("open /dev/full");
        let child = sim
            .dli_wait_sub_std("run")
            .args([
                "--no-wait",
                "--output",
                output,
                "--sql",
                "INSERT INTO a SELECT 1",
            ])
            .stdin(std::process::Stdio::null())
            .stdout(full)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start dli-wait");
        let out = common::wait_output_bounded(child, common::RUN_LIMIT);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{output}: {stderr}");
        assert_eq!(submits(&sim), before + 1, "{output}: {:?}", sim.requests());
        let id = stderr
            .split_whitespace()
            .find(|w| dli_wait::dli::job_id::is_job_id(w.trim_end_matches([',', ':'])))
            .unwrap_or_else(|| panic!("{output}: no job id on stderr: {stderr}"));
        assert!(
            stderr.contains("cannot write its id to stdout"),
            "{output}: {stderr}"
        );
        assert!(!id.is_empty());
    }
}
