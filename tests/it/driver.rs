//! The async driver on tokio's paused clock, against a scripted DLI: deadlines against a
//! saturated rate limit, a stop while a request hangs, the cancel window, many jobs. Hours
//! of waiting play in milliseconds; nothing here opens a socket.

#![allow(clippy::unwrap_used)]

use dli_wait::dli::fault::{Fault, FaultKind};
use dli_wait::dli::model::JobStatus;
use dli_wait::dli::pacer::{Lane, Pacer};
use dli_wait::wait::api::JobApi;
use dli_wait::wait::driver::{CANCEL_GRACE, Driver};
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
    /// No connection, ever (as a refused or unroutable connection reads).
    Unreachable,
    /// This machine cannot open a connection (EMFILE: `ulimit -n` too low).
    OutOfFiles,
    /// The credentials are refused for good (HTTP 401, after any renewal).
    Refused,
    /// A Spark batch: `starting` for the first `queued` seconds, `running` for `runs` more,
    /// then `end` (a Spark state); a dead batch's details say why.
    Batch {
        queued: u64,
        runs: u64,
        end: &'static str,
    },
}

/// How the scripted DLI answers a DELETE.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Delete {
    /// Accepted at once.
    Accepts,
    /// Never answers, whatever timeout the caller gave.
    Hangs,
    /// Accepted after this long (if the caller waits that long).
    Slow(Duration),
    /// A transient fault (HTTP 500) every time.
    Fails,
    /// 429 with this `Retry-After`, every time.
    Throttled(Duration),
    /// A gateway accepting this many DELETEs in any one-second window: more are answered 429
    /// with `Retry-After: 1`.
    Gateway(usize),
}

/// A DLI that answers from a script, under an optional real [`Pacer`], and remembers calls.
#[derive(Clone)]
struct Scripted {
    script: Arc<dyn Fn(&str) -> Script + Send + Sync>,
    pacer: Option<Arc<Pacer>>,
    started: Instant,
    /// Status after a cancel was accepted (`None`: the cancel never shows).
    after_cancel: Option<&'static str>,
    delete: Delete,
    /// Every DELETE that reached DLI: job, when, accepted.
    deletes: Arc<Mutex<Vec<(String, Duration, bool)>>>,
    /// The accepted cancels: job, when.
    cancels: Arc<Mutex<Vec<(String, Duration)>>>,
    polls: Arc<Mutex<u32>>,
    /// When each poll reached DLI.
    poll_times: Arc<Mutex<Vec<Duration>>>,
    /// The jobs whose ending read DLI's reason and figures ([`JobApi::reason`]).
    reason_reads: Arc<Mutex<Vec<String>>>,
    /// That ending read never answers.
    reason_hangs: bool,
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
            delete: Delete::Accepts,
            deletes: Arc::default(),
            cancels: Arc::default(),
            polls: Arc::default(),
            poll_times: Arc::default(),
            reason_reads: Arc::default(),
            reason_hangs: false,
            latency: Duration::ZERO,
        }
    }

    fn cancels(&self) -> Vec<(String, Duration)> {
        self.cancels.lock().unwrap().clone()
    }
}

/// A snapshot in `status`: a SQL status, or else a Spark state.
fn snapshot(status: &str, source: Source) -> Snapshot {
    let status = match JobStatus::from(status) {
        JobStatus::Other(_) => JobStatus::from_spark(status),
        sql => sql,
    };
    Snapshot {
        status,
        message: String::new(),
        source,
        progress: None,
        sub_job_id: None,
        sub_jobs: Vec::new(),
        detail: None,
        queued: None,
        restart_times: None,
        restarted: None,
        figures: None,
    }
}

