//! One session of waiting, as every command that talks to DLI opens it: the settings resolved
//! (the one call of `config::resolve`), the credentials made ready (`cmd::credentials::ready`:
//! every secret to the run's `Secrets`, temporary keys fetched first), the reporter, the HTTP
//! client under the request-rate limit, and the job kind ([`Kind`]) on it. Then
//! [`Session::submit`] (`run`; with `--idempotency-key` first [`Session::lookup`] and what it
//! decides: [`Session::reattach`], [`Session::already_finished`] or a submit),
//! [`Session::wait`] (every job at once, under the kind's fallback policy) and
//! [`Session::conclude`] (the exit code, the summary file, the reporter's summary).

use super::context::Context;
use super::failure::{CommandResult, Failure};
use super::signals;
use crate::cli::{
    History, OutputFormat, PollPolicy, ResultFormat, TargetArgs, TimingArgs, flag, hint,
};
use crate::config::{ConfigError, Env, Settings, resolve};
use crate::dli::client::{DliClient, Sent};
use crate::dli::fault::{Check, Delivery, Fault};
use crate::kind::Kind;
use crate::kind::key::{Decision, Key, PastJob, decide, when};
use crate::report::{Reporter, results};
use crate::wait::history::Prior;
use crate::wait::machine::ResultsAsk;
use crate::wait::many::{Plan, wait_all};
use crate::wait::outcome::{Outcome, Signal};
use crate::wait::record::{JobReport, Results};
use std::sync::Arc;

/// The settings of `target` and `timing`, with the environment `env`: the one call of
/// `resolve`.
pub fn settings(
    target: &TargetArgs,
    timing: &TimingArgs,
    env: &Env,
) -> Result<Settings, ConfigError> {
    resolve(target, timing, env)
}

/// The settings of `target` and `timing` in the run's environment (`ctx.env`); a usage error
/// when they do not resolve.
pub fn resolved(
    ctx: &Context,
    target: &TargetArgs,
    timing: &TimingArgs,
) -> Result<Settings, Failure> {
    settings(target, timing, &ctx.env).map_err(|e| Failure::usage(e.to_string()))
}

/// A session opened without waiting (`check`): `settings` resolved, every secret of their
/// credentials scrubbed from all output from now on (those known now at once); no keys are
/// fetched, no reporter is made.
pub fn open_without_waiting(ctx: &Context, settings: &Settings) {
    let provider = &settings.client.credentials;
    super::credentials::sink_secrets(ctx, provider);
    ctx.secrets.remember(provider.known_secrets());
}

/// A session: what a command needs to submit and wait for jobs of kind `K`.
pub struct Session<'c, K: Kind> {
    ctx: &'c Context,
    settings: Settings,
    kind: K,
    reporter: Arc<dyn Reporter>,
    /// When `run` sent its first request (the key's lookup, else the submit): the one
    /// `--timeout` of a run (the lookup, a never-sent submit's retries and the wait share it)
    /// counts from here. Unset for a command that only waits: its wait's own start counts.
    began: std::sync::OnceLock<tokio::time::Instant>,
}

/// What came of a submit.
pub enum Submit {
    /// The job to wait for.
    Wait(String),
    /// The run ends here with this exit status (`--no-wait`, or a job DLI ran while
    /// answering).
    Ended(i32),
}

impl<'c, K: Kind> Session<'c, K> {
    /// Resolve `target` and `timing` in the run's environment (`ctx.env`), then [`Session::start`].
    pub async fn open(
        ctx: &'c Context,
        target: &TargetArgs,
        timing: &TimingArgs,
    ) -> Result<Self, Failure> {
        let settings = resolved(ctx, target, timing)?;
        Self::start(ctx, settings).await
    }

