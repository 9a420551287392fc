//! Ranks: each customer's current tier, the history of changes (also the automation's rank
//! events), and the measured values the rules in `joren_core::rank` judge.

use chrono::NaiveDate;
use joren_core::rank::{RankMeasure, RankRules};
use joren_core::time::{Tz, start_of_day};
use serde::Serialize;
use sqlx::{AnyConnection, AssertSqlSafe, Row};

use crate::batch::Batch;
use crate::db::Tx;
use crate::points::{EarnedLot, day_from_number, day_number};
use crate::{Result, Store, from_ms, now_ms};

/// A period ranks are measured over: local days `from..=to`, and the same as epoch
/// milliseconds for order times. Points count once spendable on or before `available_by`.
#[derive(Debug, Clone, Copy)]
pub struct RankSpan {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub available_by: NaiveDate,
    from_ms: i64,
    to_ms_exclusive: i64,
}

impl RankSpan {
    /// The local days `from..=to` in the shop's zone `tz`.
    pub fn new((from, to): (NaiveDate, NaiveDate), tz: Tz, available_by: NaiveDate) -> Self {
        let ms = |d: NaiveDate| start_of_day(d, tz).timestamp_millis();
        let after = to.succ_opt().unwrap_or(to);
        Self { from, to, available_by, from_ms: ms(from), to_ms_exclusive: ms(after) }
    }
}

/// A customer's current rank (customers without one hold the base tier).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerRank {
    pub customer_id: i64,
    pub level: i64,
    pub tier_name: String,
    pub since: NaiveDate,
    /// The last review date applied.
    pub reviewed: NaiveDate,
    pub grace_used: i64,
}

