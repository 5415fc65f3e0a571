//! DLI's job lists: `GET /v1.0/{project_id}/jobs` (ListSqlJobs) and `GET /v2.0/{project_id}/batches`
//! (ListSparkJobs), their typed queries and answers (the official SDK's models, under their
//! JSON names). Knows HTTP and JSON; what a list means for a run (a key's past jobs) is `kind::key`'s.

use super::client::DliClient;
use super::fault::Fault;
use super::model::{DliBody, Envelope, JobStatus, Tag};
use super::sign::encode_component;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The order of a SQL job list (`order`): DLI's default is newest first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SqlOrder {
    #[default]
    StartTimeDesc,
    StartTimeAsc,
    DurationDesc,
    DurationAsc,
}

impl SqlOrder {
    /// As DLI spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            SqlOrder::StartTimeDesc => "start_time_desc",
            SqlOrder::StartTimeAsc => "start_time_asc",
            SqlOrder::DurationDesc => "duration_desc",
            SqlOrder::DurationAsc => "duration_asc",
        }
    }

    /// From DLI's spelling (any case).
    pub fn parse(text: &str) -> Option<Self> {
        [
            SqlOrder::StartTimeDesc,
            SqlOrder::StartTimeAsc,
            SqlOrder::DurationDesc,
            SqlOrder::DurationAsc,
        ]
        .into_iter()
        .find(|o| o.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

/// The most jobs one page of `GET /v1.0/{project_id}/jobs` holds (`page-size` is 1 to 100).
pub const MAX_SQL_PAGE_SIZE: u32 = 100;

/// The filters and paging of `GET /v1.0/{project_id}/jobs` (ListSqlJobsRequest); `None` is
/// not sent (DLI's default applies: page 1 of 50, newest first).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SqlJobQuery {
    /// Jobs carrying this tag (`tags=key%3Dvalue`).
    pub tag: Option<Tag>,
    /// `job-status`: `FINISHED`, `RUNNING`, …
    pub job_status: Option<JobStatus>,
    /// `job-type`: `QUERY`, `INSERT`, `DDL`, …, or `ALL` (what DLI lists without it is not
    /// documented: a lookup that must see every job sends `ALL`).
    pub job_type: Option<String>,
    /// `page-size` (1 to [`MAX_SQL_PAGE_SIZE`]).
    pub page_size: Option<u32>,
    /// `current-page` (from 1).
    pub current_page: Option<u32>,
    pub order: Option<SqlOrder>,
    pub queue_name: Option<String>,
    /// A piece of the SQL (`sql_pattern`; DLI matches it without case).
    pub sql_pattern: Option<String>,
    /// Jobs started at or after this time (`start`, epoch milliseconds).
    pub start: Option<i64>,
    /// Jobs started at or before this time (`end`, epoch milliseconds).
    pub end: Option<i64>,
}

impl SqlJobQuery {
    /// The query string (without `?`), each key and value percent-encoded as the signer
    /// encodes them, in the SDK's order.
    pub fn to_query(&self) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(p) = self.current_page {
            pairs.push(("current-page", p.to_string()));
        }
        if let Some(e) = self.end {
            pairs.push(("end", e.to_string()));
        }
        if let Some(s) = &self.job_status {
            pairs.push(("job-status", s.as_str().to_string()));
        }
        if let Some(t) = &self.job_type {
            pairs.push(("job-type", t.clone()));
        }
        if let Some(o) = self.order {
            pairs.push(("order", o.as_str().to_string()));
        }
        if let Some(p) = self.page_size {
            pairs.push(("page-size", p.to_string()));
        }
        if let Some(q) = &self.queue_name {
            pairs.push(("queue_name", q.clone()));
        }
        if let Some(p) = &self.sql_pattern {
            pairs.push(("sql_pattern", p.clone()));
        }
        if let Some(s) = self.start {
            pairs.push(("start", s.to_string()));
        }
        if let Some(t) = &self.tag {
            pairs.push(("tags", format!("{}={}", t.key, t.value)));
        }
        join(&pairs)
    }
}

/// `k=v&…`, each percent-encoded.
fn join(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// One job of a SQL job list (the SDK's `SqlJob`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SqlJobItem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_type: Option<String>,
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
    #[serde(default, deserialize_with = "super::model::null_default")]
    pub status: JobStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement: Option<String>,
    #[serde(
        default,
        deserialize_with = "super::model::null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tags: Vec<Tag>,
    /// Why it failed, for a job that did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Epoch milliseconds, once it has ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_type: Option<String>,
}

