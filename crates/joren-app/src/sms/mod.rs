//! SMS through an HTTP gateway: the settings (a Twilio-compatible preset, or any gateway that
//! takes JSON in a shape the shop writes), the replies customers text back (verified by the
//! gateway's signature, applied once, 停止 / STOP as consent), and — in [`send`] — texts from
//! scenario steps and staff, and what a broadcast would cost.

use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};

use crate::{App, AppError, Result};
use joren_store::{SmsApplied, SmsInbound};

mod send;
pub(crate) use send::textable;
pub use send::{STOP_SOURCE, SmsEstimate, SmsMessageInput, SmsStepEstimate, stopped};

/// Twilio's API address.
pub const TWILIO_API_URL: &str = "https://api.twilio.com";
/// The JSON a `json` gateway is sent when the shop wrote no shape of its own.
pub const DEFAULT_JSON_TEMPLATE: &str = r#"{"to": {{to}}, "from": {{from}}, "text": {{text}}, "reference": {{key}}}"#;
/// Where gateways post the texts customers send (under the public address).
pub const WEBHOOK_PATH: &str = "/webhooks/sms";

/// How texts leave and come back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsGateway {
    /// Twilio's Messages API (`{base}/2010-04-01/Accounts/{sid}/Messages.json`, form-encoded,
    /// basic auth); replies arrive signed with `X-Twilio-Signature`.
    Twilio { base_url: String, account_sid: String, auth_token: String },
    /// Any gateway taking a JSON POST: `template` with `{{to}}`, `{{from}}`, `{{text}}` and
    /// `{{key}}` (each becomes a JSON string), a bearer `token` and an `Idempotency-Key`
    /// header. Replies arrive as `{"id", "from", "text"}` signed with `X-Signature` (base64
    /// HMAC-SHA256 of the body with the token); without a token none are accepted.
    Json { url: String, token: String, template: String },
}

/// SMS settings, as started.
#[derive(Debug, Clone)]
pub struct SmsConfig {
    /// None: texts are kept in the outbox as sent in test mode, nothing leaves the machine,
    /// and the reply webhook answers 404.
    pub gateway: Option<SmsGateway>,
    /// The sender: a number, a sender id, or (Twilio) a messaging service `MG…`.
    pub from: String,
    /// What one segment costs (yen), for the estimate before a broadcast.
    pub segment_yen: i64,
    /// The local hours scenario texts may go out (default 09:00–20:00); outside them they
    /// wait. A staff member's text goes when they send it.
    pub daytime: (chrono::NaiveTime, chrono::NaiveTime),
}

impl Default for SmsConfig {
    fn default() -> Self {
        Self {
            gateway: None,
            from: String::new(),
            segment_yen: 10,
            daytime: (
                chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
                chrono::NaiveTime::from_hms_opt(20, 0, 0).unwrap(),
            ),
        }
    }
}

/// Fills a `json` gateway's template: each placeholder becomes a JSON string. Answers the
/// body, or why the template does not make JSON.
pub fn fill_template(
    template: &str,
    to: &str,
    from: &str,
    text: &str,
    key: &str,
) -> std::result::Result<String, String> {
    let quote = |s: &str| serde_json::Value::String(s.to_string()).to_string();
    let body = template
        .replace("{{to}}", &quote(to))
        .replace("{{from}}", &quote(from))
        .replace("{{text}}", &quote(text))
        .replace("{{key}}", &quote(key));
    serde_json::from_str::<serde_json::Value>(&body).map_err(|e| format!("the SMS JSON template is not JSON: {e}"))?;
    if !template.contains("{{to}}") || !template.contains("{{text}}") {
        return Err("the SMS JSON template needs {{to}} and {{text}}".into());
    }
    Ok(body)
}

/// Twilio's request signature: base64 of HMAC-SHA1 over the address Twilio called followed by
/// each posted field's name and value, sorted by name.
pub fn twilio_signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    base64::engine::general_purpose::STANDARD.encode(twilio_mac(auth_token, url, params).finalize().into_bytes())
}

/// A `json` gateway's signature: base64 of HMAC-SHA256 over the body with the token.
pub fn json_signature(token: &str, body: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(json_mac(token, body).finalize().into_bytes())
}

/// Whether `sent` (base64) is `mac`'s result, compared in constant time.
fn verified<M: Mac>(mac: M, sent: Option<&str>) -> bool {
    let Some(sent) = sent.and_then(|s| base64::engine::general_purpose::STANDARD.decode(s.trim()).ok()) else {
        return false;
    };
    mac.verify_slice(&sent).is_ok()
}

