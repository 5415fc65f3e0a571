//! stderr (and stdout) written by a thread of its own, so that nobody reading them can never
//! hold up a wait: a pipe whose reader stopped (a `tee` that hung, a log shipper that died)
//! blocks that thread, not the runtime, so the wait's deadline and signals still win. Lines
//! wait in a bounded queue; when it is full they are dropped and counted, and the count is said
//! once the stream moves again. At the end, [`Stream::flush`] waits a bounded time for what is
//! queued; a stream that cannot take it is abandoned (the process ends without it).
//!
//! One `Stream` per run and stream (made by `cmd::Context`, handed as a clone to whatever
//! prints), so lines keep their order.

use std::io::Write;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Lines queued at most; past that they are dropped (and counted).
pub const QUEUE_LINES: usize = 1024;

/// Bytes queued at most (a JSON summary of many jobs is one piece): past that, pieces are
/// dropped (and counted), so a reader that stopped costs at most this much memory. One piece
/// larger than this is still taken when nothing else waits.
pub const QUEUE_BYTES: usize = 8 * 1024 * 1024;

/// How long the end of a run waits for a stream to take what is queued.
pub const FLUSH_WITHIN: Duration = Duration::from_secs(2);

/// A line-oriented writer on a thread of its own. Clones share it.
#[derive(Clone)]
pub struct Stream(Arc<Inner>);

struct Inner {
    /// `None` when no thread could be started: then lines are written where they are said.
    tx: Option<SyncSender<Vec<u8>>>,
    /// Direct writing when there is no thread.
    direct: Mutex<Option<Box<dyn Write + Send>>>,
    state: Arc<(Mutex<Pending>, Condvar)>,
}

#[derive(Default)]
struct Pending {
    /// Lines queued and not yet written.
    queued: usize,
    /// Their bytes.
    queued_bytes: usize,
    /// Lines dropped in all (never reset: whether a line was lost so far reads it).
    dropped: u64,
    /// How many of them a note has said already.
    noted: u64,
    /// A write failed (a closed pipe, a full disk): what was said may be nowhere.
    failed: bool,
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream").finish_non_exhaustive()
    }
}

impl Stream {
    /// The process's stderr (a duplicate of its descriptor, so that std's own lock on stderr is
    /// never held by a write that blocks).
    pub fn stderr() -> Self {
        Stream::to(duplicate(&std::io::stderr()).unwrap_or_else(|| Box::new(std::io::stderr())))
    }

    /// The process's stdout, likewise.
    pub fn stdout() -> Self {
        Stream::to(duplicate(&std::io::stdout()).unwrap_or_else(|| Box::new(std::io::stdout())))
    }

    /// Lines written to `out` by a thread of their own.
    pub fn to(out: Box<dyn Write + Send>) -> Self {
        let state = Arc::new((Mutex::new(Pending::default()), Condvar::new()));
        let (tx, rx) = sync_channel::<Vec<u8>>(QUEUE_LINES);
        let shared = Arc::clone(&state);
        let out = Arc::new(Mutex::new(Some(out)));
        let for_thread = Arc::clone(&out);
        let spawned = std::thread::Builder::new()
            .name("dli-wait-output".into())
            .spawn(move || {
                let taken = for_thread.lock().ok().and_then(|mut o| o.take());
                if let Some(w) = taken {
                    drain(rx, w, &shared);
                }
            });
        match spawned {
            Ok(_) => Stream(Arc::new(Inner {
                tx: Some(tx),
                direct: Mutex::new(None),
                state,
            })),
            Err(_) => {
                let direct = out.lock().ok().and_then(|mut o| o.take());
                Stream(Arc::new(Inner {
                    tx: None,
                    direct: Mutex::new(direct),
                    state,
                }))
            }
        }
    }

    /// Say `text` and a line break; never blocks (a full queue drops the line, and counts it).
    pub fn line(&self, text: &str) {
        let mut bytes = Vec::with_capacity(text.len() + 1);
        bytes.extend_from_slice(text.as_bytes());
        bytes.push(b'\n');
        self.bytes(bytes);
    }

    /// Write these bytes as they are (a JSON summary of many jobs in one piece).
    pub fn bytes(&self, bytes: Vec<u8>) {
        let Some(tx) = &self.0.tx else {
            let ok = match self.0.direct.lock() {
                Ok(mut d) => d
                    .as_mut()
                    .is_some_and(|w| w.write_all(&bytes).and_then(|()| w.flush()).is_ok()),
                Err(_) => false,
            };
            if !ok && let Ok(mut p) = self.0.state.0.lock() {
                p.failed = true;
            }
            return;
        };
        let (lock, _) = &*self.0.state;
        let size = bytes.len();
        if let Ok(mut p) = lock.lock() {
            if p.queued > 0 && p.queued_bytes + size > QUEUE_BYTES {
                p.dropped += 1;
                return;
            }
            p.queued += 1;
            p.queued_bytes += size;
        }
        match tx.try_send(bytes) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                if let Ok(mut p) = lock.lock() {
                    p.queued -= 1;
                    p.queued_bytes = p.queued_bytes.saturating_sub(size);
                    p.dropped += 1;
                }
            }
        }
    }

    /// Wait up to `within` for everything queued to be written; whether it was.
    pub fn flush(&self, within: Duration) -> bool {
        let until = Instant::now() + within;
        let (lock, cv) = &*self.0.state;
        let Ok(mut p) = lock.lock() else {
            return false;
        };
        while p.queued > 0 {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            match cv.wait_timeout(p, left) {
                Ok((next, _)) => p = next,
                Err(_) => return false,
            }
        }
        true
    }

    /// Whether a write failed (or a line was dropped) so far: with [`Stream::flush`] first,
    /// whether everything said got out.
    pub fn broken(&self) -> bool {
        let (lock, _) = &*self.0.state;
        lock.lock().map_or(true, |p| p.failed || p.dropped > 0)
    }
}

