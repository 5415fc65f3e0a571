//! `--record FILE`: what was seen of each waited job (when its state changed: status, sub-job,
//! task and stage counts), written at the end as a simulator scenario that `simulate` and the
//! policy benchmark's `--corpus` replay. Wraps the reporter; the timeline is rebuilt by a pure
//! function.
//!
//! Bounded: a poll is kept as a [`Seen`] (a few dozen bytes, none of the body's texts), and
//! only where something changed: of a run of polls that saw the same, the first and the last
//! (all the timeline needs). At most [`MAX_CHANGES`] per job: past that the job's recording is
//! cut, and its scenario name and a note on stderr say so.

use super::summary_file;
use crate::dli::model::JobStatus;
use crate::report::Reporter;
use crate::report::safe::Secrets;
use crate::report::stream::Stream;
use crate::sim::scenario::{End, JobKind, JobSpec, Span, SubJobSpec};
use crate::wait::events::Events;
use crate::wait::machine::Note;
use crate::wait::outcome::Outcome;
use crate::wait::record::{CancelReport, JobReport};
use crate::wait::snapshot::{Snapshot, Source};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The most changes of state kept per job (about 1 MB at most for one job); past that its
/// recording is cut.
pub const MAX_CHANGES: usize = 10_000;

/// The most characters of a status DLI did not define that are kept.
const STATUS_CHARS: usize = 64;

/// What the timeline needs of one poll: its status, source, sub-job and that sub-job's size.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    pub status: JobStatus,
    pub source: Source,
    pub sub_job_id: Option<i64>,
    /// The running sub-job's (or else the first one's) tasks and stages, at least 1 each.
    pub counts: (i64, i64),
}

impl Seen {
    pub fn of(s: &Snapshot) -> Self {
        let status = match &s.status {
            JobStatus::Other(text) if text.chars().count() > STATUS_CHARS => {
                JobStatus::Other(text.chars().take(STATUS_CHARS).collect())
            }
            other => other.clone(),
        };
        let counts = s
            .sub_jobs
            .iter()
            .find(|j| j.id == s.sub_job_id && j.id.is_some())
            .or(s.sub_jobs.first())
            .map(|j| {
                (
                    j.num_tasks.max(1),
                    i64::try_from(j.stage_ids.len()).unwrap_or(1).max(1),
                )
            })
            .unwrap_or((1, 1));
        Seen {
            status,
            source: s.source,
            sub_job_id: s.sub_job_id,
            counts,
        }
    }
}

/// One job's kept polls.
#[derive(Debug, Clone, Default)]
struct Timeline {
    polls: Vec<(Duration, Seen)>,
    /// Whether the last kept poll closes a run of the same (it may be moved on).
    run_open: bool,
    cut: bool,
}

impl Timeline {
    /// Keep what `seen` at `at` adds: a change, or the new end of a run of the same.
    fn push(&mut self, at: Duration, seen: Seen) {
        let n = self.polls.len();
        let same_as_last = self.polls.last().is_some_and(|(_, s)| *s == seen);
        if same_as_last {
            let run_started_before = n >= 2 && self.polls[n - 2].1 == seen;
            if self.run_open && run_started_before {
                // The run goes on: its end moves.
                self.polls[n - 1].0 = at;
                return;
            }
        }
        if n >= MAX_CHANGES {
            self.cut = true;
            return;
        }
        self.run_open = same_as_last;
        self.polls.push((at, seen));
    }
}

/// A reporter that also keeps what each poll saw (bounded: [`Timeline`]), and writes the
/// scenario at the summary.
pub struct Recording {
    inner: Arc<dyn Reporter>,
    path: PathBuf,
    seen: Mutex<BTreeMap<String, Timeline>>,
    secrets: Secrets,
    stderr: Stream,
}

