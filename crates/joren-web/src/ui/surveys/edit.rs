//! `/surveys/new` and `/surveys/{id}/edit`: a survey written question by question — the kind
//! (NPS, CSAT, CES, one choice, several, a scale, words), the question, its choices one per
//! line, whether it must be answered, and "ask only when an earlier score is between …".
//! Refused forms come back as typed with each problem beside its question's field.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use joren_app::AppError;
use joren_app::surveys::{SurveyDef, SurveyInput};
use joren_core::survey::{MAX_QUESTIONS, Question, QuestionKind, ShowIf};
use joren_core::text::parse_int;

use super::super::{Checked, Chrome, Staff, UiError, UiResult, WebUser, render};
use crate::AppState;
use crate::i18n::Tr;

pub(crate) const WORDS: &[(&str, &str, &str)] = &[
    ("sve.title_new", "アンケートを作る", "New survey"),
    ("sve.title_edit", "アンケートを編集", "Edit the survey"),
    ("sve.name", "名前 (一覧に出ます)", "Name (shown in lists)"),
    ("sve.heading", "見出し (お客様に見えます)", "Heading (customers see it)"),
    ("sve.intro", "はじめのあいさつ", "Introduction"),
    ("sve.thanks", "回答後のお礼", "Thank-you message"),
    ("sve.valid_days", "回答できる日数", "Days to answer"),
    ("sve.question", "質問", "Question"),
    ("sve.kind", "種類", "Kind"),
    ("sve.kind.nps", "おすすめ度 NPS (0〜10)", "Recommend? NPS (0–10)"),
    ("sve.kind.csat", "満足度 CSAT (1〜5)", "Satisfaction CSAT (1–5)"),
    ("sve.kind.ces", "手間 CES (1〜7)", "Effort CES (1–7)"),
    ("sve.kind.single", "ひとつ選ぶ", "Pick one"),
    ("sve.kind.multiple", "いくつでも選ぶ", "Pick any"),
    ("sve.kind.scale", "数の目盛り", "Number scale"),
    ("sve.kind.text", "自由記述", "Written answer"),
    ("sve.text", "質問文", "Question"),
    ("sve.choices", "選択肢 (1行に1つ)", "Choices (one per line)"),
    ("sve.min", "目盛りの最小", "Scale from"),
    ("sve.max", "目盛りの最大", "Scale to"),
    ("sve.required", "回答必須", "Must be answered"),
    ("sve.show_if", "この質問を出す条件 (空欄: いつも出す)", "Ask only when (empty: always)"),
    ("sve.show_q", "前の質問", "Earlier question"),
    ("sve.show_min", "点数がこれ以上", "Score at least"),
    ("sve.show_max", "点数がこれ以下", "Score at most"),
    ("sve.add", "質問を増やす", "Add a question"),
    ("sve.save", "保存", "Save"),
    ("sve.unused", "(空欄の質問は保存されません)", "(empty questions are not saved)"),
    ("sve.back", "アンケート一覧へ", "Back to surveys"),
    ("sve.err.number", "数字で入力してください", "Enter a number"),
];

pub(super) const KINDS: [&str; 7] = ["nps", "csat", "ces", "single", "multiple", "scale", "text"];

/// One question as typed.
#[derive(Debug, Clone, Default)]
pub(super) struct QRow {
    pub v: BTreeMap<String, String>,
    pub errors: BTreeMap<String, String>,
}

impl QRow {
    pub(super) fn v(&self, k: &str) -> &str {
        self.v.get(k).map(String::as_str).unwrap_or_default()
    }

    pub(super) fn err(&self, k: &str) -> &str {
        self.errors.get(k).map(String::as_str).unwrap_or_default()
    }

    pub(super) fn is(&self, k: &str, v: &str) -> bool {
        self.v(k) == v
    }

    fn blank() -> Self {
        let mut r = Self::default();
        r.v.insert("kind".into(), "text".into());
        r
    }

    fn used(&self) -> bool {
        !self.v("text").trim().is_empty() || !self.v("choices").trim().is_empty()
    }
}

/// The survey as typed.
#[derive(Debug, Clone, Default)]
pub(super) struct SurveyForm {
    pub top: BTreeMap<String, String>,
    pub errors: BTreeMap<String, String>,
    pub rows: Vec<QRow>,
}

impl SurveyForm {
    pub(super) fn v(&self, k: &str) -> &str {
        self.top.get(k).map(String::as_str).unwrap_or_default()
    }

    pub(super) fn err(&self, k: &str) -> &str {
        self.errors.get(k).map(String::as_str).unwrap_or_default()
    }

    fn blank() -> Self {
        let mut f = Self::default();
        f.top.insert("valid_days".into(), "30".into());
        let mut first = QRow::blank();
        first.v.insert("kind".into(), "csat".into());
        first.v.insert("required".into(), "1".into());
        f.rows = vec![first, QRow::blank()];
        f
    }

