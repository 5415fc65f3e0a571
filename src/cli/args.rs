//! The command line's clap types: every command's arguments, their defaults and their value
//! parsers. What the flags mean once read is `crate::config`'s; the words messages use for
//! them (flag names, hints, the help's closing text) are in `super::words`.

use super::words;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

/// Wait until Huawei Cloud DLI jobs end, and exit with a status that says how they ended.
#[derive(Debug, Parser)]
#[command(
    name = "dli-wait",
    version,
    about,
    after_help = words::after_help(),
    args_conflicts_with_subcommands = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// The DLI job id(s) to wait for (several are waited for at once).
    #[arg(value_name = "JOB_ID")]
    pub job_ids: Vec<String>,

    /// What the ids are: `sql` jobs, `spark` batch jobs (a batch's id from
    /// /v2.0/{project_id}/batches), or `flink` jobs (an integer id from
    /// /v1.0/{project_id}/streaming/jobs), e.g. `--job-type flink`.
    #[arg(
        long,
        value_enum,
        env = "DLI_JOB_TYPE",
        default_value_t = JobType::Sql,
        value_name = "TYPE",
        help_heading = "Where"
    )]
    pub job_type: JobType,

    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub timing: TimingArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// What kind of DLI job the ids name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum JobType {
    /// SQL jobs (/v1.0/{project_id}/jobs).
    #[default]
    Sql,
    /// Spark batch jobs (/v2.0/{project_id}/batches).
    Spark,
    /// Flink jobs (/v1.0/{project_id}/streaming/jobs): integer ids.
    Flink,
}

/// What a wait waits for (`--until`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Until {
    /// The job's end (FINISHED, FAILED, CANCELLED, …).
    #[default]
    End,
    /// The job running (a deploy gate for a streaming job): exit 0, status RUNNING.
    Running,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Submit a SQL job (or a Spark batch), print its id at once, then wait for it.
    Run(Box<RunArgs>),
    /// Serve the built-in DLI simulator on loopback (try pipelines without a cloud account).
    #[cfg(feature = "simulator")]
    Simulate(SimulateArgs),
    /// The simulator and the waiter in one process: a job launches, runs, hits a DLI.0999 and
    /// finishes.
    #[cfg(feature = "simulator")]
    Demo(DemoArgs),
    /// Check the configuration before a long wait: the endpoint resolves and answers, TLS
    /// trusts it, the clock is within DLI's 15 minutes, and one signed read is accepted.
    Check(Box<CheckArgs>),
    /// Print shell completions, e.g. `dli-wait completions bash > /etc/bash_completion.d/dli-wait`.
    Completions(CompletionsArgs),
    /// Print the manual page (roff), e.g. `dli-wait man > /usr/local/share/man/man1/dli-wait.1`,
    /// or one command's, e.g. `dli-wait man run > .../man1/dli-wait-run.1`.
    Man(ManArgs),
}

/// A variable of the run's environment snapshot, by name.
pub type Var<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The parser `dli-wait` runs: [`Cli`]'s, with every option's environment variable read as
/// README's "Environment" says: a variable set to the empty string counts as unset (so
/// `DLI_WAIT_TIMEOUT=` in a wrapper leaves the default), and a flag on the command line wins.
/// A variable whose option conflicts with a flag given in `argv` (`DLI_WAIT_SQL` set, and
/// `--sql-file` on the command line) is not read either: the flag wins.
/// `var` is how the run's one snapshot of the environment is asked for a variable (`None`:
/// unset, or not Unicode).
pub fn command_for(argv: &[std::ffi::OsString], var: Var) -> clap::Command {
    let given = Given::of(argv);
    fn read_env(cmd: clap::Command, given: &Given, var: Var) -> clap::Command {
        let yielding: Vec<clap::Id> = cmd
            .get_arguments()
            .filter(|a| a.get_env().is_some())
            .filter(|a| {
                cmd.get_arguments().any(|b| {
                    given.has(b)
                        && (cmd.get_arg_conflicts_with(a).contains(&b)
                            || cmd.get_arg_conflicts_with(b).contains(a))
                })
            })
            .map(|a| a.get_id().clone())
            .collect();
        cmd.mut_args(|a| {
            let empty = a
                .get_env()
                .and_then(|name| var(&name.to_string_lossy()))
                .is_some_and(|v| v.is_empty());
            if empty || yielding.contains(a.get_id()) {
                a.env(None)
            } else {
                a
            }
        })
        .mut_subcommands(|sub| read_env(sub, given, var))
    }
    read_env(command(), &given, var)
}

/// [`Cli`]'s command as every reader of it is given it (the parser, `--help`, completions, man
/// pages): variables' values are never shown (`[env: DLI_WAIT_CONF]`, not `=…`), as a value
/// can hold a secret (a `--conf` key, credentials in a `DLI_ENDPOINT`) or text that is not
/// ours to print (a newline, a workflow command).
pub fn command() -> clap::Command {
    fn hide(cmd: clap::Command) -> clap::Command {
        cmd.mut_args(|a| a.hide_env_values(true))
            .mut_subcommands(hide)
    }
    hide(Cli::command())
}

