//! Delay policies: how long to wait before the next poll. A policy sees every observation
//! (state, sub-job, task counts, instant), not only the attempt number, so smarter ones can
//! aim at a predicted end. Pure: randomness is a seeded generator, time a value.

use super::history::{Phase, Prior};
use super::snapshot::Snapshot;
use crate::dli::fault::Fault;
use crate::dli::model::JobStatus;
use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};
use rand::{Rng, SeedableRng, rngs::SmallRng};
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
    rng: SmallRng,
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
            rng: SmallRng::seed_from_u64(seed),
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
/// just past it, and then steps through the window up to the latest possible end.
///
/// Where nothing bounds the end (a count that has not moved yet, one task, all of a stage's
/// tasks running in one wave, a task crawling on after the rest, a pace that just changed) it
/// keeps the lag relative: it waits as long as the phase without an estimate has lasted (so
/// a 10 s step is seen within seconds, a 2 h one within minutes), at most a third of `max`
/// while every task left is running (the end may come at any poll), at most `max` while some
/// wait for a slot (it cannot come before they run), where it waits a quarter of that time.
/// When the job could end at any moment (between sub-jobs, in the commit tail) it polls
/// short and grows slowly, capped at `tail_cap`; LAUNCHING and faults back off
/// exponentially. Every delay is at least 0.2 s and at most `max`; the machine still lets
/// `Retry-After` win and cuts the last sleep at the deadline.
pub struct Eta {
    first: Duration,
    max: Duration,
    tail_cap: Duration,
    /// The longest delay while the end could come at any poll and nothing bounds it.
    open_cap: Duration,
    consts: EtaConstants,
    /// Polls since the last change without a usable estimate: drives the back-off.
    idle: u32,
    /// The back-off schedule in use, with the parameters it was built for.
    schedule: Option<((Duration, u32, Duration), ExponentialBackoff)>,
    seg: Option<Segment>,
    /// When the previous successful poll was made: a sub-job first seen now began after it.
    last_poll: Option<f64>,
    rng: SmallRng,
    /// Where past runs of the same job ended (`wait::history`), when known.
    prior: Option<Prior>,
    /// What the delay of this poll was based on, for the prior to work with.
    basis: Basis,
}

/// What today's delay (without the prior) was based on.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Basis {
    /// The task counts bound the running sub-job's end: its earliest end, in wait time.
    Aim(f64),
    /// Inside the counts' end window.
    Window,
    /// Nothing bounds the end and every task left runs: it may come at any poll.
    Open,
    /// Nothing bounds the end, tasks wait for a slot.
    Queued,
    /// Between sub-jobs or in the commit tail.
    Tail,
    /// LAUNCHING, other states, faults.
    Other,
}

/// The constants of [`Eta`] that trade calls for lag, as measured by the policy benchmark
/// (`examples/policy_bench`, `--sweep`); the defaults are dli-wait's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EtaConstants {
    /// Without an estimate, while every task left runs: wait this fraction of the time the
    /// phase has lasted...
    pub open_fraction: f64,
    /// ...but at most this share of `max`.
    pub open_share: f64,
    /// Without an estimate, while tasks wait for a slot: this fraction of the time the phase
    /// has lasted, at most `max`.
    pub queued_fraction: f64,
    /// Between the earliest and the latest possible end, poll about this many times (not
    /// more often than every 5 s).
    pub window_polls: f64,
    /// Between sub-jobs and in the commit tail, polls at most this far apart (at least the
    /// first delay).
    pub tail: Duration,
}

impl Default for EtaConstants {
    fn default() -> Self {
        EtaConstants {
            open_fraction: 1.0,
            open_share: 1.0 / 3.0,
            queued_fraction: 0.25,
            window_polls: 12.0,
            tail: Duration::from_secs(2),
        }
    }
}

