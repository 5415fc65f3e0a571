//! `--output json`: one JSON object per line on stdout, one per event; the last line is the
//! summary `{"exit_code": N, "jobs": [...]}` that scripts read.

use super::limits::cut;
use super::safe::{Scrubber, Secrets, json_with};
use super::sink::Sink;
use super::stream::Stream;
use super::{Reporter, outcome_message};
use crate::cli::hint;
use crate::dli::fault::Fault;
use crate::wait::events::Events;
use crate::wait::machine::Note;
use crate::wait::record::{CancelReport, JobReport, Reason};
use crate::wait::snapshot::{Figures, Snapshot};
use serde_json::{Value, json};
use std::io::Write;
use std::time::Duration;

/// The JSON-lines reporter. Each line is handed whole, in order, to `S`: in a run the run's
/// stdout [`Stream`] (never blocking the wait, even when nobody reads stdout), memory in a
/// test. Every line scrubs the run's secrets.
#[derive(Debug)]
pub struct Json<S: Sink = Stream> {
    secrets: Secrets,
    out: S,
}

fn now() -> String {
    super::human::timestamp()
}

impl<S: Sink> Json<S> {
    /// JSON lines on `out` (the run's stdout), scrubbing `secrets`.
    pub fn new(secrets: Secrets, out: S) -> Self {
        Json { secrets, out }
    }

    /// One line, through `Secrets::json` (secrets scrubbed, nothing raw a terminal or runner
    /// would act on).
    fn emit(&self, v: &Value) {
        self.out.line(&self.secrets.json(v));
    }
}

fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

/// A fault as machine-readable output carries it.
pub fn fault_json(f: &Fault) -> Value {
    let mut v = json!({
        "class": f.class.as_str(),
        "kind": f.kind.as_str(),
        "message": f.message,
    });
    if let Some(s) = f.http_status {
        v["http_status"] = json!(s);
    }
    if let Some(c) = &f.code {
        v["code"] = json!(c);
    }
    if let Some(r) = &f.request_id {
        v["request_id"] = json!(r);
    }
    if let Some(c) = f.check() {
        v["hint"] = json!(hint(c));
    }
    v
}

fn reason_json(r: &Reason) -> Value {
    let mut v = json!({"message": r.message});
    if let Some(d) = &r.detail {
        v["detail"] = json!(d);
    }
    v
}

fn cancel_json(c: &CancelReport) -> Value {
    json!({"accepted": c.accepted, "confirmed": c.confirmed, "message": c.message})
}

/// One job's final record, as in the summary line.
pub fn job_json(r: &JobReport) -> Value {
    let last = r.last.as_ref();
    // Counts DLI reported: none (null, not 0) when its last answer listed no sub-job.
    let counts = last
        .filter(|s| !s.sub_jobs.is_empty())
        .map(Snapshot::counts);
    let figures = r.figures();
    let figure = |f: fn(&Figures) -> Option<u64>| figures.and_then(f);
    let mut v = json!({
        "job_id": r.job_id,
        "status": r.outcome.label(),
        "exit_code": r.outcome.exit_code(),
        "duration_seconds": secs(r.elapsed),
        "polls": r.polls,
        "lookup_calls": r.lookup_calls,
        "retries": r.retries,
        "message": outcome_message(r),
        "last_status": last.map(|s| s.status.to_string()),
        "progress": last.and_then(|s| s.progress),
        "tasks_done": counts.map(|c| c.tasks_done),
        "tasks_total": counts.map(|c| c.tasks_total),
        "stages_done": counts.map(|c| c.stages_done),
        "stages_total": counts.map(|c| c.stages_total),
        "sub_jobs": last.map(|s| s.sub_jobs.clone()).unwrap_or_default(),
        "queued_seconds": last.and_then(|s| s.queued).map(secs),
        "restart_times": last.and_then(|s| s.restart_times),
        "restarts_during_wait": last.and_then(|s| s.restarted),
        "last_fault": r.last_fault.as_ref().map(fault_json),
        "reason": r.reason.as_ref().map(reason_json),
        "cancel": r.cancel.as_ref().map(cancel_json),
        "polled_status_endpoint": r.fell_back,
    });
    // DLI's own figures (`/status`), units in the names; why they are missing when a read
    // failed.
    v["dli_duration_ms"] = json!(figure(|f| f
        .duration
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))));
    v["bytes_scanned"] = json!(figure(|f| f.bytes_scanned));
    v["result_rows"] = json!(figure(|f| f.result_rows));
    v["input_rows"] = json!(figure(|f| f.input_rows));
    v["bad_rows"] = json!(figure(|f| f.bad_rows));
    v["job_type"] = json!(figures.and_then(|f| f.job_type.clone()));
    v["queue"] = json!(figures.and_then(|f| f.queue.clone()));
    if let Some(Err(e)) = &r.figures {
        v["figures_error"] = json!(e);
    }
    v
}

