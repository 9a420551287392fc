//! Customer-success stages (see the migration `0037_stages.sql`): the facts the nightly rules
//! read, each customer's stage, and changes written with their history rows and
//! `stage.changed` events in one transaction.

use std::collections::HashMap;

use joren_core::success::Facts;
use serde::Serialize;
use sqlx::Row;

use crate::{Result, Store};

/// A customer's stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerStage {
    pub stage: String,
    pub since_ms: i64,
    /// Set by staff (the rules leave it alone).
    pub by_staff: bool,
}

/// A change to write.
#[derive(Debug, Clone)]
pub struct StageChange {
    pub customer_id: i64,
    pub from: Option<String>,
    pub to: String,
    pub by_staff: bool,
    pub by_name: String,
}

impl Store {
    /// The rules' facts for every customer with an order, at `now_ms`.
    pub async fn stage_facts(&self, now_ms: i64) -> Result<HashMap<i64, Facts>> {
        let d90 = now_ms - 90 * 86_400_000;
        let d180 = now_ms - 180 * 86_400_000;
        let rows = sqlx::query(
            "SELECT customer_id, COUNT(*) AS n, \
             CAST(SUM(CASE WHEN ordered_at >= $1 THEN 1 ELSE 0 END) AS BIGINT) AS n90, \
             CAST(SUM(CASE WHEN ordered_at >= $1 THEN total - refunded ELSE 0 END) AS BIGINT) AS s90, \
             CAST(SUM(CASE WHEN ordered_at >= $2 AND ordered_at < $1 THEN total - refunded ELSE 0 END) AS BIGINT) AS sp \
             FROM orders WHERE status <> 'cancelled' GROUP BY customer_id",
        )
        .bind(d90)
        .bind(d180)
        .fetch_all(&self.pool)
        .await?;
        let mut out = HashMap::with_capacity(rows.len());
        for r in rows {
            let get = |k: &str| -> Result<i64> { Ok(r.try_get::<Option<i64>, _>(k)?.unwrap_or_default()) };
            out.insert(
                r.try_get::<i64, _>("customer_id")?,
                Facts {
                    orders: get("n")?.max(0) as u64,
                    orders_90d: get("n90")?.max(0) as u64,
                    spent_90d: get("s90")?,
                    spent_prior_90d: get("sp")?,
                    nps: None,
                    referrals: 0, // read below
                },
            );
        }
        // The latest NPS answer of each customer.
        for (customer, nps) in self.latest_nps().await? {
            if let Some(f) = out.get_mut(&customer) {
                f.nps = Some(nps);
            }
        }
        // The referrals each one made that were rewarded (and not taken back).
        for (customer, n) in self.referral_counts().await? {
            if let Some(f) = out.get_mut(&customer) {
                f.referrals = n;
            }
        }
        Ok(out)
    }

    /// Every customer's stage.
    pub async fn customer_stages(&self) -> Result<HashMap<i64, CustomerStage>> {
        let rows = sqlx::query("SELECT customer_id, stage, since_at, by_staff FROM customer_stages")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("customer_id")?,
                    CustomerStage {
                        stage: r.try_get("stage")?,
                        since_ms: r.try_get("since_at")?,
                        by_staff: r.try_get::<i64, _>("by_staff")? != 0,
                    },
                ))
            })
            .collect()
    }

    pub async fn customer_stage(&self, customer_id: i64) -> Result<Option<CustomerStage>> {
        let row = sqlx::query("SELECT stage, since_at, by_staff FROM customer_stages WHERE customer_id = $1")
            .bind(customer_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(CustomerStage {
                stage: r.try_get("stage")?,
                since_ms: r.try_get("since_at")?,
                by_staff: r.try_get::<i64, _>("by_staff")? != 0,
            })
        })
        .transpose()
    }

    /// Writes stage changes with their history rows and events, in one transaction. A change
    /// whose `from` no longer holds (another writer moved the customer) is skipped.
    pub async fn set_stages(&self, changes: &[StageChange], now_ms: i64) -> Result<usize> {
        let mut tx = self.begin_write().await?;
        let mut done = 0;
        for c in changes {
            let moved = match &c.from {
                Some(from) => sqlx::query(
                    "UPDATE customer_stages SET stage = $1, since_at = CASE WHEN stage = $1 THEN since_at ELSE $2 END, \
                         by_staff = $3, updated_at = $2 WHERE customer_id = $4 AND stage = $5",
                )
                .bind(&c.to)
                .bind(now_ms)
                .bind(c.by_staff as i64)
                .bind(c.customer_id)
                .bind(from)
                .execute(&mut *tx)
                .await?
                .rows_affected(),
                None => sqlx::query(
                    "INSERT INTO customer_stages (customer_id, stage, since_at, by_staff, updated_at) \
                     VALUES ($1, $2, $3, $4, $3) ON CONFLICT (customer_id) DO NOTHING",
                )
                .bind(c.customer_id)
                .bind(&c.to)
                .bind(now_ms)
                .bind(c.by_staff as i64)
                .execute(&mut *tx)
                .await?
                .rows_affected(),
            };
            if moved == 0 || c.from.as_deref() == Some(c.to.as_str()) {
                continue;
            }
            sqlx::query(
                "INSERT INTO stage_changes (customer_id, from_stage, to_stage, by_staff, by_name, at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(c.customer_id)
            .bind(&c.from)
            .bind(&c.to)
            .bind(c.by_staff as i64)
            .bind(&c.by_name)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
            let payload = serde_json::json!({"from": c.from, "to": c.to, "by_staff": c.by_staff});
            let kind = joren_core::event::EventKind::StageChanged;
            crate::events::insert(&mut tx, kind, c.customer_id, "customer", c.customer_id, &payload).await?;
            done += 1;
        }
        tx.commit().await?;
        Ok(done)
    }

    /// Every stage change, by customer and time: (customer, stage entered, at).
    pub async fn stage_history(&self) -> Result<Vec<(i64, String, i64)>> {
        let rows = sqlx::query("SELECT customer_id, to_stage, at FROM stage_changes ORDER BY customer_id, at, id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok((r.try_get("customer_id")?, r.try_get("to_stage")?, r.try_get("at")?))).collect()
    }
}
