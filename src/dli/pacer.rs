//! The one request-rate limit of a process (`--max-requests-per-second`), shared by every
//! wait and every kind of request. Knows time only: nothing of HTTP or of what the requests
//! are, beyond which lane they wait in.

use super::fault::{Check, Fault, FaultKind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Mutex, Notify};
use tokio::time::Instant;

/// Which queue a request waits in for its turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Polls: first come first served among themselves.
    Normal,
    /// Cancels: they take the next slots before any waiting normal request (a runner kills
    /// the step a few seconds after its signal; the polls can wait).
    Urgent,
}

/// Wait for a turn in `lane` under `pacer` (none: at once). `within` bounds the wait: a
/// queue longer than the time left is a timeout fault, so a deadline holds however many jobs
/// share the limit. Every kind's requests take their turns here (`wait::api::JobApi::turn`).
pub async fn turn(
    pacer: Option<&Pacer>,
    lane: Lane,
    within: Option<Duration>,
) -> Result<(), Fault> {
    let Some(p) = pacer else { return Ok(()) };
    match within {
        None => {
            p.wait_in(lane).await;
            Ok(())
        }
        Some(left) => tokio::time::timeout(left, p.wait_in(lane))
            .await
            .map_err(|_| {
                Fault::transport(
                    FaultKind::Timeout,
                    "no turn to send a request before the deadline",
                )
                .checking(Check::RequestRate)
            }),
    }
}

/// A global request rate limit: requests go out at least `interval` apart, so thousands of
/// waits never burst past the gateway's throttling, in any window (after a pause the next
/// slot is an interval after the request that went, never a catch-up burst). Each lane is
/// first come first served (tokio's mutex is fair), and an urgent request goes before every
/// normal one still waiting. A slot is taken only when it comes due: a wait that gives up
/// (deadline, signal) leaves the queue without holding up the ones behind it.
#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    /// When the next request may go.
    next: std::sync::Mutex<Instant>,
    /// The normal requests waiting; the one holding it watches the clock.
    normal: Mutex<()>,
    /// The urgent requests waiting; the one holding it watches the clock.
    urgent: Mutex<()>,
    /// Urgent requests waiting or watching: normal ones stand back while there are any.
    urgent_waiting: AtomicUsize,
    /// Told when the last urgent request has gone (or given up).
    urgent_gone: Notify,
}

impl Pacer {
    pub fn per_second(rate: f64) -> Self {
        Pacer {
            interval: Duration::try_from_secs_f64(1.0 / rate).unwrap_or(Duration::from_secs(3600)),
            next: std::sync::Mutex::new(Instant::now()),
            normal: Mutex::new(()),
            urgent: Mutex::new(()),
            urgent_waiting: AtomicUsize::new(0),
            urgent_gone: Notify::new(),
        }
    }

    /// Wait for this request's turn in `lane`. Dropping the future leaves the queue.
    pub async fn wait_in(&self, lane: Lane) {
        match lane {
            Lane::Urgent => {
                let _waiting = UrgentWaiting::enter(self);
                let _watch = self.urgent.lock().await;
                loop {
                    let at = self.due();
                    tokio::time::sleep_until(at).await;
                    if self.take(at) {
                        return;
                    }
                }
            }
            Lane::Normal => {
                let _watch = self.normal.lock().await;
                loop {
                    self.no_urgent_waiting().await;
                    let at = self.due();
                    tokio::time::sleep_until(at).await;
                    // An urgent request that came meanwhile takes this slot.
                    if self.urgent_waiting.load(Ordering::SeqCst) == 0 && self.take(at) {
                        return;
                    }
                }
            }
        }
    }

    fn next(&self) -> std::sync::MutexGuard<'_, Instant> {
        self.next
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn due(&self) -> Instant {
        *self.next()
    }

