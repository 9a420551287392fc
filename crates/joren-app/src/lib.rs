//! Joren's use cases. Every entry point takes an [`Actor`] (who is doing it), checks what that
//! actor may do, validates input with `joren-core`, writes through `joren-store` and records an
//! audit entry. The web and CLI layers stay thin on top of this.

pub mod activity;
pub mod auth;
pub mod cases;
pub mod channels;
pub mod checklist;
pub mod clock;
pub mod conversations;
pub mod counter;
pub mod cross_sell;
pub mod customers;
pub mod dashboard;
pub mod demo;
pub mod export;
pub mod home;
pub mod import;
pub mod interactions;
pub mod jobs;
pub mod line;
pub mod mail;
pub mod memberships;
pub mod message_templates;
pub mod metrics;
pub mod next_action;
pub mod orders;
mod outbox;
pub use outbox::QueuedMessage;
pub mod perks;
pub mod points;
pub mod products;
pub mod ranks;
pub mod referrals;
pub mod scenario_templates;
pub mod scenarios;
pub mod segments;
pub mod sms;
pub mod stages;
pub mod surveys;
pub mod tasks;
pub mod tickets;
pub mod webhooks;

use chrono::Utc;
use joren_core::role::Role;
use joren_core::{Code, FieldError, FieldErrors, Problem};
pub use joren_store::{
    AuditActor, AuditNote, Backend, Conversation, ConversationCounts, Customer, CustomerList, CustomerMetrics,
    CustomerSort, DuplicatePair, ProductAssociation, SnapshotInfo, Store, StoreError, User, from_ms,
};

/// Settings the use cases need.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// The shop's time zone (days, birthdays, reports).
    pub time_zone: chrono_tz::Tz,
    /// Whether session cookies get the `Secure` flag (serve over HTTPS).
    pub secure_cookies: bool,
    /// Whether a serving process runs a worker on the job queue (points expiry every minute,
    /// daily ranks and birthday points, nightly metrics, hourly housekeeping; see [`jobs`]).
    /// Tests turn it off so nothing changes the data behind their back.
    pub background_jobs: bool,
    /// Which order dates are accepted (API, forms and imports).
    pub order_dates: joren_core::order::DateBounds,
    /// Where the use cases read the time (the system clock; tests set and move a manual one).
    pub clock: clock::Clock,
    /// Sender, transport (SMTP or test mode), quiet hours and caps of mail, as started; the
    /// owner's settings saved on the page replace them (see [`App::mail`]).
    pub mail: mail::MailConfig,
    /// Mail never leaves the machine, whatever is saved (the demo shop's made-up customers).
    pub mail_test_only: bool,
    /// The LINE Official Account's channel secret: webhook calls are verified with it (none:
    /// the LINE webhook answers 404).
    pub line_channel_secret: Option<String>,
    /// The LINE channel access token pushes are sent with (none: LINE messages are kept in
    /// the outbox as sent in test mode, nothing leaves the machine).
    pub line_channel_token: Option<String>,
    /// Where the Messaging API is reached (`https://api.line.me`; tests point it at a local
    /// stand-in), without a trailing `/`.
    pub line_api_url: String,
    /// The SMS gateway, sender, price per segment and daytime hours.
    pub sms: sms::SmsConfig,
    /// The mailbox replies to the shop's mail are read from (none: not read).
    pub imap: Option<mail::ImapConfig>,
    /// Above this many orders in the newest snapshot, the dashboard's period figures come from
    /// the activity kept with the snapshot instead of the live order log (see [`activity`]).
    pub live_dashboard_orders: i64,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            time_zone: chrono_tz::Asia::Tokyo,
            secure_cookies: false,
            background_jobs: true,
            order_dates: Default::default(),
            clock: clock::Clock::system(),
            mail: Default::default(),
            mail_test_only: false,
            line_channel_secret: None,
            line_channel_token: None,
            line_api_url: line::DEFAULT_API_URL.into(),
            live_dashboard_orders: activity::LIVE_ORDER_LIMIT,
            sms: Default::default(),
            imap: None,
        }
    }
}

