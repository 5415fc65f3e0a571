//! Scenario files: each simulated job's life (launch, sub-jobs with tasks and stages, the end;
//! or for a Spark batch, `"type": "spark"`, its states) and its fault windows, as JSON. Pure:
//! `JobSpec::at(t)` (`spark_at` for a batch, in `sim::spark`) says what DLI would answer at `t`.

use crate::dli::model::{JobStatus, SubJob};
use serde::{Deserialize, Deserializer, Serialize};
use std::time::Duration;

/// A duration in a scenario: a humantime string (`"90s"`, `"1h 30m"`), or `"forever"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span(pub Option<Duration>);

/// As it is read: seconds, or `"forever"`.
impl Serialize for Span {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Some(d) => s.serialize_f64(d.as_secs_f64()),
            None => s.serialize_str("forever"),
        }
    }
}

impl Span {
    pub const FOREVER: Span = Span(None);
    /// No time at all (the default).
    pub fn is_zero(&self) -> bool {
        self.0.is_some_and(|d| d.is_zero())
    }
    /// In seconds; `forever` is infinite.
    pub fn get(self) -> f64 {
        self.0.map_or(f64::INFINITY, |d| d.as_secs_f64())
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Secs(f64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Secs(s) => Duration::try_from_secs_f64(s)
                .map(|d| Span(Some(d)))
                .map_err(|_| serde::de::Error::custom(format!("bad duration {s}"))),
            Raw::Text(t) if matches!(t.trim(), "forever" | "never") => Ok(Span::FOREVER),
            Raw::Text(t) => humantime::parse_duration(t.trim())
                .map(|d| Span(Some(d)))
                .map_err(|e| serde::de::Error::custom(format!("bad duration {t:?}: {e}"))),
        }
    }
}

impl Default for Span {
    fn default() -> Self {
        Span(Some(Duration::ZERO))
    }
}

/// A whole scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Sim seconds per real second (`10` replays a 10-minute job in a minute).
    #[serde(default = "one")]
    pub speed: f64,
    #[serde(default)]
    pub project_id: Option<String>,
    #[serde(default)]
    pub ak: Option<String>,
    #[serde(default)]
    pub sk: Option<String>,
    /// An IAM token the simulator accepts as `X-Auth-Token`.
    #[serde(default)]
    pub token: Option<String>,
    /// Jobs that exist when the simulator starts.
    #[serde(default)]
    pub jobs: Vec<JobSpec>,
    /// Jobs created by `submit-job`: the first rule whose `contains` is in the SQL picks the
    /// template; with none matching, the template named `default` (or a short job). Batches
    /// created by `POST …/batches` likewise, among the Spark templates (by the body's text;
    /// `spark_default`, or a short batch).
    #[serde(default)]
    pub templates: std::collections::BTreeMap<String, JobSpec>,
    #[serde(default)]
    pub submit_rules: Vec<SubmitRule>,
    /// Scripted faults of the job lists (`GET /v1.0/{project_id}/jobs`, `GET
    /// /v2.0/{project_id}/batches`): `requests` counts list calls, `from`/`until` the time
    /// since the simulator started (e.g. a 403 for a user who may not list jobs).
    #[serde(default)]
    pub list_faults: Vec<FaultSpec>,
    /// The job lists ignore their key filters (`tags` of the SQL list, `job_name` of the
    /// batch list) and answer every job, as a DLI that does not know them would: how a
    /// lookup that must not trust the filter is tested.
    #[serde(default)]
    pub lists_ignore_filters: bool,
    /// The simulated IAM and ECS metadata service: how long the keys they issue last, which
    /// identity provider and ID token federation accepts (docs/scenarios.md, "Credentials").
    #[serde(default)]
    pub credentials: CredentialSpec,
}

/// The identity provider the simulated IAM knows, unless the scenario names another.
pub const DEFAULT_IDP_ID: &str = "simulator-idp";

