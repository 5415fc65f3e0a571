//! A seeded, documented generator of DLI-like job timelines, written as scenario `JobSpec`s
//! so any of them can be replayed for real against `dli-wait simulate`.
//!
//! The steady corpus: total length log-uniform in 10 s–6 h; LAUNCHING 2–60 s; 1–4 sub-jobs
//! with gaps of 0.2–3 s between them and a commit tail of 0.5–15 s after the last; tasks per
//! sub-job log-uniform 1–5000 with 1–6 stages and 4–64 running at once; a quarter have
//! stragglers (the last 1–3 % of tasks take 10–60 % longer again); 5 % fail mid-way at a
//! uniformly random moment.
//!
//! The mixed corpus (`--mix`, [`Mix`]) adds the shapes of real Spark work whose progress says
//! nothing about the end: each sub-job is, with the documented shares, one wave (no more tasks
//! than run at once: the count sits at 0, then all finish together), a crawler (one skewed
//! task runs 0.5–10 times as long again as all the others took), or a flat start (no task
//! reports in the first 20–80 % of the sub-job); and a share of jobs run a one-task sub-job
//! (a broadcast, a planning step) of 0.5–60 s before their main work. The rest, the lengths
//! and the failures are as in the steady corpus.

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
    /// The shapes of the mixed corpus; `None` for the steady one.
    pub mix: Option<Mix>,
}

/// Shares of the mixed corpus's shapes: of sub-jobs for the first three (one at most each),
/// of jobs for the prelude.
#[derive(Debug, Clone, Copy)]
pub struct Mix {
    /// No more tasks than run at once: nothing, then everything.
    pub one_wave: f64,
    /// One task crawls on long after all the others.
    pub crawler: f64,
    /// No task reports for a long first part of the sub-job.
    pub flat_start: f64,
    /// A one-task sub-job before the main work.
    pub prelude: f64,
}

impl Default for Mix {
    fn default() -> Self {
        Mix {
            one_wave: 0.25,
            crawler: 0.15,
            flat_start: 0.2,
            prelude: 0.3,
        }
    }
}

/// What a sub-job of the mixed corpus is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Shape {
    Steady,
    OneWave,
    Crawler,
    FlatStart,
}

