//! `/tasks` (今日の連絡): each staff member's calls, letters and visits — who, why (the
//! scenario that asked), by when — finished as done or skipped with an outcome that lands on
//! the customer's timeline; and `/outbox`: the mail scenarios decided, sent or held, each
//! readable as it went out (in test mode, as it would have).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use joren_app::AppError;
use joren_app::tasks::{TaskFilter, TaskOutcome};

use super::form_state::RowForm;
use super::{Checked, Chrome, ErrorFlash, Staff, UiError, UiResult, WebUser, render};
use crate::AppState;
use crate::i18n::Tr;

/// The pages' words (key, 日本語, English).
pub(crate) const WORDS: &[(&str, &str, &str)] = &[
    ("tk.title", "今日の連絡", "Today's contacts"),
    (
        "tk.help",
        "シナリオが作った電話・手紙・訪問の予定です。済んだら結果をひとこと書いて「完了」を押すと、お客様の履歴に残ります。",
        "Calls, letters and visits the scenarios asked for. When done, note the outcome and press Done: it goes on the customer's history.",
    ),
    ("tk.mine", "自分の担当", "Mine"),
    ("tk.all", "全員の分", "Everyone's"),
    ("tk.done_list", "済んだもの", "Finished"),
    ("tk.none", "今日の連絡はありません", "Nothing to do today"),
    ("tk.kind.call", "電話", "Call"),
    ("tk.kind.letter", "手紙・はがき", "Letter"),
    ("tk.kind.visit", "訪問", "Visit"),
    ("tk.customer", "お客様", "Customer"),
    ("tk.what", "内容", "What"),
    ("tk.why", "きっかけ", "Why"),
    ("tk.due", "期限", "Due"),
    ("tk.overdue", "期限切れ", "Overdue"),
    ("tk.assignee", "担当", "Assignee"),
    ("tk.outcome", "結果", "Outcome"),
    ("tk.done", "完了", "Done"),
    ("tk.skip", "見送る", "Skip"),
    ("tk.state.done", "完了", "Done"),
    ("tk.state.skipped", "見送り", "Skipped"),
    ("tk.finished", "記録しました", "Recorded"),
    ("tk.by_hand", "手動", "By hand"),
    ("ob.title", "送信メール", "Sent mail"),
    (
        "ob.help",
        "シナリオが送ったメールと、送る前の確認で止めたメールです。テストモードでは実際には送らず、ここで内容を確かめられます。",
        "Mail the scenarios sent, and mail held back by the checks before sending. In test mode nothing is really sent: read it here.",
    ),
    ("ob.to", "宛先", "To"),
    ("ob.subject", "件名", "Subject"),
    ("ob.state", "状態", "State"),
    ("ob.when", "日時", "When"),
    ("ob.why", "理由", "Why"),
    ("ob.none", "メールはまだありません", "No mail yet"),
    ("ob.test", "テスト (送信せず)", "Test (not sent)"),
    ("ob.state.queued", "送信待ち", "Waiting"),
    ("ob.state.sending", "送信中", "Sending"),
    ("ob.state.sent", "送信済み", "Sent"),
    ("ob.state.failed", "送信失敗", "Failed"),
    ("ob.state.suppressed", "送らなかった", "Not sent"),
    ("ob.reason.consent", "お知らせメールの同意がありません", "No consent to marketing mail"),
    ("ob.reason.quiet", "夜間のため朝に送ります", "Held for the night: goes in the morning"),
    ("ob.reason.cap", "送りすぎ防止のため後で送ります", "Held back by the frequency limit"),
    ("ob.reason.undeliverable", "届かないアドレスです", "The address does not receive mail"),
    ("ob.reason.changed", "アドレスが変わりました", "The address changed"),
    ("ob.back", "一覧へ戻る", "Back to the list"),
    ("tk.print", "宛名を印刷", "Print addresses"),
    ("tk.print.title", "手紙・はがきの宛名", "Letter and postcard addresses"),
    (
        "tk.print.help",
        "手紙・はがきの予定 (未完了) の宛名です。A4 の宛名ラベル (12面, 86.4×42.3mm) か、はがき (縦書き) で印刷できます。印刷したら「今日の連絡」で完了にしてください。",
        "The addresses of the open letter and postcard tasks, on an A4 sheet of 12 labels (86.4 × 42.3 mm) or as postcards (vertical). Mark the tasks done on the contact list once they are sent.",
    ),
    ("tk.print.labels", "A4 宛名ラベル", "A4 labels"),
    ("tk.print.postcard", "はがき (縦書き)", "Postcards (vertical)"),
    ("tk.print.csv", "CSV (印刷会社向け)", "CSV (for a print service)"),
    ("tk.print.csv_code", "CSV (項目名を英語で)", "CSV (field-name headers)"),
    ("tk.print.go", "印刷する", "Print"),
    ("tk.print.none", "印刷する宛名はありません。", "No addresses to print."),
    ("tk.print.count", "枚数", "Count"),
    (
        "tk.print.no_address",
        "住所が登録されていないため印刷できないお客様:",
        "Customers left out because their postal address is missing:",
    ),
];