/// The application: the store plus configuration. Cheap to clone (clones share the cache).
#[derive(Clone, Debug)]
pub struct App {
    pub store: Store,
    pub config: AppConfig,
    /// The last order log read, with the store's order-log version it was read at.
    order_log_cache: metrics::OrderLogCache,
    activity_cache: activity::ActivityCache,
    /// The bounded pool password hashing runs on.
    password_work: std::sync::Arc<auth::PasswordWork>,
    /// The SMTP connection pool for the transport in force (made again when it changes).
    mailer: std::sync::Arc<std::sync::Mutex<Option<mail::PooledMailer>>>,
    /// The mail settings in force: the saved ones over the start-up flags, read again at the
    /// start of each engine pass.
    mail_now: std::sync::Arc<std::sync::RwLock<std::sync::Arc<mail::MailConfig>>>,
    /// The unsubscribe links' signing key, read once.
    unsubscribe_secret: std::sync::Arc<tokio::sync::OnceCell<Vec<u8>>>,
    /// The HTTP client pushes go out with (connections kept and shared).
    http: reqwest::Client,
}

/// Who is acting: a logged-in user, an API token's user, or the CLI/system.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub name: String,
    pub role: Role,
}

impl Actor {
    /// An audit record of this actor's for a store write to add inside its own transaction.
    pub(crate) fn audit_note<'a>(&'a self, action: &'a str, detail: serde_json::Value) -> joren_store::AuditNote<'a> {
        joren_store::AuditNote {
            who: joren_store::AuditActor { user_id: self.user_id, name: &self.name },
            action,
            detail,
        }
    }

    /// The local operator running the CLI (has a shell on the machine, so owner rights).
    pub fn system(name: &str) -> Self {
        Self { user_id: None, name: name.to_string(), role: Role::Owner }
    }

    pub fn from_user(u: &joren_store::User) -> Self {
        Self { user_id: Some(u.id), name: u.username.clone(), role: u.role }
    }

    /// Who an audit entry written inside a store transaction names.
    pub fn audit_actor(&self) -> joren_store::AuditActor<'_> {
        joren_store::AuditActor { user_id: self.user_id, name: &self.name }
    }

    pub fn require_write(&self) -> Result<(), AppError> {
        if self.role.can_write() { Ok(()) } else { Err(AppError::Forbidden(joren_core::Code::ReadOnlyUser.into())) }
    }

    pub fn require_owner(&self) -> Result<(), AppError> {
        if self.role.can_manage_users() { Ok(()) } else { Err(AppError::Forbidden(joren_core::Code::OwnerOnly.into())) }
    }
}

/// Errors of the use cases, with codes: the web layer words them in the reader's language
/// (`joren_web::i18n::errors`) and maps them to HTTP statuses; the display here is for logs.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("invalid: {0}")]
    Validation(FieldErrors),
    /// What was not found, as a word key (`customer`, `order`, `scenario`, …).
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("conflict: {0}")]
    Conflict(Problem),
    #[error("forbidden: {0}")]
    Forbidden(Problem),
    #[error("sign-in required")]
    Unauthorized,
    /// Too many failed logins: try again after this many seconds.
    #[error("too many failed logins: try again in {retry_after_secs} s")]
    TooManyAttempts { retry_after_secs: i64 },
    #[error("{0}")]
    Io(String),
    #[error("内部エラー: {0}")]
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => Self::NotFound(what),
            StoreError::Conflict(m) => Self::Conflict(m),
            StoreError::Invalid(f) => Self::Validation(FieldErrors(vec![f])),
            other => {
                tracing::error!(error = %other, "store error");
                Self::Internal(other.to_string())
            }
        }
    }
}

impl From<FieldErrors> for AppError {
    fn from(e: FieldErrors) -> Self {
        Self::Validation(e)
    }
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        Self::Validation(FieldErrors(vec![e]))
    }
}

pub type Result<T, E = AppError> = std::result::Result<T, E>;

