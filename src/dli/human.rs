//! Durations as people write them in messages: "850ms", "2s", "4m12s", "1h3m", never
//! "1s 996ms 339us 464ns". The one formatter of a `Duration` shown to a user (`report`'s
//! `fmt_duration` is this one).

use std::time::Duration;

/// `t` in DLI's unit of time, milliseconds since the Unix epoch (0 before it): what its
/// `start_time`s are compared with.
pub fn epoch_ms(t: std::time::SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// `d` rounded to what a person would say: whole milliseconds below a second (at least 1 ms
/// when not zero), else the nearest second, written `4m12s`, `1m`, and past an hour without
/// the seconds (`1h3m`, `2h`).
pub fn duration(d: Duration) -> String {
    if d.is_zero() {
        return "0s".into();
    }
    // Nearest millisecond, at least one.
    let ms = ((d.as_nanos() + 500_000) / 1_000_000).max(1);
    if ms < 1_000 {
        return format!("{ms}ms");
    }
    let secs = u64::try_from((ms + 500) / 1_000).unwrap_or(u64::MAX);
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    match (h, m, s) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m{s}s"),
        (h, 0, _) => format!("{h}h"),
        (h, m, _) => format!("{h}h{m}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_ms_is_dli_s_milliseconds_and_zero_before_the_epoch() {
        let epoch = std::time::UNIX_EPOCH;
        assert_eq!(
            epoch_ms(epoch + Duration::from_millis(1_700_000_000_123)),
            1_700_000_000_123
        );
        assert_eq!(epoch_ms(epoch - Duration::from_secs(1)), 0);
    }

    #[test]
    fn durations_read_as_people_write_them() {
        let ms = Duration::from_millis;
        for (d, shown) in [
            (Duration::ZERO, "0s"),
            (Duration::from_nanos(1), "1ms"),
            (Duration::from_micros(1_499), "1ms"),
            (ms(250), "250ms"),
            (ms(850), "850ms"),
            (Duration::from_micros(999_600), "1s"),
            (ms(1_000), "1s"),
            (ms(1_499), "1s"),
            (Duration::new(1, 996_339_464), "2s"),
            (Duration::new(29, 999_999_999), "30s"),
            (ms(60_000), "1m"),
            (ms(90_400), "1m30s"),
            (Duration::from_secs(252), "4m12s"),
            (Duration::from_secs(3780), "1h3m"),
            (Duration::from_secs(5 * 3600 + 45 * 60), "5h45m"),
            (Duration::new(20_699, 700_000_000), "5h45m"),
            (Duration::from_secs(7200), "2h"),
        ] {
            assert_eq!(duration(d), shown, "{d:?}");
        }
        assert!(!duration(Duration::MAX).is_empty());
    }

    /// For any duration: milliseconds alone below a second, otherwise h/m/s parts and no
    /// finer unit, within half a unit of the shown precision of the true value.
    #[test]
    fn any_duration_is_rounded_to_its_shown_unit() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::SmallRng::seed_from_u64(20);
        for _ in 0..5000 {
            let scale = 10u64.pow(rng.gen_range(0..14));
            let d = Duration::from_nanos(rng.gen_range(0..scale.saturating_mul(10)));
            let s = duration(d);
            assert!(
                !s.contains("us") && !s.contains("ns") && !s.contains(' '),
                "{d:?}: {s}"
            );
            if let Some(n) = s.strip_suffix("ms") {
                assert!(n.chars().all(|c| c.is_ascii_digit()), "{d:?}: {s}");
            }
            let back = humantime::parse_duration(&s)
                .unwrap_or_else(|e| panic!("{d:?}: {s} does not parse: {e}"));
            let unit = if s.contains('h') {
                Duration::from_secs(60)
            } else if s.ends_with("ms") {
                Duration::from_millis(1)
            } else {
                Duration::from_secs(1)
            };
            assert!(back.abs_diff(d) <= unit, "{d:?}: {s}");
        }
    }
}
