//! `dli-wait run`: submit a job exactly once, say its id at once, then wait for it. The kind
//! decides what is submitted and how (`kind::of_run`: a SQL job, or with `--spark-file` a
//! Spark batch); the session does the rest.

use super::context::Context;
use super::failure::{CommandResult, Failure};
use super::session::{Session, Submit, resolved};
use crate::cli::RunArgs;
use crate::kind::Kind;
use crate::kind::pick::{of_run, with_kind};

pub async fn command(args: RunArgs, ctx: &Context) -> CommandResult {
    with_kind!(of_run(&args), K => run::<K>(&args, ctx).await)
}

async fn run<K: Kind>(args: &RunArgs, ctx: &Context) -> CommandResult {
    let settings = resolved(ctx, &args.target, &args.timing)?;
    let what = K::submission(args).map_err(Failure::usage)?;
    let mut session = Session::<K>::start(ctx, settings).await?;
    match session.submit(&what, args.no_wait).await? {
        Submit::Wait(job_id) => session.wait(vec![job_id]).await,
        Submit::Ended(code) => Ok(code),
    }
}
