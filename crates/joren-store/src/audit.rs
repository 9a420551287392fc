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

/// Which audit records to read.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// One entity: (`customer`, `42`).
    pub entity: Option<(String, String)>,
    /// Done by this user.
    pub user_id: Option<i64>,
    /// At or after, and before (epoch ms).
    pub from_ms: Option<i64>,
    pub until_ms: Option<i64>,
    pub limit: i64,
    pub offset: i64,
}

/// Who an audit record written inside another write's transaction names.
#[derive(Debug, Clone, Copy)]
pub struct AuditActor<'a> {
    pub user_id: Option<i64>,
    pub name: &'a str,
}

/// Adds an audit record to `batch` (written with the change it records).
pub(crate) fn push(
    batch: &mut crate::batch::Batch,
    who: AuditActor<'_>,
    action: &str,
    entity: &str,
    entity_id: &str,
    detail: &serde_json::Value,
) {
    batch
        .push("INSERT INTO audit_log (at, user_id, actor, action, entity, entity_id, detail) VALUES (?,?,?,?,?,?,?)")
        .bind(now_ms())
        .bind(who.user_id)
        .bind(who.name.to_string())
        .bind(action.to_string())
        .bind(entity.to_string())
        .bind(entity_id.to_string())
        .bind(detail.to_string());
}

/// An audit record a write adds inside its own transaction, so the change and its record
/// are one: who, the action and what to note; the entity and its id are the write's.
#[derive(Debug, Clone)]
pub struct AuditNote<'a> {
    pub who: AuditActor<'a>,
    pub action: &'a str,
    pub detail: serde_json::Value,
}

/// Writes `note` for `entity` `entity_id` inside `tx`.
pub(crate) async fn insert(tx: &mut crate::db::Tx, note: &AuditNote<'_>, entity: &str, entity_id: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, user_id, actor, action, entity, entity_id, detail) VALUES ($1,$2,$3,$4,$5,$6,$7)",
    )
    .bind(now_ms())
    .bind(note.who.user_id)
    .bind(note.who.name)
    .bind(note.action)
    .bind(entity)
    .bind(entity_id)
    .bind(note.detail.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Appends an audit record (a write of its own: on SQLite it takes a writer turn).
    pub async fn audit(
        &self,
        user_id: Option<i64>,
        actor: &str,
        action: &str,
        entity: &str,
        entity_id: &str,
        detail: &serde_json::Value,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let mut batch = crate::batch::Batch::new(self.backend());
        push(&mut batch, AuditActor { user_id, name: actor }, action, entity, entity_id, detail);
        batch.run(&mut tx).await?;
        Ok(tx.commit().await?)
    }

    /// Newest audit records, optionally for one entity (`customer`, `42`).
    pub async fn audit_log(&self, entity: Option<(&str, &str)>, limit: i64) -> Result<Vec<AuditEntry>> {
        self.audit_search(&AuditFilter {
            entity: entity.map(|(e, i)| (e.into(), i.into())),
            limit,
            ..Default::default()
        })
        .await
    }

    /// Audit records by filter, newest first.
    pub async fn audit_search(&self, f: &AuditFilter) -> Result<Vec<AuditEntry>> {
        let (e, id) = f.entity.clone().unwrap_or_default();
        let rows = sqlx::query(
            "SELECT id, at, user_id, actor, action, entity, entity_id, detail FROM audit_log \
             WHERE ($1 = '' OR (entity = $1 AND entity_id = $2)) AND ($3 = 0 OR user_id = $3) \
             AND at >= $4 AND at < $5 ORDER BY id DESC LIMIT $6 OFFSET $7",
        )
        .bind(e)
        .bind(id)
        .bind(f.user_id.unwrap_or(0))
        .bind(f.from_ms.unwrap_or(i64::MIN))
        .bind(f.until_ms.unwrap_or(i64::MAX))
        .bind(f.limit)
        .bind(f.offset)
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
