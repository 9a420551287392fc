//! Answering a survey by its link (no login): the page the token opens, and the response —
//! checked as a whole (every problem named by question), written once per invitation with
//! its `survey.answered` event. A link past its date or answered already says so; a token
//! that was never made is "not found", like any wrong address.

use std::collections::BTreeMap;

use joren_core::survey::{Answer, Question};
use joren_store::{Answered, ResponseWrite};
use serde::Serialize;

use super::SurveyDef;
use crate::{App, AppError, Result};

/// Where a link stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SurveyPageState {
    /// Waiting for the answers (or the rest of them, after the channel's first).
    Open,
    Answered,
    Expired,
}

/// What a survey link's page shows.
#[derive(Debug, Clone, Serialize)]
pub struct SurveyPage {
    pub title: String,
    pub intro: String,
    pub thanks: String,
    pub questions: Vec<Question>,
    pub state: SurveyPageState,
    /// What the customer answered already in the channel (kept, not asked again).
    pub answered: BTreeMap<String, Answer>,
    pub shop_name: String,
}

/// What sending the answers did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AnswerOutcome {
    pub response_id: i64,
    /// True when this call wrote the response (false: answered before; nothing changed).
    pub recorded: bool,
}

impl App {
    async fn invitation_and_survey(&self, token: &str) -> Result<(joren_store::Invitation, SurveyDef)> {
        // Tokens are 32 hex digits; anything else is not looked up.
        if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(AppError::NotFound("survey link"));
        }
        let inv = self.store.invitation_by_token(token).await?;
        let survey = self.survey(inv.survey_id).await?;
        Ok((inv, survey))
    }

    /// The page survey link `token` opens.
    pub async fn survey_page(&self, token: &str) -> Result<SurveyPage> {
        let (inv, s) = self.invitation_and_survey(token).await?;
        let state = if inv.complete {
            SurveyPageState::Answered
        } else if self.config.clock.now_ms() > inv.expires_at_ms {
            SurveyPageState::Expired
        } else {
            SurveyPageState::Open
        };
        let answered = match inv.response_id {
            Some(id) => {
                let r = self.store.survey_response(id).await?;
                serde_json::from_value(r.answers).unwrap_or_default()
            }
            None => BTreeMap::new(),
        };
        Ok(SurveyPage {
            title: s.survey.title,
            intro: s.survey.intro,
            thanks: s.survey.thanks,
            questions: s.questions,
            state,
            answered,
            shop_name: self.mail().shop_name.clone(),
        })
    }

    /// Records the answers given through link `token`. `partial` is the channel's first
    /// answer (a LINE button): the rest may follow on the page. Refused with the question's
    /// key for a bad answer, `survey_expired` past the link's date; answered before, nothing
    /// is written and `recorded` is false.
    pub async fn answer_survey(
        &self,
        token: &str,
        given: &BTreeMap<String, Answer>,
        partial: bool,
    ) -> Result<AnswerOutcome> {
        let (inv, s) = self.invitation_and_survey(token).await?;
        if inv.complete || (partial && inv.response_id.is_some()) {
            return Ok(AnswerOutcome { response_id: inv.response_id.unwrap_or_default(), recorded: false });
        }
        let now = self.config.clock.now_ms();
        if now > inv.expires_at_ms {
            return Err(AppError::Conflict(joren_core::Code::SurveyExpired.into()));
        }
        // The page does not ask again what the channel's answer said.
        let mut given = given.clone();
        if let Some(id) = inv.response_id {
            let before: BTreeMap<String, Answer> =
                serde_json::from_value(self.store.survey_response(id).await?.answers).unwrap_or_default();
            for (k, v) in before {
                given.entry(k).or_insert(v);
            }
        }
        let answers = joren_core::survey::check_response(&s.questions, &given, partial)?;
        let scores = joren_core::survey::scores(&s.questions, &answers);
        let w = ResponseWrite {
            answers: serde_json::to_value(&answers).unwrap_or_default(),
            nps: scores.nps,
            csat: scores.csat,
            ces: scores.ces,
            free_text: joren_core::survey::free_text(&s.questions, &answers),
            complete: !partial,
        };
        Ok(match self.store.answer_survey(&inv, &w, now).await? {
            Answered::New(id) | Answered::Completed(id) => AnswerOutcome { response_id: id, recorded: true },
            Answered::Already(id) => AnswerOutcome { response_id: id, recorded: false },
        })
    }

    /// A score tapped on LINE (a quick-reply button of the invitation): recorded as the
    /// response's first answer, once, when the invitation is this customer's; then a LINE
    /// message with the link for the rest. A link past its date or answered is left alone
    /// (logged): the webhook call still succeeds.
    pub(crate) async fn answer_survey_on_line(
        &self,
        customer_id: i64,
        line_user: &str,
        token: &str,
        key: &str,
        score: i64,
    ) {
        let outcome = async {
            let (inv, s) = self.invitation_and_survey(token).await?;
            if inv.customer_id != customer_id {
                return Err(AppError::NotFound("survey link"));
            }
            let given = BTreeMap::from([(key.to_string(), Answer::Score(score))]);
            let done = self.answer_survey(token, &given, true).await?;
            // The rest on the page, when there is a rest to answer.
            if done.recorded && s.questions.len() > 1 {
                let text = format!(
                    "ありがとうございます。よろしければ、続きの質問にもお答えください。\n{}",
                    self.survey_url(token)
                );
                let m = self.line_message(customer_id, line_user.to_string(), false, &text, None, &[]);
                let now = self.config.clock.now_ms();
                self.store.queue_direct_message(&format!("survey-rest:{}", inv.id), &m, None, now).await?;
            }
            Ok::<_, AppError>(done)
        }
        .await;
        if let Err(e) = outcome {
            tracing::info!(error = %e, customer_id, "a survey score from LINE was not recorded");
        }
    }

    /// What follows an answer (from its `survey.answered` event, so a crash between the two
    /// loses neither and a redelivered event doubles nothing): the survey bonus the points
    /// programme defines, and a complaint case for an unhappy answer — each once per response.
    pub(crate) async fn after_survey_answer(&self, customer_id: i64, payload: &serde_json::Value) -> Result<()> {
        let Some(response_id) = payload["response_id"].as_i64() else { return Ok(()) };
        let actor = crate::Actor::system("survey");
        self.grant_survey_bonus(&actor, customer_id, response_id).await?;
        self.open_case_for_answer(customer_id, response_id).await
    }
}
