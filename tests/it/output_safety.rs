//! User stories about outside text: "whatever a job's failure message, a status value or an
//! error body says (a SQL failure can quote table data), it is shown as data: it never writes
//! workflow commands to my GitHub run, never drives my terminal, never breaks the step
//! summary; and no key, token or password ever shows".
//!
//! `tests/scenarios/hostile.json` scripts a DLI whose texts are full of workflow commands,
//! terminal escapes, bidi overrides and HTML, and whose errors echo the access key pair.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{Ran, Sim, TempDir, bare, id, run};
use std::collections::BTreeMap;
use std::path::PathBuf;

const AK: &str = "AKSECRETMARKER123";
const SK: &str = "SKSECRETMARKER456";

/// The failure reason and detail `hostile-fails` ends with (as in hostile.json).
const MESSAGE: &str = "boom\n::add-mask::FINISHED\n::warning::injected\n::stop-commands::abc\n  ::error::indented\u{1b}]0;pwned\u{7}\u{1b}[2J ##[add-mask]RUNNING <script>alert(1)</script> | cell \u{202e}gnp.exe `tick` [click](https://evil.example)\r\n::notice::after-cr\tend";
const DETAIL: &str =
    "detail\r\n::error::detail-injected\u{9b}31m\u{2066}isolated\u{2069} ###[warning]x";
/// The status `hostile-fails` first reports.
const STATUS: &str = "WEIRD\n::warning::status-injected\u{1b}[31m##[add-mask]RUNNING\u{202e}";

/// The workflow commands dli-wait itself writes (never `::add-mask::` off a real runner).
const OURS: &[&str] = &[
    "::group::",
    "::endgroup::",
    "::error title=",
    "::warning title=",
    "::notice",
];

/// Fail if a line of `text` is a workflow command that is not ours, in either of the forms
/// the runner reads: `::cmd::` at the start after whitespace, or `##[cmd]` anywhere.
fn no_foreign_commands(text: &str, what: &str, all: &str) {
    for line in text.split(['\n', '\r']) {
        let t = line.trim_start();
        assert!(
            !t.starts_with("::") || OURS.iter().any(|p| t.starts_with(p)),
            "{what}: a workflow command that is not ours: {line:?}\n{all}"
        );
        assert!(
            !line.contains("##["),
            "{what}: an old-style ##[ command: {line:?}\n{all}"
        );
    }
}

