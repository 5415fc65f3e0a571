//! `dli-wait [OPTIONS] <JOB_ID>...`: check the job ids, open a session of their kind
//! (`--job-type`: SQL jobs, or Spark batches), and wait for every job at once.

use super::context::Context;
use super::failure::{CommandResult, Failure};
use super::session::Session;
use crate::cli::{Command, JobType, TargetArgs, TimingArgs};
use crate::dli::job_id::{is_job_id, problem};
use crate::kind::pick::with_kind;

pub async fn command(
    job_ids: Vec<String>,
    target: &TargetArgs,
    timing: &TimingArgs,
    kind: JobType,
    ctx: &Context,
) -> CommandResult {
    if job_ids.is_empty() {
        return Err(Failure::usage(
            crate::config::ConfigError::NoJobs.to_string(),
        ));
    }
    if let Some(cmd) = job_ids.iter().find(|id| Command::names().contains(id)) {
        return Err(Failure::usage(format!(
            "{cmd:?} is a command, not a job id: write it before the job ids and options, e.g. `dli-wait {cmd} --help`"
        )));
    }
    if let Some(bad) = job_ids.iter().find(|id| !is_job_id(id)) {
        return Err(Failure::usage(not_a_job_id(bad)));
    }
    with_kind!(kind, K => Session::<K>::open(ctx, target, timing).await?.wait(job_ids).await)
}

/// The usage error for a word that is not a job id: what is wrong with it, and the command
/// it may be a mistyping of.
fn not_a_job_id(word: &str) -> String {
    let shown: String = word
        .chars()
        .take(40)
        .collect::<String>()
        .escape_debug()
        .to_string();
    let more = if word.chars().count() > 40 { "…" } else { "" };
    let close = Command::names()
        .into_iter()
        .find(|name| strsim::levenshtein(&word.to_ascii_lowercase(), name) <= 2);
    match close {
        Some(name) => format!(
            "\"{shown}{more}\" is not a job id; did you mean the command `dli-wait {name}`?"
        ),
        None => format!(
            "\"{shown}{more}\" is not a job id: {} (put `--` before job ids that come from variables)",
            problem(word)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mistyped_command_is_named_and_other_words_say_what_is_wrong() {
        assert!(not_a_job_id("chekc").contains("`dli-wait check`"));
        assert!(not_a_job_id("rnu").contains("`dli-wait run`"));
        let long = "x".repeat(100_000);
        let e = not_a_job_id(&long);
        assert!(e.len() < 300, "{}", e.len());
        assert!(e.contains("longer than a job id"));
        let e = not_a_job_id("85798b38-ae44-48eb-bb90-7cf0dcdafe7b\n::warning::x");
        assert!(!e.contains('\n'), "{e}");
        assert!(not_a_job_id("").contains("empty"));
    }
}
