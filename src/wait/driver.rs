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
use crate::dli::fault::Fault;
use crate::dli::model::JobStatus;
use backon::{ConstantBuilder, Retryable};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// A cancel must fit in the 7.5 s a cancelled GitHub workflow leaves before it kills us.
pub const CANCEL_REQUEST_TIMEOUT: Duration = Duration::from_secs(3);
/// How long to poll for CANCELLED after a cancel was accepted (not after a signal).
pub const CANCEL_CONFIRM_WINDOW: Duration = Duration::from_secs(15);

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
                turn = self.api.turn(m.remaining(start.elapsed())) => turn,
                why = stopped(&mut stop) => { decision = m.stop(why); continue; }
            };
            // A request never runs past the deadline by more than a second.
            let request_timeout = self.api.request_timeout();
            let timeout = m.remaining(start.elapsed()).map_or(request_timeout, |r| {
                request_timeout.min(r.max(Duration::from_secs(1)))
            });
            let obs = match turn {
                Err(fault) => Observation::Fault(fault),
                Ok(()) => tokio::select! {
                    // Boxed: an idle wait should not carry a request's state (10,000 waits).
                    obs = Box::pin(self.poll(job_id, endpoint, timeout)) => obs,
                    why = stopped(&mut stop) => { decision = m.stop(why); continue; }
                },
            };
            let elapsed = start.elapsed();
            if let Observation::Snapshot(s) = &obs {
                self.events.snapshot(job_id, s, elapsed);
            }
            decision = m.observe(obs, elapsed);
            for note in m.take_notes() {
                self.events.note(job_id, &note, elapsed);
            }
        };

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
            // After a signal there is only time for the DELETE itself.
            let interrupted = matches!(report.outcome, Outcome::Interrupted(_));
            let c = Box::pin(self.cancel(job_id, !interrupted)).await;
            self.events.cancelled(job_id, &c);
            report.cancel = Some(c);
        }
        if matches!(report.outcome, Outcome::Failed | Outcome::Cancelled) {
            report.reason = Box::pin(self.reason(job_id, report.last.as_ref())).await;
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

    /// `/status` for a job that ended badly, retried briefly on transient faults.
    async fn reason(&self, job_id: &str, last: Option<&Snapshot>) -> Option<Reason> {
        // Polling /status already (after the fallback): its last answer is the reason.
        if let Some(s) = last.filter(|s| s.source == Source::Status) {
            return Some(Reason {
                message: s.message.clone(),
                detail: s.detail.clone().filter(|d| !d.trim().is_empty()),
            });
        }
        let fetched: Result<Snapshot, Fault> = (|| {
            self.api
                .poll(job_id, Endpoint::Status, CANCEL_REQUEST_TIMEOUT)
        })
        .retry(
            ConstantBuilder::default()
                .with_delay(Duration::from_millis(500))
                .with_max_times(2),
        )
        .when(Fault::is_transient)
        .await;
        let from_poll = last.map(|s| s.message.clone()).unwrap_or_default();
        match fetched {
            Ok(info) => {
                let message = if info.message.trim().is_empty() {
                    from_poll
                } else {
                    info.message
                };
                let detail = info.detail.filter(|d| !d.trim().is_empty());
                Some(Reason { message, detail })
            }
            Err(e) => {
                tracing::warn!(job_id, error = %e, "could not read the job's failure reason from /status");
                (!from_poll.trim().is_empty()).then_some(Reason {
                    message: from_poll,
                    detail: None,
                })
            }
        }
    }

    /// Send the cancel and, when there is time (`confirm`), poll until DLI says CANCELLED.
    /// Bounded throughout: after a signal only the DELETE is sent (≤ ~3.5 s).
    pub async fn cancel(&self, job_id: &str, confirm: bool) -> CancelReport {
        let sent = (|| self.api.cancel(job_id, CANCEL_REQUEST_TIMEOUT))
            .retry(
                ConstantBuilder::default()
                    .with_delay(Duration::from_millis(300))
                    .with_max_times(if confirm { 2 } else { 0 }),
            )
            .when(Fault::is_transient)
            .await;
        let mut report = match sent {
            Ok(message) => CancelReport {
                accepted: true,
                confirmed: false,
                message,
            },
            Err(f) => {
                return CancelReport {
                    accepted: false,
                    confirmed: false,
                    message: f.to_string(),
                };
            }
        };
        if !confirm {
            return report;
        }
        let until = Instant::now() + CANCEL_CONFIRM_WINDOW;
        while Instant::now() < until {
            if let Ok(info) = self
                .api
                .poll(job_id, Endpoint::Status, CANCEL_REQUEST_TIMEOUT)
                .await
                && info.status.is_terminal()
            {
                report.confirmed = info.status == JobStatus::Cancelled;
                if !report.confirmed {
                    report.message =
                        format!("the job ended {} before the cancel took", info.status);
                }
                return report;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        report
    }
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
