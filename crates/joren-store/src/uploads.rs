//! Uploaded files between an import preview and its run.

use sqlx::Row;

use crate::{Result, Store, StoreError, now_ms};

/// A stored upload.
#[derive(Debug, Clone)]
pub struct Upload {
    pub token: String,
    pub user_id: Option<i64>,
    pub kind: String,
    pub filename: String,
    pub content: Vec<u8>,
    /// JSON report, once the import ran.
    pub report: Option<String>,
}

impl Store {
    pub async fn save_upload(
        &self,
        token: &str,
        user_id: Option<i64>,
        kind: &str,
        filename: &str,
        content: &[u8],
    ) -> Result<()> {
        // Uploads older than a day are abandoned previews.
        self.execute_write(sqlx::query("DELETE FROM uploads WHERE created_at < $1").bind(now_ms() - 86_400_000))
            .await?;
        self.execute_write(
            sqlx::query(
                "INSERT INTO uploads (token, user_id, kind, filename, content, created_at) VALUES ($1,$2,$3,$4,$5,$6)",
            )
            .bind(token)
            .bind(user_id)
            .bind(kind)
            .bind(filename)
            .bind(content.to_vec())
            .bind(now_ms()),
        )
        .await?;
        Ok(())
    }

    pub async fn get_upload(&self, token: &str) -> Result<Upload> {
        let r = sqlx::query("SELECT token, user_id, kind, filename, content, report FROM uploads WHERE token = $1")
            .bind(token)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("upload"))?;
        Ok(Upload {
            token: r.try_get("token")?,
            user_id: r.try_get("user_id")?,
            kind: r.try_get("kind")?,
            filename: r.try_get("filename")?,
            content: r.try_get("content")?,
            report: r.try_get("report")?,
        })
    }

    pub async fn set_upload_report(&self, token: &str, report: &str) -> Result<()> {
        self.execute_write(sqlx::query("UPDATE uploads SET report = $1 WHERE token = $2").bind(report).bind(token))
            .await?;
        Ok(())
    }
}
