//! The polling-policy benchmark: `cargo run --release --example policy_bench`.
//!
//! Replays a seeded corpus of DLI-like timelines (or scenario files given with `--corpus`)
//! through dli-wait's pure state machine on a virtual clock, once per policy, and prints API
//! calls per job and detection lag (job end → the poll that sees it).
//!
//!   --jobs N           corpus size (default 2000)        --seed S       generator seed (default 1)
//!   --corpus DIR|FILE  read timelines from scenario files instead of generating them
//!   --write-corpus DIR write the generated corpus as scenario files (100 jobs each)
//!   --mix              the mixed corpus: one-wave, crawling and flat-start sub-jobs, preludes
//!   --waves SHARE      that share (0–1) of sub-jobs finish their tasks in waves, not steadily
//!   --plot FILE.svg    draw calls vs lag per policy
//!   --markdown         print the table as Markdown (for the README)
//!   --late SECS        the default policy's lag by how jobs end, and how many are later than SECS
//!   --trace N          every poll eta makes on job N of the corpus, with what the job was doing
//!   --where            where the calls go: by what the job was doing, eta and the AWS SDK
//!   --sweep            calls against lag for eta at several caps and open shares
//!   --repeated         the repeated-jobs corpus: mixed jobs with their past runs, replayed
//!                      with the prior from their history and without it
//!   --trace-repeated N every poll eta with the prior makes on job N of the repeated corpus

mod corpus;
mod peers;
mod replay;

use corpus::{CorpusSpec, Mix, Repeat, generate, repeated};
use dli_wait::sim::scenario::{JobSpec, Scenario};
use dli_wait::wait::history::Prior;
use dli_wait::wait::policy::{DelayPolicy, Eta, EtaConstants, Exponential};
use peers::{Databricks, Gcloud, Named, Smithy, Terraform};
use replay::{Stats, run_corpus};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// dli-wait's defaults (`--poll-interval`, `--max-poll-interval`).
const FIRST: Duration = Duration::from_secs(2);
const MAX: Duration = Duration::from_secs(120);

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
}

