//! The events of a wait, as the driver emits them: a sink trait that `report/` implements.
//! The driver calls it and never knows who listens or how anything is printed.

use super::machine::Note;
use super::record::{CancelReport, JobReport};
use super::snapshot::Snapshot;
use std::time::Duration;

/// Receives the events of every job's wait. Called from several tasks at once.
pub trait Events: Send + Sync {
    fn started(&self, job_id: &str);
    /// Every successful poll; the listener decides what counts as a change worth a line.
    fn snapshot(&self, job_id: &str, snap: &Snapshot, elapsed: Duration);
    fn note(&self, job_id: &str, note: &Note, elapsed: Duration);
    fn cancelled(&self, job_id: &str, cancel: &CancelReport);
    /// The job's wait is over: stop showing it as waiting (its bar, its heartbeat), even
    /// where its closing line comes later.
    fn ended(&self, _job_id: &str) {}
    /// The job's closing line (after [`Events::ended`], or standing for it).
    fn finished(&self, report: &JobReport);
}

/// Listens to nothing: for tests and for callers that only want the records.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Events for Silent {
    fn started(&self, _: &str) {}
    fn snapshot(&self, _: &str, _: &Snapshot, _: Duration) {}
    fn note(&self, _: &str, _: &Note, _: Duration) {}
    fn cancelled(&self, _: &str, _: &CancelReport) {}
    fn finished(&self, _: &JobReport) {}
}
