//! Replies by email: each mail applied once (by its Message-ID), with the mailbox's read
//! position in the same transaction, on the timeline of the customer it answers (found by the
//! Joren mail it refers to, else by the sender's address) or kept for the inbox; the email
//! conversation remembers the thread so a staff answer goes under it.

use chrono::{DateTime, Utc};

use crate::{Result, Store, now_ms, to_ms};

/// One mail read from the shop's mailbox.
#[derive(Debug, Clone)]
pub struct MailReply {
    /// Its Message-ID (without the angle brackets).
    pub message_id: String,
    /// The sender's address.
    pub from: String,
    pub subject: String,
    /// The text, without the quoted mail under it.
    pub body: String,
    pub at: DateTime<Utc>,
    /// The outbox messages it refers to (from `In-Reply-To`/`References` naming Joren's mail).
    pub refers_to: Vec<i64>,
    /// Its `References` followed by its own Message-ID: what an answer's `References` carries.
    pub references: String,
    /// Now, by the app's clock.
    pub received_at: DateTime<Utc>,
}

/// Where a mailbox was read up to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailboxCursor {
    pub uid_validity: i64,
    pub last_uid: i64,
}

/// What applying a mail did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailApplied {
    Repeated,
    Customer(i64),
    Unknown,
}

/// An email conversation's thread: the customer's last mail's Message-ID, its References and
/// subject.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailThread {
    /// The address the customer wrote from (the answer goes there).
    pub address: String,
    pub message_id: String,
    pub references: String,
    pub subject: String,
}

impl Store {
    /// Where `mailbox` was read up to, if it ever was.
    pub async fn mailbox_cursor(&self, mailbox: &str) -> Result<Option<MailboxCursor>> {
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT uid_validity, last_uid FROM mailbox_cursors WHERE mailbox = $1")
                .bind(mailbox)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(uid_validity, last_uid)| MailboxCursor { uid_validity, last_uid }))
    }

    /// When `mailbox` was last read (ms), if ever.
    pub async fn mailbox_read_at(&self, mailbox: &str) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT updated_at FROM mailbox_cursors WHERE mailbox = $1")
            .bind(mailbox)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Applies mail `m` (None: a mail that is not for the inbox, only read past) and moves the
    /// read position `(mailbox, cursor)` past it (None: a mail that came from no mailbox, such
    /// as the demo's), in one transaction.
    pub async fn apply_mail_reply(
        &self,
        m: Option<&MailReply>,
        read: Option<(&str, MailboxCursor)>,
    ) -> Result<Option<MailApplied>> {
        let mut tx = self.begin_write().await?;
        if let Some((mailbox, cursor)) = read {
            sqlx::query(
                "INSERT INTO mailbox_cursors (mailbox, uid_validity, last_uid, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (mailbox) DO UPDATE SET uid_validity = excluded.uid_validity, \
             last_uid = excluded.last_uid, updated_at = excluded.updated_at",
            )
            .bind(mailbox)
            .bind(cursor.uid_validity)
            .bind(cursor.last_uid)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        }
        let Some(m) = m else {
            tx.commit().await?;
            return Ok(None);
        };
        if !super::first_delivery(&mut tx, "mail_inbound", "message_id", &m.message_id, to_ms(m.received_at)).await? {
            tx.commit().await?;
            return Ok(Some(MailApplied::Repeated));
        }
        // The customer Joren wrote to, if the mail answers one of its mails; else whoever has
        // the address.
        let mut customer: Option<i64> = None;
        for id in &m.refers_to {
            customer = sqlx::query_scalar(
                "SELECT c.id FROM outbox o JOIN customers c ON c.id = o.customer_id \
                 WHERE o.id = $1 AND o.channel = 'email' AND c.merged_into IS NULL",
            )
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            if customer.is_some() {
                break;
            }
        }
        if customer.is_none() {
            customer = sqlx::query_scalar(
                "SELECT id FROM customers WHERE lower(email) = lower($1) AND merged_into IS NULL ORDER BY id LIMIT 1",
            )
            .bind(&m.from)
            .fetch_optional(&mut *tx)
            .await?;
        }
        let at = to_ms(m.at);
        let address = m.from.to_lowercase();
        let conversation = match customer {
            Some(id) => {
                sqlx::query(
                    "INSERT INTO interactions (customer_id, contact_id, kind, direction, staff_user_id, subject, \
                     body, occurred_at, created_at) VALUES ($1, NULL, 'email', 'in', NULL, $2, $3, $4, $5)",
                )
                .bind(id)
                .bind(&m.subject)
                .bind(&m.body)
                .bind(at)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
                crate::conversations::note_inbound(&mut tx, "email", &address, Some(id), at, ("", &m.body), now_ms())
                    .await?
            }
            None => {
                sqlx::query(
                    "INSERT INTO mail_unknown_messages (address, subject, body, occurred_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(&address)
                .bind(&m.subject)
                .bind(&m.body)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                crate::conversations::note_inbound(&mut tx, "email", &address, None, at, ("", &m.body), now_ms())
                    .await?
            }
        };
        sqlx::query(
            "UPDATE conversations SET thread_message_id = $2, thread_references = $3, thread_subject = $4 WHERE id = $1",
        )
        .bind(conversation)
        .bind(&m.message_id)
        .bind(&m.references)
        .bind(&m.subject)
        .execute(&mut *tx)
        .await?;
        if let Some(id) = customer {
            self.refresh_customer_facts(&mut tx, id, id).await?;
        }
        tx.commit().await?;
        Ok(Some(customer.map_or(MailApplied::Unknown, MailApplied::Customer)))
    }

    /// The thread of customer `customer_id`'s open email conversation, if they wrote by email.
    pub async fn open_mail_thread(&self, customer_id: i64) -> Result<Option<MailThread>> {
        let row: Option<(String, String, String, String)> = sqlx::query_as(
            "SELECT address, thread_message_id, thread_references, thread_subject FROM conversations \
             WHERE customer_id = $1 AND channel = 'email' AND state = 'open' AND thread_message_id <> '' \
             ORDER BY id DESC LIMIT 1",
        )
        .bind(customer_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(address, message_id, references, subject)| MailThread {
            address,
            message_id,
            references,
            subject,
        }))
    }
}
