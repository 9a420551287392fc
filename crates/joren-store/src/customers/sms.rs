//! SMS replies from customers: each gateway message applied once (by its id), on the timeline
//! of the customer with that mobile number — or kept for the inbox when no customer has it —
//! and a reply of 停止 / STOP (or 再開 / START) recorded as that number's SMS consent.

use chrono::{DateTime, Utc};

use super::{first_delivery, insert_consent};
use crate::{Result, Store, now_ms, to_ms};

/// One message a customer sent the shop's SMS number.
#[derive(Debug, Clone)]
pub struct SmsInbound {
    /// The gateway's id for it (a retried webhook call repeats it).
    pub message_id: String,
    /// The sender, E.164.
    pub phone: String,
    pub body: String,
    pub at: DateTime<Utc>,
    /// What the text says about SMS consent: `Some(false)` for STOP, `Some(true)` for START.
    pub consent: Option<bool>,
    /// Now, by the app's clock.
    pub received_at: DateTime<Utc>,
}

/// What applying a message did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsApplied {
    /// Seen before: nothing done again.
    Repeated,
    /// On this customer's timeline.
    Customer(i64),
    /// No customer has the number: kept for the inbox.
    Unknown,
}

impl Store {
    /// Applies an inbound SMS in one transaction. A STOP or START changes the SMS consent of
    /// every live customer with the number (it is the number's owner who asked) and lands on
    /// the timeline without opening a conversation; any other text lands on the timeline of the
    /// first of them (or is kept, when none has it) and joins or opens the number's SMS
    /// conversation.
    pub async fn apply_sms_inbound(&self, m: &SmsInbound) -> Result<SmsApplied> {
        let mut tx = self.begin_write().await?;
        if !first_delivery(&mut tx, "sms_inbound", "message_id", &m.message_id, to_ms(m.received_at)).await? {
            tx.commit().await?;
            return Ok(SmsApplied::Repeated);
        }
        let at = to_ms(m.at);
        let customers: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM customers WHERE phone = $1 AND merged_into IS NULL ORDER BY id")
                .bind(&m.phone)
                .fetch_all(&mut *tx)
                .await?;
        let Some(&first) = customers.first() else {
            sqlx::query("INSERT INTO sms_unknown_messages (phone, body, occurred_at) VALUES ($1, $2, $3)")
                .bind(&m.phone)
                .bind(&m.body)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            if m.consent.is_none() {
                crate::conversations::note_inbound(&mut tx, "sms", &m.phone, None, at, ("", &m.body), now_ms()).await?;
            }
            tx.commit().await?;
            return Ok(SmsApplied::Unknown);
        };
        if let Some(granted) = m.consent {
            // `sms:stop` is what the app reads as "text them nothing at all".
            let source = if granted { "sms:start" } else { "sms:stop" };
            for &id in &customers {
                insert_consent(&mut tx, id, "sms", granted, source, None).await?;
            }
        }
        sqlx::query(
            "INSERT INTO interactions (customer_id, contact_id, kind, direction, staff_user_id, subject, \
             body, occurred_at, created_at) VALUES ($1, NULL, 'sms', 'in', NULL, '', $2, $3, $4)",
        )
        .bind(first)
        .bind(&m.body)
        .bind(at)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        if m.consent.is_none() {
            crate::conversations::note_inbound(&mut tx, "sms", &m.phone, Some(first), at, ("", &m.body), now_ms())
                .await?;
        }
        for &id in &customers {
            self.refresh_customer_facts(&mut tx, id, id).await?;
        }
        tx.commit().await?;
        Ok(SmsApplied::Customer(first))
    }
}
