//! `--summary-file`: the JSON summary for alerting scripts. Written twice: an in-progress
//! marker when the wait starts (`"exit_code": null`), so a run killed before its end never
//! leaves the previous run's success in place; and the final summary at every ending.
//!
//! Written through `report::out_file`, the one way an output file is written: a regular file
//! (or none) is replaced whole through a short-named temporary file beside it and a rename,
//! keeping its permissions; a FIFO or device is written into as it is, never replaced; a
//! symbolic link is refused, never followed or replaced; and no write holds the run longer
//! than `out_file::WITHIN`. Every text in it is cut to `limits::REASON_CHARS`.

use crate::report::limits::REASON_CHARS;
use crate::report::out_file::{self, How};
use crate::report::safe::Secrets;
use crate::report::stream::Stream;
use crate::wait::record::JobReport;
use serde_json::json;
use std::path::Path;

/// The `status` of the in-progress marker.
pub const IN_PROGRESS: &str = "IN_PROGRESS";

/// Write the final summary to `path`, scrubbed of `secrets`. A failure to write is said on
/// `stderr`, not fatal.
pub fn write(
    path: &Path,
    reports: &[JobReport],
    exit_code: i32,
    error: Option<&str>,
    secrets: &Secrets,
    stderr: &Stream,
    budget: &out_file::Budget,
) {
    let mut text = Vec::new();
    let _ = crate::report::json::write_summary_cut(
        &mut text,
        &secrets.scrubber(),
        reports,
        exit_code,
        error,
        Some(REASON_CHARS),
    );
    report_error(secrets, stderr, path, replace(path, text, budget));
}

/// Mark the summary as in progress for these jobs (none yet before a submit): `exit_code`
/// null, so a check for `exit_code == 0` fails until the final summary replaces it.
pub fn write_in_progress(
    path: &Path,
    job_ids: &[String],
    secrets: &Secrets,
    stderr: &Stream,
    budget: &out_file::Budget,
) {
    let mut seen = std::collections::HashSet::new();
    let marker = json!({
        "event": "summary",
        "status": IN_PROGRESS,
        "exit_code": null,
        "started": crate::report::human::timestamp(),
        "pid": std::process::id(),
        "jobs": job_ids
            .iter()
            .filter(|id| seen.insert(id.as_str()))
            .map(|id| json!({"job_id": id, "status": IN_PROGRESS}))
            .collect::<Vec<_>>(),
    });
    let text = format!("{}\n", secrets.json(&marker)).into_bytes();
    report_error(secrets, stderr, path, replace(path, text, budget));
}

fn report_error(secrets: &Secrets, stderr: &Stream, path: &Path, result: std::io::Result<()>) {
    if let Err(e) = result {
        stderr.line(&secrets.line(&format!(
            "error: cannot write {} {}: {e}",
            crate::cli::flag::SUMMARY_FILE,
            path.display()
        )));
    }
}

