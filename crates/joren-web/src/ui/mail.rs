//! `/settings/mail` (owners): how the shop's mail goes out — test mode or the SMTP server,
//! the sender, the postal address every mail names, quiet hours and caps — and a button that
//! sends a test mail now. The owner changes them here (saved over the start-up flags; a reset
//! goes back to the flags), so nothing needs the command line.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect};
use joren_app::AppError;
use joren_app::mail::{MailSettingsInput, MailSource, SmtpSecurity, StoredMail, Transport};

use super::form_state::FormState;
use super::{Checked, Chrome, ErrorFlash, Staff, UiError, UiResult, render, urlencode};
use crate::AppState;

/// The page's words (key, 日本語, English).
pub(crate) const WORDS: &[(&str, &str, &str)] = &[
    ("ml.nav", "メール設定", "Mail settings"),
    ("ml.title", "メールの送信設定", "Mail settings"),
    (
        "ml.help",
        "ここで変えた設定は、起動時のオプション・環境変数 (JOREN_SMTP_URL など) より優先されます。保存したら、テストメールで確かめてください。",
        "Settings saved here take the place of the start-up flags and environment (JOREN_SMTP_URL and the like). After saving, check them with a test mail.",
    ),
    ("ml.edit", "設定を変える", "Change the settings"),
    ("ml.source.saved", "この画面で保存した設定です", "Saved on this page"),
    ("ml.source.flags", "起動時のオプション・環境変数の設定です", "From the start-up flags and environment"),
    (
        "ml.test_only",
        "このデモでは、設定にかかわらずメールは送信されません (テストモード)",
        "In this demo no mail is sent, whatever the settings say (test mode)",
    ),
    ("ml.mode.test", "テストモード (送信しない)", "Test mode (send nothing)"),
    ("ml.mode.smtp", "SMTP サーバーから送る", "Send through an SMTP server"),
    ("ml.host", "サーバー名", "Server"),
    ("ml.port", "ポート", "Port"),
    ("ml.security", "暗号化", "Security"),
    ("ml.username", "ユーザー名 (認証)", "User name (login)"),
    ("ml.password", "パスワード", "Password"),
    ("ml.password_kept", "保存済み (変えるときだけ入力)", "Saved (type only to change it)"),
    ("ml.from_address", "差出人のメールアドレス", "Sender's address"),
    ("ml.shop_name", "差出人名 (店名)", "Sender's name (shop)"),
    ("ml.quiet_from", "送らない時間の始まり", "Quiet from"),
    ("ml.quiet_until", "送らない時間の終わり", "Quiet until"),
    ("ml.max_per_day", "1日の上限 (通)", "At most a day"),
    ("ml.max_per_week", "1週間の上限 (通)", "At most a week"),
    ("ml.caps_help", "0 は上限なし。お知らせメールだけに数えます。", "0 means no limit. Only marketing mail counts."),
    ("ml.save", "保存", "Save"),
    ("ml.saved", "メールの設定を保存しました", "Mail settings saved"),
    ("ml.reset", "起動時の設定に戻す", "Back to the start-up settings"),
    ("ml.reset_done", "起動時の設定に戻しました", "Back to the start-up settings"),
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
    /// Saved on this page (over the start-up flags).
    saved: bool,
    /// Mail never leaves the machine in this process (the demo).
    test_only: bool,
    flash: Option<&'static str>,
    message_id: String,
    error: Option<String>,
    to: String,
    /// Why the test mail did not go (a bad address, the server refused), beside its form.
    to_error: String,
    /// The settings form: values as shown or typed, and each field's error.
    f: FormState,
    has_password: bool,
}

#[derive(serde::Deserialize, Default)]
pub(super) struct MailQuery {
    flash: Option<String>,
    id: Option<String>,
}

/// The form's fields as the settings in force fill them.
fn form_of(m: &StoredMail) -> FormState {
    FormState::new([
        ("mode", if m.smtp { "smtp".to_string() } else { "test".to_string() }),
        ("host", m.host.clone()),
        ("port", m.port.to_string()),
        ("security", m.security.clone()),
        ("username", m.username.clone()),
        ("from_address", m.from_address.clone()),
        ("shop_name", m.shop_name.clone()),
        ("postal_address", m.postal_address.clone()),
        ("quiet_from", m.quiet_from.clone()),
        ("quiet_until", m.quiet_until.clone()),
        ("max_per_day", m.max_per_day.to_string()),
        ("max_per_week", m.max_per_week.to_string()),
    ])
}

