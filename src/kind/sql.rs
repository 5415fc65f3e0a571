//! SQL jobs (`/v1.0/{project_id}/jobs`), as a [`Kind`]: a poll reads `/progress` (state
//! and task counts), falling back to `/status` (state only) when `/progress` keeps answering
//! `DLI.0999`; the ending reads `/status` (DLI's reason and detail); a cancel is a DELETE; a
//! submit posts the SQL (`--sql`/`--sql-file`, `--conf`).

use super::{Kind, Submitted};
use crate::cli::{RunArgs, flag};
use crate::dli::bounded;
use crate::dli::client::{DliClient, Sent};
use crate::dli::fault::Fault;
use crate::dli::model::{JobProgress, JobStatusInfo, PreviewResult, SubmitJob};
use crate::dli::pacer::Pacer;
use crate::wait::api::JobApi;
use crate::wait::machine::{Endpoint, Fallback};
use crate::wait::snapshot::{DEFAULT_QUEUE, Figures, Snapshot, Source, TaskCounts};
use std::time::Duration;

/// The SQL job calls of a [`DliClient`].
#[derive(Debug, Clone)]
pub struct Sql(pub DliClient);

impl Source {
    /// A SQL job's `/progress`: state and task counts.
    pub const PROGRESS: Source = Source {
        name: "progress",
        counts: TaskCounts::Given,
        reason: false,
    };
    /// A SQL job's `/status`: state, and DLI's reason and detail; no task counts.
    pub const STATUS: Source = Source {
        name: "status",
        counts: TaskCounts::NotHere,
        reason: true,
    };
}

impl From<JobProgress> for Snapshot {
    fn from(p: JobProgress) -> Self {
        Snapshot {
            status: p.status,
            message: p.envelope.message,
            source: Source::PROGRESS,
            progress: p.progress,
            sub_job_id: p.sub_job_id,
            sub_jobs: p.sub_jobs,
            detail: None,
            queued: None,
            figures: None,
        }
    }
}

impl From<JobStatusInfo> for Snapshot {
    fn from(s: JobStatusInfo) -> Self {
        let figures = figures_of(&s);
        Snapshot {
            status: s.status,
            message: s.envelope.message,
            source: Source::STATUS,
            progress: None,
            sub_job_id: None,
            sub_jobs: Vec::new(),
            figures: Some(figures),
            detail: s.detail,
            queued: None,
        }
    }
}

/// What a `/status` answer says the job did (a count DLI gave as negative is none).
fn figures_of(s: &JobStatusInfo) -> Figures {
    let count = |v: Option<i64>| v.and_then(|n| u64::try_from(n).ok());
    Figures {
        duration: count(s.duration).map(Duration::from_millis),
        bytes_scanned: count(s.input_size),
        result_rows: count(s.result_count),
        input_rows: count(s.input_row_count),
        bad_rows: count(s.bad_row_count),
        job_type: s.job_type.clone().filter(|t| !t.is_empty()),
        queue: s.queue_name.clone().filter(|q| !q.is_empty()),
    }
}

impl JobApi for Sql {
    fn pacer(&self) -> Option<&Pacer> {
        self.0.pacer()
    }

    /// [`Endpoint::Primary`] is `/progress`, [`Endpoint::Fallback`] `/status`.
    async fn poll(
        &self,
        job_id: &str,
        endpoint: Endpoint,
        timeout: Duration,
    ) -> Result<Snapshot, Fault> {
        match endpoint {
            Endpoint::Primary => self.0.progress(job_id, timeout).await.map(Snapshot::from),
            Endpoint::Fallback => self.0.status(job_id, timeout).await.map(Snapshot::from),
        }
    }

    /// `/status`: the state, and DLI's reason and detail.
    async fn reason(&self, job_id: &str, timeout: Duration) -> Result<Snapshot, Fault> {
        self.0.status(job_id, timeout).await.map(Snapshot::from)
    }

    /// `/preview`: the first rows of a query's result.
    async fn preview(
        &self,
        job_id: &str,
        timeout: Duration,
    ) -> Result<Option<PreviewResult>, Fault> {
        self.0.preview(job_id, timeout).await.map(Some)
    }

    async fn cancel(&self, job_id: &str, timeout: Duration) -> Result<String, Fault> {
        self.0
            .cancel(job_id, timeout)
            .await
            .map(|r| r.envelope.message)
    }

