//! Memberships and subscriptions: plans with a price and a period, and the life of one
//! membership (start → renew … → pause / resume → cancel with a reason). The renewals give each
//! start-month cohort's survivor counts, the input of the shifted-beta-geometric model. Pure.

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::FieldErrors;

/// A membership plan (e.g. 月額会員 ¥3,300 every month).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipPlanInput {
    pub name: String,
    /// Price per period in yen (tax included).
    pub price: i64,
    /// Length of one period in months.
    pub period_months: u32,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

impl MembershipPlanInput {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::default();
        if self.name.trim().is_empty() || self.name.chars().count() > 100 {
            e.push("name", crate::Code::LengthRange).with(1).with(100);
        }
        if !(0..=10_000_000).contains(&self.price) {
            e.push("price", crate::Code::RangeYen).with(0).with(10_000_000);
        }
        if !(1..=24).contains(&self.period_months) {
            e.push("period_months", crate::Code::RangeMonths).with(1).with(24);
        }
        if e.0.is_empty() { Ok(()) } else { Err(e) }
    }
}

/// Why a member left (the churn reason report groups by these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    Price,
    NotUsing,
    Dissatisfied,
    Moved,
    Competitor,
    Other,
}

impl CancelReason {
    pub const ALL: [Self; 6] =
        [Self::Price, Self::NotUsing, Self::Dissatisfied, Self::Moved, Self::Competitor, Self::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Price => "price",
            Self::NotUsing => "not_using",
            Self::Dissatisfied => "dissatisfied",
            Self::Moved => "moved",
            Self::Competitor => "competitor",
            Self::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The label staff see.
    pub fn label_ja(self) -> &'static str {
        match self {
            Self::Price => "価格",
            Self::NotUsing => "利用していない",
            Self::Dissatisfied => "不満",
            Self::Moved => "転居",
            Self::Competitor => "他社へ乗り換え",
            Self::Other => "その他",
        }
    }
}

/// The last day paid for when a membership started on `start` has paid `months` months in all
/// (counted from the start, so periods do not drift): from 2026-01-31, one month runs to
/// 2026-02-27 and two to 2026-03-30.
pub fn period_end(start: NaiveDate, months: u32) -> NaiveDate {
    let next = start.checked_add_months(Months::new(months)).unwrap_or(start);
    next.pred_opt().unwrap_or(next)
}

/// Whole periods between the first day of `cohort_month` and `today` (how many renewals a
/// member of that start month could have made by now).
pub fn periods_elapsed(cohort_month: NaiveDate, today: NaiveDate, period_months: u32) -> u32 {
    let months = (today.year() - cohort_month.year()) * 12 + today.month() as i32 - cohort_month.month() as i32;
    u32::try_from(months.max(0)).unwrap_or(0) / period_months.max(1)
}

/// Survivor counts of one cohort for the sBG model: `alive[t]` = members who paid for period
/// `t + 1` (made at least `t` renewals), for `t = 0..=observed`. A paused member still counts.
pub fn survivors(renewals: &[u32], observed: u32) -> Vec<u64> {
    (0..=observed).map(|t| renewals.iter().filter(|r| **r >= t).count() as u64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn periods_end_the_day_before_the_next_starts() {
        assert_eq!(period_end(d("2026-04-10"), 1), d("2026-05-09"));
        assert_eq!(period_end(d("2026-04-10"), 12), d("2027-04-09"));
        assert_eq!(period_end(d("2026-01-31"), 1), d("2026-02-27"));
        assert_eq!(period_end(d("2026-01-31"), 2), d("2026-03-30"), "counted from the start: no drift");
    }

    #[test]
    fn cohorts_count_survivors_by_renewals() {
        assert_eq!(periods_elapsed(d("2026-01-01"), d("2026-07-15"), 1), 6);
        assert_eq!(periods_elapsed(d("2026-01-01"), d("2026-07-15"), 3), 2);
        assert_eq!(periods_elapsed(d("2026-08-01"), d("2026-07-15"), 1), 0);
        // Five members: renewed 0, 1, 3, 3 and 5 times; three periods observed.
        assert_eq!(survivors(&[0, 1, 3, 3, 5], 3), [5, 4, 3, 3]);
    }

    #[test]
    fn plans_and_reasons() {
        let bad = MembershipPlanInput { name: "".into(), price: -5, period_months: 0, active: true };
        let fields: Vec<String> = bad.validate().unwrap_err().0.into_iter().map(|f| f.field).collect();
        assert_eq!(fields, ["name", "price", "period_months"]);
        for r in CancelReason::ALL {
            assert_eq!(CancelReason::parse(r.as_str()), Some(r));
        }
        assert_eq!(CancelReason::parse("bored"), None);
    }
}
