//! Contact history: calls, emails, visits, LINE messages, notes…

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Result, Store, StoreError, from_ms, now_ms, to_ms};

/// A recorded interaction.
#[derive(Debug, Clone, Serialize)]
pub struct Interaction {
    pub id: i64,
    pub customer_id: i64,
    pub contact_id: Option<i64>,
    pub kind: String,
    pub direction: String,
    pub staff_user_id: Option<i64>,
    pub staff_name: Option<String>,
    pub subject: String,
    pub body: String,
    pub occurred_at: DateTime<Utc>,
}

/// A validated interaction to record.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct NewInteraction {
    pub customer_id: i64,
    pub contact_id: Option<i64>,
    pub kind: String,
    pub direction: String,
    pub staff_user_id: Option<i64>,
    pub subject: String,
    pub body: String,
    pub occurred_at: DateTime<Utc>,
}

fn from_row(r: &AnyRow) -> Result<Interaction> {
    Ok(Interaction {
        id: r.try_get("id")?,
        customer_id: r.try_get("customer_id")?,
        contact_id: r.try_get("contact_id")?,
        kind: r.try_get("kind")?,
        direction: r.try_get("direction")?,
        staff_user_id: r.try_get("staff_user_id")?,
        staff_name: r.try_get("staff_name")?,
        subject: r.try_get("subject")?,
        body: r.try_get("body")?,
        occurred_at: from_ms(r.try_get("occurred_at")?),
    })
}

const SELECT: &str = "SELECT i.id, i.customer_id, i.contact_id, i.kind, i.direction, i.staff_user_id, \
    u.display_name AS staff_name, i.subject, i.body, i.occurred_at FROM interactions i \
    LEFT JOIN users u ON u.id = i.staff_user_id";

impl Store {
    /// Records an interaction of a live customer (and, if given, one of its contact persons).
    pub async fn add_interaction(&self, n: &NewInteraction) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let merged: Option<Option<i64>> = sqlx::query_scalar("SELECT merged_into FROM customers WHERE id = $1")
            .bind(n.customer_id)
            .fetch_optional(&mut *tx)
            .await?;
        match merged {
            None => return Err(StoreError::NotFound("customer")),
            Some(Some(_)) => {
                return Err(StoreError::Conflict(joren_core::Code::AlreadyMerged.into()));
            }
            Some(None) => {}
        }
        if let Some(contact) = n.contact_id {
            let owner: Option<i64> = sqlx::query_scalar("SELECT customer_id FROM contacts WHERE id = $1")
                .bind(contact)
                .fetch_optional(&mut *tx)
                .await?;
            if owner != Some(n.customer_id) {
                return Err(StoreError::Invalid(joren_core::FieldError::new(
                    "contact_id",
                    joren_core::Code::NotThisCustomersContact,
                )));
            }
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO interactions (customer_id, contact_id, kind, direction, staff_user_id, subject, body, \
             occurred_at, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) RETURNING id",
        )
        .bind(n.customer_id)
        .bind(n.contact_id)
        .bind(&n.kind)
        .bind(&n.direction)
        .bind(n.staff_user_id)
        .bind(&n.subject)
        .bind(&n.body)
        .bind(to_ms(n.occurred_at))
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// One interaction by id.
    pub async fn get_interaction(&self, id: i64) -> Result<Interaction> {
        let sql = format!("{SELECT} WHERE i.id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("interaction"))?;
        from_row(&row)
    }

    /// Interactions of a customer, newest first.
    pub async fn list_interactions(&self, customer_id: i64, limit: i64) -> Result<Vec<Interaction>> {
        let sql = format!("{SELECT} WHERE i.customer_id = $1 ORDER BY i.occurred_at DESC, i.id DESC LIMIT $2");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(customer_id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(from_row)
            .collect()
    }

    /// Bulk insert for the demo generator and imports (one transaction, multi-row statements).
    pub async fn insert_interactions_batch(&self, items: &[NewInteraction]) -> Result<()> {
        use crate::bulk::Val;
        let now = now_ms();
        let rows: Vec<Vec<Val>> = items
            .iter()
            .map(|n| {
                vec![
                    Val::Int(n.customer_id),
                    Val::OptInt(n.contact_id),
                    Val::Text(n.kind.clone()),
                    Val::Text(n.direction.clone()),
                    Val::OptInt(n.staff_user_id),
                    Val::Text(n.subject.clone()),
                    Val::Text(n.body.clone()),
                    Val::Int(to_ms(n.occurred_at)),
                    Val::Int(now),
                ]
            })
            .collect();
        let mut tx = self.begin_write().await?;
        self.bulk_insert(
            &mut tx,
            "interactions",
            &[
                "customer_id",
                "contact_id",
                "kind",
                "direction",
                "staff_user_id",
                "subject",
                "body",
                "occurred_at",
                "created_at",
            ],
            rows,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// When the shop last reached out to each of `ids` (its newest outgoing interaction);
    /// customers never contacted are left out. One query per 500 ids.
    pub async fn last_contacted(&self, ids: &[i64]) -> Result<Vec<(i64, DateTime<Utc>)>> {
        let rows = self
            .fetch_by_ids(ids, |list| {
                format!(
                    "SELECT customer_id, MAX(occurred_at) AS at FROM interactions \
                     WHERE direction = 'out' AND customer_id IN ({list}) GROUP BY customer_id"
                )
            })
            .await?;
        rows.iter().map(|r| Ok((r.try_get("customer_id")?, from_ms(r.try_get("at")?)))).collect()
    }
}
