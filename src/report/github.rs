//! Speaking GitHub Actions: step outputs, a Markdown step summary, annotations and a log group,
//! layered over the human or JSON reporter. Workflow commands are printed only when asked
//! (`GITHUB_ACTIONS=true` or `--github`): elsewhere `::add-mask::` would print the secret.
//! Outside text reaches each of them through its own sanitiser in `safe`: command data and
//! properties, output values, Markdown; so the only workflow commands are ours.
//!
//! Nothing here reads the process: the runner's files (`GithubPaths`, from the environment)
//! and the streams are given by the constructor (`cmd::context::Context::reporter`), and the
//! formats are pure functions ([`outputs`], [`step_summary`], the annotations).

use super::limits::{
    ANNOTATIONS, IDS_CHARS, REASON_CHARS, SUMMARY_BYTES, TEXT_CHARS, cut, cut_escaped,
};
use super::safe::{
    Scrubber, Secrets, command_data_with, command_property_with, md_code_with, md_text_with,
    output_value_with,
};
use super::sink::{AppendFile, Sink};
use super::stream::Stream;
use super::{Reporter, describe, fault_text, fmt_duration, outcome_brief, outcome_message};
use crate::cli::flag;
use crate::wait::events::Events;
use crate::wait::machine::Note;
use crate::wait::outcome::{ExitStatus, Outcome, decisive};
use crate::wait::record::{CancelReport, JobReport};
use crate::wait::snapshot::{Counts, Snapshot};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use super::safe::{escape_data, escape_property};

/// The runner's files, as it names them (`GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY`; `None` when
/// unset or empty). Read from the environment by the caller, never here.
#[derive(Debug, Clone, Default)]
pub struct GithubPaths {
    pub output: Option<PathBuf>,
    pub step_summary: Option<PathBuf>,
    /// The time the writes share (the run's `out_file::Budget`).
    pub budget: super::out_file::Budget,
}

/// Where the step outputs and the step summary go: in a run each path of [`GithubPaths`] as
/// an [`AppendFile`]; memory in a test.
#[derive(Debug, Clone)]
pub struct GithubFiles<F: Sink = AppendFile> {
    pub output: Option<F>,
    pub step_summary: Option<F>,
}

impl GithubFiles {
    /// Each path given, appended to through `report::out_file`; a failure said on `errors`
    /// (the run's stderr), scrubbed of `secrets`.
    pub fn append(paths: &GithubPaths, secrets: &Secrets, errors: &Stream) -> Self {
        let file = |p: &Option<PathBuf>| {
            p.clone()
                .map(|p| AppendFile::new(p, secrets.clone(), errors.clone(), paths.budget.clone()))
        };
        GithubFiles {
            output: file(&paths.output),
            step_summary: file(&paths.step_summary),
        }
    }
}

/// The GitHub layer. `inner` does the ordinary output; workflow commands go to `S` (in a run
/// the run's stderr [`Stream`]), the step outputs and summary to `F` ([`GithubFiles`]).
pub struct Github<S: Sink = Stream, F: Sink = AppendFile> {
    inner: Arc<dyn Reporter>,
    files: GithubFiles<F>,
    state: Mutex<State>,
    /// The run's secrets, scrubbed from everything written.
    secrets: Secrets,
    /// The run's stderr, where workflow commands go.
    out: S,
}

#[derive(Default)]
struct State {
    group_open: bool,
    warned: HashSet<(String, String)>,
    /// Warnings held back until the job's end: a retry that a FINISHED job got past is noise
    /// on the workflow run's page, so only jobs that did not finish get theirs.
    warnings: HashMap<String, Vec<String>>,
    /// The jobs `run` submitted: with `--no-wait` the summary has no report of them, and the
    /// outputs say SUBMITTED with their ids.
    submitted: Vec<String>,
}

/// Mask secrets learnt at run time (temporary keys, tokens: what GitHub cannot know of), on
/// `out` (the run's stderr): on a real runner only, since `::add-mask::` prints the value. A
/// secret the workflow gave (the environment, the credentials file) is never passed here: it
/// is the workflow's own, and printing it would put it in every captured copy of stderr.
pub fn add_mask(out: &impl Sink, secrets: &[&str]) {
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        out.line(&format!("::add-mask::{}", escape_data(s)));
    }
}

