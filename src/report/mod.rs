//! Reporting: what people and CI see while waiting and at the end. Knows words and formats,
//! nothing of HTTP or of how decisions are made. The messages built here hold outside text
//! as it came; each output makes it safe where it writes it (`safe`).

pub mod github;
pub mod human;
pub mod json;
pub mod limits;
pub mod out_file;
pub mod results;
pub mod safe;
pub mod sink;
pub mod stream;

use crate::cli::{flag, hint};
use crate::dli::fault::{Fault, FaultKind};
use crate::dli::model::JobStatus;
use crate::report::safe::Scrubber;
use crate::wait::events::Events;
use crate::wait::outcome::Outcome;
use crate::wait::record::JobReport;
use crate::wait::snapshot::Snapshot;
pub use results::fmt_count;
use std::time::Duration;

/// A wait's events (from the driver) plus what only a command knows: a submit, the end.
pub trait Reporter: Events {
    /// The very end: all jobs and the process's exit code.
    fn summary(&self, reports: &[JobReport], exit_code: i32);
    /// A job was just submitted: its id, said at once so that it is never lost.
    fn submitted(&self, job_id: &str);
    /// What the lookup found of the job's past runs (`--history auto`): `--record` keeps it.
    fn history(&self, job_id: &str, past: &crate::wait::history::Past) {
        let _ = (job_id, past);
    }
    /// Instead of a submit, the run stands for a job submitted before with its
    /// `--idempotency-key` (re-attached to, or already finished). Said as a submit by default
    /// (in JSON the `submitted` event carries the id either way).
    fn reattached(&self, job_id: &str) {
        self.submitted(job_id);
    }
}

/// A fault as people read it: what happened, then what to check (`: …` for a fault that is
/// retried, ` — …` for one that ends the wait).
pub fn fault_text(f: &Fault) -> String {
    match f.check() {
        None => f.to_string(),
        Some(c) if f.is_transient() => {
            format!("{}: {}", f.to_string().trim_end_matches('.'), hint(c))
        }
        Some(c) => format!("{f} — {}", hint(c)),
    }
}

/// `4m12s`, `1h3m`, `850ms`, `0s`: short, for log lines (rounded: `dli::human::duration`).
pub fn fmt_duration(d: Duration) -> String {
    crate::dli::human::duration(d)
}

/// `RUNNING 43% · tasks 43/100 · stages 1/3 · sub-job 2`, or for a Spark batch waiting for
/// resources `STARTING (queued 12m)`.
pub fn describe(s: &Snapshot) -> String {
    let mut out = describe_state(s);
    if let Some(q) = queued_text(s) {
        out.push_str(&format!(" (queued {q})"));
    }
    out
}

/// `restarted 2 times during the wait (restart_times 5)`, for a job whose kind counts its
/// restarts and that restarted while waited for; `None` otherwise.
pub fn restarts_text(s: &Snapshot) -> Option<String> {
    let n = s.restarted.filter(|n| *n > 0)?;
    let times = if n == 1 { "once" } else { "times" };
    let n = if n == 1 {
        String::new()
    } else {
        format!("{n} ")
    };
    let total = s
        .restart_times
        .map_or_else(String::new, |t| format!(" (restart_times {t})"));
    Some(format!("restarted {n}{times} during the wait{total}"))
}

/// How long the job has been queued, to the second, from a second on.
fn queued_text(s: &Snapshot) -> Option<String> {
    let whole = Duration::from_secs(s.queued?.as_secs());
    (!whole.is_zero()).then(|| fmt_duration(whole))
}

/// [`describe`] without the time queued, which changes at every poll: what a change of
/// state is judged by (a log line per change, not per poll).
pub fn describe_state(s: &Snapshot) -> String {
    let mut out = s.status.to_string();
    // DLI's progress describes the running sub-job; without one it is only 0 or 1.
    if let Some(p) = s.percent().filter(|_| s.sub_job_id.is_some()) {
        out.push_str(&format!(" {p:.0}%"));
    }
    let c = s.counts();
    if c.tasks_total > 0 {
        out.push_str(&format!(" · tasks {}/{}", c.tasks_done, c.tasks_total));
        if c.tasks_failed > 0 {
            out.push_str(&format!(" ({} failed)", c.tasks_failed));
        }
    }
    if c.stages_total > 0 {
        out.push_str(&format!(" · stages {}/{}", c.stages_done, c.stages_total));
    }
    if let Some(id) = s.sub_job_id {
        out.push_str(&format!(" · sub-job {id}"));
    }
    if let Some(r) = restarts_text(s) {
        out.push_str(&format!(" · {r}"));
    }
    out
}

