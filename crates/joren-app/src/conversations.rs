//! The inbox (受信箱): conversations across channels — LINE, SMS and email — from a customer's first
//! message until staff close it. Staff see the unassigned ones, their own or all; take one or
//! give it to a colleague; answer it (the first answer sets its first-response time) from the
//! inbox or the customer page; and close it (its resolution time). A message after closing
//! opens a new conversation.

use joren_store::{AuditNote, Conversation, ConversationCounts, ConversationView, ThreadMessage};
use serde::Serialize;

use crate::QueuedMessage;
use crate::line::LineMessageInput;
use crate::{Actor, App, AppError, Result};

/// Which conversations a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InboxView {
    /// Open, nobody has taken them.
    #[default]
    Unassigned,
    /// Open, the viewer's.
    Mine,
    /// Every open one.
    Open,
    Closed,
}

impl InboxView {
    pub const ALL: [InboxView; 4] = [Self::Unassigned, Self::Mine, Self::Open, Self::Closed];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unassigned => "unassigned",
            Self::Mine => "mine",
            Self::Open => "all",
            Self::Closed => "closed",
        }
    }
}

/// One conversation with its messages.
#[derive(Debug, Clone, Serialize)]
pub struct ConversationDetail {
    #[serde(flatten)]
    pub conversation: Conversation,
    pub first_response_secs: Option<i64>,
    pub resolution_secs: Option<i64>,
    /// Whether a reply can be sent: a linked customer who has not blocked the account (LINE),
    /// a customer whose number it is and who has not replied STOP (SMS).
    pub can_reply: bool,
    pub thread: Vec<ThreadMessage>,
}

/// Messages a conversation's thread shows at most.
const THREAD_LIMIT: i64 = 500;

impl App {
    /// The conversations in `view` for `actor`, with the open counts for the tabs.
    pub async fn conversations(
        &self,
        actor: &Actor,
        view: InboxView,
        limit: i64,
    ) -> Result<(ConversationCounts, Vec<Conversation>)> {
        let me = actor.user_id.unwrap_or(-1);
        let v = match view {
            InboxView::Unassigned => ConversationView::Unassigned,
            InboxView::Mine => ConversationView::Mine(me),
            InboxView::Open => ConversationView::Open,
            InboxView::Closed => ConversationView::Closed,
        };
        Ok((self.store.conversation_counts(me).await?, self.store.conversations(v, limit).await?))
    }

    /// A conversation with its thread.
    pub async fn conversation(&self, id: i64) -> Result<ConversationDetail> {
        let c = self.store.conversation(id).await?;
        let thread = self.store.conversation_thread(&c, THREAD_LIMIT).await?;
        let can_reply = match (c.channel.as_str(), c.customer_id) {
            ("line", Some(customer)) => self
                .store
                .customer_line_user(customer)
                .await?
                .is_some_and(|(user, following)| user == c.address && following != Some(false)),
            ("sms", Some(customer)) => {
                let customer = self.store.get_customer(customer).await?;
                crate::sms::textable(&customer) == Some(c.address.as_str())
            }
            // The answer goes to the address that wrote.
            ("email", Some(_)) => true,
            _ => false,
        };
        Ok(ConversationDetail {
            first_response_secs: c.first_response_secs(),
            resolution_secs: c.resolution_secs(),
            conversation: c,
            can_reply,
            thread,
        })
    }

    /// A customer's conversations, newest first (the customer page).
    pub async fn customer_conversations(&self, customer_id: i64) -> Result<Vec<Conversation>> {
        Ok(self.store.customer_conversations(customer_id, 20).await?)
    }

    /// Gives conversation `id` to staff member `assignee` (None: back to nobody).
    pub async fn assign_conversation(&self, actor: &Actor, id: i64, assignee: Option<i64>) -> Result<Conversation> {
        actor.require_write()?;
        if let Some(a) = assignee
            && !self.staff_directory().await?.iter().any(|(uid, _)| *uid == a)
        {
            return Err(joren_core::FieldError::new("assignee_id", joren_core::Code::Choose).into());
        }
        let note = actor.audit_note("conversation.assign", serde_json::json!({"assignee_id": assignee}));
        self.store.assign_conversation(id, assignee, self.config.clock.now_ms(), &note).await?;
        Ok(self.store.conversation(id).await?)
    }

