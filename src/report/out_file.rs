//! The one way dli-wait writes a file it was told to write: `--summary-file` and `--record`
//! (replaced whole), `$GITHUB_OUTPUT` and `$GITHUB_STEP_SUMMARY` (appended to).
//!
//! What is at the path decides how:
//!
//! - **a regular file, or nothing**: replaced through a new temporary file with a short random
//!   name beside it (`.dli-wait-XXXXXX.tmp`, created exclusively, so a planted file or link
//!   there is never opened, and any legal name works), synced and renamed over the path; an
//!   existing file keeps its permissions. Appends open the file itself (`O_APPEND`).
//! - **a FIFO or a character device** (`/dev/null`, a terminal, a pipe to a logger): written
//!   into as it is, never replaced, never truncated; opened without blocking (a FIFO nobody
//!   reads is an error at once, not a hang). A socket, a block device or a directory is refused.
//! - **a symbolic link**: never replaced. One to a FIFO or character device (`/dev/stdout`,
//!   `/dev/stderr` on a pipe or terminal) is written through, since nothing can be replaced
//!   or reached through it (what was opened is checked before a byte is written); any other
//!   (to a regular file, a directory, nothing) is refused, never followed: a link planted at
//!   the path cannot redirect the write into someone's file. Name the file itself.
//!
//! Every write runs on a thread of its own and is waited for at most [`WITHIN`]: a device or a
//! reader that stops taking bytes, or a disk that hangs, costs that much, not the wait's
//! deadline or the signals. A write that did not end in time is abandoned (its thread is left
//! to the end of the process) and reported as an error.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{RecvTimeoutError, sync_channel};
use std::time::Duration;

/// How long one write of an output file may take before it is given up.
pub const WITHIN: Duration = Duration::from_secs(2);

/// The time the writes of a run's end share: once [`Budget::end_within`] is called (by
/// `cmd::Context` when it concludes), every write through this budget, and its clones, ends
/// by then, so four output files that nobody reads cost that once, not once each. Before,
/// each write has [`WITHIN`].
#[derive(Debug, Clone, Default)]
pub struct Budget(std::sync::Arc<std::sync::Mutex<Option<std::time::Instant>>>);

impl Budget {
    /// From now on, every write through this budget ends within `within` from now (or by the
    /// end already set, if sooner).
    pub fn end_within(&self, within: Duration) {
        let by = std::time::Instant::now() + within;
        if let Ok(mut end) = self.0.lock() {
            *end = Some(end.map_or(by, |e| e.min(by)));
        }
    }

    /// How long the next write may take: [`WITHIN`], or what is left of the end's time.
    pub fn left(&self) -> Duration {
        match self.0.lock().ok().and_then(|e| *e) {
            Some(by) => by
                .saturating_duration_since(std::time::Instant::now())
                .min(WITHIN),
            None => WITHIN,
        }
    }
}

/// How the file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// Its whole content, atomically where it is a regular file.
    Replace,
    /// Added at its end (the runner's files).
    Append,
}

/// Write `bytes` to `path` as `how` says, within `within`. The error is one line, naming the
/// problem (and what to do about it) without the path, which the caller names.
pub fn write(path: &Path, how: How, bytes: Vec<u8>, within: Duration) -> std::io::Result<()> {
    let (tx, rx) = sync_channel(1);
    let owned = path.to_path_buf();
    let spawned = std::thread::Builder::new()
        .name("dli-wait-file".into())
        .spawn(move || {
            let _ = tx.send(write_now(&owned, how, &bytes));
        });
    if let Err(e) = spawned {
        return Err(std::io::Error::other(format!(
            "cannot start a thread to write it: {e}"
        )));
    }
    match rx.recv_timeout(within) {
        Ok(result) => result,
        Err(RecvTimeoutError::Timeout) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!(
                "not written within {} (a FIFO or device nobody reads, or a disk that hangs); given up",
                crate::dli::human::duration(within)
            ),
        )),
        Err(RecvTimeoutError::Disconnected) => {
            Err(std::io::Error::other("the write stopped unexpectedly"))
        }
    }
}

