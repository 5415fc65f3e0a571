//! The DLI API's JSON bodies as typed values (serde), every documented field kept.
//! Knows the wire format only: nothing of HTTP, signing or waiting.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;

/// A job's status: a SQL job's (`LAUNCHING` … `CANCELLED`) or a Spark batch's state
/// (`starting`, `running`, `recovering`, `success`, `dead`; read by [`JobStatus::from_spark`]).
/// Unknown values (DLI has more than its SDK enums list) are kept as text and treated as "not
/// ended yet", so a new state can never end a wait by mistake.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum JobStatus {
    #[default]
    Launching,
    Running,
    Scaling,
    Finished,
    Failed,
    Cancelled,
    /// A Spark batch waiting for resources (`starting`).
    Starting,
    /// A Spark batch being restored (`recovering`): not ended.
    Recovering,
    /// A Spark batch that ended well (`success`).
    Success,
    /// A Spark batch that ended otherwise (`dead`): failed, or killed by a cancel.
    Dead,
    /// A Flink job's `status` (`job_running`, …): what each means is [`FLINK_STATES`].
    Flink(FlinkState),
    Other(String),
}

/// Where a job is in its life, whatever its kind: what the machine asks of a status (the
/// one mapping of each kind's states is [`JobStatus::phase`]; Flink's is its table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Not running yet, or not now (queued, submitting, restoring, being stopped), or a
    /// status this version does not know: not ended.
    Waiting,
    /// Running (what `--until running` waits for).
    Running,
    /// Ended, this way.
    Ended(Ending),
}

/// How a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Finished,
    Failed,
    Cancelled,
}

impl JobStatus {
    pub fn as_str(&self) -> &str {
        match self {
            JobStatus::Launching => "LAUNCHING",
            JobStatus::Running => "RUNNING",
            JobStatus::Scaling => "SCALING",
            JobStatus::Finished => "FINISHED",
            JobStatus::Failed => "FAILED",
            JobStatus::Cancelled => "CANCELLED",
            JobStatus::Starting => "STARTING",
            JobStatus::Recovering => "RECOVERING",
            JobStatus::Success => "SUCCESS",
            JobStatus::Dead => "DEAD",
            JobStatus::Flink(f) => f.wire(),
            JobStatus::Other(s) => s,
        }
    }

    /// Where the job is: RUNNING and SCALING (a SQL job), `running` (a Spark batch) and
    /// Flink's running states run; FINISHED, FAILED and CANCELLED end a SQL job, `success`
    /// and `dead` a Spark batch, Flink's final states a Flink job ([`FLINK_STATES`]);
    /// everything else, unknown text included, waits.
    pub fn phase(&self) -> Phase {
        match self {
            JobStatus::Running | JobStatus::Scaling => Phase::Running,
            JobStatus::Finished | JobStatus::Success => Phase::Ended(Ending::Finished),
            JobStatus::Failed | JobStatus::Dead => Phase::Ended(Ending::Failed),
            JobStatus::Cancelled => Phase::Ended(Ending::Cancelled),
            JobStatus::Flink(f) => f.phase(),
            JobStatus::Launching
            | JobStatus::Starting
            | JobStatus::Recovering
            | JobStatus::Other(_) => Phase::Waiting,
        }
    }

    /// How the job ended, if it has.
    pub fn ending(&self) -> Option<Ending> {
        match self.phase() {
            Phase::Ended(e) => Some(e),
            _ => None,
        }
    }

    /// The job has ended (see [`JobStatus::phase`]); everything else, unknown text
    /// included, has not.
    pub fn is_terminal(&self) -> bool {
        self.ending().is_some()
    }

    /// A Spark batch's `state`, compared without ASCII case (one of DLI's examples writes
    /// `"Success"`) after trimming ASCII whitespace only (`"\u{3000}success"` is no state of
    /// DLI's). Only Spark's five states are known here: a SQL word such as `FINISHED`
    /// is unknown text, as Spark's words are to [`JobStatus::from`] (SQL's reading).
    pub fn from_spark(s: &str) -> Self {
        match s.trim_ascii().to_ascii_lowercase().as_str() {
            "starting" => JobStatus::Starting,
            "running" => JobStatus::Running,
            "recovering" => JobStatus::Recovering,
            "success" => JobStatus::Success,
            "dead" => JobStatus::Dead,
            _ => JobStatus::other(s),
        }
    }

    /// FAILED, or a Spark batch `dead`: the endings that no other word in the same answer can
    /// make worse (see `fault::classify`).
    pub fn is_failure(&self) -> bool {
        self.ending() == Some(Ending::Failed)
    }

    /// Unknown text as kept: at most [`MAX_STATUS_CHARS`] characters of it, so that a
    /// megabyte of "status" costs no more than a word.
    pub(super) fn other(s: &str) -> Self {
        JobStatus::Other(match s.char_indices().nth(MAX_STATUS_CHARS) {
            Some((i, _)) => format!("{}…", &s[..i]),
            None => s.to_string(),
        })
    }

    /// Whether this final state, seen after DLI accepted our cancel, is the cancel taking: a
    /// SQL job shows CANCELLED (a Flink job `job_cancel_success`); a Spark batch has no such
    /// state and shows `dead`.
    pub fn confirms_cancel(&self) -> bool {
        matches!(self, JobStatus::Dead) || self.ending() == Some(Ending::Cancelled)
    }
}

/// A Flink job's `status`, as DLI's API reference and the SDK's `FlinkJob` list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlinkState {
    Init,
    Submitting,
    SubmitFail,
    Running,
    RunningException,
    Downloading,
    Idle,
    Canceling,
    CancelSuccess,
    CancelFail,
    Savepointing,
    ArrearageStopped,
    ArrearageRecovering,
    Finish,
}

/// One row of [`FLINK_STATES`].
#[derive(Debug, Clone, Copy)]
pub struct FlinkRow {
    pub state: FlinkState,
    /// The word on the wire.
    pub wire: &'static str,
    pub phase: Phase,
    /// What the state means, in words: an ending's reason when DLI's `status_desc` says none.
    pub says: &'static str,
}

const fn row(state: FlinkState, wire: &'static str, phase: Phase, says: &'static str) -> FlinkRow {
    FlinkRow {
        state,
        wire,
        phase,
        says,
    }
}

