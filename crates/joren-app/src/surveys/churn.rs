//! Why customers leave: the exit survey's reasons (leaving members, lapsed customers) joined
//! with the cancel reasons recorded when memberships were cancelled, counted by reason, with
//! the words customers wrote — each a click from its customer.

use joren_core::membership::CancelReason;
use serde::Serialize;

use super::ready::{EXIT_REASON_KEY, exit_reason_code};
use crate::{App, Result};

#[derive(Debug, Clone, Serialize)]
pub struct ChurnReasonRow {
    /// A membership cancel reason (`price`, `not_using`, `dissatisfied`, `moved`,
    /// `competitor`, `other`).
    pub reason: &'static str,
    pub exit_survey: u64,
    pub memberships: u64,
    pub total: u64,
}

/// What a leaving customer wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ChurnWords {
    pub customer_id: i64,
    pub customer_name: String,
    pub reason: &'static str,
    pub text: String,
    pub answered_at_ms: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChurnReasons {
    pub rows: Vec<ChurnReasonRow>,
    pub words: Vec<ChurnWords>,
}

impl App {
    /// The churn-reason report, all time.
    pub async fn churn_reasons(&self) -> Result<ChurnReasons> {
        let answers = self.store.responses_with_answer(EXIT_REASON_KEY, 5_000).await?;
        let facts = self.store.membership_facts().await?;
        let mut rows: Vec<ChurnReasonRow> = CancelReason::ALL
            .iter()
            .map(|r| ChurnReasonRow { reason: r.as_str(), exit_survey: 0, memberships: 0, total: 0 })
            .collect();
        let mut words = Vec::new();
        for a in &answers {
            let picked = match &a.answers[EXIT_REASON_KEY] {
                serde_json::Value::Array(v) => v.first().and_then(|x| x.as_str()).unwrap_or_default().to_string(),
                v => v.as_str().unwrap_or_default().to_string(),
            };
            let code = exit_reason_code(&picked);
            if let Some(r) = rows.iter_mut().find(|r| r.reason == code) {
                r.exit_survey += 1;
            }
            if !a.free_text.is_empty() && words.len() < 50 {
                words.push(ChurnWords {
                    customer_id: a.customer_id,
                    customer_name: a.customer_name.clone(),
                    reason: code,
                    text: a.free_text.clone(),
                    answered_at_ms: a.answered_at_ms,
                });
            }
        }
        for f in &facts {
            if let Some(code) = f.cancel_reason.as_deref().and_then(CancelReason::parse)
                && let Some(r) = rows.iter_mut().find(|r| r.reason == code.as_str())
            {
                r.memberships += 1;
            }
        }
        for r in &mut rows {
            r.total = r.exit_survey + r.memberships;
        }
        rows.retain(|r| r.total > 0);
        rows.sort_by_key(|r| std::cmp::Reverse(r.total));
        Ok(ChurnReasons { rows, words })
    }
}
