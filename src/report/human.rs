//! Output for people on stderr: a live bar per job on a terminal; elsewhere (CI logs, cron
//! mail) one timestamped line per change, plus a heartbeat while nothing changes.

use super::limits::{TEXT_CHARS, cut};
use super::safe::Secrets;
use super::sink::Sink;
use super::stream::Stream;
use super::{Reporter, closing_line, describe, describe_state, fault_text, fmt_duration, short_id};
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
                        short_id(id),
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
            b.set_prefix(self.secrets.line(&format!("job {}", short_id(job_id))));
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
            self.progress_line(&format!("job {} {text}", short_id(job_id)));
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
            Note::NoTaskCounts => format!(
                "a Spark batch reports no task counts, so stall detection ({}) is off for it; the wait ends at success, dead or {}",
                flag::STALL_TIMEOUT,
                flag::TIMEOUT
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
        self.progress_line(&format!("job {} {text}", short_id(job_id)));
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
        self.line(&format!("{} job {} {text}", timestamp(), short_id(job_id)));
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
        self.line(&closing_line(report));
    }
}

impl<S: Sink> Reporter for Human<S> {
    fn summary(&self, reports: &[JobReport], exit_code: i32) {
        if reports.len() > 1 {
            let ended: Vec<String> = reports
                .iter()
                .map(|r| format!("{} {}", short_id(&r.job_id), r.outcome.label()))
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
}
