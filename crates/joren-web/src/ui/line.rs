//! LINE in the pages: the customer page's panel (whether a LINE user is linked and follows the
//! shop's account, and a one-time code to link one — the customer sends it to the account in
//! LINE and the webhook links them), and `/inbox`: the LINE friends no customer is linked to
//! yet, with what they wrote, each linked to a customer by number.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use joren_app::{App, AppError};

use super::form_state::FormState;
use super::{Checked, Chrome, CsrfForm, Staff, UiError, UiResult, render};
use crate::AppState;
use crate::auth::WebUser;
use crate::i18n::Tr;

pub(crate) const WORDS: &[(&str, &str, &str)] = &[
    ("line.title", "LINE", "LINE"),
    ("line.linked", "LINE と連携済み", "Linked to LINE"),
    ("line.following", "友だち追加中", "Follows the shop's account"),
    ("line.blocked", "ブロック中 (送信しません)", "Has blocked the account (nothing is sent)"),
    ("line.not_seen", "まだ LINE からの連絡はありません", "Nothing received from LINE yet"),
    ("line.not_linked", "LINE とはまだ連携していません。", "Not linked to LINE yet."),
    ("line.make_code", "連携コードを発行", "Make a link code"),
    (
        "line.code_help",
        "お客様に、お店の LINE 公式アカウントへこのコードを送ってもらうと連携されます。",
        "Ask the customer to send this code to the shop's LINE account: that links them.",
    ),
    ("line.code_until", "有効期限", "Works until"),
    ("line.send_title", "LINE でメッセージを送る", "Send a LINE message"),
    ("line.send_text", "メッセージ", "Message"),
    (
        "line.send_quick",
        "すぐに返せるボタン (任意。「、」で区切る。例: はい、いいえ)",
        "One-tap answers (optional, separated by commas, e.g. Yes, No)",
    ),
    ("line.send", "LINE で送る", "Send on LINE"),
    ("line.sent", "送信待ちに入れました。まもなく送られます。", "Queued: it goes out in a moment."),
    (
        "line.test_mode",
        "テストモード: LINE には送られず、送信記録にだけ残ります (チャネルアクセストークン未設定)。",
        "Test mode: nothing reaches LINE; the message is only kept in the outbox (no channel access token).",
    ),
    ("inbox.nav", "受信箱", "Inbox"),
    ("inbox.title", "受信箱", "Inbox"),
    (
        "inbox.help",
        "お店の LINE 公式アカウントの友だちのうち、まだ顧客とつながっていない人と、その人からのメッセージです。顧客番号を入れて連携すると、メッセージはその顧客の履歴に移ります。お客様に連携コードを送ってもらっても連携できます (顧客ページの LINE 欄)。",
        "Friends of the shop's LINE account who are not linked to a customer yet, with what they wrote. Link one to a customer by number and their messages move to that customer's history. A customer can also link themselves by sending a link code (the LINE panel of the customer page).",
    ),
    ("inbox.none", "連携を待っている LINE の友だちはいません。", "No LINE friends are waiting to be linked."),
    ("inbox.user", "LINE の友だち", "LINE friend"),
    ("inbox.last", "最後の連絡", "Last heard"),
    ("inbox.messages", "メッセージ", "Messages"),
    ("inbox.no_messages", "(メッセージなし)", "(no messages)"),
    ("inbox.customer_no", "顧客番号", "Customer number"),
    ("inbox.link", "この顧客と連携", "Link to this customer"),
];

/// The panel's facts for customer `id`.
pub(super) struct LinePanel {
    /// Linked: whether they follow the account (None: not heard from LINE yet).
    pub linked: Option<Option<bool>>,
    /// A link code still usable, with when it stops (shop's time).
    pub code: Option<(String, String)>,
    /// A fresh idempotency key for this render's send form (a double click sends once).
    pub send_key: String,
    /// Nothing leaves the machine (no channel access token).
    pub test_mode: bool,
    /// A message was just queued (say so above the form).
    pub sent: bool,
}

