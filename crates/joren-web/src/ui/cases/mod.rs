//! `/cases` (クレーム・問い合わせ): the complaint cases — open, breached (not answered by the
//! 24-hour rule), closed — a form to open one, each case's seven steps with when and by whom
//! and the form for the next one, and the prevention report ("what keeps going wrong").
//! Opened from an inbox conversation too (`/inbox/{id}/case`), and for unhappy survey answers
//! by themselves.

mod settings;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use joren_app::AppError;
use joren_app::cases::{CaseDetail, CaseFilter, CaseInput};
use joren_core::case::{ROOT_CAUSES, Sla, Stage, StepInput};

use super::form_state::FormState;
use super::{Checked, Chrome, Staff, UiError, UiResult, WebUser, render};
use crate::AppState;
use crate::i18n::Tr;

pub(crate) use settings::WORDS as SETTINGS_WORDS;
pub(super) use settings::{save_settings, settings_page};

pub(crate) const WORDS: &[(&str, &str, &str)] = &[
    ("case.title", "クレーム・問い合わせ", "Complaints"),
    (
        "case.help",
        "お客様の不満は、受付から24時間以内 (営業日で数えます) に一次対応し、7つの手順で解決まで進めます。期限が近づくと店長の「今日の連絡」に入ります。",
        "Answer a complaint within 24 hours of receiving it (counted on business days) and take it through the seven steps. Near the deadline it goes on the owner's contact list.",
    ),
    ("case.tab.open", "対応中", "Open"),
    ("case.tab.breached", "期限超過", "Breached"),
    ("case.tab.closed", "完了", "Closed"),
    ("case.tab.all", "すべて", "All"),
    ("case.none", "該当するクレームはありません", "No cases here"),
    ("case.new", "クレームを記録する", "Record a complaint"),
    ("case.customer", "顧客番号 (空欄可)", "Customer number (optional)"),
    ("case.what", "内容 (件名)", "What it is about"),
    ("case.category", "分類", "Category"),
    ("case.said", "お客様のお話", "What the customer said"),
    ("case.open", "記録する", "Record"),
    ("case.opened", "受付", "Received"),
    ("case.due", "一次対応の期限", "First response due"),
    ("case.stage", "段階", "Step"),
    ("case.assignee", "担当", "Assignee"),
    ("case.source.staff", "手動", "By hand"),
    ("case.source.inbox", "受信箱", "Inbox"),
    ("case.source.survey", "アンケート", "Survey"),
    ("case.stage.received", "受付", "Received"),
    ("case.stage.first_response", "1. 一次対応", "1. First response"),
    ("case.stage.listened", "2. 傾聴・共感", "2. Listened, empathised"),
    ("case.stage.facts", "3. 事実確認", "3. Facts established"),
    ("case.stage.proposed", "4. 解決策の提示", "4. Solution proposed"),
    ("case.stage.carried_out", "5. 実行", "5. Carried out"),
    ("case.stage.followed_up", "6. フォロー (満足度の確認)", "6. Followed up"),
    ("case.stage.prevented", "7. 再発防止", "7. Recurrence prevented"),
    ("case.stage.closed", "完了", "Closed"),
    ("case.sla.met", "期限内に対応", "Answered in time"),
    ("case.sla.late", "期限後に対応", "Answered late"),
    ("case.sla.running", "対応待ち", "Waiting"),
    ("case.sla.breached", "期限超過", "Breached"),
    ("case.cause.product", "商品", "Product"),
    ("case.cause.delivery", "配送", "Delivery"),
    ("case.cause.service", "接客・対応", "Service"),
    ("case.cause.price", "価格", "Price"),
    ("case.cause.billing", "請求・支払い", "Billing"),
    ("case.cause.information", "案内・説明", "Information"),
    ("case.cause.other", "その他", "Other"),
    ("case.next", "次の手順", "Next step"),
    ("case.note", "メモ (したこと・お客様の反応)", "Note (what was done, how the customer took it)"),
    ("case.promised_on", "実行を約束した日", "Promised by"),
    ("case.root_cause", "原因の分類", "Root cause"),
    ("case.prevention", "再発防止のためにしたこと", "What was changed so it does not happen again"),
    ("case.record", "この手順を記録", "Record this step"),
    ("case.done", "記録しました", "Recorded"),
    ("case.closed_note", "このクレームは完了しました。", "This case is closed."),
    ("case.escalated", "店長へ連絡済み", "Escalated to the owner"),
    ("case.promised", "約束の日", "Promised by"),
    ("case.late_promise", "約束の日を過ぎています", "Past the promised date"),
    ("case.from_survey", "アンケートの回答", "The survey answer"),
    ("case.from_inbox", "受信箱の会話", "The inbox conversation"),
    ("case.report", "再発防止の記録 (月別)", "Prevention log by month"),
    (
        "case.report_help",
        "完了したクレームの原因の分類を月ごとに数えます。何がくり返し起きているかが分かります。",
        "Closed cases counted by root cause and month: what keeps going wrong.",
    ),
    ("case.total", "合計", "Total"),
    ("case.back", "一覧へ", "Back to the list"),
    ("case.from_conversation", "クレームとして記録", "Record as a complaint"),
];

