//! The simulator's Spark batch jobs (`"type": "spark"` in a scenario): their life (`starting`,
//! `running`, `recovering`, then `success` or `dead`), and the batch routes of DLI's API under
//! `/v2.0/{project_id}/batches`: state, details (with the log's last lines), log, cancel and
//! create, each answered with the official SDK's models (`dli::spark`).

use super::http::{Request, Response};
use super::scenario::{End, EndpointSpec, JobKind, JobSpec, Span};
use super::server::{Job, Simulator, error};
use crate::dli::model::JobStatus;
use crate::dli::spark::{
    BatchDetails, BatchLog, BatchState, CancelBatchResponse, CreateBatchResponse, check_batch,
};
use serde_json::json;
use std::time::UNIX_EPOCH;

/// What a batch's log shows while it has not ended, and after it succeeded.
const STARTING_LOG: &[&str] = &[
    "INFO Client: Requesting a new application from cluster with 4 NodeManagers",
    "INFO Client: Application report for application_1700000000000_0001 (state: ACCEPTED)",
];
const RUNNING_LOG: &[&str] = &[
    "INFO Client: Application report for application_1700000000000_0001 (state: RUNNING)",
    "INFO Client: tracking URL: http://sim-master:8088/proxy/application_1700000000000_0001/",
];
const SUCCESS_LOG: &[&str] = &[
    "INFO Client: Application report for application_1700000000000_0001 (state: FINISHED)",
    "INFO Client: final status: SUCCEEDED",
    "stdout: ",
    "stderr: ",
    "YARN Diagnostics: ",
];
const KILLED_LOG: &[&str] = &[
    "INFO Client: Application report for application_1700000000000_0001 (state: KILLED)",
    "YARN Diagnostics: ",
    "Application application_1700000000000_0001 was killed by user simulator (DELETE /v2.0/{project_id}/batches/{batch_id})",
];

impl JobSpec {
    /// A batch's state `t` seconds (job time) after it was created, and when it ended.
    pub fn spark_at(&self, t: f64) -> (JobStatus, Option<f64>) {
        let mut clock = self.starting.get();
        if t < clock {
            return (JobStatus::Starting, None);
        }
        clock += self.running.get();
        if t < clock {
            return (JobStatus::Running, None);
        }
        clock += self.recovering.get();
        if t < clock {
            return (JobStatus::Recovering, None);
        }
        let end = match self.end {
            End::Dead { .. } => JobStatus::Dead,
            _ => JobStatus::Success,
        };
        (end, Some(clock))
    }

