//! `/s/{token}`: a survey answered by its link, on a phone first. GET shows the questions (a
//! score from the mail's buttons, `?nps=9`, comes chosen — nothing is recorded by opening a
//! link, so a mail scanner that follows every button answers nothing); POST records the
//! answers once. A refused answer comes back as typed with the problem beside its question.
//! Japanese or English by the browser's language (`?lang=en` to switch).

use std::collections::BTreeMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use joren_app::AppError;
use joren_app::surveys::{SurveyPage, SurveyPageState};
use joren_core::survey::{Answer, Question, QuestionKind};

use crate::AppState;
use crate::i18n::{Lang, Tr};

pub const WORDS: &[(&str, &str, &str)] = &[
    ("sa.send", "回答を送信する", "Send my answers"),
    ("sa.required", "必須", "Required"),
    ("sa.optional", "任意", "Optional"),
    ("sa.thanks", "ご回答ありがとうございました。", "Thank you for your answers."),
    (
        "sa.answered",
        "このアンケートには回答済みです。ご協力ありがとうございました。",
        "You have answered this survey. Thank you.",
    ),
    (
        "sa.expired",
        "このアンケートの回答期限は過ぎました。ご協力いただきありがとうございました。",
        "The time to answer this survey has passed. Thank you all the same.",
    ),
    (
        "sa.invalid",
        "このリンクは使えません。メッセージに記載のリンクをそのままお使いください。",
        "This link does not work. Please use the link in the message as it is.",
    ),
    ("sa.fix", "入力内容をご確認ください。", "Please check your answers."),
    ("sa.nps_low", "0 = すすめない", "0 = not at all likely"),
    ("sa.nps_high", "10 = ぜひすすめたい", "10 = extremely likely"),
    ("sa.csat_low", "1 = 不満", "1 = very dissatisfied"),
    ("sa.csat_high", "5 = 満足", "5 = very satisfied"),
    ("sa.ces_low", "1 = とても簡単", "1 = very easy"),
    ("sa.ces_high", "7 = とても大変", "7 = very hard"),
    ("sa.chosen_already", "お答えいただいた内容", "Your answer"),
    (
        "sa.privacy",
        "ご回答は、サービス改善のためだけに使います。",
        "Your answers are used only to improve our service.",
    ),
];

/// One question as the page shows it.
struct QuestionView {
    n: usize,
    key: String,
    text: String,
    /// `score`, `single`, `multiple`, `text`.
    kind: &'static str,
    points: Vec<i64>,
    low: &'static str,
    high: &'static str,
    choices: Vec<(String, bool)>,
    value: String,
    required: bool,
    error: String,
    /// Shown only after an answer in this range to an earlier question (the script hides it
    /// otherwise; the server decides).
    show_key: String,
    show_min: String,
    show_max: String,
    /// Answered already in the channel: shown, not asked again.
    fixed: bool,
}

#[derive(Template)]
#[template(path = "survey_answer.html")]
struct AnswerPage {
    t: Tr,
    title: String,
    intro: String,
    shop_name: String,
    /// `open`, `answered`, `expired`, `done`.
    state: &'static str,
    thanks: String,
    questions: Vec<QuestionView>,
    refused: bool,
}

pub(super) fn tr(headers: &HeaderMap, query: Option<&str>) -> Tr {
    if let Some(l) = query.and_then(|q| form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "lang")) {
        return Tr(Lang::parse(&l.1));
    }
    super::lang(headers)
}

fn view(t: Tr, p: &SurveyPage, given: &BTreeMap<String, String>, errors: &[(String, String)]) -> AnswerPage {
    let questions = p
        .questions
        .iter()
        .enumerate()
        .map(|(i, q)| question_view(t, i + 1, q, p.answered.get(&q.key), given, errors))
        .collect();
    AnswerPage {
        t,
        title: p.title.clone(),
        intro: p.intro.clone(),
        shop_name: p.shop_name.clone(),
        state: match p.state {
            SurveyPageState::Open => "open",
            SurveyPageState::Answered => "answered",
            SurveyPageState::Expired => "expired",
        },
        thanks: p.thanks.clone(),
        questions,
        refused: !errors.is_empty(),
    }
}