    /// Open a session on resolved `settings`: the credentials ready and the reporter that
    /// knows their secrets (and records, with `--record`), the client, the kind.
    pub async fn start(ctx: &'c Context, settings: Settings) -> Result<Self, Failure> {
        // Before any request (temporary keys included).
        if settings.savepoint && !K::SAVEPOINTS {
            return Err(Failure::usage(format!(
                "{} is for Flink jobs (--job-type flink): only their stop takes a savepoint",
                crate::cli::flag::SAVEPOINT
            )));
        }
        if settings.wait.max_restarts.is_some() && !K::COUNTS_RESTARTS {
            return Err(Failure::usage(format!(
                "{} is for Flink jobs (--job-type flink): only they say how often DLI restarted them",
                crate::cli::flag::MAX_RESTARTS
            )));
        }
        // `--expect` is a prior for `eta` about the job's end: any other use would be silent.
        if settings.expect.is_some() && settings.poll_policy != PollPolicy::Eta {
            return Err(Failure::usage(format!(
                "{} shapes the eta policy's polls; it does nothing with {} exponential (drop it, or use {} eta)",
                flag::EXPECT,
                flag::POLL_POLICY,
                flag::POLL_POLICY
            )));
        }
        if settings.expect.is_some() && settings.wait.until_running {
            return Err(Failure::usage(format!(
                "{} says when the job should end; {} running waits for its start (drop one of them)",
                flag::EXPECT,
                flag::UNTIL
            )));
        }
        if (ctx.output.results || ctx.output.fail_if_rows) && !K::RESULTS {
            return Err(Failure::usage(format!(
                "{} and {} read a SQL query's result; these jobs have none ({} sql, the default, for SQL jobs)",
                flag::RESULTS,
                flag::FAIL_IF_ROWS,
                flag::JOB_TYPE
            )));
        }
        if settings.wait.until_running {
            result_needs_the_end(ctx, &format!("{} running", flag::UNTIL))?;
        }
        let reporter = super::credentials::ready(ctx, &settings).await?;
        #[cfg(feature = "simulator")]
        let reporter: Arc<dyn Reporter> = match &ctx.output.record {
            Some(path) => super::recording::Recording::new(
                reporter,
                path.clone(),
                K::recorded,
                ctx.secrets.clone(),
                ctx.stderr.clone(),
                ctx.files.clone(),
            ),
            None => reporter,
        };
        let client = client(&settings)?;
        Ok(Session {
            ctx,
            kind: K::new(client, &settings),
            settings,
            reporter,
            began: std::sync::OnceLock::new(),
        })
    }

    /// Submit `what` exactly once, say the new job's id at once (human mode: stdout's first
    /// line, so `JOB=$(dli-wait run ...)` captures it; JSON mode: the `submitted` event), and
    /// tell whether to wait for it.
    pub async fn submit(&mut self, what: &K::Submission, no_wait: bool) -> Result<Submit, Failure> {
        let ctx = self.ctx;
        ctx.begin(&[]);
        let answer = self.submit_once(what).await?;
        let job_id = new_job_id(answer.id, &answer.said)?;
        self.announce(job_id, no_wait, answer.ended, false)
    }

    /// Say the id of the job this run stands for (submitted, or `reattached` to): human mode
    /// stdout's first line, JSON mode the `submitted` event; then tell whether to wait for it:
    /// not with `--no-wait`, nor when it has `ended` (FINISHED).
    fn announce(
        &mut self,
        job_id: String,
        no_wait: bool,
        ended: bool,
        reattached: bool,
    ) -> Result<Submit, Failure> {
        let ctx = self.ctx;
        let within = if no_wait {
            ID_WITHIN
        } else {
            ID_WAITING_WITHIN
        };
        // Human mode: the bare id is stdout's first line (`JOB=$(dli-wait run ...)`); JSON
        // mode: every stdout line is JSON, the id the `submitted` event's field.
        if ctx.output.output == OutputFormat::Human {
            ctx.stdout.line(&job_id);
        }
        if reattached {
            self.reporter.reattached(&job_id);
        } else {
            self.reporter.submitted(&job_id);
        }
        let printed = id_got_out(&job_id, ctx, within);
        told(printed, no_wait, ctx)?;
        if no_wait {
            return Ok(Submit::Ended(self.conclude(&[])));
        }
        if ended {
            let report = JobReport::ended_at_submit(job_id);
            self.reporter.finished(&report);
            return Ok(Submit::Ended(self.conclude(std::slice::from_ref(&report))));
        }
        // DLI answered the submit: the service is reachable in this run, so the wait retries
        // connection faults as any transient fault (no "never answered" window).
        self.settings.wait.unreachable_after = None;
        Ok(Submit::Wait(job_id))
    }

