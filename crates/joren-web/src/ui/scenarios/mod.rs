//! `/scenarios`: the follow-up scenarios — the list with the ready ones to start from, and
//! each scenario's page: its timeline in words (steps in order, waits in days and hours, what
//! each action sends or asks of whom), where its customers stand, what it sent, activate /
//! pause, and enrolling one customer by hand.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use joren_app::AppError;
use joren_app::scenarios::Status;
use joren_core::scenario::{Definition, EntryRule};

mod describe;

use super::form_state::FormState;
use super::{Checked, Chrome, ErrorFlash, Staff, UiError, UiResult, back_with_error, render};
use crate::AppState;
use crate::i18n::Tr;
use axum::http::StatusCode;
use describe::{step_words, trigger_words};

/// The pages' words (key, 日本語, English).
pub(crate) const WORDS: &[(&str, &str, &str)] = &[
    ("sc.nav", "フォロー自動化", "Follow-ups"),
    ("sc.title", "シナリオ", "Scenarios"),
    (
        "sc.help",
        "きっかけ (購入・誕生日・休眠など) があったお客様に、決めた順番と間隔でメールを送り、電話・手紙・訪問の予定を担当者の「今日の連絡」に入れます。一部のお客様には何もしない対照群を残し、効果を比べます。",
        "When something happens to a customer (a purchase, a birthday, going quiet), a scenario sends mail in the order and at the intervals you set, and puts calls, letters and visits on your staff's contact list. A control group that gets nothing shows what it really changes.",
    ),
    ("sc.ready", "テンプレートから始める", "Start from a template"),
    ("sc.use", "このテンプレートで作る", "Use this template"),
    (
        "sc.none",
        "シナリオはまだありません。下のテンプレートから始められます。",
        "No scenarios yet. Start from a template below.",
    ),
    ("sc.name", "名前", "Name"),
    ("sc.trigger", "きっかけ", "Starts when"),
    ("sc.status", "状態", "Status"),
    ("sc.version", "版", "Version"),
    ("sc.status.draft", "下書き", "Draft"),
    ("sc.status.active", "有効", "Active"),
    ("sc.status.paused", "一時停止", "Paused"),
    ("sc.activate", "有効にする", "Activate"),
    ("sc.pause", "一時停止する", "Pause"),
    (
        "sc.created",
        "シナリオを作りました (下書き)。内容を確かめてから有効にしてください。",
        "Scenario created as a draft. Check it, then activate it.",
    ),
    (
        "sc.activated",
        "有効にしました。これからきっかけがあったお客様が入ります。",
        "Active: customers enter from now on.",
    ),
    (
        "sc.paused_msg",
        "一時停止しました。途中のお客様はその場で待ちます。",
        "Paused: customers in it wait where they are.",
    ),
    ("sc.steps", "流れ", "Timeline"),
    ("sc.waiting_here", "ここで待っている人", "waiting here"),
    ("sc.entry", "入る条件", "Who may enter"),
    ("sc.exit", "途中で終わる", "Ends early"),
    ("sc.holdout", "対照群", "Control group"),
    ("sc.runs", "お客様の状況", "Customers"),
    ("sc.run.waiting", "進行中", "In progress"),
    ("sc.run.done", "完了", "Finished"),
    ("sc.run.exited", "途中で終了", "Left early"),
    ("sc.run.failed", "エラーで停止", "Stopped by an error"),
    ("sc.run.control", "対照群 (何もしない)", "Control (nothing sent)"),
    ("sc.sent", "送信済み", "Sent"),
    ("sc.queued", "送信待ち", "Waiting to send"),
    ("sc.suppressed", "送らなかった (同意なし等)", "Not sent (no consent etc.)"),
    ("sc.failed", "送信失敗", "Failed"),
    ("sc.enrol", "お客様を1人入れる", "Enrol one customer"),
    ("sc.customer_id", "顧客番号", "Customer number"),
    ("sc.enrolled", "お客様が入りました", "The customer entered"),
    ("sc.broadcast", "保存セグメントの全員を入れる (一斉)", "Enrol a whole saved segment (broadcast)"),
    (
        "sc.broadcast_confirm",
        "このセグメントの全員をシナリオに入れます。よろしいですか?",
        "Enrol every member of this segment now?",
    ),
    ("sc.broadcast_done", "一斉に入れました。入った人数:", "Broadcast done. Customers entered:"),
    ("sc.saved", "保存しました。新しく入るお客様はこの版で進みます。", "Saved. New entrants follow this version."),
    ("sc.not_enrolled", "入れませんでした (入る条件により対象外)", "Not entered (the entry rule keeps them out)"),
    ("sc.outbox", "送信したメールを見る", "See the mail it sent"),
    ("sc.trigger.order_placed", "注文があったとき (注文ごと)", "An order is placed (each order)"),
    ("sc.trigger.rank_up", "ランクが上がったとき", "Moves up a rank"),
    ("sc.trigger.rank_down", "ランクが下がったとき", "Moves down a rank"),
    ("sc.trigger.rank_any", "ランクが変わったとき", "Rank changes"),
    ("sc.trigger.segment_entered", "次の分類になったとき: ", "Becomes: "),
    ("sc.trigger.segment_left", "次の分類でなくなったとき: ", "Stops being: "),
    ("sc.trigger.membership", "会員の状態が変わったとき", "A membership changes"),
    ("sc.trigger.survey", "アンケートに回答したとき", "Answers a survey"),
    ("sc.trigger.case_closed", "クレームが完了したとき", "A complaint is closed"),
    ("sc.trigger.stage_changed", "顧客の段階が変わったとき", "The customer's success stage changes"),
    ("sc.trigger.birthday", "誕生日 (2月29日生まれは平年2月28日)", "Birthday (29 Feb on the 28th in other years)"),
    ("sc.trigger.first_purchase", "初回購入から日数: ", "Days after the first purchase: "),
    ("sc.trigger.last_purchase", "最後の購入から日数: ", "Days after the last purchase: "),
    ("sc.trigger.manual", "手動 (1人ずつ・セグメント一斉)", "By hand (one customer or a segment)"),
    ("sc.trigger.overdue", "次回購入の予定日を過ぎてから日数: ", "Days past the expected next purchase: "),
    ("sc.trigger.points_expiring", "ポイントの失効まで日数: ", "Days before points expire: "),
    ("sc.trigger.ticket_low", "回数券の残りが次の回数以下: ", "Ticket book down to visits left: "),
    ("sc.trigger.ticket_expiring", "回数券の期限まで日数: ", "Days before a ticket book expires: "),
    ("sc.trigger.membership_renewal", "会員の更新日まで日数: ", "Days before a membership renews: "),
    ("sc.step.start", "別のシナリオを始める: ", "Start another scenario: "),
    ("sc.trigger.saved_entered", "保存セグメントに入ったとき: ", "Enters the saved segment: "),
    ("sc.trigger.saved_left", "保存セグメントから外れたとき: ", "Leaves the saved segment: "),
    ("sc.entry.once", "一生に1回", "Once ever"),
    ("sc.entry.once_per", "次の日数に1回まで: ", "At most once in days: "),
    ("sc.entry.every", "毎回", "Every time"),
    ("sc.exit.order", "また注文したら終了", "Leaves when they order again"),
    ("sc.exit.unsub", "配信停止したら終了", "Leaves when they unsubscribe"),
    ("sc.exit.none", "最後まで続ける", "Runs to the end"),
    ("sc.step.wait", "待つ", "Wait"),
    ("sc.step.days", "日", " days"),
    ("sc.step.hours", "時間", " hours"),
    ("sc.step.until", "次の時刻まで待つ: ", "Wait until: "),
    ("sc.step.wait_order", "次の注文まで待つ (最長日数): ", "Wait for the next order (at most days): "),
    ("sc.step.check", "確認: ", "Check: "),
    ("sc.step.check.filter", "条件に合う", "matches the conditions"),
    ("sc.step.otherwise.exit", "合わなければ終了", "otherwise leave"),
    ("sc.step.otherwise.skip", "合わなければ次を飛ばす: ", "otherwise skip steps: "),
    ("sc.step.email", "メール: ", "Mail: "),
    ("sc.step.line", "LINE: ", "LINE: "),
    ("sc.step.sms", "SMS: ", "SMS: "),
    ("sc.step.survey", "アンケート: ", "Survey: "),
    ("sc.step.sms.segments", "{0}通分", "{0} segments"),
    ("sc.step.email.marketing", "(お知らせ・同意が必要)", "(marketing: needs consent)"),
    ("sc.step.email.transactional", "(取引のお知らせ)", "(transactional)"),
    ("sc.step.task.call", "電話の予定: ", "Call: "),
    ("sc.step.task.letter", "手紙・はがきの予定: ", "Letter or postcard: "),
    ("sc.step.task.visit", "訪問の予定: ", "Visit: "),
    ("sc.step.tag_add", "タグを付ける: ", "Add tag: "),
    ("sc.step.tag_remove", "タグを外す: ", "Remove tag: "),
    ("sc.step.points", "ポイントを付ける: ", "Grant points: "),
    ("sc.weekday", "曜日", "weekday"),
    ("sc.uplift", "効果 (対照群との比較・入ってから30日)", "Effect (against the control group, 30 days after entry)"),
    ("sc.uplift.treated", "送った人", "Treated"),
    ("sc.uplift.control", "対照群", "Control"),
    ("sc.uplift.diff", "差", "Difference"),
    ("sc.uplift.ci", "95%信頼区間", "95% interval"),
    ("sc.uplift.repeat", "再購入率", "Came back and bought"),
    ("sc.uplift.orders", "1人あたり注文数", "Orders per customer"),
    ("sc.uplift.revenue", "1人あたり売上", "Revenue per customer"),
    ("sc.uplift.people", "人数", "Customers"),
    ("sc.uplift.pending", "まだ30日たっていない人 (集計外)", "Not yet 30 days in (left out)"),
    (
        "sc.uplift.too_small",
        "まだ人数が少なく、効果があるかは判断できません (各群30人以上が必要です)。",
        "Too few customers yet to tell (at least 30 in each group are needed).",
    ),
    (
        "sc.uplift.helps",
        "効果があります: 対照群より再購入率が高いことが統計的に確かめられました。",
        "It works: treated customers come back more than the control group, beyond chance.",
    ),
    (
        "sc.uplift.hurts",
        "逆効果の可能性: 対照群より再購入率が低くなっています。",
        "It may hurt: treated customers come back less than the control group.",
    ),
    (
        "sc.uplift.unclear",
        "今のところ対照群との差ははっきりしません。",
        "No clear difference from the control group so far.",
    ),
    (
        "sc.uplift.no_holdout",
        "対照群がないため効果は測れません (対照群の割合を設定してください)。",
        "No control group, so the effect cannot be measured (set a control share).",
    ),
];