/// The form's fields as typed.
fn form_typed(i: &MailSettingsInput) -> FormState {
    FormState::new([
        ("mode", i.mode.clone()),
        ("host", i.host.clone()),
        ("port", i.port.clone()),
        ("security", i.security.clone()),
        ("username", i.username.clone()),
        ("from_address", i.from_address.clone()),
        ("shop_name", i.shop_name.clone()),
        ("postal_address", i.postal_address.clone()),
        ("quiet_from", i.quiet_from.clone()),
        ("quiet_until", i.quiet_until.clone()),
        ("max_per_day", i.max_per_day.clone()),
        ("max_per_week", i.max_per_week.clone()),
    ])
}

/// The page for the settings in force (the summary) with `form` in the editor.
async fn mail_page(
    s: &AppState,
    user: &super::WebUser,
    t: crate::i18n::Tr,
    q: MailQuery,
    error: Option<String>,
) -> Result<MailPage, UiError> {
    let (current, source, has_password) =
        s.app.mail_settings(&user.actor).await.map_err(|e| UiError::from_app(t, e))?;
    let cfg = s.app.mail();
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
        Some("saved") => Some("ml.saved"),
        Some("reset") => Some("ml.reset_done"),
        _ => None,
    };
    Ok(MailPage {
        c: Chrome::new(t, user, "settings", "/settings/mail"),
        test_mode: cfg.test_mode(),
        server,
        from: format!("{} <{}>", cfg.shop_name, cfg.from_address),
        address: cfg.postal_address.clone(),
        quiet: format!("{} – {}", cfg.quiet_from.format("%H:%M"), cfg.quiet_until.format("%H:%M")),
        per_day: cfg.max_per_day,
        per_week: cfg.max_per_week,
        saved: source == MailSource::Saved,
        test_only: s.app.config.mail_test_only,
        flash,
        message_id: q.id.unwrap_or_default(),
        error,
        to: String::new(),
        to_error: String::new(),
        f: form_of(&current),
        has_password,
    })
}

/// `GET /settings/mail`
pub(super) async fn page(
    State(s): State<AppState>,
    ErrorFlash(error): ErrorFlash,
    Staff { user, t }: Staff,
    Query(q): Query<MailQuery>,
) -> UiResult {
    Ok(render(&mail_page(&s, &user, t, q, error).await?))
}

/// `POST /settings/mail`: saves the settings (owners); a refused form comes back with what
/// was typed and each error beside its field.
pub(super) async fn save(State(s): State<AppState>, Checked { user, t, form }: Checked<MailSettingsInput>) -> UiResult {
    match s.app.set_mail_settings(&user.actor, &form).await {
        Ok(()) => Ok(Redirect::to("/settings/mail?flash=saved").into_response()),
        Err(AppError::Validation(e)) => {
            let mut page = mail_page(&s, &user, t, MailQuery::default(), None).await?;
            page.f = form_typed(&form);
            page.f.refuse(&e.0, t);
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
        Err(e) => Err(UiError::from_app(t, e)),
    }
}

#[derive(serde::Deserialize)]
pub(super) struct Empty {}

/// `POST /settings/mail/reset`: back to the start-up settings (owners).
pub(super) async fn reset(State(s): State<AppState>, Checked { user, t, .. }: Checked<Empty>) -> UiResult {
    s.app.reset_mail_settings(&user.actor).await.map_err(|e| UiError::from_app(t, e))?;
    Ok(Redirect::to("/settings/mail?flash=reset").into_response())
}

#[derive(serde::Deserialize)]
pub(super) struct TestForm {
    to: String,
}

/// `POST /settings/mail/test`: sends a test mail now and says how it went.
pub(super) async fn test(State(s): State<AppState>, Checked { user, t, form }: Checked<TestForm>) -> UiResult {
    let why = match s.app.send_test_mail(&user.actor, &form.to).await {
        Ok(id) => {
            let flash = if s.app.mail().test_mode() { "kept" } else { "sent" };
            return Ok(Redirect::to(&format!("/settings/mail?flash={flash}&id={}", urlencode(&id))).into_response());
        }
        Err(AppError::Validation(e)) => {
            e.0.iter().map(|e| crate::i18n::errors::field_error(e, t.0)).collect::<Vec<_>>()
        }
        // The server's own answer (refused, unreachable): the owner needs its words.
        Err(AppError::Io(e)) => vec![e],
        Err(e) => return Err(UiError::from_app(t, e)),
    };
    // The page again with the address as typed and why the mail did not go beside it.
    let mut page = mail_page(&s, &user, t, MailQuery::default(), None).await?;
    page.to = form.to;
    page.to_error = why.join(" ");
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}