/// The command line with options written before a command moved after it: `dli-wait -q run
/// --sql …` is `dli-wait run -q --sql …`, `dli-wait --region r check` is `dli-wait check
/// --region r`. (clap's `global = true` cannot do this here: the commands take different
/// options, and a global one would be accepted, and ignored, by commands it does not apply
/// to.) An option the command does not take is then refused by it, in one line (see
/// [`error_text`]). Nothing is moved past `--`, nor when the words before the command are not
/// all options `dli-wait` knows, or ask for `--help` or `--version`.
pub fn subcommand_first(argv: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let cmd = Cli::command();
    let arg_of = |token: &str| -> Option<clap::Arg> {
        let found = if let Some(long) = token.strip_prefix("--") {
            let name = long.split('=').next().unwrap_or_default();
            cmd.get_arguments().find(|a| a.get_long() == Some(name))
        } else {
            let c = token.strip_prefix('-')?.chars().next()?;
            cmd.get_arguments().find(|a| a.get_short() == Some(c))
        };
        found.cloned()
    };
    let mut i = 1;
    while let Some(token) = argv.get(i).and_then(|t| t.to_str()) {
        if token == "--" || !token.starts_with('-') || token == "-" {
            break;
        }
        let Some(arg) = arg_of(token) else {
            return argv;
        };
        if matches!(
            arg.get_action(),
            clap::ArgAction::Help
                | clap::ArgAction::HelpShort
                | clap::ArgAction::HelpLong
                | clap::ArgAction::Version
        ) {
            return argv;
        }
        let short_cluster = !token.starts_with("--") && token.len() > 2;
        if short_cluster {
            // `-qv`: every letter a known switch.
            let all_switches = token[1..].chars().all(|c| {
                cmd.get_arguments()
                    .find(|a| a.get_short() == Some(c))
                    .is_some_and(|a| !a.get_action().takes_values())
            });
            if !all_switches {
                return argv;
            }
        }
        let inline = token.contains('=') || short_cluster;
        i += if arg.get_action().takes_values() && !inline {
            2
        } else {
            1
        };
    }
    let is_command = argv
        .get(i)
        .and_then(|t| t.to_str())
        .is_some_and(|t| cmd.find_subcommand(t).is_some());
    if i <= 1 || i >= argv.len() || !is_command {
        return argv;
    }
    let mut out = Vec::with_capacity(argv.len());
    out.push(argv[0].clone());
    out.push(argv[i].clone());
    out.extend_from_slice(&argv[1..i]);
    out.extend_from_slice(&argv[i + 1..]);
    out
}

/// clap's message for `err`, naming the environment variable a bad value came from
/// (`invalid value 'soon' for '--timeout <DURATION>' (from DLI_WAIT_TIMEOUT)`): a value the
/// user never typed must say where it was read.
pub fn error_text(err: &clap::Error, argv: &[std::ffi::OsString], var: Var) -> String {
    use clap::error::{ContextKind, ContextValue};
    if let Some(line) = not_for_this_command(err, argv).or_else(|| missing(err, argv)) {
        return line;
    }
    let mut text = err.to_string();
    let mut shown: Vec<&String> = Vec::new();
    for kind in [ContextKind::InvalidArg, ContextKind::PriorArg] {
        match err.get(kind) {
            Some(ContextValue::String(s)) => shown.push(s),
            Some(ContextValue::Strings(many)) => shown.extend(many),
            _ => {}
        }
    }
    fn find(cmd: &clap::Command, long: &str) -> Option<clap::Arg> {
        cmd.get_arguments()
            .find(|a| a.get_long() == Some(long))
            .cloned()
            .or_else(|| cmd.get_subcommands().find_map(|s| find(s, long)))
    }
    let given = Given::of(argv);
    let cli = Cli::command();
    for shown in shown {
        let long = shown
            .trim_start_matches('-')
            .split([' ', '=', '.'])
            .next()
            .unwrap_or_default();
        let from_env = find(&cli, long)
            .filter(|a| !given.has(a))
            .and_then(|a| a.get_env().map(|v| v.to_string_lossy().into_owned()))
            .filter(|v| var(v).is_some_and(|x| !x.is_empty()));
        if let Some(name) = from_env {
            text = text.replacen(
                &format!("'{shown}'"),
                &format!("'{shown}' (from {name})"),
                1,
            );
        }
    }
    text
}

/// An option another command takes, given to one that does not (`dli-wait check --timeout
/// 1h`): one line naming the option, the command, and those that take it.
fn not_for_this_command(err: &clap::Error, argv: &[std::ffi::OsString]) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if err.kind() != ErrorKind::UnknownArgument {
        return None;
    }
    let Some(ContextValue::String(shown)) = err.get(ContextKind::InvalidArg) else {
        return None;
    };
    let flag = shown.split('=').next().unwrap_or_default();
    let takes = |c: &clap::Command| {
        c.get_arguments().any(|a| {
            flag.strip_prefix("--")
                .is_some_and(|l| a.get_long() == Some(l))
                || flag
                    .strip_prefix('-')
                    .and_then(|s| s.chars().next())
                    .is_some_and(|s| a.get_short() == Some(s) && flag.len() == 2)
        })
    };
    let cli = Cli::command();
    let this = argv
        .get(1)
        .and_then(|t| t.to_str())
        .and_then(|t| cli.find_subcommand(t));
    let mut by: Vec<String> = cli
        .get_subcommands()
        .filter(|c| takes(c))
        .map(|c| format!("`dli-wait {}`", c.get_name()))
        .collect();
    if takes(&cli) {
        by.insert(0, "`dli-wait <JOB_ID>...`".to_string());
    }
    if by.is_empty() {
        return None;
    }
    let (name, help) = match this {
        Some(c) => (
            format!("`dli-wait {}`", c.get_name()),
            format!("dli-wait {} --help", c.get_name()),
        ),
        None => (
            "waiting for job ids".to_string(),
            "dli-wait --help".to_string(),
        ),
    };
    Some(format!(
        "error: {flag} does not apply to {name}: it is an option of {} (`{help}` lists what {name} takes)",
        by.join(", ")
    ))
}

