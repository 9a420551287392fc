//! The points ledger in the database. Every operation on a customer's points runs in one write
//! transaction that locks the customer (SQLite's write lock; `FOR UPDATE` on the customer row
//! and the customer's lots on PostgreSQL), loads the customer's lots, entries and debts into a
//! [`joren_core::points::Ledger`], applies the rule there and appends what it added: the
//! database holds exactly what the in-memory ledger would, and concurrent redemptions on one
//! customer queue instead of overspending. Only the nightly expiry works in bulk SQL (it is the
//! same rule: what is left in a lot after its last day).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use joren_core::FieldError;
use joren_core::order::OrderDraft;
use joren_core::points::{Debt, Entry, EntryKind, Ledger, Lot, PointsError, ValueKind};
use joren_core::programme::{EarnBreakdown, EarnLine, Programme};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::batch::Batch;
use crate::bulk::Val;
use crate::db::Tx;
use crate::{Backend, Result, Store, StoreError, from_ms, now_ms, to_ms};

/// A local calendar day as stored: days since 1970-01-01.
pub fn day_number(d: NaiveDate) -> i64 {
    (d - NaiveDate::default()).num_days()
}

/// Inverse of [`day_number`].
pub fn day_from_number(n: i64) -> NaiveDate {
    NaiveDate::default() + chrono::Duration::days(n)
}

fn kind_str(k: ValueKind) -> &'static str {
    match k {
        ValueKind::Free => "free",
        ValueKind::Paid => "paid",
    }
}

fn parse_kind(s: &str) -> ValueKind {
    if s == "paid" { ValueKind::Paid } else { ValueKind::Free }
}

fn entry_kind_str(k: EntryKind) -> &'static str {
    match k {
        EntryKind::Earn => "earn",
        EntryKind::Spend => "spend",
        EntryKind::Restore => "restore",
        EntryKind::Reverse => "reverse",
        EntryKind::Deduct => "deduct",
        EntryKind::Repay => "repay",
        EntryKind::Expire => "expire",
    }
}

fn parse_entry_kind(s: &str) -> Result<EntryKind> {
    Ok(match s {
        "earn" => EntryKind::Earn,
        "spend" => EntryKind::Spend,
        "restore" => EntryKind::Restore,
        "reverse" => EntryKind::Reverse,
        "deduct" => EntryKind::Deduct,
        "repay" => EntryKind::Repay,
        "expire" => EntryKind::Expire,
        other => return Err(StoreError::Conflict(format!("unknown point entry kind {other}"))),
    })
}

fn points_error(e: PointsError) -> StoreError {
    match e {
        PointsError::Insufficient { .. } | PointsError::NotPositive(_) => {
            StoreError::Invalid(FieldError::new("points", e.to_string()))
        }
        other => StoreError::Conflict(other.to_string()),
    }
}

/// Where a new lot came from, stored with it.
#[derive(Debug, Clone)]
pub struct LotSource {
    /// `order`, `bonus`, `manual` or `purchase`.
    pub source: &'static str,
    pub reason: String,
    pub created_by: Option<i64>,
    /// For an order's lot: how its points were made up.
    pub breakdown: EarnBreakdown,
}

/// A lot as shown to staff.
#[derive(Debug, Clone, Serialize)]
pub struct PointLot {
    pub id: i64,
    pub kind: ValueKind,
    pub source: String,
    pub order_id: Option<i64>,
    pub granted: i64,
    pub remaining: i64,
    pub earned_on: NaiveDate,
    pub available_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    pub reason: String,
}

/// One ledger entry as shown to staff.
#[derive(Debug, Clone, Serialize)]
pub struct PointEntry {
    /// The entry's id; a lot's first expiry, recorded on the lot, has the lot's id negated.
    pub id: i64,
    pub lot_id: i64,
    pub kind: EntryKind,
    pub value_kind: ValueKind,
    pub points: i64,
    pub on: NaiveDate,
    pub redemption_id: Option<i64>,
    pub at: DateTime<Utc>,
}

