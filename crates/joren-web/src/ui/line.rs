//! The LINE panel of the customer page: whether a LINE user is linked and follows the shop's
//! account, and a one-time code to link one — the customer sends it to the account in LINE
//! and the webhook links them.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use joren_app::App;

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
];

/// The panel's facts for customer `id`.
pub(super) struct LinePanel {
    /// Linked: whether they follow the account (None: not heard from LINE yet).
    pub linked: Option<Option<bool>>,
    /// A link code still usable, with when it stops (shop's time).
    pub code: Option<(String, String)>,
}

pub(super) async fn panel(app: &App, id: i64) -> Result<LinePanel, joren_app::AppError> {
    let linked = app.customer_line_user(id).await?.map(|(_, following)| following);
    let code = match linked {
        Some(_) => None,
        None => app.live_line_link_code(id).await?.map(|c| (c.code, app.local_time(c.expires_at))),
    };
    Ok(LinePanel { linked, code })
}

impl LinePanel {
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
