//! The simulator's Flink jobs (`"type": "flink"` in a scenario): their `states` over time
//! (each a DLI status, how long it lasts, the job's `restart_times` and `status_desc` then),
//! a stop (`job_savepointing` first when asked for a savepoint, `job_canceling`, then
//! `job_cancel_success`), and the Flink routes of DLI's API under
//! `/v1.0/{project_id}/streaming/jobs`: a job's details (ShowFlinkJob) and the stop
//! (BatchStopFlinkJobs, whose answer is a JSON list), answered with the official SDK's models
//! (`dli::flink`).

use super::http::{Request, Response};
use super::scenario::{End, EndpointSpec, JobKind, JobSpec, Span};
use super::server::{Job, Simulator, error};
use crate::dli::flink::{FlinkJob, FlinkSuccess, ShowFlinkJobResponse, StopFlinkJobs};
use crate::dli::model::{Envelope, JobStatus, Phase};
use serde_json::json;
use std::time::UNIX_EPOCH;

/// What a Flink job shows at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct FlinkView {
    pub status: JobStatus,
    pub restart_times: i64,
    pub status_desc: String,
}

impl JobSpec {
    /// A Flink job's state `t` seconds (job time) after it was created.
    pub fn flink_at(&self, t: f64) -> FlinkView {
        let mut clock = 0.0;
        let mut restarts = 0;
        let mut view = FlinkView {
            status: JobStatus::from_flink("job_init"),
            restart_times: 0,
            status_desc: String::new(),
        };
        for (i, step) in self.states.iter().enumerate() {
            restarts = step.restart_times.unwrap_or(restarts);
            view = FlinkView {
                status: JobStatus::from_flink(&step.status),
                restart_times: restarts,
                status_desc: step.status_desc.clone(),
            };
            clock += step.lasts.get();
            if t < clock || i + 1 == self.states.len() {
                break;
            }
        }
        view
    }

    /// What a user should expect this job to do (for `simulate`'s listing).
    pub(super) fn flink_expectation(&self) -> &'static str {
        let last = self.flink_at(f64::INFINITY);
        let first = self.flink_at(0.0);
        match last.status.phase() {
            Phase::Ended(crate::dli::model::Ending::Finished) => "finishes",
            Phase::Ended(crate::dli::model::Ending::Failed) => "fails",
            Phase::Ended(crate::dli::model::Ending::Cancelled) => "is stopped",
            _ if last.restart_times > first.restart_times => "runs, restarting",
            _ => "runs until stopped",
        }
    }

    /// A Flink job has states and nothing of the other kinds' lives.
    pub(super) fn check_flink(&self) -> Result<(), String> {
        let zero = |s: Span| s.0.is_some_and(|d| d.is_zero());
        if self.states.is_empty() {
            return Err(
                "a Flink job needs \"states\": [{\"status\": \"job_running\", \"for\": \"5s\"}, …]"
                    .into(),
            );
        }
        let others = !zero(self.launching)
            || !zero(self.commit)
            || !self.sub_jobs.is_empty()
            || self.sync
            || self.fails_at.is_some()
            || !zero(self.starting)
            || !zero(self.running)
            || !zero(self.recovering)
            || self.end != End::Finished;
        if let Some(e) = self.faults.iter().map(|f| f.endpoint).find(|e| {
            !matches!(
                e,
                EndpointSpec::Any | EndpointSpec::Details | EndpointSpec::Cancel
            )
        }) {
            return Err(format!(
                "a Flink job has no {e:?} endpoint (details, cancel: its stop, or any)"
            ));
        }
        if others {
            return Err(
                "a Flink job's life is its \"states\" (launching, sub_jobs, commit, sync, fails_at, starting, running, recovering and end are the other kinds')"
                    .into(),
            );
        }
        Ok(())
    }
}

impl Simulator {
    /// The id the simulator serves a Flink job under: the scenario's when it is a Flink job
    /// id (a positive integer), otherwise one of its own (50000 + `n`).
    pub(super) fn flink_id(given: Option<&str>, n: u64) -> String {
        match given {
            Some(id) if crate::dli::job_id::flink_job_id_problem(id).is_none() => id.to_string(),
            _ => (50_000 + n).to_string(),
        }
    }

    /// The routes under `/v1.0/{project_id}/streaming/jobs`.
    pub(super) fn streaming(&self, req: &Request, rest: &[&str]) -> Response {
        let kind = JobKind::Flink;
        match (req.method.as_str(), rest) {
            ("POST", ["streaming", "jobs", "stop"]) => self.stop_flink(&req.body),
            ("GET", ["streaming", "jobs", id]) => {
                self.job_call_as(kind, id, "details", |sim, j, t| sim.flink_job(j, t))
            }
            _ => error(
                404,
                "APIGW.0101",
                "The API does not exist or has not been published in the environment.",
            ),
        }
    }

    /// The job at `t`: its script, or after a stop, the stop's states.
    fn flink_view(&self, job: &Job, t: f64) -> FlinkView {
        let scripted = job.spec.flink_at(t);
        let Some((asked, savepoint)) = job.stop else {
            return scripted;
        };
        let at_stop = job.spec.flink_at(asked);
        let takes = job.spec.cancel_takes.get();
        let word = if t >= asked + takes {
            "job_cancel_success"
        } else if savepoint && t < asked + takes / 2.0 {
            "job_savepointing"
        } else {
            "job_canceling"
        };
        FlinkView {
            status: JobStatus::from_flink(word),
            restart_times: at_stop.restart_times,
            status_desc: String::new(),
        }
    }

