//! DLI's Flink jobs: their bodies (the official SDK's `ShowFlinkJobResponse` with its `FlinkJob`,
//! `StopFlinkJobsRequestBody` and `BatchStopFlinkJobsResponse`, field for field and under
//! their JSON names), and the client calls on `/v1.0/{project_id}/streaming/jobs`. Flink job
//! ids are positive integers (`dli::job_id::flink_job_id_problem`); the one table of their
//! states and what each means is `model::FLINK_STATES`.

use super::client::{DliClient, about};
use super::fault::Fault;
use super::model::{BodyFacts, DliBody, Envelope, JobStatus, Phase};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::time::Duration;

/// `null`, absent or not a string: no status.
fn flink_status<'de, D: Deserializer<'de>>(d: D) -> Result<Option<JobStatus>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match v {
        Some(serde_json::Value::String(s)) => Some(JobStatus::from_flink(&s)),
        _ => None,
    })
}

fn write_status<S: Serializer>(status: &Option<JobStatus>, s: S) -> Result<S::Ok, S::Error> {
    match status {
        Some(st) => s.serialize_str(st.as_str()),
        None => s.serialize_none(),
    }
}

/// `is_success` as the Flink APIs write it: a boolean, or (as the SDK types it) the text
/// `"true"`/`"false"`; missing or `null` is success, as in the SDKs.
fn str_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match v {
        Some(serde_json::Value::Bool(b)) => b,
        Some(serde_json::Value::String(s)) => !s.trim().eq_ignore_ascii_case("false"),
        _ => true,
    })
}

fn yes() -> bool {
    true
}

/// `is_success` as the SDK's model types it: the text `"true"` or `"false"`.
fn bool_text<S: Serializer>(b: &bool, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(if *b { "true" } else { "false" })
}

/// `GET /v1.0/{project_id}/streaming/jobs/{job_id}` (ShowFlinkJobResponse).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "RawShow", into = "RawShow")]
pub struct ShowFlinkJobResponse {
    pub envelope: Envelope,
    pub job_detail: Option<FlinkJob>,
}

/// The body as on the wire (`is_success` written as text, as the SDK's model has it).
#[derive(Serialize, Deserialize)]
struct RawShow {
    #[serde(
        default = "yes",
        deserialize_with = "str_bool",
        serialize_with = "bool_text"
    )]
    is_success: bool,
    #[serde(default, deserialize_with = "super::model::text_cut")]
    message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    job_detail: Option<FlinkJob>,
}

impl From<ShowFlinkJobResponse> for RawShow {
    fn from(r: ShowFlinkJobResponse) -> Self {
        RawShow {
            is_success: r.envelope.is_success,
            message: r.envelope.message,
            job_detail: r.job_detail,
        }
    }
}

impl From<RawShow> for ShowFlinkJobResponse {
    fn from(r: RawShow) -> Self {
        ShowFlinkJobResponse {
            envelope: Envelope {
                is_success: r.is_success,
                message: r.message,
            },
            job_detail: r.job_detail,
        }
    }
}

/// The SDK's `FlinkJob`: a job's details.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FlinkJob {
    /// An integer, e.g. 50320.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// `flink_sql_job`, `flink_opensource_sql_job`, `flink_jar_job`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_type: Option<String>,
    #[serde(
        default,
        deserialize_with = "flink_status",
        serialize_with = "write_status"
    )]
    pub status: Option<JobStatus>,
    /// What DLI says of the state (why a submit failed, …), cut to `model::MAX_TEXT_BYTES`.
    #[serde(
        default,
        deserialize_with = "super::model::text_cut",
        skip_serializing_if = "String::is_empty"
    )]
    pub status_desc: String,
    /// Epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    /// Milliseconds it has run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql_body: Option<String>,
    /// `shared_cluster`, `exclusive_cluster`, `edge_node`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub main_class: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint_args: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_graph: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graph_editor_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_savepoint: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge_group_ids: Option<Vec<String>>,
    /// How many times DLI has restarted the job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_times: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub savepoint_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_config: Option<serde_json::Value>,
}

impl FlinkJob {
    /// Why the job is where it is, in words: DLI's `status_desc`, after what the state means
    /// when it has ended (so that "the account is in arrears" is said even when DLI says
    /// nothing more).
    pub fn reason(&self) -> String {
        let desc = self.status_desc.trim();
        match &self.status {
            Some(JobStatus::Flink(f)) if matches!(f.phase(), Phase::Ended(_)) => {
                if desc.is_empty() {
                    f.says().to_string()
                } else {
                    format!("{}: {desc}", f.says())
                }
            }
            _ => desc.to_string(),
        }
    }
}