impl SqlJobItem {
    /// Whether it carries `tag` (key and value exactly).
    pub fn has_tag(&self, tag: &Tag) -> bool {
        self.tags.iter().any(|t| t == tag)
    }
}

/// The answer to `GET /v1.0/{project_id}/jobs` (ListSqlJobsResponse): one page of jobs and
/// how many match in all.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListSqlJobsResponse {
    #[serde(flatten)]
    pub envelope: Envelope,
    /// How many jobs match the filters, on every page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_count: Option<i64>,
    #[serde(default, deserialize_with = "super::model::null_default")]
    pub jobs: Vec<SqlJobItem>,
}

impl DliBody for ListSqlJobsResponse {
    fn envelope(&self) -> Option<&Envelope> {
        Some(&self.envelope)
    }
}

/// The order of a batch list (`order`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchOrder {
    CreateTimeDesc,
    CreateTimeAsc,
    DurationDesc,
    DurationAsc,
}

impl BatchOrder {
    /// As DLI spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            BatchOrder::CreateTimeDesc => "CREATE_TIME_DESC",
            BatchOrder::CreateTimeAsc => "CREATE_TIME_ASC",
            BatchOrder::DurationDesc => "DURATION_DESC",
            BatchOrder::DurationAsc => "DURATION_ASC",
        }
    }

    /// From DLI's spelling (any case).
    pub fn parse(text: &str) -> Option<Self> {
        [
            BatchOrder::CreateTimeDesc,
            BatchOrder::CreateTimeAsc,
            BatchOrder::DurationDesc,
            BatchOrder::DurationAsc,
        ]
        .into_iter()
        .find(|o| o.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

/// The filters and paging of `GET /v2.0/{project_id}/batches` (ListSparkJobsRequest); `None`
/// is not sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchQuery {
    /// Batches of this name (`job_name`: the `name` given at submit).
    pub job_name: Option<String>,
    pub queue_name: Option<String>,
    /// `starting`, `running`, `recovering`, `success` or `dead`.
    pub state: Option<JobStatus>,
    /// The index of the first batch (`from`, from 0).
    pub from: Option<u32>,
    /// How many (`size`; DLI's default 100).
    pub size: Option<u32>,
    pub order: Option<BatchOrder>,
}

impl BatchQuery {
    /// The query string (without `?`), percent-encoded as the signer encodes it.
    pub fn to_query(&self) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(f) = self.from {
            pairs.push(("from", f.to_string()));
        }
        if let Some(n) = &self.job_name {
            pairs.push(("job_name", n.clone()));
        }
        if let Some(o) = self.order {
            pairs.push(("order", o.as_str().to_string()));
        }
        if let Some(q) = &self.queue_name {
            pairs.push(("queue_name", q.clone()));
        }
        if let Some(s) = self.size {
            pairs.push(("size", s.to_string()));
        }
        if let Some(s) = &self.state {
            pairs.push(("state", s.as_str().to_ascii_lowercase()));
        }
        join(&pairs)
    }
}

/// One batch of a batch list (the SDK's `SparkJob`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BatchItem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default = "super::spark::state::unknown", with = "super::spark::state")]
    pub state: JobStatus,
    #[serde(rename = "appId", default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The queue (DLI names it `cluster_name` here too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    /// Epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<i64>,
    /// Epoch milliseconds of its last change (its end, once it has ended).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_time: Option<i64>,
    /// Run time in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<i64>,
}

/// The answer to `GET /v2.0/{project_id}/batches` (ListSparkJobsResponse).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListBatchesResponse {
    #[serde(rename = "from", default, skip_serializing_if = "Option::is_none")]
    pub from: Option<i64>,
    /// How many batches match, in all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
    #[serde(default, deserialize_with = "super::model::null_default")]
    pub sessions: Vec<BatchItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<i64>,
}

impl DliBody for ListBatchesResponse {
    fn envelope(&self) -> Option<&Envelope> {
        None
    }
}

impl DliClient {
    /// `GET /v1.0/{project_id}/jobs?…`: one page of the SQL jobs `query` selects.
    pub async fn list_sql_jobs(
        &self,
        query: &SqlJobQuery,
        timeout: Duration,
    ) -> Result<ListSqlJobsResponse, Fault> {
        let q = query.to_query();
        let path = if q.is_empty() {
            self.path("v1.0", "jobs")
        } else {
            self.path("v1.0", &format!("jobs?{q}"))
        };
        self.call("GET", &path, None, timeout).await
    }

