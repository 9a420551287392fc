//! Postal code → address (都道府県, 市区町村, 町域) from Japan Post's KEN_ALL data, shipped
//! in the binary (`data/postcodes.txt`, built by `scripts/postcodes.py`; see there for its
//! source and layout). Read once, on the first lookup (≈ 125,000 lines, a few milliseconds).

use std::sync::OnceLock;

use serde::Serialize;

use crate::postal::{PREFECTURES, normalize_postal_code};

const TABLE: &str = include_str!("../data/postcodes.txt");

/// One address a postal code covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PostalAddress {
    /// `100-0001`.
    pub postal_code: String,
    pub prefecture: &'static str,
    pub city: &'static str,
    /// The 町域; empty when the code covers the whole 市区町村.
    pub town: &'static str,
}

struct Table {
    /// (JIS code, name) of each 市区町村, by code.
    cities: Vec<(u32, &'static str)>,
    /// (postal code, 市区町村 code, 町域), in postal-code order.
    codes: Vec<(u32, u32, &'static str)>,
}

fn table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| {
        let mut cities = Vec::with_capacity(2_000);
        let mut codes = Vec::with_capacity(130_000);
        let mut city = 0;
        for line in TABLE.lines() {
            if let Some(rest) = line.strip_prefix("C\t") {
                if let Some((code, name)) = rest.split_once('\t') {
                    cities.push((code.parse().unwrap_or(0), name));
                }
            } else if let Some(code) = line.strip_prefix('=') {
                city = code.parse().unwrap_or(0);
            } else if let Some((zip, town)) = line.split_once('\t') {
                codes.push((zip.parse().unwrap_or(0), city, town));
            }
        }
        cities.sort_unstable();
        Table { cities, codes }
    })
}

/// The addresses a postal code covers, as typed (`1000001`, `100-0001`, `〒１００－０００１`):
/// one for most codes, several where a code spans 町域 (or, rarely, 市区町村); none for a code
/// that is not Japan Post's or cannot be read.
pub fn lookup(input: &str) -> Vec<PostalAddress> {
    let Ok(code) = normalize_postal_code("postal_code", input) else { return Vec::new() };
    let Ok(zip) = code.replace('-', "").parse::<u32>() else { return Vec::new() };
    let t = table();
    let from = t.codes.partition_point(|c| c.0 < zip);
    t.codes[from..]
        .iter()
        .take_while(|c| c.0 == zip)
        .filter_map(|&(_, city, town)| {
            let name = t.cities.binary_search_by_key(&city, |c| c.0).ok().map(|i| t.cities[i].1)?;
            let prefecture = PREFECTURES.get((city / 1000).checked_sub(1)? as usize)?;
            Some(PostalAddress { postal_code: code.clone(), prefecture, city: name, town })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_gives_its_prefecture_city_and_town() {
        let a = lookup("104-0061");
        assert_eq!(
            a,
            [PostalAddress {
                postal_code: "104-0061".into(), prefecture: "東京都", city: "中央区", town: "銀座"
            }]
        );
        assert_eq!(lookup("〒１０４－００６１"), a, "typed the Japanese way");
        assert_eq!(lookup("1040061"), a);
        let sapporo = lookup("600001");
        assert_eq!((sapporo[0].prefecture, sapporo[0].city, sapporo[0].town), ("北海道", "札幌市中央区", "北一条西"));
        assert_eq!(sapporo[0].postal_code, "060-0001", "Excel's lost zero put back");
    }

    #[test]
    fn a_code_for_a_whole_city_has_no_town_and_some_codes_cover_many() {
        let whole = lookup("100-0000");
        assert_eq!((whole[0].city, whole[0].town), ("千代田区", ""));
        let many = lookup("452-0961");
        assert!(many.len() > 50 && many.iter().all(|a| a.city == "清須市"), "{many:?}");
        let two = lookup("498-0000");
        let prefs: Vec<&str> = two.iter().map(|a| a.prefecture).collect();
        assert!(prefs.contains(&"愛知県") && prefs.contains(&"三重県"), "{two:?}");
    }

    #[test]
    fn unknown_or_unreadable_codes_give_nothing() {
        assert!(lookup("000-0000").is_empty());
        assert!(lookup("abc").is_empty());
        assert!(lookup("").is_empty());
    }
}
