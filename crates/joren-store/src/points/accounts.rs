//! Reading and closing the books: the nightly expiry, what expires when, a customer's account,
//! the monthly report, the outstanding liability and the lot/entry cross-check.

use super::*;

impl Store {
    /// Expires, as of local day `today`, whatever is left in lots whose last day is before it.
    /// A lot's first expiry is recorded on the lot (`expired_points` on `expired_day`: one row
    /// write a lot); a lot expiring again (points restored to it after it expired) gets an
    /// `expire` entry. One transaction, in bulk; the two sets of lots are disjoint.
    pub async fn expire_points(&self, today: NaiveDate) -> Result<ExpiryRun> {
        let day = day_number(today);
        let now = now_ms();
        const DUE: &str = "remaining > 0 AND expires_day IS NOT NULL AND expires_day < $1";
        let mut tx = self.begin_bulk_write().await?;
        let (first, again) = match self.backend() {
            Backend::Postgres => {
                // Each UPDATE locks its lots and re-reads one a customer operation changed
                // meanwhile, so what it records is what the lot held.
                let first = sqlx::query(AssertSqlSafe(format!(
                    "WITH expired AS (UPDATE point_lots SET expired_points = remaining, expired_day = $1, \
                        expired_at = $2, remaining = 0 WHERE {DUE} AND expired_day IS NULL RETURNING expired_points) \
                     SELECT COUNT(*) AS lots, CAST(COALESCE(SUM(expired_points), 0) AS BIGINT) AS points FROM expired"
                )))
                .bind(day)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                let again = sqlx::query(AssertSqlSafe(format!(
                    "WITH due AS (SELECT id, customer_id, remaining FROM point_lots \
                        WHERE {DUE} AND expired_day IS NOT NULL FOR UPDATE), \
                     zeroed AS (UPDATE point_lots l SET remaining = 0 FROM due WHERE l.id = due.id \
                        RETURNING due.id, due.customer_id, due.remaining), \
                     logged AS (INSERT INTO point_entries (customer_id, lot_id, kind, points, day, created_at) \
                        SELECT customer_id, id, 'expire', -remaining, $1, $2 FROM zeroed RETURNING points) \
                     SELECT COUNT(*) AS lots, CAST(COALESCE(SUM(-points), 0) AS BIGINT) AS points FROM logged"
                )))
                .bind(day)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                (first, again)
            }
            Backend::Sqlite => {
                // The write transaction holds the database: the statements see one state.
                let count = |filter: &str| {
                    sqlx::query(AssertSqlSafe(format!(
                        "SELECT COUNT(*) AS lots, CAST(COALESCE(SUM(remaining), 0) AS BIGINT) AS points \
                         FROM point_lots WHERE {DUE} AND {filter}"
                    )))
                    .bind(day)
                };
                let again = count("expired_day IS NOT NULL").fetch_one(&mut *tx).await?;
                sqlx::query(AssertSqlSafe(format!(
                    "INSERT INTO point_entries (customer_id, lot_id, kind, points, day, created_at) \
                     SELECT customer_id, id, 'expire', -remaining, $1, $2 FROM point_lots \
                     WHERE {DUE} AND expired_day IS NOT NULL"
                )))
                .bind(day)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                sqlx::query(AssertSqlSafe(format!(
                    "UPDATE point_lots SET remaining = 0 WHERE {DUE} AND expired_day IS NOT NULL"
                )))
                .bind(day)
                .execute(&mut *tx)
                .await?;
                let first = count("expired_day IS NULL").fetch_one(&mut *tx).await?;
                sqlx::query(AssertSqlSafe(format!(
                    "UPDATE point_lots SET expired_points = remaining, expired_day = $1, expired_at = $2, \
                     remaining = 0 WHERE {DUE} AND expired_day IS NULL"
                )))
                .bind(day)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                (first, again)
            }
        };
        let run = ExpiryRun {
            lots: first.try_get::<i64, _>("lots")? + again.try_get::<i64, _>("lots")?,
            points: to_i64(&first, "points")? + to_i64(&again, "points")?,
        };
        // One event a customer with what this run expired (first expiries are marked on the
        // lot with this run's time, repeat ones are its `expire` entries).
        let payload = match self.backend() {
            Backend::Sqlite => "json_object('points', SUM(points), 'day', $3)",
            Backend::Postgres => "CAST(json_build_object('points', SUM(points), 'day', CAST($3 AS TEXT)) AS TEXT)",
        };
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO events (kind, customer_id, entity, entity_id, payload, occurred_at) \
             SELECT '{kind}', customer_id, 'customer', CAST(customer_id AS TEXT), {payload}, CAST($2 AS BIGINT) FROM ( \
               SELECT customer_id, expired_points AS points FROM point_lots WHERE expired_day = $1 AND expired_at = $2 \
               UNION ALL SELECT customer_id, -points FROM point_entries WHERE kind = 'expire' AND day = $1 AND created_at = $2 \
             ) x GROUP BY customer_id HAVING SUM(points) > 0",
            kind = joren_core::event::EventKind::PointsExpired.as_str()
        )))
        .bind(day)
        .bind(now)
        .bind(today.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(run)
    }

    /// Customers with points expiring from `from` through `until` (local days, inclusive),
    /// with how many: for "points expiring in N days" notices.
    pub async fn points_expiring(&self, from: NaiveDate, until: NaiveDate) -> Result<Vec<(i64, i64, NaiveDate)>> {
        let rows = sqlx::query(
            "SELECT customer_id, CAST(SUM(remaining) AS BIGINT) AS points, MIN(expires_day) AS first_day FROM point_lots \
             WHERE remaining > 0 AND expires_day IS NOT NULL AND expires_day >= $1 AND expires_day <= $2 \
             GROUP BY customer_id ORDER BY customer_id",
        )
        .bind(day_number(from))
        .bind(day_number(until))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("customer_id")?, to_i64(r, "points")?, day_from_number(r.try_get("first_day")?))))
            .collect()
    }

    /// A customer's points on local day `on`: balances per kind, live lots, history.
    pub async fn points_account(&self, customer_id: i64, on: NaiveDate) -> Result<PointsAccount> {
        let mut tx = self.begin_read().await?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM customers WHERE id = $1")
            .bind(customer_id)
            .fetch_optional(&mut *tx)
            .await?;
        exists.ok_or(StoreError::NotFound("customer"))?;
        let l = self.load_ledger(&mut tx, customer_id, false).await?;
        let balances = |k: ValueKind| {
            let live: Vec<&Lot> = l
                .ledger
                .lots
                .iter()
                .filter(|x| x.kind == k && x.remaining > 0 && x.expires_on.is_none_or(|e| on <= e))
                .collect();
            let next = live.iter().filter_map(|x| x.expires_on).min();
            PointBalances {
                available: l.ledger.available(k, on),
                pending: l.ledger.pending(k, on),
                balance: live.iter().map(|x| x.remaining).sum(),
                debt: l.ledger.debt(k),
                expiring_30_days: l.ledger.expiring_within(k, on, 30),
                next_expiry: next
                    .map(|d| (d, live.iter().filter(|x| x.expires_on == Some(d)).map(|x| x.remaining).sum::<i64>())),
            }
        };
        let (free, paid) = (balances(ValueKind::Free), balances(ValueKind::Paid));
        let lot_rows = sqlx::query(
            "SELECT id, value_kind, source, order_id, granted, remaining, earned_day, available_day, expires_day, \
             reason FROM point_lots WHERE customer_id = $1 AND remaining > 0 \
             AND (expires_day IS NULL OR expires_day >= $2) ORDER BY expires_day IS NULL, expires_day, id",
        )
        .bind(customer_id)
        .bind(day_number(on))
        .fetch_all(&mut *tx)
        .await?;
        let lots = lot_rows
            .iter()
            .map(|r| {
                Ok(PointLot {
                    id: r.try_get("id")?,
                    kind: parse_kind(&r.try_get::<String, _>("value_kind")?),
                    source: r.try_get("source")?,
                    order_id: r.try_get("order_id")?,
                    granted: r.try_get("granted")?,
                    remaining: r.try_get("remaining")?,
                    earned_on: day_from_number(r.try_get("earned_day")?),
                    available_on: day_from_number(r.try_get("available_day")?),
                    expires_on: r.try_get::<Option<i64>, _>("expires_day")?.map(day_from_number),
                    reason: r.try_get("reason")?,
                })
            })
            .collect::<Result<_>>()?;
        let history = sqlx::query(
            "SELECT e.id, e.lot_id, e.kind, l.value_kind, e.points, e.day, e.redemption_id, e.created_at \
             FROM point_ledger e JOIN point_lots l ON l.id = e.lot_id WHERE e.customer_id = $1 \
             ORDER BY e.created_at DESC, e.id DESC LIMIT 200",
        )
        .bind(customer_id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| {
            Ok(PointEntry {
                id: r.try_get("id")?,
                lot_id: r.try_get("lot_id")?,
                kind: parse_entry_kind(&r.try_get::<String, _>("kind")?)?,
                value_kind: parse_kind(&r.try_get::<String, _>("value_kind")?),
                points: r.try_get("points")?,
                on: day_from_number(r.try_get("day")?),
                redemption_id: r.try_get("redemption_id")?,
                at: from_ms(r.try_get("created_at")?),
            })
        })
        .collect::<Result<_>>()?;
        let redemptions = sqlx::query(AssertSqlSafe(format!(
            "SELECT {REDEMPTION_COLUMNS} FROM point_redemptions WHERE customer_id = $1 ORDER BY id DESC LIMIT 50"
        )))
        .bind(customer_id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(redemption_from_row)
        .collect::<Result<_>>()?;
        tx.commit().await?;
        Ok(PointsAccount { customer_id, on, free, paid, lots, history, redemptions })
    }

    /// A customer's ledger as the pure model sees it (tests compare it with their model).
    pub async fn points_ledger(&self, customer_id: i64) -> Result<(Ledger, Vec<i64>)> {
        let mut tx = self.begin_read().await?;
        let l = self.load_ledger(&mut tx, customer_id, false).await?;
        tx.commit().await?;
        Ok((l.ledger, l.lot_ids))
    }

    /// Points issued, redeemed, expired and taken back per month and value kind, with the
    /// outstanding balance (liability) at each month's end.
    pub async fn points_report(&self) -> Result<Vec<PointsMonth>> {
        let rows = sqlx::query(
            "SELECT e.day, e.kind, l.value_kind, CAST(SUM(e.points) AS BIGINT) AS points FROM point_ledger e \
             JOIN point_lots l ON l.id = e.lot_id GROUP BY e.day, e.kind, l.value_kind ORDER BY e.day",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut months: Vec<PointsMonth> = Vec::new();
        let mut outstanding: HashMap<&'static str, i64> = HashMap::new();
        for r in &rows {
            let day = day_from_number(r.try_get("day")?);
            let kind = parse_kind(&r.try_get::<String, _>("value_kind")?);
            let month = day.format("%Y-%m").to_string();
            let points = to_i64(r, "points")?;
            let key = kind_str(kind);
            *outstanding.entry(key).or_default() += points;
            let m = match months.iter_mut().rev().find(|m| m.month == month && m.kind == Some(kind)) {
                Some(m) => m,
                None => {
                    months.push(PointsMonth { month, kind: Some(kind), ..Default::default() });
                    months.last_mut().expect("just pushed")
                }
            };
            match parse_entry_kind(&r.try_get::<String, _>("kind")?)? {
                EntryKind::Earn => m.issued += points,
                EntryKind::Spend | EntryKind::Restore => m.redeemed -= points,
                EntryKind::Expire => m.expired -= points,
                EntryKind::Reverse | EntryKind::Deduct | EntryKind::Repay => m.reversed -= points,
            }
            m.outstanding = outstanding[key];
        }
        months.sort_by(|a, b| {
            (&a.month, a.kind == Some(ValueKind::Paid)).cmp(&(&b.month, b.kind == Some(ValueKind::Paid)))
        });
        Ok(months)
    }

    /// Outstanding points of each kind now (paid value is the 資金決済法 figure).
    pub async fn points_outstanding(&self) -> Result<(i64, i64)> {
        let rows = sqlx::query(
            "SELECT value_kind, CAST(SUM(remaining) AS BIGINT) AS points FROM point_lots GROUP BY value_kind",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = (0, 0);
        for r in &rows {
            let p = to_i64(r, "points")?;
            match parse_kind(&r.try_get::<String, _>("value_kind")?) {
                ValueKind::Free => out.0 = p,
                ValueKind::Paid => out.1 = p,
            }
        }
        Ok(out)
    }

    /// Lots whose `remaining` differs from the sum of their entries (empty when the ledger is
    /// whole): the check run after a crash and by `joren points verify`.
    pub async fn verify_points(&self) -> Result<Vec<LotMismatch>> {
        let rows = sqlx::query(
            "SELECT l.id, l.remaining, CAST(COALESCE(SUM(e.points), 0) AS BIGINT) AS total FROM point_lots l \
             LEFT JOIN point_ledger e ON e.lot_id = l.id GROUP BY l.id, l.remaining \
             HAVING l.remaining <> COALESCE(SUM(e.points), 0) ORDER BY l.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(LotMismatch {
                    lot_id: r.try_get("id")?,
                    remaining: r.try_get("remaining")?,
                    sum_of_entries: to_i64(r, "total")?,
                })
            })
            .collect()
    }
}
