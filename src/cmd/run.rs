//! `dli-wait run`: submit a SQL job exactly once, say its id at once, then wait for it. (A
//! Spark batch, `--spark-file`, is submitted by `run_spark` the same way.)

use super::context::Context;
use super::failure::{CommandResult, Failure};
use super::wait::{client, wait_jobs};
use crate::cli::{RunArgs, flag, hint, resolve};
use crate::dli::bounded;
use crate::dli::fault::Fault;
use crate::dli::model::SubmitJob;
use crate::wait::outcome::Outcome;
use crate::wait::record::JobReport;

pub async fn command(args: RunArgs, ctx: &Context) -> CommandResult {
    let settings = resolve(&args.target, &args.timing, |k| std::env::var(k).ok())
        .map_err(|e| Failure::usage(e.to_string()))?;
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
    let answer = match client.submit(&job, settings.client.request_timeout).await {
        Ok(a) => a,
        Err(f) => return Err(submit_failed(&f)),
    };
    let job_id = new_job_id(answer.job_id.clone(), &answer.envelope.message)?;
    // The id first, on stdout, in every output mode: `JOB=$(dli-wait run ...)` captures it.
    print_id(&job_id);
    reporter.submitted(&job_id);
    if args.no_wait {
        return Ok(ctx.conclude(&[], reporter.as_ref()));
    }
    if answer.job_mode.as_deref() == Some("sync") {
        // DLI ran it while answering (DDL): it has ended, FINISHED, without a poll.
        let report = JobReport::ended_at_submit(job_id);
        reporter.finished(&report);
        return Ok(ctx.conclude(std::slice::from_ref(&report), reporter.as_ref()));
    }
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

pub(super) fn print_id(job_id: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    // A closed stdout does not stop the wait: the id is on stderr too.
    let _ = writeln!(out, "{job_id}").and_then(|()| out.flush());
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
