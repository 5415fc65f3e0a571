//! The wait state machine: observations in (a snapshot or a fault, and the time), a decision
//! out (poll again after D, or end with an outcome). No sockets, sleeps or clocks in here.

use super::outcome::{Outcome, Stop};
use super::policy::{DelayPolicy, PolicyInput};
use super::snapshot::Snapshot;
use super::stall::StallWatch;
use crate::dli::fault::{Fault, FaultClass, FaultKind};
use crate::dli::model::{JobStatus, Phase};
use std::collections::BTreeSet;
use std::time::Duration;

/// After this many `DLI.0999` answers in a row from the primary endpoint (a SQL job's
/// `/progress`), poll the fallback one (`/status`) instead: on a queue whose backend is too
/// old, `/progress` never recovers.
pub const DEFAULT_FALLBACK_AFTER: u32 = 5;

/// `fallback_after` for jobs whose kind has no endpoint to fall back to: never.
pub const NEVER_FALL_BACK: u32 = u32::MAX;

/// Whether a kind's polls fall back from its primary endpoint to its fallback one when the
/// primary keeps answering `DLI.0999` (a kind's policy: `crate::kind::Kind::FALLBACK`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    /// After `fallback_after` busy answers in a row.
    WhenBusy,
    /// Never: busy answers are retried until the deadline like any transient fault.
    Never,
}

/// How long connection faults are retried while the service has never answered in this run:
/// long enough for DNS and networks that blink at a CI job's start, short enough that a
/// mistyped region is an error in half a minute, not after hours.
pub const DEFAULT_UNREACHABLE_AFTER: Duration = Duration::from_secs(30);

/// When to cancel the job instead of only walking away.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CancelOn {
    pub timeout: bool,
    pub stall: bool,
    pub signal: bool,
    /// `--fail-fast` ended this wait because another job did not finish (`ABANDONED`).
    pub abandoned: bool,
}

/// The knobs of one wait.
#[derive(Debug, Clone)]
pub struct WaitConfig {
    /// The overall deadline, from the start of the wait; `None` waits forever.
    pub timeout: Option<Duration>,
    /// How long a RUNNING job may stay unchanged; `None` disables stall detection.
    pub stall_timeout: Option<Duration>,
    pub cancel_on: CancelOn,
    pub fallback_after: u32,
    /// While the service has never answered (no HTTP answer at all), connection faults are
    /// retried this long from the start, then the wait ends as misconfigured; once it has
    /// answered they are retried as any transient fault. `None`: until `timeout`.
    pub unreachable_after: Option<Duration>,
    /// `--until running`: end with [`Outcome::Running`] once the job runs (for `settle`,
    /// once it has run that long), instead of at its end.
    pub until_running: bool,
    /// `--settle`: with `until_running`, how long the job must be seen running, with no
    /// restart and no other state in between, from the first poll that saw it running.
    pub settle: Option<Duration>,
    /// `--max-restarts`: end as [`Outcome::Unsteady`] once the job's `restart_times` grew by
    /// more than this during the wait (cancelled with `--cancel-on stall`).
    pub max_restarts: Option<u64>,
    /// What the ending reads of a FINISHED query besides DLI's figures.
    pub results: ResultsAsk,
    /// The calls the history lookup made before this wait's first poll: its figures count
    /// them ([`crate::wait::record::JobReport::lookup_calls`]).
    pub lookup_calls: u32,
}

/// What a FINISHED query's ending reads of its result (`/preview`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResultsAsk {
    /// Its rows, to show (`--results`).
    pub show: bool,
    /// Whether it has rows: rows end the wait as a failed check (`--fail-if-rows`).
    pub check: bool,
}

impl WaitConfig {
    /// This config under a kind's fallback policy.
    pub fn with_fallback(mut self, fallback: Fallback) -> Self {
        if fallback == Fallback::Never {
            self.fallback_after = NEVER_FALL_BACK;
        }
        self
    }
}

impl Default for WaitConfig {
    fn default() -> Self {
        WaitConfig {
            timeout: None,
            stall_timeout: None,
            cancel_on: CancelOn::default(),
            fallback_after: DEFAULT_FALLBACK_AFTER,
            unreachable_after: Some(DEFAULT_UNREACHABLE_AFTER),
            until_running: false,
            settle: None,
            max_restarts: None,
            results: ResultsAsk::default(),
            lookup_calls: 0,
        }
    }
}

/// Which of its kind's endpoints the next poll should call (each kind says what they are:
/// `crate::kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// Every poll's, while it answers (a SQL job's `/progress`: state and task counts; a
    /// Spark batch's `/state`).
    Primary,
    /// After the kind's fallback ([`Fallback::WhenBusy`]): a SQL job's `/status`, state only.
    Fallback,
}

/// What one poll brought back.
#[derive(Debug, Clone)]
pub enum Observation {
    Snapshot(Snapshot),
    Fault(Fault),
}

/// What to do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Sleep `after`, then call `endpoint`.
    Poll { after: Duration, endpoint: Endpoint },
    /// Stop waiting. `cancel` asks the driver to cancel the job first (`--cancel-on`).
    End { outcome: Outcome, cancel: bool },
}

/// Things worth telling the user that are not decisions.
#[derive(Debug, Clone, PartialEq)]
pub enum Note {
    /// A status this version does not know; treated as "not ended yet". Said once per value.
    UnknownStatus(String),
    /// `/progress` kept answering `DLI.0999`; polling `/status` from now on.
    FallbackToStatus { busy_answers: u32 },
    /// The job reports no task counts (its kind never has them), so `stall_timeout` cannot apply to it.
    /// Said once, at the first such answer, when a stall timeout is set: `what` the job is
    /// and what watches it `instead` (its snapshot's `Source`).
    NoTaskCounts {
        what: &'static str,
        instead: &'static str,
    },
    /// A transient fault; the next poll comes after `after`.
    Retrying { fault: Fault, after: Duration },
    /// `--until running --settle`: the job was seen running; it passes once it has stayed
    /// running for `window` (said when the window begins).
    Settling { window: Duration },
}

