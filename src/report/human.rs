//! Output for people on stderr: a live bar per job on a terminal; elsewhere (CI logs, cron
//! mail) one timestamped line per change, plus a heartbeat while nothing changes.

use super::limits::{TEXT_CHARS, cut};
use super::safe::Secrets;
use super::sink::Sink;
use super::stream::Stream;
use super::{Reporter, closing_line, describe, describe_state, fault_text, fmt_duration};
use crate::cli::flag;
use crate::wait::events::Events;
use crate::wait::machine::Note;
use crate::wait::record::{CancelReport, JobReport};
use crate::wait::snapshot::Snapshot;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// More silent jobs than this get one heartbeat line between them.
const MAX_HEARTBEAT_LINES: usize = 5;

/// How chatty to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    /// Only the closing line of each job.
    Quiet,
    Normal,
}

struct JobView {
    started: Instant,
    /// The state at the last poll, as the heartbeat says it.
    last_line: String,
    /// The state without what changes at every poll (the time queued): a line when it changes.
    last_state: String,
    last_printed: Instant,
    bar: Option<ProgressBar>,
}

/// The human reporter, writing its lines to `S` (in a run, the run's stderr [`Stream`]).
pub struct Human<S: Sink = Stream> {
    multi: Option<MultiProgress>,
    verbosity: Verbosity,
    heartbeat: Duration,
    jobs: Mutex<HashMap<String, JobView>>,
    /// The run's secrets, scrubbed from every line.
    secrets: Secrets,
    /// Where the lines go: the run's stderr (written by a thread of its own, never holding
    /// up the wait), or memory in a test.
    out: S,
}

/// UTC, to the second: unambiguous in CI logs and cron mail.
pub fn timestamp() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.format(time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
    ))
    .unwrap_or_default()
}

impl<S: Sink> Human<S> {
    /// `live`: draw bars (stderr is a terminal; they are drawn on stderr itself). `heartbeat`:
    /// the longest silence off a terminal before a "still waiting" line (CI watchdogs kill
    /// silent steps). Every line scrubs `secrets` and goes to `out` (the run's stderr).
    pub fn new(
        secrets: Secrets,
        out: S,
        live: bool,
        verbosity: Verbosity,
        heartbeat: Duration,
    ) -> Arc<Self> {
        let multi = (live && verbosity == Verbosity::Normal)
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Arc::new(Human {
            multi,
            verbosity,
            heartbeat,
            jobs: Mutex::new(HashMap::new()),
            secrets,
            out,
        })
    }

    /// Print one line; everything on it (outside text included) goes through `Secrets::line`,
    /// then is cut to `limits::TEXT_CHARS` (a megabyte of DLI's reason is not a log line).
    fn line(&self, text: &str) {
        let clean = self.secrets.line(text);
        let text = &cut(&clean, TEXT_CHARS);
        match &self.multi {
            Some(m) => {
                let _ = m.println(text);
            }
            None => self.out.line(text),
        }
    }

    fn progress_line(&self, text: &str) {
        if self.verbosity == Verbosity::Normal {
            self.line(&format!("{} {text}", timestamp()));
        }
    }

    /// Print a heartbeat for every job still waiting that has been silent for longer than
    /// the interval. Called by [`Human::spawn_heartbeat`]'s ticker.
    fn beat(&self) {
        if self.multi.is_some() || self.verbosity == Verbosity::Quiet {
            return;
        }
        let mut lines = Vec::new();
        let mut waiting = 0;
        if let Ok(mut jobs) = self.jobs.lock() {
            waiting = jobs.len();
            for (id, v) in jobs.iter_mut() {
                if v.last_printed.elapsed() >= self.heartbeat {
                    v.last_printed = Instant::now();
                    let state = if v.last_line.is_empty() {
                        "no answer yet".to_string()
                    } else {
                        v.last_line.clone()
                    };
                    lines.push(format!(
                        "job {} still waiting: {state} (waited {})",
                        id,
                        fmt_duration(v.started.elapsed())
                    ));
                }
            }
        }
        // Beyond a handful, one line says it all: a CI log is not the place for 10,000.
        if lines.len() > MAX_HEARTBEAT_LINES {
            self.progress_line(&format!(
                "still waiting for {waiting} jobs ({} silent for {} or more)",
                lines.len(),
                fmt_duration(self.heartbeat)
            ));
            return;
        }
        for l in &lines {
            self.progress_line(l);
        }
    }