    /// Closes conversation `id` (its resolution time is now) or reopens it.
    pub async fn set_conversation_open(&self, actor: &Actor, id: i64, open: bool) -> Result<Conversation> {
        actor.require_write()?;
        let action = if open { "conversation.reopen" } else { "conversation.close" };
        let note: AuditNote<'_> = actor.audit_note(action, serde_json::json!({}));
        self.store.set_conversation_open(id, open, self.config.clock.now_ms(), &note).await?;
        Ok(self.store.conversation(id).await?)
    }

    /// Answers conversation `id` on its channel (once per `key`). A conversation nobody had
    /// becomes the replier's (in the transaction that queues the answer). A closed one is
    /// reopened first. A LINE friend not linked to a customer yet cannot be answered:
    /// unknown recipients are never messaged — link them first.
    pub async fn reply_to_conversation(
        &self,
        actor: &Actor,
        id: i64,
        input: LineMessageInput,
        key: Option<&str>,
    ) -> Result<QueuedMessage> {
        actor.require_write()?;
        let c = self.store.conversation(id).await?;
        let customer = match (c.channel.as_str(), c.customer_id) {
            ("line" | "sms" | "email", Some(customer)) => customer,
            ("sms", None) => return Err(joren_core::sms::no_phone("text").into()),
            ("email", None) => {
                return Err(joren_core::FieldError::new("text", joren_core::Code::NoEmailAddress).into());
            }
            _ => return Err(joren_core::line::no_user("text").into()),
        };
        if c.state == "closed" {
            return Err(AppError::Conflict(joren_core::Code::ConversationClosed.into()));
        }
        if c.channel != "line" {
            // A text or a mail is only text: LINE's card and buttons have no place in it.
            if input.card.is_some() || !input.quick_replies.is_empty() {
                let field = if input.card.is_some() { "card" } else { "quick_replies" };
                return Err(joren_core::FieldError::new(field, joren_core::Code::LineOnly).into());
            }
            if c.channel == "email" {
                return self.send_email_reply(actor, customer, &input.text, key).await;
            }
            return self.send_sms_message(actor, customer, crate::sms::SmsMessageInput { text: input.text }, key).await;
        }
        self.send_line_message(actor, customer, input, key).await
    }

    /// Makes a new customer of the person behind conversation `id`, who no customer had yet:
    /// with the name typed (optional) and the conversation's LINE user, phone number or
    /// address. Their messages move onto the new customer's timeline and the conversation
    /// becomes theirs. Answers the customer and whether it is new: a conversation that
    /// already has a customer answers that customer (a second click makes no second one).
    pub async fn customer_from_conversation(
        &self,
        actor: &Actor,
        id: i64,
        family_name: &str,
        given_name: &str,
    ) -> Result<(i64, bool)> {
        actor.require_write()?;
        let c = self.store.conversation(id).await?;
        if let Some(customer) = c.customer_id {
            return Ok((customer, false));
        }
        let name = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let mut profile = joren_core::customer::CustomerInput {
            family_name: name(family_name),
            given_name: name(given_name),
            ..Default::default()
        };
        match c.channel.as_str() {
            "sms" => profile.phone = Some(c.address.clone()),
            "email" => profile.email = Some(c.address.clone()),
            _ => {}
        }
        if c.channel == "line" && profile.family_name.is_none() && profile.given_name.is_none() {
            profile.family_name = Some(format!("LINE …{}", &c.address[c.address.len().saturating_sub(6)..]));
        }
        let input = crate::customers::NewCustomer { profile, external_ids: Vec::new(), consents: Default::default() };
        // Keyed by the conversation: a double click makes one customer.
        let key = format!("conversation-{id}");
        let (customer, _) = self.create_customer_keyed(actor, input, Some(&key)).await?;
        if c.channel == "line" {
            // Linking moves the friend's messages and makes their follow state the consent.
            self.link_line_user(actor, customer.id, &c.address).await?;
        }
        Ok((customer.id, true))
    }
}