struct Row {
    id: i64,
    name: String,
    trigger: String,
    status: &'static str,
    version: i64,
}

struct Ready {
    key: &'static str,
    name: String,
    description: String,
}

#[derive(Template)]
#[template(path = "scenarios.html")]
struct ListPage {
    c: Chrome,
    rows: Vec<Row>,
    ready: Vec<Ready>,
    error: Option<String>,
}

fn status_key(s: &str) -> &'static str {
    match s {
        "active" => "sc.status.active",
        "paused" => "sc.status.paused",
        _ => "sc.status.draft",
    }
}

/// The saved segments' names by id.
async fn segment_names(s: &AppState, t: Tr) -> Result<std::collections::HashMap<i64, String>, UiError> {
    Ok(s.app.saved_segments().await.map_err(|e| UiError::from_app(t, e))?.into_iter().map(|g| (g.id, g.name)).collect())
}

#[derive(serde::Deserialize, Default)]
pub(super) struct Flash {
    flash: Option<String>,
    n: Option<u64>,
    /// The saved segment whose SMS cost is shown before a broadcast.
    estimate: Option<i64>,
}

/// `GET /scenarios`
pub(super) async fn list(
    State(s): State<AppState>,
    ErrorFlash(error): ErrorFlash,
    Staff { user, t }: Staff,
) -> UiResult {
    let err = |e| UiError::from_app(t, e);
    let segments = segment_names(&s, t).await?;
    let segment_name = |id: i64| segments.get(&id).cloned().unwrap_or_else(|| "?".into());
    let rows = s
        .app
        .scenarios()
        .await
        .map_err(err)?
        .into_iter()
        .map(|sc| Row {
            id: sc.id,
            trigger: serde_json::from_value::<Definition>(sc.definition.clone())
                .map(|d| trigger_words(t, &d.trigger, &segment_name))
                .unwrap_or_default(),
            name: sc.name,
            status: status_key(&sc.status),
            version: sc.version,
        })
        .collect();
    let ready = joren_app::scenario_templates::ready_scenarios(t.lang())
        .into_iter()
        .map(|r| Ready { key: r.key, name: r.name, description: r.description })
        .collect();
    Ok(render(&ListPage { c: Chrome::new(t, &user, "scenarios", "/scenarios"), rows, ready, error }))
}