struct TaskRow {
    id: i64,
    kind: String,
    customer_id: i64,
    customer: String,
    phone: String,
    title: String,
    why: String,
    due: String,
    overdue: bool,
    assignee: String,
    open: bool,
    state: &'static str,
    outcome: String,
}

#[derive(Template)]
#[template(path = "tasks.html")]
struct TasksPage {
    c: Chrome,
    rows: Vec<TaskRow>,
    view: String,
    flash: bool,
    error: Option<String>,
    /// A task's finish form that came back refused: the outcome as typed, the problem beside it.
    row: RowForm,
}

#[derive(serde::Deserialize, Default)]
pub(super) struct TasksQuery {
    #[serde(default)]
    view: String,
    flash: Option<String>,
}

/// `GET /tasks?view=mine|all|done`
pub(super) async fn page(
    State(s): State<AppState>,
    ErrorFlash(error): ErrorFlash,
    Staff { user, t }: Staff,
    Query(q): Query<TasksQuery>,
) -> UiResult {
    tasks_page(&s, t, &user, &q.view, q.flash.is_some(), error, RowForm::default()).await
}

/// The task list (`view`: mine, all or done), with a refused finish form as typed.
async fn tasks_page(
    s: &AppState,
    t: Tr,
    user: &WebUser,
    view: &str,
    flash: bool,
    error: Option<String>,
    row: RowForm,
) -> UiResult {
    let view = match view {
        "all" | "done" => view.to_string(),
        _ => "mine".to_string(),
    };
    let today = s.app.today_date();
    let filter = TaskFilter {
        state: if view == "done" { String::new() } else { "open".into() },
        assignee_id: if view == "mine" { user.actor.user_id } else { None },
        limit: 300,
        ..Default::default()
    };
    let mut tasks = s.app.tasks(&filter).await.map_err(|e| UiError::from_app(t, e))?;
    if view == "mine" {
        // Tasks for customers without a 担当者 are everyone's: shown to each.
        let unassigned = TaskFilter { state: "open".into(), limit: 300, ..Default::default() };
        let extra = s.app.tasks(&unassigned).await.map_err(|e| UiError::from_app(t, e))?;
        tasks.extend(extra.into_iter().filter(|x| x.assignee_id.is_none()));
        tasks.sort_by(|a, b| a.due_on.cmp(&b.due_on).then(a.id.cmp(&b.id)));
    }
    if view == "done" {
        tasks.retain(|x| x.state != "open");
    }
    let page_ok = row.form.is_empty();
    let rows = tasks
        .into_iter()
        .map(|x| TaskRow {
            id: x.id,
            kind: format!("tk.kind.{}", x.kind),
            customer_id: x.customer_id,
            customer: x.customer_name,
            phone: x.phone.map(|p| joren_core::phone::display_phone(&p)).unwrap_or_default(),
            overdue: x.state == "open" && x.due_on < today.to_string(),
            due: x.due_on,
            why: x.scenario_name.unwrap_or_else(|| t.t("tk.by_hand").into()),
            assignee: x.assignee_name.unwrap_or_default(),
            open: x.state == "open",
            state: match x.state.as_str() {
                "done" => "tk.state.done",
                "skipped" => "tk.state.skipped",
                _ => "tk.due",
            },
            outcome: x.outcome.unwrap_or_default(),
            title: x.title,
        })
        .collect();
    let mut page = render(&TasksPage { c: Chrome::new(t, user, "tasks", "/tasks"), rows, view, flash, error, row });
    if !page_ok {
        *page.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(page)
}

#[derive(serde::Deserialize)]
pub(super) struct FinishForm {
    state: String,
    #[serde(default)]
    outcome: String,
    /// The list the form was on (mine, all), to show it again when refused.
    #[serde(default)]
    view: String,
}

/// `POST /tasks/{id}/finish`
pub(super) async fn finish(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form }: Checked<FinishForm>,
) -> UiResult {
    let outcome = TaskOutcome { state: form.state, outcome: form.outcome.clone() };
    match s.app.finish_task(&user.actor, id, outcome).await {
        Ok(_) => Ok(Redirect::to("/tasks?flash=1").into_response()),
        // The list again, the outcome as typed and the problem beside it (too long, say).
        Err(e @ AppError::Validation(_)) => {
            let row = RowForm::refused("finish", id, [("outcome", form.outcome)], &e, t);
            tasks_page(&s, t, &user, &form.view, false, None, row).await
        }
        Err(AppError::Conflict(_)) => Ok(Redirect::to("/tasks?flash=1").into_response()),
        Err(e) => Err(UiError::from_app(t, e)),
    }
}

struct MessageRow {
    id: i64,
    to: String,
    subject: String,
    state: String,
    why: &'static str,
    when: String,
    test: bool,
}