/// What was seen of the running sub-job: its task count at each poll, compressed to the
/// first and last poll of each count (the others add nothing), and when it began at the
/// earliest.
struct Segment {
    sub_job: i64,
    total: i64,
    /// When it was first seen.
    first_seen: f64,
    /// The last poll that had an estimate of its end: a phase without one began then.
    aimed_at: Option<f64>,
    seen: std::collections::VecDeque<(f64, i64)>,
    began_after: Option<f64>,
    /// The count at the first poll inside an end window, and the window's latest end then:
    /// once that has passed with the count still there, the estimate is overdue.
    promised: Option<(i64, f64)>,
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
/// Between the earliest and latest possible end, poll not more often than this.
const WINDOW_STEP_MIN: f64 = 5.0;

impl Segment {
    fn new(sub_job: i64, total: i64, began_after: Option<f64>, now: f64) -> Self {
        Segment {
            sub_job,
            total,
            first_seen: now,
            aimed_at: None,
            seen: std::collections::VecDeque::new(),
            began_after,
            promised: None,
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
    ///
    /// The work may also begin late: a stage can read (or wait for executors) a long while
    /// before its first task reports, and a look with nothing done then says only that no
    /// burst was done yet, not that the work had begun. The bounds cover both readings.
    fn bounds(&self) -> Option<(f64, f64)> {
        match (self.bounds_if(false), self.bounds_if(true)) {
            (Some((e1, l1)), Some((e2, l2))) => Some((e1.min(e2), l1.max(l2))),
            (one, other) => one.or(other),
        }
    }

    /// [`Segment::bounds`] for one reading: the work began by the first look, or
    /// (`late_start`) at any time before the first look that saw a task done.
    fn bounds_if(&self, late_start: bool) -> Option<(f64, f64)> {
        // Tasks one by one when all the looks allow it, or the latest three or more with the
        // count moving among them (a pace that changed): the tightest bounds. Otherwise in
        // bursts, if that explains a longer run of looks (flat, then a jump: a wave).
        let n = self.seen.len();
        let (kept, one) = self.fit(1, late_start);
        let moved = kept > 0 && self.seen[n - kept].1 != self.seen[n - 1].1;
        if self.batch <= 1 || kept == n || (kept >= 3 && moved) {
            return one;
        }
        let (kept_burst, burst) = self.fit(self.batch, late_start);
        if kept_burst > kept { burst } else { one }
    }

    /// The bounds from the longest run of latest looks that agree with each other under
    /// bursts of `g`, and how many looks that is. Dropping old looks only removes
    /// constraints, so the run is found by bisection.
    fn fit(&self, g: i64, late_start: bool) -> (usize, Option<(f64, f64)>) {
        let n = self.seen.len();
        if let Some(b) = self.solve(g, 0, self.began_after, late_start) {
            return (n, Some(b));
        }
        let (mut bad, mut good) = (0, n.saturating_sub(1));
        while good - bad > 1 {
            let mid = (bad + good) / 2;
            if self.solve(g, mid, None, late_start).is_some() {
                good = mid;
            } else {
                bad = mid;
            }
        }
        (n - good, self.solve(g, good, None, late_start))
    }

    /// Bounds from the looks from `from` on (and the start after `began_after`), if the
    /// looks agree with each other. With `late_start`, a look with nothing done does not
    /// bound the start.
    fn solve(
        &self,
        g: i64,
        from: usize,
        began_after: Option<f64>,
        late_start: bool,
    ) -> Option<(f64, f64)> {
        let seen = || self.seen.iter().skip(from);
        // The looks that say the work had begun by then.
        let begun = || seen().filter(move |&&(_, k)| !late_start || k > 0);
        let (mut lo, mut hi) = (0.0_f64, f64::INFINITY);
        for &(ti, ki) in seen() {
            for &(tj, kj) in begun() {
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
        let latest = begun()
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
        Self::with_constants(first, max, seed, EtaConstants::default())
    }

    /// With other constants (the benchmark's sweep).
    pub fn with_constants(first: Duration, max: Duration, seed: u64, c: EtaConstants) -> Self {
        let max = max.max(first);
        Eta {
            first,
            max,
            tail_cap: c.tail.clamp(first, max),
            open_cap: max.mul_f64(c.open_share.clamp(0.0, 1.0)).clamp(first, max),
            consts: c,
            idle: 0,
            schedule: None,
            seg: None,
            last_poll: None,
            rng: SmallRng::seed_from_u64(seed),
            prior: None,
            basis: Basis::Other,
        }
    }

    /// The same policy, knowing where past runs of the job ended: few polls while the job is
    /// far from its earliest plausible end, denser ones where past runs ended, today's
    /// behaviour once it overruns them (see `wait::history`).
    pub fn with_prior(mut self, prior: Option<Prior>) -> Self {
        self.prior = prior;
        self
    }

    /// Today's delay, reshaped by the prior (if any) for where the job stands against it.
    fn apply_prior(&self, now: f64, delay: Duration) -> Duration {
        let Some(prior) = &self.prior else {
            return delay;
        };
        let base = delay.as_secs_f64();
        let (first, max) = (self.first.as_secs_f64(), self.max.as_secs_f64());
        match prior.phase(now) {
            Phase::Before { left } => {
                let Some(sparse) = prior.sparse_delay(now, first, max) else {
                    return delay;
                };
                // Whatever the running sub-job does, the job is not due yet: a sub-job's
                // end is the job's only if it is the last, and past runs say it is not. Nor
                // does a delay cross into the band: the band's polls begin at its start.
                secs(base.max(sparse).min(left), Duration::MAX)
            }
            Phase::Within { .. } => match (self.basis, prior.open_delay(now)) {
                (Basis::Open | Basis::Queued, Some(open)) => secs(base.min(open), self.max),
                // The counts bound the running sub-job's end: the job cannot end before it,
                // so the aim need not stop at `max` (a failure is still seen within the
                // prior's bound on a delay).
                (Basis::Aim(earliest), _) => match prior.bound(now, max) {
                    Some(bound) => Duration::from_secs_f64(
                        base.max(((earliest - now) * ETA_FRACTION).min(bound)),
                    ),
                    None => delay,
                },
                _ => delay,
            },
            Phase::Past => delay,
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
            _ => self.seg.insert(Segment::new(id, total, began_after, now)),
        };
        seg.record(now, done);
        seg.batch = seg.batch.max(active.clamp(1, total));
        // Until the count has moved, nothing says the pace: a flat count may be a slow
        // pace or a burst in the making.
        let moved = seg.seen.front().is_some_and(|f| f.1 != done);
        // A window that passed with the count where it was is not given again: the pace it
        // came from no longer holds (a crawling task), and stepping through new windows
        // every few seconds would only spend calls.
        let overdue = seg
            .promised
            .is_some_and(|(k, latest)| k == done && now > latest);
        match seg.bounds().filter(|_| moved && !overdue) {
            // Far from the earliest possible end: most of the way there.
            Some((earliest, _)) if earliest - now > ETA_NEAR => {
                seg.aimed_at = Some(now);
                self.basis = Basis::Aim(earliest);
                self.restart();
                let shrink = 1.0 - 0.1 * self.rng.r#gen::<f64>();
                secs((earliest - now) * ETA_FRACTION * shrink, self.max)
            }
            // Near it, or inside the window: just past the earliest end, then step through.
            Some((earliest, latest)) if latest.is_finite() && latest > now => {
                seg.aimed_at = Some(now);
                if seg.promised.is_none_or(|(k, _)| k != done) {
                    seg.promised = Some((done, latest));
                }
                self.basis = Basis::Window;
                self.restart();
                if earliest > now {
                    return secs(earliest - now + ETA_PAST, self.max);
                }
                let step =
                    ((latest - earliest) / self.consts.window_polls.max(1.0)).max(WINDOW_STEP_MIN);
                secs(step.min(latest - now + ETA_PAST), self.max)
            }
            // Nothing to aim at (the count has not moved, one task, one wave, the pace just
            // changed, or the last tasks are overdue): a lag relative to how long that has
            // lasted, from the last estimate or else from when the sub-job began (between the
            // poll before it and the first that saw it).
            _ => {
                let since = seg.aimed_at.unwrap_or_else(|| {
                    seg.began_after
                        .map_or(seg.first_seen, |b| (b + seg.first_seen) / 2.0)
                });
                let age = (now - since).max(0.0);
                let floor = self.first.as_secs_f64();
                // Tasks waiting for a slot cannot finish before they run: the end is not due
                // at the next poll.
                if active > 0 && active < total - done {
                    self.basis = Basis::Queued;
                    secs((self.consts.queued_fraction * age).max(floor), self.max)
                } else {
                    self.basis = Basis::Open;
                    secs((self.consts.open_fraction * age).max(floor), self.open_cap)
                }
            }
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
        self.basis = Basis::Other;
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
                self.basis = Basis::Tail;
                self.back_off(self.first / 2, 1.3, self.tail_cap)
            }
            // LAUNCHING, SCALING, unknown: nothing to aim at.
            _ => {
                self.seg = None;
                self.back_off(self.first, 2.0, self.max)
            }
        };
        self.last_poll = Some(now);
        // Only the prior, before the band past runs ended in, waits longer than `max`.
        self.apply_prior(now, delay.min(self.max))
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

    /// `running` with `active` tasks running.
    fn running_with(sub: i64, done: i64, total: i64, active: i64) -> Snapshot {
        let mut s = running(sub, done, total);
        s.sub_jobs[0].num_active_tasks = active;
        s
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
        // 100 tasks by 100 s: the work may have begun just before (a late start) and be
        // nearly done, so no long step yet.
        let d = eta_delay(&mut p, 100, &running(0, 100, 1000), false);
        assert!(d <= 100.0, "{d}");
        // 200 by 200 s: 1 task/s, the end is at about 1000 s. Far away: a large step, never
        // past the earliest possible end.
        let d = eta_delay(&mut p, 200, &running(0, 200, 1000), false);
        assert!((500.0..=700.0).contains(&d), "{d}");
        // 996 done at 1 task/s: the next poll lands just past the earliest possible end,
        // and no later than just past the true one (1000 s).
        let d = 996.0 + eta_delay(&mut p, 996, &running(0, 996, 1000), false);
        assert!((999.0..=1000.5).contains(&d), "{d}");
    }

    /// Polls a sub-job whose `total` tasks finish at a steady pace from `start` to `end`, as
    /// DLI counts them (whole tasks only), at the given instants.
    fn steady(total: i64, start: f64, end: f64, at: &[f64]) -> Segment {
        let mut g = Segment::new(0, total, Some(start - 1.0), start);
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
        let mut rng = SmallRng::seed_from_u64(11);
        for _ in 0..2000 {
            let total = rng.gen_range(1..5000);
            let start = rng.gen_range(0.0..100.0);
            let end = start + rng.gen_range(1.0..20000.0);
            let mut g = Segment::new(0, total, Some(start - rng.gen_range(0.0..10.0)), start);
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
        let mut rng = SmallRng::seed_from_u64(5);
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
            let mut g = Segment::new(0, 100, Some(0.0), 0.0);
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
        let mut g = Segment::new(0, 100, Some(0.0), 0.0);
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
        eta_delay(&mut p, 10, &running(0, 1, 1000), false);
        // 10 s a task: the end is hours away, the step is the cap.
        assert_eq!(eta_delay(&mut p, 20, &running(0, 2, 1000), false), 60.0);
        // Predicted to end long ago, yet the counts have not moved: the delay grows with the
        // time since the last estimate, from the first delay up to a third of the cap.
        let mut p = Eta::with_seed(Duration::from_secs(2), Duration::from_secs(60), 3);
        eta_delay(&mut p, 0, &running(0, 0, 10), true);
        eta_delay(&mut p, 4, &running(0, 4, 10), false);
        eta_delay(&mut p, 9, &running(0, 9, 10), false);
        let a = eta_delay(&mut p, 16, &running(0, 9, 10), false);
        let b = eta_delay(&mut p, 24, &running(0, 9, 10), false);
        let c = eta_delay(&mut p, 90, &running(0, 9, 10), false);
        assert!(a >= 2.0 && b > a && c == 20.0, "{a} {b} {c}");
    }

    #[test]
    fn a_window_that_passes_with_the_count_still_is_not_stepped_through_again() {
        // 15 tasks at 100 s each, then the last one crawls on for an hour. Once the window
        // its pace gave has passed, the polls spread out from that moment (relative lag, up
        // to a third of the cap) instead of stepping through ever new windows.
        let mut p = Eta::with_seed(Duration::from_secs(2), Duration::from_secs(120), 5);
        let mut t = 0.0_f64;
        let mut first = true;
        let mut after = vec![];
        while t < 1400.0 + 3600.0 {
            let done = ((t / 100.0).floor() as i64).min(14);
            let d = p
                .next_delay(&PolicyInput {
                    now: Duration::from_secs_f64(t),
                    snapshot: Some(&running_with(0, done, 15, 15 - done)),
                    fault: None,
                    changed: first,
                })
                .as_secs_f64();
            if t > 1600.0 {
                after.push(d);
            }
            first = false;
            t += d;
        }
        // An hour of a crawling task: the ramp to 40 s, then every 40 s.
        assert!(
            after.len() < 3400 / 40 + 8,
            "{} polls: {after:?}",
            after.len()
        );
        assert!(after.iter().skip(8).all(|d| *d == 40.0), "{after:?}");
    }

    #[test]
    fn one_wave_keeps_the_lag_relative_to_its_age_and_under_a_third_of_the_cap() {
        // 8 tasks, all running, none done: the end may come at any poll and nothing says
        // when. Each delay is the time the sub-job has lasted (at least the first delay),
        // at most 40 s for a 120 s cap.
        let mut p = Eta::with_seed(Duration::from_secs(2), Duration::from_secs(120), 3);
        eta_delay(
            &mut p,
            0,
            &Snapshot::from(crate::dli::model::JobProgress {
                status: JobStatus::Running,
                ..Default::default()
            }),
            true,
        );
        let mut t = 10.0_f64;
        let mut first = true;
        let mut delays = vec![];
        while t < 3600.0 {
            let d = p
                .next_delay(&PolicyInput {
                    now: Duration::from_secs_f64(t),
                    snapshot: Some(&running_with(0, 0, 8, 8)),
                    fault: None,
                    changed: first,
                })
                .as_secs_f64();
            // Seen first at 10 s, after a poll at 0 s: it began at about 5 s.
            let age = t - 5.0;
            assert!(
                d >= 2.0 && d <= age.max(2.0) + 1e-9 && d <= 40.0,
                "at {t}: {d}"
            );
            delays.push(d);
            first = false;
            t += d;
        }
        assert_eq!(delays.last(), Some(&40.0));
        // About ln(40/2)/ln 2 polls to reach the cap, then one every 40 s.
        assert!(delays.len() < 3600 / 40 + 10, "{}", delays.len());
    }

    #[test]
    fn queued_tasks_wait_a_quarter_of_the_time_the_phase_has_lasted() {
        // 100 tasks, 10 running, none done after 400 s (a stage reading, or waiting for
        // executors): the end cannot come before the queued ones run.
        let mut p = Eta::with_seed(Duration::from_secs(2), Duration::from_secs(120), 3);
        eta_delay(&mut p, 0, &running_with(0, 0, 100, 10), true);
        let d = eta_delay(&mut p, 400, &running_with(0, 0, 100, 10), false);
        assert!((99.0..=101.0).contains(&d), "{d}");
        let d = eta_delay(&mut p, 4000, &running_with(0, 0, 100, 10), false);
        assert_eq!(d, 120.0);
    }

    #[test]
    fn a_late_start_is_allowed_for() {
        // 100 tasks: none reports for 60 s, then all finish steadily by 100 s. The bounds
        // allow for the work beginning late.
        let mut g = Segment::new(0, 100, Some(0.0), 1.0);
        for t in [1.0, 20.0, 40.0, 59.0] {
            g.record(t, 0);
        }
        g.record(65.0, 12);
        let (lo, hi) = g.bounds().unwrap();
        assert!(lo <= 100.0 && 100.0 <= hi, "{lo}..{hi}");
        // Another look, and the pace is known: the end is narrowed to near 100 s.
        g.record(81.0, 52);
        let (lo, hi) = g.bounds().unwrap();
        assert!(lo <= 100.0 && (100.0..110.0).contains(&hi), "{lo}..{hi}");
    }

    #[test]
    fn any_count_with_any_running_gives_a_delay_within_the_limits() {
        // As below, with running tasks too, and other caps and first delays.
        let mut rng = SmallRng::seed_from_u64(9);
        for (first, max) in [(2, 120), (1, 3), (5, 30), (2, 600), (10, 10)] {
            let (first, max) = (Duration::from_secs(first), Duration::from_secs(max));
            let mut p = Eta::with_seed(first, max, 1);
            let mut now = 0.0;
            for i in 0..5_000 {
                let total = rng.gen_range(-2..50);
                let snap = running_with(
                    rng.gen_range(0..3),
                    rng.gen_range(-5..60),
                    total,
                    rng.gen_range(-3..70),
                );
                let d = p.next_delay(&PolicyInput {
                    now: Duration::from_secs_f64(now),
                    snapshot: Some(&snap),
                    fault: None,
                    changed: i % 37 == 0,
                });
                assert!(d >= Duration::from_millis(200) && d <= max, "{d:?}");
                now += d.as_secs_f64() * rng.gen_range(0.5..3.0);
            }
        }
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

    #[test]
    fn a_prior_spares_polls_before_the_band_and_changes_nothing_past_it() {
        // One wave of 8 tasks for an hour (nothing bounds its end); past runs took 55-65 min.
        let prior = Prior::from_durations([3300, 3500, 3600, 3700, 3900].map(Duration::from_secs));
        let (lo, hi) = prior.as_ref().unwrap().band();
        let count = |p: Option<Prior>, until: f64| {
            let mut p =
                Eta::with_seed(Duration::from_secs(2), Duration::from_secs(120), 3).with_prior(p);
            let (mut t, mut polls, mut first) = (0.0_f64, vec![], true);
            while t < until {
                let d = p
                    .next_delay(&PolicyInput {
                        now: Duration::from_secs_f64(t),
                        snapshot: Some(&running_with(0, 0, 8, 8)),
                        fault: None,
                        changed: first,
                    })
                    .as_secs_f64();
                polls.push((t, d));
                first = false;
                t += d;
            }
            polls
        };
        let with = count(prior.clone(), hi + 600.0);
        let without = count(None, hi + 600.0);
        let before = |v: &[(f64, f64)]| v.iter().filter(|(t, _)| *t < lo).count();
        assert!(
            before(&with) * 3 < before(&without),
            "{} {}",
            before(&with),
            before(&without)
        );
        // No delay crosses into the band, none is longer than the job's age or 5 × the cap.
        for (t, d) in &with {
            assert!(*t >= lo - 1e-6 || t + d <= lo + 0.2 + 1e-6, "{t} + {d}");
            assert!(*d <= t.max(2.0) + 1e-6 && *d <= 600.0, "{t}: {d}");
        }
        // In the band polls are denser than the open cap; past it, today's cap again.
        let in_band: Vec<f64> = with
            .iter()
            .filter(|(t, _)| *t > lo + 60.0 && *t < hi)
            .map(|p| p.1)
            .collect();
        assert!(
            in_band.iter().all(|d| *d <= 40.0) && in_band.iter().any(|d| *d < 40.0),
            "{in_band:?}"
        );
        assert!(
            with.iter()
                .filter(|(t, _)| *t > hi + 120.0)
                .all(|p| p.1 == 40.0)
        );
    }

    proptest::proptest! {
        /// README's bound on the lag of a job that fails while the prior spaces its polls:
        /// no delay is longer than the longer of `--max-poll-interval` and the job's age
        /// (at most 5 × `--max-poll-interval`), whatever the past runs, the time the job ran
        /// before the wait, the caps and what the polls see.
        #[test]
        fn with_a_prior_no_delay_passes_the_failure_lag_bound(
            durations in proptest::collection::vec(1u64..20_000, 1..8),
            ran_for in 0u64..5_000,
            caps in proptest::sample::select(vec![(2u64, 120u64), (1, 3), (5, 30), (2, 600), (10, 10)]),
            seed in 0u64..1_000,
        ) {
            let prior = Prior::from_durations(durations.into_iter().map(Duration::from_secs))
                .map(|p| p.with_offset(Duration::from_secs(ran_for)));
            let (first, max) = (Duration::from_secs(caps.0), Duration::from_secs(caps.1));
            let mut p = Eta::with_seed(first, max, seed).with_prior(prior);
            let mut rng = SmallRng::seed_from_u64(seed);
            let (cap, mut now) = (max.as_secs_f64(), 0.0_f64);
            for i in 0..400 {
                let total = rng.gen_range(-2..50);
                let snap = running_with(
                    rng.gen_range(0..3),
                    rng.gen_range(-5..60),
                    total,
                    rng.gen_range(-3..70),
                );
                let d = p
                    .next_delay(&PolicyInput {
                        now: Duration::from_secs_f64(now),
                        snapshot: Some(&snap),
                        fault: None,
                        changed: i % 37 == 0,
                    })
                    .as_secs_f64();
                let age = now + ran_for as f64;
                let bound = cap.max(age.min(super::super::history::SPARSE_CAP_FACTOR * cap));
                proptest::prop_assert!(d <= bound + 1e-6, "at {now} (age {age}): {d} > {bound}");
                now += d * rng.gen_range(0.5..3.0);
            }
        }
    }
}
