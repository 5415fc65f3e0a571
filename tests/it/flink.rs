//! User stories about Flink jobs: "wait for my Flink job as for a SQL job (a batch one that
//! finishes, one whose submit fails, with DLI's words), and for a streaming job, gate a
//! deploy on it running and staying running; tell me when it keeps restarting; stop it on a
//! timeout". Against `tests/scenarios/flink.json`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{Ran, Sim, run};

/// The closing line of `job_id`'s wait.
fn closing_line<'a>(r: &'a Ran, job_id: &str) -> &'a str {
    let head = format!("job {job_id} ");
    r.stderr
        .lines()
        .find(|l| l.starts_with(&head))
        .unwrap_or_else(|| panic!("no closing line for {job_id}\n{}", r.all()))
}

fn flink(sim: &Sim) -> assert_cmd::Command {
    let mut cmd = sim.dli_wait();
    cmd.args(["--job-type", "flink"]);
    cmd
}

#[test]
fn a_batch_flink_job_that_finishes_exits_0_polling_only_its_details() {
    let sim = Sim::start("flink.json");
    let r = run(flink(&sim).arg("50001"));
    r.expect_code(0);
    assert!(
        closing_line(&r, "50001").starts_with("job 50001 FINISHED"),
        "{}",
        r.all()
    );
    let details = format!("/v1.0/{}/streaming/jobs/50001", sim.project_id);
    let asked = sim.requests();
    assert!(asked.len() >= 2, "{asked:?}");
    assert!(
        asked.iter().all(|q| q.method == "GET" && q.path == details),
        "{asked:?}"
    );
    // DLI_JOB_TYPE says the same; as a SQL job the id is no job id at all (exit 2).
    run(sim.dli_wait().env("DLI_JOB_TYPE", "flink").arg("50001")).expect_code(0);
    run(sim.dli_wait().arg("50001"))
        .expect_code(2)
        .stderr_has(&["not a job id"]);
}

#[test]
fn a_flink_job_whose_submit_fails_exits_1_with_dli_s_status_desc() {
    let sim = Sim::start("flink.json");
    let r = run(flink(&sim).args(["--output", "json", "50002"]));
    r.expect_code(1);
    let job = &r.summary()["jobs"][0];
    assert_eq!(job["status"], "FAILED", "{job}");
    assert_eq!(job["last_status"], "job_submit_fail", "{job}");
    let message = job["message"].as_str().unwrap();
    assert!(
        message.contains("the job could not be submitted: DLI.0005: SQL parse failed"),
        "{message}"
    );
    // In human words too.
    let r = run(flink(&sim).arg("50002"));
    r.expect_code(1);
    assert!(
        closing_line(&r, "50002").contains("Encountered \"SELEC\" at line 3"),
        "{}",
        r.all()
    );
}

#[test]
fn a_job_stopped_for_arrears_fails_saying_so() {
    let sim = Sim::start("flink.json");
    let r = run(flink(&sim).arg("50006"));
    r.expect_code(1);
    assert!(
        closing_line(&r, "50006").contains("the account is in arrears"),
        "{}",
        r.all()
    );
}

#[test]
fn until_running_with_settle_passes_a_steady_job_and_not_one_that_restarts() {
    let sim = Sim::start("flink.json");
    let r = run(flink(&sim).args([
        "--output", "json", "--until", "running", "--settle", "3s", "50003",
    ]));
    r.expect_code(0);
    // Said when the window began.
    assert!(
        r.json_lines()
            .iter()
            .any(|l| l["event"] == "settling" && l["settle_seconds"] == 3.0),
        "{}",
        r.all()
    );
    let job = &r.summary()["jobs"][0];
    assert_eq!(job["status"], "RUNNING", "{job}");
    assert_eq!(job["last_status"], "job_running", "{job}");
    assert!(job["duration_seconds"].as_f64().unwrap() >= 3.0, "{job}");
    assert_eq!(job["restarts_during_wait"], 0, "{job}");

    // A job DLI restarts every second restarts inside any 3 s window, whenever the wait
    // starts: not a pass (exit 4), and the output says why.
    let r = run(flink(&sim)
        .env("DLI_WAIT_UNTIL", "running")
        .env("DLI_WAIT_SETTLE", "3s")
        .arg("50009"));
    r.expect_code(4);
    let line = closing_line(&r, "50009");
    assert!(line.starts_with("job 50009 STALLED"), "{line}");
    assert!(
        line.contains("did not stay running for 3s (--settle 3s)"),
        "{line}"
    );
    assert!(
        line.contains("restarted once during the wait (restart_times "),
        "{line}"
    );
    // A STALLED ending does not say that stall detection was off: only its task-count kind.
    assert!(!line.contains("so stall detection was off"), "{line}");
}

