//! Delay policies: how long to wait before the next poll. A policy sees every observation
//! (state, sub-job, task counts, instant), not only the attempt number, so smarter ones can
//! aim at a predicted end. Pure: randomness is a seeded generator, time a value.

use super::snapshot::Snapshot;
use crate::dli::fault::Fault;
use crate::dli::model::JobStatus;
use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};
use rand::{Rng, SeedableRng, rngs::StdRng};
use std::time::Duration;

/// What a policy is told after each poll.
#[derive(Debug, Clone, Copy)]
pub struct PolicyInput<'a> {
    /// Time since the wait started.
    pub now: Duration,
    /// The job as seen by this poll, when the poll succeeded.
    pub snapshot: Option<&'a Snapshot>,
    /// The fault of this poll, when it failed.
    pub fault: Option<&'a Fault>,
    /// The job's state or running sub-job differs from the previous successful poll.
    pub changed: bool,
}

/// Chooses the delay before the next poll. The state machine still caps it by the deadline
/// and lets a server's `Retry-After` win.
pub trait DelayPolicy: Send {
    fn next_delay(&mut self, input: &PolicyInput<'_>) -> Duration;
    fn name(&self) -> &'static str;
}

/// Exponential backoff with jitter: the first delay is `first`, each later one `factor` times
/// longer, capped at `max`; it starts again from `first` whenever the job changes state or
/// sub-job, because a change is when the end is most likely near. Jitter only shortens a
/// delay (by up to `jitter`), so the cap holds and many waiters do not poll in lockstep.
pub struct Exponential {
    builder: ExponentialBuilder,
    schedule: ExponentialBackoff,
    max: Duration,
    jitter: f64,
    rng: StdRng,
}

impl Exponential {
    pub fn new(first: Duration, max: Duration) -> Self {
        Self::with_seed(first, max, rand::random())
    }

    /// A reproducible policy (tests, benchmarks).
    pub fn with_seed(first: Duration, max: Duration, seed: u64) -> Self {
        let max = max.max(first);
        let builder = ExponentialBuilder::default()
            .with_min_delay(first)
            .with_max_delay(max)
            .with_factor(2.0)
            .without_max_times();
        Exponential {
            schedule: builder.build(),
            builder,
            max,
            jitter: 0.2,
            rng: StdRng::seed_from_u64(seed),
        }
    }
}

impl DelayPolicy for Exponential {
    fn next_delay(&mut self, input: &PolicyInput<'_>) -> Duration {
        if input.changed {
            self.schedule = self.builder.build();
        }
        let base = self.schedule.next().unwrap_or(self.max).min(self.max);
        let shrink = 1.0 - self.jitter * self.rng.r#gen::<f64>();
        base.mul_f64(shrink)
    }

    fn name(&self) -> &'static str {
        "exponential"
    }
}

/// The same delay every time (the AWS CLI's and Airflow's way); a baseline and a test aid.
pub struct Fixed(pub Duration);

impl DelayPolicy for Fixed {
    fn next_delay(&mut self, _: &PolicyInput<'_>) -> Duration {
        self.0
    }

    fn name(&self) -> &'static str {
        "fixed"
    }
}

/// Aims polls at the predicted end of the running sub-job. Within a sub-job it estimates the
/// task rate from what it has seen and, far from the end, waits a fraction of the remaining
/// time; near it, it polls just past the end. When the job could end at any moment (between
/// sub-jobs, in the commit tail, or after a change) it polls short and grows slowly, capped
/// at `tail_cap`; without an estimate (LAUNCHING, no movement, faults) it backs off
/// exponentially. Every delay is capped at `max`; the machine still lets `Retry-After` win
/// and cuts the last sleep at the deadline.
pub struct Eta {
    first: Duration,
    max: Duration,
    tail_cap: Duration,
    /// Polls since the last change without a usable estimate: drives the back-off.
    idle: u32,
    /// The back-off schedule in use, with the parameters it was built for.
    schedule: Option<((Duration, u32, Duration), ExponentialBackoff)>,
    seg: Option<Segment>,
    rng: StdRng,
}

/// What was seen of the running sub-job: when its counts were first seen, and the last two
/// times they moved.
struct Segment {
    sub_job: i64,
    total: i64,
    first: (f64, i64),
    prev: (f64, i64),
    last: (f64, i64),
}

