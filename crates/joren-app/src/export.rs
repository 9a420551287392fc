//! CSV export of customers and orders: UTF-8 with BOM (Excel opens it correctly) and every
//! cell escaped against spreadsheet formula injection.

use std::io::Write;

use joren_core::csv_safety::escape_formula;

use crate::{Actor, App, AppError, Result};

const PAGE: i64 = 500;

/// How an export names its columns and shows coded values (kind, gender, acquisition source,
/// consents, order channel and status): in words for people (the web layer's words, Japanese
/// by default) or as [`Codes`] for machines. The words are chosen so that Joren's own import
/// reads the file back.
pub trait ExportWords: Send + Sync {
    /// The header of the column holding `field` (a field code such as `family_name`).
    fn header(&self, field: &str) -> String;
    /// `code` of `field` in words (`consent_*`: `1`/`0`).
    fn value(&self, field: &str, code: &str) -> String;
}

/// Field codes as headers and codes as values: the layout for machines.
pub struct Codes;

impl ExportWords for Codes {
    fn header(&self, field: &str) -> String {
        field.to_string()
    }

    fn value(&self, _: &str, code: &str) -> String {
        code.to_string()
    }
}

/// The customer file's columns, in order.
pub const CUSTOMER_COLUMNS: [&str; 26] = [
    "id",
    "kind",
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "company_name",
    "email",
    "phone",
    "postal_code",
    "prefecture",
    "city",
    "street",
    "building",
    "birthday",
    "gender",
    "tags",
    "notes",
    "preferences",
    "acquisition_source",
    "acquisition_campaign",
    "consent_email",
    "consent_sms",
    "consent_line",
    "consent_dm",
    "created_at",
];

/// What a segment export adds after [`CUSTOMER_COLUMNS`]: each customer's standing (purchases,
/// segment, rank, points) for the campaign the list is made for.
pub const STANDING_COLUMNS: [&str; 6] = ["order_count", "total_spent", "last_order_at", "segment", "rank", "points"];

/// The orders file's columns, in order (one row per line item).
pub const ORDER_COLUMNS: [&str; 21] = [
    "order_id",
    "joren_order_id",
    "customer_id",
    "ordered_at",
    "channel",
    "status",
    "currency",
    "subtotal",
    "shipping",
    "discount",
    "tax",
    "total",
    "refunded",
    "line_no",
    "sku",
    "item_name",
    "category",
    "quantity",
    "unit_price",
    "tax_rate",
    "line_amount",
];

fn writer<W: Write>(mut out: W) -> Result<csv::Writer<W>> {
    out.write_all(b"\xEF\xBB\xBF").map_err(|e| AppError::Io(e.to_string()))?;
    Ok(csv::Writer::from_writer(out))
}

fn row<W: Write>(w: &mut csv::Writer<W>, cells: &[String]) -> Result<()> {
    w.write_record(cells.iter().map(|c| escape_formula(c).into_owned())).map_err(|e| AppError::Io(e.to_string()))
}

impl App {
    /// Writes every live customer, its columns and coded values named by `words`. Returns the
    /// number of rows.
    pub async fn export_customers<W: Write>(&self, actor: &Actor, out: W, words: &dyn ExportWords) -> Result<u64> {
        let n = self.write_customers(out, None, false, words).await?;
        self.audit(actor, "export", "customers", "", serde_json::json!({"rows": n})).await?;
        Ok(n)
    }

    /// Writes the customers a saved segment selects now, in the layout of
    /// [`App::export_customers`] followed by their standing ([`STANDING_COLUMNS`]: purchases,
    /// last purchase, segment, rank, points). Returns the number of rows.
    pub async fn export_segment<W: Write>(
        &self,
        actor: &Actor,
        segment_id: i64,
        out: W,
        words: &dyn ExportWords,
    ) -> Result<u64> {
        let saved = self.saved_segment(segment_id).await?;
        let ids = self.segment_customer_ids(&saved.filter).await?;
        let n = self.write_customers(out, Some(ids), true, words).await?;
        self.audit(actor, "export", "segment", segment_id, serde_json::json!({"name": saved.name, "rows": n})).await?;
        Ok(n)
    }

