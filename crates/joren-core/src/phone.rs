//! Phone numbers: stored as E.164 (`+81…`), displayed in the national format (`090-1234-5678`).

use phonenumber::{Mode, country};
use unicode_normalization::UnicodeNormalization;

use crate::FieldError;

/// Parses a phone number as typed in Japan (national `03-1234-5678`, full-width digits, or
/// international `+81 …`) and returns it in E.164 form. Invalid numbers are rejected.
pub fn normalize_phone(field: &str, input: &str) -> Result<String, FieldError> {
    let folded: String = input.nfkc().collect();
    let cleaned: String = folded.chars().filter(|c| !matches!(c, '‐' | '－' | 'ー' | '―' | '−')).collect();
    let parsed = phonenumber::parse(Some(country::Id::JP), cleaned.trim())
        .map_err(|_| FieldError::new(field, crate::Code::BadPhone).arg(input))?;
    if !phonenumber::is_valid(&parsed) {
        return Err(FieldError::new(field, crate::Code::NoSuchPhoneNumber).arg(input));
    }
    Ok(parsed.format().mode(Mode::E164).to_string())
}

/// Formats an E.164 number for display: national format for Japanese numbers, international
/// otherwise. Unparseable input is returned unchanged.
pub fn display_phone(e164: &str) -> String {
    match phonenumber::parse(None, e164) {
        Ok(p) if p.country().id() == Some(country::Id::JP) => p.format().mode(Mode::National).to_string(),
        Ok(p) => p.format().mode(Mode::International).to_string(),
        Err(_) => e164.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japanese_numbers_become_e164() {
        assert_eq!(normalize_phone("phone", "090-1234-5678").unwrap(), "+819012345678");
        assert_eq!(normalize_phone("phone", "０３（１２３４）５６７８").unwrap(), "+81312345678");
        assert_eq!(normalize_phone("phone", "+81 6 6123 4567").unwrap(), "+81661234567");
    }

    #[test]
    fn invalid_numbers_are_rejected_with_field() {
        let e = normalize_phone("phone", "12").unwrap_err();
        assert_eq!(e.field, "phone");
        assert!(normalize_phone("phone", "not a number").is_err());
    }

    #[test]
    fn display_is_national_for_japan() {
        assert_eq!(display_phone("+819012345678"), "090-1234-5678");
        assert_eq!(display_phone("+81312345678"), "03-1234-5678");
    }
}
