//! The commands: parse the command line, build the [`Context`], run one command, and turn its
//! result into the exit code. The one place where a [`Failure`] becomes the error line, the
//! summary file, the GitHub failure outputs and the exit status.

mod context;
#[cfg(feature = "simulator")]
mod demo;
mod logging;
mod run;
mod signals;
#[cfg(feature = "simulator")]
mod simulate;
mod summary_file;
mod wait;

pub use context::Context;

use crate::cli::{Cli, Command, OutputArgs};
use crate::wait::outcome::Outcome;
use clap::Parser;
use std::ffi::OsString;

/// Exit status for usage and configuration errors.
pub const EXIT_USAGE: i32 = 2;

/// What a command ended with when it could not wait (or finish waiting) as asked.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub kind: FailureKind,
    /// One line: what went wrong and what to do.
    pub message: String,
}

/// Which exit status a failure has.
#[derive(Debug, Clone, PartialEq)]
pub enum FailureKind {
    /// Bad usage or configuration: exit 2.
    Usage,
    /// The job's fate is known without a wait (a submit DLI refused): that ending's status.
    Ended(Outcome),
    /// dli-wait itself broke: exit 1.
    Internal,
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Self {
        Failure {
            kind: FailureKind::Usage,
            message: message.into(),
        }
    }

    pub fn ended(outcome: Outcome, message: impl Into<String>) -> Self {
        Failure {
            kind: FailureKind::Ended(outcome),
            message: message.into(),
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Failure {
            kind: FailureKind::Internal,
            message: message.into(),
        }
    }

    pub fn exit_code(&self) -> i32 {
        match &self.kind {
            FailureKind::Usage => EXIT_USAGE,
            FailureKind::Ended(o) => o.exit_code(),
            FailureKind::Internal => 1,
        }
    }

    /// The `status` output of a run that ended this way.
    pub fn status(&self) -> &'static str {
        match &self.kind {
            FailureKind::Ended(o) => o.label(),
            _ => "ERROR",
        }
    }
}

/// A command's result: the exit status of a run that got to report its jobs, or a failure.
pub type CommandResult = Result<i32, Failure>;

/// Run dli-wait with these arguments; returns the process's exit status.
pub fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            if !e.use_stderr() {
                return 0; // --help, --version
            }
            let text = e.to_string();
            let first = text.lines().next().unwrap_or_default();
            let failure = Failure::usage(first.trim_start_matches("error: "));
            // Already printed by clap; only the CI outputs are left to write.
            context::Context::without_command().report_failure_outputs(&failure);
            return failure.exit_code();
        }
    };
    let output = output_of(&cli);
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
        };
        match result {
            Ok(code) => code,
            Err(failure) => ctx.fail(failure),
        }
    })
}

/// The output flags of whichever command was given.
fn output_of(cli: &Cli) -> OutputArgs {
    match &cli.command {
        Some(Command::Run(r)) => r.output.clone(),
        #[cfg(feature = "simulator")]
        Some(Command::Simulate(s)) => s.output_args(),
        #[cfg(feature = "simulator")]
        Some(Command::Demo(d)) => d.output_args(),
        None => cli.output.clone(),
    }
}