/// Characters that may not reach a terminal or log raw (line feeds excepted).
fn is_raw_control(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn no_raw_controls(text: &str, what: &str, all: &str) {
    if let Some(c) = text.chars().find(|&c| is_raw_control(c)) {
        panic!("{what} holds a raw {c:?}\n{all}");
    }
}

/// The runner's files for one `--github` run.
struct Runner {
    dir: TempDir,
}

impl Runner {
    fn new() -> Runner {
        let dir = TempDir::new("safety");
        for f in ["output", "summary.md"] {
            std::fs::write(dir.path().join(f), "").unwrap();
        }
        Runner { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `cmd` in GitHub mode writing the step outputs and summary here, and `--summary-file`.
    fn github<'a>(&self, cmd: &'a mut assert_cmd::Command) -> &'a mut assert_cmd::Command {
        cmd.env("GITHUB_OUTPUT", self.path("output"))
            .env("GITHUB_STEP_SUMMARY", self.path("summary.md"))
            .args(["--github", "--summary-file"])
            .arg(self.path("summary.json"))
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_default()
    }

    /// The step outputs (`name<<DELIM … DELIM`, as the runner reads them).
    fn outputs(&self) -> BTreeMap<String, String> {
        parse_outputs(&self.read("output"))
    }

    fn summary_md(&self) -> String {
        self.read("summary.md")
    }
}

fn parse_outputs(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.split('\n');
    while let Some(line) = lines.next() {
        if line.is_empty() {
            continue;
        }
        let (name, delim) = line
            .split_once("<<")
            .unwrap_or_else(|| panic!("not a name<<DELIM line: {line:?}\n{text}"));
        let mut value = Vec::new();
        for l in lines.by_ref() {
            if l == delim {
                break;
            }
            value.push(l);
        }
        out.insert(name.to_string(), value.join("\n"));
    }
    out
}

/// The number of `|` in a Markdown line that are not escaped with a backslash.
fn unescaped_pipes(line: &str) -> usize {
    let mut n = 0;
    let mut escaped = false;
    for c in line.chars() {
        match c {
            '\\' if !escaped => escaped = true,
            '|' if !escaped => n += 1,
            _ => escaped = false,
        }
        if c != '\\' {
            escaped = false;
        }
    }
    n
}

/// Every table of the step summary keeps its shape: after a header row, each row is one
/// line with as many cells as the header; and there is no HTML but ours (the collapsed
/// whole reason, whose text cannot close it).
fn summary_keeps_its_shape(md: &str, all: &str) {
    let theirs = md
        .replace("<details><summary>DLI's whole reason</summary>", "")
        .replace("</details>", "");
    assert!(
        !theirs.contains('<'),
        "raw HTML in the step summary:\n{md}\n{all}"
    );
    no_raw_controls(md, "the step summary", all);
    let lines: Vec<&str> = md.lines().collect();
    let mut i = 0;
    let mut tables = 0;
    while i < lines.len() {
        if lines[i].starts_with('|') {
            tables += 1;
            let cells = unescaped_pipes(lines[i]);
            while i < lines.len() && !lines[i].is_empty() {
                assert!(
                    lines[i].starts_with('|') && lines[i].ends_with('|'),
                    "a table row broken across lines: {:?}\n{md}",
                    lines[i]
                );
                assert_eq!(
                    unescaped_pipes(lines[i]),
                    cells,
                    "a row with cells of its own: {:?}\n{md}",
                    lines[i]
                );
                i += 1;
            }
        }
        i += 1;
    }
    assert!(tables >= 1, "no table in the step summary:\n{md}");
}

fn everything(r: &Ran, runner: &Runner) -> String {
    format!(
        "{}\n--- outputs ---\n{}\n--- step summary ---\n{}\n--- summary file ---\n{}",
        r.all(),
        runner.read("output"),
        runner.summary_md(),
        runner.read("summary.json")
    )
}

#[test]
fn hostile_text_in_github_mode_writes_no_workflow_command() {
    let sim = Sim::start("hostile.json");
    let runner = Runner::new();
    let r = run(runner.github(&mut sim.dli_wait()).arg(id("hostile-fails")));
    let all = everything(&r, &runner);
    r.expect_code(1);
    no_foreign_commands(&r.stderr, "stderr", &all);
    no_foreign_commands(&r.stdout, "stdout", &all);
    no_raw_controls(&r.stderr, "stderr", &all);
    // Still there, as data: the reason's telling line (its first line, and how many more:
    // the whole is in the `message` output), the status, and the escapes shown as escapes.
    for words in ["boom [+6 lines]", "\\u{1b}[2J", "WEIRD"] {
        assert!(r.stderr.contains(words), "stderr lacks {words:?}\n{all}");
    }
    // Our own annotation is there, carrying the reason.
    assert!(
        r.stderr.lines().any(|l| l.starts_with(&format!(
            "::error title=DLI job {} FAILED::boom",
            id("hostile-fails")
        ))),
        "{all}"
    );

    let outputs = runner.outputs();
    assert_eq!(outputs["status"], "FAILED", "{all}");
    let message = &outputs["message"];
    assert!(
        message.contains("boom") && message.contains("detail"),
        "{all}"
    );
    for words in ["add-mask::FINISHED", "pwned", "\\u{1b}[2J"] {
        assert!(
            message.contains(words),
            "the message output lacks {words:?}\n{all}"
        );
    }
    no_foreign_commands(message, "the message output", &all);
    no_raw_controls(message, "the message output", &all);

    let md = runner.summary_md();
    summary_keeps_its_shape(&md, &all);
    assert!(
        md.contains(&format!("`{}`", id("hostile-fails"))) && md.contains("boom"),
        "{all}"
    );
}

/// The same text on a plain CI log: one line per event, escapes shown, not obeyed; the
/// diagnostics of `-vv` (answer bodies) too.
#[test]
fn hostile_text_on_a_log_is_one_line_per_event_without_escapes() {
    let sim = Sim::start("hostile.json");
    let r = run(sim.dli_wait().args(["-vv", id("hostile-fails")]));
    r.expect_code(1);
    no_raw_controls(&r.stderr, "stderr", &r.all());
    // The proxy's page was logged (-vv) and retried, its title shown.
    assert!(
        r.stderr.contains("from-a-body")
            && r.stderr.contains("Bad Gateway⏎::warning::from-a-title"),
        "{}",
        r.all()
    );
    let closing: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.starts_with(&format!("job {} FAILED", id("hostile-fails"))))
        .collect();
    assert_eq!(closing.len(), 1, "{}", r.all());
    // The reason's telling line on that one line, saying how many lines more there are
    // (its detail among them: the JSON and the outputs carry the whole).
    assert!(closing[0].ends_with(": boom [+6 lines]"), "{}", r.all());
    no_foreign_commands(&r.stderr, "stderr", &r.all());
}