#[derive(serde::Deserialize)]
pub(super) struct FromTemplate {
    key: String,
}

/// `POST /scenarios/from-template`: a draft from a ready scenario, in the page's language.
pub(super) async fn from_template(
    State(s): State<AppState>,
    Checked { user, t, form }: Checked<FromTemplate>,
) -> UiResult {
    match s.app.create_from_ready(&user.actor, &form.key, t.lang()).await {
        Ok(sc) => Ok(Redirect::to(&format!("/scenarios/{}?flash=created", sc.id)).into_response()),
        Err(e) => Err(UiError::from_app(t, e)),
    }
}

struct StepRow {
    n: usize,
    words: String,
    wait: bool,
    waiting: i64,
}

struct Count {
    label: &'static str,
    count: i64,
}

#[derive(Template)]
#[template(path = "scenario.html")]
struct DetailPage {
    c: Chrome,
    id: i64,
    name: String,
    status: &'static str,
    active: bool,
    version: i64,
    trigger: String,
    entry: String,
    exit: String,
    holdout: u32,
    steps: Vec<StepRow>,
    runs: Vec<Count>,
    sent: Vec<Count>,
    flash: Option<&'static str>,
    entered: Option<u64>,
    error: Option<String>,
    can_write: bool,
    segments: Vec<(i64, String)>,
    uplift_verdict: &'static str,
    uplift_rows: Vec<UpliftRow>,
    uplift_people: (usize, usize),
    uplift_pending: usize,
    /// The enrol-by-hand form: as typed when refused, the problem beside the number.
    enrol: FormState,
    /// Whether the scenario texts anyone (the broadcast form offers an SMS estimate).
    has_sms: bool,
    /// The estimate asked for: the segment, and a worded row per SMS step.
    estimate: Option<(i64, Vec<String>)>,
}