/// Far from the predicted end, wait this fraction of the remaining time.
const ETA_FRACTION: f64 = 0.6;
/// Poll this long after the predicted end, so the poll sees it.
const ETA_PAST: f64 = 0.5;
/// Below this much remaining time, aim straight at the end.
const ETA_NEAR: f64 = 5.0;

impl Eta {
    pub fn new(first: Duration, max: Duration) -> Self {
        Self::with_seed(first, max, rand::random())
    }

    pub fn with_seed(first: Duration, max: Duration, seed: u64) -> Self {
        let max = max.max(first);
        Eta {
            first,
            max,
            tail_cap: Duration::from_secs(3).clamp(first, max),
            idle: 0,
            schedule: None,
            seg: None,
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// The next step of a `base × factor^n` schedule capped at `cap` (backon's), `n` counting
    /// the polls since the last change; a new schedule picks up at the same step.
    fn back_off(&mut self, base: Duration, factor: f32, cap: Duration) -> Duration {
        let key = (base, factor.to_bits(), cap);
        if self.schedule.as_ref().is_none_or(|(k, _)| *k != key) {
            let mut steps = ExponentialBuilder::default()
                .with_min_delay(base)
                .with_max_delay(cap)
                .with_factor(factor)
                .without_max_times()
                .build();
            for _ in 0..self.idle.min(64) {
                steps.next();
            }
            self.schedule = Some((key, steps));
        }
        self.idle += 1;
        self.schedule
            .as_mut()
            .and_then(|(_, steps)| steps.next())
            .unwrap_or(cap)
            .min(cap)
    }

    /// Something changed: back-offs start from their first step again.
    fn restart(&mut self) {
        self.idle = 0;
        self.schedule = None;
    }

    /// The sub-job's remaining time at the latest rate (the last two movements), which
    /// follows stragglers as they slow down; the overall rate until there are two.
    fn remaining(&self) -> Option<f64> {
        let g = self.seg.as_ref()?;
        let left = (g.total - g.last.1) as f64;
        if left <= 0.0 {
            return Some(0.0);
        }
        let rate = |a: (f64, i64), b: (f64, i64)| {
            let (dt, dn) = (b.0 - a.0, (b.1 - a.1) as f64);
            (dt > 0.0 && dn > 0.0).then(|| dn / dt)
        };
        let r = rate(g.prev, g.last).or_else(|| rate(g.first, g.last))?;
        Some(left / r)
    }
}

impl DelayPolicy for Eta {
    fn next_delay(&mut self, input: &PolicyInput<'_>) -> Duration {
        if input.changed {
            self.restart();
        }
        let Some(snap) = input.snapshot else {
            // A fault: no news, back off as usual.
            return self.back_off(self.first, 2.0, self.max);
        };
        let now = input.now.as_secs_f64();
        let running = snap.status == JobStatus::Running;
        let sub = snap.sub_job_id.and_then(|id| {
            snap.sub_jobs
                .iter()
                .find(|s| s.id == Some(id))
                .map(|s| (id, s))
        });
        let delay = match sub {
            Some((id, s)) if running && s.num_tasks > 0 => {
                let done = s.num_completed_tasks + s.num_skipped_tasks;
                match &mut self.seg {
                    Some(g) if g.sub_job == id && g.total == s.num_tasks && done >= g.last.1 => {
                        if done > g.last.1 {
                            g.prev = g.last;
                            g.last = (now, done);
                        }
                    }
                    _ => {
                        self.seg = Some(Segment {
                            sub_job: id,
                            total: s.num_tasks,
                            first: (now, done),
                            prev: (now, done),
                            last: (now, done),
                        });
                    }
                }
                match self.remaining() {
                    // Counts have not moved yet (or one long task): no estimate.
                    None => self.back_off(self.first, 1.5, self.max),
                    Some(left) => {
                        // Time since the last movement already counts against the estimate.
                        let since = self.seg.as_ref().map_or(0.0, |g| now - g.last.0);
                        if since > left + ETA_PAST {
                            // Overdue: stragglers or a long last task. The estimate was
                            // wrong, so back off until the counts move again.
                            return self.back_off(self.first, 1.5, self.max).min(self.max);
                        }
                        let left = (left - since).max(0.0);
                        self.restart();
                        let secs = if left > ETA_NEAR {
                            let shrink = 1.0 - 0.1 * self.rng.r#gen::<f64>();
                            left * ETA_FRACTION * shrink
                        } else {
                            left + ETA_PAST
                        };
                        Duration::try_from_secs_f64(secs.max(0.2)).unwrap_or(self.max)
                    }
                }
            }
            // Between sub-jobs or in the commit tail the job may end any moment.
            _ if running => {
                self.seg = None;
                self.back_off(self.first / 2, 1.3, self.tail_cap)
            }
            // LAUNCHING, SCALING, unknown: nothing to aim at.
            _ => {
                self.seg = None;
                self.back_off(self.first, 2.0, self.max)
            }
        };
        delay.min(self.max)
    }

    fn name(&self) -> &'static str {
        "eta"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(now: u64, changed: bool) -> PolicyInput<'static> {
        PolicyInput {
            now: Duration::from_secs(now),
            snapshot: None,
            fault: None,
            changed,
        }
    }

    #[test]
    fn grows_from_first_to_cap_with_downward_jitter() {
        let mut p = Exponential::with_seed(Duration::from_secs(2), Duration::from_secs(30), 7);
        let delays: Vec<f64> = (0..8)
            .map(|i| p.next_delay(&input(i, false)).as_secs_f64())
            .collect();
        let nominal = [2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0, 30.0];
        for (d, n) in delays.iter().zip(nominal) {
            assert!(*d <= n && *d >= n * 0.8, "{delays:?}");
        }
    }

    #[test]
    fn a_change_restarts_the_schedule() {
        let mut p = Exponential::with_seed(Duration::from_secs(1), Duration::from_secs(60), 1);
        for i in 0..5 {
            p.next_delay(&input(i, false));
        }
        let after_change = p.next_delay(&input(6, true));
        assert!(after_change <= Duration::from_secs(1));
    }

    fn running(sub: i64, done: i64, total: i64) -> Snapshot {
        Snapshot::from(crate::dli::model::JobProgress {
            status: JobStatus::Running,
            sub_job_id: Some(sub),
            sub_jobs: vec![crate::dli::model::SubJob {
                id: Some(sub),
                num_tasks: total,
                num_completed_tasks: done,
                ..Default::default()
            }],
            ..Default::default()
        })
    }

    fn eta_delay(p: &mut Eta, now: u64, snap: &Snapshot, changed: bool) -> f64 {
        p.next_delay(&PolicyInput {
            now: Duration::from_secs(now),
            snapshot: Some(snap),
            fault: None,
            changed,
        })
        .as_secs_f64()
    }

    #[test]
    fn eta_waits_a_fraction_far_away_and_aims_just_past_the_end_near_it() {
        let mut p = Eta::with_seed(Duration::from_secs(2), Duration::from_secs(600), 3);
        eta_delay(&mut p, 0, &running(0, 0, 1000), true);
        // 100 tasks in 100 s: 900 s left. Far away: about 60 % of it, never past it.
        let d = eta_delay(&mut p, 100, &running(0, 100, 1000), false);
        assert!((480.0..=540.0).contains(&d), "{d}");
        // 996 done at 1 task/s: 4 s left, so the next poll lands just after the end.
        let d = eta_delay(&mut p, 996, &running(0, 996, 1000), false);
        assert!((4.0..=5.0).contains(&d), "{d}");
    }

    #[test]
    fn eta_is_capped_and_backs_off_when_overdue() {
        let mut p = Eta::with_seed(Duration::from_secs(2), Duration::from_secs(60), 3);
        eta_delay(&mut p, 0, &running(0, 0, 1000), true);
        assert_eq!(eta_delay(&mut p, 10, &running(0, 1, 1000), false), 60.0);
        // Predicted to end long ago, yet the counts have not moved: no more tight polling.
        let mut p = Eta::with_seed(Duration::from_secs(2), Duration::from_secs(60), 3);
        eta_delay(&mut p, 0, &running(0, 0, 10), true);
        eta_delay(&mut p, 9, &running(0, 9, 10), false);
        let a = eta_delay(&mut p, 30, &running(0, 9, 10), false);
        let b = eta_delay(&mut p, 40, &running(0, 9, 10), false);
        assert!(a >= 2.0 && b > a, "{a} {b}");
    }

    #[test]
    fn eta_polls_densely_when_the_job_may_end_any_moment() {
        let mut p = Eta::with_seed(Duration::from_secs(2), Duration::from_secs(120), 3);
        let tail = Snapshot::from(crate::dli::model::JobProgress {
            status: JobStatus::Running,
            ..Default::default()
        });
        let mut last = 0.0;
        for t in 0..20 {
            last = eta_delay(&mut p, t, &tail, t == 0);
            assert!(last <= 3.0, "{last}");
        }
        assert!(last >= 1.0);
    }
}
