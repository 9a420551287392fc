//! `/surveys` (アンケート): the shop's surveys — made from a ready one in one click or written
//! question by question (`edit`) — and each survey's results: NPS, CSAT and CES against their
//! targets, the response rate, the months, the breakdowns by segment, rank, 担当者 and
//! scenario, and the answers, searchable, each a click from its customer. A survey is sent to
//! one customer from here (or the customer's page) or by a scenario's step.

pub(crate) mod customer;
mod edit;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use joren_app::AppError;
use joren_app::surveys::{ResponseFilter, SendSurveyInput, SentSurvey, SurveyResults};

use super::{Checked, Chrome, Staff, UiError, UiResult, WebUser, render};
use crate::AppState;
use crate::i18n::{Lang, Tr};

pub(crate) use edit::WORDS as EDIT_WORDS;
pub(super) use edit::{edit_page, new_page, save_edit, save_new};

/// The pages' words (key, 日本語, English).
pub(crate) const WORDS: &[(&str, &str, &str)] = &[
    ("sv.title", "アンケート", "Surveys"),
    (
        "sv.help",
        "お客様の満足度 (CSAT)・おすすめ度 (NPS)・手間の少なさ (CES) を聞いて、数字で見られます。送り方はシナリオの「アンケートを送る」ステップか、お客様ごとの手動送信です。",
        "Ask customers how satisfied they are (CSAT), whether they would recommend you (NPS) and how easy it was (CES), and see the numbers. Send a survey from a scenario's \"send a survey\" step or to one customer by hand.",
    ),
    (
        "sv.none",
        "アンケートはまだありません。下のひな形から作れます。",
        "No surveys yet. Start from a ready one below.",
    ),
    ("sv.new", "アンケートを作る", "New survey"),
    ("sv.ready", "ひな形から作る", "Start from a ready survey"),
    ("sv.ready.nps", "おすすめ度 (NPS) と理由", "Recommendation (NPS) and why"),
    ("sv.ready.csat", "購入後の満足度 (CSAT)", "Satisfaction after a purchase (CSAT)"),
    ("sv.ready.ces", "お手続きの簡単さ (CES)", "Effort (CES)"),
    ("sv.ready.exit", "退会・休止の理由", "Why customers leave"),
    ("sv.ready.case", "クレーム対応の満足度", "How a complaint was handled"),
    ("sv.name", "名前", "Name"),
    ("sv.questions", "質問数", "Questions"),
    ("sv.sent", "送信", "Sent"),
    ("sv.responses", "回答", "Answers"),
    ("sv.rate", "回答率", "Response rate"),
    ("sv.archived", "アーカイブ済み", "Archived"),
    ("sv.edit", "編集", "Edit"),
    ("sv.results", "結果", "Results"),
    ("sv.period", "期間", "Period"),
    ("sv.months", "か月", "months"),
    ("sv.target", "目標", "Target"),
    ("sv.met", "達成", "Met"),
    ("sv.missed", "未達", "Missed"),
    ("sv.no_answers", "まだ回答がありません", "No answers yet"),
    ("sv.nps", "NPS (おすすめ度)", "NPS"),
    ("sv.nps_parts", "推奨者 {0} / 中立者 {1} / 批判者 {2}", "Promoters {0} / passives {1} / detractors {2}"),
    ("sv.csat", "CSAT (満足度 平均)", "CSAT (mean)"),
    ("sv.csat_share", "満足 (4・5) の割合 {0}", "Satisfied (4–5): {0}"),
    ("sv.ces", "CES (手間 平均・低いほど良い)", "CES (mean, lower is better)"),
    ("sv.ces_share", "簡単 (1・2) の割合 {0}", "Easy (1–2): {0}"),
    ("sv.by_month", "月ごと", "By month"),
    ("sv.month", "月", "Month"),
    ("sv.by.segment", "顧客区分ごと", "By segment"),
    ("sv.by.rank", "ランクごと", "By rank"),
    ("sv.by.owner", "担当者ごと", "By staff member"),
    ("sv.by.scenario", "シナリオごと", "By scenario"),
    ("sv.by.product", "商品ごと (購入後のアンケート)", "By product (post-purchase surveys)"),
    ("sv.none_label", "(なし)", "(none)"),
    ("sv.answers", "回答一覧", "Answers"),
    ("sv.search", "自由記述を検索", "Search the written answers"),
    ("sv.group", "絞り込み", "Show"),
    ("sv.group.all", "すべて", "All"),
    ("sv.group.detractor", "批判者 (NPS 0〜6)", "Detractors (NPS 0–6)"),
    ("sv.group.passive", "中立者 (NPS 7・8)", "Passives (NPS 7–8)"),
    ("sv.group.promoter", "推奨者 (NPS 9・10)", "Promoters (NPS 9–10)"),
    ("sv.group.unhappy", "不満 (満足度 1・2)", "Unhappy (CSAT 1–2)"),
    ("sv.filter", "表示", "Show"),
    ("sv.when", "回答日時", "Answered"),
    ("sv.customer", "お客様", "Customer"),
    ("sv.scores", "点数", "Scores"),
    ("sv.text", "自由記述", "Written answer"),
    ("sv.channel", "経路", "Channel"),
    ("sv.partial", "途中まで", "Partly answered"),
    ("sv.no_match", "該当する回答はありません", "No answers match"),
    ("sv.send", "このアンケートを送る", "Send this survey"),
    ("sv.send_customer", "顧客番号", "Customer number"),
    ("sv.send_channel", "送り方", "Send by"),
    ("sv.send_link", "リンクだけ作る (手渡し・貼り付け用)", "Just make a link (to hand over or paste)"),
    ("sv.send_go", "送る", "Send"),
    ("sv.sent_ok", "アンケートを送りました (送信待ちに入りました)", "The survey is on its way"),
    ("sv.sent_test", "テストモードのため実際には送られません", "Test mode: nothing really leaves"),
    ("sv.sent_link", "このリンクをお客様にお渡しください:", "Give the customer this link:"),
    ("sv.saved", "アンケートを保存しました", "Survey saved"),
    ("sv.archive", "アーカイブする", "Archive"),
    ("sv.restore", "元に戻す", "Restore"),
    (
        "sv.archived_ok",
        "アーカイブしました。リンクは期限まで回答できます",
        "Archived; links already sent can still be answered",
    ),
    ("sv.open_page", "回答ページを見る", "Open the answer page"),
    ("sv.churn", "離反理由", "Why customers leave"),
    (
        "sv.churn_help",
        "退会・休止の理由アンケートの回答と、会員の退会時に記録した理由を合わせて数えます。",
        "The exit survey's answers and the reasons recorded when memberships were cancelled, counted together.",
    ),
    ("sv.churn_reason", "理由", "Reason"),
    ("sv.churn_survey", "アンケート", "Exit survey"),
    ("sv.churn_members", "会員の退会", "Membership cancellations"),
    ("sv.churn_words", "お客様の言葉", "In their words"),
    (
        "sv.churn_none",
        "まだ理由の記録がありません。「退会理由のおたずね」シナリオで聞けます。",
        "No reasons recorded yet. The \"Why did you leave?\" scenario asks them.",
    ),
    (
        "sv.targets_note",
        "目標は顧客維持の文献による目安です (CSAT 4.0 以上、NPS 50 以上、CES 2.0 以下、月間解約率 5% 以下、リピート率は業種の目安以上)。",
        "Targets from the retention literature: CSAT ≥ 4.0, NPS ≥ 50, CES ≤ 2.0, monthly churn ≤ 5 %, a repeat rate within the industry's range.",
    ),
    ("sv.churn_month", "月間解約率", "Monthly churn"),
    (
        "sv.churn_month_help",
        "直近30日で、1年以内に購入のあったお客様から外れた割合",
        "Of the customers with a purchase within a year 30 days ago, the share who no longer have one",
    ),
    ("sv.repeat", "リピート率", "Repeat rate"),
    ("sv.repeat_help", "2回以上購入したお客様の割合", "Customers with two or more purchases"),
    ("sv.no_orders", "まだ注文がありません", "No orders yet"),
    ("sv.no_industry", "ダッシュボードで業種を選ぶと比べられます", "Choose the industry on the dashboard to compare"),
];

