//! How a wait ended, and the one mapping from endings to exit codes (the CLI contract).
//! Knows nothing of HTTP or of how the ending is printed.

use crate::dli::fault::Fault;
use std::time::Duration;

/// A signal that ends the wait early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Hup,
    Int,
    Term,
}

impl Signal {
    pub fn name(self) -> &'static str {
        match self {
            Signal::Hup => "SIGHUP",
            Signal::Int => "SIGINT",
            Signal::Term => "SIGTERM",
        }
    }
}

/// Why the waits are told to stop early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// A signal arrived.
    Signal(Signal),
    /// `--fail-fast`: another job ended badly.
    FailFast,
}

/// How the wait for one job ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The job FINISHED.
    Finished,
    /// The job FAILED.
    Failed,
    /// The job was CANCELLED (by someone else, or by us on `--cancel-on`).
    Cancelled,
    /// A RUNNING job's counts did not move for `--stall-timeout`.
    Stalled { still_for: Duration },
    /// DLI refused the request for good (authentication, permission, unknown job).
    Refused(Fault),
    /// It cannot work as configured: a fault no retry can mend (a certificate not trusted
    /// here, a request that cannot be built), or a service that never answered at all
    /// within the unreachable window (a mistyped region, no route). The fault says which.
    Misconfigured(Box<Fault>),
    /// `--timeout` passed first.
    TimedOut,
    /// A signal stopped the wait.
    Interrupted(Signal),
    /// `--fail-fast` stopped the wait because another job ended badly.
    Abandoned,
}

impl Outcome {
    /// The contract's exit status for this ending.
    pub fn exit_code(&self) -> i32 {
        match self {
            Outcome::Finished => 0,
            Outcome::Failed | Outcome::Abandoned => 1,
            Outcome::Misconfigured(_) => 2,
            Outcome::Cancelled => 3,
            Outcome::Stalled { .. } => 4,
            Outcome::Refused(_) => 5,
            Outcome::TimedOut => 124,
            Outcome::Interrupted(Signal::Hup) => 129,
            Outcome::Interrupted(Signal::Int) => 130,
            Outcome::Interrupted(Signal::Term) => 143,
        }
    }

    /// The ending of a job whose submit failed: a configuration fault is that (2); refused
    /// credentials or project are DLI refusing us (5); anything else, bad SQL above all, is
    /// the job failing (1).
    pub fn of_failed_submit(fault: &Fault) -> Self {
        use crate::dli::fault::{FaultClass, FaultKind};
        if fault.class == FaultClass::Config {
            return Outcome::Misconfigured(Box::new(fault.clone()));
        }
        match fault.kind {
            FaultKind::Unauthorized | FaultKind::Forbidden | FaultKind::NotFound => {
                Outcome::Refused(fault.clone())
            }
            _ => Outcome::Failed,
        }
    }

    /// The word used in output and in JSON (`status`).
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Finished => "FINISHED",
            Outcome::Failed => "FAILED",
            Outcome::Cancelled => "CANCELLED",
            Outcome::Stalled { .. } => "STALLED",
            Outcome::Refused(_) => "REFUSED",
            Outcome::Misconfigured(_) => "ERROR",
            Outcome::TimedOut => "TIMED_OUT",
            Outcome::Interrupted(_) => "INTERRUPTED",
            Outcome::Abandoned => "ABANDONED",
        }
    }
}

impl Outcome {
    /// Precedence among several jobs' endings (lower decides): a signal, then the order
    /// 2, 5, 1, 4, 3, 124, 0; jobs abandoned by `--fail-fast` count only if nothing else does,
    /// so the job that failed first decides.
    fn precedence(&self) -> u8 {
        match self {
            Outcome::Interrupted(_) => 0,
            Outcome::Misconfigured(_) => 1,
            Outcome::Refused(_) => 2,
            Outcome::Failed => 3,
            Outcome::Stalled { .. } => 4,
            Outcome::Cancelled => 5,
            Outcome::TimedOut => 6,
            Outcome::Finished => 7,
            Outcome::Abandoned => 8,
        }
    }
}

/// The item whose ending decides the exit status of several jobs (the first of the highest
/// precedence); `None` for no items.
pub fn decisive<T>(items: &[T], outcome: impl Fn(&T) -> &Outcome) -> Option<&T> {
    items
        .iter()
        .enumerate()
        .min_by_key(|(i, t)| (outcome(t).precedence(), *i))
        .map(|(_, t)| t)
}

/// The exit status for several jobs: the decisive ending's code (0 for none).
pub fn aggregate_exit_code<'a>(outcomes: impl IntoIterator<Item = &'a Outcome>) -> i32 {
    let all: Vec<&Outcome> = outcomes.into_iter().collect();
    decisive(&all, |o| o).map_or(0, |o| o.exit_code())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dli::fault::FaultKind;

    #[test]
    fn every_outcome_has_its_contract_code() {
        let refused = Outcome::Refused(Fault::transport(FaultKind::Connection, "x"));
        let table = [
            (Outcome::Finished, 0),
            (Outcome::Failed, 1),
            (Outcome::Cancelled, 3),
            (
                Outcome::Stalled {
                    still_for: Duration::ZERO,
                },
                4,
            ),
            (refused, 5),
            (
                Outcome::Misconfigured(Box::new(Fault::config(FaultKind::Tls, "x"))),
                2,
            ),
            (Outcome::TimedOut, 124),
            (Outcome::Interrupted(Signal::Hup), 129),
            (Outcome::Interrupted(Signal::Int), 130),
            (Outcome::Interrupted(Signal::Term), 143),
        ];
        for (o, code) in table {
            assert_eq!(o.exit_code(), code, "{o:?}");
        }
    }

    #[test]
    fn several_jobs_follow_the_contract_order() {
        use Outcome::*;
        let refused = Refused(Fault::transport(FaultKind::Connection, "x"));
        assert_eq!(aggregate_exit_code(&[Finished, Finished]), 0);
        assert_eq!(aggregate_exit_code(&[Finished, TimedOut, Cancelled]), 3);
        assert_eq!(aggregate_exit_code(&[TimedOut, Failed, refused.clone()]), 5);
        let misconfigured = Misconfigured(Box::new(Fault::config(FaultKind::Tls, "x")));
        assert_eq!(
            aggregate_exit_code(&[refused.clone(), misconfigured.clone(), Failed]),
            2
        );
        assert_eq!(
            aggregate_exit_code(&[misconfigured, Interrupted(Signal::Int)]),
            130
        );
        assert_eq!(
            aggregate_exit_code(&[
                Stalled {
                    still_for: Duration::ZERO
                },
                Failed
            ]),
            1
        );
        assert_eq!(
            aggregate_exit_code(&[refused, Interrupted(Signal::Term)]),
            143
        );
        assert_eq!(aggregate_exit_code(&[]), 0);
        assert_eq!(
            aggregate_exit_code(&[
                Stalled {
                    still_for: Duration::ZERO
                },
                Abandoned
            ]),
            4
        );
        assert_eq!(aggregate_exit_code(&[Abandoned]), 1);
    }

    #[test]
    fn a_submit_that_cannot_work_as_configured_is_misconfigured() {
        let f = Fault::config(FaultKind::Tls, "not trusted");
        assert_eq!(Outcome::of_failed_submit(&f).exit_code(), 2);
        let f = Fault::transport(FaultKind::Connection, "reset");
        assert_eq!(Outcome::of_failed_submit(&f), Outcome::Failed);
    }
}
