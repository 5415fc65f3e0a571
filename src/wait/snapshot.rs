//! What one successful poll tells us about a job, in one shape whatever its kind and endpoint:
//! its state, and what else that answer carries ([`Source`]: task counts or not, DLI's reason
//! or not). The machine and the reporters ask the snapshot what it has, never which kind it
//! is; each kind (`crate::kind`) builds its snapshots and names their sources. Knows nothing
//! of HTTP.

use crate::dli::model::{JobStatus, SubJob};
use std::time::Duration;

/// Where a snapshot came from, as its kind describes it: a name (the `source` of a JSON line)
/// and what an answer from there carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source {
    /// Its name in JSON lines (`progress`, `status`, `batch`).
    pub name: &'static str,
    pub counts: TaskCounts,
    /// The answer carries DLI's reason for a failure, as the ending would read it: a wait
    /// that was polling it already needs no other read.
    pub reason: bool,
    /// What messages say of the kind.
    pub words: &'static Words,
}

/// A kind's words for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Words {
    /// The kind in a few words ("a Spark batch").
    pub what: &'static str,
    /// For a kind without task counts: what watches the wait instead of stall detection.
    pub instead: &'static str,
}

/// Whether an answer carries task counts (what stall detection judges by).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskCounts {
    /// It does.
    Given,
    /// Not this endpoint's answers; the kind's other endpoint has them.
    NotHere,
    /// The kind never reports task counts, on any endpoint: stall detection cannot apply.
    Never,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        self.name
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
    /// How many times DLI has restarted the job in all (a Flink job's `restart_times`), when
    /// its kind says.
    pub restart_times: Option<i64>,
    /// How many of those came during this wait (since its first answer): set by the
    /// machine, as `queued`.
    pub restarted: Option<u64>,
    /// What DLI says the job did, when this answer carries it (a SQL job's `/status`; a
    /// Spark batch's details: its run time).
    pub figures: Option<Box<Figures>>,
}

/// DLI's own figures of a job (a SQL job's `/status`): each as DLI gave it, `None` when not.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    /// DLI's own run time (`duration`).
    pub duration: Option<Duration>,
    /// Bytes of files scanned (`input_size`, what the default queue bills).
    pub bytes_scanned: Option<u64>,
    /// Rows returned, or inserted by an INSERT (`result_count`).
    pub result_rows: Option<u64>,
    /// Records scanned by an INSERT (`input_row_count`).
    pub input_rows: Option<u64>,
    /// Bad records scanned by an INSERT (`bad_row_count`).
    pub bad_rows: Option<u64>,
    /// `QUERY`, `INSERT`, `DDL`, …
    pub job_type: Option<String>,
    /// The queue it ran on (`default` gives no results: `/preview` is refused there).
    pub queue: Option<String>,
}

impl Figures {
    /// DLI's `default` queue, which gives no query results.
    pub fn on_default_queue(&self) -> bool {
        self.queue.as_deref() == Some(DEFAULT_QUEUE)
    }
}

pub use crate::dli::model::DEFAULT_QUEUE;

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

    /// This answer carries task counts (stall detection judges by them).
    pub fn has_task_counts(&self) -> bool {
        self.source.counts == TaskCounts::Given
    }

    /// The job's kind never reports task counts, so stall detection cannot apply to it.
    pub fn never_has_task_counts(&self) -> bool {
        self.source.counts == TaskCounts::Never
    }

    /// This answer carries DLI's reason for a failure (see [`Source::reason`]).
    pub fn carries_reason(&self) -> bool {
        self.source.reason
    }

    /// Progress as a percentage, 0–100, when DLI gave one.
    pub fn percent(&self) -> Option<f64> {
        self.progress.map(|p| (p * 100.0).clamp(0.0, 100.0))
    }
}
