//! Member-only perks: definitions (owners) and "may customer X use perk Y", with the gate that
//! opened it or the gates the customer misses, named so staff can explain.

use joren_core::FieldError;
use joren_core::perk::{Gate, Holder, PerkInput, check};
pub use joren_store::Perk;
use serde::Serialize;

use crate::{Actor, App, AppError, Result};

/// Whether a customer may use a perk, and why.
#[derive(Debug, Clone, Serialize)]
pub struct PerkCheck {
    pub perk_id: i64,
    pub name: String,
    pub description: String,
    pub kind: joren_core::perk::PerkKind,
    pub allowed: bool,
    /// The gates met (any one suffices) and the ones missed, in Japanese words.
    pub because: Vec<String>,
    pub missing: Vec<String>,
    /// The same gates by the names staff know, for a page to word in its reader's language.
    pub met_gates: Vec<GateName>,
    pub missing_gates: Vec<GateName>,
}

/// A gate named by what it names: the tier, plan or segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GateName {
    Rank { tier: String },
    Membership { plan: String },
    Segment { segment: String },
}

impl App {
    pub async fn perks(&self) -> Result<Vec<Perk>> {
        Ok(self.store.perks().await?)
    }

    /// Creates (`id: None`) or changes a perk (owners); every gate must name something that
    /// exists.
    pub async fn save_perk(&self, actor: &Actor, id: Option<i64>, input: PerkInput) -> Result<Perk> {
        actor.require_owner()?;
        input.validate()?;
        let ranks = self.points_programme().await?.ranks;
        if let Some(l) = input.min_rank_level
            && usize::try_from(l).map_or(true, |l| l >= ranks.tiers.len())
        {
            return Err(FieldError::new("min_rank_level", joren_core::Code::NoSuchRank).arg(l).into());
        }
        if let Some(p) = input.membership_plan_id
            && !self.store.membership_plans().await?.iter().any(|x| x.id == p)
        {
            return Err(FieldError::new("membership_plan_id", joren_core::Code::NoSuchPlan).arg(p).into());
        }
        if let Some(s) = input.segment_id
            && self.store.saved_segment(s).await.is_err()
        {
            return Err(FieldError::new("segment_id", joren_core::Code::NoSuchSegment).arg(s).into());
        }
        let perk = self.store.save_perk(id, &input).await?;
        self.audit(actor, "perk.save", "perk", perk.id, serde_json::to_value(&input).unwrap_or_default()).await?;
        Ok(perk)
    }

    /// May customer `customer_id` use perk `perk_id`?
    pub async fn check_perk(&self, customer_id: i64, perk_id: i64) -> Result<PerkCheck> {
        let perk = self.store.perk(perk_id).await?;
        let checks = self.perk_checks(customer_id, vec![perk]).await?;
        checks.into_iter().next().ok_or(AppError::Internal("perk check".into()))
    }

    /// Every active perk with whether the customer may use it (the member page).
    pub async fn customer_perks(&self, customer_id: i64) -> Result<Vec<PerkCheck>> {
        let perks = self.store.perks().await?.into_iter().filter(|p| p.input.active).collect();
        self.perk_checks(customer_id, perks).await
    }

    async fn perk_checks(&self, customer_id: i64, perks: Vec<Perk>) -> Result<Vec<PerkCheck>> {
        let customer = self.store.get_customer(customer_id).await?;
        let ranks = self.points_programme().await?.ranks;
        let rank_level = if ranks.enabled {
            let row = self.store.customer_rank(customer_id).await?;
            Some(row.map_or(0, |r| ranks.clamp_level(r.level) as i64))
        } else {
            None
        };
        let plans = self.store.membership_plans().await?;
        let membership_plans = self
            .store
            .customer_memberships(customer_id)
            .await?
            .into_iter()
            .filter(|m| m.status == "active")
            .map(|m| m.plan_id)
            .collect();
        let mut segments = Vec::new();
        let mut segment_names = Vec::new();
        let mut wanted: Vec<i64> = perks.iter().filter_map(|p| p.input.segment_id).collect();
        wanted.sort_unstable();
        wanted.dedup();
        for id in wanted {
            let s = self.store.saved_segment(id).await?;
            let filter = joren_core::segment_filter::parse(&s.filter)?;
            if customer.merged_into.is_none() && self.store.segment_contains(&filter, customer_id).await? {
                segments.push(id);
            }
            segment_names.push((id, s.name));
        }
        let holder = Holder { rank_level, membership_plans, segments };
        let named = |g: &Gate| match *g {
            Gate::Rank { min_level } => GateName::Rank {
                tier: usize::try_from(min_level).map(|l| ranks.tier_name(l)).unwrap_or_default().to_string(),
            },
            Gate::Membership { plan_id } => GateName::Membership {
                plan: plans.iter().find(|p| p.id == plan_id).map(|p| p.name.as_str()).unwrap_or("?").to_string(),
            },
            Gate::Segment { segment_id } => GateName::Segment {
                segment: segment_names
                    .iter()
                    .find(|(i, _)| *i == segment_id)
                    .map(|(_, n)| n.as_str())
                    .unwrap_or("?")
                    .to_string(),
            },
        };
        let words = |g: &Gate| match named(g) {
            GateName::Rank { tier } => format!("ランク {tier} 以上"),
            GateName::Membership { plan } => format!("会員プラン「{plan}」"),
            GateName::Segment { segment } => format!("セグメント「{segment}」"),
        };
        Ok(perks
            .into_iter()
            .map(|p| {
                let (met, missing) = check(&p.input, &holder);
                PerkCheck {
                    perk_id: p.id,
                    name: p.input.name.clone(),
                    description: p.input.description.clone(),
                    kind: p.input.kind,
                    allowed: !met.is_empty() && p.input.active,
                    because: met.iter().map(words).collect(),
                    missing: missing.iter().map(words).collect(),
                    met_gates: met.iter().map(named).collect(),
                    missing_gates: missing.iter().map(named).collect(),
                }
            })
            .collect())
    }
}