pub(crate) fn cause_key(c: &str) -> String {
    if c.is_empty() { String::new() } else { format!("case.cause.{c}") }
}

pub(crate) fn sla_key(s: Option<Sla>) -> &'static str {
    match s {
        Some(Sla::Met) => "case.sla.met",
        Some(Sla::Late) => "case.sla.late",
        Some(Sla::Running) => "case.sla.running",
        Some(Sla::Breached) => "case.sla.breached",
        None => "",
    }
}

/// One case as a row.
pub(crate) struct CaseRow {
    pub id: i64,
    pub title: String,
    pub customer: Option<(i64, String)>,
    pub stage: String,
    pub sla: &'static str,
    pub breached: bool,
    pub opened: String,
    pub due: String,
    pub source: String,
}

pub(crate) fn row(s: &AppState, t: Tr, c: &CaseDetail) -> CaseRow {
    let k = &c.case;
    CaseRow {
        id: k.id,
        title: k.title.clone(),
        customer: k.customer_id.zip(k.customer_name.clone()),
        stage: if k.closed_at_ms.is_some() {
            t.t("case.stage.closed").into()
        } else {
            t.t(&format!("case.stage.{}", k.stage)).into()
        },
        sla: sla_key(c.sla),
        breached: matches!(c.sla, Some(Sla::Breached | Sla::Late)),
        opened: s.app.local_time(joren_app::from_ms(k.opened_at_ms)),
        due: k.due_at_ms.map(|d| s.app.local_time(joren_app::from_ms(d))).unwrap_or_default(),
        source: t.t(&format!("case.source.{}", k.source)).into(),
    }
}

#[derive(Template)]
#[template(path = "cases.html")]
struct ListPage {
    c: Chrome,
    state: String,
    rows: Vec<CaseRow>,
    causes: Vec<(&'static str, &'static str)>,
    f: FormState,
    key: String,
    can_write: bool,
}

#[derive(serde::Deserialize, Default)]
pub(super) struct ListQuery {
    #[serde(default)]
    state: Option<String>,
}

fn causes(t: Tr) -> Vec<(&'static str, &'static str)> {
    ROOT_CAUSES.iter().map(|c| (*c, t.t(&format!("case.cause.{c}")))).collect()
}

async fn list_page(s: &AppState, t: Tr, user: &WebUser, state: &str, f: FormState) -> Result<ListPage, UiError> {
    let filter = CaseFilter { state: state.into(), customer_id: None, limit: 200 };
    let rows = s.app.cases(&filter).await.map_err(|e| UiError::from_app(t, e))?.iter().map(|c| row(s, t, c)).collect();
    Ok(ListPage {
        c: Chrome::new(t, user, "voice", "/cases"),
        state: state.into(),
        rows,
        causes: causes(t),
        f,
        key: format!("ui-{}", joren_app::auth::random_token()),
        can_write: user.actor.role.can_write(),
    })
}

