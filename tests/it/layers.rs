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
    ("config", &["cli", "dli", "wait"]),
    ("kind", &["cli", "config", "dli", "wait", "sim"]),
    ("report", &["cli", "dli", "wait"]),
    (
        "cmd",
        &["cli", "config", "dli", "wait", "report", "sim", "kind"],
    ),
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
    // The unit tests (`#[cfg(test)]` or `#[cfg(all(test, unix))]` before `mod tests`) are not
    // the module's code.
    let text = match text.find("\nmod tests {") {
        Some(i) if text[..i].trim_end().ends_with(")]") => {
            let attr = text[..i].rfind("#[cfg(").unwrap_or(i);
            &text[..attr]
        }
        _ => text,
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

/// `text` with comments, string and char literals blanked (their line breaks kept), so that
/// what is left is code.
fn blank_literals(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |out: &mut String, ch: char| out.push(if ch == '\n' { '\n' } else { ' ' });
    let mut i = 0;
    while i < c.len() {
        let peek = |i: usize, k: usize| c.get(i + k).copied();
        if c[i] == '/' && peek(i, 1) == Some('/') {
            while i < c.len() && c[i] != '\n' {
                blank(&mut out, c[i]);
                i += 1;
            }
        } else if c[i] == '/' && peek(i, 1) == Some('*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && peek(i, 1) == Some('*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if c[i] == '*' && peek(i, 1) == Some('/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, c[i]);
                    i += 1;
                }
            }
        } else if c[i] == 'r'
            && (peek(i, 1) == Some('"') || peek(i, 1) == Some('#'))
            && (i == 0 || !(c[i - 1].is_alphanumeric() || c[i - 1] == '_'))
        {
            // A raw string: r"…", r#"…"#, …
            let mut j = i + 1;
            while c.get(j) == Some(&'#') {
                j += 1;
            }
            if c.get(j) != Some(&'"') {
                out.push(c[i]);
                i += 1;
                continue;
            }
            let hashes = j - i - 1;
            let close: String = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            let body: String = c[j + 1..].iter().collect();
            let end = body.find(&close).map_or(c.len(), |k| {
                j + 1 + body[..k].chars().count() + close.chars().count()
            });
            while i < end {
                blank(&mut out, c[i]);
                i += 1;
            }
        } else if c[i] == '"' {
            blank(&mut out, c[i]);
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    blank(&mut out, c[i]);
                    i += 1;
                }
                if i < c.len() {
                    blank(&mut out, c[i]);
                    i += 1;
                }
            }
            if i < c.len() {
                blank(&mut out, c[i]);
                i += 1;
            }
        } else if c[i] == '\'' && peek(i, 1) == Some('\\') {
            // An escaped char literal: '\n', '\'', '\u{1b}'.
            let end = (i + 2..c.len())
                .find(|&k| c[k] == '\'' && k > i + 2)
                .map_or(c.len(), |k| k + 1);
            while i < end {
                blank(&mut out, c[i]);
                i += 1;
            }
        } else if c[i] == '\'' && peek(i, 2) == Some('\'') {
            // A plain char literal: '{', '"'.
            out.push_str("   ");
            i += 3;
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// `code` (literals blanked) without its `#[cfg(test)]` modules and items.
fn without_tests(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        // The item ends at the `;` or the brace that closes its first `{`, whichever first.
        let mut depth = 0usize;
        let mut end = after.len();
        for (k, ch) in after.char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = k + 1;
                        break;
                    }
                }
                ';' if depth == 0 => {
                    end = k + 1;
                    break;
                }
                _ => {}
            }
        }
        out.extend(after[..end].chars().filter(|&c| c == '\n'));
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// The lines of `text` (1-based) that declare a `static` outside test code: `static X`,
/// `static mut X`, `thread_local! { static … }`, `lazy_static! { static ref … }`.
/// `'static` (a lifetime) is not one.
fn static_items(text: &str) -> Vec<(usize, String)> {
    let code = without_tests(&blank_literals(text));
    let mut found = Vec::new();
    for (n, line) in code.lines().enumerate() {
        let b = line.as_bytes();
        let mut from = 0;
        while let Some(k) = line[from..].find("static") {
            let at = from + k;
            let before = at.checked_sub(1).map(|p| b[p]);
            let after = b.get(at + "static".len()).copied();
            let word_start = !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_');
            let lifetime = before == Some(b'\'');
            let word_end = !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_');
            if word_start && word_end && !lifetime {
                found.push((n + 1, text.lines().nth(n).unwrap_or("").trim().to_string()));
                break;
            }
            from = at + "static".len();
        }
    }
    found
}