impl Scripted {
    /// A poll's answer from an endpoint like `source`.
    async fn answer(
        &self,
        job_id: &str,
        source: Source,
        timeout: Duration,
    ) -> Result<Snapshot, Fault> {
        *self.polls.lock().unwrap() += 1;
        self.poll_times.lock().unwrap().push(self.started.elapsed());
        tokio::time::sleep(self.latency.min(timeout)).await;
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
            Script::Unreachable => Err(Fault::transport(
                FaultKind::Connection,
                "127.0.0.1:9 refused the connection",
            )),
            Script::Refused => {
                let mut f = Fault::transport(FaultKind::Unauthorized, "refused (HTTP 401)");
                f.class = dli_wait::dli::fault::FaultClass::Permanent;
                f.http_status = Some(401);
                Err(f)
            }
            Script::OutOfFiles => Err(Fault::transport(
                FaultKind::LocalResource,
                "cannot connect to 127.0.0.1:9: this machine ran out of file descriptors",
            )),
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
            Script::Batch { queued, runs, end } => {
                let t = self.started.elapsed();
                let state = if t < Duration::from_secs(queued) {
                    "starting"
                } else if t < Duration::from_secs(queued.saturating_add(runs)) {
                    "running"
                } else {
                    end
                };
                let why = match (state, source.reason) {
                    ("dead", true) => "YARN Diagnostics: no resources within 3 hours",
                    _ => "",
                };
                Ok(Snapshot::of_batch(JobStatus::from_spark(state), why.into()))
            }
        }
    }
}

impl JobApi for Scripted {
    fn pacer(&self) -> Option<&Pacer> {
        self.pacer.as_deref()
    }

    async fn poll(
        &self,
        job_id: &str,
        endpoint: Endpoint,
        timeout: Duration,
    ) -> Result<Snapshot, Fault> {
        let source = match endpoint {
            Endpoint::Primary => Source::PROGRESS,
            Endpoint::Fallback => Source::STATUS,
        };
        self.answer(job_id, source, timeout).await
    }

    /// As `/status` answers (a batch's details: a dead one says why).
    async fn reason(&self, job_id: &str, timeout: Duration) -> Result<Snapshot, Fault> {
        self.reason_reads.lock().unwrap().push(job_id.to_string());
        if self.reason_hangs {
            return std::future::pending().await;
        }
        self.answer(job_id, Source::STATUS, timeout).await
    }

