//! Durations as people write them in messages: "250ms", "1.5s", "2s", "1m 30s", "5h 45m",
//! never "1s 996ms 339us 464ns". The one formatter of a `Duration` shown to a user.

use std::time::Duration;

/// `d` rounded to what a person would say: whole milliseconds below a second (at least 1 ms
/// when not zero), tenths of a second below ten seconds, whole seconds above (in humantime's
/// `1h 2m 3s` form).
pub fn duration(d: Duration) -> String {
    if d.is_zero() {
        return "0s".into();
    }
    // Nearest millisecond, at least one.
    let ms = ((d.as_nanos() + 500_000) / 1_000_000).max(1);
    if ms < 1_000 {
        return format!("{ms}ms");
    }
    if ms < 9_950 {
        let tenths = (ms + 50) / 100;
        return match tenths % 10 {
            0 => format!("{}s", tenths / 10),
            t => format!("{}.{t}s", tenths / 10),
        };
    }
    let secs = u64::try_from((ms + 500) / 1_000).unwrap_or(u64::MAX);
    humantime::format_duration(Duration::from_secs(secs)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        let ms = Duration::from_millis;
        for (d, shown) in [
            (Duration::ZERO, "0s"),
            (Duration::from_nanos(1), "1ms"),
            (Duration::from_micros(1_499), "1ms"),
            (ms(250), "250ms"),
            (Duration::from_micros(999_600), "1s"),
            (ms(1_000), "1s"),
            (Duration::new(1, 996_339_464), "2s"),
            (ms(1_500), "1.5s"),
            (ms(9_949), "9.9s"),
            (ms(9_950), "10s"),
            (Duration::new(29, 999_999_999), "30s"),
            (ms(90_400), "1m 30s"),
            (Duration::from_secs(5 * 3600 + 45 * 60), "5h 45m"),
            (Duration::new(20_699, 700_000_000), "5h 45m"),
        ] {
            assert_eq!(duration(d), shown, "{d:?}");
        }
        assert!(!duration(Duration::MAX).is_empty());
    }

    /// For any duration: one or more `<number><unit>` words, no unit finer than a millisecond,
    /// and never both a seconds part and a milliseconds part.
    #[test]
    fn any_duration_is_rounded_to_one_unit_of_precision() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::SmallRng::seed_from_u64(20);
        for _ in 0..5000 {
            let scale = 10u64.pow(rng.gen_range(0..14));
            let d = Duration::from_nanos(rng.gen_range(0..scale.saturating_mul(10)));
            let s = duration(d);
            assert!(!s.contains("us") && !s.contains("ns"), "{d:?}: {s}");
            assert!(!(s.contains("ms") && s.contains(' ')), "{d:?}: {s}");
            assert!(
                s.split(' ').all(|w| w
                    .trim_start_matches(|c: char| c.is_ascii_digit() || c == '.')
                    .chars()
                    .all(|c| c.is_ascii_lowercase())),
                "{d:?}: {s}"
            );
            if !s.contains('.') {
                let back = humantime::parse_duration(&s)
                    .unwrap_or_else(|e| panic!("{d:?}: {s} does not parse: {e}"));
                let off = back.abs_diff(d);
                assert!(off <= d / 20 + Duration::from_millis(1), "{d:?}: {s}");
            }
        }
    }
}
