//! Customers, their tags, external ids, consents, contact persons and merges.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use joren_core::contact::ContactProfile;
use joren_core::customer::{CustomerKind, CustomerProfile};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::bulk::Val;
use crate::db::Tx;
use crate::{Result, Store, StoreError, from_ms, now_ms};

mod duplicates;
mod list;
mod merge;
mod search;

mod identity;
mod line;
mod mail_replies;
mod sms;

pub use line::{LineApplied, LineEvent, LineEventKind, LineLinked, WaitingLineMessage, WaitingLineUser};
pub use mail_replies::{MailApplied, MailReply, MailThread, MailboxCursor};
pub use sms::{SmsApplied, SmsInbound};

pub use duplicates::DuplicatePair;
pub use list::{CustomerList, CustomerSort, CustomerStanding};

/// An id the customer has in another system (shop register, EC platform, import file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ExternalId {
    pub system: String,
    pub external_id: String,
}

/// The current consent of one channel, with when and where it was last set.
#[derive(Debug, Clone, Serialize)]
pub struct ConsentState {
    pub channel: String,
    pub granted: bool,
    pub source: String,
    pub at: DateTime<Utc>,
}

/// A whole customer record.
#[derive(Debug, Clone, Serialize)]
pub struct Customer {
    pub id: i64,
    pub display_name: String,
    #[serde(flatten)]
    pub profile: CustomerProfile,
    pub external_ids: Vec<ExternalId>,
    pub consents: Vec<ConsentState>,
    pub merged_into: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One row of a customer list.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerSummary {
    pub id: i64,
    pub kind: CustomerKind,
    pub display_name: String,
    pub family_name_kana: String,
    pub given_name_kana: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub order_count: i64,
    pub total_spent: i64,
    pub last_order_at: Option<DateTime<Utc>>,
}

/// A page of customers with the total number that matched.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerPage {
    pub total: i64,
    pub items: Vec<CustomerSummary>,
}

/// A contact person of an account.
#[derive(Debug, Clone, Serialize)]
pub struct Contact {
    pub id: i64,
    pub customer_id: i64,
    pub display_name: String,
    #[serde(flatten)]
    pub profile: ContactProfile,
    pub created_at: DateTime<Utc>,
}

/// A customer to create in bulk: profile, external ids, and consents (channel, granted).
pub type NewCustomerRecord = (CustomerProfile, Vec<ExternalId>, Vec<(String, bool)>);

/// What a merge moved.
#[derive(Debug, Clone, Serialize)]
pub struct MergeResult {
    pub survivor_id: i64,
    pub merged_id: i64,
    pub orders_moved: i64,
    pub interactions_moved: i64,
    pub contacts_moved: i64,
}

const CUSTOMER_COLUMNS: &str = "id, kind, family_name, given_name, family_name_kana, \
    given_name_kana, company_name, email, phone, line_user_id, birthday, gender, postal_code, \
    prefecture, city, street, building, notes, preferences, owner_user_id, acquisition_source, \
    acquisition_campaign, merged_into, created_at, updated_at";

fn profile_from_row(row: &AnyRow) -> Result<CustomerProfile> {
    let birthday: Option<String> = row.try_get("birthday")?;
    Ok(CustomerProfile {
        kind: CustomerKind::parse(&row.try_get::<String, _>("kind")?).unwrap_or_default(),
        family_name: row.try_get("family_name")?,
        given_name: row.try_get("given_name")?,
        family_name_kana: row.try_get("family_name_kana")?,
        given_name_kana: row.try_get("given_name_kana")?,
        company_name: row.try_get("company_name")?,
        email: row.try_get("email")?,
        phone: row.try_get("phone")?,
        line_user_id: row.try_get("line_user_id")?,
        birthday: birthday.and_then(|b| NaiveDate::parse_from_str(&b, "%Y-%m-%d").ok()),
        gender: row.try_get("gender")?,
        postal_code: row.try_get("postal_code")?,
        prefecture: row.try_get("prefecture")?,
        city: row.try_get("city")?,
        street: row.try_get("street")?,
        building: row.try_get("building")?,
        notes: row.try_get("notes")?,
        preferences: row.try_get("preferences")?,
        tags: Vec::new(),
        owner_user_id: row.try_get("owner_user_id")?,
        acquisition_source: row.try_get("acquisition_source")?,
        acquisition_campaign: row.try_get("acquisition_campaign")?,
    })
}

