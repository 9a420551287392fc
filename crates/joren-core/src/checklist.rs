//! The retention checklist (顧客維持のチェックリスト, issue #20), graded from the shop's own
//! data: three phases — 基盤構築 (the ground), 施策実行 (acting), 継続改善 (improving) — each
//! item met, partly or not yet, with the evidence (numbers the grade was read from) and the
//! page where it is done. Pure: the facts are counted by the store.

use serde::Serialize;

/// What the checklist is graded from (counts over the windows named).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Facts {
    pub customers: u64,
    /// Customers with an email address, a phone number or a linked LINE user.
    pub reachable: u64,
    /// Import runs ever.
    pub imports: u64,
    pub saved_segments: u64,
    /// Active scenarios that a saved segment starts or that check one.
    pub segments_in_use: u64,
    pub active_scenarios: u64,
    /// Active scenarios started by an order (the post-purchase timeline).
    pub order_scenarios: u64,
    /// Active scenarios with a control group.
    pub holdout_scenarios: u64,
    /// Messages sent in the last 30 days, and the customers they reached.
    pub messages_30d: u64,
    pub messaged_customers_30d: u64,
    /// Customers who ordered in the last 365 days.
    pub active_customers: u64,
    pub programme_enabled: bool,
    pub ranks_or_tickets: bool,
    pub perks: u64,
    pub surveys: u64,
    pub responses_90d: u64,
    /// Cases opened in the last 90 days, and those answered by their deadline.
    pub cases_90d: u64,
    pub cases_in_time_90d: u64,
    /// Cases closed with their prevention in the last 90 days.
    pub prevented_90d: u64,
    /// Exit-survey answers and membership cancel reasons recorded.
    pub churn_reasons: u64,
    /// Days since the last metrics snapshot (None: never).
    pub snapshot_age_days: Option<i64>,
    /// Customers with an order, and those with 3 or more (常連).
    pub buyers: u64,
    pub regulars: u64,
    /// Customers with a customer-success stage set.
    pub staged_customers: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Grade {
    Met,
    Partly,
    NotYet,
}

/// One item graded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    /// `foundation`, `execution`, `improvement`.
    pub phase: &'static str,
    /// The item's code (its words are `checklist.{code}`).
    pub code: &'static str,
    pub grade: Grade,
    /// The evidence's word key (`checklist.{code}.evidence`) and its values.
    pub evidence: Vec<String>,
    /// Where it is done.
    pub link: &'static str,
}

fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 / whole as f64 }
}

fn pct(part: u64, whole: u64) -> String {
    format!("{:.0}", share(part, whole) * 100.0)
}

fn grade(met: bool, partly: bool) -> Grade {
    if met {
        Grade::Met
    } else if partly {
        Grade::Partly
    } else {
        Grade::NotYet
    }
}

