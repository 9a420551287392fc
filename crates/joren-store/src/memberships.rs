//! Memberships: plans, each membership's status (a conditional update per change, so two
//! simultaneous changes cannot both apply) and its event history; idempotent by key.

use chrono::NaiveDate;
use joren_core::membership::{CancelReason, MembershipPlanInput, period_end};
use joren_core::{Code, FieldError};
use serde::Serialize;
use sqlx::{AssertSqlSafe, Row};

use crate::audit::AuditNote;
use crate::points::{day_from_number, day_number};
use crate::{Result, Store, StoreError, from_ms, now_ms};

/// A membership plan.
#[derive(Debug, Clone, Serialize)]
pub struct MembershipPlan {
    pub id: i64,
    pub name: String,
    pub price: i64,
    pub period_months: i64,
    pub active: bool,
}

/// One membership with its history (newest first).
#[derive(Debug, Clone, Serialize)]
pub struct Membership {
    pub id: i64,
    pub customer_id: i64,
    pub plan_id: i64,
    pub name: String,
    pub price: i64,
    pub period_months: i64,
    /// `active`, `paused` or `cancelled`.
    pub status: String,
    pub started_on: NaiveDate,
    pub renewals: i64,
    pub paid_until: NaiveDate,
    pub cancelled_on: Option<NaiveDate>,
    pub cancel_reason: Option<String>,
    pub cancel_note: String,
    pub events: Vec<MembershipEvent>,
}

/// One status change.
#[derive(Debug, Clone, Serialize)]
pub struct MembershipEvent {
    pub id: i64,
    pub kind: String,
    pub on: NaiveDate,
    pub note: String,
    pub created_by: Option<i64>,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// A change to a membership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MembershipChange {
    /// Pays the next period.
    Renew,
    Pause,
    Resume,
    Cancel {
        reason: CancelReason,
        note: String,
    },
}

impl MembershipChange {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Renew => "renew",
            Self::Pause => "pause",
            Self::Resume => "resume",
            Self::Cancel { .. } => "cancel",
        }
    }
}

/// What one membership contributes to the report: plan, start day, renewals, status, reason.
#[derive(Debug, Clone)]
pub struct MembershipFact {
    pub plan_id: i64,
    pub started_on: NaiveDate,
    pub renewals: i64,
    pub status: String,
    pub cancel_reason: Option<String>,
}

const COLUMNS: &str = "id, customer_id, plan_id, name, price, period_months, status, started_day, renewals, \
     paid_until_day, cancelled_day, cancel_reason, cancel_note";

fn plan_from_row(r: &sqlx::any::AnyRow) -> Result<MembershipPlan> {
    Ok(MembershipPlan {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        price: r.try_get("price")?,
        period_months: r.try_get("period_months")?,
        active: r.try_get::<i64, _>("active")? != 0,
    })
}

fn membership_from_row(r: &sqlx::any::AnyRow) -> Result<Membership> {
    Ok(Membership {
        id: r.try_get("id")?,
        customer_id: r.try_get("customer_id")?,
        plan_id: r.try_get("plan_id")?,
        name: r.try_get("name")?,
        price: r.try_get("price")?,
        period_months: r.try_get("period_months")?,
        status: r.try_get("status")?,
        started_on: day_from_number(r.try_get("started_day")?),
        renewals: r.try_get("renewals")?,
        paid_until: day_from_number(r.try_get("paid_until_day")?),
        cancelled_on: r.try_get::<Option<i64>, _>("cancelled_day")?.map(day_from_number),
        cancel_reason: r.try_get("cancel_reason")?,
        cancel_note: r.try_get("cancel_note")?,
        events: Vec::new(),
    })
}

impl Store {
    pub async fn membership_plans(&self) -> Result<Vec<MembershipPlan>> {
        let rows =
            sqlx::query("SELECT id, name, price, period_months, active FROM membership_plans ORDER BY active DESC, id")
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(plan_from_row).collect()
    }

