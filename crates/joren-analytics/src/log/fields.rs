//! The fields of a transaction row: dates as day numbers (days since 1970-01-01) and decimal
//! amounts as integers in minor units, read from bytes without allocating.

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub const fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe as u32 * 365 + yoe as u32 / 4 - yoe as u32 / 100 + doy;
    era * 146_097 + doe as i32 - 719_468
}

/// The years whose months' first days are looked up rather than computed (every date a shop's
/// file is likely to hold).
const TABLE_FROM: i32 = 1900;
const TABLE_YEARS: usize = 256;

/// The day number of the first of each month of the table's years.
static MONTH_START: [i32; TABLE_YEARS * 12] = {
    let mut t = [0; TABLE_YEARS * 12];
    let mut i = 0;
    while i < TABLE_YEARS * 12 {
        t[i] = days_from_civil(TABLE_FROM + (i / 12) as i32, (i % 12) as u32 + 1, 1);
        i += 1;
    }
    t
};

/// [`days_from_civil`] of a valid date, by the table when the year is in it.
#[inline]
fn day_number(y: i32, m: u32, d: u32) -> i32 {
    match usize::try_from(y - TABLE_FROM) {
        Ok(k) if k < TABLE_YEARS => MONTH_START[k * 12 + m as usize - 1] + d as i32 - 1,
        _ => days_from_civil(y, m, d),
    }
}

/// The inverse of [`days_from_civil`].
pub fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i32::from(m <= 2), m, d)
}

/// A day (days since 1970-01-01) as `YYYY-MM-DD`.
pub fn format_day(day: i32) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Parses `YYYY-MM-DD` (an RFC 3339 timestamp's date part is taken as is) into a day number.
pub fn parse_day(s: &[u8]) -> Option<i32> {
    if s.len() < 10 || s[4] != b'-' || s[7] != b'-' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| -> Option<u32> {
        s[r].iter().try_fold(0u32, |a, c| c.is_ascii_digit().then(|| a * 10 + u32::from(c - b'0')))
    };
    let (y, m, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y as i32, m) {
        return None;
    }
    if s.len() > 10 && !matches!(s[10], b'T' | b't' | b' ') {
        return None;
    }
    Some(day_number(y as i32, m, d))
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Parses a decimal amount (`29.33`, `-5`, `1200`) into minor units with `scale` decimals,
/// rounding half away from zero beyond them.
pub fn parse_amount(s: &[u8], scale: u32) -> Option<i64> {
    let (neg, s) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    if s.is_empty() {
        return None;
    }
    let mut int: i64 = 0;
    let mut frac: i64 = 0;
    let mut frac_digits = 0u32;
    let mut round_up = false;
    let mut seen_dot = false;
    for &c in s {
        match c {
            b'0'..=b'9' if !seen_dot => int = int.checked_mul(10)?.checked_add(i64::from(c - b'0'))?,
            b'0'..=b'9' if frac_digits < scale => {
                frac = frac * 10 + i64::from(c - b'0');
                frac_digits += 1;
            }
            b'0'..=b'9' => {
                if frac_digits == scale {
                    round_up = c >= b'5';
                    frac_digits += 1;
                }
            }
            b'.' if !seen_dot => seen_dot = true,
            _ => return None,
        }
    }
    let kept = frac_digits.min(scale);
    let v = int.checked_mul(10_i64.pow(scale))? + frac * 10_i64.pow(scale - kept) + i64::from(round_up);
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_month_table_agrees_with_the_formula_on_every_day_it_covers() {
        let last = days_from_civil(TABLE_FROM + TABLE_YEARS as i32, 1, 1);
        for day in days_from_civil(TABLE_FROM - 1, 12, 1)..last + 40 {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(day_number(y, m, d), day, "{y}-{m}-{d}");
        }
    }

    #[test]
    fn dates_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(1997, 9, 30) - days_from_civil(1997, 1, 1), 272);
        for z in [-1000, 0, 10_000, 20_089, 30_000] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(parse_day(b"2024-02-29"), Some(days_from_civil(2024, 2, 29)));
        assert_eq!(parse_day(b"2023-02-29"), None);
        assert_eq!(parse_day(b"2024-01-01T09:00:00+09:00"), Some(days_from_civil(2024, 1, 1)));
        assert_eq!(parse_day(b"2024/01/01"), None);
    }

    #[test]
    fn amounts_parse_exactly() {
        assert_eq!(parse_amount(b"29.33", 2), Some(2933));
        assert_eq!(parse_amount(b"29.3", 2), Some(2930));
        assert_eq!(parse_amount(b"1200", 0), Some(1200));
        assert_eq!(parse_amount(b"0.005", 2), Some(1));
        assert_eq!(parse_amount(b"-5.5", 2), Some(-550));
        assert_eq!(parse_amount(b"abc", 2), None);
        assert_eq!(parse_amount(b"", 2), None);
    }
}
