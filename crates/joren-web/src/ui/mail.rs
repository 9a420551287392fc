//! `/settings/mail` (owners): how the shop's mail goes out — test mode or the SMTP server,
//! the sender, the postal address every mail names, quiet hours and caps — and a button that
//! sends a test mail now, so a shop owner can check the settings without the command line.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect};
use joren_app::AppError;
use joren_app::mail::{SmtpSecurity, Transport};

use super::{Checked, Chrome, Staff, UiError, UiResult, back_with_error, render, say_fields, urlencode};
use crate::AppState;

/// The page's words (key, 日本語, English).
pub(crate) const WORDS: &[(&str, &str, &str)] = &[
    ("ml.nav", "メール設定", "Mail settings"),
    ("ml.title", "メールの送信設定", "Mail settings"),
    (
        "ml.help",
        "設定は起動時のオプション・環境変数 (JOREN_SMTP_URL など) で変えます。ここでは今の設定を確かめ、テストメールを送れます。",
        "Settings are changed with the start-up flags or environment (JOREN_SMTP_URL and the like); here you can see them and send a test mail.",
    ),
    ("ml.mode", "送信方法", "Delivery"),
    (
        "ml.test_mode",
        "テストモード (送信せず、送信メールの一覧に残すだけ)",
        "Test mode (nothing is sent; mail is kept in the outbox list)",
    ),
    ("ml.server", "SMTP サーバー", "SMTP server"),
    ("ml.security.none", "暗号化なし", "no encryption"),
    ("ml.security.starttls", "STARTTLS", "STARTTLS"),
    ("ml.security.tls", "TLS", "TLS"),
    ("ml.auth", "認証あり", "with login"),
    ("ml.from", "差出人", "From"),
    ("ml.address", "差出人の住所 (全メールに記載)", "Sender's postal address (in every mail)"),
    ("ml.not_set", "未設定 (お知らせメールには必要です)", "Not set (needed for marketing mail)"),
    ("ml.quiet", "送らない時間帯 (お知らせメール)", "Quiet hours (marketing mail)"),
    ("ml.caps", "1人あたりの上限 (お知らせメール)", "Per-customer limits (marketing mail)"),
    ("ml.per_day", "1日", "a day"),
    ("ml.per_week", "1週間", "a week"),
    ("ml.test", "テストメールを送る", "Send a test mail"),
    ("ml.to", "宛先のメールアドレス", "To (email address)"),
    ("ml.sent", "テストメールを送りました", "Test mail sent"),
    ("ml.kept", "テストモードのため送信せず、記録だけしました", "Test mode: recorded, not sent"),
];

#[derive(Template)]
#[template(path = "mail_settings.html")]
struct MailPage {
    c: Chrome,
    test_mode: bool,
    server: String,
    from: String,
    address: String,
    quiet: String,
    per_day: i64,
    per_week: i64,
    flash: Option<&'static str>,
    message_id: String,
    error: Option<String>,
    to: String,
}

#[derive(serde::Deserialize, Default)]
pub(super) struct MailQuery {
    flash: Option<String>,
    id: Option<String>,
    error: Option<String>,
    to: Option<String>,
}

/// `GET /settings/mail`
pub(super) async fn page(State(s): State<AppState>, Staff { user, t }: Staff, Query(q): Query<MailQuery>) -> UiResult {
    user.actor.require_owner().map_err(|e| UiError::from_app(t, e))?;
    let cfg = &s.app.config.mail;
    let server = match &cfg.transport {
        Transport::Test => String::new(),
        Transport::Smtp { host, port, security, username, .. } => {
            let sec = match security {
                SmtpSecurity::None => "ml.security.none",
                SmtpSecurity::StartTls => "ml.security.starttls",
                SmtpSecurity::Tls => "ml.security.tls",
            };
            let auth = if username.is_some() { format!(" · {}", t.t("ml.auth")) } else { String::new() };
            format!("{host}:{port} ({}){auth}", t.t(sec))
        }
    };
    let flash = match q.flash.as_deref() {
        Some("sent") => Some("ml.sent"),
        Some("kept") => Some("ml.kept"),
        _ => None,
    };
    Ok(render(&MailPage {
        c: Chrome::new(t, &user, "mail", "/settings/mail"),
        test_mode: cfg.test_mode(),
        server,
        from: format!("{} <{}>", cfg.shop_name, cfg.from_address),
        address: cfg.postal_address.clone(),
        quiet: format!("{} – {}", cfg.quiet_from.format("%H:%M"), cfg.quiet_until.format("%H:%M")),
        per_day: cfg.max_per_day,
        per_week: cfg.max_per_week,
        flash,
        message_id: q.id.unwrap_or_default(),
        error: q.error,
        to: q.to.unwrap_or_default(),
    }))
}

#[derive(serde::Deserialize)]
pub(super) struct TestForm {
    to: String,
}

/// `POST /settings/mail/test`: sends a test mail now and says how it went.
pub(super) async fn test(State(s): State<AppState>, Checked { user, t, form }: Checked<TestForm>) -> UiResult {
    // Back to the page with what was typed and why it did not go.
    let back = format!("/settings/mail?to={}", urlencode(form.to.trim()));
    match s.app.send_test_mail(&user.actor, &form.to).await {
        Ok(id) => {
            let flash = if s.app.config.mail.test_mode() { "kept" } else { "sent" };
            Ok(Redirect::to(&format!("/settings/mail?flash={flash}&id={}", urlencode(&id))).into_response())
        }
        Err(AppError::Validation(e)) => Ok(back_with_error(&back, &say_fields(t, &e.0))),
        Err(AppError::Io(e)) => Ok(back_with_error(&back, &e)),
        Err(e) => Err(UiError::from_app(t, e)),
    }
}
