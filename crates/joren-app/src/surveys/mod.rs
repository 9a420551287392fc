//! Surveys (アンケート, issue #20): the shop's surveys (CSAT, NPS, CES and its own questions),
//! invitations — each with its own link, sent by a scenario step or by staff, by mail (the
//! first question's scores as links), LINE or SMS, or handed over as a plain link — and the
//! answers (`answer`), scored and broken down (`report`).
//!
//! A link is a random token of its own (not guessable from another), valid `valid_days`
//! after it is sent; one response per invitation.

mod answer;
mod churn;
pub mod ready;
mod report;

use joren_core::scenario::SurveyChannel;
use joren_core::survey::{Question, QuestionKind};
use joren_core::{Code, FieldErrors};
use joren_store::{Invitation, NewInvitation, NewMessage, Survey, SurveyWrite};
use serde::{Deserialize, Serialize};

pub use answer::{AnswerOutcome, SurveyPage, SurveyPageState};
pub use churn::{ChurnReasonRow, ChurnReasons, ChurnWords};
pub use joren_store::{ResponseFilter, SurveyResponse};
pub use report::{Breakdown, BreakdownRow, MAX_MONTHS, MonthRow, SurveyReport, SurveyResults};

use crate::{Actor, App, AppError, Result};

/// How long a link may be answered by default, and at most (days).
pub const DEFAULT_VALID_DAYS: i64 = 30;
pub const MAX_VALID_DAYS: i64 = 365;

/// A survey to save.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurveyInput {
    /// What staff call it (unique).
    pub name: String,
    /// What the customer sees as its heading.
    pub title: String,
    #[serde(default)]
    pub intro: String,
    /// Shown once answered.
    #[serde(default)]
    pub thanks: String,
    pub questions: Vec<Question>,
    #[serde(default = "default_valid_days")]
    pub valid_days: i64,
}

fn default_valid_days() -> i64 {
    DEFAULT_VALID_DAYS
}

impl SurveyInput {
    fn validate(&self) -> std::result::Result<SurveyWrite, FieldErrors> {
        let mut e = FieldErrors::default();
        for (field, value, max, required) in [
            ("name", &self.name, 100, true),
            ("title", &self.title, 200, true),
            ("intro", &self.intro, 2_000, false),
            ("thanks", &self.thanks, 2_000, false),
        ] {
            if required && value.trim().is_empty() {
                e.push(field, Code::Required);
            }
            e.take(joren_core::text::check_text(field, value, max));
        }
        e.0.extend(joren_core::survey::check_questions(&self.questions).0);
        if !(1..=MAX_VALID_DAYS).contains(&self.valid_days) {
            e.push("valid_days", Code::RangeDays).with(1).with(MAX_VALID_DAYS);
        }
        if !e.is_empty() {
            return Err(e);
        }
        Ok(SurveyWrite {
            name: self.name.trim().into(),
            title: self.title.trim().into(),
            intro: self.intro.trim().into(),
            thanks: self.thanks.trim().into(),
            questions: serde_json::to_value(&self.questions).unwrap_or_default(),
            valid_days: self.valid_days,
        })
    }
}

/// A survey with its questions read.
#[derive(Debug, Clone, Serialize)]
pub struct SurveyDef {
    #[serde(flatten)]
    pub survey: Survey,
    #[serde(skip)]
    pub questions: Vec<Question>,
}

impl SurveyDef {
    fn from_store(survey: Survey) -> Self {
        let questions = serde_json::from_value(survey.questions.clone()).unwrap_or_default();
        Self { survey, questions }
    }

    /// The question the channel asks itself (mail links, LINE buttons): the first, when it is
    /// scored and has at most 11 points.
    pub fn channel_question(&self) -> Option<(&Question, i64, i64)> {
        let q = self.questions.first()?;
        let (lo, hi) = q.kind.range()?;
        (hi - lo <= 10).then_some((q, lo, hi))
    }
}

/// A survey sent by hand.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendSurveyInput {
    pub customer_id: i64,
    /// `email`, `line`, `sms`, or `link` (nothing sent: the link is answered back, to hand
    /// over in person or paste elsewhere).
    pub channel: String,
    /// The message (subject for mail; `{{ variables }}` allowed); a default when empty.
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub text: String,
}

/// An invitation made: its link, and its message when one was queued.
#[derive(Debug, Clone, Serialize)]
pub struct SentSurvey {
    pub invitation_id: i64,
    pub url: String,
    pub channel: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    /// False when the same idempotency key made it before.
    pub created: bool,
    pub test_mode: bool,
}

