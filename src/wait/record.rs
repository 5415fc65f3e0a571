//! The records a wait leaves behind: how each job ended, what its cancel did, DLI's reason.
//! Plain data for the reporters to render; the JSON shapes of these belong to `report/`.

use super::outcome::Outcome;
use super::snapshot::{Figures, Snapshot};
use crate::dli::fault::Fault;
use crate::dli::model::PreviewResult;
use std::time::Duration;

/// DLI's own words on why a job failed or was cancelled (`/status`'s `message`, `detail`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reason {
    pub message: String,
    pub detail: Option<String>,
}

/// What became of a cancel request.
#[derive(Debug, Clone, PartialEq)]
pub struct CancelReport {
    /// DLI accepted the DELETE.
    pub accepted: bool,
    /// A later poll saw the job CANCELLED.
    pub confirmed: bool,
    pub message: String,
}

/// Everything known about one job when its wait ended.
#[derive(Debug, Clone)]
pub struct JobReport {
    pub job_id: String,
    pub outcome: Outcome,
    pub elapsed: Duration,
    pub polls: u32,
    /// The calls the history lookup (`--history auto`) made before the first poll.
    pub lookup_calls: u32,
    pub retries: u32,
    pub last: Option<Snapshot>,
    pub last_fault: Option<Fault>,
    pub reason: Option<Reason>,
    pub cancel: Option<CancelReport>,
    /// `/progress` never worked and `/status` was polled instead.
    pub fell_back: bool,
    /// The credentials were short-lived (token or temporary keys).
    pub short_lived_credentials: bool,
    /// DLI's figures of the ended job (one read at its end), or why they could not be read.
    pub figures: Option<Result<Figures, String>>,
    /// The query's rows, when asked for (`--results`, `--fail-if-rows`).
    pub results: Option<Results>,
}

/// What came of reading a finished query's rows (`/preview`).
#[derive(Debug, Clone, PartialEq)]
pub enum Results {
    /// DLI's preview: its first rows (at most 1000).
    Rows(PreviewResult),
    /// The job has no result to show (an INSERT, a DDL: DLI gave no columns).
    NoResult,
    /// The job ran on DLI's `default` queue, whose results DLI does not give.
    DefaultQueue,
    /// The read failed: why.
    Unreadable(String),
}

/// The rows of a result kept when they are not shown (`--results` off): those the step
/// summary shows.
pub const ROWS_KEPT_UNSHOWN: usize = 20;

impl JobReport {
    /// The rows of a query's result as `--fail-if-rows` counts them: DLI's `result_count`,
    /// else the preview's (its `row_count`, or the rows it gave, whichever is more; none when
    /// it told there is no result); `None` when neither was read.
    pub fn rows_counted(&self) -> Option<u64> {
        self.figures()
            .and_then(|f| f.result_rows)
            .or_else(|| match &self.results {
                Some(Results::Rows(p)) => Some(
                    p.row_count
                        .and_then(|n| u64::try_from(n).ok())
                        .unwrap_or(0)
                        .max(p.rows_read() as u64),
                ),
                Some(Results::NoResult) => Some(0),
                _ => None,
            })
    }
}

impl JobReport {
    /// DLI's figures, when they were read.
    pub fn figures(&self) -> Option<&Figures> {
        self.figures.as_ref().and_then(|f| f.as_ref().ok())
    }
}

impl JobReport {
    /// A job DLI ran to completion while answering its submit (a DDL): FINISHED, unpolled.
    pub fn ended_at_submit(job_id: String) -> Self {
        JobReport {
            job_id,
            outcome: Outcome::Finished,
            elapsed: Duration::ZERO,
            polls: 0,
            lookup_calls: 0,
            retries: 0,
            last: None,
            last_fault: None,
            reason: None,
            cancel: None,
            fell_back: false,
            short_lived_credentials: false,
            figures: None,
            results: None,
        }
    }
}
