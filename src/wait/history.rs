//! The prior from a job's past runs: how long the same job took before (DLI's job lists, or
//! `--expect`), turned into where its end is plausible. Pure: durations in, a polling plan
//! out; no sockets, no clock. The policy (`wait::policy::Eta`) asks it, at each poll, how
//! far the job's age is from the range its past runs ended in.
//!
//! The plan, with `lo`..`hi` the band past runs ended in (their least and greatest duration,
//! widened by [`MARGIN`]) and `core` the middle half of them:
//! - before `lo`: few polls, each at most [`BEFORE_FRACTION`] of the time left to `lo`, at
//!   most the job's age (a job that fails early is seen by twice its age at the latest), at
//!   most [`SPARSE_CAP_FACTOR`] × `--max-poll-interval`;
//! - in the band: today's policy, but where nothing bounds the end the polls are at most
//!   [`BAND_OPEN`] apart at the core, growing with the distance from it;
//! - past `hi`: today's policy, as if there were no prior.

use std::time::Duration;

/// At most this many past runs are used (the newest): a list page holds them.
pub const MAX_RUNS: usize = 30;
/// The band is widened by this share of the past durations' median on each side.
pub const MARGIN: f64 = 0.08;
/// Before the band, wait at most this fraction of the time left until it.
pub const BEFORE_FRACTION: f64 = 0.8;
/// Before the band, a delay is at most this many times `--max-poll-interval`.
pub const SPARSE_CAP_FACTOR: f64 = 5.0;
/// In the band, where nothing bounds the end, polls this far apart at the core...
pub const BAND_OPEN: f64 = 12.0;
/// ...and this much farther apart per second away from it.
pub const BAND_SLOPE: f64 = 0.05;
/// A short band gets at least this many polls where nothing bounds the end.
pub const BAND_POLLS: f64 = 8.0;
/// `--expect D`: the band is `D` × (1 ∓ this).
pub const EXPECT_SPREAD: f64 = 0.25;

/// What a kind found of a job's past runs (`kind::Kind::history`): their durations, newest
/// first, and how long the job had run when the wait began.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Past {
    pub durations: Vec<Duration>,
    /// How long before the lookup each run started (with `durations`), where DLI said.
    pub started_ago: Vec<Option<Duration>>,
    pub ran_for: Duration,
    /// What the runs have in common, for people: `this statement on queue q`.
    pub what: String,
    /// The statement (SQL) or name (a batch) and queue they share (`--record` writes them
    /// with the runs).
    pub statement: Option<String>,
    pub name: Option<String>,
    pub queue: Option<String>,
}

/// How long before `now_ms` (epoch milliseconds) the moment `t` was, where DLI said.
pub fn ago(now_ms: i64, t: Option<i64>) -> Option<Duration> {
    t.and_then(|t| u64::try_from(now_ms.saturating_sub(t)).ok())
        .map(Duration::from_millis)
}

/// Past runs as a job list gives them, newest first: each one's DLI `duration` and start (epoch
/// milliseconds). What [`Past`] keeps of them: the newest [`MAX_RUNS`] that lasted (a positive
/// duration), with how long before `now_ms` each started.
pub fn runs(
    now_ms: i64,
    listed: impl Iterator<Item = (Option<i64>, Option<i64>)>,
) -> (Vec<Duration>, Vec<Option<Duration>>) {
    listed
        .filter_map(|(duration_ms, started_ms)| {
            let ms = duration_ms.and_then(|ms| u64::try_from(ms).ok())?;
            (ms > 0).then(|| (Duration::from_millis(ms), ago(now_ms, started_ms)))
        })
        .take(MAX_RUNS)
        .unzip()
}

impl Past {
    /// The prior these runs give, if any.
    pub fn prior(&self) -> Option<Prior> {
        Prior::from_durations(self.durations.iter().copied()).map(|p| p.with_offset(self.ran_for))
    }
}

/// The most past runs asked for in one list call: the newest [`MAX_RUNS`], and a few more for
/// the job itself and runs that are not the same job after all.
pub const LIST_PAGE: u32 = MAX_RUNS as u32 + 5;

/// Where a job of a given age stands against its past runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Phase {
    /// Before the earliest plausible end, `left` seconds from it.
    Before { left: f64 },
    /// In the band; `from_core` seconds from its middle half (0 inside it).
    Within { from_core: f64 },
    /// Past the latest plausible end: the job overruns its history.
    Past,
}

