//! LINE Official Account, outbound: push messages from the outbox (scenario steps, staff
//! replies) through the Messaging API.
//!
//! A push carries `X-Line-Retry-Key`, the same on every attempt of one outbox message
//! ([`joren_core::retry::message_key`]). LINE delivers a key once and answers 409 to a repeat, so
//! a worker killed after LINE accepted a push and before the outbox row was marked sent does
//! not double it: the next attempt's 409 is recorded as sent. A 429 (rate limit) holds the
//! message a few seconds without using up an attempt; a 5xx or a lost connection is tried
//! again with backoff; any other refusal (a bad user id, a malformed message) is final. A
//! customer who blocked the account (their last event was an unfollow) is never pushed to.

use joren_core::line::Card;
use joren_store::{Delivery, Message, NewMessage};
use serde::{Deserialize, Serialize};

use crate::outbox::ProviderAnswer;
use crate::{Actor, App, QueuedMessage, Result};

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
    ) -> Result<QueuedMessage> {
        actor.require_write()?;
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
        let m = self.line_message(customer_id, user, false, text, input.card.as_ref(), &input.quick_replies);
        self.queue_staff_message(actor, m, key, "customer.line_message").await
    }

    /// Pushes one claimed LINE message; answers how it ended.
    pub(crate) async fn push_line(&self, m: &Message) -> Delivery {
        let key = joren_core::retry::message_key(m.id, m.created_at_ms);
        if m.test_mode {
            return Delivery::Sent { message_id: format!("test:{key}") };
        }
        let Some(token) = self.config.line_channel_token.as_deref().filter(|t| !t.is_empty()) else {
            return Delivery::Retry {
                at_ms: self.provider_retry_at(m),
                error: "LINE channel access token not set".into(),
            };
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
            Err(e) => return Delivery::Retry { at_ms: self.provider_retry_at(m), error: format!("LINE: {e}") },
        };
        let status = r.status().as_u16();
        let header = |name: &str| r.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        // On a repeat, LINE names the request that was accepted.
        let id = header(if status == 409 { "x-line-accepted-request-id" } else { "x-line-request-id" });
        let retry_after = header("retry-after").and_then(|s| s.trim().parse::<i64>().ok());
        let body = r.text().await.unwrap_or_default();
        self.provider_outcome(m, "LINE", ProviderAnswer { status, retry_after, body, id }, key)
    }
}
