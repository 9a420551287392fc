//! Japanese postal codes (郵便番号): stored as `NNN-NNNN`.

use unicode_normalization::UnicodeNormalization;

use crate::FieldError;

/// Accepts `1000001`, `100-0001`, `〒100-0001` or full-width digits; returns `100-0001`. Six
/// digits alone (`600001`: a spreadsheet took the code for a number and dropped its leading
/// zero) are read with the zero put back (`060-0001`); see [`lost_leading_zero`].
pub fn normalize_postal_code(field: &str, input: &str) -> Result<String, FieldError> {
    if lost_leading_zero(input) {
        return normalize_postal_code(field, &format!("0{}", input.trim()));
    }
    let digits: String = input.nfkc().filter(char::is_ascii_digit).collect();
    let rest_ok = input.nfkc().all(|c| c.is_ascii_digit() || matches!(c, '〒' | '-' | '‐' | '−' | 'ー' | ' '));
    if digits.len() != 7 || !rest_ok {
        return Err(FieldError::new(field, crate::Code::BadPostalCode).arg(input));
    }
    Ok(format!("{}-{}", &digits[..3], &digits[3..]))
}

/// Whether `input` is six digits and nothing else: a postal code whose leading zero a
/// spreadsheet dropped (北海道's 0xx, 青森's 03x, …), to be padded and noted.
pub fn lost_leading_zero(input: &str) -> bool {
    let s: String = input.trim().nfkc().collect();
    s.len() == 6 && s.chars().all(|c| c.is_ascii_digit())
}

/// The 47 prefectures, in JIS X 0401 order.
pub const PREFECTURES: [&str; 47] = [
    "北海道",
    "青森県",
    "岩手県",
    "宮城県",
    "秋田県",
    "山形県",
    "福島県",
    "茨城県",
    "栃木県",
    "群馬県",
    "埼玉県",
    "千葉県",
    "東京都",
    "神奈川県",
    "新潟県",
    "富山県",
    "石川県",
    "福井県",
    "山梨県",
    "長野県",
    "岐阜県",
    "静岡県",
    "愛知県",
    "三重県",
    "滋賀県",
    "京都府",
    "大阪府",
    "兵庫県",
    "奈良県",
    "和歌山県",
    "鳥取県",
    "島根県",
    "岡山県",
    "広島県",
    "山口県",
    "徳島県",
    "香川県",
    "愛媛県",
    "高知県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "熊本県",
    "大分県",
    "宮崎県",
    "鹿児島県",
    "沖縄県",
];

/// Checks a prefecture name (都道府県) against the 47.
pub fn validate_prefecture(field: &str, input: &str) -> Result<String, FieldError> {
    let s = input.trim();
    if PREFECTURES.contains(&s) {
        Ok(s.to_string())
    } else {
        Err(FieldError::new(field, crate::Code::BadPrefecture).arg(input))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postal_codes_are_normalised() {
        assert_eq!(normalize_postal_code("p", "1000001").unwrap(), "100-0001");
        assert_eq!(normalize_postal_code("p", "〒１００－０００１").unwrap(), "100-0001");
        assert!(normalize_postal_code("p", "100-001").is_err());
        assert!(normalize_postal_code("p", "abc1000001").is_err());
        // Excel's doing: the leading zero put back.
        assert_eq!(normalize_postal_code("p", "600001").unwrap(), "060-0001");
        assert_eq!(normalize_postal_code("p", "１２３４５６").unwrap(), "012-3456");
        assert!(lost_leading_zero(" 600001 ") && !lost_leading_zero("60-0001") && !lost_leading_zero("6000011"));
        assert!(normalize_postal_code("p", "60-0001").is_err(), "a six-digit typo with a hyphen is not guessed");
    }

    #[test]
    fn prefectures_are_checked() {
        assert_eq!(validate_prefecture("pref", "東京都").unwrap(), "東京都");
        assert_eq!(PREFECTURES.len(), 47);
        assert!(validate_prefecture("pref", "東京").is_err());
    }
}
