//! Money: integer minor units plus an ISO 4217 currency code. Yen has no minor unit.

use crate::FieldError;

/// Number of decimal places of a currency (JPY 0, most others 2).
pub fn minor_digits(currency: &str) -> u32 {
    match currency {
        "JPY" | "KRW" | "VND" | "CLP" | "ISK" => 0,
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" => 3,
        _ => 2,
    }
}

/// Checks a currency code: three upper-case ASCII letters.
pub fn validate_currency(field: &str, input: &str) -> Result<String, FieldError> {
    let c = input.trim().to_ascii_uppercase();
    if c.len() == 3 && c.chars().all(|ch| ch.is_ascii_uppercase()) {
        Ok(c)
    } else {
        Err(FieldError::new(field, crate::Code::BadCurrency).arg(input))
    }
}

/// Parses a decimal amount as written in a shop's CSV (`1,280`, `¥1,280`, `1280.00`, `-300`,
/// `12.34` for USD) into integer minor units. More decimals than the currency has is an error,
/// never a silent rounding.
pub fn parse_amount(field: &str, input: &str, currency: &str) -> Result<i64, FieldError> {
    use crate::Code::{AmountDecimals, BadAmount, Required};
    let bad = |code: crate::Code| FieldError::new(field, code).arg(input);
    let s: String = input.trim().chars().filter(|c| !matches!(c, ',' | '¥' | '￥' | '$' | '€' | ' ' | '円')).collect();
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.as_str()),
    };
    if s.is_empty() {
        return Err(bad(Required));
    }
    let digits = minor_digits(currency);
    let (int_part, frac_part) = s.split_once('.').unwrap_or((s, ""));
    if int_part.is_empty() || !int_part.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad(BadAmount));
    }
    if !frac_part.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad(BadAmount));
    }
    let frac_trimmed = frac_part.trim_end_matches('0');
    if frac_trimmed.len() as u32 > digits {
        return Err(bad(AmountDecimals));
    }
    let mut frac = frac_trimmed.to_string();
    while (frac.len() as u32) < digits {
        frac.push('0');
    }
    let whole: i64 = int_part.parse().map_err(|_| bad(BadAmount))?;
    let frac_v: i64 = if frac.is_empty() { 0 } else { frac.parse().map_err(|_| bad(BadAmount))? };
    let v = whole.checked_mul(10_i64.pow(digits)).and_then(|w| w.checked_add(frac_v)).ok_or_else(|| bad(BadAmount))?;
    Ok(if neg { -v } else { v })
}

/// A whole number with thousands separators: `12800` → `12,800` (for counts of points, people).
pub fn group_digits(n: impl Into<i128>) -> String {
    let n: i128 = n.into();
    let mut grouped = String::new();
    for (i, c) in n.unsigned_abs().to_string().chars().rev().enumerate() {
        if i > 0 && i % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let digits: String = grouped.chars().rev().collect();
    if n < 0 { format!("-{digits}") } else { digits }
}

/// Formats minor units for display: `¥12,800`, `$12.34`, `1,234.50 EUR`.
pub fn format_amount(amount: i64, currency: &str) -> String {
    let digits = minor_digits(currency);
    let neg = amount < 0;
    let abs = amount.unsigned_abs();
    let scale = 10_u64.pow(digits);
    let whole = abs / scale;
    let frac = abs % scale;
    let whole = group_digits(whole);
    let number = if digits == 0 { whole } else { format!("{whole}.{frac:0width$}", width = digits as usize) };
    let sign = if neg { "-" } else { "" };
    match currency {
        "JPY" => format!("{sign}¥{number}"),
        "USD" => format!("{sign}${number}"),
        _ => format!("{sign}{number} {currency}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yen_amounts_parse_to_whole_yen() {
        assert_eq!(parse_amount("a", "1,280", "JPY").unwrap(), 1280);
        assert_eq!(parse_amount("a", "¥12,800", "JPY").unwrap(), 12800);
        assert_eq!(parse_amount("a", "1280.00", "JPY").unwrap(), 1280);
        assert_eq!(parse_amount("a", "-300", "JPY").unwrap(), -300);
        assert!(parse_amount("a", "12.5", "JPY").is_err());
        assert!(parse_amount("a", "abc", "JPY").is_err());
        assert!(parse_amount("a", "", "JPY").is_err());
    }

    #[test]
    fn cents_parse_exactly() {
        assert_eq!(parse_amount("a", "12.34", "USD").unwrap(), 1234);
        assert_eq!(parse_amount("a", "12.3", "USD").unwrap(), 1230);
        assert_eq!(parse_amount("a", "0.05", "USD").unwrap(), 5);
        assert!(parse_amount("a", "1.234", "USD").is_err());
    }

    #[test]
    fn formatting() {
        assert_eq!(format_amount(12800, "JPY"), "¥12,800");
        assert_eq!(
            (group_digits(0), group_digits(999), group_digits(-1_234_567)),
            ("0".into(), "999".into(), "-1,234,567".into())
        );
        assert_eq!(format_amount(-1234567, "JPY"), "-¥1,234,567");
        assert_eq!(format_amount(1234, "USD"), "$12.34");
        assert_eq!(format_amount(123450, "EUR"), "1,234.50 EUR");
    }
}