/// Write the summary object as one line (also what `--summary-file` holds), one job at a
/// time: with 10,000 jobs a whole JSON tree in memory would cost more than the waiting did.
/// Each piece goes through `safe::json_with` and `scrubber`, as every JSON line does.
pub fn write_summary(
    w: &mut impl Write,
    scrubber: &Scrubber,
    reports: &[JobReport],
    exit_code: i32,
    error: Option<&str>,
) -> std::io::Result<()> {
    write_summary_cut(w, scrubber, reports, exit_code, error, None)
}

/// [`write_summary`], every text in it (reasons, messages, the error) cut to `max` characters
/// when given (`--summary-file`: `limits::TEXT_CHARS`), after its secrets are scrubbed.
pub fn write_summary_cut(
    w: &mut impl Write,
    scrubber: &Scrubber,
    reports: &[JobReport],
    exit_code: i32,
    error: Option<&str>,
    max: Option<usize>,
) -> std::io::Result<()> {
    let bounded = |mut v: Value| {
        if let Some(max) = max {
            cut_strings(&mut v, scrubber, max);
        }
        v
    };
    write!(
        w,
        "{{\"event\":\"summary\",\"time\":{},\"exit_code\":{exit_code}",
        json!(now())
    )?;
    if let Some(e) = error {
        write!(w, ",\"error\":{}", json_with(scrubber, &bounded(json!(e))))?;
    }
    w.write_all(b",\"jobs\":[")?;
    for (i, r) in reports.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        w.write_all(json_with(scrubber, &bounded(job_json(r))).as_bytes())?;
    }
    w.write_all(b"]}\n")?;
    w.flush()
}

