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
    /// The job FINISHED, but it was a check (`--fail-if-rows`) and its result has rows.
    CheckFailed { rows: u64 },
    /// The job was CANCELLED (by someone else, or by us on `--cancel-on`).
    Cancelled,
    /// A RUNNING job's counts did not move for `--stall-timeout`.
    Stalled { still_for: Duration },
    /// `--until running`: the job was seen running (for `settled`, `--settle`: that long,
    /// with no restart). Exit 0, status `RUNNING`.
    Running { settled: Option<Duration> },
    /// The job did not run steadily: its `restart_times` grew by `restarts` during the wait,
    /// more than `max_restarts` (`--max-restarts`), or it restarted or left running inside
    /// the `settle` window (`--settle`). Exit 4, as a stall: it is not making progress, and
    /// may still be running.
    Unsteady {
        restarts: u64,
        max_restarts: Option<u64>,
        settle: Option<Duration>,
    },
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

/// The exit statuses of the contract: the one table of codes, with the word each stands for
/// (`status` in outputs and JSON), its line in `--help` (`exit_status_help`) and README's
/// "Exit status" (tests check both against this table), and the order that picks the run's
/// status among several jobs (`ExitStatus::ORDER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Every job FINISHED (also: a command that waits for nothing ended well).
    Finished,
    /// A job FAILED (also: dli-wait itself broke).
    Failed,
    /// Bad usage or configuration.
    Misconfigured,
    /// A job was CANCELLED.
    Cancelled,
    /// A job stalled.
    Stalled,
    /// DLI refused the request for good.
    Refused,
    /// A job FINISHED but its result failed the check (`--fail-if-rows`).
    CheckFailed,
    /// `--timeout` passed first.
    TimedOut,
    /// A signal interrupted the wait: 128 + its number.
    Interrupted(Signal),
}

/// One row of the table.
struct Row {
    code: i32,
    label: &'static str,
    /// Its `--help` line (line breaks where `--help` wraps it).
    help: &'static str,
}

impl ExitStatus {
    /// Every status, in the order of their codes.
    pub const ALL: [ExitStatus; 11] = [
        ExitStatus::Finished,
        ExitStatus::Failed,
        ExitStatus::Misconfigured,
        ExitStatus::Cancelled,
        ExitStatus::Stalled,
        ExitStatus::Refused,
        ExitStatus::CheckFailed,
        ExitStatus::TimedOut,
        ExitStatus::Interrupted(Signal::Hup),
        ExitStatus::Interrupted(Signal::Int),
        ExitStatus::Interrupted(Signal::Term),
    ];

    /// Which status several jobs end with: the first of this order that applies (every
    /// signal ranks first alike: the first job's decides).
    pub const ORDER: [ExitStatus; 9] = [
        ExitStatus::Interrupted(Signal::Hup),
        ExitStatus::Misconfigured,
        ExitStatus::Refused,
        ExitStatus::Failed,
        ExitStatus::CheckFailed,
        ExitStatus::Stalled,
        ExitStatus::Cancelled,
        ExitStatus::TimedOut,
        ExitStatus::Finished,
    ];

    /// The table: exit codes as numbers appear here only (tests/it/layers.rs checks it).
    const fn row(self) -> Row {
        let (code, label, help) = match self {
            ExitStatus::Finished => (
                0,
                "FINISHED",
                "every job FINISHED (a Spark batch: success; a Flink job: job_finish); with\n\
                 --until running: every job RUNNING (for --settle, that long)",
            ),
            ExitStatus::Failed => (
                1,
                "FAILED",
                "a job FAILED (a Spark batch: dead; a Flink job: job_submit_fail,\n\
                 job_running_exception or job_arrearage_stopped; DLI's reason is printed)",
            ),
            ExitStatus::Misconfigured => (
                2,
                "ERROR",
                "bad usage or configuration, found at once (an untrusted TLS certificate, an\n\
                 unreadable SSL_CERT_FILE) or when DLI never answered (--unreachable-timeout)",
            ),
            ExitStatus::Cancelled => (
                3,
                "CANCELLED",
                "a job was CANCELLED (a Flink job: job_cancel_success; a Spark batch has no such\n\
                 state: one killed by others is dead, 1; one our --cancel-on killed has its cancel\n\
                 confirmed, the ending's own code stands)",
            ),
            ExitStatus::Stalled => (
                4,
                "STALLED",
                "a job stalled (--stall-timeout), restarted more than --max-restarts, or did not\n\
                 stay running through --settle",
            ),
            ExitStatus::Refused => (
                5,
                "REFUSED",
                "DLI refused the request for good (authentication, permission, unknown job or \
                 project)",
            ),
            ExitStatus::CheckFailed => (
                6,
                "CHECK_FAILED",
                "a job FINISHED but its result failed the check (--fail-if-rows: it returned rows)",
            ),
            ExitStatus::TimedOut => (124, "TIMED_OUT", "--timeout passed first"),
            ExitStatus::Interrupted(Signal::Hup) => (129, "INTERRUPTED", "interrupted by SIGHUP"),
            ExitStatus::Interrupted(Signal::Int) => (130, "INTERRUPTED", "interrupted by SIGINT"),
            ExitStatus::Interrupted(Signal::Term) => (143, "INTERRUPTED", "interrupted by SIGTERM"),
        };
        Row { code, label, help }
    }

