//! Email: the shop's sender settings, the outbox delivery worker and unsubscribing.
//!
//! Checks made when a message is about to go (not when it was decided): an address that
//! bounced for good is never mailed again; marketing mail needs the customer's recorded email
//! opt-in at that moment (an unsubscribe in between stops it); marketing mail waits out the
//! quiet hours (default 21:00–09:00 shop time) and the frequency caps across scenarios
//! (default at most 1 a day and 3 a week per customer). Transactional mail (an order
//! thank-you) needs no marketing consent and is not held back, but names the sender too.
//!
//! SMTP has no idempotency: a worker killed after the server accepted a message and before
//! the outbox row was marked sent leaves the row `sending`; when its lease runs out another
//! worker sends it again. So at most the messages a worker had claimed at a crash (one batch,
//! [`DELIVERY_BATCH`]) are doubled; none is lost. In test mode (the demo's default) nothing is
//! sent: the rendered message is kept in the outbox as sent, to be read there; such messages
//! are claimed [`TEST_DELIVERY_BATCH`] at a time (a crash doubles none of them).

use chrono::{DateTime, NaiveTime, Timelike, Utc};
use hmac::{Hmac, Mac};
use joren_store::{Delivery, Message};
use lettre::message::{Mailbox, MultiPart, header};
use sha2::Sha256;

use crate::{Actor, App, AppError, Result};

mod delivery;
mod replies;
mod settings;
mod smtp;

pub use delivery::{DELIVERY_BATCH, TEST_DELIVERY_BATCH};
pub use replies::{ImapConfig, MailPoll};
pub use settings::{MAX_CAP, MailSettingsInput, MailSource, StoredMail};
pub use smtp::Mailer;

/// The pool in use and the transport it was made for (`Debug` of the [`Transport`]).
pub(crate) type PooledMailer = (String, std::sync::Arc<Mailer>);
use smtp::SendError;

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain (a relay on the same machine or a test server).
    None,
    /// STARTTLS on the submission port (587), required.
    StartTls,
    /// TLS from the first byte (465).
    Tls,
}

/// Where mail goes.
#[derive(Debug, Clone)]
pub enum Transport {
    /// Nothing is sent: messages are rendered and kept in the outbox viewer.
    Test,
    Smtp {
        host: String,
        port: u16,
        security: SmtpSecurity,
        username: Option<String>,
        password: Option<String>,
    },
}

/// The shop's mail settings.
#[derive(Debug, Clone)]
pub struct MailConfig {
    pub transport: Transport,
    pub from_address: String,
    /// The shop's name: the sender's display name and the 特定電子メール法 sender line.
    pub shop_name: String,
    /// The shop's postal address, printed in every marketing mail.
    pub postal_address: String,
    /// The address customers reach this server at (unsubscribe links), without a trailing /.
    pub public_url: String,
    /// Marketing mail is held from `quiet_from` until `quiet_until` (shop time, across midnight).
    pub quiet_from: NaiveTime,
    pub quiet_until: NaiveTime,
    pub max_per_day: i64,
    pub max_per_week: i64,
    /// How long a worker's claim on a message lasts before another worker may send it (a
    /// crashed worker's messages wait this long).
    pub lease_ms: i64,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            transport: Transport::Test,
            from_address: "shop@example.jp".into(),
            shop_name: "Joren のお店".into(),
            postal_address: String::new(),
            public_url: "http://127.0.0.1:8080".into(),
            quiet_from: NaiveTime::from_hms_opt(21, 0, 0).expect("valid"),
            quiet_until: NaiveTime::from_hms_opt(9, 0, 0).expect("valid"),
            max_per_day: 1,
            max_per_week: 3,
            lease_ms: 5 * 60 * 1000,
        }
    }
}

impl MailConfig {
    pub fn test_mode(&self) -> bool {
        matches!(self.transport, Transport::Test)
    }

