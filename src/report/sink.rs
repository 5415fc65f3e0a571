//! Where a reporter's output goes. A reporter formats (its pure renderers build the text or
//! write it to `impl Write`) and hands each whole piece, a line or a summary, to a [`Sink`]
//! its constructor was given (`cmd::context::Context::reporter` picks them): in a run the
//! process's edges, the stderr and stdout [`Stream`]s and a runner's file added to through
//! `out_file` ([`AppendFile`]), none of which blocks the wait; in a unit test, memory (a
//! `Mutex<Vec<u8>>`), so that each format is checked byte for byte without a process.

use super::out_file::{self, How};
use super::safe::Secrets;
use super::stream::Stream;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Takes a reporter's output, a whole piece at a time, in order, without blocking the wait.
pub trait Sink: Send + Sync {
    /// One whole piece (a line with its line break, a summary, what a file is to get), as it is.
    fn put(&self, bytes: Vec<u8>);

    /// `text` and a line break, as one piece.
    fn line(&self, text: &str) {
        let mut bytes = Vec::with_capacity(text.len() + 1);
        bytes.extend_from_slice(text.as_bytes());
        bytes.push(b'\n');
        self.put(bytes);
    }
}

/// The run's stderr or stdout: each piece queued for the stream's own thread.
impl Sink for Stream {
    fn put(&self, bytes: Vec<u8>) {
        self.bytes(bytes);
    }

    fn line(&self, text: &str) {
        Stream::line(self, text);
    }
}

/// Memory: what a test reads back.
impl Sink for Mutex<Vec<u8>> {
    fn put(&self, bytes: Vec<u8>) {
        let mut kept = self.lock().unwrap_or_else(|e| e.into_inner());
        kept.extend_from_slice(&bytes);
    }
}

impl<T: Sink + ?Sized> Sink for Arc<T> {
    fn put(&self, bytes: Vec<u8>) {
        T::put(self, bytes);
    }

    fn line(&self, text: &str) {
        T::line(self, text);
    }
}

/// A runner's file (`$GITHUB_OUTPUT`, `$GITHUB_STEP_SUMMARY`): each piece added at its end
/// through `report::out_file` (never blocking the run past `out_file::WITHIN`, never
/// replacing what is there); a failure is said on `errors` (the run's stderr), scrubbed.
#[derive(Debug, Clone)]
pub struct AppendFile {
    path: PathBuf,
    secrets: Secrets,
    errors: Stream,
    budget: out_file::Budget,
}

impl AppendFile {
    /// Appending to `path` within `budget` (the run's: see `out_file::Budget`).
    pub fn new(path: PathBuf, secrets: Secrets, errors: Stream, budget: out_file::Budget) -> Self {
        AppendFile {
            path,
            secrets,
            errors,
            budget,
        }
    }
}

