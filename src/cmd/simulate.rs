//! `dli-wait simulate`: serve the built-in DLI simulator until a signal, printing how to point
//! dli-wait at it.

use super::context::Context;
use super::failure::{CommandResult, Failure};
use crate::cli::{OutputFormat, SimulateArgs, flag};
use crate::sim::scenario::Scenario;
use std::io::Write;

fn load(args: &SimulateArgs) -> Result<Scenario, String> {
    let (text, from) = match &args.scenario {
        Some(p) => (
            crate::dli::bounded::read_string(p, crate::dli::bounded::SCENARIO)
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
    if !crate::dli::net::is_loopback_ip(args.listen.ip()) {
        tracing::warn!(
            "the simulator accepts only its own keys, but it is not DLI: listening on {} makes it reachable from other hosts",
            args.listen
        );
    }
    let running = crate::sim::start(scenario, args.listen)
        .await
        .map_err(|e| Failure::usage(format!("cannot listen on {}: {e}", args.listen)))?;
    let mut out = std::io::stdout().lock();
    let _ = match args.output {
        OutputFormat::Json => writeln!(out, "{}", running.details_json()),
        OutputFormat::Human => write!(out, "{}", running.details_text()),
    };
    let _ = out.flush();
    drop(out);
    let mut stop = ctx.stop.subscribe();
    tokio::select! {
        _ = stop.wait_for(Option::is_some) => {}
        // `dli-wait simulate --output json | head -n1`: the reader is gone, so is the user.
        () = stdout_closed() => {}
    }
    Ok(crate::wait::outcome::ExitStatus::Finished.code())
}

/// Resolves when stdout is a pipe whose reader has gone; never otherwise (a terminal, a file).
async fn stdout_closed() {
    #[cfg(unix)]
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        // A plain thread, not spawn_blocking: the runtime never waits for it at exit.
        std::thread::spawn(move || {
            use rustix::event::{PollFd, PollFlags, poll};
            let stdout = std::io::stdout();
            let mut fds = [PollFd::new(&stdout, PollFlags::empty())];
            // POLLERR (the pipe's reader closed) and POLLHUP are reported whatever is asked.
            loop {
                match poll(&mut fds, None) {
                    Ok(_) if fds[0].revents().intersects(PollFlags::ERR | PollFlags::HUP) => {
                        let _ = tx.send(());
                        return;
                    }
                    // No stdout at all: nothing to watch.
                    Ok(_) if fds[0].revents().contains(PollFlags::NVAL) => return,
                    Ok(_) | Err(rustix::io::Errno::INTR) => continue,
                    Err(_) => return,
                }
            }
        });
        if rx.await.is_ok() {
            return;
        }
    }
    std::future::pending::<()>().await;
}