    fn flink_job(&self, job: &mut Job, t: f64) -> Response {
        let v = self.flink_view(job, t);
        let millis = |w: std::time::SystemTime| {
            w.duration_since(UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(0))
        };
        let created = millis(job.created_wall);
        let savepoint = job.stop.is_some_and(|(_, s)| s);
        let body = ShowFlinkJobResponse {
            envelope: Envelope {
                is_success: true,
                message: "Querying of the job details succeeds.".into(),
            },
            job_detail: Some(FlinkJob {
                job_id: job.id.parse().ok(),
                name: Some(
                    job.spec
                        .name
                        .clone()
                        .unwrap_or_else(|| "sim_flink_job".into()),
                ),
                desc: Some(String::new()),
                user_name: Some("simulator".into()),
                job_type: Some("flink_opensource_sql_job".into()),
                status: Some(v.status.clone()),
                status_desc: v.status_desc,
                create_time: Some(created),
                start_time: Some(created),
                duration: Some((t.max(0.0) / self.speed * 1000.0) as i64),
                root_id: Some(-1),
                user_id: Some("0123456789abcdef0123456789abcdef".into()),
                project_id: Some(self.project_id.clone()),
                sql_body: Some(job.statement.clone()),
                run_mode: Some("shared_cluster".into()),
                queue_name: Some("default".into()),
                update_time: Some(created),
                graph_editor_enabled: Some(false),
                has_savepoint: Some(savepoint),
                edge_group_ids: Some(Vec::new()),
                restart_times: Some(v.restart_times),
                savepoint_path: savepoint.then(|| format!("obs://sim/savepoint/{}/", job.id)),
                ..FlinkJob::default()
            }),
        };
        Response::json(200, &json!(body))
    }

    /// `POST …/streaming/jobs/stop`: one result per job, as a JSON list; a job that has ended
    /// cannot be stopped (its result says so, `is_success: false`).
    fn stop_flink(&self, body: &[u8]) -> Response {
        let stop: StopFlinkJobs = match serde_json::from_slice(body) {
            Ok(s) => s,
            Err(e) => return error(400, "DLI.0001", &format!("Parameter check errors: {e}")),
        };
        let savepoint = stop.trigger_savepoint;
        let mut results = Vec::new();
        for id in &stop.job_ids {
            let answer =
                self.job_call_as(JobKind::Flink, &id.to_string(), "cancel", |sim, j, t| {
                    Response::json(200, &json!(sim.stop_one(j, t, savepoint)))
                });
            // A scripted fault (or an unknown job) answers the whole request.
            match &answer {
                // Our own result is one object; a scripted body (a list, anything else) is
                // sent as it is.
                Response::Reply {
                    status: 200, body, ..
                } => match serde_json::from_slice::<serde_json::Value>(body) {
                    Ok(v) if v.is_object() => match serde_json::from_value::<FlinkSuccess>(v) {
                        Ok(r) => results.push(r),
                        Err(_) => return answer,
                    },
                    _ => return answer,
                },
                _ => return answer,
            }
        }
        Response::json(200, &json!(results))
    }

    fn stop_one(&self, job: &mut Job, t: f64, savepoint: bool) -> FlinkSuccess {
        let v = self.flink_view(job, t);
        if v.status.is_terminal() {
            return FlinkSuccess {
                is_success: false,
                message: format!(
                    "DLI.0007: The job {} is in {} state and cannot be stopped.",
                    job.id, v.status
                ),
            };
        }
        if job.stop.is_none() {
            job.stop = Some((t, savepoint));
        }
        FlinkSuccess {
            is_success: true,
            message: "The request for stopping DLI jobs is delivered successfully.".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(v: serde_json::Value) -> JobSpec {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_flink_job_goes_through_its_states_and_restarts() {
        let j = spec(json!({"type": "flink", "states": [
            {"status": "job_submitting", "for": "2s"},
            {"status": "job_running", "for": "3s"},
            {"status": "job_running", "for": "3s", "restart_times": 1},
            {"status": "job_finish"}
        ]}));
        assert!(j.check_flink().is_ok());
        assert_eq!(j.flink_at(0.5).status.as_str(), "job_submitting");
        assert_eq!(j.flink_at(2.5).restart_times, 0);
        assert_eq!(j.flink_at(5.5).restart_times, 1);
        assert_eq!(j.flink_at(100.0).status.as_str(), "job_finish");
        assert_eq!(j.flink_at(100.0).restart_times, 1);
        assert_eq!(j.flink_expectation(), "finishes");
        let bad = spec(json!({"type": "flink", "states": [], "launching": "1s"}));
        assert!(bad.check_flink().is_err());
        let bad = spec(
            json!({"type": "flink", "states": [{"status": "job_running"}],
            "faults": [{"kind": "queue_busy", "endpoint": "progress"}]}),
        );
        assert!(bad.check_flink().unwrap_err().contains("Progress"));
        assert_eq!(Simulator::flink_id(Some("50320"), 1), "50320");
        assert_eq!(Simulator::flink_id(Some("job-a"), 1), "50001");
    }
}
