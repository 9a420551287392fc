//! Conversations (受信箱; see the migration `0030_conversations.sql`): one per channel and
//! address from a customer's first message until staff close it. The message that opens or
//! joins one and the staff reply that answers it write it in their own transaction, so the
//! list, the first-response and the resolution times never disagree with the messages.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::AuditNote;
use crate::db::Tx;
use crate::{Result, Store, StoreError, from_ms};

/// A conversation with its customer's and assignee's names.
#[derive(Debug, Clone, Serialize)]
pub struct Conversation {
    pub id: i64,
    pub channel: String,
    /// Where the customer writes from: a LINE user id, an email address, a phone number.
    pub address: String,
    pub customer_id: Option<i64>,
    pub customer_name: Option<String>,
    /// `open` or `closed`.
    pub state: String,
    pub assignee_id: Option<i64>,
    pub assignee_name: Option<String>,
    pub opened_at: DateTime<Utc>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub last_inbound_at: DateTime<Utc>,
    pub last_message_at: DateTime<Utc>,
    pub last_text: String,
    /// The newest message's kind when not text (sticker, image, postback…), else empty.
    pub last_kind: String,
    pub messages: i64,
}

impl Conversation {
    /// Seconds from the first message to the first staff reply, once there is one.
    pub fn first_response_secs(&self) -> Option<i64> {
        self.first_response_at.map(|t| (t - self.opened_at).num_seconds().max(0))
    }

    /// Seconds from the first message to closing, once closed.
    pub fn resolution_secs(&self) -> Option<i64> {
        self.closed_at.map(|t| (t - self.opened_at).num_seconds().max(0))
    }
}

/// Which conversations to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConversationView {
    /// Open, nobody assigned.
    Unassigned,
    /// Open, assigned to this user.
    Mine(i64),
    /// Every open one.
    Open,
    Closed,
}

/// Open conversations by who has them, for the inbox's tabs.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ConversationCounts {
    pub unassigned: i64,
    pub mine: i64,
    pub open: i64,
}

/// One message of a conversation's thread.
#[derive(Debug, Clone, Serialize)]
pub struct ThreadMessage {
    pub at: DateTime<Utc>,
    /// `in` from the customer, `out` from the shop.
    pub direction: String,
    /// An inbound message's kind when not text; empty for text.
    pub kind: String,
    pub text: String,
    /// An outbound message's outbox state (queued, sent, failed, suppressed).
    pub state: Option<String>,
}

const SELECT: &str = "SELECT v.id, v.channel, v.address, v.customer_id, c.kind AS customer_kind, c.family_name, \
    c.given_name, c.company_name, v.state, v.assignee_id, u.display_name AS assignee_display, \
    u.username AS assignee_username, v.opened_at, v.first_response_at, v.closed_at, v.last_inbound_at, \
    v.last_message_at, v.last_text, v.last_kind, v.messages FROM conversations v \
    LEFT JOIN customers c ON c.id = v.customer_id LEFT JOIN users u ON u.id = v.assignee_id";

fn from_row(r: &AnyRow) -> Result<Conversation> {
    let customer_id: Option<i64> = r.try_get("customer_id")?;
    let customer_name = match customer_id {
        Some(_) => Some(crate::customer_name(r)?),
        None => None,
    };
    let display: Option<String> = r.try_get("assignee_display")?;
    let username: Option<String> = r.try_get("assignee_username")?;
    Ok(Conversation {
        id: r.try_get("id")?,
        channel: r.try_get("channel")?,
        address: r.try_get("address")?,
        customer_id,
        customer_name,
        state: r.try_get("state")?,
        assignee_id: r.try_get("assignee_id")?,
        assignee_name: display.filter(|d| !d.is_empty()).or(username),
        opened_at: from_ms(r.try_get("opened_at")?),
        first_response_at: r.try_get::<Option<i64>, _>("first_response_at")?.map(from_ms),
        closed_at: r.try_get::<Option<i64>, _>("closed_at")?.map(from_ms),
        last_inbound_at: from_ms(r.try_get("last_inbound_at")?),
        last_message_at: from_ms(r.try_get("last_message_at")?),
        last_text: r.try_get("last_text")?,
        last_kind: r.try_get("last_kind")?,
        messages: r.try_get("messages")?,
    })
}

