//! Orders, line items, tax and refunds. Amounts are integer minor units.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::money::validate_currency;
use crate::time::{Tz, local_date, local_to_utc, start_of_day};
use crate::{FieldError, FieldErrors};

/// The name given to the one line of an order imported with an amount but no line items: not a
/// product (cross-sell leaves it out).
pub const AMOUNT_ONLY_ITEM_NAME: &str = "(明細なし)";

/// Bounds of an order, checked at the edge (API, forms, CSV) with an error naming the field.
/// With them no total, tax, refund or per-customer sum can overflow an `i64` (a customer would
/// need 90 million maximal orders), and SQL sums stay inside PostgreSQL's `bigint`.
pub mod bounds {
    /// Largest unit price, in minor units (¥100,000,000).
    pub const MAX_UNIT_PRICE: i64 = 100_000_000;
    /// Largest quantity on one line.
    pub const MAX_QUANTITY: i64 = 100_000;
    /// Largest amount of one line (quantity × unit price), in minor units.
    pub const MAX_LINE_AMOUNT: i64 = 100_000_000;
    /// Most lines on one order.
    pub const MAX_LINES: usize = 1_000;
    /// Largest shipping charge or discount, in minor units.
    pub const MAX_CHARGE: i64 = 100_000_000;
    /// Longest SKU.
    pub const MAX_SKU: usize = 100;
}

/// Which order dates are believable: not before `earliest` (default 1990-01-01) and not more
/// than `future_tolerance` after now (default one day: a till whose clock runs a little ahead).
/// An order outside is refused, so a typo such as 2999 never becomes the end of observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateBounds {
    pub earliest: NaiveDate,
    pub future_tolerance: chrono::Duration,
}

impl Default for DateBounds {
    fn default() -> Self {
        Self {
            earliest: NaiveDate::from_ymd_opt(1990, 1, 1).expect("valid date"),
            future_tolerance: chrono::Duration::days(1),
        }
    }
}

impl DateBounds {
    /// Checks `at` against the bounds, `now` being the present; `earliest` is a day in the
    /// shop's zone `tz`.
    pub fn check(&self, field: &str, at: DateTime<Utc>, now: DateTime<Utc>, tz: Tz) -> Result<(), FieldError> {
        if local_date(at, tz) < self.earliest {
            return Err(FieldError::new(field, crate::Code::DateTooEarly).arg(self.earliest));
        }
        if at > now + self.future_tolerance {
            return Err(FieldError::new(field, crate::Code::DateInFuture));
        }
        Ok(())
    }
}

/// Sales channels an order can come from.
pub const CHANNELS: [&str; 6] = ["store", "ec", "phone", "event", "wholesale", "other"];

/// Where an order stands. Refunds and cancellations are entries of their own; the status is
/// derived from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Completed,
    Cancelled,
    Refunded,
    PartiallyRefunded,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
            Self::Refunded => "refunded",
            Self::PartiallyRefunded => "partially_refunded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "completed" => Some(Self::Completed),
            "cancelled" => Some(Self::Cancelled),
            "refunded" => Some(Self::Refunded),
            "partially_refunded" => Some(Self::PartiallyRefunded),
            _ => None,
        }
    }

    /// Status after `refunded` of `total` has been given back (`cancelled` wins).
    pub fn derive(total: i64, refunded: i64, cancelled: bool) -> Self {
        if cancelled {
            Self::Cancelled
        } else if refunded <= 0 {
            Self::Completed
        } else if refunded >= total {
            Self::Refunded
        } else {
            Self::PartiallyRefunded
        }
    }
}

/// One line item as submitted.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LineItemInput {
    #[serde(default)]
    pub sku: String,
    pub name: String,
    #[serde(default)]
    pub category: String,
    pub quantity: i64,
    /// Unit price in minor units (tax-inclusive unless the order says otherwise).
    pub unit_price: i64,
    /// Consumption tax rate in percent: 10 (standard), 8 (reduced) or 0.
    #[serde(default = "default_tax_rate")]
    pub tax_rate: i64,
}

fn default_tax_rate() -> i64 {
    10
}

