//! The shop's saved messages: a name, a subject and a body with variables, marketing or not.
//! Checked by the caller (unknown variables are refused when saved); names are unique.

use sqlx::Row;

use crate::{Result, Store, StoreError, now_ms};

/// A saved message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MessageTemplate {
    pub id: i64,
    pub name: String,
    pub subject: String,
    pub body: String,
    pub marketing: bool,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

const COLUMNS: &str = "id, name, subject, body, marketing, created_at, updated_at";

fn from_row(r: &sqlx::any::AnyRow) -> Result<MessageTemplate> {
    Ok(MessageTemplate {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        subject: r.try_get("subject")?,
        body: r.try_get("body")?,
        marketing: r.try_get::<i64, _>("marketing")? != 0,
        created_at_ms: r.try_get("created_at")?,
        updated_at_ms: r.try_get("updated_at")?,
    })
}

/// A name another saved message has, as the field error naming it.
fn name_taken(e: StoreError, name: &str) -> StoreError {
    if e.is_unique_violation() {
        StoreError::Invalid(joren_core::FieldError::new("name", joren_core::Code::NameTaken).arg(name))
    } else {
        e
    }
}

impl Store {
    /// Every saved message, by name.
    pub async fn message_templates(&self) -> Result<Vec<MessageTemplate>> {
        let sql = format!("SELECT {COLUMNS} FROM message_templates ORDER BY name");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        rows.iter().map(from_row).collect()
    }

    /// One saved message.
    pub async fn message_template(&self, id: i64) -> Result<MessageTemplate> {
        let sql = format!("SELECT {COLUMNS} FROM message_templates WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("template"))?;
        from_row(&row)
    }

    /// Saves a new message (checked by the caller).
    pub async fn create_message_template(
        &self,
        name: &str,
        subject: &str,
        body: &str,
        marketing: bool,
        actor: Option<i64>,
    ) -> Result<MessageTemplate> {
        let now = now_ms();
        let id = self
            .insert_returning_id(
                sqlx::query_scalar(
                    "INSERT INTO message_templates (name, subject, body, marketing, created_by, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
                )
                .bind(name)
                .bind(subject)
                .bind(body)
                .bind(marketing as i64)
                .bind(actor)
                .bind(now),
            )
            .await
            .map_err(|e| name_taken(e, name))?;
        self.message_template(id).await
    }

    /// Replaces a saved message's name and text.
    pub async fn update_message_template(
        &self,
        id: i64,
        name: &str,
        subject: &str,
        body: &str,
        marketing: bool,
    ) -> Result<MessageTemplate> {
        let done = self
            .execute_write(
                sqlx::query(
                    "UPDATE message_templates SET name = $1, subject = $2, body = $3, marketing = $4, updated_at = $5 \
                     WHERE id = $6",
                )
                .bind(name)
                .bind(subject)
                .bind(body)
                .bind(marketing as i64)
                .bind(now_ms())
                .bind(id),
            )
            .await
            .map_err(|e| name_taken(e, name))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("template"));
        }
        self.message_template(id).await
    }

    /// Deletes a saved message (scenarios that used it keep their copy of the text).
    pub async fn delete_message_template(&self, id: i64) -> Result<()> {
        let done = self.execute_write(sqlx::query("DELETE FROM message_templates WHERE id = $1").bind(id)).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("template"));
        }
        Ok(())
    }
}
