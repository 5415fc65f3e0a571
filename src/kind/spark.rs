//! Spark batch jobs (`/v2.0/{project_id}/batches`), as a [`Kind`], on the same client, rate
//! limit and machine as SQL jobs. A poll reads the batch's `/state` (no task counts, so no
//! stall detection, and nothing to fall back to: `DLI.0999` is retried until the deadline);
//! the ending (a failure's reason, a cancel's confirmation) reads its details, whose log tail
//! says why it died, and when that says nothing, the last lines of its log. A submit posts
//! the `--spark-file` body. A batch's `--idempotency-key` is its `name` (the body's, which the
//! key becomes; a body that names its batch otherwise is a usage error), and its past jobs
//! are the batch list's of that name.

use super::key::{Key, MAX_BATCH_NAME_CHARS, PastJob, trusted};
use super::{Kind, Submitted};
use crate::cli::{RunArgs, flag};
use crate::dli::bounded;
use crate::dli::client::{DliClient, Sent};
use crate::dli::fault::Fault;
use crate::dli::list::{BatchOrder, BatchQuery};
use crate::dli::model::JobStatus;
use crate::dli::pacer::{Lane, Pacer};
use crate::dli::spark::{BatchDetails, BatchState, check_batch, reason_in};
use crate::wait::api::JobApi;
use crate::wait::history::{self, LIST_PAGE, Past};
use crate::wait::machine::{Endpoint, Fallback};
use crate::wait::snapshot::{Figures, Snapshot, Source, TaskCounts, Words};
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tokio::time::Instant;

impl Source {
    /// A Spark batch's `/state` or details: no task counts, ever.
    pub const BATCH: Source = Source {
        name: "batch",
        counts: TaskCounts::Never,
        reason: false,
        words: &Words {
            what: "a Spark batch",
            instead: "the wait ends at success, dead or --timeout",
        },
    };
}

impl From<BatchState> for Snapshot {
    fn from(b: BatchState) -> Self {
        Snapshot::of_batch(b.state, String::new())
    }
}

impl From<BatchDetails> for Snapshot {
    /// The details as a batch's ending reads them: the state, and why, from the log's tail.
    fn from(b: BatchDetails) -> Self {
        let reason = b.reason().unwrap_or_default();
        let duration = b
            .duration
            .and_then(|ms| u64::try_from(ms).ok())
            .map(Duration::from_millis);
        let queue = b.queue.clone().filter(|q| !q.is_empty());
        let mut snap = Snapshot::of_batch(b.state, reason);
        snap.figures = Some(Box::new(Figures {
            duration,
            queue,
            ..Figures::default()
        }));
        snap
    }
}

impl Snapshot {
    /// A Spark batch in `status`, with `message` (why it ended, when it has).
    pub fn of_batch(status: JobStatus, message: String) -> Self {
        Snapshot {
            status,
            message,
            source: Source::BATCH,
            progress: None,
            sub_job_id: None,
            sub_jobs: Vec::new(),
            detail: None,
            queued: None,
            restart_times: None,
            restarted: None,
            figures: None,
        }
    }
}

/// The Spark batch calls of a [`DliClient`], as the driver needs them.
#[derive(Debug, Clone)]
pub struct Spark(pub DliClient);

impl Spark {
    /// The details of a batch as a snapshot, with the reason it died: the details' log tail,
    /// or when that says nothing, the last lines of the batch's log (one more request, which
    /// takes its turn under the rate limit, within `timeout` in all).
    async fn details(&self, batch_id: &str, timeout: Duration) -> Result<Snapshot, Fault> {
        let by = Instant::now() + timeout;
        let details = self.0.batch(batch_id, timeout).await?;
        let mut snap = Snapshot::from(details);
        if snap.status == JobStatus::Dead && snap.message.is_empty() {
            let left = by.saturating_duration_since(Instant::now());
            let log = match self.0.turn(Lane::Normal, Some(left)).await {
                Ok(()) => {
                    let left = by.saturating_duration_since(Instant::now());
                    self.0.batch_log(batch_id, left).await
                }
                Err(f) => Err(f),
            };
            match log {
                Ok(log) => snap.message = reason_in(&log.log).unwrap_or_default(),
                Err(e) => {
                    tracing::debug!(batch_id, error = %e, "could not read the batch's log");
                }
            }
        }
        Ok(snap)
    }
}

