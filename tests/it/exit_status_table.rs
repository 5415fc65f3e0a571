//! README's "Exit status" table and its order sentence say what the one table of exit
//! statuses (`dli_wait::wait::outcome::ExitStatus`) holds: the same codes, in the same order,
//! with the same words.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use dli_wait::wait::outcome::ExitStatus;
use std::path::Path;

fn readme_section() -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme
        .find("\n## Exit status\n")
        .expect("README has ## Exit status");
    let rest = &readme[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    rest[..end].to_string()
}

#[test]
fn readme_lists_exactly_the_tables_codes_and_words() {
    let section = readme_section();
    let mut listed = Vec::new();
    for line in section.lines().filter(|l| l.starts_with("| ")) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        if cells[0] == "code" {
            assert_eq!(cells[1], "status", "{line}");
            continue;
        }
        for code in cells[0].split('/') {
            let code: i32 = code.trim().parse().unwrap_or_else(|_| panic!("{line}"));
            listed.push((code, cells[1].to_string()));
        }
    }
    let table: Vec<(i32, String)> = ExitStatus::ALL
        .iter()
        .map(|s| (s.code(), s.label().to_string()))
        .collect();
    assert_eq!(listed, table, "README's table vs src/wait/outcome.rs");
}

#[test]
fn readme_states_the_tables_order() {
    let section = readme_section()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let order: Vec<String> = ExitStatus::ORDER
        .iter()
        .filter(|s| !matches!(s, ExitStatus::Interrupted(_)))
        .map(|s| s.code().to_string())
        .collect();
    let sentence = format!(
        "a signal's code wins; otherwise the first that applies in the order {}.",
        order.join(", ")
    );
    assert!(section.contains(&sentence), "README should say: {sentence}");
}
