//! Job kinds: everything dli-wait knows of one kind of DLI job, behind one trait, [`Kind`]:
//! how to poll it and what its snapshots carry, whether its polls fall back, how to cancel
//! it, how to read its reason (its driver half, [`JobApi`], which `wait/` knows), how to
//! submit it, and how a recording replays it in the simulator. SQL jobs are [`sql::Sql`],
//! Spark batches [`spark::Spark`], Flink jobs [`flink::Flink`]. The machine, the driver and
//! the reporters ask a snapshot what it has, never which kind it is; the one place a kind is
//! picked is [`pick`]. A kind that can be found by its `run --idempotency-key` ([`key`]) says
//! how ([`Kind::keyed`]).

pub mod flink;
pub mod key;
pub mod pick;
pub mod spark;
pub mod sql;

use crate::cli::RunArgs;
use crate::config::Settings;
use crate::dli::client::{DliClient, Sent};
use crate::dli::fault::Fault;
use crate::wait::api::JobApi;
use crate::wait::history::Past;
use crate::wait::machine::Fallback;
use std::future::Future;
use std::sync::atomic::AtomicU32;
use std::time::Duration;

/// One kind of DLI job, as the commands and the driver need it; a value of it holds the
/// run's client.
pub trait Kind: JobApi {
    /// What `run` submits, read and checked from its flags before any request.
    type Submission: Send + Sync;
    /// Whether its polls fall back when the primary endpoint keeps answering `DLI.0999`
    /// (the machine's config: `WaitConfig::with_fallback`).
    const FALLBACK: Fallback;
    /// Whether its cancel can take a savepoint first (`--savepoint`).
    const SAVEPOINTS: bool = false;
    /// Whether its snapshots say how often DLI restarted the job (`--max-restarts`).
    const COUNTS_RESTARTS: bool = false;
    /// The kind's calls on `client` (clones share its connection and rate limit), as
    /// `settings` ask (`--savepoint`).
    fn new(client: DliClient, settings: &Settings) -> Self;
    /// What is wrong with `id` as an id of this kind, in a few words (a usage error before
    /// any request); `None` when it is one. SQL job and Spark batch ids are UUIDs.
    fn id_problem(id: &str) -> Option<String> {
        use crate::dli::job_id::{is_job_id, problem};
        (!is_job_id(id)).then(|| problem(id).to_string())
    }
    /// Whether its jobs have a result to read (`--results`, `--fail-if-rows`): SQL queries.
    const RESULTS: bool = false;
    /// What `run` would submit, read and checked, with `key` (the run's
    /// `--idempotency-key`, parsed once by `run`) on it, and the notes `run` tells the user
    /// before the submit about what it adds to it (e.g. whose deadline DLI keeps), one line
    /// each: a usage error in the command line's words.
    fn submission(
        args: &RunArgs,
        key: Option<&key::Key>,
    ) -> Result<(Self::Submission, Vec<String>), String>;
    /// Submit it exactly once, never retried (`sent` says whether it may have reached DLI).
    fn submit(
        &self,
        what: &Self::Submission,
        timeout: Duration,
        sent: &Sent,
    ) -> impl Future<Output = Result<Submitted, Fault>> + Send;
    /// The job's earlier FINISHED runs (`--history auto`): one or two calls at the start of
    /// a wait, newest first, at most a page, each counted in `calls` as it is sent (the
    /// user's figures count them). `Ok(None)`: the kind cannot tell.
    fn history(
        &self,
        job_id: &str,
        timeout: Duration,
        calls: &AtomicU32,
    ) -> impl Future<Output = Result<Option<Past>, Fault>> + Send {
        let _ = (job_id, timeout, calls);
        async { Ok(None) }
    }
    /// The jobs submitted with `key` (`run --idempotency-key`; `what` carries it, as
    /// [`Kind::submission`] put it there), newest first as DLI lists them. A kind that cannot
    /// be found by a key refuses the key in [`Kind::submission`]; this default refuses the
    /// lookup too, so that nothing is ever submitted "to be safe".
    fn keyed(
        &self,
        key: &key::Key,
        what: &Self::Submission,
        timeout: Duration,
    ) -> impl Future<Output = Result<Vec<key::PastJob>, Fault>> + Send {
        let _ = (key, what, timeout);
        std::future::ready(Err(Fault::config(
            crate::dli::fault::FaultKind::Unsendable,
            "jobs of this kind cannot be found by an idempotency key",
        )))
    }
    /// DLI's own deadline on a job this run re-attaches to (`run --idempotency-key`): how
    /// long after its submit DLI ends it, as its first submit set it; `None` when it has none
    /// or it cannot be read (by default: kinds without one).
    fn own_deadline(
        &self,
        job_id: &str,
        timeout: Duration,
    ) -> impl Future<Output = Option<Duration>> + Send {
        let _ = (job_id, timeout);
        std::future::ready(None)
    }
    /// The simulator's scenario job that replays what a wait saw (`--record`).
    #[cfg(feature = "simulator")]
    fn recorded(report: &JobReport, polls: &[(Duration, Seen)]) -> JobSpec;
}

/// What DLI answered an accepted submit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Submitted {
    /// The new job's id, if DLI gave one (not checked yet).
    pub id: Option<String>,
    /// What else the answer said, for the message when there is no id.
    pub said: String,
    /// DLI ran the job while answering (a SQL DDL, `job_mode` `sync`): it has ended,
    /// FINISHED, without a poll.
    pub ended: bool,
}

#[cfg(feature = "simulator")]
use crate::{sim::scenario::JobSpec, wait::record::JobReport};
#[cfg(feature = "simulator")]
pub use recording::{STATUS_CHARS, Seen};

