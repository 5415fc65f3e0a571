//! Outside text made safe for each output. What dli-wait prints but did not write itself (DLI's
//! reasons and details, status values, job ids, fault messages, HTML titles and body snippets,
//! cancel messages, values from the command line) is data: it must never become a workflow
//! command, a terminal escape, HTML or a table row of its own, and no known secret may show.
//!
//! One sanitiser per output, each applied where that output is written:
//!
//! | output | sanitiser |
//! |---|---|
//! | a line on a terminal or in a log (human reporter, `error:` lines, diagnostics) | [`line_with`] |
//! | workflow-command data and properties (`::error title=…::…`) | [`command_data_with`], [`command_property_with`] |
//! | a step output value (`$GITHUB_OUTPUT`) | [`output_value_with`] |
//! | the Markdown step summary | [`md_text_with`], [`md_code_with`] |
//! | a JSON line (stdout, `--summary-file`) | [`json_with`] |
//!
//! Every one of them first replaces each known secret with `***` ([`Scrubber`]). The secrets
//! of a run live in one [`Secrets`] value, created once per run (`cmd::run`) and passed, as a
//! clone, to whatever prints; [`Secrets::line`], [`Secrets::command_property`] and
//! [`Secrets::json`] apply those sanitisers with the secrets known so far, and
//! [`Secrets::scrubber`] takes a snapshot of them for the `*_with` forms. Whoever resolves the credentials registers them
//! ([`Secrets::remember`]) before anything from outside is printed. No `static` holds them.
//!
//! What the GitHub runner would act on (actions/runner, `ActionCommand.TryParseV2` and
//! `TryParse`): a line that starts with `::` after leading whitespace, and `##[` *anywhere* in
//! a line (the older form, `##[add-mask]…`). The sanitisers for lines break both: no output
//! line can start with `::` (a `\` goes first) and no `##` survives (`#\#`).

use serde_json::Value;
use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::sync::{Arc, RwLock};

/// What a secret is replaced with.
pub const MASK: &str = "***";

/// What a line break inside one line of output is shown as.
pub const NEWLINE: char = '⏎';

/// The shortest run of a secret that is masked on its own: a secret cut anywhere (an error
/// page cut to 200 characters, a line cut to its width) still shows no 16 characters of
/// itself.
pub const SECRET_RUN: usize = 16;

/// Replaces each of a set of secret values with [`MASK`], and any run of [`SECRET_RUN`] or
/// more of a secret's bytes (a secret cut at either end, two secrets overlapping) too.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Scrubber {
    /// Non-empty, distinct, longest first.
    secrets: Vec<String>,
    /// Every [`SECRET_RUN`]-byte window of every secret at least that long.
    windows: HashSet<[u8; SECRET_RUN]>,
}

impl std::fmt::Debug for Scrubber {
    /// Never the secrets themselves.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Scrubber({} secrets)", self.secrets.len())
    }
}

impl Scrubber {
    pub fn new<S: AsRef<str>>(secrets: impl IntoIterator<Item = S>) -> Self {
        let mut s = Scrubber::default();
        s.add(secrets);
        s
    }