/// One change of rank (or a review kept on grace, `from_level == to_level`).
#[derive(Debug, Clone, Serialize)]
pub struct RankChange {
    pub id: i64,
    pub customer_id: i64,
    pub from_level: i64,
    pub to_level: i64,
    pub from_name: String,
    pub to_name: String,
    /// `order`, `evaluation`, `review`, `grace` or `manual`.
    pub cause: String,
    pub value: i64,
    pub day: NaiveDate,
    pub reason: String,
    pub order_id: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// A rank to write if the customer still holds `expected_level` (`None`: no rank row yet), so
/// a daily run never overwrites an upgrade an order made meanwhile.
#[derive(Debug, Clone)]
pub struct RankWrite {
    pub customer_id: i64,
    pub expected_level: Option<i64>,
    pub rank: CustomerRank,
    /// The history row to append with it.
    pub change: Option<RankChangeNote>,
}

/// What a history row says beyond the new rank.
#[derive(Debug, Clone)]
pub struct RankChangeNote {
    pub from_level: i64,
    pub from_name: String,
    pub cause: &'static str,
    pub value: i64,
    pub day: NaiveDate,
    pub reason: String,
    pub order_id: Option<i64>,
    pub created_by: Option<i64>,
}

/// How many customers hold each level.
#[derive(Debug, Clone, Serialize)]
pub struct RankCount {
    pub level: i64,
    pub customers: i64,
}

/// Ups and downs on one day.
#[derive(Debug, Clone, Serialize)]
pub struct RankMovement {
    pub day: NaiveDate,
    pub up: i64,
    pub down: i64,
    pub grace: i64,
}

const RANK_COLUMNS: &str = "customer_id, level, tier_name, since_day, reviewed_day, grace_used";
const CHANGE_COLUMNS: &str = "id, customer_id, from_level, to_level, from_name, to_name, cause, value, day, reason, \
     order_id, created_by, created_at";
/// Rank writes per transaction in a run (keeps the writer lock short between batches).
const WRITE_BATCH: usize = 500;

fn rank_from_row(r: &sqlx::any::AnyRow) -> Result<CustomerRank> {
    Ok(CustomerRank {
        customer_id: r.try_get("customer_id")?,
        level: r.try_get("level")?,
        tier_name: r.try_get("tier_name")?,
        since: day_from_number(r.try_get("since_day")?),
        reviewed: day_from_number(r.try_get("reviewed_day")?),
        grace_used: r.try_get("grace_used")?,
    })
}

fn change_from_row(r: &sqlx::any::AnyRow) -> Result<RankChange> {
    Ok(RankChange {
        id: r.try_get("id")?,
        customer_id: r.try_get("customer_id")?,
        from_level: r.try_get("from_level")?,
        to_level: r.try_get("to_level")?,
        from_name: r.try_get("from_name")?,
        to_name: r.try_get("to_name")?,
        cause: r.try_get("cause")?,
        value: r.try_get("value")?,
        day: day_from_number(r.try_get("day")?),
        reason: r.try_get("reason")?,
        order_id: r.try_get("order_id")?,
        created_by: r.try_get("created_by")?,
        created_at: from_ms(r.try_get("created_at")?),
    })
}

/// The query of the measured value per customer over a span, of one customer with `one`:
/// rows `(customer_id, v)`, customers with nothing left out. [`bind_values`] binds its `?`.
pub(crate) fn values_sql(measure: RankMeasure, one: bool) -> String {
    match measure {
        RankMeasure::Spend | RankMeasure::Orders => {
            let (value, status) = match measure {
                RankMeasure::Spend => ("SUM(total - refunded)", "status <> 'cancelled'"),
                _ => ("COUNT(*)", "status NOT IN ('cancelled', 'refunded')"),
            };
            let one = if one { " AND customer_id = ?" } else { "" };
            format!(
                "SELECT customer_id, CAST({value} AS BIGINT) AS v FROM orders \
                 WHERE {status} AND ordered_at >= ? AND ordered_at < ?{one} GROUP BY customer_id"
            )
        }
        RankMeasure::EarnedPoints => {
            let one = if one { " AND e.customer_id = ?" } else { "" };
            format!(
                "SELECT e.customer_id AS customer_id, CAST(SUM(e.points) AS BIGINT) AS v FROM point_entries e \
                 JOIN point_lots l ON l.id = e.lot_id WHERE e.kind IN ('earn', 'reverse') \
                 AND l.source IN ('order', 'bonus') AND l.earned_day >= ? AND l.earned_day <= ? \
                 AND l.available_day <= ?{one} GROUP BY e.customer_id"
            )
        }
    }
}

/// Binds the parameters of [`values_sql`] (with `customer` for `one`).
pub(crate) fn bind_values(batch: &mut Batch, measure: RankMeasure, span: &RankSpan, customer: Option<i64>) {
    match measure {
        RankMeasure::Spend | RankMeasure::Orders => {
            batch.bind(span.from_ms).bind(span.to_ms_exclusive);
        }
        RankMeasure::EarnedPoints => {
            batch.bind(day_number(span.from)).bind(day_number(span.to)).bind(day_number(span.available_by));
        }
    }
    if let Some(c) = customer {
        batch.bind(c);
    }
}

/// What a new order adds to its customer's measure over `span`: [`values_sql`]'s conditions
/// applied to the order (completed, nothing refunded) and its points lot, before they are
/// written.
pub(crate) fn order_contribution(
    measure: RankMeasure,
    span: &RankSpan,
    ordered_at_ms: i64,
    total: i64,
    lot: Option<EarnedLot>,
) -> i64 {
    let in_window = span.from_ms <= ordered_at_ms && ordered_at_ms < span.to_ms_exclusive;
    match measure {
        RankMeasure::Spend if in_window => total,
        RankMeasure::Orders if in_window => 1,
        RankMeasure::Spend | RankMeasure::Orders => 0,
        RankMeasure::EarnedPoints => lot
            .filter(|l| span.from <= l.earned_on && l.earned_on <= span.to && l.available_on <= span.available_by)
            .map_or(0, |l| l.points),
    }
}

async fn load_rank(conn: &mut AnyConnection, customer_id: i64) -> Result<Option<CustomerRank>> {
    let row = sqlx::query(AssertSqlSafe(format!("SELECT {RANK_COLUMNS} FROM customer_ranks WHERE customer_id = $1")))
        .bind(customer_id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(rank_from_row).transpose()
}

/// Writes one rank if the customer still holds the expected level; true when written.
async fn write_rank(tx: &mut Tx, w: &RankWrite) -> Result<bool> {
    let mut batch = Batch::new(tx.backend());
    push_rank_row(&mut batch, w);
    let written = batch.execute(tx).await? == 1;
    if written && let Some(c) = &w.change {
        let mut batch = Batch::new(tx.backend());
        push_rank_change(&mut batch, w, c);
        batch.run(tx).await?;
    }
    Ok(written)
}

/// Adds to `batch` the write of a rank the caller knows the customer holds as expected (it
/// read it in the same transaction, under the customer's lock), with its change record.
pub(crate) fn push_rank_write(batch: &mut Batch, w: &RankWrite) {
    push_rank_row(batch, w);
    if let Some(c) = &w.change {
        push_rank_change(batch, w, c);
    }
}

/// The rank row: inserted if the customer had none, else updated if they still hold the
/// expected level.
fn push_rank_row(batch: &mut Batch, w: &RankWrite) {
    let r = &w.rank;
    let (customer, level, name) = (w.customer_id, r.level, r.tier_name.clone());
    let (since, reviewed, grace, now) = (day_number(r.since), day_number(r.reviewed), r.grace_used, now_ms());
    match w.expected_level {
        None => batch
            .push(
                "INSERT INTO customer_ranks (customer_id, level, tier_name, since_day, reviewed_day, grace_used, \
                 updated_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT (customer_id) DO NOTHING",
            )
            .bind(customer)
            .bind(level)
            .bind(name)
            .bind(since)
            .bind(reviewed)
            .bind(grace)
            .bind(now),
        Some(expected) => batch
            .push(
                "UPDATE customer_ranks SET level = ?, tier_name = ?, since_day = ?, reviewed_day = ?, grace_used = ?, \
                 updated_at = ? WHERE customer_id = ? AND level = ?",
            )
            .bind(level)
            .bind(name)
            .bind(since)
            .bind(reviewed)
            .bind(grace)
            .bind(now)
            .bind(customer)
            .bind(expected),
    };
}

fn push_rank_change(batch: &mut Batch, w: &RankWrite, c: &RankChangeNote) {
    batch
        .push(
            "INSERT INTO rank_changes (customer_id, from_level, to_level, from_name, to_name, cause, value, day, \
             reason, order_id, created_by, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        )
        .bind(w.customer_id)
        .bind(c.from_level)
        .bind(w.rank.level)
        .bind(c.from_name.clone())
        .bind(w.rank.tier_name.clone())
        .bind(c.cause)
        .bind(c.value)
        .bind(day_number(c.day))
        .bind(c.reason.clone())
        .bind(c.order_id)
        .bind(c.created_by)
        .bind(now_ms());
    let detail = serde_json::json!({
        "from_level": c.from_level, "to_level": w.rank.level, "from": c.from_name, "to": w.rank.tier_name,
        "cause": c.cause, "order_id": c.order_id,
    });
    crate::events::push(
        batch,
        joren_core::event::EventKind::RankChanged,
        w.customer_id,
        "customer",
        w.customer_id,
        &detail,
    );
}

/// After a merge: the survivor holds the higher of the two ranks; the merged record none.
pub(crate) async fn merge_ranks(tx: &mut Tx, survivor_id: i64, merged_id: i64) -> Result<()> {
    let survivor = load_rank(tx, survivor_id).await?;
    let merged = load_rank(tx, merged_id).await?;
    sqlx::query("DELETE FROM customer_ranks WHERE customer_id = $1").bind(merged_id).execute(&mut **tx).await?;
    if let Some(m) = merged
        && survivor.as_ref().is_none_or(|s| m.level > s.level)
    {
        sqlx::query("DELETE FROM customer_ranks WHERE customer_id = $1").bind(survivor_id).execute(&mut **tx).await?;
        let rank = CustomerRank { customer_id: survivor_id, ..m };
        write_rank(tx, &RankWrite { customer_id: survivor_id, expected_level: None, rank, change: None }).await?;
    }
    Ok(())
}

impl Store {
    /// One customer's current rank row, if any.
    pub async fn customer_rank(&self, customer_id: i64) -> Result<Option<CustomerRank>> {
        let mut conn = self.pool.acquire().await?;
        load_rank(&mut conn, customer_id).await
    }

    /// Every rank row (the daily run's starting point).
    pub async fn customer_ranks(&self) -> Result<Vec<CustomerRank>> {
        let rows =
            sqlx::query(AssertSqlSafe(format!("SELECT {RANK_COLUMNS} FROM customer_ranks ORDER BY customer_id")))
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(rank_from_row).collect()
    }

    /// The measured value per customer over `span` (customers with nothing are left out).
    pub async fn rank_values(
        &self,
        measure: RankMeasure,
        span: &RankSpan,
        customer: Option<i64>,
    ) -> Result<Vec<(i64, i64)>> {
        let mut conn = self.pool.acquire().await?;
        let mut batch = Batch::new(self.backend());
        batch.push(&values_sql(measure, customer.is_some()));
        bind_values(&mut batch, measure, span, customer);
        let rows = batch.run(&mut conn).await?;
        rows.iter().map(|r| Ok((r.try_get("customer_id")?, r.try_get::<Option<i64>, _>("v")?.unwrap_or(0)))).collect()
    }

    /// Applies rank writes in batches; a write whose customer no longer holds the expected
    /// level is skipped. Answers how many were written.
    pub async fn write_ranks(&self, writes: &[RankWrite]) -> Result<usize> {
        let mut written = 0;
        for batch in writes.chunks(WRITE_BATCH) {
            let mut tx = self.begin_bulk_write().await?;
            for w in batch {
                written += usize::from(write_rank(&mut tx, w).await?);
            }
            tx.commit().await?;
        }
        Ok(written)
    }

    /// A customer's rank history, newest first.
    pub async fn rank_history(&self, customer_id: i64, limit: i64) -> Result<Vec<RankChange>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {CHANGE_COLUMNS} FROM rank_changes WHERE customer_id = $1 ORDER BY id DESC LIMIT $2"
        )))
        .bind(customer_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(change_from_row).collect()
    }