impl JobApi for Spark {
    fn pacer(&self) -> Option<&Pacer> {
        self.0.pacer()
    }

    /// Every poll reads `/state` (a batch has no endpoint to fall back to: [`Kind::FALLBACK`]
    /// is never, so [`Endpoint::Fallback`] is never asked for; it would read the details).
    async fn poll(
        &self,
        job_id: &str,
        endpoint: Endpoint,
        timeout: Duration,
    ) -> Result<Snapshot, Fault> {
        match endpoint {
            Endpoint::Primary => self
                .0
                .batch_state(job_id, timeout)
                .await
                .map(Snapshot::from),
            Endpoint::Fallback => self.details(job_id, timeout).await,
        }
    }

    /// The details and, for a dead batch, why.
    async fn reason(&self, job_id: &str, timeout: Duration) -> Result<Snapshot, Fault> {
        self.details(job_id, timeout).await
    }

    /// DLI's `{"msg": "deleted"}` says only that the DELETE was taken: no message.
    async fn cancel(&self, job_id: &str, timeout: Duration) -> Result<String, Fault> {
        let answer = self.0.cancel_batch(job_id, timeout).await?;
        Ok(if answer.msg.trim().eq_ignore_ascii_case("deleted") {
            String::new()
        } else {
            answer.msg
        })
    }

    fn request_timeout(&self) -> Duration {
        self.0.config().request_timeout
    }

    fn short_lived_credentials(&self) -> bool {
        self.0.config().credentials.expire()
    }
}

impl Kind for Spark {
    type Submission = serde_json::Value;
    const FALLBACK: Fallback = Fallback::Never;
    const RESULTS: bool = false;

    fn new(client: DliClient, _settings: &crate::config::Settings) -> Self {
        Spark(client)
    }

    fn submission(
        args: &RunArgs,
        key: Option<&Key>,
    ) -> Result<(serde_json::Value, Vec<String>), String> {
        let Some(path) = args.spark_file.as_deref() else {
            return Err(format!("no {} to submit", flag::SPARK_FILE));
        };
        let batch = read_batch(path)?;
        let batch = match key {
            Some(key) => named_by(batch, key, path)?,
            None => batch,
        };
        Ok((batch, Vec::new()))
    }

    /// The batches named by the key (the newest 100, on the body's queue when it names one,
    /// as DLI advises), trusted only when every item shows its name and DLI counts no more
    /// than it listed ([`trusted`]). Any batch of that name counts, whoever submitted it: a
    /// key must be new for every run that should run anew.
    async fn keyed(
        &self,
        key: &Key,
        batch: &serde_json::Value,
        timeout: Duration,
    ) -> Result<Vec<PastJob>, Fault> {
        let queue = ["queue", "cluster_name"]
            .iter()
            .find_map(|k| batch.get(*k).and_then(|v| v.as_str()))
            .map(str::to_string);
        let query = BatchQuery {
            job_name: Some(key.as_str().to_string()),
            queue_name: queue,
            from: Some(0),
            size: Some(100),
            order: Some(BatchOrder::CreateTimeDesc),
            ..BatchQuery::default()
        };
        let list = self.0.list_batches(&query, timeout).await?;
        let listed = list.sessions.len();
        // A batch named otherwise is not the key's (DLI's name filter may match more); one
        // without a name or an id may be.
        let hidden = list
            .sessions
            .iter()
            .filter(|b| {
                b.name.is_none() || (b.name.as_deref() == Some(key.as_str()) && b.id.is_none())
            })
            .count();
        let ours: Vec<PastJob> = list
            .sessions
            .into_iter()
            .filter(|b| b.name.as_deref() == Some(key.as_str()))
            .filter_map(|b| {
                let ended = b.state.is_terminal();
                Some(PastJob {
                    id: b.id?,
                    status: b.state,
                    started_ms: b.create_time,
                    ended_ms: b.update_time.filter(|_| ended),
                })
            })
            .collect();
        trusted(ours, hidden, listed, list.total)
    }

