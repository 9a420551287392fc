//! The referral programme (紹介, issue #20): every customer's code and link, referrals
//! recorded by the link's sign-up page, by staff or by the API (never of oneself, never of a
//! customer who has bought already, once per customer), the reward of both sides in points on
//! the new customer's first order (the referrer's within a monthly limit), taken back when that
//! order is cancelled or wholly refunded, and the report that asks whether promoters refer.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, Months};
use joren_core::referral::{ReferralSettings, check_not_self, code_from_bytes, normalize_code};
use joren_core::{Code, FieldError, Problem};
use joren_store::{NewReferral, RewardPlan};
pub use joren_store::{Referral, ReferralFilter, ReferralPoints};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::{Actor, App, AppError, Result};

const SETTINGS_KEY: &str = "referrals.settings";

/// A customer's side of the programme: their code and link, who referred them, whom they
/// referred.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerReferrals {
    pub code: String,
    pub link: String,
    pub referred_by: Option<Referral>,
    pub referred: Vec<Referral>,
    /// A referral can still be recorded for them: not referred, no order yet.
    pub can_be_referred: bool,
}

/// A new customer signing up on a referral link.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SignUp {
    pub family_name: String,
    pub given_name: String,
    pub email: String,
    pub phone: String,
    /// Agreed to receive the shop's news by mail (特定電子メール法: an opt-in of their own).
    pub mail_ok: bool,
}

/// What a sign-up came to. The page says the same for both, so it tells nobody whether an
/// address is already a customer's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignUpOutcome {
    /// A new customer, recorded as referred.
    Registered,
    /// The email or phone is a customer's already: nothing written.
    Known,
}

/// What a referral link's page offers.
#[derive(Debug, Clone, Serialize)]
pub struct ReferralOffer {
    pub shop_name: String,
    /// Points for the new customer's first order.
    pub points: i64,
}

/// One NPS group set against referrals: do promoters refer?
#[derive(Debug, Clone, Serialize)]
pub struct NpsReferrals {
    /// `promoter`, `passive`, `detractor`, `none` (never answered).
    pub group: &'static str,
    pub customers: u64,
    /// Customers of the group who referred someone (rewarded, not taken back).
    pub referrers: u64,
    pub referrals: u64,
    /// Referrers as a share of the group's customers (None: no customers).
    pub referrer_rate: Option<f64>,
}

/// The programme at a glance.
#[derive(Debug, Clone, Serialize)]
pub struct ReferralReport {
    pub settings: ReferralSettings,
    pub pending: u64,
    pub rewarded: u64,
    pub reversed: u64,
    /// Recorded in the last 30 days.
    pub last_30_days: u64,
    pub by_nps: Vec<NpsReferrals>,
    /// The customers who referred most: (customer, name, rewarded referrals).
    pub top_referrers: Vec<(i64, String, u64)>,
}

impl App {
    pub async fn referral_settings(&self) -> Result<ReferralSettings> {
        Ok(match self.store.setting(SETTINGS_KEY).await? {
            Some(json) => serde_json::from_str(&json).unwrap_or_default(),
            None => ReferralSettings::default(),
        })
    }

    /// Saves the programme's rules (owners; audited). Rewards already given stay.
    pub async fn save_referral_settings(&self, actor: &Actor, s: &ReferralSettings) -> Result<ReferralSettings> {
        actor.require_owner()?;
        s.check()?;
        let json = serde_json::to_string(s).map_err(|e| AppError::Internal(e.to_string()))?;
        self.store.set_setting(SETTINGS_KEY, &json).await?;
        self.audit(actor, "referral.settings", "settings", 0, serde_json::to_value(s).unwrap_or_default()).await?;
        Ok(s.clone())
    }

