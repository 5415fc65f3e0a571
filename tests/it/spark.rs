//! User stories about Spark batch jobs: "wait for my Spark batch (or submit it and wait) the
//! way dli-wait waits for SQL jobs: the same exit codes, DLI's reason when it dies, the
//! cancel on a timeout, and never submit it twice". Against `tests/scenarios/spark.json`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{Ran, Sim, TempDir, id, run};

/// A batch to submit, as DLI's console exports it.
const BATCH: &str = r#"{"file": "batchTest/transform.jar", "className": "com.example.Transform",
  "queue": "etl", "args": ["2026-11-27"], "conf": {"spark.sql.shuffle.partitions": "200"}}"#;

/// The batch submits (POST /v2.0/{project_id}/batches) the simulator received.
fn batch_submits(sim: &Sim) -> usize {
    let path = format!("/v2.0/{}/batches", sim.project_id);
    sim.requests()
        .iter()
        .filter(|q| q.method == "POST" && q.path == path)
        .count()
}

/// The closing line of `job_id`'s wait.
fn closing_line<'a>(r: &'a Ran, job_id: &str) -> &'a str {
    let head = format!("job {job_id} ");
    r.stderr
        .lines()
        .find(|l| l.starts_with(&head))
        .unwrap_or_else(|| panic!("no closing line for {job_id}\n{}", r.all()))
}

#[test]
fn a_batch_that_succeeds_exits_0() {
    let sim = Sim::start("spark.json");
    let batch = id("batch-succeeds");
    let r = run(sim.dli_wait().args(["--job-type", "spark", batch]));
    r.expect_code(0);
    assert!(
        closing_line(&r, batch).starts_with(&format!("job {batch} FINISHED")),
        "{}",
        r.all()
    );
    // Polled on its /state, never on a SQL job's paths.
    let state = format!("/v2.0/{}/batches/{batch}/state", sim.project_id);
    let asked = sim.requests_for(batch);
    assert!(asked.iter().any(|q| q.path == state), "{asked:?}");
    assert!(
        asked.iter().all(|q| q.path.starts_with("/v2.0/")),
        "{asked:?}"
    );

    // DLI_JOB_TYPE says the same.
    let r = run(sim.dli_wait().env("DLI_JOB_TYPE", "spark").arg(batch));
    r.expect_code(0);
    // The batch is no SQL job: as SQL, DLI does not know it (exit 5, pointing at --job-type).
    let r = run(sim.dli_wait().arg(batch));
    r.expect_code(5).stderr_has(&["DLI.0002", "--job-type"]);
}

#[test]
fn a_batch_that_dies_exits_1_with_the_reason_its_log_gives() {
    let sim = Sim::start("spark.json");
    let batch = id("batch-dies");
    let r = run(sim.dli_wait().args(["--job-type", "spark", batch]));
    r.expect_code(1);
    let line = closing_line(&r, batch);
    assert!(line.starts_with(&format!("job {batch} FAILED")), "{line}");
    assert!(
        line.ends_with(
            ": Caused by: java.io.FileNotFoundException: obs://dli-input/orders/2026-11-27 does not exist"
        ),
        "{line}"
    );
    // The reason came from the details (GET …/batches/{id}); the log was not needed.
    let details = format!("/v2.0/{}/batches/{batch}", sim.project_id);
    let asked = sim.requests_for(batch);
    assert!(asked.iter().any(|q| q.path == details), "{asked:?}");
    assert!(!asked.iter().any(|q| q.path.ends_with("/log")), "{asked:?}");
}

#[test]
fn when_the_details_say_nothing_the_log_says_why() {
    let sim = Sim::start("spark.json");
    let batch = id("batch-dies-quietly");
    let r = run(sim
        .dli_wait()
        .args(["--output", "json", "--job-type", "spark", batch]));
    r.expect_code(1);
    let job = &r.summary()["jobs"][0];
    assert_eq!(job["status"], "FAILED", "{job}");
    assert_eq!(job["last_status"], "DEAD", "{job}");
    assert_eq!(
        job["reason"]["message"],
        "ValueError: time data '2026-13-01' does not match format '%Y-%m-%d'",
        "{job}"
    );
    let log = format!("/v2.0/{}/batches/{batch}/log", sim.project_id);
    assert!(
        sim.requests_for(batch).iter().any(|q| q.path == log),
        "{:?}",
        sim.requests()
    );
}

