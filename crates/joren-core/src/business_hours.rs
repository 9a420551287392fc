//! The shop's calendar: opening hours by weekday, the days it closes (Japanese public holidays
//! unless it opens on them, and its own closed days), and the deadlines counted on it — the
//! complaint's first response "within 24 hours" counts only the time the shop is open for
//! business days: a clock that starts at the next opening when a complaint arrives after hours
//! and stands still over closed days (a weekend, a public holiday, the shop's holidays).
//!
//! Japanese public holidays (国民の祝日) are computed by the law as in force since 2022: the
//! fixed days, the Happy Monday days, the equinoxes (the National Astronomical Observatory's
//! formula, valid 1980–2099), 振替休日 (a holiday on a Sunday moves to the next weekday that
//! is not a holiday) and 国民の休日 (a weekday between two holidays).

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// The name of a Japanese public holiday on `d` (None on other days).
pub fn jp_holiday(d: NaiveDate) -> Option<&'static str> {
    if let Some(name) = jp_named_holiday(d) {
        return Some(name);
    }
    // 振替休日: the first day after a Sunday holiday (and any holidays right after it) that
    // is not itself a holiday.
    let mut back = d.pred_opt()?;
    while jp_named_holiday(back).is_some() {
        if back.weekday() == Weekday::Sun {
            return Some("振替休日");
        }
        back = back.pred_opt()?;
    }
    // 国民の休日: a day between two holidays (not a Sunday, which is a rest day anyway).
    if d.weekday() != Weekday::Sun
        && jp_named_holiday(d.pred_opt()?).is_some()
        && jp_named_holiday(d.succ_opt()?).is_some()
    {
        return Some("国民の休日");
    }
    None
}

/// The nth (1-based) `weekday` of a month.
fn nth_weekday(year: i32, month: u32, weekday: Weekday, n: u32) -> NaiveDate {
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, n as u8).expect("a valid week of the month")
}

fn equinox_day(year: i32, base: f64) -> u32 {
    let y = f64::from(year - 1980);
    (base + 0.242194 * y - (y / 4.0).floor()).floor() as u32
}

/// The holidays the law names by date or rule (not the substitute ones).
fn jp_named_holiday(d: NaiveDate) -> Option<&'static str> {
    let (y, m, day) = (d.year(), d.month(), d.day());
    let name = match (m, day) {
        (1, 1) => "元日",
        (2, 11) => "建国記念の日",
        (2, 23) if y >= 2020 => "天皇誕生日",
        (4, 29) => "昭和の日",
        (5, 3) => "憲法記念日",
        (5, 4) => "みどりの日",
        (5, 5) => "こどもの日",
        (8, 11) if y >= 2016 => "山の日",
        (11, 3) => "文化の日",
        (11, 23) => "勤労感謝の日",
        _ => {
            return if d == nth_weekday(y, 1, Weekday::Mon, 2) {
                Some("成人の日")
            } else if d == nth_weekday(y, 7, Weekday::Mon, 3) {
                Some("海の日")
            } else if d == nth_weekday(y, 9, Weekday::Mon, 3) {
                Some("敬老の日")
            } else if d == nth_weekday(y, 10, Weekday::Mon, 2) {
                Some("スポーツの日")
            } else if m == 3 && day == equinox_day(y, 20.8431) {
                Some("春分の日")
            } else if m == 9 && day == equinox_day(y, 23.2488) {
                Some("秋分の日")
            } else {
                None
            };
        }
    };
    Some(name)
}

/// One weekday's opening hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hours {
    pub open: NaiveTime,
    pub close: NaiveTime,
}

/// The shop's calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calendar {
    /// Monday … Sunday; None is closed all day.
    pub week: [Option<Hours>; 7],
    /// Closed on Japanese public holidays (most shops and offices are).
    pub closed_on_holidays: bool,
    /// The shop's own closed days (年末年始, お盆, 臨時休業).
    pub closed_days: Vec<NaiveDate>,
}

