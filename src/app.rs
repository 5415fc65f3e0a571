//! The program: parse the command line, set up logging and the runtime, run the chosen
//! command, and turn its outcome into an exit code. `main.rs` only calls [`run`].

use crate::cli::{Cli, Command, OutputArgs, OutputFormat, RunArgs, Settings, resolve};
use crate::dli::client::DliClient;
use crate::dli::fault::FaultKind;
use crate::dli::model::SubmitJob;
use crate::report::Reporter;
use crate::report::human::{Human, Verbosity};
use crate::report::json::Json;
use crate::wait::driver::{Driver, JobReport};
use crate::wait::outcome::{Outcome, Signal, Stop, aggregate_exit_code};
use clap::Parser;
use std::ffi::OsString;
use std::io::{IsTerminal, Read};
use std::sync::Arc;
use tokio::sync::watch;

/// Exit status for usage and configuration errors.
pub const EXIT_USAGE: i32 = 2;

/// Run dli-wait with these arguments; returns the process's exit code.
pub fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            if !e.use_stderr() {
                return 0; // --help, --version
            }
            if in_actions() {
                let text = e.to_string();
                let first = text.lines().next().unwrap_or_default();
                crate::report::github::write_failure(
                    EXIT_USAGE,
                    first.trim_start_matches("error: "),
                );
            }
            return EXIT_USAGE;
        }
    };
    let output = match &cli.command {
        Some(Command::Run(r)) => r.output.clone(),
        #[cfg(feature = "simulator")]
        Some(Command::Simulate(s)) => s.output_args(),
        #[cfg(feature = "simulator")]
        Some(Command::Demo(d)) => d.output_args(),
        None => cli.output.clone(),
    };
    init_tracing(&output);
    GITHUB.store(github_mode(&output), std::sync::atomic::Ordering::Relaxed);
    if let Some(path) = &output.summary_file {
        let _ = SUMMARY_FILE.set(path.clone());
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}"), 1),
    };
    runtime.block_on(async move {
        match cli.command {
            None => wait_command(cli).await,
            Some(Command::Run(args)) => run_command(*args).await,
            #[cfg(feature = "simulator")]
            Some(Command::Simulate(args)) => crate::sim::cli::simulate(args).await,
            #[cfg(feature = "simulator")]
            Some(Command::Demo(args)) => crate::sim::cli::demo(args).await,
        }
    })
}

/// Whether to speak GitHub Actions (set once the command line is parsed).
static GITHUB: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `--summary-file`, if given (set once the command line is parsed): written after every
/// ending, a failure to start included.
static SUMMARY_FILE: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();

/// Running inside GitHub Actions (the runner sets `GITHUB_ACTIONS=true`).
fn in_actions() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")
}

fn github_mode(output: &OutputArgs) -> bool {
    output.github || in_actions()
}

/// Print `error: …` on one line and return `code`; write `--summary-file` with the error,
/// and in GitHub Actions set the step's outputs and an error annotation, since no summary
/// will follow.
pub fn fail(message: &str, code: i32) -> i32 {
    eprintln!("error: {message}");
    write_summary(&[], code, Some(message));
    if GITHUB.load(std::sync::atomic::Ordering::Relaxed) {
        crate::report::github::write_failure(code, message);
    }
    code
}

