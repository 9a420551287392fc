//! LINE in the customer page: whether a LINE user is linked and follows the shop's account, a
//! one-time code to link one (the customer sends it to the account in LINE and the webhook
//! links them), and a form to send them a message. The inbox is `ui::inbox`.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use joren_app::{App, AppError};

use super::{Checked, CsrfForm, UiError, UiResult};
use crate::AppState;
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
];

/// The panel's facts for customer `id`, whose `conversations` were read by the page.
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
    /// The customer's open LINE conversation in the inbox, if any.
    pub conversation: Option<i64>,
}

pub(super) async fn panel(
    app: &App,
    id: i64,
    sent: bool,
    conversations: &[joren_app::Conversation],
) -> Result<LinePanel, joren_app::AppError> {
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
        conversation: conversations.iter().find(|c| c.channel == "line" && c.state == "open").map(|c| c.id),
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
