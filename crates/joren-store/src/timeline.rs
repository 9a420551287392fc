//! The customer 360 timeline: orders, refunds/cancellations and interactions in one
//! chronological list (later: points, surveys, cases).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use crate::{Result, Store, from_ms};

/// One event on a customer's timeline.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    /// `order`, `refund`, `cancel`, or `interaction:<kind>`.
    pub kind: String,
    /// Id of the order or interaction.
    pub ref_id: i64,
    pub title: String,
    pub detail: String,
    pub amount: Option<i64>,
    pub currency: Option<String>,
    pub direction: Option<String>,
    pub staff_name: Option<String>,
}

impl Store {
    /// The newest `limit` events of a customer, newest first.
    pub async fn timeline(&self, customer_id: i64, limit: i64) -> Result<Vec<TimelineEntry>> {
        let mut out = Vec::new();
        let orders = sqlx::query(
            "SELECT o.id, o.ordered_at, o.total, o.currency, o.channel, o.status, \
             (SELECT COUNT(*) FROM order_items i WHERE i.order_id = o.id) AS n_items, \
             (SELECT name FROM order_items i WHERE i.order_id = o.id ORDER BY line_no LIMIT 1) AS first_item \
             FROM orders o WHERE o.customer_id = $1 ORDER BY o.ordered_at DESC LIMIT $2",
        )
        .bind(customer_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        for r in orders {
            let n: i64 = r.try_get("n_items")?;
            let first: Option<String> = r.try_get("first_item")?;
            let detail = match (first, n) {
                (Some(f), 1) => f,
                (Some(f), n) => format!("{f} ほか{}点", n - 1),
                _ => String::new(),
            };
            out.push(TimelineEntry {
                at: from_ms(r.try_get("ordered_at")?),
                kind: "order".into(),
                ref_id: r.try_get("id")?,
                title: format!("{} / {}", r.try_get::<String, _>("channel")?, r.try_get::<String, _>("status")?),
                detail,
                amount: Some(r.try_get("total")?),
                currency: Some(r.try_get("currency")?),
                direction: None,
                staff_name: None,
            });
        }
        let adjustments = sqlx::query(
            "SELECT a.order_id, a.kind, a.amount, a.reason, a.at, o.currency FROM order_adjustments a \
             JOIN orders o ON o.id = a.order_id WHERE o.customer_id = $1 ORDER BY a.at DESC LIMIT $2",
        )
        .bind(customer_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        for r in adjustments {
            out.push(TimelineEntry {
                at: from_ms(r.try_get("at")?),
                kind: r.try_get("kind")?,
                ref_id: r.try_get("order_id")?,
                title: format!("#{}", r.try_get::<i64, _>("order_id")?),
                detail: r.try_get("reason")?,
                amount: Some(-r.try_get::<i64, _>("amount")?),
                currency: Some(r.try_get("currency")?),
                direction: None,
                staff_name: None,
            });
        }
        for i in self.list_interactions(customer_id, limit).await? {
            out.push(TimelineEntry {
                at: i.occurred_at,
                kind: format!("interaction:{}", i.kind),
                ref_id: i.id,
                title: i.subject,
                detail: i.body,
                amount: None,
                currency: None,
                direction: Some(i.direction),
                staff_name: i.staff_name,
            });
        }
        out.sort_by(|a, b| b.at.cmp(&a.at).then(b.ref_id.cmp(&a.ref_id)));
        out.truncate(limit as usize);
        Ok(out)
    }
}
