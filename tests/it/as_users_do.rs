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