    /// Writes the customer CSV: every live customer, or the given ones; with `standing`, each
    /// customer's [`STANDING_COLUMNS`] too.
    async fn write_customers<W: Write>(
        &self,
        out: W,
        only: Option<Vec<i64>>,
        standing: bool,
        words: &dyn ExportWords,
    ) -> Result<u64> {
        let mut w = writer(out)?;
        let mut header: Vec<String> = CUSTOMER_COLUMNS.iter().map(|c| words.header(c)).collect();
        let programme = self.points_programme().await?;
        if standing {
            header.extend(STANDING_COLUMNS.iter().map(|c| words.header(c)));
        }
        row(&mut w, &header)?;
        let today = self.today_date();
        let mut after = 0;
        let mut n = 0;
        let mut chosen = only.map(|ids| ids.into_iter());
        loop {
            let page = match chosen.as_mut() {
                None => self.store.customers_after(after, PAGE).await?,
                Some(ids) => {
                    let page: Vec<i64> = ids.by_ref().take(PAGE as usize).collect();
                    let mut found = self.store.customers_by_ids(&page).await?;
                    found.sort_by_key(|c| c.id);
                    found
                }
            };
            if page.is_empty() {
                break;
            }
            let standings = if standing {
                let ids: Vec<i64> = page.iter().map(|c| c.id).collect();
                self.store.customer_standing(&ids, today).await?
            } else {
                Vec::new()
            };
            for c in &page {
                let p = &c.profile;
                let consent = |ch: &str| {
                    c.consents
                        .iter()
                        .find(|s| s.channel == ch)
                        .map(|s| words.value(&format!("consent_{ch}"), if s.granted { "1" } else { "0" }))
                        .unwrap_or_default()
                };
                let coded =
                    |field: &str, v: &Option<String>| v.as_deref().map(|v| words.value(field, v)).unwrap_or_default();
                let o = |v: &Option<String>| v.clone().unwrap_or_default();
                row(
                    &mut w,
                    &[
                        c.id.to_string(),
                        words.value("kind", p.kind.as_str()),
                        p.family_name.clone(),
                        p.given_name.clone(),
                        p.family_name_kana.clone(),
                        p.given_name_kana.clone(),
                        p.company_name.clone(),
                        o(&p.email),
                        p.phone.as_deref().map(joren_core::phone::display_phone).unwrap_or_default(),
                        o(&p.postal_code),
                        o(&p.prefecture),
                        o(&p.city),
                        o(&p.street),
                        o(&p.building),
                        p.birthday.map(|d| d.to_string()).unwrap_or_default(),
                        coded("gender", &p.gender),
                        p.tags.join(","),
                        p.notes.clone(),
                        p.preferences.clone(),
                        coded("acquisition_source", &p.acquisition_source),
                        o(&p.acquisition_campaign),
                        consent("email"),
                        consent("sms"),
                        consent("line"),
                        consent("dm"),
                        self.local_time(c.created_at),
                    ]
                    .into_iter()
                    .chain(
                        standings
                            .iter()
                            .find(|s| s.id == c.id)
                            .map(|s| self.standing_cells(s, &programme, words))
                            .into_iter()
                            .flatten(),
                    )
                    .collect::<Vec<_>>(),
                )?;
                n += 1;
            }
            after = page.last().map(|c| c.id).unwrap_or(after);
        }
        w.flush().map_err(|e| AppError::Io(e.to_string()))?;
        Ok(n)
    }

    /// A customer's [`STANDING_COLUMNS`] cells: a rank only where ranks are on (a customer
    /// without a rank row holds the first tier).
    fn standing_cells(
        &self,
        s: &joren_store::CustomerStanding,
        programme: &joren_core::programme::Programme,
        words: &dyn ExportWords,
    ) -> Vec<String> {
        let rank = if programme.ranks.enabled {
            s.rank.clone().or_else(|| programme.ranks.tiers.first().map(|t| t.name.clone())).unwrap_or_default()
        } else {
            String::new()
        };
        vec![
            s.orders.to_string(),
            s.spent.to_string(),
            s.last_order_at.map(|t| self.local_time(t)).unwrap_or_default(),
            s.segment.as_deref().map(|c| words.value("segment", c)).unwrap_or_default(),
            rank,
            s.points.to_string(),
        ]
    }

    /// Writes every order, one row per line item, its columns and coded values named by
    /// `words`. Returns the number of orders.
    pub async fn export_orders<W: Write>(&self, actor: &Actor, out: W, words: &dyn ExportWords) -> Result<u64> {
        let mut w = writer(out)?;
        let header = ORDER_COLUMNS.map(|c| words.header(c));
        row(&mut w, &header)?;
        let mut after = 0;
        let mut n = 0;
        loop {
            let page = self.store.orders_after(after, PAGE).await?;
            if page.is_empty() {
                break;
            }
            for o in &page {
                let ordered_at = o.ordered_at.with_timezone(&self.config.time_zone).to_rfc3339();
                for it in &o.items {
                    row(
                        &mut w,
                        &[
                            o.external_id.clone().unwrap_or_else(|| format!("joren-{}", o.id)),
                            o.id.to_string(),
                            o.customer_id.to_string(),
                            ordered_at.clone(),
                            words.value("channel", &o.channel),
                            words.value("status", o.status.as_str()),
                            o.currency.clone(),
                            o.subtotal.to_string(),
                            o.shipping.to_string(),
                            o.discount.to_string(),
                            o.tax.to_string(),
                            o.total.to_string(),
                            o.refunded.to_string(),
                            it.line_no.to_string(),
                            it.sku.clone(),
                            it.name.clone(),
                            it.category.clone(),
                            it.quantity.to_string(),
                            it.unit_price.to_string(),
                            it.tax_rate.to_string(),
                            it.amount.to_string(),
                        ],
                    )?;
                }
                n += 1;
            }
            after = page.last().map(|o| o.id).unwrap_or(after);
        }
        w.flush().map_err(|e| AppError::Io(e.to_string()))?;
        self.audit(actor, "export", "orders", "", serde_json::json!({"rows": n})).await?;
        Ok(n)
    }
}
