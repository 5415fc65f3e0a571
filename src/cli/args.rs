//! The command line of the contract (clap) for every command, and its resolution into settings
//! the rest of the program uses. Only this module knows flag names (messages get them from
//! [`flag`] and [`hint`]); only `resolve` reads the environment.

use crate::dli::auth::CredentialsError;
use crate::dli::bounded::TRUST_FILE;
use crate::dli::client::ClientConfig;
use crate::dli::credentials::chain::{self, ChainError};
use crate::dli::fault::Check;
use crate::wait::machine::{CancelOn, DEFAULT_FALLBACK_AFTER, WaitConfig};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;
use url::Url;

const EXIT_CODES: &str = "\
Examples:
  # credentials come from the environment only, never from flags
  export HUAWEICLOUD_SDK_AK=... HUAWEICLOUD_SDK_SK=...
  export HUAWEICLOUD_SDK_PROJECT_ID=0123456789abcdef0123456789abcdef
  dli-wait --region cn-north-4 85798b38-ae44-48eb-bb90-7cf0dcdafe7b
  dli-wait --region cn-north-4 --timeout 2h --stall-timeout 30m --cancel-on timeout,stall JOB_ID
  dli-wait --output json JOB_A JOB_B | tail -n1        # the summary line
  dli-wait --job-type spark BATCH_ID                   # a Spark batch job
  dli-wait demo                                        # try it without a cloud account

