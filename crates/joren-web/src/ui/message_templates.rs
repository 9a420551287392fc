//! `/templates`: the shop's saved messages (メールの文面) — a list, a form to write one with the
//! variables at hand, a preview for a real customer, edit and delete. The scenario editor's
//! "use a saved message" copies one into a mail step.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use joren_app::AppError;
use joren_app::message_templates::MessageTemplate;
use joren_app::message_templates::MessageTemplateInput;

use super::form_state::FormState;
use super::{Checked, Chrome, Staff, UiError, UiResult, WebUser, render};
use crate::AppState;
use crate::i18n::Tr;

/// The page's words (key, 日本語, English).
pub(crate) const WORDS: &[(&str, &str, &str)] = &[
    ("mt.title", "メールの文面", "Saved messages"),
    (
        "mt.help",
        "よく使うメールを文面として保存しておくと、シナリオのメールのステップで選んで使えます (選んだ時点の文面がシナリオに写されます)。",
        "Save the mails you use often; a scenario's mail step can then use one (the text is copied into the scenario when picked).",
    ),
    ("mt.none", "保存した文面はまだありません", "No saved messages yet"),
    ("mt.new", "新しい文面", "New message"),
    ("mt.edit", "文面を編集", "Edit the message"),
    ("mt.name", "名前 (一覧に出ます)", "Name (shown in lists)"),
    ("mt.subject", "件名", "Subject"),
    ("mt.body", "本文", "Text"),
    (
        "mt.marketing",
        "お知らせメール (配信の同意・上限・配信停止リンクあり)",
        "Marketing mail (consent, caps and the opt-out link apply)",
    ),
    ("mt.kind.marketing", "お知らせ", "Marketing"),
    ("mt.kind.transactional", "取引連絡", "Transactional"),
    ("mt.updated", "更新", "Updated"),
    ("mt.save", "保存", "Save"),
    ("mt.delete", "削除", "Delete"),
    ("mt.saved", "文面を保存しました", "Message saved"),
    ("mt.deleted", "文面を削除しました", "Message deleted"),
    ("mt.preview", "この内容で表示してみる", "Preview"),
    ("mt.preview_customer", "顧客番号 (空欄: 見本の顧客)", "Customer number (empty: a sample customer)"),
    ("mt.variables", "使える変数", "Variables"),
    ("mt.back", "一覧へ", "Back to the list"),
];

#[derive(Template)]
#[template(path = "message_templates.html")]
struct TemplatesPage {
    c: Chrome,
    rows: Vec<(i64, String, String, bool, String)>,
    /// The form: the message being edited (None: a new one).
    id: Option<i64>,
    f: FormState,
    preview: Option<(String, String)>,
    flash: Option<&'static str>,
    variables: Vec<(&'static str, &'static str)>,
    can_write: bool,
}

#[derive(serde::Deserialize, Default)]
pub(super) struct TemplateForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    marketing: Option<String>,
    #[serde(default)]
    preview_customer: String,
    #[serde(default)]
    op: String,
}

impl TemplateForm {
    fn of(m: &MessageTemplate) -> Self {
        Self {
            name: m.name.clone(),
            subject: m.subject.clone(),
            body: m.body.clone(),
            marketing: m.marketing.then(|| "1".into()),
            ..Default::default()
        }
    }

    fn values(&self) -> FormState {
        FormState::new([
            ("name", self.name.clone()),
            ("subject", self.subject.clone()),
            ("body", self.body.clone()),
            ("marketing", self.marketing.clone().unwrap_or_default()),
            ("preview_customer", self.preview_customer.clone()),
        ])
    }

    fn input(&self) -> MessageTemplateInput {
        MessageTemplateInput {
            name: self.name.clone(),
            subject: self.subject.clone(),
            body: self.body.clone(),
            marketing: self.marketing.as_deref() == Some("1"),
        }
    }
}