impl Recording {
    pub fn new(
        inner: Arc<dyn Reporter>,
        path: PathBuf,
        secrets: Secrets,
        stderr: Stream,
    ) -> Arc<Self> {
        Arc::new(Recording {
            inner,
            path,
            seen: Mutex::new(BTreeMap::new()),
            secrets,
            stderr,
        })
    }

    fn write(&self, reports: &[JobReport]) {
        let mut cut = 0usize;
        let jobs: Vec<JobSpec> = {
            let seen = self.seen.lock().map(|s| s.clone()).unwrap_or_default();
            reports
                .iter()
                .map(|r| {
                    let t = seen.get(&r.job_id);
                    let mut spec = job_spec(r, t.map_or(&[][..], |t| t.polls.as_slice()));
                    if t.is_some_and(|t| t.cut) {
                        cut += 1;
                        spec.name = Some(format!(
                            "recorded: {} (cut after {MAX_CHANGES} changes)",
                            r.outcome.label()
                        ));
                    }
                    spec
                })
                .collect()
        };
        if cut > 0 {
            self.stderr.line(&format!(
                "note: {} kept at most {MAX_CHANGES} changes of state per job; {cut} job{} recorded only up to there",
                crate::cli::flag::RECORD,
                if cut == 1 { " is" } else { "s are" }
            ));
        }
        let scenario = serde_json::json!({ "speed": 1, "jobs": jobs });
        let result = serde_json::to_vec_pretty(&scenario)
            .map_err(std::io::Error::other)
            .and_then(|mut text| {
                text.push(b'\n');
                summary_file::replace(&self.path, text)
            });
        if let Err(e) = result {
            self.stderr.line(&self.secrets.line(&format!(
                "error: cannot write {} {}: {e}",
                crate::cli::flag::RECORD,
                self.path.display()
            )));
        }
    }
}

/// The scenario job that plays back what `polls` saw of `report`'s job: time in LAUNCHING,
/// each sub-job from its first sighting to the next one's, the commit tail, and the ending
/// (a job whose end was not seen runs on forever). Times are since the wait started.
pub fn job_spec(report: &JobReport, polls: &[(Duration, Seen)]) -> JobSpec {
    if polls.iter().any(|(_, s)| s.source == Source::Batch) {
        return batch_spec(report, polls);
    }
    let secs = |d: Duration| Span(Some(d));
    let ended_at = polls
        .iter()
        .find(|(_, s)| s.status.is_terminal())
        .map(|(t, _)| *t);
    let launching = polls
        .iter()
        .find(|(_, s)| s.status != JobStatus::Launching)
        .map_or_else(|| ended_at.unwrap_or(report.elapsed), |(t, _)| *t);
    // Each sub-job: first seen, and its size (tasks, stages) as last seen.
    let mut subs: Vec<(i64, Duration, i64, i64)> = Vec::new();
    for (t, s) in polls {
        let Some(id) = s.sub_job_id else { continue };
        let counts = s.counts;
        match subs.last_mut() {
            Some(last) if last.0 == id => (last.2, last.3) = counts,
            _ => subs.push((id, *t, counts.0, counts.1)),
        }
    }
    // A sub-job runs until the next one is seen, or until the last poll that showed it.
    let last_seen = |id: i64| {
        polls
            .iter()
            .filter(|(_, s)| s.sub_job_id == Some(id))
            .map(|(t, _)| *t)
            .next_back()
    };
    let mut sub_jobs = Vec::new();
    let mut clock = launching;
    for (i, (id, first, tasks, stages)) in subs.iter().enumerate() {
        let until = subs
            .get(i + 1)
            .map(|next| next.1)
            .or_else(|| last_seen(*id))
            .unwrap_or(*first);
        sub_jobs.push(SubJobSpec {
            gap: secs(first.saturating_sub(clock)),
            tasks: *tasks,
            stages: *stages,
            duration: secs(until.saturating_sub(*first).max(Duration::from_millis(1))),
            parallelism: 16,
            stragglers: None,
            stall_at: None,
            waves: false,
            flat_start: None,
        });
        clock = until.max(*first);
    }
    let (commit, end) = match (&report.outcome, ended_at) {
        (Outcome::Finished, Some(t)) => (secs(t.saturating_sub(clock)), End::Finished),
        (Outcome::Failed, Some(t)) => (
            secs(t.saturating_sub(clock)),
            End::Failed {
                message: report
                    .reason
                    .as_ref()
                    .map(|r| r.message.clone())
                    .unwrap_or_default(),
                detail: report.reason.as_ref().and_then(|r| r.detail.clone()),
            },
        ),
        (Outcome::Cancelled, Some(t)) => (secs(t.saturating_sub(clock)), End::Cancelled),
        // The end was not seen (timed out, stalled, interrupted): it goes on.
        _ => (Span(None), End::Finished),
    };
    JobSpec {
        id: Some(report.job_id.clone()),
        name: Some(format!("recorded: {}", report.outcome.label())),
        launching: secs(launching),
        sub_jobs,
        commit,
        end,
        ..JobSpec::default()
    }
}

