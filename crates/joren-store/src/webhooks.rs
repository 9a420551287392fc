//! Outbound webhooks (see the migration `0031_webhooks.sql`): subscriptions, the fan-out of
//! events into deliveries (once per subscription and event, in the transaction that marks the
//! event), and deliveries claimed with a lease and finished under the attempt that claimed them.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::AuditNote;
use crate::{Result, Store, StoreError, from_ms};

/// A subscription: a URL and the event kinds it wants (`*`: all).
#[derive(Debug, Clone, Serialize)]
pub struct WebhookSubscription {
    pub id: i64,
    pub url: String,
    /// `whsec_…`: shown to owners so the receiver can check signatures.
    pub secret: String,
    pub events: Vec<String>,
    pub description: String,
    pub active: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl WebhookSubscription {
    /// Whether the subscription wants events of `kind`.
    pub fn wants(&self, kind: &str) -> bool {
        self.events.iter().any(|e| e == "*" || e == kind)
    }
}

/// A delivery with what sending it needs.
#[derive(Debug, Clone, Serialize)]
pub struct WebhookDelivery {
    pub id: i64,
    pub subscription_id: i64,
    pub url: String,
    #[serde(skip)]
    pub secret: String,
    pub event_id: Option<i64>,
    pub kind: String,
    pub payload: serde_json::Value,
    /// queued, sending, delivered, failed.
    pub state: String,
    pub attempts: i64,
    pub not_before: chrono::DateTime<chrono::Utc>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub response_ms: Option<i64>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub delivered_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// How a delivery attempt ended.
#[derive(Debug, Clone)]
pub enum HookOutcome {
    /// A 2xx answer.
    Delivered { status: i64, ms: i64 },
    /// Tried again at `at_ms`.
    Retry { at_ms: i64, status: Option<i64>, error: String, ms: Option<i64> },
    /// Given up, with the reason.
    Failed { status: Option<i64>, error: String, ms: Option<i64> },
}

const SUB_COLUMNS: &str = "id, url, secret, events, description, active, created_at";
const DELIVERY_SELECT: &str = "SELECT d.id, d.subscription_id, s.url, s.secret, d.event_id, d.kind, d.payload, \
    d.state, d.attempts, d.not_before, d.last_status, d.last_error, d.response_ms, d.created_at, d.delivered_at \
    FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id";

fn sub_from_row(r: &AnyRow) -> Result<WebhookSubscription> {
    let events: String = r.try_get("events")?;
    Ok(WebhookSubscription {
        id: r.try_get("id")?,
        url: r.try_get("url")?,
        secret: r.try_get("secret")?,
        events: events.split(',').map(str::trim).filter(|e| !e.is_empty()).map(str::to_string).collect(),
        description: r.try_get("description")?,
        active: r.try_get::<i64, _>("active")? != 0,
        created_at: from_ms(r.try_get("created_at")?),
    })
}

fn delivery_from_row(r: &AnyRow) -> Result<WebhookDelivery> {
    let payload: String = r.try_get("payload")?;
    Ok(WebhookDelivery {
        id: r.try_get("id")?,
        subscription_id: r.try_get("subscription_id")?,
        url: r.try_get("url")?,
        secret: r.try_get("secret")?,
        event_id: r.try_get("event_id")?,
        kind: r.try_get("kind")?,
        payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
        state: r.try_get("state")?,
        attempts: r.try_get("attempts")?,
        not_before: from_ms(r.try_get("not_before")?),
        last_status: r.try_get("last_status")?,
        last_error: r.try_get("last_error")?,
        response_ms: r.try_get("response_ms")?,
        created_at: from_ms(r.try_get("created_at")?),
        delivered_at: r.try_get::<Option<i64>, _>("delivered_at")?.map(from_ms),
    })
}

impl Store {
    /// Adds a subscription (audited in the same transaction); answers its id. Its `created_at`
    /// is stamped by the store's clock, the one events are stamped with: only events after it
    /// are offered to it.
    pub async fn create_webhook(
        &self,
        url: &str,
        secret: &str,
        events: &[String],
        description: &str,
        note: &AuditNote<'_>,
    ) -> Result<i64> {
        let now_ms = crate::now_ms();
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO webhook_subscriptions (url, secret, events, description, active, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 1, $5, $5) RETURNING id",
        )
        .bind(url)
        .bind(secret)
        .bind(events.join(","))
        .bind(description)
        .bind(now_ms)
        .fetch_one(&mut *tx)
        .await?;
        crate::audit::insert(&mut tx, note, "webhook", &id.to_string()).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Changes a subscription's URL, events, description and whether it is on (audited).
    pub async fn update_webhook(
        &self,
        id: i64,
        (url, events, description, active): (&str, &[String], &str, bool),
        now_ms: i64,
        note: &AuditNote<'_>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE webhook_subscriptions SET url = $2, events = $3, description = $4, active = $5, updated_at = $6 \
             WHERE id = $1",
        )
        .bind(id)
        .bind(url)
        .bind(events.join(","))
        .bind(description)
        .bind(active as i64)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound("webhook"));
        }
        crate::audit::insert(&mut tx, note, "webhook", &id.to_string()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes a subscription and its delivery log (audited).
    pub async fn delete_webhook(&self, id: i64, note: &AuditNote<'_>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM webhook_deliveries WHERE subscription_id = $1").bind(id).execute(&mut *tx).await?;
        let n = sqlx::query("DELETE FROM webhook_subscriptions WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound("webhook"));
        }
        crate::audit::insert(&mut tx, note, "webhook", &id.to_string()).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn webhooks(&self) -> Result<Vec<WebhookSubscription>> {
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {SUB_COLUMNS} FROM webhook_subscriptions ORDER BY id")))
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(sub_from_row).collect()
    }

    pub async fn webhook(&self, id: i64) -> Result<WebhookSubscription> {
        let row =
            sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {SUB_COLUMNS} FROM webhook_subscriptions WHERE id = $1")))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.as_ref().map(sub_from_row).transpose()?.ok_or(StoreError::NotFound("webhook"))
    }

    /// Offers up to `limit` events not offered yet to the active subscriptions that want them
    /// (and existed when the event happened): a delivery each, written with the events' mark in
    /// one transaction (on PostgreSQL the events are locked, skipping ones another worker
    /// holds). `payload(event)` is the body a delivery sends. Answers how many events it took.
    pub async fn fan_out_webhooks(
        &self,
        limit: i64,
        now_ms: i64,
        payload: impl Fn(&crate::Event) -> serde_json::Value,
    ) -> Result<usize> {
        let lock = self.backend().skip_locked();
        let active: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_subscriptions WHERE active = 1")
            .fetch_one(&self.pool)
            .await?;
        if active == 0 {
            // Nobody to offer them to (the usual case): the batch is marked without being read,
            // in one statement (one trip while holding the writer). A subscription switched on
            // since the count above stops it; the next pass offers the batch.
            let mut batch = crate::batch::Batch::new(self.backend());
            batch
                .push(&format!(
                    "UPDATE events SET hooked_at = ? WHERE id IN \
                     (SELECT id FROM events WHERE hooked_at IS NULL ORDER BY id LIMIT ?{lock}) \
                     AND NOT EXISTS (SELECT 1 FROM webhook_subscriptions WHERE active = 1) RETURNING id"
                ))
                .bind(now_ms)
                .bind(limit);
            return Ok(self.begin_write().await?.commit_returning(batch).await?.len());
        }
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM events WHERE hooked_at IS NULL ORDER BY id LIMIT $1{lock}",
            crate::events::COLUMNS
        )))
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            tx.commit().await?;
            return Ok(0);
        }
        let events = rows.iter().map(crate::events::event_from_row).collect::<Result<Vec<_>>>()?;
        let subs: Vec<WebhookSubscription> = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SUB_COLUMNS} FROM webhook_subscriptions WHERE active = 1"
        )))
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(sub_from_row)
        .collect::<Result<_>>()?;
        for e in &events {
            for s in subs.iter().filter(|s| s.wants(&e.kind) && s.created_at <= e.occurred_at) {
                sqlx::query(
                    "INSERT INTO webhook_deliveries (subscription_id, event_id, kind, payload, state, not_before, \
                     created_at, updated_at) VALUES ($1, $2, $3, $4, 'queued', $5, $5, $5) \
                     ON CONFLICT (subscription_id, event_id) DO NOTHING",
                )
                .bind(s.id)
                .bind(e.id)
                .bind(&e.kind)
                .bind(payload(e).to_string())
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
            }
        }
        let ids: Vec<String> = events.iter().map(|e| e.id.to_string()).collect();
        sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE events SET hooked_at = $1 WHERE id IN ({})", ids.join(","))))
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(events.len())
    }

    /// Queues a delivery that is no event's (the test button's `webhook.test`).
    pub async fn queue_webhook_delivery(
        &self,
        subscription_id: i64,
        kind: &str,
        payload: &serde_json::Value,
        now_ms: i64,
    ) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO webhook_deliveries (subscription_id, event_id, kind, payload, state, not_before, created_at, \
             updated_at) VALUES ($1, NULL, $2, $3, 'queued', $4, $4, $4) RETURNING id",
        )
        .bind(subscription_id)
        .bind(kind)
        .bind(payload.to_string())
        .bind(now_ms)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Leases up to `limit` due deliveries of active subscriptions (queued ones whose time has
    /// come, and ones whose sender's lease ran out); each claim counts an attempt.
    pub async fn claim_webhook_deliveries(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<WebhookDelivery>> {
        let due = "(state = 'queued' AND not_before <= $1) OR (state = 'sending' AND lease_until < $1)";
        // Asked first without the writer: most passes find nothing to send.
        let any: Option<i64> =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT id FROM webhook_deliveries WHERE {due} LIMIT 1")))
                .bind(now_ms)
                .fetch_optional(&self.pool)
                .await?;
        if any.is_none() {
            return Ok(Vec::new());
        }
        let mut tx = self.begin_write().await?;
        let lock = self.backend().skip_locked();
        let ids: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT id FROM webhook_deliveries WHERE {due} ORDER BY not_before, id LIMIT $2{lock}"
        )))
        .bind(now_ms)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        if ids.is_empty() {
            tx.commit().await?;
            return Ok(Vec::new());
        }
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE webhook_deliveries SET state = 'sending', attempts = attempts + 1, lease_until = $1, \
             updated_at = $2 WHERE id IN ({list})"
        )))
        .bind(now_ms + lease_ms)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("{DELIVERY_SELECT} WHERE d.id IN ({list}) ORDER BY d.id")))
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        rows.iter().map(delivery_from_row).collect()
    }

    /// Records how attempt `attempt` of delivery `id` ended; nothing when that attempt is no
    /// longer current (its lease ran out and another worker took it).
    pub async fn finish_webhook_delivery(
        &self,
        id: i64,
        attempt: i64,
        outcome: &HookOutcome,
        now_ms: i64,
    ) -> Result<()> {
        let (state, not_before, status, error, ms, delivered) = match outcome {
            HookOutcome::Delivered { status, ms } => ("delivered", None, Some(*status), None, Some(*ms), Some(now_ms)),
            HookOutcome::Retry { at_ms, status, error, ms } => {
                ("queued", Some(*at_ms), *status, Some(error), *ms, None)
            }
            HookOutcome::Failed { status, error, ms } => ("failed", None, *status, Some(error), *ms, None),
        };
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE webhook_deliveries SET state = $3, not_before = COALESCE($4, not_before), last_status = $5, \
             last_error = $6, response_ms = $7, delivered_at = $8, lease_until = NULL, updated_at = $9 \
             WHERE id = $1 AND attempts = $2 AND state = 'sending'",
        )
        .bind(id)
        .bind(attempt)
        .bind(state)
        .bind(not_before)
        .bind(status)
        .bind(error.map(|e| e.chars().take(500).collect::<String>()))
        .bind(ms)
        .bind(delivered)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The newest deliveries (of one subscription, in one state).
    pub async fn webhook_deliveries(
        &self,
        subscription_id: Option<i64>,
        state: Option<&str>,
        limit: i64,
    ) -> Result<Vec<WebhookDelivery>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{DELIVERY_SELECT} WHERE ($1 < 0 OR d.subscription_id = $1) AND ($2 = '' OR d.state = $2) \
             ORDER BY d.id DESC LIMIT $3"
        )))
        .bind(subscription_id.unwrap_or(-1))
        .bind(state.unwrap_or_default())
        .bind(limit.clamp(1, 1000))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(delivery_from_row).collect()
    }

    pub async fn webhook_delivery(&self, id: i64) -> Result<WebhookDelivery> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{DELIVERY_SELECT} WHERE d.id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(delivery_from_row).transpose()?.ok_or(StoreError::NotFound("webhook delivery"))
    }

    /// Queues a failed delivery again with fresh attempts; any other is a conflict.
    pub async fn retry_webhook_delivery(&self, id: i64, now_ms: i64, note: &AuditNote<'_>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE webhook_deliveries SET state = 'queued', attempts = 0, not_before = $2, updated_at = $2 \
             WHERE id = $1 AND state = 'failed'",
        )
        .bind(id)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM webhook_deliveries WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            return Err(match exists {
                None => StoreError::NotFound("webhook delivery"),
                Some(_) => StoreError::Conflict(joren_core::Problem::from(joren_core::Code::DeliveryNotFailed)),
            });
        }
        crate::audit::insert(&mut tx, note, "webhook_delivery", &id.to_string()).await?;
        tx.commit().await?;
        Ok(())
    }
}
