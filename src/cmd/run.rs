//! `dli-wait run`: submit a job exactly once, say its id at once, then wait for it. The kind
//! decides what is submitted and how (`kind::pick::of_run`: a SQL job, or with `--spark-file` a
//! Spark batch); the session does the rest. With `--idempotency-key` the session first looks
//! for the key's jobs and re-attaches, stops, or submits, as `kind::key::decide` says.

use super::context::Context;
use super::failure::{CommandResult, Failure};
use super::session::{Session, Submit, resolved, result_needs_the_end};
use crate::cli::RunArgs;
use crate::kind::Kind;
use crate::kind::key::{Decision, Key};
use crate::kind::pick::{of_run, with_kind};

pub async fn command(args: RunArgs, ctx: &Context) -> CommandResult {
    with_kind!(of_run(&args), K => run::<K>(&args, ctx).await)
}

async fn run<K: Kind>(args: &RunArgs, ctx: &Context) -> CommandResult {
    if args.no_wait {
        result_needs_the_end(ctx, crate::cli::flag::NO_WAIT)?;
    }
    let settings = resolved(ctx, &args.target, &args.timing)?;
    // The key, parsed once: a usage error before anything is read or sent.
    let key = args
        .idempotency_key
        .as_deref()
        .map(Key::parse)
        .transpose()
        .map_err(Failure::usage)?;
    let (what, notes) = read_submission::<K>(args, key.clone(), ctx).await?;
    for note in notes {
        ctx.stderr.line(&ctx.secrets.line(&format!("note: {note}")));
    }
    let mut session = Session::<K>::start(ctx, settings).await?;
    if let Some(key) = &key {
        match session.lookup(key, &what).await? {
            Decision::Reattach(job) => {
                return match session.reattach(&job, key, args.no_wait).await? {
                    Submit::Wait(job_id) => session.wait(vec![job_id]).await,
                    Submit::Ended(code) => Ok(code),
                };
            }
            Decision::AlreadyFinished(job) => return session.already_finished(&job, key),
            Decision::Submit { after } => session.resubmitting(after.as_ref(), key),
        }
    }
    match session.submit(&what, args.no_wait).await? {
        Submit::Wait(job_id) => session.wait(vec![job_id]).await,
        Submit::Ended(code) => Ok(code),
    }
}

/// What to submit (the SQL, the batch), read and checked on a thread of its own: standard
/// input or a FIFO that never ends must not hold a signal, which is raced here. Nothing has
/// been sent yet, so an interrupted read has created nothing.
async fn read_submission<K: Kind + 'static>(
    args: &RunArgs,
    key: Option<Key>,
    ctx: &Context,
) -> Result<(K::Submission, Vec<String>), Failure>
where
    K::Submission: 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    let owned = args.clone();
    // A plain thread, not the runtime's blocking pool: the runtime's end must never wait for
    // a read that does not end (it is left to the process's exit).
    std::thread::Builder::new()
        .name("dli-wait-read".into())
        .spawn(move || {
            let _ = tx.send(K::submission(&owned, key.as_ref()));
        })
        .map_err(|e| Failure::internal(format!("cannot start a thread to read the input: {e}")))?;
    tokio::select! {
        biased;
        sig = super::signals::interrupted(&ctx.stop) => Err(Failure::interrupted(
            sig,
            "while the input was read: nothing was submitted, no job was created",
        )),
        read = rx => match read {
            Ok(what) => what.map_err(Failure::usage),
            Err(_) => Err(Failure::internal("the input could not be read")),
        },
    }
}