    /// Tick every few seconds and print heartbeats (off a terminal only).
    pub fn spawn_heartbeat(self: &Arc<Self>)
    where
        S: 'static,
    {
        if self.multi.is_some() || self.verbosity == Verbosity::Quiet {
            return;
        }
        let me = Arc::clone(self);
        let tick = (self.heartbeat / 4).max(Duration::from_millis(250));
        tokio::spawn(async move {
            let mut iv = tokio::time::interval(tick);
            loop {
                iv.tick().await;
                me.beat();
            }
        });
    }
}

impl<S: Sink> Events for Human<S> {
    fn started(&self, job_id: &str) {
        let bar = self.multi.as_ref().map(|m| {
            let b = m.add(ProgressBar::new_spinner());
            b.set_style(
                ProgressStyle::with_template("{spinner} {prefix} [{elapsed}] {wide_msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            b.set_prefix(self.secrets.line(&format!("job {}", job_id)));
            b.set_message("waiting for the first answer");
            b.enable_steady_tick(Duration::from_millis(120));
            b
        });
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.insert(
                job_id.to_string(),
                JobView {
                    started: Instant::now(),
                    last_line: String::new(),
                    last_state: String::new(),
                    last_printed: Instant::now(),
                    bar,
                },
            );
        }
    }

    fn snapshot(&self, job_id: &str, snap: &Snapshot, _elapsed: Duration) {
        let text = describe(snap);
        let state = describe_state(snap);
        let print = {
            let Ok(mut jobs) = self.jobs.lock() else {
                return;
            };
            let Some(v) = jobs.get_mut(job_id) else {
                return;
            };
            if let Some(b) = &v.bar {
                b.set_message(cut(&self.secrets.line(&text), TEXT_CHARS).into_owned());
            }
            v.last_line = text.clone();
            if v.last_state == state {
                false
            } else {
                v.last_state = state;
                v.last_printed = Instant::now();
                v.bar.is_none()
            }
        };
        if print {
            self.progress_line(&format!("job {} {text}", job_id));
        }
    }

    fn note(&self, job_id: &str, note: &Note, _elapsed: Duration) {
        let text = match note {
            Note::UnknownStatus(s) => format!(
                "DLI reported status {s:?}, unknown to this version of dli-wait; treating it as not ended yet"
            ),
            Note::FallbackToStatus { busy_answers } => format!(
                "/progress answered DLI.0999 {busy_answers} times in a row (queue busy, or its backend too old for /progress); polling /status instead, without task counts, so stall detection is off"
            ),
            Note::NoTaskCounts { what, instead } => format!(
                "{what} reports no task counts, so stall detection ({}) is off for it; {instead}",
                flag::STALL_TIMEOUT,
            ),
            Note::Settling { window } => format!(
                "running; it passes once it has stayed running for {} ({})",
                fmt_duration(*window),
                flag::SETTLE
            ),
            Note::Retrying { fault, after } => format!(
                "{}; retrying in {}",
                fault_text(fault).trim_end_matches('.'),
                fmt_duration(*after)
            ),
        };
        if let Ok(mut jobs) = self.jobs.lock()
            && let Some(v) = jobs.get_mut(job_id)
        {
            v.last_printed = Instant::now();
        }
        self.progress_line(&format!("job {} {text}", job_id));
    }

    fn cancelled(&self, job_id: &str, cancel: &CancelReport) {
        let text = match (cancel.accepted, cancel.confirmed) {
            // CANCELLED for a SQL job; a Spark batch shows `dead`.
            (true, true) => "cancelled (confirmed by DLI)".to_string(),
            (true, false) => format!("cancel requested {}", cancel.message)
                .trim_end()
                .to_string(),
            (false, _) => format!("cancel FAILED: {}", cancel.message),
        };
        self.line(&format!("{} job {} {text}", timestamp(), job_id));
    }

    fn ended(&self, job_id: &str) {
        let view = self
            .jobs
            .lock()
            .ok()
            .and_then(|mut jobs| jobs.remove(job_id));
        if let Some(b) = view.and_then(|v| v.bar) {
            b.finish_and_clear();
        }
    }

    fn finished(&self, report: &JobReport) {
        self.ended(&report.job_id);
        self.line(&closing_line(report, &self.secrets.scrubber()));
    }
}

impl<S: Sink> Reporter for Human<S> {
    fn summary(&self, reports: &[JobReport], exit_code: i32) {
        if reports.len() > 1 {
            let ended: Vec<String> = reports
                .iter()
                .map(|r| format!("{} {}", &r.job_id, r.outcome.label()))
                .collect();
            self.line(&format!(
                "{} jobs: {}; exit {exit_code}",
                reports.len(),
                ended.join(", ")
            ));
        }
    }