/// Replace what is at `path` with `text`, as `report::out_file` does, within `budget`.
pub(super) fn replace(
    path: &Path,
    text: Vec<u8>,
    budget: &out_file::Budget,
) -> std::io::Result<()> {
    out_file::write(path, How::Replace, text, budget.left())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where the tests' error lines go.
    fn quiet() -> Stream {
        Stream::to(Box::new(std::io::sink()))
    }

    struct Dir(std::path::PathBuf);

    impl Dir {
        fn new(name: &str) -> Self {
            let p = std::env::temp_dir()
                .join(format!("dli-wait-summary-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).expect("create a test directory");
            Dir(p)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn read_json(path: &Path) -> serde_json::Value {
        let text = std::fs::read_to_string(path).expect("read the summary");
        serde_json::from_str(&text).expect("the summary is JSON")
    }

    /// Only the summary itself is left in the directory (and whatever the test planted).
    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[cfg(unix)]
    #[test]
    fn planted_symlinks_are_never_followed() {
        let dir = Dir::new("symlink");
        let victim_dir = Dir::new("symlink-victim");
        let victim = victim_dir.0.join("victim");
        std::fs::write(&victim, "precious").expect("write the victim");
        let path = dir.0.join("summary.json");
        // The old predictable temporary name (this process's pid), and a few other guesses.
        let planted = [
            format!(".summary.json.{}.tmp", std::process::id()),
            ".summary.json.tmp".to_string(),
            "summary.json.tmp".to_string(),
        ];
        for name in &planted {
            std::os::unix::fs::symlink(&victim, dir.0.join(name)).expect("plant a symlink");
        }
        write_in_progress(
            &path,
            &["job-1".into()],
            &Secrets::default(),
            &quiet(),
            &Default::default(),
        );
        write(
            &path,
            &[],
            0,
            None,
            &Secrets::default(),
            &quiet(),
            &Default::default(),
        );
        assert_eq!(
            std::fs::read_to_string(&victim).expect("read the victim"),
            "precious"
        );
        assert_eq!(read_json(&path)["exit_code"], 0);
        let mut expected: Vec<String> = planted.to_vec();
        expected.push("summary.json".into());
        expected.sort();
        assert_eq!(names(&dir.0), expected);
    }

    /// A symbolic link at the path is neither followed nor replaced: the user's link stays,
    /// and so does what it points to.
    #[cfg(unix)]
    #[test]
    fn a_symlink_at_the_path_itself_is_refused_not_followed_or_replaced() {
        let dir = Dir::new("symlink-path");
        let victim = dir.0.join("victim");
        std::fs::write(&victim, "precious").expect("write the victim");
        let path = dir.0.join("summary.json");
        std::os::unix::fs::symlink(&victim, &path).expect("plant a symlink");
        write(
            &path,
            &[],
            124,
            None,
            &Secrets::default(),
            &quiet(),
            &Default::default(),
        );
        assert_eq!(
            std::fs::read_to_string(&victim).expect("read the victim"),
            "precious"
        );
        assert!(
            std::fs::symlink_metadata(&path)
                .expect("stat")
                .file_type()
                .is_symlink()
        );
    }

    /// Issue 25, item 18: a 0600 summary stays 0600 when it is rewritten.
    #[cfg(unix)]
    #[test]
    fn a_rewritten_summary_keeps_its_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = Dir::new("mode");
        let path = dir.0.join("summary.json");
        std::fs::write(&path, "{}").expect("last night's");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        write_in_progress(
            &path,
            &["a".into()],
            &Secrets::default(),
            &quiet(),
            &Default::default(),
        );
        write(
            &path,
            &[],
            0,
            None,
            &Secrets::default(),
            &quiet(),
            &Default::default(),
        );
        assert_eq!(read_json(&path)["exit_code"], 0);
        let mode = std::fs::metadata(&path).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{mode:o}");
    }

    /// Issue 25, item 18: a name of 245 characters (any legal length) works: the temporary
    /// file's name does not grow with it.
    #[test]
    fn a_long_file_name_works() {
        let dir = Dir::new("long-name");
        let path = dir.0.join(format!("{}.json", "s".repeat(240)));
        write(
            &path,
            &[],
            0,
            None,
            &Secrets::default(),
            &quiet(),
            &Default::default(),
        );
        assert_eq!(read_json(&path)["exit_code"], 0);
        assert_eq!(names(&dir.0).len(), 1);
    }

    /// Issue 25, item 12: a reason of megabytes is cut in the summary file, after its secrets
    /// are scrubbed.
    #[test]
    fn a_huge_reason_is_cut_after_scrubbing() {
        let dir = Dir::new("huge-reason");
        let path = dir.0.join("summary.json");
        let secrets = Secrets::new();
        secrets.remember(["SECRETVALUE-0123456789"]);
        let mut r = JobReport::ended_at_submit("job-1".into());
        r.outcome = crate::wait::outcome::Outcome::Failed;
        let mut message = "x".repeat(REASON_CHARS - 5);
        message.push_str("SECRETVALUE-0123456789");
        message.push_str(&"é".repeat(2_000_000));
        r.reason = Some(crate::wait::record::Reason {
            message,
            detail: None,
        });
        write(
            &path,
            &[r],
            1,
            None,
            &secrets,
            &quiet(),
            &Default::default(),
        );
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.len() < 5 * REASON_CHARS * 2, "{} bytes", text.len());
        assert!(!text.contains("SECRETVALUE"), "a secret in the summary");
        let s: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        let reason = s["jobs"][0]["reason"]["message"]
            .as_str()
            .expect("a reason");
        assert!(reason.ends_with(" more characters)"), "{reason}");
        assert!(reason.starts_with("xxx"), "{reason}");
    }

    #[test]
    fn the_in_progress_marker_is_not_a_success_and_the_final_summary_replaces_it() {
        let dir = Dir::new("marker");
        let path = dir.0.join("last.json");
        std::fs::write(&path, "{\"exit_code\": 0, \"jobs\": []}").expect("last night's");
        write_in_progress(
            &path,
            &["a".into(), "b".into()],
            &Secrets::default(),
            &quiet(),
            &Default::default(),
        );
        let m = read_json(&path);
        assert_eq!(m["status"], IN_PROGRESS, "{m}");
        assert!(m["exit_code"].is_null(), "{m}");
        assert_ne!(m["exit_code"], 0, "{m}");
        assert_eq!(m["pid"], std::process::id(), "{m}");
        assert_eq!(m["jobs"][1]["job_id"], "b", "{m}");
        assert_eq!(m["jobs"][1]["status"], IN_PROGRESS, "{m}");
        assert!(
            m["started"].as_str().is_some_and(|s| s.ends_with('Z')),
            "{m}"
        );
        write(
            &path,
            &[],
            3,
            None,
            &Secrets::default(),
            &quiet(),
            &Default::default(),
        );
        let s = read_json(&path);
        assert_eq!(s["exit_code"], 3, "{s}");
        assert!(s.get("status").is_none(), "{s}");
        assert_eq!(names(&dir.0), vec!["last.json".to_string()]);
    }

    #[test]
    fn a_directory_that_does_not_exist_is_reported_not_fatal() {
        let dir = Dir::new("missing");
        let path = dir.0.join("no-such-dir").join("summary.json");
        write(
            &path,
            &[],
            0,
            None,
            &Secrets::default(),
            &quiet(),
            &Default::default(),
        );
        assert!(!path.exists());
    }
}
