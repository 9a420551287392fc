//! Orders, line items and their refund/cancel entries. Creating an order is idempotent.

use chrono::{DateTime, NaiveDate, Utc};
use joren_core::event::EventKind;
use joren_core::fingerprint::Fingerprint;
use joren_core::order::{OrderDraft, OrderStatus};
use joren_core::programme::{Buyer, Programme};
use joren_core::{Code, Problem};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::audit::AuditActor;
use crate::batch::Batch;
use crate::bulk::Val;
use crate::db::Tx;
use crate::idempotency;
use crate::points::{EarnBreakdownView, OrderPoints};
use crate::ranks::{
    CustomerRank, RankSpan, bind_values, order_contribution, push_rank_write, upgrade_for_order, values_sql,
};
use crate::{Result, Store, StoreError, from_ms, now_ms, to_ms};
use joren_core::programme::EarnBreakdown;

mod adjust;

mod import;

/// A stored order with its items and adjustments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Order {
    pub id: i64,
    pub customer_id: i64,
    pub external_id: Option<String>,
    pub ordered_at: DateTime<Utc>,
    pub channel: String,
    pub currency: String,
    pub prices_include_tax: bool,
    pub subtotal: i64,
    pub shipping: i64,
    pub discount: i64,
    pub tax: i64,
    pub total: i64,
    pub refunded: i64,
    pub status: OrderStatus,
    pub note: String,
    pub items: Vec<OrderItem>,
    pub adjustments: Vec<OrderAdjustment>,
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderItem {
    pub line_no: i64,
    pub sku: String,
    pub name: String,
    pub category: String,
    pub quantity: i64,
    pub unit_price: i64,
    pub tax_rate: i64,
    pub amount: i64,
}

/// A refund or cancellation, recorded as its own entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderAdjustment {
    pub id: i64,
    pub kind: String,
    pub amount: i64,
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// Result of an idempotent create: the order id, whether this was a replay, and the points
/// it earned (on a replay: what the first request earned).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderCreated {
    pub id: i64,
    pub replayed: bool,
    pub points: EarnBreakdownView,
    /// The rank the order raised the customer to, if it did.
    pub rank_up: Option<CustomerRank>,
    /// The order as written (a new order only; a replay reads the stored one).
    pub order: Option<Order>,
}

/// What an order's transaction reads before it writes (see [`Store::order_context`]).
struct OrderContext {
    /// The request hash and response stored with the idempotency key, if it was used.
    key_record: Option<(String, String)>,
    /// The customer: missing (`None`), merged into a survivor (`Err`), or live.
    customer: Option<std::result::Result<OrderCustomer, i64>>,
    order_id: i64,
    /// The id reserved for the order's points lot (when the programme earns).
    lot_id: Option<i64>,
    /// With ranks on: the window the rank is measured over and the customer's value in it
    /// before the order.
    window: Option<(RankSpan, i64)>,
}

impl OrderContext {
    /// The live customer the order is for, or the error naming why it cannot be.
    fn customer(&self) -> Result<&OrderCustomer> {
        match &self.customer {
            None => Err(StoreError::Invalid(joren_core::FieldError::new("customer_id", Code::NoSuchCustomer))),
            Some(Err(survivor)) => {
                Err(StoreError::Invalid(joren_core::FieldError::new("customer_id", Code::CustomerMerged).arg(survivor)))
            }
            Some(Ok(c)) => Ok(c),
        }
    }
}

/// What an order's transaction reads about its customer.
struct OrderCustomer {
    /// The RFM segment code in the newest metrics snapshot (read only for segment campaigns).
    segment: Option<String>,
    has_orders: bool,
    has_debts: bool,
    rank: Option<CustomerRank>,
}

/// How an order earns beyond the programme: who buys (rank, segment, first order or not) and
/// whether they owe points (their new points repay the debt first).
#[derive(Debug, Clone, Copy)]
pub(crate) struct OrderEarning<'a> {
    pub buyer: Buyer<'a>,
    pub owes_points: bool,
}

/// The points programme applied inside an order write, and the shop-local day it is applied
/// on (the order's day when it is created, today for a refund).
#[derive(Debug, Clone, Copy)]
pub struct PointsContext<'a> {
    pub programme: &'a Programme,
    pub on: NaiveDate,
    /// The shop's local day now and its offset from UTC (rank windows end today).
    pub today: NaiveDate,
    pub tz: joren_core::time::Tz,
}

