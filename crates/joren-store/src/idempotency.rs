//! Stored results of idempotent requests: a retried request with the same key gets the first
//! result; the same key with a different body is a conflict.

use sqlx::Row;

use crate::db::Tx;
use crate::{Result, Store, StoreError, now_ms};

/// What a lookup of an idempotency key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyOutcome {
    /// Never seen: go ahead.
    New,
    /// Seen with the same request: here is the stored status and response.
    Replay { status: i64, response: String },
}

pub(crate) async fn lookup(tx: &mut Tx, scope: &str, key: &str, request_hash: &str) -> Result<IdempotencyOutcome> {
    let row = sqlx::query("SELECT request_hash, status, response FROM idempotency_keys WHERE scope = $1 AND key = $2")
        .bind(scope)
        .bind(key)
        .fetch_optional(&mut **tx)
        .await?;
    match row {
        None => Ok(IdempotencyOutcome::New),
        Some(r) => {
            let stored: String = r.try_get("request_hash")?;
            if stored != request_hash {
                return Err(StoreError::Conflict(joren_core::Code::KeyReused.into()));
            }
            Ok(IdempotencyOutcome::Replay { status: r.try_get("status")?, response: r.try_get("response")? })
        }
    }
}

/// For resources that keep their creating request's key on their own row (`tickets`,
/// `memberships`): the id of the row created with `key`, if any; the key with another request
/// is a conflict.
pub(crate) async fn row_with_key(
    tx: &mut Tx,
    table: &'static str,
    key: &str,
    request_hash: &str,
) -> Result<Option<i64>> {
    let sql = format!("SELECT id, request_hash FROM {table} WHERE idempotency_key = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(key).fetch_optional(&mut **tx).await?;
    match row {
        None => Ok(None),
        Some(r) if r.try_get::<String, _>("request_hash")? != request_hash => {
            Err(StoreError::Conflict(joren_core::Code::KeyReused.into()))
        }
        Some(r) => Ok(Some(r.try_get("id")?)),
    }
}

/// Adds the record of a request's result to `batch` (written with the result itself).
pub(crate) fn push_save(
    batch: &mut crate::batch::Batch,
    scope: &str,
    key: &str,
    request_hash: &str,
    status: i64,
    response: &str,
) {
    batch
        .push(
            "INSERT INTO idempotency_keys (scope, key, request_hash, status, response, created_at) \
             VALUES (?,?,?,?,?,?)",
        )
        .bind(scope.to_string())
        .bind(key.to_string())
        .bind(request_hash.to_string())
        .bind(status)
        .bind(response.to_string())
        .bind(now_ms());
}

pub(crate) async fn save(
    tx: &mut Tx,
    scope: &str,
    key: &str,
    request_hash: &str,
    status: i64,
    response: &str,
) -> Result<()> {
    let mut batch = crate::batch::Batch::new(tx.backend());
    push_save(&mut batch, scope, key, request_hash, status, response);
    batch.run(tx).await?;
    Ok(())
}

/// What one round of housekeeping removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Housekeeping {
    pub idempotency_keys: u64,
    pub sessions: u64,
    pub uploads: u64,
}

impl Store {
    /// Forgets idempotency keys older than `max_age_ms` (they must be kept at least 24 h).
    pub async fn prune_idempotency_keys(&self, max_age_ms: i64) -> Result<u64> {
        Ok(self.housekeeping(now_ms(), max_age_ms, i64::MAX).await?.idempotency_keys)
    }

    /// Removes, as of `now` (epoch ms): idempotency keys stored more than `keep_keys_ms` ago,
    /// expired login sessions, and staged import uploads older than `keep_uploads_ms`.
    pub async fn housekeeping(&self, now: i64, keep_keys_ms: i64, keep_uploads_ms: i64) -> Result<Housekeeping> {
        let before = |keep: i64| now.saturating_sub(keep);
        Ok(Housekeeping {
            idempotency_keys: self
                .execute_write(
                    sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1").bind(before(keep_keys_ms)),
                )
                .await?
                .rows_affected(),
            sessions: self
                .execute_write(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now))
                .await?
                .rows_affected(),
            uploads: self
                .execute_write(sqlx::query("DELETE FROM uploads WHERE created_at < $1").bind(before(keep_uploads_ms)))
                .await?
                .rows_affected(),
        })
    }
}