/// How the simulated IAM and metadata service behave (`"credentials"` in a scenario).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialSpec {
    /// How long issued keys last, in job time (divided by `speed`, as every scenario time).
    /// Default: what federation asks for (`duration_seconds`), six hours from the metadata
    /// service.
    #[serde(default)]
    pub lifetime: Option<Span>,
    /// Issued keys are refused (401) this long after they were issued, although they say they
    /// last `lifetime` (keys revoked early, a clock that is off): only a 401 tells.
    #[serde(default)]
    pub revoked_after: Option<Span>,
    /// The identity provider (`X-Idp-Id`) federation accepts.
    #[serde(default = "default_idp")]
    pub idp_id: String,
    /// The only ID token federation accepts; any non-empty one when absent.
    #[serde(default)]
    pub id_token: Option<String>,
    /// The ECS has an agency: without one the metadata service refuses keys.
    #[serde(default = "yes")]
    pub agency: bool,
    /// The metadata service hands out session tokens (`PUT /meta-data/latest/api/token`);
    /// without them it answers 404 there and keys to anyone.
    #[serde(default = "yes")]
    pub sessions: bool,
}

fn default_idp() -> String {
    DEFAULT_IDP_ID.into()
}

fn yes() -> bool {
    true
}

impl Default for CredentialSpec {
    fn default() -> Self {
        CredentialSpec {
            lifetime: None,
            revoked_after: None,
            idp_id: default_idp(),
            id_token: None,
            agency: true,
            sessions: true,
        }
    }
}

fn one() -> f64 {
    1.0
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitRule {
    pub contains: String,
    pub template: String,
}

/// Which kind of DLI job a scenario job is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    /// A SQL job (`/v1.0/{project_id}/jobs`).
    #[default]
    Sql,
    /// A Spark batch job (`/v2.0/{project_id}/batches`).
    Spark,
    /// A Flink job (`/v1.0/{project_id}/streaming/jobs`): its `states` over time.
    Flink,
}

/// One job's scripted life.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    /// `sql` (default) or `spark`: a Spark batch, whose life is `starting`, `running`,
    /// `recovering` and an `end` of `success` or `dead`.
    #[serde(default, rename = "type")]
    pub kind: JobKind,
    /// The job id: a UUID, or a name the simulator turns into one with [`job_uuid`];
    /// generated when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// A label for people (shown by `simulate`).
    #[serde(default)]
    pub name: Option<String>,
    /// Time in LAUNCHING (queued, resources starting).
    #[serde(default)]
    pub launching: Span,
    /// Spark jobs run one after another.
    #[serde(default)]
    pub sub_jobs: Vec<SubJobSpec>,
    /// RUNNING with no sub-job after the last one (writing results, committing).
    #[serde(default)]
    pub commit: Span,
    /// How it ends.
    #[serde(default)]
    pub end: End,
    /// Scripted faults of the API for this job.
    #[serde(default)]
    pub faults: Vec<FaultSpec>,
    /// A submit answered synchronously (a DDL): the job is FINISHED at once, `job_mode: sync`.
    #[serde(default)]
    pub sync: bool,
    /// The submit itself is refused with this DLI error (e.g. bad SQL).
    #[serde(default)]
    pub reject: Option<Rejection>,
    /// How long a cancel takes to show as CANCELLED.
    #[serde(default)]
    pub cancel_takes: Span,
    /// The job FAILS at this job time, whatever it is doing (a failure mid-way); the reason
    /// is `end`'s when that is FAILED.
    #[serde(default)]
    pub fails_at: Option<Span>,
    /// (Spark) Time `starting`: queued for resources.
    #[serde(default)]
    pub starting: Span,
    /// (Spark) Time `running`.
    #[serde(default)]
    pub running: Span,
    /// (Spark) Time `recovering` after running (the driver restarted), before the end.
    #[serde(default)]
    pub recovering: Span,
    /// (A scenario's job) It was submitted this long (job time) before the simulator
    /// started: a past job, already running or ended, for the job lists.
    #[serde(default, skip_serializing_if = "Span::is_zero")]
    pub ago: Span,
    /// (A scenario's SQL job) Its SQL (default `SELECT 1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement: Option<String>,
    /// (A scenario's job) The tags it was submitted with.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<crate::dli::model::Tag>,
    /// (A scenario's job) Its queue (default `default`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    /// (Flink) Its states, one after another (`sim::flink::FlinkStep`); the last lasts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub states: Vec<FlinkStep>,
    /// Bytes scanned (`/status`'s `input_size`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_size: Option<i64>,
    /// A FINISHED query's result: `/status`'s `result_count` and `/preview`'s answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<ResultSpec>,
}

