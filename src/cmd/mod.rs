//! The commands: parse the command line, build the [`Context`], run one command, and turn its
//! result into the exit code. The one place where a [`Failure`] becomes the error line, the
//! summary file, the GitHub failure outputs and the exit status.

mod context;
#[cfg(feature = "simulator")]
mod demo;
mod docs;
mod failure;
mod logging;
mod run;
mod signals;
#[cfg(feature = "simulator")]
mod simulate;
mod summary_file;
mod wait;

pub use context::Context;
pub use failure::{CommandResult, EXIT_USAGE, Failure, FailureKind};

use crate::cli::{Cli, Command, OutputArgs, TargetArgs};
use crate::report::safe;
use clap::Parser;
use std::ffi::OsString;

/// Run dli-wait with these arguments; returns the process's exit status.
pub fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            if !e.use_stderr() {
                let _ = e.print();
                return 0; // --help, --version
            }
            // clap's message quotes the command line's values: each line through the line
            // sanitiser (and so without clap's colours), as everything else we print.
            let text = e.to_string();
            for line in text.trim_end().lines() {
                eprintln!("{}", safe::line(line));
            }
            let first = text.lines().next().unwrap_or_default();
            let failure = Failure::usage(first.trim_start_matches("error: "));
            // Already printed by clap; only the CI outputs are left to write.
            context::Context::without_command().report_failure_outputs(&failure);
            return failure.exit_code();
        }
    };
    let output = output_of(&cli);
    if let Some(endpoint) = target_of(&cli).and_then(|t| t.endpoint.as_deref()) {
        safe::remember(crate::cli::endpoint_secrets(endpoint));
    }
    logging::init(&output);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let ctx = Context::new(output, None);
            return ctx.fail(Failure::internal(format!(
                "cannot start the async runtime: {e}"
            )));
        }
    };
    runtime.block_on(async move {
        let ctx = Context::new(output, Some(signals::listen()));
        let result = match cli.command {
            None => wait::command(cli.job_ids, &cli.target, &cli.timing, &ctx).await,
            Some(Command::Run(args)) => run::command(*args, &ctx).await,
            #[cfg(feature = "simulator")]
            Some(Command::Simulate(args)) => simulate::command(args, &ctx).await,
            #[cfg(feature = "simulator")]
            Some(Command::Demo(args)) => demo::command(args, &ctx).await,
            Some(Command::Completions(args)) => docs::completions(args.shell),
            Some(Command::Man) => docs::man(),
        };
        match result {
            Ok(code) => code,
            Err(failure) => ctx.fail(failure),
        }
    })
}

/// Where the command would send requests, if it takes `--endpoint`.
fn target_of(cli: &Cli) -> Option<&TargetArgs> {
    match &cli.command {
        Some(Command::Run(r)) => Some(&r.target),
        None => Some(&cli.target),
        #[cfg(feature = "simulator")]
        Some(_) => None,
    }
}

/// The output flags of whichever command was given.
fn output_of(cli: &Cli) -> OutputArgs {
    match &cli.command {
        Some(Command::Run(r)) => r.output.clone(),
        #[cfg(feature = "simulator")]
        Some(Command::Simulate(s)) => s.output_args(),
        #[cfg(feature = "simulator")]
        Some(Command::Demo(d)) => d.output_args(),
        Some(Command::Completions(_) | Command::Man) | None => cli.output.clone(),
    }
}