/// What the customer page shows about a customer's surveys.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerSurveys {
    /// Surveys that can be sent: (id, name).
    pub surveys: Vec<(i64, String)>,
    pub responses: Vec<SurveyResponse>,
    /// The link just made by hand, to hand over.
    pub link: Option<String>,
}

/// A fresh link token (128 random bits, hex).
fn new_token() -> String {
    crate::auth::random_token()[..32].to_string()
}

impl App {
    pub async fn surveys(&self) -> Result<Vec<SurveyDef>> {
        Ok(self.store.surveys().await?.into_iter().map(SurveyDef::from_store).collect())
    }

    /// The surveys that can be sent: (id, name), by name.
    pub async fn survey_choices(&self) -> Result<Vec<(i64, String)>> {
        Ok(self.store.survey_choices().await?)
    }

    pub async fn survey(&self, id: i64) -> Result<SurveyDef> {
        Ok(SurveyDef::from_store(self.store.survey(id).await?))
    }

    /// Saves a new survey (staff; audited).
    pub async fn create_survey(&self, actor: &Actor, input: &SurveyInput) -> Result<SurveyDef> {
        actor.require_write()?;
        let w = input.validate()?;
        let s = self.store.create_survey(&w, actor.user_id).await?;
        self.audit(actor, "survey.create", "survey", s.id, serde_json::json!({"name": s.name})).await?;
        Ok(SurveyDef::from_store(s))
    }

    /// Replaces a survey's texts and questions (answers given keep what they said; audited).
    pub async fn update_survey(&self, actor: &Actor, id: i64, input: &SurveyInput) -> Result<SurveyDef> {
        actor.require_write()?;
        let w = input.validate()?;
        let s = self.store.update_survey(id, &w).await?;
        self.audit(actor, "survey.update", "survey", id, serde_json::json!({"name": s.name})).await?;
        Ok(SurveyDef::from_store(s))
    }

    /// Makes ready survey `code` (`nps`, `csat`, `ces`, `exit`) in `lang`; a name taken
    /// gets a number ("おすすめ度 (NPS) 2").
    pub async fn create_ready_survey(&self, actor: &Actor, code: &str, lang: &str) -> Result<SurveyDef> {
        let (_, mut input) = ready::ready_surveys(lang)
            .into_iter()
            .find(|(c, _)| *c == code)
            .ok_or(joren_core::FieldError::new("ready", Code::Choose))?;
        let taken: Vec<String> = self.store.surveys().await?.into_iter().map(|s| s.name).collect();
        let base = input.name.clone();
        let mut n = 1;
        while taken.contains(&input.name) {
            n += 1;
            input.name = format!("{base} {n}");
        }
        self.create_survey(actor, &input).await
    }

    /// Archives a survey (nothing new is sent; links out stay answerable) or restores it.
    pub async fn archive_survey(&self, actor: &Actor, id: i64, archived: bool) -> Result<SurveyDef> {
        actor.require_write()?;
        let s = self.store.set_survey_archived(id, archived).await?;
        let action = if archived { "survey.archive" } else { "survey.restore" };
        self.audit(actor, action, "survey", id, serde_json::json!({"name": s.name})).await?;
        Ok(SurveyDef::from_store(s))
    }

    /// The page a token opens.
    pub fn survey_url(&self, token: &str) -> String {
        format!("{}/s/{token}", self.mail().public_url.trim_end_matches('/'))
    }