/// A customer's message of a thread from a row with `occurred_at`, `body` and its kind in
/// column `kind` (interactions keep it as the subject).
fn inbound(r: &AnyRow, kind: &str) -> Result<ThreadMessage> {
    Ok(ThreadMessage {
        at: from_ms(r.try_get("occurred_at")?),
        direction: "in".into(),
        kind: r.try_get(kind)?,
        text: r.try_get("body")?,
        state: None,
    })
}

/// The first words of a message, for the list.
fn excerpt(text: &str) -> String {
    text.chars().take(200).collect()
}

/// A message (`kind`, `text`) from `address` on `channel` at `at_ms`, inside the transaction that
/// stores it: it joins the open conversation there or opens one. `customer_id`: who the address
/// is linked to.
pub(crate) async fn note_inbound(
    tx: &mut Tx,
    channel: &str,
    address: &str,
    customer_id: Option<i64>,
    at_ms: i64,
    (kind, text): (&str, &str),
    now_ms: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO conversations (channel, address, customer_id, state, opened_at, last_inbound_at, \
         last_message_at, last_text, last_kind, messages, updated_at) VALUES ($1,$2,$3,'open',$4,$4,$4,$5,$6,1,$7) \
         ON CONFLICT (channel, address) WHERE state = 'open' DO UPDATE SET \
         customer_id = COALESCE(conversations.customer_id, excluded.customer_id), \
         last_inbound_at = CASE WHEN excluded.last_inbound_at > conversations.last_inbound_at \
           THEN excluded.last_inbound_at ELSE conversations.last_inbound_at END, \
         last_text = CASE WHEN excluded.last_message_at >= conversations.last_message_at \
           THEN excluded.last_text ELSE conversations.last_text END, \
         last_kind = CASE WHEN excluded.last_message_at >= conversations.last_message_at \
           THEN excluded.last_kind ELSE conversations.last_kind END, \
         last_message_at = CASE WHEN excluded.last_message_at > conversations.last_message_at \
           THEN excluded.last_message_at ELSE conversations.last_message_at END, \
         messages = conversations.messages + 1, updated_at = excluded.updated_at RETURNING id",
    )
    .bind(channel)
    .bind(address)
    .bind(customer_id)
    .bind(at_ms)
    .bind(excerpt(text))
    .bind(kind)
    .bind(now_ms)
    .fetch_one(&mut **tx)
    .await?)
}

/// A message from staff member `author` to `address` on `channel`, inside the transaction that
/// queues it: the open conversation there (if any) is answered — its first response is now,
/// unless it had one — and becomes the author's if nobody had it.
pub(crate) async fn note_reply(
    tx: &mut Tx,
    channel: &str,
    address: &str,
    text: &str,
    author: Option<i64>,
    now_ms: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE conversations SET first_response_at = COALESCE(first_response_at, $3), last_message_at = $3, \
         last_text = $4, last_kind = '', messages = messages + 1, updated_at = $3, \
         assignee_id = COALESCE(assignee_id, $5) WHERE channel = $1 AND address = $2 AND state = 'open'",
    )
    .bind(channel)
    .bind(address)
    .bind(now_ms)
    .bind(excerpt(text))
    .bind(author)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// An address linked to a customer: its conversations are the customer's from now on.