    /// The batch's details for its name and queue, then one page of the batches of that
    /// name on that queue, newest first; those that succeeded (`success`) count.
    async fn history(
        &self,
        job_id: &str,
        timeout: Duration,
        calls: &AtomicU32,
    ) -> Result<Option<Past>, Fault> {
        calls.fetch_add(1, Ordering::Relaxed);
        let details = self.0.batch(job_id, timeout).await?;
        let Some(name) = details.name.filter(|n| !n.trim().is_empty()) else {
            return Ok(None);
        };
        let queue = details.queue.or(details.cluster_name);
        let query = BatchQuery {
            job_name: Some(name.clone()),
            queue_name: queue.clone(),
            from: Some(0),
            size: Some(LIST_PAGE),
            order: Some(BatchOrder::CreateTimeDesc),
            ..BatchQuery::default()
        };
        calls.fetch_add(1, Ordering::Relaxed);
        let list = self.0.list_batches(&query, timeout).await?;
        let now_ms = crate::dli::human::epoch_ms(std::time::SystemTime::now());
        let (durations, started_ago) = history::runs(
            now_ms,
            list.sessions
                .iter()
                .filter(|b| b.id.as_deref() != Some(job_id))
                .filter(|b| b.state == JobStatus::Success)
                .filter(|b| b.name.as_deref() == Some(name.as_str()))
                .map(|b| (b.duration, b.create_time)),
        );
        Ok(Some(Past {
            durations,
            started_ago,
            ran_for: history::ago(now_ms, details.create_time).unwrap_or_default(),
            what: match &queue {
                Some(q) => format!("batch {name} on queue {q}"),
                None => format!("batch {name}"),
            },
            statement: None,
            name: Some(name),
            queue,
        }))
    }

    async fn submit(
        &self,
        batch: &serde_json::Value,
        timeout: Duration,
        sent: &Sent,
    ) -> Result<Submitted, Fault> {
        let answer = self.0.submit_batch(batch, timeout, sent).await?;
        Ok(Submitted {
            said: answer.state.clone().unwrap_or_default(),
            id: answer.id,
            ended: false,
        })
    }

    #[cfg(feature = "simulator")]
    fn recorded(report: &JobReport, polls: &[(Duration, Seen)]) -> JobSpec {
        recorded(report, polls)
    }
}

/// `batch` named by `key` (its `name`, which the batch list filters on): a body without a
/// name takes the key as its name; one that names its batch already must name it the key, or
/// the key could not find it again (a usage error that says what to do).
fn named_by(
    mut batch: serde_json::Value,
    key: &Key,
    path: &Path,
) -> Result<serde_json::Value, String> {
    let n = key.as_str().chars().count();
    if n > MAX_BATCH_NAME_CHARS {
        return Err(format!(
            "bad {}: a Spark batch's key is its \"name\", at most {MAX_BATCH_NAME_CHARS} characters; this one has {n}",
            flag::IDEMPOTENCY_KEY
        ));
    }
    match batch.get("name") {
        None | Some(serde_json::Value::Null) => {
            if let Some(body) = batch.as_object_mut() {
                body.insert("name".into(), key.as_str().into());
            }
            Ok(batch)
        }
        Some(name) if name.as_str() == Some(key.as_str()) => Ok(batch),
        Some(name) => Err(format!(
            "{} {} names its batch {}, and a Spark batch's {} is its name: remove \"name\" from the file (the key becomes it; give a key that is new for every run that should run anew)",
            flag::SPARK_FILE,
            path.display(),
            name.to_string().chars().take(140).collect::<String>(),
            flag::IDEMPOTENCY_KEY,
        )),
    }
}

