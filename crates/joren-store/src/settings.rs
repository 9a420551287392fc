//! Shop-wide settings edited by the owner, as key/value text.

use crate::{Result, Store, now_ms};

impl Store {
    /// A shop setting.
    pub async fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM settings WHERE key = $1").bind(key).fetch_optional(&self.pool).await?)
    }

    /// Sets a shop setting (insert or replace).
    pub async fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        self.execute_write(
            sqlx::query(
                "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            )
            .bind(key)
            .bind(value)
            .bind(now_ms()),
        )
        .await?;
        Ok(())
    }

    /// Removes a shop setting (nothing when it is not set).
    pub async fn delete_setting(&self, key: &str) -> Result<()> {
        self.execute_write(sqlx::query("DELETE FROM settings WHERE key = $1").bind(key)).await?;
        Ok(())
    }

    /// The setting `key`, first set to `value` if it has none (two processes racing to set
    /// it agree on the first one written).
    pub async fn setting_or_insert(&self, key: &str, value: &str) -> Result<String> {
        self.execute_write(
            sqlx::query(
                "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING",
            )
            .bind(key)
            .bind(value)
            .bind(now_ms()),
        )
        .await?;
        Ok(self.setting(key).await?.unwrap_or_else(|| value.to_string()))
    }
}