/// One state of a Flink job's scripted life.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FlinkStep {
    /// DLI's word (`job_running`, …; any other text is served as it is: an unknown state).
    pub status: String,
    /// How long it lasts (job time); the last state lasts for ever whatever it says.
    #[serde(rename = "for", default = "forever")]
    pub lasts: Span,
    /// The job's `restart_times` from this state on (the previous state's when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_times: Option<i64>,
    /// DLI's `status_desc` in this state.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status_desc: String,
}

fn forever() -> Span {
    Span::FOREVER
}

/// A query's result, as `/preview` serves it.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ResultSpec {
    /// The columns, in either shape DLI's clients meet: `[{"c1":"int"}]` or
    /// `[{"name":"c1","type":"int"}]` (served as written). Empty: a job with no result.
    #[serde(default)]
    pub schema: Vec<serde_json::Value>,
    /// The rows (the preview serves the first 1000).
    #[serde(default)]
    pub rows: Vec<Vec<serde_json::Value>>,
    /// `result_count` when it is more than the rows given (a result longer than the preview).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rejection {
    pub code: String,
    pub message: String,
}

/// One Spark job (sub-job) inside the DLI job.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SubJobSpec {
    /// Pause before this sub-job starts (RUNNING, no sub-job shown).
    #[serde(default)]
    pub gap: Span,
    pub tasks: i64,
    #[serde(default = "one_i")]
    pub stages: i64,
    /// Time for all tasks but the stragglers.
    pub duration: Span,
    /// How many tasks run concurrently.
    #[serde(default = "parallel")]
    pub parallelism: i64,
    /// The last few tasks crawl: `{"tasks": 2, "extra": "5m"}`.
    #[serde(default)]
    pub stragglers: Option<Stragglers>,
    /// Counts freeze at this fraction (0–1) and never move again: a stalled job.
    #[serde(default)]
    pub stall_at: Option<f64>,
    /// Tasks finish in waves of `parallelism` at once (even partitions) instead of one by
    /// one at a steady pace.
    #[serde(default)]
    pub waves: bool,
    /// No task finishes in this first part of `duration` (a stage that reads or shuffles a
    /// long time before its first task reports); the rest then finish in what is left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flat_start: Option<Span>,
}

fn one_i() -> i64 {
    1
}
fn parallel() -> i64 {
    16
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Stragglers {
    pub tasks: i64,
    pub extra: Span,
}

/// How a job ends.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(
    rename_all = "SCREAMING_SNAKE_CASE",
    tag = "status",
    deny_unknown_fields
)]
pub enum End {
    #[default]
    Finished,
    Failed {
        #[serde(default)]
        message: String,
        #[serde(default)]
        detail: Option<String>,
    },
    Cancelled,
    /// (Spark) The batch ends `success`.
    #[serde(rename = "success")]
    Success,
    /// (Spark) The batch ends `dead`: `log` is the tail its details show (none: the details
    /// say nothing), `driver_log` the lines `…/log` answers.
    #[serde(rename = "dead")]
    Dead {
        #[serde(default)]
        log: Vec<String>,
        #[serde(default)]
        driver_log: Vec<String>,
    },
}