    /// What a user should expect this batch to do (for `simulate`'s listing).
    pub(super) fn spark_expectation(&self) -> &'static str {
        let length = self.starting.get() + self.running.get() + self.recovering.get();
        if !length.is_finite() || length > 86_400.0 {
            "never ends"
        } else if matches!(self.end, End::Dead { .. }) {
            "dies"
        } else {
            "succeeds"
        }
    }

    /// A SQL job with only SQL fields, a Spark batch with only a batch's: a field of the other
    /// kind would be ignored, so it is an error instead.
    pub(super) fn check_kind(&self) -> Result<(), String> {
        let zero = |s: Span| s.0.is_some_and(|d| d.is_zero());
        let spark_end = matches!(self.end, End::Success | End::Dead { .. });
        let endpoints = self.faults.iter().map(|f| f.endpoint);
        match self.kind {
            JobKind::Sql => {
                if !(zero(self.starting) && zero(self.running) && zero(self.recovering)) {
                    return Err(
                        "starting, running and recovering are for Spark batches (\"type\": \"spark\")"
                            .into(),
                    );
                }
                if spark_end {
                    return Err(
                        "a SQL job ends FINISHED, FAILED or CANCELLED (success and dead are a Spark batch's)"
                            .into(),
                    );
                }
                if let Some(e) = endpoints.into_iter().find(|e| {
                    matches!(
                        e,
                        EndpointSpec::State | EndpointSpec::Details | EndpointSpec::Log
                    )
                }) {
                    return Err(format!(
                        "a SQL job has no {e:?} endpoint (progress, status, cancel)"
                    ));
                }
            }
            JobKind::Spark => {
                let sql_life = !zero(self.launching)
                    || !zero(self.commit)
                    || !self.sub_jobs.is_empty()
                    || self.sync
                    || self.fails_at.is_some();
                if sql_life {
                    return Err(
                        "a Spark batch's life is starting, running, recovering and its end (launching, sub_jobs, commit, sync and fails_at are a SQL job's)"
                            .into(),
                    );
                }
                if !matches!(self.end, End::Finished | End::Success | End::Dead { .. }) {
                    return Err(
                        "a Spark batch ends {\"status\": \"success\"} or {\"status\": \"dead\", \"log\": [...]}"
                            .into(),
                    );
                }
                if let Some(e) = endpoints
                    .into_iter()
                    .find(|e| matches!(e, EndpointSpec::Progress | EndpointSpec::Status))
                {
                    return Err(format!(
                        "a Spark batch has no {e:?} endpoint (state, details, log, cancel)"
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A batch submitted with no Spark template to follow: a short one that succeeds.
fn default_batch() -> JobSpec {
    JobSpec {
        kind: JobKind::Spark,
        starting: Span(Some(std::time::Duration::from_secs(1))),
        running: Span(Some(std::time::Duration::from_secs(3))),
        end: End::Success,
        ..JobSpec::default()
    }
}

/// Epoch milliseconds.
pub(super) fn millis(t: std::time::SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(0))
}

impl Simulator {
    /// `…/v2.0/{project_id}/batches…`, the project already checked.
    pub(super) fn batches(&self, req: &Request, rest: &[&str]) -> Response {
        let kind = JobKind::Spark;
        match (req.method.as_str(), rest) {
            ("GET", ["batches", id, "state"]) => {
                self.job_call_as(kind, id, "state", |sim, j, t| sim.batch_state(j, t))
            }
            ("GET", ["batches", id]) => {
                self.job_call_as(kind, id, "details", |sim, j, t| sim.batch_details(j, t))
            }
            ("GET", ["batches", id, "log"]) => {
                self.job_call_as(kind, id, "log", |sim, j, t| sim.batch_log(j, t))
            }
            ("DELETE", ["batches", id]) => {
                self.job_call_as(kind, id, "cancel", |sim, j, t| sim.cancel_batch(j, t))
            }
            ("POST", ["batches"]) => self.submit_batch(&req.body),
            _ => error(
                404,
                "APIGW.0101",
                "The API does not exist or has not been published in the environment.",
            ),
        }
    }

    /// The batch at `t`: its state, when it ended, and whether our cancel killed it.
    pub(super) fn batch_view(&self, job: &Job, t: f64) -> (JobStatus, Option<f64>, bool) {
        match job.cancel_at {
            Some(at) if t >= at => (JobStatus::Dead, Some(at), true),
            _ => {
                let (state, ended) = job.spec.spark_at(t);
                (state, ended, false)
            }
        }
    }

    fn batch_state(&self, job: &mut Job, t: f64) -> Response {
        let (state, _, _) = self.batch_view(job, t);
        Response::json(
            200,
            &json!(BatchState {
                id: Some(job.id.clone()),
                state,
            }),
        )
    }

    /// The details' log: the scenario's for a dead batch, a few lines of DLI's otherwise.
    fn details_log(&self, job: &Job, state: &JobStatus, killed: bool) -> Vec<String> {
        let lines: &[&str] = match state {
            _ if killed => KILLED_LOG,
            JobStatus::Dead => {
                return match &job.spec.end {
                    End::Dead { log, .. } => log.clone(),
                    _ => Vec::new(),
                };
            }
            JobStatus::Success => SUCCESS_LOG,
            JobStatus::Starting => STARTING_LOG,
            _ => RUNNING_LOG,
        };
        lines.iter().map(|l| (*l).to_string()).collect()
    }

    fn batch_details(&self, job: &mut Job, t: f64) -> Response {
        let (state, ended, killed) = self.batch_view(job, t);
        let created = millis(job.created_wall);
        let body: serde_json::Value = serde_json::from_str(&job.statement).unwrap_or_default();
        let text = |k: &str| body.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let run_ms = (ended.unwrap_or(t).max(0.0) / self.speed * 1000.0) as i64;
        let started = state != JobStatus::Starting;
        let details = BatchDetails {
            id: Some(job.id.clone()),
            log: self.details_log(job, &state, killed),
            state,
            app_id: started.then(|| "application_1700000000000_0001".to_string()),
            create_time: Some(created),
            update_time: Some(created + run_ms),
            name: job.batch_name(),
            owner: Some("simulator".into()),
            proxy_user: Some("simulator".into()),
            kind: Some(kind_of(text("file").as_deref())),
            queue: Some(job.meta.queue.clone()),
            req_body: Some(job.statement.clone()),
            feature: Some("basic".into()),
            spark_version: Some("3.3.1".into()),
            ..BatchDetails::default()
        };
        Response::json(200, &json!(details))
    }

    fn batch_log(&self, job: &mut Job, t: f64) -> Response {
        let (state, _, killed) = self.batch_view(job, t);
        let log: Vec<String> = match (&job.spec.end, &state) {
            (End::Dead { driver_log, .. }, JobStatus::Dead) if !killed => driver_log.clone(),
            _ => self.details_log(job, &state, killed),
        };
        let total = i64::try_from(log.len()).unwrap_or(0);
        Response::json(
            200,
            &json!(BatchLog {
                id: Some(job.id.clone()),
                from: Some(0),
                total: Some(total),
                log,
            }),
        )
    }

    fn cancel_batch(&self, job: &mut Job, t: f64) -> Response {
        let (state, _, _) = self.batch_view(job, t);
        if state.is_terminal() {
            return error(
                400,
                "DLI.0007",
                &format!(
                    "The batch is in {} state and cannot be cancelled.",
                    state.as_str().to_ascii_lowercase()
                ),
            );
        }
        if job.cancel_at.is_none() {
            job.cancel_at = Some(t + job.spec.cancel_takes.get());
        }
        Response::json(
            200,
            &json!(CancelBatchResponse {
                msg: "deleted".into()
            }),
        )
    }

    /// `POST …/batches`: checked as the SDK's model requires (`file`, `className`), then a
    /// batch from the first Spark template whose rule matches the body's text, else
    /// `spark_default`, else a short batch that succeeds.
    fn submit_batch(&self, body: &[u8]) -> Response {
        let batch = match check_batch(body) {
            Ok(b) => b,
            Err(why) => return error(400, "DLI.0001", &format!("Parameter check errors: {why}")),
        };
        let text = batch.to_string();
        let template = self
            .template_for(&text, JobKind::Spark, "spark_default")
            .unwrap_or_else(default_batch);
        if let Some(r) = &template.reject {
            return error(400, &r.code, &r.message);
        }
        let raw = template.id.clone();
        let meta = super::meta::Meta::of_batch(&batch);
        let id = self.add_job_with(template, text, raw, meta, std::time::Duration::ZERO);
        let now = millis(std::time::SystemTime::now());
        let text = |k: &str| batch.get(k).and_then(|v| v.as_str()).map(str::to_string);
        Response::json(
            200,
            &json!(CreateBatchResponse {
                id: Some(id),
                state: Some("starting".into()),
                log: Some(Vec::new()),
                create_time: Some(now),
                update_time: Some(now),
                name: text("name"),
                owner: Some("simulator".into()),
                proxy_user: Some("simulator".into()),
                kind: Some(kind_of(text("file").as_deref())),
                queue: text("queue").or_else(|| Some("default".into())),
                duration: Some(0),
                ..CreateBatchResponse::default()
            }),
        )
    }
}

/// `pyspark` for a Python application, `spark` otherwise (as DLI's `kind`).
fn kind_of(file: Option<&str>) -> String {
    if file.is_some_and(|f| f.ends_with(".py")) {
        "pyspark".into()
    } else {
        "spark".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::scenario::Scenario;

    fn spec(v: serde_json::Value) -> JobSpec {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_batch_starts_runs_recovers_and_ends() {
        let s = spec(json!({"type": "spark", "starting": "10s", "running": "20s",
                            "recovering": "5s", "end": {"status": "dead", "log": ["x"]}}));
        assert_eq!(s.spark_at(0.0), (JobStatus::Starting, None));
        assert_eq!(s.spark_at(10.0), (JobStatus::Running, None));
        assert_eq!(s.spark_at(31.0), (JobStatus::Recovering, None));
        assert_eq!(s.spark_at(35.0), (JobStatus::Dead, Some(35.0)));
        assert_eq!(s.expectation(), "dies");
        let ok = spec(json!({"type": "spark", "running": "1s"}));
        assert_eq!(ok.spark_at(2.0).0, JobStatus::Success);
        assert_eq!(ok.expectation(), "succeeds");
        let never = spec(json!({"type": "spark", "starting": "forever"}));
        assert_eq!(never.expectation(), "never ends");
    }

    #[test]
    fn fields_of_the_other_kind_are_refused() {
        for bad in [
            r#"{"jobs": [{"type": "spark", "sub_jobs": [{"tasks": 1, "duration": "1s"}]}]}"#,
            r#"{"jobs": [{"type": "spark", "end": {"status": "FAILED"}}]}"#,
            r#"{"jobs": [{"type": "spark", "faults": [{"kind": "reset", "endpoint": "progress"}]}]}"#,
            r#"{"jobs": [{"starting": "1s"}]}"#,
            r#"{"jobs": [{"end": {"status": "success"}}]}"#,
            r#"{"jobs": [{"faults": [{"kind": "reset", "endpoint": "state"}]}]}"#,
            r#"{"templates": {"b": {"type": "spark", "launching": "1s"}}}"#,
        ] {
            assert!(Scenario::parse(bad).is_err(), "{bad}");
        }
        assert!(
            Scenario::parse(
                r#"{"jobs": [{"type": "spark", "starting": "1s", "faults": [{"kind": "reset", "endpoint": "state"}]}]}"#
            )
            .is_ok()
        );
    }
}
