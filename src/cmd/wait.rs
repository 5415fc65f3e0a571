//! `dli-wait [OPTIONS] <JOB_ID>...`: resolve the settings, then wait for every job at once and
//! report each as it ends, through the API of their kind (`--job-type`: SQL jobs, or Spark
//! batches through `wait::spark::SparkApi`). Also the waiting half of `run` and `demo`.

use super::context::Context;
use super::failure::{CommandResult, Failure};
use crate::cli::{Command, JobType, Settings, TargetArgs, TimingArgs, resolve};
use crate::dli::client::DliClient;
use crate::dli::job_id::{is_job_id, problem};
use crate::report::Reporter;
use crate::wait::api::JobApi;
use crate::wait::many::{Plan, wait_all};
use crate::wait::spark::SparkApi;
use std::sync::Arc;

pub async fn command(
    job_ids: Vec<String>,
    target: &TargetArgs,
    timing: &TimingArgs,
    kind: JobType,
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
    if let Some(bad) = job_ids.iter().find(|id| !is_job_id(id)) {
        return Err(Failure::usage(not_a_job_id(bad)));
    }
    let settings = resolve(target, timing, |k| std::env::var(k).ok())
        .map_err(|e| Failure::usage(e.to_string()))?;
    let reporter = super::credentials::ready(ctx, &settings).await?;
    let client = client(&settings)?;
    match kind {
        JobType::Sql => wait_jobs(ctx, &settings, &client, job_ids, reporter).await,
        JobType::Spark => wait_batches(ctx, settings, client, job_ids, reporter).await,
    }
}

/// Wait for Spark batches: as for SQL jobs, through [`SparkApi`]. A batch has no `/status`
/// to fall back to when its polls keep answering `DLI.0999`: those are retried until the
/// deadline like any transient fault.
pub async fn wait_batches(
    ctx: &Context,
    mut settings: Settings,
    client: DliClient,
    batch_ids: Vec<String>,
    reporter: Arc<dyn Reporter>,
) -> CommandResult {
    settings.wait.fallback_after = crate::wait::machine::NEVER_FALL_BACK;
    wait_jobs(ctx, &settings, &SparkApi(client), batch_ids, reporter).await
}

/// The usage error for a word that is not a job id: what is wrong with it, and the command
/// it may be a mistyping of.
fn not_a_job_id(word: &str) -> String {
    let shown: String = word
        .chars()
        .take(40)
        .collect::<String>()
        .escape_debug()
        .to_string();
    let more = if word.chars().count() > 40 { "…" } else { "" };
    let close = Command::NAMES
        .iter()
        .find(|name| strsim::levenshtein(&word.to_ascii_lowercase(), name) <= 2);
    match close {
        Some(name) => format!(
            "\"{shown}{more}\" is not a job id; did you mean the command `dli-wait {name}`?"
        ),
        None => format!(
            "\"{shown}{more}\" is not a job id: {} (put `--` before job ids that come from variables)",
            problem(word)
        ),
    }
}

/// The HTTP client for these settings, under their request-rate limit.
pub fn client(settings: &Settings) -> Result<DliClient, Failure> {
    DliClient::new(settings.client.clone())
        .map(|c| c.with_rate_limit(settings.max_requests_per_second))
        .map_err(|e| Failure::usage(format!("cannot set up the HTTP client: {e}")))
}

/// Wait for every job at once; report each as it ends, then the summary; the exit status.
pub async fn wait_jobs<A: JobApi>(
    ctx: &Context,
    settings: &Settings,
    api: &A,
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
    let reports = wait_all(api, reporter.clone(), job_ids, plan, &ctx.stop)
        .await
        .map_err(|e| Failure::internal(format!("internal error: a wait task failed: {e}")))?;
    Ok(ctx.conclude(&reports, reporter.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mistyped_command_is_named_and_other_words_say_what_is_wrong() {
        assert!(not_a_job_id("chekc").contains("`dli-wait check`"));
        assert!(not_a_job_id("rnu").contains("`dli-wait run`"));
        let long = "x".repeat(100_000);
        let e = not_a_job_id(&long);
        assert!(e.len() < 300, "{}", e.len());
        assert!(e.contains("longer than a job id"));
        let e = not_a_job_id("85798b38-ae44-48eb-bb90-7cf0dcdafe7b\n::warning::x");
        assert!(!e.contains('\n'), "{e}");
        assert!(not_a_job_id("").contains("empty"));
    }
}
