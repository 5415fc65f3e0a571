//! Speaking GitHub Actions: step outputs, a Markdown step summary, annotations and a log group,
//! layered over the human or JSON reporter. Workflow commands are printed only when asked
//! (`GITHUB_ACTIONS=true` or `--github`): elsewhere `::add-mask::` would print the secret.
//! Outside text reaches each of them through its own sanitiser in `safe`: command data and
//! properties, output values, Markdown; so the only workflow commands are ours.

use super::limits::{ANNOTATIONS, IDS_CHARS, SUMMARY_BYTES, TEXT_CHARS, cut, cut_escaped};
use super::out_file::{self, How};
use super::safe::{
    Scrubber, Secrets, command_data_with, command_property_with, md_code_with, md_text_with,
    output_value_with,
};
use super::stream::Stream;
use super::{Reporter, describe, fault_text, fmt_duration, outcome_message};
use crate::cli::flag;
use crate::wait::events::Events;
use crate::wait::machine::Note;
use crate::wait::outcome::{Outcome, decisive};
use crate::wait::record::{CancelReport, JobReport};
use crate::wait::snapshot::{Counts, Snapshot};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use super::safe::{escape_data, escape_property};

/// The files a runner names for a step (`GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY`), when set:
/// read from the run's environment by `cmd::Context`.
#[derive(Debug, Clone, Default)]
pub struct RunnerFiles {
    /// `$GITHUB_OUTPUT`: the step outputs.
    pub output: Option<PathBuf>,
    /// `$GITHUB_STEP_SUMMARY`: the step summary (Markdown).
    pub step_summary: Option<PathBuf>,
}

/// The GitHub layer. `inner` does the ordinary output.
pub struct Github {
    inner: Arc<dyn Reporter>,
    output_file: Option<PathBuf>,
    summary_file: Option<PathBuf>,
    state: Mutex<State>,
    /// The run's secrets, scrubbed from everything written.
    secrets: Secrets,
    /// The run's stderr, where workflow commands go.
    out: Stream,
}

#[derive(Default)]
struct State {
    group_open: bool,
    warned: HashSet<(String, String)>,
    /// Warnings held back until the job's end: a retry that a FINISHED job got past is noise
    /// on the workflow run's page, so only jobs that did not finish get theirs.
    warnings: HashMap<String, Vec<String>>,
}

/// Mask secrets learnt at run time (temporary keys, tokens: what GitHub cannot know of), on
/// `out` (the run's stderr): on a real runner only, since `::add-mask::` prints the value. A
/// secret the workflow gave (the environment, the credentials file) is never passed here: it
/// is the workflow's own, and printing it would put it in every captured copy of stderr.
pub fn add_mask(out: &Stream, secrets: &[&str]) {
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        out.line(&format!("::add-mask::{}", escape_data(s)));
    }
}

impl Github {
    /// Print `::add-mask::` for each of `mask` (secrets learnt at run time, on a real runner;
    /// pass none otherwise), then wrap `inner`. Outputs and the step summary go to `files`
    /// (those set); every output scrubs `secrets`; workflow commands go to `out` (the run's
    /// stderr).
    pub fn new(
        inner: Arc<dyn Reporter>,
        mask: &[&str],
        files: RunnerFiles,
        secrets: Secrets,
        out: Stream,
    ) -> Arc<Self> {
        let me = Github {
            inner,
            output_file: files.output,
            summary_file: files.step_summary,
            state: Mutex::new(State::default()),
            secrets,
            out,
        };
        add_mask(&me.out, mask);
        Arc::new(me)
    }

