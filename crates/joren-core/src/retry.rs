//! Retry timing for queued work: capped exponential backoff with full jitter (the wait before
//! attempt n+1 is uniform in [0, min(cap, base · 2ⁿ⁻¹)]), so many failures at once — a mail
//! server down for everyone — do not come back in lockstep.

/// The wait in milliseconds after failed attempt `attempt` (1 for the first), given `unit` in
/// [0, 1) from a random source. Never negative, never above `cap_ms`, and at least 1 ms so a
/// retry is never immediate.
pub fn backoff_ms(attempt: i64, base_ms: i64, cap_ms: i64, unit: f64) -> i64 {
    let exp = u32::try_from(attempt.saturating_sub(1).clamp(0, 40)).unwrap_or(40);
    let ceiling = base_ms.max(1).saturating_mul(1_i64.checked_shl(exp).unwrap_or(i64::MAX)).min(cap_ms.max(1));
    let unit = if unit.is_finite() { unit.clamp(0.0, 1.0) } else { 0.0 };
    ((ceiling as f64 * unit) as i64).clamp(1, ceiling)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ceiling_doubles_per_attempt_up_to_the_cap_and_the_wait_is_drawn_below_it() {
        assert_eq!(backoff_ms(1, 1_000, 60_000, 0.999_999), 999);
        assert_eq!(backoff_ms(2, 1_000, 60_000, 0.999_999), 1_999);
        assert_eq!(backoff_ms(4, 1_000, 60_000, 0.5), 4_000);
        assert_eq!(backoff_ms(30, 1_000, 60_000, 0.5), 30_000, "capped");
        assert_eq!(backoff_ms(i64::MAX, i64::MAX, i64::MAX, 1.0), i64::MAX, "no overflow");
        assert_eq!(backoff_ms(1, 1_000, 60_000, 0.0), 1, "never immediate");
        assert_eq!(backoff_ms(0, 1_000, 60_000, f64::NAN), 1);
        for attempt in 1..50 {
            for unit in [0.0, 0.3, 0.7, 0.99] {
                let w = backoff_ms(attempt, 500, 3_600_000, unit);
                assert!((1..=3_600_000).contains(&w), "{attempt} {unit} {w}");
            }
        }
    }
}