/// A page of orders.
#[derive(Debug, Clone, Serialize)]
pub struct OrderPage {
    pub total: i64,
    pub items: Vec<Order>,
}

/// A refund or cancellation to record ([`Store::adjust_order`]).
#[derive(Debug, Clone, Copy)]
pub struct Adjustment<'a> {
    /// The whole order (else a refund of `amount`, or of the rest when `None`).
    pub cancel: bool,
    pub amount: Option<i64>,
    pub reason: &'a str,
    /// Who did it: the audit entry is written in the same transaction.
    pub by: Option<AuditActor<'a>>,
    pub points: Option<PointsContext<'a>>,
    /// Imported or generated history: no customer event (nothing should react to it now).
    pub history: bool,
}

impl<'a> Adjustment<'a> {
    /// Past history from an import or the demo: no audit entry, no points, no event.
    pub fn history(cancel: bool, amount: Option<i64>, reason: &'a str) -> Self {
        Self { cancel, amount, reason, by: None, points: None, history: true }
    }
}

/// A customer's orders that count (not cancelled), over all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OrderTotals {
    pub orders: i64,
    /// Net of refunds, yen.
    pub spent: i64,
    pub first_at: Option<DateTime<Utc>>,
    pub last_at: Option<DateTime<Utc>>,
}

const ORDER_COLUMNS: &str = "id, customer_id, external_id, ordered_at, channel, currency, \
    prices_include_tax, subtotal, shipping, discount, tax, total, refunded, status, note";

fn order_from_row(r: &AnyRow) -> Result<Order> {
    Ok(Order {
        id: r.try_get("id")?,
        customer_id: r.try_get("customer_id")?,
        external_id: r.try_get("external_id")?,
        ordered_at: from_ms(r.try_get("ordered_at")?),
        channel: r.try_get("channel")?,
        currency: r.try_get("currency")?,
        prices_include_tax: r.try_get::<i64, _>("prices_include_tax")? != 0,
        subtotal: r.try_get("subtotal")?,
        shipping: r.try_get("shipping")?,
        discount: r.try_get("discount")?,
        tax: r.try_get("tax")?,
        total: r.try_get("total")?,
        refunded: r.try_get("refunded")?,
        status: OrderStatus::parse(&r.try_get::<String, _>("status")?).unwrap_or(OrderStatus::Completed),
        note: r.try_get("note")?,
        items: Vec::new(),
        adjustments: Vec::new(),
    })
}

const IDEMPOTENCY_SCOPE: &str = "orders.create";

impl Store {
    /// Creates an order once. A retry with the same `idempotency_key` or the same
    /// `external_id` and the same request (its fingerprint `request`) returns the first order with
    /// `replayed = true`; the same key with a different request is a [`StoreError::Conflict`].
    /// Concurrent duplicates are settled by the unique constraints: the loser re-reads. With a
    /// points programme the order earns its points in the same transaction.
    pub async fn create_order(
        &self,
        draft: &OrderDraft,
        request: &Fingerprint,
        idempotency_key: Option<&str>,
        points: Option<PointsContext<'_>>,
        audit: Option<AuditActor<'_>>,
    ) -> Result<OrderCreated> {
        // The first attempt leaves a repeated external_id to its unique index (one statement
        // fewer per order); the retry after any unique-key loss looks it up and replays.
        crate::keyed_write(|retry| self.try_create_order(draft, request, idempotency_key, points, audit, retry)).await
    }

