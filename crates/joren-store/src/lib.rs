//! Joren's persistence. One store over SQLite (embedded default) or PostgreSQL, chosen by the
//! database URL. Query text is shared where the dialects agree (`$1` placeholders work on both);
//! the few places that differ branch on [`Backend`]. Nothing above this crate writes SQL.

mod audit;
mod batch;
mod blocks;
mod bulk;
mod cases;
mod checklist;
mod conversations;
mod copy;
mod counts;
mod cross_sell;
mod customers;
mod db;
mod events;
mod facts;
mod idempotency;
mod interactions;
mod jobs;
mod memberships;
mod message_templates;
mod metrics;
mod orders;
mod outbox;
mod perks;
mod points;
mod products;
mod ranks;
mod referrals;
mod scenario_events;
mod scenarios;
mod segments;
mod settings;
mod stages;
mod survey_scores;
mod surveys;
mod tasks;
mod tickets;
mod timeline;
mod triggers;
mod uploads;
mod users;
mod webhooks;
mod writer;
mod writer_time;

pub use audit::{AuditActor, AuditEntry, AuditFilter, AuditNote};
pub use cases::{Case, CaseFilter, CaseStep, NewCase, StepWrite as CaseStepWrite};
pub use checklist::ChecklistCounts;
pub use conversations::{Conversation, ConversationCounts, ConversationView, ThreadMessage};
pub use cross_sell::ProductAssociation;
pub use customers::{
    ConsentState, Contact, Customer, CustomerList, CustomerPage, CustomerSort, CustomerStanding, CustomerSummary,
    DuplicatePair, ExternalId, LineApplied, LineEvent, LineEventKind, LineLinked, MailApplied, MailReply, MailThread,
    MailboxCursor, MergeResult, NewCustomerRecord, SmsApplied, SmsInbound, WaitingLineMessage, WaitingLineUser,
};
pub use db::{Backend, Store};
pub use events::Event;
pub use idempotency::{Housekeeping, IdempotencyOutcome};
pub use interactions::{Interaction, NewInteraction};
pub use jobs::{ClaimedJob, Job, JobCounts, JobState, NewJob};
pub use memberships::{Membership, MembershipChange, MembershipEvent, MembershipFact, MembershipPlan};
pub use message_templates::MessageTemplate;
pub use metrics::{CustomerMetrics, OrderLogVersion, SegmentChange, SnapshotFigure, SnapshotInfo};
pub use orders::{Adjustment, Order, OrderAdjustment, OrderCreated, OrderItem, OrderPage, OrderTotals, PointsContext};
pub use outbox::{ClaimLimit, Delivery, Message, OutboxCounts};
pub use perks::Perk;
pub use points::{
    EarnBreakdownView, ExpiryRun, LotMismatch, LotSource, OrderPoints, PointBalances, PointEntry, PointLot,
    PointsAccount, PointsMonth, Redemption, RedemptionRequest, day_from_number, day_number,
};
pub use products::Product;
pub use ranks::{
    CustomerRank, RankChange, RankChangeNote, RankCount, RankMovement, RankSpan, RankWrite, upgrade_write,
};
pub use referrals::{NewReferral, Referral, ReferralFilter, ReferralPoints, RewardPlan};
pub use scenarios::{Enrolment, EventEffects, NewMessage, NewTask, Run, RunAdvance, RunCount, Scenario};
pub use segments::{SavedSegment, SegmentPage};
pub use stages::{CustomerStage, StageChange};
pub use survey_scores::{ScoreRow, SentRow};
pub use surveys::{
    Answered, Invitation, NewInvitation, Response as SurveyResponse, ResponseFilter, ResponseWrite, Survey, SurveyWrite,
};
pub use tasks::{Task, TaskFilter};
pub use tickets::{Ticket, TicketPlan, TicketUse, TicketWrite};
pub use timeline::{Facts, TimelineEntry};
pub use triggers::SegmentMoves;
pub use uploads::Upload;
pub use users::{ApiToken, Session, User, UserChange, login_lock_ms};
pub use webhooks::{HookOutcome, WebhookDelivery, WebhookSubscription};
pub use writer_time::labelled as writer_label;

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} が見つかりません")]
    NotFound(&'static str),
    #[error("conflict: {0}")]
    Conflict(joren_core::Problem),
    #[error("invalid: {0}")]
    Invalid(#[from] joren_core::FieldError),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// True when the error is a unique-constraint violation (a concurrent duplicate).
    pub fn is_unique_violation(&self) -> bool {
        match self {
            Self::Db(sqlx::Error::Database(e)) => e.is_unique_violation(),
            _ => false,
        }
    }

    /// Whether the database gave up on this transaction only because of another one running
    /// at the same moment (PostgreSQL's deadlock victim `40P01` or serialization failure
    /// `40001`): it was rolled back whole, and running it again is safe.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Db(sqlx::Error::Database(e)) => matches!(e.code().as_deref(), Some("40P01" | "40001")),
            _ => false,
        }
    }

    /// A unique key lost to a simultaneous duplicate, or a transient failure: the keyed writes
    /// run again ([`keyed_write`]), and then answer the first one's result (a replay) or do
    /// the work.
    pub fn is_worth_retrying(&self) -> bool {
        self.is_unique_violation() || self.is_transient()
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Runs a keyed write (`attempt(retry)`; `retry` is false the first time), and again while it
/// lost a unique key to a simultaneous duplicate or PostgreSQL picked it as a deadlock victim
/// or serialization failure — each time its transaction was rolled back whole, so the next
/// attempt answers the first one's result (a replay) or does the work. Four attempts in all,
/// a few milliseconds apart (more at once, several tills sending the same sale, can lose
/// more than once).
pub(crate) async fn keyed_write<T, F, Fut>(attempt: F) -> Result<T>
where
    F: FnMut(bool) -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    retry_while(StoreError::is_worth_retrying, attempt).await
}

