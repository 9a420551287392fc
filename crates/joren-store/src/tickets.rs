//! Prepaid tickets (回数券): plans, sales, uses and refunds of the unused part. A use is one
//! conditional update (`used < visits`, active, not past its last day), so simultaneous uses
//! can never take more visits than the ticket holds; sales and uses are idempotent by key.

use chrono::NaiveDate;
use joren_core::ticket::{TicketPlanInput, last_day, unused_value};
use joren_core::{Code, FieldError};
use serde::Serialize;
use sqlx::{AssertSqlSafe, Row};

use crate::audit::AuditNote;
use crate::points::{day_from_number, day_number};
use crate::{Result, Store, StoreError, from_ms, now_ms};

/// A ticket plan.
#[derive(Debug, Clone, Serialize)]
pub struct TicketPlan {
    pub id: i64,
    pub name: String,
    pub visits: i64,
    pub price: i64,
    pub valid_months: i64,
    pub active: bool,
    /// Usable only within 6 months of sale: exempt from the Payment Services Act's filing.
    pub within_six_months: bool,
}

/// A sold ticket with what is left of it as of the day it was read.
#[derive(Debug, Clone, Serialize)]
pub struct Ticket {
    pub id: i64,
    pub customer_id: i64,
    pub plan_id: i64,
    pub name: String,
    pub visits: i64,
    pub used: i64,
    pub remaining: i64,
    pub price: i64,
    pub sold_on: NaiveDate,
    pub last_day: Option<NaiveDate>,
    /// `active`, `used_up`, `expired` or `refunded`.
    pub status: &'static str,
    /// The unused part's value (paid value outstanding; 0 once expired or refunded).
    pub unused_value: i64,
    pub refunded_amount: i64,
    pub refund_reason: String,
    pub uses: Vec<TicketUse>,
}

/// One use of a ticket.
#[derive(Debug, Clone, Serialize)]
pub struct TicketUse {
    pub id: i64,
    pub on: NaiveDate,
    pub at: chrono::DateTime<chrono::Utc>,
    pub note: String,
    pub created_by: Option<i64>,
}

/// What a sale or a use returned, and whether it was a replay of an earlier request.
#[derive(Debug, Clone)]
pub struct TicketWrite {
    pub ticket: Ticket,
    pub replayed: bool,
}

const TICKET_COLUMNS: &str = "id, customer_id, plan_id, name, visits, used, price, sold_day, last_day, status, \
     refunded_amount, refund_reason";

fn plan_from_row(r: &sqlx::any::AnyRow) -> Result<TicketPlan> {
    let valid_months: i64 = r.try_get("valid_months")?;
    Ok(TicketPlan {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        visits: r.try_get("visits")?,
        price: r.try_get("price")?,
        valid_months,
        active: r.try_get::<i64, _>("active")? != 0,
        within_six_months: (1..=6).contains(&valid_months),
    })
}

impl Ticket {
    /// Why a visit cannot be taken from this ticket, as an error on `field`: refunded, used
    /// up, or else past its last day. Asked of a ticket that is not `active`.
    pub fn refusal(&self, field: &str) -> FieldError {
        match self.status {
            "refunded" => FieldError::new(field, Code::TicketRefunded),
            "used_up" => FieldError::new(field, Code::TicketUsedUp),
            _ => FieldError::new(field, Code::TicketExpired)
                .arg(self.last_day.map(|d| d.to_string()).unwrap_or_default()),
        }
    }
}

