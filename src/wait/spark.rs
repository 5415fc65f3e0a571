//! Waiting for Spark batch jobs: [`SparkApi`] is the driver's view of a batch ([`JobApi`]), on
//! the same client, rate limit and machine as SQL jobs. A poll reads the batch's `/state`;
//! the ending (a failure's reason, a cancel's confirmation) reads its details, whose log tail
//! says why it died, and when that says nothing, the last lines of its log.

use super::api::JobApi;
use super::machine::Endpoint;
use super::snapshot::Snapshot;
use crate::dli::client::DliClient;
use crate::dli::fault::Fault;
use crate::dli::model::JobStatus;
use crate::dli::pacer::Lane;
use crate::dli::spark::reason_in;
use std::time::Duration;
use tokio::time::Instant;

/// The Spark batch calls of a [`DliClient`], as the driver needs them.
#[derive(Debug, Clone)]
pub struct SparkApi(pub DliClient);

impl SparkApi {
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

impl JobApi for SparkApi {
    fn turn(
        &self,
        lane: Lane,
        within: Option<Duration>,
    ) -> impl Future<Output = Result<(), Fault>> + Send {
        self.0.turn(lane, within)
    }

    /// [`Endpoint::Progress`] (every poll of the wait) reads `/state`; [`Endpoint::Status`]
    /// (the ending's polls) the details and, for a dead batch, why.
    async fn poll(
        &self,
        job_id: &str,
        endpoint: Endpoint,
        timeout: Duration,
    ) -> Result<Snapshot, Fault> {
        match endpoint {
            Endpoint::Progress => self
                .0
                .batch_state(job_id, timeout)
                .await
                .map(Snapshot::from),
            Endpoint::Status => self.details(job_id, timeout).await,
        }
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
