//! The referral programme (see the migration `0038_referrals.sql`): codes, referrals recorded
//! once per new customer, the reward of both sides written with the referral's new state in
//! one transaction (a second dispatch of the same order finds it rewarded and does nothing),
//! and its reversal, which takes back exactly the lots granted.

use std::collections::HashMap;

use chrono::NaiveDate;
use joren_core::points::{ExpiryPolicy, ShortfallPolicy, ValueKind};
use joren_core::{Code, FieldError, Problem};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::audit::AuditNote;
use crate::points::LotSource;
use crate::{Result, Store, StoreError};

/// A referral with both customers' names.
#[derive(Debug, Clone, Serialize)]
pub struct Referral {
    pub id: i64,
    pub referrer_id: i64,
    pub referrer_name: String,
    pub referred_id: i64,
    pub referred_name: String,
    pub code: String,
    /// `pending`, `rewarded`, `reversed`.
    pub status: String,
    /// `page`, `staff`, `api`.
    pub via: String,
    pub by_name: String,
    pub created_at_ms: i64,
    pub order_id: Option<i64>,
    pub rewarded_at_ms: Option<i64>,
    pub referrer_points: i64,
    pub referred_points: i64,
    /// The referrer had reached the monthly limit: only the new customer was rewarded.
    pub over_limit: bool,
    pub reversed_at_ms: Option<i64>,
}

/// A referral to record.
#[derive(Debug, Clone)]
pub struct NewReferral {
    pub referrer_id: i64,
    pub referred_id: i64,
    pub code: String,
    pub via: &'static str,
    pub by_name: String,
}

/// How a reward is made.
#[derive(Debug, Clone)]
pub struct RewardPlan {
    pub referrer_points: i64,
    pub referred_points: i64,
    /// The most referrals a referrer is rewarded for in the month `[month_start_ms,
    /// month_end_ms)` (0: no limit).
    pub monthly_limit: u32,
    pub month_start_ms: i64,
    pub month_end_ms: i64,
    pub on: NaiveDate,
    pub expiry: ExpiryPolicy,
    pub now_ms: i64,
}

/// What a reward or a reversal did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReferralPoints {
    pub referrer: i64,
    pub referred: i64,
    pub over_limit: bool,
}

/// Referrals listed: by status and by customer (as either side).
#[derive(Debug, Clone, Default)]
pub struct ReferralFilter {
    pub status: Option<String>,
    pub customer_id: Option<i64>,
    pub limit: i64,
    pub offset: i64,
}

const REFERRAL_SELECT: &str = "SELECT r.id, r.referrer_id, r.referred_id, r.code, r.status, r.via, r.by_name, \
    r.created_at, r.order_id, r.rewarded_at, r.referrer_points, r.referred_points, r.over_limit, r.reversed_at, \
    a.kind AS a_kind, a.family_name AS a_family, a.given_name AS a_given, a.company_name AS a_company, \
    b.kind AS b_kind, b.family_name AS b_family, b.given_name AS b_given, b.company_name AS b_company \
    FROM referrals r JOIN customers a ON a.id = r.referrer_id JOIN customers b ON b.id = r.referred_id";

/// The display name of the customer whose columns are prefixed `p` (`a_kind`, `a_family`…).
fn name_of(r: &AnyRow, p: &str) -> Result<String> {
    use joren_core::customer::{CustomerKind, display_name};
    let get = |k: &str| -> Result<String> { Ok(r.try_get(format!("{p}_{k}").as_str())?) };
    let kind = CustomerKind::parse(&get("kind")?).unwrap_or(CustomerKind::Person);
    Ok(display_name(kind, &get("family")?, &get("given")?, &get("company")?))
}

fn referral_from_row(r: &AnyRow) -> Result<Referral> {
    Ok(Referral {
        id: r.try_get("id")?,
        referrer_id: r.try_get("referrer_id")?,
        referrer_name: name_of(r, "a")?,
        referred_id: r.try_get("referred_id")?,
        referred_name: name_of(r, "b")?,
        code: r.try_get("code")?,
        status: r.try_get("status")?,
        via: r.try_get("via")?,
        by_name: r.try_get("by_name")?,
        created_at_ms: r.try_get("created_at")?,
        order_id: r.try_get("order_id")?,
        rewarded_at_ms: r.try_get("rewarded_at")?,
        referrer_points: r.try_get("referrer_points")?,
        referred_points: r.try_get("referred_points")?,
        over_limit: r.try_get::<i64, _>("over_limit")? != 0,
        reversed_at_ms: r.try_get("reversed_at")?,
    })
}