    fn request_timeout(&self) -> Duration {
        self.0.config().request_timeout
    }

    fn short_lived_credentials(&self) -> bool {
        // Keys the client renews do not expire on it: a late 401 is no expiry of theirs.
        let credentials = &self.0.config().credentials;
        credentials.expire() && !credentials.renews()
    }
}

impl Kind for Sql {
    type Submission = SubmitJob;
    const FALLBACK: Fallback = Fallback::WhenBusy;
    const RESULTS: bool = true;

    fn new(client: DliClient) -> Self {
        Sql(client)
    }

    fn submission(args: &RunArgs) -> Result<SubmitJob, String> {
        let sql = read_sql(args)?;
        if let Some(c) = args.conf.iter().find(|c| !c.contains('=')) {
            return Err(format!("bad {} {c:?}: write key=value", flag::CONF));
        }
        // A check needs the result, which DLI does not give on its shared queue: known now,
        // before anything is submitted.
        let queue = args.queue.as_deref().unwrap_or(DEFAULT_QUEUE);
        if args.output.fail_if_rows && queue == DEFAULT_QUEUE {
            return Err(format!(
                "{} needs the query's result, which DLI does not give for jobs on its `{DEFAULT_QUEUE}` queue{}: run it on a queue of your own ({} NAME); nothing was submitted",
                flag::FAIL_IF_ROWS,
                if args.queue.is_none() {
                    " (where a job without --queue runs)"
                } else {
                    ""
                },
                flag::QUEUE
            ));
        }
        Ok(SubmitJob {
            sql,
            currentdb: args.database.clone(),
            queue_name: args.queue.clone(),
            conf: args.conf.clone(),
            ..SubmitJob::default()
        })
    }

    async fn submit(
        &self,
        job: &SubmitJob,
        timeout: Duration,
        sent: &Sent,
    ) -> Result<Submitted, Fault> {
        let answer = self.0.submit(job, timeout, sent).await?;
        Ok(Submitted {
            ended: answer.is_sync(),
            id: answer.job_id,
            said: answer.envelope.message,
        })
    }

    #[cfg(feature = "simulator")]
    fn recorded(report: &JobReport, polls: &[(Duration, Seen)]) -> JobSpec {
        recorded(report, polls)
    }
}

#[cfg(feature = "simulator")]
use crate::{
    dli::model::JobStatus,
    kind::Seen,
    sim::scenario::{End, JobSpec, Span, SubJobSpec},
    wait::{outcome::Outcome, record::JobReport},
};

/// The scenario job that plays back what `polls` saw of `report`'s job: time in LAUNCHING,
/// each sub-job from its first sighting to the next one's, the commit tail, and the ending
/// (a job whose end was not seen runs on forever). Times are since the wait started.
#[cfg(feature = "simulator")]
pub fn recorded(report: &JobReport, polls: &[(Duration, Seen)]) -> JobSpec {
    let secs = |d: Duration| Span(Some(d));
    let ended = polls.iter().find(|(_, s)| s.status.is_terminal());
    let ended_at = ended.map(|(t, _)| *t);
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
    // How DLI said it ended (a FINISHED job whose check failed, or could not be made, is
    // FINISHED to DLI all the same).
    let finished = ended.is_some_and(|(_, s)| s.status == JobStatus::Finished);
    let (commit, end) = match (&report.outcome, ended_at) {
        (_, Some(t)) if finished => (secs(t.saturating_sub(clock)), End::Finished),
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

fn read_sql(args: &RunArgs) -> Result<String, String> {
    let sql = match (&args.sql, &args.sql_file) {
        (Some(s), _) => s.clone(),
        (None, Some(p)) if p.as_os_str() == "-" => {
            bounded::read_string_from(std::io::stdin().lock(), bounded::SQL)
                .map_err(|e| format!("cannot read SQL from stdin: {e}"))?
        }
        (None, Some(p)) => bounded::read_string(p, bounded::SQL)
            .map_err(|e| format!("cannot read {} {}: {e}", flag::SQL_FILE, p.display()))?,
        (None, None) => {
            return Err(format!(
                "give the SQL with {} or {}",
                flag::SQL,
                flag::SQL_FILE
            ));
        }
    };
    if sql.trim().is_empty() {
        return Err("the SQL is empty".into());
    }
    Ok(sql)
}
