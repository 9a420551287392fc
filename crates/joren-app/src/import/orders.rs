//! Order rows: rows grouped into orders (one order a run of rows with the same number), their
//! customers found or made, and orders written in batches while the next batch is read.

use super::customers::{CustomerResolver, apply_leniently, note, parse_flag, split_name};
use super::*;
use joren_core::fingerprint::Fingerprint;
use joren_core::money::parse_amount;
use joren_core::order::{LineItemInput, OrderInput};

use crate::sha256_hex;

impl App {
    pub(super) async fn import_orders<R: Read + Send>(
        &self,
        o: &mut Opened<R>,
        system: &str,
        options: &ImportOptions,
        report: &mut ImportReport,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<()> {
        if o.mapping.get("ordered_at").is_none() {
            return Err(FieldError::new("mapping", Code::NeedOrderDateColumn).into());
        }
        if o.mapping.get("unit_price").is_none() && o.mapping.get("line_amount").is_none() {
            return Err(FieldError::new("mapping", Code::NeedPriceColumn).into());
        }
        let mut deferred_indexes = false;
        let result = self.load_orders(o, system, options, report, progress, &mut deferred_indexes).await;
        if deferred_indexes {
            // Also after a failed load: the rows that landed need their indexes. A bulk load
            // is most of the rows: the kept counts start again from it.
            self.store.ensure_order_indexes().await?;
            self.store.refresh_row_counts().await?;
        }
        result
    }

    /// The body of [`App::import_orders`]: reads, stages and writes the orders batch by batch.
    /// Sets `deferred_indexes` when it dropped the order indexes for a bulk load.
    async fn load_orders<R: Read + Send>(
        &self,
        o: &mut Opened<R>,
        system: &str,
        options: &ImportOptions,
        report: &mut ImportReport,
        progress: &mut (dyn FnMut(u64) + Send),
        deferred_indexes: &mut bool,
    ) -> Result<()> {
        let shopify = o.preset == "shopify";
        let mut resolver = CustomerResolver::new(system);
        resolver.preload(self).await?;
        let mut batch = OrderBatch::default();
        let mut in_flight = None;
        let mut first_flush = true;
        let mut group: Vec<(u64, csv::StringRecord)> = Vec::new();
        let mut group_key: Option<String> = None;
        let mut seen_synthetic: HashMap<String, u32> = HashMap::new();
        let mut rec = csv::StringRecord::new();
        // Orders with a row rejected while reading (its line): their other rows are rejected too,
        // so no order is imported with a line missing.
        let mut rejected_orders: HashMap<String, u64> = HashMap::new();
        loop {
            let Some(more) = read_row(o, &mut rec, report) else {
                if let (Some(id), Some(r)) =
                    (Row { rec: &rec, mapping: &o.mapping }.get("order_id"), report.rejected.last())
                {
                    rejected_orders.entry(id.to_string()).or_insert(r.line);
                }
                continue;
            };
            let key = if more {
                report.rows += 1;
                if rec.iter().all(|c| c.trim().is_empty()) {
                    continue;
                }
                let row = Row { rec: &rec, mapping: &o.mapping };
                Some(row.get("order_id").map(str::to_string).unwrap_or_else(|| format!("\u{0}row{}", report.rows)))
            } else {
                None
            };
            if !group.is_empty() && key != group_key {
                let rows = std::mem::take(&mut group);
                if let Some(bad) = group_key.as_ref().and_then(|k| rejected_orders.get(k)) {
                    for (l, r) in &rows {
                        let reason = FieldError::new("", Code::OrderLineRefused).arg(bad);
                        report.rejected.push(Reject::new(*l, reason, record_cells(r)));
                    }
                    let Some(key) = key else { break };
                    let line = rec.position().map(|p| p.line()).unwrap_or(report.rows + 1);
                    group.push((line, rec.clone()));
                    group_key = Some(key);
                    continue;
                }
                self.stage_order(
                    &rows,
                    &o.mapping,
                    system,
                    shopify,
                    &mut resolver,
                    &mut batch,
                    &mut seen_synthetic,
                    report,
                )
                .await?;
                if batch.len() >= options.batch_size {
                    if std::mem::take(&mut first_flush) && self.store.count_orders().await? < options.batch_size as i64
                    {
                        // A file larger than one batch into a (nearly) empty store: an initial
                        // load, whose order indexes are cheaper built once at the end.
                        self.store.defer_order_indexes().await?;
                        *deferred_indexes = true;
                    }
                    self.flush_orders(&mut resolver, &mut batch, &mut in_flight, report).await?;
                    progress(report.rows);
                }
            }
            let Some(key) = key else { break };
            let line = rec.position().map(|p| p.line()).unwrap_or(report.rows + 1);
            group.push((line, rec.clone()));
            group_key = Some(key);
        }
        self.flush_orders(&mut resolver, &mut batch, &mut in_flight, report).await?;
        finish_write(&mut in_flight, report).await?;
        let source = format!("import:{system}");
        for id in std::mem::take(&mut batch.consent_if_unrecorded) {
            let c = self.store.get_customer(id).await?;
            if !c.consents.iter().any(|c| c.channel == "email") {
                self.store.set_consent(id, "email", true, &source, None, None).await?;
            }
        }
        if !rejected_orders.is_empty() {
            report.rejected.sort_by_key(|r| r.line); // the rows of an order rejected late, in place
        }
        progress(report.rows);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn stage_order(
        &self,
        rows: &[(u64, csv::StringRecord)],
        mapping: &Mapping,
        system: &str,
        shopify: bool,
        resolver: &mut CustomerResolver,
        batch: &mut OrderBatch,
        seen_synthetic: &mut HashMap<String, u32>,
        report: &mut ImportReport,
    ) -> Result<()> {
        let (first_line, first) = &rows[0];
        let head = Row { rec: first, mapping };
        let reject = |report: &mut ImportReport, line: u64, reasons: Vec<FieldError>| {
            for (l, r) in rows {
                let why = if *l == line {
                    reasons.clone()
                } else {
                    vec![FieldError::new("", Code::OrderLineRefused).arg(line)]
                };
                report.rejected.push(Reject { line: *l, reasons: why, record: record_cells(r) });
            }
        };
        let currency = head.get("currency").unwrap_or("JPY").to_uppercase();
        let mut items = Vec::new();
        for (line, rec) in rows {
            let row = Row { rec, mapping };
            match line_item(&row, &currency) {
                Ok(item) => items.push(item),
                Err(e) => {
                    reject(report, *line, vec![e]);
                    return Ok(());
                }
            }
        }
        let money = |field: &str| -> Result<i64, joren_core::FieldError> {
            head.get(field).map(|v| parse_amount(field, v, &currency)).transpose().map(|v| v.unwrap_or(0))
        };
        let (shipping, discount, refunded) = match (money("shipping"), money("discount"), money("refunded_amount")) {
            (Ok(s), Ok(d), Ok(r)) => (s, d, r),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                reject(report, *first_line, vec![e]);
                return Ok(());
            }
        };
        let channel = head.get("channel").map(|c| normalize_channel(c, shopify));
        let status = head.get("status").map(str::to_lowercase);
        let cancelled = head.get("cancelled_at").is_some()
            || matches!(status.as_deref(), Some("cancelled" | "canceled" | "キャンセル" | "voided" | "取消"));
        let full_refund = matches!(status.as_deref(), Some("refunded" | "返品" | "返金" | "返金済み"));
        let mut input = OrderInput {
            customer_id: 1,
            external_id: head.get("order_id").map(str::to_string),
            ordered_at: head.get("ordered_at").map(str::to_string),
            channel,
            currency: Some(currency.clone()),
            prices_include_tax: Some(true),
            shipping,
            discount,
            note: String::new(),
            items,
        };
        if input.ordered_at.is_none() {
            reject(report, *first_line, vec![FieldError::new("ordered_at", Code::Required)]);
            return Ok(());
        }
        if input.external_id.is_none() {
            // No order id column: derive a stable id from the content, so a re-run matches.
            let content = serde_json::to_string(&(head.get("customer_external_id"), head.get("email"), &input))
                .unwrap_or_default();
            let digest = sha256_hex(content.as_bytes());
            let n = seen_synthetic.entry(digest.clone()).or_insert(0);
            *n += 1;
            input.external_id = Some(format!("{system}:{}:{n}", &digest[..24]));
        }
        let customer_external_id = head.get("customer_external_id");
        let OrderCustomer { profile, consents, changed, dropped } = match order_customer(&head) {
            Ok(c) => c,
            Err(why) => {
                reject(report, *first_line, why);
                return Ok(());
            }
        };
        let customer = match resolver.lookup(customer_external_id, &profile) {
            Some(id) => {
                if !consents.is_empty() {
                    batch.consent_if_unrecorded.insert(id);
                }
                CustomerRef::Known(id)
            }
            None => match resolver.pending_index(customer_external_id, &profile) {
                Some(i) => CustomerRef::Pending(i),
                None => {
                    // The customer is made from this row: say what was read differently.
                    note(report, *first_line, changed, dropped);
                    let mut p = profile;
                    p.acquisition_source = Some(if shopify { "ec".into() } else { "other".into() });
                    CustomerRef::Pending(resolver.queue(customer_external_id, p, consents))
                }
            },
        };
        // The fingerprint of an imported order is its content without the (not yet known)
        // customer id; an API retry with the same order id but other contents is a conflict.
        let hash = Fingerprint::of_json(&input);
        let draft = match input.validate_within(self.now(), self.tz(), &self.config.order_dates) {
            Ok(d) => d,
            Err(errors) => {
                reject(report, *first_line, errors.0);
                return Ok(());
            }
        };
        batch.orders.push(StagedOrder { draft, hash, customer, cancelled, full_refund, refunded });
        Ok(())
    }

    /// Creates the batch's new customers, then starts writing its orders in the background and
    /// returns, so the next batch is parsed while this one is written (the CSV work and
    /// SQLite's work run on the two cores). The previous batch's write is finished first: one
    /// writer at a time, batches land in file order, and a failed write stops the import.
    async fn flush_orders(
        &self,
        resolver: &mut CustomerResolver,
        batch: &mut OrderBatch,
        in_flight: &mut Option<OrderWrite>,
        report: &mut ImportReport,
    ) -> Result<()> {
        finish_write(in_flight, report).await?;
        let new_ids = resolver.flush(self).await?;
        report.customers_created += new_ids.len() as u64;
        let (drafts, staged): (Vec<_>, Vec<_>) = std::mem::take(&mut batch.orders)
            .into_iter()
            .map(|s| {
                let mut draft = s.draft;
                draft.customer_id = match s.customer {
                    CustomerRef::Known(id) => id,
                    CustomerRef::Pending(i) => new_ids[i],
                };
                ((draft, s.hash), (s.cancelled, s.full_refund, s.refunded))
            })
            .unzip();
        let store = self.store.clone();
        *in_flight = Some(tokio::spawn(async move {
            let inserted = store.insert_orders_batch(&drafts).await?;
            let (mut created, mut skipped) = (0, 0);
            for ((cancelled, full_refund, refunded), id) in staged.into_iter().zip(inserted) {
                let Some(id) = id else {
                    skipped += 1;
                    continue;
                };
                created += 1;
                if cancelled {
                    store.adjust_order(id, joren_store::Adjustment::history(true, None, "取込: キャンセル")).await?;
                } else if full_refund {
                    store.adjust_order(id, joren_store::Adjustment::history(false, None, "取込: 返金")).await?;
                } else if refunded > 0 {
                    store
                        .adjust_order(id, joren_store::Adjustment::history(false, Some(refunded), "取込: 一部返金"))
                        .await?;
                }
            }
            Ok((created, skipped))
        }));
        Ok(())
    }
}

/// A batch of orders being written: (created, already imported) when done.
type OrderWrite = tokio::task::JoinHandle<Result<(u64, u64)>>;

/// Waits for the batch being written, if any, and counts what it did.
async fn finish_write(in_flight: &mut Option<OrderWrite>, report: &mut ImportReport) -> Result<()> {
    if let Some(write) = in_flight.take() {
        let (created, skipped) = write.await.map_err(|e| AppError::Internal(format!("import writer: {e}")))??;
        report.created += created;
        report.skipped_existing += skipped;
    }
    Ok(())
}

/// The customer an order row names (by id, email or phone) and what a new record of them
/// holds: name, company, address, and email consent when the file says they accept
/// marketing ("no" records nothing: it is not an opt-out).
struct OrderCustomer {
    profile: CustomerProfile,
    consents: Vec<(String, bool)>,
    changed: Vec<FieldError>,
    dropped: Vec<FieldError>,
}

/// Reads an order row's customer. Without a customer id, an unusable email or phone rejects
/// the row (it is what finds the customer); otherwise an unreadable optional value is left
/// out and noted.
fn order_customer(head: &Row<'_>) -> Result<OrderCustomer, Vec<FieldError>> {
    let external_id = head.get("customer_external_id");
    if external_id.is_none() && head.get("email").is_none() && head.get("phone").is_none() {
        return Err(vec![FieldError::new("customer_external_id", Code::NeedNameOrContact)]);
    }
    let s = |f: &str| head.get(f).map(str::to_string);
    // A customer known only by the shop system's id is named by it ("顧客 C1").
    let name = head.get("customer_name").map(split_name).or_else(|| {
        external_id.filter(|_| head.get("company_name").is_none()).map(|x| (format!("顧客 {x}"), String::new()))
    });
    let input = CustomerInput {
        family_name: name.as_ref().map(|n| n.0.clone()),
        given_name: name.as_ref().map(|n| n.1.clone()),
        company_name: s("company_name"),
        email: s("email"),
        phone: s("phone"),
        postal_code: s("postal_code"),
        prefecture: s("prefecture"),
        city: s("city"),
        street: s("street"),
        building: s("building"),
        address: s("address"),
        ..Default::default()
    };
    let (_, profile, changed, dropped) = apply_leniently(input, CustomerProfile::default()).map_err(|e| e.0)?;
    if external_id.is_none() && dropped.iter().any(|e| e.field == "email" || e.field == "phone") {
        return Err(dropped.into_iter().filter(|e| e.field == "email" || e.field == "phone").collect());
    }
    let mut consents = Vec::new();
    let mut dropped = dropped;
    if let Some(v) = head.get("accepts_marketing") {
        match parse_flag("accepts_marketing", v) {
            Ok(true) => consents.push(("email".to_string(), true)),
            Ok(false) => {}
            Err(e) => dropped.push(e),
        }
    }
    Ok(OrderCustomer { profile, consents, changed, dropped })
}

enum CustomerRef {
    Known(i64),
    Pending(usize),
}

struct StagedOrder {
    draft: joren_core::order::OrderDraft,
    hash: Fingerprint,
    customer: CustomerRef,
    cancelled: bool,
    full_refund: bool,
    refunded: i64,
}

#[derive(Default)]
struct OrderBatch {
    orders: Vec<StagedOrder>,
    /// Customers already known whose rows say they accept marketing mail: given email consent
    /// at the end of the import if they have no recorded choice (an opt-out is never undone).
    consent_if_unrecorded: std::collections::BTreeSet<i64>,
}

impl OrderBatch {
    fn len(&self) -> usize {
        self.orders.len()
    }
}

fn normalize_channel(c: &str, shopify: bool) -> String {
    let v = c.trim().to_lowercase();
    if shopify {
        return match v.as_str() {
            "pos" => "store",
            "web" | "shopify_draft_order" | "android" | "iphone" => "ec",
            _ => "other",
        }
        .into();
    }
    match v.as_str() {
        "店舗" | "実店舗" | "store" | "pos" => "store".into(),
        "ec" | "通販" | "オンライン" | "web" | "online" | "ネット" => "ec".into(),
        "電話" | "phone" => "phone".into(),
        "イベント" | "event" => "event".into(),
        "卸" | "wholesale" => "wholesale".into(),
        _ => "other".into(),
    }
}

fn parse_tax_rate(v: &str) -> Result<i64, joren_core::FieldError> {
    let s = v.trim().trim_end_matches('%').trim();
    match s {
        "10" | "0.1" | "0.10" | "標準" => Ok(10),
        "8" | "0.08" | "軽減" => Ok(8),
        "0" | "非課税" | "対象外" => Ok(0),
        _ => Err(FieldError::new("tax_rate", Code::NotOneOf).arg(v).arg("10, 8, 0")),
    }
}

fn line_item(row: &Row<'_>, currency: &str) -> Result<LineItemInput, joren_core::FieldError> {
    let quantity = match row.get("quantity") {
        None => 1,
        Some(q) => {
            q.replace(',', "").parse::<i64>().map_err(|_| FieldError::new("quantity", Code::BadNumber).arg(q))?
        }
    };
    let unit_price = match (row.get("unit_price"), row.get("line_amount")) {
        (Some(p), _) => parse_amount("unit_price", p, currency)?,
        (None, Some(a)) => {
            let amount = parse_amount("line_amount", a, currency)?;
            if quantity > 0 && amount % quantity == 0 {
                amount / quantity
            } else {
                return Err(FieldError::new("line_amount", Code::NotDivisible).arg(a).arg(quantity));
            }
        }
        (None, None) => return Err(FieldError::new("unit_price", Code::Required)),
    };
    let tax_rate = row.get("tax_rate").map(parse_tax_rate).transpose()?.unwrap_or(10);
    let name = row.get("item_name").or(row.get("sku")).unwrap_or(joren_core::order::AMOUNT_ONLY_ITEM_NAME).to_string();
    Ok(LineItemInput {
        sku: row.get("sku").unwrap_or_default().to_string(),
        name,
        category: row.get("category").unwrap_or_default().to_string(),
        quantity,
        unit_price,
        tax_rate,
    })
}
