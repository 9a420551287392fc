//! A shop's points programme as the owner configures it once: the earn rule, how long points
//! live, the return window, what a refund of already-spent points does, campaigns that
//! multiply points, and the first-purchase bonus. Pure: it says how many points an order earns
//! and validates itself; the store applies it inside the order's transaction.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::FieldErrors;
use crate::points::{EarnRule, ExpiryPolicy, ShortfallPolicy};
use crate::rank::RankRules;

/// A period in which points are multiplied, optionally only on one product category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Campaign {
    pub name: String,
    /// First and last local day (inclusive).
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// 200 = double points.
    pub multiplier_percent: i64,
    /// Only items of this category earn the extra points; `None`: the whole order.
    #[serde(default)]
    pub category: Option<String>,
    /// Only customers in this RFM segment (its code: `dormant`, `at_risk`, …, as of the
    /// newest metrics snapshot) earn it; `None`: everyone.
    #[serde(default)]
    pub segment: Option<String>,
    /// Only customers at this rank level or above (0 = the first tier) earn it; `None`:
    /// everyone.
    #[serde(default)]
    pub min_rank: Option<usize>,
}

impl Campaign {
    /// Whether `buyer` is one of the customers the campaign is for.
    pub fn is_for(&self, buyer: &Buyer<'_>) -> bool {
        self.segment.as_deref().is_none_or(|s| buyer.segment == Some(s))
            && self.min_rank.is_none_or(|level| buyer.rank_level >= level)
    }
}

/// Who places an order, as far as what it earns goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Buyer<'a> {
    /// The rank level held before the order (0: the first tier, or ranks off).
    pub rank_level: usize,
    /// That rank's points multiplier (100: none).
    pub rank_multiplier_percent: i64,
    /// The customer's RFM segment code now (`None`: not scored yet).
    pub segment: Option<&'a str>,
    pub first_order: bool,
}

impl Buyer<'_> {
    /// A customer with no rank, segment or earlier order to consider.
    pub fn anyone() -> Self {
        Buyer { rank_level: 0, rank_multiplier_percent: 100, segment: None, first_order: false }
    }
}

/// The programme settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Programme {
    /// Orders earn nothing while off (redemptions and expiry of existing points continue).
    pub enabled: bool,
    pub earn: EarnRule,
    pub expiry: ExpiryPolicy,
    /// Days earned points stay pending (the return window) before they can be spent.
    pub pending_days: u32,
    pub shortfall: ShortfallPolicy,
    /// Extra points on a customer's first order.
    #[serde(default)]
    pub first_purchase_bonus: i64,
    /// Points for each customer with a birthday on file, once a year.
    #[serde(default)]
    pub birthday_bonus: BirthdayBonus,
    /// Points for an answered satisfaction survey, once per survey response; 0 is off.
    #[serde(default)]
    pub survey_bonus: i64,
    #[serde(default)]
    pub campaigns: Vec<Campaign>,
    /// Minutes a reserved redemption holds its points before it is cancelled by itself.
    pub reservation_minutes: u32,
    /// Ranks and their points multipliers.
    #[serde(default)]
    pub ranks: RankRules,
}

impl Default for Programme {
    /// 1 point per ¥100 tax included (fractions dropped), valid 12 months to the month end,
    /// 14 days pending, spent points of a refunded order taken from other lots.
    fn default() -> Self {
        Self {
            enabled: true,
            earn: EarnRule::default(),
            expiry: ExpiryPolicy::FixedTerm { months: 12, end_of_month: true },
            pending_days: 14,
            shortfall: ShortfallPolicy::DeductOtherLots,
            first_purchase_bonus: 0,
            birthday_bonus: BirthdayBonus::default(),
            survey_bonus: 0,
            campaigns: Vec::new(),
            reservation_minutes: 30,
            ranks: RankRules::default(),
        }
    }
}

/// Birthday points (誕生日ポイント): granted once a year by the daily schedule, on the
/// birthday or from the first day of the birth month; `points` 0 is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BirthdayBonus {
    pub points: i64,
    #[serde(default)]
    pub timing: BirthdayTiming,
}

