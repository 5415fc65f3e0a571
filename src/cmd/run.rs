//! `dli-wait run`: submit a SQL job exactly once, say its id at once, then wait for it. (A
//! Spark batch, `--spark-file`, is submitted by `run_spark` the same way.)

use super::context::Context;
use super::failure::{CommandResult, Failure};
use super::signals;
use super::wait::{client, wait_jobs};
use crate::cli::{RunArgs, flag, hint};
use crate::config::resolve;
use crate::dli::bounded;
use crate::dli::client::Sent;
use crate::dli::fault::Fault;
use crate::dli::model::SubmitJob;
use crate::wait::outcome::{Outcome, Signal};
use crate::wait::record::JobReport;

pub async fn command(args: RunArgs, ctx: &Context) -> CommandResult {
    let settings =
        resolve(&args.target, &args.timing, &ctx.env).map_err(|e| Failure::usage(e.to_string()))?;
    let sql = read_sql(&args).map_err(Failure::usage)?;
    if let Some(c) = args.conf.iter().find(|c| !c.contains('=')) {
        return Err(Failure::usage(format!(
            "bad {} {c:?}: write key=value",
            flag::CONF
        )));
    }
    let reporter = super::credentials::ready(ctx, &settings).await?;
    let client = client(&settings)?;
    let job = SubmitJob {
        sql,
        currentdb: args.database.clone(),
        queue_name: args.queue.clone(),
        conf: args.conf.clone(),
        ..SubmitJob::default()
    };
    ctx.begin(&[]);
    // Submitted exactly once: a retry after a lost answer could run the job twice.
    let sent = Sent::default();
    let answer = tokio::select! {
        biased;
        a = client.submit(&job, settings.client.request_timeout, &sent) => a,
        sig = signals::interrupted(&ctx.stop) => return Err(submit_interrupted(sig, &sent)),
    };
    let answer = answer.map_err(|f| submit_failed(&f))?;
    let job_id = new_job_id(answer.job_id.clone(), &answer.envelope.message)?;
    // The id first, on stdout, in every output mode: `JOB=$(dli-wait run ...)` captures it.
    let within = if args.no_wait {
        ID_WITHIN
    } else {
        ID_WAITING_WITHIN
    };
    let printed = print_id(&job_id, ctx, within);
    reporter.submitted(&job_id);
    told(printed, args.no_wait, ctx)?;
    if args.no_wait {
        return Ok(ctx.conclude(&[], reporter.as_ref()));
    }
    if answer.job_mode.as_deref() == Some("sync") {
        // DLI ran it while answering (DDL): it has ended, FINISHED, without a poll.
        let report = JobReport::ended_at_submit(job_id);
        reporter.finished(&report);
        return Ok(ctx.conclude(std::slice::from_ref(&report), reporter.as_ref()));
    }
    // DLI answered the submit: the service is reachable in this run, so the wait retries
    // connection faults as any transient fault (no "never answered" window).
    let mut settings = settings;
    settings.wait.unreachable_after = None;
    wait_jobs(ctx, &settings, &client, vec![job_id], reporter).await
}

/// A submit that failed: how the job ended (see `Outcome::of_failed_submit`), in one line
/// that says it was not retried when it may have reached DLI.
pub(super) fn submit_failed(f: &Fault) -> Failure {
    let extra = if f.is_transient() {
        " (not retried: the job may or may not have been created; check DLI's job list before submitting again)"
    } else {
        ""
    };
    let hint = f
        .check()
        .map(|c| format!(" — {}", hint(c)))
        .unwrap_or_default();
    Failure::ended(
        Outcome::of_failed_submit(f),
        format!("submit failed: {f}{hint}{extra}"),
    )
}

/// A submit a signal cut short: the run ends as interrupted, saying whether the job may
/// exist (the request was on its way) or cannot (it was never sent).
pub(super) fn submit_interrupted(sig: Signal, sent: &Sent) -> Failure {
    let what = if sent.maybe() {
        "during the submit, before DLI answered: the request may have reached DLI, so the job may or may not have been created; check DLI's job list before submitting again"
    } else {
        "before the submit was sent: no job was created"
    };
    Failure::interrupted(sig, what)
}

