//! Reading the files dli-wait is given (SQL, a Spark batch, the credentials file, the ID token
//! file, the trust file, a scenario), bounded: never more than a stated number of bytes, and
//! on Unix never stuck on a FIFO or a device. The one reader of such files.
//!
//! A regular file larger than its limit is refused before it is read. Anything else (a FIFO,
//! `/dev/stdin`, a device) is opened without blocking and read as it comes, to the limit and
//! for at most [`SLOW_FILE`]: a FIFO with no writer reads as empty at once (open(2) with
//! `O_NONBLOCK`), one whose writer keeps it open without writing ends after [`SLOW_FILE`], and
//! `/dev/zero` ends at the limit. Standard input (`-`) is read to its end, to the limit.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

/// How long a FIFO or device may take to give all it has.
pub const SLOW_FILE: Duration = Duration::from_secs(3);

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;

/// What a file holds and the most read of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// The most bytes read.
    pub bytes: u64,
    /// What the file holds, for messages: "SQL", "a Spark batch".
    pub of: &'static str,
}

/// `--sql-file` and `run --sql-file -`. DLI documents no limit on a statement; 2 MiB is
/// far beyond any hand-written SQL (the SQL of Tencent's DLC is limited to 2 MB).
pub const SQL: Limit = Limit {
    bytes: 2 * MIB,
    of: "SQL",
};
/// `--spark-file`: the JSON body of one batch (its code is in OBS, not in the body).
pub const SPARK_BATCH: Limit = Limit {
    bytes: MIB,
    of: "a Spark batch",
};
/// The SDKs' credentials file (and the few bytes of the DMI files read for ECS detection).
pub const CREDENTIALS_FILE: Limit = Limit {
    bytes: 64 * KIB,
    of: "a credentials file",
};
/// The OIDC ID token file (a JWT of a few kilobytes).
pub const ID_TOKEN: Limit = Limit {
    bytes: 64 * KIB,
    of: "an ID token",
};
/// `SSL_CERT_FILE` (and all files of an `SSL_CERT_DIR` together): the Mozilla bundle is
/// about 220 KiB.
pub const TRUST_FILE: Limit = Limit {
    bytes: 16 * MIB,
    of: "certificate authorities",
};
/// `simulate --scenario`.
pub const SCENARIO: Limit = Limit {
    bytes: 16 * MIB,
    of: "a scenario",
};

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error(
        "it is larger than {}, the most dli-wait reads as {}: check that it is the right file, or make it smaller",
        size(.0.bytes),
        .0.of
    )]
    TooLarge(Limit),
    #[error(
        "it is not a regular file and gave no end within {}s (a FIFO whose writer is not writing?): give a regular file",
        SLOW_FILE.as_secs()
    )]
    Slow,
    #[error("it is not UTF-8 text (at byte {0})")]
    NotText(usize),
}

impl From<ReadError> for std::io::Error {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Io(e) => e,
            other => std::io::Error::other(other.to_string()),
        }
    }
}

/// `bytes` as a message says it: "64 KiB", "2 MiB", "100 bytes".
pub fn size(bytes: u64) -> String {
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// The file at `path`, at most `limit` bytes of it.
pub fn read(path: &Path, limit: Limit) -> Result<Vec<u8>, ReadError> {
    let file = open(path)?;
    let meta = file.metadata()?;
    if meta.is_file() {
        if meta.len() > limit.bytes {
            return Err(ReadError::TooLarge(limit));
        }
        // It may grow meanwhile: the limit holds for what is read, too.
        return read_from(file, limit);
    }
    read_slowly(file, limit)
}

/// The file at `path` as text, at most `limit` bytes of it.
pub fn read_string(path: &Path, limit: Limit) -> Result<String, ReadError> {
    text(read(path, limit)?)
}

/// All of `reader` (standard input), at most `limit` bytes of it. Blocks until it ends.
pub fn read_from(reader: impl Read, limit: Limit) -> Result<Vec<u8>, ReadError> {
    let mut out = Vec::new();
    reader
        .take(limit.bytes.saturating_add(1))
        .read_to_end(&mut out)?;
    if out.len() as u64 > limit.bytes {
        return Err(ReadError::TooLarge(limit));
    }
    Ok(out)
}

/// All of `reader` as text, at most `limit` bytes of it.
pub fn read_string_from(reader: impl Read, limit: Limit) -> Result<String, ReadError> {
    text(read_from(reader, limit)?)
}

fn text(bytes: Vec<u8>) -> Result<String, ReadError> {
    String::from_utf8(bytes).map_err(|e| ReadError::NotText(e.utf8_error().valid_up_to()))
}

/// Open for reading without blocking: open(2) of a FIFO with no writer waits for one, unless
/// `O_NONBLOCK`.
#[cfg(unix)]
fn open(path: &Path) -> std::io::Result<std::fs::File> {
    use rustix::fs::{Mode, OFlags};
    let fd = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY,
        Mode::empty(),
    )?;
    Ok(std::fs::File::from(fd))
}

