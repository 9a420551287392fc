//! Points granted by hand, by a rule (a bonus once per key) and in bulk (a campaign, the
//! birthday points), each through the ledger.

use super::*;

impl Store {
    /// Grants points by hand (or sells paid value): a new lot with the reason, expiring by
    /// `expires_on` (`None`: never), with its audit record (on the customer; the lot added).
    /// Debt of the kind is paid off first. Returns the lot id.
    #[allow(clippy::too_many_arguments)]
    pub async fn grant_points(
        &self,
        customer_id: i64,
        kind: ValueKind,
        points: i64,
        source: LotSource,
        on: NaiveDate,
        expiry: joren_core::points::ExpiryPolicy,
        idempotency: Option<(&str, &str)>,
        audit: Option<&crate::audit::AuditNote<'_>>,
    ) -> Result<(i64, bool)> {
        let mut tx = self.begin_write().await?;
        if let Some((key, hash)) = idempotency
            && let crate::IdempotencyOutcome::Replay { response, .. } =
                crate::idempotency::lookup(&mut tx, "points.grant", key, hash).await?
        {
            tx.commit().await?;
            return Ok((response.parse().unwrap_or_default(), true));
        }
        self.lock_live_customer(&mut tx, customer_id).await?;
        let lot_id = self.grant_in(&mut tx, customer_id, kind, points, source, on, expiry).await?;
        if let Some(note) = audit {
            let mut note = note.clone();
            note.detail["lot"] = lot_id.into();
            crate::audit::insert(&mut tx, &note, "customer", &customer_id.to_string()).await?;
        }
        if let Some((key, hash)) = idempotency {
            crate::idempotency::save(&mut tx, "points.grant", key, hash, 201, &lot_id.to_string()).await?;
        }
        tx.commit().await?;
        Ok((lot_id, false))
    }