    /// Sends survey `survey_id` to one customer by hand, once per `key` (a form's or the
    /// API's `Idempotency-Key`). The customer must be reachable on the channel (an address, a
    /// linked LINE user, a mobile that did not reply STOP).
    pub async fn send_survey(
        &self,
        actor: &Actor,
        survey_id: i64,
        input: &SendSurveyInput,
        key: Option<&str>,
    ) -> Result<SentSurvey> {
        actor.require_write()?;
        let survey = self.survey(survey_id).await?;
        if survey.survey.archived {
            return Err(AppError::Conflict(Code::SurveyArchived.into()));
        }
        let channel = match input.channel.as_str() {
            "link" => None,
            c => Some(SurveyChannel::parse(c).ok_or(joren_core::FieldError::new("channel", Code::Choose))?),
        };
        let mut e = FieldErrors::default();
        e.take(joren_core::text::check_text("subject", &input.subject, 200));
        e.take(joren_core::text::check_text("text", &input.text, joren_core::text::LONG_TEXT));
        e.take(joren_core::template::check("subject", &input.subject));
        e.take(joren_core::template::check("text", &input.text));
        if !e.is_empty() {
            return Err(e.into());
        }
        let customer = self.store.get_customer(input.customer_id).await?;
        if channel == Some(SurveyChannel::Line)
            && !matches!(self.store.customer_line_user(customer.id).await?, Some((_, following)) if following != Some(false))
        {
            return Err(joren_core::line::no_user("channel").into());
        }
        let now = self.config.clock.now_ms();
        let scoped = crate::scoped_idempotency_key(actor, key)?;
        let source_key = match scoped {
            Some(k) => format!("staff:{k}"),
            None => format!("staff:{}:{now}:{}", actor.name, new_token()),
        };
        let token = new_token();
        let v = NewInvitation {
            survey_id,
            customer_id: customer.id,
            token: token.clone(),
            channel: input.channel.clone(),
            source: "staff".into(),
            source_key,
            scenario_id: None,
            order_id: None,
            created_by: actor.user_id,
            sent_at_ms: now,
            expires_at_ms: now + survey.survey.valid_days * 86_400_000,
        };
        let message = match channel {
            None => None,
            Some(ch) => {
                let (_, vars) = self
                    .message_context(
                        customer.id,
                        None,
                        &None,
                        crate::scenarios::Known { customer: Some(customer.clone()), order_total: None },
                    )
                    .await?;
                let subject =
                    if input.subject.trim().is_empty() { default_subject(&survey) } else { input.subject.clone() };
                let text = if input.text.trim().is_empty() { DEFAULT_TEXT.to_string() } else { input.text.clone() };
                let subject = joren_core::template::render("subject", &subject, &vars)?;
                let text = joren_core::template::render("text", &text, &vars)?;
                let m = self.survey_message(&customer, &survey, ch, &subject, &text, &token, false, "");
                Some(m.ok_or(joren_core::FieldError::new("channel", unreachable_code(ch)))?)
            }
        };
        let (inv, created) = self.store.invite(&v, message.as_ref()).await?;
        if created {
            let detail = serde_json::json!({"survey": survey_id, "channel": inv.channel, "invitation": inv.id});
            self.audit(actor, "survey.send", "customer", customer.id, detail).await?;
        }
        Ok(self.sent(&inv, created, message.is_some_and(|m| m.test_mode)))
    }

    fn sent(&self, inv: &Invitation, created: bool, test_mode: bool) -> SentSurvey {
        SentSurvey {
            invitation_id: inv.id,
            url: self.survey_url(&inv.token),
            channel: inv.channel.clone(),
            expires_at: joren_store::from_ms(inv.expires_at_ms),
            created,
            test_mode,
        }
    }