/// The idempotency scope of customer creation.
const CREATE_SCOPE: &str = "customer.create";

impl Store {
    /// Inserts a customer with its tags, external ids and initial consents, in one transaction.
    pub async fn create_customer(
        &self,
        profile: &CustomerProfile,
        external_ids: &[ExternalId],
        consents: &[(String, bool)],
        consent_source: &str,
        actor: Option<i64>,
    ) -> Result<i64> {
        Ok(self.create_customer_keyed(profile, external_ids, consents, consent_source, actor, None).await?.0)
    }

    /// [`Store::create_customer`] applied once per `key` = (idempotency key, request hash): the
    /// key is stored with the customer, and a retry with the same key and request answers the
    /// customer created the first time (`true`: replayed); the key with another request is a
    /// conflict.
    pub async fn create_customer_keyed(
        &self,
        profile: &CustomerProfile,
        external_ids: &[ExternalId],
        consents: &[(String, bool)],
        consent_source: &str,
        actor: Option<i64>,
        key: Option<(&str, &str)>,
    ) -> Result<(i64, bool)> {
        let mut tx = self.begin_write().await?;
        if let Some((k, hash)) = key
            && let crate::IdempotencyOutcome::Replay { response, .. } =
                crate::idempotency::lookup(&mut tx, CREATE_SCOPE, k, hash).await?
        {
            tx.commit().await?;
            return Ok((response.parse().unwrap_or_default(), true));
        }
        let id = insert_customer(&mut tx, profile, external_ids).await?;
        let detail = serde_json::json!({"kind": profile.kind});
        crate::events::insert(&mut tx, joren_core::event::EventKind::CustomerCreated, id, "customer", id, &detail)
            .await?;
        crate::conversations::adopt_unknown(&mut tx, id, profile.phone.as_deref(), profile.email.as_deref()).await?;
        for (channel, granted) in consents {
            insert_consent(&mut tx, id, channel, *granted, consent_source, actor).await?;
        }
        self.refresh_customer_facts(&mut tx, id, id).await?;
        if let Some((k, hash)) = key {
            crate::idempotency::save(&mut tx, CREATE_SCOPE, k, hash, 201, &id.to_string()).await?;
        }
        tx.commit().await?;
        Ok((id, false))
    }

    /// The customer a request with `key` created, if one did (read outside a write, so a retry
    /// is answered before the request's own checks); the key with another request is a conflict.
    pub async fn customer_created_with(&self, key: &str, request_hash: &str) -> Result<Option<i64>> {
        let mut tx = self.begin_read().await?;
        match crate::idempotency::lookup(&mut tx, CREATE_SCOPE, key, request_hash).await? {
            crate::IdempotencyOutcome::Replay { response, .. } => Ok(Some(response.parse().unwrap_or_default())),
            crate::IdempotencyOutcome::New => Ok(None),
        }
    }

