//! LINE users and their webhook events: an event applied once (by its `webhookEventId`),
//! follow and unfollow as LINE consent of the linked customer, messages on the linked
//! customer's timeline or — from a user not linked yet — kept until staff link them.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{insert_consent, live_customer};
use crate::{Result, Store, StoreError, now_ms, to_ms};

/// Link codes from one LINE user that may miss within [`CODE_MISS_WINDOW_MS`]; past that, their
/// codes are not looked up (read as plain messages) until the window is over.
pub const MAX_CODE_MISSES: i64 = 10;
const CODE_MISS_WINDOW_MS: i64 = 3_600_000;

/// What a webhook event says happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineEventKind {
    Follow,
    Unfollow,
    /// A message (`kind`: text, sticker, image…, or postback for a button's answer) with its
    /// text. On the timeline it is an interaction `line`/`in` whose subject is the kind — empty
    /// for text — for the pages to word.
    Message {
        kind: String,
        body: String,
    },
}

/// One webhook event from a LINE user.
#[derive(Debug, Clone)]
pub struct LineEvent {
    pub event_id: String,
    pub line_user_id: String,
    pub at: DateTime<Utc>,
    pub kind: LineEventKind,
    /// A message that reads as a link code (digits only, as the app normalised it): from a user
    /// not linked yet, a live code links them to its customer.
    pub link_code: Option<String>,
    /// Now, by the app's clock (codes expire by it).
    pub received_at: DateTime<Utc>,
}

/// What applying an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineApplied {
    /// Seen before (a redelivery): nothing done again.
    Repeated,
    /// Applied to the linked customer.
    Customer(i64),
    /// Applied to a user no customer is linked to yet.
    Unlinked,
}

/// A message waiting for its LINE user to be linked.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WaitingLineMessage {
    pub line_user_id: String,
    /// The message's kind: empty for text, else sticker, image, postback…
    pub kind: String,
    pub body: String,
    pub at: DateTime<Utc>,
}

/// A LINE user no customer is linked to.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WaitingLineUser {
    pub line_user_id: String,
    /// Whether they follow the shop's account.
    pub following: bool,
    pub last_event_at: DateTime<Utc>,
    pub waiting_messages: i64,
}

/// A LINE user linked to a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineLinked {
    /// Messages the user sent before, moved onto the customer's timeline.
    pub moved_messages: i64,
    /// Whether the user follows the shop's account (their LINE consent), if they were seen.
    pub following: Option<bool>,
}

/// Another live customer `line_user_id` is linked to, if any.
async fn linked_elsewhere(tx: &mut crate::db::Tx, customer_id: i64, line_user_id: &str) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM customers WHERE line_user_id = $1 AND merged_into IS NULL AND id <> $2 LIMIT 1",
    )
    .bind(line_user_id)
    .bind(customer_id)
    .fetch_optional(&mut **tx)
    .await?)
}

/// Links `line_user_id` to `customer_id` inside `tx`: the user's waiting messages move to the
/// customer's timeline, their follow state becomes LINE consent from `source`.
async fn link_in_tx(
    tx: &mut crate::db::Tx,
    customer_id: i64,
    line_user_id: &str,
    actor: Option<i64>,
    source: &str,
) -> Result<LineLinked> {
    sqlx::query("UPDATE customers SET line_user_id = $2, updated_at = $3 WHERE id = $1")
        .bind(customer_id)
        .bind(line_user_id)
        .bind(now_ms())
        .execute(&mut **tx)
        .await?;
    let moved = sqlx::query(
        "INSERT INTO interactions (customer_id, contact_id, kind, direction, staff_user_id, subject, body, \
         occurred_at, created_at) SELECT $1, NULL, 'line', 'in', NULL, kind, body, occurred_at, $3 \
         FROM line_unlinked_messages WHERE line_user_id = $2",
    )
    .bind(customer_id)
    .bind(line_user_id)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?
    .rows_affected() as i64;
    sqlx::query("DELETE FROM line_unlinked_messages WHERE line_user_id = $1")
        .bind(line_user_id)
        .execute(&mut **tx)
        .await?;
    crate::conversations::link_customer(tx, "line", line_user_id, customer_id).await?;
    let following: Option<bool> = sqlx::query("SELECT following FROM line_users WHERE line_user_id = $1")
        .bind(line_user_id)
        .fetch_optional(&mut **tx)
        .await?
        .map(|r| r.try_get::<i64, _>("following").map(|f| f != 0))
        .transpose()?;
    if let Some(f) = following {
        insert_consent(tx, customer_id, "line", f, source, actor).await?;
    }
    Ok(LineLinked { moved_messages: moved, following })
}

