//! Customers: people and company accounts, with Japanese names done right.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::kana::normalize_kana;
use crate::phone::normalize_phone;
use crate::postal::{normalize_postal_code, validate_prefecture};
use crate::{FieldError, FieldErrors};

/// A person, or a company account (B2B) with contact persons of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CustomerKind {
    #[default]
    Person,
    Account,
}

impl CustomerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Person => "person",
            Self::Account => "account",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "person" => Some(Self::Person),
            "account" => Some(Self::Account),
            _ => None,
        }
    }
}

/// How the customer first came to the shop.
pub const ACQUISITION_SOURCES: [&str; 8] = ["store", "ec", "advertising", "referral", "event", "sns", "phone", "other"];

/// Channels a customer can consent to being contacted on.
pub const CONSENT_CHANNELS: [&str; 4] = ["email", "sms", "line", "dm"];

/// Genders offered as an optional field.
pub const GENDERS: [&str; 4] = ["female", "male", "other", "unspecified"];

/// A validated, normalised customer profile (what the store persists).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerProfile {
    pub kind: CustomerKind,
    pub family_name: String,
    pub given_name: String,
    pub family_name_kana: String,
    pub given_name_kana: String,
    pub company_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub line_user_id: Option<String>,
    pub birthday: Option<NaiveDate>,
    pub gender: Option<String>,
    pub postal_code: Option<String>,
    pub prefecture: Option<String>,
    pub city: Option<String>,
    pub street: Option<String>,
    pub building: Option<String>,
    pub notes: String,
    pub preferences: String,
    pub tags: Vec<String>,
    pub owner_user_id: Option<i64>,
    pub acquisition_source: Option<String>,
    pub acquisition_campaign: Option<String>,
}

impl CustomerProfile {
    /// Name for display: `山田 太郎 様` for a person, `株式会社サンプル 御中` for an account,
    /// `お客様` when nothing is known.
    pub fn display_name(&self) -> String {
        display_name(self.kind, &self.family_name, &self.given_name, &self.company_name)
    }

    /// The lower-cased, kana-folded text that partial-match search runs over.
    pub fn search_text(&self) -> String {
        let phone_national = self
            .phone
            .as_deref()
            .map(|p| p.strip_prefix("+81").map(|r| format!("0{r}")).unwrap_or(p.to_string()))
            .unwrap_or_default();
        let parts = [
            self.family_name.as_str(),
            self.given_name.as_str(),
            &format!("{}{}", self.family_name, self.given_name),
            self.family_name_kana.as_str(),
            self.given_name_kana.as_str(),
            &format!("{}{}", self.family_name_kana, self.given_name_kana),
            self.company_name.as_str(),
            self.email.as_deref().unwrap_or(""),
            self.phone.as_deref().unwrap_or(""),
            &phone_national,
        ];
        crate::kana::fold_for_search(&parts.join(" "))
    }
}

/// Display name rule shared by customers and contact persons.
pub fn display_name(kind: CustomerKind, family: &str, given: &str, company: &str) -> String {
    match kind {
        CustomerKind::Account if !company.is_empty() => format!("{company} 御中"),
        _ => {
            let name = format!("{family} {given}");
            let name = name.trim();
            if name.is_empty() { "お客様".to_string() } else { format!("{name} 様") }
        }
    }
}

/// Customer fields as they arrive from the API, a form or a CSV row. `None` leaves a field as it
/// is; an empty string clears it.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerInput {
    pub kind: Option<String>,
    pub family_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name_kana: Option<String>,
    pub given_name_kana: Option<String>,
    pub company_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub line_user_id: Option<String>,
    pub birthday: Option<String>,
    pub gender: Option<String>,
    pub postal_code: Option<String>,
    pub prefecture: Option<String>,
    pub city: Option<String>,
    pub street: Option<String>,
    pub building: Option<String>,
    /// The whole address in one line (a 住所 column): split into postal code, prefecture,
    /// city, street and building for those of them not given separately.
    pub address: Option<String>,
    pub notes: Option<String>,
    pub preferences: Option<String>,
    pub tags: Option<Vec<String>>,
    /// 担当者: `Some(Some(id))` assigns a staff member, `Some(None)` (JSON `null`) clears.
    #[serde(default, deserialize_with = "present_or_null", skip_serializing_if = "Option::is_none")]
    pub owner_user_id: Option<Option<i64>>,
    pub acquisition_source: Option<String>,
    pub acquisition_campaign: Option<String>,
}

/// Tells a field given as `null` (`Some(None)`) from a field left out (`None`).
fn present_or_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Option::<i64>::deserialize(d).map(Some)
}

fn opt(v: &str) -> Option<String> {
    let t = v.trim();
    (!t.is_empty()).then(|| t.to_string())
}

