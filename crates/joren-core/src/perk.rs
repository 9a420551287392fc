//! Member-only perks (priority booking, limited products and pre-sales, events, exclusive
//! content) and who may use them: a perk is open to a customer who meets any of its gates — a
//! rank at or above a tier, an active membership of a plan, or a saved segment. Pure: the
//! caller supplies what it knows about the customer.

use serde::{Deserialize, Serialize};

use crate::FieldErrors;

/// What kind of perk it is (for grouping on the member page).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PerkKind {
    PriorityBooking,
    LimitedProduct,
    Event,
    Content,
    Other,
}

impl PerkKind {
    pub const ALL: [Self; 5] = [Self::PriorityBooking, Self::LimitedProduct, Self::Event, Self::Content, Self::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PriorityBooking => "priority_booking",
            Self::LimitedProduct => "limited_product",
            Self::Event => "event",
            Self::Content => "content",
            Self::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A perk as the owner defines it. At least one gate is required (a perk for everyone is not
/// a member perk).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerkInput {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub kind: PerkKind,
    /// Open from this rank level up (0 = the base tier).
    #[serde(default)]
    pub min_rank_level: Option<i64>,
    /// Open to active members of this plan.
    #[serde(default)]
    pub membership_plan_id: Option<i64>,
    /// Open to customers in this saved segment.
    #[serde(default)]
    pub segment_id: Option<i64>,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

impl PerkInput {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::default();
        if self.name.trim().is_empty() || self.name.chars().count() > 100 {
            e.push("name", crate::Code::LengthRange).with(1).with(100);
        }
        if self.description.chars().count() > 2000 {
            e.push("description", crate::Code::TooLong).with(2000).with(self.description.chars().count());
        }
        if self.min_rank_level.is_none() && self.membership_plan_id.is_none() && self.segment_id.is_none() {
            e.push("gate", crate::Code::NeedPerkGate);
        }
        if self.min_rank_level.is_some_and(|l| !(0..=9).contains(&l)) {
            e.push("min_rank_level", crate::Code::Range).with(0).with(9);
        }
        if e.0.is_empty() { Ok(()) } else { Err(e) }
    }
}

/// What is known about a customer for the gates.
#[derive(Debug, Clone, Default)]
pub struct Holder {
    /// The rank level, when ranks are on.
    pub rank_level: Option<i64>,
    /// Plans of the customer's active memberships.
    pub membership_plans: Vec<i64>,
    /// Saved segments (of those the perks name) the customer is in.
    pub segments: Vec<i64>,
}

/// Which gate decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "gate")]
pub enum Gate {
    Rank { min_level: i64 },
    Membership { plan_id: i64 },
    Segment { segment_id: i64 },
}

/// The gates a holder meets (`met`, empty: not allowed) and the ones they miss.
pub fn check(perk: &PerkInput, holder: &Holder) -> (Vec<Gate>, Vec<Gate>) {
    let mut met = Vec::new();
    let mut missing = Vec::new();
    if let Some(min_level) = perk.min_rank_level {
        let g = Gate::Rank { min_level };
        if holder.rank_level.is_some_and(|l| l >= min_level) { met.push(g) } else { missing.push(g) }
    }
    if let Some(plan_id) = perk.membership_plan_id {
        let g = Gate::Membership { plan_id };
        if holder.membership_plans.contains(&plan_id) { met.push(g) } else { missing.push(g) }
    }
    if let Some(segment_id) = perk.segment_id {
        let g = Gate::Segment { segment_id };
        if holder.segments.contains(&segment_id) { met.push(g) } else { missing.push(g) }
    }
    (met, missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perk() -> PerkInput {
        PerkInput {
            name: "先行予約".into(),
            description: String::new(),
            kind: PerkKind::PriorityBooking,
            min_rank_level: Some(2),
            membership_plan_id: Some(7),
            segment_id: None,
            active: true,
        }
    }

    #[test]
    fn any_gate_opens_the_perk() {
        let p = perk();
        let gold = Holder { rank_level: Some(2), ..Holder::default() };
        assert_eq!(check(&p, &gold), (vec![Gate::Rank { min_level: 2 }], vec![Gate::Membership { plan_id: 7 }]));
        let member = Holder { rank_level: Some(0), membership_plans: vec![7], ..Holder::default() };
        assert_eq!(check(&p, &member).0, [Gate::Membership { plan_id: 7 }]);
        let neither = Holder { rank_level: Some(1), membership_plans: vec![8], segments: vec![3] };
        assert!(check(&p, &neither).0.is_empty());
        let ranks_off = Holder::default();
        assert!(check(&p, &ranks_off).0.is_empty(), "no rank known: the rank gate is not met");
        let seg = PerkInput { min_rank_level: None, membership_plan_id: None, segment_id: Some(3), ..p };
        assert_eq!(check(&seg, &neither).0, [Gate::Segment { segment_id: 3 }]);
    }

    #[test]
    fn a_perk_needs_a_name_and_a_gate() {
        let bad = PerkInput { name: " ".into(), min_rank_level: None, membership_plan_id: None, ..perk() };
        let fields: Vec<String> = bad.validate().unwrap_err().0.into_iter().map(|f| f.field).collect();
        assert_eq!(fields, ["name", "gate"]);
        assert!(perk().validate().is_ok());
        assert_eq!(PerkKind::parse("event"), Some(PerkKind::Event));
    }
}
