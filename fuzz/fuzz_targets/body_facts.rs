//! Any body: the error fields the SDKs' way, or an error saying it is not one JSON object;
//! never a panic, and deep nesting bounded by the JSON reader.
#![no_main]
use dli_wait::dli::model::BodyFacts;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if BodyFacts::read(data).is_ok() {
        // Only one JSON object is read as a body.
        let first = data.iter().find(|b| !b" \t\r\n".contains(b));
        assert_eq!(first, Some(&b'{'));
    }
});
