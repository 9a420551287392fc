//! The counts the retention checklist is graded from (see `joren_core::checklist`): one
//! statement each, read together.

use sqlx::Row;

use crate::{Result, Store};

/// The store's part of the checklist's facts.
#[derive(Debug, Clone, Default)]
pub struct ChecklistCounts {
    pub customers: u64,
    pub reachable: u64,
    pub imports: u64,
    pub saved_segments: u64,
    pub messages_30d: u64,
    pub messaged_customers_30d: u64,
    pub active_customers: u64,
    pub ranked_or_ticketed: u64,
    pub perks: u64,
    pub surveys: u64,
    pub responses_90d: u64,
    pub cases_90d: u64,
    pub cases_in_time_90d: u64,
    pub prevented_90d: u64,
    pub cancel_reasons: u64,
    pub exit_answers: u64,
    pub last_snapshot_ms: Option<i64>,
    pub buyers: u64,
    pub regulars: u64,
    pub staged_customers: u64,
}

impl Store {
    /// The checklist's counts at `now_ms`; `exit_survey_key` is the question the exit
    /// survey's reason is stored under.
    pub async fn checklist_counts(&self, now_ms: i64, exit_survey_key: &str) -> Result<ChecklistCounts> {
        let day = 86_400_000_i64;
        let one = |sql: &'static str| sqlx::query(sql);
        let n = |r: sqlx::any::AnyRow| -> Result<u64> { Ok(r.try_get::<i64, _>(0)?.max(0) as u64) };
        let p = &self.pool;
        Ok(ChecklistCounts {
            customers: n(one("SELECT COUNT(*) FROM customers WHERE merged_into IS NULL").fetch_one(p).await?)?,
            reachable: n(one(
                "SELECT COUNT(*) FROM customers WHERE merged_into IS NULL AND (COALESCE(email, '') <> '' \
                 OR COALESCE(phone, '') <> '' OR COALESCE(line_user_id, '') <> '')",
            )
            .fetch_one(p)
            .await?)?,
            imports: n(one("SELECT COUNT(*) FROM audit_log WHERE action = 'import'").fetch_one(p).await?)?,
            saved_segments: n(one("SELECT COUNT(*) FROM saved_segments").fetch_one(p).await?)?,
            messages_30d: n(one("SELECT COUNT(*) FROM outbox WHERE state = 'sent' AND updated_at >= $1")
                .bind(now_ms - 30 * day)
                .fetch_one(p)
                .await?)?,
            messaged_customers_30d: n(one(
                "SELECT COUNT(DISTINCT customer_id) FROM outbox WHERE state = 'sent' AND updated_at >= $1",
            )
            .bind(now_ms - 30 * day)
            .fetch_one(p)
            .await?)?,
            active_customers: n(one(
                "SELECT COUNT(DISTINCT customer_id) FROM orders WHERE ordered_at >= $1 AND status <> 'cancelled'",
            )
            .bind(now_ms - 365 * day)
            .fetch_one(p)
            .await?)?,
            ranked_or_ticketed: n(one(
                "SELECT (SELECT COUNT(*) FROM customer_ranks WHERE level > 0) + (SELECT COUNT(*) FROM tickets)",
            )
            .fetch_one(p)
            .await?)?,
            perks: n(one("SELECT COUNT(*) FROM perks WHERE active = 1").fetch_one(p).await?)?,
            surveys: n(one("SELECT COUNT(*) FROM surveys WHERE archived = 0").fetch_one(p).await?)?,
            responses_90d: n(one("SELECT COUNT(*) FROM survey_responses WHERE answered_at >= $1")
                .bind(now_ms - 90 * day)
                .fetch_one(p)
                .await?)?,
            cases_90d: n(one(
                "SELECT COUNT(*) FROM cases WHERE opened_at >= $1 AND due_at IS NOT NULL AND due_at <= $2",
            )
            .bind(now_ms - 90 * day)
            .bind(now_ms)
            .fetch_one(p)
            .await?)?,
            cases_in_time_90d: n(one(
                "SELECT COUNT(*) FROM cases WHERE opened_at >= $1 AND due_at IS NOT NULL AND due_at <= $2 \
                 AND first_response_at IS NOT NULL AND first_response_at <= due_at",
            )
            .bind(now_ms - 90 * day)
            .bind(now_ms)
            .fetch_one(p)
            .await?)?,
            prevented_90d: n(one("SELECT COUNT(*) FROM cases WHERE closed_at >= $1 AND prevention <> ''")
                .bind(now_ms - 90 * day)
                .fetch_one(p)
                .await?)?,
            cancel_reasons: n(one(
                "SELECT COUNT(*) FROM memberships WHERE cancel_reason IS NOT NULL AND cancel_reason <> ''",
            )
            .fetch_one(p)
            .await?)?,
            exit_answers: n(sqlx::query("SELECT COUNT(*) FROM survey_responses WHERE answers LIKE $1")
                .bind(format!("%\"{exit_survey_key}\":%"))
                .fetch_one(p)
                .await?)?,
            last_snapshot_ms: sqlx::query_scalar("SELECT MAX(computed_at) FROM metric_snapshots WHERE complete = 1")
                .fetch_one(p)
                .await?,
            buyers: n(one("SELECT COUNT(DISTINCT customer_id) FROM orders WHERE status <> 'cancelled'")
                .fetch_one(p)
                .await?)?,
            regulars: n(one("SELECT COUNT(*) FROM (SELECT customer_id FROM orders WHERE status <> 'cancelled' \
                 GROUP BY customer_id HAVING COUNT(*) >= 3) x")
            .fetch_one(p)
            .await?)?,
            staged_customers: n(one("SELECT COUNT(*) FROM customer_stages").fetch_one(p).await?)?,
        })
    }
}
