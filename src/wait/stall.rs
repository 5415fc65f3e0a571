//! Stall detection: a fingerprint of everything that moves while a job makes progress, and
//! how long it has stayed the same. Pure; time comes in as a value.

use super::snapshot::Snapshot;
use crate::dli::model::JobStatus;
use std::time::Duration;

/// What must change for a RUNNING job to count as moving. `progress` is not a rising number
/// (it drops to 0 when the next sub-job starts), so any change counts, not only a rise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    status: JobStatus,
    sub_job_id: Option<i64>,
    progress_bits: Option<u64>,
    sub_jobs: Vec<[i64; 8]>,
}

impl Fingerprint {
    pub fn of(s: &Snapshot) -> Self {
        Fingerprint {
            status: s.status.clone(),
            sub_job_id: s.sub_job_id,
            progress_bits: s.progress.map(f64::to_bits),
            sub_jobs: s
                .sub_jobs
                .iter()
                .map(|j| {
                    [
                        j.id.unwrap_or(-1),
                        j.num_tasks,
                        j.num_completed_tasks,
                        j.num_skipped_tasks,
                        j.num_failed_tasks,
                        j.num_killed_tasks,
                        j.num_completed_stages,
                        j.num_skipped_stages,
                    ]
                })
                .collect(),
        }
    }
}

/// Remembers the last fingerprint of a RUNNING job and since when it has not changed.
#[derive(Debug, Clone, Default)]
pub struct StallWatch {
    last: Option<(Fingerprint, Duration)>,
}

impl StallWatch {
    /// Feed a snapshot seen at `now`; returns how long the job has been still (zero when it
    /// just moved, or when it is not RUNNING: queueing in LAUNCHING is not a stall).
    pub fn observe(&mut self, s: &Snapshot, now: Duration) -> Duration {
        if s.status != JobStatus::Running {
            self.last = None;
            return Duration::ZERO;
        }
        let fp = Fingerprint::of(s);
        match &self.last {
            Some((prev, since)) if *prev == fp => now.saturating_sub(*since),
            _ => {
                self.last = Some((fp, now));
                Duration::ZERO
            }
        }
    }

    /// Since when the job has been still (the time of the last change), while RUNNING.
    pub fn since(&self) -> Option<Duration> {
        self.last.as_ref().map(|(_, since)| *since)
    }

    /// Forget what was seen (e.g. after switching to an endpoint without task counts).
    pub fn reset(&mut self) {
        self.last = None;
    }
}
