//! The command line's words, as messages and the help say them: flag names ([`flag`]), what to
//! check about a fault ([`hint`]), and the text after `--help`'s options ([`after_help`]).

use crate::dli::fault::Check;

/// The text after `--help`'s options: examples, where credentials come from, and what each
/// exit status means.
pub fn after_help() -> String {
    let demo = if cfg!(feature = "simulator") {
        DEMO_EXAMPLE
    } else {
        ""
    };
    format!(
        "{EXAMPLES}{demo}\n\n{CREDENTIALS}\n\n{}",
        crate::wait::outcome::exit_status_help()
    )
}

const EXAMPLES: &str = "\
Examples:
  # credentials come from the environment only, never from flags
  export HUAWEICLOUD_SDK_AK=... HUAWEICLOUD_SDK_SK=...
  export HUAWEICLOUD_SDK_PROJECT_ID=0123456789abcdef0123456789abcdef
  dli-wait --region cn-north-4 85798b38-ae44-48eb-bb90-7cf0dcdafe7b
  dli-wait --region cn-north-4 --timeout 2h --stall-timeout 30m --cancel-on timeout,stall JOB_ID
  dli-wait --output json JOB_A JOB_B | tail -n1        # the summary line
  dli-wait --job-type spark BATCH_ID                   # a Spark batch job
  dli-wait --job-type flink 50320                      # a Flink job (integer id) until it ends
  dli-wait --job-type flink --until running --settle 2m --timeout 15m 50320
                                                       # deploy gate: running, and for 2 minutes
  dli-wait --job-type flink --max-restarts 3 --cancel-on timeout,stall --savepoint 50320
  dli-wait --results --result-format csv JOB_ID > rows.csv   # a finished query's rows
  dli-wait run --queue etl --fail-if-rows --sql-file check.sql  # rows in its result: exit 6";

/// Only where the simulator is built in.
const DEMO_EXAMPLE: &str = "
  dli-wait demo                                        # try it without a cloud account";

const CREDENTIALS: &str = "\
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
  Temporary keys are renewed before they expire; -v says which source was used.";

/// Flag names as messages say them (checked against the parser by a test).
pub mod flag {
    pub const TIMEOUT: &str = "--timeout";
    pub const STALL_TIMEOUT: &str = "--stall-timeout";
    pub const FAIL_FAST: &str = "--fail-fast";
    pub const RESULTS: &str = "--results";
    pub const RESULT_FORMAT: &str = "--result-format";
    pub const FAIL_IF_ROWS: &str = "--fail-if-rows";
    pub const QUEUE: &str = "--queue";
    pub const REQUEST_TIMEOUT: &str = "--request-timeout";
    pub const MAX_REQUESTS_PER_SECOND: &str = "--max-requests-per-second";
    pub const REGION: &str = "--region";
    pub const ENDPOINT: &str = "--endpoint";
    pub const PROJECT_ID: &str = "--project-id";
    pub const SUMMARY_FILE: &str = "--summary-file";
    #[cfg(feature = "simulator")]
    pub const RECORD: &str = "--record";
    pub const CONF: &str = "--conf";
    pub const SQL: &str = "--sql";
    pub const SQL_FILE: &str = "--sql-file";
    pub const NO_WAIT: &str = "--no-wait";
    #[cfg(feature = "simulator")]
    pub const SCENARIO: &str = "--scenario";
    #[cfg(feature = "simulator")]
    pub const SPEED: &str = "--speed";
    #[cfg(feature = "simulator")]
    pub const LISTEN: &str = "--listen";
    pub const UNREACHABLE_TIMEOUT: &str = "--unreachable-timeout";
    pub const JOB_TYPE: &str = "--job-type";
    pub const SPARK_FILE: &str = "--spark-file";
    pub const IDEMPOTENCY_KEY: &str = "--idempotency-key";
    pub const CANCEL_ON: &str = "--cancel-on";
    pub const UNTIL: &str = "--until";
    pub const SETTLE: &str = "--settle";
    pub const MAX_RESTARTS: &str = "--max-restarts";
    pub const SAVEPOINT: &str = "--savepoint";
    pub const EXPECT: &str = "--expect";
    pub const POLL_POLICY: &str = "--poll-policy";
}

/// What to check about a fault, in this command line's words.
pub fn hint(check: Check) -> &'static str {
    match check {
        Check::Credentials => {
            "check the keys or token of that source (and that temporary ones have not expired), and that this machine's clock is within 15 minutes of real time (X-Sdk-Date)"
        }
        Check::Permissions => "the credentials lack DLI permissions for this project (IAM policy)",
        Check::JobAndProject => {
            "check the job id and --project-id / HUAWEICLOUD_SDK_PROJECT_ID, that --region or --endpoint points at the job's region, and --job-type (a SQL job, or a Spark batch)"
        }
        Check::Submission => {
            "check what the submit names: --queue, --database and the tables of the SQL (for a Spark batch: its file's queue, file and className), --project-id / HUAWEICLOUD_SDK_PROJECT_ID, and that --region or --endpoint points at their region"
        }
        Check::HostName => "check --region or --endpoint, and this machine's DNS",
        Check::Address => "check --endpoint, and that the service is up",
        Check::RequestTimeout => "a slow service needs a longer --request-timeout",
        Check::RequestRate => "--max-requests-per-second is shared by all jobs",
        Check::OwnQueue => {
            "DLI gives no results of jobs on its `default` queue (\"Do not support use default queue to getJobResult\"): run the query on a queue of your own (--queue NAME)"
        }
        Check::TlsTrust => {
            "this machine does not trust the authority that signed the endpoint's certificate: for a private CA set SSL_CERT_FILE to its PEM file (or SSL_CERT_DIR to a directory of them), or add it to the system's trust store; or check --endpoint"
        }
        Check::RequestValues => {
            "check --endpoint, --project-id / HUAWEICLOUD_SDK_PROJECT_ID, the job id and the HUAWEICLOUD_SDK_* credentials for control characters, non-ASCII text or an absurd length"
        }
        Check::Federation => {
            "check HUAWEICLOUD_SDK_IDP_ID (the identity provider's name in IAM; the Action's identity-provider input), that the ID token in HUAWEICLOUD_SDK_ID_TOKEN_FILE (the Action fetches it itself) is current and issued for the client ID the provider expects (the Action's audience input), that the provider's signing key is the issuer's current one (GitHub rotates its keys: paste https://token.actions.githubusercontent.com/.well-known/jwks into the provider's signing key again), the provider's identity conversion rules (the token's sub), and HUAWEICLOUD_SDK_IAM_ENDPOINT or --region"
        }
        Check::Metadata => {
            "check that this ECS has an agency with DLI permissions (ECS console: Management Information, Agency) and that its metadata service answers (DLI_WAIT_METADATA_ENDPOINT, default http://169.254.169.254); DLI_WAIT_ECS_METADATA=0 stops asking it"
        }
    }
}
