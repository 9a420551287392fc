//! Refunds and cancellations: an order adjusted in one transaction with its points reversed, its
//! event and its audit entry.

use super::*;

impl Store {
    /// Records a refund (or, with `cancel`, a cancellation of the whole order) as a new entry
    /// and updates the derived status. Validated against the current state under a lock. In
    /// the same transaction: with a points programme the order's points are taken back, the
    /// audit entry is written (when `by` is given) and the customer event (unless `history`).
    pub async fn adjust_order(&self, order_id: i64, a: Adjustment<'_>) -> Result<(Order, Option<OrderPoints>)> {
        let Adjustment { cancel, amount, reason, by, points, history } = a;
        let actor = by.and_then(|w| w.user_id);
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1{}",
            self.for_update()
        )))
        .bind(order_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound("order"))?;
        let order = order_from_row(&row)?;
        let (kind, amount, status) = if cancel {
            if order.status != OrderStatus::Completed {
                return Err(StoreError::Invalid(
                    joren_core::FieldError::new("status", joren_core::Code::OrderNotCancellable)
                        .arg(format!("@order.status.{}", order.status.as_str())),
                ));
            }
            ("cancel", order.total, OrderStatus::Cancelled)
        } else {
            let amount = joren_core::order::refund_amount(amount, order.total, order.refunded, order.status)?;
            ("refund", amount, OrderStatus::derive(order.total, order.refunded + amount, false))
        };
        let refunded = if cancel { order.refunded } else { order.refunded + amount };
        sqlx::query(
            "INSERT INTO order_adjustments (order_id, kind, amount, reason, created_by, at) VALUES ($1,$2,$3,$4,$5,$6)",
        )
        .bind(order_id)
        .bind(kind)
        .bind(amount)
        .bind(reason)
        .bind(actor)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE orders SET refunded = $1, status = $2 WHERE id = $3")
            .bind(refunded)
            .bind(status.as_str())
            .bind(order_id)
            .execute(&mut *tx)
            .await?;
        if !history {
            let event = if cancel { EventKind::OrderCancelled } else { EventKind::OrderRefunded };
            let detail = serde_json::json!({"amount": amount, "refunded": refunded, "status": status.as_str()});
            crate::events::insert(&mut tx, event, order.customer_id, "order", order_id, &detail).await?;
        }
        let moved = match points {
            Some(p) => {
                let refunded_for_points = if cancel { order.total } else { refunded };
                self.lock_live_customer(&mut tx, order.customer_id).await?;
                Some(
                    self.reverse_for_order(&mut tx, order_id, order.customer_id, refunded_for_points, order.total, p)
                        .await?,
                )
            }
            None => None,
        };
        if let Some(who) = by {
            let (action, detail) = if cancel {
                ("order.cancel", serde_json::json!({"reason": reason, "points": moved}))
            } else {
                ("order.refund", serde_json::json!({"amount": amount, "reason": reason, "points": moved}))
            };
            let mut batch = Batch::new(self.backend());
            crate::audit::push(&mut batch, who, action, "order", &order_id.to_string(), &detail);
            batch.run(&mut tx).await?;
        }
        tx.commit().await?;
        Ok((self.get_order(order_id).await?, moved))
    }
}
