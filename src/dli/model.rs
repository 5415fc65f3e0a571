//! The DLI API's JSON bodies as typed values (serde), every documented field kept.
//! Knows the wire format only: nothing of HTTP, signing or waiting.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;

/// A SQL job's status. Unknown values (DLI has more than its SDK enums list) are kept as text
/// and treated as "not ended yet", so a new state can never end a wait by mistake.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum JobStatus {
    #[default]
    Launching,
    Running,
    Scaling,
    Finished,
    Failed,
    Cancelled,
    Other(String),
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
            JobStatus::Other(s) => s,
        }
    }

    /// FINISHED, FAILED and CANCELLED end a job; everything else, unknown text included, does not.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            JobStatus::Finished | JobStatus::Failed | JobStatus::Cancelled
        )
    }
}

impl From<&str> for JobStatus {
    fn from(s: &str) -> Self {
        match s.trim().to_ascii_uppercase().as_str() {
            "LAUNCHING" => JobStatus::Launching,
            "RUNNING" => JobStatus::Running,
            "SCALING" => JobStatus::Scaling,
            "FINISHED" => JobStatus::Finished,
            "FAILED" => JobStatus::Failed,
            "CANCELLED" => JobStatus::Cancelled,
            _ => JobStatus::Other(s.to_string()),
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

/// `null` and a missing field both become the type's default.
fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
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
    #[serde(default, deserialize_with = "null_default")]
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

/// An answer body of the SQL APIs: its envelope and, for job bodies, the job's own status.
pub trait DliBody: serde::de::DeserializeOwned {
    fn envelope(&self) -> &Envelope;
    /// The job's own status, when the body carries one.
    fn job_status(&self) -> Option<&JobStatus> {
        None
    }
}

macro_rules! dli_body {
    ($($t:ty),*; with status: $($s:ty),*) => {
        $(impl DliBody for $t {
            fn envelope(&self) -> &Envelope {
                &self.envelope
            }
        })*
        $(impl DliBody for $s {
            fn envelope(&self) -> &Envelope {
                &self.envelope
            }
            fn job_status(&self) -> Option<&JobStatus> {
                Some(&self.status)
            }
        })*
    };
}

dli_body!(SubmitJobResponse, CancelJobResponse; with status: JobProgress, JobStatusInfo);

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
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
}

/// The answer to `DELETE /v1.0/{project_id}/jobs/{job_id}` (CancelSqlJobResponse).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CancelJobResponse {
    #[serde(flatten)]
    pub envelope: Envelope,
}

/// DLI's and the API gateway's error body: `{"error_code": "DLI.0002", "error_msg": "…"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    #[serde(default, alias = "errorCode", alias = "code")]
    pub error_code: String,
    #[serde(default, alias = "errorMsg")]
    pub error_msg: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
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
    fn nulls_are_tolerated() {
        let p: JobProgress = serde_json::from_str(
            r#"{"is_success":null,"message":null,"status":"RUNNING","sub_jobs":null,"progress":null}"#,
        )
        .unwrap();
        assert!(p.envelope.is_success);
        assert!(p.sub_jobs.is_empty());
    }
}
