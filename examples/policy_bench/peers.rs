//! Peers' polling schedules, read from their source, as delay policies: the baselines the
//! benchmark runs side by side with ours. Seeded where they use randomness. Each replays the
//! schedule only: the peers' own deadlines and attempt limits (the AWS CLI's 60 attempts, the
//! Databricks SDK's 20 minutes, gcloud's 30) are left out, as if set long enough.

use dli_wait::wait::policy::{DelayPolicy, Fixed, PolicyInput};
use rand::{Rng, SeedableRng, rngs::StdRng};
use std::time::Duration;

/// AWS SDK waiters as smithy-rs runs them (`rust-runtime/aws-smithy-runtime/src/client/
/// waiters/backoff.rs`, `Backoff::delay`, after the Smithy waiter spec), with the 2 s / 120 s
/// that most waiter models give: every delay is drawn at random, in whole seconds, both ends
/// included. Attempt `n` (1 after the first poll) waits `random(min, min·2^(n−1))` up to the
/// attempt ceiling `⌊ln(max/min)/ln 2 + 1⌋` (6 for 2 s / 120 s), `random(min, max)` past it.
/// The last sleep cut at `max_wait` is left out (no deadline here).
pub struct Smithy {
    attempt: u32,
    rng: StdRng,
}

impl Smithy {
    const MIN: u64 = 2;
    const MAX: u64 = 120;

    pub fn new(seed: u64) -> Self {
        Smithy {
            attempt: 0,
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// `⌊ln(max/min)/ln 2 + 1⌋`, as smithy-rs computes it.
    pub fn attempt_ceiling() -> u32 {
        ((Self::MAX as f64 / Self::MIN as f64).ln() / 2f64.ln() + 1.0) as u32
    }

    /// The upper end of attempt `n`'s draw (the lower end is always `MIN`).
    pub fn upper(attempt: u32) -> u64 {
        if attempt > Self::attempt_ceiling() {
            Self::MAX
        } else {
            Self::MIN * 2u64.pow(attempt.saturating_sub(1))
        }
    }
}

impl DelayPolicy for Smithy {
    fn next_delay(&mut self, _: &PolicyInput<'_>) -> Duration {
        self.attempt += 1;
        let upper = Self::upper(self.attempt);
        Duration::from_secs(self.rng.gen_range(Self::MIN..=upper))
    }
    fn name(&self) -> &'static str {
        "aws-sdk (smithy)"
    }
}

/// A policy under a benchmark label: a fixed interval of a peer, or one of ours with another
/// cap.
pub struct Named(pub Box<dyn DelayPolicy>, pub &'static str);

impl Named {
    /// The same delay every time, under `label`. The AWS CLI (botocore's `Waiter.wait` in
    /// `botocore/waiter.py`: `time.sleep(config.delay)` between attempts) with the delay of
    /// EMR's `StepComplete` waiter, the nearest to a DLI job (`botocore/data/emr/2009-03-31/
    /// waiters-2.json`: 30 s); Huawei's Airflow DLI sensor (`airflow/providers/huawei/cloud/
    /// sensors/dli.py`, which keeps `BaseSensorOperator`'s `poke_interval` of 60 s from
    /// `airflow/sensors/base.py`); Airflow's deferrable BigQuery job trigger
    /// (`providers/google/.../cloud/triggers/bigquery.py`, `BigQueryInsertJobTrigger`,
    /// `poll_interval` 4 s), a deferred SQL job's wait, as Huawei's provider has no trigger.
    pub fn every(delay: Duration, label: &'static str) -> Self {
        Named(Box::new(Fixed(delay)), label)
    }
}

impl DelayPolicy for Named {
    fn next_delay(&mut self, input: &PolicyInput<'_>) -> Duration {
        self.0.next_delay(input)
    }
    fn name(&self) -> &'static str {
        self.1
    }
}

/// Terraform's `StateChangeConf` (terraform-plugin-sdk `helper/retry/state.go`,
/// `WaitForStateContext`) with no `Delay`, `MinTimeout` or `PollInterval`: the first refresh at
/// once, the wait set to 100 ms then doubled before each sleep (so 200 ms first), capped at
/// 10 s.
#[derive(Default)]
pub struct Terraform {
    wait: f64,
}

impl DelayPolicy for Terraform {
    fn next_delay(&mut self, _: &PolicyInput<'_>) -> Duration {
        if self.wait == 0.0 {
            self.wait = 0.1;
        }
        self.wait = (self.wait * 2.0).min(10.0);
        Duration::from_secs_f64(self.wait)
    }
    fn name(&self) -> &'static str {
        "terraform"
    }
}