/// JSON keeps the text exactly (a JSON reader gets DLI's words back), with nothing raw on
/// the line itself.
#[test]
fn hostile_text_in_json_is_exact_and_escaped() {
    let sim = Sim::start("hostile.json");
    let runner = Runner::new();
    let r = run(runner
        .github(&mut sim.dli_wait())
        .args(["--output", "json", id("hostile-fails")]));
    let all = everything(&r, &runner);
    r.expect_code(1);
    no_raw_controls(&r.stdout, "stdout", &all);
    no_foreign_commands(&r.stdout, "stdout", &all);
    no_foreign_commands(&r.stderr, "stderr", &all);
    assert!(r.stdout.contains("\\u001b"), "{all}");
    let lines = r.json_lines();
    let unknown = lines
        .iter()
        .find(|l| l["event"] == "unknown_status")
        .unwrap_or_else(|| panic!("no unknown_status event\n{all}"));
    assert_eq!(unknown["status"], STATUS, "{all}");
    let summary = r.summary();
    let job = common::job(&summary, id("hostile-fails"));
    assert_eq!(job["reason"]["message"], MESSAGE, "{all}");
    assert_eq!(job["reason"]["detail"], DETAIL, "{all}");
    // The summary file is the same line.
    let file: serde_json::Value = serde_json::from_str(runner.read("summary.json").trim())
        .unwrap_or_else(|e| panic!("the summary file is not JSON ({e})\n{all}"));
    assert_eq!(
        common::job(&file, id("hostile-fails"))["reason"]["message"],
        MESSAGE
    );
    no_raw_controls(&runner.read("summary.json"), "the summary file", &all);
}

/// A job id from the submit answer is outside text too.
#[test]
fn a_submitted_job_id_is_data() {
    let sim = Sim::start("hostile.json");
    let runner = Runner::new();
    let r = run(runner
        .github(&mut sim.dli_wait_sub("run"))
        .args(["--sql", "SELECT 1"]));
    let all = everything(&r, &runner);
    // Not a UUID: the submit's answer is not a job to poll (exit 1), and the id is shown
    // only as data.
    r.expect_code(1);
    assert!(r.stderr.contains("not a UUID"), "{all}");
    no_foreign_commands(&r.stderr, "stderr", &all);
    no_foreign_commands(&r.stdout, "stdout", &all);
    no_raw_controls(&r.stderr, "stderr", &all);
    no_foreign_commands(&runner.outputs()["message"], "the message output", &all);
}