/// The timeline subject of a LINE message of `kind`: empty for text (the text says it all).
fn subject_of(kind: &str) -> &str {
    if kind == "text" { "" } else { kind }
}

impl Store {
    /// Applies one webhook event in one transaction, once: a redelivered event id is
    /// [`LineApplied::Repeated`] and changes nothing.
    pub async fn apply_line_event(&self, e: &LineEvent) -> Result<LineApplied> {
        let mut tx = self.begin_write().await?;
        if !super::first_delivery(&mut tx, "line_webhook_events", "event_id", &e.event_id, to_ms(e.received_at)).await?
        {
            tx.commit().await?;
            return Ok(LineApplied::Repeated);
        }
        let at = to_ms(e.at);
        // A message comes from someone who follows the account.
        let following = !matches!(e.kind, LineEventKind::Unfollow);
        sqlx::query(
            "INSERT INTO line_users (line_user_id, following, following_at, first_seen_at, last_event_at) \
             VALUES ($1, $2, $3, $3, $3) ON CONFLICT (line_user_id) DO NOTHING",
        )
        .bind(&e.line_user_id)
        .bind(following as i64)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        // Follow state from this event unless a newer one set it already.
        let changed = match e.kind {
            LineEventKind::Follow | LineEventKind::Unfollow => {
                sqlx::query(
                    "UPDATE line_users SET following = $2, following_at = $3 \
                     WHERE line_user_id = $1 AND following_at <= $3",
                )
                .bind(&e.line_user_id)
                .bind(following as i64)
                .bind(at)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                    == 1
            }
            LineEventKind::Message { .. } => false,
        };
        sqlx::query("UPDATE line_users SET last_event_at = $2 WHERE line_user_id = $1 AND last_event_at < $2")
            .bind(&e.line_user_id)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        let mut customer: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM customers WHERE line_user_id = $1 AND merged_into IS NULL ORDER BY id LIMIT 1",
        )
        .bind(&e.line_user_id)
        .fetch_optional(&mut *tx)
        .await?;
        // A link code from a user not linked yet: a live one links them (its messages so far
        // move to the customer's timeline, this one lands there below).
        if let (None, Some(code)) = (customer, &e.link_code) {
            let now = to_ms(e.received_at);
            // Misses in the last hour (a new hour starts the count again).
            let (misses, since): (i64, i64) = {
                let r = sqlx::query("SELECT code_misses, code_misses_since FROM line_users WHERE line_user_id = $1")
                    .bind(&e.line_user_id)
                    .fetch_one(&mut *tx)
                    .await?;
                (r.try_get("code_misses")?, r.try_get("code_misses_since")?)
            };
            let misses = if now - since >= CODE_MISS_WINDOW_MS { 0 } else { misses };
            let owner: Option<i64> = if misses >= MAX_CODE_MISSES {
                None
            } else {
                sqlx::query_scalar(
                    "SELECT k.customer_id FROM line_link_codes k JOIN customers c ON c.id = k.customer_id \
                 WHERE k.code = $1 AND k.used_at IS NULL AND k.expires_at > $2 AND c.merged_into IS NULL",
                )
                .bind(code)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?
            };
            if owner.is_none() && misses < MAX_CODE_MISSES {
                let since = if misses == 0 { now } else { since };
                sqlx::query("UPDATE line_users SET code_misses = $2, code_misses_since = $3 WHERE line_user_id = $1")
                    .bind(&e.line_user_id)
                    .bind(misses + 1)
                    .bind(since)
                    .execute(&mut *tx)
                    .await?;
            }
            if let Some(id) = owner {
                sqlx::query("UPDATE line_link_codes SET used_at = $2 WHERE code = $1")
                    .bind(code)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                let other = linked_elsewhere(&mut tx, id, &e.line_user_id).await?;
                if other.is_none() {
                    link_in_tx(&mut tx, id, &e.line_user_id, None, "line:code").await?;
                    let note = crate::audit::AuditNote {
                        who: crate::audit::AuditActor { user_id: None, name: "LINE" },
                        action: "customer.line_link",
                        detail: serde_json::json!({"line_user_id": e.line_user_id, "by": "code"}),
                    };
                    crate::audit::insert(&mut tx, &note, "customer", &id.to_string()).await?;
                    customer = Some(id);
                }
            }
        }
        match (&e.kind, customer) {
            (LineEventKind::Follow | LineEventKind::Unfollow, Some(id)) if changed => {
                let source = if following { "line:follow" } else { "line:unfollow" };
                insert_consent(&mut tx, id, "line", following, source, None).await?;
            }
            // A survey's score button is an answer (the survey records it), not a message for
            // the inbox.
            (LineEventKind::Message { kind, body }, _) if kind == "postback" && body.starts_with("survey=") => {}
            (LineEventKind::Message { kind, body }, Some(id)) => {
                sqlx::query(
                    "INSERT INTO interactions (customer_id, contact_id, kind, direction, staff_user_id, subject, \
                     body, occurred_at, created_at) VALUES ($1, NULL, 'line', 'in', NULL, $2, $3, $4, $5)",
                )
                .bind(id)
                .bind(subject_of(kind))
                .bind(body)
                .bind(at)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
                let message = (subject_of(kind), body.as_str());
                crate::conversations::note_inbound(&mut tx, "line", &e.line_user_id, Some(id), at, message, now_ms())
                    .await?;
            }
            (LineEventKind::Message { kind, body }, None) => {
                sqlx::query(
                    "INSERT INTO line_unlinked_messages (line_user_id, kind, body, occurred_at) VALUES ($1,$2,$3,$4)",
                )
                .bind(&e.line_user_id)
                .bind(subject_of(kind))
                .bind(body)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                let message = (subject_of(kind), body.as_str());
                crate::conversations::note_inbound(&mut tx, "line", &e.line_user_id, None, at, message, now_ms())
                    .await?;
            }
            _ => {}
        }
        if let Some(id) = customer {
            self.refresh_customer_facts(&mut tx, id, id).await?;
        }
        tx.commit().await?;
        Ok(customer.map_or(LineApplied::Unlinked, LineApplied::Customer))
    }

    /// Links LINE user `line_user_id` to live customer `customer_id` (replacing any user it had):
    /// the messages the user sent before move onto the customer's timeline, and whether they
    /// follow the shop's account becomes the customer's LINE consent (source `line:link`). A
    /// user linked to another live customer is a conflict. The audit record goes in the same
    /// transaction.
    pub async fn link_line_user(
        &self,
        customer_id: i64,
        line_user_id: &str,
        actor: Option<i64>,
        audit: &crate::audit::AuditNote<'_>,
    ) -> Result<LineLinked> {
        let mut tx = self.begin_write().await?;
        live_customer(&mut tx, customer_id, self.for_update()).await?;
        if let Some(other) = linked_elsewhere(&mut tx, customer_id, line_user_id).await? {
            return Err(StoreError::Conflict(joren_core::Problem::new(joren_core::Code::LineUserTaken).arg(other)));
        }
        let linked = link_in_tx(&mut tx, customer_id, line_user_id, actor, "line:link").await?;
        crate::audit::insert(&mut tx, audit, "customer", &customer_id.to_string()).await?;
        self.refresh_customer_facts(&mut tx, customer_id, customer_id).await?;
        tx.commit().await?;
        Ok(linked)
    }

    /// A one-time code that links whoever sends it to the shop's LINE account to customer
    /// `customer_id`, until `expires_at`. False when the code is taken (the caller draws
    /// another).
    pub async fn add_line_link_code(&self, customer_id: i64, code: &str, expires_at: DateTime<Utc>) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        live_customer(&mut tx, customer_id, "").await?;
        let added = sqlx::query(
            "INSERT INTO line_link_codes (code, customer_id, expires_at, used_at, created_at) \
             VALUES ($1, $2, $3, NULL, $4) ON CONFLICT (code) DO NOTHING",
        )
        .bind(code)
        .bind(customer_id)
        .bind(to_ms(expires_at))
        .bind(now_ms())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        tx.commit().await?;
        Ok(added)
    }

    /// Customer `id`'s newest link code still usable at `now`, with when it stops working.
    pub async fn live_line_link_code(&self, id: i64, now: DateTime<Utc>) -> Result<Option<(String, DateTime<Utc>)>> {
        let row = sqlx::query(
            "SELECT code, expires_at FROM line_link_codes WHERE customer_id = $1 AND used_at IS NULL \
             AND expires_at > $2 ORDER BY expires_at DESC LIMIT 1",
        )
        .bind(id)
        .bind(to_ms(now))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((r.try_get("code")?, crate::from_ms(r.try_get("expires_at")?)))).transpose()
    }

    /// The LINE user linked to customer `id`, if any, and whether they follow the account.
    pub async fn customer_line_user(&self, id: i64) -> Result<Option<(String, Option<bool>)>> {
        let row = sqlx::query(
            "SELECT c.line_user_id, u.following FROM customers c \
             LEFT JOIN line_users u ON u.line_user_id = c.line_user_id WHERE c.id = $1 AND c.line_user_id IS NOT NULL",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((r.try_get("line_user_id")?, r.try_get::<Option<i64>, _>("following")?.map(|f| f != 0))))
            .transpose()
    }

    /// The newest `limit` messages waiting for their LINE users to be linked, newest first.
    pub async fn waiting_line_messages(&self, limit: i64) -> Result<Vec<WaitingLineMessage>> {
        let rows = sqlx::query(
            "SELECT line_user_id, kind, body, occurred_at FROM line_unlinked_messages \
             ORDER BY occurred_at DESC, id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(WaitingLineMessage {
                    line_user_id: r.try_get("line_user_id")?,
                    kind: r.try_get("kind")?,
                    body: r.try_get("body")?,
                    at: crate::from_ms(r.try_get("occurred_at")?),
                })
            })
            .collect()
    }

    /// LINE users no customer is linked to, newest first, with how many messages wait.
    pub async fn unlinked_line_users(&self, limit: i64) -> Result<Vec<WaitingLineUser>> {
        let rows = sqlx::query(
            "SELECT u.line_user_id, u.following, u.last_event_at, \
             (SELECT COUNT(*) FROM line_unlinked_messages m WHERE m.line_user_id = u.line_user_id) AS waiting \
             FROM line_users u WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.line_user_id = u.line_user_id \
             AND c.merged_into IS NULL) ORDER BY u.last_event_at DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(WaitingLineUser {
                    line_user_id: r.try_get("line_user_id")?,
                    following: r.try_get::<i64, _>("following")? != 0,
                    last_event_at: crate::from_ms(r.try_get("last_event_at")?),
                    waiting_messages: r.try_get("waiting")?,
                })
            })
            .collect()
    }
}
