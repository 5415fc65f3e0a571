//! `dli-wait run --spark-file BATCH.json`: submit a Spark batch job exactly once, say its id
//! at once, then wait for it, as `run` does for SQL.

use super::context::Context;
use super::failure::{CommandResult, Failure};
use super::run::{
    ID_WAITING_WITHIN, ID_WITHIN, new_job_id, print_id, submit_failed, submit_interrupted, told,
};
use super::wait::{client, wait_batches};
use crate::cli::{RunArgs, flag};
use crate::config::resolve;
use crate::dli::bounded;
use crate::dli::client::Sent;
use crate::dli::spark::check_batch;
use std::path::Path;

pub async fn command(args: RunArgs, ctx: &Context) -> CommandResult {
    let settings =
        resolve(&args.target, &args.timing, &ctx.env).map_err(|e| Failure::usage(e.to_string()))?;
    let Some(path) = args.spark_file.as_deref() else {
        return Err(Failure::internal("no --spark-file to submit"));
    };
    let batch = read_batch(path).map_err(Failure::usage)?;
    let reporter = super::credentials::ready(ctx, &settings).await?;
    let client = client(&settings)?;
    ctx.begin(&[]);
    // Submitted exactly once: a retry after a lost answer could run the batch twice.
    let sent = Sent::default();
    let answer = tokio::select! {
        biased;
        a = client.submit_batch(&batch, settings.client.request_timeout, &sent) => a,
        sig = super::signals::interrupted(&ctx.stop) => return Err(submit_interrupted(sig, &sent)),
    };
    let answer = answer.map_err(|f| submit_failed(&f))?;
    let said = answer.state.clone().unwrap_or_default();
    let batch_id = new_job_id(answer.id, &said)?;
    // The id first, on stdout, in every output mode: `BATCH=$(dli-wait run ...)` captures it.
    let within = if args.no_wait {
        ID_WITHIN
    } else {
        ID_WAITING_WITHIN
    };
    let printed = print_id(&batch_id, ctx, within);
    reporter.submitted(&batch_id);
    told(printed, args.no_wait, ctx)?;
    if args.no_wait {
        return Ok(ctx.conclude(&[], reporter.as_ref()));
    }
    // DLI answered the submit: reachable in this run (see `run`).
    let mut settings = settings;
    settings.wait.unreachable_after = None;
    wait_batches(ctx, settings, client, vec![batch_id], reporter).await
}

/// The batch in `path` (`-`: stdin), checked: a usage error says what is wrong with it.
fn read_batch(path: &Path) -> Result<serde_json::Value, String> {
    let shown = path.display();
    let text = if path.as_os_str() == "-" {
        bounded::read_from(std::io::stdin().lock(), bounded::SPARK_BATCH)
            .map_err(|e| format!("cannot read the batch from stdin: {e}"))?
    } else {
        bounded::read(path, bounded::SPARK_BATCH)
            .map_err(|e| format!("cannot read {} {shown}: {e}", flag::SPARK_FILE))?
    };
    check_batch(&text).map_err(|why| format!("bad {} {shown}: {why}", flag::SPARK_FILE))
}
