//! The mail settings a shop owner changes on the page: how mail goes out (test mode or an SMTP
//! server), the sender and postal address, quiet hours and caps. They are stored (the setting
//! `mail`) over the start-up flags, and every process reads them again at the start of each
//! engine pass (events, due steps, up to ten delivery batches of 20), so several processes
//! agree without restarting, and switching to test mode stops a broadcast within one pass (at
//! most 200 mails later). A process started
//! for the demo (`AppConfig::mail_test_only`) never leaves test mode, whatever is stored.

use std::sync::Arc;

use chrono::NaiveTime;
use joren_core::{Code, FieldErrors};
use serde::{Deserialize, Serialize};

use super::{MailConfig, SmtpSecurity, Transport};
use crate::{Actor, App, Result};

/// The stored setting's key.
const SETTING: &str = "mail";

/// The most a cap may be set to (per day or per week).
pub const MAX_CAP: i64 = 100;

/// What is stored: the owner's choices (the password kept as typed; it is never shown again).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredMail {
    pub smtp: bool,
    pub host: String,
    pub port: u16,
    /// `none`, `starttls` or `tls`.
    pub security: String,
    pub username: String,
    pub password: String,
    pub from_address: String,
    pub shop_name: String,
    pub postal_address: String,
    /// `HH:MM`, shop time.
    pub quiet_from: String,
    pub quiet_until: String,
    pub max_per_day: i64,
    pub max_per_week: i64,
}

/// The form as typed (numbers as text: full-width digits are read).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MailSettingsInput {
    /// `test` or `smtp`.
    #[serde(default)]
    pub mode: String,
    #[serde(default)]
    pub host: String,
    #[serde(default)]
    pub port: String,
    #[serde(default)]
    pub security: String,
    #[serde(default)]
    pub username: String,
    /// Empty keeps the stored password.
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub from_address: String,
    #[serde(default)]
    pub shop_name: String,
    #[serde(default)]
    pub postal_address: String,
    #[serde(default)]
    pub quiet_from: String,
    #[serde(default)]
    pub quiet_until: String,
    #[serde(default)]
    pub max_per_day: String,
    #[serde(default)]
    pub max_per_week: String,
}

/// Where the settings in force come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailSource {
    /// Saved on the settings page (over the start-up flags).
    Saved,
    /// The start-up flags and environment.
    Flags,
}

fn security_code(s: SmtpSecurity) -> &'static str {
    match s {
        SmtpSecurity::None => "none",
        SmtpSecurity::StartTls => "starttls",
        SmtpSecurity::Tls => "tls",
    }
}

fn parse_time(field: &str, v: &str, e: &mut FieldErrors) -> Option<NaiveTime> {
    let v = joren_core::text::half_width(v.trim());
    match NaiveTime::parse_from_str(&v, "%H:%M") {
        Ok(t) => Some(t),
        Err(_) => {
            e.push(field, Code::BadTime);
            None
        }
    }
}

impl StoredMail {
    /// The settings in force as the form shows them (no password).
    pub fn from_config(c: &MailConfig) -> Self {
        let mut s = Self {
            from_address: c.from_address.clone(),
            shop_name: c.shop_name.clone(),
            postal_address: c.postal_address.clone(),
            quiet_from: c.quiet_from.format("%H:%M").to_string(),
            quiet_until: c.quiet_until.format("%H:%M").to_string(),
            max_per_day: c.max_per_day,
            max_per_week: c.max_per_week,
            port: 587,
            security: "starttls".into(),
            ..Default::default()
        };
        if let Transport::Smtp { host, port, security, username, .. } = &c.transport {
            s.smtp = true;
            s.host = host.clone();
            s.port = *port;
            s.security = security_code(*security).into();
            s.username = username.clone().unwrap_or_default();
        }
        s
    }

    /// The settings as the API and the command line show them: never the password, only
    /// whether one is kept; `source` says whether they were saved or come from the flags.
    pub fn view(&self, source: MailSource, has_password: bool) -> serde_json::Value {
        serde_json::json!({
            "mode": if self.smtp { "smtp" } else { "test" },
            "host": self.host, "port": self.port, "security": self.security, "username": self.username,
            "has_password": has_password,
            "from_address": self.from_address, "shop_name": self.shop_name, "postal_address": self.postal_address,
            "quiet_from": self.quiet_from, "quiet_until": self.quiet_until,
            "max_per_day": self.max_per_day, "max_per_week": self.max_per_week,
            "source": match source { MailSource::Saved => "saved", MailSource::Flags => "flags" },
        })
    }