impl Github {
    /// Print `::add-mask::` for each of `mask` (secrets learnt at run time, on a real runner;
    /// pass none otherwise), then wrap `inner`. The step outputs and summary are added to the
    /// files of `paths` that are set; every output scrubs `secrets`; workflow commands go to
    /// `out` (the run's stderr), and so does a failure to write a file.
    pub fn new(
        inner: Arc<dyn Reporter>,
        mask: &[&str],
        secrets: Secrets,
        out: Stream,
        paths: &GithubPaths,
    ) -> Arc<Self> {
        let files = GithubFiles::append(paths, &secrets, &out);
        Github::with(inner, mask, secrets, out, files)
    }
}

impl<S: Sink, F: Sink> Github<S, F> {
    /// [`Github::new`] with the sinks given: workflow commands to `out`, the outputs and step
    /// summary to `files`.
    pub fn with(
        inner: Arc<dyn Reporter>,
        mask: &[&str],
        secrets: Secrets,
        out: S,
        files: GithubFiles<F>,
    ) -> Arc<Self> {
        let me = Github {
            inner,
            files,
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
}

/// Add what `render` makes to the runner's file, when there is one (rendered only then).
fn append(file: Option<&impl Sink>, render: impl FnOnce() -> String) {
    if let Some(f) = file {
        f.put(render().into_bytes());
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
        // The decisive job's whole reason (the annotation has its telling line).
        output_entry_cut(scrubber, "message", message, REASON_CHARS),
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
    let mut block = output_block(
        scrubber,
        status,
        exit_code,
        &ids.join(" "),
        secs.as_secs(),
        polls,
        &message,
    );
    block.push_str(&figure_outputs(scrubber, reports));
    block
}

/// DLI's figures as step outputs, summed over the jobs that have them (empty when none has):
/// `rows` (result rows, or rows an INSERT wrote), `result-rows` (the rows as the check
/// counts them: DLI's count, else the preview's), `bytes-scanned`, `dli-duration-ms` (the
/// longest).
fn figure_outputs(scrubber: &Scrubber, reports: &[JobReport]) -> String {
    let add = |all: Vec<u64>| {
        (!all.is_empty()).then(|| all.iter().fold(0u64, |a, b| a.saturating_add(*b)))
    };
    let sum = |f: fn(&crate::wait::snapshot::Figures) -> Option<u64>| {
        add(reports
            .iter()
            .filter_map(|r| r.figures().and_then(f))
            .collect())
    };
    let longest = reports
        .iter()
        .filter_map(|r| r.figures().and_then(|f| f.duration))
        .max()
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let rows = sum(|f| f.result_rows);
    [
        ("rows", rows),
        (
            "result-rows",
            add(reports.iter().filter_map(JobReport::rows_counted).collect()),
        ),
        ("bytes-scanned", sum(|f| f.bytes_scanned)),
        ("dli-duration-ms", longest),
    ]
    .iter()
    .map(|(name, v)| {
        output_entry(
            scrubber,
            name,
            &v.map(|n| n.to_string()).unwrap_or_default(),
        )
    })
    .collect()
}

/// The step outputs of a `run --no-wait` that submitted `ids`: status SUBMITTED, exit code 0,
/// the ids, and how to wait for them later.
pub fn submitted_outputs(scrubber: &Scrubber, ids: &[String]) -> String {
    output_block(
        scrubber,
        SUBMITTED,
        ExitStatus::Finished.code(),
        &ids.join(" "),
        0,
        0,
        &submitted_message(ids),
    )
}

/// What the outputs and the step summary call a job `run --no-wait` submitted.
pub const SUBMITTED: &str = "SUBMITTED";

fn submitted_message(ids: &[String]) -> String {
    format!(
        "submitted, not waited for ({}); wait for it later with: dli-wait -- {} ({} spark for a Spark batch)",
        flag::NO_WAIT,
        ids.join(" "),
        flag::JOB_TYPE
    )
}

/// The step summary of a `run --no-wait`: the job ids, submitted and not waited for.
fn submitted_summary(scrubber: &Scrubber, ids: &[String]) -> String {
    let mut md = String::from("### DLI jobs: submitted\n\n| job | state |\n|---|---|\n");
    for id in ids {
        md.push_str(&format!(
            "| {} | {SUBMITTED} |\n",
            md_code_with(scrubber, id)
        ));
    }
    md.push_str(&format!(
        "\n{}\n\n",
        md_text_with(scrubber, &submitted_message(ids))
    ));
    md
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
        o if o.is_success() => "✅",
        Outcome::Failed
        | Outcome::CheckFailed { .. }
        | Outcome::Refused(_)
        | Outcome::Misconfigured(_) => "❌",
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
        let brief = outcome_brief(r, scrubber);
        if !brief.is_empty() {
            piece.push_str(&format!(
                "\n**{} {}**: {}\n",
                md_code_with(scrubber, &r.job_id),
                r.outcome.label(),
                cut(&md_text_with(scrubber, &brief), TEXT_CHARS)
            ));
        }
        // A reason longer than its telling line: all of it, collapsed.
        let full = outcome_message(r);
        if full != brief && !full.is_empty() {
            piece.push_str(&format!(
                "\n<details><summary>DLI's whole reason</summary>\n\n```text\n{}\n```\n\n</details>\n",
                fenced(scrubber, &full)
            ));
        }
        if let Some(f) = super::figures_text(r) {
            piece.push_str(&format!(
                "\n{}: {}\n",
                md_code_with(scrubber, &r.job_id),
                md_text_with(scrubber, &f)
            ));
        }
        piece.push_str(&super::results::markdown(scrubber, r));
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

impl<S: Sink, F: Sink> Events for Github<S, F> {
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
            Note::NoTaskCounts { .. } | Note::Settling { .. } => None,
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
        if report.outcome.is_success()
            && let Ok(mut s) = self.state.lock()
        {
            s.warnings.remove(&report.job_id);
        }
        self.inner.ended(&report.job_id);
    }
}

impl<S: Sink, F: Sink> Reporter for Github<S, F> {
    fn summary(&self, reports: &[JobReport], exit_code: i32) {
        self.close_group();
        // Outputs and summary first: they matter most exactly when the step fails.
        let scrubber = self.secrets.scrubber();
        let submitted = self
            .state
            .lock()
            .map(|s| s.submitted.clone())
            .unwrap_or_default();
        if reports.is_empty() && exit_code == ExitStatus::Finished.code() && !submitted.is_empty() {
            // `run --no-wait`: submitted, and nothing waited for.
            append(self.files.output.as_ref(), || {
                submitted_outputs(&scrubber, &submitted)
            });
            append(self.files.step_summary.as_ref(), || {
                submitted_summary(&scrubber, &submitted)
            });
            self.inner.summary(reports, exit_code);
            return;
        }
        append(self.files.output.as_ref(), || {
            outputs(&scrubber, reports, exit_code)
        });
        append(self.files.step_summary.as_ref(), || {
            step_summary(&scrubber, reports, exit_code)
        });
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
            if r.outcome.is_success() {
                continue;
            }
            for text in warnings.remove(&r.job_id).unwrap_or_default() {
                said.push(("warning", format!("DLI job {}", r.job_id), text, 1));
            }
        }
        for r in reports {
            let level = match &r.outcome {
                o if o.is_success() => continue,
                Outcome::Failed
                | Outcome::CheckFailed { .. }
                | Outcome::Refused(_)
                | Outcome::Misconfigured(_)
                | Outcome::Stalled { .. }
                | Outcome::Unsteady { .. }
                | Outcome::TimedOut => "error",
                _ => "warning",
            };
            said.push((
                level,
                format!("DLI job {} {}", r.job_id, r.outcome.label()),
                outcome_brief(r, &scrubber),
                0,
            ));
        }
        for line in annotations(&scrubber, said) {
            self.command(&line);
        }
        self.inner.summary(reports, exit_code);
    }

    fn submitted(&self, job_id: &str) {
        if let Ok(mut s) = self.state.lock() {
            s.submitted.push(job_id.to_string());
        }
        self.inner.submitted(job_id);
    }

    /// A job re-attached to stands for this run as a submitted one does: a `--no-wait` run
    /// writes its id to the outputs (`SUBMITTED`), not an empty `ERROR`.
    fn reattached(&self, job_id: &str) {
        if let Ok(mut s) = self.state.lock() {
            s.submitted.push(job_id.to_string());
        }
        self.inner.reattached(job_id);
    }
}

/// Outside text inside a fenced ```` ```text ```` block of the step summary (a collapsed
/// reason): scrubbed, control characters visible, lines kept, cut to `limits::REASON_CHARS`,
/// and no line that could close the fence or the `<details>` (backticks and `<` escaped).
fn fenced(scrubber: &Scrubber, text: &str) -> String {
    let lines = output_value_with(scrubber, text)
        .replace('`', "\u{2035}")
        .replace('<', "\u{2039}");
    cut(&lines, REASON_CHARS).into_owned()
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
/// so later steps can still read why (`status` is the ending's label, or `ERROR`), added to
/// the files of `paths`, and an error annotation on `out` (the run's stderr).
pub fn write_failure(
    secrets: &Secrets,
    out: &Stream,
    paths: &GithubPaths,
    status: &str,
    exit_code: i32,
    message: &str,
) {
    let files = GithubFiles::append(paths, secrets, out);
    write_failure_to(secrets, out, &files, status, exit_code, message);
}

/// [`write_failure`] with the sinks given.
pub fn write_failure_to<F: Sink>(
    secrets: &Secrets,
    out: &impl Sink,
    files: &GithubFiles<F>,
    status: &str,
    exit_code: i32,
    message: &str,
) {
    let scrubber = secrets.scrubber();
    append(files.output.as_ref(), || {
        output_block(&scrubber, status, exit_code, "", 0, 0, message)
    });
    // The step summary says it too: a refused submit or a bad input is what the run's page
    // should show first.
    append(files.step_summary.as_ref(), || {
        format!(
            "### dli-wait: exit {exit_code}\n\n**{status}**: {}\n\n",
            cut(&md_text_with(&scrubber, message), TEXT_CHARS)
        )
    });
    out.line(&annotation(&scrubber, "error", "dli-wait", message));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dli::fault::{Fault, FaultKind};
    use crate::report::human::{Human, Verbosity};
    use crate::report::safe::is_hazard;
    use crate::report::sink::testing::{
        HOSTILE, ID, Memory, OTHER_ID, SECRET, ended, memory, running, text, untimestamped,
    };

    /// The runner's files in memory.
    fn files() -> (GithubFiles<Memory>, Memory, Memory) {
        let (output, step_summary) = (memory(), memory());
        let files = GithubFiles {
            output: Some(output.clone()),
            step_summary: Some(step_summary.clone()),
        };
        (files, output, step_summary)
    }

    fn secrets() -> Secrets {
        let s = Secrets::new();
        s.remember([SECRET]);
        s
    }

    /// The GitHub layer over the human reporter, both writing to one stderr in memory (so
    /// their order shows), and the runner's files in memory.
    fn github(secrets: &Secrets) -> (Arc<Github<Memory, Memory>>, Memory, Memory, Memory) {
        let stderr = memory();
        let hour = Duration::from_secs(3600);
        let human = Human::new(
            secrets.clone(),
            stderr.clone(),
            false,
            Verbosity::Normal,
            hour,
        );
        let (files, output, step_summary) = files();
        let g = Github::with(human, &[], secrets.clone(), stderr.clone(), files);
        (g, stderr, output, step_summary)
    }

    /// `result-rows` is the count the check used: with DLI's figures not read, the preview's
    /// rows (`rows`, DLI's own count, stays empty).
    #[test]
    fn result_rows_is_the_checks_count_when_dlis_figures_were_not_read() {
        use crate::dli::model::PreviewResult;
        use crate::wait::record::Results;
        let mut r = ended(ID, Outcome::CheckFailed { rows: 2 });
        r.figures = Some(Err("DLI.0500 (HTTP 503)".into()));
        r.results = Some(Results::Rows(PreviewResult {
            rows: vec![vec![serde_json::json!(7)], vec![serde_json::json!(9)]],
            ..PreviewResult::default()
        }));
        let outputs: std::collections::BTreeMap<String, String> =
            heredocs(&figure_outputs(&Scrubber::new::<&str>([]), &[r]))
                .into_iter()
                .collect();
        assert_eq!(outputs["rows"], "", "{outputs:?}");
        assert_eq!(outputs["result-rows"], "2", "{outputs:?}");
    }

    /// `$GITHUB_OUTPUT` read as the runner reads it: `name<<DELIM`, the value's lines, `DELIM`.
    fn heredocs(text: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut lines = text.split_inclusive('\n');
        while let Some(head) = lines.next() {
            let (name, delim) = head
                .trim_end_matches('\n')
                .split_once("<<")
                .unwrap_or_else(|| panic!("not a heredoc head: {head:?} in {text}"));
            assert!(delim.starts_with("ghadelimiter_"), "{delim}");
            let mut value = String::new();
            loop {
                let l = lines
                    .next()
                    .unwrap_or_else(|| panic!("{delim} unclosed: {text}"));
                if l == format!("{delim}\n") {
                    break;
                }
                value.push_str(l);
            }
            let value = value.strip_suffix('\n').unwrap_or(&value).to_string();
            out.push((name.to_string(), value));
        }
        out
    }

    fn failed_with(job_id: &str, why: &str) -> JobReport {
        crate::report::sink::testing::failed(job_id, why)
    }

    /// A FAILED job after a retry, and one that FINISHED after its own: the log group, the
    /// closing lines after it, one annotation per job that did not finish (its retry a
    /// warning), the six outputs as heredocs and the step summary's table.
    #[test]
    fn a_failed_job_gives_outputs_a_summary_table_and_annotations() {
        let s = secrets();
        let (g, stderr, output, step_summary) = github(&s);
        let fault = Fault::transport(FaultKind::Connection, "connection reset by peer");
        let retry = Note::Retrying {
            fault,
            after: Duration::from_secs(2),
        };
        g.submitted(ID);
        g.started(ID);
        g.started(OTHER_ID);
        g.snapshot(ID, &running(), Duration::from_secs(5));
        g.note(ID, &retry, Duration::from_secs(6));
        g.note(ID, &retry, Duration::from_secs(9));
        g.note(OTHER_ID, &retry, Duration::from_secs(9));
        let f = failed_with(ID, "Table or view not found: t");
        let mut done = ended(OTHER_ID, Outcome::Finished);
        done.last = None;
        g.finished(&f);
        g.finished(&done);
        g.summary(&[f, done], 1);

        let err = text(&stderr);
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 12, "{err}");
        assert_eq!(untimestamped(lines[0]), format!("submitted job {ID}"));
        assert_eq!(lines[1], "::group::dli-wait poll log");
        assert_eq!(
            untimestamped(lines[2]),
            "job 85798b38-ae44-48eb-bb90-7cf0dcdafe7b RUNNING 43% · tasks 43/100 · stages 1/3 · sub-job 2"
        );
        assert_eq!(lines[6], "::endgroup::");
        let closing =
            format!("job {ID} FAILED in 4m12s (37 polls, 2 retries): Table or view not found: t");
        assert_eq!(lines[7], closing);
        assert_eq!(
            lines[8],
            format!("job {OTHER_ID} FINISHED in 4m12s (37 polls, 2 retries)")
        );
        // One warning per job and kind of fault, none for the job that finished; then the
        // ending.
        assert_eq!(
            lines[9],
            format!("::warning title=DLI job {ID}::retried: connection reset by peer")
        );
        assert_eq!(
            lines[10],
            format!("::error title=DLI job {ID} FAILED::Table or view not found: t")
        );
        assert!(lines[11].starts_with("2 jobs: 85798b38-ae44-48eb-bb90-7cf0dcdafe7b FAILED, 1234abcd-0000-4000-8000-000000000001 FINISHED; exit 1"));

        let outputs = heredocs(&text(&output));
        let names: Vec<&str> = outputs.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "status",
                "exit-code",
                "job-id",
                "duration-seconds",
                "polls",
                "message",
                "rows",
                "result-rows",
                "bytes-scanned",
                "dli-duration-ms"
            ]
        );
        let values: Vec<&str> = outputs.iter().map(|(_, v)| v.as_str()).collect();
        let ids = format!("{ID} {OTHER_ID}");
        assert_eq!(
            values,
            [
                "FAILED",
                "1",
                ids.as_str(),
                "252",
                "74",
                "Table or view not found: t",
                // No figures read: empty, not 0.
                "",
                "",
                "",
                ""
            ]
        );

        let md = text(&step_summary);
        let want = format!(
            "### DLI jobs: exit 1\n\n\
             | job | final state | duration | polls | retries | last seen |\n\
             |---|---|---|---|---|---|\n\
             | `{ID}` | ❌ FAILED | 4m12s | 37 | 2 | RUNNING 43% · tasks 43/100 · stages 1/3 · sub-job 2 |\n\
             | `{OTHER_ID}` | ✅ FINISHED | 4m12s | 37 | 2 |  |\n\
             \n**`{ID}` FAILED**: Table or view not found: t\n\
             \n| sub-job | tasks done / total | failed | stages done / total |\n\
             |---|---|---|---|\n\
             | 2 | 43 / 100 | 0 | 1 / 3 |\n\
             \n"
        );
        assert_eq!(md, want);
    }

