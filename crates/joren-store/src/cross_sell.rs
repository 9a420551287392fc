//! Cross-sell rules stored with each metrics snapshot, and the purchases they are computed from.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Result, Store};

/// One rule: customers who bought `antecedent` also bought `consequent`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProductAssociation {
    /// Product key: the SKU, or the name when there is none.
    pub antecedent: String,
    pub antecedent_name: String,
    pub consequent: String,
    pub consequent_name: String,
    /// Customers who bought both.
    pub pair_count: i64,
    pub support: f64,
    pub confidence: f64,
    pub lift: f64,
}

const COLUMNS: &str = "antecedent, antecedent_name, consequent, consequent_name, pair_count, support, confidence, lift";
const NEWEST: &str = "(SELECT MAX(id) FROM metric_snapshots WHERE complete = 1)";

fn from_row(r: &AnyRow) -> Result<ProductAssociation> {
    Ok(ProductAssociation {
        antecedent: r.try_get("antecedent")?,
        antecedent_name: r.try_get("antecedent_name")?,
        consequent: r.try_get("consequent")?,
        consequent_name: r.try_get("consequent_name")?,
        pair_count: r.try_get("pair_count")?,
        support: r.try_get("support")?,
        confidence: r.try_get("confidence")?,
        lift: r.try_get("lift")?,
    })
}

/// The product key of a line item: its SKU, or its name when it has none.
const PRODUCT_KEY: &str = "CASE WHEN i.sku <> '' THEN i.sku ELSE i.name END";

/// How many of a customer's newest orders say what they own, for their suggestions.
const OWNED_FROM_ORDERS: usize = 1000;

impl Store {
    /// Streams (customer id, product key, product name) of every line item of orders that are
    /// not cancelled or fully refunded, in line-item order (not grouped by customer: reading
    /// the clustered line items in their own order is three times faster). Items with neither
    /// SKU nor name, and the placeholder line of amount-only imports, are left out.
    pub async fn stream_customer_products(&self, mut row: impl FnMut(i64, &str, &str)) -> Result<()> {
        // The placeholder line of amount-only imports, as an SQL literal (our own constant).
        let amount_only = format!("'{}'", joren_core::order::AMOUNT_ONLY_ITEM_NAME.replace('\'', "''"));
        let filter = format!(
            "o.status IN ('completed', 'partially_refunded') AND (i.sku <> '' OR (i.name <> '' AND i.name <> {amount_only}))"
        );
        match self.backend() {
            crate::Backend::Sqlite => {
                // Twenty million line items one row at a time took 40 s; as blocks of text
                // (customer, product, name, each text preceded by its length) about a third.
                // SQLite's CROSS JOIN keeps the line items as the outer loop.
                let mut tx = self.pool.begin().await?;
                let record = format!(
                    "o.customer_id || ',' || {} || {}",
                    crate::blocks::counted(PRODUCT_KEY),
                    crate::blocks::counted("i.name")
                );
                crate::blocks::for_each_block(
                    &mut tx,
                    self.read_block(),
                    "SELECT MIN(order_id) AS a, MAX(order_id) AS b FROM order_items",
                    "order_items i CROSS JOIN orders o ON o.id = i.order_id",
                    "i.order_id",
                    &filter,
                    &record,
                    |mut text| {
                        let mut n = 0;
                        while !text.is_empty() {
                            let customer = crate::blocks::take_int(&mut text)?;
                            let product = crate::blocks::take_counted(&mut text)?;
                            let name = crate::blocks::take_counted(&mut text)?;
                            row(customer, product, name);
                            n += 1;
                        }
                        Ok(n)
                    },
                )
                .await?;
                tx.rollback().await?;
            }
            crate::Backend::Postgres => {
                // COPY's text out of the native connection, one statement.
                let sql = format!(
                    "COPY (SELECT o.customer_id, {PRODUCT_KEY} AS product, i.name FROM order_items i \
                     JOIN orders o ON o.id = i.order_id WHERE {}) TO STDOUT",
                    filter
                );
                let mut copy = self.copy_tx().await?;
                crate::blocks::copy_out(&mut copy, &sql, |line| {
                    let bad = || sqlx::Error::Protocol(format!("unreadable COPY row {line:?}"));
                    let mut fields = line.split('\t');
                    let (Some(customer), Some(product), Some(name), None) =
                        (fields.next(), fields.next(), fields.next(), fields.next())
                    else {
                        return Err(bad().into());
                    };
                    let customer = customer.parse().map_err(|_| bad())?;
                    row(customer, &crate::blocks::copy_field(product)?, &crate::blocks::copy_field(name)?);
                    Ok(())
                })
                .await?;
                copy.rollback().await?;
            }
        }
        Ok(())
    }

    /// Products to suggest to a customer from the newest snapshot's rules: consequents of the
    /// products they bought that they have not bought, best rule per product first (by
    /// confidence, then lift). Each comes with the rule that suggests it. What they bought is
    /// read once, from their newest `OWNED_FROM_ORDERS` (1,000) orders (each order's lines are an
    /// index lookup: a regular with 10,000 orders took 30 ms on SQLite and 130–280 ms on
    /// PostgreSQL reading all of them, for the 360 page's five suggestions).
    pub async fn cross_sell_for_customer(&self, customer_id: i64, limit: usize) -> Result<Vec<ProductAssociation>> {
        let sql = format!(
            "WITH recent AS MATERIALIZED (SELECT id FROM orders WHERE customer_id = $1 AND status <> 'cancelled' \
               ORDER BY ordered_at DESC LIMIT {OWNED_FROM_ORDERS}), \
             owned AS MATERIALIZED (SELECT DISTINCT {PRODUCT_KEY} AS product FROM recent o \
               JOIN order_items i ON i.order_id = o.id) \
             SELECT {COLUMNS} FROM product_associations WHERE snapshot_id = {NEWEST} \
             AND antecedent IN (SELECT product FROM owned) AND consequent NOT IN (SELECT product FROM owned) \
             ORDER BY confidence DESC, lift DESC, consequent LIMIT 500"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(customer_id).fetch_all(&self.pool).await?;
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for r in &rows {
            let a = from_row(r)?;
            if seen.insert(a.consequent.clone()) {
                out.push(a);
                if out.len() == limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// The newest snapshot's rules from one product, best first.
    pub async fn product_associations(&self, product: &str, limit: i64) -> Result<Vec<ProductAssociation>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM product_associations WHERE snapshot_id = {NEWEST} AND antecedent = $1 \
             ORDER BY confidence DESC, lift DESC, consequent LIMIT $2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(product).bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(from_row).collect()
    }

    /// The newest snapshot's most common pairs bought together (each pair once, the direction
    /// with the higher confidence), by how many customers bought both.
    pub async fn top_associations(&self, limit: i64) -> Result<Vec<ProductAssociation>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM product_associations a WHERE snapshot_id = {NEWEST} \
             AND NOT EXISTS (SELECT 1 FROM product_associations b WHERE b.snapshot_id = a.snapshot_id \
                 AND b.antecedent = a.consequent AND b.consequent = a.antecedent \
                 AND (b.confidence > a.confidence OR (b.confidence = a.confidence AND b.antecedent < a.antecedent))) \
             ORDER BY pair_count DESC, lift DESC, antecedent LIMIT $1"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(from_row).collect()
    }
}
