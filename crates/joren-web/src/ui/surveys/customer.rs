//! Surveys on the customer page: the customer's answers (scores and words, newest first) and a
//! form to send them a survey by mail, LINE or SMS — or to make a link to hand over, shown
//! once made.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use joren_app::AppError;
use joren_app::surveys::SendSurveyInput;

use super::super::{Checked, UiError, UiResult};
use crate::AppState;
use crate::i18n::Tr;

pub(crate) const WORDS: &[(&str, &str, &str)] = &[
    ("svc.title", "アンケート", "Surveys"),
    ("svc.none", "回答はまだありません", "No answers yet"),
    ("svc.survey", "アンケート", "Survey"),
    ("svc.send", "送る", "Send"),
    ("svc.sent", "アンケートを送りました (送信待ちに入りました)", "The survey is on its way"),
    ("svc.link", "このリンクをお渡しください:", "Give the customer this link:"),
    ("svc.no_surveys", "送れるアンケートがありません", "No surveys to send"),
];

/// The panel's facts.
pub(crate) struct SurveyPanel {
    pub surveys: Vec<(i64, String)>,
    /// (when, survey, scores, words, partly answered).
    pub answers: Vec<(String, String, String, String, bool)>,
    pub link: Option<String>,
    pub sent: bool,
    pub send_key: String,
}

pub(crate) async fn panel(
    s: &AppState,
    customer_id: i64,
    made: Option<i64>,
    sent: bool,
) -> Result<SurveyPanel, AppError> {
    let x = s.app.customer_surveys(customer_id, made).await?;
    let answers = x
        .responses
        .iter()
        .map(|r| {
            (
                s.app.local_time(joren_app::from_ms(r.answered_at_ms)),
                r.survey_name.clone(),
                super::scores_text(r.nps, r.csat, r.ces),
                r.free_text.clone(),
                !r.complete,
            )
        })
        .collect();
    Ok(SurveyPanel {
        surveys: x.surveys,
        answers,
        link: x.link,
        sent,
        send_key: format!("ui-{}", joren_app::auth::random_token()),
    })
}

#[derive(serde::Deserialize)]
pub(crate) struct SendForm {
    key: String,
    #[serde(default)]
    survey: String,
    #[serde(default)]
    channel: String,
}

/// `POST /customers/{id}/survey`: sends a survey (or makes its link). Refused (no address on
/// the channel, archived meanwhile), the panel comes back with the reason.
pub(crate) async fn send(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form: f }: Checked<SendForm>,
) -> UiResult {
    let refused = |e: AppError, t: Tr, f: &SendForm| {
        super::super::form_state::RowForm::refused(
            "survey-send",
            0,
            [("survey", f.survey.clone()), ("channel", f.channel.clone())],
            &e,
            t,
        )
    };
    let Ok(survey_id) = f.survey.parse::<i64>() else {
        let e = joren_core::FieldError::new("survey", joren_core::Code::Choose).into();
        return super::super::customers::refused_row(&s, t, &user, id, refused(e, t, &f)).await;
    };
    let input =
        SendSurveyInput { customer_id: id, channel: f.channel.clone(), subject: String::new(), text: String::new() };
    match s.app.send_survey(&user.actor, survey_id, &input, Some(&f.key)).await {
        Ok(x) if x.channel == "link" => {
            Ok(Redirect::to(&format!("/customers/{id}?survey_link={}#surveys", x.invitation_id)).into_response())
        }
        Ok(_) => Ok(Redirect::to(&format!("/customers/{id}?survey_sent=1#surveys")).into_response()),
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_))) => {
            super::super::customers::refused_row(&s, t, &user, id, refused(e, t, &f)).await
        }
        Err(e) => Err(UiError::from_app(t, e)),
    }
}
