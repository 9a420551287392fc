//! Furigana (読み仮名) normalisation: whatever the user typed (hiragana, half-width katakana,
//! full-width katakana) is stored as full-width katakana, so that search and 50音 sorting work.

use unicode_normalization::UnicodeNormalization;

use crate::FieldError;

/// Normalises a reading to full-width katakana.
///
/// NFKC turns half-width katakana (ｶﾞ) into full-width (ガ) and full-width spaces into ASCII;
/// hiragana is shifted to katakana. Spaces are collapsed to one. Anything that is not kana, the
/// long vowel mark, a middle dot or a space is rejected, naming `field`.
pub fn normalize_kana(field: &str, input: &str) -> Result<String, FieldError> {
    let nfkc: String = input.nfkc().collect();
    let mut out = String::with_capacity(nfkc.len());
    let mut last_space = true;
    for c in nfkc.chars() {
        let c = hiragana_to_katakana(c);
        if c.is_whitespace() {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
            continue;
        }
        last_space = false;
        if is_katakana(c) {
            out.push(c);
        } else {
            return Err(FieldError::new(field, crate::Code::BadKana).arg(c));
        }
    }
    Ok(out.trim_end().to_string())
}

/// Lenient conversion for search queries: hiragana and half-width forms become full-width
/// katakana, everything else is kept (NFKC-normalised, lower-cased).
pub fn fold_for_search(input: &str) -> String {
    input.nfkc().map(hiragana_to_katakana).flat_map(char::to_lowercase).collect()
}

fn hiragana_to_katakana(c: char) -> char {
    match c {
        'ぁ'..='ゖ' | 'ゝ' | 'ゞ' => char::from_u32(c as u32 + 0x60).unwrap_or(c),
        _ => c,
    }
}

fn is_katakana(c: char) -> bool {
    matches!(c, 'ァ'..='ヺ' | 'ー' | 'ヽ' | 'ヾ' | '・')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hiragana_and_half_width_become_full_width_katakana() {
        assert_eq!(normalize_kana("k", "やまだ").unwrap(), "ヤマダ");
        assert_eq!(normalize_kana("k", "ﾔﾏﾀﾞ").unwrap(), "ヤマダ");
        assert_eq!(normalize_kana("k", "ｻﾄｳ　ﾀﾛｳ").unwrap(), "サトウ タロウ");
        assert_eq!(normalize_kana("k", "ヴァイオリン").unwrap(), "ヴァイオリン");
        assert_eq!(normalize_kana("k", "  ちょーこ  ").unwrap(), "チョーコ");
    }

    #[test]
    fn rejects_kanji_and_latin_naming_the_field() {
        let e = normalize_kana("family_name_kana", "山田").unwrap_err();
        assert_eq!(e.field, "family_name_kana");
        assert!(normalize_kana("k", "Yamada").is_err());
    }

    #[test]
    fn search_folding_matches_hiragana_query_to_katakana_data() {
        assert_eq!(fold_for_search("やまだ"), "ヤマダ");
        assert_eq!(fold_for_search("ＡＢＣ"), "abc");
    }
}