#[cfg(not(unix))]
fn open(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

/// A FIFO or device, opened non-blocking: read what comes, waiting for more (poll(2)) until
/// [`SLOW_FILE`] has passed since the start.
#[cfg(unix)]
fn read_slowly(mut file: std::fs::File, limit: Limit) -> Result<Vec<u8>, ReadError> {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    use std::time::Instant;
    let until = Instant::now() + SLOW_FILE;
    let mut out = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        match file.read(&mut chunk) {
            Ok(0) => return Ok(out),
            Ok(n) => {
                out.extend_from_slice(&chunk[..n]);
                if out.len() as u64 > limit.bytes {
                    return Err(ReadError::TooLarge(limit));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                let left = until.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(ReadError::Slow);
                }
                let timeout = Timespec {
                    tv_sec: i64::try_from(left.as_secs()).unwrap_or(i64::MAX),
                    tv_nsec: i64::from(left.subsec_nanos()),
                };
                let mut fds = [PollFd::new(&file, PollFlags::IN)];
                match poll(&mut fds, Some(&timeout)) {
                    Ok(_) | Err(rustix::io::Errno::INTR) => {}
                    Err(e) => return Err(ReadError::Io(e.into())),
                }
            }
            Err(e) => return Err(ReadError::Io(e)),
        }
    }
}

#[cfg(not(unix))]
fn read_slowly(file: std::fs::File, limit: Limit) -> Result<Vec<u8>, ReadError> {
    read_from(file, limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: Limit = Limit {
        bytes: 10,
        of: "a test",
    };

    fn temp(name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("dli-wait-bounded-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    #[test]
    fn files_up_to_the_limit_are_read_and_larger_ones_refused() {
        assert_eq!(
            read(&temp("ten", b"0123456789"), SMALL).unwrap(),
            b"0123456789"
        );
        assert_eq!(read(&temp("empty", b""), SMALL).unwrap(), b"");
        let e = read(&temp("eleven", b"0123456789a"), SMALL).unwrap_err();
        assert!(matches!(e, ReadError::TooLarge(_)), "{e}");
        assert_eq!(
            e.to_string(),
            "it is larger than 10 bytes, the most dli-wait reads as a test: check that it is the right file, or make it smaller"
        );
        assert!(matches!(
            read_string(&temp("latin1", b"caf\xe9"), SMALL),
            Err(ReadError::NotText(3))
        ));
        assert!(matches!(
            read_from(&b"0123456789a"[..], SMALL),
            Err(ReadError::TooLarge(_))
        ));
        assert_eq!(
            read_string_from(&b"SELECT 1"[..], SMALL).unwrap(),
            "SELECT 1"
        );
        assert!(matches!(
            read(Path::new("/nonexistent/dli-wait"), SMALL),
            Err(ReadError::Io(_))
        ));
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size(SQL.bytes), "2 MiB");
        assert_eq!(size(CREDENTIALS_FILE.bytes), "64 KiB");
        assert_eq!(size(1000), "1000 bytes");
    }

    /// For any size around the limit: read whole up to it, refused past it, and never more
    /// than the limit and one byte taken from the reader.
    #[test]
    fn any_size_is_read_whole_or_refused_at_the_limit() {
        for limit in [0u64, 1, 7, 4096] {
            let l = Limit {
                bytes: limit,
                of: "a test",
            };
            for len in [0, limit.saturating_sub(1), limit, limit + 1, limit * 3 + 5] {
                let data = vec![b'x'; usize::try_from(len).unwrap()];
                let mut reader = &data[..];
                let r = read_from(&mut reader, l);
                let taken = len - reader.len() as u64;
                assert!(taken <= limit + 1, "{limit}/{len}: took {taken}");
                match r {
                    Ok(v) => assert!(len <= limit && v.len() as u64 == len, "{limit}/{len}"),
                    Err(ReadError::TooLarge(_)) => assert!(len > limit, "{limit}/{len}"),
                    Err(e) => panic!("{limit}/{len}: {e}"),
                }
            }
        }
    }

    #[cfg(unix)]
    #[test]
    fn devices_end_at_the_limit_and_fifos_without_a_writer_read_empty_at_once() {
        let started = std::time::Instant::now();
        assert!(matches!(
            read(Path::new("/dev/zero"), SMALL),
            Err(ReadError::TooLarge(_))
        ));
        let fifo = std::env::temp_dir().join(format!("dli-wait-fifo-{}", std::process::id()));
        let _ = std::fs::remove_file(&fifo);
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            assert_eq!(read(&fifo, SMALL).unwrap(), b"");
            let _ = std::fs::remove_file(&fifo);
        }
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