    /// The jobs submitted with `key` (`run --idempotency-key`), and what to do about them
    /// ([`decide`]). A transient fault is retried, with backoff from `--poll-interval` to
    /// `--max-poll-interval` (or as `Retry-After` says), until `--timeout`; a lookup DLI
    /// refuses ends the run (exit 5, or 2 for a fault of configuration). Nothing has been
    /// submitted when this fails: the message says so.
    pub async fn lookup(&self, key: &Key, what: &K::Submission) -> Result<Decision, Failure> {
        use crate::wait::policy::{DelayPolicy, Exponential, PolicyInput};
        let ctx = self.ctx;
        ctx.begin(&[]);
        let settings = &self.settings;
        let timeout = settings.client.request_timeout;
        let began = self.began();
        let deadline = self.deadline();
        // The wait's own backoff (jitter, the cap), as a poll's fault would be retried.
        let mut delays = Exponential::new(settings.poll_interval, settings.max_poll_interval);
        let nothing = "nothing was submitted";
        let mut answered = false;
        // The fault to name at the deadline: a last try cut short by it is no fault of DLI's.
        let mut last: Option<Fault> = None;
        loop {
            let request = within(timeout, deadline);
            let found = tokio::select! {
                biased;
                sig = signals::interrupted(&ctx.stop) => return Err(Failure::interrupted(
                    sig,
                    &format!("while looking up the jobs of {} {}: {nothing}", crate::cli::flag::IDEMPOTENCY_KEY, key.as_str()),
                )),
                found = self.kind.keyed(key, what, request) => found,
            };
            let fault = match found {
                Ok(jobs) => return Ok(decide(&jobs)),
                Err(f) if f.kind == crate::dli::fault::FaultKind::Timeout && request < timeout => {
                    last.clone().unwrap_or(f)
                }
                Err(f) => f,
            };
            last = Some(fault.clone());
            let lookup = format!(
                "the lookup of the jobs submitted with {} {:?}",
                crate::cli::flag::IDEMPOTENCY_KEY,
                key.as_str()
            );
            answered |= fault.http_status.is_some();
            if !fault.is_transient() {
                return Err(lookup_failed(&fault, &lookup));
            }
            let unreachable = !answered && fault.kind == crate::dli::fault::FaultKind::Connection;
            if unreachable && began.elapsed() >= self.unreachable_window() {
                return Err(Failure::ended(
                    Outcome::Misconfigured(Box::new(fault.clone())),
                    format!("{lookup} never reached DLI: {fault}; {nothing}"),
                ));
            }
            let input = PolicyInput {
                now: began.elapsed(),
                snapshot: None,
                fault: Some(&fault),
                changed: false,
            };
            let mut delay = fault
                .retry_after
                .unwrap_or_else(|| delays.next_delay(&input));
            if unreachable {
                // One last try lands on the window's end.
                delay = delay.min(self.unreachable_window().saturating_sub(began.elapsed()));
            }
            let now = tokio::time::Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                return Err(Failure::ended(
                    Outcome::TimedOut,
                    format!(
                        "{} passed during {lookup}; its last fault: {fault}; {nothing}",
                        crate::cli::flag::TIMEOUT
                    ),
                ));
            }
            // The last try lands on the deadline.
            let wake = deadline.map_or(now + delay, |d| (now + delay).min(d));
            tracing::info!(fault = %fault, delay = ?delay, "the key's lookup failed for now; retrying");
            tokio::select! {
                biased;
                sig = signals::interrupted(&ctx.stop) => return Err(Failure::interrupted(
                    sig,
                    &format!("while looking up the jobs of {} {}: {nothing}", crate::cli::flag::IDEMPOTENCY_KEY, key.as_str()),
                )),
                () = tokio::time::sleep_until(wake) => {}
            }
        }
    }

    /// A job submitted with `key` has not ended: say so, print its id as a submit would, and
    /// wait for it (or, with `--no-wait`, end with 0). A deadline DLI keeps for it (its first
    /// submit's `dli.sql.job.timeout`) is said, and when it comes before this run's
    /// `--timeout`, so is the exit it makes: 3, the job CANCELLED by DLI.
    pub async fn reattach(
        &mut self,
        job: &PastJob,
        key: &Key,
        no_wait: bool,
    ) -> Result<Submit, Failure> {
        let job_id = past_job_id(job)?;
        let since = job
            .started_ms
            .map(|ms| format!(", submitted {}", when(ms, std::time::SystemTime::now())))
            .unwrap_or_default();
        self.say(&format!(
            "re-attaching to job {job_id} ({}{since}) of {} {:?}: not submitting again",
            job.status,
            crate::cli::flag::IDEMPOTENCY_KEY,
            key.as_str()
        ));
        let timeout = within(self.settings.client.request_timeout, self.deadline());
        let own = tokio::select! {
            biased;
            sig = signals::interrupted(&self.ctx.stop) => return Err(Failure::interrupted(
                sig,
                &format!("before re-attaching to job {job_id}: nothing was submitted, the job runs on"),
            )),
            own = self.kind.own_deadline(&job_id, timeout) => own,
        };
        if let Some(own) = own {
            self.say(&own_deadline_note(
                &job_id,
                own,
                job.started_ms,
                self.left(),
            ));
        }
        self.announce(job_id, no_wait, false, true)
    }

    /// The newest job submitted with `key` FINISHED: say so and when, print its id, end with 0;
    /// nothing is submitted.
    pub fn already_finished(&mut self, job: &PastJob, key: &Key) -> Result<i32, Failure> {
        let job_id = past_job_id(job)?;
        let at = job
            .ended_ms
            .or(job.started_ms)
            .map(|ms| {
                let what = if job.ended_ms.is_some() {
                    ""
                } else {
                    " (submitted)"
                };
                format!(" {}{what}", when(ms, std::time::SystemTime::now()))
            })
            .unwrap_or_default();
        self.say(&format!(
            "job {job_id} of {} {:?} already FINISHED{at}: nothing to submit",
            crate::cli::flag::IDEMPOTENCY_KEY,
            key.as_str()
        ));
        match self.announce(job_id, false, true, true)? {
            Submit::Ended(code) => Ok(code),
            Submit::Wait(_) => Err(Failure::internal("a finished job is not waited for")),
        }
    }

    /// The newest job submitted with `key` ended without finishing (or there is none): say
    /// which, before a new submit.
    pub fn resubmitting(&self, after: Option<&PastJob>, key: &Key) {
        if let Some(job) = after {
            self.say(&format!(
                "the last job of {} {:?}, {}, ended {}: submitting it anew",
                crate::cli::flag::IDEMPOTENCY_KEY,
                key.as_str(),
                job.id,
                job.status
            ));
        }
    }

    /// The run's deadline (`--timeout` from its first request), if it has one.
    fn deadline(&self) -> Option<tokio::time::Instant> {
        let began = self.began.get()?;
        self.settings.wait.timeout.map(|t| *began + t)
    }

    /// When the run's first request went (see `Session::began`), set now if none has.
    fn began(&self) -> tokio::time::Instant {
        *self.began.get_or_init(tokio::time::Instant::now)
    }

    /// What is left of the run's `--timeout` now, if it has one.
    fn left(&self) -> Option<std::time::Duration> {
        self.deadline()
            .map(|d| d.saturating_duration_since(tokio::time::Instant::now()))
    }

    /// How long a service that has never answered is retried by the lookup and a never-sent
    /// submit, from when the session opened (see [`unreachable_window`]).
    fn unreachable_window(&self) -> std::time::Duration {
        let wait = &self.settings.wait;
        unreachable_window(wait.unreachable_after, wait.timeout)
    }

    /// One line for people on stderr, made safe.
    fn say(&self, line: &str) {
        self.ctx.stderr.line(&self.ctx.secrets.line(line));
    }

    /// Submit `what` exactly once: a retry after a lost answer could run the job twice. Only a
    /// submit that was never sent ([`Delivery::NotSent`]: DNS, a refused connection, no
    /// connection) is tried again, as a wait retries a service that never answered: within
    /// `--unreachable-timeout` (`off`: within `--timeout`), then exit 2 saying no job was
    /// created. One never sent for a reason no retry mends (TLS trust) ends so at once.
    async fn submit_once(&self, what: &K::Submission) -> Result<crate::kind::Submitted, Failure> {
        let ctx = self.ctx;
        let timeout = self.settings.client.request_timeout;
        // From when the session opened (a lookup before it counts), never past the run's
        // deadline.
        let began = self.began();
        let window = self.unreachable_window();
        let end = self
            .deadline()
            .map_or(began + window, |d| d.min(began + window));
        let mut pause = SUBMIT_RETRY_FIRST;
        loop {
            let sent = Sent::default();
            let answer = tokio::select! {
                biased;
                a = self.kind.submit(what, timeout, &sent) => a,
                sig = signals::interrupted(&ctx.stop) => return Err(submit_interrupted(sig, &sent)),
            };
            let fault = match answer {
                Ok(a) => return Ok(a),
                Err(f) if f.delivery == Delivery::NotSent => f,
                Err(f) => return Err(submit_failed(&f)),
            };
            let waited = began.elapsed();
            let left = end.saturating_duration_since(tokio::time::Instant::now());
            if !fault.is_transient() || left.is_zero() {
                return Err(submit_not_sent(&fault, waited));
            }
            if pause == SUBMIT_RETRY_FIRST && !ctx.output.quiet {
                ctx.stderr.line(&ctx.secrets.line(&format!(
                    "submit not sent ({fault}): no job was created; trying again for up to {} (--unreachable-timeout)",
                    crate::dli::human::duration(left)
                )));
            }
            let nap = pause.min(left);
            tokio::select! {
                biased;
                sig = signals::interrupted(&ctx.stop) => return Err(Failure::interrupted(
                    sig,
                    "before the submit was sent: no job was created",
                )),
                () = tokio::time::sleep(nap) => {}
            }
            pause = (pause * 2).min(SUBMIT_RETRY_MAX);
        }
    }

    /// Wait for every job at once, under the kind's fallback policy; report each as it ends,
    /// then [`Session::conclude`]: the exit status.
    pub async fn wait(&self, job_ids: Vec<String>) -> CommandResult {
        let settings = &self.settings;
        // One deadline for the whole run: a plain wait's clock starts here, before the
        // history lookup; what the key's lookup, the submit and the history took is gone.
        self.began();
        let lookup_calls = std::sync::atomic::AtomicU32::new(0);
        let prior = self.prior(&job_ids, &lookup_calls).await;
        let mut config = settings.wait.clone().with_fallback(K::FALLBACK);
        config.results = ResultsAsk {
            show: self.ctx.output.results,
            check: self.ctx.output.fail_if_rows,
        };
        // The lookup's calls count in the job's figures.
        config.lookup_calls = lookup_calls.into_inner();
        config.timeout = self.left();
        let policy = || settings.policy_with(prior.clone());
        let plan = Plan {
            config: &config,
            policy: &policy,
            fail_fast: settings.fail_fast,
        };
        self.ctx.begin(&job_ids);
        let reports = wait_all(
            &self.kind,
            self.reporter.clone(),
            job_ids,
            plan,
            &self.ctx.stop,
        )
        .await
        .map_err(|e| Failure::internal(format!("internal error: a wait task failed: {e}")))?;
        self.show_results(&reports);
        Ok(self.conclude(&reports))
    }

    /// `--results`: each FINISHED query's rows on stdout, after the closing lines and before
    /// the summary: as `--result-format` says in human mode (a table on a terminal, CSV
    /// otherwise), a `result` event in JSON mode; the notes (rows left out, no result, the
    /// default queue) on stderr.
    fn show_results(&self, reports: &[JobReport]) {
        let ctx = self.ctx;
        if !ctx.output.results {
            return;
        }
        let scrubber = ctx.secrets.scrubber();
        let format = ctx.output.result_format.unwrap_or_else(|| {
            use std::io::IsTerminal;
            if std::io::stdout().is_terminal() {
                ResultFormat::Table
            } else {
                ResultFormat::Csv
            }
        });
        for r in reports {
            if ctx.output.output == OutputFormat::Json {
                if let Some(v) = results::event(r, &crate::report::human::timestamp()) {
                    ctx.stdout.line(&ctx.secrets.json(&v));
                }
                continue;
            }
            if let Some(Results::Rows(p)) = &r.results {
                ctx.stdout
                    .bytes(results::render(&scrubber, p, format).into_bytes());
            }
            if let Some(note) = results::note(r) {
                ctx.stderr.line(&ctx.secrets.line(&note));
            }
        }
    }

    /// Where the job's past runs ended (`--history auto`, one job, `eta`), or `--expect`'s
    /// prior. A lookup that fails or is refused turns the prior off for this wait, with one
    /// line; it never ends the wait.
    async fn prior(
        &self,
        job_ids: &[String],
        calls: &std::sync::atomic::AtomicU32,
    ) -> Option<Prior> {
        let (ctx, s) = (self.ctx, &self.settings);
        // The prior predicts the job's end, not its start: sparse polls before its band
        // would only see RUNNING late (and thin the --settle window).
        if s.poll_policy != PollPolicy::Eta || s.wait.until_running {
            return None;
        }
        if let Some(d) = s.expect {
            return Prior::expect(d);
        }
        let [job_id] = job_ids else {
            return None;
        };
        if s.history == History::Off {
            return None;
        }
        let say = |text: String| ctx.stderr.line(&ctx.secrets.line(&text));
        // The lookup holds no part of the wait's deadline: it gets what is left of it (at
        // most a request's timeout) and is raced against it; a slow one turns the prior off.
        let left = self.left();
        let timeout = left.map_or(s.client.request_timeout, |l| {
            l.min(s.client.request_timeout)
        });
        let deadline = left.map(|l| tokio::time::Instant::now() + l);
        let past_deadline = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        let found = tokio::select! {
            biased;
            _ = signals::interrupted(&ctx.stop) => return None,
            found = self.kind.history(job_id, timeout, calls) => found,
            () = past_deadline => {
                say(format!(
                    "note: history off for this wait: looking up the job's past runs outlasted the wait's {}; polling as for a job never seen (--history off skips the lookup)",
                    crate::cli::flag::TIMEOUT
                ));
                return None;
            }
        };
        match found {
            Ok(Some(past)) => {
                self.reporter.history(job_id, &past);
                let prior = past.prior();
                if let Some(p) = &prior
                    && !ctx.output.quiet
                {
                    let (lo, hi) = p.band();
                    let human = |secs: f64| {
                        crate::dli::human::duration(std::time::Duration::from_secs_f64(secs))
                    };
                    say(format!(
                        "history: {} past FINISHED run{} of {}: it should end between {} and {}; polling little before that",
                        p.runs(),
                        if p.runs() == 1 { "" } else { "s" },
                        past.what,
                        human(lo),
                        human(hi)
                    ));
                }
                prior
            }
            Ok(None) => None,
            Err(f) => {
                say(format!(
                    "note: history off for this wait: looking up the job's past runs failed ({f}); polling as for a job never seen (--history off skips the lookup)"
                ));
                None
            }
        }
    }

    /// Every job has ended (or none was waited for): the exit code, the summary file and the
    /// reporter's summary (`Context::conclude`).
    pub fn conclude(&self, reports: &[JobReport]) -> i32 {
        self.ctx.conclude(reports, self.reporter.as_ref())
    }
}