    /// Customer `customer_id`'s code, made the first time it is asked for.
    pub async fn referral_code(&self, customer_id: i64) -> Result<String> {
        if let Some(code) = self.store.referral_code(customer_id).await? {
            return Ok(code);
        }
        let now = self.config.clock.now_ms();
        // 31^8 codes: a clash is rare; a few draws settle it.
        for _ in 0..8 {
            let mut bytes = [0u8; 32];
            rand::rng().fill_bytes(&mut bytes);
            let Some(code) = code_from_bytes(&bytes) else { continue };
            if let Some(held) = self.store.claim_referral_code(customer_id, &code, now).await? {
                return Ok(held);
            }
        }
        Err(AppError::Internal("no free referral code after 8 draws".into()))
    }

    /// The page a code's link opens.
    pub fn referral_url(&self, code: &str) -> String {
        format!("{}/r/{code}", self.mail().public_url.trim_end_matches('/'))
    }

    /// A customer's code, link and referrals (the code is made if they had none).
    pub async fn customer_referrals(&self, customer_id: i64) -> Result<CustomerReferrals> {
        self.store.get_customer(customer_id).await?;
        let code = self.referral_code(customer_id).await?;
        let filter = ReferralFilter { customer_id: Some(customer_id), limit: 500, ..ReferralFilter::default() };
        let (_, all) = self.store.list_referrals(&filter).await?;
        let (by, made): (Vec<_>, Vec<_>) = all.into_iter().partition(|r| r.referred_id == customer_id);
        let can_be_referred = by.is_empty() && !self.store.has_orders(customer_id).await?;
        Ok(CustomerReferrals {
            link: self.referral_url(&code),
            code,
            referred_by: by.into_iter().next(),
            referred: made,
            can_be_referred,
        })
    }

    pub async fn list_referrals(&self, filter: &ReferralFilter) -> Result<(i64, Vec<Referral>)> {
        if let Some(s) = &filter.status
            && !["pending", "rewarded", "reversed"].contains(&s.as_str())
        {
            return Err(FieldError::new("status", Code::NotOneOf).arg(s).arg("pending, rewarded, reversed").into());
        }
        Ok(self.store.list_referrals(filter).await?)
    }

    /// The referrer a code as typed names (full-width, lower case and hyphens read).
    async fn referrer_of(&self, code: &str) -> Result<(i64, String)> {
        let unknown = || AppError::from(FieldError::new("code", Code::UnknownReferralCode).arg(code.trim()));
        let code = normalize_code(code).ok_or_else(unknown)?;
        let referrer = self.store.customer_by_referral_code(&code).await?.ok_or_else(unknown)?;
        Ok((referrer, code))
    }

    /// Records that customer `referred_id` came by the code `code` (`via` `staff` on the
    /// customer page, `api`; audited). Refused when the programme is off, the code is no
    /// one's, the customer is the referrer (or shares their email, phone or address), was
    /// referred already or has bought before.
    pub async fn record_referral(
        &self,
        actor: &Actor,
        code: &str,
        referred_id: i64,
        via: &'static str,
    ) -> Result<Referral> {
        actor.require_write()?;
        let r = self.refer(code, referred_id, via, &actor.name).await?;
        let detail = serde_json::json!({"referrer_id": r.referrer_id, "referred_id": r.referred_id, "code": r.code});
        self.audit(actor, "referral.record", "referral", r.id, detail).await?;
        Ok(r)
    }

    async fn refer(&self, code: &str, referred_id: i64, via: &'static str, by: &str) -> Result<Referral> {
        if !self.referral_settings().await?.enabled {
            return Err(AppError::Conflict(Problem::new(Code::ReferralsOff)));
        }
        let (referrer_id, code) = self.referrer_of(code).await?;
        let referrer = self.store.get_customer(referrer_id).await?;
        let referred = self.store.get_customer(referred_id).await?;
        check_not_self((referrer.id, &referrer.profile), (referred.id, &referred.profile))?;
        let new = NewReferral { referrer_id, referred_id, code, via, by_name: by.to_string() };
        Ok(self.store.insert_referral(&new, self.config.clock.now_ms()).await?)
    }

