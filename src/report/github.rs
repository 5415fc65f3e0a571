//! Speaking GitHub Actions: step outputs, a Markdown step summary, annotations and a log group,
//! layered over the human or JSON reporter. Workflow commands are printed only when asked
//! (`GITHUB_ACTIONS=true` or `--github`): elsewhere `::add-mask::` would print the secret.
//! Outside text reaches each of them through its own sanitiser in `safe`: command data and
//! properties, output values, Markdown; so the only workflow commands are ours.

use super::safe::{
    Scrubber, Secrets, command_data_with, command_property_with, md_code_with, md_text_with,
    output_value_with,
};
use super::{Reporter, describe, fault_text, fmt_duration, outcome_message};
use crate::wait::events::Events;
use crate::wait::machine::Note;
use crate::wait::outcome::{Outcome, decisive};
use crate::wait::record::{CancelReport, JobReport};
use crate::wait::snapshot::{Counts, Snapshot};
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use super::safe::{escape_data, escape_property};

/// The GitHub layer. `inner` does the ordinary output.
pub struct Github {
    inner: Arc<dyn Reporter>,
    output_file: Option<PathBuf>,
    summary_file: Option<PathBuf>,
    state: Mutex<State>,
    /// The run's secrets, scrubbed from everything written.
    secrets: Secrets,
}

#[derive(Default)]
struct State {
    group_open: bool,
    warned: HashSet<(String, String)>,
    /// Warnings held back until the job's end: a retry that a FINISHED job got past is noise
    /// on the workflow run's page, so only jobs that did not finish get theirs.
    warnings: HashMap<String, Vec<String>>,
}

/// Mask secrets learnt after the reporter was made (renewed temporary keys): on a real runner
/// only, since `::add-mask::` prints the value.
pub fn add_mask(secrets: &[&str]) {
    let mut out = std::io::stderr().lock();
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        let _ = writeln!(out, "::add-mask::{}", escape_data(s));
    }
    let _ = out.flush();
}

impl Github {
    /// Print `::add-mask::` for each of `mask` (pass none outside a real runner), then wrap
    /// `inner`. Files come from `GITHUB_OUTPUT` and `GITHUB_STEP_SUMMARY` when set; every
    /// output scrubs `secrets`.
    pub fn new(inner: Arc<dyn Reporter>, mask: &[&str], secrets: Secrets) -> Arc<Self> {
        let me = Github {
            inner,
            output_file: env_file("GITHUB_OUTPUT"),
            summary_file: env_file("GITHUB_STEP_SUMMARY"),
            state: Mutex::new(State::default()),
            secrets,
        };
        for s in mask.iter().filter(|s| !s.is_empty()) {
            me.command(&format!("::add-mask::{}", escape_data(s)));
        }
        Arc::new(me)
    }

    /// Workflow commands go to stderr (the runner reads both streams), so that stdout stays
    /// pure JSON lines with `--output json`.
    fn command(&self, line: &str) {
        let mut out = std::io::stderr().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }

    fn close_group(&self) {
        let open = self
            .state
            .lock()
            .map(|mut s| std::mem::replace(&mut s.group_open, false))
            .unwrap_or(false);
        if open {
            self.command("::endgroup::");
        }
    }

    fn append(secrets: &Secrets, path: &Option<PathBuf>, text: &str) {
        let Some(path) = path else { return };
        let result = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| f.write_all(text.as_bytes()));
        if let Err(e) = result {
            eprintln!(
                "{}",
                secrets.line(&format!("error: cannot write {}: {e}", path.display()))
            );
        }
    }
}

