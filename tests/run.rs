//! User stories about `dli-wait run`: "submit my SQL, tell me the job id at once, then wait
//! for it like any other job; and never submit it twice".

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

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

#[test]
fn run_json_announces_the_job_id_first_and_summarises_it_last() {
    let sim = Sim::start("submit.json");
    let r = run(sim
        .dli_wait_sub("run")
        .args(["--output", "json", "--sql", "SELECT 1"]));
    r.expect_code(0);
    let lines = r.json_lines();
    let submitted = lines
        .iter()
        .find(|l| l["event"] == "submitted")
        .unwrap_or_else(|| panic!("no submitted event\n{}", r.all()));
    let id = submitted["job_id"].as_str().expect("job_id").to_string();
    let summary = r.summary();
    assert_eq!(summary["exit_code"], 0, "{summary}");
    assert_eq!(summary["jobs"][0]["job_id"], id.as_str(), "{summary}");
    assert_eq!(summary["jobs"][0]["status"], "FINISHED", "{summary}");
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
