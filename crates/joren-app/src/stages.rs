//! Customer-success stages (issue #20): the nightly rules move each customer to the stage
//! their orders, answers and referrals show (`joren_core::success`), except where staff set
//! one; staff set or clear a customer's stage; the funnel counts customers per stage with the
//! days they spend in each. A change is a `stage.changed` event (a scenario trigger).

use std::collections::HashMap;

use joren_core::success::{Stage, by_rules};
pub use joren_store::CustomerStage;
use joren_store::StageChange;
use serde::Serialize;

use crate::{Actor, App, Result};

/// One stage of the funnel.
#[derive(Debug, Clone, Serialize)]
pub struct FunnelStage {
    pub stage: &'static str,
    pub customers: u64,
    /// The mean days spent in the stage by those who left it (None: nobody left it yet).
    pub mean_days_left: Option<f64>,
    /// The mean days the customers now in it have been there.
    pub mean_days_now: Option<f64>,
}

impl App {
    /// Moves every customer whose rules' stage changed (staff-set stages stay). Answers how
    /// many moved.
    pub async fn evaluate_stages(&self) -> Result<usize> {
        let now = self.config.clock.now_ms();
        let facts = self.store.stage_facts(now).await?;
        let current = self.store.customer_stages().await?;
        let mut changes = Vec::new();
        for (customer, f) in &facts {
            let Some(stage) = by_rules(f) else { continue };
            match current.get(customer) {
                Some(c) if c.by_staff || c.stage == stage.as_str() => {}
                other => changes.push(StageChange {
                    customer_id: *customer,
                    from: other.map(|c| c.stage.clone()),
                    to: stage.as_str().into(),
                    by_staff: false,
                    by_name: "rules".into(),
                }),
            }
        }
        let mut moved = 0;
        for chunk in changes.chunks(500) {
            moved += self.store.set_stages(chunk, now).await?;
        }
        Ok(moved)
    }

    /// Sets customer `id`'s stage by hand (it stays until changed by hand), or with `None`
    /// hands it back to the rules (applied at once). Audited.
    pub async fn set_customer_stage(
        &self,
        actor: &Actor,
        id: i64,
        stage: Option<Stage>,
    ) -> Result<Option<CustomerStage>> {
        actor.require_write()?;
        self.store.get_customer(id).await?;
        let current = self.store.customer_stage(id).await?;
        let now = self.config.clock.now_ms();
        let to = match stage {
            Some(s) => Some((s, true)),
            None => {
                let facts = self.store.stage_facts(now).await?;
                facts.get(&id).and_then(by_rules).map(|s| (s, false))
            }
        };
        if let Some((to, by_staff)) = to {
            let change = StageChange {
                customer_id: id,
                from: current.as_ref().map(|c| c.stage.clone()),
                to: to.as_str().into(),
                by_staff,
                by_name: actor.name.clone(),
            };
            self.store.set_stages(&[change], now).await?;
        }
        let detail = serde_json::json!({"stage": stage.map(Stage::as_str)});
        self.audit(actor, "customer.stage", "customer", id, detail).await?;
        Ok(self.store.customer_stage(id).await?)
    }

    pub async fn customer_stage(&self, id: i64) -> Result<Option<CustomerStage>> {
        Ok(self.store.customer_stage(id).await?)
    }

    /// The funnel: customers per stage and the days spent in each.
    pub async fn stage_funnel(&self) -> Result<Vec<FunnelStage>> {
        let now = self.config.clock.now_ms();
        let current = self.store.customer_stages().await?;
        let history = self.store.stage_history().await?;
        let day = 86_400_000.0;
        let mut left: HashMap<&str, Vec<f64>> = HashMap::new();
        for pair in history.windows(2) {
            let ((c1, s1, at1), (c2, _, at2)) = (&pair[0], &pair[1]);
            if c1 == c2 {
                left.entry(s1.as_str()).or_default().push((*at2 - *at1) as f64 / day);
            }
        }
        let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
        Ok(Stage::ALL
            .iter()
            .map(|s| {
                let here: Vec<f64> = current
                    .values()
                    .filter(|c| c.stage == s.as_str())
                    .map(|c| (now - c.since_ms).max(0) as f64 / day)
                    .collect();
                FunnelStage {
                    stage: s.as_str(),
                    customers: here.len() as u64,
                    mean_days_left: left.get(s.as_str()).and_then(|v| mean(v)),
                    mean_days_now: mean(&here),
                }
            })
            .collect())
    }
}
