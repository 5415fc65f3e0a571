//! User stories about what a job did and what a query returned (issue 22): "my pipeline log
//! says how long DLI ran the job, how much it scanned and how many rows it returned"; "I print
//! a query's rows as a table, CSV or JSON"; "a SELECT that returns offending rows fails my
//! pipeline (exit 6)"; "a 60-frame stack trace gives me one readable line, and the whole trace
//! where I can read it"; "re-waiting on a job that ended an hour ago says it ran for an hour".
//!
//! `tests/scenarios/results.json` holds the queries (their queue, bytes scanned, result).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{Ran, Sim, TempDir, id, run};
use std::collections::BTreeMap;

/// `dli-wait -q ARGS… JOB` against the results scenario.
fn wait(sim: &Sim, job: &str, args: &[&str]) -> Ran {
    run(sim.dli_wait().arg("-q").args(args).arg(id(job)))
}

/// The closing line of `job` on stderr.
fn closing<'a>(r: &'a Ran, job: &str) -> &'a str {
    let head = format!("job {} ", id(job));
    r.stderr
        .lines()
        .find(|l| l.starts_with(&head))
        .unwrap_or_else(|| panic!("no closing line for {job}\n{}", r.all()))
}

/// A query with 3 rows, in each format, byte for byte: CSV quotes commas, quotes and line
/// breaks (RFC 4180, CRLF records); JSON keeps the types and the columns' order; the table
/// aligns, one line per row.
#[test]
fn a_query_with_three_rows_prints_them_in_each_format() {
    let sim = Sim::start("results.json");
    let csv = wait(
        &sim,
        "query-3-rows",
        &["--results", "--result-format", "csv"],
    );
    csv.expect_code(0);
    assert_eq!(
        csv.stdout,
        "id,name,amount,ok\r\n\
         1,\"alice, smith\",3.5,true\r\n\
         2,\"say \"\"hi\"\"\",,false\r\n\
         18204,\"two\nlines\",-0.25,true\r\n",
        "{}",
        csv.all()
    );
    let json = wait(
        &sim,
        "query-3-rows",
        &["--results", "--result-format", "json"],
    );
    json.expect_code(0);
    assert_eq!(
        json.stdout,
        "{\"id\":1,\"name\":\"alice, smith\",\"amount\":3.5,\"ok\":true}\n\
         {\"id\":2,\"name\":\"say \\\"hi\\\"\",\"amount\":null,\"ok\":false}\n\
         {\"id\":18204,\"name\":\"two\\nlines\",\"amount\":-0.25,\"ok\":true}\n",
        "{}",
        json.all()
    );
    let table = wait(
        &sim,
        "query-3-rows",
        &["--results", "--result-format", "table"],
    );
    table.expect_code(0);
    assert_eq!(
        table.stdout,
        "id     name          amount  ok\n\
         -----  ------------  ------  -----\n\
         1      alice, smith  3.5     true\n\
         2      say \"hi\"              false\n\
         18204  two⏎lines     -0.25   true\n",
        "{}",
        table.all()
    );
    // The variables stand for the flags; off a terminal the default is CSV.
    let by_env = run(sim
        .dli_wait()
        .arg("-q")
        .env("DLI_WAIT_RESULTS", "true")
        .arg(id("query-3-rows")));
    by_env.expect_code(0);
    assert_eq!(by_env.stdout, csv.stdout);
    let by_env = run(sim
        .dli_wait()
        .arg("-q")
        .env("DLI_WAIT_RESULTS", "true")
        .env("DLI_WAIT_RESULT_FORMAT", "json")
        .arg(id("query-3-rows")));
    assert_eq!(by_env.stdout, json.stdout);
}

