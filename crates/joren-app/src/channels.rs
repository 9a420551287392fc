//! The channels as started (owners): for LINE, SMS and mail replies, whether each is set up or
//! in test mode, the address its provider must be given (the webhook URLs to paste into the
//! LINE and SMS consoles) and, for the mailbox, when it was last read. Secrets are never
//! shown: they are start-up settings (flags or environment), not stored in the database.

use serde::Serialize;

use crate::{Actor, App, Result};

#[derive(Debug, Clone, Serialize)]
pub struct ChannelStatus {
    /// The address customers and providers reach this server at (`--public-url`).
    pub public_url: String,
    pub line: LineStatus,
    pub sms: SmsStatus,
    pub mail_replies: MailRepliesStatus,
}

#[derive(Debug, Clone, Serialize)]
pub struct LineStatus {
    /// A channel secret is set: LINE's webhook calls are verified and applied.
    pub receiving: bool,
    /// No channel access token (or the demo): pushes are kept in the outbox as sent.
    pub test_mode: bool,
    /// What to enter as the webhook URL in the LINE Developers console.
    pub webhook_url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SmsStatus {
    /// `twilio`, `json`, or none.
    pub gateway: Option<&'static str>,
    pub test_mode: bool,
    pub from: String,
    pub segment_yen: i64,
    /// The local hours scenario texts may go out, `09:00`–`20:00`.
    pub hours: (String, String),
    /// What to enter as the gateway's incoming-message webhook.
    pub webhook_url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct MailRepliesStatus {
    /// `user@host/mailbox` (never the password), when a mailbox is set.
    pub mailbox: Option<String>,
    /// When the mailbox was last read (a poll that reached it; None: not yet).
    pub last_read_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl App {
    /// The channels as started (owners).
    pub async fn channel_status(&self, actor: &Actor) -> Result<ChannelStatus> {
        actor.require_owner()?;
        let public = self.config.mail.public_url.trim_end_matches('/').to_string();
        let sms = &self.config.sms;
        let hm = |t: chrono::NaiveTime| t.format("%H:%M").to_string();
        let mailbox = self.config.imap.as_ref().map(crate::mail::ImapConfig::name);
        let last_read_at = match &mailbox {
            Some(key) => self.store.mailbox_read_at(key).await?.map(crate::from_ms),
            None => None,
        };
        Ok(ChannelStatus {
            line: LineStatus {
                receiving: self.config.line_channel_secret.as_deref().is_some_and(|s| !s.is_empty()),
                test_mode: self.line_test_mode(),
                webhook_url: format!("{public}/webhooks/line"),
            },
            sms: SmsStatus {
                gateway: sms.gateway.as_ref().map(|g| match g {
                    crate::sms::SmsGateway::Twilio { .. } => "twilio",
                    crate::sms::SmsGateway::Json { .. } => "json",
                }),
                test_mode: self.sms_test_mode(),
                from: sms.from.clone(),
                segment_yen: sms.segment_yen,
                hours: (hm(sms.daytime.0), hm(sms.daytime.1)),
                webhook_url: format!("{public}{}", crate::sms::WEBHOOK_PATH),
            },
            mail_replies: MailRepliesStatus { mailbox, last_read_at },
            public_url: public,
        })
    }

    /// Reads the replies mailbox now (owners; the worker does it every minute). `NotFound`
    /// when no mailbox is set.
    pub async fn read_mail_replies_now(&self, actor: &Actor) -> Result<crate::mail::MailPoll> {
        actor.require_owner()?;
        if self.config.imap.is_none() {
            return Err(crate::AppError::NotFound("mailbox"));
        }
        self.poll_mail_replies().await
    }
}
