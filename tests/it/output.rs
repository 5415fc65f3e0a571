//! User stories about what dli-wait says: "my script reads the JSON summary", "my CI log shows
//! the job's progress and one closing line per job", "I can wait for several jobs at once",
//! "I can try it all with `dli-wait demo`".

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{Sim, bare, id, job, run};

/// The summary's record for `job_id`.

#[test]
fn json_output_is_json_lines_ending_with_the_summary() {
    let sim = Sim::start("endings.json");
    let r = run(sim
        .dli_wait()
        .args(["--output", "json", id("job-finishes")]));
    r.expect_code(0);
    let lines = r.json_lines();
    assert!(lines.len() >= 3, "{}", r.all());
    for l in &lines {
        assert!(l.is_object(), "not an object: {l}");
    }
    let events: Vec<&str> = lines.iter().filter_map(|l| l["event"].as_str()).collect();
    assert_eq!(events.first(), Some(&"started"), "{events:?}");
    assert!(events.contains(&"poll"), "{events:?}");
    let summary = r.summary();
    assert_eq!(summary["exit_code"], 0, "{summary}");
    assert_eq!(
        summary["jobs"].as_array().map(Vec::len),
        Some(1),
        "{summary}"
    );
    let j = job(&summary, id("job-finishes"));
    assert_eq!(j["status"], "FINISHED", "{summary}");
    assert_eq!(j["exit_code"], 0, "{summary}");
    assert!(j["polls"].as_u64() >= Some(1), "{summary}");
    // Nothing but JSON on stdout: the summary is `tail -n1` away.
    assert!(r.stdout.ends_with("}\n"), "{}", r.all());
}

#[test]
fn json_summary_of_a_failure_carries_dlis_reason() {
    let sim = Sim::start("endings.json");
    let r = run(sim.dli_wait().args(["--output", "json", id("job-fails")]));
    r.expect_code(1);
    let summary = r.summary();
    assert_eq!(summary["exit_code"], 1, "{summary}");
    let j = job(&summary, id("job-fails"));
    assert_eq!(j["status"], "FAILED", "{summary}");
    let reason = j["reason"]["message"].as_str().unwrap_or_default();
    assert!(reason.contains("Table or view not found"), "{summary}");
    assert!(
        j["message"]
            .as_str()
            .unwrap_or_default()
            .contains("Table or view not found"),
        "{summary}"
    );
}

#[test]
fn json_summary_of_a_timeout_says_the_job_may_still_be_running() {
    let sim = Sim::start("endings.json");
    let r = run(sim
        .dli_wait()
        .args(["--output", "json", "--timeout", "1s", id("job-never-ends")]));
    r.expect_code(124);
    let summary = r.summary();
    assert_eq!(summary["exit_code"], 124, "{summary}");
    let j = job(&summary, id("job-never-ends"));
    assert_eq!(j["status"], "TIMED_OUT", "{summary}");
    assert_eq!(j["last_status"], "RUNNING", "{summary}");
    let message = j["message"].as_str().unwrap_or_default();
    assert!(message.contains("may still be running"), "{summary}");
}

/// Human output off a terminal: one line per change (the job's states, with task counts),
/// then the closing line.
#[test]
fn human_output_shows_states_and_a_closing_line() {
    let sim = Sim::start("endings.json");
    let r = run(sim.dli_wait().arg(id("job-finishes")));
    r.expect_code(0)
        .stderr_has(&["RUNNING", "tasks", "FINISHED", "polls"]);
    let last = r.stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with(&format!("job {} FINISHED in ", id("job-finishes"))),
        "closing line: {last}\n{}",
        r.all()
    );
    // Human output goes to stderr only: stdout stays free for the job's data.
    assert_eq!(r.stdout, "", "{}", r.all());
}

#[test]
fn quiet_prints_only_the_closing_line() {
    let sim = Sim::start("endings.json");
    let r = run(sim.dli_wait().args(["-q", id("job-finishes")]));
    r.expect_code(0);
    let lines: Vec<&str> = r.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{}", r.all());
    assert!(
        lines[0].starts_with(&format!("job {} FINISHED", id("job-finishes"))),
        "{}",
        r.all()
    );
}

/// Several jobs at once: the worst ending decides (a FAILED one fails the step), and each job
/// gets its own closing line.
#[test]
fn several_jobs_finished_and_failed_exit_1() {
    let sim = Sim::start("endings.json");
    let r = run(sim.dli_wait().args([id("job-finishes"), id("job-fails")]));
    r.expect_code(1).stderr_has(&[
        &format!("job {} FINISHED", id("job-finishes")),
        &format!("job {} FAILED", id("job-fails")),
        "Table or view not found",
        "2 jobs",
        "exit 1",
    ]);
}