/// In JSON mode the rows are a `result` event just before the summary, one object per row.
#[test]
fn json_mode_gives_a_result_event_before_the_summary() {
    let sim = Sim::start("results.json");
    let r = wait(&sim, "query-3-rows", &["--output", "json", "--results"]);
    r.expect_code(0);
    let lines = r.json_lines();
    let n = lines.len();
    assert!(n >= 2, "{}", r.all());
    let result = &lines[n - 2];
    assert_eq!(result["event"], "result", "{}", r.all());
    assert_eq!(result["rows_shown"], 3);
    assert_eq!(result["result_rows"], 3);
    assert_eq!(result["columns"][0]["name"], "id");
    assert_eq!(result["columns"][2]["type"], "double");
    assert_eq!(result["rows"][2]["id"], 18204);
    assert_eq!(result["rows"][1]["amount"], serde_json::Value::Null);
    assert_eq!(result["rows"][0]["ok"], true);
    assert_eq!(lines[n - 1]["event"], "summary");
}

/// The figures of a FINISHED job, from DLI's `/status`, in the closing line, the JSON summary
/// (numbers, units in the names), the summary file, and the GitHub outputs.
#[test]
fn a_finished_jobs_figures_are_in_every_output() {
    let sim = Sim::start("results.json");
    let dir = TempDir::new("figures");
    let (output, summary_md, summary) = (
        dir.path().join("output"),
        dir.path().join("summary.md"),
        dir.path().join("summary.json"),
    );
    std::fs::write(&output, "").unwrap();
    std::fs::write(&summary_md, "").unwrap();
    let r = run(sim
        .dli_wait()
        .args(["--github", "--summary-file"])
        .arg(&summary)
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", &summary_md)
        .arg(id("query-3-rows")));
    r.expect_code(0);
    let line = closing(&r, "query-3-rows");
    // (" FINISHED in …", or " FINISHED before the wait began" when the machine is slow to
    // start the wait: the simulator's job runs from the simulator's start.)
    assert!(
        line.contains(" FINISHED ") && line.contains("(DLI: 200ms, 1.2 GiB scanned, 3 rows; "),
        "{line}"
    );
    let json = run(sim
        .dli_wait()
        .args(["--output", "json", id("query-3-rows")]));
    json.expect_code(0);
    for (what, s) in [
        ("stdout", json.summary()),
        (
            "--summary-file",
            serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap(),
        ),
    ] {
        let j = &s["jobs"][0];
        assert_eq!(j["bytes_scanned"], 1_288_490_189_u64, "{what}: {j}");
        assert_eq!(j["result_rows"], 3, "{what}: {j}");
        assert_eq!(j["dli_duration_ms"], 200, "{what}: {j}");
        assert_eq!(j["queue"], "etl", "{what}: {j}");
        assert_eq!(j["job_type"], "QUERY", "{what}: {j}");
        // A FINISHED job whose last answer listed no sub-job: no invented 0.
        assert!(j["tasks_total"].is_null(), "{what}: {j}");
    }
    let outputs = parse_outputs(&std::fs::read_to_string(&output).unwrap());
    assert_eq!(outputs["rows"], "3", "{outputs:?}");
    assert_eq!(outputs["result-rows"], "3", "{outputs:?}");
    assert_eq!(outputs["bytes-scanned"], "1288490189", "{outputs:?}");
    assert_eq!(outputs["dli-duration-ms"], "200", "{outputs:?}");
    let md = std::fs::read_to_string(&summary_md).unwrap();
    assert!(md.contains("DLI: 200ms, 1.2 GiB scanned, 3 rows"), "{md}");
}

/// A failed read of the figures leaves them out, says so, and changes no exit code.
#[test]
fn figures_that_cannot_be_read_are_said_missing_and_change_nothing() {
    let sim = Sim::start("results.json");
    let r = wait(&sim, "preview-fails", &["--results"]);
    r.expect_code(0);
    let line = closing(&r, "preview-fails");
    assert!(
        line.contains("DLI's figures not read: DLI.0500 (HTTP 503)"),
        "{line}"
    );
    r.stderr_has(&["its results could not be read"]);
    assert!(r.stdout.is_empty(), "{}", r.all());
}