/// How a job in `status` has ended, if it has: a SQL job FINISHED, FAILED or CANCELLED; a
/// Spark batch `success` (finished) or `dead` (failed: a batch has no cancelled state, and a
/// batch our own cancel killed is told apart by the cancel's record, not here).
pub fn terminal_outcome(status: &JobStatus) -> Option<Outcome> {
    use crate::dli::model::Ending;
    Some(match status.ending()? {
        Ending::Finished => Outcome::Finished,
        Ending::Failed => Outcome::Failed,
        Ending::Cancelled => Outcome::Cancelled,
    })
}

/// How many distinct unknown statuses a wait names in a note (each once); past them, an
/// unknown status is still shown with its snapshot, but no longer kept. Each is at most
/// `dli::model::MAX_STATUS_CHARS` long: a server inventing a new word per poll costs a wait
/// at most about 16 × 64 characters.
pub const MAX_UNKNOWN_NOTED: usize = 16;

/// The wait for one job.
pub struct Machine {
    cfg: WaitConfig,
    policy: Box<dyn DelayPolicy>,
    endpoint: Endpoint,
    polls: u32,
    retries: u32,
    busy_streak: u32,
    last: Option<Snapshot>,
    last_fault: Option<Fault>,
    /// The service has given an HTTP answer (any) in this run.
    answered: bool,
    stall: StallWatch,
    /// Since when the job has been queued for resources (a Spark batch `starting`).
    queued_since: Option<Duration>,
    /// [`Note::NoTaskCounts`] was said.
    no_counts_said: bool,
    /// The job's `restart_times` at the last answer that gave it.
    restarts_last: Option<i64>,
    /// How much it grew during this wait.
    restarted: u64,
    /// `--until running`: since when the job has been seen running, without a break.
    running_since: Option<Duration>,
    unknown_seen: BTreeSet<String>,
    notes: Vec<Note>,
}

impl Machine {
    pub fn new(cfg: WaitConfig, policy: Box<dyn DelayPolicy>) -> Self {
        Machine {
            cfg,
            policy,
            endpoint: Endpoint::Primary,
            polls: 0,
            retries: 0,
            busy_streak: 0,
            last: None,
            last_fault: None,
            answered: false,
            stall: StallWatch::default(),
            queued_since: None,
            no_counts_said: false,
            restarts_last: None,
            restarted: 0,
            running_since: None,
            unknown_seen: BTreeSet::new(),
            notes: Vec::new(),
        }
    }

    /// The first decision: poll now.
    pub fn start(&mut self) -> Decision {
        Decision::Poll {
            after: Duration::ZERO,
            endpoint: self.endpoint,
        }
    }

    /// Feed what a poll returned at `now` (time since the wait started).
    pub fn observe(&mut self, obs: Observation, now: Duration) -> Decision {
        self.polls += 1;
        let delay = match obs {
            Observation::Snapshot(snap) => match self.on_snapshot(snap, now) {
                Ok(delay) => delay,
                Err(end) => return end,
            },
            Observation::Fault(fault) => match self.on_fault(fault, now) {
                Ok(delay) => delay,
                Err(end) => return end,
            },
        };
        self.next_poll(delay, now)
    }

    /// No turn under the rate limit came before the deadline: the wait ends as timed out, and
    /// the last fault stays the last one DLI gave (a full queue is not DLI's fault). `None`
    /// while there is time left (the turn failed for another reason: observe it as a fault).
    pub fn out_of_time(&mut self, now: Duration) -> Option<Decision> {
        let timeout = self.cfg.timeout?;
        (now >= timeout).then_some(Decision::End {
            outcome: Outcome::TimedOut,
            cancel: self.cfg.cancel_on.timeout,
        })
    }

    /// The service answered another wait of this process: it is reachable, so connection
    /// faults of this one are retried as any transient fault (the "never answered" window is
    /// judged for the process, not for each job).
    pub fn service_answered(&mut self) {
        self.answered = true;
    }

    /// Told to stop: a signal (cancel if `--cancel-on signal`), or `--fail-fast` because
    /// another job ended badly (cancel only if `--cancel-on abandoned`).
    pub fn stop(&mut self, why: Stop) -> Decision {
        let on = self.cfg.cancel_on;
        let (outcome, cancel) = match why {
            Stop::Signal(sig) => (Outcome::Interrupted(sig), on.signal),
            Stop::FailFast => (Outcome::Abandoned, on.abandoned),
        };
        Decision::End { outcome, cancel }
    }

    fn on_snapshot(&mut self, mut snap: Snapshot, now: Duration) -> Result<Duration, Decision> {
        self.answered = true;
        if snap.has_task_counts() {
            self.busy_streak = 0;
        }
        snap.queued = self.queued_for(&snap.status, now);
        let restarted_now = self.restarts_in(&mut snap);
        let quiet = self.no_counts_said || snap.status.is_terminal();
        if snap.never_has_task_counts() && self.cfg.stall_timeout.is_some() && !quiet {
            self.no_counts_said = true;
            self.notes.push(Note::NoTaskCounts {
                what: snap.source.words.what,
                instead: snap.source.words.instead,
            });
        }
        if let JobStatus::Other(s) = &snap.status
            && self.unknown_seen.len() < MAX_UNKNOWN_NOTED
            && self.unknown_seen.insert(s.clone())
        {
            self.notes.push(Note::UnknownStatus(s.clone()));
        }
        let changed = self
            .last
            .as_ref()
            .is_none_or(|prev| prev.status != snap.status || prev.sub_job_id != snap.sub_job_id);
        let terminal = terminal_outcome(&snap.status);
        // Only an answer with task counts says whether the job is stalled.
        let still_for = if snap.has_task_counts() {
            self.stall.observe(&snap, now)
        } else {
            Duration::ZERO
        };
        self.last = Some(snap);
        self.last_fault = None;
        if let Some(outcome) = terminal {
            return Err(Decision::End {
                outcome,
                cancel: false,
            });
        }
        if let Some(limit) = self.cfg.stall_timeout
            && still_for >= limit
        {
            return Err(Decision::End {
                outcome: Outcome::Stalled { still_for },
                cancel: self.cfg.cancel_on.stall,
            });
        }
        if let Some(max) = self.cfg.max_restarts
            && self.restarted > max
        {
            return Err(self.unsteady(None));
        }
        let settle_left = self.until_running(restarted_now, now)?;
        let input = PolicyInput {
            now,
            snapshot: self.last.as_ref(),
            fault: None,
            changed,
        };
        let delay = self.policy.next_delay(&input);
        let delay = self.cap_at_stall(delay, now);
        Ok(settle_left.map_or(delay, |left| delay.min(left)))
    }

