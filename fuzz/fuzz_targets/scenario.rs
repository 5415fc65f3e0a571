//! Any scenario text: an error message or a scenario that plays, never a panic.
#![no_main]
use dli_wait::sim::scenario::Scenario;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(s) = Scenario::parse(text) {
        for job in s.jobs.iter().chain(s.templates.values()) {
            let _ = job.length();
            for t in [0.0, 0.5, 3.0, 1e4, 1e9] {
                let _ = job.at(t, "j");
            }
        }
    }
});