fn optional_with<F>(errors: &mut FieldErrors, field: &str, value: &str, f: F) -> Option<Option<String>>
where
    F: FnOnce(&str, &str) -> Result<String, FieldError>,
{
    if value.trim().is_empty() {
        return Some(None);
    }
    errors.take(f(field, value)).map(Some)
}

/// Checks an email address loosely (one `@`, a dotted domain, no spaces) and lower-cases it.
pub fn normalize_email(field: &str, input: &str) -> Result<String, FieldError> {
    let s = input.trim();
    let bad = || FieldError::new(field, crate::Code::BadEmail).arg(input);
    let (local, domain) = s.split_once('@').ok_or_else(bad)?;
    if local.is_empty()
        || domain.contains('@')
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || s.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(bad());
    }
    Ok(format!("{local}@{}", domain.to_lowercase()))
}

pub use crate::dates::parse_date;

fn one_of(field: &str, value: &str, allowed: &[&str]) -> Result<String, FieldError> {
    let v = value.trim().to_lowercase();
    if allowed.contains(&v.as_str()) {
        Ok(v)
    } else {
        Err(FieldError::new(field, crate::Code::NotOneOf).arg(value).arg(allowed.join(", ")))
    }
}

/// Legal-entity words that make a name a company's (after NFKC, so ㈱ and （株） read as (株)).
const COMPANY_MARKERS: [&str; 22] = [
    "株式会社",
    "有限会社",
    "合同会社",
    "合資会社",
    "合名会社",
    "一般社団法人",
    "一般財団法人",
    "公益社団法人",
    "公益財団法人",
    "社会福祉法人",
    "医療法人",
    "学校法人",
    "宗教法人",
    "特定非営利活動法人",
    "NPO法人",
    "(株)",
    "(有)",
    "(同)",
    "(資)",
    "(名)",
    "(医)",
    "(社)",
];

/// Whether `name` is a company's: it holds 株式会社, 有限会社, (株), ㈱ and the like.
pub fn looks_like_company(name: &str) -> bool {
    let n = crate::text::half_width(name);
    COMPANY_MARKERS.iter().any(|m| n.contains(m))
}

impl CustomerInput {
    /// Applies this input onto `base` (an existing profile, or the default for a new customer),
    /// normalising every field; all invalid fields are reported together.
    pub fn apply(self, base: CustomerProfile) -> Result<CustomerProfile, FieldErrors> {
        self.apply_noting(base).map(|(p, _)| p)
    }

    /// [`CustomerInput::apply`], also answering what was read differently from how it was
    /// given (notes with codes, for a report or a form): a postal code given its lost leading
    /// zero, a one-line address split, a company name typed as a person's name.
    pub fn apply_noting(mut self, base: CustomerProfile) -> Result<(CustomerProfile, Vec<FieldError>), FieldErrors> {
        let mut notes = Vec::new();
        if let Some(line) = self.address.take().filter(|a| !a.trim().is_empty()) {
            let parts = crate::address::split_address(&line);
            let fill = |slot: &mut Option<String>, v: String| {
                if slot.as_deref().is_none_or(|s| s.trim().is_empty()) && !v.is_empty() {
                    *slot = Some(v);
                }
            };
            fill(&mut self.postal_code, parts.postal_code);
            fill(&mut self.prefecture, parts.prefecture);
            fill(&mut self.city, parts.city);
            fill(&mut self.street, parts.street);
            fill(&mut self.building, parts.building);
            notes.push(FieldError::new("address", crate::Code::AddressSplit).arg(line.trim()));
        }
        if let Some(v) = &self.postal_code
            && crate::postal::lost_leading_zero(v)
            && let Ok(stored) = normalize_postal_code("postal_code", v)
        {
            notes.push(FieldError::new("postal_code", crate::Code::PostalPadded).arg(v.trim()).arg(stored));
        }
        let kind_given = self.kind.is_some();
        let mut p = self.apply_fields(base)?;
        // A postal code without 都道府県 or 市区町村: both (and the 町域, where the code names
        // one and no street was given) from Japan Post's table, when the code names one place.
        if let Some(code) = p.postal_code.clone()
            && p.prefecture.is_none()
            && p.city.is_none()
        {
            let found = crate::postcodes::lookup(&code);
            if let Some(first) = found.first()
                && found.iter().all(|a| (a.prefecture, a.city) == (first.prefecture, first.city))
            {
                p.prefecture = Some(first.prefecture.to_string());
                p.city = Some(first.city.to_string());
                let town = found.len() == 1 && !first.town.is_empty() && p.street.is_none();
                if town {
                    p.street = Some(first.town.to_string());
                }
                let text = format!("{}{}{}", first.prefecture, first.city, if town { first.town } else { "" });
                notes.push(FieldError::new("postal_code", crate::Code::AddressFromPostcode).arg(&code).arg(text));
            }
        }
        // A company typed where a person's name goes (株式会社ジョーレン, ㈱ジョーレン): a company,
        // addressed 御中, unless the kind was given.
        if !kind_given && p.kind == CustomerKind::Person && p.company_name.is_empty() {
            let name = format!("{} {}", p.family_name, p.given_name).trim().to_string();
            if looks_like_company(&name) {
                p.kind = CustomerKind::Account;
                p.company_name = name.clone();
                p.family_name.clear();
                p.given_name.clear();
                notes.push(FieldError::new("company_name", crate::Code::CompanyDetected).arg(name));
            }
        }
        Ok((p, notes))
    }