/// The note on a re-attached job's own deadline `own` (DLI ends it that long after its
/// submit at `started_ms`): when, and, if that is before the run's `left` time (or the run has
/// no `--timeout`), that the run will then end with 3, CANCELLED by DLI, not with 124.
fn own_deadline_note(
    job_id: &str,
    own: std::time::Duration,
    started_ms: Option<i64>,
    left: Option<std::time::Duration>,
) -> String {
    let now = std::time::SystemTime::now();
    let setting = format!(
        "{}={}",
        crate::dli::model::SQL_JOB_TIMEOUT_CONF,
        own.as_secs()
    );
    let own_ms = i64::try_from(own.as_millis()).unwrap_or(i64::MAX);
    let ends = started_ms.map(|ms| ms.saturating_add(own_ms));
    let now_ms = crate::dli::human::epoch_ms(now);
    let wait_ends =
        left.map(|l| now_ms.saturating_add(i64::try_from(l.as_millis()).unwrap_or(i64::MAX)));
    let at = ends.map_or_else(
        || format!("{} after its submit", crate::dli::human::duration(own)),
        |ms| when(ms, now),
    );
    let first = match (ends, wait_ends) {
        (Some(e), Some(w)) if e >= w => String::new(),
        (None, _) => String::new(),
        (Some(_), _) => format!(
            ", before this run's {}: the run then ends with 3 (CANCELLED by DLI)",
            crate::cli::flag::TIMEOUT
        ),
    };
    format!(
        "note: job {job_id} keeps the deadline of its first submit ({setting}): DLI cancels it {at}{first}"
    )
}

