//! SQL jobs (`/v1.0/{project_id}/jobs`), as a [`Kind`]: a poll reads `/progress` (state
//! and task counts), falling back to `/status` (state only) when `/progress` keeps answering
//! `DLI.0999`; the ending reads `/status` (DLI's reason and detail); a cancel is a DELETE; a
//! submit posts the SQL (`--sql`/`--sql-file`, `--conf`), with DLI's own deadline
//! (`dli.sql.job.timeout`) under `--cancel-on timeout` and the `--idempotency-key` as a tag; a
//! key's jobs are the job list's with that tag.

use super::key::{Key, PastJob, trusted};
use super::{Kind, Submitted};
use crate::cli::{CancelWhen, RunArgs, flag};
use crate::dli::bounded;
use crate::dli::client::{DliClient, Sent};
use crate::dli::fault::Fault;
use crate::dli::list::{MAX_SQL_PAGE_SIZE, SqlJobQuery, SqlOrder};
use crate::dli::model::{
    JobProgress, JobStatus, JobStatusInfo, PreviewResult, SQL_JOB_TIMEOUT_CONF, SubmitJob,
};
use crate::dli::pacer::Pacer;
use crate::wait::api::JobApi;
use crate::wait::history::{LIST_PAGE, Past};
use crate::wait::machine::{Endpoint, Fallback};
use crate::wait::snapshot::{DEFAULT_QUEUE, Figures, Snapshot, Source, TaskCounts, Words};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// The most characters of a statement sent as the list's `sql_pattern` (a piece DLI matches;
/// the whole statement is then compared here), so a long SQL keeps the URL short.
const PATTERN_CHARS: usize = 120;

/// The SQL job calls of a [`DliClient`].
#[derive(Debug, Clone)]
pub struct Sql(pub DliClient);

impl Source {
    /// A SQL job's `/progress`: state and task counts.
    pub const PROGRESS: Source = Source {
        name: "progress",
        counts: TaskCounts::Given,
        reason: false,
        words: &Words {
            what: "a SQL job",
            instead: "",
        },
    };
    /// A SQL job's `/status`: state, and DLI's reason and detail; no task counts.
    pub const STATUS: Source = Source {
        name: "status",
        counts: TaskCounts::NotHere,
        reason: true,
        words: &Words {
            what: "a SQL job",
            instead: "",
        },
    };
}

impl From<JobProgress> for Snapshot {
    fn from(p: JobProgress) -> Self {
        Snapshot {
            status: p.status,
            message: p.envelope.message,
            source: Source::PROGRESS,
            progress: p.progress,
            sub_job_id: p.sub_job_id,
            sub_jobs: p.sub_jobs,
            detail: None,
            queued: None,
            restart_times: None,
            restarted: None,
            figures: None,
        }
    }
}

impl From<JobStatusInfo> for Snapshot {
    fn from(s: JobStatusInfo) -> Self {
        let figures = figures_of(&s);
        Snapshot {
            status: s.status,
            message: s.envelope.message,
            source: Source::STATUS,
            progress: None,
            sub_job_id: None,
            sub_jobs: Vec::new(),
            figures: Some(Box::new(figures)),
            detail: s.detail,
            queued: None,
            restart_times: None,
            restarted: None,
        }
    }
}

/// What a `/status` answer says the job did (a count DLI gave as negative is none).
fn figures_of(s: &JobStatusInfo) -> Figures {
    let count = |v: Option<i64>| v.and_then(|n| u64::try_from(n).ok());
    Figures {
        duration: count(s.duration).map(Duration::from_millis),
        bytes_scanned: count(s.input_size),
        result_rows: count(s.result_count),
        input_rows: count(s.input_row_count),
        bad_rows: count(s.bad_row_count),
        job_type: s.job_type.clone().filter(|t| !t.is_empty()),
        queue: s.queue_name.clone().filter(|q| !q.is_empty()),
    }
}

impl JobApi for Sql {
    fn pacer(&self) -> Option<&Pacer> {
        self.0.pacer()
    }

    /// [`Endpoint::Primary`] is `/progress`, [`Endpoint::Fallback`] `/status`.
    async fn poll(
        &self,
        job_id: &str,
        endpoint: Endpoint,
        timeout: Duration,
    ) -> Result<Snapshot, Fault> {
        match endpoint {
            Endpoint::Primary => self.0.progress(job_id, timeout).await.map(Snapshot::from),
            Endpoint::Fallback => self.0.status(job_id, timeout).await.map(Snapshot::from),
        }
    }

