//! The shop's product list (joren_core::product), read by the counter screen.

use joren_core::product::ProductInput;
use serde::Serialize;
use sqlx::Row;

use crate::{Result, Store, StoreError, now_ms};

/// A stored product.
#[derive(Debug, Clone, Serialize)]
pub struct Product {
    pub id: i64,
    #[serde(flatten)]
    pub input: ProductInput,
}

const COLUMNS: &str = "id, sku, name, category, unit_price, tax_rate, active";

fn product_from_row(r: &sqlx::any::AnyRow) -> Result<Product> {
    Ok(Product {
        id: r.try_get("id")?,
        input: ProductInput {
            sku: r.try_get("sku")?,
            name: r.try_get("name")?,
            category: r.try_get("category")?,
            unit_price: r.try_get("unit_price")?,
            tax_rate: r.try_get("tax_rate")?,
            active: r.try_get::<i64, _>("active")? != 0,
        },
    })
}

impl Store {
    /// Every product (or only those on sale), by category and name.
    pub async fn products(&self, on_sale_only: bool) -> Result<Vec<Product>> {
        let filter = if on_sale_only { "WHERE active = 1" } else { "" };
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM products {filter} ORDER BY active DESC, category, name, id"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(product_from_row).collect()
    }

    /// The products with these ids (those that exist), in no particular order.
    pub async fn products_by_id(&self, ids: &[i64]) -> Result<Vec<Product>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks = (1..=ids.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(",");
        let sql = format!("SELECT {COLUMNS} FROM products WHERE id IN ({marks})");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_all(&self.pool).await?.iter().map(product_from_row).collect()
    }

    pub async fn product(&self, id: i64) -> Result<Product> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM products WHERE id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("product"))?;
        product_from_row(&row)
    }

    /// Creates (`id: None`) or changes a product; a SKU another product has is a conflict.
    pub async fn save_product(&self, id: Option<i64>, p: &ProductInput) -> Result<Product> {
        let now = now_ms();
        let sql = match id {
            None => {
                "INSERT INTO products (sku, name, category, unit_price, tax_rate, active, created_at, updated_at) \
                 VALUES ($1,$2,$3,$4,$5,$6,$7,$7) RETURNING id"
            }
            Some(_) => {
                "UPDATE products SET sku = $1, name = $2, category = $3, unit_price = $4, tax_rate = $5, \
                 active = $6, updated_at = $7 WHERE id = $8 RETURNING id"
            }
        };
        let q = sqlx::query_scalar(sql)
            .bind(p.sku.trim())
            .bind(p.name.trim())
            .bind(p.category.trim())
            .bind(p.unit_price)
            .bind(p.tax_rate)
            .bind(i64::from(p.active))
            .bind(now);
        let q = match id {
            Some(i) => q.bind(i),
            None => q,
        };
        let saved: Option<i64> = match q.fetch_optional(&self.pool).await {
            Err(e) if e.as_database_error().is_some_and(|d| d.is_unique_violation()) => {
                return Err(joren_core::FieldError::new("sku", joren_core::Code::SkuTaken).arg(p.sku.trim()).into());
            }
            other => other?,
        };
        self.product(saved.ok_or(StoreError::NotFound("product"))?).await
    }
}
