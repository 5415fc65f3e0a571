//! The async driver on tokio's paused clock, against a scripted DLI: deadlines against a
//! saturated rate limit, a stop while a request hangs, the cancel window, many jobs. Hours
//! of waiting play in milliseconds; nothing here opens a socket.

#![allow(clippy::unwrap_used)]

use dli_wait::dli::fault::{Fault, FaultKind};
use dli_wait::dli::model::JobStatus;
use dli_wait::dli::pacer::Pacer;
use dli_wait::wait::api::JobApi;
use dli_wait::wait::driver::Driver;
use dli_wait::wait::events::Silent;
use dli_wait::wait::machine::{CancelOn, Endpoint, WaitConfig};
use dli_wait::wait::many::{Plan, wait_all};
use dli_wait::wait::outcome::{Outcome, Signal, Stop};
use dli_wait::wait::policy::{DelayPolicy, Fixed};
use dli_wait::wait::record::JobReport;
use dli_wait::wait::snapshot::{Snapshot, Source};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// How the scripted DLI answers a poll of one job.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Script {
    /// RUNNING until `secs` after the first poll, then this status.
    EndsAfter(u64, &'static str),
    /// Every request hangs until the caller gives up.
    Hangs,
}

/// A DLI that answers from a script, under an optional real [`Pacer`], and remembers calls.
#[derive(Clone)]
struct Scripted {
    script: Arc<dyn Fn(&str) -> Script + Send + Sync>,
    pacer: Option<Arc<Pacer>>,
    started: Instant,
    /// Status after a cancel was accepted (`None`: the cancel never shows).
    after_cancel: Option<&'static str>,
    cancels: Arc<Mutex<Vec<(String, Duration)>>>,
    polls: Arc<Mutex<u32>>,
    /// How long every poll takes to answer.
    latency: Duration,
}

impl Scripted {
    fn new(script: impl Fn(&str) -> Script + Send + Sync + 'static) -> Self {
        Scripted {
            script: Arc::new(script),
            pacer: None,
            started: Instant::now(),
            after_cancel: Some("CANCELLED"),
            cancels: Arc::default(),
            polls: Arc::default(),
            latency: Duration::ZERO,
        }
    }

    fn cancels(&self) -> Vec<(String, Duration)> {
        self.cancels.lock().unwrap().clone()
    }
}

fn snapshot(status: &str, source: Source) -> Snapshot {
    Snapshot {
        status: JobStatus::from(status),
        message: String::new(),
        source,
        progress: None,
        sub_job_id: None,
        sub_jobs: Vec::new(),
        detail: None,
    }
}

impl JobApi for Scripted {
    async fn turn(&self, within: Option<Duration>) -> Result<(), Fault> {
        let Some(p) = &self.pacer else { return Ok(()) };
        match within {
            None => {
                p.wait().await;
                Ok(())
            }
            Some(left) => tokio::time::timeout(left, p.wait())
                .await
                .map_err(|_| Fault::transport(FaultKind::Timeout, "no turn")),
        }
    }

    async fn poll(
        &self,
        job_id: &str,
        endpoint: Endpoint,
        timeout: Duration,
    ) -> Result<Snapshot, Fault> {
        *self.polls.lock().unwrap() += 1;
        tokio::time::sleep(self.latency.min(timeout)).await;
        let source = match endpoint {
            Endpoint::Progress => Source::Progress,
            Endpoint::Status => Source::Status,
        };
        let cancelled = self
            .cancels
            .lock()
            .unwrap()
            .iter()
            .any(|(j, _)| j == job_id);
        if cancelled {
            return match self.after_cancel {
                Some(s) => Ok(snapshot(s, source)),
                None => Ok(snapshot("RUNNING", source)),
            };
        }
        match (self.script)(job_id) {
            Script::Hangs => {
                tokio::time::sleep(timeout).await;
                Err(Fault::transport(FaultKind::Timeout, "no answer"))
            }
            Script::EndsAfter(secs, end) => {
                let status = if self.started.elapsed() >= Duration::from_secs(secs) {
                    end
                } else {
                    "RUNNING"
                };
                Ok(snapshot(status, source))
            }
        }
    }

    async fn cancel(&self, job_id: &str, _timeout: Duration) -> Result<String, Fault> {
        self.cancels
            .lock()
            .unwrap()
            .push((job_id.to_string(), self.started.elapsed()));
        Ok("cancel accepted".into())
    }

    fn request_timeout(&self) -> Duration {
        Duration::from_secs(30)
    }