    /// `/status`: the state, and DLI's reason and detail.
    async fn reason(&self, job_id: &str, timeout: Duration) -> Result<Snapshot, Fault> {
        self.0.status(job_id, timeout).await.map(Snapshot::from)
    }

    /// `/preview`: the first rows of a query's result.
    async fn preview(
        &self,
        job_id: &str,
        timeout: Duration,
    ) -> Result<Option<PreviewResult>, Fault> {
        self.0.preview(job_id, timeout).await.map(Some)
    }

    async fn cancel(&self, job_id: &str, timeout: Duration) -> Result<String, Fault> {
        self.0
            .cancel(job_id, timeout)
            .await
            .map(|r| r.envelope.message)
    }

    fn request_timeout(&self) -> Duration {
        self.0.config().request_timeout
    }

    fn short_lived_credentials(&self) -> bool {
        // Keys the client renews do not expire on it: a late 401 is no expiry of theirs.
        let credentials = &self.0.config().credentials;
        credentials.expire() && !credentials.renews()
    }
}

impl Kind for Sql {
    type Submission = SubmitJob;
    const FALLBACK: Fallback = Fallback::WhenBusy;
    const RESULTS: bool = true;

    fn new(client: DliClient, _settings: &crate::config::Settings) -> Self {
        Sql(client)
    }

    fn submission(args: &RunArgs, key: Option<&Key>) -> Result<(SubmitJob, Vec<String>), String> {
        let conf = user_conf(args)?;
        let sql = read_sql(args)?;
        let (conf, note) = with_deadline(conf, deadline_of(args));
        // A check needs the result, which DLI does not give on its shared queue: known now,
        // before anything is submitted.
        let queue = args.queue.as_deref().unwrap_or(DEFAULT_QUEUE);
        if args.output.fail_if_rows && queue == DEFAULT_QUEUE {
            return Err(format!(
                "{} needs the query's result, which DLI does not give for jobs on its `{DEFAULT_QUEUE}` queue{}: run it on a queue of your own ({} NAME); nothing was submitted",
                flag::FAIL_IF_ROWS,
                if args.queue.is_none() {
                    " (where a job without --queue runs)"
                } else {
                    ""
                },
                flag::QUEUE
            ));
        }
        let job = SubmitJob {
            sql,
            currentdb: args.database.clone(),
            queue_name: args.queue.clone(),
            conf,
            tags: key.iter().map(|k| k.tag()).collect(),
            ..SubmitJob::default()
        };
        Ok((job, note.into_iter().collect()))
    }

    /// `/status` for the job's statement, queue and start, then one page of the FINISHED
    /// jobs of the same statement on the same queue, newest first.
    async fn history(
        &self,
        job_id: &str,
        timeout: Duration,
        calls: &AtomicU32,
    ) -> Result<Option<Past>, Fault> {
        calls.fetch_add(1, Ordering::Relaxed);
        let status = self.0.status(job_id, timeout).await?;
        let Some(statement) = status.statement.filter(|s| !s.trim().is_empty()) else {
            return Ok(None);
        };
        let query = SqlJobQuery {
            job_status: Some(JobStatus::Finished),
            job_type: Some("ALL".into()),
            page_size: Some(LIST_PAGE),
            order: Some(SqlOrder::StartTimeDesc),
            queue_name: status.queue_name.clone(),
            sql_pattern: Some(statement.chars().take(PATTERN_CHARS).collect()),
            ..SqlJobQuery::default()
        };
        calls.fetch_add(1, Ordering::Relaxed);
        let list = self.0.list_sql_jobs(&query, timeout).await?;
        let now_ms = crate::dli::human::epoch_ms(std::time::SystemTime::now());
        let (durations, started_ago) = crate::wait::history::runs(
            now_ms,
            list.jobs
                .iter()
                .filter(|j| j.job_id.as_deref() != Some(job_id))
                .filter(|j| j.status == JobStatus::Finished)
                .filter(|j| j.statement.as_deref().map(str::trim) == Some(statement.trim()))
                .filter(|j| j.queue_name == status.queue_name || status.queue_name.is_none())
                .map(|j| (j.duration, j.start_time)),
        );
        let ran_for = crate::wait::history::ago(now_ms, status.start_time).unwrap_or_default();
        Ok(Some(Past {
            durations,
            started_ago,
            ran_for,
            statement: Some(statement),
            name: None,
            queue: status.queue_name.clone(),
            what: match &status.queue_name {
                Some(q) => format!("this statement on queue {q}"),
                None => "this statement".into(),
            },
        }))
    }