/// Every string in `v` scrubbed of `scrubber`'s secrets, then cut to `max` characters.
fn cut_strings(v: &mut Value, scrubber: &Scrubber, max: usize) {
    match v {
        Value::String(s) => {
            let clean = scrubber.scrub(s);
            if let std::borrow::Cow::Owned(c) = cut(&clean, max) {
                *s = c;
            } else if let std::borrow::Cow::Owned(c) = clean {
                *s = c;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| cut_strings(i, scrubber, max)),
        Value::Object(map) => map.values_mut().for_each(|i| cut_strings(i, scrubber, max)),
        _ => {}
    }
}

impl<S: Sink> Events for Json<S> {
    fn started(&self, job_id: &str) {
        self.emit(&json!({"event": "started", "time": now(), "job_id": job_id}));
    }

    fn snapshot(&self, job_id: &str, s: &Snapshot, elapsed: Duration) {
        let c = s.counts();
        self.emit(&json!({
            "event": "poll",
            "time": now(),
            "job_id": job_id,
            "elapsed_seconds": secs(elapsed),
            "status": s.status.to_string(),
            "source": s.source.as_str(),
            "progress": s.progress,
            "sub_job_id": s.sub_job_id,
            "tasks_done": c.tasks_done,
            "tasks_total": c.tasks_total,
            "stages_done": c.stages_done,
            "stages_total": c.stages_total,
            "queued_seconds": s.queued.map(secs),
            "restart_times": s.restart_times,
            "restarts_during_wait": s.restarted,
        }));
    }

    fn note(&self, job_id: &str, note: &Note, elapsed: Duration) {
        let v = match note {
            Note::UnknownStatus(s) => {
                json!({"event": "unknown_status", "status": s})
            }
            Note::FallbackToStatus { busy_answers } => {
                json!({"event": "fallback_to_status", "busy_answers": busy_answers})
            }
            Note::NoTaskCounts { what, .. } => {
                json!({"event": "no_stall_detection", "why": "no task counts", "job": what})
            }
            Note::Settling { window } => {
                json!({"event": "settling", "settle_seconds": secs(*window)})
            }
            Note::Retrying { fault, after } => json!({
                "event": "retry",
                "fault": fault_json(fault),
                "retry_in_seconds": secs(*after),
            }),
        };
        let mut v = v;
        v["time"] = json!(now());
        v["job_id"] = json!(job_id);
        v["elapsed_seconds"] = json!(secs(elapsed));
        self.emit(&v);
    }

    fn cancelled(&self, job_id: &str, cancel: &CancelReport) {
        self.emit(&json!({"event": "cancel", "time": now(), "job_id": job_id, "cancel": cancel_json(cancel)}));
    }

    fn finished(&self, r: &JobReport) {
        let mut v = job_json(r);
        v["event"] = json!("end");
        v["time"] = json!(now());
        self.emit(&v);
    }
}

impl<S: Sink> Reporter for Json<S> {
    fn summary(&self, reports: &[JobReport], exit_code: i32) {
        let mut out = Vec::new();
        let _ = write_summary(&mut out, &self.secrets.scrubber(), reports, exit_code, None);
        self.out.put(out);
    }

    fn submitted(&self, job_id: &str) {
        self.emit(&json!({"event": "submitted", "time": now(), "job_id": job_id}));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dli::fault::FaultKind;
    use crate::report::limits::TEXT_CHARS;
    use crate::report::safe::is_hazard;
    use crate::report::sink::testing::{
        HOSTILE, ID, Memory, OTHER_ID, SECRET, ended, failed, memory, running, text,
    };
    use crate::wait::outcome::Outcome;

    fn json() -> (Json<Memory>, Memory) {
        let out = memory();
        let secrets = Secrets::new();
        secrets.remember([SECRET]);
        (Json::new(secrets, out.clone()), out)
    }

    fn lines(out: &Memory) -> Vec<Value> {
        text(out)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    /// One object per event, each on its own line, and last the summary scripts read with
    /// `tail -n1`: its exit code and every job's record.
    #[test]
    fn a_line_per_event_and_last_the_summary() {
        let (j, out) = json();
        j.submitted(ID);
        j.started(ID);
        j.snapshot(ID, &running(), Duration::from_millis(5_250));
        let fault = Fault::transport(FaultKind::Connection, "connection reset by peer");
        let after = Duration::from_secs(2);
        j.note(ID, &Note::Retrying { fault, after }, Duration::from_secs(6));
        let r = failed(ID, "Table or view not found: t");
        j.finished(&r);
        j.summary(&[r, ended(OTHER_ID, Outcome::Finished)], 1);
        let all = text(&out);
        assert!(all.starts_with("{\"event\":\"submitted\","), "{all}");
        assert!(all.ends_with("]}\n"), "{all}");
        let v = lines(&out);
        let events: Vec<&str> = v.iter().filter_map(|l| l["event"].as_str()).collect();
        assert_eq!(
            events,
            ["submitted", "started", "poll", "retry", "end", "summary"]
        );
        let poll = &v[2];
        assert_eq!(poll["job_id"], ID);
        assert_eq!(poll["elapsed_seconds"], 5.25);
        assert_eq!(poll["status"], "RUNNING");
        assert_eq!(poll["source"], "progress");
        assert_eq!(poll["sub_job_id"], 2);
        assert_eq!(
            (poll["tasks_done"].clone(), poll["tasks_total"].clone()),
            (json!(43), json!(100))
        );
        assert_eq!(
            (poll["stages_done"].clone(), poll["stages_total"].clone()),
            (json!(1), json!(3))
        );
        let retry = &v[3];
        assert_eq!(retry["fault"]["kind"], "connection");
        assert_eq!(retry["fault"]["class"], "transient");
        assert_eq!(retry["retry_in_seconds"], 2.0);
        assert_eq!(v[4]["status"], "FAILED");
        let summary = &v[5];
        assert_eq!(summary["exit_code"], 1);
        let jobs = summary["jobs"].as_array().cloned().unwrap_or_default();
        assert_eq!(jobs.len(), 2, "{summary}");
        let f = &jobs[0];
        assert_eq!(f["job_id"], ID);
        assert_eq!(f["status"], "FAILED");
        assert_eq!(f["exit_code"], 1);
        assert_eq!(f["duration_seconds"], 252.0);
        assert_eq!(
            (f["polls"].clone(), f["retries"].clone()),
            (json!(37), json!(2))
        );
        assert_eq!(f["message"], "Table or view not found: t");
        assert_eq!(f["reason"]["message"], "Table or view not found: t");
        assert_eq!(f["last_status"], "RUNNING");
        assert_eq!(f["tasks_done"], 43);
        assert_eq!(f["polled_status_endpoint"], false);
        assert_eq!(f["cancel"], Value::Null);
        assert_eq!(jobs[1]["status"], "FINISHED");
        assert_eq!(jobs[1]["message"], "");
        // The end line is the job's record plus its event and time.
        let mut end = v[4].clone();
        end.as_object_mut()
            .map(|o| (o.remove("event"), o.remove("time")));
        assert_eq!(end, jobs[0]);
    }

    /// DLI's text reaches the reader as the same value, secrets scrubbed, with nothing raw
    /// that a terminal or a runner reading the line would act on.
    #[test]
    fn hostile_text_is_the_same_value_with_nothing_raw() {
        let (j, out) = json();
        j.note(ID, &Note::UnknownStatus(HOSTILE.into()), Duration::ZERO);
        let r = failed(ID, HOSTILE);
        j.finished(&r);
        j.summary(&[r], 1);
        let all = text(&out);
        assert_eq!(all.lines().count(), 3, "{all}");
        assert!(!all.contains(SECRET), "{all}");
        assert!(!all.contains("##"), "{all}");
        assert!(all.lines().all(|l| !l.chars().any(is_hazard)), "{all:?}");
        assert!(all.lines().all(|l| l.starts_with('{')), "{all}");
        let scrubbed = HOSTILE.replace(SECRET, "***");
        let v = lines(&out);
        assert_eq!(v[0]["status"], scrubbed.as_str());
        assert_eq!(v[2]["jobs"][0]["reason"]["message"], scrubbed.as_str());
    }

    /// `--summary-file`'s form: every text scrubbed first, then cut to its bound.
    #[test]
    fn the_cut_summary_scrubs_then_bounds_each_text() {
        let reason = format!(
            "{}{SECRET}{}",
            "r".repeat(TEXT_CHARS - 10),
            "x".repeat(50_000)
        );
        let secrets = Secrets::new();
        secrets.remember([SECRET]);
        let mut out = Vec::new();
        let r = failed(ID, &reason);
        write_summary_cut(
            &mut out,
            &secrets.scrubber(),
            &[r],
            1,
            Some(&reason),
            Some(TEXT_CHARS),
        )
        .expect("written");
        let text = String::from_utf8(out).expect("UTF-8");
        assert!(
            !text.contains(SECRET) && !text.contains("SK-7f3e"),
            "a secret, or part of one"
        );
        let v: Value = serde_json::from_str(&text).expect("JSON");
        for s in [
            &v["error"],
            &v["jobs"][0]["reason"]["message"],
            &v["jobs"][0]["message"],
        ] {
            let s = s.as_str().unwrap_or_default();
            assert!(s.ends_with(" more characters)"), "{}", &s[s.len() - 40..]);
            assert!(s.chars().count() < TEXT_CHARS + 40, "{}", s.len());
        }
    }
}
