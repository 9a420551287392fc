//! Users, login sessions and API tokens. Secrets are stored only as hashes (computed above).

use chrono::{DateTime, Utc};
use joren_core::role::Role;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::AuditNote;
use crate::{Result, Store, StoreError, from_ms, now_ms};

/// What an owner changes of a user; `None` leaves it as it is.
#[derive(Debug, Default, Clone, Copy)]
pub struct UserChange<'a> {
    pub display_name: Option<&'a str>,
    pub role: Option<Role>,
    pub password_hash: Option<&'a str>,
    pub disabled: Option<bool>,
}

/// A user of the web UI / API.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    #[serde(skip)]
    pub password_hash: String,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

/// A login session (the cookie holds the token; the store only its hash).
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

/// An API token's metadata.
#[derive(Debug, Clone, Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked: bool,
}

fn user_from_row(r: &AnyRow) -> Result<User> {
    Ok(User {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        role: Role::parse(&r.try_get::<String, _>("role")?).unwrap_or(Role::Viewer),
        password_hash: r.try_get("password_hash")?,
        disabled: r.try_get::<i64, _>("disabled")? != 0,
        created_at: from_ms(r.try_get("created_at")?),
    })
}

const USER_COLUMNS: &str = "u.id, u.username, u.display_name, u.role, u.password_hash, u.disabled, u.created_at";

/// How stale a token's `last_used_at` may get before a request refreshes it.
const TOKEN_TOUCH_INTERVAL_MS: i64 = 60_000;

impl Store {
    /// Creates a user; a taken username is a conflict.
    pub async fn create_user(
        &self,
        username: &str,
        display_name: &str,
        role: Role,
        password_hash: &str,
    ) -> Result<i64> {
        let r = sqlx::query_scalar(
            "INSERT INTO users (username, display_name, role, password_hash, created_at) VALUES ($1,$2,$3,$4,$5) RETURNING id",
        )
        .bind(username)
        .bind(display_name)
        .bind(role.as_str())
        .bind(password_hash)
        .bind(now_ms())
        ;
        match self.insert_returning_id(r).await {
            Ok(id) => Ok(id),
            Err(e) if e.is_unique_violation() => {
                Err(StoreError::Conflict(joren_core::Problem::new(joren_core::Code::UsernameTaken).arg(username)))
            }
            Err(e) => Err(e),
        }
    }

