//! The inbox (受信箱, `/inbox`): conversations across channels in tabs — nobody's yet, mine, all
//! open, closed — each opened on its own page with its messages, who has it, how long the first
//! answer took and how long until it was closed; answered, given to someone and closed there.
//! Below the tabs, the LINE friends no customer is linked to yet, each linked by number.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use joren_app::AppError;
use joren_app::conversations::{ConversationDetail, InboxView};

use super::form_state::FormState;
use super::{Checked, Chrome, ErrorFlash, Staff, UiError, UiResult, back_with_error, render};
use crate::AppState;
use crate::auth::WebUser;
use crate::i18n::Tr;

pub(crate) const WORDS: &[(&str, &str, &str)] = &[
    ("inbox.nav", "受信箱", "Inbox"),
    ("inbox.title", "受信箱", "Inbox"),
    (
        "inbox.help",
        "お客様から届いたメッセージの会話です。担当を決めて返信し、済んだら「完了」にします。最初の返信までの時間と完了までの時間が記録されます。",
        "Conversations started by customers' messages. Take one, answer it, and close it when done: the time to the first answer and to closing are recorded.",
    ),
    ("inbox.tab.unassigned", "未割り当て", "Nobody's yet"),
    ("inbox.tab.mine", "自分の担当", "Mine"),
    ("inbox.tab.all", "対応中すべて", "All open"),
    ("inbox.tab.closed", "完了", "Closed"),
    ("inbox.empty", "この一覧に会話はありません。", "No conversations here."),
    ("inbox.who", "お客様", "Customer"),
    ("inbox.channel", "経路", "Channel"),
    ("inbox.last_message", "最新のメッセージ", "Newest message"),
    ("inbox.waiting", "お客様の最後の連絡", "Customer last wrote"),
    ("inbox.assignee", "担当", "Who has it"),
    ("inbox.nobody", "未割り当て", "Nobody"),
    ("inbox.unlinked", "LINE の友だち (未連携)", "LINE friend (not linked)"),
    ("inbox.unknown_number", "登録のない番号", "A number no customer has"),
    ("inbox.unknown_address", "登録のないアドレス", "An address no customer has"),
    ("inbox.adopt", "新しいお客様として登録", "Add as a new customer"),
    (
        "inbox.adopt_help",
        "この方を顧客として登録し、これまでのメッセージをその方の履歴に移します (LINE・電話番号・メールアドレスも登録されます)。すでにいるお客様なら、その方の画面で電話番号やメールアドレス (LINE は受信箱の一覧から連携) を登録してください。",
        "Adds this person as a customer, with their messages on the new customer's timeline (and their LINE, number or address). If they are already a customer, add the number or address on their page instead (LINE: link them from the inbox list).",
    ),
    ("inbox.adopt_family", "姓 (任意)", "Family name (optional)"),
    ("inbox.adopt_given", "名 (任意)", "Given name (optional)"),
    ("inbox.adopt_button", "顧客として登録", "Add as a customer"),
    ("inbox.mail_text", "返信の本文", "Your answer"),
    ("inbox.mail_reply_title", "メールでのお問い合わせ", "Their mail"),
    (
        "inbox.mail_threaded",
        "お客様のメールへの返信として (件名「Re: …」、同じスレッドに) 送ります。お店の署名が付きます。",
        "Sent as an answer to the customer's mail (「Re: …」, in the same thread), with the shop's signature.",
    ),
    ("inbox.channel.line", "LINE", "LINE"),
    ("inbox.channel.email", "メール", "Email"),
    ("inbox.channel.sms", "SMS", "SMS"),
    ("inbox.state.open", "対応中", "Open"),
    ("inbox.state.closed", "完了", "Closed"),
    ("inbox.opened", "開始", "Opened"),
    ("inbox.first_response", "最初の返信まで", "First answer after"),
    ("inbox.resolution", "完了まで", "Closed after"),
    ("inbox.not_yet", "まだ", "Not yet"),
    ("inbox.thread", "やりとり", "Messages"),
    ("inbox.from_customer", "お客様", "Customer"),
    ("inbox.from_shop", "お店", "Shop"),
    ("inbox.reply", "返信", "Reply"),
    ("inbox.reply_send", "LINE で返信", "Reply on LINE"),
    ("inbox.canned", "定型文", "Saved replies"),
    ("inbox.canned.pick", "定型文を選ぶ", "Pick a saved reply"),
    (
        "inbox.cannot_reply",
        "このお客様には返信できません (顧客とつながっていないか、ブロック・配信停止されています)。",
        "This customer cannot be answered (not linked to a customer, or they blocked the account or replied STOP).",
    ),
    ("inbox.take", "自分が担当する", "Take it"),
    ("inbox.give", "担当を変える", "Give it to"),
    ("inbox.close", "完了にする", "Close"),
    ("inbox.reopen", "対応中に戻す", "Reopen"),
    ("inbox.back", "受信箱へ", "Back to the inbox"),
    ("inbox.open_in_inbox", "受信箱で開く", "Open in the inbox"),
    ("inbox.waiting_title", "連携を待っている LINE の友だち", "LINE friends waiting to be linked"),
    (
        "inbox.waiting_help",
        "まだ顧客とつながっていない LINE の友だちです。顧客番号を入れて連携すると、メッセージと会話はその顧客のものになります。お客様に連携コードを送ってもらっても連携できます (顧客ページの LINE 欄)。",
        "LINE friends not linked to a customer yet. Link one by customer number and their messages and conversations become that customer's. A customer can also link themselves by sending a link code (the LINE panel of the customer page).",
    ),
    ("inbox.none", "連携を待っている LINE の友だちはいません。", "No LINE friends are waiting to be linked."),
    ("inbox.user", "LINE の友だち", "LINE friend"),
    ("inbox.last", "最後の連絡", "Last heard"),
    ("inbox.messages", "メッセージ", "Messages"),
    ("inbox.no_messages", "(メッセージなし)", "(no messages)"),
    ("inbox.customer_no", "顧客番号", "Customer number"),
    ("inbox.link", "この顧客と連携", "Link to this customer"),
    ("inbox.out.queued", "送信待ち", "Waiting to go"),
    ("inbox.out.sending", "送信中", "Sending"),
    ("inbox.out.sent", "送信済み", "Sent"),
    ("inbox.out.failed", "送れませんでした", "Could not be sent"),
    ("inbox.out.suppressed", "送らず (同意・ブロック)", "Not sent (consent or blocked)"),
    ("inbox.minutes", "{0}分", "{0} min"),
    ("inbox.hours", "{0}時間{1}分", "{0} h {1} min"),
    ("inbox.days", "{0}日{1}時間", "{0} d {1} h"),
];