fn init_tracing(output: &OutputArgs) {
    use tracing_subscriber::EnvFilter;
    // Our own crate only: dependencies' logs could print request headers.
    let level = match (output.quiet, output.verbose) {
        (true, _) => "error",
        (_, 0) => "warn",
        (_, 1) => "warn,dli_wait=debug",
        _ => "warn,dli_wait=trace",
    };
    let filter = if output.verbose == 0 {
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level))
    } else {
        EnvFilter::new(level)
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

/// The reporter for these output flags; in GitHub mode (decided once in [`run`] from the same
/// flags) wrapped in the GitHub layer, which first masks `secrets`.
pub fn reporter(output: &OutputArgs, secrets: &[&str]) -> Arc<dyn Reporter> {
    let base = base_reporter(output);
    if GITHUB.load(std::sync::atomic::Ordering::Relaxed) {
        // Masking prints the secret: only a real runner may see that line.
        let mask: &[&str] = if in_actions() { secrets } else { &[] };
        crate::report::github::Github::new(base, mask)
    } else {
        base
    }
}

fn base_reporter(output: &OutputArgs) -> Arc<dyn Reporter> {
    match output.output {
        OutputFormat::Json => Arc::new(Json::new()),
        OutputFormat::Human => {
            let verbosity = if output.quiet {
                Verbosity::Quiet
            } else {
                Verbosity::Normal
            };
            let human = Human::new(std::io::stderr().is_terminal(), verbosity, output.heartbeat);
            human.spawn_heartbeat();
            human
        }
    }
}

async fn wait_command(cli: Cli) -> i32 {
    if cli.job_ids.is_empty() {
        return fail(&crate::cli::ConfigError::NoJobs.to_string(), EXIT_USAGE);
    }
    if let Some(cmd) = cli
        .job_ids
        .iter()
        .find(|id| matches!(id.as_str(), "run" | "simulate" | "demo"))
    {
        return fail(
            &format!(
                "{cmd:?} is a command, not a job id: put the options after it, e.g. `dli-wait {cmd} --timeout 1h ...`"
            ),
            EXIT_USAGE,
        );
    }
    let settings = match resolve(&cli.target, &cli.timing, |k| std::env::var(k).ok()) {
        Ok(s) => s,
        Err(e) => return fail(&e.to_string(), EXIT_USAGE),
    };
    let reporter = reporter(&cli.output, &settings.client.credentials.secrets());
    match client(&settings) {
        Ok(client) => wait_jobs(&settings, &client, cli.job_ids, reporter).await,
        Err(code) => code,
    }
}

/// The HTTP client for these settings, under their request-rate limit.
pub fn client(settings: &Settings) -> Result<DliClient, i32> {
    DliClient::new(settings.client.clone())
        .map(|c| c.with_rate_limit(settings.max_requests_per_second))
        .map_err(|e| fail(&format!("cannot set up the HTTP client: {e}"), EXIT_USAGE))
}

/// Wait for every job at once; report each as it ends, then the summary; return the exit code.
pub async fn wait_jobs(
    settings: &Settings,
    client: &DliClient,
    job_ids: Vec<String>,
    reporter: Arc<dyn Reporter>,
) -> i32 {
    let (stop_tx, stop) = watch::channel(None);
    listen_for_signals(stop_tx.clone());
    let mut ids = job_ids;
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(id.clone()));
    let mut set = tokio::task::JoinSet::new();
    for (i, id) in ids.into_iter().enumerate() {
        let driver = Driver {
            client: client.clone(),
            reporter: Arc::clone(&reporter),
        };
        let policy = settings.policy();
        let (cfg, stop) = (settings.wait.clone(), stop.clone());
        set.spawn(async move {
            let report = driver.wait(&id, cfg, policy, stop).await;
            driver.reporter.finished(&report);
            (i, report)
        });
    }
    let mut reports: Vec<(usize, JobReport)> = Vec::new();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((i, report)) => {
                if settings.fail_fast && report.outcome != Outcome::Finished {
                    // The first bad ending stops the rest; a signal already recorded wins.
                    stop_tx.send_if_modified(|s| {
                        let unset = s.is_none();
                        if unset {
                            *s = Some(Stop::FailFast);
                        }
                        unset
                    });
                }
                reports.push((i, report));
            }
            Err(e) => return fail(&format!("internal error: a wait task failed: {e}"), 1),
        }
    }
    reports.sort_by_key(|(i, _)| *i);
    let reports: Vec<JobReport> = reports.into_iter().map(|(_, r)| r).collect();
    conclude(&reports, reporter.as_ref())
}

/// Every job has ended: the exit code, the summary file and the reporter's summary.
fn conclude(reports: &[JobReport], reporter: &dyn Reporter) -> i32 {
    let code = aggregate_exit_code(reports.iter().map(|r| &r.outcome));
    write_summary(reports, code, None);
    reporter.summary(reports, code);
    code
}

/// Write the summary for alerting scripts: to a temporary file beside it, then renamed, so a
/// reader never sees half a file. A failure to write is reported, not fatal.
fn write_summary(reports: &[JobReport], exit_code: i32, error: Option<&str>) {
    let Some(path) = SUMMARY_FILE.get() else {
        return;
    };
    let name = path
        .file_name()
        .map_or_else(|| "summary".into(), |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let result = std::fs::File::create(&tmp)
        .and_then(|f| {
            let mut w = std::io::BufWriter::new(f);
            crate::report::json::write_summary(&mut w, reports, exit_code, error)?;
            w.into_inner().map_err(|e| e.into_error())?.sync_all()
        })
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        eprintln!("error: cannot write --summary-file {}: {e}", path.display());
    }
}