fn twilio_mac(auth_token: &str, url: &str, params: &[(String, String)]) -> Hmac<sha1::Sha1> {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(auth_token.as_bytes()).expect("any key length");
    mac.update(url.as_bytes());
    for (k, v) in sorted {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    mac
}

fn json_mac(token: &str, body: &[u8]) -> Hmac<sha2::Sha256> {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(token.as_bytes()).expect("any key length");
    mac.update(body);
    mac
}

/// What one reply webhook call did.
#[derive(Debug, Default, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct SmsReceipt {
    /// On a customer's timeline.
    pub to_customer: bool,
    /// From a number no customer has (kept for the inbox).
    pub unknown: bool,
    /// Seen before: nothing done again.
    pub repeated: bool,
    /// What it said about consent: false for STOP, true for START.
    pub consent: Option<bool>,
}

#[derive(Deserialize)]
struct JsonInbound {
    id: String,
    from: String,
    #[serde(default)]
    text: String,
}

/// The longest text kept from one reply.
const MAX_TEXT: usize = 2_000;

impl App {
    /// Whether texts are only kept in the outbox (no gateway set, or the demo shop).
    pub fn sms_test_mode(&self) -> bool {
        self.config.mail_test_only || self.config.sms.gateway.is_none()
    }

    /// Applies a text a customer sent, as the gateway posted it (`content_type`, the raw
    /// `body` and its `signature` header): refused whole (nothing written) when no gateway is
    /// set (`NotFound`) or the signature is missing or wrong (`Unauthorized`).
    pub async fn receive_sms_webhook(
        &self,
        content_type: &str,
        body: &[u8],
        signature: Option<&str>,
    ) -> Result<SmsReceipt> {
        let Some(gateway) = &self.config.sms.gateway else { return Err(AppError::NotFound("sms gateway")) };
        let bad_body = |e: String| joren_core::FieldError::new("body", joren_core::Code::BadJson).arg(e);
        let (id, from, text) = match gateway {
            SmsGateway::Twilio { auth_token, .. } => {
                if !content_type.starts_with("application/x-www-form-urlencoded") {
                    return Err(bad_body("a form (application/x-www-form-urlencoded)".into()).into());
                }
                let params: Vec<(String, String)> =
                    serde_urlencoded::from_bytes(body).map_err(|e| bad_body(e.to_string()))?;
                let url = format!("{}{WEBHOOK_PATH}", self.config.mail.public_url);
                if !verified(twilio_mac(auth_token, &url, &params), signature) {
                    return Err(AppError::Unauthorized);
                }
                let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
                (get("MessageSid"), get("From"), get("Body"))
            }
            // Without a token nothing could tell the gateway's calls from anyone's: refused.
            SmsGateway::Json { token, .. } if token.is_empty() => return Err(AppError::NotFound("sms gateway")),
            SmsGateway::Json { token, .. } => {
                if !verified(json_mac(token, body), signature) {
                    return Err(AppError::Unauthorized);
                }
                let m: JsonInbound = serde_json::from_slice(body).map_err(|e| bad_body(e.to_string()))?;
                (m.id, m.from, m.text)
            }
        };
        if id.trim().is_empty() {
            return Err(joren_core::FieldError::new("id", joren_core::Code::Required).into());
        }
        let phone = joren_core::phone::normalize_phone("from", &from)?;
        let consent = joren_core::sms::consent_reply(&text);
        let now = self.now();
        let m = SmsInbound {
            message_id: id.trim().to_string(),
            phone,
            body: text.chars().take(MAX_TEXT).collect(),
            at: now,
            consent,
            received_at: now,
        };
        let applied = self.store.apply_sms_inbound(&m).await?;
        Ok(SmsReceipt {
            to_customer: matches!(applied, SmsApplied::Customer(_)),
            unknown: applied == SmsApplied::Unknown,
            repeated: applied == SmsApplied::Repeated,
            consent: consent.filter(|_| applied != SmsApplied::Repeated),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twilio_signatures_follow_twilios_documented_example() {
        // Twilio's own example ("Validating Requests are coming from Twilio"): this token,
        // address and fields sign to this value (also computed with Python's hmac/hashlib).
        let params: Vec<(String, String)> = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let sig = twilio_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", &params);
        assert_eq!(sig, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
    }

    #[test]
    fn the_json_template_makes_json_with_every_value_quoted() {
        let body =
            fill_template(DEFAULT_JSON_TEMPLATE, "+819012345678", "Joren", "「こんにちは」\n\"ok\"", "k-1").unwrap();
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["to"], "+819012345678");
        assert_eq!(v["text"], "「こんにちは」\n\"ok\"");
        assert_eq!(v["reference"], "k-1");
        assert!(fill_template(r#"{"to": {{to}}"#, "a", "b", "c", "d").is_err(), "not JSON");
        assert!(fill_template(r#"{"x": {{from}}}"#, "a", "b", "c", "d").is_err(), "no {{to}}");
    }
}