/// Every Flink state and where it puts the job: the one place that decides (README "Flink
/// jobs" shows this table). `job_running_exception` is final: DLI's API reference says of it
/// "the billing stops; the job stops running due to an exception"; a job DLI brings back
/// (its "auto restart upon exception") shows as `restart_times` growing
/// (`--max-restarts`). `job_savepointing` runs (Flink takes a savepoint while it
/// processes); `job_cancel_fail` waits (the stop failed: the job's own next state decides).
pub const FLINK_STATES: [FlinkRow; 14] = {
    use FlinkState as F;
    use Phase::{Ended, Running, Waiting};
    [
        row(F::Init, "job_init", Waiting, "a draft, not submitted"),
        row(F::Submitting, "job_submitting", Waiting, "being submitted"),
        row(
            F::SubmitFail,
            "job_submit_fail",
            Ended(Ending::Failed),
            "the job could not be submitted",
        ),
        row(F::Running, "job_running", Running, "running"),
        row(
            F::RunningException,
            "job_running_exception",
            Ended(Ending::Failed),
            "the job stopped running because of an exception",
        ),
        row(
            F::Downloading,
            "job_downloading",
            Waiting,
            "being downloaded",
        ),
        row(F::Idle, "job_idle", Waiting, "idle"),
        row(F::Canceling, "job_canceling", Waiting, "being stopped"),
        row(
            F::CancelSuccess,
            "job_cancel_success",
            Ended(Ending::Cancelled),
            "the job was stopped",
        ),
        row(F::CancelFail, "job_cancel_fail", Waiting, "the stop failed"),
        row(
            F::Savepointing,
            "job_savepointing",
            Running,
            "taking a savepoint",
        ),
        row(
            F::ArrearageStopped,
            "job_arrearage_stopped",
            Ended(Ending::Failed),
            "the account is in arrears: DLI stopped the job",
        ),
        row(
            F::ArrearageRecovering,
            "job_arrearage_recovering",
            Waiting,
            "being restored after the account's arrears were paid",
        ),
        row(F::Finish, "job_finish", Ended(Ending::Finished), "finished"),
    ]
};

impl FlinkState {
    pub fn row(self) -> &'static FlinkRow {
        // Every state has its row (a test checks the table is complete and in order).
        &FLINK_STATES[self as usize]
    }
    pub fn wire(self) -> &'static str {
        self.row().wire
    }
    pub fn phase(self) -> Phase {
        self.row().phase
    }
    pub fn says(self) -> &'static str {
        self.row().says
    }
}

impl JobStatus {
    /// A Flink job's `status`, compared exactly after trimming ASCII whitespace, as DLI
    /// writes it (lower case). Anything else is unknown text, which never ends a wait.
    pub fn from_flink(s: &str) -> Self {
        let t = s.trim_ascii();
        FLINK_STATES
            .iter()
            .find(|r| r.wire == t)
            .map_or_else(|| JobStatus::other(s), |r| JobStatus::Flink(r.state))
    }
}

/// The most of an unknown status's text that is kept (and shown).
pub const MAX_STATUS_CHARS: usize = 64;

impl From<&str> for JobStatus {
    /// A SQL job's `status`, as the API and its SDKs write it: upper case, compared exactly
    /// after trimming ASCII whitespace (`"finished"` or `"\u{3000}FINISHED\u{a0}"` is unknown
    /// text, which never ends a wait).
    fn from(s: &str) -> Self {
        match s.trim_ascii() {
            "LAUNCHING" => JobStatus::Launching,
            "RUNNING" => JobStatus::Running,
            "SCALING" => JobStatus::Scaling,
            "FINISHED" => JobStatus::Finished,
            "FAILED" => JobStatus::Failed,
            "CANCELLED" => JobStatus::Cancelled,
            _ => JobStatus::other(s),
        }
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for JobStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for JobStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(JobStatus::from(s.as_str()))
    }
}

/// A body as JSON text whose strings all decode: bytes that are not UTF-8 (a GBK message)
/// become U+FFFD, and so does the escape of a lone surrogate (`\ud83d` with no low half: Java
/// cutting an emoji), which serde_json refuses to put in a `String`. Everything else is left
/// byte for byte; a body that needs neither is borrowed as it is.
pub fn lossy_json(body: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    use std::borrow::Cow;
    let text = String::from_utf8_lossy(body);
    if !text.contains("\\u") {
        return match text {
            Cow::Borrowed(_) => Cow::Borrowed(body),
            Cow::Owned(t) => Cow::Owned(t.into_bytes()),
        };
    }
    let b = text.as_bytes();
    // The four hex digits of a `\uXXXX` escape at `i` (the backslash), if it is one.
    let escape_at = |i: usize| -> Option<u16> {
        if b.get(i) != Some(&b'\\') || b.get(i + 1) != Some(&b'u') {
            return None;
        }
        let hex = std::str::from_utf8(b.get(i + 2..i + 6)?).ok()?;
        u16::from_str_radix(hex, 16).ok()
    };
    let mut out: Option<Vec<u8>> = None;
    let mut in_string = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let mut step = 1;
        let mut replace = false;
        if !in_string {
            in_string = c == b'"';
        } else if c == b'"' {
            in_string = false;
        } else if c == b'\\' {
            step = 2;
            if let Some(unit) = escape_at(i) {
                step = 6;
                match unit {
                    0xD800..=0xDBFF => match escape_at(i + 6) {
                        Some(0xDC00..=0xDFFF) => step = 12,
                        _ => replace = true,
                    },
                    0xDC00..=0xDFFF => replace = true,
                    _ => {}
                }
            }
        }
        let end = (i + step).min(b.len());
        if replace {
            out.get_or_insert_with(|| b[..i].to_vec())
                .extend_from_slice(b"\\ufffd");
        } else if let Some(out) = out.as_mut() {
            out.extend_from_slice(&b[i..end]);
        }
        i = end;
    }
    match (out, text) {
        (Some(out), _) => Cow::Owned(out),
        (None, Cow::Borrowed(_)) => Cow::Borrowed(body),
        (None, Cow::Owned(t)) => Cow::Owned(t.into_bytes()),
    }
}

/// The most of a text field (a message, a detail, a log line) that is kept: far more than a
/// reason needs, and a bound on what a wait holds and every output walks, whatever a server
/// sends (an answer may be 4 MiB). Cut at a character boundary, with `…`.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

/// `text` cut to [`MAX_TEXT_BYTES`].
pub fn cut_text(mut text: String) -> String {
    if text.len() > MAX_TEXT_BYTES {
        let mut end = MAX_TEXT_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

/// A text field, `null` as empty, cut to [`MAX_TEXT_BYTES`].
pub(crate) fn text_cut<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(cut_text(
        Option::<String>::deserialize(d)?.unwrap_or_default(),
    ))
}

/// An optional text field, cut to [`MAX_TEXT_BYTES`].
pub(crate) fn opt_text_cut<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(cut_text))
}

