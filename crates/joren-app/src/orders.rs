//! Order use cases: idempotent create, refunds and cancellations.

use joren_core::order::{OrderInput, RefundInput};
pub use joren_store::{Order, OrderPage};

use crate::{Actor, App, AppError, Result};
use joren_core::fingerprint::Fingerprint;

/// The outcome of creating an order: the order, whether it was a replay of an earlier request,
/// and the points it earned.
#[derive(Debug, Clone)]
pub struct CreatedOrder {
    pub order: Order,
    pub replayed: bool,
    pub points: joren_store::EarnBreakdownView,
    /// The rank the order raised the customer to, if it did.
    pub rank_up: Option<joren_store::CustomerRank>,
}

impl App {
    /// Creates an order once: a retry with the same `Idempotency-Key` (or the same
    /// `external_id`) and the same body returns the first order; a different body is a conflict.
    pub async fn create_order(
        &self,
        actor: &Actor,
        input: OrderInput,
        idempotency_key: Option<&str>,
    ) -> Result<CreatedOrder> {
        actor.require_write()?;
        let idempotency_key = crate::scoped_idempotency_key(actor, idempotency_key)?;
        let idempotency_key = idempotency_key.as_deref();
        let request = Fingerprint::of_json(&input);
        let draft = input.validate_within(self.now(), self.tz(), &self.config.order_dates)?;
        let programme = self.points_programme().await?;
        let points = Some(self.points_context(&programme, self.local_date(draft.ordered_at)));
        let who = joren_store::AuditActor { user_id: actor.user_id, name: &actor.name };
        let created = self.store.create_order(&draft, &request, idempotency_key, points, Some(who)).await?;
        let order = match created.order {
            Some(order) => order,
            None => self.store.get_order(created.id).await?,
        };
        Ok(CreatedOrder { order, replayed: created.replayed, points: created.points, rank_up: created.rank_up })
    }

    pub async fn get_order(&self, id: i64) -> Result<Order> {
        Ok(self.store.get_order(id).await?)
    }

    pub async fn list_orders(&self, customer_id: Option<i64>, limit: i64, offset: i64) -> Result<OrderPage> {
        Ok(self.store.list_orders(customer_id, limit.clamp(1, 500), offset.max(0)).await?)
    }

    /// What happened to a customer, newest first: orders placed, refunded and cancelled, rank
    /// and membership changes, segment moves, consent changes — each written with its change.
    pub async fn customer_events(&self, customer_id: i64, limit: i64) -> Result<Vec<joren_store::Event>> {
        self.store.get_customer(customer_id).await?;
        Ok(self.store.customer_events(customer_id, limit.clamp(1, 1000)).await?)
    }

    /// A customer's orders that count (not cancelled), their spend net of refunds and the
    /// first and last order, over all their orders (the customer page's figures).
    pub async fn customer_order_totals(&self, customer_id: i64) -> Result<joren_store::OrderTotals> {
        Ok(self.store.customer_order_totals(customer_id).await?)
    }

    /// Refunds part or all of an order (a new entry; the order is never edited).
    /// The order's points are taken back in proportion (see [`joren_store::OrderPoints`]).
    pub async fn refund_order(&self, actor: &Actor, id: i64, input: RefundInput) -> Result<Order> {
        Ok(self.refund_order_with_points(actor, id, input).await?.0)
    }

    /// [`App::refund_order`], also answering what happened to the order's points.
    pub async fn refund_order_with_points(
        &self,
        actor: &Actor,
        id: i64,
        input: RefundInput,
    ) -> Result<(Order, Option<joren_store::OrderPoints>)> {
        actor.require_write()?;
        let programme = self.points_programme().await?;
        let points = self.points_context(&programme, self.today_date());
        let adjustment = joren_store::Adjustment {
            cancel: false,
            amount: input.amount,
            reason: input.reason.trim(),
            by: Some(actor.audit_actor()),
            points: Some(points),
            history: false,
        };
        Ok(self.store.adjust_order(id, adjustment).await?)
    }

    /// Cancels a completed order that has no refunds yet; its points are taken back and
    /// points spent on it given back.
    pub async fn cancel_order(&self, actor: &Actor, id: i64, reason: &str) -> Result<Order> {
        actor.require_write()?;
        let programme = self.points_programme().await?;
        let points = self.points_context(&programme, self.today_date());
        let adjustment = joren_store::Adjustment {
            cancel: true,
            amount: None,
            reason: reason.trim(),
            by: Some(actor.audit_actor()),
            points: Some(points),
            history: false,
        };
        Ok(self.store.adjust_order(id, adjustment).await?.0)
    }
}

impl AppError {
    /// The field errors, if this is a validation error.
    pub fn field_errors(&self) -> Option<&joren_core::FieldErrors> {
        match self {
            Self::Validation(e) => Some(e),
            _ => None,
        }
    }
}
