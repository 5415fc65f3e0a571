//! Completions and manual pages as a user gets them: the scripts `dli-wait completions <SHELL>`
//! prints, loaded into real bash, zsh and fish (bash and fish asked to complete a subcommand's
//! flag); every page `dli-wait man [<COMMAND>]` prints, and every flag on its page.
//!
//! A shell that is not installed is skipped with a note on stderr, unless
//! DLI_WAIT_REQUIRE_SHELLS=1 (CI, .ci/run), where it fails the test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use clap::CommandFactory;
use dli_wait::cli::Cli;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_dli-wait");

/// The shell's path, or `None` (with a note) when it is missing and not required.
fn shell(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var("DLI_WAIT_REQUIRE_SHELLS").as_deref() != Ok("1"),
            "{name} is not installed, and DLI_WAIT_REQUIRE_SHELLS=1 requires it"
        );
        eprintln!("note: {name} is not installed: its completion test is skipped");
    }
    found
}

fn dli_wait(args: &[&str]) -> Output {
    let out = Command::new(BIN).args(args).env_clear().output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "dli-wait {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The completion script for `shell`, in a file of the test's own.
fn script(shell: &str, dir: &Path) -> PathBuf {
    let path = dir.join(format!("dli-wait.{shell}"));
    std::fs::write(&path, dli_wait(&["completions", shell]).stdout).unwrap();
    path
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("completions-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The commands a user types after `dli-wait` (not `help`), each with its long flags.
fn commands() -> Vec<(String, Vec<String>)> {
    let cmd = Cli::command();
    cmd.get_subcommands()
        .map(|sub| {
            let flags = sub
                .get_arguments()
                .filter(|a| !a.is_hide_set())
                .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
                .collect();
            (sub.get_name().to_string(), flags)
        })
        .collect()
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// bash: `complete -p dli-wait` names the script's function, and that function completes
/// `dli-wait run --no<TAB>` to `--no-wait`, and every command's flags after the command.
#[test]
fn bash_completes_the_flags_of_every_command() {
    let Some(bash) = shell("bash") else { return };
    let dir = scratch("bash");
    let file = script("bash", &dir);
    // What bash does on TAB: COMP_WORDS/COMP_CWORD set, the function called with the command,
    // the word being completed and the one before it; the candidates are COMPREPLY.
    let complete = |line: &str| -> Vec<String> {
        let out = Command::new(&bash)
            .args(["--norc", "--noprofile", "-c"])
            .arg(
                r#"source "$1" || exit 9
                   spec=$(complete -p dli-wait) || exit 8
                   fn=$(sed -n 's/.*-F \([^ ]*\) .*/\1/p' <<<"$spec")
                   read -r -a COMP_WORDS <<<"$2"
                   if [[ "$2" == *" " ]]; then COMP_WORDS+=(""); fi
                   COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
                   prev=""; if (( COMP_CWORD > 0 )); then prev=${COMP_WORDS[COMP_CWORD-1]}; fi
                   "$fn" dli-wait "${COMP_WORDS[COMP_CWORD]}" "$prev"
                   printf '%s\n' "${COMPREPLY[@]}""#,
            )
            .args(["bash", file.to_str().unwrap(), line])
            .env_clear()
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{line:?}: {}", text(&out));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    };
    // The user's story, as typed.
    assert_eq!(complete("dli-wait run --no"), ["--no-wait"]);
    let first = complete("dli-wait ");
    for (name, flags) in commands() {
        assert!(
            first.contains(&name),
            "dli-wait <TAB> lacks {name}: {first:?}"
        );
        if flags.is_empty() {
            continue;
        }
        let offered = complete(&format!("dli-wait {name} --"));
        for flag in &flags {
            assert!(
                offered.contains(flag),
                "dli-wait {name} --<TAB> lacks {flag}: {offered:?}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// zsh: the script loads with compinit, without a word on stderr, and registers itself for
/// `dli-wait`.
#[test]
fn zsh_loads_the_completions() {
    let Some(zsh) = shell("zsh") else { return };
    let dir = scratch("zsh");
    let file = script("zsh", &dir);
    let out = Command::new(zsh)
        .args(["-f", "-c"])
        .arg(
            r#"autoload -Uz compinit && compinit -u -D -d "$2/zcompdump" || exit 9
               source "$1" || exit 8
               (( $+functions[_dli-wait] )) || exit 7
               print -r -- "${_comps[dli-wait]}""#,
        )
        .args(["zsh", file.to_str().unwrap(), dir.to_str().unwrap()])
        .env_clear()
        .env("HOME", &dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "_dli-wait");
    assert!(out.stderr.is_empty(), "{}", text(&out));
    let _ = std::fs::remove_dir_all(&dir);
}

/// fish: the script loads without a word on stderr, and fish's own completer offers
/// `--no-wait` for `dli-wait run --no`.
#[test]
fn fish_loads_the_completions_and_completes_a_subcommand_flag() {
    let Some(fish) = shell("fish") else { return };
    let dir = scratch("fish");
    let file = script("fish", &dir);
    let out = Command::new(fish)
        .args(["--no-config", "-c"])
        .arg(r#"source $argv[1]; or exit 9; complete -C "dli-wait run --no""#)
        .arg(&file)
        .env_clear()
        .env("HOME", &dir)
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("XDG_DATA_HOME", dir.join("data"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(out.stderr.is_empty(), "{}", text(&out));
    let offered: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('\t').next().unwrap_or_default().to_string())
        .collect();
    assert_eq!(offered, ["--no-wait"], "{}", text(&out));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A long flag as roff writes it (`\-\-sql\-file`).
fn roff(flag: &str) -> String {
    flag.replace('-', "\\-")
}

/// `dli-wait man` points to a page per command (`dli-wait-run(1)`); `dli-wait man <COMMAND>`
/// prints each of them, titled so, and every page names every flag of its command.
#[test]
fn man_prints_a_page_per_command_with_every_flag() {
    let top = String::from_utf8(dli_wait(&["man"]).stdout).unwrap();
    assert!(top.contains(".TH dli-wait 1"), "{top}");
    let top_flags: Vec<String> = Cli::command()
        .get_arguments()
        .filter(|a| !a.is_hide_set())
        .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
        .collect();
    for flag in &top_flags {
        assert!(top.contains(&roff(flag)), "dli-wait(1) lacks {flag}");
    }
    for (name, flags) in commands() {
        assert!(
            top.contains(&format!("dli\\-wait\\-{name}(1)")),
            "dli-wait(1) does not point to dli-wait-{name}(1)"
        );
        let page = String::from_utf8(dli_wait(&["man", &name]).stdout).unwrap();
        assert!(
            page.contains(&format!(".TH dli-wait-{name} 1")),
            "dli-wait man {name}:\n{page}"
        );
        assert!(
            page.contains(&format!("dli\\-wait {name}")),
            "dli-wait man {name}: the synopsis is not `dli-wait {name}`:\n{page}"
        );
        for flag in &flags {
            assert!(
                page.contains(&roff(flag)),
                "dli-wait man {name} lacks {flag}"
            );
        }
    }
    // The flags the issue found missing from the only page there was.
    let run = String::from_utf8(dli_wait(&["man", "run"]).stdout).unwrap();
    for flag in ["--sql-file", "--no-wait"] {
        assert!(run.contains(&roff(flag)), "dli-wait man run lacks {flag}");
    }
}

/// A page that does not exist is a usage error that lists the ones that do.
#[test]
fn man_of_an_unknown_command_names_the_commands_it_has() {
    let out = Command::new(BIN)
        .args(["man", "runn"])
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no manual page for \"runn\"") && stderr.contains("run, "),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "{}", text(&out));
}
