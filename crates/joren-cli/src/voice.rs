//! `joren surveys …`: the shop's surveys (list, make from a ready one or a JSON file, show),
//! sending one to a customer, the results and the answers. Answers are JSON on stdout, as the
//! API gives them.

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