    fn add<S: AsRef<str>>(&mut self, secrets: impl IntoIterator<Item = S>) {
        for s in secrets {
            let s = s.as_ref();
            if !s.is_empty() && !self.secrets.iter().any(|k| k == s) {
                self.secrets.push(s.to_string());
                for w in s.as_bytes().windows(SECRET_RUN) {
                    if let Ok(w) = w.try_into() {
                        self.windows.insert(w);
                    }
                }
            }
        }
        self.secrets
            .sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// `text` with every secret, and every run of [`SECRET_RUN`] bytes of one, replaced by
    /// `***` (overlapping runs become one mask). This is the first step of every sanitiser,
    /// before any cut.
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.secrets.is_empty() {
            return Cow::Borrowed(text);
        }
        let bytes = text.as_bytes();
        let mut masked: Vec<(usize, usize)> = Vec::new();
        for s in self.secrets.iter().filter(|s| s.len() < SECRET_RUN) {
            masked.extend(
                text.match_indices(s.as_str())
                    .map(|(i, m)| (i, i + m.len())),
            );
        }
        if !self.windows.is_empty() {
            for (i, w) in bytes.windows(SECRET_RUN).enumerate() {
                if w.try_into()
                    .is_ok_and(|w: [u8; SECRET_RUN]| self.windows.contains(&w))
                {
                    masked.push((i, i + SECRET_RUN));
                }
            }
        }
        if masked.is_empty() {
            return Cow::Borrowed(text);
        }
        masked.sort_unstable();
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        let mut i = 0;
        while i < masked.len() {
            let (mut start, mut end) = masked[i];
            i += 1;
            while i < masked.len() && masked[i].0 <= end {
                end = end.max(masked[i].1);
                i += 1;
            }
            // Whole characters only (a secret is text; a run may start inside a character).
            while !text.is_char_boundary(start) {
                start -= 1;
            }
            while !text.is_char_boundary(end) {
                end += 1;
            }
            let start = start.max(at);
            out.push_str(&text[at..start]);
            if end > start {
                out.push_str(MASK);
            }
            at = at.max(end);
        }
        out.push_str(&text[at..]);
        Cow::Owned(out)
    }

    /// Every string in `v` (keys too) scrubbed.
    fn scrub_value(&self, v: &mut Value) {
        match v {
            Value::String(s) => {
                if let Cow::Owned(clean) = self.scrub(s) {
                    *s = clean;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| self.scrub_value(i)),
            Value::Object(map) => {
                let entries = std::mem::take(map);
                for (k, mut item) in entries {
                    self.scrub_value(&mut item);
                    map.insert(self.scrub(&k).into_owned(), item);
                }
            }
            _ => {}
        }
    }
}

/// The secrets known in this run: created once (in `cmd::run`) and handed, as a clone, to
/// everything that prints outside text. Add-only: a secret once known is scrubbed from every
/// output from then on. The sanitisers below are the per-output ones of the table above, each
/// with the secrets known at the moment it is called.
#[derive(Debug, Clone, Default)]
pub struct Secrets(Arc<RwLock<Arc<Scrubber>>>);

impl Secrets {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add secret values (keys, tokens, an endpoint's userinfo) to those scrubbed from every
    /// output from now on.
    pub fn remember<S: AsRef<str>>(&self, secrets: impl IntoIterator<Item = S>) {
        let mut known = self.0.write().unwrap_or_else(|e| e.into_inner());
        let mut next = Scrubber::clone(&known);
        next.add(secrets);
        *known = Arc::new(next);
    }

    /// The secrets known so far.
    pub fn scrubber(&self) -> Arc<Scrubber> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// [`line_with`] the secrets known so far.
    pub fn line(&self, text: &str) -> String {
        line_with(&self.scrubber(), text)
    }

    /// [`command_property_with`] the secrets known so far.
    pub fn command_property(&self, text: &str) -> String {
        command_property_with(&self.scrubber(), text)
    }

    /// Every string of `v` (keys too) scrubbed of the secrets known so far, in place: for a
    /// JSON file written whole (`--record`).
    pub fn scrub_json(&self, v: &mut Value) {
        self.scrubber().scrub_value(v);
    }

    /// [`json_with`] the secrets known so far.
    pub fn json(&self, v: &Value) -> String {
        json_with(&self.scrubber(), v)
    }
}

/// Never printed raw: C0 controls (ESC among them), DEL, C1 controls, the Unicode line and
/// paragraph separators, and the bidi overrides and isolates (text that reads one way and is
/// another).
pub fn is_hazard(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
    )
}

/// The kinds of output, each with its own rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// One line for a terminal or log: line breaks shown as `⏎`.
    Line,
    /// Lines (workflow-command data, a file a later step may print): line breaks kept, CR LF
    /// and CR as LF.
    Lines,
    /// Markdown inline text (also in a table cell): one line, no HTML, links or code spans.
    Markdown,
    /// The inside of a Markdown code span in a table: one line, `|` escaped.
    Code,
}

