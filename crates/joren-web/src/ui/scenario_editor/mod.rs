//! `/scenarios/new` and `/scenarios/{id}/edit`: the scenario editor. The whole scenario is
//! one form — the trigger, who may enter, what ends it early, the control share and the steps
//! in order, each step's fields by its kind — and every button posts the form back: add a
//! step, move one up or down, remove one, fill a mail from the ready messages, preview a mail
//! with a real customer, count who would enter, save. Nothing typed is lost on any of them,
//! and an error stands next to its field. No JSON to write (a custom condition may be given
//! in the segment filter language for those who want it).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use joren_app::AppError;
use joren_app::scenarios::{EntrantsBasis, ScenarioInput};
use joren_core::customer::CONSENT_CHANNELS;
use joren_core::scenario::Definition;
use joren_core::text::parse_int;

use super::{Checked, Chrome, Staff, UiError, UiResult, WebUser, render};
use crate::AppState;
use crate::i18n::{Lang, Tr};

/// The editor's words (key, 日本語, English).
pub(crate) const WORDS: &[(&str, &str, &str)] = &[
    ("se.new", "新しいシナリオ", "New scenario"),
    ("se.edit", "シナリオを編集", "Edit scenario"),
    ("se.back", "シナリオ一覧へ", "Back to scenarios"),
    (
        "se.help",
        "上から順に実行されます。待つステップで止まり、時間が来たら次へ進みます。保存すると新しい版になり、途中のお客様は入ったときの版のまま最後まで進みます。",
        "Steps run from the top. A wait stops the customer there until its time comes. Saving makes a new version; customers already in it finish the version they entered.",
    ),
    ("se.trigger_days", "日数 (回数券の残りは回数)", "Days (visits left for a ticket book)"),
    ("se.trigger_segment", "分類", "Segment"),
    ("se.trigger_change", "会員の変化", "Membership change"),
    ("se.trigger_stage", "新しい段階", "The new stage"),
    ("se.change.any", "どれでも", "Any"),
    ("se.change.renewed", "更新", "Renewed"),
    ("se.change.paused", "休会", "Paused"),
    ("se.change.cancelled", "退会", "Cancelled"),
    ("se.trigger.first_purchase", "初回購入から N 日後", "N days after the first purchase"),
    ("se.trigger.last_purchase", "最後の購入から N 日後 (その後買っていない)", "N days after the last purchase"),
    ("se.trigger.segment_entered", "分類 (RFM) に入ったとき", "Enters an RFM segment"),
    ("se.trigger.segment_left", "分類 (RFM) から外れたとき", "Leaves an RFM segment"),
    ("se.entry_days", "日数", "Days"),
    ("se.trigger.overdue", "次回購入の予定日を N 日過ぎても来ないとき", "N days past the expected next purchase"),
    ("se.trigger.points_expiring", "ポイントの失効 N 日前", "N days before points expire"),
    ("se.trigger.ticket_low", "回数券の残りが N 回になったとき", "A ticket book is down to N visits"),
    (
        "se.trigger.ticket_expiring",
        "回数券の期限 N 日前 (残りがあるとき)",
        "N days before a ticket book with visits left expires",
    ),
    ("se.trigger.membership_renewal", "会員の更新日 N 日前", "N days before a membership renews"),
    ("se.kind.start", "別のシナリオを始める", "Start another scenario"),
    ("se.trigger.saved_entered", "保存セグメントに入ったとき (毎日確認)", "Enters a saved segment (checked daily)"),
    ("se.trigger.saved_left", "保存セグメントから外れたとき (毎日確認)", "Leaves a saved segment (checked daily)"),
    ("se.trigger_saved", "保存セグメント", "Saved segment"),
    ("se.scenario", "始めるシナリオ", "Scenario to start"),
    ("se.err.scenario", "シナリオを選んでください", "Choose a scenario"),
    (
        "se.holdout_help",
        "何もしないで比べるお客様の割合 (0〜50%)。効果を測るには10%ほどが目安です。",
        "Share of customers who get nothing, to compare against (0–50 %). About 10 % lets you measure the effect.",
    ),
    ("se.steps", "ステップ", "Steps"),
    ("se.no_steps", "ステップがまだありません。下から追加してください。", "No steps yet. Add one below."),
    ("se.add", "ステップを追加", "Add a step"),
    ("se.add_button", "追加", "Add"),
    ("se.up", "上へ", "Up"),
    ("se.down", "下へ", "Down"),
    ("se.remove", "削除", "Remove"),
    ("se.kind.wait", "待つ (日数・時間)", "Wait (days, hours)"),
    ("se.kind.wait_until", "時刻・曜日まで待つ", "Wait until a time or weekday"),
    ("se.kind.wait_for_order", "次の注文まで待つ", "Wait for the next order"),
    ("se.kind.check", "条件で分ける", "Check a condition"),
    ("se.kind.email", "メールを送る", "Send a mail"),
    ("se.kind.line", "LINE を送る", "Send a LINE message"),
    ("se.line_text", "メッセージ", "Message"),
    ("se.line_card", "カード (画像とボタン、任意)", "Card (an image and a button, optional)"),
    ("se.card_image", "画像のアドレス (https://)", "Image address (https://)"),
    ("se.card_title", "画像の下の一文", "A line under the image"),
    ("se.card_label", "ボタンの文字", "Button label"),
    ("se.card_url", "ボタンで開くページ", "Page the button opens"),
    (
        "se.quick_replies",
        "すぐに返せるボタン (「、」で区切る。例: はい、いいえ)",
        "One-tap answers (separated by commas, e.g. Yes, No)",
    ),
    (
        "se.line_marketing",
        "お知らせ・宣伝 (友だち追加していてブロックしていない方にだけ送ります)",
        "Marketing (only to customers who follow the account)",
    ),
    ("se.kind.sms", "SMS を送る", "Send an SMS"),
    ("se.kind.survey", "アンケートを送る", "Send a survey"),
    ("se.survey", "アンケート", "Survey"),
    ("se.survey_channel", "送り方", "Send by"),
    ("se.survey_text", "メッセージ (リンクは自動で付きます)", "Message (the link is added for you)"),
    (
        "se.survey_help",
        "メールでは最初の質問 (NPS・満足度など) の点数がそのまま押せるボタンになります。",
        "In a mail the first question's scores (NPS, satisfaction, …) become buttons to tap.",
    ),
    ("se.survey_marketing", "広告を含む (同意した人だけに送る)", "Contains advertising (only to those who agreed)"),
    ("se.err.survey", "アンケートを選んでください", "Choose a survey"),
    ("se.no_surveys", "アンケートがまだありません。先に作ってください: ", "No surveys yet. Make one first: "),
    (
        "se.sms_help",
        "全角70文字 (半角英数160文字) で1通。長い文は67文字ごとに1通として数えられ、最長10通まで。朝9時〜夜8時にだけ送ります。",
        "70 Japanese characters (160 plain ASCII) make one segment; longer texts count 67 per segment, at most 10. Sent only between 9:00 and 20:00.",
    ),
    (
        "se.sms_marketing",
        "お知らせ・宣伝 (SMS の受け取りに同意した方にだけ送ります)",
        "Marketing (only to customers who agreed to SMS)",
    ),
    ("se.kind.task", "担当者の予定を作る (電話・手紙・訪問)", "Make a task (call, letter, visit)"),
    ("se.kind.tag", "タグを付ける・外す", "Add or remove a tag"),
    ("se.kind.points", "ポイントを付ける", "Grant points"),
    ("se.days", "日", "Days"),
    ("se.hours", "時間", "Hours"),
    ("se.time", "時刻 (例 10:00)", "Time (e.g. 10:00)"),
    ("se.weekday", "曜日", "Weekday"),
    ("se.weekday.any", "毎日", "Any day"),
    ("se.timeout_days", "最長で待つ日数", "Wait at most (days)"),
    ("se.then", "期限までに注文があったら", "If they order in time"),
    ("se.then.exit", "終了する", "End the scenario for them"),
    ("se.then.skip", "次のステップを飛ばす", "Skip the next steps"),
    ("se.skip_n", "飛ばす数", "How many to skip"),
    ("se.condition", "条件", "Condition"),
    ("se.condition.none", "条件なし", "No condition"),
    ("se.condition.rfm", "分類 (RFM)", "RFM segment"),
    ("se.condition.saved", "保存セグメント", "Saved segment"),
    ("se.condition.custom", "条件を組み立てる", "Build the conditions"),
    (
        "se.filter",
        "条件 (セグメントと同じ組み立て方、いま当てはまる人数つき)",
        "Conditions (built as for a segment, with how many match now)",
    ),
    ("se.consent", "同意の確認", "Consent"),
    ("se.consent.none", "確認しない", "Do not check"),
    ("se.consent.email", "メール配信に同意している", "Has agreed to email"),
    ("se.consent.sms", "SMS に同意している", "Has agreed to SMS"),
    ("se.consent.line", "LINE に同意している", "Has agreed to LINE"),
    ("se.consent.dm", "DM 送付に同意している", "Has agreed to direct mail"),
    ("se.otherwise", "合わないときは", "If not"),
    ("se.library", "保存した文面・用意された文面から", "From a saved or ready message"),
    ("se.library.pick", "選んでください", "Choose one"),
    ("se.library.use", "この文面を使う", "Use this message"),
    ("se.subject", "件名", "Subject"),
    ("se.body", "本文", "Body"),
    (
        "se.marketing",
        "お知らせ・宣伝 (配信に同意した方にだけ送り、配信停止のリンクを付けます)",
        "Marketing (only to customers who agreed; carries an unsubscribe link)",
    ),
    ("se.variables", "差し込める項目", "Variables you can use"),
    ("se.preview_customer", "顧客番号 (空欄なら見本)", "Customer number (blank for a sample)"),
    ("se.preview_mail", "このお客様で見る", "Preview for this customer"),
    ("se.preview_subject", "件名", "Subject"),
    ("se.task", "種類", "Kind"),
    ("se.title", "内容", "What to do"),
    ("se.due_days", "期限 (作ってから何日)", "Due (days after it is made)"),
    ("se.tag_add", "付けるタグ", "Tag to add"),
    ("se.tag_remove", "外すタグ", "Tag to remove"),
    ("se.points", "ポイント", "Points"),
    ("se.reason", "理由 (お客様の履歴に出ます)", "Reason (shown in the customer's history)"),
    ("se.preview", "いま入る人を数える", "Count who would enter"),
    (
        "se.entrants.manual",
        "手動のシナリオです。お客様は1人ずつ、または保存セグメントごとに入れます。",
        "A scenario entered by hand: one customer at a time or a saved segment at once.",
    ),
    ("se.entrants.today", "今日このきっかけに当たるお客様", "Customers this trigger picks today"),
    (
        "se.entrants.in_segment",
        "いまこの分類にいるお客様 (これから入る人ではなく、目安です)",
        "Customers in this segment now (a guide: they enter when they move in)",
    ),
    (
        "se.entrants.last_days",
        "直近30日に同じきっかけがあったお客様",
        "Customers this trigger started for in the last 30 days",
    ),
    ("se.entrants.note", "入る条件と対照群の前の人数です。", "Before the entry rule and the control group."),
    ("se.save", "保存する", "Save"),
    ("se.saved", "保存しました。新しく入るお客様はこの版で進みます。", "Saved. New entrants follow this version."),
    ("se.fix", "赤い項目を直してから保存してください。", "Fix the fields in red, then save."),
    ("se.err.number", "数字で入れてください", "Enter a number"),
    ("se.err.json", "条件式が JSON として読めません", "The filter is not valid JSON"),
    ("se.err.segment", "分類かセグメントを選んでください", "Choose a segment"),
    ("se.err.kind", "ステップの種類が正しくありません", "Unknown kind of step"),
    ("se.err.too_many", "ステップが多すぎます", "Too many steps"),
    ("se.edit_link", "編集する", "Edit"),
    ("se.no_customer", "その番号のお客様はいません", "No customer has that number"),
];

