//! The async loop around the pure machines, one loop for every job of a process: sleeps,
//! takes turns under the rate limit, asks the API, feeds each machine, emits events, and on
//! the way out cancels (when asked) and fetches DLI's reason for a failure. Talks to DLI
//! only through [`JobApi`], so tests run it on tokio's paused clock.

use super::api::JobApi;
use super::events::Events;
use super::machine::{Decision, Endpoint, Machine, Observation, ResultsAsk, WaitConfig};
use super::outcome::{Outcome, Stop};
use super::policy::DelayPolicy;
use super::record::{CancelReport, JobReport, Reason, Results};
use super::snapshot::Snapshot;
use crate::dli::fault::{Check, Fault, FaultKind};
use crate::dli::model::PreviewResult;
use crate::dli::pacer::Lane;
use backon::{ConstantBuilder, Retryable};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// How long the ending may take past the deadline (`--timeout`), or past the moment the wait
/// ended early (a signal, a stall, `--fail-fast`): the cancel (its turns under the rate limit,
/// the DELETE and its retries), the polls that confirm it, and DLI's reason for a failure all
/// fit in it, whatever DLI does (slow, failing, 429, hung). Inside the 7.5 s a cancelled
/// GitHub workflow run leaves before it kills the step.
pub const CANCEL_GRACE: Duration = Duration::from_secs(5);
/// The least time left in the grace for which a cancel is still sent: below it there is no
/// time for an answer, and a request sent anyway would only say "no answer".
pub const CANCEL_MIN_TIME: Duration = Duration::from_millis(500);
/// The longest one request of the ending may take (and never past the grace).
pub const CANCEL_REQUEST_TIMEOUT: Duration = Duration::from_secs(3);
/// The pause before a DELETE is sent again after a transient fault without `Retry-After`;
/// doubled each time, up to [`CANCEL_RETRY_MAX`].
const CANCEL_RETRY_FIRST: Duration = Duration::from_millis(250);
const CANCEL_RETRY_MAX: Duration = Duration::from_secs(1);
/// How often a cancel is checked for CANCELLED.
const CONFIRM_EVERY: Duration = Duration::from_secs(1);
/// How long DLI's reason for a failure may take (less near the deadline: see [`CANCEL_GRACE`]).
const REASON_WITHIN: Duration = Duration::from_secs(10);

/// Everything the loop needs besides the jobs.
#[derive(Clone)]
pub struct Driver<A: JobApi> {
    pub api: A,
    pub events: Arc<dyn Events>,
}

/// One wait to run: the job, its knobs, its delay policy.
pub struct Wait {
    pub job_id: String,
    pub cfg: WaitConfig,
    pub policy: Box<dyn DelayPolicy>,
}

/// A job of [`Driver::wait_many`]: waiting (its machine, and where in the loop it is), in
/// its ending (a cancel, DLI's reason: a task of its own), or done.
enum Slot {
    Live(Box<Live>),
    Ending,
    Done(Box<JobReport>),
}

struct Live {
    id: String,
    m: Machine,
    start: Instant,
    deadline: Option<Instant>,
    /// What the next poll calls.
    endpoint: Endpoint,
    /// Counts each move through the loop: a timer, turn or answer meant for an earlier
    /// one is stale.
    step: u32,
    at: At,
}

/// Where a live job is in the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    /// Sleeping until its next poll is due.
    Sleeping,
    /// Due, in line for a turn under the rate limit.
    Queued,
    /// Its request is out.
    Asking,
}

/// What a timer is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Alarm {
    /// The next poll is due.
    Due,
    /// The job's deadline (one a job; it ends the wait if the job is in line then).
    Deadline,
}

type Timer = std::cmp::Reverse<(Instant, usize, u32, Alarm)>;

