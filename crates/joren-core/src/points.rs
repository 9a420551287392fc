//! Points ledger rules (no I/O): how many points an order earns, when a lot expires, and an
//! append-only ledger of lots and entries in which balances are derived, points are spent
//! soonest-expiring first, refunds put points back where they came from, and paid value
//! (prepaid points, 回数券) is never mixed with free value (earned points).
//!
//! Dates are shop-local calendar days: a lot expiring on day D can be spent through D and is
//! expired by the first run on D + 1 (local midnight). The store applies the same rules to its
//! tables; this in-memory ledger is also the model its tests compare against.

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};

/// Free value (earned, granted) or paid value (bought with money); kept apart because
/// Japanese law treats them differently (資金決済法: outstanding paid value is reported).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    Free,
    Paid,
}

/// Which amount points are earned on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxBase {
    /// The amount paid, tax included (税込).
    Inclusive,
    /// The amount before consumption tax (税抜).
    Exclusive,
}

/// How a fractional point is rounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// 切り捨て (what most programmes do).
    Floor,
    /// 四捨五入 (half up).
    HalfUp,
    /// 切り上げ.
    Ceil,
}

/// Points per amount, e.g. 1 point per ¥100 of the tax-inclusive amount, fractions dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarnRule {
    pub points: i64,
    pub per_yen: i64,
    pub base: TaxBase,
    pub rounding: Rounding,
}

impl Default for EarnRule {
    fn default() -> Self {
        Self { points: 1, per_yen: 100, base: TaxBase::Inclusive, rounding: Rounding::Floor }
    }
}

impl EarnRule {
    /// Points earned on an order of `total` yen (tax included) of which `tax` is consumption
    /// tax, with a multiplier in percent (100 = ×1, 150 = ×1.5 for a campaign or rank).
    /// Exact integer arithmetic; never negative.
    pub fn points_for(&self, total: i64, tax: i64, multiplier_percent: i64) -> i64 {
        let base = match self.base {
            TaxBase::Inclusive => total,
            TaxBase::Exclusive => total - tax,
        };
        if base <= 0 || self.per_yen <= 0 || self.points <= 0 || multiplier_percent <= 0 {
            return 0;
        }
        let num = i128::from(base) * i128::from(self.points) * i128::from(multiplier_percent);
        let den = i128::from(self.per_yen) * 100;
        let q = match self.rounding {
            Rounding::Floor => num / den,
            Rounding::Ceil => (num + den - 1) / den,
            Rounding::HalfUp => (2 * num + den) / (2 * den),
        };
        i64::try_from(q).unwrap_or(i64::MAX)
    }
}

/// When earned points expire: the kinds Japanese programmes use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExpiryPolicy {
    /// Never expire.
    Never,
    /// A fixed term from earning, e.g. 12 months; with `end_of_month`, through the last day of
    /// that month (有効期限: 獲得月から 12 か月後の月末).
    FixedTerm { months: u32, end_of_month: bool },
    /// Every lot lives until `months` after the customer's latest earning: any new earning
    /// extends all of them (最終利用から 1 年).
    ExtendedByActivity { months: u32 },
    /// A fixed date each year (e.g. 3/31, the fiscal year end): points expire on the first such
    /// date at least `min_months` after earning.
    FiscalDate { month: u32, day: u32, min_months: u32 },
    /// A set last day (a grant or campaign with its own date, 期間限定ポイント).
    Until { date: NaiveDate },
}

impl ExpiryPolicy {
    /// The last day a lot earned on `earned_on` can be spent, if it expires.
    pub fn expires_on(&self, earned_on: NaiveDate) -> Option<NaiveDate> {
        match *self {
            Self::Never => None,
            Self::FixedTerm { months, end_of_month } => {
                let d = earned_on.checked_add_months(Months::new(months))?;
                Some(if end_of_month { last_day_of_month(d) } else { d.pred_opt()? })
            }
            Self::ExtendedByActivity { months } => earned_on.checked_add_months(Months::new(months))?.pred_opt(),
            Self::Until { date } => Some(date),
            Self::FiscalDate { month, day, min_months } => {
                let earliest = earned_on.checked_add_months(Months::new(min_months))?;
                (earliest.year()..=earliest.year() + 1)
                    .filter_map(|y| NaiveDate::from_ymd_opt(y, month, day))
                    .find(|d| *d >= earliest)
            }
        }
    }