    async fn try_create_order(
        &self,
        draft: &OrderDraft,
        request: &Fingerprint,
        key: Option<&str>,
        points: Option<PointsContext<'_>>,
        audit: Option<AuditActor<'_>>,
        look_up_external_id: bool,
    ) -> Result<OrderCreated> {
        // The key's record keeps the fingerprint as text, the order its 16 bytes.
        let request_hash = request.to_hex();
        let request_hash = request_hash.as_str();
        let mut tx = self.begin_write().await?;
        let context = self.order_context(&mut tx, draft.customer_id, key, points).await?;
        if let Some((stored_hash, response)) = &context.key_record {
            if stored_hash != request_hash {
                return Err(StoreError::Conflict(Code::KeyReused.into()));
            }
            let id =
                response.parse().map_err(|_| StoreError::Conflict(Problem::other("corrupt idempotency record")))?;
            let points = self.order_earning(&mut tx, id).await?.into();
            tx.commit().await?;
            return Ok(OrderCreated { id, replayed: true, points, rank_up: None, order: None });
        }
        if look_up_external_id && let Some(ext) = &draft.external_id {
            let row = sqlx::query("SELECT id, request_hash FROM orders WHERE external_id = $1")
                .bind(ext)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(r) = row {
                let stored: Vec<u8> = r.try_get("request_hash")?;
                if stored != request.as_bytes() {
                    return Err(StoreError::Conflict(Problem::new(Code::ExternalOrderDiffers).arg(ext)));
                }
                let id: i64 = r.try_get("id")?;
                if let Some(key) = key {
                    idempotency::save(&mut tx, IDEMPOTENCY_SCOPE, key, request_hash, 201, &id.to_string()).await?;
                }
                let points = self.order_earning(&mut tx, id).await?.into();
                tx.commit().await?;
                return Ok(OrderCreated { id, replayed: true, points, rank_up: None, order: None });
            }
        }
        let customer = context.customer()?;
        let id = context.order_id;
        // Everything the order writes, and the savepoint's release, go in one batch (on
        // SQLite one trip to the connection).
        let mut batch = Batch::new(self.backend());
        push_order(&mut batch, id, draft, request);
        let placed =
            serde_json::json!({"total": draft.total, "channel": draft.channel, "ordered_at": draft.ordered_at});
        crate::events::push(&mut batch, EventKind::OrderPlaced, draft.customer_id, "order", id, &placed);
        let mut earned = EarnBreakdown::default();
        let mut rank_up = None;
        if let Some(p) = points {
            let ranks = &p.programme.ranks;
            let held = if ranks.enabled { customer.rank.as_ref() } else { None };
            let level = held.map_or(0, |h| ranks.clamp_level(h.level));
            let mut lot = None;
            if p.programme.enabled {
                let earning = OrderEarning {
                    buyer: Buyer {
                        rank_level: level,
                        rank_multiplier_percent: ranks.multiplier_percent(level),
                        segment: customer.segment.as_deref(),
                        first_order: !customer.has_orders,
                    },
                    owes_points: customer.has_debts,
                };
                let lot_id =
                    context.lot_id.ok_or_else(|| StoreError::Conflict(Problem::other("no points lot id reserved")))?;
                (earned, lot) =
                    self.earn_for_order(&mut tx, &mut batch, lot_id, id, draft, p.programme, p.on, earning).await?;
            }
            if let Some((span, before)) = &context.window {
                let value = before + order_contribution(ranks.measure, span, to_ms(draft.ordered_at), draft.total, lot);
                if let Some(w) = upgrade_for_order(draft.customer_id, held, ranks, span, id, value) {
                    push_rank_write(&mut batch, &w);
                    rank_up = Some(w.rank);
                }
            }
        }
        if let Some(key) = key {
            idempotency::push_save(&mut batch, IDEMPOTENCY_SCOPE, key, request_hash, 201, &id.to_string());
        }
        if let Some(who) = audit {
            let detail = serde_json::json!({"total": draft.total, "customer_id": draft.customer_id});
            crate::audit::push(&mut batch, who, "order.create", "order", &id.to_string(), &detail);
        }
        tx.commit_after(batch).await?;
        let order = order_from_draft(id, draft);
        Ok(OrderCreated { id, replayed: false, points: earned.into(), rank_up, order: Some(order) })
    }