impl Default for Calendar {
    /// Open 10:00–19:00 Monday to Friday, closed on weekends and public holidays.
    fn default() -> Self {
        let day = Some(Hours {
            open: NaiveTime::from_hms_opt(10, 0, 0).expect("10:00"),
            close: NaiveTime::from_hms_opt(19, 0, 0).expect("19:00"),
        });
        Self { week: [day, day, day, day, day, None, None], closed_on_holidays: true, closed_days: Vec::new() }
    }
}

impl Calendar {
    /// The hours the shop is open on `d` (None: closed all day).
    pub fn hours(&self, d: NaiveDate) -> Option<Hours> {
        if self.closed_days.contains(&d) || (self.closed_on_holidays && jp_holiday(d).is_some()) {
            return None;
        }
        self.week[d.weekday().num_days_from_monday() as usize].filter(|h| h.open < h.close)
    }

    /// Whether any weekday is open (a calendar closed every day gives no deadline).
    pub fn ever_open(&self) -> bool {
        self.week.iter().any(|h| h.is_some_and(|h| h.open < h.close))
    }

    /// The first moment at or after `t` when the shop is open (None when it never opens in
    /// the next two years).
    pub fn next_open(&self, t: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        let local = t.with_timezone(&tz);
        let mut day = local.date_naive();
        for _ in 0..731 {
            if let Some(h) = self.hours(day) {
                let open = at(day, h.open, tz);
                let close = at(day, h.close, tz);
                if t < close {
                    return Some(open.max(t));
                }
            }
            day = day.succ_opt()?;
        }
        None
    }

    /// The deadline `hours` after `start` counted on business days: the clock starts at the
    /// next opening (a complaint after hours is received the next business morning) and runs
    /// only through days the shop opens — closed days (weekends, holidays, its own) do not
    /// count. 24 hours after Friday 15:00 is Monday 15:00 for a shop closed at weekends.
    pub fn deadline(&self, start: DateTime<Utc>, hours: u32, tz: Tz) -> Option<DateTime<Utc>> {
        let begin = self.next_open(start, tz)?;
        let mut left = Duration::hours(i64::from(hours));
        let mut t = begin;
        let mut guard = 0;
        loop {
            guard += 1;
            if guard > 2_000 {
                return None;
            }
            let day = t.with_timezone(&tz).date_naive();
            let next_day = at(day.succ_opt()?, NaiveTime::MIN, tz);
            if self.hours(day).is_some() {
                let today = next_day - t;
                if left <= today {
                    return Some(t + left);
                }
                left -= today;
            }
            t = next_day;
        }
    }
}

