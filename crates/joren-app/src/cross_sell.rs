//! Cross-sell: purchase co-occurrence rules computed with each metrics snapshot (see
//! `joren_analytics::cross_sell`), suggestions per customer and per product.

use std::collections::HashMap;

use joren_analytics::cross_sell;
use joren_store::ProductAssociation;

use crate::{App, AppError, Result};

impl App {
    /// Association rules over every customer's purchases (one basket of distinct products per
    /// customer; cancelled and fully refunded orders left out).
    pub(crate) async fn compute_associations(&self) -> Result<Vec<ProductAssociation>> {
        let mut index: HashMap<String, u32> = HashMap::new();
        let mut keys: Vec<String> = Vec::new();
        let mut names: Vec<String> = Vec::new();
        let mut baskets: Vec<Vec<u32>> = Vec::new();
        let mut basket_of: HashMap<i64, usize> = HashMap::new();
        self.store
            .stream_customer_products(|customer, product, name| {
                let i = match index.get(product) {
                    Some(&i) => i,
                    None => {
                        let i = keys.len() as u32;
                        index.insert(product.to_string(), i);
                        keys.push(product.to_string());
                        names.push(String::new());
                        i
                    }
                };
                if names[i as usize] != name {
                    names[i as usize] = name.to_string();
                }
                let b = *basket_of.entry(customer).or_insert_with(|| {
                    baskets.push(Vec::new());
                    baskets.len() - 1
                });
                baskets[b].push(i);
            })
            .await?;
        let products = keys.len();
        let rules = tokio::task::spawn_blocking(move || {
            cross_sell::associations(&baskets, products, &cross_sell::Settings::default())
        })
        .await
        .map_err(|e| AppError::Internal(format!("cross-sell: {e}")))?;
        let name = |i: u32| {
            let n = &names[i as usize];
            if n.is_empty() { keys[i as usize].clone() } else { n.clone() }
        };
        Ok(rules
            .into_iter()
            .map(|r| ProductAssociation {
                antecedent: keys[r.antecedent as usize].clone(),
                antecedent_name: name(r.antecedent),
                consequent: keys[r.consequent as usize].clone(),
                consequent_name: name(r.consequent),
                pair_count: i64::from(r.pair_count),
                support: r.support,
                confidence: r.confidence,
                lift: r.lift,
            })
            .collect())
    }

    /// Products to suggest to a customer (not bought yet), each with the rule behind it.
    pub async fn cross_sell_for_customer(&self, customer_id: i64, limit: usize) -> Result<Vec<ProductAssociation>> {
        self.store.get_customer(customer_id).await?;
        Ok(self.store.cross_sell_for_customer(customer_id, limit.clamp(1, 50)).await?)
    }

    /// What the customers who bought `product` (SKU, or name when it has none) also bought.
    pub async fn product_associations(&self, product: &str, limit: i64) -> Result<Vec<ProductAssociation>> {
        Ok(self.store.product_associations(product, limit.clamp(1, 100)).await?)
    }

    /// The pairs most often bought together.
    pub async fn top_associations(&self, limit: i64) -> Result<Vec<ProductAssociation>> {
        Ok(self.store.top_associations(limit.clamp(1, 100)).await?)
    }
}