/// The write itself, on the calling thread.
pub fn write_now(path: &Path, how: How, bytes: &[u8]) -> std::io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => match std::fs::metadata(path) {
            // `/dev/stdout`, a link to a FIFO or a terminal: nothing to replace, nothing
            // regular reachable through it (checked again on what was opened).
            Ok(t) if is_stream(&t) => into(path, Open::ThroughLink, bytes),
            _ => Err(refusal(
                "is a symbolic link (not to a FIFO or terminal); dli-wait neither follows nor replaces it: name the file itself",
            )),
        },
        Ok(m) if m.is_dir() => Err(refusal("is a directory: name a file")),
        Ok(m) if m.is_file() => match how {
            How::Replace if m.permissions().readonly() => Err(refusal(
                "is read-only: make it writable, or name another file",
            )),
            How::Replace => replace(path, Some(&m), bytes),
            How::Append => into(path, Open::Create, bytes),
        },
        Ok(m) if is_stream(&m) => into(path, Open::Existing, bytes),
        Ok(_) => Err(refusal(
            "is a socket or block device, which dli-wait does not write into: name a regular file or a FIFO",
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => match how {
            How::Replace => replace(path, None, bytes),
            How::Append => into(path, Open::Create, bytes),
        },
        Err(e) => Err(e),
    }
}

fn refusal(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, what.to_string())
}

/// A FIFO or a character device (`/dev/null`, a terminal): written into as it is.
#[cfg(unix)]
fn is_stream(m: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    let t = m.file_type();
    t.is_fifo() || t.is_char_device()
}

#[cfg(not(unix))]
fn is_stream(_: &std::fs::Metadata) -> bool {
    false
}

/// How [`into`] opens the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    /// A regular file, created when missing (appends).
    Create,
    /// What is there (a FIFO, a device), never created, never through a link.
    Existing,
    /// Through a link whose target is a FIFO or device.
    ThroughLink,
}

/// Open what is at `path` as `how` says and write `bytes` at its end: never truncating, never
/// blocking on the open; what was opened is checked to be what was expected before a byte is
/// written (a path changed in between is refused, not written).
fn into(path: &Path, how: Open, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.append(true).create(how == Open::Create);
    #[cfg(unix)]
    {
        use rustix::fs::OFlags;
        use std::os::unix::fs::OpenOptionsExt;
        let mut flags = OFlags::NONBLOCK | OFlags::NOCTTY;
        if how != Open::ThroughLink {
            flags |= OFlags::NOFOLLOW;
        }
        options.custom_flags(flags.bits() as i32);
    }
    let mut file = options.open(path).map_err(|e| explain_open(path, e))?;
    let opened = file.metadata()?;
    let expected = match how {
        Open::Create => opened.is_file(),
        Open::Existing | Open::ThroughLink => is_stream(&opened),
    };
    if !expected {
        return Err(refusal("changed while it was being opened; not written"));
    }
    #[cfg(unix)]
    {
        // Opened without blocking; written blocking, on this thread (the caller has a deadline).
        let flags = rustix::fs::fcntl_getfl(&file)?;
        rustix::fs::fcntl_setfl(&file, flags - rustix::fs::OFlags::NONBLOCK)?;
    }
    file.write_all(bytes)?;
    file.flush()
}

/// What an open's failure means for what is at `path`.
fn explain_open(path: &Path, e: std::io::Error) -> std::io::Error {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let kind = std::fs::symlink_metadata(path).map(|m| m.file_type());
        match e.raw_os_error() {
            Some(code) if code == rustix::io::Errno::NXIO.raw_os_error() => {
                if kind.is_ok_and(|k| k.is_fifo()) {
                    return refusal(
                        "is a FIFO that nobody is reading: start its reader first, or name a regular file",
                    );
                }
                return refusal("is a device or socket that cannot be opened for writing");
            }
            Some(code) if code == rustix::io::Errno::LOOP.raw_os_error() => {
                return refusal(
                    "is a symbolic link (not to a FIFO or terminal); dli-wait neither follows nor replaces it: name the file itself",
                );
            }
            _ => {}
        }
    }
    let _ = path;
    e
}

