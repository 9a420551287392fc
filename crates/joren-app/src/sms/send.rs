//! SMS, outbound: texts from the outbox (scenario steps, staff replies) through the gateway,
//! and what a text would cost before a broadcast.
//!
//! Every attempt of one outbox message carries the same key (`Idempotency-Key` for a `json`
//! gateway; Twilio has none, so a worker killed between Twilio's answer and the outbox write
//! may send that message again — at most the worker's batch, as with mail). The gateway's
//! answers are read as LINE's are (`App::provider_outcome`): any refusal but a 429, a 5xx or a
//! refused token (a number the gateway will not text, one that replied STOP to the gateway
//! itself) is final.

use joren_core::sms::Segments;
use joren_store::{Delivery, Message, NewMessage};
use serde::{Deserialize, Serialize};

use super::{SmsGateway, fill_template};
use crate::outbox::ProviderAnswer;
use crate::{Actor, App, AppError, QueuedMessage, Result};

/// A text a staff member sends a customer.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SmsMessageInput {
    pub text: String,
}

/// What sending a text to a saved segment (or one person) would take.
#[derive(Debug, Clone, Serialize)]
pub struct SmsEstimate {
    #[serde(flatten)]
    pub segments: Segments,
    /// The segment's members (1 without a segment).
    pub members: u64,
    /// Members a text would reach: a mobile number, not stopped, and SMS consent when it is
    /// marketing.
    pub recipients: u64,
    pub yen_per_segment: i64,
    /// segments × recipients × price.
    pub cost_yen: i64,
}

/// One SMS step of a scenario with what it would cost over a segment.
#[derive(Debug, Clone, Serialize)]
pub struct SmsStepEstimate {
    pub step: usize,
    #[serde(flatten)]
    pub estimate: SmsEstimate,
}

/// The consent source of a STOP reply (`sms:start` undoes it).
pub const STOP_SOURCE: &str = "sms:stop";

/// Whether customer `c`'s number replied STOP (their SMS consent is off from that reply): then
/// nothing at all is texted them — a gateway refuses it too — until they reply START. An SMS
/// consent turned off any other way only stops marketing texts.
pub fn stopped(c: &joren_store::Customer) -> bool {
    c.consents.iter().any(|s| s.channel == "sms" && !s.granted && s.source == STOP_SOURCE)
}

/// The number customer `c` can be texted at now: one that takes SMS, with no STOP on record.
pub(crate) fn textable(c: &joren_store::Customer) -> Option<&str> {
    c.profile.phone.as_deref().filter(|p| !stopped(c) && joren_core::phone::can_receive_sms(p))
}

impl App {
    /// The outbox row for a text to `phone` (the caller checked it takes SMS).
    pub(crate) fn sms_message(&self, customer_id: i64, phone: String, marketing: bool, text: &str) -> NewMessage {
        NewMessage {
            customer_id,
            channel: "sms".into(),
            marketing,
            recipient: phone,
            subject: text.lines().find(|l| !l.trim().is_empty()).unwrap_or_default().chars().take(100).collect(),
            body_text: text.to_string(),
            body_html: joren_core::template::text_to_html(text),
            not_before_ms: self.config.clock.now_ms(),
            test_mode: self.sms_test_mode(),
            payload: None,
        }
    }

    /// Queues a text from a staff member to customer `customer_id` (a reply, not marketing: it
    /// goes when sent, day or night, but never to a number that replied STOP). Once per `key`;
    /// it answers the customer's open SMS conversation.
    pub async fn send_sms_message(
        &self,
        actor: &Actor,
        customer_id: i64,
        input: SmsMessageInput,
        key: Option<&str>,
    ) -> Result<QueuedMessage> {
        actor.require_write()?;
        let text = input.text.trim();
        let errors = joren_core::sms::check("text", text);
        if !errors.is_empty() {
            return Err(errors.into());
        }
        let customer = self.store.get_customer(customer_id).await?;
        let Some(phone) = textable(&customer) else { return Err(joren_core::sms::no_phone("text").into()) };
        let m = self.sms_message(customer_id, phone.to_string(), false, text);
        self.queue_staff_message(actor, m, key, "customer.sms_message").await
    }