/// "Re-waiting on a job that ended an hour ago says FINISHED in 2ms": now DLI's duration.
#[test]
fn a_job_that_ended_long_ago_reports_dlis_duration() {
    // Submitted 2 h before the simulator started, it ran for an hour.
    let sim = Sim::start("ended-long-ago.json");
    let r = run(sim.dli_wait().args(["-q", id("ended-long-ago")]));
    r.expect_code(0);
    let line = closing(&r, "ended-long-ago");
    assert!(
        line.contains("FINISHED before the wait began (DLI: 1h, 22 B scanned, 4 rows; 1 poll"),
        "{line}"
    );
    let r = run(sim
        .dli_wait()
        .args(["--output", "json", id("ended-long-ago")]));
    let j = &r.summary()["jobs"][0];
    assert_eq!(j["dli_duration_ms"], 3_600_000, "{j}");
}

/// `--fail-if-rows`: a check with 2 rows exits 6 (CHECK_FAILED) and shows them; none, 0.
#[test]
fn fail_if_rows_exits_6_with_rows_and_0_without() {
    let sim = Sim::start("results.json");
    let r = wait(&sim, "check-2-rows", &["--fail-if-rows"]);
    r.expect_code(6);
    let line = closing(&r, "check-2-rows");
    assert!(
        line.contains(" CHECK_FAILED in ")
            && line.ends_with(
                ": the check failed: the query returned 2 rows (--fail-if-rows); first: 7, -3.0; 9, -12.5"
            ),
        "{line}"
    );
    let j = run(sim
        .dli_wait()
        .args(["--output", "json", "--fail-if-rows", id("check-2-rows")]));
    j.expect_code(6);
    let s = j.summary();
    assert_eq!(s["exit_code"], 6);
    assert_eq!(s["jobs"][0]["status"], "CHECK_FAILED", "{s}");
    assert_eq!(s["jobs"][0]["result_rows"], 2, "{s}");
    // With --results, all that the preview has, too.
    let both = wait(
        &sim,
        "check-2-rows",
        &["--fail-if-rows", "--results", "--result-format", "csv"],
    );
    both.expect_code(6);
    assert_eq!(both.stdout, "order_id,amount\r\n7,-3.0\r\n9,-12.5\r\n");
    let none = wait(&sim, "check-0-rows", &["--fail-if-rows"]);
    none.expect_code(0);
    let by_env = run(sim
        .dli_wait()
        .arg("-q")
        .env("DLI_WAIT_FAIL_IF_ROWS", "true")
        .arg(id("check-2-rows")));
    by_env.expect_code(6);
    // Several jobs: a failed check (6) ranks after a failure (1), before a finish (0).
    let r = run(sim.dli_wait().args([
        "-q",
        "--fail-if-rows",
        id("check-0-rows"),
        id("check-2-rows"),
    ]));
    r.expect_code(6);
    let r = run(sim.dli_wait().args([
        "-q",
        "--fail-if-rows",
        id("check-2-rows"),
        id("long-reason"),
    ]));
    r.expect_code(1);
}

/// A check that could not be made in time is never a pass: /status answering 30 s late
/// leaves the preview its share of the ending's budget (the row is found: 6), and with the
/// preview late too the check is undecided: exit 2, saying so, never 0.
#[test]
fn a_check_that_cannot_be_made_in_time_exits_2_never_0() {
    let sim = Sim::start("results.json");
    let r = wait(&sim, "check-status-slow", &["--fail-if-rows"]);
    r.expect_code(6);
    let r = wait(&sim, "check-all-slow", &["--fail-if-rows"]);
    r.expect_code(2);
    assert!(
        closing(&r, "check-all-slow").contains(
            "the check could not be made: DLI's figures and result did not answer in time"
        ),
        "{}",
        r.all()
    );
}

