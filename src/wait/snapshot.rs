//! What one successful poll tells us about a job, in one shape whether it came from
//! `/progress` (with task counts), from `/status` (without), or from a Spark batch's state
//! (without either). Knows nothing of HTTP.

use crate::dli::model::{JobProgress, JobStatus, JobStatusInfo, SubJob};
use crate::dli::spark::{BatchDetails, BatchState};
use std::time::Duration;

/// Which endpoint a snapshot came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Progress,
    Status,
    /// A Spark batch's `/state` or details: no task counts, so no stall detection.
    Batch,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Progress => "progress",
            Source::Status => "status",
            Source::Batch => "batch",
        }
    }
}

/// A job as seen at one poll.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub status: JobStatus,
    pub message: String,
    pub source: Source,
    pub progress: Option<f64>,
    pub sub_job_id: Option<i64>,
    pub sub_jobs: Vec<SubJob>,
    /// `/status` only: DLI's longer explanation of a failure.
    pub detail: Option<String>,
    /// How long the job has been queued for resources (a Spark batch `starting`), as the
    /// wait has seen it: set by the machine (`wait::machine`), the one place that knows.
    pub queued: Option<Duration>,
}

/// Task and stage counts summed over the sub-jobs DLI reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub tasks_done: i64,
    pub tasks_total: i64,
    pub tasks_active: i64,
    pub tasks_failed: i64,
    pub stages_done: i64,
    pub stages_total: i64,
}

impl Counts {
    /// One sub-job's counts (skipped tasks and stages count as done).
    pub fn of(s: &SubJob) -> Self {
        Counts {
            tasks_done: s.num_completed_tasks + s.num_skipped_tasks,
            tasks_total: s.num_tasks,
            tasks_active: s.num_active_tasks,
            tasks_failed: s.num_failed_tasks,
            stages_done: s.num_completed_stages + s.num_skipped_stages,
            stages_total: i64::try_from(s.stage_ids.len()).unwrap_or(i64::MAX),
        }
    }
}

impl Snapshot {
    pub fn counts(&self) -> Counts {
        self.sub_jobs
            .iter()
            .map(Counts::of)
            .fold(Counts::default(), |a, c| Counts {
                tasks_done: a.tasks_done + c.tasks_done,
                tasks_total: a.tasks_total + c.tasks_total,
                tasks_active: a.tasks_active + c.tasks_active,
                tasks_failed: a.tasks_failed + c.tasks_failed,
                stages_done: a.stages_done + c.stages_done,
                stages_total: a.stages_total + c.stages_total,
            })
    }

    /// Progress as a percentage, 0–100, when DLI gave one.
    pub fn percent(&self) -> Option<f64> {
        self.progress.map(|p| (p * 100.0).clamp(0.0, 100.0))
    }
}

impl From<JobProgress> for Snapshot {
    fn from(p: JobProgress) -> Self {
        Snapshot {
            status: p.status,
            message: p.envelope.message,
            source: Source::Progress,
            progress: p.progress,
            sub_job_id: p.sub_job_id,
            sub_jobs: p.sub_jobs,
            detail: None,
            queued: None,
        }
    }
}

impl From<JobStatusInfo> for Snapshot {
    fn from(s: JobStatusInfo) -> Self {
        Snapshot {
            status: s.status,
            message: s.envelope.message,
            source: Source::Status,
            progress: None,
            sub_job_id: None,
            sub_jobs: Vec::new(),
            detail: s.detail,
            queued: None,
        }
    }
}

impl From<BatchState> for Snapshot {
    fn from(b: BatchState) -> Self {
        Snapshot::of_batch(b.state, String::new())
    }
}

impl From<BatchDetails> for Snapshot {
    /// The details as a batch's ending reads them: the state, and why, from the log's tail.
    fn from(b: BatchDetails) -> Self {
        let reason = b.reason().unwrap_or_default();
        Snapshot::of_batch(b.state, reason)
    }
}

impl Snapshot {
    /// A Spark batch in `status`, with `message` (why it ended, when it has).
    pub fn of_batch(status: JobStatus, message: String) -> Self {
        Snapshot {
            status,
            message,
            source: Source::Batch,
            progress: None,
            sub_job_id: None,
            sub_jobs: Vec::new(),
            detail: None,
            queued: None,
        }
    }
}