    /// The list's jobs tagged with the key (the newest 100: a key's jobs are a handful),
    /// trusted only when every item carries the tag and DLI counts no more than it listed
    /// ([`trusted`]): a list that ignored the filter must not make "no job, submit".
    async fn keyed(
        &self,
        key: &Key,
        _job: &SubmitJob,
        timeout: Duration,
    ) -> Result<Vec<PastJob>, Fault> {
        let tag = key.tag();
        let query = SqlJobQuery {
            tag: Some(tag.clone()),
            job_type: Some("ALL".into()),
            page_size: Some(MAX_SQL_PAGE_SIZE),
            current_page: Some(1),
            order: Some(SqlOrder::StartTimeDesc),
            ..SqlJobQuery::default()
        };
        let list = self.0.list_sql_jobs(&query, timeout).await?;
        let listed = list.jobs.len();
        let ours: Vec<PastJob> = list
            .jobs
            .into_iter()
            .filter(|j| j.has_tag(&tag))
            .filter_map(|j| {
                Some(PastJob {
                    id: j.job_id?,
                    status: j.status,
                    started_ms: j.start_time,
                    ended_ms: j.end_time,
                })
            })
            .collect();
        let hidden = listed - ours.len();
        trusted(ours, hidden, listed, list.job_count)
    }

    /// The job's `dli.sql.job.timeout`, from its `/status` `user_conf`.
    async fn own_deadline(&self, job_id: &str, timeout: Duration) -> Option<Duration> {
        let status = self.0.status(job_id, timeout).await.ok()?;
        conf_deadline(status.user_conf.as_deref()?)
    }

    async fn submit(
        &self,
        job: &SubmitJob,
        timeout: Duration,
        sent: &Sent,
    ) -> Result<Submitted, Fault> {
        let answer = self.0.submit(job, timeout, sent).await?;
        Ok(Submitted {
            ended: answer.is_sync(),
            id: answer.job_id,
            said: answer.envelope.message,
        })
    }

    #[cfg(feature = "simulator")]
    fn recorded(report: &JobReport, polls: &[(Duration, Seen)]) -> JobSpec {
        recorded(report, polls)
    }
}

#[cfg(feature = "simulator")]
use crate::{
    kind::Seen,
    sim::scenario::{End, JobSpec, Span, SubJobSpec},
    wait::{outcome::Outcome, record::JobReport},
};