    /// Inserts many customers in one transaction (import, demo) with multi-row statements;
    /// returns their ids in order.
    pub async fn create_customers_batch(
        &self,
        customers: &[NewCustomerRecord],
        consent_source: &str,
    ) -> Result<Vec<i64>> {
        let mut tx = self.begin_bulk_write().await?;
        let ids = self.reserve_ids(&mut tx, "customers", customers.len()).await?;
        let now = now_ms();
        let (mut rows, mut tags, mut ext, mut consents) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for ((p, external_ids, consent), &id) in customers.iter().zip(&ids) {
            rows.push(vec![
                Val::Int(id),
                Val::Text(p.kind.as_str().into()),
                Val::Text(p.family_name.clone()),
                Val::Text(p.given_name.clone()),
                Val::Text(p.family_name_kana.clone()),
                Val::Text(p.given_name_kana.clone()),
                Val::Text(p.company_name.clone()),
                Val::OptText(p.email.clone()),
                Val::OptText(p.phone.clone()),
                Val::OptText(p.line_user_id.clone()),
                Val::OptText(p.birthday.map(|d| d.to_string())),
                Val::OptText(p.gender.clone()),
                Val::OptText(p.postal_code.clone()),
                Val::OptText(p.prefecture.clone()),
                Val::OptText(p.city.clone()),
                Val::OptText(p.street.clone()),
                Val::OptText(p.building.clone()),
                Val::Text(p.notes.clone()),
                Val::Text(p.preferences.clone()),
                Val::OptInt(p.owner_user_id),
                Val::OptText(p.acquisition_source.clone()),
                Val::OptText(p.acquisition_campaign.clone()),
                Val::Text(p.search_text()),
                Val::Int(now),
                Val::Int(now),
            ]);
            tags.extend(p.tags.iter().map(|t| vec![Val::Int(id), Val::Text(t.clone())]));
            ext.extend(
                external_ids
                    .iter()
                    .map(|x| vec![Val::Int(id), Val::Text(x.system.clone()), Val::Text(x.external_id.clone())]),
            );
            consents.extend(consent.iter().map(|(channel, granted)| {
                vec![
                    Val::Int(id),
                    Val::Text(channel.clone()),
                    Val::Int(*granted as i64),
                    Val::Text(consent_source.into()),
                    Val::Int(now),
                ]
            }));
        }
        self.bulk_insert(
            &mut tx,
            "customers",
            &[
                "id",
                "kind",
                "family_name",
                "given_name",
                "family_name_kana",
                "given_name_kana",
                "company_name",
                "email",
                "phone",
                "line_user_id",
                "birthday",
                "gender",
                "postal_code",
                "prefecture",
                "city",
                "street",
                "building",
                "notes",
                "preferences",
                "owner_user_id",
                "acquisition_source",
                "acquisition_campaign",
                "search_text",
                "created_at",
                "updated_at",
            ],
            rows,
        )
        .await?;
        self.bulk_insert(&mut tx, "customer_tags", &["customer_id", "tag"], tags).await?;
        self.bulk_insert(&mut tx, "customer_external_ids", &["customer_id", "system", "external_id"], ext).await?;
        self.bulk_insert(&mut tx, "consent_events", &["customer_id", "channel", "granted", "source", "at"], consents)
            .await?;
        if let (Some(&first), Some(&last)) = (ids.iter().min(), ids.iter().max()) {
            self.refresh_customer_facts(&mut tx, first, last).await?;
        }
        tx.commit().await?;
        Ok(ids)
    }

