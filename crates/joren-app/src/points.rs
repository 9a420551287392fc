//! Points use cases: the programme settings, a customer's account, manual grants and
//! deductions (with a reason, audited), redemption at checkout (reserve → confirm / cancel,
//! idempotent by key), the scheduled expiry and the liability report. Orders earn and refunds
//! reverse inside the order's own transaction (see [`crate::orders`]).

use chrono::{NaiveDate, Utc};
use joren_core::FieldError;
use joren_core::points::{ExpiryPolicy, ValueKind};
use joren_core::programme::{Buyer, EarnBreakdown, EarnLine, Programme};
pub use joren_store::{ExpiryRun, LotMismatch, PointsAccount, PointsMonth, Redemption};
use joren_store::{LotSource, RedemptionRequest};
use serde::{Deserialize, Serialize};

use crate::{Actor, App, Result, sha256_hex};

/// What one run of the points schedule did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PointsSchedule {
    /// Checkout reservations whose hold ran out.
    pub reservations_cancelled: usize,
    pub expired: joren_store::ExpiryRun,
    /// Birthday bonuses granted (on the day's first run).
    pub birthday_bonuses: usize,
}

const SETTING: &str = "points.programme";

/// A manual grant (or a sale of paid value) as the API and the page send it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GrantInput {
    pub points: i64,
    #[serde(default = "free")]
    pub kind: ValueKind,
    pub reason: String,
    /// Last spendable day; absent: the programme's expiry for free points, none for paid.
    #[serde(default)]
    pub expires_on: Option<NaiveDate>,
}

/// A manual deduction.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeductInput {
    pub points: i64,
    #[serde(default = "free")]
    pub kind: ValueKind,
    pub reason: String,
}

/// Points held at checkout.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReserveInput {
    pub customer_id: i64,
    pub points: i64,
    #[serde(default = "free")]
    pub kind: ValueKind,
    #[serde(default)]
    pub order_id: Option<i64>,
    #[serde(default)]
    pub note: String,
}

fn free() -> ValueKind {
    ValueKind::Free
}

/// What the settings page previews: an order of `total` yen by a customer of some rank.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PreviewInput {
    pub total: i64,
    #[serde(default)]
    pub tax: i64,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub on: Option<NaiveDate>,
    #[serde(default = "hundred")]
    pub rank_multiplier_percent: i64,
    /// The buyer's rank level (for campaigns from a rank up).
    #[serde(default)]
    pub rank_level: usize,
    /// The buyer's RFM segment code (for segment campaigns).
    #[serde(default)]
    pub segment: Option<String>,
    #[serde(default)]
    pub first_order: bool,
}

fn hundred() -> i64 {
    100
}

/// A preview's answer: the points and when they can be spent and expire.
#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    pub earned: EarnBreakdown,
    pub total: i64,
    pub available_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
}

fn check_points(points: i64) -> Result<()> {
    if !(1..=99_999_999).contains(&points) {
        return Err(FieldError::new("points", joren_core::Code::Range).arg(1).arg(99_999_999).into());
    }
    Ok(())
}

/// The points and the reason of a manual grant or deduction, every problem at once.
fn check_adjustment(points: i64, reason: &str) -> Result<()> {
    let mut e = joren_core::FieldErrors::default();
    if let Err(crate::AppError::Validation(x)) = check_points(points) {
        e.0.extend(x.0);
    }
    if let Err(crate::AppError::Validation(x)) = check_reason(reason) {
        e.0.extend(x.0);
    }
    if e.0.is_empty() { Ok(()) } else { Err(crate::AppError::Validation(e)) }
}

pub(crate) fn check_reason(reason: &str) -> Result<()> {
    if reason.trim().is_empty() {
        return Err(FieldError::new("reason", joren_core::Code::NeedReason).into());
    }
    joren_core::text::check_text("reason", reason, 1_000)?;
    Ok(())
}

impl App {
    /// The shop's local calendar date now.
    pub fn today_date(&self) -> NaiveDate {
        self.local_date(self.now())
    }

