//! Customer use cases: create, update, search, contacts, consents, merge, timeline.

use joren_core::contact::ContactInput;
use joren_core::customer::{CONSENT_CHANNELS, CustomerInput, CustomerProfile};
use joren_store::{Contact, Customer, CustomerPage, ExternalId, MergeResult};
pub use joren_store::{Facts, TimelineEntry};
use serde::Deserialize;

use crate::{Actor, App, AppError, Result};

/// A new customer: profile fields plus external ids and initial consents. Unknown fields are
/// rejected (by name), as everywhere in the API.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(try_from = "serde_json::Map<String, serde_json::Value>")]
pub struct NewCustomer {
    pub profile: CustomerInput,
    pub external_ids: Vec<ExternalId>,
    /// Channel → granted, e.g. `{"email": true, "line": false}`.
    pub consents: std::collections::BTreeMap<String, bool>,
}

impl TryFrom<serde_json::Map<String, serde_json::Value>> for NewCustomer {
    type Error = String;

    fn try_from(mut m: serde_json::Map<String, serde_json::Value>) -> Result<Self, Self::Error> {
        let external_ids = match m.remove("external_ids") {
            Some(v) => serde_json::from_value(v).map_err(|e| format!("`external_ids`: {e}"))?,
            None => Vec::new(),
        };
        let consents = match m.remove("consents") {
            Some(v) => serde_json::from_value(v).map_err(|e| format!("`consents`: {e}"))?,
            None => Default::default(),
        };
        let profile = serde_json::from_value(serde_json::Value::Object(m)).map_err(|e| e.to_string())?;
        Ok(Self { profile, external_ids, consents })
    }
}

fn check_consent_channel(channel: &str) -> Result<()> {
    if CONSENT_CHANNELS.contains(&channel) {
        Ok(())
    } else {
        Err(joren_core::FieldError::new("consents", joren_core::Code::NotOneOf)
            .arg(channel)
            .arg(CONSENT_CHANNELS.join(", "))
            .into())
    }
}

impl App {
    pub async fn create_customer(&self, actor: &Actor, input: NewCustomer) -> Result<Customer> {
        Ok(self.create_customer_keyed(actor, input, None).await?.0)
    }

    /// [`App::create_customer`] applied once per `Idempotency-Key`: a retry with the same key
    /// and body answers the customer created the first time (`true`: replayed), before any
    /// other check (its external id is taken by then — by itself); the same key with another
    /// body is a conflict.
    pub async fn create_customer_keyed(
        &self,
        actor: &Actor,
        input: NewCustomer,
        idempotency_key: Option<&str>,
    ) -> Result<(Customer, bool)> {
        actor.require_write()?;
        let key = crate::scoped_idempotency_key(actor, idempotency_key)?;
        let body = serde_json::to_string(&(&input.profile, &input.external_ids, &input.consents)).unwrap_or_default();
        let hash = crate::sha256_hex(body.as_bytes());
        if let Some(k) = &key
            && let Some(id) = self.store.customer_created_with(k, &hash).await?
        {
            return Ok((self.store.get_customer(id).await?, true));
        }
        self.check_owner(input.profile.owner_user_id).await?;
        let profile = input.profile.apply(CustomerProfile::default())?;
        for c in input.consents.keys() {
            check_consent_channel(c)?;
        }
        for x in &input.external_ids {
            if x.system.trim().is_empty() || x.external_id.trim().is_empty() {
                return Err(joren_core::FieldError::new("external_ids", joren_core::Code::NeedSystemAndId).into());
            }
            if let Some(owner) = self.store.find_customer_by_external_id(&x.system, &x.external_id).await? {
                return Err(AppError::Conflict(
                    joren_core::Problem::new(joren_core::Code::ExternalIdTaken)
                        .arg(&x.system)
                        .arg(&x.external_id)
                        .arg(owner),
                ));
            }
        }
        let consents: Vec<(String, bool)> = input.consents.into_iter().collect();
        let source = format!("api:{}", actor.name);
        let key = key.as_deref().map(|k| (k, hash.as_str()));
        let (id, replayed) = self
            .store
            .create_customer_keyed(&profile, &input.external_ids, &consents, &source, actor.user_id, key)
            .await?;
        if !replayed {
            let name = profile.display_name();
            self.audit(actor, "customer.create", "customer", id, serde_json::json!({"name": name})).await?;
        }
        Ok((self.store.get_customer(id).await?, replayed))
    }