fn polls_text(r: &JobReport) -> String {
    // The history lookup's calls are DLI requests too: they are counted, apart from polls.
    let lookup = match r.lookup_calls {
        0 => String::new(),
        1 => " + 1 history call".to_string(),
        n => format!(" + {n} history calls"),
    };
    format!(
        "{} poll{}{lookup}, {} retr{}",
        r.polls,
        if r.polls == 1 { "" } else { "s" },
        r.retries,
        if r.retries == 1 { "y" } else { "ies" }
    )
}

fn last_seen(r: &JobReport) -> String {
    let state = r.last.as_ref().map_or_else(
        || "never seen (no successful poll)".to_string(),
        |s| format!("last seen {}", describe(s)),
    );
    let fault = r
        .last_fault
        .as_ref()
        .map_or_else(String::new, |f| format!("; last fault: {}", fault_text(f)));
    format!("{state}{fault}")
}

fn cancel_text(r: &JobReport) -> Option<String> {
    let c = r.cancel.as_ref()?;
    Some(match (c.accepted, c.confirmed) {
        (true, true) => "the job was cancelled".to_string(),
        (true, false) if c.message.is_empty() => {
            "cancel sent; DLI accepted it but had not reported the job ended yet".to_string()
        }
        (true, false) => format!("cancel sent; {}", c.message),
        (false, _) => format!(
            "the cancel did NOT take ({}); the job may still be running",
            c.message
        ),
    })
}

/// The one message that explains how a job's wait ended (without the job id and timing), in
/// full: DLI's whole reason (JSON, the summary file, the `message` output).
pub fn outcome_message(r: &JobReport) -> String {
    message(r, None)
}

/// [`outcome_message`] with DLI's reason as its telling line (see [`telling`]): what the
/// closing line and an annotation carry. The reason is scrubbed of `scrubber`'s secrets
/// before it is cut (a cut must not leave part of a secret that no longer matches).
pub fn outcome_brief(r: &JobReport, scrubber: &Scrubber) -> String {
    message(r, Some(scrubber))
}

/// DLI's reason as it came: its message, then its detail.
pub fn reason_text(r: &JobReport) -> Option<String> {
    let reason = r.reason.as_ref().filter(|r| !r.message.is_empty())?;
    let mut m = reason.message.clone();
    if let Some(d) = &reason.detail {
        m.push_str(&format!(" (detail: {d})"));
    }
    Some(m)
}

/// The most characters of a reason's telling line (see [`telling`]).
pub const TELLING_CHARS: usize = 200;

/// The line of a long reason that tells what went wrong: the first that is not a stack frame
/// (`at …`, `... 12 more`), cut to [`TELLING_CHARS`], with `[+N lines]` for the lines left
/// out; a short one-line reason as it is.
pub fn telling(text: &str) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let frame = |l: &str| {
        let t = l.trim_start();
        t.starts_with("at ") || (t.starts_with("...") && t.ends_with("more"))
    };
    let Some(pick) = lines
        .iter()
        .position(|l| !frame(l))
        .or((!lines.is_empty()).then_some(0))
    else {
        return text.trim().to_string();
    };
    let line = lines[pick].trim();
    let mut out = limits::cut(line, TELLING_CHARS).into_owned();
    let more = lines.len() - 1;
    if more > 0 {
        out.push_str(&format!(
            " [+{more} line{}]",
            if more == 1 { "" } else { "s" }
        ));
    }
    out
}

/// `1.2 GiB`, `340 KiB`, `22 B`.
pub fn fmt_bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if v < 10.0 {
        format!("{v:.1} {}", UNITS[unit])
    } else {
        format!("{v:.0} {}", UNITS[unit])
    }
}

