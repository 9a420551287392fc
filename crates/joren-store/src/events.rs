//! Customer events (see the migration `0018_events.sql`): rows pushed into the batch or
//! transaction of the change that causes them, and read back by customer or in order.

use joren_core::event::EventKind;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::batch::Batch;
use crate::db::Tx;
use crate::{Result, Store, now_ms};

/// An event as stored.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub id: i64,
    pub kind: String,
    pub customer_id: Option<i64>,
    pub entity: String,
    pub entity_id: String,
    pub payload: serde_json::Value,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
}

pub(crate) fn event_from_row(r: &AnyRow) -> Result<Event> {
    let payload: String = r.try_get("payload")?;
    Ok(Event {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        customer_id: r.try_get("customer_id")?,
        entity: r.try_get("entity")?,
        entity_id: r.try_get("entity_id")?,
        payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
        occurred_at: crate::from_ms(r.try_get("occurred_at")?),
    })
}

const INSERT: &str =
    "INSERT INTO events (kind, customer_id, entity, entity_id, payload, occurred_at) VALUES (?,?,?,?,?,?)";

/// Adds an event to `batch` (written with the change it records).
pub(crate) fn push(
    batch: &mut Batch,
    kind: EventKind,
    customer_id: i64,
    entity: &str,
    entity_id: i64,
    payload: &serde_json::Value,
) {
    batch
        .push(INSERT)
        .bind(kind.as_str().to_string())
        .bind(customer_id)
        .bind(entity.to_string())
        .bind(entity_id.to_string())
        .bind(payload.to_string())
        .bind(now_ms());
}

/// Writes an event inside `tx` (a statement of its own, for writes that do not batch).
pub(crate) async fn insert(
    tx: &mut Tx,
    kind: EventKind,
    customer_id: i64,
    entity: &str,
    entity_id: i64,
    payload: &serde_json::Value,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO events (kind, customer_id, entity, entity_id, payload, occurred_at) VALUES ($1,$2,$3,$4,$5,$6)",
    )
    .bind(kind.as_str())
    .bind(customer_id)
    .bind(entity)
    .bind(entity_id.to_string())
    .bind(payload.to_string())
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(crate) const COLUMNS: &str = "id, kind, customer_id, entity, entity_id, payload, occurred_at";

impl Store {
    /// A customer's events, newest first.
    pub async fn customer_events(&self, customer_id: i64, limit: i64) -> Result<Vec<Event>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM events WHERE customer_id = $1 ORDER BY id DESC LIMIT $2"
        )))
        .bind(customer_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// Events of `kind` that happened at or after `since_ms`, newest first, at most `limit`.
    pub async fn events_since(&self, kind: EventKind, since_ms: i64, limit: i64) -> Result<Vec<Event>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM events WHERE kind = $1 AND occurred_at >= $2 ORDER BY id DESC LIMIT $3"
        )))
        .bind(kind.as_str())
        .bind(since_ms)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// Events not yet acted on, oldest first.
    pub async fn pending_events(&self, limit: i64) -> Result<Vec<Event>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM events WHERE dispatched_at IS NULL ORDER BY id LIMIT $1"
        )))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from_row).collect()
    }
}
