//! Any SSL_CERT_FILE content: a count of certificates or a reason it cannot be used; never a
//! panic. (Also any header value: a verdict, never a panic.)
#![no_main]
use dli_wait::dli::client::{header_safe, trust_file_certificates};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(n) = trust_file_certificates(data) {
        assert!(n > 0);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(pos) = header_safe(text) {
            assert!(pos >= 1 && pos <= text.chars().count());
        }
    }
});
