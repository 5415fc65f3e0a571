//! The prior from a job's past runs (`--history`, `--expect`) against the simulator: a job
//! that ran three times in about 20 s is polled a handful of times in its first 15 s; a
//! refused list turns the prior off with one line and the wait goes on; `--history off`
//! lists nothing.

use crate::common::{Sim, id, run};

const TODAY: &str = "nightly-today";

/// The job's polls (`/progress`, `/status` after the lookup) and list calls, with when they
/// came, in seconds since the simulator started.
fn calls(sim: &Sim) -> (Vec<f64>, Vec<f64>) {
    let (mut polls, mut lists) = (vec![], vec![]);
    for (at, method, path) in sim.requests_at() {
        let secs = at as f64 / 1000.0;
        if method == "GET" && path.ends_with("/jobs") || path.contains("/jobs?") {
            lists.push(secs);
        } else if path.ends_with("/progress") {
            polls.push(secs);
        }
    }
    (polls, lists)
}

#[test]
fn three_past_runs_of_about_20s_mean_a_handful_of_polls_in_the_first_15s() {
    // The same job waited for twice, with the prior and without it, at dli-wait's own
    // defaults (2 s first, 2 m cap), as a user runs it: its polls in its first 15 s. The
    // prior may not thin them more than the job's age allows (a failure is still seen
    // within it): 0, 2, 4, 8 s, against 0, 2, 4, 7, 13 s without it.
    let early = |history: &str| {
        let sim = Sim::start("history.json");
        let mut cmd =
            sim.dli_wait_with(&[("--poll-interval", "2s"), ("--max-poll-interval", "2m")]);
        cmd.env("DLI_WAIT_HISTORY", history).arg(id(TODAY));
        let ran = run(&mut cmd);
        ran.expect_code(0).stderr_has(&["FINISHED"]);
        let (polls, lists) = calls(&sim);
        if history == "auto" {
            ran.stderr_has(&["history: 3 past FINISHED runs", "queue etl"]);
            assert_eq!(lists.len(), 1, "one list call: {lists:?}");
        } else {
            assert!(lists.is_empty(), "{lists:?}");
        }
        // From the first poll: the process's start is not the policy's.
        let first = polls.first().copied().unwrap_or_default();
        (polls.iter().filter(|t| **t - first < 15.0).count(), polls)
    };
    let (with, polls_with) = early("auto");
    let (without, polls_without) = early("off");
    eprintln!("before 15 s: {with} polls with the prior, {without} without");
    assert!(
        with <= 4 && with < without,
        "{with} polls before 15 s with the prior ({polls_with:?}), {without} without ({polls_without:?})"
    );
}

#[test]
fn a_refused_list_turns_the_prior_off_and_the_wait_goes_on() {
    let sim = Sim::start("history-refused.json");
    let mut cmd = sim.dli_wait();
    cmd.env("DLI_WAIT_HISTORY", "auto").arg(id(TODAY));
    let ran = run(&mut cmd);
    ran.expect_code(0).stderr_has(&[
        "history off for this wait",
        "DLI.0003",
        "polling as for a job never seen",
        "FINISHED",
    ]);
    let said = ran.all();
    assert_eq!(
        said.matches("history off for this wait").count(),
        1,
        "{said}"
    );
}

#[test]
fn history_off_and_expect_make_no_list_call() {
    let sim = Sim::start("history.json");
    for extra in [
        &["--history", "off"][..],
        &["--history", "auto", "--expect", "20s"][..],
    ] {
        let mut cmd = sim.dli_wait();
        cmd.env_remove("DLI_WAIT_HISTORY")
            .args(extra)
            .args(["--timeout", "1s", id(TODAY)]);
        run(&mut cmd).never_shows("history:");
    }
    let (_, lists) = calls(&sim);
    assert!(lists.is_empty(), "{lists:?}");
}

#[test]
fn a_recorded_wait_carries_its_past_and_its_replay_finds_the_same_prior() {
    let sim = Sim::start("history.json");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("night.json");
    let mut cmd = sim.dli_wait();
    cmd.env("DLI_WAIT_HISTORY", "auto")
        .arg("--record")
        .arg(&file)
        .args(["--timeout", "1s", id(TODAY)]);
    run(&mut cmd)
        .expect_code(124)
        .stderr_has(&["history: 3 past"]);
    let replay = Sim::start_file(file.to_str().expect("a UTF-8 path"));
    let mut cmd = replay.dli_wait();
    cmd.env("DLI_WAIT_HISTORY", "auto")
        .args(["--timeout", "1s", id(TODAY)]);
    run(&mut cmd)
        .expect_code(124)
        .stderr_has(&["history: 3 past FINISHED runs", "queue etl"]);
}

