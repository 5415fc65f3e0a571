//! Delay policies: how long to wait before the next poll. A policy sees every observation
//! (state, sub-job, task counts, instant), not only the attempt number, so smarter ones can
//! aim at a predicted end. Pure: randomness is a seeded generator, time a value.

use super::snapshot::Snapshot;
use crate::dli::fault::Fault;
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
}