/// A scripted fault: which answers it replaces, and with what.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    pub kind: FaultKindSpec,
    /// `progress`, `status`, `cancel` or `any` (default: `any` but cancel); for a Spark batch
    /// `state`, `details`, `log`, `cancel` or `any`.
    #[serde(default)]
    pub endpoint: EndpointSpec,
    /// Active from this job time…
    #[serde(default)]
    pub from: Option<Span>,
    /// …until this job time.
    #[serde(default)]
    pub until: Option<Span>,
    /// Or: the n-th to m-th matching request of this job (1-based, inclusive): `[2, 4]`.
    #[serde(default)]
    pub requests: Option<[u32; 2]>,
    /// For `throttled` and `server_error`: the Retry-After header (seconds or an HTTP date).
    #[serde(default)]
    pub retry_after: Option<String>,
    /// For `server_error`: the HTTP status (default 503); for `custom`, default 200.
    #[serde(default)]
    pub status: Option<u16>,
    /// For `custom`: the answer's body, as given (a JSON string is sent as its text, any
    /// other JSON value as JSON), e.g. an unknown status or an error message of one's own.
    #[serde(default)]
    pub body: Option<serde_json::Value>,
    /// For `slow`: how long to wait before answering.
    #[serde(default)]
    pub delay: Option<Span>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKindSpec {
    /// HTTP 400 `{"error_code":"DLI.0999",…}`.
    QueueBusy,
    /// HTTP 200 `{"is_success":false,"message":"DLI.0999: …"}`.
    QueueBusyOk,
    /// HTTP 429 APIGW.0308 with Retry-After.
    Throttled,
    /// HTTP 5xx with a JSON body.
    ServerError,
    /// HTTP 502 with an HTML page, as from a proxy.
    HtmlPage,
    /// The connection is reset without an answer.
    Reset,
    /// The right answer, late.
    Slow,
    /// HTTP 200 with broken JSON.
    Malformed,
    /// HTTP 401 APIGW.0301, as for wrong or expired credentials.
    Unauthorized,
    /// `status` (default 200) with `body`: whatever a test needs DLI (or a proxy) to say.
    Custom,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndpointSpec {
    #[default]
    Any,
    Progress,
    Status,
    /// A SQL job's `/preview`.
    Preview,
    Cancel,
    /// A Spark batch's `/state`.
    State,
    /// A Spark batch's details.
    Details,
    /// A Spark batch's `/log`.
    Log,
}

/// What the job looks like at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct JobView {
    pub status: JobStatus,
    pub sub_job_id: Option<i64>,
    pub progress: f64,
    pub sub_job: Option<SubJob>,
    /// Job time at which it ended, when it has.
    pub ended_at: Option<f64>,
}

impl JobView {
    /// The `/progress` answer showing this view.
    pub fn into_progress(self, job_id: Option<String>) -> crate::dli::model::JobProgress {
        crate::dli::model::JobProgress {
            envelope: crate::dli::model::Envelope::default(),
            job_id,
            status: self.status,
            sub_job_id: self.sub_job_id,
            progress: Some(self.progress),
            sub_jobs: self.sub_job.into_iter().collect(),
        }
    }
}

impl SubJobSpec {
    fn straggle(&self) -> (i64, f64) {
        self.stragglers
            .as_ref()
            .map_or((0, 0.0), |s| (s.tasks.clamp(0, self.tasks), s.extra.get()))
    }

    /// Run time of this sub-job, stragglers included (infinite if it stalls).
    fn run_time(&self) -> f64 {
        if self.stall_at.is_some() {
            return f64::INFINITY;
        }
        let (_, extra) = self.straggle();
        self.duration.get() + extra
    }

    /// Completed tasks `t` seconds into the sub-job.
    fn done_at(&self, t: f64) -> i64 {
        let (slow, extra) = self.straggle();
        let main = self.duration.get();
        let fast = (self.tasks - slow) as f64;
        let flat = self.flat_start.map_or(0.0, |f| f.get().clamp(0.0, main));
        let mut done = if t < flat {
            0.0
        } else if t < main {
            let f = (t - flat) / (main - flat).max(1e-9);
            if self.waves {
                // Wave w of ⌈fast/parallelism⌉ ends at (w+1)/waves of `main`.
                let par = self.parallelism.max(1) as f64;
                let waves = (fast / par).ceil();
                ((f * waves).floor() * par).min(fast)
            } else {
                fast * f
            }
        } else if extra > 0.0 && t < main + extra {
            fast + slow as f64 * ((t - main) / extra)
        } else {
            self.tasks as f64
        };
        if let Some(f) = self.stall_at {
            done = done.min(self.tasks as f64 * f.clamp(0.0, 1.0));
        }
        (done.floor() as i64).clamp(0, self.tasks)
    }

