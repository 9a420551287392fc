//! CSV import of customers and orders: encoding detected (UTF-8 or Shift_JIS), columns mapped
//! from headers or a preset, every row validated; bad rows are rejected with their line number
//! and reason while good rows are kept; a re-run of the same file creates no duplicates
//! (customers are matched by external id, email or phone; orders by order id).

pub mod decode;
pub mod mapping;

use std::collections::HashMap;
use std::io::Read;

use joren_core::customer::{CustomerInput, CustomerProfile};
use joren_core::money::parse_amount;
use joren_core::order::{LineItemInput, OrderInput};
use joren_store::ExternalId;
use serde::Serialize;

use crate::{Actor, App, AppError, Result, sha256_hex};
use mapping::{CUSTOMER_FIELDS, Mapping, ORDER_FIELDS, SHOPIFY_ORDERS, looks_like_shopify};

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportKind {
    Customers,
    Orders,
}

impl ImportKind {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "customers" => Some(Self::Customers),
            "orders" => Some(Self::Orders),
            _ => None,
        }
    }

    fn fields(self) -> &'static [(&'static str, &'static [&'static str])] {
        match self {
            Self::Customers => CUSTOMER_FIELDS,
            Self::Orders => ORDER_FIELDS,
        }
    }
}

/// How to read a file.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub kind: ImportKind,
    /// `generic` (detect from headers) or `shopify`; `None` detects Shopify by its headers.
    pub preset: Option<String>,
    /// `field = header` overrides of the detected mapping.
    pub overrides: Vec<(String, String)>,
    /// Name of the system the file's ids come from (external ids are namespaced by it).
    pub source_system: Option<String>,
    /// Rows per transaction.
    pub batch_size: usize,
}

impl ImportOptions {
    pub fn new(kind: ImportKind) -> Self {
        Self { kind, preset: None, overrides: Vec::new(), source_system: None, batch_size: 1000 }
    }
}

/// A rejected row: its line in the file (1 = header), why, and its cells.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Reject {
    pub line: u64,
    pub reason: String,
    pub record: Vec<String>,
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct ImportReport {
    pub encoding: String,
    pub preset: String,
    pub headers: Vec<String>,
    /// Field → header it was read from.
    pub mapping: Vec<(String, String)>,
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Orders already imported by an earlier run (matched by order id).
    pub skipped_existing: u64,
    /// Customers created on the fly while importing orders.
    pub customers_created: u64,
    /// Some lines were in another encoding than the file's (each such row is rejected).
    #[serde(default)]
    pub mixed_encoding: bool,
    pub rejected: Vec<Reject>,
}

/// What the import page shows before running: encoding, mapping and the first rows.
#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    pub encoding: String,
    pub preset: String,
    pub headers: Vec<String>,
    pub mapping: Vec<(String, String)>,
    pub unmapped_fields: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

struct Opened<R: Read> {
    reader: csv::Reader<R>,
    /// What the decoder found (lines in the wrong encoding, a quote never closed).
    findings: decode::SharedFindings,
    headers: Vec<String>,
    mapping: Mapping,
    encoding: &'static encoding_rs::Encoding,
    preset: String,
}

fn open<R: Read + Send>(mut input: R, options: &ImportOptions) -> Result<Opened<impl Read + Send>> {
    let mut head = vec![0u8; 64 * 1024];
    let mut n = 0;
    while n < head.len() {
        let k = input.read(&mut head[n..]).map_err(|e| AppError::Io(e.to_string()))?;
        if k == 0 {
            break;
        }
        n += k;
    }
    head.truncate(n);
    let encoding = decode::detect_encoding(&head);
    let findings = decode::SharedFindings::default();
    let text = decode::utf8_reader(std::io::Cursor::new(head).chain(input), encoding, findings.clone());
    let mut reader = csv::ReaderBuilder::new().flexible(true).has_headers(true).from_reader(text);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| AppError::Io(format!("ヘッダー行が読めません: {e}")))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    if headers.iter().all(|h| h.is_empty()) {
        return Err(joren_core::FieldError::new("file", "ヘッダー行がありません").into());
    }
    let fields = options.kind.fields();
    let preset = match options.preset.as_deref() {
        Some("shopify") => "shopify",
        Some("generic") => "generic",
        Some(other) => {
            return Err(joren_core::FieldError::new(
                "preset",
                format!("preset {other} は使えません (generic, shopify)"),
            )
            .into());
        }
        None if options.kind == ImportKind::Orders && looks_like_shopify(&headers) => "shopify",
        None => "generic",
    };
    let mut mapping = if preset == "shopify" {
        if options.kind != ImportKind::Orders {
            return Err(joren_core::FieldError::new("preset", "shopify プリセットは注文ファイル用です").into());
        }
        Mapping::preset(&headers, SHOPIFY_ORDERS)
    } else {
        Mapping::detect(&headers, fields)
    };
    mapping
        .override_with(&headers, &options.overrides, fields)
        .map_err(|m| joren_core::FieldError::new("mapping", m))?;
    Ok(Opened { reader, findings, headers, mapping, encoding, preset: preset.to_string() })
}

