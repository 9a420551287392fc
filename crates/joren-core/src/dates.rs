//! Dates as people in Japan type them: `2024-01-05`, `2024/1/5`, `2024.1.5`, `2024年1月5日`,
//! full-width digits (`２０２４／１／５`), and the Japanese eras (和暦) written out or by their
//! initial: `昭和55年3月3日`, `令和元年5月1日`, `S55.3.3`, `R6/4/1`, `平成3-4-1`, `昭55.3.3`.
//!
//! An era date must lie inside its era (`平成32年` does not exist; `昭和64年1月8日` is
//! `平成元年1月8日`), so a typing slip is refused rather than read as some other day.

use chrono::{Datelike, NaiveDate};

use crate::FieldError;

/// The eras since 1868: names, initials, first day (the first year is 元年).
const ERAS: [Era; 5] = [
    Era { names: &["令和", "令", "R"], first: (2019, 5, 1) },
    Era { names: &["平成", "平", "H"], first: (1989, 1, 8) },
    Era { names: &["昭和", "昭", "S"], first: (1926, 12, 25) },
    Era { names: &["大正", "大", "T"], first: (1912, 7, 30) },
    Era { names: &["明治", "明", "M"], first: (1868, 10, 23) },
];

struct Era {
    names: &'static [&'static str],
    first: (i32, u32, u32),
}

impl Era {
    fn first_day(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.first.0, self.first.1, self.first.2).expect("a real day")
    }
}

/// Reads a date typed or exported in any of the ways above; the error names `field` and
/// quotes what was given.
pub fn parse_date(field: &str, input: &str) -> Result<NaiveDate, FieldError> {
    read(input).ok_or_else(|| FieldError::new(field, crate::Code::BadDate).arg(input))
}

fn read(input: &str) -> Option<NaiveDate> {
    let s = crate::text::half_width(input);
    let s = s.trim();
    // The era, if the date starts with one (upper or lower case initial).
    let (era, rest) = match ERAS
        .iter()
        .enumerate()
        .find_map(|(i, e)| e.names.iter().find_map(|n| strip_prefix_ignore_case(s, n).map(|rest| (i, rest))))
    {
        Some((i, rest)) => (Some(&ERAS[i]), rest.trim_start()),
        None => (None, s),
    };
    let rest = rest.strip_prefix("元").map(|r| format!("1{r}")).unwrap_or_else(|| rest.to_string());
    let [y, m, d] = numbers(&rest)?;
    let date = match era {
        None => {
            // A Western year has four digits (`24/1/5` is too ambiguous to guess).
            if !(1000..=9999).contains(&y) {
                return None;
            }
            NaiveDate::from_ymd_opt(y as i32, m, d)?
        }
        Some(era) => {
            let start = era.first_day();
            let date = NaiveDate::from_ymd_opt(start.year() + y as i32 - 1, m, d)?;
            let index = ERAS.iter().position(|e| std::ptr::eq(e, era)).expect("one of the eras");
            // Inside the era: on or after its first day, before the next era's.
            let next = index.checked_sub(1).map(|n| ERAS[n].first_day());
            if y == 0 || date < start || next.is_some_and(|n| date >= n) {
                return None;
            }
            date
        }
    };
    Some(date)
}

/// `s` without a leading `prefix`, compared case-insensitively (for `s55.3.3`).
fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &s[prefix.len()..])
}

/// Exactly three numbers separated by `-`, `/`, `.`, or written `年 月 日`, and nothing else.
fn numbers(s: &str) -> Option<[u32; 3]> {
    let mut out = [0u32; 3];
    let mut n = 0;
    let mut digits = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            digits.push(c);
            if digits.len() > 4 {
                return None;
            }
            if chars.peek().is_some_and(char::is_ascii_digit) {
                continue;
            }
            if n == 3 {
                return None;
            }
            out[n] = digits.parse().ok()?;
            digits.clear();
            n += 1;
            while chars.next_if_eq(&' ').is_some() {}
            // What may follow each number.
            match chars.next() {
                None if n == 3 => {}
                Some('-' | '/' | '.') if n < 3 => {}
                Some('年') if n == 1 => {}
                Some('月') if n == 2 => {}
                Some('日') if n == 3 && chars.peek().is_none() => {}
                _ => return None,
            }
        } else if c != ' ' {
            return None;
        }
    }
    (n == 3).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, day)
    }

    #[test]
    fn western_dates_as_typed_and_exported() {
        for s in [
            "2024-01-05",
            "2024/1/5",
            "2024.1.5",
            "2024年1月5日",
            "２０２４／１／５",
            " 2024-1-05 ",
            "2024 年 1 月 5 日",
        ] {
            assert_eq!(read(s), d(2024, 1, 5), "{s}");
        }
        for s in [
            "",
            "2024",
            "2024/1",
            "24/1/5",
            "2024/13/1",
            "2024/2/30",
            "2024/1/5/6",
            "2024-01-05x",
            "1月5日",
            "2024年1月5日6",
        ] {
            assert_eq!(read(s), None, "{s}");
        }
    }

    #[test]
    fn era_dates_by_name_initial_and_first_year() {
        assert_eq!(read("昭和55年3月3日"), d(1980, 3, 3));
        assert_eq!(read("S55.3.3"), d(1980, 3, 3));
        assert_eq!(read("s55/3/3"), d(1980, 3, 3));
        assert_eq!(read("昭55.3.3"), d(1980, 3, 3));
        assert_eq!(read("Ｓ５５．３．３"), d(1980, 3, 3), "full-width");
        assert_eq!(read("R6/4/1"), d(2024, 4, 1));
        assert_eq!(read("令和元年5月1日"), d(2019, 5, 1));
        assert_eq!(read("平成元年1月8日"), d(1989, 1, 8));
        assert_eq!(read("H31.4.30"), d(2019, 4, 30));
        assert_eq!(read("大正15年12月24日"), d(1926, 12, 24));
        assert_eq!(read("明治45年7月29日"), d(1912, 7, 29));
    }

    #[test]
    fn era_dates_outside_their_era_are_refused() {
        for s in
            ["平成31年5月1日", "昭和64年1月8日", "令和元年4月30日", "平成0年1月1日", "S65.1.1", "R6/2/30", "X6/4/1"]
        {
            assert_eq!(read(s), None, "{s}");
        }
        let e = parse_date("birthday", "平成32年1月1日").unwrap_err();
        assert_eq!((e.field.as_str(), e.code), ("birthday", crate::Code::BadDate));
        assert_eq!(e.args, ["平成32年1月1日"]);
    }
}