    /// Count the restarts `snap` shows (its `restart_times` grew since the last answer that
    /// gave it) into `snap.restarted`; whether it grew now.
    fn restarts_in(&mut self, snap: &mut Snapshot) -> bool {
        let Some(n) = snap.restart_times else {
            return false;
        };
        let grew = self
            .restarts_last
            .map_or(0, |last| u64::try_from(n.saturating_sub(last)).unwrap_or(0));
        self.restarts_last = Some(n);
        self.restarted = self.restarted.saturating_add(grew);
        snap.restarted = Some(self.restarted);
        grew > 0
    }

    /// `--until running` at this answer (already in `self.last`): the end, once the job has
    /// run (through the `--settle` window); the time left of the window while it settles
    /// (the next poll lands on its end). A restart, or any state but running, once the
    /// window began ends the wait as [`Outcome::Unsteady`].
    fn until_running(
        &mut self,
        restarted_now: bool,
        now: Duration,
    ) -> Result<Option<Duration>, Decision> {
        if !self.cfg.until_running {
            return Ok(None);
        }
        let running = self
            .last
            .as_ref()
            .is_some_and(|s| s.status.phase() == Phase::Running);
        let settling = self.running_since.is_some() && self.cfg.settle.is_some();
        if settling && (restarted_now || !running) {
            return Err(self.unsteady(self.cfg.settle));
        }
        if !running {
            return Ok(None);
        }
        if self.running_since.is_none()
            && let Some(window) = self.cfg.settle
        {
            self.notes.push(Note::Settling { window });
        }
        let since = *self.running_since.get_or_insert(now);
        let ran = now.saturating_sub(since);
        match self.cfg.settle {
            Some(window) if ran < window => Ok(Some(window - ran)),
            settled => Err(Decision::End {
                outcome: Outcome::Running { settled },
                cancel: false,
            }),
        }
    }

    fn unsteady(&self, settle: Option<Duration>) -> Decision {
        Decision::End {
            outcome: Outcome::Unsteady {
                restarts: self.restarted,
                max_restarts: self.cfg.max_restarts,
                settle,
            },
            cancel: self.cfg.cancel_on.stall,
        }
    }

    fn on_fault(&mut self, fault: Fault, now: Duration) -> Result<Duration, Decision> {
        self.answered |= fault.http_status.is_some();
        // What cannot work as configured ends the wait at once; so do connection faults
        // past the window while nothing has ever answered.
        let unreachable = self.unreachable_until(&fault);
        if fault.class == FaultClass::Config || unreachable.is_some_and(|until| now >= until) {
            self.last_fault = Some(fault.clone());
            return Err(Decision::End {
                outcome: Outcome::Misconfigured(Box::new(fault)),
                cancel: false,
            });
        }
        if !fault.is_transient() {
            let outcome = Outcome::Refused(fault.clone());
            self.last_fault = Some(fault);
            return Err(Decision::End {
                outcome,
                cancel: false,
            });
        }
        self.retries += 1;
        if fault.kind == FaultKind::QueueBusy && self.endpoint == Endpoint::Primary {
            self.busy_streak += 1;
            if self.busy_streak >= self.cfg.fallback_after {
                self.endpoint = Endpoint::Fallback;
                self.stall.reset();
                self.notes.push(Note::FallbackToStatus {
                    busy_answers: self.busy_streak,
                });
            }
        }
        let input = PolicyInput {
            now,
            snapshot: None,
            fault: Some(&fault),
            changed: false,
        };
        let mut delay = self.policy.next_delay(&input);
        delay = self.cap_at_stall(delay, now);
        if let Some(ra) = fault.retry_after {
            delay = delay.max(ra);
        }
        // One last try lands on the window's end.
        if let Some(until) = unreachable {
            delay = delay.min(until.saturating_sub(now));
        }
        self.notes.push(Note::Retrying {
            fault: fault.clone(),
            after: self.clamp_to_deadline(delay, now),
        });
        self.last_fault = Some(fault);
        Ok(delay)
    }

    /// How long the job has been queued for resources at `now`: since the first answer of this
    /// wait that showed it `starting` (a Spark batch); `None` in any other state.
    fn queued_for(&mut self, status: &JobStatus, now: Duration) -> Option<Duration> {
        if *status == JobStatus::Starting {
            let since = *self.queued_since.get_or_insert(now);
            Some(now.saturating_sub(since))
        } else {
            self.queued_since = None;
            None
        }
    }

    /// The end of the window for this fault: a connection fault while the service has never
    /// answered.
    fn unreachable_until(&self, fault: &Fault) -> Option<Duration> {
        if self.answered || fault.kind != FaultKind::Connection {
            return None;
        }
        self.cfg.unreachable_after
    }

    /// Poll after `delay`, but never past the deadline: the last sleep is shortened so that
    /// one final poll lands on the deadline (as the AWS SDK's waiters do).
    fn next_poll(&mut self, delay: Duration, now: Duration) -> Decision {
        if let Some(timeout) = self.cfg.timeout
            && now >= timeout
        {
            let cancel = self.cfg.cancel_on.timeout;
            return Decision::End {
                outcome: Outcome::TimedOut,
                cancel,
            };
        }
        Decision::Poll {
            after: self.clamp_to_deadline(delay, now),
            endpoint: self.endpoint,
        }
    }

    /// Shorten `delay` so that the next poll lands on the stall deadline (the last change plus
    /// `--stall-timeout`), however long the policy would wait (`--max-poll-interval`): a
    /// stall is then seen within one request of its deadline. Once that deadline has passed
    /// (a fault answered the poll made for it), the policy's delay stands: no hammering.
    fn cap_at_stall(&self, delay: Duration, now: Duration) -> Duration {
        let left = self
            .cfg
            .stall_timeout
            .zip(self.stall.since())
            .map(|(limit, since)| (since + limit).saturating_sub(now));
        match left {
            Some(left) if !left.is_zero() => delay.min(left),
            _ => delay,
        }
    }

    fn clamp_to_deadline(&self, delay: Duration, now: Duration) -> Duration {
        match self.cfg.timeout {
            Some(t) => delay.min(t.saturating_sub(now)),
            None => delay,
        }
    }

