//! LINE Official Account, outbound: push messages from the outbox (scenario steps, staff
//! replies) through the Messaging API.
//!
//! A push carries `X-Line-Retry-Key`, the same on every attempt of one outbox message
//! ([`joren_core::line::retry_key`]). LINE delivers a key once and answers 409 to a repeat, so
//! a worker killed after LINE accepted a push and before the outbox row was marked sent does
//! not double it: the next attempt's 409 is recorded as sent. A 429 (rate limit) holds the
//! message a few seconds without using up an attempt; a 5xx or a lost connection is tried
//! again with backoff; any other refusal (a bad user id, a malformed message) is final. A
//! customer who blocked the account (their last event was an unfollow) is never pushed to.

use joren_core::line::Card;
use joren_store::{Delivery, Message, NewMessage};
use serde::{Deserialize, Serialize};

use crate::{Actor, App, Result};

/// The Messaging API's address.
pub const DEFAULT_API_URL: &str = "https://api.line.me";

/// A message a staff member sends a customer on LINE.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LineMessageInput {
    pub text: String,
    #[serde(default)]
    pub card: Option<Card>,
    #[serde(default)]
    pub quick_replies: Vec<String>,
}

/// A queued LINE message: its outbox id, and whether this request queued it (false: the
/// same idempotency key queued it before).
#[derive(Debug, Clone, Serialize)]
pub struct QueuedLineMessage {
    pub message_id: i64,
    pub created: bool,
    /// True when nothing will leave the machine (no channel access token, or the demo).
    pub test_mode: bool,
}

impl App {
    /// Whether LINE messages are only kept in the outbox (no channel access token set, or the
    /// demo shop).
    pub fn line_test_mode(&self) -> bool {
        self.config.mail_test_only || self.config.line_channel_token.as_deref().is_none_or(str::is_empty)
    }

    /// The outbox row for a LINE message to `line_user` (the caller checked it is linked).
    pub(crate) fn line_message(
        &self,
        customer_id: i64,
        line_user: String,
        marketing: bool,
        text: &str,
        card: Option<&Card>,
        quick_replies: &[String],
    ) -> NewMessage {
        let payload = joren_core::line::messages(text, card, quick_replies);
        NewMessage {
            customer_id,
            channel: "line".into(),
            marketing,
            recipient: line_user,
            subject: text.lines().find(|l| !l.trim().is_empty()).unwrap_or_default().chars().take(100).collect(),
            body_text: text.to_string(),
            body_html: joren_core::template::text_to_html(text),
            not_before_ms: self.config.clock.now_ms(),
            test_mode: self.line_test_mode(),
            payload: Some(payload.to_string()),
        }
    }

    /// Queues a LINE message from a staff member to customer `customer_id` (a reply, not
    /// marketing: it needs no marketing consent and is not held by quiet hours, but is never
    /// pushed to a user who blocked the account). `key` (a form's or the API's
    /// `Idempotency-Key`) queues it once however often the request is sent. It answers the
    /// customer's open LINE conversation, which becomes the sender's if nobody had it.
    pub async fn send_line_message(
        &self,
        actor: &Actor,
        customer_id: i64,
        input: LineMessageInput,
        key: Option<&str>,
    ) -> Result<QueuedLineMessage> {
        actor.require_write()?;
        let key = crate::scoped_idempotency_key(actor, key)?;
        let text = input.text.trim();
        let errors = joren_core::line::check("", text, input.card.as_ref(), &input.quick_replies);
        if !errors.is_empty() {
            return Err(errors.into());
        }
        let linked = self.store.customer_line_user(customer_id).await?;
        let user = match linked {
            Some((user, following)) if following != Some(false) => user,
            _ => {
                // Not linked, or blocked: say so beside the text (a missing customer is a 404).
                self.store.get_customer(customer_id).await?;
                return Err(joren_core::line::no_user("text").into());
            }
        };
        let now = self.config.clock.now_ms();
        let occurrence = match key {
            Some(k) => format!("staff:{k}"),
            None => format!("staff:{}:{now}:{}", actor.name, crate::auth::random_token()),
        };
        let m = self.line_message(customer_id, user, false, text, input.card.as_ref(), &input.quick_replies);
        let (id, created) = self.store.queue_direct_message(&occurrence, &m, actor.user_id, now).await?;
        if created {
            self.audit(actor, "customer.line_message", "customer", customer_id, serde_json::json!({"message": id}))
                .await?;
        }
        Ok(QueuedLineMessage { message_id: id, created, test_mode: m.test_mode })
    }

    /// Pushes one claimed LINE message; answers how it ended.
    pub(crate) async fn push_line(&self, m: &Message) -> Delivery {
        let key = joren_core::line::retry_key(m.id, m.created_at_ms);
        if m.test_mode {
            return Delivery::Sent { message_id: format!("test:{key}") };
        }
        let Some(token) = self.config.line_channel_token.as_deref().filter(|t| !t.is_empty()) else {
            return Delivery::Retry { at_ms: self.line_retry_at(m), error: "LINE channel access token not set".into() };
        };
        let messages = m
            .payload
            .as_deref()
            .and_then(|p| serde_json::from_str::<serde_json::Value>(p).ok())
            .unwrap_or_else(|| joren_core::line::messages(&m.body_text, None, &[]));
        let url = format!("{}/v2/bot/message/push", self.config.line_api_url.trim_end_matches('/'));
        let sent = self
            .http
            .post(url)
            .bearer_auth(token)
            .header("X-Line-Retry-Key", &key)
            .json(&serde_json::json!({ "to": m.recipient, "messages": messages }))
            .send()
            .await;
        let r = match sent {
            Ok(r) => r,
            Err(e) => return Delivery::Retry { at_ms: self.line_retry_at(m), error: format!("LINE: {e}") },
        };
        let status = r.status().as_u16();
        let header = |name: &str| r.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        match status {
            200..=299 => Delivery::Sent { message_id: header("x-line-request-id").unwrap_or(key) },
            // The key was accepted before (our earlier attempt went through): sent once.
            409 => Delivery::Sent { message_id: header("x-line-accepted-request-id").unwrap_or(key) },
            429 => {
                let after = header("retry-after").and_then(|s| s.trim().parse::<i64>().ok());
                let wait = after
                    .map(|s| s.clamp(1, 3600) * 1000)
                    .unwrap_or_else(|| joren_core::retry::backoff_ms(2, 1_000, 10_000, rand::random::<f64>()).max(500));
                Delivery::Deferred { until_ms: self.config.clock.now_ms() + wait, reason: "LINE rate limit".into() }
            }
            // The provider's trouble, or a token being fixed: tried again.
            500..=599 | 401 | 403 => {
                let body = r.text().await.unwrap_or_default();
                Delivery::Retry {
                    at_ms: self.line_retry_at(m),
                    error: format!("LINE {status}: {}", body.chars().take(300).collect::<String>()),
                }
            }
            _ => {
                let body = r.text().await.unwrap_or_default();
                Delivery::Failed {
                    error: format!("permanent: LINE {status}: {}", body.chars().take(300).collect::<String>()),
                }
            }
        }
    }

    /// When a failed push is tried again: capped exponential backoff with full jitter from 2 s
    /// (the Messaging API's own trouble usually passes in seconds), at most 10 minutes.
    fn line_retry_at(&self, m: &Message) -> i64 {
        let unit = rand::random::<f64>();
        self.config.clock.now_ms() + joren_core::retry::backoff_ms(m.attempts.max(1), 2_000, 600_000, unit)
    }
}
