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
        return Err(FieldError::new(field, "制御文字 (NUL など) は使えません"));
    }
    let n = value.chars().count();
    if n > max_chars {
        return Err(FieldError::new(field, format!("{max_chars}文字以内にしてください (いま {n}文字)")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_length_are_checked() {
        assert!(check_text("note", "一行目\r\n二行目\tタブ", 100).is_ok());
        assert_eq!(check_text("note", "a\0b", 100).unwrap_err().field, "note");
        assert!(check_text("note", "\u{7f}", 100).is_err());
        assert!(check_text("name", &"あ".repeat(201), SHORT_TEXT).is_err());
        assert!(check_text("name", &"あ".repeat(200), SHORT_TEXT).is_ok());
    }
}