async fn page(
    s: &AppState,
    t: Tr,
    user: &WebUser,
    id: Option<i64>,
    form: &TemplateForm,
) -> Result<TemplatesPage, UiError> {
    let en = t.0 == crate::i18n::Lang::En;
    let rows = s
        .app
        .message_templates()
        .await
        .map_err(|e| UiError::from_app(t, e))?
        .into_iter()
        .map(|m| {
            (
                m.id,
                m.name,
                m.subject,
                m.marketing,
                s.app.local_time(chrono::DateTime::from_timestamp_millis(m.updated_at_ms).unwrap_or_default()),
            )
        })
        .collect();
    let path = id.map(|i| format!("/templates/{i}")).unwrap_or_else(|| "/templates".into());
    Ok(TemplatesPage {
        c: Chrome::new(t, user, "scenarios", path),
        rows,
        id,
        f: form.values(),
        preview: None,
        flash: None,
        variables: joren_core::template::VARIABLES.iter().map(|(n, ja, e)| (*n, if en { *e } else { *ja })).collect(),
        can_write: user.actor.role.can_write(),
    })
}

#[derive(serde::Deserialize, Default)]
pub(super) struct Flash {
    flash: Option<String>,
}

fn flash_of(q: &Flash) -> Option<&'static str> {
    match q.flash.as_deref() {
        Some("saved") => Some("mt.saved"),
        Some("deleted") => Some("mt.deleted"),
        _ => None,
    }
}

/// `GET /templates`: the list and a blank form.
pub(super) async fn list(
    State(s): State<AppState>,
    Staff { user, t }: Staff,
    axum::extract::Query(q): axum::extract::Query<Flash>,
) -> UiResult {
    let blank = TemplateForm { marketing: Some("1".into()), ..Default::default() };
    let mut p = page(&s, t, &user, None, &blank).await?;
    p.flash = flash_of(&q);
    Ok(render(&p))
}

/// `GET /templates/{id}`: the list and the message in the form.
pub(super) async fn show(
    State(s): State<AppState>,
    Staff { user, t }: Staff,
    Path(id): Path<i64>,
    axum::extract::Query(q): axum::extract::Query<Flash>,
) -> UiResult {
    let m = s.app.message_template(id).await.map_err(|e| UiError::from_app(t, e))?;
    let mut p = page(&s, t, &user, Some(id), &TemplateForm::of(&m)).await?;
    p.flash = flash_of(&q);
    Ok(render(&p))
}

/// `POST /templates`: a new message (`op=save`) or a preview of the form.
pub(super) async fn create(State(s): State<AppState>, Checked { user, t, form }: Checked<TemplateForm>) -> UiResult {
    submit(s, t, user, None, form).await
}

/// `POST /templates/{id}`: save, preview or delete.
pub(super) async fn update(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form }: Checked<TemplateForm>,
) -> UiResult {
    s.app.message_template(id).await.map_err(|e| UiError::from_app(t, e))?;
    submit(s, t, user, Some(id), form).await
}

async fn submit(s: AppState, t: Tr, user: WebUser, id: Option<i64>, form: TemplateForm) -> UiResult {
    match form.op.as_str() {
        "delete" => {
            let id = id.ok_or_else(|| UiError::from_app(t, AppError::NotFound("template")))?;
            s.app.delete_message_template(&user.actor, id).await.map_err(|e| UiError::from_app(t, e))?;
            Ok(Redirect::to("/templates?flash=deleted").into_response())
        }
        "preview" => {
            let mut p = page(&s, t, &user, id, &form).await?;
            let customer = joren_core::text::parse_int(&form.preview_customer);
            let input = form.input();
            match s.app.preview_message(&input.subject, &input.body, input.marketing, customer).await {
                Ok(m) => p.preview = Some((m.subject, m.html)),
                Err(AppError::Validation(e)) => p.f.refuse(&e.0, t),
                Err(AppError::NotFound(_)) => {
                    let missing = joren_core::FieldError::new("preview_customer", joren_core::Code::NoSuchCustomer);
                    p.f.refuse(&[missing], t);
                }
                Err(e) => return Err(UiError::from_app(t, e)),
            }
            Ok(render(&p))
        }
        _ => {
            let input = form.input();
            let saved = match id {
                Some(id) => s.app.update_message_template(&user.actor, id, &input).await,
                None => s.app.create_message_template(&user.actor, &input).await,
            };
            match saved {
                Ok(m) => Ok(Redirect::to(&format!("/templates/{}?flash=saved", m.id)).into_response()),
                Err(AppError::Validation(e)) => {
                    let mut p = page(&s, t, &user, id, &form).await?;
                    p.f.refuse(&e.0, t);
                    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response())
                }
                Err(e) => Err(UiError::from_app(t, e)),
            }
        }
    }
}
