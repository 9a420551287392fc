//! The referral programme (紹介, issue #20): each customer has a code of their own; a new
//! customer who comes with it is recorded as referred, and their first order rewards both
//! sides in points. The pure rules: the settings and their bounds, the shape of a code, and the
//! guards against a customer referring themselves (the same email, phone or address).

use serde::{Deserialize, Serialize};

use crate::customer::CustomerProfile;
use crate::error::{Code, FieldError};

/// The most points either side can be given for one referral.
pub const MAX_REWARD: i64 = 100_000;
/// The highest monthly limit that can be set (0: no limit).
pub const MAX_MONTHLY_LIMIT: u32 = 1_000;
/// A code's length and its letters: no 0/O, 1/I/L, so a code read aloud or copied from paper
/// is not mistaken.
pub const CODE_LEN: usize = 8;
pub const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// How referrals are rewarded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferralSettings {
    pub enabled: bool,
    /// Points for the customer who referred (0: none).
    pub referrer_points: i64,
    /// Points for the new customer (0: none).
    pub referred_points: i64,
    /// The most referrals one customer is rewarded for in a calendar month (the shop's zone;
    /// a reward taken back does not count); the rest still count, and the new customer is
    /// still rewarded. 0: no limit.
    pub monthly_limit: u32,
}

impl Default for ReferralSettings {
    fn default() -> Self {
        Self { enabled: false, referrer_points: 500, referred_points: 500, monthly_limit: 5 }
    }
}

impl ReferralSettings {
    /// Checks the bounds, naming the field.
    pub fn check(&self) -> Result<(), FieldError> {
        for (field, v) in [("referrer_points", self.referrer_points), ("referred_points", self.referred_points)] {
            if !(0..=MAX_REWARD).contains(&v) {
                return Err(FieldError::new(field, Code::Range).arg(0).arg(MAX_REWARD));
            }
        }
        if self.monthly_limit > MAX_MONTHLY_LIMIT {
            return Err(FieldError::new("monthly_limit", Code::Range).arg(0).arg(MAX_MONTHLY_LIMIT));
        }
        Ok(())
    }
}

/// A code as typed: full-width letters and digits, lower case, spaces and hyphens are read
/// (`ｂｃｄ-２３４` is `BCD234`); None when what is left is not a code's shape.
pub fn normalize_code(input: &str) -> Option<String> {
    let code: String = crate::text::half_width(input)
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '\u{3000}'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == CODE_LEN && code.bytes().all(|b| CODE_ALPHABET.contains(&b))).then_some(code)
}

/// A new code from `random` bytes (one letter per byte, by rejection so every letter is as
/// likely): None when the bytes ran out first (the caller draws more).
pub fn code_from_bytes(random: &[u8]) -> Option<String> {
    let n = CODE_ALPHABET.len();
    let limit = 256 - 256 % n;
    let code: String = random
        .iter()
        .filter(|&&b| (b as usize) < limit)
        .take(CODE_LEN)
        .map(|&b| CODE_ALPHABET[b as usize % n] as char)
        .collect();
    (code.len() == CODE_LEN).then_some(code)
}

/// A customer's address as one comparable string (postal code and the street, full-width and
/// spaces folded), None when too little is known to compare.
fn address_key(p: &CustomerProfile) -> Option<String> {
    let fold = |s: &Option<String>| {
        crate::text::half_width(s.as_deref().unwrap_or_default())
            .chars()
            .filter(|c| !c.is_whitespace() && !matches!(c, '-' | 'ー' | '−'))
            .collect::<String>()
    };
    let street = fold(&p.street);
    if street.is_empty() {
        return None;
    }
    Some(format!("{}|{}{}{}|{}", fold(&p.postal_code), fold(&p.prefecture), fold(&p.city), street, fold(&p.building)))
}