    /// What the link's page offers: the shop's name and the new customer's points. Not found
    /// for a code that is no one's or while the programme is off (the page tells nobody which).
    pub async fn referral_offer(&self, code: &str) -> Result<ReferralOffer> {
        let settings = self.referral_settings().await?;
        if !settings.enabled || self.referrer_of(code).await.is_err() {
            return Err(AppError::NotFound("referral"));
        }
        Ok(ReferralOffer { shop_name: self.mail().shop_name.clone(), points: settings.referred_points })
    }

    /// The link's sign-up form (no login): a new customer with the name, email and phone given
    /// (at least one of the two), the mail consent only if ticked, recorded as referred.
    /// An email or phone that is a customer's already writes nothing (`Known`). Refused with
    /// the field named for bad input, an unknown code or the programme off.
    pub async fn sign_up_by_referral(&self, code: &str, form: &SignUp) -> Result<SignUpOutcome> {
        if !self.referral_settings().await?.enabled {
            return Err(AppError::Conflict(Problem::new(Code::ReferralsOff)));
        }
        let (_, code) = self.referrer_of(code).await?;
        let opt = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
        let mut errors = Vec::new();
        if form.family_name.trim().is_empty() {
            errors.push(FieldError::new("family_name", Code::Required));
        }
        if form.email.trim().is_empty() && form.phone.trim().is_empty() {
            errors.push(FieldError::new("email", Code::Required));
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(joren_core::FieldErrors(errors)));
        }
        let input = joren_core::customer::CustomerInput {
            family_name: opt(&form.family_name),
            given_name: opt(&form.given_name),
            email: opt(&form.email),
            phone: opt(&form.phone),
            acquisition_source: Some("referral".into()),
            acquisition_campaign: Some(code.clone()),
            ..Default::default()
        };
        // Validated (and normalised) first, so a known address is found however it was typed.
        let profile = input.clone().apply(joren_core::customer::CustomerProfile::default())?;
        if self.store.contact_known(profile.email.as_deref(), profile.phone.as_deref()).await? {
            return Ok(SignUpOutcome::Known);
        }
        let actor = Actor::system("referral page");
        let mut consents = BTreeMap::new();
        if form.mail_ok && profile.email.is_some() {
            consents.insert("email".to_string(), true);
        }
        let new = crate::customers::NewCustomer { profile: input, external_ids: Vec::new(), consents };
        let customer = self.create_customer(&actor, new).await?;
        self.refer(&code, customer.id, "page", &actor.name).await?;
        Ok(SignUpOutcome::Registered)
    }

    /// After orders were placed (the event dispatcher): rewards the pending referrals of
    /// their customers, each once, on the first live order. Answers how many were rewarded.
    pub(crate) async fn reward_referrals(&self, orders: &[(i64, i64)]) -> Result<usize> {
        if orders.is_empty() {
            return Ok(0);
        }
        let customers: Vec<i64> = orders.iter().map(|(c, _)| *c).collect();
        let pending = self.store.pending_referrals(&customers).await?;
        if pending.is_empty() {
            return Ok(0);
        }
        let settings = self.referral_settings().await?;
        if !settings.enabled {
            return Ok(0);
        }
        let programme = self.points_programme().await?;
        let tz = self.tz();
        let today = self.today_date();
        let first = today.with_day(1).unwrap_or(today);
        let next = first.checked_add_months(Months::new(1)).unwrap_or(first);
        let ms = |d| joren_core::time::start_of_day(d, tz).timestamp_millis();
        let plan = RewardPlan {
            referrer_points: settings.referrer_points,
            referred_points: settings.referred_points,
            monthly_limit: settings.monthly_limit,
            month_start_ms: ms(first),
            month_end_ms: ms(next),
            on: today,
            expiry: programme.expiry,
            now_ms: self.config.clock.now_ms(),
        };
        let actor = Actor::system("referral");
        let note = actor.audit_note("referral.reward", serde_json::Value::Null);
        let by_customer: HashMap<i64, i64> = pending.into_iter().map(|(id, c)| (c, id)).collect();
        let mut rewarded = 0;
        for (customer, order) in orders {
            let Some(id) = by_customer.get(customer) else { continue };
            match self.store.reward_referral(*id, *order, &plan, &note).await {
                Ok(Some(_)) => rewarded += 1,
                Ok(None) => {}
                // A side merged into another record meanwhile: this referral cannot be paid,
                // and must not hold up the events behind it.
                Err(joren_store::StoreError::Invalid(e)) => {
                    tracing::warn!(referral = id, error = %e, "referral not rewarded");
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(rewarded)
    }

    /// After orders were cancelled or wholly refunded (the event dispatcher): takes back the
    /// referral rewards they gave, each once. Answers how many were taken back.
    pub(crate) async fn reverse_referrals(&self, orders: &[i64]) -> Result<usize> {
        let rewarded = self.store.rewarded_referral_orders(orders).await?;
        if rewarded.is_empty() {
            return Ok(0);
        }
        let programme = self.points_programme().await?;
        let actor = Actor::system("referral");
        let note = actor.audit_note("referral.reverse", serde_json::Value::Null);
        let (today, now) = (self.today_date(), self.config.clock.now_ms());
        let mut reversed = 0;
        for order in rewarded {
            match self.store.reverse_referral_for_order(order, today, programme.shortfall, now, &note).await {
                Ok(done) => reversed += usize::from(done.is_some()),
                // A side merged into another record meanwhile (see `reward_referrals`).
                Err(joren_store::StoreError::Invalid(e)) => {
                    tracing::warn!(order, error = %e, "referral reward not taken back");
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(reversed)
    }

    /// The programme's counts, the customers who refer most, and referrals by NPS group.
    pub async fn referral_report(&self) -> Result<ReferralReport> {
        let settings = self.referral_settings().await?;
        let since = self.config.clock.now_ms() - 30 * 86_400_000;
        let (by_status, last_30_days) = self.store.referral_status_counts(since).await?;
        let counts = self.store.referral_counts().await?;
        let latest = self.store.latest_nps().await?;
        let live = self.store.count_customers().await?.max(0) as u64;
        let group_of = |nps: Option<i64>| nps.and_then(joren_core::survey::nps_group).unwrap_or("none");
        // (customers, referrers, referrals) per group: the answered customers by their latest
        // answer, the rest of the live customers in `none`.
        let mut groups: BTreeMap<&'static str, (u64, u64, u64)> = BTreeMap::new();
        for nps in latest.values() {
            groups.entry(group_of(Some(*nps))).or_default().0 += 1;
        }
        groups.entry("none").or_default().0 = live.saturating_sub(latest.len() as u64);
        for (referrer, made) in &counts {
            let g = groups.entry(group_of(latest.get(referrer).copied())).or_default();
            g.1 += u64::from(*made > 0);
            g.2 += made;
        }
        let by_nps = ["promoter", "passive", "detractor", "none"]
            .into_iter()
            .map(|group| {
                let (customers, referrers, referrals) = groups.get(group).copied().unwrap_or_default();
                NpsReferrals {
                    group,
                    customers,
                    referrers,
                    referrals,
                    referrer_rate: (customers > 0).then(|| referrers as f64 / customers as f64),
                }
            })
            .collect();
        let mut top: Vec<(i64, u64)> = counts.into_iter().collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        top.truncate(10);
        let ids: Vec<i64> = top.iter().map(|t| t.0).collect();
        let names: HashMap<i64, String> =
            self.store.customers_by_ids(&ids).await?.into_iter().map(|c| (c.id, c.display_name)).collect();
        let top_referrers =
            top.into_iter().map(|(id, n)| (id, names.get(&id).cloned().unwrap_or_default(), n)).collect();
        let get = |s: &str| by_status.get(s).copied().unwrap_or(0);
        Ok(ReferralReport {
            settings,
            pending: get("pending"),
            rewarded: get("rewarded"),
            reversed: get("reversed"),
            last_30_days,
            by_nps,
            top_referrers,
        })
    }
}
