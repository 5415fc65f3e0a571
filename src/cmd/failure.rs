//! How a command ends when it cannot wait as asked: a one-line message and the exit status
//! it stands for (usage, a known ending such as a refused submit, or an internal error).

use crate::wait::outcome::{ExitStatus, Outcome};

/// Exit status for usage and configuration errors (the table's: `ExitStatus::Misconfigured`).
pub const EXIT_USAGE: i32 = ExitStatus::Misconfigured.code();

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
    /// Bad usage or configuration: exit `ExitStatus::Misconfigured` (2).
    Usage,
    /// The job's fate is known without a wait (a submit DLI refused): that ending's status.
    Ended(Outcome),
    /// dli-wait itself broke: exit `ExitStatus::Failed` (1).
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

    /// A phase a signal cut short (fetching keys, a submit): the run ends as interrupted
    /// (128 + its number, dying of it), saying what was going on (`while_`) and what that
    /// means.
    pub fn interrupted(sig: crate::wait::outcome::Signal, while_: &str) -> Self {
        Failure::ended(
            Outcome::Interrupted(sig),
            format!("interrupted by {} {while_}", sig.name()),
        )
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
            FailureKind::Internal => ExitStatus::Failed.code(),
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
