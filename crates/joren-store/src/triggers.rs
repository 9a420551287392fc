//! Who the daily scenario triggers pick on a local day, each with the occurrence that makes
//! an entry once per thing: an expected purchase date, an expiry date, a ticket, a paid period.

use chrono::NaiveDate;
use sqlx::Row;

use crate::points::day_number;
use crate::{Result, Store};

impl Store {
    /// Customers whose expected next purchase (in the latest complete snapshot) was `expected`
    /// and who have not ordered since that snapshot was made. Occurrence `overdue:<date>`.
    pub async fn overdue_on(&self, expected: NaiveDate) -> Result<Vec<(i64, String)>> {
        let Some(snapshot) = self.latest_snapshot().await? else { return Ok(Vec::new()) };
        let date = expected.format("%Y-%m-%d").to_string();
        let rows = sqlx::query(
            "SELECT m.customer_id FROM customer_metrics m JOIN customers c ON c.id = m.customer_id \
             WHERE m.snapshot_id = $1 AND m.expected_next_purchase = $2 AND c.merged_into IS NULL \
             AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = m.customer_id \
             AND o.status <> 'cancelled' AND o.ordered_at > $3) ORDER BY m.customer_id",
        )
        .bind(snapshot.id)
        .bind(&date)
        .bind(snapshot.computed_at.timestamp_millis())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((r.try_get("customer_id")?, format!("overdue:{date}")))).collect()
    }

    /// Customers whose nearest expiring points (counted from `today`) expire on `day`.
    /// Occurrence `points:<day>`.
    pub async fn points_expiring_on(&self, today: NaiveDate, day: NaiveDate) -> Result<Vec<(i64, String)>> {
        Ok(self
            .points_expiring(today, day)
            .await?
            .into_iter()
            .filter(|(_, _, first)| *first == day)
            .map(|(c, _, first)| (c, format!("points:{first}")))
            .collect())
    }

    /// Active 回数券 usable on `today` with between 1 and `remaining` visits left.
    /// Occurrence `ticket:<id>:low`.
    pub async fn tickets_low(&self, remaining: i64, today: NaiveDate) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query(
            "SELECT id, customer_id FROM tickets WHERE status = 'active' AND visits - used > 0 \
             AND visits - used <= $1 AND (last_day IS NULL OR last_day >= $2) ORDER BY id",
        )
        .bind(remaining)
        .bind(day_number(today))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("customer_id")?, format!("ticket:{}:low", r.try_get::<i64, _>("id")?))))
            .collect()
    }

    /// Active 回数券 with visits left whose last usable day is `day`.
    /// Occurrence `ticket:<id>:expiring`.
    pub async fn tickets_expiring_on(&self, day: NaiveDate) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query(
            "SELECT id, customer_id FROM tickets WHERE status = 'active' AND visits - used > 0 AND last_day = $1 \
             ORDER BY id",
        )
        .bind(day_number(day))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("customer_id")?, format!("ticket:{}:expiring", r.try_get::<i64, _>("id")?))))
            .collect()
    }

    /// Active memberships paid until `day` (their renewal is due).
    /// Occurrence `membership:<id>:<day>`.
    pub async fn memberships_due_on(&self, day: NaiveDate) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query(
            "SELECT id, customer_id FROM memberships WHERE status = 'active' AND paid_until_day = $1 ORDER BY id",
        )
        .bind(day_number(day))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("customer_id")?, format!("membership:{}:{day}", r.try_get::<i64, _>("id")?))))
            .collect()
    }
}