mod form;

use form::{CHANGES, Form, KINDS, MailPreview, TRIGGERS};

struct Entrants {
    words: &'static str,
    count: Option<usize>,
    sample: Vec<(i64, String)>,
}

#[derive(Template)]
#[template(path = "scenario_edit.html")]
struct EditorPage {
    c: Chrome,
    id: Option<i64>,
    f: Form,
    kinds: Vec<(&'static str, &'static str)>,
    triggers: Vec<(&'static str, &'static str)>,
    rfm: Vec<(&'static str, &'static str)>,
    saved: Vec<(i64, String)>,
    scenarios: Vec<(i64, String)>,
    surveys: Vec<(i64, String)>,
    library: Vec<(String, String)>,
    channels: Vec<(&'static str, &'static str)>,
    changes: Vec<(&'static str, &'static str)>,
    /// The customer-success stages a stage trigger may name.
    stages: Vec<(&'static str, &'static str)>,
    weekdays: Vec<(u32, &'static str)>,
    variables: Vec<(&'static str, &'static str)>,
    entrants: Option<Entrants>,
    can_write: bool,
    /// The segment builder's fields (JSON), for a check step's conditions.
    fields: String,
}

impl EditorPage {
    fn kind_label(&self, kind: &str) -> &'static str {
        self.kinds.iter().find(|(k, _)| *k == kind).map(|(_, l)| *l).unwrap_or("?")
    }
}