/// A required option not given (`dli-wait run` alone): one line naming every way to give it,
/// `--sql <SQL>`, `--sql-file <PATH>` or `--spark-file <PATH>`.
fn missing(err: &clap::Error, argv: &[std::ffi::OsString]) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if err.kind() != ErrorKind::MissingRequiredArgument {
        return None;
    }
    let Some(ContextValue::Strings(wanted)) = err.get(ContextKind::InvalidArg) else {
        return None;
    };
    let either = |w: &str| -> String {
        let ways: Vec<&str> = w
            .strip_prefix('<')
            .and_then(|w| w.strip_suffix('>'))
            .map_or_else(|| vec![w], |inner| inner.split('|').collect());
        match ways.split_last() {
            Some((last, rest)) if !rest.is_empty() => {
                format!("one of {} or {last}", rest.join(", "))
            }
            _ => w.to_string(),
        }
    };
    let wanted: Vec<String> = wanted.iter().map(|w| either(w)).collect();
    let cli = Cli::command();
    let name = argv
        .get(1)
        .and_then(|t| t.to_str())
        .and_then(|t| cli.find_subcommand(t))
        .map_or("dli-wait".to_string(), |c| {
            format!("dli-wait {}", c.get_name())
        });
    Some(format!(
        "error: `{name}` needs {} (see `{name} --help`)",
        wanted.join(" and ")
    ))
}

/// The option names written in a command line (before any `--`): `--long`, `--long=value`,
/// and the letters of `-qv`.
struct Given {
    longs: Vec<String>,
    shorts: Vec<char>,
}

impl Given {
    fn of(argv: &[std::ffi::OsString]) -> Given {
        let mut given = Given {
            longs: Vec::new(),
            shorts: Vec::new(),
        };
        for token in argv.iter().skip(1).filter_map(|t| t.to_str()) {
            if token == "--" {
                break;
            }
            if let Some(long) = token.strip_prefix("--") {
                given
                    .longs
                    .push(long.split('=').next().unwrap_or_default().to_string());
            } else if let Some(shorts) = token.strip_prefix('-') {
                given
                    .shorts
                    .extend(shorts.chars().take_while(char::is_ascii_alphabetic));
            }
        }
        given
    }

    fn has(&self, arg: &clap::Arg) -> bool {
        arg.get_long()
            .is_some_and(|l| self.longs.iter().any(|g| g == l))
            || arg.get_short().is_some_and(|c| self.shorts.contains(&c))
    }
}

/// `cmd` reading no environment variable at all: what the flags' declarations alone say.
fn without_env(cmd: clap::Command) -> clap::Command {
    cmd.mut_args(|a| a.env(None)).mut_subcommands(without_env)
}

impl Command {
    /// The command names, which a job id can never be: clap's, as `--help` lists them.
    pub fn names() -> Vec<String> {
        Cli::command()
            .get_subcommands()
            .map(|c| c.get_name().to_string())
            .collect()
    }
}

/// `dli-wait check`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  dli-wait check --region cn-north-4            # first step of a CI job, before a long wait
  dli-wait check --output json | jq .exit_code

One line per check. Exit status: 0 all passed; 2 configuration (missing settings, a host that
does not resolve or answer, TLS trust, a clock more than 15 minutes off); 5 DLI refused the
credentials or the project.")]
pub struct CheckArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Limit for the one request, e.g. `--request-timeout 10s`.
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "30s",
        value_parser = parse_duration,
        env = "DLI_WAIT_REQUEST_TIMEOUT",
    )]
    pub request_timeout: Duration,
    /// `human` (one line per check) or `json` (one object with every check).
    #[arg(
        long,
        value_enum,
        default_value_t = OutputFormat::Human,
        value_name = "FORMAT",
        hide_possible_values = true,
        env = "DLI_WAIT_OUTPUT"
    )]
    pub output: OutputFormat,
}

/// `dli-wait completions`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  dli-wait completions bash > ~/.local/share/bash-completion/completions/dli-wait
  dli-wait completions zsh > \"${fpath[1]}/_dli-wait\"
  dli-wait completions fish > ~/.config/fish/completions/dli-wait.fish")]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `dli-wait man`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  dli-wait man | man -l -                       # read it now
  dli-wait man > /usr/local/share/man/man1/dli-wait.1
  dli-wait man run > /usr/local/share/man/man1/dli-wait-run.1   # the page dli-wait(1) points to")]
pub struct ManArgs {
    /// The command whose page to print (`run`, `check`, ...); without it, dli-wait(1).
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,
}

/// Where DLI is, and which project.
#[derive(Debug, Clone, Args, Default)]
#[command(next_help_heading = "Where")]
pub struct TargetArgs {
    /// Region of the job, e.g. `--region cn-north-4`; the endpoint is then
    /// https://dli.<REGION>.myhuaweicloud.com.
    #[arg(long, env = "HUAWEICLOUD_SDK_REGION", value_name = "REGION")]
    pub region: Option<String>,
    /// Full base URL, overriding --region, e.g. `--endpoint https://dli.cn-north-4.myhuaweicloud.com`.
    /// Plain http:// only for loopback hosts (the simulator).
    #[arg(long, env = "DLI_ENDPOINT", value_name = "URL")]
    pub endpoint: Option<String>,
    /// The project the job belongs to, e.g. `--project-id 0123456789abcdef0123456789abcdef`.
    #[arg(long, env = "HUAWEICLOUD_SDK_PROJECT_ID", value_name = "ID")]
    pub project_id: Option<String>,
}

/// A duration flag that may be switched off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Off,
    After(Duration),
}

impl Limit {
    pub fn get(self) -> Option<Duration> {
        match self {
            Limit::Off => None,
            Limit::After(d) => Some(d),
        }
    }
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s.trim())
        .map_err(|e| format!("{e}; write a duration such as 500ms, 90s, 15m or \"1h 30m\""))?;
    if d.is_zero() {
        return Err("must be longer than zero".into());
    }
    Ok(d)
}

fn parse_limit(s: &str) -> Result<Limit, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "off" | "none" | "never" => Ok(Limit::Off),
        _ => parse_duration(s).map(Limit::After),
    }
}

/// How polls are spaced (see README "Performance").
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum PollPolicy {
    /// Aim at the running sub-job's predicted end.
    #[default]
    Eta,
    /// Double the delay each poll, from --poll-interval to --max-poll-interval.
    Exponential,
}

/// When to cancel the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CancelWhen {
    /// `--timeout` passed.
    Timeout,
    /// The job stalled (`--stall-timeout`).
    Stall,
    /// SIGINT, SIGTERM or SIGHUP.
    Signal,
    /// `--fail-fast` stopped waiting for it because another job did not finish (ABANDONED).
    Abandoned,
}

