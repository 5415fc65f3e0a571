//! Waiting for several jobs at once: one driver loop for them all under one stop channel, and
//! `--fail-fast` (the first bad ending stops the rest). Returns the records in input order.

use super::api::JobApi;
use super::driver::{Driver, Wait};
use super::events::Events;
use super::machine::WaitConfig;
use super::outcome::Stop;
use super::policy::DelayPolicy;
use super::record::JobReport;
use std::sync::Arc;
use tokio::sync::watch;

/// How to wait for each of a batch of jobs.
pub struct Plan<'a> {
    pub config: &'a WaitConfig,
    /// A fresh delay policy for each job.
    pub policy: &'a (dyn Fn() -> Box<dyn DelayPolicy> + Sync),
    /// Stop the others at the first job that does not finish.
    pub fail_fast: bool,
}

/// Wait for every job in `job_ids` (duplicates once); each job's record goes to `events` as
/// it ends. `stop` is shared: a signal recorded there stops every wait, and `--fail-fast`
/// records [`Stop::FailFast`] on it (a signal already recorded wins).
pub async fn wait_all<A: JobApi>(
    api: &A,
    events: Arc<dyn Events>,
    job_ids: Vec<String>,
    plan: Plan<'_>,
    stop: &watch::Sender<Option<Stop>>,
) -> Result<Vec<JobReport>, tokio::task::JoinError> {
    let mut ids = job_ids;
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(id.clone()));
    drop(seen);
    let waits = ids
        .into_iter()
        .map(|job_id| Wait {
            job_id,
            cfg: plan.config.clone(),
            policy: (plan.policy)(),
        })
        .collect();
    let driver = Driver {
        api: api.clone(),
        events,
    };
    let fail_fast = plan.fail_fast;
    driver
        .wait_many(waits, stop.subscribe(), |report| {
            if fail_fast && !report.outcome.is_success() {
                stop.send_if_modified(|s| {
                    let unset = s.is_none();
                    if unset {
                        *s = Some(Stop::FailFast);
                    }
                    unset
                });
            }
        })
        .await
}
