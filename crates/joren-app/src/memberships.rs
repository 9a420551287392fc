//! Membership use cases: plans (owners), start and changes (renew, pause, resume, cancel with a
//! reason; idempotent by key), and the report: status per plan, churn reasons, and a cohort's
//! survivor counts with the shifted-beta-geometric fit projecting its retention.

use std::collections::{BTreeMap, HashMap};

use chrono::Datelike;
use joren_analytics::sbg;
use joren_core::FieldError;
use joren_core::membership::{CancelReason, MembershipPlanInput, periods_elapsed, survivors};
pub use joren_store::{Membership, MembershipChange, MembershipPlan};
use serde::{Deserialize, Serialize};

use crate::{Actor, App, Result, sha256_hex};

/// A start request.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartInput {
    pub plan_id: i64,
}

/// A change request: `action` renew, pause, resume or cancel (cancel needs a `reason` code).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeInput {
    pub action: String,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub note: String,
}

/// Members per status of one plan.
#[derive(Debug, Clone, Serialize)]
pub struct PlanStatus {
    pub plan_id: i64,
    pub name: String,
    pub active: i64,
    pub paused: i64,
    pub cancelled: i64,
}

/// Cancellations per reason.
#[derive(Debug, Clone, Serialize)]
pub struct ReasonCount {
    pub reason: &'static str,
    pub label: &'static str,
    pub cancelled: i64,
}

/// One start-month cohort of a plan and what the sBG model makes of it.
#[derive(Debug, Clone, Serialize)]
pub struct CohortRetention {
    pub plan_id: i64,
    /// `YYYY-MM`.
    pub month: String,
    /// Members still paying after 0, 1, 2 … periods.
    pub alive: Vec<u64>,
    /// sBG parameters, or why the model could not be fitted.
    pub alpha: Option<f64>,
    pub beta: Option<f64>,
    /// Projected share still subscribed after 0 … observed + 6 periods.
    pub projected_survival: Vec<f64>,
    pub not_fitted: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MembershipReport {
    pub plans: Vec<PlanStatus>,
    pub reasons: Vec<ReasonCount>,
    pub cohort: Option<CohortRetention>,
}

/// The first day of the month after `month`: periods are counted from there, so that every
/// member of a start-month cohort (the one who joined on the 31st too) has had each counted
/// period's renewal fall due.
fn month_end(month: chrono::NaiveDate) -> chrono::NaiveDate {
    month.checked_add_months(chrono::Months::new(1)).unwrap_or(month)
}

/// Cohorts smaller than this are not fitted.
const MIN_COHORT: usize = 10;

impl App {
    pub async fn membership_plans(&self) -> Result<Vec<MembershipPlan>> {
        Ok(self.store.membership_plans().await?)
    }

    /// Creates (`id: None`) or changes a plan (owners).
    pub async fn save_membership_plan(
        &self,
        actor: &Actor,
        id: Option<i64>,
        input: MembershipPlanInput,
    ) -> Result<MembershipPlan> {
        actor.require_owner()?;
        input.validate()?;
        let plan = self.store.save_membership_plan(id, &input).await?;
        let detail = serde_json::to_value(&input).unwrap_or_default();
        self.audit(actor, "membership_plan.save", "membership_plan", plan.id, detail).await?;
        Ok(plan)
    }

    /// Starts a membership today (staff); a retry with the same key answers the first.
    pub async fn start_membership(
        &self,
        actor: &Actor,
        customer_id: i64,
        input: StartInput,
        key: Option<&str>,
    ) -> Result<(Membership, bool)> {
        actor.require_write()?;
        let key = crate::scoped_idempotency_key(actor, key)?;
        let key = key.as_deref();
        let hash = sha256_hex(format!("{customer_id}:{}", input.plan_id).as_bytes());
        let note = actor.audit_note("membership.start", serde_json::json!({"customer_id": customer_id}));
        Ok(self
            .store
            .start_membership(customer_id, input.plan_id, self.today_date(), key, &hash, actor.user_id, &note)
            .await?)
    }