    fn of(d: &SurveyDef) -> Self {
        let mut f = Self::default();
        for (k, v) in [
            ("name", &d.survey.name),
            ("title", &d.survey.title),
            ("intro", &d.survey.intro),
            ("thanks", &d.survey.thanks),
        ] {
            f.top.insert(k.into(), v.clone());
        }
        f.top.insert("valid_days".into(), d.survey.valid_days.to_string());
        f.rows = d.questions.iter().map(row_of).collect();
        f.rows.push(QRow::blank());
        f
    }

    /// The form a post sent; `op` is what was pressed.
    fn from_pairs(pairs: Vec<(String, String)>) -> (Self, String) {
        let mut f = Self::default();
        let mut op = String::new();
        for (k, v) in pairs {
            if k == "op" {
                op = v;
            } else if let Some((i, field)) = k.strip_prefix('q').and_then(|r| r.split_once('.')) {
                let Ok(i) = i.parse::<usize>() else { continue };
                if i >= MAX_QUESTIONS + 5 {
                    continue;
                }
                while f.rows.len() <= i {
                    f.rows.push(QRow::default());
                }
                f.rows[i].v.insert(field.into(), v);
            } else if k != "csrf" {
                f.top.insert(k, v);
            }
        }
        (f, op)
    }

    /// The input to save, and which row each saved question came from. Numbers that do not
    /// read are put beside their field.
    fn input(&mut self, t: Tr) -> Option<(SurveyInput, Vec<usize>)> {
        let mut questions = Vec::new();
        let mut from = Vec::new();
        let mut ok = true;
        // Every key typed or saved, so a new question's key is none of them.
        let mut keys: Vec<String> =
            self.rows.iter().map(|r| r.v("key").trim().to_string()).filter(|k| !k.is_empty()).collect();
        for (i, r) in self.rows.iter_mut().enumerate() {
            if !r.used() {
                continue;
            }
            let mut number = |r: &mut QRow, k: &str| -> Option<Option<i64>> {
                let typed = r.v(k).trim().to_string();
                if typed.is_empty() {
                    return Some(None);
                }
                match parse_int(&typed) {
                    Some(n) => Some(Some(n)),
                    None => {
                        r.errors.insert(k.into(), t.t("sve.err.number").into());
                        ok = false;
                        None
                    }
                }
            };
            let choices: Vec<String> =
                r.v("choices").lines().map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect();
            let kind = match r.v("kind") {
                "nps" => QuestionKind::Nps,
                "csat" => QuestionKind::Csat,
                "ces" => QuestionKind::Ces,
                "single" => QuestionKind::Single { choices },
                "multiple" => QuestionKind::Multiple { choices },
                "scale" => {
                    let min = number(r, "min").flatten().unwrap_or(1);
                    let max = number(r, "max").flatten().unwrap_or(5);
                    QuestionKind::Scale { min, max }
                }
                _ => QuestionKind::Text,
            };
            let show_min = number(r, "show_min").flatten();
            let show_max = number(r, "show_max").flatten();
            let show_q = r.v("show_q").trim().to_string();
            let show_if = (!show_q.is_empty() || show_min.is_some() || show_max.is_some()).then_some(ShowIf {
                question: show_q,
                at_least: show_min,
                at_most: show_max,
            });
            // A new question gets the first free key q1, q2, …; a saved one keeps its own
            // (its answers are stored under it).
            let mut key = r.v("key").trim().to_string();
            if key.is_empty() {
                let mut n = questions.len() + 1;
                while keys.contains(&format!("q{n}")) {
                    n += 1;
                }
                key = format!("q{n}");
                r.v.insert("key".into(), key.clone());
                keys.push(key.clone());
            }
            questions.push(Question {
                key,
                text: r.v("text").trim().to_string(),
                kind,
                required: r.is("required", "1"),
                show_if,
            });
            from.push(i);
        }
        let valid_days = match parse_int(self.v("valid_days")) {
            Some(n) => n,
            None => {
                self.errors.insert("valid_days".into(), t.t("sve.err.number").into());
                ok = false;
                0
            }
        };
        let input = SurveyInput {
            name: self.v("name").into(),
            title: self.v("title").into(),
            intro: self.v("intro").into(),
            thanks: self.v("thanks").into(),
            questions,
            valid_days,
        };
        ok.then_some((input, from))
    }

    /// Puts each refusal beside its field: `questions[2].choices` on the row it came from.
    fn refuse(&mut self, errors: &[joren_core::FieldError], from: &[usize], t: Tr) {
        for e in errors {
            let worded = crate::i18n::errors::field_error(e, t.0);
            let row_field = e.field.strip_prefix("questions[").and_then(|r| r.split_once("]."));
            match row_field.and_then(|(i, f)| Some((from.get(i.parse::<usize>().ok()?)?, f))) {
                Some((&row, field)) => {
                    let field = match field {
                        "show_if" | "show_if.question" => "show_q",
                        f => f,
                    };
                    self.rows[row].errors.entry(field.into()).or_insert(worded);
                }
                None => {
                    self.errors.entry(e.field.clone()).or_insert(worded);
                }
            }
        }
    }
}

