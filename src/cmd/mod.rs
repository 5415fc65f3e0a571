//! The commands: parse the command line, build the [`Context`], run one command, and turn its
//! result into the process's ending ([`Exit`]). The one place where a [`Failure`] becomes the
//! error line, the summary file, the GitHub failure outputs and the exit status.

mod check;
mod context;
mod credentials;
#[cfg(feature = "simulator")]
mod demo;
mod docs;
mod failure;
mod logging;
#[cfg(feature = "simulator")]
mod recording;
mod run;
mod session;
mod signals;
#[cfg(feature = "simulator")]
mod simulate;
mod summary_file;
mod wait;

pub use context::Context;
pub use failure::{CommandResult, EXIT_USAGE, Failure, FailureKind};

use crate::cli::{Cli, Command, OutputArgs};
use crate::config::Env;
use crate::report::safe::Secrets;
use crate::wait::outcome::{Outcome, Signal, Stop};
use std::ffi::OsString;
use std::future::Future;
use std::pin::Pin;

/// How the process ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Exit with this status.
    Code(i32),
    /// A signal interrupted the wait: after the cleanup (cancels, summary, outputs), die of
    /// it, so a shell loop or CI sees death by signal (`$?` is still 128 + its number).
    Signal(Signal),
}

impl Exit {
    /// The status a shell shows for this ending (`$?`).
    pub fn code(self) -> i32 {
        match self {
            Exit::Code(c) => c,
            Exit::Signal(sig) => Outcome::Interrupted(sig).exit_code(),
        }
    }

    /// End the process this way.
    pub fn end(self) -> ! {
        if let Exit::Signal(sig) = self {
            signals::die_of(sig);
        }
        std::process::exit(self.code())
    }

    /// The ending of a run whose command returned `code` while `stop` held this: death by
    /// the signal only when the signal decided the status (the waits were interrupted).
    fn of(code: i32, stop: Option<Stop>) -> Self {
        match stop {
            Some(Stop::Signal(sig)) if Outcome::Interrupted(sig).exit_code() == code => {
                Exit::Signal(sig)
            }
            _ => Exit::Code(code),
        }
    }
}

/// Run dli-wait with these arguments; returns how the process is to end.
pub fn run(args: impl IntoIterator<Item = OsString>) -> Exit {
    // The run's one snapshot of the environment: nothing else reads it.
    let env = Env::from_process();
    // The run's one registry of secrets, handed to everything that prints.
    let secrets = Secrets::new();
    let args = crate::cli::args::subcommand_first(args.into_iter().collect());
    let var = |name: &str| env.get(name).map(str::to_string);
    let parsed = crate::cli::args::command_for(&args, &var)
        .try_get_matches_from(&args)
        .and_then(|m| <Cli as clap::FromArgMatches>::from_arg_matches(&m));
    let cli = match parsed {
        Ok(c) => c,
        Err(e) => {
            if !e.use_stderr() {
                let _ = e.print();
                return Exit::Code(crate::wait::outcome::ExitStatus::Finished.code()); // --help, --version
            }
            // clap's message quotes the command line's values: each line through the line
            // sanitiser (and so without clap's colours), as everything else we print.
            let text = crate::cli::args::error_text(&e, &args, &var);
            for line in text.trim_end().lines() {
                eprintln!("{}", secrets.line(line));
            }
            let first = text.lines().next().unwrap_or_default();
            let failure = Failure::usage(first.trim_start_matches("error: "));
            // Already printed by clap; only the CI outputs are left to write.
            context::Context::without_command(secrets, env).report_failure_outputs(&failure);
            return Exit::Code(failure.exit_code());
        }
    };
    let Plan {
        output,
        endpoint,
        body,
    } = Plan::of(cli);
    if let Some(endpoint) = &endpoint {
        secrets.remember(crate::config::endpoint_secrets(endpoint));
    }
    // The run's one stderr writer: diagnostics and every reporter's lines, in one order.
    let stderr = crate::report::stream::Stream::stderr();
    logging::init(&output, &env, &secrets, &stderr);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let ctx = Context::new(output, None, secrets, stderr, env);
            return Exit::Code(ctx.fail(Failure::internal(format!(
                "cannot start the async runtime: {e}"
            ))));
        }
    };
    runtime.block_on(async move {
        let ctx = Context::new(output, Some(signals::listen()), secrets, stderr, env);
        let result = body(&ctx).await;
        let code = match result {
            Ok(code) => code,
            Err(failure) => ctx.fail(failure),
        };
        Exit::of(code, *ctx.stop.borrow())
    })
}