/// A Spark batch as its polls saw it: `starting` until the first poll that was not, `running`
/// until the first `recovering` or the end, `recovering` until the end, and the end (`dead`
/// with DLI's reason as its log's tail). A batch whose end was not seen runs on forever.
fn batch_spec(report: &JobReport, polls: &[(Duration, Seen)]) -> JobSpec {
    let first =
        |f: &dyn Fn(&JobStatus) -> bool| polls.iter().find(|(_, s)| f(&s.status)).map(|(t, _)| *t);
    let ended_at = first(&|s| s.is_terminal());
    let open_end = ended_at.unwrap_or(report.elapsed);
    let running_from = first(&|s| *s != JobStatus::Starting).unwrap_or(open_end);
    let recovering_from = first(&|s| *s == JobStatus::Recovering)
        .filter(|t| *t >= running_from)
        .unwrap_or(open_end);
    let span = |d: Duration| Span(Some(d));
    let (running, recovering) = match ended_at {
        Some(end) => (
            span(recovering_from.saturating_sub(running_from)),
            span(end.saturating_sub(recovering_from)),
        ),
        // Still going when the wait ended: in the state it was last seen in, for ever.
        None if recovering_from < open_end => (
            span(recovering_from.saturating_sub(running_from)),
            Span(None),
        ),
        None => (Span(None), span(Duration::ZERO)),
    };
    let end = match (&report.outcome, ended_at) {
        (Outcome::Failed | Outcome::Cancelled, Some(_)) => End::Dead {
            log: report
                .reason
                .as_ref()
                .map(|r| vec![r.message.clone()])
                .unwrap_or_default(),
            driver_log: Vec::new(),
        },
        _ => End::Success,
    };
    JobSpec {
        kind: JobKind::Spark,
        id: Some(report.job_id.clone()),
        name: Some(format!("recorded: {}", report.outcome.label())),
        starting: span(running_from),
        running,
        recovering,
        end,
        ..JobSpec::default()
    }
}

impl Events for Recording {
    fn started(&self, job_id: &str) {
        self.inner.started(job_id);
    }

    fn snapshot(&self, job_id: &str, snap: &Snapshot, elapsed: Duration) {
        if let Ok(mut seen) = self.seen.lock() {
            seen.entry(job_id.to_string())
                .or_default()
                .push(elapsed, Seen::of(snap));
        }
        self.inner.snapshot(job_id, snap, elapsed);
    }

    fn note(&self, job_id: &str, note: &Note, elapsed: Duration) {
        self.inner.note(job_id, note, elapsed);
    }

    fn cancelled(&self, job_id: &str, cancel: &CancelReport) {
        self.inner.cancelled(job_id, cancel);
    }

    fn ended(&self, job_id: &str) {
        self.inner.ended(job_id);
    }

    fn finished(&self, report: &JobReport) {
        self.inner.finished(report);
    }
}