    /// The process's exit status.
    pub const fn code(self) -> i32 {
        self.row().code
    }

    /// The word for it in output and in JSON (`status`).
    pub const fn label(self) -> &'static str {
        self.row().label
    }

    /// Its line in `--help` (with the line breaks `--help` shows).
    pub const fn help(self) -> &'static str {
        self.row().help
    }

    /// Its place in `ORDER` (lower decides).
    fn rank(self) -> usize {
        let same = |s: &ExitStatus| std::mem::discriminant(s) == std::mem::discriminant(&self);
        ExitStatus::ORDER
            .iter()
            .position(same)
            .unwrap_or(ExitStatus::ORDER.len())
    }
}

/// The "Exit status:" section of `--help`, generated from the table: one line per status
/// (the signals on one), then the order for several jobs.
pub fn exit_status_help() -> String {
    let mut lines = vec!["Exit status:".to_string()];
    let entry = |codes: &str, help: &str| {
        let width = (codes.len() + 2).max(5);
        let help = help.replace('\n', "\n       ");
        format!("  {codes:<width$}{help}")
    };
    let (signals, others): (Vec<ExitStatus>, Vec<ExitStatus>) = ExitStatus::ALL
        .into_iter()
        .partition(|s| matches!(s, ExitStatus::Interrupted(_)));
    for s in others {
        lines.push(entry(&s.code().to_string(), s.help()));
    }
    let join = |f: &dyn Fn(ExitStatus) -> String| {
        signals.iter().map(|s| f(*s)).collect::<Vec<_>>().join("/")
    };
    let codes = join(&|s| s.code().to_string());
    let names = join(&|s| match s {
        ExitStatus::Interrupted(sig) => sig.name().to_string(),
        _ => String::new(),
    });
    lines.push(entry(&codes, &format!("interrupted by {names}")));
    let order: Vec<String> = ExitStatus::ORDER
        .iter()
        .filter(|s| !matches!(s, ExitStatus::Interrupted(_)))
        .map(|s| s.code().to_string())
        .collect();
    lines.push(format!(
        "  With several jobs: a signal's code wins; otherwise the first of {}.",
        order.join(", ")
    ));
    lines.push(format!(
        "  A job whose wait --fail-fast stopped is {} (1, when no other job decides).",
        Outcome::Abandoned.label()
    ));
    lines.join("\n")
}