/// How long a service that has never answered in this run is retried before exit 2 by the
/// lookup and a never-sent submit: `--unreachable-timeout`; with it `off`, until `--timeout`;
/// with no timeout either, the default window (before any job exists there is nothing to
/// wait for, and a DNS failure must not be retried for ever).
fn unreachable_window(
    unreachable_after: Option<std::time::Duration>,
    timeout: Option<std::time::Duration>,
) -> std::time::Duration {
    unreachable_after
        .or(timeout)
        .unwrap_or(crate::wait::machine::DEFAULT_UNREACHABLE_AFTER)
}

/// A request's timeout: `timeout`, but not past `deadline` (the run's), at least 1 ms.
fn within(
    timeout: std::time::Duration,
    deadline: Option<tokio::time::Instant>,
) -> std::time::Duration {
    deadline
        .map_or(timeout, |d| {
            timeout.min(d.saturating_duration_since(tokio::time::Instant::now()))
        })
        .max(std::time::Duration::from_millis(1))
}

/// The HTTP client for these settings, under their request-rate limit.
fn client(settings: &Settings) -> Result<DliClient, Failure> {
    DliClient::new(settings.client.clone())
        .map(|c| c.with_rate_limit(settings.max_requests_per_second))
        .map_err(|e| Failure::usage(format!("cannot set up the HTTP client: {e}")))
}

