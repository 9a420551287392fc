//! `/settings/channels` (owners): LINE, SMS and mail replies as started — set up or in test
//! mode, the webhook addresses to paste into the LINE and SMS consoles, the mailbox and when it
//! was last read, with a button to read it now. The secrets themselves are start-up settings
//! and never shown.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use joren_app::channels::ChannelStatus;

use super::{Checked, Chrome, CsrfForm, ErrorFlash, Staff, UiError, UiResult, back_with_error, render};
use crate::AppState;

pub(crate) const WORDS: &[(&str, &str, &str)] = &[
    ("ch.nav", "連絡の経路", "Channels"),
    ("ch.title", "連絡の経路 (LINE・SMS・メールの返信)", "Channels (LINE, SMS, mail replies)"),
    (
        "ch.help",
        "鍵やパスワードは起動時の設定 (コマンドのオプションか環境変数) でだけ設定でき、ここには表示されません。README の「設定」の表を見てください。",
        "Keys and passwords are start-up settings (command-line flags or environment variables) and are never shown here; see the settings table in the README.",
    ),
    ("ch.on", "使用中", "On"),
    (
        "ch.test_mode",
        "テストモード (送信されず、送信記録にだけ残ります)",
        "Test mode (nothing is sent; kept in the outbox)",
    ),
    ("ch.off", "未設定", "Not set up"),
    ("ch.line", "LINE 公式アカウント", "LINE Official Account"),
    (
        "ch.line.receiving",
        "受信: LINE からの通知を受け取っています",
        "Receiving: LINE's webhook calls are verified and applied",
    ),
    (
        "ch.line.not_receiving",
        "受信: チャネルシークレット未設定 (LINE からの通知は受け取りません)",
        "Receiving: no channel secret (LINE's calls are refused)",
    ),
    (
        "ch.line.webhook",
        "LINE Developers の「Webhook URL」に入れるアドレス",
        "The webhook URL to enter in the LINE Developers console",
    ),
    ("ch.sms", "SMS", "SMS"),
    ("ch.sms.gateway", "ゲートウェイ", "Gateway"),
    ("ch.sms.from", "送信元", "Sender"),
    ("ch.sms.price", "1通分の料金 (見積もり用)", "Price per segment (for estimates)"),
    ("ch.sms.hours", "シナリオの SMS を送る時間", "Hours scenario texts go out"),
    (
        "ch.sms.webhook",
        "ゲートウェイの受信 Webhook に入れるアドレス (返信・「停止」を受け取ります)",
        "The incoming-message webhook to enter at the gateway (replies and STOP arrive there)",
    ),
    ("ch.mail", "メールの返信", "Mail replies"),
    ("ch.mail.box", "受信するメールボックス", "Mailbox read"),
    (
        "ch.mail.last",
        "最後に受信を確認した日時 (止まっていたらメールボックスに届いていません)",
        "Last read (if it stops moving, the mailbox is out of reach)",
    ),
    ("ch.mail.never", "まだありません", "Not yet"),
    (
        "ch.mail.off",
        "メールボックス未設定: お客様の返信メールは取り込まれません (--imap-url)。",
        "No mailbox: customers' replies by mail are not read (--imap-url).",
    ),
    ("ch.mail.poll", "今すぐ受信", "Read it now"),
    (
        "ch.mail.polled",
        "受信しました: {0}通 (顧客 {1}・未登録 {2}・既読 {3}・対象外 {4})",
        "Read {0} mails ({1} to customers, {2} unknown, {3} seen before, {4} skipped)",
    ),
];

#[derive(Template)]
#[template(path = "channels.html")]
pub(super) struct ChannelsPage {
    c: Chrome,
    s: ChannelStatus,
    last_read: Option<String>,
    flash: Option<String>,
    error: Option<String>,
}

#[derive(serde::Deserialize, Default)]
pub(super) struct PageQuery {
    polled: Option<String>,
}

/// `GET /settings/channels`.
pub(super) async fn page(
    State(s): State<AppState>,
    ErrorFlash(error): ErrorFlash,
    Staff { user, t }: Staff,
    axum::extract::Query(q): axum::extract::Query<PageQuery>,
) -> UiResult {
    let status = s.app.channel_status(&user.actor).await.map_err(|e| UiError::from_app(t, e))?;
    let last_read = status.mail_replies.last_read_at.map(|at| s.app.local_time(at));
    // The counts of a read just done, worded.
    let flash = q.polled.map(|counts| {
        counts
            .split('.')
            .enumerate()
            .fold(t.t("ch.mail.polled").to_string(), |w, (i, n)| w.replace(&format!("{{{i}}}"), n))
    });
    Ok(render(&ChannelsPage {
        c: Chrome::new(t, &user, "settings", "/settings/channels"),
        s: status,
        last_read,
        flash,
        error,
    }))
}

/// `POST /settings/channels/poll`: reads the replies mailbox now.
pub(super) async fn poll(State(s): State<AppState>, Checked { user, t, .. }: Checked<CsrfForm>) -> UiResult {
    match s.app.read_mail_replies_now(&user.actor).await {
        Ok(p) => {
            let counts = format!("{}.{}.{}.{}.{}", p.read, p.to_customers, p.unknown, p.repeated, p.skipped);
            Ok(Redirect::to(&format!("/settings/channels?polled={counts}")).into_response())
        }
        Err(e) => Ok(back_with_error("/settings/channels", &crate::i18n::errors::app_error(&e, t.0))),
    }
}