    pub async fn user_by_username(&self, username: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.username = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(username)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(user_from_row)
            .transpose()
    }

    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(user_from_row)
            .transpose()
    }

    pub async fn list_users(&self) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.id");
        sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?.iter().map(user_from_row).collect()
    }

    /// Changes a user's display name, role, password hash or disabled flag (each optional),
    /// with its audit record in the same transaction. A new password ends every session of the
    /// user; disabling also revokes the user's API tokens for good, so enabling the user again
    /// revives neither. A change that would leave no enabled owner is refused (`last_owner`):
    /// the owners' rows are locked first, so two owners demoting each other at once cannot
    /// both succeed.
    pub async fn update_user(&self, id: i64, change: &UserChange<'_>, audit: &AuditNote<'_>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let lock = format!("SELECT id FROM users WHERE role = 'owner' AND disabled = 0{}", self.for_update());
        sqlx::query(sqlx::AssertSqlSafe(lock)).fetch_all(&mut *tx).await?;
        let n = sqlx::query(
            "UPDATE users SET role = COALESCE($1, role), password_hash = COALESCE($2, password_hash), \
             disabled = COALESCE($3, disabled), display_name = COALESCE($4, display_name) WHERE id = $5",
        )
        .bind(change.role.map(Role::as_str))
        .bind(change.password_hash)
        .bind(change.disabled.map(i64::from))
        .bind(change.display_name)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound("user"));
        }
        let owners: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'owner' AND disabled = 0")
            .fetch_one(&mut *tx)
            .await?;
        if owners == 0 {
            return Err(StoreError::Conflict(joren_core::Problem::new(joren_core::Code::LastOwner)));
        }
        if change.password_hash.is_some() || change.disabled == Some(true) {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
        }
        if change.disabled == Some(true) {
            sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
                .bind(now_ms())
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        crate::audit::insert(&mut tx, audit, "user", &id.to_string()).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn count_users(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&self.pool).await?)
    }

    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        csrf_token: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        self.execute_write(sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1,$2,$3,$4,$5)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(csrf_token)
        .bind(now_ms())
        .bind(expires_at.timestamp_millis())
        )
        .await?;
        Ok(())
    }

    /// The live session of this token hash (unexpired, user not disabled).
    pub async fn session(&self, token_hash: &str) -> Result<Option<Session>> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, s.csrf_token, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled = 0"
        );
        let row =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(token_hash).bind(now_ms()).fetch_optional(&self.pool).await?;
        row.map(|r| {
            Ok(Session {
                user: user_from_row(&r)?,
                csrf_token: r.try_get("csrf_token")?,
                expires_at: from_ms(r.try_get("expires_at")?),
            })
        })
        .transpose()
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        self.execute_write(sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash)).await?;
        Ok(())
    }

    pub async fn create_api_token(&self, user_id: i64, name: &str, token_hash: &str) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES ($1,$2,$3,$4) RETURNING id",
        )
        .bind(user_id)
        .bind(name)
        .bind(token_hash)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?)
    }

    /// The user owning an unrevoked token with this hash. Marks the token used, at most once a
    /// minute: a write per API request would cost every request a commit.
    pub async fn user_by_api_token(&self, token_hash: &str) -> Result<Option<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, t.id AS token_id, t.last_used_at AS token_used FROM api_tokens t \
             JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.disabled = 0"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(token_hash).fetch_optional(&self.pool).await?;
        let Some(row) = row else { return Ok(None) };
        let token_id: i64 = row.try_get("token_id")?;
        let used: Option<i64> = row.try_get("token_used")?;
        let now = now_ms();
        if used.is_none_or(|at| now - at >= TOKEN_TOUCH_INTERVAL_MS) {
            self.execute_write(
                sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2").bind(now).bind(token_id),
            )
            .await?;
        }
        Ok(Some(user_from_row(&row)?))
    }

    pub async fn list_api_tokens(&self) -> Result<Vec<ApiToken>> {
        let rows =
            sqlx::query("SELECT id, user_id, name, created_at, last_used_at, revoked_at FROM api_tokens ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| {
                Ok(ApiToken {
                    id: r.try_get("id")?,
                    user_id: r.try_get("user_id")?,
                    name: r.try_get("name")?,
                    created_at: from_ms(r.try_get("created_at")?),
                    last_used_at: r.try_get::<Option<i64>, _>("last_used_at")?.map(from_ms),
                    revoked: r.try_get::<Option<i64>, _>("revoked_at")?.is_some(),
                })
            })
            .collect()
    }

    pub async fn revoke_api_token(&self, id: i64) -> Result<()> {
        let n = self
            .execute_write(
                sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                    .bind(now_ms())
                    .bind(id),
            )
            .await?
            .rows_affected();
        if n == 0 { Err(StoreError::NotFound("api token")) } else { Ok(()) }
    }
}

/// How long a login key stays locked after `failures` recent failures, in milliseconds, when
/// `free` failures pass unlocked: 1 s after the first failure past them, doubling with each
/// further one, at most 15 minutes (never for good: the owner always gets back in).
pub fn login_lock_ms(failures: i64, free: i64) -> i64 {
    const MAX_MS: i64 = 15 * 60 * 1000;
    let over = failures - free;
    if over < 0 { 0 } else { (1000_i64 << over.min(20)).min(MAX_MS) }
}

impl Store {
    /// The latest `locked_until` (ms) among `keys` that is still in the future at `now`.
    pub async fn login_locked_until(&self, keys: &[&str], now: i64) -> Result<Option<i64>> {
        let mut latest: Option<i64> = None;
        for key in keys {
            let until: Option<i64> =
                sqlx::query_scalar("SELECT locked_until FROM login_failures WHERE key = $1 AND locked_until > $2")
                    .bind(*key)
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await?;
            latest = latest.max(until);
        }
        Ok(latest)
    }

    /// Counts a failed login against `key` (failures older than `window_ms` are forgotten)
    /// and locks the key per [`login_lock_ms`] with `free` failures allowed; answers the
    /// failures counted.
    pub async fn record_login_failure(&self, key: &str, now: i64, window_ms: i64, free: i64) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let failures: i64 = sqlx::query_scalar(
            "INSERT INTO login_failures (key, failures, locked_until, updated_at) VALUES ($1, 1, 0, $2) \
             ON CONFLICT (key) DO UPDATE SET failures = CASE WHEN login_failures.updated_at < $3 THEN 1 \
             ELSE login_failures.failures + 1 END, updated_at = $2 RETURNING failures",
        )
        .bind(key)
        .bind(now)
        .bind(now - window_ms)
        .fetch_one(&mut *tx)
        .await?;
        let lock = login_lock_ms(failures, free);
        if lock > 0 {
            sqlx::query("UPDATE login_failures SET locked_until = $1 WHERE key = $2")
                .bind(now + lock)
                .bind(key)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(failures)
    }

    /// Forgets the failures of `key` (after a successful login).
    pub async fn clear_login_failures(&self, key: &str) -> Result<()> {
        self.execute_write(sqlx::query("DELETE FROM login_failures WHERE key = $1").bind(key)).await?;
        Ok(())
    }
}