#[test]
fn cancel_on_timeout_deletes_the_batch_and_exits_124() {
    let sim = Sim::start("spark.json");
    let batch = id("batch-never-ends");
    let r = run(sim.dli_wait().args([
        "--output",
        "json",
        "--job-type",
        "spark",
        "--timeout",
        "1s",
        "--cancel-on",
        "timeout",
        batch,
    ]));
    r.expect_code(124);
    let deletes: Vec<String> = sim
        .requests()
        .into_iter()
        .filter(|q| q.method == "DELETE")
        .map(|q| q.path)
        .collect();
    assert_eq!(
        deletes,
        [format!("/v2.0/{}/batches/{batch}", sim.project_id)],
        "{}",
        r.all()
    );
    let job = &r.summary()["jobs"][0];
    assert_eq!(job["status"], "TIMED_OUT", "{job}");
    // The batch then showed `dead`: for a batch, that is the cancel taking.
    assert_eq!(job["cancel"]["accepted"], true, "{job}");
    assert_eq!(job["cancel"]["confirmed"], true, "{job}");
    let message = job["message"].as_str().unwrap();
    assert!(message.contains("the job was cancelled"), "{message}");
    assert!(!message.contains("may still be running"), "{message}");
    assert!(message.contains("stall detection was off"), "{message}");
}

#[test]
fn a_batch_waiting_for_resources_says_how_long_it_has_been_queued() {
    let sim = Sim::start("spark.json");
    let batch = id("batch-queued");
    let r = run(sim.dli_wait_with(&[("--max-poll-interval", "1s")]).args([
        "--job-type",
        "spark",
        "--timeout",
        "3500ms",
        "--heartbeat",
        "1s",
        batch,
    ]));
    r.expect_code(124);
    // The heartbeat (off a terminal) says it while waiting, the closing line at the end.
    assert!(
        r.stderr
            .lines()
            .any(|l| l.contains("still waiting: STARTING (queued ")),
        "{}",
        r.all()
    );
    let line = closing_line(&r, batch);
    assert!(line.contains("last seen STARTING (queued 3s)"), "{line}");
    assert!(line.contains("still waiting for resources"), "{line}");
    // One line for the state, not one per poll as the time queued grows.
    let state_lines = r
        .stderr
        .lines()
        .filter(|l| l.ends_with(" STARTING") || l.contains(" STARTING (queued"))
        .filter(|l| !l.contains("still waiting") && !l.starts_with("job "))
        .count();
    assert_eq!(state_lines, 1, "{}", r.all());
}

/// DLI.0999 on a batch's /state is retried like any transient fault; there is no /status to
/// fall back to.
#[test]
fn a_busy_state_endpoint_is_retried_without_a_fallback() {
    let sim = Sim::start("spark.json");
    let batch = id("batch-busy");
    let r = run(sim.dli_wait().args(["--job-type", "spark", batch]));
    r.expect_code(0)
        .stderr_has(&["DLI.0999", "(7 polls, 6 retries)"]);
    assert!(!r.stderr.contains("/status"), "{}", r.all());
    // Every poll read `/state`; the ending read the details once (DLI's figures).
    let asked = sim.requests_for(batch);
    let (last, polls) = asked.split_last().expect("requests");
    assert!(
        polls.iter().all(|q| q.path.ends_with("/state")) && last.path.ends_with(batch),
        "{:?}",
        sim.requests()
    );
}