    /// Without the runner's files nothing is written to them, and a finished job leaves no
    /// annotation at all, its retries included.
    #[test]
    fn a_finished_job_says_no_warning_and_no_files_means_none_written() {
        let s = secrets();
        let stderr = memory();
        let files: GithubFiles<Memory> = GithubFiles {
            output: None,
            step_summary: None,
        };
        let json = Arc::new(crate::report::json::Json::new(s.clone(), memory()));
        let g = Github::with(json, &[], s, stderr.clone(), files);
        g.started(ID);
        let fault = Fault::transport(FaultKind::Connection, "reset");
        let after = Duration::from_secs(1);
        g.note(ID, &Note::Retrying { fault, after }, Duration::ZERO);
        let r = ended(ID, Outcome::Finished);
        g.finished(&r);
        g.summary(&[r], 0);
        assert_eq!(text(&stderr), "::group::dli-wait poll log\n::endgroup::\n");
    }

    /// DLI's text in every GitHub output: no workflow command of its own, no raw control
    /// character, no HTML or table row of its own, no known secret.
    #[test]
    fn hostile_text_is_safe_in_every_github_output() {
        let s = secrets();
        let (g, stderr, output, step_summary) = github(&s);
        let mut r = failed_with(ID, HOSTILE);
        r.last = Some(Snapshot {
            status: crate::dli::model::JobStatus::Other(HOSTILE.into()),
            ..running()
        });
        g.started(ID);
        g.finished(&r);
        g.summary(&[r], 1);
        let err = text(&stderr);
        for (name, t) in [
            ("stderr", &err),
            ("outputs", &text(&output)),
            ("summary", &text(&step_summary)),
        ] {
            assert!(!t.contains(SECRET), "a secret in {name}: {t}");
            // The runner reads `##[` anywhere in a line of its logs and outputs (not in the
            // step summary, which is Markdown).
            assert!(
                name == "summary" || !t.contains("##"),
                "`##` in {name}: {t}"
            );
            for l in t.lines() {
                let ours = ["::group::", "::endgroup::", "::error title=DLI job "];
                assert!(
                    !l.trim_start().starts_with("::") || ours.iter().any(|o| l.starts_with(o)),
                    "a command in {name}: {l}"
                );
                assert!(
                    !l.chars().any(is_hazard),
                    "a control character in {name}: {l:?}"
                );
            }
        }
        // The annotation: one line, the reason's telling line and how many more there are.
        let annotation = err
            .lines()
            .find(|l| l.starts_with("::error "))
            .unwrap_or_default();
        assert_eq!(
            annotation,
            format!("::error title=DLI job {ID} FAILED::boom [+4 lines]")
        );
        // The message output: the text's lines, each safe for a later step to print.
        let outputs = heredocs(&text(&output));
        let message = &outputs[5].1;
        assert_eq!(message.lines().count(), 5, "{message}");
        assert!(
            message.starts_with("boom\n\\::add-mask::FINISHED\n  \\::warning::injected\n"),
            "{message}"
        );
        assert!(message.ends_with("key *** end"), "{message}");
        // The step summary: each job one row, no HTML, links or code spans of DLI's.
        let md = text(&step_summary);
        let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| `")).collect();
        assert_eq!(rows.len(), 1, "{md}");
        let cells = rows[0]
            .match_indices('|')
            .filter(|(i, _)| !rows[0][..*i].ends_with('\\'));
        assert_eq!(cells.count(), 7, "{}", rows[0]);
        assert!(rows[0].starts_with(&format!("| `{ID}` | ❌ FAILED | 4m12s | 37 | 2 | boom⏎")));
        assert!(
            !md.contains("<script>") && md.contains("&lt;script&gt;"),
            "{md}"
        );
        assert!(md.contains("\\| \\`c\\` \\[l\\](u) key *** end"), "{md}");
    }

    /// A run that stops before any wait ends still gives the outputs, a step summary and an
    /// error annotation, scrubbed.
    #[test]
    fn a_failure_before_any_wait_still_gives_outputs_and_an_annotation() {
        let s = secrets();
        let stderr = memory();
        let (files, output, step_summary) = files();
        let why = format!("bad input: --timeout 0s\n::warning::x {SECRET}");
        write_failure_to(&s, &stderr, &files, "ERROR", 2, &why);
        let outputs = heredocs(&text(&output));
        let got: Vec<(&str, &str)> = outputs
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("status", "ERROR"),
                ("exit-code", "2"),
                ("job-id", ""),
                ("duration-seconds", "0"),
                ("polls", "0"),
                ("message", "bad input: --timeout 0s\n\\::warning::x ***"),
            ]
        );
        assert_eq!(
            text(&step_summary),
            "### dli-wait: exit 2\n\n**ERROR**: bad input: --timeout 0s⏎::warning::x ***\n\n"
        );
        assert_eq!(
            text(&stderr),
            "::error title=dli-wait::bad input: --timeout 0s%0A\\::warning::x ***\n"
        );
    }

    /// `::add-mask::` once per secret learnt, its value escaped; nothing for an empty one.
    /// `run --no-wait`: no job was waited for, yet the outputs are not ERROR: SUBMITTED, 0, the
    /// new id, and how to wait for it.
    #[test]
    fn a_submit_without_a_wait_says_submitted_with_the_id() {
        let s = secrets();
        let (g, _, output, step_summary) = github(&s);
        let id = "5e1f0000-0000-4000-8000-000000000001";
        g.submitted(id);
        g.summary(&[], 0);
        let outputs = heredocs(&text(&output));
        let got: Vec<(&str, &str)> = outputs
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let message = format!(
            "submitted, not waited for (--no-wait); wait for it later with: dli-wait -- {id} (--job-type spark for a Spark batch)"
        );
        assert_eq!(
            got,
            [
                ("status", "SUBMITTED"),
                ("exit-code", "0"),
                ("job-id", id),
                ("duration-seconds", "0"),
                ("polls", "0"),
                ("message", message.as_str()),
            ]
        );
        assert!(
            text(&step_summary).contains(&format!("| `{id}` | SUBMITTED |")),
            "{}",
            text(&step_summary)
        );
    }

    #[test]
    fn masks_are_one_line_each() {
        let out = memory();
        add_mask(&out, &["tok%en\nnext", "", "k2"]);
        assert_eq!(text(&out), "::add-mask::tok%25en%0Anext\n::add-mask::k2\n");
    }

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
        // The `message` output keeps a whole reason up to `limits::REASON_CHARS`.
        assert!(o.chars().count() < REASON_CHARS + 40, "{}", o.len());
        assert!(o.chars().count() > TEXT_CHARS, "{}", o.len());
        assert!(o.ends_with(" more characters)"), "{o}");
        assert!(!out.contains("SECRET"), "a secret in the outputs");
    }
}