#[test]
fn several_jobs_all_finished_exit_0() {
    let sim = Sim::start("endings.json");
    let r = run(sim
        .dli_wait()
        .args([id("job-finishes"), id("job-finishes-too")]));
    r.expect_code(0).stderr_has(&[
        &format!("job {} FINISHED", id("job-finishes")),
        &format!("job {} FINISHED", id("job-finishes-too")),
        "2 jobs",
    ]);
}

/// Several jobs in JSON: one summary listing every job, in the order given.
#[test]
fn several_jobs_json_summary_lists_each_job() {
    let sim = Sim::start("endings.json");
    let r = run(sim.dli_wait().args([
        "--output",
        "json",
        id("job-fails"),
        id("job-finishes"),
        id("job-cancelled"),
    ]));
    r.expect_code(1);
    let summary = r.summary();
    assert_eq!(summary["exit_code"], 1, "{summary}");
    let ids: Vec<&str> = summary["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .filter_map(|j| j["job_id"].as_str())
        .collect();
    assert_eq!(
        ids,
        [id("job-fails"), id("job-finishes"), id("job-cancelled")]
    );
    assert_eq!(job(&summary, id("job-fails"))["status"], "FAILED");
    assert_eq!(job(&summary, id("job-finishes"))["status"], "FINISHED");
    assert_eq!(job(&summary, id("job-cancelled"))["status"], "CANCELLED");
}

/// The contract's order with several jobs: 5 before 1 before 4 before 3 before 124.
#[test]
fn several_jobs_follow_the_contract_order_of_exit_codes() {
    let sim = Sim::start("endings.json");
    let r = run(sim.dli_wait().args([
        "--stall-timeout",
        "1s",
        id("job-cancelled"),
        id("job-stalls"),
    ]));
    r.expect_code(4).stderr_has(&[
        &format!("job {} CANCELLED", id("job-cancelled")),
        &format!("job {} STALLED", id("job-stalls")),
    ]);
    let r = run(sim.dli_wait().args([id("job-fails"), id("no-such-job")]));
    r.expect_code(5).stderr_has(&[
        &format!("job {} FAILED", id("job-fails")),
        &format!("job {} REFUSED", id("no-such-job")),
    ]);
}

/// `dli-wait demo`: the simulator and the waiter in one process; a job launches, runs, hits a
/// DLI.0999 on the way and finishes. Takes about 12 s.
#[test]
fn demo_shows_a_whole_wait_and_exits_0() {
    let r = run(bare().arg("demo"));
    r.expect_code(0)
        .stderr_has(&["LAUNCHING", "RUNNING", "DLI.0999", "retrying", "FINISHED"]);
    crate::as_users_do::readme_demo_is_what_the_demo_prints(&r);
}

/// CI watchdogs kill steps that print nothing: while a job does not move, a heartbeat line
/// still appears at the `--heartbeat` interval.
#[test]
fn a_job_that_does_not_move_still_gets_heartbeat_lines() {
    let sim = Sim::start("endings.json");
    let r = run(sim.dli_wait().args([
        "--heartbeat",
        "1s",
        "--stall-timeout",
        "off",
        "--timeout",
        "4s",
        id("job-stalls"),
    ]));
    r.expect_code(124);
    let beats = r.stderr.matches("still waiting").count();
    assert!(beats >= 1, "no heartbeat line in\n{}", r.all());
}

/// With `--output json`, a run that cannot start still ends with the summary line on stdout
/// (`| tail -n1` gets the exit code and the error), as after any wait.
#[test]
fn json_mode_configuration_errors_end_with_a_summary_line() {
    let r = run(bare().args(["--output", "json", "85798b38-ae44-48eb-bb90-7cf0dcdafe7b"]));
    r.expect_code(2);
    let summary = r.summary();
    assert_eq!(summary["exit_code"], 2, "{}", r.all());
    assert!(
        summary["error"]
            .as_str()
            .is_some_and(|e| e.contains("missing configuration")),
        "{}",
        r.all()
    );
}

/// In GitHub mode a submit DLI refuses is on the run's page: the step summary says why.
#[test]
fn a_refused_submit_is_in_the_step_summary() {
    let sim = Sim::start("submit.json");
    let dir = common::TempDir::new("refused-submit");
    let summary = dir.path().join("step-summary.md");
    let outputs = dir.path().join("outputs");
    let r = run(sim
        .dli_wait_sub("run")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &outputs)
        .args(["--github", "--sql", "SELEC 1"]));
    r.expect_code(1);
    let md = std::fs::read_to_string(&summary).unwrap_or_default();
    assert!(
        md.contains("exit 1") && md.contains("FAILED") && md.contains("DLI.0005"),
        "{md}\n{}",
        r.all()
    );
}