/// `--fail-if-rows` and `--results` need the job's end: with `run --no-wait` or
/// `--until running` they are refused at once (exit 2, one line naming why), nothing sent.
#[test]
fn a_result_asked_for_without_waiting_for_the_end_is_refused() {
    let sim = Sim::start("results.json");
    let before = sim.requests().len();
    for (flag, without) in [("--fail-if-rows", "--no-wait"), ("--results", "--no-wait")] {
        let r = run(sim.dli_wait_sub("run").args([
            flag,
            without,
            "--queue",
            "etl",
            "--sql",
            "SELECT id FROM t WHERE amount < 0",
        ]));
        r.expect_code(2);
        r.stderr_has(&[&format!("{flag} needs the job to end: not with {without}")]);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.all());
    }
    for sub in [None, Some("run")] {
        let mut cmd = match sub {
            Some(s) => sim.dli_wait_sub(s),
            None => sim.dli_wait(),
        };
        cmd.args(["--fail-if-rows", "--until", "running"]);
        match sub {
            Some(_) => cmd.args(["--queue", "etl", "--sql", "SELECT 1"]),
            None => cmd.arg(id("check-2-rows")),
        };
        let r = run(&mut cmd);
        r.expect_code(2);
        r.stderr_has(&["--fail-if-rows needs the job to end: not with --until running"]);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.all());
    }
    assert_eq!(sim.requests().len(), before, "a request was sent");
}

/// The simulator's unscripted query: `/status` counts the rows `/preview` serves.
#[test]
fn an_unscripted_query_serves_the_rows_it_counts() {
    let sim = Sim::start("results.json");
    let r = wait(
        &sim,
        "no-scripted-result",
        &["--results", "--result-format", "csv"],
    );
    r.expect_code(0);
    assert!(
        closing(&r, "no-scripted-result").contains(", 4 rows;"),
        "{}",
        r.all()
    );
    assert_eq!(r.stdout, "id\r\n1\r\n2\r\n3\r\n4\r\n", "{}", r.all());
}

/// The default queue: DLI refuses its results. `--results` says so in one line naming the
/// cause and the fix; `--fail-if-rows` cannot check (exit 2), and `run` knows it before the
/// submit. A check of a Spark batch is refused at once.
#[test]
fn the_default_queue_is_one_clear_line_and_a_check_there_is_refused() {
    let sim = Sim::start("results.json");
    let r = wait(&sim, "on-default-queue", &["--results"]);
    r.expect_code(0);
    let said: Vec<&str> = r.stderr.lines().filter(|l| l.contains("default")).collect();
    assert_eq!(said.len(), 1, "{}", r.all());
    assert!(
        said[0].contains("ran on DLI's `default` queue")
            && said[0].contains("Do not support use default queue to getJobResult")
            && said[0].ends_with("run it on a queue of your own (--queue NAME)"),
        "{}",
        said[0]
    );
    assert!(r.stdout.is_empty(), "{}", r.all());
    // The simulator refused it as DLI does, or was not asked: never a preview served.
    let r = wait(&sim, "on-default-queue", &["--fail-if-rows"]);
    r.expect_code(2);
    assert!(
        closing(&r, "on-default-queue")
            .contains("run the query on a queue of your own (--queue NAME)"),
        "{}",
        r.all()
    );
    // `run` on the default queue: refused before anything is sent.
    let before = sim.requests().len();
    for queue in [None, Some("default")] {
        let mut cmd = sim.dli_wait_sub("run");
        cmd.args([
            "--fail-if-rows",
            "--sql",
            "SELECT id FROM t WHERE amount < 0",
        ]);
        if let Some(q) = queue {
            cmd.args(["--queue", q]);
        }
        let r = run(&mut cmd);
        r.expect_code(2);
        r.stderr_has(&[
            "--fail-if-rows needs the query's result",
            "nothing was submitted",
        ]);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.all());
    }
    assert_eq!(sim.requests().len(), before, "a request was sent");
    let r = run(sim.dli_wait().args([
        "--job-type",
        "spark",
        "--fail-if-rows",
        "5e1f0000-0000-4000-8000-000000000001",
    ]));
    r.expect_code(2);
    r.stderr_has(&["read a SQL query's result"]);
}