#[test]
fn run_spark_file_submits_once_prints_the_id_first_and_waits() {
    let sim = Sim::start("spark.json");
    let dir = TempDir::new("spark");
    let file = dir.path().join("transform.json");
    std::fs::write(&file, BATCH).unwrap();
    let r = run(sim.dli_wait_sub("run").arg("--spark-file").arg(&file));
    r.expect_code(0).stderr_has(&["submitted job", "SUCCESS"]);
    assert_eq!(batch_submits(&sim), 1, "{:?}", sim.requests());
    let first = r.stdout.lines().next().unwrap_or_default();
    assert!(dli_wait::dli::job_id::is_job_id(first), "{}", r.all());
    assert!(
        closing_line(&r, first).starts_with(&format!("job {first} FINISHED")),
        "{}",
        r.all()
    );
    assert!(!sim.requests_for(first).is_empty());

    // --output json: JSON lines only, the id the `submitted` event's, the summary last.
    let r = run(sim
        .dli_wait_sub("run")
        .args(["--output", "json", "--spark-file", "-"])
        .write_stdin(BATCH));
    r.expect_code(0);
    let events = r.json_lines();
    assert_eq!(events[0]["event"], "submitted", "{}", r.all());
    let id = events[0]["job_id"].as_str().unwrap_or_default().to_string();
    assert!(dli_wait::dli::job_id::is_job_id(&id), "{}", r.all());
    let summary = events.last().unwrap();
    assert_eq!(summary["jobs"][0]["job_id"], id.as_str(), "{summary}");
    assert_eq!(summary["jobs"][0]["status"], "FINISHED", "{summary}");
    assert_eq!(batch_submits(&sim), 2);
}

#[test]
fn run_spark_file_no_wait_prints_the_id_and_exits_0() {
    let sim = Sim::start("spark.json");
    let r = run(sim
        .dli_wait_sub("run")
        .args(["--no-wait", "--spark-file", "-"])
        .write_stdin(BATCH));
    r.expect_code(0);
    let batch = r.stdout.trim().to_string();
    assert!(
        dli_wait::dli::job_id::is_job_id(&batch),
        "stdout is the id alone: {}",
        r.all()
    );
    assert_eq!(batch_submits(&sim), 1);
    assert!(sim.requests_for(&batch).is_empty(), "{:?}", sim.requests());
    // Waited for later by id.
    let r = run(sim.dli_wait().args(["--job-type", "spark", "--", &batch]));
    r.expect_code(0);
}

#[test]
fn run_spark_file_that_dies_or_is_refused_exits_1_and_is_never_resubmitted() {
    let sim = Sim::start("spark.json");
    let dies = BATCH.replace("com.example.Transform", "com.example.Broken");
    let r = run(sim
        .dli_wait_sub("run")
        .args(["--spark-file", "-"])
        .write_stdin(dies));
    r.expect_code(1)
        .stderr_has(&["FAILED", "ClassNotFoundException: com.example.Broken"]);
    let refused = BATCH.replace("\"etl\"", "\"etl_missing\"");
    let r = run(sim
        .dli_wait_sub("run")
        .args(["--spark-file", "-"])
        .write_stdin(refused));
    r.expect_code(1)
        .stderr_has(&["submit failed", "DLI.0001", "etl_missing does not exist"]);
    assert_eq!(r.stdout, "", "{}", r.all());
    assert_eq!(batch_submits(&sim), 2, "{:?}", sim.requests());
}

#[test]
fn a_batch_that_is_not_one_is_refused_before_any_request() {
    let sim = Sim::start("spark.json");
    for (body, words) in [
        ("[1, 2]", "not a JSON object"),
        ("{\"file\": \"a.jar\"", "not JSON"),
        (
            r#"{"file": "a.jar", "class_name": "a.B"}"#,
            "it has no \"className\"",
        ),
        (
            r#"{"file": "a.jar", "className": "a.B", "numExecutors": "four"}"#,
            "\"numExecutors\" is a string, not an integer",
        ),
    ] {
        let r = run(sim
            .dli_wait_sub("run")
            .args(["--spark-file", "-"])
            .write_stdin(body));
        r.expect_code(2).stderr_has(&["--spark-file", words]);
        assert_eq!(r.stdout, "", "{}", r.all());
    }
    // A missing file, and a batch with SQL: usage errors too.
    let r = run(sim
        .dli_wait_sub("run")
        .args(["--spark-file", "/nonexistent/batch.json"]));
    r.expect_code(2).stderr_has(&["cannot read --spark-file"]);
    let r = run(sim
        .dli_wait_sub("run")
        .args(["--spark-file", "-", "--sql", "SELECT 1"])
        .write_stdin(BATCH));
    r.expect_code(2).stderr_has(&["--spark-file", "--sql"]);
    let r = run(sim
        .dli_wait_sub("run")
        .args(["--spark-file", "-", "--queue", "etl"])
        .write_stdin(BATCH));
    r.expect_code(2).stderr_has(&["--queue"]);
    assert!(sim.requests().is_empty(), "{:?}", sim.requests());
}
