//! The audit log: who changed what, when.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use crate::{Result, Store, from_ms, now_ms};

/// One audit record.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub user_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub detail: serde_json::Value,
}

/// Who an audit record written inside another write's transaction names.
#[derive(Debug, Clone, Copy)]
pub struct AuditActor<'a> {
    pub user_id: Option<i64>,
    pub name: &'a str,
}

/// Appends an audit record inside the caller's transaction, so the change and its record commit
/// together (one commit instead of two).
pub(crate) async fn insert_in(
    tx: &mut crate::db::Tx,
    who: AuditActor<'_>,
    action: &str,
    entity: &str,
    entity_id: &str,
    detail: &serde_json::Value,
) -> Result<()> {
    insert(&mut **tx, who, action, entity, entity_id, detail).await
}

async fn insert<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    who: AuditActor<'_>,
    action: &str,
    entity: &str,
    entity_id: &str,
    detail: &serde_json::Value,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, user_id, actor, action, entity, entity_id, detail) VALUES ($1,$2,$3,$4,$5,$6,$7)",
    )
    .bind(now_ms())
    .bind(who.user_id)
    .bind(who.name)
    .bind(action)
    .bind(entity)
    .bind(entity_id)
    .bind(detail.to_string())
    .execute(executor)
    .await?;
    Ok(())
}

impl Store {
    /// Appends an audit record.
    pub async fn audit(
        &self,
        user_id: Option<i64>,
        actor: &str,
        action: &str,
        entity: &str,
        entity_id: &str,
        detail: &serde_json::Value,
    ) -> Result<()> {
        insert(&self.pool, AuditActor { user_id, name: actor }, action, entity, entity_id, detail).await
    }

    /// Newest audit records, optionally for one entity (`customer`, `42`).
    pub async fn audit_log(&self, entity: Option<(&str, &str)>, limit: i64) -> Result<Vec<AuditEntry>> {
        let (e, id) = entity.unwrap_or(("", ""));
        let rows = sqlx::query(
            "SELECT id, at, user_id, actor, action, entity, entity_id, detail FROM audit_log \
             WHERE ($1 = '' OR (entity = $1 AND entity_id = $2)) ORDER BY id DESC LIMIT $3",
        )
        .bind(e)
        .bind(id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.try_get("id")?,
                    at: from_ms(r.try_get("at")?),
                    user_id: r.try_get("user_id")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    entity: r.try_get("entity")?,
                    entity_id: r.try_get("entity_id")?,
                    detail: serde_json::from_str(&r.try_get::<String, _>("detail")?).unwrap_or_default(),
                })
            })
            .collect()
    }
}
