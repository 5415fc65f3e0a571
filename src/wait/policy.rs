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

/// Aims polls at the predicted end of the running sub-job. Within a sub-job it keeps what it
/// has seen of the task count and bounds the sub-job's end from it (see [`Segment::bounds`]);
/// far from the earliest possible end it waits a fraction of the time left, near it it polls
/// just past it, and then steps through the window up to the latest possible end. When the
/// job could end at any moment (between sub-jobs, in the commit tail, after a change) it polls
/// short and grows slowly, capped at `tail_cap`; without an estimate (LAUNCHING, a count that
/// has not moved yet, a single task, faults) it backs off exponentially. Every delay is capped at `max`; the machine still
/// lets `Retry-After` win and cuts the last sleep at the deadline.
pub struct Eta {
    first: Duration,
    max: Duration,
    tail_cap: Duration,
    /// Polls since the last change without a usable estimate: drives the back-off.
    idle: u32,
    /// The back-off schedule in use, with the parameters it was built for.
    schedule: Option<((Duration, u32, Duration), ExponentialBackoff)>,
    seg: Option<Segment>,
    /// When the previous successful poll was made: a sub-job first seen now began after it.
    last_poll: Option<f64>,
    rng: StdRng,
}

/// What was seen of the running sub-job: its task count at each poll, compressed to the
/// first and last poll of each count (the others add nothing), and when it began at the
/// earliest.
struct Segment {
    sub_job: i64,
    total: i64,
    seen: std::collections::VecDeque<(f64, i64)>,
    began_after: Option<f64>,
    /// The most tasks seen running at once: tasks that run side by side finish in bursts of
    /// up to this many, so a count may trail the steady pace by that much.
    batch: i64,
}

/// Observations kept per sub-job; the oldest go first.
const SEEN_MAX: usize = 48;
/// Far from the earliest possible end, wait this fraction of the time left until it.
const ETA_FRACTION: f64 = 0.8;
/// Poll this long after the earliest possible end, so the poll sees it.
const ETA_PAST: f64 = 0.5;
/// Closer than this to the earliest possible end, aim straight at it.
const ETA_NEAR: f64 = 5.0;
/// Between the earliest and latest possible end, poll about this many times...
const WINDOW_POLLS: f64 = 24.0;
/// ...but not more often than this.
const WINDOW_STEP_MIN: f64 = 5.0;

impl Segment {
    fn new(sub_job: i64, total: i64, began_after: Option<f64>) -> Self {
        Segment {
            sub_job,
            total,
            seen: std::collections::VecDeque::new(),
            began_after,
            batch: 1,
        }
    }

    fn record(&mut self, now: f64, done: i64) {
        let n = self.seen.len();
        if n >= 2 && self.seen[n - 1].1 == done && self.seen[n - 2].1 == done {
            self.seen[n - 1].0 = now;
        } else {
            self.seen.push_back((now, done));
        }
        if self.seen.len() > SEEN_MAX {
            self.seen.pop_front();
        }
    }

    /// The earliest and latest time the sub-job can end (the latest may be unbounded), if
    /// its work goes at a steady pace: `(t − a)/v` tasks' worth done by `t`, for some start `a`
    /// and time per task `v`. Each poll that saw `k` tasks done at `t` says
    /// `a + k·v ≤ t < a + (k+g)·v`, `g` the most tasks seen running at once (one at a time,
    /// the count trails the work by less than a task; side by side, by less than a burst);
    /// together they bound `v`, and so the end `a + total·v`. Counts only move in steps, so
    /// these are bounds rather than a point. When the pace changes (stragglers) the oldest
    /// looks contradict the newest and are set aside until the rest agree.
    fn bounds(&self) -> Option<(f64, f64)> {
        // Tasks one by one when all the looks allow it, or the latest three or more with the
        // count moving among them (a pace that changed): the tightest bounds. Otherwise in
        // bursts, if that explains a longer run of looks (flat, then a jump: a wave).
        let n = self.seen.len();
        let (kept, one) = self.fit(1);
        let moved = kept > 0 && self.seen[n - kept].1 != self.seen[n - 1].1;
        if self.batch <= 1 || kept == n || (kept >= 3 && moved) {
            return one;
        }
        let (kept_burst, burst) = self.fit(self.batch);
        if kept_burst > kept { burst } else { one }
    }

    /// The bounds from the longest run of latest looks that agree with each other under
    /// bursts of `g`, and how many looks that is. Dropping old looks only removes
    /// constraints, so the run is found by bisection.
    fn fit(&self, g: i64) -> (usize, Option<(f64, f64)>) {
        let n = self.seen.len();
        if let Some(b) = self.solve(g, 0, self.began_after) {
            return (n, Some(b));
        }
        let (mut bad, mut good) = (0, n.saturating_sub(1));
        while good - bad > 1 {
            let mid = (bad + good) / 2;
            if self.solve(g, mid, None).is_some() {
                good = mid;
            } else {
                bad = mid;
            }
        }
        (n - good, self.solve(g, good, None))
    }