/// Balances of one value kind on a day.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct PointBalances {
    /// Spendable now.
    pub available: i64,
    /// In the return window.
    pub pending: i64,
    /// Everything in lots (available + pending).
    pub balance: i64,
    /// Owed after refunds of spent points.
    pub debt: i64,
    /// Of `balance`, what expires within 30 days.
    pub expiring_30_days: i64,
    /// The soonest expiry of a live lot and the points that expire then.
    pub next_expiry: Option<(NaiveDate, i64)>,
}

/// A customer's points: balances per kind, lots and the newest entries.
#[derive(Debug, Clone, Serialize)]
pub struct PointsAccount {
    pub customer_id: i64,
    pub on: NaiveDate,
    pub free: PointBalances,
    pub paid: PointBalances,
    /// Lots with points left (or pending), soonest expiry first.
    pub lots: Vec<PointLot>,
    /// Newest first, at most 200.
    pub history: Vec<PointEntry>,
    pub redemptions: Vec<Redemption>,
}

/// A redemption: points held at checkout (`reserved`) then `confirmed` or `cancelled`; a
/// manual deduction is an `adjustment`, confirmed at once.
#[derive(Debug, Clone, Serialize)]
pub struct Redemption {
    pub id: i64,
    pub customer_id: i64,
    pub kind: ValueKind,
    pub points: i64,
    pub purpose: String,
    pub status: String,
    pub order_id: Option<i64>,
    pub reason: String,
    pub hold_until: Option<DateTime<Utc>>,
    /// The user who made it (None: the system or the CLI).
    #[serde(skip)]
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub settled_at: Option<DateTime<Utc>>,
    /// True when this answer is a replay: of an earlier request with the same key, or a
    /// confirmation or cancellation of what was already confirmed or cancelled.
    #[serde(skip)]
    pub replayed: bool,
}

/// A redemption request.
#[derive(Debug, Clone)]
pub struct RedemptionRequest<'a> {
    pub customer_id: i64,
    pub kind: ValueKind,
    pub points: i64,
    /// `checkout` (reserve, then confirm or cancel) or `adjustment` (confirmed at once).
    pub purpose: &'static str,
    pub order_id: Option<i64>,
    pub reason: &'a str,
    pub idempotency_key: Option<&'a str>,
    pub request_hash: &'a str,
    pub hold_until: Option<DateTime<Utc>>,
    pub on: NaiveDate,
    pub actor: Option<i64>,
}

/// What an expiry run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ExpiryRun {
    pub lots: i64,
    pub points: i64,
}

/// What an order earned or a refund took back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct OrderPoints {
    /// Taken from the order's own lots / from other lots / recorded as debt.
    pub reversed: i64,
    pub deducted: i64,
    pub owed: i64,
    /// Points of redemptions on the order given back (cancellation or full refund).
    pub restored: i64,
}

/// [`EarnBreakdown`] with its total, for JSON.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct EarnBreakdownView {
    pub base: i64,
    pub campaign: i64,
    pub bonus: i64,
    pub total: i64,
}

impl From<EarnBreakdown> for EarnBreakdownView {
    fn from(b: EarnBreakdown) -> Self {
        Self { base: b.base, campaign: b.campaign, bonus: b.bonus, total: b.total() }
    }
}

/// One month of the points report, per value kind.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PointsMonth {
    /// `YYYY-MM`.
    pub month: String,
    pub kind: Option<ValueKind>,
    pub issued: i64,
    pub redeemed: i64,
    pub expired: i64,
    /// Taken back by refunds (reversals and deductions), less repaid debt.
    pub reversed: i64,
    /// Left in lots at the month's end (the liability).
    pub outstanding: i64,
}

/// A lot whose points do not add up, found by [`Store::verify_points`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LotMismatch {
    pub lot_id: i64,
    pub remaining: i64,
    pub sum_of_entries: i64,
}

/// The points lot an order earned: its days and the points of its earn entry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EarnedLot {
    pub earned_on: NaiveDate,
    pub available_on: NaiveDate,
    pub points: i64,
}

/// A customer's ledger as loaded, with what is needed to write back what changed.
struct LoadedLedger {
    customer_id: i64,
    ledger: Ledger,
    lot_ids: Vec<i64>,
    before: Vec<Lot>,
    entries: usize,
    debts: usize,
    new_lots: Vec<LotSource>,
}