pub(crate) async fn link_customer(tx: &mut Tx, channel: &str, address: &str, customer_id: i64) -> Result<()> {
    sqlx::query(
        "UPDATE conversations SET customer_id = $3 WHERE channel = $1 AND address = $2 AND customer_id IS NULL",
    )
    .bind(channel)
    .bind(address)
    .bind(customer_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Customer `customer_id` now has `phone` and/or `email`: texts and mails from them kept while
/// no customer had the address move onto the customer's timeline, and those conversations
/// become the customer's. Inside the transaction that gave the customer the address.
pub(crate) async fn adopt_unknown(
    tx: &mut Tx,
    customer_id: i64,
    phone: Option<&str>,
    email: Option<&str>,
) -> Result<()> {
    let now = crate::now_ms();
    if let Some(phone) = phone.filter(|p| !p.is_empty()) {
        sqlx::query(
            "INSERT INTO interactions (customer_id, contact_id, kind, direction, staff_user_id, subject, body, \
             occurred_at, created_at) SELECT $1, NULL, 'sms', 'in', NULL, '', body, occurred_at, $3 \
             FROM sms_unknown_messages WHERE phone = $2",
        )
        .bind(customer_id)
        .bind(phone)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        sqlx::query("DELETE FROM sms_unknown_messages WHERE phone = $1").bind(phone).execute(&mut **tx).await?;
        link_customer(tx, "sms", phone, customer_id).await?;
    }
    if let Some(email) = email.filter(|e| !e.is_empty()) {
        let address = email.to_lowercase();
        sqlx::query(
            "INSERT INTO interactions (customer_id, contact_id, kind, direction, staff_user_id, subject, body, \
             occurred_at, created_at) SELECT $1, NULL, 'email', 'in', NULL, subject, body, occurred_at, $3 \
             FROM mail_unknown_messages WHERE address = $2",
        )
        .bind(customer_id)
        .bind(&address)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        sqlx::query("DELETE FROM mail_unknown_messages WHERE address = $1").bind(&address).execute(&mut **tx).await?;
        link_customer(tx, "email", &address, customer_id).await?;
    }
    Ok(())
}

impl Store {
    pub async fn conversation(&self, id: i64) -> Result<Conversation> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE v.id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()?.ok_or(StoreError::NotFound("conversation"))
    }

    /// Conversations in `view`: open ones longest waiting first (by their newest message from
    /// the customer), closed ones newest closed first.
    pub async fn conversations(&self, view: ConversationView, limit: i64) -> Result<Vec<Conversation>> {
        let (state, user, unassigned) = match view {
            ConversationView::Unassigned => ("open", -1, 1),
            ConversationView::Mine(u) => ("open", u, 0),
            ConversationView::Open => ("open", -1, 0),
            ConversationView::Closed => ("closed", -1, 0),
        };
        let order = match view {
            ConversationView::Closed => "v.closed_at DESC, v.id DESC",
            _ => "v.last_inbound_at, v.id",
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE v.state = $1 AND ($2 < 0 OR v.assignee_id = $2) AND ($3 = 0 OR v.assignee_id IS NULL) \
             ORDER BY {order} LIMIT $4"
        )))
        .bind(state)
        .bind(user)
        .bind(unassigned)
        .bind(limit.clamp(1, 1000))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Open conversations: unassigned, `user`'s, all.
    pub async fn conversation_counts(&self, user: i64) -> Result<ConversationCounts> {
        let r = sqlx::query(
            "SELECT COALESCE(SUM(CASE WHEN assignee_id IS NULL THEN 1 ELSE 0 END), 0) AS unassigned, \
             COALESCE(SUM(CASE WHEN assignee_id = $1 THEN 1 ELSE 0 END), 0) AS mine, COUNT(*) AS open \
             FROM conversations WHERE state = 'open'",
        )
        .bind(user)
        .fetch_one(&self.pool)
        .await?;
        Ok(ConversationCounts {
            unassigned: r.try_get("unassigned")?,
            mine: r.try_get("mine")?,
            open: r.try_get("open")?,
        })
    }

    /// A customer's conversations, newest first.
    pub async fn customer_conversations(&self, customer_id: i64, limit: i64) -> Result<Vec<Conversation>> {
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE v.customer_id = $1 ORDER BY v.id DESC LIMIT $2")))
                .bind(customer_id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(from_row).collect()
    }

    /// Gives conversation `id` to `assignee` (None: to nobody), audited in the same transaction.
    pub async fn assign_conversation(
        &self,
        id: i64,
        assignee: Option<i64>,
        now_ms: i64,
        note: &AuditNote<'_>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("UPDATE conversations SET assignee_id = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(assignee)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound("conversation"));
        }
        crate::audit::insert(&mut tx, note, "conversation", &id.to_string()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Closes (`open` = false) or reopens conversation `id`, audited in the same transaction.
    /// Closing a closed one, or reopening one while the same address has another open, is a
    /// conflict.
    pub async fn set_conversation_open(&self, id: i64, open: bool, now_ms: i64, note: &AuditNote<'_>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let state: Option<String> = sqlx::query_scalar("SELECT state FROM conversations WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let state = state.ok_or(StoreError::NotFound("conversation"))?;
        if (state == "open") == open {
            return Err(StoreError::Conflict(joren_core::Problem::from(if open {
                joren_core::Code::ConversationOpen
            } else {
                joren_core::Code::ConversationClosed
            })));
        }
        let sql = if open {
            "UPDATE conversations SET state = 'open', closed_at = NULL, updated_at = $2 WHERE id = $1 \
             AND NOT EXISTS (SELECT 1 FROM conversations o WHERE o.state = 'open' \
             AND o.channel = conversations.channel AND o.address = conversations.address)"
        } else {
            "UPDATE conversations SET state = 'closed', closed_at = $2, updated_at = $2 WHERE id = $1"
        };
        let n = sqlx::query(sql).bind(id).bind(now_ms).execute(&mut *tx).await?.rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict(joren_core::Problem::from(joren_core::Code::ConversationOpenElsewhere)));
        }
        crate::audit::insert(&mut tx, note, "conversation", &id.to_string()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The messages of conversation `c`, oldest first: what the customer wrote (on their
    /// timeline, or waiting while their LINE user is not linked) and what the shop sent them on
    /// its channel, from its opening until it closed.
    pub async fn conversation_thread(&self, c: &Conversation, limit: i64) -> Result<Vec<ThreadMessage>> {
        let from = c.opened_at.timestamp_millis();
        let until = c.closed_at.map(|t| t.timestamp_millis()).unwrap_or(i64::MAX);
        let mut out = Vec::new();
        match c.customer_id {
            Some(customer) => {
                let rows = sqlx::query(
                    "SELECT subject, body, occurred_at FROM interactions WHERE customer_id = $1 AND kind = $2 \
                     AND direction = 'in' AND occurred_at >= $3 AND occurred_at <= $4 ORDER BY occurred_at DESC LIMIT $5",
                )
                .bind(customer)
                .bind(&c.channel)
                .bind(from)
                .bind(until)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                for r in rows {
                    let mut m = inbound(&r, "subject")?;
                    // A LINE message's subject is its kind (sticker, image…); a mail's is its
                    // subject, and its text is all there is to show.
                    if c.channel != "line" {
                        m.kind.clear();
                    }
                    out.push(m);
                }
                let rows = sqlx::query(
                    "SELECT body_text, state, created_at FROM outbox WHERE customer_id = $1 AND channel = $2 \
                     AND created_at >= $3 AND created_at <= $4 ORDER BY created_at DESC LIMIT $5",
                )
                .bind(customer)
                .bind(&c.channel)
                .bind(from)
                .bind(until)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                for r in rows {
                    out.push(ThreadMessage {
                        at: from_ms(r.try_get("created_at")?),
                        direction: "out".into(),
                        kind: String::new(),
                        text: r.try_get("body_text")?,
                        state: Some(r.try_get("state")?),
                    });
                }
            }
            None => {
                // Kept until the address is linked: a LINE friend's messages, an unknown
                // number's texts or an unknown address's mail.
                let sql = if c.channel == "sms" {
                    "SELECT '' AS kind, body, occurred_at FROM sms_unknown_messages WHERE phone = $1 \
                     AND occurred_at >= $2 AND occurred_at <= $3 ORDER BY occurred_at DESC LIMIT $4"
                } else if c.channel == "email" {
                    "SELECT '' AS kind, body, occurred_at FROM mail_unknown_messages WHERE address = $1 \
                     AND occurred_at >= $2 AND occurred_at <= $3 ORDER BY occurred_at DESC LIMIT $4"
                } else {
                    "SELECT kind, body, occurred_at FROM line_unlinked_messages WHERE line_user_id = $1 \
                     AND occurred_at >= $2 AND occurred_at <= $3 ORDER BY occurred_at DESC LIMIT $4"
                };
                let rows =
                    sqlx::query(sql).bind(&c.address).bind(from).bind(until).bind(limit).fetch_all(&self.pool).await?;
                for r in rows {
                    out.push(inbound(&r, "kind")?);
                }
            }
        }
        out.sort_by_key(|m| m.at);
        Ok(out)
    }
}