#[derive(Template)]
#[template(path = "surveys.html")]
struct ListPage {
    c: Chrome,
    rows: Vec<ListRow>,
    ready: Vec<(&'static str, &'static str)>,
    can_write: bool,
}

struct ListRow {
    id: i64,
    name: String,
    questions: usize,
    sent: i64,
    responses: i64,
    rate: String,
    archived: bool,
}

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{:.0}%", x * 100.0)).unwrap_or_else(|| "–".into())
}

fn one(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.1}")).unwrap_or_else(|| "–".into())
}

/// `GET /surveys`
pub(super) async fn list(State(s): State<AppState>, Staff { user, t }: Staff) -> UiResult {
    let rows = s
        .app
        .surveys()
        .await
        .map_err(|e| UiError::from_app(t, e))?
        .into_iter()
        .map(|d| ListRow {
            id: d.survey.id,
            name: d.survey.name.clone(),
            questions: d.questions.len(),
            sent: d.survey.sent,
            responses: d.survey.responses,
            rate: pct(joren_core::survey::response_rate(d.survey.responses as u64, d.survey.sent as u64)),
            archived: d.survey.archived,
        })
        .collect();
    let ready = ["nps", "csat", "ces", "case", "exit"].iter().map(|c| (*c, t.t(&format!("sv.ready.{c}")))).collect();
    Ok(render(&ListPage {
        c: Chrome::new(t, &user, "voice", "/surveys"),
        rows,
        ready,
        can_write: user.actor.role.can_write(),
    }))
}

