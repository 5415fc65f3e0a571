//! Flink jobs (`/v1.0/{project_id}/streaming/jobs`), as a [`Kind`], on the same client, rate
//! limit and machine as SQL jobs and Spark batches. Their ids are positive integers. A poll
//! reads the job's details (ShowFlinkJob): its state (one table decides what each means:
//! `dli::model::FLINK_STATES`), DLI's `status_desc` (the reason, in the same answer) and
//! `restart_times` (what `--max-restarts` and `--settle` watch). No task counts, so no stall
//! detection, and nothing to fall back to. A cancel is the stop API (BatchStopFlinkJobs),
//! with a savepoint first under `--savepoint`. `run` does not submit Flink jobs.

use super::{Kind, Submitted};
use crate::cli::{RunArgs, flag};
use crate::config::Settings;
use crate::dli::client::{DliClient, Sent};
use crate::dli::fault::{Fault, FaultKind};
use crate::dli::flink::FlinkJob;
use crate::dli::job_id::flink_job_id_problem;
use crate::dli::model::JobStatus;
use crate::dli::pacer::Pacer;
use crate::wait::api::JobApi;
use crate::wait::machine::{Endpoint, Fallback};
use crate::wait::snapshot::{Figures, Snapshot, Source, TaskCounts, Words};
use std::time::Duration;

impl Source {
    /// A Flink job's details: its state, DLI's `status_desc` and `restart_times`; no task
    /// counts, ever.
    pub const FLINK: Source = Source {
        name: "flink",
        counts: TaskCounts::Never,
        reason: true,
        words: &Words {
            what: "a Flink job",
            instead: "--max-restarts ends a wait whose job keeps restarting; otherwise the wait ends at the job's end or --timeout",
        },
    };
}

impl From<FlinkJob> for Snapshot {
    fn from(j: FlinkJob) -> Self {
        let message = j.reason();
        Snapshot {
            status: j.status.unwrap_or_else(|| JobStatus::from_flink("")),
            message,
            source: Source::FLINK,
            progress: None,
            sub_job_id: None,
            sub_jobs: Vec::new(),
            detail: None,
            queued: None,
            restart_times: j.restart_times,
            restarted: None,
            // What its details say the job did: its run time (ms) and queue.
            figures: Some(Box::new(Figures {
                duration: j
                    .duration
                    .and_then(|ms| u64::try_from(ms).ok())
                    .map(std::time::Duration::from_millis),
                queue: j.queue_name.clone().filter(|q| !q.is_empty()),
                ..Figures::default()
            })),
        }
    }
}

/// The Flink job calls of a [`DliClient`], as the driver needs them; `savepoint`: its stop
/// takes a savepoint first (`--savepoint`).
#[derive(Debug, Clone)]
pub struct Flink {
    client: DliClient,
    savepoint: bool,
}

impl Flink {
    async fn details(&self, job_id: &str, timeout: Duration) -> Result<Snapshot, Fault> {
        let answer = self.client.flink_job(job_id, timeout).await?;
        Ok(Snapshot::from(answer.job_detail.unwrap_or_default()))
    }
}

impl JobApi for Flink {
    fn pacer(&self) -> Option<&Pacer> {
        self.client.pacer()
    }

    /// Every poll reads the details ([`Kind::FALLBACK`] is never).
    async fn poll(
        &self,
        job_id: &str,
        _endpoint: Endpoint,
        timeout: Duration,
    ) -> Result<Snapshot, Fault> {
        self.details(job_id, timeout).await
    }

    /// The details again: the state and its `status_desc`.
    async fn reason(&self, job_id: &str, timeout: Duration) -> Result<Snapshot, Fault> {
        self.details(job_id, timeout).await
    }

    /// The stop API for this one job; DLI's message ("The request for stopping DLI jobs is
    /// delivered successfully.") says only that it was taken: no message.
    async fn cancel(&self, job_id: &str, timeout: Duration) -> Result<String, Fault> {
        let id: i64 = job_id.parse().map_err(|_| {
            Fault::config(
                FaultKind::Rejected,
                format!("{job_id:?} is not a Flink job id"),
            )
        })?;
        let answer = self
            .client
            .stop_flink_job(id, self.savepoint, timeout)
            .await?;
        // One result per job asked about: none is no answer about this one.
        if answer.results.is_empty() {
            return Err(Fault::transport(
                FaultKind::MalformedBody,
                "the stop answer holds no result for the job",
            ));
        }
        let m = answer.message().trim();
        Ok(
            if m.to_ascii_lowercase().contains("delivered successfully") {
                String::new()
            } else {
                m.to_string()
            },
        )
    }