#[derive(Template)]
#[template(path = "outbox.html")]
struct OutboxPage {
    c: Chrome,
    rows: Vec<MessageRow>,
}

#[derive(serde::Deserialize, Default)]
pub(super) struct OutboxQuery {
    scenario_id: Option<i64>,
}

fn reason_key(error: Option<&str>) -> &'static str {
    match error.unwrap_or_default() {
        "no email consent" => "ob.reason.consent",
        "quiet hours" => "ob.reason.quiet",
        "frequency cap" => "ob.reason.cap",
        "the address changed" => "ob.reason.changed",
        e if e.starts_with("undeliverable") || e.starts_with("permanent") => "ob.reason.undeliverable",
        _ => "",
    }
}

/// `GET /outbox`
pub(super) async fn outbox(
    State(s): State<AppState>,
    Staff { user, t }: Staff,
    Query(q): Query<OutboxQuery>,
) -> UiResult {
    let (_, items) = s.app.outbox(None, q.scenario_id, None, 300).await.map_err(|e| UiError::from_app(t, e))?;
    let rows = items
        .into_iter()
        .map(|m| MessageRow {
            id: m.id,
            to: m.recipient,
            subject: m.subject,
            state: format!("ob.state.{}", m.state),
            why: reason_key(m.last_error.as_deref()),
            when: s.app.local_time(joren_app::from_ms(m.sent_at_ms.unwrap_or(m.updated_at_ms))),
            test: m.test_mode,
        })
        .collect();
    Ok(render(&OutboxPage { c: Chrome::new(t, &user, "scenarios", "/outbox"), rows }))
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    c: Chrome,
    to: String,
    subject: String,
    state: String,
    body: String,
    customer_id: Option<i64>,
}

/// `GET /outbox/{id}`: one message as sent (its plain-text part).
pub(super) async fn message(State(s): State<AppState>, Staff { user, t }: Staff, Path(id): Path<i64>) -> UiResult {
    let m = s.app.message(id).await.map_err(|e| UiError::from_app(t, e))?;
    Ok(render(&MessagePage {
        c: Chrome::new(t, &user, "scenarios", format!("/outbox/{id}")),
        to: m.recipient,
        subject: m.subject,
        state: format!("ob.state.{}", m.state),
        body: m.body_text,
        customer_id: m.customer_id,
    }))
}

#[derive(serde::Deserialize, Default)]
pub(super) struct PrintQuery {
    #[serde(default)]
    layout: String,
    #[serde(default)]
    view: String,
    #[serde(default)]
    header: String,
}

#[derive(Template)]
#[template(path = "print.html")]
struct PrintPage {
    c: Chrome,
    postcard: bool,
    all: bool,
    /// Labels by A4 sheet (12 a sheet); for postcards one sheet of them all.
    sheets: Vec<Vec<joren_app::tasks::MailingLabel>>,
    count: usize,
    without_address: Vec<(i64, String)>,
}

/// Labels on one A4 sheet (2 columns × 6 rows).
const LABELS_PER_SHEET: usize = 12;

fn print_view(user: &WebUser, q: &PrintQuery) -> Option<i64> {
    if q.view == "all" { None } else { user.actor.user_id.or(Some(-1)) }
}

/// `GET /tasks/print?layout=labels|postcard&view=mine|all`: the open letter tasks'
/// addresses, ready to print (print CSS: one A4 label sheet or one postcard a page).
pub(super) async fn print(
    State(s): State<AppState>,
    Staff { user, t }: Staff,
    Query(q): Query<PrintQuery>,
) -> UiResult {
    let list = s.app.mailing_list(print_view(&user, &q)).await.map_err(|e| UiError::from_app(t, e))?;
    let postcard = q.layout == "postcard";
    let count = list.labels.len();
    let sheets =
        if postcard { vec![list.labels] } else { list.labels.chunks(LABELS_PER_SHEET).map(<[_]>::to_vec).collect() };
    Ok(render(&PrintPage {
        c: Chrome::new(t, &user, "tasks", "/tasks/print"),
        postcard,
        all: q.view == "all",
        sheets,
        count,
        without_address: list.without_address,
    }))
}

/// `GET /tasks/print.csv?view=mine|all&header=code`: the same addresses as CSV (Japanese
/// headers unless `header=code`).
pub(super) async fn print_csv(
    State(s): State<AppState>,
    Staff { user, t }: Staff,
    Query(q): Query<PrintQuery>,
) -> UiResult {
    let list = s.app.mailing_list(print_view(&user, &q)).await.map_err(|e| UiError::from_app(t, e))?;
    let mut buf = Vec::new();
    joren_app::tasks::write_mailing_csv(&list, q.header == "code", &mut buf)
        .map_err(|e| UiError::from_app(t, AppError::Io(e.to_string())))?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (axum::http::header::CONTENT_DISPOSITION, "attachment; filename=\"addresses.csv\""),
        ],
        buf,
    )
        .into_response())
}