    fn view(&self, id: i64, t: f64, job_id: &str) -> SubJob {
        let done = self.done_at(t);
        let remaining = self.tasks - done;
        let stages = self.stages.max(1);
        let frac = if self.tasks > 0 {
            done as f64 / self.tasks as f64
        } else {
            1.0
        };
        let stages_done = ((frac * stages as f64).floor() as i64)
            .min(stages - 1)
            .max(0);
        SubJob {
            id: Some(id),
            name: Some(format!("runJob at FileFormatWriter.scala:{}", 266 + id)),
            submission_time: Some("Mon Jul 27 17:24:03 CST 2020".into()),
            stage_ids: (id * 10..id * 10 + stages).collect(),
            job_group: Some(job_id.to_string()),
            status: Some("RUNNING".into()),
            num_tasks: self.tasks,
            num_active_tasks: remaining.min(self.parallelism.max(1)),
            num_completed_tasks: done,
            num_completed_indices: done,
            num_active_stages: 1,
            num_completed_stages: stages_done,
            ..SubJob::default()
        }
    }
}

impl JobSpec {
    /// The job `t` seconds (job time) after it was created.
    pub fn at(&self, t: f64, job_id: &str) -> JobView {
        if let Some(at) = self.fails_at.map(Span::get)
            && t >= at
            && self.scripted_length().is_none_or(|l| at < l)
        {
            return JobView {
                status: JobStatus::Failed,
                sub_job_id: None,
                progress: 0.0,
                sub_job: None,
                ended_at: Some(at),
            };
        }
        let running = |sub_job_id, progress, sub_job| JobView {
            status: JobStatus::Running,
            sub_job_id,
            progress,
            sub_job,
            ended_at: None,
        };
        let mut clock = self.launching.get();
        if t < clock {
            return JobView {
                status: JobStatus::Launching,
                sub_job_id: None,
                progress: 0.0,
                sub_job: None,
                ended_at: None,
            };
        }
        for (i, s) in self.sub_jobs.iter().enumerate() {
            let id = i64::try_from(i).unwrap_or(0);
            clock += s.gap.get();
            if t < clock {
                return running(None, 0.0, None);
            }
            let run = s.run_time();
            if t < clock + run {
                let view = s.view(id, t - clock, job_id);
                let progress = if s.tasks > 0 {
                    view.num_completed_tasks as f64 / s.tasks as f64
                } else {
                    0.0
                };
                return running(Some(id), progress, Some(view));
            }
            clock += run;
        }
        clock += self.commit.get();
        if t < clock {
            return running(None, 0.0, None);
        }
        JobView {
            status: match self.end {
                End::Finished | End::Success => JobStatus::Finished,
                End::Failed { .. } | End::Dead { .. } => JobStatus::Failed,
                End::Cancelled => JobStatus::Cancelled,
            },
            sub_job_id: None,
            progress: 1.0,
            sub_job: None,
            ended_at: Some(clock),
        }
    }

    /// Total scripted length, if it ends.
    /// When the job ends (fails mid-way or as scripted), if it ends.
    pub fn length(&self) -> Option<f64> {
        let scripted = self.scripted_length();
        match self.fails_at.map(Span::get).filter(|a| a.is_finite()) {
            Some(a) => Some(scripted.map_or(a, |l| l.min(a))),
            None => scripted,
        }
    }

    fn scripted_length(&self) -> Option<f64> {
        let mut total = self.launching.get() + self.commit.get();
        for s in &self.sub_jobs {
            total += s.gap.get() + s.run_time();
        }
        total.is_finite().then_some(total)
    }

