//! The simulator's job lists: `GET /v1.0/{project_id}/jobs` and `GET /v2.0/{project_id}/batches`
//! with their filters (on what `sim::meta` keeps of a job) and paging, and their scripted faults.

use super::http::Response;
use super::scenario::{FaultKindSpec, FaultSpec, JobKind, Span};
use super::server::{Job, Simulator, error};
use super::spark::millis;
use crate::dli::list::{
    BatchItem, BatchOrder, ListBatchesResponse, ListSqlJobsResponse, MAX_SQL_PAGE_SIZE, SqlJobItem,
    SqlOrder,
};
use crate::dli::model::{Envelope, JobStatus, Tag};
use serde_json::json;
use std::sync::atomic::Ordering;
use std::time::Duration;

impl Job {
    /// A batch's name: the submitted body's, else the scenario's.
    pub(super) fn batch_name(&self) -> Option<String> {
        self.meta.name.clone()
    }
}

/// The query's pairs, decoded.
fn pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .map(|q| {
            q.split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    let dec = |s: &str| {
                        percent_encoding::percent_decode_str(&s.replace('+', " "))
                            .decode_utf8_lossy()
                            .into_owned()
                    };
                    (dec(k), dec(v))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn param_error(why: String) -> Response {
    error(400, "DLI.0001", &format!("Parameter check errors: {why}"))
}

/// A number parameter, `Err` naming it when it is not one in `range`.
fn number(
    name: &str,
    value: Option<&String>,
    range: std::ops::RangeInclusive<i64>,
) -> Result<Option<i64>, Response> {
    match value {
        None => Ok(None),
        Some(v) => match v.trim().parse::<i64>() {
            Ok(n) if range.contains(&n) => Ok(Some(n)),
            _ => Err(param_error(format!(
                "{name} must be a whole number from {} to {}, not {v:?}",
                range.start(),
                range.end()
            ))),
        },
    }
}

impl Simulator {
    /// `answer`, or the scripted list fault for this, the n-th list call, if one applies (a
    /// `slow` one: the answer, late).
    fn list_call(&self, answer: impl FnOnce() -> Response) -> Response {
        let n =
            u32::try_from(self.lists_seen.fetch_add(1, Ordering::Relaxed) + 1).unwrap_or(u32::MAX);
        let t = self.started.elapsed().as_secs_f64() * self.speed;
        match self.list_faults.iter().find(|f| applies_to_list(f, n, t)) {
            None => answer(),
            Some(f) if f.kind == FaultKindSpec::Slow => {
                let delay = f.delay.and_then(|d| d.0).unwrap_or(Duration::from_secs(60));
                answer().delayed(delay)
            }
            Some(f) => super::server::fault_response(f),
        }
    }

    /// `GET /v1.0/{project_id}/jobs` (see [`Simulator::sql_jobs`]), or its scripted fault.
    pub(super) fn list_sql_jobs(&self, query: Option<&str>) -> Response {
        self.list_call(|| self.sql_jobs(query))
    }

    /// `GET /v2.0/{project_id}/batches` (see [`Simulator::batches_listed`]), or its scripted
    /// fault.
    pub(super) fn list_batches(&self, query: Option<&str>) -> Response {
        self.list_call(|| self.batches_listed(query))
    }

    /// `GET /v1.0/{project_id}/jobs`: the SQL jobs that match every filter given (`tags`
    /// `k=v`, `job-status`, `queue_name`, `sql_pattern` without case, `start`/`end` on the
    /// start time), ordered (`order`, newest first by default), one page (`page-size` 1 to
    /// 100, default 50; `current-page` from 1); `job_count` is how many match in all.
    fn sql_jobs(&self, query: Option<&str>) -> Response {
        let q = pairs(query);
        let get = |k: &str| q.iter().find(|(key, _)| key == k).map(|(_, v)| v);
        let page_size = match number(
            "page-size",
            get("page-size"),
            1..=i64::from(MAX_SQL_PAGE_SIZE),
        ) {
            Ok(n) => n.unwrap_or(50),
            Err(r) => return r,
        };
        let page = match number("current-page", get("current-page"), 1..=i64::MAX) {
            Ok(n) => n.unwrap_or(1),
            Err(r) => return r,
        };
        let (start, end) = match (
            number("start", get("start"), 0..=i64::MAX),
            number("end", get("end"), 0..=i64::MAX),
        ) {
            (Ok(s), Ok(e)) => (s, e),
            (Err(r), _) | (_, Err(r)) => return r,
        };
        let order = match get("order") {
            None => SqlOrder::StartTimeDesc,
            Some(o) => match SqlOrder::parse(o) {
                Some(o) => o,
                None => {
                    return param_error(format!(
                        "order {o:?} is not one of start_time_desc, start_time_asc, duration_desc, duration_asc"
                    ));
                }
            },
        };
        let mut tags = Vec::new();
        for t in q
            .iter()
            .filter(|(k, _)| k == "tags")
            .flat_map(|(_, v)| v.split(','))
        {
            match t.split_once('=') {
                Some((k, v)) => tags.push(Tag {
                    key: k.to_string(),
                    value: v.to_string(),
                }),
                None => return param_error(format!("tags {t:?} is not key=value")),
            }
        }
        let status = get("job-status").map(|s| JobStatus::from(s.as_str()));
        let job_type = get("job-type").filter(|t| !t.eq_ignore_ascii_case("ALL"));
        let queue = get("queue_name");
        let pattern = get("sql_pattern").map(|p| p.to_lowercase());
        let Ok(jobs) = self.jobs.lock() else {
            return error(500, "DLI.0999", "simulator state poisoned");
        };
        let mut items: Vec<SqlJobItem> = jobs
            .iter()
            .filter(|j| j.spec.kind == JobKind::Sql)
            .map(|j| self.sql_item(j))
            .filter(|i| self.lists_ignore_filters || tags.iter().all(|t| i.has_tag(t)))
            .filter(|i| status.as_ref().is_none_or(|s| i.status == *s))
            .filter(|i| job_type.is_none_or(|t| i.job_type.as_ref() == Some(t)))
            .filter(|i| queue.is_none_or(|q| i.queue_name.as_ref() == Some(q)))
            .filter(|i| {
                pattern.as_ref().is_none_or(|p| {
                    i.statement
                        .as_ref()
                        .is_some_and(|s| s.to_lowercase().contains(p.as_str()))
                })
            })
            .filter(|i| start.is_none_or(|s| i.start_time.unwrap_or(0) >= s))
            .filter(|i| end.is_none_or(|e| i.start_time.unwrap_or(0) <= e))
            .collect();
        drop(jobs);
        let key = |i: &SqlJobItem| match order {
            SqlOrder::StartTimeDesc | SqlOrder::StartTimeAsc => i.start_time.unwrap_or(0),
            SqlOrder::DurationDesc | SqlOrder::DurationAsc => i.duration.unwrap_or(0),
        };
        // Stable: jobs created in one millisecond keep their creation order (reversed for
        // the descending orders, so the newest is first).
        if matches!(order, SqlOrder::StartTimeDesc | SqlOrder::DurationDesc) {
            items.reverse();
            items.sort_by_key(|i| std::cmp::Reverse(key(i)));
        } else {
            items.sort_by_key(key);
        }
        let count = items.len();
        let skip = usize::try_from((page - 1).saturating_mul(page_size)).unwrap_or(usize::MAX);
        let jobs: Vec<SqlJobItem> = items
            .into_iter()
            .skip(skip)
            .take(usize::try_from(page_size).unwrap_or(50))
            .collect();
        Response::json(
            200,
            &json!(ListSqlJobsResponse {
                envelope: Envelope::default(),
                job_count: i64::try_from(count).ok(),
                jobs,
            }),
        )
    }

    /// One SQL job as the list shows it now.
    fn sql_item(&self, job: &Job) -> SqlJobItem {
        let t = job.created_elapsed() * self.speed;
        let v = self.view(job, t);
        let (message, _) = self.message_of(job, &v);
        let start = millis(job.created_wall);
        let run_ms = (v.ended_at.unwrap_or(t).max(0.0) / self.speed * 1000.0) as i64;
        SqlJobItem {
            job_id: Some(job.id.clone()),
            job_type: Some(if job.spec.sync { "DDL" } else { "QUERY" }.into()),
            queue_name: Some(job.meta.queue.clone()),
            owner: Some("simulator".into()),
            start_time: Some(start),
            duration: Some(run_ms),
            end_time: v.ended_at.map(|_| start + run_ms),
            status: v.status,
            database_name: Some("default".into()),
            statement: Some(job.statement.clone()),
            tags: job.meta.tags.clone(),
            message: (!message.is_empty()).then_some(message),
            engine_type: Some("spark".into()),
        }
    }

    /// `GET /v2.0/{project_id}/batches`: the batches that match every filter given
    /// (`job_name` exactly, `queue_name`, `state`), ordered (`order`, newest first by
    /// default), from the `from`-th (0 first) at most `size` (default 100); `total` is how
    /// many match in all.
    fn batches_listed(&self, query: Option<&str>) -> Response {
        let q = pairs(query);
        let get = |k: &str| q.iter().find(|(key, _)| key == k).map(|(_, v)| v);
        let (from, size) = match (
            number("from", get("from"), 0..=i64::MAX),
            number("size", get("size"), 0..=i64::MAX),
        ) {
            (Ok(f), Ok(s)) => (f.unwrap_or(0), s.unwrap_or(100)),
            (Err(r), _) | (_, Err(r)) => return r,
        };
        let order = match get("order") {
            None => BatchOrder::CreateTimeDesc,
            Some(o) => match BatchOrder::parse(o) {
                Some(o) => o,
                None => {
                    return param_error(format!(
                        "order {o:?} is not one of CREATE_TIME_DESC, CREATE_TIME_ASC, DURATION_DESC, DURATION_ASC"
                    ));
                }
            },
        };
        let name = get("job_name");
        let queue = get("queue_name");
        let state = get("state").map(|s| JobStatus::from_spark(s));
        let Ok(jobs) = self.jobs.lock() else {
            return error(500, "DLI.0999", "simulator state poisoned");
        };
        let mut items: Vec<BatchItem> = jobs
            .iter()
            .filter(|j| j.spec.kind == JobKind::Spark)
            .map(|j| self.batch_item(j))
            .filter(|i| {
                self.lists_ignore_filters || name.is_none_or(|n| i.name.as_ref() == Some(n))
            })
            .filter(|i| queue.is_none_or(|q| i.queue.as_ref() == Some(q)))
            .filter(|i| state.as_ref().is_none_or(|s| i.state == *s))
            .collect();
        drop(jobs);
        let key = |i: &BatchItem| match order {
            BatchOrder::CreateTimeDesc | BatchOrder::CreateTimeAsc => i.create_time.unwrap_or(0),
            BatchOrder::DurationDesc | BatchOrder::DurationAsc => i.duration.unwrap_or(0),
        };
        if matches!(order, BatchOrder::CreateTimeDesc | BatchOrder::DurationDesc) {
            items.reverse();
            items.sort_by_key(|i| std::cmp::Reverse(key(i)));
        } else {
            items.sort_by_key(key);
        }
        let total = items.len();
        let sessions: Vec<BatchItem> = items
            .into_iter()
            .skip(usize::try_from(from).unwrap_or(usize::MAX))
            .take(usize::try_from(size).unwrap_or(usize::MAX))
            .collect();
        Response::json(
            200,
            &json!(ListBatchesResponse {
                from: Some(from),
                total: i64::try_from(total).ok(),
                sessions,
                create_time: Some(millis(std::time::SystemTime::now())),
            }),
        )
    }

    /// One batch as the list shows it now.
    fn batch_item(&self, job: &Job) -> BatchItem {
        let t = job.created_elapsed() * self.speed;
        let (state, ended, _) = self.batch_view(job, t);
        let created = millis(job.created_wall);
        let run_ms = (ended.unwrap_or(t).max(0.0) / self.speed * 1000.0) as i64;
        BatchItem {
            id: Some(job.id.clone()),
            app_id: (state != JobStatus::Starting)
                .then(|| "application_1700000000000_0001".to_string()),
            state,
            name: job.batch_name(),
            owner: Some("simulator".into()),
            cluster_name: Some(job.meta.queue.clone()),
            queue: Some(job.meta.queue.clone()),
            create_time: Some(created),
            update_time: Some(created + run_ms),
            duration: Some(run_ms),
        }
    }
}

/// Whether a list fault applies to the `n`-th list call, `t` after the simulator started.
fn applies_to_list(f: &FaultSpec, n: u32, t: f64) -> bool {
    if let Some([a, b]) = f.requests {
        return n >= a && n <= b;
    }
    let from = f.from.map_or(0.0, Span::get);
    let until = f.until.map_or(f64::INFINITY, Span::get);
    t >= from && t < until
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dli::auth::{Credentials, Secret};
    use crate::dli::client::{ClientConfig, DliClient, Sent};
    use crate::dli::list::{BatchQuery, SqlJobQuery};
    use crate::dli::model::SubmitJob;
    use crate::sim::scenario::Scenario;
    use std::time::Duration;

    const T: Duration = Duration::from_secs(5);

    /// Past jobs of one key (an old FINISHED one, a FAILED one, a RUNNING one) and others.
    const PAST: &str = r#"{
      "jobs": [
        {"id": "old", "ago": "2h", "statement": "INSERT INTO t SELECT 1",
         "tags": [{"key": "dli-wait-key", "value": "nightly"}]},
        {"id": "failed", "ago": "1h", "statement": "insert into t select 2",
         "end": {"status": "FAILED", "message": "DLI.0005: bad"},
         "tags": [{"key": "dli-wait-key", "value": "nightly"}]},
        {"id": "running", "ago": "10m", "statement": "INSERT INTO t SELECT 3", "queue": "etl",
         "sub_jobs": [{"tasks": 10, "duration": "1h"}],
         "tags": [{"key": "dli-wait-key", "value": "nightly"}]},
        {"id": "other", "statement": "SELECT 4"},
        {"id": "batch", "type": "spark", "name": "nightly-batch", "running": "1h"}
      ],
      "templates": {"default": {"sub_jobs": [{"tasks": 10, "duration": "1h"}]}}
    }"#;

    async fn start(scenario: &str) -> (crate::sim::Running, DliClient) {
        let running = crate::sim::start(
            Scenario::parse(scenario).unwrap(),
            std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        )
        .await
        .unwrap();
        let client = DliClient::new(ClientConfig {
            endpoint: url::Url::parse(&running.endpoint()).unwrap(),
            project_id: running.sim.project_id.clone(),
            credentials: Credentials::AkSk {
                ak: Secret::new(running.sim.ak.clone()),
                sk: Secret::new(running.sim.sk.clone()),
                security_token: None,
            }
            .into(),
            request_timeout: T,
        })
        .unwrap();
        (running, client)
    }

    fn key(v: &str) -> Option<Tag> {
        Some(Tag {
            key: "dli-wait-key".into(),
            value: v.into(),
        })
    }

    #[tokio::test]
    async fn the_sql_list_filters_orders_and_pages() {
        let (_sim, client) = start(PAST).await;
        let list = |q: SqlJobQuery| {
            let c = client.clone();
            async move { c.list_sql_jobs(&q, T).await.unwrap() }
        };
        let ids = |r: &ListSqlJobsResponse| -> Vec<String> {
            r.jobs.iter().map(|j| j.job_id.clone().unwrap()).collect()
        };
        let uuid = |n: &str| crate::sim::scenario::job_uuid(n);
        // A key's jobs, newest first, with their state.
        let r = list(SqlJobQuery {
            tag: key("nightly"),
            ..SqlJobQuery::default()
        })
        .await;
        assert_eq!(ids(&r), [uuid("running"), uuid("failed"), uuid("old")]);
        assert_eq!(r.job_count, Some(3));
        let statuses: Vec<_> = r.jobs.iter().map(|j| j.status.clone()).collect();
        assert_eq!(
            statuses,
            [JobStatus::Running, JobStatus::Failed, JobStatus::Finished]
        );
        assert_eq!(r.jobs[1].message.as_deref(), Some("DLI.0005: bad"));
        assert!(r.jobs[2].end_time.is_some() && r.jobs[0].end_time.is_none());
        // Started two hours ago.
        let now = millis(std::time::SystemTime::now());
        let age = now - r.jobs[2].start_time.unwrap();
        assert!((7_100_000..7_300_000).contains(&age), "{age}");
        // Filters together: tag, status, queue, a piece of SQL without case, time.
        let only = |q: SqlJobQuery| {
            let l = list(q);
            async move { ids(&l.await) }
        };
        assert_eq!(
            only(SqlJobQuery {
                tag: key("nightly"),
                job_status: Some(JobStatus::Finished),
                ..SqlJobQuery::default()
            })
            .await,
            [uuid("old")]
        );
        assert_eq!(
            only(SqlJobQuery {
                queue_name: Some("etl".into()),
                ..SqlJobQuery::default()
            })
            .await,
            [uuid("running")]
        );
        assert_eq!(
            only(SqlJobQuery {
                sql_pattern: Some("insert into T".into()),
                start: Some(now - 5_400_000),
                ..SqlJobQuery::default()
            })
            .await,
            [uuid("running"), uuid("failed")]
        );
        assert!(
            only(SqlJobQuery {
                tag: key("other"),
                ..SqlJobQuery::default()
            })
            .await
            .is_empty()
        );
        // Pages: oldest first, two to a page.
        let page = |n| SqlJobQuery {
            order: Some(SqlOrder::StartTimeAsc),
            page_size: Some(2),
            current_page: Some(n),
            ..SqlJobQuery::default()
        };
        let (p1, p2, p3) = (
            list(page(1)).await,
            list(page(2)).await,
            list(page(3)).await,
        );
        assert_eq!(ids(&p1), [uuid("old"), uuid("failed")]);
        assert_eq!(ids(&p2), [uuid("running"), uuid("other")]);
        assert!(p3.jobs.is_empty());
        assert_eq!(p3.job_count, Some(4));
        // DLI's bounds on a page.
        let bad = client
            .list_sql_jobs(
                &SqlJobQuery {
                    page_size: Some(101),
                    ..SqlJobQuery::default()
                },
                T,
            )
            .await
            .unwrap_err();
        assert!(bad.to_string().contains("page-size"), "{bad}");
    }

    #[tokio::test]
    async fn a_submits_tags_are_listed_and_bad_tags_refused() {
        let (_sim, client) = start(PAST).await;
        let job = |tags: Vec<Tag>| SubmitJob {
            sql: "insert into t select 9".into(),
            tags,
            ..SubmitJob::default()
        };
        let id = client
            .submit(&job(vec![key("run-7").unwrap()]), T, &Sent::default())
            .await
            .unwrap()
            .job_id
            .unwrap();
        let r = client
            .list_sql_jobs(
                &SqlJobQuery {
                    tag: key("run-7"),
                    ..SqlJobQuery::default()
                },
                T,
            )
            .await
            .unwrap();
        assert_eq!(r.jobs.len(), 1);
        assert_eq!(r.jobs[0].job_id.as_deref(), Some(id.as_str()));
        assert_eq!(r.jobs[0].tags, [key("run-7").unwrap()]);
        let refused = client
            .submit(
                &job(vec![Tag {
                    key: "dli-wait-key".into(),
                    value: "a/b".into(),
                }]),
                T,
                &Sent::default(),
            )
            .await
            .unwrap_err();
        assert!(refused.to_string().contains("DLI.0001"), "{refused}");
    }

    #[tokio::test]
    async fn batches_are_listed_by_name_and_state() {
        let (_sim, client) = start(PAST).await;
        let named = client
            .list_batches(
                &BatchQuery {
                    job_name: Some("nightly-batch".into()),
                    ..BatchQuery::default()
                },
                T,
            )
            .await
            .unwrap();
        assert_eq!(named.total, Some(1));
        assert_eq!(
            named.sessions[0].id.as_deref(),
            Some(crate::sim::scenario::job_uuid("batch").as_str())
        );
        assert_eq!(named.sessions[0].state, JobStatus::Running);
        let dead = client
            .list_batches(
                &BatchQuery {
                    state: Some(JobStatus::Dead),
                    ..BatchQuery::default()
                },
                T,
            )
            .await
            .unwrap();
        assert!(dead.sessions.is_empty());
    }
}
