//! `--record FILE`: what was seen of each waited job (every poll: when, state, sub-job, task
//! counts), written at the end as a simulator scenario that `simulate` and the policy
//! benchmark's `--corpus` replay. Wraps the reporter; the timeline is rebuilt by a pure function.

use super::summary_file;
use crate::dli::model::JobStatus;
use crate::report::Reporter;
use crate::report::safe::Secrets;
use crate::sim::scenario::{End, JobKind, JobSpec, Span, SubJobSpec};
use crate::wait::events::Events;
use crate::wait::machine::Note;
use crate::wait::outcome::Outcome;
use crate::wait::record::{CancelReport, JobReport};
use crate::wait::snapshot::{Snapshot, Source};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A reporter that also keeps every snapshot, and writes the scenario at the summary.
pub struct Recording {
    inner: Arc<dyn Reporter>,
    path: PathBuf,
    seen: Mutex<BTreeMap<String, Vec<(Duration, Snapshot)>>>,
    secrets: Secrets,
}

impl Recording {
    pub fn new(inner: Arc<dyn Reporter>, path: PathBuf, secrets: Secrets) -> Arc<Self> {
        Arc::new(Recording {
            inner,
            path,
            seen: Mutex::new(BTreeMap::new()),
            secrets,
        })
    }

    fn write(&self, reports: &[JobReport]) {
        let jobs: Vec<JobSpec> = {
            let seen = self.seen.lock().map(|s| s.clone()).unwrap_or_default();
            reports
                .iter()
                .map(|r| job_spec(r, seen.get(&r.job_id).map_or(&[][..], Vec::as_slice)))
                .collect()
        };
        let scenario = serde_json::json!({ "speed": 1, "jobs": jobs });
        let result = summary_file::replace(&self.path, |w| {
            serde_json::to_writer_pretty(&mut *w, &scenario)?;
            writeln!(w)
        });
        if let Err(e) = result {
            eprintln!(
                "{}",
                self.secrets.line(&format!(
                    "error: cannot write --record {}: {e}",
                    self.path.display()
                ))
            );
        }
    }
}

/// The scenario job that plays back what `polls` saw of `report`'s job: time in LAUNCHING,
/// each sub-job from its first sighting to the next one's, the commit tail, and the ending
/// (a job whose end was not seen runs on forever). Times are since the wait started.
pub fn job_spec(report: &JobReport, polls: &[(Duration, Snapshot)]) -> JobSpec {
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
        let counts = s
            .sub_jobs
            .iter()
            .find(|j| j.id == Some(id))
            .or(s.sub_jobs.first())
            .map(|j| {
                (
                    j.num_tasks.max(1),
                    i64::try_from(j.stage_ids.len()).unwrap_or(1).max(1),
                )
            })
            .unwrap_or((1, 1));
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
fn batch_spec(report: &JobReport, polls: &[(Duration, Snapshot)]) -> JobSpec {
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
                .push((elapsed, snap.clone()));
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
        let job = job_spec(&report(Outcome::Finished), &polls);
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
        let job = job_spec(&r, &polls);
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
        let job = job_spec(&report(Outcome::TimedOut), &polls[..2]);
        assert_eq!(job.running, Span(None));
    }

    #[test]
    fn an_end_not_seen_goes_on_forever() {
        let polls = vec![(Duration::from_secs(5), snap("RUNNING", Some((0, 10))))];
        let job = job_spec(&report(Outcome::TimedOut), &polls);
        assert_eq!(job.commit, Span(None));
    }
}
