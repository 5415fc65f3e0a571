//! DLI's job ids: SQL job ids and Spark batch ids are UUIDs. Checking them before a request
//! keeps a path segment from ever being `..`, empty, a newline or 100,000 characters.

/// `85798b38-ae44-48eb-bb90-7cf0dcdafe7b` (hex digits in either case, 8-4-4-4-12).
pub fn is_job_id(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_uuids_are_job_ids() {
        assert!(is_job_id("85798b38-ae44-48eb-bb90-7cf0dcdafe7b"));
        assert!(is_job_id("85798B38-AE44-48EB-BB90-7CF0DCDAFE7B"));
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
        ] {
            assert!(!is_job_id(bad), "{bad:?}");
        }
    }
}
