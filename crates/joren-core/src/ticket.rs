//! Prepaid tickets (回数券) and visit passes: a plan sells N visits for a price, valid for some
//! months; each use takes one visit; the unused part can be refunded. Bought with money, so
//! their unused value is paid value under the Payment Services Act (資金決済法) — unless
//! usable only within 6 months of sale, which the plan reports. Pure rules; the store keeps
//! the counts.

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::FieldErrors;

/// A ticket plan as the owner defines it (e.g. 10 visits for the price of 9, 6 months).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketPlanInput {
    pub name: String,
    /// Visits the ticket holds.
    pub visits: i64,
    /// Price in yen (tax included).
    pub price: i64,
    /// Months the ticket can be used from the day of sale (0 = no expiry).
    pub valid_months: u32,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

impl TicketPlanInput {
    /// Checks the plan; every problem named by field.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::default();
        if self.name.trim().is_empty() || self.name.chars().count() > 100 {
            e.push("name", crate::Code::LengthRange).with(1).with(100);
        }
        if !(1..=1000).contains(&self.visits) {
            e.push("visits", crate::Code::RangeTimes).with(1).with(1000);
        }
        if !(0..=100_000_000).contains(&self.price) {
            e.push("price", crate::Code::RangeYen).with(0).with(100_000_000);
        }
        if self.valid_months > 120 {
            e.push("valid_months", crate::Code::RangeMonths).with(0).with(120);
        }
        if e.0.is_empty() { Ok(()) } else { Err(e) }
    }

    /// Whether the Payment Services Act's 6-month exemption applies (usable only within six
    /// months of sale, with the expiry enforced).
    pub fn within_six_months(&self) -> bool {
        (1..=6).contains(&self.valid_months)
    }
}

/// The last day a ticket sold on `sold_on` can be used (`None`: no expiry). Six months from
/// 2026-05-10 runs to 2026-11-09; from 2026-08-31 (no 31 February) to 2027-02-28.
pub fn last_day(sold_on: NaiveDate, valid_months: u32) -> Option<NaiveDate> {
    if valid_months == 0 {
        return None;
    }
    let same_date = sold_on.checked_add_months(Months::new(valid_months))?;
    if same_date.day() == sold_on.day() { same_date.pred_opt() } else { Some(same_date) }
}

/// The unused value of a ticket: its price in proportion to the visits left, rounded down
/// (the shop keeps the fraction of a yen). What a refund of the unused part pays back.
pub fn unused_value(price: i64, visits: i64, used: i64) -> i64 {
    if visits <= 0 {
        return 0;
    }
    let left = (visits - used).clamp(0, visits);
    (i128::from(price) * i128::from(left) / i128::from(visits)) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn validity_runs_to_the_day_before_the_same_date() {
        assert_eq!(last_day(d("2026-05-10"), 6), Some(d("2026-11-09")));
        assert_eq!(last_day(d("2026-08-31"), 6), Some(d("2027-02-28")), "no 31 February: its last day");
        assert_eq!(last_day(d("2026-05-10"), 0), None);
    }

    #[test]
    fn unused_value_is_the_price_in_proportion_rounded_down() {
        // 10 visits for ¥45,000 (the price of 9 at ¥5,000): 3 used → ¥31,500 back.
        assert_eq!(unused_value(45_000, 10, 3), 31_500);
        assert_eq!(unused_value(10_000, 3, 1), 6_666);
        assert_eq!(unused_value(10_000, 3, 3), 0);
        assert_eq!(unused_value(10_000, 3, 0), 10_000);
        assert_eq!(unused_value(10_000, 3, 9), 0);
    }

    #[test]
    fn plans_are_validated_by_field() {
        let p = TicketPlanInput { name: " ".into(), visits: 0, price: -1, valid_months: 200, active: true };
        let fields: Vec<String> = p.validate().unwrap_err().0.into_iter().map(|f| f.field).collect();
        assert_eq!(fields, ["name", "visits", "price", "valid_months"]);
        let ok = TicketPlanInput { name: "10回券".into(), visits: 10, price: 45_000, valid_months: 6, active: true };
        assert!(ok.validate().is_ok() && ok.within_six_months());
        assert!(!TicketPlanInput { valid_months: 0, ..ok.clone() }.within_six_months(), "no expiry: not exempt");
    }
}