struct UpliftRow {
    label: &'static str,
    treated: String,
    control: String,
    diff: String,
    ci: String,
}

fn uplift_rows(u: &joren_app::scenarios::uplift::Uplift) -> Vec<UpliftRow> {
    let pct = |x: f64| format!("{:.1}%", x * 100.0);
    let pts = |x: f64| format!("{:+.1}pt", x * 100.0);
    let num = |x: f64| format!("{x:.2}");
    let yen = |x: f64| format!("¥{}", format_yen(x));
    let signed_yen = |x: f64| format!("{}¥{}", if x < 0.0 { "−" } else { "+" }, format_yen(x.abs()));
    let r = &u.repeat_rate;
    let o = &u.orders_per_customer;
    let m = &u.revenue_per_customer;
    vec![
        UpliftRow {
            label: "sc.uplift.repeat",
            treated: pct(r.treated),
            control: pct(r.control),
            diff: pts(r.difference),
            ci: format!("{} 〜 {}", pts(r.ci_low), pts(r.ci_high)),
        },
        UpliftRow {
            label: "sc.uplift.orders",
            treated: num(o.treated),
            control: num(o.control),
            diff: format!("{:+.2}", o.difference),
            ci: format!("{:+.2} 〜 {:+.2}", o.ci_low, o.ci_high),
        },
        UpliftRow {
            label: "sc.uplift.revenue",
            treated: yen(m.treated),
            control: yen(m.control),
            diff: signed_yen(m.difference),
            ci: format!("{} 〜 {}", signed_yen(m.ci_low), signed_yen(m.ci_high)),
        },
    ]
}

fn format_yen(x: f64) -> String {
    joren_core::money::format_amount(x.round() as i64, "JPY").trim_start_matches('¥').to_string()
}

/// `GET /scenarios/{id}`
pub(super) async fn show(
    State(s): State<AppState>,
    ErrorFlash(error): ErrorFlash,
    Staff { user, t }: Staff,
    Path(id): Path<i64>,
    Query(q): Query<Flash>,
) -> UiResult {
    detail(&s, t, &user, id, q, error, FormState::default()).await
}