/// A submit that failed: how the job ended (see `Outcome::of_failed_submit`), in one line
/// that says it was not retried when it may have reached DLI.
fn submit_failed(f: &Fault) -> Failure {
    let extra = if f.is_transient() {
        " (not retried: the job may or may not have been created; check DLI's job list before submitting again)"
    } else {
        ""
    };
    // Nothing to wait for yet: a refusal is about what the submit names, not a job id.
    let hint = f
        .check()
        .map(|c| match c {
            Check::JobAndProject => Check::Submission,
            c => c,
        })
        .map(|c| format!(" — {}", hint(c)))
        .unwrap_or_default();
    Failure::ended(
        Outcome::of_failed_submit(f),
        format!("submit failed: {f}{hint}{extra}"),
    )
}

/// The pause before a never-sent submit is tried again, doubled each time up to the most.
const SUBMIT_RETRY_FIRST: std::time::Duration = std::time::Duration::from_millis(500);
const SUBMIT_RETRY_MAX: std::time::Duration = std::time::Duration::from_secs(5);

/// A submit that was never sent, given up: exit 2 (configuration: the host, the address, the
/// trust), saying the cause and that no job was created.
fn submit_not_sent(f: &Fault, waited: std::time::Duration) -> Failure {
    let hint = f
        .check()
        .map(|c| format!(" — {}", hint(c)))
        .unwrap_or_default();
    let tried = if f.is_transient() {
        format!(
            ", tried for {} (--unreachable-timeout)",
            crate::dli::human::duration(waited)
        )
    } else {
        String::new()
    };
    Failure::ended(
        Outcome::Misconfigured(Box::new(f.clone())),
        format!("submit not sent: {f}{hint} (no job was created{tried})"),
    )
}