/// `"DLI.0999: queue busy"` → `Some("DLI.0999")`: `DLI.`, `APIGW.` or `APIG.` in any case and
/// at least four digits, so that a table named `DLI.orders` in a message is no error code. The
/// prefix comes back in upper case (`dli.0002` is `DLI.0002`).
pub fn extract_code(message: &str) -> Option<String> {
    let upper = message.to_ascii_uppercase();
    ["DLI.", "APIGW.", "APIG."]
        .iter()
        .filter_map(|prefix| {
            upper.match_indices(prefix).find_map(|(start, _)| {
                let after = start + prefix.len();
                let digits = upper[after..]
                    .bytes()
                    .take_while(u8::is_ascii_digit)
                    .count();
                (digits >= 4).then(|| (start, upper[start..after + digits].to_string()))
            })
        })
        .min()
        .map(|(_, code)| code)
}

/// `null` and a missing field both become the type's default.
pub(crate) fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// What every SQL API answer carries, success or not: `is_success` and `message`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// Missing or `null` counts as success, as in the SDKs.
    #[serde(default = "yes", deserialize_with = "null_true")]
    pub is_success: bool,
    #[serde(default, deserialize_with = "text_cut")]
    pub message: String,
}

impl Default for Envelope {
    /// A plain success.
    fn default() -> Self {
        Envelope {
            is_success: true,
            message: String::new(),
        }
    }
}

/// The JSON field a job body holds its status in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusField {
    /// `status`: the SQL APIs.
    Status,
    /// `state`: the Spark batch APIs.
    State,
}

/// An answer body: for the SQL APIs its envelope (`is_success`, `message`); for job bodies
/// the job's own status. Bodies of the Spark batch APIs have no envelope.
pub trait DliBody: serde::de::DeserializeOwned {
    /// Where a job body's status is: a body whose [`DliBody::job_status`] is `Some` must
    /// have this field as a string, or it is no answer.
    const STATUS_FIELD: StatusField = StatusField::Status;
    /// The SQL APIs' envelope; `None` for a body that has none.
    fn envelope(&self) -> Option<&Envelope>;
    /// The job's own status, when the body carries one.
    fn job_status(&self) -> Option<&JobStatus> {
        None
    }
    /// Whether this answer says the job has ended: a final status, or a submit that DLI ran
    /// while answering. Such an answer is believed only if nothing in it says the request
    /// failed (see `fault::classify`).
    fn claims_an_ending(&self) -> bool {
        self.job_status().is_some_and(JobStatus::is_terminal)
    }
    /// Whether the answer's own fields contradict each other (beyond its error fields).
    fn contradicts_itself(&self) -> bool {
        false
    }
    /// A body that says it is about a job but has no status where the kind puts it (by
    /// default: [`DliBody::STATUS_FIELD`] at the top) is no answer.
    fn status_missing(&self, facts: &BodyFacts) -> bool {
        self.job_status().is_some() && !facts.has(Self::STATUS_FIELD)
    }
    /// The answer may be a JSON list of objects (Flink's stop: one result per job), each
    /// read for errors as one body is ([`BodyFacts::read_list`]); otherwise only one JSON
    /// object is an answer.
    const LIST: bool = false;
}

macro_rules! dli_body {
    ($($t:ty),*; with status: $($s:ty),*) => {
        $(impl DliBody for $t {
            fn envelope(&self) -> Option<&Envelope> {
                Some(&self.envelope)
            }
        })*
        $(impl DliBody for $s {
            fn envelope(&self) -> Option<&Envelope> {
                Some(&self.envelope)
            }
            fn job_status(&self) -> Option<&JobStatus> {
                Some(&self.status)
            }
        })*
    };
}

dli_body!(CancelJobResponse, ListJobsResponse, PreviewResult; with status: JobProgress, JobStatusInfo);

impl DliBody for SubmitJobResponse {
    fn envelope(&self) -> Option<&Envelope> {
        Some(&self.envelope)
    }
    /// A `sync` submit (DDL) ran while DLI answered: it says the job FINISHED.
    fn claims_an_ending(&self) -> bool {
        self.is_sync()
    }
    /// A `sync` answer that also gives a status other than FINISHED.
    fn contradicts_itself(&self) -> bool {
        self.is_sync()
            && self
                .status
                .as_ref()
                .is_some_and(|s| *s != JobStatus::Finished)
    }
}

impl SubmitJobResponse {
    /// DLI ran the statement while answering (`job_mode: "sync"`, DDL): it has ended.
    pub fn is_sync(&self) -> bool {
        self.job_mode.as_deref() == Some("sync")
    }
}

/// `GET /v1/{project_id}/jobs/{job_id}/progress` (ShowSqlJobProgressResponse).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JobProgress {
    #[serde(flatten)]
    pub envelope: Envelope,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub status: JobStatus,
    /// The running sub-job; absent before it starts and after the job ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_job_id: Option<i64>,
    /// A rough 0..1 estimate for the running sub-job: it drops back to 0 when the next starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<f64>,
    #[serde(default, deserialize_with = "null_default")]
    pub sub_jobs: Vec<SubJob>,
}

fn yes() -> bool {
    true
}

fn null_true<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(d)?.unwrap_or(true))
}

/// One Spark job inside a DLI job (mirrors Spark's JobData).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SubJob {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submission_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub stage_ids: Vec<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub num_tasks: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub num_active_tasks: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub num_completed_tasks: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub num_skipped_tasks: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub num_failed_tasks: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub num_killed_tasks: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub num_completed_indices: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub num_active_stages: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub num_completed_stages: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub num_skipped_stages: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub num_failed_stages: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub killed_tasks_summary: Option<BTreeMap<String, i64>>,
}

/// `GET /v1.0/{project_id}/jobs/{job_id}/status` (ShowSqlJobStatusResponse).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JobStatusInfo {
    #[serde(flatten)]
    pub envelope: Envelope,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    /// Run time in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<i64>,
    #[serde(default, deserialize_with = "null_default")]
    pub status: JobStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_row_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bad_row_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_size: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_name: Option<String>,
    /// A JSON *string* (the result schema), or for failed jobs more detail on the reason.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_text_cut"
    )]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_conf: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_details_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    #[serde(default)]
    pub value: String,
}

/// The longest tag key DLI takes (characters).
pub const MAX_TAG_KEY_CHARS: usize = 128;
/// The longest tag value DLI takes (characters).
pub const MAX_TAG_VALUE_CHARS: usize = 255;