Credentials (never flags): the first source that has some, in the SDKs' order
  1. the environment
     HUAWEICLOUD_SDK_IDP_ID and HUAWEICLOUD_SDK_ID_TOKEN_FILE
                                              OIDC federation: temporary keys from IAM
                                              (HUAWEICLOUD_SDK_IAM_ENDPOINT, or the region's)
     HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK   access key pair (requests signed SDK-HMAC-SHA256)
     HUAWEICLOUD_SDK_SECURITY_TOKEN           with a temporary key pair
     HUAWEICLOUD_SDK_AUTH_TOKEN               an IAM token instead of a key pair
  2. the credentials file HUAWEICLOUD_SDK_CREDENTIALS_FILE (~/.huaweicloud/credentials),
     [basic]: ak, sk, security_token, project_id, or idp_id, id_token_file, iam_endpoint
  3. the ECS metadata service (the ECS agency's keys): only with DLI_WAIT_ECS_METADATA=1, or
     on a Huawei Cloud ECS (DMI) unless DLI_WAIT_ECS_METADATA=0
  Temporary keys are renewed before they expire; -v says which source was used.

Exit status:
  0    every job FINISHED (a Spark batch: success)
  1    a job FAILED (a Spark batch: dead; DLI's reason is printed)
  2    bad usage or configuration, found at once (an untrusted TLS certificate, an
       unreadable SSL_CERT_FILE) or when DLI never answered (--unreachable-timeout)
  3    a job was CANCELLED (a Spark batch has no such state: one killed by others is dead, 1;
       one our --cancel-on killed has its cancel confirmed, the ending's own code stands)
  4    a job stalled (--stall-timeout)
  5    DLI refused the request for good (authentication, permission, unknown job or project)
  124  --timeout passed first
  129/130/143  interrupted by SIGHUP/SIGINT/SIGTERM
  With several jobs: a signal's code wins; otherwise the first of 2, 5, 1, 4, 3, 124, 0.";

/// Wait until Huawei Cloud DLI jobs end, and exit with a status that says how they ended.
#[derive(Debug, Parser)]
#[command(
    name = "dli-wait",
    version,
    about,
    after_help = EXIT_CODES,
    args_conflicts_with_subcommands = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// The DLI job id(s) to wait for (several are waited for at once).
    #[arg(value_name = "JOB_ID")]
    pub job_ids: Vec<String>,

    /// What the ids are: `sql` jobs, or `spark` batch jobs (a batch's id from
    /// /v2.0/{project_id}/batches), e.g. `--job-type spark`.
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
    /// Print the manual page (roff), e.g. `dli-wait man > /usr/local/share/man/man1/dli-wait.1`.
    Man,
}

impl Command {
    /// The command names, which a job id can never be.
    pub const NAMES: &[&str] = &["run", "simulate", "demo", "check", "completions", "man"];
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
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub request_timeout: Duration,
    /// `human` (one line per check) or `json` (one object with every check).
    #[arg(
        long,
        value_enum,
        default_value_t = OutputFormat::Human,
        value_name = "FORMAT",
        hide_possible_values = true
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

/// Flag names as messages say them (checked against the parser by a test).
pub mod flag {
    pub const TIMEOUT: &str = "--timeout";
    pub const STALL_TIMEOUT: &str = "--stall-timeout";
    pub const FAIL_FAST: &str = "--fail-fast";
    pub const REQUEST_TIMEOUT: &str = "--request-timeout";
    pub const MAX_REQUESTS_PER_SECOND: &str = "--max-requests-per-second";
    pub const REGION: &str = "--region";
    pub const ENDPOINT: &str = "--endpoint";
    pub const PROJECT_ID: &str = "--project-id";
    pub const SUMMARY_FILE: &str = "--summary-file";
    pub const RECORD: &str = "--record";
    pub const CONF: &str = "--conf";
    pub const SQL: &str = "--sql";
    pub const SQL_FILE: &str = "--sql-file";
    pub const SCENARIO: &str = "--scenario";
    pub const SPEED: &str = "--speed";
    pub const LISTEN: &str = "--listen";
    pub const UNREACHABLE_TIMEOUT: &str = "--unreachable-timeout";
    pub const JOB_TYPE: &str = "--job-type";
    pub const SPARK_FILE: &str = "--spark-file";
}

/// What to check about a fault, in this command line's words.
pub fn hint(check: Check) -> &'static str {
    match check {
        Check::Credentials => {
            "check HUAWEICLOUD_SDK_AK/HUAWEICLOUD_SDK_SK (or HUAWEICLOUD_SDK_AUTH_TOKEN, or the credential source -v names), that temporary keys or the token have not expired, and that this machine's clock is within 15 minutes of real time (X-Sdk-Date)"
        }
        Check::Permissions => "the credentials lack DLI permissions for this project (IAM policy)",
        Check::JobAndProject => {
            "check the job id and --project-id / HUAWEICLOUD_SDK_PROJECT_ID, that --region or --endpoint points at the job's region, and --job-type (a SQL job, or a Spark batch)"
        }
        Check::HostName => "check --region or --endpoint, and this machine's DNS",
        Check::Address => "check --endpoint, and that the service is up",
        Check::RequestTimeout => "a slow service needs a longer --request-timeout",
        Check::RequestRate => "--max-requests-per-second is shared by all jobs",
        Check::TlsTrust => {
            "this machine does not trust the authority that signed the endpoint's certificate: for a private CA set SSL_CERT_FILE to its PEM file (or SSL_CERT_DIR to a directory of them), or add it to the system's trust store; or check --endpoint"
        }
        Check::RequestValues => {
            "check --endpoint, --project-id / HUAWEICLOUD_SDK_PROJECT_ID, the job id and the HUAWEICLOUD_SDK_* credentials for control characters, non-ASCII text or an absurd length"
        }
        Check::Federation => {
            "check HUAWEICLOUD_SDK_IDP_ID (the identity provider's name in IAM), that the ID token in HUAWEICLOUD_SDK_ID_TOKEN_FILE is current and issued for the client ID (audience) the provider expects, the provider's identity conversion rules, and HUAWEICLOUD_SDK_IAM_ENDPOINT or --region"
        }
        Check::Metadata => {
            "check that this ECS has an agency with DLI permissions (ECS console: Management Information, Agency) and that its metadata service answers (DLI_WAIT_METADATA_ENDPOINT, default http://169.254.169.254); DLI_WAIT_ECS_METADATA=0 stops asking it"
        }
    }
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
    Timeout,
    Stall,
    Signal,
}

/// How long and how often.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "How long and how often")]
pub struct TimingArgs {
    /// Overall deadline for the whole wait, e.g. `--timeout 2h`; `off` waits forever.
    #[arg(long, value_name = "DURATION", default_value = "6h", value_parser = parse_limit)]
    pub timeout: Limit,
    /// Fail when a RUNNING job's task and stage counts have not moved for this long,
    /// e.g. `--stall-timeout 20m`; `off` disables. Spark batches report no task counts, so
    /// it does not apply to them (their progress line says how long a batch has been
    /// STARTING, queued for resources, instead).
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = parse_limit)]
    pub stall_timeout: Limit,
    /// The first delay between polls, e.g. `--poll-interval 5s`, and again after each change
    /// of state or sub-job; later delays follow --poll-policy, within --max-poll-interval.
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_duration)]
    pub poll_interval: Duration,
    /// The cap on the delay between polls, e.g. `--max-poll-interval 30s` (shorter: quicker
    /// to notice a failure mid-way, more calls).
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = parse_duration)]
    pub max_poll_interval: Duration,
    /// How to space polls: `eta` aims at the running sub-job's predicted end from its task
    /// counts; `exponential` only doubles the delay, e.g. `--poll-policy exponential`.
    #[arg(long, value_enum, default_value_t = PollPolicy::Eta, value_name = "POLICY")]
    pub poll_policy: PollPolicy,
    /// Limit for one HTTP request, e.g. `--request-timeout 10s`; a slow answer is a transient
    /// fault and is retried.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub request_timeout: Duration,
    /// While the service has never answered in this run, how long to retry connection
    /// failures (DNS, refused, no route) before exit 2, e.g. `--unreachable-timeout 2m`; once
    /// it has answered they are retried until --timeout. `off` retries until --timeout.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_limit)]
    pub unreachable_timeout: Limit,
    /// Cancel the job (DELETE) when the wait ends this way, e.g. `--cancel-on timeout,stall`.
    #[arg(long, value_name = "WHEN", value_delimiter = ',', value_enum)]
    pub cancel_on: Vec<CancelWhen>,
    /// With several jobs, stop waiting as soon as one ends without FINISHED (and with
    /// --cancel-on, cancel the others).
    #[arg(long)]
    pub fail_fast: bool,
    /// Limit on requests per second across all jobs of this process, e.g.
    /// `--max-requests-per-second 5` (DLI's gateway throttles with HTTP 429 beyond its quota).
    #[arg(long, value_name = "N", default_value_t = 10.0, value_parser = parse_rate)]
    pub max_requests_per_second: f64,
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
        Defaults::parse_from(["dli-wait"]).timing
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
    #[arg(long, value_enum, default_value_t = OutputFormat::Human, value_name = "FORMAT")]
    pub output: OutputFormat,
    /// More diagnostics on stderr (-v requests, -vv bodies); RUST_LOG also works.
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only the closing line of each job.
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Off a terminal, the longest silence before a "still waiting" line, e.g. `--heartbeat 5m`.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub heartbeat: Duration,
    /// Also write the final JSON summary to this file (atomically: write, then rename), for
    /// alerting scripts, e.g. `--summary-file /var/lib/nightly/last.json`.
    #[arg(long, value_name = "PATH")]
    pub summary_file: Option<PathBuf>,
    /// Speak GitHub Actions (outputs, step summary, annotations); on by itself when
    /// GITHUB_ACTIONS=true.
    #[arg(long)]
    pub github: bool,
    /// Also write what was seen of each job (its polls: time, state, sub-job, task counts) as
    /// a simulator scenario, to replay with `dli-wait simulate --scenario FILE` or the
    /// policy benchmark's `--corpus`, e.g. `--record runs/$(date +%F).json`.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
}