impl DliBody for ShowFlinkJobResponse {
    fn envelope(&self) -> Option<&Envelope> {
        Some(&self.envelope)
    }
    fn job_status(&self) -> Option<&JobStatus> {
        self.job_detail.as_ref()?.status.as_ref()
    }
    /// Running is what a deploy gate passes on (`--until running`): held, as an ending, to
    /// an answer that says nothing of an error.
    fn claims_an_ending(&self) -> bool {
        self.job_status()
            .is_some_and(|s| s.is_terminal() || s.phase() == Phase::Running)
    }
    /// The status is in `job_detail`: an answer with no `job_detail.status` is no answer
    /// (unless it says why: a refusal is classified first).
    fn status_missing(&self, _facts: &BodyFacts) -> bool {
        self.job_status().is_none()
    }
}

/// `POST /v1.0/{project_id}/streaming/jobs/stop` (StopFlinkJobsRequestBody).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StopFlinkJobs {
    pub job_ids: Vec<i64>,
    /// Take a savepoint before stopping (`--savepoint`).
    #[serde(default)]
    pub trigger_savepoint: bool,
}

/// One job's result in the stop answer (FlinkSuccessResponse).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FlinkSuccess {
    #[serde(
        default = "yes",
        deserialize_with = "str_bool",
        serialize_with = "bool_text"
    )]
    pub is_success: bool,
    #[serde(default, deserialize_with = "super::model::text_cut")]
    pub message: String,
}

/// The stop answer (BatchStopFlinkJobsResponse): a JSON list, one result per job; one object
/// is taken too (a gateway or an older DLI answering for the whole request).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct StopAnswer {
    pub results: Vec<FlinkSuccess>,
    #[serde(skip)]
    envelope: Envelope,
}

impl<'de> Deserialize<'de> for StopAnswer {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            List(Vec<FlinkSuccess>),
            One(FlinkSuccess),
        }
        let results = match Raw::deserialize(d)? {
            Raw::List(l) => l,
            Raw::One(o) => vec![o],
        };
        Ok(StopAnswer::of(results))
    }
}

impl StopAnswer {
    pub fn of(results: Vec<FlinkSuccess>) -> Self {
        let failed = results.iter().find(|r| !r.is_success);
        let envelope = Envelope {
            is_success: failed.is_none(),
            message: failed
                .or(results.first())
                .map(|r| r.message.clone())
                .unwrap_or_default(),
        };
        StopAnswer { results, envelope }
    }

    /// DLI's message (the failing result's, else the first).
    pub fn message(&self) -> &str {
        &self.envelope.message
    }
}

impl DliBody for StopAnswer {
    const LIST: bool = true;
    fn envelope(&self) -> Option<&Envelope> {
        Some(&self.envelope)
    }
}

impl DliClient {
    /// `GET /v1.0/{project_id}/streaming/jobs/{job_id}` (ShowFlinkJob); an answer about
    /// another job is a fault. `job_id` is checked first (a positive integer).
    pub async fn flink_job(
        &self,
        job_id: &str,
        timeout: Duration,
    ) -> Result<ShowFlinkJobResponse, Fault> {
        let path = self.path("v1.0", &format!("streaming/jobs/{job_id}"));
        let answer: ShowFlinkJobResponse = self.call("GET", &path, None, timeout).await?;
        let said = answer
            .job_detail
            .as_ref()
            .and_then(|d| d.job_id)
            .map(|id| id.to_string());
        about(job_id, said.as_deref())?;
        Ok(answer)
    }