fn arg_value(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn read_corpus(path: &Path) -> Result<Vec<JobSpec>, String> {
    let mut files: Vec<PathBuf> = if path.is_dir() {
        std::fs::read_dir(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect()
    } else {
        vec![path.to_path_buf()]
    };
    files.sort();
    let mut jobs = Vec::new();
    for f in files {
        let text =
            std::fs::read_to_string(&f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
        let s = Scenario::parse(&text).map_err(|e| format!("{}: {e}", f.display()))?;
        jobs.extend(s.jobs.into_iter().filter(|j| j.length().is_some()));
    }
    Ok(jobs)
}

/// Who a policy belongs to, and how to make one for a job (from a seed).
type Maker = (&'static str, Box<dyn Fn(u64) -> Box<dyn DelayPolicy>>);

fn policies() -> Vec<Maker> {
    // Ours at a given cap, and a peer that polls at a fixed interval, under their labels.
    let eta = |cap: u64, label: &'static str| -> Maker {
        let cap = Duration::from_secs(cap);
        (
            "ours",
            Box::new(move |s| Box::new(Named(Box::new(Eta::with_seed(FIRST, cap, s)), label))),
        )
    };
    let every = |secs: u64, label: &'static str| -> Maker {
        let d = Duration::from_secs(secs);
        ("peer", Box::new(move |_| Box::new(Named::every(d, label))))
    };
    vec![
        eta(MAX.as_secs(), "eta, default"),
        eta(30, "eta, max 30s"),
        eta(60, "eta, max 1m"),
        eta(300, "eta, max 5m"),
        (
            "ours",
            Box::new(|s| {
                Box::new(Named(
                    Box::new(Exponential::with_seed(FIRST, MAX, s)),
                    "exponential",
                ))
            }),
        ),
        ("peer", Box::new(|s| Box::new(Smithy::new(s)))),
        every(30, "aws-cli emr (30 s)"),
        ("peer", Box::new(|_| Box::new(Terraform::default()))),
        ("peer", Box::new(|s| Box::new(Gcloud::new(s)))),
        ("peer", Box::new(|s| Box::new(Databricks::new(s)))),
        every(60, "airflow sensor (60 s)"),
        every(4, "airflow bq trigger (4 s)"),
    ]
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let spec = CorpusSpec {
        jobs: arg_value(&args, "--jobs").map_or(Ok(2000), |v| {
            v.parse().map_err(|_| format!("bad --jobs {v}"))
        })?,
        seed: arg_value(&args, "--seed")
            .map_or(Ok(1), |v| v.parse().map_err(|_| format!("bad --seed {v}")))?,
        wave_share: arg_value(&args, "--waves").map_or(Ok(0.0), |v| {
            v.parse::<f64>()
                .ok()
                .filter(|x| (0.0..=1.0).contains(x))
                .ok_or(format!("bad --waves {v}: a share from 0 to 1"))
        })?,
        mix: args.iter().any(|a| a == "--mix").then(Mix::default),
        ..CorpusSpec::default()
    };
    let (corpus, source) = match arg_value(&args, "--corpus") {
        Some(p) => (read_corpus(Path::new(&p))?, format!("timelines from {p}")),
        None => (
            generate(&spec),
            format!(
                "{} generated {} timelines (seed {}{})",
                spec.jobs,
                if spec.mix.is_some() {
                    "mixed"
                } else {
                    "steady"
                },
                spec.seed,
                if spec.wave_share > 0.0 {
                    format!(", {:.0} % of sub-jobs in waves", spec.wave_share * 100.0)
                } else {
                    String::new()
                }
            ),
        ),
    };
    if corpus.is_empty() {
        return Err("the corpus holds no job that ends".into());
    }
    if args.iter().any(|a| a == "--repeated") {
        return run_repeated(&spec, &args);
    }
    if let Some(dir) = arg_value(&args, "--write-corpus") {
        write_corpus(Path::new(&dir), &corpus)?;
    }
    let started = Instant::now();
    let stats: Vec<(&str, Stats)> = policies()
        .iter()
        .map(|(kind, make)| (*kind, run_corpus(&corpus, make)))
        .collect();
    let markdown = args.iter().any(|a| a == "--markdown");
    println!(
        "{source}, replayed in {:.1}s\n",
        started.elapsed().as_secs_f64()
    );
    print_table(&stats, markdown);
    if args.iter().any(|a| a == "--sweep") {
        print_sweep(&corpus, markdown);
    }
    if let Some(secs) = arg_value(&args, "--late") {
        let secs: f64 = secs.parse().map_err(|_| format!("bad --late {secs}"))?;
        print_late(&corpus, secs, markdown, &policies()[0].1);
    }
    if let Some(i) = arg_value(&args, "--trace-repeated") {
        let i: usize = i.parse().map_err(|_| format!("bad --trace {i}"))?;
        let jobs = repeated(&spec, Repeat::default());
        let job = &jobs[i].job;
        let prior = Prior::from_durations(jobs[i].past.iter().map(|s| Duration::from_secs_f64(*s)));
        println!(
            "job {i}: length {:?} band {:?}",
            job.length(),
            prior.as_ref().map(|p| p.band())
        );
        let id = job.id.clone().unwrap_or_default();
        replay::replay_polls(
            job,
            Box::new(Eta::with_seed(FIRST, MAX, i as u64).with_prior(prior)),
            &mut |t| trace_line(job, &id, t),
        );
        return Ok(());
    }
    if let Some(i) = arg_value(&args, "--trace") {
        let i: usize = i.parse().map_err(|_| format!("bad --trace {i}"))?;
        let job = corpus.get(i).ok_or("no such job")?;
        println!("job {i}: length {:?}", job.length());
        let id = job.id.clone().unwrap_or_default();
        replay::replay_polls(job, (policies()[0].1)(i as u64), &mut |t| {
            trace_line(job, &id, t)
        });
    }
    if args.iter().any(|a| a == "--where") {
        print_where(&corpus, &policies());
    }
    if let Some(path) = arg_value(&args, "--plot") {
        std::fs::write(&path, svg(&stats, &source))
            .map_err(|e| format!("cannot write {path}: {e}"))?;
        println!("\nplot written to {path}");
    }
    Ok(())
}

/// The calls a wait with `--history auto` makes before its first poll (`kind::Kind::history`).
const LOOKUP_CALLS: f64 = 2.0;

/// `--repeated`: the repeated-jobs corpus, eta with and without the prior, and the peers.
fn run_repeated(spec: &CorpusSpec, args: &[String]) -> Result<(), String> {
    let jobs = repeated(spec, Repeat::default());
    let corpus: Vec<JobSpec> = jobs.iter().map(|r| r.job.clone()).collect();
    let priors: std::rc::Rc<Vec<Option<Prior>>> = std::rc::Rc::new(
        jobs.iter()
            .map(|r| Prior::from_durations(r.past.iter().map(|s| Duration::from_secs_f64(*s))))
            .collect(),
    );
    let with_prior: Maker = (
        "ours",
        Box::new(move |s| {
            let prior = priors.get(s as usize).cloned().flatten();
            Box::new(Named(
                Box::new(Eta::with_seed(FIRST, MAX, s).with_prior(prior)),
                "eta, default, with the prior",
            ))
        }),
    );
    let mut makers = vec![with_prior];
    makers.extend(policies());
    let started = Instant::now();
    let mut stats: Vec<(&str, Stats)> = makers
        .iter()
        .map(|(kind, make)| (*kind, run_corpus(&corpus, make)))
        .collect();
    // The lookup's calls count: `/status` and one page of the list, at the start of the wait.
    stats[0].1.calls_mean += LOOKUP_CALLS;
    stats[0].1.calls_median += LOOKUP_CALLS;
    println!(
        "{} repeated jobs (mixed shapes, seed {}, 3-30 past runs each; the prior's row counts its 2 lookup calls), replayed in {:.1}s\n",
        corpus.len(),
        spec.seed,
        started.elapsed().as_secs_f64()
    );
    let markdown = args.iter().any(|a| a == "--markdown");
    print_table(&stats, markdown);
    println!();
    for (_, s) in &stats {
        println!(
            "{:<34} lag p95 of the failures {:.1}s",
            s.policy, s.lag_p95_failed
        );
    }
    if let Some(secs) = arg_value(args, "--late") {
        let secs: f64 = secs.parse().map_err(|_| format!("bad --late {secs}"))?;
        print_late(&corpus, secs, markdown, &makers[0].1);
        // Where today's end fell against the band of past runs, for the late finished jobs.
        let mut by: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
        for (i, job) in corpus.iter().enumerate() {
            let Some(run) = replay::replay(job, (makers[0].1)(i as u64)) else {
                continue;
            };
            if run.failed {
                continue;
            }
            let len = job.length().unwrap_or(0.0);
            let at = match Prior::from_durations(
                jobs[i].past.iter().map(|s| Duration::from_secs_f64(*s)),
            ) {
                None => "no past run",
                Some(p) if len < p.band().0 => "before the band",
                Some(p) if len <= p.band().1 => "in the band",
                Some(_) => "past the band",
            };
            let e = by.entry(at).or_default();
            e.0 += 1;
            e.1 += usize::from(run.lag > secs);
        }
        println!();
        for (at, (n, late)) in by {
            println!("finished {at:<16} {n:>6} jobs, {late:>5} seen more than {secs} s late");
        }
    }
    if args.iter().any(|a| a == "--where") {
        print_where(&corpus, &makers);
    }
    if let Some(path) = arg_value(args, "--plot") {
        std::fs::write(&path, svg(&stats, "repeated jobs"))
            .map_err(|e| format!("cannot write {path}: {e}"))?;
    }
    Ok(())
}

fn print_table(stats: &[(&str, Stats)], markdown: bool) {
    let head = [
        "policy",
        "calls/job mean",
        "calls/job median",
        "lag p50",
        "lag p95",
        "lag p95 (finished)",
        "lag max",
    ];
    let rows: Vec<[String; 7]> = stats
        .iter()
        .map(|(kind, s)| {
            [
                format!(
                    "{}{}",
                    s.policy,
                    if *kind == "ours" { " (dli-wait)" } else { "" }
                ),
                format!("{:.1}", s.calls_mean),
                format!("{:.0}", s.calls_median),
                format!("{:.2}s", s.lag_p50),
                format!("{:.2}s", s.lag_p95),
                format!("{:.2}s", s.lag_p95_finished),
                format!("{:.0}s", s.lag_max),
            ]
        })
        .collect();
    if markdown {
        println!("| {} |", head.join(" | "));
        println!("|{}", "---|".repeat(head.len()));
        for r in &rows {
            println!("| {} |", r.join(" | "));
        }
    } else {
        println!(
            "{:<28} {:>14} {:>16} {:>8} {:>8} {:>18} {:>8}",
            head[0], head[1], head[2], head[3], head[4], head[5], head[6]
        );
        for r in &rows {
            println!(
                "{:<28} {:>14} {:>16} {:>8} {:>8} {:>18} {:>8}",
                r[0], r[1], r[2], r[3], r[4], r[5], r[6]
            );
        }
    }
}

/// Calls against lag for eta at several caps (`--max-poll-interval`) and shares of the cap
/// for phases whose end may come at any poll ([`EtaConstants::open_share`]).
fn print_sweep(corpus: &[JobSpec], markdown: bool) {
    let head = [
        "max poll interval",
        "open share",
        "calls/job mean",
        "lag p50",
        "lag p95",
        "lag p95 (finished)",
    ];
    println!();
    if markdown {
        println!("| {} |\n|{}", head.join(" | "), "---|".repeat(head.len()));
    } else {
        println!(
            "{:>17} {:>10} {:>14} {:>8} {:>8} {:>18}",
            head[0], head[1], head[2], head[3], head[4], head[5]
        );
    }
    for max in [30, 45, 50, 60, 90, 120, 180, 300] {
        for (share, label) in [(0.25, "1/4"), (1.0 / 3.0, "1/3"), (0.5, "1/2")] {
            let c = EtaConstants {
                open_share: share,
                ..EtaConstants::default()
            };
            let cap = Duration::from_secs(max);
            let s = run_corpus(corpus, |seed| {
                Box::new(Eta::with_constants(FIRST, cap, seed, c))
            });
            let row = [
                format!("{max}s"),
                label.to_string(),
                format!("{:.1}", s.calls_mean),
                format!("{:.2}s", s.lag_p50),
                format!("{:.2}s", s.lag_p95),
                format!("{:.2}s", s.lag_p95_finished),
            ];
            if markdown {
                println!("| {} |", row.join(" | "));
            } else {
                println!(
                    "{:>17} {:>10} {:>14} {:>8} {:>8} {:>18}",
                    row[0], row[1], row[2], row[3], row[4], row[5]
                );
            }
        }
    }
}

/// The default policy's lag by how the jobs end, and how many are seen later than `secs`.
fn print_late(
    corpus: &[JobSpec],
    secs: f64,
    markdown: bool,
    make: &dyn Fn(u64) -> Box<dyn DelayPolicy>,
) {
    let mut by: std::collections::BTreeMap<&str, Vec<f64>> = Default::default();
    for (i, job) in corpus.iter().enumerate() {
        if let Some(run) = replay::replay(job, make(i as u64)) {
            by.entry(corpus::ending(job)).or_default().push(run.lag);
        }
    }
    let late_all: usize = by.values().flatten().filter(|l| **l > secs).count();
    println!(
        "\n{late_all} jobs ({:.1} %) seen more than {secs} s late by eta at its defaults:\n",
        late_all as f64 * 100.0 / corpus.len() as f64
    );
    let head = [
        "how the job ends",
        "jobs",
        "seen late",
        "lag p50",
        "lag p95",
        "within 1.5 s",
    ];
    if markdown {
        println!("| {} |\n|{}", head.join(" | "), "---|".repeat(head.len()));
    } else {
        println!(
            "{:<20} {:>6} {:>10} {:>8} {:>8} {:>12}",
            head[0], head[1], head[2], head[3], head[4], head[5]
        );
    }
    for (ending, lags) in &mut by {
        lags.sort_by(f64::total_cmp);
        let late = lags.iter().filter(|l| **l > secs).count();
        let q = |q: f64| lags[((lags.len() - 1) as f64 * q).round() as usize];
        let row = [
            ending.to_string(),
            lags.len().to_string(),
            late.to_string(),
            format!("{:.2}s", q(0.5)),
            format!("{:.2}s", q(0.95)),
            lags.iter().filter(|l| **l <= 1.5).count().to_string(),
        ];
        if markdown {
            println!("| {} |", row.join(" | "));
        } else {
            println!(
                "{:<20} {:>6} {:>10} {:>8} {:>8} {:>12}",
                row[0], row[1], row[2], row[3], row[4], row[5]
            );
        }
    }
}

/// Where the calls go: mean calls per job by what the job was doing when they were made,
/// for eta at its defaults and the AWS SDK waiter.
fn print_where(corpus: &[JobSpec], makers: &[Maker]) {
    let picked: Vec<&Maker> = makers
        .iter()
        .filter(|(_, make)| {
            matches!(
                make(0).name(),
                "eta, default" | "eta, default, with the prior" | "aws-sdk (smithy)"
            )
        })
        .collect();
    let mut by: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    for (k, (_, make)) in picked.iter().enumerate() {
        for (i, job) in corpus.iter().enumerate() {
            replay::replay_polls(job, make(i as u64), &mut |t| {
                by.entry(corpus::phase_at(job, t))
                    .or_insert_with(|| vec![0.0; picked.len()])[k] += 1.0;
            });
        }
    }
    println!();
    print!("{:<36}", "calls per job made while the job was");
    for (_, make) in &picked {
        print!(" {:>18}", make(0).name());
    }
    println!();
    for (phase, calls) in &by {
        print!("{phase:<36}");
        for c in calls {
            print!(" {:>18.2}", c / corpus.len() as f64);
        }
        println!();
    }
}

fn write_corpus(dir: &Path, corpus: &[JobSpec]) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for (n, chunk) in corpus.chunks(100).enumerate() {
        // Scenario types serialize as they are read, so the files replay as generated.
        let text =
            serde_json::to_string_pretty(&serde_json::json!({ "jobs": chunk })).unwrap_or_default();
        let path = dir.join(format!("corpus-{n:03}.json"));
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    println!("corpus written to {}", dir.display());
    Ok(())
}

/// Calls (x, log scale) against lag p50 and p95 (y, log scale), one dot pair per policy.
fn svg(stats: &[(&str, Stats)], corpus: &str) -> String {
    let (w, h, pad) = (900.0, 560.0, 70.0);
    let lx = |v: f64| v.max(0.01).log10();
    let xs: Vec<f64> = stats.iter().map(|(_, s)| lx(s.calls_mean)).collect();
    let ys: Vec<f64> = stats
        .iter()
        .flat_map(|(_, s)| [lx(s.lag_p50), lx(s.lag_p95)])
        .collect();
    let (x0, x1) = (
        xs.iter().copied().fold(f64::MAX, f64::min).floor(),
        xs.iter().copied().fold(f64::MIN, f64::max).ceil(),
    );
    // A little room below the lowest point, so that it does not sit on the axis.
    let (y0, y1) = (
        ys.iter().copied().fold(f64::MAX, f64::min) - 0.25,
        ys.iter().copied().fold(f64::MIN, f64::max).ceil(),
    );
    let px = |v: f64| pad + (lx(v) - x0) / (x1 - x0).max(1e-9) * (w - 2.0 * pad - 120.0);
    let py = |v: f64| h - pad - (lx(v) - y0) / (y1 - y0).max(1e-9) * (h - 2.0 * pad);
    let mut out = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="13"><rect width="100%" height="100%" fill="white"/>"##
    );
    out += &format!(
        r##"<text x="{}" y="24" font-size="16" text-anchor="middle">API calls per job vs detection lag (log-log; ● p50, ○ p95; lower-left is better)</text><text x="{}" y="44" text-anchor="middle" fill="#555">{corpus}</text>"##,
        w / 2.0,
        w / 2.0
    );
    for e in (x0 as i32)..=(x1 as i32) {
        let x = px(10f64.powi(e));
        out += &format!(
            r##"<line x1="{x}" y1="{}" x2="{x}" y2="{}" stroke="#ddd"/><text x="{x}" y="{}" text-anchor="middle">{}</text>"##,
            pad,
            h - pad,
            h - pad + 18.0,
            10f64.powi(e)
        );
    }
    for e in (y0.ceil() as i32)..=(y1 as i32) {
        let y = py(10f64.powi(e));
        out += &format!(
            r##"<line x1="{pad}" y1="{y}" x2="{}" y2="{y}" stroke="#ddd"/><text x="{}" y="{}" text-anchor="end">{}s</text>"##,
            w - pad - 120.0,
            pad - 6.0,
            y + 4.0,
            10f64.powi(e)
        );
    }
    out += &format!(
        r##"<text x="{}" y="{}" text-anchor="middle">mean API calls per job</text>"##,
        (w - 120.0) / 2.0,
        h - 20.0
    );
    out += &format!(
        r##"<text x="18" y="{}" transform="rotate(-90 18 {})" text-anchor="middle">detection lag</text>"##,
        h / 2.0,
        h / 2.0
    );
    // Labels go right of each p50 point; where one would cover another, it moves up or down
    // and a thin line leads back to its point.
    // Every policy's dots and the line between them are taken before any label goes down.
    let mut placed: Vec<(f64, f64, f64, f64)> = stats
        .iter()
        .map(|(_, s)| {
            let (x, y50, y95) = (px(s.calls_mean), py(s.lag_p50), py(s.lag_p95));
            (x - 6.0, y95.min(y50) - 6.0, x + 6.0, y95.max(y50) + 6.0)
        })
        .collect();
    for (kind, s) in stats {
        let color = if *kind == "ours" {
            "#d62728"
        } else {
            "#1f77b4"
        };
        let (x, y50, y95) = (px(s.calls_mean), py(s.lag_p50), py(s.lag_p95));
        out += &format!(
            r##"<line x1="{x}" y1="{y50}" x2="{x}" y2="{y95}" stroke="{color}"/><circle cx="{x}" cy="{y50}" r="5" fill="{color}"/><circle cx="{x}" cy="{y95}" r="5" fill="white" stroke="{color}"/>"##
        );
        let width = 7.2 * s.policy.chars().count() as f64;
        let free = |b: (f64, f64, f64, f64)| {
            placed
                .iter()
                .all(|p| b.2 < p.0 || p.2 < b.0 || b.3 < p.1 || p.3 < b.1)
        };
        // Right of the dot, else left of it, each a little higher or lower in turn.
        let (mut lx, mut ly) = (x + 10.0, y50 + 4.0);
        'search: for k in 0..60 {
            let step = f64::from((k + 1) / 2) * 15.0;
            let y = if k % 2 == 0 {
                y50 + 4.0 + step
            } else {
                y50 + 4.0 - step
            };
            for left in [x + 10.0, x - 10.0 - width] {
                if free((left, y - 11.0, left + width, y + 3.0)) {
                    (lx, ly) = (left, y);
                    break 'search;
                }
            }
        }
        placed.push((lx, ly - 11.0, lx + width, ly + 3.0));
        if (ly - (y50 + 4.0)).abs() > 1.0 || lx < x {
            let end = if lx < x { lx + width + 2.0 } else { lx - 2.0 };
            out += &format!(
                r##"<line x1="{x}" y1="{y50}" x2="{end}" y2="{}" stroke="{color}" stroke-width="0.6"/>"##,
                ly - 4.0
            );
        }
        out += &format!(
            r##"<text x="{lx}" y="{ly}" fill="{color}">{}</text>"##,
            s.policy
        );
    }
    out += "</svg>\n";
    out
}

/// One poll of a traced job (`--trace`, `--trace-repeated`): the time, the phase the corpus
/// gave it, and what the poll saw.
fn trace_line(job: &JobSpec, id: &str, t: f64) {
    let v = job.at(t, id);
    let s = v.sub_job.as_ref();
    println!(
        "{t:>9.1} {:<28} {:?} sub {:?} {}/{} active {}",
        corpus::phase_at(job, t),
        v.status,
        v.sub_job_id,
        s.map_or(0, |s| s.num_completed_tasks),
        s.map_or(0, |s| s.num_tasks),
        s.map_or(0, |s| s.num_active_tasks)
    );
}
