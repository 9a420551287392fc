//! The shop's product list: read by staff (the counter screen), kept by owners.

use joren_core::product::ProductInput;
pub use joren_store::Product;

use crate::{Actor, App, Result};

impl App {
    /// Every product, on sale first; `on_sale_only` leaves out the ones no longer sold.
    pub async fn products(&self, on_sale_only: bool) -> Result<Vec<Product>> {
        Ok(self.store.products(on_sale_only).await?)
    }

    pub async fn product(&self, id: i64) -> Result<Product> {
        Ok(self.store.product(id).await?)
    }

    /// Creates (`id: None`) or changes a product (owners); audited. A price change applies to
    /// sales from now on; past orders keep the price they were sold at.
    pub async fn save_product(&self, actor: &Actor, id: Option<i64>, input: ProductInput) -> Result<Product> {
        actor.require_owner()?;
        input.validate()?;
        let product = self.store.save_product(id, &input).await?;
        self.audit(actor, "product.save", "product", product.id, serde_json::to_value(&input).unwrap_or_default())
            .await?;
        Ok(product)
    }
}
