//! `--summary-file`: the final JSON summary for alerting scripts, written whole or not at all
//! (a temporary file beside it, then renamed), on every ending.

use crate::wait::record::JobReport;
use std::path::Path;

/// Write the summary to `path`. A failure to write is reported, not fatal.
pub fn write(path: &Path, reports: &[JobReport], exit_code: i32, error: Option<&str>) {
    let name = path
        .file_name()
        .map_or_else(|| "summary".into(), |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let result = std::fs::File::create(&tmp)
        .and_then(|f| {
            let mut w = std::io::BufWriter::new(f);
            crate::report::json::write_summary(&mut w, reports, exit_code, error)?;
            w.into_inner().map_err(|e| e.into_error())?.sync_all()
        })
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        eprintln!("error: cannot write --summary-file {}: {e}", path.display());
    }
}
