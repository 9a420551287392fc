//! A Japanese address written in one line (a 住所 column, a pasted address) split into the
//! fields Joren keeps: 〒, 都道府県, 市区町村, 町域・番地, 建物名.
//!
//! The split follows how addresses are written, without a gazetteer: the prefecture is one of
//! the 47 at the start; the municipality runs to its 市 (with the ward of a designated city,
//! 横浜市中区), to the 町/村 after a 郡, or to the ward of Tokyo (新宿区); the street runs
//! through the block number (`2-8-1`, `1丁目9番2号`); what follows the number, or the first
//! space, is the building. Whatever cannot be placed stays in the street, so nothing typed is
//! lost; the customer form shows the parts for the person to correct.

use crate::postal::PREFECTURES;

/// The parts of an address; empty strings for parts the line did not hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressParts {
    pub postal_code: String,
    pub prefecture: String,
    pub city: String,
    pub street: String,
    pub building: String,
}

/// Splits one line of address (full-width digits and signs read as half-width).
pub fn split_address(line: &str) -> AddressParts {
    let s = crate::text::half_width(line);
    let mut rest = s.trim();
    let mut out = AddressParts::default();
    // A postcode in front: 〒600-8001 / 600-8001 / 6008001.
    let after_mark = rest.strip_prefix('〒').unwrap_or(rest).trim_start();
    let code: String = after_mark.chars().take_while(|c| c.is_ascii_digit() || *c == '-').collect();
    let digits = code.chars().filter(char::is_ascii_digit).count();
    if digits == 7 && (code.len() == 7 || code.as_bytes().get(3) == Some(&b'-')) {
        out.postal_code = format!("{}-{}", &code.replace('-', "")[..3], &code.replace('-', "")[3..]);
        rest = after_mark[code.len()..].trim_start();
    }
    if let Some(p) = PREFECTURES.iter().find(|p| rest.starts_with(*p)) {
        out.prefecture = (*p).to_string();
        rest = rest[p.len()..].trim_start();
    }
    let city_len = municipality_len(rest);
    out.city = rest[..city_len].to_string();
    rest = rest[city_len..].trim_start();
    let (street, building) = street_and_building(rest);
    out.street = street.to_string();
    out.building = building.to_string();
    out
}

/// The length in bytes of the municipality at the start of `s` (0 when none is recognised).
fn municipality_len(s: &str) -> usize {
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let end_of = |i: usize| chars.get(i + 1).map_or(s.len(), |(b, _)| *b);
    let find = |from: usize, set: &[char]| (from..chars.len()).find(|&i| set.contains(&chars[i].1));
    // Within the first few characters only: a street name later on may hold 町 or 市.
    const WITHIN: usize = 8;
    // 郡: the town or village after it (北海道余市郡余市町).
    if let Some(g) = find(1, &['郡']).filter(|&g| g < WITHIN)
        && let Some(t) = find(g + 2, &['町', '村']).filter(|&t| t < g + WITHIN)
    {
        return end_of(t);
    }
    // 市, not as the first character (市川市), doubled when the name ends in it (四日市市).
    if let Some(mut c) = find(1, &['市']).filter(|&c| c < WITHIN) {
        if chars.get(c + 1).is_some_and(|(_, ch)| *ch == '市') {
            c += 1;
        }
        // A designated city's ward (横浜市中区, 大阪市北区).
        if let Some(w) = find(c + 2, &['区']).filter(|&w| w <= c + 4) {
            return end_of(w);
        }
        return end_of(c);
    }
    // Tokyo's wards (新宿区), or a town or village without its 郡.
    if let Some(w) = find(1, &['区', '町', '村']).filter(|&w| w < 5) {
        return end_of(w);
    }
    0
}

/// Splits the rest of an address after its block number: `西新宿2-8-1 都庁ビル` → (`西新宿2-8-1`,
/// `都庁ビル`). Without a number, at the first space.
fn street_and_building(s: &str) -> (&str, &str) {
    let number_part = |c: char, before: Option<char>| {
        c.is_ascii_digit()
            || matches!(c, '-' | '‐' | '−' | 'ー' | '丁' | '目' | '番' | '地' | '号' | 'の' | '条')
            // Sapporo's grid: 北1条西2丁目.
            || (before == Some('条') && matches!(c, '東' | '西' | '南' | '北'))
    };
    if let Some(start) = s.find(|c: char| c.is_ascii_digit()) {
        let mut before = None;
        let mut end = s.len();
        for (i, c) in s[start..].char_indices() {
            if !number_part(c, before) {
                end = start + i;
                break;
            }
            before = Some(c);
        }
        let street = s[..end].trim_end_matches(['-', '‐', '−', 'ー', 'の']);
        let building = s[street.len()..].trim_start_matches(['-', '‐', '−', 'ー', 'の']).trim();
        return (street.trim(), building);
    }
    match s.split_once(char::is_whitespace) {
        Some((street, building)) => (street.trim(), building.trim()),
        None => (s.trim(), ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(line: &str) -> [String; 5] {
        let p = split_address(line);
        [p.postal_code, p.prefecture, p.city, p.street, p.building]
    }

    #[test]
    fn one_line_addresses_split_into_their_parts() {
        let cases: &[(&str, [&str; 5])] = &[
            ("東京都新宿区西新宿2-8-1 都庁第一本庁舎", ["", "東京都", "新宿区", "西新宿2-8-1", "都庁第一本庁舎"]),
            ("〒600-8001 京都府京都市下京区四条通1-1", ["600-8001", "京都府", "京都市下京区", "四条通1-1", ""]),
            (
                "〒１００－０００５ 東京都千代田区丸の内１丁目９番２号グラントウキョウサウスタワー",
                ["100-0005", "東京都", "千代田区", "丸の内1丁目9番2号", "グラントウキョウサウスタワー"],
            ),
            ("神奈川県横浜市中区山下町279-25 101号室", ["", "神奈川県", "横浜市中区", "山下町279-25", "101号室"]),
            ("三重県四日市市諏訪町1-5", ["", "三重県", "四日市市", "諏訪町1-5", ""]),
            ("千葉県市川市八幡1-1-1", ["", "千葉県", "市川市", "八幡1-1-1", ""]),
            ("北海道余市郡余市町黒川町1-1", ["", "北海道", "余市郡余市町", "黒川町1-1", ""]),
            ("大阪府大阪市北区梅田3-1-3 ルクア10F", ["", "大阪府", "大阪市北区", "梅田3-1-3", "ルクア10F"]),
            ("6008001 京都府京都市下京区", ["600-8001", "京都府", "京都市下京区", "", ""]),
            ("札幌市中央区北1条西2丁目", ["", "", "札幌市中央区", "北1条西2丁目", ""]),
        ];
        for (line, want) in cases {
            assert_eq!(parts(line), want.map(str::to_string), "{line}");
        }
    }

    #[test]
    fn what_cannot_be_placed_stays_in_the_street() {
        assert_eq!(parts("駅前の青い建物"), ["", "", "", "駅前の青い建物", ""].map(str::to_string));
        assert_eq!(split_address(""), AddressParts::default());
    }
}