    fn submitted(&self, job_id: &str) {
        // Even with -q: the id is what someone needs to find the job later.
        self.line(&format!("{} submitted job {job_id}", timestamp()));
    }

    fn reattached(&self, job_id: &str) {
        self.line(&format!("{} re-attached to job {job_id}", timestamp()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dli::fault::{Fault, FaultKind};
    use crate::report::safe::is_hazard;
    use crate::report::sink::testing::{
        HOSTILE, ID, Memory, OTHER_ID, SECRET, ended, failed, memory, running, text, untimestamped,
    };
    use crate::wait::outcome::Outcome;

    fn human(verbosity: Verbosity, heartbeat: Duration) -> (Arc<Human<Memory>>, Memory) {
        let out = memory();
        let secrets = Secrets::new();
        secrets.remember([SECRET]);
        (
            Human::new(secrets, out.clone(), false, verbosity, heartbeat),
            out,
        )
    }

    const HOUR: Duration = Duration::from_secs(3600);

    /// Off a terminal: a timestamped line per change of state (not per poll), per note and
    /// cancel, then the closing line as the user reads it.
    #[test]
    fn a_line_per_change_then_the_closing_line() {
        let (h, out) = human(Verbosity::Normal, HOUR);
        h.submitted(ID);
        h.started(ID);
        h.snapshot(ID, &running(), Duration::from_secs(5));
        // The same state again: no line.
        h.snapshot(ID, &running(), Duration::from_secs(10));
        let fault = Fault::transport(FaultKind::Connection, "connection reset by peer");
        let after = Duration::from_secs(2);
        h.note(
            ID,
            &Note::Retrying { fault, after },
            Duration::from_secs(12),
        );
        h.note(ID, &Note::UnknownStatus("THAWING".into()), Duration::ZERO);
        let cancel = CancelReport {
            accepted: true,
            confirmed: true,
            message: String::new(),
        };
        h.cancelled(ID, &cancel);
        h.finished(&ended(ID, Outcome::Finished));
        let all = text(&out);
        let lines: Vec<&str> = all.lines().collect();
        assert_eq!(lines.len(), 6, "{all}");
        assert_eq!(untimestamped(lines[0]), format!("submitted job {ID}"));
        assert_eq!(
            untimestamped(lines[1]),
            "job 85798b38-ae44-48eb-bb90-7cf0dcdafe7b RUNNING 43% · tasks 43/100 · stages 1/3 · sub-job 2"
        );
        assert_eq!(
            untimestamped(lines[2]),
            "job 85798b38-ae44-48eb-bb90-7cf0dcdafe7b connection reset by peer; retrying in 2s"
        );
        assert_eq!(
            untimestamped(lines[3]),
            "job 85798b38-ae44-48eb-bb90-7cf0dcdafe7b DLI reported status \"THAWING\", unknown to this version of dli-wait; treating it as not ended yet"
        );
        assert_eq!(
            untimestamped(lines[4]),
            "job 85798b38-ae44-48eb-bb90-7cf0dcdafe7b cancelled (confirmed by DLI)"
        );
        assert_eq!(
            lines[5],
            format!("job {ID} FINISHED in 4m12s (37 polls, 2 retries)")
        );
        assert!(all.ends_with(")\n"), "{all:?}");
    }

    /// `-q`: the submitted id and the closing line only; a summary line only for several jobs.
    #[test]
    fn quiet_says_the_id_and_the_closing_line_and_several_jobs_a_summary() {
        let (h, out) = human(Verbosity::Quiet, HOUR);
        h.submitted(ID);
        h.started(ID);
        h.snapshot(ID, &running(), Duration::from_secs(5));
        h.note(
            ID,
            &Note::NoTaskCounts {
                what: "a Spark batch",
                instead: "",
            },
            Duration::ZERO,
        );
        h.beat();
        let r = failed(ID, "Table or view not found: t");
        h.finished(&r);
        h.summary(std::slice::from_ref(&r), 1);
        let all = text(&out);
        let lines: Vec<&str> = all.lines().collect();
        assert_eq!(lines.len(), 2, "{all}");
        assert_eq!(untimestamped(lines[0]), format!("submitted job {ID}"));
        assert_eq!(
            lines[1],
            format!("job {ID} FAILED in 4m12s (37 polls, 2 retries): Table or view not found: t")
        );
        let other = ended(OTHER_ID, Outcome::Finished);
        h.summary(&[r, other], 1);
        assert!(
            text(&out).ends_with("2 jobs: 85798b38-ae44-48eb-bb90-7cf0dcdafe7b FAILED, 1234abcd-0000-4000-8000-000000000001 FINISHED; exit 1\n"),
            "{}",
            text(&out)
        );
    }

    /// A job silent for longer than the heartbeat gets a "still waiting" line; past a
    /// handful of them, one line says it for all.
    #[test]
    fn heartbeats_say_who_is_still_waiting() {
        let (h, out) = human(Verbosity::Normal, Duration::ZERO);
        h.started(ID);
        h.beat();
        let all = text(&out);
        let line = untimestamped(all.trim_end());
        assert!(
            line.starts_with(
                "job 85798b38-ae44-48eb-bb90-7cf0dcdafe7b still waiting: no answer yet (waited "
            ),
            "{all}"
        );
        for i in 0..MAX_HEARTBEAT_LINES {
            h.started(&format!("job-{i}"));
        }
        h.beat();
        let all = text(&out);
        let last = all.lines().last().unwrap_or_default();
        assert_eq!(
            untimestamped(last),
            "still waiting for 6 jobs (6 silent for 0s or more)"
        );
        assert_eq!(all.lines().count(), 2, "{all}");
    }

    /// DLI's text is data: the closing line stays one line, shows control characters, starts
    /// no workflow command, shows no known secret, and is cut to `limits::TEXT_CHARS`.
    #[test]
    fn hostile_reasons_stay_one_safe_bounded_line() {
        let (h, out) = human(Verbosity::Normal, HOUR);
        // A reason of several lines: its first, and how many more (the JSON has them all).
        h.finished(&failed(ID, HOSTILE));
        let all = text(&out);
        assert!(all.ends_with(": boom [+4 lines]\n"), "{all:?}");
        // On one line, it is all there, made inert.
        let (h, out) = human(Verbosity::Normal, HOUR);
        h.finished(&failed(ID, &HOSTILE.replace(['\r', '\n'], "\u{2028}")));
        let all = text(&out);
        assert_eq!(all.matches('\n').count(), 1, "{all:?}");
        assert!(!all.trim_end().chars().any(is_hazard), "{all:?}");
        assert!(
            !all.contains(SECRET) && all.contains("key *** end"),
            "{all:?}"
        );
        assert!(!all.contains("##"), "{all:?}");
        assert!(
            all.ends_with(": boom\\u{2028}::add-mask::FINISHED\\u{2028}\\u{2028}  ::warning::injected\\u{2028}#\\#[error]old form\\u{2028}\\u{1b}]0;title\\u{7}\\u{1b}[2J <script>x</script> | `c` [l](u) key *** end\n"),
            "{all:?}"
        );
        let huge = format!("{SECRET}{}", "x".repeat(3 * TEXT_CHARS));
        h.finished(&failed(ID, &huge));
        let last = text(&out).lines().last().unwrap_or_default().to_string();
        assert!(
            last.starts_with(&format!("job {ID} FAILED in 4m12s")),
            "{last}"
        );
        assert!(last.contains(": ***x"), "{last}");
        assert!(last.ends_with(" more characters)"), "{last}");
        assert!(last.chars().count() < TEXT_CHARS + 40, "{}", last.len());
    }
}