    fn short_lived_credentials(&self) -> bool {
        false
    }
}

fn every(secs: u64) -> Box<dyn DelayPolicy> {
    Box::new(Fixed(Duration::from_secs(secs)))
}

async fn wait_one(
    api: &Scripted,
    cfg: WaitConfig,
    stop: watch::Receiver<Option<Stop>>,
) -> JobReport {
    let driver = Driver {
        api: api.clone(),
        events: Arc::new(Silent),
    };
    driver.wait("job-1", cfg, every(10), stop).await
}

fn no_stop() -> watch::Receiver<Option<Stop>> {
    watch::channel(None).1
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

#[tokio::test(start_paused = true)]
async fn a_job_that_finishes_after_an_hour_ends_finished_after_an_hour() {
    let api = Scripted::new(|_| Script::EndsAfter(3600, "FINISHED"));
    let r = wait_one(&api, WaitConfig::default(), no_stop()).await;
    assert_eq!(r.outcome, Outcome::Finished);
    // Polled every 10 s: seen within one interval of the end.
    assert!(
        (3600.0..=3610.0).contains(&secs(r.elapsed)),
        "{:?}",
        r.elapsed
    );
}

#[tokio::test(start_paused = true)]
async fn the_deadline_holds_when_the_rate_limit_queue_is_longer_than_the_time_left() {
    let mut api = Scripted::new(|_| Script::EndsAfter(u64::MAX, "FINISHED"));
    // One request a minute, already used: the next turn is past a 30 s deadline.
    let pacer = Arc::new(Pacer::per_second(1.0 / 60.0));
    pacer.wait().await;
    api.pacer = Some(pacer);
    let cfg = WaitConfig {
        timeout: Some(Duration::from_secs(30)),
        ..WaitConfig::default()
    };
    let r = wait_one(&api, cfg, no_stop()).await;
    assert_eq!(r.outcome, Outcome::TimedOut);
    assert!(secs(r.elapsed) <= 31.0, "ended after {:?}", r.elapsed);
}

#[tokio::test(start_paused = true)]
async fn a_stop_during_a_hung_request_ends_the_wait_at_once_and_cancels_when_asked() {
    let api = Scripted::new(|_| Script::Hangs);
    let (tx, rx) = watch::channel(None);
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(25)).await;
        tx.send_replace(Some(Stop::Signal(Signal::Term)));
        // Keep the sender alive: the wait must stop on the value, not on a closed channel.
        tokio::time::sleep(Duration::from_secs(3600)).await;
    });
    let cfg = WaitConfig {
        cancel_on: CancelOn {
            signal: true,
            ..CancelOn::default()
        },
        ..WaitConfig::default()
    };
    let r = wait_one(&api, cfg, rx).await;
    assert_eq!(r.outcome, Outcome::Interrupted(Signal::Term));
    // The request had hung since 10 s and had 30 s to go: the stop did not wait for it.
    assert!((25.0..26.0).contains(&secs(r.elapsed)), "{:?}", r.elapsed);
    let cancels = api.cancels();
    assert_eq!(cancels.len(), 1, "{cancels:?}");
    assert!(r.cancel.as_ref().is_some_and(|c| c.accepted));
}