/// A lookup DLI refused (or that cannot work as configured, or whose answer cannot decide):
/// how the run ends (exit 2 for a fault of configuration, else 5), and why, in one line that
/// says nothing was submitted; the permission to list jobs is named only when DLI said the
/// credentials may not (403).
fn lookup_failed(f: &Fault, lookup: &str) -> Failure {
    use crate::dli::fault::FaultKind;
    let hint = f
        .check()
        .map(|c| format!(" — {}", hint(c)))
        .unwrap_or_default();
    let outcome = match f.class {
        crate::dli::fault::FaultClass::Config => Outcome::Misconfigured(Box::new(f.clone())),
        _ => Outcome::Refused(f.clone()),
    };
    let cause = match f.kind {
        FaultKind::Forbidden => format!(
            " ({} needs the permission to list the project's DLI jobs)",
            crate::cli::flag::IDEMPOTENCY_KEY
        ),
        _ => String::new(),
    };
    let tell = if f.message.ends_with(crate::kind::key::CANNOT_TELL) {
        String::new()
    } else {
        format!(": {}", crate::kind::key::CANNOT_TELL)
    };
    Failure::ended(
        outcome,
        format!("{lookup} failed: {f}{hint}{cause}{tell}; nothing was submitted"),
    )
}

/// A past job's id, if it is one to wait for (a UUID, as DLI's are).
fn past_job_id(job: &PastJob) -> Result<String, Failure> {
    if crate::dli::job_id::is_job_id(&job.id) {
        return Ok(job.id.clone());
    }
    Err(Failure::ended(
        Outcome::Failed,
        format!(
            "DLI lists a job of this key whose id is not a UUID ({:?}); check DLI's job list",
            job.id.chars().take(60).collect::<String>()
        ),
    ))
}

