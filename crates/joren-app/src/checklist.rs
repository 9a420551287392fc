//! The retention checklist, graded by Joren from the shop's data (`joren_core::checklist`):
//! the store's counts, the active scenarios (a post-purchase timeline, saved segments in use,
//! control groups), the points programme, and the age of the last metrics snapshot.

use joren_core::checklist::{Facts, Grade, Item, grade_all};
use joren_core::scenario::{Step, Trigger};
use serde::Serialize;

use crate::{App, Result};

/// The graded checklist.
#[derive(Debug, Clone, Serialize)]
pub struct Checklist {
    pub items: Vec<Item>,
    pub met: usize,
    pub partly: usize,
    pub facts: Facts,
}

impl App {
    /// Grades the retention checklist now.
    pub async fn retention_checklist(&self) -> Result<Checklist> {
        let now = self.config.clock.now_ms();
        let exit_key = crate::surveys::ready::EXIT_REASON_KEY;
        let counts = self.store.checklist_counts(now, exit_key).await?;
        let active = self.active_definitions().await?;
        let uses_segment = |d: &joren_core::scenario::Definition| {
            matches!(d.trigger, Trigger::SavedSegmentEntered { .. } | Trigger::SavedSegmentLeft { .. })
                || d.steps.iter().any(|s| matches!(s, Step::Check { segment_id: Some(_), .. }))
        };
        let programme = self.points_programme().await?;
        let facts = Facts {
            customers: counts.customers,
            reachable: counts.reachable,
            imports: counts.imports,
            saved_segments: counts.saved_segments,
            segments_in_use: active.iter().filter(|(_, d)| uses_segment(d)).count() as u64,
            active_scenarios: active.len() as u64,
            order_scenarios: active.iter().filter(|(_, d)| d.trigger == Trigger::OrderPlaced).count() as u64,
            holdout_scenarios: active.iter().filter(|(_, d)| d.holdout_percent > 0).count() as u64,
            messages_30d: counts.messages_30d,
            messaged_customers_30d: counts.messaged_customers_30d,
            active_customers: counts.active_customers,
            programme_enabled: programme.enabled,
            ranks_or_tickets: counts.ranked_or_ticketed > 0,
            perks: counts.perks,
            surveys: counts.surveys,
            responses_90d: counts.responses_90d,
            cases_90d: counts.cases_90d,
            cases_in_time_90d: counts.cases_in_time_90d,
            prevented_90d: counts.prevented_90d,
            churn_reasons: counts.cancel_reasons + counts.exit_answers,
            snapshot_age_days: counts.last_snapshot_ms.map(|at| (now - at).max(0) / 86_400_000),
            buyers: counts.buyers,
            regulars: counts.regulars,
            staged_customers: counts.staged_customers,
        };
        let items = grade_all(&facts);
        let met = items.iter().filter(|i| i.grade == Grade::Met).count();
        let partly = items.iter().filter(|i| i.grade == Grade::Partly).count();
        Ok(Checklist { items, met, partly, facts })
    }
}
