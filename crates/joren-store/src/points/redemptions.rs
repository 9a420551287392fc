//! Redemptions: points spent all or nothing (reserved, confirmed with an order or cancelled
//! back into their lots), idempotent by key.

use super::*;

impl Store {
    /// Spends points as one redemption, soonest-expiring lots first, all or nothing. With an
    /// idempotency key a retry returns the first redemption (`replayed`), and the same key with
    /// a different request is a conflict; keys are kept with the redemption for good.
    pub async fn redeem_points(&self, req: &RedemptionRequest<'_>) -> Result<Redemption> {
        crate::keyed_write(|_| self.try_redeem_points(req)).await
    }

    async fn try_redeem_points(&self, req: &RedemptionRequest<'_>) -> Result<Redemption> {
        let mut tx = self.begin_write().await?;
        if let Some(key) = req.idempotency_key
            && let Some(row) = sqlx::query(AssertSqlSafe(format!(
                "SELECT {REDEMPTION_COLUMNS}, request_hash FROM point_redemptions WHERE idempotency_key = $1"
            )))
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?
        {
            if row.try_get::<String, _>("request_hash")? != req.request_hash {
                return Err(StoreError::Conflict(joren_core::Code::KeyReused.into()));
            }
            tx.commit().await?;
            return Ok(Redemption { replayed: true, ..redemption_from_row(&row)? });
        }
        self.lock_live_customer(&mut tx, req.customer_id).await?;
        if let Some(order_id) = req.order_id {
            check_order_owner(&mut tx, order_id, req.customer_id).await?;
        }
        let mut l = self.load_ledger(&mut tx, req.customer_id, true).await?;
        let status = if req.purpose == "checkout" { "reserved" } else { "confirmed" };
        let now = now_ms();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO point_redemptions (customer_id, value_kind, points, purpose, status, idempotency_key, \
             request_hash, order_id, reason, hold_until, created_by, created_at, settled_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) RETURNING id",
        )
        .bind(req.customer_id)
        .bind(kind_str(req.kind))
        .bind(req.points.max(1))
        .bind(req.purpose)
        .bind(status)
        .bind(req.idempotency_key)
        .bind(req.request_hash)
        .bind(req.order_id)
        .bind(req.reason)
        .bind(if status == "reserved" { req.hold_until.map(to_ms) } else { None })
        .bind(req.actor)
        .bind(now)
        .bind(if status == "confirmed" { Some(now) } else { None })
        .fetch_one(&mut *tx)
        .await?;
        l.ledger.spend(req.kind, req.points, req.on, id).map_err(points_error)?;
        self.save_ledger(&mut tx, &mut l).await?;
        if let Some(note) = req.audit {
            let mut note = note.clone();
            note.detail["redemption"] = id.into();
            crate::audit::insert(&mut tx, &note, "customer", &req.customer_id.to_string()).await?;
        }
        tx.commit().await?;
        self.get_redemption(id).await
    }

    /// Confirms a reserved redemption (the checkout went through), optionally naming the
    /// order it paid for, with its audit record (points and order added). Confirming again
    /// answers the same and records nothing; a cancelled one is a conflict.
    pub async fn confirm_redemption(
        &self,
        id: i64,
        order_id: Option<i64>,
        audit: Option<&crate::audit::AuditNote<'_>>,
    ) -> Result<Redemption> {
        // Copies of one counter sale confirm at the same moment as the others write: a
        // deadlock victim runs again (rolled back whole; the next run sees it confirmed).
        crate::transient_retry(|| self.try_confirm_redemption(id, order_id, audit)).await
    }

    async fn try_confirm_redemption(
        &self,
        id: i64,
        order_id: Option<i64>,
        audit: Option<&crate::audit::AuditNote<'_>>,
    ) -> Result<Redemption> {
        let mut tx = self.begin_write().await?;
        let r = self.locked_redemption(&mut tx, id).await?;
        match r.status.as_str() {
            "confirmed" => {
                tx.commit().await?;
                return Ok(Redemption { replayed: true, ..r });
            }
            "cancelled" => {
                return Err(StoreError::Conflict(joren_core::Problem::new(joren_core::Code::AlreadyCancelled).arg(id)));
            }
            _ => {}
        }
        if let Some(order_id) = order_id {
            check_order_owner(&mut tx, order_id, r.customer_id).await?;
            sqlx::query("UPDATE point_redemptions SET order_id = $1 WHERE id = $2")
                .bind(order_id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        settle_redemption(&mut tx, id, "confirmed").await?;
        if let Some(note) = audit {
            let mut note = note.clone();
            note.detail["points"] = r.points.into();
            note.detail["order_id"] = order_id.or(r.order_id).into();
            crate::audit::insert(&mut tx, &note, "redemption", &id.to_string()).await?;
        }
        tx.commit().await?;
        self.get_redemption(id).await
    }

    /// Cancels a redemption: its points go back to the lots they came from, with their own
    /// expiry. Cancelling again answers the same (marked `replayed`); a confirmed checkout
    /// redemption cannot be cancelled (a conflict). Its audit record (points added) goes with
    /// the first cancellation only.
    pub async fn cancel_redemption(
        &self,
        id: i64,
        on: NaiveDate,
        audit: Option<&crate::audit::AuditNote<'_>>,
    ) -> Result<Redemption> {
        crate::transient_retry(|| self.try_cancel_redemption(id, on, audit)).await
    }

    async fn try_cancel_redemption(
        &self,
        id: i64,
        on: NaiveDate,
        audit: Option<&crate::audit::AuditNote<'_>>,
    ) -> Result<Redemption> {
        let mut tx = self.begin_write().await?;
        let customer_id: i64 = sqlx::query_scalar("SELECT customer_id FROM point_redemptions WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound("redemption"))?;
        self.lock_live_customer(&mut tx, customer_id).await?;
        let r = self.locked_redemption(&mut tx, id).await?;
        if r.status == "cancelled" {
            tx.commit().await?;
            return Ok(Redemption { replayed: true, ..r });
        }
        if r.status == "confirmed" && r.purpose == "checkout" {
            // The sale went through: its points come back only with a refund or cancellation
            // of the order. Read under the row lock, so a cancel racing the confirmation loses.
            return Err(StoreError::Conflict(joren_core::Problem::new(joren_core::Code::RedemptionConfirmed).arg(id)));
        }
        let mut l = self.load_ledger(&mut tx, customer_id, true).await?;
        l.ledger.restore(id, on).map_err(points_error)?;
        self.save_ledger(&mut tx, &mut l).await?;
        settle_redemption(&mut tx, id, "cancelled").await?;
        if let Some(note) = audit {
            let mut note = note.clone();
            note.detail["points"] = r.points.into();
            crate::audit::insert(&mut tx, &note, "redemption", &id.to_string()).await?;
        }
        tx.commit().await?;
        self.get_redemption(id).await
    }

    async fn locked_redemption(&self, tx: &mut Tx, id: i64) -> Result<Redemption> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {REDEMPTION_COLUMNS} FROM point_redemptions WHERE id = $1{}",
            self.for_update()
        )))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound("redemption"))?;
        redemption_from_row(&row)
    }

    /// One redemption.
    pub async fn get_redemption(&self, id: i64) -> Result<Redemption> {
        let row =
            sqlx::query(AssertSqlSafe(format!("SELECT {REDEMPTION_COLUMNS} FROM point_redemptions WHERE id = $1")))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound("redemption"))?;
        redemption_from_row(&row)
    }

    /// Reserved redemptions whose hold ran out by `now` (cancelled by the scheduler).
    pub async fn stale_reservations(&self, now: DateTime<Utc>) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM point_redemptions WHERE status = 'reserved' AND hold_until < $1 ORDER BY id",
        )
        .bind(to_ms(now))
        .fetch_all(&self.pool)
        .await?)
    }
}