/// A duration in words: minutes, hours and minutes, or days and hours.
pub(super) fn duration_words(t: Tr, secs: i64) -> String {
    let m = (secs.max(0) + 59) / 60;
    let fill = |key: &str, a: i64, b: i64| t.t(key).replace("{0}", &a.to_string()).replace("{1}", &b.to_string());
    match m {
        0..60 => fill("inbox.minutes", m, 0),
        60..1440 => fill("inbox.hours", m / 60, m % 60),
        _ => fill("inbox.days", m / 1440, (m % 1440) / 60),
    }
}

/// A conversation as a list row.
pub(super) struct Row {
    pub id: i64,
    /// The customer's name, or the LINE friend's short id when not linked.
    pub who: String,
    pub linked: bool,
    pub channel: String,
    /// The newest message: its kind's word key when not text, and its text.
    pub kind: Option<String>,
    pub text: String,
    pub waiting: String,
    pub assignee: Option<String>,
    pub resolution: Option<String>,
}

/// The end of an address, enough to tell two apart on the page.
fn short(address: &str) -> String {
    address.chars().rev().take(6).collect::<Vec<_>>().into_iter().rev().collect()
}

/// A LINE message kind as a word key (None for text).
fn kind_key(kind: &str) -> Option<String> {
    (!kind.is_empty()).then(|| format!("line.kind.{kind}"))
}