    /// Applies the given fields to an existing customer.
    pub async fn update_customer(&self, actor: &Actor, id: i64, input: CustomerInput) -> Result<Customer> {
        actor.require_write()?;
        let current = self.store.get_customer(id).await?;
        self.check_owner(input.owner_user_id).await?;
        let clears_owner = input.owner_user_id == Some(None);
        let changed = serde_json::to_value(&input).unwrap_or_default();
        let profile = input.apply(current.profile)?;
        self.store.update_customer(id, &profile).await?;
        let changed: serde_json::Map<String, serde_json::Value> = changed
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(k, v)| !v.is_null() || (clears_owner && k.as_str() == "owner_user_id"))
                    .map(|(k, _)| (k.clone(), serde_json::Value::Bool(true)))
                    .collect()
            })
            .unwrap_or_default();
        self.audit(actor, "customer.update", "customer", id, serde_json::json!({"fields": changed})).await?;
        Ok(self.store.get_customer(id).await?)
    }

    /// A customer's 担当者 must be an existing, enabled user.
    async fn check_owner(&self, owner: Option<Option<i64>>) -> Result<()> {
        let Some(Some(id)) = owner else { return Ok(()) };
        match self.store.user_by_id(id).await? {
            Some(u) if !u.disabled => Ok(()),
            Some(_) => Err(joren_core::FieldError::new("owner_user_id", joren_core::Code::UserDisabled).arg(id).into()),
            None => Err(joren_core::FieldError::new("owner_user_id", joren_core::Code::NoSuchUser).arg(id).into()),
        }
    }

    /// Staff who can be named 担当者: every enabled user, as (id, display name), for any
    /// signed-in user (unlike the owner-only user administration).
    pub async fn staff_directory(&self) -> Result<Vec<(i64, String)>> {
        Ok(self
            .store
            .list_users()
            .await?
            .into_iter()
            .filter(|u| !u.disabled)
            .map(|u| (u.id, if u.display_name.is_empty() { u.username } else { u.display_name }))
            .collect())
    }

    pub async fn get_customer(&self, id: i64) -> Result<Customer> {
        Ok(self.store.get_customer(id).await?)
    }

    /// A page of the customer list, narrowed and sorted (see [`joren_store::CustomerList`]); a
    /// prefecture is read the ways people write it (`東京`, `Tokyo`, `13`), a segment must be one
    /// of the analysis's codes. At most 500 a page.
    pub async fn list_customers(&self, mut list: joren_store::CustomerList) -> Result<CustomerPage> {
        let mut problems = joren_core::FieldErrors::default();
        if let Some(p) = list.prefecture.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            match joren_core::postal::validate_prefecture("prefecture", p) {
                Ok(p) => list.prefecture = Some(p),
                Err(e) => problems.0.push(e),
            }
        } else {
            list.prefecture = None;
        }
        list.tag = list.tag.map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
        list.segment = list.segment.map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
        if let Some(seg) = &list.segment
            && joren_analytics::rfm::Segment::from_code(seg).is_none()
        {
            problems
                .push("segment", joren_core::Code::NotOneOf)
                .with(seg)
                .with(crate::metrics::segment_codes().collect::<Vec<_>>().join(", "));
        }
        if !problems.0.is_empty() {
            return Err(AppError::Validation(problems));
        }
        list.limit = list.limit.clamp(1, 500);
        list.offset = list.offset.max(0);
        Ok(self.store.list_customers(&list).await?)
    }

    /// The tags customers carry, with how many carry each (the list's tag filter).
    pub async fn customer_tags(&self) -> Result<Vec<(String, i64)>> {
        Ok(self.store.customer_tags().await?)
    }

    pub async fn search_customers(&self, query: &str, limit: i64, offset: i64) -> Result<CustomerPage> {
        let limit = limit.clamp(1, 500);
        Ok(self.store.search_customers(query, limit, offset.max(0)).await?)
    }

    pub async fn add_contact(&self, actor: &Actor, customer_id: i64, input: ContactInput) -> Result<Contact> {
        actor.require_write()?;
        let profile = input.validate()?;
        let id = self.store.add_contact(customer_id, &profile).await?;
        self.audit(actor, "contact.create", "customer", customer_id, serde_json::json!({"contact_id": id})).await?;
        let contacts = self.store.list_contacts(customer_id).await?;
        contacts.into_iter().find(|c| c.id == id).ok_or(AppError::NotFound("contact"))
    }

    pub async fn list_contacts(&self, customer_id: i64) -> Result<Vec<Contact>> {
        Ok(self.store.list_contacts(customer_id).await?)
    }

    /// Records a consent change with its source (e.g. `web-form`, `phone`, `unsubscribe-link`).
    pub async fn set_consent(
        &self,
        actor: &Actor,
        customer_id: i64,
        channel: &str,
        granted: bool,
        source: &str,
    ) -> Result<Customer> {
        actor.require_write()?;
        check_consent_channel(channel)?;
        let source = if source.trim().is_empty() { format!("staff:{}", actor.name) } else { source.trim().to_string() };
        self.store.get_customer(customer_id).await?;
        let detail = serde_json::json!({"channel": channel, "granted": granted, "source": source});
        let note = actor.audit_note("customer.consent", detail);
        self.store.set_consent(customer_id, channel, granted, &source, actor.user_id, Some(&note)).await?;
        Ok(self.store.get_customer(customer_id).await?)
    }

    /// Merges `merged_id` into `survivor_id` (same person recorded twice).
    pub async fn merge_customers(&self, actor: &Actor, survivor_id: i64, merged_id: i64) -> Result<MergeResult> {
        actor.require_write()?;
        let r = self.store.merge_customers(survivor_id, merged_id, actor.user_id).await?;
        self.audit(actor, "customer.merge", "customer", survivor_id, serde_json::to_value(&r).unwrap_or_default())
            .await?;
        Ok(r)
    }

    /// Pairs of customers that may be one person (same phone, same email, or same kana name
    /// and birthday), newest first, leaving out pairs staff said are different people.
    pub async fn duplicate_suggestions(&self, limit: i64) -> Result<Vec<joren_store::DuplicatePair>> {
        Ok(self.store.duplicate_pairs(limit.clamp(1, 500)).await?)
    }

    /// Records that two customers are different people (a family sharing a phone, say), so
    /// they are no longer suggested as duplicates. Saying it twice changes nothing.
    pub async fn dismiss_duplicate(&self, actor: &Actor, a: i64, b: i64) -> Result<()> {
        actor.require_write()?;
        if a == b {
            return Err(AppError::Conflict(joren_core::Code::MergeIntoItself.into()));
        }
        self.store.get_customer(a).await?;
        self.store.get_customer(b).await?;
        if self.store.dismiss_duplicate(a, b, actor.user_id).await? {
            self.audit(actor, "customer.not_duplicate", "customer", a.min(b), serde_json::json!({"other": a.max(b)}))
                .await?;
        }
        Ok(())
    }

    pub async fn timeline(&self, customer_id: i64, limit: i64) -> Result<Vec<TimelineEntry>> {
        self.store.get_customer(customer_id).await?;
        Ok(self.store.timeline(customer_id, limit.clamp(1, 1000)).await?)
    }

    /// A page of the timeline, newest first: up to `limit` (1–1000) entries after the newest
    /// `offset` (0–100,000), and the offset of the next page if there is one.
    pub async fn timeline_page(
        &self,
        customer_id: i64,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<TimelineEntry>, Option<i64>)> {
        self.store.get_customer(customer_id).await?;
        let (limit, offset) = (limit.clamp(1, 1000), offset.clamp(0, 100_000));
        let (items, more) = self.store.timeline_page(customer_id, limit, offset).await?;
        Ok((items, more.then_some(offset + limit)))
    }
}