#[derive(serde::Deserialize)]
pub(super) struct ReadyForm {
    code: String,
}

#[derive(Template)]
#[template(path = "churn_reasons.html")]
struct ChurnPage {
    c: Chrome,
    rows: Vec<(String, u64, u64, u64)>,
    words: Vec<(i64, String, String, String, String)>,
    chart: String,
}

/// `GET /surveys/churn-reasons`: why customers leave (exit survey + membership cancellations).
pub(super) async fn churn(State(s): State<AppState>, Staff { user, t }: Staff) -> UiResult {
    let r = s.app.churn_reasons().await.map_err(|e| UiError::from_app(t, e))?;
    let label = |code: &str| t.t(&format!("memberships.reason.{code}")).to_string();
    let bars: Vec<(String, f64, String)> =
        r.rows.iter().map(|x| (label(x.reason), x.total as f64, x.total.to_string())).collect();
    let chart = super::chart::bars("churn-chart", t.t("sv.churn"), &bars, "#8e44ad");
    let rows = r.rows.iter().map(|x| (label(x.reason), x.exit_survey, x.memberships, x.total)).collect();
    let words = r
        .words
        .iter()
        .map(|w| {
            let when = s.app.local_time(joren_app::from_ms(w.answered_at_ms));
            (w.customer_id, w.customer_name.clone(), label(w.reason), w.text.clone(), when)
        })
        .collect();
    Ok(render(&ChurnPage { c: Chrome::new(t, &user, "voice", "/surveys/churn-reasons"), rows, words, chart }))
}

/// `POST /surveys/ready`: a ready survey made in one click, opened in the editor.
pub(super) async fn create_ready(State(s): State<AppState>, Checked { user, t, form }: Checked<ReadyForm>) -> UiResult {
    let lang = if t.0 == Lang::En { "en" } else { "ja" };
    let d = s.app.create_ready_survey(&user.actor, &form.code, lang).await.map_err(|e| UiError::from_app(t, e))?;
    Ok(Redirect::to(&format!("/surveys/{}/edit?flash=saved", d.survey.id)).into_response())
}

#[derive(serde::Deserialize, Default)]
pub(super) struct ResultsQuery {
    #[serde(default)]
    months: Option<u32>,
    #[serde(default)]
    q: String,
    #[serde(default)]
    group: String,
    #[serde(default)]
    flash: Option<String>,
}

struct Kpi {
    id: &'static str,
    label: &'static str,
    value: String,
    detail: String,
    target: String,
    met: Option<bool>,
    /// Said when `met` is None.
    none: &'static str,
}

struct BreakdownView {
    by: String,
    rows: Vec<(String, u64, String, String, String)>,
}

struct AnswerRow {
    id: i64,
    when: String,
    customer_id: i64,
    customer: String,
    scores: String,
    text: String,
    channel: String,
    partial: bool,
}

#[derive(Template)]
#[template(path = "survey.html")]
struct ResultsPage {
    c: Chrome,
    id: i64,
    name: String,
    archived: bool,
    months: u32,
    kpis: Vec<Kpi>,
    sent: u64,
    rate: String,
    chart: String,
    month_rows: Vec<(String, String, String, String, u64, u64, String)>,
    breakdowns: Vec<BreakdownView>,
    answers: Vec<AnswerRow>,
    q: String,
    group: String,
    groups: Vec<(&'static str, &'static str)>,
    flash: Option<String>,
    sent_now: Option<SentSurvey>,
    send_error: String,
    send_customer: String,
    send_channel: String,
    /// A fresh idempotency key for the send form (a double submit sends once).
    send_key: String,
    can_write: bool,
}