/// Replace the regular file at `path` (`old`: its metadata, when there is one) atomically.
fn replace(path: &Path, old: Option<&std::fs::Metadata>, bytes: &[u8]) -> std::io::Result<()> {
    let dir = parent(path);
    let mut builder = tempfile::Builder::new();
    builder.prefix(".dli-wait-").suffix(".tmp").rand_bytes(6);
    #[cfg(unix)]
    {
        // A new file: as `File::create` makes one (less the umask).
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(&dir)?;
    if let Some(old) = old {
        // The file it replaces keeps its permissions (a 0600 summary stays 0600).
        tmp.as_file().set_permissions(old.permissions())?;
    }
    tmp.as_file_mut().write_all(bytes)?;
    tmp.as_file().sync_all()?;
    put_in_place(tmp, path, old.is_some())?;
    sync_dir(&dir);
    Ok(())
}

/// Move the written temporary file to `path`, where a regular file was (`was_file`) or
/// nothing was. On Linux the move itself checks that this is still so: it swaps the two
/// (`RENAME_EXCHANGE`) and swaps back if what it took out is not a regular file (a device
/// or FIFO put there while the file was written), or it refuses to replace anything that
/// appeared where nothing was (`RENAME_NOREPLACE`). Elsewhere, a plain rename.
#[cfg(target_os = "linux")]
fn put_in_place(tmp: tempfile::NamedTempFile, path: &Path, was_file: bool) -> std::io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    let tmp_path = tmp.into_temp_path();
    let flags = if was_file {
        RenameFlags::EXCHANGE
    } else {
        RenameFlags::NOREPLACE
    };
    match renameat_with(CWD, &*tmp_path, CWD, path, flags) {
        Ok(()) if !was_file => {
            // Ours is in place; nothing is left at the temporary name.
            let _ = tmp_path.keep();
            Ok(())
        }
        Ok(()) => {
            // What was at the path is now at the temporary name.
            let taken = std::fs::symlink_metadata(&*tmp_path)?;
            if taken.file_type().is_file() {
                // The old file: removed with the temporary name.
                drop(tmp_path);
                return Ok(());
            }
            // Swapped in while we wrote: put it back, and ours away.
            renameat_with(CWD, &*tmp_path, CWD, path, RenameFlags::EXCHANGE)?;
            drop(tmp_path);
            Err(refusal(
                "was replaced by something that is not a regular file while it was written; left as it is",
            ))
        }
        Err(rustix::io::Errno::EXIST) => Err(refusal(
            "appeared while it was written (another process?); left as it is: try again",
        )),
        // A file system without these flags: a plain rename, as elsewhere.
        Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS | rustix::io::Errno::OPNOTSUPP) => {
            tmp_path.persist(path).map_err(|e| e.error)
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(not(target_os = "linux"))]
fn put_in_place(tmp: tempfile::NamedTempFile, path: &Path, _was_file: bool) -> std::io::Result<()> {
    tmp.persist(path).map(|_| ()).map_err(|e| e.error)
}

fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Make the rename durable where the platform allows (a directory opened and synced).
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Err(e) = std::fs::File::open(dir).and_then(|d| d.sync_all()) {
        tracing::debug!(dir = %dir.display(), error = %e, "cannot sync an output file's directory");
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt, PermissionsExt};

    struct Dir(PathBuf);

    impl Dir {
        fn new(name: &str) -> Self {
            let p =
                std::env::temp_dir().join(format!("dli-wait-out-{name}-{}", std::process::id()));
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

    fn mkfifo(path: &Path) {
        rustix::fs::mkfifoat(
            rustix::fs::CWD,
            path,
            rustix::fs::Mode::from_raw_mode(0o600),
        )
        .expect("mkfifo");
    }

    /// A FIFO (or device) put at the path while the file was written is put back, never
    /// replaced; a file that appeared where there was none is left alone.
    #[cfg(target_os = "linux")]
    #[test]
    fn what_was_swapped_in_while_writing_is_never_replaced() {
        use std::os::unix::fs::FileTypeExt;
        let d = Dir::new("swap");
        let p = d.0.join("summary.json");
        let tmp = tempfile::NamedTempFile::new_in(&d.0).expect("tmp");
        mkfifo(&p);
        let e = put_in_place(tmp, &p, true).expect_err("a FIFO came in between");
        assert!(e.to_string().contains("not a regular file"), "{e}");
        assert!(std::fs::symlink_metadata(&p).unwrap().file_type().is_fifo());
        assert_eq!(
            std::fs::read_dir(&d.0).unwrap().count(),
            1,
            "no temporary file left"
        );
        let q = d.0.join("new.json");
        std::fs::write(&q, "theirs").unwrap();
        let tmp = tempfile::NamedTempFile::new_in(&d.0).expect("tmp");
        let e = put_in_place(tmp, &q, false).expect_err("a file appeared");
        assert!(e.to_string().contains("appeared"), "{e}");
        assert_eq!(std::fs::read_to_string(&q).unwrap(), "theirs");
    }

    /// The end of a run shares one time: three FIFOs whose readers never read cost it once,
    /// not [`WITHIN`] each (before: 2 s per file, one after another).
    #[test]
    fn writes_through_one_budget_share_its_time() {
        let d = Dir::new("budget");
        let budget = Budget::default();
        let mut readers = Vec::new();
        let paths: Vec<PathBuf> = (0..3).map(|i| d.0.join(format!("f{i}"))).collect();
        for p in &paths {
            mkfifo(p);
            // A reader that holds the FIFO open and never reads: writes past the pipe's
            // buffer block.
            let p = p.clone();
            readers.push(std::thread::spawn(move || {
                let f = std::fs::File::open(&p).expect("open the FIFO for reading");
                std::thread::sleep(Duration::from_secs(8));
                drop(f);
            }));
        }
        std::thread::sleep(Duration::from_millis(200));
        budget.end_within(Duration::from_millis(300));
        let started = std::time::Instant::now();
        for p in &paths {
            let e = write(p, How::Append, vec![b'x'; 1 << 20], budget.left()).expect_err("stuck");
            assert!(e.to_string().contains("not written within"), "{e}");
        }
        let took = started.elapsed();
        assert!(took < Duration::from_millis(1500), "{took:?}");
        assert_eq!(budget.left(), Duration::ZERO);
        assert_eq!(Budget::default().left(), WITHIN);
    }

    #[test]
    fn a_read_only_file_is_refused_not_replaced() {
        let d = Dir::new("ro");
        let p = d.0.join("summary.json");
        std::fs::write(&p, "keep").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o444)).unwrap();
        let e = write(&p, How::Replace, b"new".to_vec(), WITHIN).expect_err("read-only");
        assert!(e.to_string().contains("read-only"), "{e}");
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "keep");
    }

    #[test]
    fn a_fifo_nobody_reads_is_refused_at_once_and_stays_a_fifo() {
        let d = Dir::new("fifo");
        let p = d.0.join("out");
        mkfifo(&p);
        for how in [How::Replace, How::Append] {
            let started = std::time::Instant::now();
            let e = write(&p, how, b"x\n".to_vec(), WITHIN).expect_err("nobody reads it");
            assert!(e.to_string().contains("FIFO that nobody is reading"), "{e}");
            assert!(started.elapsed() < WITHIN, "{:?}", started.elapsed());
            assert!(
                std::fs::symlink_metadata(&p)
                    .expect("stat")
                    .file_type()
                    .is_fifo()
            );
        }
    }

    #[test]
    fn a_fifo_with_a_reader_gets_the_bytes_and_stays_a_fifo() {
        let d = Dir::new("fifo-read");
        let p = d.0.join("out");
        mkfifo(&p);
        let reader = {
            let p = p.clone();
            std::thread::spawn(move || std::fs::read_to_string(p).unwrap_or_default())
        };
        // The reader's open waits for a writer and ours fails until it has opened: try a while.
        let mut result = Err(std::io::Error::other("not tried"));
        for _ in 0..100 {
            result = write(&p, How::Replace, b"{\"exit_code\":0}\n".to_vec(), WITHIN);
            if result.is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        result.expect("written into the FIFO");
        assert_eq!(reader.join().unwrap_or_default(), "{\"exit_code\":0}\n");
        assert!(
            std::fs::symlink_metadata(&p)
                .expect("stat")
                .file_type()
                .is_fifo()
        );
    }

    /// A FIFO whose reader opened it and never reads: the write blocks once the pipe is full,
    /// and is given up at its deadline.
    #[test]
    fn a_write_that_cannot_finish_is_given_up_at_its_deadline() {
        let d = Dir::new("fifo-stuck");
        let p = d.0.join("out");
        mkfifo(&p);
        let _reader = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
            .open(&p)
            .expect("open the reading end");
        let started = std::time::Instant::now();
        let e = write(
            &p,
            How::Append,
            vec![b'x'; 1 << 20],
            Duration::from_millis(300),
        )
        .expect_err("nobody reads: it cannot finish");
        assert_eq!(e.kind(), std::io::ErrorKind::TimedOut, "{e}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn dev_null_is_written_into_not_replaced() {
        let before = std::fs::metadata("/dev/null").expect("stat /dev/null");
        write(Path::new("/dev/null"), How::Replace, b"x".to_vec(), WITHIN).expect("written");
        let after = std::fs::symlink_metadata("/dev/null").expect("stat /dev/null");
        assert!(after.file_type().is_char_device());
        assert_eq!(
            std::os::unix::fs::MetadataExt::ino(&before),
            std::os::unix::fs::MetadataExt::ino(&after)
        );
    }

    #[test]
    fn a_symlink_is_refused_and_left_alone() {
        let d = Dir::new("link");
        let victim = d.0.join("victim");
        std::fs::write(&victim, "precious").expect("victim");
        let p = d.0.join("out");
        std::os::unix::fs::symlink(&victim, &p).expect("link");
        for how in [How::Replace, How::Append] {
            let e = write(&p, how, b"x".to_vec(), WITHIN).expect_err("a link");
            assert!(e.to_string().contains("symbolic link"), "{e}");
        }
        assert!(
            std::fs::symlink_metadata(&p)
                .expect("stat")
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&victim).expect("read"), "precious");
    }

    #[test]
    fn a_replaced_file_keeps_its_mode_and_any_legal_name_works() {
        let d = Dir::new("mode");
        let p = d.0.join("summary.json");
        std::fs::write(&p, "old").expect("old");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        write(&p, How::Replace, b"new".to_vec(), WITHIN).expect("written");
        assert_eq!(std::fs::read_to_string(&p).expect("read"), "new");
        let mode = std::fs::metadata(&p).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // 255 bytes: the longest name a Linux file system takes.
        let long = d.0.join("n".repeat(255));
        write(&long, How::Replace, b"x".to_vec(), WITHIN).expect("a 255-byte name");
        assert_eq!(std::fs::read_to_string(&long).expect("read"), "x");
    }

    /// What can be at an output path.
    #[derive(Debug, Clone, Copy)]
    enum Kind {
        Regular,
        Missing,
        Fifo,
        FifoRead,
        Device,
        Symlink,
        LinkToDevice,
        MissingDir,
        ReadOnlyDir,
        Directory,
    }

    /// Make `kind` at `dir/out`; the path, and what a symlink points to.
    fn plant(dir: &Path, kind: Kind) -> (PathBuf, PathBuf) {
        let p = dir.join("out");
        let victim = dir.join("victim");
        std::fs::write(&victim, "precious").expect("victim");
        match kind {
            Kind::Regular => std::fs::write(&p, "old").expect("old"),
            Kind::Missing => {}
            Kind::Fifo | Kind::FifoRead => mkfifo(&p),
            Kind::Device => return (PathBuf::from("/dev/null"), victim),
            Kind::Symlink => std::os::unix::fs::symlink(&victim, &p).expect("link"),
            Kind::LinkToDevice => std::os::unix::fs::symlink("/dev/null", &p).expect("link"),
            Kind::MissingDir => return (dir.join("no-such-dir").join("out"), victim),
            Kind::ReadOnlyDir => {
                let ro = dir.join("ro");
                std::fs::create_dir(&ro).expect("mkdir");
                std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555))
                    .expect("chmod");
                return (ro.join("out"), victim);
            }
            Kind::Directory => std::fs::create_dir(&p).expect("mkdir"),
        }
        (p, victim)
    }

    fn identity(p: &Path) -> Option<(u64, std::fs::FileType)> {
        use std::os::unix::fs::MetadataExt;
        std::fs::symlink_metadata(p)
            .ok()
            .map(|m| (m.ino(), m.file_type()))
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

        /// Issue 25's invariant for output files: for any kind of path and either way of
        /// writing, the write ends by its deadline, and nothing at the path that was not a
        /// regular file is replaced (a link's target untouched); a regular file, or none,
        /// ends up holding exactly what was written, or is left as it was.
        #[test]
        fn any_output_path_ends_in_time_and_only_regular_files_are_replaced(
            kind in proptest::sample::select(vec![
                Kind::Regular, Kind::Missing, Kind::Fifo, Kind::FifoRead, Kind::Device,
                Kind::Symlink, Kind::LinkToDevice, Kind::MissingDir, Kind::ReadOnlyDir,
                Kind::Directory,
            ]),
            append in proptest::bool::ANY,
            text in "[a-z\n]{0,200}",
        ) {
            let d = Dir::new(&format!("prop-{}", rand::random::<u32>()));
            let (p, victim) = plant(&d.0, kind);
            let before = identity(&p);
            let reader = matches!(kind, Kind::FifoRead).then(|| {
                let p = p.clone();
                std::thread::spawn(move || std::fs::read(p).unwrap_or_default())
            });
            let how = if append { How::Append } else { How::Replace };
            let started = std::time::Instant::now();
            let mut result = write(&p, how, text.clone().into_bytes(), Duration::from_secs(1));
            if reader.is_some() {
                // The reader's open may come after our first try.
                for _ in 0..100 {
                    if result.is_ok() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(10));
                    result = write(&p, how, text.clone().into_bytes(), Duration::from_secs(1));
                }
            }
            proptest::prop_assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
            let after = identity(&p);
            let was_regular = before.as_ref().is_none_or(|(_, t)| t.is_file());
            if !was_regular {
                proptest::prop_assert_eq!(&before, &after, "{:?} was replaced", kind);
            }
            let victim_text = std::fs::read_to_string(&victim).unwrap_or_default();
            proptest::prop_assert_eq!(victim_text.as_str(), "precious");
            match (kind, &result) {
                (Kind::Regular, Ok(())) => {
                    let want = if append { format!("old{text}") } else { text.clone() };
                    proptest::prop_assert_eq!(std::fs::read_to_string(&p).ok(), Some(want));
                }
                (Kind::Missing, Ok(())) => {
                    proptest::prop_assert_eq!(std::fs::read_to_string(&p).ok(), Some(text.clone()));
                }
                (Kind::Regular | Kind::Missing | Kind::FifoRead | Kind::Device | Kind::LinkToDevice, Err(e)) => {
                    proptest::prop_assert!(false, "{:?}: {}", kind, e);
                }
                (Kind::Symlink | Kind::MissingDir | Kind::Directory | Kind::Fifo, Ok(())) => {
                    proptest::prop_assert!(false, "{:?} was written", kind);
                }
                _ => {}
            }
            if let Some(r) = reader {
                if result.is_err() {
                    // Release the reader's open, so the test fails rather than hangs.
                    let _ = std::fs::OpenOptions::new().read(true).write(true).open(&p);
                }
                let got = r.join().unwrap_or_default();
                proptest::prop_assert_eq!(String::from_utf8_lossy(&got).into_owned(), text);
            }
            if matches!(kind, Kind::ReadOnlyDir) {
                let _ = std::fs::set_permissions(d.0.join("ro"), std::fs::Permissions::from_mode(0o755));
            }
        }
    }
}