impl Tag {
    /// DLI's rules for a job's tag (dli_02_0102, "tags parameters"): a key of 1 to 128
    /// characters that does not start or end with a space nor start with `_sys_`; a value
    /// of 1 to 255; both only letters, digits, spaces and `_.:+-@`. `Err` says which rule.
    pub fn check(&self) -> Result<(), String> {
        check_tag_text("key", &self.key, MAX_TAG_KEY_CHARS)?;
        if self.key.starts_with(' ') || self.key.ends_with(' ') {
            return Err("the key starts or ends with a space".into());
        }
        if self.key.starts_with("_sys_") {
            return Err("the key starts with _sys_ (DLI keeps those for itself)".into());
        }
        check_tag_text("value", &self.value, MAX_TAG_VALUE_CHARS)
    }
}

/// One part of a tag: not empty, at most `max` characters, only the characters DLI allows.
fn check_tag_text(what: &str, text: &str, max: usize) -> Result<(), String> {
    let n = text.chars().count();
    if n == 0 {
        return Err(format!("the {what} is empty"));
    }
    if n > max {
        return Err(format!("the {what} is {n} characters long (at most {max})"));
    }
    if let Some(c) = text
        .chars()
        .find(|c| !(c.is_alphanumeric() || " _.:+-@".contains(*c)))
    {
        return Err(format!(
            "the {what} holds {:?}; DLI allows only letters, digits, spaces and _ . : + - @",
            c.escape_default().to_string()
        ));
    }
    Ok(())
}

/// The `conf` setting that makes DLI cancel a SQL job running longer than it (seconds).
pub const SQL_JOB_TIMEOUT_CONF: &str = "dli.sql.job.timeout";

/// `POST /v1.0/{project_id}/jobs/submit-job` body (CreateSqlJobRequestBody).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SubmitJob {
    pub sql: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currentdb: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conf: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_catalog: Option<String>,
}

/// The answer to a submit (CreateSqlJobResponse).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SubmitJobResponse {
    #[serde(flatten)]
    pub envelope: Envelope,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Vec<serde_json::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<Vec<Vec<serde_json::Value>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_mode: Option<String>,
    /// Not documented for a submit's answer; read so that a `sync` answer saying anything but
    /// FINISHED is a contradiction, not a success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<JobStatus>,
}

/// The answer to `GET /v1.0/{project_id}/jobs` (ListSqlJobsResponse), of which `check`
/// needs only that it is one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListJobsResponse {
    #[serde(flatten)]
    pub envelope: Envelope,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_count: Option<i64>,
}

/// The answer to `DELETE /v1.0/{project_id}/jobs/{job_id}` (CancelSqlJobResponse).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CancelJobResponse {
    #[serde(flatten)]
    pub envelope: Envelope,
}

/// The error an answer body carries: `{"error_code": "DLI.0002", "error_msg": "…"}` from DLI
/// and the API gateway, or the same under other names (see [`BodyFacts::read`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorBody {
    /// `DLI.0999`, `APIGW.0308`, … (a number in the body becomes its decimal text).
    pub code: Option<String>,
    pub message: Option<String>,
    /// The gateway's `request_id`, when the body has one.
    pub request_id: Option<String>,
}

/// What classification reads from any answer body, 2xx or not, besides its typed fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BodyFacts {
    /// The error code and message, found the SDKs' way.
    pub error: ErrorBody,
    /// `is_success` as given (`None` when missing, `null` or not a boolean).
    pub is_success: Option<bool>,
    /// The body has a `status` string (a SQL job's status).
    pub has_status: bool,
    /// The body has a `state` string (a Spark batch's state).
    pub has_state: bool,
    /// Something in the body, at any depth and under any occurrence of a name, says the
    /// request failed: an error code or an error's own message (`error_msg`, `errorMsg`,
    /// `error`: not the envelope's plain `message`) with text, or `is_success: false`.
    pub says_failed: bool,
}

/// The names the SDKs look for an error under, pair by pair, in this order.
const ERROR_PAIRS: [(&str, &str); 3] = [
    ("error_code", "error_msg"),
    ("errorCode", "errorMsg"),
    ("code", "message"),
];

impl BodyFacts {
    /// Read an answer body, which must be one JSON object (an error says why it is not).
    ///
    /// The error is found as the official SDKs find it (huaweicloudsdkcore's
    /// `DefaultExceptionHandler`): the first pair *present* (both names) of
    /// `error_code`/`error_msg`, `errorCode`/`errorMsg`, `code`/`message`; failing that, the
    /// same search in each nested object (the last one found wins, as in the SDK). Beyond the
    /// SDKs, for bodies that carry half of each pair (a 2xx `{"is_success": false,
    /// "error_code": "DLI.0999", "message": "…"}`), the code is the first present of
    /// `error_code`, `errorCode`, `code` and the message the first of `error_msg`, `errorMsg`,
    /// `message`. A code may be a string or a number. The body is read as a stream: only
    /// these names are kept, whatever the size of the rest.
    pub fn read(body: &[u8]) -> Result<BodyFacts, serde_json::Error> {
        let level: Level = serde_json::from_slice(body)?;
        let error = match level.sdk_pair() {
            Some((code, message)) => ErrorBody {
                code,
                message,
                request_id: None,
            },
            None => {
                let first = |code: bool| {
                    level.pairs.iter().find_map(|(c, m)| {
                        let field = if code { c } else { m };
                        field.as_ref()?.text().filter(|t| !t.is_empty())
                    })
                };
                ErrorBody {
                    code: first(true),
                    message: first(false),
                    request_id: None,
                }
            }
        };
        Ok(BodyFacts {
            says_failed: level.alarm,
            error: ErrorBody {
                request_id: level.request_id.clone(),
                ..error
            },
            is_success: level.is_success,
            has_status: level.has_status,
            has_state: level.has_state,
        })
    }

    /// [`BodyFacts::read`] for a body that may be a JSON list of objects (or one object):
    /// the list's facts are its items' together. An item that says the request failed says
    /// so for the whole answer, and its error is the one reported.
    pub fn read_list(body: &[u8]) -> Result<BodyFacts, serde_json::Error> {
        let trimmed = body.trim_ascii_start();
        if !trimmed.starts_with(b"[") {
            return BodyFacts::read(body);
        }
        let items: Vec<serde_json::Value> = serde_json::from_slice(body)?;
        let mut all = BodyFacts::default();
        let (mut first, mut first_failing) = (None, None);
        for item in items {
            let one = BodyFacts::read(&serde_json::to_vec(&item).unwrap_or_default())?;
            let failed = one.says_failed || one.is_success == Some(false);
            if failed && first_failing.is_none() {
                first_failing = Some(one.error.clone());
            }
            first.get_or_insert(one.error);
            all.is_success = match (all.is_success, one.is_success) {
                _ if failed => Some(false),
                (Some(false), _) => Some(false),
                (a, b) => a.or(b),
            };
            all.says_failed |= one.says_failed;
            all.has_status |= one.has_status;
            all.has_state |= one.has_state;
        }
        all.error = first_failing.or(first).unwrap_or_default();
        Ok(all)
    }

