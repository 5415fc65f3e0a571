//! What the driver needs of DLI, as a small trait: a turn under the rate limit (cancels
//! ahead of polls), one poll, a cancel. `DliClient` implements it for SQL jobs and
//! `wait::spark::SparkApi` for Spark batches; tests script it on tokio's paused clock.

use super::machine::Endpoint;
use super::snapshot::Snapshot;
use crate::dli::client::DliClient;
use crate::dli::fault::Fault;
use crate::dli::pacer::Lane;
use std::future::Future;
use std::time::Duration;

/// The calls a wait makes. Clones share the connection and the rate limit.
pub trait JobApi: Clone + Send + Sync + 'static {
    /// Wait for a turn in `lane` under the shared rate limit (cancels in [`Lane::Urgent`],
    /// ahead of polls); `within` bounds the wait (a queue longer than the time left is a
    /// timeout fault).
    fn turn(
        &self,
        lane: Lane,
        within: Option<Duration>,
    ) -> impl Future<Output = Result<(), Fault>> + Send;
    /// One poll of `endpoint` for the job.
    fn poll(
        &self,
        job_id: &str,
        endpoint: Endpoint,
        timeout: Duration,
    ) -> impl Future<Output = Result<Snapshot, Fault>> + Send;
    /// Ask DLI to cancel the job; DLI's message on success.
    fn cancel(
        &self,
        job_id: &str,
        timeout: Duration,
    ) -> impl Future<Output = Result<String, Fault>> + Send;
    /// The limit for one request (`--request-timeout`).
    fn request_timeout(&self) -> Duration;
    /// The credentials expire (a token or temporary keys): a late 401 is probably that.
    fn short_lived_credentials(&self) -> bool;
}

impl JobApi for DliClient {
    fn turn(
        &self,
        lane: Lane,
        within: Option<Duration>,
    ) -> impl Future<Output = Result<(), Fault>> + Send {
        DliClient::turn(self, lane, within)
    }

    async fn poll(
        &self,
        job_id: &str,
        endpoint: Endpoint,
        timeout: Duration,
    ) -> Result<Snapshot, Fault> {
        match endpoint {
            Endpoint::Progress => self.progress(job_id, timeout).await.map(Snapshot::from),
            Endpoint::Status => self.status(job_id, timeout).await.map(Snapshot::from),
        }
    }

    async fn cancel(&self, job_id: &str, timeout: Duration) -> Result<String, Fault> {
        DliClient::cancel(self, job_id, timeout)
            .await
            .map(|r| r.envelope.message)
    }

    fn request_timeout(&self) -> Duration {
        self.config().request_timeout
    }

    fn short_lived_credentials(&self) -> bool {
        // Keys the client renews do not expire on it: a late 401 is no expiry of theirs.
        let credentials = &self.config().credentials;
        credentials.expire() && !credentials.renews()
    }
}
