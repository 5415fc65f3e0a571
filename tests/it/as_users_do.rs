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
    // Two variables that conflict: both named.
    let r = run(sim
        .dli_wait_sub("run")
        .env("DLI_WAIT_SQL", sql)
        .env("DLI_WAIT_SQL_FILE", "load.sql"));
    r.expect_code(2).stderr_has(&[
        "error: the argument '--sql <SQL>' (from DLI_WAIT_SQL) cannot be used with '--sql-file <PATH>' (from DLI_WAIT_SQL_FILE)",
    ]);
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
    // JSON mode: stdout is JSON all the same, the summary last.
    assert_eq!(r.summary()["exit_code"], 2, "{}", r.all());
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

/// The lines of README's first ```text block after `marker`.
fn readme_block(marker: &str) -> Vec<String> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let after = &readme[readme.find(marker).expect("the marker in README")..];
    let block = &after[after.find("```text\n").expect("a text block") + 8..];
    let block = &block[..block.find("```").expect("the block's end")];
    block.lines().map(str::to_string).collect()
}

/// A line with what changes from run to run (the time, the progress a poll happened to see,
/// the time waited) replaced by `_`.
fn modulo_times(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    // A leading RFC 3339 timestamp.
    if rest.len() > 21 && rest.as_bytes()[4] == b'-' && rest.as_bytes()[19] == b'Z' {
        out.push_str("_ ");
        rest = &rest[21..];
    }
    let words: Vec<String> = rest
        .split(' ')
        .map(|w| {
            let digits_then = |suffix: &str| {
                w.strip_suffix(suffix)
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            };
            match w.split_once('/') {
                // `tasks 25/120`: the count seen varies, the total does not.
                Some((done, total))
                    if done.bytes().all(|b| b.is_ascii_digit()) && !done.is_empty() =>
                {
                    format!("_/{total}")
                }
                _ if digits_then("%") => "_%".to_string(),
                _ => w.to_string(),
            }
        })
        .collect();
    out.push_str(&words.join(" "));
    // The closing line's time waited: `in 12s (`.
    if let Some(i) = out.find(" in ")
        && let Some(j) = out[i..].find(" (")
        && out.contains(" polls")
    {
        out.replace_range(i + 4..i + j, "_");
    }
    out
}

/// README's demo sample is what `dli-wait demo` prints off a terminal, line for line (the
/// same states, faults, retries and poll count), but for the times and the progress a poll
/// happened to see. Called by `output::demo_shows_a_whole_wait_and_exits_0`, which runs the
/// demo once for both.
///
/// The demo's job moves on the wall clock, so a machine loaded past what a user's is (the whole
/// suite at once on two cores) can delay one poll past a change; a second run that differs too
/// is a sample that is wrong, not a slow machine.
pub fn readme_demo_is_what_the_demo_prints(r: &common::Ran) {
    let readme: Vec<String> = readme_block("Off a terminal (CI logs, cron mail)")
        .iter()
        .map(|l| modulo_times(l))
        .collect();
    let printed = |r: &common::Ran| -> Vec<String> {
        r.stderr
            .lines()
            .filter(|l| l.starts_with("20") || l.starts_with("job "))
            .map(modulo_times)
            .collect()
    };
    if printed(r) == readme {
        return;
    }
    let again = common::run(common::bare().arg("demo"));
    again.expect_code(0);
    assert_eq!(
        readme,
        printed(&again),
        "README's demo sample (and a first run that differed too:\n{})\n{}",
        r.all(),
        again.all()
    );
}

/// README's `check` sample is what `check` prints against an endpoint that answers over
/// trusted TLS and accepts the signed read, but for the host (and the clock's second).
#[test]
fn readme_check_sample_is_what_check_prints() {
    use common::hostile::Behaviour;
    let ca = common::tls::PrivateCa::new();
    let h = common::tls::serve_tls(
        Behaviour::script(|_| {
            let body = r#"{"is_success":true,"message":"","job_count":0,"jobs":[]}"#;
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                httpdate::fmt_http_date(std::time::SystemTime::now()),
                body.len()
            )
            .into_bytes()
        }),
        ca.server_config(),
    );
    let dir = common::TempDir::new("readme-check");
    let pem = ca.write_pem(dir.path());
    let endpoint = format!("https://localhost:{}", h.port);
    let r = run(common::bare()
        .env("SSL_CERT_FILE", &pem)
        .env("HUAWEICLOUD_SDK_AK", "READMECHECKAK")
        .env("HUAWEICLOUD_SDK_SK", "READMECHECKSK")
        .env(
            "HUAWEICLOUD_SDK_PROJECT_ID",
            "0123456789abcdef0123456789abcdef",
        )
        .args(["check", "--endpoint", &endpoint]));
    r.expect_code(0);
    let host = "dli.cn-north-4.myhuaweicloud.com";
    let printed: Vec<String> = r
        .stdout
        .lines()
        .map(|l| {
            l.replace(&endpoint, &format!("https://{host}"))
                .replace("localhost", host)
        })
        .collect();
    let readme = readme_block("make it a CI job's first step");
    assert_eq!(readme[0], "$ dli-wait check --region cn-north-4");
    assert_eq!(
        readme[1..],
        printed[..],
        "README's check sample\n{}",
        r.all()
    );
}