/// Runs a whole-transaction write again (four attempts in all) while PostgreSQL picks it as a
/// deadlock victim or serialization failure: it was rolled back whole, so running it again is
/// safe. For writes without a key of their own (confirming or cancelling a points hold).
pub(crate) async fn transient_retry<T, F, Fut>(mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    retry_while(StoreError::is_transient, |_| attempt()).await
}

async fn retry_while<T, F, Fut>(worth_it: fn(&StoreError) -> bool, mut attempt: F) -> Result<T>
where
    F: FnMut(bool) -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    const ATTEMPTS: u32 = 4;
    let mut n = 0;
    loop {
        match attempt(n > 0).await {
            Err(e) if worth_it(&e) && n + 1 < ATTEMPTS => {
                n += 1;
                // Spread the retries so the same transactions do not meet again at once.
                let jitter = u64::from(std::process::id() ^ now_ms() as u32) % 5;
                tokio::time::sleep(std::time::Duration::from_millis(u64::from(n) * 2 + jitter)).await;
            }
            other => return other,
        }
    }
}

/// Milliseconds since the Unix epoch, the stored form of every timestamp.
pub fn to_ms(t: chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp_millis()
}

/// Inverse of [`to_ms`].
pub fn from_ms(ms: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A customer's display name from a row holding `c.kind AS customer_kind, c.family_name,
/// c.given_name, c.company_name`.
pub(crate) fn customer_name(r: &sqlx::any::AnyRow) -> Result<String> {
    use joren_core::customer::{CustomerKind, display_name};
    use sqlx::Row;
    let kind: String = r.try_get("customer_kind")?;
    let (family, given, company): (String, String, String) =
        (r.try_get("family_name")?, r.try_get("given_name")?, r.try_get("company_name")?);
    Ok(display_name(CustomerKind::parse(&kind).unwrap_or(CustomerKind::Person), &family, &given, &company))
}
