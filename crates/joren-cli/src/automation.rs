//! `joren mail …` and `joren scenarios …`, and the mail settings every command shares.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use joren_app::mail::MailConfig;
use joren_app::scenarios::{ScenarioInput, Status};
use joren_app::{Actor, App};

/// Mail settings (flags or environment).
#[derive(Args, Clone)]
pub struct MailArgs {
    /// Where mail goes: `test` (kept in the outbox, nothing sent; the default) or
    /// `smtp://user:password@host:587` (`?security=starttls|tls|none`).
    #[arg(long, env = "JOREN_SMTP_URL", default_value = "test", global = true, hide_env_values = true)]
    smtp_url: String,
    /// The sender address of the shop's mail.
    #[arg(long, env = "JOREN_MAIL_FROM", default_value = "shop@example.jp", global = true)]
    mail_from: String,
    /// The shop's name (sender name; printed in every mail).
    #[arg(long, env = "JOREN_SHOP_NAME", default_value = "Joren のお店", global = true)]
    shop_name: String,
    /// The shop's postal address, printed in marketing mail (特定電子メール法).
    #[arg(long, env = "JOREN_SHOP_ADDRESS", default_value = "", global = true)]
    shop_address: String,
    /// The address customers reach this server at, for unsubscribe links.
    #[arg(long, env = "JOREN_PUBLIC_URL", default_value = "http://127.0.0.1:8080", global = true)]
    public_url: String,
    /// Seconds a worker's claim on a message lasts: a crashed worker's messages are sent by
    /// another after this long.
    #[arg(long, env = "JOREN_MAIL_LEASE_SECS", default_value_t = 300, global = true)]
    mail_lease_secs: u32,
    /// The mailbox customers' replies arrive in, read every minute:
    /// `imaps://user:password@imap.example.jp/INBOX` (user and password percent-encoded).
    /// Without it replies are not read.
    #[arg(long, env = "JOREN_IMAP_URL", global = true, hide_env_values = true)]
    imap_url: Option<String>,
}

impl MailArgs {
    /// The replies mailbox, if one is given.
    pub fn imap(&self) -> Result<Option<joren_app::mail::ImapConfig>> {
        self.imap_url
            .as_deref()
            .filter(|u| !u.trim().is_empty())
            .map(|u| joren_app::mail::ImapConfig::parse(u.trim()).map_err(|e| anyhow::anyhow!("--imap-url: {e}")))
            .transpose()
    }

    pub fn config(&self) -> Result<MailConfig> {
        let transport = MailConfig::parse_transport(&self.smtp_url).map_err(|e| anyhow::anyhow!("--smtp-url: {e}"))?;
        Ok(MailConfig {
            transport,
            from_address: self.mail_from.clone(),
            shop_name: self.shop_name.clone(),
            postal_address: self.shop_address.clone(),
            public_url: self.public_url.trim_end_matches('/').to_string(),
            lease_ms: i64::from(self.mail_lease_secs.max(1)) * 1000,
            ..Default::default()
        })
    }
}

#[derive(Subcommand)]
pub enum MailCommand {
    /// Send a test mail to ADDRESS now (checks the SMTP settings).
    Test { address: String },
    /// The mail settings in force and where they come from (saved on the settings page, or
    /// these flags); never the password.
    Settings,
    /// Save mail settings over the flags, as the settings page does (a JSON file with the
    /// page's fields: mode, host, port, security, username, password, from_address,
    /// shop_name, postal_address, quiet_from, quiet_until, max_per_day, max_per_week).
    SetSettings { file: std::path::PathBuf },
    /// Forget the saved mail settings: these flags are in force again.
    ResetSettings,
    /// The shop's saved messages (the scenario editor's list).
    Templates,
    /// Save a message from a JSON file: name, subject, body, marketing (true by default);
    /// with --id, replace that message.
    SaveTemplate {
        file: std::path::PathBuf,
        #[arg(long)]
        id: Option<i64>,
    },
    /// Delete a saved message (scenarios that copied it keep their text).
    DeleteTemplate { id: i64 },
    /// Read the replies that arrived in the --imap-url mailbox now (the worker does it every
    /// minute).
    Poll,
}

#[derive(Subcommand)]
pub enum ScenariosCommand {
    /// Every scenario with its status and version.
    List,
    /// One scenario: its definition, customers by step, messages by state.
    Show { id: i64 },
    /// Create a scenario (a draft) from a JSON definition file or a ready scenario.
    Create {
        /// The name (a ready scenario's own name when not given).
        #[arg(long, required_unless_present = "template")]
        name: Option<String>,
        /// The definition (see the README's "Scenarios" section).
        #[arg(long, conflicts_with = "template", required_unless_present = "template")]
        file: Option<std::path::PathBuf>,
        /// A ready scenario: post_purchase, birthday, win_back, rank_up, second_purchase,
        /// points_expiry, ticket_last_visit, membership_renewal, complaint_follow_up,
        /// exit_reason, lapsed_reason (`joren scenarios templates`).
        #[arg(long)]
        template: Option<String>,
        /// The language of a ready scenario's messages.
        #[arg(long, default_value = "ja", value_parser = ["ja", "en"])]
        lang: String,
    },
    /// The ready scenarios: key, name and what each does.
    Templates {
        #[arg(long, default_value = "ja", value_parser = ["ja", "en"])]
        lang: String,
    },
    /// Start enrolling customers.
    Activate { id: i64 },
    /// Stop enrolling and hold every run where it is.
    Pause { id: i64 },
    /// Enrol one customer now.
    Enrol {
        id: i64,
        #[arg(long)]
        customer: i64,
    },
    /// Enrol every member of a saved segment now (a broadcast).
    Broadcast {
        id: i64,
        #[arg(long)]
        segment: i64,
    },
}