    /// Take the slot that came due at `at`, unless another request took it first; the next
    /// slot is one interval after this request goes.
    fn take(&self, at: Instant) -> bool {
        let mut next = self.next();
        if *next != at {
            return false;
        }
        *next = at.max(Instant::now()) + self.interval;
        true
    }

    async fn no_urgent_waiting(&self) {
        loop {
            let gone = self.urgent_gone.notified();
            tokio::pin!(gone);
            // Registered before the count is read, so the last urgent request's leaving is
            // never missed.
            gone.as_mut().enable();
            if self.urgent_waiting.load(Ordering::SeqCst) == 0 {
                return;
            }
            gone.await;
        }
    }
}

/// Counts an urgent request from the moment it queues until it has gone or given up.
struct UrgentWaiting<'a>(&'a Pacer);

impl<'a> UrgentWaiting<'a> {
    fn enter(p: &'a Pacer) -> Self {
        p.urgent_waiting.fetch_add(1, Ordering::SeqCst);
        UrgentWaiting(p)
    }
}

impl Drop for UrgentWaiting<'_> {
    fn drop(&mut self) {
        if self.0.urgent_waiting.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.urgent_gone.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex as StdMutex};

    /// Start `n` requests in `lane` at once (each records when it got its turn).
    fn start(
        p: &Arc<Pacer>,
        lane: Lane,
        n: usize,
        log: &Arc<StdMutex<Vec<(Lane, Duration)>>>,
        t0: Instant,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        (0..n)
            .map(|_| {
                let (p, log) = (Arc::clone(p), Arc::clone(log));
                tokio::spawn(async move {
                    p.wait_in(lane).await;
                    log.lock().unwrap().push((lane, t0.elapsed()));
                })
            })
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn urgent_requests_take_the_next_slots_before_waiting_polls() {
        let p = Arc::new(Pacer::per_second(10.0));
        let log = Arc::new(StdMutex::new(Vec::new()));
        let t0 = Instant::now();
        let mut tasks = start(&p, Lane::Normal, 20, &log, t0);
        tokio::time::sleep(Duration::from_millis(250)).await;
        tasks.extend(start(&p, Lane::Urgent, 5, &log, t0));
        for t in tasks {
            t.await.unwrap();
        }
        let log = log.lock().unwrap().clone();
        assert_eq!(log.len(), 25);
        // Polls at 0, 0.1, 0.2; the five cancels next (0.3 .. 0.7), then the polls again.
        let lanes: Vec<Lane> = log.iter().map(|(l, _)| *l).collect();
        assert_eq!(&lanes[..3], &[Lane::Normal; 3], "{log:?}");
        assert_eq!(&lanes[3..8], &[Lane::Urgent; 5], "{log:?}");
        assert!(lanes[8..].iter().all(|l| *l == Lane::Normal), "{log:?}");
        for w in log.windows(2) {
            assert!(w[1].1 - w[0].1 >= Duration::from_millis(100), "{log:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn after_a_pause_no_burst() {
        let p = Pacer::per_second(2.0);
        p.wait_in(Lane::Normal).await;
        tokio::time::sleep(Duration::from_secs(10)).await;
        let t = Instant::now();
        p.wait_in(Lane::Normal).await;
        p.wait_in(Lane::Urgent).await;
        // The second request goes one interval after the first, not at once.
        assert_eq!(t.elapsed(), Duration::from_millis(500));
    }

    #[tokio::test(start_paused = true)]
    async fn an_urgent_request_that_gives_up_lets_the_polls_go_again() {
        let p = Arc::new(Pacer::per_second(1.0));
        p.wait_in(Lane::Normal).await; // next slot at 1 s
        let gave_up = tokio::time::timeout(Duration::from_millis(300), p.wait_in(Lane::Urgent))
            .await
            .is_err();
        assert!(gave_up);
        let t = Instant::now();
        p.wait_in(Lane::Normal).await;
        assert_eq!(t.elapsed(), Duration::from_millis(700));
    }
}
