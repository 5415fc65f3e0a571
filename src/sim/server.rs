//! The simulated DLI service: checks credentials like DLI's API gateway, serves progress,
//! status, cancel and submit from the scenario's scripted jobs (Spark batches: `sim::spark`),
//! and injects scripted faults.

use super::http::{Request, Response};
use super::scenario::{
    End, EndpointSpec, FaultKindSpec, FaultSpec, JobKind, JobSpec, Scenario, Span,
};
use crate::dli::model::{
    CancelJobResponse, DEFAULT_QUEUE, Envelope, JobStatus, JobStatusInfo, SubmitJob,
    SubmitJobResponse,
};
use crate::dli::sign::{AuthorizationHeader, SignableRequest, parse_sdk_date, sign_with};
use percent_encoding::percent_decode_str;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub const DEFAULT_PROJECT_ID: &str = "0123456789abcdef0123456789abcdef";
pub const DEFAULT_AK: &str = "SIMULATORAK0000000001";
pub const DEFAULT_SK: &str = "simulator-secret-key-not-for-production";

/// The gateway rejects an X-Sdk-Date further than this from its clock.
const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

/// One request the simulator received (for tests and `/_sim/requests`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Logged {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub at_ms: u128,
    /// It carried `X-Security-Token` (temporary keys); the value itself is not kept.
    pub security_token: bool,
    /// The serial number of the temporary key it was signed with (1 for the first the
    /// simulated IAM or metadata service issued), if one.
    pub temporary_key: Option<u64>,
}

pub(super) struct Job {
    pub(super) id: String,
    pub(super) spec: JobSpec,
    created: Instant,
    pub(super) created_wall: SystemTime,
    /// The SQL, or a batch's body.
    pub(super) statement: String,
    /// Job time at which a cancel takes effect.
    pub(super) cancel_at: Option<f64>,
    /// (Flink) When the stop was asked for (job time), and whether with a savepoint.
    pub(super) stop: Option<(f64, bool)>,
    seen: HashMap<&'static str, u32>,
    /// What the submit (or the scenario) gave it besides the statement: tags, queue, DLI's
    /// own deadline (`sim::lists`).
    pub(super) meta: super::meta::Meta,
}

impl Job {
    /// Real time since it was created.
    pub(super) fn created_elapsed(&self) -> f64 {
        self.created.elapsed().as_secs_f64()
    }
}

/// The simulator's state. Handlers take `&self`; a mutex guards the jobs.
pub struct Simulator {
    pub project_id: String,
    pub ak: String,
    pub sk: String,
    pub token: Option<String>,
    pub(super) speed: f64,
    pub(super) started: Instant,
    pub(super) jobs: Mutex<Vec<Job>>,
    templates: std::collections::BTreeMap<String, JobSpec>,
    rules: Vec<super::scenario::SubmitRule>,
    /// Scripted faults of the job lists (`list_faults`), and how many lists were asked for.
    pub(super) list_faults: Vec<FaultSpec>,
    /// The lists ignore their key filters (`lists_ignore_filters`).
    pub(super) lists_ignore_filters: bool,
    pub(super) lists_seen: AtomicU64,
    log: Mutex<Vec<Logged>>,
    /// The simulated IAM and ECS metadata service (and the temporary keys they issued).
    pub iam: super::iam::Iam,
    next_id: AtomicU64,
    next_request: AtomicU64,
}

pub(super) fn error(status: u16, code: &str, msg: &str) -> Response {
    Response::json(status, &json!({"error_code": code, "error_msg": msg}))
}

fn generated_id(n: u64) -> String {
    format!("5e1f0000-0000-4000-8000-{n:012x}")
}

impl Simulator {
    pub fn new(s: Scenario) -> Self {
        let now = Instant::now();
        let sim = Simulator {
            project_id: s.project_id.unwrap_or_else(|| DEFAULT_PROJECT_ID.into()),
            ak: s.ak.unwrap_or_else(|| DEFAULT_AK.into()),
            sk: s.sk.unwrap_or_else(|| DEFAULT_SK.into()),
            token: s.token,
            speed: s.speed,
            started: now,
            jobs: Mutex::new(Vec::new()),
            templates: s.templates,
            rules: s.submit_rules,
            list_faults: s.list_faults,
            lists_ignore_filters: s.lists_ignore_filters,
            lists_seen: AtomicU64::new(0),
            log: Mutex::new(Vec::new()),
            iam: super::iam::Iam::new(s.credentials, s.speed),
            next_id: AtomicU64::new(1),
            next_request: AtomicU64::new(1),
        };
        for spec in s.jobs {
            sim.add_job(spec);
        }
        sim
    }

