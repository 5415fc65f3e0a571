//! What every command shares, decided once from the command line and the environment: the
//! output mode, GitHub Actions or not, the summary file, the stop channel signals use, and
//! the run's one snapshot of the environment (`env`).

use super::failure::Failure;
use super::summary_file;
use crate::cli::{OutputArgs, OutputFormat};
use crate::config::Env;
use crate::report::Reporter;
use crate::report::github::{Github, GithubPaths, write_failure};
use crate::report::human::{Human, Verbosity};
use crate::report::json::Json;
use crate::report::limits::{TEXT_CHARS, cut};
use crate::report::safe::Secrets;
use crate::report::stream::{self, Stream};
use crate::wait::outcome::{Outcome, Stop, aggregate_exit_code};
use crate::wait::record::JobReport;
use std::io::IsTerminal;
use std::sync::Arc;
use tokio::sync::watch;

/// The run's shared settings; commands receive it by reference.
pub struct Context {
    pub output: OutputArgs,
    /// Speak GitHub Actions (`--github`, or on a runner).
    pub github: bool,
    /// On a real GitHub runner (`GITHUB_ACTIONS=true`): only there may secrets be masked,
    /// since masking prints them.
    pub on_runner: bool,
    /// Where a reason to stop every wait is recorded (signals; `--fail-fast`).
    pub stop: watch::Sender<Option<Stop>>,
    /// The secrets of this run: every output scrubs them.
    pub secrets: Secrets,
    /// The run's stderr and stdout, each written by a thread of its own (`report::stream`):
    /// nobody reading them never holds up a wait or its signals.
    pub stderr: Stream,
    pub stdout: Stream,
    /// The run's one snapshot of the environment (`cmd::run` takes it): every variable is
    /// read from it, never from the process.
    pub env: Env,
    /// The time every output file written at the end shares (`report::out_file::Budget`):
    /// set when the run concludes or fails, so files nobody reads hold the end once, not
    /// once each.
    pub files: crate::report::out_file::Budget,
}

impl Drop for Context {
    /// The run ends: what is queued for stderr and stdout gets a bounded time to be written.
    fn drop(&mut self) {
        // What is left of the end's time, but a moment at least for lines to get out.
        let within = self
            .files
            .left()
            .max(std::time::Duration::from_millis(200))
            .min(stream::FLUSH_WITHIN);
        let until = std::time::Instant::now() + within;
        self.stdout.flush(within);
        self.stderr
            .flush(until.saturating_duration_since(std::time::Instant::now()));
    }
}

/// The time the end of a run (the summary file, the step outputs and summary, the
/// recording, what is queued for stderr and stdout) has in all, however many of them nobody
/// reads: well inside the 5 s grace after a deadline or a signal.
pub const END_WITHIN: std::time::Duration = std::time::Duration::from_secs(2);

/// Running inside GitHub Actions (the runner sets `GITHUB_ACTIONS=true`).
fn on_runner(env: &Env) -> bool {
    env.get("GITHUB_ACTIONS") == Some("true")
}

impl Context {
    /// The context for these output flags; `stop` from the signal listener when there is one;
    /// `secrets` the run's one registry of secrets; `env` its snapshot of the environment.
    pub fn new(
        output: OutputArgs,
        stop: Option<watch::Sender<Option<Stop>>>,
        secrets: Secrets,
        stderr: Stream,
        env: Env,
    ) -> Self {
        let on_runner = on_runner(&env);
        Context {
            github: output.github || on_runner,
            on_runner,
            output,
            stop: stop.unwrap_or_else(|| watch::channel(None).0),
            secrets,
            stderr,
            stdout: Stream::stdout(),
            env,
            files: Default::default(),
        }
    }

    /// Before a command line could be parsed: defaults, GitHub mode from the environment.
    pub fn without_command(secrets: Secrets, env: Env) -> Self {
        Context::new(OutputArgs::default(), None, secrets, Stream::stderr(), env)
    }

    /// The files a GitHub runner names (`GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY`), when set.
    fn runner_files(&self) -> GithubPaths {
        GithubPaths {
            output: self.env.path("GITHUB_OUTPUT"),
            step_summary: self.env.path("GITHUB_STEP_SUMMARY"),
            budget: self.files.clone(),
        }
    }

