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

/// The idempotency key of outbox message `id` created at `created_ms`, sent with every
/// attempt of it (LINE's `X-Line-Retry-Key`, an SMS gateway's `Idempotency-Key`): the same on
/// every attempt, different for every message — a provider that has accepted it answers 409
/// to a repeat. Shaped as the UUID LINE asks for.
pub fn message_key(id: i64, created_ms: i64) -> String {
    // SplitMix64 (a fixed, well-known mixer): two 64-bit halves from the id and the time.
    fn mix(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    let hi = mix(id as u64 ^ mix(created_ms as u64));
    let lo = mix(hi ^ created_ms as u64);
    // Version 4, variant 1 bits, so strict UUID parsers take it.
    let hi = (hi & !0xf000) | 0x4000;
    let lo = (lo & !(0xc << 60)) | (0x8 << 60);
    let s = format!("{hi:016x}{lo:016x}");
    format!("{}-{}-{}-{}-{}", &s[0..8], &s[8..12], &s[12..16], &s[16..20], &s[20..32])
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

    #[test]
    fn retry_keys_are_stable_uuids_one_per_message() {
        let a = message_key(7, 1_700_000_000_000);
        assert_eq!(a, message_key(7, 1_700_000_000_000));
        assert_ne!(a, message_key(8, 1_700_000_000_000));
        assert_ne!(a, message_key(7, 1_700_000_000_001));
        assert_eq!(a.len(), 36);
        let parts: Vec<&str> = a.split('-').collect();
        assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), vec![8, 4, 4, 4, 12]);
        assert!(parts[2].starts_with('4'));
        assert!(a.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
    }
}