impl App {
    /// Connects to the database at `url`, applies migrations and returns the app.
    pub async fn open(url: &str, config: AppConfig) -> Result<Self> {
        let store = Store::connect(url).await?;
        store.migrate().await?;
        let mail_now = std::sync::Arc::new(std::sync::RwLock::new(std::sync::Arc::new(config.mail.clone())));
        let app = Self {
            store,
            config,
            order_log_cache: Default::default(),
            activity_cache: Default::default(),
            password_work: Default::default(),
            mailer: Default::default(),
            mail_now,
            unsubscribe_secret: Default::default(),
            http: http_client()?,
        };
        app.reload_mail().await?;
        Ok(app)
    }

    /// Now, by the app's clock.
    pub fn now(&self) -> chrono::DateTime<Utc> {
        self.config.clock.now()
    }

    /// The shop's time zone (plain dates and times are read in it).
    pub fn tz(&self) -> chrono_tz::Tz {
        self.config.time_zone
    }

    /// A UTC time shown in the shop's time zone, `YYYY-MM-DD HH:MM`.
    pub fn local_time(&self, t: chrono::DateTime<Utc>) -> String {
        t.with_timezone(&self.config.time_zone).format("%Y-%m-%d %H:%M").to_string()
    }

    /// Routine clean-up, run hourly by the server: idempotency keys after 7 days (retries come
    /// within minutes; the API promises at least 24 hours), expired sessions, and import
    /// uploads nobody ran within a day.
    pub async fn housekeeping(&self) -> Result<joren_store::Housekeeping> {
        const DAY_MS: i64 = 24 * 3600 * 1000;
        Ok(self.store.housekeeping(self.now().timestamp_millis(), 7 * DAY_MS, DAY_MS).await?)
    }

    pub(crate) async fn audit(
        &self,
        actor: &Actor,
        action: &str,
        entity: &str,
        id: impl ToString,
        detail: serde_json::Value,
    ) -> Result<()> {
        self.store.audit(actor.user_id, &actor.name, action, entity, &id.to_string(), &detail).await?;
        Ok(())
    }
}

/// Checks an `Idempotency-Key` header value (1–255 characters) where one was sent, and scopes
/// it to the caller: keys are per user (a session and the user's API tokens share them; the
/// CLI has its own), so nobody can replay — and so read — another user's stored answer.
pub(crate) fn scoped_idempotency_key(actor: &Actor, key: Option<&str>) -> Result<Option<String>> {
    let Some(k) = key else { return Ok(None) };
    if k.is_empty() || k.len() > 255 {
        return Err(FieldError::new("Idempotency-Key", Code::LengthRange).arg(1).arg(255).into());
    }
    if k.chars().any(|c| c.is_control()) {
        return Err(FieldError::new("Idempotency-Key", Code::ControlChars).into());
    }
    Ok(Some(match actor.user_id {
        Some(id) => format!("u{id}:{k}"),
        None => format!("cli:{k}"),
    }))
}

/// Makes ring the process's TLS provider (rustls), which every `reqwest::Client` in the
/// process needs: reqwest is built without one (`rustls-no-provider`, so aws-lc's C build stays
/// out), and a client built before a provider is installed panics. [`App::open`] calls it;
/// anything else that builds a client first (a benchmark's load generator, a test harness)
/// calls it too. Calling it again does nothing.
pub fn install_tls() {
    // Installing fails only when a provider is already installed: that one is used.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The client for providers' HTTP APIs (LINE, webhooks): TLS by rustls on ring, 10 s per
/// request, connections kept.
fn http_client() -> Result<reqwest::Client> {
    install_tls();
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .connect_timeout(std::time::Duration::from_secs(5))
        .pool_max_idle_per_host(64)
        .user_agent(concat!("joren/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| AppError::Internal(format!("HTTP client: {e}")))
}

/// SHA-256 of `bytes` as lower-case hex (token hashes, request fingerprints).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The default SQLite database location.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://joren-data/joren.db";
