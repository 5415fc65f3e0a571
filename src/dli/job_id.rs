//! DLI's ids: SQL job ids and Spark batch ids are UUIDs, Flink job ids positive integers,
//! project ids are IAM's ids. Checking
//! them before a request keeps a path segment from ever being `..`, empty, a newline, a `/`
//! or 100,000 characters.

/// `85798b38-ae44-48eb-bb90-7cf0dcdafe7b` (hex digits in either case, 8-4-4-4-12): the
/// hyphenated form only, the one of 36 characters (`uuid` also parses the simple, braced and
/// URN forms, which are shorter or longer).
pub fn is_job_id(s: &str) -> bool {
    s.len() == 36 && uuid::Uuid::try_parse(s).is_ok()
}

/// Why `s` is not a job id, in a few words (for a usage error).
pub fn problem(s: &str) -> &'static str {
    if s.is_empty() {
        "it is empty"
    } else if s.chars().any(char::is_control) {
        "it holds a control character (a newline?)"
    } else if s.chars().count() > 36 {
        "it is longer than a job id"
    } else {
        "a DLI job id is a UUID such as 85798b38-ae44-48eb-bb90-7cf0dcdafe7b"
    }
}

/// Why `s` is not a Flink job id (a positive integer such as 50320: ASCII digits, no sign,
/// no leading zero, at most `i64::MAX`), or `None` when it is one.
pub fn flink_job_id_problem(s: &str) -> Option<&'static str> {
    if s.is_empty() {
        Some("it is empty")
    } else if s.chars().any(char::is_control) {
        Some("it holds a control character (a newline?)")
    } else if !s.bytes().all(|b| b.is_ascii_digit()) {
        Some("a Flink job id is a positive integer such as 50320")
    } else if s.starts_with('0') {
        Some("a Flink job id is a positive integer without leading zeros, such as 50320")
    } else if s.parse::<i64>().is_err() {
        Some("it is larger than any Flink job id")
    } else {
        None
    }
}

/// The longest project id taken. IAM's are 32 hex digits; Huawei Cloud's API references give
/// `project_id` a length of 32 to 64 ("generally a 32-character string").
pub const PROJECT_ID_MAX: usize = 64;