    /// The reporter for this run; in GitHub mode wrapped in the GitHub layer, which first
    /// masks `learnt` (on a real runner only): the secrets learnt at run time (temporary keys,
    /// tokens), never those the workflow gave, which GitHub masks already and `::add-mask::`
    /// would print. From now on every output scrubs `secrets` (all of them). (`--record` wraps
    /// it in `cmd::session`, which knows the job kind a recording replays.)
    pub fn reporter(&self, secrets: &[&str], learnt: &[&str]) -> Arc<dyn Reporter> {
        self.secrets.remember(secrets);
        self.secrets.remember(learnt);
        let base: Arc<dyn Reporter> = match self.output.output {
            OutputFormat::Json => Arc::new(Json::new(self.secrets.clone(), self.stdout.clone())),
            OutputFormat::Human => {
                let verbosity = if self.output.quiet {
                    Verbosity::Quiet
                } else {
                    Verbosity::Normal
                };
                let human = Human::new(
                    self.secrets.clone(),
                    self.stderr.clone(),
                    std::io::stderr().is_terminal(),
                    verbosity,
                    self.output.heartbeat,
                );
                human.spawn_heartbeat();
                human
            }
        };
        if self.github {
            let mask: &[&str] = if self.on_runner { learnt } else { &[] };
            let (secrets, stderr) = (self.secrets.clone(), self.stderr.clone());
            Github::new(base, mask, secrets, stderr, &self.runner_files())
        } else {
            base
        }
    }

    /// The wait for these jobs (none yet: a submit comes first) starts: mark the summary file
    /// as in progress, so a run killed before its end does not leave the last run's result.
    pub fn begin(&self, job_ids: &[String]) {
        if let Some(path) = &self.output.summary_file {
            summary_file::write_in_progress(
                path,
                job_ids,
                &self.secrets,
                &self.stderr,
                &self.files,
            );
        }
    }

    /// Every job has ended: the exit code, the summary file and the reporter's summary. A
    /// signal that came before (while a job's ending, its cancel or DLI's reason, was still
    /// under way) decides the code, as it does among several jobs.
    pub fn conclude(&self, reports: &[JobReport], reporter: &dyn Reporter) -> i32 {
        self.files.end_within(END_WITHIN);
        let code = match *self.stop.borrow() {
            Some(Stop::Signal(sig)) => Outcome::Interrupted(sig).exit_code(),
            _ => aggregate_exit_code(reports.iter().map(|r| &r.outcome)),
        };
        self.write_summary_file(reports, code, None);
        reporter.summary(reports, code);
        code
    }

    /// The one way a failure ends a run: `error: …` on one line, the summary file with the
    /// error, and in GitHub mode the step outputs and an error annotation (no summary will
    /// follow); each through its sanitiser in `report::safe`. Returns the exit status.
    pub fn fail(&self, failure: Failure) -> i32 {
        self.files.end_within(END_WITHIN);
        self.stderr.line(&cut(
            &self.secrets.line(&format!("error: {}", failure.message)),
            TEXT_CHARS,
        ));
        let code = failure.exit_code();
        self.write_summary_file(&[], code, Some(&failure.message));
        if self.output.output == OutputFormat::Json {
            // `| tail -n1` finds the summary, with the error, as after any wait.
            let mut out = Vec::new();
            let _ = crate::report::json::write_summary(
                &mut out,
                &self.secrets.scrubber(),
                &[],
                code,
                Some(&failure.message),
            );
            self.stdout.bytes(out);
        }
        self.report_failure_outputs(&failure);
        code
    }

    /// The GitHub outputs of a failure (nothing outside GitHub mode).
    pub fn report_failure_outputs(&self, failure: &Failure) {
        if self.github {
            write_failure(
                &self.secrets,
                &self.stderr,
                &self.runner_files(),
                failure.status(),
                failure.exit_code(),
                &failure.message,
            );
        }
    }

    fn write_summary_file(&self, reports: &[JobReport], code: i32, error: Option<&str>) {
        if let Some(path) = &self.output.summary_file {
            summary_file::write(
                path,
                reports,
                code,
                error,
                &self.secrets,
                &self.stderr,
                &self.files,
            );
        }
    }
}