async fn page(
    s: &AppState,
    t: Tr,
    user: &WebUser,
    id: Option<i64>,
    f: Form,
    entrants: Option<Entrants>,
) -> Result<EditorPage, UiError> {
    let err = |e| UiError::from_app(t, e);
    let en = t.0 == Lang::En;
    let path = id.map(|i| format!("/scenarios/{i}/edit")).unwrap_or_else(|| "/scenarios/new".into());
    let saved = s.app.saved_segments().await.map_err(err)?.into_iter().map(|g| (g.id, g.name)).collect();
    let weekdays = if en {
        ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    } else {
        ["月曜日", "火曜日", "水曜日", "木曜日", "金曜日", "土曜日", "日曜日"]
    };
    Ok(EditorPage {
        c: Chrome::new(t, user, "scenarios", path),
        id,
        f,
        kinds: KINDS.iter().map(|k| (*k, t.t(&format!("se.kind.{k}")))).collect(),
        triggers: TRIGGERS.iter().map(|(code, key)| (*code, t.t(key))).collect(),
        rfm: joren_app::metrics::segment_choices(en),
        saved,
        scenarios: s
            .app
            .scenarios()
            .await
            .map_err(err)?
            .into_iter()
            .filter(|x| Some(x.id) != id)
            .map(|x| (x.id, x.name))
            .collect(),
        surveys: s.app.survey_choices().await.map_err(err)?,
        // The shop's saved messages first, then the ready ones.
        library: s
            .app
            .message_templates()
            .await
            .map_err(err)?
            .into_iter()
            .map(|m| (format!("saved:{}", m.id), format!("{}: {}", t.t("mt.title"), m.name)))
            .chain(joren_app::scenario_templates::ready_messages(t.lang()).into_iter().map(|m| (m.key, m.label)))
            .collect(),
        channels: CONSENT_CHANNELS.iter().map(|c| (*c, t.t(&format!("se.consent.{c}")))).collect(),
        changes: CHANGES.iter().map(|c| (*c, t.t(&format!("se.change.{c}")))).collect(),
        stages: super::stages::choices(t),
        weekdays: weekdays.into_iter().enumerate().map(|(i, w)| (i as u32 + 1, w)).collect(),
        variables: joren_core::template::VARIABLES.iter().map(|(n, ja, e)| (*n, if en { *e } else { *ja })).collect(),
        entrants,
        can_write: user.actor.role.can_write(),
        fields: super::segments::field_catalogue(t),
    })
}

