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
        other => {
            return Err(StoreError::Conflict(joren_core::Problem::other(format!("unknown point entry kind {other}"))));
        }
    })
}

fn points_error(e: PointsError) -> StoreError {
    match e {
        PointsError::Insufficient { available, wanted } => {
            StoreError::Invalid(FieldError::new("points", joren_core::Code::NotEnoughPoints).arg(available).arg(wanted))
        }
        PointsError::NotPositive(n) => {
            StoreError::Invalid(FieldError::new("points", joren_core::Code::NotPositive).arg(n))
        }
        PointsError::AlreadyRestored(id) => {
            StoreError::Conflict(joren_core::Problem::new(joren_core::Code::AlreadyCancelled).arg(id))
        }
        other => StoreError::Conflict(joren_core::Problem::other(other)),
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
    /// The audit record written with it (on the customer; the redemption's id added).
    pub audit: Option<&'a crate::audit::AuditNote<'a>>,
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
        return Err(StoreError::Conflict(joren_core::Problem::other("a new point lot has no source or no id")));
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
            index.get(&id).copied().ok_or_else(|| {
                StoreError::Conflict(joren_core::Problem::other(format!("point entry on unknown lot {id}")))
            })
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
            Some(Some(survivor)) => {
                Err(StoreError::Invalid(FieldError::new("customer_id", joren_core::Code::CustomerMerged).arg(survivor)))
            }
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

    /// Inside a write transaction that locked the live customer: takes back lot `lot_id`
    /// whole (see [`Ledger::reverse_lot`]); a repeat takes nothing. Returns (taken from the
    /// lot, deducted from other lots, added to debt).
    pub(crate) async fn reverse_lot_in(
        &self,
        tx: &mut Tx,
        customer_id: i64,
        lot_id: i64,
        on: NaiveDate,
        policy: joren_core::points::ShortfallPolicy,
    ) -> Result<(i64, i64, i64)> {
        let mut l = self.load_ledger(tx, customer_id, true).await?;
        let Some(lot) = l.lot_ids.iter().position(|id| *id == lot_id) else {
            return Err(StoreError::NotFound("point_lot"));
        };
        let moved = l.ledger.reverse_lot(lot, on, policy);
        self.save_ledger(tx, &mut l).await?;
        Ok(moved)
    }
}

/// An aggregate read as a number (SQL casts every SUM to BIGINT; an empty SUM is NULL).
fn to_i64(r: &AnyRow, col: &str) -> Result<i64> {
    Ok(r.try_get::<Option<i64>, _>(col)?.unwrap_or(0))
}

const REDEMPTION_COLUMNS: &str = "id, customer_id, value_kind, points, purpose, status, order_id, reason, hold_until, \
    created_by, created_at, settled_at";

mod accounts;
mod grants;
mod redemptions;

use redemptions::{redemption_from_row, settle_redemption};