/// The UTC instant of a local date and time (the earlier of two in a repeated hour; a time
/// skipped by a clock change moves forward an hour).
fn at(d: NaiveDate, time: NaiveTime, tz: Tz) -> DateTime<Utc> {
    let local = d.and_time(time);
    match tz.from_local_datetime(&local) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
        chrono::LocalResult::None => tz
            .from_local_datetime(&(local + Duration::hours(1)))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| Utc.from_utc_datetime(&local)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn the_public_holidays_of_2026_are_the_cabinet_offices() {
        // 内閣府「国民の祝日について」 2026: 18 days with 振替休日 and 国民の休日.
        let expected = [
            (d(2026, 1, 1), "元日"),
            (d(2026, 1, 12), "成人の日"),
            (d(2026, 2, 11), "建国記念の日"),
            (d(2026, 2, 23), "天皇誕生日"),
            (d(2026, 3, 20), "春分の日"),
            (d(2026, 4, 29), "昭和の日"),
            (d(2026, 5, 3), "憲法記念日"),
            (d(2026, 5, 4), "みどりの日"),
            (d(2026, 5, 5), "こどもの日"),
            (d(2026, 5, 6), "振替休日"),
            (d(2026, 7, 20), "海の日"),
            (d(2026, 8, 11), "山の日"),
            (d(2026, 9, 21), "敬老の日"),
            (d(2026, 9, 22), "国民の休日"),
            (d(2026, 9, 23), "秋分の日"),
            (d(2026, 10, 12), "スポーツの日"),
            (d(2026, 11, 3), "文化の日"),
            (d(2026, 11, 23), "勤労感謝の日"),
        ];
        let mut got = Vec::new();
        let mut day = d(2026, 1, 1);
        while day.year() == 2026 {
            if let Some(n) = jp_holiday(day) {
                got.push((day, n));
            }
            day = day.succ_opt().unwrap();
        }
        assert_eq!(got, expected);
        // 2025: 2/23 on a Sunday moves to 2/24; the autumn equinox on 9/23.
        assert_eq!(jp_holiday(d(2025, 2, 24)), Some("振替休日"));
        assert_eq!(jp_holiday(d(2025, 9, 23)), Some("秋分の日"));
        assert_eq!(jp_holiday(d(2025, 3, 20)), Some("春分の日"));
        assert_eq!(jp_holiday(d(2027, 3, 21)), Some("春分の日"));
        assert_eq!(jp_holiday(d(2027, 3, 22)), Some("振替休日"), "2027's equinox is a Sunday");
        assert_eq!(jp_holiday(d(2026, 12, 7)), None);
    }

    fn tokyo(y: i32, m: u32, day: u32, h: u32, min: u32) -> DateTime<Utc> {
        at(d(y, m, day), NaiveTime::from_hms_opt(h, min, 0).unwrap(), chrono_tz::Asia::Tokyo)
    }

    #[test]
    fn the_24_hour_rule_counts_business_days_only() {
        let cal = Calendar::default();
        let tz = chrono_tz::Asia::Tokyo;
        // Tuesday 2026-12-08 15:00: Wednesday 15:00.
        assert_eq!(cal.deadline(tokyo(2026, 12, 8, 15, 0), 24, tz), Some(tokyo(2026, 12, 9, 15, 0)));
        // Friday 15:00: the weekend does not count → Monday 15:00.
        assert_eq!(cal.deadline(tokyo(2026, 12, 11, 15, 0), 24, tz), Some(tokyo(2026, 12, 14, 15, 0)));
        // Tuesday 22:00 (after closing): received Wednesday 10:00 → Thursday 10:00.
        assert_eq!(cal.deadline(tokyo(2026, 12, 8, 22, 0), 24, tz), Some(tokyo(2026, 12, 10, 10, 0)));
        // Saturday: received Monday 10:00 → Tuesday 10:00.
        assert_eq!(cal.deadline(tokyo(2026, 12, 12, 11, 0), 24, tz), Some(tokyo(2026, 12, 15, 10, 0)));
        // Friday 2026-09-18 12:00 before the Silver Week (Sat, Sun, 敬老の日, 国民の休日,
        // 秋分の日): Thursday 9/24 12:00.
        assert_eq!(cal.deadline(tokyo(2026, 9, 18, 12, 0), 24, tz), Some(tokyo(2026, 9, 24, 12, 0)));
        // Before opening: the clock starts at 10:00 the same day.
        assert_eq!(cal.deadline(tokyo(2026, 12, 8, 7, 0), 24, tz), Some(tokyo(2026, 12, 9, 10, 0)));
        // The shop's own closed days (年末年始) and a shop open on holidays and Saturdays.
        let year_end = Calendar {
            closed_days: vec![d(2026, 12, 29), d(2026, 12, 30), d(2026, 12, 31), d(2027, 1, 2), d(2027, 1, 3)],
            ..Calendar::default()
        };
        // Monday 12/28 16:00 → 12/29–1/3 closed (1/1 a holiday) → Monday 1/4 16:00.
        assert_eq!(year_end.deadline(tokyo(2026, 12, 28, 16, 0), 24, tz), Some(tokyo(2027, 1, 4, 16, 0)));
        let mut open = Calendar { closed_on_holidays: false, ..Calendar::default() };
        open.week[5] = open.week[0];
        assert_eq!(open.deadline(tokyo(2026, 9, 18, 12, 0), 24, tz), Some(tokyo(2026, 9, 19, 12, 0)));
        assert_eq!(open.deadline(tokyo(2026, 9, 19, 12, 0), 24, tz), Some(tokyo(2026, 9, 21, 12, 0)), "Sunday closed");
        // Never open: no deadline rather than a loop.
        let closed = Calendar { week: [None; 7], ..Calendar::default() };
        assert!(!closed.ever_open());
        assert_eq!(closed.deadline(tokyo(2026, 12, 8, 15, 0), 24, tz), None);
    }
}
