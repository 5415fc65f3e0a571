//! The architecture, checked: which folder of `src/` may import which (docs/architecture.md),
//! and no import circle between files. Reads the sources; a new upward import or circle
//! fails here with the files named.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// What each top-level module may import besides itself (docs/architecture.md).
const ALLOWED: &[(&str, &[&str])] = &[
    ("dli", &[]),
    ("wait", &["dli"]),
    ("sim", &["dli"]),
    ("cli", &["dli", "wait"]),
    ("report", &["cli", "dli", "wait"]),
    ("cmd", &["cli", "dli", "wait", "report", "sim"]),
];

/// Module path (`wait::driver`) → file text, for every file under `src/` but the crate roots.
fn modules() -> BTreeMap<String, String> {
    fn walk(dir: &Path, prefix: &[String], out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                let mut p = prefix.to_vec();
                p.push(name);
                walk(&path, &p, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let mut p = prefix.to_vec();
                if name != "mod" {
                    p.push(name);
                }
                if p.is_empty() || p == ["main"] || p == ["lib"] {
                    continue;
                }
                out.insert(p.join("::"), std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &[],
        &mut out,
    );
    out
}

/// The code of a file without its `#[cfg(test)]` module and comments.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The modules a file imports: `crate::a::b` and `super::x` paths, and its own children
/// named as `child::`, each resolved to the deepest module that is a file.
fn imports(module: &str, text: &str, all: &BTreeMap<String, String>) -> BTreeSet<String> {
    let here: Vec<&str> = module.split("::").collect();
    let is_dir = all.keys().any(|k| k.starts_with(&format!("{module}::")));
    let text = code(text);
    let mut found = BTreeSet::new();
    let resolve = |segments: Vec<String>, found: &mut BTreeSet<String>| {
        let mut best = None;
        for n in 1..=segments.len() {
            let candidate = segments[..n].join("::");
            if all.contains_key(&candidate) {
                best = Some(candidate);
            }
        }
        if let Some(b) = best.filter(|b| b != module) {
            found.insert(b);
        }
    };
    let bytes = text.as_bytes();
    let word_start = |i: usize| {
        i == 0
            || !(bytes[i - 1].is_ascii_alphanumeric()
                || bytes[i - 1] == b'_'
                || bytes[i - 1] == b':')
    };
    let path_at = |i: usize| -> Vec<String> {
        text[i..]
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .next()
            .unwrap_or("")
            .split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    for (i, _) in text.match_indices("crate::") {
        if word_start(i) {
            resolve(path_at(i + "crate::".len()), &mut found);
        }
    }
    // `super::` from a mod.rs is the parent folder's module; from a file, its folder's.
    let parent: Vec<String> = if is_dir {
        here[..here.len().saturating_sub(1)]
            .iter()
            .map(|s| s.to_string())
            .collect()
    } else {
        here[..here.len() - 1]
            .iter()
            .map(|s| s.to_string())
            .collect()
    };
    for (i, _) in text.match_indices("super::") {
        if word_start(i) {
            let mut p = parent.clone();
            p.extend(path_at(i + "super::".len()));
            resolve(p, &mut found);
        }
    }
    if is_dir {
        let children: Vec<String> = all
            .keys()
            .filter_map(|k| k.strip_prefix(&format!("{module}::")))
            .filter(|rest| !rest.contains("::"))
            .map(str::to_string)
            .collect();
        for child in children {
            for (i, _) in text.match_indices(&format!("{child}::")) {
                if word_start(i) {
                    let mut p: Vec<String> = here.iter().map(|s| s.to_string()).collect();
                    p.extend(path_at(i));
                    resolve(p, &mut found);
                }
            }
        }
    }
    found
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let all = modules();
    all.iter()
        .map(|(m, text)| (m.clone(), imports(m, text, &all)))
        .collect()
}

fn top(module: &str) -> &str {
    module.split("::").next().unwrap()
}

#[test]
fn each_layer_imports_only_what_it_may() {
    let mut wrong = Vec::new();
    for (from, tos) in graph() {
        let Some((_, allowed)) = ALLOWED.iter().find(|(l, _)| *l == top(&from)) else {
            wrong.push(format!(
                "{from} is in no layer of ALLOWED: add it there and to docs/architecture.md"
            ));
            continue;
        };
        for to in tos {
            if top(&to) != top(&from) && !allowed.contains(&top(&to)) {
                wrong.push(format!("{from} imports {to}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_import_circle_between_files() {
    let g = graph();
    // Depth-first search for a back edge; report the circle it closes.
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = stack.iter().position(|s| s == n) {
            let mut c = stack[i..].to_vec();
            c.push(n.to_string());
            return Some(c);
        }
        if done.contains(n) {
            return None;
        }
        stack.push(n.to_string());
        for m in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, g, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for n in g.keys() {
        if let Some(circle) = visit(n, &g, &mut Vec::new(), &mut done) {
            panic!("import circle: {}", circle.join(" → "));
        }
    }
    // The check sees imports at all (a parser that found none would pass anything).
    assert!(
        g["wait::driver"].contains("wait::api"),
        "{:?}",
        g["wait::driver"]
    );
    assert!(g["cmd"].contains("cmd::wait"), "{:?}", g["cmd"]);
}