fn ticket_from_row(r: &sqlx::any::AnyRow, today: NaiveDate) -> Result<Ticket> {
    let visits: i64 = r.try_get("visits")?;
    let used: i64 = r.try_get("used")?;
    let price: i64 = r.try_get("price")?;
    let last_day = r.try_get::<Option<i64>, _>("last_day")?.map(day_from_number);
    let refunded = r.try_get::<String, _>("status")? == "refunded";
    let status = if refunded {
        "refunded"
    } else if used >= visits {
        "used_up"
    } else if last_day.is_some_and(|d| d < today) {
        "expired"
    } else {
        "active"
    };
    Ok(Ticket {
        id: r.try_get("id")?,
        customer_id: r.try_get("customer_id")?,
        plan_id: r.try_get("plan_id")?,
        name: r.try_get("name")?,
        visits,
        used,
        remaining: visits - used,
        price,
        sold_on: day_from_number(r.try_get("sold_day")?),
        last_day,
        status,
        unused_value: if status == "active" { unused_value(price, visits, used) } else { 0 },
        refunded_amount: r.try_get("refunded_amount")?,
        refund_reason: r.try_get("refund_reason")?,
        uses: Vec::new(),
    })
}

impl Store {
    /// Every plan, active first.
    pub async fn ticket_plans(&self) -> Result<Vec<TicketPlan>> {
        let rows = sqlx::query(
            "SELECT id, name, visits, price, valid_months, active FROM ticket_plans ORDER BY active DESC, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(plan_from_row).collect()
    }

    pub async fn ticket_plan(&self, id: i64) -> Result<TicketPlan> {
        let row = sqlx::query("SELECT id, name, visits, price, valid_months, active FROM ticket_plans WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("ticket plan"))?;
        plan_from_row(&row)
    }

    /// Creates a plan (`id: None`) or changes one; tickets already sold keep their own terms.
    pub async fn save_ticket_plan(&self, id: Option<i64>, p: &TicketPlanInput) -> Result<TicketPlan> {
        let now = now_ms();
        let id = match id {
            None => {
                self.insert_returning_id(
                    sqlx::query_scalar(
                        "INSERT INTO ticket_plans (name, visits, price, valid_months, active, created_at, updated_at) \
                     VALUES ($1,$2,$3,$4,$5,$6,$6) RETURNING id",
                    )
                    .bind(p.name.trim())
                    .bind(p.visits)
                    .bind(p.price)
                    .bind(i64::from(p.valid_months))
                    .bind(i64::from(p.active))
                    .bind(now),
                )
                .await?
            }
            Some(id) => {
                let n = self.execute_write(sqlx::query(
                    "UPDATE ticket_plans SET name = $1, visits = $2, price = $3, valid_months = $4, active = $5, \
                     updated_at = $6 WHERE id = $7",
                )
                .bind(p.name.trim())
                .bind(p.visits)
                .bind(p.price)
                .bind(i64::from(p.valid_months))
                .bind(i64::from(p.active))
                .bind(now)
                .bind(id)
                )
                .await?
                .rows_affected();
                if n == 0 {
                    return Err(StoreError::NotFound("ticket plan"));
                }
                id
            }
        };
        self.ticket_plan(id).await
    }

    /// Sells a ticket of `plan_id` to a customer on local day `today`, with its audit record
    /// (`audit`, the plan and price added to its detail). A retry with the same key and
    /// request answers the first sale; the same key with another request conflicts.
    #[allow(clippy::too_many_arguments)]
    pub async fn sell_ticket(
        &self,
        customer_id: i64,
        plan_id: i64,
        today: NaiveDate,
        key: Option<&str>,
        request_hash: &str,
        created_by: Option<i64>,
        audit: &AuditNote<'_>,
    ) -> Result<TicketWrite> {
        // A simultaneous retry with the same key loses on the unique key: it answers the replay.
        crate::keyed_write(|_| self.try_sell_ticket(customer_id, plan_id, today, key, request_hash, created_by, audit))
            .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn try_sell_ticket(
        &self,
        customer_id: i64,
        plan_id: i64,
        today: NaiveDate,
        key: Option<&str>,
        request_hash: &str,
        created_by: Option<i64>,
        audit: &AuditNote<'_>,
    ) -> Result<TicketWrite> {
        let mut tx = self.begin_write().await?;
        if let Some(k) = key
            && let Some(id) = crate::idempotency::row_with_key(&mut tx, "tickets", k, request_hash).await?
        {
            tx.commit().await?;
            return Ok(TicketWrite { ticket: self.ticket(id, today).await?, replayed: true });
        }
        self.lock_live_customer(&mut tx, customer_id).await?;
        let plan = sqlx::query("SELECT id, name, visits, price, valid_months, active FROM ticket_plans WHERE id = $1")
            .bind(plan_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| FieldError::new("plan_id", Code::NoSuchPlan).arg(plan_id))?;
        let plan = plan_from_row(&plan)?;
        if !plan.active {
            return Err(FieldError::new("plan_id", Code::PlanClosed).arg(&plan.name).into());
        }
        let last = last_day(today, u32::try_from(plan.valid_months).unwrap_or(0));
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO tickets (customer_id, plan_id, name, visits, price, sold_day, last_day, status, \
             idempotency_key, request_hash, created_by, created_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,'active',$8,$9,$10,$11) RETURNING id",
        )
        .bind(customer_id)
        .bind(plan.id)
        .bind(&plan.name)
        .bind(plan.visits)
        .bind(plan.price)
        .bind(day_number(today))
        .bind(last.map(day_number))
        .bind(key)
        .bind(request_hash)
        .bind(created_by)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        let mut note = audit.clone();
        note.detail["plan"] = plan.name.clone().into();
        note.detail["price"] = plan.price.into();
        crate::audit::insert(&mut tx, &note, "ticket", &id.to_string()).await?;
        tx.commit().await?;
        Ok(TicketWrite { ticket: self.ticket(id, today).await?, replayed: false })
    }

    /// One ticket with its uses, as of local day `today`.
    pub async fn ticket(&self, id: i64, today: NaiveDate) -> Result<Ticket> {
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("ticket"))?;
        let mut t = ticket_from_row(&row, today)?;
        t.uses = sqlx::query(
            "SELECT id, day, note, created_by, created_at FROM ticket_uses WHERE ticket_id = $1 ORDER BY id DESC",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(TicketUse {
                id: r.try_get("id")?,
                on: day_from_number(r.try_get("day")?),
                at: from_ms(r.try_get("created_at")?),
                note: r.try_get("note")?,
                created_by: r.try_get("created_by")?,
            })
        })
        .collect::<Result<_>>()?;
        Ok(t)
    }