/// The writer thread: each line as it comes, a note on the lines dropped before it.
fn drain(rx: Receiver<Vec<u8>>, mut out: Box<dyn Write + Send>, state: &(Mutex<Pending>, Condvar)) {
    let (lock, cv) = state;
    while let Ok(bytes) = rx.recv() {
        let dropped = lock
            .lock()
            .map(|mut p| {
                let unsaid = p.dropped - p.noted;
                p.noted = p.dropped;
                unsaid
            })
            .unwrap_or(0);
        let mut ok = true;
        if dropped > 0 {
            let note = format!(
                "dli-wait: {dropped} line{} of output dropped: nobody was reading it\n",
                if dropped == 1 { "" } else { "s" }
            );
            ok = out.write_all(note.as_bytes()).is_ok();
        }
        ok = ok && out.write_all(&bytes).and_then(|()| out.flush()).is_ok();
        if let Ok(mut p) = lock.lock() {
            p.queued = p.queued.saturating_sub(1);
            p.queued_bytes = p.queued_bytes.saturating_sub(bytes.len());
            p.failed |= !ok;
        }
        cv.notify_all();
        if !ok {
            // A closed pipe: nothing more will get through. What is queued counts as said.
            while let Ok(rest) = rx.try_recv() {
                if let Ok(mut p) = lock.lock() {
                    p.queued = p.queued.saturating_sub(1);
                    p.queued_bytes = p.queued_bytes.saturating_sub(rest.len());
                }
            }
            cv.notify_all();
        }
    }
}

/// A second descriptor for the same stream, so that writes block no lock of std's.
#[cfg(unix)]
fn duplicate(s: &impl std::os::fd::AsFd) -> Option<Box<dyn Write + Send>> {
    let fd = s.as_fd().try_clone_to_owned().ok()?;
    Some(Box::new(std::fs::File::from(fd)))
}

#[cfg(not(unix))]
fn duplicate<T>(_: &T) -> Option<Box<dyn Write + Send>> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that takes what it is given into a shared buffer.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::Error::other("poisoned"))?
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_come_out_in_order() {
        let buf = Shared::default();
        let s = Stream::to(Box::new(buf.clone()));
        for i in 0..100 {
            s.line(&format!("line {i}"));
        }
        assert!(s.flush(Duration::from_secs(5)));
        assert!(!s.broken());
        let text = String::from_utf8(buf.0.lock().map(|b| b.clone()).unwrap_or_default())
            .unwrap_or_default();
        let want: String = (0..100).map(|i| format!("line {i}\n")).collect();
        assert_eq!(text, want);
    }

    /// A pipe nobody reads: saying lines never blocks, and the flush gives up in its time.
    #[cfg(unix)]
    #[test]
    fn a_stuck_pipe_never_holds_the_caller() {
        let (reader, writer) = std::io::pipe().expect("a pipe");
        let s = Stream::to(Box::new(writer));
        let started = Instant::now();
        let line = "x".repeat(4000);
        // 40 MB: far more than a pipe holds (64 KiB) and than the queue keeps.
        for _ in 0..10_000 {
            s.line(&line);
        }
        assert!(!s.flush(Duration::from_millis(300)));
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        drop(reader);
    }

    /// A reader that stopped costs at most [`QUEUE_BYTES`] of queued output, however large
    /// the pieces (a JSON summary of many jobs is one): what does not fit is dropped, and
    /// counted.
    #[cfg(unix)]
    #[test]
    fn what_waits_for_a_stuck_reader_is_bounded_in_bytes() {
        let (reader, writer) = std::io::pipe().expect("a pipe");
        let s = Stream::to(Box::new(writer));
        let piece = vec![b'x'; 1024 * 1024];
        // 64 pieces of 1 MiB: 8 times the byte bound, far under the line bound.
        for _ in 0..64 {
            s.bytes(piece.clone());
        }
        let (lock, _) = &*s.0.state;
        let p = lock.lock().expect("the state");
        assert!(
            p.queued_bytes <= QUEUE_BYTES,
            "{} bytes queued",
            p.queued_bytes
        );
        assert!(
            p.dropped >= 64 - 1 - (QUEUE_BYTES / piece.len()) as u64,
            "{}",
            p.dropped
        );
        drop(p);
        drop(reader);
    }
}