/// The scenario job that plays back what `polls` saw of `report`'s job: time in LAUNCHING,
/// each sub-job from its first sighting to the next one's, the commit tail, and the ending
/// (a job whose end was not seen runs on forever). Times are since the wait started.
#[cfg(feature = "simulator")]
pub fn recorded(report: &JobReport, polls: &[(Duration, Seen)]) -> JobSpec {
    let secs = |d: Duration| Span(Some(d));
    let ended = polls.iter().find(|(_, s)| s.status.is_terminal());
    let ended_at = ended.map(|(t, _)| *t);
    let launching = polls
        .iter()
        .find(|(_, s)| s.status != JobStatus::Launching)
        .map_or_else(|| ended_at.unwrap_or(report.elapsed), |(t, _)| *t);
    // Each sub-job: first seen, and its size (tasks, stages) as last seen.
    let mut subs: Vec<(i64, Duration, i64, i64)> = Vec::new();
    for (t, s) in polls {
        let Some(id) = s.sub_job_id else { continue };
        let counts = s.counts;
        match subs.last_mut() {
            Some(last) if last.0 == id => (last.2, last.3) = counts,
            _ => subs.push((id, *t, counts.0, counts.1)),
        }
    }
    // A sub-job runs until the next one is seen, or until the last poll that showed it.
    let last_seen = |id: i64| {
        polls
            .iter()
            .filter(|(_, s)| s.sub_job_id == Some(id))
            .map(|(t, _)| *t)
            .next_back()
    };
    let mut sub_jobs = Vec::new();
    let mut clock = launching;
    for (i, (id, first, tasks, stages)) in subs.iter().enumerate() {
        let until = subs
            .get(i + 1)
            .map(|next| next.1)
            .or_else(|| last_seen(*id))
            .unwrap_or(*first);
        sub_jobs.push(SubJobSpec {
            gap: secs(first.saturating_sub(clock)),
            tasks: *tasks,
            stages: *stages,
            duration: secs(until.saturating_sub(*first).max(Duration::from_millis(1))),
            parallelism: 16,
            stragglers: None,
            stall_at: None,
            waves: false,
            flat_start: None,
        });
        clock = until.max(*first);
    }
    // How DLI said it ended (a FINISHED job whose check failed, or could not be made, is
    // FINISHED to DLI all the same).
    let finished = ended.is_some_and(|(_, s)| s.status == JobStatus::Finished);
    let (commit, end) = match (&report.outcome, ended_at) {
        (_, Some(t)) if finished => (secs(t.saturating_sub(clock)), End::Finished),
        (Outcome::Failed, Some(t)) => (
            secs(t.saturating_sub(clock)),
            End::Failed {
                message: report
                    .reason
                    .as_ref()
                    .map(|r| r.message.clone())
                    .unwrap_or_default(),
                detail: report.reason.as_ref().and_then(|r| r.detail.clone()),
            },
        ),
        (Outcome::Cancelled, Some(t)) => (secs(t.saturating_sub(clock)), End::Cancelled),
        // The end was not seen (timed out, stalled, interrupted): it goes on.
        _ => (Span(None), End::Finished),
    };
    JobSpec {
        id: Some(report.job_id.clone()),
        name: Some(format!("recorded: {}", report.outcome.label())),
        launching: secs(launching),
        sub_jobs,
        commit,
        end,
        ..JobSpec::default()
    }
}

/// The `--conf` settings as given (blank lines of `DLI_WAIT_CONF` left out), each checked
/// to be `key=value`.
fn user_conf(args: &RunArgs) -> Result<Vec<String>, String> {
    let conf: Vec<String> = args
        .conf
        .iter()
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect();
    if let Some(c) = conf.iter().find(|c| !c.contains('=')) {
        return Err(format!("bad {} {c:?}: write key=value", flag::CONF));
    }
    Ok(conf)
}

/// `dli.sql.job.timeout` (whole seconds) in a job's `user_conf` as `/status` gives it:
/// `k=v,k=v`, or a JSON object (`"dli.sql.job.timeout": "5"`); `None` without it.
pub fn conf_deadline(user_conf: &str) -> Option<Duration> {
    let (_, rest) = user_conf.split_once(SQL_JOB_TIMEOUT_CONF)?;
    let digits: String = rest
        .trim_start_matches(['"', '=', ':', ' '])
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok().map(Duration::from_secs)
}

/// The deadline `run` gives DLI for the job it submits (see [`dli_deadline`]).
fn deadline_of(args: &RunArgs) -> Option<u64> {
    let t = &args.timing;
    dli_deadline(
        t.timeout.get(),
        t.cancel_on.contains(&CancelWhen::Timeout),
        t.request_timeout,
    )
}

/// DLI's own deadline for a job `run` submits, in whole seconds (`dli.sql.job.timeout`):
/// only when the wait cancels at its own (`--cancel-on timeout` with a `--timeout`), then
/// that timeout plus one `--request-timeout`, rounded up. DLI's clock starts when it takes
/// the submit, the wait's deadline counts from the run's first request (`Session`'s one
/// deadline: the lookup, or the submit as it is sent): so DLI's deadline never comes before the wait's,
/// and the request timeout is a margin on top. Nobody asked for the job to end with the wait
/// otherwise: `None`.
pub fn dli_deadline(
    timeout: Option<Duration>,
    cancel_on_timeout: bool,
    request_timeout: Duration,
) -> Option<u64> {
    let total = timeout.filter(|_| cancel_on_timeout)? + request_timeout;
    let whole = total.as_secs() + u64::from(total.subsec_nanos() > 0);
    Some(whole.max(1))
}