fn mapping_names(m: &Mapping, headers: &[String]) -> Vec<(String, String)> {
    m.columns.iter().map(|(f, i)| (f.to_string(), headers[*i].clone())).collect()
}

/// Reads the head of a file and reports how it would be imported.
pub fn preview(bytes: &[u8], options: &ImportOptions) -> Result<Preview> {
    let mut o = open(bytes, options)?;
    let mut rows = Vec::new();
    for rec in o.reader.records().take(5) {
        let rec = rec.map_err(|e| AppError::Io(e.to_string()))?;
        rows.push(rec.iter().map(str::to_string).collect());
    }
    let fields = options.kind.fields();
    let unmapped_fields =
        fields.iter().filter(|(f, _)| o.mapping.get(f).is_none()).map(|(f, _)| f.to_string()).collect();
    Ok(Preview {
        encoding: o.encoding.name().to_string(),
        preset: o.preset.clone(),
        mapping: mapping_names(&o.mapping, &o.headers),
        headers: o.headers,
        unmapped_fields,
        rows,
    })
}

/// Writes the rejects as CSV (UTF-8 with BOM): line, reason, then the row's cells.
pub fn write_rejects<W: std::io::Write>(mut out: W, headers: &[String], rejects: &[Reject]) -> std::io::Result<()> {
    out.write_all(b"\xEF\xBB\xBF")?;
    // Rejected rows keep their own shape (a ragged row is one of the reasons to reject).
    let mut w = csv::WriterBuilder::new().flexible(true).from_writer(out);
    let mut head = vec!["line".to_string(), "reason".to_string()];
    head.extend(headers.iter().cloned());
    w.write_record(&head)?;
    for r in rejects {
        let mut row = vec![r.line.to_string(), r.reason.clone()];
        row.extend(r.record.iter().map(|c| joren_core::csv_safety::escape_formula(c).into_owned()));
        w.write_record(&row)?;
    }
    w.flush()
}

struct Row<'a> {
    rec: &'a csv::StringRecord,
    mapping: &'a Mapping,
}

impl Row<'_> {
    fn get(&self, field: &str) -> Option<&str> {
        self.mapping.get(field).and_then(|i| self.rec.get(i)).map(str::trim).filter(|s| !s.is_empty())
    }
}

fn split_name(full: &str) -> (String, String) {
    let mut parts = full.split(|c: char| c.is_whitespace()).filter(|s| !s.is_empty());
    let first = parts.next().unwrap_or_default().to_string();
    let rest: Vec<&str> = parts.collect();
    (first, rest.join(" "))
}

fn parse_flag(field: &str, v: &str) -> Result<bool, joren_core::FieldError> {
    match v.trim().to_lowercase().as_str() {
        "1" | "true" | "yes" | "y" | "はい" | "可" | "許可" | "希望" | "希望する" | "○" | "〇" | "済" => {
            Ok(true)
        }
        "0" | "false" | "no" | "n" | "いいえ" | "不可" | "拒否" | "希望しない" | "×" | "否" => Ok(false),
        _ => Err(joren_core::FieldError::new(field, format!("はい/いいえ として読めません: {v}"))),
    }
}

/// A customers-file row: the fields as given, the validated profile, and consents.
type ParsedCustomer = (CustomerInput, CustomerProfile, Vec<(String, bool)>);