/// Why `s` cannot be a project id, or `None` when it can: 1 to [`PROJECT_ID_MAX`] ASCII
/// letters, digits, `-` or `_`. IAM's project ids are 32 lowercase hex digits
/// (`0123456789abcdef0123456789abcdef`); the rule is looser so that no real one is refused,
/// and strict enough that the id is always exactly one path segment (never `.`, `..`, empty,
/// or holding `/`, `?`, `#`, `%` or white space).
pub fn project_id_problem(s: &str) -> Option<String> {
    if s.is_empty() {
        return Some("it is empty".into());
    }
    if let Some((i, c)) = s
        .chars()
        .enumerate()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        let what = match c {
            c if c.is_control() => "a control character (a newline?)".to_string(),
            ' ' => "a space".to_string(),
            c if c.is_ascii() => format!("'{c}'"),
            _ => "a non-ASCII character".to_string(),
        };
        return Some(format!(
            "it holds {what} at character {}; a project id has only letters, digits, '-' and '_'",
            i + 1
        ));
    }
    if s.len() > PROJECT_ID_MAX {
        return Some(format!(
            "it is {} characters long, more than the {PROJECT_ID_MAX} of any project id",
            s.len()
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_ids_are_one_path_segment_of_iam_characters() {
        for good in [
            "0123456789abcdef0123456789abcdef",
            "A4A5D4098FB4474FA22CD05F897D6B99",
            "p",
            "p1",
            "region_01-sub",
            &"a".repeat(PROJECT_ID_MAX),
        ] {
            assert_eq!(project_id_problem(good), None, "{good:?}");
        }
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "a?b",
            "a#b",
            "a%2e",
            "a b",
            "a\nb",
            "a\tb",
            "ä",
            "a.b",
            &"a".repeat(PROJECT_ID_MAX + 1),
        ] {
            let why = project_id_problem(bad).unwrap_or_else(|| panic!("{bad:?} taken"));
            assert!(!why.contains('\n'), "{why}");
        }
    }

    #[test]
    fn flink_job_ids_are_positive_integers() {
        for good in ["1", "50320", "9223372036854775807"] {
            assert_eq!(flink_job_id_problem(good), None, "{good}");
        }
        for bad in [
            "",
            "0",
            "050320",
            "-1",
            "+1",
            "1.0",
            "1e3",
            " 1",
            "1\n",
            "9223372036854775808",
            "85798b38-ae44-48eb-bb90-7cf0dcdafe7b",
            "٣",
            "../1",
        ] {
            assert!(flink_job_id_problem(bad).is_some(), "{bad:?}");
        }
    }

    proptest::proptest! {
        /// Any text is refused as a Flink job id, or is the decimal text of a positive i64
        /// (so exactly one path segment of digits): never a path, sign, space or escape.
        #[test]
        fn a_flink_id_is_refused_or_a_positive_integer_written_plainly(
            s in "[0-9+\\-./ a-z%\n\u{0660}-\u{0669}]{0,22}"
        ) {
            match flink_job_id_problem(&s) {
                Some(why) => proptest::prop_assert!(!why.contains('\n')),
                None => {
                    let n: i64 = s.parse().unwrap_or_default();
                    proptest::prop_assert!(n > 0);
                    proptest::prop_assert_eq!(n.to_string(), s);
                }
            }
        }
    }

    #[test]
    fn only_uuids_are_job_ids() {
        assert!(is_job_id("85798b38-ae44-48eb-bb90-7cf0dcdafe7b"));
        assert!(is_job_id("85798B38-AE44-48EB-BB90-7CF0DCDAFE7B"));
        assert!(is_job_id("85798b38-AE44-48eb-BB90-7cf0dcdafe7b"));
        for bad in [
            "",
            ".",
            "..",
            "job-1",
            "85798b38-ae44-48eb-bb90-7cf0dcdafe7b\n",
            "85798b38ae4448ebbb907cf0dcdafe7b",
            "85798b38-ae44-48eb-bb90-7cf0dcdafe7g",
            "85798b38-ae44-48eb-bb90_7cf0dcdafe7b",
            "../../v1.0/p/jobs/85798b38-ae44-48eb",
            "{85798b38-ae44-48eb-bb90-7cf0dcdafe7b}",
            "urn:uuid:85798b38-ae44-48eb-bb90-7cf0dcdafe7b",
            "85798b38a-e44-48eb-bb90-7cf0dcdafe7b",
            "85798b38-ae44-48eb-bb90-7cf0dcdafé7",
            "+5798b38-ae44-48eb-bb90-7cf0dcdafe7b",
        ] {
            assert!(!is_job_id(bad), "{bad:?}");
        }
    }

    /// For any string: either it is refused as a project id, or every request's path is
    /// exactly `/<version>/<that id>/jobs/<job>/…`, segment by segment.
    #[test]
    fn any_project_id_is_refused_or_exactly_one_path_segment() {
        use crate::dli::auth::{Credentials, Secret};
        use crate::dli::client::{ClientConfig, DliClient};
        use crate::dli::credentials::provider::Provider;
        use rand::{Rng, SeedableRng};
        // Characters that rewrite or split a path, next to ones that are fine.
        const ALPHABET: &[&str] = &[
            ".",
            "..",
            "/",
            "\\",
            "?",
            "#",
            "%",
            "%2e",
            "%2F",
            " ",
            "\t",
            "\n",
            "\r",
            "\0",
            ";",
            "&",
            "=",
            "@",
            ":",
            "+",
            "~",
            "ä",
            "\u{3000}",
            "\u{202e}",
            "a",
            "Z",
            "0",
            "9",
            "-",
            "_",
            "0123456789abcdef",
        ];
        let job = "85798b38-ae44-48eb-bb90-7cf0dcdafe7b";
        let mut rng = rand::rngs::SmallRng::seed_from_u64(17);
        let mut taken = 0;
        for _ in 0..3000 {
            let n = rng.gen_range(0..8);
            let s: String = (0..n)
                .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())])
                .collect();
            if project_id_problem(&s).is_some() {
                continue;
            }
            taken += 1;
            let client = DliClient::new(ClientConfig {
                endpoint: url::Url::parse("https://dli.cn-north-4.myhuaweicloud.com/base/")
                    .unwrap(),
                project_id: s.clone(),
                credentials: Provider::fixed(Credentials::Token(Secret::new("T")), "test"),
                request_timeout: std::time::Duration::from_secs(1),
            })
            .unwrap();
            let path = client.path("v1.0", &format!("jobs/{job}/status"));
            let sent = client.prepare("GET", &path, None, 0).url;
            let segments: Vec<&str> = sent.path_segments().unwrap().collect();
            assert_eq!(
                segments,
                ["base", "v1.0", s.as_str(), "jobs", job, "status"],
                "{s:?}"
            );
            assert_eq!(sent.query(), None, "{s:?}");
            assert_eq!(sent.fragment(), None, "{s:?}");
        }
        assert!(taken > 100, "too few valid ids generated: {taken}");
    }
}