impl Reporter for Recording {
    fn summary(&self, reports: &[JobReport], exit_code: i32) {
        self.write(reports);
        self.inner.summary(reports, exit_code);
    }

    fn submitted(&self, job_id: &str) {
        self.inner.submitted(job_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dli::model::SubJob;
    use crate::wait::snapshot::Source;

    fn snap(status: &str, sub: Option<(i64, i64)>) -> Snapshot {
        Snapshot {
            status: JobStatus::from(status),
            message: String::new(),
            source: Source::Progress,
            progress: None,
            sub_job_id: sub.map(|(id, _)| id),
            sub_jobs: sub
                .map(|(id, tasks)| {
                    vec![SubJob {
                        id: Some(id),
                        num_tasks: tasks,
                        stage_ids: vec![0, 1],
                        ..SubJob::default()
                    }]
                })
                .unwrap_or_default(),
            detail: None,
            queued: None,
        }
    }

    fn seen(polls: &[(Duration, Snapshot)]) -> Vec<(Duration, Seen)> {
        polls.iter().map(|(t, s)| (*t, Seen::of(s))).collect()
    }

    fn report(outcome: Outcome) -> JobReport {
        let mut r = JobReport::ended_at_submit("85798b38-ae44-48eb-bb90-7cf0dcdafe7b".into());
        r.outcome = outcome;
        r
    }

    #[test]
    fn a_seen_timeline_becomes_phases() {
        let s = |secs| Duration::from_secs(secs);
        let polls = vec![
            (s(0), snap("LAUNCHING", None)),
            (s(10), snap("RUNNING", Some((0, 40)))),
            (s(30), snap("RUNNING", Some((0, 40)))),
            (s(40), snap("RUNNING", Some((1, 8)))),
            (s(50), snap("RUNNING", None)),
            (s(55), snap("FINISHED", None)),
        ];
        let job = job_spec(&report(Outcome::Finished), &seen(&polls));
        assert_eq!(job.launching, Span(Some(s(10))));
        assert_eq!(job.sub_jobs.len(), 2);
        assert_eq!((job.sub_jobs[0].tasks, job.sub_jobs[0].stages), (40, 2));
        assert_eq!(job.sub_jobs[0].duration, Span(Some(s(30))));
        // Seen once: as short as can be.
        assert_eq!(
            job.sub_jobs[1].duration,
            Span(Some(Duration::from_millis(1)))
        );
        assert_eq!(job.commit, Span(Some(s(15))));
        assert_eq!(job.end, End::Finished);
    }

    #[test]
    fn a_batch_becomes_its_states_and_replays_them() {
        let s = |secs| Duration::from_secs(secs);
        let batch = |status: JobStatus| Snapshot::of_batch(status, String::new());
        let polls = vec![
            (s(0), batch(JobStatus::Starting)),
            (s(30), batch(JobStatus::Running)),
            (s(70), batch(JobStatus::Recovering)),
            (s(90), batch(JobStatus::Dead)),
        ];
        let mut r = report(Outcome::Failed);
        r.reason = Some(crate::wait::record::Reason {
            message: "Caused by: no such table".into(),
            detail: None,
        });
        let job = job_spec(&r, &seen(&polls));
        assert_eq!(job.kind, JobKind::Spark);
        assert_eq!(
            (job.starting, job.running, job.recovering),
            (Span(Some(s(30))), Span(Some(s(40))), Span(Some(s(20))))
        );
        assert!(matches!(&job.end, End::Dead { log, .. } if log == &["Caused by: no such table"]));
        let text = serde_json::json!({ "jobs": [&job] }).to_string();
        assert!(
            crate::sim::scenario::Scenario::parse(&text).is_ok(),
            "{text}"
        );
        // Replayed: the states at the times they were seen.
        for (t, want) in [
            (10.0, JobStatus::Starting),
            (50.0, JobStatus::Running),
            (80.0, JobStatus::Recovering),
            (95.0, JobStatus::Dead),
        ] {
            assert_eq!(job.spark_at(t).0, want, "at {t}");
        }
        // Not seen to end: running for ever.
        let job = job_spec(&report(Outcome::TimedOut), &seen(&polls[..2]));
        assert_eq!(job.running, Span(None));
    }

    #[test]
    fn an_end_not_seen_goes_on_forever() {
        let polls = vec![(Duration::from_secs(5), snap("RUNNING", Some((0, 10))))];
        let job = job_spec(&report(Outcome::TimedOut), &seen(&polls));
        assert_eq!(job.commit, Span(None));
    }

    /// Issue 25, item 7: a 2.8 MB body polled 94 times was kept 94 times (762 MB). Now a poll
    /// keeps none of the body's texts, and polls that saw the same keep two entries.
    #[test]
    fn the_same_state_polled_often_keeps_two_small_entries() {
        let mut big = snap("RUNNING", Some((0, 40)));
        big.message = "m".repeat(2_800_000);
        big.detail = Some("d".repeat(100_000));
        let mut t = Timeline::default();
        for i in 0..94 {
            t.push(Duration::from_secs(i), Seen::of(&big));
        }
        assert_eq!(t.polls.len(), 2);
        assert_eq!(t.polls[1].0, Duration::from_secs(93));
        assert!(std::mem::size_of::<Seen>() < 128);
        assert!(!t.cut);
    }

    #[test]
    fn a_job_that_changes_at_every_poll_is_cut_at_the_bound() {
        let mut t = Timeline::default();
        let (a, b) = (
            snap("RUNNING", Some((0, 10))),
            snap("RUNNING", Some((1, 10))),
        );
        for i in 0..(MAX_CHANGES as u64 + 500) {
            let s = if i % 2 == 0 { &a } else { &b };
            t.push(Duration::from_secs(i), Seen::of(s));
        }
        assert_eq!(t.polls.len(), MAX_CHANGES);
        assert!(t.cut);
        // A status DLI never defined is kept short.
        let weird = Seen::of(&snap(&"W".repeat(100_000), None));
        assert!(matches!(weird.status, JobStatus::Other(s) if s.len() == STATUS_CHARS));
    }

    fn arb_snap() -> impl proptest::strategy::Strategy<Value = Snapshot> {
        use proptest::prelude::*;
        (
            prop::sample::select(vec!["LAUNCHING", "RUNNING", "FINISHED", "FAILED"]),
            prop::option::of((0i64..3, 1i64..4)),
            any::<bool>(),
        )
            .prop_map(|(status, sub, batch)| {
                if batch {
                    let st = match status {
                        "LAUNCHING" => JobStatus::Starting,
                        "RUNNING" => JobStatus::Running,
                        "FINISHED" => JobStatus::Success,
                        _ => JobStatus::Dead,
                    };
                    Snapshot::of_batch(st, String::new())
                } else {
                    snap(status, sub)
                }
            })
    }

    proptest::proptest! {
        /// For any polls: the bounded timeline replays exactly as every poll kept would.
        #[test]
        fn keeping_only_changes_replays_the_same(
            polls in proptest::collection::vec((1u64..5, arb_snap()), 0..60),
            ended in proptest::prop_oneof![
                proptest::strategy::Just(Outcome::Finished),
                proptest::strategy::Just(Outcome::Failed),
                proptest::strategy::Just(Outcome::TimedOut),
            ],
        ) {
            let mut at = Duration::ZERO;
            let all: Vec<(Duration, Seen)> = polls
                .iter()
                .map(|(gap, s)| {
                    at += Duration::from_secs(*gap);
                    (at, Seen::of(s))
                })
                .collect();
            let mut t = Timeline::default();
            for (at, s) in &all {
                t.push(*at, s.clone());
            }
            let r = report(ended);
            proptest::prop_assert_eq!(
                serde_json::json!(job_spec(&r, &t.polls)),
                serde_json::json!(job_spec(&r, &all))
            );
        }
    }
}
