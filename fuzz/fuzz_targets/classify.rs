//! Any HTTP status, Retry-After and body: classification answers, never panics.
#![no_main]
use dli_wait::dli::fault::{Reply, classify};
use dli_wait::dli::model::{CancelJobResponse, JobProgress, JobStatusInfo, SubmitJobResponse};
use libfuzzer_sys::fuzz_target;
use std::time::{Duration, SystemTime};

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let status = 100 + u16::from_le_bytes([data[0], data[1]]) % 500;
    let split = usize::from(data[2]).min(data.len() - 3);
    let (ra, body) = data[3..].split_at(split);
    let reply = Reply {
        status,
        retry_after: Some(String::from_utf8_lossy(ra).into_owned()),
        request_id: None,
        date: None,
        body: body.to_vec(),
    };
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let _ = classify::<JobProgress>(&reply, now).map_err(|f| f.to_string());
    let _ = classify::<JobStatusInfo>(&reply, now);
    let _ = classify::<CancelJobResponse>(&reply, now);
    let _ = classify::<SubmitJobResponse>(&reply, now);
});