    /// Renews, pauses, resumes or cancels (staff); a cancellation needs a reason code, and its
    /// note is at most 1,000 characters.
    pub async fn change_membership(
        &self,
        actor: &Actor,
        id: i64,
        input: ChangeInput,
        key: Option<&str>,
    ) -> Result<(Membership, bool)> {
        actor.require_write()?;
        joren_core::text::check_text("note", &input.note, 1_000)?;
        let key = crate::scoped_idempotency_key(actor, key)?;
        let key = key.as_deref();
        let change = match input.action.as_str() {
            "renew" => MembershipChange::Renew,
            "pause" => MembershipChange::Pause,
            "resume" => MembershipChange::Resume,
            "cancel" => {
                let reason = input
                    .reason
                    .as_deref()
                    .and_then(CancelReason::parse)
                    .ok_or_else(|| FieldError::new("reason", joren_core::Code::Choose))?;
                MembershipChange::Cancel { reason, note: input.note.clone() }
            }
            other => {
                return Err(FieldError::new("action", joren_core::Code::NotOneOf)
                    .arg(other)
                    .arg("renew, pause, resume, cancel")
                    .into());
            }
        };
        let detail = serde_json::json!({"action": change.kind(), "reason": input.reason, "note": input.note});
        let note = actor.audit_note("membership.change", detail);
        Ok(self.store.change_membership(id, &change, self.today_date(), key, actor.user_id, &note).await?)
    }

    pub async fn membership(&self, id: i64) -> Result<Membership> {
        Ok(self.store.membership(id).await?)
    }

    pub async fn customer_memberships(&self, customer_id: i64) -> Result<Vec<Membership>> {
        self.store.get_customer(customer_id).await?;
        Ok(self.store.customer_memberships(customer_id).await?)
    }

    /// Status per plan, cancellations per reason, and for `plan_id` (default: the plan with the
    /// most members) its largest start-month cohort with at least two whole periods behind it,
    /// fitted with the shifted-beta-geometric model.
    pub async fn membership_report(&self, plan_id: Option<i64>) -> Result<MembershipReport> {
        let plans = self.store.membership_plans().await?;
        let facts = self.store.membership_facts().await?;
        let mut status: Vec<PlanStatus> = plans
            .iter()
            .map(|p| PlanStatus { plan_id: p.id, name: p.name.clone(), active: 0, paused: 0, cancelled: 0 })
            .collect();
        let mut reasons: HashMap<&str, i64> = HashMap::new();
        for f in &facts {
            if let Some(s) = status.iter_mut().find(|s| s.plan_id == f.plan_id) {
                match f.status.as_str() {
                    "active" => s.active += 1,
                    "paused" => s.paused += 1,
                    _ => s.cancelled += 1,
                }
            }
            if let Some(r) = f.cancel_reason.as_deref().and_then(CancelReason::parse) {
                *reasons.entry(r.as_str()).or_default() += 1;
            }
        }
        let reasons = CancelReason::ALL
            .iter()
            .map(|r| ReasonCount {
                reason: r.as_str(),
                label: r.label_ja(),
                cancelled: reasons.get(r.as_str()).copied().unwrap_or(0),
            })
            .collect();
        let plan = plan_id.or_else(|| {
            status.iter().max_by_key(|s| (s.active + s.paused + s.cancelled, -s.plan_id)).map(|s| s.plan_id)
        });
        let cohort = plan.and_then(|p| {
            let period = plans.iter().find(|x| x.id == p)?.period_months;
            self.cohort_retention(p, u32::try_from(period).unwrap_or(1), &facts)
        });
        Ok(MembershipReport { plans: status, reasons, cohort })
    }

    fn cohort_retention(
        &self,
        plan_id: i64,
        period_months: u32,
        facts: &[joren_store::MembershipFact],
    ) -> Option<CohortRetention> {
        let today = self.today_date();
        let mut months: BTreeMap<chrono::NaiveDate, Vec<u32>> = BTreeMap::new();
        for f in facts.iter().filter(|f| f.plan_id == plan_id) {
            let month = f.started_on.with_day(1)?;
            months.entry(month).or_default().push(u32::try_from(f.renewals).unwrap_or(0));
        }
        let (month, renewals) = months
            .into_iter()
            .filter(|(m, r)| periods_elapsed(month_end(*m), today, period_months) >= 2 && r.len() >= MIN_COHORT)
            .max_by_key(|(m, r)| (r.len(), std::cmp::Reverse(*m)))?;
        let observed = periods_elapsed(month_end(month), today, period_months);
        let alive = survivors(&renewals, observed);
        let (alpha, beta, projected_survival, not_fitted) = match sbg::fit(&alive) {
            Ok(fit) => {
                let curve = (0..=observed + 6).map(|t| sbg::survival(&fit.params, t)).collect();
                (Some(fit.params.alpha), Some(fit.params.beta), curve, None)
            }
            Err(e) => (None, None, Vec::new(), Some(e.to_string())),
        };
        Some(CohortRetention {
            plan_id,
            month: month.format("%Y-%m").to_string(),
            alive,
            alpha,
            beta,
            projected_survival,
            not_fitted,
        })
    }
}