    /// Workflow commands go to stderr (the runner reads both streams), so that stdout stays
    /// pure JSON lines with `--output json`.
    fn command(&self, line: &str) {
        self.out.line(line);
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

    /// Add `text` to the runner's file at `path` (`report::out_file`: never blocking the run
    /// past `out_file::WITHIN`, never replacing what is there); a failure is said on `out`.
    fn append(secrets: &Secrets, out: &Stream, path: &Option<PathBuf>, text: &str) {
        let Some(path) = path else { return };
        let result = out_file::write(
            path,
            How::Append,
            text.as_bytes().to_vec(),
            out_file::WITHIN,
        );
        if let Err(e) = result {
            out.line(&secrets.line(&format!("error: cannot write {}: {e}", path.display())));
        }
    }
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
        output_entry_cut(scrubber, "job-id", ids, IDS_CHARS),
        output_entry(scrubber, "duration-seconds", &secs.to_string()),
        output_entry(scrubber, "polls", &polls.to_string()),
        output_entry(scrubber, "message", message),
    ]
    .concat()
}

/// `name<<DELIM\nvalue\nDELIM\n`, with a random delimiter that the value cannot contain; the
/// value through `safe::output_value_with`, then cut to `limits::TEXT_CHARS`.
pub fn output_entry(scrubber: &Scrubber, name: &str, value: &str) -> String {
    output_entry_cut(scrubber, name, value, TEXT_CHARS)
}