/// The batch in `path` (`-`: stdin), checked: a usage error says what is wrong with it.
fn read_batch(path: &Path) -> Result<serde_json::Value, String> {
    let shown = path.display();
    let text = if path.as_os_str() == "-" {
        bounded::read_from(std::io::stdin().lock(), bounded::SPARK_BATCH)
            .map_err(|e| format!("cannot read the batch from stdin: {e}"))?
    } else {
        bounded::read(path, bounded::SPARK_BATCH)
            .map_err(|e| format!("cannot read {} {shown}: {e}", flag::SPARK_FILE))?
    };
    check_batch(&text).map_err(|why| format!("bad {} {shown}: {why}", flag::SPARK_FILE))
}

#[cfg(feature = "simulator")]
use crate::{
    kind::Seen,
    sim::scenario::{End, JobKind, JobSpec, Span},
    wait::{outcome::Outcome, record::JobReport},
};

/// A Spark batch as its polls saw it: `starting` until the first poll that was not, `running`
/// until the first `recovering` or the end, `recovering` until the end, and the end (`dead`
/// with DLI's reason as its log's tail). A batch whose end was not seen runs on forever.
#[cfg(feature = "simulator")]
pub fn recorded(report: &JobReport, polls: &[(Duration, Seen)]) -> JobSpec {
    let first =
        |f: &dyn Fn(&JobStatus) -> bool| polls.iter().find(|(_, s)| f(&s.status)).map(|(t, _)| *t);
    let ended_at = first(&|s| s.is_terminal());
    let open_end = ended_at.unwrap_or(report.elapsed);
    let running_from = first(&|s| *s != JobStatus::Starting).unwrap_or(open_end);
    let recovering_from = first(&|s| *s == JobStatus::Recovering)
        .filter(|t| *t >= running_from)
        .unwrap_or(open_end);
    let span = |d: Duration| Span(Some(d));
    let (running, recovering) = match ended_at {
        Some(end) => (
            span(recovering_from.saturating_sub(running_from)),
            span(end.saturating_sub(recovering_from)),
        ),
        // Still going when the wait ended: in the state it was last seen in, for ever.
        None if recovering_from < open_end => (
            span(recovering_from.saturating_sub(running_from)),
            Span(None),
        ),
        None => (Span(None), span(Duration::ZERO)),
    };
    let end = match (&report.outcome, ended_at) {
        (Outcome::Failed | Outcome::Cancelled, Some(_)) => End::Dead {
            log: report
                .reason
                .as_ref()
                .map(|r| vec![r.message.clone()])
                .unwrap_or_default(),
            driver_log: Vec::new(),
        },
        _ => End::Success,
    };
    JobSpec {
        kind: JobKind::Spark,
        id: Some(report.job_id.clone()),
        name: Some(format!("recorded: {}", report.outcome.label())),
        starting: span(running_from),
        running,
        recovering,
        end,
        ..JobSpec::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_batchs_key_is_its_name() {
        let key = Key::parse("nightly-2026-12-02").unwrap();
        let path = Path::new("b.json");
        let unnamed = json!({"file": "a.jar", "className": "A"});
        assert_eq!(
            named_by(unnamed, &key, path).unwrap()["name"],
            "nightly-2026-12-02"
        );
        let same = json!({"file": "a.jar", "className": "A", "name": "nightly-2026-12-02"});
        assert_eq!(named_by(same.clone(), &key, path).unwrap(), same);
        let other = json!({"file": "a.jar", "className": "A", "name": "load"});
        let why = named_by(other, &key, path).unwrap_err();
        assert!(
            why.contains("names its batch \"load\"") && why.contains("remove \"name\""),
            "{why}"
        );
        // Never the file's fixed name as the key: every later run would exit 0, nothing run.
        assert!(!why.contains("give the key \"load\""), "{why}");
        let long = Key::parse(&"k".repeat(129)).unwrap();
        assert!(
            named_by(json!({"file": "a.jar", "className": "A"}), &long, path)
                .unwrap_err()
                .contains("at most 128")
        );
    }
}