/// A `run` on a queue of its own: the check runs after the submit, and the rows are shown.
#[test]
fn run_with_a_queue_of_its_own_checks_and_shows_rows() {
    let sim = Sim::start("results.json");
    let r = run(sim.dli_wait_sub("run").args([
        "-q",
        "--queue",
        "etl",
        "--results",
        "--result-format",
        "json",
        "--sql",
        "INSERT INTO t SELECT 1",
    ]));
    r.expect_code(0);
    // The id first; a submitted job without a scripted result has 4 rows but no columns.
    let mut lines = r.stdout.lines();
    assert!(lines.next().is_some_and(|l| l.len() == 36), "{}", r.all());
    assert_eq!(lines.next(), None, "{}", r.all());
    r.stderr_has(&["has no result to show"]);
    // An INSERT's result_count is the rows it wrote: no check to make of them.
    let r = run(sim.dli_wait_sub("run").args([
        "-q",
        "--queue",
        "etl",
        "--fail-if-rows",
        "--sql",
        "INSERT INTO t SELECT 1",
    ]));
    r.expect_code(2);
    r.stderr_has(&["the check needs a query that returns the offending rows (a SELECT); DLI ran this job as INSERT"]);
}

/// A result longer than the preview says how many of how many rows are shown.
#[test]
fn fewer_rows_shown_than_the_result_has_are_said() {
    let sim = Sim::start("results.json");
    let r = wait(&sim, "many-rows", &["--results", "--result-format", "csv"]);
    r.expect_code(0);
    assert_eq!(r.stdout, "n\r\n1\r\n2\r\n");
    r.stderr_has(&["2 of 5,000 rows shown (DLI's preview gives the first 1000 at most)"]);
    let r = wait(&sim, "insert-no-result", &["--results"]);
    r.expect_code(0);
    assert!(r.stdout.is_empty(), "{}", r.all());
    r.stderr_has(&["has no result to show"]);
}

