//! Peers' polling schedules, from their published behaviour, as delay policies: the baselines
//! the benchmark runs side by side with ours. Seeded where they use randomness.

use dli_wait::wait::policy::{DelayPolicy, Fixed, PolicyInput};
use rand::{Rng, SeedableRng, rngs::StdRng};
use std::time::Duration;

/// AWS SDK waiters (Smithy): min 2 s, max 120 s, full jitter between the minimum and an
/// exponentially growing ceiling; the maximum once the ceiling passes it.
pub struct Smithy {
    attempt: u32,
    rng: StdRng,
}

impl Smithy {
    pub fn new(seed: u64) -> Self {
        Smithy {
            attempt: 0,
            rng: StdRng::seed_from_u64(seed),
        }
    }
}

impl DelayPolicy for Smithy {
    fn next_delay(&mut self, _: &PolicyInput<'_>) -> Duration {
        let (min, max) = (2.0_f64, 120.0_f64);
        self.attempt += 1;
        let ceiling_attempts = (max / min).log2().ceil() as u32 + 1;
        let secs = if self.attempt > ceiling_attempts {
            max
        } else {
            let upper = (min * 2f64.powi(self.attempt as i32 - 1)).min(max);
            if upper <= min {
                min
            } else {
                self.rng.gen_range(min..=upper)
            }
        };
        Duration::from_secs_f64(secs)
    }
    fn name(&self) -> &'static str {
        "aws-sdk (smithy)"
    }
}

/// A policy under a benchmark label: the AWS CLI (`Fixed` 15 s), Huawei's Airflow sensor
/// (60 s) and its deferred trigger (10 s), or one of ours with another cap.
pub struct Named(pub Box<dyn DelayPolicy>, pub &'static str);

impl Named {
    /// The same delay every time, under `label`.
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

/// Terraform's state-change waiter: 100 ms doubling to 10 s.
#[derive(Default)]
pub struct Terraform {
    next: f64,
}

impl DelayPolicy for Terraform {
    fn next_delay(&mut self, _: &PolicyInput<'_>) -> Duration {
        self.next = if self.next == 0.0 {
            0.1
        } else {
            (self.next * 2.0).min(10.0)
        };
        Duration::from_secs_f64(self.next)
    }
    fn name(&self) -> &'static str {
        "terraform"
    }
}

/// gcloud: 2 s × 1.4ⁿ plus up to 1 s of jitter, capped at 180 s.
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
        let secs = (2.0 * 1.4f64.powi(self.n) + self.rng.gen_range(0.0..1.0)).min(180.0);
        self.n += 1;
        Duration::from_secs_f64(secs)
    }
    fn name(&self) -> &'static str {
        "gcloud"
    }
}

/// The Databricks SDK: linear, one more second per attempt up to 10 s, plus 50–750 ms.
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
        let secs = f64::from(self.n.min(10)) + self.rng.gen_range(0.05..0.75);
        Duration::from_secs_f64(secs)
    }
    fn name(&self) -> &'static str {
        "databricks"
    }
}
