//! What the driver needs of DLI, as a small trait: the rate limit the requests take their
//! turns under (cancels ahead of polls), one poll, the ending's read (state and DLI's reason),
//! a cancel. It is the waiting half of a job kind (`crate::kind::Kind`): `kind::sql::Sql` and
//! `kind::spark::Spark` implement it; tests script it on tokio's paused clock.

use super::machine::Endpoint;
use super::snapshot::Snapshot;
use crate::dli::fault::Fault;
use crate::dli::model::PreviewResult;
use crate::dli::pacer::{Lane, Pacer};
use std::future::Future;
use std::time::Duration;

/// The calls a wait makes. Clones share the connection and the rate limit.
pub trait JobApi: Clone + Send + Sync + 'static {
    /// The rate limit every request takes a turn under (`None`: no limit).
    fn pacer(&self) -> Option<&Pacer>;
    /// Wait for a turn in `lane` under [`JobApi::pacer`] (cancels in [`Lane::Urgent`],
    /// ahead of polls); `within` bounds the wait (a queue longer than the time left is a
    /// timeout fault).
    fn turn(
        &self,
        lane: Lane,
        within: Option<Duration>,
    ) -> impl Future<Output = Result<(), Fault>> + Send {
        crate::dli::pacer::turn(self.pacer(), lane, within)
    }
    /// One poll of `endpoint` for the job (the machine picks it: [`Endpoint::Primary`], or
    /// after the kind's fallback, [`Endpoint::Fallback`]).
    fn poll(
        &self,
        job_id: &str,
        endpoint: Endpoint,
        timeout: Duration,
    ) -> impl Future<Output = Result<Snapshot, Fault>> + Send;
    /// The job's state and DLI's reason for its ending, as the ending reads them (a failure's
    /// reason; a cancel's confirmation). Any extra request it makes takes its own turn.
    fn reason(
        &self,
        job_id: &str,
        timeout: Duration,
    ) -> impl Future<Output = Result<Snapshot, Fault>> + Send;
    /// A FINISHED query's first rows (a SQL job's `/preview`); `None` for a kind that has no
    /// such read.
    fn preview(
        &self,
        _job_id: &str,
        _timeout: Duration,
    ) -> impl Future<Output = Result<Option<PreviewResult>, Fault>> + Send {
        async { Ok(None) }
    }
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