/// The file a runner names in `key` (`GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY`), when set.
fn env_file(key: &str) -> Option<PathBuf> {
    std::env::var_os(key)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The six step outputs, in the `$GITHUB_OUTPUT` format.
fn output_block(
    scrubber: &Scrubber,
    status: &str,
    exit_code: i32,
    ids: &str,
    secs: u64,
    polls: u32,
    message: &str,
) -> String {
    [
        output_entry(scrubber, "status", status),
        output_entry(scrubber, "exit-code", &exit_code.to_string()),
        output_entry(scrubber, "job-id", ids),
        output_entry(scrubber, "duration-seconds", &secs.to_string()),
        output_entry(scrubber, "polls", &polls.to_string()),
        output_entry(scrubber, "message", message),
    ]
    .concat()
}

/// `name<<DELIM\nvalue\nDELIM\n`, with a random delimiter that the value cannot contain; the
/// value through `safe::output_value_with`.
pub fn output_entry(scrubber: &Scrubber, name: &str, value: &str) -> String {
    let value = &output_value_with(scrubber, value);
    let delim = loop {
        let d = format!("ghadelimiter_{:016x}", rand::random::<u64>());
        if !value.contains(&d) {
            break d;
        }
    };
    format!("{name}<<{delim}\n{value}\n{delim}\n")
}

/// The step outputs: `status`, `exit-code`, `job-id`, `duration-seconds`, `polls`, `message`;
/// the one-value ones from the job that decides the exit code.
pub fn outputs(scrubber: &Scrubber, reports: &[JobReport], exit_code: i32) -> String {
    let d = decisive(reports, |r| &r.outcome);
    let status = d.map_or("ERROR", |r| r.outcome.label());
    let ids: Vec<&str> = reports.iter().map(|r| r.job_id.as_str()).collect();
    let secs = reports
        .iter()
        .map(|r| r.elapsed)
        .max()
        .unwrap_or(Duration::ZERO);
    let polls: u32 = reports.iter().map(|r| r.polls).sum();
    let message = d.map(outcome_message).unwrap_or_default();
    output_block(
        scrubber,
        status,
        exit_code,
        &ids.join(" "),
        secs.as_secs(),
        polls,
        &message,
    )
}

/// The Markdown step summary: one row per job, then DLI's reasons and the sub-jobs at the end.
pub fn step_summary(scrubber: &Scrubber, reports: &[JobReport], exit_code: i32) -> String {
    let icon = |o: &Outcome| match o {
        Outcome::Finished => "✅",
        Outcome::Failed | Outcome::Refused(_) | Outcome::Misconfigured(_) => "❌",
        _ => "⚠️",
    };
    let mut md = format!("### DLI jobs: exit {exit_code}\n\n");
    md.push_str("| job | final state | duration | polls | retries | last seen |\n|---|---|---|---|---|---|\n");
    for r in reports {
        md.push_str(&format!(
            "| {} | {} {} | {} | {} | {} | {} |\n",
            md_code_with(scrubber, &r.job_id),
            icon(&r.outcome),
            r.outcome.label(),
            fmt_duration(r.elapsed),
            r.polls,
            r.retries,
            md_text_with(scrubber, &r.last.as_ref().map(describe).unwrap_or_default()),
        ));
    }
    for r in reports {
        let msg = outcome_message(r);
        if !msg.is_empty() {
            md.push_str(&format!(
                "\n**{} {}**: {}\n",
                md_code_with(scrubber, &r.job_id),
                r.outcome.label(),
                md_text_with(scrubber, &msg)
            ));
        }
        if let Some(last) = &r.last
            && !last.sub_jobs.is_empty()
        {
            md.push_str("\n| sub-job | tasks done / total | failed | stages done / total |\n|---|---|---|---|\n");
            for s in &last.sub_jobs {
                let c = Counts::of(s);
                md.push_str(&format!(
                    "| {} | {} / {} | {} | {} / {} |\n",
                    s.id.map_or_else(|| "?".into(), |i| i.to_string()),
                    c.tasks_done,
                    c.tasks_total,
                    c.tasks_failed,
                    c.stages_done,
                    c.stages_total
                ));
            }
        }
    }
    md.push('\n');
    md
}

impl Events for Github {
    fn started(&self, job_id: &str) {
        let open_now = self
            .state
            .lock()
            .map(|mut s| !std::mem::replace(&mut s.group_open, true))
            .unwrap_or(false);
        if open_now {
            self.command("::group::dli-wait poll log");
        }
        self.inner.started(job_id);
    }

    fn snapshot(&self, job_id: &str, snap: &Snapshot, elapsed: Duration) {
        self.inner.snapshot(job_id, snap, elapsed);
    }

    fn note(&self, job_id: &str, note: &Note, elapsed: Duration) {
        self.inner.note(job_id, note, elapsed);
        // One warning per job and kind of fault (GitHub shows only the first few anyway),
        // said at the end, and only for a job that did not finish.
        let warning = match note {
            Note::Retrying { fault, .. } => Some((
                fault.kind.as_str().to_string(),
                format!("retried: {}", fault_text(fault)),
            )),
            Note::FallbackToStatus { .. } => Some((
                "fallback".into(),
                "/progress kept answering DLI.0999; polled /status instead (no stall detection)"
                    .into(),
            )),
            Note::UnknownStatus(s) => Some(("unknown".into(), format!("unknown job status {s:?}"))),
            Note::NoTaskCounts => None,
        };
        if let Some((kind, text)) = warning
            && let Ok(mut s) = self.state.lock()
            && s.warned.insert((job_id.to_string(), kind))
        {
            s.warnings.entry(job_id.to_string()).or_default().push(text);
        }
    }

    fn cancelled(&self, job_id: &str, cancel: &CancelReport) {
        self.inner.cancelled(job_id, cancel);
    }

    fn ended(&self, job_id: &str) {
        self.inner.ended(job_id);
    }

    fn finished(&self, report: &JobReport) {
        // The closing line is said in `summary`, after the log group closes, so that it
        // stays visible; the job stops counting as waiting now. A FINISHED job's warnings
        // will never be said.
        if matches!(report.outcome, Outcome::Finished)
            && let Ok(mut s) = self.state.lock()
        {
            s.warnings.remove(&report.job_id);
        }
        self.inner.ended(&report.job_id);
    }
}

impl Reporter for Github {
    fn summary(&self, reports: &[JobReport], exit_code: i32) {
        self.close_group();
        // Outputs and summary first: they matter most exactly when the step fails.
        let scrubber = self.secrets.scrubber();
        Self::append(
            &self.secrets,
            &self.output_file,
            &outputs(&scrubber, reports, exit_code),
        );
        Self::append(
            &self.secrets,
            &self.summary_file,
            &step_summary(&scrubber, reports, exit_code),
        );
        for r in reports {
            self.inner.finished(r);
        }
        let mut warnings = self
            .state
            .lock()
            .map(|mut s| std::mem::take(&mut s.warnings))
            .unwrap_or_default();
        for r in reports {
            if matches!(r.outcome, Outcome::Finished) {
                continue;
            }
            for text in warnings.remove(&r.job_id).unwrap_or_default() {
                self.command(&format!(
                    "::warning title={}::{}",
                    command_property_with(&scrubber, &format!("DLI job {}", r.job_id)),
                    command_data_with(&scrubber, &text)
                ));
            }
        }
        for r in reports {
            let level = match r.outcome {
                Outcome::Finished => continue,
                Outcome::Failed
                | Outcome::Refused(_)
                | Outcome::Misconfigured(_)
                | Outcome::Stalled { .. }
                | Outcome::TimedOut => "error",
                _ => "warning",
            };
            self.command(&format!(
                "::{level} title={}::{}",
                command_property_with(
                    &scrubber,
                    &format!("DLI job {} {}", r.job_id, r.outcome.label())
                ),
                command_data_with(&scrubber, &outcome_message(r))
            ));
        }
        self.inner.summary(reports, exit_code);
    }

    fn submitted(&self, job_id: &str) {
        self.inner.submitted(job_id);
    }
}

/// When dli-wait stops before any wait ends (bad inputs, a refused submit): the same outputs,
/// so later steps can still read why (`status` is the ending's label, or `ERROR`), and an
/// error annotation.
pub fn write_failure(secrets: &Secrets, status: &str, exit_code: i32, message: &str) {
    let scrubber = secrets.scrubber();
    Github::append(
        secrets,
        &env_file("GITHUB_OUTPUT"),
        &output_block(&scrubber, status, exit_code, "", 0, 0, message),
    );
    // The step summary says it too: a refused submit or a bad input is what the run's page
    // should show first.
    Github::append(
        secrets,
        &env_file("GITHUB_STEP_SUMMARY"),
        &format!(
            "### dli-wait: exit {exit_code}\n\n**{status}**: {}\n\n",
            md_text_with(&scrubber, message)
        ),
    );
    let _ = writeln!(
        std::io::stderr().lock(),
        "::error title=dli-wait::{}",
        command_data_with(&scrubber, message)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotation_text_is_escaped() {
        assert_eq!(escape_data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
        assert_eq!(
            command_data_with(&Scrubber::default(), "50% done\r\n::warning::x"),
            "50%25 done%0A\\::warning::x"
        );
    }

    #[test]
    fn outputs_use_a_delimiter_the_value_cannot_end_early() {
        let e = output_entry(&Scrubber::default(), "message", "line1\nEOF\nline3");
        let mut lines = e.lines();
        let head = lines.next().unwrap();
        let delim = head.strip_prefix("message<<").unwrap();
        assert!(delim.starts_with("ghadelimiter_"));
        assert_eq!(e.matches(delim).count(), 2);
        assert!(e.ends_with(&format!("line3\n{delim}\n")));
    }
}