    /// Creates (`id: None`) or changes a plan; memberships keep the terms they started on.
    pub async fn save_membership_plan(&self, id: Option<i64>, p: &MembershipPlanInput) -> Result<MembershipPlan> {
        let now = now_ms();
        let id: i64 = match id {
            None => {
                self.insert_returning_id(
                    sqlx::query_scalar(
                        "INSERT INTO membership_plans (name, price, period_months, active, created_at, updated_at) \
                     VALUES ($1,$2,$3,$4,$5,$5) RETURNING id",
                    )
                    .bind(p.name.trim())
                    .bind(p.price)
                    .bind(i64::from(p.period_months))
                    .bind(i64::from(p.active))
                    .bind(now),
                )
                .await?
            }
            Some(id) => {
                let n = self
                    .execute_write(
                        sqlx::query(
                            "UPDATE membership_plans SET name = $1, price = $2, period_months = $3, active = $4, \
                     updated_at = $5 WHERE id = $6",
                        )
                        .bind(p.name.trim())
                        .bind(p.price)
                        .bind(i64::from(p.period_months))
                        .bind(i64::from(p.active))
                        .bind(now)
                        .bind(id),
                    )
                    .await?
                    .rows_affected();
                if n == 0 {
                    return Err(StoreError::NotFound("membership plan"));
                }
                id
            }
        };
        let row = sqlx::query("SELECT id, name, price, period_months, active FROM membership_plans WHERE id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await?;
        plan_from_row(&row)
    }

    /// Starts a membership on `today` (the first period paid), with its audit record (the
    /// plan added to its detail). A retry with the same key and request answers the first;
    /// the key with another request conflicts.
    #[allow(clippy::too_many_arguments)]
    pub async fn start_membership(
        &self,
        customer_id: i64,
        plan_id: i64,
        today: NaiveDate,
        key: Option<&str>,
        request_hash: &str,
        created_by: Option<i64>,
        audit: &AuditNote<'_>,
    ) -> Result<(Membership, bool)> {
        match self.try_start_membership(customer_id, plan_id, today, key, request_hash, created_by, audit).await {
            Err(e) if e.is_unique_violation() => {
                self.try_start_membership(customer_id, plan_id, today, key, request_hash, created_by, audit).await
            }
            other => other,
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn try_start_membership(
        &self,
        customer_id: i64,
        plan_id: i64,
        today: NaiveDate,
        key: Option<&str>,
        request_hash: &str,
        created_by: Option<i64>,
        audit: &AuditNote<'_>,
    ) -> Result<(Membership, bool)> {
        let mut tx = self.begin_write().await?;
        if let Some(k) = key
            && let Some(id) = crate::idempotency::row_with_key(&mut tx, "memberships", k, request_hash).await?
        {
            tx.commit().await?;
            return Ok((self.membership(id).await?, true));
        }
        self.lock_live_customer(&mut tx, customer_id).await?;
        let plan = sqlx::query("SELECT id, name, price, period_months, active FROM membership_plans WHERE id = $1")
            .bind(plan_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| FieldError::new("plan_id", Code::NoSuchPlan).arg(plan_id))?;
        let plan = plan_from_row(&plan)?;
        if !plan.active {
            return Err(FieldError::new("plan_id", Code::PlanClosed).arg(&plan.name).into());
        }
        let open: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM memberships WHERE customer_id = $1 AND plan_id = $2 AND status <> 'cancelled'",
        )
        .bind(customer_id)
        .bind(plan_id)
        .fetch_one(&mut *tx)
        .await?;
        if open > 0 {
            return Err(FieldError::new("plan_id", Code::AlreadyMember).arg(&plan.name).into());
        }
        let paid_until = period_end(today, u32::try_from(plan.period_months).unwrap_or(1));
        let now = now_ms();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO memberships (customer_id, plan_id, name, price, period_months, status, started_day, \
             paid_until_day, idempotency_key, request_hash, created_at) \
             VALUES ($1,$2,$3,$4,$5,'active',$6,$7,$8,$9,$10) RETURNING id",
        )
        .bind(customer_id)
        .bind(plan.id)
        .bind(&plan.name)
        .bind(plan.price)
        .bind(plan.period_months)
        .bind(day_number(today))
        .bind(day_number(paid_until))
        .bind(key)
        .bind(request_hash)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let start =
            NewEvent { membership_id: id, customer_id, kind: "start", day: today, note: "", key: None, created_by };
        insert_event(&mut tx, start).await?;
        let mut note = audit.clone();
        note.detail["plan"] = plan.name.clone().into();
        crate::audit::insert(&mut tx, &note, "membership", &id.to_string()).await?;
        tx.commit().await?;
        Ok((self.membership(id).await?, false))
    }

    /// Applies a change on `today` if the membership's status allows it (renew and pause: active;
    /// resume: paused; cancel: active or paused). A retry with the same key answers the state
    /// after the first; the key used on another membership conflicts.
    /// The change's audit record (`audit`) is written with it.
    pub async fn change_membership(
        &self,
        id: i64,
        change: &MembershipChange,
        today: NaiveDate,
        key: Option<&str>,
        created_by: Option<i64>,
        audit: &AuditNote<'_>,
    ) -> Result<(Membership, bool)> {
        match self.try_change_membership(id, change, today, key, created_by, audit).await {
            Err(e) if e.is_unique_violation() => {
                self.try_change_membership(id, change, today, key, created_by, audit).await
            }
            other => other,
        }
    }

    async fn try_change_membership(
        &self,
        id: i64,
        change: &MembershipChange,
        today: NaiveDate,
        key: Option<&str>,
        created_by: Option<i64>,
        audit: &AuditNote<'_>,
    ) -> Result<(Membership, bool)> {
        let mut tx = self.begin_write().await?;
        if let Some(k) = key {
            let done: Option<i64> =
                sqlx::query_scalar("SELECT membership_id FROM membership_events WHERE idempotency_key = $1")
                    .bind(k)
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some(m) = done {
                if m != id {
                    return Err(StoreError::Conflict(Code::KeyReused.into()));
                }
                tx.commit().await?;
                return Ok((self.membership(id).await?, true));
            }
        }
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} FROM memberships WHERE id = $1")))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound("membership"))?;
        let m = membership_from_row(&row)?;
        let (sql, from): (&str, &[&str]) = match change {
            MembershipChange::Renew => (
                "UPDATE memberships SET renewals = renewals + 1, paid_until_day = $2 WHERE id = $1 AND status = 'active' \
                 AND renewals = $3",
                &["active"],
            ),
            MembershipChange::Pause => {
                ("UPDATE memberships SET status = 'paused' WHERE id = $1 AND status = 'active'", &["active"])
            }
            MembershipChange::Resume => {
                ("UPDATE memberships SET status = 'active' WHERE id = $1 AND status = 'paused'", &["paused"])
            }
            MembershipChange::Cancel { .. } => (
                "UPDATE memberships SET status = 'cancelled', cancelled_day = $2, cancel_reason = $3, cancel_note = $4 \
                 WHERE id = $1 AND status IN ('active', 'paused')",
                &["active", "paused"],
            ),
        };
        if !from.contains(&m.status.as_str()) {
            return Err(FieldError::new("status", Code::MembershipStateRefused)
                .arg(format!("@memberships.{}", m.status))
                .arg(format!("@memberships.{}", change_code(change)))
                .into());
        }
        let q = sqlx::query(sql).bind(id);
        let q = match change {
            MembershipChange::Renew => {
                let months = u32::try_from(m.period_months * (m.renewals + 2)).unwrap_or(u32::MAX);
                q.bind(day_number(period_end(m.started_on, months))).bind(m.renewals)
            }
            MembershipChange::Cancel { reason, note } => {
                q.bind(day_number(today)).bind(reason.as_str()).bind(note.trim().to_string())
            }
            _ => q,
        };
        if q.execute(&mut *tx).await?.rows_affected() == 0 {
            return Err(StoreError::Conflict(Code::ChangedMeanwhile.into()));
        }
        let note = match change {
            MembershipChange::Cancel { reason, note } => format!("{}: {}", reason.label_ja(), note.trim()),
            _ => String::new(),
        };
        let event = NewEvent {
            membership_id: id,
            customer_id: m.customer_id,
            kind: change.kind(),
            day: today,
            note: &note,
            key,
            created_by,
        };
        insert_event(&mut tx, event).await?;
        crate::audit::insert(&mut tx, audit, "membership", &id.to_string()).await?;
        tx.commit().await?;
        Ok((self.membership(id).await?, false))
    }