impl Default for OutputArgs {
    /// The defaults `--help` shows, read from the flags' own declarations.
    fn default() -> Self {
        #[derive(Parser)]
        struct Defaults {
            #[command(flatten)]
            output: OutputArgs,
        }
        Defaults::parse_from(["dli-wait"]).output
    }
}

/// `dli-wait run`: submit, then wait.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  dli-wait run --region cn-north-4 --queue etl --sql-file nightly.sql --summary-file last.json
  echo 'SELECT count(*) FROM sales.orders' | dli-wait run --queue default --sql-file -
  dli-wait run --sql \"INSERT INTO t SELECT * FROM s\" --cancel-on timeout,stall,signal --timeout 4h
  A=$(dli-wait run --no-wait --sql-file a.sql); B=$(dli-wait run --no-wait --sql-file b.sql)
  dli-wait -- \"$A\" \"$B\"                          # submit several, then wait for all
  dli-wait run --spark-file transform.json --timeout 4h  # a Spark batch (POST .../batches)

The job id is the first line of stdout the moment DLI accepts the submit (in every output
mode; with --output json the JSON lines follow it), so JOB=$(dli-wait run --no-wait ...)
captures it. The submit is sent once and never retried (a lost answer could otherwise run the
job twice). A submit DLI refuses, e.g. for bad
SQL, exits 1 with DLI's reason; otherwise the exit status is that of waiting (dli-wait --help).

