//! `dli-wait simulate` and `dli-wait demo`: the simulator as a command, and the simulator plus
//! the real waiter in one process.

use super::scenario::Scenario;
use crate::app::{EXIT_USAGE, client, fail, reporter, wait_jobs};
use crate::cli::{OutputArgs, OutputFormat, Settings};
use crate::dli::auth::{Credentials, Secret};
use crate::dli::client::ClientConfig;
use crate::wait::machine::{CancelOn, DEFAULT_FALLBACK_AFTER, WaitConfig};
use clap::Args;
use serde_json::json;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// `dli-wait simulate`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  dli-wait simulate                                   # the default jobs on a free port
  dli-wait simulate --listen 127.0.0.1:8090 --scenario examples/scenarios/default.json
  dli-wait simulate --output json | head -n1          # endpoint, project id, keys, job ids

Without --scenario it serves examples/scenarios/default.json: one job that finishes, one that
fails, one that stalls and one that never ends. The scenario format is in docs/scenarios.md.")]
pub struct SimulateArgs {
    /// Address to listen on, e.g. `--listen 127.0.0.1:8090`; port 0 takes a free port.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// A scenario file scripting the jobs, e.g. `--scenario examples/scenarios/default.json`.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Replay faster (sim seconds per real second), e.g. `--speed 60`; overrides the file's.
    #[arg(long, value_name = "FACTOR")]
    pub speed: Option<f64>,
    /// `--output json` prints the connection details as one JSON line first.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human, value_name = "FORMAT")]
    pub output: OutputFormat,
    /// Log every request on stderr (-v).
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

impl SimulateArgs {
    pub fn output_args(&self) -> OutputArgs {
        OutputArgs {
            output: self.output,
            verbose: self.verbose,
            ..OutputArgs::default()
        }
    }
}

/// `dli-wait demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// `--output json` shows the JSON lines a script would read instead.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human, value_name = "FORMAT")]
    pub output: OutputFormat,
}

impl DemoArgs {
    pub fn output_args(&self) -> OutputArgs {
        OutputArgs {
            output: self.output,
            ..OutputArgs::default()
        }
    }
}

fn load(args: &SimulateArgs) -> Result<Scenario, String> {
    let (text, from) = match &args.scenario {
        Some(p) => (
            std::fs::read_to_string(p)
                .map_err(|e| format!("cannot read --scenario {}: {e}", p.display()))?,
            p.display().to_string(),
        ),
        None => (
            super::DEFAULT_SCENARIO.to_string(),
            "the default scenario".into(),
        ),
    };
    let mut s = Scenario::parse(&text)
        .map_err(|e| format!("{from} is not a valid scenario: {e} (see docs/scenarios.md)"))?;
    if let Some(speed) = args.speed {
        if !(speed > 0.0 && speed.is_finite()) {
            return Err(format!(
                "bad --speed {speed}: give a positive number such as 10"
            ));
        }
        s.speed = speed;
    }
    Ok(s)
}

pub async fn simulate(args: SimulateArgs) -> i32 {
    let scenario = match load(&args) {
        Ok(s) => s,
        Err(e) => return fail(&e, EXIT_USAGE),
    };
    if !args.listen.ip().is_loopback() {
        tracing::warn!(
            "the simulator accepts only its own keys, but it is not DLI: listening on {} makes it reachable from other hosts",
            args.listen
        );
    }
    let running = match super::start(scenario, args.listen).await {
        Ok(r) => r,
        Err(e) => {
            return fail(
                &format!("cannot listen on {}: {e}", args.listen),
                EXIT_USAGE,
            );
        }
    };
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
    let (tx, mut stop) = tokio::sync::watch::channel(None);
    crate::app::listen_for_signals(tx);
    let _ = stop.changed().await;
    0
}

pub async fn demo(args: DemoArgs) -> i32 {
    let scenario = match Scenario::parse(super::DEMO_SCENARIO) {
        Ok(s) => s,
        Err(e) => return fail(&format!("the built-in demo scenario is broken: {e}"), 1),
    };
    let running = match super::start(scenario, SocketAddr::from(([127, 0, 0, 1], 0))).await {
        Ok(r) => r,
        Err(e) => return fail(&format!("cannot start the simulator on 127.0.0.1: {e}"), 1),
    };
    let sim = &running.sim;
    let jobs: Vec<String> = sim.job_list().into_iter().map(|(id, _, _)| id).collect();
    let endpoint = running.endpoint();
    let settings = Settings {
        client: ClientConfig {
            endpoint: match crate::cli::parse_endpoint(&endpoint) {
                Ok(u) => u,
                Err(e) => return fail(&e.to_string(), 1),
            },
            project_id: sim.project_id.clone(),
            credentials: Credentials::AkSk {
                ak: Secret::new(sim.ak.clone()),
                sk: Secret::new(sim.sk.clone()),
                security_token: None,
            },
            request_timeout: Duration::from_secs(5),
        },
        wait: WaitConfig {
            timeout: Some(Duration::from_secs(60)),
            stall_timeout: Some(Duration::from_secs(30)),
            cancel_on: CancelOn::default(),
            fallback_after: DEFAULT_FALLBACK_AFTER,
        },
        poll_interval: Duration::from_secs(1),
        max_poll_interval: Duration::from_secs(2),
        poll_policy: crate::cli::PollPolicy::Eta,
        fail_fast: false,
        max_requests_per_second: 10.0,
    };
    let output = args.output_args();
    if output.output == OutputFormat::Human {
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
    let reporter = reporter(&output, &settings.client.credentials.secrets());
    let code = match client(&settings) {
        Ok(client) => wait_jobs(&settings, &client, jobs, reporter).await,
        Err(code) => code,
    };
    if output.output == OutputFormat::Human {
        eprintln!(
            "exit status {code} ({}); in a pipeline, that status is the gate.",
            if code == 0 { "FINISHED" } else { "see above" }
        );
    }
    code
}
