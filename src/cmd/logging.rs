//! Diagnostics (`-v`, `-vv`, `RUST_LOG` from the run's `config::Env`) on stderr, for our own crate only: dependencies'
//! logs could print request headers, and with them a token. Each event is one line through
//! the run's `report::safe::Secrets::line`, like every other line we print: `-vv` logs answer
//! bodies, which are outside text (so no colours either: they would be escape sequences of our
//! own).

use crate::cli::OutputArgs;
use crate::config::Env;
use crate::report::safe::Secrets;
use crate::report::stream::Stream;
use std::io::Write;

/// Set up tracing for these output flags, or without `-v` for `RUST_LOG` in `env` (once per
/// process; later calls do nothing); each
/// line scrubs the run's `secrets` known when it is written, and goes to `stderr`, the run's
/// one stderr writer (so a stderr nobody reads never blocks the wait for a diagnostic).
pub fn init(output: &OutputArgs, env: &Env, secrets: &Secrets, stderr: &Stream) {
    use tracing_subscriber::EnvFilter;
    let level = match (output.quiet, output.verbose) {
        (true, _) => "error",
        (_, 0) => "warn",
        (_, 1) => "warn,dli_wait=debug",
        _ => "warn,dli_wait=trace",
    };
    let filter = if output.verbose == 0 {
        // As tracing's own reading of `RUST_LOG`, on the snapshot: unset, not Unicode or not a
        // filter, and the level stands.
        env.get(EnvFilter::DEFAULT_ENV)
            .and_then(|v| EnvFilter::try_new(v).ok())
            .unwrap_or_else(|| EnvFilter::new(level))
    } else {
        EnvFilter::new(level)
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(SafeLines(secrets.clone(), stderr.clone()))
        .with_ansi(false)
        .with_target(false)
        .try_init();
}

/// The writer of diagnostics: a [`SafeLine`] per event, scrubbing these secrets.
struct SafeLines(Secrets, Stream);

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for SafeLines {
    type Writer = SafeLine;

    fn make_writer(&'a self) -> SafeLine {
        SafeLine(Vec::new(), self.0.clone(), self.1.clone())
    }
}

/// One event's text, collected and then written to stderr as one sanitised line.
struct SafeLine(Vec<u8>, Secrets, Stream);

impl Write for SafeLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for SafeLine {
    fn drop(&mut self) {
        if self.0.is_empty() {
            return;
        }
        let text = String::from_utf8_lossy(&self.0);
        let text = text.strip_suffix('\n').unwrap_or(&text);
        // Scrubbed first, then cut: `-vv` logs answer bodies, which may be megabytes.
        let line = self.1.line(text);
        self.2.line(&crate::report::limits::cut(
            &line,
            crate::report::limits::TEXT_CHARS,
        ));
    }
}
