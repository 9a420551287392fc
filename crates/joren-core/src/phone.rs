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

/// Whether a stored (E.164) number can take an SMS: a mobile number (070/080/090 in Japan),
/// or one the numbering plan cannot tell from a fixed line. A fixed line cannot.
pub fn can_receive_sms(e164: &str) -> bool {
    use phonenumber::Type;
    match phonenumber::parse(None, e164) {
        Ok(p) => matches!(
            p.number_type(&phonenumber::metadata::DATABASE),
            Type::Mobile | Type::FixedLineOrMobile | Type::Pager
        ),
        Err(_) => false,
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
    fn only_mobiles_take_sms() {
        assert!(can_receive_sms("+819012345678"));
        assert!(can_receive_sms("+818012345678"));
        assert!(can_receive_sms("+817012345678"));
        assert!(!can_receive_sms("+81312345678"), "a Tokyo fixed line");
        assert!(!can_receive_sms("not a number"));
    }

    #[test]
    fn display_is_national_for_japan() {
        assert_eq!(display_phone("+819012345678"), "090-1234-5678");
        assert_eq!(display_phone("+81312345678"), "03-1234-5678");
    }
}