/// When in the year the birthday bonus falls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BirthdayTiming {
    /// On the birthday (29 February: 28 February in other years).
    #[default]
    Day,
    /// On the first day of the birth month (誕生月).
    Month,
}

impl BirthdayBonus {
    /// Days after its date a bonus not yet granted is still granted (the shop's PC was off,
    /// or the bonus was just turned on).
    pub const CATCH_UP_DAYS: i64 = 30;

    /// The year whose bonus is due on `today` for a customer born on `birthday`: from the
    /// bonus date of that year through [`Self::CATCH_UP_DAYS`] after it. `None` when off.
    pub fn due_year(&self, birthday: NaiveDate, today: NaiveDate) -> Option<i32> {
        if self.points <= 0 {
            return None;
        }
        [today.year(), today.year() - 1].into_iter().find(|&year| {
            let date = match self.timing {
                BirthdayTiming::Day => NaiveDate::from_ymd_opt(year, birthday.month(), birthday.day())
                    .or_else(|| NaiveDate::from_ymd_opt(year, 2, 28)),
                BirthdayTiming::Month => NaiveDate::from_ymd_opt(year, birthday.month(), 1),
            };
            date.is_some_and(|d| d <= today && (today - d).num_days() <= Self::CATCH_UP_DAYS)
        })
    }
}

/// How an order's points were made up (shown in the preview and stored on the lot's reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct EarnBreakdown {
    /// The earn rule with the rank multiplier.
    pub base: i64,
    /// Extra points from campaigns running on the order's day.
    pub campaign: i64,
    /// First-purchase bonus.
    pub bonus: i64,
}

impl EarnBreakdown {
    pub fn total(&self) -> i64 {
        self.base.saturating_add(self.campaign).saturating_add(self.bonus)
    }
}

/// One line of an order as the earn rule needs it.
#[derive(Debug, Clone, Copy)]
pub struct EarnLine<'a> {
    pub category: &'a str,
    pub amount: i64,
}