/// An order as submitted through the API or built from CSV rows.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OrderInput {
    pub customer_id: i64,
    #[serde(default)]
    pub external_id: Option<String>,
    /// RFC 3339 timestamp or `YYYY-MM-DD`; defaults to now.
    #[serde(default)]
    pub ordered_at: Option<String>,
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
    /// Japanese shelf prices include consumption tax (総額表示); default true.
    #[serde(default)]
    pub prices_include_tax: Option<bool>,
    #[serde(default)]
    pub shipping: i64,
    #[serde(default)]
    pub discount: i64,
    #[serde(default)]
    pub note: String,
    pub items: Vec<LineItemInput>,
}

/// A validated line item with its amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineItem {
    pub sku: String,
    pub name: String,
    pub category: String,
    pub quantity: i64,
    pub unit_price: i64,
    pub tax_rate: i64,
    pub amount: i64,
}

/// A validated order with computed totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderDraft {
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
    pub note: String,
    pub items: Vec<LineItem>,
}

/// Parses an RFC 3339 timestamp, or a local date or date and time (read in the shop's zone
/// `tz`; a plain date is its midnight).
pub fn parse_timestamp(field: &str, input: &str, tz: Tz) -> Result<DateTime<Utc>, FieldError> {
    let s = input.trim();
    if let Some(t) = parse_plain_local(s, tz) {
        return Ok(t);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S%z", "%Y/%m/%d %H:%M:%S %z"] {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            return Ok(t.with_timezone(&Utc));
        }
    }
    for fmt in ["%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            return Ok(local_to_utc(t, tz));
        }
    }
    // A date alone, as people type it (2024年1月5日, R6/1/5, full-width digits).
    let date =
        crate::dates::parse_date(field, s).map_err(|_| FieldError::new(field, crate::Code::BadDateTime).arg(input))?;
    Ok(start_of_day(date, tz))
}

/// Fast path for the layouts shop systems export most (`YYYY-MM-DD`, `YYYY/MM/DD`, optionally
/// followed by ` HH:MM` or ` HH:MM:SS`), read as local time in the shop's zone. Anything else
/// (offsets, RFC 3339, odd spacing) goes to chrono's general parsers.
fn parse_plain_local(s: &str, tz: Tz) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(r)?;
        part.iter().all(u8::is_ascii_digit).then(|| part.iter().fold(0u32, |a, d| a * 10 + u32::from(d - b'0')))
    };
    if b.len() < 10 || !matches!(b[4], b'-' | b'/') || b[7] != b[4] {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    let (h, m, sec) = match b.len() {
        10 => (0, 0, 0),
        16 if matches!(b[10], b' ' | b'T') && b[13] == b':' => (num(11..13)?, num(14..16)?, 0),
        19 if matches!(b[10], b' ' | b'T') && b[13] == b':' && b[16] == b':' => {
            (num(11..13)?, num(14..16)?, num(17..19)?)
        }
        _ => return None,
    };
    Some(local_to_utc(date.and_hms_opt(h, m, sec)?, tz))
}

/// Consumption tax contained in a tax-inclusive amount, rounded down (per rate, once per order,
/// as インボイス制度 requires).
pub fn tax_included(amount: i64, rate_percent: i64) -> i64 {
    amount * rate_percent / (100 + rate_percent)
}

impl OrderInput {
    /// Validates the order and computes totals. `now` is used when `ordered_at` is absent;
    /// plain dates are read in the shop's time zone `tz`.
    pub fn validate(self, now: DateTime<Utc>, tz: Tz) -> Result<OrderDraft, FieldErrors> {
        self.validate_within(now, tz, &DateBounds::default())
    }

