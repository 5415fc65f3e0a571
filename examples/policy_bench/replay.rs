//! Replays one timeline through the real state machine on a virtual clock, and sums up many.

use dli_wait::sim::scenario::JobSpec;
use dli_wait::wait::machine::{Decision, Machine, Observation, WaitConfig};
use dli_wait::wait::policy::DelayPolicy;
use dli_wait::wait::snapshot::Snapshot;
use std::time::Duration;

/// One job's replay: how many calls, and how late its end was seen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Run {
    pub calls: u32,
    /// Seconds from the job's end to the poll that saw it.
    pub lag: f64,
    pub failed: bool,
}

/// Replay `job` from its creation until the machine ends the wait.
pub fn replay(job: &JobSpec, policy: Box<dyn DelayPolicy>) -> Option<Run> {
    replay_polls(job, policy, &mut |_| {})
}

/// [`replay`], telling `poll` the job time of each poll.
pub fn replay_polls(
    job: &JobSpec,
    policy: Box<dyn DelayPolicy>,
    poll: &mut dyn FnMut(f64),
) -> Option<Run> {
    let end = job.length()?;
    let mut m = Machine::new(WaitConfig::default(), policy);
    let mut decision = m.start();
    let mut t = 0.0_f64;
    let id = job.id.clone().unwrap_or_default();
    loop {
        match decision {
            Decision::Poll { after, .. } => {
                t += after.as_secs_f64();
                poll(t);
                let snap = Snapshot::from(job.at(t, &id).into_progress(None));
                decision = m.observe(Observation::Snapshot(snap), Duration::from_secs_f64(t));
            }
            Decision::End { .. } => {
                return Some(Run {
                    calls: m.polls(),
                    lag: t - end,
                    failed: job.fails_at.is_some_and(|f| f.get() <= end + 1e-9),
                });
            }
        }
        if m.polls() > 1_000_000 {
            return None;
        }
    }
}

/// Calls and lag over a corpus.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    pub policy: String,
    pub jobs: usize,
    pub calls_mean: f64,
    pub calls_median: f64,
    pub lag_p50: f64,
    pub lag_p95: f64,
    /// p95 lag over the jobs that finished (failures mid-way excluded).
    pub lag_p95_finished: f64,
    /// p95 lag over the jobs that failed mid-way.
    pub lag_p95_failed: f64,
    pub lag_max: f64,
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// Replay every job with a fresh policy from `make(job_index)`.
pub fn run_corpus(corpus: &[JobSpec], mut make: impl FnMut(u64) -> Box<dyn DelayPolicy>) -> Stats {
    let mut name = String::new();
    let runs: Vec<Run> = corpus
        .iter()
        .enumerate()
        .filter_map(|(i, job)| {
            let p = make(i as u64);
            name = p.name().to_string();
            replay(job, p)
        })
        .collect();
    let mut calls: Vec<f64> = runs.iter().map(|r| f64::from(r.calls)).collect();
    let mut lags: Vec<f64> = runs.iter().map(|r| r.lag).collect();
    let mut lags_ok: Vec<f64> = runs.iter().filter(|r| !r.failed).map(|r| r.lag).collect();
    let mut lags_failed: Vec<f64> = runs.iter().filter(|r| r.failed).map(|r| r.lag).collect();
    lags_failed.sort_by(f64::total_cmp);
    calls.sort_by(f64::total_cmp);
    lags.sort_by(f64::total_cmp);
    lags_ok.sort_by(f64::total_cmp);
    Stats {
        policy: name,
        jobs: runs.len(),
        calls_mean: calls.iter().sum::<f64>() / calls.len().max(1) as f64,
        calls_median: quantile(&calls, 0.5),
        lag_p50: quantile(&lags, 0.5),
        lag_p95: quantile(&lags, 0.95),
        lag_p95_finished: quantile(&lags_ok, 0.95),
        lag_p95_failed: quantile(&lags_failed, 0.95),
        lag_max: lags.last().copied().unwrap_or(f64::NAN),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::{CorpusSpec, generate};
    use crate::peers::Named;
    use dli_wait::wait::policy::Eta;

    #[test]
    fn a_fixed_schedule_sees_every_end_within_one_interval() {
        let corpus = generate(&CorpusSpec {
            jobs: 200,
            ..CorpusSpec::default()
        });
        let s = run_corpus(&corpus, |_| {
            Box::new(Named::every(Duration::from_secs(10), "every 10s"))
        });
        assert_eq!(s.jobs, 200);
        assert!(s.lag_max <= 10.0 + 1e-6 && s.lag_p50 >= 0.0, "{s:?}");
    }

    #[test]
    fn eta_replays_every_job_to_its_end() {
        let corpus = generate(&CorpusSpec {
            jobs: 200,
            ..CorpusSpec::default()
        });
        let s = run_corpus(&corpus, |seed| {
            Box::new(Eta::with_seed(
                Duration::from_secs(2),
                Duration::from_secs(120),
                seed,
            ))
        });
        assert_eq!(s.jobs, 200);
        // Every end is seen, never before it happens, and never later than the cap allows.
        assert!(s.lag_p50 >= 0.0 && s.lag_max <= 120.0 + 1e-6, "{s:?}");
    }
}