#[test]
fn a_spark_batch_learns_from_the_batches_of_its_name_on_its_queue() {
    let sim = Sim::start("history-spark.json");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("night.json");
    let said = "history: 3 past FINISHED runs of batch nightly-batch on queue etl";
    let mut cmd = sim.dli_wait();
    cmd.env("DLI_WAIT_HISTORY", "auto")
        .arg("--record")
        .arg(&file)
        .args(["--job-type", "spark", "--timeout", "1s", id("batch-today")]);
    run(&mut cmd).expect_code(124).stderr_has(&[said]);
    // The recorded night replays with its past: the same batches of that name.
    let replay = Sim::start_file(file.to_str().expect("a UTF-8 path"));
    let mut cmd = replay.dli_wait();
    cmd.env("DLI_WAIT_HISTORY", "auto").args([
        "--job-type",
        "spark",
        "--timeout",
        "1s",
        id("batch-today"),
    ]);
    run(&mut cmd).expect_code(124).stderr_has(&[said]);
}

#[test]
fn a_slow_list_holds_no_part_of_the_timeout_it_turns_the_prior_off_and_124_comes_on_time() {
    let sim = Sim::start("history-slow.json");
    // The list answers in 20 s; each request may take 10 s: the lookup alone would outlast
    // the 2 s --timeout five times over, were it not raced against it.
    let mut cmd = sim.dli_wait_with(&[("--request-timeout", "10s")]);
    cmd.env("DLI_WAIT_HISTORY", "auto")
        .args(["--timeout", "2s", id(TODAY)]);
    let start = std::time::Instant::now();
    let ran = run(&mut cmd);
    let took = start.elapsed();
    ran.expect_code(124)
        .stderr_has(&["history off for this wait", "--timeout"]);
    let said = ran.all();
    assert_eq!(
        said.matches("history off for this wait").count(),
        1,
        "{said}"
    );
    // 2 s and the process's start and end; the lookup's 10 s would show.
    assert!(took.as_secs_f64() < 8.0, "took {took:?}\n{said}");
}

#[test]
fn the_lookups_calls_count_in_the_closing_line_and_the_json_summary() {
    for output in ["human", "json"] {
        let sim = Sim::start("history.json");
        let mut cmd = sim.dli_wait();
        cmd.env("DLI_WAIT_HISTORY", "auto").args([
            "--output",
            output,
            "--timeout",
            "1s",
            id(TODAY),
        ]);
        let ran = run(&mut cmd);
        ran.expect_code(124);
        let requests = sim.requests_at();
        // The lookup: the job's /status for its statement, one list of past runs.
        let lists = requests
            .iter()
            .filter(|(_, _, p)| p.ends_with("/jobs") || p.contains("/jobs?"))
            .count();
        assert_eq!(lists, 1, "{requests:?}");
        if output == "json" {
            let job = &ran.summary()["jobs"][0];
            assert_eq!(job["lookup_calls"], 2, "{job}");
            let polls = job["polls"].as_u64().unwrap_or_default() as usize;
            assert_eq!(polls + 2, requests.len(), "{job}\n{requests:?}");
        } else {
            ran.stderr_has(&["+ 2 history calls"]);
        }
    }
}

#[test]
fn until_running_uses_no_prior_and_makes_no_list_call() {
    // The prior says when past runs ended, not when they started: a wait for RUNNING polls
    // as for a job never seen.
    let sim = Sim::start("history.json");
    let mut cmd = sim.dli_wait();
    cmd.env("DLI_WAIT_HISTORY", "auto")
        .args(["--until", "running", "--timeout", "10s", id(TODAY)]);
    run(&mut cmd)
        .expect_code(0)
        .stderr_has(&["RUNNING"])
        .never_shows("history");
    let (_, lists) = calls(&sim);
    assert!(lists.is_empty(), "{lists:?}");
}

#[test]
fn expect_without_eta_or_with_until_running_is_a_usage_error_of_one_line() {
    let sim = Sim::start("history.json");
    for (extra, said) in [
        (
            &["--poll-policy", "exponential"][..],
            "--poll-policy exponential",
        ),
        (&["--until", "running"][..], "--until running"),
    ] {
        let mut cmd = sim.dli_wait();
        cmd.args(["--expect", "20s"]).args(extra).arg(id(TODAY));
        let ran = run(&mut cmd);
        ran.expect_code(2).stderr_has(&["--expect", said]);
        assert_eq!(ran.stderr.trim().lines().count(), 1, "{}", ran.all());
    }
    assert!(sim.requests().is_empty(), "{:?}", sim.requests());
}