#[tokio::test(start_paused = true)]
async fn a_cancel_on_timeout_is_confirmed_by_a_later_poll() {
    let api = Scripted::new(|_| Script::EndsAfter(u64::MAX, "FINISHED"));
    let cfg = WaitConfig {
        timeout: Some(Duration::from_secs(60)),
        cancel_on: CancelOn {
            timeout: true,
            ..CancelOn::default()
        },
        ..WaitConfig::default()
    };
    let r = wait_one(&api, cfg, no_stop()).await;
    assert_eq!(r.outcome, Outcome::TimedOut);
    let c = r.cancel.unwrap();
    assert!(c.accepted && c.confirmed, "{c:?}");
    assert_eq!(api.cancels().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_cancel_that_never_shows_is_given_up_within_the_confirmation_window() {
    let mut api = Scripted::new(|_| Script::EndsAfter(u64::MAX, "FINISHED"));
    api.after_cancel = None;
    let cfg = WaitConfig {
        timeout: Some(Duration::from_secs(60)),
        cancel_on: CancelOn {
            timeout: true,
            ..CancelOn::default()
        },
        ..WaitConfig::default()
    };
    let r = wait_one(&api, cfg, no_stop()).await;
    assert_eq!(r.outcome, Outcome::TimedOut);
    let c = r.cancel.unwrap();
    assert!(c.accepted && !c.confirmed, "{c:?}");
    let bound = 60.0 + dli_wait::wait::driver::CANCEL_CONFIRM_WINDOW.as_secs_f64() + 1.0;
    assert!(secs(r.elapsed) <= bound, "ended after {:?}", r.elapsed);
}

#[tokio::test(start_paused = true)]
async fn many_jobs_with_fail_fast_stop_at_the_first_failure_and_cancel_the_rest() {
    let api = Scripted::new(|id| {
        if id == "job-7" {
            Script::EndsAfter(120, "FAILED")
        } else {
            Script::EndsAfter(u64::MAX, "FINISHED")
        }
    });
    let ids: Vec<String> = (0..200).map(|i| format!("job-{i}")).collect();
    let cfg = WaitConfig {
        cancel_on: CancelOn {
            signal: true,
            ..CancelOn::default()
        },
        ..WaitConfig::default()
    };
    let policy = || every(10);
    let (stop, _) = watch::channel(None);
    let reports = wait_all(
        &api,
        Arc::new(Silent),
        ids,
        Plan {
            config: &cfg,
            policy: &policy,
            fail_fast: true,
        },
        &stop,
    )
    .await
    .unwrap();
    assert_eq!(reports.len(), 200);
    assert_eq!(reports[7].outcome, Outcome::Failed);
    assert!(
        reports
            .iter()
            .enumerate()
            .all(|(i, r)| i == 7 || r.outcome == Outcome::Abandoned)
    );
    // The others were cancelled (--cancel-on with --fail-fast), each once.
    assert_eq!(api.cancels().len(), 199);
    assert_eq!(
        dli_wait::wait::outcome::aggregate_exit_code(reports.iter().map(|r| &r.outcome)),
        1
    );
}

/// "The deadline holds even when many jobs share a tight request budget": ten waits at half a
/// request per second would queue for 20 s, yet a 2 s deadline ends them all by 3 s.
#[tokio::test(start_paused = true)]
async fn the_deadline_holds_for_many_jobs_when_the_rate_limit_is_saturated() {
    let mut api = Scripted::new(|_| Script::EndsAfter(u64::MAX, "FINISHED"));
    api.pacer = Some(Arc::new(Pacer::per_second(0.5)));
    let cfg = WaitConfig {
        timeout: Some(Duration::from_secs(2)),
        ..WaitConfig::default()
    };
    let policy = || every(1);
    let (stop, _) = watch::channel(None);
    let started = Instant::now();
    let ids: Vec<String> = (0..10).map(|i| format!("busy-{i}")).collect();
    let plan = Plan {
        config: &cfg,
        policy: &policy,
        fail_fast: false,
    };
    let reports = wait_all(&api, Arc::new(Silent), ids, plan, &stop)
        .await
        .unwrap();
    assert!(reports.iter().all(|r| r.outcome == Outcome::TimedOut));
    assert!(
        started.elapsed() <= Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    // The limit held: at most one request at t=1 s plus one at t=3 s would fit; by 2 s, one.
    assert!(
        *api.polls.lock().unwrap() <= 2,
        "{}",
        api.polls.lock().unwrap()
    );
}

/// "`--stall-timeout 10s` reports a stall about 10 s after the job stopped moving", even with
/// `--max-poll-interval 120s`: the machine schedules a poll on the stall deadline instead of
/// finding the stall whenever the next poll happens to come.
#[tokio::test(start_paused = true)]
async fn a_stall_is_reported_within_one_request_of_its_deadline_however_long_the_poll_interval() {
    for latency in [Duration::ZERO, Duration::from_secs(2)] {
        let mut api = Scripted::new(|_| Script::EndsAfter(u64::MAX, "FINISHED"));
        api.latency = latency;
        let cfg = WaitConfig {
            stall_timeout: Some(Duration::from_secs(10)),
            ..WaitConfig::default()
        };
        let driver = Driver {
            api: api.clone(),
            events: Arc::new(Silent),
        };
        let r = driver.wait("job-1", cfg, every(120), no_stop()).await;
        assert!(
            matches!(r.outcome, Outcome::Stalled { .. }),
            "{:?}",
            r.outcome
        );
        // Still since the first answer (at `latency`); seen by the poll sent at its deadline.
        let bound = latency + Duration::from_secs(10) + latency;
        assert!(
            r.elapsed <= bound + Duration::from_millis(10),
            "stall reported after {:?} (bound {bound:?})",
            r.elapsed
        );
        assert_eq!(r.polls, 2, "{r:?}");
    }
}