    /// These settings over `base` (the start-up flags: the public address and lease stay).
    fn apply(&self, base: &MailConfig, test_only: bool) -> MailConfig {
        let security = match self.security.as_str() {
            "none" => SmtpSecurity::None,
            "tls" => SmtpSecurity::Tls,
            _ => SmtpSecurity::StartTls,
        };
        let transport = if self.smtp && !test_only {
            Transport::Smtp {
                host: self.host.clone(),
                port: self.port,
                security,
                username: Some(self.username.clone()).filter(|u| !u.is_empty()),
                password: Some(self.password.clone()).filter(|p| !p.is_empty()),
            }
        } else {
            Transport::Test
        };
        MailConfig {
            transport,
            from_address: self.from_address.clone(),
            shop_name: self.shop_name.clone(),
            postal_address: self.postal_address.clone(),
            quiet_from: NaiveTime::parse_from_str(&self.quiet_from, "%H:%M").unwrap_or(base.quiet_from),
            quiet_until: NaiveTime::parse_from_str(&self.quiet_until, "%H:%M").unwrap_or(base.quiet_until),
            max_per_day: self.max_per_day,
            max_per_week: self.max_per_week,
            public_url: base.public_url.clone(),
            lease_ms: base.lease_ms,
        }
    }
}

impl MailSettingsInput {
    /// The form's fields from JSON (the API, a file for the command line), where numbers may
    /// be written as numbers or as text.
    pub fn from_json(mut v: serde_json::Value) -> std::result::Result<Self, serde_json::Error> {
        if let Some(o) = v.as_object_mut() {
            for x in o.values_mut() {
                if x.is_number() {
                    *x = serde_json::Value::String(x.to_string());
                }
            }
        }
        serde_json::from_value(v)
    }

    /// Checks every field (all errors at once) into what is stored; `kept_password` is the
    /// stored password, kept when none is typed.
    fn validate(&self, kept_password: &str) -> std::result::Result<StoredMail, FieldErrors> {
        let mut e = FieldErrors::default();
        let smtp = match self.mode.as_str() {
            "smtp" => true,
            "test" | "" => false,
            other => {
                e.push("mode", Code::NotOneOf).with(other).with("test, smtp");
                false
            }
        };
        let host = self.host.trim().to_string();
        let port = match joren_core::text::parse_int(&self.port) {
            _ if !smtp && self.port.trim().is_empty() => 587,
            Some(p) if (1..=65_535).contains(&p) => p as u16,
            _ => {
                e.push("port", Code::Range).with(1).with(65_535);
                0
            }
        };
        let security = self.security.trim().to_string();
        if smtp {
            if host.is_empty() {
                e.push("host", Code::Required);
            } else if host.contains(['/', ' ', '@']) {
                e.push("host", Code::BadHost).with(&host);
            }
            if !matches!(security.as_str(), "none" | "starttls" | "tls") {
                e.push("security", Code::Choose);
            }
        }
        let from_address = self.from_address.trim().to_string();
        if from_address.parse::<lettre::Address>().is_err() {
            e.push("from_address", Code::BadEmail).with(&from_address);
        }
        let shop_name = self.shop_name.trim().to_string();
        if shop_name.is_empty() {
            e.push("shop_name", Code::Required);
        }
        e.take(joren_core::text::check_text("shop_name", &shop_name, 100));
        let postal_address = self.postal_address.trim().to_string();
        e.take(joren_core::text::check_text("postal_address", &postal_address, 300));
        e.take(joren_core::text::check_text("username", &self.username, 200));
        e.take(joren_core::text::check_text("password", &self.password, 200));
        let quiet_from = parse_time("quiet_from", &self.quiet_from, &mut e);
        let quiet_until = parse_time("quiet_until", &self.quiet_until, &mut e);
        let mut cap = |field: &str, v: &str| match joren_core::text::parse_int(v) {
            Some(n) if (0..=MAX_CAP).contains(&n) => n,
            _ => {
                e.push(field, Code::Range).with(0).with(MAX_CAP);
                0
            }
        };
        let max_per_day = cap("max_per_day", &self.max_per_day);
        let max_per_week = cap("max_per_week", &self.max_per_week);
        if !e.is_empty() {
            return Err(e);
        }
        let password = if self.password.is_empty() { kept_password.to_string() } else { self.password.clone() };
        Ok(StoredMail {
            smtp,
            host,
            port,
            security: if smtp { security } else { "starttls".into() },
            username: self.username.trim().to_string(),
            password,
            from_address,
            shop_name,
            postal_address,
            quiet_from: quiet_from.map(|t| t.format("%H:%M").to_string()).unwrap_or_default(),
            quiet_until: quiet_until.map(|t| t.format("%H:%M").to_string()).unwrap_or_default(),
            max_per_day,
            max_per_week,
        })
    }
}

impl App {
    /// The mail settings in force now (as last read by [`App::reload_mail`]).
    pub fn mail(&self) -> Arc<MailConfig> {
        self.mail_now.read().expect("mail settings lock").clone()
    }