/// Credentials in `--endpoint` (or `DLI_ENDPOINT`) are refused, and never echoed anywhere.
#[test]
fn an_endpoint_password_is_never_shown() {
    for (how, endpoint) in [
        ("flag", "https://user:hunter2@127.0.0.1:1"),
        ("flag", "https://user:hunter2@"),
        ("env", "https://user:hunter2@127.0.0.1:1"),
    ] {
        for output in ["human", "json"] {
            let runner = Runner::new();
            let mut cmd = bare();
            cmd.env("HUAWEICLOUD_SDK_PROJECT_ID", "p")
                .env("HUAWEICLOUD_SDK_AK", "ak-of-the-test")
                .env("HUAWEICLOUD_SDK_SK", "sk-of-the-test")
                .args(["--output", output]);
            if how == "env" {
                cmd.env("DLI_ENDPOINT", endpoint);
            } else {
                cmd.args(["--endpoint", endpoint]);
            }
            let r = run(runner
                .github(&mut cmd)
                .arg("85798b38-ae44-48eb-bb90-7cf0dcdafe7b"));
            let all = everything(&r, &runner);
            assert!(!all.contains("hunter2"), "{how} {endpoint}: {all}");
            // The error names where the endpoint came from.
            let named = if how == "env" {
                "bad DLI_ENDPOINT"
            } else {
                "bad --endpoint"
            };
            r.expect_code(2).stderr_has(&[named, "***"]);
            assert!(
                runner.read("summary.json").contains(named),
                "the summary file says why: {all}"
            );
        }
    }
}

/// A server that echoes the keys (in an error body, in a failure reason): they never show,
/// however verbose, in any output.
#[test]
fn keys_echoed_by_the_server_never_show() {
    for output in ["human", "json"] {
        // A fresh simulator each time: the echoing error is scripted for the first poll.
        let sim = Sim::start("hostile.json");
        assert_eq!((sim.ak.as_str(), sim.sk.as_str()), (AK, SK));
        let runner = Runner::new();
        let r = run(runner.github(&mut sim.dli_wait()).args([
            "-vv",
            "--output",
            output,
            id("hostile-echoes-keys"),
            id("hostile-refuses"),
        ]));
        let all = everything(&r, &runner);
        r.expect_code(5);
        for secret in [AK, SK] {
            assert!(!all.contains(secret), "{secret} shows ({output}):\n{all}");
        }
        // The texts did come through, scrubbed: the check means something.
        assert!(all.contains("upstream said: AK=*** SK=***"), "{all}");
        assert!(all.contains("signature by *** rejected"), "{all}");
        assert!(
            runner.outputs()["message"].contains("signature by *** rejected"),
            "{all}"
        );
        no_foreign_commands(&r.stderr, "stderr", &all);
        no_raw_controls(&r.stderr, "stderr", &all);
    }
}

/// Issue 13: a FINISHED job's retries are in the log, but they are not annotations on the
/// run's page; a job that did not finish still gets its warning.
#[test]
fn retries_of_a_finished_job_are_no_warning() {
    let sim = Sim::start("faults.json");
    let runner = Runner::new();
    let r = run(runner
        .github(&mut sim.dli_wait())
        .arg(id("fault-queue-busy")));
    let all = everything(&r, &runner);
    r.expect_code(0).stderr_has(&["DLI.0999", "retrying"]);
    assert!(
        !r.stderr.lines().any(|l| l.starts_with("::warning")),
        "a warning for a job that FINISHED:\n{all}"
    );

    let sim = Sim::start("hostile.json");
    let runner = Runner::new();
    let r = run(runner
        .github(&mut sim.dli_wait())
        .arg(id("hostile-echoes-keys")));
    let all = everything(&r, &runner);
    r.expect_code(1);
    assert!(
        r.stderr.lines().any(|l| l.starts_with(&format!(
            "::warning title=DLI job {}::retried: ",
            id("hostile-echoes-keys")
        ))),
        "{all}"
    );
}

/// clap's errors quote the command line's values, which a workflow may fill from outside
/// (an issue title, a branch name): shown as data too.
#[test]
fn a_bad_flag_value_is_shown_as_data() {
    let runner = Runner::new();
    // On a runner: a command line clap refuses cannot say `--github` for itself.
    let r = run(runner.github(bare().env("GITHUB_ACTIONS", "true")).args([
        "--timeout",
        "1\n::add-mask::FINISHED\u{1b}[2J ##[warning]x",
        "job",
    ]));
    let all = everything(&r, &runner);
    r.expect_code(2)
        .stderr_has(&["--timeout", "add-mask::FINISHED"]);
    no_foreign_commands(&r.stderr, "stderr", &all);
    no_raw_controls(&r.stderr, "stderr", &all);
    assert_eq!(runner.outputs()["status"], "ERROR", "{all}");
}
