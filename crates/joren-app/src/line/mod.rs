//! LINE Official Account, inbound: the Messaging API's webhook, verified by its signature
//! (`x-line-signature`: base64 of HMAC-SHA256 over the raw body with the channel secret) and
//! applied event by event, each once (LINE redelivers with the same `webhookEventId`). A follow
//! or unfollow is the linked customer's LINE consent; a message lands on their timeline, or
//! waits for staff to link the user when no customer is linked yet.

use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::{Actor, App, AppError, Result};
use joren_store::{LineApplied, LineEvent, LineEventKind};

mod push;
pub use push::{DEFAULT_API_URL, LineMessageInput};

/// Whether `signature` (as sent in `x-line-signature`) is LINE's for `body` under `secret`.
/// Compared in constant time; anything that is not base64 is simply not the signature.
pub fn signature_ok(secret: &str, body: &[u8], signature: &str) -> bool {
    let Ok(sent) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&sent).is_ok()
}

/// A LINE user id: `U` and 32 hex digits.
pub fn is_user_id(s: &str) -> bool {
    s.len() == 33 && s.starts_with('U') && s[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

#[derive(Deserialize)]
struct Payload {
    #[serde(default)]
    events: Vec<RawEvent>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEvent {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    webhook_event_id: String,
    #[serde(default)]
    timestamp: i64,
    #[serde(default)]
    source: Option<RawSource>,
    #[serde(default)]
    message: Option<RawMessage>,
    #[serde(default)]
    postback: Option<RawPostback>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSource {
    #[serde(default)]
    user_id: Option<String>,
}

#[derive(Deserialize)]
struct RawMessage {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: Option<String>,
}

#[derive(Deserialize)]
struct RawPostback {
    data: String,
}

/// What one webhook call did, event by event.
#[derive(Debug, Default, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct LineReceipt {
    /// Events applied to a linked customer.
    pub to_customers: usize,
    /// Events from users no customer is linked to yet (kept).
    pub unlinked: usize,
    /// Events seen before (redeliveries): nothing done again.
    pub repeated: usize,
    /// Events Joren does not act on (a group join, an unsent message…).
    pub ignored: usize,
}

/// The longest text kept from one message (LINE's own limit is 5,000 characters).
const MAX_TEXT: usize = 5_000;

/// Digits in a link code: 8, shown as 1234-5678 (a hundred million codes against the few
/// live at a time).
const CODE_DIGITS: usize = 8;
/// How long a link code works: long enough to open LINE and send it at the counter.
pub const CODE_MINUTES: i64 = 30;

/// The link code a message reads as, if it is one: 8 digits, typed as people type them
/// (１２３４－５６７８, "1234 5678").
pub fn code_in(text: &str) -> Option<String> {
    let mut digits = String::new();
    for c in text.trim().chars() {
        match c {
            '0'..='9' => digits.push(c),
            '０'..='９' => digits.push(char::from(b'0' + (c as u32 - '０' as u32) as u8)),
            '-' | '－' | 'ー' | ' ' | '　' => {}
            _ => return None,
        }
    }
    (digits.len() == CODE_DIGITS).then_some(digits)
}

/// A code to show a customer: sent to the shop's LINE account, it links whoever sends it.
#[derive(Debug, Clone, Serialize)]
pub struct LinkCode {
    /// As shown: 1234-5678.
    pub code: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

fn event_of(raw: RawEvent, now: chrono::DateTime<chrono::Utc>) -> Option<LineEvent> {
    let user = raw.source.and_then(|s| s.user_id).filter(|u| !u.is_empty())?;
    if raw.webhook_event_id.is_empty() {
        return None;
    }
    let kind = match raw.kind.as_str() {
        "follow" => LineEventKind::Follow,
        "unfollow" => LineEventKind::Unfollow,
        "message" => {
            let m = raw.message?;
            // Text as sent; anything else (a sticker, a photo) is known by its kind alone.
            let body = m.text.unwrap_or_default();
            LineEventKind::Message { kind: m.kind, body: body.chars().take(MAX_TEXT).collect() }
        }
        "postback" => LineEventKind::Message {
            kind: "postback".into(),
            body: raw.postback?.data.chars().take(MAX_TEXT).collect(),
        },
        _ => return None,
    };
    let at = chrono::DateTime::from_timestamp_millis(raw.timestamp)?;
    let link_code = match &kind {
        LineEventKind::Message { kind, body } if kind == "text" => code_in(body),
        _ => None,
    };
    Some(LineEvent { event_id: raw.webhook_event_id, line_user_id: user, at, kind, link_code, received_at: now })
}

impl App {
    /// Applies a LINE webhook call: refused whole (nothing written) when LINE is not set up
    /// (`NotFound`) or the signature is missing or not LINE's for this body (`Unauthorized`).
    pub async fn receive_line_webhook(&self, body: &[u8], signature: Option<&str>) -> Result<LineReceipt> {
        let secret = self.config.line_channel_secret.as_deref().filter(|s| !s.is_empty());
        let Some(secret) = secret else { return Err(AppError::NotFound("line channel")) };
        if !signature.is_some_and(|s| signature_ok(secret, body, s)) {
            return Err(AppError::Unauthorized);
        }
        let payload: Payload = serde_json::from_slice(body)
            .map_err(|e| joren_core::FieldError::new("body", joren_core::Code::BadJson).arg(e))?;
        let mut receipt = LineReceipt::default();
        for raw in payload.events {
            let Some(event) = event_of(raw, self.now()) else {
                receipt.ignored += 1;
                continue;
            };
            let applied = self.store.apply_line_event(&event).await?;
            match applied {
                LineApplied::Repeated => receipt.repeated += 1,
                LineApplied::Customer(_) => receipt.to_customers += 1,
                LineApplied::Unlinked => receipt.unlinked += 1,
            }
            // A survey's score button: the first answer, and the link for the rest.
            if let (LineApplied::Customer(customer), LineEventKind::Message { kind, body }) = (&applied, &event.kind)
                && kind == "postback"
                && let Some((token, key, score)) = joren_core::line::survey_postback(body)
            {
                self.answer_survey_on_line(*customer, &event.line_user_id, &token, &key, score).await;
            }
        }
        Ok(receipt)
    }

    /// Links a LINE user to a customer (staff): the user's earlier messages move onto the
    /// customer's timeline and whether they follow the shop's account becomes the customer's
    /// LINE consent.
    pub async fn link_line_user(
        &self,
        actor: &Actor,
        customer_id: i64,
        line_user_id: &str,
    ) -> Result<joren_store::LineLinked> {
        actor.require_write()?;
        let user = line_user_id.trim();
        if !is_user_id(user) {
            return Err(joren_core::FieldError::new("line_user_id", joren_core::Code::BadLineUserId).arg(user).into());
        }
        let note = actor.audit_note("customer.line_link", serde_json::json!({"line_user_id": user}));
        Ok(self.store.link_line_user(customer_id, user, actor.user_id, &note).await?)
    }

    /// A one-time code for customer `customer_id` (staff): sent to the shop's LINE account
    /// within [`CODE_MINUTES`], it links the sender to the customer.
    pub async fn line_link_code(&self, actor: &Actor, customer_id: i64) -> Result<LinkCode> {
        use rand::Rng;
        actor.require_write()?;
        let expires_at = self.now() + chrono::Duration::minutes(CODE_MINUTES);
        for _ in 0..5 {
            let n: u32 = rand::rng().random_range(0..100_000_000);
            let code = format!("{n:08}");
            if self.store.add_line_link_code(customer_id, &code, expires_at).await? {
                return Ok(LinkCode { code: format!("{}-{}", &code[..4], &code[4..]), expires_at });
            }
        }
        Err(AppError::Internal("no free LINE link code".into()))
    }

    /// Customer `id`'s link code still usable now, if staff made one.
    pub async fn live_line_link_code(&self, id: i64) -> Result<Option<LinkCode>> {
        Ok(self.store.live_line_link_code(id, self.now()).await?.map(|(code, expires_at)| LinkCode {
            code: format!("{}-{}", &code[..4.min(code.len())], &code[4.min(code.len())..]),
            expires_at,
        }))
    }

    /// The LINE user linked to customer `id`, if any, and whether they follow the account
    /// (None: not seen on LINE yet).
    pub async fn customer_line_user(&self, id: i64) -> Result<Option<(String, Option<bool>)>> {
        Ok(self.store.customer_line_user(id).await?)
    }

    /// The newest messages waiting for their LINE users to be linked, newest first.
    pub async fn waiting_line_messages(&self, limit: i64) -> Result<Vec<joren_store::WaitingLineMessage>> {
        Ok(self.store.waiting_line_messages(limit.clamp(1, 2_000)).await?)
    }

    /// LINE users no customer is linked to yet, newest first.
    pub async fn unlinked_line_users(&self, limit: i64) -> Result<Vec<joren_store::WaitingLineUser>> {
        Ok(self.store.unlinked_line_users(limit.clamp(1, 500)).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_lines_algorithm() {
        // base64(HMAC-SHA256(secret, body)) — computed independently with Python's hmac:
        // base64.b64encode(hmac.new(b"s3cret", b'{"events":[]}', hashlib.sha256).digest())
        let body = br#"{"events":[]}"#;
        let good = "ZuVY0DkZxvoGXoj+QPBt7+gZL2ow1Kpy+nm913XvpIw=";
        assert!(signature_ok("s3cret", body, good));
        assert!(!signature_ok("other", body, good), "another channel's secret");
        assert!(!signature_ok("s3cret", br#"{"events":[{}]}"#, good), "another body");
        assert!(!signature_ok("s3cret", body, "not base64!"), "garbage");
        assert!(!signature_ok("s3cret", body, ""), "empty");
    }

    #[test]
    fn link_codes_are_read_as_typed() {
        assert_eq!(code_in("1234-5678").as_deref(), Some("12345678"));
        assert_eq!(code_in(" １２３４－５６７８ ").as_deref(), Some("12345678"));
        assert_eq!(code_in("1234 5678").as_deref(), Some("12345678"));
        assert_eq!(code_in("1234-567"), None, "seven digits");
        assert_eq!(code_in("予約 12345678"), None, "words around it: a message, not a code");
    }

    #[test]
    fn user_ids_are_u_and_32_hex_digits() {
        assert!(is_user_id("U4af4980629a1b2c3d4e5f60718293a4b"));
        assert!(!is_user_id("U4af4980629"));
        assert!(!is_user_id("C4af4980629a1b2c3d4e5f60718293a4b"), "a group id");
        assert!(!is_user_id("Uzzf4980629a1b2c3d4e5f60718293a4b"));
    }
}