/// [`output_entry`] with the value cut to `max` characters.
fn output_entry_cut(scrubber: &Scrubber, name: &str, value: &str, max: usize) -> String {
    let clean = output_value_with(scrubber, value);
    let value = &cut(&clean, max);
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
/// Each reason is cut to `limits::TEXT_CHARS` characters, and the whole to
/// `limits::SUMMARY_BYTES` (GitHub refuses a step summary over 1 MiB): what does not fit is
/// left out, and a last line says how many jobs were.
pub fn step_summary(scrubber: &Scrubber, reports: &[JobReport], exit_code: i32) -> String {
    step_summary_within(scrubber, reports, exit_code, SUMMARY_BYTES)
}

fn step_summary_within(
    scrubber: &Scrubber,
    reports: &[JobReport],
    exit_code: i32,
    budget: usize,
) -> String {
    let icon = |o: &Outcome| match o {
        Outcome::Finished => "✅",
        Outcome::Failed | Outcome::Refused(_) | Outcome::Misconfigured(_) => "❌",
        _ => "⚠️",
    };
    // Room kept for the last line that says what was left out.
    const NOTE_ROOM: usize = 400;
    let budget = budget.saturating_sub(NOTE_ROOM);
    let mut md = format!("### DLI jobs: exit {exit_code}\n\n");
    md.push_str("| job | final state | duration | polls | retries | last seen |\n|---|---|---|---|---|---|\n");
    let mut rows_left_out = 0usize;
    for r in reports {
        let row = format!(
            "| {} | {} {} | {} | {} | {} | {} |\n",
            md_code_with(scrubber, &r.job_id),
            icon(&r.outcome),
            r.outcome.label(),
            fmt_duration(r.elapsed),
            r.polls,
            r.retries,
            cut(
                &md_text_with(scrubber, &r.last.as_ref().map(describe).unwrap_or_default()),
                TEXT_CHARS
            ),
        );
        if md.len() + row.len() > budget {
            rows_left_out += 1;
        } else {
            md.push_str(&row);
        }
    }
    let mut details_left_out = 0usize;
    for r in reports {
        let mut piece = String::new();
        let msg = outcome_message(r);
        if !msg.is_empty() {
            piece.push_str(&format!(
                "\n**{} {}**: {}\n",
                md_code_with(scrubber, &r.job_id),
                r.outcome.label(),
                cut(&md_text_with(scrubber, &msg), TEXT_CHARS)
            ));
        }
        if let Some(last) = &r.last
            && !last.sub_jobs.is_empty()
        {
            piece.push_str("\n| sub-job | tasks done / total | failed | stages done / total |\n|---|---|---|---|\n");
            for s in &last.sub_jobs {
                let c = Counts::of(s);
                piece.push_str(&format!(
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
        if piece.is_empty() {
            continue;
        }
        if md.len() + piece.len() > budget {
            details_left_out += 1;
        } else {
            md.push_str(&piece);
        }
    }
    if rows_left_out > 0 || details_left_out > 0 {
        md.push_str(&format!(
            "\n_Cut to fit GitHub's 1 MiB step summary: {rows_left_out} job rows and {details_left_out} jobs' reasons left out; the JSON summary (`{}`, `--output json`) has every job._\n",
            flag::SUMMARY_FILE
        ));
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
            &self.out,
            &self.output_file,
            &outputs(&scrubber, reports, exit_code),
        );
        Self::append(
            &self.secrets,
            &self.out,
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
        // (level, title, text, rank): a job's ending ranks before a retry it went through.
        let mut said: Vec<(&str, String, String, u8)> = Vec::new();
        for r in reports {
            if matches!(r.outcome, Outcome::Finished) {
                continue;
            }
            for text in warnings.remove(&r.job_id).unwrap_or_default() {
                said.push(("warning", format!("DLI job {}", r.job_id), text, 1));
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
            said.push((
                level,
                format!("DLI job {} {}", r.job_id, r.outcome.label()),
                outcome_message(r),
                0,
            ));
        }
        for line in annotations(&scrubber, said) {
            self.command(&line);
        }
        self.inner.summary(reports, exit_code);
    }

    fn submitted(&self, job_id: &str) {
        self.inner.submitted(job_id);
    }
}

/// The annotation lines for these (level, title, text, rank), at most `limits::ANNOTATIONS` of
/// each level (what GitHub shows of a step): past that, the best-ranked (then first) are kept
/// and a last one says how many more there were. Each text is cut to `limits::TEXT_CHARS`.
fn annotations(scrubber: &Scrubber, said: Vec<(&str, String, String, u8)>) -> Vec<String> {
    let mut keep = vec![true; said.len()];
    let mut more: Vec<(&str, usize)> = Vec::new();
    for level in ["error", "warning"] {
        let mut of_level: Vec<usize> = (0..said.len()).filter(|&i| said[i].0 == level).collect();
        if of_level.len() <= ANNOTATIONS {
            continue;
        }
        of_level.sort_by_key(|&i| said[i].3);
        for &i in &of_level[ANNOTATIONS - 1..] {
            keep[i] = false;
        }
        more.push((level, of_level.len() - (ANNOTATIONS - 1)));
    }
    let mut lines: Vec<String> = said
        .iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|((level, title, text, _), _)| annotation(scrubber, level, title, text))
        .collect();
    for (level, n) in more {
        lines.push(annotation(
            scrubber,
            level,
            "dli-wait",
            &format!(
                "{n} more {level}s not shown (GitHub shows {ANNOTATIONS} per step): see the step summary or {}",
                flag::SUMMARY_FILE
            ),
        ));
    }
    lines
}

/// `::level title=…::text`, the title and text through their sanitisers, then cut.
fn annotation(scrubber: &Scrubber, level: &str, title: &str, text: &str) -> String {
    format!(
        "::{level} title={}::{}",
        cut_escaped(&command_property_with(scrubber, title), TEXT_CHARS),
        cut_escaped(&command_data_with(scrubber, text), TEXT_CHARS)
    )
}

/// When dli-wait stops before any wait ends (bad inputs, a refused submit): the same outputs,
/// so later steps can still read why (`status` is the ending's label, or `ERROR`), and an
/// error annotation.
pub fn write_failure(
    files: &RunnerFiles,
    secrets: &Secrets,
    out: &Stream,
    status: &str,
    exit_code: i32,
    message: &str,
) {
    let scrubber = secrets.scrubber();
    Github::append(
        secrets,
        out,
        &files.output,
        &output_block(&scrubber, status, exit_code, "", 0, 0, message),
    );
    // The step summary says it too: a refused submit or a bad input is what the run's page
    // should show first.
    Github::append(
        secrets,
        out,
        &files.step_summary,
        &format!(
            "### dli-wait: exit {exit_code}\n\n**{status}**: {}\n\n",
            cut(&md_text_with(&scrubber, message), TEXT_CHARS)
        ),
    );
    out.line(&annotation(&scrubber, "error", "dli-wait", message));
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

    fn failed(id: &str, reason: &str) -> JobReport {
        let mut r = JobReport::ended_at_submit(id.to_string());
        r.outcome = Outcome::Failed;
        r.reason = Some(crate::wait::record::Reason {
            message: reason.to_string(),
            detail: None,
        });
        r
    }

    /// Issue 25, item 12: a 1.9 MB reason gave a 3.7 MB step summary (GitHub refuses more
    /// than 1 MiB), and 2,500 jobs overflow it too. Both stay under the cap, saying so.
    #[test]
    fn the_step_summary_stays_under_githubs_cap() {
        let s = Scrubber::default();
        let huge = failed("job-1", &"<&|>".repeat(475_000));
        let md = step_summary(&s, &[huge], 1);
        assert!(md.len() < 4 * TEXT_CHARS * 2, "{} bytes", md.len());
        assert!(
            md.contains(" more characters)"),
            "{}",
            &md[md.len() - 200..]
        );
        let many: Vec<JobReport> = (0..2_500)
            .map(|i| {
                failed(
                    &format!("85798b38-ae44-48eb-bb90-{i:012}"),
                    &"r".repeat(3_000),
                )
            })
            .collect();
        let md = step_summary(&s, &many, 1);
        assert!(md.len() <= SUMMARY_BYTES, "{} bytes", md.len());
        assert!(md.contains("left out"), "{}", &md[md.len() - 300..]);
    }

    /// Issue 25, item 12: at most 10 error annotations (what GitHub shows of a step), the
    /// last saying how many more; each cut, never inside an escape; the outputs' message cut.
    #[test]
    fn annotations_and_outputs_are_bounded() {
        let s = Scrubber::new(["SECRET-SECRET-SECRET-1234"]);
        let mut reason = "%\n".repeat(TEXT_CHARS / 2 - 3);
        reason.push_str("SECRET-SECRET-SECRET-1234");
        reason.push_str(&"x".repeat(1_000_000));
        let said: Vec<(&str, String, String, u8)> = (0..30)
            .map(|i| ("error", format!("DLI job {i} FAILED"), reason.clone(), 0))
            .collect();
        let lines = annotations(&s, said);
        assert_eq!(lines.len(), ANNOTATIONS);
        assert!(
            lines[ANNOTATIONS - 1].contains("21 more errors"),
            "{}",
            lines[9]
        );
        for l in &lines {
            assert!(l.chars().count() < 2 * TEXT_CHARS, "{}", l.len());
            assert!(!l.contains("SECRET"), "a secret, or part of one: {l}");
            let data = l.split("::").nth(2).unwrap_or_default();
            for (i, _) in data.match_indices('%') {
                assert!(
                    ["%25", "%0A", "%0D"].contains(&data.get(i..i + 3).unwrap_or_default()),
                    "a split escape in {data}"
                );
            }
        }
        let out = outputs(&s, &[failed("job-1", &reason)], 1);
        let from = out.find("message<<").unwrap_or_default();
        let head_end = from + out[from..].find('\n').unwrap_or_default();
        let delim = &out[from + "message<<".len()..head_end];
        let o = out[head_end + 1..]
            .split(&format!("\n{delim}\n"))
            .next()
            .unwrap_or_default();
        assert!(o.chars().count() < TEXT_CHARS + 40, "{}", o.len());
        assert!(o.ends_with(" more characters)"), "{o}");
        assert!(!out.contains("SECRET"), "a secret in the outputs");
    }
}
