//! `/settings/webhooks` (owners): the URLs that receive the shop's events, each with its signing
//! secret, a test button, on/off and removal; and the delivery log — when, what, whether it
//! arrived, the answer's status and time, why it failed — with "send again" for a failed one.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use joren_app::AppError;
use joren_app::webhooks::WebhookInput;

use super::form_state::FormState;
use super::{Checked, Chrome, CsrfForm, ErrorFlash, Staff, UiError, UiResult, back_with_error, render};
use crate::AppState;
use crate::auth::WebUser;
use crate::i18n::Tr;

pub(crate) const WORDS: &[(&str, &str, &str)] = &[
    ("wh.nav", "Webhook", "Webhooks"),
    ("wh.title", "Webhook (外部連携)", "Webhooks (integrations)"),
    (
        "wh.help",
        "注文やランクの変化などが起きると、登録したアドレスへ JSON を送ります (Standard Webhooks 方式の署名付き: webhook-id・webhook-timestamp・webhook-signature)。受け取れなかったときは間隔をあけて最大8回送り直し、それでも届かなければ理由とともに「失敗」として残ります。",
        "When an order is placed, a rank changes and so on, Joren POSTs JSON to the addresses below, signed the Standard Webhooks way (webhook-id, webhook-timestamp, webhook-signature). A delivery that is not accepted is sent again, up to 8 times with growing pauses; one that still fails stays here as failed, with why.",
    ),
    ("wh.add", "送り先を追加", "Add a receiver"),
    ("wh.url", "送り先のアドレス (https://…)", "Receiver address (https://…)"),
    ("wh.description", "メモ", "Note"),
    ("wh.events", "送るできごと", "Events to send"),
    ("wh.all", "すべて", "All of them"),
    ("wh.save", "追加する", "Add"),
    ("wh.none", "送り先はまだありません。", "No receivers yet."),
    ("wh.secret", "署名の鍵", "Signing secret"),
    ("wh.on", "送信中", "On"),
    ("wh.off", "停止中", "Off"),
    ("wh.test", "テスト送信", "Send a test"),
    ("wh.turn_off", "停止する", "Turn off"),
    ("wh.turn_on", "再開する", "Turn on"),
    ("wh.delete", "削除", "Delete"),
    (
        "wh.tested",
        "テストを送信待ちに入れました。数秒後に下の記録に出ます。",
        "Test queued: it shows in the log below in a few seconds.",
    ),
    ("wh.log", "送信の記録", "Delivery log"),
    ("wh.log.none", "まだ送信はありません。", "Nothing sent yet."),
    ("wh.when", "日時", "When"),
    ("wh.what", "できごと", "Event"),
    ("wh.to", "送り先", "To"),
    ("wh.state", "状態", "State"),
    ("wh.answer", "応答", "Answer"),
    ("wh.why", "理由", "Why"),
    ("wh.retry", "再送", "Send again"),
    ("wh.state.queued", "送信待ち", "Waiting"),
    ("wh.state.sending", "送信中", "Sending"),
    ("wh.state.delivered", "届いた", "Delivered"),
    ("wh.state.failed", "失敗", "Failed"),
    ("wh.ev.order.placed", "注文", "Order placed"),
    ("wh.ev.order.refunded", "返金", "Order refunded"),
    ("wh.ev.order.cancelled", "注文キャンセル", "Order cancelled"),
    ("wh.ev.rank.changed", "ランクの変化", "Rank changed"),
    ("wh.ev.membership.changed", "定期便・会員の変化", "Membership changed"),
    ("wh.ev.segment.moved", "セグメントの移動", "Segment moved"),
    ("wh.ev.consent.changed", "配信同意の変化", "Consent changed"),
    ("wh.ev.survey.answered", "アンケート回答", "Survey answered"),
    ("wh.ev.points.granted", "ポイント付与", "Points granted"),
    ("wh.ev.points.expired", "ポイント失効", "Points expired"),
    ("wh.ev.customer.created", "顧客の登録", "Customer created"),
    ("wh.ev.customer.updated", "顧客情報の変更", "Customer updated"),
    ("wh.ev.scenario.step", "シナリオの進行", "Scenario step"),
    ("wh.ev.case.opened", "苦情・問い合わせの受付", "Case opened"),
    ("wh.ev.case.closed", "苦情・問い合わせの完了", "Case closed"),
    ("wh.ev.stage.changed", "顧客の段階の変化", "Success stage changed"),
    ("wh.ev.webhook.test", "テスト", "Test"),
];

/// An event kind as a word key.
fn event_key(kind: &str) -> String {
    format!("wh.ev.{kind}")
}

pub(super) struct SubRow {
    id: i64,
    url: String,
    description: String,
    events: Vec<String>,
    all: bool,
    active: bool,
    secret: String,
}

pub(super) struct LogRow {
    id: i64,
    when: String,
    what: String,
    to: String,
    state: String,
    failed: bool,
    answer: String,
    why: String,
}

