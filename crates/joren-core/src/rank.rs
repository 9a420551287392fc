//! Ranks (tiers such as レギュラー / シルバー / ゴールド / プラチナ): rules over what a customer
//! did in a window — spend, orders or earned points, never the current balance — and the
//! decisions they lead to. Pure: the store supplies the measured values and applies what these
//! functions decide.
//!
//! The model:
//! - A customer's **level** is an index into [`RankRules::tiers`] (0 = the base tier, which
//!   every customer without a rank has). Tiers are named by the owner; history keeps the name
//!   at the time of each change.
//! - **Upgrade immediately**: whenever the value over the current window (ending today)
//!   reaches a higher tier — after each order, and on the daily run for values that grow
//!   without an order (pending points becoming available).
//! - **Downgrade only at a review**: on review dates (the 1st of each month for a rolling
//!   window, 1 January for a calendar year) the period just ended is judged. Below the held
//!   tier, the customer first uses up `grace_reviews` failing reviews, then falls to the tier
//!   the period qualifies for (or one tier, with `step_down_one`).

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::FieldErrors;

/// What a rank is earned by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RankMeasure {
    /// Yen spent (order totals, less refunds; cancelled orders excluded).
    Spend,
    /// Orders placed (cancelled and wholly refunded orders excluded).
    Orders,
    /// Points earned by orders and bonuses, counted once they are spendable (pending points
    /// count when their return window ends), less reversals.
    EarnedPoints,
}

impl RankMeasure {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Spend => "spend",
            Self::Orders => "orders",
            Self::EarnedPoints => "earned_points",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "spend" => Self::Spend,
            "orders" => Self::Orders,
            "earned_points" => Self::EarnedPoints,
            _ => return None,
        })
    }
}

/// The period a rank is judged over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RankWindow {
    /// The last `months` months up to today; reviewed on the 1st of every month.
    Rolling { months: u32 },
    /// The calendar year so far; reviewed every 1 January on the whole year just ended.
    CalendarYear,
}

/// One tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tier {
    /// Shown to staff and customers (e.g. ゴールド).
    pub name: String,
    /// The value (yen, orders or points, per the measure) the window must reach.
    pub threshold: i64,
    /// Points multiplier of the tier's members (100 = ×1.0, 150 = ×1.5).
    pub points_multiplier_percent: i64,
}

/// The rank rules of a programme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RankRules {
    pub enabled: bool,
    pub measure: RankMeasure,
    pub window: RankWindow,
    /// Ascending thresholds; the first is the base tier with threshold 0.
    pub tiers: Vec<Tier>,
    /// Failing reviews a customer keeps the tier through before a downgrade.
    #[serde(default)]
    pub grace_reviews: u32,
    /// A downgrade falls one tier at a time instead of straight to the tier qualified for.
    #[serde(default)]
    pub step_down_one: bool,
}

impl Default for RankRules {
    /// Off; four tiers on the last 12 months' spend: レギュラー, シルバー ¥30,000 (×1.2),
    /// ゴールド ¥100,000 (×1.5), プラチナ ¥300,000 (×2.0); no grace.
    fn default() -> Self {
        let tier = |name: &str, threshold, points_multiplier_percent| Tier {
            name: name.to_string(),
            threshold,
            points_multiplier_percent,
        };
        Self {
            enabled: false,
            measure: RankMeasure::Spend,
            window: RankWindow::Rolling { months: 12 },
            tiers: vec![
                tier("レギュラー", 0, 100),
                tier("シルバー", 30_000, 120),
                tier("ゴールド", 100_000, 150),
                tier("プラチナ", 300_000, 200),
            ],
            grace_reviews: 0,
            step_down_one: false,
        }
    }
}

/// What a review decides for one customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewOutcome {
    /// Stays (or is confirmed) at the held level; failing reviews counted so far reset.
    Keep,
    /// Rises to this level (the period qualified higher than held).
    Up(usize),
    /// Below the held level but kept: this is failing review number `used`.
    Grace { used: u32 },
    /// Falls to this level.
    Down(usize),
}

impl RankRules {
    /// The highest level `value` qualifies for.
    pub fn qualifying_level(&self, value: i64) -> usize {
        self.tiers.iter().rposition(|t| value >= t.threshold).unwrap_or(0)
    }

    /// A stored level as it stands in these rules (tiers removed since: the top one left).
    pub fn clamp_level(&self, level: i64) -> usize {
        usize::try_from(level).unwrap_or(0).min(self.tiers.len().saturating_sub(1))
    }

    /// The tier's name, or an empty string if the rules have no tiers.
    pub fn tier_name(&self, level: usize) -> &str {
        self.tiers.get(level).map(|t| t.name.as_str()).unwrap_or_default()
    }

