//! User stories about setting dli-wait up: "when I get the usage or the configuration wrong,
//! the step fails with exit 2 and one line that tells me what to fix; and nothing is sent".

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{Ran, Sim, bare, id, run};

/// A well-formed job id, for tests that fail before any request.
const JOB: &str = "85798b38-ae44-48eb-bb90-7cf0dcdafe7b";

/// A complete, valid configuration pointing at a port where nothing listens: so that the only
/// thing wrong in each test is the thing under test.
fn configured() -> assert_cmd::Command {
    let mut cmd = bare();
    cmd.env("DLI_ENDPOINT", "http://127.0.0.1:9")
        .env(
            "HUAWEICLOUD_SDK_PROJECT_ID",
            "0123456789abcdef0123456789abcdef",
        )
        .env("HUAWEICLOUD_SDK_AK", "SOMEAK")
        .env("HUAWEICLOUD_SDK_SK", "SOMESK");
    cmd
}

/// The `error:` lines on stderr.
fn error_lines(r: &Ran) -> Vec<&str> {
    r.stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect()
}

#[test]
fn no_job_id_exits_2_and_says_how_to_call_it() {
    let r = run(&mut configured());
    r.expect_code(2).stderr_has(&["no job id", "dli-wait demo"]);
    // Nothing set at all: still the job id is what is reported first.
    run(&mut bare()).expect_code(2).stderr_has(&["no job id"]);
}

#[test]
fn nothing_set_exits_2_with_one_line_naming_every_variable() {
    let r = run(bare().arg("85798b38-ae44-48eb-bb90-7cf0dcdafe7b"));
    r.expect_code(2).stderr_has(&[
        "HUAWEICLOUD_SDK_AK",
        "HUAWEICLOUD_SDK_PROJECT_ID",
        "HUAWEICLOUD_SDK_REGION",
    ]);
    let lines: Vec<&str> = r.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line\n{}", r.all());
}

#[test]
fn half_a_key_pair_exits_2_naming_the_missing_half() {
    let r = run(configured().env_remove("HUAWEICLOUD_SDK_SK").arg(JOB));
    r.expect_code(2).stderr_has(&["HUAWEICLOUD_SDK_SK"]);
    assert_eq!(error_lines(&r).len(), 1, "{}", r.all());
}

#[test]
fn bad_duration_exits_2_and_shows_what_a_duration_looks_like() {
    let r = run(configured().args(["--timeout", "soon", JOB]));
    r.expect_code(2).stderr_has(&["--timeout", "soon", "90s"]);
    let r = run(configured().args(["--poll-interval", "0s", JOB]));
    r.expect_code(2).stderr_has(&["--poll-interval"]);
}

/// Plain http:// would send signed requests (and tokens) in the clear: only to loopback.
#[test]
fn plain_http_endpoint_off_loopback_exits_2() {
    let r = run(configured().args(["--endpoint", "http://example.com", JOB]));
    r.expect_code(2)
        .stderr_has(&["http://example.com", "loopback", "https://"]);
    assert_eq!(error_lines(&r).len(), 1, "{}", r.all());
    // The same from the environment.
    let r = run(configured()
        .env("DLI_ENDPOINT", "http://example.com")
        .arg(JOB));
    r.expect_code(2).stderr_has(&["loopback"]);
}

#[test]
fn unknown_cancel_on_value_exits_2() {
    let r = run(configured().args(["--cancel-on", "never", JOB]));
    r.expect_code(2).stderr_has(&["--cancel-on", "never"]);
}

/// A usage mistake is caught before anything is sent to DLI.
#[test]
fn usage_errors_send_nothing() {
    let sim = Sim::start("endings.json");
    run(sim
        .dli_wait()
        .args(["--timeout", "soon", id("job-finishes")]))
    .expect_code(2);
    run(sim
        .dli_wait()
        .args(["--cancel-on", "sometimes", id("job-finishes")]))
    .expect_code(2);
    run(sim
        .dli_wait()
        .env_remove("HUAWEICLOUD_SDK_AK")
        .arg(id("job-finishes")))
    .expect_code(2);
    assert_eq!(sim.requests(), Vec::new());
}

/// DLI's job ids are UUIDs: anything else is a usage error before any request, however it
/// got there (an empty variable, a path, a newline, a mistyped command, 100,000 characters).
#[test]
fn words_that_are_not_job_ids_exit_2_and_send_nothing() {
    let sim = Sim::start("endings.json");
    let long = "a".repeat(100_000);
    for (word, says) in [
        ("", "empty"),
        (".", "UUID"),
        ("..", "UUID"),
        ("job-1/../../x", "UUID"),
        (
            "85798b38-ae44-48eb-bb90-7cf0dcdafe7b\n::warning::x",
            "control character",
        ),
        (long.as_str(), "longer than a job id"),
        ("simualte", "dli-wait simulate"),
    ] {
        let r = run(sim.dli_wait().arg("--").arg(word));
        r.expect_code(2).stderr_has(&["not a job id", says]);
        assert_eq!(r.stderr.lines().count(), 1, "one line: {}", r.all());
        assert!(
            r.stderr.len() < 400,
            "the word is not echoed whole: {}",
            r.stderr.len()
        );
    }
    assert_eq!(sim.requests(), Vec::new());
}