    /// One membership with its events, newest first.
    pub async fn membership(&self, id: i64) -> Result<Membership> {
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} FROM memberships WHERE id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("membership"))?;
        let mut m = membership_from_row(&row)?;
        m.events = sqlx::query(
            "SELECT id, kind, day, note, created_by, created_at FROM membership_events WHERE membership_id = $1 \
             ORDER BY id DESC",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(MembershipEvent {
                id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                on: day_from_number(r.try_get("day")?),
                note: r.try_get("note")?,
                created_by: r.try_get("created_by")?,
                at: from_ms(r.try_get("created_at")?),
            })
        })
        .collect::<Result<_>>()?;
        Ok(m)
    }

    /// A customer's memberships, newest first (without events).
    pub async fn customer_memberships(&self, customer_id: i64) -> Result<Vec<Membership>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM memberships WHERE customer_id = $1 ORDER BY id DESC"
        )))
        .bind(customer_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(membership_from_row).collect()
    }

    /// Every membership's plan, start, renewals, status and reason (the report's input).
    pub async fn membership_facts(&self) -> Result<Vec<MembershipFact>> {
        let rows = sqlx::query("SELECT plan_id, started_day, renewals, status, cancel_reason FROM memberships")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(MembershipFact {
                    plan_id: r.try_get("plan_id")?,
                    started_on: day_from_number(r.try_get("started_day")?),
                    renewals: r.try_get("renewals")?,
                    status: r.try_get("status")?,
                    cancel_reason: r.try_get("cancel_reason")?,
                })
            })
            .collect()
    }
}