/// Refuses a referral of a customer by themselves: the same record, or the same email, phone
/// or address as the customer who referred (the field that matched is named).
pub fn check_not_self(referrer: (i64, &CustomerProfile), referred: (i64, &CustomerProfile)) -> Result<(), FieldError> {
    let ((a_id, a), (b_id, b)) = (referrer, referred);
    let same = |x: &Option<String>, y: &Option<String>| x.is_some() && x == y;
    let lower = |x: &Option<String>| x.as_ref().map(|e| e.to_lowercase());
    let field = if a_id == b_id {
        Some("customer_id")
    } else if same(&lower(&a.email), &lower(&b.email)) {
        Some("email")
    } else if same(&a.phone, &b.phone) {
        Some("phone")
    } else if address_key(a).is_some() && address_key(a) == address_key(b) {
        Some("address")
    } else {
        None
    };
    match field {
        Some(f) => Err(FieldError::new(f, Code::SelfReferral)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(email: Option<&str>, phone: Option<&str>, street: Option<&str>) -> CustomerProfile {
        CustomerProfile {
            email: email.map(Into::into),
            phone: phone.map(Into::into),
            postal_code: street.map(|_| "150-0001".into()),
            prefecture: street.map(|_| "東京都".into()),
            city: street.map(|_| "渋谷区".into()),
            street: street.map(Into::into),
            ..CustomerProfile::default()
        }
    }

    #[test]
    fn a_customer_cannot_refer_themselves_by_any_shared_detail() {
        let a = person(Some("a@example.jp"), Some("+819011112222"), Some("神宮前1-2-3"));
        let field = |b: &CustomerProfile, id: i64| check_not_self((1, &a), (id, b)).map_err(|e| e.field);
        assert_eq!(field(&a, 1), Err("customer_id".into()));
        assert_eq!(field(&person(Some("A@example.jp"), None, None), 2), Err("email".into()));
        assert_eq!(field(&person(Some("b@example.jp"), Some("+819011112222"), None), 2), Err("phone".into()));
        // The same street written with full-width digits and another dash is the same address.
        assert_eq!(field(&person(None, None, Some("神宮前１ー２ー３")), 2), Err("address".into()));
        // Another building at the same street number is another household.
        let mut flat = person(None, None, Some("神宮前1-2-3"));
        flat.building = Some("ハイツ201".into());
        assert_eq!(field(&flat, 2), Ok(()));
        assert_eq!(field(&person(Some("b@example.jp"), Some("+819033334444"), Some("神宮前4-5-6")), 2), Ok(()));
        // Nothing known matches nothing.
        assert_eq!(check_not_self((1, &CustomerProfile::default()), (2, &CustomerProfile::default())), Ok(()));
    }

    #[test]
    fn codes_are_read_as_typed_and_drawn_evenly() {
        assert_eq!(normalize_code("ｂｃｄｅ-２３４５"), Some("BCDE2345".into()));
        assert_eq!(normalize_code(" abcd 2345 "), Some("ABCD2345".into()));
        assert_eq!(normalize_code("ABCD0123"), None, "0 and 1 are never in a code");
        assert_eq!(normalize_code("ABC"), None);
        // Bytes above the last whole multiple of the alphabet are skipped.
        let n = CODE_ALPHABET.len() as u8;
        let skipped = 255u8;
        assert!(skipped as usize >= 256 - 256 % CODE_ALPHABET.len());
        let bytes = [skipped, 0, 1, 2, 3, n, n + 1, 4, 5];
        assert_eq!(code_from_bytes(&bytes), Some("ABCDABEF".into()));
        assert_eq!(code_from_bytes(&[0, 1, 2]), None);
    }

    #[test]
    fn settings_are_bounded() {
        assert!(ReferralSettings::default().check().is_ok());
        let s = ReferralSettings { referrer_points: MAX_REWARD + 1, ..ReferralSettings::default() };
        assert_eq!(s.check().unwrap_err().field, "referrer_points");
        let s = ReferralSettings { referred_points: -1, ..ReferralSettings::default() };
        assert_eq!(s.check().unwrap_err().field, "referred_points");
        let s = ReferralSettings { monthly_limit: MAX_MONTHLY_LIMIT + 1, ..ReferralSettings::default() };
        assert_eq!(s.check().unwrap_err().field, "monthly_limit");
    }
}