impl Default for CorpusSpec {
    fn default() -> Self {
        CorpusSpec {
            jobs: 2000,
            seed: 1,
            straggler_share: 0.25,
            failure_share: 0.05,
            wave_share: 0.0,
            mix: None,
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
    // The mixed corpus's own draws come from a second generator, so that the first one runs
    // as for the steady corpus: the same jobs (lengths, sub-jobs, failures), reshaped.
    let mut mix_rng = StdRng::seed_from_u64(spec.seed ^ 0x6d69_7865_6400);
    (0..spec.jobs)
        .map(|i| one(&mut rng, &mut mix_rng, spec, i))
        .collect()
}

fn one(rng: &mut StdRng, mix_rng: &mut StdRng, spec: &CorpusSpec, i: usize) -> JobSpec {
    let total = log_uniform(rng, 10.0, 6.0 * 3600.0);
    let launching = rng.gen_range(2.0..60.0_f64).min(total * 0.5);
    let n = rng.gen_range(1..=4usize);
    let gaps: Vec<f64> = (0..n)
        .map(|k| if k == 0 { 0.0 } else { rng.gen_range(0.2..3.0) })
        .collect();
    let commit = rng.gen_range(0.5..15.0_f64);
    let fixed = launching + gaps.iter().sum::<f64>() + commit;
    let mut running = (total - fixed).max(n as f64);
    let weights: Vec<f64> = (0..n).map(|_| rng.gen_range(0.2..1.0)).collect();
    let wsum: f64 = weights.iter().sum();
    let mix = spec.mix.map(|m| {
        let shapes: Vec<Shape> = (0..n)
            .map(|_| {
                let u = mix_rng.r#gen::<f64>();
                if u < m.one_wave {
                    Shape::OneWave
                } else if u < m.one_wave + m.crawler {
                    Shape::Crawler
                } else if u < m.one_wave + m.crawler + m.flat_start {
                    Shape::FlatStart
                } else {
                    Shape::Steady
                }
            })
            .collect();
        let prelude = (mix_rng.r#gen::<f64>() < m.prelude).then(|| {
            (
                log_uniform(mix_rng, 0.5, 60.0).min(running * 0.3),
                mix_rng.gen_range(0.2..3.0),
            )
        });
        (shapes, prelude)
    });
    let mut sub_jobs = Vec::new();
    if let Some((_, Some((secs, gap)))) = &mix {
        // Its time (and the gap after it) comes out of the main work's.
        running = (running - secs - gap).max(n as f64);
        sub_jobs.push(SubJobSpec {
            gap: span(0.0),
            tasks: 1,
            stages: 1,
            duration: span(*secs),
            parallelism: 1,
            stragglers: None,
            stall_at: None,
            waves: false,
            flat_start: None,
        });
    }
    for k in 0..n {
        let share = running * weights[k] / wsum;
        let mut tasks = log_uniform(rng, 1.0, 5000.0).round().max(1.0) as i64;
        let mut stragglers =
            (rng.r#gen::<f64>() < spec.straggler_share && tasks >= 20).then(|| {
                let slow = ((tasks as f64) * rng.gen_range(0.01..0.03)).ceil() as i64;
                let extra = rng.gen_range(0.1..0.6);
                (slow, extra)
            });
        // Drawn only when asked for, so that the default corpus stays as it was.
        let mut waves = spec.wave_share > 0.0 && rng.r#gen::<f64>() < spec.wave_share;
        let stages = rng.gen_range(1..=6);
        let parallelism = rng.gen_range(4..=64);
        let mut flat_start = None;
        // After a prelude, the first sub-job waits a gap like any other.
        let gap = match (k, &mix) {
            (0, Some((_, Some((_, gap))))) => *gap,
            _ => gaps[k],
        };
        match mix.as_ref().map_or(Shape::Steady, |(shapes, _)| shapes[k]) {
            Shape::Steady => {}
            Shape::OneWave => {
                tasks = mix_rng.gen_range(1..=parallelism);
                waves = true;
                stragglers = None;
            }
            Shape::Crawler => {
                tasks = tasks.max(2);
                stragglers = Some((1, log_uniform(mix_rng, 0.5, 10.0)));
            }
            Shape::FlatStart => {
                flat_start = Some(mix_rng.gen_range(0.2..0.8));
            }
        }
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
        sub_jobs.push(SubJobSpec {
            gap: span(gap),
            tasks,
            stages,
            duration: span(duration),
            parallelism,
            stragglers,
            stall_at: None,
            waves,
            flat_start: flat_start.map(|f| span(duration * f)),
        });
    }
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

/// The repeated-jobs corpus (`--repeated`): jobs that pipelines run again and again (a
/// nightly `INSERT`, a batch on every merge), each with the durations of its earlier
/// FINISHED runs, as DLI's job lists would return them, newest first.
///
/// The model (`Repeat`): a job's base length and shape are a mixed-corpus job's. Run `k` of
/// it (k = 0 today, 1, 2, … back in time) takes `base × volume(k) × weekday(k) × noise × slow`:
/// - `volume`: the data grows by `growth` per run (0–1 % a run, drawn per job), so older
///   runs were shorter;
/// - `weekday`: a third of the jobs have a weekly pattern: one day in seven (the first run
///   after a weekend) reads 1.2–1.6× the data, two days in seven 0.6–0.9×;
/// - `noise`: log-normal, σ drawn per job from 2–10 %: a spread proportional to the length,
///   so it grows with the data;
/// - `slow`: 3 % of runs are much longer, 1.5–3× (a cold cache, a contended queue).
///
/// Today's run is the mixed-corpus job with its whole timeline stretched to its drawn length
/// (and its failure, if it has one, at the same share of the way). Of the earlier runs, as
/// many as 3–30 (drawn per job) are listed; 5 % of them failed and are not listed.
///
/// The source of the shape: recurring jobs are most of the work of production data clusters
/// and their run-to-run variation is small next to the spread across jobs, driven by input
/// size and day-of-week patterns (Microsoft's Morpheus, OSDI 2016; Jockey, EuroSys 2012).
/// The parameters above are our assumption, not taken from those papers.
pub struct Repeated {
    pub job: JobSpec,
    /// Earlier FINISHED runs' durations, newest first, in seconds.
    pub past: Vec<f64>,
}

/// Knobs of [`repeated`].
#[derive(Debug, Clone, Copy)]
pub struct Repeat {
    pub weekly_share: f64,
    pub slow_share: f64,
    pub noise: (f64, f64),
    pub runs: (usize, usize),
}

impl Default for Repeat {
    fn default() -> Self {
        Repeat {
            weekly_share: 1.0 / 3.0,
            slow_share: 0.03,
            noise: (0.02, 0.10),
            runs: (3, 30),
        }
    }
}

/// The repeated-jobs corpus: the mixed corpus's jobs, each with its past (see [`Repeated`]).
pub fn repeated(spec: &CorpusSpec, r: Repeat) -> Vec<Repeated> {
    let base = generate(&CorpusSpec {
        mix: Some(spec.mix.unwrap_or_default()),
        ..spec.clone()
    });
    let mut rng = StdRng::seed_from_u64(spec.seed ^ 0x7265_7065_6174);
    base.into_iter()
        .map(|job| {
            let growth: f64 = rng.gen_range(0.0..0.01);
            let sigma = rng.gen_range(r.noise.0..r.noise.1);
            let weekly = rng.r#gen::<f64>() < r.weekly_share;
            let heavy = rng.gen_range(1.2..1.6);
            let light = rng.gen_range(0.6..0.9);
            let today_day = rng.gen_range(0..7usize);
            let factor = |k: usize, rng: &mut StdRng| {
                let volume = (1.0 + growth).powi(-(k as i32));
                let day = (today_day + 7 - k % 7) % 7;
                let weekday = match (weekly, day) {
                    (true, 0) => heavy,
                    (true, 5 | 6) => light,
                    _ => 1.0,
                };
                // Box-Muller: a standard normal draw.
                let (u1, u2): (f64, f64) = (rng.gen_range(1e-12..1.0), rng.r#gen());
                let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
                let slow = if rng.r#gen::<f64>() < r.slow_share {
                    rng.gen_range(1.5..3.0)
                } else {
                    1.0
                };
                volume * weekday * (sigma * z).exp() * slow
            };
            let len = job.length().unwrap_or(1.0);
            let today = factor(0, &mut rng);
            let n = rng.gen_range(r.runs.0..=r.runs.1);
            let past = (1..=n)
                .filter_map(|k| {
                    let f = factor(k, &mut rng);
                    (rng.r#gen::<f64>() >= 0.05).then_some(len * f)
                })
                .collect();
            Repeated {
                job: stretch(job, today),
                past,
            }
        })
        .collect()
}

/// `job` with its whole timeline `f` times as long.
fn stretch(mut job: JobSpec, f: f64) -> JobSpec {
    let s = |x: &mut Span| *x = span(x.get() * f);
    s(&mut job.launching);
    s(&mut job.commit);
    for j in &mut job.sub_jobs {
        s(&mut j.gap);
        s(&mut j.duration);
        if let Some(st) = &mut j.stragglers {
            s(&mut st.extra);
        }
        if let Some(fl) = &mut j.flat_start {
            s(fl);
        }
    }
    if let Some(fa) = &mut job.fails_at {
        s(fa);
    }
    job
}

/// How a job ends, for the benchmark's `--late` breakdown: failing mid-way, or the shape of
/// the sub-job whose end decides when the job can end.
pub fn ending(job: &JobSpec) -> &'static str {
    let failed = job
        .fails_at
        .is_some_and(|f| job.length().is_some_and(|l| f.get() <= l + 1e-9));
    if failed {
        return "fails mid-way";
    }
    let Some(last) = job.sub_jobs.last() else {
        return "no sub-job";
    };
    let straggler = last.stragglers.as_ref().map(|s| s.tasks);
    if last.tasks == 1 {
        "a single task"
    } else if last.waves && last.tasks <= last.parallelism {
        "one wave"
    } else if straggler == Some(1) {
        "one crawling task"
    } else if last.flat_start.is_some() {
        "flat start"
    } else if straggler.is_some() {
        "stragglers"
    } else if last.waves {
        "waves"
    } else {
        "steady"
    }
}

/// What the job was doing at job time `t`, for the benchmark's `--where` breakdown of calls:
/// launching, between sub-jobs or in the commit tail, or in a sub-job (its shape, whether it
/// is the last, and whether a task has reported yet); "ended" once it has.
pub fn phase_at(job: &JobSpec, t: f64) -> String {
    if job.length().is_some_and(|l| t >= l) {
        return "ended".into();
    }
    let mut clock = job.launching.get();
    if t < clock {
        return "launching".into();
    }
    let n = job.sub_jobs.len();
    for (i, s) in job.sub_jobs.iter().enumerate() {
        clock += s.gap.get();
        if t < clock {
            return "between sub-jobs".into();
        }
        let main = s.duration.get();
        let extra = s.stragglers.as_ref().map_or(0.0, |x| x.extra.get());
        if t < clock + main + extra {
            let into = t - clock;
            let last = if i + 1 == n { "last" } else { "earlier" };
            let shape = if s.tasks == 1 {
                "one task"
            } else if s.waves && s.tasks <= s.parallelism {
                "one wave"
            } else if into >= main {
                if s.stragglers.as_ref().is_some_and(|x| x.tasks == 1) {
                    "crawler, alone"
                } else {
                    "stragglers, alone"
                }
            } else if s.flat_start.is_some_and(|f| into < f.get()) {
                "flat start, flat"
            } else {
                "counting"
            };
            return format!("{last} sub-job: {shape}");
        }
        clock += main + extra;
    }
    "commit tail".into()
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

    #[test]
    fn the_mixed_corpus_has_its_documented_shares_and_the_steady_lengths() {
        let spec = CorpusSpec {
            jobs: 2000,
            ..CorpusSpec::default()
        };
        let steady = generate(&spec);
        let mixed = generate(&CorpusSpec {
            mix: Some(Mix::default()),
            ..spec
        });
        let (mut subs, mut one_wave, mut crawler, mut flat, mut prelude) = (0, 0, 0, 0, 0);
        let mut same_length = 0;
        for (s, m) in steady.iter().zip(&mixed) {
            let first = &m.sub_jobs[0];
            let has_prelude = first.tasks == 1 && first.parallelism == 1;
            prelude += usize::from(has_prelude);
            for j in m.sub_jobs.iter().skip(usize::from(has_prelude)) {
                subs += 1;
                one_wave += usize::from(j.waves && j.tasks <= j.parallelism);
                crawler += usize::from(j.stragglers.as_ref().is_some_and(|x| x.tasks == 1));
                flat += usize::from(j.flat_start.is_some_and(|f| f.get() > 0.0));
            }
            if s.fails_at.is_none() && m.fails_at.is_none() {
                same_length +=
                    usize::from((s.length().unwrap() - m.length().unwrap()).abs() < 1e-3);
            }
        }
        let share = |k: usize, of: usize| k as f64 / of as f64;
        let m = Mix::default();
        for (got, want) in [
            (share(one_wave, subs), m.one_wave),
            (share(crawler, subs), m.crawler),
            (share(flat, subs), m.flat_start),
            (share(prelude, mixed.len()), m.prelude),
        ] {
            assert!((got - want).abs() < 0.04, "{got} against {want}");
        }
        // The same jobs, reshaped: the same lengths but for the shortest few (where a
        // sub-job's floor of a second wins), and the same failures.
        assert!(same_length > 1800, "{same_length}");
        assert!(
            steady
                .iter()
                .zip(&mixed)
                .all(|(s, m)| s.fails_at == m.fails_at)
        );
    }
}
