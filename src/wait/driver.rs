//! The async loop around the pure machine: sleeps, calls the client, feeds the machine, tells
//! the reporter, and on the way out cancels (when asked) and fetches DLI's reason for a failure.

use super::machine::{Decision, Endpoint, Machine, Observation, WaitConfig};
use super::outcome::{Outcome, Stop};
use super::policy::DelayPolicy;
use super::snapshot::{Snapshot, Source};
use crate::dli::client::DliClient;
use crate::dli::fault::Fault;
use crate::dli::model::{JobStatus, JobStatusInfo};
use crate::report::Reporter;
use backon::{ConstantBuilder, Retryable};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// A cancel must fit in the 7.5 s a cancelled GitHub workflow leaves before it kills us.
pub const CANCEL_REQUEST_TIMEOUT: Duration = Duration::from_secs(3);
/// How long to poll for CANCELLED after a cancel was accepted (not after a signal).
pub const CANCEL_CONFIRM_WINDOW: Duration = Duration::from_secs(15);

/// DLI's own words on why a job failed or was cancelled (`/status`'s `message`, `detail`).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Reason {
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// What became of a cancel request.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
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
    pub retries: u32,
    pub last: Option<Snapshot>,
    pub last_fault: Option<Fault>,
    pub reason: Option<Reason>,
    pub cancel: Option<CancelReport>,
    /// `/progress` never worked and `/status` was polled instead.
    pub fell_back: bool,
    /// The credentials were short-lived (token or temporary keys).
    pub short_lived_credentials: bool,
}

impl JobReport {
    /// A job DLI ran to completion while answering its submit (a DDL): FINISHED, unpolled.
    pub fn ended_at_submit(job_id: String) -> Self {
        JobReport {
            job_id,
            outcome: Outcome::Finished,
            elapsed: Duration::ZERO,
            polls: 0,
            retries: 0,
            last: None,
            last_fault: None,
            reason: None,
            cancel: None,
            fell_back: false,
            short_lived_credentials: false,
        }
    }
}

/// Everything the loop needs besides the job id.
#[derive(Clone)]
pub struct Driver {
    pub client: DliClient,
    pub reporter: Arc<dyn Reporter>,
}

impl Driver {
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
        self.reporter.started(job_id);
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
                turn = self.client.turn(m.remaining(start.elapsed())) => turn,
                why = stopped(&mut stop) => { decision = m.stop(why); continue; }
            };
            // A request never runs past the deadline by more than a second.
            let request_timeout = self.client.config().request_timeout;
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
                self.reporter.snapshot(job_id, s, elapsed);
            }
            decision = m.observe(obs, elapsed);
            for note in m.take_notes() {
                self.reporter.note(job_id, &note, elapsed);
            }
        };

        let short_lived = self.client.config().credentials.expire();
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
            self.reporter.cancelled(job_id, &c);
            report.cancel = Some(c);
        }
        if matches!(report.outcome, Outcome::Failed | Outcome::Cancelled) {
            report.reason = Box::pin(self.reason(job_id, report.last.as_ref())).await;
        }
        report.elapsed = start.elapsed();
        report
    }

    async fn poll(&self, job_id: &str, endpoint: Endpoint, timeout: Duration) -> Observation {
        let result = match endpoint {
            Endpoint::Progress => self
                .client
                .progress(job_id, timeout)
                .await
                .map(Snapshot::from),
            Endpoint::Status => self
                .client
                .status(job_id, timeout)
                .await
                .map(Snapshot::from),
        };
        match result {
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
        let fetched: Result<JobStatusInfo, Fault> =
            (|| self.client.status(job_id, CANCEL_REQUEST_TIMEOUT))
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
        let sent = (|| self.client.cancel(job_id, CANCEL_REQUEST_TIMEOUT))
            .retry(
                ConstantBuilder::default()
                    .with_delay(Duration::from_millis(300))
                    .with_max_times(if confirm { 2 } else { 0 }),
            )
            .when(Fault::is_transient)
            .await;
        let mut report = match sent {
            Ok(r) => CancelReport {
                accepted: true,
                confirmed: false,
                message: r.message,
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
            if let Ok(info) = self.client.status(job_id, CANCEL_REQUEST_TIMEOUT).await
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