/// The customer fields of a row, validated into a profile; every bad field is reported.
fn customer_row(row: &Row<'_>) -> Result<ParsedCustomer, joren_core::FieldErrors> {
    let mut errors = joren_core::FieldErrors::default();
    let s = |f: &str| row.get(f).map(str::to_string);
    let mut input = CustomerInput {
        family_name: s("family_name"),
        given_name: s("given_name"),
        family_name_kana: s("family_name_kana"),
        given_name_kana: s("given_name_kana"),
        company_name: s("company_name"),
        email: s("email"),
        phone: s("phone"),
        line_user_id: s("line_user_id"),
        birthday: s("birthday"),
        postal_code: s("postal_code"),
        prefecture: s("prefecture"),
        city: s("city"),
        street: s("street"),
        building: s("building"),
        notes: s("notes"),
        preferences: s("preferences"),
        acquisition_source: s("acquisition_source"),
        acquisition_campaign: s("acquisition_campaign"),
        ..Default::default()
    };
    if let Some(full) = row.get("full_name")
        && input.family_name.is_none()
    {
        let (f, g) = split_name(full);
        input.family_name = Some(f);
        input.given_name = Some(g);
    }
    if let Some(full) = row.get("full_name_kana")
        && input.family_name_kana.is_none()
    {
        let (f, g) = split_name(full);
        input.family_name_kana = Some(f);
        input.given_name_kana = Some(g);
    }
    if let Some(k) = row.get("kind") {
        input.kind = Some(match k {
            "法人" | "会社" | "account" | "company" | "B2B" => "account".into(),
            "個人" | "person" | "B2C" => "person".into(),
            other => other.into(),
        });
    } else if input.company_name.is_some() && input.family_name.is_none() {
        input.kind = Some("account".into());
    }
    if let Some(g) = row.get("gender") {
        input.gender = Some(match g {
            "男" | "男性" | "M" | "m" | "Male" => "male".into(),
            "女" | "女性" | "F" | "f" | "Female" => "female".into(),
            "その他" => "other".into(),
            "未回答" | "無回答" => "unspecified".into(),
            other => other.into(),
        });
    }
    if let Some(t) = row.get("tags") {
        input.tags = Some(t.split([',', ';', '、', '|', '，']).map(|s| s.trim().to_string()).collect());
    }
    let mut consents = Vec::new();
    for ch in ["email", "sms", "line", "dm"] {
        let field = format!("consent_{ch}");
        if let Some(v) = row.get(&field)
            && let Some(b) = errors.take(parse_flag(&field, v))
        {
            consents.push((ch.to_string(), b));
        }
    }
    match input.clone().apply(CustomerProfile::default()) {
        Ok(profile) if errors.is_empty() => Ok((input, profile, consents)),
        Ok(_) => Err(errors),
        Err(mut profile_errors) => {
            profile_errors.0.extend(errors.0);
            Err(profile_errors)
        }
    }
}

/// Reads the next record: `Some(true)` read, `Some(false)` end of file, `None` a record that
/// was reported as rejected (its line counted) and should be skipped: malformed CSV, a number
/// of cells other than the header's, a line not in the file's encoding, a quote never closed,
/// a control character or an oversized cell.
fn read_row<R: Read>(o: &mut Opened<R>, rec: &mut csv::StringRecord, report: &mut ImportReport) -> Option<bool> {
    match o.reader.read_record(rec) {
        Ok(false) => {
            report.mixed_encoding = o.findings.lock().expect("findings lock").mixed_encoding;
            Some(false)
        }
        Ok(true) => {
            let first = rec.position().map(|p| p.line()).unwrap_or(report.rows + 2);
            let Some(reason) = row_problem(rec, first, &o.headers, &o.findings) else { return Some(true) };
            report.rows += 1;
            report.rejected.push(Reject { line: first, reason, record: record_cells(rec) });
            None
        }
        Err(e) => {
            let line = e.position().map(|p| p.line()).unwrap_or(report.rows + 2);
            report.rows += 1;
            report.rejected.push(Reject { line, reason: format!("CSV の形式エラー: {e}"), record: Vec::new() });
            None
        }
    }
}

