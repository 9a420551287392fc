//! A staff member's message to one customer, whatever the channel (LINE, SMS): queued in the
//! outbox once per idempotency key, answering the customer's open conversation on that
//! channel in the same transaction, audited when it is new. Delivery is `mail::delivery`'s.

use joren_store::{Delivery, Message, NewMessage};
use serde::Serialize;

use crate::{Actor, App, Result};

/// A queued message: its outbox id, and whether this request queued it (false: the same
/// idempotency key queued it before).
#[derive(Debug, Clone, Serialize)]
pub struct QueuedMessage {
    pub message_id: i64,
    pub created: bool,
    /// True when nothing will leave the machine (no provider set, or the demo).
    pub test_mode: bool,
}

impl App {
    /// Queues `m` from `actor` (who was checked to write) once per `key` (a form's or the
    /// API's `Idempotency-Key`); a new one is audited as `action` on the customer.
    pub(crate) async fn queue_staff_message(
        &self,
        actor: &Actor,
        m: NewMessage,
        key: Option<&str>,
        action: &str,
    ) -> Result<QueuedMessage> {
        let key = crate::scoped_idempotency_key(actor, key)?;
        let now = self.config.clock.now_ms();
        let occurrence = match key {
            Some(k) => format!("staff:{k}"),
            None => format!("staff:{}:{now}:{}", actor.name, crate::auth::random_token()),
        };
        let (id, created) = self.store.queue_direct_message(&occurrence, &m, actor.user_id, now).await?;
        if created {
            self.audit(actor, action, "customer", m.customer_id, serde_json::json!({"message": id})).await?;
        }
        Ok(QueuedMessage { message_id: id, created, test_mode: m.test_mode })
    }
}

/// A messaging provider's answer to one attempt (LINE, an SMS gateway).
pub(crate) struct ProviderAnswer {
    pub status: u16,
    /// `Retry-After`, in seconds.
    pub retry_after: Option<i64>,
    pub body: String,
    /// The provider's id for the message, when it gave one.
    pub id: Option<String>,
}

impl App {
    /// How an attempt of `m` ends on `provider`'s answer. 2xx is sent; 409 is sent too (the
    /// message's key was accepted by an earlier attempt); 429 holds it a few seconds
    /// (`Retry-After` honoured) without using an attempt; a 5xx, or a token being fixed
    /// (401/403), is tried again with backoff; any other refusal is final.
    pub(crate) fn provider_outcome(&self, m: &Message, provider: &str, a: ProviderAnswer, key: String) -> Delivery {
        let said = || a.body.chars().take(300).collect::<String>();
        match a.status {
            200..=299 | 409 => Delivery::Sent { message_id: a.id.clone().unwrap_or(key) },
            429 => {
                let wait = a
                    .retry_after
                    .map(|s| s.clamp(1, 3600) * 1000)
                    .unwrap_or_else(|| joren_core::retry::backoff_ms(2, 1_000, 10_000, rand::random::<f64>()).max(500));
                let reason = format!("{provider} rate limit");
                Delivery::Deferred { until_ms: self.config.clock.now_ms() + wait, reason }
            }
            500..=599 | 401 | 403 => Delivery::Retry {
                at_ms: self.provider_retry_at(m),
                error: format!("{provider} {}: {}", a.status, said()),
            },
            s => Delivery::Failed { error: format!("permanent: {provider} {s}: {}", said()) },
        }
    }

    /// When a failed attempt at a provider is tried again: capped exponential backoff with
    /// full jitter from 2 s (a provider's trouble usually passes in seconds), at most 10
    /// minutes.
    pub(crate) fn provider_retry_at(&self, m: &Message) -> i64 {
        let unit = rand::random::<f64>();
        self.config.clock.now_ms() + joren_core::retry::backoff_ms(m.attempts.max(1), 2_000, 600_000, unit)
    }
}