/// Grades every item.
pub fn grade_all(f: &Facts) -> Vec<Item> {
    let item = |phase, code, grade, evidence: Vec<String>, link| Item { phase, code, grade, evidence, link };
    let reach = share(f.reachable, f.customers);
    let in_time = share(f.cases_in_time_90d, f.cases_90d);
    let regulars = share(f.regulars, f.buyers);
    let messaged = share(f.messaged_customers_30d, f.active_customers);
    vec![
        item(
            "foundation",
            "customer_data",
            grade(f.customers > 0 && reach >= 0.8, f.customers > 0 && (reach >= 0.5 || f.imports > 0)),
            vec![f.customers.to_string(), pct(f.reachable, f.customers)],
            "/import",
        ),
        item(
            "foundation",
            "segments",
            grade(f.segments_in_use > 0, f.saved_segments > 0),
            vec![f.saved_segments.to_string(), f.segments_in_use.to_string()],
            "/segments",
        ),
        item("foundation", "loyalty", grade(f.programme_enabled, f.ranks_or_tickets), vec![], "/settings/points"),
        item("foundation", "perks", grade(f.perks > 0, false), vec![f.perks.to_string()], "/perks"),
        item(
            "execution",
            "follow_up",
            grade(f.order_scenarios > 0, f.active_scenarios > 0),
            vec![f.active_scenarios.to_string(), f.order_scenarios.to_string()],
            "/scenarios",
        ),
        item(
            "execution",
            "communication",
            grade(f.messages_30d > 0 && messaged >= 0.1, f.messages_30d > 0),
            vec![f.messages_30d.to_string(), pct(f.messaged_customers_30d, f.active_customers)],
            "/outbox",
        ),
        item(
            "execution",
            "satisfaction",
            grade(f.responses_90d >= 10, f.responses_90d > 0 || f.surveys > 0),
            vec![f.surveys.to_string(), f.responses_90d.to_string()],
            "/surveys",
        ),
        item(
            "execution",
            "service_quality",
            grade(f.cases_90d > 0 && in_time >= 0.9, f.cases_90d > 0 && in_time >= 0.7),
            vec![f.cases_90d.to_string(), pct(f.cases_in_time_90d, f.cases_90d)],
            "/cases",
        ),
        item(
            "execution",
            "success_support",
            grade(f.staged_customers >= 10, f.staged_customers > 0),
            vec![f.staged_customers.to_string()],
            "/stages",
        ),
        item(
            "improvement",
            "kpi_review",
            grade(f.snapshot_age_days.is_some_and(|d| d <= 7), f.snapshot_age_days.is_some()),
            vec![f.snapshot_age_days.map(|d| d.to_string()).unwrap_or_else(|| "–".into())],
            "/dashboard",
        ),
        item(
            "improvement",
            "feedback_acted",
            grade(f.prevented_90d > 0, f.responses_90d > 0 || f.cases_90d > 0),
            vec![f.responses_90d.to_string(), f.prevented_90d.to_string()],
            "/cases/report",
        ),
        item(
            "improvement",
            "churn_reasons",
            grade(f.churn_reasons >= 5, f.churn_reasons > 0),
            vec![f.churn_reasons.to_string()],
            "/surveys/churn-reasons",
        ),
        item(
            "improvement",
            "long_term",
            grade(f.buyers > 0 && regulars >= 0.3, f.buyers > 0 && regulars >= 0.15),
            vec![f.regulars.to_string(), pct(f.regulars, f.buyers)],
            "/dashboard",
        ),
        item(
            "improvement",
            "effects_verified",
            grade(f.holdout_scenarios > 0, f.active_scenarios > 0),
            vec![f.holdout_scenarios.to_string()],
            "/scenarios",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(items: &[Item], code: &str) -> Grade {
        items.iter().find(|i| i.code == code).unwrap().grade
    }

    #[test]
    fn a_new_shop_has_nothing_met_and_each_fact_moves_its_item() {
        let empty = grade_all(&Facts::default());
        assert_eq!(empty.len(), 14);
        assert!(empty.iter().all(|i| i.grade == Grade::NotYet), "{empty:?}");
        let phases: Vec<&str> = empty.iter().map(|i| i.phase).collect();
        assert_eq!(phases.iter().filter(|p| **p == "foundation").count(), 4);
        let mut f = Facts { customers: 100, reachable: 60, ..Facts::default() };
        assert_eq!(g(&grade_all(&f), "customer_data"), Grade::Partly);
        f.reachable = 85;
        assert_eq!(g(&grade_all(&f), "customer_data"), Grade::Met);
        assert_eq!(grade_all(&f)[0].evidence, ["100", "85"]);
        f.responses_90d = 3;
        assert_eq!(g(&grade_all(&f), "satisfaction"), Grade::Partly);
        f.responses_90d = 12;
        assert_eq!(g(&grade_all(&f), "satisfaction"), Grade::Met);
        f.cases_90d = 10;
        f.cases_in_time_90d = 8;
        assert_eq!(g(&grade_all(&f), "service_quality"), Grade::Partly);
        f.cases_in_time_90d = 9;
        assert_eq!(g(&grade_all(&f), "service_quality"), Grade::Met);
        f.buyers = 100;
        f.regulars = 20;
        assert_eq!(g(&grade_all(&f), "long_term"), Grade::Partly);
        f.snapshot_age_days = Some(30);
        assert_eq!(g(&grade_all(&f), "kpi_review"), Grade::Partly);
        f.snapshot_age_days = Some(1);
        assert_eq!(g(&grade_all(&f), "kpi_review"), Grade::Met);
    }
}