    /// Inside a write transaction that locked the live customer: a new lot of `points`
    /// (their debt of the kind repaid first). Returns the lot's id.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn grant_in(
        &self,
        tx: &mut Tx,
        customer_id: i64,
        kind: ValueKind,
        points: i64,
        source: LotSource,
        on: NaiveDate,
        expiry: joren_core::points::ExpiryPolicy,
    ) -> Result<i64> {
        let mut l = self.load_ledger(tx, customer_id, true).await?;
        l.ledger.earn(kind, points, None, on, 0, expiry).map_err(points_error)?;
        let detail = serde_json::json!({"points": points, "kind": kind_str(kind), "source": source.source, "reason": source.reason});
        l.new_lots.push(source);
        self.save_ledger(tx, &mut l).await?;
        let lot = l
            .lot_ids
            .last()
            .copied()
            .ok_or_else(|| StoreError::Conflict(joren_core::Problem::other("a grant made no lot")))?;
        crate::events::insert(tx, joren_core::event::EventKind::PointsGranted, customer_id, "point_lot", lot, &detail)
            .await?;
        Ok(lot)
    }

    /// Grants a bonus of `kind` once per `period` (the birthday bonus: once a year): answers
    /// the new lot's id, or `None` when the customer already has this period's bonus. A
    /// merged customer gets nothing (an error naming the survivor). With `audit`, its record
    /// (the lot added) goes with the grant.
    #[allow(clippy::too_many_arguments)]
    pub async fn grant_bonus_once(
        &self,
        customer_id: i64,
        kind: &str,
        period: i64,
        points: i64,
        source: LotSource,
        on: NaiveDate,
        expiry: joren_core::points::ExpiryPolicy,
        audit: Option<&crate::audit::AuditNote<'_>>,
    ) -> Result<Option<i64>> {
        let mut tx = self.begin_write().await?;
        self.lock_live_customer(&mut tx, customer_id).await?;
        let granted: Option<i64> =
            sqlx::query_scalar("SELECT lot_id FROM point_bonuses WHERE customer_id = $1 AND kind = $2 AND period = $3")
                .bind(customer_id)
                .bind(kind)
                .bind(period)
                .fetch_optional(&mut *tx)
                .await?;
        if granted.is_some() {
            tx.commit().await?;
            return Ok(None);
        }
        let lot_id = self.grant_in(&mut tx, customer_id, ValueKind::Free, points, source, on, expiry).await?;
        let mut batch = Batch::new(self.backend());
        batch
            .push("INSERT INTO point_bonuses (customer_id, kind, period, lot_id, created_at) VALUES (?,?,?,?,?)")
            .bind(customer_id)
            .bind(kind.to_string())
            .bind(period)
            .bind(lot_id)
            .bind(now_ms());
        if let Some(note) = audit {
            let mut note = note.clone();
            note.detail["lot"] = lot_id.into();
            crate::audit::push(&mut batch, note.who, note.action, "customer", &customer_id.to_string(), &note.detail);
        }
        tx.commit_after(batch).await?;
        Ok(Some(lot_id))
    }

    /// Live customers with a birthday on file: `(id, birthday)`.
    pub async fn customer_birthdays(&self) -> Result<Vec<(i64, NaiveDate)>> {
        let rows = sqlx::query("SELECT id, birthday FROM customers WHERE birthday IS NOT NULL AND merged_into IS NULL")
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let text: String = r.try_get("birthday")?;
            if let Ok(day) = NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
                out.push((r.try_get("id")?, day));
            }
        }
        Ok(out)
    }

    /// Grants `points` to each of many customers at once (bonus points to a segment, a
    /// campaign), each as its own lot earned on `on` with the reason. Customers who owe points
    /// go through the one-by-one path so their debt is repaid first; the rest are written in
    /// bulk in one transaction. Returns the number of lots created.
    pub async fn grant_points_bulk(
        &self,
        customers: &[i64],
        points: i64,
        source: &LotSource,
        on: NaiveDate,
        expiry: joren_core::points::ExpiryPolicy,
    ) -> Result<usize> {
        if points <= 0 {
            return Err(points_error(PointsError::NotPositive(points)));
        }
        let owing: std::collections::HashSet<i64> = sqlx::query_scalar("SELECT DISTINCT customer_id FROM point_debts")
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .collect();
        let (one_by_one, bulk): (Vec<i64>, Vec<i64>) = customers.iter().partition(|c| owing.contains(c));
        for c in &one_by_one {
            self.grant_points(*c, ValueKind::Free, points, source.clone(), on, expiry, None, None).await?;
        }
        let (day, expires, now) = (day_number(on), expiry.expires_on(on).map(day_number), now_ms());
        for chunk in bulk.chunks(100_000) {
            let mut tx = self.begin_bulk_write().await?;
            let ids = self.reserve_ids(&mut tx, "point_lots", chunk.len()).await?;
            let lots: Vec<Vec<Val>> = chunk
                .iter()
                .zip(&ids)
                .map(|(c, id)| {
                    vec![
                        Val::Int(*id),
                        Val::Int(*c),
                        Val::Text("free".into()),
                        Val::Text(source.source.into()),
                        Val::Int(points),
                        Val::Int(points),
                        Val::Int(day),
                        Val::Int(day),
                        Val::OptInt(expires),
                        Val::Text(source.reason.clone()),
                        Val::OptInt(source.created_by),
                        Val::Int(now),
                    ]
                })
                .collect();
            self.bulk_insert(
                &mut tx,
                "point_lots",
                &[
                    "id",
                    "customer_id",
                    "value_kind",
                    "source",
                    "granted",
                    "remaining",
                    "earned_day",
                    "available_day",
                    "expires_day",
                    "reason",
                    "created_by",
                    "created_at",
                ],
                lots,
            )
            .await?;
            let entries: Vec<Vec<Val>> = chunk
                .iter()
                .zip(&ids)
                .map(|(c, id)| {
                    vec![
                        Val::Int(*c),
                        Val::Int(*id),
                        Val::Text("earn".into()),
                        Val::Int(points),
                        Val::Int(day),
                        Val::Int(now),
                    ]
                })
                .collect();
            self.bulk_insert(
                &mut tx,
                "point_entries",
                &["customer_id", "lot_id", "kind", "points", "day", "created_at"],
                entries,
            )
            .await?;
            let detail =
                serde_json::json!({"points": points, "kind": "free", "source": source.source, "reason": source.reason})
                    .to_string();
            let events: Vec<Vec<Val>> = chunk
                .iter()
                .zip(&ids)
                .map(|(c, id)| {
                    vec![
                        Val::Text(joren_core::event::EventKind::PointsGranted.as_str().into()),
                        Val::Int(*c),
                        Val::Text("point_lot".into()),
                        Val::Text(id.to_string()),
                        Val::Text(detail.clone()),
                        Val::Int(now),
                    ]
                })
                .collect();
            self.bulk_insert(
                &mut tx,
                "events",
                &["kind", "customer_id", "entity", "entity_id", "payload", "occurred_at"],
                events,
            )
            .await?;
            tx.commit().await?;
        }
        Ok(customers.len())
    }
}
