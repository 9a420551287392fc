//! The shop's local time. Plain dates and times people type ("2026-03-01", "2026/03/01 18:30")
//! are read in the shop's zone, a `chrono_tz::Tz`, so a zone with summer time is read right
//! on either side of its changes (a fixed hour offset is not).

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
pub use chrono_tz::Tz;

/// The instant a local wall-clock time names in `tz`. A time that occurs twice (clocks going
/// back) is the first of the two; one that never occurs (clocks going forward) is read as the
/// moment the clocks jumped to.
pub fn local_to_utc(local: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    if let Some(t) = tz.from_local_datetime(&local).earliest() {
        return t.with_timezone(&Utc);
    }
    // In a gap: step forward a minute at a time to its end (gaps are at most a few hours).
    let mut probe = local;
    for _ in 0..(24 * 60) {
        probe += chrono::Duration::minutes(1);
        if let Some(t) = tz.from_local_datetime(&probe).earliest() {
            return t.with_timezone(&Utc);
        }
    }
    tz.from_utc_datetime(&local).with_timezone(&Utc)
}

/// Midnight at the start of `day` in `tz`.
pub fn start_of_day(day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    local_to_utc(day.and_time(NaiveTime::MIN), tz)
}

/// The local calendar day of `t` in `tz`.
pub fn local_date(t: DateTime<Utc>, tz: Tz) -> NaiveDate {
    t.with_timezone(&tz).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn tokyo_is_nine_hours_ahead_all_year() {
        let tz = chrono_tz::Asia::Tokyo;
        assert_eq!(local_to_utc(at("2026-01-15 09:00"), tz).to_rfc3339(), "2026-01-15T00:00:00+00:00");
        assert_eq!(local_to_utc(at("2026-07-15 09:00"), tz).to_rfc3339(), "2026-07-15T00:00:00+00:00");
        assert_eq!(
            start_of_day(NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(), tz).to_rfc3339(),
            "2026-02-28T15:00:00+00:00"
        );
    }

    #[test]
    fn summer_time_changes_are_read_without_failing() {
        let tz = chrono_tz::America::New_York;
        // Winter UTC-5, summer UTC-4: a fixed offset would be an hour off for half the year.
        assert_eq!(local_to_utc(at("2026-01-15 12:00"), tz).to_rfc3339(), "2026-01-15T17:00:00+00:00");
        assert_eq!(local_to_utc(at("2026-07-15 12:00"), tz).to_rfc3339(), "2026-07-15T16:00:00+00:00");
        // 8 March 2026 02:30 does not exist there: read as 03:00 summer time (07:00 UTC).
        assert_eq!(local_to_utc(at("2026-03-08 02:30"), tz).to_rfc3339(), "2026-03-08T07:00:00+00:00");
        // 1 November 2026 01:30 happens twice: the first (summer time) is taken.
        assert_eq!(local_to_utc(at("2026-11-01 01:30"), tz).to_rfc3339(), "2026-11-01T05:30:00+00:00");
        assert_eq!(local_date(local_to_utc(at("2026-07-15 23:30"), tz), tz).to_string(), "2026-07-15");
    }
}