/// `DLI: 4m03s, 1.2 GiB scanned, 18,204 rows` (what DLI gave of them), or that the figures
/// could not be read; `None` for a wait that did not read them.
pub fn figures_text(r: &JobReport) -> Option<String> {
    let f = match r.figures.as_ref()? {
        Ok(f) => f,
        Err(e) => return Some(format!("DLI's figures not read: {e}")),
    };
    let mut parts = Vec::new();
    if let Some(d) = f.duration {
        parts.push(fmt_duration(d));
    }
    if let Some(b) = f.bytes_scanned {
        parts.push(format!("{} scanned", fmt_bytes(b)));
    }
    if let Some(n) = f.result_rows {
        parts.push(format!(
            "{} row{}",
            fmt_count(n),
            if n == 1 { "" } else { "s" }
        ));
    }
    if let Some(n) = f.bad_rows.filter(|n| *n > 0) {
        parts.push(format!(
            "{} bad row{}",
            fmt_count(n),
            if n == 1 { "" } else { "s" }
        ));
    }
    (!parts.is_empty()).then(|| format!("DLI: {}", parts.join(", ")))
}

/// A failed check (`--fail-if-rows`): how many rows, and the first few the preview has.
fn check_message(r: &JobReport, rows: u64) -> String {
    let mut m = format!(
        "the check failed: the query returned {} row{} ({})",
        fmt_count(rows),
        if rows == 1 { "" } else { "s" },
        flag::FAIL_IF_ROWS
    );
    if let Some(first) = results::first_rows(r, results::CHECK_ROWS_SHOWN) {
        m.push_str(&format!("; first: {first}"));
    }
    m
}

/// The message; brief (with a scrubber: the reason's telling line) or whole.
fn message(r: &JobReport, brief: Option<&Scrubber>) -> String {
    let mut msg = match &r.outcome {
        Outcome::Finished => String::new(),
        Outcome::Running { settled } => match settled {
            Some(d) => format!(
                "running, and stayed running for {} ({} {})",
                fmt_duration(*d),
                flag::SETTLE,
                fmt_duration(*d)
            ),
            None => format!("running ({} running)", flag::UNTIL),
        },
        Outcome::Unsteady {
            restarts,
            max_restarts,
            settle,
        } => match (settle, max_restarts) {
            (Some(d), _) => format!(
                "did not stay running for {} ({} {}): it restarted or left running inside the window; {}",
                fmt_duration(*d),
                flag::SETTLE,
                fmt_duration(*d),
                last_seen(r)
            ),
            (None, max) => format!(
                "restart_times grew by {restarts} during the wait, more than {} {}; {}",
                flag::MAX_RESTARTS,
                max.unwrap_or_default(),
                last_seen(r)
            ),
        },
        Outcome::CheckFailed { rows } => check_message(r, *rows),
        Outcome::Failed | Outcome::Cancelled => match reason_text(r) {
            Some(m) if let Some(scrubber) = brief => telling(&scrubber.scrub(&m)),
            Some(m) => m,
            None => "DLI gave no reason".to_string(),
        },
        Outcome::Stalled { still_for } => format!(
            "no task or stage moved for {} ({}); {}",
            fmt_duration(*still_for),
            flag::STALL_TIMEOUT,
            last_seen(r)
        ),
        Outcome::TimedOut => format!(
            "gave up after {} ({}); {}{}",
            fmt_duration(r.elapsed),
            flag::TIMEOUT,
            last_seen(r),
            still_queued(r)
        ),
        Outcome::Refused(f) => refused_message(r, f),
        Outcome::Misconfigured(f) => misconfigured_message(r, f),
        Outcome::Interrupted(sig) => format!("interrupted by {}; {}", sig.name(), last_seen(r)),
        Outcome::Abandoned => format!(
            "stopped waiting because another job did not finish ({}); {}",
            flag::FAIL_FAST,
            last_seen(r)
        ),
    };
    let may_run = matches!(
        r.outcome,
        Outcome::Stalled { .. }
            | Outcome::Unsteady { .. }
            | Outcome::TimedOut
            | Outcome::Interrupted(_)
            | Outcome::Abandoned
    );
    // A restart count is said on every ending (once: the last state named may say it).
    if let Some(t) = r.last.as_ref().and_then(restarts_text)
        && !msg.contains(&t)
    {
        if msg.is_empty() {
            msg = t;
        } else {
            msg.push_str(&format!("; {t}"));
        }
    }
    match cancel_text(r) {
        Some(c) => msg.push_str(&format!("; {c}")),
        None if may_run => msg.push_str("; the job may still be running"),
        None => {}
    }
    if r.fell_back && !matches!(r.outcome, Outcome::Finished) {
        msg.push_str(
            " [polled /status: /progress kept answering DLI.0999, so task-count stall detection was off]",
        );
    }
    let no_counts = r.last.as_ref().filter(|s| s.never_has_task_counts());
    if let Some(s) = no_counts
        && may_run
    {
        msg.push_str(&format!(
            " [{}: DLI reports no task counts for it, so task-count stall detection was off]",
            s.source.words.what
        ));
    }
    msg
}