pub(crate) fn scores_text(nps: Option<i64>, csat: Option<i64>, ces: Option<i64>) -> String {
    let mut out = Vec::new();
    if let Some(v) = nps {
        out.push(format!("NPS {v}"));
    }
    if let Some(v) = csat {
        out.push(format!("CSAT {v}"));
    }
    if let Some(v) = ces {
        out.push(format!("CES {v}"));
    }
    out.join(" · ")
}

fn results_page(s: &AppState, t: Tr, user: &WebUser, r: SurveyResults, q: &ResultsQuery) -> ResultsPage {
    let en = t.0 == Lang::En;
    let rep = &r.report;
    let segments = joren_app::metrics::segment_choices(en);
    let kpis = vec![
        Kpi {
            id: "kpi-nps",
            label: t.t("sv.nps"),
            value: rep.nps.score.map(|v| format!("{v:.0}")).unwrap_or_else(|| "–".into()),
            detail: t
                .t("sv.nps_parts")
                .replace("{0}", &rep.nps.promoters.to_string())
                .replace("{1}", &rep.nps.passives.to_string())
                .replace("{2}", &rep.nps.detractors.to_string()),
            target: "≥ 50".into(),
            met: rep.nps_met,
            none: "sv.no_answers",
        },
        Kpi {
            id: "kpi-csat",
            label: t.t("sv.csat"),
            value: one(rep.csat.mean),
            detail: t.t("sv.csat_share").replace("{0}", &pct(rep.csat.good_share)),
            target: "≥ 4.0".into(),
            met: rep.csat_met,
            none: "sv.no_answers",
        },
        Kpi {
            id: "kpi-ces",
            label: t.t("sv.ces"),
            value: one(rep.ces.mean),
            detail: t.t("sv.ces_share").replace("{0}", &pct(rep.ces.good_share)),
            target: "≤ 2.0".into(),
            met: rep.ces_met,
            none: "sv.no_answers",
        },
        Kpi {
            id: "kpi-churn",
            label: t.t("sv.churn_month"),
            value: rep.retention.monthly_churn.map(|v| format!("{v:.1}%")).unwrap_or_else(|| "–".into()),
            detail: t.t("sv.churn_month_help").into(),
            target: "≤ 5%".into(),
            met: rep.retention.churn_met,
            none: "sv.no_orders",
        },
        Kpi {
            id: "kpi-repeat",
            label: t.t("sv.repeat"),
            value: rep.retention.repeat_rate.map(|v| format!("{v:.0}%")).unwrap_or_else(|| "–".into()),
            detail: t.t("sv.repeat_help").into(),
            target: match (rep.retention.industry.as_deref(), rep.retention.industry_range) {
                (Some(code), Some((low, high))) => {
                    let name = joren_app::dashboard::industry(code).map_or(code, |i| if en { i.2 } else { i.1 });
                    format!("{low:.0}–{high:.0}% ({name})")
                }
                _ => "–".into(),
            },
            met: rep.retention.repeat_met,
            none: if rep.retention.repeat_rate.is_none() { "sv.no_orders" } else { "sv.no_industry" },
        },
    ];
    let categories: Vec<String> = rep.months.iter().map(|m| m.month.clone()).collect();
    let chart = super::chart::columns(
        "survey-chart",
        t.t("sv.by_month"),
        &categories,
        &[
            super::chart::Series {
                label: t.t("sv.sent"),
                color: "#9bb7d4",
                values: rep.months.iter().map(|m| m.sent as f64).collect(),
            },
            super::chart::Series {
                label: t.t("sv.responses"),
                color: "#1d6fb8",
                values: rep.months.iter().map(|m| m.responses as f64).collect(),
            },
        ],
        None,
        None,
        &|v| format!("{v:.0}"),
    );
    let month_rows = rep
        .months
        .iter()
        .map(|m| {
            let nps = m.nps.map(|v| format!("{v:.0}")).unwrap_or_else(|| "–".into());
            (m.month.clone(), nps, one(m.csat), one(m.ces), m.sent, m.responses, pct(m.response_rate))
        })
        .collect();
    let none = t.t("sv.none_label");
    let breakdowns = rep
        .breakdowns
        .iter()
        .filter(|b| b.rows.iter().any(|r| !r.label.is_empty()))
        .map(|b| BreakdownView {
            by: t.t(&format!("sv.by.{}", b.by)).to_string(),
            rows: b
                .rows
                .iter()
                .map(|r| {
                    let label = if r.label.is_empty() {
                        none.to_string()
                    } else if b.by == "segment" {
                        segments
                            .iter()
                            .find(|(c, _)| *c == r.label)
                            .map(|(_, l)| l.to_string())
                            .unwrap_or(r.label.clone())
                    } else {
                        r.label.clone()
                    };
                    let nps = r.nps.map(|v| format!("{v:.0}")).unwrap_or_else(|| "–".into());
                    (label, r.responses, nps, one(r.csat), one(r.ces))
                })
                .collect(),
        })
        .collect();
    let answers = r
        .responses
        .iter()
        .map(|a| AnswerRow {
            id: a.id,
            when: s.app.local_time(joren_app::from_ms(a.answered_at_ms)),
            customer_id: a.customer_id,
            customer: a.customer_name.clone(),
            scores: scores_text(a.nps, a.csat, a.ces),
            text: a.free_text.clone(),
            channel: t.t(&format!("kind.{}", a.channel)).to_string(),
            partial: !a.complete,
        })
        .collect();
    let groups = [
        ("", "sv.group.all"),
        ("detractor", "sv.group.detractor"),
        ("passive", "sv.group.passive"),
        ("promoter", "sv.group.promoter"),
        ("unhappy", "sv.group.unhappy"),
    ]
    .iter()
    .map(|(g, key)| (*g, t.t(key)))
    .collect();
    ResultsPage {
        c: Chrome::new(t, user, "voice", format!("/surveys/{}", r.survey.survey.id)),
        id: r.survey.survey.id,
        name: r.survey.survey.name.clone(),
        archived: r.survey.survey.archived,
        months: q.months.unwrap_or(12),
        kpis,
        sent: rep.sent,
        rate: pct(rep.response_rate),
        chart,
        month_rows,
        breakdowns,
        answers,
        q: q.q.clone(),
        group: q.group.clone(),
        groups,
        flash: q.flash.clone(),
        sent_now: None,
        send_error: String::new(),
        send_customer: String::new(),
        send_channel: "email".into(),
        send_key: format!("ui-{}", joren_app::auth::random_token()),
        can_write: user.actor.role.can_write(),
    }
}