#[derive(Template)]
#[template(path = "webhooks.html")]
pub(super) struct WebhooksPage {
    c: Chrome,
    subs: Vec<SubRow>,
    log: Vec<LogRow>,
    /// (kind, word key) of every event a receiver may ask for.
    kinds: Vec<(&'static str, String)>,
    /// The add form as typed (`url`, `description`) with its problems, and the kinds ticked.
    f: FormState,
    chosen: Vec<String>,
    flash: Option<String>,
    error: Option<String>,
}

#[derive(serde::Deserialize, Default)]
pub(super) struct PageQuery {
    tested: Option<String>,
}

/// `GET /settings/webhooks`.
pub(super) async fn page(
    State(s): State<AppState>,
    ErrorFlash(error): ErrorFlash,
    Staff { user, t }: Staff,
    axum::extract::Query(q): axum::extract::Query<PageQuery>,
) -> UiResult {
    let flash = q.tested.map(|_| t.t("wh.tested").to_string());
    webhooks_page(&s, t, &user, (FormState::default(), Vec::new()), flash, error).await
}

async fn webhooks_page(
    s: &AppState,
    t: Tr,
    me: &WebUser,
    (f, chosen): (FormState, Vec<String>),
    flash: Option<String>,
    error: Option<String>,
) -> UiResult {
    let err = |e| UiError::from_app(t, e);
    let subs = s
        .app
        .webhooks(&me.actor)
        .await
        .map_err(err)?
        .into_iter()
        .map(|w| SubRow {
            id: w.id,
            all: w.events.iter().any(|e| e == "*"),
            events: w.events.iter().filter(|e| *e != "*").map(|e| event_key(e)).collect(),
            url: w.url,
            description: w.description,
            active: w.active,
            secret: w.secret,
        })
        .collect();
    let log = s
        .app
        .webhook_deliveries(&me.actor, None, None, 100)
        .await
        .map_err(err)?
        .into_iter()
        .map(|d| LogRow {
            id: d.id,
            when: s.app.local_time(d.delivered_at.unwrap_or(d.created_at)),
            what: event_key(&d.kind),
            to: d.url,
            failed: d.state == "failed",
            state: format!("wh.state.{}", d.state),
            answer: match (d.last_status, d.response_ms) {
                (Some(st), Some(ms)) => format!("{st} · {ms} ms"),
                (Some(st), None) => st.to_string(),
                (None, Some(ms)) => format!("{ms} ms"),
                (None, None) => String::new(),
            },
            why: d.last_error.unwrap_or_default(),
        })
        .collect();
    let kinds = joren_app::webhooks::event_kinds().into_iter().map(|k| (k, event_key(k))).collect();
    let refused = !f.errors.is_empty();
    let mut page = render(&WebhooksPage {
        c: Chrome::new(t, me, "settings", "/settings/webhooks"),
        subs,
        log,
        kinds,
        f,
        chosen,
        flash,
        error,
    });
    if refused {
        *page.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(page)
}

/// `POST /settings/webhooks`: adds a receiver; refused, the form comes back as typed with each
/// problem beside its field.
pub(super) async fn create(
    State(s): State<AppState>,
    Checked { user, t, form }: Checked<Vec<(String, String)>>,
) -> UiResult {
    let value = |k: &str| form.iter().find(|(x, _)| x == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let events: Vec<String> = form.iter().filter(|(k, _)| k == "events").map(|(_, v)| v.clone()).collect();
    let input =
        WebhookInput { url: value("url"), events: events.clone(), description: value("description"), active: None };
    match s.app.create_webhook(&user.actor, input).await {
        Ok(_) => Ok(Redirect::to("/settings/webhooks").into_response()),
        Err(AppError::Validation(e)) => {
            let mut f = FormState::new([("url", value("url")), ("description", value("description"))]);
            f.refuse(&e.0, t);
            webhooks_page(&s, t, &user, (f, events), None, None).await
        }
        Err(e) => Err(UiError::from_app(t, e)),
    }
}

/// `POST /settings/webhooks/{id}/test`.
pub(super) async fn test(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, .. }: Checked<CsrfForm>,
) -> UiResult {
    s.app.test_webhook(&user.actor, id).await.map_err(|e| UiError::from_app(t, e))?;
    Ok(Redirect::to("/settings/webhooks?tested=1").into_response())
}

/// `POST /settings/webhooks/{id}/toggle`: on ⇄ off, the rest as it was.
pub(super) async fn toggle(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, .. }: Checked<CsrfForm>,
) -> UiResult {
    let err = |e| UiError::from_app(t, e);
    let hook = s.app.webhooks(&user.actor).await.map_err(err)?.into_iter().find(|w| w.id == id);
    let hook = hook.ok_or_else(|| err(AppError::NotFound("webhook")))?;
    let input =
        WebhookInput { url: hook.url, events: hook.events, description: hook.description, active: Some(!hook.active) };
    s.app.update_webhook(&user.actor, id, input).await.map_err(err)?;
    Ok(Redirect::to("/settings/webhooks").into_response())
}

/// `POST /settings/webhooks/{id}/delete`.
pub(super) async fn delete(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, .. }: Checked<CsrfForm>,
) -> UiResult {
    s.app.delete_webhook(&user.actor, id).await.map_err(|e| UiError::from_app(t, e))?;
    Ok(Redirect::to("/settings/webhooks").into_response())
}

/// `POST /settings/webhooks/deliveries/{id}/retry`: a delivery sent again meanwhile says why.
pub(super) async fn retry(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, .. }: Checked<CsrfForm>,
) -> UiResult {
    match s.app.retry_webhook_delivery(&user.actor, id).await {
        Ok(_) => Ok(Redirect::to("/settings/webhooks").into_response()),
        Err(e @ AppError::Conflict(_)) => {
            Ok(back_with_error("/settings/webhooks", &crate::i18n::errors::app_error(&e, t.0)))
        }
        Err(e) => Err(UiError::from_app(t, e)),
    }
}
