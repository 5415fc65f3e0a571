//! The async loop around the pure machine: sleeps, asks the API, feeds the machine, emits
//! events, and on the way out cancels (when asked) and fetches DLI's reason for a failure.
//! Talks to DLI only through [`JobApi`], so tests run it on tokio's paused clock.

use super::api::JobApi;
use super::events::Events;
use super::machine::{Decision, Endpoint, Machine, Observation, WaitConfig};
use super::outcome::{Outcome, Stop};
use super::policy::DelayPolicy;
use super::record::{CancelReport, JobReport, Reason};
use super::snapshot::{Snapshot, Source};
use crate::dli::fault::{Fault, FaultKind};
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
/// The longest one request of the ending may take (and never past the grace).
/// The least time left in the grace for which a cancel is still sent: below it there is no
/// time for an answer, and a request sent anyway would only say "no answer".
pub const CANCEL_MIN_TIME: Duration = Duration::from_millis(500);
pub const CANCEL_REQUEST_TIMEOUT: Duration = Duration::from_secs(3);
/// The pause before a DELETE is sent again after a transient fault without `Retry-After`;
/// doubled each time, up to [`CANCEL_RETRY_MAX`].
const CANCEL_RETRY_FIRST: Duration = Duration::from_millis(250);
const CANCEL_RETRY_MAX: Duration = Duration::from_secs(1);
/// How often a cancel is checked for CANCELLED.
const CONFIRM_EVERY: Duration = Duration::from_secs(1);
/// How long DLI's reason for a failure may take (less near the deadline: see [`CANCEL_GRACE`]).
const REASON_WITHIN: Duration = Duration::from_secs(10);

/// Everything the loop needs besides the job id.
#[derive(Clone)]
pub struct Driver<A: JobApi> {
    pub api: A,
    pub events: Arc<dyn Events>,
}

impl<A: JobApi> Driver<A> {
    /// Wait for `job_id` until the machine decides to end, or a signal arrives on `stop`.
    pub async fn wait(
        &self,
        job_id: &str,
        cfg: WaitConfig,
        policy: Box<dyn DelayPolicy>,
        mut stop: watch::Receiver<Option<Stop>>,
    ) -> JobReport {
        let start = Instant::now();
        let deadline = cfg.timeout.map(|t| start + t);
        let mut m = Machine::new(cfg, policy);
        self.events.started(job_id);
        let mut decision = m.start();
        let (outcome, cancel) = loop {
            let (after, endpoint) = match decision {
                Decision::Poll { after, endpoint } => (after, endpoint),
                Decision::End { outcome, cancel } => break (outcome, cancel),
            };
            if let Some(why) = *stop.borrow() {
                decision = m.stop(why);
                continue;
            }
            tokio::select! {
                () = tokio::time::sleep(after) => {}
                why = stopped(&mut stop) => { decision = m.stop(why); continue; }
            }
            // Wait for a turn under the shared rate limit, but never past the deadline.
            let turn = tokio::select! {
                turn = self.api.turn(Lane::Normal, m.remaining(start.elapsed())) => turn,
                why = stopped(&mut stop) => { decision = m.stop(why); continue; }
            };
            // A request never runs past the deadline by more than a second.
            let request_timeout = self.api.request_timeout();
            let timeout = m.remaining(start.elapsed()).map_or(request_timeout, |r| {
                request_timeout.min(r.max(Duration::from_secs(1)))
            });
            let obs = match turn {
                Err(fault) => match m.out_of_time(start.elapsed()) {
                    Some(end) => {
                        decision = end;
                        continue;
                    }
                    None => Observation::Fault(fault),
                },
                Ok(()) => tokio::select! {
                    // Boxed: an idle wait should not carry a request's state (10,000 waits).
                    obs = Box::pin(self.poll(job_id, endpoint, timeout)) => obs,
                    why = stopped(&mut stop) => { decision = m.stop(why); continue; }
                },
            };
            let elapsed = start.elapsed();
            let answered = matches!(obs, Observation::Snapshot(_));
            decision = m.observe(obs, elapsed);
            // As the machine kept it (with what it adds, such as the time queued).
            if answered && let Some(s) = m.last() {
                self.events.snapshot(job_id, s, elapsed);
            }
            for note in m.take_notes() {
                self.events.note(job_id, &note, elapsed);
            }
        };

        // All that follows ends within the grace: past the deadline, or past this moment if
        // the wait ended before it.
        let ended = Instant::now();
        let by = deadline.map_or(ended, |d| d.min(ended)) + CANCEL_GRACE;
        let short_lived = self.api.short_lived_credentials();
        let mut report = JobReport {
            job_id: job_id.to_string(),
            outcome,
            elapsed: start.elapsed(),
            polls: m.polls(),
            retries: m.retries(),
            last: m.last().cloned(),
            last_fault: m.last_fault().cloned(),
            reason: None,
            cancel: None,
            fell_back: m.endpoint() == Endpoint::Status,
            short_lived_credentials: short_lived,
        };
        if cancel {
            // After a signal only the DELETE is sent (with its retries): the runner is about
            // to kill us, and the other jobs' cancels need the rate limit's slots.
            let interrupted = matches!(report.outcome, Outcome::Interrupted(_));
            let c = Box::pin(self.cancel(job_id, !interrupted, by)).await;
            self.events.cancelled(job_id, &c);
            report.cancel = Some(c);
        }
        if matches!(report.outcome, Outcome::Failed | Outcome::Cancelled) {
            // Its own bound, but never past the deadline's grace.
            let reason_by = Instant::now() + REASON_WITHIN;
            let reason_by = deadline.map_or(reason_by, |d| reason_by.min(d + CANCEL_GRACE));
            let last = report.last.as_ref();
            report.reason =
                tokio::time::timeout_at(reason_by, Box::pin(self.reason(job_id, last, reason_by)))
                    .await
                    .unwrap_or_else(|_| reason_from_poll(last));
        }
        report.elapsed = start.elapsed();
        report
    }