/// For a wait that ended while the job was still queued for resources (a Spark batch
/// `starting`; for how long, [`describe`] has said): what DLI does about it.
fn still_queued(r: &JobReport) -> &'static str {
    match r.last.as_ref() {
        Some(s) if s.status == JobStatus::Starting => {
            "; still waiting for resources (DLI ends a batch that gets none after about 3 hours)"
        }
        _ => "",
    }
}

/// A wait that cannot work as configured: the fault, for a service that never answered how
/// long that was, and what to fix.
fn misconfigured_message(r: &JobReport, f: &Fault) -> String {
    let mut m = format!("cannot work as configured: {f}");
    if f.is_transient() {
        m.push_str(&format!(
            "; no answer from the service at all in {} ({})",
            fmt_duration(r.elapsed),
            flag::UNREACHABLE_TIMEOUT
        ));
    }
    if let Some(c) = f.check() {
        m.push_str(&format!(" — {}", hint(c)));
    }
    m
}

fn refused_message(r: &JobReport, f: &Fault) -> String {
    let mut m = format!("DLI refused the request: {f}");
    if let Some(id) = &f.request_id {
        m.push_str(&format!(" (request id {id})"));
    }
    if f.kind == FaultKind::Unauthorized && r.polls > 1 && r.last.is_some() {
        m.push_str(&format!(
            "; authentication failed after {} of polling{}; {}",
            fmt_duration(r.elapsed),
            if r.short_lived_credentials {
                " (the token or temporary keys have probably expired)"
            } else {
                ""
            },
            r.last
                .as_ref()
                .map_or_else(String::new, |s| format!("last seen {}", describe(s)))
        ));
    }
    if let Some(c) = f.check() {
        m.push_str(&format!(" — {}", hint(c)));
    }
    m
}