    /// Replaces a customer's profile (and tags), with a `customer.updated` event; texts and
    /// mails kept from a number or address they now have become theirs.
    pub async fn update_customer(&self, id: i64, profile: &CustomerProfile) -> Result<()> {
        let mut tx = self.begin_write().await?;
        live_customer(&mut tx, id, self.for_update()).await?;
        write_profile(&mut tx, id, profile).await?;
        sqlx::query("DELETE FROM customer_tags WHERE customer_id = $1").bind(id).execute(&mut *tx).await?;
        insert_tags(&mut tx, id, &profile.tags).await?;
        let detail = serde_json::json!({"kind": profile.kind});
        crate::events::insert(&mut tx, joren_core::event::EventKind::CustomerUpdated, id, "customer", id, &detail)
            .await?;
        crate::conversations::adopt_unknown(&mut tx, id, profile.phone.as_deref(), profile.email.as_deref()).await?;
        self.refresh_customer_facts(&mut tx, id, id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Loads one customer with tags, external ids and current consents (see
    /// [`Self::customers_by_ids`]).
    pub async fn get_customer(&self, id: i64) -> Result<Customer> {
        self.customers_by_ids(&[id]).await?.pop().ok_or(StoreError::NotFound("customer"))
    }

    /// Customers with tags, external ids and current consents — one, the scenario engine's
    /// batch, the export's page: four queries per 500 ids, in the order of `ids`; ids with no
    /// customer are left out. Merged-away customers are returned too (with `merged_into` set)
    /// so old links can redirect.
    pub async fn customers_by_ids(&self, ids: &[i64]) -> Result<Vec<Customer>> {
        self.read_customers(ids, true).await
    }

    /// [`Store::customers_by_ids`] without tags and external ids (left empty): what mail is
    /// written and sent with — name, address, owner, consents — in two queries per 500 ids
    /// (the scenario engine's and the delivery worker's batches).
    pub async fn customers_for_messages(&self, ids: &[i64]) -> Result<Vec<Customer>> {
        self.read_customers(ids, false).await
    }

    async fn read_customers(&self, ids: &[i64], whole: bool) -> Result<Vec<Customer>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let by_ids = |sql: &'static str| self.fetch_by_ids(ids, move |list| sql.replace("{list}", list));
        let rows = self
            .fetch_by_ids(ids, |list| format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id IN ({list})"))
            .await?;
        let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
        let mut external: HashMap<i64, Vec<ExternalId>> = HashMap::new();
        let tag_rows = if whole {
            by_ids("SELECT customer_id, tag FROM customer_tags WHERE customer_id IN ({list}) ORDER BY tag").await?
        } else {
            Vec::new()
        };
        for r in tag_rows {
            tags.entry(r.try_get("customer_id")?).or_default().push(r.try_get("tag")?);
        }
        let external_rows = if whole {
            by_ids(
                "SELECT customer_id, system, external_id FROM customer_external_ids WHERE customer_id IN ({list}) \
                 ORDER BY system, external_id",
            )
            .await?
        } else {
            Vec::new()
        };
        for r in external_rows {
            external
                .entry(r.try_get("customer_id")?)
                .or_default()
                .push(ExternalId { system: r.try_get("system")?, external_id: r.try_get("external_id")? });
        }
        let mut consent_rows: HashMap<i64, Vec<AnyRow>> = HashMap::new();
        for r in by_ids(
            "SELECT customer_id, channel, granted, source, at FROM consent_events WHERE customer_id IN ({list}) \
             ORDER BY at, id",
        )
        .await?
        {
            consent_rows.entry(r.try_get("customer_id")?).or_default().push(r);
        }
        let mut by_id: HashMap<i64, Customer> = HashMap::with_capacity(rows.len());
        for row in rows {
            let id: i64 = row.try_get("id")?;
            let mut profile = profile_from_row(&row)?;
            profile.tags = tags.remove(&id).unwrap_or_default();
            let consents = fold_consents(consent_rows.get(&id).map(Vec::as_slice).unwrap_or_default())?;
            by_id.insert(
                id,
                Customer {
                    id,
                    display_name: profile.display_name(),
                    profile,
                    external_ids: external.remove(&id).unwrap_or_default(),
                    consents,
                    merged_into: row.try_get("merged_into")?,
                    created_at: from_ms(row.try_get("created_at")?),
                    updated_at: from_ms(row.try_get("updated_at")?),
                },
            );
        }
        Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
    }

    /// Records a consent change (the history is kept; the latest event is the current state).
    /// With `audit`, its audit record is written in the same transaction (an import's rows
    /// pass none: the import has its own).
    pub async fn set_consent(
        &self,
        customer_id: i64,
        channel: &str,
        granted: bool,
        source: &str,
        actor: Option<i64>,
        audit: Option<&crate::audit::AuditNote<'_>>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        insert_consent(&mut tx, customer_id, channel, granted, source, actor).await?;
        if let Some(note) = audit {
            crate::audit::insert(&mut tx, note, "customer", &customer_id.to_string()).await?;
        }
        self.refresh_customer_facts(&mut tx, customer_id, customer_id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Display names (with 様 or 御中) of the given customers, in the order given; unknown ids
    /// are left out. One query per 500 ids.
    pub async fn customer_names(&self, ids: &[i64]) -> Result<Vec<(i64, String)>> {
        let rows = self
            .fetch_by_ids(ids, |list| {
                format!("SELECT id, kind, family_name, given_name, company_name FROM customers WHERE id IN ({list})")
            })
            .await?;
        let mut names = std::collections::HashMap::with_capacity(ids.len());
        for r in rows {
            let kind = CustomerKind::parse(&r.try_get::<String, _>("kind")?).unwrap_or_default();
            let name = joren_core::customer::display_name(
                kind,
                &r.try_get::<String, _>("family_name")?,
                &r.try_get::<String, _>("given_name")?,
                &r.try_get::<String, _>("company_name")?,
            );
            names.insert(r.try_get::<i64, _>("id")?, name);
        }
        Ok(ids.iter().filter_map(|id| names.remove(id).map(|n| (*id, n))).collect())
    }

    /// Every live customer, in id order, for export (`after` = last id seen, for paging).
    pub async fn customers_after(&self, after: i64, limit: i64) -> Result<Vec<Customer>> {
        let ids: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM customers WHERE merged_into IS NULL AND id > $1 ORDER BY id LIMIT $2")
                .bind(after)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
        self.customers_by_ids(&ids).await
    }
}

async fn live_customer(tx: &mut Tx, id: i64, lock: &str) -> Result<()> {
    let sql = format!("SELECT merged_into FROM customers WHERE id = $1{lock}");
    let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&mut **tx).await?;
    match row {
        None => Err(StoreError::NotFound("customer")),
        Some(r) if r.try_get::<Option<i64>, _>("merged_into")?.is_some() => {
            Err(StoreError::Conflict(joren_core::Problem::new(joren_core::Code::CustomerMerged).arg(id)))
        }
        Some(_) => Ok(()),
    }
}

pub(crate) async fn insert_customer(tx: &mut Tx, p: &CustomerProfile, external_ids: &[ExternalId]) -> Result<i64> {
    let now = now_ms();
    let id: i64 = bind_profile(
        sqlx::query_scalar(
            "INSERT INTO customers (kind, family_name, given_name, family_name_kana, given_name_kana, company_name, \
         email, phone, line_user_id, birthday, gender, postal_code, prefecture, city, street, building, notes, \
         preferences, owner_user_id, acquisition_source, acquisition_campaign, search_text, updated_at, created_at) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24) RETURNING id",
        ),
        p,
        now,
    )
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    insert_tags(tx, id, &p.tags).await?;
    insert_external_ids(tx, id, external_ids).await?;
    Ok(id)
}

/// Binds the 23 profile columns ($1 kind … $22 search_text, $23 updated_at) in table order.
fn bind_profile<'q, O>(
    q: sqlx::query::QueryScalar<'q, sqlx::Any, O, sqlx::any::AnyArguments>,
    p: &CustomerProfile,
    now: i64,
) -> sqlx::query::QueryScalar<'q, sqlx::Any, O, sqlx::any::AnyArguments> {
    q.bind(p.kind.as_str().to_string())
        .bind(p.family_name.clone())
        .bind(p.given_name.clone())
        .bind(p.family_name_kana.clone())
        .bind(p.given_name_kana.clone())
        .bind(p.company_name.clone())
        .bind(p.email.clone())
        .bind(p.phone.clone())
        .bind(p.line_user_id.clone())
        .bind(p.birthday.map(|d| d.to_string()))
        .bind(p.gender.clone())
        .bind(p.postal_code.clone())
        .bind(p.prefecture.clone())
        .bind(p.city.clone())
        .bind(p.street.clone())
        .bind(p.building.clone())
        .bind(p.notes.clone())
        .bind(p.preferences.clone())
        .bind(p.owner_user_id)
        .bind(p.acquisition_source.clone())
        .bind(p.acquisition_campaign.clone())
        .bind(p.search_text())
        .bind(now)
}

async fn write_profile(tx: &mut Tx, id: i64, p: &CustomerProfile) -> Result<()> {
    bind_profile(
        sqlx::query_scalar::<_, i64>(
            "UPDATE customers SET kind=$1, family_name=$2, given_name=$3, family_name_kana=$4, \
             given_name_kana=$5, company_name=$6, email=$7, phone=$8, line_user_id=$9, \
             birthday=$10, gender=$11, postal_code=$12, prefecture=$13, city=$14, street=$15, \
             building=$16, notes=$17, preferences=$18, owner_user_id=$19, \
             acquisition_source=$20, acquisition_campaign=$21, search_text=$22, updated_at=$23 \
             WHERE id=$24 RETURNING id",
        ),
        p,
        now_ms(),
    )
    .bind(id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_tags(tx: &mut Tx, id: i64, tags: &[String]) -> Result<()> {
    for t in tags {
        sqlx::query("INSERT INTO customer_tags (customer_id, tag) VALUES ($1, $2)")
            .bind(id)
            .bind(t)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

async fn insert_external_ids(tx: &mut Tx, id: i64, ext: &[ExternalId]) -> Result<()> {
    for x in ext {
        sqlx::query("INSERT INTO customer_external_ids (customer_id, system, external_id) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(&x.system)
            .bind(&x.external_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Records inbound message `key` (a provider's id for it) in `table` (its `column` is the
/// primary key) at `at_ms`, inside the transaction that applies it: true the first time, false
/// for a redelivery (then nothing more is to be done).
async fn first_delivery(tx: &mut Tx, table: &'static str, column: &'static str, key: &str, at_ms: i64) -> Result<bool> {
    let sql = format!("INSERT INTO {table} ({column}, received_at) VALUES ($1, $2) ON CONFLICT ({column}) DO NOTHING");
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(key).bind(at_ms).execute(&mut **tx).await?.rows_affected() == 1)
}

async fn insert_consent(
    tx: &mut Tx,
    id: i64,
    channel: &str,
    granted: bool,
    source: &str,
    actor: Option<i64>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO consent_events (customer_id, channel, granted, source, recorded_by, at) \
         VALUES ($1,$2,$3,$4,$5,$6)",
    )
    .bind(id)
    .bind(channel)
    .bind(granted as i64)
    .bind(source)
    .bind(actor)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    let detail = serde_json::json!({"channel": channel, "granted": granted, "source": source});
    crate::events::insert(tx, joren_core::event::EventKind::ConsentChanged, id, "customer", id, &detail).await
}

impl Store {
    /// Each customer's acquisition source (customers without one are left out).
    pub async fn acquisition_sources(&self) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query(
            "SELECT id, acquisition_source FROM customers WHERE acquisition_source IS NOT NULL AND merged_into IS NULL",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("acquisition_source")?))).collect()
    }
}

/// The current consent per channel from a customer's consent events, oldest first (the latest
/// event of a channel is its state), sorted by channel.
fn fold_consents(rows: &[AnyRow]) -> Result<Vec<ConsentState>> {
    let mut states: Vec<ConsentState> = Vec::new();
    for r in rows {
        let s = ConsentState {
            channel: r.try_get("channel")?,
            granted: r.try_get::<i64, _>("granted")? != 0,
            source: r.try_get("source")?,
            at: from_ms(r.try_get("at")?),
        };
        match states.iter_mut().find(|c| c.channel == s.channel) {
            Some(c) => *c = s,
            None => states.push(s),
        }
    }
    states.sort_by(|a, b| a.channel.cmp(&b.channel));
    Ok(states)
}
