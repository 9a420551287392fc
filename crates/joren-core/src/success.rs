//! Customer-success stages (B2B and subscription shops, issue #20): onboarding → adoption →
//! value realisation → expansion → advocacy, each with its measure. Set by rules from the
//! customer's orders, answers and referrals (nightly), or by staff — a stage staff set stays
//! until staff change it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// First use: a first order.
    Onboarding,
    /// Usage frequency: 3 or more orders in 90 days.
    Adoption,
    /// Results noted (by staff: the customer got what they came for).
    ValueRealisation,
    /// Upsell: the last 90 days' spending at least 1.5 times the 90 days before, over 2 or
    /// more orders.
    Expansion,
    /// A promoter (latest NPS 9–10) or a customer who referred someone.
    Advocacy,
}

impl Stage {
    pub const ALL: [Self; 5] =
        [Self::Onboarding, Self::Adoption, Self::ValueRealisation, Self::Expansion, Self::Advocacy];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Onboarding => "onboarding",
            Self::Adoption => "adoption",
            Self::ValueRealisation => "value_realisation",
            Self::Expansion => "expansion",
            Self::Advocacy => "advocacy",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// What the rules read about one customer.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Facts {
    pub orders: u64,
    pub orders_90d: u64,
    /// Spending (yen) in the last 90 days and the 90 days before.
    pub spent_90d: i64,
    pub spent_prior_90d: i64,
    /// The latest NPS answer.
    pub nps: Option<i64>,
    pub referrals: u64,
}

/// The stage the rules give (None: no order yet, no stage). The highest stage whose measure
/// is met; value realisation is noted by staff, never by a rule.
pub fn by_rules(f: &Facts) -> Option<Stage> {
    if f.orders == 0 {
        return None;
    }
    if f.nps.is_some_and(|n| n >= 9) || f.referrals > 0 {
        return Some(Stage::Advocacy);
    }
    if f.orders_90d >= 2 && f.spent_prior_90d > 0 && f.spent_90d * 2 >= f.spent_prior_90d * 3 {
        return Some(Stage::Expansion);
    }
    if f.orders_90d >= 3 {
        return Some(Stage::Adoption);
    }
    Some(Stage::Onboarding)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_stage_has_its_measure() {
        let base = Facts { orders: 1, orders_90d: 1, ..Facts::default() };
        assert_eq!(by_rules(&Facts::default()), None, "no order, no stage");
        assert_eq!(by_rules(&base), Some(Stage::Onboarding));
        assert_eq!(by_rules(&Facts { orders: 3, orders_90d: 3, ..base }), Some(Stage::Adoption));
        assert_eq!(by_rules(&Facts { orders: 5, orders_90d: 2, ..base }), Some(Stage::Onboarding), "2 in 90 days");
        let growing = Facts { orders: 6, orders_90d: 2, spent_90d: 15_000, spent_prior_90d: 10_000, ..base };
        assert_eq!(by_rules(&growing), Some(Stage::Expansion), "1.5 times the 90 days before");
        assert_eq!(by_rules(&Facts { spent_90d: 14_999, ..growing }), Some(Stage::Onboarding));
        assert_eq!(by_rules(&Facts { nps: Some(9), ..base }), Some(Stage::Advocacy));
        assert_eq!(by_rules(&Facts { nps: Some(8), ..base }), Some(Stage::Onboarding));
        assert_eq!(by_rules(&Facts { referrals: 1, ..base }), Some(Stage::Advocacy));
        assert!(Stage::ALL.iter().all(|s| Stage::parse(s.as_str()) == Some(*s)));
    }
}
