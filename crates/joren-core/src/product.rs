//! The shop's product list (商品): what the counter screen rings up. A product is a name, a
//! tax-inclusive price and its consumption tax rate, optionally a SKU and a category; a sale
//! copies them into the order's line, so changing a price never changes a past order.

use serde::{Deserialize, Serialize};

use crate::order::bounds::{MAX_SKU, MAX_UNIT_PRICE};
use crate::{Code, FieldErrors};

/// Longest product or category name.
pub const MAX_NAME: usize = 200;

/// A product as the owner defines it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductInput {
    #[serde(default)]
    pub sku: String,
    pub name: String,
    #[serde(default)]
    pub category: String,
    /// Price per unit in yen, tax included (総額表示), 0 ..= 100,000,000.
    pub unit_price: i64,
    /// Consumption tax rate in percent: 10 (standard), 8 (reduced) or 0.
    #[serde(default = "standard_rate")]
    pub tax_rate: i64,
    #[serde(default = "yes")]
    pub active: bool,
}

fn standard_rate() -> i64 {
    10
}

fn yes() -> bool {
    true
}

impl ProductInput {
    /// Checks every field, all errors at once.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::default();
        let name = self.name.trim().chars().count();
        if name == 0 || name > MAX_NAME {
            e.push("name", Code::LengthRange).with(1).with(MAX_NAME);
        }
        if self.sku.trim().len() > MAX_SKU {
            e.push("sku", Code::TooLong).with(MAX_SKU).with(self.sku.trim().len());
        }
        if self.category.trim().chars().count() > MAX_NAME {
            e.push("category", Code::TooLong).with(MAX_NAME).with(self.category.trim().chars().count());
        }
        if !(0..=MAX_UNIT_PRICE).contains(&self.unit_price) {
            e.push("unit_price", Code::RangeYen).with(0).with(MAX_UNIT_PRICE);
        }
        if ![10, 8, 0].contains(&self.tax_rate) {
            e.push("tax_rate", Code::NotOneOf).with(self.tax_rate).with("10, 8, 0");
        }
        if e.0.is_empty() { Ok(()) } else { Err(e) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coffee() -> ProductInput {
        ProductInput {
            sku: "C-1".into(),
            name: "ブレンドコーヒー豆 200g".into(),
            category: "コーヒー豆".into(),
            unit_price: 1_620,
            tax_rate: 8,
            active: true,
        }
    }

    #[test]
    fn a_product_with_its_reduced_rate_is_valid() {
        assert_eq!(coffee().validate(), Ok(()));
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let bad = ProductInput { name: " ".into(), sku: "x".repeat(101), unit_price: -1, tax_rate: 5, ..coffee() };
        let fields: Vec<String> = bad.validate().unwrap_err().0.into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["name", "sku", "unit_price", "tax_rate"]);
        assert!(ProductInput { unit_price: MAX_UNIT_PRICE + 1, ..coffee() }.validate().is_err());
        assert!(ProductInput { unit_price: MAX_UNIT_PRICE, ..coffee() }.validate().is_ok());
    }
}
