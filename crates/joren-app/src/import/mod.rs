//! CSV import of customers and orders: encoding detected (UTF-8 or Shift_JIS), columns mapped
//! from headers or a preset, every row validated; bad rows are rejected with their line number
//! and reason while good rows are kept; a re-run of the same file creates no duplicates
//! (customers are matched by external id, email or phone; orders by order id).

pub mod decode;
pub mod mapping;

use std::collections::HashMap;
use std::io::Read;

use joren_core::customer::{CustomerInput, CustomerProfile};
use joren_core::{Code, FieldError};
use joren_store::ExternalId;
use serde::Serialize;

use crate::{Actor, App, AppError, Result};
use mapping::{
    CUSTOMER_FIELDS, Mapping, ORDER_FIELDS, SHOPIFY_CUSTOMERS, SHOPIFY_ORDERS, looks_like_shopify,
    looks_like_shopify_customers,
};

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

/// A rejected row: its line in the file (1 = header), why (codes the web layer words), and its
/// cells.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Reject {
    pub line: u64,
    #[serde(default)]
    pub reasons: Vec<FieldError>,
    pub record: Vec<String>,
}

impl Reject {
    fn new(line: u64, reason: FieldError, record: Vec<String>) -> Self {
        Self { line, reasons: vec![reason], record }
    }

    fn all(line: u64, reasons: joren_core::FieldErrors, record: Vec<String>) -> Self {
        Self { line, reasons: reasons.0, record }
    }
}

/// A line imported with changes: values read differently from how they were written
/// (`changed`: a postal code padded, an address split, a company recognised) and optional
/// values left out because they could not be read (`dropped`: a bad email, a date that is
/// not one), the rest of the line kept.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Note {
    pub line: u64,
    #[serde(default)]
    pub changed: Vec<FieldError>,
    #[serde(default)]
    pub dropped: Vec<FieldError>,
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
    /// Lines imported with a value changed or left out, and which.
    #[serde(default)]
    pub notes: Vec<Note>,
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
        .map_err(|e| AppError::from(FieldError::new("file", Code::BadCsv).arg(e)))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    if headers.iter().all(|h| h.is_empty()) {
        return Err(FieldError::new("file", Code::NoHeaderRow).into());
    }
    let fields = options.kind.fields();
    let preset = match options.preset.as_deref() {
        Some("shopify") => "shopify",
        Some("generic") => "generic",
        Some(other) => {
            return Err(FieldError::new("preset", Code::NotOneOf).arg(other).arg("generic, shopify").into());
        }
        None if options.kind == ImportKind::Orders && looks_like_shopify(&headers) => "shopify",
        None if options.kind == ImportKind::Customers && looks_like_shopify_customers(&headers) => "shopify",
        None => "generic",
    };
    let mut mapping = if preset == "shopify" {
        Mapping::preset(&headers, if options.kind == ImportKind::Orders { SHOPIFY_ORDERS } else { SHOPIFY_CUSTOMERS })
    } else {
        Mapping::detect(&headers, fields)
    };
    mapping
        .override_with(&headers, &options.overrides, fields)
        .map_err(|m| FieldError::new("mapping", Code::BadMapping).arg(m))?;
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

/// Writes the rejects as CSV (UTF-8 with BOM): line, reason (as `word` puts it), then the row's
/// cells, under the headers `head` names for the first two columns.
pub fn write_rejects<W: std::io::Write>(
    mut out: W,
    head: [&str; 2],
    headers: &[String],
    rejects: &[Reject],
    word: impl Fn(&[FieldError]) -> String,
) -> std::io::Result<()> {
    out.write_all(b"\xEF\xBB\xBF")?;
    // Rejected rows keep their own shape (a ragged row is one of the reasons to reject).
    let mut w = csv::WriterBuilder::new().flexible(true).from_writer(out);
    let mut head: Vec<String> = head.iter().map(|h| h.to_string()).collect();
    head.extend(headers.iter().cloned());
    w.write_record(&head)?;
    for r in rejects {
        let mut row = vec![r.line.to_string(), word(&r.reasons)];
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
            report.rejected.push(Reject::new(first, reason, record_cells(rec)));
            None
        }
        Err(e) => {
            let line = e.position().map(|p| p.line()).unwrap_or(report.rows + 2);
            report.rows += 1;
            report.rejected.push(Reject::new(line, FieldError::new("", Code::BadCsv).arg(e), Vec::new()));
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
) -> Option<FieldError> {
    let last = first + rec.iter().map(|c| c.bytes().filter(|b| *b == b'\n').count() as u64).sum::<u64>();
    if let Some(why) = findings.lock().expect("findings lock").problem(first, last) {
        return Some(why);
    }
    if rec.iter().all(|c| c.trim().is_empty()) {
        return None; // a blank line: skipped by the callers, whatever its commas
    }
    if rec.len() != headers.len() {
        return Some(FieldError::new("", Code::ColumnCount).arg(rec.len()).arg(headers.len()));
    }
    let column =
        |i: usize| headers.get(i).filter(|h| !h.is_empty()).cloned().unwrap_or_else(|| format!("{}列目", i + 1));
    for (i, cell) in rec.iter().enumerate() {
        if cell.len() > joren_core::text::MAX_CELL_BYTES {
            return Some(
                FieldError::new(column(i), Code::CellTooLarge).arg(cell.len()).arg(joren_core::text::MAX_CELL_BYTES),
            );
        }
        if cell.chars().any(joren_core::text::is_forbidden_control) {
            return Some(FieldError::new(column(i), Code::ControlChars));
        }
    }
    None
}

/// A store refusal of one row's write as the row's reason; anything else stops the import.
fn store_refusal(e: joren_store::StoreError) -> Result<FieldError> {
    match e {
        joren_store::StoreError::Conflict(p) => {
            Ok(FieldError { field: "external_id".into(), code: p.code, args: p.args })
        }
        joren_store::StoreError::Invalid(f) => Ok(f),
        other => Err(other.into()),
    }
}

fn record_cells(rec: &csv::StringRecord) -> Vec<String> {
    rec.iter().map(str::to_string).collect()
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
}

mod customers;
mod orders;
mod uploads;

pub use uploads::Upload;
