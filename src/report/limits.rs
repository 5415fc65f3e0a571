//! How much of any one text dli-wait shows, and how much it gives GitHub. A failure reason can
//! be megabytes (a stack trace, a whole query echoed back); a CI log, a step output, an
//! annotation and the step summary each have limits of their own (GitHub: at most 1 MiB of step
//! summary per step, 1 MB of outputs per job, 10 error and 10 warning annotations shown per
//! step). Texts are cut here, always *after* their sanitiser (which scrubs the secrets first), so
//! a cut can never leave part of a secret that the whole text would have masked; and at a char
//! boundary, saying how much was left out.

use std::borrow::Cow;

/// The most characters of one text (a reason, a message, one line on stderr, an annotation's
/// text, the `message` output, the summary file's reason) that are shown.
pub const TEXT_CHARS: usize = 4000;

/// The most characters of a job's whole reason where the whole is kept (the `message`
/// output, `--summary-file`, the step summary's collapsed reason): a 60-frame stack trace
/// (6,000 characters) fits, a megabyte does not.
pub const REASON_CHARS: usize = 16_000;

/// The most characters of the `job-id` output (about 5,000 job ids).
pub const IDS_CHARS: usize = 200_000;

/// The most bytes dli-wait writes to the step summary (GitHub refuses a step's summary over
/// 1 MiB whole, so a little under it).
pub const SUMMARY_BYTES: usize = 1_000_000;

/// Annotations of one level (errors, warnings) written per step: what GitHub shows.
pub const ANNOTATIONS: usize = 10;

/// `text`, or its first `max` characters and `… (N more characters)`.
pub fn cut(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => Cow::Borrowed(text),
        Some((at, _)) => Cow::Owned(cut_at(text, at)),
    }
}

/// [`cut`] for text escaped as workflow-command data (`%25`, `%0A`): never splits an escape.
pub fn cut_escaped(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => Cow::Borrowed(text),
        Some((mut at, _)) => {
            // `%` and its two hex digits are ASCII: back off to before a split escape.
            let b = text.as_bytes();
            if at >= 1 && b[at - 1] == b'%' {
                at -= 1;
            } else if at >= 2 && b[at - 2] == b'%' {
                at -= 2;
            }
            Cow::Owned(cut_at(text, at))
        }
    }
}

fn cut_at(text: &str, at: usize) -> String {
    let rest = text[at..].chars().count();
    format!("{}… ({rest} more characters)", &text[..at])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_text_is_cut_at_a_char_boundary_saying_how_much() {
        assert_eq!(cut("short", 10), "short");
        assert_eq!(cut("exactly10!", 10), "exactly10!");
        assert_eq!(cut("ééééé", 2), "éé… (3 more characters)");
        assert_eq!(cut("a🎉b", 1), "a… (2 more characters)");
        assert_eq!(cut_escaped("ab%0Acd", 3), "ab… (5 more characters)");
        assert_eq!(cut_escaped("ab%0Acd", 4), "ab… (5 more characters)");
        assert_eq!(cut_escaped("ab%0Acd", 5), "ab%0A… (2 more characters)");
    }

    proptest::proptest! {
        /// For any text and any bound: what is kept is a prefix of the text, at most the bound
        /// in characters plus the note, and the note counts exactly what was left out.
        #[test]
        fn cutting_keeps_a_prefix_and_counts_the_rest(text in "\\PC{0,300}", max in 0usize..200) {
            let out = cut(&text, max);
            let total = text.chars().count();
            if total <= max {
                proptest::prop_assert_eq!(out.as_ref(), text.as_str());
            } else {
                let note = format!("… ({} more characters)", total - max);
                proptest::prop_assert!(out.ends_with(&note));
                let kept = &out[..out.len() - note.len()];
                proptest::prop_assert!(text.starts_with(kept));
                proptest::prop_assert_eq!(kept.chars().count(), max);
            }
        }

        /// An escaped text is never cut inside one of its escapes.
        #[test]
        fn escaped_text_is_cut_between_escapes(text in "[a-z%\n\r]{0,100}", max in 0usize..80) {
            let escaped = crate::report::safe::escape_data(&text);
            let out = cut_escaped(&escaped, max);
            let kept = out.split('…').next().unwrap_or_default();
            // Every `%` kept starts a whole escape.
            for (i, _) in kept.match_indices('%') {
                let esc = kept.get(i..i + 3).unwrap_or_default();
                proptest::prop_assert!(["%25", "%0A", "%0D"].contains(&esc), "{kept:?}");
            }
        }
    }
}
