//! `dli-wait demo`: the simulator and the real waiter in one process, configured through the
//! same `resolve` as any wait, as a first run without a cloud account.

use super::context::Context;
use super::failure::{CommandResult, Failure};
use super::session::{Session, settings};
use crate::cli::{DemoArgs, Limit, OutputFormat, TargetArgs, TimingArgs};
use crate::kind::sql::Sql;
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
    // The demo's own environment: the simulator's keys, nothing of the process's.
    let env = crate::config::Env::from([
        (crate::dli::auth::ENV_AK, &sim.ak),
        (crate::dli::auth::ENV_SK, &sim.sk),
    ]);
    let settings = settings(&target, &timing, &env)
        .map_err(|e| Failure::internal(format!("the demo's own settings are refused: {e}")))?;
    let human = ctx.output.output == OutputFormat::Human;
    if human {
        // Through the run's stderr stream, in order with the progress lines.
        let say = |line: String| ctx.stderr.line(&line);
        say(format!(
            "dli-wait demo: a simulated DLI is serving on {endpoint} (signed requests, as the real one)."
        ));
        say(
            "Waiting for a job that launches, runs two sub-jobs, answers DLI.0999 twice, and finishes:"
                .to_string(),
        );
        say(format!(
            "  dli-wait --endpoint {endpoint} --poll-interval 1s --max-poll-interval 2s {}",
            jobs.join(" ")
        ));
    }
    let code = Session::<Sql>::start(ctx, settings)
        .await?
        .wait(jobs)
        .await?;
    if human {
        ctx.stderr.line(&format!(
            "exit status {code} ({}); in a pipeline, that status is the gate.",
            if code == ExitStatus::Finished.code() {
                ExitStatus::Finished.label()
            } else {
                "see above"
            }
        ));
    }
    Ok(code)
}