    /// Reads `smtp://[user:password@]host[:port][?security=starttls|tls|none]`; `test` for
    /// test mode.
    pub fn parse_transport(url: &str) -> std::result::Result<Transport, String> {
        let url = url.trim();
        if url.is_empty() || url == "test" {
            return Ok(Transport::Test);
        }
        let rest = url.strip_prefix("smtp://").ok_or("the SMTP address must start with smtp://")?;
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (auth, hostport) = match rest.rsplit_once('@') {
            Some((a, h)) => (Some(a), h),
            None => (None, rest),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.parse::<u16>().map_err(|_| format!("bad SMTP port: {p}"))?),
            None => (hostport.to_string(), 587),
        };
        if host.is_empty() {
            return Err("the SMTP address has no host".into());
        }
        let security = match query.split('&').find_map(|kv| kv.strip_prefix("security=")) {
            None if port == 465 => SmtpSecurity::Tls,
            None | Some("starttls") => SmtpSecurity::StartTls,
            Some("tls") => SmtpSecurity::Tls,
            Some("none") => SmtpSecurity::None,
            Some(other) => return Err(format!("unknown SMTP security: {other}")),
        };
        let (username, password) = match auth.and_then(|a| a.split_once(':')) {
            Some((u, p)) => (Some(form_decode(u)), Some(form_decode(p))),
            None => (auth.map(form_decode), None),
        };
        Ok(Transport::Smtp { host, port, security, username, password })
    }
}

fn form_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

type HmacSha256 = Hmac<Sha256>;

/// The setting holding the unsubscribe links' signing key.
const UNSUBSCRIBE_SECRET: &str = "secret.unsubscribe";

impl App {
    /// The lines every mail ends with: the sender, and for marketing mail the postal address,
    /// the opt-out link and the notice that one can refuse further mail (特定電子メール法).
    pub(crate) fn mail_footer(&self, marketing: bool, unsubscribe_url: &str) -> String {
        let m = self.mail();
        let mut f = format!("\n\n――――――――――\n{}\n", m.shop_name);
        if !m.postal_address.is_empty() {
            f.push_str(&format!("{}\n", m.postal_address));
        }
        f.push_str(&format!("{}\n", m.from_address));
        if marketing {
            f.push_str(&format!(
                "このメールはお知らせの受け取りに同意いただいた方にお送りしています。\n配信の停止はこちら: {unsubscribe_url}\n"
            ));
        }
        f
    }

    /// The key unsubscribe links are signed with: made once per shop (the first process to
    /// write it wins a race), then read once per process.
    async fn unsubscribe_secret(&self) -> Result<&[u8]> {
        let secret = self
            .unsubscribe_secret
            .get_or_try_init(|| async {
                let stored = match self.store.setting(UNSUBSCRIBE_SECRET).await? {
                    Some(s) => s,
                    None => self.store.setting_or_insert(UNSUBSCRIBE_SECRET, &crate::auth::random_token()).await?,
                };
                Ok::<_, AppError>(stored.into_bytes())
            })
            .await?;
        Ok(secret)
    }

    /// The token in a customer's unsubscribe link: their id and a signature of it.
    pub async fn unsubscribe_token(&self, customer_id: i64) -> Result<String> {
        let mut mac = HmacSha256::new_from_slice(self.unsubscribe_secret().await?)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        mac.update(format!("unsubscribe:{customer_id}").as_bytes());
        let sig = hex::encode(&mac.finalize().into_bytes()[..16]);
        Ok(format!("{customer_id}.{sig}"))
    }

    pub(crate) async fn unsubscribe_url(&self, customer_id: i64) -> Result<String> {
        Ok(format!("{}/u/{}", self.config.mail.public_url, self.unsubscribe_token(customer_id).await?))
    }

    /// The customer an unsubscribe token names, if its signature holds.
    pub async fn unsubscribe_customer(&self, token: &str) -> Result<i64> {
        let bad = || AppError::NotFound("unsubscribe link");
        let (id, _) = token.split_once('.').ok_or_else(bad)?;
        let id: i64 = id.parse().map_err(|_| bad())?;
        let expected = self.unsubscribe_token(id).await?;
        if !joren_core::secret::constant_time_eq(expected.as_bytes(), token.as_bytes()) {
            return Err(bad());
        }
        Ok(id)
    }

    /// Withdraws a customer's email consent from their unsubscribe link (no login): `source`
    /// records how (`unsubscribe_link` from the page, `list_unsubscribe` from a mail client's
    /// one-click button). Answers the customer's display name.
    pub async fn unsubscribe(&self, token: &str, source: &str) -> Result<String> {
        let id = self.unsubscribe_customer(token).await?;
        let c = self.store.get_customer(id).await?;
        let already_off = c.consents.iter().any(|s| s.channel == "email" && !s.granted);
        if !already_off {
            let actor = Actor::system("unsubscribe");
            let note = actor.audit_note("consent.unsubscribe", serde_json::json!({"source": source}));
            self.store.set_consent(id, "email", false, source, None, Some(&note)).await?;
        }
        Ok(c.display_name)
    }