    /// Reads the stored mail settings again (one query) and puts them in force over the
    /// start-up flags; answers where they come from. Each engine pass (`App::automate_once`:
    /// events, due steps, one delivery batch) starts with it, so a change on the page reaches
    /// every process.
    pub async fn reload_mail(&self) -> Result<MailSource> {
        let stored = self.stored_mail().await?;
        let (config, source) = match &stored {
            Some(s) => (s.apply(&self.config.mail, self.config.mail_test_only), MailSource::Saved),
            None => {
                let mut c = self.config.mail.clone();
                if self.config.mail_test_only {
                    c.transport = Transport::Test;
                }
                (c, MailSource::Flags)
            }
        };
        *self.mail_now.write().expect("mail settings lock") = Arc::new(config);
        Ok(source)
    }

    async fn stored_mail(&self) -> Result<Option<StoredMail>> {
        Ok(self.store.setting(SETTING).await?.and_then(|json| serde_json::from_str(&json).ok()))
    }

    /// The settings in force, as the settings form shows them, with where they come from and
    /// whether a password is kept (owners).
    pub async fn mail_settings(&self, actor: &Actor) -> Result<(StoredMail, MailSource, bool)> {
        actor.require_owner()?;
        let source = self.reload_mail().await?;
        let has_password = match &self.mail().transport {
            Transport::Smtp { password, .. } => password.is_some(),
            Transport::Test => self.stored_mail().await?.is_some_and(|s| !s.password.is_empty()),
        };
        Ok((StoredMail::from_config(&self.mail()), source, has_password))
    }

    /// Saves the mail settings from the page (owners; audited without the password) and puts
    /// them in force.
    pub async fn set_mail_settings(&self, actor: &Actor, input: &MailSettingsInput) -> Result<()> {
        actor.require_owner()?;
        // An empty password keeps the one in force: saved, or else the start-up flags' (a
        // shop set up by JOREN_SMTP_URL that changes its quiet hours here keeps its login).
        let kept = match self.stored_mail().await? {
            Some(s) => s.password,
            None => match &self.config.mail.transport {
                Transport::Smtp { password, .. } => password.clone().unwrap_or_default(),
                Transport::Test => String::new(),
            },
        };
        let stored = input.validate(&kept)?;
        let json = serde_json::to_string(&stored).map_err(|e| crate::AppError::Internal(e.to_string()))?;
        self.store.set_setting(SETTING, &json).await?;
        let detail = serde_json::json!({
            "smtp": stored.smtp, "host": stored.host, "port": stored.port, "security": stored.security,
            "username": stored.username, "from_address": stored.from_address, "shop_name": stored.shop_name,
            "quiet": [stored.quiet_from, stored.quiet_until], "caps": [stored.max_per_day, stored.max_per_week],
        });
        self.audit(actor, "settings.mail", "settings", SETTING, detail).await?;
        self.reload_mail().await?;
        Ok(())
    }

    /// Forgets the settings saved on the page: the start-up flags are in force again (owners).
    pub async fn reset_mail_settings(&self, actor: &Actor) -> Result<()> {
        actor.require_owner()?;
        self.store.delete_setting(SETTING).await?;
        self.audit(actor, "settings.mail.reset", "settings", SETTING, serde_json::json!({})).await?;
        self.reload_mail().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> MailSettingsInput {
        MailSettingsInput {
            mode: "smtp".into(),
            host: "mail.example.jp".into(),
            port: "５８７".into(),
            security: "starttls".into(),
            from_address: "shop@example.jp".into(),
            shop_name: "花屋".into(),
            quiet_from: "２１:００".into(),
            quiet_until: "09:00".into(),
            max_per_day: "1".into(),
            max_per_week: "３".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_form_is_read_the_way_it_is_typed_and_the_password_kept_when_left_empty() {
        let s = input().validate("old secret").unwrap();
        assert_eq!((s.port, s.quiet_from.as_str(), s.max_per_week), (587, "21:00", 3));
        assert_eq!(s.password, "old secret", "an empty password keeps the stored one");
        let s = MailSettingsInput { password: "new".into(), ..input() }.validate("old").unwrap();
        assert_eq!(s.password, "new");
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let bad = MailSettingsInput {
            host: String::new(),
            port: "70000".into(),
            from_address: "shop@".into(),
            quiet_from: "25:00".into(),
            max_per_day: "-1".into(),
            ..input()
        };
        let fields: Vec<String> = bad.validate("").unwrap_err().0.into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["port", "host", "from_address", "quiet_from", "max_per_day"]);
    }

    #[test]
    fn a_test_only_process_never_sends_whatever_is_stored() {
        let s = input().validate("").unwrap();
        let base = MailConfig::default();
        assert!(matches!(s.apply(&base, false).transport, Transport::Smtp { .. }));
        assert!(matches!(s.apply(&base, true).transport, Transport::Test));
    }
}