    /// Bounds from the looks from `from` on (and the start after `began_after`), if the
    /// looks agree with each other.
    fn solve(&self, g: i64, from: usize, began_after: Option<f64>) -> Option<(f64, f64)> {
        let seen = || self.seen.iter().skip(from);
        let (mut lo, mut hi) = (0.0_f64, f64::INFINITY);
        for &(ti, ki) in seen() {
            for &(tj, kj) in seen() {
                // From t_i − (k_i+g)·v < a ≤ t_j − k_j·v.
                let (c, d) = ((ki + g - kj) as f64, ti - tj);
                if c > 0.0 {
                    lo = lo.max(d / c);
                } else if c < 0.0 {
                    hi = hi.min(d / c);
                } else if d >= 0.0 {
                    return None;
                }
            }
            if let Some(after) = began_after
                && ki > 0
            {
                // From a > after: after < t_i − k_i·v.
                hi = hi.min((ti - after) / ki as f64);
            }
        }
        if lo >= hi {
            return None;
        }
        let n = self.total;
        // E = a + n·v > t_i + (n − k_i − g)·v, least at `lo` or `hi` by the sign. (This
        // can be before the last look: the window is the model's, not cut at the present.)
        let earliest = seen()
            .map(|&(t, k)| {
                let c = (n - k - g) as f64;
                if c >= 0.0 { t + c * lo } else { t + c * hi }
            })
            .filter(|e| e.is_finite())
            .fold(f64::NEG_INFINITY, f64::max);
        let latest = seen()
            .map(|&(t, k)| t + (n - k) as f64 * hi)
            .fold(f64::INFINITY, f64::min);
        Some((earliest, latest))
    }
}

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
            last_poll: None,
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

    /// The delay within a running sub-job with `total` tasks of which `done` are done.
    fn within(&mut self, now: f64, id: i64, total: i64, done: i64, active: i64) -> Duration {
        // A sub-job first seen now began after the previous poll; one whose task count
        // changed did not, so what was seen of it before says nothing.
        let began_after = match &self.seg {
            Some(g) if g.sub_job == id => None,
            _ => self.last_poll,
        };
        let seg = match &mut self.seg {
            Some(g) if g.sub_job == id && g.total == total => g,
            _ => self.seg.insert(Segment::new(id, total, began_after)),
        };
        seg.record(now, done);
        seg.batch = seg.batch.max(active.clamp(1, total));
        // Until the count has moved, nothing says the pace: a flat count may be a slow
        // pace or a burst in the making.
        let moved = seg.seen.front().is_some_and(|f| f.1 != done);
        match seg.bounds().filter(|_| moved) {
            // Far from the earliest possible end: most of the way there.
            Some((earliest, _)) if earliest - now > ETA_NEAR => {
                self.restart();
                let shrink = 1.0 - 0.1 * self.rng.r#gen::<f64>();
                secs((earliest - now) * ETA_FRACTION * shrink, self.max)
            }
            // Near it, or inside the window: just past the earliest end, then step through.
            Some((earliest, latest)) if latest.is_finite() && latest > now => {
                self.restart();
                if earliest > now {
                    return secs(earliest - now + ETA_PAST, self.max);
                }
                let step = ((latest - earliest) / WINDOW_POLLS).max(WINDOW_STEP_MIN);
                secs(step.min(latest - now + ETA_PAST), self.max)
            }
            // Nothing to aim at (the count has not moved, one task, the pace just changed,
            // or the last burst is overdue): back off until the counts move again.
            _ => self.back_off(self.first, 1.5, self.max),
        }
    }
}

