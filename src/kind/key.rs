//! `run --idempotency-key`: the key (checked by DLI's tag rules before anything is sent), and
//! the one decision it makes, pure: the jobs submitted with the key in, whether to re-attach,
//! to stop because it already finished, or to submit, out. Knows no HTTP: each kind lists its
//! jobs (`Kind::keyed`), the session acts on the decision.

use crate::dli::model::{JobStatus, Tag};

/// The tag a SQL job carries its key in (`tags: [{"key": TAG_KEY, "value": <KEY>}]`).
pub const TAG_KEY: &str = "dli-wait-key";

/// The longest Spark batch `name` DLI takes, which a batch's key is.
pub const MAX_BATCH_NAME_CHARS: usize = 128;

/// A key that DLI's tag rules take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key(String);

impl Key {
    /// `text` as a key, or why DLI would refuse it as a tag value (a usage error before any
    /// request).
    pub fn parse(text: &str) -> Result<Key, String> {
        let key = Key(text.to_string());
        key.tag().check().map_err(|why| {
            let why = why.replace("the value", "it");
            format!(
                "bad --idempotency-key {:?}: {why} (the key is a DLI job tag's value, at most 255 characters, e.g. nightly-2026-12-02)",
                text.chars().take(60).collect::<String>()
            )
        })?;
        Ok(key)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The tag a SQL job submitted with this key carries.
    pub fn tag(&self) -> Tag {
        Tag {
            key: TAG_KEY.into(),
            value: self.0.clone(),
        }
    }
}

/// One job submitted with the key, as DLI's list shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct PastJob {
    pub id: String,
    pub status: JobStatus,
    /// When it was submitted (epoch milliseconds), if DLI says.
    pub started_ms: Option<i64>,
    /// When it ended (epoch milliseconds), if it has and DLI says.
    pub ended_ms: Option<i64>,
}

/// The line a lookup ends with when DLI's list cannot tell whether the key has a job.
pub const CANNOT_TELL: &str = "cannot tell whether a job with this key exists";

/// The key's jobs among one page of a list DLI answered: `ours` those that carry the key,
/// `hidden` the items that may be the key's but do not show it (a SQL job without the tag:
/// DLI ignored the filter, or left tags out of its items; a batch without a name or an id),
/// `listed` all the page's items, `total` how many DLI says match in all. The key's job
/// could hide among `hidden`, or beyond the page when DLI counts more than it listed: then
/// the answer is not trusted (a second submit could run the job twice): a permanent fault
/// saying why, which ends the lookup.
pub fn trusted(
    ours: Vec<PastJob>,
    hidden: usize,
    listed: usize,
    total: Option<i64>,
) -> Result<Vec<PastJob>, crate::dli::fault::Fault> {
    let why = if hidden > 0 {
        Some(format!(
            "DLI's list answered {listed} job(s), {hidden} of them without the key or an id (the list ignored its filter, or leaves the key out)"
        ))
    } else {
        total
            .filter(|t| usize::try_from(*t).map_or(true, |t| t > listed))
            .map(|t| {
                format!(
                    "DLI counts {t} matching job(s) but listed {listed} (only one page is read)"
                )
            })
    };
    match why {
        Some(why) => Err(crate::dli::fault::Fault::permanent(
            crate::dli::fault::FaultKind::MalformedBody,
            format!("{why}: {CANNOT_TELL}"),
        )),
        None => Ok(ours),
    }
}

/// What to do with a key's past jobs.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// A job with the key has not ended: wait for it instead of submitting.
    Reattach(PastJob),
    /// The newest job with the key FINISHED (Spark: `success`): nothing to do, exit 0.
    AlreadyFinished(PastJob),
    /// No job with the key, or the newest ended without finishing (FAILED, CANCELLED, Spark
    /// `dead`): submit, as a retry should. `after` is that job, if one.
    Submit { after: Option<PastJob> },
}

/// The decision on `jobs` (any order): re-attach to the newest job that has not ended (a
/// status DLI did not define counts as not ended: it may be running); else the newest job
/// decides: FINISHED stops, anything else submits again. Newest is by submit time, DLI's
/// list order breaking ties (its first is the newest).
pub fn decide(jobs: &[PastJob]) -> Decision {
    let newest = |pick: &dyn Fn(&PastJob) -> bool| {
        jobs.iter()
            .enumerate()
            .filter(|(_, j)| pick(j))
            // Newest first: the latest start, and among equals the one listed first.
            .max_by_key(|(i, j)| (j.started_ms.unwrap_or(i64::MIN), std::cmp::Reverse(*i)))
            .map(|(_, j)| j.clone())
    };
    if let Some(running) = newest(&|j| !j.status.is_terminal()) {
        return Decision::Reattach(running);
    }
    match newest(&|_| true) {
        Some(j) if j.status == JobStatus::Finished || j.status == JobStatus::Success => {
            Decision::AlreadyFinished(j)
        }
        after => Decision::Submit { after },
    }
}