    /// Whether a new earning moves every lot's expiry (see [`ExpiryPolicy::ExtendedByActivity`]).
    pub fn extends_on_activity(&self) -> bool {
        matches!(self, Self::ExtendedByActivity { .. })
    }
}

fn last_day_of_month(d: NaiveDate) -> NaiveDate {
    let first_next = if d.month() == 12 {
        NaiveDate::from_ymd_opt(d.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(d.year(), d.month() + 1, 1)
    };
    first_next.and_then(|f| f.pred_opt()).unwrap_or(d)
}

/// What a refund does when the points its order earned were already spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShortfallPolicy {
    /// Take the rest from the customer's other lots (soonest-expiring first); what still
    /// cannot be taken is recorded as debt.
    DeductOtherLots,
    /// Record the rest as debt, paid off by the next points earned.
    RecordDebt,
}

/// A lot: points earned or bought together, with their own expiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lot {
    pub id: usize,
    pub kind: ValueKind,
    /// The order that earned it, if any (refunds reverse it).
    pub order_id: Option<i64>,
    pub granted: i64,
    /// Spendable from this day (pending before it: the return window).
    pub available_on: NaiveDate,
    /// Last day it can be spent; `None` never expires.
    pub expires_on: Option<NaiveDate>,
    /// Points left (pending ones included before `available_on`).
    pub remaining: i64,
}

/// Why points moved; every entry moves `points` (signed) on one lot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Earn,
    Spend,
    /// Points of a cancelled redemption returned to their lot.
    Restore,
    /// Points taken back because the order that earned them was refunded.
    Reverse,
    /// Points taken from another lot because the refunded order's own were already spent.
    Deduct,
    /// Earned points that paid off debt instead of staying in their lot.
    Repay,
    Expire,
}

/// One line of the append-only ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub lot: usize,
    pub kind: EntryKind,
    pub points: i64,
    pub on: NaiveDate,
    /// The redemption it belongs to (spends and restores).
    pub redemption: Option<i64>,
    /// For a deduction: the refunded order's lot whose spent points it makes up for.
    pub settles: Option<usize>,
}

/// Points owed after a refund of points already spent, recorded against the refunded lot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Debt {
    pub lot: usize,
    pub kind: ValueKind,
    pub points: i64,
    pub on: NaiveDate,
}

/// Points taken from one lot by a redemption.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Allocation {
    pub lot: usize,
    pub points: i64,
}

/// Why a ledger operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PointsError {
    #[error("ポイントが足りません (利用可能 {available}, 必要 {wanted})")]
    Insufficient { available: i64, wanted: i64 },
    #[error("ポイント数は 1 以上です: {0}")]
    NotPositive(i64),
    #[error("利用 #{0} はありません")]
    UnknownRedemption(i64),
    #[error("利用 #{0} は取り消し済みです")]
    AlreadyRestored(i64),
    #[error("利用 #{0} は記録済みです")]
    DuplicateRedemption(i64),
}

/// One customer's ledger: lots, the append-only entries that move points on them, and debts
/// recorded by refunds. Everything else (balances, debt, which redemptions were cancelled,
/// what a refund already took) is derived from these three lists, so a ledger loaded from
/// storage behaves exactly like one built in memory.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Ledger {
    pub lots: Vec<Lot>,
    pub entries: Vec<Entry>,
    pub debts: Vec<Debt>,
}

impl Ledger {
    /// Points of a kind owed: debts recorded by refunds less what later earnings repaid.
    pub fn debt(&self, kind: ValueKind) -> i64 {
        let owed: i64 = self.debts.iter().filter(|d| d.kind == kind).map(|d| d.points).sum();
        let repaid: i64 = self
            .entries
            .iter()
            .filter(|e| e.kind == EntryKind::Repay && self.lots[e.lot].kind == kind)
            .map(|e| -e.points)
            .sum();
        owed - repaid
    }

    fn push(&mut self, lot: usize, kind: EntryKind, points: i64, on: NaiveDate, redemption: Option<i64>) {
        self.lots[lot].remaining += points;
        self.entries.push(Entry { lot, kind, points, on, redemption, settles: None });
    }