    /// Everything an order's transaction reads before it writes, in one statement: the
    /// idempotency record of `key`, the customer (live or merged, whether they have ordered
    /// before, whether they owe points, their rank) and the ids the order and its points lot
    /// will take — above the current maximum on SQLite, whose write transaction holds the
    /// database; from the identity sequences on PostgreSQL. There the customer row is first
    /// locked by a statement of its own, so that the read after it sees what a concurrent
    /// order of the same customer committed while this one waited (a `FOR UPDATE` in the same
    /// statement would wait, then answer from its earlier snapshot: two first orders, say).
    async fn order_context(
        &self,
        tx: &mut Tx,
        customer_id: i64,
        key: Option<&str>,
        points: Option<PointsContext<'_>>,
    ) -> Result<OrderContext> {
        let earns = points.is_some_and(|p| p.programme.enabled);
        let (order_id, lot_id) = match self.backend() {
            crate::Backend::Postgres => {
                sqlx::query("SELECT id FROM customers WHERE id = $1 FOR UPDATE")
                    .bind(customer_id)
                    .fetch_optional(&mut **tx)
                    .await?;
                (
                    "nextval(pg_get_serial_sequence('orders', 'id'))",
                    if earns { "nextval(pg_get_serial_sequence('point_lots', 'id'))" } else { "NULL" },
                )
            }
            crate::Backend::Sqlite => (
                "(SELECT COALESCE(MAX(id), 0) + 1 FROM orders)",
                if earns { "(SELECT COALESCE(MAX(id), 0) + 1 FROM point_lots)" } else { "NULL" },
            ),
        };
        // With ranks on: the customer's value in the rank window before the order. It is summed
        // for a customer at the top tier too: skipping it there (`CASE WHEN r.level >= top`)
        // measured 3–4 % slower on the ingest benchmark than summing always.
        let window = points.and_then(|p| {
            let ranks = &p.programme.ranks;
            (ranks.enabled && ranks.tiers.len() > 1).then_some(())?;
            let span = RankSpan::new(ranks.current_window(p.today), p.tz, p.today);
            Some((ranks.measure, span))
        });
        // The customer's RFM segment, when a campaign is for one.
        let segment_sql = if points.is_some_and(|p| p.programme.campaigns.iter().any(|c| c.segment.is_some())) {
            "(SELECT m.segment FROM customer_metrics m WHERE m.customer_id = c.id AND m.snapshot_id = \
             (SELECT MAX(s.id) FROM metric_snapshots s WHERE s.complete = 1))"
        } else {
            "NULL"
        };
        let mut read = Batch::new(self.backend());
        let window_sql = match &window {
            Some((measure, _)) => format!("(SELECT v FROM ({}) w)", values_sql(*measure, true)),
            None => "NULL".into(),
        };
        read.push(&format!(
            "SELECT c.id AS customer, c.merged_into, \
             CAST(CASE WHEN EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id) THEN 1 ELSE 0 END AS BIGINT) AS has_orders, \
             CAST(CASE WHEN EXISTS (SELECT 1 FROM point_debts d WHERE d.customer_id = c.id) THEN 1 ELSE 0 END AS BIGINT) AS has_debts, \
             r.level, r.tier_name, r.since_day, r.reviewed_day, r.grace_used, \
             k.request_hash AS key_hash, k.response AS key_response, \
             CAST({order_id} AS BIGINT) AS order_id, CAST({lot_id} AS BIGINT) AS lot_id, \
             CAST({window_sql} AS BIGINT) AS window_value, {segment_sql} AS segment \
             FROM (SELECT 1 AS one) base \
             LEFT JOIN customers c ON c.id = ? \
             LEFT JOIN customer_ranks r ON r.customer_id = c.id \
             LEFT JOIN idempotency_keys k ON k.scope = ? AND k.key = ?"
        ));
        if let Some((measure, span)) = &window {
            bind_values(&mut read, *measure, span, Some(customer_id));
        }
        read.bind(customer_id).bind(IDEMPOTENCY_SCOPE).bind(key);
        let row = read.run(tx).await?.pop().ok_or(StoreError::NotFound("order context"))?;
        let key_record = match row.try_get::<Option<String>, _>("key_hash")? {
            Some(hash) => Some((hash, row.try_get("key_response")?)),
            None => None,
        };
        let customer = match row.try_get::<Option<i64>, _>("customer")? {
            None => None,
            Some(_) => Some(match row.try_get::<Option<i64>, _>("merged_into")? {
                Some(survivor) => Err(survivor),
                None => Ok(OrderCustomer {
                    segment: row.try_get("segment")?,
                    has_orders: row.try_get::<i64, _>("has_orders")? != 0,
                    has_debts: row.try_get::<i64, _>("has_debts")? != 0,
                    rank: match row.try_get::<Option<i64>, _>("level")? {
                        None => None,
                        Some(level) => Some(CustomerRank {
                            customer_id,
                            level,
                            tier_name: row.try_get("tier_name")?,
                            since: crate::points::day_from_number(row.try_get("since_day")?),
                            reviewed: crate::points::day_from_number(row.try_get("reviewed_day")?),
                            grace_used: row.try_get("grace_used")?,
                        }),
                    },
                }),
            }),
        };
        let before = row.try_get::<Option<i64>, _>("window_value")?.unwrap_or(0);
        Ok(OrderContext {
            key_record,
            customer,
            order_id: row.try_get("order_id")?,
            lot_id: row.try_get("lot_id")?,
            window: window.map(|(_, span)| (span, before)),
        })
    }