    fn request_timeout(&self) -> Duration {
        self.client.config().request_timeout
    }

    fn short_lived_credentials(&self) -> bool {
        self.client.config().credentials.expire()
    }
}

impl Kind for Flink {
    type Submission = ();
    const FALLBACK: Fallback = Fallback::Never;
    const SAVEPOINTS: bool = true;
    const COUNTS_RESTARTS: bool = true;

    fn new(client: DliClient, settings: &Settings) -> Self {
        Flink {
            client,
            savepoint: settings.savepoint,
        }
    }

    fn id_problem(id: &str) -> Option<String> {
        flink_job_id_problem(id).map(str::to_string)
    }

    /// `run` submits SQL jobs and Spark batches only (`kind::pick::of_run` never picks this).
    fn submission(
        _args: &RunArgs,
        _key: Option<&super::key::Key>,
    ) -> Result<((), Vec<String>), String> {
        Err(format!(
            "`dli-wait run` submits SQL jobs ({}) and Spark batches ({}); start a Flink job in DLI, then wait for it with `dli-wait --job-type flink <JOB_ID>`",
            flag::SQL,
            flag::SPARK_FILE
        ))
    }

    async fn submit(&self, _: &(), _timeout: Duration, _sent: &Sent) -> Result<Submitted, Fault> {
        Err(Fault::config(
            FaultKind::Rejected,
            "dli-wait does not submit Flink jobs",
        ))
    }

    #[cfg(feature = "simulator")]
    fn recorded(report: &JobReport, polls: &[(Duration, Seen)]) -> JobSpec {
        recorded(report, polls)
    }
}

#[cfg(feature = "simulator")]
use crate::{
    kind::Seen,
    sim::scenario::FlinkStep,
    sim::scenario::{JobKind, JobSpec, Span},
    wait::record::JobReport,
};

/// A Flink job as its polls saw it: each run of one state and restart count, for as long as
/// it was seen, the last one for ever (an ending stays, with DLI's `status_desc` as the wait
/// read it).
#[cfg(feature = "simulator")]
pub fn recorded(report: &JobReport, polls: &[(Duration, Seen)]) -> JobSpec {
    let mut steps: Vec<(Duration, String, Option<i64>)> = Vec::new();
    for (t, s) in polls {
        let word = s.status.as_str().to_string();
        if steps
            .last()
            .is_none_or(|(_, w, r)| *w != word || *r != s.restart_times)
        {
            steps.push((*t, word, s.restart_times));
        }
    }
    let n = steps.len();
    // DLI's own words of the ending: the reason without what the state means.
    let desc = report.reason.as_ref().map(|r| {
        let says = match polls.last().map(|(_, s)| &s.status) {
            Some(JobStatus::Flink(f)) => f.says(),
            _ => "",
        };
        r.message
            .strip_prefix(says)
            .map_or(r.message.as_str(), |m| m.trim_start_matches(": "))
            .to_string()
    });
    let mut states: Vec<FlinkStep> = steps
        .iter()
        .enumerate()
        .map(|(i, (from, status, restart_times))| {
            let lasts = match steps.get(i + 1) {
                Some((next, _, _)) if i + 1 < n => Span(Some(next.saturating_sub(*from))),
                _ => Span::FOREVER,
            };
            // The first state covers the time before the first poll too.
            let lasts = match (i, lasts) {
                (0, Span(Some(d))) => Span(Some(d + *from)),
                (_, l) => l,
            };
            FlinkStep {
                status: status.clone(),
                lasts,
                restart_times: *restart_times,
                status_desc: String::new(),
            }
        })
        .collect();
    if let (Some(last), Some(desc)) = (states.last_mut(), desc)
        && JobStatus::from_flink(&last.status).is_terminal()
        && !desc.is_empty()
    {
        last.status_desc = desc;
    }
    JobSpec {
        kind: JobKind::Flink,
        id: Some(report.job_id.clone()),
        name: Some(format!("recorded: {}", report.outcome.label())),
        states,
        ..JobSpec::default()
    }
}