    /// What `text` would cost sent to saved segment `segment_id` (or one person when none),
    /// counting only members a text would reach (`marketing`: those with SMS consent).
    pub async fn sms_estimate(&self, text: &str, segment_id: Option<i64>, marketing: bool) -> Result<SmsEstimate> {
        let segments = joren_core::sms::segments(text.trim());
        let (members, recipients) = match segment_id {
            None => (1, 1),
            Some(id) => {
                let saved = self.store.saved_segment(id).await.map_err(|e| match e {
                    joren_store::StoreError::NotFound(_) => AppError::from(
                        joren_core::FieldError::new("segment_id", joren_core::Code::NoSuchSegment).arg(id),
                    ),
                    e => e.into(),
                })?;
                let filter = joren_core::segment_filter::parse(&saved.filter)?;
                let ids = self.store.all_segment_members(&filter).await?;
                let mut reach = 0u64;
                for chunk in ids.chunks(5_000) {
                    for c in self.store.customers_for_messages(chunk).await? {
                        let consented = !marketing || c.consents.iter().any(|s| s.channel == "sms" && s.granted);
                        if consented && textable(&c).is_some() {
                            reach += 1;
                        }
                    }
                }
                (ids.len() as u64, reach)
            }
        };
        let price = self.config.sms.segment_yen;
        Ok(SmsEstimate {
            segments,
            members,
            recipients,
            yen_per_segment: price,
            cost_yen: joren_core::sms::cost_yen(segments.segments, recipients, price),
        })
    }

    /// The SMS steps of scenario `scenario_id` with their cost over saved segment `segment_id`
    /// (the broadcast form shows it before anything is sent). A step's `{{ variables }}`
    /// count as written, so a long name can add a segment.
    pub async fn scenario_sms_estimates(&self, scenario_id: i64, segment_id: i64) -> Result<Vec<SmsStepEstimate>> {
        let scenario = self.scenario(scenario_id).await?;
        let def = crate::scenarios::parse_definition(&scenario.definition)?;
        let mut out = Vec::new();
        for (i, step) in def.steps.iter().enumerate() {
            if let joren_core::scenario::Step::Sms { text, marketing } = step {
                let estimate = self.sms_estimate(text, Some(segment_id), *marketing).await?;
                out.push(SmsStepEstimate { step: i, estimate });
            }
        }
        Ok(out)
    }

    /// Sends one claimed text; answers how it ended.
    pub(crate) async fn send_sms(&self, m: &Message) -> Delivery {
        let key = joren_core::retry::message_key(m.id, m.created_at_ms);
        if m.test_mode {
            return Delivery::Sent { message_id: format!("test:{key}") };
        }
        let Some(gateway) = &self.config.sms.gateway else {
            return Delivery::Retry { at_ms: self.provider_retry_at(m), error: "no SMS gateway set".into() };
        };
        let from = self.config.sms.from.as_str();
        let request = match gateway {
            SmsGateway::Twilio { base_url, account_sid, auth_token } => {
                let sender = if from.starts_with("MG") { "MessagingServiceSid" } else { "From" };
                let url = format!("{base_url}/2010-04-01/Accounts/{account_sid}/Messages.json");
                self.http.post(url).basic_auth(account_sid, Some(auth_token)).form(&[
                    ("To", m.recipient.as_str()),
                    (sender, from),
                    ("Body", m.body_text.as_str()),
                ])
            }
            SmsGateway::Json { url, token, template } => {
                let body = match fill_template(template, &m.recipient, from, &m.body_text, &key) {
                    Ok(b) => b,
                    Err(e) => return Delivery::Failed { error: format!("permanent: {e}") },
                };
                let r = self
                    .http
                    .post(url)
                    .header("Idempotency-Key", &key)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body);
                if token.is_empty() { r } else { r.bearer_auth(token) }
            }
        };
        let r = match request.send().await {
            Ok(r) => r,
            Err(e) => return Delivery::Retry { at_ms: self.provider_retry_at(m), error: format!("SMS: {e}") },
        };
        let status = r.status().as_u16();
        let retry_after = r
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|s| s.trim().parse::<i64>().ok());
        let body = r.text().await.unwrap_or_default();
        let json: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        let id = json.get("sid").or_else(|| json.get("id")).and_then(|v| v.as_str()).map(str::to_string);
        self.provider_outcome(m, "SMS", ProviderAnswer { status, retry_after, body, id }, key)
    }
}