    /// Loads one order with items and adjustments.
    /// The name of the first line of a customer's newest live order.
    pub async fn last_item_bought(&self, customer_id: i64) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT i.name FROM orders o JOIN order_items i ON i.order_id = o.id \
             WHERE o.customer_id = $1 AND o.status <> 'cancelled' ORDER BY o.ordered_at DESC, o.id DESC, i.line_no LIMIT 1",
        )
        .bind(customer_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn get_order(&self, id: i64) -> Result<Order> {
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("order"))?;
        let mut orders = vec![order_from_row(&row)?];
        self.fill_lines(&mut orders).await?;
        Ok(orders.pop().expect("one order"))
    }

    /// The totals of the orders among `ids` (one query per 500 ids): what a follow-up mail's
    /// `order_total` shows, read for a batch of runs at once instead of each order whole.
    pub async fn order_totals(&self, ids: &[i64]) -> Result<std::collections::HashMap<i64, i64>> {
        let rows = self.fetch_by_ids(ids, |list| format!("SELECT id, total FROM orders WHERE id IN ({list})")).await?;
        rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("total")?))).collect()
    }

    /// Reads the line items and adjustments of `orders` in two queries, whatever their number.
    async fn fill_lines(&self, orders: &mut [Order]) -> Result<()> {
        if orders.is_empty() {
            return Ok(());
        }
        let ids = self.placeholders(1, orders.len());
        let at: std::collections::HashMap<i64, usize> = orders.iter().enumerate().map(|(i, o)| (o.id, i)).collect();
        let mut q = sqlx::query(AssertSqlSafe(format!(
            "SELECT order_id, line_no, sku, name, category, quantity, unit_price, tax_rate, amount FROM order_items \
             WHERE order_id IN ({ids}) ORDER BY order_id, line_no"
        )));
        for o in orders.iter() {
            q = q.bind(o.id);
        }
        for r in q.fetch_all(&self.pool).await? {
            let i = at[&r.try_get::<i64, _>("order_id")?];
            orders[i].items.push(OrderItem {
                line_no: r.try_get("line_no")?,
                sku: r.try_get("sku")?,
                name: r.try_get("name")?,
                category: r.try_get("category")?,
                quantity: r.try_get("quantity")?,
                unit_price: r.try_get("unit_price")?,
                tax_rate: r.try_get("tax_rate")?,
                amount: r.try_get("amount")?,
            });
        }
        let mut q = sqlx::query(AssertSqlSafe(format!(
            "SELECT order_id, id, kind, amount, reason, at FROM order_adjustments WHERE order_id IN ({ids}) \
             ORDER BY order_id, id"
        )));
        for o in orders.iter() {
            q = q.bind(o.id);
        }
        for r in q.fetch_all(&self.pool).await? {
            let i = at[&r.try_get::<i64, _>("order_id")?];
            orders[i].adjustments.push(OrderAdjustment {
                id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                amount: r.try_get("amount")?,
                reason: r.try_get("reason")?,
                at: from_ms(r.try_get("at")?),
            });
        }
        Ok(())
    }

    /// A page of orders, newest first, of one customer or all; with their lines and
    /// adjustments (three queries a page, however long).
    pub async fn list_orders(&self, customer_id: Option<i64>, limit: i64, offset: i64) -> Result<OrderPage> {
        let filter = if customer_id.is_some() { "customer_id = $1" } else { "$1 IS NULL" };
        let total: i64 = match customer_id {
            Some(id) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM orders WHERE customer_id = $1")
                    .bind(id)
                    .fetch_one(&self.pool)
                    .await?
            }
            None => self.count_orders().await?,
        };
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE {filter} ORDER BY ordered_at DESC, id DESC LIMIT $2 OFFSET $3"
        )))
        .bind(customer_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        let mut items = rows.iter().map(order_from_row).collect::<Result<Vec<_>>>()?;
        self.fill_lines(&mut items).await?;
        Ok(OrderPage { total, items })
    }

    /// A customer's orders that count (not cancelled): how many, the spend net of refunds and
    /// the first and last order's time, over all their orders.
    pub async fn customer_order_totals(&self, customer_id: i64) -> Result<OrderTotals> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(total - refunded), 0) AS BIGINT) AS spent, \
             MIN(ordered_at) AS first_at, MAX(ordered_at) AS last_at FROM orders \
             WHERE customer_id = $1 AND status <> 'cancelled'",
        )
        .bind(customer_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(OrderTotals {
            orders: row.try_get("n")?,
            spent: row.try_get("spent")?,
            first_at: row.try_get::<Option<i64>, _>("first_at")?.map(from_ms),
            last_at: row.try_get::<Option<i64>, _>("last_at")?.map(from_ms),
        })
    }

    /// Orders with ids above `after`, in id order, for export.
    pub async fn orders_after(&self, after: i64, limit: i64) -> Result<Vec<Order>> {
        // A page in three queries (orders, their lines, their adjustments), not three an order.
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE id > $1 ORDER BY id LIMIT $2"
        )))
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut out = rows.iter().map(order_from_row).collect::<Result<Vec<_>>>()?;
        for chunk in out.chunks_mut(500) {
            self.fill_lines(chunk).await?;
        }
        Ok(out)
    }
}

