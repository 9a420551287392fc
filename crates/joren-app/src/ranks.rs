//! Rank use cases: the daily evaluation (upgrades on the current window, reviews on review
//! dates), a customer's rank with what is missing to the next tier, manual changes with a
//! reason, the distribution and movement report, and the change feed for automation.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use joren_core::FieldError;
use joren_core::rank::{RankRules, ReviewOutcome};
use joren_store::{CustomerRank, RankChange, RankChangeNote, RankSpan, RankWrite, upgrade_write};
use serde::{Deserialize, Serialize};

use crate::{Actor, App, Result};

/// What a daily evaluation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RankRun {
    /// Customers raised on their current window.
    pub upgraded: usize,
    /// Customers reviewed (review dates only).
    pub reviewed: usize,
    pub downgraded: usize,
    /// Reviews that kept a customer's tier on grace.
    pub graced: usize,
}

/// A customer's rank as staff see it.
#[derive(Debug, Clone, Serialize)]
pub struct RankView {
    pub enabled: bool,
    pub level: usize,
    pub tier: String,
    pub since: Option<NaiveDate>,
    pub next_review: NaiveDate,
    /// The measured value over the current window, and the window.
    pub value: i64,
    pub window_from: NaiveDate,
    pub window_to: NaiveDate,
    pub measure: joren_core::rank::RankMeasure,
    /// The next tier and what is still missing to reach it.
    pub next_tier: Option<String>,
    pub missing: Option<i64>,
    pub grace_used: i64,
    pub points_multiplier_percent: i64,
    pub history: Vec<RankChange>,
}

/// A manual rank change.
#[derive(Debug, Clone, Deserialize)]
pub struct SetRankInput {
    /// The tier's level (0 = base) or its name.
    pub tier: serde_json::Value,
    pub reason: String,
}