    /// Adds a lot of `points` earned on `on`, pending for `pending_days`, expiring by
    /// `policy`. Debt of its kind is paid off first. With an activity-extended policy every
    /// live lot of the kind gets the new expiry. Returns the lot's id.
    pub fn earn(
        &mut self,
        kind: ValueKind,
        points: i64,
        order_id: Option<i64>,
        on: NaiveDate,
        pending_days: u32,
        policy: ExpiryPolicy,
    ) -> Result<usize, PointsError> {
        if points <= 0 {
            return Err(PointsError::NotPositive(points));
        }
        let expires_on = policy.expires_on(on);
        if policy.extends_on_activity() {
            // Lots already past their last day are dead even if no expiry run took them yet.
            for lot in self
                .lots
                .iter_mut()
                .filter(|l| l.kind == kind && l.remaining > 0 && l.expires_on.is_none_or(|e| on <= e))
            {
                lot.expires_on = expires_on;
            }
        }
        let id = self.lots.len();
        let available_on = on + chrono::Days::new(u64::from(pending_days));
        self.lots.push(Lot { id, kind, order_id, granted: points, available_on, expires_on, remaining: 0 });
        self.push(id, EntryKind::Earn, points, on, None);
        let repay = points.min(self.debt(kind));
        if repay > 0 {
            self.push(id, EntryKind::Repay, -repay, on, None);
        }
        Ok(id)
    }

    /// Whether a lot can be spent on `on` (not pending, not past its expiry).
    fn spendable(lot: &Lot, on: NaiveDate) -> bool {
        lot.remaining > 0 && lot.available_on <= on && lot.expires_on.is_none_or(|e| on <= e)
    }

    /// The order lots are spent in: soonest expiry first (never-expiring last), then oldest.
    fn spend_order(&self, kind: ValueKind, on: NaiveDate) -> Vec<usize> {
        let mut ids: Vec<usize> =
            self.lots.iter().filter(|l| l.kind == kind && Self::spendable(l, on)).map(|l| l.id).collect();
        ids.sort_by_key(|&i| (self.lots[i].expires_on.is_none(), self.lots[i].expires_on, i));
        ids
    }

    /// Points of a kind that can be spent on `on`.
    pub fn available(&self, kind: ValueKind, on: NaiveDate) -> i64 {
        self.lots.iter().filter(|l| l.kind == kind && Self::spendable(l, on)).map(|l| l.remaining).sum()
    }

    /// Points of a kind still in the return window on `on`.
    pub fn pending(&self, kind: ValueKind, on: NaiveDate) -> i64 {
        self.lots.iter().filter(|l| l.kind == kind && l.available_on > on).map(|l| l.remaining).sum()
    }

    /// Every point of a kind in a lot (pending and spendable, not yet expired by a run).
    pub fn balance(&self, kind: ValueKind) -> i64 {
        self.lots.iter().filter(|l| l.kind == kind).map(|l| l.remaining).sum()
    }

    /// Spends `points` of one kind on `on` as redemption `redemption` (an id the caller
    /// gives, used by [`Ledger::restore`]), soonest-expiring lots first; all or nothing.
    /// Returns where the points came from.
    pub fn spend(
        &mut self,
        kind: ValueKind,
        points: i64,
        on: NaiveDate,
        redemption: i64,
    ) -> Result<Vec<Allocation>, PointsError> {
        if points <= 0 {
            return Err(PointsError::NotPositive(points));
        }
        if self.entries.iter().any(|e| e.redemption == Some(redemption)) {
            return Err(PointsError::DuplicateRedemption(redemption));
        }
        let available = self.available(kind, on);
        if available < points {
            return Err(PointsError::Insufficient { available, wanted: points });
        }
        let mut left = points;
        let mut allocations = Vec::new();
        for lot in self.spend_order(kind, on) {
            if left == 0 {
                break;
            }
            let take = left.min(self.lots[lot].remaining);
            self.push(lot, EntryKind::Spend, -take, on, Some(redemption));
            allocations.push(Allocation { lot, points: take });
            left -= take;
        }
        Ok(allocations)
    }

    /// Cancels a redemption: its points go back to the lots they came from, with those lots'
    /// own expiry (already past: the next expiry run takes them).
    pub fn restore(&mut self, redemption: i64, on: NaiveDate) -> Result<Vec<Allocation>, PointsError> {
        let mut allocations = Vec::new();
        for e in self.entries.iter().filter(|e| e.redemption == Some(redemption)) {
            match e.kind {
                EntryKind::Restore => return Err(PointsError::AlreadyRestored(redemption)),
                _ => allocations.push(Allocation { lot: e.lot, points: -e.points }),
            }
        }
        if allocations.is_empty() {
            return Err(PointsError::UnknownRedemption(redemption));
        }
        for a in &allocations {
            self.push(a.lot, EntryKind::Restore, a.points, on, Some(redemption));
        }
        Ok(allocations)
    }

