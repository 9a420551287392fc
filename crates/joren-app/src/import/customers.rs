//! Customer rows: a row read into a customer (names split, flags, consents), the resolver that
//! finds who a row already is (external id, email, phone) and creates the new ones in
//! batches, and the customers import itself.

use super::*;

pub(super) fn split_name(full: &str) -> (String, String) {
    let mut parts = full.split(|c: char| c.is_whitespace()).filter(|s| !s.is_empty());
    let first = parts.next().unwrap_or_default().to_string();
    let rest: Vec<&str> = parts.collect();
    (first, rest.join(" "))
}

pub(super) fn parse_flag(field: &str, v: &str) -> Result<bool, joren_core::FieldError> {
    match v.trim().to_lowercase().as_str() {
        "1" | "true" | "yes" | "y" | "はい" | "可" | "許可" | "希望" | "希望する" | "○" | "〇" | "済" => {
            Ok(true)
        }
        "0" | "false" | "no" | "n" | "いいえ" | "不可" | "拒否" | "希望しない" | "×" | "否" => Ok(false),
        _ => Err(joren_core::FieldError::new(field, joren_core::Code::BadYesNo).arg(v)),
    }
}

/// A customers-file row: the fields as given, the validated profile, consents, and what was
/// changed or left out on the way.
struct ParsedCustomer {
    input: CustomerInput,
    profile: CustomerProfile,
    consents: Vec<(String, bool)>,
    changed: Vec<FieldError>,
    dropped: Vec<FieldError>,
}

/// Fields a line is imported without when their value cannot be read (with a note): the
/// customer is still worth having. A name is not among them.
const DROPPABLE: [&str; 9] =
    ["email", "phone", "birthday", "gender", "postal_code", "prefecture", "line_user_id", "acquisition_source", "tags"];

/// Applies `input` onto `base`; a line whose only faults are in [`DROPPABLE`] fields is read
/// without them. Answers the profile, what was changed, and what was dropped.
#[allow(clippy::type_complexity)]
pub(super) fn apply_leniently(
    mut input: CustomerInput,
    base: CustomerProfile,
) -> Result<(CustomerInput, CustomerProfile, Vec<FieldError>, Vec<FieldError>), joren_core::FieldErrors> {
    match input.clone().apply_noting(base.clone()) {
        Ok((p, changed)) => Ok((input, p, changed, Vec::new())),
        Err(errors) if errors.0.iter().all(|e| DROPPABLE.contains(&e.field.as_str())) => {
            for e in &errors.0 {
                let slot = match e.field.as_str() {
                    "email" => &mut input.email,
                    "phone" => &mut input.phone,
                    "birthday" => &mut input.birthday,
                    "gender" => &mut input.gender,
                    "postal_code" => &mut input.postal_code,
                    "prefecture" => &mut input.prefecture,
                    "line_user_id" => &mut input.line_user_id,
                    "acquisition_source" => &mut input.acquisition_source,
                    _ => &mut None,
                };
                *slot = None;
                if e.field == "tags" {
                    input.tags = None;
                }
            }
            let (p, changed) = input.clone().apply_noting(base)?;
            Ok((input, p, changed, errors.0))
        }
        Err(errors) => Err(errors),
    }
}

/// The customer fields of a row, validated into a profile; every bad field that is not
/// [`DROPPABLE`] is reported (a row with one is rejected).
/// With `shopify`, a marketing flag of `no` records nothing: Shopify's `no` means the customer
/// never said yes, not that they said no (an opt-out Joren recorded is never undone by it).
fn customer_row(row: &Row<'_>, shopify: bool) -> Result<ParsedCustomer, joren_core::FieldErrors> {
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
        address: s("address"),
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
            "その他" | "Other" => "other".into(),
            "未回答" | "無回答" | "回答しない" | "Prefer not to say" => "unspecified".into(),
            other => other.into(),
        });
    }
    // The acquisition source as Joren's own export words it, in either language.
    if let Some(src) = row.get("acquisition_source") {
        input.acquisition_source = Some(match src {
            "店舗" | "来店" | "Store walk-in" => "store".into(),
            "EC・通販" | "通販" | "EC" | "Online shop" => "ec".into(),
            "広告" | "Advertising" => "advertising".into(),
            "紹介" | "Referral" => "referral".into(),
            "イベント" | "Event" => "event".into(),
            "Social media" => "sns".into(),
            "電話" | "Phone" => "phone".into(),
            "その他" => "other".into(),
            other => other.into(),
        });
    }
    if let Some(t) = row.get("tags") {
        input.tags = Some(t.split([',', ';', '、', '|', '，']).map(|s| s.trim().to_string()).collect());
    }
    // A consent that cannot be read is left out (recorded as nothing, not as a refusal).
    let mut consents = Vec::new();
    let mut dropped = Vec::new();
    for ch in ["email", "sms", "line", "dm"] {
        let field = format!("consent_{ch}");
        if let Some(v) = row.get(&field) {
            match parse_flag(&field, v) {
                Ok(false) if shopify => {}
                Ok(b) => consents.push((ch.to_string(), b)),
                Err(e) => dropped.push(e),
            }
        }
    }
    let (input, profile, changed, more) = apply_leniently(input, CustomerProfile::default())?;
    dropped.extend(more);
    Ok(ParsedCustomer { input, profile, consents, changed, dropped })
}

