//! Any body in any chunks against any announced length: kept whole within the cap, refused
//! as soon as it passes it; never more than the cap held, never a panic.
#![no_main]
use dli_wait::dli::client::CappedBody;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let cap = usize::from(u16::from_le_bytes([data[0], data[1]]));
    let announced = (data[2] % 2 == 0).then(|| u64::from(data[3]) * 97);
    let body = &data[4..];
    let Ok(mut b) = CappedBody::new(cap, announced) else {
        assert!(announced.is_some_and(|n| n > cap as u64));
        return;
    };
    let mut fed = 0usize;
    for chunk in body.chunks(usize::from(data[3]).max(1)) {
        if b.push(chunk).is_err() {
            assert!(fed + chunk.len() > cap);
            return;
        }
        fed += chunk.len();
    }
    let kept = b.into_inner();
    assert!(kept.len() <= cap);
    assert_eq!(kept, body);
});
