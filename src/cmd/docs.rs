//! `dli-wait completions <SHELL>` and `dli-wait man [<COMMAND>]`: the command line, described
//! for shells and for `man`, generated from the same clap definitions that parse it.

use super::failure::{CommandResult, Failure};
use crate::wait::outcome::ExitStatus;
use std::io::Write;

/// The name shells complete and `man` pages are titled with.
const BIN: &str = "dli-wait";

/// Print completions for `shell` on stdout.
pub fn completions(shell: clap_complete::Shell) -> CommandResult {
    print(&completion_script(shell))
}

/// The completion script for `shell`. clap_complete's bash script names the state of a
/// hyphenated binary two ways: `cmd="dli__wait__subcmd__run"` where it reads the words, but
/// `dli__subcmd__wait__subcmd__run)` in the case arms that complete them, so nothing after a
/// subcommand completes. The arms are renamed to the name the words set (a no-op once
/// clap_complete agrees with itself); tests/it/completions.rs checks both in a real bash.
fn completion_script(shell: clap_complete::Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut crate::cli::args::command(), BIN, &mut out);
    if shell != clap_complete::Shell::Bash {
        return out;
    }
    let script = String::from_utf8_lossy(&out);
    let set = BIN.replace('-', "__");
    let armed = BIN.replace('-', "__subcmd__");
    script.replace(&armed, &set).into_bytes()
}

/// Print the manual page (roff) on stdout: dli-wait(1), or with `command` that command's page
/// (dli-wait-run(1), ...), which dli-wait(1)'s SEE ALSO names.
pub fn man(command: Option<&str>) -> CommandResult {
    let mut cmd = crate::cli::args::command().disable_help_subcommand(true);
    // Built: the subcommands get their pages' names (`dli-wait-run`) and usage (`dli-wait run`).
    cmd.build();
    let page = match command {
        None => cmd,
        Some(name) => match cmd.find_subcommand(name) {
            Some(sub) => sub.clone(),
            None => {
                let names: Vec<&str> = cmd.get_subcommands().map(|c| c.get_name()).collect();
                return Err(Failure::usage(format!(
                    "no manual page for {name:?}: name one of {} (or none, for {BIN}(1)), e.g. `{BIN} man run`",
                    names.join(", ")
                )));
            }
        },
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(page)
        .source(format!("{BIN} {}", env!("CARGO_PKG_VERSION")))
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