/// The one pass every sanitiser shares. Tabs become spaces everywhere.
fn clean(text: &str, mode: Mode) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let runner = matches!(mode, Mode::Line | Mode::Lines);
    // Nothing but whitespace since the (output) line began: `::` here would be a command.
    let mut line_start = true;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let mut blank = false;
        match c {
            '\r' | '\n' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                if mode == Mode::Lines {
                    out.push('\n');
                    line_start = true;
                    continue;
                } else {
                    out.push(NEWLINE);
                }
            }
            '\t' => {
                out.push(' ');
                blank = true;
            }
            c if is_hazard(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            ':' if runner && line_start && chars.peek() == Some(&':') => out.push_str("\\:"),
            '#' if runner && out.ends_with('#') => out.push_str("\\#"),
            '\\' if mode == Mode::Markdown => out.push_str("\\\\"),
            '`' | '[' | ']' if mode == Mode::Markdown => {
                out.push('\\');
                out.push(c);
            }
            '|' if matches!(mode, Mode::Markdown | Mode::Code) => out.push_str("\\|"),
            '<' if mode == Mode::Markdown => out.push_str("&lt;"),
            '>' if mode == Mode::Markdown => out.push_str("&gt;"),
            '&' if mode == Mode::Markdown => out.push_str("&amp;"),
            c => {
                out.push(c);
                blank = c.is_whitespace();
            }
        }
        if !blank {
            line_start = false;
        }
    }
    out
}

/// A line for a terminal or a log (the human reporter, `error:` lines, diagnostics): secrets
/// scrubbed, control and bidi characters shown as `\u{1b}`, line breaks as `⏎` so that one
/// event stays one line, and nothing a CI runner would take for a command.
pub fn line_with(scrubber: &Scrubber, text: &str) -> String {
    clean(&scrubber.scrub(text), Mode::Line)
}

/// `%`, CR and LF escaped, as workflow-command data needs (the runner's `UnescapeData`).
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Data escaping plus `:` and `,`, as workflow-command properties need.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Outside text as the data of a workflow command (`::error title=…::DATA`): scrubbed, control
/// characters visible, line breaks kept (escaped, so an annotation may have several lines).
pub fn command_data_with(scrubber: &Scrubber, text: &str) -> String {
    escape_data(&clean(&scrubber.scrub(text), Mode::Lines))
}

/// Outside text as a workflow-command property (`title=…`).
pub fn command_property_with(scrubber: &Scrubber, text: &str) -> String {
    escape_property(&clean(&scrubber.scrub(text), Mode::Line))
}

/// A step output's value (`$GITHUB_OUTPUT`): scrubbed, control characters visible, lines kept,
/// and safe for a later step to print (no line starts with `::`, no `##`).
pub fn output_value_with(scrubber: &Scrubber, text: &str) -> String {
    clean(&scrubber.scrub(text), Mode::Lines)
}

/// Outside text inline in the Markdown step summary, a table cell included: one line, `|`
/// escaped, no HTML (`<` `>` `&` as entities), no links or code spans (`[` `]` `` ` ``).
pub fn md_text_with(scrubber: &Scrubber, text: &str) -> String {
    clean(&scrubber.scrub(text), Mode::Markdown)
}

/// Outside text as a Markdown code span (`` `job-id` ``), safe in a table cell: the fence is
/// longer than any run of backticks inside.
pub fn md_code_with(scrubber: &Scrubber, text: &str) -> String {
    let inner = clean(&scrubber.scrub(text), Mode::Code);
    let mut longest = 0;
    let mut run = 0;
    for c in inner.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    if inner.is_empty() {
        return "` `".into();
    }
    if longest == 0 {
        return format!("`{inner}`");
    }
    let fence = "`".repeat(longest + 1);
    format!("{fence} {inner} {fence}")
}

/// Outside text as one RFC 4180 CSV field on stdout: scrubbed, control characters visible,
/// line breaks kept (as LF) but no line that a CI runner would read as a command (as
/// [`output_value_with`]); quoted when it holds `,`, `"` or a line break, `"` doubled.
pub fn csv_field_with(scrubber: &Scrubber, text: &str) -> String {
    let clean = clean(&scrubber.scrub(text), Mode::Lines);
    if clean.contains([',', '"', '\n']) {
        format!("\"{}\"", clean.replace('"', "\"\""))
    } else {
        clean
    }
}

