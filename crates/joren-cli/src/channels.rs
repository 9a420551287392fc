//! `joren inbox …` (conversations), `joren line …` (linking and messages) and
//! `joren webhooks …` (subscriptions and their delivery log). Answers are JSON on stdout, as
//! the API gives them.

use anyhow::Result;
use clap::Subcommand;
use joren_app::conversations::InboxView;
use joren_app::line::LineMessageInput;
use joren_app::webhooks::WebhookInput;
use joren_app::{Actor, App};

#[derive(Subcommand)]
pub enum InboxCommand {
    /// Conversations: unassigned, mine (the CLI has none), all (open) or closed.
    List {
        #[arg(long, default_value = "all")]
        view: String,
    },
    /// One conversation with its messages and its response and resolution times.
    Show {
        id: i64,
    },
    /// Answer a conversation on its channel (LINE); `--key` makes a retry send nothing new.
    Reply {
        id: i64,
        text: String,
        #[arg(long)]
        key: Option<String>,
    },
    /// Give a conversation to a staff member (a user id), or to nobody without one.
    Assign {
        id: i64,
        user_id: Option<i64>,
    },
    Close {
        id: i64,
    },
    Reopen {
        id: i64,
    },
}

#[derive(Subcommand)]
pub enum LineCommand {
    /// Link a LINE user (U + 32 hex digits) to a customer.
    Link { customer_id: i64, line_user_id: String },
    /// A one-time code for the customer to send to the shop's LINE account.
    Code { customer_id: i64 },
    /// LINE friends no customer is linked to yet.
    Unlinked,
    /// Send a customer a LINE message (queued; the worker pushes it).
    Send {
        customer_id: i64,
        text: String,
        #[arg(long)]
        key: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum WebhooksCommand {
    /// The subscriptions, with their signing secrets.
    List,
    /// Subscribe URL to event kinds (comma-separated, or * for all).
    Add {
        url: String,
        #[arg(long, default_value = "*")]
        events: String,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Remove a subscription and its log.
    Remove { id: i64 },
    /// Queue a webhook.test delivery.
    Test { id: i64 },
    /// The delivery log, newest first.
    Deliveries {
        #[arg(long)]
        subscription: Option<i64>,
        #[arg(long)]
        state: Option<String>,
    },
    /// Send a failed delivery again.
    Retry { id: i64 },
    /// The event kinds a subscription may name.
    Events,
}

/// Prints an answer as pretty JSON.
macro_rules! answer {
    ($v:expr) => {{
        println!("{}", serde_json::to_string_pretty(&$v)?);
        Ok(())
    }};
}

pub async fn inbox(app: App, c: InboxCommand, actor: &Actor) -> Result<()> {
    match c {
        InboxCommand::List { view } => {
            let view = InboxView::parse(&view)
                .ok_or_else(|| anyhow::anyhow!("--view must be unassigned, mine, all or closed"))?;
            let (counts, items) = app.conversations(actor, view, 500).await?;
            answer!(serde_json::json!({"counts": counts, "items": items}))
        }
        InboxCommand::Show { id } => answer!(app.conversation(id).await?),
        InboxCommand::Reply { id, text, key } => {
            let input = LineMessageInput { text, ..Default::default() };
            answer!(app.reply_to_conversation(actor, id, input, key.as_deref()).await?)
        }
        InboxCommand::Assign { id, user_id } => answer!(app.assign_conversation(actor, id, user_id).await?),
        InboxCommand::Close { id } => answer!(app.set_conversation_open(actor, id, false).await?),
        InboxCommand::Reopen { id } => answer!(app.set_conversation_open(actor, id, true).await?),
    }
}

pub async fn line(app: App, c: LineCommand, actor: &Actor) -> Result<()> {
    match c {
        LineCommand::Link { customer_id, line_user_id } => {
            let linked = app.link_line_user(actor, customer_id, &line_user_id).await?;
            answer!(serde_json::json!({"moved_messages": linked.moved_messages, "following": linked.following}))
        }
        LineCommand::Code { customer_id } => answer!(app.line_link_code(actor, customer_id).await?),
        LineCommand::Unlinked => answer!(app.unlinked_line_users(500).await?),
        LineCommand::Send { customer_id, text, key } => {
            let input = LineMessageInput { text, ..Default::default() };
            answer!(app.send_line_message(actor, customer_id, input, key.as_deref()).await?)
        }
    }
}

pub async fn webhooks(app: App, c: WebhooksCommand, actor: &Actor) -> Result<()> {
    match c {
        WebhooksCommand::List => answer!(app.webhooks(actor).await?),
        WebhooksCommand::Add { url, events, description } => {
            let events = events.split(',').map(|e| e.trim().to_string()).filter(|e| !e.is_empty()).collect();
            answer!(app.create_webhook(actor, WebhookInput { url, events, description, active: None }).await?)
        }
        WebhooksCommand::Remove { id } => {
            app.delete_webhook(actor, id).await?;
            eprintln!("webhook {id} removed");
            Ok(())
        }
        WebhooksCommand::Test { id } => answer!(app.test_webhook(actor, id).await?),
        WebhooksCommand::Deliveries { subscription, state } => {
            answer!(app.webhook_deliveries(actor, subscription, state.as_deref(), 200).await?)
        }
        WebhooksCommand::Retry { id } => answer!(app.retry_webhook_delivery(actor, id).await?),
        WebhooksCommand::Events => answer!(joren_app::webhooks::event_kinds()),
    }
}