/// How long and how often.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "How long and how often")]
pub struct TimingArgs {
    /// Overall deadline for the whole wait, e.g. `--timeout 2h`; `off` waits forever.
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "6h",
        value_parser = parse_limit,
        env = "DLI_WAIT_TIMEOUT",
    )]
    pub timeout: Limit,
    /// Fail when a RUNNING job's task and stage counts have not moved for this long,
    /// e.g. `--stall-timeout 20m`; `off` disables. Spark batches and Flink jobs report no
    /// task counts, so it does not apply to them (a batch's progress line says how long it
    /// has been STARTING, queued for resources, instead; for Flink jobs see --max-restarts).
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "1h",
        value_parser = parse_limit,
        env = "DLI_WAIT_STALL_TIMEOUT",
    )]
    pub stall_timeout: Limit,
    /// The first delay between polls, e.g. `--poll-interval 5s`, and again after each change
    /// of state or sub-job; later delays follow --poll-policy, within --max-poll-interval.
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "2s",
        value_parser = parse_duration,
        env = "DLI_WAIT_POLL_INTERVAL",
    )]
    pub poll_interval: Duration,
    /// The cap on the delay between polls, e.g. `--max-poll-interval 30s` (shorter: quicker
    /// to notice a failure mid-way, more calls).
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "2m",
        value_parser = parse_duration,
        env = "DLI_WAIT_MAX_POLL_INTERVAL",
    )]
    pub max_poll_interval: Duration,
    /// How to space polls: `eta` aims at the running sub-job's predicted end from its task
    /// counts; `exponential` only doubles the delay, e.g. `--poll-policy exponential`.
    #[arg(
        long,
        value_enum,
        default_value_t = PollPolicy::Eta,
        value_name = "POLICY",
        env = "DLI_WAIT_POLL_POLICY",
    )]
    pub poll_policy: PollPolicy,
    /// Limit for one HTTP request, e.g. `--request-timeout 10s`; a slow answer is a transient
    /// fault and is retried.
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "30s",
        value_parser = parse_duration,
        env = "DLI_WAIT_REQUEST_TIMEOUT",
    )]
    pub request_timeout: Duration,
    /// While the service has never answered in this run, how long to retry connection
    /// failures (DNS, refused, no route) before exit 2, e.g. `--unreachable-timeout 2m`; once
    /// it has answered they are retried until --timeout. `off` retries until --timeout.
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "30s",
        value_parser = parse_limit,
        env = "DLI_WAIT_UNREACHABLE_TIMEOUT",
    )]
    pub unreachable_timeout: Limit,
    /// Cancel the job (DELETE; a Flink job: the stop API) when the wait ends this way, e.g.
    /// `--cancel-on timeout,stall`; `abandoned`: when `--fail-fast` stopped its wait.
    #[arg(
        long,
        value_name = "WHEN",
        value_delimiter = ',',
        value_enum,
        env = "DLI_WAIT_CANCEL_ON"
    )]
    pub cancel_on: Vec<CancelWhen>,
    /// With several jobs, stop waiting for the others (status ABANDONED) as soon as one ends
    /// without FINISHED; they are cancelled only with `--cancel-on abandoned`, e.g.
    /// `--fail-fast --cancel-on abandoned,timeout`.
    #[arg(
        long,
        env = "DLI_WAIT_FAIL_FAST",
        value_parser = clap::builder::BoolishValueParser::new(),
    )]
    pub fail_fast: bool,
    /// `end` (default) waits for the job's end; `running` exits 0 (status RUNNING) once the
    /// job runs, e.g. `--job-type flink --until running --settle 2m`: a deploy gate for a
    /// streaming job, which never ends.
    #[arg(
        long,
        value_enum,
        env = "DLI_WAIT_UNTIL",
        default_value_t = Until::End,
        value_name = "WHEN"
    )]
    pub until: Until,
    /// With --until running: the job must stay running this long, e.g. `--settle 2m`; a
    /// restart (restart_times grows) or any other state inside the window ends the wait
    /// as STALLED (exit 4), a final state as that state says.
    #[arg(long, env = "DLI_WAIT_SETTLE", value_name = "DURATION", value_parser = parse_duration)]
    pub settle: Option<Duration>,
    /// End the wait as STALLED (exit 4; cancelled with --cancel-on stall) once the job's
    /// restart_times grew by more than N during it, e.g. `--max-restarts 3` (Flink jobs say
    /// how often DLI restarted them).
    #[arg(long, env = "DLI_WAIT_MAX_RESTARTS", value_name = "N")]
    pub max_restarts: Option<u64>,
    /// A Flink job that --cancel-on stops takes a savepoint first (the stop API's
    /// trigger_savepoint), e.g. `--cancel-on timeout,signal --savepoint`.
    #[arg(
        long,
        env = "DLI_WAIT_SAVEPOINT",
        value_parser = clap::builder::BoolishValueParser::new(),
    )]
    pub savepoint: bool,
    /// Limit on requests per second across all jobs of this process, e.g.
    /// `--max-requests-per-second 5` (DLI's gateway throttles with HTTP 429 beyond its quota).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 10.0,
        value_parser = parse_rate,
        env = "DLI_WAIT_MAX_REQUESTS_PER_SECOND",
    )]
    pub max_requests_per_second: f64,
    /// Learn from the job's past runs: `auto` lists the same job's earlier FINISHED runs at
    /// the start of the wait (two calls: its /status, one page of the list) and polls little
    /// while the job is far from when they ended; `off` makes no list call, e.g.
    /// `--history off`. A refused list turns it off for the wait, with one line.
    #[arg(long, value_enum, env = "DLI_WAIT_HISTORY", default_value_t = History::Auto, value_name = "WHEN")]
    pub history: History,
    /// How long the job should take, given by hand (a job that never ran, or ran elsewhere),
    /// counted from the start of the wait, e.g. `--expect 40m`; no list call is made. For
    /// `--poll-policy eta` (the default) waiting for the end: with another policy or
    /// `--until running` it is a usage error (exit 2).
    #[arg(long, env = "DLI_WAIT_EXPECT", value_name = "DURATION", value_parser = parse_duration)]
    pub expect: Option<Duration>,
}