/// `s` seconds as a delay of at least 0.2 s and at most `max`.
fn secs(s: f64, max: Duration) -> Duration {
    Duration::try_from_secs_f64(s.max(0.2))
        .unwrap_or(max)
        .min(max)
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
            let s = snap.sub_jobs.iter().find(|s| s.id == Some(id))?;
            let done = (s.num_completed_tasks + s.num_skipped_tasks).max(0);
            Some((id, s.num_tasks, done, s.num_active_tasks))
        });
        let delay = match sub {
            Some((id, total, done, active)) if running && done < total => {
                self.within(now, id, total, done, active)
            }
            // Between sub-jobs, with all of a sub-job's tasks done, or in the commit tail the
            // job may end any moment.
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
        self.last_poll = Some(now);
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
        // 100 tasks in 100 s: the end is at about 1000 s. Far away: a large step, never past
        // the earliest possible end.
        let d = eta_delay(&mut p, 100, &running(0, 100, 1000), false);
        assert!((600.0..=900.0).contains(&d), "{d}");
        // 996 done at 1 task/s: the next poll lands just past the earliest possible end,
        // and no later than just past the true one (1000 s).
        let d = 996.0 + eta_delay(&mut p, 996, &running(0, 996, 1000), false);
        assert!((999.0..=1000.5).contains(&d), "{d}");
    }

    /// Polls a sub-job whose `total` tasks finish at a steady pace from `start` to `end`, as
    /// DLI counts them (whole tasks only), at the given instants.
    fn steady(total: i64, start: f64, end: f64, at: &[f64]) -> Segment {
        let mut g = Segment::new(0, total, Some(start - 1.0));
        for &t in at {
            let done = ((t - start) / (end - start) * total as f64).floor() as i64;
            g.record(t, done.clamp(0, total));
        }
        g
    }

    #[test]
    fn the_bounds_hold_the_true_end_and_narrow_with_each_look() {
        let at = [3.0, 40.0, 170.0, 400.0, 710.0, 900.0];
        let mut widths = vec![];
        for n in 2..=at.len() {
            for total in [3, 40, 1000] {
                let (lo, hi) = steady(total, 2.5, 1000.0, &at[..n]).bounds().unwrap();
                assert!(
                    lo <= 1000.0 && 1000.0 <= hi,
                    "{total} tasks, {n} looks: {lo}..{hi}"
                );
                if total == 40 {
                    widths.push(hi - lo);
                }
            }
        }
        assert!(widths.windows(2).all(|w| w[1] <= w[0]), "{widths:?}");
        assert!(widths.last().unwrap() < &60.0, "{widths:?}");
    }

    #[test]
    fn at_a_steady_pace_the_bounds_always_hold_the_true_end() {
        let mut rng = StdRng::seed_from_u64(11);
        for _ in 0..2000 {
            let total = rng.gen_range(1..5000);
            let start = rng.gen_range(0.0..100.0);
            let end = start + rng.gen_range(1.0..20000.0);
            let mut g = Segment::new(0, total, Some(start - rng.gen_range(0.0..10.0)));
            let mut t = start + rng.gen_range(0.0..5.0);
            while t < end {
                let done = ((t - start) / (end - start) * total as f64).floor() as i64;
                g.record(t, done.min(total - 1));
                let (lo, hi) = g
                    .bounds()
                    .expect("steady looks never contradict each other");
                assert!(
                    lo <= end + 1e-6 && end <= hi + 1e-6 && lo >= t - 1e-6,
                    "{total} tasks {start}..{end}, at {t}: {lo}..{hi}"
                );
                t += rng.gen_range(0.1..(end - start) / 4.0 + 1.0);
            }
        }
    }

    #[test]
    fn any_answer_gives_a_delay_within_the_limits() {
        // Counts that jump around, exceed the total or go negative, from a broken or
        // hostile server: never a panic, a zero delay, or one past the cap.
        let mut rng = StdRng::seed_from_u64(5);
        let mut p = Eta::with_seed(Duration::from_secs(2), Duration::from_secs(120), 1);
        let mut now = 0.0;
        for i in 0..20_000 {
            let total = rng.gen_range(-2..50);
            let snap = running(rng.gen_range(0..3), rng.gen_range(-5..60), total);
            let d = p.next_delay(&PolicyInput {
                now: Duration::from_secs_f64(now),
                snapshot: Some(&snap),
                fault: None,
                changed: i % 97 == 0,
            });
            assert!(
                d >= Duration::from_millis(200) && d <= Duration::from_secs(120),
                "{d:?}"
            );
            now += d.as_secs_f64();
        }
    }

    #[test]
    fn tasks_that_finish_in_waves_are_bounded_as_bursts() {
        // 100 tasks, 25 at a time, a wave every 40 s: the count sits still, then jumps by 25,
        // and the sub-job ends at 160 s. No steady pace explains that; bursts of 25 do.
        for step in [3.0, 7.0, 11.0, 19.0] {
            let mut g = Segment::new(0, 100, Some(0.0));
            g.batch = 25;
            let mut t = 1.0_f64;
            while t < 160.0 {
                let done = ((t / 40.0).floor() as i64 * 25).min(99);
                g.record(t, done);
                // Once the count has moved (before that, the policy does not aim).
                if g.seen.front().is_some_and(|f| f.1 != done)
                    && let Some((lo, hi)) = g.bounds()
                {
                    assert!(
                        lo <= 160.0 && 160.0 <= hi,
                        "every {step}s, at {t}: {lo}..{hi}"
                    );
                }
                t += step;
            }
        }
    }

    #[test]
    fn a_slower_pace_retires_the_looks_that_contradict_it() {
        // 100 tasks: 90 in the first 90 s, then stragglers finish the last 10 by 290 s.
        let mut g = Segment::new(0, 100, Some(0.0));
        for t in [10.0, 30.0, 60.0, 88.0] {
            g.record(t, t as i64);
        }
        let (_, hi) = g.bounds().unwrap();
        assert!(hi < 110.0, "{hi}");
        for (t, done) in [(130.0, 92), (170.0, 94), (210.0, 96)] {
            g.record(t, done);
        }
        let (lo, hi) = g.bounds().unwrap();
        assert!(lo <= 290.0 && 290.0 <= hi, "{lo}..{hi}");
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