/// Words that match behaviour: a 401 names the one credential source in use; a refused
/// submit's hint is about what the submit names, not a job id or `--job-type`; a bad
/// `DLI_ENDPOINT` is named as `DLI_ENDPOINT`.
#[test]
fn messages_name_what_the_user_set() {
    let sim = Sim::start("refusals.json");
    let r = run(sim
        .dli_wait()
        .env("HUAWEICLOUD_SDK_SK", "NOTTHESIMULATORSSECRETKEY")
        .arg(common::id("any")));
    r.expect_code(5).stderr_has(&[
        "refused the credentials from the environment (HUAWEICLOUD_SDK_AK/HUAWEICLOUD_SDK_SK)",
        "check the keys or token of that source",
    ]);
    r.never_shows("HUAWEICLOUD_SDK_AUTH_TOKEN");

    let r = run(sim
        .dli_wait_sub("run")
        .args(["--sql", "INSERT INTO etl_missing.t SELECT 1"]));
    r.expect_code(5).stderr_has(&[
        "DLI.0002",
        "check what the submit names: --queue, --database",
    ]);
    r.never_shows("--job-type");
    r.never_shows("the job id");

    let r = run(common::bare()
        .env("DLI_ENDPOINT", "ftp://dli.example.com")
        .env("HUAWEICLOUD_SDK_AK", "WORDSAK")
        .env("HUAWEICLOUD_SDK_SK", "WORDSSK")
        .env(
            "HUAWEICLOUD_SDK_PROJECT_ID",
            "0123456789abcdef0123456789abcdef",
        )
        .arg(common::id("any")));
    r.expect_code(2).stderr_has(&[
        "error: bad DLI_ENDPOINT \"ftp://dli.example.com\": unsupported scheme ftp://",
    ]);
    r.never_shows("bad --endpoint");
}

/// README's Options table names, for every flag it lists, the variable the parser reads for
/// it (`--timeout` `DLI_WAIT_TIMEOUT`, `--region` `HUAWEICLOUD_SDK_REGION`, …).
#[test]
fn readme_options_table_names_each_flags_variable() {
    use clap::CommandFactory;
    fn env_of(cmd: &clap::Command, long: &str) -> Option<String> {
        cmd.get_arguments()
            .find(|a| a.get_long() == Some(long))
            .and_then(|a| a.get_env().map(|e| e.to_string_lossy().into_owned()))
            .or_else(|| cmd.get_subcommands().find_map(|s| env_of(s, long)))
    }
    let cli = dli_wait::cli::Cli::command();
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let table = &readme[readme.find("## Options").unwrap()..];
    let table = &table[table.find("\n| flag").unwrap() + 1..];
    let table = &table[..table.find("\n\n").unwrap_or(table.len())];
    let mut checked = 0;
    for row in table.lines().skip(2) {
        let cells: Vec<&str> = row.split(" | ").collect();
        let Some(long) = cells[0]
            .strip_prefix("| `--")
            .and_then(|f| f.split([' ', '`']).next())
        else {
            continue;
        };
        let var = env_of(&cli, long).unwrap_or_else(|| {
            panic!("--{long} in README's Options table is not a flag with a variable")
        });
        assert!(
            cells
                .get(1)
                .is_some_and(|c| c.contains(&format!("`{var}`"))),
            "README's Options row for --{long} does not name {var}: {row}"
        );
        checked += 1;
    }
    assert!(checked >= 18, "only {checked} rows checked");
}

/// `-q`, as `--help` and README say it: each job's closing line, `run`'s `submitted job` line,
/// and with several jobs the line of all their endings; nothing else.
#[test]
fn quiet_says_what_the_help_says() {
    let sim = Sim::start("endings.json");
    let (a, b) = (common::id("job-finishes"), common::id("job-fails"));
    let r = run(sim.dli_wait().args(["-q", a, b]));
    r.expect_code(1);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{}", r.all());
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("job {a} FINISHED in ")))
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("job {b} FAILED in ")))
    );
    assert_eq!(
        lines[2],
        format!("2 jobs: {a} FINISHED, {b} FAILED; exit 1")
    );

    let sim = Sim::start("submit.json");
    let r = run(sim.dli_wait().args(["-q", "run", "--sql", "SELECT 1"]));
    r.expect_code(0);
    let id = r.stdout.trim();
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{}", r.all());
    assert!(
        lines[0].ends_with(&format!(" submitted job {id}")),
        "{}",
        r.all()
    );
    assert!(
        lines[1].starts_with(&format!("job {id} FINISHED in ")),
        "{}",
        r.all()
    );
}
