//! Member-only perks: definitions (who may use them is decided in `joren_core::perk`).

use joren_core::perk::{PerkInput, PerkKind};
use serde::Serialize;
use sqlx::Row;

use crate::{Result, Store, StoreError, now_ms};

/// A stored perk.
#[derive(Debug, Clone, Serialize)]
pub struct Perk {
    pub id: i64,
    #[serde(flatten)]
    pub input: PerkInput,
}

const COLUMNS: &str = "id, name, description, kind, min_rank_level, membership_plan_id, segment_id, active";

fn perk_from_row(r: &sqlx::any::AnyRow) -> Result<Perk> {
    Ok(Perk {
        id: r.try_get("id")?,
        input: PerkInput {
            name: r.try_get("name")?,
            description: r.try_get("description")?,
            kind: PerkKind::parse(&r.try_get::<String, _>("kind")?).unwrap_or(PerkKind::Other),
            min_rank_level: r.try_get("min_rank_level")?,
            membership_plan_id: r.try_get("membership_plan_id")?,
            segment_id: r.try_get("segment_id")?,
            active: r.try_get::<i64, _>("active")? != 0,
        },
    })
}

impl Store {
    /// Every perk, active first.
    pub async fn perks(&self) -> Result<Vec<Perk>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM perks ORDER BY active DESC, id")))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(perk_from_row).collect()
    }

    pub async fn perk(&self, id: i64) -> Result<Perk> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM perks WHERE id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("perk"))?;
        perk_from_row(&row)
    }

    /// Creates (`id: None`) or changes a perk.
    pub async fn save_perk(&self, id: Option<i64>, p: &PerkInput) -> Result<Perk> {
        let now = now_ms();
        let sql = match id {
            None => {
                "INSERT INTO perks (name, description, kind, min_rank_level, membership_plan_id, segment_id, active, \
                 created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$8) RETURNING id"
            }
            Some(_) => {
                "UPDATE perks SET name = $1, description = $2, kind = $3, min_rank_level = $4, \
                 membership_plan_id = $5, segment_id = $6, active = $7, updated_at = $8 WHERE id = $9 RETURNING id"
            }
        };
        let q = sqlx::query_scalar(sql)
            .bind(p.name.trim())
            .bind(p.description.trim())
            .bind(p.kind.as_str())
            .bind(p.min_rank_level)
            .bind(p.membership_plan_id)
            .bind(p.segment_id)
            .bind(i64::from(p.active))
            .bind(now);
        let q = match id {
            Some(i) => q.bind(i),
            None => q,
        };
        let saved: Option<i64> = q.fetch_optional(&self.pool).await?;
        self.perk(saved.ok_or(StoreError::NotFound("perk"))?).await
    }
}