/// A command, to run once the [`Context`] is made.
type Body = Box<dyn for<'c> FnOnce(&'c Context) -> CommandFuture<'c>>;
type CommandFuture<'c> = Pin<Box<dyn Future<Output = CommandResult> + 'c>>;

fn body<F>(f: F) -> Body
where
    F: for<'c> FnOnce(&'c Context) -> CommandFuture<'c> + 'static,
{
    Box::new(f)
}

/// What the command line asks for, read in one place: each command's output flags, where it
/// would send requests (its `--endpoint`, whose userinfo is a secret from the start), and
/// the command itself.
struct Plan {
    output: OutputArgs,
    endpoint: Option<String>,
    body: Body,
}

impl Plan {
    fn of(cli: Cli) -> Plan {
        let Cli {
            command,
            job_ids,
            job_type,
            target,
            timing,
            output,
        } = cli;
        match command {
            None => Plan {
                output,
                endpoint: target.endpoint.clone(),
                body: body(move |ctx| {
                    Box::pin(async move {
                        wait::command(job_ids, &target, &timing, job_type, ctx).await
                    })
                }),
            },
            Some(Command::Run(args)) => Plan {
                output: args.output.clone(),
                endpoint: args.target.endpoint.clone(),
                body: body(move |ctx| Box::pin(run::command(*args, ctx))),
            },
            #[cfg(feature = "simulator")]
            Some(Command::Simulate(args)) => Plan {
                output: args.output_args(),
                endpoint: None,
                body: body(move |ctx| Box::pin(simulate::command(args, ctx))),
            },
            #[cfg(feature = "simulator")]
            Some(Command::Demo(args)) => Plan {
                output: args.output_args(),
                endpoint: None,
                body: body(move |ctx| Box::pin(demo::command(args, ctx))),
            },
            Some(Command::Check(args)) => Plan {
                output: OutputArgs {
                    output: args.output,
                    ..OutputArgs::default()
                },
                endpoint: args.target.endpoint.clone(),
                body: body(move |ctx| Box::pin(check::command(*args, ctx))),
            },
            Some(Command::Completions(args)) => Plan {
                output,
                endpoint: None,
                body: body(move |_| Box::pin(async move { docs::completions(args.shell) })),
            },
            Some(Command::Man(args)) => Plan {
                output,
                endpoint: None,
                body: body(move |_| Box::pin(async move { docs::man(args.command.as_deref()) })),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_interrupted_ending_dies_of_its_signal() {
        let int = Some(Stop::Signal(Signal::Int));
        assert_eq!(Exit::of(130, int), Exit::Signal(Signal::Int));
        assert_eq!(Exit::of(130, int).code(), 130);
        assert_eq!(
            Exit::of(143, Some(Stop::Signal(Signal::Term))),
            Exit::Signal(Signal::Term)
        );
        assert_eq!(Exit::of(129, Some(Stop::Signal(Signal::Hup))).code(), 129);
        // The waits had ended before the signal came: their status stands.
        assert_eq!(Exit::of(0, int), Exit::Code(0));
        assert_eq!(Exit::of(130, None), Exit::Code(130));
        assert_eq!(Exit::of(1, Some(Stop::FailFast)), Exit::Code(1));
    }
}