    /// Add a scenario's job; its id is the spec's (a name becomes a UUID, see `job_uuid`; a
    /// Flink job's, an integer), or fresh. Its `ago` has passed already: it was created that
    /// long before now.
    fn add_job(&self, spec: JobSpec) -> String {
        let id = if spec.kind == JobKind::Flink {
            Some(Simulator::flink_id(
                spec.id.as_deref(),
                self.next_id.fetch_add(1, Ordering::Relaxed),
            ))
        } else {
            spec.id.as_deref().map(super::scenario::job_uuid)
        };
        let statement = spec.statement.clone().unwrap_or_else(|| "SELECT 1".into());
        let meta = super::meta::Meta::of_scenario(&spec);
        let ago = Duration::from_secs_f64((spec.ago.get() / self.speed).clamp(0.0, 1e9));
        self.add_job_with(spec, statement, id, meta, ago)
    }

    /// Add a job under `id` (fresh when `None`) with `meta`, created `ago` before now.
    pub(super) fn add_job_with(
        &self,
        spec: JobSpec,
        statement: String,
        id: Option<String>,
        meta: super::meta::Meta,
        ago: Duration,
    ) -> String {
        let id = id.unwrap_or_else(|| generated_id(self.next_id.fetch_add(1, Ordering::Relaxed)));
        let now = Instant::now();
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.push(Job {
                id: id.clone(),
                spec,
                created: now.checked_sub(ago).unwrap_or(now),
                created_wall: SystemTime::now()
                    .checked_sub(ago)
                    .unwrap_or_else(SystemTime::now),
                statement,
                cancel_at: None,
                stop: None,
                seen: HashMap::new(),
                meta,
            });
        }
        id
    }

    /// `(id, name, what to expect)` of every job, in creation order.
    pub fn job_list(&self) -> Vec<(String, Option<String>, &'static str)> {
        self.jobs
            .lock()
            .map(|jobs| {
                jobs.iter()
                    .map(|j| (j.id.clone(), j.spec.name.clone(), j.spec.expectation()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Logged> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Handle one HTTP request.
    pub fn handle(&self, req: Request) -> Response {
        let request_id = format!(
            "sim-{:08x}",
            self.next_request.fetch_add(1, Ordering::Relaxed)
        );
        let mut resp = self.route(&req);
        // Like the gateway, error bodies carry the request id too.
        if let Response::Reply { status, body, .. } = &mut resp
            && *status >= 400
            && let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(body)
            && v.get("error_code").is_some()
        {
            v["request_id"] = json!(request_id);
            *body = v.to_string().into_bytes();
        }
        let status = match &resp {
            Response::Reply { status, .. } => *status,
            Response::Reset => 0,
        };
        if let Ok(mut log) = self.log.lock() {
            log.push(Logged {
                method: req.method.clone(),
                path: req.path.clone(),
                status,
                at_ms: self.started.elapsed().as_millis(),
                security_token: req.header("X-Security-Token").is_some(),
                temporary_key: req
                    .header("authorization")
                    .and_then(AuthorizationHeader::parse)
                    .and_then(|a| self.iam.serial(&a.access)),
            });
        }
        resp.with_header("X-Request-Id", &request_id)
    }

    fn route(&self, req: &Request) -> Response {
        if req.path == "/_sim/requests" {
            return Response::json(200, &json!(self.requests()));
        }
        if req.path == "/_sim/health" {
            return Response::json(200, &json!({"ok": true}));
        }
        if req.path == "/_sim/credentials" {
            return Response::json(200, &self.iam.details());
        }
        if let Some(answer) = self.iam.route(req) {
            return answer;
        }
        if let Err(resp) = self.authenticate(req) {
            return resp;
        }
        let segs: Vec<String> = req
            .path
            .split('/')
            .skip(1)
            .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
            .collect();
        let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
        let (version, project, rest) = match segs.as_slice() {
            [v, p, rest @ ..] if matches!(*v, "v1" | "v1.0" | "v2.0") => (*v, *p, rest),
            _ => {
                return error(
                    404,
                    "APIGW.0101",
                    "The API does not exist or has not been published in the environment.",
                );
            }
        };
        if project != self.project_id {
            return error(
                400,
                "DLI.0002",
                &format!("The project {project} does not exist or you have no access to it."),
            );
        }
        match (req.method.as_str(), version, rest) {
            ("GET", _, ["jobs", id, "progress"]) => {
                self.job_call(id, "progress", |sim, j, t| sim.progress(j, t))
            }
            ("GET", "v1.0", ["jobs", id, "status"]) => {
                self.job_call(id, "status", |sim, j, t| sim.status(j, t))
            }
            ("GET", "v1.0", ["jobs", id, "preview"]) => {
                self.job_call(id, "preview", |sim, j, t| sim.preview(j, t))
            }
            ("DELETE", "v1.0", ["jobs", id]) => {
                self.job_call(id, "cancel", |sim, j, t| sim.cancel(j, t))
            }
            ("POST", "v1.0", ["jobs", "submit-job"]) => self.submit(&req.body),
            ("GET", "v1.0", ["jobs"]) => self.list_sql_jobs(req.query.as_deref()),
            ("GET", "v2.0", ["batches"]) => self.list_batches(req.query.as_deref()),
            (_, "v2.0", ["batches", ..]) => self.batches(req, rest),
            (_, "v1.0", ["streaming", "jobs", ..]) => self.streaming(req, rest),
            _ => error(
                404,
                "APIGW.0101",
                "The API does not exist or has not been published in the environment.",
            ),
        }
    }

    /// Like the API gateway: a valid `X-Auth-Token`, or an AK/SK signature over the headers
    /// the client listed, with an `X-Sdk-Date` within 15 minutes.
    fn authenticate(&self, req: &Request) -> Result<(), Response> {
        let reject = |msg: String| {
            Err(error(
                401,
                "APIGW.0301",
                &format!("Incorrect IAM authentication information: {msg}"),
            ))
        };
        if let Some(token) = req.header("x-auth-token") {
            return match &self.token {
                Some(t) if t == token => Ok(()),
                _ => Err(error(401, "APIGW.0307", "The token must be updated.")),
            };
        }
        let Some(auth) = req
            .header("authorization")
            .and_then(AuthorizationHeader::parse)
        else {
            return reject("no SDK-HMAC-SHA256 Authorization header".into());
        };
        // The scenario's key pair, or temporary keys the simulated IAM or metadata service
        // issued (checked against their security token and expiry first, as the gateway).
        let sk = if auth.access == self.ak {
            self.sk.clone()
        } else {
            match self
                .iam
                .check(&auth.access, req.header("X-Security-Token").map(str::trim))
            {
                None => return reject("ak not found".into()),
                Some(Ok(sk)) => sk,
                Some(Err(super::iam::Refusal::Expired)) => {
                    return Err(error(401, "APIGW.0307", "The token must be updated."));
                }
                Some(Err(super::iam::Refusal::WrongToken)) => {
                    return reject("the security token does not belong to the ak".into());
                }
            }
        };
        if !auth.signed_headers.iter().any(|h| h == "x-sdk-date") {
            return reject("x-sdk-date must be signed".into());
        }
        let Some(date) = req.header("x-sdk-date").and_then(parse_sdk_date) else {
            return reject("missing or malformed X-Sdk-Date".into());
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let skew = now.abs_diff(u64::try_from(date).unwrap_or(0));
        if skew > MAX_SKEW.as_secs() {
            return Err(error(
                401,
                "APIGW.0303",
                "Incorrect app authentication information: the X-Sdk-Date is more than 15 minutes off the server's time (check the client's clock).",
            ));
        }
        let query: Vec<(String, String)> = req
            .query
            .as_deref()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        let signable = SignableRequest {
            method: &req.method,
            path: &req.path,
            query: &query,
            headers: &req.headers,
            body: &req.body,
        };
        let expected = sign_with(&signable, &auth.signed_headers, &sk);
        if expected.signature != auth.signature {
            return reject(format!(
                "verify aksk signature fail, canonicalRequest: {}",
                expected.canonical_request.replace('\n', "|")
            ));
        }
        Ok(())
    }

    fn job_call(
        &self,
        id: &str,
        endpoint: &'static str,
        answer: impl FnOnce(&Self, &mut Job, f64) -> Response,
    ) -> Response {
        self.job_call_as(JobKind::Sql, id, endpoint, answer)
    }

    /// Answer a call about the job `id` of this `kind` (SQL jobs and Spark batches are apart,
    /// as in DLI): a scripted fault, or `answer` at the job's time.
    pub(super) fn job_call_as(
        &self,
        kind: JobKind,
        id: &str,
        endpoint: &'static str,
        answer: impl FnOnce(&Self, &mut Job, f64) -> Response,
    ) -> Response {
        let Ok(mut jobs) = self.jobs.lock() else {
            return error(500, "DLI.0999", "simulator state poisoned");
        };
        let Some(job) = jobs.iter_mut().find(|j| j.id == id && j.spec.kind == kind) else {
            let what = match kind {
                JobKind::Spark => "batch",
                JobKind::Flink => "Flink job",
                JobKind::Sql => "job",
            };
            return error(400, "DLI.0002", &format!("The {what} {id} does not exist."));
        };
        let n = {
            let c = job.seen.entry(endpoint).or_insert(0);
            *c += 1;
            *c
        };
        let t = job.created.elapsed().as_secs_f64() * self.speed;
        let fault = job
            .spec
            .faults
            .iter()
            .find(|f| applies(f, endpoint, n, t))
            .cloned();
        match fault {
            Some(f) if f.kind == FaultKindSpec::Slow => {
                let delay = f.delay.and_then(|d| d.0).unwrap_or(Duration::from_secs(60));
                answer(self, job, t).delayed(delay)
            }
            Some(f) => fault_response(&f),
            None => answer(self, job, t),
        }
    }

    /// The job at `t`: as scripted, unless a cancel (ours, or DLI's own deadline,
    /// `dli.sql.job.timeout`) ended it first.
    pub(super) fn view(&self, job: &Job, t: f64) -> super::scenario::JobView {
        let scripted = job.spec.at(t, &job.id);
        let stop = match (job.cancel_at, job.meta.deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match stop {
            Some(at) if t >= at && scripted.ended_at.is_none_or(|e| e > at) => {
                super::scenario::JobView {
                    status: JobStatus::Cancelled,
                    sub_job_id: None,
                    progress: 0.0,
                    sub_job: None,
                    ended_at: Some(at),
                }
            }
            _ => scripted,
        }
    }

    /// What `/status` (and the job list) says of the job at `t`: the reason of a failure or a
    /// cancel, and more on a failure.
    pub(super) fn message_of(
        &self,
        job: &Job,
        v: &super::scenario::JobView,
    ) -> (String, Option<String>) {
        match (&v.status, &job.spec.end) {
            (JobStatus::Failed, End::Failed { message, detail }) => {
                (message.clone(), detail.clone())
            }
            (JobStatus::Cancelled, _) => (job.meta.cancel_message(v.ended_at, job.cancel_at), None),
            _ => (String::new(), None),
        }
    }

    fn progress(&self, job: &mut Job, t: f64) -> Response {
        let body = self.view(job, t).into_progress(Some(job.id.clone()));
        Response::json(200, &json!(body))
    }

    fn status(&self, job: &mut Job, t: f64) -> Response {
        let v = self.view(job, t);
        let (message, detail) = self.message_of(job, &v);
        let run_s = v.ended_at.unwrap_or(t).max(0.0) / self.speed;
        let finished = v.status == JobStatus::Finished;
        let body = JobStatusInfo {
            envelope: Envelope {
                is_success: true,
                message,
            },
            job_id: Some(job.id.clone()),
            job_type: Some(job_type_of(&job.statement).into()),
            job_mode: Some("async".into()),
            queue_name: Some(job.meta.queue.clone()),
            owner: Some("simulator".into()),
            start_time: Some(
                job.created_wall
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(0)),
            ),
            duration: Some((run_s * 1000.0) as i64),
            status: v.status.clone(),
            input_size: Some(job.spec.input_size.unwrap_or(0)),
            result_count: Some(match finished.then(|| result_of(job)) {
                Some(r) => r.count.unwrap_or(i64::try_from(r.rows.len()).unwrap_or(i64::MAX)),
                None => 0,
            }),
            database_name: Some("default".into()),
            // For a finished query DLI's `detail` is the result schema; for a failure, more on why.
            detail: detail.or_else(|| {
                (v.status == JobStatus::Finished).then(|| {
                    r#"{"type":"struct","fields":[{"name":"id","type":"integer","nullable":true,"metadata":{}}]}"#.into()
                })
            }),
            statement: Some(job.statement.clone()),
            user_conf: (!job.meta.conf.is_empty()).then(|| job.meta.conf.join(",")),
            tags: (!job.meta.tags.is_empty()).then(|| job.meta.tags.clone()),
            ..JobStatusInfo::default()
        };
        Response::json(200, &json!(body))
    }

    /// `/preview`: a FINISHED query's first rows (at most 1000) from its scenario's `result`;
    /// refused, as DLI does, for jobs on the `default` queue and for jobs not FINISHED.
    fn preview(&self, job: &mut Job, t: f64) -> Response {
        if job.meta.queue == DEFAULT_QUEUE {
            return error(
                400,
                "DLI.0001",
                "Do not support use default queue to getJobResult",
            );
        }
        let v = self.view(job, t);
        if v.status != JobStatus::Finished {
            return error(
                400,
                "DLI.0001",
                &format!("The job is in {} state; it has no result yet.", v.status),
            );
        }
        let spec = result_of(job);
        let rows: Vec<_> = spec.rows.iter().take(PREVIEW_ROWS).collect();
        Response::json(
            200,
            &json!({
                "is_success": true,
                "message": "",
                "job_id": job.id,
                "job_type": "QUERY",
                "row_count": rows.len(),
                "input_size": job.spec.input_size.unwrap_or(0),
                "schema": spec.schema,
                "rows": rows,
            }),
        )
    }

    fn cancel(&self, job: &mut Job, t: f64) -> Response {
        let v = self.view(job, t);
        if v.status.is_terminal() {
            return error(
                400,
                "DLI.0007",
                &format!("The job is in {} state and cannot be cancelled.", v.status),
            );
        }
        if job.cancel_at.is_none() {
            job.cancel_at = Some(t + job.spec.cancel_takes.get());
        }
        Response::json(
            200,
            &json!(CancelJobResponse {
                envelope: Envelope::default()
            }),
        )
    }

    fn submit(&self, body: &[u8]) -> Response {
        let job: SubmitJob = match serde_json::from_slice(body) {
            Ok(j) => j,
            Err(e) => return error(400, "DLI.0001", &format!("Parameter check errors: {e}")),
        };
        if job.sql.trim().is_empty() {
            return error(400, "DLI.0001", "Parameter check errors: sql is empty.");
        }
        let meta = match super::meta::Meta::of_submit(&job, self.speed) {
            Ok(m) => m,
            Err(why) => return error(400, "DLI.0001", &format!("Parameter check errors: {why}")),
        };
        let template = self
            .template_for(&job.sql, JobKind::Sql, "default")
            .unwrap_or_else(default_template);
        if let Some(r) = &template.reject {
            return error(400, &r.code, &r.message);
        }
        let sync = template.sync;
        // A template's `id`, when it has one, is the submitted job's (tests of odd ids);
        // otherwise each submit gets a fresh one.
        let raw = template.id.clone();
        let id = self.add_job_with(template, job.sql.clone(), raw, meta, Duration::ZERO);
        Response::json(
            200,
            &json!(SubmitJobResponse {
                job_id: Some(id),
                job_type: Some(if sync { "DDL" } else { "QUERY" }.into()),
                job_mode: Some(if sync { "sync" } else { "async" }.into()),
                ..SubmitJobResponse::default()
            }),
        )
    }
}

impl Simulator {
    /// The template for a submit of `kind` whose text is `text`: the first rule that matches
    /// it and names a template of that kind, else the template named `default_name`.
    pub(super) fn template_for(
        &self,
        text: &str,
        kind: JobKind,
        default_name: &str,
    ) -> Option<JobSpec> {
        let of_kind = |name: &str| self.templates.get(name).filter(|t| t.kind == kind);
        self.rules
            .iter()
            .filter(|r| text.contains(&r.contains))
            .find_map(|r| of_kind(&r.template))
            .or_else(|| of_kind(default_name))
            .cloned()
    }
}

/// How many rows DLI's preview gives at most.
const PREVIEW_ROWS: usize = 1000;

/// DLI's `job_type` for a statement: `INSERT` for an INSERT, else `QUERY`.
/// A FINISHED job's result, as `/status` counts it and `/preview` serves it (they agree): the
/// scenario's `result`; unscripted, a query's 4 rows of `id` (the schema `/status`'s detail
/// gives), an INSERT's 4 rows written and no result to preview.
fn result_of(job: &Job) -> super::scenario::ResultSpec {
    if let Some(r) = &job.spec.result {
        return r.clone();
    }
    if job_type_of(&job.statement) == "QUERY" {
        super::scenario::ResultSpec {
            schema: vec![json!({"id": "integer"})],
            rows: (1..=4).map(|i| vec![json!(i)]).collect(),
            count: None,
        }
    } else {
        super::scenario::ResultSpec {
            count: Some(4),
            ..super::scenario::ResultSpec::default()
        }
    }
}

fn job_type_of(statement: &str) -> &'static str {
    let first = statement.split_whitespace().next().unwrap_or_default();
    if first.eq_ignore_ascii_case("INSERT") {
        "INSERT"
    } else {
        "QUERY"
    }
}

/// Submitted SQL without a matching template: a short job that finishes.
fn default_template() -> JobSpec {
    serde_json::from_value(json!({
        "launching": "1s",
        "sub_jobs": [{"tasks": 20, "stages": 2, "duration": "3s"}],
        "commit": "500ms"
    }))
    .unwrap_or_default()
}

fn applies(f: &FaultSpec, endpoint: &str, n: u32, t: f64) -> bool {
    let endpoint_ok = match f.endpoint {
        EndpointSpec::Any => endpoint != "cancel",
        EndpointSpec::Progress => endpoint == "progress",
        EndpointSpec::Status => endpoint == "status",
        EndpointSpec::Preview => endpoint == "preview",
        EndpointSpec::Cancel => endpoint == "cancel",
        EndpointSpec::State => endpoint == "state",
        EndpointSpec::Details => endpoint == "details",
        EndpointSpec::Log => endpoint == "log",
    };
    if !endpoint_ok {
        return false;
    }
    if let Some([a, b]) = f.requests {
        return n >= a && n <= b;
    }
    let from = f.from.map_or(0.0, Span::get);
    let until = f.until.map_or(f64::INFINITY, Span::get);
    t >= from && t < until
}

pub(super) fn fault_response(f: &FaultSpec) -> Response {
    let with_retry_after = |r: Response| match &f.retry_after {
        Some(v) => r.with_header("Retry-After", v),
        None => r,
    };
    match f.kind {
        FaultKindSpec::QueueBusy => error(
            400,
            "DLI.0999",
            "The queue backend version is too old or the queue is busy.",
        ),
        FaultKindSpec::QueueBusyOk => Response::json(
            200,
            &json!({"is_success": false, "message": "DLI.0999: The queue backend version is too old or the queue is busy."}),
        ),
        FaultKindSpec::Throttled => with_retry_after(error(
            429,
            "APIGW.0308",
            "The throttling threshold has been reached: policy user over ratelimit, limit:10, time:1 second",
        )),
        FaultKindSpec::ServerError => with_retry_after(error(
            f.status.unwrap_or(503),
            "DLI.0500",
            "Internal server error.",
        )),
        FaultKindSpec::HtmlPage => Response::raw(
            502,
            "text/html",
            "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
        ),
        FaultKindSpec::Reset => Response::Reset,
        FaultKindSpec::Malformed => Response::raw(
            200,
            "application/json",
            r#"{"is_success": true, "message": "", "status": "RUNN"#,
        ),
        FaultKindSpec::Unauthorized => error(
            401,
            "APIGW.0301",
            "Incorrect IAM authentication information: the security token has expired.",
        ),
        FaultKindSpec::Slow => Response::raw(200, "application/json", "{}"),
        FaultKindSpec::Custom => {
            let body = match &f.body {
                Some(serde_json::Value::String(text)) => text.clone(),
                Some(v) => v.to_string(),
                None => String::new(),
            };
            Response::raw(f.status.unwrap_or(200), "application/json", body)
        }
    }
}