impl LoadedLedger {
    /// A ledger to append to without reading the customer's lots (its new lots and entries
    /// are written; nothing else is).
    fn empty(customer_id: i64) -> Self {
        Self {
            customer_id,
            ledger: Ledger::default(),
            lot_ids: Vec::new(),
            before: Vec::new(),
            entries: 0,
            debts: 0,
            new_lots: Vec::new(),
        }
    }
}

/// Adds to `batch` the writes of what the ledger gained since it was loaded (see
/// [`Store::save_ledger`]); its new lots take `new_lot_ids`, reserved by the caller.
fn push_ledger(batch: &mut Batch, l: &mut LoadedLedger, new_lot_ids: Vec<i64>) -> Result<()> {
    let now = now_ms();
    for (i, before) in l.before.iter().enumerate() {
        let lot = &l.ledger.lots[i];
        if lot.remaining != before.remaining || lot.expires_on != before.expires_on {
            batch
                .push("UPDATE point_lots SET remaining = remaining + ?, expires_day = ? WHERE id = ?")
                .bind(lot.remaining - before.remaining)
                .bind(lot.expires_on.map(day_number))
                .bind(l.lot_ids[i]);
        }
    }
    let first_new = l.before.len();
    if l.ledger.lots.len() - first_new != l.new_lots.len() || new_lot_ids.len() != l.new_lots.len() {
        return Err(StoreError::Conflict("a new point lot has no source or no id".into()));
    }
    for ((i, source), id) in (first_new..l.ledger.lots.len()).zip(&l.new_lots).zip(new_lot_ids) {
        let lot = &l.ledger.lots[i];
        let earned_on = l
            .ledger
            .entries
            .iter()
            .find(|e| e.lot == i && e.kind == EntryKind::Earn)
            .map_or(lot.available_on, |e| e.on);
        // Inserted with what its new entries (earn, perhaps repay) leave in it.
        batch
            .push(
                "INSERT INTO point_lots (id, customer_id, value_kind, source, order_id, granted, remaining, \
                 earned_day, available_day, expires_day, reason, earn_base, earn_campaign, earn_bonus, created_by, \
                 created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            )
            .bind(id)
            .bind(l.customer_id)
            .bind(kind_str(lot.kind))
            .bind(source.source)
            .bind(lot.order_id)
            .bind(lot.granted)
            .bind(lot.remaining)
            .bind(day_number(earned_on))
            .bind(day_number(lot.available_on))
            .bind(lot.expires_on.map(day_number))
            .bind(source.reason.clone())
            .bind(source.breakdown.base)
            .bind(source.breakdown.campaign)
            .bind(source.breakdown.bonus)
            .bind(source.created_by)
            .bind(now);
        l.lot_ids.push(id);
    }
    // New entries and debts in multi-row statements.
    let (customer, ids, now) = (l.customer_id, &l.lot_ids, now);
    batch.push_rows(
        "INSERT INTO point_entries (customer_id, lot_id, kind, points, day, redemption_id, settles_lot_id, created_at)",
        8,
        &l.ledger.entries[l.entries..],
        |b, e| {
            b.bind(customer)
                .bind(ids[e.lot])
                .bind(entry_kind_str(e.kind))
                .bind(e.points)
                .bind(day_number(e.on))
                .bind(e.redemption)
                .bind(e.settles.map(|s| ids[s]))
                .bind(now);
        },
    );
    batch.push_rows(
        "INSERT INTO point_debts (customer_id, lot_id, value_kind, points, day, created_at)",
        6,
        &l.ledger.debts[l.debts..],
        |b, d| {
            b.bind(customer).bind(ids[d.lot]).bind(kind_str(d.kind)).bind(d.points).bind(day_number(d.on)).bind(now);
        },
    );
    Ok(())
}

impl Store {
    /// Loads a customer's ledger; with `lock`, the lots are locked on PostgreSQL until the
    /// transaction ends (the customer row is locked by the caller).
    async fn load_ledger(&self, tx: &mut Tx, customer_id: i64, lock: bool) -> Result<LoadedLedger> {
        let lock = if lock { self.for_update() } else { "" };
        let lot_rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT id, value_kind, order_id, granted, remaining, available_day, expires_day FROM point_lots \
             WHERE customer_id = $1 ORDER BY id{lock}"
        )))
        .bind(customer_id)
        .fetch_all(&mut **tx)
        .await?;
        let mut ledger = Ledger::default();
        let mut lot_ids = Vec::with_capacity(lot_rows.len());
        let mut index = HashMap::with_capacity(lot_rows.len());
        for r in &lot_rows {
            let id: i64 = r.try_get("id")?;
            index.insert(id, lot_ids.len());
            ledger.lots.push(Lot {
                id: lot_ids.len(),
                kind: parse_kind(&r.try_get::<String, _>("value_kind")?),
                order_id: r.try_get("order_id")?,
                granted: r.try_get("granted")?,
                available_on: day_from_number(r.try_get("available_day")?),
                expires_on: r.try_get::<Option<i64>, _>("expires_day")?.map(day_from_number),
                remaining: r.try_get("remaining")?,
            });
            lot_ids.push(id);
        }
        let lot_index = |id: i64| {
            index.get(&id).copied().ok_or_else(|| StoreError::Conflict(format!("point entry on unknown lot {id}")))
        };
        for r in sqlx::query(
            "SELECT lot_id, kind, points, day, redemption_id, settles_lot_id FROM point_ledger \
             WHERE customer_id = $1 ORDER BY id",
        )
        .bind(customer_id)
        .fetch_all(&mut **tx)
        .await?
        {
            ledger.entries.push(Entry {
                lot: lot_index(r.try_get("lot_id")?)?,
                kind: parse_entry_kind(&r.try_get::<String, _>("kind")?)?,
                points: r.try_get("points")?,
                on: day_from_number(r.try_get("day")?),
                redemption: r.try_get("redemption_id")?,
                settles: r.try_get::<Option<i64>, _>("settles_lot_id")?.map(lot_index).transpose()?,
            });
        }
        for r in
            sqlx::query("SELECT lot_id, value_kind, points, day FROM point_debts WHERE customer_id = $1 ORDER BY id")
                .bind(customer_id)
                .fetch_all(&mut **tx)
                .await?
        {
            ledger.debts.push(Debt {
                lot: lot_index(r.try_get("lot_id")?)?,
                kind: parse_kind(&r.try_get::<String, _>("value_kind")?),
                points: r.try_get("points")?,
                on: day_from_number(r.try_get("day")?),
            });
        }
        Ok(LoadedLedger {
            customer_id,
            before: ledger.lots.clone(),
            entries: ledger.entries.len(),
            debts: ledger.debts.len(),
            ledger,
            lot_ids,
            new_lots: Vec::new(),
        })
    }

    /// Writes what the ledger gained since it was loaded: new lots (with the sources pushed to
    /// `new_lots` in the same order), changed lots (by the difference, so a concurrent change
    /// the lock missed fails the `remaining >= 0` check instead of being overwritten), new
    /// entries and new debts.
    async fn save_ledger(&self, tx: &mut Tx, l: &mut LoadedLedger) -> Result<()> {
        let new_lots = l.ledger.lots.len() - l.before.len();
        let ids = self.reserve_ids(tx, "point_lots", new_lots).await?;
        let mut batch = Batch::new(self.backend());
        push_ledger(&mut batch, l, ids)?;
        if !batch.is_empty() {
            batch.run(tx).await?;
        }
        Ok(())
    }

    /// Locks a live customer for a write on their behalf — points, 回数券, memberships (the row
    /// on PostgreSQL; SQLite's write transaction already holds the database). A missing customer
    /// is not found; a merged one is an error naming the survivor.
    pub(crate) async fn lock_live_customer(&self, tx: &mut Tx, customer_id: i64) -> Result<()> {
        let merged: Option<Option<i64>> = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT merged_into FROM customers WHERE id = $1{}",
            self.for_update()
        )))
        .bind(customer_id)
        .fetch_optional(&mut **tx)
        .await?;
        match merged {
            None => Err(StoreError::NotFound("customer")),
            Some(Some(survivor)) => Err(StoreError::Invalid(FieldError::new(
                "customer_id",
                format!("この顧客は {survivor} に統合されました"),
            ))),
            Some(None) => Ok(()),
        }
    }

    /// Adds to `batch` the points lot (id `lot_id`, reserved by the caller) and entry of order
    /// `order_id`, which the batch writes first. The customer's ledger is read only when the
    /// new lot repays a debt or extends the other lots' expiry.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn earn_for_order(
        &self,
        tx: &mut Tx,
        batch: &mut Batch,
        lot_id: i64,
        order_id: i64,
        draft: &OrderDraft,
        programme: &Programme,
        on: NaiveDate,
        how: crate::orders::OrderEarning<'_>,
    ) -> Result<(EarnBreakdown, Option<EarnedLot>)> {
        let lines: Vec<EarnLine<'_>> =
            draft.items.iter().map(|i| EarnLine { category: &i.category, amount: i.amount }).collect();
        let earned = programme.points_for_order(draft.total, draft.tax, &lines, on, how.buyer);
        if earned.total() <= 0 {
            return Ok((earned, None));
        }
        let mut l = if how.owes_points || programme.expiry.extends_on_activity() {
            self.load_ledger(tx, draft.customer_id, true).await?
        } else {
            LoadedLedger::empty(draft.customer_id)
        };
        l.ledger
            .earn(ValueKind::Free, earned.total(), Some(order_id), on, programme.pending_days, programme.expiry)
            .map_err(points_error)?;
        let reason = if earned.campaign > 0 || earned.bonus > 0 {
            format!("基本 {} + キャンペーン {} + 初回 {}", earned.base, earned.campaign, earned.bonus)
        } else {
            String::new()
        };
        l.new_lots.push(LotSource { source: "order", reason, created_by: None, breakdown: earned });
        let lot = l.ledger.lots.len() - 1;
        let earned_lot = EarnedLot {
            earned_on: on,
            available_on: l.ledger.lots[lot].available_on,
            points: l
                .ledger
                .entries
                .iter()
                .filter(|e| e.lot == lot && e.kind == EntryKind::Earn)
                .map(|e| e.points)
                .sum(),
        };
        push_ledger(batch, &mut l, vec![lot_id])?;
        Ok((earned, Some(earned_lot)))
    }

    /// The points order `order_id` earned when it was created (answers a replayed request).
    pub(crate) async fn order_earning(&self, tx: &mut Tx, order_id: i64) -> Result<EarnBreakdown> {
        let row = sqlx::query(
            "SELECT earn_base, earn_campaign, earn_bonus FROM point_lots WHERE order_id = $1 AND source = 'order'",
        )
        .bind(order_id)
        .fetch_optional(&mut **tx)
        .await?;
        Ok(match row {
            Some(r) => EarnBreakdown {
                base: r.try_get("earn_base")?,
                campaign: r.try_get("earn_campaign")?,
                bonus: r.try_get("earn_bonus")?,
            },
            None => EarnBreakdown::default(),
        })
    }

    /// After a refund or cancellation inside its transaction: gives back the points of
    /// redemptions on the order when it is wholly refunded or cancelled, then takes back what
    /// the order earned in proportion to `refunded / total` (whole for a cancellation).
    pub(crate) async fn reverse_for_order(
        &self,
        tx: &mut Tx,
        order_id: i64,
        customer_id: i64,
        refunded: i64,
        total: i64,
        ctx: crate::PointsContext<'_>,
    ) -> Result<OrderPoints> {
        let (policy, on) = (ctx.programme.shortfall, ctx.on);
        let mut l = self.load_ledger(tx, customer_id, true).await?;
        let mut out = OrderPoints::default();
        if refunded >= total {
            let held: Vec<i64> = sqlx::query_scalar(
                "SELECT id FROM point_redemptions WHERE order_id = $1 AND status <> 'cancelled' ORDER BY id",
            )
            .bind(order_id)
            .fetch_all(&mut **tx)
            .await?;
            for id in held {
                out.restored += l.ledger.restore(id, on).map_err(points_error)?.iter().map(|a| a.points).sum::<i64>();
                settle_redemption(tx, id, "cancelled").await?;
            }
        }
        (out.reversed, out.deducted, out.owed) = l.ledger.reverse_order(order_id, refunded, total, on, policy);
        self.save_ledger(tx, &mut l).await?;
        Ok(out)
    }

    /// Grants points by hand (or sells paid value): a new lot with the reason, expiring by
    /// `expires_on` (`None`: never). Debt of the kind is paid off first. Returns the lot id.
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
        if let Some((key, hash)) = idempotency {
            crate::idempotency::save(&mut tx, "points.grant", key, hash, 201, &lot_id.to_string()).await?;
        }
        tx.commit().await?;
        Ok((lot_id, false))
    }

    /// Inside a write transaction that locked the live customer: a new lot of `points`
    /// (their debt of the kind repaid first). Returns the lot's id.
    #[allow(clippy::too_many_arguments)]
    async fn grant_in(
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
        l.new_lots.push(source);
        self.save_ledger(tx, &mut l).await?;
        l.lot_ids.last().copied().ok_or_else(|| StoreError::Conflict("a grant made no lot".into()))
    }

    /// Grants a bonus of `kind` once per `period` (the birthday bonus: once a year): answers
    /// the new lot's id, or `None` when the customer already has this period's bonus. A
    /// merged customer gets nothing (an error naming the survivor).
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
            self.grant_points(*c, ValueKind::Free, points, source.clone(), on, expiry, None).await?;
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
            tx.commit().await?;
        }
        Ok(customers.len())
    }

    /// Spends points as one redemption, soonest-expiring lots first, all or nothing. With an
    /// idempotency key a retry returns the first redemption (`replayed`), and the same key with
    /// a different request is a conflict; keys are kept with the redemption for good.
    pub async fn redeem_points(&self, req: &RedemptionRequest<'_>) -> Result<Redemption> {
        match self.try_redeem_points(req).await {
            Err(e) if e.is_unique_violation() => self.try_redeem_points(req).await,
            other => other,
        }
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
                return Err(StoreError::Conflict(format!(
                    "Idempotency-Key {key} was already used with a different request body"
                )));
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
        tx.commit().await?;
        self.get_redemption(id).await
    }

    /// Confirms a reserved redemption (the checkout went through), optionally naming the
    /// order it paid for. Confirming again answers the same; a cancelled one is a conflict.
    pub async fn confirm_redemption(&self, id: i64, order_id: Option<i64>) -> Result<Redemption> {
        let mut tx = self.begin_write().await?;
        let r = self.locked_redemption(&mut tx, id).await?;
        match r.status.as_str() {
            "confirmed" => {
                tx.commit().await?;
                return Ok(Redemption { replayed: true, ..r });
            }
            "cancelled" => return Err(StoreError::Conflict(format!("ポイント利用 {id} は取り消し済みです"))),
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
        tx.commit().await?;
        self.get_redemption(id).await
    }

    /// Cancels a redemption: its points go back to the lots they came from, with their own
    /// expiry. Cancelling again answers the same (marked `replayed`); a confirmed checkout
    /// redemption cannot be cancelled (a conflict).
    pub async fn cancel_redemption(&self, id: i64, on: NaiveDate) -> Result<Redemption> {
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
            return Err(StoreError::Conflict(format!(
                "ポイント利用 {id} は確定済みです (注文の返金・キャンセルで戻ります)"
            )));
        }
        let mut l = self.load_ledger(&mut tx, customer_id, true).await?;
        l.ledger.restore(id, on).map_err(points_error)?;
        self.save_ledger(&mut tx, &mut l).await?;
        settle_redemption(&mut tx, id, "cancelled").await?;
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

/// An aggregate read as a number (SQL casts every SUM to BIGINT; an empty SUM is NULL).
fn to_i64(r: &AnyRow, col: &str) -> Result<i64> {
    Ok(r.try_get::<Option<i64>, _>(col)?.unwrap_or(0))
}

const REDEMPTION_COLUMNS: &str = "id, customer_id, value_kind, points, purpose, status, order_id, reason, hold_until, \
    created_by, created_at, settled_at";

fn redemption_from_row(r: &AnyRow) -> Result<Redemption> {
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
        return Err(StoreError::Invalid(FieldError::new("order_id", "この顧客の注文ではありません")));
    }
    Ok(())
}

async fn settle_redemption(tx: &mut Tx, id: i64, status: &str) -> Result<()> {
    sqlx::query("UPDATE point_redemptions SET status = $1, settled_at = $2, hold_until = NULL WHERE id = $3")
        .bind(status)
        .bind(now_ms())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