--spark-file takes the JSON body of POST /v2.0/{project_id}/batches as DLI's console exports
it: an object with at least \"file\" and \"className\" (and \"queue\"); it is checked before
anything is sent.")]
pub struct RunArgs {
    /// The SQL to run, e.g. `--sql "INSERT INTO t SELECT * FROM s"`.
    #[arg(
        long,
        value_name = "SQL",
        conflicts_with_all = ["sql_file", "spark_file"],
        required_unless_present_any = ["sql_file", "spark_file"],
        allow_hyphen_values = true
    )]
    pub sql: Option<String>,
    /// Read the SQL from a file (`-` for stdin), e.g. `--sql-file nightly.sql`.
    #[arg(long, value_name = "PATH", conflicts_with = "spark_file")]
    pub sql_file: Option<PathBuf>,
    /// Submit a Spark batch job instead: the JSON body of POST /v2.0/{project_id}/batches in
    /// this file (`-` for stdin), e.g. `--spark-file transform.json`; its queue is the body's
    /// "queue".
    #[arg(
        long,
        value_name = "PATH",
        conflicts_with_all = ["queue", "database", "conf"]
    )]
    pub spark_file: Option<PathBuf>,
    /// The queue to run on, e.g. `--queue default`.
    #[arg(long, value_name = "NAME")]
    pub queue: Option<String>,
    /// The database the SQL runs in, e.g. `--database sales`.
    #[arg(long, value_name = "DB")]
    pub database: Option<String>,
    /// A Spark/DLI setting for the job, repeatable, e.g. `--conf dli.sql.shuffle.partitions=200`.
    #[arg(long, value_name = "KEY=VALUE")]
    pub conf: Vec<String>,
    /// Submit, print the job id and exit 0 without waiting (wait later with `dli-wait ID`),
    /// e.g. `JOB=$(dli-wait run --no-wait --sql-file load.sql)`.
    #[arg(long)]
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
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub listen: std::net::SocketAddr,
    /// A scenario file scripting the jobs, e.g. `--scenario examples/scenarios/default.json`.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Replay faster (sim seconds per real second), e.g. `--speed 60`; overrides the file's.
    #[arg(long, value_name = "FACTOR")]
    pub speed: Option<f64>,
    /// How to print the connection details: `human` (how to point dli-wait at it) or `json`
    /// (one line: endpoint, project id, keys, jobs), e.g. `--output json`.
    #[arg(
        long,
        value_enum,
        default_value_t = OutputFormat::Human,
        value_name = "FORMAT",
        hide_possible_values = true
    )]
    pub output: OutputFormat,
    /// Log every request on stderr (-v).
    #[arg(short, long, action = clap::ArgAction::Count)]
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
        hide_possible_values = true
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

/// A configuration problem: exit 2 with this one line.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "no job id given: run `dli-wait [OPTIONS] <JOB_ID>...` (see --help), or `dli-wait demo` to try it without a cloud account"
    )]
    NoJobs,
    #[error("missing configuration: {0}")]
    Missing(String),
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    #[error("bad --endpoint {0:?}: {1}")]
    Endpoint(String, String),
    #[error("bad --region {0:?}: expected a region id such as cn-north-4")]
    Region(String),
    #[error(
        "--max-poll-interval ({max}) is shorter than --poll-interval ({first}): make it at least as long"
    )]
    Intervals { first: String, max: String },
    #[error(
        "{what} has a character an HTTP header cannot carry (a control character or non-ASCII text, character {position}): set it again without it"
    )]
    Unsendable { what: String, position: usize },
    /// A credential source set up wrongly (half a pair, an unreadable file, a bad URL).
    #[error("{0}")]
    CredentialSource(String),
    #[error("{0}")]
    Trust(String),
    /// A project id that is not one (it would not be one path segment of the requests).
    #[error(
        "bad project id from {from}: {why}; set it to the project id of the job's region (32 hex digits, on the console's My Credentials page)"
    )]
    ProjectId { from: &'static str, why: String },
}