    /// Rank changes after id `after` in order (the automation's event feed).
    pub async fn rank_changes_after(&self, after: i64, limit: i64) -> Result<Vec<RankChange>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {CHANGE_COLUMNS} FROM rank_changes WHERE id > $1 ORDER BY id LIMIT $2"
        )))
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(change_from_row).collect()
    }

    /// Customers per level; live customers without a rank row count at level 0.
    pub async fn rank_distribution(&self) -> Result<Vec<RankCount>> {
        let rows = sqlx::query(
            "SELECT COALESCE(r.level, 0) AS level, COUNT(*) AS n FROM customers c \
             LEFT JOIN customer_ranks r ON r.customer_id = c.id WHERE c.merged_into IS NULL \
             GROUP BY COALESCE(r.level, 0) ORDER BY 1",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(RankCount { level: r.try_get("level")?, customers: r.try_get("n")? })).collect()
    }

    /// Ups, downs and grace reviews per day from local day `from` on.
    pub async fn rank_movement(&self, from: NaiveDate) -> Result<Vec<RankMovement>> {
        let rows = sqlx::query(
            "SELECT day, CAST(SUM(CASE WHEN to_level > from_level THEN 1 ELSE 0 END) AS BIGINT) AS up, \
             CAST(SUM(CASE WHEN to_level < from_level THEN 1 ELSE 0 END) AS BIGINT) AS down, \
             CAST(SUM(CASE WHEN cause = 'grace' THEN 1 ELSE 0 END) AS BIGINT) AS grace \
             FROM rank_changes WHERE day >= $1 GROUP BY day ORDER BY day",
        )
        .bind(day_number(from))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(RankMovement {
                    day: day_from_number(r.try_get("day")?),
                    up: r.try_get("up")?,
                    down: r.try_get("down")?,
                    grace: r.try_get("grace")?,
                })
            })
            .collect()
    }
}

