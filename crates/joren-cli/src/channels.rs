//! `joren inbox …` (conversations), `joren line …` (linking and messages), `joren sms …`
//! (texts and their cost) and `joren webhooks …` (subscriptions and their delivery log), and
//! the SMS gateway's flags. Answers are JSON on stdout, as the API gives them.

use anyhow::{Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use joren_app::conversations::InboxView;
use joren_app::line::LineMessageInput;
use joren_app::sms::{SmsConfig, SmsGateway, SmsMessageInput};
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
    /// Answer a conversation on its channel (LINE or SMS); `--key` makes a retry send nothing new.
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
    /// Add the person behind a conversation no customer had as a new customer (with their LINE
    /// user, number or address; their messages move to the new customer's timeline).
    Adopt {
        id: i64,
        #[arg(long, default_value = "")]
        family_name: String,
        #[arg(long, default_value = "")]
        given_name: String,
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
pub enum ChannelsCommand {
    /// LINE, SMS and mail replies as started: set up or test mode, the webhook addresses to
    /// give the providers, the mailbox and when it was last read.
    Status,
}

#[derive(Subcommand)]
pub enum SmsCommand {
    /// Send a customer a text (queued; the worker sends it through the gateway).
    Send {
        customer_id: i64,
        text: String,
        #[arg(long)]
        key: Option<String>,
    },
    /// What a text costs: its segments, and with --segment the members it would reach and the
    /// price (--transactional counts members without SMS consent too).
    Estimate {
        text: String,
        #[arg(long)]
        segment: Option<i64>,
        #[arg(long)]
        transactional: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum GatewayKind {
    /// Twilio's Messages API (or a gateway that copies it).
    Twilio,
    /// A JSON POST in the shape of --sms-json-template.
    Json,
}

/// The SMS gateway. Without --sms-gateway texts are kept in the outbox as sent in test mode.
#[derive(Args, Clone)]
pub struct SmsArgs {
    /// Which gateway texts go through (none: test mode, nothing leaves the machine).
    #[arg(long, env = "JOREN_SMS_GATEWAY", global = true, value_enum)]
    sms_gateway: Option<GatewayKind>,
    /// The gateway's address: Twilio's API (default https://api.twilio.com), or the URL a
    /// `json` gateway takes its POST at.
    #[arg(long, env = "JOREN_SMS_GATEWAY_URL", global = true)]
    sms_gateway_url: Option<String>,
    /// Twilio's Account SID (AC…).
    #[arg(long, env = "JOREN_SMS_ACCOUNT", global = true, default_value = "")]
    sms_account: String,
    /// Twilio's auth token, or a `json` gateway's bearer token (also the key replies are
    /// signed with).
    #[arg(long, env = "JOREN_SMS_TOKEN", global = true, hide_env_values = true, default_value = "")]
    sms_token: String,
    /// The sender: a number (+81…), a sender id, or a Twilio messaging service (MG…).
    #[arg(long, env = "JOREN_SMS_FROM", global = true, default_value = "")]
    sms_from: String,
    /// A `json` gateway's body: JSON with {{to}}, {{from}}, {{text}} and {{key}}.
    #[arg(long, env = "JOREN_SMS_JSON_TEMPLATE", global = true, default_value = joren_app::sms::DEFAULT_JSON_TEMPLATE)]
    sms_json_template: String,
    /// What one segment costs (yen), for estimates before a broadcast.
    #[arg(long, env = "JOREN_SMS_SEGMENT_YEN", global = true, default_value_t = 10)]
    sms_segment_yen: i64,
    /// The local hours scenario texts may go out, as FROM-UNTIL (hours).
    #[arg(long, env = "JOREN_SMS_HOURS", global = true, default_value = "9-20")]
    sms_hours: String,
}

impl SmsArgs {
    pub fn config(&self) -> Result<SmsConfig> {
        let gateway = match self.sms_gateway {
            None => None,
            Some(GatewayKind::Twilio) => {
                if self.sms_account.is_empty() || self.sms_token.is_empty() {
                    bail!("--sms-gateway twilio needs --sms-account and --sms-token");
                }
                let base = self.sms_gateway_url.as_deref().unwrap_or(joren_app::sms::TWILIO_API_URL);
                Some(SmsGateway::Twilio {
                    base_url: base.trim_end_matches('/').to_string(),
                    account_sid: self.sms_account.clone(),
                    auth_token: self.sms_token.clone(),
                })
            }
            Some(GatewayKind::Json) => {
                let Some(url) = self.sms_gateway_url.clone() else {
                    bail!("--sms-gateway json needs --sms-gateway-url")
                };
                joren_app::sms::fill_template(&self.sms_json_template, "+819000000000", "x", "x", "x")
                    .map_err(|e| anyhow::anyhow!("--sms-json-template: {e}"))?;
                Some(SmsGateway::Json { url, token: self.sms_token.clone(), template: self.sms_json_template.clone() })
            }
        };
        if gateway.is_some() && self.sms_from.is_empty() {
            bail!("--sms-from is needed with a gateway");
        }
        if !(0..=joren_core::sms::MAX_SEGMENT_YEN).contains(&self.sms_segment_yen) {
            bail!("--sms-segment-yen must be 0 to {}", joren_core::sms::MAX_SEGMENT_YEN);
        }
        let hours = self
            .sms_hours
            .split_once('-')
            .and_then(|(a, b)| Some((a.trim().parse::<u32>().ok()?, b.trim().parse::<u32>().ok()?)))
            .filter(|(a, b)| a < b && *b <= 23);
        let Some((from, until)) = hours else { bail!("--sms-hours must be FROM-UNTIL hours, e.g. 9-20") };
        let time = |h: u32| chrono::NaiveTime::from_hms_opt(h, 0, 0).expect("an hour of the day");
        Ok(SmsConfig {
            gateway,
            from: self.sms_from.clone(),
            segment_yen: self.sms_segment_yen,
            daytime: (time(from), time(until)),
        })
    }
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
        InboxCommand::Adopt { id, family_name, given_name } => {
            let (customer, created) = app.customer_from_conversation(actor, id, &family_name, &given_name).await?;
            answer!(serde_json::json!({"customer_id": customer, "created": created}))
        }
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

pub async fn channels(app: App, c: ChannelsCommand, actor: &Actor) -> Result<()> {
    match c {
        ChannelsCommand::Status => answer!(app.channel_status(actor).await?),
    }
}

pub async fn sms(app: App, c: SmsCommand, actor: &Actor) -> Result<()> {
    match c {
        SmsCommand::Send { customer_id, text, key } => {
            answer!(app.send_sms_message(actor, customer_id, SmsMessageInput { text }, key.as_deref()).await?)
        }
        SmsCommand::Estimate { text, segment, transactional } => {
            answer!(app.sms_estimate(&text, segment, !transactional).await?)
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