    /// The points multiplier of a level (100 when ranks are off).
    pub fn multiplier_percent(&self, level: usize) -> i64 {
        if !self.enabled {
            return 100;
        }
        self.tiers.get(level).map(|t| t.points_multiplier_percent).unwrap_or(100)
    }

    /// The window an upgrade on `today` is judged over: first and last local day, inclusive.
    pub fn current_window(&self, today: NaiveDate) -> (NaiveDate, NaiveDate) {
        match self.window {
            RankWindow::Rolling { months } => (start_of_rolling(today, months), today),
            RankWindow::CalendarYear => (year_start(today.year()), today),
        }
    }

    /// The last review date on or before `day`.
    pub fn review_on_or_before(&self, day: NaiveDate) -> NaiveDate {
        match self.window {
            RankWindow::Rolling { .. } => day.with_day(1).unwrap_or(day),
            RankWindow::CalendarYear => year_start(day.year()),
        }
    }

    /// The first review date after `day`.
    pub fn next_review_after(&self, day: NaiveDate) -> NaiveDate {
        let this = self.review_on_or_before(day);
        match self.window {
            RankWindow::Rolling { .. } => this.checked_add_months(Months::new(1)).unwrap_or(this),
            RankWindow::CalendarYear => year_start(day.year() + 1),
        }
    }

    /// The period a review on `review` judges: the window that ended the day before.
    pub fn review_window(&self, review: NaiveDate) -> (NaiveDate, NaiveDate) {
        let last = review.pred_opt().unwrap_or(review);
        match self.window {
            RankWindow::Rolling { months } => (start_of_rolling(last, months), last),
            RankWindow::CalendarYear => (year_start(last.year()), last),
        }
    }

    /// The level to rise to now, if `value` over the current window beats the held `level`.
    pub fn upgrade(&self, level: usize, value: i64) -> Option<usize> {
        let q = self.qualifying_level(value);
        (self.enabled && q > level).then_some(q)
    }

    /// What a review decides for a customer held at `level` with `grace_used` failing reviews
    /// so far, whose reviewed period reached `value`.
    pub fn review(&self, level: usize, grace_used: u32, value: i64) -> ReviewOutcome {
        let q = self.qualifying_level(value);
        if q > level {
            ReviewOutcome::Up(q)
        } else if q == level {
            ReviewOutcome::Keep
        } else if grace_used < self.grace_reviews {
            ReviewOutcome::Grace { used: grace_used + 1 }
        } else if self.step_down_one {
            ReviewOutcome::Down(level - 1)
        } else {
            ReviewOutcome::Down(q)
        }
    }

    /// What is still missing to reach the next tier above `level` (None at the top).
    pub fn to_next_tier(&self, level: usize, value: i64) -> Option<(usize, i64)> {
        let next = level + 1;
        self.tiers.get(next).map(|t| (next, (t.threshold - value).max(0)))
    }

    /// Checks the rules; problems are named `ranks.…`.
    pub fn validate(&self, errors: &mut FieldErrors) {
        if let RankWindow::Rolling { months } = self.window
            && !(1..=36).contains(&months)
        {
            errors.push("ranks.window.months", crate::Code::RangeMonths).with(1).with(36);
        }
        if self.tiers.is_empty() {
            errors.push("ranks.tiers", crate::Code::NeedTiers);
        }
        if self.tiers.len() > 10 {
            errors.push("ranks.tiers", crate::Code::TooMany).with(10);
        }
        if self.grace_reviews > 12 {
            errors.push("ranks.grace_reviews", crate::Code::RangeTimes).with(0).with(12);
        }
        for (i, t) in self.tiers.iter().enumerate() {
            if t.name.trim().is_empty() {
                errors.push(&format!("ranks.tiers[{i}].name"), crate::Code::Required);
            }
            if self.tiers[..i].iter().any(|o| o.name.trim() == t.name.trim()) {
                errors.push(&format!("ranks.tiers[{i}].name"), crate::Code::TierNameTaken);
            }
            if i == 0 && t.threshold != 0 {
                errors.push("ranks.tiers[0].threshold", crate::Code::FirstTierZero);
            }
            if i > 0 && t.threshold <= self.tiers[i - 1].threshold {
                errors.push(&format!("ranks.tiers[{i}].threshold"), crate::Code::TierNotIncreasing);
            }
            if !(0..=1_000_000_000).contains(&t.threshold) {
                errors.push(&format!("ranks.tiers[{i}].threshold"), crate::Code::Range).with(0).with(1_000_000_000);
            }
            if !(100..=1_000).contains(&t.points_multiplier_percent) {
                errors
                    .push(&format!("ranks.tiers[{i}].points_multiplier_percent"), crate::Code::RangePercent)
                    .with(100)
                    .with(1000);
            }
        }
    }
}

fn year_start(year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(NaiveDate::MIN)
}