#[test]
fn until_running_alone_ends_at_the_first_running_answer() {
    let sim = Sim::start("flink.json");
    let r = run(flink(&sim).args(["--output", "json", "--until", "running", "50003"]));
    r.expect_code(0);
    let lines = r.json_lines();
    let polls: Vec<&serde_json::Value> = lines.iter().filter(|l| l["event"] == "poll").collect();
    assert_eq!(polls.last().unwrap()["status"], "job_running", "{lines:?}");
    assert_eq!(r.summary()["jobs"][0]["status"], "RUNNING");
    // --settle means nothing without it.
    run(flink(&sim).args(["--settle", "3s", "50003"]))
        .expect_code(2)
        .stderr_has(&["--settle", "--until running"]);
}

#[test]
fn max_restarts_ends_a_job_that_keeps_restarting_as_stalled() {
    let sim = Sim::start("flink.json");
    let r = run(flink(&sim).args(["--output", "json", "--max-restarts", "1", "50005"]));
    r.expect_code(4);
    let job = &r.summary()["jobs"][0];
    assert_eq!(job["status"], "STALLED", "{job}");
    // Counted from the wait's first answer, whatever DLI's count was then.
    assert!(job["restart_times"].as_i64().unwrap() >= 6, "{job}");
    assert_eq!(job["restarts_during_wait"], 2, "{job}");
    let message = job["message"].as_str().unwrap();
    assert!(
        message.starts_with("restart_times grew by 2 during the wait, more than --max-restarts 1"),
        "{message}"
    );
    assert!(
        message.contains("the job may still be running"),
        "{message}"
    );
    assert!(
        message.contains("[a Flink job: DLI reports no task counts"),
        "{message}"
    );
    // Each poll line shows the count too.
    let polls = r.json_lines();
    assert!(
        polls
            .iter()
            .any(|l| l["event"] == "poll" && l["restarts_during_wait"] == 1),
        "{polls:?}"
    );
}

#[test]
fn cancel_on_timeout_stops_the_job_and_exits_124() {
    let sim = Sim::start("flink.json");
    let r = run(flink(&sim).args([
        "--output",
        "json",
        "--timeout",
        "1s",
        "--cancel-on",
        "timeout",
        "--savepoint",
        "50008",
    ]));
    r.expect_code(124);
    let stops: Vec<String> = sim
        .requests()
        .into_iter()
        .filter(|q| q.method == "POST")
        .map(|q| q.path)
        .collect();
    assert_eq!(
        stops,
        [format!("/v1.0/{}/streaming/jobs/stop", sim.project_id)],
        "{}",
        r.all()
    );
    let job = &r.summary()["jobs"][0];
    assert_eq!(job["status"], "TIMED_OUT", "{job}");
    assert_eq!(job["cancel"]["accepted"], true, "{job}");
    // The stop took (job_cancel_success) within the grace after the deadline.
    assert_eq!(job["cancel"]["confirmed"], true, "{job}");
    let message = job["message"].as_str().unwrap();
    assert!(message.contains("the job was cancelled"), "{message}");
    // --savepoint is for Flink jobs only: a usage error for the others, before any request.
    let sim = Sim::start("flink.json");
    run(sim
        .dli_wait()
        .args(["--savepoint", "85798b38-ae44-48eb-bb90-7cf0dcdafe7b"]))
    .expect_code(2)
    .stderr_has(&["--savepoint is for Flink jobs"]);
    run(sim.dli_wait().args([
        "--job-type",
        "spark",
        "--max-restarts",
        "2",
        "85798b38-ae44-48eb-bb90-7cf0dcdafe7b",
    ]))
    .expect_code(2)
    .stderr_has(&["--max-restarts is for Flink jobs"]);
    assert!(sim.requests().is_empty(), "{:?}", sim.requests());
}

#[test]
fn an_id_that_is_not_a_positive_integer_is_a_usage_error_before_any_request() {
    let sim = Sim::start("flink.json");
    for bad in [
        "job-1",
        "0",
        "050001",
        "-5",
        "85798b38-ae44-48eb-bb90-7cf0dcdafe7b",
        "1.5",
    ] {
        let r = run(flink(&sim).args(["--", bad]));
        r.expect_code(2)
            .stderr_has(&["is not a job id", "Flink job id"]);
    }
    assert!(sim.requests().is_empty(), "{:?}", sim.requests());
}

#[test]
fn a_state_this_version_does_not_know_keeps_the_wait_going_and_is_named() {
    let sim = Sim::start("flink.json");
    let r = run(flink(&sim).args(["--timeout", "1s", "50007"]));
    r.expect_code(124)
        .stderr_has(&["\"job_paused_by_ops\", unknown to this version"]);
}