    /// Time left before the deadline, if there is one.
    pub fn remaining(&self, now: Duration) -> Option<Duration> {
        self.cfg.timeout.map(|t| t.saturating_sub(now))
    }

    /// What the ending reads of a FINISHED query's result.
    pub fn results(&self) -> ResultsAsk {
        self.cfg.results
    }

    /// The history lookup's calls before this wait (see [`WaitConfig::lookup_calls`]).
    pub fn lookup_calls(&self) -> u32 {
        self.cfg.lookup_calls
    }

    pub fn take_notes(&mut self) -> Vec<Note> {
        std::mem::take(&mut self.notes)
    }
    pub fn polls(&self) -> u32 {
        self.polls
    }
    pub fn retries(&self) -> u32 {
        self.retries
    }
    pub fn last(&self) -> Option<&Snapshot> {
        self.last.as_ref()
    }
    pub fn last_fault(&self) -> Option<&Fault> {
        self.last_fault.as_ref()
    }
    pub fn endpoint(&self) -> Endpoint {
        self.endpoint
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dli::fault::{Fault, FaultClass, FaultKind};
    use crate::dli::model::{JobProgress, JobStatusInfo, SubJob};
    use crate::wait::outcome::Signal;
    use crate::wait::policy::Fixed;

    const S: fn(u64) -> Duration = Duration::from_secs;

    fn machine(cfg: WaitConfig) -> Machine {
        Machine::new(cfg, Box::new(Fixed(S(10))))
    }

    fn progress(status: &str, sub: Option<i64>, done: i64, total: i64) -> Observation {
        let sub_jobs = sub
            .map(|id| {
                vec![SubJob {
                    id: Some(id),
                    num_tasks: total,
                    num_completed_tasks: done,
                    stage_ids: vec![0, 1],
                    ..SubJob::default()
                }]
            })
            .unwrap_or_default();
        Observation::Snapshot(Snapshot::from(JobProgress {
            status: JobStatus::from(status),
            sub_job_id: sub,
            progress: sub.map(|_| done as f64 / total as f64),
            sub_jobs,
            ..JobProgress::default()
        }))
    }

    fn busy() -> Observation {
        Observation::Fault(Fault {
            class: FaultClass::Transient,
            kind: FaultKind::QueueBusy,
            http_status: Some(400),
            code: Some("DLI.0999".into()),
            message: "The queue is busy.".into(),
            request_id: None,
            retry_after: None,
            check: None,
            delivery: crate::dli::fault::Delivery::MaybeSent,
        })
    }

    fn poll_after(d: &Decision) -> Duration {
        match d {
            Decision::Poll { after, .. } => *after,
            other => panic!("expected a poll, got {other:?}"),
        }
    }

    #[test]
    fn no_turn_before_the_deadline_ends_timed_out_keeping_the_last_fault() {
        let mut m = Machine::new(
            WaitConfig {
                timeout: Some(S(10)),
                ..WaitConfig::default()
            },
            Box::new(Fixed(S(2))),
        );
        m.start();
        m.observe(busy(), S(1));
        assert_eq!(m.out_of_time(S(5)), None);
        assert_eq!(
            m.out_of_time(S(10)),
            Some(Decision::End {
                outcome: Outcome::TimedOut,
                cancel: false
            })
        );
        assert_eq!(m.last_fault().map(|f| f.kind), Some(FaultKind::QueueBusy));
    }

    #[test]
    fn launch_run_finish() {
        let mut m = machine(WaitConfig::default());
        assert_eq!(
            m.start(),
            Decision::Poll {
                after: Duration::ZERO,
                endpoint: Endpoint::Primary
            }
        );
        assert_eq!(
            poll_after(&m.observe(progress("LAUNCHING", None, 0, 0), S(0))),
            S(10)
        );
        poll_after(&m.observe(progress("RUNNING", Some(0), 3, 10), S(10)));
        poll_after(&m.observe(progress("RUNNING", Some(0), 9, 10), S(20)));
        let d = m.observe(progress("FINISHED", None, 0, 0), S(30));
        assert_eq!(
            d,
            Decision::End {
                outcome: Outcome::Finished,
                cancel: false
            }
        );
        assert_eq!((m.polls(), m.retries()), (4, 0));
    }

    #[test]
    fn failed_and_cancelled_end_the_wait() {
        let mut m = machine(WaitConfig::default());
        let d = m.observe(progress("FAILED", None, 0, 0), S(1));
        assert!(matches!(
            d,
            Decision::End {
                outcome: Outcome::Failed,
                ..
            }
        ));
        let mut m = machine(WaitConfig::default());
        let d = m.observe(progress("CANCELLED", None, 0, 0), S(1));
        assert!(matches!(
            d,
            Decision::End {
                outcome: Outcome::Cancelled,
                ..
            }
        ));
    }

    #[test]
    fn queue_busy_bursts_are_retried_then_progress_resumes() {
        let mut m = machine(WaitConfig::default());
        m.observe(progress("RUNNING", Some(0), 1, 10), S(0));
        for i in 1..=3 {
            let d = m.observe(busy(), S(i * 10));
            assert_eq!(
                d,
                Decision::Poll {
                    after: S(10),
                    endpoint: Endpoint::Primary
                }
            );
        }
        let notes = m.take_notes();
        assert_eq!(notes.len(), 3);
        assert!(
            matches!(&notes[0], Note::Retrying { fault, .. } if fault.kind == FaultKind::QueueBusy)
        );
        m.observe(progress("RUNNING", Some(0), 5, 10), S(40));
        let d = m.observe(progress("FINISHED", None, 0, 0), S(50));
        assert!(matches!(
            d,
            Decision::End {
                outcome: Outcome::Finished,
                ..
            }
        ));
        assert_eq!(m.retries(), 3);
    }

    #[test]
    fn a_kind_that_never_falls_back_keeps_its_primary_endpoint() {
        let mut m = machine(WaitConfig::default().with_fallback(Fallback::Never));
        m.start();
        for i in 0..DEFAULT_FALLBACK_AFTER * 4 {
            let d = m.observe(busy(), S(u64::from(i) * 10));
            assert!(
                matches!(
                    d,
                    Decision::Poll {
                        endpoint: Endpoint::Primary,
                        ..
                    }
                ),
                "{d:?}"
            );
        }
        assert!(
            !m.take_notes()
                .iter()
                .any(|n| matches!(n, Note::FallbackToStatus { .. }))
        );
        // A kind that falls back keeps the configured count.
        let cfg = WaitConfig::default().with_fallback(Fallback::WhenBusy);
        assert_eq!(cfg.fallback_after, DEFAULT_FALLBACK_AFTER);
    }

    #[test]
    fn persistent_queue_busy_falls_back_to_status() {
        let mut m = machine(WaitConfig::default());
        let mut last = m.start();
        for i in 0..DEFAULT_FALLBACK_AFTER {
            last = m.observe(busy(), S(u64::from(i) * 10));
        }
        assert_eq!(
            last,
            Decision::Poll {
                after: S(10),
                endpoint: Endpoint::Fallback
            }
        );
        assert!(
            m.take_notes()
                .iter()
                .any(|n| matches!(n, Note::FallbackToStatus { .. }))
        );
        let status = |s: &str| {
            Observation::Snapshot(Snapshot::from(JobStatusInfo {
                status: JobStatus::from(s),
                ..JobStatusInfo::default()
            }))
        };
        assert_eq!(
            m.observe(status("RUNNING"), S(60)),
            Decision::Poll {
                after: S(10),
                endpoint: Endpoint::Fallback
            }
        );
        let d = m.observe(status("FINISHED"), S(70));
        assert!(matches!(
            d,
            Decision::End {
                outcome: Outcome::Finished,
                ..
            }
        ));
    }

    #[test]
    fn retry_after_wins_over_a_shorter_policy_delay() {
        let mut m = machine(WaitConfig::default());
        let mut fault = Fault::transport(FaultKind::Throttled, "throttled");
        fault.retry_after = Some(S(45));
        assert_eq!(
            poll_after(&m.observe(Observation::Fault(fault), S(0))),
            S(45)
        );
    }

    #[test]
    fn permanent_fault_ends_at_once() {
        let mut m = machine(WaitConfig::default());
        m.observe(progress("RUNNING", Some(0), 1, 10), S(0));
        let mut f = Fault::transport(FaultKind::Unauthorized, "bad signature");
        f.class = FaultClass::Permanent;
        let d = m.observe(Observation::Fault(f), S(600));
        assert!(matches!(
            d,
            Decision::End {
                outcome: Outcome::Refused(_),
                cancel: false
            }
        ));
        // The last known state survives for the message.
        assert_eq!(m.last().unwrap().status, JobStatus::Running);
    }

    #[test]
    fn a_stall_is_counts_unchanged_while_running() {
        let cfg = WaitConfig {
            stall_timeout: Some(S(60)),
            ..WaitConfig::default()
        };
        let mut m = machine(cfg);
        m.observe(progress("RUNNING", Some(0), 4, 10), S(0));
        for t in [10, 20, 30, 40, 50] {
            poll_after(&m.observe(progress("RUNNING", Some(0), 4, 10), S(t)));
        }
        let d = m.observe(progress("RUNNING", Some(0), 4, 10), S(60));
        assert_eq!(
            d,
            Decision::End {
                outcome: Outcome::Stalled { still_for: S(60) },
                cancel: false
            }
        );
    }

    #[test]
    fn the_next_poll_lands_on_the_stall_deadline_however_long_the_policy_waits() {
        let cfg = WaitConfig {
            stall_timeout: Some(S(10)),
            ..WaitConfig::default()
        };
        // --max-poll-interval 120s: the policy alone would look again only after 2 minutes.
        let mut m = Machine::new(cfg, Box::new(Fixed(S(120))));
        assert_eq!(
            poll_after(&m.observe(progress("RUNNING", Some(0), 4, 10), S(0))),
            S(10)
        );
        let d = m.observe(progress("RUNNING", Some(0), 4, 10), S(10));
        assert_eq!(
            d,
            Decision::End {
                outcome: Outcome::Stalled { still_for: S(10) },
                cancel: false
            }
        );
        // A change restarts the clock: the next poll lands 10 s after it.
        let mut m = Machine::new(cfg_stall(10), Box::new(Fixed(S(120))));
        m.observe(progress("RUNNING", Some(0), 4, 10), S(0));
        assert_eq!(
            poll_after(&m.observe(progress("RUNNING", Some(0), 5, 10), S(7))),
            S(10)
        );
        assert_eq!(
            poll_after(&m.observe(progress("RUNNING", Some(0), 5, 10), S(12))),
            S(5)
        );
        // Not RUNNING (queueing): no stall clock, the policy's delay stands.
        let mut m = Machine::new(cfg_stall(10), Box::new(Fixed(S(120))));
        assert_eq!(
            poll_after(&m.observe(progress("LAUNCHING", None, 0, 0), S(0))),
            S(120)
        );
    }

    fn cfg_stall(secs: u64) -> WaitConfig {
        WaitConfig {
            stall_timeout: Some(S(secs)),
            ..WaitConfig::default()
        }
    }

    #[test]
    fn a_fault_before_the_stall_deadline_retries_by_it_but_honours_retry_after() {
        let mut m = Machine::new(cfg_stall(10), Box::new(Fixed(S(120))));
        m.observe(progress("RUNNING", Some(0), 4, 10), S(0));
        assert_eq!(poll_after(&m.observe(busy(), S(4))), S(6));
        // Retry-After past the stall deadline is honoured all the same.
        let mut throttled = Fault::transport(FaultKind::Throttled, "throttled");
        throttled.retry_after = Some(S(30));
        assert_eq!(
            poll_after(&m.observe(Observation::Fault(throttled), S(5))),
            S(30)
        );
        // The deadline has passed while DLI answered faults: no tight loop, the policy's
        // delay stands until a snapshot shows the stall.
        assert_eq!(poll_after(&m.observe(busy(), S(35))), S(120));
        let d = m.observe(progress("RUNNING", Some(0), 4, 10), S(155));
        assert!(matches!(
            d,
            Decision::End {
                outcome: Outcome::Stalled { .. },
                ..
            }
        ));
    }

    #[test]
    fn progress_dropping_to_zero_on_the_next_sub_job_is_movement() {
        let cfg = WaitConfig {
            stall_timeout: Some(S(30)),
            ..WaitConfig::default()
        };
        let mut m = machine(cfg);
        m.observe(progress("RUNNING", Some(0), 10, 10), S(0));
        m.observe(progress("RUNNING", Some(0), 10, 10), S(20));
        // Sub-job 1 starts at 0 %: a change, so the stall clock restarts.
        poll_after(&m.observe(progress("RUNNING", Some(1), 0, 50), S(29)));
        poll_after(&m.observe(progress("RUNNING", Some(1), 0, 50), S(50)));
        let d = m.observe(progress("RUNNING", Some(1), 0, 50), S(59));
        assert!(matches!(
            d,
            Decision::End {
                outcome: Outcome::Stalled { .. },
                ..
            }
        ));
    }

    #[test]
    fn queueing_in_launching_is_not_a_stall() {
        let cfg = WaitConfig {
            stall_timeout: Some(S(30)),
            timeout: Some(S(3600)),
            ..WaitConfig::default()
        };
        let mut m = machine(cfg);
        for t in (0..600).step_by(10) {
            poll_after(&m.observe(progress("LAUNCHING", None, 0, 0), S(t)));
        }
    }

    #[test]
    fn stall_with_cancel_on_stall_asks_to_cancel() {
        let cfg = WaitConfig {
            stall_timeout: Some(S(10)),
            cancel_on: CancelOn {
                stall: true,
                ..CancelOn::default()
            },
            ..WaitConfig::default()
        };
        let mut m = machine(cfg);
        m.observe(progress("RUNNING", Some(0), 1, 2), S(0));
        let d = m.observe(progress("RUNNING", Some(0), 1, 2), S(10));
        assert!(matches!(
            d,
            Decision::End {
                outcome: Outcome::Stalled { .. },
                cancel: true
            }
        ));
    }

    #[test]
    fn the_last_sleep_lands_on_the_deadline() {
        let cfg = WaitConfig {
            timeout: Some(S(25)),
            ..WaitConfig::default()
        };
        let mut m = machine(cfg);
        assert_eq!(
            poll_after(&m.observe(progress("RUNNING", Some(0), 1, 9), S(0))),
            S(10)
        );
        assert_eq!(
            poll_after(&m.observe(progress("RUNNING", Some(0), 2, 9), S(10))),
            S(10)
        );
        // 20 s in, 10 s wanted, 5 s left: sleep 5 s so one final poll lands on the deadline.
        assert_eq!(
            poll_after(&m.observe(progress("RUNNING", Some(0), 3, 9), S(20))),
            S(5)
        );
        let d = m.observe(progress("RUNNING", Some(0), 4, 9), S(25));
        assert_eq!(
            d,
            Decision::End {
                outcome: Outcome::TimedOut,
                cancel: false
            }
        );
    }

    #[test]
    fn a_job_that_ends_on_the_final_poll_is_not_a_timeout() {
        let cfg = WaitConfig {
            timeout: Some(S(25)),
            ..WaitConfig::default()
        };
        let mut m = machine(cfg);
        m.observe(progress("RUNNING", Some(0), 1, 9), S(20));
        let d = m.observe(progress("FINISHED", None, 0, 0), S(25));
        assert!(matches!(
            d,
            Decision::End {
                outcome: Outcome::Finished,
                ..
            }
        ));
    }

    #[test]
    fn transient_faults_past_the_deadline_time_out_naming_the_fault() {
        let cfg = WaitConfig {
            timeout: Some(S(30)),
            cancel_on: CancelOn {
                timeout: true,
                ..CancelOn::default()
            },
            ..WaitConfig::default()
        };
        let mut m = machine(cfg);
        for t in [0, 10, 20] {
            poll_after(&m.observe(busy(), S(t)));
        }
        let d = m.observe(busy(), S(30));
        assert_eq!(
            d,
            Decision::End {
                outcome: Outcome::TimedOut,
                cancel: true
            }
        );
        assert_eq!(m.last_fault().unwrap().code.as_deref(), Some("DLI.0999"));
    }

    /// Issue 25: a new unknown word on every poll does not grow the wait's memory.
    #[test]
    fn unknown_statuses_kept_are_bounded() {
        let mut m = machine(WaitConfig::default());
        for i in 0..1000 {
            let word = format!("{i}{}", "W".repeat(10_000));
            poll_after(&m.observe(progress(&word, None, 0, 0), S(i)));
        }
        let notes = m.take_notes();
        assert_eq!(notes.len(), MAX_UNKNOWN_NOTED);
        assert_eq!(m.unknown_seen.len(), MAX_UNKNOWN_NOTED);
        assert!(m.unknown_seen.iter().all(|s| s.chars().count() <= 65));
    }

    #[test]
    fn unknown_status_is_noted_once_and_keeps_waiting() {
        let mut m = machine(WaitConfig::default());
        poll_after(&m.observe(progress("THAWING", None, 0, 0), S(0)));
        poll_after(&m.observe(progress("THAWING", None, 0, 0), S(10)));
        let notes = m.take_notes();
        assert_eq!(notes, vec![Note::UnknownStatus("THAWING".into())]);
    }

    #[test]
    fn a_signal_ends_the_wait_and_cancels_only_when_asked() {
        let mut m = machine(WaitConfig::default());
        assert_eq!(
            m.stop(Stop::Signal(Signal::Int)),
            Decision::End {
                outcome: Outcome::Interrupted(Signal::Int),
                cancel: false
            }
        );
        let mut m = machine(WaitConfig {
            cancel_on: CancelOn {
                signal: true,
                ..CancelOn::default()
            },
            ..WaitConfig::default()
        });
        assert!(matches!(
            m.stop(Stop::Signal(Signal::Term)),
            Decision::End { cancel: true, .. }
        ));
        // `--cancel-on signal` (or timeout, stall) says nothing about abandoned jobs.
        assert_eq!(
            m.stop(Stop::FailFast),
            Decision::End {
                outcome: Outcome::Abandoned,
                cancel: false
            }
        );
        let mut m = machine(WaitConfig {
            cancel_on: CancelOn {
                abandoned: true,
                ..CancelOn::default()
            },
            ..WaitConfig::default()
        });
        assert_eq!(
            m.stop(Stop::FailFast),
            Decision::End {
                outcome: Outcome::Abandoned,
                cancel: true
            }
        );
    }

    fn batch(status: &str) -> Observation {
        Observation::Snapshot(Snapshot::of_batch(
            JobStatus::from_spark(status),
            String::new(),
        ))
    }

    #[test]
    fn spark_states_map_onto_the_same_endings_without_unknown_status_notes() {
        for (states, outcome) in [
            (
                ["starting", "running", "recovering", "success"],
                Outcome::Finished,
            ),
            (
                ["starting", "recovering", "running", "dead"],
                Outcome::Failed,
            ),
            (
                ["Starting", "Running", "Recovering", "Success"],
                Outcome::Finished,
            ),
        ] {
            let mut m = machine(WaitConfig::default());
            for (i, s) in states[..3].iter().enumerate() {
                poll_after(&m.observe(batch(s), S(i as u64 * 10)));
            }
            assert_eq!(
                m.observe(batch(states[3]), S(30)),
                Decision::End {
                    outcome,
                    cancel: false
                }
            );
            assert!(m.take_notes().is_empty(), "{states:?}");
        }
        // An unknown state is still said once, and waited through.
        let mut m = machine(WaitConfig::default());
        poll_after(&m.observe(batch("killed"), S(0)));
        assert_eq!(m.take_notes(), vec![Note::UnknownStatus("killed".into())]);
    }

    #[test]
    fn the_time_queued_is_how_long_the_batch_has_been_starting() {
        let mut m = machine(WaitConfig::default());
        poll_after(&m.observe(batch("starting"), S(0)));
        assert_eq!(m.last().unwrap().queued, Some(S(0)));
        poll_after(&m.observe(batch("starting"), S(60)));
        // A fault in between does not restart the clock.
        poll_after(&m.observe(busy(), S(300)));
        poll_after(&m.observe(batch("starting"), S(720)));
        assert_eq!(m.last().unwrap().queued, Some(S(720)));
        // Once it runs, it is no longer queued.
        poll_after(&m.observe(batch("running"), S(800)));
        assert_eq!(m.last().unwrap().queued, None);
        // SQL jobs have no such clock, LAUNCHING included.
        let mut m = machine(WaitConfig::default());
        poll_after(&m.observe(progress("LAUNCHING", None, 0, 0), S(0)));
        poll_after(&m.observe(progress("LAUNCHING", None, 0, 0), S(60)));
        assert_eq!(m.last().unwrap().queued, None);
    }

    #[test]
    fn a_batch_has_no_counts_so_it_never_stalls_and_that_is_said_once() {
        let mut m = machine(cfg_stall(60));
        for t in (0..3600).step_by(10) {
            poll_after(&m.observe(batch("running"), S(t)));
        }
        assert_eq!(
            m.take_notes(),
            vec![Note::NoTaskCounts {
                what: "a Spark batch",
                instead: "the wait ends at success, dead or --timeout"
            }]
        );
        // Without a stall timeout there is nothing to say; nor for a batch that ended at once.
        let mut m = machine(WaitConfig::default());
        poll_after(&m.observe(batch("running"), S(0)));
        assert!(m.take_notes().is_empty());
        let mut m = machine(cfg_stall(60));
        m.observe(batch("success"), S(0));
        assert!(m.take_notes().is_empty());
    }

    fn unreachable() -> Observation {
        Observation::Fault(Fault::transport(
            FaultKind::Connection,
            "cannot resolve dli.cn-nort-4.myhuaweicloud.com (DNS)",
        ))
    }

    fn is_misconfigured(d: &Decision) -> bool {
        matches!(
            d,
            Decision::End {
                outcome: Outcome::Misconfigured(_),
                cancel: false
            }
        )
    }

    #[test]
    fn a_configuration_fault_ends_the_wait_at_once() {
        let mut m = machine(WaitConfig::default());
        let d = m.observe(
            Observation::Fault(Fault::config(FaultKind::Tls, "not trusted")),
            S(0),
        );
        assert!(is_misconfigured(&d), "{d:?}");
        assert_eq!(m.last_fault().unwrap().kind, FaultKind::Tls);
    }

    #[test]
    fn a_service_that_never_answered_is_misconfigured_after_the_window() {
        let mut m = machine(WaitConfig {
            timeout: Some(S(6 * 3600)),
            ..WaitConfig::default()
        });
        for t in [0, 10] {
            assert_eq!(poll_after(&m.observe(unreachable(), S(t))), S(10));
        }
        // 25 s in, 10 s wanted: the last try lands on the window's end.
        assert_eq!(poll_after(&m.observe(unreachable(), S(25))), S(5));
        let d = m.observe(unreachable(), S(30));
        assert!(is_misconfigured(&d), "{d:?}");
        assert!(m.last_fault().is_some());
    }

    #[test]
    fn once_the_service_answered_connection_faults_are_retried_as_before() {
        let mut m = machine(WaitConfig::default());
        poll_after(&m.observe(progress("RUNNING", Some(0), 1, 9), S(0)));
        for t in (10..600).step_by(10) {
            poll_after(&m.observe(unreachable(), S(t)));
        }
        // Any HTTP answer counts, an error too.
        let mut m = machine(WaitConfig::default());
        let mut f = Fault::transport(FaultKind::ServerError, "busy");
        f.http_status = Some(503);
        poll_after(&m.observe(Observation::Fault(f), S(0)));
        poll_after(&m.observe(unreachable(), S(100)));
        // Other faults do not count towards the window: a slow service is not an absent one.
        let mut m = machine(WaitConfig::default());
        for t in (0..600).step_by(10) {
            let slow = Fault::transport(FaultKind::Timeout, "no answer within 30s");
            poll_after(&m.observe(Observation::Fault(slow), S(t)));
        }
        // And with the window off, connection faults are retried until the deadline.
        let mut m = machine(WaitConfig {
            unreachable_after: None,
            ..WaitConfig::default()
        });
        for t in (0..600).step_by(10) {
            poll_after(&m.observe(unreachable(), S(t)));
        }
    }
    /// A job of a kind that counts its restarts and has no task counts, in a Flink `status`.
    fn streaming(status: &str, restart_times: i64) -> Observation {
        use crate::wait::snapshot::{Source, TaskCounts, Words};
        Observation::Snapshot(Snapshot {
            status: JobStatus::from_flink(status),
            message: String::new(),
            source: Source {
                name: "streaming",
                counts: TaskCounts::Never,
                reason: true,
                words: &Words {
                    what: "a streaming job",
                    instead: "",
                },
            },
            progress: None,
            sub_job_id: None,
            sub_jobs: Vec::new(),
            detail: None,
            queued: None,
            restart_times: Some(restart_times),
            restarted: None,
            figures: None,
        })
    }

    fn until_running(settle: Option<u64>) -> Machine {
        machine(WaitConfig {
            until_running: true,
            settle: settle.map(S),
            ..WaitConfig::default()
        })
    }

    fn ended(d: Decision) -> Outcome {
        match d {
            Decision::End { outcome, .. } => outcome,
            other => panic!("expected an end, got {other:?}"),
        }
    }

    #[test]
    fn until_running_ends_at_the_first_running_answer_of_any_kind() {
        let mut m = until_running(None);
        poll_after(&m.observe(streaming("job_submitting", 0), S(0)));
        assert_eq!(
            ended(m.observe(streaming("job_running", 0), S(10))),
            Outcome::Running { settled: None }
        );
        let mut m = until_running(None);
        poll_after(&m.observe(progress("LAUNCHING", None, 0, 0), S(0)));
        assert_eq!(
            ended(m.observe(progress("RUNNING", Some(0), 1, 10), S(10))),
            Outcome::Running { settled: None }
        );
        // An ending before it was seen running is that ending.
        let mut m = until_running(Some(60));
        assert_eq!(
            ended(m.observe(streaming("job_submit_fail", 0), S(0))),
            Outcome::Failed
        );
        let mut m = until_running(Some(60));
        poll_after(&m.observe(streaming("job_running", 0), S(0)));
        let end = ended(m.observe(streaming("job_finish", 0), S(10)));
        assert_eq!((end.clone(), end.exit_code()), (Outcome::Finished, 0));
    }

    #[test]
    fn settle_needs_the_whole_window_running_and_polls_land_on_its_end() {
        let mut m = until_running(Some(30));
        poll_after(&m.observe(streaming("job_submitting", 0), S(0)));
        // Seen running at 5 s: the next poll is at most the 30 s left of the window away.
        assert_eq!(
            poll_after(&m.observe(streaming("job_running", 0), S(5))),
            S(10)
        );
        assert!(m.take_notes().contains(&Note::Settling { window: S(30) }));
        poll_after(&m.observe(streaming("job_savepointing", 0), S(15)));
        let d = m.observe(streaming("job_running", 0), S(30));
        assert_eq!(poll_after(&d), S(5));
        assert_eq!(
            ended(m.observe(streaming("job_running", 0), S(35))),
            Outcome::Running {
                settled: Some(S(30))
            }
        );
    }

    #[test]
    fn a_restart_or_another_state_inside_the_window_is_not_a_pass() {
        let mut m = until_running(Some(30));
        poll_after(&m.observe(streaming("job_running", 3), S(0)));
        let end = ended(m.observe(streaming("job_running", 4), S(10)));
        assert_eq!(
            end,
            Outcome::Unsteady {
                restarts: 1,
                max_restarts: None,
                settle: Some(S(30))
            }
        );
        assert_eq!(end.exit_code(), 4);
        let mut m = until_running(Some(30));
        poll_after(&m.observe(streaming("job_running", 0), S(0)));
        assert!(matches!(
            ended(m.observe(streaming("job_submitting", 0), S(10))),
            Outcome::Unsteady { .. }
        ));
        // Restarts before the window began do not count against it.
        let mut m = until_running(Some(30));
        poll_after(&m.observe(streaming("job_submitting", 0), S(0)));
        poll_after(&m.observe(streaming("job_submitting", 2), S(10)));
        poll_after(&m.observe(streaming("job_running", 2), S(20)));
        assert!(matches!(
            ended(m.observe(streaming("job_running", 2), S(50))),
            Outcome::Running { .. }
        ));
    }

    #[test]
    fn max_restarts_counts_growth_during_the_wait_and_cancels_as_a_stall() {
        let mut m = machine(WaitConfig {
            max_restarts: Some(1),
            cancel_on: CancelOn {
                stall: true,
                ..CancelOn::default()
            },
            ..WaitConfig::default()
        });
        // Restarts from before the wait are not counted; one more is within the limit.
        poll_after(&m.observe(streaming("job_running", 5), S(0)));
        poll_after(&m.observe(streaming("job_running", 6), S(10)));
        assert_eq!(m.last().and_then(|s| s.restarted), Some(1));
        assert_eq!(
            m.observe(streaming("job_running", 7), S(20)),
            Decision::End {
                outcome: Outcome::Unsteady {
                    restarts: 2,
                    max_restarts: Some(1),
                    settle: None
                },
                cancel: true
            }
        );
    }

    proptest::proptest! {
        /// Whatever a job does (states, restarts, poll times): `--until running --settle W`
        /// ends RUNNING only when every answer from the first running one of an unbroken
        /// run up to the last was running, with no restart in between, over at least W.
        #[test]
        fn settle_passes_only_a_job_seen_running_without_a_break_for_the_window(
            steps in proptest::collection::vec((0usize..4, 0i64..2, 1u64..20), 1..40)
        ) {
            const STATES: [&str; 4] = ["job_running", "job_submitting", "job_savepointing", "job_idle"];
            let window = S(30);
            let mut m = until_running(Some(30));
            let (mut now, mut restarts) = (Duration::ZERO, 0);
            let mut seen = Vec::new();
            for (state, grow, gap) in steps {
                now += S(gap);
                restarts += grow;
                seen.push((now, STATES[state], restarts));
                match m.observe(streaming(STATES[state], restarts), now) {
                    Decision::Poll { .. } => continue,
                    Decision::End { outcome: Outcome::Running { settled }, .. } => {
                        proptest::prop_assert_eq!(settled, Some(window));
                        let running = |s: &str| s == "job_running" || s == "job_savepointing";
                        let start = seen.iter().rposition(|(_, s, _)| !running(s)).map_or(0, |i| i + 1);
                        let stretch = &seen[start..];
                        proptest::prop_assert!(!stretch.is_empty());
                        proptest::prop_assert!(now - stretch[0].0 >= window, "{seen:?}");
                        proptest::prop_assert!(stretch.iter().all(|(_, _, r)| *r == stretch[0].2), "{seen:?}");
                        break;
                    }
                    Decision::End { outcome, .. } => {
                        proptest::prop_assert!(matches!(outcome, Outcome::Unsteady { .. }), "{outcome:?}");
                        break;
                    }
                }
            }
        }
    }
}