/// The rank write an order makes when `value`, its customer's measure over the window `span`
/// (ending today) with the order, qualifies for a higher tier than `held`.
pub(crate) fn upgrade_for_order(
    customer_id: i64,
    held: Option<&CustomerRank>,
    rules: &RankRules,
    span: &RankSpan,
    order_id: i64,
    value: i64,
) -> Option<RankWrite> {
    let level = held.map_or(0, |h| rules.clamp_level(h.level));
    let to = rules.upgrade(level, value)?;
    let mut w = upgrade_write(rules, customer_id, held, to, value, span.to);
    if let Some(c) = &mut w.change {
        c.cause = "order";
        c.order_id = Some(order_id);
    }
    Some(w)
}

/// The write raising `customer_id` from `held` to level `to` on `today` (cause `evaluation`;
/// the period's review counts as done: the next review judges the next period).
pub fn upgrade_write(
    rules: &RankRules,
    customer_id: i64,
    held: Option<&CustomerRank>,
    to: usize,
    value: i64,
    today: NaiveDate,
) -> RankWrite {
    let from_level = held.map_or(0, |h| h.level);
    let from_name = held.map_or_else(|| rules.tier_name(0).to_string(), |h| h.tier_name.clone());
    RankWrite {
        customer_id,
        expected_level: held.map(|h| h.level),
        rank: CustomerRank {
            customer_id,
            level: to as i64,
            tier_name: rules.tier_name(to).to_string(),
            since: today,
            reviewed: rules.review_on_or_before(today),
            grace_used: 0,
        },
        change: Some(RankChangeNote {
            from_level,
            from_name,
            cause: "evaluation",
            value,
            day: today,
            reason: String::new(),
            order_id: None,
            created_by: None,
        }),
    }
}
