//! Who the daily scenario triggers pick on a local day, each with the occurrence that makes
//! an entry once per thing: an expected purchase date, an expiry date, a ticket, a paid period.

use chrono::NaiveDate;
use sqlx::Row;

use crate::bulk::Val;
use crate::points::day_number;
use crate::{Result, Store};

impl Store {
    /// Customers whose expected next purchase (in the latest complete snapshot) was `expected`
    /// and who have not ordered since that snapshot was made. Occurrence `overdue:<date>`.
    pub async fn overdue_on(&self, expected: NaiveDate) -> Result<Vec<(i64, String)>> {
        let Some(snapshot) = self.latest_snapshot().await? else { return Ok(Vec::new()) };
        let date = expected.format("%Y-%m-%d").to_string();
        let rows = sqlx::query(
            "SELECT m.customer_id FROM customer_metrics m JOIN customers c ON c.id = m.customer_id \
             WHERE m.snapshot_id = $1 AND m.expected_next_purchase = $2 AND c.merged_into IS NULL \
             AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = m.customer_id \
             AND o.status <> 'cancelled' AND o.ordered_at > $3) ORDER BY m.customer_id",
        )
        .bind(snapshot.id)
        .bind(&date)
        .bind(snapshot.computed_at.timestamp_millis())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((r.try_get("customer_id")?, format!("overdue:{date}")))).collect()
    }

    /// Customers whose nearest expiring points (counted from `today`) expire on `day`.
    /// Occurrence `points:<day>`.
    pub async fn points_expiring_on(&self, today: NaiveDate, day: NaiveDate) -> Result<Vec<(i64, String)>> {
        Ok(self
            .points_expiring(today, day)
            .await?
            .into_iter()
            .filter(|(_, _, first)| *first == day)
            .map(|(c, _, first)| (c, format!("points:{first}")))
            .collect())
    }

    /// Active 回数券 usable on `today` with between 1 and `remaining` visits left.
    /// Occurrence `ticket:<id>:low`.
    pub async fn tickets_low(&self, remaining: i64, today: NaiveDate) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query(
            "SELECT id, customer_id FROM tickets WHERE status = 'active' AND visits - used > 0 \
             AND visits - used <= $1 AND (last_day IS NULL OR last_day >= $2) ORDER BY id",
        )
        .bind(remaining)
        .bind(day_number(today))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("customer_id")?, format!("ticket:{}:low", r.try_get::<i64, _>("id")?))))
            .collect()
    }

    /// Active 回数券 with visits left whose last usable day is `day`.
    /// Occurrence `ticket:<id>:expiring`.
    pub async fn tickets_expiring_on(&self, day: NaiveDate) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query(
            "SELECT id, customer_id FROM tickets WHERE status = 'active' AND visits - used > 0 AND last_day = $1 \
             ORDER BY id",
        )
        .bind(day_number(day))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("customer_id")?, format!("ticket:{}:expiring", r.try_get::<i64, _>("id")?))))
            .collect()
    }

    /// Active memberships paid until `day` (their renewal is due).
    /// Occurrence `membership:<id>:<day>`.
    pub async fn memberships_due_on(&self, day: NaiveDate) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query(
            "SELECT id, customer_id FROM memberships WHERE status = 'active' AND paid_until_day = $1 ORDER BY id",
        )
        .bind(day_number(day))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("customer_id")?, format!("membership:{}:{day}", r.try_get::<i64, _>("id")?))))
            .collect()
    }
}

/// Who entered and left a saved segment since its last check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SegmentMoves {
    pub entered: Vec<i64>,
    pub left: Vec<i64>,
    /// The segment had not been checked before: nothing counts as a move.
    pub first_check: bool,
}

impl Store {
    /// Compares `members` (who is in saved segment `segment_id` now, sorted) with who was at
    /// its last check. Reads only (the scenario editor's preview).
    pub async fn segment_moves(&self, segment_id: i64, members: &[i64]) -> Result<SegmentMoves> {
        let checked: Option<i64> = sqlx::query_scalar("SELECT checked_at FROM segment_checks WHERE segment_id = $1")
            .bind(segment_id)
            .fetch_optional(&self.pool)
            .await?;
        if checked.is_none() {
            return Ok(SegmentMoves { first_check: true, ..Default::default() });
        }
        let mut known: Vec<i64> =
            sqlx::query_scalar("SELECT customer_id FROM segment_memberships WHERE segment_id = $1")
                .bind(segment_id)
                .fetch_all(&self.pool)
                .await?;
        known.sort_unstable();
        let now: std::collections::HashSet<i64> = members.iter().copied().collect();
        let before: std::collections::HashSet<i64> = known.iter().copied().collect();
        Ok(SegmentMoves {
            entered: members.iter().copied().filter(|c| !before.contains(c)).collect(),
            left: known.into_iter().filter(|c| !now.contains(c)).collect(),
            first_check: false,
        })
    }

    /// Records a check of saved segment `segment_id`: its moves applied to who is in it, in
    /// one transaction, and the check marked.
    pub async fn save_segment_check(
        &self,
        segment_id: i64,
        moves: &SegmentMoves,
        members: &[i64],
        now_ms: i64,
    ) -> Result<()> {
        let mut tx = self.begin_bulk_write().await?;
        let entered: &[i64] = if moves.first_check { members } else { &moves.entered };
        let rows: Vec<Vec<Val>> =
            entered.iter().map(|c| vec![Val::Int(segment_id), Val::Int(*c), Val::Int(now_ms)]).collect();
        self.bulk_insert_with(
            &mut tx,
            "segment_memberships",
            &["segment_id", "customer_id", "since"],
            rows,
            " ON CONFLICT (segment_id, customer_id) DO NOTHING",
        )
        .await?;
        for chunk in moves.left.chunks(1_000) {
            let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM segment_memberships WHERE segment_id = $1 AND customer_id IN ({list})"
            )))
            .bind(segment_id)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO segment_checks (segment_id, checked_at) VALUES ($1, $2) \
             ON CONFLICT (segment_id) DO UPDATE SET checked_at = excluded.checked_at",
        )
        .bind(segment_id)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