    /// `GET /v2.0/{project_id}/batches?…`: the Spark batches `query` selects.
    pub async fn list_batches(
        &self,
        query: &BatchQuery,
        timeout: Duration,
    ) -> Result<ListBatchesResponse, Fault> {
        let q = query.to_query();
        let path = if q.is_empty() {
            self.path("v2.0", "batches")
        } else {
            self.path("v2.0", &format!("batches?{q}"))
        };
        self.call("GET", &path, None, timeout).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sql_query_is_encoded_as_the_sdk_sends_it() {
        let q = SqlJobQuery {
            tag: Some(Tag {
                key: "dli-wait-key".into(),
                value: "nightly 2026-12-02".into(),
            }),
            job_status: Some(JobStatus::Finished),
            job_type: Some("ALL".into()),
            page_size: Some(10),
            current_page: Some(2),
            order: Some(SqlOrder::StartTimeDesc),
            queue_name: Some("etl".into()),
            sql_pattern: Some("insert into".into()),
            start: Some(1),
            end: Some(2),
        };
        assert_eq!(
            q.to_query(),
            "current-page=2&end=2&job-status=FINISHED&job-type=ALL&order=start_time_desc&page-size=10&queue_name=etl&sql_pattern=insert%20into&start=1&tags=dli-wait-key%3Dnightly%202026-12-02"
        );
        assert_eq!(SqlJobQuery::default().to_query(), "");
        assert_eq!(SqlOrder::parse("DURATION_ASC"), Some(SqlOrder::DurationAsc));
        assert_eq!(SqlOrder::parse("newest"), None);
    }

    #[test]
    fn a_batch_query_is_encoded_as_the_sdk_sends_it() {
        let q = BatchQuery {
            job_name: Some("nightly load".into()),
            queue_name: Some("etl".into()),
            state: Some(JobStatus::Running),
            from: Some(0),
            size: Some(5),
            order: Some(BatchOrder::CreateTimeDesc),
        };
        assert_eq!(
            q.to_query(),
            "from=0&job_name=nightly%20load&order=CREATE_TIME_DESC&queue_name=etl&size=5&state=running"
        );
    }

    #[test]
    fn answers_read_as_the_sdk_models_them() {
        let sql: ListSqlJobsResponse = serde_json::from_str(
            r#"{"is_success": true, "message": "", "job_count": 7, "jobs": [
                {"job_id": "208b08d4-0dc2-4dd7-8879-ddd4c020d7aa", "status": "FINISHED",
                 "statement": "select 1", "duration": 2523, "start_time": 1509335108918,
                 "end_time": 1509335111441, "queue_name": "default",
                 "tags": [{"key": "k", "value": "v"}], "cpu_cost": "1"}]}"#,
        )
        .unwrap();
        assert_eq!(sql.job_count, Some(7));
        let job = &sql.jobs[0];
        assert_eq!(job.status, JobStatus::Finished);
        assert!(job.has_tag(&Tag {
            key: "k".into(),
            value: "v".into()
        }));
        let empty: ListSqlJobsResponse =
            serde_json::from_str(r#"{"is_success": true, "jobs": null}"#).unwrap();
        assert!(empty.jobs.is_empty());
        let batches: ListBatchesResponse = serde_json::from_str(
            r#"{"from": 0, "total": 1, "sessions": [{"id": "0a324461-d9d9-45da-a52a-3b3c7a3d809e",
                "state": "Success", "name": "nightly", "appId": "application_1", "duration": 5}]}"#,
        )
        .unwrap();
        assert_eq!(batches.sessions[0].state, JobStatus::Success);
        assert_eq!(batches.sessions[0].name.as_deref(), Some("nightly"));
    }

    #[test]
    fn tags_are_checked_by_dlis_rules() {
        let tag = |k: &str, v: &str| Tag {
            key: k.into(),
            value: v.into(),
        };
        for ok in [
            tag("dli-wait-key", "nightly-2026-12-02"),
            tag("k", "1234-build: lint @main +x_y.z"),
            tag("ключ", "значение"),
            tag(&"k".repeat(128), &"v".repeat(255)),
        ] {
            assert!(ok.check().is_ok(), "{ok:?}");
        }
        for (bad, says) in [
            (tag("", "v"), "key is empty"),
            (tag("k", ""), "value is empty"),
            (tag(" k", "v"), "space"),
            (tag("_sys_k", "v"), "_sys_"),
            (tag("k", "a/b"), "letters, digits"),
            (tag("k", "a=b"), "letters, digits"),
            (tag("k", "a\u{1b}b"), "letters, digits"),
            (tag(&"k".repeat(129), "v"), "129 characters"),
            (tag("k", &"v".repeat(256)), "256 characters"),
        ] {
            let why = bad.check().unwrap_err();
            assert!(why.contains(says), "{bad:?}: {why}");
        }
    }
}