/// The trust file variable of rustls-native-certs (and OpenSSL).
pub const ENV_SSL_CERT_FILE: &str = "SSL_CERT_FILE";
/// Its directory variable: every regular file in it is read (`:`-separated on Unix).
pub const ENV_SSL_CERT_DIR: &str = "SSL_CERT_DIR";
/// Check `SSL_CERT_DIR` when it is set: the TLS library reads every regular file of each
/// directory whole, so their sizes together must stay within the trust file's limit.
fn check_trust_dir(get: &impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
    let Some(dirs) = get(ENV_SSL_CERT_DIR) else {
        return Ok(());
    };
    let var = ENV_SSL_CERT_DIR;
    let mut total: u64 = 0;
    for dir in std::env::split_paths(&dirs).filter(|p| !p.as_os_str().is_empty()) {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            // Not there or unreadable: the TLS library says so on the first request.
            continue;
        };
        for entry in entries.flatten() {
            // As the library does: symbolic links followed, regular files only.
            if let Ok(m) = std::fs::metadata(entry.path())
                && m.is_file()
            {
                total = total.saturating_add(m.len());
            }
        }
        if total > TRUST_FILE.bytes {
            return Err(ConfigError::Trust(format!(
                "{var} {dir:?}: its files are larger than {} together, the most dli-wait reads as {}: set it to a directory of the certificate authorities to trust only, or unset it",
                crate::dli::bounded::size(TRUST_FILE.bytes),
                TRUST_FILE.of
            )));
        }
    }
    Ok(())
}

/// Check `SSL_CERT_FILE` when it is set: a file that cannot be read or holds no certificate
/// would otherwise silently replace the system's trust store with nothing.
fn check_trust_file(get: &impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
    let Some(path) = get(ENV_SSL_CERT_FILE) else {
        return Ok(());
    };
    let var = ENV_SSL_CERT_FILE;
    if path.trim().is_empty() {
        return Err(ConfigError::Trust(format!(
            "{var} is set but empty: unset it, or set it to a PEM file of the certificate authorities to trust"
        )));
    }
    // The TLS library (rustls-native-certs) reads the file again, whole and blocking: only
    // a regular file within the limit is handed over.
    let pem = crate::dli::bounded::read(std::path::Path::new(&path), TRUST_FILE).map_err(|e| {
        ConfigError::Trust(format!(
            "cannot read {var} {path:?}: {e}; set it to a readable PEM file of the certificate authorities to trust, or unset it"
        ))
    })?;
    if !std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
        return Err(ConfigError::Trust(format!(
            "{var} {path:?} is not a regular file (a FIFO or a device cannot be read twice): set it to a PEM file of the certificate authorities to trust, or unset it"
        )));
    }
    crate::dli::client::trust_file_certificates(&pem).map_err(|why| {
        ConfigError::Trust(format!(
            "{var} {path:?} cannot be used: {why}; set it to a PEM file of the certificate authorities to trust, or unset it"
        ))
    })?;
    Ok(())
}

/// Check that what goes into request headers can be sent: the project id (`X-Project-Id`),
/// and what the credential source puts there (the access key in `Authorization`, the tokens
/// in `X-Auth-Token` and `X-Security-Token`, an identity provider in `X-Idp-Id`). Says which
/// variable or file key, never its value.
fn check_header_values(project_id: &str, source: &[(String, String)]) -> Result<(), ConfigError> {
    let mut values = vec![(
        "HUAWEICLOUD_SDK_PROJECT_ID (or --project-id)".to_string(),
        project_id.to_string(),
    )];
    values.extend_from_slice(source);
    match chain::unsendable(&values) {
        Some((what, position)) => Err(ConfigError::Unsendable { what, position }),
        None => Ok(()),
    }
}

