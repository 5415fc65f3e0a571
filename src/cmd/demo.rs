//! `dli-wait demo`: the simulator and the real waiter in one process, configured through the
//! same `resolve` as any wait, as a first run without a cloud account.

use super::context::Context;
use super::failure::{CommandResult, Failure};
use super::wait::{client, wait_jobs};
use crate::cli::{DemoArgs, Limit, OutputFormat, TargetArgs, TimingArgs, resolve};
use crate::sim::scenario::Scenario;
use crate::wait::outcome::ExitStatus;
use std::net::SocketAddr;
use std::time::Duration;

pub async fn command(_args: DemoArgs, ctx: &Context) -> CommandResult {
    let scenario = Scenario::parse(crate::sim::DEMO_SCENARIO)
        .map_err(|e| Failure::internal(format!("the built-in demo scenario is broken: {e}")))?;
    let running = crate::sim::start(scenario, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .map_err(|e| Failure::internal(format!("cannot start the simulator on 127.0.0.1: {e}")))?;
    let sim = &running.sim;
    let jobs: Vec<String> = sim.job_list().into_iter().map(|(id, _, _)| id).collect();
    let endpoint = running.endpoint();
    let target = TargetArgs {
        region: None,
        endpoint: Some(endpoint.clone()),
        project_id: Some(sim.project_id.clone()),
    };
    let timing = TimingArgs {
        timeout: Limit::After(Duration::from_secs(60)),
        stall_timeout: Limit::After(Duration::from_secs(30)),
        poll_interval: Duration::from_secs(1),
        max_poll_interval: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        ..TimingArgs::default()
    };
    let (ak, sk) = (sim.ak.clone(), sim.sk.clone());
    let settings = resolve(&target, &timing, |k| match k {
        "HUAWEICLOUD_SDK_AK" => Some(ak.clone()),
        "HUAWEICLOUD_SDK_SK" => Some(sk.clone()),
        _ => None,
    })
    .map_err(|e| Failure::internal(format!("the demo's own settings are refused: {e}")))?;
    let human = ctx.output.output == OutputFormat::Human;
    if human {
        eprintln!(
            "dli-wait demo: a simulated DLI is serving on {endpoint} (signed requests, as the real one)."
        );
        eprintln!(
            "Waiting for a job that launches, runs two sub-jobs, answers DLI.0999 twice, and finishes:"
        );
        eprintln!(
            "  dli-wait --endpoint {endpoint} --poll-interval 1s --max-poll-interval 2s {}",
            jobs.join(" ")
        );
    }
    let reporter = super::credentials::ready(ctx, &settings).await?;
    let code = wait_jobs(ctx, &settings, &client(&settings)?, jobs, reporter).await?;
    if human {
        eprintln!(
            "exit status {code} ({}); in a pipeline, that status is the gate.",
            if code == ExitStatus::Finished.code() {
                ExitStatus::Finished.label()
            } else {
                "see above"
            }
        );
    }
    Ok(code)
}