impl Sink for AppendFile {
    fn put(&self, bytes: Vec<u8>) {
        if let Err(e) = out_file::write(&self.path, How::Append, bytes, self.budget.left()) {
            self.errors.line(
                &self
                    .secrets
                    .line(&format!("error: cannot write {}: {e}", self.path.display())),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer into a buffer a test keeps.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.put(buf.to_vec());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A runner's file gets each piece added at its end; one that cannot be written is said
    /// on the errors stream, scrubbed, and the run goes on.
    #[test]
    fn a_file_is_appended_to_and_a_failure_said() {
        let dir = tempfile::tempdir().expect("a directory");
        let secrets = Secrets::new();
        secrets.remember(["SECRET-IN-PATH-0123456789"]);
        let said = Shared::default();
        let errors = Stream::to(Box::new(said.clone()));
        let path = dir.path().join("out");
        let file = AppendFile::new(
            path.clone(),
            secrets.clone(),
            errors.clone(),
            Default::default(),
        );
        file.line("a<<EOF");
        file.put(b"b\nEOF\n".to_vec());
        assert_eq!(
            std::fs::read_to_string(&path).unwrap_or_default(),
            "a<<EOF\nb\nEOF\n"
        );
        let bad = dir.path().join("SECRET-IN-PATH-0123456789");
        std::fs::create_dir(&bad).expect("a directory");
        AppendFile::new(bad, secrets, errors.clone(), Default::default()).line("x");
        assert!(errors.flush(std::time::Duration::from_secs(5)));
        let text = String::from_utf8(said.0.lock().map(|b| b.clone()).unwrap_or_default())
            .unwrap_or_default();
        assert!(text.starts_with("error: cannot write "), "{text}");
        assert!(
            text.ends_with("***: is a directory: name a file\n"),
            "{text}"
        );
    }
}

/// What the reporters' unit tests share: a sink in memory, known events, hostile text.
#[cfg(test)]
pub(crate) mod testing {
    use crate::dli::model::{JobStatus, SubJob};
    use crate::wait::outcome::Outcome;
    use crate::wait::record::{JobReport, Reason};
    use crate::wait::snapshot::{Snapshot, Source, TaskCounts, Words};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    /// A sink in memory; clones share it.
    pub type Memory = Arc<Mutex<Vec<u8>>>;

    pub fn memory() -> Memory {
        Memory::default()
    }

    /// Everything written to `m` so far, as text.
    pub fn text(m: &Memory) -> String {
        let bytes = m.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8(bytes).expect("UTF-8")
    }

    pub const ID: &str = "85798b38-ae44-48eb-bb90-7cf0dcdafe7b";
    pub const OTHER_ID: &str = "1234abcd-0000-4000-8000-000000000001";

    /// A secret the run knows (remembered in its `Secrets`).
    pub const SECRET: &str = "SK-7f3e9a1c5b2d8e4f6a0b";

    /// Text built to hijack what reads the output: workflow commands on lines of their own
    /// (the new form and the old `##[`), terminal escapes, HTML and Markdown, a known secret.
    pub const HOSTILE: &str = "boom\n::add-mask::FINISHED\r\n  ::warning::injected\n##[error]old form\n\x1b]0;title\x07\x1b[2J <script>x</script> | `c` [l](u) key SK-7f3e9a1c5b2d8e4f6a0b end";

    /// `RUNNING 43% · tasks 43/100 · stages 1/3 · sub-job 2`.
    pub fn running() -> Snapshot {
        Snapshot {
            status: JobStatus::Running,
            message: String::new(),
            // A SQL job's `/progress` (`kind::sql`), as a report sees it: a name and counts.
            source: Source {
                name: "progress",
                counts: TaskCounts::Given,
                reason: false,
                words: &Words {
                    what: "a SQL job",
                    instead: "",
                },
            },
            progress: Some(0.43),
            sub_job_id: Some(2),
            sub_jobs: vec![SubJob {
                id: Some(2),
                stage_ids: vec![4, 5, 6],
                num_tasks: 100,
                num_completed_tasks: 43,
                num_completed_stages: 1,
                ..SubJob::default()
            }],
            detail: None,
            queued: None,
            restart_times: None,
            restarted: None,
            figures: None,
        }
    }

    /// A job that ended `outcome` after 4m12s, 37 polls and 2 retries, last seen [`running`].
    pub fn ended(job_id: &str, outcome: Outcome) -> JobReport {
        let mut r = JobReport::ended_at_submit(job_id.to_string());
        r.outcome = outcome;
        r.elapsed = Duration::from_secs(252);
        r.polls = 37;
        r.retries = 2;
        r.last = Some(running());
        r
    }

    /// [`ended`] FAILED, DLI saying `why`.
    pub fn failed(job_id: &str, why: &str) -> JobReport {
        let mut r = ended(job_id, Outcome::Failed);
        r.reason = Some(Reason {
            message: why.to_string(),
            detail: None,
        });
        r
    }

    /// `line` without its leading `2026-01-31T12:00:00Z ` (checked to be there).
    pub fn untimestamped(line: &str) -> &str {
        let (stamp, rest) = line.split_at_checked(21).unwrap_or_default();
        let shape = stamp.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            10 => b == b'T',
            13 | 16 => b == b':',
            19 => b == b'Z',
            20 => b == b' ',
            _ => b.is_ascii_digit(),
        });
        assert!(shape && stamp.len() == 21, "no timestamp on {line:?}");
        rest
    }
}