    /// The shop's local calendar date of a moment.
    pub fn local_date(&self, t: chrono::DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.config.time_zone).date_naive()
    }

    /// The programme settings (defaults until the owner saves some).
    pub async fn points_programme(&self) -> Result<Programme> {
        match self.store.setting(SETTING).await? {
            Some(json) => serde_json::from_str(&json)
                .map_err(|e| crate::AppError::Internal(format!("stored points programme: {e}"))),
            None => Ok(Programme::default()),
        }
    }

    /// What an order or refund write needs to apply the programme on local day `on`.
    pub(crate) fn points_context<'a>(&self, programme: &'a Programme, on: NaiveDate) -> joren_store::PointsContext<'a> {
        joren_store::PointsContext { programme, on, today: self.today_date(), tz: self.tz() }
    }

    /// Saves the programme (owners); every problem is named by field.
    pub async fn set_points_programme(&self, actor: &Actor, programme: Programme) -> Result<()> {
        actor.require_owner()?;
        let mut errors = programme.validate().err().unwrap_or_default();
        for (i, c) in programme.campaigns.iter().enumerate() {
            if let Some(code) = &c.segment
                && !code.trim().is_empty()
                && joren_analytics::rfm::Segment::from_code(code).is_none()
            {
                errors.push(&format!("campaigns[{i}].segment"), joren_core::Code::NoSuchRfmSegment).with(code);
            }
        }
        if !errors.is_empty() {
            return Err(errors.into());
        }
        let json = serde_json::to_string(&programme).map_err(|e| crate::AppError::Internal(e.to_string()))?;
        self.store.set_setting(SETTING, &json).await?;
        self.audit(
            actor,
            "settings.points_programme",
            "settings",
            SETTING,
            serde_json::to_value(&programme).unwrap_or_default(),
        )
        .await
    }

    /// What an order would earn under `programme` (the settings page's preview).
    pub fn preview_points(&self, programme: &Programme, input: &PreviewInput) -> Preview {
        let on = input.on.unwrap_or_else(|| self.today_date());
        let lines: Vec<EarnLine<'_>> =
            input.category.as_deref().map(|c| vec![EarnLine { category: c, amount: input.total }]).unwrap_or_default();
        let buyer = Buyer {
            rank_level: input.rank_level,
            rank_multiplier_percent: input.rank_multiplier_percent,
            segment: input.segment.as_deref(),
            first_order: input.first_order,
        };
        let earned = programme.points_for_order(input.total, input.tax, &lines, on, buyer);
        Preview {
            earned,
            total: earned.total(),
            available_on: on + chrono::Days::new(u64::from(programme.pending_days)),
            expires_on: programme.expiry.expires_on(on),
        }
    }

    /// A customer's points today.
    pub async fn points_account(&self, customer_id: i64) -> Result<PointsAccount> {
        Ok(self.store.points_account(customer_id, self.today_date()).await?)
    }

    /// Grants points by hand with a reason (audited); idempotent by key.
    pub async fn grant_points(
        &self,
        actor: &Actor,
        customer_id: i64,
        input: GrantInput,
        key: Option<&str>,
    ) -> Result<(i64, bool)> {
        actor.require_write()?;
        let key = crate::scoped_idempotency_key(actor, key)?;
        let key = key.as_deref();
        check_adjustment(input.points, &input.reason)?;
        let today = self.today_date();
        let expiry = match (input.expires_on, input.kind) {
            (Some(d), _) if d < today => {
                return Err(FieldError::new("expires_on", joren_core::Code::DateInPast).into());
            }
            (Some(date), _) => ExpiryPolicy::Until { date },
            (None, ValueKind::Free) => self.points_programme().await?.expiry,
            (None, ValueKind::Paid) => ExpiryPolicy::Never,
        };
        let hash = sha256_hex(serde_json::to_string(&(customer_id, &input)).unwrap_or_default().as_bytes());
        let source = LotSource {
            source: if input.kind == ValueKind::Paid { "purchase" } else { "manual" },
            reason: input.reason.trim().to_string(),
            created_by: actor.user_id,
            breakdown: Default::default(),
        };
        let note = actor.audit_note("points.grant", serde_json::json!({"input": input}));
        let idempotency = key.map(|k| (k, hash.as_str()));
        Ok(self
            .store
            .grant_points(customer_id, input.kind, input.points, source, today, expiry, idempotency, Some(&note))
            .await?)
    }

    /// Grants the programme's survey bonus for survey response `response_id` answered by the
    /// customer (the survey module, or another survey tool through the API, calls this): once
    /// per response, however often it is called. Answers the lot's id, or `None` when the
    /// response already earned it or the bonus is off.
    pub async fn grant_survey_bonus(&self, actor: &Actor, customer_id: i64, response_id: i64) -> Result<Option<i64>> {
        actor.require_write()?;
        if response_id <= 0 {
            return Err(FieldError::new("response_id", joren_core::Code::NotPositive).arg(response_id).into());
        }
        let programme = self.points_programme().await?;
        if programme.survey_bonus <= 0 || !programme.enabled {
            return Ok(None);
        }
        let today = self.today_date();
        let source = LotSource {
            source: "bonus",
            reason: format!("アンケート回答ポイント (回答 {response_id})"),
            created_by: actor.user_id,
            breakdown: EarnBreakdown { bonus: programme.survey_bonus, ..EarnBreakdown::default() },
        };
        let detail = serde_json::json!({"response_id": response_id, "points": programme.survey_bonus});
        let note = actor.audit_note("points.survey_bonus", detail);
        Ok(self
            .store
            .grant_bonus_once(
                customer_id,
                "survey",
                response_id,
                programme.survey_bonus,
                source,
                today,
                programme.expiry,
                Some(&note),
            )
            .await?)
    }

    /// Deducts points by hand with a reason (audited): a confirmed redemption of kind
    /// `adjustment`, soonest-expiring lots first.
    pub async fn deduct_points(
        &self,
        actor: &Actor,
        customer_id: i64,
        input: DeductInput,
        key: Option<&str>,
    ) -> Result<Redemption> {
        actor.require_write()?;
        let key = crate::scoped_idempotency_key(actor, key)?;
        let key = key.as_deref();
        check_adjustment(input.points, &input.reason)?;
        let hash = sha256_hex(serde_json::to_string(&("deduct", customer_id, &input)).unwrap_or_default().as_bytes());
        let r = self
            .store
            .redeem_points(&RedemptionRequest {
                customer_id,
                kind: input.kind,
                points: input.points,
                purpose: "adjustment",
                order_id: None,
                reason: input.reason.trim(),
                idempotency_key: key,
                request_hash: &hash,
                hold_until: None,
                on: self.today_date(),
                actor: actor.user_id,
                audit: Some(&actor.audit_note("points.deduct", serde_json::json!({"input": input}))),
            })
            .await?;
        Ok(r)
    }

    /// Holds points at checkout for the programme's reservation time; idempotent by key (a
    /// retry answers the first redemption; another body with the key is a conflict).
    pub async fn reserve_points(&self, actor: &Actor, input: ReserveInput, key: Option<&str>) -> Result<Redemption> {
        actor.require_write()?;
        let key = crate::scoped_idempotency_key(actor, key)?;
        let key = key.as_deref();
        check_points(input.points)?;
        let programme = self.points_programme().await?;
        let hash = sha256_hex(serde_json::to_string(&("reserve", &input)).unwrap_or_default().as_bytes());
        let hold = self.now() + chrono::Duration::minutes(i64::from(programme.reservation_minutes));
        let r = self
            .store
            .redeem_points(&RedemptionRequest {
                customer_id: input.customer_id,
                kind: input.kind,
                points: input.points,
                purpose: "checkout",
                order_id: input.order_id,
                reason: input.note.trim(),
                idempotency_key: key,
                request_hash: &hash,
                hold_until: Some(hold),
                on: self.today_date(),
                actor: actor.user_id,
                audit: Some(&actor.audit_note("points.reserve", serde_json::json!({"input": input}))),
            })
            .await?;
        Ok(r)
    }

    /// Confirms a reserved redemption (again: the same answer); audited once.
    pub async fn confirm_redemption(&self, actor: &Actor, id: i64, order_id: Option<i64>) -> Result<Redemption> {
        actor.require_write()?;
        let note = actor.audit_note("points.confirm_redemption", serde_json::json!({}));
        Ok(self.store.confirm_redemption(id, order_id, Some(&note)).await?)
    }

    /// Cancels a redemption: its points go back to their lots (again: the same answer, with
    /// no second audit entry). A manual deduction made by someone else is cancelled only by
    /// an owner; a confirmed checkout redemption not at all (refund the order instead).
    pub async fn cancel_redemption(&self, actor: &Actor, id: i64) -> Result<Redemption> {
        actor.require_write()?;
        let current = self.store.get_redemption(id).await?;
        if current.purpose == "adjustment" && (current.created_by.is_none() || current.created_by != actor.user_id) {
            actor.require_owner().map_err(|_| crate::AppError::Forbidden(joren_core::Code::OwnerOnly.into()))?;
        }
        let note = actor.audit_note("points.cancel_redemption", serde_json::json!({}));
        Ok(self.store.cancel_redemption(id, self.today_date(), Some(&note)).await?)
    }

    pub async fn get_redemption(&self, id: i64) -> Result<Redemption> {
        Ok(self.store.get_redemption(id).await?)
    }

    /// The scheduled points work, as of now in the shop's time zone, all at once: cancels
    /// reservations whose hold ran out, expires lots after their last day, evaluates ranks and
    /// grants the birthday bonuses due. The worker runs these as separate jobs (every minute
    /// and daily, see [`crate::jobs`]); this is for the CLI and the API. Safe to run any time,
    /// on any number of processes (each step re-checks what is due).
    pub async fn run_points_schedule(&self) -> Result<PointsSchedule> {
        let today = self.today_date();
        let (reservations_cancelled, expired) = self.release_holds_and_expire(today).await?;
        self.evaluate_ranks(today).await?;
        let birthday_bonuses = self.grant_birthday_bonuses(today).await?;
        Ok(PointsSchedule { reservations_cancelled, expired, birthday_bonuses })
    }

    /// The every-minute part of the schedule: cancels checkout holds that ran out (now), then
    /// expires lots after their last day (as of `today`). Answers the holds cancelled.
    pub(crate) async fn release_holds_and_expire(&self, today: NaiveDate) -> Result<(usize, ExpiryRun)> {
        let stale = self.store.stale_reservations(self.now()).await?;
        for id in &stale {
            match self.store.cancel_redemption(*id, today, None).await {
                // Confirmed at the till after the list was read: it stays.
                Ok(_) | Err(joren_store::StoreError::Conflict(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok((stale.len(), self.expire_points(today).await?))
    }

    /// Grants the programme's birthday bonus to every live customer whose bonus is due on
    /// local day `today` and not yet granted for that year (see
    /// [`joren_core::programme::BirthdayBonus::due_year`]). Answers how many were granted.
    pub async fn grant_birthday_bonuses(&self, today: NaiveDate) -> Result<usize> {
        let programme = self.points_programme().await?;
        let bonus = programme.birthday_bonus;
        if bonus.points <= 0 {
            return Ok(0);
        }
        let mut granted = 0;
        for (customer, birthday) in self.store.customer_birthdays().await? {
            let Some(year) = bonus.due_year(birthday, today) else { continue };
            let source = LotSource {
                source: "bonus",
                reason: format!("誕生日ポイント ({year}年)"),
                created_by: None,
                breakdown: EarnBreakdown { bonus: bonus.points, ..EarnBreakdown::default() },
            };
            let lot = self
                .store
                .grant_bonus_once(
                    customer,
                    "birthday",
                    year.into(),
                    bonus.points,
                    source,
                    today,
                    programme.expiry,
                    None,
                )
                .await?;
            granted += usize::from(lot.is_some());
        }
        Ok(granted)
    }

    /// Expires points as of local day `today` (the scheduler passes the shop's today).
    pub async fn expire_points(&self, today: NaiveDate) -> Result<ExpiryRun> {
        Ok(self.store.expire_points(today).await?)
    }

    /// Customers whose points expire within `days` from today, with points and first date
    /// (the "points expiring" event for follow-up messages).
    pub async fn points_expiring_within(&self, days: u64) -> Result<Vec<(i64, i64, NaiveDate)>> {
        let today = self.today_date();
        Ok(self.store.points_expiring(today, today + chrono::Days::new(days)).await?)
    }

    /// Monthly issued / redeemed / expired / reversed / outstanding, per value kind.
    pub async fn points_report(&self) -> Result<Vec<PointsMonth>> {
        Ok(self.store.points_report().await?)
    }

    /// Outstanding (free, paid) points now.
    pub async fn points_outstanding(&self) -> Result<(i64, i64)> {
        Ok(self.store.points_outstanding().await?)
    }

    /// Lots that do not equal the sum of their entries (empty: the ledger is whole).
    pub async fn verify_points(&self) -> Result<Vec<LotMismatch>> {
        Ok(self.store.verify_points().await?)
    }
}