pub(super) async fn panel(app: &App, id: i64, sent: bool) -> Result<LinePanel, joren_app::AppError> {
    let linked = app.customer_line_user(id).await?.map(|(_, following)| following);
    let code = match linked {
        Some(_) => None,
        None => app.live_line_link_code(id).await?.map(|c| (c.code, app.local_time(c.expires_at))),
    };
    Ok(LinePanel {
        linked,
        code,
        send_key: format!("ui-{}", joren_app::auth::random_token()),
        test_mode: app.line_test_mode(),
        sent,
    })
}

impl LinePanel {
    /// Whether a message can be sent: linked, and not blocked.
    pub fn can_send(&self) -> bool {
        matches!(self.linked, Some(f) if f != Some(false))
    }

    /// The linked user's state as a word key.
    pub fn state_key(&self) -> &'static str {
        match self.linked {
            Some(Some(true)) => "line.following",
            Some(Some(false)) => "line.blocked",
            _ => "line.not_seen",
        }
    }
}

/// `POST /customers/{id}/line-code`: a fresh link code, shown on the customer page.
pub(super) async fn make_code(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, .. }: Checked<CsrfForm>,
) -> UiResult {
    let t: Tr = t;
    s.app.line_link_code(&user.actor, id).await.map_err(|e| UiError::from_app(t, e))?;
    Ok(Redirect::to(&format!("/customers/{id}#line")).into_response())
}

#[derive(serde::Deserialize)]
pub(super) struct SendForm {
    key: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    quick_replies: String,
}

/// `POST /customers/{id}/line-message`: queues a staff member's LINE message to the customer.
/// Refused (empty, too long, nobody linked or blocked meanwhile), the panel comes back with
/// what was typed and why beside it.
pub(super) async fn send(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form: f }: Checked<SendForm>,
) -> UiResult {
    let input = joren_app::line::LineMessageInput {
        text: f.text.clone(),
        card: None,
        quick_replies: joren_core::line::split_quick_replies(&f.quick_replies),
    };
    match s.app.send_line_message(&user.actor, id, input, Some(&f.key)).await {
        Ok(_) => Ok(Redirect::to(&format!("/customers/{id}?line_sent=1#line")).into_response()),
        Err(e @ AppError::Validation(_)) => {
            let form = super::form_state::RowForm::refused(
                "line-send",
                0,
                [("text", f.text), ("quick_replies", f.quick_replies)],
                &e,
                t,
            );
            super::customers::refused_row(&s, t, &user, id, form).await
        }
        Err(e) => Err(UiError::from_app(t, e)),
    }
}

/// One LINE friend waiting to be linked.
pub(super) struct WaitingUser {
    pub user: String,
    /// The end of the id, enough to tell two apart on the page.
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
    users: Vec<WaitingUser>,
    can_write: bool,
    /// The link form that came back refused: `user` and `customer_id` as typed, the problem
    /// under `customer_id`.
    f: FormState,
}

/// `GET /inbox`.
pub(super) async fn inbox(State(s): State<AppState>, Staff { user, t }: Staff) -> UiResult {
    inbox_page(&s, t, &user, FormState::default()).await
}

async fn inbox_page(s: &AppState, t: Tr, me: &WebUser, f: FormState) -> UiResult {
    let err = |e| UiError::from_app(t, e);
    let waiting = s.app.unlinked_line_users(200).await.map_err(err)?;
    let messages = s.app.waiting_line_messages(1_000).await.map_err(err)?;
    let users = waiting
        .into_iter()
        .map(|w| WaitingUser {
            short: w.line_user_id.chars().rev().take(6).collect::<Vec<_>>().into_iter().rev().collect(),
            state: if w.following { "line.following" } else { "line.blocked" },
            last: s.app.local_time(w.last_event_at),
            messages: messages
                .iter()
                .filter(|m| m.line_user_id == w.line_user_id)
                .take(5)
                .map(|m| {
                    let kind = (!m.kind.is_empty()).then(|| format!("line.kind.{}", m.kind));
                    (s.app.local_time(m.at), kind, m.body.clone())
                })
                .collect(),
            user: w.line_user_id,
        })
        .collect();
    let refused = !f.errors.is_empty();
    let mut page =
        render(&InboxPage { c: Chrome::new(t, me, "inbox", "/inbox"), users, can_write: me.actor.role.can_write(), f });
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
    inbox_page(&s, t, &user, f).await
}