impl Programme {
    /// Points an order earns: `total` yen (tax included) with `tax` of it consumption tax,
    /// placed on local day `on` by `buyer`, whose rank multiplies the points and whose first
    /// order adds the first-purchase bonus. A campaign adds its extra when the buyer is one
    /// it is for (segment, rank); a category campaign on that category's share of the order.
    pub fn points_for_order(
        &self,
        total: i64,
        tax: i64,
        lines: &[EarnLine<'_>],
        on: NaiveDate,
        buyer: Buyer<'_>,
    ) -> EarnBreakdown {
        if !self.enabled || total <= 0 {
            return EarnBreakdown::default();
        }
        let base = self.earn.points_for(total, tax, buyer.rank_multiplier_percent);
        let lines_total: i64 = lines.iter().map(|l| l.amount.max(0)).sum();
        let campaign = self
            .campaigns
            .iter()
            .filter(|c| c.from <= on && on <= c.to && c.multiplier_percent > 100 && c.is_for(&buyer))
            .map(|c| {
                let (t, x) = match &c.category {
                    None => (total, tax),
                    Some(cat) => {
                        let share: i64 = lines.iter().filter(|l| l.category == cat).map(|l| l.amount.max(0)).sum();
                        if lines_total <= 0 || share <= 0 {
                            return 0;
                        }
                        let scale = |v: i64| (i128::from(v) * i128::from(share) / i128::from(lines_total)) as i64;
                        (scale(total), scale(tax))
                    }
                };
                self.earn.points_for(t, x, c.multiplier_percent - 100)
            })
            .sum();
        let bonus = if buyer.first_order { self.first_purchase_bonus.max(0) } else { 0 };
        EarnBreakdown { base, campaign, bonus }
    }

    /// Checks every setting, naming the field of each problem.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::default();
        if !(1..=10_000).contains(&self.earn.points) {
            errors.push("earn.points", crate::Code::Range).with(1).with(10_000);
        }
        if !(1..=1_000_000).contains(&self.earn.per_yen) {
            errors.push("earn.per_yen", crate::Code::RangeYen).with(1).with(1_000_000);
        }
        match self.expiry {
            ExpiryPolicy::FixedTerm { months, .. } | ExpiryPolicy::ExtendedByActivity { months }
                if !(1..=120).contains(&months) =>
            {
                errors.push("expiry.months", crate::Code::RangeMonths).with(1).with(120);
            }
            ExpiryPolicy::FiscalDate { month, day, min_months } => {
                if NaiveDate::from_ymd_opt(2023, month, day).is_none() {
                    errors.push("expiry.day", crate::Code::NoSuchDay).with(month).with(day);
                }
                if min_months > 24 {
                    errors.push("expiry.min_months", crate::Code::RangeMonths).with(0).with(24);
                }
            }
            _ => {}
        }
        if self.pending_days > 365 {
            errors.push("pending_days", crate::Code::RangeDays).with(0).with(365);
        }
        if !(0..=1_000_000).contains(&self.first_purchase_bonus) {
            errors.push("first_purchase_bonus", crate::Code::Range).with(0).with(1_000_000);
        }
        if !(0..=1_000_000).contains(&self.birthday_bonus.points) {
            errors.push("birthday_bonus.points", crate::Code::Range).with(0).with(1_000_000);
        }
        if !(0..=1_000_000).contains(&self.survey_bonus) {
            errors.push("survey_bonus", crate::Code::Range).with(0).with(1_000_000);
        }
        if !(1..=10_080).contains(&self.reservation_minutes) {
            errors.push("reservation_minutes", crate::Code::RangeMinutes).with(1).with(10_080);
        }
        self.ranks.validate(&mut errors);
        for (i, c) in self.campaigns.iter().enumerate() {
            if c.name.trim().is_empty() {
                errors.push(&format!("campaigns[{i}].name"), crate::Code::Required);
            }
            if c.to < c.from {
                errors.push(&format!("campaigns[{i}].to"), crate::Code::StartAfterEnd);
            }
            if !(101..=10_000).contains(&c.multiplier_percent) {
                errors
                    .push(&format!("campaigns[{i}].multiplier_percent"), crate::Code::RangePercent)
                    .with(101)
                    .with(10_000);
            }
            if let Some(level) = c.min_rank
                && (!self.ranks.enabled || level >= self.ranks.tiers.len())
            {
                errors.push(&format!("campaigns[{i}].min_rank"), crate::Code::NoSuchRank).with(level);
            }
            if c.segment.as_deref().is_some_and(|s| s.trim().is_empty()) {
                errors.push(&format!("campaigns[{i}].segment"), crate::Code::Choose);
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn birthday_bonus_falls_once_a_year_with_a_catch_up_window() {
        let day = BirthdayBonus { points: 500, timing: BirthdayTiming::Day };
        let born = d("1980-07-14");
        assert_eq!(day.due_year(born, d("2026-07-13")), None, "not before the birthday");
        assert_eq!(day.due_year(born, d("2026-07-14")), Some(2026));
        assert_eq!(day.due_year(born, d("2026-08-13")), Some(2026), "30 days to catch up");
        assert_eq!(day.due_year(born, d("2026-08-14")), None);
        let december = d("1990-12-20");
        assert_eq!(day.due_year(december, d("2027-01-05")), Some(2026), "across the new year: last year's");
        let leap = d("2000-02-29");
        assert_eq!(day.due_year(leap, d("2027-02-28")), Some(2027), "29 February: the 28th in other years");
        assert_eq!(day.due_year(leap, d("2028-02-28")), None);
        assert_eq!(day.due_year(leap, d("2028-02-29")), Some(2028));
        let month = BirthdayBonus { points: 500, timing: BirthdayTiming::Month };
        assert_eq!(month.due_year(born, d("2026-06-30")), None);
        assert_eq!(month.due_year(born, d("2026-07-01")), Some(2026), "from the 1st of the birth month");
        assert_eq!(month.due_year(born, d("2026-07-31")), Some(2026));
        assert_eq!(BirthdayBonus::default().due_year(born, d("2026-07-14")), None, "off by default");
        let mut p = Programme::default();
        p.birthday_bonus.points = -1;
        assert!(p.validate().unwrap_err().0.iter().any(|e| e.field == "birthday_bonus.points"));
    }

    #[test]
    fn campaigns_and_ranks_multiply_the_earn_rule() {
        let mut p = Programme { first_purchase_bonus: 300, ..Programme::default() };
        let lines = [EarnLine { category: "コーヒー豆", amount: 8_000 }, EarnLine { category: "器具", amount: 4_000 }];
        let on = d("2026-12-01");
        let first_gold = Buyer { rank_level: 2, rank_multiplier_percent: 150, segment: None, first_order: true };
        assert_eq!(p.points_for_order(12_800, 1_163, &lines, on, Buyer::anyone()).total(), 128);
        let gold = p.points_for_order(12_800, 1_163, &lines, on, first_gold);
        assert_eq!((gold.base, gold.campaign, gold.bonus, gold.total()), (192, 0, 300, 492));
        p.campaigns.push(Campaign {
            name: "豆の日".into(),
            from: d("2026-12-01"),
            to: d("2026-12-03"),
            multiplier_percent: 300,
            category: Some("コーヒー豆".into()),
            segment: None,
            min_rank: None,
        });
        p.campaigns.push(Campaign {
            name: "年末".into(),
            from: d("2026-12-02"),
            to: d("2026-12-31"),
            multiplier_percent: 200,
            category: None,
            segment: None,
            min_rank: None,
        });
        // ¥12,800 × 8,000/12,000 = ¥8,533 of beans: +2 × 85 points.
        assert_eq!(p.points_for_order(12_800, 0, &lines, on, Buyer::anyone()).campaign, 170);
        assert_eq!(p.points_for_order(12_800, 0, &lines, d("2026-12-02"), Buyer::anyone()).campaign, 170 + 128);
        assert_eq!(
            p.points_for_order(12_800, 0, &lines, d("2027-01-01"), Buyer::anyone()).campaign,
            0,
            "after the period"
        );
        // Campaigns for a segment or from a rank up: only those customers earn the extra.
        p.campaigns.push(Campaign {
            name: "休眠の方おかえり".into(),
            from: on,
            to: on,
            multiplier_percent: 300,
            category: None,
            segment: Some("dormant".into()),
            min_rank: None,
        });
        p.campaigns.push(Campaign {
            name: "ゴールド以上 2倍".into(),
            from: on,
            to: on,
            multiplier_percent: 200,
            category: None,
            segment: None,
            min_rank: Some(2),
        });
        let dormant = Buyer { segment: Some("dormant"), ..Buyer::anyone() };
        let silver = Buyer { rank_level: 1, ..Buyer::anyone() };
        let gold = Buyer { rank_level: 2, ..Buyer::anyone() };
        assert_eq!(p.points_for_order(12_800, 0, &lines, on, Buyer::anyone()).campaign, 170, "beans only");
        assert_eq!(p.points_for_order(12_800, 0, &lines, on, dormant).campaign, 170 + 2 * 128, "and the segment's ×3");
        assert_eq!(p.points_for_order(12_800, 0, &lines, on, silver).campaign, 170, "below the campaign's rank");
        assert_eq!(p.points_for_order(12_800, 0, &lines, on, gold).campaign, 170 + 128, "gold and above: ×2");
        p.enabled = false;
        assert_eq!(p.points_for_order(12_800, 0, &lines, on, first_gold).total(), 0);
    }

    #[test]
    fn validation_names_each_bad_field() {
        let mut p = Programme::default();
        assert!(p.validate().is_ok());
        p.earn.per_yen = 0;
        p.expiry = ExpiryPolicy::FiscalDate { month: 2, day: 30, min_months: 0 };
        p.campaigns.push(Campaign {
            name: " ".into(),
            from: d("2026-12-02"),
            to: d("2026-12-01"),
            multiplier_percent: 100,
            category: None,
            segment: None,
            min_rank: None,
        });
        let fields: Vec<String> = p.validate().unwrap_err().0.into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            ["earn.per_yen", "expiry.day", "campaigns[0].name", "campaigns[0].to", "campaigns[0].multiplier_percent"]
        );
    }
}