    /// [`OrderInput::validate`] with the shop's own bounds on order dates.
    pub fn validate_within(self, now: DateTime<Utc>, tz: Tz, dates: &DateBounds) -> Result<OrderDraft, FieldErrors> {
        use crate::text::{LONG_TEXT, SHORT_TEXT, check_text};
        use bounds::*;
        let mut errors = FieldErrors::default();
        if self.customer_id <= 0 {
            errors.push("customer_id", crate::Code::Required);
        }
        let external_id = self.external_id.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        if external_id.as_ref().is_some_and(|s| s.len() > 200) {
            errors.push("external_id", crate::Code::TooLong).with(200).with(external_id.as_deref().map_or(0, str::len));
        }
        if let Some(x) = &external_id {
            errors.take(check_text("external_id", x, 200));
        }
        errors.take(check_text("note", &self.note, LONG_TEXT));
        let ordered_at = match self.ordered_at.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => now,
            Some(s) => match errors.take(parse_timestamp("ordered_at", s, tz)) {
                Some(t) => {
                    errors.take(dates.check("ordered_at", t, now, tz));
                    t
                }
                None => now,
            },
        };
        let channel = match self.channel.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => "store".to_string(),
            Some(c) if CHANNELS.contains(&c) => c.to_string(),
            Some(c) => {
                errors.push("channel", crate::Code::NotOneOf).with(c).with(CHANNELS.join(", "));
                String::new()
            }
        };
        let currency = match self.currency.as_deref() {
            None => "JPY".to_string(),
            Some(c) => errors.take(validate_currency("currency", c)).unwrap_or_default(),
        };
        if self.items.is_empty() {
            errors.push("items", crate::Code::NeedItems);
        }
        if self.items.len() > MAX_LINES {
            errors.push("items", crate::Code::TooMany).with(MAX_LINES);
        }
        let mut items = Vec::with_capacity(self.items.len());
        for (i, it) in self.items.into_iter().enumerate() {
            let f = |name: &str| format!("items[{i}].{name}");
            if it.name.trim().is_empty() {
                errors.push(&f("name"), crate::Code::Required);
            }
            errors.take(check_text(&f("name"), &it.name, SHORT_TEXT));
            errors.take(check_text(&f("sku"), &it.sku, MAX_SKU));
            errors.take(check_text(&f("category"), &it.category, SHORT_TEXT));
            if !(1..=MAX_QUANTITY).contains(&it.quantity) {
                errors.push(&f("quantity"), crate::Code::Range).with(1).with(MAX_QUANTITY);
            }
            if !(0..=MAX_UNIT_PRICE).contains(&it.unit_price) {
                errors.push(&f("unit_price"), crate::Code::RangeYen).with(0).with(MAX_UNIT_PRICE);
            }
            if ![0, 8, 10].contains(&it.tax_rate) {
                errors.push(&f("tax_rate"), crate::Code::NotOneOf).with(it.tax_rate).with("10, 8, 0");
            }
            let amount = it.quantity.checked_mul(it.unit_price).filter(|a| *a <= MAX_LINE_AMOUNT);
            if amount.is_none()
                && (1..=MAX_QUANTITY).contains(&it.quantity)
                && (0..=MAX_UNIT_PRICE).contains(&it.unit_price)
            {
                errors.push(&f("quantity"), crate::Code::LineAmountTooLarge).with(MAX_LINE_AMOUNT);
            }
            items.push(LineItem {
                sku: it.sku.trim().to_string(),
                name: it.name.trim().to_string(),
                category: it.category.trim().to_string(),
                quantity: it.quantity,
                unit_price: it.unit_price,
                tax_rate: it.tax_rate,
                amount: amount.unwrap_or(0),
            });
        }
        if !(0..=MAX_CHARGE).contains(&self.shipping) {
            errors.push("shipping", crate::Code::RangeYen).with(0).with(MAX_CHARGE);
        }
        if !(0..=MAX_CHARGE).contains(&self.discount) {
            errors.push("discount", crate::Code::RangeYen).with(0).with(MAX_CHARGE);
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let prices_include_tax = self.prices_include_tax.unwrap_or(true);
        let subtotal: i64 = items.iter().map(|i| i.amount).sum();
        let mut tax = 0;
        for rate in [10, 8] {
            let group: i64 = items.iter().filter(|i| i.tax_rate == rate).map(|i| i.amount).sum();
            tax += if prices_include_tax { tax_included(group, rate) } else { group * rate / 100 };
        }
        let total = subtotal + self.shipping - self.discount + if prices_include_tax { 0 } else { tax };
        if total < 0 {
            errors.push("discount", crate::Code::DiscountOverTotal);
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(OrderDraft {
            customer_id: self.customer_id,
            external_id,
            ordered_at,
            channel,
            currency,
            prices_include_tax,
            subtotal,
            shipping: self.shipping,
            discount: self.discount,
            tax,
            total,
            note: self.note.trim().to_string(),
            items,
        })
    }
}

