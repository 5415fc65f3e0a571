//! Diagnostics (`-v`, `-vv`, `RUST_LOG`) on stderr, for our own crate only: dependencies'
//! logs could print request headers, and with them a token.

use crate::cli::OutputArgs;
use std::io::IsTerminal;

/// Set up tracing for these output flags (once per process; later calls do nothing).
pub fn init(output: &OutputArgs) {
    use tracing_subscriber::EnvFilter;
    let level = match (output.quiet, output.verbose) {
        (true, _) => "error",
        (_, 0) => "warn",
        (_, 1) => "warn,dli_wait=debug",
        _ => "warn,dli_wait=trace",
    };
    let filter = if output.verbose == 0 {
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level))
    } else {
        EnvFilter::new(level)
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}