    async fn cancel(&self, job_id: &str, _timeout: Duration) -> Result<String, Fault> {
        let throttled = |after: Duration| {
            let mut f = Fault::transport(FaultKind::Throttled, "429 Too Many Requests");
            f.retry_after = Some(after);
            f
        };
        let refusal = match self.delete {
            Delete::Accepts => None,
            Delete::Hangs => std::future::pending().await,
            Delete::Slow(d) => {
                tokio::time::sleep(d).await;
                None
            }
            Delete::Fails => Some(Fault::transport(
                FaultKind::ServerError,
                "500 Internal Server Error",
            )),
            Delete::Throttled(after) => Some(throttled(after)),
            Delete::Gateway(per_second) => {
                let now = self.started.elapsed();
                let recent = self
                    .deletes
                    .lock()
                    .unwrap()
                    .iter()
                    .filter(|(_, t, ok)| *ok && now - *t < Duration::from_secs(1))
                    .count();
                (recent >= per_second).then(|| throttled(Duration::from_secs(1)))
            }
        };
        let now = self.started.elapsed();
        self.deletes
            .lock()
            .unwrap()
            .push((job_id.to_string(), now, refusal.is_none()));
        if let Some(f) = refusal {
            return Err(f);
        }
        self.cancels.lock().unwrap().push((job_id.to_string(), now));
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

/// `--timeout SECS --cancel-on timeout`.
fn cancel_on_timeout_after(secs: u64) -> WaitConfig {
    WaitConfig {
        timeout: Some(Duration::from_secs(secs)),
        cancel_on: CancelOn {
            timeout: true,
            ..CancelOn::default()
        },
        ..WaitConfig::default()
    }
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

/// "`--timeout 6h` with a short poll interval": 21,600 polls, each ending at the deadline's
/// timer, the wait's bookkeeping the same size at the end as at the start (the driver checks
/// that it keeps at most two timers a job, in debug builds such as this test's).
#[tokio::test(start_paused = true)]
async fn a_six_hour_wait_polled_every_second_keeps_its_bookkeeping_bounded() {
    let api = Scripted::new(|_| Script::EndsAfter(u64::MAX, "FINISHED"));
    let cfg = WaitConfig {
        timeout: Some(Duration::from_secs(6 * 3600)),
        ..WaitConfig::default()
    };
    let driver = Driver {
        api: api.clone(),
        events: Arc::new(Silent),
    };
    let r = driver.wait("job-1", cfg, every(1), no_stop()).await;
    assert_eq!(r.outcome, Outcome::TimedOut);
    assert!(r.polls >= 6 * 3600, "{}", r.polls);
}

#[tokio::test(start_paused = true)]
async fn the_deadline_holds_when_the_rate_limit_queue_is_longer_than_the_time_left() {
    let mut api = Scripted::new(|_| Script::EndsAfter(u64::MAX, "FINISHED"));
    // One request a minute, already used: the next turn is past a 30 s deadline.
    let pacer = Arc::new(Pacer::per_second(1.0 / 60.0));
    pacer.wait_in(Lane::Normal).await;
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
    let cfg = cancel_on_timeout_after(60);
    let r = wait_one(&api, cfg, no_stop()).await;
    assert_eq!(r.outcome, Outcome::TimedOut);
    let c = r.cancel.unwrap();
    assert!(c.accepted && c.confirmed, "{c:?}");
    assert_eq!(api.cancels().len(), 1);
}

/// "With `--cancel-on timeout`, the process ends within `--timeout` plus the cancel grace":
/// a cancel DLI accepts but never carries out is given up at the end of the grace.
#[tokio::test(start_paused = true)]
async fn a_cancel_that_never_shows_is_given_up_within_the_grace() {
    let mut api = Scripted::new(|_| Script::EndsAfter(u64::MAX, "FINISHED"));
    api.after_cancel = None;
    let cfg = cancel_on_timeout_after(60);
    let r = wait_one(&api, cfg, no_stop()).await;
    assert_eq!(r.outcome, Outcome::TimedOut);
    let c = r.cancel.unwrap();
    assert!(c.accepted && !c.confirmed, "{c:?}");
    let bound = Duration::from_secs(60) + CANCEL_GRACE;
    assert!(r.elapsed <= bound, "ended after {:?}", r.elapsed);
    // It was looked for in the meantime.
    assert!(
        *api.polls.lock().unwrap() > 7,
        "{}",
        api.polls.lock().unwrap()
    );
}

/// "`--timeout 5s --cancel-on timeout` ends by 10 s, whatever the DELETE does": hung, slow,
/// failing, throttled (with a `Retry-After` inside the grace, or past it); on a timeout and
/// after a signal alike.
#[tokio::test(start_paused = true)]
async fn the_ending_holds_the_grace_whatever_the_delete_does() {
    let behaviours = [
        Delete::Hangs,
        Delete::Slow(Duration::from_secs(60)),
        Delete::Fails,
        Delete::Throttled(Duration::from_secs(2)),
        Delete::Throttled(Duration::from_secs(30)),
    ];
    for delete in behaviours {
        for by_signal in [false, true] {
            let mut api = Scripted::new(|_| Script::EndsAfter(u64::MAX, "FINISHED"));
            api.delete = delete;
            let (tx, rx) = watch::channel(None);
            if by_signal {
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_secs(3)).await;
                    tx.send_replace(Some(Stop::Signal(Signal::Int)));
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                });
            }
            let cfg = WaitConfig {
                timeout: Some(Duration::from_secs(5)),
                cancel_on: CancelOn {
                    timeout: true,
                    signal: true,
                    ..CancelOn::default()
                },
                ..WaitConfig::default()
            };
            let r = wait_one(&api, cfg, rx).await;
            let (outcome, ended_at) = if by_signal {
                (Outcome::Interrupted(Signal::Int), Duration::from_secs(3))
            } else {
                (Outcome::TimedOut, Duration::from_secs(5))
            };
            let case = format!("{delete:?}, signal: {by_signal}");
            assert_eq!(r.outcome, outcome, "{case}");
            assert!(
                r.elapsed <= ended_at + CANCEL_GRACE,
                "{case}: ended after {:?}",
                r.elapsed
            );
            let c = r.cancel.unwrap();
            assert!(!c.accepted, "{case}: {c:?}");
            let tries = api.deletes.lock().unwrap().len();
            match delete {
                // Retry-After past the grace: not sent again, and said so at once.
                Delete::Throttled(after) if after > CANCEL_GRACE => {
                    assert_eq!(tries, 1, "{case}");
                    assert!(
                        r.elapsed < ended_at + Duration::from_secs(1),
                        "{case}: {:?}",
                        r.elapsed
                    );
                }
                // Sent again within the grace.
                Delete::Fails | Delete::Throttled(_) => {
                    assert!(tries >= 2, "{case}: {tries} tries");
                }
                _ => {}
            }
        }
    }
}