    /// The pooled SMTP transport for `transport` (connections are kept open and reused between
    /// sends; a changed transport gets a new pool).
    fn mailer(&self, transport: &Transport) -> std::sync::Arc<Mailer> {
        let key = format!("{transport:?}");
        let mut slot = self.mailer.lock().expect("mailer lock");
        match &*slot {
            Some((k, m)) if *k == key => m.clone(),
            _ => {
                let m = std::sync::Arc::new(Mailer::new(transport));
                *slot = Some((key, m.clone()));
                m
            }
        }
    }

    async fn send(&self, m: &Message) -> Delivery {
        let cfg = self.mail();
        let message_id = format!("joren.{}.{}@{}", m.id, m.attempts, domain_of(&cfg.from_address));
        let mailer = self.mailer(&cfg.transport);
        // A message decided in test mode is never sent, even if the shop has since switched to
        // SMTP (as for LINE and texts); a live one still waiting when the shop switched to
        // test mode is kept, not sent.
        if m.test_mode || matches!(*mailer, Mailer::Test) {
            return Delivery::Sent { message_id: format!("test:{message_id}") };
        }
        let email = match build_email(m, &cfg, &message_id, self.unsubscribe_url_for(m).await) {
            Ok(e) => e,
            Err(e) => return Delivery::Failed { error: format!("permanent: {e}") },
        };
        match mailer.send(email).await {
            Ok(()) => Delivery::Sent { message_id },
            Err(SendError::Permanent(e)) => Delivery::Failed { error: format!("permanent: {e}") },
            Err(SendError::Transient(e)) => Delivery::Retry { at_ms: delivery::retry_at(m, self.now()), error: e },
        }
    }

    async fn unsubscribe_url_for(&self, m: &Message) -> Option<String> {
        match (m.marketing, m.customer_id) {
            (true, Some(c)) => self.unsubscribe_url(c).await.ok(),
            _ => None,
        }
    }

    /// Sends a test mail to `to` now, through the configured transport (`joren mail test`).
    pub async fn send_test_mail(&self, actor: &Actor, to: &str) -> Result<String> {
        actor.require_owner()?;
        self.reload_mail().await?;
        let to = to.trim();
        if !to.contains('@') || to.parse::<Mailbox>().is_err() {
            return Err(joren_core::FieldError::new("to", joren_core::Code::BadEmail).arg(to).into());
        }
        let now = self.config.clock.now_ms();
        let text = format!(
            "Joren からのテストメールです。\nこのメールが届けば送信の設定は正しく動いています。{}",
            self.mail_footer(false, "")
        );
        let m = Message {
            id: 0,
            run_id: None,
            scenario_id: None,
            version: None,
            step: None,
            customer_id: None,
            occurrence: format!("test:{now}"),
            channel: "email".into(),
            marketing: false,
            recipient: to.to_string(),
            subject: "Joren テストメール".into(),
            body_html: joren_core::template::text_to_html(&text),
            body_text: text,
            state: "sending".into(),
            not_before_ms: now,
            attempts: 1,
            last_error: None,
            test_mode: self.mail().test_mode(),
            message_id: None,
            created_at_ms: now,
            updated_at_ms: now,
            sent_at_ms: None,
            payload: None,
        };
        self.audit(actor, "mail.test", "mail", to, serde_json::json!({})).await?;
        match self.send(&m).await {
            Delivery::Sent { message_id } => Ok(message_id),
            Delivery::Failed { error } | Delivery::Retry { error, .. } => Err(AppError::Io(error)),
            Delivery::Deferred { reason, .. } | Delivery::Suppressed { reason } => Err(AppError::Io(reason)),
        }
    }
}

/// When marketing mail held by the quiet hours may go, if `now` is inside them.
pub fn quiet_until(now: DateTime<Utc>, cfg: &MailConfig, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    outside_hours_until(now, (cfg.quiet_from, cfg.quiet_until), tz)
}

/// When the local window `from`–`until` (e.g. 21:00–08:00, across midnight or not) that
/// `now` is inside ends; `None` when `now` is outside it.
pub fn outside_hours_until(
    now: DateTime<Utc>,
    (from, until): (chrono::NaiveTime, chrono::NaiveTime),
    tz: chrono_tz::Tz,
) -> Option<DateTime<Utc>> {
    let local = now.with_timezone(&tz);
    let t = local.time().with_nanosecond(0)?;
    let inside = if from <= until { t >= from && t < until } else { t >= from || t < until };
    if !inside {
        return None;
    }
    let day = if from > until && t >= from { local.date_naive().succ_opt()? } else { local.date_naive() };
    Some(joren_core::time::local_to_utc(day.and_time(until), tz))
}

fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map(|(_, d)| d).unwrap_or("localhost")
}

fn build_email(
    m: &Message,
    cfg: &MailConfig,
    message_id: &str,
    unsubscribe: Option<String>,
) -> std::result::Result<lettre::Message, String> {
    let from = Mailbox::new(Some(cfg.shop_name.clone()), cfg.from_address.parse().map_err(|e| format!("From: {e}"))?);
    let to: Mailbox = m.recipient.parse().map_err(|e| format!("To: {e}"))?;
    let mut b = lettre::Message::builder()
        .from(from)
        .to(to)
        .subject(m.subject.clone())
        .message_id(Some(format!("<{message_id}>")));
    if let Some(url) = unsubscribe {
        b = b.header(ListUnsubscribe(format!("<{url}>"))).header(ListUnsubscribePost);
    }
    // A staff answer to a customer's mail threads under it.
    if let Some(t) = m.payload.as_deref().and_then(|p| serde_json::from_str::<replies::Threading>(p).ok()) {
        b = b.in_reply_to(t.in_reply_to);
        if !t.references.is_empty() {
            b = b.references(t.references);
        }
    }
    b.multipart(MultiPart::alternative_plain_html(m.body_text.clone(), m.body_html.clone())).map_err(|e| e.to_string())
}

/// `List-Unsubscribe: <https://…/u/TOKEN>` (RFC 2369).
#[derive(Clone)]
struct ListUnsubscribe(String);

impl header::Header for ListUnsubscribe {
    fn name() -> header::HeaderName {
        header::HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> std::result::Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_string()))
    }
    fn display(&self) -> header::HeaderValue {
        header::HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).
#[derive(Clone)]
struct ListUnsubscribePost;

impl header::Header for ListUnsubscribePost {
    fn name() -> header::HeaderName {
        header::HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(_: &str) -> std::result::Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }
    fn display(&self) -> header::HeaderValue {
        header::HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn quiet_hours_cross_midnight_in_tokyo() {
        let cfg = MailConfig::default();
        let tz = chrono_tz::Asia::Tokyo;
        // 20:59 Tokyo: not quiet.
        assert_eq!(quiet_until(utc("2026-03-02T11:59:00Z"), &cfg, tz), None);
        // 21:00 Tokyo: held until 09:00 the next morning (00:00 UTC on the 3rd).
        assert_eq!(quiet_until(utc("2026-03-02T12:00:00Z"), &cfg, tz), Some(utc("2026-03-03T00:00:00Z")));
        // 02:00 Tokyo on the 3rd (17:00 UTC on the 2nd): held until 09:00 that morning.
        assert_eq!(quiet_until(utc("2026-03-02T17:00:00Z"), &cfg, tz), Some(utc("2026-03-03T00:00:00Z")));
        // 09:00 Tokyo: open again.
        assert_eq!(quiet_until(utc("2026-03-03T00:00:00Z"), &cfg, tz), None);
    }

    #[test]
    fn smtp_addresses_are_read() {
        assert!(matches!(MailConfig::parse_transport("test"), Ok(Transport::Test)));
        match MailConfig::parse_transport("smtp://shop%40example.jp:p%3Ass@mail.example.jp:587").unwrap() {
            Transport::Smtp { host, port, security, username, password } => {
                assert_eq!((host.as_str(), port, security), ("mail.example.jp", 587, SmtpSecurity::StartTls));
                assert_eq!(username.as_deref(), Some("shop@example.jp"));
                assert_eq!(password.as_deref(), Some("p:ss"));
            }
            Transport::Test => panic!("smtp expected"),
        }
        match MailConfig::parse_transport("smtp://127.0.0.1:2525?security=none").unwrap() {
            Transport::Smtp { security, username, .. } => {
                assert_eq!(security, SmtpSecurity::None);
                assert_eq!(username, None);
            }
            Transport::Test => panic!("smtp expected"),
        }
        assert!(MailConfig::parse_transport("smtp://host:587?security=ssl3").is_err());
        assert!(MailConfig::parse_transport("imap://host").is_err());
    }
}