/// A refund (or a cancellation) as requested.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RefundInput {
    /// Amount to give back in minor units; absent means everything not yet refunded.
    #[serde(default)]
    pub amount: Option<i64>,
    #[serde(default)]
    pub reason: String,
}

/// Checks a refund against what the order still holds; returns the amount to record.
pub fn refund_amount(
    requested: Option<i64>,
    total: i64,
    refunded: i64,
    status: OrderStatus,
) -> Result<i64, FieldError> {
    if status == OrderStatus::Cancelled {
        return Err(FieldError::new("status", crate::Code::RefundCancelled));
    }
    let remaining = total - refunded;
    let amount = requested.unwrap_or(remaining);
    if amount <= 0 {
        return Err(FieldError::new("amount", crate::Code::RangeYen).arg(1).arg(remaining));
    }
    if amount > remaining {
        return Err(FieldError::new("amount", crate::Code::RefundOverRemaining).arg(remaining));
    }
    Ok(amount)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKYO: Tz = chrono_tz::Asia::Tokyo;

    fn item(qty: i64, price: i64, rate: i64) -> LineItemInput {
        LineItemInput { name: "商品".into(), quantity: qty, unit_price: price, tax_rate: rate, ..Default::default() }
    }

    #[test]
    fn totals_and_inclusive_tax_per_rate() {
        let o = OrderInput {
            customer_id: 1,
            items: vec![item(2, 1100, 10), item(1, 1080, 8)],
            shipping: 500,
            ..Default::default()
        }
        .validate(Utc::now(), TOKYO)
        .unwrap();
        assert_eq!(o.subtotal, 3280);
        assert_eq!(o.total, 3780);
        assert_eq!(o.tax, 200 + 80);
    }

    #[test]
    fn exclusive_tax_is_added() {
        let o = OrderInput {
            customer_id: 1,
            prices_include_tax: Some(false),
            items: vec![item(1, 1000, 10), item(3, 333, 8)],
            ..Default::default()
        }
        .validate(Utc::now(), TOKYO)
        .unwrap();
        assert_eq!(o.tax, 100 + 79);
        assert_eq!(o.total, 1999 + 179);
    }

    #[test]
    fn bad_items_are_named_by_index() {
        let e = OrderInput { customer_id: 1, items: vec![item(0, 100, 5)], ..Default::default() }
            .validate(Utc::now(), TOKYO)
            .unwrap_err();
        let fields: Vec<_> = e.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["items[0].quantity", "items[0].tax_rate"]);
    }

    #[test]
    fn dates_are_midnight_in_the_shop_zone() {
        let t = parse_timestamp("t", "2026-01-02", TOKYO).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-01-01T15:00:00+00:00");
        let t = parse_timestamp("t", "2026-01-02T10:00:00+09:00", chrono_tz::UTC).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-01-02T01:00:00+00:00");
        assert!(parse_timestamp("t", "yesterday", TOKYO).is_err());
        let t = parse_timestamp("t", "2026/01/02 10:30", TOKYO).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-01-02T01:30:00+00:00");
        let t = parse_timestamp("t", "2026-01-02 10:30:15", TOKYO).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-01-02T01:30:15+00:00");
        assert!(parse_timestamp("t", "2026-02-30", TOKYO).is_err(), "impossible dates are rejected");
        assert!(parse_timestamp("t", "2026-01-02 25:00", TOKYO).is_err());
        let t = parse_timestamp("t", "2026-04-01 10:00:00 +0900", chrono_tz::UTC).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-04-01T01:00:00+00:00", "an explicit offset wins over the shop zone");
    }

    #[test]
    fn refunds_respect_what_remains() {
        assert_eq!(refund_amount(None, 1000, 300, OrderStatus::PartiallyRefunded).unwrap(), 700);
        assert!(refund_amount(Some(800), 1000, 300, OrderStatus::PartiallyRefunded).is_err());
        assert!(refund_amount(Some(1), 1000, 0, OrderStatus::Cancelled).is_err());
        assert_eq!(OrderStatus::derive(1000, 1000, false), OrderStatus::Refunded);
        assert_eq!(OrderStatus::derive(1000, 10, false), OrderStatus::PartiallyRefunded);
    }
}