/// A DELETE answered 429 is sent again after its `Retry-After` and accepted, within the grace.
#[tokio::test(start_paused = true)]
async fn a_throttled_cancel_is_sent_again_after_retry_after() {
    let mut api = Scripted::new(|_| Script::EndsAfter(u64::MAX, "FINISHED"));
    // The gateway allows no DELETE in the first second after another.
    api.delete = Delete::Gateway(1);
    api.deletes
        .lock()
        .unwrap()
        .push(("someone-else".into(), Duration::from_secs(5), true));
    let cfg = cancel_on_timeout_after(5);
    let r = wait_one(&api, cfg, no_stop()).await;
    let c = r.cancel.unwrap();
    assert!(c.accepted && c.confirmed, "{c:?}");
    let deletes = api.deletes.lock().unwrap().clone();
    assert_eq!(deletes.len(), 3, "{deletes:?}");
    assert!(!deletes[1].2 && deletes[2].2, "{deletes:?}");
    assert!(
        deletes[2].1 - deletes[1].1 >= Duration::from_secs(1),
        "{deletes:?}"
    );
    assert!(
        r.elapsed <= Duration::from_secs(5) + CANCEL_GRACE,
        "{:?}",
        r.elapsed
    );
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
            abandoned: true,
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
    // The others were cancelled (--cancel-on abandoned with --fail-fast), each once.
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

/// Wait for `jobs` jobs under a rate limit of `rate` requests a second against a gateway
/// allowing `gateway` DELETEs in any second; SIGTERM (with `--cancel-on signal`) at 30 s.
/// Returns the reports, the scripted DLI, and when the waits ended.
async fn signalled_batch(
    jobs: usize,
    rate: f64,
    gateway: usize,
) -> (Vec<JobReport>, Scripted, Duration) {
    let mut api = Scripted::new(|_| Script::EndsAfter(u64::MAX, "FINISHED"));
    api.pacer = Some(Arc::new(Pacer::per_second(rate)));
    api.delete = Delete::Gateway(gateway);
    let cfg = WaitConfig {
        cancel_on: CancelOn {
            signal: true,
            ..CancelOn::default()
        },
        ..WaitConfig::default()
    };
    let policy = || every(10);
    let (stop, _) = watch::channel(None);
    let ids: Vec<String> = (0..jobs).map(|i| format!("job-{i}")).collect();
    let plan = Plan {
        config: &cfg,
        policy: &policy,
        fail_fast: false,
    };
    let started = Instant::now();
    let signal = async {
        tokio::time::sleep(Duration::from_secs(30)).await;
        stop.send_replace(Some(Stop::Signal(Signal::Term)));
    };
    let (reports, ()) = tokio::join!(wait_all(&api, Arc::new(Silent), ids, plan, &stop), signal);
    (reports.unwrap(), api, started.elapsed())
}

/// The most DELETEs that reached DLI in any one-second window.
fn most_deletes_in_a_second(api: &Scripted) -> usize {
    let times: Vec<Duration> = api.deletes.lock().unwrap().iter().map(|d| d.1).collect();
    most_in_a_second(&times)
}

/// The most of `times` in any one-second window.
fn most_in_a_second(times: &[Duration]) -> usize {
    let mut sorted = times.to_vec();
    sorted.sort();
    let mut first = 0;
    let mut most = 0;
    for (last, &t) in sorted.iter().enumerate() {
        while t - sorted[first] >= Duration::from_secs(1) {
            first += 1;
        }
        most = most.max(last + 1 - first);
    }
    most
}

/// "One dli-wait waits for thousands of jobs" (README): 2,000 waits under
/// `--max-requests-per-second 100` in one loop, every job FINISHED from 60 s: each ends
/// FINISHED, the records come in the order given, no second ever sees more than 100 polls,
/// and the line for turns moves (the last job is seen finished once the line has gone round:
/// 2,000 polls at 100 a second after the end, and one ending read each).
#[tokio::test(start_paused = true)]
async fn two_thousand_jobs_share_one_loop_and_the_rate_limit_holds() {
    let mut api = Scripted::new(|_| Script::EndsAfter(60, "FINISHED"));
    api.pacer = Some(Arc::new(Pacer::per_second(100.0)));
    let cfg = WaitConfig::default();
    let policy = || every(10);
    let (stop, _) = watch::channel(None);
    let started = Instant::now();
    let ids: Vec<String> = (0..2000).map(|i| format!("job-{i:04}")).collect();
    let plan = Plan {
        config: &cfg,
        policy: &policy,
        fail_fast: false,
    };
    let reports = wait_all(&api, Arc::new(Silent), ids.clone(), plan, &stop)
        .await
        .unwrap();
    assert_eq!(reports.len(), 2000);
    for (r, id) in reports.iter().zip(&ids) {
        assert_eq!((&r.job_id, &r.outcome), (id, &Outcome::Finished));
    }
    let times = api.poll_times.lock().unwrap().clone();
    assert!(
        most_in_a_second(&times) <= 100,
        "{}",
        most_in_a_second(&times)
    );
    // Every job's poll after 60 s is at most one round of the line (20 s) plus a delay late;
    // then each ended job's one read of DLI's reason and figures takes its turn too (issue
    // 22: another 2,000 requests at 100 a second, 20 s).
    let took = started.elapsed();
    assert!(
        took <= Duration::from_secs(60 + 20 + 10 + 20 + 1),
        "{took:?}"
    );
    let reads = api.reason_reads.lock().unwrap().len();
    assert_eq!(reads, 2000, "one ending read per job");
}

/// "CI cancels a step waiting for 500 jobs, under `--max-requests-per-second 20`": the
/// cancels go ahead of the polls but keep to the limit (never more than 20 DELETEs in a
/// second, so a gateway allowing 20 refuses none), and the ending keeps the grace. 500
/// DELETEs at 20 a second take 25 s: the ~90 that fit in the grace (less its last half second)
/// are sent and accepted;
/// every other job's cancel says it was not sent.
#[tokio::test(start_paused = true)]
async fn five_hundred_cancels_after_a_signal_keep_to_the_rate_limit_and_the_grace() {
    let (reports, api, ended) = signalled_batch(500, 20.0, 20).await;
    let signal = Duration::from_secs(30);
    assert_eq!(reports.len(), 500);
    assert!(
        reports
            .iter()
            .all(|r| r.outcome == Outcome::Interrupted(Signal::Term))
    );
    assert!(ended <= signal + CANCEL_GRACE, "ended after {ended:?}");
    let most = most_deletes_in_a_second(&api);
    assert!(most <= 20, "{most} DELETEs in one second");
    let deletes = api.deletes.lock().unwrap().clone();
    assert!(
        deletes.iter().all(|d| d.2),
        "the gateway refused some: {deletes:?}"
    );
    assert!(
        deletes
            .iter()
            .all(|d| d.1 >= signal && d.1 <= signal + CANCEL_GRACE)
    );
    let accepted = reports
        .iter()
        .filter(|r| r.cancel.as_ref().unwrap().accepted)
        .count();
    // 20 a second for the grace less its last half second (`CANCEL_MIN_TIME`: a DELETE
    // needs time for its answer).
    assert!((88..=92).contains(&accepted), "{accepted} accepted");
    for r in reports
        .iter()
        .filter(|r| !r.cancel.as_ref().unwrap().accepted)
    {
        let c = r.cancel.as_ref().unwrap();
        assert!(c.message.contains("not sent"), "{c:?}");
    }
}

/// A gateway stricter than our limit (60 DELETEs a second against our 100): the cancels it
/// refuses with 429 are sent again after `Retry-After` and all 200 are accepted within the
/// grace, never more than 100 DELETEs in a second.
#[tokio::test(start_paused = true)]
async fn cancels_refused_with_429_are_sent_again_within_the_grace() {
    let (reports, api, ended) = signalled_batch(200, 100.0, 60).await;
    assert!(
        ended <= Duration::from_secs(30) + CANCEL_GRACE,
        "ended after {ended:?}"
    );
    let most = most_deletes_in_a_second(&api);
    assert!(most <= 100, "{most} DELETEs in one second");
    let refused = api.deletes.lock().unwrap().iter().filter(|d| !d.2).count();
    assert!(
        refused > 0,
        "the gateway refused none: the test tests nothing"
    );
    let not_accepted: Vec<_> = reports
        .iter()
        .filter(|r| !r.cancel.as_ref().unwrap().accepted)
        .map(|r| (&r.job_id, &r.cancel))
        .collect();
    assert!(not_accepted.is_empty(), "{not_accepted:?}");
    assert_eq!(api.cancels().len(), 200);
}

/// "One job times out and cancels while 60 others keep polling under `--max-requests-per-second
/// 20`": the DELETE takes the next slot, ahead of some three seconds of queued polls, and all
/// requests together keep to the limit.
#[tokio::test(start_paused = true)]
async fn a_cancel_goes_ahead_of_queued_polls_and_all_requests_keep_to_the_limit() {
    let mut api = Scripted::new(|_| Script::EndsAfter(u64::MAX, "FINISHED"));
    api.pacer = Some(Arc::new(Pacer::per_second(20.0)));
    let (stop, _) = watch::channel(None);
    let pollers: Vec<_> = (0..60)
        .map(|i| {
            let driver = Driver {
                api: api.clone(),
                events: Arc::new(Silent),
            };
            let rx = stop.subscribe();
            tokio::spawn(async move {
                driver
                    .wait(&format!("busy-{i}"), WaitConfig::default(), every(1), rx)
                    .await
            })
        })
        .collect();
    let cfg = cancel_on_timeout_after(10);
    let driver = Driver {
        api: api.clone(),
        events: Arc::new(Silent),
    };
    let r = driver.wait("job-1", cfg, every(1), stop.subscribe()).await;
    stop.send_replace(Some(Stop::FailFast));
    for p in pollers {
        p.await.unwrap();
    }
    assert_eq!(r.outcome, Outcome::TimedOut);
    let c = r.cancel.unwrap();
    assert!(c.accepted && c.confirmed, "{c:?}");
    assert!(
        r.elapsed <= Duration::from_secs(10) + CANCEL_GRACE,
        "{:?}",
        r.elapsed
    );
    let deletes = api.deletes.lock().unwrap().clone();
    assert_eq!(deletes.len(), 1, "{deletes:?}");
    // The deadline's poll had queued from 9 s and gave up at 10 s; the DELETE went on the
    // next slot, not behind the ~60 polls waiting.
    assert!(deletes[0].1 <= Duration::from_millis(10_100), "{deletes:?}");
    let mut all = api.poll_times.lock().unwrap().clone();
    all.extend(deletes.iter().map(|d| d.1));
    all.sort();
    let most = most_in_a_second(&all);
    assert!(most <= 20, "{most} requests in one second");
}

/// Records how long each answer said the job had been queued.
#[derive(Default)]
struct Queued(Mutex<Vec<(Duration, Option<Duration>)>>);

impl dli_wait::wait::events::Events for Queued {
    fn started(&self, _: &str) {}
    fn snapshot(&self, _: &str, snap: &Snapshot, elapsed: Duration) {
        self.0.lock().unwrap().push((elapsed, snap.queued));
    }
    fn note(&self, _: &str, _: &dli_wait::wait::machine::Note, _: Duration) {}
    fn cancelled(&self, _: &str, _: &dli_wait::wait::record::CancelReport) {}
    fn finished(&self, _: &JobReport) {}
}

/// DLI ends a Spark batch that gets no resources after about 3 hours: the wait says all along
/// how long it has been queued, then ends FAILED with the details' reason.
#[tokio::test(start_paused = true)]
async fn a_batch_queued_for_three_hours_then_dead_is_failed_and_says_how_long_it_queued() {
    let api = Scripted::new(|_| Script::Batch {
        queued: 3 * 3600,
        runs: 0,
        end: "dead",
    });
    let events = Arc::new(Queued::default());
    let driver = Driver {
        api: api.clone(),
        events: events.clone(),
    };
    let r = driver
        .wait("batch-1", WaitConfig::default(), every(60), no_stop())
        .await;
    assert_eq!(r.outcome, Outcome::Failed);
    assert_eq!(r.last.as_ref().unwrap().status, JobStatus::Dead);
    assert_eq!(
        r.reason.as_ref().map(|r| r.message.as_str()),
        Some("YARN Diagnostics: no resources within 3 hours")
    );
    let seen = events.0.lock().unwrap().clone();
    // Every answer while starting: queued since the first, in step with the wait's clock.
    let (starting, ended): (Vec<_>, Vec<_>) = seen.iter().partition(|(_, q)| q.is_some());
    assert!(starting.len() > 100, "{seen:?}");
    for (elapsed, queued) in &starting {
        assert_eq!(*queued, Some(*elapsed), "{seen:?}");
    }
    let longest = starting.last().unwrap().1.unwrap();
    assert!(
        longest >= Duration::from_secs(3 * 3600 - 60) && longest < Duration::from_secs(3 * 3600),
        "{longest:?}"
    );
    assert_eq!(ended.len(), 1, "{seen:?}");
}

/// A batch has no CANCELLED: after DLI accepted our DELETE, `dead` is the cancel taking.
#[tokio::test(start_paused = true)]
async fn a_batch_dead_after_our_cancel_confirms_the_cancel() {
    let mut api = Scripted::new(|_| Script::Batch {
        queued: 5,
        runs: u64::MAX / 4,
        end: "success",
    });
    api.after_cancel = Some("dead");
    let cfg = cancel_on_timeout_after(60);
    let r = wait_one(&api, cfg, no_stop()).await;
    assert_eq!(r.outcome, Outcome::TimedOut);
    let cancel = r.cancel.unwrap();
    assert!(cancel.accepted && cancel.confirmed, "{cancel:?}");
    assert!(
        r.elapsed <= Duration::from_secs(60) + CANCEL_GRACE,
        "{:?}",
        r.elapsed
    );
    assert_eq!(api.cancels().len(), 1);
}

/// Wait for `ids` under `cfg` (a poll every 10 s), no fail-fast, no signal.
async fn wait_for(api: &Scripted, ids: Vec<String>, cfg: &WaitConfig) -> Vec<JobReport> {
    let policy = || every(10);
    let (stop, _) = watch::channel(None);
    let plan = Plan {
        config: cfg,
        policy: &policy,
        fail_fast: false,
    };
    wait_all(api, Arc::new(Silent), ids, plan, &stop)
        .await
        .unwrap()
}

/// "The service answered throughout, so no job ends as 'never answered'": one job's polls
/// are answered, the other 299 never get a connection (as under `ulimit -n 40`). The
/// unreachable window (30 s) is the process's: the service answered, so theirs are passing
/// faults, retried until the deadline (124), not a configuration error (2) at 30 s.
#[tokio::test(start_paused = true)]
async fn the_unreachable_window_is_judged_for_the_process_not_for_each_job() {
    let api = Scripted::new(|id| {
        if id == "job-0" {
            Script::EndsAfter(u64::MAX, "FINISHED")
        } else {
            Script::Unreachable
        }
    });
    let ids: Vec<String> = (0..300).map(|i| format!("job-{i}")).collect();
    let cfg = WaitConfig {
        timeout: Some(Duration::from_secs(120)),
        ..WaitConfig::default()
    };
    let reports = wait_for(&api, ids, &cfg).await;
    assert_eq!(reports.len(), 300);
    for r in &reports {
        assert_eq!(
            r.outcome,
            Outcome::TimedOut,
            "{}: {:?}",
            r.job_id,
            r.outcome
        );
        assert!(secs(r.elapsed) >= 120.0, "{}: {:?}", r.job_id, r.elapsed);
    }
    // Nothing answered at all: the window still ends every wait as unreachable, at 30 s.
    let api = Scripted::new(|_| Script::Unreachable);
    let ids: Vec<String> = (0..20).map(|i| format!("job-{i}")).collect();
    let reports = wait_for(&api, ids, &cfg).await;
    for r in &reports {
        assert!(
            matches!(r.outcome, Outcome::Misconfigured(_)),
            "{}: {:?}",
            r.job_id,
            r.outcome
        );
        assert!(secs(r.elapsed) <= 31.0, "{:?}", r.elapsed);
    }
}

/// "Running out of file descriptors is this machine's fault, not the service's": a wait whose
/// connections fail with EMFILE (a local-resource fault) is never ended as "the service
/// never answered", even when nothing answered at all; it is retried to its deadline.
#[tokio::test(start_paused = true)]
async fn a_machine_out_of_file_descriptors_is_never_an_unreachable_service() {
    let api = Scripted::new(|_| Script::OutOfFiles);
    let ids: Vec<String> = (0..50).map(|i| format!("job-{i}")).collect();
    let cfg = WaitConfig {
        timeout: Some(Duration::from_secs(90)),
        ..WaitConfig::default()
    };
    let reports = wait_for(&api, ids, &cfg).await;
    for r in &reports {
        assert_eq!(
            r.outcome,
            Outcome::TimedOut,
            "{}: {:?}",
            r.job_id,
            r.outcome
        );
        let last = r.last_fault.as_ref().expect("the last fault");
        assert_eq!(last.kind, FaultKind::LocalResource);
        assert!(last.is_transient());
    }
}

/// "A 401 that persists exits 5 at once, for every job": the credentials every job shares
/// are refused for one of them (after any renewal); the other 49, waiting for their next
/// poll, end REFUSED at that moment too, without another request.
#[tokio::test(start_paused = true)]
async fn a_lasting_401_for_one_job_ends_every_wait_at_once() {
    let api = Scripted::new(|id| {
        if id == "job-3" {
            Script::Refused
        } else {
            Script::EndsAfter(u64::MAX, "FINISHED")
        }
    });
    let ids: Vec<String> = (0..50).map(|i| format!("job-{i}")).collect();
    let cfg = WaitConfig::default();
    let reports = wait_for(&api, ids, &cfg).await;
    assert_eq!(reports.len(), 50);
    for r in &reports {
        assert!(
            matches!(&r.outcome, Outcome::Refused(f) if f.kind == FaultKind::Unauthorized),
            "{}: {:?}",
            r.job_id,
            r.outcome
        );
        assert!(secs(r.elapsed) < 1.0, "{}: {:?}", r.job_id, r.elapsed);
    }
    assert!(*api.polls.lock().unwrap() <= 50);
    assert_eq!(
        dli_wait::wait::outcome::aggregate_exit_code(reports.iter().map(|r| &r.outcome)),
        5
    );
}

/// One job's wait, as the tests here ask for it: [`Driver::wait_many`] with one job.
trait WaitOne {
    async fn wait(
        &self,
        job_id: &str,
        cfg: WaitConfig,
        policy: Box<dyn DelayPolicy>,
        stop: watch::Receiver<Option<Stop>>,
    ) -> JobReport;
}

impl<A: JobApi> WaitOne for Driver<A> {
    async fn wait(
        &self,
        job_id: &str,
        cfg: WaitConfig,
        policy: Box<dyn DelayPolicy>,
        stop: watch::Receiver<Option<Stop>>,
    ) -> JobReport {
        let wait = dli_wait::wait::driver::Wait {
            job_id: job_id.to_string(),
            cfg,
            policy,
        };
        match self.wait_many(vec![wait], stop, |_| {}).await {
            Ok(mut reports) => reports
                .pop()
                .unwrap_or_else(|| JobReport::ended_at_submit(job_id.to_string())),
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
}

/// "DLI's figures never come" (issue 22): a FINISHED job whose one ending read hangs still
/// ends the wait FINISHED, within the ending's 10 s for its reads, its figures said missing.
#[tokio::test(start_paused = true)]
async fn a_figures_read_that_hangs_is_bounded_and_changes_no_ending() {
    let mut api = Scripted::new(|_| Script::EndsAfter(5, "FINISHED"));
    api.reason_hangs = true;
    let started = Instant::now();
    let r = wait_one(&api, WaitConfig::default(), no_stop()).await;
    assert_eq!(r.outcome, Outcome::Finished);
    assert!(
        matches!(&r.figures, Some(Err(e)) if e.contains("no answer")),
        "{:?}",
        r.figures
    );
    let took = started.elapsed();
    // The end seen by the poll at 10 s, then at most the reads' 10 s.
    assert!(took <= Duration::from_secs(10 + 10 + 1), "{took:?}");
    // The one read, tried again twice when it does not answer (as a failure's reason is).
    assert_eq!(api.reason_reads.lock().unwrap().len(), 3);
}