/// `job 85798b38-… FINISHED in 4m12s (DLI: 4m03s, 1.2 GiB scanned, 18,204 rows; 37 polls,
/// 2 retries)` plus the reason's telling line when it did not. A job that had ended before
/// the wait began says so, and DLI's duration, not the wait's.
pub fn closing_line(r: &JobReport, scrubber: &Scrubber) -> String {
    let msg = outcome_brief(r, scrubber);
    let figures = figures_text(r);
    // Ended at the first look, after a run longer than the wait: it had ended before.
    let ended_before = r.polls <= 1
        && r.figures()
            .and_then(|f| f.duration)
            .is_some_and(|d| d > r.elapsed);
    let when = if ended_before {
        "before the wait began".to_string()
    } else {
        format!("in {}", fmt_duration(r.elapsed))
    };
    let about = match figures {
        Some(f) => format!("{f}; {}", polls_text(r)),
        None => polls_text(r),
    };
    let head = format!("job {} {} {when} ({about})", r.job_id, r.outcome.label());
    if msg.is_empty() {
        head
    } else {
        format!("{head}: {msg}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_people_write_them() {
        assert_eq!(fmt_duration(Duration::from_secs(252)), "4m12s");
        assert_eq!(fmt_duration(Duration::from_secs(3780)), "1h3m");
        assert_eq!(fmt_duration(Duration::from_millis(850)), "850ms");
        assert_eq!(fmt_duration(Duration::from_secs(60)), "1m");
    }

    fn report(outcome: Outcome, last: Snapshot) -> JobReport {
        JobReport {
            job_id: "85798b38-ae44-48eb-bb90-7cf0dcdafe7b".into(),
            outcome,
            elapsed: Duration::from_secs(3 * 3600),
            polls: 100,
            lookup_calls: 0,
            retries: 0,
            last: Some(last),
            last_fault: None,
            reason: None,
            cancel: None,
            fell_back: false,
            short_lived_credentials: false,
            figures: None,
            results: None,
        }
    }

    #[test]
    fn a_queued_batch_says_for_how_long_and_a_timeout_says_it_too() {
        let mut s = Snapshot::of_batch(JobStatus::Starting, String::new());
        assert_eq!(describe(&s), "STARTING");
        s.queued = Some(Duration::from_millis(900));
        assert_eq!(describe(&s), "STARTING");
        s.queued = Some(Duration::from_millis(12 * 60_000 + 700));
        assert_eq!(describe(&s), "STARTING (queued 12m)");
        // What a change of state is judged by leaves it out.
        assert_eq!(describe_state(&s), "STARTING");
        s.queued = Some(Duration::from_secs(2 * 3600 + 55 * 60));
        let m = outcome_message(&report(Outcome::TimedOut, s));
        assert!(
            m.starts_with("gave up after 3h (--timeout); last seen STARTING (queued 2h55m); still waiting for resources"),
            "{m}"
        );
        assert!(
            m.contains("may still be running") && m.contains("stall detection was off"),
            "{m}"
        );
        // A dead batch's message is its reason, without the note on stall detection.
        let mut r = report(
            Outcome::Failed,
            Snapshot::of_batch(JobStatus::Dead, String::new()),
        );
        r.reason = Some(crate::wait::record::Reason {
            message: "ValueError: x".into(),
            detail: None,
        });
        assert_eq!(outcome_message(&r), "ValueError: x");
    }

    /// A long reason's telling line: the exception, not the frames, and how many lines more.
    #[test]
    fn a_stack_trace_is_told_by_its_exception() {
        let mut trace = String::from(
            "DLI.0005: org.apache.spark.sql.AnalysisException: Table or view not found: t;",
        );
        for i in 0..60 {
            trace.push_str(&format!(
                "\n\tat org.apache.spark.Foo.bar{i}(Foo.scala:{i})"
            ));
        }
        trace.push_str("\n\t... 12 more");
        assert_eq!(
            telling(&trace),
            "DLI.0005: org.apache.spark.sql.AnalysisException: Table or view not found: t; [+61 lines]"
        );
        // Frames first (a log tail): the first line that is not one.
        assert_eq!(
            telling("\tat a.b(C.java:1)\nCaused by: java.io.IOException: gone\n\tat x.y(Z.java:2)"),
            "Caused by: java.io.IOException: gone [+2 lines]"
        );
        assert_eq!(telling("one line"), "one line");
        assert_eq!(telling("  "), "");
        let long = "x".repeat(1000);
        assert!(telling(&long).starts_with(&"x".repeat(TELLING_CHARS)));
        assert!(telling(&long).ends_with(" more characters)"));
    }

    proptest::proptest! {
        /// Whatever the reason, its telling line is one line and bounded.
        #[test]
        fn the_telling_line_is_one_bounded_line(text in "(\\PC{0,300}\n?){0,80}") {
            let t = telling(&text);
            proptest::prop_assert!(!t.contains('\n'), "{t:?}");
            proptest::prop_assert!(t.chars().count() <= TELLING_CHARS + 60, "{}", t.chars().count());
        }
    }

    #[test]
    fn figures_read_as_people_write_them() {
        assert_eq!(fmt_bytes(0), "0 B");
        assert_eq!(fmt_bytes(1023), "1023 B");
        assert_eq!(fmt_bytes(1_288_490_189), "1.2 GiB");
        assert_eq!(fmt_bytes(340 * 1024), "340 KiB");
        assert_eq!(fmt_bytes(u64::MAX), "16 EiB");
        assert_eq!(fmt_count(0), "0");
        assert_eq!(fmt_count(999), "999");
        assert_eq!(fmt_count(18_204), "18,204");
        assert_eq!(fmt_count(1_234_567), "1,234,567");
        let mut r = report(
            Outcome::Finished,
            Snapshot::of_batch(JobStatus::Dead, String::new()),
        );
        assert_eq!(figures_text(&r), None);
        r.figures = Some(Ok(crate::wait::snapshot::Figures {
            duration: Some(Duration::from_secs(243)),
            bytes_scanned: Some(1_288_490_189),
            result_rows: Some(18_204),
            ..Default::default()
        }));
        assert_eq!(
            figures_text(&r).as_deref(),
            Some("DLI: 4m3s, 1.2 GiB scanned, 18,204 rows")
        );
        r.figures = Some(Err("DLI.0500 (HTTP 503): busy".into()));
        assert_eq!(
            figures_text(&r).as_deref(),
            Some("DLI's figures not read: DLI.0500 (HTTP 503): busy")
        );
    }
}