/// Notes a line's changes and omissions in the report, if it had any.
pub(super) fn note(report: &mut ImportReport, line: u64, changed: Vec<FieldError>, dropped: Vec<FieldError>) {
    if !changed.is_empty() || !dropped.is_empty() {
        report.notes.push(Note { line, changed, dropped });
    }
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
pub(super) struct CustomerResolver {
    system: String,
    known: HashMap<String, i64>,
    pending: Vec<PendingCustomer>,
    pending_keys: HashMap<String, usize>,
}

impl CustomerResolver {
    pub(super) fn new(system: &str) -> Self {
        Self { system: system.to_string(), known: HashMap::new(), pending: Vec::new(), pending_keys: HashMap::new() }
    }

    /// Loads every existing customer's keys once, so matching rows costs no queries.
    pub(super) async fn preload(&mut self, app: &App) -> Result<()> {
        // Rows come newest first; inserting oldest last makes the oldest customer win.
        for (key, id) in app.store.customer_identity_keys(&self.system).await? {
            self.known.insert(key, id);
        }
        Ok(())
    }

    pub(super) fn lookup(&self, external_id: Option<&str>, profile: &CustomerProfile) -> Option<i64> {
        identity_keys(&self.system, external_id, profile).iter().find_map(|k| self.known.get(k).copied())
    }

    pub(super) fn pending_index(&self, external_id: Option<&str>, profile: &CustomerProfile) -> Option<usize> {
        identity_keys(&self.system, external_id, profile).iter().find_map(|k| self.pending_keys.get(k).copied())
    }

    pub(super) fn queue(
        &mut self,
        external_id: Option<&str>,
        profile: CustomerProfile,
        consents: Vec<(String, bool)>,
    ) -> usize {
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
    pub(super) async fn flush(&mut self, app: &App) -> Result<Vec<i64>> {
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
    pub(super) async fn import_customers<R: Read + Send>(
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
            let ParsedCustomer { input, profile, consents, changed, dropped } =
                match customer_row(&row, o.preset == "shopify") {
                    Ok(v) => v,
                    Err(errors) => {
                        report.rejected.push(Reject::all(line, errors, record_cells(&rec)));
                        continue;
                    }
                };
            // An unreadable email or phone that was all the line had to be found by (no id,
            // no other contact) rejects it: imported without it, the line would be a new
            // customer again at every re-import.
            let lost_identity: Vec<FieldError> =
                dropped.iter().filter(|e| e.field == "email" || e.field == "phone").cloned().collect();
            if !lost_identity.is_empty() && identity_keys(system, external_id.as_deref(), &profile).is_empty() {
                report.rejected.push(Reject { line, reasons: lost_identity, record: record_cells(&rec) });
                continue;
            }
            if let Some(i) = resolver.pending_index(external_id.as_deref(), &profile) {
                report.rejected.push(Reject::new(
                    line,
                    FieldError::new("", Code::SameAsLine).arg(pending_lines[i]),
                    record_cells(&rec),
                ));
                continue;
            }
            match resolver.lookup(external_id.as_deref(), &profile) {
                Some(id) => {
                    let current = self.store.get_customer(id).await?;
                    let updated = match apply_leniently(input, current.profile.clone()) {
                        Ok((_, updated, changed, more)) => {
                            note(report, line, changed, dropped.into_iter().chain(more).collect());
                            updated
                        }
                        Err(errors) => {
                            report.rejected.push(Reject::all(line, errors, record_cells(&rec)));
                            continue;
                        }
                    };
                    if let Some(x) = &external_id {
                        let ext = ExternalId { system: system.to_string(), external_id: x.clone() };
                        if let Err(e) = self.store.add_external_id(id, &ext).await {
                            report.rejected.push(Reject::new(line, store_refusal(e)?, record_cells(&rec)));
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
                            let source = format!("import:{system}");
                            self.store.set_consent(id, &ch, granted, &source, None, None).await?;
                        }
                    }
                }
                None => {
                    note(report, line, changed, dropped);
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
}