/// Characters that may not reach a terminal or log raw (line feeds excepted).
fn raw_control(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\r')
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Hostile cell text (workflow commands, escapes, `|`, `<img>`) is inert in every output:
/// each format on stdout, the JSON event, the step summary's table, the outputs.
#[test]
fn hostile_cells_are_inert_in_every_output() {
    let sim = Sim::start("results.json");
    let mut seen = Vec::new();
    for format in ["table", "csv", "json"] {
        let r = wait(
            &sim,
            "hostile-cells",
            &["--results", "--result-format", format],
        );
        r.expect_code(0);
        seen.push((format.to_string(), r.stdout.clone()));
    }
    let r = wait(&sim, "hostile-cells", &["--output", "json", "--results"]);
    seen.push(("json events".into(), r.stdout.clone()));
    for (what, text) in &seen {
        assert!(!text.is_empty(), "{what}: nothing printed");
        for line in text.split(['\n', '\r']) {
            let t = line.trim_start().trim_start_matches('"');
            assert!(!t.starts_with("::"), "{what}: a workflow command: {line:?}");
            assert!(
                !line.contains("##["),
                "{what}: an old-style command: {line:?}"
            );
        }
        assert!(
            !text.chars().any(raw_control),
            "{what}: a raw control: {text:?}"
        );
    }
    // The JSON forms keep the text as data: it reads back as it was.
    let event = r
        .json_lines()
        .into_iter()
        .find(|l| l["event"] == "result")
        .unwrap();
    assert_eq!(event["rows"][0]["::error::col"], "::error title=x::pwned");
    // The step summary: the table keeps its columns, no HTML of DLI's.
    let dir = TempDir::new("hostile-cells");
    let md_path = dir.path().join("summary.md");
    std::fs::write(&md_path, "").unwrap();
    let g = run(sim
        .dli_wait()
        .args(["-q", "--github", "--results"])
        .env("GITHUB_STEP_SUMMARY", &md_path)
        .arg(id("hostile-cells")));
    g.expect_code(0);
    let md = std::fs::read_to_string(&md_path).unwrap();
    assert!(!md.contains("<img") && md.contains("&lt;img"), "{md}");
    let rows: Vec<&str> = md
        .lines()
        .skip_while(|l| !l.starts_with("**Result of"))
        .filter(|l| l.starts_with("| "))
        .collect();
    assert_eq!(rows.len(), 3, "{md}");
    for row in rows {
        assert_eq!(unescaped_pipes(row), 3, "{row}");
    }
    for line in g.stderr.lines() {
        let t = line.trim_start();
        assert!(
            !t.starts_with("::") || t.starts_with("::group::") || t.starts_with("::endgroup::"),
            "{line}"
        );
    }
    // As a failed check: the rows in the closing line, our annotation and the `message`
    // output, each inert.
    let out_path = dir.path().join("output");
    std::fs::write(&out_path, "").unwrap();
    let c = run(sim
        .dli_wait()
        .args(["-q", "--github", "--fail-if-rows"])
        .env("GITHUB_OUTPUT", &out_path)
        .arg(id("hostile-cells")));
    c.expect_code(6);
    let ours = [
        "::group::",
        "::endgroup::",
        &format!(
            "::error title=DLI job {} CHECK_FAILED::",
            id("hostile-cells")
        ),
    ];
    for line in c.stderr.lines() {
        let t = line.trim_start();
        assert!(
            !t.starts_with("::") || ours.iter().any(|o| t.starts_with(o)),
            "a command that is not ours: {line}\n{}",
            c.all()
        );
        assert!(!line.contains("##["), "{line}");
        assert!(!line.chars().any(raw_control), "{line:?}");
    }
    let annotation = c
        .stderr
        .lines()
        .find(|l| l.starts_with(ours[2]))
        .unwrap_or_else(|| panic!("no annotation\n{}", c.all()));
    // One command, ours: a cell's line break is escaped data, and the command after it inert.
    assert!(
        annotation.contains("%0A\\::warning::second line"),
        "{annotation}"
    );
    let outputs = parse_outputs(&std::fs::read_to_string(&out_path).unwrap());
    let message = &outputs["message"];
    assert!(message.contains("the query returned 2 rows"), "{message}");
    for line in message.lines() {
        assert!(
            !line.trim_start().starts_with("::") && !line.contains("##["),
            "{line}"
        );
        assert!(!line.chars().any(raw_control), "{line:?}");
    }
}

/// A 60-frame stack trace as DLI's reason: the closing line and the annotation carry the
/// exception (not the frames) under 300 characters; JSON, the summary file, the `message`
/// output and a collapsed <details> in the step summary carry all of it.
#[test]
fn a_sixty_frame_reason_gives_a_short_closing_line_and_the_whole_trace_elsewhere() {
    let sim = Sim::start("results.json");
    let dir = TempDir::new("long-reason");
    let (output, md_path, summary) = (
        dir.path().join("output"),
        dir.path().join("summary.md"),
        dir.path().join("summary.json"),
    );
    std::fs::write(&output, "").unwrap();
    std::fs::write(&md_path, "").unwrap();
    let r = run(sim
        .dli_wait()
        .args(["--github", "--summary-file"])
        .arg(&summary)
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", &md_path)
        .arg(id("long-reason")));
    r.expect_code(1);
    let line = closing(&r, "long-reason");
    assert!(
        line.chars().count() < 300,
        "{} chars: {line}",
        line.chars().count()
    );
    assert!(
        line.contains("AnalysisException: Table or view not found: sales.orders_tmp")
            && line.ends_with(" [+60 lines]")
            && !line.contains("failAnalysis"),
        "{line}"
    );
    let annotation = r
        .stderr
        .lines()
        .find(|l| l.starts_with("::error "))
        .unwrap_or_else(|| panic!("no annotation\n{}", r.all()));
    assert!(annotation.len() < 400, "{annotation}");
    assert!(annotation.ends_with("[+60 lines]"), "{annotation}");
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    let message = s["jobs"][0]["message"].as_str().unwrap();
    assert_eq!(message.lines().count(), 61, "{message}");
    let outputs = parse_outputs(&std::fs::read_to_string(&output).unwrap());
    assert_eq!(outputs["message"].lines().count(), 61, "{outputs:?}");
    let md = std::fs::read_to_string(&md_path).unwrap();
    assert!(
        md.contains("<details><summary>DLI's whole reason</summary>"),
        "{md}"
    );
    assert!(md.contains("failAnalysis59(package.scala:101)"), "{md}");
}

/// The runner's `name<<DELIM … DELIM` output file, read back.
fn parse_outputs(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.split('\n');
    while let Some(line) = lines.next() {
        let Some((name, delim)) = line.split_once("<<") else {
            continue;
        };
        let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delim).collect();
        out.insert(name.to_string(), value.join("\n"));
    }
    out
}