/// The region, for IAM's endpoint: `--region`, or the one in a DLI endpoint's host name
/// (`dli.<region>.myhuaweicloud.com`).
fn region_of(target: &TargetArgs) -> Option<String> {
    if let Some(r) = target
        .region
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        return Some(r.to_string());
    }
    let url = Url::parse(target.endpoint.as_deref()?.trim()).ok()?;
    let host = url.host_str()?;
    let rest = host.strip_prefix("dli.")?;
    let (region, domain) = rest.split_once('.')?;
    matches!(domain, "myhuaweicloud.com" | "myhuaweicloud.eu").then(|| region.to_string())
}

/// Everything a wait needs, resolved and checked.
#[derive(Debug, Clone)]
pub struct Settings {
    pub client: ClientConfig,
    pub wait: WaitConfig,
    pub poll_interval: Duration,
    pub max_poll_interval: Duration,
    pub poll_policy: PollPolicy,
    pub fail_fast: bool,
    pub max_requests_per_second: f64,
}

impl Settings {
    /// A fresh delay policy for one job's wait.
    pub fn policy(&self) -> Box<dyn crate::wait::policy::DelayPolicy> {
        use crate::wait::policy::{Eta, Exponential};
        match self.poll_policy {
            PollPolicy::Eta => Box::new(Eta::new(self.poll_interval, self.max_poll_interval)),
            PollPolicy::Exponential => {
                Box::new(Exponential::new(self.poll_interval, self.max_poll_interval))
            }
        }
    }
}

/// The DLI endpoint for a region (the SDK's region table has one exception).
pub fn region_endpoint(region: &str) -> Result<Url, ConfigError> {
    let r = region.trim();
    let valid = !r.is_empty()
        && r.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid {
        return Err(ConfigError::Region(region.to_string()));
    }
    let domain = if r == "eu-west-101" {
        "myhuaweicloud.eu"
    } else {
        "myhuaweicloud.com"
    };
    Url::parse(&format!("https://dli.{r}.{domain}"))
        .map_err(|e| ConfigError::Region(format!("{region} ({e})")))
}

/// Where an endpoint's userinfo (`user:password@`) is, if it has one: from after `scheme://`
/// (or the start) to the last `@` of the authority.
fn userinfo_span(raw: &str) -> Option<(usize, usize)> {
    let start = raw.find("://").map_or(0, |i| i + 3);
    let authority_end = raw[start..]
        .find(['/', '?', '#'])
        .map_or(raw.len(), |i| start + i);
    let at = raw[start..authority_end].rfind('@')? + start;
    Some((start, at))
}

/// An endpoint as messages may show it: any userinfo replaced by `***`.
pub fn redact_endpoint(raw: &str) -> String {
    match userinfo_span(raw) {
        Some((start, at)) => format!("{}***{}", &raw[..start], &raw[at..]),
        None => raw.to_string(),
    }
}

/// The secrets an endpoint carries in its userinfo (the whole of it, and the password or a
/// lone user name, decoded too), to scrub from every output. Such an endpoint is refused, but
/// its parts must not show anywhere meanwhile.
pub fn endpoint_secrets(raw: &str) -> Vec<String> {
    let Some((start, at)) = userinfo_span(raw) else {
        return Vec::new();
    };
    let userinfo = &raw[start..at];
    let part = match userinfo.split_once(':') {
        Some((_, password)) => password,
        None => userinfo,
    };
    let mut out = vec![userinfo.to_string(), part.to_string()];
    for s in [userinfo, part] {
        let decoded = percent_encoding::percent_decode_str(s).decode_utf8_lossy();
        out.push(decoded.into_owned());
    }
    out.retain(|s| !s.is_empty());
    out
}