/// `GET /cases`
pub(super) async fn list(State(s): State<AppState>, Staff { user, t }: Staff, Query(q): Query<ListQuery>) -> UiResult {
    let state = q.state.unwrap_or_else(|| "open".into());
    Ok(render(&list_page(&s, t, &user, &state, FormState::default()).await?))
}

#[derive(serde::Deserialize)]
pub(super) struct NewForm {
    #[serde(default)]
    customer: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    note: String,
    key: String,
}

/// `POST /cases`: a complaint recorded by hand.
pub(super) async fn create(State(s): State<AppState>, Checked { user, t, form }: Checked<NewForm>) -> UiResult {
    let customer = form.customer.trim();
    let customer_id = if customer.is_empty() { None } else { joren_core::text::parse_int(customer).or(Some(-1)) };
    let input = CaseInput {
        customer_id,
        conversation_id: None,
        title: form.title.clone(),
        category: form.category.clone(),
        note: form.note.clone(),
        assignee_id: None,
    };
    match s.app.open_case(&user.actor, &input, Some(&form.key)).await {
        Ok((c, _)) => Ok(Redirect::to(&format!("/cases/{}", c.case.id)).into_response()),
        Err(e @ (AppError::Validation(_) | AppError::NotFound(_))) => {
            let mut f = FormState::new([
                ("customer", form.customer),
                ("title", form.title),
                ("category", form.category),
                ("note", form.note),
            ]);
            match e {
                AppError::Validation(v) => f.refuse(&v.0, t),
                _ => f.refuse(&[joren_core::FieldError::new("customer", joren_core::Code::NoSuchCustomer)], t),
            }
            let p = list_page(&s, t, &user, "open", f).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response())
        }
        Err(e) => Err(UiError::from_app(t, e)),
    }
}

/// A step taken: when, by whom, the note.
type StepDone = (String, String, String);

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    c: Chrome,
    k: CaseDetail,
    r: CaseRow,
    /// (stage words, done: (when, by, note)).
    steps: Vec<(String, Option<StepDone>)>,
    next: Option<&'static str>,
    causes: Vec<(&'static str, &'static str)>,
    category: String,
    root_cause: String,
    f: FormState,
    flash: bool,
    promised: String,
    late_promise: bool,
    escalated: bool,
    can_write: bool,
}

fn case_page(s: &AppState, t: Tr, user: &WebUser, k: CaseDetail, f: FormState, flash: bool) -> CasePage {
    let steps = Stage::ALL
        .iter()
        .map(|st| {
            let done = k
                .steps
                .iter()
                .find(|x| x.stage == st.as_str())
                .map(|x| (s.app.local_time(joren_app::from_ms(x.at_ms)), x.by_name.clone(), x.note.clone()));
            (t.t(&format!("case.stage.{}", st.as_str())).to_string(), done)
        })
        .collect();
    let today = s.app.today_date().to_string();
    let promised = k.case.promised_on.clone().unwrap_or_default();
    let late_promise = !promised.is_empty() && k.case.carried_out_at_ms.is_none() && promised < today;
    CasePage {
        c: Chrome::new(t, user, "voice", format!("/cases/{}", k.case.id)),
        r: row(s, t, &k),
        steps,
        next: k.next,
        causes: causes(t),
        category: cause_key(&k.case.category),
        root_cause: cause_key(&k.case.root_cause),
        escalated: k.case.escalated_at_ms.is_some(),
        promised,
        late_promise,
        f,
        flash,
        can_write: user.actor.role.can_write(),
        k,
    }
}

#[derive(serde::Deserialize, Default)]
pub(super) struct CaseQuery {
    #[serde(default)]
    done: Option<String>,
}

