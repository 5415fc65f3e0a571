//! Issue 24's user stories, as the three users of it did them (a cron job, a GitHub
//! workflow, a shell gate): every option from the environment, stdout as the mode promises,
//! `--fail-fast` that cancels only when told, global flags anywhere, full ids, a submit that
//! was never sent said as one, and README's samples as the commands print them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{Sim, run};

/// A cron wrapper sets the wait's limits in the environment; a flag on the command line wins
/// over its variable (also over one it conflicts with); an empty variable is unset; a bad one
/// is named in the one-line error.
#[test]
fn every_option_comes_from_the_environment_and_flags_win() {
    let sim = Sim::start("submit.json");
    let sql = "INSERT INTO sales.daily SELECT * FROM sales.raw";
    // From the environment: JSON on stdout, the SQL itself.
    let r = run(sim
        .dli_wait_sub("run")
        .env("DLI_WAIT_OUTPUT", "json")
        .env("DLI_WAIT_SQL", sql)
        .env("DLI_WAIT_TIMEOUT", ""));
    r.expect_code(0);
    assert_eq!(r.summary()["exit_code"], 0, "{}", r.all());
    // The flag wins: human mode, and --sql-file beats DLI_WAIT_SQL instead of conflicting.
    let r = run(sim
        .dli_wait_sub("run")
        .env("DLI_WAIT_OUTPUT", "json")
        .env("DLI_WAIT_SQL", "SELEC nonsense")
        .args(["--output", "human", "--sql-file", "-"])
        .write_stdin(sql));
    r.expect_code(0).stderr_has(&["FINISHED"]);
    assert!(!r.stdout.contains('{'), "{}", r.all());
    // Boolean flags take the usual words.
    let r = run(sim
        .dli_wait_sub("run")
        .env("DLI_WAIT_NO_WAIT", "yes")
        .args(["--sql", sql]));
    r.expect_code(0);
    assert!(!r.stderr.contains("FINISHED"), "{}", r.all());
    // A bad value says where it came from.
    let r = run(sim
        .dli_wait()
        .env("DLI_WAIT_TIMEOUT", "soon")
        .arg(common::id("x")));
    r.expect_code(2)
        .stderr_has(&["invalid value 'soon' for '--timeout <DURATION>' (from DLI_WAIT_TIMEOUT)"]);
    let r = run(sim
        .dli_wait()
        .env("DLI_WAIT_FAIL_FAST", "maybe")
        .arg(common::id("x")));
    r.expect_code(2).stderr_has(&["(from DLI_WAIT_FAIL_FAST)"]);
}

/// `dli-wait run` against `endpoint` with made-up credentials and `args` after `run`.
fn run_against(endpoint: &str, args: &[&str]) -> common::Ran {
    run(common::bare()
        .env("DLI_ENDPOINT", endpoint)
        .env(
            "HUAWEICLOUD_SDK_PROJECT_ID",
            "0123456789abcdef0123456789abcdef",
        )
        .env("HUAWEICLOUD_SDK_AK", "SUBMITTESTAK")
        .env("HUAWEICLOUD_SDK_SK", "SUBMITTESTSK")
        .arg("run")
        .args(["--request-timeout", "2s", "--sql", "INSERT INTO t SELECT 1"])
        .args(args))
}

/// A submit that never left the machine (a refused port, a host that does not resolve) is
/// tried again within `--unreachable-timeout`, then ends with exit 2 saying no job was
/// created, and why: not the "may have been created" of a submit that was sent.
#[test]
fn a_submit_that_was_never_sent_says_no_job_was_created() {
    // A port nothing listens on: bind one, then close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let refused = format!("http://127.0.0.1:{port}");
    let r = run_against(&refused, &["--unreachable-timeout", "1s"]);
    r.expect_code(2).stderr_has(&[
        &format!("error: submit not sent: 127.0.0.1:{port} refused the connection"),
        "(no job was created, tried for 1s (--unreachable-timeout))",
    ]);
    r.never_shows("may or may not have been created");
    let r = run_against(
        "https://nonexistent.invalid",
        &["--unreachable-timeout", "500ms", "--output", "json"],
    );
    r.expect_code(2).stderr_has(&[
        "error: submit not sent: cannot resolve nonexistent.invalid (DNS)",
        "no job was created",
    ]);
    r.never_shows("may or may not have been created");
}