#[cfg(feature = "simulator")]
mod recording {
    use crate::dli::model::JobStatus;
    use crate::wait::snapshot::{Snapshot, Source};

    /// The most characters of a status DLI did not define that are kept.
    pub const STATUS_CHARS: usize = 64;

    /// What a recording (`--record`) keeps of one poll: its status, source, sub-job and that
    /// sub-job's size; each kind's [`super::Kind::recorded`] replays a run of them.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Seen {
        pub status: JobStatus,
        pub source: Source,
        pub sub_job_id: Option<i64>,
        /// The running sub-job's (or else the first one's) tasks and stages, at least 1 each.
        pub counts: (i64, i64),
        /// How often DLI had restarted the job, when its kind says (a Flink job).
        pub restart_times: Option<i64>,
    }

    impl Seen {
        pub fn of(s: &Snapshot) -> Self {
            let status = match &s.status {
                JobStatus::Other(text) if text.chars().count() > STATUS_CHARS => {
                    JobStatus::Other(text.chars().take(STATUS_CHARS).collect())
                }
                other => other.clone(),
            };
            let counts = s
                .sub_jobs
                .iter()
                .find(|j| j.id == s.sub_job_id && j.id.is_some())
                .or(s.sub_jobs.first())
                .map(|j| {
                    (
                        j.num_tasks.max(1),
                        i64::try_from(j.stage_ids.len()).unwrap_or(1).max(1),
                    )
                })
                .unwrap_or((1, 1));
            Seen {
                status,
                source: s.source,
                sub_job_id: s.sub_job_id,
                counts,
                restart_times: s.restart_times,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Kind;
    use super::flink::Flink;
    use super::spark::Spark;
    use super::sql::Sql;
    use crate::dli::model::{JobProgress, JobStatus, JobStatusInfo};
    use crate::dli::spark::BatchState;
    use crate::wait::machine::Fallback;
    use crate::wait::snapshot::Snapshot;

    /// What the machine and reporters ask of a snapshot, as each kind answers it; and each
    /// kind's fallback policy (issue 20: the kind says, nothing tests for Spark).
    #[test]
    fn each_kind_says_what_its_snapshots_carry_and_whether_it_falls_back() {
        let progress = Snapshot::from(JobProgress::default());
        assert!(progress.has_task_counts() && !progress.never_has_task_counts());
        assert!(!progress.carries_reason());
        assert_eq!(progress.source.as_str(), "progress");
        let status = Snapshot::from(JobStatusInfo::default());
        assert!(!status.has_task_counts() && !status.never_has_task_counts());
        assert!(status.carries_reason());
        assert_eq!(status.source.as_str(), "status");
        let batch = Snapshot::from(BatchState {
            id: None,
            state: JobStatus::Running,
        });
        assert!(!batch.has_task_counts() && batch.never_has_task_counts());
        assert!(!batch.carries_reason());
        assert_eq!(batch.source.as_str(), "batch");
        let flink = Snapshot::from(crate::dli::flink::FlinkJob {
            status: Some(JobStatus::from_flink("job_running")),
            restart_times: Some(3),
            ..Default::default()
        });
        assert!(!flink.has_task_counts() && flink.never_has_task_counts());
        assert!(flink.carries_reason());
        assert_eq!(flink.source.as_str(), "flink");
        assert_eq!(flink.restart_times, Some(3));
        assert_eq!(Sql::FALLBACK, Fallback::WhenBusy);
        assert_eq!(Spark::FALLBACK, Fallback::Never);
        assert_eq!(Flink::FALLBACK, Fallback::Never);
        // Only Flink jobs take a savepoint and count restarts; ids differ by kind.
        const { assert!(Flink::SAVEPOINTS && Flink::COUNTS_RESTARTS) };
        const { assert!(!Sql::SAVEPOINTS && !Spark::COUNTS_RESTARTS) };
        assert_eq!(Flink::id_problem("50320"), None);
        assert!(Flink::id_problem("85798b38-ae44-48eb-bb90-7cf0dcdafe7b").is_some());
        assert_eq!(
            Sql::id_problem("85798b38-ae44-48eb-bb90-7cf0dcdafe7b"),
            None
        );
        assert!(Spark::id_problem("50320").is_some());
    }

    /// DLI's figures, as each kind's ending read carries them (issue 22): a SQL job's
    /// `/status` all of them, a Spark batch's details its run time when DLI gives one.
    #[test]
    fn each_kind_says_what_figures_its_ending_read_carries() {
        use crate::dli::spark::BatchDetails;
        use std::time::Duration;
        let status = Snapshot::from(JobStatusInfo {
            duration: Some(243_000),
            input_size: Some(1_288_490_189),
            result_count: Some(18_204),
            bad_row_count: Some(-1),
            job_type: Some("QUERY".into()),
            queue_name: Some("default".into()),
            ..JobStatusInfo::default()
        });
        let f = status.figures.expect("figures");
        assert_eq!(f.duration, Some(Duration::from_secs(243)));
        assert_eq!(
            (f.bytes_scanned, f.result_rows),
            (Some(1_288_490_189), Some(18_204))
        );
        // A negative count is none.
        assert_eq!(f.bad_rows, None);
        assert!(f.on_default_queue());
        assert!(Snapshot::from(JobProgress::default()).figures.is_none());
        let details = Snapshot::from(BatchDetails {
            duration: Some(5_000),
            queue: Some("spark_q".into()),
            ..BatchDetails::default()
        });
        let f = details.figures.expect("figures");
        assert_eq!(f.duration, Some(Duration::from_secs(5)));
        assert_eq!((f.result_rows, f.queue.as_deref()), (None, Some("spark_q")));
        assert_eq!((Sql::RESULTS, Spark::RESULTS), (true, false));
    }
}