#[test]
fn until_running_works_for_sql_jobs_too() {
    let sim = Sim::start("endings.json");
    let job = common::id("job-never-ends");
    let r = run(sim
        .dli_wait()
        .args(["--output", "json", "--until", "running", job]));
    r.expect_code(0);
    assert_eq!(r.summary()["jobs"][0]["status"], "RUNNING", "{}", r.all());
    // `run` too: submit, then wait until the new job runs.
    let r = run(sim.dli_wait_sub("run").args([
        "--output", "json", "--until", "running", "--sql", "SELECT 1",
    ]));
    r.expect_code(0);
    assert_eq!(r.summary()["jobs"][0]["status"], "RUNNING", "{}", r.all());
}

/// examples/scenarios/flink.json does what its jobs' names say (the ones that say it within
/// seconds): the streaming job runs, the one whose submit fails fails with DLI's words.
#[test]
fn the_example_flink_scenario_serves_what_it_says() {
    let path = format!(
        "{}/examples/scenarios/flink.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let sim = Sim::start_file(&path);
    let r = run(flink(&sim).args(["--until", "running", "--settle", "1s", "50320"]));
    r.expect_code(0);
    assert!(
        closing_line(&r, "50320").starts_with("job 50320 RUNNING"),
        "{}",
        r.all()
    );
    let r = run(flink(&sim).arg("50323"));
    r.expect_code(1);
    assert!(
        closing_line(&r, "50323").contains("SQL parse failed"),
        "{}",
        r.all()
    );
}

/// `--record` of Flink jobs: each is written as a Flink job (`"type": "flink"`, its states
/// and restart counts) and replays to the same endings, DLI's `status_desc` included, and to
/// the same restarts.
#[test]
fn a_recorded_flink_wait_replays_to_the_same_endings() {
    let sim = Sim::start("flink.json");
    let dir = common::TempDir::new("record-flink");
    let file = dir.path().join("recorded.json");
    let r = run(flink(&sim)
        .args(["--record", file.to_str().unwrap()])
        .args(["50001", "50002"]));
    r.expect_code(1);
    let recorded = std::fs::read_to_string(&file).expect("the record was written");
    let scenario: serde_json::Value = serde_json::from_str(&recorded).unwrap();
    let jobs = scenario["jobs"].as_array().expect("jobs");
    assert!(jobs.iter().all(|j| j["type"] == "flink"), "{recorded}");

    // A job that restarted during the wait replays restarting.
    let file2 = dir.path().join("restarts.json");
    let r = run(flink(&sim)
        .args(["--record", file2.to_str().unwrap(), "--timeout", "2500ms"])
        .arg("50009"));
    r.expect_code(124);
    let replay = Sim::start_file(file2.to_str().unwrap());
    let again = run(flink(&replay).args(["--output", "json", "--max-restarts", "0", "50009"]));
    again.expect_code(4);

    let replay = Sim::start_file(file.to_str().unwrap());
    let again = run(flink(&replay).args(["--output", "json", "50001", "50002"]));
    again.expect_code(1);
    let summary = again.summary();
    let ok = common::job(&summary, "50001");
    assert_eq!(ok["status"], "FINISHED", "{summary}");
    let failed = common::job(&summary, "50002");
    assert_eq!(failed["status"], "FAILED", "{summary}");
    assert_eq!(
        failed["message"],
        "the job could not be submitted: DLI.0005: SQL parse failed: Encountered \"SELEC\" at line 3, column 1",
        "{summary}"
    );
}

/// DLI.0999 on the details is retried as for the other kinds; a stop DLI refuses in its JSON
/// list (`"is_success": "false"`) is a cancel that did not take, said as such.
#[test]
fn a_busy_queue_is_retried_and_a_refused_stop_is_said() {
    let sim = Sim::start("flink.json");
    let r = run(flink(&sim).args([
        "--output",
        "json",
        "--timeout",
        "2s",
        "--cancel-on",
        "timeout",
        "50010",
    ]));
    r.expect_code(124);
    let job = &r.summary()["jobs"][0];
    assert!(job["retries"].as_u64().unwrap() >= 2, "{job}");
    assert_eq!(job["last_status"], "job_running", "{job}");
    assert_eq!(job["cancel"]["accepted"], false, "{job}");
    let message = job["message"].as_str().unwrap();
    assert!(
        message.contains("the cancel did NOT take") && message.contains("cannot be stopped now"),
        "{message}"
    );
}

/// A stop answer that lists no result says nothing of the job: the cancel did not take, and
/// the output says why.
#[test]
fn a_stop_answer_without_a_result_is_no_confirmation() {
    let sim = Sim::start("flink.json");
    let r = run(flink(&sim).args([
        "--output",
        "json",
        "--timeout",
        "1s",
        "--cancel-on",
        "timeout",
        "50011",
    ]));
    r.expect_code(124);
    let job = &r.summary()["jobs"][0];
    assert_eq!(job["cancel"]["accepted"], false, "{job}");
    let message = job["message"].as_str().unwrap();
    assert!(message.contains("holds no result for the job"), "{message}");
}
