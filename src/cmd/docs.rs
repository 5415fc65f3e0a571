//! `dli-wait completions <SHELL>` and `dli-wait man`: the command line, described for shells
//! and for `man`, generated from the same clap definitions that parse it.

use super::failure::{CommandResult, Failure};
use crate::cli::Cli;
use crate::wait::outcome::ExitStatus;
use clap::CommandFactory;
use std::io::Write;

/// Print completions for `shell` on stdout.
pub fn completions(shell: clap_complete::Shell) -> CommandResult {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "dli-wait", &mut out);
    print(&out)
}

/// Print the manual page (roff) on stdout.
pub fn man() -> CommandResult {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .map_err(|e| Failure::internal(format!("cannot render the manual page: {e}")))?;
    print(&out)
}

fn print(bytes: &[u8]) -> CommandResult {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(ExitStatus::Finished.code()),
        // A closed pipe (`| head`) is the reader's choice, not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitStatus::Finished.code()),
        Err(e) => Err(Failure::internal(format!("cannot write to stdout: {e}"))),
    }
}