/// `--help` documents the exit codes (a pipeline author looks there first).
#[test]
fn help_lists_the_exit_codes() {
    let out = run(bare().arg("--help"));
    out.expect_code(0);
    for w in [
        "Exit status",
        "124",
        "143",
        "--cancel-on",
        "--stall-timeout",
    ] {
        assert!(out.stdout.contains(w), "--help lacks {w:?}\n{}", out.all());
    }
}

/// Shell completions and the man page come from the binary itself, for every shell it names.
#[test]
fn completions_and_the_man_page_are_printed() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let r = run(bare().args(["completions", shell]));
        r.expect_code(0);
        assert!(
            r.stdout.contains("dli-wait") && r.stdout.contains("--stall-timeout"),
            "{shell}: {}",
            r.all()
        );
    }
    let r = run(bare().arg("man"));
    r.expect_code(0);
    assert!(
        r.stdout.starts_with(".ie") || r.stdout.contains(".TH dli-wait 1"),
        "{}",
        r.all()
    );
    assert!(
        r.stdout.contains("run") && r.stdout.contains("simulate"),
        "{}",
        r.all()
    );
    run(bare().args(["completions", "nosh"])).expect_code(2);
}

/// Each command's `--help` speaks of what that command does: `simulate` does not list the
/// waiter's output modes or `-q`, and `--poll-interval` does not promise exponential growth
/// (the default policy is `eta`).
#[test]
fn help_texts_say_what_applies() {
    let sim_help = run(bare().args(["simulate", "--help"]));
    sim_help.expect_code(0);
    for absent in [
        "--quiet",
        "Progress for people",
        "the last line is the summary",
    ] {
        assert!(
            !sim_help.stdout.contains(absent),
            "{absent}: {}",
            sim_help.stdout
        );
    }
    let help = run(bare().arg("--help"));
    let poll = help
        .stdout
        .split("--poll-interval <DURATION>")
        .nth(1)
        .and_then(|t| t.split("--max-poll-interval <DURATION>").next())
        .unwrap_or_default()
        .to_string();
    assert!(!poll.contains("exponentially"), "{poll}");
    assert!(poll.contains("--poll-policy"), "{poll}");
}

/// A project id that is not one path segment of IAM's characters (`..`, `.`, `/`, `?`, `#`,
/// `%`, white space) is refused with one line, from the flag, the environment or the
/// credentials file alike, and nothing is sent: it would rewrite every request's path.
#[test]
fn a_project_id_that_would_rewrite_the_path_exits_2_and_nothing_is_sent() {
    let sim = Sim::start("submit.json");
    let dir = common::TempDir::new("bad-project");
    for bad in [
        "..", ".", "../v2.0", "a/b", "x?y=1", "x#y", "%2e%2e", "a b", "x\ty",
    ] {
        let flag = run(sim.dli_wait().args(["--project-id", bad, JOB]));
        let env = run(sim
            .dli_wait()
            .env("HUAWEICLOUD_SDK_PROJECT_ID", bad)
            .arg(JOB));
        let file = dir.path().join("credentials");
        std::fs::write(
            &file,
            format!(
                "[basic]\nak = {}\nsk = {}\nproject_id = {bad}\n",
                sim.ak, sim.sk
            ),
        )
        .unwrap();
        let from_file = run(sim
            .dli_wait_without_credentials()
            .env_remove("HUAWEICLOUD_SDK_PROJECT_ID")
            .env("HUAWEICLOUD_SDK_CREDENTIALS_FILE", &file)
            .arg(JOB));
        for (r, source) in [
            (&flag, "HUAWEICLOUD_SDK_PROJECT_ID (or --project-id)"),
            (&env, "HUAWEICLOUD_SDK_PROJECT_ID (or --project-id)"),
            (&from_file, "the credentials file's project_id"),
        ] {
            r.expect_code(2).stderr_has(&["bad project id", source]);
            assert_eq!(error_lines(r).len(), 1, "{bad:?}\n{}", r.all());
        }
    }
    let sent = sim.requests();
    assert!(sent.is_empty(), "requests were sent: {sent:?}");
}

