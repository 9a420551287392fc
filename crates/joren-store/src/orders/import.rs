//! Orders written in bulk by an import: many orders and their lines in one batch, with the
//! secondary indexes dropped for the load and rebuilt after.

use super::*;

impl Store {
    /// Inserts many already-validated orders in one transaction (bulk import, demo). Orders
    /// whose `external_id` already exists (or repeats within the batch) are skipped (`None`);
    /// returns the new ids in input order. Uses multi-row `INSERT`s with ids reserved up front
    /// (the SQLite write lock or PostgreSQL's sequence), so a million orders take seconds.
    pub async fn insert_orders_batch(&self, orders: &[(OrderDraft, String)]) -> Result<Vec<Option<i64>>> {
        let mut tx = self.begin_bulk_write().await?;
        let mut existing = std::collections::HashSet::new();
        let ext: Vec<&str> = orders.iter().filter_map(|(d, _)| d.external_id.as_deref()).collect();
        for chunk in ext.chunks(500) {
            let sql =
                format!("SELECT external_id FROM orders WHERE external_id IN ({})", self.placeholders(1, chunk.len()));
            let mut q = sqlx::query_scalar::<_, String>(AssertSqlSafe(sql));
            for e in chunk {
                q = q.bind(*e);
            }
            existing.extend(q.fetch_all(&mut *tx).await?);
        }
        let keep: Vec<bool> = orders
            .iter()
            .map(|(d, _)| match &d.external_id {
                None => true,
                Some(e) => existing.insert(e.clone()),
            })
            .collect();
        let n = keep.iter().filter(|k| **k).count();
        let mut ids = self.reserve_ids(&mut tx, "orders", n).await?.into_iter();
        let now = now_ms();
        let mut out = Vec::with_capacity(orders.len());
        let mut order_rows = Vec::with_capacity(n);
        let mut item_rows = Vec::new();
        for ((d, hash), k) in orders.iter().zip(&keep) {
            if !*k {
                out.push(None);
                continue;
            }
            let id = ids
                .next()
                .ok_or_else(|| StoreError::Conflict(joren_core::Problem::other("id reservation ran short")))?;
            out.push(Some(id));
            order_rows.push(vec![
                Val::Int(id),
                Val::Int(d.customer_id),
                Val::OptText(d.external_id.clone()),
                Val::Text(hash.clone()),
                Val::Int(to_ms(d.ordered_at)),
                Val::Text(d.channel.clone()),
                Val::Text(d.currency.clone()),
                Val::Int(d.prices_include_tax as i64),
                Val::Int(d.subtotal),
                Val::Int(d.shipping),
                Val::Int(d.discount),
                Val::Int(d.tax),
                Val::Int(d.total),
                Val::Int(0),
                Val::Text(OrderStatus::Completed.as_str().into()),
                Val::Text(d.note.clone()),
                Val::Int(now),
            ]);
            for (i, it) in d.items.iter().enumerate() {
                item_rows.push(vec![
                    Val::Int(id),
                    Val::Int(i as i64 + 1),
                    Val::Text(it.sku.clone()),
                    Val::Text(it.name.clone()),
                    Val::Text(it.category.clone()),
                    Val::Int(it.quantity),
                    Val::Int(it.unit_price),
                    Val::Int(it.tax_rate),
                    Val::Int(it.amount),
                ]);
            }
        }
        self.bulk_insert(&mut tx, "orders", &ORDER_INSERT_COLUMNS, order_rows).await?;
        self.bulk_insert(
            &mut tx,
            "order_items",
            &["order_id", "line_no", "sku", "name", "category", "quantity", "unit_price", "tax_rate", "amount"],
            item_rows,
        )
        .await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Drops the secondary indexes of `orders` before a large load into a (nearly) empty table,
    /// so they are built once, sorted, at its end by [`Store::ensure_order_indexes`] instead of
    /// row by row (a third of SQLite's work for a million orders). The unique index on
    /// `external_id` stays, so idempotency holds throughout; queries stay correct, only slower,
    /// until the indexes are back. [`Store::migrate`] restores them if a load was cut off.
    pub async fn defer_order_indexes(&self) -> Result<()> {
        for (name, _) in ORDER_SECONDARY_INDEXES {
            sqlx::query(AssertSqlSafe(format!("DROP INDEX IF EXISTS {name}"))).execute(&self.pool).await?;
        }
        Ok(())
    }

    /// Creates whichever secondary indexes of `orders` are missing (see
    /// [`Store::defer_order_indexes`]).
    pub async fn ensure_order_indexes(&self) -> Result<()> {
        for (name, on) in ORDER_SECONDARY_INDEXES {
            sqlx::query(AssertSqlSafe(format!("CREATE INDEX IF NOT EXISTS {name} ON {on}")))
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }
}

/// The non-unique indexes of `orders`, as migration 0001 creates them on both backends.
const ORDER_SECONDARY_INDEXES: [(&str, &str); 2] =
    [("orders_customer", "orders(customer_id, ordered_at)"), ("orders_ordered_at", "orders(ordered_at)")];

const ORDER_INSERT_COLUMNS: [&str; 17] = [
    "id",
    "customer_id",
    "external_id",
    "request_hash",
    "ordered_at",
    "channel",
    "currency",
    "prices_include_tax",
    "subtotal",
    "shipping",
    "discount",
    "tax",
    "total",
    "refunded",
    "status",
    "note",
    "created_at",
];
