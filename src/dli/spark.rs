//! DLI's Spark batch jobs: their bodies (the official SDK's `ShowSparkJobStatusResponse`,
//! `ShowSparkJobResponse`, `ShowSparkJobLogResponse`, `CancelSparkJobResponse`,
//! `CreateSparkJobResponse`, field for field and under their JSON names), the client calls on
//! `/v2.0/{project_id}/batches`, the check of a batch to submit, and where a dead batch's log
//! says why. The bodies have no `is_success`/`message` envelope; they are classified by
//! `fault::classify` all the same (a `state` string is what makes a job body an answer).

use super::client::{DliClient, about};
use super::fault::Fault;
use super::model::{DliBody, Envelope, JobStatus, StatusField};
use super::sign::encode_component;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A Spark state on the wire: read without case into [`JobStatus`] (`null` or absent is
/// unknown text, which classification refuses as no answer), written as DLI writes it.
pub(super) mod state {
    use super::JobStatus;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<JobStatus, D::Error> {
        let s = Option::<String>::deserialize(d)?;
        Ok(s.map_or_else(unknown, |s| JobStatus::from_spark(&s)))
    }

    pub fn serialize<S: Serializer>(status: &JobStatus, s: S) -> Result<S::Ok, S::Error> {
        let text = match status {
            JobStatus::Other(t) => t.clone(),
            known => known.as_str().to_ascii_lowercase(),
        };
        s.serialize_str(&text)
    }

    pub fn unknown() -> JobStatus {
        JobStatus::Other(String::new())
    }
}

/// `GET /v2.0/{project_id}/batches/{batch_id}/state` (ShowSparkJobStatusResponse).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default = "state::unknown", with = "state")]
    pub state: JobStatus,
}

/// `GET /v2.0/{project_id}/batches/{batch_id}` (ShowSparkJobResponse).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BatchDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default = "state::unknown", with = "state")]
    pub state: JobStatus,
    #[serde(rename = "appId", default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    /// The last lines of the batch's log (10 at most; [`MAX_LOG_LINES`] kept, each cut to
    /// `model::MAX_TEXT_BYTES`).
    #[serde(default, deserialize_with = "log_tail")]
    pub log: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sc_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_name: Option<String>,
    /// Epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(rename = "proxyUser", default, skip_serializing_if = "Option::is_none")]
    pub proxy_user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub req_body: Option<String>,
    /// Epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spark_version: Option<String>,
    /// Run time in milliseconds (in DLI's documentation, not in the SDK's model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<i64>,
}

impl Default for BatchState {
    fn default() -> Self {
        BatchState {
            id: None,
            state: state::unknown(),
        }
    }
}

/// `GET /v2.0/{project_id}/batches/{batch_id}/log` (ShowSparkJobLogResponse): the last 100
/// lines of the batch's log unless asked otherwise.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BatchLog {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(rename = "from", default, skip_serializing_if = "Option::is_none")]
    pub from: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
    #[serde(default, deserialize_with = "log_tail")]
    pub log: Vec<String>,
}

/// The answer to `DELETE /v2.0/{project_id}/batches/{batch_id}` (CancelSparkJobResponse):
/// `{"msg": "deleted"}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CancelBatchResponse {
    #[serde(default, deserialize_with = "null_default")]
    pub msg: String,
}

/// The answer to `POST /v2.0/{project_id}/batches` (CreateSparkJobResponse). Only its `id`
/// matters here; its `state` is not required (the batch exists once DLI says its id).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateBatchResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(rename = "appId", default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sc_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(rename = "proxyUser", default, skip_serializing_if = "Option::is_none")]
    pub proxy_user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<i64>,
}

/// `null` and a missing field both become the type's default.
/// The most log lines kept of an answer (DLI's log tails are 10 or 100 lines).
pub const MAX_LOG_LINES: usize = 100;

/// A log's lines, `null` as none: the last [`MAX_LOG_LINES`], each cut to
/// `model::MAX_TEXT_BYTES`.
fn log_tail<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let mut lines: Vec<String> = Option::<Vec<String>>::deserialize(d)?.unwrap_or_default();
    let skip = lines.len().saturating_sub(MAX_LOG_LINES);
    lines.drain(..skip);
    Ok(lines.into_iter().map(super::model::cut_text).collect())
}

fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

impl DliBody for BatchState {
    const STATUS_FIELD: StatusField = StatusField::State;
    fn envelope(&self) -> Option<&Envelope> {
        None
    }
    fn job_status(&self) -> Option<&JobStatus> {
        Some(&self.state)
    }
}