    /// The message that carries an invitation on `channel`, or None when the customer cannot
    /// be reached on it. Mail gets the first question's scores as links (each opens the page
    /// with that score chosen; nothing is recorded until the customer sends it, so a link
    /// scanner that follows every link answers nothing); LINE the link; SMS the link.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn survey_message(
        &self,
        customer: &joren_store::Customer,
        survey: &SurveyDef,
        channel: SurveyChannel,
        subject: &str,
        text: &str,
        token: &str,
        marketing: bool,
        unsubscribe_url: &str,
    ) -> Option<NewMessage> {
        let url = self.survey_url(token);
        let text = text.trim();
        match channel {
            SurveyChannel::Email => {
                let to = customer.profile.email.clone().filter(|e| !e.is_empty())?;
                let footer = self.mail_footer(marketing, unsubscribe_url);
                let mut body_text = format!("{text}\n\n{url}\n");
                let mut buttons = String::new();
                if let Some((q, lo, hi)) = survey.channel_question() {
                    body_text = format!("{text}\n\n{}\n{url}\n", q.text);
                    buttons = score_buttons(q, lo, hi, &url);
                }
                let html = joren_core::template::html_document(&format!(
                    "{}{buttons}{}",
                    joren_core::template::text_to_html_fragment(&format!("{text}\n\n")),
                    joren_core::template::text_to_html_fragment(&format!("{url}{footer}"))
                ));
                Some(NewMessage {
                    customer_id: customer.id,
                    channel: "email".into(),
                    marketing,
                    recipient: to,
                    subject: subject.lines().next().unwrap_or_default().to_string(),
                    body_text: format!("{body_text}{footer}"),
                    body_html: html,
                    not_before_ms: self.config.clock.now_ms(),
                    test_mode: self.mail().test_mode(),
                    payload: None,
                })
            }
            SurveyChannel::Line => {
                let user = customer.profile.line_user_id.clone().filter(|u| !u.is_empty())?;
                let text = format!("{text}\n{url}");
                let mut m = self.line_message(customer.id, user, marketing, &text, None, &[]);
                // The first question's scores as buttons: tapping one answers it.
                if let Some((q, lo, hi)) = survey.channel_question() {
                    let payload = joren_core::line::survey_messages(&text, &q.text, token, &q.key, lo..=hi);
                    m.payload = Some(payload.to_string());
                }
                Some(m)
            }
            SurveyChannel::Sms => {
                let phone = crate::sms::textable(customer)?.to_string();
                Some(self.sms_message(customer.id, phone, marketing, &format!("{text}\n{url}")))
            }
        }
    }

    /// A scenario step's invitation and its message, for the run's advance.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn scenario_invitation(
        &self,
        run: &joren_store::Run,
        step: usize,
        customer: &joren_store::Customer,
        survey_id: i64,
        channel: SurveyChannel,
        subject: &str,
        text: &str,
        marketing: bool,
        unsubscribe_url: &str,
    ) -> Result<Option<(NewInvitation, NewMessage)>> {
        let survey = match self.survey(survey_id).await {
            Ok(s) if !s.survey.archived => s,
            Ok(_) | Err(AppError::NotFound(_)) => {
                tracing::info!(run = run.id, survey = survey_id, "the survey to send is archived or gone: skipped");
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let token = new_token();
        let Some(m) =
            self.survey_message(customer, &survey, channel, subject, text, &token, marketing, unsubscribe_url)
        else {
            return Ok(None);
        };
        let now = self.config.clock.now_ms();
        let v = NewInvitation {
            survey_id,
            customer_id: customer.id,
            token,
            channel: channel.as_str().into(),
            source: "scenario".into(),
            source_key: format!("run:{}:{step}", run.id),
            scenario_id: Some(run.scenario_id),
            order_id: run.order_id,
            created_by: None,
            sent_at_ms: now,
            expires_at_ms: now + survey.survey.valid_days * 86_400_000,
        };
        Ok(Some((v, m)))
    }

    /// The customer page's survey panel: the surveys that can be sent, the customer's answers
    /// (newest first), and the link of invitation `made` when it is theirs (just made by hand).
    pub async fn customer_surveys(&self, customer_id: i64, made: Option<i64>) -> Result<CustomerSurveys> {
        let surveys = self.store.surveys().await?.into_iter().filter(|s| !s.archived).map(|s| (s.id, s.name)).collect();
        let f = ResponseFilter { customer_id: Some(customer_id), limit: 20, ..Default::default() };
        let responses = self.store.survey_responses(&f).await?;
        let link = match made {
            Some(id) => match self.store.invitation(id).await {
                Ok(inv) if inv.customer_id == customer_id => Some(self.survey_url(&inv.token)),
                Ok(_) | Err(joren_store::StoreError::NotFound(_)) => None,
                Err(e) => return Err(e.into()),
            },
            None => None,
        };
        Ok(CustomerSurveys { surveys, responses, link })
    }

    /// Responses, newest first: of one survey, containing words, by NPS group.
    pub async fn survey_responses(&self, filter: &ResponseFilter) -> Result<Vec<SurveyResponse>> {
        Ok(self.store.survey_responses(filter).await?)
    }
}

/// The message a survey goes with when staff write none.
const DEFAULT_TEXT: &str = "{{ name }}\n\nいつもご利用ありがとうございます。{{ shop_name }}です。\nサービス向上のため、簡単なアンケートにご協力ください(1分ほどで終わります)。";

fn default_subject(s: &SurveyDef) -> String {
    format!("【{{{{ shop_name }}}}】{}", s.survey.title)
}

fn unreachable_code(ch: SurveyChannel) -> Code {
    match ch {
        SurveyChannel::Email => Code::NoEmailAddress,
        SurveyChannel::Line => Code::NoLineUser,
        SurveyChannel::Sms => Code::NoSmsPhone,
    }
}

/// The first question's scores as a row of links for mail (0–10 fits a phone's width).
fn score_buttons(q: &Question, lo: i64, hi: i64, url: &str) -> String {
    let cell = "display:inline-block;min-width:28px;padding:8px 4px;margin:2px;border:1px solid #888;\
                border-radius:4px;text-align:center;text-decoration:none;color:#222;font-weight:bold";
    let links: String =
        (lo..=hi).map(|n| format!("<a href=\"{url}?{}={n}\" style=\"{cell}\">{n}</a>", q.key)).collect();
    let (low, high) = match q.kind {
        QuestionKind::Nps => ("0 = おすすめしない", "10 = ぜひすすめたい"),
        QuestionKind::Csat => ("1 = 不満", "5 = 満足"),
        QuestionKind::Ces => ("1 = とても簡単", "7 = とても大変"),
        _ => ("", ""),
    };
    format!(
        "<p style=\"font-weight:bold\">{}</p><p>{links}</p><p style=\"font-size:12px;color:#555\">{low} … {high}</p>",
        joren_core::template::escape_html(&q.text)
    )
}