/// `conf` with DLI's deadline added, unless it sets `dli.sql.job.timeout` itself: then the
/// user's wins, and the note says so.
pub fn with_deadline(
    mut conf: Vec<String>,
    deadline: Option<u64>,
) -> (Vec<String>, Option<String>) {
    let Some(secs) = deadline else {
        return (conf, None);
    };
    let own = conf.iter().find(|c| {
        c.split_once('=')
            .is_some_and(|(k, _)| k.trim() == SQL_JOB_TIMEOUT_CONF)
    });
    if let Some(own) = own {
        let note = format!(
            "DLI's own deadline for the job is your {} {own} (from {} and {} it would be {SQL_JOB_TIMEOUT_CONF}={secs})",
            flag::CONF,
            flag::TIMEOUT,
            flag::REQUEST_TIMEOUT
        );
        return (conf, Some(note));
    }
    conf.push(format!("{SQL_JOB_TIMEOUT_CONF}={secs}"));
    (conf, None)
}

fn read_sql(args: &RunArgs) -> Result<String, String> {
    let sql = match (&args.sql, &args.sql_file) {
        (Some(s), _) => s.clone(),
        (None, Some(p)) if p.as_os_str() == "-" => {
            bounded::read_string_from(std::io::stdin().lock(), bounded::SQL)
                .map_err(|e| format!("cannot read SQL from stdin: {e}"))?
        }
        (None, Some(p)) => bounded::read_string(p, bounded::SQL)
            .map_err(|e| format!("cannot read {} {}: {e}", flag::SQL_FILE, p.display()))?,
        (None, None) => {
            return Err(format!(
                "give the SQL with {} or {}",
                flag::SQL,
                flag::SQL_FILE
            ));
        }
    };
    if sql.trim().is_empty() {
        return Err("the SQL is empty".into());
    }
    Ok(sql)
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// DLI's deadline is never before the wait's: the wait's counts from the run's
        /// first request (at the latest, the submit as it is sent), DLI's from when it takes the submit, and N is
        /// at least the whole --timeout (plus one --request-timeout, rounded up).
        #[test]
        fn dlis_deadline_is_never_before_the_waits(t in 1u64..100_000_000, rt in 1u64..600_000) {
            let ms = Duration::from_millis;
            let n = dli_deadline(Some(ms(t)), true, ms(rt)).unwrap();
            proptest::prop_assert!(Duration::from_secs(n) >= ms(t) + ms(rt));
        }
    }

    #[test]
    fn a_jobs_own_deadline_is_read_from_its_settings() {
        let s = Duration::from_secs;
        assert_eq!(conf_deadline("a=b,dli.sql.job.timeout=5"), Some(s(5)));
        assert_eq!(
            conf_deadline(r#"{"dli.sql.job.timeout": "300", "a": "b"}"#),
            Some(s(300))
        );
        assert_eq!(conf_deadline("spark.sql.shuffle.partitions=10"), None);
        assert_eq!(conf_deadline("dli.sql.job.timeout=x"), None);
    }

    #[test]
    fn dlis_deadline_is_the_waits_plus_one_request_and_only_with_cancel_on_timeout() {
        let s = Duration::from_secs;
        assert_eq!(dli_deadline(Some(s(20)), true, s(30)), Some(50));
        assert_eq!(
            dli_deadline(
                Some(Duration::from_millis(1500)),
                true,
                Duration::from_millis(200)
            ),
            Some(2)
        );
        assert_eq!(dli_deadline(Some(s(20)), false, s(30)), None);
        assert_eq!(dli_deadline(None, true, s(30)), None);
    }

    #[test]
    fn a_users_own_deadline_wins_and_is_said() {
        let conf = |c: &[&str]| c.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        let (with, note) = with_deadline(conf(&["spark.x=1"]), Some(50));
        assert_eq!(with, conf(&["spark.x=1", "dli.sql.job.timeout=50"]));
        assert!(note.is_none());
        let (own, note) = with_deadline(conf(&["dli.sql.job.timeout = 7200"]), Some(50));
        assert_eq!(own, conf(&["dli.sql.job.timeout = 7200"]));
        let note = note.unwrap();
        assert!(
            note.contains("dli.sql.job.timeout = 7200") && note.contains("=50"),
            "{note}"
        );
        assert_eq!(with_deadline(conf(&["a=b"]), None), (conf(&["a=b"]), None));
    }
}