/// `GET /scenarios/new`: a blank scenario (an order starts it, one mail).
pub(super) async fn new_page(State(s): State<AppState>, Staff { user, t }: Staff) -> UiResult {
    Ok(render(&page(&s, t, &user, None, Form::blank(), None).await?))
}

/// `GET /scenarios/{id}/edit`: the scenario's current version in the editor.
pub(super) async fn edit_page(State(s): State<AppState>, Staff { user, t }: Staff, Path(id): Path<i64>) -> UiResult {
    let sc = s.app.scenario(id).await.map_err(|e| UiError::from_app(t, e))?;
    let def: Definition = serde_json::from_value(sc.definition.clone())
        .map_err(|e| UiError::from_app(t, AppError::Internal(e.to_string())))?;
    Ok(render(&page(&s, t, &user, Some(id), Form::from_definition(&sc.name, &def), None).await?))
}

/// `POST /scenarios/new`
pub(super) async fn create(
    State(s): State<AppState>,
    Checked { user, t, form }: Checked<Vec<(String, String)>>,
) -> UiResult {
    submit(s, t, user, None, form).await
}

/// `POST /scenarios/{id}/edit`
pub(super) async fn update(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form }: Checked<Vec<(String, String)>>,
) -> UiResult {
    s.app.scenario(id).await.map_err(|e| UiError::from_app(t, e))?;
    submit(s, t, user, Some(id), form).await
}

