//! Orders written in bulk by an import: many orders and their lines in one batch, with the
//! secondary indexes dropped for the load and rebuilt after.

use super::*;
use crate::{Backend, copy};

impl Store {
    /// Inserts many already-validated orders in one transaction (bulk import, demo). Orders
    /// whose `external_id` already exists (or repeats within the batch) are skipped (`None`);
    /// returns the new ids in input order. Ids are reserved up front (the SQLite write lock or
    /// PostgreSQL's sequence) and the rows go in as multi-row `INSERT`s on SQLite and by `COPY`
    /// on PostgreSQL, so a million orders take seconds.
    pub async fn insert_orders_batch(&self, orders: &[(OrderDraft, Fingerprint)]) -> Result<Vec<Option<i64>>> {
        let ext: Vec<&str> = orders.iter().filter_map(|(d, _)| d.external_id.as_deref()).collect();
        if self.backend() == Backend::Postgres {
            let mut tx = self.copy_tx().await?;
            let existing: Vec<String> =
                sqlx::query_scalar("SELECT external_id FROM orders WHERE external_id = ANY($1)")
                    .bind(&ext)
                    .fetch_all(&mut *tx)
                    .await?;
            let keep = new_orders(orders, existing);
            let n = keep.iter().filter(|k| **k).count() as i64;
            let seq: String =
                sqlx::query_scalar("SELECT pg_get_serial_sequence('orders', 'id')").fetch_one(&mut *tx).await?;
            let ids: Vec<i64> =
                sqlx::query_scalar(AssertSqlSafe(crate::bulk::nextval_sql(&seq))).bind(n).fetch_all(&mut *tx).await?;
            let (out, order_rows, item_rows) = order_rows(orders, &keep, ids)?;
            copy::copy_in(&mut tx, "orders", &ORDER_INSERT_COLUMNS, order_rows).await?;
            copy::copy_in(&mut tx, "order_items", &ORDER_ITEM_COLUMNS, item_rows).await?;
            tx.commit().await?;
            return Ok(out);
        }
        let mut tx = self.begin_bulk_write().await?;
        let mut existing = Vec::new();
        for chunk in ext.chunks(500) {
            let sql =
                format!("SELECT external_id FROM orders WHERE external_id IN ({})", self.placeholders(1, chunk.len()));
            let mut q = sqlx::query_scalar::<_, String>(AssertSqlSafe(sql));
            for e in chunk {
                q = q.bind(*e);
            }
            existing.extend(q.fetch_all(&mut *tx).await?);
        }
        let keep = new_orders(orders, existing);
        let n = keep.iter().filter(|k| **k).count();
        let ids = self.reserve_ids(&mut tx, "orders", n).await?;
        let (out, order_rows, item_rows) = order_rows(orders, &keep, ids)?;
        self.bulk_insert(&mut tx, "orders", &ORDER_INSERT_COLUMNS, order_rows).await?;
        self.bulk_insert(&mut tx, "order_items", &ORDER_ITEM_COLUMNS, item_rows).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Drops the secondary indexes of `orders` before a large load into a (nearly) empty table,
    /// so they are built once, sorted, at its end by [`Store::ensure_order_indexes`] instead of
    /// row by row (a third of SQLite's work for a million orders). On PostgreSQL the foreign
    /// keys of the order rows go too (checked row by row they took two thirds of the lines'
    /// COPY) and come back validated in one pass. The unique index on `external_id` stays, so
    /// idempotency holds throughout; queries stay correct, only slower, until the indexes are
    /// back. [`Store::migrate`] restores them if a load was cut off.
    pub async fn defer_order_indexes(&self) -> Result<()> {
        for (name, _) in order_secondary_indexes(self.backend()) {
            sqlx::query(AssertSqlSafe(format!("DROP INDEX IF EXISTS {name}"))).execute(&self.pool).await?;
        }
        if self.backend() == Backend::Postgres {
            for (table, name, _) in ORDER_FOREIGN_KEYS {
                sqlx::query(AssertSqlSafe(format!("ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}")))
                    .execute(&self.pool)
                    .await?;
            }
        }
        Ok(())
    }

    /// Creates whichever secondary indexes of `orders` (and on PostgreSQL foreign keys of the
    /// order rows) are missing (see [`Store::defer_order_indexes`]).
    pub async fn ensure_order_indexes(&self) -> Result<()> {
        for (name, on) in order_secondary_indexes(self.backend()) {
            sqlx::query(AssertSqlSafe(format!("CREATE INDEX IF NOT EXISTS {name} ON {on}")))
                .execute(&self.pool)
                .await?;
        }
        if self.backend() == Backend::Postgres {
            let present = self.foreign_key_names().await?;
            let mut restored = false;
            for (table, name, key) in ORDER_FOREIGN_KEYS {
                if !present.iter().any(|p| p == name) {
                    sqlx::query(AssertSqlSafe(format!("ALTER TABLE {table} ADD CONSTRAINT {name} {key}")))
                        .execute(&self.pool)
                        .await?;
                    restored = true;
                }
            }
            if restored {
                // After a bulk load the planner's statistics describe the tables before it:
                // a customer's orders were then planned as a scan of every order line (40 s
                // for one customer page at 10M orders; 8 ms once analysed). The orders are
                // vacuumed too, so a customer's totals are read from their index alone (an
                // index-only scan needs the visibility map: 84 ms for a customer with 10,000
                // orders before, 4 ms after; 2 s for ten million orders).
                for sql in ["ANALYZE customers", "VACUUM (ANALYZE) orders", "ANALYZE order_items"] {
                    sqlx::query(sql).execute(&self.pool).await?;
                }
            }
        }
        Ok(())
    }

    /// Whether PostgreSQL has statistics for `table` (analysed by hand or by autovacuum);
    /// always true on SQLite, whose planner works without them.
    pub async fn table_analyzed(&self, table: &str) -> Result<bool> {
        if self.backend() == Backend::Sqlite {
            return Ok(true);
        }
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) > 0 FROM pg_stat_user_tables \
             WHERE relname = $1 AND (last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL)",
        )
        .bind(table)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Names of the foreign keys in the database (PostgreSQL; SQLite's have no names, so none).
    pub async fn foreign_key_names(&self) -> Result<Vec<String>> {
        if self.backend() == Backend::Sqlite {
            return Ok(Vec::new());
        }
        Ok(sqlx::query_scalar("SELECT CAST(conname AS TEXT) FROM pg_constraint WHERE contype = 'f' ORDER BY 1")
            .fetch_all(&self.pool)
            .await?)
    }
}

/// Which of `orders` to write: not those whose `external_id` is in `existing` or came earlier
/// in the batch.
fn new_orders(orders: &[(OrderDraft, Fingerprint)], existing: Vec<String>) -> Vec<bool> {
    let mut seen: std::collections::HashSet<String> = existing.into_iter().collect();
    orders
        .iter()
        .map(|(d, _)| match &d.external_id {
            None => true,
            Some(e) => seen.insert(e.clone()),
        })
        .collect()
}

/// The rows of the orders to write (`keep`) with their `ids` in order: the new id of each
/// order (`None` for one skipped), the order rows and the line rows.
#[allow(clippy::type_complexity)]
fn order_rows(
    orders: &[(OrderDraft, Fingerprint)],
    keep: &[bool],
    ids: Vec<i64>,
) -> Result<(Vec<Option<i64>>, Vec<Vec<Val>>, Vec<Vec<Val>>)> {
    let mut ids = ids.into_iter();
    let now = now_ms();
    let mut out = Vec::with_capacity(orders.len());
    let mut order_rows = Vec::with_capacity(ids.len());
    let mut item_rows = Vec::new();
    for ((d, hash), k) in orders.iter().zip(keep) {
        if !*k {
            out.push(None);
            continue;
        }
        let id =
            ids.next().ok_or_else(|| StoreError::Conflict(joren_core::Problem::other("id reservation ran short")))?;
        out.push(Some(id));
        order_rows.push(vec![
            Val::Int(id),
            Val::Int(d.customer_id),
            Val::OptText(d.external_id.clone()),
            Val::Bytes(hash.as_bytes().to_vec()),
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
    Ok((out, order_rows, item_rows))
}

/// The foreign keys of the order rows on PostgreSQL, as migration 0001 creates them: (table,
/// name, definition).
const ORDER_FOREIGN_KEYS: [(&str, &str, &str); 2] = [
    ("order_items", "order_items_order_id_fkey", "FOREIGN KEY (order_id) REFERENCES orders(id) ON DELETE CASCADE"),
    ("orders", "orders_customer_id_fkey", "FOREIGN KEY (customer_id) REFERENCES customers(id)"),
];

const ORDER_ITEM_COLUMNS: [&str; 9] =
    ["order_id", "line_no", "sku", "name", "category", "quantity", "unit_price", "tax_rate", "amount"];

/// The non-unique indexes of `orders` on `backend`, as migrations 0001 and 0043 create them.
fn order_secondary_indexes(backend: Backend) -> [(&'static str, &'static str); 2] {
    let by_customer = match backend {
        Backend::Sqlite => "orders(customer_id, ordered_at, status, total, refunded)",
        Backend::Postgres => "orders(customer_id, ordered_at) INCLUDE (status, total, refunded)",
    };
    [("orders_customer_totals", by_customer), ("orders_ordered_at", "orders(ordered_at)")]
}

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
