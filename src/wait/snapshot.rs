//! What one successful poll tells us about a job, in one shape whether it came from
//! `/progress` (with task counts) or from `/status` (without). Knows nothing of HTTP.

use crate::dli::model::{JobProgress, JobStatus, JobStatusInfo, SubJob};

/// Which endpoint a snapshot came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Progress,
    Status,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Progress => "progress",
            Source::Status => "status",
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
        }
    }
}