/// Whether to learn from the job's past runs (`--history`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum History {
    /// List the job's past runs at the start of a wait (`eta` only).
    #[default]
    Auto,
    /// Never list them.
    Off,
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(r) if r > 0.0 && r.is_finite() => Ok(r),
        _ => Err("must be a positive number of requests per second, e.g. 10 or 0.5".into()),
    }
}

impl Default for TimingArgs {
    /// The defaults `--help` shows, read from the flags' own declarations.
    fn default() -> Self {
        #[derive(Parser)]
        struct Defaults {
            #[command(flatten)]
            timing: TimingArgs,
        }
        let matches = without_env(Defaults::command()).get_matches_from(["dli-wait"]);
        Defaults::from_arg_matches(&matches)
            .expect("the defaults parse")
            .timing
    }
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum OutputFormat {
    /// Progress for people on stderr: a live bar on a terminal, one line per change otherwise.
    #[default]
    Human,
    /// JSON lines on stdout, one per event; the last line is the summary.
    Json,
}

/// What it says.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "What it says")]
pub struct OutputArgs {
    /// `--output json` prints JSON lines on stdout (the last is the summary).
    #[arg(
        long,
        value_enum,
        default_value_t = OutputFormat::Human,
        value_name = "FORMAT",
        env = "DLI_WAIT_OUTPUT",
    )]
    pub output: OutputFormat,
    /// More diagnostics on stderr (-v requests, -vv bodies); RUST_LOG also works.
    #[arg(short, long, action = clap::ArgAction::Count, env = "DLI_WAIT_VERBOSE")]
    pub verbose: u8,
    /// Less: each job's closing line only (also `run`'s `submitted job` line, and with several
    /// jobs the line of all their endings).
    #[arg(
        short,
        long,
        conflicts_with = "verbose",
        env = "DLI_WAIT_QUIET",
        value_parser = clap::builder::BoolishValueParser::new(),
    )]
    pub quiet: bool,
    /// Off a terminal, the longest silence before a "still waiting" line, e.g. `--heartbeat 5m`.
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "60s",
        value_parser = parse_duration,
        env = "DLI_WAIT_HEARTBEAT",
    )]
    pub heartbeat: Duration,
    /// Also write the final JSON summary to this file (atomically: write, then rename), for
    /// alerting scripts, e.g. `--summary-file /var/lib/nightly/last.json`.
    #[arg(long, value_name = "PATH", env = "DLI_WAIT_SUMMARY_FILE")]
    pub summary_file: Option<PathBuf>,
    /// Speak GitHub Actions (outputs, step summary, annotations); on by itself when
    /// GITHUB_ACTIONS=true.
    #[arg(
        long,
        env = "DLI_WAIT_GITHUB",
        value_parser = clap::builder::BoolishValueParser::new(),
    )]
    pub github: bool,
    /// Also write what was seen of each job (its polls: time, state, sub-job, task counts) as
    /// a simulator scenario, to replay with `dli-wait simulate --scenario FILE` or the
    /// policy benchmark's `--corpus`, e.g. `--record runs/$(date +%F).json`.
    #[cfg(feature = "simulator")]
    #[arg(long, value_name = "FILE", env = "DLI_WAIT_RECORD")]
    pub record: Option<PathBuf>,
    /// For a FINISHED query, print its rows on stdout after the closing line (DLI's preview:
    /// the first 1000 at most; not for jobs on the `default` queue), e.g.
    /// `--results --result-format csv > rows.csv`.
    #[arg(
        long,
        env = "DLI_WAIT_RESULTS",
        value_parser = clap::builder::BoolishValueParser::new(),
        help_heading = "Results and checks"
    )]
    pub results: bool,
    /// How `--results` prints the rows: `table` (the default on a terminal), `csv` (RFC 4180
    /// with a header row; the default otherwise) or `json` (one object per row), e.g.
    /// `--result-format json`.
    #[arg(
        long,
        value_enum,
        env = "DLI_WAIT_RESULT_FORMAT",
        value_name = "FORMAT",
        help_heading = "Results and checks"
    )]
    pub result_format: Option<ResultFormat>,
    /// The SQL is a check that returns offending rows: a FINISHED job with rows in its result
    /// exits 6 (CHECK_FAILED), showing the first few; none, 0. Needs a queue of your own
    /// (DLI gives no results on `default`), e.g.
    /// `dli-wait run --queue etl --fail-if-rows --sql "SELECT id FROM t WHERE amount < 0"`.
    #[arg(
        long,
        env = "DLI_WAIT_FAIL_IF_ROWS",
        value_parser = clap::builder::BoolishValueParser::new(),
        help_heading = "Results and checks"
    )]
    pub fail_if_rows: bool,
}

/// How `--results` prints a query's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ResultFormat {
    /// Aligned columns, each cell one line cut to a width.
    Table,
    /// RFC 4180 CSV with a header row.
    Csv,
    /// JSON lines: one object per row, types kept.
    Json,
}

impl Default for OutputArgs {
    /// The defaults `--help` shows, read from the flags' own declarations.
    fn default() -> Self {
        #[derive(Parser)]
        struct Defaults {
            #[command(flatten)]
            output: OutputArgs,
        }
        let matches = without_env(Defaults::command()).get_matches_from(["dli-wait"]);
        Defaults::from_arg_matches(&matches)
            .expect("the defaults parse")
            .output
    }
}