/// A scenario's page; `enrol` is the enrol-by-hand form, as typed when it came back refused.
async fn detail(
    s: &AppState,
    t: Tr,
    user: &super::WebUser,
    id: i64,
    q: Flash,
    error: Option<String>,
    enrol: FormState,
) -> UiResult {
    let err = |e| UiError::from_app(t, e);
    let report = s.app.scenario_report(id).await.map_err(err)?;
    let def: Definition = serde_json::from_value(report.scenario.definition.clone())
        .map_err(|e| UiError::from_app(t, AppError::Internal(e.to_string())))?;
    let names: std::collections::HashMap<i64, String> =
        s.app.scenarios().await.map_err(err)?.into_iter().map(|x| (x.id, x.name)).collect();
    let surveys: std::collections::HashMap<i64, String> =
        s.app.surveys().await.map_err(err)?.into_iter().map(|x| (x.survey.id, x.survey.name)).collect();
    // A run waiting after step i (a wait) stands at step i + 1.
    let waiting_at = |step: usize| {
        report.runs.iter().filter(|r| r.state == "waiting" && r.step as usize == step + 1).map(|r| r.count).sum()
    };
    let steps = def
        .steps
        .iter()
        .enumerate()
        .map(|(i, st)| StepRow {
            n: i + 1,
            words: step_words(t, st, &|what, id| {
                let names = if what == "survey" { &surveys } else { &names };
                names.get(&id).cloned().unwrap_or_else(|| "?".into())
            }),
            wait: st.is_wait(),
            waiting: waiting_at(i),
        })
        .collect();
    let by_state = |state: &str| report.runs.iter().filter(|r| r.state == state).map(|r| r.count).sum::<i64>();
    let runs = [
        ("sc.run.waiting", "waiting"),
        ("sc.run.done", "done"),
        ("sc.run.exited", "exited"),
        ("sc.run.failed", "failed"),
        ("sc.run.control", "control"),
    ]
    .into_iter()
    .map(|(label, state)| Count { label, count: by_state(state) })
    .collect();
    let o = report.outbox;
    let sent = vec![
        Count { label: "sc.sent", count: o.sent },
        Count { label: "sc.queued", count: o.queued + o.sending },
        Count { label: "sc.suppressed", count: o.suppressed },
        Count { label: "sc.failed", count: o.failed },
    ];
    let entry = match def.entry {
        EntryRule::Once => t.t("sc.entry.once").to_string(),
        EntryRule::OncePer { days } => format!("{}{days}", t.t("sc.entry.once_per")),
        EntryRule::EveryTime => t.t("sc.entry.every").to_string(),
    };
    let mut exit = Vec::new();
    if def.exit.on_order {
        exit.push(t.t("sc.exit.order"));
    }
    if def.exit.on_unsubscribe {
        exit.push(t.t("sc.exit.unsub"));
    }
    let exit = if exit.is_empty() { t.t("sc.exit.none").to_string() } else { exit.join(" · ") };
    let flash = match q.flash.as_deref() {
        Some("created") => Some("sc.created"),
        Some("active") => Some("sc.activated"),
        Some("paused") => Some("sc.paused_msg"),
        Some("enrolled") => Some("sc.enrolled"),
        Some("not_enrolled") => Some("sc.not_enrolled"),
        Some("saved") => Some("sc.saved"),
        Some("broadcast") => Some("sc.broadcast_done"),
        _ => None,
    };
    let up = s.app.scenario_uplift(id, 30).await.map_err(err)?;
    let uplift_verdict = match up.uplift.verdict {
        _ if def.holdout_percent == 0 => "sc.uplift.no_holdout",
        joren_app::scenarios::uplift::Verdict::TooSmall => "sc.uplift.too_small",
        joren_app::scenarios::uplift::Verdict::Helps => "sc.uplift.helps",
        joren_app::scenarios::uplift::Verdict::Hurts => "sc.uplift.hurts",
        joren_app::scenarios::uplift::Verdict::NoClearDifference => "sc.uplift.unclear",
    };
    let sc = report.scenario;
    let segments: Vec<(i64, String)> =
        s.app.saved_segments().await.map_err(err)?.into_iter().map(|g| (g.id, g.name)).collect();
    let has_sms = def.steps.iter().any(|st| matches!(st, joren_core::scenario::Step::Sms { .. }));
    let estimate = match q.estimate.filter(|_| has_sms) {
        Some(segment) => {
            let rows = s.app.scenario_sms_estimates(id, segment).await.map_err(err)?;
            Some((segment, rows.iter().map(|r| sms_estimate_words(t, r)).collect()))
        }
        None => None,
    };
    let status = if enrol.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let mut page = render(&DetailPage {
        c: Chrome::new(t, user, "scenarios", format!("/scenarios/{id}")),
        id,
        name: sc.name,
        status: status_key(&sc.status),
        active: sc.status == "active",
        version: sc.version,
        trigger: trigger_words(t, &def.trigger, &|id| {
            segments.iter().find(|(i, _)| *i == id).map(|(_, n)| n.clone()).unwrap_or_else(|| "?".into())
        }),
        entry,
        exit,
        holdout: def.holdout_percent,
        steps,
        runs,
        sent,
        entered: q.n.filter(|_| flash == Some("sc.broadcast_done")),
        flash,
        error,
        can_write: user.actor.role.can_write(),
        segments,
        uplift_verdict,
        uplift_rows: uplift_rows(&up.uplift),
        uplift_people: (up.uplift.treated_n, up.uplift.control_n),
        uplift_pending: up.still_in_window,
        enrol,
        has_sms,
        estimate,
    });
    *page.status_mut() = status;
    Ok(page)
}