    /// Whether the body has `field` as a string.
    pub fn has(&self, field: StatusField) -> bool {
        match field {
            StatusField::Status => self.has_status,
            StatusField::State => self.has_state,
        }
    }
}

/// One JSON object's names that matter for errors; every other value is skipped unread
/// (nested objects are searched, as the SDKs do).
#[derive(Debug, Default)]
struct Level {
    /// `(code, message)` for each of [`ERROR_PAIRS`], as present.
    pairs: [Pair; 3],
    request_id: Option<String>,
    is_success: Option<bool>,
    has_status: bool,
    has_state: bool,
    /// The last pair found in a nested object.
    nested: Option<(Option<String>, Option<String>)>,
    /// Something here or in an object inside says the request failed: an error code or an
    /// error's message (`error_msg`, `errorMsg`, `error`) with text, or `is_success: false`,
    /// under any of its occurrences (a repeated name cannot take it back).
    alarm: bool,
}

impl Level {
    /// The SDKs' answer: the first pair present here, else the last found in nested objects.
    fn sdk_pair(&self) -> Option<(Option<String>, Option<String>)> {
        self.pairs
            .iter()
            .find_map(|(c, m)| Some((c.as_ref()?.text(), m.as_ref()?.text())))
            .or_else(|| self.nested.clone())
    }

    fn note_nested(&mut self, inner: &Level) {
        if let Some(pair) = inner.sdk_pair() {
            self.nested = Some(pair);
        }
        self.alarm |= inner.alarm;
    }
}

/// The two halves of an error pair, each as present in the body.
type Pair = (Option<Field>, Option<Field>);

/// A value under a name that matters: text, a number (as its decimal text), a boolean, an
/// object (searched further), or anything else (skipped).
#[derive(Debug)]
enum Field {
    Text(String),
    Number(String),
    Bool(bool),
    Object(Box<Level>),
    Other,
}