/// Check an `--endpoint`: https anywhere, plain http only on loopback. Messages never echo
/// the endpoint's userinfo.
pub fn parse_endpoint(raw: &str) -> Result<Url, ConfigError> {
    let bad = |why: &str| ConfigError::Endpoint(redact_endpoint(raw), why.to_string());
    let url = Url::parse(raw.trim()).map_err(|e| {
        bad(&format!(
            "{e}; write a URL such as https://dli.cn-north-4.myhuaweicloud.com"
        ))
    })?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("a base URL takes no query or fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "credentials do not belong in the URL; use the HUAWEICLOUD_SDK_* variables",
        ));
    }
    if url.host().is_none() {
        return Err(bad("no host"));
    }
    let loopback = crate::dli::client::is_loopback(&url);
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        "http" => Err(bad(
            "plain http:// is only allowed for loopback hosts (127.0.0.1, ::1, localhost); use https://",
        )),
        other => Err(bad(&format!(
            "unsupported scheme {other}:// (use https://)"
        ))),
    }
}

impl TimingArgs {
    fn wait_config(&self) -> WaitConfig {
        let on = |w| self.cancel_on.contains(&w);
        WaitConfig {
            timeout: self.timeout.get(),
            stall_timeout: self.stall_timeout.get(),
            cancel_on: CancelOn {
                timeout: on(CancelWhen::Timeout),
                stall: on(CancelWhen::Stall),
                signal: on(CancelWhen::Signal),
            },
            fallback_after: DEFAULT_FALLBACK_AFTER,
            unreachable_after: self.unreachable_timeout.get(),
        }
    }
}

