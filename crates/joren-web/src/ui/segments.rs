//! Segment pages: the saved segments with their current size, and the builder — conditions in
//! AND/OR groups, a live count while editing (a small vendored-free script posting to
//! `/segments/preview`), save, delete, the first members and CSV export.

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use joren_app::AppError;
use joren_app::segments::SegmentInput;
use joren_core::customer::ACQUISITION_SOURCES;
use joren_core::segment_filter::{FIELDS, Kind};
use serde::Deserialize;
use serde_json::{Value, json};

use super::form_state::FormState;
use super::{Checked, Chrome, CsrfForm, Staff, UiError, UiResult, render, say, say_fields};
use crate::AppState;
use crate::api::csv_download;
use crate::auth::{WebUser, constant_time_eq};
use crate::i18n::Tr;

/// Members shown under the builder.
const MEMBERS_SHOWN: i64 = 50;

pub(super) struct ListRow {
    id: i64,
    name: String,
    description: String,
    count: i64,
}

#[derive(Template)]
#[template(path = "segments.html")]
pub(super) struct ListPage {
    c: Chrome,
    rows: Vec<ListRow>,
    can_write: bool,
}

pub(super) struct Member {
    id: i64,
    name: String,
    kana: String,
    phone: String,
    email: String,
}

#[derive(Template)]
#[template(path = "segment.html")]
pub(super) struct BuilderPage {
    c: Chrome,
    /// `None` while creating.
    id: Option<i64>,
    name: String,
    description: String,
    /// The filter as JSON text (the builder's state, also editable by hand).
    filter: String,
    /// Field names, labels, kinds and choices for the script, as JSON.
    fields: String,
    /// Each refused field's problem: `name`, `description`, `filter` (the conditions).
    fe: FormState,
    count: Option<i64>,
    members: Vec<Member>,
    /// The members' page (from 1), pages in all, and the addresses of the pages around it.
    page: i64,
    pages: i64,
    prev: Option<String>,
    next: Option<String>,
    can_write: bool,
}

impl BuilderPage {
    /// The builder for segment `id` (None: a new one) with its name, description and filter
    /// text; no count, members or error yet.
    fn new(t: Tr, user: &WebUser, id: Option<i64>, name: String, description: String, filter: String) -> Self {
        let path = id.map(|i| format!("/segments/{i}")).unwrap_or_else(|| "/segments/new".into());
        Self {
            c: Chrome::new(t, user, "segments", path),
            id,
            name,
            description,
            filter,
            fields: field_catalogue(t),
            fe: FormState::default(),
            count: None,
            members: Vec::new(),
            page: 1,
            pages: 1,
            prev: None,
            next: None,
            can_write: user.actor.role.can_write(),
        }
    }
}

/// The builder's field list: name, label, kind (number/text/flag/tags/category) and, for
/// fields with a fixed set of values, the choices with their labels.
pub(super) fn field_catalogue(t: Tr) -> String {
    let en = t.lang() == "en";
    let fields: Vec<Value> = FIELDS
        .iter()
        .map(|(name, kind)| {
            let kind_name = match kind {
                Kind::Number => "number",
                Kind::Text => "text",
                Kind::Flag => "flag",
                Kind::TextList => "tags",
                Kind::Category => "category",
            };
            let choices: Vec<Value> = match *name {
                "segment" => joren_app::metrics::segment_choices(en)
                    .into_iter()
                    .map(|(code, label)| json!([code, label]))
                    .collect(),
                "churn_band" => {
                    ["low", "medium", "high"].iter().map(|b| json!([b, t.t(&format!("segb.band.{b}"))])).collect()
                }
                "acquisition_source" => {
                    ACQUISITION_SOURCES.iter().map(|s| json!([s, t.t(&format!("source.{s}"))])).collect()
                }
                _ => Vec::new(),
            };
            json!({"name": name, "label": t.t(&format!("segb.field.{name}")), "kind": kind_name, "choices": choices})
        })
        .collect();
    let ops: Value = ["eq", "ne", "lt", "lte", "gt", "gte", "in", "contains"]
        .iter()
        .map(|o| (o.to_string(), json!(t.t(&format!("segb.op.{o}")))))
        .collect::<serde_json::Map<_, _>>()
        .into();
    let words: Value = [
        "all",
        "any",
        "add_condition",
        "add_group",
        "remove",
        "yes",
        "no",
        "count",
        "group_count",
        "list_hint",
        "json_only",
    ]
    .iter()
    .map(|w| (w.to_string(), json!(t.t(&format!("segb.ui.{w}")))))
    .collect::<serde_json::Map<_, _>>()
    .into();
    // `</` cannot end the script element the JSON sits in.
    json!({"fields": fields, "ops": ops, "words": words}).to_string().replace("</", "<\\/")
}