    fn apply_fields(self, base: CustomerProfile) -> Result<CustomerProfile, FieldErrors> {
        let mut p = base;
        let mut errors = FieldErrors::default();
        if let Some(k) = self.kind {
            match CustomerKind::parse(k.trim()) {
                Some(k) => p.kind = k,
                None => {
                    errors.push("kind", crate::Code::NotOneOf).with(&k).with("person, account");
                }
            }
        }
        if let Some(v) = self.family_name {
            p.family_name = v.trim().to_string();
        }
        if let Some(v) = self.given_name {
            p.given_name = v.trim().to_string();
        }
        if let Some(v) = self.family_name_kana {
            p.family_name_kana = errors.take(normalize_kana("family_name_kana", &v)).unwrap_or_default();
        }
        if let Some(v) = self.given_name_kana {
            p.given_name_kana = errors.take(normalize_kana("given_name_kana", &v)).unwrap_or_default();
        }
        if let Some(v) = self.company_name {
            p.company_name = v.trim().to_string();
        }
        if let Some(v) = self.email
            && let Some(v) = optional_with(&mut errors, "email", &v, normalize_email)
        {
            p.email = v;
        }
        if let Some(v) = self.phone
            && let Some(v) = optional_with(&mut errors, "phone", &v, normalize_phone)
        {
            p.phone = v;
        }
        if let Some(v) = self.line_user_id {
            p.line_user_id = opt(&v);
        }
        if let Some(v) = self.birthday {
            if v.trim().is_empty() {
                p.birthday = None;
            } else if let Some(d) = errors.take(parse_date("birthday", &v)) {
                p.birthday = Some(d);
            }
        }
        if let Some(v) = self.gender
            && let Some(v) = optional_with(&mut errors, "gender", &v, |f, v| one_of(f, v, &GENDERS))
        {
            p.gender = v;
        }
        if let Some(v) = self.postal_code
            && let Some(v) = optional_with(&mut errors, "postal_code", &v, normalize_postal_code)
        {
            p.postal_code = v;
        }
        if let Some(v) = self.prefecture
            && let Some(v) = optional_with(&mut errors, "prefecture", &v, validate_prefecture)
        {
            p.prefecture = v;
        }
        if let Some(v) = self.city {
            p.city = opt(&v);
        }
        if let Some(v) = self.street {
            p.street = opt(&v);
        }
        if let Some(v) = self.building {
            p.building = opt(&v);
        }
        if let Some(v) = self.notes {
            p.notes = v.trim().to_string();
        }
        if let Some(v) = self.preferences {
            p.preferences = v.trim().to_string();
        }
        if let Some(tags) = self.tags {
            p.tags = normalize_tags(&tags);
        }
        if let Some(owner) = self.owner_user_id {
            p.owner_user_id = owner;
        }
        if let Some(v) = self.acquisition_source
            && let Some(v) =
                optional_with(&mut errors, "acquisition_source", &v, |f, v| one_of(f, v, &ACQUISITION_SOURCES))
        {
            p.acquisition_source = v;
        }
        if let Some(v) = self.acquisition_campaign {
            p.acquisition_campaign = opt(&v);
        }
        {
            use crate::text::{LONG_TEXT, MAX_TAGS, SHORT_TEXT, check_text};
            let short = [
                ("family_name", p.family_name.as_str()),
                ("given_name", &p.given_name),
                ("company_name", &p.company_name),
                ("line_user_id", p.line_user_id.as_deref().unwrap_or_default()),
                ("city", p.city.as_deref().unwrap_or_default()),
                ("street", p.street.as_deref().unwrap_or_default()),
                ("building", p.building.as_deref().unwrap_or_default()),
                ("acquisition_campaign", p.acquisition_campaign.as_deref().unwrap_or_default()),
            ];
            for (field, v) in short {
                errors.take(check_text(field, v, SHORT_TEXT));
            }
            errors.take(check_text("notes", &p.notes, LONG_TEXT));
            errors.take(check_text("preferences", &p.preferences, LONG_TEXT));
            if p.tags.len() > MAX_TAGS {
                errors.push("tags", crate::Code::TooMany).with(MAX_TAGS);
            }
            if let Some(e) = p.tags.iter().find_map(|t| check_text("tags", t, 50).err()) {
                errors.0.push(e);
            }
        }
        match p.kind {
            CustomerKind::Person
                if p.family_name.is_empty() && p.given_name.is_empty() && p.email.is_none() && p.phone.is_none() =>
            {
                errors.push("family_name", crate::Code::NeedNameOrContact);
            }
            CustomerKind::Account if p.company_name.is_empty() => {
                errors.push("company_name", crate::Code::NeedCompanyName);
            }
            _ => {}
        }
        if errors.is_empty() { Ok(p) } else { Err(errors) }
    }
}