/// Turn flags plus the environment (`get`) into settings, or one clear error.
pub fn resolve(
    target: &TargetArgs,
    timing: &TimingArgs,
    get: impl Fn(&str) -> Option<String>,
) -> Result<Settings, ConfigError> {
    let mut missing = Vec::new();
    // The credential chain (docs: dli::credentials::chain), read from `get` and files.
    let read = |p: &std::path::Path| {
        crate::dli::bounded::read_string(p, crate::dli::bounded::CREDENTIALS_FILE)
            .map_err(std::io::Error::from)
    };
    let mut nothing = None;
    let chosen = match chain::choose(&get, &read, region_of(target).as_deref()) {
        Ok(c) => Some(c),
        Err(ChainError::Nothing(why)) => {
            nothing = Some(why);
            None
        }
        Err(ChainError::Invalid(why)) => return Err(ConfigError::CredentialSource(why)),
    };
    let given = target
        .project_id
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            (
                p.to_string(),
                "HUAWEICLOUD_SDK_PROJECT_ID (or --project-id)",
            )
        });
    let project_id = given.or_else(|| {
        let p = chosen.as_ref()?.project_id.clone()?;
        Some((p, "the credentials file's project_id"))
    });
    // One check for every source: the id is one segment of every request's path.
    if let Some((p, from)) = &project_id
        && let Some(why) = crate::dli::job_id::project_id_problem(p)
    {
        return Err(ConfigError::ProjectId { from, why });
    }
    let project_id = project_id.map(|(p, _)| p);
    if project_id.is_none() {
        missing.push("HUAWEICLOUD_SDK_PROJECT_ID (or --project-id)");
    }
    let endpoint = match (&target.endpoint, &target.region) {
        (Some(e), _) if !e.trim().is_empty() => Some(parse_endpoint(e)?),
        (_, Some(r)) if !r.trim().is_empty() => Some(region_endpoint(r)?),
        _ => {
            missing.push("HUAWEICLOUD_SDK_REGION (or --region, or --endpoint)");
            None
        }
    };
    let (Some(chosen), Some(project_id), Some(endpoint)) = (chosen, project_id, endpoint) else {
        let mut parts: Vec<String> = nothing.into_iter().collect();
        if !missing.is_empty() {
            parts.push(format!("set {}", missing.join(", ")));
        }
        return Err(ConfigError::Missing(parts.join("; ")));
    };
    check_header_values(&project_id, &chosen.header_values)?;
    check_trust_file(&get)?;
    check_trust_dir(&get)?;
    if timing.max_poll_interval < timing.poll_interval {
        return Err(ConfigError::Intervals {
            first: crate::dli::human::duration(timing.poll_interval),
            max: crate::dli::human::duration(timing.max_poll_interval),
        });
    }
    let credentials = chosen
        .into_provider(timing.request_timeout)
        .map_err(ConfigError::CredentialSource)?;
    Ok(Settings {
        client: ClientConfig {
            endpoint,
            project_id,
            credentials,
            request_timeout: timing.request_timeout,
        },
        wait: timing.wait_config(),
        poll_interval: timing.poll_interval,
        max_poll_interval: timing.max_poll_interval,
        poll_policy: timing.poll_policy,
        fail_fast: timing.fail_fast,
        max_requests_per_second: timing.max_requests_per_second,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(o.summary_file.is_none() && !o.github && o.record.is_none());
    }

    #[test]
    fn flag_names_in_messages_are_real_flags() {
        use clap::CommandFactory;
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
            flag::RECORD,
            flag::CONF,
            flag::SQL,
            flag::SQL_FILE,
            flag::SCENARIO,
            flag::SPEED,
            flag::LISTEN,
            flag::UNREACHABLE_TIMEOUT,
            flag::JOB_TYPE,
            flag::SPARK_FILE,
        ] {
            assert!(longs.iter().any(|l| l == f), "{f} is not a flag");
        }
        let names: Vec<&str> = cmd.get_subcommands().map(|c| c.get_name()).collect();
        assert_eq!(names, Command::NAMES);
    }

    #[test]
    fn endpoints_http_only_on_loopback() {
        assert!(parse_endpoint("http://127.0.0.1:8080").is_ok());
        assert!(parse_endpoint("http://[::1]:8080").is_ok());
        assert!(parse_endpoint("http://localhost:1").is_ok());
        assert!(parse_endpoint("https://dli.cn-north-4.myhuaweicloud.com").is_ok());
        let e = parse_endpoint("http://dli.example.com")
            .unwrap_err()
            .to_string();
        assert!(e.contains("loopback"), "{e}");
        assert!(parse_endpoint("not a url").is_err());
        assert!(parse_endpoint("ftp://x").is_err());
    }

    #[test]
    fn endpoint_userinfo_is_never_echoed() {
        for raw in [
            "https://user:hunter2@dli.example.com",
            "https://user:hunter2@127.0.0.1:1/path",
            "https://user:hunter2@",
            "user:hunter2@dli.example.com",
            "https://us%40er:hunter2@x@dli.example.com",
        ] {
            let e = parse_endpoint(raw).unwrap_err().to_string();
            assert!(!e.contains("hunter2") && !e.contains("user"), "{raw}: {e}");
            assert!(e.contains("***"), "{raw}: {e}");
        }
        assert_eq!(
            redact_endpoint("https://a:b@h/p@q"),
            "https://***@h/p@q".to_string()
        );
        assert_eq!(redact_endpoint("https://h/p@q"), "https://h/p@q");
        assert_eq!(
            endpoint_secrets("https://user:hunt%65r2@h"),
            ["user:hunt%65r2", "hunt%65r2", "user:hunter2", "hunter2"]
        );
        assert_eq!(
            endpoint_secrets("https://TOKEN@h"),
            ["TOKEN", "TOKEN", "TOKEN", "TOKEN"]
        );
        assert!(endpoint_secrets("https://h").is_empty());
    }

    #[test]
    fn regions_map_to_endpoints() {
        assert_eq!(
            region_endpoint("cn-north-4").unwrap().as_str(),
            "https://dli.cn-north-4.myhuaweicloud.com/"
        );
        assert_eq!(
            region_endpoint("eu-west-101").unwrap().host_str(),
            Some("dli.eu-west-101.myhuaweicloud.eu")
        );
        assert!(region_endpoint("cn north").is_err());
    }

    #[test]
    fn nothing_set_names_everything_to_set_in_one_line() {
        let e = resolve(&TargetArgs::default(), &TimingArgs::default(), |_| None)
            .unwrap_err()
            .to_string();
        assert!(!e.contains('\n'));
        for v in [
            "HUAWEICLOUD_SDK_AK",
            "HUAWEICLOUD_SDK_PROJECT_ID",
            "HUAWEICLOUD_SDK_REGION",
        ] {
            assert!(e.contains(v), "{e}");
        }
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