/// `GET /cases/{id}`
pub(super) async fn show(
    State(s): State<AppState>,
    Staff { user, t }: Staff,
    Path(id): Path<i64>,
    Query(q): Query<CaseQuery>,
) -> UiResult {
    let k = s.app.case_detail(id).await.map_err(|e| UiError::from_app(t, e))?;
    Ok(render(&case_page(&s, t, &user, k, FormState::default(), q.done.is_some())))
}

#[derive(serde::Deserialize)]
pub(super) struct StepForm {
    stage: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    promised_on: String,
    #[serde(default)]
    root_cause: String,
    #[serde(default)]
    prevention: String,
}

/// `POST /cases/{id}/step`: the next step. Refused, the form comes back as typed.
pub(super) async fn step(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form }: Checked<StepForm>,
) -> UiResult {
    let promised = form.promised_on.trim();
    let promised_on = if promised.is_empty() {
        None
    } else {
        match joren_core::dates::parse_date("promised_on", promised) {
            Ok(d) => Some(d),
            Err(e) => return refused_step(&s, t, &user, id, &form, e.into()).await,
        }
    };
    let input = StepInput {
        stage: form.stage.clone(),
        note: form.note.clone(),
        promised_on,
        root_cause: form.root_cause.clone(),
        prevention: form.prevention.clone(),
    };
    match s.app.record_case_step(&user.actor, id, &input).await {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}?done=1")).into_response()),
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_))) => refused_step(&s, t, &user, id, &form, e).await,
        Err(e) => Err(UiError::from_app(t, e)),
    }
}

async fn refused_step(s: &AppState, t: Tr, user: &WebUser, id: i64, form: &StepForm, e: AppError) -> UiResult {
    let k = s.app.case_detail(id).await.map_err(|e| UiError::from_app(t, e))?;
    let mut f = FormState::new([
        ("note", form.note.clone()),
        ("promised_on", form.promised_on.clone()),
        ("root_cause", form.root_cause.clone()),
        ("prevention", form.prevention.clone()),
    ]);
    let status = match &e {
        AppError::Validation(v) => {
            f.refuse(&v.0, t);
            StatusCode::UNPROCESSABLE_ENTITY
        }
        other => {
            f.errors.insert("stage".into(), crate::i18n::errors::app_error(other, t.0));
            StatusCode::CONFLICT
        }
    };
    Ok((status, render(&case_page(s, t, user, k, f, false))).into_response())
}

/// `POST /inbox/{id}/case`: the conversation recorded as a complaint (once), opened.
pub(super) async fn from_conversation(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form }: Checked<FromConversation>,
) -> UiResult {
    let input = CaseInput { conversation_id: Some(id), title: form.title.clone(), ..CaseInput::default() };
    let (c, _) = s.app.open_case(&user.actor, &input, None).await.map_err(|e| UiError::from_app(t, e))?;
    Ok(Redirect::to(&format!("/cases/{}", c.case.id)).into_response())
}

#[derive(serde::Deserialize)]
pub(super) struct FromConversation {
    #[serde(default)]
    title: String,
}

#[derive(Template)]
#[template(path = "case_report.html")]
struct ReportPage {
    c: Chrome,
    months: Vec<String>,
    rows: Vec<(String, Vec<u64>, u64)>,
    chart: String,
}

/// `GET /cases/report`: closed cases by root cause and month.
pub(super) async fn report(State(s): State<AppState>, Staff { user, t }: Staff) -> UiResult {
    let r = s.app.prevention_report(12).await.map_err(|e| UiError::from_app(t, e))?;
    let bars: Vec<(String, f64, String)> =
        r.rows.iter().map(|(c, _, total)| (t.t(&cause_key(c)).to_string(), *total as f64, total.to_string())).collect();
    let chart = super::chart::bars("case-causes", t.t("case.report"), &bars, "#c0392b");
    let rows = r.rows.into_iter().map(|(c, counts, total)| (t.t(&cause_key(&c)).to_string(), counts, total)).collect();
    Ok(render(&ReportPage { c: Chrome::new(t, &user, "voice", "/cases/report"), months: r.months, rows, chart }))
}