    async fn poll(&self, job_id: &str, endpoint: Endpoint, timeout: Duration) -> Observation {
        match self.api.poll(job_id, endpoint, timeout).await {
            Ok(s) => Observation::Snapshot(s),
            Err(f) => Observation::Fault(f),
        }
    }

    /// `/status` for a job that ended badly, retried briefly on transient faults, by `by`.
    async fn reason(&self, job_id: &str, last: Option<&Snapshot>, by: Instant) -> Option<Reason> {
        // Polling /status already (after the fallback): its last answer is the reason.
        if let Some(s) = last.filter(|s| s.source == Source::Status) {
            return Some(Reason {
                message: s.message.clone(),
                detail: s.detail.clone().filter(|d| !d.trim().is_empty()),
            });
        }
        let fetched: Result<Snapshot, Fault> = (|| self.ending_poll(job_id, by))
            .retry(
                ConstantBuilder::default()
                    .with_delay(Duration::from_millis(500))
                    .with_max_times(2),
            )
            .when(|f| f.is_transient() && Instant::now() < by)
            .await;
        match fetched {
            Ok(info) => {
                let message = if info.message.trim().is_empty() {
                    last.map(|s| s.message.clone()).unwrap_or_default()
                } else {
                    info.message
                };
                let detail = info.detail.filter(|d| !d.trim().is_empty());
                Some(Reason { message, detail })
            }
            Err(e) => {
                tracing::warn!(job_id, error = %e, "could not read the job's failure reason from /status");
                reason_from_poll(last)
            }
        }
    }

    /// One `/status` poll after the wait: a turn under the rate limit, the request, both
    /// within what is left until `by`.
    async fn ending_poll(&self, job_id: &str, by: Instant) -> Result<Snapshot, Fault> {
        let left = by.saturating_duration_since(Instant::now());
        self.api.turn(Lane::Normal, Some(left)).await?;
        let timeout = CANCEL_REQUEST_TIMEOUT.min(by.saturating_duration_since(Instant::now()));
        tokio::time::timeout(timeout, self.api.poll(job_id, Endpoint::Status, timeout))
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
        format!("no answer within {}", humantime::format_duration(timeout)),
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