/// One SMS step's cost, worded: step, segments, people, price, total, members.
fn sms_estimate_words(t: Tr, r: &joren_app::sms::SmsStepEstimate) -> String {
    let e = &r.estimate;
    let yen = |n: i64| joren_core::money::group_digits(n);
    t.t("sms.estimate_row")
        .replace("{0}", &(r.step + 1).to_string())
        .replace("{1}", &e.segments.segments.to_string())
        .replace("{2}", &yen(e.recipients as i64))
        .replace("{3}", &yen(e.yen_per_segment))
        .replace("{4}", &yen(e.cost_yen))
        .replace("{5}", &yen(e.members as i64))
}

#[derive(serde::Deserialize)]
pub(super) struct StatusForm {
    status: String,
}

/// `POST /scenarios/{id}/status`
pub(super) async fn set_status(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form }: Checked<StatusForm>,
) -> UiResult {
    let status = if form.status == "active" { Status::Active } else { Status::Paused };
    match s.app.set_scenario_status(&user.actor, id, status).await {
        Ok(_) => Ok(Redirect::to(&format!("/scenarios/{id}?flash={}", status.as_str())).into_response()),
        Err(e) => Err(UiError::from_app(t, e)),
    }
}

#[derive(serde::Deserialize)]
pub(super) struct EnrolForm {
    customer_id: String,
}

/// `POST /scenarios/{id}/enrol`
pub(super) async fn enrol(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form }: Checked<EnrolForm>,
) -> UiResult {
    let back = format!("/scenarios/{id}");
    let typed = form.customer_id.trim().trim_start_matches(['#', '＃']);
    let entered = match joren_core::text::parse_int(typed) {
        Some(customer) => s.app.enrol_customer(&user.actor, id, customer).await,
        None => Err(joren_core::FieldError::new("customer_id", joren_core::Code::BadNumber)
            .arg(form.customer_id.trim())
            .into()),
    };
    let why = match entered {
        Ok(true) => return Ok(Redirect::to(&format!("{back}?flash=enrolled")).into_response()),
        Ok(false) => return Ok(Redirect::to(&format!("{back}?flash=not_enrolled")).into_response()),
        Err(AppError::Validation(e)) => e.0.iter().map(|e| crate::i18n::errors::field_error(e, t.0)).collect(),
        // No such customer, merged into another, the scenario not running: said beside the number.
        Err(e @ (AppError::NotFound(_) | AppError::Conflict(_))) => vec![crate::i18n::errors::app_error(&e, t.0)],
        Err(e) => return Err(UiError::from_app(t, e)),
    };
    let mut enrol = FormState::new([("customer_id", form.customer_id)]);
    enrol.errors.insert("customer_id".into(), why.join(" "));
    detail(&s, t, &user, id, Flash::default(), None, enrol).await
}

#[derive(serde::Deserialize)]
pub(super) struct BroadcastForm {
    segment_id: i64,
}

/// `POST /scenarios/{id}/broadcast`: every member of a saved segment enters now.
pub(super) async fn broadcast(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form }: Checked<BroadcastForm>,
) -> UiResult {
    let back = format!("/scenarios/{id}");
    match s.app.broadcast(&user.actor, id, form.segment_id).await {
        Ok(n) => Ok(Redirect::to(&format!("{back}?flash=broadcast&n={n}")).into_response()),
        Err(AppError::Conflict(_)) => Ok(back_with_error(&back, t.t("sc.not_enrolled"))),
        Err(e) => Err(UiError::from_app(t, e)),
    }
}
