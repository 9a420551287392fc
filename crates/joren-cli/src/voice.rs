//! `joren surveys …` and `joren referrals …`: the shop's surveys (list, make from a ready one
//! or a JSON file, show), sending one to a customer, the results and the answers; the referral
//! programme. Answers are JSON on stdout, as the API gives them.

use anyhow::{Context, Result};
use clap::Subcommand;
use joren_app::surveys::{ResponseFilter, SendSurveyInput, SurveyInput};
use joren_app::{Actor, App};

#[derive(Subcommand)]
pub enum SurveysCommand {
    /// Every survey with invitations sent and answers received.
    List,
    /// One survey with its questions.
    Show { id: i64 },
    /// Make a survey: a ready one (`--ready nps|csat|ces|case|exit`) or one written as JSON
    /// (`--file survey.json`, the API's shape).
    Create {
        #[arg(long, conflicts_with = "file")]
        ready: Option<String>,
        /// Language of a ready survey (ja, en).
        #[arg(long, default_value = "ja")]
        lang: String,
        #[arg(long)]
        file: Option<std::path::PathBuf>,
    },
    /// Send a survey to a customer by email, line or sms, or only make its link (`link`).
    Send {
        survey_id: i64,
        customer_id: i64,
        #[arg(long, default_value = "email")]
        channel: String,
        /// The same key sends once, however often the command is run.
        #[arg(long)]
        key: Option<String>,
    },
    /// NPS, CSAT, CES (with their targets), response rate, months and breakdowns.
    Report {
        /// One survey (all surveys without it).
        #[arg(long)]
        survey: Option<i64>,
        #[arg(long, default_value_t = 12)]
        months: u32,
    },
    /// Answers, newest first.
    Responses {
        #[arg(long)]
        survey: Option<i64>,
        #[arg(long)]
        customer: Option<i64>,
        /// Words in the written answers.
        #[arg(long, default_value = "")]
        q: String,
        /// detractor, passive, promoter, unhappy.
        #[arg(long, default_value = "")]
        group: String,
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Archive a survey (nothing new is sent) or, with --restore, bring it back.
    Archive {
        id: i64,
        #[arg(long)]
        restore: bool,
    },
}

macro_rules! answer {
    ($v:expr) => {{
        println!("{}", serde_json::to_string_pretty(&$v)?);
        Ok(())
    }};
}

pub async fn surveys(app: App, c: SurveysCommand, actor: &Actor) -> Result<()> {
    match c {
        SurveysCommand::List => answer!(app.surveys().await?),
        SurveysCommand::Show { id } => answer!(app.survey(id).await?),
        SurveysCommand::Create { ready: Some(code), lang, .. } => {
            answer!(app.create_ready_survey(actor, &code, &lang).await?)
        }
        SurveysCommand::Create { file, .. } => {
            let path = file.context("give --ready CODE or --file survey.json")?;
            let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            let input: SurveyInput =
                serde_json::from_str(&text).with_context(|| format!("{} is not a survey", path.display()))?;
            answer!(app.create_survey(actor, &input).await?)
        }
        SurveysCommand::Send { survey_id, customer_id, channel, key } => {
            let input = SendSurveyInput { customer_id, channel, subject: String::new(), text: String::new() };
            answer!(app.send_survey(actor, survey_id, &input, key.as_deref()).await?)
        }
        SurveysCommand::Report { survey, months } => answer!(app.survey_report(survey, months).await?),
        SurveysCommand::Responses { survey, customer, q, group, limit } => {
            let f = ResponseFilter { survey_id: survey, customer_id: customer, text: q, group, limit };
            answer!(app.survey_responses(&f).await?)
        }
        SurveysCommand::Archive { id, restore } => answer!(app.archive_survey(actor, id, !restore).await?),
    }
}

/// `joren referrals …`: the referral programme.
#[derive(Subcommand)]
pub enum ReferralsCommand {
    /// Referrals, newest first.
    List {
        /// pending, rewarded, reversed.
        #[arg(long)]
        status: Option<String>,
        /// Where this customer referred or was referred.
        #[arg(long)]
        customer: Option<i64>,
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// A customer's code and link (made the first time), who referred them, whom they referred.
    Code { customer_id: i64 },
    /// Record that a new customer came by a code.
    Add { code: String, customer_id: i64 },
    /// Counts, the customers who refer most, and referrals by NPS group.
    Report,
    /// Show the settings, or change them (owners).
    Settings {
        #[arg(long)]
        enable: bool,
        #[arg(long, conflicts_with = "enable")]
        disable: bool,
        #[arg(long)]
        referrer_points: Option<i64>,
        #[arg(long)]
        referred_points: Option<i64>,
        #[arg(long)]
        monthly_limit: Option<u32>,
    },
}

pub async fn referrals(app: App, c: ReferralsCommand, actor: &Actor) -> Result<()> {
    use joren_app::referrals::ReferralFilter;
    match c {
        ReferralsCommand::List { status, customer, limit } => {
            let filter = ReferralFilter { status, customer_id: customer, limit: limit.clamp(1, 10_000), offset: 0 };
            let (total, items) = app.list_referrals(&filter).await?;
            answer!(serde_json::json!({"total": total, "items": items}))
        }
        ReferralsCommand::Code { customer_id } => answer!(app.customer_referrals(customer_id).await?),
        ReferralsCommand::Add { code, customer_id } => {
            answer!(app.record_referral(actor, &code, customer_id, "staff").await?)
        }
        ReferralsCommand::Report => answer!(app.referral_report().await?),
        ReferralsCommand::Settings { enable, disable, referrer_points, referred_points, monthly_limit } => {
            let mut s = app.referral_settings().await?;
            let changed =
                enable || disable || referrer_points.is_some() || referred_points.is_some() || monthly_limit.is_some();
            if !changed {
                return answer!(s);
            }
            s.enabled = if enable {
                true
            } else if disable {
                false
            } else {
                s.enabled
            };
            s.referrer_points = referrer_points.unwrap_or(s.referrer_points);
            s.referred_points = referred_points.unwrap_or(s.referred_points);
            s.monthly_limit = monthly_limit.unwrap_or(s.monthly_limit);
            answer!(app.save_referral_settings(actor, &s).await.context("settings not saved")?)
        }
    }
}
