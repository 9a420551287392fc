//! `customer_facts`: one narrow row per live customer with every field a segment filter reads
//! (the newest snapshot's metrics, the filterable attributes, the current consents), so a
//! segment over a million customers is one scan of one table. Every write of a customer,
//! consent or snapshot brings the rows it touched up to date in its own transaction; each
//! refresh recomputes from the source rows, so refreshing a row twice is harmless.

use crate::db::Tx;
use crate::{Result, Store};

/// The metric columns of `customer_facts` and the `customer_metrics` columns they copy.
const METRICS: [(&str, &str); 9] = [
    ("segment", "segment"),
    ("churn_band", "churn_band"),
    ("churn_score", "churn_score"),
    ("p_alive", "p_alive"),
    ("clv_12m", "clv_12m"),
    ("expected_purchases_90d", "expected_purchases_90d"),
    ("recency_days", "recency_days"),
    ("frequency", "frequency"),
    ("total_spent", "monetary"),
];

/// The current consent of channel `ch` for customer `c` (the latest event; none means no).
macro_rules! consent {
    ($ch:literal) => {
        concat!(
            "COALESCE((SELECT e.granted FROM consent_events e WHERE e.customer_id = c.id AND e.channel = '",
            $ch,
            "' ORDER BY e.at DESC, e.id DESC LIMIT 1), 0)"
        )
    };
}

/// Recomputes the attribute and consent columns of the live customers with ids in `$1..=$2`
/// (metric columns are left alone: snapshots own them).
const UPSERT_ATTRIBUTES: &str = concat!(
    "INSERT INTO customer_facts (customer_id, birthday_month, prefecture, acquisition_source, acquisition_campaign, \
     owner_user_id, consent_email, consent_sms, consent_line, consent_dm) \
     SELECT c.id, CAST(SUBSTR(c.birthday, 6, 2) AS INTEGER), c.prefecture, c.acquisition_source, \
     c.acquisition_campaign, c.owner_user_id, ",
    consent!("email"),
    ", ",
    consent!("sms"),
    ", ",
    consent!("line"),
    ", ",
    consent!("dm"),
    " FROM customers c WHERE c.merged_into IS NULL AND c.id BETWEEN $1 AND $2 \
     ON CONFLICT (customer_id) DO UPDATE SET birthday_month = excluded.birthday_month, \
     prefecture = excluded.prefecture, acquisition_source = excluded.acquisition_source, \
     acquisition_campaign = excluded.acquisition_campaign, owner_user_id = excluded.owner_user_id, \
     consent_email = excluded.consent_email, consent_sms = excluded.consent_sms, \
     consent_line = excluded.consent_line, consent_dm = excluded.consent_dm"
);

impl Store {
    /// Brings the facts of customers `first..=last` up to date inside the caller's write:
    /// live customers get their attributes and consents recomputed, records merged away lose
    /// their row.
    pub(crate) async fn refresh_customer_facts(&self, tx: &mut Tx, first: i64, last: i64) -> Result<()> {
        sqlx::query(
            "DELETE FROM customer_facts WHERE customer_id BETWEEN $1 AND $2 AND customer_id IN \
             (SELECT id FROM customers WHERE merged_into IS NOT NULL AND id BETWEEN $1 AND $2)",
        )
        .bind(first)
        .bind(last)
        .execute(&mut **tx)
        .await?;
        sqlx::query(UPSERT_ATTRIBUTES).bind(first).bind(last).execute(&mut **tx).await?;
        Ok(())
    }

    /// Copies snapshot `snapshot_id`'s metrics into every customer's facts (customers left
    /// out of the snapshot get none), inside the snapshot's own transaction: one joined
    /// update, then the few customers the snapshot no longer covers are cleared.
    pub(crate) async fn copy_snapshot_to_facts(&self, tx: &mut Tx, snapshot_id: i64) -> Result<()> {
        let set = METRICS.map(|(column, source)| format!("{column} = m.{source}")).join(", ");
        let sql = format!(
            "UPDATE customer_facts SET {set} FROM customer_metrics m \
             WHERE m.snapshot_id = $1 AND m.customer_id = customer_facts.customer_id"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(snapshot_id).execute(&mut **tx).await?;
        let clear = METRICS.map(|(column, _)| format!("{column} = NULL")).join(", ");
        let sql = format!(
            "UPDATE customer_facts SET {clear} WHERE segment IS NOT NULL AND customer_id NOT IN \
             (SELECT customer_id FROM customer_metrics WHERE snapshot_id = $1)"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(snapshot_id).execute(&mut **tx).await?;
        Ok(())
    }

    /// Rebuilds every customer's facts from the customers, consents and newest complete
    /// snapshot (after the migration that added them, or to repair).
    pub async fn rebuild_customer_facts(&self) -> Result<()> {
        let mut tx = self.begin_bulk_write().await?;
        sqlx::query("DELETE FROM customer_facts").execute(&mut *tx).await?;
        self.refresh_customer_facts(&mut tx, i64::MIN, i64::MAX).await?;
        let newest: Option<i64> =
            sqlx::query_scalar("SELECT MAX(id) FROM metric_snapshots WHERE complete = 1").fetch_one(&mut *tx).await?;
        if let Some(snapshot_id) = newest {
            self.copy_snapshot_to_facts(&mut tx, snapshot_id).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Fills the facts when there are none but there are live customers: the first start
    /// after the migration that added them (cheap otherwise: two lookups).
    pub(crate) async fn fill_customer_facts_if_empty(&self) -> Result<()> {
        let has_facts: bool =
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM (SELECT 1 FROM customer_facts LIMIT 1) x")
                .fetch_one(&self.pool)
                .await?
                > 0;
        if has_facts {
            return Ok(());
        }
        let has_customers: bool = sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM (SELECT 1 FROM customers WHERE merged_into IS NULL LIMIT 1) x",
        )
        .fetch_one(&self.pool)
        .await?
            > 0;
        if has_customers {
            tracing::info!("filling customer_facts for segment filters");
            self.rebuild_customer_facts().await?;
        }
        Ok(())
    }

    /// How many live customers have a facts row (checks and diagnostics).
    pub async fn count_customer_facts(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM customer_facts").fetch_one(&self.pool).await?)
    }
}
