//! A seeded, documented generator of DLI-like job timelines, written as scenario `JobSpec`s
//! so any of them can be replayed for real against `dli-wait simulate`.
//!
//! Each timeline: total length log-uniform in 10 s–6 h; LAUNCHING 2–60 s; 1–4 sub-jobs with
//! gaps of 0.2–3 s between them and a commit tail of 0.5–15 s after the last; tasks per
//! sub-job log-uniform 1–5000 with 1–6 stages; a quarter have stragglers (the last 1–3 % of
//! tasks take 10–60 % longer again); 5 % fail mid-way at a uniformly random moment.

use dli_wait::sim::scenario::{End, JobSpec, Span, Stragglers, SubJobSpec};
use rand::{Rng, SeedableRng, rngs::StdRng};
use std::time::Duration;

/// Knobs of the generator (defaults as documented above).
#[derive(Debug, Clone)]
pub struct CorpusSpec {
    pub jobs: usize,
    pub seed: u64,
    pub straggler_share: f64,
    pub failure_share: f64,
    /// Share of sub-jobs whose tasks finish in waves of `parallelism` (0 by default: the
    /// documented corpus is steady; the benchmark's `--waves` checks the other shape).
    pub wave_share: f64,
}

impl Default for CorpusSpec {
    fn default() -> Self {
        CorpusSpec {
            jobs: 2000,
            seed: 1,
            straggler_share: 0.25,
            failure_share: 0.05,
            wave_share: 0.0,
        }
    }
}

fn span(secs: f64) -> Span {
    Span(Some(Duration::from_secs_f64(secs.max(0.0))))
}

fn log_uniform(rng: &mut StdRng, lo: f64, hi: f64) -> f64 {
    (rng.gen_range(lo.ln()..hi.ln())).exp()
}

/// Generate the corpus: the same spec always gives the same timelines.
pub fn generate(spec: &CorpusSpec) -> Vec<JobSpec> {
    let mut rng = StdRng::seed_from_u64(spec.seed);
    (0..spec.jobs).map(|i| one(&mut rng, spec, i)).collect()
}

fn one(rng: &mut StdRng, spec: &CorpusSpec, i: usize) -> JobSpec {
    let total = log_uniform(rng, 10.0, 6.0 * 3600.0);
    let launching = rng.gen_range(2.0..60.0_f64).min(total * 0.5);
    let n = rng.gen_range(1..=4usize);
    let gaps: Vec<f64> = (0..n)
        .map(|k| if k == 0 { 0.0 } else { rng.gen_range(0.2..3.0) })
        .collect();
    let commit = rng.gen_range(0.5..15.0_f64);
    let fixed = launching + gaps.iter().sum::<f64>() + commit;
    let running = (total - fixed).max(n as f64);
    let weights: Vec<f64> = (0..n).map(|_| rng.gen_range(0.2..1.0)).collect();
    let wsum: f64 = weights.iter().sum();
    let sub_jobs = (0..n)
        .map(|k| {
            let share = running * weights[k] / wsum;
            let tasks = log_uniform(rng, 1.0, 5000.0).round().max(1.0) as i64;
            let stragglers =
                (rng.r#gen::<f64>() < spec.straggler_share && tasks >= 20).then(|| {
                    let slow = ((tasks as f64) * rng.gen_range(0.01..0.03)).ceil() as i64;
                    let extra = rng.gen_range(0.1..0.6);
                    (slow, extra)
                });
            // Drawn only when asked for, so that the default corpus stays as it was.
            let waves = spec.wave_share > 0.0 && rng.r#gen::<f64>() < spec.wave_share;
            // The stragglers' extra time comes out of the sub-job's share.
            let (duration, stragglers) = match stragglers {
                Some((slow, extra)) => {
                    let main = share / (1.0 + extra);
                    (
                        main,
                        Some(Stragglers {
                            tasks: slow,
                            extra: span(share - main),
                        }),
                    )
                }
                None => (share, None),
            };
            SubJobSpec {
                gap: span(gaps[k]),
                tasks,
                stages: rng.gen_range(1..=6),
                duration: span(duration),
                parallelism: rng.gen_range(4..=64),
                stragglers,
                stall_at: None,
                waves,
            }
        })
        .collect();
    let fails_at =
        (rng.r#gen::<f64>() < spec.failure_share).then(|| span(rng.gen_range(launching..total)));
    JobSpec {
        id: Some(format!("bench-{i:05}")),
        name: None,
        launching: span(launching),
        sub_jobs,
        commit: span(commit),
        end: if fails_at.is_some() {
            End::Failed {
                message: "DLI.0999: SparkException: Job aborted".into(),
                detail: None,
            }
        } else {
            End::Finished
        },
        fails_at,
        ..JobSpec::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_corpus_is_reproducible_and_within_its_documented_ranges() {
        let spec = CorpusSpec {
            jobs: 300,
            ..CorpusSpec::default()
        };
        let a = generate(&spec);
        let b = generate(&spec);
        assert_eq!(a.len(), 300);
        let mut failures = 0;
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.length(), y.length());
            let len = x.length().unwrap();
            assert!(
                x.fails_at.is_some() || (9.0..=6.0 * 3600.0 + 1.0).contains(&len),
                "{len}"
            );
            assert!((1..=4).contains(&x.sub_jobs.len()));
            failures += usize::from(x.fails_at.is_some());
        }
        assert!(failures > 0 && failures < 60, "{failures}");
    }
}