/// Issue 11: no `static` holds run state; a value made once per run (`cmd::Context`, the
/// run's `report::safe::Secrets`) is passed where it is needed. A constant is a `const`.
/// Statics in `#[cfg(test)]` code are allowed.
#[test]
fn no_static_holds_state() {
    fn walk(dir: &Path, out: &mut Vec<(String, usize, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for (line, said) in static_items(&text) {
                    out.push((path.display().to_string(), line, said));
                }
            }
        }
    }
    let mut found = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut found,
    );
    assert!(
        found.is_empty(),
        "a `static` in src/ (run state belongs in a value made per run, a constant in a \
         `const`):\n{}",
        found
            .iter()
            .map(|(f, l, s)| format!("  {f}:{l}: {s}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    // The scanner sees statics at all (one that found none would pass anything), and only them.
    let sample = r####"
use std::sync::RwLock;
static KNOWN: RwLock<Option<u32>> = RwLock::new(None);
pub(crate) static mut COUNT: u32 = 0;
fn f() -> &'static str { static INNER: u8 = 1; "static X: u8 = 2; '{'" }
thread_local! { static HERE: u8 = 0; }
const NAME: &'static str = "a static in a string";
// static in a comment
const BRACE: char = '{';
const RAW: &str = r#"static "# ;
fn g<T: 'static>(_: T) {}
#[cfg(test)]
mod tests {
    static TESTS_MAY: u8 = 0;
}
#[cfg(test)]
static ALSO_TESTS: u8 = 0;
pub static AFTER: u8 = 0;
"####;
    let lines: Vec<usize> = static_items(sample).into_iter().map(|(l, _)| l).collect();
    assert_eq!(lines, vec![3, 4, 5, 6, 18], "{:?}", static_items(sample));
}

/// Every file dli-wait reads goes through `dli::bounded` (its size limit, no blocking on a
/// FIFO): no other code of `src/` reads a whole file with `std::fs`.
#[test]
fn files_are_read_only_through_the_bounded_reader() {
    let mut wrong = Vec::new();
    for (module, text) in modules() {
        if module == "dli::bounded" {
            continue;
        }
        for (i, line) in code(&text).lines().enumerate() {
            if ["fs::read(", "fs::read_to_string("]
                .iter()
                .any(|p| line.contains(p))
            {
                wrong.push(format!("{module}:{}: {}", i + 1, line.trim()));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "read files through dli::bounded::read / read_string (with a Limit):\n{}",
        wrong.join("\n")
    );
}

/// Issue 25: a duration shown to a user is written as people write it ("2s", not
/// "1s 996ms 339us 464ns"): through `dli::human::duration` only.
#[test]
fn durations_are_shown_only_through_the_one_formatter() {
    let mut wrong = Vec::new();
    for (module, text) in modules() {
        for (i, line) in code(&text).lines().enumerate() {
            if line.contains("format_duration") {
                wrong.push(format!("{module}:{}: {}", i + 1, line.trim()));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "show durations with dli::human::duration:\n{}",
        wrong.join("\n")
    );
}

/// Issue 20: one reader of the environment. The run takes one snapshot of it
/// (`config::Env::from_process`, called once by `cmd::run`), and everything reads that:
/// resolution, GitHub mode and files, `RUST_LOG`. No other code of `src/`, tests and
/// comments included, names a way to read a variable.
#[test]
fn the_environment_is_read_only_by_the_one_snapshot() {
    let readers = [
        "env::var",
        "var_os(",
        "from_default_env",
        "EnvFilter::from_env",
    ];
    let mut found = Vec::new();
    for (module, text) in modules() {
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if readers.iter().any(|r| line.contains(r)) {
                // The function the line is in: the nearest `fn` above it.
                let within = lines[..=i]
                    .iter()
                    .rev()
                    .find(|l| {
                        l.trim_start().starts_with("pub fn ") || l.trim_start().starts_with("fn ")
                    })
                    .map_or(String::new(), |l| l.trim().to_string());
                found.push((module.clone(), i + 1, line.trim().to_string(), within));
            }
        }
    }
    let wrong: Vec<String> = found
        .iter()
        .filter(|(m, _, _, within)| !(m == "config" && within.starts_with("pub fn from_process()")))
        .map(|(m, l, said, _)| format!("  {m}:{l}: {said}"))
        .collect();
    assert!(
        wrong.is_empty(),
        "read the environment from the run's config::Env (cmd::Context::env), not the \
         process:\n{}",
        wrong.join("\n")
    );
    // The scan sees the one reader (one that found nothing would pass anything).
    assert_eq!(found.len(), 1, "{found:?}");
}

/// Issue 20: a job kind is one value behind one trait (`kind::Kind`). The machine, the driver,
/// the reporters and the commands ask a snapshot what it has (`has_task_counts`, …), never
/// which kind it is: no test for Spark outside the Spark kind's own file (`kind::spark`), the
/// code that picks a kind (`kind`, its `mod.rs`) and the simulator (a DLI of our own, which
/// serves every kind).
#[test]
fn only_the_spark_kind_knows_it_is_spark() {
    const TESTS: &[&str] = &[
        "is_spark",
        "JobType::Spark",
        "JobKind::Spark",
        "Source::Batch",
        "Source::BATCH",
        "spark_file.is_some",
        "spark_file.is_none",
        "kind::spark::",
        "SparkApi",
    ];
    let mut wrong = Vec::new();
    for (module, text) in modules() {
        if module == "kind::pick" || module == "kind::spark" || top(&module) == "sim" {
            continue;
        }
        for (i, line) in code(&text).lines().enumerate() {
            if let Some(t) = TESTS.iter().find(|t| line.contains(*t)) {
                wrong.push(format!("{module}:{}: {t}: {}", i + 1, line.trim()));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "ask the snapshot what it has (or the kind, through kind::Kind), not whether it is Spark:\n{}",
        wrong.join("\n")
    );
    // The check sees the tests where they belong (a matcher that found none would pass all).
    let all = modules();
    assert!(code(&all["kind::pick"]).contains("JobType::Spark"));
    assert!(code(&all["kind::spark"]).contains("Source::BATCH"));
}

/// Issue 23: Flink jobs are a kind like the others: nothing tests for Flink outside its own
/// file (`kind::flink`), the code that picks a kind (`kind::pick`), the DLI layer's Flink
/// models and calls (`dli::flink`, and `dli::model`, whose `JobStatus` holds Flink's states
/// and asks the table) and the simulator: no `if flink` in the machine or the reporters.
#[test]
fn only_the_flink_kind_knows_it_is_flink() {
    const TESTS: &[&str] = &[
        "is_flink",
        "JobType::Flink",
        "JobKind::Flink",
        "Source::FLINK",
        "kind::flink::",
        "JobStatus::Flink",
        "FlinkState",
        "from_flink",
    ];
    let mut wrong = Vec::new();
    for (module, text) in modules() {
        let allowed = ["kind::pick", "kind::flink", "dli::flink", "dli::model"];
        if allowed.contains(&module.as_str()) || top(&module) == "sim" {
            continue;
        }
        // Unit tests of the machine build such states to check it asks only the phase.
        let text = code(&text);
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        for (i, line) in text.lines().enumerate() {
            if let Some(t) = TESTS.iter().find(|t| line.contains(*t)) {
                wrong.push(format!("{module}:{}: {t}: {}", i + 1, line.trim()));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "ask the snapshot or its status's phase, not whether it is a Flink job:\n{}",
        wrong.join("\n")
    );
    let all = modules();
    assert!(code(&all["kind::pick"]).contains("JobType::Flink"));
    assert!(code(&all["kind::flink"]).contains("Source::FLINK"));
}

/// Issue 20: the exit-code contract is one table (`wait::outcome::ExitStatus`); elsewhere an
/// exit status is named (`ExitStatus::Refused.code()`), never written as a number. Flags, in
/// code (tests, comments and strings aside), an integer literal that follows a name of an
/// exit status or code (`exit_code == 1`, `Exit::Code(0)`, `EXIT_X: i32 = 5`, `code: 0`)
/// before the next `,`, `;` or brace, and a command's result written as a number (`Ok(0)`
/// in `cmd/`).
#[test]
fn exit_codes_as_numbers_appear_only_in_the_outcome_table() {
    fn numbered_exits(module: &str, code: &str) -> Vec<usize> {
        let mut found = Vec::new();
        for (n, line) in code.lines().enumerate() {
            let b = line.as_bytes();
            let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
            let literal_in = |from: usize| {
                let end = line[from..]
                    .find([',', ';', '{', '}'])
                    .map_or(line.len(), |k| from + k);
                (from..end).any(|k| b[k].is_ascii_digit() && (k == 0 || !word(b[k - 1])))
            };
            let mut i = 0;
            let mut hit = false;
            while i < b.len() {
                if word(b[i]) && (i == 0 || !word(b[i - 1])) {
                    let end = (i..b.len()).find(|&k| !word(b[k])).unwrap_or(b.len());
                    let name = line[i..end].to_ascii_lowercase();
                    let names_exit = name.contains("exit")
                        || name == "code"
                        || (name.ends_with("_code") && name != "status_code");
                    hit |= names_exit && literal_in(end);
                    i = end;
                } else {
                    i += 1;
                }
            }
            let ok_number = line.find("Ok(").is_some_and(|k| {
                b.get(k + 3).is_some_and(u8::is_ascii_digit) && (k == 0 || !word(b[k - 1]))
            });
            hit |= module.starts_with("cmd") && ok_number;
            if hit {
                found.push(n + 1);
            }
        }
        found
    }
    let mut wrong = Vec::new();
    for (module, text) in modules() {
        if module == "wait::outcome" {
            continue;
        }
        let code = without_tests(&blank_literals(&text));
        for n in numbered_exits(&module, &code) {
            let line = code.lines().nth(n - 1).unwrap_or("").trim();
            wrong.push(format!("{module}:{n}: {line}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "name exit statuses through wait::outcome::ExitStatus, not as numbers:\n{}",
        wrong.join("\n")
    );
    // The scanner sees numbered exits at all, and only them.
    let sample = "\
pub const EXIT_USAGE: i32 = 2;
fn f() -> i32 { if code == 0 { return Exit::Code(1); } }
    Ok(0)
let status_code = 200; if (200..300).contains(&status_code) {}
write(scrubber, exit_code, 0, 0);
let x = exit_code(&o);
";
    assert_eq!(numbered_exits("cmd::x", sample), vec![1, 2, 3]);
    assert_eq!(numbered_exits("dli::x", sample), vec![1, 2]);
}

/// Issue 20, as `cargo machete` checks it (.ci/run runs that too where it is installed): every
/// dependency of Cargo.toml is named in the code that may use it (`name::` or `use name`,
/// `-` as `_`): a normal one in `src/` or `examples/`, a dev-dependency in `tests/`,
/// `examples/` or `src/` (unit tests). A dev-dependency that repeats a normal one (for its
/// test features) is that one.
#[test]
fn every_dependency_is_used() {
    fn texts(dir: &Path, out: &mut String) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                texts(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push_str(&std::fs::read_to_string(&path).unwrap());
                out.push('\n');
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let (mut normal, mut dev) = (BTreeSet::new(), BTreeSet::new());
    let mut section = String::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line.to_string();
        } else if let Some((name, _)) = line.split_once('=')
            && !line.starts_with('#')
        {
            let name = name.trim().replace('-', "_");
            if section == "[dependencies]" || section.ends_with(".dependencies]") {
                normal.insert(name);
            } else if section == "[dev-dependencies]" {
                dev.insert(name);
            }
        }
    }
    let (mut lib, mut all) = (String::new(), String::new());
    for dir in ["src", "examples"] {
        texts(&root.join(dir), &mut lib);
    }
    all.push_str(&lib);
    texts(&root.join("tests"), &mut all);
    let named = |text: &str, name: &str| {
        text.contains(&format!("{name}::")) || text.contains(&format!("use {name}"))
    };
    let mut unused: Vec<String> = normal
        .iter()
        .filter(|n| !named(&lib, n))
        .map(|n| format!("{n} (dependencies)"))
        .collect();
    unused.extend(
        dev.iter()
            .filter(|n| !normal.contains(*n) && !named(&all, n))
            .map(|n| format!("{n} (dev-dependencies)")),
    );
    assert!(
        !normal.is_empty() && !dev.is_empty(),
        "read no dependencies from Cargo.toml"
    );
    assert!(
        unused.is_empty(),
        "dependencies no code names; remove them from Cargo.toml:\n{}",
        unused.join("\n")
    );
}