/// One LINE friend waiting to be linked.
pub(super) struct WaitingUser {
    pub user: String,
    pub short: String,
    pub state: &'static str,
    pub last: String,
    /// (when, kind word key or "", text), newest first.
    pub messages: Vec<(String, Option<String>, String)>,
}

#[derive(Template)]
#[template(path = "inbox.html")]
pub(super) struct InboxPage {
    c: Chrome,
    view: &'static str,
    /// (view, word key, count) per tab.
    tabs: Vec<(&'static str, &'static str, Option<i64>)>,
    rows: Vec<Row>,
    users: Vec<WaitingUser>,
    can_write: bool,
    /// The link form that came back refused: `user` and `customer_id` as typed, the problem
    /// under `customer_id`.
    f: FormState,
}

#[derive(serde::Deserialize, Default)]
pub(super) struct InboxQuery {
    view: Option<String>,
}

/// `GET /inbox`.
pub(super) async fn inbox(
    State(s): State<AppState>,
    Staff { user, t }: Staff,
    Query(q): Query<InboxQuery>,
) -> UiResult {
    let view = q.view.as_deref().and_then(InboxView::parse).unwrap_or_default();
    inbox_page(&s, t, &user, view, FormState::default()).await
}

async fn inbox_page(s: &AppState, t: Tr, me: &WebUser, view: InboxView, f: FormState) -> UiResult {
    let err = |e| UiError::from_app(t, e);
    let (counts, list) = s.app.conversations(&me.actor, view, 200).await.map_err(err)?;
    let rows = list
        .into_iter()
        .map(|c| Row {
            id: c.id,
            who: c.customer_name.clone().unwrap_or_else(|| stranger(&c.channel, &c.address, "")),
            linked: c.customer_id.is_some(),
            channel: format!("inbox.channel.{}", c.channel),
            kind: kind_key(&c.last_kind),
            text: c.last_text.clone(),
            waiting: s.app.local_time(c.last_inbound_at),
            assignee: c.assignee_name.clone(),
            resolution: c.resolution_secs().map(|x| duration_words(t, x)),
        })
        .collect();
    let waiting = s.app.unlinked_line_users(200).await.map_err(err)?;
    let messages = s.app.waiting_line_messages(1_000).await.map_err(err)?;
    let users = waiting
        .into_iter()
        .map(|w| WaitingUser {
            short: short(&w.line_user_id),
            state: if w.following { "line.following" } else { "line.blocked" },
            last: s.app.local_time(w.last_event_at),
            messages: messages
                .iter()
                .filter(|m| m.line_user_id == w.line_user_id)
                .take(5)
                .map(|m| (s.app.local_time(m.at), kind_key(&m.kind), m.body.clone()))
                .collect(),
            user: w.line_user_id,
        })
        .collect();
    let tabs = vec![
        ("unassigned", "inbox.tab.unassigned", Some(counts.unassigned)),
        ("mine", "inbox.tab.mine", Some(counts.mine)),
        ("all", "inbox.tab.all", Some(counts.open)),
        ("closed", "inbox.tab.closed", None),
    ];
    let refused = !f.errors.is_empty();
    let mut page = render(&InboxPage {
        c: Chrome::new(t, me, "inbox", "/inbox"),
        view: view.as_str(),
        tabs,
        rows,
        users,
        can_write: me.actor.role.can_write(),
        f,
    });
    if refused {
        *page.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(page)
}

#[derive(serde::Deserialize)]
pub(super) struct LinkForm {
    user: String,
    customer_id: String,
}

/// `POST /inbox/link`: links a waiting LINE friend to a customer typed by number (＃12 and
/// full-width digits read), then shows the customer.
pub(super) async fn link(State(s): State<AppState>, Checked { user, t, form }: Checked<LinkForm>) -> UiResult {
    let typed = form.customer_id.trim().trim_start_matches(['#', '＃']);
    let linked = match joren_core::text::parse_int(typed) {
        Some(id) => s.app.link_line_user(&user.actor, id, &form.user).await.map(|_| id),
        None => Err(joren_core::FieldError::new("customer_id", joren_core::Code::BadNumber)
            .arg(form.customer_id.trim())
            .into()),
    };
    let why = match linked {
        Ok(id) => return Ok(Redirect::to(&format!("/customers/{id}#line")).into_response()),
        Err(AppError::Validation(e)) => e.0.iter().map(|e| crate::i18n::errors::field_error(e, t.0)).collect(),
        // No such customer, merged, or the user already linked to someone else.
        Err(e @ (AppError::NotFound(_) | AppError::Conflict(_))) => vec![crate::i18n::errors::app_error(&e, t.0)],
        Err(e) => return Err(UiError::from_app(t, e)),
    };
    let mut f = FormState::new([("user", form.user), ("customer_id", form.customer_id)]);
    f.errors.insert("customer_id".into(), why.join(" "));
    inbox_page(&s, t, &user, InboxView::default(), f).await
}

/// One message of the thread as shown: when, whether from the customer, its kind's word key
/// (not text), its text, and an outbound message's state word key.
pub(super) struct ThreadLine {
    pub at: String,
    pub inbound: bool,
    pub kind: Option<String>,
    pub text: String,
    pub state: Option<String>,
}

#[derive(Template)]
#[template(path = "conversation.html")]
pub(super) struct ConversationPage {
    c: Chrome,
    d: ConversationDetail,
    who: String,
    channel: String,
    opened: String,
    first_response: Option<String>,
    resolution: Option<String>,
    thread: Vec<ThreadLine>,
    staff: Vec<(i64, String)>,
    /// (name, text) of the shop's saved messages, for replies.
    canned: Vec<(String, String)>,
    me: Option<i64>,
    can_write: bool,
    reply_key: String,
    /// The reply form that came back refused, as typed, with its problems.
    f: FormState,
    error: Option<String>,
}

/// `GET /inbox/{id}`.
pub(super) async fn conversation(
    State(s): State<AppState>,
    ErrorFlash(error): ErrorFlash,
    Staff { user, t }: Staff,
    Path(id): Path<i64>,
) -> UiResult {
    conversation_page(&s, t, &user, id, FormState::default(), error).await
}

async fn conversation_page(
    s: &AppState,
    t: Tr,
    me: &WebUser,
    id: i64,
    f: FormState,
    error: Option<String>,
) -> UiResult {
    let err = |e| UiError::from_app(t, e);
    let d = s.app.conversation(id).await.map_err(err)?;
    let c = &d.conversation;
    let thread = d
        .thread
        .iter()
        .map(|m| ThreadLine {
            at: s.app.local_time(m.at),
            inbound: m.direction == "in",
            kind: kind_key(&m.kind),
            text: m.text.clone(),
            state: m.state.as_ref().map(|st| format!("inbox.out.{st}")),
        })
        .collect();
    let canned = s.app.message_templates().await.map_err(err)?.into_iter().map(|m| (m.name, m.body)).collect();
    let refused = !f.errors.is_empty();
    let mut page = render(&ConversationPage {
        c: Chrome::new(t, me, "inbox", format!("/inbox/{id}")),
        who: c.customer_name.clone().unwrap_or_else(|| {
            let label = match c.channel.as_str() {
                "sms" => "inbox.unknown_number",
                "email" => "inbox.unknown_address",
                _ => "inbox.unlinked",
            };
            stranger(&c.channel, &c.address, t.t(label))
        }),
        channel: format!("inbox.channel.{}", c.channel),
        opened: s.app.local_time(c.opened_at),
        first_response: d.first_response_secs.map(|x| duration_words(t, x)),
        resolution: d.resolution_secs.map(|x| duration_words(t, x)),
        thread,
        staff: s.app.staff_directory().await.map_err(err)?,
        canned,
        me: me.actor.user_id,
        can_write: me.actor.role.can_write(),
        reply_key: format!("ui-{}", joren_app::auth::random_token()),
        f,
        error,
        d,
    });
    if refused {
        *page.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(page)
}

#[derive(serde::Deserialize)]
pub(super) struct ReplyForm {
    key: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    quick_replies: String,
}

/// `POST /inbox/{id}/reply`: answers on the conversation's channel; refused, the page comes
/// back with what was typed and why beside it.
pub(super) async fn reply(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form: f }: Checked<ReplyForm>,
) -> UiResult {
    let input = joren_app::line::LineMessageInput {
        text: f.text.clone(),
        card: None,
        quick_replies: joren_core::line::split_quick_replies(&f.quick_replies),
    };
    match s.app.reply_to_conversation(&user.actor, id, input, Some(&f.key)).await {
        Ok(_) => Ok(Redirect::to(&format!("/inbox/{id}#thread")).into_response()),
        Err(AppError::Validation(e)) => {
            let mut form = FormState::new([("text", f.text), ("quick_replies", f.quick_replies)]);
            for x in &e.0 {
                let field = if x.field == "quick_replies" { "quick_replies" } else { "text" };
                form.errors.entry(field.into()).or_insert_with(|| crate::i18n::errors::field_error(x, t.0));
            }
            conversation_page(&s, t, &user, id, form, None).await
        }
        // Closed meanwhile (from another screen): said at the top.
        Err(e @ AppError::Conflict(_)) => {
            Ok(back_with_error(&format!("/inbox/{id}"), &crate::i18n::errors::app_error(&e, t.0)))
        }
        Err(e) => Err(UiError::from_app(t, e)),
    }
}

#[derive(serde::Deserialize)]
pub(super) struct AdoptForm {
    #[serde(default)]
    family_name: String,
    #[serde(default)]
    given_name: String,
}

/// `POST /inbox/{id}/customer`: the person behind the conversation becomes a new customer;
/// on to their page.
pub(super) async fn adopt(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form: f }: Checked<AdoptForm>,
) -> UiResult {
    match s.app.customer_from_conversation(&user.actor, id, &f.family_name, &f.given_name).await {
        Ok((customer, _)) => Ok(Redirect::to(&format!("/customers/{customer}")).into_response()),
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_))) => {
            Ok(back_with_error(&format!("/inbox/{id}"), &crate::i18n::errors::app_error(&e, t.0)))
        }
        Err(e) => Err(UiError::from_app(t, e)),
    }
}