/// Trims, drops empties and duplicates, keeps first-seen order.
pub fn normalize_tags(tags: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in tags {
        let t = t.trim();
        if !t.is_empty() && !out.iter().any(|o| o == t) {
            out.push(t.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> CustomerInput {
        CustomerInput {
            family_name: Some("山田".into()),
            given_name: Some("太郎".into()),
            family_name_kana: Some("やまだ".into()),
            given_name_kana: Some("ﾀﾛｳ".into()),
            email: Some("Taro@Example.JP".into()),
            phone: Some("090-1234-5678".into()),
            postal_code: Some("1000001".into()),
            prefecture: Some("東京都".into()),
            tags: Some(vec![" VIP ".into(), "VIP".into(), "".into()]),
            ..Default::default()
        }
    }

    #[test]
    fn a_postal_code_alone_fills_prefecture_city_and_town() {
        let named = |code: &str| CustomerInput {
            family_name: Some("郵便".into()),
            postal_code: Some(code.into()),
            ..Default::default()
        };
        let only_code = named("１０４－００６１");
        let (p, notes) = only_code.apply_noting(CustomerProfile::default()).unwrap();
        let address = (p.prefecture.as_deref(), p.city.as_deref(), p.street.as_deref());
        assert_eq!(address, (Some("東京都"), Some("中央区"), Some("銀座")));
        assert_eq!(notes[0].code, crate::Code::AddressFromPostcode);
        assert_eq!(notes[0].args, ["104-0061", "東京都中央区銀座"]);
        // A street given stays; a code of many 町域 fills only 都道府県 and 市区町村.
        let many = CustomerInput { street: Some("春日1-1".into()), ..named("452-0961") };
        let (p, notes) = many.apply_noting(CustomerProfile::default()).unwrap();
        assert_eq!((p.city.as_deref(), p.street.as_deref()), (Some("清須市"), Some("春日1-1")));
        assert_eq!(notes[0].args[1], "愛知県清須市");
        // Given a prefecture, nothing is looked up.
        let (p, notes) = input().apply_noting(CustomerProfile::default()).unwrap();
        assert_eq!((p.city, notes.len()), (None, 0));
    }

    #[test]
    fn a_person_is_normalised() {
        let p = input().apply(CustomerProfile::default()).unwrap();
        assert_eq!(p.family_name_kana, "ヤマダ");
        assert_eq!(p.given_name_kana, "タロウ");
        assert_eq!(p.email.as_deref(), Some("Taro@example.jp"));
        assert_eq!(p.phone.as_deref(), Some("+819012345678"));
        assert_eq!(p.postal_code.as_deref(), Some("100-0001"));
        assert_eq!(p.tags, vec!["VIP"]);
        assert_eq!(p.display_name(), "山田 太郎 様");
        assert!(p.search_text().contains("ヤマダタロウ"));
        assert!(p.search_text().contains("09012345678"));
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = CustomerInput {
            email: Some("nope".into()),
            phone: Some("12".into()),
            birthday: Some("1990-13-01".into()),
            acquisition_source: Some("tv".into()),
            family_name: Some("佐藤".into()),
            ..Default::default()
        };
        let errs = bad.apply(CustomerProfile::default()).unwrap_err();
        let fields: Vec<_> = errs.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["email", "phone", "birthday", "acquisition_source"]);
    }

    #[test]
    fn accounts_need_a_company_and_show_onchu() {
        let e = CustomerInput { kind: Some("account".into()), ..Default::default() }
            .apply(CustomerProfile::default())
            .unwrap_err();
        assert_eq!(e.0[0].field, "company_name");
        let a = CustomerInput {
            kind: Some("account".into()),
            company_name: Some("株式会社サンプル".into()),
            ..Default::default()
        }
        .apply(CustomerProfile::default())
        .unwrap();
        assert_eq!(a.display_name(), "株式会社サンプル 御中");
    }

    #[test]
    fn empty_string_clears_and_none_keeps() {
        let p = input().apply(CustomerProfile::default()).unwrap();
        let p2 = CustomerInput { email: Some("".into()), ..Default::default() }.apply(p).unwrap();
        assert_eq!(p2.email, None);
        assert_eq!(p2.phone.as_deref(), Some("+819012345678"));
    }
}