    /// Takes back what order `order_id` earned, in the proportion `refunded / total` where
    /// `refunded` is the order's whole refunded amount so far (`total` for a cancellation), so
    /// a second partial refund takes only the difference and a repeat takes nothing. Pending
    /// points are included. Points already spent are taken from other
    /// lots or recorded as debt by `policy`. Returns (taken from the order's lots, deducted
    /// from other lots, added to debt).
    pub fn reverse_order(
        &mut self,
        order_id: i64,
        refunded: i64,
        total: i64,
        on: NaiveDate,
        policy: ShortfallPolicy,
    ) -> (i64, i64, i64) {
        let mut sum = (0, 0, 0);
        let lots: Vec<usize> = self.lots.iter().filter(|l| l.order_id == Some(order_id)).map(|l| l.id).collect();
        for lot in lots {
            let target = if total <= 0 {
                0
            } else {
                let t = i128::from(self.lots[lot].granted) * i128::from(refunded.clamp(0, total)) / i128::from(total);
                i64::try_from(t).unwrap_or(i64::MAX)
            };
            let (r, d, o) = self.reverse_lot_to(lot, target, on, policy);
            sum = (sum.0 + r, sum.1 + d, sum.2 + o);
        }
        sum
    }

    /// Takes back the whole of lot `lot` (a referral reward whose order was refunded): what is
    /// left in it, the rest from other lots or as debt by `policy`. A repeat takes nothing.
    /// Returns (taken from the lot, deducted from other lots, added to debt).
    pub fn reverse_lot(&mut self, lot: usize, on: NaiveDate, policy: ShortfallPolicy) -> (i64, i64, i64) {
        match self.lots.get(lot) {
            Some(l) => self.reverse_lot_to(lot, l.granted, on, policy),
            None => (0, 0, 0),
        }
    }

    /// Brings lot `lot`'s reversal up to `target` points in all.
    fn reverse_lot_to(&mut self, lot: usize, target: i64, on: NaiveDate, policy: ShortfallPolicy) -> (i64, i64, i64) {
        let (mut reversed, mut deducted, mut owed) = (0, 0, 0);
        let kind = self.lots[lot].kind;
        let already: i64 = self
            .entries
            .iter()
            .filter(|e| e.lot == lot && e.kind == EntryKind::Reverse)
            .map(|e| -e.points)
            .sum::<i64>()
            + self.shortfalls_of(lot);
        let due = (target - already).max(0);
        let own = due.min(self.lots[lot].remaining);
        if own > 0 {
            self.push(lot, EntryKind::Reverse, -own, on, None);
            reversed += own;
        }
        let mut short = due - own;
        if short > 0 && policy == ShortfallPolicy::DeductOtherLots {
            for other in self.spend_order(kind, on) {
                if short == 0 {
                    break;
                }
                let take = short.min(self.lots[other].remaining);
                self.push(other, EntryKind::Deduct, -take, on, None);
                if let Some(e) = self.entries.last_mut() {
                    e.settles = Some(lot);
                }
                deducted += take;
                short -= take;
            }
        }
        if short > 0 {
            self.debts.push(Debt { lot, kind, points: short, on });
            owed += short;
        }
        (reversed, deducted, owed)
    }

    /// Points of lot `lot`'s reversal already settled from elsewhere (other lots or debt).
    fn shortfalls_of(&self, lot: usize) -> i64 {
        let deducted: i64 = self
            .entries
            .iter()
            .filter(|e| e.kind == EntryKind::Deduct && e.settles == Some(lot))
            .map(|e| -e.points)
            .sum();
        deducted + self.debts.iter().filter(|d| d.lot == lot).map(|d| d.points).sum::<i64>()
    }

    /// Expires what is left in lots whose last day is before `today`. Returns the points
    /// expired per lot.
    pub fn expire(&mut self, today: NaiveDate) -> Vec<Allocation> {
        let due: Vec<usize> = self
            .lots
            .iter()
            .filter(|l| l.remaining > 0 && l.expires_on.is_some_and(|e| e < today))
            .map(|l| l.id)
            .collect();
        due.into_iter()
            .map(|lot| {
                let points = self.lots[lot].remaining;
                self.push(lot, EntryKind::Expire, -points, today, None);
                Allocation { lot, points }
            })
            .collect()
    }

