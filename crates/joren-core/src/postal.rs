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
    let rest_ok = input.nfkc().all(|c| c.is_ascii_digit() || matches!(c, '〒' | '-' | '‐' | '−' | 'ー' | ' ' | '\''));
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

/// The prefectures' romanised names, in the same order (as shop systems such as Shopify
/// export them: `Tokyo`, `Hyōgo`, `Osaka-fu`).
const PREFECTURES_ROMAJI: [&str; 47] = [
    "hokkaido",
    "aomori",
    "iwate",
    "miyagi",
    "akita",
    "yamagata",
    "fukushima",
    "ibaraki",
    "tochigi",
    "gunma",
    "saitama",
    "chiba",
    "tokyo",
    "kanagawa",
    "niigata",
    "toyama",
    "ishikawa",
    "fukui",
    "yamanashi",
    "nagano",
    "gifu",
    "shizuoka",
    "aichi",
    "mie",
    "shiga",
    "kyoto",
    "osaka",
    "hyogo",
    "nara",
    "wakayama",
    "tottori",
    "shimane",
    "okayama",
    "hiroshima",
    "yamaguchi",
    "tokushima",
    "kagawa",
    "ehime",
    "kochi",
    "fukuoka",
    "saga",
    "nagasaki",
    "kumamoto",
    "oita",
    "miyazaki",
    "kagoshima",
    "okinawa",
];

/// The prefecture's name in English (`Tokyo`, `Hyogo`), by its place in [`PREFECTURES`].
pub fn prefecture_in_english(i: usize) -> String {
    let r = PREFECTURES_ROMAJI.get(i).copied().unwrap_or_default();
    let mut c = r.chars();
    c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
}

/// Reads a prefecture (都道府県) as it is written: its name (`東京都`), without the suffix
/// (`東京`, `大阪`), romanised (`Tokyo`, `Hyōgo`, `Osaka-fu`, `Kyoto Prefecture`) or by its
/// JIS code (`13`, `JP-13`); answers the name. Anything else is refused.
pub fn validate_prefecture(field: &str, input: &str) -> Result<String, FieldError> {
    let s: String = input.trim().nfkc().collect();
    let found = PREFECTURES.iter().position(|p| *p == s).or_else(|| {
        // Without its 都/府/県 (北海道 keeps its 道).
        PREFECTURES.iter().position(|p| p.strip_suffix(['都', '府', '県']).is_some_and(|short| short == s))
    });
    let found = found.or_else(|| {
        let code = s.strip_prefix("JP-").or_else(|| s.strip_prefix("jp-")).unwrap_or(&s);
        code.parse::<usize>().ok().filter(|n| (1..=47).contains(n)).map(|n| n - 1)
    });
    let found = found.or_else(|| {
        let latin: String = s
            .to_lowercase()
            .replace(['ō', 'ô'], "o")
            .replace(['ū', 'û'], "u")
            .replace("prefecture", "")
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let latin = ["-ken", "-fu", "-to"]
            .iter()
            .fold(latin.clone(), |l, suffix| l.strip_suffix(suffix).map_or(l.clone(), str::to_string));
        PREFECTURES_ROMAJI.iter().position(|r| *r == latin)
    });
    match found {
        Some(i) => Ok(PREFECTURES[i].to_string()),
        None => Err(FieldError::new(field, crate::Code::BadPrefecture).arg(input)),
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
        assert_eq!(normalize_postal_code("p", "'100-0001").unwrap(), "100-0001", "Shopify's quoted zip");
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
        assert_eq!((prefecture_in_english(0), prefecture_in_english(12)), ("Hokkaido".into(), "Tokyo".into()));
        for (input, name) in [
            ("東京", "東京都"),
            ("大阪", "大阪府"),
            ("北海道", "北海道"),
            ("Tokyo", "東京都"),
            ("Hyōgo", "兵庫県"),
            ("Osaka-fu", "大阪府"),
            ("Kyoto Prefecture", "京都府"),
            ("JP-13", "東京都"),
            ("47", "沖縄県"),
        ] {
            assert_eq!(validate_prefecture("pref", input).unwrap(), name, "{input}");
        }
        for bad in ["東", "Tokio", "48", "JP-0", "北海", ""] {
            assert!(validate_prefecture("pref", bad).is_err(), "{bad}");
        }
    }
}
