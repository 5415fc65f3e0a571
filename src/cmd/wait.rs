//! `dli-wait [OPTIONS] <JOB_ID>...`: resolve the settings, then wait for every job at once and
//! report each as it ends. Also the waiting half of `run` and `demo`.

use super::context::Context;
use super::failure::{CommandResult, Failure};
use crate::cli::{Command, Settings, TargetArgs, TimingArgs, resolve};
use crate::dli::client::DliClient;
use crate::report::Reporter;
use crate::wait::many::{Plan, wait_all};
use std::sync::Arc;

pub async fn command(
    job_ids: Vec<String>,
    target: &TargetArgs,
    timing: &TimingArgs,
    ctx: &Context,
) -> CommandResult {
    if job_ids.is_empty() {
        return Err(Failure::usage(crate::cli::ConfigError::NoJobs.to_string()));
    }
    if let Some(cmd) = job_ids
        .iter()
        .find(|id| Command::NAMES.contains(&id.as_str()))
    {
        return Err(Failure::usage(format!(
            "{cmd:?} is a command, not a job id: put the options after it, e.g. `dli-wait {cmd} --timeout 1h ...`"
        )));
    }
    let settings = resolve(target, timing, |k| std::env::var(k).ok())
        .map_err(|e| Failure::usage(e.to_string()))?;
    let reporter = ctx.reporter(&settings.client.credentials.secrets());
    let client = client(&settings)?;
    wait_jobs(ctx, &settings, &client, job_ids, reporter).await
}

/// The HTTP client for these settings, under their request-rate limit.
pub fn client(settings: &Settings) -> Result<DliClient, Failure> {
    DliClient::new(settings.client.clone())
        .map(|c| c.with_rate_limit(settings.max_requests_per_second))
        .map_err(|e| Failure::usage(format!("cannot set up the HTTP client: {e}")))
}

/// Wait for every job at once; report each as it ends, then the summary; the exit status.
pub async fn wait_jobs(
    ctx: &Context,
    settings: &Settings,
    client: &DliClient,
    job_ids: Vec<String>,
    reporter: Arc<dyn Reporter>,
) -> CommandResult {
    let policy = || settings.policy();
    let plan = Plan {
        config: &settings.wait,
        policy: &policy,
        fail_fast: settings.fail_fast,
    };
    ctx.begin(&job_ids);
    let reports = wait_all(client, reporter.clone(), job_ids, plan, &ctx.stop)
        .await
        .map_err(|e| Failure::internal(format!("internal error: a wait task failed: {e}")))?;
    Ok(ctx.conclude(&reports, reporter.as_ref()))
}