/// The plausible end of a job, from its past durations.
#[derive(Debug, Clone, PartialEq)]
pub struct Prior {
    /// Seconds: the band's edges and its middle half.
    lo: f64,
    hi: f64,
    core: (f64, f64),
    runs: usize,
    /// How long the job had run when the wait began (a wait by id for a running job).
    offset: f64,
}

/// `q` (0–1) of `sorted` values, linearly between neighbours.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let x = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (i, frac) = (x.floor() as usize, x - x.floor());
    let next = sorted[(i + 1).min(sorted.len() - 1)];
    sorted[i] + (next - sorted[i]) * frac
}

impl Prior {
    /// From past runs' durations, newest first: the first [`MAX_RUNS`] that are positive and
    /// finite. `None` when there are none.
    pub fn from_durations(durations: impl IntoIterator<Item = Duration>) -> Option<Prior> {
        let mut d: Vec<f64> = durations
            .into_iter()
            .map(|d| d.as_secs_f64())
            .filter(|s| s.is_finite() && *s > 0.0)
            .take(MAX_RUNS)
            .collect();
        if d.is_empty() {
            return None;
        }
        d.sort_by(f64::total_cmp);
        let margin = MARGIN * quantile(&d, 0.5);
        Some(Prior {
            lo: (d[0] - margin).max(0.0),
            hi: d[d.len() - 1] + margin,
            core: (quantile(&d, 0.25), quantile(&d, 0.75)),
            runs: d.len(),
            offset: 0.0,
        })
    }

    /// `--expect D`: one expected duration, given by hand.
    pub fn expect(d: Duration) -> Option<Prior> {
        let s = d.as_secs_f64();
        (s.is_finite() && s > 0.0).then(|| Prior {
            lo: s * (1.0 - EXPECT_SPREAD),
            hi: s * (1.0 + EXPECT_SPREAD),
            core: (
                s * (1.0 - EXPECT_SPREAD / 2.0),
                s * (1.0 + EXPECT_SPREAD / 2.0),
            ),
            runs: 0,
            offset: 0.0,
        })
    }

    /// The job had already run `d` when the wait began.
    pub fn with_offset(mut self, d: Duration) -> Prior {
        self.offset = d.as_secs_f64();
        self
    }

    /// How many past runs it is made of (0: `--expect`).
    pub fn runs(&self) -> usize {
        self.runs
    }

    /// The band, in seconds of the job's age.
    pub fn band(&self) -> (f64, f64) {
        (self.lo, self.hi)
    }

    /// Where the job stands `now` seconds into the wait.
    pub fn phase(&self, now: f64) -> Phase {
        let age = now + self.offset;
        if age < self.lo {
            Phase::Before {
                left: self.lo - age,
            }
        } else if age <= self.hi {
            let from_core = (self.core.0 - age).max(age - self.core.1).max(0.0);
            Phase::Within { from_core }
        } else {
            Phase::Past
        }
    }

    /// The longest delay the prior allows before the band, `now` seconds into the wait, with
    /// `first` the shortest delay and `max` the `--max-poll-interval`: a fraction of the time
    /// left to the band, at most the job's age (at least `first`), at most
    /// [`SPARSE_CAP_FACTOR`] × `max`. `None` in or past the band.
    pub fn sparse_delay(&self, now: f64, first: f64, max: f64) -> Option<f64> {
        let Phase::Before { left } = self.phase(now) else {
            return None;
        };
        let age = (now + self.offset).max(first);
        Some(
            (BEFORE_FRACTION * left)
                .min(age)
                .min(SPARSE_CAP_FACTOR * max)
                .max(left.min(first)),
        )
    }

    /// The longest delay the prior ever allows, `now` seconds into the wait: the job's age,
    /// at most [`SPARSE_CAP_FACTOR`] × `max`; `None` past the band.
    pub fn bound(&self, now: f64, max: f64) -> Option<f64> {
        (self.phase(now) != Phase::Past).then(|| (now + self.offset).min(SPARSE_CAP_FACTOR * max))
    }