/// A submit a signal cut short: the run ends as interrupted, saying whether the job may
/// exist (the request was on its way) or cannot (it was never sent).
fn submit_interrupted(sig: Signal, sent: &Sent) -> Failure {
    let what = if sent.maybe() {
        "during the submit, before DLI answered: the request may have reached DLI, so the job may or may not have been created; check DLI's job list before submitting again"
    } else {
        "before the submit was sent: no job was created"
    };
    Failure::interrupted(sig, what)
}

/// The id DLI answered an accepted submit with, if it is one to wait for (a UUID); `said`
/// is what else the answer said, for the message when there is no id.
fn new_job_id(id: Option<String>, said: &str) -> Result<String, Failure> {
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

/// See that the id of the job just created, written to stdout (the bare id in human mode, the
/// `submitted` event in JSON mode, through the run's stdout stream, so a stdout nobody reads
/// never holds up the run), got out. A run that cannot tell it must not end as if
/// it had: when the id does not get out (`/dev/full`, a closed pipe, nobody reading within
/// `within`), `Err` is the failure a `--no-wait` run ends with, the id in its message, for
/// stderr (a run that waits goes on, after saying it: see [`told`]). Stdout on `/dev/null`
/// (how a closed stdout starts) is said on stderr too, with the id.
fn id_got_out(job_id: &str, ctx: &Context, within: std::time::Duration) -> Result<(), Failure> {
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
const ID_WITHIN: std::time::Duration = std::time::Duration::from_secs(2);
const ID_WAITING_WITHIN: std::time::Duration = std::time::Duration::from_millis(100);

/// After [`id_got_out`]: a `--no-wait` run that could not print the id ends with that failure
/// (exit 2, the id on stderr); a run that waits says it on stderr, with the id, and goes on.
/// `--fail-if-rows` and `--results` read a result only an ended job has: refused, before
/// anything is sent, with `without`, which ends the run before the job ends.
pub fn result_needs_the_end(ctx: &Context, without: &str) -> Result<(), Failure> {
    let asked = [
        (ctx.output.fail_if_rows, flag::FAIL_IF_ROWS),
        (ctx.output.results, flag::RESULTS),
    ];
    match asked.into_iter().find(|(on, _)| *on) {
        Some((_, name)) => Err(Failure::usage(format!(
            "{name} needs the job to end: not with {without}, which ends the run before; nothing was sent"
        ))),
        None => Ok(()),
    }
}

fn told(printed: Result<(), Failure>, no_wait: bool, ctx: &Context) -> Result<(), Failure> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Before a job exists, a service that never answers is never retried for ever: `off`
    /// without a `--timeout` still ends at the default window.
    #[test]
    fn a_never_answering_service_is_retried_within_a_bound() {
        let s = Duration::from_secs;
        assert_eq!(unreachable_window(Some(s(5)), Some(s(60))), s(5));
        assert_eq!(unreachable_window(None, Some(s(60))), s(60));
        assert_eq!(
            unreachable_window(None, None),
            crate::wait::machine::DEFAULT_UNREACHABLE_AFTER
        );
    }
}