impl Store {
    /// Customer `customer_id`'s referral code, if made.
    pub async fn referral_code(&self, customer_id: i64) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT code FROM referral_codes WHERE customer_id = $1")
            .bind(customer_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Gives customer `customer_id` the code `code` unless they have one: answers the code they
    /// hold, or None when `code` is another customer's (the caller draws another).
    pub async fn claim_referral_code(&self, customer_id: i64, code: &str, now_ms: i64) -> Result<Option<String>> {
        let mut tx = self.begin_write().await?;
        self.lock_live_customer(&mut tx, customer_id).await?;
        let held: Option<String> = sqlx::query_scalar("SELECT code FROM referral_codes WHERE customer_id = $1")
            .bind(customer_id)
            .fetch_optional(&mut *tx)
            .await?;
        if held.is_some() {
            tx.commit().await?;
            return Ok(held);
        }
        let taken: Option<i64> = sqlx::query_scalar("SELECT customer_id FROM referral_codes WHERE code = $1")
            .bind(code)
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_some() {
            tx.commit().await?;
            return Ok(None);
        }
        sqlx::query("INSERT INTO referral_codes (customer_id, code, created_at) VALUES ($1, $2, $3)")
            .bind(customer_id)
            .bind(code)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(code.to_string()))
    }

    /// The live customer whose code `code` is (a merged customer's code is the survivor's).
    pub async fn customer_by_referral_code(&self, code: &str) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT COALESCE(c.merged_into, c.id) FROM referral_codes k JOIN customers c ON c.id = k.customer_id \
             WHERE k.code = $1",
        )
        .bind(code)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Records a referral: refused when the new customer was referred already (naming by
    /// whom) or has an order. One referral per customer holds under concurrent calls.
    pub async fn insert_referral(&self, r: &NewReferral, now_ms: i64) -> Result<Referral> {
        let mut tx = self.begin_write().await?;
        self.lock_live_customer(&mut tx, r.referred_id).await?;
        let already = sqlx::query(AssertSqlSafe(format!("{REFERRAL_SELECT} WHERE r.referred_id = $1")))
            .bind(r.referred_id)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(row) = already {
            return Err(StoreError::Conflict(Problem::new(Code::AlreadyReferred).arg(name_of(&row, "a")?)));
        }
        let orders: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders WHERE customer_id = $1")
            .bind(r.referred_id)
            .fetch_one(&mut *tx)
            .await?;
        if orders > 0 {
            return Err(StoreError::Invalid(FieldError::new("customer_id", Code::NotNewCustomer)));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO referrals (referrer_id, referred_id, code, status, via, by_name, created_at) \
             VALUES ($1, $2, $3, 'pending', $4, $5, $6) RETURNING id",
        )
        .bind(r.referrer_id)
        .bind(r.referred_id)
        .bind(&r.code)
        .bind(r.via)
        .bind(&r.by_name)
        .bind(now_ms)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        self.get_referral(id).await
    }

    /// Whether a live customer has this email (in any case: `Hana@` is `hana@`) or this
    /// E.164 phone.
    pub async fn contact_known(&self, email: Option<&str>, phone: Option<&str>) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM customers WHERE merged_into IS NULL \
             AND ((email IS NOT NULL AND LOWER(email) = LOWER($1)) OR (phone IS NOT NULL AND phone = $2))",
        )
        .bind(email.unwrap_or(""))
        .bind(phone.unwrap_or(""))
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }

    /// Whether customer `customer_id` has any order (a referral is of new customers only).
    pub async fn has_orders(&self, customer_id: i64) -> Result<bool> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders WHERE customer_id = $1")
            .bind(customer_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(n > 0)
    }

    pub async fn get_referral(&self, id: i64) -> Result<Referral> {
        let row = sqlx::query(AssertSqlSafe(format!("{REFERRAL_SELECT} WHERE r.id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("referral"))?;
        referral_from_row(&row)
    }

    /// Referrals, newest first, with the number that matched.
    pub async fn list_referrals(&self, f: &ReferralFilter) -> Result<(i64, Vec<Referral>)> {
        let mut cond = String::from("1 = 1");
        let mut n = 0;
        let mut next = || {
            n += 1;
            n
        };
        if f.status.is_some() {
            cond.push_str(&format!(" AND r.status = ${}", next()));
        }
        if f.customer_id.is_some() {
            let i = next();
            cond.push_str(&format!(" AND (r.referrer_id = ${i} OR r.referred_id = ${i})"));
        }
        let (limit, offset) = (next(), next());
        let count_sql = format!("SELECT COUNT(*) FROM referrals r WHERE {cond}");
        let list_sql = format!(
            "{REFERRAL_SELECT} WHERE {cond} ORDER BY r.created_at DESC, r.id DESC LIMIT ${limit} OFFSET ${offset}"
        );
        let mut count = sqlx::query_scalar::<_, i64>(AssertSqlSafe(count_sql));
        let mut list = sqlx::query(AssertSqlSafe(list_sql));
        if let Some(s) = &f.status {
            count = count.bind(s.clone());
            list = list.bind(s.clone());
        }
        if let Some(c) = f.customer_id {
            count = count.bind(c);
            list = list.bind(c);
        }
        let total = count.fetch_one(&self.pool).await?;
        let rows = list.bind(f.limit).bind(f.offset).fetch_all(&self.pool).await?;
        Ok((total, rows.iter().map(referral_from_row).collect::<Result<_>>()?))
    }

    /// The pending referrals of these customers (as the new side): `(referral, customer)`.
    pub async fn pending_referrals(&self, customers: &[i64]) -> Result<Vec<(i64, i64)>> {
        if customers.is_empty() {
            return Ok(Vec::new());
        }
        let list = customers.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT id, referred_id FROM referrals WHERE status = 'pending' AND referred_id IN ({list})"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("referred_id")?))).collect()
    }

    /// Of these orders, those that rewarded a referral still standing.
    pub async fn rewarded_referral_orders(&self, orders: &[i64]) -> Result<Vec<i64>> {
        if orders.is_empty() {
            return Ok(Vec::new());
        }
        let list = orders.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        Ok(sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT order_id FROM referrals WHERE status = 'rewarded' AND order_id IN ({list})"
        )))
        .fetch_all(&self.pool)
        .await?)
    }

    /// Rewards referral `id` for order `order_id` of the new customer, once: both sides get
    /// their lots (the referrer none past the monthly limit), the referral is marked rewarded
    /// with them, and the audit entry is written, in one transaction. None when the referral
    /// is no longer pending, or the order is not the new customer's or is cancelled or
    /// wholly refunded (a later order may still reward it).
    pub async fn reward_referral(
        &self,
        id: i64,
        order_id: i64,
        plan: &RewardPlan,
        audit: &AuditNote<'_>,
    ) -> Result<Option<ReferralPoints>> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT referrer_id, referred_id, status FROM referrals WHERE id = $1{}",
            self.for_update()
        )))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound("referral"))?;
        let (referrer, referred): (i64, i64) = (row.try_get("referrer_id")?, row.try_get("referred_id")?);
        if row.try_get::<String, _>("status")? != "pending" {
            tx.commit().await?;
            return Ok(None);
        }
        let live: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM orders WHERE id = $1 AND customer_id = $2 AND status IN ('completed', 'partially_refunded')",
        )
        .bind(order_id)
        .bind(referred)
        .fetch_optional(&mut *tx)
        .await?;
        if live.is_none() {
            tx.commit().await?;
            return Ok(None);
        }
        // Both customers locked in id order (two referrals rewarded at once never wait on
        // each other crosswise), before the month's rewards are counted: a second reward of the
        // same referrer waits here and then counts the first. A reward taken back does not
        // count (its points are gone).
        for c in if referrer < referred { [referrer, referred] } else { [referred, referrer] } {
            self.lock_live_customer(&mut tx, c).await?;
        }
        let rewarded: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM referrals WHERE referrer_id = $1 AND status = 'rewarded' \
             AND referrer_points > 0 AND rewarded_at >= $2 AND rewarded_at < $3",
        )
        .bind(referrer)
        .bind(plan.month_start_ms)
        .bind(plan.month_end_ms)
        .fetch_one(&mut *tx)
        .await?;
        let over_limit = plan.monthly_limit > 0 && rewarded >= i64::from(plan.monthly_limit);
        let referrer_points = if over_limit { 0 } else { plan.referrer_points };
        let mut lots = [None, None];
        for (slot, (customer, points, side)) in
            [(referrer, referrer_points, "ご紹介"), (referred, plan.referred_points, "ご紹介による登録")]
                .into_iter()
                .enumerate()
        {
            if points > 0 {
                let source = LotSource {
                    source: "bonus",
                    reason: format!("紹介ポイント ({side}, 紹介 {id})"),
                    created_by: None,
                    breakdown: joren_core::programme::EarnBreakdown { bonus: points, ..Default::default() },
                };
                lots[slot] = Some(
                    self.grant_in(&mut tx, customer, ValueKind::Free, points, source, plan.on, plan.expiry).await?,
                );
            }
        }
        sqlx::query(
            "UPDATE referrals SET status = 'rewarded', order_id = $1, rewarded_at = $2, referrer_points = $3, \
             referred_points = $4, referrer_lot_id = $5, referred_lot_id = $6, over_limit = $7 WHERE id = $8",
        )
        .bind(order_id)
        .bind(plan.now_ms)
        .bind(referrer_points)
        .bind(plan.referred_points)
        .bind(lots[0])
        .bind(lots[1])
        .bind(i64::from(over_limit))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let out = ReferralPoints { referrer: referrer_points, referred: plan.referred_points, over_limit };
        let mut note = audit.clone();
        note.detail = serde_json::json!({"order_id": order_id, "points": out});
        crate::audit::insert(&mut tx, &note, "referral", &id.to_string()).await?;
        tx.commit().await?;
        Ok(Some(out))
    }

    /// Takes back the reward of the referral that order `order_id` rewarded (the order was
    /// cancelled or wholly refunded): each side's lot whole — what was spent from it from
    /// their other points or as debt, by `shortfall` — and the referral marked reversed, with
    /// the audit entry, in one transaction. None when no rewarded referral has this order.
    pub async fn reverse_referral_for_order(
        &self,
        order_id: i64,
        on: NaiveDate,
        shortfall: ShortfallPolicy,
        now_ms: i64,
        audit: &AuditNote<'_>,
    ) -> Result<Option<(i64, ReferralPoints)>> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT id, referrer_id, referred_id, referrer_lot_id, referred_lot_id FROM referrals \
             WHERE order_id = $1 AND status = 'rewarded'{}",
            self.for_update()
        )))
        .bind(order_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            tx.commit().await?;
            return Ok(None);
        };
        let id: i64 = row.try_get("id")?;
        let sides: [(i64, Option<i64>); 2] = [
            (row.try_get("referrer_id")?, row.try_get("referrer_lot_id")?),
            (row.try_get("referred_id")?, row.try_get("referred_lot_id")?),
        ];
        let mut ordered = sides;
        ordered.sort_by_key(|s| s.0);
        for (customer, _) in ordered {
            self.lock_live_customer(&mut tx, customer).await?;
        }
        let mut taken = [0, 0];
        for (i, (customer, lot)) in sides.into_iter().enumerate() {
            if let Some(lot) = lot {
                let (own, other, owed) = self.reverse_lot_in(&mut tx, customer, lot, on, shortfall).await?;
                taken[i] = own + other + owed;
            }
        }
        sqlx::query("UPDATE referrals SET status = 'reversed', reversed_at = $1 WHERE id = $2")
            .bind(now_ms)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let out = ReferralPoints { referrer: taken[0], referred: taken[1], over_limit: false };
        let mut note = audit.clone();
        note.detail = serde_json::json!({"order_id": order_id, "taken_back": out});
        crate::audit::insert(&mut tx, &note, "referral", &id.to_string()).await?;
        tx.commit().await?;
        Ok(Some((id, out)))
    }

    /// Rewarded referrals per referrer (reversed ones do not count).
    pub async fn referral_counts(&self) -> Result<HashMap<i64, u64>> {
        let rows = sqlx::query(
            "SELECT referrer_id, COUNT(*) AS n FROM referrals WHERE status = 'rewarded' GROUP BY referrer_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((r.try_get("referrer_id")?, r.try_get::<i64, _>("n")?.max(0) as u64))).collect()
    }

    /// Referrals by status, and those recorded since `since_ms`.
    pub async fn referral_status_counts(&self, since_ms: i64) -> Result<(HashMap<String, u64>, u64)> {
        let rows =
            sqlx::query("SELECT status, COUNT(*) AS n FROM referrals GROUP BY status").fetch_all(&self.pool).await?;
        let by_status = rows
            .iter()
            .map(|r| Ok((r.try_get("status")?, r.try_get::<i64, _>("n")?.max(0) as u64)))
            .collect::<Result<_>>()?;
        let recent: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM referrals WHERE created_at >= $1")
            .bind(since_ms)
            .fetch_one(&self.pool)
            .await?;
        Ok((by_status, recent.max(0) as u64))
    }

    /// Each live customer's latest NPS answer (by when it was given), for those who gave one.
    pub async fn latest_nps(&self) -> Result<HashMap<i64, i64>> {
        let rows = sqlx::query(
            "SELECT r.customer_id, r.nps FROM survey_responses r JOIN customers c ON c.id = r.customer_id \
             WHERE r.nps IS NOT NULL AND c.merged_into IS NULL ORDER BY r.answered_at, r.id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = HashMap::with_capacity(rows.len());
        for r in rows {
            out.insert(r.try_get::<i64, _>("customer_id")?, r.try_get::<i64, _>("nps")?);
        }
        Ok(out)
    }
}