/// `dli-wait run`: submit, then wait.
#[derive(Debug, Clone, Args)]
#[command(after_help = "\
Examples:
  dli-wait run --region cn-north-4 --queue etl --sql-file nightly.sql --summary-file last.json
  echo 'SELECT count(*) FROM sales.orders' | dli-wait run --queue default --sql-file -
  dli-wait run --sql \"INSERT INTO t SELECT * FROM s\" --cancel-on timeout,stall,signal --timeout 4h
  A=$(dli-wait run --no-wait --sql-file a.sql); B=$(dli-wait run --no-wait --sql-file b.sql)
  dli-wait -- \"$A\" \"$B\"                          # submit several, then wait for all
  dli-wait run --spark-file transform.json --timeout 4h  # a Spark batch (POST .../batches)

In human mode the job id is the first line of stdout the moment DLI accepts the submit, so
JOB=$(dli-wait run --no-wait ...) captures it; with --output json every stdout line is JSON
and the id is the \"submitted\" event's job_id (jq -r 'select(.event==\"submitted\").job_id').

The submit is sent once and never retried (a lost answer could otherwise run the job twice);
one that never left this machine (the host did not resolve, the connection was refused, TLS
was not trusted) is tried again within --unreachable-timeout, then exits 2: no job was
created. A submit DLI refuses, e.g. for bad SQL, exits 1 with DLI's reason; otherwise the
exit status is that of waiting (dli-wait --help).

--spark-file takes the JSON body of POST /v2.0/{project_id}/batches as DLI's console exports
it: an object with at least \"file\" and \"className\" (and \"queue\"); it is checked before
anything is sent.

Once per key (--idempotency-key KEY), so a re-run does not submit twice:
  GitHub: dli-wait run --idempotency-key \"${{ github.run_id }}-${{ github.job }}\" --sql-file a.sql
  GitLab: dli-wait run --idempotency-key \"$CI_PIPELINE_ID-$CI_JOB_NAME_SLUG\" --sql-file a.sql
  cron:   dli-wait run --idempotency-key \"nightly-$(date +%F)\" --sql-file a.sql
Before submitting, run looks for the newest job submitted with KEY (a SQL job's tag
dli-wait-key=KEY; a Spark batch's \"name\", which KEY becomes): one that has not ended is
re-attached to (its id on stdout, then waited for), one that FINISHED ends the run with exit 0
and nothing submitted, one that FAILED or was CANCELLED is submitted anew. A lookup DLI refuses,
or whose list cannot tell (a job without the key listed, more counted than listed), exits 5
and submits nothing (2 for a fault of configuration). Any job with the key counts: the key
must be new for every run that should run anew. The lookup, the submit and the wait share
one --timeout. There is no server-side token: two runs with one key started at the same
instant can both submit.

With --cancel-on timeout, a SQL job also carries DLI's own deadline (--conf
dli.sql.job.timeout, in seconds: --timeout plus --request-timeout, never before the wait's),
so a waiter that is killed still leaves no job running past it; your own --conf
dli.sql.job.timeout wins. A Spark batch has no such setting: it outlives a killed waiter.")]
#[command(group(
    clap::ArgGroup::new("submission")
        .required(true)
        .args(["sql", "sql_file", "spark_file"])
))]
pub struct RunArgs {
    /// The SQL to run, e.g. `--sql "INSERT INTO t SELECT * FROM s"`.
    #[arg(
        long,
        value_name = "SQL",
        conflicts_with_all = ["sql_file", "spark_file"],
        allow_hyphen_values = true,
        env = "DLI_WAIT_SQL"
    )]
    pub sql: Option<String>,
    /// Read the SQL from a file (`-` for stdin), e.g. `--sql-file nightly.sql`.
    #[arg(
        long,
        value_name = "PATH",
        conflicts_with = "spark_file",
        env = "DLI_WAIT_SQL_FILE"
    )]
    pub sql_file: Option<PathBuf>,
    /// Submit a Spark batch job instead: the JSON body of POST /v2.0/{project_id}/batches in
    /// this file (`-` for stdin), e.g. `--spark-file transform.json`; its queue is the body's
    /// "queue".
    #[arg(
        long,
        value_name = "PATH",
        conflicts_with_all = ["queue", "database", "conf"],
        env = "DLI_WAIT_SPARK_FILE"
    )]
    pub spark_file: Option<PathBuf>,
    /// The queue to run on, e.g. `--queue default`.
    #[arg(long, value_name = "NAME", env = "DLI_WAIT_QUEUE")]
    pub queue: Option<String>,
    /// The database the SQL runs in, e.g. `--database sales`.
    #[arg(long, value_name = "DB", env = "DLI_WAIT_DATABASE")]
    pub database: Option<String>,
    /// A Spark/DLI setting for the job, repeatable, e.g. `--conf spark.sql.shuffle.partitions=200`
    /// (DLI_WAIT_CONF: one per line).
    #[arg(
        long,
        value_name = "KEY=VALUE",
        env = "DLI_WAIT_CONF",
        value_delimiter = '\n'
    )]
    pub conf: Vec<String>,
    /// Submit only if no job was submitted with this key yet, or the last one failed;
    /// re-attach to one still running; stop (exit 0) when it finished, e.g.
    /// `--idempotency-key nightly-2026-12-02` (a DLI tag value: letters, digits, spaces, _.:+-@).
    #[arg(long, value_name = "KEY", env = "DLI_WAIT_IDEMPOTENCY_KEY")]
    pub idempotency_key: Option<String>,
    /// Submit, print the job id and exit 0 without waiting (wait later with `dli-wait ID`),
    /// e.g. `JOB=$(dli-wait run --no-wait --sql-file load.sql)`.
    #[arg(
        long,
        env = "DLI_WAIT_NO_WAIT",
        value_parser = clap::builder::BoolishValueParser::new(),
    )]
    pub no_wait: bool,

    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub timing: TimingArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `dli-wait simulate`.
#[cfg(feature = "simulator")]
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  dli-wait simulate                                   # the default jobs on a free port
  dli-wait simulate --listen 127.0.0.1:8090 --scenario examples/scenarios/default.json
  dli-wait simulate --output json | head -n1          # endpoint, project id, keys, job ids

