//! Any bytes on the simulator's socket: a parsed request, "incomplete" or a 4xx, never a panic.
#![no_main]
use dli_wait::sim::http::parse_request;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_request(data);
});