/// The `|` of a Markdown line that are not escaped.
fn unescaped_pipes(line: &str) -> usize {
    let mut n = 0;
    let mut escaped = false;
    for c in line.chars() {
        match c {
            '\\' if !escaped => escaped = true,
            '|' if !escaped => n += 1,
            _ => escaped = false,
        }
    }
    n
}

/// "A hostile preview cannot eat my runner": one row of 2,000,000 columns (a 4 MB answer,
/// under the 4 MiB cap) cost some 430 MB of memory and 5 s when every column was kept; now the first
/// 1,000 are kept (README's bound), the rest counted and said, and the check still counts the
/// row. Peak RSS read from `/proc`.
#[cfg(target_os = "linux")]
#[test]
fn a_preview_two_million_columns_wide_keeps_a_thousand_in_bounded_memory() {
    use common::hostile::{Behaviour, Hostile};
    const COLUMNS: usize = 2_000_000;
    const JOB: &str = "5e1f0000-0000-4000-8000-0000000000aa";
    let preview = {
        let mut b = String::with_capacity(2 * COLUMNS + 100);
        b.push_str(r#"{"is_success":true,"message":"","row_count":1,"schema":[],"rows":[["#);
        b.push_str(&vec!["0"; COLUMNS].join(","));
        b.push_str("]]}");
        b
    };
    assert!(
        preview.len() < 4 << 20,
        "over the body cap: {}",
        preview.len()
    );
    let h = Hostile::start(Behaviour::script(move |req| {
        let body = if req
            .path
            .split('?')
            .next()
            .unwrap_or("")
            .ends_with("/preview")
        {
            preview.clone()
        } else {
            serde_json::json!({
                "is_success": true, "message": "", "job_id": JOB, "status": "FINISHED",
                "job_type": "QUERY", "queue_name": "etl", "result_count": 1, "sub_jobs": [],
            })
            .to_string()
        };
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }));
    let mut cmd = h.dli_wait_std();
    cmd.args([
        "-q",
        "--fail-if-rows",
        "--results",
        "--result-format",
        "csv",
        JOB,
    ]);
    let (r, peak_kb, took) = common::run_measuring_memory(cmd, std::time::Duration::from_secs(60));
    eprintln!("2,000,000 columns: peak RSS {peak_kb} kB, {took:?}");
    // The process, its 4 MiB answer being read, and 1,000 cells (it was some 430 MB).
    assert!(peak_kb < 64 * 1024, "peak RSS {peak_kb} kB");
    r.expect_code(6);
    let header = r.stdout.lines().next().unwrap_or_default();
    let start: String = header.chars().take(100).collect();
    assert_eq!(header.split(',').count(), 1000, "{start}…");
    r.stderr_has(&["the first 1,000 of 2,000,000 columns shown (dli-wait keeps 1,000 at most)"]);
}