impl Field {
    fn text(&self) -> Option<String> {
        match self {
            Field::Text(t) | Field::Number(t) => Some(t.clone()),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Level {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Level;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Level, A::Error> {
                let mut level = Level::default();
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    let key = key.as_ref();
                    let slot = ERROR_PAIRS.iter().enumerate().find_map(|(i, (c, m))| {
                        if key == *c {
                            Some((i, true))
                        } else if key == *m {
                            Some((i, false))
                        } else {
                            None
                        }
                    });
                    if let Some((i, code_half)) = slot {
                        let field: Field = map.next_value()?;
                        if let Field::Object(inner) = &field {
                            level.note_nested(inner);
                        }
                        let has_text = field.text().is_some_and(|t| !t.trim_ascii().is_empty());
                        // A code with text says failed; so does an error's own message (not
                        // the envelope's plain `message`, the third pair's half).
                        if has_text && (code_half || i < 2) {
                            level.alarm = true;
                        }
                        // Any message (the envelope's too, under any of its occurrences) that
                        // names an error code says the request failed.
                        if !code_half && field.text().is_some_and(|t| extract_code(&t).is_some()) {
                            level.alarm = true;
                        }
                        let pair = &mut level.pairs[i];
                        let half = if code_half { &mut pair.0 } else { &mut pair.1 };
                        // A name given twice: the first text stays (a later `null` or "" does
                        // not erase an error).
                        if half
                            .as_ref()
                            .and_then(Field::text)
                            .is_none_or(|t| t.is_empty())
                        {
                            *half = Some(field);
                        }
                        continue;
                    }
                    match key {
                        "request_id" => {
                            level.request_id = map.next_value::<Field>()?.text();
                        }
                        "is_success" => {
                            level.is_success = match map.next_value()? {
                                Field::Bool(b) => Some(b),
                                _ => None,
                            };
                            level.alarm |= level.is_success == Some(false);
                        }
                        "error" => match map.next_value()? {
                            Field::Object(inner) => level.note_nested(&inner),
                            f => {
                                level.alarm |= f.text().is_some_and(|t| !t.trim_ascii().is_empty());
                            }
                        },
                        "status" => {
                            level.has_status = matches!(map.next_value()?, Field::Text(_));
                        }
                        "state" => {
                            level.has_state = matches!(map.next_value()?, Field::Text(_));
                        }
                        _ => {
                            if let Field::Object(inner) = map.next_value()? {
                                level.note_nested(&inner);
                            }
                        }
                    }
                }
                Ok(level)
            }
        }
        d.deserialize_map(V)
    }
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Field;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E>(self, v: &str) -> Result<Field, E> {
                Ok(Field::Text(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Field, E> {
                Ok(Field::Text(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Field, E> {
                Ok(Field::Number(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Field, E> {
                Ok(Field::Number(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Field, E> {
                Ok(Field::Number(v.to_string()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Field, E> {
                Ok(Field::Bool(v))
            }
            fn visit_unit<E>(self) -> Result<Field, E> {
                Ok(Field::Other)
            }
            fn visit_none<E>(self) -> Result<Field, E> {
                Ok(Field::Other)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Field, D::Error> {
                d.deserialize_any(V)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Field, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Field::Other)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Field, A::Error> {
                let level = Level::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(Field::Object(Box::new(level)))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example response of the reference page parses, every field kept.
    #[test]
    fn reference_example_parses() {
        let body = r#"{
            "is_success": true, "message": "", "job_id": "85798b38-ae44-48eb-bb90-7cf0dcdafe7b",
            "status": "RUNNING", "sub_job_id": 0, "progress": 0,
            "sub_jobs": [{"id": 0, "name": "runJob at FileFormatWriter.scala:266",
                "submission_time": "Mon Jul 27 17:24:03 CST 2020", "stage_ids": [0],
                "job_group": "85798b38-ae44-48eb-bb90-7cf0dcdafe7b", "status": "RUNNING",
                "num_tasks": 1, "num_active_tasks": 1, "num_completed_tasks": 0,
                "num_skipped_tasks": 0, "num_failed_tasks": 0, "num_killed_tasks": 0,
                "num_completed_indices": 0, "num_active_stages": 1, "num_completed_stages": 0,
                "num_skipped_stages": 0, "num_failed_stages": 0,
                "killed_tasks_summary": {"preempted": 2}}]
        }"#;
        let p: JobProgress = serde_json::from_str(body).unwrap();
        assert_eq!(p.status, JobStatus::Running);
        assert_eq!(p.sub_job_id, Some(0));
        assert_eq!(p.sub_jobs.len(), 1);
        assert_eq!(p.sub_jobs[0].num_active_stages, 1);
        assert_eq!(
            p.sub_jobs[0].killed_tasks_summary.as_ref().unwrap()["preempted"],
            2
        );
    }

    #[test]
    fn unknown_status_is_kept_and_not_terminal() {
        let p: JobProgress =
            serde_json::from_str(r#"{"is_success":true,"status":"SCALING","extra":1}"#).unwrap();
        assert_eq!(p.status, JobStatus::Scaling);
        let p: JobProgress = serde_json::from_str(r#"{"status":"THAWING"}"#).unwrap();
        assert_eq!(p.status, JobStatus::Other("THAWING".into()));
        assert!(!p.status.is_terminal());
    }

    #[test]
    fn spark_states_are_spark_s_and_sql_statuses_sql_s() {
        for (wire, status) in [
            ("starting", JobStatus::Starting),
            ("running", JobStatus::Running),
            ("recovering", JobStatus::Recovering),
            ("success", JobStatus::Success),
            ("Success", JobStatus::Success),
            (" DEAD ", JobStatus::Dead),
        ] {
            assert_eq!(JobStatus::from_spark(wire), status, "{wire}");
        }
        let ended: Vec<bool> = ["starting", "running", "recovering", "success", "dead"]
            .iter()
            .map(|s| JobStatus::from_spark(s).is_terminal())
            .collect();
        assert_eq!(ended, [false, false, false, true, true]);
        // Each API's words are unknown to the other: never an ending by mistake.
        assert_eq!(
            JobStatus::from_spark("FINISHED"),
            JobStatus::Other("FINISHED".into())
        );
        assert_eq!(
            JobStatus::from("success"),
            JobStatus::Other("success".into())
        );
        assert!(!JobStatus::from("dead").is_terminal());
        // A batch shows our cancel as `dead`; a SQL job as CANCELLED.
        assert!(JobStatus::Dead.confirms_cancel() && JobStatus::Cancelled.confirms_cancel());
        assert!(!JobStatus::Success.confirms_cancel() && !JobStatus::Failed.confirms_cancel());
        assert_eq!(JobStatus::Starting.to_string(), "STARTING");
    }

    /// Issue 25: status words are compared after an ASCII trim only, SQL's exactly.
    #[test]
    fn status_words_take_no_unicode_trim_or_case_folding() {
        for word in [
            "\u{3000}finished\u{a0}",
            "finished",
            "Finished",
            "\u{a0}FINISHED",
            "FINISHED\u{200b}",
        ] {
            assert!(!JobStatus::from(word).is_terminal(), "{word:?}");
        }
        assert_eq!(JobStatus::from(" FINISHED\t\r\n"), JobStatus::Finished);
        for word in ["\u{3000}success", "success\u{a0}", "ſuccess"] {
            assert!(!JobStatus::from_spark(word).is_terminal(), "{word:?}");
        }
        assert_eq!(JobStatus::from_spark(" Success\n"), JobStatus::Success);
        // Unknown text is kept, but never more than a word's worth of it.
        let long = "X".repeat(1_000_000);
        match JobStatus::from(long.as_str()) {
            JobStatus::Other(t) => assert_eq!(t.chars().count(), MAX_STATUS_CHARS + 1),
            s => panic!("{s:?}"),
        }
    }

    /// A wait holds one snapshot per job, and every output walks its texts: a 3 MB message
    /// is kept to a bound.
    #[test]
    fn text_fields_are_kept_to_a_bound() {
        // Past the bound, and no more: the test stays quick in a debug build.
        let big = "é".repeat(MAX_TEXT_BYTES);
        let body = format!(r#"{{"status":"RUNNING","message":"{big}"}}"#);
        let p: JobProgress = serde_json::from_str(&body).unwrap();
        assert!(p.envelope.message.len() <= MAX_TEXT_BYTES + '…'.len_utf8());
        assert!(p.envelope.message.ends_with('…'));
        let body = format!(r#"{{"status":"FAILED","detail":"{big}"}}"#);
        let i: JobStatusInfo = serde_json::from_str(&body).unwrap();
        assert!(i.detail.unwrap().len() <= MAX_TEXT_BYTES + 3);
        let lines = vec![big.clone(); crate::dli::spark::MAX_LOG_LINES + 1];
        let body = serde_json::json!({"id": "b", "state": "dead", "log": lines}).to_string();
        let d: crate::dli::spark::BatchDetails = serde_json::from_str(&body).unwrap();
        assert_eq!(d.log.len(), crate::dli::spark::MAX_LOG_LINES);
        assert!(d.log.iter().all(|l| l.len() <= MAX_TEXT_BYTES + 3));
        assert_eq!(cut_text("short".into()), "short");
    }

    #[test]
    fn lossy_json_replaces_only_what_cannot_decode() {
        let l = |b: &[u8]| String::from_utf8(lossy_json(b).into_owned()).unwrap();
        assert_eq!(l(br#"{"m":"a\ud83d b"}"#), r#"{"m":"a\ufffd b"}"#);
        assert_eq!(l(br#"{"m":"\udc00"}"#), r#"{"m":"\ufffd"}"#);
        assert_eq!(
            l(br#"{"m":"\ud83d\ud83d\ude00"}"#),
            r#"{"m":"\ufffd\ud83d\ude00"}"#
        );
        // A pair, an escaped backslash and text outside strings are left alone.
        for ok in [
            &br#"{"m":"\ud83d\ude00"}"#[..],
            br#"{"m":"\\ud83d"}"#,
            br#"{"m":"\"\ud83d\ude00"}"#,
            br#"{"a":1}"#,
        ] {
            assert!(matches!(lossy_json(ok), std::borrow::Cow::Borrowed(_)));
        }
        assert_eq!(l(b"{\"m\":\"\xd6\xd0\"}"), "{\"m\":\"\u{fffd}\u{fffd}\"}");
        let v: serde_json::Value =
            serde_json::from_slice(&lossy_json(br#"{"m":"x\ud83d"}"#)).unwrap();
        assert_eq!(v["m"], "x\u{fffd}");
    }

    fn facts(body: &str) -> BodyFacts {
        BodyFacts::read(body.as_bytes()).unwrap()
    }

    fn code_and_message(body: &str) -> (Option<String>, Option<String>) {
        let e = facts(body).error;
        (e.code, e.message)
    }

    fn pair(code: &str, message: &str) -> (Option<String>, Option<String>) {
        (Some(code.into()), Some(message.into()))
    }

    #[test]
    fn error_fields_are_found_the_sdks_way() {
        assert_eq!(
            code_and_message(r#"{"error_code":"A","error_msg":"a"}"#),
            pair("A", "a")
        );
        assert_eq!(
            code_and_message(r#"{"errorCode":"B","errorMsg":"b"}"#),
            pair("B", "b")
        );
        assert_eq!(
            code_and_message(r#"{"code":"C","message":"c"}"#),
            pair("C", "c")
        );
        // The first pair present, in the SDKs' order, not the body's.
        assert_eq!(
            code_and_message(r#"{"code":"C","message":"c","errorMsg":"b","errorCode":"B"}"#),
            pair("B", "b")
        );
        // A pair is both names: half of one does not hide a whole later one.
        assert_eq!(
            code_and_message(r#"{"error_code":"A","code":"C","message":"c"}"#),
            pair("C", "c")
        );
        // Nested objects are searched when the top has no pair; the last found wins.
        assert_eq!(
            code_and_message(
                r#"{"x":{"error_code":"N1","error_msg":"n1"},"y":{"z":{"code":"N2","message":"n2"}}}"#
            ),
            pair("N2", "n2")
        );
        // Halves: the first code and the first message present.
        assert_eq!(
            code_and_message(r#"{"is_success":false,"error_code":"DLI.0999","message":"busy"}"#),
            pair("DLI.0999", "busy")
        );
        // Numbers are codes too; other values are not.
        assert_eq!(
            code_and_message(r#"{"code":404,"message":"x"}"#),
            pair("404", "x")
        );
        assert_eq!(
            code_and_message(r#"{"code":true,"message":null}"#),
            (None, None)
        );
        assert_eq!(code_and_message(r#"{"status":"RUNNING"}"#), (None, None));
    }

    #[test]
    fn body_facts_say_what_was_given() {
        let f = facts(r#"{"is_success":true,"status":"RUNNING","request_id":"r1"}"#);
        assert_eq!(
            (f.is_success, f.has_status, f.error.request_id.as_deref()),
            (Some(true), true, Some("r1"))
        );
        let f = facts(r#"{"is_success":null,"status":null}"#);
        assert_eq!((f.is_success, f.has_status), (None, false));
        let f = facts(r#"{"id":"b","state":"running"}"#);
        assert!(f.has(StatusField::State) && !f.has(StatusField::Status));
        assert!(!facts(r#"{"state":null}"#).has_state);
        let f = facts(r#"{"is_success":"yes","status":7}"#);
        assert_eq!((f.is_success, f.has_status), (None, false));
        // Big values elsewhere are skipped, arrays and all.
        let big = format!(
            r#"{{"sub_jobs":[{}],"status":"RUNNING"}}"#,
            vec![r#"{"id":1,"name":"x"}"#; 10_000].join(",")
        );
        assert!(facts(&big).has_status);
    }

    #[test]
    fn body_facts_refuse_anything_but_one_object() {
        for body in ["[]", "[1,2]", "\"x\"", "null", "1", "", "{", "{} {}"] {
            assert!(BodyFacts::read(body.as_bytes()).is_err(), "{body}");
        }
    }

    #[test]
    fn nulls_are_tolerated() {
        let p: JobProgress = serde_json::from_str(
            r#"{"is_success":null,"message":null,"status":"RUNNING","sub_jobs":null,"progress":null}"#,
        )
        .unwrap();
        assert!(p.envelope.is_success);
        assert!(p.sub_jobs.is_empty());
    }
}

/// The name of DLI's shared queue: DLI gives no query results of jobs there.
pub const DEFAULT_QUEUE: &str = "default";

/// One column of a query's result: its name and DLI's type.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// One entry of a result schema in either shape DLI's clients meet: the SDK's one-key map
/// (`{"c1":"int"}`) or an object with a name and a type (`{"name":"c1","type":"int"}`).
struct SchemaEntry(Column);

impl<'de> Deserialize<'de> for SchemaEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut m = BTreeMap::<String, serde_json::Value>::deserialize(d)?;
        let text = |v: &serde_json::Value| match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        };
        Ok(SchemaEntry(match (m.remove("name"), m.remove("type")) {
            (Some(name), Some(kind)) => Column {
                name: text(&name),
                kind: text(&kind),
            },
            (name, kind) => {
                // One key: the column's name, its value the type (put back what was taken).
                if let Some(n) = name {
                    m.insert("name".into(), n);
                }
                if let Some(k) = kind {
                    m.insert("type".into(), k);
                }
                m.into_iter()
                    .next()
                    .map(|(name, kind)| Column {
                        name,
                        kind: text(&kind),
                    })
                    .unwrap_or_default()
            }
        }))
    }
}

/// The most columns of a preview kept (schema entries and cells per row): the rest are
/// skipped as they are read, and counted. A hostile answer of 2,000,000 columns in its 4 MiB
/// costs their count, not hundreds of MB.
pub const PREVIEW_COLUMNS_KEPT: usize = 1000;
/// The most rows of a preview kept (DLI gives 1000 at most); the rest counted.
pub const PREVIEW_ROWS_KEPT: usize = 1000;
/// The most characters of a cell kept (`…` past it); a nested value (array, object) past
/// it is kept as its JSON text, cut.
pub const PREVIEW_CELL_CHARS_KEPT: usize = 1000;

/// What a preview's reading left out, to say so.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LeftOut {
    /// The columns past [`PREVIEW_COLUMNS_KEPT`] (of the widest row or the schema).
    pub columns: usize,
    /// The rows past [`PREVIEW_ROWS_KEPT`], or dropped once the check had counted them.
    pub rows: usize,
    /// The cells cut to [`PREVIEW_CELL_CHARS_KEPT`].
    pub cells_cut: usize,
}

/// Up to `max` items of a JSON array (`null`: none); the rest skipped unkept, counted.
struct Kept<T> {
    items: Vec<T>,
    left_out: usize,
}

impl<T> Default for Kept<T> {
    fn default() -> Self {
        Kept {
            items: Vec::new(),
            left_out: 0,
        }
    }
}

fn kept<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
    max: usize,
) -> Result<Kept<T>, D::Error> {
    struct Seq<T>(usize, std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Seq<T> {
        type Value = Kept<T>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an array or null")
        }
        fn visit_unit<E>(self) -> Result<Kept<T>, E> {
            Ok(Kept::default())
        }
        fn visit_none<E>(self) -> Result<Kept<T>, E> {
            Ok(Kept::default())
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Kept<T>, D2::Error> {
            d.deserialize_seq(self)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Kept<T>, A::Error> {
            let mut k = Kept::default();
            while k.items.len() < self.0 {
                match seq.next_element()? {
                    Some(x) => k.items.push(x),
                    None => return Ok(k),
                }
            }
            while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                k.left_out += 1;
            }
            Ok(k)
        }
    }
    d.deserialize_option(Seq(max, std::marker::PhantomData))
}

/// One row of a preview: its first [`PREVIEW_COLUMNS_KEPT`] cells.
struct PreviewRow(Kept<serde_json::Value>);

impl<'de> Deserialize<'de> for PreviewRow {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        kept(d, PREVIEW_COLUMNS_KEPT).map(PreviewRow)
    }
}

/// A preview as read: bounded ([`Kept`]), then made a [`PreviewResult`].
#[derive(Deserialize)]
struct PreviewRead {
    #[serde(flatten)]
    envelope: Envelope,
    #[serde(default)]
    job_id: Option<String>,
    #[serde(default)]
    job_type: Option<String>,
    #[serde(default)]
    row_count: Option<i64>,
    #[serde(default)]
    input_size: Option<i64>,
    #[serde(default, deserialize_with = "kept_schema")]
    schema: Kept<SchemaEntry>,
    #[serde(default, deserialize_with = "kept_rows")]
    rows: Kept<PreviewRow>,
}

fn kept_schema<'de, D: Deserializer<'de>>(d: D) -> Result<Kept<SchemaEntry>, D::Error> {
    kept(d, PREVIEW_COLUMNS_KEPT)
}

fn kept_rows<'de, D: Deserializer<'de>>(d: D) -> Result<Kept<PreviewRow>, D::Error> {
    kept(d, PREVIEW_ROWS_KEPT)
}

/// `v` cut to [`PREVIEW_CELL_CHARS_KEPT`] characters, or `None` when it fits.
fn cut_cell(v: &serde_json::Value) -> Option<serde_json::Value> {
    let cut = |t: &str| {
        t.char_indices()
            .nth(PREVIEW_CELL_CHARS_KEPT)
            .map(|(at, _)| serde_json::Value::String(format!("{}…", &t[..at])))
    };
    match v {
        serde_json::Value::String(s) => cut(s),
        serde_json::Value::Array(_) | serde_json::Value::Object(_) => cut(&v.to_string()),
        _ => None,
    }
}

impl From<PreviewRead> for PreviewResult {
    fn from(r: PreviewRead) -> Self {
        let mut left_out = LeftOut {
            rows: r.rows.left_out,
            ..LeftOut::default()
        };
        let mut width = r.schema.items.len() + r.schema.left_out;
        let rows = r
            .rows
            .items
            .into_iter()
            .map(|PreviewRow(row)| {
                width = width.max(row.items.len() + row.left_out);
                row.items
                    .into_iter()
                    .map(|c| match cut_cell(&c) {
                        Some(cut) => {
                            left_out.cells_cut += 1;
                            cut
                        }
                        None => c,
                    })
                    .collect()
            })
            .collect();
        left_out.columns = width.saturating_sub(PREVIEW_COLUMNS_KEPT);
        PreviewResult {
            envelope: r.envelope,
            job_id: r.job_id,
            job_type: r.job_type,
            row_count: r.row_count,
            input_size: r.input_size,
            schema: r.schema.items.into_iter().map(|SchemaEntry(c)| c).collect(),
            rows,
            left_out,
        }
    }
}

/// `GET /v1.0/{project_id}/jobs/{job_id}/preview` (PreviewSqlJobResultResponse): the first
/// rows of a query's result (at most 1000).
/// Read bounded: [`PREVIEW_COLUMNS_KEPT`], [`PREVIEW_ROWS_KEPT`], [`PREVIEW_CELL_CHARS_KEPT`];
/// `left_out` says what was not kept.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "PreviewRead")]
pub struct PreviewResult {
    #[serde(flatten)]
    pub envelope: Envelope,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row_count: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_size: Option<i64>,
    pub schema: Vec<Column>,
    pub rows: Vec<Vec<serde_json::Value>>,
    #[serde(skip)]
    pub left_out: LeftOut,
}

impl PreviewResult {
    /// The rows the preview gave, kept or not.
    pub fn rows_read(&self) -> usize {
        self.rows.len() + self.left_out.rows
    }
}

#[cfg(test)]
mod preview_tests {
    use super::*;

    /// A preview's schema in either shape: the SDK's one-key maps, or name and type.
    #[test]
    fn a_preview_schema_reads_in_both_shapes() {
        let sdk: PreviewResult = serde_json::from_str(
            r#"{"is_success":true,"row_count":1,"schema":[{"c1":"int"},{"name":"string"}],"rows":[[1,"a"]]}"#,
        )
        .unwrap();
        let named: PreviewResult = serde_json::from_str(
            r#"{"schema":[{"name":"c1","type":"int"},{"name":"name","type":"string"}],"rows":[[1,"a"]]}"#,
        )
        .unwrap();
        let want = vec![
            Column {
                name: "c1".into(),
                kind: "int".into(),
            },
            Column {
                name: "name".into(),
                kind: "string".into(),
            },
        ];
        assert_eq!(sdk.schema, want);
        assert_eq!(named.schema, want);
        assert_eq!(sdk.rows, named.rows);
        let bare: PreviewResult = serde_json::from_str(r#"{"schema":null,"rows":null}"#).unwrap();
        assert!(bare.schema.is_empty() && bare.rows.is_empty());
    }

    /// A preview is read bounded: 1,000 columns, 1,000 rows, 1,000 characters a cell kept;
    /// what was not kept is counted.
    #[test]
    fn a_preview_is_kept_bounded_and_says_what_it_left_out() {
        let wide: Vec<String> = (0..1500).map(|i| format!("{{\"c{i}\":\"int\"}}")).collect();
        let long = "é".repeat(1200);
        let mut rows = vec![format!("[{}]", vec!["1"; 1200].join(","))];
        rows.push(format!("[\"{long}\", [{}]]", vec!["7"; 600].join(",")));
        rows.extend((0..1003).map(|_| "[]".to_string()));
        let text = format!(
            r#"{{"schema":[{}],"rows":[{}]}}"#,
            wide.join(","),
            rows.join(",")
        );
        let p: PreviewResult = serde_json::from_str(&text).unwrap();
        assert_eq!(p.schema.len(), PREVIEW_COLUMNS_KEPT);
        assert_eq!(p.rows.len(), PREVIEW_ROWS_KEPT);
        assert_eq!(p.rows[0].len(), PREVIEW_COLUMNS_KEPT);
        assert_eq!(p.rows_read(), 1005);
        let kept = p.rows[1][0].as_str().unwrap();
        assert_eq!(kept.chars().count(), PREVIEW_CELL_CHARS_KEPT + 1);
        assert!(kept.ends_with("é…"), "{kept}");
        // A nested value past the bound is kept as its JSON text, cut.
        assert!(p.rows[1][1].as_str().unwrap().starts_with("[7,7,"));
        assert_eq!(
            p.left_out,
            LeftOut {
                columns: 500,
                rows: 5,
                cells_cut: 2
            }
        );
    }
}
