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
use crate::kind::Seen;
use crate::report::Reporter;
use crate::report::safe::Secrets;
use crate::report::stream::Stream;
use crate::sim::scenario::JobSpec;
use crate::wait::events::Events;
use crate::wait::history::Past;
use crate::wait::machine::Note;
use crate::wait::record::{CancelReport, JobReport};
use crate::wait::snapshot::Snapshot;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The most changes of state kept per job (about 1 MB at most for one job); past that its
/// recording is cut.
pub const MAX_CHANGES: usize = 10_000;

/// How a kind replays what a wait saw of one job (`kind::Kind::recorded`).
pub type Replay = fn(&JobReport, &[(Duration, Seen)]) -> JobSpec;

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
    /// What the lookup found of each job's past runs (`--history auto`).
    past: Mutex<BTreeMap<String, Past>>,
    /// The waited kind's replay of a timeline.
    replay: Replay,
    secrets: Secrets,
    stderr: Stream,
    /// The time its write shares with the run's other output files.
    budget: crate::report::out_file::Budget,
}

impl Recording {
    pub fn new(
        inner: Arc<dyn Reporter>,
        path: PathBuf,
        replay: Replay,
        secrets: Secrets,
        stderr: Stream,
        budget: crate::report::out_file::Budget,
    ) -> Arc<Self> {
        Arc::new(Recording {
            inner,
            path,
            seen: Mutex::new(BTreeMap::new()),
            past: Mutex::new(BTreeMap::new()),
            replay,
            secrets,
            stderr,
            budget,
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
                    let mut spec = (self.replay)(r, t.map_or(&[][..], |t| t.polls.as_slice()));
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
        let jobs = with_past(
            jobs,
            reports,
            &self.past.lock().map(|p| p.clone()).unwrap_or_default(),
        );
        if cut > 0 {
            self.stderr.line(&format!(
                "note: {} kept at most {MAX_CHANGES} changes of state per job; {cut} job{} recorded only up to there",
                crate::cli::flag::RECORD,
                if cut == 1 { " is" } else { "s are" }
            ));
        }
        let mut scenario = serde_json::json!({ "speed": 1, "jobs": jobs });
        // Outside text (DLI's reasons, in the scenario's messages) as every output has it:
        // scrubbed of secrets first, then cut.
        self.secrets.scrub_json(&mut scenario);
        cut_strings(&mut scenario);
        let result = serde_json::to_vec_pretty(&scenario)
            .map_err(std::io::Error::other)
            .and_then(|mut text| {
                text.push(b'\n');
                summary_file::replace(&self.path, text, &self.budget)
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

/// The recorded jobs with what the lookup found of their past (`--history auto`): each
/// recorded job gets the statement and queue its past runs share, and each past run is a job
/// of its own that started as long before the wait as it did (its whole length one sub-job), so
/// `simulate` lists them as DLI did and a replayed wait finds the same prior.
fn with_past(
    mut jobs: Vec<JobSpec>,
    reports: &[JobReport],
    past: &BTreeMap<String, Past>,
) -> Vec<JobSpec> {
    use crate::sim::scenario::{End, Span, SubJobSpec};
    let mut runs = Vec::new();
    for (spec, report) in jobs.iter_mut().zip(reports) {
        let Some(p) = past.get(&report.job_id) else {
            continue;
        };
        // Runs found by a name (batches) rather than a statement (SQL jobs): the recorded
        // job carries the name, and its past runs are of its kind.
        let batch = p.statement.is_none() && p.name.is_some();
        if batch {
            spec.name = p.name.clone().or(spec.name.take());
        } else {
            spec.statement = p.statement.clone();
        }
        spec.queue = p.queue.clone();
        for (k, (d, ago)) in p.durations.iter().zip(&p.started_ago).enumerate() {
            // Runs DLI gave no start for go a day apart, newest first.
            let ago = ago.unwrap_or(Duration::from_secs(86_400 * (k as u64 + 1)));
            let mut run = JobSpec {
                kind: spec.kind,
                id: Some(format!("{}-past-{}", report.job_id, k + 1)),
                ago: Span(Some(ago)),
                queue: p.queue.clone(),
                ..JobSpec::default()
            };
            if batch {
                run.name = p.name.clone();
                run.running = Span(Some(*d));
                run.end = End::Success;
            } else {
                run.name = Some(format!("a past run of {}", report.job_id));
                run.statement = p.statement.clone();
                run.sub_jobs = vec![SubJobSpec {
                    gap: Span(Some(Duration::ZERO)),
                    tasks: 1,
                    stages: 1,
                    duration: Span(Some(*d)),
                    parallelism: 1,
                    stragglers: None,
                    stall_at: None,
                    waves: false,
                    flat_start: None,
                }];
                run.end = End::Finished;
            }
            runs.push(run);
        }
    }
    jobs.extend(runs);
    jobs
}

/// Every string of `v` cut to `report::limits::TEXT_CHARS`.
fn cut_strings(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::String(s) => {
            if let std::borrow::Cow::Owned(c) =
                crate::report::limits::cut(s, crate::report::limits::TEXT_CHARS)
            {
                *s = c;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(cut_strings),
        Value::Object(map) => map.values_mut().for_each(cut_strings),
        _ => {}
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

    fn history(&self, job_id: &str, past: &Past) {
        if let Ok(mut p) = self.past.lock() {
            p.insert(job_id.to_string(), past.clone());
        }
        self.inner.history(job_id, past);
    }

    fn submitted(&self, job_id: &str) {
        self.inner.submitted(job_id);
    }

    fn reattached(&self, job_id: &str) {
        self.inner.reattached(job_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dli::model::{JobStatus, SubJob};
    use crate::kind::spark::Spark;
    use crate::kind::sql::Sql;
    use crate::kind::{Kind, STATUS_CHARS};
    use crate::sim::scenario::{End, JobKind, Span};
    use crate::wait::outcome::Outcome;
    use crate::wait::snapshot::Source;

    fn job_spec(r: &JobReport, polls: &[(Duration, Seen)]) -> JobSpec {
        Sql::recorded(r, polls)
    }

    fn batch_spec(r: &JobReport, polls: &[(Duration, Seen)]) -> JobSpec {
        Spark::recorded(r, polls)
    }

    fn snap(status: &str, sub: Option<(i64, i64)>) -> Snapshot {
        Snapshot {
            status: JobStatus::from(status),
            message: String::new(),
            source: Source::PROGRESS,
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
            restart_times: None,
            restarted: None,
            figures: None,
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

    /// A job DLI FINISHED whose check failed (exit 6) replays as FINISHED, at the same time.
    #[test]
    fn a_failed_check_replays_as_the_finished_job_it_was() {
        let s = |secs| Duration::from_secs(secs);
        let polls = vec![
            (s(0), snap("RUNNING", Some((0, 4)))),
            (s(20), snap("FINISHED", None)),
        ];
        let job = job_spec(&report(Outcome::CheckFailed { rows: 2 }), &seen(&polls));
        assert_eq!((job.end, job.commit), (End::Finished, Span(Some(s(20)))));
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
        let job = batch_spec(&r, &seen(&polls));
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
        let job = batch_spec(&report(Outcome::TimedOut), &seen(&polls[..2]));
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
            for replay in [job_spec as Replay, batch_spec] {
                proptest::prop_assert_eq!(
                    serde_json::json!(replay(&r, &t.polls)),
                    serde_json::json!(replay(&r, &all))
                );
            }
        }
    }
}