    /// `POST /v1.0/{project_id}/streaming/jobs/stop` for one job (BatchStopFlinkJobs), with a
    /// savepoint first when `savepoint`.
    pub async fn stop_flink_job(
        &self,
        job_id: i64,
        savepoint: bool,
        timeout: Duration,
    ) -> Result<StopAnswer, Fault> {
        let body = StopFlinkJobs {
            job_ids: vec![job_id],
            trigger_savepoint: savepoint,
        };
        let path = self.path("v1.0", "streaming/jobs/stop");
        let body = serde_json::to_vec(&body).unwrap_or_default();
        self.call("POST", &path, Some(body), timeout).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dli::fault::{FaultKind, Reply, classify};
    use crate::dli::model::{Ending, FLINK_STATES, FlinkState};
    use std::time::SystemTime;

    fn reply(status: u16, body: &str) -> Reply {
        Reply {
            status,
            body: body.as_bytes().to_vec(),
            ..Reply::default()
        }
    }

    #[test]
    fn the_table_has_every_state_once_in_order() {
        for (i, r) in FLINK_STATES.iter().enumerate() {
            assert_eq!(r.state as usize, i, "{}", r.wire);
            assert_eq!(JobStatus::from_flink(r.wire), JobStatus::Flink(r.state));
            assert_eq!(JobStatus::from_flink(r.wire).as_str(), r.wire);
        }
        assert_eq!(
            JobStatus::from_flink("job_finish").ending(),
            Some(Ending::Finished)
        );
        for failed in [
            "job_submit_fail",
            "job_running_exception",
            "job_arrearage_stopped",
        ] {
            assert!(JobStatus::from_flink(failed).is_failure(), "{failed}");
        }
        assert!(JobStatus::from_flink("job_cancel_success").confirms_cancel());
        assert_eq!(JobStatus::from_flink("job_running").phase(), Phase::Running);
        // Unknown or SQL words are unknown text: never an ending.
        for other in ["JOB_FINISH", "FINISHED", "job_finished", "running", ""] {
            assert!(
                matches!(JobStatus::from_flink(other), JobStatus::Other(_)),
                "{other}"
            );
        }
    }

    #[test]
    fn a_job_body_needs_its_detail_status_and_a_refusal_is_a_fault() {
        let ok = r#"{"is_success":true,"message":"","job_detail":{"job_id":50320,"status":"job_running","restart_times":2}}"#;
        let b: ShowFlinkJobResponse = classify(&reply(200, ok), SystemTime::now()).unwrap();
        let d = b.job_detail.unwrap();
        assert_eq!(d.restart_times, Some(2));
        assert_eq!(d.status, Some(JobStatus::Flink(FlinkState::Running)));
        let f = classify::<ShowFlinkJobResponse>(
            &reply(200, r#"{"is_success":true,"job_detail":{"job_id":1}}"#),
            SystemTime::now(),
        )
        .unwrap_err();
        assert_eq!(f.kind, FaultKind::MalformedBody);
        let f = classify::<ShowFlinkJobResponse>(
            &reply(200, r#"{"is_success":"false","message":"no such job"}"#),
            SystemTime::now(),
        )
        .unwrap_err();
        assert!(!f.is_transient(), "{f:?}");
        // Running beside an error is no answer (a gate must not pass on it): a fault.
        let f = classify::<ShowFlinkJobResponse>(
            &reply(
                200,
                r#"{"is_success":"true","error_code":"DLI.0999","job_detail":{"job_id":1,"status":"job_running"}}"#,
            ),
            SystemTime::now(),
        )
        .unwrap_err();
        assert_eq!(f.kind, FaultKind::QueueBusy, "{f:?}");
        // A submit that failed is an answer, with DLI's words and what the state means.
        let failed = r#"{"is_success":true,"job_detail":{"job_id":7,"status":"job_submit_fail","status_desc":"DLI.0005: bad SQL"}}"#;
        let b: ShowFlinkJobResponse = classify(&reply(200, failed), SystemTime::now()).unwrap();
        assert_eq!(
            b.job_detail.unwrap().reason(),
            "the job could not be submitted: DLI.0005: bad SQL"
        );
    }

    #[test]
    fn the_stop_answer_is_a_list_and_a_failing_item_is_a_refusal() {
        let ok = r#"[{"is_success":"true","message":"The request for stopping DLI jobs is delivered successfully."}]"#;
        let a: StopAnswer = classify(&reply(200, ok), SystemTime::now()).unwrap();
        assert_eq!(a.results.len(), 1);
        assert!(a.message().starts_with("The request for stopping"));
        let one: StopAnswer = classify(
            &reply(200, r#"{"is_success":true,"message":"ok"}"#),
            SystemTime::now(),
        )
        .unwrap();
        assert_eq!(one.message(), "ok");
        let bad = r#"[{"is_success":true,"message":"ok"},{"is_success":false,"message":"DLI.0007: the job is not running"}]"#;
        let f = classify::<StopAnswer>(&reply(200, bad), SystemTime::now()).unwrap_err();
        assert_eq!(f.code.as_deref(), Some("DLI.0007"), "{f:?}");
        let f = classify::<StopAnswer>(&reply(200, "[1, 2]"), SystemTime::now()).unwrap_err();
        assert!(f.is_transient(), "{f:?}");
        // Other bodies still refuse a list.
        let f = classify::<ShowFlinkJobResponse>(&reply(200, "[]"), SystemTime::now()).unwrap_err();
        assert_eq!(f.kind, FaultKind::MalformedBody);
    }
}