#[derive(serde::Deserialize)]
pub(super) struct AssignForm {
    /// A staff member's id, `me`, or empty for nobody.
    assignee: String,
}

/// `POST /inbox/{id}/assign`.
pub(super) async fn assign(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form: f }: Checked<AssignForm>,
) -> UiResult {
    let assignee = match f.assignee.trim() {
        "" => None,
        "me" => user.actor.user_id,
        n => Some(n.parse::<i64>().map_err(|_| UiError::from_app(t, AppError::NotFound("user")))?),
    };
    s.app.assign_conversation(&user.actor, id, assignee).await.map_err(|e| UiError::from_app(t, e))?;
    Ok(Redirect::to(&format!("/inbox/{id}")).into_response())
}

/// `POST /inbox/{id}/close` and `/reopen`: a conversation closed or reopened meanwhile (or
/// reopened beside a newer open one) comes back with why at the top.
async fn set_open(s: AppState, id: i64, user: WebUser, t: Tr, open: bool) -> UiResult {
    match s.app.set_conversation_open(&user.actor, id, open).await {
        Ok(_) => Ok(Redirect::to(&format!("/inbox/{id}")).into_response()),
        Err(e @ AppError::Conflict(_)) => {
            Ok(back_with_error(&format!("/inbox/{id}"), &crate::i18n::errors::app_error(&e, t.0)))
        }
        Err(e) => Err(UiError::from_app(t, e)),
    }
}

pub(super) async fn close(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, .. }: Checked<super::CsrfForm>,
) -> UiResult {
    set_open(s, id, user, t, false).await
}

pub(super) async fn reopen(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, .. }: Checked<super::CsrfForm>,
) -> UiResult {
    set_open(s, id, user, t, true).await
}

/// Who wrote, when no customer is linked: a phone number as it is written (SMS), or the end of
/// a LINE user id, after `label`.
fn stranger(channel: &str, address: &str, label: &str) -> String {
    let who = match channel {
        "sms" => joren_core::phone::display_phone(address),
        "email" => address.to_string(),
        _ => format!("…{}", short(address)),
    };
    if label.is_empty() { who } else { format!("{label} {who}") }
}