fn change_code(c: &MembershipChange) -> &'static str {
    match c {
        MembershipChange::Renew => "renew",
        MembershipChange::Pause => "pause",
        MembershipChange::Resume => "resume",
        MembershipChange::Cancel { .. } => "cancel",
    }
}

/// A status change to record.
struct NewEvent<'a> {
    membership_id: i64,
    customer_id: i64,
    kind: &'a str,
    day: NaiveDate,
    note: &'a str,
    key: Option<&'a str>,
    created_by: Option<i64>,
}

async fn insert_event(tx: &mut crate::db::Tx, e: NewEvent<'_>) -> Result<()> {
    let NewEvent { membership_id, customer_id, kind, day, note, key, created_by } = e;
    sqlx::query(
        "INSERT INTO membership_events (membership_id, customer_id, kind, day, note, idempotency_key, created_by, \
         created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
    )
    .bind(membership_id)
    .bind(customer_id)
    .bind(kind)
    .bind(day_number(day))
    .bind(note)
    .bind(key)
    .bind(created_by)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    let detail = serde_json::json!({"membership_id": membership_id, "change": kind, "day": day});
    crate::events::insert(
        tx,
        joren_core::event::EventKind::MembershipChanged,
        customer_id,
        "membership",
        membership_id,
        &detail,
    )
    .await
}