Without --scenario it serves examples/scenarios/default.json: one job that finishes, one that
fails, one that stalls and one that never ends. The scenario format is in docs/scenarios.md.")]
pub struct SimulateArgs {
    /// Address to listen on, e.g. `--listen 127.0.0.1:8090`; port 0 takes a free port.
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1:0",
        env = "DLI_WAIT_LISTEN"
    )]
    pub listen: std::net::SocketAddr,
    /// A scenario file scripting the jobs, e.g. `--scenario examples/scenarios/default.json`.
    #[arg(long, value_name = "FILE", env = "DLI_WAIT_SCENARIO")]
    pub scenario: Option<PathBuf>,
    /// Replay faster (sim seconds per real second), e.g. `--speed 60`; overrides the file's.
    #[arg(long, value_name = "FACTOR", env = "DLI_WAIT_SPEED")]
    pub speed: Option<f64>,
    /// How to print the connection details: `human` (how to point dli-wait at it) or `json`
    /// (one line: endpoint, project id, keys, jobs), e.g. `--output json`.
    #[arg(
        long,
        value_enum,
        default_value_t = OutputFormat::Human,
        value_name = "FORMAT",
        hide_possible_values = true,
        env = "DLI_WAIT_OUTPUT"
    )]
    pub output: OutputFormat,
    /// Log every request on stderr (-v).
    #[arg(short, long, action = clap::ArgAction::Count, env = "DLI_WAIT_VERBOSE")]
    pub verbose: u8,
}

#[cfg(feature = "simulator")]
impl SimulateArgs {
    pub fn output_args(&self) -> OutputArgs {
        OutputArgs {
            output: self.output,
            verbose: self.verbose,
            ..OutputArgs::default()
        }
    }
}

/// `dli-wait demo`.
#[cfg(feature = "simulator")]
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// `human` (default) shows the wait as a person sees it; `json` shows the JSON lines a
    /// script would read instead, e.g. `--output json`.
    #[arg(
        long,
        value_enum,
        default_value_t = OutputFormat::Human,
        value_name = "FORMAT",
        hide_possible_values = true,
        env = "DLI_WAIT_OUTPUT"
    )]
    pub output: OutputFormat,
}

#[cfg(feature = "simulator")]
impl DemoArgs {
    pub fn output_args(&self) -> OutputArgs {
        OutputArgs {
            output: self.output,
            ..OutputArgs::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::words::flag;

    #[test]
    fn defaults_are_the_ones_help_shows() {
        let t = TimingArgs::default();
        assert_eq!(t.timeout, Limit::After(Duration::from_secs(6 * 3600)));
        assert_eq!(t.stall_timeout, Limit::After(Duration::from_secs(3600)));
        assert_eq!(
            (t.poll_interval, t.max_poll_interval, t.request_timeout),
            (
                Duration::from_secs(2),
                Duration::from_secs(120),
                Duration::from_secs(30)
            )
        );
        assert_eq!(t.poll_policy, PollPolicy::Eta);
        assert_eq!(t.max_requests_per_second, 10.0);
        assert!(t.cancel_on.is_empty() && !t.fail_fast);
        let o = OutputArgs::default();
        assert_eq!(
            (o.output, o.verbose, o.quiet),
            (OutputFormat::Human, 0, false)
        );
        assert_eq!(o.heartbeat, Duration::from_secs(60));
        assert!(o.summary_file.is_none() && !o.github);
        #[cfg(feature = "simulator")]
        assert!(o.record.is_none());
    }

    /// Every option of every command (flags added later too) has its environment variable:
    /// `DLI_WAIT_<LONG_NAME_IN_UPPER_SNAKE>`, or the one the contract names; positionals,
    /// `--help` and `--version` have none.
    #[test]
    fn every_option_has_its_environment_variable() {
        const CONTRACT: &[(&str, &str)] = &[
            ("region", "HUAWEICLOUD_SDK_REGION"),
            ("endpoint", "DLI_ENDPOINT"),
            ("project-id", "HUAWEICLOUD_SDK_PROJECT_ID"),
            ("job-type", "DLI_JOB_TYPE"),
        ];
        fn walk(cmd: &clap::Command, path: &str, checked: &mut usize) {
            for a in cmd.get_arguments() {
                let (Some(long), false) = (a.get_long(), a.is_positional()) else {
                    continue;
                };
                if matches!(
                    a.get_action(),
                    clap::ArgAction::Help | clap::ArgAction::HelpLong | clap::ArgAction::Version
                ) {
                    continue;
                }
                let want = CONTRACT.iter().find(|(l, _)| *l == long).map_or_else(
                    || format!("DLI_WAIT_{}", long.replace('-', "_").to_ascii_uppercase()),
                    |(_, v)| v.to_string(),
                );
                let got = a.get_env().map(|e| e.to_string_lossy().into_owned());
                assert_eq!(got.as_deref(), Some(want.as_str()), "{path} --{long}");
                *checked += 1;
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), checked);
            }
        }
        let mut checked = 0;
        let mut cmd = Cli::command();
        cmd.build();
        walk(&cmd, "dli-wait", &mut checked);
        assert!(checked > 40, "only {checked} options walked");
    }

    /// A variable the user set to the empty string counts as unset; a bad one names itself;
    /// a flag wins over its variable, also over one it conflicts with.
    #[test]
    fn the_flags_given_are_read_from_long_and_short_forms() {
        let given = Given::of(&[
            "dli-wait".into(),
            "run".into(),
            "--sql-file=x".into(),
            "-qv".into(),
        ]);
        assert_eq!(given.longs, ["sql-file"]);
        assert_eq!(given.shorts, ['q', 'v']);
    }