fn row_of(q: &Question) -> QRow {
    let mut r = QRow::default();
    let mut set = |k: &str, v: String| {
        r.v.insert(k.into(), v);
    };
    set("key", q.key.clone());
    set("text", q.text.clone());
    set("required", if q.required { "1".into() } else { String::new() });
    let kind = match &q.kind {
        QuestionKind::Nps => "nps",
        QuestionKind::Csat => "csat",
        QuestionKind::Ces => "ces",
        QuestionKind::Single { choices } => {
            set("choices", choices.join("\n"));
            "single"
        }
        QuestionKind::Multiple { choices } => {
            set("choices", choices.join("\n"));
            "multiple"
        }
        QuestionKind::Scale { min, max } => {
            set("min", min.to_string());
            set("max", max.to_string());
            "scale"
        }
        QuestionKind::Text => "text",
    };
    set("kind", kind.into());
    if let Some(s) = &q.show_if {
        set("show_q", s.question.clone());
        set("show_min", s.at_least.map(|v| v.to_string()).unwrap_or_default());
        set("show_max", s.at_most.map(|v| v.to_string()).unwrap_or_default());
    }
    r
}

#[derive(Template)]
#[template(path = "survey_edit.html")]
struct EditPage {
    c: Chrome,
    id: Option<i64>,
    f: SurveyForm,
    kinds: Vec<(&'static str, &'static str)>,
    flash: bool,
    can_write: bool,
}

impl EditPage {
    /// The questions before row `i` that have a key, for "ask only when".
    fn earlier(&self, i: &usize) -> Vec<(String, String)> {
        self.f.rows[..*i]
            .iter()
            .filter(|r| !r.v("key").is_empty() && matches!(r.v("kind"), "nps" | "csat" | "ces" | "scale"))
            .map(|r| (r.v("key").to_string(), r.v("text").chars().take(30).collect()))
            .collect()
    }
}

fn page(t: Tr, user: &WebUser, id: Option<i64>, f: SurveyForm) -> EditPage {
    let path = id.map(|i| format!("/surveys/{i}/edit")).unwrap_or_else(|| "/surveys/new".into());
    EditPage {
        c: Chrome::new(t, user, "voice", path),
        id,
        f,
        kinds: KINDS.iter().map(|k| (*k, t.t(&format!("sve.kind.{k}")))).collect(),
        flash: false,
        can_write: user.actor.role.can_write(),
    }
}

#[derive(serde::Deserialize, Default)]
pub(crate) struct Flash {
    flash: Option<String>,
}

/// `GET /surveys/new`
pub(crate) async fn new_page(Staff { user, t }: Staff) -> UiResult {
    Ok(render(&page(t, &user, None, SurveyForm::blank())))
}

/// `GET /surveys/{id}/edit`
pub(crate) async fn edit_page(
    State(s): State<AppState>,
    Staff { user, t }: Staff,
    Path(id): Path<i64>,
    Query(q): Query<Flash>,
) -> UiResult {
    let d = s.app.survey(id).await.map_err(|e| UiError::from_app(t, e))?;
    let mut p = page(t, &user, Some(id), SurveyForm::of(&d));
    p.flash = q.flash.as_deref() == Some("saved");
    Ok(render(&p))
}

/// `POST /surveys/new`
pub(crate) async fn save_new(
    State(s): State<AppState>,
    Checked { user, t, form }: Checked<Vec<(String, String)>>,
) -> UiResult {
    submit(s, t, user, None, form).await
}

/// `POST /surveys/{id}/edit`: save, add a question, archive or restore.
pub(crate) async fn save_edit(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form }: Checked<Vec<(String, String)>>,
) -> UiResult {
    s.app.survey(id).await.map_err(|e| UiError::from_app(t, e))?;
    submit(s, t, user, Some(id), form).await
}

async fn submit(s: AppState, t: Tr, user: WebUser, id: Option<i64>, pairs: Vec<(String, String)>) -> UiResult {
    let (mut f, op) = SurveyForm::from_pairs(pairs);
    match (op.as_str(), id) {
        ("archive" | "restore", Some(id)) => {
            s.app.archive_survey(&user.actor, id, op == "archive").await.map_err(|e| UiError::from_app(t, e))?;
            let flash = if op == "archive" { "archived" } else { "saved" };
            return Ok(Redirect::to(&format!("/surveys/{id}?flash={flash}")).into_response());
        }
        ("add", _) => {
            if f.rows.len() < MAX_QUESTIONS {
                f.rows.push(QRow::blank());
            }
            return Ok(render(&page(t, &user, id, f)).into_response());
        }
        _ => {}
    }
    let Some((input, from)) = f.input(t) else {
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page(t, &user, id, f))).into_response());
    };
    let saved = match id {
        Some(id) => s.app.update_survey(&user.actor, id, &input).await,
        None => s.app.create_survey(&user.actor, &input).await,
    };
    match saved {
        Ok(d) => Ok(Redirect::to(&format!("/surveys/{}/edit?flash=saved", d.survey.id)).into_response()),
        Err(AppError::Validation(e)) => {
            f.refuse(&e.0, &from, t);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page(t, &user, id, f))).into_response())
        }
        Err(e) => Err(UiError::from_app(t, e)),
    }
}