/// A JSON value as one line: strings scrubbed; besides what serde_json escapes, DEL, C1, line
/// separators and bidi controls escaped too, and `##` written `#\u0023` (the same value to a
/// JSON reader, nothing to a CI runner reading the raw line).
pub fn json_with(scrubber: &Scrubber, v: &Value) -> String {
    let text = if scrubber.is_empty() {
        v.to_string()
    } else {
        let mut v = v.clone();
        scrubber.scrub_value(&mut v);
        v.to_string()
    };
    // serde_json has escaped C0 controls, `"` and `\`; a raw `#` can only be inside a string.
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_hazard(c) || (c == '#' && out.ends_with('#')) {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "boom\n::add-mask::FINISHED\r\n  ::warning::x\u{1b}]0;t\u{7}\u{1b}[2J ##[add-mask]y \u{9b}1m \u{202e}abc\u{2066}";

    fn secrets() -> Scrubber {
        Scrubber::new(["SECRET", "SECRETLONGER", "", "SECRET"])
    }

    /// What a GitHub runner would take for a command in these lines.
    fn commands(text: &str) -> Vec<&str> {
        text.split(['\n', '\r'])
            .filter(|l| l.trim_start().starts_with("::") || l.contains("##["))
            .collect()
    }

    #[test]
    fn secrets_are_scrubbed_longest_first() {
        let s = secrets();
        assert_eq!(
            s.scrub("a SECRETLONGER and a SECRET"),
            "a *** and a ***".to_string()
        );
        assert!(matches!(s.scrub("nothing here"), Cow::Borrowed(_)));
        assert!(Scrubber::new([""; 0]).is_empty());
    }

    /// Issue 25: a secret cut at either end (an error page cut to 200 characters before it
    /// was scrubbed), or broken by a character in between, shows no 16 characters of itself.
    #[test]
    fn a_cut_or_broken_secret_shows_no_run_of_itself() {
        let token = "MIIEhQYJKoZIhvcNAQcCoIIEdjCCBHICAQExDTALBglghkgBZQMEAgEwggJ5BgkqhkiG";
        let s = Scrubber::new([token, "AKID1234567890ABCDEF"]);
        let page = format!("<p>X-Auth-Token: {token}</p>");
        let cut: String = page.chars().take(60).collect();
        assert_eq!(s.scrub(&cut), "<p>X-Auth-Token: ***");
        assert_eq!(s.scrub(&token[30..]), "***");
        assert_eq!(
            s.scrub(&format!("a{}\u{1b}{}b", &token[..20], &token[20..])),
            "a***\u{1b}***b"
        );
        // Fewer than 16 bytes of it, at a cut, are not taken for it.
        assert_eq!(s.scrub(&token[..15]), &token[..15]);
        // Secrets that touch or overlap are one mask; text around them stays.
        assert_eq!(
            s.scrub(&format!("x {token}AKID1234567890ABCDEF y")),
            "x *** y"
        );
        assert_eq!(format!("{s:?}"), "Scrubber(2 secrets)");
    }

    #[test]
    fn a_line_stays_one_line_without_controls_or_commands() {
        let l = line_with(&secrets(), &format!("{HOSTILE} SECRET"));
        assert!(!l.contains('\n') && !l.contains('\r'), "{l}");
        assert!(!l.chars().any(is_hazard), "{l}");
        assert!(commands(&l).is_empty(), "{l}");
        assert!(!l.contains("SECRET"), "{l}");
        assert!(
            l.contains("boom⏎::add-mask::FINISHED⏎  ::warning::x"),
            "{l}"
        );
        assert!(
            l.contains("\\u{1b}]0;t\\u{7}\\u{1b}[2J #\\#[add-mask]y"),
            "{l}"
        );
        assert!(l.contains("\\u{9b}1m \\u{202e}abc\\u{2066}"), "{l}");
        assert_eq!(line_with(&secrets(), "###"), "#\\#\\#");
        assert_eq!(line_with(&secrets(), " ::x"), " \\::x");
        assert_eq!(line_with(&secrets(), "a\tb"), "a b");
    }

    #[test]
    fn command_data_keeps_lines_escaped_and_starts_none() {
        let d = command_data_with(&secrets(), HOSTILE);
        assert!(!d.contains('\n') && !d.contains('\r'), "{d}");
        assert!(!d.chars().any(is_hazard), "{d}");
        assert!(
            d.starts_with("boom%0A\\::add-mask::FINISHED%0A  \\::warning::x"),
            "{d}"
        );
        assert!(!d.contains("##"), "{d}");
        assert_eq!(escape_data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }

    #[test]
    fn output_values_keep_lines_but_no_line_is_a_command() {
        let v = output_value_with(&secrets(), &format!("{HOSTILE}\nSECRET\tx"));
        assert_eq!(v.lines().count(), 4, "{v}");
        assert!(commands(&v).is_empty(), "{v}");
        assert!(!v.chars().any(|c| is_hazard(c) && c != '\n'));
        assert!(v.ends_with("\n*** x"), "{v}");
    }

    #[test]
    fn markdown_has_no_html_links_code_or_rows_of_its_own() {
        let m = md_text_with(
            &secrets(),
            "a | b\n| c | <script>x</script> [l](u) `c` \\| & SECRET",
        );
        assert_eq!(
            m,
            "a \\| b⏎\\| c \\| &lt;script&gt;x&lt;/script&gt; \\[l\\](u) \\`c\\` \\\\\\| &amp; ***"
        );
        assert_eq!(md_code_with(&secrets(), "job-1"), "`job-1`");
        assert_eq!(md_code_with(&secrets(), "a`b|c"), "`` a`b\\|c ``");
        assert_eq!(md_code_with(&secrets(), ""), "` `");
    }

    #[test]
    fn json_is_the_same_value_scrubbed_with_nothing_raw() {
        let v = serde_json::json!({"message": HOSTILE, "SECRET": ["SECRETLONGER"], "n": 1});
        let text = json_with(&secrets(), &v);
        assert!(!text.chars().any(is_hazard), "{text}");
        assert!(!text.contains("##") && !text.contains("SECRET"), "{text}");
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["message"], HOSTILE);
        assert_eq!(back["***"][0], "***");
    }

    #[test]
    fn the_registry_adds_and_never_forgets() {
        let secrets = Secrets::new();
        let other = secrets.clone();
        assert!(secrets.scrubber().is_empty());
        secrets.remember(["REGISTRYMARKER-A"]);
        other.remember(["REGISTRYMARKER-B", ""]);
        let k = secrets.scrubber();
        assert_eq!(k.scrub("REGISTRYMARKER-A REGISTRYMARKER-B"), "*** ***");
        assert_eq!(secrets.line("x REGISTRYMARKER-A"), "x ***");
        assert_eq!(secrets.command_property("a:REGISTRYMARKER-B"), "a%3A***");
        // A separate run knows none of them.
        assert!(Secrets::new().scrubber().is_empty());
    }
    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// A piece of outside text: plain words, hazards, would-be commands, and pieces of the
        /// secret (whole, cut at either end, broken by a character).
        fn piece(secret: String) -> impl Strategy<Value = String> {
            let n = secret.len();
            prop_oneof![
                "[ -~]{0,12}",
                Just("\n::error::x\r\n".to_string()),
                Just("  ::add-mask::y".to_string()),
                Just("##[warning]z".to_string()),
                Just("\u{1b}[2J\u{7}\u{9b}\u{202e}\u{2028}\t".to_string()),
                Just("| a | <b> [c](d) `e`".to_string()),
                Just(secret.clone()),
                (0..n).prop_map({
                    let s = secret.clone();
                    move |i| s[i..].to_string()
                }),
                (0..n).prop_map({
                    let s = secret.clone();
                    move |i| s[..i].to_string()
                }),
                (
                    1..n,
                    prop_oneof![Just('\n'), Just('\u{1b}'), Just('\t'), Just('%')]
                )
                    .prop_map(move |(i, c)| format!(
                        "{}{c}{}",
                        &secret[..i],
                        &secret[i..]
                    )),
            ]
        }

        /// Secrets of letters that no escape writes (`\n`, `%0A`, `\u{1b}` and hex digits
        /// are left out), so that an escape next to 15 characters of a secret is no run of it
        /// by coincidence.
        fn case() -> impl Strategy<Value = (String, String)> {
            "[G-Zg-mo-qsv-z]{16,80}".prop_flat_map(|secret| {
                let text =
                    proptest::collection::vec(piece(secret.clone()), 0..8).prop_map(|p| p.concat());
                (Just(secret), text)
            })
        }

        fn holds_a_run_of(out: &str, secret: &str) -> bool {
            secret
                .as_bytes()
                .windows(SECRET_RUN)
                .any(|w| out.as_bytes().windows(SECRET_RUN).any(|o| o == w))
        }

        fn starts_a_command(line: &str) -> bool {
            line.trim_start().starts_with("::") || line.contains("##")
        }

        proptest! {
            /// For any outside text and any output: no control character the output does not
            /// allow, no line a runner would take for a command, and no 16 characters of a
            /// secret in a row.
            #[test]
            fn every_sanitiser_keeps_every_promise((secret, text) in case()) {
                let s = Scrubber::new([secret.as_str()]);
                // What a runner reads as log lines: stderr and stdout lines.
                let printed = [line_with(&s, &text), json_with(&s, &Value::String(text.clone()))];
                // Inside a command, or in the Markdown file: one line, no hazard.
                let inside = [
                    command_data_with(&s, &text),
                    command_property_with(&s, &text),
                    md_text_with(&s, &text),
                    md_code_with(&s, &text),
                ];
                for out in printed.iter().chain(&inside) {
                    prop_assert!(!out.chars().any(is_hazard), "{out:?}");
                    prop_assert!(!holds_a_run_of(out, &secret), "{out:?}");
                }
                for out in &printed {
                    prop_assert!(!starts_a_command(out), "{out:?}");
                }
                // A CSV field on stdout (`--results`): lines kept, each as safe as an output's.
                let field = csv_field_with(&s, &text);
                prop_assert!(!field.chars().any(|c| is_hazard(c) && c != '\n'), "{field:?}");
                prop_assert!(!field.lines().any(starts_a_command), "{field:?}");
                prop_assert!(!holds_a_run_of(&field, &secret), "{field:?}");
                let lines = output_value_with(&s, &text);
                prop_assert!(!lines.chars().any(|c| is_hazard(c) && c != '\n'), "{lines:?}");
                prop_assert!(!lines.lines().any(starts_a_command), "{lines:?}");
                prop_assert!(!holds_a_run_of(&lines, &secret), "{lines:?}");
                // JSON stays the same text to a reader, but for the secret.
                let back: Value = serde_json::from_str(&printed[1]).expect("valid JSON");
                prop_assert_eq!(back.as_str().map(str::len).is_some(), true);
            }
        }
    }

    /// RFC 4180: a field that needs quoting is quoted, `"` doubled, and it reads back as the
    /// text it was (plain text: no control characters, commands or secrets to change).
    #[test]
    fn csv_fields_read_back_as_the_text() {
        let none = Scrubber::new::<&str>([]);
        let unquote = |f: &str| match f.strip_prefix('"').and_then(|f| f.strip_suffix('"')) {
            Some(inner) => inner.replace("\"\"", "\""),
            None => f.to_string(),
        };
        for text in [
            "plain",
            "a,b",
            "say \"hi\"",
            "two\nlines",
            "",
            "é ünï",
            "\"",
            ",\n\"",
        ] {
            let f = csv_field_with(&none, text);
            assert_eq!(unquote(&f), text, "{f:?}");
            assert_eq!(f.starts_with('"'), text.contains([',', '"', '\n']), "{f:?}");
        }
        assert_eq!(csv_field_with(&none, "a,\"b\""), "\"a,\"\"b\"\"\"");
        // Made inert, as every output's text: a command on a line of its own, an escape.
        assert_eq!(
            csv_field_with(&none, "x\n::error::y\u{1b}[2J"),
            "\"x\n\\::error::y\\u{1b}[2J\""
        );
    }
}