/// Why a record read from lines `first..` cannot be imported as it stands, if it cannot.
fn row_problem(
    rec: &csv::StringRecord,
    first: u64,
    headers: &[String],
    findings: &decode::SharedFindings,
) -> Option<String> {
    let last = first + rec.iter().map(|c| c.bytes().filter(|b| *b == b'\n').count() as u64).sum::<u64>();
    if let Some(why) = findings.lock().expect("findings lock").problem(first, last) {
        return Some(why);
    }
    if rec.iter().all(|c| c.trim().is_empty()) {
        return None; // a blank line: skipped by the callers, whatever its commas
    }
    if rec.len() != headers.len() {
        return Some(format!(
            "列の数が {} 列です (見出し行は {} 列): 区切りや引用符を確かめてください",
            rec.len(),
            headers.len()
        ));
    }
    let column =
        |i: usize| headers.get(i).filter(|h| !h.is_empty()).cloned().unwrap_or_else(|| format!("{}列目", i + 1));
    for (i, cell) in rec.iter().enumerate() {
        if cell.len() > joren_core::text::MAX_CELL_BYTES {
            return Some(format!(
                "{}: セルが大きすぎます ({} バイト、上限 {})",
                column(i),
                cell.len(),
                joren_core::text::MAX_CELL_BYTES
            ));
        }
        if cell.chars().any(joren_core::text::is_forbidden_control) {
            return Some(format!("{}: 制御文字 (NUL など) が含まれています", column(i)));
        }
    }
    None
}

fn record_cells(rec: &csv::StringRecord) -> Vec<String> {
    rec.iter().map(str::to_string).collect()
}

/// A customer waiting to be created in the next batch, with the keys that identify it.
struct PendingCustomer {
    profile: CustomerProfile,
    external_ids: Vec<ExternalId>,
    consents: Vec<(String, bool)>,
    keys: Vec<String>,
}

fn identity_keys(system: &str, external_id: Option<&str>, profile: &CustomerProfile) -> Vec<String> {
    let mut keys = Vec::new();
    if let Some(x) = external_id {
        keys.push(format!("x:{system}:{x}"));
    }
    if let Some(e) = &profile.email {
        keys.push(format!("e:{e}"));
    }
    if let Some(p) = &profile.phone {
        keys.push(format!("p:{p}"));
    }
    keys
}

/// Resolves customers by identity keys, caching what it learned, and creates new ones in batches.
struct CustomerResolver {
    system: String,
    known: HashMap<String, i64>,
    pending: Vec<PendingCustomer>,
    pending_keys: HashMap<String, usize>,
}

impl CustomerResolver {
    fn new(system: &str) -> Self {
        Self { system: system.to_string(), known: HashMap::new(), pending: Vec::new(), pending_keys: HashMap::new() }
    }

    /// Loads every existing customer's keys once, so matching rows costs no queries.
    async fn preload(&mut self, app: &App) -> Result<()> {
        // Rows come newest first; inserting oldest last makes the oldest customer win.
        for (key, id) in app.store.customer_identity_keys(&self.system).await? {
            self.known.insert(key, id);
        }
        Ok(())
    }

    fn lookup(&self, external_id: Option<&str>, profile: &CustomerProfile) -> Option<i64> {
        identity_keys(&self.system, external_id, profile).iter().find_map(|k| self.known.get(k).copied())
    }

    fn pending_index(&self, external_id: Option<&str>, profile: &CustomerProfile) -> Option<usize> {
        identity_keys(&self.system, external_id, profile).iter().find_map(|k| self.pending_keys.get(k).copied())
    }

    fn queue(&mut self, external_id: Option<&str>, profile: CustomerProfile, consents: Vec<(String, bool)>) -> usize {
        let keys = identity_keys(&self.system, external_id, &profile);
        let idx = self.pending.len();
        for k in &keys {
            self.pending_keys.insert(k.clone(), idx);
        }
        let external_ids = external_id
            .map(|x| vec![ExternalId { system: self.system.clone(), external_id: x.to_string() }])
            .unwrap_or_default();
        self.pending.push(PendingCustomer { profile, external_ids, consents, keys });
        idx
    }

    /// Creates the queued customers in one transaction; returns their ids by queue index.
    async fn flush(&mut self, app: &App) -> Result<Vec<i64>> {
        if self.pending.is_empty() {
            return Ok(Vec::new());
        }
        let batch: Vec<_> =
            self.pending.iter().map(|p| (p.profile.clone(), p.external_ids.clone(), p.consents.clone())).collect();
        let ids = app.store.create_customers_batch(&batch, &format!("import:{}", self.system)).await?;
        for (p, id) in self.pending.iter().zip(&ids) {
            for k in &p.keys {
                self.known.insert(k.clone(), *id);
            }
        }
        self.pending.clear();
        self.pending_keys.clear();
        Ok(ids)
    }
}