/// The first SIGINT, SIGTERM or SIGHUP is recorded on `tx`, so every wait stops at once (and
/// cancels if asked); a second Ctrl-C exits immediately. The handlers are installed before
/// this returns, so no early signal can kill the process before the summary is written.
pub fn listen_for_signals(tx: watch::Sender<Option<Stop>>) {
    let mut signals = Signals::install();
    tokio::spawn(async move {
        let got = signals.next().await;
        tx.send_modify(|s| *s = Some(Stop::Signal(got)));
        loop {
            if signals.next().await == Signal::Int {
                eprintln!("second interrupt: exiting now");
                std::process::exit(130);
            }
        }
    });
}

/// The signals that end a wait, listened to from the moment they are installed.
#[cfg(unix)]
struct Signals(Option<[tokio::signal::unix::Signal; 3]>);

#[cfg(unix)]
impl Signals {
    fn install() -> Self {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) {
            (Ok(i), Ok(t), Ok(h)) => Signals(Some([i, t, h])),
            _ => {
                tracing::warn!(
                    "cannot install signal handlers; signals will end dli-wait without a summary"
                );
                Signals(None)
            }
        }
    }

    async fn next(&mut self) -> Signal {
        let Some([int, term, hup]) = &mut self.0 else {
            return std::future::pending().await;
        };
        tokio::select! {
            _ = int.recv() => Signal::Int,
            _ = term.recv() => Signal::Term,
            _ = hup.recv() => Signal::Hup,
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn install() -> Self {
        Signals
    }

    async fn next(&mut self) -> Signal {
        let _ = tokio::signal::ctrl_c().await;
        Signal::Int
    }
}

async fn run_command(args: RunArgs) -> i32 {
    let settings = match resolve(&args.target, &args.timing, |k| std::env::var(k).ok()) {
        Ok(s) => s,
        Err(e) => return fail(&e.to_string(), EXIT_USAGE),
    };
    let sql = match read_sql(&args) {
        Ok(s) => s,
        Err(e) => return fail(&e, EXIT_USAGE),
    };
    for c in &args.conf {
        if !c.contains('=') {
            return fail(&format!("bad --conf {c:?}: write key=value"), EXIT_USAGE);
        }
    }
    let reporter = reporter(&args.output, &settings.client.credentials.secrets());
    let client = match client(&settings) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let job = SubmitJob {
        sql,
        currentdb: args.database.clone(),
        queue_name: args.queue.clone(),
        conf: args.conf.clone(),
        ..SubmitJob::default()
    };
    // Submitted exactly once: a retry after a lost answer could run the job twice.
    let answer = match client.submit(&job, settings.client.request_timeout).await {
        Ok(a) => a,
        Err(f) => {
            // Refused credentials or project: DLI refused us (5). Anything else, bad SQL
            // above all, is this job failing (1).
            let outcome = match f.kind {
                FaultKind::Unauthorized | FaultKind::Forbidden | FaultKind::NotFound => {
                    Outcome::Refused(f.clone())
                }
                _ => Outcome::Failed,
            };
            let code = outcome.exit_code();
            let extra = if f.is_transient() {
                " (not retried: the job may or may not have been created; check DLI's job list before submitting again)"
            } else {
                ""
            };
            let hint = f.hint().map(|h| format!(" — {h}")).unwrap_or_default();
            return fail(&format!("submit failed: {f}{hint}{extra}"), code);
        }
    };
    let Some(job_id) = answer.job_id.clone().filter(|j| !j.is_empty()) else {
        return fail(
            &format!(
                "DLI accepted the submit but returned no job id ({})",
                answer.message
            ),
            1,
        );
    };
    reporter.submitted(&job_id);
    if answer.job_mode.as_deref() == Some("sync") {
        // DLI ran it while answering (DDL): it has ended, FINISHED, without a poll.
        let report = JobReport::ended_at_submit(job_id);
        reporter.finished(&report);
        return conclude(std::slice::from_ref(&report), reporter.as_ref());
    }
    wait_jobs(&settings, &client, vec![job_id], reporter).await
}

fn read_sql(args: &RunArgs) -> Result<String, String> {
    let sql = match (&args.sql, &args.sql_file) {
        (Some(s), _) => s.clone(),
        (None, Some(p)) if p.as_os_str() == "-" => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| format!("cannot read SQL from stdin: {e}"))?;
            s
        }
        (None, Some(p)) => std::fs::read_to_string(p)
            .map_err(|e| format!("cannot read --sql-file {}: {e}", p.display()))?,
        (None, None) => return Err("give the SQL with --sql or --sql-file".into()),
    };
    if sql.trim().is_empty() {
        return Err("the SQL is empty".into());
    }
    Ok(sql)
}