impl<A: JobApi> Driver<A> {
    /// Wait for every job of `waits` at once, each until its machine decides to end, until each has
    /// ended or a reason to stop arrives on `stop`. Each record goes to the events (and to
    /// `on_report`) as it is complete; returns them in the order of `waits`, or the error of
    /// a request or ending task that panicked.
    ///
    /// One loop holds every job: a waiting job is its machine and a timer, not a task of its
    /// own (10,000 waits in a few MiB). Jobs that are due stand in one line for turns under
    /// the rate limit, each with its deadline; requests and endings run as tasks.
    pub async fn wait_many(
        &self,
        waits: Vec<Wait>,
        mut stop: watch::Receiver<Option<Stop>>,
        mut on_report: impl FnMut(&JobReport),
    ) -> Result<Vec<JobReport>, tokio::task::JoinError> {
        let signals = stop.clone();
        let mut fleet = Fleet {
            driver: self,
            slots: Vec::with_capacity(waits.len()),
            timers: std::collections::BinaryHeap::new(),
            line: std::collections::VecDeque::new(),
            asking: tokio::task::JoinSet::new(),
            endings: tokio::task::JoinSet::new(),
            stopped: *stop.borrow_and_update(),
            left: waits.len(),
            signals,
            refused: false,
            heard: false,
        };
        for (i, w) in waits.into_iter().enumerate() {
            let start = Instant::now();
            let deadline = w.cfg.timeout.and_then(|t| start.checked_add(t));
            let mut m = Machine::new(w.cfg, w.policy);
            self.events.started(&w.job_id);
            let first = m.start();
            if let Some(d) = deadline {
                fleet
                    .timers
                    .push(std::cmp::Reverse((d, i, 0, Alarm::Deadline)));
            }
            fleet.slots.push(Slot::Live(Box::new(Live {
                id: w.job_id,
                m,
                start,
                deadline,
                endpoint: Endpoint::Primary,
                step: 0,
                at: At::Sleeping,
            })));
            fleet.decide(i, first, &mut on_report);
        }
        // The turn the head of the line is waiting for: whose, at which step.
        let mut turn: Option<(usize, u32, Turn<'_>)> = None;
        let sleep = tokio::time::sleep(Duration::ZERO);
        tokio::pin!(sleep);
        while fleet.left > 0 {
            // A poll timer and a deadline a job at most, however long the wait.
            debug_assert!(fleet.timers.len() <= 2 * fleet.slots.len());
            if turn.is_none() {
                turn = fleet.next_in_line();
            }
            let next = fleet
                .timers
                .peek()
                .map_or_else(|| later(Duration::from_secs(86_400)), |t| t.0.0);
            sleep.as_mut().reset(next);
            tokio::select! {
                why = stopped(&mut stop), if fleet.stopped.is_none() => {
                    turn = None;
                    fleet.stop(why, &mut on_report);
                }
                () = &mut sleep => fleet.ring(&mut turn, &mut on_report),
                got = wait_turn(&mut turn), if turn.is_some() => {
                    if let Some((i, step, _)) = turn.take() {
                        fleet.turn_came(i, step, got, &mut on_report);
                    }
                }
                Some(answer) = fleet.asking.join_next(), if !fleet.asking.is_empty() => {
                    match answer {
                        Ok((i, step, obs)) => fleet.answered(i, step, obs, &mut on_report),
                        Err(e) if e.is_panic() => return Err(e),
                        // Stopped: the stop already ended the wait.
                        Err(_) => {}
                    }
                }
                Some(ended) = fleet.endings.join_next(), if !fleet.endings.is_empty() => {
                    match ended {
                        Ok((i, report)) => fleet.complete(i, report, &mut on_report),
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        Ok(fleet
            .slots
            .into_iter()
            .filter_map(|s| match s {
                Slot::Done(r) => Some(*r),
                _ => None,
            })
            .collect())
    }

    /// The ending of a wait: the cancel (when asked); for a job that ended (FINISHED, FAILED,
    /// CANCELLED) one read of DLI's reason and figures (a SQL job's `/status`), and for a
    /// FINISHED query whose result is asked for (`results`), its preview and the check. All
    /// within the grace; `report` as the loop left it. A signal (on `stop`) cuts the reads
    /// short: the last poll's message stands, and the run ends as the signal says.
    async fn ending(
        &self,
        mut report: JobReport,
        cancel: bool,
        results: ResultsAsk,
        (start, deadline): (Instant, Option<Instant>),
        mut stop: watch::Receiver<Option<Stop>>,
    ) -> JobReport {
        let job_id = report.job_id.clone();
        // All that follows ends within the grace: past the deadline, or past this moment if
        // the wait ended before it.
        let ended = Instant::now();
        let by = deadline.map_or(ended, |d| d.min(ended)) + CANCEL_GRACE;
        if cancel {
            // After a signal only the DELETE is sent (with its retries): the runner is about
            // to kill us, and the other jobs' cancels need the rate limit's slots.
            let interrupted = matches!(report.outcome, Outcome::Interrupted(_));
            let c = Box::pin(self.cancel(&job_id, !interrupted, by)).await;
            self.events.cancelled(&job_id, &c);
            report.cancel = Some(c);
        }
        if matches!(
            report.outcome,
            Outcome::Finished | Outcome::Failed | Outcome::Cancelled
        ) {
            // Its own bound, but never past the deadline's grace.
            let reads_by = Instant::now() + REASON_WITHIN;
            let reads_by = deadline.map_or(reads_by, |d| reads_by.min(d + CANCEL_GRACE));
            // What stands if the reads do not come to an end (they overwrite it).
            report.figures = Some(Err("no answer in time".into()));
            let reads = tokio::time::timeout_at(
                reads_by,
                Box::pin(self.ended_reads(&mut report, results, reads_by)),
            );
            tokio::select! {
                done = reads => if done.is_err() {
                    tracing::debug!(job_id, "the ending's reads did not answer in time");
                    // An undecided check is never a pass (the check sets the outcome last).
                    if results.check && report.outcome == Outcome::Finished {
                        report.outcome = Outcome::Misconfigured(Box::new(Fault::config(
                            FaultKind::Rejected,
                            "the check could not be made: DLI's figures and result did not answer in time",
                        )));
                    }
                },
                sig = signalled(&mut stop) => {
                    tracing::debug!(job_id, signal = sig.name(), "signal: not waiting for the job's reason and figures");
                    report.figures = Some(Err(format!("not waited for after {}", sig.name())));
                }
            }
            let failed = matches!(report.outcome, Outcome::Failed | Outcome::Cancelled);
            if failed && report.reason.is_none() {
                report.reason = reason_from_poll(report.last.as_ref());
            }
        }
        report.elapsed = start.elapsed();
        report
    }

    /// The reads of an ended job, into `report`: its reason (FAILED, CANCELLED) and figures
    /// from one read, then for a FINISHED query asked for, its result and the check.
    async fn ended_reads(&self, report: &mut JobReport, results: ResultsAsk, by: Instant) {
        let job_id = report.job_id.clone();
        let last = report.last.clone();
        // A result asked for keeps half the budget: a late `/status` leaves the preview time.
        let figures_by = if report.outcome == Outcome::Finished && (results.show || results.check) {
            let now = Instant::now();
            now + by.saturating_duration_since(now) / 2
        } else {
            by
        };
        let read = self.ended_read(&job_id, last.as_ref(), figures_by).await;
        let failed = matches!(report.outcome, Outcome::Failed | Outcome::Cancelled);
        match read {
            Ok(info) => {
                if failed {
                    let message = if info.message.trim().is_empty() {
                        last.as_ref().map(|s| s.message.clone()).unwrap_or_default()
                    } else {
                        info.message.clone()
                    };
                    let detail = info.detail.clone().filter(|d| !d.trim().is_empty());
                    report.reason = Some(Reason { message, detail });
                }
                report.figures = info.figures.map(|f| Ok(*f));
            }
            Err(e) => {
                tracing::warn!(job_id, error = %e, "could not read the job's reason and figures from DLI");
                report.figures = Some(Err(e.to_string()));
            }
        }
        if report.outcome == Outcome::Finished && (results.show || results.check) {
            self.result(report, results, by).await;
        }
    }

    /// A FINISHED query's result, as asked: its preview (unless nothing needs it), then the
    /// check (`results.check`): rows end the wait as a failed check; a check that cannot be
    /// made (the `default` queue, nothing readable) as misconfigured.
    async fn result(&self, report: &mut JobReport, results: ResultsAsk, by: Instant) {
        let figures = report.figures().cloned();
        let counted = figures.as_ref().and_then(|f| f.result_rows);
        let on_default = figures.as_ref().is_some_and(|f| f.on_default_queue());
        if on_default {
            report.results = Some(Results::DefaultQueue);
        } else if results.show || counted != Some(0) {
            let job_id = report.job_id.clone();
            let read: Result<Option<PreviewResult>, Fault> = (|| self.preview_read(&job_id, by))
                .retry(
                    ConstantBuilder::default()
                        .with_delay(Duration::from_millis(500))
                        .with_max_times(2),
                )
                .when(|f| f.is_transient() && Instant::now() < by)
                .await;
            report.results = match read {
                Ok(Some(p)) if p.schema.is_empty() && p.rows.is_empty() => Some(Results::NoResult),
                Ok(Some(mut p)) => {
                    // Unshown (no `--results`), only the rows the outputs show are kept.
                    if !results.show && p.rows.len() > crate::wait::record::ROWS_KEPT_UNSHOWN {
                        p.left_out.rows += p.rows.len() - crate::wait::record::ROWS_KEPT_UNSHOWN;
                        p.rows.truncate(crate::wait::record::ROWS_KEPT_UNSHOWN);
                    }
                    Some(Results::Rows(p))
                }
                Ok(None) => None,
                Err(f) if f.message.to_ascii_lowercase().contains("default queue") => {
                    Some(Results::DefaultQueue)
                }
                Err(f) => Some(Results::Unreadable(f.to_string())),
            };
        }
        if !results.check {
            return;
        }
        let unchecked = |why: String, check: Option<Check>| {
            let f = Fault::config(FaultKind::Rejected, why);
            Outcome::Misconfigured(Box::new(match check {
                Some(c) => f.checking(c),
                None => f,
            }))
        };
        // DLI's `result_count` is the rows an INSERT wrote, too: a check is a query.
        let not_a_query = figures
            .as_ref()
            .and_then(|f| f.job_type.clone())
            .filter(|t| !t.eq_ignore_ascii_case("QUERY"));
        report.outcome = match (report.rows_counted(), &report.results) {
            _ if on_default => unchecked("the check cannot be made".into(), Some(Check::OwnQueue)),
            _ if let Some(t) = not_a_query => unchecked(
                format!(
                    "the check needs a query that returns the offending rows (a SELECT); DLI ran this job as {t}"
                ),
                None,
            ),
            (Some(0), _) => Outcome::Finished,
            (Some(rows), _) => Outcome::CheckFailed { rows },
            (None, Some(Results::DefaultQueue)) => unchecked(
                "the check cannot be made: DLI refused the job's results".into(),
                Some(Check::OwnQueue),
            ),
            (None, Some(Results::Unreadable(e))) => unchecked(
                format!("the check cannot be made: the job's result could not be read ({e})"),
                None,
            ),
            (None, _) => unchecked(
                "the check cannot be made: DLI told no row count for the job".into(),
                None,
            ),
        };
    }

    /// One preview read, a turn under the rate limit first, within what is left until `by`.
    async fn preview_read(
        &self,
        job_id: &str,
        by: Instant,
    ) -> Result<Option<PreviewResult>, Fault> {
        let left = by.saturating_duration_since(Instant::now());
        self.api.turn(Lane::Normal, Some(left)).await?;
        let timeout = self
            .api
            .request_timeout()
            .min(by.saturating_duration_since(Instant::now()));
        tokio::time::timeout(timeout, self.api.preview(job_id, timeout))
            .await
            .unwrap_or_else(|_| Err(no_answer(timeout)))
    }

    /// The kind's ending read ([`JobApi::reason`]: a SQL job's `/status`, which carries its
    /// reason and figures), retried briefly on transient faults, by `by`; the last poll when
    /// it was that read already (a SQL job's `/status`, after the fallback).
    async fn ended_read(
        &self,
        job_id: &str,
        last: Option<&Snapshot>,
        by: Instant,
    ) -> Result<Snapshot, Fault> {
        if let Some(s) = last.filter(|s| s.carries_reason()) {
            return Ok(s.clone());
        }
        (|| self.ending_poll(job_id, by))
            .retry(
                ConstantBuilder::default()
                    .with_delay(Duration::from_millis(500))
                    .with_max_times(2),
            )
            .when(|f| f.is_transient() && Instant::now() < by)
            .await
    }

    /// One reason read ([`JobApi::reason`]) after the wait: a turn under the rate limit, the request, both
    /// within what is left until `by`.
    async fn ending_poll(&self, job_id: &str, by: Instant) -> Result<Snapshot, Fault> {
        let left = by.saturating_duration_since(Instant::now());
        self.api.turn(Lane::Normal, Some(left)).await?;
        let timeout = CANCEL_REQUEST_TIMEOUT.min(by.saturating_duration_since(Instant::now()));
        tokio::time::timeout(timeout, self.api.reason(job_id, timeout))
            .await
            .unwrap_or_else(|_| Err(no_answer(timeout)))
    }

    /// Send the cancel, and when asked (`confirm`) poll until DLI says CANCELLED; all by `by`
    /// (see [`CANCEL_GRACE`]). The DELETE waits for its turn in the urgent lane of the rate
    /// limit (ahead of polls) and is sent again after a transient fault (a 429 after its
    /// `Retry-After`) while the grace lasts.
    pub async fn cancel(&self, job_id: &str, confirm: bool, by: Instant) -> CancelReport {
        let mut pause = CANCEL_RETRY_FIRST;
        let mut tries = 0u32;
        let mut last: Option<Fault> = None;
        let sent = loop {
            let left = by.saturating_duration_since(Instant::now());
            if self.api.turn(Lane::Urgent, Some(left)).await.is_err() {
                break Err(gave_up(
                    last.as_ref(),
                    tries,
                    "no turn under the request rate limit",
                ));
            }
            let timeout = CANCEL_REQUEST_TIMEOUT.min(by.saturating_duration_since(Instant::now()));
            // A turn that came as the grace ran out leaves no time for an answer: not sent.
            if timeout < CANCEL_MIN_TIME {
                break Err(gave_up(last.as_ref(), tries, "no time left to send it"));
            }
            tries += 1;
            let answer = tokio::time::timeout(timeout, self.api.cancel(job_id, timeout))
                .await
                .unwrap_or_else(|_| Err(no_answer(timeout)));
            let fault = match answer {
                Ok(message) => break Ok(message),
                Err(f) if f.is_transient() => f,
                Err(f) => break Err(f.to_string()),
            };
            let wait = fault.retry_after.unwrap_or(pause);
            pause = (pause * 2).min(CANCEL_RETRY_MAX);
            if Instant::now() + wait >= by {
                break Err(gave_up(Some(&fault), tries, "no time to send it again"));
            }
            tracing::debug!(job_id, error = %fault, ?wait, "cancel not taken; sending it again");
            last = Some(fault);
            tokio::time::sleep(wait).await;
        };
        let mut report = match sent {
            Ok(message) => CancelReport {
                accepted: true,
                confirmed: false,
                message,
            },
            Err(message) => {
                return CancelReport {
                    accepted: false,
                    confirmed: false,
                    message,
                };
            }
        };
        if !confirm {
            return report;
        }
        while Instant::now() < by {
            if let Ok(info) = self.ending_poll(job_id, by).await
                && info.status.is_terminal()
            {
                report.confirmed = info.status.confirms_cancel();
                if !report.confirmed {
                    report.message =
                        format!("the job ended {} before the cancel took", info.status);
                }
                return report;
            }
            let next = Instant::now() + CONFIRM_EVERY;
            if next >= by {
                break;
            }
            tokio::time::sleep_until(next).await;
        }
        report
    }
}

/// Why a cancel was given up: the last fault (after how many tries) and why no more.
fn gave_up(last: Option<&Fault>, tries: u32, why: &str) -> String {
    let grace = CANCEL_GRACE.as_secs();
    match last {
        None => format!("not sent: {why} within the {grace}s cancel grace"),
        Some(f) => format!(
            "{f} (sent {tries} {}; {why} within the {grace}s cancel grace)",
            if tries == 1 { "time" } else { "times" }
        ),
    }
}

/// The reason as the last poll told it, when `/status` could not be read.
fn reason_from_poll(last: Option<&Snapshot>) -> Option<Reason> {
    let message = last.map(|s| s.message.clone()).unwrap_or_default();
    (!message.trim().is_empty()).then_some(Reason {
        message,
        detail: None,
    })
}

/// A request of the ending that did not answer in time.
fn no_answer(timeout: Duration) -> Fault {
    Fault::transport(
        FaultKind::Timeout,
        format!("no answer within {}", crate::dli::human::duration(timeout)),
    )
}

/// Resolves when a reason to stop is (or already was) recorded on `stop`.
async fn stopped(stop: &mut watch::Receiver<Option<Stop>>) -> Stop {
    loop {
        if let Some(why) = *stop.borrow_and_update() {
            return why;
        }
        if stop.changed().await.is_err() {
            // The sender is gone: no signal will ever come.
            std::future::pending::<()>().await;
        }
    }
}

/// Resolves when a signal is (or already was) recorded on `stop`; a `--fail-fast` stop is
/// not one (the ending of the job that failed first keeps its reason).
async fn signalled(stop: &mut watch::Receiver<Option<Stop>>) -> super::outcome::Signal {
    loop {
        if let Some(Stop::Signal(sig)) = *stop.borrow_and_update() {
            return sig;
        }
        if stop.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// `after` from now, or as far as the clock goes (a `Retry-After` of years).
fn later(after: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(after)
        .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365 * 30))
}

/// A turn under the rate limit that a job is waiting for.
type Turn<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), Fault>> + Send + 'a>>;

/// The turn being waited for (never called without one: the branch is off then).
async fn wait_turn(turn: &mut Option<(usize, u32, Turn<'_>)>) -> Result<(), Fault> {
    match turn {
        Some((_, _, t)) => t.as_mut().await,
        None => std::future::pending().await,
    }
}

/// The jobs of one [`Driver::wait_many`], and the loop's bookkeeping.
struct Fleet<'d, A: JobApi> {
    driver: &'d Driver<A>,
    slots: Vec<Slot>,
    timers: std::collections::BinaryHeap<Timer>,
    /// The jobs due, in line for a turn: which, at which step.
    line: std::collections::VecDeque<(usize, u32)>,
    asking: tokio::task::JoinSet<(usize, u32, Observation)>,
    endings: tokio::task::JoinSet<(usize, JobReport)>,
    /// The reason to stop, once one came.
    stopped: Option<Stop>,
    /// Jobs without their record yet.
    left: usize,
    /// The stop channel, for the endings: a signal cuts their reason fetch short.
    signals: watch::Receiver<Option<Stop>>,
    /// The credentials were refused for good: every wait was ended with that.
    refused: bool,
    /// The service has answered (any HTTP answer, for any job) in this loop.
    heard: bool,
}

impl<'d, A: JobApi> Fleet<'d, A> {
    fn live(&mut self, i: usize, step: u32, at: At) -> Option<&mut Live> {
        match self.slots.get_mut(i) {
            Some(Slot::Live(j)) if j.step == step && j.at == at => Some(j),
            _ => None,
        }
    }

    /// Carry out the machine's decision for job `i`.
    fn decide(&mut self, i: usize, decision: Decision, on_report: &mut impl FnMut(&JobReport)) {
        let stopped = self.stopped;
        let Some(Slot::Live(j)) = self.slots.get_mut(i) else {
            return;
        };
        let (outcome, cancel) = match decision {
            Decision::Poll { after, endpoint } => match stopped {
                Some(why) => match j.m.stop(why) {
                    Decision::End { outcome, cancel } => (outcome, cancel),
                    Decision::Poll { .. } => return,
                },
                None => {
                    j.endpoint = endpoint;
                    j.step += 1;
                    j.at = At::Sleeping;
                    self.timers
                        .push(std::cmp::Reverse((later(after), i, j.step, Alarm::Due)));
                    return;
                }
            },
            Decision::End { outcome, cancel } => (outcome, cancel),
        };
        // A 401 that lasted (fixed credentials, or fresh keys refused too) is about the
        // credentials every job shares: every wait ends with it now (exit 5 at once).
        let refused = match &outcome {
            Outcome::Refused(f) if f.kind == FaultKind::Unauthorized && !self.refused => {
                Some(f.clone())
            }
            _ => None,
        };
        let needs_ending = cancel
            || matches!(
                outcome,
                Outcome::Finished | Outcome::Failed | Outcome::Cancelled
            );
        let results = j.m.results();
        let report = JobReport {
            job_id: j.id.clone(),
            outcome,
            elapsed: j.start.elapsed(),
            polls: j.m.polls(),
            lookup_calls: j.m.lookup_calls(),
            retries: j.m.retries(),
            last: j.m.last().cloned(),
            last_fault: j.m.last_fault().cloned(),
            reason: None,
            cancel: None,
            fell_back: j.m.endpoint() == Endpoint::Fallback,
            short_lived_credentials: self.driver.api.short_lived_credentials(),
            figures: None,
            results: None,
        };
        if needs_ending {
            let (start, deadline) = (j.start, j.deadline);
            self.slots[i] = Slot::Ending;
            let driver = self.driver.clone();
            let stop = self.signals.clone();
            self.endings.spawn(async move {
                (
                    i,
                    driver
                        .ending(report, cancel, results, (start, deadline), stop)
                        .await,
                )
            });
        } else {
            self.complete(i, report, on_report);
        }
        if let Some(f) = refused {
            self.refuse_all(&f, on_report);
        }
    }

    /// The credentials were refused for good (`fault`, a 401): every wait still going ends
    /// with that refusal now, without another request (answers still out are dropped).
    fn refuse_all(&mut self, fault: &Fault, on_report: &mut impl FnMut(&JobReport)) {
        self.refused = true;
        for i in 0..self.slots.len() {
            if let Some(Slot::Live(j)) = self.slots.get_mut(i) {
                j.step += 1;
                let end = Decision::End {
                    outcome: Outcome::Refused(fault.clone()),
                    cancel: false,
                };
                self.decide(i, end, on_report);
            }
        }
    }

    /// Job `i`'s record is complete.
    fn complete(&mut self, i: usize, report: JobReport, on_report: &mut impl FnMut(&JobReport)) {
        self.driver.events.finished(&report);
        on_report(&report);
        if let Some(slot) = self.slots.get_mut(i) {
            *slot = Slot::Done(Box::new(report));
            self.left -= 1;
        }
    }

    /// The timers that are due: polls join the line (the first in line asks for its turn);
    /// a deadline that comes, or has come, while in line behind others ends the wait. The
    /// one whose turn is being asked for is left to that: at its deadline it still polls if a
    /// turn is free then, as a wait alone would. Each job has one deadline timer, set when
    /// its wait starts: the heap holds at most two timers a job, however long the wait.
    fn ring(
        &mut self,
        turn: &mut Option<(usize, u32, Turn<'d>)>,
        on_report: &mut impl FnMut(&JobReport),
    ) {
        let now = Instant::now();
        let mut deadlines = Vec::new();
        while let Some(std::cmp::Reverse((at, i, step, alarm))) = self.timers.peek().copied() {
            if at > now {
                break;
            }
            self.timers.pop();
            if alarm == Alarm::Deadline {
                deadlines.push(i);
                continue;
            }
            let Some(j) = self.live(i, step, At::Sleeping) else {
                continue;
            };
            j.step += 1;
            j.at = At::Queued;
            let (step, due) = (j.step, j.deadline.is_some_and(|d| d <= now));
            if due {
                deadlines.push(i);
            }
            self.line.push_back((i, step));
        }
        if turn.is_none() {
            *turn = self.next_in_line();
        }
        for i in deadlines {
            let Some(Slot::Live(j)) = self.slots.get_mut(i) else {
                continue;
            };
            let asking_turn = turn
                .as_ref()
                .is_some_and(|(t, s, _)| (*t, *s) == (i, j.step));
            if j.at != At::Queued || asking_turn {
                continue;
            }
            if let Some(end) = j.m.out_of_time(j.start.elapsed()) {
                self.decide(i, end, on_report);
            }
        }
    }

    /// The next job in line that still waits, with its turn asked for.
    fn next_in_line(&mut self) -> Option<(usize, u32, Turn<'d>)> {
        let api = &self.driver.api;
        while let Some((i, step)) = self.line.pop_front() {
            if let Some(Slot::Live(j)) = self.slots.get(i)
                && j.step == step
                && j.at == At::Queued
            {
                let within = j.m.remaining(j.start.elapsed());
                return Some((i, step, Box::pin(api.turn(Lane::Normal, within))));
            }
        }
        None
    }

    /// Job `i`'s turn came (or its deadline did first): send its request.
    fn turn_came(
        &mut self,
        i: usize,
        step: u32,
        got: Result<(), Fault>,
        on_report: &mut impl FnMut(&JobReport),
    ) {
        let api = self.driver.api.clone();
        let heard = self.heard;
        let Some(j) = self.live(i, step, At::Queued) else {
            return;
        };
        let elapsed = j.start.elapsed();
        if let Err(fault) = got {
            if heard {
                j.m.service_answered();
            }
            let decision = match j.m.out_of_time(elapsed) {
                Some(end) => end,
                None => j.m.observe(Observation::Fault(fault), elapsed),
            };
            return self.decide(i, decision, on_report);
        }
        // A request never runs past the deadline by more than a second.
        let request_timeout = api.request_timeout();
        let timeout = j.m.remaining(elapsed).map_or(request_timeout, |r| {
            request_timeout.min(r.max(Duration::from_secs(1)))
        });
        j.step += 1;
        j.at = At::Asking;
        let (id, endpoint, step) = (j.id.clone(), j.endpoint, j.step);
        self.asking.spawn(async move {
            let obs = match api.poll(&id, endpoint, timeout).await {
                Ok(s) => Observation::Snapshot(s),
                Err(f) => Observation::Fault(f),
            };
            (i, step, obs)
        });
    }

    /// Job `i`'s request came back: the machine decides.
    fn answered(
        &mut self,
        i: usize,
        step: u32,
        obs: Observation,
        on_report: &mut impl FnMut(&JobReport),
    ) {
        let events = Arc::clone(&self.driver.events);
        if self.live(i, step, At::Asking).is_none() {
            return;
        }
        // Any answer of the service, to any job, says it is reachable: for every job.
        self.heard |= match &obs {
            Observation::Snapshot(_) => true,
            Observation::Fault(f) => f.http_status.is_some(),
        };
        let heard = self.heard;
        let Some(j) = self.live(i, step, At::Asking) else {
            return;
        };
        if heard {
            j.m.service_answered();
        }
        let elapsed = j.start.elapsed();
        let answered = matches!(obs, Observation::Snapshot(_));
        let decision = j.m.observe(obs, elapsed);
        // As the machine kept it (with what it adds, such as the time queued).
        if answered && let Some(s) = j.m.last() {
            events.snapshot(&j.id, s, elapsed);
        }
        for note in j.m.take_notes() {
            events.note(&j.id, &note, elapsed);
        }
        self.decide(i, decision, on_report);
    }

    /// A reason to stop came: every wait still going ends now (requests out are dropped).
    fn stop(&mut self, why: Stop, on_report: &mut impl FnMut(&JobReport)) {
        self.stopped = Some(why);
        self.asking.abort_all();
        self.line.clear();
        for i in 0..self.slots.len() {
            if let Some(Slot::Live(j)) = self.slots.get_mut(i) {
                j.step += 1;
                let end = j.m.stop(why);
                self.decide(i, end, on_report);
            }
        }
    }
}