impl DliBody for BatchDetails {
    const STATUS_FIELD: StatusField = StatusField::State;
    fn envelope(&self) -> Option<&Envelope> {
        None
    }
    fn job_status(&self) -> Option<&JobStatus> {
        Some(&self.state)
    }
}

macro_rules! no_envelope {
    ($($t:ty),*) => {
        $(impl DliBody for $t {
            fn envelope(&self) -> Option<&Envelope> {
                None
            }
        })*
    };
}

no_envelope!(BatchLog, CancelBatchResponse, CreateBatchResponse);

impl BatchDetails {
    /// Why the batch ended, as its log tail says it (see [`reason_in`]).
    pub fn reason(&self) -> Option<String> {
        reason_in(&self.log)
    }
}

/// The section headers of the log DLI keeps for a batch (Livy's), which say nothing alone.
const HEADERS: [&str; 3] = ["stdout:", "stderr:", "YARN Diagnostics:"];

/// The line of a log that says why a batch ended: the last one naming an exception or an
/// error (`Caused by: …`, `ValueError: …`, `ERROR …`), stack frames (`at …`) aside; failing
/// that the last line with anything in it. `None` when the lines say nothing: all blank, or
/// only the section headers DLI's log has (`stdout:`, `stderr:`, `YARN Diagnostics:`).
pub fn reason_in(lines: &[String]) -> Option<String> {
    let telling: Vec<&str> = lines
        .iter()
        .flat_map(|l| l.lines())
        .map(str::trim)
        .filter(|l| !l.is_empty() && !HEADERS.iter().any(|h| l.eq_ignore_ascii_case(h)))
        .collect();
    let frame = |l: &str| l.starts_with("at ") || l.starts_with("... ");
    telling
        .iter()
        .rev()
        .find(|l| {
            !frame(l)
                && ["Exception", "Error", "ERROR"]
                    .iter()
                    .any(|w| l.contains(w))
        })
        .or_else(|| telling.iter().rev().find(|l| !frame(l)))
        .or_else(|| telling.last())
        .map(|l| (*l).to_string())
}

/// The fields of `CreateSparkJobRequestBody` (the SDK's model of `POST …/batches`), by JSON
/// name: the type each must have, and the SDK's attribute name where it differs.
const BATCH_FIELDS: &[(&str, Kind, Option<&str>)] = &[
    ("file", Kind::Text, None),
    ("className", Kind::Text, Some("class_name")),
    ("cluster_name", Kind::Text, None),
    ("args", Kind::Texts, None),
    ("sc_type", Kind::Text, None),
    ("jars", Kind::Texts, None),
    ("pyFiles", Kind::Texts, Some("py_files")),
    ("files", Kind::Texts, None),
    ("modules", Kind::Texts, None),
    ("resources", Kind::Objects, None),
    ("groups", Kind::Objects, None),
    ("conf", Kind::Object, None),
    ("name", Kind::Text, None),
    ("driverMemory", Kind::Text, Some("driver_memory")),
    ("driverCores", Kind::Integer, Some("driver_cores")),
    ("executorMemory", Kind::Text, Some("executor_memory")),
    ("executorCores", Kind::Integer, Some("executor_cores")),
    ("numExecutors", Kind::Integer, Some("num_executors")),
    ("feature", Kind::Text, None),
    ("spark_version", Kind::Text, None),
    ("queue", Kind::Text, None),
    ("auto_recovery", Kind::Bool, None),
    ("max_retry_times", Kind::Integer, None),
    ("image", Kind::Text, None),
    ("execution_agency_urn", Kind::Text, None),
    ("obs_bucket", Kind::Text, None),
    ("catalog_name", Kind::Text, None),
];

/// The fields the SDK's model requires (its constructor sets them whatever they are).
pub const REQUIRED_BATCH_FIELDS: [&str; 2] = ["file", "className"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Texts,
    Integer,
    Bool,
    Object,
    Objects,
}

impl Kind {
    fn fits(self, v: &serde_json::Value) -> bool {
        use serde_json::Value;
        match self {
            Kind::Text => v.is_string(),
            Kind::Texts => v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
            Kind::Integer => v.is_i64() || v.is_u64(),
            Kind::Bool => v.is_boolean(),
            Kind::Object => v.is_object(),
            Kind::Objects => v.as_array().is_some_and(|a| a.iter().all(Value::is_object)),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Text => "a string",
            Kind::Texts => "a list of strings",
            Kind::Integer => "an integer",
            Kind::Bool => "true or false",
            Kind::Object => "an object",
            Kind::Objects => "a list of objects",
        }
    }
}