impl Outcome {
    /// The contract's exit status for this ending.
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            Outcome::Finished | Outcome::Running { .. } => ExitStatus::Finished,
            Outcome::Failed | Outcome::Abandoned => ExitStatus::Failed,
            Outcome::Misconfigured(_) => ExitStatus::Misconfigured,
            Outcome::Cancelled => ExitStatus::Cancelled,
            Outcome::Stalled { .. } | Outcome::Unsteady { .. } => ExitStatus::Stalled,
            Outcome::Refused(_) => ExitStatus::Refused,
            Outcome::CheckFailed { .. } => ExitStatus::CheckFailed,
            Outcome::TimedOut => ExitStatus::TimedOut,
            Outcome::Interrupted(sig) => ExitStatus::Interrupted(*sig),
        }
    }

    /// The wait reached what it waited for (exit 0): the job FINISHED, or with `--until
    /// running`, it ran.
    pub fn is_success(&self) -> bool {
        self.exit_status() == ExitStatus::Finished
    }

    /// The contract's exit code for this ending.
    pub fn exit_code(&self) -> i32 {
        self.exit_status().code()
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

    /// The word used in output and in JSON (`status`): its exit status's, but for a job
    /// `--fail-fast` abandoned and one `--until running` saw running.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Abandoned => "ABANDONED",
            Outcome::Running { .. } => "RUNNING",
            o => o.exit_status().label(),
        }
    }

    /// Precedence among several jobs' endings (lower decides): `ExitStatus::ORDER`; jobs
    /// abandoned by `--fail-fast` count only if nothing else does, so the job that failed
    /// first decides.
    fn precedence(&self) -> usize {
        match self {
            Outcome::Abandoned => ExitStatus::ORDER.len() + 1,
            o => o.exit_status().rank(),
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

/// The exit status for several jobs: the decisive ending's code (FINISHED's for none).
pub fn aggregate_exit_code<'a>(outcomes: impl IntoIterator<Item = &'a Outcome>) -> i32 {
    let all: Vec<&Outcome> = outcomes.into_iter().collect();
    decisive(&all, |o| o).map_or(ExitStatus::Finished.code(), |o| o.exit_code())
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
            (Outcome::CheckFailed { rows: 2 }, 6),
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
        // A failed check ranks after a failure, before a stall (the contract's 2, 5, 1, 6, 4).
        let check = CheckFailed { rows: 1 };
        assert_eq!(aggregate_exit_code(&[check.clone(), Failed]), 1);
        let stalled = Stalled {
            still_for: Duration::ZERO,
        };
        assert_eq!(aggregate_exit_code(&[stalled, check.clone(), Cancelled]), 6);
        assert_eq!(aggregate_exit_code(&[Finished, check]), 6);
    }

    /// `--help`'s "Exit status:" as it was written by hand (src/cli.rs) before the table
    /// generated it: same words.
    #[test]
    fn the_help_text_is_generated_from_the_table() {
        let by_hand = "\
Exit status:
  0    every job FINISHED (a Spark batch: success; a Flink job: job_finish); with
       --until running: every job RUNNING (for --settle, that long)
  1    a job FAILED (a Spark batch: dead; a Flink job: job_submit_fail,
       job_running_exception or job_arrearage_stopped; DLI's reason is printed)
  2    bad usage or configuration, found at once (an untrusted TLS certificate, an
       unreadable SSL_CERT_FILE) or when DLI never answered (--unreachable-timeout)
  3    a job was CANCELLED (a Flink job: job_cancel_success; a Spark batch has no such
       state: one killed by others is dead, 1; one our --cancel-on killed has its cancel
       confirmed, the ending's own code stands)
  4    a job stalled (--stall-timeout), restarted more than --max-restarts, or did not
       stay running through --settle
  5    DLI refused the request for good (authentication, permission, unknown job or project)
  6    a job FINISHED but its result failed the check (--fail-if-rows: it returned rows)
  124  --timeout passed first
  129/130/143  interrupted by SIGHUP/SIGINT/SIGTERM
  With several jobs: a signal's code wins; otherwise the first of 2, 5, 1, 6, 4, 3, 124, 0.
  A job whose wait --fail-fast stopped is ABANDONED (1, when no other job decides).";
        assert_eq!(exit_status_help(), by_hand);
    }

    #[test]
    fn every_status_is_in_the_order_once() {
        for s in ExitStatus::ALL {
            assert!(s.rank() < ExitStatus::ORDER.len(), "{s:?}");
        }
        let mut codes: Vec<i32> = ExitStatus::ALL.iter().map(|s| s.code()).collect();
        codes.dedup();
        assert_eq!(codes.len(), ExitStatus::ALL.len());
    }

    #[test]
    fn a_submit_that_cannot_work_as_configured_is_misconfigured() {
        let f = Fault::config(FaultKind::Tls, "not trusted");
        assert_eq!(Outcome::of_failed_submit(&f).exit_code(), 2);
        let f = Fault::transport(FaultKind::Connection, "reset");
        assert_eq!(Outcome::of_failed_submit(&f), Outcome::Failed);
    }
}