/// gcloud's `waiter.WaitFor` (`lib/googlecloudsdk/api_lib/util/waiter.py`: `sleep_ms` 2000,
/// multiplier 1.4, `jitter_ms` 1000, `wait_ceiling_ms` 180000) through `Retryer._GetTimeToWait`
/// (`lib/googlecloudsdk/core/util/retry.py`): retrial `n` (from 0) waits `2 s × 1.4ⁿ` plus
/// up to 1 s of jitter, at most 180 s. Its 1 s before the first poll is left out.
pub struct Gcloud {
    n: i32,
    rng: StdRng,
}

impl Gcloud {
    pub fn new(seed: u64) -> Self {
        Gcloud {
            n: 0,
            rng: StdRng::seed_from_u64(seed),
        }
    }
}

impl DelayPolicy for Gcloud {
    fn next_delay(&mut self, _: &PolicyInput<'_>) -> Duration {
        let secs = (2.0 * 1.4f64.powi(self.n.min(64)) + self.rng.gen_range(0.0..1.0)).min(180.0);
        self.n += 1;
        Duration::from_secs_f64(secs)
    }
    fn name(&self) -> &'static str {
        "gcloud"
    }
}

/// The Databricks SDK for Go's waiters (`retries/retries.go`, `backoff`): attempt `n` (from 1)
/// waits `min(n, 10)` seconds plus 50–750 ms of jitter.
pub struct Databricks {
    n: u32,
    rng: StdRng,
}

impl Databricks {
    pub fn new(seed: u64) -> Self {
        Databricks {
            n: 0,
            rng: StdRng::seed_from_u64(seed),
        }
    }
}

impl DelayPolicy for Databricks {
    fn next_delay(&mut self, _: &PolicyInput<'_>) -> Duration {
        self.n += 1;
        let ms = u64::from(self.n.min(10)) * 1000 + self.rng.gen_range(50..=750);
        Duration::from_millis(ms)
    }
    fn name(&self) -> &'static str {
        "databricks"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delays(p: &mut dyn DelayPolicy, n: usize) -> Vec<f64> {
        let input = PolicyInput {
            now: Duration::ZERO,
            snapshot: None,
            fault: None,
            changed: false,
        };
        (0..n).map(|_| p.next_delay(&input).as_secs_f64()).collect()
    }

    #[test]
    fn smithy_draws_every_delay_and_its_ceiling_is_six_attempts() {
        assert_eq!(Smithy::attempt_ceiling(), 6);
        let uppers: Vec<u64> = (1..=8).map(Smithy::upper).collect();
        assert_eq!(uppers, [2, 4, 8, 16, 32, 64, 120, 120]);
        let mut seen_low_past_ceiling = false;
        for seed in 0..50 {
            let d = delays(&mut Smithy::new(seed), 40);
            assert_eq!(d[0], 2.0);
            for (i, x) in d.iter().enumerate() {
                let upper = Smithy::upper(i as u32 + 1) as f64;
                assert!(*x >= 2.0 && *x <= upper && x.fract() == 0.0, "{i}: {x}");
                seen_low_past_ceiling |= i >= 6 && *x < 60.0;
            }
        }
        // Past the ceiling the draw still starts at the minimum: not a flat 120 s.
        assert!(seen_low_past_ceiling);
    }

    #[test]
    fn terraform_doubles_from_200_ms_to_10_s() {
        let d = delays(&mut Terraform::default(), 9);
        assert_eq!(d, [0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 10.0, 10.0, 10.0]);
    }

    #[test]
    fn gcloud_and_databricks_grow_as_their_sources_say() {
        let g = delays(&mut Gcloud::new(1), 30);
        assert!(
            (2.0..3.0).contains(&g[0]) && (2.8..3.8).contains(&g[1]),
            "{g:?}"
        );
        assert_eq!(g[29], 180.0);
        let d = delays(&mut Databricks::new(1), 12);
        assert!(
            (1.05..=1.75).contains(&d[0]) && (10.05..=10.75).contains(&d[11]),
            "{d:?}"
        );
    }
}