/// Customers per tier and monthly movement.
#[derive(Debug, Clone, Serialize)]
pub struct RankReport {
    pub tiers: Vec<TierCount>,
    pub months: Vec<RankMonth>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TierCount {
    pub level: usize,
    pub tier: String,
    pub customers: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RankMonth {
    /// `YYYY-MM`.
    pub month: String,
    pub up: i64,
    pub down: i64,
    pub grace: i64,
}

impl App {
    fn rank_span(&self, window: (NaiveDate, NaiveDate), available_by: NaiveDate) -> RankSpan {
        RankSpan::new(window, self.tz(), available_by)
    }

    /// Evaluates every customer's rank as of local day `today`: first the reviews due (the
    /// period that ended before the latest review date is judged; grace, then downgrade), then
    /// upgrades on the window ending today. Safe to run any number of times a day: reviews are
    /// applied once per review date and every write checks the level it expects, so an upgrade
    /// an order made meanwhile is never overwritten.
    pub async fn evaluate_ranks(&self, today: NaiveDate) -> Result<RankRun> {
        let rules = self.points_programme().await?.ranks;
        let mut run = RankRun::default();
        if !rules.enabled || rules.tiers.is_empty() {
            return Ok(run);
        }
        let mut held: HashMap<i64, CustomerRank> =
            self.store.customer_ranks().await?.into_iter().map(|r| (r.customer_id, r)).collect();
        let mut writes = Vec::new();
        let review = rules.review_on_or_before(today);
        let due: Vec<i64> = held.values().filter(|r| r.reviewed < review).map(|r| r.customer_id).collect();
        if !due.is_empty() {
            let window = rules.review_window(review);
            let values: HashMap<i64, i64> = self
                .store
                .rank_values(rules.measure, &self.rank_span(window, window.1), None)
                .await?
                .into_iter()
                .collect();
            for id in due {
                let r = &held[&id];
                let value = values.get(&id).copied().unwrap_or(0);
                let w = review_write(&rules, r, value, review, today);
                match w.change.as_ref().map(|c| c.cause) {
                    Some("grace") => run.graced += 1,
                    Some(_) if w.rank.level < r.level => run.downgraded += 1,
                    _ => {}
                }
                run.reviewed += 1;
                held.insert(id, w.rank.clone());
                writes.push(w);
            }
        }
        let span = self.rank_span(rules.current_window(today), today);
        for (id, value) in self.store.rank_values(rules.measure, &span, None).await? {
            let current = held.get(&id);
            let level = current.map_or(0, |r| rules.clamp_level(r.level));
            if let Some(to) = rules.upgrade(level, value) {
                writes.push(upgrade_write(&rules, id, current, to, value, today));
                run.upgraded += 1;
            }
        }
        self.store.write_ranks(&writes).await?;
        Ok(run)
    }

    /// A customer's rank, the window's value, what is missing to the next tier and the history.
    pub async fn customer_rank(&self, customer_id: i64) -> Result<RankView> {
        self.store.get_customer(customer_id).await?;
        let rules = self.points_programme().await?.ranks;
        let today = self.today_date();
        let row = self.store.customer_rank(customer_id).await?;
        let level = row.as_ref().map_or(0, |r| rules.clamp_level(r.level));
        let window = rules.current_window(today);
        let value = self
            .store
            .rank_values(rules.measure, &self.rank_span(window, today), Some(customer_id))
            .await?
            .first()
            .map_or(0, |v| v.1);
        let next = rules.to_next_tier(level, value);
        Ok(RankView {
            enabled: rules.enabled,
            level,
            tier: rules.tier_name(level).to_string(),
            since: row.as_ref().map(|r| r.since),
            next_review: rules.next_review_after(today),
            value,
            window_from: window.0,
            window_to: window.1,
            measure: rules.measure,
            next_tier: next.map(|(l, _)| rules.tier_name(l).to_string()),
            missing: next.map(|(_, m)| m),
            grace_used: row.as_ref().map_or(0, |r| r.grace_used),
            points_multiplier_percent: rules.multiplier_percent(level),
            history: self.store.rank_history(customer_id, 50).await?,
        })
    }

    /// Sets a customer's tier by hand (staff with write rights; a reason is required and
    /// audited). The next review judges the customer as usual.
    pub async fn set_customer_rank(&self, actor: &Actor, customer_id: i64, input: SetRankInput) -> Result<RankView> {
        actor.require_write()?;
        crate::points::check_reason(&input.reason)?;
        self.store.get_customer(customer_id).await?;
        let rules = self.points_programme().await?.ranks;
        if !rules.enabled {
            return Err(FieldError::new("tier", joren_core::Code::RanksDisabled).into());
        }
        let level = match &input.tier {
            serde_json::Value::Number(n) => n.as_u64().and_then(|l| usize::try_from(l).ok()),
            serde_json::Value::String(s) => {
                s.trim().parse::<usize>().ok().or_else(|| rules.tiers.iter().position(|t| t.name == s.trim()))
            }
            _ => None,
        }
        .filter(|l| *l < rules.tiers.len())
        .ok_or_else(|| FieldError::new("tier", joren_core::Code::NoSuchRank).arg(&input.tier))?;
        let today = self.today_date();
        let held = self.store.customer_rank(customer_id).await?;
        let mut w = upgrade_write(&rules, customer_id, held.as_ref(), level, 0, today);
        if let Some(c) = &mut w.change {
            c.cause = "manual";
            c.reason = input.reason.trim().to_string();
            c.created_by = actor.user_id;
        }
        if self.store.write_ranks(&[w]).await? == 0 {
            return Err(crate::AppError::Conflict(joren_core::Code::ChangedMeanwhile.into()));
        }
        self.audit(
            actor,
            "rank.set",
            "customer",
            customer_id,
            serde_json::json!({"level": level, "tier": rules.tier_name(level), "reason": input.reason.trim()}),
        )
        .await?;
        self.customer_rank(customer_id).await
    }

    /// Customers per tier now and ups/downs per month over the last 12 months.
    pub async fn rank_report(&self) -> Result<RankReport> {
        let rules = self.points_programme().await?.ranks;
        let mut tiers: Vec<TierCount> = rules
            .tiers
            .iter()
            .enumerate()
            .map(|(level, t)| TierCount { level, tier: t.name.clone(), customers: 0 })
            .collect();
        for c in self.store.rank_distribution().await? {
            if let Some(t) = tiers.get_mut(rules.clamp_level(c.level)) {
                t.customers += c.customers;
            }
        }
        let first = self.today_date().with_day(1).unwrap_or_default();
        let from = first.checked_sub_months(chrono::Months::new(11)).unwrap_or(first);
        let mut months: Vec<RankMonth> = Vec::new();
        for d in self.store.rank_movement(from).await? {
            let month = d.day.format("%Y-%m").to_string();
            match months.last_mut() {
                Some(m) if m.month == month => {
                    m.up += d.up;
                    m.down += d.down;
                    m.grace += d.grace;
                }
                _ => months.push(RankMonth { month, up: d.up, down: d.down, grace: d.grace }),
            }
        }
        Ok(RankReport { tiers, months })
    }

    /// Rank changes after id `after`, oldest first (the automation's "rank changed" events).
    pub async fn rank_changes_after(&self, after: i64, limit: i64) -> Result<Vec<RankChange>> {
        Ok(self.store.rank_changes_after(after.max(0), limit.clamp(1, 1000)).await?)
    }
}

/// The write a review on `review` (run on `today`) makes for a customer held at `r` whose
/// reviewed period reached `value`.
fn review_write(rules: &RankRules, r: &CustomerRank, value: i64, review: NaiveDate, today: NaiveDate) -> RankWrite {
    let level = rules.clamp_level(r.level);
    let outcome = rules.review(level, u32::try_from(r.grace_used).unwrap_or(0), value);
    let (to, grace_used, cause) = match outcome {
        ReviewOutcome::Keep => (level, 0, None),
        ReviewOutcome::Up(to) | ReviewOutcome::Down(to) => (to, 0, Some("review")),
        ReviewOutcome::Grace { used } => (level, i64::from(used), Some("grace")),
    };
    let changed = to != level;
    RankWrite {
        customer_id: r.customer_id,
        expected_level: Some(r.level),
        rank: CustomerRank {
            customer_id: r.customer_id,
            level: to as i64,
            tier_name: rules.tier_name(to).to_string(),
            since: if changed { today } else { r.since },
            reviewed: review,
            grace_used,
        },
        change: cause.map(|cause| RankChangeNote {
            from_level: r.level,
            from_name: r.tier_name.clone(),
            cause,
            value,
            day: today,
            reason: String::new(),
            order_id: None,
            created_by: None,
        }),
    }
}