fn filter_of(q: &ResultsQuery) -> ResponseFilter {
    ResponseFilter { text: q.q.clone(), group: q.group.clone(), limit: 200, ..Default::default() }
}

/// `GET /surveys/{id}`: the results.
pub(super) async fn results(
    State(s): State<AppState>,
    Staff { user, t }: Staff,
    Path(id): Path<i64>,
    Query(q): Query<ResultsQuery>,
) -> UiResult {
    let months = q.months.unwrap_or(12);
    let r = s.app.survey_results(id, months, &filter_of(&q)).await.map_err(|e| UiError::from_app(t, e))?;
    Ok(render(&results_page(&s, t, &user, r, &q)))
}

#[derive(serde::Deserialize)]
pub(super) struct SendForm {
    #[serde(default)]
    customer: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    key: Option<String>,
}

/// `POST /surveys/{id}/send`: sends the survey to one customer (or makes its link); the page
/// comes back with what was done, or the problem beside the form.
pub(super) async fn send(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form }: Checked<SendForm>,
) -> UiResult {
    let customer = joren_core::text::parse_int(&form.customer);
    let sent = match customer {
        Some(customer_id) => {
            let input = SendSurveyInput {
                customer_id,
                channel: form.channel.clone(),
                subject: String::new(),
                text: String::new(),
            };
            s.app.send_survey(&user.actor, id, &input, form.key.as_deref()).await
        }
        None => Err(joren_core::FieldError::new("customer", joren_core::Code::NoSuchCustomer).into()),
    };
    let q = ResultsQuery::default();
    let (sent_now, send_error) = match sent {
        Ok(x) => (Some(x), String::new()),
        Err(AppError::NotFound(_)) => (
            None,
            crate::i18n::errors::field_error(
                &joren_core::FieldError::new("customer", joren_core::Code::NoSuchCustomer),
                t.0,
            ),
        ),
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_))) => (None, crate::i18n::errors::app_error(&e, t.0)),
        Err(e) => return Err(UiError::from_app(t, e)),
    };
    let r = s.app.survey_results(id, 12, &filter_of(&q)).await.map_err(|e| UiError::from_app(t, e))?;
    let mut p = results_page(&s, t, &user, r, &q);
    let status =
        if send_error.is_empty() { axum::http::StatusCode::OK } else { axum::http::StatusCode::UNPROCESSABLE_ENTITY };
    p.sent_now = sent_now;
    p.send_error = send_error;
    p.send_customer = form.customer;
    p.send_channel = form.channel;
    Ok((status, render(&p)).into_response())
}