impl App {
    /// Imports a customers or orders CSV. `progress` is called with the number of rows read.
    pub async fn import_csv<R: Read + Send>(
        &self,
        actor: &Actor,
        input: R,
        options: &ImportOptions,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<ImportReport> {
        actor.require_write()?;
        let mut opened = open(input, options)?;
        let system = options.source_system.clone().unwrap_or_else(|| match opened.preset.as_str() {
            "shopify" => "shopify".to_string(),
            _ => "csv".to_string(),
        });
        let mut report = ImportReport {
            encoding: opened.encoding.name().to_string(),
            preset: opened.preset.clone(),
            headers: opened.headers.clone(),
            mapping: mapping_names(&opened.mapping, &opened.headers),
            ..Default::default()
        };
        match options.kind {
            ImportKind::Customers => {
                self.import_customers(&mut opened, &system, options, &mut report, progress).await?
            }
            ImportKind::Orders => self.import_orders(&mut opened, &system, options, &mut report, progress).await?,
        }
        self.audit(
            actor,
            "import",
            match options.kind {
                ImportKind::Customers => "customers",
                ImportKind::Orders => "orders",
            },
            &system,
            serde_json::json!({
                "rows": report.rows, "created": report.created, "updated": report.updated,
                "skipped_existing": report.skipped_existing, "rejected": report.rejected.len(),
                "customers_created": report.customers_created,
            }),
        )
        .await?;
        Ok(report)
    }

    async fn import_customers<R: Read + Send>(
        &self,
        o: &mut Opened<R>,
        system: &str,
        options: &ImportOptions,
        report: &mut ImportReport,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<()> {
        let mut resolver = CustomerResolver::new(system);
        resolver.preload(self).await?;
        let mut pending_lines: Vec<u64> = Vec::new();
        let mut rec = csv::StringRecord::new();
        loop {
            match read_row(o, &mut rec, report) {
                Some(false) => break,
                Some(true) => {}
                None => continue,
            }
            report.rows += 1;
            let line = rec.position().map(|p| p.line()).unwrap_or(report.rows + 1);
            if rec.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            let row = Row { rec: &rec, mapping: &o.mapping };
            let external_id = row.get("external_id").map(str::to_string);
            let (input, profile, consents) = match customer_row(&row) {
                Ok(v) => v,
                Err(errors) => {
                    report.rejected.push(Reject { line, reason: errors.to_string(), record: record_cells(&rec) });
                    continue;
                }
            };
            if let Some(i) = resolver.pending_index(external_id.as_deref(), &profile) {
                report.rejected.push(Reject {
                    line,
                    reason: format!("同じファイルの {} 行目と同じ顧客です (ID・メール・電話が一致)", pending_lines[i]),
                    record: record_cells(&rec),
                });
                continue;
            }
            match resolver.lookup(external_id.as_deref(), &profile) {
                Some(id) => {
                    let current = self.store.get_customer(id).await?;
                    let updated = match input.apply(current.profile.clone()) {
                        Ok(updated) => updated,
                        Err(errors) => {
                            report.rejected.push(Reject {
                                line,
                                reason: errors.to_string(),
                                record: record_cells(&rec),
                            });
                            continue;
                        }
                    };
                    if let Some(x) = &external_id {
                        let ext = ExternalId { system: system.to_string(), external_id: x.clone() };
                        if let Err(e) = self.store.add_external_id(id, &ext).await {
                            report.rejected.push(Reject { line, reason: e.to_string(), record: record_cells(&rec) });
                            continue;
                        }
                    }
                    if updated != current.profile {
                        self.store.update_customer(id, &updated).await?;
                        report.updated += 1;
                    } else {
                        report.unchanged += 1;
                    }
                    for key in identity_keys(system, external_id.as_deref(), &updated) {
                        resolver.known.entry(key).or_insert(id);
                    }
                    for (ch, granted) in consents {
                        let current_state = current.consents.iter().find(|c| c.channel == ch).map(|c| c.granted);
                        if current_state != Some(granted) {
                            self.store.set_consent(id, &ch, granted, &format!("import:{system}"), None).await?;
                        }
                    }
                }
                None => {
                    resolver.queue(external_id.as_deref(), profile, consents);
                    pending_lines.push(line);
                    if resolver.pending.len() >= options.batch_size {
                        report.created += resolver.flush(self).await?.len() as u64;
                        pending_lines.clear();
                        progress(report.rows);
                    }
                }
            }
        }
        report.created += resolver.flush(self).await?.len() as u64;
        progress(report.rows);
        Ok(())
    }

    async fn import_orders<R: Read + Send>(
        &self,
        o: &mut Opened<R>,
        system: &str,
        options: &ImportOptions,
        report: &mut ImportReport,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<()> {
        if o.mapping.get("ordered_at").is_none() {
            return Err(joren_core::FieldError::new(
                "mapping",
                "注文日の列が見つかりません (ordered_at を指定してください)",
            )
            .into());
        }
        if o.mapping.get("unit_price").is_none() && o.mapping.get("line_amount").is_none() {
            return Err(
                joren_core::FieldError::new("mapping", "単価か金額の列が必要です (unit_price / line_amount)").into()
            );
        }
        let mut deferred_indexes = false;
        let result = self.load_orders(o, system, options, report, progress, &mut deferred_indexes).await;
        if deferred_indexes {
            // Also after a failed load: the rows that landed need their indexes.
            self.store.ensure_order_indexes().await?;
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
                        let reason = format!("同じ注文の {bad} 行目のエラーのため取り込みません");
                        report.rejected.push(Reject { line: *l, reason, record: record_cells(r) });
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
        let reject = |report: &mut ImportReport, line: u64, reason: String| {
            for (l, r) in rows {
                let why = if *l == line {
                    reason.clone()
                } else {
                    format!("同じ注文の {line} 行目のエラーのため取り込みません")
                };
                report.rejected.push(Reject { line: *l, reason: why, record: record_cells(r) });
            }
        };
        let currency = head.get("currency").unwrap_or("JPY").to_uppercase();
        let mut items = Vec::new();
        for (line, rec) in rows {
            let row = Row { rec, mapping };
            match line_item(&row, &currency) {
                Ok(item) => items.push(item),
                Err(e) => {
                    reject(report, *line, e.to_string());
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
                reject(report, *first_line, e.to_string());
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
            reject(report, *first_line, "ordered_at: 注文日が空です".into());
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
        let profile = match order_customer(&head) {
            Ok(p) => p,
            Err(why) => {
                reject(report, *first_line, why);
                return Ok(());
            }
        };
        let customer = match resolver.lookup(customer_external_id, &profile) {
            Some(id) => CustomerRef::Known(id),
            None => match resolver.pending_index(customer_external_id, &profile) {
                Some(i) => CustomerRef::Pending(i),
                None => {
                    let mut p = profile;
                    if p.family_name.is_empty() && p.given_name.is_empty() {
                        p.family_name = customer_external_id.map(|x| format!("顧客 {x}")).unwrap_or_default();
                    }
                    p.acquisition_source = Some(if shopify { "ec".into() } else { "other".into() });
                    CustomerRef::Pending(resolver.queue(customer_external_id, p, Vec::new()))
                }
            },
        };
        // The fingerprint of an imported order is its content without the (not yet known)
        // customer id; an API retry with the same order id but other contents is a conflict.
        let hash = sha256_hex(serde_json::to_string(&input).unwrap_or_default().as_bytes());
        let draft = match input.validate_within(self.now(), self.tz(), &self.config.order_dates) {
            Ok(d) => d,
            Err(errors) => {
                reject(report, *first_line, errors.to_string());
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

/// The customer an order row names: by id, email or phone, with the name for a new record.
/// Without an id, unusable contact details reject the row; with an id they are only noted.
fn order_customer(head: &Row<'_>) -> Result<CustomerProfile, String> {
    let external_id = head.get("customer_external_id");
    if external_id.is_none() && head.get("email").is_none() && head.get("phone").is_none() {
        return Err("顧客を特定できません (顧客ID・メール・電話のいずれかが必要です)".into());
    }
    let name = head.get("customer_name").map(split_name);
    let input = CustomerInput {
        family_name: name.as_ref().map(|n| n.0.clone()),
        given_name: name.as_ref().map(|n| n.1.clone()),
        email: head.get("email").map(str::to_string),
        phone: head.get("phone").map(str::to_string),
        ..Default::default()
    };
    match input.clone().apply(CustomerProfile::default()) {
        Ok(p) => Ok(p),
        Err(errors) if external_id.is_some() => {
            let relaxed = CustomerInput { email: None, phone: None, ..input };
            let mut p = relaxed.apply(CustomerProfile::default()).unwrap_or_default();
            p.notes = format!("取込時に無視した値: {errors}");
            Ok(p)
        }
        Err(errors) => Err(errors.to_string()),
    }
}

enum CustomerRef {
    Known(i64),
    Pending(usize),
}

struct StagedOrder {
    draft: joren_core::order::OrderDraft,
    hash: String,
    customer: CustomerRef,
    cancelled: bool,
    full_refund: bool,
    refunded: i64,
}

#[derive(Default)]
struct OrderBatch {
    orders: Vec<StagedOrder>,
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
        _ => Err(joren_core::FieldError::new("tax_rate", format!("税率は 10, 8, 0 のいずれかです: {v}"))),
    }
}

fn line_item(row: &Row<'_>, currency: &str) -> Result<LineItemInput, joren_core::FieldError> {
    let quantity = match row.get("quantity") {
        None => 1,
        Some(q) => q
            .replace(',', "")
            .parse::<i64>()
            .map_err(|_| joren_core::FieldError::new("quantity", format!("数量が数字ではありません: {q}")))?,
    };
    let unit_price = match (row.get("unit_price"), row.get("line_amount")) {
        (Some(p), _) => parse_amount("unit_price", p, currency)?,
        (None, Some(a)) => {
            let amount = parse_amount("line_amount", a, currency)?;
            if quantity > 0 && amount % quantity == 0 {
                amount / quantity
            } else {
                return Err(joren_core::FieldError::new(
                    "line_amount",
                    format!("金額 {a} が数量 {quantity} で割り切れません"),
                ));
            }
        }
        (None, None) => return Err(joren_core::FieldError::new("unit_price", "単価が空です")),
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

/// An uploaded file staged for import from the web page.
pub use joren_store::Upload;

impl App {
    /// Keeps an uploaded file (in the database, so any server process can run it) until the
    /// user has checked the preview; returns the token naming it.
    pub async fn stage_upload(
        &self,
        actor: &Actor,
        kind: ImportKind,
        filename: &str,
        content: &[u8],
    ) -> Result<String> {
        actor.require_write()?;
        let token = crate::auth::random_token();
        let kind = match kind {
            ImportKind::Customers => "customers",
            ImportKind::Orders => "orders",
        };
        self.store.save_upload(&token, actor.user_id, kind, filename, content).await?;
        Ok(token)
    }

    /// A staged upload of this actor.
    pub async fn staged_upload(&self, actor: &Actor, token: &str) -> Result<Upload> {
        let upload = self.store.get_upload(token).await?;
        if upload.user_id != actor.user_id {
            return Err(AppError::Forbidden("この取込ファイルは他のユーザーのものです".into()));
        }
        Ok(upload)
    }

    /// Runs a staged upload with the chosen preset and mapping; keeps the report with it.
    pub async fn run_staged_upload(
        &self,
        actor: &Actor,
        token: &str,
        preset: Option<String>,
        overrides: Vec<(String, String)>,
    ) -> Result<(Upload, ImportReport)> {
        let upload = self.staged_upload(actor, token).await?;
        let kind = ImportKind::parse(&upload.kind).ok_or(AppError::NotFound("import kind"))?;
        let mut options = ImportOptions::new(kind);
        options.preset = preset;
        options.overrides = overrides;
        let report = self.import_csv(actor, &upload.content[..], &options, &mut |_| {}).await?;
        let json = serde_json::to_string(&report).map_err(|e| AppError::Internal(e.to_string()))?;
        self.store.set_upload_report(token, &json).await?;
        Ok((upload, report))
    }

    /// The report of a staged upload that has run.
    pub async fn staged_upload_report(&self, actor: &Actor, token: &str) -> Result<ImportReport> {
        let upload = self.staged_upload(actor, token).await?;
        upload.report.as_deref().and_then(|r| serde_json::from_str(r).ok()).ok_or(AppError::NotFound("import report"))
    }
}