fn question_view(
    t: Tr,
    n: usize,
    q: &Question,
    fixed: Option<&Answer>,
    given: &BTreeMap<String, String>,
    errors: &[(String, String)],
) -> QuestionView {
    let typed: Vec<&str> =
        given.iter().filter(|(k, _)| k.split('#').next() == Some(&q.key)).map(|(_, v)| v.as_str()).collect();
    let value = match fixed {
        Some(Answer::Score(v)) => v.to_string(),
        Some(Answer::Text(s)) => s.clone(),
        Some(Answer::Choices(c)) => c.join("、"),
        None => typed.first().map(|s| s.to_string()).unwrap_or_default(),
    };
    let (kind, points, (low, high)) = match &q.kind {
        QuestionKind::Single { .. } => ("single", vec![], ("", "")),
        QuestionKind::Multiple { .. } => ("multiple", vec![], ("", "")),
        QuestionKind::Text => ("text", vec![], ("", "")),
        k => {
            let (lo, hi) = k.range().unwrap_or((0, 0));
            let ends = match k {
                QuestionKind::Nps => (t.t("sa.nps_low"), t.t("sa.nps_high")),
                QuestionKind::Csat => (t.t("sa.csat_low"), t.t("sa.csat_high")),
                QuestionKind::Ces => (t.t("sa.ces_low"), t.t("sa.ces_high")),
                _ => ("", ""),
            };
            ("score", (lo..=hi).collect(), ends)
        }
    };
    let choices = match &q.kind {
        QuestionKind::Single { choices } | QuestionKind::Multiple { choices } => {
            choices.iter().map(|c| (c.clone(), typed.contains(&c.as_str()))).collect()
        }
        _ => vec![],
    };
    let show = q.show_if.as_ref();
    QuestionView {
        n,
        key: q.key.clone(),
        text: q.text.clone(),
        kind,
        points,
        low,
        high,
        choices,
        value,
        required: q.required,
        error: errors.iter().find(|(k, _)| *k == q.key).map(|(_, e)| e.clone()).unwrap_or_default(),
        show_key: show.map(|s| s.question.clone()).unwrap_or_default(),
        show_min: show.and_then(|s| s.at_least).map(|v| v.to_string()).unwrap_or_default(),
        show_max: show.and_then(|s| s.at_most).map(|v| v.to_string()).unwrap_or_default(),
        fixed: fixed.is_some(),
    }
}

/// What the page was sent, keyed so a multiple choice's boxes stay apart (`key#1`, `key#2`).
fn typed(pairs: &[(String, String)]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        out.insert(format!("{k}#{i}"), v.clone());
    }
    out
}

fn invalid(t: Tr) -> Response {
    crate::ui::error_response_in(t, StatusCode::NOT_FOUND, t.t("sa.invalid"))
}

fn failed(t: Tr, e: AppError) -> Response {
    tracing::error!(error = %e, "survey page failed");
    crate::ui::error_response_in(t, StatusCode::INTERNAL_SERVER_ERROR, &crate::i18n::errors::app_error(&e, t.0))
}

/// `GET /s/{token}`: the survey, with a score from the link chosen.
pub(super) async fn show(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let t = tr(&headers, query.as_deref());
    let page = match s.app.survey_page(&token).await {
        Ok(p) => p,
        Err(AppError::NotFound(_)) => return invalid(t),
        Err(e) => return failed(t, e),
    };
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_deref().unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .filter(|(k, _)| k != "lang")
        .collect();
    crate::ui::render_page(&view(t, &page, &typed(&pairs), &[]))
}

/// `POST /s/{token}`: the answers.
pub(super) async fn answer(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let t = tr(&headers, query.as_deref());
    let page = match s.app.survey_page(&token).await {
        Ok(p) => p,
        Err(AppError::NotFound(_)) => return invalid(t),
        Err(e) => return failed(t, e),
    };
    let pairs: Vec<(String, String)> =
        form_urlencoded::parse(&body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let given = joren_core::survey::answers_from_form(&page.questions, &pairs);
    match s.app.answer_survey(&token, &given, false).await {
        Ok(_) => {
            let mut p = view(t, &page, &BTreeMap::new(), &[]);
            p.state = "done";
            crate::ui::render_page(&p)
        }
        Err(AppError::Validation(e)) => {
            let errors: Vec<(String, String)> =
                e.0.iter().map(|f| (f.field.clone(), crate::i18n::errors::field_error(f, t.0))).collect();
            let p = view(t, &page, &typed(&pairs), &errors);
            (StatusCode::UNPROCESSABLE_ENTITY, crate::ui::render_page(&p)).into_response()
        }
        Err(AppError::Conflict(_)) => {
            let mut p = view(t, &page, &BTreeMap::new(), &[]);
            p.state = "expired";
            (StatusCode::CONFLICT, crate::ui::render_page(&p)).into_response()
        }
        Err(AppError::NotFound(_)) => invalid(t),
        Err(e) => failed(t, e),
    }
}