/// Every file dli-wait reads has a size limit (README "Limits"): a file past it, or a device
/// that never ends, is a configuration error naming the file and its limit, at once; and
/// nothing is sent to DLI.
#[test]
fn files_past_their_size_limit_exit_2_naming_the_file_and_the_limit() {
    let sim = Sim::start("submit.json");
    let dir = common::TempDir::new("big-files");
    let big_sql = dir.path().join("big.sql");
    let mut sql = b"SELECT 1; -- ".to_vec();
    sql.resize(2 * 1024 * 1024 + 1, b'x');
    std::fs::write(&big_sql, &sql).unwrap();
    let big_sql = big_sql.display().to_string();
    let cases: Vec<(Ran, &[&str])> = vec![
        (
            run(sim.dli_wait_sub("run").args(["--sql-file", &big_sql])),
            &["--sql-file", "big.sql", "larger than 2 MiB"],
        ),
        (
            run(sim
                .dli_wait_sub("run")
                .args(["--sql-file", "-"])
                .write_stdin(sql.clone())),
            &["stdin", "larger than 2 MiB"],
        ),
        (
            run(sim.dli_wait_sub("run").args(["--spark-file", "/dev/zero"])),
            &["--spark-file", "/dev/zero", "larger than 1 MiB"],
        ),
        (
            run(sim
                .dli_wait_without_credentials()
                .env("HUAWEICLOUD_SDK_CREDENTIALS_FILE", "/dev/zero")
                .arg(JOB)),
            &["/dev/zero", "larger than 64 KiB"],
        ),
        (
            run(sim
                .dli_wait_without_credentials()
                .env("HUAWEICLOUD_SDK_IDP_ID", "simulator-idp")
                .env("HUAWEICLOUD_SDK_ID_TOKEN_FILE", "/dev/zero")
                .env("HUAWEICLOUD_SDK_IAM_ENDPOINT", &sim.endpoint)
                .arg(JOB)),
            &["ID token file /dev/zero", "larger than 64 KiB"],
        ),
        (
            run(sim.dli_wait().env("SSL_CERT_FILE", "/dev/zero").arg(JOB)),
            &["SSL_CERT_FILE", "/dev/zero", "larger than 16 MiB"],
        ),
    ];
    for (r, words) in &cases {
        r.expect_code(2).stderr_has(words);
        assert_eq!(error_lines(r).len(), 1, "{}", r.all());
    }
    let sent: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|q| q.path.starts_with("/v"))
        .collect();
    assert!(sent.is_empty(), "sent to DLI: {sent:?}");
}

/// A FIFO nobody writes to, given as a file to read, does not hang the run: it reads as
/// empty at once (the SQL is empty); as SSL_CERT_FILE, which the TLS library reads again,
/// only a regular file is taken.
#[cfg(unix)]
#[test]
fn a_fifo_without_a_writer_ends_at_once() {
    let sim = Sim::start("submit.json");
    let dir = common::TempDir::new("fifo");
    let fifo = dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let started = std::time::Instant::now();
    let r = run(sim.dli_wait_sub("run").arg("--sql-file").arg(&fifo));
    r.expect_code(2).stderr_has(&["the SQL is empty"]);
    let r = run(sim.dli_wait_sub("run").arg("--spark-file").arg(&fifo));
    r.expect_code(2).stderr_has(&["--spark-file"]);
    let r = run(sim.dli_wait().env("SSL_CERT_FILE", &fifo).arg(JOB));
    r.expect_code(2)
        .stderr_has(&["SSL_CERT_FILE", "not a regular file"]);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}

/// `--help`, the man pages and completions name the variables and never show their values: a
/// value can hold a secret (a `--conf` key, credentials in an endpoint) or text that would
/// become a workflow command or a line of its own.
#[test]
fn help_never_shows_a_variables_value() {
    let secret = "S3CR3T-in-a-conf-value";
    for args in [
        &["--help"][..],
        &["run", "--help"],
        &["check", "--help"],
        &["man", "run"],
        &["man"],
        &["completions", "bash"],
    ] {
        let out = run(bare()
            .args(args)
            .env(
                "DLI_WAIT_CONF",
                format!("spark.hadoop.fs.obs.secret.key={secret}"),
            )
            .env("DLI_ENDPOINT", format!("http://user:{secret}@127.0.0.1:9"))
            .env("DLI_WAIT_QUEUE", "etl\n::error::injected"));
        out.expect_code(0);
        let all = out.all();
        assert!(!all.contains(secret), "{args:?} shows a value: {all}");
        assert!(!all.contains("::error::injected"), "{args:?}: {all}");
    }
    let help = run(bare().args(["run", "--help"]).env("DLI_WAIT_CONF", "a=b"));
    assert!(help.stdout.contains("DLI_WAIT_CONF"), "{}", help.all());
}