    /// Points of a kind that expire within `days` after `today` (for "expiring soon" notices).
    pub fn expiring_within(&self, kind: ValueKind, today: NaiveDate, days: u64) -> i64 {
        let until = today + chrono::Days::new(days);
        self.lots
            .iter()
            .filter(|l| l.kind == kind && l.remaining > 0 && l.expires_on.is_some_and(|e| e >= today && e <= until))
            .map(|l| l.remaining)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    const YEAR: ExpiryPolicy = ExpiryPolicy::FixedTerm { months: 12, end_of_month: false };

    #[test]
    fn earn_rule_rounds_as_configured_on_the_chosen_base() {
        let floor = EarnRule::default();
        assert_eq!(floor.points_for(12_800, 1_163, 100), 128, "1 pt per ¥100 of ¥12,800");
        assert_eq!(floor.points_for(12_899, 0, 100), 128, "fractions dropped");
        assert_eq!(floor.points_for(12_800, 1_163, 150), 192, "×1.5 campaign");
        let excl = EarnRule { base: TaxBase::Exclusive, ..floor };
        assert_eq!(excl.points_for(12_800, 1_163, 100), 116, "on ¥11,637 before tax");
        let half = EarnRule { rounding: Rounding::HalfUp, ..floor };
        assert_eq!((half.points_for(12_849, 0, 100), half.points_for(12_850, 0, 100)), (128, 129));
        let ceil = EarnRule { rounding: Rounding::Ceil, ..floor };
        assert_eq!((ceil.points_for(12_801, 0, 100), ceil.points_for(12_800, 0, 100)), (129, 128));
        assert_eq!(floor.points_for(-500, 0, 100), 0, "a negative amount earns nothing");
        let rich = EarnRule { points: 5, per_yen: 1, ..floor };
        assert_eq!(rich.points_for(i64::MAX, 0, 1000), i64::MAX, "no overflow");
    }

    #[test]
    fn expiry_policies_give_the_last_spendable_day() {
        assert_eq!(YEAR.expires_on(d("2026-03-15")), Some(d("2027-03-14")));
        let eom = ExpiryPolicy::FixedTerm { months: 12, end_of_month: true };
        assert_eq!(eom.expires_on(d("2026-03-15")), Some(d("2027-03-31")));
        assert_eq!(eom.expires_on(d("2027-02-10")), Some(d("2028-02-29")), "leap year month end");
        assert_eq!(YEAR.expires_on(d("2024-02-29")), Some(d("2025-02-27")), "29 Feb + 12 months is 28 Feb");
        let fiscal = ExpiryPolicy::FiscalDate { month: 3, day: 31, min_months: 0 };
        assert_eq!(fiscal.expires_on(d("2026-03-31")), Some(d("2026-03-31")));
        assert_eq!(fiscal.expires_on(d("2026-04-01")), Some(d("2027-03-31")));
        let fiscal6 = ExpiryPolicy::FiscalDate { month: 3, day: 31, min_months: 6 };
        assert_eq!(fiscal6.expires_on(d("2026-09-01")), Some(d("2027-03-31")));
        assert_eq!(fiscal6.expires_on(d("2026-10-15")), Some(d("2028-03-31")), "less than 6 months left: next year");
        assert_eq!(ExpiryPolicy::Never.expires_on(d("2026-01-01")), None);
    }

    #[test]
    fn spends_soonest_expiring_first_and_never_pending_or_paid_points() {
        let mut l = Ledger::default();
        let old = l.earn(ValueKind::Free, 100, Some(1), d("2026-01-10"), 0, YEAR).unwrap();
        let never = l.earn(ValueKind::Free, 100, None, d("2025-06-01"), 0, ExpiryPolicy::Never).unwrap();
        let newer = l.earn(ValueKind::Free, 100, Some(2), d("2026-02-10"), 0, YEAR).unwrap();
        let pending = l.earn(ValueKind::Free, 100, Some(3), d("2026-03-01"), 14, YEAR).unwrap();
        l.earn(ValueKind::Paid, 1000, None, d("2026-01-01"), 0, ExpiryPolicy::Never).unwrap();
        let on = d("2026-03-05");
        assert_eq!((l.available(ValueKind::Free, on), l.pending(ValueKind::Free, on)), (300, 100));
        let alloc = l.spend(ValueKind::Free, 150, on, 1).unwrap();
        assert_eq!(alloc, [Allocation { lot: old, points: 100 }, Allocation { lot: newer, points: 50 }]);
        assert_eq!(
            l.spend(ValueKind::Free, 200, on, 2),
            Err(PointsError::Insufficient { available: 150, wanted: 200 }),
            "pending points and paid value are not spendable as free points"
        );
        assert_eq!(l.lots[never].remaining, 100, "never-expiring points are spent last");
        assert_eq!(l.available(ValueKind::Free, d("2026-03-15")), 250, "the return window has passed");
        assert_eq!(l.lots[pending].remaining, 100);
        assert_eq!(l.balance(ValueKind::Paid), 1000);
    }

    #[test]
    fn a_cancelled_redemption_returns_points_to_their_own_lots() {
        let mut l = Ledger::default();
        let a = l.earn(ValueKind::Free, 100, None, d("2026-01-10"), 0, YEAR).unwrap();
        let b = l.earn(ValueKind::Free, 100, None, d("2026-02-10"), 0, YEAR).unwrap();
        let r = 41;
        l.spend(ValueKind::Free, 150, d("2026-03-01"), r).unwrap();
        assert_eq!(l.spend(ValueKind::Free, 1, d("2026-03-01"), r), Err(PointsError::DuplicateRedemption(r)));
        l.restore(r, d("2026-03-02")).unwrap();
        assert_eq!((l.lots[a].remaining, l.lots[b].remaining), (100, 100));
        assert_eq!(l.lots[a].expires_on, Some(d("2027-01-09")), "with their own expiry");
        assert_eq!(l.restore(r, d("2026-03-02")), Err(PointsError::AlreadyRestored(r)), "applied once");
    }

    #[test]
    fn refunds_reverse_proportionally_and_settle_what_was_spent_by_policy() {
        let mut l = Ledger::default();
        let order = l.earn(ValueKind::Free, 100, Some(7), d("2026-01-10"), 0, YEAR).unwrap();
        let other = l.earn(ValueKind::Free, 50, Some(8), d("2026-02-10"), 0, YEAR).unwrap();
        assert_eq!(l.reverse_order(7, 3_000, 10_000, d("2026-01-20"), ShortfallPolicy::RecordDebt), (30, 0, 0));
        assert_eq!(
            l.reverse_order(7, 3_000, 10_000, d("2026-01-21"), ShortfallPolicy::RecordDebt),
            (0, 0, 0),
            "repeat: nothing more"
        );
        l.spend(ValueKind::Free, 70, d("2026-03-01"), 1).unwrap();
        assert_eq!(l.lots[order].remaining, 0);
        let mut deduct = l.clone();
        assert_eq!(
            deduct.reverse_order(7, 10_000, 10_000, d("2026-03-02"), ShortfallPolicy::DeductOtherLots),
            (0, 50, 20),
            "70 more due: 50 from the other lot, 20 owed"
        );
        assert_eq!((deduct.lots[other].remaining, deduct.debt(ValueKind::Free)), (0, 20));
        assert_eq!(l.reverse_order(7, 10_000, 10_000, d("2026-03-02"), ShortfallPolicy::RecordDebt), (0, 0, 70));
        assert_eq!(l.lots[other].remaining, 50, "debt policy leaves other lots alone");
        let next = l.earn(ValueKind::Free, 100, Some(9), d("2026-03-10"), 0, YEAR).unwrap();
        assert_eq!((l.debt(ValueKind::Free), l.lots[next].remaining), (0, 30), "new points pay the debt first");
        assert_eq!(l.reverse_order(7, 10_000, 10_000, d("2026-03-11"), ShortfallPolicy::RecordDebt), (0, 0, 0));
    }

    #[test]
    fn expiry_takes_lots_after_their_last_day_and_activity_extends_them() {
        let mut l = Ledger::default();
        let a = l.earn(ValueKind::Free, 100, None, d("2025-03-15"), 0, YEAR).unwrap();
        assert_eq!(l.expiring_within(ValueKind::Free, d("2026-03-01"), 30), 100);
        assert!(l.expire(d("2026-03-14")).is_empty(), "spendable through its last day");
        assert_eq!(l.expire(d("2026-03-15")), [Allocation { lot: a, points: 100 }]);
        assert_eq!(l.balance(ValueKind::Free), 0);

        let rolling = ExpiryPolicy::ExtendedByActivity { months: 12 };
        let mut l = Ledger::default();
        let first = l.earn(ValueKind::Free, 100, None, d("2025-03-15"), 0, rolling).unwrap();
        l.earn(ValueKind::Free, 10, None, d("2026-03-01"), 0, rolling).unwrap();
        assert_eq!(l.lots[first].expires_on, Some(d("2027-02-28")), "a new earning extends the old lot");
        assert!(l.expire(d("2026-03-20")).is_empty());
    }
}