    /// A customer's tickets, newest first (without their uses).
    pub async fn customer_tickets(&self, customer_id: i64, today: NaiveDate) -> Result<Vec<Ticket>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {TICKET_COLUMNS} FROM tickets WHERE customer_id = $1 ORDER BY id DESC"
        )))
        .bind(customer_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| ticket_from_row(r, today)).collect()
    }

    /// Takes one visit from a ticket on local day `today`. A retry with the same key answers
    /// the first use; the key used on another ticket conflicts. Used up, expired or refunded
    /// tickets are refused with the reason.
    pub async fn use_ticket(
        &self,
        id: i64,
        today: NaiveDate,
        key: Option<&str>,
        note: &str,
        created_by: Option<i64>,
    ) -> Result<TicketWrite> {
        // A simultaneous retry with the same key loses on the unique key (its visit rolled
        // back with it) and answers the replay.
        crate::keyed_write(|_| self.try_use_ticket(id, today, key, note, created_by)).await
    }

    async fn try_use_ticket(
        &self,
        id: i64,
        today: NaiveDate,
        key: Option<&str>,
        note: &str,
        created_by: Option<i64>,
    ) -> Result<TicketWrite> {
        let mut tx = self.begin_write().await?;
        if let Some(k) = key {
            let done: Option<i64> = sqlx::query_scalar("SELECT ticket_id FROM ticket_uses WHERE idempotency_key = $1")
                .bind(k)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(ticket) = done {
                if ticket != id {
                    return Err(StoreError::Conflict(Code::KeyReused.into()));
                }
                tx.commit().await?;
                return Ok(TicketWrite { ticket: self.ticket(id, today).await?, replayed: true });
            }
        }
        let taken = sqlx::query(
            "UPDATE tickets SET used = used + 1 WHERE id = $1 AND status = 'active' AND used < visits \
             AND (last_day IS NULL OR last_day >= $2)",
        )
        .bind(id)
        .bind(day_number(today))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if taken == 0 {
            drop(tx);
            return Err(self.ticket(id, today).await?.refusal("ticket").into());
        }
        sqlx::query(
            "INSERT INTO ticket_uses (ticket_id, customer_id, day, note, idempotency_key, created_by, created_at) \
             SELECT id, customer_id, $2, $3, $4, $5, $6 FROM tickets WHERE id = $1",
        )
        .bind(id)
        .bind(day_number(today))
        .bind(note.trim())
        .bind(key)
        .bind(created_by)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(TicketWrite { ticket: self.ticket(id, today).await?, replayed: false })
    }

    /// Refunds the unused part of an active ticket (price × visits left ÷ visits, rounded
    /// down), with its audit record (the amount added to its detail); the ticket can no
    /// longer be used. Refunding again answers the same ticket and records nothing.
    pub async fn refund_ticket(
        &self,
        id: i64,
        today: NaiveDate,
        reason: &str,
        audit: &AuditNote<'_>,
    ) -> Result<Ticket> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {TICKET_COLUMNS} FROM tickets WHERE id = $1{}",
            self.for_update()
        )))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound("ticket"))?;
        let t = ticket_from_row(&row, today)?;
        match t.status {
            "refunded" => {
                tx.commit().await?;
                return self.ticket(id, today).await;
            }
            "used_up" => return Err(FieldError::new("ticket", Code::TicketUsedUp).into()),
            "expired" => {
                return Err(FieldError::new("ticket", Code::TicketExpired)
                    .arg(t.last_day.map(|d| d.to_string()).unwrap_or_default())
                    .into());
            }
            _ => {}
        }
        sqlx::query(
            "UPDATE tickets SET status = 'refunded', refunded_amount = $1, refund_reason = $2 WHERE id = $3 \
             AND status = 'active' AND used = $4",
        )
        .bind(t.unused_value)
        .bind(reason.trim())
        .bind(id)
        .bind(t.used)
        .execute(&mut *tx)
        .await?;
        let mut note = audit.clone();
        note.detail["amount"] = t.unused_value.into();
        crate::audit::insert(&mut tx, &note, "ticket", &id.to_string()).await?;
        tx.commit().await?;
        self.ticket(id, today).await
    }

    /// Active tickets with visits left whose last day falls within `from..=to` (the hook for
    /// "your ticket expires soon" messages).
    pub async fn tickets_expiring(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<Ticket>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {TICKET_COLUMNS} FROM tickets WHERE status = 'active' AND used < visits \
             AND last_day >= $1 AND last_day <= $2 ORDER BY last_day, id"
        )))
        .bind(day_number(from))
        .bind(day_number(to))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| ticket_from_row(r, from)).collect()
    }

    /// Outstanding paid value of usable tickets as of `today` (Payment Services Act reporting),
    /// with the part from plans exempt as usable only within 6 months; and the count of tickets.
    pub async fn tickets_outstanding(&self, today: NaiveDate) -> Result<(i64, i64, i64)> {
        let rows = sqlx::query(
            "SELECT price, visits, used, sold_day, last_day FROM tickets \
             WHERE status = 'active' AND used < visits AND (last_day IS NULL OR last_day >= $1)",
        )
        .bind(day_number(today))
        .fetch_all(&self.pool)
        .await?;
        let (mut value, mut exempt) = (0_i64, 0_i64);
        for r in &rows {
            let v = unused_value(r.try_get("price")?, r.try_get("visits")?, r.try_get("used")?);
            value += v;
            let sold = day_from_number(r.try_get("sold_day")?);
            let six_months = last_day(sold, 6);
            if r.try_get::<Option<i64>, _>("last_day")?.map(day_from_number).is_some_and(|d| Some(d) <= six_months) {
                exempt += v;
            }
        }
        Ok((value, exempt, rows.len() as i64))
    }
}