    /// What a user should expect this job to do (for `simulate`'s listing).
    pub fn expectation(&self) -> &'static str {
        if self.kind == JobKind::Spark {
            self.spark_expectation()
        } else if self.kind == JobKind::Flink {
            self.flink_expectation()
        } else if self.fails_at.is_some() {
            "fails"
        } else if self.sub_jobs.iter().any(|s| s.stall_at.is_some()) {
            "stalls"
        } else if self.length().is_none_or(|l| l > 86_400.0) {
            // Longer than a day is "never" for anyone trying a pipeline.
            "never ends"
        } else {
            match self.end {
                End::Finished | End::Success => "finishes",
                End::Failed { .. } | End::Dead { .. } => "fails",
                End::Cancelled => "is cancelled",
            }
        }
    }
}

impl Scenario {
    pub fn parse(text: &str) -> Result<Self, String> {
        let s: Scenario = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if !(s.speed > 0.0 && s.speed.is_finite()) {
            return Err("speed must be a positive number".into());
        }
        for (i, j) in s.jobs.iter().chain(s.templates.values()).enumerate() {
            for sj in &j.sub_jobs {
                if sj.tasks < 0 || sj.stages < 0 {
                    return Err(format!("job {i}: tasks and stages must not be negative"));
                }
            }
        }
        for (i, j) in s.jobs.iter().chain(s.templates.values()).enumerate() {
            if j.faults
                .iter()
                .any(|f| f.kind == FaultKindSpec::Custom && f.body.is_none())
            {
                return Err(format!("job {i}: a custom fault needs a body"));
            }
            j.check_kind().map_err(|e| format!("job {i}: {e}"))?;
        }
        if s.list_faults
            .iter()
            .any(|f| f.kind == FaultKindSpec::Custom && f.body.is_none())
        {
            return Err("list_faults: a custom fault needs a body".into());
        }
        for r in &s.submit_rules {
            if !s.templates.contains_key(&r.template) {
                return Err(format!(
                    "submit rule names an unknown template {:?}",
                    r.template
                ));
            }
        }
        Ok(s)
    }
}