/// Check a batch to submit (the JSON body of `POST /v2.0/{project_id}/batches`, as DLI's
/// console exports it): one JSON object, with the fields the SDK's `CreateSparkJobRequestBody`
/// requires (`file`, `className`) as non-empty strings, and every field the SDK knows of the
/// type it declares (`null` counts as absent). Fields the SDK does not know pass: DLI may know
/// them. The error says what to fix, in one line.
pub fn check_batch(text: &[u8]) -> Result<serde_json::Value, String> {
    let value: serde_json::Value =
        serde_json::from_slice(text).map_err(|e| format!("it is not JSON ({e})"))?;
    let Some(body) = value.as_object() else {
        return Err("it is not a JSON object (the body of POST /v2.0/{project_id}/batches, e.g. {\"file\": \"batchTest/spark-examples.jar\", \"className\": \"org.apache.spark.examples.SparkPi\", \"queue\": \"etl\"})".into());
    };
    for (field, kind, sdk_name) in BATCH_FIELDS {
        match body.get(*field) {
            None | Some(serde_json::Value::Null) => {
                if REQUIRED_BATCH_FIELDS.contains(field) {
                    let misnamed = sdk_name
                        .filter(|n| body.contains_key(*n))
                        .map(|n| format!(" (it has {n:?}: the API's name is {field:?})"))
                        .unwrap_or_default();
                    return Err(format!(
                        "it has no {field:?}{misnamed}; a batch needs \"file\" (the application: a jar or Python file DLI knows) and \"className\" (its main class)"
                    ));
                }
            }
            Some(v) if !kind.fits(v) => {
                return Err(format!(
                    "its {field:?} is {}, not {}",
                    json_kind(v),
                    kind.name()
                ));
            }
            Some(v) if REQUIRED_BATCH_FIELDS.contains(field) && v.as_str() == Some("") => {
                return Err(format!("its {field:?} is empty"));
            }
            Some(_) => {}
        }
    }
    Ok(value)
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

impl DliClient {
    fn batch_path(&self, batch_id: &str, rest: &str) -> String {
        let id = encode_component(batch_id);
        if rest.is_empty() {
            self.path("v2.0", &format!("batches/{id}"))
        } else {
            self.path("v2.0", &format!("batches/{id}/{rest}"))
        }
    }

    /// `GET /v2.0/{project_id}/batches/{batch_id}/state`; an answer about another batch is a
    /// fault.
    pub async fn batch_state(
        &self,
        batch_id: &str,
        timeout: Duration,
    ) -> Result<BatchState, Fault> {
        let path = self.batch_path(batch_id, "state");
        let answer: BatchState = self.call("GET", &path, None, timeout).await?;
        about(batch_id, answer.id.as_deref())?;
        Ok(answer)
    }

    /// `GET /v2.0/{project_id}/batches/{batch_id}`: the details, with the log's last lines.
    pub async fn batch(&self, batch_id: &str, timeout: Duration) -> Result<BatchDetails, Fault> {
        let path = self.batch_path(batch_id, "");
        let answer: BatchDetails = self.call("GET", &path, None, timeout).await?;
        about(batch_id, answer.id.as_deref())?;
        Ok(answer)
    }

    /// `GET /v2.0/{project_id}/batches/{batch_id}/log`: the log's last 100 lines.
    pub async fn batch_log(&self, batch_id: &str, timeout: Duration) -> Result<BatchLog, Fault> {
        let path = self.batch_path(batch_id, "log");
        let answer: BatchLog = self.call("GET", &path, None, timeout).await?;
        about(batch_id, answer.id.as_deref())?;
        Ok(answer)
    }

    /// `DELETE /v2.0/{project_id}/batches/{batch_id}`.
    pub async fn cancel_batch(
        &self,
        batch_id: &str,
        timeout: Duration,
    ) -> Result<CancelBatchResponse, Fault> {
        let path = self.batch_path(batch_id, "");
        self.call("DELETE", &path, None, timeout).await
    }

    /// `POST /v2.0/{project_id}/batches` with `batch` (checked by [`check_batch`]). Never
    /// retried here or by callers once it may have reached DLI: a batch run twice is worse
    /// than one that failed.
    /// `sent` records when the request went out (see [`super::client::Sent`]).
    pub async fn submit_batch(
        &self,
        batch: &serde_json::Value,
        timeout: Duration,
        sent: &super::client::Sent,
    ) -> Result<CreateBatchResponse, Fault> {
        let body = serde_json::to_vec(batch).unwrap_or_default();
        let path = self.path("v2.0", "batches");
        self.call_marking("POST", &path, Some(body), timeout, sent)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn states_are_read_without_case_and_written_as_dli_writes_them() {
        let s: BatchState = serde_json::from_str(
            r#"{"id":"0a324461-d9d9-45da-a52a-3b3c7a3d809e","state":"Success"}"#,
        )
        .unwrap();
        assert_eq!(s.state, JobStatus::Success);
        let s: BatchState = serde_json::from_str(r#"{"state":"RECOVERING"}"#).unwrap();
        assert_eq!(s.state, JobStatus::Recovering);
        let s: BatchState = serde_json::from_str(r#"{"state":"killed"}"#).unwrap();
        assert_eq!(s.state, JobStatus::Other("killed".into()));
        assert!(!s.state.is_terminal());
        for (status, wire) in [
            (JobStatus::Starting, "starting"),
            (JobStatus::Dead, "dead"),
            (JobStatus::Other("Odd".into()), "Odd"),
        ] {
            let v = serde_json::to_value(BatchState {
                id: None,
                state: status,
            })
            .unwrap();
            assert_eq!(v, serde_json::json!({ "state": wire }));
        }
    }

    #[test]
    fn the_reason_is_the_last_telling_line() {
        let log = lines(&[
            "20/07/28 11:48:02 INFO Client: Application report for application_1 (state: RUNNING)",
            "Exception in thread \"main\" org.apache.spark.SparkException: Job aborted",
            "\tat org.apache.spark.deploy.SparkSubmit.main(SparkSubmit.scala)",
            "Caused by: java.io.FileNotFoundException: obs://bucket/in/2026-11-27 does not exist",
            "\tat org.apache.hadoop.fs.obs.OBSFileSystem.getFileStatus(OBSFileSystem.java:123)",
            "\t... 12 more",
        ]);
        assert_eq!(
            reason_in(&log).as_deref(),
            Some(
                "Caused by: java.io.FileNotFoundException: obs://bucket/in/2026-11-27 does not exist"
            )
        );
        let py = lines(&[
            "Traceback (most recent call last):",
            "  File \"job.py\", line 3",
            "ValueError: bad date",
        ]);
        assert_eq!(reason_in(&py).as_deref(), Some("ValueError: bad date"));
        // Nothing that names an error: the last line with words in it.
        let plain = lines(&[
            "stdout: ",
            "YARN Diagnostics: ",
            "User application exited with status 1",
            "",
        ]);
        assert_eq!(
            reason_in(&plain).as_deref(),
            Some("User application exited with status 1")
        );
        // Only DLI's section headers, or nothing: no reason.
        assert_eq!(
            reason_in(&lines(&["stdout: ", "stderr: ", "YARN Diagnostics: "])),
            None
        );
        assert_eq!(reason_in(&lines(&["", "  "])), None);
        assert_eq!(reason_in(&[]), None);
        // Lines holding several lines are split.
        assert_eq!(
            reason_in(&lines(&["stderr: \nValueError: x\n"])).as_deref(),
            Some("ValueError: x")
        );
    }

    #[test]
    fn a_batch_to_submit_needs_file_and_class_name_of_the_right_types() {
        let ok = br#"{"file": "batchTest/spark-examples.jar", "className": "org.apache.spark.examples.SparkPi",
                      "queue": "etl", "args": ["2026-11-27"], "conf": {"spark.x": "1"}, "numExecutors": 4,
                      "auto_recovery": false, "resources": [{"name": "r", "type": "jar"}], "unknownToTheSdk": 1}"#;
        assert!(check_batch(ok).is_ok());
        let err = |t: &str| check_batch(t.as_bytes()).unwrap_err();
        assert!(err("[]").contains("not a JSON object"));
        assert!(err("{").contains("not JSON"));
        assert!(err(r#"{"className": "a.B"}"#).contains("no \"file\""));
        let e = err(r#"{"file": "a.jar", "class_name": "a.B"}"#);
        assert!(
            e.contains("no \"className\"") && e.contains("\"class_name\""),
            "{e}"
        );
        assert!(err(r#"{"file": "a.jar", "className": null}"#).contains("no \"className\""));
        assert!(err(r#"{"file": "", "className": "a.B"}"#).contains("\"file\" is empty"));
        let e = err(r#"{"file": "a.jar", "className": "a.B", "numExecutors": "4"}"#);
        assert!(
            e.contains("\"numExecutors\" is a string, not an integer"),
            "{e}"
        );
        let e = err(r#"{"file": "a.jar", "className": "a.B", "args": "x"}"#);
        assert!(e.contains("list of strings"), "{e}");
    }
}
