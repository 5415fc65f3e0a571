//! `dli-wait check`: the configuration verified before a long wait, one line per check: the
//! settings resolve, the endpoint's host resolves, it answers over trusted TLS, this machine's
//! clock is within DLI's 15 minutes, and one signed read is accepted. Exit 0, 2 or 5.

use super::context::Context;
use super::failure::CommandResult;
use super::session::{open_without_waiting, settings};
use crate::cli::{CheckArgs, OutputFormat, TimingArgs, hint};
use crate::dli::client::DliClient;
use crate::dli::fault::{FaultClass, FaultKind};
use crate::report::fault_text;
use crate::report::safe::Secrets;
use crate::wait::outcome::ExitStatus;
use std::time::{Duration, SystemTime};

/// DLI's gateway refuses a signature dated more than this far from its own clock.
const CLOCK_WINDOW: Duration = Duration::from_secs(15 * 60);

struct Checks {
    lines: Vec<(String, bool, String)>,
    status: ExitStatus,
}

impl Checks {
    fn pass(&mut self, name: &str, detail: String) {
        self.lines.push((name.into(), true, detail));
    }

    fn fail(&mut self, name: &str, detail: String, status: ExitStatus) {
        self.lines.push((name.into(), false, detail));
        // Configuration wins over a refusal: fix the settings first.
        if self.status == ExitStatus::Finished || status == ExitStatus::Misconfigured {
            self.status = status;
        }
    }

    fn print(&self, output: OutputFormat, secrets: &Secrets) -> i32 {
        match output {
            OutputFormat::Human => {
                for (name, ok, detail) in &self.lines {
                    let word = if *ok { "ok  " } else { "FAIL" };
                    println!("{}", secrets.line(&format!("{word} {name}: {detail}")));
                }
            }
            OutputFormat::Json => {
                let checks: Vec<serde_json::Value> = self
                    .lines
                    .iter()
                    .map(|(name, ok, detail)| {
                        serde_json::json!({"check": name, "ok": ok, "detail": detail})
                    })
                    .collect();
                println!(
                    "{}",
                    secrets.json(
                        &serde_json::json!({"exit_code": self.status.code(), "checks": checks})
                    )
                );
            }
        }
        self.status.code()
    }
}

pub async fn command(args: CheckArgs, ctx: &Context) -> CommandResult {
    let mut checks = Checks {
        lines: Vec::new(),
        status: ExitStatus::Finished,
    };
    let timing = TimingArgs {
        request_timeout: args.request_timeout,
        ..TimingArgs::default()
    };
    let settings = match settings(&args.target, &timing, &ctx.env) {
        Ok(s) => s,
        Err(e) => {
            checks.fail("configuration", e.to_string(), ExitStatus::Misconfigured);
            return Ok(checks.print(args.output, &ctx.secrets));
        }
    };
    open_without_waiting(ctx, &settings);
    let provider = &settings.client.credentials;
    let endpoint = settings.client.endpoint.clone();
    checks.pass(
        "configuration",
        format!(
            "endpoint {}, project {}, credentials from {}",
            endpoint.as_str().trim_end_matches('/'),
            settings.client.project_id,
            provider.source()
        ),
    );
    let host = endpoint.host_str().unwrap_or_default().to_string();
    let port = endpoint.port_or_known_default().unwrap_or(443);
    // An IPv6 address without the brackets of its URL form (`[::1]` resolves to nothing).
    let name = match endpoint.host() {
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        _ => host.clone(),
    };
    let lookup = tokio::time::timeout(
        Duration::from_secs(10),
        tokio::net::lookup_host((name.as_str(), port)),
    )
    .await
    .ok()
    .and_then(Result::ok)
    .and_then(|mut addrs| addrs.next());
    match lookup {
        Some(_) => {
            checks.pass("DNS", format!("{host} resolves"));
        }
        _ => {
            checks.fail(
                "DNS",
                format!(
                    "cannot resolve {host}: {}",
                    hint(crate::dli::fault::Check::HostName)
                ),
                ExitStatus::Misconfigured,
            );
            return Ok(checks.print(args.output, &ctx.secrets));
        }
    }
    let client = match DliClient::new(settings.client.clone()) {
        Ok(c) => c,
        Err(e) => {
            checks.fail("HTTP client", e.to_string(), ExitStatus::Misconfigured);
            return Ok(checks.print(args.output, &ctx.secrets));
        }
    };
    let (answer, server_clock) = client.probe(settings.client.request_timeout).await;
    // An HTTP answer of any kind means the host answered and TLS was trusted.
    let answered = match &answer {
        Ok(()) => true,
        Err(f) => f.http_status.is_some(),
    };
    match &answer {
        _ if answered => checks.pass(
            "endpoint",
            format!(
                "{host} answered{}",
                if endpoint.scheme() == "https" {
                    " over trusted TLS"
                } else {
                    ""
                }
            ),
        ),
        Err(f) if f.class == FaultClass::Config => {
            checks.fail("endpoint", fault_text(f), ExitStatus::Misconfigured);
        }
        Err(f) => checks.fail("endpoint", fault_text(f), ExitStatus::Misconfigured),
        Ok(()) => {}
    }
    match server_clock.map(|at| skew(SystemTime::now(), at)) {
        Some(off) if off > CLOCK_WINDOW => checks.fail(
            "clock",
            format!(
                "this machine's clock is {} off the server's; DLI refuses signatures more than 15 minutes off: fix the clock (NTP)",
                crate::dli::human::duration(Duration::from_secs(off.as_secs()))
            ),
            ExitStatus::Misconfigured,
        ),
        Some(off) => checks.pass(
            "clock",
            format!(
                "within {} of the server's",
                crate::dli::human::duration(Duration::from_secs(off.as_secs().max(1)))
            ),
        ),
        None if answered => checks.pass("clock", "the server sent no Date; not compared".into()),
        None => {}
    }
    match &answer {
        Ok(()) => checks.pass(
            "credentials",
            "a signed read was accepted (credentials and project)".into(),
        ),
        Err(f) if answered => {
            let code = match f.kind {
                FaultKind::Unauthorized | FaultKind::Forbidden | FaultKind::NotFound => {
                    ExitStatus::Refused
                }
                _ => ExitStatus::Misconfigured,
            };
            let f = match f.kind {
                FaultKind::Unauthorized => crate::dli::client::note_refused(f.clone(), provider),
                _ => f.clone(),
            };
            checks.fail("credentials", fault_text(&f), code);
        }
        Err(_) => {}
    }
    Ok(checks.print(args.output, &ctx.secrets))
}

/// How far apart two clocks are, either way.
fn skew(local: SystemTime, server: SystemTime) -> Duration {
    local
        .duration_since(server)
        .or_else(|_| server.duration_since(local))
        .unwrap_or_default()
}