pub async fn mail(app: App, c: MailCommand, actor: &Actor) -> Result<()> {
    match c {
        MailCommand::Test { address } => {
            let id = app.send_test_mail(actor, &address).await?;
            if app.mail().test_mode() {
                eprintln!("test mode: nothing was sent (set --smtp-url / JOREN_SMTP_URL to send)");
            }
            println!("{}", serde_json::json!({"to": address, "message_id": id}));
            Ok(())
        }
        MailCommand::Settings => print_mail_settings(&app, actor).await,
        MailCommand::Poll => {
            if app.config.imap.is_none() {
                anyhow::bail!("no mailbox: set --imap-url / JOREN_IMAP_URL");
            }
            println!("{}", serde_json::to_string_pretty(&app.poll_mail_replies().await?)?);
            Ok(())
        }
        MailCommand::SetSettings { file } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let v: serde_json::Value =
                serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))?;
            let input = joren_app::mail::MailSettingsInput::from_json(v)?;
            app.set_mail_settings(actor, &input).await?;
            print_mail_settings(&app, actor).await
        }
        MailCommand::ResetSettings => {
            app.reset_mail_settings(actor).await?;
            print_mail_settings(&app, actor).await
        }
        MailCommand::Templates => {
            println!("{}", serde_json::to_string_pretty(&app.message_templates().await?)?);
            Ok(())
        }
        MailCommand::SaveTemplate { file, id } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let input: joren_app::message_templates::MessageTemplateInput =
                serde_json::from_str(&text).with_context(|| format!("{} is not a message", file.display()))?;
            let saved = match id {
                Some(id) => app.update_message_template(actor, id, &input).await?,
                None => app.create_message_template(actor, &input).await?,
            };
            println!("{}", serde_json::to_string_pretty(&saved)?);
            Ok(())
        }
        MailCommand::DeleteTemplate { id } => {
            app.delete_message_template(actor, id).await?;
            println!("{}", serde_json::json!({"deleted": id}));
            Ok(())
        }
    }
}

async fn print_mail_settings(app: &App, actor: &Actor) -> Result<()> {
    let (m, source, has_password) = app.mail_settings(actor).await?;
    println!("{}", m.view(source, has_password));
    Ok(())
}

pub async fn scenarios(app: App, c: ScenariosCommand, actor: &Actor) -> Result<()> {
    let out = match c {
        ScenariosCommand::List => serde_json::to_value(app.scenarios().await?)?,
        ScenariosCommand::Show { id } => serde_json::to_value(app.scenario_report(id).await?)?,
        ScenariosCommand::Create { name, file, template, lang } => {
            let (name, definition) = match (template, file) {
                (Some(key), _) => {
                    let ready = match app.ready_scenario(actor, &key, &lang).await {
                        Err(joren_app::AppError::NotFound(_)) => {
                            anyhow::bail!("no ready scenario {key} (see `joren scenarios templates`)")
                        }
                        other => other?,
                    };
                    (name.unwrap_or(ready.name), ready.definition)
                }
                (None, Some(file)) => {
                    let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
                    let definition =
                        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))?;
                    (name.unwrap_or_default(), definition)
                }
                (None, None) => anyhow::bail!("give --file or --template"),
            };
            serde_json::to_value(app.create_scenario(actor, ScenarioInput { name, definition }).await?)?
        }
        ScenariosCommand::Templates { lang } => serde_json::to_value(
            joren_app::scenario_templates::ready_scenarios(&lang)
                .into_iter()
                .map(|r| serde_json::json!({"key": r.key, "name": r.name, "description": r.description}))
                .collect::<Vec<_>>(),
        )?,
        ScenariosCommand::Activate { id } => {
            serde_json::to_value(app.set_scenario_status(actor, id, Status::Active).await?)?
        }
        ScenariosCommand::Pause { id } => {
            serde_json::to_value(app.set_scenario_status(actor, id, Status::Paused).await?)?
        }
        ScenariosCommand::Enrol { id, customer } => {
            serde_json::json!({"entered": app.enrol_customer(actor, id, customer).await?})
        }
        ScenariosCommand::Broadcast { id, segment } => {
            serde_json::json!({"entered": app.broadcast(actor, id, segment).await?})
        }
    };
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}