/// A new segment starts with one group holding one condition.
fn starter_filter() -> Value {
    json!({"all": [{"all": [{"field": "segment", "op": "in", "value": ["dormant"]}]}]})
}

pub(super) async fn list(State(s): State<AppState>, Staff { user, t }: Staff) -> UiResult {
    let err = |e| UiError::from_app(t, e);
    let mut rows = Vec::new();
    for saved in s.app.saved_segments().await.map_err(err)? {
        let count = s.app.evaluate_segment(&saved.filter, 1, 0).await.map(|p| p.total).unwrap_or(-1);
        rows.push(ListRow { id: saved.id, name: saved.name, description: saved.description, count });
    }
    let can_write = user.actor.role.can_write();
    Ok(render(&ListPage { c: Chrome::new(t, &user, "segments", "/segments"), rows, can_write }))
}

pub(super) async fn new_page(Staff { user, t }: Staff) -> UiResult {
    let filter = serde_json::to_string_pretty(&starter_filter()).unwrap_or_default();
    Ok(render(&BuilderPage::new(t, &user, None, String::new(), String::new(), filter)))
}

#[derive(Deserialize, Default)]
pub(super) struct MembersQuery {
    page: Option<i64>,
}

/// The builder for a saved segment, with its current size and a page of its members with
/// their contact details (`?page=N`).
pub(super) async fn show(
    State(s): State<AppState>,
    Staff { user, t }: Staff,
    Path(id): Path<i64>,
    Query(q): Query<MembersQuery>,
) -> UiResult {
    let err = |e| UiError::from_app(t, e);
    let saved = s.app.saved_segment(id).await.map_err(err)?;
    let n = q.page.unwrap_or(1).clamp(1, 100_000);
    let (total, members) =
        s.app.members_with_contacts(&saved.filter, MEMBERS_SHOWN, (n - 1) * MEMBERS_SHOWN).await.map_err(err)?;
    let filter = serde_json::to_string_pretty(&saved.filter).unwrap_or_default();
    let mut page = BuilderPage::new(t, &user, Some(id), saved.name, saved.description, filter);
    page.count = Some(total);
    page.members = members
        .into_iter()
        .map(|c| Member {
            id: c.id,
            name: c.display_name,
            kana: format!("{} {}", c.profile.family_name_kana, c.profile.given_name_kana).trim().to_string(),
            phone: c.profile.phone.as_deref().map(joren_core::phone::display_phone).unwrap_or_default(),
            email: c.profile.email.unwrap_or_default(),
        })
        .collect();
    page.pages = ((total + MEMBERS_SHOWN - 1) / MEMBERS_SHOWN).max(1);
    page.page = n;
    let link = |p: i64| format!("/segments/{id}?page={p}#members");
    page.prev = (n > 1).then(|| link(n - 1));
    page.next = (n < page.pages).then(|| link(n + 1));
    Ok(render(&page))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct SegmentForm {
    name: String,
    description: String,
    filter: String,
}

/// Saves the builder's form: a new segment (`id` None) or an existing one. A bad name or
/// filter shows the builder again with the input kept and the reason.
async fn save(s: AppState, t: Tr, user: WebUser, id: Option<i64>, f: SegmentForm) -> UiResult {
    let parsed: Result<Value, AppError> = serde_json::from_str(&f.filter).map_err(|e| {
        AppError::Validation(joren_core::FieldErrors(vec![
            joren_core::FieldError::new("filter", joren_core::Code::BadJson).arg(e),
        ]))
    });
    let result = match parsed {
        Ok(filter) => {
            let input = SegmentInput { name: f.name.clone(), description: f.description.clone(), filter };
            match id {
                None => s.app.create_segment(&user.actor, &input).await,
                Some(id) => s.app.update_segment(&user.actor, id, &input).await,
            }
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(saved) => Ok(Redirect::to(&format!("/segments/{}", saved.id)).into_response()),
        // The builder again as typed, each problem beside its field: the name, the
        // description, or the conditions (by their place in the filter).
        Err(AppError::Validation(e)) => {
            let mut page = BuilderPage::new(t, &user, id, f.name, f.description, f.filter);
            let (own, filter): (Vec<_>, Vec<_>) =
                e.0.into_iter().partition(|e| e.field == "name" || e.field == "description");
            page.fe.refuse(&own, t);
            if !filter.is_empty() {
                page.fe.errors.insert("filter".into(), say_fields(t, &filter));
            }
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
        Err(e) => Err(UiError::from_app(t, e)),
    }
}

pub(super) async fn create(State(s): State<AppState>, Checked { user, t, form: f }: Checked<SegmentForm>) -> UiResult {
    save(s, t, user, None, f).await
}

pub(super) async fn update(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form: f }: Checked<SegmentForm>,
) -> UiResult {
    save(s, t, user, Some(id), f).await
}

pub(super) async fn delete(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form: _f }: Checked<CsrfForm>,
) -> UiResult {
    s.app.delete_segment(&user.actor, id).await.map_err(|e| UiError::from_app(t, e))?;
    Ok(Redirect::to("/segments").into_response())
}

/// The live count while editing: `{"filter": …}` in, `{"total": n}` or `{"error": message}`
/// out. Same session and CSRF token (header `X-CSRF-Token`) as the forms.
pub(super) async fn preview(
    State(s): State<AppState>,
    user: Option<WebUser>,
    super::UiLang(t): super::UiLang,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let Some(user) = user else {
        return (axum::http::StatusCode::UNAUTHORIZED, Json(json!({"error": "login required"}))).into_response();
    };
    let sent = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !constant_time_eq(sent, &user.csrf) {
        return (axum::http::StatusCode::FORBIDDEN, Json(json!({"error": "csrf"}))).into_response();
    }
    let total = match s.app.evaluate_segment(&body["filter"], 1, 0).await {
        Ok(page) => page.total,
        Err(e) => {
            return (axum::http::StatusCode::UNPROCESSABLE_ENTITY, Json(json!({"error": say(t, &e)}))).into_response();
        }
    };
    // What each condition group matches on its own (at most 20), so the builder can show how
    // each contributes to the whole.
    let mut groups = Vec::new();
    for g in body["groups"].as_array().map(|a| &a[..a.len().min(20)]).unwrap_or_default() {
        groups.push(s.app.evaluate_segment(g, 1, 0).await.ok().map(|p| p.total));
    }
    Json(json!({"total": total, "groups": groups})).into_response()
}

pub(super) async fn export(State(s): State<AppState>, Staff { user, t }: Staff, Path(id): Path<i64>) -> UiResult {
    let mut buf = Vec::new();
    let words = crate::i18n::export::ExportWords(t.0);
    s.app.export_segment(&user.actor, id, &mut buf, &words).await.map_err(|e| UiError::from_app(t, e))?;
    Ok(csv_download(&format!("segment-{id}.csv"), buf))
}
