//! SMS in the customer page: whether the customer can be texted (a mobile number, no STOP),
//! and a form to text them, with the segments counted as they type. The inbox answers SMS
//! conversations too (`ui::inbox`).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use joren_app::{App, AppError};

use super::{Checked, UiError, UiResult};
use crate::AppState;

pub(crate) const WORDS: &[(&str, &str, &str)] = &[
    ("sms.title", "SMS", "SMS"),
    ("sms.no_mobile", "携帯電話番号がないため SMS は送れません。", "No mobile number: no texts can be sent."),
    (
        "sms.stopped",
        "お客様が「停止」と返信したため SMS は送りません (「再開」と返信があれば再開します)。",
        "The customer replied STOP: no texts are sent (a reply of START turns them on again).",
    ),
    ("sms.send_text", "SMS の本文", "Text"),
    ("sms.count", "{0}文字 · {1}通分", "{0} characters · {1} segments"),
    ("sms.send", "SMS で送る", "Send a text"),
    ("sms.sent", "送信待ちに入れました。まもなく送られます。", "Queued: it goes out in a moment."),
    (
        "sms.test_mode",
        "テストモード: SMS は送られず、送信記録にだけ残ります (SMS ゲートウェイ未設定)。",
        "Test mode: no text leaves the machine; it is only kept in the outbox (no SMS gateway set).",
    ),
    ("sms.estimate", "SMS の費用の見込み", "What the texts would cost"),
    (
        "sms.estimate_row",
        "ステップ{0}: {1}通分 × {2}人 × {3}円 = {4}円 (対象 {5}人のうち送れる方)",
        "Step {0}: {1} segments × {2} people × ¥{3} = ¥{4} ({5} members, those who can be texted)",
    ),
    ("sms.estimate_button", "費用を見積もる", "Estimate the cost"),
];

/// The panel's facts for a customer.
pub(super) struct SmsPanel {
    /// The number as shown, when it takes texts.
    pub phone: Option<String>,
    /// They replied STOP.
    pub stopped: bool,
    pub send_key: String,
    pub test_mode: bool,
    pub sent: bool,
    /// Their open SMS conversation in the inbox, if any.
    pub conversation: Option<i64>,
}

impl SmsPanel {
    pub fn can_send(&self) -> bool {
        self.phone.is_some() && !self.stopped
    }
}

pub(super) fn panel(
    app: &App,
    c: &joren_app::Customer,
    sent: bool,
    conversations: &[joren_app::Conversation],
) -> SmsPanel {
    let phone = c.profile.phone.as_deref().filter(|p| joren_core::phone::can_receive_sms(p));
    SmsPanel {
        phone: phone.map(joren_core::phone::display_phone),
        stopped: joren_app::sms::stopped(c),
        send_key: format!("ui-{}", joren_app::auth::random_token()),
        test_mode: app.sms_test_mode(),
        sent,
        conversation: conversations.iter().find(|x| x.channel == "sms" && x.state == "open").map(|x| x.id),
    }
}

#[derive(serde::Deserialize)]
pub(super) struct SendForm {
    key: String,
    #[serde(default)]
    text: String,
}

/// `POST /customers/{id}/sms-message`: queues a staff member's text. Refused (empty, past 10
/// segments, no mobile number or STOP meanwhile), the panel comes back with what was typed
/// and why beside it.
pub(super) async fn send(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form: f }: Checked<SendForm>,
) -> UiResult {
    let input = joren_app::sms::SmsMessageInput { text: f.text.clone() };
    match s.app.send_sms_message(&user.actor, id, input, Some(&f.key)).await {
        Ok(_) => Ok(Redirect::to(&format!("/customers/{id}?sms_sent=1#sms")).into_response()),
        Err(e @ AppError::Validation(_)) => {
            let form = super::form_state::RowForm::refused("sms-send", 0, [("text", f.text)], &e, t);
            super::customers::refused_row(&s, t, &user, id, form).await
        }
        Err(e) => Err(UiError::from_app(t, e)),
    }
}