/// The job id the simulator serves for a scenario's `id`: the id itself when it is a UUID
/// (as DLI's are), otherwise a UUID derived from it, the same every time (so a scenario can
/// name its jobs `job-fails` and a test can find them).
pub fn job_uuid(id_or_name: &str) -> String {
    use sha2::{Digest, Sha256};
    if crate::dli::job_id::is_job_id(id_or_name) {
        return id_or_name.to_string();
    }
    let mut b: [u8; 16] = [0; 16];
    b.copy_from_slice(&Sha256::digest(id_or_name.as_bytes())[..16]);
    b[6] = (b[6] & 0x0f) | 0x40; // version 4 layout
    b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_jobs_get_a_stable_uuid() {
        let id = job_uuid("job-fails");
        assert!(crate::dli::job_id::is_job_id(&id), "{id}");
        assert_eq!(id, job_uuid("job-fails"));
        assert_ne!(id, job_uuid("job-fails-too"));
        let real = "85798b38-ae44-48eb-bb90-7cf0dcdafe7b";
        assert_eq!(job_uuid(real), real);
    }

    fn spec() -> JobSpec {
        serde_json::from_str(
            r#"{"launching": "10s",
                "sub_jobs": [{"tasks": 100, "stages": 4, "duration": "100s",
                              "stragglers": {"tasks": 10, "extra": "50s"}},
                             {"gap": "5s", "tasks": 10, "duration": "10s"}],
                "commit": "5s",
                "end": {"status": "FAILED", "message": "DLI.0999: SparkException: Job aborted"}}"#,
        )
        .unwrap()
    }

    #[test]
    fn a_job_launches_runs_its_sub_jobs_and_ends() {
        let s = spec();
        assert_eq!(s.at(5.0, "j").status, JobStatus::Launching);
        let v = s.at(60.0, "j");
        assert_eq!(
            (v.status.clone(), v.sub_job_id),
            (JobStatus::Running, Some(0))
        );
        assert_eq!(v.sub_job.unwrap().num_completed_tasks, 45);
        // Stragglers: 90 done 100 s into the sub-job, then the last 10 crawl for 50 s.
        assert_eq!(s.at(115.0, "j").sub_job.unwrap().num_completed_tasks, 91);
        assert_eq!(s.at(162.0, "j").sub_job_id, None); // the gap
        let second = s.at(170.0, "j");
        assert_eq!(second.sub_job_id, Some(1));
        assert_eq!(second.sub_job.unwrap().stage_ids, vec![10]);
        assert_eq!(s.at(177.0, "j").status, JobStatus::Running); // commit
        assert_eq!(s.at(181.0, "j").status, JobStatus::Failed);
        assert_eq!(s.length(), Some(180.0));
        assert_eq!(s.expectation(), "fails");
    }

    #[test]
    fn tasks_in_waves_finish_a_parallelism_at_a_time() {
        let job: JobSpec = serde_json::from_value(serde_json::json!({
            "launching": "0s",
            "sub_jobs": [{"tasks": 100, "duration": "100s", "parallelism": 30, "waves": true}]
        }))
        .unwrap();
        // Four waves (30, 30, 30, 10) of 25 s each.
        let done = |t: f64| job.at(t, "j").sub_job.map(|s| s.num_completed_tasks);
        assert_eq!(done(24.9), Some(0));
        assert_eq!(done(25.0), Some(30));
        assert_eq!(done(74.0), Some(60));
        assert_eq!(done(99.0), Some(90));
        assert_eq!(job.length(), Some(100.0));
    }

    #[test]
    fn a_flat_start_shows_no_task_done_until_it_ends() {
        let job: JobSpec = serde_json::from_value(serde_json::json!({
            "sub_jobs": [{"tasks": 100, "duration": "100s", "flat_start": "60s"}]
        }))
        .unwrap();
        let done = |t: f64| job.at(t, "j").sub_job.map(|s| s.num_completed_tasks);
        assert_eq!(done(59.0), Some(0));
        // The 100 tasks finish in the 40 s left.
        assert_eq!(done(80.0), Some(50));
        assert_eq!(job.length(), Some(100.0));
        // Absent, it is not written out: scenario files stay as they were.
        let text = serde_json::to_string(&job.sub_jobs[0]).unwrap();
        assert!(text.contains("flat_start"));
        let plain: SubJobSpec =
            serde_json::from_value(serde_json::json!({"tasks": 1, "duration": 1})).unwrap();
        assert!(
            !serde_json::to_string(&plain)
                .unwrap()
                .contains("flat_start")
        );
    }

    #[test]
    fn stall_at_freezes_the_counts_forever() {
        let s: JobSpec = serde_json::from_str(
            r#"{"sub_jobs": [{"tasks": 10, "duration": "10s", "stall_at": 0.4}]}"#,
        )
        .unwrap();
        assert_eq!(s.at(8.0, "j").sub_job.unwrap().num_completed_tasks, 4);
        assert_eq!(s.at(1e6, "j").sub_job.unwrap().num_completed_tasks, 4);
        assert_eq!(s.expectation(), "stalls");
    }

    /// The scenarios docs/scenarios.md shows are scenarios the simulator takes.
    #[test]
    fn every_scenario_in_the_docs_parses() {
        let doc = include_str!("../../docs/scenarios.md");
        let blocks: Vec<&str> = doc
            .split("```json\n")
            .skip(1)
            .filter_map(|b| b.split("```").next())
            .collect();
        assert!(blocks.len() >= 5, "{}", blocks.len());
        for b in blocks {
            if let Err(e) = Scenario::parse(b) {
                panic!("docs/scenarios.md: {e}\n{b}");
            }
        }
    }

    #[test]
    fn bad_scenarios_are_refused_with_a_reason() {
        assert!(Scenario::parse(r#"{"speed": 0}"#).is_err());
        assert!(Scenario::parse(r#"{"jobs": [{"launching": "soon"}]}"#).is_err());
        assert!(Scenario::parse(r#"{"jobs": [{"bogus": 1}]}"#).is_err());
        assert!(
            Scenario::parse(r#"{"submit_rules": [{"contains": "x", "template": "nope"}]}"#)
                .is_err()
        );
    }
}