pub(super) fn redemption_from_row(r: &AnyRow) -> Result<Redemption> {
    Ok(Redemption {
        id: r.try_get("id")?,
        customer_id: r.try_get("customer_id")?,
        kind: parse_kind(&r.try_get::<String, _>("value_kind")?),
        points: r.try_get("points")?,
        purpose: r.try_get("purpose")?,
        status: r.try_get("status")?,
        order_id: r.try_get("order_id")?,
        reason: r.try_get("reason")?,
        hold_until: r.try_get::<Option<i64>, _>("hold_until")?.map(from_ms),
        created_by: r.try_get("created_by")?,
        created_at: from_ms(r.try_get("created_at")?),
        settled_at: r.try_get::<Option<i64>, _>("settled_at")?.map(from_ms),
        replayed: false,
    })
}

/// A redemption may name only an order of its own customer.
async fn check_order_owner(tx: &mut Tx, order_id: i64, customer_id: i64) -> Result<()> {
    let owner: Option<i64> = sqlx::query_scalar("SELECT customer_id FROM orders WHERE id = $1")
        .bind(order_id)
        .fetch_optional(&mut **tx)
        .await?;
    if owner != Some(customer_id) {
        return Err(StoreError::Invalid(FieldError::new("order_id", joren_core::Code::NotThisCustomersOrder)));
    }
    Ok(())
}

pub(super) async fn settle_redemption(tx: &mut Tx, id: i64, status: &str) -> Result<()> {
    sqlx::query("UPDATE point_redemptions SET status = $1, settled_at = $2, hold_until = NULL WHERE id = $3")
        .bind(status)
        .bind(now_ms())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
