//! The SDKs' credentials file (`HUAWEICLOUD_SDK_CREDENTIALS_FILE`, by default
//! `~/.huaweicloud/credentials`): INI, read the way Python's `configparser` reads it, which is
//! what the Python SDK uses. Sections `[basic]` (regional services, as DLI) and `[global]`;
//! keys `ak`, `sk`, `project_id`, `security_token`, `idp_id`, `id_token_file`,
//! `iam_endpoint`, case-insensitive, `key = value` or `key: value`; lines starting with `#` or
//! `;` are comments; an indented line continues the value before it; a section or key given
//! twice is an error (configparser's strict mode). Errors name lines, never values.

use std::collections::BTreeMap;

/// The file's sections: name → keys (lower case) → values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ini {
    sections: BTreeMap<String, BTreeMap<String, String>>,
}

impl Ini {
    pub fn parse(text: &str) -> Result<Ini, String> {
        let mut ini = Ini::default();
        let mut section: Option<String> = None;
        let mut last_key: Option<String> = None;
        for (n, raw) in text.lines().enumerate() {
            let line_no = n + 1;
            let line = raw.trim_end_matches('\r');
            let trimmed = line.trim();
            if trimmed.is_empty() {
                last_key = None;
                continue;
            }
            if trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            let indented = line.starts_with([' ', '\t']);
            if indented && let (Some(s), Some(k)) = (&section, &last_key) {
                if let Some(v) = ini.sections.get_mut(s).and_then(|m| m.get_mut(k)) {
                    v.push('\n');
                    v.push_str(trimmed);
                }
                continue;
            }
            if let Some(rest) = trimmed.strip_prefix('[') {
                let Some(name) = rest.strip_suffix(']') else {
                    return Err(format!("line {line_no}: a section header without its ]"));
                };
                let name = name.trim().to_string();
                if ini.sections.contains_key(&name) {
                    return Err(format!("line {line_no}: section [{name}] appears twice"));
                }
                ini.sections.insert(name.clone(), BTreeMap::new());
                section = Some(name);
                last_key = None;
                continue;
            }
            let Some(s) = &section else {
                return Err(format!("line {line_no}: a key before any [section] header"));
            };
            let Some(at) = trimmed.find(['=', ':']) else {
                return Err(format!("line {line_no}: neither key = value nor a section"));
            };
            let key = trimmed[..at].trim().to_ascii_lowercase();
            let value = trimmed[at + 1..].trim().to_string();
            if key.is_empty() {
                return Err(format!("line {line_no}: a value without a key"));
            }
            let keys = ini.sections.entry(s.clone()).or_default();
            if keys.contains_key(&key) {
                // The key is not named: a mangled line could make a secret one.
                return Err(format!("line {line_no}: a key that [{s}] has already"));
            }
            keys.insert(key.clone(), value);
            last_key = Some(key);
        }
        Ok(ini)
    }

    pub fn has_section(&self, name: &str) -> bool {
        self.sections.contains_key(name)
    }

    /// A non-empty value of `key` in `section`.
    pub fn get(&self, section: &str, key: &str) -> Option<&str> {
        self.sections
            .get(section)?
            .get(key)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sdk_documented_file_reads() {
        let ini = Ini::parse(
            "[basic]\nak = AKVALUE\nsk = SKVALUE\nproject_id = 0123\n\n[global]\nak = G\nsk = GS\ndomain_id = d\n",
        )
        .unwrap();
        assert_eq!(ini.get("basic", "ak"), Some("AKVALUE"));
        assert_eq!(ini.get("basic", "project_id"), Some("0123"));
        assert_eq!(ini.get("global", "ak"), Some("G"));
        assert_eq!(ini.get("basic", "security_token"), None);
    }

    #[test]
    fn configparser_syntax_comments_colons_case_and_continuations() {
        let ini = Ini::parse(
            "# a comment\r\n; another\r\n[basic]\r\nAK: A1\r\nSK =  S1  \r\nsecurity_token = first\r\n  second\r\nempty =\r\n",
        )
        .unwrap();
        assert_eq!(ini.get("basic", "ak"), Some("A1"));
        assert_eq!(ini.get("basic", "sk"), Some("S1"));
        assert_eq!(ini.get("basic", "security_token"), Some("first\nsecond"));
        assert_eq!(ini.get("basic", "empty"), None);
        assert!(ini.has_section("basic") && !ini.has_section("Basic"));
    }

    #[test]
    fn broken_files_name_the_line_and_never_a_value() {
        for (text, line) in [
            ("ak = SECRETVALUE\n", "line 1"),
            ("[basic\nak = SECRETVALUE\n", "line 1"),
            ("[basic]\nak = SECRETVALUE\nak = SECRETVALUE2\n", "line 3"),
            ("[basic]\n[basic]\n", "line 2"),
            ("[basic]\nSECRETVALUE\n", "line 2"),
            ("[basic]\n= SECRETVALUE\n", "line 2"),
        ] {
            let e = Ini::parse(text).unwrap_err();
            assert!(e.starts_with(line), "{text:?}: {e}");
            assert!(!e.contains("SECRETVALUE"), "{text:?}: {e}");
        }
    }
}