/// When a past job's moment `ms` (epoch milliseconds) was, for people: UTC, and how long
/// before `now`.
pub fn when(ms: i64, now: std::time::SystemTime) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second] UTC"
            ))
            .ok()
        });
    let now_ms = crate::dli::human::epoch_ms(now);
    let ago = u64::try_from(now_ms.saturating_sub(ms))
        .ok()
        .map(|ms| crate::dli::human::duration(std::time::Duration::from_secs(ms / 1000)));
    match (at, ago) {
        (Some(at), Some(ago)) => format!("at {at}, {ago} ago"),
        (Some(at), None) => format!("at {at}"),
        _ => format!("at a time DLI gave as {ms} (epoch milliseconds)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A page is trusted only when every item shows the key and DLI counts no more than
    /// it listed; otherwise the lookup cannot tell, and says so.
    #[test]
    fn a_page_that_may_hide_the_keys_job_is_not_trusted() {
        let one = vec![job("a", JobStatus::Running, 1)];
        assert_eq!(trusted(one.clone(), 0, 1, Some(1)).unwrap(), one);
        assert_eq!(trusted(Vec::new(), 0, 0, None).unwrap(), Vec::new());
        for (hidden, listed, total) in [(1, 2, Some(2)), (0, 1, Some(101)), (0, 100, Some(250))] {
            let why = trusted(one.clone(), hidden, listed, total).unwrap_err();
            assert!(!why.is_transient(), "{why}");
            assert!(why.message.ends_with(CANNOT_TELL), "{why}");
        }
    }

    fn job(id: &str, status: JobStatus, started: i64) -> PastJob {
        PastJob {
            id: id.into(),
            status,
            started_ms: Some(started),
            ended_ms: None,
        }
    }

    #[test]
    fn when_says_the_moment_and_how_long_ago() {
        let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_764_673_323);
        assert_eq!(
            when(1_764_666_123_000, now),
            "at 2025-12-02 09:02:03 UTC, 2h ago"
        );
    }

    #[test]
    fn keys_follow_dlis_tag_rules() {
        for ok in [
            "nightly-2026-12-02",
            "1234567-lint",
            "842-build: test @main",
        ] {
            assert_eq!(Key::parse(ok).unwrap().tag().value, ok);
        }
        for (bad, says) in [
            ("", "it is empty"),
            ("a/b", "letters, digits"),
            ("k=v", "letters, digits"),
            ("line\nbreak", "letters, digits"),
        ] {
            let why = Key::parse(bad).unwrap_err();
            assert!(
                why.contains(says) && why.starts_with("bad --idempotency-key"),
                "{bad:?}: {why}"
            );
        }
        assert!(Key::parse(&"k".repeat(256)).unwrap_err().contains("256"));
    }

    #[test]
    fn each_state_of_the_newest_job_decides() {
        use JobStatus::*;
        assert_eq!(decide(&[]), Decision::Submit { after: None });
        for status in [
            Launching,
            Running,
            Scaling,
            Starting,
            Recovering,
            Other("NEW".into()),
        ] {
            let j = job("a", status, 1);
            assert_eq!(decide(std::slice::from_ref(&j)), Decision::Reattach(j));
        }
        for status in [Finished, Success] {
            let j = job("a", status, 1);
            assert_eq!(
                decide(std::slice::from_ref(&j)),
                Decision::AlreadyFinished(j)
            );
        }
        for status in [Failed, Cancelled, Dead] {
            let j = job("a", status, 1);
            assert_eq!(
                decide(std::slice::from_ref(&j)),
                Decision::Submit { after: Some(j) }
            );
        }
        // A retry that failed after an older one finished: the newest decides.
        let (old, new) = (job("old", Finished, 1), job("new", Failed, 2));
        assert_eq!(
            decide(&[new.clone(), old]),
            Decision::Submit { after: Some(new) }
        );
        // A job still running wins over a newer one that ended.
        let (run, done) = (job("run", Running, 1), job("done", Finished, 2));
        assert_eq!(decide(&[done, run.clone()]), Decision::Reattach(run));
        // The same submit time: DLI's first (its newest) wins.
        let (a, b) = (job("a", Failed, 5), job("b", Finished, 5));
        assert_eq!(decide(&[b.clone(), a]), Decision::AlreadyFinished(b));
    }

    fn status() -> impl Strategy<Value = JobStatus> {
        prop_oneof![
            Just(JobStatus::Launching),
            Just(JobStatus::Running),
            Just(JobStatus::Finished),
            Just(JobStatus::Failed),
            Just(JobStatus::Cancelled),
            Just(JobStatus::Starting),
            Just(JobStatus::Success),
            Just(JobStatus::Dead),
            "[A-Z]{1,6}".prop_map(|s| JobStatus::from(s.as_str())),
        ]
    }

    proptest! {
        /// The promise: never a second submit while a job with the key may still run or
        /// after the newest one finished; and a decision names a job of the list.
        #[test]
        fn never_submits_while_one_runs_or_after_the_newest_finished(
            jobs in proptest::collection::vec((status(), 0i64..5), 0..8)
        ) {
            let jobs: Vec<PastJob> = jobs
                .into_iter()
                .enumerate()
                .map(|(i, (s, t))| job(&format!("j{i}"), s, t))
                .collect();
            match decide(&jobs) {
                Decision::Submit { after } => {
                    prop_assert!(jobs.iter().all(|j| j.status.is_terminal()));
                    let latest = jobs.iter().map(|j| j.started_ms).max().flatten();
                    prop_assert!(jobs
                        .iter()
                        .filter(|j| j.started_ms == latest)
                        .any(|j| j.status != JobStatus::Finished && j.status != JobStatus::Success)
                        || jobs.is_empty());
                    prop_assert_eq!(after.is_none(), jobs.is_empty());
                }
                Decision::Reattach(j) => {
                    prop_assert!(!j.status.is_terminal());
                    prop_assert!(jobs.contains(&j));
                }
                Decision::AlreadyFinished(j) => {
                    prop_assert!(jobs.iter().all(|j| j.status.is_terminal()));
                    prop_assert!(jobs.contains(&j));
                }
            }
        }
    }
}
