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
}

impl AppendFile {
    pub fn new(path: PathBuf, secrets: Secrets, errors: Stream) -> Self {
        AppendFile {
            path,
            secrets,
            errors,
        }
    }
}

impl Sink for AppendFile {
    fn put(&self, bytes: Vec<u8>) {
        if let Err(e) = out_file::write(&self.path, How::Append, bytes, out_file::WITHIN) {
            self.errors.line(
                &self
                    .secrets
                    .line(&format!("error: cannot write {}: {e}", self.path.display())),
            );
        }
    }
}