/// The id DLI answered an accepted submit with, if it is one to wait for (a UUID); `said`
/// is what else the answer said, for the message when there is no id.
pub(super) fn new_job_id(id: Option<String>, said: &str) -> Result<String, Failure> {
    let Some(job_id) = id.filter(|j| !j.is_empty()) else {
        return Err(Failure::ended(
            Outcome::Failed,
            format!("DLI accepted the submit but returned no job id ({said})"),
        ));
    };
    if !crate::dli::job_id::is_job_id(&job_id) {
        // The job may exist; its id is not one to poll, nor to print raw.
        return Err(Failure::ended(
            Outcome::Failed,
            format!(
                "DLI accepted the submit but answered a job id that is not a UUID ({:?}); check DLI's job list",
                job_id.chars().take(60).collect::<String>()
            ),
        ));
    }
    Ok(job_id)
}

/// Print the id of the job just created on stdout (through the run's stdout stream, so a
/// stdout nobody reads never holds up the run). A run that cannot tell it must not end as if
/// it had: when the id does not get out (`/dev/full`, a closed pipe, nobody reading within
/// `within`), `Err` is the failure a `--no-wait` run ends with, the id in its message, for
/// stderr (a run that waits goes on, after saying it: see [`told`]). Stdout on `/dev/null`
/// (how a closed stdout starts) is said on stderr too, with the id.
pub(super) fn print_id(
    job_id: &str,
    ctx: &Context,
    within: std::time::Duration,
) -> Result<(), Failure> {
    ctx.stdout.line(job_id);
    let flushed = ctx.stdout.flush(within);
    let why = if ctx.stdout.broken() {
        "writing to it failed: a closed pipe or a full disk".to_string()
    } else if !flushed {
        format!(
            "nobody read it within {}",
            crate::dli::human::duration(within)
        )
    } else {
        if stdout_is_null() {
            ctx.stderr.line(&ctx.secrets.line(&format!(
                "note: submitted job {job_id}; stdout is /dev/null, so its id is only on this line"
            )));
        }
        return Ok(());
    };
    Err(Failure::usage(format!(
        "submitted job {job_id}, but cannot write its id to stdout ({why}): the job was created and runs; note its id from this line (and make stdout writable)"
    )))
}

/// How long `run --no-wait` gives stdout to take the id (its only output); a run that waits
/// gives it [`ID_WAITING_WITHIN`] (its stderr names the job anyway).
pub(super) const ID_WITHIN: std::time::Duration = std::time::Duration::from_secs(2);
pub(super) const ID_WAITING_WITHIN: std::time::Duration = std::time::Duration::from_millis(100);

/// After [`print_id`]: a `--no-wait` run that could not print the id ends with that failure
/// (exit 2, the id on stderr); a run that waits says it on stderr, with the id, and goes on.
pub(super) fn told(
    printed: Result<(), Failure>,
    no_wait: bool,
    ctx: &Context,
) -> Result<(), Failure> {
    match printed {
        Err(f) if no_wait => Err(f),
        Err(f) => {
            ctx.stderr
                .line(&ctx.secrets.line(&format!("warning: {}", f.message)));
            Ok(())
        }
        Ok(()) => Ok(()),
    }
}

/// Whether stdout is the null device (`>/dev/null`, or a stdout that was closed at start,
/// which the runtime reopens on `/dev/null`).
fn stdout_is_null() -> bool {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        use std::os::unix::fs::MetadataExt;
        let Ok(fd) = std::io::stdout().as_fd().try_clone_to_owned() else {
            return false;
        };
        let (Ok(out), Ok(null)) = (
            std::fs::File::from(fd).metadata(),
            std::fs::metadata("/dev/null"),
        ) else {
            return false;
        };
        out.dev() == null.dev() && out.ino() == null.ino()
    }
    #[cfg(not(unix))]
    {
        false
    }
}

fn read_sql(args: &RunArgs) -> Result<String, String> {
    let sql = match (&args.sql, &args.sql_file) {
        (Some(s), _) => s.clone(),
        (None, Some(p)) if p.as_os_str() == "-" => {
            bounded::read_string_from(std::io::stdin().lock(), bounded::SQL)
                .map_err(|e| format!("cannot read SQL from stdin: {e}"))?
        }
        (None, Some(p)) => bounded::read_string(p, bounded::SQL)
            .map_err(|e| format!("cannot read {} {}: {e}", flag::SQL_FILE, p.display()))?,
        (None, None) => {
            return Err(format!(
                "give the SQL with {} or {}",
                flag::SQL,
                flag::SQL_FILE
            ));
        }
    };
    if sql.trim().is_empty() {
        return Err("the SQL is empty".into());
    }
    Ok(sql)
}
