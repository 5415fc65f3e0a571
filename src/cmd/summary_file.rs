//! `--summary-file`: the JSON summary for alerting scripts. Written twice: an in-progress
//! marker when the wait starts (`"exit_code": null`), so a run killed before its end never
//! leaves the previous run's success in place; and the final summary at every ending.
//!
//! Every write is whole or not at all, and never follows a planted link: the text goes to a
//! temporary file created beside the path under a random name (created exclusively, so a
//! symlink or file already there is never opened), is synced, and is renamed over the path
//! (a symlink at the path itself is replaced, not followed); then the directory is synced.

use crate::report::safe::Secrets;
use crate::wait::record::JobReport;
use serde_json::json;
use std::io::Write;
use std::path::Path;

/// The `status` of the in-progress marker.
pub const IN_PROGRESS: &str = "IN_PROGRESS";

/// Write the final summary to `path`, scrubbed of `secrets`. A failure to write is reported,
/// not fatal.
pub fn write(
    path: &Path,
    reports: &[JobReport],
    exit_code: i32,
    error: Option<&str>,
    secrets: &Secrets,
) {
    let scrubber = secrets.scrubber();
    report_error(
        secrets,
        path,
        replace(path, |w| {
            crate::report::json::write_summary(w, &scrubber, reports, exit_code, error)
        }),
    );
}

/// Mark the summary as in progress for these jobs (none yet before a submit): `exit_code`
/// null, so a check for `exit_code == 0` fails until the final summary replaces it.
pub fn write_in_progress(path: &Path, job_ids: &[String], secrets: &Secrets) {
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
    report_error(secrets, path, replace(path, |w| writeln!(w, "{marker}")));
}

fn report_error(secrets: &Secrets, path: &Path, result: std::io::Result<()>) {
    if let Err(e) = result {
        eprintln!(
            "{}",
            secrets.line(&format!(
                "error: cannot write --summary-file {}: {e}",
                path.display()
            ))
        );
    }
}

/// Replace the file at `path` with what `fill` writes, atomically and without following
/// links. The temporary file is removed on any failure.
pub(super) fn replace(
    path: &Path,
    fill: impl FnOnce(&mut std::io::BufWriter<&mut std::fs::File>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map_or_else(|| "summary".into(), |n| n.to_string_lossy().into_owned());
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        // As `File::create` would (less the umask): readable by the alerting script's user.
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(dir)?;
    {
        let mut w = std::io::BufWriter::new(tmp.as_file_mut());
        fill(&mut w)?;
        w.flush()?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir);
    Ok(())
}

/// Make the rename durable where the platform allows (a directory opened and synced).
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Err(e) = std::fs::File::open(dir).and_then(|d| d.sync_all()) {
        tracing::debug!(dir = %dir.display(), error = %e, "cannot sync the summary file's directory");
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;

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
        write_in_progress(&path, &["job-1".into()], &Secrets::default());
        write(&path, &[], 0, None, &Secrets::default());
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

    #[cfg(unix)]
    #[test]
    fn a_symlink_at_the_path_itself_is_replaced_not_followed() {
        let dir = Dir::new("symlink-path");
        let victim = dir.0.join("victim");
        std::fs::write(&victim, "precious").expect("write the victim");
        let path = dir.0.join("summary.json");
        std::os::unix::fs::symlink(&victim, &path).expect("plant a symlink");
        write(&path, &[], 124, None, &Secrets::default());
        assert_eq!(
            std::fs::read_to_string(&victim).expect("read the victim"),
            "precious"
        );
        assert!(
            !std::fs::symlink_metadata(&path)
                .expect("stat")
                .file_type()
                .is_symlink()
        );
        assert_eq!(read_json(&path)["exit_code"], 124);
    }

    #[test]
    fn the_in_progress_marker_is_not_a_success_and_the_final_summary_replaces_it() {
        let dir = Dir::new("marker");
        let path = dir.0.join("last.json");
        std::fs::write(&path, "{\"exit_code\": 0, \"jobs\": []}").expect("last night's");
        write_in_progress(&path, &["a".into(), "b".into()], &Secrets::default());
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
        write(&path, &[], 3, None, &Secrets::default());
        let s = read_json(&path);
        assert_eq!(s["exit_code"], 3, "{s}");
        assert!(s.get("status").is_none(), "{s}");
        assert_eq!(names(&dir.0), vec!["last.json".to_string()]);
    }

    #[test]
    fn a_directory_that_does_not_exist_is_reported_not_fatal() {
        let dir = Dir::new("missing");
        let path = dir.0.join("no-such-dir").join("summary.json");
        write(&path, &[], 0, None, &Secrets::default());
        assert!(!path.exists());
    }
}