    /// Options before a command move after it; nothing else moves.
    #[test]
    fn options_before_a_command_move_after_it() {
        let moved = |line: &str| {
            let argv = line.split(' ').map(std::ffi::OsString::from).collect();
            subcommand_first(argv)
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(moved("dli-wait -q run --sql x"), "dli-wait run -q --sql x");
        assert_eq!(
            moved("dli-wait --timeout 1h -qv --output=json check"),
            "dli-wait check --timeout 1h -qv --output=json"
        );
        for same in [
            "dli-wait run --sql x",
            "dli-wait --timeout 1h JOB run",
            "dli-wait -- run",
            "dli-wait --help run",
            "dli-wait --bogus run",
            "dli-wait --timeout run",
            "dli-wait -q",
        ] {
            assert_eq!(moved(same), same);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// For any options of the wait (some with values, `--x=v` or `--x v`, short clusters)
        /// written before a command, the command line parses as with them after it: to the
        /// same arguments, or refused either way.
        #[test]
        fn options_before_a_command_parse_as_after_it(
            picks in proptest::collection::vec(0usize..OPTIONS.len(), 0..6),
            command in proptest::sample::select(vec!["run", "check", "completions"]),
        ) {
            let options: Vec<&str> = picks.iter().flat_map(|&i| OPTIONS[i].iter().copied()).collect();
            let tail: &[&str] = match command {
                "run" => &["--sql", "SELECT 1"],
                "completions" => &["bash"],
                _ => &[],
            };
            let argv = |words: Vec<&str>| -> Vec<std::ffi::OsString> {
                words.into_iter().map(Into::into).collect()
            };
            let before = argv([&["dli-wait"][..], &options, &[command], tail].concat());
            let after = argv([&["dli-wait", command][..], &options, tail].concat());
            // Refused either way (which of two mistakes clap names first may differ).
            let parse = |a: Vec<std::ffi::OsString>| {
                Cli::try_parse_from(a).map(|cli| format!("{cli:?}")).ok()
            };
            proptest::prop_assert_eq!(parse(subcommand_first(before)), parse(after));
        }
    }

    /// Options of the wait, as a user writes them.
    const OPTIONS: &[&[&str]] = &[
        &["-q"],
        &["-v"],
        &["-qv"],
        &["--timeout", "1h"],
        &["--timeout=2h"],
        &["--output", "json"],
        &["--region", "cn-north-4"],
        &["--cancel-on", "timeout,abandoned"],
        &["--fail-fast"],
        &["--request-timeout=5s"],
        &["--bogus"],
    ];

    #[test]
    fn flag_names_in_messages_are_real_flags() {
        let cmd = Cli::command();
        let mut longs: Vec<String> = cmd
            .get_arguments()
            .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
            .collect();
        for sub in cmd.get_subcommands() {
            longs.extend(
                sub.get_arguments()
                    .filter_map(|a| a.get_long().map(|l| format!("--{l}"))),
            );
        }
        #[cfg(feature = "simulator")]
        let simulator = [flag::RECORD, flag::SCENARIO, flag::SPEED, flag::LISTEN];
        #[cfg(not(feature = "simulator"))]
        let simulator = [];
        for f in [
            flag::TIMEOUT,
            flag::STALL_TIMEOUT,
            flag::FAIL_FAST,
            flag::REQUEST_TIMEOUT,
            flag::MAX_REQUESTS_PER_SECOND,
            flag::REGION,
            flag::ENDPOINT,
            flag::PROJECT_ID,
            flag::SUMMARY_FILE,
            flag::CONF,
            flag::SQL,
            flag::SQL_FILE,
            flag::NO_WAIT,
            flag::UNREACHABLE_TIMEOUT,
            flag::JOB_TYPE,
            flag::SPARK_FILE,
        ]
        .into_iter()
        .chain(simulator)
        {
            assert!(longs.iter().any(|l| l == f), "{f} is not a flag");
        }
    }

    /// Without the simulator (`--no-default-features`) no help names any of it: no
    /// `--record`, no `simulate` or `demo` command; with it, the help shows all three.
    #[test]
    fn the_help_names_the_simulator_only_where_it_is_built_in() {
        let mut cmd = Cli::command();
        let mut helps = vec![
            cmd.render_help().to_string(),
            cmd.render_long_help().to_string(),
        ];
        for sub in cmd.get_subcommands_mut() {
            helps.push(sub.render_long_help().to_string());
        }
        let all = helps.join("\n");
        for word in ["--record", "simulate", "demo"] {
            assert_eq!(
                all.contains(word),
                cfg!(feature = "simulator"),
                "{word:?} in the help:\n{all}"
            );
        }
    }

    /// The names a job id cannot be are the parser's own, in `--help`'s order.
    /// The exit statuses the commands' help names are the outcome table's.
    #[test]
    fn exit_statuses_in_help_are_the_tables() {
        use crate::wait::outcome::ExitStatus;
        use clap::CommandFactory;
        let help = |name: &str| {
            let mut cmd = Cli::command();
            let sub = cmd.find_subcommand_mut(name).expect("a command").clone();
            sub.clone().render_long_help().to_string()
        };
        let check = help("check");
        for (status, words) in [
            (ExitStatus::Finished, "all passed"),
            (ExitStatus::Misconfigured, "configuration"),
            (ExitStatus::Refused, "DLI refused"),
        ] {
            assert!(
                check.contains(&format!("{} {words}", status.code())),
                "{check}"
            );
        }
        let run = help("run");
        assert!(
            run.contains(&format!(
                "exits {} with DLI's reason",
                ExitStatus::Failed.code()
            )),
            "{run}"
        );
    }

    #[test]
    fn command_names_are_the_parsers() {
        let want: &[&str] = if cfg!(feature = "simulator") {
            &["run", "simulate", "demo", "check", "completions", "man"]
        } else {
            &["run", "check", "completions", "man"]
        };
        assert_eq!(Command::names(), want);
    }

    #[test]
    fn durations_accept_off_and_reject_nonsense() {
        assert_eq!(parse_limit("off"), Ok(Limit::Off));
        assert_eq!(
            parse_limit("1h 30m"),
            Ok(Limit::After(Duration::from_secs(5400)))
        );
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("0s").is_err());
    }
}
