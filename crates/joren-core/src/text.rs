//! Free text from people and files: which characters a field may hold and how long it may be.
//!
//! Documented limits (checked at the edge, a 422 or a row reject naming the field):
//! - a short text (a name, a tag, a product name, a reason): [`SHORT_TEXT`] characters;
//! - a note, a preference or any other long text: [`LONG_TEXT`] characters;
//! - a customer's tags: at most [`MAX_TAGS`];
//! - one CSV cell: [`MAX_CELL_BYTES`] bytes.
//!
//! No text field holds a control character other than tab, line feed and carriage return
//! (PostgreSQL refuses NUL outright; SQLite keeps it but every C string reader cuts there).

use crate::FieldError;

/// A name, a tag, a product name, a reason.
pub const SHORT_TEXT: usize = 200;
/// A note or any other long text.
pub const LONG_TEXT: usize = 10_000;
/// Tags on one customer.
pub const MAX_TAGS: usize = 100;
/// One cell of an imported CSV file.
pub const MAX_CELL_BYTES: usize = 40_000;

/// Whether `c` may not appear in a text field: the C0 controls except tab, LF and CR, and DEL.
pub fn is_forbidden_control(c: char) -> bool {
    (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{7f}'
}

/// Checks one text value: no forbidden control character and at most `max_chars` characters.
pub fn check_text(field: &str, value: &str, max_chars: usize) -> Result<(), FieldError> {
    if value.chars().any(is_forbidden_control) {
        return Err(FieldError::new(field, crate::Code::ControlChars));
    }
    let n = value.chars().count();
    if n > max_chars {
        return Err(FieldError::new(field, crate::Code::TooLong).arg(max_chars).arg(n));
    }
    Ok(())
}

/// Full-width letters, digits and signs as typed with a Japanese keyboard made ASCII
/// (`１０：００` → `10:00`, `￥` → `¥`), by Unicode compatibility normalisation (NFKC, as
/// [`crate::kana`] does for readings).
pub fn half_width(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.trim().nfkc().collect()
}

/// Reads a whole number the way people type it in Japan: full-width digits and signs
/// (`１００`, `－５`), thousands separators (`1,000`, `１，０００`), a yen or point sign
/// around it (`￥1,000`, `100円`, `50pt`) and spaces. None when anything else is left.
pub fn parse_int(s: &str) -> Option<i64> {
    let mut out = String::with_capacity(s.len());
    for c in half_width(s).chars() {
        let c = match c {
            '−' | 'ー' | '‐' => '-',
            ',' | '、' | ' ' | '¥' | '\\' | '円' => continue,
            c => c,
        };
        out.push(c);
    }
    let out = out.trim_end_matches("pt").trim_end_matches("ポイント");
    if out.is_empty() {
        return None;
    }
    out.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_read_as_typed_in_japan() {
        assert_eq!(parse_int("１００"), Some(100));
        assert_eq!(parse_int(" －５ "), Some(-5));
        assert_eq!(parse_int("￥1,000"), Some(1000));
        assert_eq!(parse_int("１，２００円"), Some(1200));
        assert_eq!(parse_int("50pt"), Some(50));
        assert_eq!(parse_int("7"), Some(7));
        assert_eq!(parse_int(""), None);
        assert_eq!(parse_int("十"), None);
        assert_eq!(parse_int("1.5"), None);
    }

    #[test]
    fn control_characters_and_length_are_checked() {
        assert!(check_text("note", "一行目\r\n二行目\tタブ", 100).is_ok());
        assert_eq!(check_text("note", "a\0b", 100).unwrap_err().field, "note");
        assert!(check_text("note", "\u{7f}", 100).is_err());
        assert!(check_text("name", &"あ".repeat(201), SHORT_TEXT).is_err());
        assert!(check_text("name", &"あ".repeat(200), SHORT_TEXT).is_ok());
    }
}