/// Adds the order (with id `id`) and its lines to `batch`.
fn push_order(batch: &mut Batch, id: i64, d: &OrderDraft, request: &Fingerprint) {
    batch
        .push(
            "INSERT INTO orders (id, customer_id, external_id, request_hash, ordered_at, channel, currency, \
             prices_include_tax, subtotal, shipping, discount, tax, total, refunded, status, note, created_at) \
             VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,0,'completed',?,?)",
        )
        .bind(id)
        .bind(d.customer_id)
        .bind(d.external_id.clone())
        .bind(request.as_bytes().to_vec())
        .bind(to_ms(d.ordered_at))
        .bind(d.channel.clone())
        .bind(d.currency.clone())
        .bind(d.prices_include_tax as i64)
        .bind(d.subtotal)
        .bind(d.shipping)
        .bind(d.discount)
        .bind(d.tax)
        .bind(d.total)
        .bind(d.note.clone())
        .bind(now_ms());
    let lines: Vec<(i64, &joren_core::order::LineItem)> = (1..).zip(&d.items).collect();
    batch.push_rows(
        "INSERT INTO order_items (order_id, line_no, sku, name, category, quantity, unit_price, tax_rate, amount)",
        9,
        &lines,
        |b, (line_no, it)| {
            b.bind(id)
                .bind(*line_no)
                .bind(it.sku.clone())
                .bind(it.name.clone())
                .bind(it.category.clone())
                .bind(it.quantity)
                .bind(it.unit_price)
                .bind(it.tax_rate)
                .bind(it.amount);
        },
    );
}

/// The order just written, as [`Store::get_order`] would read it back.
fn order_from_draft(id: i64, d: &OrderDraft) -> Order {
    Order {
        id,
        customer_id: d.customer_id,
        external_id: d.external_id.clone(),
        ordered_at: from_ms(to_ms(d.ordered_at)),
        channel: d.channel.clone(),
        currency: d.currency.clone(),
        prices_include_tax: d.prices_include_tax,
        subtotal: d.subtotal,
        shipping: d.shipping,
        discount: d.discount,
        tax: d.tax,
        total: d.total,
        refunded: 0,
        status: OrderStatus::Completed,
        note: d.note.clone(),
        items: d
            .items
            .iter()
            .enumerate()
            .map(|(i, it)| OrderItem {
                line_no: i as i64 + 1,
                sku: it.sku.clone(),
                name: it.name.clone(),
                category: it.category.clone(),
                quantity: it.quantity,
                unit_price: it.unit_price,
                tax_rate: it.tax_rate,
                amount: it.amount,
            })
            .collect(),
        adjustments: Vec::new(),
    }
}