async fn submit(s: AppState, t: Tr, user: WebUser, id: Option<i64>, pairs: Vec<(String, String)>) -> UiResult {
    let (mut f, op) = Form::from_pairs(pairs);
    let mut entrants = None;
    match op.split_once(':').unwrap_or((op.as_str(), "")) {
        ("save", _) => {
            if let Some(def) = f.definition(t) {
                let input = ScenarioInput {
                    name: f.top.v("name").to_string(),
                    definition: serde_json::to_value(&def).unwrap_or_default(),
                };
                let saved = match id {
                    Some(id) => s.app.update_scenario(&user.actor, id, input).await,
                    None => s.app.create_scenario(&user.actor, input).await,
                };
                match saved {
                    Ok(sc) => return Ok(Redirect::to(&format!("/scenarios/{}?flash=saved", sc.id)).into_response()),
                    Err(AppError::Validation(e)) => f.place_errors(&e, t.0),
                    Err(e) => return Err(UiError::from_app(t, e)),
                }
            }
            if f.has_errors() {
                f.general.insert(0, t.t("se.fix").into());
            }
            let page = page(&s, t, &user, id, f, None).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response());
        }
        ("preview", _) => {
            entrants = Some(match f.definition(t) {
                Some(def) => {
                    let e = s.app.scenario_entrants(&def).await.map_err(|e| UiError::from_app(t, e))?;
                    let words = match e.basis {
                        EntrantsBasis::Manual => "se.entrants.manual",
                        EntrantsBasis::Today => "se.entrants.today",
                        EntrantsBasis::InSegmentNow => "se.entrants.in_segment",
                        EntrantsBasis::LastDays(_) => "se.entrants.last_days",
                    };
                    let count = (e.basis != EntrantsBasis::Manual).then_some(e.count);
                    Entrants { words: t.t(words), count, sample: e.sample }
                }
                None => Entrants { words: t.t("se.fix"), count: None, sample: Vec::new() },
            });
        }
        ("mail", i) => {
            if let Some(step) = i.parse::<usize>().ok().and_then(|i| f.steps.get_mut(i)) {
                let customer = parse_int(step.v("preview_customer"));
                if !step.v("preview_customer").trim().is_empty() && customer.is_none() {
                    step.errors.insert("preview_customer".into(), t.t("se.err.number").into());
                } else {
                    match s
                        .app
                        .preview_message(step.v("subject"), step.v("body"), step.is("marketing", "1"), customer)
                        .await
                    {
                        Ok(p) => step.preview = Some(MailPreview { subject: p.subject, html: p.html }),
                        Err(AppError::Validation(e)) => {
                            for fe in e.0 {
                                step.errors
                                    .entry(fe.field.clone())
                                    .or_insert_with(|| crate::i18n::errors::field_error(&fe, t.0));
                            }
                        }
                        Err(AppError::NotFound(_)) => {
                            step.errors.insert("preview_customer".into(), t.t("se.no_customer").into());
                        }
                        Err(e) => return Err(UiError::from_app(t, e)),
                    }
                }
            }
        }
        ("library", i) => {
            // A saved message of the shop's ("saved:ID"), read now; a ready one by the form.
            let step = i.parse::<usize>().ok().and_then(|i| f.steps.get_mut(i));
            match step.as_ref().and_then(|s| s.v("library").strip_prefix("saved:")).and_then(|x| x.parse().ok()) {
                Some(saved) => {
                    let m = s.app.message_template(saved).await.map_err(|e| UiError::from_app(t, e))?;
                    if let Some(step) = step {
                        step.set("subject", m.subject);
                        step.set("body", m.body);
                        step.set("marketing", if m.marketing { "1" } else { "" });
                    }
                }
                None => {
                    f.apply(&op, t);
                }
            }
        }
        _ => {
            f.apply(&op, t);
        }
    }
    Ok(render(&page(&s, t, &user, id, f, entrants).await?))
}