/// First day of a `months`-month window ending on `last` (12 months ending 2026-05-10 start
/// 2025-05-11).
fn start_of_rolling(last: NaiveDate, months: u32) -> NaiveDate {
    last.checked_sub_months(Months::new(months)).and_then(|d| d.succ_opt()).unwrap_or(NaiveDate::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn rules() -> RankRules {
        RankRules { enabled: true, ..RankRules::default() }
    }

    #[test]
    fn thresholds_pick_the_highest_tier_reached() {
        let r = rules();
        assert_eq!(r.qualifying_level(0), 0);
        assert_eq!(r.qualifying_level(29_999), 0);
        assert_eq!(r.qualifying_level(30_000), 1);
        assert_eq!(r.qualifying_level(299_999), 2);
        assert_eq!(r.qualifying_level(5_000_000), 3);
        assert_eq!(r.upgrade(1, 100_000), Some(2));
        assert_eq!(r.upgrade(2, 100_000), None, "same tier is no upgrade");
        assert_eq!(r.upgrade(3, 0), None, "never a downgrade outside a review");
        assert_eq!(RankRules::default().upgrade(0, 1_000_000), None, "off");
        assert_eq!(r.to_next_tier(1, 80_000), Some((2, 20_000)));
        assert_eq!(r.to_next_tier(3, 0), None);
    }

    #[test]
    fn rolling_windows_and_monthly_reviews() {
        let r = rules();
        assert_eq!(r.current_window(d("2026-05-10")), (d("2025-05-11"), d("2026-05-10")));
        assert_eq!(r.current_window(d("2024-02-29")), (d("2023-03-01"), d("2024-02-29")));
        assert_eq!(r.review_on_or_before(d("2026-05-10")), d("2026-05-01"));
        assert_eq!(r.next_review_after(d("2026-05-01")), d("2026-06-01"));
        assert_eq!(r.next_review_after(d("2026-12-31")), d("2027-01-01"));
        assert_eq!(r.review_window(d("2026-06-01")), (d("2025-06-01"), d("2026-05-31")));
    }

    #[test]
    fn calendar_years_are_judged_whole_on_1_january() {
        let r = RankRules { window: RankWindow::CalendarYear, ..rules() };
        assert_eq!(r.current_window(d("2026-11-23")), (d("2026-01-01"), d("2026-11-23")));
        assert_eq!(r.review_on_or_before(d("2026-11-23")), d("2026-01-01"));
        assert_eq!(r.next_review_after(d("2026-01-01")), d("2027-01-01"));
        assert_eq!(r.next_review_after(d("2026-12-31")), d("2027-01-01"));
        assert_eq!(r.review_window(d("2027-01-01")), (d("2026-01-01"), d("2026-12-31")));
    }

    #[test]
    fn reviews_keep_grant_grace_and_fall() {
        let r = RankRules { grace_reviews: 1, ..rules() };
        assert_eq!(r.review(2, 0, 150_000), ReviewOutcome::Keep);
        assert_eq!(r.review(1, 0, 150_000), ReviewOutcome::Up(2));
        assert_eq!(r.review(3, 0, 10_000), ReviewOutcome::Grace { used: 1 });
        assert_eq!(r.review(3, 1, 10_000), ReviewOutcome::Down(0), "grace used up: to the tier qualified for");
        let one_step = RankRules { step_down_one: true, ..rules() };
        assert_eq!(one_step.review(3, 0, 10_000), ReviewOutcome::Down(2));
        assert_eq!(one_step.review(0, 0, 0), ReviewOutcome::Keep);
    }

    #[test]
    fn removed_tiers_clamp_and_multipliers_apply_only_when_on() {
        let r = rules();
        assert_eq!(r.clamp_level(7), 3);
        assert_eq!(r.clamp_level(-1), 0);
        assert_eq!(r.multiplier_percent(2), 150);
        assert_eq!(RankRules::default().multiplier_percent(2), 100);
        assert_eq!(r.tier_name(1), "シルバー");
    }

    #[test]
    fn validation_names_the_field() {
        let mut r = rules();
        r.tiers[0].threshold = 5;
        r.tiers[2].threshold = 20_000;
        r.tiers[3].name = " ".into();
        r.tiers[1].points_multiplier_percent = 50;
        r.window = RankWindow::Rolling { months: 0 };
        let mut e = FieldErrors::default();
        r.validate(&mut e);
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        for f in [
            "ranks.window.months",
            "ranks.tiers[0].threshold",
            "ranks.tiers[2].threshold",
            "ranks.tiers[3].name",
            "ranks.tiers[1].points_multiplier_percent",
        ] {
            assert!(fields.contains(&f), "{f} missing from {fields:?}");
        }
        let mut ok = FieldErrors::default();
        rules().validate(&mut ok);
        assert!(ok.0.is_empty());
    }
}
