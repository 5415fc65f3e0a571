//! What the simulator keeps of a job besides its script: tags, queue, settings (`conf`) and
//! DLI's own deadline (`dli.sql.job.timeout`), from the submit or the scenario.

use super::scenario::{JobKind, JobSpec};
use crate::dli::model::{SQL_JOB_TIMEOUT_CONF as SQL_JOB_TIMEOUT, SubmitJob, Tag};

/// A job's tags, queue and settings.
#[derive(Debug, Clone, Default)]
pub(crate) struct Meta {
    pub tags: Vec<Tag>,
    pub queue: String,
    /// The submit's `conf`, as sent.
    pub conf: Vec<String>,
    /// `dli.sql.job.timeout`, in seconds, when set.
    pub timeout_s: Option<u64>,
    /// The job time at which DLI cancels it for that (`timeout_s` at the scenario's speed).
    pub deadline: Option<f64>,
    /// A batch's `name`.
    pub name: Option<String>,
}

impl Meta {
    /// A scenario's job: its tags and queue.
    pub fn of_scenario(spec: &JobSpec) -> Self {
        Meta {
            tags: spec.tags.clone(),
            queue: spec.queue.clone().unwrap_or_else(|| "default".into()),
            name: spec.name.clone().filter(|_| spec.kind == JobKind::Spark),
            ..Meta::default()
        }
    }

    /// A submitted SQL job: its tags (checked as DLI checks them) and `conf` (each
    /// `key=value`; `dli.sql.job.timeout` a whole number of seconds). `Err` is what DLI's
    /// parameter check would say.
    pub fn of_submit(job: &SubmitJob, speed: f64) -> Result<Self, String> {
        for t in &job.tags {
            t.check().map_err(|why| format!("tag {:?}: {why}", t.key))?;
        }
        let mut timeout_s = None;
        for c in &job.conf {
            let Some((k, v)) = c.split_once('=') else {
                return Err(format!("conf {c:?} is not key=value"));
            };
            if k.trim() == SQL_JOB_TIMEOUT {
                let secs: u64 = v.trim().parse().ok().filter(|s| *s > 0).ok_or_else(|| {
                    format!(
                        "{SQL_JOB_TIMEOUT} must be a positive whole number of seconds, not {v:?}"
                    )
                })?;
                timeout_s = Some(secs);
            }
        }
        Ok(Meta {
            tags: job.tags.clone(),
            queue: job.queue_name.clone().unwrap_or_else(|| "default".into()),
            conf: job.conf.clone(),
            timeout_s,
            deadline: timeout_s.map(|s| s as f64 * speed),
            name: None,
        })
    }

    /// A submitted batch: its queue and name.
    pub fn of_batch(batch: &serde_json::Value) -> Self {
        let text = |k: &str| batch.get(k).and_then(|v| v.as_str()).map(str::to_string);
        Meta {
            queue: text("queue")
                .or_else(|| text("cluster_name"))
                .unwrap_or_else(|| "default".into()),
            name: text("name"),
            ..Meta::default()
        }
    }

    /// Why a CANCELLED job was: DLI's deadline when that came first, else a cancel.
    pub fn cancel_message(&self, ended_at: Option<f64>, cancel_at: Option<f64>) -> String {
        match (self.timeout_s, self.deadline, ended_at) {
            (Some(s), Some(d), Some(e)) if e >= d && cancel_at.is_none_or(|c| c >= d) => format!(
                "The job ran longer than {SQL_JOB_TIMEOUT}={s} (seconds) and was cancelled by the system."
            ),
            _ => "The job was cancelled.".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deadline_setting_is_read_as_dli_reads_it() {
        let job = |conf: &[&str]| SubmitJob {
            sql: "select 1".into(),
            conf: conf.iter().map(|c| c.to_string()).collect(),
            ..SubmitJob::default()
        };
        let m = Meta::of_submit(&job(&["spark.x=1", "dli.sql.job.timeout=20"]), 10.0).unwrap();
        assert_eq!((m.timeout_s, m.deadline), (Some(20), Some(200.0)));
        assert!(
            m.cancel_message(Some(200.0), None)
                .contains("dli.sql.job.timeout=20")
        );
        assert_eq!(
            m.cancel_message(Some(50.0), Some(50.0)),
            "The job was cancelled."
        );
        for bad in [
            &["dli.sql.job.timeout=soon"][..],
            &["novalue"],
            &["dli.sql.job.timeout=0"],
        ] {
            assert!(Meta::of_submit(&job(bad), 1.0).is_err(), "{bad:?}");
        }
    }
}
