//! `dli-wait simulate`: serve the built-in DLI simulator until a signal, printing how to point
//! dli-wait at it.

use super::context::Context;
use super::failure::{CommandResult, Failure};
use crate::cli::{OutputFormat, SimulateArgs, flag};
use crate::sim::scenario::Scenario;
use serde_json::json;
use std::io::Write;

fn load(args: &SimulateArgs) -> Result<Scenario, String> {
    let (text, from) = match &args.scenario {
        Some(p) => (
            std::fs::read_to_string(p)
                .map_err(|e| format!("cannot read {} {}: {e}", flag::SCENARIO, p.display()))?,
            p.display().to_string(),
        ),
        None => (
            crate::sim::DEFAULT_SCENARIO.to_string(),
            "the default scenario".into(),
        ),
    };
    let mut s = Scenario::parse(&text)
        .map_err(|e| format!("{from} is not a valid scenario: {e} (see docs/scenarios.md)"))?;
    if let Some(speed) = args.speed {
        if !(speed > 0.0 && speed.is_finite()) {
            return Err(format!(
                "bad {} {speed}: give a positive number such as 10",
                flag::SPEED
            ));
        }
        s.speed = speed;
    }
    Ok(s)
}

pub async fn command(args: SimulateArgs, ctx: &Context) -> CommandResult {
    let scenario = load(&args).map_err(Failure::usage)?;
    if !args.listen.ip().is_loopback() {
        tracing::warn!(
            "the simulator accepts only its own keys, but it is not DLI: listening on {} makes it reachable from other hosts",
            args.listen
        );
    }
    let running = crate::sim::start(scenario, args.listen)
        .await
        .map_err(|e| Failure::usage(format!("cannot listen on {}: {e}", args.listen)))?;
    let sim = &running.sim;
    let jobs = sim.job_list();
    let endpoint = running.endpoint();
    let mut out = std::io::stdout().lock();
    match args.output {
        OutputFormat::Json => {
            let v = json!({
                "endpoint": endpoint,
                "project_id": sim.project_id,
                "ak": sim.ak,
                "sk": sim.sk,
                "jobs": jobs.iter().map(|(id, name, expect)| json!({"id": id, "name": name, "expect": expect})).collect::<Vec<_>>(),
            });
            let _ = writeln!(out, "{v}");
        }
        OutputFormat::Human => {
            let _ = writeln!(out, "DLI simulator listening on {endpoint}");
            let _ = writeln!(out, "Point dli-wait at it with:");
            let _ = writeln!(out, "  export DLI_ENDPOINT={endpoint}");
            let _ = writeln!(
                out,
                "  export HUAWEICLOUD_SDK_PROJECT_ID={}",
                sim.project_id
            );
            let _ = writeln!(
                out,
                "  export HUAWEICLOUD_SDK_AK={} HUAWEICLOUD_SDK_SK={}",
                sim.ak, sim.sk
            );
            let _ = writeln!(out, "Jobs:");
            for (id, name, expect) in &jobs {
                let _ = writeln!(
                    out,
                    "  {id}  {expect:<11} {}",
                    name.as_deref().unwrap_or("")
                );
            }
            if let Some((id, _, _)) = jobs.first() {
                let _ = writeln!(out, "Then: dli-wait {id}");
            }
            let _ = writeln!(out, "Stop with Ctrl-C.");
        }
    }
    let _ = out.flush();
    drop(out);
    let mut stop = ctx.stop.subscribe();
    let _ = stop.wait_for(Option::is_some).await;
    Ok(0)
}
