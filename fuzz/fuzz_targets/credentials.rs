//! Any credentials file: its sections and keys, or the line that is wrong; and any answer of IAM
//! or the metadata service: temporary keys, or what is missing. Never a panic, and an error
//! never quotes the input (it may hold secrets).
#![no_main]
use dli_wait::dli::credentials::file::Ini;
use dli_wait::dli::credentials::read_credential;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        match Ini::parse(text) {
            Ok(ini) => {
                let _ = ini.get("basic", "ak");
            }
            Err(e) => assert!(e.starts_with("line ")),
        }
    }
    if let Ok(keys) = read_credential(data) {
        assert!(!keys.ak.expose().is_empty() && !keys.security_token.expose().is_empty());
    }
});