    /// In the band, where nothing bounds the end: the longest delay, densest at the core.
    /// `None` before or past the band.
    pub fn open_delay(&self, now: f64) -> Option<f64> {
        match self.phase(now) {
            Phase::Within { from_core } => Some(
                (BAND_OPEN + BAND_SLOPE * from_core)
                    .min(((self.hi - self.lo) / BAND_POLLS).max(1.0)),
            ),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(v: &[f64]) -> Vec<Duration> {
        v.iter().map(|s| Duration::from_secs_f64(*s)).collect()
    }

    /// What a job list gives becomes the newest MAX_RUNS runs that lasted: runs DLI gave no or
    /// no positive duration are skipped before the cap, not counted in it; each start is
    /// how long before now it was (none where DLI gave none, or one in the future).
    #[test]
    fn the_runs_kept_are_the_newest_that_lasted() {
        let now = 1_000_000_000;
        let mut listed = vec![(None, Some(now - 5_000)), (Some(0), None), (Some(-3), None)];
        listed.extend((0..40).map(|i| (Some(20_000 + i), Some(now - 60_000 * (i + 1)))));
        listed.push((Some(7_000), Some(now + 9_000)));
        let (durations, started) = runs(now, listed.into_iter());
        assert_eq!(durations.len(), MAX_RUNS);
        assert_eq!(durations[0], Duration::from_millis(20_000));
        assert_eq!(
            durations[MAX_RUNS - 1],
            Duration::from_millis(20_000 + MAX_RUNS as u64 - 1)
        );
        assert_eq!(started[0], Some(Duration::from_secs(60)));
        assert_eq!(ago(now, Some(now + 9_000)), None);
        assert_eq!(ago(now, None), None);
    }

    #[test]
    fn the_band_holds_every_past_run_and_the_core_the_middle_half() {
        let p = Prior::from_durations(secs(&[100.0, 120.0, 80.0, 110.0, 90.0])).unwrap();
        let (lo, hi) = p.band();
        assert!(lo < 80.0 && hi > 120.0, "{lo}..{hi}");
        assert_eq!(p.core, (90.0, 110.0));
        assert_eq!(p.phase(100.0), Phase::Within { from_core: 0.0 });
        assert_eq!(p.phase(10.0), Phase::Before { left: lo - 10.0 });
        assert_eq!(p.phase(hi + 1.0), Phase::Past);
        assert_eq!(p.runs(), 5);
    }

    #[test]
    fn no_usable_duration_is_no_prior() {
        assert!(Prior::from_durations(vec![]).is_none());
        assert!(Prior::from_durations(secs(&[0.0])).is_none());
        assert!(Prior::expect(Duration::ZERO).is_none());
    }

    #[test]
    fn only_the_newest_runs_count() {
        let mut d = vec![100.0; MAX_RUNS];
        d.push(10_000.0);
        let p = Prior::from_durations(secs(&d)).unwrap();
        assert!(p.band().1 < 200.0, "{:?}", p.band());
    }

    #[test]
    fn before_the_band_the_delay_never_passes_it_nor_the_age_nor_the_cap() {
        let p = Prior::from_durations(secs(&[3600.0, 3700.0, 3500.0])).unwrap();
        let (lo, _) = p.band();
        let mut now = 0.0;
        let mut polls = 0;
        while let Some(d) = p.sparse_delay(now, 2.0, 120.0) {
            assert!(d >= 0.2_f64.min(lo - now) && d <= 600.0, "{d}");
            assert!(
                now + d <= lo + 1e-9 && d <= now.max(2.0) + 1e-9,
                "{now} {d}"
            );
            now += d;
            polls += 1;
            if lo - now < 1e-6 {
                break;
            }
        }
        // An hour before the band costs under 20 polls (doubling from 2 s, then 10 min
        // apart, then closing in), not 30 at the 2-minute cap.
        assert!(polls < 20, "{polls}");
        assert!(p.open_delay(lo + 1.0).is_some() && p.sparse_delay(lo + 1.0, 2.0, 120.0).is_none());
    }

    #[test]
    fn in_the_band_polls_are_densest_at_the_core() {
        let p = Prior::from_durations(secs(&[1000.0, 1100.0, 1200.0, 1300.0, 1400.0])).unwrap();
        let core = p.open_delay(1200.0).unwrap();
        let edge = p.open_delay(p.band().1 - 1.0).unwrap();
        assert_eq!(core, BAND_OPEN);
        assert!(edge > core, "{edge} {core}");
        assert!(p.open_delay(p.band().1 + 1.0).is_none());
    }

    #[test]
    fn an_offset_counts_the_time_the_job_ran_before_the_wait() {
        let p = Prior::expect(Duration::from_secs(100))
            .unwrap()
            .with_offset(Duration::from_secs(90));
        assert!(matches!(p.phase(0.0), Phase::Within { .. }));
        assert_eq!(p.phase(100.0), Phase::Past);
    }
}