/// A TLS certificate this machine does not trust fails the handshake: nothing was sent, and
/// no retry mends it, so exit 2 at once, saying so.
#[test]
fn a_submit_refused_by_tls_trust_was_never_sent() {
    use common::hostile::Behaviour;
    let h = common::tls::serve_tls(Behaviour::Body("{}".into()), common::tls::self_signed());
    let start = std::time::Instant::now();
    let r = run_against(&h.endpoint, &[]);
    r.expect_code(2).stderr_has(&[
        "error: submit not sent:",
        "not trusted",
        "(no job was created)",
    ]);
    assert!(start.elapsed() < std::time::Duration::from_secs(10));
    assert!(h.requests().is_empty());
}

/// A connection that breaks after the request was written may have created the job: exit 1,
/// not retried, the careful words kept.
#[test]
fn a_submit_lost_after_it_was_sent_keeps_the_careful_words() {
    use common::hostile::{Behaviour, Hostile};
    let h = Hostile::start(Behaviour::script(|_| Vec::new()));
    let r = run_against(&h.endpoint, &[]);
    r.expect_code(1).stderr_has(&[
        "submit failed:",
        "not retried: the job may or may not have been created; check DLI's job list before submitting again",
    ]);
    assert_eq!(h.requests().len(), 1, "sent once, never again");
}

/// Several jobs: every progress line and the closing summary name each job by its full id,
/// so ids with a common prefix never read alike, and `grep "$ID"` finds all of its lines.
#[test]
fn several_jobs_are_named_by_their_full_ids() {
    let sim = Sim::start("endings.json");
    let (a, b) = (common::id("job-finishes"), common::id("job-fails"));
    let r = run(sim.dli_wait().args([a, b]));
    r.expect_code(1);
    let progress: Vec<&str> = r.stderr.lines().filter(|l| l.contains(" job ")).collect();
    assert!(progress.len() >= 4, "{}", r.all());
    for line in &progress {
        assert!(line.contains(a) || line.contains(b), "{line}\n{}", r.all());
    }
    assert!(!r.stderr.contains('…'), "{}", r.all());
    r.stderr_has(&[&format!("2 jobs: {a} FINISHED, {b} FAILED; exit 1")]);
}

/// Options before the command work as after it (`dli-wait -q run --sql …`); an option the
/// command does not take is refused in one line naming it and the commands that take it;
/// every hint printed is itself a command that works.
#[test]
fn options_go_before_or_after_the_command() {
    let sim = Sim::start("submit.json");
    // Sim::dli_wait puts the fast timing flags first; `run` comes after them.
    let r = run(sim
        .dli_wait()
        .args(["-q", "run", "--sql", "INSERT INTO t SELECT 1"]));
    r.expect_code(0);
    assert!(
        dli_wait::dli::job_id::is_job_id(r.stdout.lines().next().unwrap_or_default()),
        "{}",
        r.all()
    );
    let r = run(common::bare().args(["--timeout", "1h", "check"]));
    r.expect_code(2);
    assert_eq!(
        r.stderr.trim_end(),
        "error: --timeout does not apply to `dli-wait check`: it is an option of `dli-wait <JOB_ID>...`, `dli-wait run` (`dli-wait check --help` lists what `dli-wait check` takes)",
        "{}",
        r.all()
    );
    run(common::bare().args(["check", "--help"])).expect_code(0);
    // A command written after `--` is a job id: the hint is a working command.
    let r = run(common::bare().args(["--", "check"]));
    r.expect_code(2)
        .stderr_has(&["e.g. `dli-wait check --help`"]);
    // `run` with nothing to submit names every way to give it.
    let r = run(common::bare().arg("run"));
    r.expect_code(2);
    assert_eq!(
        r.stderr.trim_end(),
        "error: `dli-wait run` needs one of --sql <SQL>, --sql-file <PATH> or --spark-file <PATH> (see `dli-wait run --help`)"
    );
}
